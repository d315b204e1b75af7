"""A deployed bond's terms in the field names of the ICMA Bond Data Taxonomy (BDT), read from the chain.

The chain is the reference: ISIN, denomination, aggregate nominal amount, issue and maturity dates, coupon
rate, frequency and type come from the token's ERC-7092 views; payment dates and the redemption amount from the
payment agent's periods. What the chain does not hold comes from the manifest (currency ISO code and minor
units, when recorded) or the term sheet it references (issuer name, day count fraction in full, business day
convention and centre, issuer's time zone); a term sheet that contradicts the chain is refused. Amounts are
decimal strings in currency units, exact; dates are ISO dates in the issuer's zone. docs/integration-export.md
maps each field.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.lookup import series_entry
from munibond.chain.series import COUPON_RATE_SCALE, COUPON_TYPE, day_count_basis
from munibond.chain.series_terms import series_currency, series_term_sheet
from munibond.chain.session import Session
from munibond.clock import local_date
from munibond.errors import InputError
from munibond.money import fraction_str
from munibond.terms import TermSheet

FORMAT = "icma-json"
BDT_VERSION = "1.2"

FREQUENCY = {1: "ANNUAL", 2: "SEMI_ANNUAL", 4: "QUARTERLY", 12: "MONTHLY"}
INTEREST_TYPE = {"fixed": "FIXED", "zero": "ZERO_COUPON"}
DAY_COUNT_FRACTION = {
    "ACT/ACT-ICMA": "ACT/ACT (ICMA)",
    "ACT/ACT-ISDA": "ACT/ACT (ISDA)",
    "ACT/360": "ACT/360",
    "ACT/365F": "ACT/365 (FIXED)",
    "NL/365": "NL/365",
    "30/360": "30/360",
    "30E/360": "30E/360",
}
BUSINESS_DAY_CONVENTION = {
    "following": "FOLLOWING",
    "modified_following": "MODIFIED_FOLLOWING",
    "preceding": "PRECEDING",
    "unadjusted": "NONE",
}
BUSINESS_CENTRE = {"JP": "JPTO", "CH": "CHZU", "US": "USNY", "TARGET": "EUTA", "NONE": "NONE"}


def decimal_text(value: Fraction, places: int) -> str:
    """`value` as an exact decimal string with at least `places` decimals (more only when needed); refused
    when it has no finite decimal expansion (it is then not an amount a currency can hold)."""
    scaled = value * 10**places
    extra = 0
    while scaled.denominator != 1:
        scaled *= 10
        extra += 1
        if extra > 36:
            raise ValueError(f"{value} has no exact decimal expansion")
    digits = places + extra
    sign = "-" if scaled < 0 else ""
    whole, rest = divmod(abs(scaled.numerator), 10**digits)
    return f"{sign}{whole}" + (f".{rest:0{digits}d}" if digits else "")


def per_unit_text(value: Fraction, places: int) -> str:
    """A per-unit amount: an exact decimal string, or "p/q" when it has no finite decimal expansion (a coupon
    per unit of a broken period, e.g. 3009/73 yen: holders' amounts are floored from it, never from a rounding)."""
    try:
        return decimal_text(value, places)
    except ValueError:
        return fraction_str(value)


def _refuse_mismatch(symbol: str, terms: TermSheet, field: str, chain: object, sheet: object) -> None:
    raise InputError(
        f"the term sheet referenced by the manifest says {sheet!r}, the chain {chain!r}: export reads the chain "
        f"and cannot complete {symbol} from a term sheet that differs from it",
        file=terms.source_file,
        field=field,
    )


def _payable_dates(terms: TermSheet, frequency: int) -> list[dict[str, int]]:
    """The recurring (unadjusted) coupon day and months, counted back from maturity."""
    step = 12 // frequency
    months = sorted({(terms.maturity_date.month - 1 - step * k) % 12 + 1 for k in range(frequency)})
    return [{"Day": terms.maturity_date.day, "Month": month} for month in months]


def export_icma(session: Session, symbol: str) -> dict[str, Any]:
    """The BDT document of `symbol` (see the module docstring for where each value comes from)."""
    entry = series_entry(session, symbol)
    token = bond_token(session.project, entry["token"])
    agent = payment_agent(session.project, entry["payment_agent"])
    terms = series_term_sheet(session, symbol)
    currency = series_currency(session, symbol)
    tz = terms.timezone
    on_chain = token.bondTerms()

    isin = str(on_chain.isin)
    if isin != terms.isin:
        _refuse_mismatch(symbol, terms, "isin", isin, terms.isin)
    if currency.code != terms.currency:
        _refuse_mismatch(symbol, terms, "currency", currency.code, terms.currency)
    basis = int(on_chain.dayCountBasis)
    day_count = terms.coupon.day_count or "ACT/ACT-ICMA"
    if day_count_basis(terms) != basis:
        _refuse_mismatch(symbol, terms, "coupon.day_count", basis, day_count)
    coupon_type = next(name for name, code in COUPON_TYPE.items() if code == int(on_chain.couponType))
    if coupon_type != terms.coupon.type:
        _refuse_mismatch(symbol, terms, "coupon.type", coupon_type, terms.coupon.type)

    minor = currency.minor_units
    denomination = Fraction(int(on_chain.denomination), 10**minor)
    nominal = Fraction(int(on_chain.issueVolume), 10**minor)
    issue_date = local_date(int(on_chain.issueDate), tz)
    maturity_date = local_date(int(on_chain.maturityDate), tz)
    frequency = int(on_chain.couponFrequency)
    rate = Fraction(int(on_chain.couponRate), COUPON_RATE_SCALE)
    if rate != Fraction(terms.coupon.rate or 0):
        _refuse_mismatch(symbol, terms, "coupon.rate", str(rate), str(terms.coupon.rate))

    decimals = int(payment_token_at(entry["payment_token"]).decimals())
    per_unit = Fraction(10 ** (decimals - minor)) * int(on_chain.denomination)  # base units per unit of face
    periods = []
    amortizing = False
    redemption_percent = Fraction(0)
    count = int(agent.periodCount())
    for index in range(count):
        state = agent.periodState(index)
        if state.cancelled:
            continue
        p = agent.periodTerms(index)
        principal = Fraction(int(p.principalNum), int(p.principalDen))
        coupon = Fraction(int(p.couponNum), int(p.couponDen))
        final = int(p.redeemNum) == int(p.redeemDen) and int(p.redeemDen) != 0
        if principal and not final:
            amortizing = True
        if final:
            redemption_percent = principal / per_unit * 100
        scale = Fraction(10**decimals)
        periods.append(
            {
                "Period": index + 1,
                "RecordDate": local_date(int(p.recordTime), tz).isoformat(),
                "PaymentDate": local_date(int(p.paymentTime), tz).isoformat(),
                "InterestAmountPerDenomination": per_unit_text(coupon / scale, minor),
                "PrincipalAmountPerDenomination": per_unit_text(principal / scale, minor),
                "Redemption": final,
            }
        )
    if amortizing:
        basis_text = "AMORTISING"
    elif redemption_percent == 100:
        basis_text = "REDEMPTION_AT_PAR"
    else:
        basis_text = "REDEMPTION_AT_PREMIUM" if redemption_percent > 100 else "REDEMPTION_AT_DISCOUNT"
    interest_dates = [p["PaymentDate"] for p in periods]

    interest: dict[str, Any] = {"InterestType": INTEREST_TYPE[coupon_type]}
    if coupon_type == "fixed":
        interest |= {
            "InterestRate": decimal_text(rate * 100, 0),
            "InterestCommencementDate": issue_date.isoformat(),
            "InterestPayments": {
                "InterestPaymentFrequency": FREQUENCY[frequency],
                "PayableDate": _payable_dates(terms, frequency),
                "FirstPayment": {"PaymentDate": interest_dates[0]},
            },
        }
    return {
        "ICMABondDataTaxonomy": {
            "PartyRole": [{"PartyRoleType": "ISSUER", "PartyID": {"PID": "ISSUER"}}],
            "Party": [{"PID": "ISSUER", "PartyName": terms.issuer}],
            "Issuance": {
                "SpecifiedDenomination": decimal_text(denomination, minor),
                "SpecifiedCurrency": currency.code,
                "IssueDate": issue_date.isoformat(),
                "RedemptionPaymentBasis": basis_text,
            },
            "Product": {
                "SecurityIdentifierList": {"SecurityIdentifier": [{"ISIN": isin, "IdentifierType": "ISIN"}]},
                "AggregateNominalAmount": decimal_text(nominal, minor),
                "MaturityDate": maturity_date.isoformat(),
                "InterestPayment": interest,
                "DayCountFraction": DAY_COUNT_FRACTION[day_count],
                "BusinessDayConvention": BUSINESS_DAY_CONVENTION[terms.business_day_convention],
                "BusinessDayCenter": BUSINESS_CENTRE[terms.calendar],
            },
        },
        "munibond": {
            "format": FORMAT,
            "bdt_version": BDT_VERSION,
            "exported_at": dt.datetime.fromtimestamp(session.now(), dt.UTC).isoformat(),
            "chain_id": session.manifest.chain_id,
            "token": str(entry["token"]),
            "payment_agent": str(entry["payment_agent"]),
            "payment_token": str(entry["payment_token"]),
            "name": str(token.name()),
            "symbol": symbol,
            "currency_minor_units": minor,
            "time_zone": tz,
            "business_calendar": terms.calendar,
            "stub_day_count": terms.coupon.stub_day_count,
            "redemption_price_percent": per_unit_text(redemption_percent, 0),
            "payment_dates": interest_dates,
            "periods": periods,
        },
    }
