"""Investor master data off chain: names, addresses, bank accounts and contacts, in a database (SQLAlchemy 2).

The chain holds only pseudonymous records (identity, country, region, category, tax class); who an investor is
lives here, keyed by the issuer's investor id (the CSV's `investor_id`) and joined to the chain by wallet and
identity. By default a SQLite file: `<workspace>/investors.db`, or `investors.db` beside the manifest outside a
workspace, created readable and writable by its owner only (mode 0600; an existing file that others may read is
refused). Any other database by URL: `--db postgresql+psycopg://user@host/db` or `$MUNIBOND_INVESTOR_DB`.

Personal data never goes into a log, onto the chain or into an error message: errors name the investor id and
the field, never the value.

Bank accounts follow the Zengin conventions: bank code 4 digits, branch code 3 digits, account type
`ordinary` (普通), `current` (当座) or `savings` (貯蓄), account number 7 digits, account holder in kana
(katakana, half- or full-width, with upper-case Latin letters, digits, spaces and `().-/`; at most 30
characters). Either every bank field is given or none; the bank's and the branch's names (kana, at most 15
half-width characters each) are optional. `pay_by` marks how the investor is paid: `bank` (by bank transfer in yen:
`munibond bank export` takes these investors and their accounts from here; a bank account is then required) or
`chain` (the default: in the payment token).
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, create_engine, inspect, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from munibond.errors import InputError, Issue
from munibond.investors import BANK_FIELDS, MASTER_COLUMNS, read_csv_text
from munibond.zengin import to_zengin_text

DB_ENV = "MUNIBOND_INVESTOR_DB"
DB_FILE = "investors.db"
OWNER_ONLY = 0o600
ACCOUNT_TYPES = {"ordinary": "1", "current": "2", "savings": "4"}  # Zengin 預金種目 codes
CATEGORIES = ("individual", "corporate", "qualified_institutional", "public_body")
PAY_BY = ("chain", "bank")
_KANA = re.compile(r"[\u30a0-\u30ff\uff65-\uff9f A-Z0-9().\-/\u3000]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9\- ]{5,18}[0-9]")
_POSTAL = re.compile(r"\d{3}-?\d{4}")


# --- the schema ---------------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class InvestorModel(Base):
    """One investor (a person or a body), keyed by the issuer's investor id."""

    __tablename__ = "investors"

    investor_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    identity: Mapped[str | None] = mapped_column(String(42), index=True)  # on-chain identity (public)
    legal_name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(400))
    bank_code: Mapped[str | None] = mapped_column(String(4))
    branch_code: Mapped[str | None] = mapped_column(String(3))
    account_type: Mapped[str | None] = mapped_column(String(8))
    account_number: Mapped[str | None] = mapped_column(String(7))
    account_holder: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(32))
    bank_name: Mapped[str | None] = mapped_column(String(30))
    branch_name: Mapped[str | None] = mapped_column(String(30))
    pay_by: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    wallets: Mapped[list[WalletModel]] = relationship(
        back_populates="investor", cascade="all, delete-orphan", order_by="WalletModel.address"
    )


class WalletModel(Base):
    """A wallet of an investor (checksummed address)."""

    __tablename__ = "investor_wallets"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    investor_id: Mapped[str] = mapped_column(ForeignKey("investors.investor_id", ondelete="CASCADE"), index=True)
    investor: Mapped[InvestorModel] = relationship(back_populates="wallets")


# --- plain records --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasterData:
    """The personal data of one investor (validated), without its wallets."""

    legal_name: str
    address: str
    name_kana: str | None = None
    postal_code: str | None = None
    bank_code: str | None = None
    branch_code: str | None = None
    account_type: str | None = None
    account_number: str | None = None
    account_holder: str | None = None
    email: str | None = None
    phone: str | None = None
    bank_name: str | None = None
    branch_name: str | None = None
    pay_by: str | None = None  # bank | chain (None: chain)

    @property
    def paid_by_bank(self) -> bool:
        return self.pay_by == "bank"


@dataclass(frozen=True)
class InvestorRecord:
    investor_id: str
    master: MasterData
    category: str | None = None
    identity: str | None = None
    wallets: tuple[str, ...] = ()

    @property
    def has_bank_account(self) -> bool:
        return self.master.bank_code is not None


@dataclass
class MasterRow:
    """Master data of one investor read from the investor CSV (wallets as written: address or alias:NAME)."""

    investor_id: str
    line: int
    master: MasterData
    wallets: list[tuple[int, str]] = field(default_factory=list)  # (line, wallet cell)


# --- validation (messages never repeat the value) ----------------------------------------------------------


