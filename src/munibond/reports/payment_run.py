"""The payment run report of one period: every settlement (or, before paying, every payment the push would make)
with the investor, gross, each withholding component by name, net, how it was paid and its transaction.

Amounts are kept in payment-token base units (ints) and shown in currency units, exactly: base units are turned
into the currency's minor units with `munibond.money.from_token_amount` (the token's decimals against the
currency's minor units), then written as a decimal with the currency's number of places (JPY 4121, CHF 12.50).
Nothing here rounds: an amount finer than the minor unit is shown with all its digits.

A paid period comes from the payment agent's events (`munibond.chain.payment_record`), a preview from
`workflows.preview_pay`, the computation `coupon pay --dry-run` shows. Withholding component names are those of
`munibond.money` for the tax class the payment used, with the rate the chain applied (`taxComponents`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eth_utils import function_signature_to_4byte_selector

from munibond.chain.deployment import payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.lookup import check_period, investor_registry, series_entry
from munibond.chain.payment_record import ESCROWED, OFFCHAIN, RELEASED, PaymentLine
from munibond.chain.series_terms import issuer_zone, series_currency
from munibond.chain.session import Session
from munibond.clock import local_date
from munibond.errors import AmountError
from munibond.money import TAX_CLASSES_BY_ID, format_minor, from_token_amount
from munibond.reports.directory import EmptyDirectory, InvestorDirectory

PUSH, CLAIM, ESCROW, RELEASE, BANK = "push", "claim", "escrow", "release", "bank"
PREVIEW_PUSH, PREVIEW_ESCROW = "to push", "to escrow"
ZERO_ADDRESS = "0x" + "00" * 20
_PUSH_SELECTOR = function_signature_to_4byte_selector("pushPayments(uint256,address[])")


@dataclass(frozen=True)
class Component:
    """One withholding component as the chain applies it: its name, rate and the account it is paid to."""

    name: str
    rate_ppm: int
    account: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.name, self.rate_ppm)

    @property
    def rate_percent(self) -> Decimal:
        return Decimal(self.rate_ppm) / Decimal(10_000)

    @property
    def label(self) -> str:
        return f"{self.name} {format(self.rate_percent, 'f')}%"


@dataclass(frozen=True)
class Money:
    """How base units of the payment token are shown: the currency and the token's decimals."""

    code: str
    minor_units: int
    decimals: int

    def amount(self, raw: int) -> Decimal:
        """`raw` base units in currency units, exactly."""
        try:
            minor = from_token_amount(raw, self.code, self.decimals)
        except AmountError:
            return Decimal(raw).scaleb(-self.decimals)
        return Decimal(minor).scaleb(-self.minor_units)

    def text(self, raw: int) -> str:
        """Plain decimal for CSV (no grouping)."""
        return format(self.amount(raw), "f")

    def show(self, raw: int) -> str:
        """With thousands separators, for people."""
        try:
            return format_minor(from_token_amount(raw, self.code, self.decimals), self.code)
        except AmountError:
            return f"{self.amount(raw):,f}"


@dataclass(frozen=True)
class ReportLine:
    period: int  # 1-based
    payment_date: dt.date  # the period's payment date, issuer's zone
    settled_on: dt.date | None  # the day of the settlement on chain (None in a preview)
    investor_id: str
    name: str
    holder: str
    to: str
    coupon_gross: int  # base units
    principal_gross: int
    taxes: dict[tuple[str, int], int]  # Component.key -> withheld base units
    net: int
    how: str  # push | claim | escrow | release | bank | to push | to escrow
    transaction: str
    reference: str = ""

    @property
    def gross(self) -> int:
        return self.coupon_gross + self.principal_gross

    @property
    def tax(self) -> int:
        return sum(self.taxes.values())


@dataclass(frozen=True)
class Batch:
    """One transaction of the run and where the period stood after it (gross, base units)."""

    transaction: str
    settlements: int
    gross: int
    paid_after: int
    remaining_after: int


@dataclass
class PaymentRunReport:
    symbol: str
    period: int
    payment_date: dt.date
    money: Money
    preview: bool
    components: list[Component] = field(default_factory=list)
    lines: list[ReportLine] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    due: int = 0  # gross owed to every holder of the period (settled or not)
    paid: int = 0  # gross settled to holders (on chain or by bank), escrow excluded until released

    @property
    def remaining(self) -> int:
        return self.due - self.paid

    def total(self, attribute: str) -> int:
        return sum(int(getattr(line, attribute)) for line in self.lines)

    def tax_total(self, component: Component) -> int:
        return sum(line.taxes.get(component.key, 0) for line in self.lines)


