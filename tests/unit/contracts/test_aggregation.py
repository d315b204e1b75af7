"""Multi-wallet investors: per-investor cap and holder count are exact once wallets are linked."""

from __future__ import annotations

from ape import reverts


def test_link_aggregates_existing_balances(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_c
):
    onboard(investor_a)
    onboard(investor_c)
    token = deploy_series(maxPerInvestor=100, maxHolders=5)
    token.mint(investor_a, 60, sender=minter)
    token.mint(investor_c, 10, sender=minter)
    tx = registry.linkWallet(investor_a, investor_b, sender=registrar)
    ev = tx.events.filter(token.InvestorAggregated)[0]
    assert (ev.identity, ev.aggregateBalance) == (investor_a.address, 60)
    assert token.accountState(investor_b).aggregationIdentity == investor_a.address
    token.mint(investor_b, 40, sender=minter)  # 60 + 40 = cap
    with reverts(token.TransferRestricted, code=10):
        token.mint(investor_b, 1, sender=minter)
    with reverts(token.TransferRestricted, code=10):
        token.transfer(investor_b, 1, sender=investor_c)
    # moving between the investor's own wallets changes neither the aggregate nor the holder count
    token.transfer(investor_b, 60, sender=investor_a)
    assert token.accountState(investor_a).aggregateBalance == 100
    assert token.holderCount() == 2


def test_link_fixes_holder_count(
    deploy_series, onboard, registry, registrar, minter, investor_a, investor_b, investor_c
):
    onboard(investor_a)
    onboard(investor_c)
    # investor_b registered directly under investor_c's identity: the registry cannot tell (no identity
    # index),
    # so the token counts it as a separate holder until the wallets are linked
    onboard(investor_b, identity=investor_c)
    token = deploy_series(maxHolders=3)
    for w in (investor_a, investor_b, investor_c):
        token.mint(w, 5, sender=minter)
    assert token.holderCount() == 3
    registry.deleteIdentity(investor_b, sender=registrar)
    registry.linkWallet(investor_c, investor_b, sender=registrar)
    assert token.holderCount() == 2
    assert token.accountState(investor_b).aggregateBalance == 10
    token.transfer(investor_c, 5, sender=investor_b)
    assert token.holderCount() == 2


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


def test_only_registry_may_call_hook(deploy_series, outsider, investor_a):
    token = deploy_series()
    with reverts(token.NotIdentityRegistry):
        token.onWalletsLinked(investor_a, [investor_a], sender=outsider)
