"""Refusals as one line: what the chain, the node, the network choice or an account said, in words.

`describe(exc)` turns an exception that ends a command into `error: ...` text, or returns None for an
unexpected failure (a bug, which keeps its traceback). Custom errors of the contracts are decoded by their
selector from the ABIs shipped in `munibond/abi/*.json`, so a revert is named even when it came from a contract
Ape did not know the ABI of (a nested call, the payment token); restriction codes and role masks come out as
words. Imports no Ape at module level (the `munibond` group imports it for every command).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_utils import keccak, to_checksum_address

from munibond.errors import InputError

# BondTokenStorage restriction codes (the token's messageForTransferRestriction, in words).
RESTRICTION_CODES: dict[int, str] = {
    1: "transfers are paused",
    2: "the sender's units are frozen",
    3: "the receiver is frozen",
    4: "the sender's unfrozen balance is too small",
    5: "the sender is not a verified investor",
    6: "the receiver is not a verified (registered, KYC-valid) investor",
    7: "the receiver's country is not allowed",
    8: "the receiver's region is not allowed",
    9: "the maximum number of holders is reached",
    10: "the receiver would hold more than the per-investor cap",
    11: "the holding would fall below the minimum holding",
    12: "the amount is not a multiple of the holding unit",
    13: "the units are in their lock-up",
    14: "transfers are in the blackout window before a record date",
    15: "the zero address cannot be a party",
    16: "the amount is too large (above the issue size)",
    17: "the series is redeemed",
}

# BondTokenStorage / PaymentAgentStorage role bits (MissingRole's roleMask).
ROLE_BITS: dict[int, str] = {
    1: "admin",
    2: "transfer agent",
    4: "freezer",
    8: "minter",
    16: "document manager",
    32: "compliance manager",
    64: "payer",
}

# AccessControl roles (InvestorRegistry, BondFactory) by their bytes32 id.
ACCESS_ROLES: dict[bytes, str] = {bytes(32): "admin"} | {
    keccak(text=name): name.removesuffix("_ROLE").lower().replace("_", " ")
    for name in (
        "REGISTRAR_ROLE",
        "BINDER_ROLE",
        "DEPLOYER_ROLE",
        "PAYER_ROLE",
        "TRANSFER_AGENT_ROLE",
        "FREEZER_ROLE",
        "MINTER_ROLE",
        "DOCUMENT_ROLE",
        "COMPLIANCE_ROLE",
    )
}

MEANINGS: dict[str, str] = {
    "MissingRole": "the sending account lacks the role needed for this",
    "AccessControlUnauthorizedAccount": "the sending account lacks the role needed for this",
    "TransferRestricted": "the bond's compliance rules refuse this transfer",
    "WalletAlreadyRegistered": "the wallet is already registered (under the identity shown)",
    "WalletNotRegistered": "the wallet is not in the investor registry",
    "TooManyWallets": "the investor already has the most wallets the registry allows",
    "PeriodRecordTimeNotPassed": "the period's record date has not passed on the chain's clock",
    "PaymentTimeNotReached": "the period's payment date has not been reached on the chain's clock",
    "PeriodUnderfunded": "the period is not fully funded yet",
    "FundingExceedsShortfall": "more funding than the period lacks",
    "FundingNotReceived": "the payment token did not deliver the funding amount",
    "InsufficientFunds": "the payment agent does not hold enough for this",
    "PeriodIsClosed": "the period is closed",
    "PeriodIsCancelled": "the period was cancelled by a call",
    "UnknownPeriod": "no such period",
    "AlreadySettled": "the holder was already paid for this period",
    "NothingToPay": "nothing is due to this holder for this period",
    "TermsLocked": "the period's terms are locked (record date passed or funded)",
    "CallNoticeTooShort": "the payment date is inside the call notice period",
    "ERC20InsufficientBalance": "the balance is too small",
    "ERC20InsufficientAllowance": "the allowance is too small",
    "ZeroAddress": "the zero address is not allowed here",
    "ZeroAmount": "the amount must not be zero",
    "InvalidRecordTimes": "record times must be increasing and in the future",
    "TooManyPeriods": "the schedule has more periods than the payment agent allows",
    "BatchTooLarge": "the batch is larger than the contract allows",
    "RecipientNotEligible": "the recipient is not eligible (not registered, frozen or KYC expired)",
    "SafeERC20FailedOperation": "the payment token refused the transfer",
    # SubscriptionBook
    "WindowNotOpen": "the subscription window is not open",
    "WindowNotClosed": "the subscription window has not closed yet",
    "AllotmentDeadlinePassed": "the allotment deadline (the settlement time) has passed: the book has lapsed",
    "SettlementNotDue": "the settlement time has not been reached",
    "SettlementDeadlinePassed": "the settlement deadline has passed: the investors not settled are refunded",
    "NotTreasury": "only the treasury may send the held proceeds elsewhere than to the treasury",
    "NotEligible": "the token would not mint the whole commitment to this investor",
    "ExceedsCommitment": "more than the investor's commitment",
    "NoCommitment": "the investor has no commitment in the book",
    "AlreadyAllotted": "the investor is already allotted",
    "AllotmentRuleBroken": "the allotment does not follow the book's method",
    "AllotmentIncomplete": "the allotment is not complete",
    "OverAllotted": "more units allotted than offered",
    "OutOfOrder": "allotment entries must come in arrival order",
    "MethodMismatch": "the allotment method differs from the one the book fixed",
    "WrongPhase": "the book is not in the state this needs",
    "NothingToClaim": "nothing to claim",
    "ZeroUnits": "the number of units must not be zero",
    "PaymentShortfall": "the payment token delivered less than the price",
}

_HEX_DATA = re.compile(r"0x[0-9a-fA-F]{8}(?:[0-9a-fA-F]{64})*\b")
# Ape's text for a custom error it could not decode in a simulated call (`method.call`): selector, then arguments
_CUSTOM_ERROR = re.compile(r"custom error 0x([0-9a-fA-F]{8}):\s*((?:[0-9a-fA-F]{64})*)\b")


@dataclass(frozen=True)
class ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]

    @property
    def selector(self) -> bytes:
        return keccak(text=f"{self.name}({','.join(self.types)})")[:4]


def _canonical_type(item: dict[str, Any]) -> str:
    kind = str(item["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


@cache
def shipped_errors() -> dict[bytes, ErrorAbi]:
    """selector -> error, from every ABI in munibond/abi."""
    errors: dict[bytes, ErrorAbi] = {}
    for file in resources.files("munibond.abi").iterdir():
        if not file.name.endswith(".json"):
            continue
        data = json.loads(file.read_text())
        abi = data.get("abi", []) if isinstance(data, dict) else data
        for item in abi:
            if item.get("type") != "error":
                continue
            error = ErrorAbi(
                item["name"],
                tuple(i.get("name", "") for i in item["inputs"]),
                tuple(_canonical_type(i) for i in item["inputs"]),
            )
            errors.setdefault(error.selector, error)
    return errors


def decode_revert(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(error name, arguments by name) of revert data carrying one of the shipped custom errors."""
    from eth_abi import decode

    error = shipped_errors().get(bytes(data[:4]))
    if error is None:
        return None
    try:
        values = decode(list(error.types), bytes(data[4:]))
    except Exception:  # data that does not decode is not this error
        return None
    return error.name, dict(zip(error.names, values, strict=True))


