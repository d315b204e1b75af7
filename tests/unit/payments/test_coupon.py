"""Coupon path: schedule, funding, push/claim interplay, idempotency and exact withholding."""

from fractions import Fraction

import ape
import pytest
from ape.contracts import ContractInstance
from eth_utils import keccak
from payment_helpers import (
    EXEMPT,
    JP_CORPORATE,
    JP_INDIVIDUAL,
    SWISS,
    Terms,
    assert_conservation,
    coupon_net_for,
    gross_for,
    taxes_for,
)

from munibond.chain.deployment import payments_contract_type
from tests.conftest import payment_agent_interface_id

# ¥10,000 units at 0.85 % a year, paid semi-annually: 10,000 × 0.0085 / 2 = ¥42.5 per unit.
COUPON_PER_UNIT = Fraction(10_000) * Fraction(85, 10_000) / 2
JP_INDIVIDUAL_RATES = (153_150, 50_000)

TOKEN_PAYER_ROLE = keccak(text="PAYER_ROLE")  # the bond token's role of its payment agent

ADMIN_BIT = 1  # the series' role bits (MissingRole.roleMask)
PAYER_BIT = 64


@pytest.fixture
def coupon_series(chain, series, investor_a, investor_b, investor_c, make_payment_token, deploy_agent):
    """Three holders (individual, corporate, exempt), one coupon period; returns (agent, yen, terms)."""
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_b, JP_CORPORATE)
    series.register(investor_c, EXEMPT)
    series.issue(investor_a, 100)
    series.issue(investor_b, 37)
    series.issue(investor_c, 5)
    now = chain.pending_timestamp
    terms = Terms(record_time=now + 1000, payment_time=now + 2000, coupon=COUPON_PER_UNIT)
    yen = make_payment_token(0)
    agent = deploy_agent([terms], yen)
    return agent, yen, terms


def test_implementation_cannot_be_initialized(project, agent_implementation, series, admin):
    """Neither half of the payment code can be initialized outside a series (the admin half is reached through
    the money half's fallback, as in a series)."""
    for implementation in (agent_implementation, agent_implementation.adminImplementation()):
        with ape.reverts():
            project.PaymentAgentAdmin.at(implementation).initialize(
                series.registry, series.registry, admin, b"", sender=admin
            )


def test_payments_cannot_be_initialized_twice(project, coupon_series, series, admin):
    agent, _, _ = coupon_series
    # The PaymentAgent ABI alone: at the series address Ape merges it with the token's, whose initialize overloads.
    payments = ContractInstance(agent.address, payments_contract_type(project))
    with ape.reverts(agent.PaymentsNotInitializable):
        payments.initialize(series.token, series.registry, admin, b"", sender=admin)


def test_factory_wires_agent_to_real_token(project, coupon_series, series):
    agent, _, _ = coupon_series
    assert agent.address == agent.token() == series.token.address  # one series: token and payments
    assert agent.registry() == series.registry.address
    assert not series.token.hasRole(TOKEN_PAYER_ROLE, agent)  # it needs no role on itself
    assert series.token.supportsInterface(payment_agent_interface_id(project))  # ERC-165: the payment functions


def test_a_series_with_payments_keeps_its_registry(coupon_series, series, admin, outsider):
    """Payments verify holders in the deployment's registry, so transfers cannot move to another one."""
    agent, _, _ = coupon_series
    with ape.reverts(series.token.RegistryFixedByPayments, registry=series.registry.address):
        series.token.setIdentityRegistry(outsider, sender=admin)
    series.token.setIdentityRegistry(series.registry, sender=admin)  # the same registry stays settable
    assert series.token.identityRegistry() == agent.registry() == series.registry.address


@pytest.mark.parametrize("name", ["PaymentAgent", "PaymentAgentAdmin"])
def test_runtime_size_below_limit(project, name):
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    assert (len(code) - 2) // 2 < 24_576


def test_schedule_and_record_times_written(coupon_series, series, admin, treasury):
    agent, yen, terms = coupon_series
    assert agent.periodCount() == 1
    stored = agent.periodTerms(0)
    assert (stored.couponNum, stored.couponDen) == (85, 2)
    assert (stored.recordTime, stored.paymentTime) == (terms.record_time, terms.payment_time)
    assert list(series.token.recordTimes()) == [terms.record_time]
    assert agent.paymentToken() == yen.address
    assert agent.hasRole(agent.PAYER_ROLE(), treasury)
    assert agent.hasRole(agent.DEFAULT_ADMIN_ROLE(), admin)


