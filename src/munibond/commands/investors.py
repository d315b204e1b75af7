"""`munibond investors import INVESTORS.csv`: onboard investors into the shared registry in batches."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


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
@click.option("--dry-run", is_flag=True, help="Show what would be sent, send nothing.")
@network_options
def import_(
    csv_file: Path,
    issuer_salt_file: Path | None,
    rekey: bool,
    registrar: str,
    batch_size: int,
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

    from munibond.chain import workflows
    from munibond.chain.session import connect
    from munibond.investors import read_issuer_salt, salt_fingerprint
    from munibond.workspace import current

    workspace = current()
    if issuer_salt_file is None and os.environ.get("MUNIBOND_ISSUER_SALT") is None and workspace is not None:
        issuer_salt_file = workspace.issuer_salt_file  # the workspace's `issuer_salt_file`, when it names one
    salt = read_issuer_salt(issuer_salt_file, os.environ)
    workflows.load_investors(csv_file, salt)  # every row checked before any connection
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        # again against the chain's clock: KYC expiries must lie in the chain's future
        rows = workflows.load_investors(csv_file, salt, now=session.now())
        plan, report = workflows.import_investors(
            session,
            csv_file,
            rows,
            registrar=registrar,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=click.echo,
            salt_fingerprint=salt_fingerprint(salt),
            rekey=rekey,
        )
        click.echo(
            f"{len(plan.register)} to register, {len(plan.update)} to update, {len(plan.link)} to link, "
            f"{len(plan.unchanged)} unchanged" + (" (dry run: nothing sent)" if dry_run else "")
        )
        if report is not None:
            click.echo(f"registered {report.registered}, updated {report.updated}, linked {report.linked}")
