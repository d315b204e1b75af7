"""Who a wallet belongs to, off chain: the investor id, the name and, for holders paid by bank, the bank account.

The reports and the bank file ask an `InvestorDirectory` (a Protocol: `lookup(wallet)`), so the investor database
can answer once it exists; until then `CsvInvestorDirectory` reads a CSV kept by the registrar:

    wallet,investor_id,name,pay_by,bank_code,branch_code,account_type,account_number,account_name,bank_name,branch_name

* wallet: a 0x address or `alias:NAME` (resolved with `resolve` before use), one row per wallet;
* investor_id: the issuer's reference (as in the investors CSV); name: the investor's name as printed in reports;
* pay_by: `chain` (paid in the payment token, the default when blank) or `bank` (paid by bank transfer in yen:
  the bank fields are then required);
* bank_code (4 digits), branch_code (3 digits), account_type (futsu, toza, chochiku or 1, 2, 4, 9),
  account_number (up to 7 digits), account_name (the holder's name in kana as the bank has it), bank_name and
  branch_name (kana, optional): see `munibond.zengin.BankAccount`.

Personal data stays in this file (and in the reports the operator writes); nothing of it goes on chain or in logs.
Every row is validated before anything is used: one InputError lists every problem as file:line: field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from munibond.csvinput import read_table, unique_wallet
from munibond.errors import InputError, Issue
from munibond.investors import ALIAS_PREFIX, parse_wallet
from munibond.zengin import BankAccount

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
