"""The npm package js/ (@munibond/abi): its generated sources match the shipped ABIs, the generator notices drift,
the merged series ABI is the four halves' union, and TypeScript infers types from it (js/test/types.ts).

node and js/node_modules come from `make install`; when they are missing the tests fail, they do not skip."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from munibond.abi_export import ABI_DIR

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "js"
SERIES_PARTS = ("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin")
NOT_CALLABLE_AT_SERIES = ("constructor", "fallback", "receive")  # the halves' own; the series is a proxy


def node(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    path = shutil.which("node")
    assert path is not None, "node is not on PATH (make install needs it for js/)"
    return subprocess.run([path, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def copy_of_the_package(tmp: Path) -> Path:
    """js/scripts and js/src beside a copy of src/munibond/abi, as the generator finds them in a checkout."""
    shutil.copytree(JS / "scripts", tmp / "js" / "scripts")
    shutil.copytree(JS / "src", tmp / "js" / "src")
    shutil.copytree(ABI_DIR, tmp / "src" / "munibond" / "abi")
    return tmp / "js" / "scripts" / "generate.mjs"


def signature(entry: dict[str, Any]) -> str:
    def canonical(p: dict[str, Any]) -> str:
        if p["type"].startswith("tuple"):
            return "(" + ",".join(canonical(c) for c in p["components"]) + ")" + p["type"][len("tuple") :]
        return p["type"]

    return f"{entry['type']}:{entry.get('name', '')}({','.join(canonical(p) for p in entry.get('inputs', []))})"


def test_generated_sources_match_the_shipped_abis():
    result = node("js/scripts/generate.mjs", "--check")
    assert result.returncode == 0, result.stderr
    contracts = {path.stem for path in ABI_DIR.glob("*.json")} | {"BondSeries"}  # merged unless shipped
    assert result.stdout == f"js/src matches src/munibond/abi ({len(contracts) + 1} files)\n"  # + index.ts


def test_the_check_names_a_stale_a_missing_and_a_left_over_file(tmp_path):
    generate = copy_of_the_package(tmp_path)
    abi_dir = tmp_path / "src" / "munibond" / "abi"
    token = json.loads((abi_dir / "BondToken.json").read_text())
    (abi_dir / "BondToken.json").write_text(json.dumps([e for e in token if e.get("name") != "balanceOf"]))
    (abi_dir / "IExtra.json").write_text("[]")
    (abi_dir / "IERC173.json").unlink()
    result = node(str(generate), "--check")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines()[1:] == [
        "  stale src/abi/BondToken.ts",
        "  missing src/abi/IExtra.ts",
        "  stale src/index.ts",
        "  left over src/abi/IERC173.ts",
    ]
    assert node(str(generate)).returncode == 0
    assert node(str(generate), "--check").returncode == 0
    assert not (tmp_path / "js" / "src" / "abi" / "IERC173.ts").exists()


def test_the_series_abi_is_the_union_of_its_four_halves():
    parts = [json.loads((ABI_DIR / f"{name}.json").read_text()) for name in SERIES_PARTS]
    expected = {signature(e) for abi in parts for e in abi if e["type"] not in NOT_CALLABLE_AT_SERIES}
    result = node(
        "--input-type=module",
        "-e",
        "import { bondSeriesAbi } from './js/dist/index.js'; console.log(JSON.stringify(bondSeriesAbi))",
    )
    assert result.returncode == 0, f"{result.stderr} (js/dist is built by make install)"
    merged = [e for e in json.loads(result.stdout) if e["type"] not in NOT_CALLABLE_AT_SERIES]
    signatures = [signature(e) for e in merged]
    assert len(signatures) == len(set(signatures)) and set(signatures) == expected
    first_seen: dict[str, dict[str, Any]] = {}
    for abi in parts:
        for entry in abi:
            first_seen.setdefault(signature(entry), entry)
    assert all(entry == first_seen[signature(entry)] for entry in merged)


def test_a_shipped_series_abi_is_used_as_it_is(tmp_path):
    generate = copy_of_the_package(tmp_path)
    shipped = [{"type": "function", "name": "only", "inputs": [], "outputs": [], "stateMutability": "view"}]
    (tmp_path / "src" / "munibond" / "abi" / "BondSeries.json").write_text(json.dumps(shipped))
    assert node(str(generate)).returncode == 0
    source = (tmp_path / "js" / "src" / "abi" / "BondSeries.ts").read_text()
    assert source.splitlines()[0].endswith("from src/munibond/abi/BondSeries.json; do not edit.")
    assert f"export const bondSeriesAbi = {json.dumps(shipped, indent=2)} as const;" in source


def test_typescript_infers_argument_and_result_types_from_the_abis():
    tsc = JS / "node_modules" / "typescript" / "bin" / "tsc"
    assert tsc.exists(), "js/node_modules is missing: run make install"
    result = node(str(tsc), "-p", "tsconfig.test.json", cwd=JS)
    assert result.returncode == 0, result.stdout + result.stderr
