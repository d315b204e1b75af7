"""What a custodian reads from a series, as plain dataclasses (money and units as ints, per-unit amounts exact)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

COUPON_TYPES = {0: "zero coupon", 1: "fixed", 2: "floating"}
DAY_COUNTS = {0: "actual/actual", 1: "actual/360", 2: "actual/365 fixed", 3: "30/360"}


@dataclass(frozen=True)
class BondTerms:
    """ERC-7092 terms of a series; amounts in minor units of the currency, rate in basis points."""

    name: str
    symbol: str
    decimals: int
    isin: str
    currency: str  # payment token; the zero address when paid off chain only
    denomination: int
    issue_volume: int
    coupon_rate_bp: int
    coupon_frequency: int
    coupon_type: int
    issue_date: int
    maturity_date: int
    day_count_basis: int

    @property
    def coupon_type_name(self) -> str:
        return COUPON_TYPES.get(self.coupon_type, str(self.coupon_type))

    @property
    def day_count_name(self) -> str:
        return DAY_COUNTS.get(self.day_count_basis, str(self.day_count_basis))


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
