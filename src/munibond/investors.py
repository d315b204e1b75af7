"""Investor onboarding CSV: parse and validate every row before anything is returned.

Columns (header on line 1, any order, `name_ref` optional):
`wallet,investor_id,country,region,category,tax_class,kyc_expiry[,name_ref]`, plus the optional master-data
columns `MASTER_COLUMNS` (name, address, bank account, contact: validated and stored off chain by
`munibond.investor_db`, never sent). The file is UTF-8 (with or without BOM) or Shift_JIS (cp932), as Excel
writes it.

* wallet: a 0x address (EIP-55 checksum enforced when mixed case) or `alias:NAME`, an account alias the
  caller resolves (e.g. to an Ape test account) with `resolve_wallets` before sending anything.
* investor_id: the issuer's opaque off-chain reference. The on-chain identity is derived from it:
  `identity = last 20 bytes of keccak256(b"munibond.investor:" + issuer_salt + b":" + investor_id UTF-8)`.
  Rows sharing an investor_id are several wallets of one investor (same identity, same attributes), at
  most MAX_WALLETS_PER_INVESTOR of them (the registry's limit).
  Keep `issuer_salt` private to the issuer if investor ids are guessable (customer numbers), so the
  identity cannot be linked back to them.
* country: ISO 3166-1 numeric (1..999) or a known alpha-2 code (JP -> 392).
* region: integer 0..2^24-1 (e.g. a Japanese local-government code, Kanagawa = 140007); 0 = none.
* category: individual | corporate | qualified_institutional | public_body (or 0..3).
* tax_class: a name from `munibond.money.TAX_CLASSES` (the on-chain id comes from that table).
* kyc_expiry: a date (KYC valid to the end of that day, UTC) or an ISO datetime with offset; it must
  lie after `now` and fit in uint32.

Any malformed row raises one `InputError` listing every problem as file:line: field: message (line 1
is the header), so a caller sends no transaction on bad input. Duplicate wallets are errors.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Protocol, TypeVar

from munibond.addresses import address_of_digest, checksum_address, keccak256
from munibond.countries import country_code
from munibond.errors import InputError, Issue
from munibond.money import TAX_CLASSES, TAX_CLASSES_BY_ID, TaxClass

REQUIRED_COLUMNS = ("wallet", "investor_id", "country", "region", "category", "tax_class", "kyc_expiry")
BANK_FIELDS = ("bank_code", "branch_code", "account_type", "account_number", "account_holder")
# optional master-data columns (personal data, kept off chain: see munibond.investor_db), in export order
# bank_name, branch_name: the bank's and branch's names in kana (optional in a Zengin file); pay_by: `bank` for a
# holder paid by bank transfer in yen (`munibond bank export`), `chain` or empty for the payment token
MASTER_COLUMNS = (
    "legal_name", "name_kana", "postal_code", "address", *BANK_FIELDS, "email", "phone", "bank_name", "branch_name",
    "pay_by",
)  # fmt: skip
OPTIONAL_COLUMNS = ("name_ref", *MASTER_COLUMNS)
IDENTITY_PREFIX = b"munibond.investor:"
ALIAS_PREFIX = "alias:"
_UINT32_MAX = 2**32 - 1
MAX_WALLETS_PER_INVESTOR = 8  # InvestorRegistry.MAX_WALLETS_PER_INVESTOR
_HEX = frozenset("0123456789abcdefABCDEF")


class InvestorCategory(IntEnum):
    """Investor category as stored on chain."""

    INDIVIDUAL = 0
    CORPORATE = 1
    QUALIFIED_INSTITUTIONAL = 2
    PUBLIC_BODY = 3


@dataclass(frozen=True)
class InvestorRow:
    """One validated wallet registration."""

    line: int
    wallet: str  # checksummed 0x address, or "alias:NAME" until resolved
    investor_id: str
    identity: str
    country: int
    region: int
    category: InvestorCategory
    tax_class: TaxClass
    kyc_expiry: int
    name_ref: str | None = None

    @property
    def alias(self) -> str | None:
        """The alias name when the wallet is given as `alias:NAME`."""
        return self.wallet[len(ALIAS_PREFIX) :] if self.wallet.startswith(ALIAS_PREFIX) else None

    def record(self) -> tuple[str, int, int, int, int, int]:
        """(identity, country, region, category, taxClass, kycExpiry) for the investor registry."""
        return (
            self.identity,
            self.country,
            self.region,
            int(self.category),
            self.tax_class.id,
            self.kyc_expiry,
        )


SALT_ENV = "MUNIBOND_ISSUER_SALT"
SALT_FINGERPRINT_TAG = b"munibond.issuer-salt-fingerprint:"


def category_word(code: int) -> str:
    """An on-chain category as its CSV word (`3` -> `public_body`); an unknown code as `category N`."""
    try:
        return InvestorCategory(code).name.lower()
    except ValueError:
        return f"category {code}"


def tax_class_word(class_id: int) -> str:
    """An on-chain tax class id as its name (`2` -> `jp_individual`); an unknown id as `tax class N`."""
    known = TAX_CLASSES_BY_ID.get(class_id)
    return known.name if known is not None else f"tax class {class_id}"


def read_issuer_salt(salt_file: Path | None, environ: Mapping[str, str]) -> bytes:
    """The issuer salt from `salt_file` (its bytes, one trailing line break dropped) or else `$MUNIBOND_ISSUER_SALT`;
    never from the command line (shell history, `ps`)."""
    if salt_file is not None:
        try:
            salt = salt_file.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the issuer salt: {exc.strerror}", file=str(salt_file)) from None
        salt = salt.removesuffix(b"\n").removesuffix(b"\r")
        if not salt:
            raise InputError("the issuer salt file is empty", file=str(salt_file))
        return salt
    value = environ.get(SALT_ENV)
    if not value:
        raise InputError(
            f"no issuer salt: give --issuer-salt-file FILE or set {SALT_ENV}", file="environment", field=SALT_ENV
        )
    return value.encode("utf-8")


def salt_fingerprint(issuer_salt: bytes) -> str:
    """A public fingerprint of the issuer salt (keccak of the domain-tagged salt) to recognise it again without
    storing it: `0x` + 64 hex digits."""
    return "0x" + keccak256(SALT_FINGERPRINT_TAG + issuer_salt).hex()


def investor_identity(issuer_salt: bytes, investor_id: str) -> str:
    """Checksummed identity address of an investor (see the module docstring)."""
    if not isinstance(issuer_salt, bytes):
        raise TypeError("issuer_salt must be bytes")
    return address_of_digest(keccak256(IDENTITY_PREFIX + issuer_salt + b":" + investor_id.encode("utf-8")))


def parse_wallet(value: str) -> str:
    if value.startswith(ALIAS_PREFIX):
        name = value[len(ALIAS_PREFIX) :]
        if not name or not all(ch.isalnum() or ch in "_.-" for ch in name) or not name.isascii():
            raise ValueError(f"alias {value!r} must be alias:NAME with letters, digits, _ . -")
        return value
    if len(value) != 42 or not value.startswith("0x") or not all(c in _HEX for c in value[2:]):
        raise ValueError(f"{value!r} is neither a 0x address of 40 hex digits nor alias:NAME")
    body = value[2:]
    checksummed = checksum_address(body)
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise ValueError(f"{value} has a bad EIP-55 checksum (expected {checksummed})")
    if int(body, 16) == 0:
        raise ValueError("the zero address cannot hold a bond")
    return checksummed


def _region(value: str) -> int:
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"must be a non-negative integer region code, got {value!r}")
    region = int(value, 10)
    if region >= 2**24:
        raise ValueError(f"must be below 2^24 = 16777216, got {region}")
    return region


def _category(value: str) -> InvestorCategory:
    if value.isascii() and value.isdigit():
        try:
            return InvestorCategory(int(value))
        except ValueError:
            pass
    else:
        try:
            return InvestorCategory[value.upper()]
        except KeyError:
            pass
    names = " | ".join(c.name.lower() for c in InvestorCategory)
    raise ValueError(f"must be one of {names} (or 0..3), got {value!r}")


def _tax_class(value: str) -> TaxClass:
    if value not in TAX_CLASSES:
        raise ValueError(f"unknown tax class {value!r}: expected one of {', '.join(TAX_CLASSES)}")
    return TAX_CLASSES[value]


def _kyc_expiry(value: str, now: int) -> int:
    try:
        if len(value) == 10:
            next_day = date.fromisoformat(value) + timedelta(days=1)
            expiry = int(datetime(next_day.year, next_day.month, next_day.day, tzinfo=UTC).timestamp()) - 1
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            expiry = int(moment.timestamp())
    except ValueError:
        raise ValueError(f"must be an ISO date (2030-12-31) or datetime with offset, got {value!r}") from None
    if expiry <= now:
        raise ValueError(f"{value} is not in the future (KYC already expired)")
    if expiry > _UINT32_MAX:
        raise ValueError(f"{value} is beyond 2106 (does not fit uint32)")
    return expiry


def _now(now: int | datetime | None) -> int:
    if now is None:
        return int(time.time())
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return int(now.timestamp())
    return int(now)


def read_csv_text(path: str | Path) -> str:
    """A CSV file's text as Excel writes it: UTF-8 (with or without BOM), else Shift_JIS (Windows code page 932)."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("neither UTF-8 nor Shift_JIS (cp932) text", file=file, line=line) from None


