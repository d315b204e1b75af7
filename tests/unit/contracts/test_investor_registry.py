"""InvestorRegistry: ERC-3643 registry surface, extended records, expiry, linking, EIP-712 attestations."""

from __future__ import annotations

from typing import Any

import pytest
from ape import reverts
from eth_account import Account
from eth_account.messages import encode_typed_data

from munibond.investors import MAX_WALLETS_PER_INVESTOR
from tests.conftest import FAR_FUTURE, JAPAN, KOBE, OSAKA, USA

ATTESTATION_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "InvestorAttestation": [
        {"name": "wallet", "type": "address"},
        {"name": "identity", "type": "address"},
        {"name": "country", "type": "uint16"},
        {"name": "region", "type": "uint24"},
        {"name": "category", "type": "uint8"},
        {"name": "taxClass", "type": "uint8"},
        {"name": "kycExpiry", "type": "uint32"},
        {"name": "issuedAt", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def later(chain: Any, seconds: int = 10) -> int:
    """Mines a block `seconds` after the last one and returns its time (a moment after every earlier decision)."""
    chain.mine(timestamp=chain.blocks.head.timestamp + seconds)
    return int(chain.blocks.head.timestamp)


def attestation(wallet: Any, identity: Any, nonce: int, deadline: int, issued_at: int, **fields: int) -> dict[str, Any]:
    message = {
        "wallet": str(wallet),
        "identity": str(identity),
        "country": fields.get("country", JAPAN),
        "region": fields.get("region", KOBE),
        "category": fields.get("category", 0),
        "taxClass": fields.get("taxClass", 1),
        "kycExpiry": fields.get("kycExpiry", FAR_FUTURE),
        "issuedAt": issued_at,
        "nonce": nonce,
        "deadline": deadline,
    }
    return message


def sign(registry: Any, chain: Any, private_key: str, message: dict[str, Any]) -> bytes:
    typed = {
        "types": ATTESTATION_TYPES,
        "primaryType": "InvestorAttestation",
        "domain": {
            "name": "munibond InvestorRegistry",
            "version": "1",
            "chainId": chain.chain_id,
            "verifyingContract": str(registry.address),
        },
        "message": message,
    }
    return bytes(Account.sign_message(encode_typed_data(full_message=typed), private_key).signature)


def submit(registry: Any, chain: Any, key: str, message: dict[str, Any], sender: Any) -> Any:
    return registry.registerWithAttestation(tuple(message.values()), sign(registry, chain, key, message), sender=sender)


def test_register_investor_sets_packed_record(registry, registrar, investor_a):
    tx = registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 1, 2, FAR_FUTURE, sender=registrar)
    rec = registry.investorRecord(investor_a)
    assert (
        rec.identity,
        rec.country,
        rec.region,
        rec.category,
        rec.taxClass,
        rec.kycExpiry,
        rec.multiWallet,
    ) == (
        investor_a.address,
        JAPAN,
        KOBE,
        1,
        2,
        FAR_FUTURE,
        False,
    )
    word = registry.record(investor_a)
    assert word == int(investor_a.address, 16) | JAPAN << 160 | KOBE << 176 | 1 << 200 | 2 << 208 | FAR_FUTURE << 216
    assert registry.isVerified(investor_a) and registry.contains(investor_a)
    assert registry.identity(investor_a) == investor_a.address
    assert registry.investorCountry(investor_a) == JAPAN
    events = tx.events.filter(registry.IdentityRegistered)
    assert len(events) == 1 and events[0].investorAddress == investor_a.address


def test_duplicate_and_zero_registration_rejected(registry, registrar, investor_a):
    registry.registerIdentity(investor_a, investor_a, JAPAN, sender=registrar)
    with reverts(registry.WalletAlreadyRegistered):
        registry.registerIdentity(investor_a, investor_a, JAPAN, sender=registrar)
    with reverts(registry.ZeroAddress):
        registry.registerIdentity("0x" + "00" * 20, investor_a, JAPAN, sender=registrar)


def test_kyc_expiry_is_enforced(registry, registrar, investor_a, chain):
    expiry = chain.pending_timestamp + 100
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 0, expiry, sender=registrar)
    assert registry.isVerified(investor_a)
    chain.mine(timestamp=expiry)
    assert not registry.isVerified(investor_a)
    assert registry.contains(investor_a)


