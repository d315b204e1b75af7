"""Exact money, rounding policy and withholding (no chain)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from munibond.errors import AmountError, InputError
from munibond.money import (
    TAX_CLASSES,
    TAX_CLASSES_BY_ID,
    Money,
    as_ratio,
    currency,
    distribute,
    floor_to_minor_units,
    format_minor,
    from_token_amount,
    funding_required,
    gross_entitlement,
    parse_decimal,
    rate_to_ppm,
    tax_class,
    to_minor_units,
    to_token_amount,
)


def test_iso4217_minor_units():
    assert currency("JPY").minor_units == 0
    assert currency("CHF").minor_units == 2
    assert currency("USD").minor_units == 2
    assert currency("EUR").minor_units == 2
    assert currency("BHD").minor_units == 3
    with pytest.raises(AmountError, match="unknown currency"):
        currency("jpy")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.0085", Decimal("0.0085")), ("100", Decimal(100)), ("0", Decimal(0)), (12, Decimal(12))],
)
def test_parse_decimal_accepts_plain_decimals(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0.0085, "got float 0.0085"),
        ("NaN", "plain decimal"),
        ("Infinity", "plain decimal"),
        ("1e-3", "plain decimal"),
        ("+1", "plain decimal"),
        ("01.5", "plain decimal"),
        ("1,000", "plain decimal"),
        ("1.", "plain decimal"),
        (" 1", "plain decimal"),
        ("-1", "must not be negative"),
        (True, "got bool"),
        (Decimal("NaN"), "finite"),
    ],
)
def test_parse_decimal_rejects(value, fragment):
    with pytest.raises(AmountError, match=fragment):
        parse_decimal(value)


def test_parse_decimal_negative_only_when_allowed():
    assert parse_decimal("-1.5", negative=True) == Decimal("-1.5")


def test_money_parse_respects_minor_units():
    assert Money.parse("12.34", "CHF").minor == 1234
    assert Money.parse("10000", "JPY").minor == 10000
    with pytest.raises(AmountError, match="minor units"):
        Money.parse("12.345", "CHF")
    with pytest.raises(AmountError, match="minor units"):
        Money.parse("1.5", "JPY")
    assert str(Money.parse("1234567.5", "CHF")) == "CHF 1,234,567.50"
    assert str(Money.parse("1000000", "JPY")) == "JPY 1,000,000"
    with pytest.raises(AmountError, match="currency mismatch"):
        Money.parse("1", "CHF") + Money.parse("1", "USD")
    assert (Money.parse("1.25", "CHF") + Money.parse("2.80", "CHF")).minor == 405
    with pytest.raises(AmountError):
        Money(currency("JPY"), 1.0)  # type: ignore[arg-type]


def test_inexact_conversions_are_errors_not_rounding():
    assert to_minor_units(Fraction(1, 4), "CHF") == 25
    with pytest.raises(AmountError):
        to_minor_units(Fraction(1, 3), "CHF")
    with pytest.raises(AmountError, match="float"):
        to_minor_units(0.25, "CHF")  # type: ignore[arg-type]
    # 3009/73 yen = 41.2191... -> floor 41
    assert floor_to_minor_units(Fraction(3009, 73), "JPY") == 41
    assert floor_to_minor_units(Fraction(3009, 73), "CHF") == 4121
    assert format_minor(-5, "CHF") == "-0.05"


def test_rate_to_ppm():
    # 15.315 % = 153,150 parts per million; 5 % = 50,000; 35 % = 350,000
    assert rate_to_ppm("0.15315") == 153_150
    assert rate_to_ppm(Decimal("0.05")) == 50_000
    assert rate_to_ppm("0.35") == 350_000
    assert rate_to_ppm(Fraction(1, 8)) == 125_000
    with pytest.raises(AmountError, match="parts per million"):
        rate_to_ppm("0.0000001")
    with pytest.raises(AmountError, match="parts per million"):
        rate_to_ppm(Fraction(1, 3))


def test_tax_class_table():
    assert 0 not in TAX_CLASSES_BY_ID  # 0 = unassigned, never "exempt"
    assert len(TAX_CLASSES_BY_ID) == len(TAX_CLASSES)
    assert all(0 < t.id < 256 for t in TAX_CLASSES.values())
    assert tax_class("jp_individual").rates_ppm == (153_150, 50_000)
    assert tax_class("jp_corporate").rates_ppm == (153_150,)
    assert tax_class("ch_35").rates_ppm == (350_000,)
    for name in ("exempt", "jp_exempt", "us_exempt"):
        assert tax_class(name).components == ()
    assert tax_class(tax_class("ch_35").id).name == "ch_35"
    with pytest.raises(InputError, match="unknown tax class"):
        tax_class("jp_resident")


# Expected figures worked by hand: each component floored separately from the gross.
@pytest.mark.parametrize(
    ("klass", "gross", "taxes", "net"),
    [
        # ¥42: 42 × 0.15315 = 6.4323 -> 6; 42 × 0.05 = 2.1 -> 2; net 34
        ("jp_individual", 42, (6, 2), 34),
        # ¥85: 13.01775 -> 13; 4.25 -> 4; net 68
        ("jp_individual", 85, (13, 4), 68),
        # ¥10,000: 1531.5 -> 1531; 500; net 7969
        ("jp_individual", 10_000, (1531, 500), 7969),
        # ¥6: 0.9189 -> 0; 0.3 -> 0: nothing withheld on tiny amounts
        ("jp_individual", 6, (0, 0), 6),
        # ¥42,500 corporate: 6508.875 -> 6508
        ("jp_corporate", 42_500, (6508,), 35_992),
        ("jp_exempt", 42_500, (), 42_500),
        # CHF 31.25 = 3125 centimes: 1093.75 -> 1093
        ("ch_35", 3125, (1093,), 2032),
        ("us_exempt", 3125, (), 3125),
    ],
)
def test_withholding_examples(klass, gross, taxes, net):
    w = tax_class(klass).withhold(gross)
    assert tuple(amount for _, amount in w.taxes) == taxes
    assert w.net == net
    assert w.net + w.tax == gross


def test_withholding_refuses_bad_gross():
    with pytest.raises(AmountError):
        tax_class("jp_individual").withhold(-1)
    with pytest.raises(AmountError):
        tax_class("jp_individual").withhold(10.0)  # type: ignore[arg-type]


def test_gross_entitlement_floor_per_holder():
    per_unit = Fraction(85, 2)  # ¥42.5 per ¥10,000 unit (0.85 % semi-annual)
    assert gross_entitlement(1, per_unit) == 42
    assert gross_entitlement(2, per_unit) == 85
    assert gross_entitlement(3, per_unit) == 127
    assert gross_entitlement(0, per_unit) == 0
    with pytest.raises(AmountError):
        gross_entitlement(-1, per_unit)


def test_distribution_remainder_example():
    # Three holders of 1 unit at ¥42.5: each gets 42, funded floor(3 × 42.5) = 127, remainder 1.
    d = distribute({"a": (1, "jp_individual"), "b": (1, "jp_corporate"), "c": (1, "exempt")}, Fraction(85, 2))
    assert [p.withholding.gross for p in d.payments] == [42, 42, 42]
    assert d.funded == 127
    assert d.remainder == 1
    assert [p.withholding.net for p in d.payments] == [34, 36, 42]
    assert d.total_tax == 8 + 6


@given(
    holdings=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(sorted(TAX_CLASSES))), min_size=1, max_size=40),
    numerator=st.integers(0, 10**9),
    denominator=st.integers(1, 10**6),
)
def test_distribution_properties(holdings, numerator, denominator):
    per_unit = Fraction(numerator, denominator)
    d = distribute({i: h for i, h in enumerate(holdings)}, per_unit)
    total_units = sum(u for u, _ in holdings)
    assert d.funded == funding_required(total_units, per_unit)
    assert d.total_gross <= d.funded
    assert 0 <= d.remainder < max(len(holdings), 1)
    assert d.funded == d.total_net + d.total_tax + d.remainder  # conservation with nothing escrowed
    for p in d.payments:
        exact = p.units * per_unit
        assert p.withholding.gross <= exact < p.withholding.gross + 1
        assert p.withholding.net + p.withholding.tax == p.withholding.gross
        assert p.withholding.net >= 0


@given(gross=st.integers(0, 10**15), klass=st.sampled_from(sorted(TAX_CLASSES)))
def test_each_component_is_floor_of_gross_times_rate(gross, klass):
    tc = TAX_CLASSES[klass]
    w = tc.withhold(gross)
    for (name, amount), component in zip(w.taxes, tc.components, strict=True):
        assert name == component.name
        exact = Fraction(gross) * Fraction(component.rate)
        assert amount <= exact < amount + 1
        # the on-chain formula with ppm gives the same figure
        assert amount == gross * component.rate_ppm // 1_000_000


def test_token_amount_conversion():
    assert to_token_amount(1234, "JPY", 18) == 1234 * 10**18
    assert to_token_amount(1234, "JPY", 0) == 1234
    assert to_token_amount(12_345, "USD", 6) == 123_450_000  # $123.45 in a 6-decimal stablecoin
    assert to_token_amount(1200, "CHF", 0) == 12
    with pytest.raises(AmountError, match="not representable"):
        to_token_amount(1250, "CHF", 0)
    with pytest.raises(AmountError):
        to_token_amount(1, "CHF", -1)
    assert from_token_amount(123_450_000, "USD", 6) == 12_345
    assert from_token_amount(12, "CHF", 0) == 1200
    with pytest.raises(AmountError, match="finer"):
        from_token_amount(123_450_001, "USD", 6)


@given(minor=st.integers(0, 10**20), decimals=st.integers(2, 30))
def test_token_round_trip(minor, decimals):
    assert from_token_amount(to_token_amount(minor, "CHF", decimals), "CHF", decimals) == minor


def test_as_ratio():
    assert as_ratio(Fraction(3009, 73)) == (3009, 73)
    assert as_ratio(Fraction(170, 4)) == (85, 2)
    with pytest.raises(AmountError):
        as_ratio(Fraction(-1, 2))
