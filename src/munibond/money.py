"""Exact money: currencies, amounts in integer minor units, rates, rounding and withholding tax.

Rounding policy (see docs/rounding.md):

* the amount per unit is exact, unless the term sheet truncates the interest per unit of currency first
  (`coupon.rounding`, applied by the schedule with `truncate_decimals`);
* per holder and period, gross = floor(units × amount_per_unit), taken in the currency's minor unit;
* each withholding component = floor(gross × rate), computed separately from the gross;
* net = gross − Σ components.

No float ever enters this module: amounts are `int` minor units, per-unit amounts and year fractions are
`fractions.Fraction`, rates are `decimal.Decimal` parsed from decimal strings.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from munibond.errors import AmountError

PPM = 1_000_000

# ISO 4217: alphabetic code -> (numeric code, minor units). A deliberate subset: the currencies a municipal
# issuer or a stablecoin is likely to use; add more here (one place) when needed.
_ISO_4217: dict[str, tuple[int, int]] = {
    "JPY": (392, 0),
    "KRW": (410, 0),
    "CLP": (152, 0),
    "ISK": (352, 0),
    "CHF": (756, 2),
    "USD": (840, 2),
    "EUR": (978, 2),
    "GBP": (826, 2),
    "CAD": (124, 2),
    "AUD": (36, 2),
    "NZD": (554, 2),
    "SGD": (702, 2),
    "HKD": (344, 2),
    "CNY": (156, 2),
    "SEK": (752, 2),
    "NOK": (578, 2),
    "DKK": (208, 2),
    "BHD": (48, 3),
    "KWD": (414, 3),
    "OMR": (512, 3),
    "TND": (788, 3),
}


@dataclass(frozen=True)
class Currency:
    """An ISO 4217 currency with its number of minor units (JPY 0, CHF 2, BHD 3)."""

    code: str
    numeric: int
    minor_units: int

    @property
    def scale(self) -> int:
        """Minor units in one major unit (1 for JPY, 100 for CHF)."""
        return 10**self.minor_units

    def __str__(self) -> str:
        return self.code


CURRENCIES: Mapping[str, Currency] = MappingProxyType(
    {code: Currency(code, numeric, minor) for code, (numeric, minor) in _ISO_4217.items()}
)


def currency(code: str | Currency) -> Currency:
    """The currency for an ISO 4217 alphabetic code (exact, upper case)."""
    if isinstance(code, Currency):
        return code
    if not isinstance(code, str) or code not in CURRENCIES:
        known = ", ".join(sorted(CURRENCIES))
        raise AmountError(f"unknown currency {code!r}: expected an ISO 4217 code ({known})")
    return CURRENCIES[code]


_DECIMAL_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def parse_decimal(value: object, *, what: str = "value", example: str = "0.0085", negative: bool = False) -> Decimal:
    """Parse an exact decimal from a string like "0.0085" (or an int).

    Floats are refused (they are already rounded binary fractions), as are NaN/infinity, exponent forms
    ("1e-3"), leading '+', leading zeros, thousands separators and, unless `negative`, negative values.
    """
    if isinstance(value, bool):
        raise AmountError(f"{what} must be a decimal string like {example!r}, got bool {value!r}")
    if isinstance(value, float):
        raise AmountError(f'{what} must be a decimal string like "{example}", got float {value!r}')
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"{what} must be finite, got {value}")
        result = value
    elif isinstance(value, str):
        if not _DECIMAL_RE.fullmatch(value):
            raise AmountError(f'{what} must be a plain decimal string like "{example}", got {value!r}')
        result = Decimal(value)
    else:
        raise AmountError(f'{what} must be a decimal string like "{example}", got {type(value).__name__}')
    if result < 0 and not negative:
        raise AmountError(f"{what} must not be negative, got {value}")
    return result


def to_fraction(value: Decimal | Fraction | int) -> Fraction:
    """Exact conversion to Fraction (Decimal and int are exact; float is refused)."""
    if isinstance(value, (bool, float)):
        raise AmountError(f"refusing inexact {type(value).__name__} {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise AmountError(f"refusing non-finite {value}")
    return Fraction(value)


def fraction_str(value: Fraction | int) -> str:
    """Reduced "p/q", or "p" when the denominator is 1."""
    value = Fraction(value)
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def to_minor_units(amount: Decimal | Fraction | int, ccy: str | Currency) -> int:
    """An amount in currency units as integer minor units; error if it has finer precision."""
    cur = currency(ccy)
    scaled = to_fraction(amount) * cur.scale
    if scaled.denominator != 1:
        raise AmountError(f"{amount} {cur.code} is not a whole number of minor units (1/{cur.scale})")
    return scaled.numerator


def floor_to_minor_units(amount: Fraction | Decimal | int, ccy: str | Currency) -> int:
    """floor(amount × 10^minor_units): a currency-unit amount truncated to the minor unit."""
    cur = currency(ccy)
    return _floor(to_fraction(amount) * cur.scale)


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


def truncate_decimals(value: Fraction | Decimal | int, decimals: int) -> Fraction:
    """`value` (≥ 0) truncated below `decimals` decimal places, exactly: floor(value × 10^decimals) / 10^decimals."""
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise AmountError(f"decimals must be a non-negative int, got {decimals!r}")
    exact = to_fraction(value)
    if exact < 0:
        raise AmountError(f"refusing to truncate a negative amount {exact}")
    scale = 10**decimals
    return Fraction(_floor(exact * scale), scale)


def format_minor(minor: int, ccy: str | Currency) -> str:
    """Human-readable amount, e.g. format_minor(1234550, "CHF") == "12,345.50"."""
    cur = currency(ccy)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), cur.scale)
    text = f"{whole:,}"
    if cur.minor_units:
        text += f".{frac:0{cur.minor_units}d}"
    return sign + text


@dataclass(frozen=True)
class Money:
    """An exact amount: integer minor units of one currency."""

    currency: Currency
    minor: int

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise AmountError(f"minor units must be an int, got {type(self.minor).__name__}")

    @classmethod
    def parse(cls, text: object, ccy: str | Currency, *, negative: bool = False) -> Money:
        """Money from a decimal string in currency units, e.g. Money.parse("12.50", "CHF")."""
        cur = currency(ccy)
        value = parse_decimal(text, what=f"{cur.code} amount", example="1000", negative=negative)
        return cls(cur, to_minor_units(value, cur))

    @classmethod
    def of(cls, amount: Decimal | Fraction | int, ccy: str | Currency) -> Money:
        """Money from an exact amount in currency units (error when finer than the minor unit)."""
        cur = currency(ccy)
        return cls(cur, to_minor_units(amount, cur))

    def as_fraction(self) -> Fraction:
        """The amount in currency units."""
        return Fraction(self.minor, self.currency.scale)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise AmountError(f"currency mismatch: {self.currency.code} vs {other.currency.code}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor + other.minor)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor - other.minor)

    def __str__(self) -> str:
        return f"{self.currency.code} {format_minor(self.minor, self.currency)}"


# --- rates -------------------------------------------------------------------------------------------------


def rate_to_ppm(rate: Decimal | Fraction | str | int) -> int:
    """A rate (0.15315) as integer parts per million (153150); error if not exactly representable."""
    value = parse_decimal(rate, what="rate") if isinstance(rate, str) else to_fraction(rate)
    scaled = to_fraction(value) * PPM
    if scaled.denominator != 1:
        raise AmountError(f"rate {rate} is not a whole number of parts per million")
    if scaled < 0:
        raise AmountError(f"rate {rate} is negative")
    return scaled.numerator


# --- withholding tax ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxComponent:
    """One withheld tax (e.g. Japanese national income tax 15.315%), applied to the gross separately."""

    name: str
    rate: Decimal

    def __post_init__(self) -> None:
        if not (Decimal(0) <= self.rate <= Decimal(1)):
            raise AmountError(f"tax rate of {self.name} must be within 0..1, got {self.rate}")

    @property
    def rate_ppm(self) -> int:
        return rate_to_ppm(self.rate)

    def tax_on(self, gross: int) -> int:
        """floor(gross × rate) in minor units."""
        return _floor(Fraction(gross) * Fraction(self.rate))


@dataclass(frozen=True)
class Withholding:
    """The split of one gross payment: each tax component and the net paid to the holder."""

    gross: int
    taxes: tuple[tuple[str, int], ...]
    net: int

    @property
    def tax(self) -> int:
        return sum(amount for _, amount in self.taxes)


@dataclass(frozen=True)
class TaxClass:
    """A withholding regime; `id` is the small integer stored in the on-chain investor record."""

    id: int
    name: str
    description: str
    components: tuple[TaxComponent, ...] = ()

    @property
    def total_rate(self) -> Decimal:
        return sum((c.rate for c in self.components), Decimal(0))

    @property
    def rates_ppm(self) -> tuple[int, ...]:
        """Component rates in parts per million, in order, for the payment contracts."""
        return tuple(c.rate_ppm for c in self.components)

    def withhold(self, gross: int) -> Withholding:
        """Split a gross amount (minor units, ≥ 0) into taxes (each floored) and net."""
        if isinstance(gross, bool) or not isinstance(gross, int) or gross < 0:
            raise AmountError(f"gross must be a non-negative int of minor units, got {gross!r}")
        taxes = tuple((c.name, c.tax_on(gross)) for c in self.components)
        return Withholding(gross=gross, taxes=taxes, net=gross - sum(t for _, t in taxes))


def _component(name: str, rate: str) -> TaxComponent:
    return TaxComponent(name, parse_decimal(rate, what=f"{name} rate"))


# Id 0 is deliberately unassigned: an all-zero on-chain investor record must never read as "exempt".
_TAX_CLASS_LIST: tuple[TaxClass, ...] = (
    TaxClass(1, "exempt", "no withholding"),
    TaxClass(
        2,
        "jp_individual",
        "Japan, individual: 15.315% national (income 15% + reconstruction 0.315%) + 5% local inhabitant tax",
        (_component("jp_national", "0.15315"), _component("jp_local", "0.05")),
    ),
    TaxClass(3, "jp_corporate", "Japan, corporation: 15.315% national", (_component("jp_national", "0.15315"),)),
    TaxClass(4, "jp_exempt", "Japan, public body or other exempt holder: no withholding"),
    TaxClass(5, "ch_35", "Switzerland: 35% Verrechnungssteuer", (_component("ch_withholding", "0.35"),)),
    TaxClass(6, "us_exempt", "United States, tax-exempt municipal interest: no withholding"),
)

TAX_CLASSES: Mapping[str, TaxClass] = MappingProxyType({t.name: t for t in _TAX_CLASS_LIST})
# Every withholding component name, in first-seen order (term sheets can route each to its own account).
TAX_COMPONENT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(c.name for t in _TAX_CLASS_LIST for c in t.components))
TAX_CLASSES_BY_ID: Mapping[int, TaxClass] = MappingProxyType({t.id: t for t in _TAX_CLASS_LIST})


def tax_class(key: str | int | TaxClass) -> TaxClass:
    """Look a tax class up by name ("jp_individual") or on-chain id."""
    if isinstance(key, TaxClass):
        return key
    if isinstance(key, str) and key in TAX_CLASSES:
        return TAX_CLASSES[key]
    if isinstance(key, int) and not isinstance(key, bool) and key in TAX_CLASSES_BY_ID:
        return TAX_CLASSES_BY_ID[key]
    raise AmountError(f"unknown tax class {key!r}: expected one of {', '.join(TAX_CLASSES)}")


# --- entitlements -------------------------------------------------------------------------------------------


def gross_entitlement(units: int, amount_per_unit_minor: Fraction | int) -> int:
    """floor(units × amount per unit) in minor units: one holder's gross for one period."""
    if isinstance(units, bool) or not isinstance(units, int) or units < 0:
        raise AmountError(f"units must be a non-negative int, got {units!r}")
    per_unit = to_fraction(amount_per_unit_minor)
    if per_unit < 0:
        raise AmountError(f"amount per unit must not be negative, got {per_unit}")
    return _floor(units * per_unit)


