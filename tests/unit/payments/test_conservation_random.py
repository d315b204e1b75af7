"""Seeded random servicing sequences against the real contracts, checked against what actually moved.

Each seed issues to holders of mixed tax classes, then interleaves push batches, claims, freezes, escrow
releases, off-chain records and tax sweeps over a coupon period and a redemption period. After every step the
agent's own accounts are compared with independent evidence: its payment-token balance, the payment events
and every holder's payment-token balance. The agent stores `held` and derives the net paid, so these outside
checks are what can catch a booking error.
"""

from __future__ import annotations

import random
from collections import defaultdict
from fractions import Fraction

import pytest
from payment_helpers import EXEMPT, JP_CORPORATE, JP_INDIVIDUAL, SWISS, Terms, gross_for, taxes_for

RATES = {JP_INDIVIDUAL: (153_150, 50_000), JP_CORPORATE: (153_150,), SWISS: (350_000,), EXEMPT: ()}
FACE = 10_000


class Ledger:
    """What the events say was paid, per period and per holder."""

    def __init__(self, agent, yen) -> None:
        self.agent, self.yen = agent, yen
        self.net = defaultdict(int)  # period -> net paid
        self.tax = defaultdict(int)  # period -> tax withheld
        self.escrowed = defaultdict(int)  # period -> gross currently in escrow
        self.received = defaultdict(int)  # wallet -> net received
        self.settled = defaultdict(set)  # period -> holders settled (paid, escrowed or off chain)
        self.paid = defaultdict(set)  # period -> holders paid on chain (directly or from escrow)

    def record(self, receipt) -> None:
        for e in receipt.events.filter(self.agent.PaymentEscrowed):
            period, holder = int(e.period), e.holder
            assert holder not in self.settled[period], "settled twice"
            self.settled[period].add(holder)
            self.escrowed[period] += int(e.couponGross) + int(e.principalGross)
        for e in receipt.events.filter(self.agent.EscrowReleased):
            self.escrowed[int(e.period)] -= int(e.gross)
        released = {(int(e.period), e.holder) for e in receipt.events.filter(self.agent.EscrowReleased)}
        for e in receipt.events.filter(self.agent.PaymentMade):
            period, holder = int(e.period), e.holder
            if (period, holder) not in released:
                assert holder not in self.settled[period], "settled twice"
                self.settled[period].add(holder)
            self.paid[period].add(holder)
            self.net[period] += int(e.net)
            self.tax[period] += sum(int(t) for t in e.taxes)
            self.received[e.to] += int(e.net)
        for e in receipt.events.filter(self.agent.OffchainPaymentRecorded):
            period, holder = int(e.period), e.holder
            assert holder not in self.settled[period], "settled twice"
            self.settled[period].add(holder)

    def check(self, periods: int, wallets) -> None:
        held_and_escrow = 0
        for period in range(periods):
            a = self.agent.accounts(period)
            assert a.funded == a.paidNet + a.taxWithheld + a.escrowed + a.reclaimed + a.held
            assert a.paidNet == self.net[period]
            assert a.taxWithheld == self.tax[period]
            assert a.escrowed == self.escrowed[period]
            held_and_escrow += a.held + a.escrowed
        pending = sum(sum(self.agent.taxPending(c)) for c in RATES)
        assert self.yen.balanceOf(self.agent) == held_and_escrow + pending
        for wallet in wallets:
            assert self.yen.balanceOf(wallet) == self.received[wallet.address]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_servicing_conserves_every_unit_of_cash(
    seed, chain, accounts, series, make_payment_token, deploy_agent, travel, fund_period, treasury
):
    rng = random.Random(seed)
    wallets = [accounts[10 + i] for i in range(6)]
    classes = {w.address: rng.choice(list(RATES)) for w in wallets}
    units = {w.address: rng.randint(1, 400) for w in wallets}
    for w in wallets:
        series.register(w, classes[w.address])
        series.issue(w, units[w.address])
    now = chain.pending_timestamp
    coupon = Fraction(rng.randint(1, 10_000), rng.choice([1, 2, 3, 7, 365]))
    schedule = [
        Terms(now + 1000, now + 2000, coupon=coupon),
        Terms(now + 3000, now + 4000, coupon=coupon, principal=Fraction(FACE), redeem=Fraction(1)),
    ]
    yen = make_payment_token(rng.choice([0, 2, 6]))
    agent = deploy_agent(schedule, yen)
    ledger = Ledger(agent, yen)
    for period, terms in enumerate(schedule):
        travel(terms.record_time + 1)
        fund_period(agent, yen, period)
        travel(terms.payment_time)
        suspect = rng.choice(wallets)  # one frozen wallet per period, so escrow and release always occur
        series.freeze(suspect, True)
        frozen: set = {suspect.address}
        due = {w.address for w in wallets if sum(gross_for(units[w.address], terms)) != 0}
        for _ in range(16):
            wallet = rng.choice(wallets)
            address = wallet.address
            op = rng.choice(["push", "claim", "claim", "freeze", "freeze", "release", "release", "offchain", "sweep"])
            if op == "freeze":
                series.freeze(wallet, address not in frozen)
                frozen ^= {address}
                continue
            if op == "sweep":
                receipt = agent.sweepTax(list(RATES), sender=treasury)
            elif op == "push":
                batch = rng.sample(wallets, rng.randint(1, 3))
                receipt = agent.pushPayments(period, batch, sender=treasury)
            elif op == "claim":
                if agent.isSettled(period, wallet) or address not in due:
                    continue
                receipt = agent.claim(period, sender=wallet)
            elif op == "offchain":
                if agent.isSettled(period, wallet) or address not in due:
                    continue
                receipt = agent.recordOffchainPayments(period, [wallet], [bytes([seed]) * 32], sender=treasury)
            else:  # release
                if agent.escrowOf(period, wallet) == 0:
                    continue
                if address in frozen:
                    series.freeze(wallet, False)
                    frozen.discard(address)
                receipt = agent.releaseEscrow(period, wallet, wallet, sender=treasury)
            ledger.record(receipt)
            ledger.check(len(schedule), wallets)
        for address in list(frozen):
            series.freeze(next(w for w in wallets if w.address == address), False)
        # Whoever is left is pushed; every holder ends settled exactly once.
        ledger.record(agent.pushPayments(period, wallets, sender=treasury))
        ledger.check(len(schedule), wallets)
        assert ledger.settled[period] == due
        for w in wallets:
            gross = sum(gross_for(units[w.address], terms)[:2])
            escrow = agent.escrowOf(period, w)
            assert escrow in (0, gross)
            if escrow:
                ledger.record(agent.releaseEscrow(period, w, w, sender=treasury))
        ledger.check(len(schedule), wallets)
    # After redemption every unit is burned, the tax is swept, and every holder holds exactly what the
    # rounding rule gives for the periods it was paid on chain.
    assert series.token.totalSupply() == 0
    ledger.record(agent.sweepTax(list(RATES), sender=treasury))
    ledger.check(len(schedule), wallets)
    assert sum(sum(agent.taxPending(c)) for c in RATES) == 0
    for w in wallets:
        expected = 0
        for period, terms in enumerate(schedule):
            if w.address in ledger.paid[period]:
                coupon_gross, principal_gross, _ = gross_for(units[w.address], terms)
                expected += coupon_gross + principal_gross - sum(taxes_for(coupon_gross, RATES[classes[w.address]]))
        assert yen.balanceOf(w) == expected
    for period, terms in enumerate(schedule):
        withheld = sum(
            sum(taxes_for(gross_for(units[address], terms)[0], RATES[classes[address]]))
            for address in ledger.paid[period]
        )
        assert agent.accounts(period).taxWithheld == withheld
