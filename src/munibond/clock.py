"""Local calendar days as Unix times in an issuer's time zone (zoneinfo; DST-aware)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. "Asia/Tokyo"); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: expected an IANA name like 'Asia/Tokyo'") from exc


def day_start(day: date, tz: str | ZoneInfo) -> int:
    """Unix time of 00:00:00 local time on `day` (the first second of that day)."""
    zi = zone(tz) if isinstance(tz, str) else tz
    return int(datetime.combine(day, time(0, 0), tzinfo=zi).timestamp())


def day_end(day: date, tz: str | ZoneInfo) -> int:
    """Unix time of the last second of `day` locally: the next local midnight minus one second.

    A block whose timestamp is ≤ this value is on or before `day` in that zone.
    """
    return day_start(day + timedelta(days=1), tz) - 1


def local_date(unix: int, tz: str | ZoneInfo) -> date:
    """The calendar day in `tz` that contains the Unix time `unix`."""
    zi = zone(tz) if isinstance(tz, str) else tz
    return datetime.fromtimestamp(unix, zi).date()


def to_unix(moment: datetime, tz: str | ZoneInfo) -> int:
    """Unix time of `moment`; a naive datetime is read as local time in `tz`. Sub-second parts must be 0."""
    if moment.microsecond:
        raise ValueError(f"{moment.isoformat()} has sub-second precision; chain times are whole seconds")
    zi = zone(tz) if isinstance(tz, str) else tz
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zi)
    return int(aware.timestamp())
