"""Model-based test of settlement: secondary trades and a primary subscription book on the model series.

The world of tests/stateful/world.py (the series with payment code, its registry, MockHostilePaymentToken as
cash) plus a TradeSettlement holding the series' FREEZER_ROLE and a SubscriptionBook holding its MINTER_ROLE,
deployed once per module; every generated sequence starts from an `evm_revert` to that set-up. Rules agree,
settle (on-chain cash, confirmed bank payment, hash lock), cancel and release trades, and commit, withdraw,
allot (pro rata, first come, explicit; in batches, sometimes broken on purpose), finalize, settle in batches,
cancel, refund and claim on the book, interleaved with record times passing, partial calls, freezes, the pause,
registry changes, the cap and the payment token's blocklist. Each rule runs on a fork of the reference model
(tests/stateful/settlement_model.py over tests/stateful/model.py) and on the chain: the chain must accept
exactly what the model accepts and refuse the rest with the same error.

After every step the invariant reads the state in one call and compares it with the model (balances, partial
freezes, record-date balances, pending retirements, cash balances, the book's state, commitments and held
refunds, every trade's status, the settlement's locked units per seller), then checks what must hold whatever the
model says, from the chain and the events only:
* total supply = sum of the balances (every holder is a known wallet);
* the book's cash: committed - withdrawn = proceeds + refunds paid + the book's balance, and the book's balance =
  the unsettled, unrefunded commitments + the held refunds + the held proceeds;
* no unit minted twice: each investor settled at most once, the units minted in the book's settlements are the
  units its `Settled` events report, never more than allotted to that investor nor than offered;
* nothing settles after expiry, no trade settles twice, a settled trade was agreed before;
* locked units stay the seller's for record dates: when a record time passes, the seller's balance at it is its
  balance net of retirements just before, locked units included.

Sizes (HYPOTHESIS_PROFILE): `ci` 100 sequences of 40 steps (derandomized, ~1.5 minutes), `fuzz` as
tests/stateful/conftest.py.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, ClassVar

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import currently_in_test_context, event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from munibond.trades import DOMAIN_NAME, DOMAIN_VERSION, TRADE_TYPES
from tests.stateful.conftest import FUZZ_SEED, machine_settings, profile_name
from tests.stateful.model import ZERO, Record, Revert, Terms
from tests.stateful.rpc import ErrorDecoder, Fn, Outcome, Rpc, word
from tests.stateful.settlement_model import (
    ALLOTTED,
    ALLOTTED_FLAG,
    EXPLICIT,
    FIRST_COME,
    HASHLOCK,
    OFFCHAIN,
    ONCHAIN,
    PRO_RATA,
    REFUNDED_FLAG,
    SETTLED_FLAG,
    T_NONE,
    BookTerms,
    SettlementModel,
    Trade,
)
from tests.stateful.world import DAY, FACE, JAPAN, USA, WALLET_IDENTITY, Abi, World, deploy_world, identity_of

PRICE = FACE  # cash per book unit
OFFERED = 120
WALLET_CASH = 10**11  # minted to every wallet at set-up
TRADE = "(address,address,address,uint256,address,uint256,uint64,uint8,bytes32,address,uint256)"
WALLET = st.integers(0, 5)
INVESTOR = st.sampled_from([0, 1, 2, 3, 0, 2, 3, 4, 5])  # registered wallets more often than the others
BATCH = st.lists(st.integers(0, 5), min_size=1, max_size=4)  # duplicates too: a batch may repeat a wallet
SOME = st.integers(1, 80)


class SAbi:
    """The settlement contracts' functions the machine calls."""

    commit = Fn("commit", ("uint256",))
    withdraw = Fn("withdraw", ("uint256",))
    allot = Fn("allot", ("uint8", "address[]", "uint256[]"))
    finalize = Fn("finalizeAllotment")
    settle = Fn("settle", ("address[]",))
    cancel = Fn("cancel")
    refund = Fn("refund", ("address[]",))
    claim = Fn("claim", ("address",))
    state = Fn("state", (), ("uint8", "uint8", "uint256", "uint256", "uint256", "uint256", "uint256"))
    commitment = Fn("commitmentOf", ("address",), ("(uint96,uint96,uint32,uint8)",))
    held = Fn("heldRefund", ("address",), ("uint256",))
    held_proceeds = Fn("heldProceeds", (), ("uint256",))
    agree = Fn("agree", (TRADE, "bytes", "bytes"), ("bytes32",))
    settle_trade = Fn("settle", (TRADE,))
    confirm = Fn("confirmPayment", (TRADE, "bytes32"))
    claim_trade = Fn("claim", (TRADE, "bytes32"))
    cancel_trade = Fn("cancel", (TRADE,))
    release = Fn("release", (TRADE,))
    trade_status = Fn("tradeStatus", ("bytes32",), ("uint8",))
    locked_units = Fn("lockedUnits", ("address", "address"), ("uint256",))
    trade_id = Fn("tradeId", (TRADE,), ("bytes32",))


def label(name: str) -> None:
    if currently_in_test_context():
        event(name)


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


