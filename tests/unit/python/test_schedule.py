"""Schedules: exact day counts against published examples, stub shapes, calendars, record dates, amounts."""

import calendar as pycal
import copy
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from munibond.call import call_terms
from munibond.chain.series import periods_on_chain
from munibond.errors import AmountError
from munibond.money import gross_entitlement, truncate_decimals
from munibond.schedule import (
    adjust,
    build_schedule,
    business_days_before,
    day_count_days,
    shift_months,
    year_fraction,
)
from munibond.terms import TermSheetError, load_term_sheet, term_sheet_from_dict

ROOT = Path(__file__).resolve().parents[3]
KANAGAWA = ROOT / "examples" / "kanagawa-resident-2026.yaml"
BASE = yaml.safe_load(KANAGAWA.read_text())


def terms(**changes):
    """The Kanagawa example with top-level keys replaced and `coupon_*` keys merged into coupon."""
    data = copy.deepcopy(BASE)
    coupon = data["coupon"]
    for key, value in changes.items():
        if key.startswith("coupon_"):
            name = key.removeprefix("coupon_")
            if value is None:
                coupon.pop(name, None)
            else:
                coupon[name] = value
        else:
            data[key] = value
    return term_sheet_from_dict(data)


# --- independent reference day counts (written from the ISDA 2006 definitions, not from the library) -----


def ref_30_360(d1: date, d2: date) -> int:
    """ISDA 2006 §4.16(f) 30/360 (Bond Basis)."""
    a, b = d1.day, d2.day
    if a == 31:
        a = 30
    if b == 31 and a >= 30:
        b = 30
    return 360 * (d2.year - d1.year) + 30 * (d2.month - d1.month) + (b - a)


def ref_30e_360(d1: date, d2: date) -> int:
    """ISDA 2006 §4.16(g) 30E/360 (Eurobond Basis)."""
    a, b = min(d1.day, 30), min(d2.day, 30)
    return 360 * (d2.year - d1.year) + 30 * (d2.month - d1.month) + (b - a)


def ref_nl_days(d1: date, d2: date) -> int:
    """NL/365 days: actual days, less each 29 February in (d1, d2] (start excluded, end included), as in
    OpenGamma Strata's NL_365 definition."""
    days = (d2 - d1).days
    for year in range(d1.year, d2.year + 1):
        if pycal.isleap(year) and d1 < date(year, 2, 29) <= d2:
            days -= 1
    return days


def test_act_act_isda_published_example():
    # ISDA, "EMU and market conventions: recent developments" (1998), regular period example:
    # 1 Nov 2003 - 1 May 2004: ACT/ACT (ISDA) = 61/365 + 121/366 = 0.49772438...
    assert year_fraction("ACT/ACT-ISDA", date(2003, 11, 1), date(2004, 5, 1)) == Fraction(61, 365) + Fraction(121, 366)
    # same paper, long first period 15 Aug 2002 - 15 Jul 2003: 334/365 (no leap year touched)
    assert year_fraction("ACT/ACT-ISDA", date(2002, 8, 15), date(2003, 7, 15)) == Fraction(334, 365)
    # and 15 Jul 2003 - 15 Jan 2004: 170/365 + 14/366 = 0.50400479...
    assert year_fraction("ACT/ACT-ISDA", date(2003, 7, 15), date(2004, 1, 15)) == Fraction(170, 365) + Fraction(14, 366)


@pytest.mark.parametrize(
    ("d1", "d2", "bond_basis", "eurobond"),
    [
        # hand-worked from the ISDA 2006 formulas: 360ΔY + 30ΔM + ΔD after the day adjustments
        (date(2007, 2, 28), date(2007, 3, 31), 33, 32),  # D2=31 kept under bond basis since D1 < 30
        (date(2007, 1, 31), date(2007, 2, 28), 28, 28),  # D1 31 -> 30; 30 + (28 - 30)
        (date(2006, 8, 31), date(2007, 2, 28), 178, 178),
        (date(2008, 2, 29), date(2008, 8, 31), 182, 181),
        (date(2006, 8, 30), date(2007, 3, 31), 210, 210),  # D1 = 30, so D2 31 -> 30 under both
        (date(2007, 3, 31), date(2007, 9, 30), 180, 180),
        (date(2007, 12, 31), date(2008, 6, 30), 180, 180),
    ],
)
def test_thirty_360_examples(d1, d2, bond_basis, eurobond):
    assert day_count_days("30/360", d1, d2) == bond_basis
    assert day_count_days("30E/360", d1, d2) == eurobond
    assert year_fraction("30/360", d1, d2) == Fraction(bond_basis, 360)
    assert year_fraction("30E/360", d1, d2) == Fraction(eurobond, 360)


