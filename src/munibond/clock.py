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


def show_time(unix: int, tz: str | ZoneInfo, *, with_clock: bool = False, with_zone: bool = True) -> str:
    """How every command prints a chain time: the calendar day in the issuer's zone `tz` (`2026-09-25`), with
    `with_clock` also its local time (`2026-09-25 00:00`), and with `with_zone` the zone's name after it
    (`2026-09-25 (Asia/Tokyo)`, `2026-09-25 00:00 Asia/Tokyo`). Never UTC unless the issuer's zone is UTC."""
    zi = zone(tz) if isinstance(tz, str) else tz
    moment = datetime.fromtimestamp(unix, zi)
    text = f"{moment:%Y-%m-%d %H:%M}" if with_clock else moment.date().isoformat()
    if not with_zone:
        return text
    return f"{text} {zi.key}" if with_clock else f"{text} ({zi.key})"


def calendar_years_after(unix: int, years: int, tz: str | ZoneInfo) -> int:
    """Unix time of the same local wall-clock time `years` calendar years after `unix` in `tz` (a 29 February
    moves to 28 February): five years after 2026-09-25 00:00 in Tokyo is 2031-09-25 00:00 in Tokyo, however
    many leap days lie between."""
    zi = zone(tz) if isinstance(tz, str) else tz
    moment = datetime.fromtimestamp(unix, zi).replace(tzinfo=None)
    try:
        later = moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a common year
        later = moment.replace(year=moment.year + years, day=28)
    return to_unix(later, zi)
