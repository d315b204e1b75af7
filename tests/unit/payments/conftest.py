"""Fixtures for the payment-agent tests: role-named accounts, a series harness and agent deployment.

The bond token and investor registry are reached only through `SeriesHarness`, so the same tests can run
against the real BondToken/InvestorRegistry: set MUNIBOND_TEST_BOND_TOKEN / MUNIBOND_TEST_INVESTOR_REGISTRY
and override the `series` fixture with a harness that deploys and drives those contracts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from payment_helpers import JP_CORPORATE, JP_INDIVIDUAL, MAX_U32, SWISS, AgentParams, Terms


class SeriesHarness:
    """Drives the bond token and registry the agent reads; the mock flavour uses the Mock* test contracts."""

    def __init__(self, token: Any, registry: Any, operator: Any) -> None:
        self.token = token
        self.registry = registry
        self.operator = operator

    def register(
        self,
        wallet: Any,
        tax_class: int,
        *,
        identity: str | None = None,
        kyc_expiry: int = MAX_U32,
        country: int = 392,
    ) -> None:
        record = (identity or str(wallet), country, 0, 0, tax_class, kyc_expiry, False)
        self.registry.setRecord(wallet, record, sender=self.operator)

    def register_many(self, wallets: Sequence[Any], tax_class: int) -> None:
        for start in range(0, len(wallets), 400):
            chunk = list(wallets[start : start + 400])
            self.registry.setRecords(chunk, (chunk[0], 392, 0, 0, tax_class, MAX_U32, False), sender=self.operator)

    def issue(self, holder: Any, units: int) -> None:
        self.token.mint(holder, units, sender=self.operator)

    def issue_many(self, holders: Sequence[Any], units: int) -> None:
        for start in range(0, len(holders), 400):
            self.token.mintBatch(list(holders[start : start + 400]), units, sender=self.operator)

    def transfer(self, holder: Any, to: Any, units: int) -> None:
        self.token.transfer(to, units, sender=holder)

    def freeze(self, wallet: Any, frozen: bool = True) -> None:
        self.token.setFrozen(wallet, frozen, sender=self.operator)

    def authorize_agent(self, agent: Any) -> None:
        """Gives the agent the token's payer permission (record times and redemption burns)."""
        self.token.setPayer(agent, True, sender=self.operator)


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def treasury(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def tax_account(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def local_tax_account(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def investor_a(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def investor_b(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def investor_c(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def investor_d(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def outsider(accounts):
    return accounts[9]


@pytest.fixture
def series(project, deployer) -> SeriesHarness:
    token_name = os.environ.get("MUNIBOND_TEST_BOND_TOKEN", "MockBondToken")
    registry_name = os.environ.get("MUNIBOND_TEST_INVESTOR_REGISTRY", "MockInvestorRegistry")
    if not (token_name.startswith("Mock") and registry_name.startswith("Mock")):
        pytest.fail("real token/registry configured: override the `series` fixture with a matching harness")
    token = deployer.deploy(getattr(project, token_name))
    registry = deployer.deploy(getattr(project, registry_name))
    return SeriesHarness(token, registry, deployer)


@pytest.fixture
def jp_tax_classes(tax_account, local_tax_account) -> dict[int, list[tuple[int, str]]]:
    """Japanese individual (national + local), corporate, Swiss; class 0 exempt (no components)."""
    return {
        JP_INDIVIDUAL: [(153_150, str(tax_account)), (50_000, str(local_tax_account))],
        JP_CORPORATE: [(153_150, "0x" + "00" * 20)],
        SWISS: [(350_000, str(tax_account))],
    }


@pytest.fixture
def make_payment_token(project, deployer) -> Callable[[int], Any]:
    def make(decimals: int = 0) -> Any:
        return deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", decimals)

    return make


@pytest.fixture
def agent_implementation(project, deployer):
    return deployer.deploy(project.PaymentAgent)


@pytest.fixture
def agent_factory(project, deployer):
    return deployer.deploy(project.MockAgentFactory)


@pytest.fixture
def deploy_agent(
    project,
    deployer,
    admin,
    treasury,
    tax_account,
    series,
    agent_implementation,
    agent_factory,
    jp_tax_classes,
) -> Callable[..., Any]:
    """Clones and initializes an agent for `series`, lets it write record times and redeem on the token."""

    def deploy(periods: Sequence[Terms], payment_token: Any, **overrides: Any) -> Any:
        params = AgentParams(
            payment_token=str(payment_token),
            payer=str(treasury),
            tax_account=str(tax_account),
            periods=periods,
            tax_classes=overrides.pop("tax_classes", jp_tax_classes),
            **overrides,
        )
        receipt = agent_factory.deploy(
            agent_implementation, series.token, series.registry, admin, params.encode(), sender=deployer
        )
        address = next(iter(receipt.events.filter(agent_factory.AgentCloned))).agent
        agent = project.PaymentAgent.at(address)
        series.authorize_agent(agent)
        if not params.sync_record_times:
            agent.syncRecordTimes(sender=admin)
        return agent

    return deploy


@pytest.fixture
def fund_period(treasury) -> Callable[[Any, Any, int], int]:
    """Mints the shortfall of `period` to the treasury, approves and funds; returns the amount."""

    def fund(agent: Any, payment_token: Any, period: int) -> int:
        amount = agent.fundingShortfall(period)
        payment_token.mint(treasury, amount, sender=treasury)
        payment_token.approve(agent, amount, sender=treasury)
        agent.fund(period, amount, sender=treasury)
        return amount

    return fund


@pytest.fixture
def travel(chain) -> Callable[[int], None]:
    """Moves the chain to `timestamp` (next block) and mines it."""

    def go(timestamp: int) -> None:
        chain.pending_timestamp = timestamp
        chain.mine()

    return go
