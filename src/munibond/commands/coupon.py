"""`munibond coupon pay SYMBOL PERIOD`: fund what a period lacks and pay its holders (also redemption)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options

if TYPE_CHECKING:
    from munibond.chain.preview import Money
    from munibond.chain.servicing import PeriodPreview
    from munibond.chain.session import Session


def _examples(*lines: str) -> str:
    """A click epilog listing example invocations, kept as written."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group("coupon")
def coupon() -> None:
    """Coupon and redemption payments."""


PAYER = click.option("--payer", default="treasury", show_default=True, help="Account with the payer role.")
BATCH_SIZE = click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 500))


def _print_preview(preview: PeriodPreview, period: int) -> None:
    """Every payment a push would make now, holder by holder, computed off chain (see munibond.entitlement)."""
    from rich.table import Table

    from munibond.console import make_console

    table = Table(title=f"period {period}: payments the push would make now (payment-token base units)")
    for column in ("holder", "units", "coupon", "principal", "withholding", "net", "units burned", "note"):
        table.add_column(column, justify="left" if column in ("holder", "note") else "right")
    for e in preview.pending:
        table.add_row(
            e.holder,
            str(e.units),
            f"{e.coupon_gross:,}",
            f"{e.principal_gross:,}",
            " + ".join(f"{t:,}" for t in e.taxes) or "0",
            f"{e.net:,}",
            str(e.units_retired),
            "escrow (frozen or unverified)" if e.escrowed else "",
        )
    make_console().print(table)


def _summary(session: Session, symbol: str, period: int, money: Money) -> str:
    """What period `period` (1-based) has settled, read from the agent's events: the same line whether this run
    paid it or an earlier (interrupted) one did, so a re-run prints it again without sending anything."""
    from munibond.chain import workflows
    from munibond.chain.payment_record import ESCROWED, OFFCHAIN

    lines = workflows.payment_record(session, symbol, period)
    escrowed = [x for x in lines if x.kind == ESCROWED]
    by_bank = [x for x in lines if x.kind == OFFCHAIN]
    principal = sum(x.principal_gross for x in lines)
    return (
        f"{symbol} period {period} settled so far: {len(lines)} holders ({len(by_bank)} by bank transfer, "
        f"{len(escrowed)} escrowed), coupon {money(sum(x.coupon_gross for x in lines))}"
        + (f", principal {money(principal)}" if principal else "")
        + f", withholding {money(sum(x.tax for x in lines))}, net {money(sum(x.net for x in lines))}"
    )


