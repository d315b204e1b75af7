"""`munibond transfers suspend|resume SYMBOL`: pause or unpause investor transfers (freezer role)."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options, safe_option


@click.group("transfers")
def transfers() -> None:
    """Suspend or resume investor transfers of a series."""


def _set_paused(
    symbol: str,
    paused: bool,
    freezer: str,
    propose_safe: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    from munibond.chain import workflows
    from munibond.chain.safe import finish_proposal, start_proposal
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        if propose_safe is not None:
            action = "suspend" if paused else "resume"
            start_proposal(session, freezer, f"{symbol}: {action} transfers", symbol=symbol, role_name="FREEZER_ROLE")
        changed = workflows.set_transfers_suspended(session, symbol, paused, freezer=freezer)
        proposed = finish_proposal(session, propose_safe) if propose_safe is not None else None
    state = "suspended" if paused else "open"
    if proposed is not None:
        click.echo(proposed)
        return
    click.echo(f"{symbol}: transfers {state}" + ("" if changed else " (already)"))


@transfers.command("suspend")
@click.argument("symbol")
@click.option("--freezer", default="agent", show_default=True, help="Account with the freezer role.")
@safe_option
@network_options
def suspend(
    symbol: str, freezer: str, propose_safe: Path | None, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Pause investor transfers of SYMBOL (payments and redemption still run while paused). After the final
    redemption's record date the token refuses transfers by itself (SERIES_REDEEMED)."""
    _set_paused(symbol, True, freezer, propose_safe, network, alias_book, manifest)


@transfers.command("resume")
@click.argument("symbol")
@click.option("--freezer", default="agent", show_default=True, help="Account with the freezer role.")
@safe_option
@network_options
def resume(
    symbol: str, freezer: str, propose_safe: Path | None, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Unpause investor transfers of SYMBOL."""
    _set_paused(symbol, False, freezer, propose_safe, network, alias_book, manifest)
