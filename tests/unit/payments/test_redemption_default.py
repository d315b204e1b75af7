"""Redemption (pay and burn), early calls (full and partial pro rata), amortization, default and cure."""

from fractions import Fraction

import ape
import pytest
from payment_helpers import EXEMPT, JP_INDIVIDUAL, Terms, assert_conservation, gross_for, taxes_for

FACE = 10_000  # ¥ per unit
COUPON_YEN = Fraction(85, 2)
JP_INDIVIDUAL_RATES = (153_150, 50_000)
DAY = 86_400


@pytest.fixture
def yen(make_payment_token):
    return make_payment_token(0)


@pytest.fixture
def holders(series, investor_a, investor_b):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, EXEMPT)
    series.issue(investor_a, 100)
    series.issue(investor_b, 7)
    return {investor_a: 100, investor_b: 7}


@pytest.fixture
def schedule(chain) -> list[Terms]:
    """Two coupons; the second is the maturity: coupon plus principal at par, all units retired."""
    now = chain.pending_timestamp
    return [
        Terms(now + 1000, now + 2000, coupon=COUPON_YEN),
        Terms(now + 200 * DAY, now + 201 * DAY, coupon=COUPON_YEN, principal=Fraction(FACE), redeem=Fraction(1)),
    ]


def net_of(terms: Terms, units: int, rates: tuple[int, ...]) -> int:
    coupon, principal, _ = gross_for(units, terms)
    return coupon + principal - sum(taxes_for(coupon, rates))


def test_redemption_pays_principal_untaxed_and_burns(
    holders, schedule, yen, deploy_agent, travel, fund_period, series, treasury, investor_a, investor_b
):
    agent = deploy_agent(schedule, yen)
    maturity = schedule[1]
    travel(maturity.record_time + 1)
    funded = fund_period(agent, yen, 1)
    assert funded == int(107 * COUPON_YEN) + 107 * FACE
    travel(maturity.payment_time)
    receipt = agent.pushPayments(1, [investor_a], sender=treasury)
    event = next(iter(receipt.events.filter(agent.PaymentMade)))
    assert (event.principalGross, event.unitsRedeemed) == (100 * FACE, 100)
    assert series.token.balanceOf(investor_a) == 0
    # Withholding applies to the coupon only: 4250 → 3388 net, principal in full.
    assert yen.balanceOf(investor_a) == net_of(maturity, 100, JP_INDIVIDUAL_RATES) == 3388 + 100 * FACE

    agent.claim(1, sender=investor_b)  # pull redemption
    assert series.token.balanceOf(investor_b) == 0
    assert yen.balanceOf(investor_b) == net_of(maturity, 7, ())
    assert series.token.totalSupply() == 0
    accounts = assert_conservation(agent, 1)
    assert accounts.held == funded - gross_for(100, maturity)[0] - gross_for(7, maturity)[0] - 107 * FACE


def test_frozen_holder_is_burned_and_principal_escrowed(
    holders, schedule, yen, deploy_agent, travel, fund_period, series, treasury, investor_a
):
    agent = deploy_agent(schedule, yen)
    maturity = schedule[1]
    travel(maturity.record_time + 1)
    fund_period(agent, yen, 1)
    travel(maturity.payment_time)
    series.freeze(investor_a)
    agent.pushPayments(1, [investor_a], sender=treasury)
    assert series.token.balanceOf(investor_a) == 0
    assert agent.escrowOf(1, investor_a) == sum(gross_for(100, maturity)[:2])
    series.freeze(investor_a, False)
    agent.releaseEscrow(1, investor_a, investor_a, sender=treasury)
    assert yen.balanceOf(investor_a) == net_of(maturity, 100, JP_INDIVIDUAL_RATES)


