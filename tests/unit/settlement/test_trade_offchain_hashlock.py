"""Trades whose cash does not move on this chain: off-chain cash confirmed under a payment id (mode 1) and cash on
another ledger behind a SHA-256 hash lock (mode 2). The units are locked at agreement and delivered through the
token's compliance only on confirmation or on the secret; expiry returns them."""

from __future__ import annotations

import hashlib

import ape
import pytest

from tests.unit.settlement.trade_helpers import (
    C_RECEIVER_UNVERIFIED,
    CANCELLED,
    HASHLOCK,
    OFFCHAIN,
    RELEASED,
    SETTLED,
    ZERO,
    reverts_with,
)

PAYMENT_ID = b"BANK-REF-2026-000123".ljust(32, b"\x00")
SECRET = bytes(range(32))
HASH_LOCK = hashlib.sha256(SECRET).digest()


@pytest.fixture
def bank(accounts):
    """The seller's bank's agent, named in the trade as confirmer."""
    return accounts[16]


@pytest.fixture
def offchain_trade(series, make_trade, bank):
    return make_trade(series, mode=OFFCHAIN, paymentToken=ZERO, price=400_000, paymentRef=PAYMENT_ID, confirmer=bank)


@pytest.fixture
def hashlock_trade(series, make_trade):
    return make_trade(series, mode=HASHLOCK, paymentToken=ZERO, price=400_000, paymentRef=HASH_LOCK)


# ------------------------------------------------------------------------------------------- off-chain cash


@pytest.mark.parametrize("confirmed_by", ["seller", "bank"])
def test_offchain_units_are_released_when_the_seller_or_its_agent_confirms_the_payment(
    settlement, series, offchain_trade, agree, seller, buyer, bank, confirmed_by, chain
):
    trade_id = agree(offchain_trade).return_value
    assert series.getFrozenTokens(seller) == 40
    who = {"seller": seller, "bank": bank}[confirmed_by]
    receipt = settlement.confirmPayment(offchain_trade, PAYMENT_ID, sender=who)
    assert (series.balanceOf(seller), series.balanceOf(buyer), series.getFrozenTokens(seller)) == (60, 40, 0)
    assert settlement.tradeStatus(trade_id) == SETTLED
    event = next(iter(receipt.events.filter(settlement.TradeSettled)))
    assert (event.mode, bytes(event.paymentId), event.price, event.paymentToken) == (
        OFFCHAIN,
        PAYMENT_ID,
        400_000,
        ZERO,
    )
    assert event.settledAt == chain.provider.get_block(receipt.block_number).timestamp


def test_offchain_confirmation_needs_the_agreed_payment_id_and_an_allowed_confirmer(
    settlement, series, offchain_trade, agree, buyer, broker, seller
):
    trade_id = agree(offchain_trade).return_value
    for who in (buyer, broker):
        with ape.reverts(settlement.NotAllowed, tradeId=trade_id, caller=who.address):
            settlement.confirmPayment(offchain_trade, PAYMENT_ID, sender=who)
    wrong = b"OTHER".ljust(32, b"\x00")
    with ape.reverts(settlement.PaymentIdMismatch, tradeId=trade_id, expected=PAYMENT_ID, given=wrong):
        settlement.confirmPayment(offchain_trade, wrong, sender=seller)
    with ape.reverts(settlement.WrongMode, tradeId=trade_id, mode=OFFCHAIN, expected=0):
        settlement.settle(offchain_trade, sender=broker)
    assert series.balanceOf(buyer) == 0


def test_offchain_payment_id_named_at_confirmation_when_the_trade_left_it_open(
    settlement, series, make_trade, agree, seller, buyer
):
    trade = make_trade(series, mode=OFFCHAIN, paymentToken=ZERO)
    trade_id = agree(trade).return_value
    with ape.reverts(settlement.PaymentIdMismatch, tradeId=trade_id, given=b"\x00" * 32):
        settlement.confirmPayment(trade, b"\x00" * 32, sender=seller)
    receipt = settlement.confirmPayment(trade, PAYMENT_ID, sender=seller)
    assert bytes(next(iter(receipt.events.filter(settlement.TradeSettled))).paymentId) == PAYMENT_ID
    assert series.balanceOf(buyer) == 40


def test_offchain_the_seller_cannot_take_back_locked_units_before_expiry_but_the_buyer_can_cancel(
    settlement, series, offchain_trade, agree, seller, buyer
):
    trade_id = agree(offchain_trade).return_value
    with ape.reverts(settlement.SellerCannotCancel, tradeId=trade_id, mode=OFFCHAIN, expiry=offchain_trade["expiry"]):
        settlement.cancel(offchain_trade, sender=seller)
    settlement.cancel(offchain_trade, sender=buyer)
    assert settlement.tradeStatus(trade_id) == CANCELLED
    assert series.getFrozenTokens(seller) == 0


