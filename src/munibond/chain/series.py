"""From a validated term sheet and its schedule to the factory's `SeriesParams` for one bond series.

Pure translation, no chain access: every number that goes on chain is computed here exactly (integers and
Fractions) so that a bad term sheet fails before any transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_abi import encode

from munibond.clock import day_start
from munibond.errors import InputError
from munibond.money import TAX_CLASSES_BY_ID
from munibond.schedule import Schedule
from munibond.terms import TermSheet

UINT64_MAX = 2**64 - 1
UINT96_MAX = 2**96 - 1
UINT128_MAX = 2**128 - 1

# ERC-7092 style views: couponType 0 zero, 1 fixed. dayCountBasis: one code per day-count convention the term
# sheet accepts, the regular periods' in bits [0,4) and the stub periods' plus one in bits [4,8) (0 = as regular).
COUPON_TYPE = {"zero": 0, "fixed": 1}
DAY_COUNT_BASIS = {
    "ACT/ACT-ICMA": 0,
    "ACT/360": 1,
    "ACT/365F": 2,
    "30/360": 3,
    "ACT/ACT-ISDA": 4,
    "NL/365": 5,
    "30E/360": 6,
}
STUB_DAY_COUNT_SHIFT = 4
# The token's couponRate is the annual rate times COUPON_RATE_SCALE (1 = 0.000001 %).
COUPON_RATE_SCALE = 10**8

PERIOD_TERMS_ABI = "(uint64,uint64,uint64,uint64,uint128,uint128,uint128,uint128)"
TAX_CLASS_ABI = "(uint8,(uint32,address)[])"
INIT_PARAMS_ABI = f"(address,address,address,bytes32,uint64,uint64,{PERIOD_TERMS_ABI}[],{TAX_CLASS_ABI}[])"

# Unclaimed coupons can be reclaimed by the issuer this long after the payment date (Japanese bonds:
# interest claims prescribe after 5 years, principal after 10; the agent keeps them claimable 5 years).
DEFAULT_RECLAIM_DELAY = 5 * 365 * 24 * 3600
DEFAULT_CALL_NOTICE = 30 * 24 * 3600


@dataclass(frozen=True)
class PeriodOnChain:
    """One schedule period as the payment agent stores it (amounts in payment-token base units)."""

    record_time: int
    payment_time: int
    redeem_num: int
    redeem_den: int
    coupon: Fraction
    principal: Fraction

    @classmethod
    def from_agent(cls, terms: Any) -> PeriodOnChain:
        """From the agent's `periodTerms` struct."""
        return cls(
            int(terms.recordTime),
            int(terms.paymentTime),
            int(terms.redeemNum),
            int(terms.redeemDen),
            Fraction(int(terms.couponNum), int(terms.couponDen)),
            Fraction(int(terms.principalNum), int(terms.principalDen)),
        )

    def same_terms(self, other: PeriodOnChain) -> bool:
        """Equal as amounts (fractions compared reduced; a redeemed 0/d equals 0/1)."""
        return (
            (self.record_time, self.payment_time) == (other.record_time, other.payment_time)
            and Fraction(self.redeem_num, self.redeem_den or 1) == Fraction(other.redeem_num, other.redeem_den or 1)
            and (self.coupon, self.principal) == (other.coupon, other.principal)
        )

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.record_time,
            self.payment_time,
            self.redeem_num,
            self.redeem_den,
            self.coupon.numerator,
            self.coupon.denominator,
            self.principal.numerator,
            self.principal.denominator,
        )


def token_scale(terms: TermSheet, payment_token_decimals: int) -> int:
    """Payment-token base units per currency minor unit (e.g. JPY (0) paid in an 18-decimal token: 10**18)."""
    minor = terms.minor_units
    if payment_token_decimals < minor:
        raise InputError(
            f"payment token has {payment_token_decimals} decimals, fewer than the {minor} minor units of "
            f"{terms.currency}; amounts would not be exact",
            file=terms.source_file,
            field="payment_token",
        )
    return 10 ** (payment_token_decimals - minor)


def periods_on_chain(terms: TermSheet, schedule: Schedule, payment_token_decimals: int) -> list[PeriodOnChain]:
    """The payment agent's schedule: coupons per unit and principal per unit in payment-token base units.

    The last period retires every unit (redeem fraction 1/1) and pays the redemption price on it; earlier
    amortization periods pay principal on each held unit without burning.
    """
    scale = token_scale(terms, payment_token_decimals)
    currency = terms.currency_info
    result = []
    last = len(schedule.periods) - 1
    for i, period in enumerate(schedule.periods):
        coupon = period.coupon_per_unit_minor(currency) * scale
        principal = period.principal_per_unit_minor(currency) * scale
        redeem = (1, 1) if i == last else (0, 1)
        for what, value in (("coupon", coupon), ("principal", principal)):
            if value.numerator > UINT128_MAX or value.denominator > UINT128_MAX:
                raise InputError(
                    f"period {period.index}: {what} per unit {value} does not fit the contract's 128-bit fraction",
                    file=terms.source_file,
                    field="coupon",
                )
        result.append(PeriodOnChain(period.record_time, period.payment_time, *redeem, coupon, principal))
    return result