def _word(name: str, field: str, value: Any) -> str:
    if isinstance(value, bytes):
        if name in ("AccessControlUnauthorizedAccount", "UnknownRole") and value in ACCESS_ROLES:
            return ACCESS_ROLES[value]
        return "0x" + value.hex()
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        return to_checksum_address(value)
    if name in ("TransferRestricted", "NotEligible") and field == "code":
        return RESTRICTION_CODES.get(int(value), f"restriction code {value}")
    if field in ("roleMask", "mask") and isinstance(value, int):
        return role_mask_words(value)
    return str(value)


def role_mask_words(mask: int) -> str:
    """`8` -> `minter`; several bits -> `admin or payer`."""
    names = [word for bit, word in ROLE_BITS.items() if mask & bit]
    return " or ".join(names) or f"role mask {mask}"


def format_error(name: str, args: dict[str, Any]) -> str:
    """`Name(field=value, ...) — meaning`, values in words where the contract uses codes."""
    text = ", ".join(f"{field}={_word(name, field, value)}" for field, value in args.items())
    line = f"{name}({text})"
    meaning = MEANINGS.get(name)
    if name == "TransferRestricted" and "code" in args:
        meaning = f"transfer refused: {RESTRICTION_CODES.get(int(args['code']), 'restricted')}"
    elif name == "MissingRole" and "roleMask" in args:
        meaning = f"the sending account is not {role_mask_words(int(args['roleMask']))} of this series"
    elif name == "AccessControlUnauthorizedAccount" and "neededRole" in args:
        meaning = f"the sending account lacks the {_word(name, 'neededRole', args['neededRole'])} role"
    return f"{line} — {meaning}" if meaning else f"{line} — refused by the contract"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _revert_data(exc: BaseException) -> bytes | None:
    if match := _CUSTOM_ERROR.search(str(exc)):
        return bytes.fromhex(match.group(1) + match.group(2))
    for attribute in ("revert_message", "data", "message"):
        value = getattr(exc, attribute, None)
        if isinstance(value, bytes) and len(value) >= 4:
            return value
        if isinstance(value, str) and (match := _HEX_DATA.search(value)):
            return bytes.fromhex(match.group(0)[2:])
    for arg in exc.args:
        if isinstance(arg, str) and (match := _HEX_DATA.search(arg)):
            return bytes.fromhex(match.group(0)[2:])
        if isinstance(arg, dict) and isinstance(arg.get("data"), str) and (match := _HEX_DATA.search(arg["data"])):
            return bytes.fromhex(match.group(0)[2:])
    return None


