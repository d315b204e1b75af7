"""Finding a deployed series and the shared contracts from the session's deployment manifest."""

from __future__ import annotations

from typing import Any

from munibond.chain.session import Session
from munibond.errors import InputError


def series_entry(session: Session, symbol: str) -> dict[str, Any]:
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


def investor_registry(session: Session) -> Any:
    """The shared InvestorRegistry of the manifest."""
    record = session.manifest.contracts.get("InvestorRegistry")
    if record is None:
        raise InputError(
            "no InvestorRegistry in the deployment manifest: run `munibond deploy` first",
            file=str(session.manifest.path),
        )
    return session.project.InvestorRegistry.at(record.address)