def test_funding_before_record_time_reverts(coupon_series, treasury):
    agent, _, _ = coupon_series
    with ape.reverts(agent.PeriodRecordTimeNotPassed):
        agent.fund(0, 1, sender=treasury)


def test_fund_requires_total_supply_times_coupon(coupon_series, travel, treasury, fund_period):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    expected = int(Fraction(100 + 37 + 5) * COUPON_PER_UNIT)
    assert agent.requiredFunding(0) == expected
    yen.mint(treasury, expected + 1, sender=treasury)
    yen.approve(agent, expected + 1, sender=treasury)
    with ape.reverts(agent.FundingExceedsShortfall):
        agent.fund(0, expected + 1, sender=treasury)
    receipt = agent.fund(0, expected, sender=treasury)
    event = next(iter(receipt.events.filter(agent.PeriodFunded)))
    assert (event.amount, event.funded, event.required) == (expected, expected, expected)
    assert agent.fundingShortfall(0) == 0
    assert yen.balanceOf(agent) == expected


def test_push_pays_exact_japanese_withholding(
    coupon_series,
    travel,
    treasury,
    fund_period,
    investor_a,
    investor_b,
    investor_c,
    tax_account,
    local_tax_account,
):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    funded = fund_period(agent, yen, 0)
    travel(terms.payment_time)
    receipt = agent.pushPayments(0, [investor_a, investor_b, investor_c], sender=treasury)

    gross_a, _, _ = gross_for(100, terms)
    national_a, local_a = taxes_for(gross_a, JP_INDIVIDUAL_RATES)
    # The worked example of the Japanese convention: ¥4,250 → ¥650 national, ¥212 local, ¥3,388 net.
    assert (gross_a, national_a, local_a) == (4250, 650, 212)
    assert yen.balanceOf(investor_a) == gross_a - national_a - local_a == 3388

    gross_b, _, _ = gross_for(37, terms)  # 37 × 42.5 = 1572.5 → ¥1,572
    (national_b,) = taxes_for(gross_b, (153_150,))
    assert yen.balanceOf(investor_b) == gross_b - national_b
    gross_c, _, _ = gross_for(5, terms)
    assert yen.balanceOf(investor_c) == gross_c

    assert yen.balanceOf(tax_account) == national_a + national_b  # corporate component uses the default account
    assert yen.balanceOf(local_tax_account) == local_a

    events = {e.holder: e for e in receipt.events.filter(agent.PaymentMade)}
    assert events[investor_a.address].couponGross == gross_a
    assert list(events[investor_a.address].taxes) == [national_a, local_a]
    assert events[investor_a.address].net == 3388
    assert events[investor_a.address].taxClass == JP_INDIVIDUAL
    assert (events[investor_b.address].taxClass, list(events[investor_b.address].taxes)) == (JP_CORPORATE, [national_b])
    assert (events[investor_c.address].taxClass, list(events[investor_c.address].taxes)) == (EXEMPT, [])

    accounts = assert_conservation(agent, 0)
    paid = gross_a + gross_b + gross_c
    assert accounts.settledGross == paid
    assert accounts.taxWithheld == national_a + local_a + national_b
    # Rounding remainder: investor_b (1572.5) and investor_c (212.5) each lose ½ yen, which stays funded.
    assert funded == int(Fraction(142) * COUPON_PER_UNIT)
    assert accounts.held == funded - paid == 1


def test_push_is_idempotent_and_resumable(
    coupon_series, travel, treasury, fund_period, investor_a, investor_b, investor_c
):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    first = agent.pushPayments(0, [investor_a, investor_a], sender=treasury)
    assert len(list(first.events.filter(agent.PaymentMade))) == 1
    balance_a = yen.balanceOf(investor_a)
    resumed = agent.pushPayments(0, [investor_a, investor_b, investor_c], sender=treasury)
    paid = [e.holder for e in resumed.events.filter(agent.PaymentMade)]
    assert paid == [investor_b.address, investor_c.address]
    assert yen.balanceOf(investor_a) == balance_a
    again = agent.pushPayments(0, [investor_a, investor_b, investor_c], sender=treasury)
    assert list(again.events.filter(agent.PaymentMade)) == []
    assert all(agent.isSettled(0, h) for h in (investor_a, investor_b, investor_c))
    assert_conservation(agent, 0)


