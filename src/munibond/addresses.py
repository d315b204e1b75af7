"""EIP-55 mixed-case addresses, computed directly so that files of tens of thousands of wallets parse quickly.

`eth_utils.to_checksum_address` normalises its input through several generic layers first; here the input is
already 40 hex digits, so the checksum is one Keccak-256 of the lower-case digits and one pass over them: a digit
is upper-cased where the hash's nibble at the same position is 8 or more (EIP-55).
"""

from __future__ import annotations

from typing import Any

from Crypto.Hash import keccak

try:  # Keccak in C (safe-pysha3, pinned in requirements.lock): ten times faster than pycryptodome's per hash
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # the light install (web3 only) has pycryptodome
    _keccak_256 = None


def _keccak(data: bytes) -> Any:
    """A Keccak-256 hash object of `data` (`.digest()`, `.hexdigest()`)."""
    return _keccak_256(data) if _keccak_256 is not None else keccak.new(digest_bits=256, data=data)


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's hash, not NIST SHA3-256) of `data`."""
    return _keccak(data).digest()


def checksum_address(digits: str) -> str:
    """`0x` + the EIP-55 form of a 40-digit hex address given without `0x`, in any case."""
    lower = digits.lower()
    nibbles = _keccak(lower.encode("ascii")).hexdigest()
    # hex digits '8'..'f' sort after '7' in ASCII: those positions are upper-cased
    return "0x" + "".join(ch.upper() if nibble > "7" else ch for ch, nibble in zip(lower, nibbles[:40], strict=True))


def address_of_digest(digest: bytes) -> str:
    """The checksummed address made of the last 20 bytes of a 32-byte digest."""
    return checksum_address(digest[-20:].hex())
