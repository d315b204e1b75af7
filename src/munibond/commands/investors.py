"""`munibond investors import INVESTORS.csv`: onboard investors into the shared registry in batches."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options


@click.group("investors")
def investors() -> None:
    """Investor onboarding."""


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
@network_options
def import_(
    csv_file: Path,
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
    """
    import os

    from munibond.audit_log import audited
    from munibond.chain import workflows
    from munibond.chain.preview import import_preview
    from munibond.chain.session import connect
    from munibond.confirmation import confirm
    from munibond.investors import read_issuer_salt, salt_fingerprint
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
            if not go:
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            progress = RunProgress(
                len(plan.register), "wallets", last_hash=latest_hash(session.chain, registrar_address)
            )
            plan, report = workflows.import_investors(session, csv_file, rows, progress=progress, **options)
            if report is not None:
                audit.sent(report.transactions)
                audit.totals = {"registered": report.registered, "updated": report.updated, "linked": report.linked}
                click.echo(f"registered {report.registered}, updated {report.updated}, linked {report.linked}")
