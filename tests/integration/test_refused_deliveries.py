"""The example bond paid in a payment token that refuses some receivers (a stablecoin blocklist), operated through
the library the `munibond coupon` commands use: the push goes on, the refused holder's net and the refused tax
wait in the series, and the operator pays them once the receiver can take them (or re-routes the tax)."""

from __future__ import annotations

import pytest

from munibond.chain import settlement, workflows
from munibond.chain.deployment import payment_agent
from munibond.errors import InputError
from tests.integration.example_series import deploy_example_series, onboard_and_issue

SYMBOL = "KNGW26"


@pytest.fixture(scope="module")
def series(project, chain, accounts, tmp_path_factory):
    cash = accounts[0].deploy(project.MockHostilePaymentToken, 0)
    s, entry, _terms = deploy_example_series(
        project, chain, tmp_path_factory.mktemp("refused"), payment_token=cash.address
    )
    token = onboard_and_issue(s, entry, b"refused-test")
    cash.mint(s.signers.address("treasury"), 10**12, sender=accounts[0])
    return s, token, payment_agent(s.project, entry["payment_agent"]), cash


def test_a_refused_holder_and_tax_office_wait_and_are_paid_once(series, accounts):
    s, _token, agent, cash = series
    a, tax_office = s.signers.address("investor_a"), s.signers.address("tax_office")
    cash.setBlocked(a, True, sender=accounts[0])
    cash.setBlocked(tax_office, True, sender=accounts[0])
    s.chain.mine(timestamp=int(agent.periodTerms(0).paymentTime))
    run = workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    assert run.settled == len(run.payments) > 1  # everyone was settled in the same batches
    waiting = int(agent.undelivered(a))
    arrears = int(agent.taxArrears(tax_office))
    assert waiting > 0 and arrears > 0 and int(cash.balanceOf(a)) == 0

    with pytest.raises(InputError, match="same investor"):
        settlement.release_undelivered(s, SYMBOL, "investor_a", to="investor_b", payer="treasury")
    cash.setBlocked(a, False, sender=accounts[0])
    assert settlement.release_undelivered(s, SYMBOL, "investor_a", to=None, payer="treasury") == waiting
    assert int(cash.balanceOf(a)) == waiting
    assert settlement.release_undelivered(s, SYMBOL, "investor_a", to=None, payer="treasury") is None  # once

    # The tax office stays blocked: the admin re-routes its arrears to the issuer's new tax account.
    new_account = s.signers.address("treasury")
    before = int(cash.balanceOf(new_account))
    paid = settlement.pay_tax_arrears(s, SYMBOL, "tax_office", redirect_to="treasury", sender="issuer")
    assert paid == arrears and int(cash.balanceOf(new_account)) - before == arrears
    assert settlement.pay_tax_arrears(s, SYMBOL, "tax_office", redirect_to=None, sender="treasury") is None
    assert int(cash.balanceOf(agent)) == int(agent.committedFunds())
