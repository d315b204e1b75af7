"""munibond.addresses: EIP-55 checksums equal the reference implementation's, on the EIP's vectors and at random."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak, to_checksum_address

from munibond.addresses import address_of_digest, checksum_address, keccak256

# the test vectors of EIP-55
VECTORS = (
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
)


@pytest.mark.parametrize("address", VECTORS)
def test_the_eip_vectors_in_any_input_case(address):
    digits = address[2:]
    assert checksum_address(digits) == address
    assert checksum_address(digits.lower()) == address
    assert checksum_address(digits.upper()) == address


def test_random_addresses_match_eth_utils():
    rng = random.Random(55)
    for _ in range(500):
        raw = rng.randbytes(20)
        assert checksum_address(raw.hex()) == to_checksum_address(raw)


def test_keccak_is_ethereums_and_digests_take_their_last_twenty_bytes():
    assert keccak256(b"") == keccak(b"")
    digest = keccak(b"munibond")
    assert address_of_digest(digest) == to_checksum_address(digest[-20:])


def test_both_keccak_implementations_agree(monkeypatch):
    import munibond.addresses as addresses

    digest = keccak256(b"record date")
    monkeypatch.setattr(addresses, "_keccak_256", None)  # as in the light install, without safe-pysha3
    assert addresses.keccak256(b"record date") == digest == keccak(b"record date")
    assert addresses.checksum_address(VECTORS[0][2:].lower()) == VECTORS[0]
