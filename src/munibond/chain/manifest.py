"""Deployment manifest: `deployments/<network>.json`, written atomically after every deployment step.

The manifest is the memory that makes deployment re-runnable: a step whose address is already recorded
(and whose code is still on chain) is not deployed again.

It is portable: ABIs are named (`"abi": "InvestorRegistry"`, a series' `"BondSeries"`: the files shipped in
`munibond/abi/`) or given as paths relative to the manifest's root, and term sheets are stored relative to
that root (the workspace, else the directory the command ran in), never as absolute paths.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from munibond.abi_export import ABI_DIR, load_abi
from munibond.errors import InputError
from munibond.workspace import as_stored_path

MANIFEST_VERSION = 1


@dataclass
class ContractRecord:
    name: str
    address: str
    abi: str
    block: int
    tx_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.name,
            "address": self.address,
            "abi": self.abi,
            "block": self.block,
            "tx_hash": self.tx_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractRecord:
        return cls(data["contract"], data["address"], data["abi"], int(data["block"]), data.get("tx_hash"))


@dataclass
class Manifest:
    """What is deployed on one network: shared contracts and every bond series by symbol."""

    path: Path
    network: str
    chain_id: int
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what relative paths in the manifest (term sheets, ABI files) are relative to
    root: Path = field(default_factory=Path.cwd)

    @classmethod
    def load(cls, path: Path, network: str, chain_id: int, root: Path | None = None) -> Manifest:
        base = root or Path.cwd()
        if not path.exists():
            return cls(path, network, chain_id, root=base)
        try:
            data = json.loads(path.read_text())
            manifest_chain = int(data["chain_id"])
            contracts = {k: ContractRecord.from_json(v) for k, v in data.get("contracts", {}).items()}
            series = dict(data.get("series", {}))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(
                f"not a readable deployment manifest ({type(exc).__name__}: {exc})", file=str(path)
            ) from None
        if manifest_chain != chain_id:
            raise InputError(
                f"manifest is for chain id {manifest_chain}, connected chain is {chain_id}; "
                "use another --manifest or remove the stale file",
                file=str(path),
            )
        return cls(path, data.get("network", network), chain_id, contracts, series, base)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "network": self.network,
            "chain_id": self.chain_id,
            "contracts": {k: v.to_json() for k, v in sorted(self.contracts.items())},
            "series": self.series,
        }

    def stored_path(self, path: Path | str) -> str:
        """`path` as the manifest stores it: relative to the root."""
        return as_stored_path(path, self.root)

    def resolve(self, stored: str) -> Path:
        """A path the manifest stores (relative to the root; an old manifest's absolute path as it is)."""
        return self.root / stored

    def term_sheet(self, symbol: str) -> Path:
        """The term sheet file a series was deployed (or last amended) from."""
        return self.resolve(self.series[symbol]["term_sheet"])

    def abi(self, reference: str) -> list[dict[str, Any]]:
        """The ABI a manifest entry names: a shipped ABI by name (e.g. `BondSeries`), else a JSON file relative to
        the root (an ABI list or an artifact with an `abi` key)."""
        legacy = "munibond/abi/"
        if reference.startswith(legacy):  # manifests written before ABIs were named
            reference = reference[len(legacy) :].removesuffix(".json")
        if "/" not in reference and not reference.endswith(".json"):
            if not (ABI_DIR / f"{reference}.json").exists():
                raise ValueError(f"{self.path}: no shipped ABI named {reference!r}")
            return load_abi(reference)
        data = json.loads(self.resolve(reference).read_text())
        return data["abi"] if isinstance(data, dict) else data

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.path)


def default_manifest_path(network_name: str, root: Path | None = None) -> Path:
    """`deployments/<network>.json`, where the network is Ape's network name (e.g. `local`, `sepolia`)."""
    return (root or Path.cwd()) / "deployments" / f"{network_name}.json"
