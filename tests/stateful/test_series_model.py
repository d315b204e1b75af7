"""Model-based test of one bond series: a Hypothesis state machine drives the real contracts beside the model.

The series (token + payment code behind one proxy, deployed through BondFactory), the real InvestorRegistry and
MockHostilePaymentToken as cash (a rule switches its blocklist) are deployed once (tests/stateful/world.py);
every generated sequence starts from an
`evm_revert` to that set-up. Each rule runs its operation on a fork of the plain-Python model
(tests/stateful/model.py) and as a transaction on the chain: the chain must accept exactly what the model
accepts, and refuse the rest with the same error (for transfers: the same restriction code, also from
`detectTransferRestriction`). After every step one invariant reads the whole state in one call (balances,
freezes, holder count, record-date balances, entitlements, settlement flags, escrows, period accounts,
payment-token balances, undelivered payments, tax arrears) and compares it with the model, then checks the
properties that need no model: supply = sum of balances, per-period conservation, the series' cash equals what
it owes (committedFunds), nobody settled twice for a period,
principal paid <= face x units issued, no supply left once the final redemption has paid everyone.

Every rule labels its outcome with `hypothesis.event`; run with `--hypothesis-show-statistics` to see how often
each fired. Profiles and the seed: tests/stateful/conftest.py.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any, ClassVar

import pytest
from eth_abi import decode
from eth_utils import keccak, to_checksum_address
from hypothesis import currently_in_test_context, event, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.stateful.conftest import FUZZ_SEED, machine_settings, profile_name
from tests.stateful.model import ZERO, Model, Record, Revert, Terms
from tests.stateful.rpc import Outcome, word
from tests.stateful.world import (
    DAY,
    FACE,
    FAR_FUTURE,
    IDENTITY_TAX_CLASS,
    JAPAN,
    TAX_CLASSES_USED,
    USA,
    WALLET_IDENTITY,
    Abi,
    World,
    identity_of,
    pack_record,
)

# The agent paths (mint, burn, forced transfer) get the zero address as a party too: only a mint may start there
# and only a burn end there (the machine found mint/burn/forcedTransfer with 0x0 changing the supply unbacked).
WALLET = st.integers(0, 5)
RECEIVER = st.integers(0, 6)  # 6: the zero address
AGENT_PARTY = RECEIVER
AMOUNT = st.tuples(st.sampled_from(["some", "some", "all", "over", "zero"]), st.integers(1, 1_000))
PICK = st.integers(0, 1_000)
WILD = st.integers(0, 9)  # 0: ignore the model's hints and pick any period (a share of deliberately invalid steps)


def label(name: str) -> None:
    """hypothesis.event when running under Hypothesis (the regression replays run the same rules without it)."""
    if currently_in_test_context():
        event(name)


def bounded(available: int, kind: str, n: int) -> int:
    """An amount that fits what is available ("some", "all"), exceeds it ("over") or is zero."""
    if kind == "zero":
        return 0
    if kind == "all":
        return available
    if kind == "over":
        return available + 1 + n % 5
    return 1 + (n - 1) % available if available else n % 3


def kind_of(terms: Terms, period: int) -> str:
    """What a period pays, for the statistics."""
    scheduled = period < 4  # the deployment's periods; later ones are calls
    if terms.redeem == 1:
        return "the final redemption" if scheduled else "a full call"
    if terms.redeem:
        return "an amortization" if scheduled else "a partial call"
    return "a coupon"


def topic(signature: str) -> bytes:
    return keccak(text=signature)


T_PAYMENT_MADE = topic("PaymentMade(uint256,address,address,uint256,uint256,uint8,uint256[],uint256,uint256)")
T_ESCROWED = topic("PaymentEscrowed(uint256,address,uint256,uint256,uint256)")
T_OFFCHAIN = topic("OffchainPaymentRecorded(uint256,address,uint256,uint256,uint8,uint256[],uint256,uint256,bytes32)")
T_RELEASED = topic("EscrowReleased(uint256,address,address,uint256)")
T_RETIRED = topic("UnitsRetired(address,uint256,uint256)")
T_TRANSFER = topic("Transfer(address,address,uint256)")


def _topic_address(t: str) -> str:
    return to_checksum_address("0x" + t[-40:])


class Ledger:
    """What the series' events say was settled: the outside evidence for 'nobody paid twice' and the principal."""

    def __init__(self, series: str) -> None:
        self.series = series.lower()
        self.settlements: dict[tuple[int, str], int] = defaultdict(int)
        self.principal = 0
        self.retired: dict[str, int] = defaultdict(int)

    def record(self, logs: list[dict[str, Any]]) -> None:
        ours = [log for log in logs if log["address"].lower() == self.series]
        released = set()
        for log in ours:
            t0 = bytes.fromhex(log["topics"][0][2:])
            if t0 == T_RELEASED:
                released.add((int(log["topics"][1], 16), _topic_address(log["topics"][2])))
        for log in ours:
            topics = log["topics"]
            t0 = bytes.fromhex(topics[0][2:])
            data = bytes.fromhex(log["data"][2:])
            if t0 in (T_PAYMENT_MADE, T_ESCROWED, T_OFFCHAIN):
                key = (int(topics[1], 16), _topic_address(topics[2]))
                if t0 == T_PAYMENT_MADE:
                    if key in released:
                        continue  # the payment of an escrow release: settled when escrowed
                    principal = decode(["address", "uint256", "uint256"], data[:96])[2]
                else:
                    principal = word(data, 1)
                self.settlements[key] += 1
                self.principal += principal
            elif t0 == T_RETIRED:
                self.retired[_topic_address(topics[1])] += word(data, 0)