def funding_required(total_units: int, amount_per_unit_minor: Fraction | int) -> int:
    """Minor units the payer must fund for a period: floor(total units × amount per unit).

    Enough for every holder because Σ floor(xᵢ) ≤ floor(Σ xᵢ); what is left over is the rounding remainder.
    """
    return gross_entitlement(total_units, amount_per_unit_minor)


@dataclass(frozen=True)
class HolderPayment:
    holder: Hashable
    units: int
    tax_class: TaxClass
    withholding: Withholding


@dataclass(frozen=True)
class Distribution:
    """One period's payments: per holder, the totals and the rounding remainder left with the payer."""

    amount_per_unit_minor: Fraction
    funded: int
    payments: tuple[HolderPayment, ...]

    @property
    def total_gross(self) -> int:
        return sum(p.withholding.gross for p in self.payments)

    @property
    def total_tax(self) -> int:
        return sum(p.withholding.tax for p in self.payments)

    @property
    def total_net(self) -> int:
        return sum(p.withholding.net for p in self.payments)

    @property
    def remainder(self) -> int:
        """funded − Σ gross: rounding residue that stays with the issuer (reclaimable)."""
        return self.funded - self.total_gross


def distribute(
    holdings: Mapping[Hashable, tuple[int, str | int | TaxClass]], amount_per_unit_minor: Fraction | int
) -> Distribution:
    """Gross, withholding and net for every holder of `holdings` (holder -> (units, tax class))."""
    per_unit = to_fraction(amount_per_unit_minor)
    payments = []
    total_units = 0
    for holder, (units, klass) in holdings.items():
        tc = tax_class(klass)
        payments.append(HolderPayment(holder, units, tc, tc.withhold(gross_entitlement(units, per_unit))))
        total_units += units
    return Distribution(per_unit, funding_required(total_units, per_unit), tuple(payments))


