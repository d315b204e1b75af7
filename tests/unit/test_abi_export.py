"""The ABIs and artifacts shipped in the package (munibond/abi, munibond/artifacts) are exactly those of the
current build, bytecode included (the build is deterministic: same sources and settings, same bytes)."""

import json
from pathlib import Path

from munibond.abi_export import (
    ABI_DIR,
    ARTIFACT_DIR,
    DEPLOYABLES,
    SHIPPED_ARTIFACTS,
    compiled_abis,
    compiled_artifacts,
    load_abi,
    load_artifact,
    render,
    render_artifact,
    signature,
)

BUILD = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"


def test_shipped_abis_match_the_build(project):
    # touching a contract type makes Ape compile anything stale into .build before we read it
    assert project.BondToken.contract_type.abi
    built = compiled_abis(BUILD)
    shipped = {path.stem: path.read_text() for path in ABI_DIR.glob("*.json")}
    assert set(shipped) == set(built), "run `make abi` after changing contracts"
    for name, abi in built.items():
        assert shipped[name] == render(abi), f"munibond/abi/{name}.json is stale: run `make abi`"


def test_shipped_artifacts_match_the_build(project):
    assert project.BondToken.contract_type.abi
    built = compiled_artifacts(BUILD)
    shipped = {path.stem: path.read_text() for path in ARTIFACT_DIR.glob("*.json")}
    assert set(shipped) == set(SHIPPED_ARTIFACTS), "run `make abi` after changing contracts"
    for name, artifact in built.items():
        assert shipped[name] == render_artifact(artifact), f"munibond/artifacts/{name}.json is stale: run `make abi`"


def test_artifacts_carry_the_compiled_bytecode(project):
    for name in DEPLOYABLES:
        artifact = load_artifact(name)
        contract_type = getattr(project, name).contract_type
        assert artifact["bytecode"] == contract_type.deployment_bytecode.bytecode
        assert artifact["deployedBytecode"] == contract_type.runtime_bytecode.bytecode
        assert artifact["abi"] == load_abi(name)


def test_token_abi_carries_the_erc3643_surface():
    abi = json.loads((ABI_DIR / "IBondToken.json").read_text())
    names = {entry.get("name") for entry in abi}
    for required in ("forcedTransfer", "recoveryAddress", "detectTransferRestriction", "balanceOfAt", "isin"):
        assert required in names


def test_series_abi_is_everything_reachable_at_a_series_address():
    series = load_abi("BondSeries")
    signatures = [signature(entry) for entry in series]
    assert len(signatures) == len(set(signatures)), "each signature once"
    have = set(signatures)
    for part in ("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin"):
        for entry in load_abi(part):
            if entry["type"] not in ("constructor", "fallback", "receive"):
                assert signature(entry) in have, f"{part}: {signature(entry)} missing from BondSeries"
    for kind, sig in (
        ("event", "Initialized(uint64)"),
        ("event", "Transfer(address,address,uint256)"),
        ("error", "MissingRole(address,uint256)"),
        ("error", "ERC20InsufficientBalance(address,uint256,uint256)"),
        ("error", "SafeERC20FailedOperation(address)"),
        ("function", "forcedTransfer(address,address,uint256)"),
    ):
        assert (kind, sig) in have, sig
    assert not any(kind in ("constructor", "fallback", "receive") for kind, _ in have)
