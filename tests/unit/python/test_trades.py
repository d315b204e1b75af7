"""munibond.trades: the EIP-712 trade message, signatures and hash locks, offline."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from eth_utils import keccak

from munibond.trades import HASH_LOCK, Trade, hash_lock

KEY = "0x" + "11" * 32
SETTLEMENT = "0x" + "5e" * 20


def trade(**overrides: object) -> Trade:
    fields: dict[str, object] = {
        "series": "0x" + "aa" * 20,
        "seller": Account.from_key(KEY).address,
        "buyer": "0x" + "bb" * 20,
        "units": 40,
        "payment_token": "0x" + "cc" * 20,
        "price": 400_000,
        "expiry": 1_800_000_000,
    }
    fields.update(overrides)
    return Trade(**fields)  # type: ignore[arg-type]


def test_the_trade_id_follows_eip712_by_hand():
    t = trade(nonce=7)
    type_hash = keccak(
        text="Trade(address series,address seller,address buyer,uint256 units,address paymentToken,uint256 price,"
        "uint64 expiry,uint8 mode,bytes32 paymentRef,address confirmer,uint256 nonce)"
    )

    def word(value: int | str | bytes) -> bytes:
        if isinstance(value, bytes):
            return value.rjust(32, b"\x00")
        if isinstance(value, str):
            return bytes.fromhex(value[2:]).rjust(32, b"\x00")
        return value.to_bytes(32, "big")

    s = t.as_struct()
    struct_hash = keccak(type_hash + b"".join(word(s[k]) for k in s))
    domain_type = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    domain = keccak(
        domain_type + keccak(text="munibond TradeSettlement") + keccak(text="1") + word(1337) + word(SETTLEMENT)
    )
    assert t.trade_id(SETTLEMENT, 1337) == keccak(b"\x19\x01" + domain + struct_hash)


def test_every_field_chain_and_contract_change_the_id():
    base = trade()
    ids = {base.trade_id(SETTLEMENT, 1337), base.trade_id(SETTLEMENT, 1), base.trade_id("0x" + "5f" * 20, 1337)}
    ids |= {trade(units=41).trade_id(SETTLEMENT, 1337), trade(nonce=1).trade_id(SETTLEMENT, 1337)}
    assert len(ids) == 5


def test_a_signature_recovers_the_signer():
    t = trade()
    signature = t.sign(KEY, SETTLEMENT, 1337)
    assert len(signature) == 65
    assert Account._recover_hash(t.trade_id(SETTLEMENT, 1337), signature=signature) == t.seller


def test_hash_lock_is_sha256_of_a_32_byte_secret():
    secret = bytes(range(32))
    assert hash_lock(secret) == hashlib.sha256(secret).digest()
    assert trade(mode=HASH_LOCK, payment_ref=hash_lock(secret)).as_struct()["paymentRef"] == hash_lock(secret)
    with pytest.raises(ValueError, match="32 bytes, not 3"):
        hash_lock(b"abc")
