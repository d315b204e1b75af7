"""BatchCallReader's arguments and results, written and read by hand in munibond.chain.bulk, equal eth_abi's
encoding of `(address[], bytes[])` and `(bool[], bytes[])`, empty and ragged data included."""

from __future__ import annotations

import random

import pytest
from eth_abi import encode

from munibond.chain.bulk import Call, _reader_arguments, _reader_results


def _group(rng: random.Random, count: int) -> list[tuple[Call, bytes]]:
    return [
        (Call("0x" + rng.randbytes(20).hex(), None, ()), rng.randbytes(rng.randrange(0, 100))) for _ in range(count)
    ]


@pytest.mark.parametrize("count", [0, 1, 2, 31, 200])
def test_arguments_equal_eth_abis_encoding(count):
    group = _group(random.Random(count), count)
    targets = [bytes.fromhex(call.target[2:]) for call, _ in group]
    assert _reader_arguments(group) == encode(["address[]", "bytes[]"], [targets, [data for _, data in group]])


@pytest.mark.parametrize("count", [0, 1, 3, 200])
def test_results_are_read_as_eth_abi_wrote_them(count):
    rng = random.Random(100 + count)
    flags = [rng.random() < 0.5 for _ in range(count)]
    returned = [rng.randbytes(rng.randrange(0, 90)) for _ in range(count)]
    assert _reader_results(encode(["bool[]", "bytes[]"], [flags, returned])) == list(zip(flags, returned, strict=True))


def test_results_with_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="2 flags and 1 results"):
        _reader_results(encode(["bool[]", "bytes[]"], [[True, False], [b"x"]]))
