"""`munibond amend SYMBOL TERMS.yaml [--dry-run]`: amend a deployed series' schedule to a corrected term sheet."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.clock import show_time
from munibond.commands.options import network_options, safe_option


@click.command(
    "amend",
    epilog="\b\nExamples:\n"
    "  munibond amend KNGW26 corrected.yaml --dry-run   # old -> new dates, in the issuer's zone\n"
    "  munibond amend KNGW26 corrected.yaml --admin issuer\n"
    "  munibond amend KNGW26 corrected.yaml --admin 0xSAFE… --propose-safe amend.json   # a Safe multisig signs",
)
@click.argument("symbol")
@click.argument("terms", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--admin", default="issuer", show_default=True, help="Account with the series' admin role.")
@click.option("--dry-run", is_flag=True, help="Show what would be amended and send nothing.")
@safe_option
@network_options
def amend(
    symbol: str,
    terms: Path,
    admin: str,
    dry_run: bool,
    propose_safe: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Amend the payment schedule of SYMBOL to the term sheet TERMS (a corrected or re-dated version of the one
    it was deployed from, or the same file after a holiday calendar changed).

    Only schedule terms may differ (dates, calendar, conventions, record date, redemption); the periods that
    change must be before their record date and unpaid. One admin transaction per changed period, with old and
    new terms in its event; then the term-sheet hash. Idempotent.
    """
    from munibond.chain.safe import finish_proposal, start_proposal
    from munibond.chain.session import connect
    from munibond.chain.term_amendment import amend_terms
    from munibond.terms import load_term_sheet

    tz = load_term_sheet(terms).timezone  # a malformed file stops here, before any connection
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        if propose_safe is not None and not dry_run:
            title = f"{symbol}: amend the schedule to {terms.name}"
            start_proposal(session, admin, title, symbol=symbol, role_name="DEFAULT_ADMIN_ROLE")
        report = amend_terms(session, symbol, terms, admin=admin, dry_run=dry_run)
        proposed = finish_proposal(session, propose_safe) if propose_safe is not None else None
    verb = "would amend" if dry_run or proposed is not None else "amended"
    for c in report.changes:
        click.echo(
            f"  period {c.period + 1}: record {_day(c.old.record_time, tz)} -> {_day(c.new.record_time, tz)}, "
            f"payment {_day(c.old.payment_time, tz)} -> {_day(c.new.payment_time, tz)}, "
            f"coupon {c.old.coupon} -> {c.new.coupon}, principal {c.old.principal} -> {c.new.principal} per unit"
        )
    hash_note = (
        "; term-sheet hash " + ("would be updated" if verb == "would amend" else "updated")
        if report.hash_updated
        else ""
    )
    click.echo(f"{symbol}: {verb} {len(report.changes)} periods{hash_note}")
    if proposed is not None:
        click.echo(proposed)


def _day(unix: int, tz: str) -> str:
    return show_time(unix, tz, with_clock=True)
