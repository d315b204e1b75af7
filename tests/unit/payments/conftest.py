"""Fixtures for the payment-agent tests: role-named accounts and a series on the REAL contracts.

Every series is deployed the way production deploys it (munibond.chain.deployment): one InvestorRegistry,
the BondToken implementation with its BondTokenAdmin extension, the PaymentAgent implementation and a
BondFactory holding the registry's BINDER_ROLE; `factory.deploySeries` clones the token and the agent,
initializes both and grants the agent the token's PAYER role. Only the payment token is a test contract
(MockPaymentToken: anyone can mint, so a test can fund any amount).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from payment_helpers import JP_CORPORATE, JP_INDIVIDUAL, MAX_U32, SWISS, AgentParams, Terms

from munibond.chain.deployment import payment_agent
from munibond.chain.series import compliance_struct

JAPAN = 392
ZERO = "0x" + "00" * 20


def pack_record(identity: str, country: int, tax_class: int, kyc_expiry: int) -> int:
    """The registry's packed InvestorRecord word (region 0, category 0)."""
    return int(identity, 16) | country << 160 | tax_class << 208 | kyc_expiry << 216


def series_params(admin: Any, operator: Any, record_times: list[int], agent_params: bytes) -> dict[str, Any]:
    """SeriesParams for BondFactory.deploySeries: no compliance rule, the operator holds the agent duties."""
    return {
        "name": "Kobe City Resident Bond 2026-1",
        "symbol": "KOBE26",
        "decimals": 0,
        "terms": {
            "isin": "JP2100010001",
            "currency": ZERO,
            "denomination": 10_000,
            "issueVolume": 1_000_000_000,
            "couponRate": 850_000,  # 0.85 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": 1_767_225_600,
            "maturityDate": 1_924_992_000,
            "dayCountBasis": 2,
        },
        "roles": {
            "admin": admin.address,
            "agent": ZERO,
            "transferAgent": operator.address,
            "freezer": operator.address,
            "minter": operator.address,
            "documentManager": ZERO,
            "complianceManager": ZERO,
            "payer": ZERO,  # only the payment agent may write record times and redeem
        },
        "compliance": compliance_struct(),
        "recordTimes": record_times,
        "paymentAgentParams": agent_params,
    }


class SeriesHarness:
    """One bond series on the real contracts: registry records, issuance, freezes, recovery.

    The token and its payment agent come into existence together (`deploy`, one factory transaction).
    Units issued before that are minted right after the deployment, in the same order, still before any
    record time (record times are validated to lie in the future when the series is deployed).
    """

    def __init__(self, project: Any, factory: Any, registry: Any, operator: Any, admin: Any) -> None:
        self.project = project
        self.factory = factory
        self.registry = registry
        self.operator = operator
        self.admin = admin
        self.token: Any = None
        self.agent: Any = None
        self._pending: list[tuple[list[Any], int]] = []

    def register(
        self,
        wallet: Any,
        tax_class: int,
        *,
        same_investor_as: Any = None,
        kyc_expiry: int = MAX_U32,
        country: int = JAPAN,
    ) -> None:
        """Registers `wallet`, links it to the investor of `same_investor_as`, or updates its record."""
        if same_investor_as is not None and not self.registry.contains(wallet):
            self.registry.linkWallet(same_investor_as, wallet, sender=self.operator)
        if self.registry.contains(wallet):
            # Country, class and KYC expiry are per investor: the registry writes them to every linked wallet.
            self.registry.updateInvestor(wallet, country, 0, 0, tax_class, kyc_expiry, sender=self.operator)
        else:
            self.registry.registerInvestor(wallet, wallet, country, 0, 0, tax_class, kyc_expiry, sender=self.operator)

    def register_many(self, wallets: Sequence[Any], tax_class: int) -> None:
        for start in range(0, len(wallets), 400):
            chunk = [str(w) for w in wallets[start : start + 400]]
            packed = [pack_record(w, JAPAN, tax_class, MAX_U32) for w in chunk]
            self.registry.batchRegisterPacked(chunk, packed, sender=self.operator)

    def issue(self, holder: Any, units: int) -> None:
        self.issue_many([holder], units)

    def issue_many(self, holders: Sequence[Any], units: int) -> None:
        if self.token is None:
            self._pending.append((list(holders), units))
            return
        for start in range(0, len(holders), 400):
            chunk = list(holders[start : start + 400])
            self.token.batchMint(chunk, [units] * len(chunk), sender=self.operator)

    def transfer(self, holder: Any, to: Any, units: int) -> None:
        self.token.transfer(to, units, sender=holder)

    def freeze(self, wallet: Any, frozen: bool = True) -> None:
        self.token.setAddressFrozen(wallet, frozen, sender=self.operator)

    def recover(self, lost: Any, new_wallet: Any) -> None:
        """The transfer agent moves a lost wallet's units to a new wallet of the same investor."""
        identity = self.registry.identity(new_wallet)
        self.token.recoveryAddress(lost, new_wallet, identity, sender=self.operator)

    def deploy(self, params: AgentParams) -> Any:
        """Deploys token + payment agent through the factory and returns the agent."""
        record_times = sorted({t.record_time for t in params.periods})
        receipt = self.factory.deploySeries(
            series_params(self.admin, self.operator, record_times, params.encode()), sender=self.operator
        )
        event = next(iter(receipt.events.filter(self.factory.SeriesDeployed)))
        self.token = self.project.IBondToken.at(event.token, detect_proxy=False)
        self.agent = payment_agent(self.project, event.paymentAgent)
        pending, self._pending = self._pending, []
        for holders, units in pending:
            self.issue_many(holders, units)
        return self.agent


