"""SubscriptionBook: the primary subscription of a series (commit, withdraw, allot, settle, cancel) on real
contracts (registry, factory, series) with a test payment token."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import pytest
from ape import reverts
from ape.exceptions import ContractLogicError
from eth_utils import keccak

MINTER_ROLE = keccak(text="MINTER_ROLE")
PRICE = 10_000  # payment-token base units per book unit
WINDOW = 1_000
SETTLE_AFTER = 2_000
PRO_RATA, FIRST_COME, EXPLICIT = 1, 2, 3
# Phase enum values
OPEN, ALLOTTING, ALLOTTED, SETTLING, SETTLED, CANCELLED = range(6)


def pro_rata(commitments: Sequence[int], offered: int) -> list[int]:
    """The book's PRO_RATA rule computed independently: floor of the exact share, then one more unit each, in
    arrival order, for the investors with a fractional share, until the allottable units are used."""
    total = sum(commitments)
    allottable = min(offered, total)
    shares = [Fraction(c * allottable, total) for c in commitments]
    units = [int(s) for s in shares]  # floor (shares are non-negative)
    left = allottable - sum(units)
    for i, share in enumerate(shares):
        if left and share.denominator != 1:
            units[i] += 1
            left -= 1
    assert left == 0
    return units


@pytest.fixture(scope="module")
def issuer(accounts):
    return accounts[15]


@pytest.fixture(scope="module")
def treasury(accounts):
    return accounts[16]


@pytest.fixture
def travel(chain) -> Callable[[int], None]:
    def go(timestamp: int) -> None:
        chain.pending_timestamp = max(timestamp, chain.pending_timestamp)
        chain.mine()

    return go


@pytest.fixture
def make_book(project, chain, admin, issuer, treasury, payment_token) -> Callable[..., Any]:
    """make_book(token, offered, cash=payment_token, unit_size=1) -> a book whose window opens now; the book holds
    the series' minter role. `book.times` = (open, close, settlement)."""

    def make(token: Any, offered: int, cash: Any = None, unit_size: int = 1, grant: bool = True) -> Any:
        now = chain.pending_timestamp
        times = (now, now + WINDOW, now + SETTLE_AFTER)
        terms = (token.address, (cash or payment_token).address, treasury.address, PRICE, unit_size, offered, *times)
        book = admin.deploy(project.SubscriptionBook, terms, admin, issuer)
        if grant:
            token.grantRole(MINTER_ROLE, book, sender=admin)
        book.times = times
        return book

    return make


@pytest.fixture
def investors(accounts, onboard, admin, payment_token) -> Callable[..., list[Any]]:
    """investors(n, cash=payment_token) -> n fresh funded, registered investors holding 10**12 cash each."""

    def make(count: int, cash: Any = None) -> list[Any]:
        wallets = []
        for _ in range(count):
            wallet = accounts.generate_test_account()
            admin.transfer(wallet, 10**18)
            onboard(wallet)
            (cash or payment_token).mint(wallet, 10**12, sender=admin)
            wallets.append(wallet)
        return wallets

    return make


def commit(book: Any, cash: Any, investor: Any, units: int) -> Any:
    cash.approve(book, units * PRICE, sender=investor)
    return book.commit(units, sender=investor)


def test_commit_withdraw_and_window(make_book, deploy_series, investors, payment_token, travel):
    token = deploy_series()
    book = make_book(token, offered=100)
    a, b = investors(2)
    start = payment_token.balanceOf(a)
    receipt = commit(book, payment_token, a, 7)
    event = receipt.events.filter(book.Committed)[0]
    assert (event.investor, event.units, event.totalUnits, event.price, event.cash, event.seq) == (
        a.address,
        7,
        7,
        PRICE,
        7 * PRICE,
        1,
    )
    assert event.time == receipt.timestamp
    commit(book, payment_token, b, 3)
    assert payment_token.balanceOf(book) == 10 * PRICE
    assert payment_token.balanceOf(a) == start - 7 * PRICE
    # a reduction returns the cash at once and keeps the arrival order
    book.withdraw(2, sender=a)
    assert payment_token.balanceOf(a) == start - 5 * PRICE
    assert book.commitmentOf(a).units == 5 and book.commitmentOf(a).seq == 1
    with reverts(book.ExceedsCommitment, investor=a.address, units=6, committed=5):
        book.withdraw(6, sender=a)
    # a full withdrawal leaves the book
    book.withdraw(3, sender=b)
    assert book.commitmentOf(b).units == 0
    assert book.state() == (OPEN, 0, 5, 1, 0, 0, 0)
    with reverts(book.ZeroUnits):
        book.commit(0, sender=a)
    # after the close: no commitment, no withdrawal
    open_time, close, _ = book.times
    travel(close)
    payment_token.approve(book, PRICE, sender=b)
    with reverts(book.WindowNotOpen, openTime=open_time, closeTime=close):
        book.commit(1, sender=b)
    with reverts(book.WindowNotOpen):
        book.withdraw(1, sender=a)


