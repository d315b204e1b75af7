"""BondToken: ERC-20/ERC-3643 behaviour, restriction codes, freezes, agent paths, documents, bond views."""

from __future__ import annotations

import pytest
from ape import reverts

from tests.conftest import JAPAN, KOBE, OSAKA, USA

ZERO = "0x" + "00" * 20


@pytest.fixture
def investors(onboard, investor_a, investor_b, investor_c):
    onboard(investor_a)
    onboard(investor_b)
    onboard(investor_c, country=JAPAN, region=OSAKA)
    return investor_a, investor_b, investor_c


def restricted(token, code: int):
    return reverts(token.TransferRestricted, code=code)


def test_bond_views_and_metadata(deploy_series, token_implementation):
    token = deploy_series(name="Serial A", symbol="SA", decimals=0, isin="JP1234567890")
    assert (token.name(), token.symbol(), token.decimals()) == ("Serial A", "SA", 0)
    assert token.isin() == "JP1234567890"
    assert token.denomination() == 10_000
    assert token.issueVolume() == 1_000_000_000
    assert (token.couponRate(), token.COUPON_RATE_SCALE()) == (450_000, 10**8)
    assert token.couponFrequency() == 2
    assert token.couponType() == 1
    assert token.issueDate() == 1_767_225_600
    assert token.maturityDate() == 1_924_992_000
    assert token.dayCountBasis() == 2
    assert token.currency() == ZERO
    assert token.version() == "1.0.0"
    assert token.compliance() == token.address
    assert token.extension() == token_implementation.extension()


def test_transfer_and_transfer_from(deploy_series, investors, minter):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 100, sender=minter)
    token.transfer(b, 30, sender=a)
    token.approve(b, 20, sender=a)
    token.transferFrom(a, b, 20, sender=b)
    assert (token.balanceOf(a), token.balanceOf(b), token.totalSupply()) == (50, 50, 100)
    assert token.allowance(a, b) == 0
    with reverts(token.ERC20InsufficientAllowance):
        token.transferFrom(a, b, 1, sender=b)


def test_code_insufficient_balance_and_invalid_address(deploy_series, investors, minter):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    assert token.detectTransferRestriction(a, b, 11) == 4
    with restricted(token, 4):
        token.transfer(b, 11, sender=a)
    with restricted(token, 15):
        token.transfer(ZERO, 1, sender=a)


def test_code_paused(deploy_series, investors, minter, freezer):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    token.pause(sender=freezer)
    assert token.paused()
    assert token.detectTransferRestriction(a, b, 1) == 1
    with restricted(token, 1):
        token.transfer(b, 1, sender=a)
    token.unpause(sender=freezer)
    token.transfer(b, 1, sender=a)


def test_codes_frozen_wallets(deploy_series, investors, minter, freezer):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    tx = token.setAddressFrozen(a, True, sender=freezer)
    assert tx.events.filter(token.AddressFrozen)[0]._isFrozen
    with restricted(token, 2):
        token.transfer(b, 1, sender=a)
    token.setAddressFrozen(a, False, sender=freezer)
    token.setAddressFrozen(b, True, sender=freezer)
    with restricted(token, 3):
        token.transfer(b, 1, sender=a)
    with restricted(token, 3):
        token.mint(b, 1, sender=minter)


def test_partial_freeze_limits_transfers(deploy_series, investors, minter, freezer):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    token.freezePartialTokens(a, 7, sender=freezer)
    assert token.getFrozenTokens(a) == 7
    with restricted(token, 4):
        token.transfer(b, 4, sender=a)
    token.transfer(b, 3, sender=a)
    with reverts(token.InvalidFreezeAmount):
        token.freezePartialTokens(a, 1, sender=freezer)
    token.unfreezePartialTokens(a, 7, sender=freezer)
    assert token.getFrozenTokens(a) == 0
    with reverts(token.InvalidFreezeAmount):
        token.unfreezePartialTokens(a, 1, sender=freezer)