def test_actual_and_no_leap_examples():
    # 1 Feb 2024 - 1 Mar 2024: 29 actual days, 28 without 29 February
    assert year_fraction("ACT/365F", date(2024, 2, 1), date(2024, 3, 1)) == Fraction(29, 365)
    assert year_fraction("ACT/360", date(2024, 2, 1), date(2024, 3, 1)) == Fraction(29, 360)
    assert year_fraction("NL/365", date(2024, 2, 1), date(2024, 3, 1)) == Fraction(28, 365)
    # 31 Dec 2023 - 1 Jan 2025: 367 actual days, one 29 February
    assert year_fraction("NL/365", date(2023, 12, 31), date(2025, 1, 1)) == Fraction(366, 365)
    # 29 February as the end date is dropped (days are counted in (d1, d2]); as the start date it is not
    assert day_count_days("NL/365", date(2024, 2, 1), date(2024, 2, 29)) == 27
    assert day_count_days("NL/365", date(2024, 2, 29), date(2024, 3, 1)) == 1


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2080, 12, 31))


@given(
    d1=dates | st.sampled_from([date(2024, 2, 29), date(2024, 2, 28), date(2028, 2, 29)]),
    span=st.integers(0, 4000),
)
def test_day_counts_match_reference(d1, span):
    d2 = d1 + timedelta(days=span)
    assert day_count_days("30/360", d1, d2) == ref_30_360(d1, d2)
    assert day_count_days("30E/360", d1, d2) == ref_30e_360(d1, d2)
    assert day_count_days("NL/365", d1, d2) == ref_nl_days(d1, d2)
    isda = year_fraction("ACT/ACT-ISDA", d1, d2)
    assert Fraction(span, 366) <= isda <= Fraction(span, 365)


def test_shift_months_end_of_month_rule():
    assert shift_months(date(2031, 2, 28), -6, end_of_month=True) == date(2030, 8, 31)
    assert shift_months(date(2031, 2, 28), -6, end_of_month=False) == date(2030, 8, 28)
    assert shift_months(date(2030, 8, 31), 6) == date(2031, 2, 28)
    assert shift_months(date(2030, 8, 31), 18) == date(2032, 2, 29)
    assert shift_months(date(2028, 2, 29), -12, end_of_month=True) == date(2027, 2, 28)
    assert shift_months(date(2027, 2, 28), 12, end_of_month=True) == date(2028, 2, 29)


# --- calendars ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "calendar", "convention", "expected"),
    [
        # Japanese bank holidays 1-3 January: Sun 3 Jan 2027 back to Wed 30 Dec 2026 (31 Dec is one too)
        (date(2027, 1, 3), "JP", "preceding", date(2026, 12, 30)),
        (date(2027, 1, 1), "JP", "following", date(2027, 1, 4)),
        # Golden Week 2027: 3, 4, 5 May are holidays; 29 April (Showa Day) too
        (date(2027, 5, 3), "JP", "following", date(2027, 5, 6)),
        (date(2027, 5, 5), "JP", "preceding", date(2027, 4, 30)),
        (date(2027, 4, 29), "JP", "preceding", date(2027, 4, 28)),
        # 22 Sep 2026 is a citizens' holiday between Respect for the Aged Day (21) and the equinox (23)
        (date(2026, 9, 22), "JP", "preceding", date(2026, 9, 18)),
        (date(2027, 9, 23), "JP", "preceding", date(2027, 9, 22)),
        # 29 Feb 2028 is a Tuesday and a business day
        (date(2028, 2, 29), "JP", "preceding", date(2028, 2, 29)),
        # modified following stays in the month: Sat 31 Jul 2027 -> Fri 30 Jul
        (date(2027, 7, 31), "CH", "modified_following", date(2027, 7, 30)),
        (date(2027, 7, 31), "CH", "following", date(2027, 8, 2)),
        (date(2026, 5, 14), "CH", "following", date(2026, 5, 15)),  # Ascension Day
        (date(2026, 7, 3), "US", "following", date(2026, 7, 6)),  # Independence Day observed
        (date(2026, 4, 3), "TARGET", "following", date(2026, 4, 7)),  # Good Friday, Easter Monday
        (date(2026, 5, 1), "TARGET", "preceding", date(2026, 4, 30)),
        (date(2027, 1, 3), "NONE", "preceding", date(2027, 1, 3)),
        (date(2027, 1, 3), "JP", "unadjusted", date(2027, 1, 3)),
    ],
)
def test_calendar_adjustment(day, calendar, convention, expected):
    assert adjust(day, calendar, convention) == expected


