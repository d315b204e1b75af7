"""`munibond register SYMBOL [--date D | --period N] [--csv FILE] [--html FILE]`: the bondholder register (社債原簿)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from munibond.commands.options import network_options


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(value)
    except ValueError:
        return _bad(value)


def _bad(value: str) -> date:
    raise click.BadParameter(f"must be a date like 2027-03-31, got {value!r}")


@click.command("register")
@click.argument("symbol")
@click.option(
    "--date",
    "day",
    callback=_day,
    default=None,
    metavar="YYYY-MM-DD",
    help="At the end of this day (issuer's time zone); default today.",
)
@click.option("--period", type=click.IntRange(1), default=None, help="At the record date of this period (1-based).")
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write CSV here."
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write a printable HTML page (A4) here.",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Investor database URL; default $MUNIBOND_INVESTOR_DB, else "
    "investors.db in the workspace, else beside the manifest.",
)
@network_options
def register(
    symbol: str,
    day: date | None,
    period: int | None,
    csv_path: Path | None,
    html_path: Path | None,
    db: str | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """The bondholder register (社債原簿) of series SYMBOL: the bond's class and terms, then every holder with its
    name and address from the investor database (flagged when missing), units, face value, acquisition date and
    acquisition price (a trade's or subscription's settlement price, else the issue price).

    Without --csv or --html it is printed. The files hold personal data and are written readable by their owner
    only.

    Examples: munibond register KNGW26 --period 1 --html register-1.html;
    munibond register KNGW26 --date 2027-03-31 --csv register.csv
    """
    from munibond.bondholder_register import amount_text, build_register, price_text, register_csv, register_html
    from munibond.chain.session import connect
    from munibond.errors import InputError
    from munibond.investor_db import store_for, write_private

    if day is not None and period is not None:
        raise InputError("give --date or --period, not both", field="--date")
    records = store_for(db, manifest).all()
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        result = build_register(session, symbol, day=day, period=period, records=records)
    bond = result.bond
    if csv_path is not None:
        write_private(csv_path, register_csv(result).encode("utf-8-sig"))
    if html_path is not None:
        write_private(html_path, register_html(result).encode("utf-8"))
    if csv_path is None and html_path is None:
        click.echo(
            f"{bond.name} ({bond.symbol}, {bond.isin}) bondholder register as of {result.as_of} ({result.basis})"
        )
        for h in result.holdings:
            who = (
                f"{h.investor.investor_id}\t{h.investor.master.legal_name}\t{h.investor.master.address}"
                if h.investor
                else f"-\tmissing master data\t{h.key}"
            )
            acquired = h.acquired.isoformat() if h.acquired else "-"
            face = amount_text(h.face_value, bond.minor_units)
            price = ""
            if h.acquisition_price is not None:
                each = price_text(h.acquisition_price, bond.minor_units)
                price = f" at {each} {bond.currency} per unit ({h.acquired_by})"

            click.echo(f"{who}\t{h.units} units\t{face} {bond.currency}\tacquired {acquired}{price}")
    total = amount_text(result.total_face_value, bond.minor_units)
    click.echo(
        f"{len(result.holdings)} holdings, {result.total_units} units, face value {total} {bond.currency}; "
        f"{result.missing} without master data"
        + "".join(f"; wrote {path}" for path in (csv_path, html_path) if path is not None)
    )
