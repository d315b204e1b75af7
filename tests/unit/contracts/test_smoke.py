"""First end-to-end check: factory series, registry onboarding, mint and transfer."""

from tests.conftest import JAPAN, KOBE


def test_series_mint_transfer(deploy_series, onboard, minter, investor_a, investor_b):
    token = deploy_series(maxHolders=10, maxPerInvestor=1000, regionCountries=[JAPAN], regions=[KOBE])
    onboard(investor_a)
    onboard(investor_b)
    token.mint(investor_a, 100, sender=minter)
    tx = token.transfer(investor_b, 40, sender=investor_a)
    print("transfer_new gas", tx.gas_used)
    tx = token.transfer(investor_b, 10, sender=investor_a)
    print("transfer_existing gas", tx.gas_used)
    assert token.balanceOf(investor_a) == 50
    assert token.balanceOf(investor_b) == 50
    assert token.holderCount() == 2
    assert token.name() == "Kobe City Resident Bond 2025-1"
    assert token.denomination() == 10_000
    assert token.detectTransferRestriction(investor_a, investor_b, 51) == 4
    assert token.messageForTransferRestriction(4) == "INSUFFICIENT_UNFROZEN_BALANCE"
