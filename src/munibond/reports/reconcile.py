"""Reconciliation of a series' payment-token balance with its books.

Two independent checks, both against the balance the payment token reports for the series' payment agent:

1. Flows. Funded in every period, less the net paid to holders (on chain), the funding reclaimed and the withheld
   tax transferred to the tax accounts (`TaxSwept`, `TaxArrearsPaid` events), plus the net the payment token
   refused to deliver and that waits in the series (`PaymentUndelivered` less `UndeliveredReleased`): what the
   series should hold.
2. Commitments. Per period what is in escrow and what is funded but assigned to no holder (unclaimed, funding that
   covered bank payments, the rounding remainder: `accounts(period).held`); the withheld tax not yet transferred
   (`taxPending` per tax class); tax arrears per account; undelivered net per holder. Their sum must equal the
   agent's own `committedFunds()`.
3. Books. Per period its accounts must balance: funded = paid net + tax withheld + escrow + remainder, the
   remainder being what was reclaimed or is still held (funded less paid, tax and escrow); and the tax withheld in
   every period must be found again: transferred to the tax accounts, pending transfer, or owed as arrears.
   What the bank paid (`offchainGross`) moved no payment token and is shown beside them, for the record.

The balance minus what the series should hold is the difference: a surplus is payment token sent to the series
outside the payment flows (a stray transfer, recoverable by the admin with `recoverTokens`), a deficit a broken
invariant. Any difference, in either check, is a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from munibond.chain.events import logs_since
from munibond.money import TAX_CLASSES_BY_ID
from munibond.reports.payment_run import Money, SeriesContext


@dataclass(frozen=True)
class Entry:
    label: str
    amount: int  # payment-token base units, signed as it enters the sum


@dataclass(frozen=True)
class Check:
    """Two amounts that must be equal (payment-token base units)."""

    label: str
    books: int
    found: int

    @property
    def ok(self) -> bool:
        return self.books == self.found


@dataclass
class Reconciliation:
    symbol: str
    agent: str
    money: Money
    balance: int
    flows: list[Entry] = field(default_factory=list)
    commitments: list[Entry] = field(default_factory=list)
    committed_view: int = 0
    recovered: int = 0  # payment token returned by `recoverTokens` (informative: it came from a surplus)
    checks: list[Check] = field(default_factory=list)
    by_bank: int = 0  # gross paid by bank transfer over every period (informative: no payment token moved)

    @property
    def expected(self) -> int:
        return sum(e.amount for e in self.flows)

    @property
    def committed(self) -> int:
        return sum(e.amount for e in self.commitments)

    @property
    def difference(self) -> int:
        """Balance minus what the flows say the series holds: > 0 surplus, < 0 deficit."""
        return self.balance - self.expected

    @property
    def ok(self) -> bool:
        books = all(check.ok for check in self.checks)
        return books and self.difference == 0 and self.committed == self.committed_view == self.expected

    def lines(self) -> list[str]:
        show = self.money.show
        width = max(len(e.label) for e in [*self.flows, *self.commitments]) + 2
        out = [f"{self.symbol}: payment token held by the series ({self.agent}), in {self.money.code}", "flows:"]
        out += [f"  {e.label:<{width}}{show(e.amount):>24}" for e in self.flows]
        out.append(f"  {'= should hold':<{width}}{show(self.expected):>24}")
        out.append("commitments (views):")
        out += [f"  {e.label:<{width}}{show(e.amount):>24}" for e in self.commitments]
        out.append(f"  {'= committed':<{width}}{show(self.committed):>24}")
        out.append(f"  {'committedFunds()':<{width}}{show(self.committed_view):>24}")
        if self.checks:
            out.append("books (funded = paid net + tax + escrow + remainder; tax withheld = transferred + pending):")
        for check in self.checks:
            verdict = "ok" if check.ok else f"MISMATCH: found {show(check.found)}"
            out.append(f"  {check.label:<{width}}{show(check.books):>24}  {verdict}")
        if self.by_bank:
            out.append(f"paid by bank transfer (gross, no payment token moved): {show(self.by_bank)}")
        if self.recovered:
            out.append(f"recovered by the admin so far (from surpluses): {show(self.recovered)}")
        out.append(f"{'balance':<{width + 2}}{show(self.balance):>24}")
        word = "surplus" if self.difference > 0 else "deficit" if self.difference < 0 else "difference"
        out.append(f"{word:<{width + 2}}{show(self.difference):>24}")
        if self.committed != self.committed_view or self.committed != self.expected:
            out.append(
                f"mismatch: commitments {show(self.committed)}, committedFunds() {show(self.committed_view)}, "
                f"flows {show(self.expected)}"
            )
        out.append("reconciled" if self.ok else "NOT reconciled")
        return out


def _sum(event: object, start_block: int, key: str = "amount") -> int:
    return sum(int(log[key]) for log in logs_since(event, start_block))


def reconcile(context: SeriesContext) -> Reconciliation:
    agent, start = context.agent, context.start_block
    balance = int(context.cash.balanceOf(agent.address))
    report = Reconciliation(context.symbol, str(agent.address), context.money, balance)
    periods = range(int(agent.periodCount()))
    accounts = [agent.accounts(p) for p in periods]
    tax_out = _sum(agent.TaxSwept, start) + _sum(agent.TaxArrearsPaid, start)
    refused = _sum(agent.PaymentUndelivered, start)
    released = _sum(agent.UndeliveredReleased, start)
    report.flows = [
        Entry("funded", sum(int(a.funded) for a in accounts)),
        Entry("- paid net", -sum(int(a.paidNet) for a in accounts)),
        Entry("+ undelivered net", refused - released),
        Entry("- tax transferred", -tax_out),
        Entry("- reclaimed", -sum(int(a.reclaimed) for a in accounts)),
    ]
    commitments = []
    for period, a in zip(periods, accounts, strict=True):
        if int(a.escrowed):
            commitments.append(Entry(f"period {period + 1} escrow", int(a.escrowed)))
        if int(a.held):
            commitments.append(Entry(f"period {period + 1} unassigned (remainder)", int(a.held)))
    for tax_class in sorted(TAX_CLASSES_BY_ID):
        pending = sum(int(x) for x in agent.taxPending(tax_class))
        if pending:
            commitments.append(Entry(f"tax pending, class {tax_class}", pending))
    accounts_owed = {str(log["account"]) for log in logs_since(agent.TaxTransferFailed, start)}
    for account in sorted(accounts_owed):
        owed = int(agent.taxArrears(account))
        if owed:
            commitments.append(Entry(f"tax arrears {account}", owed))
    holders = {str(log["holder"]) for log in logs_since(agent.PaymentUndelivered, start)}
    for holder in sorted(holders):
        waiting = int(agent.undelivered(holder))
        if waiting:
            commitments.append(Entry(f"undelivered {holder}", waiting))
    report.commitments = commitments or [Entry("nothing held", 0)]
    checks = []
    for period, a in zip(periods, accounts, strict=True):
        paid, tax, escrow = int(a.paidNet), int(a.taxWithheld), int(a.escrowed)
        remainder = int(a.funded) - paid - tax - escrow
        checks.append(Check(f"period {period + 1} remainder", remainder, int(a.reclaimed) + int(a.held)))
    arrears_paid = _sum(agent.TaxArrearsPaid, start)
    tax_found = (
        _sum(agent.TaxSwept, start)
        + arrears_paid
        + sum(e.amount for e in commitments if e.label.startswith(("tax pending", "tax arrears")))
    )
    checks.append(Check("tax withheld", sum(int(a.taxWithheld) for a in accounts), tax_found))
    report.checks = checks
    report.by_bank = sum(int(a.offchainGross) for a in accounts)
    report.committed_view = int(agent.committedFunds())
    report.recovered = sum(
        int(log["amount"])
        for log in logs_since(agent.TokensRecovered, start)
        if str(log["token"]).lower() == str(context.cash.address).lower()
    )
    return report