def test_increase_moves_to_the_back(make_book, deploy_series, investors, payment_token):
    token = deploy_series()
    book = make_book(token, offered=100)
    a, b = investors(2)
    commit(book, payment_token, a, 1)
    commit(book, payment_token, b, 1)
    receipt = commit(book, payment_token, a, 4)
    assert receipt.events.filter(book.Committed)[0].seq == 3
    assert (book.commitmentOf(a).units, book.commitmentOf(a).seq, book.commitmentOf(b).seq) == (5, 3, 2)


def test_commitment_over_the_cap_is_refused(make_book, deploy_series, investors, payment_token, minter):
    token = deploy_series(maxPerInvestor=100)
    book = make_book(token, offered=1_000)
    (a,) = investors(1)
    payment_token.approve(book, 101 * PRICE, sender=a)
    with reverts(book.NotEligible, investor=a.address, units=101, code=10):
        book.commit(101, sender=a)
    commit(book, payment_token, a, 60)
    # the cap counts the whole commitment and units already held
    token.mint(a, 30, sender=minter)
    payment_token.approve(book, 11 * PRICE, sender=a)
    with reverts(book.NotEligible, investor=a.address, units=71, code=10):
        book.commit(11, sender=a)
    commit(book, payment_token, a, 10)
    assert book.commitmentOf(a).units == 70


def test_unverified_or_frozen_investor_cannot_commit(
    make_book, deploy_series, investors, payment_token, accounts, admin, freezer
):
    token = deploy_series()
    book = make_book(token, offered=100)
    stranger = accounts.generate_test_account()
    admin.transfer(stranger, 10**18)
    payment_token.mint(stranger, 10 * PRICE, sender=admin)
    payment_token.approve(book, 10 * PRICE, sender=stranger)
    with reverts(book.NotEligible, investor=stranger.address, units=1, code=6):
        book.commit(1, sender=stranger)
    (a,) = investors(1)
    token.setAddressFrozen(a, True, sender=freezer)
    payment_token.approve(book, PRICE, sender=a)
    with reverts(book.NotEligible, investor=a.address, units=1, code=3):
        book.commit(1, sender=a)


