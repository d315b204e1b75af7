"""A holder's entitlement for one period, computed off chain exactly as the payment agent pays it.

Coupon gross = floor(units × coupon per unit); on a period that retires units, retired = floor(units ×
redeemed fraction) and principal = floor(retired × principal per unit), otherwise principal = floor(units ×
principal per unit). Each withholding component is floor(coupon gross × rate ppm / 1,000,000) (principal is
never taxed). A holder frozen or unverified at payment is escrowed gross, without withholding. Used for
previews (`--dry-run`) and to cross-check the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from munibond.money import gross_entitlement

PPM = 1_000_000


@dataclass(frozen=True)
class Entitlement:
    holder: str
    units: int  # at the record date
    coupon_gross: int  # payment-token base units
    principal_gross: int
    units_retired: int  # burned with the payment (at most what the wallet still holds)
    taxes: tuple[int, ...]  # one per withholding component of the holder's class; () when escrowed
    net: int  # paid to the holder now; 0 when escrowed
    escrowed: bool


def entitlement(
    holder: str,
    units: int,
    *,
    coupon: Fraction,
    principal: Fraction,
    redeemed: Fraction,
    rates_ppm: tuple[int, ...],
    escrowed: bool,
    held_now: int,
) -> Entitlement:
    """The entitlement of `holder` holding `units` at the record date (`held_now` now: retired units are burned
    from what the wallet still holds), per-unit amounts in payment-token units."""
    coupon_gross = gross_entitlement(units, coupon)
    retired = gross_entitlement(units, redeemed) if redeemed else 0
    principal_gross = gross_entitlement(retired if redeemed else units, principal)
    retired = min(retired, held_now)
    if escrowed:
        return Entitlement(holder, units, coupon_gross, principal_gross, retired, (), 0, True)
    taxes = tuple(coupon_gross * ppm // PPM for ppm in rates_ppm) if coupon_gross else tuple(0 for _ in rates_ppm)
    net = coupon_gross + principal_gross - sum(taxes)
    return Entitlement(holder, units, coupon_gross, principal_gross, retired, taxes, net, False)
