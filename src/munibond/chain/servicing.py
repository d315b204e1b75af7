"""Servicing a series: funding a period, paying holders (push, in bounded batches) and redemption.

Every step is idempotent and resumable because the payment agent is the journal: funding sends only the
shortfall it reports, and payment skips holders it has already settled. A run interrupted anywhere can be
started again and completes the job exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from munibond.chain.events import logs_since
from munibond.entitlement import Entitlement, entitlement

DEFAULT_BATCH_SIZE = 100


@dataclass
class HolderPayment:
    """What one holder received for one period (payment-token base units)."""

    period: int
    holder: str
    to: str
    coupon_gross: int
    principal_gross: int
    taxes: tuple[int, ...]
    net: int
    units_redeemed: int
    escrowed: bool = False


@dataclass
class PeriodRun:
    period: int
    funded_now: int = 0
    settled: int = 0
    skipped: int = 0
    payments: list[HolderPayment] = field(default_factory=list)
    transactions: list[Any] = field(default_factory=list)


def candidate_holders(token: Any, start_block: int) -> list[str]:
    """Every wallet that ever received units of the series, in first-seen order."""
    seen: dict[str, None] = {}
    for log in logs_since(token.Transfer, start_block):
        to = str(log["to"])
        if int(to, 16) != 0:
            seen.setdefault(to, None)
    return list(seen)


def holders_at_record(token: Any, record_time: int, start_block: int) -> dict[str, int]:
    """wallet -> units held at `record_time` (which must have passed), for wallets holding any."""
    holdings = {}
    for wallet in candidate_holders(token, start_block):
        units = int(token.balanceOfAt(wallet, record_time))
        if units:
            holdings[wallet] = units
    return holdings


def fund_period(agent: Any, payment_token: Any, period: int, payer: Any) -> tuple[int, list[Any]]:
    """Fund what `period` still lacks (nothing when already covered); returns (amount, transactions)."""
    shortfall = int(agent.fundingShortfall(period))
    if shortfall == 0:
        return 0, []
    transactions = []
    if int(payment_token.allowance(payer.address, agent.address)) < shortfall:
        transactions.append(payment_token.approve(agent.address, shortfall, sender=payer))
    transactions.append(agent.fund(period, shortfall, sender=payer))
    return shortfall, transactions


def claimable_periods(agent: Any, wallet: str, now: int) -> list[int]:
    """The periods (0-based) `wallet` can pull at time `now`: live, payment time reached, fully funded, not yet
    settled for it, and with something due (coupon, principal or units to retire) at the record time."""
    periods = []
    for period in range(int(agent.periodCount())):
        state = agent.periodState(period)
        if state.cancelled or state.closed or now < int(agent.periodTerms(period).paymentTime):
            continue
        if int(agent.fundingShortfall(period)) != 0 or agent.isSettled(period, wallet):
            continue
        coupon, principal, retired = (int(x) for x in agent.entitlement(period, wallet))
        if coupon + principal != 0 or retired != 0:
            periods.append(period)
    return periods


def payments_in(receipts: Iterable[Any], agent: Any, period: int) -> list[HolderPayment]:
    payments: list[HolderPayment] = []
    for receipt in receipts:
        for log in agent.PaymentMade.from_receipt(receipt):
            if int(log["period"]) != period:
                continue
            payments.append(
                HolderPayment(
                    period,
                    str(log["holder"]),
                    str(log["to"]),
                    int(log["couponGross"]),
                    int(log["principalGross"]),
                    tuple(int(t) for t in log["taxes"]),
                    int(log["net"]),
                    int(log["unitsRedeemed"]),
                )
            )
        for log in agent.PaymentEscrowed.from_receipt(receipt):
            if int(log["period"]) != period:
                continue
            payments.append(
                HolderPayment(
                    period,
                    str(log["holder"]),
                    agent.address,
                    int(log["couponGross"]),
                    int(log["principalGross"]),
                    (),
                    0,
                    int(log["unitsRedeemed"]),
                    escrowed=True,
                )
            )
    return payments


def pay_period(
    agent: Any,
    token: Any,
    payment_token: Any,
    period: int,
    payer: Any,
    *,
    start_block: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str], None] = lambda _msg: None,
) -> PeriodRun:
    """Fund the shortfall of `period`, then push payments to every holder at its record time not yet settled.

    On a redemption period the same push pays principal and burns the retired units.
    """
    run = PeriodRun(period)
    run.funded_now, funding_txs = fund_period(agent, payment_token, period, payer)
    run.transactions.extend(funding_txs)
    if run.funded_now:
        progress(f"period {period + 1}: funded {run.funded_now}")
    record_time = int(agent.periodTerms(period).recordTime)
    holders = holders_at_record(token, record_time, start_block)
    pending = [wallet for wallet in holders if not agent.isSettled(period, wallet)]
    run.skipped = len(holders) - len(pending)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        receipt = agent.pushPayments(period, batch, sender=payer)
        run.transactions.append(receipt)
        run.settled += len(batch)
        progress(f"period {period + 1}: settled {run.settled}/{len(pending)} holders")
    run.payments = payments_in(run.transactions, agent, period)
    return run


def period_due(agent: Any, now: int) -> list[int]:
    """Periods whose record time has passed and that are not closed (ids as the agent numbers them)."""
    due = []
    for period in range(int(agent.periodCount())):
        terms = agent.periodTerms(period)
        state = agent.periodState(period)
        if int(terms.recordTime) < now and not state.closed and not state.cancelled:
            due.append(period)
    return due


@dataclass
class PeriodPreview:
    """What paying `period` now would do: the funding it lacks and each unsettled holder's entitlement."""

    period: int
    funding_shortfall: int
    pending: list[Entitlement] = field(default_factory=list)
    already_settled: int = 0


def preview_period(agent: Any, token: Any, registry: Any, period: int, *, start_block: int) -> PeriodPreview:
    """The push of `period` computed off chain, reading only: every holder at the record time not yet settled,
    with its gross, each withholding component at the agent's configured rates, net, or escrow when frozen or
    unverified now. Sends nothing."""
    terms = agent.periodTerms(period)
    preview = PeriodPreview(period, int(agent.fundingShortfall(period)))
    rates: dict[int, tuple[int, ...]] = {}
    coupon = Fraction(int(terms.couponNum), int(terms.couponDen))
    principal = Fraction(int(terms.principalNum), int(terms.principalDen))
    redeemed = Fraction(int(terms.redeemNum), int(terms.redeemDen) or 1)
    for wallet, units in holders_at_record(token, int(terms.recordTime), start_block).items():
        if agent.isSettled(period, wallet):
            preview.already_settled += 1
            continue
        tax_class = int(registry.investorRecord(wallet).taxClass)
        if tax_class not in rates:
            rates[tax_class] = tuple(int(c.ratePpm) for c in agent.taxComponents(tax_class))
        due = entitlement(
            wallet,
            units,
            coupon=coupon,
            principal=principal,
            redeemed=redeemed,
            rates_ppm=rates[tax_class],
            escrowed=bool(token.isFrozen(wallet)) or not registry.isVerified(wallet),
            held_now=int(token.balanceOf(wallet)),
        )
        if due.coupon_gross or due.principal_gross or due.units_retired:
            preview.pending.append(due)
    return preview