def test_push_skips_wallets_without_units(coupon_series, travel, treasury, fund_period, outsider):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    receipt = agent.pushPayments(0, [outsider], sender=treasury)
    assert list(receipt.events.filter(agent.PaymentMade)) == []
    assert not agent.isSettled(0, outsider)
    with ape.reverts(agent.NothingToPay):
        agent.claim(0, sender=outsider)


def test_claim_after_push_reverts_and_push_after_claim_skips(
    coupon_series, travel, treasury, fund_period, investor_a, investor_b
):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    agent.pushPayments(0, [investor_a], sender=treasury)
    with ape.reverts(agent.AlreadySettled):
        agent.claim(0, sender=investor_a)

    agent.claim(0, sender=investor_b)
    gross_b, _, _ = gross_for(37, terms)
    balance_b = yen.balanceOf(investor_b)
    assert balance_b == gross_b - taxes_for(gross_b, (153_150,))[0]
    receipt = agent.pushPayments(0, [investor_b], sender=treasury)
    assert list(receipt.events.filter(agent.PaymentMade)) == []
    assert yen.balanceOf(investor_b) == balance_b
    assert_conservation(agent, 0)


def test_claim_before_payment_time_or_unfunded_reverts(coupon_series, travel, investor_a, fund_period):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    with ape.reverts(agent.PaymentTimeNotReached):
        agent.claim(0, sender=investor_a)
    travel(terms.payment_time)
    with ape.reverts(agent.PeriodUnderfunded):
        agent.claim(0, sender=investor_a)
    fund_period(agent, yen, 0)
    agent.claim(0, sender=investor_a)
    assert yen.balanceOf(investor_a) == 3388


def test_claim_many_periods(chain, series, investor_a, make_payment_token, deploy_agent, travel, fund_period):
    series.register(investor_a, SWISS)
    series.issue(investor_a, 3)
    now = chain.pending_timestamp
    periods = [
        Terms(now + 1000, now + 2000, coupon=Fraction(7, 3)),
        Terms(now + 3000, now + 4000, coupon=Fraction(11, 2)),
    ]
    chf = make_payment_token(2)
    agent = deploy_agent(periods, chf)
    travel(now + 3001)
    fund_period(agent, chf, 0)
    fund_period(agent, chf, 1)
    travel(now + 4000)
    agent.claimMany([0, 1], sender=investor_a)
    assert chf.balanceOf(investor_a) == coupon_net_for(3, periods, (350_000,))
    with ape.reverts(agent.AlreadySettled):
        agent.claimMany([1], sender=investor_a)


def test_coupon_rationals_wider_than_the_period_word_are_kept_exactly(
    chain, series, investor_a, make_payment_token, deploy_agent, travel, fund_period, admin
):
    """A coupon rational fitting 88/80 bits lives in the period's first word; a wider one in its own slot."""
    series.register(investor_a, SWISS)
    series.issue(investor_a, 7)
    now = chain.pending_timestamp
    # 6-decimal payment token: numerator and denominator both exceed the inline field widths (2^88 and 2^80),
    # the value is still about 42.5 tokens per unit.
    wide = Fraction(85 * 3**55 * 10**6 + 1, 2 * 3**55)
    narrow = Fraction(2**88 - 1, 2**80 - 2)  # the widest rational that still fits inline
    periods = [Terms(now + 1000, now + 2000, coupon=wide), Terms(now + 3000, now + 4000, coupon=narrow)]
    assert wide.numerator >= 2**88 and wide.denominator >= 2**80
    assert (narrow.numerator, narrow.denominator) == (2**88 - 1, 2**80 - 2)
    usd6 = make_payment_token(6)
    agent = deploy_agent(periods, usd6)
    assert [tuple(agent.periodTerms(i)) for i in range(2)] == [t.as_tuple() for t in periods]
    # Amendments move a period between the two layouts without leaving the other one behind.
    swapped = [Terms(t.record_time, t.payment_time, coupon=c) for t, c in zip(periods, (narrow, wide), strict=True)]
    for i, terms in enumerate(swapped):
        agent.amendPeriod(i, terms.as_tuple(), sender=admin)
        assert tuple(agent.periodTerms(i)) == terms.as_tuple()
    travel(now + 3001)
    funded = [fund_period(agent, usd6, i) for i in range(2)]
    assert funded == [int(7 * terms.coupon) for terms in swapped]
    travel(now + 4000)
    agent.claimMany([0, 1], sender=investor_a)
    assert usd6.balanceOf(investor_a) == coupon_net_for(7, swapped, (350_000,))
    for i in range(2):
        assert_conservation(agent, i)


