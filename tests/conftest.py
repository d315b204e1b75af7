"""Shared fixtures: role-named accounts and deployed contracts on the local anvil chain."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from eth_utils import keccak

from munibond.chain.series import compliance_struct

# Investor record defaults used across the contract tests (Japan, Kobe city code, individual, 20.315 % class).
JAPAN = 392
KOBE = 281000
OSAKA = 271000
USA = 840
FAR_FUTURE = 2**32 - 1


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def admin(shared_admin):
    return shared_admin


@pytest.fixture(scope="session")
def registrar(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def transfer_agent(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def agent(transfer_agent):
    return transfer_agent


@pytest.fixture(scope="session")
def freezer(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def minter(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def document_manager(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def compliance_manager(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def payer(accounts):
    return accounts[7]


@pytest.fixture(scope="session")
def outsider(accounts):
    return accounts[8]


@pytest.fixture(scope="session")
def investor_a(accounts):
    return accounts[10]


@pytest.fixture(scope="session")
def investor_b(accounts):
    return accounts[11]


@pytest.fixture(scope="session")
def investor_c(accounts):
    return accounts[12]


@pytest.fixture(scope="session")
def investor_d(accounts):
    return accounts[13]


@pytest.fixture(scope="session")
def investor_e(accounts):
    return accounts[14]


@pytest.fixture(scope="session")
def kyc_provider(accounts):
    """A KYC provider whose private key the tests hold (it signs EIP-712 attestations off chain)."""
    return accounts.generate_test_account()


@pytest.fixture(scope="session")
def payment_token(project, deployer):
    return deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)


@pytest.fixture(scope="session")
def shared_admin(accounts):
    """The root `admin` under a name no test directory overrides: session contracts resolve their fixtures in
    the context of the first test that needs them, where `admin` may be a subdirectory's own account."""
    return accounts[0]


@pytest.fixture(scope="session")
def registry(project, shared_admin, registrar, kyc_provider):
    admin = shared_admin
    reg = admin.deploy(project.InvestorRegistry, admin)
    reg.grantRole(reg.REGISTRAR_ROLE(), registrar, sender=admin)
    reg.setKycProvider(kyc_provider, True, sender=admin)
    return reg


@pytest.fixture(scope="session")
def token_implementation(project, shared_admin):
    admin = shared_admin
    payments = admin.deploy(project.PaymentAgent, admin.deploy(project.PaymentAgentAdmin))
    extension = admin.deploy(project.BondTokenAdmin, payments)
    return admin.deploy(project.BondToken, extension)


@pytest.fixture(scope="session")
def factory(project, shared_admin, registry, token_implementation):
    admin = shared_admin
    fac = admin.deploy(project.BondFactory, admin, token_implementation, registry)
    registry.grantRole(registry.BINDER_ROLE(), fac, sender=admin)
    return fac


def compliance_config(**rules: Any) -> dict[str, Any]:
    """ComplianceConfig struct with every rule off unless given."""
    return compliance_struct(**rules)


def payment_agent_interface_id(project: Any) -> bytes:
    """ERC-165 id of IPaymentAgent: the XOR of its function selectors."""
    selector = 0
    for abi in project.IPaymentAgent.contract_type.abi:
        if abi.type == "function":
            selector ^= int.from_bytes(keccak(text=abi.selector)[:4], "big")
    return selector.to_bytes(4, "big")


def series_params(
    roles: dict[str, Any],
    *,
    name: str = "Kobe City Resident Bond 2025-1",
    symbol: str = "KOBE25",
    decimals: int = 0,
    isin: str = "JP2100010001",
    currency: str = "0x" + "00" * 20,
    record_times: list[int] | None = None,
    **rules: Any,
) -> dict[str, Any]:
    """SeriesParams struct for BondFactory.deploySeries."""
    return {
        "name": name,
        "symbol": symbol,
        "decimals": decimals,
        "terms": {
            "isin": isin,
            "currency": currency,
            "denomination": 10_000,
            "issueVolume": 1_000_000_000,
            "couponRate": 450_000,  # 0.45 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": 1_767_225_600,
            "maturityDate": 1_924_992_000,
            "dayCountBasis": 2,
        },
        "roles": roles,
        "compliance": compliance_config(**rules),
        "recordTimes": record_times or [],
        "paymentAgentParams": b"",
    }


