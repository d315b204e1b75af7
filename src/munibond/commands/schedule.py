"""`munibond schedule TERMS.yaml [--json]`: the coupon and redemption schedule of a term sheet, and its call options."""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import click

from munibond.call import call_option_json, call_schedule
from munibond.money import fraction_str
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet


@click.command(
    "schedule",
    epilog="\b\nExamples:\n"
    "  munibond schedule examples/kanagawa-resident-2026.yaml          # dates in the issuer's zone\n"
    "  munibond schedule examples/zurich-2030.yaml --json",
)
@click.argument("terms", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON (fractions as p/q strings).")
def schedule(terms: Path, as_json: bool) -> None:
    """Show the coupon and redemption schedule of the term sheet TERMS."""
    sheet = load_term_sheet(terms)
    sched = build_schedule(sheet)
    calls = call_schedule(sheet, sched)
    if as_json:
        data = sched.to_json_dict()
        data["calls"] = [call_option_json(option, call) for option, call in calls]
        click.echo(json.dumps(data, indent=2))
        return

    from rich.table import Table

    from munibond.console import make_console

    cur = sched.currency
    table = Table(
        title=f"{sheet.name} ({sheet.isin}) — {cur.code}, denomination {fraction_str(sched.denomination)}; "
        f"dates in {sheet.timezone}"
    )
    for header in (
        "#",
        "accrual",
        "record date",
        "payment date",
        "year fraction",
        "coupon / unit",
        "principal / unit",
    ):
        table.add_column(header, justify="right" if header != "accrual" else "left")
    for p in sched.periods:
        stub = " (stub)" if p.is_stub else ""
        table.add_row(
            str(p.index),
            f"{p.accrual_start} → {p.accrual_end}{stub}",
            p.record_date.isoformat(),
            p.payment_date.isoformat(),
            fraction_str(p.year_fraction),
            _amount(p.coupon_per_unit, cur.minor_units),
            _amount(p.principal_per_unit, cur.minor_units),
        )
    console = make_console()
    console.print(table)
    if calls:
        options = Table(
            title="call options (a full call on each date; the coupon accrued to it is paid with the principal)"
        )
        for header in (
            "call date",
            "notice by",
            "price %",
            "record date",
            "payment date",
            "accrued / unit",
            "principal / unit",
        ):
            options.add_column(header, justify="right")
        for option, call in calls:
            options.add_row(
                option.date.isoformat(),
                (option.date - dt.timedelta(days=option.notice_days)).isoformat(),
                str(option.price),
                call.record_date.isoformat(),
                call.payment_date.isoformat(),
                _amount(call.accrued_per_unit, cur.minor_units),
                _amount(call.principal_per_unit, cur.minor_units),
            )
        console.print(options)


def _amount(value: Fraction, minor_units: int) -> str:
    """Exact p/q when not a whole number of minor units, else the decimal amount."""
    scaled = value * 10**minor_units
    if scaled.denominator != 1:
        return fraction_str(value)
    whole, frac = divmod(scaled.numerator, 10**minor_units)
    return f"{whole:,}" + (f".{frac:0{minor_units}d}" if minor_units else "")
