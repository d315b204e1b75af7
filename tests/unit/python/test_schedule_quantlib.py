"""Schedules against QuantLib: the same accrual dates and, period by period, the same year fraction.

The reference is QuantLib's `Schedule` built from the term sheet's fields and its day counters, ACT/ACT-ICMA
being `ActualActual(ISMA, schedule)` (notional periods taken from the schedule itself). Our year fractions
stay exact `Fraction`s; only here, in the test, are they turned into floats to be compared with QuantLib's
doubles (within 1e-15).
"""

import calendar as pycal
import copy
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
import QuantLib as ql
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from munibond.schedule import (
    Schedule,
    build_schedule,
    calendar_for,
    from_ql,
    shift_months,
    to_ql,
    year_fraction,
)
from munibond.terms import TermSheet, TermSheetError, term_sheet_from_dict

ROOT = Path(__file__).resolve().parents[3]
BASE = yaml.safe_load((ROOT / "examples" / "kanagawa-resident-2026.yaml").read_text())

TOLERANCE = 1e-15

QL_CONVENTIONS = {
    "following": ql.Following,
    "modified_following": ql.ModifiedFollowing,
    "preceding": ql.Preceding,
    "unadjusted": ql.Unadjusted,
}
QL_DAY_COUNTERS = {
    "ACT/360": ql.Actual360(),
    "ACT/365F": ql.Actual365Fixed(),
    "NL/365": ql.Actual365Fixed(ql.Actual365Fixed.NoLeap),
    "30/360": ql.Thirty360(ql.Thirty360.BondBasis),
    "30E/360": ql.Thirty360(ql.Thirty360.European),
    "ACT/ACT-ISDA": ql.ActualActual(ql.ActualActual.ISDA),
}
DAY_COUNTS = [*QL_DAY_COUNTERS, "ACT/ACT-ICMA"]


def terms(**changes) -> TermSheet:
    """The Kanagawa example, ACT/ACT-ICMA without the Japanese stub rule, with fields replaced
    (`coupon_*` keys go into coupon; None removes the key)."""
    data = copy.deepcopy(BASE)
    data["coupon"].pop("stub_day_count")
    for key, value in changes.items():
        target, name = (data["coupon"], key.removeprefix("coupon_")) if key.startswith("coupon_") else (data, key)
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value
    return term_sheet_from_dict(data)