def tax_class_configs(
    tax_account: str, component_accounts: Mapping[str, str] | None = None
) -> list[tuple[int, list[tuple[int, str]]]]:
    """Withholding per tax class id, in ppm, each component to its account in `component_accounts` (by component
    name, e.g. jp_local), else to `tax_account`."""
    accounts = component_accounts or {}
    configs = []
    for class_id, tax_class in sorted(TAX_CLASSES_BY_ID.items()):
        components = [(c.rate_ppm, accounts.get(c.name, tax_account)) for c in tax_class.components]
        if components:
            configs.append((class_id, components))
    return configs


def payment_agent_params(
    terms: TermSheet,
    schedule: Schedule,
    *,
    payment_token: str,
    payment_token_decimals: int,
    payer: str,
    tax_account: str,
    term_sheet_hash: bytes,
    reclaim_delay: int = DEFAULT_RECLAIM_DELAY,
    call_notice: int = DEFAULT_CALL_NOTICE,
    component_accounts: Mapping[str, str] | None = None,
) -> bytes:
    """`abi.encode(IPaymentAgent.InitParams)` for the factory to pass to the series' payment code."""
    periods = [p.as_tuple() for p in periods_on_chain(terms, schedule, payment_token_decimals)]
    value = (
        payment_token,
        payer,
        tax_account,
        term_sheet_hash,
        reclaim_delay,
        call_notice,
        periods,
        tax_class_configs(tax_account, component_accounts),
    )
    return encode([INIT_PARAMS_ABI], [value])


def compliance_struct(**rules: Any) -> dict[str, Any]:
    """The factory's `ComplianceConfig` struct with every rule off (zero / empty) unless given."""
    config: dict[str, Any] = {
        "maxHolders": 0,
        "maxPerInvestor": 0,
        "minHolding": 0,
        "holdingMultiple": 0,
        "lockUpUntil": 0,
        "allowedCountries": [],
        "regionCountries": [],
        "regions": [],
        "blackoutStarts": [],
        "blackoutEnds": [],
    }
    unknown = set(rules) - set(config)
    if unknown:
        raise ValueError(f"unknown compliance rules: {sorted(unknown)}")
    config.update(rules)
    return config


def compliance_config(terms: TermSheet) -> dict[str, Any]:
    rules = terms.compliance
    max_holding = terms.max_holding_units
    if max_holding is not None and max_holding > UINT96_MAX:
        raise terms.input_error("too large for the contract (96 bits)", "compliance", "max_holding_per_investor")
    return compliance_struct(
        maxHolders=rules.max_holders or 0,
        maxPerInvestor=max_holding or 0,
        minHolding=terms.min_holding_units or 0,
        lockUpUntil=terms.lockup_until_time or 0,
        allowedCountries=list(rules.countries),
        regionCountries=[r.country for r in rules.regions],
        regions=[r.region for r in rules.regions],
        blackoutStarts=[start for start, _ in terms.blackout_times],
        blackoutEnds=[end for _, end in terms.blackout_times],
    )


def coupon_rate_scaled(terms: TermSheet) -> int:
    """The token's couponRate: the annual rate times COUPON_RATE_SCALE, exact or refused."""
    scaled = Fraction(terms.coupon.rate or 0) * COUPON_RATE_SCALE
    if scaled.denominator != 1:
        raise terms.input_error(
            f"{terms.coupon.rate} is finer than the token's coupon rate can hold exactly (steps of 0.000001 %)",
            "coupon",
            "rate",
        )
    return int(scaled)


def day_count_basis(terms: TermSheet) -> int:
    """The token's dayCountBasis: the regular convention's code, and the stub convention's plus one above it."""
    coupon = terms.coupon
    regular = coupon.day_count or "ACT/ACT-ICMA"
    stub = coupon.stub_day_count
    if stub is None or stub == regular:
        return DAY_COUNT_BASIS[regular]
    return DAY_COUNT_BASIS[regular] | (DAY_COUNT_BASIS[stub] + 1) << STUB_DAY_COUNT_SHIFT


def bond_terms(terms: TermSheet, payment_token: str) -> dict[str, Any]:
    return {
        "isin": terms.isin,
        "currency": payment_token,
        "denomination": terms.denomination_minor,
        "issueVolume": terms.total_units * terms.denomination_minor,
        "couponRate": coupon_rate_scaled(terms),
        "couponFrequency": terms.coupon.frequency or 0,
        "couponType": COUPON_TYPE[terms.coupon.type],
        "issueDate": day_start(terms.issue_date, terms.timezone),
        "maturityDate": day_start(terms.maturity_date, terms.timezone),
        "dayCountBasis": day_count_basis(terms),
    }


def series_params(
    terms: TermSheet,
    schedule: Schedule,
    *,
    roles: dict[str, str],
    payment_token: str,
    agent_params: bytes,
) -> dict[str, Any]:
    """The factory's `SeriesParams` struct as a dict Ape can encode."""
    return {
        "name": terms.name,
        "symbol": terms.symbol,
        "decimals": 0,
        "terms": bond_terms(terms, payment_token),
        "roles": roles,
        "compliance": compliance_config(terms),
        "recordTimes": schedule.record_times,
        "paymentAgentParams": agent_params,
    }
