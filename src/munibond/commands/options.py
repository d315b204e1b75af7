"""Options shared by the commands that talk to a chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from munibond.chain.session import default_network


def network_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--network",
        default=default_network,
        show_default="$MUNIBOND_NETWORK or http://127.0.0.1:8545",
        help="Ape network choice (e.g. ethereum:sepolia:alchemy) or an RPC URI.",
    )(command)
    command = click.option(
        "--accounts",
        "alias_book",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Alias book for development chains (alias: test-account index); default examples/accounts.local.yaml.",
    )(command)
    command = click.option(
        "--manifest",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Deployment manifest; default deployments/<network>.json.",
    )(command)
    return command
