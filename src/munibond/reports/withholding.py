"""Withholding reports: what was withheld per component and per payee account (the remittance to the tax
offices), and the annual summary per investor (gross, each component, net: the withholding certificate data).

Withholding of payments made on chain (pushed, claimed, released from escrow) is transferred by the series to the
component's account (`TaxSwept`); withholding of payments recorded as made by bank transfer is in the event only,
so the issuer remits it itself: the two are reported apart. The payee account of a component is the one the
payment agent holds for it now (`taxComponents`; zero = the default tax account): a component re-routed since
(`TaxClassUpdated`) is shown at its current account.

Dates are the day of the settlement on chain in the issuer's time zone (a claim or an escrow release can come
after the payment date); a date range includes both ends.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from munibond.chain.events import logs_since
from munibond.chain.lookup import check_period
from munibond.chain.payment_record import ESCROWED, OFFCHAIN, PaymentLine, payment_lines, settlement_lines
from munibond.errors import InputError
from munibond.reports.html import page, table
from munibond.reports.payment_run import Component, Money, SeriesContext


@dataclass
class RemittanceRow:
    component: Component
    account: str
    on_chain: int = 0  # withheld from payments in the payment token (the series transfers it)
    by_bank: int = 0  # withheld from bank-paid coupons (the issuer remits it)
    payments: int = 0

    @property
    def total(self) -> int:
        return self.on_chain + self.by_bank


@dataclass
class Remittance:
    symbol: str
    scope: str  # "period 2" or "2027-01-01..2027-12-31"
    money: Money
    rows: list[RemittanceRow] = field(default_factory=list)
    swept: dict[str, int] = field(default_factory=dict)  # account -> transferred by the series in the date range

    def total(self, attribute: str) -> int:
        return sum(int(getattr(row, attribute)) for row in self.rows)


def _lines_in(context: SeriesContext, first: dt.date, last: dt.date) -> list[PaymentLine]:
    if last < first:
        raise InputError(f"--to {last.isoformat()} is before --from {first.isoformat()}", field="--to")
    every = settlement_lines(context.agent, start_block=context.start_block, keep=lambda log: True)
    return [line for line in every if first <= context.block_day(line.block) <= last]


def remittance(
    context: SeriesContext, *, period: int | None = None, first: dt.date | None = None, last: dt.date | None = None
) -> Remittance:
    """Withholding per component and payee account, for `period` (1-based) or settlements dated `first`..`last`."""
    if period is not None:
        check_period(context.agent, period)
        lines = payment_lines(context.agent, period - 1, start_block=context.start_block)
        scope = f"period {period}"
    elif first is not None and last is not None:
        lines = _lines_in(context, first, last)
        scope = f"{first.isoformat()}..{last.isoformat()}"
    else:
        raise InputError("give --period, or --from and --to", field="--period")
    report = Remittance(context.symbol, scope, context.money)
    rows: dict[tuple[tuple[str, int], str], RemittanceRow] = {}
    for line in lines:
        if line.kind == ESCROWED:
            continue
        for component, amount in zip(context.components(line.tax_class), line.taxes, strict=False):
            row = rows.setdefault((component.key, component.account), RemittanceRow(component, component.account))
            if line.kind == OFFCHAIN:
                row.by_bank += amount
            else:
                row.on_chain += amount
            row.payments += 1
    report.rows = list(rows.values())
    if period is None and first is not None and last is not None:
        for log in logs_since(context.agent.TaxSwept, context.start_block):
            if first <= context.block_day(int(log.block_number)) <= last:
                account = str(log["account"])
                report.swept[account] = report.swept.get(account, 0) + int(log["amount"])
    return report


def remittance_csv(report: Remittance) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    money = report.money
    writer.writerow(
        [
            "scope",
            "component",
            "rate_percent",
            "account",
            "payments",
            "withheld_on_chain",
            "withheld_bank_paid",
            "withheld_total",
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                report.scope,
                row.component.name,
                format(row.component.rate_percent, "f"),
                row.account,
                row.payments,
                money.text(row.on_chain),
                money.text(row.by_bank),
                money.text(row.total),
            ]
        )
    writer.writerow(
        [
            "TOTAL",
            "",
            "",
            "",
            report.total("payments"),
            money.text(report.total("on_chain")),
            money.text(report.total("by_bank")),
            money.text(report.total("total")),
        ]
    )
    return out.getvalue()


def remittance_html(report: Remittance) -> str:
    money = report.money
    rows = [
        (
            row.component.label,
            row.account,
            str(row.payments),
            money.show(row.on_chain),
            money.show(row.by_bank),
            money.show(row.total),
        )
        for row in report.rows
    ]
    rows.append(
        (
            "total",
            "",
            str(report.total("payments")),
            money.show(report.total("on_chain")),
            money.show(report.total("by_bank")),
            money.show(report.total("total")),
        )
    )
    body = [
        f"<p>Amounts in {money.code}. Withholding on chain is transferred by the series to each account; "
        "withholding of bank-paid coupons is remitted by the issuer.</p>",
        table(
            "Withholding per component and payee account",
            ("component", "account", "payments", "on chain", "bank-paid", "total"),
            rows,
            (False, False, True, True, True, True),
        ),
    ]
    if report.swept:
        body.append(
            table(
                "Transferred by the series in the period (TaxSwept)",
                ("account", "amount"),
                ((account, money.show(amount)) for account, amount in report.swept.items()),
                (False, True),
            )
        )
    return page(f"{report.symbol} withholding remittance — {report.scope}", body)


@dataclass
class AnnualRow:
    investor_id: str  # the directory's investor id, else empty (the row is then one wallet)
    name: str
    wallets: list[str]
    coupon_gross: int = 0
    principal_gross: int = 0
    taxes: dict[tuple[str, int], int] = field(default_factory=dict)
    net: int = 0
    settlements: int = 0
    bank_paid: int = 0  # of which settlements paid by bank transfer

    @property
    def tax(self) -> int:
        return sum(self.taxes.values())


@dataclass
class AnnualSummary:
    symbol: str
    year: int
    money: Money
    components: list[Component] = field(default_factory=list)
    rows: list[AnnualRow] = field(default_factory=list)

    def total(self, attribute: str) -> int:
        return sum(int(getattr(row, attribute)) for row in self.rows)

    def tax_total(self, component: Component) -> int:
        return sum(row.taxes.get(component.key, 0) for row in self.rows)


def annual_summary(context: SeriesContext, year: int) -> AnnualSummary:
    """Per investor, every coupon and principal received in calendar `year` (issuer's zone): on chain or by bank,
    escrow counted when released. Investors come from the directory (several wallets of one investor are one
    row); a wallet it does not know is a row of its own."""
    report = AnnualSummary(context.symbol, year, context.money)
    lines = _lines_in(context, dt.date(year, 1, 1), dt.date(year, 12, 31))
    rows: dict[str, AnnualRow] = {}
    components: dict[tuple[str, int], Component] = {}
    for line in lines:
        if line.kind == ESCROWED:
            continue
        investor_id, name = context.investor(line.holder, line.to)
        key = investor_id or line.holder
        row = rows.setdefault(key, AnnualRow(investor_id, name, []))
        for wallet in (line.holder, line.to):
            if wallet and wallet not in row.wallets:
                row.wallets.append(wallet)
        row.coupon_gross += line.coupon_gross
        row.principal_gross += line.principal_gross
        for component, amount in zip(context.components(line.tax_class), line.taxes, strict=False):
            components.setdefault(component.key, component)
            row.taxes[component.key] = row.taxes.get(component.key, 0) + amount
        row.net += line.net
        row.settlements += 1
        row.bank_paid += line.kind == OFFCHAIN
    report.components = list(components.values())
    report.rows = sorted(rows.values(), key=lambda r: (r.investor_id == "", r.investor_id, r.wallets[0]))
    return report


def annual_csv(report: AnnualSummary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    money = report.money
    writer.writerow(
        ["year", "investor_id", "name", "wallets", "settlements", "bank_paid", "coupon_gross", "principal_gross"]
        + [c.label for c in report.components]
        + ["tax_total", "net"]
    )
    for row in report.rows:
        writer.writerow(
            [
                report.year,
                row.investor_id,
                row.name,
                " ".join(row.wallets),
                row.settlements,
                row.bank_paid,
                money.text(row.coupon_gross),
                money.text(row.principal_gross),
            ]
            + [money.text(row.taxes.get(c.key, 0)) for c in report.components]
            + [money.text(row.tax), money.text(row.net)]
        )
    writer.writerow(
        [
            "TOTAL",
            "",
            "",
            "",
            report.total("settlements"),
            report.total("bank_paid"),
            money.text(report.total("coupon_gross")),
            money.text(report.total("principal_gross")),
        ]
        + [money.text(report.tax_total(c)) for c in report.components]
        + [money.text(report.total("tax")), money.text(report.total("net"))]
    )
    return out.getvalue()


def annual_html(report: AnnualSummary) -> str:
    money = report.money
    head = ("investor", "name", "settlements", "coupon", "principal", *(c.label for c in report.components), "net")
    rows = [
        (
            row.investor_id or row.wallets[0],
            row.name,
            str(row.settlements),
            money.show(row.coupon_gross),
            money.show(row.principal_gross),
            *(money.show(row.taxes.get(c.key, 0)) for c in report.components),
            money.show(row.net),
        )
        for row in report.rows
    ]
    rows.append(
        (
            "total",
            "",
            str(report.total("settlements")),
            money.show(report.total("coupon_gross")),
            money.show(report.total("principal_gross")),
            *(money.show(report.tax_total(c)) for c in report.components),
            money.show(report.total("net")),
        )
    )
    numeric = (False, False, True, True, True, *(True for _ in report.components), True)
    body = [f"<p>Amounts in {money.code}; settlements dated in the issuer's time zone.</p>"]
    body.append(table(f"Withholding per investor, {report.year}", head, rows, numeric))
    return page(f"{report.symbol} annual withholding summary {report.year}", body)
