"""A record date inside a pending trade: the locked units stay in the seller's balance, so the seller is the holder
of record and is paid the coupon; a partial call whose record time passes while units are locked retires them pro
rata like any other units, and the trade cannot deliver more units than remain."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.unit.settlement.trade_helpers import C_BALANCE, DAY, reverts_with

COUPON = Fraction(50)  # per unit, payment-token base units
CALL_PRICE = Fraction(10_050)
FACE = Fraction(10_000)


@pytest.fixture
def holders(onboard, seller, buyer):
    onboard(seller)
    onboard(buyer)


def pay(agent, cash, payer, period, holders, travel, payment_time) -> None:
    travel(payment_time)
    amount = agent.fundingShortfall(period)
    cash.mint(payer, amount, sender=payer)
    cash.approve(agent, amount, sender=payer)
    agent.fund(period, amount, sender=payer)
    agent.pushPayments(period, holders, sender=payer)


def test_the_seller_is_paid_the_coupon_whose_record_time_falls_inside_a_pending_trade(
    holders,
    deploy_paying_series,
    cash,
    settlement,
    make_trade,
    agree,
    fund_buyer,
    seller,
    buyer,
    broker,
    minter,
    payer,
    travel,
    chain,
):
    now = chain.pending_timestamp
    record, payment = now + 10 * DAY, now + 11 * DAY
    token, agent = deploy_paying_series(
        cash,
        [
            (record, payment, COUPON, Fraction(0), Fraction(0)),
            (now + 100 * DAY, now + 101 * DAY, COUPON, FACE, Fraction(1)),
        ],
    )
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 40, sender=seller)
    trade = make_trade(token, expiry=record + 5 * DAY)
    agree(trade)  # before the record time
    travel(record + 1)
    fund_buyer(400_000)
    receipt = settlement.settle(trade, sender=broker)  # after it
    settled_at = next(iter(receipt.events.filter(settlement.TradeSettled))).settledAt
    assert settled_at > record
    # The locked units were the seller's at the record time.
    assert token.balanceOfAt(seller, record) == 100
    assert token.balanceOfAt(buyer, record) == 0
    assert (token.balanceOf(seller), token.balanceOf(buyer)) == (60, 40)

    before = (cash.balanceOf(seller), cash.balanceOf(buyer))
    pay(agent, cash, payer, 0, [seller, buyer], travel, payment)
    # Exempt holders (tax class 0): the seller receives the coupon on all 100 units, the buyer none for period 0.
    assert cash.balanceOf(seller) - before[0] == 100 * COUPON
    assert cash.balanceOf(buyer) - before[1] == 0


def test_a_trade_settled_before_the_record_time_moves_the_coupon_to_the_buyer(
    holders,
    deploy_paying_series,
    cash,
    settlement,
    make_trade,
    agree,
    fund_buyer,
    seller,
    buyer,
    broker,
    minter,
    travel,
    chain,
):
    now = chain.pending_timestamp
    record = now + 10 * DAY
    token, _ = deploy_paying_series(
        cash,
        [
            (record, now + 11 * DAY, COUPON, Fraction(0), Fraction(0)),
            (now + 100 * DAY, now + 101 * DAY, COUPON, FACE, Fraction(1)),
        ],
    )
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 40, sender=seller)
    trade = make_trade(token)
    agree(trade)
    fund_buyer(400_000)
    settlement.settle(trade, sender=broker)
    travel(record + 1)
    assert (token.balanceOfAt(seller, record), token.balanceOfAt(buyer, record)) == (60, 40)


def test_a_partial_call_retires_locked_units_and_the_trade_cannot_deliver_more_than_remain(
    holders,
    deploy_paying_series,
    cash,
    settlement,
    make_trade,
    agree,
    fund_buyer,
    seller,
    buyer,
    broker,
    minter,
    payer,
    travel,
    chain,
):
    now = chain.pending_timestamp
    record, payment = now + 10 * DAY, now + 11 * DAY
    token, agent = deploy_paying_series(
        cash,
        [
            (record, payment, Fraction(0), CALL_PRICE, Fraction(1, 2)),  # half the units called
            (now + 100 * DAY, now + 101 * DAY, Fraction(0), FACE, Fraction(1)),
        ],
    )
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 2**256 - 1, sender=seller)
    trade = make_trade(token, units=80, expiry=record + 5 * DAY)
    agree(trade)
    travel(record + 1)
    # The call retired half of the seller's 100 units at its record time, locked ones included.
    assert token.pendingRetirement(seller) == 50
    assert token.balanceOfAt(seller, record) == 100
    fund_buyer(400_000)
    with reverts_with(
        "TransferRestricted", token, code=C_BALANCE, **{"from": seller.address}, to=buyer.address, amount=80, detail=50
    ):
        settlement.settle(trade, sender=broker)
    # The parties cancel and agree on what remains.
    settlement.cancel(trade, sender=buyer)
    assert token.getFrozenTokens(seller) == 0
    smaller = make_trade(token, units=50, price=250_000, nonce=2, expiry=record + 5 * DAY)
    agree(smaller)
    settlement.settle(smaller, sender=broker)
    assert (token.balanceOf(seller), token.balanceOf(buyer), token.totalSupply()) == (0, 50, 50)
    assert token.getFrozenTokens(seller) == 0
    # The call pays the seller for the 50 units retired while they were locked; the buyer bought units not called.
    before = (cash.balanceOf(seller), cash.balanceOf(buyer))
    pay(agent, cash, payer, 0, [seller, buyer], travel, payment)
    assert cash.balanceOf(seller) - before[0] == 50 * CALL_PRICE
    assert cash.balanceOf(buyer) - before[1] == 0
