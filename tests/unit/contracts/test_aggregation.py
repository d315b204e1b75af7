"""Multi-wallet investors: per-investor cap and holder count are exact once wallets are linked (pull model).

The registry never calls a series: it flags the investor's wallets multiWallet and moves the identity's link
generation on; each series folds the investor's wallets into its aggregate at the first balance change that
touches the investor (views already show the folded state).
"""

from __future__ import annotations

from typing import Any

import pytest
from ape import reverts

from tests.conftest import FAR_FUTURE, JAPAN, KOBE
from tests.unit.contracts.test_investor_registry import REGISTRATION_PATHS, attestation, later, register_by, submit

CAP = 10  # restriction code: over the per-investor cap


def test_link_aggregates_existing_balances(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_c
):
    onboard(investor_a)
    onboard(investor_c)
    token = deploy_series(maxPerInvestor=100, maxHolders=5)
    token.mint(investor_a, 60, sender=minter)
    token.mint(investor_c, 10, sender=minter)
    tx = registry.linkWallet(investor_a, investor_b, sender=registrar)
    assert not tx.events.filter(token.InvestorAggregated)  # the registry calls no series
    # views show the folded state before the series is touched
    state = token.accountState(investor_b)
    assert (state.aggregationIdentity, state.aggregateBalance) == (investor_a.address, 60)
    assert token.detectTransferRestriction("0x" + "00" * 20, investor_b, 41) == CAP
    assert token.detectTransferRestriction("0x" + "00" * 20, investor_b, 40) == 0
    # the first balance change touching the investor folds its wallets
    tx = token.mint(investor_b, 40, sender=minter)  # 60 + 40 = cap
    ev = tx.events.filter(token.InvestorAggregated)[0]
    assert (ev.identity, ev.walletsAdded, ev.aggregateBalance) == (investor_a.address, 2, 60)
    assert token.accountState(investor_a).aggregateBalance == 100
    with reverts(token.TransferRestricted, code=CAP):
        token.mint(investor_b, 1, sender=minter)
    with reverts(token.TransferRestricted, code=CAP):
        token.transfer(investor_b, 1, sender=investor_c)
    # moving between the investor's own wallets changes neither the aggregate nor the holder count
    tx = token.transfer(investor_b, 60, sender=investor_a)
    assert not tx.events.filter(token.InvestorAggregated)
    assert token.accountState(investor_a).aggregateBalance == 100
    assert token.holderCount() == 2


@pytest.mark.parametrize("path", [*REGISTRATION_PATHS, "attestation"])
def test_second_wallet_cannot_bypass_the_cap(
    deploy_series, registry, registrar, minter, chain, kyc_provider, investor_a, investor_b, investor_c, path
):
    """Review finding 1: a second wallet registered directly (e.g. by KYC attestation) held 200 under a cap of 100."""
    register_by(registry, registrar, "registerInvestor", investor_a, investor_a)
    register_by(registry, registrar, "registerInvestor", investor_c, investor_c)
    token = deploy_series(maxPerInvestor=100, maxHolders=2)
    token.mint(investor_a, 100, sender=minter)
    token.mint(investor_c, 100, sender=minter)
    if path == "attestation":
        now = later(chain)
        submit(
            registry, chain, kyc_provider.private_key, attestation(investor_b, investor_a, 1, now + 60, now), registrar
        )
    else:
        register_by(registry, registrar, path, investor_b, investor_a)
    with reverts(token.TransferRestricted, code=CAP):
        token.mint(investor_b, 100, sender=minter)
    with reverts(token.TransferRestricted, code=CAP):
        token.transfer(investor_b, 1, sender=investor_c)
    token.transfer(investor_b, 50, sender=investor_a)
    assert token.holderCount() == 2
    assert token.accountState(investor_b).aggregateBalance == 100


def test_wallet_with_units_joining_an_investor_is_folded(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_c, investor_d
):
    """A wallet that already holds units joins an investor the series had folded: the generation moved on."""
    onboard(investor_a)
    onboard(investor_c)
    onboard(investor_d)
    token = deploy_series(maxPerInvestor=100, maxHolders=5)
    registry.linkWallet(investor_a, investor_b, sender=registrar)
    token.mint(investor_a, 50, sender=minter)  # folds investor_a's identity in this series
    token.mint(investor_d, 50, sender=minter)
    token.mint(investor_c, 10, sender=minter)
    assert token.holderCount() == 3
    registry.updateIdentity(investor_d, investor_a, sender=registrar)  # investor_d's units now belong to investor_a
    assert token.holderCount() == 3  # the stored count waits for the next touch (documented)
    assert token.accountState(investor_a).aggregateBalance == 100  # views fold
    assert token.detectTransferRestriction(investor_c, investor_a, 1) == CAP
    with reverts(token.TransferRestricted, code=CAP):
        token.transfer(investor_a, 1, sender=investor_c)
    tx = token.syncInvestor(investor_a, sender=investor_c)  # anyone may fold now
    ev = tx.events.filter(token.InvestorAggregated)[0]
    assert (ev.identity, ev.walletsAdded, ev.aggregateBalance) == (investor_a.address, 1, 100)
    assert token.holderCount() == 2
    assert token.accountState(investor_d).aggregationIdentity == investor_a.address


