"""Escrow for frozen/unverified holders, off-chain payments, reclaim after the deadline, decimals."""

from fractions import Fraction

import ape
import pytest
from payment_helpers import (
    JP_CORPORATE,
    JP_INDIVIDUAL,
    SWISS,
    Terms,
    assert_conservation,
    gross_for,
    taxes_for,
)

JP_INDIVIDUAL_RATES = (153_150, 50_000)
COUPON_YEN = Fraction(85, 2)  # ¥42.5 per ¥10,000 unit


@pytest.fixture
def period(chain) -> Terms:
    now = chain.pending_timestamp
    return Terms(record_time=now + 1000, payment_time=now + 2000, coupon=COUPON_YEN)


@pytest.fixture
def yen(make_payment_token):
    return make_payment_token(0)


@pytest.fixture
def holders(series, investor_a, investor_b, investor_c):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, JP_INDIVIDUAL)
    series.register(investor_c, JP_CORPORATE)
    series.issue(investor_a, 100)
    series.issue(investor_b, 37)
    series.issue(investor_c, 9)
    return {investor_a: 100, investor_b: 37, investor_c: 9}


@pytest.fixture
def funded_agent(holders, period, yen, deploy_agent, travel, fund_period):
    agent = deploy_agent([period], yen)
    travel(period.record_time + 1)
    fund_period(agent, yen, 0)
    travel(period.payment_time)
    return agent


def test_frozen_holder_is_escrowed_then_released(
    funded_agent, yen, series, period, treasury, investor_a, investor_b, tax_account
):
    agent = funded_agent
    series.freeze(investor_a)
    receipt = agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    escrowed = next(iter(receipt.events.filter(agent.PaymentEscrowed)))
    gross_a, _, _ = gross_for(100, period)
    assert (escrowed.holder, escrowed.couponGross) == (investor_a.address, gross_a)
    assert yen.balanceOf(investor_a) == 0
    assert agent.escrowOf(0, investor_a) == gross_a
    assert agent.isSettled(0, investor_a)
    with ape.reverts(agent.AlreadySettled):
        agent.claim(0, sender=investor_a)
    assert assert_conservation(agent, 0).escrowed == gross_a

    with ape.reverts(agent.RecipientNotEligible):
        agent.releaseEscrow(0, investor_a, investor_a, sender=treasury)
    series.freeze(investor_a, False)
    tax_before = yen.balanceOf(tax_account)
    release = agent.releaseEscrow(0, investor_a, investor_a, sender=treasury)
    national, local = taxes_for(gross_a, JP_INDIVIDUAL_RATES)
    assert yen.balanceOf(investor_a) == gross_a - national - local
    assert yen.balanceOf(tax_account) - tax_before == national
    assert next(iter(release.events.filter(agent.EscrowReleased))).gross == gross_a
    assert agent.escrowOf(0, investor_a) == 0
    with ape.reverts(agent.NoEscrow):
        agent.releaseEscrow(0, investor_a, investor_a, sender=treasury)
    accounts = assert_conservation(agent, 0)
    assert accounts.escrowed == 0


def test_expired_kyc_is_escrowed_and_released_to_recovered_wallet(
    funded_agent, yen, series, period, treasury, investor_b, investor_d, chain
):
    agent = funded_agent
    series.register(investor_b, JP_INDIVIDUAL, kyc_expiry=chain.pending_timestamp - 1)
    agent.claim(0, sender=investor_b)
    gross_b, _, _ = gross_for(37, period)
    assert agent.escrowOf(0, investor_b) == gross_b
    assert yen.balanceOf(investor_b) == 0
    # The investor renews KYC with a new wallet linked to the same identity (renewal applies to both wallets).
    series.register(investor_d, JP_INDIVIDUAL, same_investor_as=investor_b)
    release = agent.releaseEscrow(0, investor_b, investor_d, sender=treasury)
    national, local = taxes_for(gross_b, JP_INDIVIDUAL_RATES)
    assert yen.balanceOf(investor_d) == gross_b - national - local
    made = next(iter(release.events.filter(agent.PaymentMade)))  # the release carries the split, by `to`'s class
    assert (made.holder, made.to, made.taxClass) == (investor_b.address, investor_d.address, JP_INDIVIDUAL)
    assert (list(made.taxes), made.net) == ([national, local], gross_b - national - local)