def test_business_days_before():
    assert business_days_before(date(2027, 9, 24), 1, "JP") == date(2027, 9, 22)  # skips the equinox
    assert business_days_before(date(2027, 1, 4), 1, "JP") == date(2026, 12, 30)
    assert business_days_before(date(2027, 1, 4), 0, "JP") == date(2027, 1, 4)
    assert business_days_before(date(2027, 5, 6), 2, "JP") == date(2027, 4, 28)


# --- the Kanagawa example ----------------------------------------------------------------------------


def test_kanagawa_schedule():
    s = build_schedule(load_term_sheet(KANAGAWA))
    p = s.periods
    assert len(p) == 10
    assert [x.index for x in p] == list(range(1, 11))
    # short first period 1 Apr - 25 Sep 2026: 177 actual days / 365 (stub_day_count ACT/365F)
    assert (p[0].accrual_start, p[0].accrual_end) == (date(2026, 4, 1), date(2026, 9, 25))
    assert (date(2026, 9, 25) - date(2026, 4, 1)).days == 177
    assert p[0].is_stub and p[0].year_fraction == Fraction(177, 365)
    assert p[0].coupon_per_unit == 10000 * Fraction(85, 10000) * Fraction(177, 365)
    # regular coupon = face × rate / 2 = ¥42.5
    assert all(not x.is_stub and x.year_fraction == Fraction(1, 2) for x in p[1:])
    assert all(x.coupon_per_unit == Fraction(85, 2) for x in p[1:])
    # 25 Sep 2027 is a Saturday: paid Friday 24th; record date skips Thursday 23rd (equinox) -> 22nd
    assert p[2].payment_date == date(2027, 9, 24)
    assert p[2].record_date == date(2027, 9, 22)
    assert p[2].accrual_end == date(2027, 9, 25)  # accrual stays unadjusted
    # 25 Mar 2029 is a Sunday: paid Friday 23rd
    assert p[5].payment_date == date(2029, 3, 23)
    assert [x.principal_per_unit for x in p] == [0] * 9 + [10000]
    # record time: 23:59:59 JST on the record date; payment time: 00:00 JST on the payment date
    assert p[0].record_time == int(datetime(2026, 9, 24, 14, 59, 59, tzinfo=UTC).timestamp())
    assert p[0].payment_time == int(datetime(2026, 9, 24, 15, 0, 0, tzinfo=UTC).timestamp())
    assert s.record_times == sorted(set(s.record_times))
    assert s.periods[0].coupon_per_unit_minor(s.currency) == Fraction(3009, 73)


def test_kanagawa_json():
    data = build_schedule(load_term_sheet(KANAGAWA)).to_json_dict()
    assert {k: data[k] for k in ("currency", "minor_units", "denomination")} == {
        "currency": "JPY",
        "minor_units": 0,
        "denomination": "10000",
    }
    first = dict(data["periods"][0])
    first.pop("record_time")
    first.pop("payment_time")
    assert first == {
        "index": 1,
        "accrual_start": "2026-04-01",
        "accrual_end": "2026-09-25",
        "record_date": "2026-09-24",
        "payment_date": "2026-09-25",
        "year_fraction": "177/365",
        "coupon_per_unit": "3009/73",
        "principal_per_unit": "0",
    }
    assert data["periods"][1]["coupon_per_unit"] == "85/2"
    assert data["periods"][-1]["principal_per_unit"] == "10000"


def test_backward_generation_gives_the_same_dates():
    with_fcd = build_schedule(terms())
    without = build_schedule(terms(coupon_first_coupon_date=None))
    assert with_fcd.periods == without.periods


