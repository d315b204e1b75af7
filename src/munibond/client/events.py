"""Following a series' events: paged by block range, resumable from a persisted cursor, in chain order.

Events are decoded by field name against the shipped ABI, so fields a newer contract adds (e.g. the tax class of
a payment) appear in `args` and in the typed record when present, and older logs still decode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_utils import keccak, to_checksum_address

from munibond.client.abi import canonical_type, series_abi, signature
from munibond.client.errors import decode_params

# ------------------------------------------------------------------------------------------------ records


@dataclass(frozen=True)
class ChainEvent:
    """Any event of the series: its name, arguments by field name, and where it sits in the chain."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    transaction_hash: str
    timestamp: int

    @property
    def position(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


@dataclass(frozen=True)
class TransferEvent(ChainEvent):
    sender: str  # zero address for a mint
    receiver: str  # zero address for a burn
    units: int


@dataclass(frozen=True)
class UnitsRetiredEvent(ChainEvent):
    holder: str
    record_time: int
    units: int


@dataclass(frozen=True)
class PaymentMadeEvent(ChainEvent):
    period: int
    holder: str
    paid_to: str
    coupon_gross: int
    principal_gross: int
    taxes: tuple[int, ...]
    net: int
    units_redeemed: int
    tax_class: int | None  # None on contracts whose event does not carry it


@dataclass(frozen=True)
class PaymentEscrowedEvent(ChainEvent):
    period: int
    holder: str
    coupon_gross: int
    principal_gross: int
    units_redeemed: int


@dataclass(frozen=True)
class EscrowReleasedEvent(ChainEvent):
    period: int
    holder: str
    paid_to: str
    gross: int


@dataclass(frozen=True)
class OffchainPaymentEvent(ChainEvent):
    period: int
    holder: str
    coupon_gross: int
    principal_gross: int
    units_redeemed: int
    payment_reference: bytes
    tax_class: int | None
    taxes: tuple[int, ...] | None
    net: int | None


@dataclass(frozen=True)
class TaxClassUpdatedEvent(ChainEvent):
    tax_class: int
    components: tuple[tuple[int, str], ...]  # (rate ppm, account) in component order, after the change


@dataclass(frozen=True)
class PeriodScheduledEvent(ChainEvent):
    period: int
    record_time: int
    payment_time: int


_TYPED: dict[str, tuple[type[ChainEvent], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "Transfer": (TransferEvent, lambda a: {"sender": a["from"], "receiver": a["to"], "units": a["value"]}),
    "UnitsRetired": (
        UnitsRetiredEvent,
        lambda a: {"holder": a["holder"], "record_time": a["recordTime"], "units": a["units"]},
    ),
    "PaymentMade": (
        PaymentMadeEvent,
        lambda a: {
            "period": a["period"],
            "holder": a["holder"],
            "paid_to": a["to"],
            "coupon_gross": a["couponGross"],
            "principal_gross": a["principalGross"],
            "taxes": tuple(a["taxes"]),
            "net": a["net"],
            "units_redeemed": a["unitsRedeemed"],
            "tax_class": a.get("taxClass"),
        },
    ),
    "PaymentEscrowed": (
        PaymentEscrowedEvent,
        lambda a: {
            "period": a["period"],
            "holder": a["holder"],
            "coupon_gross": a["couponGross"],
            "principal_gross": a["principalGross"],
            "units_redeemed": a["unitsRedeemed"],
        },
    ),
    "EscrowReleased": (
        EscrowReleasedEvent,
        lambda a: {"period": a["period"], "holder": a["holder"], "paid_to": a["to"], "gross": a["gross"]},
    ),
    "OffchainPaymentRecorded": (
        OffchainPaymentEvent,
        lambda a: {
            "period": a["period"],
            "holder": a["holder"],
            "coupon_gross": a["couponGross"],
            "principal_gross": a["principalGross"],
            "units_redeemed": a["unitsRedeemed"],
            "payment_reference": a["paymentReference"],
            "tax_class": a.get("taxClass"),
            "taxes": tuple(a["taxes"]) if "taxes" in a else None,
            "net": a.get("net"),
        },
    ),
    "TaxClassUpdated": (
        TaxClassUpdatedEvent,
        lambda a: {
            "tax_class": a["taxClass"],
            "components": tuple((c["ratePpm"], c["account"]) for c in a["newComponents"]),
        },
    ),
    "PeriodScheduled": (
        PeriodScheduledEvent,
        lambda a: {
            "period": a["period"],
            "record_time": a["terms"]["recordTime"],
            "payment_time": a["terms"]["paymentTime"],
        },
    ),
}

# ------------------------------------------------------------------------------------------------ decoding


def _by_topic(abi: list[dict[str, Any]]) -> dict[bytes, dict[str, Any]]:
    return {keccak(text=signature(item)): item for item in abi if item["type"] == "event"}


@cache
def _series_events() -> dict[bytes, dict[str, Any]]:
    return _by_topic(series_abi())


class EventDecoder:
    """Decodes raw logs of one ABI (the series ABI unless given) into event records."""

    def __init__(self, abi: list[dict[str, Any]] | None = None) -> None:
        self._by_topic = _series_events() if abi is None else _by_topic(abi)

    def args(self, log: Any) -> tuple[str, dict[str, Any]] | None:
        topics = [bytes(t) for t in log["topics"]]
        item = self._by_topic.get(topics[0]) if topics else None
        if item is None:
            return None
        inputs = [dict(p, name=p["name"] or f"arg{i}") for i, p in enumerate(item["inputs"])]
        indexed = [p for p in inputs if p.get("indexed")]
        values = decode_params([p for p in inputs if not p.get("indexed")], bytes(log["data"]))
        for param, topic in zip(indexed, topics[1:], strict=True):
            kind = canonical_type(param)
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                values[param["name"]] = topic  # only the hash of a dynamic value is in the topic
            else:
                values |= decode_params([param], topic)
        return item["name"], {p["name"]: values[p["name"]] for p in inputs}

    def record(self, log: Any, timestamp: int) -> ChainEvent:
        base = {
            "block_number": int(log["blockNumber"]),
            "log_index": int(log["logIndex"]),
            "transaction_hash": "0x" + bytes(log["transactionHash"]).hex(),
            "timestamp": timestamp,
        }
        decoded = self.args(log)
        if decoded is None:
            topic = "0x" + bytes(log["topics"][0]).hex() if log["topics"] else ""
            return ChainEvent("Unknown", {"topic0": topic, "data": bytes(log["data"])}, **base)
        name, args = decoded
        typed = _TYPED.get(name)
        if typed is None:
            return ChainEvent(name, args, **base)
        cls, fields = typed
        return cls(name, args, **base, **fields(args))


# ------------------------------------------------------------------------------------------------ following


@dataclass(frozen=True)
class Cursor:
    """Where a follower resumes: at `block`, after the event with log index `log_index` (-1: the whole block)."""

    block: int
    log_index: int = -1

    def to_json(self) -> dict[str, int]:
        return {"block": self.block, "log_index": self.log_index}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cursor:
        return cls(int(data["block"]), int(data.get("log_index", -1)))


class EventFollower:
    """Yields the events of one address from its cursor up to a block, `page_blocks` blocks per eth_getLogs.

    `cursor` advances with every event yielded (and past every page read), so persisting it after handling an
    event and resuming from it later yields each event exactly once. Removed (re-orged) logs are skipped; follow
    a few blocks behind the head (`to_block`) on chains that re-org."""

    def __init__(
        self,
        w3: Any,
        address: str,
        *,
        cursor: Cursor | int = 0,
        page_blocks: int = 2_000,
        decoder: EventDecoder | None = None,
    ) -> None:
        if page_blocks < 1:
            raise ValueError(f"page_blocks must be at least 1, got {page_blocks}")
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.cursor = cursor if isinstance(cursor, Cursor) else Cursor(cursor)
        self.page_blocks = page_blocks
        self.decoder = decoder or EventDecoder()
        self._timestamps: dict[int, int] = {}

    def events(self, to_block: int | None = None) -> Iterator[ChainEvent]:
        head = int(self.w3.eth.block_number) if to_block is None else to_block
        while self.cursor.block <= head:
            start = self.cursor.block
            end = min(head, start + self.page_blocks - 1)
            logs = self.w3.eth.get_logs({"address": self.address, "fromBlock": start, "toBlock": end})
            for log in sorted(logs, key=lambda entry: (int(entry["blockNumber"]), int(entry["logIndex"]))):
                position = (int(log["blockNumber"]), int(log["logIndex"]))
                if log.get("removed") or position <= (self.cursor.block, self.cursor.log_index):
                    continue
                record = self.decoder.record(log, self._timestamp(log))
                self.cursor = Cursor(*position)
                yield record
            self.cursor = Cursor(end + 1)
            self._timestamps.clear()

    def _timestamp(self, log: Any) -> int:
        if log.get("blockTimestamp") is not None:
            value = log["blockTimestamp"]
            return int(value, 16) if isinstance(value, str) else int(value)
        block = int(log["blockNumber"])
        if block not in self._timestamps:
            self._timestamps[block] = int(self.w3.eth.get_block(block)["timestamp"])
        return self._timestamps[block]


def read_events(w3: Any, address: str, *, from_block: int = 0, to_block: int | None = None) -> list[ChainEvent]:
    """Every event of `address` from `from_block` to `to_block` (head if None), in chain order."""
    return list(EventFollower(w3, address, cursor=from_block).events(to_block))