def test_erc3643_updates_and_delete(registry, registrar, investor_a, investor_b):
    registry.batchRegisterIdentity([investor_a, investor_b], [investor_a, investor_b], [JAPAN, USA], sender=registrar)
    tx = registry.updateCountry(investor_b, JAPAN, sender=registrar)
    assert registry.investorCountry(investor_b) == JAPAN
    assert tx.events.filter(registry.CountryUpdated)[0].country == JAPAN
    tx = registry.updateIdentity(investor_b, investor_a, sender=registrar)
    assert registry.identity(investor_b) == investor_a.address
    ev = tx.events.filter(registry.IdentityUpdated)[0]
    assert (ev.oldIdentity, ev.newIdentity) == (investor_b.address, investor_a.address)
    tx = registry.deleteIdentity(investor_b, sender=registrar)
    assert not registry.contains(investor_b) and not registry.isVerified(investor_b)
    assert tx.events.filter(registry.IdentityRemoved)[0].investorAddress == investor_b.address
    with reverts(registry.WalletNotRegistered):
        registry.deleteIdentity(investor_b, sender=registrar)


def test_component_views_and_setters(registry, admin):
    # No separate ERC-3643 identity storage: the registry does not implement IIdentityRegistryStorage.
    assert registry.identityStorage() == "0x" + "00" * 20
    assert registry.issuersRegistry() == "0x" + "00" * 20
    assert registry.topicsRegistry() == "0x" + "00" * 20
    registry.setIdentityRegistryStorage("0x" + "00" * 20, sender=admin)
    with reverts(registry.UnsupportedComponent):
        registry.setIdentityRegistryStorage(registry, sender=admin)
    with reverts(registry.UnsupportedComponent):
        registry.setClaimTopicsRegistry(admin, sender=admin)
    with reverts(registry.UnsupportedComponent):
        registry.setTrustedIssuersRegistry(admin, sender=admin)


def test_batch_register_struct_and_packed(registry, registrar, investor_a, investor_b, investor_c):
    registry.batchRegisterInvestors(
        [
            (investor_a, investor_a, JAPAN, KOBE, 0, 1, FAR_FUTURE),
            (investor_b, investor_b, JAPAN, OSAKA, 1, 2, FAR_FUTURE),
        ],
        sender=registrar,
    )
    assert registry.investorRecord(investor_b).region == OSAKA
    word = int(investor_c.address, 16) | JAPAN << 160 | KOBE << 176 | 3 << 200 | FAR_FUTURE << 216
    registry.batchRegisterPacked([investor_c], [word], sender=registrar)
    assert registry.investorRecord(investor_c).category == 3
    with reverts(registry.InvalidPackedRecord):
        registry.batchRegisterPacked([investor_a], [word | 1 << 248], sender=registrar)
    with reverts(registry.LengthMismatch):
        registry.batchRegisterPacked([investor_a], [], sender=registrar)


def test_link_wallet_copies_record_and_flags_all(registry, registrar, investor_a, investor_b, investor_c):
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 1, FAR_FUTURE, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_a.address]
    assert registry.identityState(investor_a) == (1, 0, registry.lastDecisionTime(investor_a, investor_a))
    tx = registry.linkWallet(investor_a, investor_b, sender=registrar)
    assert tx.events.filter(registry.WalletLinked)[0].wallet == investor_b.address
    for w in (investor_a, investor_b):
        rec = registry.investorRecord(w)
        assert rec.identity == investor_a.address and rec.multiWallet and rec.taxClass == 1
    assert registry.identityState(investor_a)[:2] == (2, 1)
    # a direct registration with the identity of a multi-wallet investor joins the same list
    registry.registerInvestor(investor_c, investor_a, JAPAN, KOBE, 0, 1, FAR_FUTURE, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_b.address, investor_c.address]
    assert registry.investorRecord(investor_c).multiWallet
    assert registry.identityState(investor_a)[:2] == (3, 2)
    # updates apply to every wallet of the investor
    registry.updateInvestor(investor_b, JAPAN, OSAKA, 0, 2, FAR_FUTURE, sender=registrar)
    assert all(registry.investorRecord(w).region == OSAKA for w in (investor_a, investor_b, investor_c))
    registry.removeInvestor(investor_b, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_c.address]
    # the first wallet leaves: another one takes its place; the last one left is single-wallet again
    registry.removeInvestor(investor_a, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_c.address]
    assert not registry.investorRecord(investor_c).multiWallet
    assert registry.identityState(investor_a)[:2] == (1, 2)  # leaving does not move the generation