def test_only_payer_pays_and_only_admin_amends(coupon_series, travel, investor_a, outsider, admin):
    agent, _, terms = coupon_series
    with ape.reverts(agent.MissingRole, account=outsider, roleMask=PAYER_BIT):
        agent.pushPayments(0, [investor_a], sender=outsider)
    with ape.reverts(agent.MissingRole, account=outsider, roleMask=ADMIN_BIT):
        agent.setTaxAccount(outsider, sender=outsider)
    with ape.reverts(agent.MissingRole, account=outsider, roleMask=ADMIN_BIT):
        agent.amendPeriod(0, terms.as_tuple(), sender=outsider)
    with ape.reverts(agent.MissingRole, account=admin, roleMask=PAYER_BIT):
        agent.reclaim(0, outsider, sender=admin)  # admin is not a payer: duties are separate


def test_batch_size_is_bounded(coupon_series, travel, treasury, fund_period, investor_a):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    too_many = [investor_a] * (agent.MAX_BATCH() + 1)
    with ape.reverts(agent.BatchTooLarge):
        agent.pushPayments(0, too_many, sender=treasury)


def test_claim_withholding_accrues_and_is_swept_exactly(
    coupon_series,
    travel,
    treasury,
    fund_period,
    investor_a,
    investor_b,
    outsider,
    tax_account,
    local_tax_account,
):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    funded = fund_period(agent, yen, 0)
    travel(terms.payment_time)
    claimed = agent.claim(0, sender=investor_a)
    gross_a, _, _ = gross_for(100, terms)
    national_a, local_a = taxes_for(gross_a, JP_INDIVIDUAL_RATES)
    assert yen.balanceOf(investor_a) == gross_a - national_a - local_a
    made = next(iter(claimed.events.filter(agent.PaymentMade)))  # the straight claim path's event
    assert (made.taxClass, list(made.taxes)) == (JP_INDIVIDUAL, [national_a, local_a])
    assert made.net == yen.balanceOf(investor_a)
    # The claim's withholding stays in the agent, already counted as withheld for the period.
    assert list(agent.taxPending(JP_INDIVIDUAL)) == [national_a, local_a]
    assert yen.balanceOf(tax_account) == 0
    accounts = assert_conservation(agent, 0)
    assert accounts.taxWithheld == national_a + local_a
    assert yen.balanceOf(agent) == accounts.held + accounts.escrowed + national_a + local_a

    agent.claim(0, sender=investor_b)  # corporate: its class accrues separately (default account)
    gross_b, _, _ = gross_for(37, terms)
    (national_b,) = taxes_for(gross_b, (153_150,))
    assert list(agent.taxPending(JP_CORPORATE)) == [national_b]

    receipt = agent.sweepTax([JP_INDIVIDUAL, JP_CORPORATE, EXEMPT], sender=outsider)
    swept = [(e.taxClass, e.account, e.amount) for e in receipt.events.filter(agent.TaxSwept)]
    assert swept == [
        (JP_INDIVIDUAL, tax_account.address, national_a),
        (JP_INDIVIDUAL, local_tax_account.address, local_a),
        (JP_CORPORATE, tax_account.address, national_b),
    ]
    assert yen.balanceOf(tax_account) == national_a + national_b
    assert yen.balanceOf(local_tax_account) == local_a
    assert list(agent.taxPending(JP_INDIVIDUAL)) == [0, 0]
    accounts = assert_conservation(agent, 0)
    assert yen.balanceOf(agent) == accounts.held == funded - gross_a - gross_b
    again = agent.sweepTax([JP_INDIVIDUAL], sender=outsider)
    assert list(again.events.filter(agent.TaxSwept)) == []


def test_tax_configuration_changes_sweep_first(
    coupon_series,
    travel,
    fund_period,
    investor_a,
    investor_b,
    admin,
    outsider,
    tax_account,
    local_tax_account,
):
    agent, yen, terms = coupon_series
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    agent.claim(0, sender=investor_a)
    agent.claim(0, sender=investor_b)
    national_a, local_a = taxes_for(gross_for(100, terms)[0], JP_INDIVIDUAL_RATES)
    (national_b,) = taxes_for(gross_for(37, terms)[0], (153_150,))
    # A new default tax account: what was withheld before goes to the old one.
    agent.setTaxAccount(outsider, sender=admin)
    assert yen.balanceOf(tax_account) == national_a + national_b
    assert yen.balanceOf(local_tax_account) == local_a
    assert yen.balanceOf(outsider) == 0
    assert list(agent.taxPending(JP_CORPORATE)) == [0]


