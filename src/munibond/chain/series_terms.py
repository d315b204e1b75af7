"""What a deployed series' manifest entry says beyond the chain: its term sheet, the issuer's time zone, and the
currency (ISO code and minor units).

The chain holds amounts and Unix times; the zone the issuer's dates are meant in and the currency's ISO code
are in the manifest (`series[SYMBOL]["currency"]`, when the deployment recorded it) or in the term sheet it
references.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from munibond.chain.lookup import series_entry
from munibond.chain.session import Session
from munibond.errors import InputError
from munibond.terms import TermSheet, load_term_sheet

UTC = "UTC"


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217, e.g. "JPY"
    minor_units: int  # ISO 4217 exponent, e.g. 0 for JPY, 2 for CHF


def term_sheet_path(session: Session, entry: dict[str, Any]) -> Path | None:
    """The term sheet the manifest entry references (resolved as the manifest stores it), or None when it is
    not there."""
    recorded = entry.get("term_sheet")
    if not recorded:
        return None
    path = session.manifest.resolve(recorded)
    return path if path.is_file() else None


def series_term_sheet(session: Session, symbol: str) -> TermSheet:
    """The term sheet of `symbol` as the manifest references it; a one-line error when it is missing."""
    entry = series_entry(session, symbol)
    path = term_sheet_path(session, entry)
    if path is None:
        raise InputError(
            f"the term sheet of {symbol} ({entry.get('term_sheet')}) is not there",
            file=str(session.manifest.path),
            field=f"series.{symbol}.term_sheet",
        )
    return load_term_sheet(path)


def issuer_zone(session: Session, symbol: str) -> str:
    """The issuer's time zone of `symbol` (term sheet `timezone`), in which every date is printed; UTC (and
    said so next to each date) only when the term sheet cannot be found."""
    entry = series_entry(session, symbol)
    if entry.get("timezone"):
        return str(entry["timezone"])
    path = term_sheet_path(session, entry)
    return load_term_sheet(path).timezone if path is not None else UTC


def series_currency(session: Session, symbol: str) -> Currency:
    """The currency of `symbol`: the manifest's `currency` record when present, else the term sheet's."""
    recorded = series_entry(session, symbol).get("currency")
    if isinstance(recorded, dict) and "code" in recorded and "minor_units" in recorded:
        return Currency(str(recorded["code"]), int(recorded["minor_units"]))
    terms = series_term_sheet(session, symbol)
    return Currency(terms.currency, terms.minor_units)
