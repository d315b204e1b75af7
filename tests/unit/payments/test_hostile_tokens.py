"""Hostile payment tokens and counterparts: none can lose or lock holders' money.

The review's Medium finding: a tax account that cannot receive the payment token (a stablecoin blocklist, a
contract that rejects) made `sweepTax`, every push batch of its class, `releaseEscrow` for its holders and even
`setTaxClass` / `setTaxAccount` revert, locking escrowed holder money for good. Now a refused tax transfer
becomes arrears owed to that account, a refused holder payment waits for the holder, and the series' payment
token balance always equals what it owes (`committedFunds`) plus what anyone may recover.
"""

from fractions import Fraction

import ape
import pytest
from payment_helpers import EXEMPT, JP_INDIVIDUAL, Terms, assert_conservation, gross_for, taxes_for

COUPON_YEN = Fraction(85, 2)
RATES = (153_150, 50_000)
ZERO = "0x" + "00" * 20


@pytest.fixture
def hostile(project, operator):
    return operator.deploy(project.MockHostilePaymentToken, 0)


@pytest.fixture
def coupon(chain) -> Terms:
    now = chain.pending_timestamp
    return Terms(now + 1000, now + 2000, coupon=COUPON_YEN)


@pytest.fixture
def holders(series, investor_a, investor_b, investor_c):
    """investor_a (individual, taxed) 100 units; investor_b (exempt) 7; investor_c is investor_a's 2nd wallet."""
    series.register(investor_a, JP_INDIVIDUAL)
    series.register(investor_c, JP_INDIVIDUAL, same_investor_as=investor_a)
    series.register(investor_b, EXEMPT)
    series.issue(investor_a, 100)
    series.issue(investor_b, 7)


def funded(agent, token, period, treasury, travel, terms):
    travel(terms.record_time + 1)
    amount = agent.fundingShortfall(period)
    token.mint(treasury, amount, sender=treasury)
    token.approve(agent, amount, sender=treasury)
    agent.fund(period, amount, sender=treasury)
    travel(terms.payment_time)
    return amount


def assert_books(agent, token):
    """Everything the series holds is owed to someone: per period, and in total against its token balance."""
    for period in range(agent.periodCount()):
        assert_conservation(agent, period)
    assert token.balanceOf(agent) == agent.committedFunds()


def test_a_blocklisted_tax_account_blocks_no_payment_and_its_tax_is_redirected(
    holders,
    coupon,
    hostile,
    deploy_agent,
    series,
    travel,
    treasury,
    admin,
    tax_account,
    local_tax_account,
    investor_a,
    investor_b,
    outsider,
):
    agent = deploy_agent([coupon], hostile)
    hostile.setBlocked(tax_account, True, sender=admin)
    funded(agent, hostile, 0, treasury, travel, coupon)
    receipt = agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    gross = gross_for(100, coupon)[0]
    national, local = taxes_for(gross, RATES)
    failed = [(log.account, log.amount) for log in receipt.events.filter(agent.TaxTransferFailed)]
    assert failed == [(tax_account, national)]
    assert hostile.balanceOf(investor_a) == gross - national - local  # the holder is paid all the same
    assert hostile.balanceOf(local_tax_account) == local
    assert agent.taxArrears(tax_account) == national
    assert_books(agent, hostile)

    # Anyone may retry; while the account is still blocked the retry reverts and changes nothing.
    with ape.reverts():
        agent.payTaxArrears(tax_account, sender=outsider)
    # The admin re-routes: future withholding by configuration, the arrears by redirect.
    agent.setTaxAccount(outsider, sender=admin)
    agent.setTaxClass(JP_INDIVIDUAL, [(153_150, outsider.address), (50_000, local_tax_account.address)], sender=admin)
    with ape.reverts(agent.MissingRole):
        agent.redirectTaxArrears(tax_account, outsider, sender=treasury)
    agent.redirectTaxArrears(tax_account, outsider, sender=admin)
    assert hostile.balanceOf(outsider) == national
    assert agent.taxArrears(tax_account) == 0
    with ape.reverts(agent.NoTaxArrears):
        agent.payTaxArrears(tax_account, sender=outsider)
    assert_books(agent, hostile)


