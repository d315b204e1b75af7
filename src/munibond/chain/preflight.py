"""Checks run before a payment run sends anything: the payer's role, the period's dates on the chain's clock and,
for the redemption, the earlier periods left overdue and unpaid.

Dates are compared with the timestamp of the latest block (what the chain has certainly reached), not with the
pending block's, which a node may set to its wall clock: a period is payable once a mined block is past its
payment time, so the push sent next is too. Every refusal is an `InputError` (one line, exit 2) and nothing is
sent.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any

from eth_utils import keccak

from munibond.chain.session import Session
from munibond.errors import InputError

PAYER_ROLE = keccak(text="PAYER_ROLE")


def chain_time(session: Session) -> int:
    """Timestamp of the latest block."""
    return int(session.chain.blocks.head.timestamp)


def _when(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_payer(series: Any, payer: str, *, alias: str, symbol: str) -> None:
    """`payer` must hold the series' payer role (the payment agent refuses funding and pushes from anyone else)."""
    if not series.hasRole(PAYER_ROLE, payer):
        raise InputError(
            f"{alias} ({payer}) does not have the payer role of {symbol}: nothing was sent (not even an approval)",
            field="--payer",
        )


def check_payable(agent: Any, period: int, now: int) -> None:
    """`period` (1-based) is live and its payment date has come on the chain's clock: funding and the push both
    go through (funding alone would leave the money in the agent and the push refused)."""
    count = int(agent.periodCount())
    if not 1 <= period <= count:
        raise InputError(f"period must be between 1 and {count}, got {period}", field="period")
    if agent.periodState(period - 1).cancelled:
        raise InputError(f"period {period} was cancelled (by a call)", field="period")
    terms = agent.periodTerms(period - 1)
    if int(terms.recordTime) >= now:
        raise InputError(f"the record date of period {period} has not passed yet", field="period")
    if int(terms.paymentTime) > now:
        raise InputError(
            f"period {period}: the payment date ({_when(int(terms.paymentTime))}) has not come on the chain "
            f"(latest block {_when(now)}); nothing was funded or paid",
            field="period",
        )


def overdue_unpaid(agent: Any, before: int, now: int) -> list[int]:
    """The live periods (1-based) before `before` whose payment date has passed while they are not fully funded or
    nothing of them was paid yet."""
    overdue = []
    for period in range(before - 1):
        state = agent.periodState(period)
        if state.cancelled or state.closed or int(agent.periodTerms(period).paymentTime) > now:
            continue
        paid = int(agent.accounts(period).settledGross)
        if int(agent.fundingShortfall(period)) != 0 or (paid == 0 and int(agent.requiredFunding(period)) != 0):
            overdue.append(period + 1)
    return overdue


def check_no_overdue(agent: Any, final: int, now: int, *, symbol: str) -> None:
    """The redemption waits for the coupons before it: refuse while an earlier period is overdue and unpaid."""
    overdue = overdue_unpaid(agent, final, now)
    if overdue:
        listed = ", ".join(str(p) for p in overdue)
        raise InputError(
            f"periods {listed} of {symbol} are overdue and unpaid: pay them first (`munibond coupon pay {symbol} "
            f"{overdue[0]}`); nothing was sent",
            field="series",
        )


PENDING_WAIT_ENV = "MUNIBOND_PENDING_WAIT"
DEFAULT_PENDING_WAIT = 120.0


def wait_for_pending(web3: Any, address: str, *, alias: str, timeout: float | None = None) -> None:
    """Before an account signs: wait (up to `$MUNIBOND_PENDING_WAIT` seconds, default 120) for transactions it
    still has pending on the node, e.g. from a run that was interrupted or is still going, so this run neither
    re-sends one (`transaction already imported`) nor replaces it; then refuse in one line."""
    limit = float(os.environ.get(PENDING_WAIT_ENV, DEFAULT_PENDING_WAIT)) if timeout is None else timeout
    deadline = time.monotonic() + limit
    while True:
        pending = int(web3.eth.get_transaction_count(address, "pending"))
        mined = int(web3.eth.get_transaction_count(address, "latest"))
        if pending <= mined:
            return
        if time.monotonic() >= deadline:
            raise InputError(
                f"{alias} ({address}) still has {pending - mined} transaction(s) pending on the node (an earlier "
                f"run's?) after {limit:g} s: wait until they are mined, then run the command again; nothing was sent",
                field=alias,
            )
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
