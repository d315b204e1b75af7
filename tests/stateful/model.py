"""Plain-Python reference model of one bond series: registry, token, payment code and the payment token.

Written from the documented rules (docs/architecture.md, docs/payments.md, docs/rounding.md), not from the
contracts' storage tricks: balances are plain integers, record-date holdings are snapshots taken when a record
time passes, the holder count is derived from the balances. Every operation checks what the contract checks,
in the contract's order, and raises `Revert(name, *args)` for a refusal; the machine runs it on a fork of the
model and keeps the fork only when the chain accepted the transaction too.

Retirement at record time: a period that retires units (redeem fraction > 0: amortization that retires, partial
or full call, final redemption) retires, for every holder, floor(units at its record time x fraction) at that
record time. The units stay in `balanceOf` and `totalSupply` as a pending retirement until the holder's next
balance change or the settlement of a retiring period burns them (first, before anything moves); they can never
move, and every later record time sees the holding net of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from fractions import Fraction

ZERO = "0x" + "00" * 20
PPM = 1_000_000
MAX_SUPPLY = 2**96 - 1
MAX_BATCH = 500
UINT40_MAX = 2**40 - 1

# balance-change modes (BondTokenStorage)
TRANSFER, MINT, BURN, FORCED, RECOVERY = range(5)

# restriction codes (docs/architecture.md)
C_OK = 0
C_PAUSED = 1
C_SENDER_FROZEN = 2
C_RECEIVER_FROZEN = 3
C_BALANCE = 4
C_SENDER_UNVERIFIED = 5
C_RECEIVER_UNVERIFIED = 6
C_COUNTRY = 7
C_MAX_HOLDERS = 9
C_CAP = 10
C_ADDRESS = 15
C_TOO_LARGE = 16
C_REDEEMED = 17


class Revert(Exception):
    """The operation is refused with the contract error `name` (and, for restrictions, its code)."""

    def __init__(self, name: str, *args: object) -> None:
        super().__init__(name, *args)
        self.name = name
        self.details = args

    def __str__(self) -> str:
        return f"{self.name}{self.details}"


@dataclass
class Record:
    """A registry record (the packed word's fields)."""

    identity: str
    country: int
    region: int
    category: int
    tax_class: int
    kyc_expiry: int
    multi: bool = False


@dataclass(frozen=True)
class Terms:
    """Terms of a payment period; per-unit amounts are exact rationals in payment-token minor units."""

    record: int
    payment: int
    coupon: Fraction
    principal: Fraction = Fraction(0)
    redeem: Fraction = Fraction(0)

    def as_tuple(self) -> tuple[int, ...]:
        """IPaymentAgent.PeriodTerms (recordTime, paymentTime, redeemNum, redeemDen, coupon..., principal...)."""
        return (
            self.record,
            self.payment,
            self.redeem.numerator,
            self.redeem.denominator,
            self.coupon.numerator,
            self.coupon.denominator,
            self.principal.numerator,
            self.principal.denominator,
        )

    @property
    def full(self) -> bool:
        return self.redeem == 1


@dataclass
class Period:
    terms: Terms
    reclaim_after: int
    cancelled: bool = False
    defaulted: bool = False
    closed: bool = False
    covered: bool = False
    required: int | None = None  # known once computed after the record time
    funded: int = 0
    held: int = 0
    paid_net: int = 0
    tax_withheld: int = 0
    escrowed: int = 0
    reclaimed: int = 0
    offchain: int = 0


@dataclass(frozen=True)
class Config:
    """What never changes during a run: addresses, rates and the agent's delays."""

    wallets: tuple[str, ...]
    series: str
    payer: str
    treasury: str
    tax_account: str
    tax_classes: dict[int, tuple[tuple[int, str], ...]]  # class -> ((ppm, account or ZERO), ...)
    reclaim_delay: int
    call_notice: int
    allowed_countries: frozenset[int]


def floor(value: Fraction) -> int:
    return value.numerator // value.denominator


@dataclass
class Model:
    cfg: Config
    now: int
    # registry
    records: dict[str, Record] = field(default_factory=dict)
    wallets_of: dict[str, list[str]] = field(default_factory=dict)  # identity -> its wallets, the first one first
    generation: dict[str, int] = field(default_factory=dict)  # identity -> link generation
    # token
    bal: dict[str, int] = field(default_factory=dict)  # balanceOf: pending retirements included
    pending: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (record time, units) not burned yet
    frozen: dict[str, bool] = field(default_factory=dict)
    frozen_units: dict[str, int] = field(default_factory=dict)
    agg_of: dict[str, str] = field(default_factory=dict)  # the identity the token aggregates a wallet under
    agg_generation: dict[str, int] = field(default_factory=dict)  # identity -> link generation the token folded
    paused: bool = False
    max_holders: int = 0
    cap: int = 0
    passed: list[int] = field(default_factory=list)  # record times processed (< now), ascending
    units_at: dict[int, dict[str, int]] = field(default_factory=dict)  # record time -> holder -> units
    supply_at: dict[int, int] = field(default_factory=dict)  # record time -> totalSupplyAt
    # payment code
    periods: list[Period] = field(default_factory=list)
    settled: set[tuple[int, str]] = field(default_factory=set)
    escrow: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    tax_pending: dict[int, list[int]] = field(default_factory=dict)
    open_defaults: int = 0
    # payment token: balances, and the accounts its blocklist refuses (MockHostilePaymentToken)
    cash: dict[str, int] = field(default_factory=dict)
    blocked: set[str] = field(default_factory=set)
    undelivered: dict[str, int] = field(default_factory=dict)  # net a push could not deliver, per holder
    arrears: dict[str, int] = field(default_factory=dict)  # withholding a tax account could not receive
    # facts for the invariants that the model itself does not need
    minted: int = 0
    burned_by_minter: int = 0
    principal_settled: int = 0

    # ================================================================== plumbing

    def fork(self) -> Model:
        return copy.deepcopy(self, {id(self.cfg): self.cfg})

    def begin_tx(self) -> int:
        """The next transaction runs in the next block, one second later; record times before it have passed."""
        self.advance(self.now + 1)
        return self.now

    def advance(self, timestamp: int) -> None:
        """Time moves to `timestamp`: every record time before it takes effect (snapshots, retirements)."""
        assert timestamp >= self.now, (timestamp, self.now)
        self.now = timestamp
        for t in self.record_times():
            if t < timestamp and t not in self.units_at:
                self._pass_record_time(t)

    def _pass_record_time(self, t: int) -> None:
        units = {w: self.bal[w] - self.pending_units(w) for w in self.cfg.wallets}
        self.units_at[t] = units
        self.supply_at[t] = sum(self.bal.values())
        self.passed.append(t)
        self.passed.sort()
        for p in self.live_periods():
            fraction = p.terms.redeem
            if p.terms.record != t or fraction == 0:
                continue
            for w, u in units.items():
                retired = floor(u * fraction)
                if retired:
                    self.pending[w].append((t, retired))

    # ================================================================== registry

    def verified(self, wallet: str, at: int | None = None) -> bool:
        r = self.records.get(wallet)
        return r is not None and (self.now if at is None else at) < r.kyc_expiry

    def identity(self, wallet: str) -> str:
        r = self.records.get(wallet)
        return r.identity if r else ZERO

    def tax_class(self, wallet: str) -> int:
        r = self.records.get(wallet)
        return r.tax_class if r else 0

    MAX_WALLETS = 8

    def register(self, wallet: str, record: Record) -> None:
        self.begin_tx()
        self._register(wallet, record)

    def link(self, existing: str, wallet: str) -> None:
        """A further wallet of the investor owning `existing`, with that wallet's record."""
        self.begin_tx()
        base = self.records.get(existing)
        if base is None:
            raise Revert("WalletNotRegistered")
        self._register(wallet, Record(**{**base.__dict__, "multi": False}))

    def _register(self, wallet: str, record: Record) -> None:
        if wallet in self.records:
            raise Revert("WalletAlreadyRegistered")
        self._place(wallet, record)

    def _place(self, wallet: str, record: Record) -> None:
        """The identity's first wallet is only indexed; a further one is linked: every wallet of the investor is
        flagged multi-wallet and the identity's link generation moves on (series fold it at their next touch)."""
        wallets = self.wallets_of.setdefault(record.identity, [])
        if wallets:
            if len(wallets) >= self.MAX_WALLETS:
                raise Revert("TooManyWallets")
            if len(wallets) == 1:
                self.records[wallets[0]].multi = True
            record.multi = True
            self.generation[record.identity] = self.generation.get(record.identity, 0) + 1
        self.records[wallet] = record
        wallets.append(wallet)

    def update(self, wallet: str, country: int, tax_class: int, kyc_expiry: int) -> None:
        self.begin_tx()
        r = self.records.get(wallet)
        if r is None:
            raise Revert("WalletNotRegistered")
        targets = self.wallets_of[r.identity] if r.multi else [wallet]
        for w in targets:
            x = self.records[w]
            x.country, x.tax_class, x.kyc_expiry = country, tax_class, kyc_expiry

    def remove(self, wallet: str) -> None:
        """The wallet leaves its identity (the last one left loses the multi-wallet flag) and is deregistered."""
        self.begin_tx()
        r = self.records.get(wallet)
        if r is None:
            raise Revert("WalletNotRegistered")
        wallets = self.wallets_of[r.identity]
        if len(wallets) > 1:
            first, others = wallets[0], wallets[1:]
            if first == wallet:
                first = others.pop()
            else:
                at = others.index(wallet)
                others[at] = others[-1]
                others.pop()
            wallets[:] = [first, *others]
            if len(wallets) == 1:
                self.records[first].multi = False
        else:
            wallets.clear()
        del self.records[wallet]

    # ------------------------------------------------------------------ the series' side (pull model)

    def _fresh(self, party: str) -> bool:
        """The party is aggregated under its registry identity at the identity's current link generation."""
        r = self.records.get(party)
        return (
            r is None
            or not r.multi
            or (
                self.agg_of.get(party) == r.identity
                and self.agg_generation.get(r.identity) == self.generation[r.identity]
            )
        )

    def fold(self, frm: str, to: str) -> None:
        """A balance change with a receiver folds the investors of its multi-wallet parties that are not aggregated
        at the registry's current generation: their wallets holding units here (or being a party) join the
        aggregate, leaving whatever group they were counted in; zero-balance wallets wait for their own touch."""
        done: set[str] = set()
        for party in (frm, to):
            if party == ZERO or self._fresh(party):
                continue
            identity = self.records[party].identity
            if identity in done:
                continue
            done.add(identity)
            for w in self.wallets_of[identity]:
                if self.agg_of.get(w) != identity and (self.bal.get(w, 0) or w in (frm, to)):
                    self.agg_of[w] = identity
            self.agg_generation[identity] = self.generation[identity]

    # ================================================================== token views

    def pending_units(self, wallet: str) -> int:
        return sum(units for _, units in self.pending.get(wallet, ()))

    def total_supply(self) -> int:
        return sum(self.bal.values())

    def holding(self, wallet: str) -> int:
        """What the compliance rules count for the wallet: its investor's aggregate or its own balance."""
        identity = self.agg_of.get(wallet)
        if identity is None:
            return self.bal[wallet]
        return sum(self.bal[w] for w in self.cfg.wallets if self.agg_of.get(w) == identity)

    def aggregate(self, identity: str) -> int:
        return sum(self.bal[w] for w in self.cfg.wallets if self.agg_of.get(w) == identity)

    def account_aggregation(self, wallet: str) -> tuple[str, int]:
        """accountState's (aggregation identity, aggregate): as the wallet's next balance change would see them,
        its investor folded if stale ((zero address, 0) when it is counted on its own)."""
        m = self
        if not self._fresh(wallet):
            m = self.fork()
            m.fold(wallet, wallet)
        identity = m.agg_of.get(wallet)
        return (identity, m.aggregate(identity)) if identity else (ZERO, 0)

    def holder_count(self) -> int:
        """Investors with a non-zero balance; wallets the token aggregates count once per identity."""
        holders = {self.agg_of.get(w, w) for w in self.cfg.wallets if self.bal[w] > 0}
        return len(holders)

    def record_times(self) -> list[int]:
        return sorted({p.terms.record for p in self.live_periods()})

    def live_periods(self) -> list[Period]:
        return [p for p in self.periods if not p.cancelled]

    def closes(self) -> bool:
        """The live period with the latest record time retires every unit."""
        live = self.live_periods()
        if not live:
            return False
        last = max(p.terms.record for p in live)
        return any(p.terms.full for p in live if p.terms.record == last)

    def series_closed(self, at: int) -> bool:
        times = self.record_times()
        return self.closes() and bool(times) and all(t < at for t in times)

    # ================================================================== token balance changes

    def retire_pending(self, wallet: str) -> int:
        """Burns the wallet's pending retirements (first thing of any balance change or retiring settlement)."""
        burned = 0
        for t, units in self.pending[wallet]:
            for later in self.passed:
                if later > t:
                    self.supply_at[later] -= units
            burned += units
        self.pending[wallet] = []
        if burned:
            self.bal[wallet] -= burned
            self.frozen_units[wallet] = min(self.frozen_units[wallet], self.bal[wallet])
        return burned

    def restriction(self, frm: str, to: str, amount: int, mode: int) -> int:
        """_evaluate: the restriction code of a balance change (retirements already burned)."""
        investor = mode == TRANSFER
        at = self.now
        if (frm == ZERO and mode != MINT) or (to == ZERO and mode != BURN):
            return C_ADDRESS  # only a mint starts at the zero address and only a burn ends there
        if investor:
            if self.paused:
                return C_PAUSED
            if self.frozen[frm]:
                return C_SENDER_FROZEN
        if to != ZERO and self.series_closed(at):
            return C_REDEEMED
        if to != ZERO and mode != RECOVERY and self.frozen.get(to, False):
            return C_RECEIVER_FROZEN
        if frm != ZERO:
            available = self.bal[frm]
            if investor or mode == BURN:
                available = max(available - self.frozen_units[frm], 0)
            if amount > available:
                return C_BALANCE
        elif self.total_supply() + amount > MAX_SUPPLY:
            return C_TOO_LARGE
        if investor and not self.verified(frm):
            return C_SENDER_UNVERIFIED
        if to == ZERO:
            return C_OK
        if not self.verified(to):
            return C_RECEIVER_UNVERIFIED
        if frm == to:
            return C_OK
        if self.records[to].country not in self.cfg.allowed_countries:
            return C_COUNTRY
        agg_from = self.agg_of.get(frm) if frm != ZERO else None
        agg_to = self.agg_of.get(to)
        if (agg_to is None or agg_from != agg_to) and amount != 0:
            hold_from = self.holding(frm) if frm != ZERO else 0
            hold_to = self.holding(to)
            holders = self.holder_count()
            if frm != ZERO and hold_from == amount:
                holders -= 1
            if hold_to == 0:
                holders += 1
                if self.max_holders and holders > self.max_holders:
                    return C_MAX_HOLDERS
            if self.cap and hold_to + amount > self.cap:
                return C_CAP
        return C_OK

    def _update(self, frm: str, to: str, amount: int, mode: int) -> None:
        if frm != ZERO:
            self.retire_pending(frm)
        if to != ZERO and to != frm:
            self.retire_pending(to)
        if to != ZERO:
            self.fold(frm, to)
        code = self.restriction(frm, to, amount, mode)
        if code:
            raise Revert("TransferRestricted", code)
        if frm != ZERO and frm != to:
            self.bal[frm] -= amount
            if mode == FORCED and self.frozen_units[frm] > self.bal[frm]:
                self.frozen_units[frm] = self.bal[frm]  # only the frozen units that had to move are unfrozen
        if to != ZERO and frm != to:
            self.bal[to] += amount

    def detect(self, frm: str, to: str, amount: int) -> int:
        """What detectTransferRestriction answers in the next block: an investor transfer, or a mint (`frm` zero)
        or a burn (`to` zero), as the balance change would see the holdings (retirements burned)."""
        trial = self.fork()
        trial.begin_tx()
        if frm != ZERO:
            trial.retire_pending(frm)
        if to != ZERO and to != frm:
            trial.retire_pending(to)
        if to != ZERO:
            trial.fold(frm, to)
        mode = MINT if frm == ZERO else BURN if to == ZERO else TRANSFER
        return trial.restriction(frm, to, amount, mode)

    def transfer(self, frm: str, to: str, amount: int) -> None:
        self.begin_tx()
        self._update(frm, to, amount, TRANSFER)

    def mint(self, to: str, amount: int) -> None:
        self.begin_tx()
        self._update(ZERO, to, amount, MINT)
        self.minted += amount

    def burn(self, wallet: str, amount: int) -> None:
        self.begin_tx()
        self._update(wallet, ZERO, amount, BURN)
        self.burned_by_minter += amount

    def forced_transfer(self, frm: str, to: str, amount: int) -> None:
        self.begin_tx()
        self._update(frm, to, amount, FORCED)

    def recover(self, lost: str, new: str, identity: str) -> None:
        self.begin_tx()
        if identity == ZERO or self.identity(new) != identity:
            raise Revert("RecoveryIdentityMismatch")
        if self.identity(lost) not in (ZERO, identity):
            raise Revert("RecoveryIdentityMismatch")
        self.retire_pending(lost)  # retired units stay retired: only the rest moves
        frozen_units = self.frozen_units[lost]
        self._update(lost, new, self.bal[lost], RECOVERY)
        if frozen_units:
            self.frozen_units[lost] = 0
            self.frozen_units[new] += frozen_units
        if self.frozen[lost]:
            self.frozen[new] = True

    def set_frozen(self, wallet: str, frozen: bool) -> None:
        self.begin_tx()
        self.frozen[wallet] = frozen

    def freeze_partial(self, wallet: str, amount: int) -> None:
        self.begin_tx()
        self.retire_pending(wallet)  # units retired at a passed record time cannot be frozen
        if self.frozen_units[wallet] + amount > self.bal[wallet]:
            raise Revert("InvalidFreezeAmount")
        self.frozen_units[wallet] += amount

    def unfreeze_partial(self, wallet: str, amount: int) -> None:
        self.begin_tx()
        if amount > self.frozen_units[wallet]:
            raise Revert("InvalidFreezeAmount")
        self.frozen_units[wallet] -= amount

    def set_paused(self, paused: bool) -> None:
        self.begin_tx()
        self.paused = paused

    def set_max_holders(self, value: int) -> None:
        self.begin_tx()
        self.max_holders = value

    def set_cap(self, value: int) -> None:
        self.begin_tx()
        self.cap = value

    # ================================================================== payment views

    def units(self, period: int, wallet: str) -> int:
        return self.units_at[self.periods[period].terms.record][wallet]

    @staticmethod
    def amounts(terms: Terms, units: int) -> tuple[int, int, int]:
        """(coupon gross, principal gross, units retired) of one holder (docs/payments.md, rounding rule)."""
        if units == 0:
            return 0, 0, 0
        coupon = floor(units * terms.coupon)
        if terms.redeem:
            retired = floor(units * terms.redeem)
            return coupon, floor(retired * terms.principal), retired
        return coupon, floor(units * terms.principal), 0

    def entitlement(self, period: int, wallet: str) -> tuple[int, int, int]:
        return self.amounts(self.periods[period].terms, self.units(period, wallet))

    def compute_required(self, period: int) -> int:
        p = self.periods[period]
        t = p.terms
        if self.now <= t.record:
            raise Revert("PeriodRecordTimeNotPassed")
        supply = self.supply_at[t.record]
        principal = floor(floor(supply * t.redeem) * t.principal) if t.redeem else floor(supply * t.principal)
        return floor(supply * t.coupon) + principal

    def required(self, period: int) -> int:
        p = self.periods[period]
        return p.required if p.required is not None else self.compute_required(period)

    def shortfall(self, period: int) -> int:
        p = self.periods[period]
        return max(self.required(period) - p.funded - p.offchain, 0)

    def is_settled(self, period: int, wallet: str) -> bool:
        p = self.periods[period]
        if p.cancelled or self.now <= p.terms.record:
            return False
        return (period, wallet) in self.settled

    def withholding(self, tax_class: int, coupon: int) -> list[int]:
        return [coupon * ppm // PPM for ppm, _ in self.cfg.tax_classes.get(tax_class, ())]

    # ================================================================== payment plumbing

    def _get(self, period: int) -> Period:
        if not 0 <= period < len(self.periods):
            raise Revert("UnknownPeriod")
        return self.periods[period]

    def _live(self, period: int) -> Period:
        p = self._get(period)
        if p.cancelled:
            raise Revert("PeriodIsCancelled")
        if p.closed:
            raise Revert("PeriodIsClosed")
        return p

    def _known_required(self, period: int) -> int:
        p = self.periods[period]
        if p.required is None:
            p.required = self.compute_required(period)
        return p.required

    def _payable(self, period: int) -> Period:
        p = self._live(period)
        if self.now < p.terms.payment:
            raise Revert("PaymentTimeNotReached")
        if p.covered:
            return p
        required = self._known_required(period)
        if p.funded + p.offchain < required:
            raise Revert("PeriodUnderfunded")
        p.covered = True
        return p

    def _update_default(self, period: int, covered: int) -> None:
        p = self.periods[period]
        if covered >= p.required:
            if p.defaulted:
                p.defaulted = False
                self.open_defaults -= 1
        elif not p.defaulted and self.now >= p.terms.payment:
            p.defaulted = True
            self.open_defaults += 1

    def _send(self, to: str, amount: int) -> None:
        """A payout that must succeed: a refusal of the payment token reverts the whole operation."""
        if not self._try_send(to, amount):
            raise Revert("Blocked")

    def _try_send(self, to: str, amount: int) -> bool:
        """A payout that may be refused (push batches, tax sweeps): False and nothing moved when refused."""
        if to in self.blocked:
            return False
        self.cash[self.cfg.series] -= amount
        self.cash[to] = self.cash.get(to, 0) + amount
        return True

    def committed(self) -> int:
        """committedFunds: what the series holds for others."""
        return (
            sum(p.held + p.escrowed for p in self.periods)
            + sum(sum(v) for v in self.tax_pending.values())
            + sum(self.undelivered.values())
            + sum(self.arrears.values())
        )

    def _retire_for(self, wallet: str, retired: int) -> None:
        """A retiring period settles the holder: the token burns what passed record times retired from it."""
        if retired:
            self.retire_pending(wallet)

    def _withhold(self, tax_class: int, coupon: int) -> int:
        taxes = self.withholding(tax_class, coupon) if coupon else []
        accrued = self.tax_pending.setdefault(tax_class, [0] * len(self.cfg.tax_classes.get(tax_class, ())))
        for i, tax in enumerate(taxes):
            accrued[i] += tax
        return sum(taxes)

    def _sweep(self, tax_class: int) -> None:
        accrued = self.tax_pending.get(tax_class)
        if not accrued:
            return
        for i, (_, account) in enumerate(self.cfg.tax_classes[tax_class]):
            if accrued[i]:
                to = account if account != ZERO else self.cfg.tax_account
                if not self._try_send(to, accrued[i]):  # owed to the account, blocking nothing
                    self.arrears[to] = self.arrears.get(to, 0) + accrued[i]
                accrued[i] = 0

    def _settle(self, period: int, wallet: str, amounts: tuple[int, int, int], frozen: bool) -> tuple[int, int, bool]:
        """Burns retired units, then escrows (frozen or unverified) or withholds. Returns (net, tax, escrowed)."""
        coupon, principal, retired = amounts
        self._retire_for(wallet, retired)
        self.principal_settled += principal
        if frozen or not self.verified(wallet):
            self.escrow[(period, wallet)] = (coupon, principal)
            return 0, 0, True
        tax = self._withhold(self.tax_class(wallet), coupon)
        return coupon + principal - tax, tax, False

    def _book(self, period: int, gross: int, escrowed: int, tax: int, net: int) -> None:
        p = self.periods[period]
        if gross == 0:
            return
        if gross > p.held:
            raise Revert("InsufficientFunds")
        p.held -= gross
        p.tax_withheld += tax
        p.escrowed += escrowed
        p.paid_net += net

    # ================================================================== payment operations

    def fund(self, period: int, amount: int) -> None:
        self.begin_tx()
        if amount == 0:
            raise Revert("ZeroAmount")
        p = self._live(period)
        required = self._known_required(period)
        covered = p.funded + p.offchain
        if amount > max(required - covered, 0):
            raise Revert("FundingExceedsShortfall")
        self.cash[self.cfg.payer] -= amount
        self.cash[self.cfg.series] += amount
        p.funded += amount
        p.held += amount
        self._update_default(period, covered + amount)

    def push(self, period: int, holders: list[str]) -> int:
        self.begin_tx()
        if len(holders) > MAX_BATCH:
            raise Revert("BatchTooLarge")
        p = self._payable(period)
        gross_sum = escrow_sum = tax_sum = net_sum = 0
        touched: set[int] = set()
        paid = 0
        for holder in holders:
            if (period, holder) in self.settled:
                continue
            units = self.units(period, holder)
            amounts = self.amounts(p.terms, units)
            if units:
                self.settled.add((period, holder))  # marked with the units read, even with nothing to pay
            if amounts == (0, 0, 0):
                continue
            net, tax, escrowed = self._settle(period, holder, amounts, self.frozen[holder])
            if net and not self._try_send(holder, net):  # refused: held for the holder, the batch goes on
                self.undelivered[holder] = self.undelivered.get(holder, 0) + net
            gross = amounts[0] + amounts[1]
            gross_sum += gross
            net_sum += net
            if escrowed:
                escrow_sum += gross
            elif tax:
                tax_sum += tax
                touched.add(self.tax_class(holder))
            paid += 1
        self._book(period, gross_sum, escrow_sum, tax_sum, net_sum)
        for tax_class in sorted(touched):
            self._sweep(tax_class)
        return paid

    def claim(self, wallet: str, periods: list[int]) -> None:
        self.begin_tx()
        for period in periods:
            p = self._payable(period)
            if (period, wallet) in self.settled:
                raise Revert("AlreadySettled")
            amounts = self.amounts(p.terms, self.units(period, wallet))
            if amounts == (0, 0, 0):
                raise Revert("NothingToPay")
            self.settled.add((period, wallet))
            net, tax, escrowed = self._settle(period, wallet, amounts, self.frozen[wallet])
            gross = amounts[0] + amounts[1]
            self._book(period, gross, gross if escrowed else 0, tax, net)
            if net:
                self._send(wallet, net)

    def record_offchain(self, period: int, holders: list[str]) -> None:
        self.begin_tx()
        p = self._get(period)
        if p.cancelled:
            raise Revert("PeriodIsCancelled")
        if self.now <= p.terms.record:
            raise Revert("PeriodRecordTimeNotPassed")
        total = 0
        for holder in holders:
            if (period, holder) in self.settled:
                raise Revert("AlreadySettled")
            coupon, principal, retired = self.amounts(p.terms, self.units(period, holder))
            if (coupon, principal, retired) == (0, 0, 0):
                raise Revert("NothingToPay")
            self.settled.add((period, holder))
            self._retire_for(holder, retired)
            self.principal_settled += principal
            total += coupon + principal
        p.offchain += total
        if p.defaulted and p.required is not None:
            self._update_default(period, p.funded + p.offchain)

    def _eligible_recipient(self, holder: str, to: str) -> None:
        """`to` may receive what is held for `holder`: the holder or a wallet of its investor, verified, unfrozen."""
        if to != holder and (self.identity(to) == ZERO or self.identity(to) != self.identity(holder)):
            raise Revert("NotSameInvestor")
        if not self.verified(to) or self.frozen.get(to, False):
            raise Revert("RecipientNotEligible")

    def release(self, period: int, holder: str, to: str) -> None:
        self.begin_tx()
        p = self._get(period)
        coupon, principal = self.escrow.get((period, holder), (0, 0))
        if coupon + principal == 0:
            raise Revert("NoEscrow")
        self._eligible_recipient(holder, to)
        del self.escrow[(period, holder)]
        p.escrowed -= coupon + principal
        tax_class = self.tax_class(to)
        tax = self._withhold(tax_class, coupon)
        p.tax_withheld += tax
        net = coupon + principal - tax
        p.paid_net += net
        if net:
            self._send(to, net)
        if tax:
            self._sweep(tax_class)

    def collect_undelivered(self, holder: str, to: str) -> None:
        """The holder collects its undelivered net (it must not be frozen itself)."""
        self.begin_tx()
        if self.frozen.get(holder, False):
            raise Revert("RecipientNotEligible")
        self._release_undelivered(holder, to)

    def release_undelivered(self, holder: str, to: str) -> None:
        self.begin_tx()
        self._release_undelivered(holder, to)

    def _release_undelivered(self, holder: str, to: str) -> None:
        amount = self.undelivered.get(holder, 0)
        if amount == 0:
            raise Revert("NothingUndelivered")
        self._eligible_recipient(holder, to)
        del self.undelivered[holder]
        self._send(to, amount)

    def pay_tax_arrears(self, account: str, to: str | None = None) -> None:
        """payTaxArrears(account) (anyone), or redirectTaxArrears(account, to) (admin)."""
        self.begin_tx()
        amount = self.arrears.get(account, 0)
        if amount == 0:
            raise Revert("NoTaxArrears")
        del self.arrears[account]
        self._send(to or account, amount)

    def set_blocked(self, account: str, on: bool) -> None:
        """The payment token's blocklist (a stablecoin freezing an address)."""
        self.begin_tx()
        if on:
            self.blocked.add(account)
        else:
            self.blocked.discard(account)

    def reclaim(self, period: int) -> int:
        self.begin_tx()
        p = self._get(period)
        if p.closed:
            raise Revert("PeriodIsClosed")
        if self.now < p.reclaim_after:
            raise Revert("ReclaimTooEarly")
        amount = p.held
        p.held = 0
        p.closed = True
        p.reclaimed += amount
        if p.defaulted:  # a closed period can no longer be funded: no longer in default
            p.defaulted = False
            self.open_defaults -= 1
        if amount:
            self._send(self.cfg.treasury, amount)
        return amount

    def sweep(self, classes: list[int]) -> None:
        self.begin_tx()
        for tax_class in classes:
            self._sweep(tax_class)

    def mark_default(self, period: int) -> None:
        self.begin_tx()
        p = self._live(period)
        if p.defaulted:
            raise Revert("AlreadyDefaulted")
        if self.now < p.terms.payment:
            raise Revert("PaymentTimeNotReached")
        required = self._known_required(period)
        if p.funded + p.offchain >= required:
            raise Revert("PeriodCovered")
        self._update_default(period, p.funded + p.offchain)

    # ------------------------------------------------------------------ schedule

    def _check_terms(self, t: Terms) -> None:
        if t.redeem > 1:
            raise Revert("InvalidRational")
        if t.record >= t.payment or t.record <= self.now or t.payment > UINT40_MAX:
            raise Revert("InvalidTimes")

    def _sync(self) -> None:
        retiring = [p.terms.record for p in self.live_periods() if p.terms.redeem]
        if len(retiring) != len(set(retiring)):
            raise Revert("RetirementsShareRecordTime")

    def add_period(self, terms: Terms) -> int:
        """A period of the initial schedule (initialize)."""
        self.periods.append(Period(terms, terms.payment + self.cfg.reclaim_delay))
        return len(self.periods) - 1

    def amend(self, period: int, terms: Terms) -> None:
        self.begin_tx()
        p = self._live(period)
        if self.now >= p.terms.record or p.funded or p.offchain:
            raise Revert("TermsLocked")
        self._check_terms(terms)
        p.terms = terms
        p.reclaim_after = terms.payment + self.cfg.reclaim_delay
        self._sync()

    def schedule_call(self, terms: Terms) -> int:
        self.begin_tx()
        self._check_terms(terms)
        if terms.redeem == 0:
            raise Revert("NotACall")
        if terms.payment < self.now + self.cfg.call_notice:
            raise Revert("CallNoticeTooShort")
        if terms.full:
            for p in self.periods:
                if not p.cancelled and p.terms.record >= terms.record:
                    if p.funded or p.offchain:
                        raise Revert("TermsLocked")
                    p.cancelled = True
        period = self.add_period(terms)
        self._sync()
        return period
