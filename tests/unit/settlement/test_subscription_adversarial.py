"""SubscriptionBook under hostile orders of events (an outside review of the primary-subscription book): a
treasury the payment token blocks mid-settlement, a settlement that can no longer run (lost minter role, a series
paused for good, an issuer who does nothing), timing edges, a wallet recovered between the legs, the token refusing
mints between the legs, wrong roles, a contract investor re-entering the book from a payment hook, and the cash
invariant. The promise under test: an investor's cash is never lost, paid twice or stuck."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from ape import reverts
from ape.exceptions import ContractLogicError
from eth_utils import keccak

MINTER_ROLE = keccak(text="MINTER_ROLE")
REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]
PRICE = 10_000
ZERO = "0x" + "00" * 20
WINDOW = 1_000
SETTLE_AFTER = 2_000
SETTLEMENT_PERIOD = 30 * 86_400  # settlement must complete this long after the settlement time
PRO_RATA, FIRST_COME, EXPLICIT = 1, 2, 3
OPEN, ALLOTTING, ALLOTTED, SETTLING, SETTLED, CANCELLED = range(6)
ALLOTTED_FLAG, SETTLED_FLAG, REFUNDED_FLAG = 1, 2, 4


@pytest.fixture
def issuer(accounts):
    return accounts[15]


@pytest.fixture
def treasury(accounts):
    return accounts[16]


@pytest.fixture
def travel(chain) -> Callable[[int], None]:
    def go(timestamp: int) -> None:
        chain.pending_timestamp = max(timestamp, chain.pending_timestamp)
        chain.mine()

    return go


@pytest.fixture
def hostile(project, admin):
    """A payment token with a blocklist (reverts), quiet refusals (returns false) and fees."""
    return admin.deploy(project.MockHostilePaymentToken, 0)


@pytest.fixture
def make_book(project, chain, admin, issuer, treasury) -> Callable[..., Any]:
    """make_book(token, offered, cash) -> a book whose window opens now, holding the series' minter role."""

    def make(token: Any, offered: int, cash: Any, unit_size: int = 1) -> Any:
        now = chain.pending_timestamp
        times = (now, now + WINDOW, now + SETTLE_AFTER)
        terms = (token.address, cash.address, treasury.address, PRICE, unit_size, offered, *times)
        book = admin.deploy(project.SubscriptionBook, terms, admin, issuer)
        token.grantRole(MINTER_ROLE, book, sender=admin)
        book.times = times
        return book

    return make


@pytest.fixture
def investors(accounts, onboard, admin) -> Callable[..., list[Any]]:
    """investors(n, cash) -> n fresh funded, registered investors holding 10**12 cash each."""

    def make(count: int, cash: Any) -> list[Any]:
        wallets = []
        for _ in range(count):
            wallet = accounts.generate_test_account()
            admin.transfer(wallet, 10**18)
            onboard(wallet)
            cash.mint(wallet, 10**12, sender=admin)
            wallets.append(wallet)
        return wallets

    return make


def commit(book: Any, cash: Any, investor: Any, units: int) -> Any:
    cash.approve(book, units * PRICE, sender=investor)
    return book.commit(units, sender=investor)


def owed(book: Any, wallets: Sequence[Any]) -> int:
    """What the book owes: every commitment neither settled nor refunded, every held refund, held proceeds."""
    total = int(book.heldProceeds())
    for wallet in wallets:
        c = book.commitmentOf(wallet)
        if c.units and not c.flags & (SETTLED_FLAG | REFUNDED_FLAG):
            total += c.units * PRICE
        total += int(book.heldRefund(wallet))
    return total


def assert_accounted(book: Any, cash: Any, wallets: Sequence[Any]) -> None:
    assert cash.balanceOf(book) == owed(book, wallets)


