"""Coupon and redemption schedule: dates, day counts, stubs, record dates and exact per-unit amounts.

QuantLib supplies the holiday calendars, business-day adjustment (also of the notional dates of adjusted
ACT/ACT-ICMA stubs) and the integer day counts of the 30/360 conventions; every year fraction is then built
here as an exact `Fraction` (QuantLib's float year fractions are never used as the truth).

Dates. Without `first_coupon_date` the coupon dates roll backward from maturity every 12/frequency months
(a short first period when the issue date is off the grid); with it they roll forward from
`first_coupon_date` (the first period may be short or long, and a short final period appears if the
grid misses maturity). Each date is anchor ± k × step months with the anchor's day of month (clamped to
the month's length), or the month's last day when `end_of_month` is set and the anchor is a month end.
Payment date = coupon date adjusted on the calendar with the business-day convention; accrual runs
between unadjusted coupon dates, or between payment dates when `accrual: adjusted`. These are the dates of
QuantLib's `Schedule` on the same terms, except that the issue date is never moved (adjusted accrual starts
on the issue date as written) and `end_of_month` needs the anchor to be the month's last calendar day
(QuantLib also takes a weekend month end's last business day for one).

Record date = `business_days_before_payment` business days before the payment date on the calendar.
Times are Unix seconds in the issuer's zone: `record_time` is the last second of the record date
(next local midnight − 1 s, so a block with timestamp ≤ record_time is on or before the record date);
`payment_time` is local midnight at the start of the payment date.

Day counts (year fraction of a period from d1 to d2):

* ACT/360, ACT/365F: actual days / 360 or 365.
* NL/365: actual days less each 29 February in (d1, d2] / 365 (QuantLib Actual365Fixed.NoLeap).
* 30/360: ISDA 2006 4.16(f) "30/360, Bond Basis" (QuantLib Thirty360.BondBasis): D1 = 31 -> 30;
  D2 = 31 -> 30 only when D1 ≥ 30; days = 360 ΔY + 30 ΔM + ΔD.
* 30E/360: ISDA 4.16(g) "Eurobond Basis" (QuantLib Thirty360.European): any 31st -> 30.
* ACT/ACT-ISDA: days falling in each calendar year / that year's length (365 or 366), summed.
* ACT/ACT-ICMA (ICMA Rule 251): a regular period is exactly 1/frequency; an irregular period is
  Σ days in each notional regular period / (frequency × days of that notional period). The notional
  periods are on the same footing as the accrual, so the year fraction is the number QuantLib's
  `ActualActual(ISMA, schedule)` computes on the same schedule, held exactly:
  - unadjusted accrual: the coupon grid continued past the stub (anchor ± k periods, unadjusted);
  - `accrual: adjusted`: stepped from the adjusted coupon date next to the stub (the first payment date
    for a front stub, the previous payment date for a final stub) one coupon period at a time, each date
    moved by the business-day convention (under `end_of_month`, from a month's last business day to the
    target month's last business day), as QuantLib's `Calendar.advance` does.
  Known differences from QuantLib (tests/unit/python/test_schedule_quantlib.py): an unadjusted stub next to
  a coupon date clamped to a shorter month (anchor day 29-31 without `end_of_month`) keeps the bond's own
  grid where QuantLib steps from the clamped date; and the cases QuantLib's counter mishandles or refuses
  (a one-period bond with a stub, a long front stub together with a final stub, a front stub longer than
  two periods) are measured by the rule above.

`stub_day_count`, when given, replaces the day count for irregular periods only (Japanese practice:
regular coupon = rate / 2, broken period = actual days / 365). A zero-coupon bond has one period from
issue to maturity whose year fraction is informative only (ACT/ACT-ICMA is read as ACT/ACT-ISDA there).

Amounts per token unit, in currency units: coupon = outstanding face × interest per unit of currency,
where the interest per unit of currency is rate × year fraction, exact, or truncated below
`coupon.rounding.decimals` decimal places under `coupon.rounding.method: per_currency_unit` (the Japanese
per-¥1 rule, docs/rounding.md), and the outstanding face falls after each amortization (amortization dates
must be coupon dates and are paid at par); principal = amortized face on an amortization date,
outstanding face × redemption price / 100 at maturity. Call schedules are carried by the term sheet only:
a call is an event, not a scheduled period.
"""

from __future__ import annotations

import calendar as _calendar
import itertools
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

import QuantLib as ql

from munibond import clock
from munibond.money import Currency, fraction_str, to_fraction, truncate_decimals
from munibond.terms import Coupon, TermSheet, fraction_of_percent

_STEP_MONTHS = {1: 12, 2: 6, 4: 3, 12: 1}