REGISTRATION_PATHS = [
    "registerIdentity",
    "batchRegisterIdentity",
    "registerInvestor",
    "batchRegisterInvestors",
    "batchRegisterPacked",
]


def register_by(registry: Any, registrar: Any, path: str, wallet: Any, identity: Any) -> Any:
    """Registers `wallet` under `identity` through one of the registrar's registration paths."""
    if path == "registerIdentity":
        return registry.registerIdentity(wallet, identity, JAPAN, sender=registrar)
    if path == "batchRegisterIdentity":
        return registry.batchRegisterIdentity([wallet], [identity], [JAPAN], sender=registrar)
    if path == "registerInvestor":
        return registry.registerInvestor(wallet, identity, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    if path == "batchRegisterInvestors":
        return registry.batchRegisterInvestors([(wallet, identity, JAPAN, KOBE, 0, 0, FAR_FUTURE)], sender=registrar)
    word = int(str(identity), 16) | JAPAN << 160 | KOBE << 176 | FAR_FUTURE << 216
    return registry.batchRegisterPacked([wallet], [word], sender=registrar)


@pytest.mark.parametrize("path", REGISTRATION_PATHS)
def test_every_registration_of_a_second_wallet_links_it(registry, registrar, investor_a, investor_b, path):
    """Review finding 1: a second wallet registered directly used to count as a second investor."""
    register_by(registry, registrar, path, investor_a, investor_a)
    assert not registry.investorRecord(investor_a).multiWallet
    tx = register_by(registry, registrar, path, investor_b, investor_a)
    assert tx.events.filter(registry.WalletLinked)[0].existingWallet == investor_a.address
    assert registry.investorRecord(investor_a).multiWallet and registry.investorRecord(investor_b).multiWallet
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_b.address]
    assert registry.identityState(investor_a)[:2] == (2, 1)


def test_update_identity_to_an_investor_with_wallets_links(registry, registrar, investor_a, investor_b):
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    registry.registerInvestor(investor_b, investor_b, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    tx = registry.updateIdentity(investor_b, investor_a, sender=registrar)
    assert tx.events.filter(registry.WalletLinked)[0].wallet == investor_b.address
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_b.address]
    assert registry.identityState(investor_b)[0] == 0 and registry.linkedWallets(investor_b) == []
    assert registry.investorRecord(investor_b).multiWallet
    # and back: investor_b is single again under its own identity, investor_a too
    registry.updateIdentity(investor_b, investor_b, sender=registrar)
    assert not registry.investorRecord(investor_a).multiWallet and not registry.investorRecord(investor_b).multiWallet
    assert registry.linkedWallets(investor_b) == [investor_b.address]


def test_wallets_per_investor_are_bounded(registry, registrar, investor_a):
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    limit = registry.MAX_WALLETS_PER_INVESTOR()
    assert limit == MAX_WALLETS_PER_INVESTOR  # the CSV validation's limit
    wallets = [f"0x{0xA000 + i:040x}" for i in range(limit - 1)]
    for wallet in wallets:
        registry.linkWallet(investor_a, wallet, sender=registrar)
    assert registry.identityState(investor_a)[0] == limit
    with reverts(registry.TooManyWallets, identity=investor_a.address, max=limit):
        registry.linkWallet(investor_a, f"0x{0xB000:040x}", sender=registrar)
    with reverts(registry.TooManyWallets):
        registry.registerIdentity(f"0x{0xB000:040x}", investor_a, JAPAN, sender=registrar)


def test_bind_token_is_a_mapping(registry, admin, investor_a, investor_b):
    assert not registry.isTokenBound(investor_a)
    tx = registry.bindToken(investor_a, sender=admin)
    assert tx.events.filter(registry.TokenBound)[0]._token == investor_a.address
    assert registry.isTokenBound(investor_a)
    with reverts(registry.TokenBinding, token=investor_a.address, bound=True):
        registry.bindToken(investor_a, sender=admin)
    registry.bindToken(investor_b, sender=admin)
    registry.unbindToken(investor_a, sender=admin)
    assert not registry.isTokenBound(investor_a) and registry.isTokenBound(investor_b)
    with reverts(registry.TokenBinding, token=investor_a.address, bound=False):
        registry.unbindToken(investor_a, sender=admin)