def test_release_to_another_investor_reverts(funded_agent, series, treasury, investor_a, investor_c):
    agent = funded_agent
    series.freeze(investor_a)
    agent.pushPayments(0, [investor_a], sender=treasury)
    series.freeze(investor_a, False)
    with ape.reverts(agent.NotSameInvestor):
        agent.releaseEscrow(0, investor_a, investor_c, sender=treasury)


def test_bank_record_withholds_by_each_holders_class_in_the_event_only(
    funded_agent, yen, series, period, treasury, investor_b, investor_c
):
    agent = funded_agent
    before = (list(agent.taxPending(JP_INDIVIDUAL)), list(agent.taxPending(JP_CORPORATE)), yen.balanceOf(agent))
    receipt = agent.recordOffchainPayments(0, [investor_b, investor_c], [b"\x01" * 32, b"\x02" * 32], sender=treasury)
    events = {e.holder: e for e in receipt.events.filter(agent.OffchainPaymentRecorded)}
    gross_b, _, _ = gross_for(37, period)
    gross_c, _, _ = gross_for(9, period)
    (national_c,) = taxes_for(gross_c, (153_150,))
    b, c = events[investor_b.address], events[investor_c.address]
    assert (b.taxClass, list(b.taxes), b.net) == (
        JP_INDIVIDUAL,
        list(taxes_for(gross_b, JP_INDIVIDUAL_RATES)),
        gross_b - sum(taxes_for(gross_b, JP_INDIVIDUAL_RATES)),
    )
    assert (c.taxClass, list(c.taxes), c.net) == (JP_CORPORATE, [national_c], gross_c - national_c)
    # Recorded, not accrued: no pending withholding, no tax counted for the period, no token moved.
    after = (list(agent.taxPending(JP_INDIVIDUAL)), list(agent.taxPending(JP_CORPORATE)), yen.balanceOf(agent))
    assert after == before
    assert agent.accounts(0).taxWithheld == 0


def test_offchain_payment_marks_settled_without_moving_tokens(
    funded_agent, yen, period, treasury, investor_a, investor_b
):
    agent = funded_agent
    ref = b"\xab" * 32
    before = yen.balanceOf(agent)
    receipt = agent.recordOffchainPayments(0, [investor_a], [ref], sender=treasury)
    event = next(iter(receipt.events.filter(agent.OffchainPaymentRecorded)))
    gross_a, _, _ = gross_for(100, period)
    assert (event.holder, event.couponGross, event.paymentReference) == (investor_a.address, gross_a, ref)
    # The withholding an on-chain payment would make (same class, same rounding), recorded in the event only.
    national, local = taxes_for(gross_a, JP_INDIVIDUAL_RATES)
    assert (event.taxClass, list(event.taxes)) == (JP_INDIVIDUAL, [national, local])
    assert event.net == gross_a - national - local
    assert list(agent.withholding(JP_INDIVIDUAL, gross_a)) == [[national, local], national + local]
    assert yen.balanceOf(agent) == before
    assert yen.balanceOf(investor_a) == 0
    with ape.reverts(agent.AlreadySettled):
        agent.claim(0, sender=investor_a)
    with ape.reverts(agent.AlreadySettled):
        agent.recordOffchainPayments(0, [investor_a], [ref], sender=treasury)
    pushed = agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    assert [e.holder for e in pushed.events.filter(agent.PaymentMade)] == [investor_b.address]
    accounts = assert_conservation(agent, 0)
    assert accounts.offchainGross == gross_a
    assert accounts.taxWithheld == sum(taxes_for(accounts.settledGross, JP_INDIVIDUAL_RATES))  # b's only
    assert list(agent.taxPending(JP_INDIVIDUAL)) == [0, 0]  # b's push was swept; a's bank payment accrued nothing


