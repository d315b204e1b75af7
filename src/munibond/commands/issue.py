"""`munibond issue SYMBOL ALLOCATIONS.csv`: mint each allocation exactly once."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


@click.command("issue")
@click.argument("symbol")
@click.argument("csv_file", metavar="ALLOCATIONS.csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--minter", default="agent", show_default=True, help="Account with the minter role.")
@click.option("--dry-run", is_flag=True, help="Show what would be minted; send nothing.")
@network_options
def issue(
    symbol: str,
    csv_file: Path,
    minter: str,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Mint what is still missing of every allocation (wallet,units) of series SYMBOL."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    allocations = workflows.load_allocations(csv_file)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        report = workflows.issue_allocations(
            session, symbol, csv_file, allocations, minter=minter, progress=click.echo, dry_run=dry_run
        )
    if dry_run:
        for wallet, units in report.minted.items():
            click.echo(f"  {wallet}: {units} units (already minted {report.already.get(wallet, 0)})")
        click.echo(
            f"would mint {sum(report.minted.values())} units to {len(report.minted)} wallets (dry run, nothing sent)"
        )
    else:
        click.echo(f"minted {sum(report.minted.values())} units now; {len(report.minted)} wallets topped up")