# --- payment tokens -----------------------------------------------------------------------------------------


def _check_decimals(token_decimals: int) -> None:
    if isinstance(token_decimals, bool) or not isinstance(token_decimals, int) or not 0 <= token_decimals <= 77:
        raise AmountError(f"token decimals must be an int in 0..77, got {token_decimals!r}")


def to_token_amount(minor: int, ccy: str | Currency, token_decimals: int) -> int:
    """Minor units of `ccy` as base units of an ERC-20 with `token_decimals` decimals.

    amount × 10^(decimals − minor_units); when the token has fewer decimals than the currency has minor
    units, the amount must be exactly representable (e.g. 1200 cents -> 12 with 0 decimals), else error.
    """
    cur = currency(ccy)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise AmountError(f"amount must be an int of minor units, got {minor!r}")
    _check_decimals(token_decimals)
    shift = token_decimals - cur.minor_units
    if shift >= 0:
        return minor * 10**shift
    quotient, rest = divmod(minor, 10**-shift)
    if rest:
        raise AmountError(
            f"{format_minor(minor, cur)} {cur.code} is not representable in a token with {token_decimals} decimals"
        )
    return quotient


def from_token_amount(raw: int, ccy: str | Currency, token_decimals: int) -> int:
    """Token base units back to minor units of `ccy`; error if finer than the minor unit."""
    cur = currency(ccy)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise AmountError(f"token amount must be an int, got {raw!r}")
    _check_decimals(token_decimals)
    shift = token_decimals - cur.minor_units
    if shift <= 0:
        return raw * 10**-shift
    quotient, rest = divmod(raw, 10**shift)
    if rest:
        raise AmountError(f"token amount {raw} is finer than the {cur.code} minor unit")
    return quotient


def as_ratio(value: Fraction | int) -> tuple[int, int]:
    """(numerator, denominator) of a reduced non-negative fraction, e.g. for a per-unit amount on chain."""
    value = to_fraction(value)
    if value < 0:
        raise AmountError(f"ratio must not be negative, got {value}")
    return value.numerator, value.denominator