T_COMMITTED = topic("Committed(address,uint256,uint256,uint256,uint256,uint256,uint256)")
T_WITHDRAWN = topic("Withdrawn(address,uint256,uint256,uint256,uint256,uint256)")
T_SETTLED = topic("Settled(address,uint256,uint256,uint256,uint256,uint256)")
T_REFUNDED = topic("Refunded(address,uint256,uint256)")
T_PROCEEDS = topic("ProceedsPaid(address,uint256,uint256)")
T_TRANSFER = topic("Transfer(address,address,uint256)")
T_TRADE_AGREED = topic(f"TradeAgreed(bytes32,address,address,{TRADE})")
T_TRADE_SETTLED = topic("TradeSettled(bytes32,address,address,address,uint256,address,uint256,uint8,bytes32,uint256)")


def _address(t: str) -> str:
    return to_checksum_address("0x" + t[-40:])


class Ledger:
    """What the book's, the settlement contract's and the series' events say happened."""

    def __init__(self) -> None:
        self.cash_in = 0
        self.withdrawn = 0
        self.refunded = 0
        self.proceeds = 0
        self.settled_investor: dict[str, int] = defaultdict(int)
        self.settled_units: dict[str, int] = defaultdict(int)
        self.minted_by_book: dict[str, int] = defaultdict(int)
        self.agreed: set[str] = set()
        self.trade_settled: dict[str, list[int]] = defaultdict(list)  # trade id -> settledAt of each settlement

    def record(self, logs: list[dict[str, Any]], book: str, settlement: str, series: str) -> None:
        book_tx = any(log["address"].lower() == book.lower() for log in logs)
        for log in logs:
            source, topics = log["address"].lower(), log["topics"]
            data = bytes.fromhex(log["data"][2:])
            if source == book.lower():
                if topics[0] == T_COMMITTED:
                    self.cash_in += word(data, 3)
                elif topics[0] == T_WITHDRAWN:
                    self.withdrawn += word(data, 3)
                elif topics[0] == T_REFUNDED:
                    self.refunded += word(data, 0)
                elif topics[0] == T_PROCEEDS:
                    self.proceeds += word(data, 0)
                elif topics[0] == T_SETTLED:
                    investor = _address(topics[1])
                    self.settled_investor[investor] += 1
                    self.settled_units[investor] += word(data, 0)
            elif source == settlement.lower():
                if topics[0] == T_TRADE_AGREED:
                    self.agreed.add(topics[1])
                elif topics[0] == T_TRADE_SETTLED:
                    if topics[1] not in self.agreed:
                        raise AssertionError(f"trade {topics[1]} settled without an agreement")
                    self.trade_settled[topics[1]].append(word(data, 6))
            elif source == series.lower() and book_tx and topics[0] == T_TRANSFER and int(topics[1], 16) == 0:
                self.minted_by_book[_address(topics[2])] += word(data, 0)


@dataclass
class SettlementWorld:
    """The model series' world plus the settlement contracts, and the model of the whole set-up."""

    w: World
    rpc: Rpc
    settlement: str
    book: str
    issuer: str
    broker: str
    keys: dict[str, bytes]
    chain_id: int
    snapshot_id: str
    initial: SettlementModel

    def reset(self) -> SettlementModel:
        self.w.chain.restore(self.snapshot_id)
        self.snapshot_id = self.w.chain.snapshot()
        return self.initial.fork()


def deploy_settlement_world(project: Any, accounts: Any, chain: Any) -> SettlementWorld:
    """The series' world (tests/stateful/world.py), then the settlement contracts with their series roles, cash
    and approvals for every wallet, and the model of the whole set-up; snapshots the chain."""
    w = deploy_world(project, accounts, chain)
    admin = accounts[1]
    issuer, broker = accounts[8], accounts[9]
    wallet_accounts = [accounts[i] for i in range(14, 20)]
    assert tuple(a.address for a in wallet_accounts) == w.wallets
    settlement = admin.deploy(project.TradeSettlement)
    token = project.IBondToken.at(w.series, detect_proxy=False)
    token.grantRole(keccak(text="FREEZER_ROLE"), settlement, sender=admin)
    now = w.rpc.latest_timestamp()
    terms = BookTerms("", w.treasury, PRICE, OFFERED, now, w.base + DAY, w.base + 6 * DAY)
    book = admin.deploy(
        project.SubscriptionBook,
        (w.series, w.cash, w.treasury, PRICE, 1, OFFERED, terms.open, terms.close, terms.settlement),
        admin,
        issuer,
    )
    token.grantRole(keccak(text="MINTER_ROLE"), book, sender=admin)
    cash = project.MockHostilePaymentToken.at(w.cash)
    for wallet in wallet_accounts:
        cash.mint(wallet, WALLET_CASH, sender=wallet)
        cash.approve(settlement, 2**256 - 1, sender=wallet)
        cash.approve(book, 2**256 - 1, sender=wallet)
        token.approve(settlement, 2**256 - 1, sender=wallet)
    errors = ErrorDecoder(
        getattr(project, name).contract_type.abi
        for name in (
            "IBondToken",
            "IPaymentAgent",
            "InvestorRegistry",
            "MockHostilePaymentToken",
            "BondToken",
            "SubscriptionBook",
            "TradeSettlement",
        )
    )
    rpc = Rpc(chain.provider.web3, errors)
    w.rpc = rpc
    w.reader.rpc = rpc
    model = SettlementModel(w.initial.fork(), replace(terms, address=book.address))
    model.s.advance(rpc.latest_timestamp())
    for wallet in w.wallets:
        model.s.cash[wallet] = WALLET_CASH
    model.s.cash[book.address] = 0
    snapshot_id = chain.snapshot()
    w.snapshot_id = snapshot_id
    return SettlementWorld(
        w=w,
        rpc=rpc,
        settlement=settlement.address,
        book=book.address,
        issuer=issuer.address,
        broker=broker.address,
        keys={a.address: bytes(Account.from_key(a.private_key).key) for a in wallet_accounts},
        chain_id=int(rpc.request("eth_chainId", []), 16),
        snapshot_id=snapshot_id,
        initial=model,
    )