def test_four_component_class_withholds_and_sweeps_each_component(
    chain, series, accounts, investor_a, make_payment_token, deploy_agent, travel, fund_period, outsider
):
    four = 9  # a tax class with four withholding components, each to its own account
    rates = (100_000, 50_000, 20_000, 7_500)
    sinks = [accounts[12 + i] for i in range(4)]
    series.register(investor_a, four)
    series.issue(investor_a, 100)
    now = chain.pending_timestamp
    terms = Terms(now + 1000, now + 2000, coupon=COUPON_PER_UNIT)
    yen = make_payment_token(0)
    classes = {four: [(rate, sink.address) for rate, sink in zip(rates, sinks, strict=True)]}
    agent = deploy_agent([terms], yen, tax_classes=classes)
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    agent.claim(0, sender=investor_a)
    gross, _, _ = gross_for(100, terms)
    taxes = taxes_for(gross, rates)
    assert all(taxes) and len(set(taxes)) == 4
    assert yen.balanceOf(investor_a) == gross - sum(taxes)
    assert list(agent.taxPending(four)) == list(taxes)
    agent.sweepTax([four], sender=outsider)
    assert [yen.balanceOf(sink) for sink in sinks] == list(taxes)
    assert list(agent.taxPending(four)) == [0, 0, 0, 0]
    assert_conservation(agent, 0)


def test_tax_accrual_beyond_94_bits_asks_for_a_sweep(
    chain, series, investor_a, investor_b, make_payment_token, deploy_agent, travel, fund_period, outsider, tax_account
):
    whole = 8  # a (theoretical) class withholding 100 % of the coupon, to reach the accrual bound with 2 units
    cap = 2**94 - 1
    series.register(investor_a, whole)
    series.register(investor_b, whole)
    series.issue(investor_a, 1)
    series.issue(investor_b, 1)
    now = chain.pending_timestamp
    terms = Terms(now + 1000, now + 2000, coupon=Fraction(cap))
    yen = make_payment_token(18)
    agent = deploy_agent([terms], yen, tax_classes={whole: [(1_000_000, tax_account.address)]})
    travel(terms.record_time + 1)
    fund_period(agent, yen, 0)
    travel(terms.payment_time)
    agent.claim(0, sender=investor_a)
    assert list(agent.taxPending(whole)) == [cap]
    with ape.reverts(agent.TaxAccrualOverflow):
        agent.claim(0, sender=investor_b)
    agent.sweepTax([whole], sender=outsider)
    agent.claim(0, sender=investor_b)
    assert list(agent.taxPending(whole)) == [cap]
    assert yen.balanceOf(tax_account) == cap
    assert_conservation(agent, 0)


def test_reentrant_claim_from_the_payment_hook_pays_once(
    project, chain, series, operator, deploy_agent, travel, fund_period, investor_a
):
    """A claim takes no lock: it marks, books and accrues before its transfer, so claiming again from inside
    the payment (a payment token that calls its recipient back) finds the holder settled."""
    holder = operator.deploy(project.MockReentrantHolder)
    series.register(holder, JP_INDIVIDUAL)
    series.register(investor_a, JP_INDIVIDUAL)
    series.issue(holder, 100)
    series.issue(investor_a, 10)
    now = chain.pending_timestamp
    terms = Terms(now + 1000, now + 2000, coupon=COUPON_PER_UNIT)
    hook_yen = operator.deploy(project.MockHookPaymentToken)
    hook_yen.setHooked(holder, True, sender=operator)
    agent = deploy_agent([terms], hook_yen)
    travel(terms.record_time + 1)
    funded = fund_period(agent, hook_yen, 0)
    travel(terms.payment_time)
    holder.claim(agent, 0, sender=operator)
    gross, _, _ = gross_for(100, terms)
    net = gross - sum(taxes_for(gross, JP_INDIVIDUAL_RATES))
    assert holder.hookCalls() == 1
    assert not holder.reentrySucceeded()
    reason = bytes(holder.reentryError())
    assert reason[:4] == keccak(text="AlreadySettled(uint256,address)")[:4]
    assert hook_yen.balanceOf(holder) == net
    accounts = assert_conservation(agent, 0)
    assert accounts.held == funded - gross
    # The other holder is unaffected: its claim still finds its whole entitlement.
    agent.claim(0, sender=investor_a)
    gross_a, _, _ = gross_for(10, terms)
    assert assert_conservation(agent, 0).held == funded - gross - gross_a
