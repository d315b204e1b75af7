"""Record-date checkpoints: balanceOfAt / totalSupplyAt across several record times, written lazily."""

from __future__ import annotations

import random
from typing import Any

from ape import reverts


def test_balances_at_several_record_times(
    deploy_series, onboard, minter, payer, chain, investor_a, investor_b, investor_c
):
    for w in (investor_a, investor_b, investor_c):
        onboard(w)
    now = chain.pending_timestamp
    times = [now + 100, now + 200, now + 300, now + 400]
    token = deploy_series(record_times=times)
    assert token.recordTimes() == times
    token.mint(investor_a, 100, sender=minter)  # before R0
    token.transfer(investor_b, 10, sender=investor_a)
    chain.mine(timestamp=now + 150)  # R0 passed
    token.transfer(investor_b, 20, sender=investor_a)  # first change after R0: written into the account slots
    token.mint(investor_c, 5, sender=minter)
    chain.mine(timestamp=now + 250)  # R1 passed
    # nothing happens in period 2, R2 passes too
    chain.mine(timestamp=now + 350)
    token.transfer(investor_c, 30, sender=investor_b)  # b and c change across two record dates: history spills
    token.transfer(investor_a, 1, sender=investor_c)
    chain.mine(timestamp=now + 450)

    expected = {
        times[0]: {investor_a: 90, investor_b: 10, investor_c: 0, "supply": 100},
        times[1]: {investor_a: 70, investor_b: 30, investor_c: 5, "supply": 105},
        times[2]: {investor_a: 70, investor_b: 30, investor_c: 5, "supply": 105},
        times[3]: {investor_a: 71, investor_b: 0, investor_c: 34, "supply": 105},
    }
    for t, row in expected.items():
        for holder in (investor_a, investor_b, investor_c):
            assert token.balanceOfAt(holder, t) == row[holder], (t - now, holder)
        assert token.totalSupplyAt(t) == row["supply"]


def test_record_time_errors(deploy_series, chain):
    now = chain.pending_timestamp
    token = deploy_series(record_times=[now + 100])
    with reverts(token.RecordTimeNotPassed):
        token.balanceOfAt(token, now + 100)
    chain.mine(timestamp=now + 101)
    with reverts(token.UnknownRecordTime):
        token.totalSupplyAt(now + 50)
    assert token.totalSupplyAt(now + 100) == 0


def test_set_record_times_keeps_passed_times(deploy_series, chain, payer, admin, outsider):
    now = chain.pending_timestamp
    token = deploy_series(record_times=[now + 100, now + 200])
    chain.mine(timestamp=now + 150)
    with reverts(token.InvalidRecordTimes):
        token.setRecordTimes([now + 110, now + 300], sender=admin)  # rewrites a passed time
    with reverts(token.InvalidRecordTimes):
        token.setRecordTimes([now + 100, now + 120], sender=admin)  # a new time in the past
    with reverts(token.InvalidRecordTimes):
        token.setRecordTimes([now + 100, now + 400, now + 300], sender=admin)  # not increasing
    tx = token.setRecordTimes([now + 100, now + 300, now + 400], sender=admin)
    ev = tx.events.filter(token.RecordTimesUpdated)[0]
    assert list(ev.oldTimes) == [now + 100, now + 200]
    assert list(ev.newTimes) == [now + 100, now + 300, now + 400]
    for stranger in (outsider, payer):  # the payer pays; the record times are the admin's (or the payment code's)
        with reverts(token.MissingRole):
            token.setRecordTimes([now + 100], sender=stranger)


def test_balance_changes_before_record_time_count(deploy_series, onboard, minter, chain, investor_a):
    onboard(investor_a)
    now = chain.pending_timestamp
    token = deploy_series(record_times=[now + 100])
    chain.pending_timestamp = now + 100  # a block with timestamp == record time counts before the record
    token.mint(investor_a, 7, sender=minter)
    chain.mine(timestamp=now + 101)
    token.mint(investor_a, 5, sender=minter)
    assert token.balanceOfAt(investor_a, now + 100) == 7
    assert token.totalSupplyAt(now + 100) == 7


def test_history_across_many_record_times_matches_model(
    deploy_series, onboard, minter, chain, investor_a, investor_b, investor_c, investor_d
):
    """Balances move in most of nine record periods, so each account spills several times (both parties of a
    transfer at once, zero segments, unchanged periods, a balance returning to its snapshot); every record
    index is checked against a Python model."""
    holders = [investor_a, investor_b, investor_c, investor_d]
    for w in holders:
        onboard(w)
    now = chain.pending_timestamp
    times = [now + 100 * (k + 1) for k in range(8)]
    token = deploy_series(record_times=times)
    rng = random.Random(20261125)
    balance = {h: 0 for h in holders}
    expected: list[dict[Any, int]] = []

    def move(frm: Any, to: Any, amount: int) -> None:
        if amount == 0:
            return
        token.transfer(to, amount, sender=frm)
        balance[frm] -= amount
        balance[to] += amount

    def mint(to: Any, amount: int) -> None:
        token.mint(to, amount, sender=minter)
        balance[to] += amount

    mint(investor_a, 1_000)
    mint(investor_b, 500)
    for period in range(9):
        if period == 3:
            pass  # nothing moves: the segments of period 2 extend over record index 3
        elif period == 5:
            move(investor_a, investor_b, 7)  # back and forth: a and b end the period where they started
            move(investor_b, investor_a, 7)
            move(investor_c, investor_d, balance[investor_c])  # c drops to a zero segment
        else:
            move(investor_a, investor_b, rng.randint(1, 40))  # both parties spill from period 2 on
            move(investor_b, investor_a, rng.randint(1, 15))
            move(investor_a, investor_c, rng.randint(1, 30))
            if period % 2 == 0:
                mint(investor_d, rng.randint(1, 20))
            if period in (4, 6):
                move(investor_d, investor_b, balance[investor_d])  # d empties, refilled by later mints
        if period < len(times):
            expected.append({**balance, "supply": sum(balance.values())})
            chain.mine(timestamp=times[period] + 1)

    for k, t in enumerate(times):
        for h in holders:
            assert token.balanceOfAt(h, t) == expected[k][h], (k, h)
            assert token.paymentAccount(h, t)[0] == expected[k][h], (k, h)
        assert token.totalSupplyAt(t) == expected[k]["supply"], k
    for h in holders:
        assert token.balanceOf(h) == balance[h]