def allotted_book(
    make_book: Callable[..., Any], token: Any, cash: Any, wallets: Sequence[Any], travel: Any, issuer: Any
) -> Any:
    """Every wallet commits 4 units; the first gets 3, the others 2 (EXPLICIT, final); the settlement time has come."""
    units = [3] + [2] * (len(wallets) - 1)
    book = make_book(token, offered=sum(units), cash=cash)
    for wallet in wallets:
        commit(book, cash, wallet, 4)
    travel(book.times[1])
    book.allot(EXPLICIT, list(wallets), units, sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    return book


# ---------------------------------------------------------------------------------------------- the treasury


@pytest.mark.parametrize("refusal", ["reverts", "returns false"])
def test_treasury_blocked_after_the_first_batch_settlement_still_finishes(
    make_book, deploy_series, investors, hostile, travel, issuer, treasury, admin, refusal
):
    """The payment token blocks the treasury after the first batch: the later batches still settle (mint and refund
    every investor) and their proceeds are held in the book for the treasury, every unit accounted for."""
    token = deploy_series()
    wallets = investors(3, hostile)
    book = allotted_book(make_book, token, hostile, wallets, travel, issuer)
    assert hostile.balanceOf(book) == 12 * PRICE
    book.settle(wallets[:1], sender=issuer)
    assert hostile.balanceOf(treasury) == 3 * PRICE
    assert hostile.balanceOf(book) == 8 * PRICE  # the two unsettled commitments
    if refusal == "reverts":
        hostile.setBlocked(treasury, True, sender=admin)
    else:
        hostile.setRefusedQuietly(treasury, True, sender=admin)
    before = [hostile.balanceOf(w) for w in wallets]
    receipt = book.settle(wallets[1:], sender=issuer)
    held = receipt.events.filter(book.ProceedsHeld)
    assert [(e.treasury, e.cash) for e in held] == [(treasury.address, 4 * PRICE)]
    assert not receipt.events.filter(book.ProceedsPaid)
    assert book.state().phase == SETTLED
    assert [token.balanceOf(w) for w in wallets] == [3, 2, 2]
    assert [hostile.balanceOf(w) - b for w, b in zip(wallets, before, strict=True)] == [0, 2 * PRICE, 2 * PRICE]
    assert book.heldProceeds() == 4 * PRICE
    assert hostile.balanceOf(treasury) == 3 * PRICE
    assert_accounted(book, hostile, wallets)
    assert hostile.balanceOf(book) == 4 * PRICE


def test_held_proceeds_go_to_the_treasury_or_where_it_names(
    make_book, deploy_series, investors, hostile, travel, issuer, treasury, admin, outsider, accounts
):
    token = deploy_series()
    wallets = investors(2, hostile)
    book = allotted_book(make_book, token, hostile, wallets, travel, issuer)
    hostile.setBlocked(treasury, True, sender=admin)
    book.settle(wallets, sender=issuer)
    assert book.heldProceeds() == 5 * PRICE
    # nobody but the treasury chooses where the proceeds go; anyone may push them to the treasury itself
    with reverts(book.NotTreasury, caller=outsider.address):
        book.claimProceeds(outsider, sender=outsider)
    with reverts(book.NotTreasury, caller=issuer.address):
        book.claimProceeds(issuer, sender=issuer)
    with reverts(hostile.Blocked, account=treasury.address):
        book.claimProceeds(treasury, sender=outsider)  # still blocked: nothing moves
    assert book.heldProceeds() == 5 * PRICE
    other = accounts.generate_test_account()
    receipt = book.claimProceeds(other, sender=treasury)
    assert [(e.treasury, e.cash) for e in receipt.events.filter(book.ProceedsPaid)] == [(other.address, 5 * PRICE)]
    assert hostile.balanceOf(other) == 5 * PRICE
    assert book.heldProceeds() == 0 and hostile.balanceOf(book) == 0
    with reverts(book.NothingToClaim, investor=treasury.address):
        book.claimProceeds(treasury, sender=treasury)


def test_held_proceeds_pushed_to_the_treasury_once_unblocked(
    make_book, deploy_series, investors, hostile, travel, issuer, treasury, admin, outsider
):
    token = deploy_series()
    wallets = investors(2, hostile)
    book = allotted_book(make_book, token, hostile, wallets, travel, issuer)
    hostile.setRefusedQuietly(treasury, True, sender=admin)
    book.settle(wallets[:1], sender=issuer)
    book.settle(wallets[1:], sender=issuer)
    assert book.heldProceeds() == 5 * PRICE
    hostile.setRefusedQuietly(treasury, False, sender=admin)
    book.claimProceeds(treasury, sender=outsider)
    assert hostile.balanceOf(treasury) == 5 * PRICE
    assert book.heldProceeds() == 0 and hostile.balanceOf(book) == 0


# ---------------------------------------------------------------------------------------- a stalled settlement


def _stall(kind: str, token: Any, book: Any, admin: Any, freezer: Any) -> None:
    if kind == "minter role revoked":
        token.revokeRole(MINTER_ROLE, book, sender=admin)
    elif kind == "series paused":
        token.pause(sender=freezer)


@pytest.mark.parametrize("kind", ["minter role revoked", "series paused", "issuer idle"])
def test_settlement_that_cannot_finish_lapses_at_the_deadline(
    make_book, deploy_series, investors, payment_token, travel, issuer, treasury, admin, freezer, kind
):
    """After the first batch the issuer can no longer cancel. If the rest can never settle (the book lost its minter
    role, the series stays paused, the issuer stops), the unsettled commitments come back in full after the
    settlement period; the investors already settled are not paid again."""
    token = deploy_series()
    wallets = investors(3, payment_token)
    start = [payment_token.balanceOf(w) for w in wallets]
    book = allotted_book(make_book, token, payment_token, wallets, travel, issuer)
    treasury_start = payment_token.balanceOf(treasury)
    book.settle(wallets[:1], sender=issuer)
    _stall(kind, token, book, admin, freezer)
    if kind != "issuer idle":
        with pytest.raises(ContractLogicError):
            book.settle(wallets[1:], sender=issuer)
    with reverts(book.WrongPhase, phase=SETTLING):
        book.cancel(sender=issuer)
    with reverts(book.WrongPhase, phase=SETTLING):
        book.refund(wallets, sender=wallets[1])
    deadline = book.times[2] + SETTLEMENT_PERIOD
    travel(deadline)
    assert book.state().phase == CANCELLED
    with reverts(book.SettlementDeadlinePassed, deadline=deadline):
        book.settle(wallets[1:], sender=issuer)
    refunded = book.refund(wallets, sender=wallets[1])
    assert {e.investor: e.cash for e in refunded.events.filter(book.Refunded)} == {
        wallets[1].address: 4 * PRICE,
        wallets[2].address: 4 * PRICE,
    }
    book.refund(wallets, sender=wallets[2])  # re-run: nobody is paid twice
    with reverts(book.NothingToClaim, investor=wallets[0].address):
        book.claim(wallets[0], sender=wallets[0])
    with reverts(book.NothingToClaim, investor=wallets[1].address):
        book.claim(wallets[1], sender=wallets[1])
    assert [payment_token.balanceOf(w) - s for w, s in zip(wallets, start, strict=True)] == [-3 * PRICE, 0, 0]
    assert token.balanceOf(wallets[0]) == 3
    assert payment_token.balanceOf(treasury) - treasury_start == 3 * PRICE
    assert payment_token.balanceOf(book) == 0
    assert book.SETTLEMENT_PERIOD() == SETTLEMENT_PERIOD
    assert book.settlementDeadline() == deadline


def test_allotted_but_never_settled_investor_claims_after_the_deadline(
    make_book, deploy_series, investors, payment_token, travel, issuer
):
    """An issuer who finalizes the allotment and then does nothing cannot hold the cash: after the settlement period
    each investor pulls its own commitment."""
    token = deploy_series()
    wallets = investors(2, payment_token)
    start = [payment_token.balanceOf(w) for w in wallets]
    book = allotted_book(make_book, token, payment_token, wallets, travel, issuer)
    with reverts(book.NothingToClaim):
        book.claim(wallets[0], sender=wallets[0])
    travel(book.times[2] + SETTLEMENT_PERIOD)
    for wallet in wallets:
        book.claim(wallet, sender=wallet)
    assert [payment_token.balanceOf(w) for w in wallets] == start
    assert payment_token.balanceOf(book) == 0
    assert token.totalSupply() == 0


def test_settlement_just_before_the_deadline_still_runs(
    make_book, deploy_series, investors, payment_token, travel, issuer, treasury
):
    token = deploy_series()
    wallets = investors(2, payment_token)
    book = allotted_book(make_book, token, payment_token, wallets, travel, issuer)
    treasury_start = payment_token.balanceOf(treasury)
    travel(book.times[2] + SETTLEMENT_PERIOD - 60)
    book.settle(wallets, sender=issuer)
    assert book.state().phase == SETTLED
    assert [token.balanceOf(w) for w in wallets] == [3, 2]
    assert payment_token.balanceOf(treasury) - treasury_start == 5 * PRICE
    assert payment_token.balanceOf(book) == 0
    travel(book.times[2] + SETTLEMENT_PERIOD)
    assert book.state().phase == SETTLED  # a finished book never shows as lapsed
    with reverts(book.WrongPhase, phase=SETTLED):
        book.refund(wallets, sender=wallets[0])


# -------------------------------------------------------------------------------------------------- timing edges


def test_settlement_time_equal_to_the_close_is_refused(project, deploy_series, admin, payment_token, treasury, chain):
    """A book whose settlement time is its close could never be allotted ([close, settlement) is empty): it would
    lapse the moment its window closed."""
    token = deploy_series()
    now = chain.pending_timestamp
    terms = (token.address, payment_token.address, treasury.address, PRICE, 1, 10, now, now + 10, now + 10)
    with reverts(project.SubscriptionBook.InvalidTerm, which=8, value=now + 10):
        admin.deploy(project.SubscriptionBook, terms, admin, admin)


def test_window_edges_and_an_investor_who_withdrew_to_zero(
    make_book, deploy_series, investors, payment_token, travel, issuer, chain
):
    token = deploy_series()
    book = make_book(token, offered=10, cash=payment_token)
    a, b, c = investors(3, payment_token)
    commit(book, payment_token, a, 4)
    commit(book, payment_token, b, 3)
    book.withdraw(3, sender=b)
    assert book.state().investors == 1
    payment_token.approve(book, PRICE, sender=c)
    chain.pending_timestamp = book.times[1]  # exactly the close: the window [open, close) is over
    with reverts(book.WindowNotOpen, time=book.times[1]):
        book.commit(1, sender=c)
    travel(book.times[1])
    with reverts(book.WindowNotOpen):
        book.withdraw(1, sender=a)
    with reverts(book.NoCommitment, investor=b.address):
        book.allot(EXPLICIT, [b], [0], sender=issuer)
    book.allot(EXPLICIT, [a], [4], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    receipt = book.settle([b, a, c], sender=issuer)
    assert [e.investor for e in receipt.events.filter(book.Settled)] == [a.address]
    assert book.state().phase == SETTLED
    assert token.balanceOf(a) == 4 and token.balanceOf(b) == 0
    assert payment_token.balanceOf(book) == 0


def test_cash_sent_straight_to_the_book_changes_no_entitlement(
    make_book, deploy_series, investors, hostile, travel, issuer, treasury, admin
):
    """Stray cash is nobody's commitment: it does not enter the accounting (the book pays out exactly what it owes,
    a claim with nothing owed is refused) and stays in the book."""
    token = deploy_series()
    wallets = investors(2, hostile)
    hostile.mint(wallets[1], 7, sender=admin)
    book = make_book(token, offered=5, cash=hostile)
    commit(book, hostile, wallets[0], 4)
    hostile.transfer(book, 7, sender=wallets[1])
    with reverts(book.NothingToClaim, investor=wallets[1].address):
        book.claim(wallets[1], sender=wallets[1])
    travel(book.times[1])
    book.allot(EXPLICIT, wallets[:1], [3], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    book.settle(wallets, sender=issuer)
    assert hostile.balanceOf(treasury) == 3 * PRICE
    assert owed(book, wallets) == 0
    assert hostile.balanceOf(book) == 7


# ------------------------------------------------------------------------------------------ a recovered wallet


def test_recovered_wallet_gets_the_units_and_the_refund(
    make_book,
    deploy_series,
    investors,
    payment_token,
    travel,
    issuer,
    accounts,
    admin,
    onboard,
    transfer_agent,
    outsider,
):
    """An investor loses the keys of the wallet it committed from; the series' transfer agent recovers it to a new
    wallet of the same identity. Without moving the book's entry, the settlement would mint to and refund the lost
    wallet (cash nobody can spend again). The entry moves whole: arrival place, allotment, cash."""
    token = deploy_series()
    book = make_book(token, offered=3, cash=payment_token)
    (lost,) = investors(1, payment_token)
    commit(book, payment_token, lost, 4)
    entry = book.commitmentOf(lost)
    new = accounts.generate_test_account()
    stranger = accounts.generate_test_account()
    onboard(stranger)
    with reverts(book.NotTransferAgent, caller=outsider.address):
        book.recoverCommitment(lost, outsider, sender=outsider)
    with reverts(book.IdentityMismatch, lost=lost.address, newWallet=new.address, newIdentity=ZERO):
        book.recoverCommitment(lost, new, sender=transfer_agent)  # the new wallet is not registered yet
    with reverts(book.IdentityMismatch, lostIdentity=lost.address, newIdentity=stranger.address):
        book.recoverCommitment(lost, stranger, sender=transfer_agent)  # another investor's wallet
    onboard(new, identity=lost)
    receipt = book.recoverCommitment(lost, new, sender=transfer_agent)
    moved = receipt.events.filter(book.CommitmentRecovered)[0]
    assert (moved.lost, moved.newWallet, moved.units, moved.heldCash) == (lost.address, new.address, 4, 0)
    assert book.commitmentOf(new) == entry
    assert book.commitmentOf(lost) == (0, 0, 0, 0)
    with reverts(book.NoCommitment, investor=lost.address):
        book.recoverCommitment(lost, new, sender=transfer_agent)
    assert book.state().investors == 1 and book.state().committedUnits == 4
    travel(book.times[1])
    with reverts(book.NoCommitment, investor=lost.address):
        book.allot(EXPLICIT, [lost], [3], sender=issuer)
    book.allot(EXPLICIT, [new], [3], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    lost_cash = payment_token.balanceOf(lost)
    book.settle([lost, new], sender=issuer)
    assert book.state().phase == SETTLED
    assert (token.balanceOf(new), token.balanceOf(lost)) == (3, 0)
    assert payment_token.balanceOf(new) == PRICE and payment_token.balanceOf(lost) == lost_cash
    assert payment_token.balanceOf(book) == 0


def test_recovered_wallet_takes_the_held_refund(
    make_book, deploy_series, investors, hostile, travel, issuer, accounts, admin, onboard, transfer_agent
):
    token = deploy_series()
    book = make_book(token, offered=3, cash=hostile)
    (lost,) = investors(1, hostile)
    commit(book, hostile, lost, 4)
    taken = accounts.generate_test_account()  # a second wallet of the same investor, with an entry of its own
    admin.transfer(taken, 10**18)
    onboard(taken, identity=lost)
    hostile.mint(taken, PRICE, sender=admin)
    commit(book, hostile, taken, 1)
    book.cancel(sender=issuer)
    hostile.setBlocked(lost, True, sender=admin)
    book.refund([lost], sender=issuer)
    assert book.heldRefund(lost) == 4 * PRICE
    with reverts(book.CommitmentExists, wallet=taken.address):
        book.recoverCommitment(lost, taken, sender=transfer_agent)
    new = accounts.generate_test_account()
    admin.transfer(new, 10**18)
    onboard(new, identity=lost)
    book.recoverCommitment(lost, new, sender=transfer_agent)
    assert (book.heldRefund(lost), book.heldRefund(new)) == (0, 4 * PRICE)
    with reverts(book.NothingToClaim, investor=lost.address):
        book.claim(lost, sender=lost)
    book.claim(new, sender=new)
    assert hostile.balanceOf(new) == 4 * PRICE
    book.claim(taken, sender=taken)
    assert hostile.balanceOf(book) == 0


# -------------------------------------------------------------------------------- compliance between the legs


def test_cap_lowered_and_a_second_wallet_lapse_at_settlement(
    make_book, deploy_series, investors, payment_token, travel, issuer, treasury, accounts, admin, onboard
):
    """Both wallets of one investor commit within the per-investor cap, and another investor's cap is lowered
    between commitment and settlement: the mints the token refuses lapse and their whole cash comes back; units
    issued = units allotted - units lapsed, and the treasury gets exactly the cash of the units issued."""
    token = deploy_series(maxPerInvestor=10)
    book = make_book(token, offered=30, cash=payment_token)
    first, other = investors(2, payment_token)
    second = accounts.generate_test_account()
    admin.transfer(second, 10**18)
    onboard(second, identity=first)
    payment_token.mint(second, 10**12, sender=admin)
    commit(book, payment_token, first, 6)
    commit(book, payment_token, second, 6)  # within the cap alone (the investor holds nothing yet), 12 together
    commit(book, payment_token, other, 9)
    wallets = [first, second, other]
    start = [payment_token.balanceOf(w) for w in wallets]
    treasury_start = payment_token.balanceOf(treasury)
    travel(book.times[1])
    book.allot(FIRST_COME, wallets, [6, 6, 9], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    token.setMaxHoldingPerInvestor(8, sender=admin)
    travel(book.times[2])
    receipt = book.settle(wallets, sender=issuer)
    lapsed = {e.investor: (e.units, e.code) for e in receipt.events.filter(book.AllotmentLapsed)}
    assert lapsed == {second.address: (6, 10), other.address: (9, 10)}
    issued = sum(e.units for e in receipt.events.filter(book.Settled))
    assert issued == 6 == 21 - sum(units for units, _ in lapsed.values())
    assert (token.balanceOf(first), token.balanceOf(second), token.balanceOf(other)) == (6, 0, 0)
    assert token.totalSupply() == issued
    assert payment_token.balanceOf(treasury) - treasury_start == issued * PRICE
    refunds = [payment_token.balanceOf(w) - s for w, s in zip(wallets, start, strict=True)]
    assert refunds == [lapsed.get(w.address, (0, 0))[0] * PRICE for w in wallets]
    assert payment_token.balanceOf(book) == 0


def test_every_state_changing_call_with_the_wrong_role(
    make_book, deploy_series, investors, payment_token, travel, issuer, admin, treasury, transfer_agent
):
    """The book's admin is not its issuer, the issuer is not the series' transfer agent, the treasury is not the
    issuer: each is refused what it does not hold."""
    token = deploy_series()
    book = make_book(token, offered=5, cash=payment_token)
    (a,) = investors(1, payment_token)
    commit(book, payment_token, a, 2)
    travel(book.times[1])
    role = book.ISSUER_ROLE()
    for caller in (admin, treasury, transfer_agent, a):
        for call in (
            lambda c=caller: book.allot(FIRST_COME, [a], [2], sender=c),
            lambda c=caller: book.finalizeAllotment(sender=c),
            lambda c=caller: book.settle([a], sender=c),
            lambda c=caller: book.cancel(sender=c),
        ):
            with reverts(book.AccessControlUnauthorizedAccount, account=caller.address, neededRole=role):
                call()
    for caller in (issuer, admin, a):
        with reverts(book.NotTransferAgent, caller=caller.address):
            book.recoverCommitment(a, caller, sender=caller)
    for caller in (issuer, admin, a):
        with reverts(book.NotTreasury, caller=caller.address):
            book.claimProceeds(caller, sender=caller)
    with reverts(book.NothingToClaim, investor=treasury.address):
        book.claimProceeds(treasury, sender=issuer)  # to the treasury anyone may: nothing held
    with reverts(book.AccessControlUnauthorizedAccount, account=issuer.address):
        book.grantRole(role, a, sender=issuer)
    assert book.state().phase == OPEN and book.commitmentOf(a).units == 2


# ---------------------------------------------------------------------------------------- a re-entrant investor


@pytest.mark.parametrize("reentry", ["commit", "withdraw", "claim", "refund", "claimProceeds"])
def test_investor_reentering_the_book_from_a_payment_hook_is_refused(
    project, make_book, deploy_series, travel, issuer, admin, onboard, accounts, reentry
):
    """A payment token that calls the receiver (a hook) lets a contract investor run code while the book pays it:
    on a withdrawal and on its settlement refund it calls the book again. Every entry point is guarded: the
    re-entry is refused, the payment itself goes through once, and nothing is paid twice or held."""
    hook = admin.deploy(project.MockHookPaymentToken)
    token = deploy_series()
    book = make_book(token, offered=3, cash=hook)
    owner = accounts.generate_test_account()
    admin.transfer(owner, 10**18)
    wallet = owner.deploy(project.MockReentrantInvestor, owner)
    onboard(wallet)
    hook.mint(wallet, 10 * PRICE, sender=admin)
    hook.setHooked(wallet, True, sender=admin)
    wallet.execute(hook, hook.approve.encode_input(book, 10 * PRICE), sender=owner)
    wallet.execute(book, book.commit.encode_input(6), sender=owner)
    calls = {
        "commit": book.commit.encode_input(1),
        "withdraw": book.withdraw.encode_input(1),
        "claim": book.claim.encode_input(wallet),
        "refund": book.refund.encode_input([wallet]),
        "claimProceeds": book.claimProceeds.encode_input(wallet),
    }
    # in the window: the withdrawal pays the wallet, which calls back
    wallet.arm(book, calls[reentry], sender=owner)
    wallet.execute(book, book.withdraw.encode_input(1), sender=owner)
    assert wallet.hookCalls() == 1 and not wallet.reentrySucceeded()
    assert bytes(wallet.reentryError())[:4] == REENTRANT_CALL
    assert book.commitmentOf(wallet).units == 5 and hook.balanceOf(wallet) == 5 * PRICE
    # at settlement: the refund of the unallotted units pays the wallet, which calls back
    travel(book.times[1])
    book.allot(EXPLICIT, [wallet], [3], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    travel(book.times[2])
    wallet.arm(book, calls[reentry], sender=owner)
    receipt = book.settle([wallet], sender=issuer)
    assert wallet.hookCalls() == 2 and not wallet.reentrySucceeded()
    assert bytes(wallet.reentryError())[:4] == REENTRANT_CALL
    assert [(e.investor, e.cash) for e in receipt.events.filter(book.Refunded)] == [(wallet.address, 2 * PRICE)]
    assert token.balanceOf(wallet) == 3 and hook.balanceOf(wallet) == 7 * PRICE
    assert book.heldRefund(wallet) == 0 and book.heldProceeds() == 0
    assert hook.balanceOf(book) == 0


@pytest.mark.parametrize("first", ["cancel", "settle"])
def test_cancel_and_the_first_settlement_batch_at_the_settlement_time_exclude_each_other(
    make_book, deploy_series, investors, payment_token, travel, issuer, chain, first
):
    """At the settlement time an allotted book may be cancelled or settled, not both: whichever comes first wins,
    and every unit of cash ends where that one says."""
    token = deploy_series()
    wallets = investors(2, payment_token)
    start = [payment_token.balanceOf(w) for w in wallets]
    book = make_book(token, offered=5, cash=payment_token)
    for wallet in wallets:
        commit(book, payment_token, wallet, 4)
    travel(book.times[1])
    book.allot(EXPLICIT, wallets, [3, 2], sender=issuer)
    book.finalizeAllotment(sender=issuer)
    chain.pending_timestamp = book.times[2]
    if first == "cancel":
        book.cancel(sender=issuer)
        with reverts(book.WrongPhase, phase=CANCELLED):
            book.settle(wallets[:1], sender=issuer)
        book.refund(wallets, sender=issuer)
        assert [payment_token.balanceOf(w) for w in wallets] == start
        assert token.totalSupply() == 0
    else:
        book.settle(wallets[:1], sender=issuer)
        with reverts(book.WrongPhase, phase=SETTLING):
            book.cancel(sender=issuer)
        book.settle(wallets[1:], sender=issuer)
        assert [token.balanceOf(w) for w in wallets] == [3, 2]
        assert [s - payment_token.balanceOf(w) for w, s in zip(wallets, start, strict=True)] == [3 * PRICE, 2 * PRICE]
    assert payment_token.balanceOf(book) == 0