class SettlementMachine(RuleBasedStateMachine):
    """Rules: trades, the subscription book, time, partial calls, freezes, pause, registry, cap, blocklist."""

    world: ClassVar[SettlementWorld]

    def __init__(self) -> None:
        super().__init__()
        self.sw = self.world
        self.w = self.sw.w
        self.m: SettlementModel = self.sw.reset()
        self.ledger = Ledger()
        self.nonce = 0
        self.secrets: dict[bytes, bytes] = {}  # trade id -> its hash lock's secret
        self.previous: dict[Any, Any] | None = None
        self.previous_time = self.m.s.now

    # ================================================================== plumbing

    def wallet(self, i: int) -> str:
        return self.w.wallets[i]

    def _tx(self, name: str, sender: str, to: str, data: bytes, op: Any) -> Outcome:
        """Runs `op` on a fork of the model and the transaction on the chain; both must agree."""
        trial = self.m.fork()
        expected: Revert | None = None
        try:
            op(trial)
        except Revert as refusal:
            expected = refusal
        outcome = self.sw.rpc.transact(sender, to, data)
        if outcome.ok:
            assert expected is None, f"{name}: the chain accepted what the model refuses ({expected})"
            self.m = trial
            self.ledger.record(outcome.logs, self.sw.book, self.sw.settlement, self.w.series)
            label(f"{name}: ok")
        else:
            failure = outcome.failure
            assert failure is not None
            assert expected is not None, f"{name}: the chain refused ({failure}) what the model accepts"
            assert failure.name == expected.name, f"{name}: chain refused with {failure}, model with {expected}"
            if failure.name in ("TransferRestricted", "NotEligible"):
                code = failure.args[0] if failure.name == "TransferRestricted" else failure.args[2]
                assert code == expected.details[-1], f"{name}: {failure} vs model {expected}"
                label(f"{name}: {failure.name} {code}")
            else:
                label(f"{name}: {failure.name}")
        if currently_in_test_context():
            note(f"{name}: {'ok' if outcome.ok else outcome.failure}")
        return outcome

    def _jump(self, latest: int, name: str) -> None:
        if latest <= self.m.s.now:
            label(f"{name}: already passed")
            return
        self.sw.rpc.mine_at(latest)
        self.m.s.advance(latest)
        label(name)

    # ================================================================== set-up and time

    @initialize(
        frozen=st.sampled_from([None, None, 3]),
        cap=st.sampled_from([None, None, 60]),
        commits=st.lists(st.tuples(INVESTOR, SOME), min_size=1, max_size=4),
    )
    def start(self, frozen: int | None, cap: int | None, commits: list[tuple[int, int]]) -> None:
        """From the deployment (the book's window open), optionally a frozen wallet or a lower cap, and a few
        commitments (so that most sequences reach the allotment with a book to allot)."""
        if frozen is not None:
            self.freeze(frozen, "wallet")
        if cap is not None:
            self.set_cap(cap)
        for i, units in commits:
            self.commit(i, units)

    def _events(self) -> list[tuple[int, str]]:
        t = self.m.terms
        events = [(t.close, "book close"), (t.settlement, "book settlement time")]
        events += [(r, "record time") for r in self.m.s.record_times()]
        events += [(self.m.trades[i].expiry, "trade expiry") for i in self.m.open_trades()]
        return sorted(e for e in events if e[0] > self.m.s.now)

    @rule(
        how=st.sampled_from(["event", "event", "record time", "random"]),
        offset=st.sampled_from([-1, 0, 1]),
        skip=st.integers(0, 2),
        seconds=st.integers(1, 3 * DAY),
    )
    def advance(self, how: str, offset: int, skip: int, seconds: int) -> None:
        """The next transaction runs just before, at, or just after a coming close, settlement time, record time
        or trade expiry (the `skip`-th; "record time": the next record time), or `seconds` later."""
        if how == "random":
            self._jump(self.m.s.now + seconds, "time: random amount")
            return
        events = [e for e in self._events() if e[0] + offset - 1 > self.m.s.now]
        if how == "record time":
            events, skip = [e for e in events if e[1] == "record time"], 0
        if not events:
            self._jump(self.m.s.now + DAY, "time: a day (nothing scheduled)")
            return
        t, kind = events[min(skip, len(events) - 1)]
        self._jump(t + offset - 1, f"time: {kind} {offset:+d}")

    # ================================================================== the series around the trades

    @rule(kind=st.sampled_from(["partial 1/2", "partial 1/4"]), days=st.integers(0, 3))
    def schedule_call(self, kind: str, days: int) -> None:
        """A partial call at the shortest notice (its record time half a day before its payment)."""
        tx_time = self.m.s.now + 1
        payment = tx_time + self.m.s.cfg.call_notice + days * DAY + 3600
        terms = Terms(payment - DAY // 2, payment, Fraction(17, 3), Fraction(FACE), Fraction(kind[-3:]))
        data = Abi.schedule_call.data(terms.as_tuple())
        self._tx(f"call ({kind})", self.w.admin, self.w.series, data, lambda m: m.s.schedule_call(terms))

    @rule(i=WALLET, kind=st.sampled_from(["wallet", "pause"]))
    def freeze(self, i: int, kind: str) -> None:
        """Freeze or unfreeze a wallet, or pause or unpause the series (the agent)."""
        if kind == "pause":
            on = not self.m.s.paused
            data = (Abi.pause if on else Abi.unpause).data()
            self._tx("pause" if on else "unpause", self.w.agent, self.w.series, data, lambda m: m.s.set_paused(on))
            return
        wallet = self.wallet(i)
        flag = not self.m.s.frozen[wallet]
        data = Abi.set_frozen.data(wallet, flag)
        name = "freeze wallet" if flag else "unfreeze wallet"
        self._tx(name, self.w.agent, self.w.series, data, lambda m: m.s.set_frozen(wallet, flag))

    @rule(value=st.sampled_from([0, 60, 120, 200]))
    def set_cap(self, value: int) -> None:
        self._tx("set investor cap", self.w.admin, self.w.series, Abi.set_cap.data(value), lambda m: m.s.set_cap(value))

    @rule(i=WALLET, op=st.sampled_from(["register", "not allowed", "allowed"]))
    def registry(self, i: int, op: str) -> None:
        """Register a wallet, or move an investor to a country the series does not allow, or back."""
        wallet, reg, registrar = self.wallet(i), self.w.registry, self.w.registrar
        if op == "register":
            identity = identity_of(WALLET_IDENTITY[i])
            record = Record(identity, JAPAN, 0, 0, 0, 2**32 - 1)
            data = Abi.register.data(wallet, identity, JAPAN, 0, 0, 0, 2**32 - 1)
            self._tx("register", registrar, reg, data, lambda m: m.s.register(wallet, record))
            return
        country = USA if op == "not allowed" else JAPAN
        r = self.m.s.records.get(wallet)
        tax_class, expiry = (r.tax_class, r.kyc_expiry) if r else (0, 2**32 - 1)
        data = Abi.update.data(wallet, country, 0, 0, tax_class, expiry)
        self._tx(
            f"update investor ({op})", registrar, reg, data, lambda m: m.s.update(wallet, country, tax_class, expiry)
        )

    @rule(i=WALLET)
    def cash_blocklist(self, i: int) -> None:
        """The payment token blocks or unblocks a wallet (refunds are held, payments refused)."""
        wallet = self.wallet(i)
        on = wallet not in self.m.s.blocked
        data = Abi.cash_set_blocked.data(wallet, on)
        self._tx(
            "block cash" if on else "unblock cash",
            self.w.admin,
            self.w.cash,
            data,
            lambda m: m.s.set_blocked(wallet, on),
        )

    # ================================================================== trades

    def _sign(self, signer: str, trade: Trade) -> bytes:
        message = encode_typed_data(
            full_message={
                "types": {
                    "EIP712Domain": [
                        {"name": "name", "type": "string"},
                        {"name": "version", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"},
                    ],
                    **TRADE_TYPES,
                },
                "primaryType": "Trade",
                "domain": {
                    "name": DOMAIN_NAME,
                    "version": DOMAIN_VERSION,
                    "chainId": self.sw.chain_id,
                    "verifyingContract": self.sw.settlement,
                },
                "message": dict(
                    zip(
                        (
                            "series",
                            "seller",
                            "buyer",
                            "units",
                            "paymentToken",
                            "price",
                            "expiry",
                            "mode",
                            "paymentRef",
                            "confirmer",
                            "nonce",
                        ),
                        trade.as_tuple(),
                        strict=True,
                    )
                ),
            }
        )
        return bytes(Account.sign_message(message, self.sw.keys[signer]).signature)

    @rule(
        seller=WALLET,
        buyer=WALLET,
        units=st.tuples(st.sampled_from(["some", "all", "over"]), SOME),
        mode=st.sampled_from([ONCHAIN, ONCHAIN, OFFCHAIN, HASHLOCK]),
        expiry=st.sampled_from([3600, DAY, 5 * DAY, 12 * DAY]),
        by=st.sampled_from(["seller", "buyer", "broker"]),
        ref=st.booleans(),
        settle=st.sampled_from([None, None, 0, 1]),
    )
    def agree(
        self,
        seller: int,
        buyer: int,
        units: tuple[str, int],
        mode: int,
        expiry: int,
        by: str,
        ref: bool,
        settle: int | None,
    ) -> None:
        """Seller and buyer agree a trade (the submitter needs no signature, the other parties sign); `settle`:
        then settle it at once (0) or after the next record time or expiry (1)."""
        holders = [w for w in self.w.wallets if self.m.s.bal[w] > self.m.s.frozen_units[w]]
        a = holders[seller % len(holders)] if holders and seller < 5 else self.wallet(seller)
        b = self.wallet(buyer)
        if a == b:
            b = self.wallet((buyer + 1) % 6)
        s = self.m.s
        free = max(s.bal[a] - s.frozen_units[a], 0)
        kind, n = units
        count = {"some": 1 + (n - 1) % free if free else n % 3 + 1, "all": free, "over": free + 1 + n % 5}[kind]
        self.nonce += 1
        secret = keccak(text=f"secret {self.nonce}")
        payment_ref = {
            ONCHAIN: bytes(32),
            OFFCHAIN: keccak(text=f"bank payment {self.nonce}") if ref else bytes(32),
            HASHLOCK: hashlib.sha256(secret).digest(),
        }[mode]
        trade = Trade(
            self.w.series,
            a,
            b,
            count,
            self.w.cash,
            count * PRICE,
            s.now + expiry,
            mode,
            payment_ref,
            self.sw.broker if mode == OFFCHAIN and ref else ZERO,
            self.nonce,
        )
        trade_id = self.sw.rpc.view(self.sw.settlement, SAbi.trade_id, trade.as_tuple())
        self.secrets[trade_id] = secret
        sender = {"seller": a, "buyer": b, "broker": self.sw.broker}[by]
        signatures = [b"" if party == sender else self._sign(party, trade) for party in (a, b)]
        data = SAbi.agree.data(trade.as_tuple(), *signatures)
        outcome = self._tx(
            f"agree ({('on-chain', 'off-chain', 'hash lock')[mode]})",
            sender,
            self.sw.settlement,
            data,
            lambda m: m.agree(trade_id, trade),
        )
        if outcome.ok and settle is not None:
            if settle:
                self.advance("event", offset=1, skip=0, seconds=1)
            self._settle(trade_id, trade, trade.mode, 1, 2)

    def _trade(self, pick: int, wild: bool) -> tuple[bytes, Trade] | None:
        ids = list(self.m.trades) if wild else self.m.open_trades()
        if not ids:
            return None
        trade_id = ids[pick % len(ids)]
        return trade_id, self.m.trades[trade_id]

    @rule(pick=st.integers(0, 100), wild=st.integers(0, 5), right=st.integers(0, 5))
    def settle_trade(self, pick: int, wild: int, right: int) -> None:
        """Settle a trade the way its mode settles (wild: any trade, any way); `right` == 0 gets the payment id,
        the secret or the confirmer wrong."""
        found = self._trade(pick, wild == 0)
        if found is None:
            label("settle trade: no trade")
            return
        trade_id, trade = found
        self._settle(trade_id, trade, (trade.mode + pick) % 3 if wild == 0 else trade.mode, pick, right)

    def _settle(self, trade_id: bytes, trade: Trade, mode: int, pick: int, right: int) -> None:
        rpc_target, t = self.sw.settlement, trade.as_tuple()
        if mode == ONCHAIN:
            self._tx(
                "settle on-chain trade",
                self.sw.broker,
                rpc_target,
                SAbi.settle_trade.data(t),
                lambda m: m.settle_trade(trade_id),
            )
        elif mode == OFFCHAIN:
            open_ref = keccak(text=f"bank reference {pick % 3}")  # the same reference now and then: used once
            payment_id = trade.payment_ref if trade.payment_ref != bytes(32) else open_ref
            if right == 0:
                payment_id = keccak(text="another payment")
            caller = trade.confirmer if trade.confirmer != ZERO and pick % 2 else trade.seller
            if right == 1:
                caller = trade.buyer
            self._tx(
                "confirm off-chain payment",
                caller,
                rpc_target,
                SAbi.confirm.data(t, payment_id),
                lambda m: m.confirm_payment(trade_id, caller, payment_id),
            )
        else:
            secret = self.secrets[trade_id] if right else keccak(text="a guess")
            hashed = hashlib.sha256(secret).digest()
            self._tx(
                "claim hash-locked trade",
                self.sw.broker,
                rpc_target,
                SAbi.claim_trade.data(t, secret),
                lambda m: m.claim_trade(trade_id, hashed),
            )

    @rule(pick=st.integers(0, 100), wild=st.integers(0, 5), who=st.sampled_from(["seller", "buyer", "broker"]))
    def cancel_trade(self, pick: int, wild: int, who: str) -> None:
        found = self._trade(pick, wild == 0)
        if found is None:
            label("cancel trade: no trade")
            return
        trade_id, trade = found
        caller = {"seller": trade.seller, "buyer": trade.buyer, "broker": self.sw.broker}[who]
        self._tx(
            f"cancel trade ({who})",
            caller,
            self.sw.settlement,
            SAbi.cancel_trade.data(trade.as_tuple()),
            lambda m: m.cancel_trade(trade_id, trade, caller),
        )

    @rule(pick=st.integers(0, 100), wild=st.integers(0, 5))
    def release_trade(self, pick: int, wild: int) -> None:
        found = self._trade(pick, wild == 0)
        if found is None:
            label("release trade: no trade")
            return
        trade_id, trade = found
        self._tx(
            "release trade",
            self.sw.broker,
            self.sw.settlement,
            SAbi.release.data(trade.as_tuple()),
            lambda m: m.release(trade_id),
        )

    # ================================================================== the subscription book

    @rule(i=INVESTOR, units=SOME)
    def commit(self, i: int, units: int) -> None:
        """An investor commits cash for `units` more units."""
        investor = self.wallet(i)
        self._tx("commit", investor, self.sw.book, SAbi.commit.data(units), lambda m: m.commit(investor, units))

    @rule(i=WALLET, kind=st.sampled_from(["some", "all", "over"]), n=SOME)
    def withdraw(self, i: int, kind: str, n: int) -> None:
        investor = self.wallet(i)
        held = self.m.commitment(investor)[0]
        units = {"some": 1 + (n - 1) % held if held else 1, "all": held, "over": held + 1}[kind]
        self._tx("withdraw", investor, self.sw.book, SAbi.withdraw.data(units), lambda m: m.withdraw(investor, units))

    def _correct_allotment(self, method: int) -> dict[str, int]:
        """Every investor's allotment under `method`, in arrival order (the library's rule, in integers)."""
        order = self.m.arrival_order()
        units = [self.m.book.commitments[a].units for a in order]
        allottable = self.m.allottable()
        if method == PRO_RATA:
            total = sum(units)
            out = [c * allottable // total for c in units]
            left = allottable - sum(out)
            for k, c in enumerate(units):
                if left and (c * allottable) % total:
                    out[k] += 1
                    left -= 1
        elif method == FIRST_COME:
            out, left = [], allottable
            for c in units:
                out.append(min(c, left))
                left -= out[-1]
        else:
            out = [c // 2 + 1 for c in units]
        return dict(zip(order, out, strict=True))

    @rule(
        method=st.sampled_from([PRO_RATA, PRO_RATA, FIRST_COME, EXPLICIT]),
        size=st.integers(1, 6),
        fault=st.sampled_from([None, None, None, None, "plus one", "minus one", "swap", "again"]),
        wait=st.booleans(),
    )
    def allot(self, method: int, size: int, fault: str | None, wait: bool) -> None:
        """The next `size` investors not yet allotted, in arrival order, with the right units (`fault`: one entry
        broken on purpose); with `wait`, at the close if the window is still open."""
        if wait and self.m.s.now + 1 < self.m.terms.close:
            self._jump(self.m.terms.close - 1, "time: to the close (allotment)")
        if self.m.book.method:
            method = self.m.book.method
        correct = self._correct_allotment(method) if self.m.book.commitments else {}
        pending = [a for a in correct if not self.m.book.commitments[a].flags & ALLOTTED_FLAG]
        done = [a for a in correct if a not in pending]
        investors = pending[:size]
        units = [correct[a] for a in investors]
        if fault == "plus one" and units:
            units[-1] += 1
        elif fault == "minus one" and units and units[-1]:
            units[-1] -= 1
        elif fault == "swap" and len(investors) > 1:
            investors[0], investors[1] = investors[1], investors[0]
            units[0], units[1] = units[1], units[0]
        elif fault == "again" and done:
            investors, units = [done[0]], [correct[done[0]]]
        name = f"allot ({('', 'pro rata', 'first come', 'explicit')[method]}{', ' + fault if fault else ''})"
        data = SAbi.allot.data(method, investors, units)
        self._tx(name, self.sw.issuer, self.sw.book, data, lambda m: m.allot(method, investors, units))

    @rule(
        how=st.sampled_from(["finalize", "allot and finalize", "through settlement", "through settlement", "cancel"]),
        method=st.sampled_from([PRO_RATA, FIRST_COME, EXPLICIT]),
    )
    def finalize_or_cancel(self, how: str, method: int) -> None:
        """The issuer finalizes the allotment ("allot and finalize": at the close if the window is still open,
        after allotting every investor not yet allotted; "through settlement": then settles a first batch at the
        settlement time), or cancels the book."""
        if how in ("allot and finalize", "through settlement"):
            if self.m.s.now + 1 < self.m.terms.close:
                self._jump(self.m.terms.close - 1, "time: to the close (finalize)")
            if any(not c.flags & ALLOTTED_FLAG for c in self.m.book.commitments.values()):
                self.allot(method, 6, None, False)
        if how == "cancel":
            self._tx("cancel book", self.sw.issuer, self.sw.book, SAbi.cancel.data(), lambda m: m.cancel())
            return
        outcome = self._tx(
            "finalize allotment", self.sw.issuer, self.sw.book, SAbi.finalize.data(), lambda m: m.finalize()
        )
        if outcome.ok and how == "through settlement":
            self.settle_book([0, 2, 4], True)

    @rule(batch=BATCH, wait=st.booleans())
    def settle_book(self, batch: list[int], wait: bool) -> None:
        """A settlement batch (wallets without a commitment and ones already settled are skipped); with `wait`,
        at the settlement time if it has not come."""
        if wait and self.m.book.phase == ALLOTTED and self.m.s.now + 1 < self.m.terms.settlement:
            self._jump(self.m.terms.settlement - 1, "time: to the settlement time (book)")
        investors = [self.wallet(i) for i in batch]
        lapsed: list[str] = []

        def op(m: SettlementModel) -> None:
            lapsed.extend(m.settle(investors))

        outcome = self._tx("settle book batch", self.sw.issuer, self.sw.book, SAbi.settle.data(investors), op)
        if outcome.ok and lapsed:
            label("settle book batch: an allotment lapsed")

    @rule(batch=BATCH)
    def refund_book(self, batch: list[int]) -> None:
        investors = [self.wallet(i) for i in batch]
        self._tx(
            "refund batch", self.sw.broker, self.sw.book, SAbi.refund.data(investors), lambda m: m.refund(investors)
        )

    @rule(i=WALLET, j=WALLET)
    def claim_book(self, i: int, j: int) -> None:
        investor, to = self.wallet(i), self.wallet(j)
        self._tx("claim refund", investor, self.sw.book, SAbi.claim.data(to), lambda m: m.claim(investor, to))

    # ================================================================== invariant

    def _calls(self) -> list[tuple[Any, str, bytes]]:
        w, s, book = self.w, self.w.series, self.sw.book
        calls: list[tuple[Any, str, bytes]] = [
            (("supply",), s, Abi.total_supply.data()),
            (("book state",), book, SAbi.state.data()),
            (("held proceeds",), book, SAbi.held_proceeds.data()),
        ]
        for a in (*w.wallets, book, w.treasury):
            calls.append((("cash", a), w.cash, Abi.cash_balance.data(a)))
        for a in w.wallets:
            calls += [
                (("balance", a), s, Abi.balance_of.data(a)),
                (("frozen units", a), s, Abi.frozen_tokens.data(a)),
                (("commitment", a), book, SAbi.commitment.data(a)),
                (("held", a), book, SAbi.held.data(a)),
                (("locked units", a), self.sw.settlement, SAbi.locked_units.data(s, a)),
            ]
            if w.has_pending_view:
                calls.append((("pending retirement", a), s, Abi.pending_retirement.data(a)))
        for t in (t for t in self.m.s.record_times() if t < self.m.s.now):
            calls += [(("balance at", a, t), s, Abi.balance_of_at.data(a, t)) for a in w.wallets]
        for trade_id in self.m.status:
            calls.append((("trade", trade_id), self.sw.settlement, SAbi.trade_status.data(trade_id)))
        return calls

    def _expected(self, key: tuple[Any, ...]) -> Any:
        m, s = self.m, self.m.s
        what = key[0]
        if what == "supply":
            return (s.total_supply(),)
        if what == "book state":
            return m.book_state()
        if what == "cash":
            return (s.cash.get(key[1], 0),)
        if what == "balance":
            return (s.bal[key[1]],)
        if what == "frozen units":
            return (s.frozen_units[key[1]],)
        if what == "locked units":
            return (m.locked(key[1]),)
        if what == "commitment":
            return m.commitment(key[1])
        if what == "held":
            return (m.book.held.get(key[1], 0),)
        if what == "held proceeds":
            return (m.book.held_proceeds,)
        if what == "pending retirement":
            return (s.pending_units(key[1]),)
        if what == "balance at":
            return (s.units_at[key[2]][key[1]],)
        if what == "trade":
            return (m.status.get(key[1], T_NONE),)
        raise AssertionError(key)

    def read_chain(self) -> dict[Any, tuple[int, ...]]:
        calls = self._calls()
        results = self.w.reader.read([(target, data) for _, target, data in calls])
        values: dict[Any, tuple[int, ...]] = {}
        for (key, _, _), (ok, raw) in zip(calls, results, strict=True):
            assert ok, f"{key} reverted: {self.sw.rpc.errors.decode(raw)}"
            values[key] = tuple(word(raw, i) for i in range(len(raw) // 32))
        return values

    @invariant()
    def state_matches_model(self) -> None:
        chain = self.read_chain()
        diffs = [(k, v, self._expected(k)) for k, v in chain.items() if v != self._expected(k)]
        assert not diffs, "chain != model:\n" + "\n".join(f"  {k}: chain {v}, model {e}" for k, v, e in diffs[:12])
        self._check_chain_properties(chain)
        self.previous, self.previous_time = chain, self.m.s.now

    def _check_chain_properties(self, chain: dict[Any, tuple[int, ...]]) -> None:
        """What must hold whatever the model says (chain values and events only)."""
        w, book, led = self.w, self.sw.book, self.ledger
        assert chain[("supply",)][0] == sum(chain[("balance", a)][0] for a in w.wallets), "supply != sum of balances"
        # the book's cash
        book_cash = chain[("cash", book)][0]
        assert led.cash_in - led.withdrawn == led.proceeds + led.refunded + book_cash, (
            f"cash not conserved: committed {led.cash_in} - withdrawn {led.withdrawn} != proceeds {led.proceeds}"
            f" + refunds {led.refunded} + held by the book {book_cash}"
        )
        outstanding = held = 0
        for a in w.wallets:
            units, allotted, _, flags = chain[("commitment", a)]
            if not flags & (SETTLED_FLAG | REFUNDED_FLAG):
                outstanding += units * PRICE
            held += chain[("held", a)][0]
            # no unit minted twice
            assert led.settled_investor[a] <= 1, f"{a} settled {led.settled_investor[a]} times"
            assert led.minted_by_book[a] == led.settled_units[a], f"{a}: minted {led.minted_by_book[a]}, settled for"
            assert led.settled_units[a] <= (allotted if flags & ALLOTTED_FLAG else 0), f"{a} minted over its allotment"
        held += chain[("held proceeds",)][0]
        assert book_cash == outstanding + held, f"book holds {book_cash}, owes {outstanding} + held {held}"
        assert sum(led.settled_units.values()) <= OFFERED, "more units issued than offered"
        # trades: once, before expiry
        for trade_id, times in led.trade_settled.items():
            assert len(times) == 1, f"trade {trade_id} settled {len(times)} times"
            trade = self.m.trades[bytes.fromhex(trade_id[2:])]
            assert times[0] <= trade.expiry, f"trade {trade_id} settled at {times[0]} after its expiry {trade.expiry}"
        # locked units stay the seller's for the first record time that passed in this step (a later one in the
        # same step also sees the retirements of the first: the model comparison covers it)
        if self.previous is not None:
            passed = [t for t in self.m.s.record_times() if self.previous_time <= t < self.m.s.now]
            for t in passed[:1]:
                for a in w.wallets:
                    before = self.previous[("balance", a)][0]
                    if w.has_pending_view:
                        before -= self.previous[("pending retirement", a)][0]
                    locked = self.previous[("frozen units", a)][0]
                    at = chain[("balance at", a, t)][0]
                    assert at == before, f"{a}: balance at record time {t} is {at}, its holding was {before}"
                    if locked:
                        label("a record time passed while units were locked")


SettlementMachine.TestCase.settings = (
    settings(machine_settings(), max_examples=100, stateful_step_count=40)
    if profile_name() == "ci"
    else machine_settings()
)


@pytest.fixture(scope="module")
def settlement_world(project: Any, accounts: Any, chain: Any) -> Any:
    world = deploy_settlement_world(project, accounts, chain)
    SettlementMachine.world = world
    if profile_name() == "fuzz":
        from hypothesis import seed

        seed(FUZZ_SEED)(SettlementMachine)
    yield world
    world.rpc.set_interval(None)


@pytest.mark.usefixtures("settlement_world")
class TestSettlementModel(SettlementMachine.TestCase):  # type: ignore[name-defined,misc]
    """The generated sequences (100 in CI)."""


def replay(steps: list[tuple[str, dict[str, Any]]]) -> None:
    machine = SettlementMachine()
    machine.state_matches_model()
    for name, arguments in steps:
        getattr(machine, name)(**arguments)
        machine.state_matches_model()
    machine.teardown()


@pytest.mark.usefixtures("settlement_world")
def test_a_book_settled_in_overlapping_batches_mints_once() -> None:
    """Three investors commit, the book is allotted pro rata and settled in overlapping batches that repeat a
    wallet: each investor is minted its allotment once, the rest refunded."""
    replay(
        [
            ("start", {"frozen": None, "cap": None, "commits": [(0, 50), (2, 70), (3, 40)]}),
            ("finalize_or_cancel", {"how": "allot and finalize", "method": PRO_RATA}),
            ("settle_book", {"batch": [0, 0], "wait": True}),
            ("settle_book", {"batch": [0, 2], "wait": False}),
            ("settle_book", {"batch": [3, 2, 0], "wait": False}),
        ]
    )


@pytest.mark.usefixtures("settlement_world")
def test_a_trade_expired_stays_unsettled() -> None:
    """A trade agreed for an hour: an hour and a second later neither its settlement nor a hash-lock claim goes
    through; the release gives the seller its units back."""
    replay(
        [
            ("start", {"frozen": None, "cap": None, "commits": []}),
            (
                "agree",
                {
                    "seller": 2,
                    "buyer": 0,
                    "units": ("some", 10),
                    "mode": ONCHAIN,
                    "expiry": 3600,
                    "by": "seller",
                    "ref": False,
                    "settle": None,
                },
            ),
            ("advance", {"how": "event", "offset": 1, "skip": 0, "seconds": 1}),
            ("settle_trade", {"pick": 0, "wild": 1, "right": 1}),
            ("release_trade", {"pick": 0, "wild": 1}),
        ]
    )


@pytest.mark.usefixtures("settlement_world")
def test_locked_units_stay_the_sellers_for_a_record_date() -> None:
    """A trade locks 30 of W2's units, the first record time passes, then the trade settles: W2 is the holder of
    record for all its units at that record time."""
    replay(
        [
            ("start", {"frozen": None, "cap": None, "commits": []}),
            (
                "agree",
                {
                    "seller": 2,
                    "buyer": 0,
                    "units": ("some", 30),
                    "mode": ONCHAIN,
                    "expiry": 12 * DAY,
                    "by": "broker",
                    "ref": False,
                    "settle": None,
                },
            ),
            ("advance", {"how": "record time", "offset": 1, "skip": 0, "seconds": 1}),  # at the record time
            ("advance", {"how": "random", "offset": 1, "skip": 0, "seconds": 1}),  # just after it, still locked
            ("settle_trade", {"pick": 0, "wild": 1, "right": 1}),
        ]
    )