class SeriesContext:
    """What every report of a series reads once: agent, zone, money, tax components, block dates, investors."""

    def __init__(self, session: Session, symbol: str, directory: InvestorDirectory | None = None) -> None:
        self.session = session
        self.symbol = symbol
        self.entry = series_entry(session, symbol)
        self.agent = payment_agent(session.project, self.entry["payment_agent"])
        self.start_block = int(self.entry["block"])
        self.zone = issuer_zone(session, symbol)
        currency = series_currency(session, symbol)
        self.cash = payment_token_at(self.entry["payment_token"])
        self.money = Money(currency.code, currency.minor_units, int(self.cash.decimals()))
        self.directory: InvestorDirectory = directory or EmptyDirectory()
        self._components: dict[int, tuple[Component, ...]] = {}
        self._days: dict[int, dt.date] = {}
        self._how: dict[str, str] = {}
        self._default_tax_account: str | None = None

    @property
    def web3(self) -> Any:
        return self.session.chain.provider.web3

    def components(self, tax_class: int) -> tuple[Component, ...]:
        """The withholding components of `tax_class` as the agent has them now, named after `munibond.money`."""
        if tax_class not in self._components:
            on_chain = list(self.agent.taxComponents(tax_class)) if tax_class else []
            known = TAX_CLASSES_BY_ID.get(tax_class)
            names = [c.name for c in known.components] if known else []
            result = []
            for index, component in enumerate(on_chain):
                name = names[index] if len(names) == len(on_chain) else f"class{tax_class}_component{index + 1}"
                account = str(component.account)
                if int(account, 16) == 0:
                    account = self.default_tax_account()
                result.append(Component(name, int(component.ratePpm), account))
            self._components[tax_class] = tuple(result)
        return self._components[tax_class]

    def default_tax_account(self) -> str:
        if self._default_tax_account is None:
            self._default_tax_account = str(self.agent.taxAccount())
        return self._default_tax_account

    def block_day(self, block: int) -> dt.date:
        if block not in self._days:
            self._days[block] = local_date(int(self.web3.eth.get_block(block)["timestamp"]), self.zone)
        return self._days[block]

    def payment_date(self, period: int) -> dt.date:
        """The payment date of `period` (1-based) in the issuer's zone."""
        return local_date(int(self.agent.periodTerms(period - 1).paymentTime), self.zone)

    def how(self, line: PaymentLine) -> str:
        if line.kind == ESCROWED:
            return ESCROW
        if line.kind == RELEASED:
            return RELEASE
        if line.kind == OFFCHAIN:
            return BANK
        if line.transaction not in self._how:
            data = bytes(self.web3.eth.get_transaction(line.transaction)["input"])
            self._how[line.transaction] = PUSH if data[:4] == _PUSH_SELECTOR else CLAIM
        return self._how[line.transaction]

    def investor(self, *wallets: str) -> tuple[str, str]:
        """(investor id, name) of the first of `wallets` the directory knows; blanks when none."""
        for wallet in wallets:
            contact = self.directory.lookup(wallet) if wallet else None
            if contact is not None:
                return contact.investor_id, contact.name
        return "", ""

    def report_line(self, line: PaymentLine, payment_date: dt.date) -> ReportLine:
        components = self.components(line.tax_class)
        taxes = {c.key: amount for c, amount in zip(components, line.taxes, strict=False)}
        investor_id, name = self.investor(line.holder, line.to)
        return ReportLine(
            line.period + 1,
            payment_date,
            self.block_day(line.block),
            investor_id,
            name,
            line.holder,
            line.to,
            line.coupon_gross,
            line.principal_gross,
            taxes,
            line.net,
            self.how(line),
            line.transaction,
            line.reference,
        )


def _columns(lines: Iterable[ReportLine], components: Iterable[Component]) -> list[Component]:
    """The components that appear, each once, in first-seen order."""
    seen: dict[tuple[str, int], Component] = {}
    for component in components:
        seen.setdefault(component.key, component)
    used = {key for line in lines for key in line.taxes}
    return [c for key, c in seen.items() if key in used]