def test_pro_rata_hand_worked_example(make_book, deploy_series, investors, payment_token, travel, issuer, treasury):
    """Offered 10 units; A commits 3 then tops up to 5 after B (7) and C (9) committed: arrival order B, C, A and
    C = 21 units committed. Exact shares 10*c/21: B 70/21 = 3.33, C 90/21 = 4.29, A 50/21 = 2.38; floors 3, 4, 2
    sum to 9, so R = 1 leftover unit goes to the earliest fractional share, B: B 4, C 4, A 2."""
    token = deploy_series()
    book = make_book(token, offered=10)
    a, b, c = investors(3)
    commit(book, payment_token, a, 3)
    commit(book, payment_token, b, 7)
    commit(book, payment_token, c, 9)
    commit(book, payment_token, a, 2)
    assert pro_rata([7, 9, 5], 10) == [4, 4, 2]
    travel(book.times[1])
    order = [b, c, a]
    # the leftover unit to anyone but the earliest fractional share is refused
    with reverts(book.AllotmentRuleBroken, investor=c.address, units=5, expected=4):
        book.allot(PRO_RATA, order, [3, 5, 2], sender=issuer)
    with reverts(book.AllotmentRuleBroken, investor=a.address, units=3, expected=2):
        book.allot(PRO_RATA, order, [4, 4, 3], sender=issuer)
    # arrival order is enforced
    with reverts(book.OutOfOrder, investor=b.address, seq=2, lastSeq=3):
        book.allot(PRO_RATA, [c, b], [4, 4], sender=issuer)
    # batches: the rule holds across calls
    book.allot(PRO_RATA, [b], [4], sender=issuer)
    with reverts(book.MethodMismatch):
        book.allot(FIRST_COME, [c], [4], sender=issuer)
    with reverts(book.AllotmentIncomplete, processed=1, investors=3, allotted=4, required=10):
        book.finalizeAllotment(sender=issuer)
    book.allot(PRO_RATA, [c, a], [4, 2], sender=issuer)
    receipt = book.finalizeAllotment(sender=issuer)
    final = receipt.events.filter(book.AllotmentFinalized)[0]
    assert (final.allottedUnits, final.committedUnits, final.offeredUnits) == (10, 21, 10)
    travel(book.times[2])
    before = {w.address: payment_token.balanceOf(w) for w in order}
    book.settle(order, sender=issuer)
    assert [token.balanceOf(w) for w in order] == [4, 4, 2]
    assert payment_token.balanceOf(treasury) == 10 * PRICE
    assert [payment_token.balanceOf(w) - before[w.address] for w in order] == [3 * PRICE, 5 * PRICE, 3 * PRICE]
    assert payment_token.balanceOf(book) == 0
    assert book.state().phase == SETTLED


def test_pro_rata_remainder_cannot_be_dropped(make_book, deploy_series, investors, payment_token, travel, issuer):
    token = deploy_series()
    book = make_book(token, offered=10)
    a, b, c = investors(3)
    for wallet, units in ((a, 5), (b, 7), (c, 9)):
        commit(book, payment_token, wallet, units)
    travel(book.times[1])
    # every floor, no leftover unit: one unit short of the offer
    book.allot(PRO_RATA, [a, b, c], [2, 3, 4], sender=issuer)
    with reverts(book.AllotmentIncomplete, processed=3, investors=3, allotted=9, required=10):
        book.finalizeAllotment(sender=issuer)