def test_partial_call_retires_pro_rata_rounding_units_down(
    holders,
    schedule,
    yen,
    deploy_agent,
    travel,
    fund_period,
    series,
    treasury,
    admin,
    investor_a,
    investor_b,
    chain,
):
    agent = deploy_agent(schedule, yen)
    now = chain.pending_timestamp
    notice = agent.callNotice()
    call = Terms(now + notice - 10, now + notice - 1, principal=Fraction(10_100), redeem=Fraction(1, 3))  # 101 % of par
    with ape.reverts(agent.CallNoticeTooShort):
        agent.scheduleCall(call.as_tuple(), sender=admin)
    call = Terms(now + 40 * DAY, now + 41 * DAY, principal=Fraction(10_100), redeem=Fraction(1, 3))
    receipt = agent.scheduleCall(call.as_tuple(), sender=admin)
    scheduled = next(iter(receipt.events.filter(agent.CallScheduled)))
    period = scheduled.period
    assert (period, scheduled.full) == (2, False)
    assert list(series.token.recordTimes()) == sorted(t.record_time for t in [*schedule, call])

    travel(call.record_time + 1)
    funded = fund_period(agent, yen, period)
    assert funded == int(int(107 * Fraction(1, 3)) * Fraction(10_100))
    travel(call.payment_time)
    agent.pushPayments(period, [investor_a, investor_b], sender=treasury)
    # floor(100 / 3) = 33 and floor(7 / 3) = 2 units retired; principal is never taxed.
    assert series.token.balanceOf(investor_a) == 100 - 33
    assert series.token.balanceOf(investor_b) == 7 - 2
    assert yen.balanceOf(investor_a) == 33 * 10_100
    assert yen.balanceOf(investor_b) == 2 * 10_100
    accounts = assert_conservation(agent, period)
    assert accounts.held == funded - 35 * 10_100 == 0


def test_full_call_cancels_later_periods(
    holders, schedule, yen, deploy_agent, travel, fund_period, series, treasury, admin, investor_a, chain
):
    agent = deploy_agent(schedule, yen)
    now = chain.pending_timestamp
    accrued = Fraction(85, 2) * Fraction(40, 182)  # coupon accrued to the call date, computed off chain
    call = Terms(now + 40 * DAY, now + 41 * DAY, coupon=accrued, principal=Fraction(FACE), redeem=Fraction(1))
    receipt = agent.scheduleCall(call.as_tuple(), sender=admin)
    assert [e.period for e in receipt.events.filter(agent.PeriodCancelled)] == [1]
    assert agent.periodState(1).cancelled
    assert list(series.token.recordTimes()) == [schedule[0].record_time, call.record_time]
    with ape.reverts(agent.PeriodIsCancelled):
        agent.fund(1, 1, sender=treasury)
    travel(call.record_time + 1)
    fund_period(agent, yen, 2)
    travel(call.payment_time)
    agent.claim(2, sender=investor_a)
    assert series.token.balanceOf(investor_a) == 0
    assert yen.balanceOf(investor_a) == net_of(call, 100, JP_INDIVIDUAL_RATES)


def test_amortization_pays_principal_without_burning(
    chain, holders, yen, deploy_agent, travel, fund_period, series, treasury, investor_a
):
    now = chain.pending_timestamp
    # Sinking-fund style: 20 % of par repaid each period on every unit, final 20 % retires the units.
    periods = [
        Terms(now + 1000 * k, now + 1000 * k + 500, coupon=COUPON_YEN, principal=Fraction(2_000)) for k in range(1, 5)
    ] + [Terms(now + 5000, now + 5500, coupon=COUPON_YEN, principal=Fraction(2_000), redeem=Fraction(1))]
    agent = deploy_agent(periods, yen)
    travel(now + 1501)
    fund_period(agent, yen, 0)
    agent.claim(0, sender=investor_a)
    assert series.token.balanceOf(investor_a) == 100
    assert yen.balanceOf(investor_a) == net_of(periods[0], 100, JP_INDIVIDUAL_RATES)
    paid = yen.balanceOf(investor_a)
    for k in range(1, 5):
        travel(periods[k].payment_time)
        fund_period(agent, yen, k)
        agent.pushPayments(k, [investor_a], sender=treasury)
        paid += net_of(periods[k], 100, JP_INDIVIDUAL_RATES)
        assert yen.balanceOf(investor_a) == paid
    assert series.token.balanceOf(investor_a) == 0
    principal_total = sum(gross_for(100, t)[1] for t in periods)
    assert principal_total == 100 * FACE


def test_default_is_marked_and_cured(holders, schedule, yen, deploy_agent, travel, treasury, outsider, fund_period):
    agent = deploy_agent(schedule, yen)
    first = schedule[0]
    travel(first.record_time + 1)
    with ape.reverts(agent.PaymentTimeNotReached):
        agent.markDefault(0, sender=outsider)
    travel(first.payment_time)
    receipt = agent.markDefault(0, sender=outsider)
    required = agent.requiredFunding(0)
    event = next(iter(receipt.events.filter(agent.PaymentDefaulted)))
    assert (event.required, event.covered) == (required, 0)
    assert agent.openDefaults() == 1 and agent.periodState(0).defaulted
    with ape.reverts(agent.AlreadyDefaulted):
        agent.markDefault(0, sender=outsider)

    yen.mint(treasury, required, sender=treasury)
    yen.approve(agent, required, sender=treasury)
    agent.fund(0, required - 1, sender=treasury)  # under-funded: still in default
    assert agent.openDefaults() == 1
    cure = agent.fund(0, 1, sender=treasury)
    cured = next(iter(cure.events.filter(agent.PaymentDefaultCured)))
    assert (cured.required, cured.covered) == (required, required)
    assert agent.openDefaults() == 0 and not agent.periodState(0).defaulted
    with ape.reverts(agent.PeriodCovered):
        agent.markDefault(0, sender=outsider)


