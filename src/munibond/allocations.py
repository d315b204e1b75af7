"""Primary allocation CSV (`wallet,units`): who receives how many units at issuance.

Validated whole before anything is sent: a bad row raises an InputError naming file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from munibond.csvinput import WalletRow, read_table, unique_wallet
from munibond.errors import InputError, Issue

COLUMNS = ("wallet", "units")


@dataclass(frozen=True)
class Allocation(WalletRow):
    units: int


def _units(value: str) -> int:
    if not value.isdigit():
        raise ValueError(f"must be a whole number of units, got {value!r}")
    units = int(value)
    if units <= 0:
        raise ValueError("must be at least 1")
    return units


def parse_allocations(path: str | Path, *, total_units: int | None = None) -> list[Allocation]:
    """All rows of an allocation file, or one InputError listing every problem."""
    file = str(path)
    rows, issues = read_table(path, COLUMNS)
    result: list[Allocation] = []
    seen: dict[str, int] = {}
    for line, (wallet_text, units_text) in rows:
        try:
            units = _units(units_text)
        except ValueError as exc:
            issues.append(Issue(str(exc), file, line, "units"))
            continue
        wallet = unique_wallet(wallet_text, seen, file, line, issues)
        if wallet is not None:
            result.append(Allocation(line, wallet, units))
    if not issues and total_units is not None:
        allocated = sum(a.units for a in result)
        if allocated > total_units:
            issues.append(Issue(f"allocates {allocated} units, the issue size is {total_units}", file, None, "units"))
    if issues:
        raise InputError.from_issues(sorted(issues, key=lambda issue: issue.line or 0))
    return result
