"""The agent on the real BondToken and InvestorRegistry: record dates, recovery, partial freezes."""

from fractions import Fraction

import ape
import pytest
from eth_utils import keccak
from payment_helpers import EXEMPT, JP_INDIVIDUAL, Terms, assert_conservation, gross_for, taxes_for

COUPON_YEN = Fraction(85, 2)
FACE = 10_000
JP_INDIVIDUAL_RATES = (153_150, 50_000)

TOKEN_PAYER_ROLE = keccak(text="PAYER_ROLE")  # the bond token's role of its payment agent


@pytest.fixture
def yen(make_payment_token):
    return make_payment_token(0)


@pytest.fixture
def two_coupons(chain) -> list[Terms]:
    now = chain.pending_timestamp
    return [
        Terms(now + 1000, now + 2000, coupon=COUPON_YEN),
        Terms(now + 3000, now + 4000, coupon=COUPON_YEN, principal=Fraction(FACE), redeem=Fraction(1)),
    ]


def net_coupon(units: int, terms: Terms) -> int:
    gross, _, _ = gross_for(units, terms)
    return gross - sum(taxes_for(gross, JP_INDIVIDUAL_RATES))


def test_transfers_after_the_record_time_do_not_move_the_entitlement(
    series, two_coupons, yen, deploy_agent, travel, fund_period, treasury, investor_a, investor_b, operator
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, JP_INDIVIDUAL)
    series.issue(investor_a, 100)
    agent = deploy_agent(two_coupons, yen)
    first = two_coupons[0]
    series.transfer(investor_a, investor_b, 10)  # before the record time: the buyer is entitled
    travel(first.record_time + 1)
    series.transfer(investor_a, investor_b, 30)  # after it: the seller keeps this period's coupon
    series.token.mint(investor_b, 5, sender=operator)  # a late mint does not change the required funding
    assert series.token.balanceOfAt(investor_a, first.record_time) == 90
    assert series.token.balanceOfAt(investor_b, first.record_time) == 10
    funded = fund_period(agent, yen, 0)
    assert funded == int(100 * COUPON_YEN)
    travel(first.payment_time)
    agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    assert yen.balanceOf(investor_a) == net_coupon(90, first)
    assert yen.balanceOf(investor_b) == net_coupon(10, first)
    assert assert_conservation(agent, 0).held == funded - sum(gross_for(u, first)[0] for u in (90, 10))


def test_funding_in_the_record_second_is_refused(series, two_coupons, yen, deploy_agent, chain, treasury):
    series.register(treasury, EXEMPT)
    series.issue(treasury, 1)
    agent = deploy_agent(two_coupons, yen)
    # The funding transaction is mined exactly at the record time: transfers in this very second still count
    # for the record date, so the supply is not final yet.
    chain.pending_timestamp = two_coupons[0].record_time
    with ape.reverts(agent.PeriodRecordTimeNotPassed):
        agent.fund(0, 1, sender=treasury)


