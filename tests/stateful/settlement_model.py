"""Plain-Python reference model of settlement on one series: the primary subscription book and secondary trades.

Written from the documented rules (docs/settlement-subscription.md, contracts/interfaces/ISubscriptionBook.sol,
ITradeSettlement.sol), on top of the series model (tests/stateful/model.py), which keeps the token's side:
balances, partial freezes, record-date snapshots, retirements and the payment token's balances and blocklist.
Every operation checks what the contract checks, in the contract's order, and raises `Revert(name, ...)` for a
refusal; the machine runs it on a fork and keeps the fork only when the chain accepted the transaction too.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from tests.stateful.model import MINT, TRANSFER, ZERO, Model, Revert

# ISubscriptionBook.Phase and .Method
OPEN, ALLOTTING, ALLOTTED, SETTLING, SETTLED, CANCELLED = range(6)
NONE, PRO_RATA, FIRST_COME, EXPLICIT = range(4)
# Commitment flags
ALLOTTED_FLAG, SETTLED_FLAG, REFUNDED_FLAG = 1, 2, 4
UINT96_MAX = 2**96 - 1
SETTLEMENT_PERIOD = 30 * 86_400  # SubscriptionBook.SETTLEMENT_PERIOD: the settlement deadline after the settlement time

# ITradeSettlement modes and statuses
ONCHAIN, OFFCHAIN, HASHLOCK = range(3)
T_NONE, T_LOCKED, T_APPROVED, T_SETTLED, T_CANCELLED, T_RELEASED = range(6)


@dataclass(frozen=True)
class BookTerms:
    """The book's immutable terms (unitSize 1: a book unit is a token unit)."""

    address: str
    treasury: str
    price: int
    offered: int
    open: int
    close: int
    settlement: int


@dataclass
class Commitment:
    units: int
    allotted: int
    seq: int
    flags: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.units, self.allotted, self.seq, self.flags)


@dataclass
class Book:
    phase: int = OPEN
    method: int = NONE
    committed: int = 0
    investors: int = 0
    last_seq: int = 0
    allotted: int = 0
    processed: int = 0
    cursor: int = 0
    extra_closed: bool = False
    settled: int = 0
    issued: int = 0
    commitments: dict[str, Commitment] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    held_proceeds: int = 0


@dataclass(frozen=True)
class Trade:
    """ITradeSettlement.Trade."""

    series: str
    seller: str
    buyer: str
    units: int
    payment_token: str
    price: int
    expiry: int
    mode: int
    payment_ref: bytes
    confirmer: str
    nonce: int

    def as_tuple(self) -> tuple[object, ...]:
        return (
            self.series,
            self.seller,
            self.buyer,
            self.units,
            self.payment_token,
            self.price,
            self.expiry,
            self.mode,
            self.payment_ref,
            self.confirmer,
            self.nonce,
        )


