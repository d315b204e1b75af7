"""Paying holders by bank transfer in yen: the Zengin transfer file, then recording on chain what the bank paid.

1. `export_transfers`: for the holders the investor directory marks `pay_by: bank` and that the period still owes,
   one transfer each of the net the payment agent would pay them on chain (`workflows.preview_pay`, the same
   withholding arithmetic as every payment: `munibond.entitlement`). Writes the Zengin file and, beside it,
   `<file>.json`: the file's SHA-256 and per data record the wallet, investor and amounts (the plan).
2. The bank executes the file.
3. `record_transfers`: once the operator confirms the bank executed it (or from the bank's result file, only the
   executed records), marks those holders paid off chain for the period with the file's SHA-256 as the payment
   reference (`recordOffchainPayments`). Holders already settled are skipped, so a re-run records nothing twice;
   a declined confirmation sends nothing.

Run it before `coupon pay` pushes the period: the push pays every holder not yet settled, bank-paid ones too.
The bank's result file is a CSV `record,account_number,amount,status` (status executed or failed; one line per
data record of the transfer file; see docs/bank-transfers.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from munibond.chain import workflows
from munibond.chain.deployment import payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.lookup import series_entry, terms_after_record
from munibond.chain.series_terms import issuer_zone, series_currency
from munibond.chain.session import Session
from munibond.chain.settlement import BankPaymentRun, _record_offchain
from munibond.clock import local_date
from munibond.csvinput import read_table
from munibond.errors import AmountError, InputError, Issue
from munibond.money import from_token_amount
from munibond.reports.directory import InvestorDirectory
from munibond.zengin import BankAccount, Originator, Transfer, parse_transfer_file, to_zengin_text, transfer_file

PLAN_SUFFIX = ".json"
RESULT_COLUMNS = ("record", "account_number", "amount", "status")
EXECUTED, FAILED = "executed", "failed"
ORIGINATOR_FIELDS = (
    "requester_code",
    "requester_name",
    "bank_code",
    "bank_name",
    "branch_code",
    "branch_name",
    "account_type",
    "account_number",
)


@dataclass(frozen=True)
class PlannedTransfer:
    """One data record of the file and the settlement it pays (amounts in payment-token base units, yen)."""

    record: int  # 1-based data record number (also customer code 1 in the file)
    wallet: str
    investor_id: str
    coupon_gross: int
    principal_gross: int
    taxes: list[int]
    net: int
    yen: int
    account_number: str


@dataclass
class TransferPlan:
    symbol: str
    period: int  # 1-based
    transfer_date: str
    sha256: str  # of the Zengin file, 0x-hex
    transfers: list[PlannedTransfer] = field(default_factory=list)
    already_settled: list[str] = field(default_factory=list)

    @property
    def total_yen(self) -> int:
        return sum(t.yen for t in self.transfers)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path) -> TransferPlan:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            plan = cls(**{k: v for k, v in raw.items() if k != "transfers"})
            plan.transfers = [PlannedTransfer(**t) for t in raw["transfers"]]
        except OSError as exc:
            raise InputError(f"cannot read the transfer plan: {exc.strerror}", file=str(path)) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a transfer plan written by `bank export`: {exc}", file=str(path)) from None
        return plan


def plan_path(file: Path) -> Path:
    return file.with_name(file.name + PLAN_SUFFIX)


def load_originator(path: Path) -> Originator:
    """The paying customer and its account, from a YAML mapping of ORIGINATOR_FIELDS (bank_name and branch_name
    may be empty); one InputError naming the field otherwise."""
    file = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=file) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML syntax: {exc}", file=file) from None
    if not isinstance(raw, dict):
        raise InputError(f"must be a mapping of {', '.join(ORIGINATOR_FIELDS)}", file=file)
    unknown = sorted(set(map(str, raw)) - set(ORIGINATOR_FIELDS))
    if unknown:
        raise InputError(f"unknown field {unknown[0]}", file=file, field=unknown[0])
    values = {}
    for name in ORIGINATOR_FIELDS:
        value = raw.get(name, "")
        if not isinstance(value, str):
            raise InputError(f"must be a quoted string, got {value!r}", file=file, field=name)
        values[name] = value
    try:
        account = BankAccount(
            values["bank_code"],
            values["branch_code"],
            values["account_type"],
            values["account_number"],
            values["requester_name"] or "-",
            values["bank_name"],
            values["branch_name"],
        )
        return Originator(values["requester_code"], values["requester_name"], account)
    except ValueError as exc:
        name = next((n for n in ORIGINATOR_FIELDS if str(exc).startswith(n)), "(file)")
        raise InputError(str(exc), file=file, field=name) from None


def _customer_code(investor_id: str) -> str:
    """The investor id in customer code 2 when it fits (10 Zengin characters), else blank."""
    try:
        text = to_zengin_text(investor_id)
    except ValueError:
        return ""
    return text if len(text) <= 10 else ""


def export_transfers(
    session: Session,
    symbol: str,
    period: int,
    directory: InvestorDirectory,
    originator: Originator,
    out: Path,
    *,
    transfer_date: dt.date | None = None,
) -> TransferPlan:
    """Write the Zengin file `out` (and its plan beside it) paying every bank-paid holder of `period` (1-based)
    not yet settled its net in yen (the wallets `directory.bank_paid()` names, with their bank accounts).
    Refused before writing: a series not in yen, a file already there, a bank-paid holder frozen or unverified
    (it would be escrowed), an amount not a whole number of yen."""
    currency = series_currency(session, symbol)
    if currency.code != "JPY":
        raise InputError(f"{symbol} pays in {currency.code}: Zengin transfers are in yen", field="series")
    for target in (out, plan_path(out)):
        if target.exists():
            raise InputError("already exists: a transfer file is never overwritten", file=str(target))
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    terms = terms_after_record(session, agent, period)
    decimals = int(payment_token_at(entry["payment_token"]).decimals())
    preview = workflows.preview_pay(session, symbol, period)
    pending = {e.holder: e for e in preview.pending}
    day = transfer_date or local_date(int(terms.paymentTime), issuer_zone(session, symbol))
    plan = TransferPlan(symbol, period, day.isoformat(), "")
    transfers: list[Transfer] = []
    issues: list[Issue] = []
    for wallet, contact in directory.bank_paid().items():
        due = pending.get(wallet)
        if due is None:
            if agent.isSettled(period - 1, wallet):
                plan.already_settled.append(wallet)
            continue
        if due.escrowed:
            issues.append(Issue(f"{wallet} is frozen or unverified: its payment waits in escrow", field="wallet"))
            continue
        try:
            yen = from_token_amount(due.net, "JPY", decimals)
            record = len(transfers) + 1
            if contact.bank_account is None:
                raise ValueError("has no bank account in the investor directory")
            transfers.append(Transfer(contact.bank_account, yen, f"{record:010d}", _customer_code(contact.investor_id)))
        except (AmountError, ValueError) as exc:
            issues.append(Issue(f"{wallet} ({contact.investor_id}): {exc}", field="amount"))
            continue
        plan.transfers.append(
            PlannedTransfer(
                record,
                wallet,
                contact.investor_id,
                due.coupon_gross,
                due.principal_gross,
                list(due.taxes),
                due.net,
                yen,
                transfers[-1].account.account_number.rjust(7, "0"),
            )
        )
    if issues:
        raise InputError.from_issues(issues)
    if not transfers:
        raise InputError(
            f"no bank-paid holder is owed anything for period {period} "
            f"({len(plan.already_settled)} already settled): no file written",
            field="period",
        )
    data = transfer_file(originator, day, transfers)
    plan.sha256 = "0x" + hashlib.sha256(data).hexdigest()
    out.write_bytes(data)
    plan_path(out).write_text(plan.to_json(), encoding="utf-8")
    return plan


def read_plan(file: Path) -> TransferPlan:
    """The plan of the transfer file `file`, checked against it: same SHA-256, same records and amounts."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(file)) from None
    plan = TransferPlan.load(plan_path(file))
    digest = "0x" + hashlib.sha256(data).hexdigest()
    if digest != plan.sha256:
        raise InputError(
            f"the file's SHA-256 {digest} is not the exported {plan.sha256}: it was changed after `bank export`",
            file=str(file),
        )
    records = [r for r in parse_transfer_file(data) if r["data_kind"] == "2"]
    if [(int(r["amount"]), r["account_number"]) for r in records] != [
        (t.yen, t.account_number) for t in plan.transfers
    ]:
        raise InputError("the data records do not match the transfer plan", file=str(file))
    return plan


