"""Deployment manifest: `deployments/<network>.json`, written atomically after every deployment step.

The manifest is the memory that makes deployment re-runnable: a step whose address is already recorded
(and whose code is still on chain) is not deployed again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from munibond.errors import InputError

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

    @classmethod
    def load(cls, path: Path, network: str, chain_id: int) -> Manifest:
        if not path.exists():
            return cls(path, network, chain_id)
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
        return cls(path, data.get("network", network), chain_id, contracts, series)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MANIFEST_VERSION,
            "network": self.network,
            "chain_id": self.chain_id,
            "contracts": {k: v.to_json() for k, v in sorted(self.contracts.items())},
            "series": self.series,
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n")
        os.replace(tmp, self.path)


def default_manifest_path(network_name: str, root: Path | None = None) -> Path:
    """`deployments/<network>.json`, where the network is Ape's network name (e.g. `local`, `sepolia`)."""
    return (root or Path.cwd()) / "deployments" / f"{network_name}.json"
