"""Settling a period beyond the push, through the library the commands use: bank (off-chain) payments, escrow
release, reclaim after the deadline, the withheld-tax sweep and payment default. Every step refuses bad input
before sending and sends nothing when re-run."""

from __future__ import annotations

from fractions import Fraction

import pytest
from eth_utils import keccak

from munibond.allocations import parse_allocations
from munibond.bank_payments import parse_bank_payments
from munibond.chain import settlement, workflows
from munibond.chain.deployment import payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.holder_statement import holder_statement, statement_csv
from munibond.chain.servicing import fund_period
from munibond.clock import calendar_years_after, local_date, show_time
from munibond.errors import InputError
from munibond.terms import load_term_sheet
from tests.integration.example_series import deploy_example_series, onboard_and_issue

SYMBOL = "KNGW26"


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    """KNGW26 deployed, the example investors onboarded and the allocations issued; the treasury holds cash."""
    s, entry, _terms = deploy_example_series(project, chain, tmp_path_factory.mktemp("settlement"))
    token = onboard_and_issue(s, entry, b"settlement-test")
    treasury = s.signers.account("treasury")
    s.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**12, sender=treasury)
    return s, token, payment_agent(s.project, entry["payment_agent"]), payment_token_at(entry["payment_token"])


def at_payment_date(s, agent, period: int) -> None:
    """Move the chain to the payment time of `period` (0-based)."""
    s.chain.mine(timestamp=int(agent.periodTerms(period).paymentTime))


def coupon_of(s, token, agent, alias: str, period: int) -> int:
    """floor(units at the record date × coupon per unit): the gross coupon of `alias` for `period` (0-based)."""
    terms = agent.periodTerms(period)
    units = int(token.balanceOfAt(s.signers.address(alias), int(terms.recordTime)))
    return int(units * Fraction(int(terms.couponNum), int(terms.couponDen)))


def conserved(agent, period: int) -> bool:
    a = agent.accounts(period)
    return int(a.funded) == int(a.paidNet) + int(a.taxWithheld) + int(a.escrowed) + int(a.reclaimed) + int(a.held)


def nonce(s, alias: str) -> int:
    return s.chain.provider.web3.eth.get_transaction_count(s.signers.address(alias))


def test_bank_payments_are_recorded_once_and_the_push_skips_them(series, tmp_path):
    s, token, agent, cash = series
    bank = tmp_path / "bank.csv"
    bank.write_text("wallet,reference\nalias:investor_c,MIZUHO 20270925-0001\n")
    at_payment_date(s, agent, 0)
    c = s.signers.address("investor_c")
    cash_before = int(cash.balanceOf(c))

    run = settlement.record_bank_payments(
        s, SYMBOL, 1, bank, parse_bank_payments(bank), payer="treasury", batch_size=50
    )
    (record,) = run.recorded
    assert record.holder == c and record.coupon_gross == coupon_of(s, token, agent, "investor_c", 0) > 0
    assert record.reference_hash == "0x" + keccak(text="MIZUHO 20270925-0001").hex()
    assert agent.isSettled(0, c)
    register, _when = workflows.register(s, SYMBOL, 1)
    assert {line.wallet: (line.settled, line.escrowed) for line in register if line.wallet == c} == {c: (True, 0)}
    assert sum(1 for line in register if not line.settled) == len(register) - 1 > 0

    sent = nonce(s, "treasury")
    again = settlement.record_bank_payments(
        s, SYMBOL, 1, bank, parse_bank_payments(bank), payer="treasury", batch_size=50
    )
    assert again.recorded == [] and again.already_settled == [c]
    assert nonce(s, "treasury") == sent

    pushed = workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    assert c not in {p.holder for p in pushed.payments} and pushed.skipped == 1
    assert int(cash.balanceOf(c)) == cash_before  # paid by the bank, not on chain
    # the bank-paid coupon counts as covered: the treasury funds only what is paid on chain
    assert int(agent.accounts(0).funded) + record.coupon_gross == int(agent.requiredFunding(0))
    assert conserved(agent, 0)


def test_a_bank_payment_for_a_wallet_without_units_is_refused_before_sending(series, tmp_path):
    s, _token, agent, _cash = series
    bank = tmp_path / "bank.csv"
    bank.write_text("wallet,reference\nalias:investor_c,REF-1\nalias:investor_f,REF-2\n")
    at_payment_date(s, agent, 0)
    sent = nonce(s, "treasury")
    with pytest.raises(InputError) as err:
        settlement.record_bank_payments(s, SYMBOL, 1, bank, parse_bank_payments(bank), payer="treasury", batch_size=50)
    issue_ = err.value.issues[0]
    assert (issue_.file, issue_.line, issue_.field) == (str(bank), 3, "wallet")
    assert "held no units at the record date of period 1" in issue_.message
    assert nonce(s, "treasury") == sent and not agent.isSettled(0, s.signers.address("investor_c"))


