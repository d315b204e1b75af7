"""Units retired by a period (partial or full call, amortization, final redemption) are paid once and leave the
supply once, whatever happens between the period's record time and its payment.

Regression tests for the review's High finding: after a partial call's record time a holder moved its units
(to its own second wallet, by a sale, by the transfer agent's recovery or forced transfer), then claimed the
call price, nothing was burned, and the same units were paid par again at maturity. The rule now
(docs/payments.md, "Retirement at the record time"): a retiring period retires floor(units at its record time x
fraction) of each holder AT its record time; the token burns them at the holder's next balance change or when the
period settles the holder, and every later record time sees them gone.
"""

from fractions import Fraction

import ape
import pytest
from payment_helpers import EXEMPT, JP_INDIVIDUAL, Terms, assert_conservation

from munibond.chain.register import holder_register

FACE = 10_000
CALL_PRICE = Fraction(10_050)  # 100.5 % of par
DAY = 86_400
C_BALANCE = 4


@pytest.fixture
def yen(make_payment_token):
    return make_payment_token(0)


@pytest.fixture
def schedule(chain) -> list[Terms]:
    """A partial call of half the units, then the final redemption at par (no coupons: principal only)."""
    now = chain.pending_timestamp
    return [
        Terms(now + 10 * DAY, now + 11 * DAY, principal=CALL_PRICE, redeem=Fraction(1, 2)),
        Terms(now + 100 * DAY, now + 101 * DAY, principal=Fraction(FACE), redeem=Fraction(1)),
    ]


@pytest.fixture
def issued(series, investor_a, investor_b, investor_c):
    """investor_a holds 100 units; investor_c is investor_a's second wallet; investor_b another investor."""
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_c, JP_INDIVIDUAL, same_investor_as=investor_a)
    series.register(investor_b, EXEMPT)
    series.issue(investor_a, 100)
    series.issue(investor_b, 10)


def principal_paid(agent) -> int:
    """Principal paid over the series' life, from the payment events (paid, escrowed or bank-recorded)."""
    frame = agent.PaymentMade.query("event_arguments")
    return sum(args["principalGross"] for args in frame["event_arguments"])


def pay(agent, yen, period, holders, travel, fund_period, treasury, terms):
    travel(terms.payment_time)
    fund_period(agent, yen, period)
    agent.pushPayments(period, holders, sender=treasury)


def test_units_moved_to_own_second_wallet_after_a_partial_call_record_time_are_not_paid_twice(
    issued, schedule, yen, deploy_agent, series, travel, fund_period, treasury, investor_a, investor_b, investor_c
):
    agent = deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    assert token.pendingRetirement(investor_a) == 50
    # The review's move: all 100 units to the investor's own second wallet. Only the 50 not retired can move.
    assert token.detectTransferRestriction(investor_a, investor_c, 100) == C_BALANCE
    with ape.reverts(token.TransferRestricted):
        token.transfer(investor_c, 100, sender=investor_a)
    receipt = token.transfer(investor_c, 50, sender=investor_a)
    retired = [(log.holder, log.units) for log in receipt.events.filter(token.UnitsRetired)]
    assert retired == [(investor_a, 50)]
    assert (token.balanceOf(investor_a), token.balanceOf(investor_c), token.totalSupply()) == (0, 50, 60)
    # The record-date view still shows what the call pays for; later record times see the retired units gone.
    assert token.balanceOfAt(investor_a, schedule[0].record_time) == 100

    travel(schedule[0].payment_time)
    fund_period(agent, yen, 0)
    receipt = agent.claim(0, sender=investor_a)
    made = next(iter(receipt.events.filter(agent.PaymentMade)))
    assert (made.principalGross, made.unitsRedeemed) == (50 * 10_050, 50)
    assert not list(receipt.events.filter(token.UnitsRetired))  # burned once, at the transfer
    agent.pushPayments(0, [investor_b, investor_c], sender=treasury)
    assert token.totalSupply() == 50 + 5

    pay(agent, yen, 1, [investor_a, investor_b, investor_c], travel, fund_period, treasury, schedule[1])
    assert token.totalSupply() == 0
    assert yen.balanceOf(investor_a) + yen.balanceOf(investor_c) == 50 * 10_050 + 50 * FACE
    # Principal over the life: 55 units called at 100.5 %, 55 redeemed at par; never more than 110 units' worth.
    assert principal_paid(agent) == 55 * 10_050 + 55 * FACE
    assert_conservation(agent, 0)
    assert_conservation(agent, 1)