def test_late_partial_funding_detects_default(holders, schedule, yen, deploy_agent, travel, treasury):
    agent = deploy_agent(schedule, yen)
    travel(schedule[0].payment_time + 1)
    yen.mint(treasury, 10, sender=treasury)
    yen.approve(agent, 10, sender=treasury)
    receipt = agent.fund(0, 10, sender=treasury)
    assert next(iter(receipt.events.filter(agent.PaymentDefaulted))).covered == 10
    assert agent.openDefaults() == 1


def test_amendment_emits_old_and_new_and_locks_after_record(
    holders, schedule, yen, deploy_agent, travel, admin, series
):
    agent = deploy_agent(schedule, yen)
    maturity = schedule[1]
    amended = Terms(
        maturity.record_time + DAY,
        maturity.payment_time + DAY,
        coupon=Fraction(43),
        principal=Fraction(FACE),
        redeem=Fraction(1),
    )
    receipt = agent.amendPeriod(1, amended.as_tuple(), sender=admin)
    event = next(iter(receipt.events.filter(agent.PeriodAmended)))
    assert tuple(event.oldTerms) == maturity.as_tuple()
    assert tuple(event.newTerms) == amended.as_tuple()
    assert list(series.token.recordTimes()) == [schedule[0].record_time, amended.record_time]
    receipt = agent.setTermSheetHash(b"\x22" * 32, sender=admin)
    hashes = next(iter(receipt.events.filter(agent.TermSheetHashUpdated)))
    assert (hashes.oldHash, hashes.newHash) == (b"\x11" * 32, b"\x22" * 32)
    travel(schedule[0].record_time + 1)
    with ape.reverts(agent.TermsLocked):
        agent.amendPeriod(0, schedule[0].as_tuple(), sender=admin)


def test_amendment_round_trips_principal_and_bounds_times_to_40_bits(holders, schedule, yen, deploy_agent, admin):
    agent = deploy_agent(schedule, yen)
    maturity = schedule[1]
    coupon_only = Terms(maturity.record_time, maturity.payment_time, coupon=Fraction(43))
    agent.amendPeriod(1, coupon_only.as_tuple(), sender=admin)
    assert tuple(agent.periodTerms(1)) == coupon_only.as_tuple()
    # Back to a redemption: the principal rational is stored again, not the stale coupon-only reading.
    agent.amendPeriod(1, maturity.as_tuple(), sender=admin)
    assert tuple(agent.periodTerms(1)) == maturity.as_tuple()
    with ape.reverts(agent.InvalidTimes):
        agent.amendPeriod(1, Terms(maturity.record_time, 2**40, coupon=Fraction(43)).as_tuple(), sender=admin)
    latest = Terms(maturity.record_time, 2**40 - 1, coupon=Fraction(43))
    agent.amendPeriod(1, latest.as_tuple(), sender=admin)
    assert agent.periodTerms(1).paymentTime == 2**40 - 1


SERIES_REDEEMED = 17


def test_units_stop_moving_after_the_final_redemption_record_time(
    holders, schedule, yen, deploy_agent, travel, fund_period, series, treasury, operator, investor_a, investor_b
):
    agent = deploy_agent(schedule, yen)
    token = series.token
    maturity = schedule[1]
    assert token.closesAfterLastRecordTime()  # set by the agent: its last period retires every unit
    # Between the coupon's record time and the redemption's, units still move (and are checkpointed).
    travel(schedule[0].record_time + 1)
    series.transfer(investor_a, investor_b, 1)
    travel(maturity.record_time + 1)
    # A view sees the closure before any transaction rolled the token's record cursor.
    assert token.detectTransferRestriction(investor_b, investor_a, 1) == SERIES_REDEEMED
    assert token.messageForTransferRestriction(SERIES_REDEEMED) == "SERIES_REDEEMED"
    with ape.reverts(token.TransferRestricted):
        series.transfer(investor_b, investor_a, 1)
    with ape.reverts(token.TransferRestricted):
        token.mint(investor_a, 1, sender=operator)
    with ape.reverts(token.TransferRestricted):
        token.forcedTransfer(investor_b, investor_a, 1, sender=operator)
    # Redemption still burns every unit recorded at the final record time.
    fund_period(agent, yen, 1)
    travel(maturity.payment_time)
    agent.pushPayments(1, [investor_a, investor_b], sender=treasury)
    assert token.totalSupply() == 0
    assert yen.balanceOf(investor_a) == net_of(maturity, 99, JP_INDIVIDUAL_RATES)
    assert yen.balanceOf(investor_b) == net_of(maturity, 8, ())


