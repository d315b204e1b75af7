"""Proceeds and refunds of a subscription book: per investor what it committed, the units allotted and issued,
the cash paid to the issuer and the cash refunded, with the transaction; and whether the totals reconcile.

Read from the book's events (`Committed` and `Withdrawn` are not needed: the book's commitment is what stands at
the close): `Settled` carries per investor the units issued, the cash paid and the cash refunded; after a
cancellation (or a lapse) `Refunded` carries each refund, and a refund the payment token refused is still owed
(`heldRefund`) and counted as refunded but held. Amounts are payment-token base units (ints), written in currency
units exactly.

Proceeds the payment token refused to the treasury stay in the book (`heldProceeds`) until claimed: the proceeds
are those paid out (`ProceedsPaid`: to the treasury, or by a claim to the wallet the treasury named) plus those
held. An entry the transfer agent moved to the investor's new wallet (`CommitmentRecovered`) is shown under the new
wallet, with the events of the lost one.

Reconciliation: proceeds + refunds = cash committed, once the book is settled or every commitment refunded; at
any time the book's payment-token balance = committed − proceeds paid out − refunds paid out (it holds what is
outstanding, the refunds held and the proceeds held).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from munibond.chain import subscription as sub
from munibond.chain.events import logs_since
from munibond.chain.offering import PHASE_WORDS, Book
from munibond.reports.directory import EmptyDirectory, InvestorDirectory
from munibond.reports.payment_run import Money as ReportMoney

CSV_COLUMNS = (
    "investor_id",
    "wallet",
    "committed_units",
    "committed",
    "allotted_units",
    "issued_units",
    "paid",
    "refunded",
    "held",
    "status",
    "transaction",
)


@dataclass
class SubscriptionLine:
    investor_id: str
    wallet: str
    committed_units: int
    committed: int  # base units
    allotted_units: int
    issued_units: int
    paid: int
    refunded: int  # returned or held for the investor's claim
    held: int
    status: str
    transactions: list[str] = field(default_factory=list)


@dataclass
class SubscriptionReport:
    symbol: str
    book: int
    address: str
    phase: sub.Phase
    money: ReportMoney
    price: int
    lines: list[SubscriptionLine]
    proceeds_paid: int  # ProceedsPaid: to the treasury, or claimed to the wallet it named
    proceeds_held: int  # refused to the treasury, held in the book for claimProceeds
    book_balance: int  # payment token held by the book now
    deadline: str = ""  # the settlement deadline, in the issuer's zone
    lapse: str | None = None  # why a book shown cancelled lapsed (None: not lapsed)

    def total(self, attribute: str) -> int:
        return sum(int(getattr(line, attribute)) for line in self.lines)

    @property
    def outstanding(self) -> int:
        """Committed cash neither paid to the issuer nor refunded yet."""
        return self.total("committed") - self.total("paid") - self.total("refunded")

    @property
    def finished(self) -> bool:
        return self.outstanding == 0 and self.phase in (sub.Phase.SETTLED, sub.Phase.CANCELLED)

    @property
    def ok(self) -> bool:
        """The totals agree with each other and with the chain: the proceeds paid out plus those held are exactly
        the paid column, and the book holds exactly what is outstanding plus the refunds and proceeds held."""
        return (
            self.proceeds_paid + self.proceeds_held == self.total("paid")
            and self.book_balance == self.outstanding + self.total("held") + self.proceeds_held
            and self.outstanding >= 0
        )

    def lines_text(self) -> list[str]:
        m = self.money
        state = "reconciled" if self.ok else "NOT RECONCILED"
        return [
            f"{self.symbol} subscription book {self.book} ({self.address}), {PHASE_WORDS[self.phase]}: "
            f"{len(self.lines)} investors ({m.code})",
            f"  deadline    {self.deadline}"
            + (f" ({self.lapse}: every commitment not settled is refundable)" if self.lapse else ""),
            f"  committed   {m.show(self.total('committed'))}",
            f"  proceeds    {m.show(self.total('paid'))} (paid out: {m.show(self.proceeds_paid)}, held in the book "
            f"for the treasury: {m.show(self.proceeds_held)})",
            f"  refunds     {m.show(self.total('refunded'))} (held for claims: {m.show(self.total('held'))})",
            f"  outstanding {m.show(self.outstanding)} (the book holds {m.show(self.book_balance)})",
            f"proceeds + refunds + outstanding = committed: {state}"
            + ("" if not self.finished else " (complete: proceeds + refunds = committed)"),
        ]


def subscription_report(book: Book, directory: InvestorDirectory | None = None) -> SubscriptionReport:
    contract = book.contract
    who = directory or EmptyDirectory()
    price = int(book.terms().price)
    lines: dict[str, SubscriptionLine] = {}
    for entry in book.entries():
        contact = who.lookup(entry.investor)
        lines[entry.investor] = SubscriptionLine(
            contact.investor_id if contact else "",
            entry.investor,
            entry.units,
            entry.units * price,
            entry.allotted if entry.is_allotted else 0,
            0,
            0,
            0,
            int(contract.heldRefund(entry.investor)),
            "allotted" if entry.is_allotted else "committed",
        )
    moves = sub.recoveries(contract, book.start_block)
    settled: set[str] = set()
    for log in logs_since(contract.Settled, book.start_block):
        line = lines[sub.current_wallet(moves, str(log.investor), (int(log.block_number), int(log.log_index)))]
        settled.add(line.wallet)
        line.issued_units += int(log.units)
        line.paid += int(log.cash)
        line.refunded += int(log.refund)
        line.status = "settled" if int(log.units) == line.allotted_units else "settled, allotment lapsed"
        line.transactions.append(str(log.transaction_hash))
    for log in logs_since(contract.Refunded, book.start_block):
        line = lines.get(sub.current_wallet(moves, str(log.investor), (int(log.block_number), int(log.log_index))))
        if line is None or line.wallet in settled:  # a settlement refund is counted from its Settled event
            continue
        line.refunded += int(log.cash)
        line.status = "refunded"
        line.transactions.append(str(log.transaction_hash))
    phase = book.phase()
    for line in lines.values():
        if line.wallet not in settled and line.held:
            line.refunded += line.held  # a cancellation refund the token refused: owed, held for the claim
            line.status = "refund held"
        if phase == sub.Phase.CANCELLED and line.status in ("committed", "allotted"):
            line.status = "to refund"
    proceeds = sum(int(log.cash) for log in logs_since(contract.ProceedsPaid, book.start_block))
    money = ReportMoney(book.money.code, book.money.minor_units, book.money.decimals)
    return SubscriptionReport(
        book.symbol,
        book.number,
        contract.address,
        phase,
        money,
        price,
        list(lines.values()),
        proceeds,
        book.held_proceeds(),
        int(book.cash.balanceOf(contract.address)),
        book.when(book.deadline()),
        book.lapse(),
    )


def report_csv(report: SubscriptionReport) -> str:
    """One row per investor (amounts in currency units, exact), then a TOTAL row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    m = report.money
    writer.writerow(CSV_COLUMNS)
    for line in report.lines:
        writer.writerow(
            [
                line.investor_id,
                line.wallet,
                line.committed_units,
                m.text(line.committed),
                line.allotted_units,
                line.issued_units,
                m.text(line.paid),
                m.text(line.refunded),
                m.text(line.held),
                line.status,
                " ".join(dict.fromkeys(line.transactions)),
            ]
        )
    writer.writerow(
        [
            "TOTAL",
            f"{len(report.lines)} investors",
            report.total("committed_units"),
            m.text(report.total("committed")),
            report.total("allotted_units"),
            report.total("issued_units"),
            m.text(report.total("paid")),
            m.text(report.total("refunded")),
            m.text(report.total("held")),
            "reconciled" if report.ok else "NOT RECONCILED",
            "",
        ]
    )
    return out.getvalue()