def read_result(path: Path, plan: TransferPlan) -> list[int]:
    """The data record numbers the bank's result file `path` says were executed; every record of the plan must be
    listed once with its account number and amount, as executed or failed."""
    file = str(path)
    rows, issues = read_table(path, RESULT_COLUMNS)
    by_record = {t.record: t for t in plan.transfers}
    seen: dict[int, int] = {}
    executed: list[int] = []
    for line, (record_text, account_text, amount_text, status) in rows:
        if not record_text.isdigit() or int(record_text) not in by_record:
            issues.append(Issue(f"no data record {record_text!r} in the transfer file", file, line, "record"))
            continue
        record = int(record_text)
        if record in seen:
            issues.append(Issue(f"record {record} already on line {seen[record]}", file, line, "record"))
            continue
        seen[record] = line
        planned = by_record[record]
        if account_text.rjust(7, "0") != planned.account_number:
            issues.append(Issue(f"record {record} is account {planned.account_number}", file, line, "account_number"))
        if amount_text != str(planned.yen):
            issues.append(Issue(f"record {record} is {planned.yen} yen, got {amount_text!r}", file, line, "amount"))
        if status not in (EXECUTED, FAILED):
            issues.append(Issue(f"must be {EXECUTED} or {FAILED}, got {status!r}", file, line, "status"))
        elif status == EXECUTED:
            executed.append(record)
    missing = sorted(set(by_record) - set(seen))
    if missing:
        issues.append(Issue(f"records {', '.join(map(str, missing))} are not in the result", file, None, "record"))
    if issues:
        raise InputError.from_issues(issues)
    return sorted(executed)


