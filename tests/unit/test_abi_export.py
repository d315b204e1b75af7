"""The ABIs shipped in the package (munibond/abi) are exactly those of the current build."""

import json
from pathlib import Path

from munibond.abi_export import ABI_DIR, compiled_abis, render

BUILD = Path(__file__).resolve().parents[2] / ".build" / "__local__.json"


def test_shipped_abis_match_the_build(project):
    # touching a contract type makes Ape compile anything stale into .build before we read it
    assert project.BondToken.contract_type.abi
    built = compiled_abis(BUILD)
    shipped = {path.stem: path.read_text() for path in ABI_DIR.glob("*.json")}
    assert set(shipped) == set(built), "run `make abi` after changing contracts"
    for name, abi in built.items():
        assert shipped[name] == render(abi), f"munibond/abi/{name}.json is stale: run `make abi`"


def test_token_abi_carries_the_erc3643_surface():
    abi = json.loads((ABI_DIR / "IBondToken.json").read_text())
    names = {entry.get("name") for entry in abi}
    for required in ("forcedTransfer", "recoveryAddress", "detectTransferRestriction", "balanceOfAt", "isin"):
        assert required in names