def _check(name: str, value: str) -> str | None:
    """The problem with field `name` of value `value` (not empty), or None."""
    if name == "legal_name":
        return None if len(value) <= 200 and value.isprintable() else "must be printable, at most 200 characters"
    if name == "name_kana":
        return None if len(value) <= 200 and _KANA.fullmatch(value) else "must be kana, at most 200 characters"
    if name == "postal_code":
        return None if _POSTAL.fullmatch(value) else "must be a Japanese postal code of 7 digits (123-4567)"
    if name == "address":
        return None if len(value) <= 400 and value.isprintable() else "must be printable, at most 400 characters"
    if name == "bank_code":
        return None if value.isascii() and value.isdigit() and len(value) == 4 else "must be a 4-digit Zengin code"
    if name == "branch_code":
        return None if value.isascii() and value.isdigit() and len(value) == 3 else "must be a 3-digit Zengin code"
    if name == "account_type":
        return None if value in ACCOUNT_TYPES else f"must be one of {', '.join(ACCOUNT_TYPES)}"
    if name == "account_number":
        return None if value.isascii() and value.isdigit() and len(value) == 7 else "must be 7 digits"
    if name == "account_holder":
        ok = _zengin_name(value, 30)  # as the Zengin transfer file writes it (half-width)
        return None if ok else "must be kana (with A-Z, 0-9, space, ().-/), at most 30 characters"
    if name == "email":
        return None if len(value) <= 254 and _EMAIL.fullmatch(value) else "must be an e-mail address"
    if name == "phone":
        return None if _PHONE.fullmatch(value) else "must be a phone number (digits, spaces, hyphens, leading +)"
    if name in ("bank_name", "branch_name"):
        return None if _zengin_name(value, 15) else "must be kana, at most 15 half-width characters"
    if name == "pay_by":
        return None if value in PAY_BY else f"must be one of {' | '.join(PAY_BY)}"
    if name == "category":
        return None if value in CATEGORIES else f"must be one of {' | '.join(CATEGORIES)}"
    raise KeyError(name)


def _zengin_name(value: str, width: int) -> bool:
    """Whether `value` can be written in a Zengin text field of `width` half-width characters."""
    try:
        return len(to_zengin_text(value)) <= width
    except ValueError:
        return False


def master_data(
    values: Mapping[str, str], *, where: tuple[str | None, int | None]
) -> tuple[MasterData | None, list[Issue]]:
    """Validate master-data cells (`MASTER_COLUMNS`, stripped, empty = not given) located at `where` (file, line).
    Returns (None, []) when every cell is empty."""
    file, line = where
    given = {name: values.get(name, "") for name in MASTER_COLUMNS}
    if not any(given.values()):
        return None, []
    issues = []
    for name, value in given.items():
        if value:
            problem = _check(name, value)
            if problem is not None:
                issues.append(Issue(problem, file, line, name))
    for name in ("legal_name", "address"):
        if not given[name]:
            issues.append(Issue("required with any master data", file, line, name))
    bank = [name for name in BANK_FIELDS if given[name]]
    if bank and len(bank) != len(BANK_FIELDS):
        missing = [name for name in BANK_FIELDS if not given[name]]
        issues.append(
            Issue(f"a bank account needs every bank field (missing {', '.join(missing)})", file, line, missing[0])
        )
    if given["pay_by"] == "bank" and not bank:
        issues.append(Issue("paid by bank needs a bank account (bank_code ... account_holder)", file, line, "pay_by"))
    if issues:
        return None, issues
    return MasterData(**{name: (value or None) for name, value in given.items()}), []  # type: ignore[arg-type]


