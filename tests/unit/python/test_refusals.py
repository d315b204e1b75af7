"""Custom errors decoded by selector from the shipped ABIs, codes and role masks in words (munibond.chain.refusals)."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from munibond.chain.refusals import decode_revert, describe, format_error, role_mask_words, shipped_errors
from munibond.errors import InputError

WALLET = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"


def revert_data(signature: str, types: list[str], values: list[object]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_every_error_of_the_shipped_abis_is_known_by_its_selector():
    names = {error.name for error in shipped_errors().values()}
    assert {"MissingRole", "TransferRestricted", "WalletAlreadyRegistered", "PeriodUnderfunded"} <= names


@pytest.mark.parametrize(
    ("signature", "types", "values", "expected"),
    [
        (
            "TransferRestricted(uint8,address,address,uint256,uint256)",
            ["uint8", "address", "address", "uint256", "uint256"],
            [10, "0x" + "00" * 20, WALLET, 500, 400],
            "TransferRestricted(code=the receiver would hold more than the per-investor cap, from=0x0000000000000000"
            "000000000000000000000000, to=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955, amount=500, detail=400) — "
            "transfer refused: the receiver would hold more than the per-investor cap",
        ),
        (
            "MissingRole(address,uint256)",
            ["address", "uint256"],
            [WALLET, 64],
            "MissingRole(account=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955, roleMask=payer) — the sending account "
            "is not payer of this series",
        ),
        (
            "AccessControlUnauthorizedAccount(address,bytes32)",
            ["address", "bytes32"],
            [WALLET, keccak(text="REGISTRAR_ROLE")],
            "AccessControlUnauthorizedAccount(account=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955, "
            "neededRole=registrar) — the sending account lacks the registrar role",
        ),
        (
            "WalletAlreadyRegistered(address,address)",
            ["address", "address"],
            [WALLET, WALLET],
            "WalletAlreadyRegistered(wallet=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955, "
            "identity=0x14dC79964da2C08b23698B3D3cc7Ca32193d9955) — the wallet is already registered (under the "
            "identity shown)",
        ),
    ],
)
def test_revert_data_is_decoded_into_one_line_in_words(signature, types, values, expected):
    decoded = decode_revert(revert_data(signature, types, values))
    assert decoded is not None
    assert format_error(*decoded) == expected


def test_role_masks_come_out_as_role_names():
    assert role_mask_words(8) == "minter"
    assert role_mask_words(1 | 64) == "admin or payer"


def test_unknown_selectors_and_bugs_are_not_refusals():
    assert decode_revert(b"\x12\x34\x56\x78" + bytes(32)) is None
    assert describe(KeyError("a bug")) is None
    assert describe(InputError("bad")) is None


def test_a_revert_seen_only_as_hex_text_is_still_named():
    data = revert_data("PeriodUnderfunded(uint256,uint256,uint256)", ["uint256"] * 3, [0, 1000, 10])
    error = RuntimeError(f"execution reverted: 0x{data.hex()}")
    assert (
        describe(error) == "PeriodUnderfunded(period=0, required=1000, covered=10) — the period is not fully funded yet"
    )


def test_a_custom_error_ape_left_undecoded_in_a_simulated_call_is_named():
    data = revert_data("TradeExpired(bytes32,uint256,uint256)", ["bytes32", "uint256", "uint256"], [b"\x01" * 32, 5, 9])
    error = RuntimeError(f"custom error 0x{data[:4].hex()}: {data[4:].hex()}")
    assert describe(error) == ("TradeExpired(tradeId=0x" + "01" * 32 + ", expiry=5, time=9) — refused by the contract")
