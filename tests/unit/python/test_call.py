"""Call terms: accrued coupon to the call date, record/payment dates, validation."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from munibond.call import call_terms
from munibond.errors import InputError
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def kanagawa():
    terms = load_term_sheet(EXAMPLES / "kanagawa-resident-2026.yaml")
    return terms, build_schedule(terms)


@pytest.fixture(scope="module")
def harbor():
    terms = load_term_sheet(EXAMPLES / "serial" / "harbor-city-2030.yaml")
    return terms, build_schedule(terms)


def test_icma_accrual_is_the_elapsed_share_of_the_regular_coupon(kanagawa):
    terms, schedule = kanagawa
    # 25 Sep 2027 -> 25 Dec 2027 is 91 of the 182 days to 25 Mar 2028: half of ¥10,000 × 0.85 % / 2
    call = call_terms(terms, schedule, dt.date(2027, 12, 25), Decimal("101"), Fraction(1, 2))
    assert call.accrued_per_unit == Fraction(10000) * Fraction(85, 10000) / 2 * Fraction(91, 182)
    assert call.principal_per_unit == 10100
    assert call.fraction == Fraction(1, 2)
    # 25 Dec 2027 is a Saturday: preceding -> Friday 24th; record date the business day before
    assert call.payment_date == dt.date(2027, 12, 24) and call.record_date == dt.date(2027, 12, 23)
    assert call.payment_time - call.record_time == 1


def test_call_on_a_coupon_date_pays_the_full_coupon(kanagawa):
    terms, schedule = kanagawa
    period = schedule.periods[3]
    call = call_terms(terms, schedule, period.accrual_end, Decimal("100"), Fraction(1))
    assert call.accrued_per_unit == period.coupon_per_unit


def test_thirty_360_accrual_counts_thirty_day_months(harbor):
    terms, schedule = harbor
    # 15 Jun 2027 -> 15 Sep 2027 is 90/360 under 30/360; $5,000 at 3.5 %
    call = call_terms(terms, schedule, dt.date(2027, 9, 15), Decimal("100"), Fraction(1))
    assert call.accrued_per_unit == Fraction(5000) * Fraction(35, 1000) * Fraction(90, 360)


@pytest.mark.parametrize(
    ("day", "price", "fraction", "field"),
    [
        (dt.date(2040, 1, 1), "100", Fraction(1), "date"),
        (dt.date(2028, 1, 1), "0", Fraction(1), "price"),
        (dt.date(2028, 1, 1), "100", Fraction(3, 2), "fraction"),
    ],
)
def test_bad_call_input_names_the_field(kanagawa, day, price, fraction, field):
    terms, schedule = kanagawa
    with pytest.raises(InputError) as error:
        call_terms(terms, schedule, day, Decimal(price), fraction)
    assert error.value.field == field
