"""BondFactory: one-transaction series, serial maturities, payment-agent extension point."""

from __future__ import annotations

from ape import reverts
from eth_utils import keccak

from tests.conftest import series_params


def test_deploy_series_wires_registry_and_roles(deploy_series, registry, admin, minter, payer):
    token = deploy_series()
    assert token.identityRegistry() == registry.address
    assert token.address in registry.boundTokens()
    assert token.owner() == admin.address
    assert token.hasRole(keccak(text="MINTER_ROLE"), minter)
    assert token.hasRole(keccak(text="PAYER_ROLE"), payer)
    assert not token.hasRole(keccak(text="MINTER_ROLE"), payer)


def test_clone_cannot_be_initialized_twice(deploy_series, roles, admin):
    token = deploy_series()
    cfg = series_params(roles)
    with reverts(token.InvalidInitialization):
        token.initialize(roles, admin, cfg["compliance"], [], sender=admin)


def test_deploy_serial_maturities(project, factory, roles, admin, registry):
    params = [
        series_params(roles, symbol=f"Q{year}", isin=f"US0000000{year}", name=f"Serial {year}")
        for year in (2030, 2031, 2032)
    ]
    for p, maturity in zip(params, (1_893_456_000, 1_924_992_000, 1_956_528_000), strict=True):
        p["terms"]["maturityDate"] = maturity
    tx = factory.deploySerial(params, sender=admin)
    events = tx.events.filter(factory.SeriesDeployed)
    assert [e.isin for e in events] == ["US00000002030", "US00000002031", "US00000002032"]
    tokens = [project.IBondToken.at(e.token) for e in events]
    assert [t.maturityDate() for t in tokens] == [1_893_456_000, 1_924_992_000, 1_956_528_000]
    assert all(t.address in registry.boundTokens() for t in tokens)


def test_payment_agent_cloned_and_granted_payer(project, factory, roles, admin, registry):
    agent_impl = admin.deploy(project.MockPaymentAgent)
    factory.setPaymentAgentImplementation(agent_impl, sender=admin)
    params = series_params(roles)
    params["paymentAgentParams"] = b"\x01\x02"
    tx = factory.deploySeries(params, sender=admin)
    ev = tx.events.filter(factory.SeriesDeployed)[0]
    agent = project.MockPaymentAgent.at(ev.paymentAgent)
    token = project.IBondToken.at(ev.token)
    assert (agent.token(), agent.registry(), agent.admin(), agent.params()) == (
        token.address,
        registry.address,
        admin.address,
        b"\x01\x02",
    )
    assert token.hasRole(keccak(text="PAYER_ROLE"), agent)


def test_only_deployer_deploys(factory, roles, outsider):
    with reverts(factory.AccessControlUnauthorizedAccount):
        factory.deploySeries(series_params(roles), sender=outsider)
