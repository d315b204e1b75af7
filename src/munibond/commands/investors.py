"""`munibond investors import|list|show|update|remove|export`: onboard investors into the shared registry in
batches, and keep their master data (name, address, bank account, contact) in the off-chain investor database
(`munibond.investor_db`)."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options

DB_HELP = (
    "Investor database URL (sqlite:///FILE, postgresql+psycopg://USER@HOST/DB); default $MUNIBOND_INVESTOR_DB, else "
    "investors.db in the workspace, else beside the manifest."
)
db_option = click.option("--db", default=None, metavar="URL", help=DB_HELP)
manifest_option = click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Deployment manifest (outside a workspace the default database lies beside it).",
)


@click.group("investors")
def investors() -> None:
    """Investor onboarding and master data."""


@investors.command("import")
@click.argument("csv_file", metavar="INVESTORS.csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--issuer-salt-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File holding the issuer secret mixed into investor identities (keep it stable); else $MUNIBOND_ISSUER_SALT.",
)
@click.option(
    "--rekey",
    is_flag=True,
    help="Accept a salt other than the one the register was built with and re-derive every identity with it "
    "(a deliberate change, or repairing a mistaken import: see docs/operations.md).",
)
@click.option("--registrar", default="registrar", show_default=True, help="Account with the registrar role.")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 200))
@confirm_options
@db_option
@network_options
def import_(
    csv_file: Path,
    db: str | None,
    issuer_salt_file: Path | None,
    rekey: bool,
    registrar: str,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Register the wallets of INVESTORS.csv; every row is validated before anything is sent.

    The issuer salt comes from --issuer-salt-file, $MUNIBOND_ISSUER_SALT or the workspace's `issuer_salt_file`
    (never the command line). Its
    fingerprint is recorded beside the manifest at the first import; a different salt is refused before sending.

    When the CSV has master-data columns (legal_name, address, bank account, contact: see README, CSV formats),
    they are validated with the rest and, once the registry holds the wallets, written to the investor database
    (never to the chain). The file may be UTF-8 or Shift_JIS (cp932) as Excel saves it.

    Example: munibond investors import termsheets/investors.csv --dry-run
    """
    import os

    from munibond.audit_log import audited
    from munibond.chain import workflows
    from munibond.chain.preview import import_preview
    from munibond.chain.session import connect
    from munibond.confirmation import confirm
    from munibond.investor_db import master_rows, records_from_import, store_for
    from munibond.investors import read_issuer_salt, resolve_wallets, salt_fingerprint
    from munibond.progress import RunProgress, latest_hash
    from munibond.workspace import current

    arguments = {"csv_file": csv_file, "rekey": rekey, "registrar": registrar, "batch_size": batch_size, "yes": yes,
                 "dry_run": dry_run, "network": network, "manifest": manifest}  # fmt: skip
    with audited("investors import", arguments, manifest=manifest) as audit:
        workspace = current()
        if issuer_salt_file is None and os.environ.get("MUNIBOND_ISSUER_SALT") is None and workspace is not None:
            issuer_salt_file = workspace.issuer_salt_file  # the workspace's `issuer_salt_file`, when it names one
        salt = read_issuer_salt(issuer_salt_file, os.environ)
        workflows.load_investors(csv_file, salt)  # every row checked before any connection
        masters = master_rows(csv_file)
        # an unusable database is refused before sending; a dry run creates none
        store = store_for(db, manifest) if masters and not dry_run else None
        click.echo(f"investors import: checking {csv_file} against the investor registry …")
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            registrar_address = session.signers.address(registrar)
            audit.begin(signer=registrar_address, chain_id=int(session.chain.chain_id), manifest=session.manifest.path)
            # again against the chain's clock: KYC expiries must lie in the chain's future
            rows = workflows.load_investors(csv_file, salt, now=session.now())
            options = {"registrar": registrar, "batch_size": batch_size, "salt_fingerprint": salt_fingerprint(salt),
                       "rekey": rekey}  # fmt: skip
            plan, _ = workflows.import_investors(session, csv_file, rows, dry_run=True, **options)
            preview = import_preview(session, plan, registrar=registrar, batch_size=batch_size)
            go = confirm(preview, yes=yes, dry_run=dry_run)
            click.echo(
                f"{len(plan.register)} to register, {len(plan.update)} to update, {len(plan.link)} to link, "
                f"{len(plan.unchanged)} unchanged" + (" (dry run: nothing sent)" if dry_run else "")
            )
            if dry_run:
                audit.outcome = "dry run"
                if masters:
                    click.echo(f"would record the master data of {len(masters)} investors (dry run: nothing written)")
                return
            if go:
                progress = RunProgress(
                    len(plan.register), "wallets", last_hash=latest_hash(session.chain, registrar_address)
                )
                plan, report = workflows.import_investors(session, csv_file, rows, progress=progress, **options)
                if report is not None:
                    audit.sent(report.transactions)
                    audit.totals = {"registered": report.registered, "updated": report.updated,
                                    "linked": report.linked}  # fmt: skip
                    click.echo(f"registered {report.registered}, updated {report.updated}, linked {report.linked}")
            else:
                audit.outcome = "nothing to send"
            if store is not None:
                resolved = resolve_wallets(rows, session.signers.address, file=str(csv_file))
                records = records_from_import(masters, rows, {row.line: row.wallet for row in resolved})
                added, changed, unchanged = store.upsert(records)
                click.echo(f"master data: {added} added, {changed} changed, {unchanged} unchanged in {store.where}")


