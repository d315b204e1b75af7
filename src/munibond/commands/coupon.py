"""`munibond coupon pay SYMBOL PERIOD`: fund what a period lacks and pay its holders (also redemption)."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


@click.group("coupon")
def coupon() -> None:
    """Coupon and redemption payments."""


@coupon.command("pay")
@click.argument("symbol")
@click.argument("period", type=int)
@click.option("--payer", default="treasury", show_default=True, help="Account with the payer role.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 500))
@network_options
def pay(
    symbol: str,
    period: int,
    payer: str,
    batch_size: int,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Fund the shortfall of PERIOD (1-based) and push payments to every holder at its record date.

    Idempotent: a re-run funds nothing more and pays nobody twice. On the final period the same step
    pays principal and burns the redeemed units.
    """
    from munibond.chain import workflows
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        run = workflows.pay(session, symbol, period, payer=payer, batch_size=batch_size, progress=click.echo)
        click.echo(
            f"period {period}: funded {run.funded_now} now, settled {run.settled} holders, "
            f"{run.skipped} already settled"
        )
        for p in run.payments:
            click.echo(
                f"  {p.holder}: coupon {p.coupon_gross} principal {p.principal_gross} "
                f"tax {sum(p.taxes)} net {p.net}" + (" (escrowed)" if p.escrowed else "")
            )


@click.command("redeem")
@click.argument("symbol")
@click.option("--payer", default="treasury", show_default=True, help="Account with the payer role.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 500))
@network_options
def redeem(
    symbol: str, payer: str, batch_size: int, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Redeem series SYMBOL at maturity: pay the final coupon and principal and burn every unit (idempotent)."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        run = workflows.redeem(session, symbol, payer=payer, batch_size=batch_size, progress=click.echo)
        burned = sum(p.units_redeemed for p in run.payments)
        principal = sum(p.principal_gross for p in run.payments)
        click.echo(
            f"redemption: funded {run.funded_now} now, {run.settled} holders paid {principal} principal, "
            f"{burned} units burned, {run.skipped} already settled"
        )
