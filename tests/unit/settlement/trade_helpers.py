"""Constants and EIP-712 encoding shared by the secondary-trade settlement tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from ape.exceptions import ContractLogicError
from eth_abi import decode
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hexbytes import HexBytes

from munibond.trades import DOMAIN_NAME, DOMAIN_VERSION, TRADE_TYPES

ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
DAY = 86_400
ONCHAIN, OFFCHAIN, HASHLOCK = 0, 1, 2
# TradeSettlement statuses
NONE, LOCKED, APPROVED, SETTLED, CANCELLED, RELEASED = range(6)
# BondToken restriction codes (docs/architecture.md)
C_PAUSED, C_SENDER_FROZEN, C_RECEIVER_FROZEN, C_BALANCE, C_SENDER_UNVERIFIED, C_RECEIVER_UNVERIFIED = 1, 2, 3, 4, 5, 6


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
                **TRADE_TYPES,
            },
            "primaryType": "Trade",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": settlement.address,
            },
            "message": trade,
        }
    )


def _decode_error(error: ContractLogicError, abi_sources: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """(name, inputs) of a custom error: as Ape decoded it, or from the raw revert data with the ABIs given."""
    name = type(error).__name__
    if name != "ContractLogicError":
        return name, dict(getattr(error, "inputs", {}))
    data = HexBytes(str(error.message)) if str(error.message).startswith("0x") else b""
    for source in abi_sources:
        for abi in source.contract_type.errors:
            if keccak(text=abi.selector)[:4] == data[:4]:
                types = [param.canonical_type for param in abi.inputs]
                values = decode(types, data[4:])
                return abi.name, {param.name: value for param, value in zip(abi.inputs, values, strict=True)}
    return name, {}


@contextmanager
def reverts_with(name: str, *abi_sources: Any, **inputs: Any) -> Iterator[None]:
    """Expects a revert with the custom error `name` and these inputs, whichever contract of the call raised it
    (Ape decodes a nested contract's error only when it knows it: `abi_sources` give the ABIs to decode with)."""
    with pytest.raises(ContractLogicError) as info:
        yield
    actual_name, actual = _decode_error(info.value, abi_sources)
    assert actual_name == name, f"reverted with {actual_name}: {info.value}"
    for key, value in inputs.items():
        got = actual[key]
        if isinstance(got, str) and isinstance(value, str):
            got, value = got.lower(), value.lower()
        assert got == value, f"{name}.{key} = {got!r}, expected {value!r}"