def test_a_sale_after_the_record_time_moves_only_units_not_retired(
    issued, schedule, yen, deploy_agent, series, travel, fund_period, treasury, investor_a, investor_b
):
    agent = deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    with ape.reverts(token.TransferRestricted):
        token.transfer(investor_b, 51, sender=investor_a)
    token.transfer(investor_b, 50, sender=investor_a)
    # The buyer's own 10 units lose their 5 retired ones when it receives: 10 - 5 + 50.
    assert token.balanceOf(investor_b) == 55
    pay(agent, yen, 0, [investor_a, investor_b], travel, fund_period, treasury, schedule[0])
    assert yen.balanceOf(investor_a) == 50 * 10_050  # the record-time holder is paid for its retired units
    assert yen.balanceOf(investor_b) == 5 * 10_050
    pay(agent, yen, 1, [investor_a, investor_b], travel, fund_period, treasury, schedule[1])
    assert yen.balanceOf(investor_b) == 5 * 10_050 + 55 * FACE
    assert yen.balanceOf(investor_a) == 50 * 10_050
    assert token.totalSupply() == 0


def test_recovery_and_escrow_release_after_the_record_time_pay_retired_units_once(
    issued, schedule, yen, deploy_agent, series, travel, fund_period, treasury, investor_a, investor_b, investor_c
):
    """The review's honest-operator path: recover after the record time, freeze, push, release to the new wallet."""
    agent = deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    series.recover(investor_a, investor_c)
    assert (token.balanceOf(investor_a), token.balanceOf(investor_c)) == (0, 50)  # the 50 retired stay retired
    series.freeze(investor_a)
    travel(schedule[0].payment_time)
    fund_period(agent, yen, 0)
    receipt = agent.pushPayments(0, [investor_a], sender=treasury)
    escrowed = next(iter(receipt.events.filter(agent.PaymentEscrowed)))
    assert (escrowed.principalGross, escrowed.unitsRedeemed) == (50 * 10_050, 50)
    agent.releaseEscrow(0, investor_a, investor_c, sender=treasury)
    assert yen.balanceOf(investor_c) == 50 * 10_050
    assert token.totalSupply() == 50 + 10  # investor_b's 5 retired units are not burned before it settles
    pay(agent, yen, 1, [investor_a, investor_b, investor_c], travel, fund_period, treasury, schedule[1])
    assert yen.balanceOf(investor_c) == 50 * 10_050 + 50 * FACE
    assert token.totalSupply() == 0


def test_forced_transfer_and_agent_burn_cannot_take_retired_units(
    issued, schedule, yen, deploy_agent, series, travel, operator, investor_a, investor_b
):
    deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    with ape.reverts(token.TransferRestricted):
        token.forcedTransfer(investor_a, investor_b, 51, sender=operator)
    with ape.reverts(token.TransferRestricted):
        token.burn(investor_a, 51, sender=operator)
    token.burn(investor_a, 50, sender=operator)
    assert token.balanceOf(investor_a) == 0
    assert token.totalSupply() == 10


def test_bank_payment_after_a_transfer_retires_nothing_twice(
    issued, schedule, yen, deploy_agent, series, travel, fund_period, treasury, investor_a, investor_c
):
    agent = deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    token.transfer(investor_c, 50, sender=investor_a)
    travel(schedule[0].payment_time)
    receipt = agent.recordOffchainPayments(0, [investor_a], [b"\x01" * 32], sender=treasury)
    recorded = next(iter(receipt.events.filter(agent.OffchainPaymentRecorded)))
    assert recorded.unitsRedeemed == 50
    assert token.balanceOf(investor_c) == 50
    assert token.totalSupply() == 60


