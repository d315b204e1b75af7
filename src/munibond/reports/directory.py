"""Who a wallet belongs to, off chain: the investor id, the name and, for holders paid by bank, the bank account.

The reports and the bank file ask an `InvestorDirectory` (a Protocol: `lookup(wallet)`, `bank_paid()`). Two answer:

* `DatabaseDirectory`: the investor master data (`munibond.investor_db`, filled by `munibond investors
  import|update`): the legal name, and for an investor whose `pay_by` is `bank` its bank account (bank and branch
  codes, account type and number, holder in kana, optional bank and branch names). The default.
* `CsvInvestorDirectory`: a CSV kept by the registrar, still accepted where a command takes `--investors`:

    wallet,investor_id,name,pay_by,bank_code,branch_code,account_type,account_number,account_name,bank_name,branch_name

* wallet: a 0x address or `alias:NAME` (resolved with `resolve` before use), one row per wallet;
* investor_id: the issuer's reference (as in the investors CSV); name: the investor's name as printed in reports;
* pay_by: `chain` (paid in the payment token, the default when blank) or `bank` (paid by bank transfer in yen:
  the bank fields are then required);
* bank_code (4 digits), branch_code (3 digits), account_type (futsu, toza, chochiku or 1, 2, 4, 9),
  account_number (up to 7 digits), account_name (the holder's name in kana as the bank has it), bank_name and
  branch_name (kana, optional): see `munibond.zengin.BankAccount`.

Personal data stays in this file or the database (and in the reports the operator writes); nothing of it goes on
chain, in logs or in an error message. Every CSV row is validated before anything is used: one InputError lists
every problem as file:line: field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from munibond.csvinput import read_table, unique_wallet
from munibond.errors import InputError, Issue
from munibond.investors import ALIAS_PREFIX, parse_wallet
from munibond.zengin import BankAccount

if TYPE_CHECKING:
    from munibond.investor_db import InvestorRecord, InvestorStore

COLUMNS = (
    "wallet",
    "investor_id",
    "name",
    "pay_by",
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "account_name",
    "bank_name",
    "branch_name",
)
PAY_BY = ("chain", "bank")
_BANK_FIELDS = COLUMNS[4:]


@dataclass(frozen=True)
class InvestorContact:
    """What the reports need to know about a wallet's investor."""

    investor_id: str
    name: str
    pay_by: str = "chain"  # chain | bank
    bank_account: BankAccount | None = None

    @property
    def paid_by_bank(self) -> bool:
        return self.pay_by == "bank"


class InvestorDirectory(Protocol):
    """Investor data by wallet (checksummed address): what the reports and the bank file read."""

    def lookup(self, wallet: str) -> InvestorContact | None:
        """The investor of `wallet`, or None when the directory does not know it."""
        ...

    def bank_paid(self) -> dict[str, InvestorContact]:
        """wallet -> contact of every wallet paid by bank transfer (each with its bank account)."""
        ...


class EmptyDirectory:
    """No investor data: reports show wallets only, nobody is paid by bank."""

    def lookup(self, wallet: str) -> InvestorContact | None:
        return None

    def bank_paid(self) -> dict[str, InvestorContact]:
        return {}


@dataclass(frozen=True)
class _Row:
    line: int
    wallet: str
    contact: InvestorContact


class CsvInvestorDirectory:
    """The directory of a CSV file (see the module doc); wallets given as aliases are resolved with `resolve`."""

    def __init__(self, path: str | Path, resolve: Callable[[str], str]) -> None:
        self.path = Path(path)
        self._by_wallet: dict[str, InvestorContact] = {}
        self.lines: dict[str, int] = {}
        file = str(path)
        issues: list[Issue] = []
        for row in _parse(path, issues):
            wallet = row.wallet
            if wallet.startswith(ALIAS_PREFIX):
                alias = wallet[len(ALIAS_PREFIX) :]
                try:
                    wallet = parse_wallet(resolve(alias))
                except (KeyError, ValueError) as exc:
                    issues.append(Issue(f"cannot resolve alias {alias!r}: {exc}", file, row.line, "wallet"))
                    continue
            if wallet in self._by_wallet:
                issues.append(Issue(f"duplicate wallet (same as line {self.lines[wallet]})", file, row.line, "wallet"))
                continue
            self._by_wallet[wallet] = row.contact
            self.lines[wallet] = row.line
        if issues:
            raise InputError.from_issues(sorted(issues, key=lambda issue: issue.line or 0))

    def lookup(self, wallet: str) -> InvestorContact | None:
        return self._by_wallet.get(wallet)

    def bank_paid(self) -> dict[str, InvestorContact]:
        """wallet -> contact of every wallet paid by bank transfer, in file order."""
        return {wallet: c for wallet, c in self._by_wallet.items() if c.paid_by_bank}


