"""The primary subscription book (contracts/settlement/SubscriptionBook.sol) from Python: reading the book,
computing an allotment exactly as the contract verifies it, and sending allotment, settlement and refunds in
bounded batches.

Every sending step asks the book first and skips what is already done (investors already allotted, settled or
refunded), so a run interrupted anywhere can be started again and finishes the job exactly once. Amounts are
integers (book units and payment-token base units); nothing here uses floats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from munibond.chain.events import logs_since

ALLOTTED_FLAG = 1
SETTLED_FLAG = 2
REFUNDED_FLAG = 4
DEFAULT_BATCH = 50


class Method(IntEnum):
    """ISubscriptionBook.Method."""

    NONE = 0
    PRO_RATA = 1
    FIRST_COME = 2
    EXPLICIT = 3


class Phase(IntEnum):
    """ISubscriptionBook.Phase."""

    OPEN = 0
    ALLOTTING = 1
    ALLOTTED = 2
    SETTLING = 3
    SETTLED = 4
    CANCELLED = 5


class AllotmentError(ValueError):
    """An allotment the book would refuse (the message names the investor and the values)."""


@dataclass(frozen=True)
class Commitment:
    """One investor's entry as the book holds it."""

    investor: str
    units: int
    allotted: int
    seq: int
    flags: int

    @property
    def is_allotted(self) -> bool:
        return self.flags & ALLOTTED_FLAG != 0

    @property
    def is_settled(self) -> bool:
        return self.flags & SETTLED_FLAG != 0

    @property
    def is_refunded(self) -> bool:
        return self.flags & REFUNDED_FLAG != 0


@dataclass
class BatchRun:
    """What a batched step sent: the investors it covered, the transactions and their gas."""

    investors: list[str] = field(default_factory=list)
    transactions: list[str] = field(default_factory=list)
    gas_used: int = 0


def _quiet(_msg: str) -> None:
    return None


