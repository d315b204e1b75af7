"""On-chain cash DvP (TradeSettlement mode 0) on the real series contracts: agreement by EIP-712 signatures,
units locked by a partial freeze on the seller's wallet, both legs in one transaction through the token's own
compliance, cancellation, expiry, replay, hostile payment tokens and wrong roles."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from tests.unit.settlement.trade_helpers import (
    APPROVED,
    C_PAUSED,
    C_RECEIVER_FROZEN,
    C_RECEIVER_UNVERIFIED,
    C_SENDER_FROZEN,
    CANCELLED,
    DAY,
    LOCKED,
    NONE,
    RELEASED,
    SETTLED,
    reverts_with,
    typed_trade,
)


def test_trade_id_is_the_eip712_digest_both_parties_sign(settlement, series, make_trade, chain):
    trade = make_trade(series)
    message = typed_trade(settlement, chain.chain_id, trade)
    digest = keccak(b"\x19\x01" + message.header + message.body)
    assert bytes(settlement.tradeId(trade)) == digest
    assert bytes(settlement.domainSeparator()) == message.header


def test_agreement_locks_the_sellers_units_and_settlement_moves_both_legs(
    settlement, series, make_trade, agree, fund_buyer, cash, seller, buyer, broker, chain
):
    trade = make_trade(series)
    receipt = agree(trade)
    trade_id = receipt.return_value
    assert settlement.tradeStatus(trade_id) == LOCKED
    agreed = next(iter(receipt.events.filter(settlement.TradeAgreed)))
    assert (agreed.tradeId, agreed.series, agreed.seller) == (trade_id, series.address, seller.address)
    assert (agreed.trade[3], agreed.trade[5]) == (40, 400_000)  # units, price
    # Locked, not escrowed: the units stay in the seller's balance, frozen.
    assert series.balanceOf(seller) == 100
    assert series.getFrozenTokens(seller) == 40
    with ape.reverts(series.TransferRestricted):
        series.transfer(buyer, 61, sender=seller)

    fund_buyer(400_000)
    receipt = settlement.settle(trade, sender=broker)
    assert settlement.tradeStatus(trade_id) == SETTLED
    assert (series.balanceOf(seller), series.balanceOf(buyer)) == (60, 40)
    assert series.getFrozenTokens(seller) == 0
    assert (cash.balanceOf(seller), cash.balanceOf(buyer)) == (400_000, 0)
    settled = next(iter(receipt.events.filter(settlement.TradeSettled)))
    block_time = chain.provider.get_block(receipt.block_number).timestamp
    assert (settled.tradeId, settled.series, settled.buyer, settled.seller) == (
        trade_id,
        series.address,
        buyer.address,
        seller.address,
    )
    assert (settled.units, settled.paymentToken, settled.price, settled.mode, settled.settledAt) == (
        40,
        cash.address,
        400_000,
        0,
        block_time,
    )
    # The bond leg went through the token's ordinary transfer (a Transfer from the seller to the buyer).
    transfers = [(log["from"], log.to, log.value) for log in receipt.events.filter(series.Transfer)]
    assert transfers == [(seller.address, buyer.address, 40)]
    # Nothing stays with the settlement contract.
    assert series.balanceOf(settlement) == 0 and cash.balanceOf(settlement) == 0
    # Settled once only.
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=SETTLED):
        settlement.settle(trade, sender=broker)


def test_a_party_submitting_itself_needs_no_signature(settlement, series, make_trade, sign, seller, buyer):
    trade = make_trade(series)
    settlement.agree(trade, b"", sign(buyer, trade), sender=seller)
    assert settlement.tradeStatus(settlement.tradeId(trade)) == LOCKED


def test_missing_or_wrong_signatures_are_refused(settlement, series, make_trade, sign, seller, buyer, broker):
    trade = make_trade(series)
    trade_id = settlement.tradeId(trade)
    with ape.reverts(settlement.InvalidSignature, tradeId=trade_id, signer=seller.address):
        settlement.agree(trade, b"", sign(buyer, trade), sender=broker)
    # The buyer's signature does not stand for the seller's.
    with ape.reverts(settlement.InvalidSignature, tradeId=trade_id, signer=seller.address):
        settlement.agree(trade, sign(buyer, trade), sign(buyer, trade), sender=broker)
    # A signature of other terms (one more unit) does not sign these.
    other = dict(trade, units=41)
    with ape.reverts(settlement.InvalidSignature, tradeId=trade_id, signer=buyer.address):
        settlement.agree(trade, sign(seller, trade), sign(buyer, other), sender=broker)
    assert series.getFrozenTokens(seller) == 0


def test_a_replayed_agreement_is_refused(settlement, series, make_trade, agree, fund_buyer, seller, broker):
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=LOCKED):
        agree(trade)
    fund_buyer(400_000)
    settlement.settle(trade, sender=broker)
    # After settlement the same signatures cannot start the trade again.
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=SETTLED):
        agree(trade)
    assert series.getFrozenTokens(seller) == 0
    # A new trade needs a new nonce (and new signatures).
    agree(dict(trade, nonce=2))
    assert series.getFrozenTokens(seller) == 40


def test_signatures_for_another_settlement_contract_are_refused(
    project, settlement, series, make_trade, sign, deployer, broker, seller, buyer
):
    other = deployer.deploy(project.TradeSettlement)
    trade = make_trade(series)
    # Signed for `settlement`: the domain names the verifying contract, so `other` sees another digest.
    with ape.reverts(other.InvalidSignature, tradeId=other.tradeId(trade), signer=seller.address):
        other.agree(trade, sign(seller, trade), sign(buyer, trade), sender=broker)
    assert other.tradeId(trade) != settlement.tradeId(trade)


def test_a_contract_wallet_signs_through_erc1271(
    project, settlement, series, make_trade, sign, onboard, minter, buyer, broker, accounts, fund_buyer, cash
):
    owner = accounts[15]
    wallet = owner.deploy(project.MockContractWallet, owner)
    onboard(wallet)
    series.mint(wallet, 50, sender=minter)
    wallet.execute(series, series.approve.encode_input(settlement, 50), sender=owner)
    trade = make_trade(series, seller=wallet.address)
    # The wallet's signature is its owner's signature of the trade id.
    settlement.agree(trade, sign(owner, trade), sign(buyer, trade), sender=broker)
    assert series.getFrozenTokens(wallet) == 40
    fund_buyer(400_000)
    settlement.settle(trade, sender=broker)
    assert (series.balanceOf(wallet), cash.balanceOf(wallet)) == (10, 400_000)
    # A signature by someone else is refused by the wallet.
    other = dict(trade, nonce=9)
    with ape.reverts(settlement.InvalidSignature):
        settlement.agree(other, sign(buyer, other), sign(buyer, other), sender=broker)


def test_invalid_terms_are_refused(settlement, series, make_trade, agree, seller, buyer):
    for reason, overrides in (
        (1, {"units": 0}),
        (2, {"buyer": seller.address}),
        (3, {"mode": 3}),
        (4, {"paymentToken": "0x" + "00" * 20}),
        (4, {"price": 0}),
        (5, {"mode": 2}),
    ):
        trade = make_trade(series, **overrides)
        with ape.reverts(settlement.InvalidTrade, reason=reason):
            agree(trade)


def test_cannot_lock_more_than_the_sellers_free_units(settlement, series, make_trade, agree, seller):
    agree(make_trade(series, units=70))
    with reverts_with("InvalidFreezeAmount", wallet=seller.address, amount=40, limit=30):
        agree(make_trade(series, nonce=2))


@pytest.mark.parametrize("by", ["seller", "buyer"])
def test_either_side_cancels_before_settlement(
    settlement, series, make_trade, agree, fund_buyer, seller, buyer, broker, by
):
    party = {"seller": seller, "buyer": buyer}[by]
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    receipt = settlement.cancel(trade, sender=party)
    event = next(iter(receipt.events.filter(settlement.TradeCancelled)))
    assert (event.tradeId, event.by, event.unitsUnlocked) == (trade_id, party.address, 40)
    assert settlement.tradeStatus(trade_id) == CANCELLED
    assert series.getFrozenTokens(seller) == 0
    fund_buyer(400_000)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=CANCELLED):
        settlement.settle(trade, sender=broker)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=CANCELLED):
        agree(trade)


def test_cancelling_signed_terms_before_agreement_burns_them(settlement, series, make_trade, agree, buyer, seller):
    trade = make_trade(series)
    trade_id = settlement.tradeId(trade)
    settlement.cancel(trade, sender=buyer)
    assert settlement.tradeStatus(trade_id) == CANCELLED
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=CANCELLED):
        agree(trade)
    assert series.getFrozenTokens(seller) == 0


def test_only_a_party_cancels(settlement, series, make_trade, agree, broker):
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    with ape.reverts(settlement.NotAllowed, tradeId=trade_id, caller=broker.address):
        settlement.cancel(trade, sender=broker)


def test_an_expired_trade_cannot_settle_and_releases_everything(
    settlement, series, make_trade, agree, fund_buyer, cash, seller, buyer, broker, travel
):
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    fund_buyer(400_000)
    with ape.reverts(settlement.TradeNotExpired, tradeId=trade_id, expiry=trade["expiry"]):
        settlement.release(trade, sender=broker)
    travel(trade["expiry"] + 1)
    with ape.reverts(settlement.TradeExpired, tradeId=trade_id, expiry=trade["expiry"]):
        settlement.settle(trade, sender=broker)
    receipt = settlement.release(trade, sender=broker)  # anyone
    event = next(iter(receipt.events.filter(settlement.TradeReleased)))
    assert (event.tradeId, event.seller, event.unitsUnlocked) == (trade_id, seller.address, 40)
    assert settlement.tradeStatus(trade_id) == RELEASED
    assert series.getFrozenTokens(seller) == 0
    assert (series.balanceOf(seller), cash.balanceOf(buyer)) == (100, 400_000)
    # The seller's units are free again.
    series.transfer(buyer, 100, sender=seller)
    with ape.reverts(settlement.TradeNotOpen, tradeId=trade_id, status=RELEASED):
        settlement.release(trade, sender=broker)


def test_an_expired_trade_cannot_be_agreed(settlement, series, make_trade, agree, chain):
    trade = make_trade(series, expiry=chain.pending_timestamp - 1)
    with ape.reverts(settlement.TradeExpired):
        agree(trade)


def test_settles_at_the_expiry_second(settlement, series, make_trade, agree, fund_buyer, broker, travel):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    travel(trade["expiry"] - 1)  # the settle transaction's block is at `expiry`
    settlement.settle(trade, sender=broker)


# ------------------------------------------------------------------------------------------- compliance at settlement


def test_a_buyer_unverified_before_settlement_blocks_it(
    settlement, series, make_trade, agree, fund_buyer, registry, registrar, seller, buyer, broker, cash
):
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    fund_buyer(400_000)
    registry.removeInvestor(buyer, sender=registrar)
    with ape.reverts(series.TransferRestricted, code=C_RECEIVER_UNVERIFIED, to=buyer.address):
        settlement.settle(trade, sender=broker)
    # Nothing moved, the lock holds, the trade can still be cancelled.
    assert (series.balanceOf(buyer), cash.balanceOf(buyer), series.getFrozenTokens(seller)) == (0, 400_000, 40)
    assert settlement.tradeStatus(trade_id) == LOCKED
    settlement.cancel(trade, sender=seller)
    assert series.getFrozenTokens(seller) == 0


def test_a_buyer_frozen_before_settlement_blocks_it(
    settlement, series, make_trade, agree, fund_buyer, freezer, buyer, broker
):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    series.setAddressFrozen(buyer, True, sender=freezer)
    with ape.reverts(series.TransferRestricted, code=C_RECEIVER_FROZEN):
        settlement.settle(trade, sender=broker)
    series.setAddressFrozen(buyer, False, sender=freezer)
    settlement.settle(trade, sender=broker)
    assert series.balanceOf(buyer) == 40


def test_a_frozen_seller_cannot_deliver(settlement, series, make_trade, agree, fund_buyer, freezer, seller, broker):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    series.setAddressFrozen(seller, True, sender=freezer)
    with ape.reverts(series.TransferRestricted, code=C_SENDER_FROZEN):
        settlement.settle(trade, sender=broker)


def test_a_paused_series_does_not_settle(settlement, series, make_trade, agree, fund_buyer, freezer, broker, buyer):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    series.pause(sender=freezer)
    with ape.reverts(series.TransferRestricted, code=C_PAUSED):
        settlement.settle(trade, sender=broker)
    series.unpause(sender=freezer)
    settlement.settle(trade, sender=broker)
    assert series.balanceOf(buyer) == 40


def test_a_cap_reached_by_the_buyer_blocks_settlement(
    settlement, deploy_series, serve, onboard, minter, make_trade, agree, fund_buyer, seller, buyer, broker
):
    series = serve(deploy_series(maxPerInvestor=50))
    onboard(seller)
    onboard(buyer)
    series.mint(seller, 50, sender=minter)
    series.mint(buyer, 20, sender=minter)
    series.approve(settlement, 50, sender=seller)
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    with ape.reverts(series.TransferRestricted, code=10, detail=50):
        settlement.settle(trade, sender=broker)


def test_an_agents_unfreeze_of_the_lock_makes_settlement_fail_not_overdeliver(
    settlement, series, make_trade, agree, fund_buyer, freezer, seller, broker
):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    series.unfreezePartialTokens(seller, 40, sender=freezer)
    with reverts_with("InvalidFreezeAmount", wallet=seller.address, amount=40, limit=0):
        settlement.settle(trade, sender=broker)
    # Cancelling unlocks what is still frozen of the trade (nothing) and does not fail.
    receipt = settlement.cancel(trade, sender=seller)
    assert next(iter(receipt.events.filter(settlement.TradeCancelled))).unitsUnlocked == 0


def test_the_seller_revoking_its_bond_allowance_blocks_settlement(
    settlement, series, make_trade, agree, fund_buyer, seller, broker
):
    trade = make_trade(series)
    agree(trade)
    fund_buyer(400_000)
    series.approve(settlement, 0, sender=seller)
    with reverts_with("ERC20InsufficientAllowance"):
        settlement.settle(trade, sender=broker)


# ------------------------------------------------------------------------------------------- the cash leg


def test_a_buyer_without_cash_or_allowance_cannot_settle(
    settlement, series, make_trade, agree, cash, buyer, broker, seller
):
    trade = make_trade(series)
    agree(trade)
    cash.mint(buyer, 400_000, sender=buyer)
    with ape.reverts(cash.ERC20InsufficientAllowance):
        settlement.settle(trade, sender=broker)
    cash.approve(settlement, 400_000, sender=buyer)
    cash.transfer(seller, 1, sender=buyer)
    with ape.reverts(cash.ERC20InsufficientBalance):
        settlement.settle(trade, sender=broker)
    assert series.balanceOf(buyer) == 0


@pytest.fixture
def hostile_trade(settlement, series, make_trade, agree, hostile_cash, buyer):
    trade = make_trade(series, paymentToken=hostile_cash.address)
    agree(trade)
    hostile_cash.mint(buyer, 400_000, sender=buyer)
    hostile_cash.approve(settlement, 400_000, sender=buyer)
    return trade


def test_a_fee_on_transfer_payment_token_is_refused(settlement, series, hostile_trade, hostile_cash, broker, buyer):
    hostile_cash.setFeePpm(1_000, sender=buyer)  # 0.1 %
    with ape.reverts(
        settlement.PaymentAmountMismatch, paymentToken=hostile_cash.address, expected=400_000, received=399_600
    ):
        settlement.settle(hostile_trade, sender=broker)
    assert series.balanceOf(buyer) == 0


def test_a_payment_token_blocking_the_seller_fails_the_whole_settlement(
    settlement, series, hostile_trade, hostile_cash, broker, buyer, seller
):
    hostile_cash.setBlocked(seller, True, sender=buyer)
    with ape.reverts(hostile_cash.Blocked, account=seller.address):
        settlement.settle(hostile_trade, sender=broker)
    hostile_cash.setBlocked(seller, False, sender=buyer)
    hostile_cash.setPaused(True, sender=buyer)
    with ape.reverts(hostile_cash.TokenPaused):
        settlement.settle(hostile_trade, sender=broker)
    assert series.balanceOf(buyer) == 0 and series.getFrozenTokens(seller) == 40
    hostile_cash.setPaused(False, sender=buyer)
    settlement.settle(hostile_trade, sender=broker)
    assert (series.balanceOf(buyer), hostile_cash.balanceOf(seller)) == (40, 400_000)


def test_a_payment_token_answering_false_fails_the_settlement(
    settlement, series, hostile_trade, hostile_cash, broker, buyer, seller
):
    hostile_cash.setRefusedQuietly(seller, True, sender=buyer)  # transferFrom returns false, moves nothing
    with ape.reverts(settlement.SafeERC20FailedOperation, token=hostile_cash.address):
        settlement.settle(hostile_trade, sender=broker)
    assert series.balanceOf(buyer) == 0


def test_a_payment_token_without_return_data_settles(
    settlement, series, hostile_trade, hostile_cash, broker, buyer, seller
):
    hostile_cash.setNoReturnData(True, sender=buyer)
    settlement.settle(hostile_trade, sender=broker)
    assert (series.balanceOf(buyer), hostile_cash.balanceOf(seller)) == (40, 400_000)


# ------------------------------------------------------------------------------------------- approval and roles


def test_a_series_can_require_the_transfer_agents_approval(
    settlement, series, make_trade, agree, fund_buyer, transfer_agent, admin, broker, buyer, outsider
):
    with ape.reverts(settlement.MissingSeriesRole, series=series.address, caller=outsider.address, roles=3):
        settlement.setApprovalRequired(series, True, sender=outsider)
    receipt = settlement.setApprovalRequired(series, True, sender=admin)
    assert next(iter(receipt.events.filter(settlement.ApprovalRequirementSet))).required
    assert settlement.approvalRequired(series)
    trade = make_trade(series)
    trade_id = agree(trade).return_value
    fund_buyer(400_000)
    with ape.reverts(settlement.ApprovalRequired, tradeId=trade_id, series=series.address):
        settlement.settle(trade, sender=broker)
    with ape.reverts(settlement.MissingSeriesRole, caller=broker.address, roles=2):
        settlement.approveTrade(trade, sender=broker)
    settlement.approveTrade(trade, sender=transfer_agent)
    assert settlement.tradeStatus(trade_id) == APPROVED
    settlement.settle(trade, sender=broker)
    assert series.balanceOf(buyer) == 40


def test_the_transfer_agent_submitting_settlement_approves_it(
    settlement, series, make_trade, agree, fund_buyer, transfer_agent, buyer
):
    settlement.setApprovalRequired(series, True, sender=transfer_agent)
    trade = make_trade(series)
    agree(trade, by=transfer_agent)
    fund_buyer(400_000)
    settlement.settle(trade, sender=transfer_agent)
    assert series.balanceOf(buyer) == 40


def test_without_the_freezer_role_nothing_locks(
    settlement, deploy_series, onboard, minter, make_trade, agree, seller, buyer
):
    series = deploy_series()  # not served
    onboard(seller)
    onboard(buyer)
    series.mint(seller, 100, sender=minter)
    trade = make_trade(series)
    with reverts_with("MissingRole", account=settlement.address, roleMask=4):
        agree(trade)
    assert settlement.tradeStatus(settlement.tradeId(trade)) == NONE


def test_settlement_works_after_many_days(settlement, series, make_trade, agree, fund_buyer, broker, travel, chain):
    trade = make_trade(series, expiry=chain.pending_timestamp + 30 * DAY)
    agree(trade)
    travel(chain.pending_timestamp + 29 * DAY)
    fund_buyer(400_000)
    settlement.settle(trade, sender=broker)
    assert series.getFrozenTokens(trade["seller"]) == 0
