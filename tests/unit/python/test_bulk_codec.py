"""The bulk reader's direct one-word encoding and decoding agree with eth_abi, and refuse what does not fit."""

from __future__ import annotations

import pytest
from eth_abi import decode, encode
from eth_utils import to_checksum_address

from munibond.abi_export import load_abi
from munibond.chain.bulk import Function

WALLET = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"


def _function(contract: str, name: str) -> Function:
    return Function(
        next(item for item in load_abi(contract) if item.get("name") == name and item["type"] == "function")
    )


def test_static_arguments_are_encoded_as_eth_abi_encodes_them():
    balance_at = _function("BondToken", "balanceOfAt")
    assert balance_at.encode((WALLET, 2**64 + 5)) == balance_at.selector + encode(
        ["address", "uint256"], [WALLET, 2**64 + 5]
    )
    assert balance_at.encode((WALLET.lower(), 0)) == balance_at.encode((WALLET, 0))
    push = _function("PaymentAgent", "pushPayments")
    assert push.encode((3, [WALLET, WALLET])) == push.selector + encode(["uint256", "address[]"], [3, [WALLET, WALLET]])


@pytest.mark.parametrize("bad", [(WALLET, -1), (WALLET, 2**256), ("0x1234", 1)])
def test_values_that_do_not_fit_are_refused(bad):
    with pytest.raises(ValueError):
        _function("BondToken", "balanceOfAt").encode(bad)


def test_a_static_struct_is_decoded_by_field_name_like_eth_abi_decodes_it():
    record = _function("InvestorRegistry", "investorRecord")
    values = (WALLET.lower(), 392, 140007, 1, 2, 2**32 - 1, True)
    data = encode([record.output_types[0]], [values])
    decoded = record.decode(data)
    (reference,) = decode(record.output_types, data)
    assert decoded.identity == to_checksum_address(reference[0]) == WALLET
    assert tuple(decoded)[1:] == reference[1:]
    assert (decoded.country, decoded.taxClass, decoded.multiWallet) == (392, 2, True)


def test_dynamic_outputs_go_through_eth_abi():
    components = _function("PaymentAgentAdmin", "taxComponents")
    assert components.output_types == ["(uint32,address)[]"]
    sample = [(150_000, WALLET), (50_000, WALLET)]
    data = encode([components.output_types[0]], [sample])
    decoded = components.decode(data)
    assert [(c.ratePpm, c.account) for c in decoded] == sample
