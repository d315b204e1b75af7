"""An outside reviewer's orders of events against secondary-trade settlement: a seller's wallet freeze shrinking
under its open trades (an agent's forced transfer, units retired at a record time), locks placed on units already
retired, a payment id confirming two trades, replayed or altered signatures, and every way out of a trade happening
exactly once. Each test states what must hold whoever acts first."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from typing import Any

import ape
import pytest
from eth_account import Account
from eth_utils import keccak

from tests.unit.settlement.trade_helpers import (
    C_BALANCE,
    CANCELLED,
    DAY,
    HASHLOCK,
    LOCKED,
    OFFCHAIN,
    RELEASED,
    SETTLED,
    ZERO,
    ZERO32,
    reverts_with,
    typed_trade,
)

PAYMENT_ID = b"BANK-REF-2026-000777".ljust(32, b"\x00")
SECRET = bytes(range(32, 64))
HASH_LOCK = hashlib.sha256(SECRET).digest()
CALL_PRICE = Fraction(10_050)
FACE = Fraction(10_000)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def bank(accounts):
    """The seller's bank's agent, named in mode-1 trades as confirmer."""
    return accounts[16]


def trade_id(settlement: Any, trade: dict[str, Any]) -> bytes:
    return bytes(settlement.tradeId(trade))


def unlocked_by(settlement: Any, receipt: Any) -> int:
    return next(iter(receipt.events.filter(settlement.TradeCancelled))).unitsUnlocked


# ------------------------------------------------------------------------- a shrinking freeze under open trades


@pytest.fixture
def two_trades(series, make_trade, agree, bank):
    """Two open trades of the seller's 100 units: `wired` (mode 1, 40 units, the buyer has wired the money and only
    the bank confirms) and `sibling` (mode 0, 40 units, which the seller may cancel or settle at any time)."""
    wired = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, paymentRef=PAYMENT_ID, confirmer=bank, nonce=1)
    sibling = make_trade(series, nonce=2)
    agree(wired)
    agree(sibling)
    return wired, sibling


def test_locked_units_follow_the_open_trades(settlement, series, two_trades, make_trade, agree, fund_buyer, seller):
    wired, sibling = two_trades
    assert settlement.lockedUnits(series, seller) == 80 == series.getFrozenTokens(seller)
    third = make_trade(series, units=10, nonce=3)
    agree(third)
    assert settlement.lockedUnits(series, seller) == 90
    settlement.cancel(third, sender=seller)
    assert settlement.lockedUnits(series, seller) == 80
    fund_buyer(400_000)
    settlement.settle(sibling, sender=seller)
    assert settlement.lockedUnits(series, seller) == 40 == series.getFrozenTokens(seller)
    assert settlement.lockedUnits(series, wired["buyer"]) == 0


def test_cancelling_a_trade_whose_lock_a_forced_transfer_took_does_not_free_another_trades_units(
    settlement, series, two_trades, transfer_agent, seller, buyer, bank
):
    wired, sibling = two_trades
    # A court order moves 60 of the seller's 100 units: only 20 were free, so the token unfreezes 40.
    series.forcedTransfer(seller, buyer, 60, sender=transfer_agent)
    assert (series.balanceOf(seller), series.getFrozenTokens(seller)) == (40, 40)
    # The seller cancels the sibling it may cancel: the 40 frozen units are the wired trade's, not the sibling's.
    receipt = settlement.cancel(sibling, sender=seller)
    assert unlocked_by(settlement, receipt) == 0
    assert series.getFrozenTokens(seller) == 40
    assert settlement.lockedUnits(series, seller) == 40
    # So the seller cannot sell them elsewhere, and the bank's confirmation delivers them to the paying buyer.
    with reverts_with("TransferRestricted", series, code=C_BALANCE, detail=0):
        series.transfer(buyer, 40, sender=seller)
    settlement.confirmPayment(wired, PAYMENT_ID, sender=bank)
    assert (series.balanceOf(seller), series.getFrozenTokens(seller), settlement.lockedUnits(series, seller)) == (
        0,
        0,
        0,
    )


def test_settling_a_sibling_cannot_deliver_units_another_open_trade_keeps_locked(
    settlement, series, two_trades, fund_buyer, transfer_agent, seller, buyer, bank
):
    wired, sibling = two_trades
    series.forcedTransfer(seller, buyer, 60, sender=transfer_agent)
    fund_buyer(400_000)
    with reverts_with(
        "LockShortfall",
        settlement,
        tradeId=trade_id(settlement, sibling),
        seller=seller.address,
        frozen=0,
        stillLocked=40,
    ):
        settlement.settle(sibling, sender=seller)
    # The sibling is cancelled (it unlocks nothing: its lock is what the forced transfer took) and the wired trade
    # still delivers.
    settlement.cancel(sibling, sender=seller)
    settlement.confirmPayment(wired, PAYMENT_ID, sender=bank)
    assert settlement.tradeStatus(trade_id(settlement, wired)) == SETTLED
    assert series.balanceOf(seller) == 0


def pay_period(agent: Any, cash: Any, payer: Any, period: int, holders: list[Any]) -> None:
    amount = agent.fundingShortfall(period)
    cash.mint(payer, amount, sender=payer)
    cash.approve(agent, amount, sender=payer)
    agent.fund(period, amount, sender=payer)
    agent.pushPayments(period, holders, sender=payer)


@pytest.fixture
def called_series(deploy_paying_series, cash, onboard, minter, seller, buyer, settlement, chain):
    """(token, agent, record, payment): the seller holds 100 units approved to the settlement contract; half the
    units are called at `record` (paid at `payment`), the rest redeemed 100 days later."""
    onboard(seller)
    onboard(buyer)
    now = chain.pending_timestamp
    record, payment = now + 10 * DAY, now + 11 * DAY
    token, agent = deploy_paying_series(
        cash,
        [
            (record, payment, Fraction(0), CALL_PRICE, Fraction(1, 2)),
            (now + 100 * DAY, now + 101 * DAY, Fraction(0), FACE, Fraction(1)),
        ],
    )
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 2**256 - 1, sender=seller)
    return token, agent, record, payment


def test_a_lock_cannot_be_placed_on_units_retired_at_a_passed_record_time(
    called_series, settlement, make_trade, agree, fund_buyer, seller, buyer, broker, travel
):
    token, _, record, _ = called_series
    travel(record + 1)
    # The call retired 50 of the 100 units; they are burned lazily, but they are gone.
    assert (token.balanceOf(seller), token.pendingRetirement(seller)) == (100, 50)
    phantom = make_trade(token, units=60, expiry=record + 5 * DAY)
    with reverts_with("InvalidFreezeAmount", token, wallet=seller.address, amount=60, limit=50):
        agree(phantom)
    assert token.getFrozenTokens(seller) == 0
    real = make_trade(token, units=50, price=250_000, nonce=2, expiry=record + 5 * DAY)
    agree(real)
    assert (token.balanceOf(seller), token.getFrozenTokens(seller)) == (50, 50)
    fund_buyer(250_000)
    settlement.settle(real, sender=broker)
    assert (token.balanceOf(seller), token.balanceOf(buyer)) == (0, 50)


def test_after_a_partial_call_the_trade_the_seller_cannot_cancel_keeps_its_units(
    called_series, settlement, make_trade, agree, fund_buyer, cash, payer, seller, buyer, bank, travel
):
    token, agent, _, payment = called_series
    wired = make_trade(
        token,
        mode=OFFCHAIN,
        paymentToken=ZERO,
        paymentRef=PAYMENT_ID,
        confirmer=bank,
        nonce=1,
        expiry=payment + 5 * DAY,
    )
    sibling = make_trade(token, nonce=2, expiry=payment + 5 * DAY)
    agree(wired)
    agree(sibling)
    travel(payment)
    pay_period(agent, cash, payer, 0, [seller])  # retires 50 units: the wallet's freeze is capped at 50
    assert (token.balanceOf(seller), token.getFrozenTokens(seller)) == (50, 50)
    # Settling the sibling first would leave the wired trade 10 locked units: refused.
    fund_buyer(400_000)
    with reverts_with(
        "LockShortfall",
        settlement,
        tradeId=trade_id(settlement, sibling),
        seller=seller.address,
        frozen=10,
        stillLocked=40,
    ):
        settlement.settle(sibling, sender=seller)
    # Cancelling the sibling unlocks only what the wired trade does not need.
    assert unlocked_by(settlement, settlement.cancel(sibling, sender=seller)) == 10
    assert token.getFrozenTokens(seller) == 40
    settlement.confirmPayment(wired, PAYMENT_ID, sender=bank)
    assert (token.balanceOf(seller), token.balanceOf(buyer), token.getFrozenTokens(seller)) == (10, 40, 0)


def test_a_final_redemption_during_a_pending_trade_leaves_nothing_stuck(
    called_series, settlement, make_trade, agree, fund_buyer, cash, payer, seller, broker, travel, chain
):
    token, _, record, _ = called_series
    final_record = record + 90 * DAY
    trade = make_trade(token, units=20, expiry=final_record + 10 * DAY)
    agree(trade)
    travel(final_record + 1)  # every unit is redeemed at the final record time
    fund_buyer(400_000)
    with reverts_with("TransferRestricted", token):
        settlement.settle(trade, sender=broker)
    travel(final_record + 10 * DAY + 1)
    # Release neither fails nor leaves a freeze behind on units that no longer exist.
    receipt = settlement.release(trade, sender=broker)
    assert next(iter(receipt.events.filter(settlement.TradeReleased))).unitsUnlocked == 20
    assert settlement.tradeStatus(trade_id(settlement, trade)) == RELEASED
    assert (token.getFrozenTokens(seller), token.pendingRetirement(seller)) == (0, 100)
    assert settlement.lockedUnits(token, seller) == 0


# ------------------------------------------------------------------------------------------- off-chain cash


def test_one_payment_id_confirms_one_trade_of_the_seller(settlement, series, make_trade, agree, seller, bank):
    first = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, paymentRef=ZERO32, confirmer=bank, nonce=1)
    second = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, paymentRef=ZERO32, confirmer=bank, nonce=2)
    agree(first)
    agree(second)
    settlement.confirmPayment(first, PAYMENT_ID, sender=bank)
    # The same bank payment cannot pay for a second delivery, whoever confirms it.
    with reverts_with(
        "PaymentIdUsed",
        settlement,
        tradeId=trade_id(settlement, second),
        paymentId=PAYMENT_ID,
        confirmedTrade=trade_id(settlement, first),
    ):
        settlement.confirmPayment(second, PAYMENT_ID, sender=seller)
    assert settlement.tradeStatus(trade_id(settlement, second)) == LOCKED
    assert bytes(settlement.paymentTrade(seller, PAYMENT_ID)) == trade_id(settlement, first)
    settlement.confirmPayment(second, PAYMENT_ID[:-1] + b"\x01", sender=bank)
    assert series.balanceOf(seller) == 20


def test_the_buyer_or_a_stranger_cannot_confirm_and_confirmation_happens_once(
    settlement, series, make_trade, agree, buyer, broker, bank, travel
):
    trade = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, paymentRef=PAYMENT_ID, confirmer=bank)
    tid = trade_id(settlement, trade)
    agree(trade)
    for wrong in (buyer, broker):
        with ape.reverts(settlement.NotAllowed, tradeId=tid, caller=wrong.address):
            settlement.confirmPayment(trade, PAYMENT_ID, sender=wrong)
    settlement.confirmPayment(trade, PAYMENT_ID, sender=bank)
    with ape.reverts(settlement.TradeNotOpen, tradeId=tid, status=SETTLED):
        settlement.confirmPayment(trade, PAYMENT_ID, sender=bank)
    travel(trade["expiry"] + 1)
    for late in (settlement.cancel, settlement.release):
        with ape.reverts(settlement.TradeNotOpen, tradeId=tid, status=SETTLED):
            late(trade, sender=buyer)


# ------------------------------------------------------------------------------------------- hash lock


def test_a_third_party_holding_the_secret_can_only_deliver_to_the_buyer(
    settlement, series, make_trade, agree, seller, buyer, broker
):
    trade = make_trade(series, mode=HASHLOCK, paymentToken=ZERO, paymentRef=HASH_LOCK)
    agree(trade)
    receipt = settlement.claim(trade, SECRET, sender=broker)
    assert (series.balanceOf(buyer), series.balanceOf(broker), series.balanceOf(seller)) == (40, 0, 60)
    assert bytes(next(iter(receipt.events.filter(settlement.SecretRevealed))).secret) == SECRET


# ------------------------------------------------------------------------------------------- signatures


def test_a_high_s_twin_of_a_valid_signature_is_refused(settlement, series, make_trade, sign, seller, buyer, broker):
    trade = make_trade(series)
    good = sign(seller, trade)
    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 <-> 28: recovers the same signer
    with ape.reverts(settlement.InvalidSignature, tradeId=trade_id(settlement, trade), signer=seller.address):
        settlement.agree(trade, twin, sign(buyer, trade), sender=broker)
    settlement.agree(trade, good, sign(buyer, trade), sender=broker)


def test_signatures_for_another_chain_or_altered_terms_are_refused(
    settlement, series, make_trade, sign, seller, buyer, broker, chain
):
    trade = make_trade(series)
    other_chain = bytes(
        Account.sign_message(typed_trade(settlement, chain.chain_id + 1, trade), seller.private_key).signature
    )
    with ape.reverts(settlement.InvalidSignature, tradeId=trade_id(settlement, trade), signer=seller.address):
        settlement.agree(trade, other_chain, sign(buyer, trade), sender=broker)
    seller_sig, buyer_sig = sign(seller, trade), sign(buyer, trade)
    for field, value in (("price", 1), ("units", 41), ("buyer", broker.address), ("expiry", trade["expiry"] + DAY)):
        altered = {**trade, field: value}
        with ape.reverts(settlement.InvalidSignature):
            settlement.agree(altered, seller_sig, buyer_sig, sender=broker)
    assert series.getFrozenTokens(seller) == 0


# ------------------------------------------------------------------------------------------- once and only once


def test_every_exit_happens_once(settlement, series, make_trade, agree, seller, buyer, broker, travel):
    cancelled = make_trade(series, nonce=1)
    released = make_trade(series, nonce=2)
    agree(cancelled)
    agree(released)
    assert unlocked_by(settlement, settlement.cancel(cancelled, sender=buyer)) == 40
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id(settlement, cancelled), status=CANCELLED):
        settlement.cancel(cancelled, sender=seller)
    travel(released["expiry"] + 1)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id(settlement, cancelled), status=CANCELLED):
        settlement.release(cancelled, sender=broker)
    settlement.release(released, sender=broker)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id(settlement, released), status=RELEASED):
        settlement.release(released, sender=broker)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id(settlement, released), status=RELEASED):
        settlement.cancel(released, sender=seller)
    assert (series.getFrozenTokens(seller), settlement.lockedUnits(series, seller)) == (0, 0)


def test_approval_needs_the_transfer_agent_and_an_open_trade(
    settlement, series, make_trade, agree, fund_buyer, transfer_agent, seller, broker
):
    trade = make_trade(series)
    tid = trade_id(settlement, trade)
    with ape.reverts(settlement.TradeNotOpen, tradeId=tid, status=0):
        settlement.approveTrade(trade, sender=transfer_agent)
    agree(trade)
    for wrong in (seller, broker):
        with ape.reverts(settlement.MissingSeriesRole, series=series.address, caller=wrong.address, roles=2):
            settlement.approveTrade(trade, sender=wrong)
    fund_buyer(400_000)
    settlement.settle(trade, sender=broker)
    with ape.reverts(settlement.TradeNotOpen, tradeId=tid, status=SETTLED):
        settlement.approveTrade(trade, sender=transfer_agent)


def test_an_approval_after_expiry_is_refused(settlement, series, make_trade, agree, transfer_agent, broker, travel):
    trade = make_trade(series)
    agree(trade)
    travel(trade["expiry"] + 1)
    with reverts_with("TradeExpired", settlement, tradeId=trade_id(settlement, trade), expiry=trade["expiry"]):
        settlement.approveTrade(trade, sender=transfer_agent)
    settlement.release(trade, sender=broker)


def test_an_approval_stops_counting_when_its_giver_loses_the_transfer_agent_role(
    settlement, series, make_trade, agree, fund_buyer, transfer_agent, admin, broker, buyer, accounts
):
    role = keccak(text="TRANSFER_AGENT_ROLE")
    settlement.setApprovalRequired(series, True, sender=admin)
    trade = make_trade(series)
    tid = trade_id(settlement, trade)
    agree(trade)
    settlement.approveTrade(trade, sender=transfer_agent)
    assert settlement.tradeApprover(tid) == transfer_agent.address
    series.revokeRole(role, transfer_agent, sender=admin)  # a replaced (or compromised) transfer agent key
    fund_buyer(400_000)
    with reverts_with("ApprovalRequired", settlement, tradeId=tid, series=series.address):
        settlement.settle(trade, sender=broker)
    successor = accounts[17]
    series.grantRole(role, successor, sender=admin)
    receipt = settlement.approveTrade(trade, sender=successor)
    assert next(iter(receipt.events.filter(settlement.TradeApproved))).transferAgent == successor.address
    assert settlement.tradeApprover(tid) == successor.address
    settlement.settle(trade, sender=broker)
    assert series.balanceOf(buyer) == 40


def test_a_bank_paid_trade_cannot_name_the_buyer_as_its_confirmer(settlement, series, make_trade, agree, buyer):
    trade = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, paymentRef=PAYMENT_ID, confirmer=buyer)
    with reverts_with("InvalidTrade", settlement, reason=7, buyer=buyer.address, mode=OFFCHAIN):
        agree(trade)


# ------------------------------------------------------------------------------------------- re-entry


@pytest.mark.parametrize("reentry", ["cancel", "settle", "release"])
def test_a_payment_hook_cannot_re_enter_the_settlement(
    project, settlement, series, make_trade, sign, onboard, minter, buyer, broker, accounts, reentry
):
    """The seller is a contract wallet paid in a token that calls it back: from inside the cash leg it tries to
    cancel (take its units back), settle again or release the trade. Every entry point is guarded."""
    owner = accounts[15]
    wallet = owner.deploy(project.MockReentrantTradeParty, owner)
    hook_yen = owner.deploy(project.MockHookPaymentToken)
    onboard(wallet)
    series.mint(wallet, 50, sender=minter)
    wallet.execute(series, series.approve.encode_input(settlement, 50), sender=owner)
    trade = make_trade(series, seller=wallet.address, paymentToken=hook_yen.address)
    settlement.agree(trade, sign(owner, trade), sign(buyer, trade), sender=broker)
    hook_yen.mint(buyer, 400_000, sender=buyer)
    hook_yen.approve(settlement, 400_000, sender=buyer)
    hook_yen.setHooked(wallet, True, sender=owner)
    wallet.setReentry(settlement, getattr(settlement, reentry).encode_input(trade), sender=owner)

    settlement.settle(trade, sender=broker)

    assert wallet.hookCalls() == 1 and not wallet.reentrySucceeded()
    assert bytes(wallet.reentryError())[:4] == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert settlement.tradeStatus(trade_id(settlement, trade)) == SETTLED
    assert (series.balanceOf(wallet), series.balanceOf(buyer), series.getFrozenTokens(wallet)) == (10, 40, 0)
    assert (hook_yen.balanceOf(wallet), hook_yen.balanceOf(buyer)) == (400_000, 0)
    assert settlement.lockedUnits(series, wallet) == 0


# ------------------------------------------------------------------------------------------- record dates


@pytest.mark.parametrize("offset", [0, 1])
def test_a_settlement_at_the_record_second_belongs_to_the_buyer_and_one_second_later_to_the_seller(
    deploy_paying_series,
    cash,
    onboard,
    minter,
    settlement,
    make_trade,
    agree,
    fund_buyer,
    seller,
    buyer,
    broker,
    chain,
    offset,
):
    """docs/settlement.md: a balance change at t <= recordTime is in the record. Exactly one of the two parties is
    the holder of record of the traded units, never both, never neither."""
    onboard(seller)
    onboard(buyer)
    now = chain.pending_timestamp
    record = now + 10 * DAY
    token, _ = deploy_paying_series(
        cash,
        [
            (record, now + 11 * DAY, Fraction(50), Fraction(0), Fraction(0)),
            (now + 100 * DAY, now + 101 * DAY, Fraction(50), FACE, Fraction(1)),
        ],
    )
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 40, sender=seller)
    trade = make_trade(token, expiry=record + DAY)
    agree(trade)
    fund_buyer(400_000)
    chain.pending_timestamp = record + offset
    receipt = settlement.settle(trade, sender=broker)
    assert next(iter(receipt.events.filter(settlement.TradeSettled))).settledAt == record + offset
    chain.pending_timestamp = record + 2
    chain.mine()
    expected = (60, 40) if offset == 0 else (100, 0)
    assert (token.balanceOfAt(seller, record), token.balanceOfAt(buyer, record)) == expected
    assert token.totalSupplyAt(record) == 100


def test_a_lock_of_more_units_than_exist_is_the_tokens_error_not_a_panic(settlement, series, make_trade, agree, seller):
    agree(make_trade(series, units=30, nonce=1))
    huge = make_trade(series, units=2**256 - 1, nonce=2)
    with reverts_with("InvalidFreezeAmount", series, wallet=seller.address, amount=2**256 - 1, limit=70):
        agree(huge)
    assert (series.getFrozenTokens(seller), settlement.lockedUnits(series, seller)) == (30, 30)
