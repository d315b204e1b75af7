"""Per-network transaction settings: gas pricing, confirmations and retries (the `networks` section of
`munibond.yaml`).

    networks:
      besu-qbft:                      # the --network value as given (an Ape network choice or an RPC URI) ...
        gas: {type: legacy, price: 0}
        confirmations: 1
      11155111:                       # ... or the chain id
        gas: {type: eip1559, priority_fee: 1000000000}
        confirmations: 3
        retries: {attempts: 6, backoff: 2}

`gas.type` is `auto` (the node's defaults as Ape reads them; the default), `legacy` (type-0 transactions at
`price` wei, default the node's `eth_gasPrice`; a free-gas permissioned chain such as Besu/QBFT takes `price: 0`) or
`eip1559` (type-2 transactions: `priority_fee` wei, default the node's `eth_maxPriorityFeePerGas`, and a fee cap of
`max_fee` wei, default twice the latest base fee plus the priority fee, read again before each transaction).
`confirmations` is how many blocks must follow a transaction's block before a command counts it done
(`--confirmations` overrides it). `retries`: how often a read that met a transient node error (connection refused
or reset, timeout, HTTP 429/502/503/504) is tried again, the first wait `backoff` seconds, doubling up to
`max_delay`.

Only the standard library: the workspace module reads this without the operator extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from munibond.errors import InputError

GAS_TYPES = ("auto", "legacy", "eip1559")
_GAS_KEYS = {"auto": ("type",), "legacy": ("type", "price"), "eip1559": ("type", "max_fee", "priority_fee")}
_SETTING_KEYS = ("gas", "confirmations", "retries")
_RETRY_KEYS = ("attempts", "backoff", "max_delay")
MAX_CONFIRMATIONS = 1000
MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class GasPolicy:
    type: str = "auto"
    price: int | None = None  # legacy: wei per gas
    max_fee: int | None = None  # eip1559: fee cap, wei per gas
    priority_fee: int | None = None  # eip1559: wei per gas

    def transaction_fields(self) -> dict[str, int]:
        """The fields a transaction takes from this policy (Ape's keyword names); empty for `auto`."""
        if self.type == "legacy":
            return {"type": 0} | ({} if self.price is None else {"gas_price": self.price})
        if self.type == "eip1559":
            fields = {"type": 2}
            if self.priority_fee is not None:
                fields["max_priority_fee"] = self.priority_fee
            if self.max_fee is not None:
                fields["max_fee"] = self.max_fee
            return fields
        return {}

    def describe(self) -> str:
        if self.type == "legacy":
            return "legacy (type 0), gas price " + ("from the node" if self.price is None else f"{self.price} wei")
        if self.type == "eip1559":
            priority = "from the node" if self.priority_fee is None else f"{self.priority_fee} wei"
            cap = "2 × base fee + priority fee" if self.max_fee is None else f"{self.max_fee} wei"
            return f"EIP-1559 (type 2), priority fee {priority}, fee cap {cap}"
        return "the node's defaults"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries after the first one
    backoff: Fraction = Fraction(1)  # seconds before the first retry, doubled after each
    max_delay: Fraction = Fraction(30)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (from 1)."""
        return float(min(self.backoff * 2 ** (retry - 1), self.max_delay))


@dataclass(frozen=True)
class NetworkSettings:
    gas: GasPolicy = field(default_factory=GasPolicy)
    confirmations: int = 0
    retries: RetryPolicy = field(default_factory=RetryPolicy)


DEFAULT = NetworkSettings()


def _wei(value: Any, file: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"must be a whole number of wei (0 or more), got {value!r}", file=file, field=where)
    return value


def _seconds(value: Any, file: str, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(f"must be a number of seconds, got {value!r}", file=file, field=where)
    try:
        seconds = Fraction(str(value))
    except ValueError:
        raise InputError(f"must be a number of seconds, got {value!r}", file=file, field=where) from None
    if seconds < 0 or seconds > 3600:
        raise InputError(f"must be between 0 and 3600 seconds, got {value!r}", file=file, field=where)
    return seconds


def _count(value: Any, file: str, where: str, highest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= highest:
        raise InputError(f"must be a whole number from 0 to {highest}, got {value!r}", file=file, field=where)
    return value


def _known(raw: Mapping[str, Any], keys: tuple[str, ...], file: str, where: str) -> None:
    for key in raw:
        if key not in keys:
            raise InputError(f"unknown setting (known: {', '.join(keys)})", file=file, field=f"{where}.{key}")


def parse_gas(raw: Any, file: str, where: str) -> GasPolicy:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping such as {type: legacy, price: 0}", file=file, field=where)
    kind = raw.get("type", "auto")
    if kind not in GAS_TYPES:
        raise InputError(f"must be one of {', '.join(GAS_TYPES)}, got {kind!r}", file=file, field=f"{where}.type")
    _known(raw, _GAS_KEYS[kind], file, where)

    def wei(key: str) -> int | None:
        return None if raw.get(key) is None else _wei(raw[key], file, f"{where}.{key}")

    policy = GasPolicy(kind, wei("price"), wei("max_fee"), wei("priority_fee"))
    if policy.max_fee is not None and policy.priority_fee is not None and policy.priority_fee > policy.max_fee:
        raise InputError(
            f"priority_fee {policy.priority_fee} is above max_fee {policy.max_fee}", file=file, field=where
        )
    return policy


def parse_settings(raw: Any, file: str, where: str) -> NetworkSettings:
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping of gas, confirmations, retries", file=file, field=where)
    _known(raw, _SETTING_KEYS, file, where)
    gas = parse_gas(raw["gas"], file, f"{where}.gas") if "gas" in raw else GasPolicy()
    confirmations = _count(raw.get("confirmations", 0), file, f"{where}.confirmations", MAX_CONFIRMATIONS)
    retries = RetryPolicy()
    if "retries" in raw:
        spec = raw["retries"]
        if not isinstance(spec, Mapping):
            raise InputError("must be a mapping of attempts, backoff, max_delay", file=file, field=f"{where}.retries")
        _known(spec, _RETRY_KEYS, file, f"{where}.retries")
        retries = RetryPolicy(
            _count(spec.get("attempts", retries.attempts), file, f"{where}.retries.attempts", MAX_ATTEMPTS),
            _seconds(spec.get("backoff", 1), file, f"{where}.retries.backoff"),
            _seconds(spec.get("max_delay", 30), file, f"{where}.retries.max_delay"),
        )
    return NetworkSettings(gas, confirmations, retries)


def parse_networks(raw: Any, file: str) -> dict[str, NetworkSettings]:
    """The `networks` section: settings by network (the `--network` value, or a chain id)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InputError("must be a mapping of network (or chain id) to settings", file=file, field="networks")
    return {str(key): parse_settings(value, file, f"networks.{key}") for key, value in raw.items()}


def settings_for(
    networks: Mapping[str, NetworkSettings], network: str, chain_id: int, *, confirmations: int | None = None
) -> NetworkSettings:
    """The settings of `network` (by its `--network` value, else its chain id), `confirmations` overriding."""
    settings = networks.get(network) or networks.get(str(chain_id)) or DEFAULT
    if confirmations is not None:
        settings = NetworkSettings(settings.gas, confirmations, settings.retries)
    return settings