def parse_investors(path: str | Path, *, issuer_salt: bytes, now: int | datetime | None = None) -> list[InvestorRow]:
    """Validate the whole investor CSV; return its rows or raise one InputError listing every problem."""
    file = str(path)
    now_ts = _now(now)
    issues: list[Issue] = []
    text = read_csv_text(path)
    try:
        rows = list(csv_rows(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=file) from None
    if not rows:
        raise InputError("the file is empty (expected a header line)", file=file, line=1)

    _, header = rows[0]
    columns = [h.strip() for h in header]
    for name in columns:
        if name not in REQUIRED_COLUMNS and name not in OPTIONAL_COLUMNS:
            issues.append(Issue("unknown column", file, 1, name or "(empty)"))
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            issues.append(Issue("required column is missing", file, 1, name))
    if len(set(columns)) != len(columns):
        issues.append(Issue("duplicate column", file, 1, "(header)"))
    if issues:
        raise InputError.from_issues(issues)

    result: list[InvestorRow] = []
    seen_wallets: dict[str, int] = {}
    investors: dict[str, InvestorRow] = {}
    wallet_counts: dict[str, int] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(columns):
            issues.append(Issue(f"expected {len(columns)} fields, found {len(cells)}", file, line, "(row)"))
            continue
        raw = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
        values: dict[str, object] = {}
        parsers: dict[str, Callable[[str], object]] = {
            "wallet": parse_wallet,
            "investor_id": _investor_id,
            "country": country_code,
            "region": _region,
            "category": _category,
            "tax_class": _tax_class,
            "kyc_expiry": lambda v: _kyc_expiry(v, now_ts),
        }
        for name, parse in parsers.items():
            text = raw[name]
            if not text:
                issues.append(Issue("must not be empty", file, line, name))
                continue
            try:
                values[name] = parse(text)
            except ValueError as exc:
                issues.append(Issue(str(exc), file, line, name))
        if len(values) != len(parsers):
            continue
        row = InvestorRow(
            line=line,
            wallet=str(values["wallet"]),
            investor_id=str(values["investor_id"]),
            identity=investor_identity(issuer_salt, str(values["investor_id"])),
            country=int(values["country"]),  # type: ignore[call-overload]
            region=int(values["region"]),  # type: ignore[call-overload]
            category=values["category"],  # type: ignore[arg-type]
            tax_class=values["tax_class"],  # type: ignore[arg-type]
            kyc_expiry=int(values["kyc_expiry"]),  # type: ignore[call-overload]
            name_ref=raw.get("name_ref") or None,
        )
        key = row.wallet.lower()
        if key in seen_wallets:
            issues.append(Issue(f"duplicate wallet (already on line {seen_wallets[key]})", file, line, "wallet"))
            continue
        seen_wallets[key] = line
        first = investors.setdefault(row.investor_id, row)
        wallet_counts[row.investor_id] = wallet_counts.get(row.investor_id, 0) + 1
        if wallet_counts[row.investor_id] == MAX_WALLETS_PER_INVESTOR + 1:
            issues.append(
                Issue(
                    f"investor {row.investor_id} has more than {MAX_WALLETS_PER_INVESTOR} wallets"
                    " (the registry's limit per investor)",
                    file,
                    line,
                    "investor_id",
                )
            )
        if row.tax_class.name.endswith("_individual") and row.category != InvestorCategory.INDIVIDUAL:
            issues.append(
                Issue(
                    f"tax class {row.tax_class.name} is for individuals; a {row.category.name.lower()} "
                    "investor needs its own class (e.g. jp_corporate, jp_exempt)",
                    file,
                    line,
                    "tax_class",
                )
            )
        for attr in ("country", "region", "category", "tax_class"):
            if getattr(first, attr) != getattr(row, attr):
                issues.append(
                    Issue(
                        f"investor {row.investor_id} has a different {attr} on line {first.line}"
                        " (all wallets of one investor share it)",
                        file,
                        line,
                        attr,
                    )
                )
        result.append(row)
    if issues:
        raise InputError.from_issues(issues)
    return result


def _investor_id(value: str) -> str:
    if len(value) > 128 or not value.isprintable():
        raise ValueError("must be a printable reference of at most 128 characters")
    return value


def csv_rows(reader: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    for cells in reader:
        line = reader.line_num  # type: ignore[attr-defined]
        if not cells or all(not c.strip() for c in cells):
            continue
        yield line, cells


class _WalletRow(Protocol):
    line: int
    wallet: str

    @property
    def alias(self) -> str | None: ...


RowT = TypeVar("RowT", bound=_WalletRow)


def resolve_wallets(rows: list[RowT], resolve: Callable[[str], str], *, file: str | None = None) -> list[RowT]:
    """Replace `alias:NAME` wallets of CSV rows (dataclasses with `line`, `wallet`, `alias`) by `resolve(NAME)`;
    re-checks for duplicate wallets (an alias and the address it stands for are the same wallet)."""
    resolved: list[RowT] = []
    seen: dict[str, int] = {}
    issues: list[Issue] = []
    for row in rows:
        wallet = row.wallet
        if row.alias is not None:
            try:
                wallet = parse_wallet(resolve(row.alias))
            except (KeyError, ValueError) as exc:
                issues.append(Issue(f"cannot resolve alias {row.alias!r}: {exc}", file, row.line, "wallet"))
                continue
        if wallet.lower() in seen:
            message = f"duplicate wallet (same as line {seen[wallet.lower()]})"
            issues.append(Issue(message, file, row.line, "wallet"))
            continue
        seen[wallet.lower()] = row.line
        resolved.append(replace(row, wallet=wallet))
    if issues:
        raise InputError.from_issues(issues)
    return resolved
