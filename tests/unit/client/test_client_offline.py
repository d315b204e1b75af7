"""munibond.client without a chain: its imports, the merged series ABI and the error decoding."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest
from eth_abi import encode
from eth_utils import keccak

from munibond.client import SeriesError, TransferRefused, UnknownRevert, decode_revert, merge_abis, role_names
from munibond.client.abi import SERIES_PARTS, load_abi, series_abi, signature
from munibond.client.errors import error_selectors

FORBIDDEN = ("ape", "QuantLib", "pandas", "pydantic", "yaml", "ethpm_types")

PROBE = """
import json, sys
import eth_abi, eth_account, eth_utils, hexbytes, web3  # the client's own dependencies, loaded first
eth_utils.keccak(b"")  # and eth-utils' hashing backend, which loads on first use
before = set(sys.modules)
import munibond.client
added = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps({"added": added, "all": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def test_importing_the_client_loads_no_ape_and_nothing_beyond_web3_and_the_stdlib():
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True).stdout
    loaded = json.loads(out)
    assert "ape" not in loaded["all"] and "QuantLib" not in loaded["all"] and "pandas" not in loaded["all"]
    # pydantic comes with eth-utils itself; the client adds nothing but itself and standard modules
    assert set(loaded["added"]) - set(sys.stdlib_module_names) == {"munibond"}
    assert not set(loaded["added"]) & set(FORBIDDEN)


def test_the_series_abi_merges_the_four_parts_without_duplicates():
    merged = series_abi()
    keys = [(item["type"], signature(item)) for item in merged]
    assert len(keys) == len(set(keys))
    for part in SERIES_PARTS:
        for item in load_abi(part):
            if item["type"] in ("function", "event", "error"):
                assert (item["type"], signature(item)) in keys, (part, item.get("name"))
    assert not [item for item in merged if item["type"] in ("constructor", "fallback", "receive")]
    names = {item["name"] for item in merged if item["type"] == "function"}
    assert {"transfer", "detectTransferRestriction", "getAllDocuments", "pushPayments", "periodTerms"} <= names


def test_a_shipped_bond_series_abi_is_preferred(monkeypatch):
    from munibond.client import abi

    if abi.has_abi(abi.SERIES_MERGED):
        shipped = json.loads((resources.files("munibond") / "abi" / "BondSeries.json").read_text())
        assert series_abi() == (shipped["abi"] if isinstance(shipped, dict) else shipped)
    else:
        only_transfer = [item for item in load_abi("BondToken") if item.get("name") == "transfer"]
        monkeypatch.setattr(abi, "has_abi", lambda name: name == abi.SERIES_MERGED)
        monkeypatch.setattr(abi, "load_abi", lambda name: only_transfer if name == abi.SERIES_MERGED else [])
        assert abi.series_abi() == only_transfer


def test_merge_keeps_the_first_of_equal_signatures():
    first = {"type": "function", "name": "f", "inputs": [{"name": "a", "type": "uint256"}], "outputs": []}
    renamed = dict(first, inputs=[{"name": "b", "type": "uint256"}])
    other = dict(first, inputs=[{"name": "a", "type": "uint8"}])
    assert merge_abis([[first], [renamed, other, {"type": "fallback"}]]) == [first, other]


def _revert(signature_: str, types: list[str], values: list) -> bytes:
    return keccak(text=signature_)[:4] + encode(types, values)


def test_missing_role_names_the_roles_in_words():
    account = "0x" + "ab" * 20
    err = decode_revert(_revert("MissingRole(address,uint256)", ["address", "uint256"], [account, 64 | 8]))
    assert type(err) is SeriesError and err.name == "MissingRole"
    assert err.args_by_name["roleMask"] == 72 and err.args_by_name["account"].lower() == account
    assert str(err).endswith("lacks the role minter or payer")
    assert role_names(1 | 2 | 4 | 16 | 32 | 256) == [
        "admin",
        "transfer agent",
        "freezer",
        "document manager",
        "compliance manager",
        "bit 8",
    ]


def test_every_known_error_decodes_by_name_and_unknown_data_stays_raw():
    selectors = error_selectors()
    assert len(selectors) == len(set(selectors.values()))
    for sig in (
        "UnknownPeriod(uint256,uint256)",
        "AccessControlUnauthorizedAccount(address,bytes32)",
        "Panic(uint256)",
    ):
        assert keccak(text=sig)[:4] in selectors
    restricted = decode_revert(
        "0x"
        + _revert(
            "TransferRestricted(uint8,address,address,uint256,uint256)",
            ["uint8", "address", "address", "uint256", "uint256"],
            [9, "0x" + "11" * 20, "0x" + "22" * 20, 5, 1000],
        ).hex()
    )
    assert isinstance(restricted, TransferRefused) and restricted.code == 9
    assert restricted.args_by_name["detail"] == 1000 and "max holders reached" in str(restricted)
    registrar = keccak(text="REGISTRAR_ROLE")
    denied = decode_revert(
        _revert(
            "AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"], ["0x" + "33" * 20, registrar]
        )
    )
    assert str(denied).endswith("lacks the registrar role")
    assert str(decode_revert(_revert("Error(string)", ["string"], ["nope"]))) == "Error(message=nope): nope"
    raw = bytes.fromhex("deadbeef") + b"\x00" * 32
    unknown = decode_revert(raw)
    assert isinstance(unknown, UnknownRevert) and unknown.data == raw


@pytest.mark.parametrize("truncated", [4, 20])
def test_malformed_revert_data_is_kept_raw(truncated):
    data = _revert("UnknownPeriod(uint256,uint256)", ["uint256", "uint256"], [1, 2])[:truncated]
    assert isinstance(decode_revert(data), UnknownRevert)
