"""`munibond report`: reports staff file — the payment run of a period (CSV and HTML), the withholding remittance,
the annual withholding summary per investor, the reconciliation of the series' payment-token balance, and the
proceeds and refunds of a subscription book."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.commands.options import network_options

if TYPE_CHECKING:
    from munibond.chain.session import Session
    from munibond.reports.payment_run import SeriesContext

INVESTORS = click.option(
    "--investors",
    "investors_csv",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Investor directory CSV (wallet,investor_id,name,pay_by,bank fields...) for investor ids and names, "
    "instead of the investor database.",
)
DB = click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Investor database URL for investor ids and names; default $MUNIBOND_INVESTOR_DB, else investors.db in "
    "the workspace or beside the manifest (when there is one).",
)
CSV_OUT = click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write CSV here."
)
HTML_OUT = click.option(
    "--html", "html_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write HTML here."
)


def _examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"must be a date YYYY-MM-DD, got {value!r}", param=param) from None


def _write(path: Path | None, text: str, what: str) -> None:
    if path is not None:
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {what} to {path}")


@click.group("report")
def report() -> None:
    """Reports to file: payment runs, withholding remittance, annual withholding, reconciliation, subscriptions."""


def _context(
    session: Session, symbol: str, investors_csv: Path | None, *, db: str | None = None, manifest: Path | None = None
) -> SeriesContext:
    """The series with its investors: from `investors_csv` when given, else from the investor database."""
    from munibond.reports.directory import investor_directory
    from munibond.reports.payment_run import SeriesContext

    resolve = session.signers.address
    directory = investor_directory(investors_csv, db=db, manifest=manifest, resolve=resolve, required=False)
    return SeriesContext(session, symbol, directory)


@report.command(
    "payments",
    epilog=_examples(
        "munibond report payments KNGW26 --period 1 --csv run-1.csv --html run-1.html",
        "munibond report payments KNGW26 --period 2 --preview --html preview-2.html   # before `coupon pay`",
    ),
)
@click.argument("symbol")
@click.option("--period", type=int, required=True, help="The period, numbered from 1.")
@click.option("--preview", is_flag=True, help="What `coupon pay` would pay now (as its --dry-run); sends nothing.")
@INVESTORS
@DB
@CSV_OUT
@HTML_OUT
@network_options
def payments(
    symbol: str,
    period: int,
    preview: bool,
    investors_csv: Path | None,
    db: str | None,
    csv_path: Path | None,
    html_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """The payment run of PERIOD of SYMBOL: per holder gross, each withholding component by name, net, how paid
    (push, claim, escrow, release, bank) and the transaction, in currency units; totals and a chart of paid
    against remaining by batch in the HTML."""
    from munibond.chain.session import connect
    from munibond.reports.html import payment_run_html
    from munibond.reports.payment_run import payment_run, preview_run, report_csv

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        context = _context(session, symbol, investors_csv, db=db, manifest=manifest)
        run = preview_run(context, period) if preview else payment_run(context, period)
    money = run.money
    _write(csv_path, report_csv(run), "the CSV")
    _write(html_path, payment_run_html(run), "the HTML report")
    kind = "preview (nothing paid)" if run.preview else "payment run"
    taxes = ", ".join(f"{c.label} {money.show(run.tax_total(c))}" for c in run.components) or "none"
    click.echo(
        f"{symbol} period {period} {kind}, payment date {run.payment_date.isoformat()}: {len(run.lines)} lines, "
        f"coupon {money.show(run.total('coupon_gross'))}, principal {money.show(run.total('principal_gross'))}, "
        f"withholding {taxes}, net {money.show(run.total('net'))} {money.code}; "
        f"{len(run.batches)} batches, remaining {money.show(run.remaining)}"
    )


@report.command(
    "withholding",
    epilog=_examples(
        "munibond report withholding KNGW26 --from 2027-01-01 --to 2027-12-31 --csv remit-2027.csv",
        "munibond report withholding KNGW26 --period 2",
    ),
)
@click.argument("symbol")
@click.option("--period", type=int, default=None, help="One period (numbered from 1) instead of dates.")
@click.option("--from", "first", callback=_day, default=None, help="First settlement day (issuer's zone).")
@click.option("--to", "last", callback=_day, default=None, help="Last settlement day, included.")
@CSV_OUT
@HTML_OUT
@network_options
def withholding(
    symbol: str,
    period: int | None,
    first: dt.date | None,
    last: dt.date | None,
    csv_path: Path | None,
    html_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Withholding remittance of SYMBOL per component and payee account: withheld on chain (transferred by the
    series) and on bank-paid coupons (remitted by the issuer)."""
    from munibond.chain.session import connect
    from munibond.errors import InputError
    from munibond.reports.payment_run import SeriesContext
    from munibond.reports.withholding import remittance, remittance_csv, remittance_html

    if period is None and (first is None or last is None):
        raise InputError("give --period N, or --from DATE and --to DATE", field="--period")
    if period is not None and (first is not None or last is not None):
        raise InputError("give either --period or --from/--to, not both", field="--period")
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        context = SeriesContext(session, symbol)
        result = remittance(context, period=period, first=first, last=last)
    _write(csv_path, remittance_csv(result), "the CSV")
    _write(html_path, remittance_html(result), "the HTML report")
    money = result.money
    click.echo(f"{symbol} withholding, {result.scope} ({money.code}):")
    for row in result.rows:
        click.echo(
            f"  {row.component.label} to {row.account}: on chain {money.show(row.on_chain)}, "
            f"bank-paid {money.show(row.by_bank)}, total {money.show(row.total)} ({row.payments} payments)"
        )
    for account, amount in result.swept.items():
        click.echo(f"  transferred by the series to {account}: {money.show(amount)}")
    click.echo(f"total withheld {money.show(result.total('total'))}")