def test_icma_short_first_period_published_example():
    # ISDA EMU paper, short first period 1 Feb 1999 - 1 Jul 1999, annual: ACT/ACT (ICMA) = 150/365
    # (notional period 1 Jul 1998 - 1 Jul 1999 has 365 days)
    s = build_schedule(
        terms(
            issue_date=date(1999, 2, 1),
            maturity_date=date(2001, 7, 1),
            coupon_frequency=1,
            coupon_stub_day_count=None,
            coupon_first_coupon_date=None,
            calendar="NONE",
        )
    )
    assert s.periods[0].is_stub
    assert s.periods[0].year_fraction == Fraction(150, 365)
    assert s.periods[1].year_fraction == 1


def test_icma_long_first_period_published_example():
    # ISDA EMU paper, long first period 15 Aug 2002 - 15 Jul 2003, semi-annual (15 Jan / 15 Jul):
    # 153 days in the notional period 15 Jul 2002 - 15 Jan 2003 (184 days) + one full regular half year
    # = 153/(2×184) + 1/2 = 337/368 = 0.91576087; ACT/ACT-ISDA gives 334/365.
    kwargs = dict(
        issue_date=date(2002, 8, 15),
        maturity_date=date(2004, 1, 15),
        coupon_first_coupon_date=date(2003, 7, 15),
        coupon_stub_day_count=None,
        calendar="NONE",
    )
    s = build_schedule(terms(**kwargs))
    assert s.periods[0].is_stub
    assert s.periods[0].year_fraction == Fraction(153, 368) + Fraction(1, 2) == Fraction(337, 368)
    assert s.periods[1].year_fraction == Fraction(1, 2)
    isda = build_schedule(terms(**kwargs, coupon_day_count="ACT/ACT-ISDA"))
    assert isda.periods[0].year_fraction == Fraction(334, 365)
    assert isda.periods[1].year_fraction == Fraction(170, 365) + Fraction(14, 366)


def test_long_first_period_japanese_stub():
    # 1 Apr 2026 -> 25 Mar 2027 as one long first period: actual days / 365 under the Japanese stub rule
    s = build_schedule(terms(coupon_first_coupon_date=date(2027, 3, 25)))
    assert s.periods[0].accrual_end == date(2027, 3, 25)
    days = (date(2027, 3, 25) - date(2026, 4, 1)).days
    assert days == 358
    assert s.periods[0].year_fraction == Fraction(358, 365)
    assert s.periods[0].coupon_per_unit == 10000 * Fraction(85, 10000) * Fraction(358, 365)
    assert len(s.periods) == 9


def test_short_final_period():
    # forward from 25 Sep 2026, maturity 25 Jan 2028 off the grid: last period 25 Sep 2027 - 25 Jan 2028
    # ICMA: 122 days / (2 × 182 days of the notional period 25 Sep 2027 - 25 Mar 2028) = 61/182
    s = build_schedule(
        terms(
            issue_date=date(2026, 3, 25),
            maturity_date=date(2028, 1, 25),
            coupon_stub_day_count=None,
            calendar="NONE",
        )
    )
    last = s.periods[-1]
    assert (last.accrual_start, last.accrual_end) == (date(2027, 9, 25), date(2028, 1, 25))
    assert last.is_stub
    assert last.year_fraction == Fraction(122, 2 * 182)
    assert not s.periods[0].is_stub  # 25 Mar 2026 -> 25 Sep 2026 is regular


def test_end_of_month_schedule():
    eom = build_schedule(
        terms(
            issue_date=date(2027, 8, 31),
            maturity_date=date(2029, 2, 28),
            coupon_first_coupon_date=None,
            coupon_end_of_month=True,
            calendar="NONE",
        )
    )
    assert [p.accrual_end for p in eom.periods] == [
        date(2028, 2, 29),
        date(2028, 8, 31),
        date(2029, 2, 28),
    ]
    assert all(not p.is_stub for p in eom.periods)
    plain = build_schedule(
        terms(
            issue_date=date(2027, 8, 28),
            maturity_date=date(2029, 2, 28),
            coupon_first_coupon_date=None,
            calendar="NONE",
        )
    )
    assert [p.accrual_end for p in plain.periods] == [date(2028, 2, 28), date(2028, 8, 28), date(2029, 2, 28)]