@pytest.fixture(scope="session")
def operator(accounts):
    """Registrar, minter, freezer and transfer agent of the test series."""
    return accounts[0]


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


@pytest.fixture(scope="session")
def investor_registry(project, operator):
    registry = operator.deploy(project.InvestorRegistry, operator)
    registry.grantRole(registry.REGISTRAR_ROLE(), operator, sender=operator)
    return registry


@pytest.fixture(scope="session")
def agent_implementation(project, operator):
    return operator.deploy(project.PaymentAgent, operator.deploy(project.PaymentAgentAdmin))


@pytest.fixture(scope="session")
def bond_factory(project, operator, investor_registry, agent_implementation):
    extension = operator.deploy(project.BondTokenAdmin, agent_implementation)
    token_implementation = operator.deploy(project.BondToken, extension)
    factory = operator.deploy(project.BondFactory, operator, token_implementation, investor_registry)
    investor_registry.grantRole(investor_registry.BINDER_ROLE(), factory, sender=operator)
    return factory


@pytest.fixture
def series(project, bond_factory, investor_registry, operator, admin) -> SeriesHarness:
    return SeriesHarness(project, bond_factory, investor_registry, operator, admin)


@pytest.fixture
def jp_tax_classes(tax_account, local_tax_account) -> dict[int, list[tuple[int, str]]]:
    """Japanese individual (national + local), corporate, Swiss; class 0 exempt (no components)."""
    return {
        JP_INDIVIDUAL: [(153_150, str(tax_account)), (50_000, str(local_tax_account))],
        JP_CORPORATE: [(153_150, ZERO)],
        SWISS: [(350_000, str(tax_account))],
    }


@pytest.fixture
def make_payment_token(project, operator) -> Callable[[int], Any]:
    def make(decimals: int = 0) -> Any:
        return operator.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", decimals)

    return make


@pytest.fixture
def deploy_agent(treasury, tax_account, series, jp_tax_classes) -> Callable[..., Any]:
    """Deploys the series (token + agent clone) with `periods` paid in `payment_token`; returns the agent."""

    def deploy(periods: Sequence[Terms], payment_token: Any, **overrides: Any) -> Any:
        params = AgentParams(
            payment_token=str(payment_token),
            payer=str(treasury),
            tax_account=str(tax_account),
            periods=periods,
            tax_classes=overrides.pop("tax_classes", jp_tax_classes),
            **overrides,
        )
        return series.deploy(params)

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