def test_closing_follows_the_schedule_and_only_admin_or_payer_sets_it(
    chain, holders, schedule, yen, deploy_agent, series, admin, outsider
):
    now = chain.pending_timestamp
    coupons_only = [Terms(now + 1000, now + 2000, coupon=COUPON_YEN), Terms(now + 3000, now + 4000, coupon=COUPON_YEN)]
    agent = deploy_agent(coupons_only, yen)
    token = series.token
    assert not token.closesAfterLastRecordTime()
    # A partial call as the latest period does not close the series; a full call does.
    partial = Terms(now + 40 * DAY, now + 41 * DAY, principal=Fraction(FACE), redeem=Fraction(1, 2))
    agent.scheduleCall(partial.as_tuple(), sender=admin)
    assert not token.closesAfterLastRecordTime()
    full = Terms(now + 50 * DAY, now + 51 * DAY, principal=Fraction(FACE), redeem=Fraction(1))
    receipt = agent.scheduleCall(full.as_tuple(), sender=admin)
    assert token.closesAfterLastRecordTime()
    changed = next(iter(receipt.events.filter(token.ClosesAfterLastRecordTimeSet)))
    assert (changed.oldCloses, changed.newCloses) == (False, True)
    # Amending the call into a coupon reopens the series after its last record time.
    agent.amendPeriod(3, Terms(full.record_time, full.payment_time, coupon=COUPON_YEN).as_tuple(), sender=admin)
    assert not token.closesAfterLastRecordTime()
    with ape.reverts(token.MissingRole):
        token.setClosesAfterLastRecordTime(True, sender=outsider)
    token.setClosesAfterLastRecordTime(True, sender=admin)
    assert token.closesAfterLastRecordTime()


def test_reclaiming_a_defaulted_period_ends_the_default(
    holders, schedule, yen, deploy_agent, travel, treasury, outsider, fund_period, investor_a
):
    """Before, `openDefaults` stayed 1 for good and `fund` reverted on the closed period."""
    agent = deploy_agent(schedule, yen)
    travel(schedule[0].payment_time + 1)
    yen.mint(treasury, 10, sender=treasury)
    yen.approve(agent, 10, sender=treasury)
    agent.fund(0, 10, sender=treasury)
    assert agent.openDefaults() == 1
    travel(agent.periodState(0).reclaimAfter)
    receipt = agent.reclaim(0, treasury, sender=treasury)
    ended = next(iter(receipt.events.filter(agent.PaymentDefaultEnded)))
    assert (ended.period, ended.required, ended.covered) == (0, agent.requiredFunding(0), 10)
    state = agent.periodState(0)
    assert (agent.openDefaults(), state.defaulted, state.closed) == (0, False, True)
    with ape.reverts(agent.PeriodIsClosed):
        agent.fund(0, 1, sender=treasury)


def test_bank_payments_can_be_recorded_after_reclaim(
    holders, schedule, yen, deploy_agent, travel, treasury, fund_period, series, investor_a, investor_b
):
    """docs/payments.md promised it; a bank-paid holder of a redemption period is recorded (and its units,
    retired at the record time, burned) after the unclaimed funding went back."""
    agent = deploy_agent(schedule, yen)
    maturity = schedule[1]
    travel(maturity.record_time + 1)
    fund_period(agent, yen, 1)
    travel(maturity.payment_time)
    agent.pushPayments(1, [investor_a], sender=treasury)
    travel(agent.periodState(1).reclaimAfter)
    agent.reclaim(1, treasury, sender=treasury)
    with ape.reverts(agent.LengthMismatch):
        agent.recordOffchainPayments(1, [investor_b], [], sender=treasury)
    receipt = agent.recordOffchainPayments(1, [investor_b], [b"\x02" * 32], sender=treasury)
    recorded = next(iter(receipt.events.filter(agent.OffchainPaymentRecorded)))
    assert (recorded.holder, recorded.unitsRedeemed) == (investor_b, 7)
    assert series.token.totalSupply() == 0
    assert agent.isSettled(1, investor_b)
    assert_conservation(agent, 1)