def _batches(lines: Sequence[ReportLine], due: int) -> tuple[list[Batch], int]:
    """The transactions in chain order with the gross paid after each; and the gross paid in all."""
    batches: list[Batch] = []
    paid = 0
    order: dict[str, list[ReportLine]] = {}
    for line in lines:
        order.setdefault(line.transaction, []).append(line)
    for transaction, group in order.items():
        paid += sum(line.gross for line in group if line.how != ESCROW)
        batches.append(Batch(transaction, len(group), sum(line.gross for line in group), paid, due - paid))
    return batches, paid


def payment_run(context: SeriesContext, period: int) -> PaymentRunReport:
    """The report of `period` (1-based): its settlements so far, from the chain's events, and what the push
    would still pay (when the record date has passed) counted in the total due."""
    from munibond.chain.payment_record import payment_lines

    check_period(context.agent, period)
    payment_date = context.payment_date(period)
    report = PaymentRunReport(context.symbol, period, payment_date, context.money, preview=False)
    settled = payment_lines(context.agent, period - 1, start_block=context.start_block)
    report.lines = [context.report_line(line, payment_date) for line in settled]
    components = [c for line in settled for c in context.components(line.tax_class)]
    report.components = _columns(report.lines, components)
    still_due = 0
    recorded = int(context.agent.periodTerms(period - 1).recordTime) < context.session.now()
    if recorded and not context.agent.periodState(period - 1).cancelled:
        from munibond.chain import workflows

        pending = workflows.preview_pay(context.session, context.symbol, period).pending
        still_due = sum(e.coupon_gross + e.principal_gross for e in pending)
    report.due = sum(line.gross for line in report.lines if line.how != RELEASE) + still_due
    report.batches, report.paid = _batches(report.lines, report.due)
    return report


def preview_run(context: SeriesContext, period: int) -> PaymentRunReport:
    """The report of what `coupon pay` would pay now for `period` (1-based), computed as its dry run does
    (`workflows.preview_pay`): one line per unsettled holder, no transaction yet."""
    from munibond.chain import workflows

    preview = workflows.preview_pay(context.session, context.symbol, period)
    payment_date = context.payment_date(period)
    report = PaymentRunReport(context.symbol, period, payment_date, context.money, preview=True)
    registry = investor_registry(context.session)
    components: list[Component] = []
    for due in preview.pending:
        tax_class = int(registry.investorRecord(due.holder).taxClass)
        classes = context.components(tax_class)
        components.extend(classes)
        investor_id, name = context.investor(due.holder)
        report.lines.append(
            ReportLine(
                period,
                payment_date,
                None,
                investor_id,
                name,
                due.holder,
                "" if due.escrowed else due.holder,
                due.coupon_gross,
                due.principal_gross,
                {c.key: amount for c, amount in zip(classes, due.taxes, strict=False)},
                due.net,
                PREVIEW_ESCROW if due.escrowed else PREVIEW_PUSH,
                "",
            )
        )
    report.components = _columns(report.lines, components)
    report.due = sum(line.gross for line in report.lines)
    return report


CSV_HEAD = ("period", "payment_date", "settled_on", "investor_id", "name", "holder", "wallet_paid")
CSV_GROSS = ("coupon_gross", "principal_gross")
CSV_TAIL = ("tax_total", "net", "how", "transaction", "reference")


def report_csv(report: PaymentRunReport) -> str:
    """One row per line: amounts in currency units (exact decimals), one column per withholding component
    labelled by name and rate, then a TOTAL row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    money = report.money
    writer.writerow([*CSV_HEAD, *CSV_GROSS, *(c.label for c in report.components), *CSV_TAIL])
    for line in report.lines:
        writer.writerow(
            [
                line.period,
                line.payment_date.isoformat(),
                line.settled_on.isoformat() if line.settled_on else "",
                line.investor_id,
                line.name,
                line.holder,
                line.to,
                money.text(line.coupon_gross),
                money.text(line.principal_gross),
                *(money.text(line.taxes.get(c.key, 0)) for c in report.components),
                money.text(line.tax),
                money.text(line.net),
                line.how,
                line.transaction,
                line.reference,
            ]
        )
    writer.writerow(
        [
            "TOTAL",
            report.payment_date.isoformat(),
            "",
            "",
            "",
            f"{len(report.lines)} lines",
            "",
            money.text(report.total("coupon_gross")),
            money.text(report.total("principal_gross")),
            *(money.text(report.tax_total(c)) for c in report.components),
            money.text(report.total("tax")),
            money.text(report.total("net")),
            "",
            "",
            "",
        ]
    )
    return out.getvalue()