def test_escrow_release_and_tax_reconfiguration_work_while_the_tax_account_refuses(
    holders, coupon, hostile, deploy_agent, series, travel, treasury, admin, tax_account, investor_a, outsider
):
    agent = deploy_agent([coupon], hostile)
    series.freeze(investor_a)
    funded(agent, hostile, 0, treasury, travel, coupon)
    agent.pushPayments(0, [investor_a], sender=treasury)  # escrowed (frozen)
    hostile.setBlocked(tax_account, True, sender=admin)
    series.freeze(investor_a, False)
    agent.releaseEscrow(0, investor_a, investor_a, sender=treasury)  # reverted before the fix
    gross = gross_for(100, coupon)[0]
    national, local = taxes_for(gross, RATES)
    assert hostile.balanceOf(investor_a) == gross - national - local
    assert agent.taxArrears(tax_account) == national
    # Claims accrue; a sweep to a refusing account turns the accrual into arrears instead of reverting.
    agent.setTaxAccount(outsider, sender=admin)
    agent.sweepTax([JP_INDIVIDUAL], sender=outsider)
    hostile.setBlocked(tax_account, False, sender=admin)
    agent.payTaxArrears(tax_account, sender=outsider)  # once unblocked, anyone can complete the transfer
    assert hostile.balanceOf(tax_account) == national
    assert_books(agent, hostile)


def test_a_refused_holder_does_not_stop_the_batch_and_collects_later(
    holders,
    coupon,
    hostile,
    deploy_agent,
    series,
    travel,
    treasury,
    admin,
    investor_a,
    investor_b,
    investor_c,
    outsider,
):
    agent = deploy_agent([coupon], hostile)
    funded(agent, hostile, 0, treasury, travel, coupon)
    hostile.setBlocked(investor_a, True, sender=admin)
    hostile.setRefusedQuietly(investor_b, True, sender=admin)  # returns false instead of reverting
    receipt = agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    gross_a, gross_b = gross_for(100, coupon)[0], gross_for(7, coupon)[0]
    net_a = gross_a - sum(taxes_for(gross_a, RATES))
    undelivered = {log.holder: log.amount for log in receipt.events.filter(agent.PaymentUndelivered)}
    assert undelivered == {investor_a.address: net_a, investor_b.address: gross_b}
    assert agent.isSettled(0, investor_a) and agent.isSettled(0, investor_b)
    assert_books(agent, hostile)

    with ape.reverts(agent.NotSameInvestor):
        agent.collectUndelivered(outsider, sender=investor_a)  # only to a wallet of the same investor
    with ape.reverts(agent.NothingUndelivered):
        agent.collectUndelivered(outsider, sender=outsider)
    agent.collectUndelivered(investor_c, sender=investor_a)  # the investor's other wallet
    assert hostile.balanceOf(investor_c) == net_a
    with ape.reverts(agent.MissingRole):
        agent.releaseUndelivered(investor_b, investor_b, sender=outsider)
    with ape.reverts():
        agent.releaseUndelivered(investor_b, investor_b, sender=treasury)  # still refused: nothing changes
    hostile.setRefusedQuietly(investor_b, False, sender=admin)
    agent.releaseUndelivered(investor_b, investor_b, sender=treasury)
    assert hostile.balanceOf(investor_b) == gross_b
    assert agent.undelivered(investor_a) == agent.undelivered(investor_b) == 0
    assert_books(agent, hostile)