def test_removed_wallet_linked_again_is_folded_once(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_c
):
    onboard(investor_a)
    onboard(investor_b)
    onboard(investor_c)
    token = deploy_series(maxHolders=3)
    for wallet in (investor_a, investor_b, investor_c):
        token.mint(wallet, 5, sender=minter)
    assert token.holderCount() == 3
    registry.deleteIdentity(investor_b, sender=registrar)
    registry.linkWallet(investor_c, investor_b, sender=registrar)
    token.transfer(investor_a, 1, sender=investor_c)
    assert token.holderCount() == 2
    assert token.accountState(investor_b).aggregateBalance == 9
    token.transfer(investor_c, 5, sender=investor_b)
    assert token.holderCount() == 2
    # nothing left to fold: a later touch writes nothing more
    assert not token.transfer(investor_a, 1, sender=investor_c).events.filter(token.InvestorAggregated)


def test_aggregation_survives_registry_changes(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_d
):
    onboard(investor_a)
    onboard(investor_d)
    token = deploy_series(maxPerInvestor=100, maxHolders=3)
    registry.linkWallet(investor_a, investor_b, sender=registrar)
    token.mint(investor_a, 50, sender=minter)
    token.mint(investor_b, 50, sender=minter)
    assert token.holderCount() == 1
    # the registry moves investor_b to its own identity; the token keeps the identity it aggregated under
    registry.updateIdentity(investor_b, investor_b, sender=registrar)
    assert token.accountState(investor_b).aggregationIdentity == investor_a.address
    token.transfer(investor_d, 50, sender=investor_b)
    assert token.accountState(investor_a).aggregateBalance == 50
    assert token.holderCount() == 2
    token.transfer(investor_d, 50, sender=investor_a)
    assert token.holderCount() == 1


def test_each_series_folds_on_its_own(deploy_series, onboard, registry, registrar, minter, investor_a, investor_b):
    onboard(investor_a)
    first, second = deploy_series(maxPerInvestor=100), deploy_series(maxPerInvestor=100, isin="JP2100010002")
    first.mint(investor_a, 70, sender=minter)
    second.mint(investor_a, 30, sender=minter)
    registry.linkWallet(investor_a, investor_b, sender=registrar)
    with reverts(first.TransferRestricted, code=CAP):
        first.mint(investor_b, 31, sender=minter)
    second.mint(investor_b, 70, sender=minter)
    assert first.accountState(investor_b).aggregateBalance == 70
    assert second.accountState(investor_b).aggregateBalance == 100


def test_a_series_on_another_registry_cannot_block_the_registry(
    project, deploy_series, onboard, registry, registrar, admin, minter, investor_a, investor_b
):
    """Review finding 3: a series that moved to another registry made every linkWallet revert."""
    onboard(investor_a)
    token = deploy_series()
    token.mint(investor_a, 10, sender=minter)
    other = admin.deploy(project.InvestorRegistry, admin)
    token.setIdentityRegistry(other, sender=admin)
    registry.linkWallet(investor_a, investor_b, sender=registrar)
    assert registry.investorRecord(investor_b).multiWallet


def test_new_registry_is_folded_again(
    project, deploy_series, onboard, registry, registrar, admin, minter, investor_a, investor_b, investor_e
):
    """Generations of another registry are not this one's: a series that changes registry folds again."""
    onboard(investor_a)
    onboard(investor_e)
    token = deploy_series(maxPerInvestor=100)
    registry.linkWallet(investor_a, investor_b, sender=registrar)
    token.mint(investor_a, 60, sender=minter)  # folded at generation 1 of the first registry
    token.mint(investor_e, 50, sender=minter)
    other = admin.deploy(project.InvestorRegistry, admin)
    other.grantRole(other.REGISTRAR_ROLE(), registrar, sender=admin)
    other.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    other.linkWallet(investor_a, investor_e, sender=registrar)  # generation 1 of the new registry
    token.setIdentityRegistry(other, sender=admin)
    with reverts(token.TransferRestricted, code=CAP):
        token.mint(investor_a, 1, sender=minter)


def registry_gas(registry: Any, registrar: Any, admin: Any, tag: int) -> tuple[int, int, int]:
    """Gas of linking a second wallet, registering a new investor and binding a token (fresh addresses)."""
    holder, second, new, bound = (f"0x{tag + i:040x}" for i in range(4))
    registry.registerInvestor(holder, holder, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    link = registry.linkWallet(holder, second, sender=registrar).gas_used
    register = registry.registerInvestor(new, f"0x{tag + 9:040x}", JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    return link, register.gas_used, registry.bindToken(bound, sender=admin).gas_used


def test_registry_costs_do_not_grow_with_the_series(deploy_series, registry, registrar, admin, minter):
    """Review finding 3: linkWallet called every bound series (+103,009 gas per series)."""
    token = deploy_series()
    one = registry_gas(registry, registrar, admin, 0x1000)
    tokens = [token] + [deploy_series(isin=f"JP21000100{i:02d}") for i in range(5)]
    holder = f"0x{0x2000:040x}"
    registry.registerInvestor(holder, holder, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    for t in tokens:
        t.mint(holder, 10, sender=minter)
    link = registry.linkWallet(holder, f"0x{0x2001:040x}", sender=registrar).gas_used
    six = registry_gas(registry, registrar, admin, 0x3000)
    assert six == one and link == one[0]
