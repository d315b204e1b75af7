"""`munibond deploy TERMS.yaml`: deploy the registry and factory if needed, then the series of a term sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from munibond.commands.options import network_options
from munibond.errors import InputError

EXAMPLES = """\b
Examples:
  munibond deploy examples/kanagawa-resident-2026.yaml --test-payment-token --shift-dates   # try the example
  munibond deploy examples/serial/*.yaml --test-payment-token --shift-dates                 # a serial issue
  munibond deploy terms.yaml --payment-token 0xTOKEN --network ethereum:sepolia:alchemy
"""


@click.command("deploy", epilog=EXAMPLES)
@click.argument("terms", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--payment-token", default=None, help="ERC-20 of the cash leg (address or alias); else the term sheet's.")
@click.option(
    "--test-payment-token",
    is_flag=True,
    help="On a development chain without a payment token: deploy a test deposit token for the cash leg.",
)
@click.option(
    "--shift-dates",
    is_flag=True,
    help="Development chains, for demo term sheets: move every date by the fewest whole years that put the issue "
    "date after the chain's clock; the moved copy is written beside the manifest and deployed.",
)
@click.option("--sender", default=None, help="Account that sends the transactions (default: roles.admin).")
@network_options
def deploy(
    terms: tuple[Path, ...],
    payment_token: str | None,
    test_payment_token: bool,
    shift_dates: bool,
    sender: str | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Deploy the bond series of the term sheet(s) TERMS; several term sheets are one serial issue, deployed
    in one transaction. Re-runnable: deploys only what is missing."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    items = [workflows.load_deployment_input(path) for path in terms]
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        if shift_dates:
            items = _shifted(session, items)
        entries = workflows.deploy(
            session,
            items,
            payment_token=payment_token,
            test_payment_token=test_payment_token,
            sender=sender,
            progress=click.echo,
        )
        for item, entry in zip(items, entries, strict=True):
            click.echo(
                f"series {item.terms.symbol} (maturity {item.terms.maturity_date}): token {entry['token']}, "
                f"payment agent {entry['payment_agent']}"
            )
        click.echo(f"manifest: {session.manifest.path}")


def _shifted(session: Any, items: list[Any]) -> list[Any]:
    """The term sheets moved into the chain's future by the same whole years (demo dates); a series already
    deployed from a moved copy keeps that copy, so a re-run deploys nothing new."""
    from munibond.chain import workflows
    from munibond.chain.series_terms import term_sheet_path
    from munibond.demo_dates import is_shifted_copy_of, write_shifted, years_needed

    if not session.is_dev_chain:
        raise InputError("--shift-dates is for demo term sheets on a development chain", field="shift-dates")
    years = max(years_needed(item.path, session.now()) for item in items)
    moved = []
    for item in items:
        entry = session.manifest.series.get(item.terms.symbol)
        deployed = term_sheet_path(session, entry) if entry else None
        if deployed is not None and is_shifted_copy_of(deployed, item.path):
            moved.append(workflows.load_deployment_input(deployed))
            continue
        path = write_shifted(item.path, years, session.manifest.path.parent)
        if path != item.path:
            click.echo(f"{item.path}: every date moved {years} year(s) later, deploying {path}")
        moved.append(workflows.load_deployment_input(path) if path != item.path else item)
    return moved
