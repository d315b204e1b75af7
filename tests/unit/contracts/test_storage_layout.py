"""One storage per series: BondToken, BondTokenAdmin and PaymentAgent run in the same proxy's storage.

The token and its admin extension must declare nothing beyond BondTokenStorage, and the payment code's own
state must follow it; the compiler's storage layout (through the project's solc adapter) says so.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def layouts() -> dict[str, list[tuple[str, str, int]]]:
    version = json.loads((ROOT / "package.json").read_text())["dependencies"]["solc"].lstrip("^~=")
    sources = {
        str(path.relative_to(ROOT)): {"urls": [str(path.relative_to(ROOT))]}
        for path in sorted((ROOT / "contracts").rglob("*.sol"))
        if ".cache" not in path.parts and "test" not in path.parts
    }
    request = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "paris",
            "outputSelection": {"*": {"*": ["storageLayout"]}},
        },
    }
    solc = ROOT / ".solcx" / f"solc-v{version}"
    result = subprocess.run(
        [str(solc), "--standard-json", "--base-path", str(ROOT), "--allow-paths", str(ROOT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    wanted = {"BondTokenStorage", "BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin"}
    return {
        name: [(s["label"], s["slot"], s["offset"]) for s in contract["storageLayout"]["storage"]]
        for contracts in output["contracts"].values()
        for name, contract in contracts.items()
        if name in wanted
    }


def test_token_and_admin_extension_use_exactly_the_shared_layout(layouts):
    shared = layouts["BondTokenStorage"]
    assert len(shared) > 20
    assert layouts["BondToken"] == shared
    assert layouts["BondTokenAdmin"] == shared


def test_payment_state_follows_the_token_state(layouts):
    shared = layouts["BondTokenStorage"]
    payments = layouts["PaymentAgent"]
    assert payments[: len(shared)] == shared
    last_shared_slot = max(int(slot) for _, slot, _ in shared)
    own = payments[len(shared) :]
    assert own and all(int(slot) > last_shared_slot for _, slot, _ in own)
    assert "_periods" in {label for label, _, _ in own}
    assert layouts["PaymentAgentAdmin"] == payments  # the payment code's two halves share one layout
