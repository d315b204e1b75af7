"""BondFactory: one-transaction series, serial maturities, series with and without payment code."""

from __future__ import annotations

from ape import reverts
from ape.contracts import ContractInstance
from eth_utils import keccak

from munibond.chain.deployment import payments_contract_type
from tests.conftest import payment_agent_interface_id, series_params

ZERO = "0x" + "00" * 20


def test_deploy_series_wires_registry_and_roles(deploy_series, registry, admin, minter, payer):
    token = deploy_series()
    assert token.identityRegistry() == registry.address
    assert registry.isTokenBound(token)
    assert token.owner() == admin.address
    assert token.hasRole(keccak(text="MINTER_ROLE"), minter)
    assert token.hasRole(keccak(text="PAYER_ROLE"), payer)
    assert not token.hasRole(keccak(text="MINTER_ROLE"), payer)


def test_series_cannot_be_initialized_twice(project, deploy_series, roles, admin):
    token = deploy_series()
    cfg = series_params(roles)
    with reverts(project.BondToken.InvalidInitialization):
        token.initialize(roles, ZERO, cfg["compliance"], [], sender=admin)


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
    assert all(registry.isTokenBound(t) for t in tokens)


def test_series_without_payment_params_has_no_payment_code(project, factory, roles, admin, outsider):
    tx = factory.deploySeries(series_params(roles), sender=admin)
    ev = tx.events.filter(factory.SeriesDeployed)[0]
    assert ev.paymentAgent == ZERO
    assert not project.IBondToken.at(ev.token).supportsInterface(payment_agent_interface_id(project))
    payments = ContractInstance(ev.token, payments_contract_type(project))  # the payment ABI alone
    # Nobody can give it payment code later, and its payment functions know no period.
    with reverts(project.PaymentAgentAdmin.PaymentsNotInitializable):
        payments.initialize(ev.token, factory.registry(), admin, b"", sender=outsider)
    with reverts(project.PaymentAgentAdmin.UnknownPeriod):
        payments.claim(0, sender=outsider)


def test_only_deployer_deploys(factory, roles, outsider):
    with reverts(factory.AccessControlUnauthorizedAccount):
        factory.deploySeries(series_params(roles), sender=outsider)
