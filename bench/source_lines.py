"""Runtime program counter -> Solidity source line of one contract (developer tool for gas work).

Ape keeps only the creation bytecode's source map, so this compiles the contract once more through the solc-js
adapter with the project's settings (compiler pin from package.json, optimizer and EVM version from
ape-config.yaml) and the same OpenZeppelin sources, and maps the deployed bytecode's program counters to
`(file name, line)`. The caller checks the compiled code against the code on chain (`without_metadata`: the
metadata hash covers source paths, which differ from Ape's build) before trusting the map.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
import subprocess
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

IMPORT = re.compile(r'import[^"]*"([^"]+)"')


def _resolve(root: Path, name: str) -> Path:
    return root / "node_modules" / name if name.startswith("@") else root / name


def _sources(root: Path, entry: str) -> dict[str, dict[str, str]]:
    """The import closure of `entry` as standard-JSON sources (OpenZeppelin from node_modules)."""
    sources: dict[str, dict[str, str]] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in sources:
            continue
        text = _resolve(root, name).read_text()
        sources[name] = {"content": text}
        for imported in IMPORT.findall(text):
            if imported.startswith("."):
                imported = posixpath.normpath(posixpath.join(posixpath.dirname(name), imported))
            todo.append(imported)
    return sources


def compile_runtime(root: Path, source: str, contract: str) -> tuple[bytes, str, dict[int, str]]:
    """Deployed bytecode, its source map and the source-id -> file-name table of `contract` in `source`."""
    config = yaml.safe_load((root / "ape-config.yaml").read_text())["solidity"]
    solc_version = json.loads((root / "package.json").read_text())["dependencies"]["solc"]
    settings = {
        "optimizer": {"enabled": bool(config["optimize"]), "runs": int(config["optimization_runs"])},
        "evmVersion": config["evm_version"],
        "outputSelection": {source: {contract: ["evm.deployedBytecode.object", "evm.deployedBytecode.sourceMap"]}},
    }
    request = {"language": "Solidity", "sources": _sources(root, source), "settings": settings}
    solc = root / ".solcx" / f"solc-v{solc_version}"
    done = subprocess.run(
        [str(solc), "--standard-json"], input=json.dumps(request), capture_output=True, text=True, cwd=root, check=True
    )
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise RuntimeError("\n".join(errors))
    deployed = output["contracts"][source][contract]["evm"]["deployedBytecode"]
    ids = {meta["id"]: name for name, meta in output["sources"].items()}
    return bytes.fromhex(deployed["object"]), deployed["sourceMap"], ids


def pc_lines(root: Path, code: bytes, source_map: str, ids: dict[int, str]) -> dict[int, tuple[str, int]]:
    """Program counter -> (file name, 1-based line); compiler-generated code maps to ("<generated>", 0)."""
    pcs = []
    pc = 0
    while pc < len(code):
        pcs.append(pc)
        op = code[pc]
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)  # PUSH1..PUSH32 carry immediates
    line_starts: dict[str, list[int]] = {}
    lines: dict[int, tuple[str, int]] = {}
    start = file_id = -1
    for pc, item in zip(pcs, source_map.split(";"), strict=False):
        fields = item.split(":")
        if fields[0]:
            start = int(fields[0])
        if len(fields) > 2 and fields[2]:
            file_id = int(fields[2])
        name = ids.get(file_id)
        if name is None:
            lines[pc] = ("<generated>", 0)
            continue
        if name not in line_starts:
            text = _resolve(root, name).read_text()
            line_starts[name] = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        lines[pc] = (name, bisect.bisect_right(line_starts[name], start))
    return lines


def execution_by_line(
    struct_logs: list[dict[str, Any]], depth: int, lines: dict[int, tuple[str, int]]
) -> Counter[tuple[str, int]]:
    """Gas of the frame at `depth` per source line, without storage, logs and the callee frames."""
    costs: Counter[tuple[str, int]] = Counter()
    for step, following in pairwise(struct_logs):
        if step["depth"] != depth or following["depth"] != depth:
            continue
        op = step["op"]
        if op in ("SLOAD", "SSTORE") or op.startswith("LOG"):
            continue
        costs[lines.get(step["pc"], ("<unknown>", 0))] += step["gas"] - following["gas"]
    return costs


def without_metadata(code: bytes) -> bytes:
    """Runtime code without its trailing CBOR metadata (it hashes source paths, which differ between builds)."""
    if len(code) < 2:
        return code
    length = int.from_bytes(code[-2:], "big")
    return code[: -(length + 2)] if length + 2 <= len(code) else code


def source_text(root: Path, name: str, line: int) -> str:
    if line <= 0:
        return ""
    return _resolve(root, name).read_text().split("\n")[line - 1].strip()
