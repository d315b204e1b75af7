"""Connecting a command to a network: provider, signers, project and deployment manifest in one object.

Commands validate their input files *before* calling `connect`, so bad input never reaches a network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from munibond.chain.manifest import Manifest
from munibond.chain.signers import AliasBook, Signers

DEV_CHAIN_IDS = frozenset({31337, 1337})
DEFAULT_NETWORK = "http://127.0.0.1:8545"
DEFAULT_ALIAS_BOOK = Path("examples") / "accounts.local.yaml"


def default_network() -> str:
    """`$MUNIBOND_NETWORK`, else a development node on 127.0.0.1:8545 (`make node`)."""
    return os.environ.get("MUNIBOND_NETWORK", DEFAULT_NETWORK)


@dataclass
class Session:
    project: Any
    chain: Any
    provider: Any
    signers: Signers
    manifest: Manifest

    @property
    def is_dev_chain(self) -> bool:
        return self.signers.local

    def now(self) -> int:
        return int(self.chain.pending_timestamp)


def manifest_name(network_name: str, chain_id: int) -> str:
    """`local` for development chains, else Ape's network name (or `chain-<id>` for a bare URI)."""
    if chain_id in DEV_CHAIN_IDS:
        return "local"
    return f"chain-{chain_id}" if network_name == "custom" else network_name


@contextmanager
def connect(network: str, *, alias_book: Path | None = None, manifest: Path | None = None) -> Iterator[Session]:
    """Connect to `network` (an Ape network choice such as `ethereum:sepolia:alchemy`, or an RPC URI)."""
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    logger.set_level("WARNING")
    with networks.parse_network_choice(network) as provider:
        chain_id = int(chain.chain_id)
        local = chain_id in DEV_CHAIN_IDS
        book = AliasBook.load(alias_book or DEFAULT_ALIAS_BOOK) if local else AliasBook()
        path = manifest or Path("deployments") / f"{manifest_name(provider.network.name, chain_id)}.json"
        yield Session(
            project,
            chain,
            provider,
            Signers(accounts, local, book),
            Manifest.load(path, provider.network.name, chain_id),
        )