def ql_schedule(ts: TermSheet) -> ql.Schedule:
    """QuantLib's schedule for the term sheet: backward from maturity, or forward from the first coupon date;
    accrual dates adjusted by the business-day convention only under `accrual: adjusted`."""
    c = ts.coupon
    convention = QL_CONVENTIONS[ts.business_day_convention] if ts.accrual == "adjusted" else ql.Unadjusted
    return ql.Schedule(
        to_ql(ts.issue_date),
        to_ql(ts.maturity_date),
        ql.Period(12 // c.frequency, ql.Months),
        calendar_for(ts.calendar),
        convention,
        convention,
        ql.DateGeneration.Forward if c.first_coupon_date else ql.DateGeneration.Backward,
        c.end_of_month,
        to_ql(c.first_coupon_date) if c.first_coupon_date else ql.Date(),
    )


def assert_agrees_with_quantlib(ts: TermSheet) -> Schedule:
    """Accrual dates, stub flags and every period's year fraction equal QuantLib's; returns our schedule."""
    ours = build_schedule(ts)
    reference = ql_schedule(ts)
    bounds = [ours.periods[0].accrual_start, *(p.accrual_end for p in ours.periods)]
    assert [from_ql(d) for d in reference.dates()] == bounds
    icma = ql.ActualActual(ql.ActualActual.ISMA, reference)
    for period in ours.periods:
        assert period.is_stub == (not reference.isRegular(period.index))
        name = ts.coupon.stub_day_count if period.is_stub and ts.coupon.stub_day_count else ts.coupon.day_count
        counter = icma if name == "ACT/ACT-ICMA" else QL_DAY_COUNTERS[name]
        expected = counter.yearFraction(to_ql(period.accrual_start), to_ql(period.accrual_end))
        assert isinstance(period.year_fraction, Fraction)
        assert abs(float(period.year_fraction) - expected) <= TOLERANCE, (period, expected)
    return ours


# --- ACT/ACT-ICMA, case by case ------------------------------------------------------------------------------


def test_regular_periods():
    # 25 Mar / 25 Sep from 25 Mar 2026: every period regular, exactly 1/2
    s = assert_agrees_with_quantlib(terms(issue_date=date(2026, 3, 25)))
    assert all(not p.is_stub and p.year_fraction == Fraction(1, 2) for p in s.periods)


def test_short_front_stub():
    # 1 Apr -> 25 Sep 2026 = 177 days in the notional period 25 Mar -> 25 Sep 2026 (184 days)
    s = assert_agrees_with_quantlib(terms())
    assert s.periods[0].is_stub
    assert s.periods[0].year_fraction == Fraction(177, 2 * 184)


def test_long_front_stub():
    # 1 Apr 2026 -> 25 Mar 2027: 177 days of the notional 25 Mar -> 25 Sep 2026 (184 days), then the whole
    # notional period 25 Sep 2026 -> 25 Mar 2027 (1/2)
    s = assert_agrees_with_quantlib(terms(coupon_first_coupon_date=date(2027, 3, 25)))
    assert (s.periods[0].accrual_start, s.periods[0].accrual_end) == (date(2026, 4, 1), date(2027, 3, 25))
    assert s.periods[0].year_fraction == Fraction(177, 2 * 184) + Fraction(1, 2)


def test_short_back_stub():
    # maturity Fri 24 Jan 2031 is off the 25 Mar / 25 Sep grid: 25 Sep 2030 -> 24 Jan 2031 = 121 days of the
    # notional period 25 Sep 2030 -> 25 Mar 2031 (181 days)
    s = assert_agrees_with_quantlib(terms(issue_date=date(2026, 3, 25), maturity_date=date(2031, 1, 24)))
    last = s.periods[-1]
    assert last.is_stub and (last.accrual_start, last.accrual_end) == (date(2030, 9, 25), date(2031, 1, 24))
    assert last.year_fraction == Fraction(121, 2 * 181)


@pytest.mark.parametrize("accrual", ["unadjusted", "adjusted"])
def test_end_of_month(accrual):
    # coupons on the last day of February and August (maturity Fri 28 Feb 2031, end_of_month), 1 Apr 2026 issue
    s = assert_agrees_with_quantlib(
        terms(maturity_date=date(2031, 2, 28), coupon_first_coupon_date=None, coupon_end_of_month=True, accrual=accrual)
    )
    assert [p.accrual_end for p in s.periods[:4]] == (
        [date(2026, 8, 31), date(2027, 2, 28), date(2027, 8, 31), date(2028, 2, 29)]
        if accrual == "unadjusted"
        # Sun 28 Feb 2027 is paid (and, adjusted, accrues) to Fri 26 Feb under `preceding`
        else [date(2026, 8, 31), date(2027, 2, 26), date(2027, 8, 31), date(2028, 2, 29)]
    )
    first = s.periods[0]
    assert first.is_stub and (first.accrual_end - first.accrual_start).days == 152
    if accrual == "unadjusted":
        # notional period 28 Feb -> 31 Aug 2026: 184 days
        assert first.year_fraction == Fraction(152, 2 * 184)
    else:
        # notional period stepped back from Mon 31 Aug 2026, the last business day of August, to the last
        # business day of February 2026: Fri 27 Feb (28 Feb is a Saturday) -> 185 days
        assert first.year_fraction == Fraction(152, 2 * 185)


def test_adjusted_and_unadjusted_accrual_differ_and_both_agree():
    # 3 May / 3 November coupons, both Japanese holidays (Constitution Day, Culture Day), paid on the previous
    # business day; issue Tue 1 Dec 2026, so the first period is a short stub to 3 May 2027 (paid Fri 30 Apr)
    kwargs = dict(
        issue_date=date(2026, 12, 1),
        maturity_date=date(2031, 11, 3),
        coupon_first_coupon_date=None,
        business_day_convention="preceding",
    )
    unadjusted = assert_agrees_with_quantlib(terms(**kwargs, accrual="unadjusted"))
    adjusted = assert_agrees_with_quantlib(terms(**kwargs, accrual="adjusted"))
    # unadjusted: 1 Dec 2026 -> 3 May 2027 = 153 days of 3 Nov 2026 -> 3 May 2027 (181 days)
    assert unadjusted.periods[0].accrual_end == date(2027, 5, 3)
    assert unadjusted.periods[0].year_fraction == Fraction(153, 2 * 181)
    # adjusted: 1 Dec 2026 -> Fri 30 Apr 2027 = 150 days; the notional period steps back six months from
    # 30 Apr 2027 (30 Oct 2026, a Friday): 182 days
    assert adjusted.periods[0].accrual_end == date(2027, 4, 30)
    assert adjusted.periods[0].year_fraction == Fraction(150, 2 * 182)
    # regular periods are 1/2 either way, whatever their adjusted length
    assert {p.year_fraction for p in adjusted.periods[1:]} == {Fraction(1, 2)}
    assert [p.payment_date for p in adjusted.periods] == [p.payment_date for p in unadjusted.periods]


def test_holiday_on_a_period_end_japanese_calendar():
    # The Kanagawa bond with adjusted accrual: 25 Sep 2027 is a Saturday (paid Fri 24th; Thu 23rd is the
    # equinox) and 25 Mar 2029 a Sunday (paid Fri 23rd); the first stub ends on a business day (Fri 25 Sep
    # 2026), its notional period 25 Mar -> 25 Sep 2026 (Wed) is 184 days
    s = assert_agrees_with_quantlib(terms(accrual="adjusted"))
    p = s.periods
    assert p[0].year_fraction == Fraction(177, 2 * 184)
    assert (p[2].accrual_start, p[2].accrual_end) == (date(2027, 3, 25), date(2027, 9, 24))
    assert (p[5].accrual_start, p[5].accrual_end) == (date(2028, 9, 25), date(2029, 3, 23))
    assert p[2].year_fraction == p[5].year_fraction == Fraction(1, 2)


def test_stub_ending_on_a_holiday_japanese_calendar():
    # first coupon Mon 3 May 2027 (Constitution Day) paid on Fri 30 Apr (29 Apr, Showa Day, is a holiday too)
    ts = terms(
        issue_date=date(2027, 1, 12),
        maturity_date=date(2030, 11, 3),
        coupon_first_coupon_date=date(2027, 5, 3),
        coupon_frequency=2,
        accrual="adjusted",
    )
    s = assert_agrees_with_quantlib(ts)
    # 12 Jan -> 30 Apr 2027 = 108 days; notional period 30 Oct 2026 (Fri) -> 30 Apr 2027 = 182 days
    assert (s.periods[0].accrual_end - s.periods[0].accrual_start).days == 108
    assert s.periods[0].year_fraction == Fraction(108, 2 * 182)


def test_review_example_adjusted_first_period():
    # The outside review's case: annual coupons on 3 May, Zurich calendar, following, adjusted accrual, issue
    # Fri 11 Apr 2025. The first coupon date Sat 3 May 2025 is paid (and accrues to) Mon 5 May: 24 days.
    ts = terms(
        issue_date=date(2025, 4, 11),
        maturity_date=date(2030, 5, 3),
        coupon_frequency=1,
        coupon_first_coupon_date=None,
        calendar="CH",
        business_day_convention="following",
        accrual="adjusted",
        timezone="Europe/Zurich",
    )
    s = assert_agrees_with_quantlib(ts)
    first = s.periods[0]
    assert (first.accrual_start, first.accrual_end) == (date(2025, 4, 11), date(2025, 5, 5))
    # Before the fix the 24 days were cut at the unadjusted 3 May: 22/365. The notional period now steps one
    # year back from Mon 5 May 2025 to Sun 5 May 2024, moved to Mon 6 May 2024: 6 May 2024 -> 5 May 2025 is
    # 364 days, so 24/364 = 6/91.
    assert first.year_fraction == Fraction(24, 364) == Fraction(6, 91)
    assert first.coupon_per_unit == 10000 * Fraction(85, 10000) * Fraction(6, 91)


def test_unadjusted_stub_keeps_the_coupon_grid_where_quantlib_steps_from_a_clamped_date():
    # Deliberate difference. Coupons on the 29th from 29 Aug 2024 (28 February in common years), unadjusted
    # accrual, maturity 30 May 2026 off the grid: the final stub runs 28 Feb -> 30 May 2026 (91 days). Its
    # notional period ends on the bond's next coupon date, 29 Aug 2026 (182 days): 91/364. QuantLib steps six
    # months from the clamped 28 Feb and ends the notional period on 28 Aug (181 days): 91/362.
    ts = terms(
        issue_date=date(2024, 3, 1),
        maturity_date=date(2026, 5, 30),
        coupon_first_coupon_date=date(2024, 8, 29),
        calendar="NONE",
    )
    last = build_schedule(ts).periods[-1]
    assert (last.accrual_start, last.accrual_end) == (date(2026, 2, 28), date(2026, 5, 30))
    assert last.year_fraction == Fraction(91, 2 * 182)
    quantlib = ql.ActualActual(ql.ActualActual.ISMA, ql_schedule(ts)).yearFraction(
        to_ql(last.accrual_start), to_ql(last.accrual_end)
    )
    assert quantlib == pytest.approx(91 / (2 * 181), abs=TOLERANCE)


# --- the other day counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 2, 1), date(2024, 3, 1)),
        (date(2023, 12, 31), date(2025, 1, 1)),
        (date(2024, 2, 29), date(2024, 8, 31)),
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2026, 8, 30), date(2027, 3, 31)),
        (date(2027, 9, 24), date(2028, 3, 23)),
        (date(2031, 12, 31), date(2032, 6, 30)),
    ],
)
@pytest.mark.parametrize("day_count", list(QL_DAY_COUNTERS))
def test_year_fraction_matches_quantlib(day_count, start, end):
    ours = year_fraction(day_count, start, end)
    assert isinstance(ours, Fraction)
    assert abs(float(ours) - QL_DAY_COUNTERS[day_count].yearFraction(to_ql(start), to_ql(end))) <= TOLERANCE