def test_codes_verification(deploy_series, investors, minter, registry, registrar, investor_d, chain):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    with restricted(token, 6):
        token.transfer(investor_d, 1, sender=a)
    with restricted(token, 6):
        token.mint(investor_d, 1, sender=minter)
    registry.deleteIdentity(a, sender=registrar)
    with restricted(token, 5):
        token.transfer(b, 1, sender=a)
    # expired KYC: the receiver becomes unverified at its kycExpiry
    expiry = chain.pending_timestamp + 50
    registry.registerInvestor(investor_d, investor_d, JAPAN, KOBE, 0, 0, expiry, sender=registrar)
    token.mint(investor_d, 1, sender=minter)
    chain.mine(timestamp=expiry + 1)
    with restricted(token, 6):
        token.mint(investor_d, 1, sender=minter)


def test_code_country(deploy_series, onboard, investors, investor_d, minter, compliance_manager):
    a, _, _ = investors
    onboard(investor_d, country=USA, region=0)
    token = deploy_series(allowedCountries=[JAPAN])
    token.mint(a, 10, sender=minter)
    assert token.detectTransferRestriction(a, investor_d, 1) == 7
    with restricted(token, 7):
        token.transfer(investor_d, 1, sender=a)
    tx = token.setCountriesAllowed([USA], True, sender=compliance_manager)
    ev = tx.events.filter(token.CountryAllowedChanged)[0]
    assert (ev.country, ev.oldAllowed, ev.newAllowed) == (USA, False, True)
    token.transfer(investor_d, 1, sender=a)


def test_code_region_residents_only(deploy_series, investors, minter, compliance_manager):
    a, b, c = investors
    token = deploy_series(regionCountries=[JAPAN], regions=[KOBE])
    token.mint(a, 10, sender=minter)
    token.transfer(b, 1, sender=a)
    with restricted(token, 8):
        token.transfer(c, 1, sender=a)
    with restricted(token, 8):
        token.mint(c, 1, sender=minter)
    # more pairs than fit inline go to the overflow map
    token.setRegionAllowed(JAPAN, 131000, True, sender=compliance_manager)
    token.setRegionAllowed(JAPAN, OSAKA, True, sender=compliance_manager)
    assert token.isRegionAllowed(JAPAN, OSAKA) and token.isRegionAllowed(JAPAN, KOBE)
    token.transfer(c, 1, sender=a)
    tx = token.setRegionAllowed(JAPAN, OSAKA, False, sender=compliance_manager)
    ev = tx.events.filter(token.RegionAllowedChanged)[0]
    assert (ev.oldAllowed, ev.newAllowed) == (True, False)
    with restricted(token, 8):
        token.transfer(c, 1, sender=a)
    token.setRegionRestriction(False, sender=compliance_manager)
    token.transfer(c, 1, sender=a)


def test_code_max_holders(deploy_series, investors, minter, compliance_manager):
    a, b, c = investors
    token = deploy_series(maxHolders=2)
    token.mint(a, 10, sender=minter)
    token.mint(b, 10, sender=minter)
    assert token.holderCount() == 2
    with restricted(token, 9):
        token.transfer(c, 1, sender=a)
    # moving a whole holding to a new holder keeps the count
    token.transfer(c, 10, sender=a)
    assert token.holderCount() == 2
    tx = token.setMaxHolders(3, sender=compliance_manager)
    ev = tx.events.filter(token.ComplianceRuleChanged)[0]
    assert (ev.rule, ev.oldValue, ev.newValue) == (3, 2, 3)


def test_code_investor_cap(deploy_series, investors, minter):
    a, b, _ = investors
    token = deploy_series(maxPerInvestor=50)
    token.mint(a, 50, sender=minter)
    with restricted(token, 10):
        token.mint(a, 1, sender=minter)
    token.mint(b, 45, sender=minter)
    with restricted(token, 10):
        token.transfer(b, 6, sender=a)
    token.transfer(b, 5, sender=a)