def test_a_paused_token_leaves_every_payment_waiting_not_lost(
    holders,
    coupon,
    hostile,
    deploy_agent,
    travel,
    treasury,
    admin,
    tax_account,
    local_tax_account,
    investor_a,
    investor_b,
):
    agent = deploy_agent([coupon], hostile)
    funded(agent, hostile, 0, treasury, travel, coupon)
    hostile.setPaused(True, sender=admin)
    agent.pushPayments(0, [investor_a, investor_b], sender=treasury)
    assert agent.undelivered(investor_a) > 0 and agent.undelivered(investor_b) > 0
    with ape.reverts():
        agent.claim(0, sender=investor_a)  # already settled by the push, whatever the token does
    hostile.setPaused(False, sender=admin)
    agent.collectUndelivered(investor_a, sender=investor_a)
    agent.collectUndelivered(investor_b, sender=investor_b)
    assert_books(agent, hostile)
    agent.payTaxArrears(tax_account, sender=investor_b)
    agent.payTaxArrears(local_tax_account, sender=investor_b)
    assert_books(agent, hostile)
    assert hostile.balanceOf(agent) == agent.accounts(0).held  # only the rounding remainder stays


def test_fee_on_transfer_funding_is_refused(holders, coupon, hostile, deploy_agent, travel, treasury, admin):
    agent = deploy_agent([coupon], hostile)
    hostile.setFeePpm(1_000, sender=admin)
    travel(coupon.record_time + 1)
    amount = agent.fundingShortfall(0)
    hostile.mint(treasury, amount, sender=treasury)
    hostile.approve(agent, amount, sender=treasury)
    with ape.reverts(agent.FundingNotReceived):
        agent.fund(0, amount, sender=treasury)


def test_a_token_without_return_data_pays_pushes_claims_and_sweeps(
    holders, coupon, hostile, deploy_agent, travel, treasury, admin, tax_account, investor_a, investor_b
):
    agent = deploy_agent([coupon], hostile)
    hostile.setNoReturnData(True, sender=admin)
    funded(agent, hostile, 0, treasury, travel, coupon)
    agent.claim(0, sender=investor_a)
    agent.pushPayments(0, [investor_b], sender=treasury)
    agent.sweepTax([JP_INDIVIDUAL], sender=investor_b)
    gross = gross_for(100, coupon)[0]
    assert hostile.balanceOf(investor_a) == gross - sum(taxes_for(gross, RATES))
    assert hostile.balanceOf(tax_account) == taxes_for(gross, RATES)[0]
    assert_books(agent, hostile)


def test_tokens_sent_by_mistake_are_recovered_but_never_what_is_owed(
    holders,
    coupon,
    hostile,
    make_payment_token,
    deploy_agent,
    series,
    travel,
    treasury,
    admin,
    investor_a,
    outsider,
):
    agent = deploy_agent([coupon], hostile)
    stray = make_payment_token(6)
    stray.mint(agent, 5_000_000, sender=outsider)
    with ape.reverts(agent.MissingRole):
        agent.recoverTokens(stray, outsider, 1, sender=treasury)
    agent.recoverTokens(stray, outsider, 5_000_000, sender=admin)
    assert stray.balanceOf(outsider) == 5_000_000

    funded(agent, hostile, 0, treasury, travel, coupon)
    hostile.mint(agent, 123, sender=outsider)  # payment token sent straight to the series
    committed = agent.committedFunds()
    assert hostile.balanceOf(agent) == committed + 123
    with ape.reverts(agent.RecoveryExceedsExcess):
        agent.recoverTokens(hostile, outsider, 124, sender=admin)
    agent.recoverTokens(hostile, outsider, 123, sender=admin)
    assert_books(agent, hostile)


def test_a_schedule_beyond_the_accounts_width_is_refused_not_truncated(
    series, make_payment_token, deploy_agent, travel, treasury, chain, investor_a
):
    """Amounts near the packed fields' limits: a period needing more than 2^128 base units cannot be funded
    (it used to be stored truncated to 128 bits); one within the limits is paid exactly."""
    series.register(investor_a, EXEMPT)
    series.issue(investor_a, 4)
    now = chain.pending_timestamp
    huge = Terms(now + 1000, now + 2000, coupon=Fraction(2**127))
    cash = make_payment_token(18)
    agent = deploy_agent([huge], cash)
    travel(huge.record_time + 1)
    with ape.reverts():
        agent.fund(0, 1, sender=treasury)
    assert agent.requiredFunding(0) == 4 * 2**127
    assert not agent.periodState(0).requiredKnown