def test_first_come_first_served(make_book, deploy_series, investors, payment_token, travel, issuer):
    token = deploy_series()
    book = make_book(token, offered=10)
    a, b, c = investors(3)
    for wallet, units in ((a, 4), (b, 5), (c, 3)):
        commit(book, payment_token, wallet, units)
    with reverts(book.WindowNotClosed):
        book.allot(FIRST_COME, [a], [4], sender=issuer)
    travel(book.times[1])
    with reverts(book.AllotmentRuleBroken, investor=c.address, units=3, expected=1):
        book.allot(FIRST_COME, [a, b, c], [4, 5, 3], sender=issuer)
    book.allot(FIRST_COME, [a, b, c], [4, 5, 1], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    assert [book.commitmentOf(w).allotted for w in (a, b, c)] == [4, 5, 1]


def test_undersubscribed_book_allots_every_commitment(
    make_book, deploy_series, investors, payment_token, travel, issuer
):
    token = deploy_series()
    book = make_book(token, offered=100)
    a, b = investors(2)
    commit(book, payment_token, a, 4)
    commit(book, payment_token, b, 5)
    travel(book.times[1])
    with reverts(book.AllotmentRuleBroken, investor=a.address, units=3, expected=4):
        book.allot(PRO_RATA, [a, b], [3, 5], sender=issuer)
    book.allot(PRO_RATA, [a, b], [4, 5], sender=issuer)
    book.finalizeAllotment(sender=issuer)


def test_explicit_allotment_over_commitment_or_offer_is_refused(
    make_book, deploy_series, investors, payment_token, travel, issuer, treasury
):
    token = deploy_series()
    book = make_book(token, offered=6)
    a, b, c = investors(3)
    for wallet, units in ((a, 4), (b, 5), (c, 2)):
        commit(book, payment_token, wallet, units)
    travel(book.times[1])
    with reverts(book.AllotmentRuleBroken, investor=a.address, units=5, expected=4):
        book.allot(EXPLICIT, [a], [5], sender=issuer)
    with reverts(book.OverAllotted, allotted=7, limit=6):
        book.allot(EXPLICIT, [b, a], [5, 2], sender=issuer)
    book.allot(EXPLICIT, [b, a], [5, 1], sender=issuer)
    with reverts(book.AlreadyAllotted, investor=a.address):
        book.allot(EXPLICIT, [a], [0], sender=issuer)
    with reverts(book.NoCommitment):
        book.allot(EXPLICIT, [issuer], [0], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    c_before = payment_token.balanceOf(c)
    book.settle([a, b, c], sender=issuer)
    # c, not listed, is refunded in full
    assert payment_token.balanceOf(c) - c_before == 2 * PRICE
    assert [token.balanceOf(w) for w in (a, b, c)] == [1, 5, 0]
    assert payment_token.balanceOf(treasury) == 6 * PRICE


def test_oversubscription_times_ten_in_batches(
    make_book, deploy_series, investors, payment_token, travel, issuer, treasury
):
    """60 investors commit 3..13 units each (480 units) for 48 offered: allotment in batches of 20, settlement in
    batches of 25 with a re-run of the first batch, which settles nobody twice."""
    token = deploy_series()
    offered = 48
    book = make_book(token, offered=offered)
    wallets = investors(60)
    commitments = [3 + (i * 7) % 11 for i in range(60)]
    for wallet, units in zip(wallets, commitments, strict=True):
        commit(book, payment_token, wallet, units)
    committed = sum(commitments)
    assert committed >= 10 * offered
    expected = pro_rata(commitments, offered)
    travel(book.times[1])
    for start in range(0, 60, 20):
        book.allot(PRO_RATA, wallets[start : start + 20], expected[start : start + 20], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    before = [payment_token.balanceOf(w) for w in wallets]
    receipt = book.settle(wallets[:25], sender=issuer)
    assert len(receipt.events.filter(book.Settled)) == 25
    assert book.state().phase == SETTLING
    with reverts(book.WrongPhase, phase=SETTLING):
        book.cancel(sender=issuer)
    rerun = book.settle(wallets[:25], sender=issuer)
    assert len(rerun.events.filter(book.Settled)) == 0
    book.settle(wallets[25:50], sender=issuer)
    last = book.settle(wallets[40:], sender=issuer)  # overlaps the previous batch
    assert len(last.events.filter(book.Settled)) == 10
    done = last.events.filter(book.SettlementCompleted)[0]
    assert (done.unitsIssued, done.proceeds) == (offered, offered * PRICE)
    assert [token.balanceOf(w) for w in wallets] == expected
    refunds = [payment_token.balanceOf(w) - b for w, b in zip(wallets, before, strict=True)]
    assert refunds == [(c - e) * PRICE for c, e in zip(commitments, expected, strict=True)]
    assert token.totalSupply() == offered
    assert payment_token.balanceOf(treasury) == offered * PRICE
    assert payment_token.balanceOf(book) == 0
    assert book.state().phase == SETTLED
    with reverts(book.WrongPhase):
        book.settle(wallets[:1], sender=issuer)


def test_cancel_returns_every_unit_of_cash(make_book, deploy_series, investors, payment_token, travel, issuer):
    token = deploy_series()
    book = make_book(token, offered=5)
    wallets = investors(4)
    start = [payment_token.balanceOf(w) for w in wallets]
    for wallet, units in zip(wallets, (3, 4, 2, 6), strict=True):
        commit(book, payment_token, wallet, units)
    travel(book.times[1])
    book.allot(EXPLICIT, wallets[:2], [3, 2], sender=issuer)
    receipt = book.cancel(sender=issuer)
    cancelled = receipt.events.filter(book.SubscriptionCancelled)[0]
    assert (cancelled.committedUnits, cancelled.cash) == (15, 15 * PRICE)
    with reverts(book.WrongPhase):
        book.cancel(sender=issuer)
    with reverts(book.WrongPhase):
        book.settle(wallets, sender=issuer)
    # batched push (anyone may send it), re-run, then the last investor pulls its own
    book.refund(wallets[:3], sender=wallets[3])
    book.refund(wallets[:3], sender=issuer)
    book.claim(wallets[3], sender=wallets[3])
    with reverts(book.NothingToClaim, investor=wallets[0].address):
        book.claim(wallets[0], sender=wallets[0])
    book.refund(wallets, sender=issuer)
    assert [payment_token.balanceOf(w) for w in wallets] == start
    assert payment_token.balanceOf(book) == 0
    assert token.totalSupply() == 0


def test_frozen_or_unverified_investor_at_settlement_is_refunded(
    make_book, deploy_series, investors, payment_token, travel, issuer, freezer, registry, registrar, treasury
):
    """Decision: the token refusing the mint at settlement lapses the allotment and refunds the whole commitment
    (AllotmentLapsed with the restriction code); the others settle."""
    token = deploy_series()
    book = make_book(token, offered=30)
    a, b, c = investors(3)
    for wallet in (a, b, c):
        commit(book, payment_token, wallet, 10)
    travel(book.times[1])
    book.allot(FIRST_COME, [a, b, c], [10, 10, 10], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    token.setAddressFrozen(a, True, sender=freezer)
    registry.removeInvestor(b, sender=registrar)
    travel(book.times[2])
    before = [payment_token.balanceOf(w) for w in (a, b, c)]
    receipt = book.settle([a, b, c], sender=issuer)
    lapsed = {e.investor: e.code for e in receipt.events.filter(book.AllotmentLapsed)}
    assert lapsed == {a.address: 3, b.address: 6}
    assert [token.balanceOf(w) for w in (a, b, c)] == [0, 0, 10]
    assert [payment_token.balanceOf(w) - x for w, x in zip((a, b, c), before, strict=True)] == [
        10 * PRICE,
        10 * PRICE,
        0,
    ]
    assert payment_token.balanceOf(treasury) == 10 * PRICE
    settled = receipt.events.filter(book.Settled)
    assert [(e.units, e.cash, e.refund) for e in settled] == [
        (0, 0, 10 * PRICE),
        (0, 0, 10 * PRICE),
        (10, 10 * PRICE, 0),
    ]


def test_paused_series_stops_commitments_and_settlement(
    make_book, deploy_series, investors, payment_token, travel, issuer, freezer, admin
):
    token = deploy_series()
    book = make_book(token, offered=10)
    a, b = investors(2)
    commit(book, payment_token, a, 4)
    token.pause(sender=freezer)
    payment_token.approve(book, PRICE, sender=b)
    with reverts(book.SeriesPaused, token=token.address):
        book.commit(1, sender=b)
    book.withdraw(1, sender=a)  # cash only: allowed
    travel(book.times[1])
    book.allot(FIRST_COME, [a], [3], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    with reverts(book.SeriesPaused):
        book.settle([a], sender=issuer)
    token.unpause(sender=freezer)
    book.settle([a], sender=issuer)
    assert token.balanceOf(a) == 3


def test_roles(make_book, deploy_series, investors, payment_token, travel, issuer, outsider, admin):
    token = deploy_series()
    book = make_book(token, offered=10, grant=False)
    (a,) = investors(1)
    commit(book, payment_token, a, 4)
    travel(book.times[1])
    role = book.ISSUER_ROLE()
    for call in (
        lambda: book.allot(FIRST_COME, [a], [4], sender=outsider),
        lambda: book.finalizeAllotment(sender=outsider),
        lambda: book.settle([a], sender=outsider),
        lambda: book.cancel(sender=outsider),
    ):
        with reverts(book.AccessControlUnauthorizedAccount, account=outsider.address, neededRole=role):
            call()
    book.allot(FIRST_COME, [a], [4], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    with reverts(book.SettlementNotDue):
        book.settle([a], sender=issuer)
    travel(book.times[2])
    # without the series' minter role the whole batch reverts (no allotment lapses for it)
    with pytest.raises(ContractLogicError) as failure:
        book.settle([a], sender=issuer)
    assert type(failure.value).__name__ == "MissingRole"
    assert failure.value.inputs == {"account": book.address, "roleMask": 8}
    token.grantRole(MINTER_ROLE, book, sender=admin)
    book.settle([a], sender=issuer)
    assert token.balanceOf(a) == 4


def test_blocked_refund_is_held_and_others_proceed(
    project, make_book, deploy_series, investors, travel, issuer, admin, accounts
):
    hostile = admin.deploy(project.MockHostilePaymentToken, 0)
    token = deploy_series()
    book = make_book(token, offered=3, cash=hostile)
    a, b, c = investors(3, cash=hostile)
    for wallet in (a, b, c):
        commit(book, hostile, wallet, 2)
    travel(book.times[1])
    book.allot(FIRST_COME, [a, b, c], [2, 1, 0], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    hostile.setBlocked(b, True, sender=admin)
    hostile.setRefusedQuietly(c, True, sender=admin)
    before = [hostile.balanceOf(w) for w in (a, b, c)]
    receipt = book.settle([a, b, c], sender=issuer)
    held = {e.investor: e.cash for e in receipt.events.filter(book.RefundHeld)}
    assert held == {b.address: PRICE, c.address: 2 * PRICE}
    assert [token.balanceOf(w) for w in (a, b, c)] == [2, 1, 0]
    assert [hostile.balanceOf(w) for w in (a, b, c)] == before
    assert (book.heldRefund(b), book.heldRefund(c)) == (PRICE, 2 * PRICE)
    # b is still blocked: its claim reverts, to another wallet of its own it goes through
    with reverts(hostile.Blocked):
        book.claim(b, sender=b)
    other = accounts.generate_test_account()
    book.claim(other, sender=b)
    assert hostile.balanceOf(other) == PRICE and book.heldRefund(b) == 0
    hostile.setRefusedQuietly(c, False, sender=admin)
    book.claim(c, sender=c)
    assert hostile.balanceOf(c) == before[2] + 2 * PRICE
    assert hostile.balanceOf(book) == 0


def test_fee_on_transfer_payment_token_is_refused(project, make_book, deploy_series, investors, admin):
    hostile = admin.deploy(project.MockHostilePaymentToken, 0)
    token = deploy_series()
    book = make_book(token, offered=3, cash=hostile)
    (a,) = investors(1, cash=hostile)
    hostile.setFeePpm(1_000, sender=admin)
    hostile.approve(book, 10 * PRICE, sender=a)
    with reverts(book.PaymentShortfall, expected=10 * PRICE, received=10 * PRICE - 10 * PRICE // 1_000):
        book.commit(10, sender=a)


def test_invalid_terms(project, deploy_series, admin, payment_token, treasury, chain):
    token = deploy_series()
    now = chain.pending_timestamp
    base = [token.address, payment_token.address, treasury.address, PRICE, 1, 10, now, now + 10, now + 20]
    for index, value, which in ((3, 0, 4), (4, 0, 5), (5, 0, 6), (7, now, 7), (8, now + 5, 8)):
        terms = list(base)
        terms[index] = value
        with reverts(project.SubscriptionBook.InvalidTerm, which=which):
            admin.deploy(project.SubscriptionBook, tuple(terms), admin, admin)


def test_book_not_allotted_by_the_settlement_time_lapses(
    make_book, deploy_series, investors, payment_token, travel, issuer
):
    """No issuer can hold the cash: an allotment not final at the settlement time can no longer be made, and every
    commitment comes back as after a cancellation."""
    token = deploy_series()
    book = make_book(token, offered=5)
    a, b = investors(2)
    start = [payment_token.balanceOf(w) for w in (a, b)]
    commit(book, payment_token, a, 3)
    commit(book, payment_token, b, 4)
    travel(book.times[1])
    book.allot(FIRST_COME, [a], [3], sender=issuer)
    with reverts(book.WrongPhase, phase=ALLOTTING):
        book.refund([a, b], sender=a)
    travel(book.times[2])
    with reverts(book.AllotmentDeadlinePassed):
        book.allot(FIRST_COME, [b], [2], sender=issuer)
    with reverts(book.AllotmentDeadlinePassed):
        book.finalizeAllotment(sender=issuer)
    assert book.state().phase == CANCELLED
    book.refund([a], sender=b)
    book.claim(b, sender=b)
    assert [payment_token.balanceOf(w) for w in (a, b)] == start
    assert payment_token.balanceOf(book) == 0
