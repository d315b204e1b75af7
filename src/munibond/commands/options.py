"""Options shared by the commands that talk to a chain."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from munibond.chain.refusals import report
from munibond.chain.session import CONFIRMATIONS_META, default_network

INPUT_ERROR_EXIT = 2


def _reporting_input_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input ends the command with `error: FILE:LINE: FIELD: message` lines and a refusal with one `error:` line
    (`munibond.chain.refusals`), exit status 2, also when the command runs as an `ape run` script (outside the
    `munibond` group, which does the same)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            _check_network_and_manifest(kwargs.get("network"), kwargs.get("manifest"))
            return command(*args, **kwargs)
        except Exception as error:
            lines = report(error)
            if lines is None:
                raise
            for line in lines:
                click.echo(line, err=True)
            sys.exit(INPUT_ERROR_EXIT)

    return run


def _keep_confirmations(ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None:
        ctx.meta[CONFIRMATIONS_META] = value
    return value


def safe_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--propose-safe FILE: write the admin transactions as a Safe Transaction Builder batch instead of sending."""
    return click.option(
        "--propose-safe",
        "propose_safe",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Send nothing: write the transactions to FILE as a Safe{Wallet} Transaction Builder batch, for the "
        "Safe multisig given as the signing role (its address) to sign and execute.",
    )(command)


def _check_network_and_manifest(network: object, manifest: object) -> None:
    """Refuse, as input errors, an RPC URL whose host or port cannot be read and a manifest that is a folder (both
    would otherwise end deep inside the connection, or as a usage message)."""
    from urllib.parse import urlsplit

    from munibond.errors import InputError

    if isinstance(network, str) and "://" in network:
        parts = urlsplit(network)
        try:
            _ = parts.port  # urllib reads it only on access: a port that is not a number raises here
        except ValueError:
            raise InputError(f"malformed RPC URL {network!r}: the port must be a number", field="--network") from None
        if parts.scheme in ("http", "https", "ws", "wss") and not parts.hostname:
            raise InputError(f"malformed RPC URL {network!r}: no host", field="--network")
    if isinstance(manifest, Path) and manifest.is_dir():
        raise InputError("is a folder, not a deployment manifest", file=str(manifest), field="--manifest")


def network_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--network, --accounts, --manifest and --confirmations, and input errors reported as such."""
    command = _reporting_input_errors(command)
    command = click.option(
        "--confirmations",
        type=click.IntRange(0, 1000),
        default=None,
        expose_value=False,
        callback=_keep_confirmations,
        help="Blocks that must follow each transaction's block before it counts as done; default: the network's "
        "`confirmations` in munibond.yaml `networks`, else 0.",
    )(command)
    command = click.option(
        "--network",
        default=default_network,
        show_default="$MUNIBOND_NETWORK, else the workspace's network, else http://127.0.0.1:8545",
        help="Ape network choice (e.g. ethereum:sepolia:alchemy) or an RPC URI.",
    )(command)
    command = click.option(
        "--accounts",
        "alias_book",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Alias book for development chains (alias: test-account index); default: the workspace's "
        "(munibond.yaml `accounts`), else examples/accounts.local.yaml.",
    )(command)
    command = click.option(
        "--manifest",
        type=click.Path(path_type=Path),  # a folder is refused as an input error (one line)
        default=None,
        help="Deployment manifest; default <workspace deployments folder, else deployments>/<network>.json.",
    )(command)
    return command
