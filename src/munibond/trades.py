"""EIP-712 trades for `TradeSettlement` (docs/settlement.md): the terms seller and buyer sign off chain so that a
broker or the transfer agent submits the agreement.

Pure: no chain access. `Trade.trade_id` is the digest both parties sign and the contract's trade id; `hash_lock`
makes the SHA-256 lock of a mode-2 (cash on another ledger) trade from its secret.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

DOMAIN_NAME = "munibond TradeSettlement"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_REF = b"\x00" * 32

ONCHAIN_CASH = 0
OFFCHAIN_CASH = 1
HASH_LOCK = 2

TRADE_TYPES = {
    "Trade": [
        {"name": "series", "type": "address"},
        {"name": "seller", "type": "address"},
        {"name": "buyer", "type": "address"},
        {"name": "units", "type": "uint256"},
        {"name": "paymentToken", "type": "address"},
        {"name": "price", "type": "uint256"},
        {"name": "expiry", "type": "uint64"},
        {"name": "mode", "type": "uint8"},
        {"name": "paymentRef", "type": "bytes32"},
        {"name": "confirmer", "type": "address"},
        {"name": "nonce", "type": "uint256"},
    ]
}


def hash_lock(secret: bytes) -> bytes:
    """H = sha256(secret) of a 32-byte secret: the `paymentRef` of a mode-2 trade."""
    if len(secret) != 32:
        raise ValueError(f"a hash-lock secret is 32 bytes, not {len(secret)}")
    return hashlib.sha256(secret).digest()


@dataclass(frozen=True)
class Trade:
    """The `ITradeSettlement.Trade` struct; `price` in payment-token base units (exact integers)."""

    series: str
    seller: str
    buyer: str
    units: int
    payment_token: str
    price: int
    expiry: int
    mode: int = ONCHAIN_CASH
    payment_ref: bytes = ZERO_REF
    confirmer: str = ZERO_ADDRESS
    nonce: int = 0

    def as_struct(self) -> dict[str, Any]:
        """The struct as the contract takes it (and as the EIP-712 message names its fields)."""
        fields = asdict(self)
        return {
            "series": fields["series"],
            "seller": fields["seller"],
            "buyer": fields["buyer"],
            "units": fields["units"],
            "paymentToken": fields["payment_token"],
            "price": fields["price"],
            "expiry": fields["expiry"],
            "mode": fields["mode"],
            "paymentRef": fields["payment_ref"],
            "confirmer": fields["confirmer"],
            "nonce": fields["nonce"],
        }

    def typed_data(self, settlement: str, chain_id: int) -> dict[str, Any]:
        return {
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": settlement,
            },
            "types": TRADE_TYPES,
            "primaryType": "Trade",
            "message": self.as_struct(),
        }

    def trade_id(self, settlement: str, chain_id: int) -> bytes:
        """The EIP-712 digest: what each party signs and `TradeSettlement.tradeId` returns."""
        signable = encode_typed_data(full_message=self.typed_data(settlement, chain_id))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def sign(self, private_key: str | bytes, settlement: str, chain_id: int) -> bytes:
        """A party's 65-byte signature of the trade."""
        signable = encode_typed_data(full_message=self.typed_data(settlement, chain_id))
        return bytes(Account.sign_message(signable, private_key).signature)