def test_an_alias_and_an_address_of_the_same_wallet_are_one_bank_payment_too_many(series, tmp_path):
    s, _token, agent, _cash = series
    c = s.signers.address("investor_c")
    bank = tmp_path / "bank.csv"
    bank.write_text(f"wallet,reference\nalias:investor_c,REF-1\n{c},REF-2\n")
    at_payment_date(s, agent, 0)
    with pytest.raises(InputError) as err:
        settlement.record_bank_payments(s, SYMBOL, 1, bank, parse_bank_payments(bank), payer="treasury", batch_size=1)
    assert (err.value.line, err.value.field) == (3, "wallet") and "same as line 2" in err.value.message
    assert not agent.isSettled(0, c)


def test_bank_payments_wait_for_the_record_date(series, tmp_path):
    s, _token, _agent, _cash = series
    bank = tmp_path / "bank.csv"
    bank.write_text("wallet,reference\nalias:investor_c,REF-1\n")
    with pytest.raises(InputError, match="record date of period 1 has not passed"):
        settlement.record_bank_payments(s, SYMBOL, 1, bank, parse_bank_payments(bank), payer="treasury", batch_size=50)


def test_an_escrowed_entitlement_is_released_once_the_holder_is_eligible_again(series):
    s, token, agent, cash = series
    a = s.signers.address("investor_a")
    token.setAddressFrozen(a, True, sender=s.signers.account("agent"))
    at_payment_date(s, agent, 0)
    workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    gross = coupon_of(s, token, agent, "investor_a", 0)
    assert int(agent.escrowOf(0, a)) == gross > 0
    register, _when = workflows.register(s, SYMBOL, 1)
    status = {line.wallet: (line.settled, line.escrowed) for line in register}
    assert status[a] == (True, gross) and status[s.signers.address("investor_c")] == (True, 0)

    sent = nonce(s, "treasury")
    with pytest.raises(InputError, match="is frozen on KNGW26: the payment stays"):
        settlement.release_escrow(s, SYMBOL, 1, "investor_a", to=None, payer="treasury")
    with pytest.raises(InputError, match="not a wallet of the same investor"):
        settlement.release_escrow(s, SYMBOL, 1, "investor_a", to="investor_c", payer="treasury")
    assert nonce(s, "treasury") == sent

    token.setAddressFrozen(a, False, sender=s.signers.account("agent"))
    before = int(cash.balanceOf(a))
    payment = settlement.release_escrow(s, SYMBOL, 1, "investor_a", to=None, payer="treasury")
    assert payment is not None and payment.to == a and payment.coupon_gross == gross
    # an individual: 15.315 % national and 5 % local, each floored
    assert payment.taxes == (gross * 15315 // 100000, gross * 5 // 100)
    assert int(cash.balanceOf(a)) - before == payment.net == gross - sum(payment.taxes)
    assert int(agent.escrowOf(0, a)) == 0 and conserved(agent, 0)
    assert settlement.release_escrow(s, SYMBOL, 1, "investor_a", to=None, payer="treasury") is None


def test_escrow_is_released_to_another_wallet_of_the_same_investor(series):
    s, token, agent, cash = series
    b, b2 = s.signers.address("investor_b"), s.signers.address("investor_b2")
    token.setAddressFrozen(b, True, sender=s.signers.account("agent"))
    at_payment_date(s, agent, 0)
    workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    before = int(cash.balanceOf(b2))
    payment = settlement.release_escrow(s, SYMBOL, 1, "investor_b", to="investor_b2", payer="treasury")
    assert payment is not None and payment.holder == b and payment.to == b2
    assert payment.coupon_gross == coupon_of(s, token, agent, "investor_b", 0)
    assert int(cash.balanceOf(b2)) - before == payment.net > 0


def test_unassigned_funding_is_reclaimed_once_after_the_deadline(series, tmp_path):
    s, token, agent, cash = series
    at_payment_date(s, agent, 0)
    fund_period(agent, cash, 0, s.signers.account("treasury"))
    workflows.claim(s, SYMBOL, 1, holder="investor_d")  # everyone else leaves the coupon unclaimed
    held = int(agent.accounts(0).held)
    assert held == int(agent.requiredFunding(0)) - coupon_of(s, token, agent, "investor_d", 0) > 0

    with pytest.raises(InputError, match="period 1 can be reclaimed from"):
        settlement.reclaim(s, SYMBOL, 1, to=None, payer="treasury")
    # The agent's own guard (payment time + 5 x 365 days) falls a day short of five calendar years in Tokyo
    # (29 February lies between): still refused then, with the issuer's date.
    reclaim_after = int(agent.periodState(0).reclaimAfter)
    five_years = calendar_years_after(int(agent.periodTerms(0).paymentTime), 5, "Asia/Tokyo")
    assert five_years - reclaim_after >= 86_400
    s.chain.mine(timestamp=reclaim_after)
    sent = nonce(s, "treasury")
    when = show_time(five_years, "Asia/Tokyo", with_clock=True)
    assert when.endswith(" 00:00 Asia/Tokyo")
    with pytest.raises(InputError, match=f"period 1 can be reclaimed from {when} \\(5 calendar years"):
        settlement.reclaim(s, SYMBOL, 1, to=None, payer="treasury")
    assert nonce(s, "treasury") == sent
    s.chain.mine(timestamp=five_years)
    treasury = s.signers.address("treasury")
    before = int(cash.balanceOf(treasury))
    assert settlement.reclaim(s, SYMBOL, 1, to=None, payer="treasury") == held
    assert int(cash.balanceOf(treasury)) - before == held
    assert agent.periodState(0).closed and int(agent.accounts(0).reclaimed) == held and conserved(agent, 0)
    sent = nonce(s, "treasury")
    assert settlement.reclaim(s, SYMBOL, 1, to=None, payer="treasury") is None
    assert nonce(s, "treasury") == sent


def test_withholding_accrued_by_claims_is_swept_to_the_tax_account_once(series):
    s, _token, agent, cash = series
    at_payment_date(s, agent, 0)
    fund_period(agent, cash, 0, s.signers.account("treasury"))
    individual = workflows.claim(s, SYMBOL, 1, holder="investor_a")
    corporation = workflows.claim(s, SYMBOL, 1, holder="investor_c")
    withheld = sum(individual.taxes) + sum(corporation.taxes)
    assert len(individual.taxes) == 2 and len(corporation.taxes) == 1 and withheld > 0

    office = s.signers.address("tax_office")
    before = int(cash.balanceOf(office))
    transfers = settlement.sweep_tax(s, SYMBOL, sender="treasury")
    assert {t.account for t in transfers} == {office}
    assert {t.tax_class for t in transfers} == {2, 3}  # jp_individual, jp_corporate
    assert sum(t.amount for t in transfers) == withheld == int(cash.balanceOf(office)) - before
    sent = nonce(s, "treasury")
    assert settlement.sweep_tax(s, SYMBOL, sender="treasury") == []
    assert nonce(s, "treasury") == sent


def test_an_unfunded_payment_date_is_recorded_as_default_and_cured_by_paying(series):
    s, _token, agent, _cash = series
    s.chain.mine(timestamp=int(agent.periodTerms(0).recordTime) + 1)
    with pytest.raises(InputError, match="payment date of period 1 has not come yet"):
        settlement.mark_default(s, SYMBOL, 1, sender="treasury")

    at_payment_date(s, agent, 0)
    assert settlement.mark_default(s, SYMBOL, 1, sender="treasury") is True
    assert agent.periodState(0).defaulted and int(agent.openDefaults()) == 1
    assert settlement.mark_default(s, SYMBOL, 1, sender="treasury") is False

    run = workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    assert not agent.periodState(0).defaulted and int(agent.openDefaults()) == 0
    cured = [log for tx in run.transactions for log in agent.PaymentDefaultCured.from_receipt(tx)]
    assert [int(log["period"]) for log in cured] == [0]
    with pytest.raises(InputError, match="period 1 is fully funded: it is not in default"):
        settlement.mark_default(s, SYMBOL, 1, sender="treasury")


def test_an_allocation_naming_a_wallet_by_alias_and_by_address_is_refused_before_minting(series, tmp_path):
    s, token, _agent, _cash = series
    a = s.signers.address("investor_a")
    allocations = tmp_path / "allocations.csv"
    allocations.write_text(f"wallet,units\nalias:investor_a,40\n{a},10\n")
    supply, sent = int(token.totalSupply()), nonce(s, "agent")
    with pytest.raises(InputError) as err:
        workflows.issue_allocations(s, SYMBOL, allocations, parse_allocations(allocations), minter="agent")
    assert (err.value.file, err.value.line, err.value.field) == (str(allocations), 3, "wallet")
    assert "same as line 2" in err.value.message
    assert int(token.totalSupply()) == supply and nonce(s, "agent") == sent


def _as_paid(items) -> dict:
    """holder -> (coupon, principal, taxes, net, escrowed, units burned), from payments or from a preview."""
    return {
        x.holder: (
            x.coupon_gross,
            x.principal_gross,
            tuple(x.taxes),
            x.net,
            x.escrowed,
            x.units_retired if hasattr(x, "units_retired") else x.units_redeemed,
        )
        for x in items
    }


def test_the_dry_run_preview_is_exactly_what_the_push_then_pays(series):
    s, token, agent, _cash = series
    token.setAddressFrozen(s.signers.address("investor_a"), True, sender=s.signers.account("agent"))
    at_payment_date(s, agent, 0)
    sent = nonce(s, "treasury")
    preview = workflows.preview_pay(s, SYMBOL, 1)
    assert nonce(s, "treasury") == sent
    assert preview.funding_shortfall == int(agent.requiredFunding(0)) > 0 and preview.already_settled == 0
    assert {e.escrowed for e in preview.pending} == {True, False}
    assert {len(e.taxes) for e in preview.pending if not e.escrowed} == {0, 1, 2}  # exempt, corporate, individual

    run = workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    assert run.funded_now == preview.funding_shortfall
    assert _as_paid(run.payments) == _as_paid(preview.pending) and len(run.payments) == 7
    after = workflows.preview_pay(s, SYMBOL, 1)
    assert after.pending == [] and after.already_settled == 7 and after.funding_shortfall == 0


def test_the_redemption_preview_burns_and_pays_what_the_redemption_does(series):
    s, _token, agent, _cash = series
    final = workflows.final_period(s, SYMBOL)
    at_payment_date(s, agent, final - 1)
    sent = nonce(s, "treasury")
    with pytest.raises(InputError, match=f"periods 1, 2, .*, {final - 1} of {SYMBOL} are overdue and unpaid"):
        workflows.redeem(s, SYMBOL, payer="treasury", batch_size=50)
    assert nonce(s, "treasury") == sent
    for period in range(1, final):
        workflows.pay(s, SYMBOL, period, payer="treasury", batch_size=50)
    preview = workflows.preview_pay(s, SYMBOL, final)
    assert sum(e.units_retired for e in preview.pending) == sum(e.units for e in preview.pending) > 0
    run = workflows.redeem(s, SYMBOL, payer="treasury", batch_size=50)
    assert _as_paid(run.payments) == _as_paid(preview.pending)


def test_a_holders_statement_lists_escrow_release_and_payments_by_date_and_year(series, tmp_path):
    s, token, agent, cash = series
    a = s.signers.address("investor_a")
    token.setAddressFrozen(a, True, sender=s.signers.account("agent"))
    at_payment_date(s, agent, 0)
    workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)  # escrowed
    token.setAddressFrozen(a, False, sender=s.signers.account("agent"))
    released = settlement.release_escrow(s, SYMBOL, 1, "investor_a", to=None, payer="treasury")
    at_payment_date(s, agent, 1)
    second = next(p for p in workflows.pay(s, SYMBOL, 2, payer="treasury", batch_size=50).payments if p.holder == a)

    statement = holder_statement(s, SYMBOL, "investor_a")
    assert [(line.period, line.kind) for line in statement.lines] == [(1, "escrowed"), (1, "released"), (2, "paid")]
    assert statement.net == released.net + second.net == int(cash.balanceOf(a))
    assert statement.coupon_gross == released.coupon_gross + second.coupon_gross
    assert statement.taxes == tuple(x + y for x, y in zip(released.taxes, second.taxes, strict=True))
    tz = load_term_sheet(s.manifest.term_sheet(SYMBOL)).timezone
    assert statement.lines[-1].date == local_date(int(agent.periodTerms(1).paymentTime), tz)

    year = statement.lines[-1].date.year
    in_year = holder_statement(s, SYMBOL, "investor_a", year=year)
    assert in_year.lines == [line for line in statement.lines if line.date.year == year] != []
    assert statement.lines[0].date.year == year - 1  # September's escrow and release, March's coupon
    rows = statement_csv(statement).splitlines()
    assert rows[0].startswith("date,period,kind,holder,to,coupon_gross,tax_1,tax_2,net,")
    assert len(rows) == 4 and rows[2].split(",")[2] == "released"
