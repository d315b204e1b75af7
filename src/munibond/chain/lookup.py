"""Finding a deployed series and the shared contracts from the session's deployment manifest."""

from __future__ import annotations

from typing import Any

from munibond.chain.session import Session
from munibond.errors import InputError


def require_manifest_file(session: Session) -> None:
    """A command that reads what was deployed needs the manifest file to exist (a mistyped `--manifest`)."""
    if not session.manifest.path.exists():
        raise InputError(
            "the deployment manifest file does not exist (run `munibond deploy` first, or check --manifest)",
            file=str(session.manifest.path),
        )


def series_entry(session: Session, symbol: str) -> dict[str, Any]:
    require_manifest_file(session)
    entry = session.manifest.series.get(symbol)
    if entry is None:
        known = ", ".join(sorted(session.manifest.series)) or "none"
        raise InputError(
            f"no series {symbol!r} in the deployment manifest (deployed: {known})",
            file=str(session.manifest.path),
            field="series",
        )
    return entry


def check_period(agent: Any, period: int) -> None:
    """`period` (1-based, as the commands take it) must be one of the agent's periods."""
    count = int(agent.periodCount())
    if not 1 <= period <= count:
        raise InputError(f"period must be between 1 and {count}, got {period}", field="period")


def terms_after_record(session: Session, agent: Any, period: int) -> Any:
    """The terms of `period` (1-based), which must exist, be live (not cancelled by a call) and be past its
    record date: what every step that reads the record-date holdings of a period needs."""
    check_period(agent, period)
    if agent.periodState(period - 1).cancelled:
        raise InputError(f"period {period} was cancelled (by a call)", field="period")
    terms = agent.periodTerms(period - 1)
    if int(terms.recordTime) >= session.now():
        raise InputError(f"the record date of period {period} has not passed yet", field="period")
    return terms


def investor_registry(session: Session) -> Any:
    """The shared InvestorRegistry of the manifest."""
    require_manifest_file(session)
    record = session.manifest.contracts.get("InvestorRegistry")
    if record is None:
        raise InputError(
            "no InvestorRegistry in the deployment manifest: run `munibond deploy` first",
            file=str(session.manifest.path),
        )
    return session.project.InvestorRegistry.at(record.address)