@investors.command("list")
@db_option
@manifest_option
def list_(db: str | None, manifest: Path | None) -> None:
    """List the investors of the master data (id, name, category, wallets, whether a bank account is on file and
    whether the investor is paid by bank).

    Example: munibond investors list
    """
    from munibond.investor_db import store_for

    records = store_for(db, manifest).all()
    for record in records:
        bank = "bank account" if record.has_bank_account else "no bank account"
        if record.master.paid_by_bank:
            bank = "paid by bank"
        wallets = f"{len(record.wallets)} wallet" + ("" if len(record.wallets) == 1 else "s")
        click.echo(f"{record.investor_id}\t{record.master.legal_name}\t{record.category or '-'}\t{wallets}\t{bank}")
    click.echo(f"{len(records)} investors")


@investors.command("show")
@click.argument("investor_id")
@db_option
@manifest_option
def show(investor_id: str, db: str | None, manifest: Path | None) -> None:
    """Print every field of one investor's master data.

    Example: munibond investors show KNGW-0001
    """
    from munibond.errors import InputError
    from munibond.investor_db import MASTER_COLUMNS, store_for

    record = store_for(db, manifest).get(investor_id)
    if record is None:
        raise InputError(f"no master data for investor {investor_id}", field="investor_id")
    click.echo(f"investor_id: {record.investor_id}")
    click.echo(f"category: {record.category or ''}")
    click.echo(f"identity: {record.identity or ''}")
    for name in MASTER_COLUMNS:
        click.echo(f"{name}: {getattr(record.master, name) or ''}")
    click.echo(f"wallets: {', '.join(record.wallets)}")


_UPDATABLE = (
    "legal_name",
    "name_kana",
    "postal_code",
    "address",
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "account_holder",
    "email",
    "phone",
    "bank_name",
    "branch_name",
    "pay_by",
    "category",
)


def _field_options(command: click.Command) -> click.Command:
    for name in reversed(_UPDATABLE):
        flag = "--" + name.replace("_", "-")
        helps = f"New {name} (an empty string clears it)."
        if name == "pay_by":
            helps = "bank (paid by bank transfer in yen: `bank export`; needs a bank account) or chain (the default)."
        command = click.option(flag, name, default=None, help=helps)(command)
    return command


@investors.command("update")
@click.argument("investor_id")
@_field_options
@db_option
@manifest_option
def update(investor_id: str, db: str | None, manifest: Path | None, **changes: str | None) -> None:
    """Change fields of one investor's master data; the result is validated as a whole (a bank account needs every
    bank field). Prints which fields changed, never their values.

    \b
    Examples:
      munibond investors update KNGW-0001 --address "横浜市中区日本大通1" --postal-code 231-8588
      munibond investors update KNGW-0004 --pay-by bank   # `bank export` pays it from now on
    """
    from munibond.investor_db import store_for

    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        from munibond.errors import InputError

        raise InputError("nothing to change: give at least one field option", field="options")
    changed = store_for(db, manifest).update(investor_id, given)
    click.echo(f"{investor_id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))


@investors.command("remove")
@click.argument("investor_id")
@db_option
@network_options
def remove(investor_id: str, db: str | None, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Remove one investor's master data from the database (its on-chain registration stays: that is the
    registrar's). Refused while any of its wallets holds units of a series of the manifest, since the
    bondholder register must name every holder.

    Example: munibond investors remove KNGW-0006
    """
    from munibond.chain.deployment import bond_token
    from munibond.chain.session import connect
    from munibond.errors import InputError
    from munibond.investor_db import store_for

    store = store_for(db, manifest)
    record = store.get(investor_id)
    if record is None:
        raise InputError(f"no master data for investor {investor_id}", field="investor_id")
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        holding = []
        for symbol, entry in sorted(session.manifest.series.items()):
            token = bond_token(session.project, entry["token"])
            units = sum(int(token.balanceOf(w)) - int(token.pendingRetirement(w)) for w in record.wallets)
            if units:
                holding.append(f"{symbol} ({units} units)")
    if holding:
        raise InputError(
            f"investor {investor_id} still holds {', '.join(holding)}: the register must name it", field="investor_id"
        )
    store.remove(investor_id)
    click.echo(f"removed the master data of investor {investor_id} (its on-chain registration stays)")


@investors.command("export")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "cp932"]),
    default="utf-8",
    show_default=True,
    help="utf-8 (with BOM, as Excel opens it) or cp932 (Shift_JIS).",
)
@db_option
@manifest_option
def export(csv_file: Path, encoding: str, db: str | None, manifest: Path | None) -> None:
    """Write the master data as CSV (readable by its owner only): investor_id, category, the master-data columns
    and the wallets separated by `;`.

    Example: munibond investors export investors-master.csv --encoding cp932
    """
    from munibond.investor_db import encode_export, export_csv, store_for, write_private

    records = store_for(db, manifest).all()
    write_private(csv_file, encode_export(export_csv(records), encoding, records))
    click.echo(f"wrote {len(records)} investors to {csv_file} ({encoding})")
