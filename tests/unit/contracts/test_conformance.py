"""ERC-3643 conformance: compiled ABIs contain every signature, selector and event topic of the reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_utils import keccak

# The normative list (CC0) is vendored in tests/reference; when the workspace's shared/ copy is beside the
# checkout, a test checks the two are identical.
REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "erc3643_interfaces.sol"
SHARED_REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "erc3643_interfaces.sol"
TOKEN_INTERFACES = ["IERC3643", "IAgentRole", "IERC173"]
REGISTRY_INTERFACES = ["IIdentityRegistry"]
INTERFACE_IDS = {"IERC3643": "0xb97d944c", "IAgentRole": "0x0cba0fa8", "IERC173": "0x7f5828d0"}


def parse_reference() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """interface -> {"functions": [(signature, selector)], "events": [(signature, topic0)]}."""
    text = REFERENCE.read_text()
    result: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for match in re.finditer(r"^interface (\w+)[^{]*\{(.*?)^\}", text, re.S | re.M):
        name, body = match.group(1), match.group(2)
        functions = re.findall(r"// sel (0x[0-9a-f]{8})\s+(\S+\(.*?\))\s*$", body, re.M)
        events = re.findall(r"// t0 (0x[0-9a-f]{64})\s+(\S+\(.*?\))\s*$", body, re.M)
        result[name] = {
            "functions": [(sig, sel) for sel, sig in functions],
            "events": [(sig, t0) for t0, sig in events],
        }
    return result


def abi_signatures(contract_type) -> tuple[set[str], set[str]]:
    functions = {m.selector for m in contract_type.abi if m.type == "function"}
    events = {e.selector for e in contract_type.abi if e.type == "event"}
    return functions, events


@pytest.fixture(scope="module")
def reference():
    if not REFERENCE.exists():
        pytest.fail(f"reference interfaces not found at {REFERENCE}")
    return parse_reference()


def test_vendored_reference_matches_the_shared_one():
    if SHARED_REFERENCE.exists():
        assert REFERENCE.read_bytes() == SHARED_REFERENCE.read_bytes(), "refresh tests/reference from shared/"
    assert "sel 0xb9209e33" in REFERENCE.read_text()  # isVerified(address)


def test_reference_parsed(reference):
    assert len(reference["IERC3643"]["functions"]) == 28
    assert len(reference["IIdentityRegistry"]["functions"]) == 15
    for sig, sel in reference["IERC3643"]["functions"]:
        assert "0x" + keccak(text=sig)[:4].hex() == sel


@pytest.mark.parametrize(
    ("contract", "interfaces"), [("BondToken", TOKEN_INTERFACES), ("InvestorRegistry", REGISTRY_INTERFACES)]
)
def test_abi_contains_reference(project, reference, contract, interfaces):
    functions, events = abi_signatures(getattr(project, contract).contract_type)
    for interface in interfaces:
        for sig, sel in reference[interface]["functions"]:
            assert sig in functions, f"{contract} lacks {interface}.{sig}"
            assert "0x" + keccak(text=sig)[:4].hex() == sel
        for sig, topic in reference[interface]["events"]:
            assert sig in events, f"{contract} lacks event {interface}.{sig}"
            assert "0x" + keccak(text=sig).hex() == topic


def test_indexed_flags_follow_ast_trx_variant(project):
    events = {e.name: e for e in project.BondToken.contract_type.abi if e.type == "event"}
    assert [i.indexed for i in events["UpdatedTokenInformation"].inputs] == [True, True, False, False, True]
    assert [i.indexed for i in events["RecoverySuccess"].inputs] == [True, True, True]
    assert [i.indexed for i in events["AddressFrozen"].inputs] == [True, True, True]


def test_supports_interface(deploy_series, reference):
    token = deploy_series()
    for interface, expected in INTERFACE_IDS.items():
        computed = 0
        for _, sel in reference[interface]["functions"]:
            computed ^= int(sel, 16)
        assert f"0x{computed:08x}" == expected
        assert token.supportsInterface(bytes.fromhex(expected[2:]))
    for other in ("01ffc9a7", "36372b07", "7965db0b", "ecfecec8"):  # ERC-165, ERC-20, AccessControl, ERC-1643
        assert token.supportsInterface(bytes.fromhex(other))
    assert not token.supportsInterface(bytes.fromhex("ffffffff"))


def _surface_id(project, interface: str) -> int:
    """ERC-165 id of an interface's whole function surface (inherited functions included) from its exported ABI:
    the XOR of every function selector."""
    computed = 0
    for sig in {m.selector for m in getattr(project, interface).contract_type.abi if m.type == "function"}:
        computed ^= int.from_bytes(keccak(text=sig)[:4], "big")
    return computed


def test_registry_supports_interface(registry, reference, project):
    # The ERC-3643 IIdentityRegistry id from the normative function set (the reference's signatures).
    identity_registry = 0
    for sig, _ in reference["IIdentityRegistry"]["functions"]:
        identity_registry ^= int.from_bytes(keccak(text=sig)[:4], "big")
    assert f"0x{identity_registry:08x}" == "0x8ff89f73"
    investor_registry = _surface_id(project, "IInvestorRegistry")
    investor_records = _surface_id(project, "IInvestorRecords")
    assert investor_registry not in (0, identity_registry, investor_records)
    supported = {
        0x01FFC9A7: "IERC165",
        0x7965DB0B: "IAccessControl",
        identity_registry: "IIdentityRegistry",
        investor_registry: "IInvestorRegistry",
        investor_records: "IInvestorRecords",
    }
    for interface_id, name in supported.items():
        assert registry.supportsInterface(interface_id.to_bytes(4, "big")), name
    storage_id = 0
    for sig, _ in reference["IIdentityRegistryStorage"]["functions"]:
        storage_id ^= int.from_bytes(keccak(text=sig)[:4], "big")
    assert f"0x{storage_id:08x}" == "0x57defe0d"
    for unsupported in (storage_id, 0xFFFFFFFF, 0xB97D944C):  # no identity storage, the ERC-165 sentinel, IERC3643
        assert not registry.supportsInterface(unsupported.to_bytes(4, "big"))
    assert registry.identityStorage() == "0x" + "00" * 20
