"""Reading an input CSV with a fixed header: every row with its 1-based line, or an InputError naming the file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from munibond.errors import InputError, Issue
from munibond.investors import ALIAS_PREFIX, csv_rows, parse_wallet


@dataclass(frozen=True)
class WalletRow:
    """A CSV row about one wallet, with the line it came from."""

    line: int
    wallet: str  # checksummed address, or "alias:NAME" until resolved

    @property
    def alias(self) -> str | None:
        return self.wallet[len(ALIAS_PREFIX) :] if self.wallet.startswith(ALIAS_PREFIX) else None


def read_table(path: str | Path, columns: tuple[str, ...]) -> tuple[list[tuple[int, list[str]]], list[Issue]]:
    """The data rows of `path` (header `columns`), cells stripped, blank lines skipped.

    Raises InputError when the file cannot be read, is empty or has another header; rows with the wrong
    number of fields are left out and returned as issues, so a caller can report them with its own.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    rows = list(csv_rows(csv.reader(io.StringIO(text, newline=""))))
    if not rows:
        raise InputError(f"the file is empty (expected the header {','.join(columns)})", file=file, line=1)
    header = tuple(cell.strip() for cell in rows[0][1])
    if header != columns:
        raise InputError(f"header must be {','.join(columns)}, got {','.join(header)}", file=file, line=1)
    good: list[tuple[int, list[str]]] = []
    issues: list[Issue] = []
    for line, cells in rows[1:]:
        if len(cells) != len(columns):
            issues.append(Issue(f"expected {len(columns)} fields, found {len(cells)}", file, line, "(row)"))
        else:
            good.append((line, [cell.strip() for cell in cells]))
    return good, issues


def unique_wallet(text: str, seen: dict[str, int], file: str, line: int, issues: list[Issue]) -> str | None:
    """The wallet cell of a row (an address or alias:NAME) when valid and not on an earlier line (`seen`:
    lower-cased wallet -> line); otherwise None, with the problem added to `issues`."""
    try:
        wallet = parse_wallet(text)
    except ValueError as exc:
        issues.append(Issue(str(exc), file, line, "wallet"))
        return None
    if wallet.lower() in seen:
        issues.append(Issue(f"duplicate wallet (already on line {seen[wallet.lower()]})", file, line, "wallet"))
        return None
    seen[wallet.lower()] = line
    return wallet