@pytest.mark.parametrize("accrual", ["unadjusted", "adjusted"])
@pytest.mark.parametrize("day_count", list(QL_DAY_COUNTERS))
def test_schedule_day_counts_match_quantlib(day_count, accrual):
    # month-end coupons (31 Aug / 28-29 Feb) over a leap year, a short first period and modified following
    assert_agrees_with_quantlib(
        terms(
            issue_date=date(2027, 5, 14),
            maturity_date=date(2031, 8, 29),
            coupon_first_coupon_date=date(2027, 8, 31),
            coupon_day_count=day_count,
            coupon_end_of_month=True,
            calendar="TARGET",
            business_day_convention="modified_following",
            accrual=accrual,
            timezone="Europe/Zurich",
        )
    )


# --- generated bonds ---------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    issue=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    years=st.integers(1, 8),
    extra_days=st.integers(-150, 150),
    first_coupon_after=st.none() | st.integers(5, 500),
    frequency=st.sampled_from([1, 2, 4, 12]),
    day_count=st.sampled_from(DAY_COUNTS),
    calendar=st.sampled_from(["JP", "CH", "US", "TARGET", "NONE"]),
    convention=st.sampled_from(["following", "modified_following", "preceding", "unadjusted"]),
    eom=st.booleans(),
    accrual=st.sampled_from(["unadjusted", "adjusted"]),
)
def test_generated_schedules_match_quantlib(
    issue, years, extra_days, first_coupon_after, frequency, day_count, calendar, convention, eom, accrual
):
    maturity = shift_months(issue, 12 * years) + timedelta(days=extra_days)
    first_coupon = None if first_coupon_after is None else issue + timedelta(days=first_coupon_after)
    assume(maturity > issue + timedelta(days=40) and (first_coupon is None or first_coupon < maturity))
    anchor = first_coupon or maturity
    qcal = calendar_for(calendar)
    # Where munibond and QuantLib differ on purpose (or QuantLib cannot answer), the case is left out:
    # - an issue date on a holiday: QuantLib's adjusted schedule moves it; munibond accrues from the issue date;
    assume(accrual == "unadjusted" or qcal.isBusinessDay(to_ql(issue)))
    # - end of month: QuantLib's rule applies from the last business day of a month, munibond's from its last day;
    month_end = anchor.day == pycal.monthrange(anchor.year, anchor.month)[1]
    assume(not eom or qcal.isEndOfMonth(to_ql(anchor)) == month_end)
    # - unadjusted stubs next to a coupon date clamped to a shorter month (anchor day 29-31): munibond keeps
    #   the coupon grid, QuantLib steps from the clamped date (see the test above);
    assume(accrual == "adjusted" or day_count != "ACT/ACT-ICMA" or anchor.day <= 28)
    ts = terms(
        issue_date=issue,
        maturity_date=maturity,
        coupon_first_coupon_date=first_coupon,
        coupon_frequency=frequency,
        coupon_day_count=day_count,
        coupon_end_of_month=eom,
        calendar=calendar,
        business_day_convention=convention,
        accrual=accrual,
    )
    try:
        periods = build_schedule(ts).periods
    except TermSheetError:
        return  # periods collapsing onto one payment date, or a record date before issue: refused
    if day_count == "ACT/ACT-ICMA" and periods[0].is_stub:
        # QuantLib's ISMA counter steps back from the first coupon date (its criterion, on its own schedule)
        reference = ql_schedule(ts)
        dates = reference.dates()
        notional = [dates[1]]
        for _ in range(2):
            notional.append(qcal.advance(notional[-1], -reference.tenor(), reference.businessDayConvention(), eom))
        # - a bond of one irregular period: QuantLib's ISMA counter takes it as both first and last stub and
        #   replaces the maturity by issue + one period;
        assume(len(periods) > 1)
        # - a long front stub together with a final stub: QuantLib inserts the earlier notional date at the
        #   front, then overwrites the wrong element for the final stub (its index is off by one);
        assume(not (notional[1] > dates[0] and periods[-1].is_stub))
        # - a front stub longer than two coupon periods: QuantLib refuses it ("Dates out of range").
        assume(notional[2] <= dates[0])
    assert_agrees_with_quantlib(ts)