def test_offchain_expiry_returns_the_units_and_a_late_confirmation_fails(
    settlement, series, offchain_trade, agree, seller, bank, travel
):
    trade_id = agree(offchain_trade).return_value
    travel(offchain_trade["expiry"] + 1)
    with ape.reverts(settlement.TradeExpired, tradeId=trade_id):
        settlement.confirmPayment(offchain_trade, PAYMENT_ID, sender=bank)
    settlement.cancel(offchain_trade, sender=seller)  # after expiry the seller may cancel (as release)
    assert settlement.tradeStatus(trade_id) == CANCELLED
    assert series.getFrozenTokens(seller) == 0


def test_offchain_confirmation_still_runs_compliance_for_the_buyer(
    settlement, series, offchain_trade, agree, registry, registrar, seller, buyer
):
    agree(offchain_trade)
    registry.removeInvestor(buyer, sender=registrar)
    with reverts_with("TransferRestricted", series, code=C_RECEIVER_UNVERIFIED):
        settlement.confirmPayment(offchain_trade, PAYMENT_ID, sender=seller)
    assert series.getFrozenTokens(seller) == 40


# ------------------------------------------------------------------------------------------- hash lock


def test_hashlock_the_secret_delivers_the_units_and_is_published(
    settlement, series, hashlock_trade, agree, outsider, seller, buyer
):
    trade_id = agree(hashlock_trade).return_value
    receipt = settlement.claim(hashlock_trade, SECRET, sender=outsider)  # anyone may submit the secret
    assert (series.balanceOf(seller), series.balanceOf(buyer), series.getFrozenTokens(seller)) == (60, 40, 0)
    revealed = next(iter(receipt.events.filter(settlement.SecretRevealed)))
    assert (revealed.tradeId, bytes(revealed.hashLock), bytes(revealed.secret)) == (trade_id, HASH_LOCK, SECRET)
    settled = next(iter(receipt.events.filter(settlement.TradeSettled)))
    assert (settled.mode, bytes(settled.paymentId)) == (HASHLOCK, HASH_LOCK)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=SETTLED):
        settlement.claim(hashlock_trade, SECRET, sender=buyer)


def test_hashlock_a_wrong_secret_delivers_nothing(settlement, series, hashlock_trade, agree, buyer):
    trade_id = agree(hashlock_trade).return_value
    wrong = b"\x01" * 32
    with ape.reverts(
        settlement.WrongSecret, tradeId=trade_id, hashLock=HASH_LOCK, hashOfSecret=hashlib.sha256(wrong).digest()
    ):
        settlement.claim(hashlock_trade, wrong, sender=buyer)
    # keccak is not the lock's hash function
    with ape.reverts(settlement.WrongSecret):
        settlement.claim(hashlock_trade, HASH_LOCK, sender=buyer)
    assert series.balanceOf(buyer) == 0


def test_hashlock_after_the_deadline_the_secret_is_refused_and_the_seller_unlocks(
    settlement, series, hashlock_trade, agree, seller, buyer, travel
):
    trade_id = agree(hashlock_trade).return_value
    with ape.reverts(settlement.SellerCannotCancel, tradeId=trade_id, mode=HASHLOCK):
        settlement.cancel(hashlock_trade, sender=seller)
    with ape.reverts(settlement.TradeNotExpired, tradeId=trade_id):
        settlement.release(hashlock_trade, sender=seller)
    travel(hashlock_trade["expiry"] + 1)
    with ape.reverts(settlement.TradeExpired, tradeId=trade_id, expiry=hashlock_trade["expiry"]):
        settlement.claim(hashlock_trade, SECRET, sender=buyer)
    settlement.release(hashlock_trade, sender=seller)
    assert settlement.tradeStatus(trade_id) == RELEASED
    assert (series.balanceOf(seller), series.getFrozenTokens(seller)) == (100, 0)


def test_hashlock_claim_at_the_deadline_second_still_delivers(settlement, series, hashlock_trade, agree, buyer, travel):
    agree(hashlock_trade)
    travel(hashlock_trade["expiry"] - 1)
    settlement.claim(hashlock_trade, SECRET, sender=buyer)
    assert series.balanceOf(buyer) == 40


def test_hashlock_with_required_approval_needs_it_before_the_secret(
    settlement, series, hashlock_trade, agree, transfer_agent, buyer
):
    settlement.setApprovalRequired(series, True, sender=transfer_agent)
    trade_id = agree(hashlock_trade).return_value
    with ape.reverts(settlement.ApprovalRequired, tradeId=trade_id):
        settlement.claim(hashlock_trade, SECRET, sender=buyer)
    settlement.approveTrade(hashlock_trade, sender=transfer_agent)
    settlement.claim(hashlock_trade, SECRET, sender=buyer)
    assert series.balanceOf(buyer) == 40