def test_zurich_30e_360():
    s = build_schedule(load_term_sheet(ROOT / "examples" / "zurich-2030.yaml"))
    assert [p.year_fraction for p in s.periods] == [1] * 5
    assert all(p.coupon_per_unit == 5000 * Fraction(125, 10000) for p in s.periods)  # CHF 62.50
    assert s.periods[0].coupon_per_unit_minor(s.currency) == 6250
    # 30 Jun 2029 is a Saturday; modified following would cross into July, so back to Fri 29 Jun
    assert s.periods[3].payment_date == date(2029, 6, 29)
    assert s.periods[3].record_date == date(2029, 6, 28)
    # record time 23:59:59 CEST (UTC+2) on 28 Jun 2029
    assert s.periods[3].record_time == int(datetime(2029, 6, 28, 21, 59, 59, tzinfo=UTC).timestamp())
    assert s.periods[-1].principal_per_unit == 5000


def test_amortization_reduces_outstanding_face():
    s = build_schedule(
        terms(
            redemption={
                "price": "100",
                "amortization": [
                    {"date": date(2028, 3, 25), "percent_of_original_face": "20"},
                    {"date": date(2029, 9, 25), "percent_of_original_face": "30"},
                ],
            }
        )
    )
    by_end = {p.accrual_end: p for p in s.periods}
    assert by_end[date(2028, 3, 25)].principal_per_unit == 2000
    assert by_end[date(2028, 3, 25)].coupon_per_unit == Fraction(85, 2)  # accrued on the full face
    assert by_end[date(2028, 9, 25)].coupon_per_unit == 8000 * Fraction(85, 10000) / 2
    assert by_end[date(2029, 9, 25)].principal_per_unit == 3000
    assert by_end[date(2030, 3, 25)].coupon_per_unit == 5000 * Fraction(85, 10000) / 2
    assert s.periods[-1].principal_per_unit == 5000
    assert s.total_principal_per_unit() == 10000


def test_amortization_off_schedule_is_located(tmp_path):
    text = KANAGAWA.read_text().replace(
        "  amortization: []", '  amortization: [{date: 2028-03-26, percent_of_original_face: "20"}]'
    )
    bad = tmp_path / "bond.yaml"
    bad.write_text(text)
    ts = load_term_sheet(bad)
    with pytest.raises(TermSheetError) as info:
        build_schedule(ts)
    assert info.value.field == "redemption.amortization[0].date"
    assert info.value.file == str(bad)
    assert (
        info.value.line
        == text.splitlines().index('  amortization: [{date: 2028-03-26, percent_of_original_face: "20"}]') + 1
    )
    assert "2028-03-25" in info.value.message


def test_zero_coupon_and_redemption_price():
    s = build_schedule(
        terms(
            coupon={"type": "zero", "day_count": "ACT/365F"},
            redemption={"price": "101.5"},
            calendar="JP",
        )
    )
    assert len(s.periods) == 1
    p = s.periods[0]
    assert p.coupon_per_unit == 0
    assert p.principal_per_unit == Fraction(10150)
    assert p.payment_date == date(2031, 3, 25)
    assert p.year_fraction == Fraction((date(2031, 3, 25) - date(2026, 4, 1)).days, 365)


def test_adjusted_accrual_uses_payment_dates():
    s = build_schedule(terms(accrual="adjusted", coupon_day_count="ACT/365F", coupon_stub_day_count=None))
    p = s.periods
    assert p[2].accrual_end == date(2027, 9, 24)
    assert p[3].accrual_start == date(2027, 9, 24)
    assert p[2].year_fraction == Fraction((date(2027, 9, 24) - date(2027, 3, 25)).days, 365)


def test_record_date_two_business_days():
    s = build_schedule(terms(record_date={"business_days_before_payment": 2}))
    assert s.periods[2].record_date == date(2027, 9, 21)  # 24 Sep -> 22 -> (23 holiday) 21


