"""Call terms: accrued coupon to the call date, record/payment dates, validation."""

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from munibond.call import call_option, call_price, call_terms, check_call_notice
from munibond.errors import InputError
from munibond.schedule import build_schedule
from munibond.terms import Call, load_term_sheet

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


def _with_calls(terms, *options):
    """The term sheet with `redemption.call` replaced by `options` (date, price, notice_days)."""
    calls = [Call(date=d, price=Decimal(p), notice_days=n) for d, p, n in options]
    return terms.model_copy(update={"redemption": terms.redemption.model_copy(update={"call": calls})})


def test_a_listed_call_date_takes_the_term_sheets_price(kanagawa):
    terms = _with_calls(kanagawa[0], (dt.date(2028, 3, 25), "101.5", 30), (dt.date(2029, 3, 25), "100.5", 30))
    price = call_price(terms, dt.date(2029, 3, 25), None, off_schedule=False)
    assert price == Decimal("100.5")
    assert call_option(terms, dt.date(2028, 3, 25)).price == Decimal("101.5")
    # the same price given explicitly is accepted; --off-schedule does not override a listed option
    assert call_price(terms, dt.date(2029, 3, 25), Decimal("100.50"), off_schedule=True) == (Decimal("100.5"))


def test_a_price_other_than_the_listed_one_is_refused(kanagawa):
    terms = _with_calls(kanagawa[0], (dt.date(2029, 3, 25), "100.5", 30))
    with pytest.raises(InputError) as err:
        call_price(terms, dt.date(2029, 3, 25), Decimal("100"), off_schedule=False)
    assert err.value.field == "price" and "is at 100.5, not 100" in err.value.message


def test_the_term_sheets_notice_is_counted_in_calendar_days_before_the_call_date(kanagawa):
    terms = _with_calls(kanagawa[0], (dt.date(2029, 3, 25), "100", 30))
    # 30 days before 25 Mar 2029 is 23 Feb 2029: announced that day is in time, a day later is not
    check_call_notice(terms, dt.date(2029, 3, 25), dt.date(2029, 2, 23))
    with pytest.raises(InputError) as err:
        check_call_notice(terms, dt.date(2029, 3, 25), dt.date(2029, 2, 24))
    assert err.value.field == "date" and "announced by 2029-02-23, today is 2029-02-24" in err.value.message
    check_call_notice(terms, dt.date(2028, 9, 25), dt.date(2028, 9, 24))  # not an option: the agent's notice only


def test_a_date_that_is_not_a_call_option_needs_off_schedule(kanagawa):
    terms = _with_calls(kanagawa[0], (dt.date(2028, 3, 25), "101", 30), (dt.date(2029, 3, 25), "100.5", 30))
    with pytest.raises(InputError) as err:
        call_price(terms, dt.date(2028, 9, 25), None, off_schedule=False)
    assert "is not a call date of the term sheet (2028-03-25, 2029-03-25)" in err.value.message
    assert "--off-schedule" in err.value.message
    assert call_price(terms, dt.date(2028, 9, 25), None, off_schedule=True) == 100
    assert call_price(terms, dt.date(2028, 9, 25), Decimal("102"), off_schedule=True) == 102


def test_a_bond_without_call_options_is_called_only_off_schedule(kanagawa):
    terms = kanagawa[0]
    assert terms.redemption.call == []
    with pytest.raises(InputError) as err:
        call_price(terms, dt.date(2029, 3, 25), Decimal("100"), off_schedule=False)
    assert "the term sheet lists no call option" in err.value.message


def test_call_terms_carry_the_price_they_were_computed_with(kanagawa):
    terms, schedule = kanagawa
    call = call_terms(terms, schedule, dt.date(2029, 3, 25), Decimal("100.5"), Fraction(1))
    assert call.price == Decimal("100.5") and call.principal_per_unit == 10050
