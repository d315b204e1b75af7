"""Settling a period beyond the push: bank (off-chain) payments, escrow release, reclaim of unassigned
funding, the withheld-tax sweep, payment default, and what the payment token refused to deliver (a holder's
net waiting in the series, a tax account's arrears).

Each step asks the payment agent first and sends nothing when its work is already done (holders already
settled, no escrow left, period closed, no tax pending, default already recorded), so a run interrupted
anywhere can be started again and finishes the job exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from munibond.bank_payments import BankPayment, parse_bank_payments
from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.lookup import check_period, investor_registry, series_entry, terms_after_record
from munibond.chain.series_terms import issuer_zone
from munibond.chain.servicing import HolderPayment, payments_in
from munibond.chain.session import Session
from munibond.clock import calendar_years_after, show_time
from munibond.errors import InputError, Issue
from munibond.investors import resolve_wallets
from munibond.money import TAX_CLASSES_BY_ID

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


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
    """Withholding sent to (or, when `refused`, left owed to) a tax account by a sweep."""

    tax_class: int
    account: str
    amount: int
    refused: bool = False


def load_bank_payments(path: Path) -> list[BankPayment]:
    return parse_bank_payments(path)


def record_bank_payments(
    session: Session,
    symbol: str,
    period: int,
    path: Path,
    payments: list[BankPayment],
    *,
    payer: str,
    batch_size: int,
    progress: Progress = _quiet,
) -> BankPaymentRun:
    """Record the holders of `payments` as paid by bank transfer for `period` (1-based), once each.

    Checked before sending: aliases resolve, the record date has passed, every wallet held units then.
    Record them before `pay` pushes the period, or the push pays them on chain as well.
    """
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    terms = terms_after_record(session, agent, period)
    token = bond_token(session.project, entry["token"])
    file = str(path)
    issues: list[Issue] = []
    resolved: list[tuple[str, bytes]] = []
    for row in resolve_wallets(payments, session.signers.address, file=file):
        if int(token.balanceOfAt(row.wallet, int(terms.recordTime))) == 0:
            issues.append(
                Issue(f"{row.wallet} held no units at the record date of period {period}", file, row.line, "wallet")
            )
            continue
        resolved.append((row.wallet, row.reference_hash))
    if issues:
        raise InputError.from_issues(issues)
    return _record_offchain(agent, period - 1, resolved, session.signers.account(payer), batch_size, progress)


def release_escrow(
    session: Session, symbol: str, period: int, holder: str, *, to: str | None, payer: str
) -> HolderPayment | None:
    """Pay the escrowed entitlement of `holder` for `period` (1-based) to `to` (default: the holder); None when
    nothing is in escrow (any longer). Checked before sending: `to` is verified, not frozen, and the holder's
    own wallet or another wallet of the same investor."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    check_period(agent, period)
    holder_address = session.signers.address(holder)
    to_address = holder_address if to is None else session.signers.address(to)
    if int(agent.escrowOf(period - 1, holder_address)) == 0:
        return None
    _check_same_investor(session, entry, symbol, holder_address, to_address)
    receipt = agent.releaseEscrow(period - 1, holder_address, to_address, sender=session.signers.account(payer))
    (payment,) = payments_in([receipt], agent, period - 1)
    return payment


RECLAIM_YEARS = 5  # unclaimed coupons stay claimable this many calendar years after the payment date


def reclaim_time(payment_time: int, agent_reclaim_after: int, tz: str) -> int:
    """When a period's unclaimed funding may be reclaimed: five calendar years after its payment time in the
    issuer's zone `tz` (1,826 or 1,827 days, by the leap days between), and never before the payment agent's
    own `reclaimAfter` (payment time + its fixed `reclaimDelay` in seconds, 5 x 365 days by default)."""
    return max(calendar_years_after(payment_time, RECLAIM_YEARS, tz), agent_reclaim_after)