def master_rows(path: str | Path) -> list[MasterRow]:
    """Master data of the investor CSV, one per investor id (every problem raised at once, as an InputError).

    Rows of one investor (several wallets) may repeat the master data or leave it empty after the first; when
    two rows of an investor both give it, it must be the same. Without any master-data column: []."""
    file = str(path)
    try:
        reader = csv.reader(io.StringIO(read_csv_text(path), newline=""))
        rows = [(reader.line_num, cells) for cells in reader if cells and any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise InputError(f"not a readable CSV file ({exc})", file=file) from None
    if not rows:
        return []
    columns = [cell.strip() for cell in rows[0][1]]
    if not any(name in columns for name in MASTER_COLUMNS) or "investor_id" not in columns:
        return []
    issues: list[Issue] = []
    result: dict[str, MasterRow] = {}
    wallets: dict[str, list[tuple[int, str]]] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(columns):
            continue  # reported by the on-chain part of the import (munibond.investors)
        raw = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
        investor_id = raw["investor_id"]
        if not investor_id:
            continue
        wallets.setdefault(investor_id, []).append((line, raw.get("wallet", "")))
        data, problems = master_data(raw, where=(file, line))
        issues += problems
        if data is None:
            continue
        earlier = result.get(investor_id)
        if earlier is None:
            result[investor_id] = MasterRow(investor_id, line, data)
        elif earlier.master != data:
            message = f"investor {investor_id} has other master data on line {earlier.line} (give it once)"
            issues.append(Issue(message, file, line, "(master data)"))
    if issues:
        raise InputError.from_issues(issues)
    for investor_id, row in result.items():
        row.wallets = wallets[investor_id]
    return list(result.values())


# --- the store -------------------------------------------------------------------------------------------------


def default_url(*, workspace_root: Path | None, manifest: Path | None, environ: Mapping[str, str]) -> str:
    """`$MUNIBOND_INVESTOR_DB`, else SQLite `<workspace>/investors.db`, else beside the manifest (default
    `deployments/`)."""
    if environ.get(DB_ENV):
        return environ[DB_ENV]
    if workspace_root is not None:
        folder = workspace_root
    elif manifest is not None:
        folder = manifest.resolve().parent
    else:
        folder = Path("deployments").resolve()
    return f"sqlite:///{folder / DB_FILE}"


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only; refuse an existing one that others may read."""
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise InputError(
                f"the investor database may be read by others (mode {mode:04o}): chmod 600 it", file=str(path)
            )
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY))
    except OSError as exc:
        raise InputError(f"cannot create the investor database: {exc.strerror}", file=str(path)) from None


def _now() -> datetime:
    return datetime.now(UTC)


class InvestorStore:
    """The investor master data behind a SQLAlchemy engine (use `open_store`)."""

    def __init__(self, engine: Engine, where: str) -> None:
        self.engine = engine
        self.where = where  # the file or the URL without password, for messages
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            # the driver's message may quote a row: only the kind of failure is reported
            raise InputError(f"investor database failed ({type(exc).__name__})", file=self.where) from None

    def upsert(self, records: Iterable[InvestorRecord]) -> tuple[int, int, int]:
        """Insert or replace investors (master data, category, identity, wallets); returns (added, changed,
        unchanged). A wallet moves to the investor that now names it; wallets are only added, never dropped."""
        added = changed = unchanged = 0
        now = _now()
        with self._session() as session:
            for record in records:
                row = session.get(InvestorModel, record.investor_id)
                if row is None:
                    row = InvestorModel(investor_id=record.investor_id, created_at=now, updated_at=now)
                    session.add(row)
                    added += 1
                    before = None
                else:
                    before = _record(row)
                _assign(row, record.master)
                row.category = record.category or row.category
                row.identity = record.identity or row.identity
                for address in record.wallets:
                    wallet = session.get(WalletModel, address)
                    if wallet is None:
                        row.wallets.append(WalletModel(address=address))
                    elif wallet.investor_id != record.investor_id:
                        wallet.investor = row
                session.flush()
                if before is not None:
                    if _record(row) == before:
                        unchanged += 1
                        continue
                    changed += 1
                row.updated_at = now
        return added, changed, unchanged

    def get(self, investor_id: str) -> InvestorRecord | None:
        with self._session() as session:
            row = session.get(InvestorModel, investor_id)
            return None if row is None else _record(row)

    def all(self) -> list[InvestorRecord]:
        with self._session() as session:
            rows = session.scalars(select(InvestorModel).order_by(InvestorModel.investor_id)).all()
            return [_record(row) for row in rows]

    def update(self, investor_id: str, changes: Mapping[str, str | None]) -> list[str]:
        """Change fields of an investor (None clears an optional one), validated as a whole like a CSV row;
        returns the names of the fields that changed."""
        current = self.get(investor_id)
        if current is None:
            raise InputError(f"no master data for investor {investor_id}", field="investor_id")
        values = {name: getattr(current.master, name) or "" for name in MASTER_COLUMNS}
        for name, value in changes.items():
            if name in values:
                values[name] = (value or "").strip()
        data, issues = master_data(values, where=(None, None))
        category = changes.get("category", current.category)
        if category is not None and (problem := _check("category", category)) is not None:
            issues.append(Issue(problem, field="category"))
        if issues or data is None:
            raise InputError.from_issues(issues or [Issue("nothing left to keep", field="legal_name")])
        changed = [f.name for f in fields(MasterData) if getattr(data, f.name) != getattr(current.master, f.name)]
        if category != current.category:
            changed.append("category")
        if changed:
            with self._session() as session:
                row = session.get(InvestorModel, investor_id)
                assert row is not None
                _assign(row, data)
                row.category = category
                row.updated_at = _now()
        return changed

    def remove(self, investor_id: str) -> bool:
        with self._session() as session:
            row = session.get(InvestorModel, investor_id)
            if row is None:
                return False
            session.delete(row)
            return True

    def by_wallet(self) -> dict[str, InvestorRecord]:
        """Lower-cased wallet address -> investor."""
        return {wallet.lower(): record for record in self.all() for wallet in record.wallets}


def _assign(row: InvestorModel, master: MasterData) -> None:
    for f in fields(MasterData):
        setattr(row, f.name, getattr(master, f.name))


def _record(row: InvestorModel) -> InvestorRecord:
    master = MasterData(**{f.name: getattr(row, f.name) for f in fields(MasterData)})
    return InvestorRecord(row.investor_id, master, row.category, row.identity, tuple(w.address for w in row.wallets))


def _add_new_columns(engine: Engine) -> None:
    """Bring a database made by an earlier version up to the schema: add the (nullable) columns it lacks."""
    existing = {column["name"] for column in inspect(engine).get_columns(InvestorModel.__tablename__)}
    missing = [column for column in InvestorModel.__table__.columns if column.name not in existing]
    if not missing:
        return
    with engine.begin() as connection:
        for column in missing:
            kind = column.type.compile(engine.dialect)
            connection.execute(text(f"ALTER TABLE {InvestorModel.__tablename__} ADD COLUMN {column.name} {kind}"))


def open_store(url: str) -> InvestorStore:
    """Open (and create when new) the investor database at `url`; a SQLite file is created with mode 0600."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            "not a database URL (e.g. sqlite:///investors.db, postgresql+psycopg://...)", field="--db"
        ) from None
    where = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        _prepare_sqlite_file(path)
        where = str(path)
    try:
        engine = create_engine(parsed)
        Base.metadata.create_all(engine)
        _add_new_columns(engine)
    except ModuleNotFoundError as exc:
        raise InputError(f"the database driver {exc.name} is not installed", file=where) from None
    except SQLAlchemyError as exc:
        raise InputError(f"cannot open the investor database ({type(exc).__name__})", file=where) from None
    return InvestorStore(engine, where)


def export_csv(records: Iterable[InvestorRecord]) -> str:
    """CSV of the master data: investor_id, category, the `MASTER_COLUMNS`, wallets (separated by `;`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["investor_id", "category", *MASTER_COLUMNS, "wallets"])
    for record in records:
        cells = [getattr(record.master, name) or "" for name in MASTER_COLUMNS]
        writer.writerow([record.investor_id, record.category or "", *cells, ";".join(record.wallets)])
    return out.getvalue()


def encode_export(text: str, encoding: str, records: list[InvestorRecord]) -> bytes:
    """`text` in `encoding` (utf-8 gets a BOM, as Excel expects); a character cp932 cannot hold is reported by
    investor id and field, never by value."""
    if encoding == "utf-8":
        return text.encode("utf-8-sig")
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        pass
    issues = []
    for record in records:
        for name in MASTER_COLUMNS:
            value = getattr(record.master, name) or ""
            try:
                value.encode(encoding)
            except UnicodeEncodeError:
                issues.append(
                    Issue(f"investor {record.investor_id} has a character {encoding} cannot hold", field=name)
                )
    raise InputError.from_issues(issues or [Issue(f"not representable in {encoding}", field="--encoding")])


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path`, readable by its owner only (personal data)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, OWNER_ONLY)


def store_for(db: str | None, manifest: Path | None) -> InvestorStore:
    """The investor database a command uses: `db` (--db), else `default_url` for the active workspace."""
    from munibond.workspace import current

    if db is None:
        workspace = current()
        db = default_url(workspace_root=workspace.root if workspace else None, manifest=manifest, environ=os.environ)
    return open_store(db)


def records_from_import(
    masters: list[MasterRow], rows: Iterable[Any], wallet_of_line: Mapping[int, str]
) -> list[InvestorRecord]:
    """Investor records to store after an import: each investor's master data with the category and identity of
    its CSV rows (`munibond.investors.InvestorRow`) and its wallets resolved (`wallet_of_line`: line -> address)."""
    first = {}
    for row in rows:
        first.setdefault(row.investor_id, row)
    records = []
    for master in masters:
        row = first.get(master.investor_id)
        wallets = tuple(sorted({wallet_of_line[line] for line, _ in master.wallets if line in wallet_of_line}))
        records.append(
            InvestorRecord(
                master.investor_id,
                master.master,
                row.category.name.lower() if row is not None else None,
                row.identity if row is not None else None,
                wallets,
            )
        )
    return records