@dataclass
class SettlementModel:
    """The series model `s` plus the book and the trades (keyed by trade id)."""

    s: Model
    terms: BookTerms
    book: Book = field(default_factory=Book)
    trades: dict[bytes, Trade] = field(default_factory=dict)
    status: dict[bytes, int] = field(default_factory=dict)
    payments_used: set[tuple[str, bytes]] = field(default_factory=set)  # (seller, payment id) confirmed once

    def fork(self) -> SettlementModel:
        return copy.deepcopy(self, {id(self.s.cfg): self.s.cfg, id(self.terms): self.terms})

    # ================================================================== cash (the payment token, no fees)

    def move_cash(self, frm: str, to: str, amount: int) -> None:
        """An ERC-20 transfer that must succeed: the token's blocklist or a short balance reverts it."""
        s = self.s
        if frm in s.blocked:
            raise Revert("Blocked", frm)
        if to in s.blocked:
            raise Revert("Blocked", to)
        if s.cash.get(frm, 0) < amount:
            raise Revert("ERC20InsufficientBalance")
        s.cash[frm] -= amount
        s.cash[to] = s.cash.get(to, 0) + amount

    # ================================================================== the book: window

    def _in_window(self) -> None:
        t = self.terms
        if self.s.now < t.open or self.s.now >= t.close:
            raise Revert("WindowNotOpen")

    def mint_code(self, investor: str, units: int) -> int:
        """detectTransferRestriction(0, investor, units) as the book's transaction sees it."""
        trial = self.s.fork()
        trial.retire_pending(investor)
        trial.fold(ZERO, investor)
        return trial.restriction(ZERO, investor, units, MINT)

    def commit(self, investor: str, units: int) -> None:
        self.s.begin_tx()
        b, t = self.book, self.terms
        if units == 0:
            raise Revert("ZeroUnits")
        self._in_window()
        if b.phase != OPEN:
            raise Revert("WrongPhase", b.phase)
        c = b.commitments.get(investor)
        held = c.units if c else 0
        total = held + units
        code = self.mint_code(investor, total)
        if code:
            raise Revert("NotEligible", investor, total, code)
        if self.s.paused:
            raise Revert("SeriesPaused")
        if held == 0:
            b.investors += 1
        b.last_seq += 1
        b.committed += units
        b.commitments[investor] = Commitment(total, 0, b.last_seq, 0)
        self.move_cash(investor, t.address, units * t.price)

    def withdraw(self, investor: str, units: int) -> None:
        self.s.begin_tx()
        b, t = self.book, self.terms
        if units == 0:
            raise Revert("ZeroUnits")
        self._in_window()
        if b.phase != OPEN:
            raise Revert("WrongPhase", b.phase)
        c = b.commitments.get(investor)
        held = c.units if c else 0
        if units > held:
            raise Revert("ExceedsCommitment", investor, units, held)
        assert c is not None
        if held == units:
            b.investors -= 1
            del b.commitments[investor]
        else:
            c.units -= units
        b.committed -= units
        self.move_cash(t.address, investor, units * t.price)

    # ================================================================== the book: allotment

    def _allotment_time(self) -> None:
        if self.s.now < self.terms.close:
            raise Revert("WindowNotClosed")
        if self.s.now >= self.terms.settlement:
            raise Revert("AllotmentDeadlinePassed")

    def allottable(self) -> int:
        return min(self.book.committed, self.terms.offered)

    def allot(self, method: int, investors: list[str], units: list[int]) -> None:
        self.s.begin_tx()
        self._allotment_time()
        b = self.book
        if len(investors) != len(units):
            raise Revert("LengthMismatch")
        if b.phase == OPEN:
            if method == NONE:
                raise Revert("MethodMismatch")
            b.phase, b.method = ALLOTTING, method
        elif b.phase != ALLOTTING:
            raise Revert("WrongPhase", b.phase)
        elif method != b.method:
            raise Revert("MethodMismatch")
        allottable = self.allottable()
        limit = self.terms.offered if method == EXPLICIT else allottable
        for investor, u in zip(investors, units, strict=True):
            self._allot_one(method, investor, u, allottable, limit)

    def _allot_one(self, method: int, investor: str, u: int, allottable: int, limit: int) -> None:
        b = self.book
        c = b.commitments.get(investor)
        if c is None:
            raise Revert("NoCommitment", investor)
        if c.flags & ALLOTTED_FLAG:
            raise Revert("AlreadyAllotted", investor)
        if method != EXPLICIT:
            if c.seq <= b.cursor:
                raise Revert("OutOfOrder", investor)
            b.cursor = c.seq
        if method == PRO_RATA:
            share = c.units * allottable
            floor, fractional = share // b.committed, share % b.committed != 0
            if u == floor:
                if fractional:
                    b.extra_closed = True
            elif u != floor + 1 or not fractional or b.extra_closed:
                raise Revert("AllotmentRuleBroken", investor)
        elif method == FIRST_COME:
            if u != min(c.units, allottable - b.allotted):
                raise Revert("AllotmentRuleBroken", investor)
        elif u > c.units:
            raise Revert("AllotmentRuleBroken", investor)
        if b.allotted + u > limit:
            raise Revert("OverAllotted")
        b.allotted += u
        b.processed += 1
        c.allotted = u
        c.flags |= ALLOTTED_FLAG

    def finalize(self) -> None:
        self.s.begin_tx()
        self._allotment_time()
        b = self.book
        if b.phase == OPEN and b.investors != 0:
            raise Revert("WrongPhase", b.phase)
        if b.phase not in (OPEN, ALLOTTING):
            raise Revert("WrongPhase", b.phase)
        if b.method in (PRO_RATA, FIRST_COME) and (b.processed != b.investors or b.allotted != self.allottable()):
            raise Revert("AllotmentIncomplete")
        b.phase = ALLOTTED

    # ================================================================== the book: settlement, cancellation

    def settle(self, investors: list[str]) -> list[str]:
        """One batch; returns the investors whose allotment lapsed (the token refused the mint)."""
        s = self.s
        s.begin_tx()
        b, t = self.book, self.terms
        if b.phase not in (ALLOTTED, SETTLING):
            raise Revert("WrongPhase", b.phase)
        if s.now < t.settlement:
            raise Revert("SettlementNotDue")
        if s.now >= t.settlement + SETTLEMENT_PERIOD:
            raise Revert("SettlementDeadlinePassed")
        if s.paused:
            raise Revert("SeriesPaused")
        lapsed: list[str] = []
        proceeds = 0
        for investor in investors:
            c = b.commitments.get(investor)
            if c is None or c.flags & SETTLED_FLAG:
                continue
            c.flags |= SETTLED_FLAG
            b.settled += 1
            units = c.allotted if c.flags & ALLOTTED_FLAG else 0
            if units and not self._mint(investor, units):
                lapsed.append(investor)
                units = 0
            b.issued += units
            proceeds += units * t.price
            refund = (c.units - units) * t.price
            if refund:
                self._refund(investor, refund)
        if proceeds:
            try:
                self.move_cash(t.address, t.treasury, proceeds)
            except Revert:  # the payment token refused the treasury: held for claimProceeds
                b.held_proceeds += proceeds
        b.phase = SETTLED if b.settled == b.investors else SETTLING
        return lapsed

    def _mint(self, investor: str, units: int) -> bool:
        """The book's mint: False when the token refuses it with TransferRestricted (nothing changes then)."""
        trial = self.s.fork()
        try:
            trial._update(ZERO, investor, units, MINT)
        except Revert as refusal:
            if refusal.name != "TransferRestricted":
                raise
            return False
        trial.minted += units
        self.s = trial
        return True

    def _refund(self, investor: str, cash: int) -> None:
        """A refund the payment token refuses is held for the investor's claim."""
        try:
            self.move_cash(self.terms.address, investor, cash)
        except Revert:
            self.book.held[investor] = self.book.held.get(investor, 0) + cash

    def cancelled(self) -> bool:
        """Cancelled, or lapsed: the allotment was not final at the settlement time, or the settlement not complete
        at the settlement deadline (then the investors not settled are refunded)."""
        phase, now = self.book.phase, self.s.now
        return (
            phase == CANCELLED
            or (phase in (OPEN, ALLOTTING) and now >= self.terms.settlement)
            or (phase in (ALLOTTED, SETTLING) and now >= self.terms.settlement + SETTLEMENT_PERIOD)
        )

    def cancel(self) -> None:
        self.s.begin_tx()
        b = self.book
        if b.phase not in (OPEN, ALLOTTING, ALLOTTED):
            raise Revert("WrongPhase", b.phase)
        b.phase = CANCELLED

    def refund(self, investors: list[str]) -> None:
        self.s.begin_tx()
        if not self.cancelled():
            raise Revert("WrongPhase", self.book.phase)
        for investor in investors:
            c = self.book.commitments.get(investor)
            if c is None or c.flags & (REFUNDED_FLAG | SETTLED_FLAG):
                continue
            c.flags |= REFUNDED_FLAG
            self._refund(investor, c.units * self.terms.price)

    def claim(self, investor: str, to: str) -> None:
        self.s.begin_tx()
        if to == ZERO:
            raise Revert("ZeroAddress")
        cash = self.book.held.get(investor, 0)
        c = self.book.commitments.get(investor)
        if c is not None and not c.flags & (REFUNDED_FLAG | SETTLED_FLAG) and self.cancelled():
            c.flags |= REFUNDED_FLAG
            cash += c.units * self.terms.price
        if cash == 0:
            raise Revert("NothingToClaim", investor)
        self.book.held[investor] = 0
        self.move_cash(self.terms.address, to, cash)

    # ------------------------------------------------------------------ views

    def book_state(self) -> tuple[int, ...]:
        b = self.book
        shown = CANCELLED if self.cancelled() else b.phase
        return (shown, b.method, b.committed, b.investors, b.allotted, b.processed, b.settled)

    def commitment(self, investor: str) -> tuple[int, int, int, int]:
        c = self.book.commitments.get(investor)
        return c.as_tuple() if c else (0, 0, 0, 0)

    def arrival_order(self) -> list[str]:
        return [a for a, _ in sorted(self.book.commitments.items(), key=lambda item: item[1].seq)]

    # ================================================================== trades

    def agree(self, trade_id: bytes, trade: Trade) -> None:
        self.s.begin_tx()
        reason = 0
        if trade.units == 0:
            reason = 1
        elif trade.seller == ZERO or trade.buyer == ZERO or trade.seller == trade.buyer:
            reason = 2
        elif trade.mode == ONCHAIN and (trade.payment_token == ZERO or trade.price == 0):
            reason = 4
        elif trade.mode == HASHLOCK and trade.payment_ref == bytes(32):
            reason = 5
        elif trade.mode == OFFCHAIN and trade.confirmer == trade.buyer:
            reason = 7
        if reason:
            raise Revert("InvalidTrade", reason)
        status = self.status.get(trade_id, T_NONE)
        if status != T_NONE:
            raise Revert("TradeNotOpen", status)
        if self.s.now > trade.expiry:
            raise Revert("TradeExpired")
        self.trades[trade_id] = trade
        self.status[trade_id] = T_LOCKED
        self._freeze(trade.seller, trade.units)

    def _freeze(self, wallet: str, units: int) -> None:
        s = self.s
        s.retire_pending(wallet)  # units retired at a passed record time cannot be frozen
        if s.frozen_units[wallet] + units > s.bal[wallet]:
            raise Revert("InvalidFreezeAmount")
        s.frozen_units[wallet] += units

    def _unfreeze(self, wallet: str, units: int) -> None:
        s = self.s
        if units > s.frozen_units[wallet]:
            raise Revert("InvalidFreezeAmount")
        s.frozen_units[wallet] -= units

    def _open(self, trade_id: bytes, mode: int) -> Trade:
        self.s.begin_tx()
        status = self.status.get(trade_id, T_NONE)
        if status not in (T_LOCKED, T_APPROVED):
            raise Revert("TradeNotOpen", status)
        trade = self.trades[trade_id]
        if trade.mode != mode:
            raise Revert("WrongMode")
        if self.s.now > trade.expiry:
            raise Revert("TradeExpired")
        self.status[trade_id] = T_SETTLED
        return trade

    def _deliver(self, trade: Trade) -> None:
        """The trade is already settled (so `locked` leaves it out); the delivery may not leave the seller's other
        open trades fewer frozen units than they lock."""
        self._unfreeze(trade.seller, trade.units)
        self.s._update(trade.seller, trade.buyer, trade.units, TRANSFER)
        still_locked = self.locked(trade.seller)
        if still_locked and self.s.frozen_units[trade.seller] < still_locked:
            raise Revert("LockShortfall", self.s.frozen_units[trade.seller], still_locked)

    def settle_trade(self, trade_id: bytes) -> None:
        trade = self._open(trade_id, ONCHAIN)
        self._deliver(trade)
        self.move_cash(trade.buyer, trade.seller, trade.price)

    def confirm_payment(self, trade_id: bytes, caller: str, payment_id: bytes) -> None:
        trade = self._open(trade_id, OFFCHAIN)
        if caller != trade.seller and (caller != trade.confirmer or trade.confirmer == ZERO):
            raise Revert("NotAllowed")
        if payment_id == bytes(32) or (trade.payment_ref != bytes(32) and payment_id != trade.payment_ref):
            raise Revert("PaymentIdMismatch")
        if (trade.seller, payment_id) in self.payments_used:
            raise Revert("PaymentIdUsed")
        self.payments_used.add((trade.seller, payment_id))
        self._deliver(trade)

    def claim_trade(self, trade_id: bytes, hashed_secret: bytes) -> None:
        trade = self._open(trade_id, HASHLOCK)
        if hashed_secret != trade.payment_ref:
            raise Revert("WrongSecret")
        self._deliver(trade)

    def cancel_trade(self, trade_id: bytes, trade: Trade, caller: str) -> None:
        self.s.begin_tx()
        if caller not in (trade.seller, trade.buyer):
            raise Revert("NotAllowed")
        status = self.status.get(trade_id, T_NONE)
        if status in (T_LOCKED, T_APPROVED):
            if caller == trade.seller and trade.mode != ONCHAIN and self.s.now <= trade.expiry:
                raise Revert("SellerCannotCancel")
            self.status[trade_id] = T_CANCELLED
            self._unlock(trade)
        elif status == T_NONE:
            self.trades[trade_id] = trade
            self.status[trade_id] = T_CANCELLED
        else:
            raise Revert("TradeNotOpen", status)

    def release(self, trade_id: bytes) -> None:
        self.s.begin_tx()
        status = self.status.get(trade_id, T_NONE)
        if status not in (T_LOCKED, T_APPROVED):
            raise Revert("TradeNotOpen", status)
        trade = self.trades[trade_id]
        if self.s.now <= trade.expiry:
            raise Revert("TradeNotExpired")
        self.status[trade_id] = T_RELEASED
        self._unlock(trade)

    def _unlock(self, trade: Trade) -> None:
        """The trade is already closed: it unfreezes at most what the other open trades of its seller do not lock."""
        spare = max(self.s.frozen_units[trade.seller] - self.locked(trade.seller), 0)
        units = min(trade.units, spare)
        if units:
            self._unfreeze(trade.seller, units)

    def open_trades(self) -> list[bytes]:
        return [i for i, st in self.status.items() if st in (T_LOCKED, T_APPROVED)]

    def locked(self, wallet: str) -> int:
        """Units the open trades of `wallet` lock."""
        return sum(self.trades[i].units for i in self.open_trades() if self.trades[i].seller == wallet)
