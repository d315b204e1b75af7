"""`munibond call SYMBOL DATE [--fraction 1] [--off-schedule --price P]`: schedule an early redemption (admin)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

import click

from munibond.commands.options import network_options, safe_option
from munibond.confirmation import confirm_options
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


@click.command(
    "call",
    epilog="\b\nExamples:\n"
    "  munibond call KNGW26 2029-03-25 --dry-run                    # a call date of the term sheet\n"
    "  munibond call KNGW26 2029-03-25 --fraction 1/4                # pro rata: a quarter of every holding\n"
    "  munibond call KNGW26 2029-06-01 --off-schedule --price 100.5\n"
    "  munibond call KNGW26 2029-03-25 --yes                         # in a script: no question",
)
@click.argument("symbol")
@click.argument("date")
@click.option(
    "--price",
    default=None,
    help="Redemption price in percent of face (default: the term sheet's price for DATE; par off schedule).",
)
@click.option("--fraction", default="1", show_default=True, help="Part of every holding retired (1 = full call).")
@click.option(
    "--off-schedule",
    is_flag=True,
    help="Redeem early on a DATE that is not one of the term sheet's call options.",
)
@click.option("--admin", default="issuer", show_default=True, help="Account with the series' admin role.")
@safe_option
@confirm_options
@network_options
def call(
    symbol: str,
    date: str,
    price: str | None,
    fraction: str,
    off_schedule: bool,
    admin: str,
    propose_safe: Path | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Schedule an early redemption of SYMBOL on DATE (moved by the business-day convention); the coupon
    accrued to that date is paid with the principal. DATE must be a call date of the term sheet (its price
    and notice apply) unless --off-schedule. A full call cancels the later periods."""
    from munibond.audit_log import audited
    from munibond.chain import workflows
    from munibond.chain.preview import call_preview
    from munibond.chain.safe import finish_proposal, start_proposal
    from munibond.chain.series_terms import issuer_zone
    from munibond.chain.session import connect
    from munibond.confirmation import confirm

    arguments = {"symbol": symbol, "date": date, "price": price, "fraction": fraction, "off_schedule": off_schedule,
                 "admin": admin, "yes": yes, "dry_run": dry_run, "network": network, "manifest": manifest}  # fmt: skip
    with audited("call", arguments, manifest=manifest) as audit:
        call_date, call_fraction = _date(date), _fraction(fraction)
        call_price = None if price is None else _price(price)
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            signer = session.signers.address(admin)
            audit.begin(signer=signer, chain_id=int(session.chain.chain_id), manifest=session.manifest.path)
            tz = issuer_zone(session, symbol)
            options = {"admin": admin, "off_schedule": off_schedule}
            scheduled = workflows.schedule_call(
                session, symbol, call_date, call_price, call_fraction, dry_run=True, **options
            )
            if confirm(call_preview(session, symbol, scheduled, admin=admin), yes=yes, dry_run=dry_run):
                if propose_safe is not None:
                    title = f"{symbol}: call on {call_date}"
                    start_proposal(session, admin, title, symbol=symbol, role_name="DEFAULT_ADMIN_ROLE")
                scheduled = workflows.schedule_call(session, symbol, call_date, call_price, call_fraction, **options)
                if propose_safe is not None:
                    click.echo(finish_proposal(session, propose_safe))
                if scheduled.transaction is not None:
                    audit.sent([scheduled.transaction])
            else:
                audit.outcome = "dry run" if dry_run else "nothing to send"
        audit.totals = {"period": scheduled.period + 1}
        terms, status = scheduled.terms, scheduled.outcome
        click.echo(
            f"{symbol}: call {status} as period {scheduled.period + 1}: pays on {terms.payment_date} (record date "
            f"{terms.record_date}; dates in {tz}) at {terms.price} % of face, accrued coupon "
            f"{terms.accrued_per_unit} and principal {terms.principal_per_unit} per unit, retiring {terms.fraction} "
            "of every holding"
        )
