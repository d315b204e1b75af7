"""`munibond call SYMBOL DATE [--price 100] [--fraction 1]`: schedule an early redemption (admin)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import click

from munibond.commands.options import network_options
from munibond.errors import InputError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"must be an ISO date like 2029-03-25, got {text!r}", field="date") from None


def _price(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InputError(f"must be a decimal percent of face like 100 or 101.5, got {text!r}", field="price") from None
    if not value.is_finite():
        raise InputError(f"must be finite, got {text!r}", field="price")
    return value


def _fraction(text: str) -> Fraction:
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"must be a fraction like 1 or 1/4, got {text!r}", field="fraction") from None


@click.command("call")
@click.argument("symbol")
@click.argument("date")
@click.option("--price", default="100", show_default=True, help="Redemption price in percent of face.")
@click.option("--fraction", default="1", show_default=True, help="Part of every holding retired (1 = full call).")
@click.option("--admin", default="issuer", show_default=True, help="Account with the series' admin role.")
@network_options
def call(
    symbol: str,
    date: str,
    price: str,
    fraction: str,
    admin: str,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Schedule an early redemption of SYMBOL on DATE (moved by the business-day convention); the coupon
    accrued to that date is paid with the principal. A full call cancels the later periods."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    call_date, call_price, call_fraction = _date(date), _price(price), _fraction(fraction)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        terms, period = workflows.schedule_call(session, symbol, call_date, call_price, call_fraction, admin=admin)
    click.echo(
        f"{symbol}: call scheduled as period {period + 1}: pays on {terms.payment_date} (record date "
        f"{terms.record_date}), accrued coupon {terms.accrued_per_unit} and principal {terms.principal_per_unit} "
        f"per unit, retiring {terms.fraction} of every holding"
    )