def calendar_for(name: str) -> ql.Calendar:
    """The QuantLib calendar for a term-sheet calendar name."""
    if name == "JP":
        return ql.Japan()
    if name == "CH":
        return ql.Switzerland()  # SIX Swiss Exchange / Zurich business days
    if name == "US":
        return ql.UnitedStates(ql.UnitedStates.GovernmentBond)
    if name == "TARGET":
        return ql.TARGET()
    if name == "NONE":
        return ql.NullCalendar()
    raise ValueError(f"unknown calendar {name!r}")


_CONVENTIONS = {
    "following": ql.Following,
    "modified_following": ql.ModifiedFollowing,
    "preceding": ql.Preceding,
    "unadjusted": ql.Unadjusted,
}


def to_ql(day: date) -> ql.Date:
    return ql.Date(day.day, day.month, day.year)


def from_ql(day: ql.Date) -> date:
    return date(day.year(), day.month(), day.dayOfMonth())


def adjust(day: date, calendar: str, convention: str) -> date:
    """`day` moved to a business day of `calendar` by `convention`."""
    return from_ql(calendar_for(calendar).adjust(to_ql(day), _CONVENTIONS[convention]))


def business_days_before(day: date, count: int, calendar: str) -> date:
    """The business day `count` business days before `day` (`day` itself when count is 0)."""
    if count == 0:
        return day
    return from_ql(calendar_for(calendar).advance(to_ql(day), -count, ql.Days))


def shift_months(anchor: date, months: int, end_of_month: bool = False) -> date:
    """anchor + months, keeping the anchor's day (clamped), or the month end under the end-of-month rule."""
    year, month0 = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    last = _calendar.monthrange(year, month0 + 1)[1]
    anchor_is_eom = anchor.day == _calendar.monthrange(anchor.year, anchor.month)[1]
    day = last if end_of_month and anchor_is_eom else min(anchor.day, last)
    return date(year, month0 + 1, day)


# --- day counts ------------------------------------------------------------------------------------------

_THIRTY_360 = {
    "30/360": ql.Thirty360(ql.Thirty360.BondBasis),
    "30E/360": ql.Thirty360(ql.Thirty360.European),
}
_NO_LEAP = ql.Actual365Fixed(ql.Actual365Fixed.NoLeap)


def day_count_days(convention: str, start: date, end: date) -> int:
    """Integer days between two dates under a day-count convention's day rule."""
    if convention in _THIRTY_360:
        return _THIRTY_360[convention].dayCount(to_ql(start), to_ql(end))
    if convention == "NL/365":
        return _NO_LEAP.dayCount(to_ql(start), to_ql(end))
    return (end - start).days


def _act_act_isda(start: date, end: date) -> Fraction:
    total = Fraction(0)
    for year in range(start.year, end.year + 1):
        lo = max(start, date(year, 1, 1))
        hi = min(end, date(year + 1, 1, 1))
        if hi > lo:
            total += Fraction((hi - lo).days, 366 if _calendar.isleap(year) else 365)
    return total


def year_fraction(convention: str, start: date, end: date) -> Fraction:
    """Exact year fraction for the conventions that need no schedule context (all but ACT/ACT-ICMA)."""
    if end < start:
        raise ValueError(f"end {end} before start {start}")
    if convention == "ACT/360":
        return Fraction(day_count_days(convention, start, end), 360)
    if convention in ("ACT/365F", "NL/365"):
        return Fraction(day_count_days(convention, start, end), 365)
    if convention in _THIRTY_360:
        return Fraction(day_count_days(convention, start, end), 360)
    if convention == "ACT/ACT-ISDA":
        return _act_act_isda(start, end)
    raise ValueError(f"{convention} needs the schedule (use icma_year_fraction)")


def icma_year_fraction(start: date, end: date, grid: list[date], frequency: int) -> Fraction:
    """ACT/ACT-ICMA over [start, end] against notional regular periods [grid[i], grid[i+1]]."""
    total = Fraction(0)
    for lo, hi in itertools.pairwise(grid):
        overlap = (min(end, hi) - max(start, lo)).days
        if overlap > 0:
            total += Fraction(overlap, frequency * (hi - lo).days)
    return total


# --- schedule --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One coupon (and possibly principal) period; amounts are per token unit, in currency units."""

    index: int
    accrual_start: date
    accrual_end: date
    record_date: date
    payment_date: date
    record_time: int
    payment_time: int
    year_fraction: Fraction
    coupon_per_unit: Fraction
    principal_per_unit: Fraction
    is_stub: bool

    def coupon_per_unit_minor(self, currency: Currency) -> Fraction:
        """The coupon per unit in minor units (still exact; holders' amounts are floored from this)."""
        return self.coupon_per_unit * currency.scale

    def principal_per_unit_minor(self, currency: Currency) -> Fraction:
        return self.principal_per_unit * currency.scale


