"""Early redemption (call) terms: the record and payment times of a call and the coupon accrued to it.

Pure: from the term sheet, its schedule and the call date to the amounts the payment agent schedules.
Calls follow the term sheet's call options (`redemption.call`: date, price, notice_days) unless the issuer
explicitly redeems off schedule (`call_price`).
Accrued coupon per unit = the outstanding face per unit × the interest per unit of currency over the part
of the period containing the call date that has elapsed: for ACT/ACT-ICMA the ICMA rule (actual days
elapsed / actual days of the period, times the period's year fraction); for the other conventions the
convention's own year fraction from the period start to the call date. The interest per unit of currency is
rate × that year fraction, truncated like the coupons when the term sheet asks for it (`coupon.rounding`).
Exact fractions throughout.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from munibond.clock import day_end, day_start
from munibond.errors import InputError
from munibond.money import fraction_str
from munibond.schedule import (
    Period,
    Schedule,
    adjust,
    business_days_before,
    interest_per_currency_unit,
    year_fraction,
)
from munibond.terms import Call, TermSheet

PAR = Decimal(100)


@dataclass(frozen=True)
class CallTerms:
    payment_date: dt.date
    record_date: dt.date
    record_time: int
    payment_time: int
    accrued_per_unit: Fraction  # currency units
    price: Decimal  # percent of face
    principal_per_unit: Fraction  # currency units, per retired unit
    fraction: Fraction  # of each holding retired


def _containing(schedule: Schedule, day: dt.date) -> Period:
    for period in schedule.periods:
        if period.accrual_start < day <= period.accrual_end:
            return period
    raise InputError(
        f"{day} is not inside the bond's life ({schedule.periods[0].accrual_start} to "
        f"{schedule.periods[-1].accrual_end})",
        field="date",
    )


def call_terms(
    terms: TermSheet, schedule: Schedule, call_date: dt.date, price: Decimal, fraction: Fraction
) -> CallTerms:
    """The call on `call_date` at `price` percent of face, retiring `fraction` of every holding."""
    if not 0 < fraction <= 1:
        raise InputError(f"must be in (0, 1], got {fraction}", field="fraction")
    if price <= 0:
        raise InputError(f"must be positive, got {price}", field="price")
    payment_date = adjust(call_date, terms.calendar, terms.business_day_convention)
    record_date = business_days_before(payment_date, terms.record_date.business_days_before_payment, terms.calendar)
    period = _containing(schedule, call_date)
    if period.accrual_end == call_date:
        accrued = period.coupon_per_unit
    else:
        convention = terms.coupon.day_count or "ACT/365F"
        if period.is_stub and terms.coupon.stub_day_count:
            convention = terms.coupon.stub_day_count
        if convention == "ACT/ACT-ICMA":
            elapsed = Fraction(
                (call_date - period.accrual_start).days, (period.accrual_end - period.accrual_start).days
            )
            part = period.year_fraction * elapsed
        else:
            part = year_fraction(convention, period.accrual_start, call_date)
        # amortization is paid at par on coupon dates: the face still outstanding is what earlier periods left
        face = schedule.denomination - sum(
            (p.principal_per_unit for p in schedule.periods if p.index < period.index), Fraction(0)
        )
        accrued = face * interest_per_currency_unit(terms.coupon, part)
    return CallTerms(
        payment_date=payment_date,
        record_date=record_date,
        record_time=day_end(record_date, terms.timezone),
        payment_time=day_start(payment_date, terms.timezone),
        accrued_per_unit=accrued,
        price=price,
        principal_per_unit=schedule.denomination * Fraction(price) / 100,
        fraction=fraction,
    )


def call_option(terms: TermSheet, call_date: dt.date) -> Call | None:
    """The term sheet's call option on `call_date` (an unadjusted call date), if there is one."""
    return next((option for option in terms.redemption.call if option.date == call_date), None)


def call_price(terms: TermSheet, call_date: dt.date, price: Decimal | None, *, off_schedule: bool) -> Decimal:
    """The price (percent of face) of a call on `call_date`.

    A call on one of the term sheet's call dates is that option exercised: its price applies (a different
    `price` is refused). Any other date is refused unless `off_schedule` (an early redemption outside the
    bond's terms, at `price`, par if None).
    """
    option = call_option(terms, call_date)
    if option is None:
        if off_schedule:
            return PAR if price is None else price
        listed = ", ".join(o.date.isoformat() for o in terms.redemption.call)
        reason = f"is not a call date of the term sheet ({listed})" if listed else "the term sheet lists no call option"
        raise InputError(
            f"{call_date}: {reason}; pass --off-schedule to redeem early outside the bond's terms", field="date"
        )
    if price is not None and price != option.price:
        raise InputError(
            f"the term sheet's call on {call_date} is at {option.price}, not {price} (omit --price to use it)",
            field="price",
        )
    return option.price


def check_call_notice(terms: TermSheet, call_date: dt.date, announced_on: dt.date) -> None:
    """Refuses a call on one of the term sheet's call dates announced (on the issuer's local date `announced_on`)
    later than its `notice_days` calendar days before the call date. The payment agent's own minimum notice
    applies to every call on top of this."""
    option = call_option(terms, call_date)
    if option is None:
        return
    deadline = call_date - dt.timedelta(days=option.notice_days)
    if announced_on > deadline:
        raise InputError(
            f"the term sheet's call on {call_date} needs {option.notice_days} days' notice: it had to be "
            f"announced by {deadline}, today is {announced_on}",
            field="date",
        )


def call_schedule(terms: TermSheet, schedule: Schedule) -> list[tuple[Call, CallTerms]]:
    """Each call option of the term sheet with the terms of a full call exercised on it."""
    return [
        (option, call_terms(terms, schedule, option.date, option.price, Fraction(1)))
        for option in terms.redemption.call
    ]


def call_option_json(option: Call, call: CallTerms) -> dict[str, object]:
    """JSON-ready view of a call option (`munibond schedule --json`): dates ISO, amounts per unit as "p/q"."""
    return {
        "date": option.date.isoformat(),
        "notice_by": (option.date - dt.timedelta(days=option.notice_days)).isoformat(),
        "price": str(option.price),
        "record_date": call.record_date.isoformat(),
        "payment_date": call.payment_date.isoformat(),
        "accrued_coupon_per_unit": fraction_str(call.accrued_per_unit),
        "principal_per_unit": fraction_str(call.principal_per_unit),
        "record_time": call.record_time,
        "payment_time": call.payment_time,
    }