def test_code_minimum_holding_and_multiple(deploy_series, investors, minter):
    a, b, _ = investors
    token = deploy_series(minHolding=10, holdingMultiple=5)
    with restricted(token, 11):
        token.mint(a, 5, sender=minter)
    with restricted(token, 12):
        token.mint(a, 12, sender=minter)
    token.mint(a, 30, sender=minter)
    with restricted(token, 11):
        token.transfer(b, 25, sender=a)  # leaves 5 < 10
    with restricted(token, 11):
        token.transfer(b, 5, sender=a)  # receiver would hold 5 < 10
    with restricted(token, 12):
        token.transfer(b, 12, sender=a)
    token.transfer(b, 30, sender=a)  # whole holding: sender ends at zero
    assert token.balanceOf(b) == 30


def test_code_lockup(deploy_series, investors, minter, chain, registry, registrar, investor_d):
    a, b, _ = investors
    until = chain.pending_timestamp + 1000
    token = deploy_series(lockUpUntil=until)
    token.mint(a, 10, sender=minter)  # minting is allowed during the lock-up
    with restricted(token, 13):
        token.transfer(b, 1, sender=a)
    # a wallet of the same investor is not another investor
    registry.linkWallet(a, investor_d, sender=registrar)
    token.transfer(investor_d, 1, sender=a)
    chain.mine(timestamp=until)
    token.transfer(b, 1, sender=a)


def test_code_blackout(deploy_series, investors, minter, chain, compliance_manager):
    a, b, _ = investors
    now = chain.pending_timestamp
    token = deploy_series(blackoutStarts=[now + 100], blackoutEnds=[now + 200])
    token.mint(a, 10, sender=minter)
    token.transfer(b, 1, sender=a)
    chain.mine(timestamp=now + 150)
    assert token.detectTransferRestriction(a, b, 1) == 14
    with restricted(token, 14):
        token.transfer(b, 1, sender=a)
    chain.mine(timestamp=now + 200)
    token.transfer(b, 1, sender=a)
    tx = token.setBlackoutWindows([], [], sender=compliance_manager)
    assert len(tx.events.filter(token.BlackoutWindowsChanged)[0].oldWindows) == 1
    assert token.blackoutWindows() == []
    # Every transfer loops over the windows, so their number is bounded.
    starts = [now + 1000 + 10 * i for i in range(17)]
    with reverts(token.InvalidComplianceValue, rule=8, value=17):
        token.setBlackoutWindows(starts, [t + 5 for t in starts], sender=compliance_manager)
    token.setBlackoutWindows(starts[:16], [t + 5 for t in starts[:16]], sender=compliance_manager)
    assert len(token.blackoutWindows()) == 16


def test_messages_cover_every_code(deploy_series):
    token = deploy_series()
    messages = [token.messageForTransferRestriction(i) for i in range(18)]
    assert messages[0] == "SUCCESS"
    assert messages[17] == "SERIES_REDEEMED"
    assert len(set(messages)) == 18
    assert token.messageForTransferRestriction(18) == "UNKNOWN"


def test_forced_transfer_unfreezes_only_what_it_moves(deploy_series, investors, minter, freezer, transfer_agent):
    a, b, _ = investors
    token = deploy_series()
    token.mint(a, 100, sender=minter)
    token.freezePartialTokens(a, 80, sender=freezer)
    token.setAddressFrozen(a, True, sender=freezer)
    # 20 free tokens: moving 50 unfreezes exactly 30, leaving 50 frozen of a 50 balance
    tx = token.forcedTransfer(a, b, 50, sender=transfer_agent)
    assert tx.events.filter(token.TokensUnfrozen)[0]._amount == 30
    assert token.getFrozenTokens(a) == 50
    assert token.balanceOf(a) == 50 and token.isFrozen(a)
    # moving within the free part does not unfreeze anything
    token.unfreezePartialTokens(a, 10, sender=freezer)
    tx = token.forcedTransfer(a, b, 10, sender=transfer_agent)
    assert not tx.events.filter(token.TokensUnfrozen)
    assert token.getFrozenTokens(a) == 40