@report.command(
    "annual",
    epilog=_examples("munibond report annual KNGW26 --year 2027 --investors investors-directory.csv --csv 2027.csv"),
)
@click.argument("symbol")
@click.option("--year", type=int, required=True, help="Calendar year (issuer's zone) of the settlements.")
@INVESTORS
@DB
@CSV_OUT
@HTML_OUT
@network_options
def annual(
    symbol: str,
    year: int,
    investors_csv: Path | None,
    db: str | None,
    csv_path: Path | None,
    html_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Annual withholding summary of SYMBOL per investor: gross, each withholding component, net."""
    from munibond.chain.session import connect
    from munibond.errors import InputError
    from munibond.reports.withholding import annual_csv, annual_html, annual_summary

    if not 1970 <= year <= 9999:
        raise InputError(f"must be a calendar year, got {year}", field="--year")
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        result = annual_summary(_context(session, symbol, investors_csv, db=db, manifest=manifest), year)
    _write(csv_path, annual_csv(result), "the CSV")
    _write(html_path, annual_html(result), "the HTML report")
    money = result.money
    for row in result.rows:
        taxes = " + ".join(money.show(row.taxes.get(c.key, 0)) for c in result.components) or "0"
        click.echo(
            f"  {row.investor_id or row.wallets[0]} {row.name}: coupon {money.show(row.coupon_gross)}, "
            f"withholding {taxes}, principal {money.show(row.principal_gross)}, net {money.show(row.net)}"
        )
    click.echo(
        f"{symbol} {year}: {len(result.rows)} investors, coupon {money.show(result.total('coupon_gross'))}, "
        f"withholding {money.show(result.total('tax'))}, net {money.show(result.total('net'))} {money.code}"
    )


@report.command("reconcile", epilog=_examples("munibond report reconcile KNGW26"))
@click.argument("symbol")
@network_options
def reconcile(symbol: str, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Check SYMBOL's payment-token balance against funded, paid, tax, escrow, undelivered, arrears and remainder.

    Also each period's books (funded = paid net + tax + escrow + remainder) and the tax withheld against what was
    transferred, is pending or owed. Prints every line and the difference; exit status 1 when they do not
    reconcile."""
    from munibond.chain.session import connect
    from munibond.reports.payment_run import SeriesContext
    from munibond.reports.reconcile import reconcile as reconcile_series

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        result = reconcile_series(SeriesContext(session, symbol))
    for line in result.lines():
        click.echo(line)
    if not result.ok:
        sys.exit(1)


@report.command(
    "subscription",
    epilog=_examples(
        "munibond report subscription KNGW26 --csv subscription.csv",
        "munibond report subscription KNGW26 --book 1 --investors investors-directory.csv --csv book-1.csv",
    ),
)
@click.argument("symbol")
@click.option("--book", "book_number", type=click.IntRange(1), default=None, help="Book number (default: the latest).")
@INVESTORS
@CSV_OUT
@network_options
def subscription(
    symbol: str,
    book_number: int | None,
    investors_csv: Path | None,
    csv_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Proceeds and refunds of SYMBOL's subscription book per investor: committed, allotted and issued units, paid
    to the issuer, refunded, and the transaction, in currency units; then whether proceeds + refunds + what is
    still outstanding equal the cash committed, against the treasury's proceeds and the book's balance.

    Exit status 1 when they do not reconcile."""
    from munibond.chain.offering import find_book
    from munibond.chain.session import connect
    from munibond.reports.directory import CsvInvestorDirectory
    from munibond.reports.subscription import report_csv, subscription_report

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        directory = None
        if investors_csv is not None:
            directory = CsvInvestorDirectory(investors_csv, session.signers.address)
        result = subscription_report(find_book(session, symbol, book_number), directory)
    _write(csv_path, report_csv(result), "the CSV")
    for line in result.lines_text():
        click.echo(line)
    if not result.ok:
        sys.exit(1)
