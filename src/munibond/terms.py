"""Bond term sheet: a strict pydantic model loaded from YAML, with errors that name file, line and field.

`load_term_sheet(path)` reads the YAML with a loader that keeps line numbers, refuses the YAML 1.1 traps
(floats for money and rates, octal/sexagesimal integers, duplicate keys), validates every field strictly
and then checks the fields against each other. Every problem is reported as
`<file>:<line>: <field.path>: <message>` through `TermSheetError` (an `InputError`).

`term_sheet_hash(path)` is SHA-256 over the file's bytes exactly as stored (no normalisation), so the
hash written on chain can be recomputed by anyone with `sha256sum`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from eth_utils import is_checksum_address, to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError
from pydantic_core import PydanticCustomError

from munibond import clock
from munibond.errors import AmountError, InputError, Issue
from munibond.money import CURRENCIES, TAX_COMPONENT_NAMES, Currency, parse_decimal, to_fraction

DayCountName = Literal["ACT/360", "ACT/365F", "NL/365", "30/360", "30E/360", "ACT/ACT-ICMA", "ACT/ACT-ISDA"]
CalendarName = Literal["JP", "CH", "US", "TARGET", "NONE"]
ConventionName = Literal["following", "modified_following", "preceding", "unadjusted"]


class TermSheetError(InputError):
    """A term sheet that cannot be loaded; `file`, `line` and `field` locate the (first) problem."""


# --- field types -------------------------------------------------------------------------------------------


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("munibond", message)


def _decimal_type(example: str) -> Callable[[Any], Decimal]:
    def check(value: Any) -> Decimal:
        if isinstance(value, float):
            raise _fail(f'must be a decimal string like "{example}", got float {value!r}')
        try:
            return parse_decimal(value, what="value", example=example)
        except AmountError as exc:
            raise _fail(exc.message.removeprefix("value ")) from None

    return check


def _amount(value: Any) -> Decimal:
    if isinstance(value, float):
        raise _fail(f'must be an integer or a decimal string like "10000", got float {value!r}')
    try:
        return parse_decimal(value, what="value", example="10000")
    except AmountError as exc:
        raise _fail(exc.message.removeprefix("value ")) from None


def _plain_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"must be an integer, got {type(value).__name__} {value!r}")
    return value


def _strict_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise _fail(f"must be a date like 2026-04-01 (no time of day), got {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _fail(f"{value!r} is not a real calendar date") from None
    raise _fail(f"must be a date like 2026-04-01, got {type(value).__name__} {value!r}")


_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?")


def _strict_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATETIME_RE.fullmatch(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise _fail(f"{value!r} is not a real date and time") from None
    raise _fail(f"must be a date and time like 2026-09-24T15:00:00+09:00, got {type(value).__name__} {value!r}")


_ALIAS_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_HEX_ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{40}")


def account_ref(value: Any) -> str:
    """An EVM address (checksum-validated when mixed case, returned checksummed) or an account alias."""
    if not isinstance(value, str):
        raise _fail(f"must be an address (0x...) or an account alias, got {type(value).__name__} {value!r}")
    if value.startswith(("0x", "0X")):
        if not _HEX_ADDRESS_RE.fullmatch(value):
            raise _fail(f"{value!r} is not a 20-byte hex address")
        body = value[2:]
        if body != body.lower() and body != body.upper() and not is_checksum_address(value):
            raise _fail(f"{value} has a bad EIP-55 checksum (expected {to_checksum_address(value.lower())})")
        return to_checksum_address(value.lower())
    if not _ALIAS_RE.fullmatch(value):
        raise _fail(f"{value!r} is neither an address nor an account alias (letters, digits, _ . -)")
    return value


def _isin(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", value):
        raise _fail(f"must be an ISIN (2 letters, 9 alphanumerics, 1 check digit), got {value!r}")
    if not isin_check_digit_ok(value):
        raise _fail(f"{value} has a wrong check digit (ISO 6166 / Luhn)")
    return value


def isin_check_digit_ok(isin: str) -> bool:
    """ISO 6166 check: letters become 10..35, then the Luhn algorithm over the digit string."""
    digits = "".join(str(int(ch, 36)) for ch in isin)
    total = 0
    for position, ch in enumerate(reversed(digits)):
        d = int(ch)
        if position % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(f"must be an IANA time zone name like Asia/Tokyo, got {type(value).__name__} {value!r}")
    try:
        clock.zone(value)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    return value


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value not in CURRENCIES:
        raise _fail(f"must be an ISO 4217 code ({', '.join(sorted(CURRENCIES))}), got {value!r}")
    return value


def _sha256_hex(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        raise _fail(f"must be a 32-byte hex digest like 0x<64 hex digits>, got {value!r}")
    return value.lower()


Rate = Annotated[Decimal, BeforeValidator(_decimal_type("0.0085"))]
Price = Annotated[Decimal, BeforeValidator(_decimal_type("100"))]
Amount = Annotated[Decimal, BeforeValidator(_amount)]
StrictDate = Annotated[date, BeforeValidator(_strict_date)]
StrictDateTime = Annotated[datetime, BeforeValidator(_strict_datetime)]
AccountRef = Annotated[str, BeforeValidator(account_ref)]
Country = Annotated[int, Field(ge=1, le=999)]
Region = Annotated[int, Field(ge=0, lt=2**24)]
NonEmpty = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class CouponRounding(_Model):
    """How the coupon per unit is rounded before each holder's amount is floored.

    `exact` (the default): no rounding, coupon per unit = face × rate × year fraction exactly.
    `per_currency_unit`: the interest on one unit of currency of face (rate × year fraction, e.g. per ¥1)
    is first truncated below `decimals` decimal places, then multiplied by the face (Japanese book-entry
    bonds: 1通貨あたりの利子額, 13 decimals). See docs/rounding.md.
    """

    method: Literal["exact", "per_currency_unit"] = "exact"
    decimals: Annotated[int, BeforeValidator(_plain_int), Field(ge=1, le=18)] | None = None


class Coupon(_Model):
    type: Literal["fixed", "zero"]
    rate: Rate | None = None
    frequency: Annotated[Literal[1, 2, 4, 12], BeforeValidator(_plain_int)] | None = None
    day_count: DayCountName | None = None
    stub_day_count: DayCountName | None = None
    first_coupon_date: StrictDate | None = None
    end_of_month: bool = False
    rounding: CouponRounding = CouponRounding()


class RecordDateRule(_Model):
    # at least 1: balances must be fixed (record time passed) before the payment can be made on chain
    business_days_before_payment: Annotated[int, Field(ge=1, le=30)]


class Amortization(_Model):
    date: StrictDate
    percent_of_original_face: Price


class Call(_Model):
    date: StrictDate
    price: Price
    notice_days: Annotated[int, Field(ge=0)]


class Redemption(_Model):
    price: Price = Decimal(100)
    amortization: list[Amortization] = []
    call: list[Call] = []


class RegionRule(_Model):
    country: Country
    region: Region


class BlackoutWindow(_Model):
    start: StrictDateTime
    end: StrictDateTime


class Compliance(_Model):
    countries: list[Country] = []
    regions: list[RegionRule] = []
    max_holders: Annotated[int, Field(ge=1)] | None = None
    max_holding_per_investor: Amount | None = None
    min_holding: Amount | None = None
    lockup_until: StrictDate | None = None
    blackout_windows: list[BlackoutWindow] = []


class Roles(_Model):
    admin: AccountRef
    registrar: AccountRef
    transfer_agent: AccountRef
    freezer: AccountRef
    minter: AccountRef
    document_manager: AccountRef
    payer: AccountRef


def _tax_component_names(value: object) -> object:
    """Component accounts are keyed by the withholding component names of `munibond.money` (jp_national, ...)."""
    if isinstance(value, dict):
        unknown = sorted(str(name) for name in value if name not in TAX_COMPONENT_NAMES)
        if unknown:
            raise ValueError(
                f"unknown withholding component {', '.join(unknown)}: expected one of {', '.join(TAX_COMPONENT_NAMES)}"
            )
    return value


class Tax(_Model):
    """Where withheld tax goes: `account` by default, `components` per withholding component by name (e.g.
    jp_national to the national tax office's account, jp_local to the municipality's own)."""

    account: AccountRef
    components: Annotated[dict[str, AccountRef], BeforeValidator(_tax_component_names)] = {}

    def account_of(self, component: str) -> str:
        """The account (reference) receiving `component`: its own, else the default."""
        return self.components.get(component, self.account)


class Document(_Model):
    name: NonEmpty
    uri: NonEmpty
    sha256: Annotated[str, BeforeValidator(_sha256_hex)]


class TermSheet(_Model):
    """A validated term sheet. Amounts are Decimal currency units; helpers give exact minor/token units."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    symbol: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,11}$")]
    isin: Annotated[str, BeforeValidator(_isin)]
    issuer: NonEmpty
    currency: Annotated[str, BeforeValidator(_currency)]
    denomination: Amount
    issue_size: Amount
    issue_date: StrictDate
    maturity_date: StrictDate
    coupon: Coupon
    calendar: CalendarName
    business_day_convention: ConventionName
    accrual: Literal["unadjusted", "adjusted"] = "unadjusted"
    record_date: RecordDateRule = RecordDateRule(business_days_before_payment=1)
    timezone: Annotated[str, BeforeValidator(_timezone)]
    redemption: Redemption = Redemption()
    compliance: Compliance = Compliance()
    roles: Roles
    payment_token: AccountRef | None = None
    tax: Tax | None = None
    documents: list[Document] = []

    _source_file: str | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def source_file(self) -> str | None:
        """The file this term sheet was loaded from (None when built in code)."""
        return self._source_file

    def locate(self, *path: str | int) -> tuple[str | None, int | None]:
        """(file, line) of a field path such as ("redemption", "amortization", 0, "date")."""
        for end in range(len(path), -1, -1):
            if path[:end] in self._lines:
                return self._source_file, self._lines[path[:end]]
        return self._source_file, None

    def input_error(self, message: str, *path: str | int) -> TermSheetError:
        """A TermSheetError located at `path` in the source file (for checks made after loading)."""
        file, line = self.locate(*path)
        return TermSheetError(message, file=file, line=line, field=format_path(path) or None)

    @property
    def currency_info(self) -> Currency:
        return CURRENCIES[self.currency]

    @property
    def minor_units(self) -> int:
        return self.currency_info.minor_units

    @property
    def denomination_minor(self) -> int:
        """Face value of one token unit in minor units."""
        return int(self.denomination * self.currency_info.scale)

    @property
    def total_units(self) -> int:
        """Token units issued: issue_size / denomination."""
        return int(self.issue_size / self.denomination)

    def units_of(self, face: Decimal) -> int:
        """Token units for a face amount in currency units (validated to be a whole multiple)."""
        units = to_fraction(face) / to_fraction(self.denomination)
        if units.denominator != 1:
            raise AmountError(f"{face} is not a multiple of the denomination {self.denomination}")
        return units.numerator

    @property
    def max_holding_units(self) -> int | None:
        cap = self.compliance.max_holding_per_investor
        return None if cap is None else self.units_of(cap)

    @property
    def min_holding_units(self) -> int | None:
        floor = self.compliance.min_holding
        return None if floor is None else self.units_of(floor)

    @property
    def lockup_until_time(self) -> int | None:
        """Last second (Unix) of the lock-up date in the issuer's zone; transfers are free after it."""
        day = self.compliance.lockup_until
        return None if day is None else clock.day_end(day, self.timezone)

    @property
    def blackout_times(self) -> list[tuple[int, int]]:
        """Blackout windows as Unix (start, end); naive datetimes are read in the issuer's zone."""
        return [
            (clock.to_unix(w.start, self.timezone), clock.to_unix(w.end, self.timezone))
            for w in self.compliance.blackout_windows
        ]