def _parse(path: str | Path, issues: list[Issue]) -> list[_Row]:
    file = str(path)
    rows, table_issues = read_table(path, COLUMNS)
    issues.extend(table_issues)
    seen: dict[str, int] = {}
    result = []
    for line, cells in rows:
        values = dict(zip(COLUMNS, cells, strict=True))
        wallet = unique_wallet(values["wallet"], seen, file, line, issues)
        if not values["investor_id"]:
            issues.append(Issue("must name the investor (the issuer's reference)", file, line, "investor_id"))
        pay_by = values["pay_by"] or "chain"
        if pay_by not in PAY_BY:
            issues.append(Issue(f"must be chain or bank, got {pay_by!r}", file, line, "pay_by"))
            continue
        account = None
        if pay_by == "bank" or any(values[name] for name in _BANK_FIELDS):
            missing = [name for name in _BANK_FIELDS[:5] if not values[name]]
            if missing:
                issues.append(Issue(f"a bank account needs {', '.join(missing)}", file, line, missing[0]))
                continue
            try:
                account = BankAccount(*(values[name] for name in _BANK_FIELDS))
            except ValueError as exc:
                field = next((name for name in _BANK_FIELDS if str(exc).startswith(name)), "(bank account)")
                issues.append(Issue(str(exc), file, line, field))
                continue
        if wallet is not None and values["investor_id"]:
            result.append(_Row(line, wallet, InvestorContact(values["investor_id"], values["name"], pay_by, account)))
    if not result and not issues:
        issues.append(Issue("no investors listed (only the header)", file, 1, "(file)"))
    return result


class DatabaseDirectory:
    """The directory of the investor master data: every wallet of an investor in the database; the bank-paid ones
    (`pay_by` bank) with their bank account as a Zengin transfer names it. A stored account the Zengin file cannot
    hold is refused naming the investor and the field, never the value."""

    def __init__(self, store: InvestorStore) -> None:
        self.where = store.where
        self._by_wallet: dict[str, InvestorContact] = {}
        issues: list[Issue] = []
        for record in store.all():
            try:
                contact = _contact(record)
            except ValueError as exc:
                field = str(exc).split(" ", 1)[0].rstrip(":")
                issues.append(Issue(f"investor {record.investor_id}: cannot go into a Zengin file", field=field))
                continue
            for wallet in record.wallets:
                self._by_wallet[wallet.lower()] = contact
        if issues:
            raise InputError.from_issues(issues)

    def lookup(self, wallet: str) -> InvestorContact | None:
        return self._by_wallet.get(wallet.lower())

    def bank_paid(self) -> dict[str, InvestorContact]:
        """wallet (as stored: checksummed) -> contact of every wallet of an investor paid by bank transfer."""
        return {
            parse_wallet(wallet): contact for wallet, contact in sorted(self._by_wallet.items()) if contact.paid_by_bank
        }


def _contact(record: InvestorRecord) -> InvestorContact:
    from munibond.investor_db import ACCOUNT_TYPES

    master = record.master
    account = None
    if record.has_bank_account:
        account = BankAccount(
            master.bank_code or "",
            master.branch_code or "",
            ACCOUNT_TYPES.get(master.account_type or "", master.account_type or ""),
            master.account_number or "",
            master.account_holder or "",
            master.bank_name or "",
            master.branch_name or "",
        )
    return InvestorContact(record.investor_id, master.legal_name, "bank" if master.paid_by_bank else "chain", account)


def investor_directory(
    investors_csv: Path | None,
    *,
    db: str | None,
    manifest: Path | None,
    resolve: Callable[[str], str],
    required: bool,
) -> InvestorDirectory:
    """The directory a command reads: the CSV `investors_csv` when given, else the investor database (`--db`, else
    `munibond.investor_db.store_for`'s default). A default SQLite file that does not exist is not created: the
    reports then show wallets only (`EmptyDirectory`), and a command that needs the directory (`required`, the bank
    file) is refused."""
    import os

    from munibond.investor_db import default_url, open_store
    from munibond.workspace import current

    if investors_csv is not None:
        return CsvInvestorDirectory(investors_csv, resolve)
    url = db
    if url is None:
        workspace = current()
        url = default_url(workspace_root=workspace.root if workspace else None, manifest=manifest, environ=os.environ)
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
            if required:
                raise InputError(
                    "no investor database: import the investors with their master data (`munibond investors "
                    "import`), mark bank-paid ones with `investors update ID --pay-by bank`, or give --db or "
                    "--investors",
                    file=url[len("sqlite:///") :],
                )
            return EmptyDirectory()
    return DatabaseDirectory(open_store(url))
