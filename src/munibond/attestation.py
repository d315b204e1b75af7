"""EIP-712 KYC attestations: a trusted KYC provider signs an investor's registry record off chain; anyone
(typically the investor) submits it with `InvestorRegistry.registerWithAttestation`.

Pure: no chain access. The provider's key signs locally; nonces make each attestation single-use and let the
provider revoke one before it is used (`cancelAttestationNonce`). `issued_at` is when the provider made the
statement: the registry refuses it unless it is later than every registrar decision (and every attestation
already applied) about the wallet and its identity (`lastDecisionTime`), so a registrar's later decision, such
as removing the wallet, always wins over an attestation kept from before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "munibond InvestorRegistry"
DOMAIN_VERSION = "1"

ATTESTATION_TYPES = {
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
    ]
}


@dataclass(frozen=True)
class Attestation:
    wallet: str
    identity: str
    country: int
    region: int
    category: int
    tax_class: int
    kyc_expiry: int
    issued_at: int
    nonce: int
    deadline: int

    def as_struct(self) -> tuple[Any, ...]:
        """The `InvestorAttestation` struct as the contract takes it."""
        return (
            self.wallet,
            self.identity,
            self.country,
            self.region,
            self.category,
            self.tax_class,
            self.kyc_expiry,
            self.issued_at,
            self.nonce,
            self.deadline,
        )

    def typed_data(self, registry: str, chain_id: int) -> dict[str, Any]:
        return {
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": registry,
            },
            "types": ATTESTATION_TYPES,
            "primaryType": "InvestorAttestation",
            "message": {
                "wallet": self.wallet,
                "identity": self.identity,
                "country": self.country,
                "region": self.region,
                "category": self.category,
                "taxClass": self.tax_class,
                "kycExpiry": self.kyc_expiry,
                "issuedAt": self.issued_at,
                "nonce": self.nonce,
                "deadline": self.deadline,
            },
        }

    def digest(self, registry: str, chain_id: int) -> bytes:
        from eth_utils import keccak

        signable = encode_typed_data(full_message=self.typed_data(registry, chain_id))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def sign(self, private_key: str | bytes, registry: str, chain_id: int) -> bytes:
        signable = encode_typed_data(full_message=self.typed_data(registry, chain_id))
        return bytes(Account.sign_message(signable, private_key).signature)
