"""Demo term sheets moved into the future by whole years, so that an example deploys on any day.

A term sheet cannot be deployed once its first record date has passed. The examples carry fixed dates; moving
every date of the file by the same whole number of years keeps the bond's shape (period lengths, stub, record
date rule) and its calendars right: the schedule is rebuilt from the moved unadjusted dates, so each payment
date is rolled by the holidays of its new year. 29 February becomes 28 February in a common year.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from munibond.clock import day_start

SHIFTED_SUFFIX = ".shifted-"


def _shift_year(value: Any, years: int) -> Any:
    """`value` (a date or datetime) moved by whole years; 29 February becomes 28 February."""
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February in a common year
        return value.replace(year=value.year + years, day=28)


def shift_dates(node: Any, years: int) -> Any:
    """Every date and datetime in a parsed YAML tree moved by whole years."""
    if isinstance(node, dict):
        return {key: shift_dates(value, years) for key, value in node.items()}
    if isinstance(node, list):
        return [shift_dates(value, years) for value in node]
    if isinstance(node, dt.date):
        return _shift_year(node, years)
    return node


def years_to_start_after(issue_date: dt.date, now: int, tz: str = "UTC") -> int:
    """Whole years to add to `issue_date` so that it begins (00:00 in `tz`) after the Unix time `now`."""
    years = 0
    while day_start(_shift_year(issue_date, years), tz) <= now:
        years += 1
    return years


def shifted_path(path: Path, folder: Path, issue_year: int) -> Path:
    """Where the moved copy of `path` is written: `FOLDER/<name>.shifted-<issue year>.yaml`."""
    return folder / f"{path.stem}{SHIFTED_SUFFIX}{issue_year}.yaml"


def is_shifted_copy_of(candidate: Path, original: Path) -> bool:
    return candidate.name.startswith(f"{original.stem}{SHIFTED_SUFFIX}") and candidate.suffix == ".yaml"


def years_needed(path: Path, now: int) -> int:
    """The fewest whole years that put the issue date of the term sheet `path` after `now` (in its zone)."""
    raw = yaml.safe_load(path.read_text())
    return years_to_start_after(raw["issue_date"], now, str(raw.get("timezone") or "UTC"))


def write_shifted(path: Path, years: int, folder: Path) -> Path:
    """The term sheet `path` with every date moved `years` later, written to `folder` headed by a comment
    saying so (`path` itself when `years` is 0): the file to deploy."""
    if years == 0:
        return path
    shifted = shift_dates(yaml.safe_load(path.read_text()), years)
    target = shifted_path(path, folder, shifted["issue_date"].year)
    folder.mkdir(parents=True, exist_ok=True)
    header = f"# {path.name} with every date moved {years} year(s) later by `munibond deploy --shift-dates`.\n"
    target.write_text(header + yaml.safe_dump(shifted, sort_keys=False, allow_unicode=True))
    return target