class SeriesMachine(RuleBasedStateMachine):
    """Rules: registry, compliance, freezes, pause, transfers, agent paths, time, and every payment operation."""

    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        self.w = self.world
        self.m: Model = self.w.reset()
        self.ledger = Ledger(self.w.series)
        self.minted = self.m.minted
        self.burned_by_minter = 0
        self.last: dict[Any, Any] | None = None

    # ================================================================== plumbing

    def wallet(self, i: int) -> str:
        return ZERO if i >= len(self.w.wallets) else self.w.wallets[i]

    def _tx(self, name: str, sender: str, data: bytes, op: Any, to: str | None = None) -> Outcome:
        """Runs `op` on a fork of the model and the transaction on the chain; both must agree."""
        trial = self.m.fork()
        expected: Revert | None = None
        try:
            op(trial)
        except Revert as refusal:
            expected = refusal
        outcome = self.w.rpc.transact(sender, to or self.w.series, data)
        if outcome.ok:
            assert expected is None, f"{name}: the chain accepted what the model refuses ({expected})"
            self._label_effects(name, self.m, trial)
            self.m = trial
            self.ledger.record(outcome.logs)
            label(f"{name}: ok")
        else:
            failure = outcome.failure
            assert failure is not None
            assert expected is not None, f"{name}: the chain refused ({failure}) what the model accepts"
            assert failure.name == expected.name, f"{name}: chain refused with {failure}, model with {expected}"
            if failure.name == "TransferRestricted":
                assert failure.args[0] == expected.details[0], f"{name}: restriction {failure} vs {expected}"
                label(f"{name}: restricted {failure.args[0]}")
            else:
                label(f"{name}: {failure.name}")
        if currently_in_test_context():
            note(f"{name}: {'ok' if outcome.ok else outcome.failure}")
        return outcome

    @staticmethod
    def _label_effects(name: str, before: Model, after: Model) -> None:
        """Labels what an accepted operation did that matters for coverage (escrow, retirement, defaults)."""
        for _period, holder in after.escrow.keys() - before.escrow.keys():
            why = "frozen" if after.frozen[holder] else "unverified"
            label(f"{name}: escrowed a {why} holder's payment")
        retired = sum(map(before.pending_units, before.cfg.wallets)) - sum(map(after.pending_units, after.cfg.wallets))
        if retired > 0 and after.total_supply() < before.total_supply():
            label(f"{name}: burned retired units")
        for period, _ in after.settled - before.settled:
            label(f"{name}: settled {kind_of(after.periods[period].terms, period)}")
        if after.agg_of != before.agg_of:
            label(f"{name}: folded an investor's wallets into one aggregate")
        if sum(after.undelivered.values()) > sum(before.undelivered.values()):
            label(f"{name}: a refused delivery held for the holder")
        if sum(after.arrears.values()) > sum(before.arrears.values()):
            label(f"{name}: tax a tax account refused held as arrears")
        if after.open_defaults < before.open_defaults:
            label(f"{name}: ended a payment default")
        if after.open_defaults > before.open_defaults:
            label(f"{name}: payment default")
        for k, p in enumerate(after.periods):
            if k < len(before.periods) and p.cancelled and not before.periods[k].cancelled:
                label(f"{name}: cancelled a period")

    def _jump(self, latest: int, name: str) -> None:
        """The chain's latest block moves to `latest` (the next transaction runs one second later)."""
        if latest <= self.m.now:
            label(f"{name}: already passed")
            return
        self.w.rpc.mine_at(latest)
        self.m.advance(latest)
        label(name)

    def _tx_model(self) -> Model:
        """The model as the next transaction will see it (record times before its block have passed)."""
        trial = self.m.fork()
        trial.begin_tx()
        return trial

    def _future_events(self) -> list[tuple[int, str]]:
        tx_time = self.m.now + 1
        events: set[tuple[int, str]] = set()
        for p in self.m.live_periods():
            for t, kind in ((p.terms.record, "record"), (p.terms.payment, "payment"), (p.reclaim_after, "reclaim")):
                if t >= tx_time - 1:
                    events.add((t, kind))
        for r in self.m.records.values():
            if tx_time - 1 <= r.kyc_expiry < FAR_FUTURE:
                events.add((r.kyc_expiry, "kyc expiry"))
        return sorted(events)

    def _pick(self, pick: int, wild: int, candidates: list[int]) -> tuple[int, str]:
        if wild == 0 or not candidates:
            return pick % (len(self.m.periods) + 1), "wild"
        return candidates[pick % len(candidates)], "hinted"

    # ================================================================== set-up phase

    @initialize(
        phase=st.integers(0, 3),
        frozen=st.sampled_from([None, None, None, 0, 2, 3]),
        call=st.sampled_from([None, None, "partial 1/2", "full"]),
        blocked=st.sampled_from([None, None, None, 2, 6]),
    )
    def start(self, phase: int, frozen: int | None, call: str | None, blocked: int | None) -> None:
        """Start at the deployment or just before the record time of period `phase` (earlier periods unpaid),
        optionally with one wallet frozen, a call scheduled at the shortest notice, and the payment token
        refusing a holder (2) or the default tax account (6)."""
        if phase:
            self._jump(self.m.periods[phase].terms.record - 2 * 3600, f"start before record time {phase}")
        else:
            label("start at deployment")
        if frozen is not None:
            wallet = self.wallet(frozen)
            data = Abi.set_frozen.data(wallet, True)
            self._tx("freeze wallet (at start)", self.w.agent, data, lambda m: m.set_frozen(wallet, True))
        if call is not None:
            self.schedule_call(call, 0)
        if blocked is not None:
            self.cash_blocklist(blocked, True)

    # ================================================================== time

    @rule(offset=st.sampled_from([-1, 0, 1]))
    def advance_to_next_event(self, offset: int) -> None:
        """The next transaction runs just before, at, or just after the next record/payment/reclaim/KYC time."""
        events = [e for e in self._future_events() if e[0] + offset - 1 > self.m.now]
        if not events:
            self._jump(self.m.now + DAY, "time: a day (nothing scheduled)")
            return
        t, kind = events[0]
        self._jump(t + offset - 1, f"time: {kind} {offset:+d}")

    @rule(offset=st.sampled_from([-1, 0, 1]))
    def advance_to_next_payment(self, offset: int) -> None:
        """The next transaction runs just before, at, or just after the next payment time."""
        events = [e for e in self._future_events() if e[1] == "payment" and e[0] + offset - 1 > self.m.now]
        if not events:
            self._jump(self.m.now + DAY, "time: a day (no payment ahead)")
            return
        t, kind = events[0]
        self._jump(t + offset - 1, f"time: {kind} {offset:+d}")

    @rule(skip=st.integers(1, 4), offset=st.sampled_from([-1, 0, 1]))
    def advance_past_events(self, skip: int, offset: int) -> None:
        events = [e for e in self._future_events() if e[0] + offset - 1 > self.m.now]
        if not events:
            self._jump(self.m.now + 3 * DAY, "time: three days (nothing scheduled)")
            return
        t, kind = events[min(skip, len(events) - 1)]
        self._jump(t + offset - 1, f"time: later {kind} {offset:+d}")

    @rule(seconds=st.integers(1, 4 * DAY))
    def advance_by(self, seconds: int) -> None:
        self._jump(self.m.now + seconds, "time: random amount")

    # ================================================================== registry

    def _registration(self, i: int) -> Record:
        identity_n = WALLET_IDENTITY[i]
        return Record(identity_of(identity_n), JAPAN, 0, 0, IDENTITY_TAX_CLASS[identity_n], FAR_FUTURE)

    @rule(
        op=st.sampled_from(["register", "link", "update", "update", "delete"]),
        i=WALLET,
        j=WALLET,
        wild=WILD,
        country=st.sampled_from([JAPAN, JAPAN, USA]),
        tax_class=st.sampled_from(TAX_CLASSES_USED),
        expiry=st.sampled_from(["far", "far", "soon", "now"]),
    )
    def registry(self, op: str, i: int, j: int, wild: int, country: int, tax_class: int, expiry: str) -> None:
        """Register a wallet, link a further wallet to an investor, update an investor, delete a wallet."""
        registered = [k for k, w in enumerate(self.w.wallets) if w in self.m.records]
        unregistered = [k for k, w in enumerate(self.w.wallets) if w not in self.m.records]
        if wild and registered:
            i = registered[i % len(registered)]
        if wild and unregistered:
            j = unregistered[j % len(unregistered)]
        reg, registrar = self.w.registry, self.w.registrar
        if op == "register":
            wallet, r = self.wallet(j), self._registration(j)
            data = Abi.register.data(wallet, r.identity, r.country, 0, 0, r.tax_class, r.kyc_expiry)
            self._tx("register", registrar, data, lambda m: m.register(wallet, r), reg)
        elif op == "link":
            a, b = self.wallet(i), self.wallet(j)
            self._tx("link wallet", registrar, Abi.link.data(a, b), lambda m: m.link(a, b), reg)
        elif op == "update":
            wallet = self.wallet(i)
            kyc = {"far": FAR_FUTURE, "soon": self.m.now + 2 * DAY, "now": self.m.now + 1}[expiry]
            data = Abi.update.data(wallet, country, 0, 0, tax_class, kyc)
            what = f"{expiry} expiry" + (", not an allowed country" if country != JAPAN else "")
            self._tx(
                f"update investor ({what})", registrar, data, lambda m: m.update(wallet, country, tax_class, kyc), reg
            )
        else:
            wallet = self.wallet(i)
            self._tx("delete wallet", registrar, Abi.remove.data(wallet), lambda m: m.remove(wallet), reg)

    # ================================================================== compliance, freezes, pause

    @rule(kind=st.sampled_from(["max holders", "cap"]), choice=st.integers(0, 3))
    def compliance(self, kind: str, choice: int) -> None:
        if kind == "max holders":
            value = (0, 2, 3, 4)[choice]
            self._tx(
                "set max holders", self.w.admin, Abi.set_max_holders.data(value), lambda m: m.set_max_holders(value)
            )
        else:
            value = (0, 60, 120, 200)[choice]
            self._tx("set investor cap", self.w.admin, Abi.set_cap.data(value), lambda m: m.set_cap(value))

    @rule(
        kind=st.sampled_from(["wallet", "wallet", "partial", "partial", "unfreeze", "pause"]), i=WALLET, amount=AMOUNT
    )
    def freeze(self, kind: str, i: int, amount: tuple[str, int]) -> None:
        """Freeze or unfreeze a wallet, freeze or unfreeze some of its units, pause or unpause the token."""
        wallet = self.wallet(i)
        agent = self.w.agent
        if kind == "pause":
            on = not self.m.paused if amount[1] % 4 else self.m.paused
            data = (Abi.pause if on else Abi.unpause).data()
            self._tx("pause" if on else "unpause", agent, data, lambda m: m.set_paused(on))
        elif kind == "wallet":
            flag = not self.m.frozen[wallet] if amount[1] % 4 else self.m.frozen[wallet]
            data = Abi.set_frozen.data(wallet, flag)
            self._tx(f"{'freeze' if flag else 'unfreeze'} wallet", agent, data, lambda m: m.set_frozen(wallet, flag))
        elif kind == "partial":
            n = bounded(self.m.bal[wallet] - self.m.frozen_units[wallet], *amount)
            self._tx("freeze units", agent, Abi.freeze_partial.data(wallet, n), lambda m: m.freeze_partial(wallet, n))
        else:
            n = bounded(self.m.frozen_units[wallet], *amount)
            data = Abi.unfreeze_partial.data(wallet, n)
            self._tx("unfreeze units", agent, data, lambda m: m.unfreeze_partial(wallet, n))

    # ================================================================== balance changes

    def _movable(self, wallet: str) -> int:
        """Units an investor transfer may move now: not retired, not frozen."""
        m = self._tx_model()
        net = m.bal[wallet] - m.pending_units(wallet)
        return max(net - m.frozen_units[wallet], 0)

    @rule(frm=WALLET, to=RECEIVER, amount=AMOUNT, own=st.integers(0, 3))
    def transfer(self, frm: int, to: int, amount: tuple[str, int], own: int) -> None:
        """An investor transfer; with `own` == 0 to another wallet the token aggregates with the sender's."""
        a, b = self.wallet(frm), self.wallet(to)
        siblings = [w for w in self.w.wallets if w != a and self.m.agg_of.get(w, 0) == self.m.agg_of.get(a)]
        if own == 0 and siblings:
            b = siblings[to % len(siblings)]
        n = bounded(self._movable(a), *amount)
        expected_code = self.m.detect(a, b, n)
        detected = self.w.rpc.view(self.w.series, Abi.detect, a, b, n, block="pending")
        assert detected == expected_code, f"detectTransferRestriction {detected}, model {expected_code}"
        kind = "to another investor"
        if b != ZERO and self.m.agg_of.get(a) is not None and self.m.agg_of.get(a) == self.m.agg_of.get(b):
            kind = "between wallets of one investor"
        outcome = self._tx(f"transfer {kind}", a, Abi.transfer.data(b, n), lambda m: m.transfer(a, b, n))
        if outcome.ok and n and a != b:
            self._check_normal_transfer(a, b, outcome)

    def _check_normal_transfer(self, a: str, b: str, outcome: Outcome) -> None:
        """Independent of the model: the receiver was verified, allowed and not frozen, the sender not frozen,
        and the frozen units of the sender did not move (only retirement may shrink them)."""
        rpc, block, before = self.w.rpc, hex(outcome.block), hex(outcome.block - 1)
        assert rpc.view(self.w.registry, Abi.is_verified, b, block=block), "unverified receiver got units"
        assert rpc.view(self.w.registry, Abi.investor_country, b, block=block) == JAPAN, "receiver not allowed"
        assert not rpc.view(self.w.series, Abi.is_frozen, b, block=before), "frozen receiver got units"
        assert not rpc.view(self.w.series, Abi.is_frozen, a, block=before), "frozen sender moved units"
        frozen_before = rpc.view(self.w.series, Abi.frozen_tokens, a, block=before)
        balance_before = rpc.view(self.w.series, Abi.balance_of, a, block=before)
        retired = sum(
            word(bytes.fromhex(log["data"][2:]))
            for log in outcome.logs
            if log["topics"][0] == "0x" + T_RETIRED.hex() and _topic_address(log["topics"][1]) == a
        )
        frozen_after = rpc.view(self.w.series, Abi.frozen_tokens, a, block=block)
        assert frozen_after == min(frozen_before, balance_before - retired), "frozen units moved by a transfer"
        assert rpc.view(self.w.series, Abi.balance_of, a, block=block) >= frozen_after

    @rule(frm=AGENT_PARTY, to=AGENT_PARTY, amount=AMOUNT)
    def forced_transfer(self, frm: int, to: int, amount: tuple[str, int]) -> None:
        a, b = self.wallet(frm), self.wallet(to)
        m = self._tx_model()
        n = bounded(m.bal.get(a, 0) - m.pending_units(a), *amount)
        data = Abi.forced_transfer.data(a, b, n)
        self._tx("forced transfer", self.w.agent, data, lambda m: m.forced_transfer(a, b, n))

    @rule(lost=WALLET, new=WALLET, wrong=st.integers(0, 9))
    def recover(self, lost: int, new: int, wrong: int) -> None:
        a, b = self.wallet(lost), self.wallet(new)
        same = [k for k, w in enumerate(self.w.wallets) if k != lost and self.m.identity(w) == self.m.identity(a)]
        if wrong and same and self.m.identity(a) != ZERO:
            b = self.wallet(same[new % len(same)])
        identity = identity_of(9) if wrong == 0 else self.m.identity(b)
        data = Abi.recovery.data(a, b, identity)
        self._tx("recovery", self.w.agent, data, lambda m: m.recover(a, b, identity))

    @rule(i=AGENT_PARTY, amount=st.integers(0, 90))
    def mint(self, i: int, amount: int) -> None:
        wallet = self.wallet(i)
        outcome = self._tx("mint", self.w.agent, Abi.mint.data(wallet, amount), lambda m: m.mint(wallet, amount))
        if outcome.ok:
            self.minted += amount

    @rule(i=AGENT_PARTY, amount=AMOUNT)
    def burn(self, i: int, amount: tuple[str, int]) -> None:
        wallet = self.wallet(i)
        m = self._tx_model()
        n = bounded(max(m.bal.get(wallet, 0) - m.pending_units(wallet) - m.frozen_units.get(wallet, 0), 0), *amount)
        outcome = self._tx("burn", self.w.agent, Abi.burn.data(wallet, n), lambda m: m.burn(wallet, n))
        if outcome.ok:
            self.burned_by_minter += n

    # ================================================================== payments

    def _record_passed(self) -> bool:
        return any(p.terms.record < self.m.now + 1 for p in self.m.live_periods())

    @staticmethod
    def _shortfall(m: Model, period: int) -> int:
        """The period's shortfall as the next transaction sees it, or 0 when it has none (yet)."""
        try:
            p = m.periods[period]
            return 0 if p.cancelled or p.closed else m.shortfall(period)
        except (Revert, IndexError, KeyError):
            return 0

    def _fund(self, period: int, kind: str, how: str) -> None:
        m = self._tx_model()
        shortfall = self._shortfall(m, period) or 1
        amount = {"full": shortfall, "part": max(shortfall // 2, 1), "over": shortfall + 1, "zero": 0}[kind]
        data = Abi.fund.data(period, amount)
        self._tx(f"fund ({kind}, {how})", self.w.payer, data, lambda m: m.fund(period, amount))

    @precondition(lambda self: self._record_passed())
    @rule(pick=PICK, wild=WILD, kind=st.sampled_from(["full", "full", "part", "over", "zero"]))
    def fund(self, pick: int, wild: int, kind: str) -> None:
        m = self._tx_model()
        candidates = [
            k
            for k, p in enumerate(m.periods)
            if not p.cancelled and not p.closed and p.terms.record < m.now and m.shortfall(k) > 0
        ]
        period, how = self._pick(pick, wild, candidates)
        self._fund(period, kind, how)

    def _unsettled(self, m: Model, period: int) -> list[str]:
        return [w for w in self.w.wallets if (period, w) not in m.settled and any(m.entitlement(period, w))]

    def _due_periods(self, m: Model, funded: bool) -> list[int]:
        """Live periods past their payment time with holders still to settle (and fully covered if `funded`)."""
        return [
            k
            for k, p in enumerate(m.periods)
            if not p.cancelled
            and not p.closed
            and p.terms.payment <= m.now
            and self._unsettled(m, k)
            and (not funded or m.shortfall(k) == 0)
        ]

    @precondition(lambda self: self._record_passed())
    @rule(
        pick=PICK, wild=WILD, holders=st.sets(WALLET, min_size=1), everyone=st.integers(0, 2), fund_first=st.booleans()
    )
    def push(self, pick: int, wild: int, holders: set[int], everyone: int, fund_first: bool) -> None:
        """A push batch, funding the period's shortfall first when `fund_first` (the payer's usual sequence)."""
        m = self._tx_model()
        period, how = self._pick(pick, wild, self._due_periods(m, funded=not fund_first))
        if fund_first and self._shortfall(m, period):
            self._fund(period, "full", "before a push")
        batch = list(self.w.wallets) if everyone else [self.wallet(i) for i in sorted(holders)]  # 2 in 3: everyone
        data = Abi.push.data(period, batch)
        self._tx(
            f"push ({'everyone' if everyone else 'some'}, {how})", self.w.payer, data, lambda m: m.push(period, batch)
        )

    @precondition(lambda self: self._record_passed())
    @rule(i=WALLET, picks=st.lists(PICK, min_size=1, max_size=3), wild=WILD)
    def claim(self, i: int, picks: list[int], wild: int) -> None:
        """claim(period), or claimMany(periods) when more than one period is picked; hinted: a holder with
        something to claim claims it."""
        m = self._tx_model()
        due = self._due_periods(m, funded=True)
        claimants = [k for k, w in enumerate(self.w.wallets) if any(w in self._unsettled(m, p) for p in due)]
        if wild and claimants:
            i = claimants[i % len(claimants)]
        wallet = self.wallet(i)
        mine = [k for k in due if wallet in self._unsettled(m, k)]
        chosen = [self._pick(p, wild, mine) for p in picks]
        how = chosen[0][1]
        periods = [k for k, _ in chosen]
        if how == "hinted":
            periods = sorted(set(periods))
        if len(picks) == 1:
            period = periods[0]
            self._tx(f"claim ({how})", wallet, Abi.claim.data(period), lambda m: m.claim(wallet, [period]))
        else:
            data = Abi.claim_many.data(periods)
            self._tx(f"claimMany ({how})", wallet, data, lambda m: m.claim(wallet, periods))

    @precondition(lambda self: self._record_passed())
    @rule(pick=PICK, wild=WILD, holders=st.sets(WALLET, min_size=1, max_size=3))
    def offchain(self, pick: int, wild: int, holders: set[int]) -> None:
        m = self._tx_model()
        candidates = [
            k for k, p in enumerate(m.periods) if not p.cancelled and p.terms.record < m.now and self._unsettled(m, k)
        ]
        period, how = self._pick(pick, wild, candidates)
        batch = [self.wallet(i) for i in sorted(holders)]
        if how == "hinted":
            due = self._unsettled(m, period)
            batch = sorted({due[i % len(due)] for i in holders})
        refs = [keccak(text=f"bank {period} {w}") for w in batch]
        data = Abi.offchain.data(period, batch, refs)
        self._tx(f"off-chain record ({how})", self.w.payer, data, lambda m: m.record_offchain(period, batch))

    @precondition(lambda self: bool(self.m.escrow) or self._record_passed())
    @rule(
        pick=PICK,
        to=st.sampled_from(["holder", "holder", "same investor", "any"]),
        i=WALLET,
        wild=WILD,
        restore=st.booleans(),
    )
    def release(self, pick: int, to: str, i: int, wild: int, restore: bool) -> None:
        """Release an escrowed payment to the holder or another wallet of its investor; with `restore`, first make
        the receiver eligible again (unfreeze it, renew its KYC), as an operator would."""
        escrows = sorted(self.m.escrow)
        if wild and escrows:
            period, holder = escrows[pick % len(escrows)]
            how = "hinted"
        else:
            period, holder, how = pick % (len(self.m.periods) + 1), self.wallet(i), "wild"
        receiver = holder
        if to == "same investor":
            others = [w for w in self.w.wallets if w != holder and self.m.identity(w) == self.m.identity(holder)]
            receiver = others[i % len(others)] if others else holder
        elif to == "any":
            receiver = self.wallet(i)
        if restore and how == "hinted":
            if self.m.frozen[receiver]:
                data = Abi.set_frozen.data(receiver, False)
                self._tx(
                    "unfreeze wallet (before a release)", self.w.agent, data, lambda m: m.set_frozen(receiver, False)
                )
            r = self.m.records.get(receiver)
            if r is not None and not self.m.verified(receiver, self.m.now + 1):
                data = Abi.update.data(receiver, JAPAN, 0, 0, r.tax_class, FAR_FUTURE)
                self._tx(
                    "renew KYC (before a release)",
                    self.w.registrar,
                    data,
                    lambda m: m.update(receiver, JAPAN, r.tax_class, FAR_FUTURE),
                    self.w.registry,
                )
        kind = "to the holder" if receiver == holder else f"to {to}"
        data = Abi.release.data(period, holder, receiver)
        self._tx(f"release escrow {kind} ({how})", self.w.payer, data, lambda m: m.release(period, holder, receiver))

    @precondition(lambda self: self._record_passed())
    @rule(pick=PICK, wild=WILD)
    def reclaim(self, pick: int, wild: int) -> None:
        m = self._tx_model()
        candidates = [k for k, p in enumerate(m.periods) if not p.closed and m.now >= p.reclaim_after]
        period, how = self._pick(pick, wild, candidates)
        data = Abi.reclaim.data(period, self.w.treasury)
        self._tx(f"reclaim ({how})", self.w.payer, data, lambda m: m.reclaim(period))

    @rule()
    def sweep_tax(self) -> None:
        classes = list(TAX_CLASSES_USED)
        self._tx("sweep tax", self.w.payer, Abi.sweep.data(classes), lambda m: m.sweep(classes))

    @precondition(lambda self: self._record_passed())
    @rule(pick=PICK, wild=WILD)
    def mark_default(self, pick: int, wild: int) -> None:
        m = self._tx_model()
        candidates = [
            k
            for k, p in enumerate(m.periods)
            if not p.cancelled and not p.closed and not p.defaulted and p.terms.payment <= m.now and m.shortfall(k)
        ]
        period, how = self._pick(pick, wild, candidates)
        self._tx(f"mark default ({how})", self.w.payer, Abi.mark_default.data(period), lambda m: m.mark_default(period))

    # ------------------------------------------------------------------ a payment token that refuses transfers

    @rule(k=st.integers(0, 7), on=st.booleans())
    def cash_blocklist(self, k: int, on: bool) -> None:
        """The payment token blocks or unblocks a holder or a tax account (a stablecoin's blocklist)."""
        w = self.w
        account = w.wallets[k] if k < len(w.wallets) else (w.tax_account, w.local_tax_account)[k - len(w.wallets)]
        who = "a holder" if k < len(w.wallets) else "a tax account"
        data = Abi.cash_set_blocked.data(account, on)
        self._tx(
            f"payment token {'blocks' if on else 'unblocks'} {who}",
            w.admin,
            data,
            lambda m: m.set_blocked(account, on),
            w.cash,
        )

    def _unblock(self, account: str) -> None:
        if account in self.m.blocked:
            data = Abi.cash_set_blocked.data(account, False)
            self._tx(
                "payment token unblocks (first)",
                self.w.admin,
                data,
                lambda m: m.set_blocked(account, False),
                self.w.cash,
            )

    @precondition(lambda self: bool(self.m.undelivered) or self._record_passed())
    @rule(
        op=st.sampled_from(["collect", "release"]),
        i=WALLET,
        to=st.sampled_from(["holder", "holder", "same investor", "any"]),
        wild=WILD,
        unblock=st.booleans(),
    )
    def undelivered(self, op: str, i: int, to: str, wild: int, unblock: bool) -> None:
        """The holder collects, or the payer releases, a net a push could not deliver."""
        owed = sorted(self.m.undelivered)
        holder = owed[i % len(owed)] if wild and owed else self.wallet(i)
        how = "hinted" if wild and owed else "wild"
        receiver = holder
        if to == "same investor":
            others = [w for w in self.w.wallets if w != holder and self.m.identity(w) == self.m.identity(holder)]
            receiver = others[i % len(others)] if others else holder
        elif to == "any":
            receiver = self.wallet((i + 1) % len(self.w.wallets))
        if unblock:
            self._unblock(receiver)
        kind = "to the holder" if receiver == holder else f"to {to}"
        if op == "collect":
            data = Abi.collect_undelivered.data(receiver)
            self._tx(
                f"collect undelivered {kind} ({how})", holder, data, lambda m: m.collect_undelivered(holder, receiver)
            )
        else:
            data = Abi.release_undelivered.data(holder, receiver)
            self._tx(
                f"release undelivered {kind} ({how})",
                self.w.payer,
                data,
                lambda m: m.release_undelivered(holder, receiver),
            )

    @precondition(lambda self: bool(self.m.arrears) or self._record_passed())
    @rule(k=st.integers(0, 1), redirect=st.booleans(), wild=WILD, unblock=st.booleans())
    def tax_arrears(self, k: int, redirect: bool, wild: int, unblock: bool) -> None:
        """Tax a tax account could not receive: paid to it once it can (anyone), or redirected by the admin."""
        owed = sorted(self.m.arrears)
        account = owed[k % len(owed)] if wild and owed else (self.w.tax_account, self.w.local_tax_account)[k]
        how = "hinted" if wild and owed else "wild"
        if redirect:
            to = self.w.treasury
            data = Abi.redirect_tax_arrears.data(account, to)
            self._tx(f"redirect tax arrears ({how})", self.w.admin, data, lambda m: m.pay_tax_arrears(account, to))
        else:
            if unblock:
                self._unblock(account)
            data = Abi.pay_tax_arrears.data(account)
            self._tx(f"pay tax arrears ({how})", self.w.payer, data, lambda m: m.pay_tax_arrears(account))

    # ------------------------------------------------------------------ schedule changes (admin)

    @rule(
        kind=st.sampled_from(["partial 1/2", "partial 1/4", "full", "short notice"]),
        days=st.integers(0, 12),
    )
    def schedule_call(self, kind: str, days: int) -> None:
        tx_time = self.m.now + 1
        payment = tx_time + self.m.cfg.call_notice + days * DAY + 3600
        if kind == "short notice":
            payment = tx_time + self.m.cfg.call_notice - 1
        fraction = {"partial 1/2": Fraction(1, 2), "partial 1/4": Fraction(1, 4)}.get(kind, Fraction(1))
        terms = Terms(payment - DAY // 2, payment, Fraction(17, 3), Fraction(FACE), fraction)
        data = Abi.schedule_call.data(terms.as_tuple())
        self._tx(f"call ({kind})", self.w.admin, data, lambda m: m.schedule_call(terms))

    def _amendable(self) -> list[int]:
        now = self.m.now + 1
        return [
            k
            for k, p in enumerate(self.m.periods)
            if not p.cancelled and not p.closed and p.terms.record > now and not p.funded and not p.offchain
        ]

    @rule(pick=PICK, variant=st.sampled_from(["coupon", "shift", "retirement", "past record time"]), wild=WILD)
    def amend(self, pick: int, variant: str, wild: int) -> None:
        period, how = self._pick(pick, wild, self._amendable())
        old = self.m.periods[min(period, len(self.m.periods) - 1)].terms
        if variant == "coupon":
            terms = Terms(old.record, old.payment, Fraction(170, 3), old.principal, old.redeem)
        elif variant == "shift":
            terms = Terms(old.record + 3 * 3600, old.payment + 3 * 3600, old.coupon, old.principal, old.redeem)
        elif variant == "retirement":
            if old.redeem:
                terms = Terms(old.record, old.payment, old.coupon)  # a retiring period becomes a plain coupon
            else:
                terms = Terms(old.record, old.payment, old.coupon, Fraction(FACE), Fraction(1, 4))
        else:
            terms = Terms(self.m.now, old.payment, old.coupon, old.principal, old.redeem)
        data = Abi.amend.data(period, terms.as_tuple())
        self._tx(f"amend ({variant}, {how})", self.w.admin, data, lambda m: m.amend(period, terms))

    # ================================================================== the invariant

    # What the invariant reads depends only on the shape of the schedule (record times passed, periods and which
    # of them are readable), so the calls and their packed calldata are built once per shape and shared by every
    # sequence.
    _reads: ClassVar[dict[tuple[Any, ...], tuple[list[tuple[Any, str, str]], list[tuple[str, bytes]], bytes]]] = {}

    def _calls(self) -> tuple[list[tuple[Any, str, str]], list[tuple[str, bytes]], bytes]:
        """(key, target, decoder) of every value the invariant compares, the (target, calldata) pairs, readAll data."""
        m = self.m
        passed = tuple(t for t in m.record_times() if t < m.now)
        readable = tuple(k for k, p in enumerate(m.periods) if not p.cancelled and p.terms.record < m.now)
        shape = (passed, len(m.periods), readable, tuple(m.cash))
        cached = self._reads.get(shape)
        if cached is None:
            calls = self._build_calls(passed, len(m.periods), readable, tuple(m.cash))
            pairs = [(target, data) for _, target, data, _ in calls]
            cached = ([(key, target, kind) for key, target, _, kind in calls], pairs, self.w.reader.encode(pairs))
            self._reads[shape] = cached
        return cached

    def _build_calls(
        self, passed: tuple[int, ...], periods: int, readable: tuple[int, ...], cash_accounts: tuple[str, ...]
    ) -> list[tuple[Any, str, bytes, str]]:
        w = self.w
        s, reg, cash = w.series, w.registry, w.cash
        calls: list[tuple[Any, str, bytes, str]] = [
            (("supply",), s, Abi.total_supply.data(), "int"),
            (("holders",), s, Abi.holder_count.data(), "int"),
            (("paused",), s, Abi.paused.data(), "bool"),
            (("closes",), s, Abi.closes.data(), "bool"),
            (("record times",), s, Abi.record_times.data(), "array"),
            (("periods",), s, Abi.period_count.data(), "int"),
            (("open defaults",), s, Abi.open_defaults.data(), "int"),
            (("committed",), s, Abi.committed.data(), "int"),
            (("tax arrears", w.tax_account), s, Abi.tax_arrears.data(w.tax_account), "int"),
            (("tax arrears", w.local_tax_account), s, Abi.tax_arrears.data(w.local_tax_account), "int"),
        ]
        for a in w.wallets:
            calls += [
                (("balance", a), s, Abi.balance_of.data(a), "int"),
                (("frozen", a), s, Abi.is_frozen.data(a), "bool"),
                (("frozen units", a), s, Abi.frozen_tokens.data(a), "int"),
                (("aggregation", a), s, Abi.account_state.data(a), "agg"),
                (("record", a), reg, Abi.record.data(a), "int"),
                (("undelivered", a), s, Abi.undelivered.data(a), "int"),
            ]
            if w.has_pending_view:
                calls.append((("pending retirement", a), s, Abi.pending_retirement.data(a), "int"))
        for a in cash_accounts:
            calls.append((("cash", a), cash, Abi.cash_balance.data(a), "int"))
        for t in passed:
            calls.append((("supply at", t), s, Abi.total_supply_at.data(t), "int"))
            calls += [(("balance at", a, t), s, Abi.balance_of_at.data(a, t), "int") for a in w.wallets]
        for k in range(periods):
            calls += [
                (("accounts", k), s, Abi.accounts.data(k), "words"),
                (("state", k), s, Abi.period_state.data(k), "words"),
            ]
        for k in readable:
            calls.append((("shortfall", k), s, Abi.shortfall.data(k), "int"))
            for a in w.wallets:
                calls += [
                    (("entitlement", k, a), s, Abi.entitlement.data(k, a), "words"),
                    (("settled", k, a), s, Abi.is_settled.data(k, a), "bool"),
                    (("escrow", k, a), s, Abi.escrow_of.data(k, a), "int"),
                ]
        calls += [(("tax pending", c), s, Abi.tax_pending.data(c), "array") for c in TAX_CLASSES_USED]
        return calls

    @staticmethod
    def _decode(kind: str, raw: bytes) -> Any:
        if kind == "int":
            return word(raw)
        if kind == "bool":
            return word(raw) == 1
        if kind == "agg":
            return (to_checksum_address(raw[96 + 12 : 128]), word(raw, 4))
        if kind == "array":
            n = word(raw, 1)
            return tuple(word(raw, 2 + i) for i in range(n))
        return tuple(word(raw, i) for i in range(len(raw) // 32))

    def _expected(self, key: tuple[Any, ...]) -> Any:
        m = self.m
        what = key[0]
        if what == "supply":
            return m.total_supply()
        if what == "holders":
            return m.holder_count()
        if what == "paused":
            return m.paused
        if what == "closes":
            return m.closes()
        if what == "record times":
            return tuple(m.record_times())
        if what == "periods":
            return len(m.periods)
        if what == "open defaults":
            return m.open_defaults
        if what == "committed":
            return m.committed()
        if what == "tax arrears":
            return m.arrears.get(key[1], 0)
        if what == "undelivered":
            return m.undelivered.get(key[1], 0)
        if what == "balance":
            return m.bal[key[1]]
        if what == "frozen":
            return m.frozen[key[1]]
        if what == "frozen units":
            return m.frozen_units[key[1]]
        if what == "aggregation":
            return m.account_aggregation(key[1])
        if what == "record":
            r = m.records.get(key[1])
            return pack_record(r) if r else 0
        if what == "pending retirement":
            return m.pending_units(key[1])
        if what == "cash":
            return m.cash[key[1]]
        if what == "supply at":
            return m.supply_at[key[1]]
        if what == "balance at":
            return m.units_at[key[2]][key[1]]
        if what == "accounts":
            p = m.periods[key[1]]
            return (
                p.funded,
                p.paid_net,
                p.tax_withheld,
                p.escrowed,
                p.reclaimed,
                p.held,
                p.offchain,
                p.funded - p.held - p.reclaimed,
            )
        if what == "state":
            p = m.periods[key[1]]
            known = p.required is not None
            return (
                p.reclaim_after,
                int(p.cancelled),
                int(p.defaulted),
                int(p.closed),
                int(known),
                p.required if known else 0,
                p.funded,
            )
        if what == "shortfall":
            return m.shortfall(key[1])
        if what == "entitlement":
            return m.entitlement(key[1], key[2])
        if what == "settled":
            return m.is_settled(key[1], key[2])
        if what == "escrow":
            return sum(m.escrow.get((key[1], key[2]), (0, 0)))
        if what == "tax pending":
            return tuple(m.tax_pending.get(key[1], ()))
        raise AssertionError(key)

    def read_chain(self) -> dict[Any, Any]:
        keys, pairs, data = self._calls()
        results = self.w.reader.read(pairs, data)
        values: dict[Any, Any] = {}
        for (key, _, kind), (ok, raw) in zip(keys, results, strict=True):
            values[key] = self._decode(kind, raw) if ok else ("reverted", self.w.rpc.errors.decode(raw).name)
        return values

    @invariant()
    def state_matches_model(self) -> None:
        chain = self.read_chain()
        diffs = [(k, v, self._expected(k)) for k, v in chain.items() if v != self._expected(k)]
        assert not diffs, "chain != model:\n" + "\n".join(f"  {k}: chain {v}, model {e}" for k, v, e in diffs[:12])
        self._check_chain_properties(chain)
        self.last = chain

    def _check_chain_properties(self, chain: dict[Any, Any]) -> None:
        """What must hold whatever the model says (from the chain values and the series' events only)."""
        w = self.w
        balances = [chain[("balance", a)] for a in w.wallets]
        assert chain[("supply",)] == sum(balances), "totalSupply != sum of balances"
        for a in w.wallets:
            assert chain[("frozen units", a)] <= chain[("balance", a)], "more units frozen than held"
        held_and_escrowed = 0
        for k in range(chain[("periods",)]):
            funded, paid, tax, escrowed, reclaimed, held, _, _ = chain[("accounts", k)]
            assert funded == paid + tax + escrowed + reclaimed + held, f"period {k} does not conserve its funding"
            held_and_escrowed += held + escrowed
        pending_tax = sum(sum(chain[("tax pending", c)]) for c in TAX_CLASSES_USED)
        owed = sum(chain[("undelivered", a)] for a in w.wallets)
        owed += chain[("tax arrears", w.tax_account)] + chain[("tax arrears", w.local_tax_account)]
        assert chain[("committed",)] == held_and_escrowed + pending_tax + owed, "committedFunds is not the sum"
        assert chain[("cash", w.series)] == chain[("committed",)], "the series' cash is not what it owes"
        twice = [key for key, n in self.ledger.settlements.items() if n > 1]
        assert not twice, f"settled more than once: {twice}"
        assert self.ledger.principal <= FACE * (self.minted - self.burned_by_minter), (
            f"principal paid {self.ledger.principal} > face x units issued {self.minted - self.burned_by_minter}"
        )
        # once the final redemption (every retirement of the whole holding, the series closing after the last
        # record time) has paid everyone it retired, nothing is left
        times = chain[("record times",)]
        if chain[("closes",)] and times and all(t < self.m.now for t in times):
            finals = [
                k for k, p in enumerate(self.m.periods) if p.terms.full and ("entitlement", k, w.wallets[0]) in chain
            ]
            everyone_paid = all(
                chain[("settled", k, a)] or not any(chain[("entitlement", k, a)]) for k in finals for a in w.wallets
            )
            if finals and everyone_paid:
                label("final redemption paid to everyone")
                assert chain[("supply",)] == 0, "units left after the final redemption paid everyone"


SeriesMachine.TestCase.settings = machine_settings()


@pytest.fixture(scope="module")
def machine_world(series_world: World) -> World:
    SeriesMachine.world = series_world
    if profile_name() == "fuzz":
        from hypothesis import seed

        seed(FUZZ_SEED)(SeriesMachine)
    return series_world


@pytest.mark.usefixtures("machine_world")
class TestSeriesModel(SeriesMachine.TestCase):  # type: ignore[name-defined,misc]
    """The generated sequences (300 in CI, see conftest.py)."""


# ====================================================================== regressions
# Sequences the machine found, replayed step by step with the invariant after each step (as Hypothesis runs them).


def replay(steps: list[tuple[str, dict[str, Any]]]) -> None:
    machine = SeriesMachine()
    machine.state_matches_model()
    for name, arguments in steps:
        getattr(machine, name)(**arguments)
        machine.state_matches_model()
    machine.teardown()


START = ("start", {"phase": 0, "frozen": None, "call": None, "blocked": None})


@pytest.mark.usefixtures("machine_world")
def test_retired_units_cannot_be_moved() -> None:
    """The High defect (fixed by retirement at the record time), as the machine found it with the fix reverted: once
    the amortization's record time has passed, a holder could still move the quarter it retired (here to its own
    second wallet), escaping the burn and being paid for it again; detectTransferRestriction said 0, the model 4."""
    replay(
        [
            ("start", {"phase": 2, "frozen": None, "call": None, "blocked": None}),
            ("transfer", {"amount": ("over", 1), "frm": 0, "own": 0, "to": 0}),
        ]
    )


@pytest.mark.usefixtures("machine_world")
def test_later_record_dates_exclude_retired_units() -> None:
    """Also found with the fix reverted: the balance at the record time after the amortization (and so that
    period's coupon) still counted the retired units."""
    replay([("start", {"phase": 3, "frozen": None, "call": None, "blocked": None})])


@pytest.mark.usefixtures("machine_world")
def test_a_partial_call_retires_once_and_maturity_pays_the_rest() -> None:
    """The High defect's scenario end to end: a partial call's record time passes, the holder moves what it still
    owns, the call and then the final redemption are paid to everyone; each unit's principal is paid once and
    nothing is left (the invariant checks principal <= face x units and supply 0 after the final payment)."""
    replay(
        [
            ("start", {"phase": 2, "frozen": None, "call": "partial 1/2", "blocked": None}),
            ("advance_past_events", {"skip": 2, "offset": 1}),  # the call's record time has just passed
            ("transfer", {"amount": ("over", 1), "frm": 2, "own": 1, "to": 0}),  # retired units cannot move
            ("transfer", {"amount": ("all", 1), "frm": 2, "own": 1, "to": 0}),  # what the holder still owns can
            ("advance_to_next_payment", {"offset": 1}),
            ("push", {"pick": 4, "wild": 0, "holders": {0}, "everyone": 1, "fund_first": True}),  # the call
            ("advance_to_next_payment", {"offset": 1}),
            ("push", {"pick": 3, "wild": 0, "holders": {0}, "everyone": 1, "fund_first": True}),  # final redemption
            ("release", {"pick": 0, "to": "holder", "i": 3, "wild": 1, "restore": True}),
        ]
    )


@pytest.mark.usefixtures("machine_world")
def test_burn_from_the_zero_address_is_refused() -> None:
    """Found by the machine: burn(0x0, n) succeeded and added n to totalSupply (fixed on main: restriction 15)."""
    replay([START, ("burn", {"amount": ("some", 1), "i": 6})])


@pytest.mark.usefixtures("machine_world")
def test_mint_to_the_zero_address_is_refused() -> None:
    """mint(0x0, n) succeeded and added n to totalSupply without any balance."""
    replay([START, ("mint", {"amount": 5, "i": 6})])


@pytest.mark.usefixtures("machine_world")
def test_forced_transfer_to_the_zero_address_is_refused() -> None:
    """Found by the machine: forcedTransfer(holder, 0x0, n) burned n (frozen units too): the transfer agent
    reached the minter's burn."""
    replay([START, ("forced_transfer", {"amount": ("some", 1), "frm": 4, "to": 6})])


@pytest.mark.usefixtures("machine_world")
def test_forced_transfer_from_the_zero_address_is_refused() -> None:
    """forcedTransfer(0x0, holder, n) minted n to a verified holder: the transfer agent reached the minter's mint."""
    replay([START, ("forced_transfer", {"amount": ("some", 5), "frm": 6, "to": 2})])


@pytest.mark.usefixtures("machine_world")
def test_detect_sees_the_holder_count_after_pending_retirements() -> None:
    """A full call followed by a partial call (so the series stays open): once the full call's record time has
    passed every earlier holder's units are retired but not yet burned. A transfer to such a holder burns them
    first, so the holder count drops before the new holder is counted and the transfer succeeds under max holders
    4; detectTransferRestriction still counts the retired holders and answers 9 (MAX_HOLDERS_REACHED)."""
    replay(
        [
            ("start", {"phase": 0, "frozen": None, "call": "full", "blocked": None}),
            ("schedule_call", {"kind": "partial 1/2", "days": 0}),
            (
                "registry",
                {"op": "register", "i": 0, "j": 4, "wild": 0, "country": JAPAN, "tax_class": 0, "expiry": "far"},
            ),
            ("advance_to_next_event", {"offset": 1}),  # the full call's record time has passed
            ("mint", {"i": 4, "amount": 10}),
            ("transfer", {"frm": 4, "to": 2, "amount": ("some", 3), "own": 1}),
        ]
    )
