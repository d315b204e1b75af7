"""Connecting a command to a network: provider, signers, contract types and deployment manifest in one object.

Commands validate their input files *before* calling `connect`, so bad input never reaches a network. Contract
types come from the artifacts shipped in the package (`munibond.chain.contracts.SHIPPED`), never from the Ape
project in the current directory, so commands run from any folder. Defaults come from the workspace
(`munibond.workspace`), else from this repository's layout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from munibond import workspace as workspaces
from munibond.chain.manifest import Manifest
from munibond.chain.signers import AliasBook, Signers
from munibond.errors import InputError
from munibond.netsettings import DEFAULT as DEFAULT_SETTINGS
from munibond.netsettings import NetworkSettings, settings_for

CONFIRMATIONS_META = "munibond.confirmations"  # click context meta key set by `--confirmations`

DEV_CHAIN_IDS = frozenset({31337, 1337})
DEFAULT_NETWORK = workspaces.DEFAULT_NETWORK
DEFAULT_ALIAS_BOOK = Path("examples") / "accounts.local.yaml"


def default_network() -> str:
    """`$MUNIBOND_NETWORK`, else the workspace's network, else a development node on 127.0.0.1:8545 (`make node`)."""
    return workspaces.default_network()


@dataclass
class Session:
    # Ape contract containers by contract name: the shipped artifacts (`SHIPPED`), or in this repository's
    # tests Ape's compiled project
    project: Any
    chain: Any
    provider: Any
    signers: Signers
    manifest: Manifest
    settings: NetworkSettings = DEFAULT_SETTINGS
    # set by `munibond.chain.safe.start_proposal`: admin operations are collected for a Safe batch file, not sent
    proposal: Any = None

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


def _alias_book(explicit: Path | None, workspace: workspaces.Workspace | None) -> AliasBook:
    path = explicit or (workspace.accounts if workspace else None) or DEFAULT_ALIAS_BOOK
    if not path.is_file():
        hint = "give --accounts FILE" if explicit else "give --accounts FILE or run `munibond init` for a workspace"
        raise InputError(f"no alias book for the development chain: {hint}", file=str(path))
    return AliasBook.load(path)


def _derive_test_accounts(accounts: Any, book: AliasBook) -> None:
    """Ape derives as many test accounts as its project config asks (10 outside this repository); derive the
    rest the alias book indexes, from the same mnemonic and path (those of a development node)."""
    highest = max(book.indexes.values(), default=-1)
    while len(accounts.test_accounts) <= highest:
        accounts.test_accounts.generate_test_account()


def _confirmations_option() -> int | None:
    """`--confirmations` of the running command, if given (see `munibond.commands.options`)."""
    import click

    context = click.get_current_context(silent=True)
    while context is not None:
        if CONFIRMATIONS_META in context.meta:
            return context.meta[CONFIRMATIONS_META]
        context = context.parent
    return None


@contextmanager
def connect(
    network: str,
    *,
    alias_book: Path | None = None,
    manifest: Path | None = None,
    confirmations: int | None = None,
) -> Iterator[Session]:
    """Connect to `network` (an Ape network choice such as `ethereum:sepolia:alchemy`, or an RPC URI), with its
    settings from the workspace's `networks` (gas pricing, confirmations, retries; `confirmations`, else the
    command's `--confirmations`, overriding the setting)."""
    workspace = workspaces.activate()
    from ape import accounts, chain, networks
    from ape.logging import logger

    from munibond.chain import transport
    from munibond.chain.contracts import SHIPPED

    if confirmations is None:
        confirmations = _confirmations_option()

    logger.set_level("WARNING")
    with networks.parse_network_choice(network) as provider:
        chain_id = int(chain.chain_id)
        local = chain_id in DEV_CHAIN_IDS
        book = _alias_book(alias_book, workspace) if local else AliasBook()
        _derive_test_accounts(accounts, book)
        name = manifest_name(provider.network.name, chain_id)
        if manifest is not None:
            path = manifest
        elif workspace is not None:
            path = workspace.manifest_path(name)
        else:
            path = Path("deployments") / f"{name}.json"
        root = workspace.root if workspace is not None else Path.cwd()
        known = workspace.networks if workspace is not None else {}
        settings = settings_for(known, network, chain_id, confirmations=confirmations)
        transport.install_retries(provider.web3, settings.retries)
        with transport.applied(settings, provider.network.ecosystem):
            yield Session(
                SHIPPED,
                chain,
                provider,
                Signers(accounts, local, book),
                Manifest.load(path, provider.network.name, chain_id, root),
                settings,
            )
