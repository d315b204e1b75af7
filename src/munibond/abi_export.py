"""Export the compiled ABIs into the package (`munibond/abi/<Contract>.json`) for integrators.

Run after `ape compile` (`make abi`). The exported files are committed; a test checks they still match
the build, so a contract change without a re-export fails CI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ABI_DIR = Path(__file__).parent / "abi"
EXPORTED_SOURCE_DIRS = (
    "contracts/interfaces/",
    "contracts/identity/",
    "contracts/token/",
    "contracts/payments/",
    "contracts/factory/",
)


def compiled_abis(build_manifest: Path) -> dict[str, list[dict]]:
    """ABIs of the project's own contracts and interfaces (not tests, not dependencies)."""
    data = json.loads(build_manifest.read_text())
    abis: dict[str, list[dict]] = {}
    for name, contract_type in data.get("contractTypes", {}).items():
        source = contract_type.get("sourceId") or ""
        if source.startswith(EXPORTED_SOURCE_DIRS):
            abis[name] = contract_type["abi"]
    return abis


def render(abi: list[dict]) -> str:
    """Canonical JSON: entries ordered by kind and name (the compiler's order depends on how it was invoked)."""
    entries = sorted(abi, key=lambda e: (e.get("type", ""), e.get("name", ""), json.dumps(e, sort_keys=True)))
    return json.dumps(entries, indent=2, sort_keys=True) + "\n"


def export(build_manifest: Path, target: Path = ABI_DIR) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    abis = compiled_abis(build_manifest)
    written = []
    for stale in target.glob("*.json"):
        if stale.stem not in abis:
            stale.unlink()
    for name, abi in sorted(abis.items()):
        path = target / f"{name}.json"
        path.write_text(render(abi))
        written.append(path)
    return written


def load_abi(contract_name: str) -> list[dict]:
    """The shipped ABI of one contract, e.g. `load_abi("BondToken")`."""
    return json.loads((ABI_DIR / f"{contract_name}.json").read_text())


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    build = Path(args[0]) if args else Path(".build/__local__.json")
    for path in export(build):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
