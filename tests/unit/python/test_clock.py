"""Local days as Unix times in the issuer's zone, and back."""

import datetime as dt

from munibond.clock import day_end, day_start, local_date


def test_a_tokyo_day_runs_from_local_midnight_to_the_last_second_before_the_next():
    start = day_start(dt.date(2027, 3, 25), "Asia/Tokyo")
    assert start == int(dt.datetime(2027, 3, 24, 15, 0, tzinfo=dt.UTC).timestamp())
    assert day_end(dt.date(2027, 3, 25), "Asia/Tokyo") == start + 86_400 - 1


def test_local_date_is_the_issuers_calendar_day_not_the_utc_one():
    start = day_start(dt.date(2027, 3, 25), "Asia/Tokyo")
    assert local_date(start, "Asia/Tokyo") == dt.date(2027, 3, 25)
    assert local_date(start - 1, "Asia/Tokyo") == dt.date(2027, 3, 24)
    assert local_date(start, "UTC") == dt.date(2027, 3, 24)


def test_a_zurich_day_with_the_spring_dst_change_has_23_hours():
    day = dt.date(2027, 3, 28)
    assert day_end(day, "Europe/Zurich") - day_start(day, "Europe/Zurich") + 1 == 23 * 3600
    assert local_date(day_end(day, "Europe/Zurich"), "Europe/Zurich") == day