# --- properties over generated bonds ------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    issue=st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)),
    years=st.integers(1, 12),
    extra_days=st.integers(-150, 150),
    frequency=st.sampled_from([1, 2, 4, 12]),
    day_count=st.sampled_from(["ACT/360", "ACT/365F", "NL/365", "30/360", "30E/360", "ACT/ACT-ICMA", "ACT/ACT-ISDA"]),
    calendar=st.sampled_from(["JP", "CH", "US", "TARGET", "NONE"]),
    convention=st.sampled_from(["following", "modified_following", "preceding", "unadjusted"]),
    eom=st.booleans(),
)
def test_schedule_invariants(issue, years, extra_days, frequency, day_count, calendar, convention, eom):
    maturity = shift_months(issue, 12 * years) + timedelta(days=extra_days)
    if maturity <= issue + timedelta(days=40):
        return
    ts = terms(
        issue_date=issue,
        maturity_date=maturity,
        coupon_frequency=frequency,
        coupon_day_count=day_count,
        coupon_stub_day_count=None,
        coupon_first_coupon_date=None,
        coupon_end_of_month=eom,
        calendar=calendar,
        business_day_convention=convention,
    )
    try:
        s = build_schedule(ts)
    except TermSheetError as exc:
        assert "before the issue date" in exc.message  # a tiny first period whose record date precedes issue
        return
    p = s.periods
    assert p[0].accrual_start == issue
    assert p[-1].accrual_end == maturity
    for a, b in itertools.pairwise(p):
        assert a.accrual_end == b.accrual_start
        assert a.payment_date < b.payment_date
        assert a.record_time < b.record_time
    for x in p:
        assert x.accrual_start < x.accrual_end
        assert x.record_date <= x.payment_date
        assert x.record_time < x.payment_time + 86400
        # 30/360 can give a one-day stub ending on the 31st zero days (30 Jan -> 31 Jan); actual counts cannot
        assert x.year_fraction >= 0
        if day_count not in ("30/360", "30E/360"):
            assert x.year_fraction > 0
        assert x.coupon_per_unit == 10000 * Fraction(85, 10000) * x.year_fraction
        if day_count == "ACT/ACT-ICMA" and not x.is_stub:
            assert x.year_fraction == Fraction(1, frequency)
        if day_count == "ACT/ACT-ICMA":
            assert x.year_fraction <= Fraction(1, frequency)  # backward generation: only short stubs
    assert all(x.is_stub is False for x in p[1:])
    assert s.total_principal_per_unit() == 10000


# --- coupon.rounding: the Japanese interest per ¥1 of face ----------------------------------------------------

PER_YEN_13 = {"method": "per_currency_unit", "decimals": 13}


def test_per_currency_unit_rounding_hand_worked():
    # The Kanagawa bond (0.85 %, semi-annual, ¥10,000 units, broken first period 1 Apr -> 25 Sep 2026 of
    # 177 days at actual/365) with the interest per ¥1 of face truncated below the 13th decimal place.
    exact = build_schedule(terms())
    per_yen = build_schedule(terms(coupon_rounding=PER_YEN_13))
    first = per_yen.periods[0]
    assert first.year_fraction == Fraction(177, 365)

    # interest per ¥1     = 0.0085 × 177 / 365 = 1.5045 / 365 = 0.004121917808219178...
    # truncated (13 dp)   = 0.0041219178082
    # per ¥10,000 unit    = 10,000 × 0.0041219178082 = ¥41.219178082 = 41219178082 / 10^9
    assert first.coupon_per_unit == Fraction(41219178082, 10**9) == Fraction(20609589041, 500_000_000)
    # (exact rule: 10,000 × 0.0085 × 177/365 = 3009/73 = ¥41.21917808219178...)
    assert exact.periods[0].coupon_per_unit == Fraction(3009, 73)

    # per holder, face held × interest per ¥1, truncated below ¥1:
    #   1 unit    ¥10,000 × 0.0041219178082 =    41.219178082   -> ¥41      (exact rule: ¥41)
    #   7 units   ¥70,000 × 0.0041219178082 =   288.534246574   -> ¥288     (exact rule: 288.5342465753... ¥288)
    #   100 units ¥1,000,000 × ...          = 4,121.9178082     -> ¥4,121   (exact rule: 4,121.917808219... ¥4,121)
    #   73 units  ¥730,000 × ...            = 3,008.999999986   -> ¥3,008   (exact rule: 73 × 3009/73 = ¥3,009)
    expected = {1: (41, 41), 7: (288, 288), 100: (4121, 4121), 73: (3008, 3009)}
    for units, (japanese, exact_rule) in expected.items():
        # what the payment agent computes on chain: floor(units × coupon per unit)
        assert gross_entitlement(units, first.coupon_per_unit_minor(per_yen.currency)) == japanese
        assert gross_entitlement(units, exact.periods[0].coupon_per_unit_minor(exact.currency)) == exact_rule
        # ... which is the Japanese computation on the face held, for every holding
        assert floor(units * 10_000 * Fraction("0.0041219178082")) == japanese

    # regular periods: 0.0085 / 2 = 0.00425 per ¥1, already exact at 13 decimals -> ¥42.5 per unit as before
    assert [p.coupon_per_unit for p in per_yen.periods[1:]] == [Fraction(85, 2)] * 9
    assert [gross_entitlement(n, Fraction(85, 2)) for n in (1, 7, 100)] == [42, 297, 4250]
    assert per_yen.periods[1:] == exact.periods[1:]


