"""Export the compiled contracts into the package for integrators and for the `munibond` command.

Run after `ape compile` (`make abi`). It writes

* `munibond/abi/<Contract>.json`: the ABI of every contract and interface of the project (and of the test
  payment token), canonically ordered;
* `munibond/abi/BondSeries.json`: the complete ABI of one bond series' address — the union of BondToken,
  BondTokenAdmin, PaymentAgent and PaymentAgentAdmin (each function, event and error once, by signature),
  OpenZeppelin's inherited errors and events included;
* `munibond/artifacts/<Contract>.json`: for each contract the tooling deploys, its ABI with its creation
  bytecode (`bytecode`) and runtime bytecode (`deployedBytecode`), so deploying needs no compiler.

The exported files are committed; a test checks they still equal a fresh export of the build, so a contract
change without a re-export fails CI. Reading them needs nothing but the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).parent
ABI_DIR = PACKAGE_DIR / "abi"
ARTIFACT_DIR = PACKAGE_DIR / "artifacts"
EXPORTED_SOURCE_DIRS = (
    "contracts/interfaces/",
    "contracts/identity/",
    "contracts/token/",
    "contracts/payments/",
    "contracts/factory/",
    "contracts/settlement/",
)
# The test deposit token `munibond deploy --test-payment-token` deploys on a development chain.
TEST_PAYMENT_TOKEN = "MockPaymentToken"
EXPORTED_TEST_CONTRACTS = (TEST_PAYMENT_TOKEN,)
# Everything the tooling deploys, in deployment order (see munibond.chain.deployment).
DEPLOYABLES = (
    "InvestorRegistry",
    "PaymentAgentAdmin",
    "PaymentAgent",
    "BondTokenAdmin",
    "BondToken",
    "BondFactory",
    "TradeSettlement",
    "SubscriptionBook",
    TEST_PAYMENT_TOKEN,
)
# Creation code the tools run through `eth_call` without deploying it (see munibond.chain.bulk).
READ_ONLY_CODE = ("BatchCallReader",)
SHIPPED_ARTIFACTS = DEPLOYABLES + READ_ONLY_CODE
SERIES_ABI = "BondSeries"
# The code reachable at one series address: the token proxy delegates to BondToken, which falls back to
# BondTokenAdmin, whose fallback reaches PaymentAgent, which falls back to PaymentAgentAdmin.
SERIES_PARTS = ("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin")
_NOT_AT_A_PROXY = ("constructor", "fallback", "receive")


def _contract_types(build_manifest: Path) -> dict[str, dict[str, Any]]:
    data = json.loads(build_manifest.read_text())
    return data.get("contractTypes", {})


def _exported(name: str, contract_type: dict[str, Any]) -> bool:
    source = contract_type.get("sourceId") or ""
    return source.startswith(EXPORTED_SOURCE_DIRS) or name in EXPORTED_TEST_CONTRACTS


def compiled_abis(build_manifest: Path) -> dict[str, list[dict]]:
    """ABIs of the project's own contracts and interfaces (not tests, not dependencies), the test payment
    token's and the series ABI."""
    types = _contract_types(build_manifest)
    abis = {name: ct["abi"] for name, ct in types.items() if _exported(name, ct)}
    abis[SERIES_ABI] = series_abi([types[name]["abi"] for name in SERIES_PARTS])
    return abis


def signature(entry: dict[str, Any]) -> tuple[str, str]:
    """(kind, canonical signature) of an ABI entry, e.g. ("error", "MissingRole(bytes32,address)")."""

    def canonical(param: dict[str, Any]) -> str:
        kind = param["type"]
        if kind.startswith("tuple"):
            return "(" + ",".join(canonical(p) for p in param.get("components", [])) + ")" + kind[len("tuple") :]
        return kind

    inputs = ",".join(canonical(p) for p in entry.get("inputs", []))
    return entry.get("type", ""), f"{entry.get('name', '')}({inputs})"


def series_abi(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The union of `parts` without constructors, fallbacks and receive, each signature once (first wins)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for abi in parts:
        for entry in abi:
            if entry.get("type") in _NOT_AT_A_PROXY:
                continue
            merged.setdefault(signature(entry), entry)
    return list(merged.values())


def compiled_artifacts(build_manifest: Path) -> dict[str, dict[str, Any]]:
    """ABI, creation and runtime bytecode of each deployable contract and of the read-only creation code."""
    types = _contract_types(build_manifest)
    artifacts = {}
    for name in SHIPPED_ARTIFACTS:
        ct = types[name]
        creation = (ct.get("deploymentBytecode") or {}).get("bytecode") or ""
        runtime = (ct.get("runtimeBytecode") or {}).get("bytecode") or ""
        if len(creation) <= 2 or len(runtime) <= 2:
            raise ValueError(f"{build_manifest}: {name} has no bytecode (an abstract contract or an interface?)")
        artifacts[name] = {
            "contractName": name,
            "sourceName": ct.get("sourceId"),
            "abi": ct["abi"],
            "bytecode": creation,
            "deployedBytecode": runtime,
        }
    return artifacts


def _sorted_abi(abi: list[dict]) -> list[dict]:
    return sorted(abi, key=lambda e: (e.get("type", ""), e.get("name", ""), json.dumps(e, sort_keys=True)))


def render(abi: list[dict]) -> str:
    """Canonical JSON: entries ordered by kind and name (the compiler's order depends on how it was invoked)."""
    return json.dumps(_sorted_abi(abi), indent=2, sort_keys=True) + "\n"


def render_artifact(artifact: dict[str, Any]) -> str:
    """Canonical JSON of an artifact (its ABI ordered as in `render`)."""
    return json.dumps({**artifact, "abi": _sorted_abi(artifact["abi"])}, indent=2, sort_keys=True) + "\n"


def _write_all(target: Path, files: dict[str, str]) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.json"):
        if stale.stem not in files:
            stale.unlink()
    written = []
    for name, text in sorted(files.items()):
        path = target / f"{name}.json"
        path.write_text(text)
        written.append(path)
    return written


def export(build_manifest: Path, target: Path = ABI_DIR, artifact_target: Path = ARTIFACT_DIR) -> list[Path]:
    abis = {name: render(abi) for name, abi in compiled_abis(build_manifest).items()}
    artifacts = {name: render_artifact(a) for name, a in compiled_artifacts(build_manifest).items()}
    return _write_all(target, abis) + _write_all(artifact_target, artifacts)


def load_abi(contract_name: str) -> list[dict]:
    """The shipped ABI of one contract, e.g. `load_abi("BondToken")` or `load_abi("BondSeries")`."""
    return json.loads((ABI_DIR / f"{contract_name}.json").read_text())


def load_artifact(contract_name: str) -> dict[str, Any]:
    """The shipped artifact of one deployable contract: `abi`, `bytecode` (creation) and `deployedBytecode`."""
    path = ARTIFACT_DIR / f"{contract_name}.json"
    if not path.exists():
        raise KeyError(f"no shipped artifact {contract_name!r}; shipped: {', '.join(SHIPPED_ARTIFACTS)}")
    return json.loads(path.read_text())


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    build = Path(args[0]) if args else Path(".build/__local__.json")
    for path in export(build):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