def pro_rata(commitments: Sequence[Commitment], offered: int) -> dict[str, int]:
    """The book's PRO_RATA rule: with C units committed and S = min(offered, C), each investor gets
    floor(c * S / C); the R = S - sum(floors) leftover units go one each, in arrival order, to the investors whose
    exact share has a non-zero fractional part. `commitments` in any order; investors without units get 0."""
    entries = sorted((c for c in commitments if c.units > 0), key=lambda c: c.seq)
    total = sum(c.units for c in entries)
    if total == 0:
        return {}
    allottable = min(offered, total)
    units = {c.investor: c.units * allottable // total for c in entries}
    left = allottable - sum(units.values())
    for c in entries:
        if left == 0:
            break
        if (c.units * allottable) % total != 0:
            units[c.investor] += 1
            left -= 1
    return units


def first_come(commitments: Sequence[Commitment], offered: int) -> dict[str, int]:
    """The book's FIRST_COME rule: in arrival order, min(commitment, what is left of the offer)."""
    left = offered
    units: dict[str, int] = {}
    for c in sorted((c for c in commitments if c.units > 0), key=lambda c: c.seq):
        units[c.investor] = min(c.units, left)
        left -= units[c.investor]
    return units


def check_explicit(commitments: Sequence[Commitment], allotment: dict[str, int], offered: int) -> None:
    """Raises AllotmentError for an explicit allotment (e.g. read from a file) the book would refuse: an investor
    without a commitment, more than the commitment, a negative number, or more than the offer in all."""
    by_investor = {c.investor.lower(): c for c in commitments}
    for investor, units in allotment.items():
        entry = by_investor.get(investor.lower())
        if entry is None or entry.units == 0:
            raise AllotmentError(f"{investor}: no commitment in the book")
        if units < 0:
            raise AllotmentError(f"{investor}: negative allotment {units}")
        if units > entry.units:
            raise AllotmentError(f"{investor}: allotment {units} exceeds the commitment {entry.units}")
    total = sum(allotment.values())
    if total > offered:
        raise AllotmentError(f"allotments sum to {total} units, more than the {offered} offered")


def investors(book: Any, start_block: int = 0) -> list[str]:
    """Every wallet that ever held an entry in `book`, in first-seen order: those that committed (Committed events),
    then the new wallets entries were recovered to (CommitmentRecovered), which never committed themselves."""
    seen: dict[str, None] = {}
    for log in logs_since(book.Committed, start_block):
        seen.setdefault(str(log.investor), None)
    for move in recoveries(book, start_block):
        seen.setdefault(move.new, None)
    return list(seen)


@dataclass(frozen=True)
class Move:
    """An entry the transfer agent moved (CommitmentRecovered) from `lost` to `new`, at `position` (block, log)."""

    lost: str
    new: str
    position: tuple[int, int]


def recoveries(book: Any, start_block: int = 0) -> list[Move]:
    """Every entry the transfer agent moved (CommitmentRecovered), in chain order."""
    return [
        Move(str(log.lost), str(log.newWallet), (int(log.block_number), int(log.log_index)))
        for log in logs_since(book.CommitmentRecovered, start_block)
    ]


def current_wallet(moves: Sequence[Move], wallet: str, since: tuple[int, int] = (-1, -1)) -> str:
    """Where the entry `wallet` held at `since` (block, log index; default: from the start) is now, after the
    later `moves` (in chain order)."""
    for move in moves:
        if move.position > since and move.lost.lower() == wallet.lower():
            wallet = move.new
    return wallet


def commitments(book: Any, wallets: Sequence[str]) -> list[Commitment]:
    """The book's entries of `wallets` that still hold a commitment, in arrival order."""
    out = []
    for wallet in wallets:
        c = book.commitmentOf(wallet)
        if int(c.units) > 0:
            out.append(Commitment(wallet, int(c.units), int(c.allotted), int(c.seq), int(c.flags)))
    return sorted(out, key=lambda c: c.seq)


def plan(
    book: Any, method: Method, entries: Sequence[Commitment], explicit: dict[str, int] | None = None
) -> list[tuple[str, int]]:
    """The allotment the book will accept for `method`, as (investor, units) in the order it must be sent."""
    offered = int(book.terms().offeredUnits)
    if method == Method.PRO_RATA:
        units = pro_rata(entries, offered)
    elif method == Method.FIRST_COME:
        units = first_come(entries, offered)
    elif method == Method.EXPLICIT:
        if explicit is None:
            raise AllotmentError("an explicit allotment needs its per-investor units")
        check_explicit(entries, explicit, offered)
        return list(explicit.items())
    else:
        raise AllotmentError(f"unknown allotment method {method!r}")
    return [(c.investor, units[c.investor]) for c in sorted(entries, key=lambda c: c.seq)]


def allot(
    book: Any,
    method: Method,
    allotment: Sequence[tuple[str, int]],
    *,
    sender: Any,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = _quiet,
) -> BatchRun:
    """Sends `allotment` (from `plan`) in batches, skipping investors the book already allotted, then finalizes.
    Re-runnable: an interrupted run continues where the book stands."""
    run = BatchRun()
    pending = [(inv, units) for inv, units in allotment if not _flags(book, inv) & ALLOTTED_FLAG]
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        receipt = book.allot(int(method), [inv for inv, _ in chunk], [u for _, u in chunk], sender=sender)
        _record(run, receipt, [inv for inv, _ in chunk])
        progress(f"allotted {start + len(chunk)}/{len(pending)}")
    if Phase(int(book.state().phase)) in (Phase.OPEN, Phase.ALLOTTING):
        _record(run, book.finalizeAllotment(sender=sender), [])
        progress("allotment final")
    return run


def settle(
    book: Any,
    wallets: Sequence[str],
    *,
    sender: Any,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = _quiet,
) -> BatchRun:
    """Settles every listed investor not yet settled, in batches (the book skips settled ones too)."""
    run = BatchRun()
    pending = [c.investor for c in commitments(book, wallets) if not c.is_settled]
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        _record(run, book.settle(chunk, sender=sender), chunk)
        progress(f"settled {start + len(chunk)}/{len(pending)}")
    return run


def refund(
    book: Any,
    wallets: Sequence[str],
    *,
    sender: Any,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] = _quiet,
) -> BatchRun:
    """After a cancellation (or a lapse), pushes every listed investor's cash not yet refunded, in batches (an
    investor settled before a lapse at the settlement deadline was paid then and is skipped, as the book does)."""
    run = BatchRun()
    pending = [c.investor for c in commitments(book, wallets) if not (c.is_refunded or c.is_settled)]
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        _record(run, book.refund(chunk, sender=sender), chunk)
        progress(f"refunded {start + len(chunk)}/{len(pending)}")
    return run


def _flags(book: Any, investor: str) -> int:
    return int(book.commitmentOf(investor).flags)


def _record(run: BatchRun, receipt: Any, chunk: Sequence[str]) -> None:
    run.investors.extend(chunk)
    run.transactions.append(str(receipt.txn_hash))
    run.gas_used += int(receipt.gas_used)
