"""Exact-money helpers for the payment-agent tests: params encoding and expected entitlements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from eth_abi import encode

PPM = 1_000_000
MAX_U32 = 2**32 - 1

# Tax classes used throughout the tests (the registry stores the class number per investor).
EXEMPT = 0
JP_INDIVIDUAL = 1
JP_CORPORATE = 2
SWISS = 3

PERIOD_TUPLE = "(uint64,uint64,uint64,uint64,uint128,uint128,uint128,uint128)"
INIT_PARAMS_TYPE = f"(address,address,address,bytes32,uint64,uint64,{PERIOD_TUPLE}[],(uint8,(uint32,address)[])[])"


@dataclass(frozen=True)
class Terms:
    """One payment period; amounts per unit are rationals in payment-token minor units."""

    record_time: int
    payment_time: int
    coupon: Fraction = Fraction(0)
    principal: Fraction = Fraction(0)
    redeem: Fraction = Fraction(0)

    def as_tuple(self) -> tuple[int, ...]:
        redeem_den = self.redeem.denominator if self.redeem else 1
        return (
            self.record_time,
            self.payment_time,
            self.redeem.numerator,
            redeem_den,
            self.coupon.numerator,
            self.coupon.denominator,
            self.principal.numerator,
            self.principal.denominator,
        )


@dataclass
class AgentParams:
    """Python mirror of IPaymentAgent.InitParams."""

    payment_token: str
    payer: str
    tax_account: str
    periods: Sequence[Terms]
    tax_classes: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    term_sheet_hash: bytes = b"\x11" * 32
    reclaim_delay: int = 30 * 86400
    call_notice: int = 30 * 86400

    def encode(self) -> bytes:
        """abi.encode(InitParams) as the agent's initialize expects it."""
        value = (
            self.payment_token,
            self.payer,
            self.tax_account,
            self.term_sheet_hash,
            self.reclaim_delay,
            self.call_notice,
            [t.as_tuple() for t in self.periods],
            [(cls, list(comps)) for cls, comps in self.tax_classes.items()],
        )
        return encode([INIT_PARAMS_TYPE], [value])


def gross_for(units: int, terms: Terms) -> tuple[int, int, int]:
    """Expected (coupon gross, principal gross, units redeemed) of one holder: floors of exact fractions."""
    coupon = int(units * terms.coupon)  # int() of a non-negative Fraction is floor
    if terms.redeem:
        redeemed = int(units * terms.redeem)
        principal = int(redeemed * terms.principal)
    else:
        redeemed = 0
        principal = int(units * terms.principal)
    return coupon, principal, redeemed


def taxes_for(coupon_gross: int, rates_ppm: Sequence[int]) -> list[int]:
    """Each withholding component floored separately."""
    return [int(coupon_gross * Fraction(rate, PPM)) for rate in rates_ppm]


def coupon_net_for(units: int, periods: Sequence[Terms], rates_ppm: Sequence[int]) -> int:
    """What a holder of `units` receives for the coupons of `periods` after each component's withholding."""
    total = 0
    for terms in periods:
        gross, _, _ = gross_for(units, terms)
        total += gross - sum(taxes_for(gross, rates_ppm))
    return total


def assert_conservation(agent: Any, period: int) -> Any:
    """funded == paid net + tax + escrowed + reclaimed + held, from the agent's own buckets."""
    a = agent.accounts(period)
    assert a.funded == a.paidNet + a.taxWithheld + a.escrowed + a.reclaimed + a.held
    return a