def test_offchain_before_funding_reduces_the_shortfall(
    holders, period, yen, deploy_agent, travel, treasury, investor_a, investor_b, investor_c, fund_period
):
    agent = deploy_agent([period], yen)
    travel(period.record_time + 1)
    required = agent.requiredFunding(0)
    gross_a, _, _ = gross_for(100, period)
    agent.recordOffchainPayments(0, [investor_a], [b"\x01" * 32], sender=treasury)
    assert agent.fundingShortfall(0) == required - gross_a
    funded = fund_period(agent, yen, 0)
    assert funded == required - gross_a
    travel(period.payment_time)
    agent.pushPayments(0, [investor_b, investor_c], sender=treasury)
    accounts = assert_conservation(agent, 0)
    assert accounts.held == funded - sum(gross_for(u, period)[0] for u in (37, 9))


def test_reclaim_only_after_deadline_and_conservation_holds(
    funded_agent, yen, series, period, treasury, investor_a, investor_b, investor_c, outsider, travel
):
    agent = funded_agent
    series.freeze(investor_c)
    agent.pushPayments(0, [investor_a, investor_c], sender=treasury)  # investor_b never claims
    state = agent.periodState(0)
    assert state.reclaimAfter == period.payment_time + agent.reclaimDelay()
    with ape.reverts(agent.ReclaimTooEarly):
        agent.reclaim(0, treasury, sender=treasury)
    travel(state.reclaimAfter)

    receipt = agent.reclaim(0, treasury, sender=treasury)
    amount = next(iter(receipt.events.filter(agent.Reclaimed))).amount
    grosses = {h: gross_for(u, period)[0] for h, u in ((investor_a, 100), (investor_b, 37), (investor_c, 9))}
    rounding_remainder = int(Fraction(146) * COUPON_YEN) - sum(grosses.values())
    assert amount == grosses[investor_b] + rounding_remainder
    assert yen.balanceOf(treasury) == amount

    accounts = assert_conservation(agent, 0)
    national, local = taxes_for(grosses[investor_a], JP_INDIVIDUAL_RATES)
    assert accounts.paidNet == grosses[investor_a] - national - local
    assert accounts.taxWithheld == national + local
    assert accounts.escrowed == grosses[investor_c]
    assert accounts.reclaimed == amount
    assert accounts.held == 0
    assert accounts.funded == accounts.paidNet + accounts.taxWithheld + accounts.escrowed + accounts.reclaimed
    # The agent holds exactly the escrow after reclaim.
    assert yen.balanceOf(agent) == accounts.escrowed

    with ape.reverts(agent.PeriodIsClosed):
        agent.claim(0, sender=investor_b)
    with ape.reverts(agent.PeriodIsClosed):
        agent.reclaim(0, treasury, sender=treasury)
    # Escrow survives the reclaim and can still be released.
    series.freeze(investor_c, False)
    agent.releaseEscrow(0, investor_c, investor_c, sender=treasury)
    assert yen.balanceOf(agent) == 0
    assert_conservation(agent, 0)