def _run_payment(
    command: str,
    arguments: dict[str, object],
    symbol: str,
    period: int | None,
    *,
    payer: str,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    despite_overdue: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """`coupon pay` (a period) and `redeem` (period None: the final one): checks, preview, confirmation, the run
    with its progress, and the settled summary from chain."""
    from munibond.audit_log import audited
    from munibond.chain import workflows
    from munibond.chain.preview import payment_preview
    from munibond.chain.session import connect
    from munibond.confirmation import confirm
    from munibond.progress import RunProgress, latest_hash

    with audited(command, arguments, manifest=manifest) as audit:
        click.echo(f"{command} {symbol}: checking roles, dates, balances and every holder at the record date …")
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            audit.begin(
                signer=session.signers.address(payer),
                chain_id=int(session.chain.chain_id),
                manifest=session.manifest.path,
            )
            redemption = period is None
            number = workflows.final_period(session, symbol) if period is None else period
            plan = payment_preview(
                session,
                symbol,
                number,
                payer=payer,
                batch_size=batch_size,
                redemption=redemption,
                despite_overdue=despite_overdue,
            )
            if dry_run:
                _print_preview(plan.period, number)
            if not confirm(plan.preview, yes=yes, dry_run=dry_run):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                if not dry_run:
                    click.echo(_summary(session, symbol, number, plan.money))
                return
            signer = session.signers.address(payer)
            progress = RunProgress(len(plan.period.pending), "holders", last_hash=latest_hash(session.chain, signer))
            if redemption:
                run = workflows.redeem(
                    session,
                    symbol,
                    payer=payer,
                    batch_size=batch_size,
                    progress=progress,
                    despite_overdue=despite_overdue,
                )
            else:
                run = workflows.pay(session, symbol, number, payer=payer, batch_size=batch_size, progress=progress)
            audit.sent(run.transactions)
            audit.totals = {
                "period": number,
                "funded": run.funded_now,
                "settled": run.settled,
                "already_settled": run.skipped,
                "net": sum(p.net for p in run.payments),
                "withholding": sum(sum(p.taxes) for p in run.payments),
                "principal": sum(p.principal_gross for p in run.payments),
            }
            click.echo(
                f"this run: funded {plan.money(run.funded_now)}, settled {run.settled} holders "
                f"({run.skipped} already settled), {len(run.transactions)} transactions"
            )
            click.echo(_summary(session, symbol, number, plan.money))


@coupon.command(
    "pay",
    epilog=_examples(
        "munibond coupon pay KNGW26 1 --dry-run           # what period 1 would fund and pay; sends nothing",
        "munibond coupon pay KNGW26 1                     # shows the same preview, asks, then funds and pays",
        "munibond coupon pay KNGW26 1 --yes               # in a script: no question",
        "munibond fund KNGW26 --amount 5000000            # dev chain: mint the test payment token first",
    ),
)
@click.argument("symbol")
@click.argument("period", type=int)
@PAYER
@BATCH_SIZE
@confirm_options
@network_options
def pay(
    symbol: str,
    period: int,
    payer: str,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Fund the shortfall of PERIOD (1-based) and push payments to every holder at its record date.

    Every check runs first (payer role and balance, payment date, holders); then the preview (amounts in
    currency units, holders, transactions, the payer's balance after) and a question (default No; --yes skips
    it). Idempotent: a re-run funds nothing more, pays nobody twice and prints the period's summary again. On
    the final period the same step pays principal and burns the redeemed units.
    """
    _run_payment(
        "coupon pay",
        {
            "symbol": symbol,
            "period": period,
            "payer": payer,
            "batch_size": batch_size,
            "yes": yes,
            "dry_run": dry_run,
            "network": network,
            "manifest": manifest,
        },
        symbol,
        period,
        payer=payer,
        batch_size=batch_size,
        yes=yes,
        dry_run=dry_run,
        despite_overdue=False,
        network=network,
        alias_book=alias_book,
        manifest=manifest,
    )


@click.command(
    "redeem",
    epilog=_examples(
        "munibond redeem KNGW26 --dry-run",
        "munibond redeem KNGW26 --payer treasury --batch-size 200",
        "munibond redeem KNGW26 --yes                     # in a script: no question",
    ),
)
@click.argument("symbol")
@PAYER
@BATCH_SIZE
@confirm_options
@click.option(
    "--despite-overdue",
    is_flag=True,
    help="Redeem even though earlier periods are overdue and unpaid (they are settled otherwise).",
)
@network_options
def redeem(
    symbol: str,
    payer: str,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    despite_overdue: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Redeem series SYMBOL at maturity: pay the final coupon and principal and burn every unit (idempotent).

    Checks, preview and question as for `coupon pay`; refused while earlier periods are overdue and unpaid."""
    _run_payment(
        "redeem",
        {
            "symbol": symbol,
            "payer": payer,
            "batch_size": batch_size,
            "yes": yes,
            "dry_run": dry_run,
            "despite_overdue": despite_overdue,
            "network": network,
            "manifest": manifest,
        },
        symbol,
        None,
        payer=payer,
        batch_size=batch_size,
        yes=yes,
        dry_run=dry_run,
        despite_overdue=despite_overdue,
        network=network,
        alias_book=alias_book,
        manifest=manifest,
    )


@coupon.command(
    "status", epilog=_examples("munibond coupon status KNGW26                    # dates in the issuer's zone")
)
@click.argument("symbol")
@network_options
def status(symbol: str, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Per period of SYMBOL, in currency units: required and funded amounts, what the bank paid (off-chain), the
    shortfall, what was paid, withheld, escrowed, reclaimed, held, the remainder (funded less paid, tax and
    escrow) and whether the period is overdue (payment date passed, not fully paid: unpaid holders in brackets).
    A period the bank paid in part is short only of what neither the funding nor the bank covers."""
    from rich.table import Table

    from munibond.chain import workflows
    from munibond.chain.erc20 import payment_token_at
    from munibond.chain.lookup import series_entry
    from munibond.chain.series_terms import issuer_zone, series_currency
    from munibond.chain.session import connect
    from munibond.clock import show_time
    from munibond.console import make_console
    from munibond.reports.payment_run import Money

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        periods = workflows.status(session, symbol)
        tz = issuer_zone(session, symbol)
        currency = series_currency(session, symbol)
        decimals = int(payment_token_at(series_entry(session, symbol)["payment_token"]).decimals())
    money = Money(currency.code, currency.minor_units, decimals)
    table = Table(title=f"{symbol} payments (in {currency.code}; dates in {tz})")
    columns = ("#", "payment", "required", "funded", "paid net", "tax", "escrowed", "reclaimed", "held", "off-chain",
               "shortfall", "remainder", "overdue", "state")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("payment", "overdue", "state") else "right")
    for p in periods:
        state = "cancelled" if p.cancelled else "default" if p.defaulted else ("closed" if p.closed else "")
        overdue = ""
        if p.overdue:
            overdue = "overdue" + (f" ({p.unpaid_holders} unpaid)" if p.unpaid_holders else "")
        table.add_row(
            str(p.period),
            show_time(p.payment_time, tz, with_zone=False),
            "-" if p.required is None else money.show(p.required),
            money.show(p.funded),
            money.show(p.paid_net),
            money.show(p.tax_withheld),
            money.show(p.escrowed),
            money.show(p.reclaimed),
            money.show(p.held),
            money.show(p.offchain_gross),
            "-" if p.required is None else money.show(p.shortfall),
            money.show(p.remainder),
            overdue,
            state,
        )
    make_console(min_width=200).print(table)


@coupon.command(
    "payments",
    epilog=_examples("munibond coupon payments KNGW26 1", "munibond coupon payments KNGW26 1 --csv payments-1.csv"),
)
@click.argument("symbol")
@click.argument("period", type=int)
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write CSV here."
)
@network_options
def payments(
    symbol: str, period: int, csv_path: Path | None, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Print (or write as CSV) every settlement of PERIOD (1-based) of SYMBOL, with each withholding component:
    the record a paying agent files its withholding reports from."""
    from rich.table import Table

    from munibond.chain import workflows
    from munibond.chain.payment_record import payment_record_csv
    from munibond.chain.session import connect
    from munibond.console import make_console

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        lines = workflows.payment_record(session, symbol, period)
    if csv_path is not None:
        csv_path.write_text(payment_record_csv(lines))
        click.echo(f"wrote {len(lines)} settlements of period {period} to {csv_path}")
        return
    table = Table(title=f"{symbol} period {period}: settlements (payment-token base units)")
    for column in ("holder", "kind", "coupon", "principal", "withholding", "net", "units redeemed"):
        table.add_column(column, justify="left" if column in ("holder", "kind") else "right")
    for line in lines:
        taxes = " + ".join(f"{t:,}" for t in line.taxes) or "0"
        table.add_row(
            line.holder,
            line.kind,
            f"{line.coupon_gross:,}",
            f"{line.principal_gross:,}",
            taxes,
            f"{line.net:,}",
            str(line.units_redeemed),
        )
    make_console().print(table)
    on_chain = [x for x in lines if x.kind != "offchain"]
    by_bank = [x for x in lines if x.kind == "offchain"]
    click.echo(
        f"{len(lines)} settlements: net {sum(x.net for x in on_chain):,}, withheld {sum(x.tax for x in on_chain):,}, "
        f"escrowed {sum(x.coupon_gross + x.principal_gross for x in on_chain if x.kind == 'escrowed'):,}"
        + (
            f"; by bank (recorded): net {sum(x.net for x in by_bank):,}, withheld {sum(x.tax for x in by_bank):,}"
            if by_bank
            else ""
        )
    )


@coupon.command(
    "claim",
    epilog=_examples(
        "munibond coupon claim KNGW26 1 --holder investor_a",
        "munibond coupon claim KNGW26 --holder investor_a   # every period payable now",
    ),
)
@click.argument("symbol")
@click.argument("period", type=int, required=False)
@click.option("--holder", required=True, help="The holder's account (alias), which signs and pays the gas.")
@network_options
def claim(
    symbol: str, period: int | None, holder: str, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Pull the HOLDER's own payment for PERIOD (1-based) of SYMBOL, instead of waiting for the push.

    Without PERIOD: every period payable to the holder now (funded, not yet paid to it), in one transaction.
    """
    from munibond.chain import workflows
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        if period is None:
            payments = workflows.claim_outstanding(session, symbol, holder=holder)
        else:
            payments = [workflows.claim(session, symbol, period, holder=holder)]
    for p in payments:
        state = "escrowed" if p.escrowed else f"received net {p.net}"
        click.echo(
            f"period {p.period + 1}: {holder} {state} (coupon {p.coupon_gross}, principal {p.principal_gross}, "
            f"tax {sum(p.taxes)})"
        )


@coupon.command(
    "offchain", epilog=_examples("munibond coupon offchain KNGW26 1 bank-1.csv      # CSV: wallet,reference")
)
@click.argument("symbol")
@click.argument("period", type=int)
@click.argument("payments_csv", type=click.Path(path_type=Path, dir_okay=False))
@PAYER
@BATCH_SIZE
@network_options
def offchain(
    symbol: str,
    period: int,
    payments_csv: Path,
    payer: str,
    batch_size: int,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Record the holders in PAYMENTS_CSV (wallet,reference) as paid for PERIOD (1-based) by bank transfer.

    Nothing moves on chain: each holder is marked settled with the hash of its bank reference (units are
    burned on a redemption period). Run it before `coupon pay`, which then skips them. Idempotent.
    """
    from munibond.chain import settlement
    from munibond.chain.session import connect

    rows = settlement.load_bank_payments(payments_csv)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        run = settlement.record_bank_payments(
            session, symbol, period, payments_csv, rows, payer=payer, batch_size=batch_size, progress=click.echo
        )
    for r in run.recorded:
        click.echo(
            f"  {r.holder}: coupon {r.coupon_gross} principal {r.principal_gross} paid by bank "
            f"(reference {r.reference_hash})"
        )
    click.echo(
        f"period {period}: recorded {len(run.recorded)} bank payments, {len(run.already_settled)} already settled"
    )


@coupon.command(
    "release",
    epilog=_examples(
        "munibond coupon release KNGW26 2 investor_e", "munibond coupon release KNGW26 2 investor_e --to investor_e2"
    ),
)
@click.argument("symbol")
@click.argument("period", type=int)
@click.argument("holder")
@click.option("--to", default=None, help="Pay to this wallet of the same investor (default: HOLDER).")
@PAYER
@network_options
def release(
    symbol: str,
    period: int,
    holder: str,
    to: str | None,
    payer: str,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Pay HOLDER's escrowed entitlement for PERIOD (1-based) once it is verified and not frozen again."""
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        payment = settlement.release_escrow(session, symbol, period, holder, to=to, payer=payer)
    if payment is None:
        click.echo(f"period {period}: nothing in escrow for {holder} (nothing sent)")
        return
    click.echo(
        f"period {period}: released to {payment.to}: coupon {payment.coupon_gross} principal "
        f"{payment.principal_gross} tax {sum(payment.taxes)} net {payment.net}"
    )


@coupon.command(
    "reclaim",
    epilog=_examples(
        "munibond coupon reclaim KNGW26 1                  # from 5 calendar years after the payment date",
        "munibond coupon reclaim KNGW26 1 --to treasury",
    ),
)
@click.argument("symbol")
@click.argument("period", type=int)
@click.option("--to", default=None, help="Where the unassigned funding goes (default: the payer).")
@PAYER
@network_options
def reclaim(
    symbol: str,
    period: int,
    to: str | None,
    payer: str,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Return the funding of PERIOD (1-based) that no holder claimed once its reclaim date passed, closing it.

    Escrowed amounts stay for their holders; rounding remainders and unclaimed entitlements come back.
    """
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        amount = settlement.reclaim(session, symbol, period, to=to, payer=payer)
    if amount is None:
        click.echo(f"period {period} is already closed (nothing sent)")
    else:
        click.echo(f"period {period}: reclaimed {amount}; the period is closed")


@coupon.command("sweep-tax", epilog=_examples("munibond coupon sweep-tax KNGW26"))
@click.argument("symbol")
@click.option("--sender", default="treasury", show_default=True, help="Account that sends (anyone may).")
@network_options
def sweep_tax(symbol: str, sender: str, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Transfer the withholding accrued by claims to the tax accounts (push batches transfer their own)."""
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        transfers = settlement.sweep_tax(session, symbol, sender=sender)
    sent = [t for t in transfers if not t.refused]
    for t in transfers:
        verb = "refused by the payment token, owed as arrears to" if t.refused else "to"
        click.echo(f"  tax class {t.tax_class}: {t.amount} {verb} {t.account}")
    click.echo(f"swept {sum(t.amount for t in sent)} in {len(sent)} transfers")
    if len(sent) != len(transfers):
        click.echo("retry with `munibond coupon tax-arrears SYMBOL ACCOUNT` once the account can receive")


@coupon.command("undelivered", epilog=_examples("munibond coupon undelivered KNGW26 investor_a --to investor_a2"))
@click.argument("symbol")
@click.argument("holder")
@click.option("--to", default=None, help="Pay to this wallet of the same investor (default: HOLDER).")
@PAYER
@network_options
def undelivered(
    symbol: str, holder: str, to: str | None, payer: str, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Pay HOLDER the net a push could not deliver (the payment token refused it; it waits in the series)."""
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        amount = settlement.release_undelivered(session, symbol, holder, to=to, payer=payer)
    if amount is None:
        click.echo(f"nothing waits for {holder} (nothing sent)")
    else:
        click.echo(f"paid {amount} waiting for {holder} to {to or holder}")


@coupon.command(
    "tax-arrears",
    epilog=_examples(
        "munibond coupon tax-arrears KNGW26 tax_office",
        "munibond coupon tax-arrears KNGW26 tax_office --redirect-to tax_office2 --sender issuer",
    ),
)
@click.argument("symbol")
@click.argument("account")
@click.option(
    "--redirect-to", default=None, help="Send to this account instead (series admin; e.g. the new tax account)."
)
@click.option("--sender", default="treasury", show_default=True, help="Account that sends (the admin to redirect).")
@network_options
def tax_arrears(
    symbol: str,
    account: str,
    redirect_to: str | None,
    sender: str,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Send withholding that ACCOUNT could not receive: to ACCOUNT again, or re-routed with --redirect-to."""
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        amount = settlement.pay_tax_arrears(session, symbol, account, redirect_to=redirect_to, sender=sender)
    if amount is None:
        click.echo(f"no withholding is owed to {account} (nothing sent)")
    else:
        click.echo(f"paid {amount} of withholding owed to {account} to {redirect_to or account}")


@coupon.command("default", epilog=_examples("munibond coupon default KNGW26 3"))
@click.argument("symbol")
@click.argument("period", type=int)
@click.option("--sender", default="treasury", show_default=True, help="Account that sends (anyone may).")
@network_options
def default(
    symbol: str, period: int, sender: str, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Record that PERIOD (1-based) passed its payment date unfunded (a payment default).

    Funding the period later (`coupon pay`) cures it; both are recorded on chain with events.
    """
    from munibond.chain import settlement
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        marked = settlement.mark_default(session, symbol, period, sender=sender)
    click.echo(f"period {period}: payment default " + ("recorded" if marked else "already recorded (nothing sent)"))


@coupon.command(
    "statement",
    epilog=_examples(
        "munibond coupon statement KNGW26 investor_a --year 2027",
        "munibond coupon statement KNGW26 investor_a --csv a.csv",
    ),
)
@click.argument("symbol")
@click.argument("holder")
@click.option("--year", type=int, default=None, help="Only settlements made in this calendar year (issuer's zone).")
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write CSV here."
)
@network_options
def statement(
    symbol: str,
    holder: str,
    year: int | None,
    csv_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Print (or write as CSV) HOLDER's payment statement on SYMBOL: every coupon, withholding component,
    principal and escrow, dated — for the holder's tax return or an annual withholding certificate."""
    from rich.table import Table

    from munibond.chain.holder_statement import holder_statement, statement_csv
    from munibond.chain.series_terms import issuer_zone
    from munibond.chain.session import connect
    from munibond.console import make_console

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        report = holder_statement(session, symbol, holder, year=year)
        tz = issuer_zone(session, symbol)
    if csv_path is not None:
        csv_path.write_text(statement_csv(report))
        click.echo(f"wrote {len(report.lines)} settlements of {report.wallet} to {csv_path}")
        return
    scope = f" in {year}" if year is not None else ""
    table = Table(
        title=f"{symbol}: payment statement of {report.wallet}{scope} (payment-token base units; dates in {tz})"
    )
    for column in ("date", "period", "kind", "coupon", "withholding", "net", "principal", "note"):
        table.add_column(column, justify="left" if column in ("date", "kind", "note") else "right")
    for line in report.lines:
        note = f"to {line.to}" if line.to not in ("", report.wallet) and line.kind != "escrowed" else ""
        if line.kind == "offchain":
            note = f"paid by bank transfer, reference {line.reference[:10]}…"
        table.add_row(
            line.date.isoformat(),
            str(line.period),
            line.kind,
            f"{line.coupon_gross:,}",
            " + ".join(f"{t:,}" for t in line.taxes) or "0",
            f"{line.net:,}",
            f"{line.principal_gross:,}",
            note,
        )
    make_console().print(table)
    click.echo(
        f"received on chain{scope}: coupons {report.coupon_gross:,}, withholding "
        f"{' + '.join(f'{t:,}' for t in report.taxes) or '0'}, principal {report.principal_gross:,}, net {report.net:,}"
    )