@pytest.fixture(scope="session")
def roles(admin, transfer_agent, freezer, minter, document_manager, compliance_manager, payer) -> dict[str, Any]:
    return {
        "admin": admin.address,
        "agent": "0x" + "00" * 20,
        "transferAgent": transfer_agent.address,
        "freezer": freezer.address,
        "minter": minter.address,
        "documentManager": document_manager.address,
        "complianceManager": compliance_manager.address,
        "payer": payer.address,
    }


@pytest.fixture(scope="session")
def deploy_series(project, factory, admin, roles) -> Callable[..., Any]:
    """deploy_series(**kwargs) -> the token (IBondToken ABI) of a new series with the given rules."""

    def _deploy(**kwargs: Any) -> Any:
        params = series_params(kwargs.pop("roles", roles), **kwargs)
        receipt = factory.deploySeries(params, sender=admin)
        token_address = receipt.events.filter(factory.SeriesDeployed)[0].token
        return project.IBondToken.at(token_address)

    return _deploy


@pytest.fixture(scope="session")
def onboard(registry, registrar) -> Callable[..., None]:
    """onboard(wallet, identity=None, country=JAPAN, region=KOBE, ...) registers one wallet."""

    def _onboard(
        wallet: Any,
        identity: Any = None,
        country: int = JAPAN,
        region: int = KOBE,
        category: int = 0,
        tax_class: int = 0,
        kyc_expiry: int = FAR_FUTURE,
    ) -> None:
        registry.registerInvestor(
            wallet, identity or wallet, country, region, category, tax_class, kyc_expiry, sender=registrar
        )

    return _onboard


@pytest.fixture(scope="session", autouse=True)
def _deploy_shared_contracts_first(registry, factory, payment_token):
    """Session contracts exist before any module snapshot, so chain isolation never reverts them."""
    return registry, factory, payment_token


# ---------------------------------------------------------------------------------------------------- chains
# `make test` runs the suite on anvil at paris (ape-config.yaml `foundry.evm_version`) and the contract and
# payment tests once more with MUNIBOND_HARDFORK=<current fork>: the node changes, the contracts stay compiled
# for paris (`solidity.evm_version`). The summary line names the node and hardfork each run used.
NODES_USED = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    # Before Ape's test runner connects (at the end of collection), so its anvil starts at this hardfork.
    if hardfork := os.environ.get("MUNIBOND_HARDFORK"):
        from ape import config as ape_config

        ape_config.get_config("foundry").evm_version = hardfork
    config.stash[NODES_USED] = []


@pytest.fixture(scope="session")
def node_hardfork() -> str:
    """The hardfork the tests' anvil runs at; a test that starts its own anvil passes it on (`--hardfork`)."""
    from ape import config as ape_config

    return str(ape_config.get_config("foundry").evm_version)


@pytest.fixture(scope="session")
def report_node(pytestconfig: pytest.Config) -> Callable[[str], None]:
    """report_node(description) adds a node a test used to the line printed after the tests."""
    return pytestconfig.stash[NODES_USED].append


@pytest.fixture(scope="session", autouse=True)
def _report_test_node(chain, node_hardfork, report_node):
    web3 = chain.provider.web3
    reported = chain.provider.make_request("anvil_nodeInfo", [])["hardFork"]
    report_node(f"{web3.client_version} at hardfork {reported.lower()} (configured: {node_hardfork})")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    from ape import config as ape_config

    compiled = ape_config.get_config("solidity").evm_version
    for node in dict.fromkeys(config.stash.get(NODES_USED, [])):
        terminalreporter.write_line(f"chain: {node}; contracts compiled for {compiled}")
