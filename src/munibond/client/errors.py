"""Custom errors of a series, the investor registry and the factory, decoded into readable exceptions."""

from __future__ import annotations

from functools import cache
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from munibond.client.abi import canonical_type, factory_abi, registry_abi, series_abi, signature

# Role bits of a series (MissingRole's roleMask; BondTokenStorage R_*).
ROLE_BITS: dict[int, str] = {
    1: "admin",
    2: "transfer agent",
    4: "freezer",
    8: "minter",
    16: "document manager",
    32: "compliance manager",
    64: "payer",
}

# AccessControl role ids (AccessControlUnauthorizedAccount on the registry and the factory).
ROLE_IDS: dict[bytes, str] = {bytes(32): "admin"} | {
    keccak(text=name): name.removesuffix("_ROLE").lower().replace("_", " ")
    for name in (
        "REGISTRAR_ROLE",
        "BINDER_ROLE",
        "TRANSFER_AGENT_ROLE",
        "FREEZER_ROLE",
        "MINTER_ROLE",
        "DOCUMENT_ROLE",
        "COMPLIANCE_ROLE",
        "PAYER_ROLE",
    )
}

# ERC-1404 style restriction codes (IBondCompliance); the token's messageForTransferRestriction is authoritative.
RESTRICTION_CODES: dict[int, str] = {
    0: "success",
    1: "paused",
    2: "sender frozen",
    3: "receiver frozen",
    4: "insufficient unfrozen balance",
    5: "sender not verified",
    6: "receiver not verified",
    7: "country not allowed",
    8: "region not allowed",
    9: "max holders reached",
    10: "over per-investor cap",
    11: "below minimum holding",
    12: "not a multiple of the holding unit",
    13: "lock-up",
    14: "blackout window",
    15: "invalid address",
    16: "amount too large",
    17: "series redeemed",
}

PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow",
    0x12: "division by zero",
    0x32: "index out of range",
}


def role_names(mask: int) -> list[str]:
    """The roles of a role bit mask, in words (unknown bits as `bit N`)."""
    names = [name for bit, name in ROLE_BITS.items() if mask & bit]
    unknown = mask & ~sum(ROLE_BITS)
    names += [f"bit {i}" for i in range(unknown.bit_length()) if unknown >> i & 1]
    return names


class SeriesError(Exception):
    """A call refused by a contract: the custom error's name, its arguments by name, and a readable message."""

    def __init__(self, name: str, args: dict[str, Any], selector: bytes = b"", detail: str = "") -> None:
        self.name = name
        self.args_by_name = args
        self.selector = selector
        self.detail = detail
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(f"{name}({shown})" + (f": {detail}" if detail else ""))


class TransferRefused(SeriesError):
    """A transfer the token's restriction rules refuse (pre-check or `TransferRestricted` revert)."""

    @property
    def code(self) -> int:
        return int(self.args_by_name["code"])


class UnknownRevert(SeriesError):
    """A revert whose data matches no known error (raw data kept in `data`)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        super().__init__("UnknownRevert", {"data": "0x" + data.hex()})


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _detail(name: str, args: dict[str, Any]) -> str:
    if name == "MissingRole":
        return f"{args['account']} lacks the role " + " or ".join(role_names(int(args["roleMask"])))
    if name == "AccessControlUnauthorizedAccount":
        role = ROLE_IDS.get(args["neededRole"], "0x" + args["neededRole"].hex())
        return f"{args['account']} lacks the {role} role"
    if name == "TransferRestricted":
        return RESTRICTION_CODES.get(int(args["code"]), f"restriction code {args['code']}")
    if name == "Panic":
        return PANIC_CODES.get(int(args["code"]), "panic")
    if name == "Error":
        return str(args["message"])
    return ""


def _normalise(value: Any, param: dict[str, Any]) -> Any:
    kind = param["type"]
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("tuple") and kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_normalise(v, inner) for v in value]
    if kind.startswith("tuple"):
        return {c["name"]: _normalise(v, c) for v, c in zip(value, param["components"], strict=True)}
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_normalise(v, inner) for v in value]
    return value


def decode_params(params: list[dict[str, Any]], data: bytes) -> dict[str, Any]:
    """ABI-decoded `data` as a dict by parameter name (addresses checksummed, tuples as dicts)."""
    values = decode([canonical_type(p) for p in params], data)
    return {p["name"] or f"arg{i}": _normalise(v, p) for i, (v, p) in enumerate(zip(values, params, strict=True))}


_STANDARD = [
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


@cache
def _errors() -> dict[bytes, dict[str, Any]]:
    table: dict[bytes, dict[str, Any]] = {}
    for abi in (_STANDARD, series_abi(), registry_abi(), factory_abi()):
        for item in abi:
            if item["type"] == "error":
                table.setdefault(keccak(text=signature(item))[:4], item)
    return table


def error_selectors() -> dict[bytes, str]:
    """Every known error selector and its signature."""
    return {selector: signature(item) for selector, item in _errors().items()}


def decode_revert(data: bytes | str) -> SeriesError:
    """The exception for revert `data` (bytes or 0x-hex)."""
    raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else bytes(data)
    item = _errors().get(raw[:4])
    if item is None:
        return UnknownRevert(raw)
    types = [canonical_type(p) for p in item["inputs"]]
    try:
        canonical = encode(types, decode(types, raw[4:])) == raw[4:]
    except Exception:  # eth-abi raises several types on malformed data
        canonical = False
    if not canonical:  # truncated or padded data: keep it raw rather than decode a guess
        return UnknownRevert(raw)
    args = decode_params(item["inputs"], raw[4:])
    cls = TransferRefused if item["name"] == "TransferRestricted" else SeriesError
    return cls(item["name"], args, raw[:4], _detail(item["name"], args))


def revert_data(exc: BaseException) -> bytes | None:
    """The revert data a web3 exception carries (ContractCustomError, ContractLogicError, RPC error dicts)."""
    for candidate in (getattr(exc, "data", None), *exc.args):
        if isinstance(candidate, dict):
            candidate = candidate.get("data")
        if isinstance(candidate, bytes | bytearray) and len(candidate) >= 4:
            return bytes(candidate)
        if isinstance(candidate, str) and candidate.startswith("0x") and len(candidate) >= 10:
            try:
                return bytes.fromhex(candidate[2:])
            except ValueError:
                continue
    return None