def test_per_currency_unit_rounding_is_what_goes_on_chain():
    ts = terms(coupon_rounding=PER_YEN_13)
    on_chain = periods_on_chain(ts, build_schedule(ts), 0)  # a 0-decimal JPY payment token
    assert (on_chain[0].coupon.numerator, on_chain[0].coupon.denominator) == (20609589041, 500_000_000)
    # an 18-decimal token carries the same per-unit amount in its base units (10^18 per yen)
    wide = periods_on_chain(ts, build_schedule(ts), 18)
    assert wide[0].coupon == Fraction(20609589041, 500_000_000) * 10**18 == 41219178082 * 10**9


def test_per_currency_unit_rounding_with_amortization_and_other_decimals():
    # 4 decimals instead of 13; 20 % amortized on 25 Mar 2028, after which ¥8,000 of each unit accrues
    s = build_schedule(
        terms(
            coupon_rounding={"method": "per_currency_unit", "decimals": 4},
            redemption={
                "price": "100",
                "amortization": [{"date": date(2028, 3, 25), "percent_of_original_face": "20"}],
            },
        )
    )
    # 4 decimals: 0.004121917... -> 0.0041 per ¥1, ¥41 per unit
    assert s.periods[0].coupon_per_unit == 41
    # regular: 0.00425 -> 0.0042 per ¥1: ¥42 per unit while the whole face is outstanding, then
    # 8,000 × 0.0042 = ¥33.6
    assert s.periods[1].coupon_per_unit == 42
    by_end = {p.accrual_end: p for p in s.periods}
    assert by_end[date(2028, 9, 25)].coupon_per_unit == 8000 * Fraction(42, 10_000) == Fraction(168, 5)


def test_per_currency_unit_rounding_applies_to_a_calls_accrued_coupon():
    ts = terms(coupon_rounding=PER_YEN_13)
    s = build_schedule(ts)
    # 25 Sep -> 25 Dec 2027 is 91 of 182 days: interest per ¥1 = 0.0085 / 2 × 91/182 = 0.002125 (exact)
    call = call_terms(ts, s, date(2027, 12, 25), Decimal("100"), Fraction(1))
    assert call.accrued_per_unit == Fraction(85, 4)
    # 1 Apr -> 1 Aug 2026 inside the broken period: 122 days / 365 at the stub day count
    # 0.0085 × 122/365 = 0.002841095890410958... -> 0.0028410958904 per ¥1 -> ¥28.410958904 per unit
    call = call_terms(ts, s, date(2026, 8, 1), Decimal("100"), Fraction(1))
    assert call.accrued_per_unit == 10_000 * Fraction(28410958904, 10**13)
    exact = build_schedule(terms())
    assert call_terms(terms(), exact, date(2026, 8, 1), Decimal("100"), Fraction(1)).accrued_per_unit == (
        10_000 * Fraction(85, 10_000) * Fraction(122, 365)
    )


def test_truncate_decimals():
    assert truncate_decimals(Fraction(1, 3), 2) == Fraction(33, 100)
    assert truncate_decimals(Fraction(2, 3), 0) == 0
    assert truncate_decimals(Decimal("0.0041219178082191"), 13) == Fraction(41219178082, 10**13)
    assert truncate_decimals(Fraction(17, 4), 2) == Fraction(17, 4)  # already exact: unchanged
    with pytest.raises(AmountError):
        truncate_decimals(Fraction(-1, 3), 2)
    with pytest.raises(AmountError):
        truncate_decimals(Fraction(1, 3), -1)