def test_forced_transfer_respects_receiver_rules(deploy_series, investors, minter, transfer_agent, investor_d, chain):
    a, _, c = investors
    token = deploy_series(regionCountries=[JAPAN], regions=[KOBE], lockUpUntil=chain.pending_timestamp + 10_000)
    token.mint(a, 10, sender=minter)
    with restricted(token, 6):
        token.forcedTransfer(a, investor_d, 1, sender=transfer_agent)
    with restricted(token, 8):
        token.forcedTransfer(a, c, 1, sender=transfer_agent)


def test_recovery_moves_balance_and_freezes(
    deploy_series, onboard, investors, minter, freezer, transfer_agent, investor_d
):
    a, b, _ = investors
    token = deploy_series()
    onboard(investor_d, identity=a)  # a new wallet registered under the same identity
    token.mint(a, 100, sender=minter)
    token.freezePartialTokens(a, 30, sender=freezer)
    token.setAddressFrozen(a, True, sender=freezer)
    with reverts(token.RecoveryIdentityMismatch):
        token.recoveryAddress(a, b, a, sender=transfer_agent)
    tx = token.recoveryAddress(a, investor_d, a, sender=transfer_agent)
    assert tx.events.filter(token.RecoverySuccess)[0]._newWallet == investor_d.address
    assert (token.balanceOf(a), token.balanceOf(investor_d)) == (0, 100)
    assert token.getFrozenTokens(investor_d) == 30 and token.getFrozenTokens(a) == 0
    assert token.isFrozen(investor_d)
    assert token.holderCount() == 1


def test_agent_paths_refuse_the_zero_address_as_a_party(deploy_series, investors, minter, transfer_agent):
    """Found by the model-based test: forcedTransfer(0x0, holder) minted and forcedTransfer(holder, 0x0) burned
    (frozen units too), so the transfer agent reached the minter's power; mint(0x0) and burn(0x0) moved the supply
    with no balance. Only a mint starts at the zero address and only a burn ends there."""
    a, _, _ = investors
    token = deploy_series()
    token.mint(a, 10, sender=minter)
    zero = "0x" + "00" * 20
    for call, sender in (
        (lambda s: token.forcedTransfer(zero, a, 1, sender=s), transfer_agent),
        (lambda s: token.forcedTransfer(a, zero, 1, sender=s), transfer_agent),
        (lambda s: token.mint(zero, 1, sender=s), minter),
        (lambda s: token.burn(zero, 1, sender=s), minter),
    ):
        with restricted(token, 15):
            call(sender)
    assert (token.totalSupply(), token.balanceOf(a)) == (10, 10)


def test_burn_reaches_unfrozen_tokens_and_redeem_is_reserved(deploy_series, investors, minter, freezer, payer):
    a, _, _ = investors
    token = deploy_series()
    token.mint(a, 100, sender=minter)
    token.freezePartialTokens(a, 60, sender=freezer)
    with restricted(token, 4):
        token.burn(a, 41, sender=minter)  # burn only reaches unfrozen tokens
    token.burn(a, 40, sender=minter)
    assert (token.balanceOf(a), token.totalSupply(), token.getFrozenTokens(a), token.holderCount()) == (60, 60, 60, 1)
    # Retirement (which burns frozen tokens too) is the series' payment code's alone: tests/unit/payments.
    with reverts(token.NotSeriesPayments):
        token.retire(a, sender=payer)


