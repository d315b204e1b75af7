# ruff: noqa: F811 (the book fixtures are imported from test_subscription and requested by name)
"""munibond.chain.subscription: the allotment rules in Python (checked against an independent Fraction
computation and against the book itself) and the re-runnable batched steps on a real book."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from munibond.chain import subscription as sub
from munibond.chain.subscription import AllotmentError, Commitment, Method, Phase
from tests.unit.settlement.test_subscription import (  # noqa: F401
    PRICE,
    commit,
    investors,
    issuer,
    make_book,
    travel,
    treasury,
)


def entry(name: str, units: int, seq: int) -> Commitment:
    return Commitment(name, units, 0, seq, 0)


def test_pro_rata_hand_worked_example():
    # docs/settlement-subscription.md: B 7, C 9, A 5 (A topped up last), 10 offered -> B 4, C 4, A 2
    book = [entry("A", 5, 4), entry("B", 7, 2), entry("C", 9, 3)]
    assert sub.pro_rata(book, 10) == {"B": 4, "C": 4, "A": 2}


def test_current_wallet_follows_the_later_recoveries():
    a, b, c, d, e = ("0x" + ch * 40 for ch in "abcde")
    # a -> b at block 5, then d -> a at block 6 (a's old entry gone), then b -> c at block 7
    moves = [sub.Move(a, b, (5, 0)), sub.Move(d.upper().replace("0X", "0x"), a, (6, 0)), sub.Move(b, c, (7, 1))]
    assert sub.current_wallet(moves, a) == c  # a's first entry: a -> b -> c
    assert sub.current_wallet(moves, a, (6, 1)) == a  # an event of a after d's entry came to it: that entry
    assert sub.current_wallet(moves, d, (3, 0)) == a  # d's entry moved to a once (case ignored), never again
    assert sub.current_wallet(moves, b, (7, 1)) == b  # an event in the same log as the move or after it
    assert sub.current_wallet(moves, e) == e  # never moved


def test_pro_rata_matches_the_exact_shares():
    rng = random.Random(13)
    for _ in range(300):
        count = rng.randint(1, 30)
        book = [entry(f"w{i}", rng.randint(0, 50), i + 1) for i in range(count)]
        offered = rng.randint(1, 400)
        units = sub.pro_rata(book, offered)
        total = sum(c.units for c in book)
        if total == 0:
            assert units == {}
            continue
        allottable = min(offered, total)
        assert sum(units.values()) == allottable
        extra_closed = False
        for c in (c for c in book if c.units):
            share = Fraction(c.units * allottable, total)
            got = units[c.investor]
            assert got in (int(share), int(share) + 1) and got <= c.units
            if got == int(share) + 1:
                assert share.denominator != 1 and not extra_closed
            elif share.denominator != 1:
                extra_closed = True


def test_first_come_and_explicit_checks():
    book = [entry("A", 4, 1), entry("B", 5, 2), entry("C", 3, 3)]
    assert sub.first_come(book, 10) == {"A": 4, "B": 5, "C": 1}
    sub.check_explicit(book, {"a": 4, "C": 2}, 6)
    with pytest.raises(AllotmentError, match="exceeds the commitment 4"):
        sub.check_explicit(book, {"A": 5}, 10)
    with pytest.raises(AllotmentError, match="more than the 6 offered"):
        sub.check_explicit(book, {"A": 4, "B": 3}, 6)
    with pytest.raises(AllotmentError, match="no commitment"):
        sub.check_explicit(book, {"D": 1}, 10)


def test_batched_steps_resume_and_send_nothing_twice(
    make_book,
    deploy_series,
    investors,
    payment_token,
    travel,
    issuer,
    treasury,
):
    token = deploy_series()
    book = make_book(token, offered=12)
    wallets = investors(12)
    for i, wallet in enumerate(wallets):
        commit(book, payment_token, wallet, 5 + i % 7)
    travel(book.times[1])
    entries = sub.commitments(book, sub.investors(book))
    assert [c.investor for c in entries] == [w.address for w in wallets]
    allotment = sub.plan(book, Method.PRO_RATA, entries)
    # an interrupted run: the first five sent by hand, the library continues from there
    book.allot(int(Method.PRO_RATA), [a for a, _ in allotment[:5]], [u for _, u in allotment[:5]], sender=issuer)
    run = sub.allot(book, Method.PRO_RATA, allotment, sender=issuer, batch=4)
    assert len(run.investors) == 7 and len(run.transactions) == 3  # two batches + finalize
    assert Phase(book.state().phase) == Phase.ALLOTTED
    travel(book.times[2])
    first = sub.settle(book, [w.address for w in wallets[:6]], sender=issuer, batch=4)
    assert len(first.investors) == 6
    rest = sub.settle(book, [w.address for w in wallets], sender=issuer, batch=4)
    assert rest.investors == [w.address for w in wallets[6:]]
    assert sub.settle(book, [w.address for w in wallets], sender=issuer).transactions == []
    assert [token.balanceOf(w) for w in wallets] == [u for _, u in allotment]
    assert payment_token.balanceOf(treasury) == 12 * PRICE
    assert Phase(book.state().phase) == Phase.SETTLED


def test_refund_after_cancel_resumes(make_book, deploy_series, investors, payment_token, issuer):
    token = deploy_series()
    book = make_book(token, offered=3)
    wallets = investors(5)
    start = [payment_token.balanceOf(w) for w in wallets]
    for wallet in wallets:
        commit(book, payment_token, wallet, 2)
    book.cancel(sender=issuer)
    book.claim(wallets[0], sender=wallets[0])
    run = sub.refund(book, sub.investors(book), sender=issuer, batch=3)
    assert run.investors == [w.address for w in wallets[1:]] and len(run.transactions) == 2
    assert sub.refund(book, sub.investors(book), sender=issuer).transactions == []
    assert [payment_token.balanceOf(w) for w in wallets] == start
