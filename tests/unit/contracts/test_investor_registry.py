"""InvestorRegistry: ERC-3643 registry surface, extended records, expiry, linking, EIP-712 attestations."""

from __future__ import annotations

from typing import Any

import pytest
from ape import reverts
from eth_account import Account
from eth_account.messages import encode_typed_data

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
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ],
}


def attestation(wallet: Any, identity: Any, nonce: int, deadline: int, **fields: int) -> dict[str, Any]:
    message = {
        "wallet": str(wallet),
        "identity": str(identity),
        "country": fields.get("country", JAPAN),
        "region": fields.get("region", KOBE),
        "category": fields.get("category", 0),
        "taxClass": fields.get("taxClass", 1),
        "kycExpiry": fields.get("kycExpiry", FAR_FUTURE),
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
    assert registry.identityStorage() == registry.address
    assert registry.issuersRegistry() == "0x" + "00" * 20
    assert registry.topicsRegistry() == "0x" + "00" * 20
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
    tx = registry.linkWallet(investor_a, investor_b, sender=registrar)
    assert tx.events.filter(registry.WalletLinked)[0].wallet == investor_b.address
    for w in (investor_a, investor_b):
        rec = registry.investorRecord(w)
        assert rec.identity == investor_a.address and rec.multiWallet and rec.taxClass == 1
    # a direct registration with the identity of a multi-wallet investor joins the same list
    registry.registerInvestor(investor_c, investor_a, JAPAN, KOBE, 0, 1, FAR_FUTURE, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_b.address, investor_c.address]
    assert registry.investorRecord(investor_c).multiWallet
    # updates apply to every wallet of the investor
    registry.updateInvestor(investor_b, JAPAN, OSAKA, 0, 2, FAR_FUTURE, sender=registrar)
    assert all(registry.investorRecord(w).region == OSAKA for w in (investor_a, investor_b, investor_c))
    registry.removeInvestor(investor_b, sender=registrar)
    assert registry.linkedWallets(investor_a) == [investor_a.address, investor_c.address]


def test_attestation_valid_registers(registry, chain, kyc_provider, investor_a, outsider):
    msg = attestation(investor_a, investor_a, nonce=7, deadline=chain.pending_timestamp + 3600, taxClass=2)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    assert registry.attestationDigest(tuple(msg.values())) is not None
    registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    assert registry.isVerified(investor_a)
    assert registry.investorRecord(investor_a).taxClass == 2
    assert registry.isNonceUsed(kyc_provider, 7)


def test_attestation_replay_rejected(registry, chain, kyc_provider, investor_a, outsider):
    msg = attestation(investor_a, investor_a, nonce=1, deadline=chain.pending_timestamp + 3600)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    with reverts(registry.AttestationNonceAlreadyUsed):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)


def test_attestation_renews_same_identity_only(registry, chain, kyc_provider, investor_a, investor_b, outsider):
    deadline = chain.pending_timestamp + 3600
    first = attestation(investor_a, investor_a, nonce=1, deadline=deadline, kycExpiry=2_000_000_000)
    registry.registerWithAttestation(
        tuple(first.values()), sign(registry, chain, kyc_provider.private_key, first), sender=outsider
    )
    renewal = attestation(investor_a, investor_a, nonce=2, deadline=deadline, kycExpiry=2_100_000_000)
    registry.registerWithAttestation(
        tuple(renewal.values()), sign(registry, chain, kyc_provider.private_key, renewal), sender=outsider
    )
    assert registry.investorRecord(investor_a).kycExpiry == 2_100_000_000
    other = attestation(investor_a, investor_b, nonce=3, deadline=deadline)
    with reverts(registry.IdentityMismatch):
        registry.registerWithAttestation(
            tuple(other.values()), sign(registry, chain, kyc_provider.private_key, other), sender=outsider
        )


def test_attestation_expired_rejected(registry, chain, kyc_provider, investor_a, outsider):
    deadline = chain.pending_timestamp + 10
    msg = attestation(investor_a, investor_a, nonce=1, deadline=deadline)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    chain.mine(timestamp=deadline + 1)
    with reverts(registry.AttestationExpired):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)
    assert not registry.contains(investor_a)


def test_attestation_untrusted_signer_rejected(registry, chain, investor_a, outsider, admin, kyc_provider):
    # A key of its own: Ape's generated test accounts can repeat an index once its account cache is reset.
    rogue = Account.from_key(bytes(32 * [0x42]))
    assert rogue.address != kyc_provider.address and not registry.isKycProvider(rogue.address)
    msg = attestation(investor_a, investor_a, nonce=1, deadline=chain.pending_timestamp + 3600)
    with reverts(registry.UntrustedKycProvider):
        registry.registerWithAttestation(tuple(msg.values()), sign(registry, chain, rogue.key, msg), sender=outsider)
    # a provider that is distrusted afterwards can no longer register anyone
    registry.setKycProvider(kyc_provider, False, sender=admin)
    with reverts(registry.UntrustedKycProvider):
        registry.registerWithAttestation(
            tuple(msg.values()), sign(registry, chain, kyc_provider.private_key, msg), sender=outsider
        )


def test_attestation_tampered_fields_rejected(registry, chain, kyc_provider, investor_a, outsider):
    msg = attestation(investor_a, investor_a, nonce=1, deadline=chain.pending_timestamp + 3600)
    signature = sign(registry, chain, kyc_provider.private_key, msg)
    msg["region"] = OSAKA
    with reverts(registry.UntrustedKycProvider):
        registry.registerWithAttestation(tuple(msg.values()), signature, sender=outsider)


def test_provider_can_cancel_nonce(registry, chain, kyc_provider, investor_a, outsider, admin):
    admin.transfer(kyc_provider, 10**18)
    registry.cancelAttestationNonce(5, sender=kyc_provider)
    msg = attestation(investor_a, investor_a, nonce=5, deadline=chain.pending_timestamp + 3600)
    with reverts(registry.AttestationNonceAlreadyUsed):
        registry.registerWithAttestation(
            tuple(msg.values()), sign(registry, chain, kyc_provider.private_key, msg), sender=outsider
        )


@pytest.mark.parametrize("fn", ["registerIdentity", "registerInvestor"])
def test_registration_requires_registrar(registry, outsider, investor_a, fn):
    args = (
        (investor_a, investor_a, JAPAN) if fn == "registerIdentity" else (investor_a, investor_a, JAPAN, KOBE, 0, 0, 1)
    )
    with reverts(registry.AccessControlUnauthorizedAccount):
        getattr(registry, fn)(*args, sender=outsider)