def test_batch_operations(deploy_series, investors, minter, freezer, transfer_agent):
    a, b, c = investors
    token = deploy_series()
    token.batchMint([a, b], [10, 20], sender=minter)
    token.batchTransfer([b, c], [1, 2], sender=a)
    token.batchForcedTransfer([b], [c], [5], sender=transfer_agent)
    token.batchBurn([c], [7], sender=minter)
    token.batchSetAddressFrozen([a, b], [True, True], sender=freezer)
    token.batchSetAddressFrozen([a, b], [False, False], sender=freezer)
    token.batchFreezePartialTokens([a], [3], sender=freezer)
    token.batchUnfreezePartialTokens([a], [3], sender=freezer)
    assert [token.balanceOf(x) for x in (a, b, c)] == [7, 16, 0]
    assert token.totalSupply() == 23
    with reverts(token.LengthMismatch):
        token.batchMint([a], [], sender=minter)


def test_documents(deploy_series, document_manager):
    token = deploy_series()
    name = b"prospectus".ljust(32, b"\0")
    notice = b"notice-1".ljust(32, b"\0")
    tx = token.setDocument(name, "ipfs://prospectus", b"\x11" * 32, sender=document_manager)
    assert tx.events.filter(token.DocumentUpdated)[0]._uri == "ipfs://prospectus"
    token.setDocument(notice, "ipfs://notice", b"\x22" * 32, sender=document_manager)
    uri, digest, modified = token.getDocument(name)
    assert (uri, digest) == ("ipfs://prospectus", b"\x11" * 32) and modified > 0
    assert token.getAllDocuments() == [name, notice]
    token.removeDocument(name, sender=document_manager)
    assert token.getAllDocuments() == [notice]
    with reverts(token.DocumentNotFound):
        token.getDocument(name)


def test_token_information_updates(deploy_series, admin):
    token = deploy_series()
    tx = token.setName("Renamed", sender=admin)
    assert token.name() == "Renamed"
    assert tx.events.filter(token.UpdatedTokenInformation)[0]._newDecimals == 0
    token.setSymbol("RN", sender=admin)
    token.setOnchainID(admin, sender=admin)
    assert (token.symbol(), token.onchainID()) == ("RN", admin.address)
    token.setCompliance(token, sender=admin)
    with reverts(token.UnsupportedCompliance):
        token.setCompliance(admin, sender=admin)


def test_set_identity_registry_emits_the_new_registry(project, deploy_series, admin):
    """Review finding 4: the event named the old registry (the series' immutable arg)."""
    token = deploy_series()
    other = admin.deploy(project.InvestorRegistry, admin)
    tx = token.setIdentityRegistry(other, sender=admin)
    assert tx.events.filter(token.IdentityRegistryAdded)[0]._identityRegistry == other.address
    assert token.identityRegistry() == other.address


def test_ownership_transfer_moves_admin(deploy_series, admin, outsider):
    token = deploy_series()
    assert token.owner() == admin.address
    tx = token.transferOwnership(outsider, sender=admin)
    ev = tx.events.filter(token.OwnershipTransferred)[0]
    assert (ev.previousOwner, ev.newOwner) == (admin.address, outsider.address)
    assert token.hasRole(b"\0" * 32, outsider) and not token.hasRole(b"\0" * 32, admin)


def test_agent_umbrella(deploy_series, admin, outsider, investors):
    a, _, _ = investors
    token = deploy_series()
    token.addAgent(outsider, sender=admin)
    assert token.isAgent(outsider)
    for role in ("TRANSFER_AGENT_ROLE", "FREEZER_ROLE", "MINTER_ROLE"):
        assert token.hasRole(getattr(token, role)() if hasattr(token, role) else _role(role), outsider)
    token.mint(a, 1, sender=outsider)
    token.removeAgent(outsider, sender=admin)
    assert not token.isAgent(outsider)
    with reverts(token.MissingRole):
        token.mint(a, 1, sender=outsider)


def _role(name: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=name)
