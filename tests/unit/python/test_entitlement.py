"""One holder's entitlement for a period, computed off chain with the payment agent's rounding."""

from fractions import Fraction

from munibond.entitlement import entitlement

JP_INDIVIDUAL = (153_150, 50_000)


def test_a_stub_coupon_is_floored_once_and_each_tax_component_separately():
    # 35 units × 3009/73 yen = 1442.67… -> 1442; 15.315 % -> 220.84… -> 220; 5 % -> 72.1 -> 72
    e = entitlement(
        "h",
        35,
        coupon=Fraction(3009, 73),
        principal=Fraction(0),
        redeemed=Fraction(0),
        rates_ppm=JP_INDIVIDUAL,
        escrowed=False,
        held_now=35,
    )
    assert (e.coupon_gross, e.taxes, e.net, e.principal_gross, e.units_retired) == (1442, (220, 72), 1150, 0, 0)


def test_a_partial_call_floors_the_retired_units_before_pricing_them_and_never_taxes_principal():
    # 7 units, a third called at 100.5 % of ¥10,000: floor(7/3) = 2 units retired, 2 × 10,050 principal
    e = entitlement(
        "h",
        7,
        coupon=Fraction(85, 2),
        principal=Fraction(10050),
        redeemed=Fraction(1, 3),
        rates_ppm=(153_150,),
        escrowed=False,
        held_now=7,
    )
    assert (e.coupon_gross, e.units_retired, e.principal_gross) == (297, 2, 20100)
    assert e.taxes == (297 * 153_150 // 1_000_000,) and e.net == 297 + 20100 - e.taxes[0]


def test_units_sold_after_the_record_date_are_paid_but_only_what_is_held_is_burned():
    e = entitlement(
        "h",
        30,
        coupon=Fraction(0),
        principal=Fraction(10000),
        redeemed=Fraction(1),
        rates_ppm=(),
        escrowed=False,
        held_now=20,
    )
    assert (e.principal_gross, e.units_retired, e.net) == (300000, 20, 300000)


def test_an_escrowed_holder_keeps_its_gross_without_withholding_or_net():
    e = entitlement(
        "h",
        10,
        coupon=Fraction(85, 2),
        principal=Fraction(0),
        redeemed=Fraction(0),
        rates_ppm=JP_INDIVIDUAL,
        escrowed=True,
        held_now=10,
    )
    assert (e.coupon_gross, e.taxes, e.net, e.escrowed) == (425, (), 0, True)