# --- YAML with line numbers ------------------------------------------------------------------------------

Path_ = tuple[str | int, ...]

_PLAIN_INT_RE = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


class _Doc:
    """Plain data from YAML plus the 1-based line of every mapping key and sequence item."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {(): 1}
        self.issues: list[Issue] = []
        self.reported: set[Path_] = set()

    def error(self) -> TermSheetError:
        return TermSheetError.from_issues(sorted(self.issues, key=lambda i: i.line or 0))

    def line_of(self, path: Path_) -> int:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1

    def issue(self, path: Path_, message: str) -> None:
        if any(path[:end] in self.reported for end in range(len(path) + 1)):
            return
        self.reported.add(path)
        self.issues.append(Issue(message, self.file, self.line_of(path), format_path(path) or "(file)"))


def format_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _convert(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, doc: _Doc) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                doc.lines[(*path, str(key))] = key_node.start_mark.line + 1
                doc.issue((*path, str(key)), f"keys must be strings, got {type(key).__name__} {key!r}")
                continue
            if key in result:
                doc.lines[(*path, key)] = key_node.start_mark.line + 1
                doc.issue((*path, key), "duplicate key")
                continue
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, (*path, key), doc)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            doc.lines[(*path, index)] = item.start_mark.line + 1
            items.append(_convert(loader, item, (*path, index), doc))
        return items
    if node.tag == "tag:yaml.org,2002:int" and not _PLAIN_INT_RE.fullmatch(node.value):
        doc.issue(
            path,
            f"integer {node.value!r} is ambiguous in YAML 1.1 (octal, hex or base-60);"
            " write it in plain decimal without leading zeros",
        )
        return None
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:
        doc.issue(path, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]} ({exc})")
        return None


def _read_yaml(path: Path) -> tuple[Any, _Doc, bytes]:
    file = str(path)
    doc = _Doc(file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TermSheetError(f"cannot read: {exc.strerror}", file=file, line=None, field=None) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TermSheetError(f"not UTF-8 ({exc.reason})", file=file, line=1) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise TermSheetError("the file is empty", file=file, line=1)
        data = _convert(loader, node, (), doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise TermSheetError(f"YAML syntax: {exc.problem}", file=file, line=line) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise TermSheetError("the top level must be a mapping of term-sheet fields", file=file, line=1)
    return data, doc, raw


# --- validation -------------------------------------------------------------------------------------------


def _pydantic_issues(error: ValidationError, doc: _Doc) -> None:
    for err in error.errors(include_url=False):
        path: Path_ = tuple(p for p in err["loc"] if isinstance(p, int) or "[" not in p)
        kind = err["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "munibond":
            message = err["msg"]
        else:
            value = err.get("input")
            msg = err["msg"]
            message = msg[0].lower() + msg[1:]
            if not isinstance(value, dict | list):
                message += f", got {type(value).__name__} {value!r}"
        doc.issue(path, message)


# The largest issue size in currency minor units (2^96 - 1, about 7.9 × 10^28): far above any public bond, and
# small enough that units × per-unit amounts stay well inside the contracts' 128-bit fractions and 256-bit sums.
MAX_ISSUE_MINOR_UNITS = 2**96 - 1


def _cross_checks(ts: TermSheet, doc: _Doc) -> None:
    """Checks that involve more than one field (each reported at the field to fix)."""
    cur = ts.currency_info
    denom = to_fraction(ts.denomination)
    if denom <= 0:
        doc.issue(("denomination",), "must be positive")
        return
    if (denom * cur.scale).denominator != 1:
        doc.issue(("denomination",), f"{ts.denomination} is finer than the {cur.code} minor unit")
    size = to_fraction(ts.issue_size)
    if size <= 0 or (size / denom).denominator != 1:
        doc.issue(("issue_size",), f"must be a positive multiple of the denomination {ts.denomination}")
    elif size * cur.scale > MAX_ISSUE_MINOR_UNITS:
        doc.issue(
            ("issue_size",),
            f"{ts.issue_size} is beyond what munibond issues (at most {MAX_ISSUE_MINOR_UNITS:,} {cur.code} "
            "minor units)",
        )
    if ts.maturity_date <= ts.issue_date:
        doc.issue(("maturity_date",), f"must be after issue_date {ts.issue_date}")
        return

    c = ts.coupon
    if c.type == "fixed":
        for name in ("rate", "frequency", "day_count"):
            if getattr(c, name) is None:
                doc.issue(("coupon", name), "required for a fixed coupon")
        if c.rate is not None and c.rate <= 0:
            doc.issue(("coupon", "rate"), "must be positive for a fixed coupon (use type: zero)")
        if c.rate is not None and c.rate >= 1:
            doc.issue(("coupon", "rate"), f"{c.rate} is not an annual rate (write 0.0085 for 0.85%)")
    else:
        if c.rate not in (None, Decimal(0)):
            doc.issue(("coupon", "rate"), "a zero-coupon bond has no coupon rate")
        for name in ("frequency", "stub_day_count", "first_coupon_date"):
            if getattr(c, name) is not None:
                doc.issue(("coupon", name), "not allowed for a zero-coupon bond")
        if "rounding" in c.model_fields_set:
            doc.issue(("coupon", "rounding"), "not allowed for a zero-coupon bond (it pays no interest)")
    if c.rounding.method == "per_currency_unit" and c.rounding.decimals is None:
        doc.issue(("coupon", "rounding", "decimals"), "required for method per_currency_unit (13 in Japan)")
    if c.rounding.method == "exact" and c.rounding.decimals is not None:
        doc.issue(("coupon", "rounding", "decimals"), "only for method per_currency_unit (exact rounds nothing)")
    if c.first_coupon_date is not None and not ts.issue_date < c.first_coupon_date <= ts.maturity_date:
        doc.issue(("coupon", "first_coupon_date"), "must be after issue_date and not after maturity_date")

    r = ts.redemption
    if r.price <= 0:
        doc.issue(("redemption", "price"), "must be positive (percent of face)")
    total = Decimal(0)
    previous: date | None = None
    for i, a in enumerate(r.amortization):
        if a.percent_of_original_face <= 0:
            doc.issue(("redemption", "amortization", i, "percent_of_original_face"), "must be positive")
        total += a.percent_of_original_face
        if not ts.issue_date < a.date < ts.maturity_date:
            doc.issue(("redemption", "amortization", i, "date"), "must be between issue and maturity")
        if previous is not None and a.date <= previous:
            doc.issue(("redemption", "amortization", i, "date"), "dates must be strictly increasing")
        previous = a.date
    if total > 100:
        doc.issue(("redemption", "amortization"), f"amortization sums to {total}% of face, more than 100%")
    if r.amortization and c.type == "zero":
        doc.issue(("redemption", "amortization"), "not supported for a zero-coupon bond")
    previous = None
    for i, call in enumerate(r.call):
        if not ts.issue_date < call.date < ts.maturity_date:
            doc.issue(("redemption", "call", i, "date"), "must be after issue_date and before maturity_date")
        if previous is not None and call.date <= previous:
            doc.issue(("redemption", "call", i, "date"), "dates must be strictly increasing")
        if call.price <= 0:
            doc.issue(("redemption", "call", i, "price"), "must be positive (percent of face)")
        previous = call.date

    names: dict[str, int] = {}
    for i, document in enumerate(ts.documents):
        if len(document.name.encode("utf-8")) > 32:
            doc.issue(("documents", i, "name"), "must be at most 32 bytes of UTF-8 (stored as bytes32 on chain)")
        if document.name in names:
            doc.issue(("documents", i, "name"), f"duplicate document name (also documents[{names[document.name]}])")
        names.setdefault(document.name, i)

    comp = ts.compliance
    for name in ("max_holding_per_investor", "min_holding"):
        value = getattr(comp, name)
        if value is not None and (value <= 0 or (to_fraction(value) / denom).denominator != 1):
            doc.issue(("compliance", name), f"must be a positive multiple of the denomination {ts.denomination}")
    if comp.max_holding_per_investor and comp.min_holding and comp.min_holding > comp.max_holding_per_investor:
        doc.issue(("compliance", "min_holding"), "must not exceed max_holding_per_investor")
    if len(set(comp.countries)) != len(comp.countries):
        doc.issue(("compliance", "countries"), "duplicate country")
    for i, rule in enumerate(comp.regions):
        if comp.countries and rule.country not in comp.countries:
            doc.issue(("compliance", "regions", i, "country"), "not in compliance.countries")
    if comp.lockup_until is not None and comp.lockup_until < ts.issue_date:
        doc.issue(("compliance", "lockup_until"), "must not be before issue_date")
    for i, w in enumerate(comp.blackout_windows):
        if (w.start.tzinfo is None) != (w.end.tzinfo is None):
            doc.issue(("compliance", "blackout_windows", i), "give both ends with a UTC offset or neither")
        elif clock.to_unix(w.end, ts.timezone) <= clock.to_unix(w.start, ts.timezone):
            doc.issue(("compliance", "blackout_windows", i, "end"), "must be after start")
    names = [d.name for d in ts.documents]
    for i, name in enumerate(names):
        if name in names[:i]:
            doc.issue(("documents", i, "name"), f"duplicate document name {name!r}")


def load_term_sheet(path: str | Path) -> TermSheet:
    """Load and validate a term sheet; raises TermSheetError listing every problem found."""
    data, doc, _ = _read_yaml(Path(path))
    return _validate(data, doc)


def term_sheet_from_dict(data: dict[str, Any], source: str = "<term sheet>") -> TermSheet:
    """Validate already-parsed data (e.g. built in code or tests) with the same rules as the loader."""
    return _validate(data, _Doc(source))


def _validate(data: Any, doc: _Doc) -> TermSheet:
    try:
        ts = TermSheet.model_validate(data)
    except ValidationError as exc:
        _pydantic_issues(exc, doc)
        raise doc.error() from None
    if not doc.issues:
        _cross_checks(ts, doc)
    if doc.issues:
        raise doc.error()
    ts._source_file = doc.file
    ts._lines = dict(doc.lines)
    return ts


def term_sheet_hash(path: str | Path) -> bytes:
    """SHA-256 (32 bytes) of the term-sheet file's bytes as stored, for the on-chain terms hash."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).digest()
    except OSError as exc:
        raise TermSheetError(f"cannot read: {exc.strerror}", file=str(path)) from None


def fraction_of_percent(percent: Decimal) -> Fraction:
    """A percentage (Decimal, e.g. 100 or 99.5) as an exact fraction of 1."""
    return to_fraction(percent) / 100