def reclaim(session: Session, symbol: str, period: int, *, to: str | None, payer: str) -> int | None:
    """Return the funding of `period` (1-based) not assigned to any holder to `to` (default: the payer), closing
    the period; None when it is already closed. Refused before sending until the reclaim date."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    check_period(agent, period)
    state = agent.periodState(period - 1)
    if state.closed:
        return None
    tz = issuer_zone(session, symbol)
    reclaim_from = reclaim_time(int(agent.periodTerms(period - 1).paymentTime), int(state.reclaimAfter), tz)
    if session.now() < reclaim_from:
        raise InputError(
            f"period {period} can be reclaimed from {show_time(reclaim_from, tz, with_clock=True)} "
            f"({RECLAIM_YEARS} calendar years after its payment date)",
            field="period",
        )
    signer = session.signers.account(payer)
    receipt = agent.reclaim(period - 1, session.signers.address(to) if to else signer.address, sender=signer)
    return sum(int(log["amount"]) for log in agent.Reclaimed.from_receipt(receipt))


def sweep_tax(session: Session, symbol: str, *, sender: str) -> list[TaxTransfer]:
    """Transfer the withholding accrued by claims (push batches transfer their own) to the tax accounts."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    due = [c for c in sorted(TAX_CLASSES_BY_ID) if any(int(amount) for amount in agent.taxPending(c))]
    if not due:
        return []
    receipt = agent.sweepTax(due, sender=session.signers.account(sender))
    sent = [
        TaxTransfer(int(log["taxClass"]), str(log["account"]), int(log["amount"]))
        for log in agent.TaxSwept.from_receipt(receipt)
    ]
    refused = [
        TaxTransfer(int(log["taxClass"]), str(log["account"]), int(log["amount"]), refused=True)
        for log in agent.TaxTransferFailed.from_receipt(receipt)
    ]
    return sent + refused


def release_undelivered(session: Session, symbol: str, holder: str, *, to: str | None, payer: str) -> int | None:
    """Pay the net the payment token refused to deliver to `holder` (it waits in the series) to `to` (default: the
    holder); None when nothing waits. Checked before sending like an escrow release."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    holder_address = session.signers.address(holder)
    to_address = holder_address if to is None else session.signers.address(to)
    amount = int(agent.undelivered(holder_address))
    if amount == 0:
        return None
    _check_same_investor(session, entry, symbol, holder_address, to_address)
    agent.releaseUndelivered(holder_address, to_address, sender=session.signers.account(payer))
    return amount


def pay_tax_arrears(session: Session, symbol: str, account: str, *, redirect_to: str | None, sender: str) -> int | None:
    """Send the withholding `account` could not receive: to `account` itself (anyone may retry), or to
    `redirect_to` (the series admin re-routes it); None when nothing is owed to it."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    account_address = session.signers.address(account)
    amount = int(agent.taxArrears(account_address))
    if amount == 0:
        return None
    signer = session.signers.account(sender)
    if redirect_to is None:
        agent.payTaxArrears(account_address, sender=signer)
    else:
        agent.redirectTaxArrears(account_address, session.signers.address(redirect_to), sender=signer)
    return amount


def _check_same_investor(session: Session, entry: dict[str, Any], symbol: str, holder: str, to: str) -> None:
    registry = investor_registry(session)
    token = bond_token(session.project, entry["token"])
    if not registry.isVerified(to):
        raise InputError(f"{to} is not verified in the investor registry: the payment stays", field="to")
    if token.isFrozen(to):
        raise InputError(f"{to} is frozen on {symbol}: the payment stays", field="to")
    if to != holder and registry.investorRecord(to).identity != registry.investorRecord(holder).identity:
        raise InputError(f"{to} is not a wallet of the same investor as {holder}", field="to")


def mark_default(session: Session, symbol: str, period: int, *, sender: str) -> bool:
    """Record that `period` (1-based) passed its payment date unfunded; False when already recorded.
    Refused before sending before the payment date and when the period is covered."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    terms = terms_after_record(session, agent, period)
    if agent.periodState(period - 1).defaulted:
        return False
    if session.now() < int(terms.paymentTime):
        raise InputError(f"the payment date of period {period} has not come yet", field="period")
    if int(agent.fundingShortfall(period - 1)) == 0:
        raise InputError(f"period {period} is fully funded: it is not in default", field="period")
    agent.markDefault(period - 1, sender=session.signers.account(sender))
    return True


def _record_offchain(
    agent: Any, period: int, payments: list[tuple[str, bytes]], payer: Any, batch_size: int, progress: Progress
) -> BankPaymentRun:
    """Record `(holder, reference hash)` pairs as paid by bank for `period` (0-based), skipping settled holders."""
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
        progress(f"period {period + 1}: recorded {len(run.recorded)}/{len(pending)} bank payments")
    return run