def test_recovered_wallet_gets_the_escrow_of_the_lost_one(
    series, two_coupons, yen, deploy_agent, travel, fund_period, treasury, investor_a, investor_d, operator
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.issue(investor_a, 100)
    agent = deploy_agent(two_coupons, yen)
    first, maturity = two_coupons
    travel(first.record_time + 1)
    # The investor lost wallet A after the record time: the transfer agent freezes it, links the new wallet
    # and recovers the units (the token carries the freeze over; the new wallet is unfrozen once checked).
    series.freeze(investor_a)
    series.register(investor_d, JP_INDIVIDUAL, same_investor_as=investor_a)
    series.recover(investor_a, investor_d)
    series.freeze(investor_d, False)
    assert series.token.balanceOf(investor_d) == 100
    assert series.token.balanceOfAt(investor_a, first.record_time) == 100
    fund_period(agent, yen, 0)
    travel(first.payment_time)
    receipt = agent.pushPayments(0, [investor_a, investor_d], sender=treasury)
    assert [e.holder for e in receipt.events.filter(agent.PaymentEscrowed)] == [investor_a.address]
    assert list(receipt.events.filter(agent.PaymentMade)) == []  # the new wallet held nothing at the record
    agent.releaseEscrow(0, investor_a, investor_d, sender=treasury)
    assert yen.balanceOf(investor_d) == net_coupon(100, first)
    assert yen.balanceOf(investor_a) == 0
    assert assert_conservation(agent, 0).escrowed == 0

    # The maturity is paid on the new wallet and burns its units.
    travel(maturity.record_time + 1)
    fund_period(agent, yen, 1)
    travel(maturity.payment_time)
    agent.claim(1, sender=investor_d)
    assert series.token.balanceOf(investor_d) == 0
    assert series.token.totalSupply() == 0
    assert yen.balanceOf(investor_d) == net_coupon(100, first) + net_coupon(100, maturity) + 100 * FACE


def test_redemption_burns_partially_frozen_units(
    series, two_coupons, yen, deploy_agent, travel, fund_period, treasury, investor_a, operator
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.issue(investor_a, 100)
    agent = deploy_agent(two_coupons, yen)
    series.token.freezePartialTokens(investor_a, 40, sender=operator)
    maturity = two_coupons[1]
    travel(maturity.record_time + 1)
    fund_period(agent, yen, 1)
    travel(maturity.payment_time)
    receipt = agent.pushPayments(1, [investor_a], sender=treasury)
    # A partial freeze does not stop the payment; the redemption burns the frozen units as well.
    assert next(iter(receipt.events.filter(agent.PaymentMade))).unitsRedeemed == 100
    assert series.token.balanceOf(investor_a) == 0
    assert series.token.getFrozenTokens(investor_a) == 0
    assert yen.balanceOf(investor_a) == net_coupon(100, maturity) + 100 * FACE


def test_kyc_expiring_at_the_payment_moment_escrows(
    series, two_coupons, yen, deploy_agent, travel, fund_period, treasury, investor_a, chain
):
    first = two_coupons[0]
    series.register(investor_a, JP_INDIVIDUAL, kyc_expiry=first.payment_time)
    series.issue(investor_a, 100)
    agent = deploy_agent(two_coupons, yen)
    travel(first.record_time + 1)
    fund_period(agent, yen, 0)
    travel(first.payment_time)
    # The registry's expiry is exclusive: verified strictly before kycExpiry.
    assert not series.registry.isVerified(investor_a)
    agent.pushPayments(0, [investor_a], sender=treasury)
    assert agent.escrowOf(0, investor_a) == gross_for(100, first)[0]
    assert yen.balanceOf(investor_a) == 0


def test_settlement_marks_live_in_the_account_word_and_are_written_once(
    series, two_coupons, yen, deploy_agent, travel, fund_period, investor_a, investor_b
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, JP_INDIVIDUAL)
    series.issue(investor_a, 7)
    agent = deploy_agent(two_coupons, yen)
    first = two_coupons[0]
    travel(first.record_time + 1)
    fund_period(agent, yen, 0)
    travel(first.payment_time)
    assert series.token.paymentAccount(investor_a, first.record_time) == (7, False, 0)
    agent.claim(0, sender=investor_a)
    assert series.token.paymentAccount(investor_a, first.record_time) == (7, False, 1)
    with ape.reverts(agent.AlreadySettled):
        agent.claim(0, sender=investor_a)
    # No units at the record time: nothing to settle, no mark written.
    with ape.reverts(agent.NothingToPay):
        agent.claim(0, sender=investor_b)
    assert series.token.paymentAccount(investor_b, first.record_time) == (0, False, 0)
    with ape.reverts(series.token.UnknownRecordTime):
        series.token.paymentAccount(investor_a, first.record_time - 1)


def test_periods_beyond_the_token_bits_settle_in_the_agent(
    chain, series, yen, deploy_agent, travel, fund_period, treasury, investor_a, investor_b
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, EXEMPT)
    series.issue(investor_a, 10)
    series.issue(investor_b, 3)
    now = chain.pending_timestamp
    periods = [Terms(now + 1000 * (k + 1), now + 1000 * (k + 1) + 500, coupon=Fraction(7, 2)) for k in range(31)]
    agent = deploy_agent(periods, yen)
    for k in (27, 28, 29, 30):  # 0..28 flag in the token's account word, 29.. in the agent's bitmap
        travel(periods[k].payment_time)
        fund_period(agent, yen, k)
        agent.pushPayments(k, [investor_a], sender=treasury)
        agent.claim(k, sender=investor_b)
        assert agent.isSettled(k, investor_a) and agent.isSettled(k, investor_b)
        with ape.reverts(agent.AlreadySettled):
            agent.claim(k, sender=investor_b)
        again = agent.pushPayments(k, [investor_a, investor_b], sender=treasury)
        assert list(again.events.filter(agent.PaymentMade)) == []
        assert_conservation(agent, k)
    assert not agent.isSettled(26, investor_a)
    assert yen.balanceOf(investor_a) == 4 * net_coupon(10, periods[0])
    assert yen.balanceOf(investor_b) == 4 * gross_for(3, periods[0])[0]
