"""Amending a deployed series' schedule to a corrected term sheet (see `munibond.amendment` for what may change)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from munibond.amendment import FIXED_FIELDS, TOKEN_VIEWS, PeriodChange, check_fixed_fields, period_changes
from munibond.chain.deployment import (
    TermDifference,
    bond_token,
    fixed_term_differences,
    payment_agent,
    term_sheet_period_count,
)
from munibond.chain.erc20 import payment_token_at
from munibond.chain.lookup import series_entry
from munibond.chain.safe import send_or_propose
from munibond.chain.series import PeriodOnChain, periods_on_chain
from munibond.chain.session import Session
from munibond.errors import InputError, Issue
from munibond.schedule import build_schedule
from munibond.terms import TermSheet, load_term_sheet, term_sheet_hash


@dataclass(frozen=True)
class AmendmentReport:
    changes: list[PeriodChange]  # periods amended (or, on a dry run, to amend)
    hash_updated: bool  # the agent's term-sheet hash was (or would be) set to the amended file's


def amend_terms(session: Session, symbol: str, path: Path, *, admin: str, dry_run: bool = False) -> AmendmentReport:
    """Bring the payment agent's schedule of `symbol` to the amended term sheet at `path` (admin).

    The chain is the reference: the token's fixed terms (name, symbol, BondTerms) and the periods are read from it;
    the manifest's term sheet is consulted only for the fixed fields the token does not show (roles, compliance,
    tax, documents). Checked whole before sending: only schedule terms change (see
    `munibond.amendment`), the schedule keeps its number of periods, and every period that changes is live,
    before its record date and unpaid. Then one `amendPeriod` per changed period (the event carries old and new
    terms), the agent's term-sheet hash, and the manifest's term sheet. A re-run after an interruption amends only
    what still differs.
    """
    entry = series_entry(session, symbol)
    amended = load_term_sheet(path)
    agent = payment_agent(session.project, entry["payment_agent"])
    fixed = fixed_term_differences(session.project, entry["token"], amended)
    if fixed:
        raise InputError.from_issues([_not_amendable(amended, difference) for difference in fixed])
    current = _recorded_term_sheet(session, entry)
    if current is not None:
        check_fixed_fields(current, amended, OFF_CHAIN_FIXED_FIELDS)
    decimals = int(payment_token_at(str(bond_token(session.project, entry["token"]).currency())).decimals())
    deployed_count = term_sheet_period_count(agent, int(entry["block"]))
    desired = periods_on_chain(amended, build_schedule(amended), decimals)
    if len(desired) != deployed_count:
        raise InputError(
            f"the amended schedule has {len(desired)} periods, the series {deployed_count}: periods can be "
            "amended, not added or removed",
            file=str(path),
        )
    on_chain = [PeriodOnChain.from_agent(agent.periodTerms(i)) for i in range(deployed_count)]
    changes = period_changes(on_chain, desired)
    now = session.now()
    for change in changes:
        state = agent.periodState(change.period)
        number = change.period + 1
        if state.cancelled:
            raise InputError(f"period {number} was cancelled by a call: it cannot be amended", file=str(path))
        if now >= change.old.record_time or now >= change.new.record_time:
            raise InputError(f"period {number}: its record date has passed, its terms are locked", file=str(path))
        buckets = agent.accounts(change.period)
        if int(buckets.funded) or int(buckets.offchainGross):
            raise InputError(f"period {number} is already funded: its terms are locked", file=str(path))
    digest = term_sheet_hash(path)
    hash_updated = bytes(agent.termSheetHash()) != digest
    if dry_run:
        return AmendmentReport(changes, hash_updated)
    for change in changes:
        send_or_propose(session, admin, agent, "amendPeriod", change.period, change.new.as_tuple())
    if hash_updated:
        send_or_propose(session, admin, agent, "setTermSheetHash", digest)
    if session.proposal is not None:
        return AmendmentReport(changes, hash_updated)  # the manifest follows once the Safe has executed the batch
    entry["term_sheet"] = session.manifest.stored_path(path)
    entry["term_sheet_sha256"] = "0x" + digest.hex()
    session.manifest.save()
    return AmendmentReport(changes, hash_updated)


# Fixed fields the token does not show (the chain is compared for the others): checked against the manifest's term
# sheet, the only record of them.
OFF_CHAIN_FIXED_FIELDS: tuple[tuple[str, ...], ...] = tuple(
    path for path in FIXED_FIELDS if path not in {("name",), ("symbol",), ("isin",), ("denomination",), ("issue_size",)}
)


def _not_amendable(amended: TermSheet, difference: TermDifference) -> Issue:
    file, line = amended.locate(*difference.path)
    field = ".".join(difference.path)
    if difference.view in TOKEN_VIEWS:
        message = (
            f"would change the token's {difference.view} ({difference.deployed} -> {difference.wanted}), which is "
            "fixed at deployment; only the schedule can change"
        )
    else:
        message = (
            f"cannot be amended on chain (fixed when the series was deployed: {difference.deployed}); only the "
            "schedule can change"
        )
    return Issue(message, file=file, line=line, field=field)


def _recorded_term_sheet(session: Session, entry: dict[str, Any]) -> TermSheet | None:
    """The manifest's term sheet of a series, if it can still be read."""
    if not entry.get("term_sheet"):
        return None
    try:
        return load_term_sheet(session.manifest.resolve(str(entry["term_sheet"])))
    except (OSError, InputError):
        return None
