"""Primary allocation CSV (`wallet,units`): who receives how many units at issuance.

Validated whole before anything is sent: a bad row raises an InputError naming file, line and field.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from munibond.errors import InputError, Issue
from munibond.investors import ALIAS_PREFIX, csv_rows, parse_wallet

COLUMNS = ("wallet", "units")


@dataclass(frozen=True)
class Allocation:
    line: int
    wallet: str  # checksummed address, or "alias:NAME" until resolved
    units: int

    @property
    def alias(self) -> str | None:
        return self.wallet[len(ALIAS_PREFIX) :] if self.wallet.startswith(ALIAS_PREFIX) else None


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
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    rows = list(csv_rows(csv.reader(io.StringIO(text, newline=""))))
    if not rows:
        raise InputError("the file is empty (expected the header wallet,units)", file=file, line=1)
    header = tuple(cell.strip() for cell in rows[0][1])
    if header != COLUMNS:
        raise InputError(f"header must be {','.join(COLUMNS)}, got {','.join(header)}", file=file, line=1)
    issues: list[Issue] = []
    result: list[Allocation] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(COLUMNS):
            issues.append(Issue(f"expected {len(COLUMNS)} fields, found {len(cells)}", file, line, "(row)"))
            continue
        wallet_text, units_text = (c.strip() for c in cells)
        try:
            wallet = parse_wallet(wallet_text)
        except ValueError as exc:
            issues.append(Issue(str(exc), file, line, "wallet"))
            continue
        try:
            units = _units(units_text)
        except ValueError as exc:
            issues.append(Issue(str(exc), file, line, "units"))
            continue
        if wallet.lower() in seen:
            issues.append(Issue(f"duplicate wallet (already on line {seen[wallet.lower()]})", file, line, "wallet"))
            continue
        seen[wallet.lower()] = line
        result.append(Allocation(line, wallet, units))
    if not issues and total_units is not None:
        allocated = sum(a.units for a in result)
        if allocated > total_units:
            issues.append(Issue(f"allocates {allocated} units, the issue size is {total_units}", file, None, "units"))
    if issues:
        raise InputError.from_issues(issues)
    return result