def _contract_refusal(exc: BaseException) -> str | None:
    from ape.exceptions import ContractLogicError, CustomError

    for link in _chain(exc):
        if isinstance(link, CustomError):
            return format_error(link.name, dict(link.inputs))
        data = _revert_data(link)
        if data is not None and (decoded := decode_revert(data)) is not None:
            return format_error(*decoded)
    for link in _chain(exc):
        if isinstance(link, ContractLogicError):
            message = str(getattr(link, "revert_message", "") or link).strip() or "no reason given"
            return f"the transaction was reverted by the contract: {message.splitlines()[0]}"
    return None


def _node_refusal(exc: BaseException) -> str | None:
    from ape.exceptions import (
        EcosystemNotFoundError,
        NetworkError,
        NetworkNotFoundError,
        ProviderError,
        ProviderNotConnectedError,
        ProviderNotFoundError,
    )
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from requests.exceptions import InvalidURL, MissingSchema

    from munibond.chain.transport import NodeUnavailable, SendUnconfirmed

    for link in _chain(exc):
        if isinstance(link, SendUnconfirmed):
            return (
                f"{link}: the transaction may or may not have reached the node; "
                "run the command again once the node is back: it resumes from the chain and sends nothing twice"
            )
        if isinstance(link, NodeUnavailable):
            return f"{link}; run the command again once the node is back: it resumes from the chain"
        if isinstance(link, EcosystemNotFoundError | NetworkNotFoundError | ProviderNotFoundError):
            first = str(link).split(". Options")[0].splitlines()[0]
            return f"unknown network ({first}); give an Ape network choice or an http(s)/ws(s) RPC URL"
        if isinstance(link, ProviderNotConnectedError | RequestsConnectionError):
            return "cannot reach the node: it is not running or the RPC URL is wrong"
        if isinstance(link, InvalidURL | MissingSchema):
            return f"malformed RPC URL: {link}"
        if isinstance(link, ProviderError) and ("node found" in str(link) or "connect" in str(link).lower()):
            return f"cannot reach the node: {str(link).splitlines()[0]}"
        if isinstance(link, NetworkError):
            return f"network: {str(link).splitlines()[0]}"
        if "already imported" in str(link) or "already known" in str(link) or "nonce too low" in str(link):
            return (
                "a transaction of this account is still pending on the node (sent by another run?): "
                "wait for it to be mined, then run the command again"
            )
    return None


def _account_refusal(exc: BaseException) -> str | None:
    from ape.exceptions import AccountsError

    for link in _chain(exc):
        if isinstance(link, AccountsError):
            return f"account: {str(link).splitlines()[0]}"
    return None


def describe(exc: BaseException) -> str | None:
    """One line for a refusal (without the `error: ` prefix), or None when `exc` is not one."""
    for explain in (_contract_refusal, _node_refusal, _account_refusal):
        try:
            text = explain(exc)
        except Exception:  # describing must never hide the original failure: it keeps its traceback
            return None
        if text is not None:
            return text
    return None


def report(exc: BaseException) -> list[str] | None:
    """The `error: ...` lines for `exc` (InputError: one per issue; a refusal: one), or None for a bug."""
    if isinstance(exc, InputError):
        return [f"error: {issue}" for issue in exc.issues]
    text = describe(exc)
    return None if text is None else [f"error: {text}"]