@dataclass(frozen=True)
class RecordPlan:
    """What `record_transfers` would send: the transfers to record and those already settled."""

    plan: TransferPlan
    to_record: list[PlannedTransfer]
    already_settled: list[PlannedTransfer]


def record_transfers(
    session: Session,
    file: Path,
    *,
    payer: str,
    batch_size: int,
    confirm: Callable[[RecordPlan], bool],
    executed: list[int] | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> BankPaymentRun | None:
    """Record the transfers of `file` (all, or only the `executed` data records) as paid off chain, with the file's
    SHA-256 as each payment's reference, after `confirm` agrees; None (nothing sent) when it does not.

    Checked before asking: the file is the one exported (hash and records), the net the chain would record for
    each holder is still the one the bank paid (a tax class changed since would make them differ)."""
    plan = read_plan(file)
    entry = series_entry(session, plan.symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    chosen = [t for t in plan.transfers if executed is None or t.record in executed]
    settled = [t for t in chosen if agent.isSettled(plan.period - 1, t.wallet)]
    to_record = [t for t in chosen if t not in settled]
    if to_record:
        pending = {e.holder: e for e in workflows.preview_pay(session, plan.symbol, plan.period).pending}
        issues = []
        for t in to_record:
            now = pending.get(t.wallet)
            if now is None or now.escrowed or now.net != t.net:
                state = "escrowed" if now is not None and now.escrowed else f"net {now.net}" if now else "nothing due"
                issues.append(
                    Issue(f"{t.wallet}: the bank paid net {t.net}, the chain would record {state}", str(file), None)
                )
        if issues:
            raise InputError.from_issues(issues)
    if not confirm(RecordPlan(plan, to_record, settled)):
        return None
    reference = bytes.fromhex(plan.sha256[2:])
    signer = session.signers.account(payer)
    run = _record_offchain(
        agent, plan.period - 1, [(t.wallet, reference) for t in to_record], signer, batch_size, progress
    )
    run.already_settled.extend(t.wallet for t in settled)
    return run