def test_attestation_valid_registers(registry, chain, kyc_provider, investor_a, outsider):
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=7, deadline=now + 3600, issued_at=now, taxClass=2)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    assert registry.attestationDigest(tuple(msg.values())) is not None
    registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    assert registry.isVerified(investor_a)
    assert registry.investorRecord(investor_a).taxClass == 2
    assert registry.isNonceUsed(kyc_provider, 7)
    assert registry.identityState(investor_a) == (1, 0, now)  # the attestation's time is the last decision


def test_attestation_replay_rejected(registry, chain, kyc_provider, investor_a, outsider):
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=1, deadline=now + 3600, issued_at=now)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    with reverts(registry.AttestationNonceAlreadyUsed):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)


def test_attestation_renews_same_identity_only(registry, chain, kyc_provider, investor_a, investor_b, outsider):
    key = kyc_provider.private_key
    now = later(chain)
    deadline = now + 3600
    submit(
        registry, chain, key, attestation(investor_a, investor_a, 1, deadline, now, kycExpiry=2_000_000_000), outsider
    )
    renewed = later(chain)
    submit(
        registry,
        chain,
        key,
        attestation(investor_a, investor_a, 2, deadline, renewed, kycExpiry=2_100_000_000),
        outsider,
    )
    assert registry.investorRecord(investor_a).kycExpiry == 2_100_000_000
    other = attestation(investor_a, investor_b, nonce=3, deadline=deadline, issued_at=later(chain))
    with reverts(registry.IdentityMismatch):
        submit(registry, chain, key, other, outsider)


def test_attestation_for_a_second_wallet_links_it(registry, chain, kyc_provider, registrar, investor_a, investor_b):
    """Review finding 1: the KYC attestation of a second wallet used to register it as another investor."""
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 1, FAR_FUTURE, sender=registrar)
    now = later(chain)
    tx = submit(
        registry, chain, kyc_provider.private_key, attestation(investor_b, investor_a, 1, now + 3600, now), investor_b
    )
    assert tx.events.filter(registry.WalletLinked)[0].wallet == investor_b.address
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_b.address]
    assert registry.investorRecord(investor_a).multiWallet and registry.investorRecord(investor_b).multiWallet


def test_attestation_cannot_undo_a_removal(registry, chain, kyc_provider, registrar, investor_a, outsider):
    """Review finding 2: an unused attestation kept by an investor brought back a wallet the registrar removed."""
    key = kyc_provider.private_key
    registry.registerInvestor(investor_a, investor_a, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)
    now = later(chain)
    kept = attestation(investor_a, investor_a, nonce=11, deadline=now + 3600, issued_at=now, taxClass=2)
    kept_other_identity = attestation(investor_a, outsider, nonce=12, deadline=now + 3600, issued_at=now)
    later(chain)
    tx = registry.deleteIdentity(investor_a, sender=registrar)
    removed = tx.timestamp
    assert registry.lastDecisionTime(investor_a, investor_a) == removed
    assert registry.lastDecisionTime(investor_a, outsider) == removed  # the wallet's removal, whatever identity
    with reverts(registry.AttestationSuperseded, wallet=investor_a.address, issuedAt=now, decidedAt=removed):
        submit(registry, chain, key, kept, outsider)
    with reverts(registry.AttestationSuperseded):
        submit(registry, chain, key, kept_other_identity, outsider)
    assert not registry.contains(investor_a)
    # an attestation issued after the removal is a newer decision
    fresh = later(chain)
    submit(registry, chain, key, attestation(investor_a, investor_a, 13, fresh + 3600, fresh), outsider)
    assert registry.isVerified(investor_a)


def test_registrar_update_wins_over_an_earlier_attestation(
    registry, chain, kyc_provider, registrar, investor_a, outsider
):
    key = kyc_provider.private_key
    now = later(chain)
    submit(registry, chain, key, attestation(investor_a, investor_a, 1, now + 3600, now, taxClass=1), outsider)
    kept = attestation(investor_a, investor_a, nonce=2, deadline=now + 3600, issued_at=later(chain), taxClass=3)
    later(chain)
    registry.updateInvestor(investor_a, JAPAN, KOBE, 0, 2, FAR_FUTURE, sender=registrar)
    with reverts(registry.AttestationSuperseded):
        submit(registry, chain, key, kept, outsider)
    assert registry.investorRecord(investor_a).taxClass == 2


