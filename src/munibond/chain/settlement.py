"""Settling a period beyond the push: bank (off-chain) payments, escrow release, reclaim of unassigned
funding, the withheld-tax sweep and payment default.

Each step asks the payment agent first and sends nothing when its work is already done (holders already
settled, no escrow left, period closed, no tax pending, default already recorded), so a run interrupted
anywhere can be started again and finishes the job exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from munibond.chain.servicing import DEFAULT_BATCH_SIZE, HolderPayment, payments_in


@dataclass(frozen=True)
class BankPaymentRecord:
    """One holder recorded as paid by bank transfer (payment-token base units; nothing moved on chain)."""

    holder: str
    coupon_gross: int
    principal_gross: int
    units_redeemed: int
    reference_hash: str


@dataclass
class BankPaymentRun:
    period: int
    recorded: list[BankPaymentRecord] = field(default_factory=list)
    already_settled: list[str] = field(default_factory=list)
    transactions: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class TaxTransfer:
    tax_class: int
    account: str
    amount: int


def record_bank_payments(
    agent: Any,
    period: int,
    payments: Iterable[tuple[str, bytes]],
    payer: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str], None] = lambda _msg: None,
) -> BankPaymentRun:
    """Record `(holder, reference hash)` pairs as paid by bank for `period`, skipping holders already settled."""
    run = BankPaymentRun(period)
    pending = []
    for holder, reference in payments:
        if agent.isSettled(period, holder):
            run.already_settled.append(holder)
        else:
            pending.append((holder, reference))
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        receipt = agent.recordOffchainPayments(
            period, [holder for holder, _ in batch], [reference for _, reference in batch], sender=payer
        )
        run.transactions.append(receipt)
        run.recorded.extend(
            BankPaymentRecord(
                str(log["holder"]),
                int(log["couponGross"]),
                int(log["principalGross"]),
                int(log["unitsRedeemed"]),
                "0x" + bytes(log["paymentReference"]).hex(),
            )
            for log in agent.OffchainPaymentRecorded.from_receipt(receipt)
        )
        progress(f"period {period}: recorded {len(run.recorded)}/{len(pending)} bank payments")
    return run


def release_escrow(agent: Any, period: int, holder: str, to: str, payer: Any) -> HolderPayment | None:
    """Pay `holder`'s escrowed entitlement for `period` to `to`; None when nothing is (any longer) in escrow."""
    if int(agent.escrowOf(period, holder)) == 0:
        return None
    receipt = agent.releaseEscrow(period, holder, to, sender=payer)
    (payment,) = payments_in([receipt], agent, period)
    return payment


def reclaim_unassigned(agent: Any, period: int, to: str, payer: Any) -> int | None:
    """Return `period`'s funding not assigned to any holder to `to`, closing it; None when already closed."""
    if agent.periodState(period).closed:
        return None
    receipt = agent.reclaim(period, to, sender=payer)
    return sum(int(log["amount"]) for log in agent.Reclaimed.from_receipt(receipt))


def sweep_withheld_tax(agent: Any, tax_classes: Iterable[int], sender: Any) -> list[TaxTransfer]:
    """Transfer the withheld tax pending for any of `tax_classes` to the tax accounts (nothing to do: [])."""
    due = [c for c in tax_classes if any(int(amount) for amount in agent.taxPending(c))]
    if not due:
        return []
    receipt = agent.sweepTax(due, sender=sender)
    return [
        TaxTransfer(int(log["taxClass"]), str(log["account"]), int(log["amount"]))
        for log in agent.TaxSwept.from_receipt(receipt)
    ]


def mark_payment_default(agent: Any, period: int, sender: Any) -> bool:
    """Record the payment default of `period`; False when it is already recorded."""
    if agent.periodState(period).defaulted:
        return False
    agent.markDefault(period, sender=sender)
    return True
