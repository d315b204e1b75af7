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

from munibond.chain.bulk import BulkReader, Event, transfers
from munibond.chain.sending import Sender
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


def web3_of(contract: Any) -> Any:
    """The web3 of the provider an Ape contract instance talks to (reads go straight through it)."""
    return contract.provider.web3


def candidate_holders(token: Any, start_block: int) -> list[str]:
    """Every wallet that ever received units of the series, in first-seen order."""
    seen: dict[str, None] = {}
    for _from, to, _value in transfers(web3_of(token), str(token.address), start_block):
        if int(to, 16) != 0:
            seen.setdefault(to, None)
    return list(seen)


def holders_at_record(
    token: Any, record_time: int, start_block: int, reader: BulkReader | None = None
) -> dict[str, int]:
    """wallet -> units held at `record_time` (which must have passed), for wallets holding any."""
    reader = reader or BulkReader.pinned(web3_of(token))
    wallets = candidate_holders(token, start_block)
    units = reader.map(token, "balanceOfAt", [(wallet, record_time) for wallet in wallets])
    return {wallet: int(n) for wallet, n in zip(wallets, units, strict=True) if n}


def settled_flags(agent: Any, period: int, wallets: list[str], reader: BulkReader | None = None) -> list[bool]:
    """`agent.isSettled(period, wallet)` for every wallet, read in bulk."""
    reader = reader or BulkReader.pinned(web3_of(agent))
    return [bool(flag) for flag in reader.map(agent, "isSettled", [(period, wallet) for wallet in wallets])]


def fund_period(
    agent: Any, payment_token: Any, period: int, payer: Any, sender: Sender | None = None
) -> tuple[int, list[Any]]:
    """Fund what `period` still lacks (nothing when already covered); returns (amount, transactions)."""
    shortfall = int(agent.fundingShortfall(period))
    if shortfall == 0:
        return 0, []
    sender = sender or Sender(payer)
    transactions = []
    if int(payment_token.allowance(payer.address, agent.address)) < shortfall:
        transactions.append(sender.send(payment_token, "approve", agent.address, shortfall))
    transactions.append(sender.send(agent, "fund", period, shortfall))
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
    """The payments and escrows of `period` in the receipts (Ape's or `SentReceipt`s), in order, decoded without Ape."""
    payments: list[HolderPayment] = []
    made, escrowed = Event.of(agent, "PaymentMade"), Event.of(agent, "PaymentEscrowed")
    address = str(agent.address)
    for receipt in receipts:
        for log in made.logs_in(receipt.logs, address):
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
        for log in escrowed.logs_in(receipt.logs, address):
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
    sender = Sender(payer)
    run.funded_now, funding_txs = fund_period(agent, payment_token, period, payer, sender)
    run.transactions.extend(funding_txs)
    if run.funded_now:
        progress(f"period {period + 1}: funded {run.funded_now}")
    record_time = int(agent.periodTerms(period).recordTime)
    reader = BulkReader.pinned(web3_of(agent))
    holders = list(holders_at_record(token, record_time, start_block, reader))
    settled = settled_flags(agent, period, holders, reader)
    pending = [wallet for wallet, done in zip(holders, settled, strict=True) if not done]
    run.skipped = len(holders) - len(pending)
    for start in range(0, len(pending), batch_size):
        batch = pending[start : start + batch_size]
        receipt = sender.send(agent, "pushPayments", period, batch, shape=len(batch))
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
    reader = BulkReader.pinned(web3_of(agent))
    holdings = holders_at_record(token, int(terms.recordTime), start_block, reader)
    wallets = list(holdings)
    settled = settled_flags(agent, period, wallets, reader)
    pending = [wallet for wallet, done in zip(wallets, settled, strict=True) if not done]
    preview.already_settled = len(wallets) - len(pending)
    one = [(wallet,) for wallet in pending]
    records = reader.map(registry, "investorRecord", one)
    frozen = reader.map(token, "isFrozen", one)
    verified = reader.map(registry, "isVerified", one)
    held_now = reader.map(token, "balanceOf", one)
    for i, wallet in enumerate(pending):
        tax_class = int(records[i].taxClass)
        if tax_class not in rates:
            rates[tax_class] = tuple(int(c.ratePpm) for c in agent.taxComponents(tax_class))
        due = entitlement(
            wallet,
            holdings[wallet],
            coupon=coupon,
            principal=principal,
            redeemed=redeemed,
            rates_ppm=rates[tax_class],
            escrowed=bool(frozen[i]) or not verified[i],
            held_now=int(held_now[i]),
        )
        if due.coupon_gross or due.principal_gross or due.units_retired:
            preview.pending.append(due)
    return preview
