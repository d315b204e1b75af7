"""What a custodian reads from a series, as plain dataclasses (money and units as ints, per-unit amounts exact)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

COUPON_TYPES = {0: "zero coupon", 1: "fixed", 2: "floating"}
DAY_COUNTS = {
    0: "ACT/ACT-ICMA",
    1: "ACT/360",
    2: "ACT/365F",
    3: "30/360",
    4: "ACT/ACT-ISDA",
    5: "NL/365",
    6: "30E/360",
}
COUPON_RATE_SCALE = 10**8  # the token's couponRate() is the annual rate times this (BondTokenAdmin.COUPON_RATE_SCALE)
STUB_DAY_COUNT_SHIFT = 4  # dayCountBasis: low 4 bits the regular convention, high 4 bits the stubs' code + 1


@dataclass(frozen=True)
class BondTerms:
    """ERC-7092 terms of a series; amounts in minor units of the currency, the rate as the token stores it
    (`coupon_rate` gives it exactly as a fraction: Fraction(455, 100_000) for 0.455 %)."""

    name: str
    symbol: str
    decimals: int
    isin: str
    currency: str  # payment token; the zero address when paid off chain only
    denomination: int
    issue_volume: int
    coupon_rate_scaled: int
    coupon_frequency: int
    coupon_type: int
    issue_date: int
    maturity_date: int
    day_count_basis: int

    @property
    def coupon_type_name(self) -> str:
        return COUPON_TYPES.get(self.coupon_type, str(self.coupon_type))

    @property
    def coupon_rate(self) -> Fraction:
        """The annual coupon rate, exact (0.0085 for 0.85 %)."""
        return Fraction(self.coupon_rate_scaled, COUPON_RATE_SCALE)

    @property
    def day_count_name(self) -> str:
        """The day-count convention, e.g. "ACT/ACT-ICMA", or "ACT/ACT-ICMA with ACT/365F stubs"."""
        regular = self.day_count_basis & ((1 << STUB_DAY_COUNT_SHIFT) - 1)
        stub = self.day_count_basis >> STUB_DAY_COUNT_SHIFT
        name = DAY_COUNTS.get(regular, str(regular))
        return name if stub == 0 else f"{name} with {DAY_COUNTS.get(stub - 1, str(stub - 1))} stubs"


@dataclass(frozen=True)
class Period:
    """One payment period (0-based index) with its terms and state; per-unit amounts in payment-token minor units."""

    index: int
    record_time: int
    payment_time: int
    redeem: Fraction  # fraction of each holding retired (0 = none, 1 = final redemption or full call)
    coupon_per_unit: Fraction
    principal_per_unit: Fraction
    reclaim_after: int
    cancelled: bool
    defaulted: bool
    closed: bool
    required: int | None  # None until the record time fixed it
    funded: int

    @property
    def retires_units(self) -> bool:
        return self.redeem > 0


@dataclass(frozen=True)
class Document:
    """An ERC-1643 document: name, URI, content hash, last-modified time."""

    name: str
    uri: str
    content_hash: bytes
    modified: int


@dataclass(frozen=True)
class SeriesStatus:
    paused: bool
    total_supply: int
    holder_count: int
    period_count: int
    open_defaults: int
    record_times: tuple[int, ...]
    closes_after_last_record_time: bool
    payment_token: str
    committed_funds: int


@dataclass(frozen=True)
class HolderInfo:
    """One wallet on the series and in the investor registry."""

    wallet: str
    balance: int  # as balanceOf: units retired at passed record times and not yet burned included
    pending_retirement: int  # of those, retired and no longer movable
    frozen: bool  # the whole wallet
    frozen_units: int  # partially frozen units
    verified: bool  # registered with a valid KYC in the series' registry
    identity: str  # investor identity shared by the investor's wallets (zero if not registered)
    country: int  # ISO-3166-1 numeric
    region: int
    category: int
    tax_class: int
    kyc_expiry: int

    @property
    def free_units(self) -> int:
        """Units the wallet can move now (0 when frozen)."""
        if self.frozen:
            return 0
        return max(self.balance - self.pending_retirement - self.frozen_units, 0)


@dataclass(frozen=True)
class TransferCheck:
    """The token's verdict on a transfer: restriction code (0 = allowed) and its message."""

    code: int
    reason: str

    @property
    def allowed(self) -> bool:
        return self.code == 0


@dataclass(frozen=True)
class Entitlement:
    """What `holder` is owed for one period and where its payment stands."""

    period: int
    holder: str
    units_at_record: int
    coupon_gross: int
    principal_gross: int
    units_redeemed: int
    settled: bool  # paid (pushed or claimed), escrowed or recorded as paid by bank
    escrowed: int  # gross held in escrow for the holder


@dataclass(frozen=True)
class PeriodAccounts:
    """Conservation buckets of a period (funded == paid_net + tax_withheld + escrowed + reclaimed + held)."""

    funded: int
    paid_net: int
    tax_withheld: int
    escrowed: int
    reclaimed: int
    held: int
    offchain_gross: int
    settled_gross: int
