"""`munibond bank`: paying bank-paid holders in yen with a Zengin transfer file, and recording on chain what the
bank executed (export, then record or import). See docs/bank-transfers.md."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.commands.options import network_options

if TYPE_CHECKING:
    from munibond.chain.bank_transfers import RecordPlan
    from munibond.chain.settlement import BankPaymentRun

PAYER = click.option("--payer", default="treasury", show_default=True, help="Account with the payer role.")
BATCH_SIZE = click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 500))
YES = click.option("--yes", is_flag=True, help="Do not ask: the bank has executed the file (for scripts).")
FILE = click.argument("transfer_file", type=click.Path(path_type=Path, dir_okay=False))
NOT_RECORDED_EXIT = 1


def _examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group("bank")
def bank() -> None:
    """Bank transfers in yen (Zengin file) for holders paid by bank, and their record on chain."""


@bank.command(
    "export",
    epilog=_examples(
        "munibond bank export KNGW26 1 transfers-1.txt --originator bank.yaml   # bank-paid investors of the database",
        "munibond bank export KNGW26 1 transfers-1.txt --originator bank.yaml --investors directory.csv",
    ),
)
@click.argument("symbol")
@click.argument("period", type=int)
@FILE
@click.option(
    "--investors",
    "investors_csv",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Investor directory CSV (rows with pay_by=bank are paid) instead of the investor database.",
)
@click.option(
    "--db",
    default=None,
    metavar="URL",
    help="Investor database URL; default $MUNIBOND_INVESTOR_DB, else investors.db in the workspace or beside the "
    "manifest. Investors with pay_by=bank are paid, to the bank account on file.",
)
@click.option(
    "--originator",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="YAML: requester_code, requester_name, bank_code, bank_name, branch_code, branch_name, account_type, "
    "account_number of the paying account.",
)
@network_options
def export(
    symbol: str,
    period: int,
    transfer_file: Path,
    investors_csv: Path | None,
    db: str | None,
    originator: Path,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Write the Zengin transfer file TRANSFER_FILE paying PERIOD (from 1) of SYMBOL to every bank-paid holder not
    yet settled: its net in yen, withholding as on chain. Sends nothing; the plan goes to TRANSFER_FILE.json.

    Bank-paid holders and their accounts come from the investor database (`investors update ID --pay-by bank`),
    or from an investor directory CSV given with --investors."""
    from munibond.chain.bank_transfers import export_transfers, load_originator, plan_path
    from munibond.chain.session import connect
    from munibond.reports.directory import investor_directory

    payer_account = load_originator(originator)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        directory = investor_directory(
            investors_csv, db=db, manifest=manifest, resolve=session.signers.address, required=True
        )
        plan = export_transfers(session, symbol, period, directory, payer_account, transfer_file)
    for t in plan.transfers:
        click.echo(f"  record {t.record}: {t.investor_id} {t.wallet} net {t.yen:,} yen")
    click.echo(
        f"wrote {len(plan.transfers)} transfers, {plan.total_yen:,} yen, for {plan.transfer_date} to {transfer_file} "
        f"(SHA-256 {plan.sha256}; plan {plan_path(transfer_file)}); {len(plan.already_settled)} already settled"
    )
    click.echo(
        f"once the bank has executed it: munibond bank record {symbol} {transfer_file} "
        f"(or `bank import` with its result file) — before `coupon pay`"
    )


def _ask(yes: bool) -> Callable[[RecordPlan], bool]:
    def confirm(what: RecordPlan) -> bool:
        plan = what.plan
        total = sum(t.yen for t in what.to_record)
        click.echo(
            f"{plan.symbol} period {plan.period}: record {len(what.to_record)} bank transfers ({total:,} yen) as paid, "
            f"reference SHA-256 {plan.sha256}; {len(what.already_settled)} already recorded"
        )
        if not what.to_record:
            return True
        if yes:
            return True
        return click.confirm("Has the bank executed these transfers?", default=False)

    return confirm


def _done(run: BankPaymentRun | None) -> None:
    if run is None:
        click.echo("nothing recorded", err=True)
        sys.exit(NOT_RECORDED_EXIT)
    for r in run.recorded:
        click.echo(f"  {r.holder}: coupon {r.coupon_gross} principal {r.principal_gross} recorded as paid by bank")
    click.echo(f"recorded {len(run.recorded)} bank payments, {len(run.already_settled)} already recorded")


@bank.command("record", epilog=_examples("munibond bank record transfers-1.txt", "munibond bank record t.txt --yes"))
@FILE
@PAYER
@BATCH_SIZE
@YES
@network_options
def record(
    transfer_file: Path,
    payer: str,
    batch_size: int,
    yes: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Record every transfer of TRANSFER_FILE as paid by bank, once the bank has executed the whole file.

    Asks first (unless --yes); declining records nothing (exit 1). Holders already recorded are skipped."""
    from munibond.chain.bank_transfers import read_plan, record_transfers
    from munibond.chain.session import connect

    read_plan(transfer_file)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        run = record_transfers(
            session,
            transfer_file,
            payer=payer,
            batch_size=batch_size,
            confirm=_ask(yes),
            progress=click.echo,
        )
    _done(run)


@bank.command(
    "import",
    epilog=_examples("munibond bank import transfers-1.txt result-1.csv   # record,account_number,amount,status"),
)
@FILE
@click.argument("result_csv", type=click.Path(path_type=Path, dir_okay=False))
@PAYER
@BATCH_SIZE
@YES
@network_options
def import_result(
    transfer_file: Path,
    result_csv: Path,
    payer: str,
    batch_size: int,
    yes: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Record the transfers the bank's RESULT_CSV reports executed (failed ones stay unpaid on chain)."""
    from munibond.chain.bank_transfers import read_plan, read_result, record_transfers
    from munibond.chain.session import connect

    executed = read_result(result_csv, read_plan(transfer_file))
    click.echo(f"the bank executed {len(executed)} of the file's transfers")
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        run = record_transfers(
            session,
            transfer_file,
            payer=payer,
            batch_size=batch_size,
            confirm=_ask(yes),
            executed=executed,
            progress=click.echo,
        )
    _done(run)
