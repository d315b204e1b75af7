"""Constants and EIP-712 encoding shared by the secondary-trade settlement tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ape.exceptions import ContractLogicError
from eth_account.messages import encode_typed_data

ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
DAY = 86_400
ONCHAIN, OFFCHAIN, HASHLOCK = 0, 1, 2
# TradeSettlement statuses
NONE, LOCKED, APPROVED, SETTLED, CANCELLED, RELEASED = range(6)
# BondToken restriction codes (docs/architecture.md)
C_PAUSED, C_SENDER_FROZEN, C_RECEIVER_FROZEN, C_BALANCE, C_SENDER_UNVERIFIED, C_RECEIVER_UNVERIFIED = 1, 2, 3, 4, 5, 6

TRADE_TYPES = [
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


def typed_trade(settlement: Any, chain_id: int, trade: dict[str, Any]) -> Any:
    """The EIP-712 message of `trade` for `settlement`, built independently of the contract."""
    return encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Trade": TRADE_TYPES,
            },
            "primaryType": "Trade",
            "domain": {
                "name": "munibond TradeSettlement",
                "version": "1",
                "chainId": chain_id,
                "verifyingContract": settlement.address,
            },
            "message": trade,
        }
    )


@contextmanager
def reverts_with(name: str, **inputs: Any) -> Iterator[None]:
    """Expects a revert with the custom error `name` and these inputs, whichever contract of the call raised it
    (Ape names a nested contract's error by the called contract's ABI, so matching the class would not work)."""
    with pytest.raises(ContractLogicError) as info:
        yield
    error = info.value
    assert type(error).__name__ == name, f"reverted with {type(error).__name__}: {error}"
    actual = getattr(error, "inputs", {})
    for key, value in inputs.items():
        assert actual[key] == value, f"{name}.{key} = {actual[key]!r}, expected {value!r}"
