"""Local days as Unix times in the issuer's zone, and back."""

import datetime as dt

from munibond.clock import calendar_years_after, day_end, day_start, local_date, show_time, to_unix


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


# How commands print chain times: in the issuer's zone, never UTC (a payment at 00:00 in Tokyo is 15:00 UTC the
# day before, so a UTC date would show the previous day).
TOKYO_PAYMENT = day_start(dt.date(2026, 9, 25), "Asia/Tokyo")


def test_show_time_prints_the_issuers_day_not_the_utc_one():
    assert dt.datetime.fromtimestamp(TOKYO_PAYMENT, dt.UTC).date() == dt.date(2026, 9, 24)
    assert show_time(TOKYO_PAYMENT, "Asia/Tokyo") == "2026-09-25 (Asia/Tokyo)"
    assert show_time(TOKYO_PAYMENT, "Asia/Tokyo", with_clock=True) == "2026-09-25 00:00 Asia/Tokyo"
    assert show_time(TOKYO_PAYMENT, "Asia/Tokyo", with_zone=False) == "2026-09-25"
    assert show_time(TOKYO_PAYMENT, "UTC", with_clock=True) == "2026-09-24 15:00 UTC"


def test_calendar_years_after_counts_leap_days():
    five = calendar_years_after(TOKYO_PAYMENT, 5, "Asia/Tokyo")
    assert five == day_start(dt.date(2031, 9, 25), "Asia/Tokyo")
    assert five - TOKYO_PAYMENT == 1826 * 86400  # 29 February 2028 lies between: one day more than 5 x 365
    across_two = day_start(dt.date(2027, 3, 25), "Asia/Tokyo")
    assert calendar_years_after(across_two, 5, "Asia/Tokyo") - across_two == 1827 * 86400  # 2028 and 2032
    leap_day = day_start(dt.date(2028, 2, 29), "Asia/Tokyo")
    assert calendar_years_after(leap_day, 1, "Asia/Tokyo") == day_start(dt.date(2029, 2, 28), "Asia/Tokyo")


def test_calendar_years_after_keeps_the_local_clock_across_daylight_saving():
    winter = to_unix(dt.datetime(2026, 1, 15, 9, 30), "Europe/Zurich")
    later = calendar_years_after(winter, 5, "Europe/Zurich")
    assert show_time(later, "Europe/Zurich", with_clock=True) == "2031-01-15 09:30 Europe/Zurich"
    summer = to_unix(dt.datetime(2026, 7, 1, 0, 0), "Europe/Zurich")
    assert show_time(calendar_years_after(summer, 5, "Europe/Zurich"), "Europe/Zurich", with_clock=True) == (
        "2031-07-01 00:00 Europe/Zurich"
    )