def test_retirements_in_sequence_settled_late_count_units_net_of_earlier_ones(
    series, yen, deploy_agent, travel, fund_period, treasury, chain, investor_a, investor_b
):
    """An amortization of 1/4, then a call of 1/2, both record times passed before anyone is paid: each period
    pays for its own units only (25, then floor(75 / 2) = 37), and a coupon after both counts what is left."""
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, EXEMPT)
    series.issue(investor_a, 100)
    series.issue(investor_b, 3)
    now = chain.pending_timestamp
    periods = [
        Terms(now + 10 * DAY, now + 60 * DAY, principal=Fraction(FACE), redeem=Fraction(1, 4)),
        Terms(now + 20 * DAY, now + 61 * DAY, principal=Fraction(FACE), redeem=Fraction(1, 2)),
        Terms(now + 30 * DAY, now + 62 * DAY, coupon=Fraction(100)),
        Terms(now + 90 * DAY, now + 91 * DAY, principal=Fraction(FACE), redeem=Fraction(1)),
    ]
    agent = deploy_agent(periods, yen)
    token = series.token
    travel(periods[2].record_time + 1)
    assert [token.balanceOfAt(investor_a, p.record_time) for p in periods[:3]] == [100, 75, 38]
    expected = [(0, 25 * FACE, 25), (0, 37 * FACE, 37), (3800, 0, 0)]
    assert [agent.entitlement(i, investor_a) for i in range(3)] == expected
    assert token.pendingRetirement(investor_a) == 62
    travel(periods[2].payment_time)
    for i in (1, 0, 2):  # the payer pays out of order: nothing changes
        fund_period(agent, yen, i)
        agent.pushPayments(i, [investor_a, investor_b], sender=treasury)
    assert token.balanceOf(investor_a) == 38
    assert token.totalSupply() == 38 + 2  # investor_b: 3 - 0 (floor 3/4) - 1 (floor 3/2)
    pay(agent, yen, 3, [investor_a, investor_b], travel, fund_period, treasury, periods[3])
    assert token.totalSupply() == 0
    assert principal_paid(agent) == 103 * FACE  # every issued unit's principal once
    for i in range(4):
        assert_conservation(agent, i)


def test_two_retirements_cannot_share_a_record_time(series, yen, deploy_agent, chain, admin, investor_a):
    series.register(investor_a, EXEMPT)
    now = chain.pending_timestamp
    periods = [
        Terms(now + 10 * DAY, now + 11 * DAY, principal=Fraction(FACE), redeem=Fraction(1, 4)),
        Terms(now + 100 * DAY, now + 101 * DAY, principal=Fraction(FACE), redeem=Fraction(1)),
    ]
    agent = deploy_agent(periods, yen)
    clash = Terms(now + 10 * DAY, now + 40 * DAY, principal=Fraction(FACE), redeem=Fraction(1, 2))
    with ape.reverts(agent.RetirementsShareRecordTime):
        agent.scheduleCall(clash.as_tuple(), sender=admin)


def test_record_times_of_a_series_with_payment_code_come_from_its_schedule(
    issued, schedule, yen, deploy_agent, series, admin, chain
):
    """The admin can no longer edit them directly (a dropped record time used to break its period for good)."""
    agent = deploy_agent(schedule, yen)
    token = series.token
    with ape.reverts(token.NotSeriesPayments):
        token.setRecordTimes([schedule[1].record_time], sender=admin)
    agent.syncRecordTimes(sender=admin)
    assert list(token.recordTimes()) == [t.record_time for t in schedule]


def test_the_register_now_leaves_out_units_retired_but_not_yet_burned(
    issued, schedule, yen, deploy_agent, series, travel, investor_a, investor_b, chain
):
    """The token shows retired units until the holder's next balance change; the holder register does not."""
    deploy_agent(schedule, yen)
    token = series.token
    travel(schedule[0].record_time + 1)
    assert (token.balanceOf(investor_a), token.pendingRetirement(investor_a)) == (100, 50)
    register = {line.wallet: line.units for line in holder_register(token, series.registry, start_block=0)}
    assert register == {investor_a.address: 50, investor_b.address: 5}
    at_record = holder_register(token, series.registry, start_block=0, record_time=schedule[0].record_time)
    assert {line.wallet: line.units for line in at_record} == {investor_a.address: 100, investor_b.address: 10}
