"""The Python attestation client agrees with the registry's EIP-712 digest and registers an investor."""

from munibond.attestation import Attestation


def test_python_digest_equals_the_registry_and_submission_registers(registry, kyc_provider, investor_e, chain):
    attestation = Attestation(
        wallet=investor_e.address,
        identity="0x" + "ab" * 20,
        country=392,
        region=140007,
        category=0,
        tax_class=2,
        kyc_expiry=chain.pending_timestamp + 365 * 86400,
        issued_at=chain.blocks.head.timestamp,
        nonce=424242,
        deadline=chain.pending_timestamp + 3600,
    )
    digest = attestation.digest(registry.address, chain.chain_id)
    assert digest == bytes(registry.attestationDigest(attestation.as_struct()))
    signature = attestation.sign(kyc_provider.private_key, registry.address, chain.chain_id)
    registry.registerWithAttestation(attestation.as_struct(), signature, sender=investor_e)
    record = registry.investorRecord(investor_e)
    assert record.identity.lower() == attestation.identity and record.region == 140007 and record.taxClass == 2
    assert registry.isVerified(investor_e)
