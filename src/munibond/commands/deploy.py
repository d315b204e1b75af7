"""`munibond deploy TERMS.yaml`: deploy the registry and factory if needed, then the series of a term sheet."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


@click.command("deploy")
@click.argument("terms", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--payment-token", default=None, help="ERC-20 of the cash leg (address or alias); else the term sheet's.")
@click.option(
    "--test-payment-token",
    is_flag=True,
    help="On a development chain without a payment token: deploy a test deposit token for the cash leg.",
)
@click.option("--sender", default=None, help="Account that sends the transactions (default: roles.admin).")
@network_options
def deploy(
    terms: tuple[Path, ...],
    payment_token: str | None,
    test_payment_token: bool,
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
