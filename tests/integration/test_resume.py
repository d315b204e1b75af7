"""Interrupted operations finish the job exactly once when run again (the chain is the journal).

Each operation is cut after its first batch by a progress callback that raises, as a crash or a lost
connection would; the re-run must complete the rest without repeating anything.
"""

from __future__ import annotations

from collections import Counter

import pytest
from ape.exceptions import ContractLogicError

from munibond.allocations import Allocation, parse_allocations
from munibond.chain import workflows
from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.events import logs_since
from munibond.chain.issuance import issue
from munibond.chain.servicing import claimable_periods, fund_period, pay_period
from munibond.errors import InputError
from tests.integration.example_series import EXAMPLES, deploy_example_series

SALT = b"resume-test"


class Interrupted(Exception):
    pass


def interrupt_after(calls: int):
    seen = []

    def progress(message: str) -> None:
        seen.append(message)
        if len(seen) >= calls:
            raise Interrupted(message)

    return progress


@pytest.fixture(scope="module")
def session(project, chain, tmp_path_factory):
    return deploy_example_series(project, chain, tmp_path_factory.mktemp("resume"))


def test_interrupted_onboarding_issuance_and_payment_complete_exactly_once(session):
    s, entry, _terms = session
    rows = workflows.load_investors(EXAMPLES / "investors.csv", SALT, now=s.now())

    with pytest.raises(Interrupted):
        workflows.import_investors(
            s, EXAMPLES / "investors.csv", rows, registrar="registrar", batch_size=2, progress=interrupt_after(1)
        )
    plan, report = workflows.import_investors(s, EXAMPLES / "investors.csv", rows, registrar="registrar", batch_size=2)
    assert report is not None
    assert report.registered == 7 - 2 and report.linked == 1 and len(plan.unchanged) == 2
    again, nothing = workflows.import_investors(s, EXAMPLES / "investors.csv", rows, registrar="registrar")
    assert nothing is None and len(again.unchanged) == 8

    token = bond_token(s.project, entry["token"])
    allocations = [
        Allocation(a.line, s.signers.address(a.alias), a.units) for a in parse_allocations(EXAMPLES / "allocations.csv")
    ]
    minter = s.signers.account("agent")
    with pytest.raises(Interrupted):
        issue(token, allocations, minter, start_block=int(entry["block"]), batch_size=3, progress=interrupt_after(1))
    assert 0 < int(token.totalSupply()) < sum(a.units for a in allocations)
    issue(token, allocations, minter, start_block=int(entry["block"]), batch_size=3)
    for allocation in allocations:
        assert int(token.balanceOf(allocation.wallet)) == allocation.units
    assert int(token.totalSupply()) == sum(a.units for a in allocations)

    agent = payment_agent(s.project, entry["payment_agent"])
    cash = payment_token_at(entry["payment_token"])
    treasury = s.signers.account("treasury")
    s.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**9, sender=treasury)
    s.chain.mine(timestamp=int(agent.periodTerms(0).paymentTime))
    with pytest.raises(Interrupted):
        pay_period(
            agent,
            token,
            cash,
            0,
            treasury,
            start_block=int(entry["block"]),
            batch_size=2,
            progress=interrupt_after(2),  # funding, then the first batch of two holders
        )
    assert int(agent.fundingShortfall(0)) == 0
    rest = pay_period(agent, token, cash, 0, treasury, start_block=int(entry["block"]), batch_size=2)
    assert rest.funded_now == 0 and rest.skipped == 2 and rest.settled == 5
    paid = Counter(str(log["holder"]) for log in logs_since(agent.PaymentMade, int(entry["block"])))
    assert sorted(paid.values()) == [1] * 7, "every holder paid exactly once"
    accounts = agent.accounts(0)
    assert int(accounts.funded) == (
        int(accounts.paidNet)
        + int(accounts.taxWithheld)
        + int(accounts.escrowed)
        + int(accounts.reclaimed)
        + int(accounts.held)
    )

    # Pull: the next period is funded, investor_a claims its own payment once.
    s.chain.mine(timestamp=int(agent.periodTerms(1).paymentTime))
    fund_period(agent, cash, 1, treasury)
    holder = s.signers.address("investor_a")
    before = int(cash.balanceOf(holder))
    claimed = workflows.claim(s, "KNGW26", 2, holder="investor_a")
    assert claimed.holder == holder and claimed.net > 0
    assert int(cash.balanceOf(holder)) - before == claimed.net
    assert claimed.coupon_gross == int(token.balanceOfAt(holder, int(agent.periodTerms(1).recordTime))) * 85 // 2
    with pytest.raises(InputError, match="already paid"):
        workflows.claim(s, "KNGW26", 2, holder="investor_a")

    # Every outstanding period in one transaction: investor_b was paid period 1 by the push but never pulled
    # periods 2 and 3; period 4's payment date passes unfunded, so it is left out.
    s.chain.mine(timestamp=int(agent.periodTerms(3).paymentTime))
    fund_period(agent, cash, 2, treasury)
    holder_b = s.signers.address("investor_b")
    assert claimable_periods(agent, holder_b, s.now()) == [1, 2]
    before_b = int(cash.balanceOf(holder_b))
    pulled = workflows.claim_outstanding(s, "KNGW26", holder="investor_b")
    assert [p.period for p in pulled] == [1, 2]
    assert int(cash.balanceOf(holder_b)) - before_b == sum(p.net for p in pulled)
    for p in pulled:
        units = int(token.balanceOfAt(holder_b, int(agent.periodTerms(p.period).recordTime)))
        assert p.coupon_gross == units * 85 // 2 and units > 0
    assert all(agent.isSettled(period, holder_b) for period in (1, 2))
    with pytest.raises(InputError, match="nothing to claim"):
        workflows.claim_outstanding(s, "KNGW26", holder="investor_b")


def test_the_treasury_pays_but_cannot_burn_or_move_record_times(session):
    """The treasury holds the series' payer role; the redemption burn and the record times stay out of reach."""
    s, entry, _terms = session
    token = bond_token(s.project, entry["token"])
    agent = payment_agent(s.project, entry["payment_agent"])
    assert agent.address == token.address  # the series is its own payment agent
    treasury = s.signers.account("treasury")
    assert agent.hasRole(agent.PAYER_ROLE(), treasury.address)
    holder = s.signers.address("investor_a")
    with pytest.raises(ContractLogicError, match=f"caller={treasury.address}"):
        token.retire(holder, sender=treasury)
    # A series with payment code takes its record times from its schedule only (not even the admin sets them).
    with pytest.raises(ContractLogicError, match=f"caller={treasury.address}"):
        token.setRecordTimes([], sender=treasury)
