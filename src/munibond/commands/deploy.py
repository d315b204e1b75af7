"""`munibond deploy TERMS.yaml`: deploy the registry and factory if needed, then the series of a term sheet."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


@click.command("deploy")
@click.argument("terms", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--payment-token", default=None, help="ERC-20 of the cash leg (address or alias); else the term sheet's.")
@click.option(
    "--test-payment-token",
    is_flag=True,
    help="On a development chain without a payment token: deploy a test deposit token for the cash leg.",
)
@click.option("--sender", default=None, help="Account that sends the transactions (default: roles.admin).")
@network_options
def deploy(
    terms: Path,
    payment_token: str | None,
    test_payment_token: bool,
    sender: str | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Deploy the bond series described by the term sheet TERMS (re-runnable: deploys only what is missing)."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    data = workflows.load_deployment_input(terms)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        entry = workflows.deploy(
            session,
            data,
            payment_token=payment_token,
            test_payment_token=test_payment_token,
            sender=sender,
            progress=click.echo,
        )
        click.echo(f"series {data.terms.symbol}: token {entry['token']}, payment agent {entry['payment_agent']}")
        click.echo(f"manifest: {session.manifest.path}")