@dataclass(frozen=True)
class Schedule:
    currency: Currency
    denomination: Fraction
    timezone: str
    periods: tuple[Period, ...]

    @property
    def minor_units(self) -> int:
        return self.currency.minor_units

    @property
    def record_times(self) -> list[int]:
        """Record times (Unix, strictly increasing) for the token's record-date checkpoints."""
        return [p.record_time for p in self.periods]

    def total_principal_per_unit(self) -> Fraction:
        return sum((p.principal_per_unit for p in self.periods), Fraction(0))

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready dict; fractions as reduced "p/q" (or integer) strings, dates ISO."""
        return {
            "currency": self.currency.code,
            "minor_units": self.currency.minor_units,
            "denomination": fraction_str(self.denomination),
            "periods": [
                {
                    "index": p.index,
                    "accrual_start": p.accrual_start.isoformat(),
                    "accrual_end": p.accrual_end.isoformat(),
                    "record_date": p.record_date.isoformat(),
                    "payment_date": p.payment_date.isoformat(),
                    "year_fraction": fraction_str(p.year_fraction),
                    "coupon_per_unit": fraction_str(p.coupon_per_unit),
                    "principal_per_unit": fraction_str(p.principal_per_unit),
                    "record_time": p.record_time,
                    "payment_time": p.payment_time,
                }
                for p in self.periods
            ],
        }


@dataclass(frozen=True)
class _Raw:
    start: date  # unadjusted
    end: date  # unadjusted
    is_stub: bool
    grid: list[date]  # notional regular dates around the period (for ACT/ACT-ICMA)


def _coupon_dates(terms: TermSheet) -> list[_Raw]:
    """Unadjusted periods from issue to maturity, with their stub flags and notional grids."""
    c = terms.coupon
    issue, maturity = terms.issue_date, terms.maturity_date
    if c.type == "zero" or c.frequency is None:
        return [_Raw(issue, maturity, False, [issue, maturity])]
    step = _STEP_MONTHS[c.frequency]
    eom = c.end_of_month

    if c.first_coupon_date is None:
        anchor = maturity

        def grid(k: int) -> date:
            return shift_months(anchor, k * step, eom)

        k = 0
        dates = [maturity]
        while grid(k - 1) > issue:
            k -= 1
            dates.append(grid(k))
        dates.reverse()
        first_regular = grid(k - 1) == issue
        bounds = [issue, *dates]
        raws = []
        for i in range(len(dates)):
            kk = k + i
            stub = i == 0 and not first_regular
            notional = [grid(kk - 1), grid(kk)] if stub else []
            raws.append(_Raw(bounds[i], bounds[i + 1], stub, notional))
        return raws

    anchor = c.first_coupon_date

    def fgrid(k: int) -> date:
        return shift_months(anchor, k * step, eom)

    dates = [anchor]
    k = 0
    while fgrid(k + 1) < maturity:
        k += 1
        dates.append(fgrid(k))
    last_regular = fgrid(k + 1) == maturity
    if dates[-1] != maturity:
        dates.append(maturity)
    bounds = [issue, *dates]
    raws = []
    first_is_stub = fgrid(-1) != issue
    for i in range(len(dates)):
        start, end = bounds[i], bounds[i + 1]
        if i == 0:
            # notional periods backward from the first coupon date until they cover the issue date
            j = 0
            while fgrid(j) > start:
                j -= 1
            raws.append(_Raw(start, end, first_is_stub, [fgrid(x) for x in range(j, 1)]))
        elif i == len(dates) - 1 and not last_regular and end == maturity:
            raws.append(_Raw(start, end, True, [fgrid(k), fgrid(k + 1)]))
        else:
            raws.append(_Raw(start, end, False, []))
    return raws


def _adjusted_notional_grid(terms: TermSheet, frequency: int, first: bool, start: date, end: date) -> list[date]:
    """Notional regular dates around an adjusted stub [start, end], as QuantLib's ISMA day counter builds them.

    A front stub steps back from its end (the first payment date), a final stub forward from its start (the
    previous payment date), one coupon period at a time on the calendar with the business-day convention,
    until the stub is covered.
    """
    cal = calendar_for(terms.calendar)
    convention = _CONVENTIONS[terms.business_day_convention]
    step = _STEP_MONTHS[frequency]
    eom = terms.coupon.end_of_month

    def advance(day: date, months: int) -> date:
        return from_ql(cal.advance(to_ql(day), months, ql.Months, convention, eom))

    if first:
        grid = [end]
        while grid[0] > start:
            grid.insert(0, advance(grid[0], -step))
    else:
        grid = [start]
        while grid[-1] < end:
            grid.append(advance(grid[-1], step))
    return grid


def _year_fraction(terms: TermSheet, raw: _Raw, start: date, end: date, *, first: bool = False) -> Fraction:
    c = terms.coupon
    frequency = c.frequency
    convention = c.day_count or "ACT/365F"
    if raw.is_stub and c.stub_day_count is not None:
        convention = c.stub_day_count
    if convention == "ACT/ACT-ICMA" and frequency is None:
        convention = "ACT/ACT-ISDA"  # a zero-coupon bond has no coupon periods to measure against
    if convention != "ACT/ACT-ICMA" or frequency is None:
        return year_fraction(convention, start, end)
    if not raw.is_stub:
        return Fraction(1, frequency)
    if terms.accrual == "adjusted":
        # the accrual runs between adjusted dates, and so do the notional periods it is measured against
        return icma_year_fraction(start, end, _adjusted_notional_grid(terms, frequency, first, start, end), frequency)
    return icma_year_fraction(start, end, raw.grid, frequency)


def interest_per_currency_unit(coupon: Coupon, years: Fraction) -> Fraction:
    """Interest on one unit of currency of face over a year fraction `years`: rate × years, truncated below
    `coupon.rounding.decimals` decimal places under the `per_currency_unit` rounding (exact otherwise)."""
    rate = to_fraction(coupon.rate) if coupon.rate is not None else Fraction(0)
    interest = rate * years
    if coupon.rounding.method == "exact":
        return interest
    if coupon.rounding.decimals is None:
        raise ValueError("coupon.rounding: method per_currency_unit needs decimals")
    return truncate_decimals(interest, coupon.rounding.decimals)


def build_schedule(terms: TermSheet) -> Schedule:
    """The full coupon and redemption schedule of a term sheet."""
    cur = terms.currency_info
    denom = to_fraction(terms.denomination)
    raws = _coupon_dates(terms)

    amortization: dict[date, Fraction] = {}
    ends = {raw.end for raw in raws}
    for i, a in enumerate(terms.redemption.amortization):
        if a.date not in ends:
            nearby = ", ".join(d.isoformat() for d in sorted(ends) if abs((d - a.date).days) < 200)
            raise terms.input_error(
                f"{a.date} is not a coupon date of the schedule (nearby: {nearby})",
                "redemption",
                "amortization",
                i,
                "date",
            )
        amortization[a.date] = fraction_of_percent(a.percent_of_original_face)

    periods: list[Period] = []
    outstanding = Fraction(1)  # share of original face still outstanding
    for index, raw in enumerate(raws, start=1):
        payment = adjust(raw.end, terms.calendar, terms.business_day_convention)
        if terms.accrual == "adjusted":
            start = terms.issue_date if index == 1 else periods[-1].accrual_end
            end = payment
        else:
            start, end = raw.start, raw.end
        yf = _year_fraction(terms, raw, start, end, first=index == 1)
        coupon = denom * outstanding * interest_per_currency_unit(terms.coupon, yf)
        if raw.end == terms.maturity_date:
            principal = denom * outstanding * fraction_of_percent(terms.redemption.price)
            next_outstanding = Fraction(0)
        else:
            share = amortization.get(raw.end, Fraction(0))
            principal = denom * share
            next_outstanding = outstanding - share
        record = business_days_before(payment, terms.record_date.business_days_before_payment, terms.calendar)
        periods.append(
            Period(
                index=index,
                accrual_start=start,
                accrual_end=end,
                record_date=record,
                payment_date=payment,
                record_time=clock.day_end(record, terms.timezone),
                payment_time=clock.day_start(payment, terms.timezone),
                year_fraction=yf,
                coupon_per_unit=coupon,
                principal_per_unit=principal,
                is_stub=raw.is_stub,
            )
        )
        outstanding = next_outstanding

    for prev, nxt in itertools.pairwise(periods):
        if nxt.record_time <= prev.record_time or nxt.payment_date <= prev.payment_date:
            raise terms.input_error(
                f"periods {prev.index} and {nxt.index} collapse to the same record/payment date",
                "business_day_convention",
            )
    if periods and periods[0].record_date < terms.issue_date:
        raise terms.input_error(
            f"the first record date {periods[0].record_date} falls before the issue date", "record_date"
        )
    return Schedule(currency=cur, denomination=denom, timezone=terms.timezone, periods=tuple(periods))