def test_older_attestation_cannot_override_a_newer_one(registry, chain, kyc_provider, investor_a, outsider):
    key = kyc_provider.private_key
    first = later(chain)
    older = attestation(investor_a, investor_a, nonce=1, deadline=first + 3600, issued_at=first, taxClass=1)
    newer = attestation(investor_a, investor_a, nonce=2, deadline=first + 3600, issued_at=later(chain), taxClass=2)
    submit(registry, chain, key, newer, outsider)
    with reverts(registry.AttestationSuperseded):
        submit(registry, chain, key, older, outsider)
    assert registry.investorRecord(investor_a).taxClass == 2


def test_attestation_issued_in_the_future_rejected(registry, chain, kyc_provider, investor_a, outsider):
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=1, deadline=now + 3600, issued_at=now + 1000)
    with reverts(registry.AttestationNotYetIssued):
        submit(registry, chain, kyc_provider.private_key, msg, outsider)


def test_attestation_expired_rejected(registry, chain, kyc_provider, investor_a, outsider):
    now = later(chain)
    deadline = now + 10
    msg = attestation(investor_a, investor_a, nonce=1, deadline=deadline, issued_at=now)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    chain.mine(timestamp=deadline + 1)
    with reverts(registry.AttestationExpired):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    assert not registry.contains(investor_a)


def test_attestation_untrusted_signer_rejected(registry, chain, investor_a, outsider, admin, kyc_provider):
    # A key of its own: Ape's generated test accounts can repeat an index once its account cache is reset.
    rogue = Account.from_key(bytes(32 * [0x42]))
    assert rogue.address != kyc_provider.address and not registry.isKycProvider(rogue.address)
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=1, deadline=now + 3600, issued_at=now)
    with reverts(registry.UntrustedKycProvider):
        registry.registerWithAttestation(tuple(msg.values()), sign(registry, chain, rogue.key, msg), sender=outsider)
    # a provider that is distrusted afterwards can no longer register anyone: all its attestations are revoked
    registry.setKycProvider(kyc_provider, False, sender=admin)
    with reverts(registry.UntrustedKycProvider):
        submit(registry, chain, kyc_provider.private_key, msg, outsider)


def test_attestation_tampered_fields_rejected(registry, chain, kyc_provider, investor_a, outsider):
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=1, deadline=now + 3600, issued_at=now)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    msg["region"] = OSAKA
    with reverts(registry.UntrustedKycProvider):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)


def test_provider_revokes_a_signed_attestation(registry, chain, kyc_provider, investor_a, outsider, admin):
    """A provider revokes what it signed by cancelling the nonce; a used or cancelled nonce cannot be cancelled."""
    admin.transfer(kyc_provider, 10**18)
    now = later(chain)
    msg = attestation(investor_a, investor_a, nonce=5, deadline=now + 3600, issued_at=now)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    tx = registry.cancelAttestationNonce(5, sender=kyc_provider)
    ev = tx.events.filter(registry.AttestationNonceUsed)[0]
    assert ev.event_arguments == {"provider": kyc_provider.address, "nonce": 5}
    assert registry.isNonceUsed(kyc_provider, 5)
    with reverts(registry.AttestationNonceAlreadyUsed, provider=kyc_provider.address, nonce=5):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    with reverts(registry.AttestationNonceAlreadyUsed):
        registry.cancelAttestationNonce(5, sender=kyc_provider)
    assert not registry.contains(investor_a)
    # a distrusted provider can still revoke its own nonces (and its signatures no longer count anyway)
    registry.setKycProvider(kyc_provider, False, sender=admin)
    registry.cancelAttestationNonce(6, sender=kyc_provider)
    assert registry.isNonceUsed(kyc_provider, 6)


@pytest.mark.parametrize("fn", ["registerIdentity", "registerInvestor"])
def test_registration_requires_registrar(registry, outsider, investor_a, fn):
    args = (
        (investor_a, investor_a, JAPAN) if fn == "registerIdentity" else (investor_a, investor_a, JAPAN, KOBE, 0, 0, 1)
    )
    with reverts(registry.AccessControlUnauthorizedAccount):
        getattr(registry, fn)(*args, sender=outsider)