@pytest.mark.parametrize("decimals", [0, 2, 6, 18])
def test_payment_token_decimals(
    decimals,
    chain,
    series,
    make_payment_token,
    deploy_agent,
    travel,
    fund_period,
    treasury,
    investor_a,
    investor_b,
):
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, SWISS)
    series.issue(investor_a, 101)
    series.issue(investor_b, 13)
    coupon = Fraction(85, 2) * 10**decimals / 3  # a coupon that never divides evenly
    now = chain.pending_timestamp
    terms = Terms(now + 1000, now + 2000, coupon=coupon)
    cash = make_payment_token(decimals)
    agent = deploy_agent([terms], cash)
    travel(terms.record_time + 1)
    funded = fund_period(agent, cash, 0)
    assert funded == int(114 * coupon)
    travel(terms.payment_time)
    agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    gross_a, _, _ = gross_for(101, terms)
    gross_b, _, _ = gross_for(13, terms)
    assert cash.balanceOf(investor_a) == gross_a - sum(taxes_for(gross_a, JP_INDIVIDUAL_RATES))
    assert cash.balanceOf(investor_b) == gross_b - sum(taxes_for(gross_b, (350_000,)))
    accounts = assert_conservation(agent, 0)
    assert accounts.held == funded - gross_a - gross_b
    assert cash.balanceOf(agent) == accounts.held


def test_tax_class_configuration_emits_old_and_new(funded_agent, admin, tax_account, outsider):
    agent = funded_agent
    old = [(c.ratePpm, c.account.lower()) for c in agent.taxComponents(SWISS)]
    assert old == [(350_000, tax_account.address.lower())]
    receipt = agent.setTaxClass(SWISS, [(350_000, outsider.address)], sender=admin)
    event = next(iter(receipt.events.filter(agent.TaxClassUpdated)))
    assert [(rate, account.lower()) for rate, account in event.oldComponents] == old
    assert [(rate, account.lower()) for rate, account in event.newComponents] == [(350_000, outsider.address.lower())]
    with ape.reverts(agent.InvalidTaxClass):
        agent.setTaxClass(SWISS, [(600_000, outsider.address), (400_001, outsider.address)], sender=admin)
    receipt = agent.setTaxAccount(outsider, sender=admin)
    event = next(iter(receipt.events.filter(agent.TaxAccountUpdated)))
    assert (event.oldAccount, event.newAccount) == (tax_account.address, outsider.address)


def test_payment_record_lists_every_kind_of_settlement(
    funded_agent, chain, yen, series, period, treasury, investor_a, investor_b, investor_c
):
    """munibond's payment record (`coupon payments`) read back from the agent's events of one period."""
    from munibond.chain.payment_record import ESCROWED, OFFCHAIN, PAID, RELEASED, payment_lines, payment_record_csv

    agent = funded_agent
    start = chain.blocks.height
    ref = b"\x5a" * 32
    agent.recordOffchainPayments(0, [investor_c], [ref], sender=treasury)
    series.freeze(investor_a)
    agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    series.freeze(investor_a, False)
    agent.releaseEscrow(0, investor_a, investor_a, sender=treasury)
    lines = payment_lines(agent, 0, start_block=start)
    assert [(line.holder, line.kind) for line in lines] == [
        (investor_c.address, OFFCHAIN),
        (investor_a.address, ESCROWED),
        (investor_b.address, PAID),
        (investor_a.address, RELEASED),
    ]
    gross_a, _, _ = gross_for(100, period)
    gross_b, _, _ = gross_for(37, period)
    offchain, escrowed, paid, released = lines
    assert offchain.reference == "0x" + ref.hex()
    assert offchain.coupon_gross == gross_for(9, period)[0]
    # the bank pays net of the withholding the event records for the holder's class (a corporation: national only)
    assert list(offchain.taxes) == list(taxes_for(offchain.coupon_gross, (153_150,)))
    assert offchain.net == offchain.coupon_gross - offchain.tax
    assert escrowed.coupon_gross == gross_a and escrowed.net == 0 and escrowed.to == agent.address
    assert list(paid.taxes) == list(taxes_for(gross_b, JP_INDIVIDUAL_RATES)) and paid.net == yen.balanceOf(investor_b)
    assert released.net == yen.balanceOf(investor_a) == gross_a - released.tax
    rows = payment_record_csv(lines).splitlines()
    assert rows[0].startswith("holder,to,kind,coupon_gross,principal_gross,tax_1,tax_2,tax_total,net,")
    assert len(rows) == 5
    assert payment_lines(agent, 1, start_block=start) == []
