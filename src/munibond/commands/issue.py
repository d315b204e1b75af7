"""`munibond issue SYMBOL ALLOCATIONS.csv`: mint each allocation exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options


@click.command(
    "issue",
    epilog="\b\nExamples:\n"
    "  munibond issue KNGW26 allocations.csv --dry-run     # every check and the preview; sends nothing\n"
    "  munibond issue KNGW26 allocations.csv               # the same preview, a question, then the mints\n"
    "  munibond issue KNGW26 allocations.csv --yes         # in a script: no question",
)
@click.argument("symbol")
@click.argument("csv_file", metavar="ALLOCATIONS.csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--minter", default="agent", show_default=True, help="Account with the minter role.")
@confirm_options
@network_options
def issue(
    symbol: str,
    csv_file: Path,
    minter: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Mint what is still missing of every allocation (wallet,units) of series SYMBOL.

    Checked first: the minter's role and every mint by the token's own compliance rules (a mint it would refuse
    is named, and nothing is sent); then the preview and a question (default No; --yes skips it)."""
    from munibond.audit_log import audited
    from munibond.chain import workflows
    from munibond.chain.preview import issue_preview
    from munibond.chain.session import connect
    from munibond.confirmation import confirm
    from munibond.progress import RunProgress, latest_hash

    arguments = {"symbol": symbol, "csv_file": csv_file, "minter": minter, "yes": yes, "dry_run": dry_run,
                 "network": network, "manifest": manifest}  # fmt: skip
    with audited("issue", arguments, manifest=manifest) as audit:
        allocations = workflows.load_allocations(csv_file)
        click.echo(f"issue {symbol}: checking {len(allocations)} allocations against the token …")
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            minter_address = session.signers.address(minter)
            audit.begin(signer=minter_address, chain_id=int(session.chain.chain_id), manifest=session.manifest.path)
            planned = workflows.issue_allocations(session, symbol, csv_file, allocations, minter=minter, dry_run=True)
            preview = issue_preview(session, symbol, planned, minter=minter)
            if dry_run:
                for wallet, units in planned.minted.items():
                    click.echo(f"  {wallet}: {units} units (already minted {planned.already.get(wallet, 0)})")
            if not confirm(preview, yes=yes, dry_run=dry_run):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            progress = RunProgress(
                len(planned.minted),
                "wallets",
                pattern=re.compile(r"to (\d+) wallets"),
                last_hash=latest_hash(session.chain, minter_address),
            )
            report = workflows.issue_allocations(
                session, symbol, csv_file, allocations, minter=minter, progress=progress
            )
            audit.sent(report.transactions)
            audit.totals = {"units_minted": sum(report.minted.values()), "wallets": len(report.minted)}
        click.echo(f"minted {sum(report.minted.values())} units now; {len(report.minted)} wallets topped up")
