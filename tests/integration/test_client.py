"""munibond.client on plain web3.py against a series taken through a lifecycle by the Ape-based library: every
read, the pre-check, sending, decoded errors, the event follower and what it rebuilds agree with the contracts."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from munibond.client import (
    BondSeries,
    Cursor,
    EventFollower,
    SeriesError,
    TransferRefused,
    read_events,
    rebuild_payments,
    rebuild_register,
    transaction_method,
)
from tests.integration.client_lifecycle import SYMBOL, Lifecycle, run_lifecycle

ZERO = "0x" + "00" * 20


@pytest.fixture(scope="module")
def lifecycle(project, chain, accounts, registry, factory, tmp_path_factory) -> Lifecycle:
    return run_lifecycle(project, chain, accounts, registry, factory, tmp_path_factory.mktemp("client"))


@pytest.fixture(scope="module")
def w3(lifecycle: Lifecycle) -> Web3:
    return Web3(HTTPProvider(lifecycle.uri))


@pytest.fixture(scope="module")
def series(w3: Web3, lifecycle: Lifecycle) -> BondSeries:
    return BondSeries.from_manifest(w3, lifecycle.manifest, SYMBOL)


def holders(lc: Lifecycle) -> list[str]:
    return [lc.wallets[name] for name in "abcde"]


def test_the_manifest_opens_the_series_at_its_deployment(series, lifecycle, w3):
    assert series.address == lifecycle.token.address
    assert series.start_block == lifecycle.start_block
    assert BondSeries.at(w3, lifecycle.token.address.lower()).address == series.address
    with pytest.raises(KeyError, match="KOBE27"):
        BondSeries.from_manifest(w3, lifecycle.manifest, "NOPE")


def test_terms_match_the_token(series, lifecycle):
    token = lifecycle.token
    terms = series.terms()
    on_chain = token.bondTerms()
    assert (terms.name, terms.symbol, terms.decimals) == (token.name(), token.symbol(), token.decimals())
    assert terms.isin == on_chain.isin == "JP2100010027"
    assert terms.currency == on_chain.currency == lifecycle.cash.address
    assert (terms.denomination, terms.issue_volume, terms.coupon_rate_scaled, terms.coupon_frequency) == (
        on_chain.denomination,
        on_chain.issueVolume,
        on_chain.couponRate,
        on_chain.couponFrequency,
    )
    assert (terms.issue_date, terms.maturity_date) == (on_chain.issueDate, on_chain.maturityDate)
    assert terms.coupon_rate == Fraction(on_chain.couponRate, token.COUPON_RATE_SCALE())
    assert (terms.coupon_type_name, terms.day_count_name) == ("fixed", "ACT/365F")


def test_schedule_matches_the_payment_code(series, lifecycle):
    agent = lifecycle.agent
    schedule = series.schedule()
    assert len(schedule) == agent.periodCount() == 3
    for period in schedule:
        t, s = agent.periodTerms(period.index), agent.periodState(period.index)
        assert (period.record_time, period.payment_time) == (t.recordTime, t.paymentTime)
        assert period.coupon_per_unit * t.couponDen == t.couponNum
        assert period.principal_per_unit * t.principalDen == t.principalNum
        assert period.redeem * t.redeemDen == t.redeemNum
        assert (period.cancelled, period.defaulted, period.closed, period.funded) == (
            s.cancelled,
            s.defaulted,
            s.closed,
            s.funded,
        )
        assert period.required == (s.required if s.requiredKnown else None)
    call = schedule[lifecycle.call_period]
    assert call.retires_units and call.redeem * 4 == 1 and call.required is not None
    assert not schedule[1].cancelled and schedule[1].required is None


def test_documents_and_status_match(series, lifecycle):
    token, agent = lifecycle.token, lifecycle.agent
    (doc,) = series.documents()
    uri, content_hash, modified = token.getDocument(b"prospectus".ljust(32, b"\x00"))
    assert (doc.name, doc.uri, doc.content_hash, doc.modified) == ("prospectus", uri, bytes(content_hash), modified)
    status = series.status()
    assert status.paused == token.paused() is False
    assert status.total_supply == token.totalSupply()
    assert status.holder_count == token.holderCount() == 5
    assert status.open_defaults == agent.openDefaults() == 0
    assert list(status.record_times) == list(token.recordTimes())
    assert status.payment_token == lifecycle.cash.address
    assert status.committed_funds == agent.committedFunds()


def test_entitlements_match_the_payment_code(series, lifecycle):
    agent, token = lifecycle.agent, lifecycle.token
    for period in (0, lifecycle.call_period):
        record_time = agent.periodTerms(period).recordTime
        for holder in holders(lifecycle):
            got = series.entitlement(holder, period)
            assert (got.coupon_gross, got.principal_gross, got.units_redeemed) == tuple(
                agent.entitlement(period, holder)
            )
            assert got.units_at_record == token.balanceOfAt(holder, record_time)
            assert got.settled == agent.isSettled(period, holder)
            assert got.escrowed == agent.escrowOf(period, holder)
    unpaid = series.entitlement(lifecycle.wallets["c"], lifecycle.call_period)
    assert not unpaid.settled and unpaid.units_redeemed == 25 and unpaid.principal_gross == 250_000


def test_holder_reads_match_the_token_and_the_registry(series, lifecycle, registry):
    token = lifecycle.token
    for wallet in [*holders(lifecycle), lifecycle.wallets["outsider"]]:
        info = series.holder(wallet)
        record = registry.investorRecord(wallet)
        assert info.balance == token.balanceOf(wallet)
        assert info.pending_retirement == token.pendingRetirement(wallet)
        assert (info.frozen, info.frozen_units) == (token.isFrozen(wallet), token.getFrozenTokens(wallet))
        assert info.verified == registry.isVerified(wallet)
        assert (info.identity, info.country, info.region, info.tax_class) == (
            record.identity,
            record.country,
            record.region,
            record.taxClass,
        )
    d = series.holder(lifecycle.wallets["d"])
    assert d.pending_retirement == 150 // 4 and d.free_units == d.balance - 150 // 4 and d.tax_class == 3
    assert not series.holder(lifecycle.wallets["outsider"]).verified


def test_can_transfer_agrees_with_the_token(series, lifecycle, accounts):
    token = lifecycle.token
    parties = [*holders(lifecycle), lifecycle.wallets["outsider"], ZERO]
    checked = set()
    for sender in parties:
        for receiver in parties:
            for units in (1, 7, 10**6):
                check = series.can_transfer(sender, receiver, units)
                code = token.detectTransferRestriction(sender, receiver, units)
                assert check.code == code
                assert check.reason == token.messageForTransferRestriction(code)
                assert check.allowed == (code == 0)
                checked.add(code)
    assert {0, 4, 6, 15} <= checked


def test_transfer_signs_locally_and_prechecks(series, lifecycle, w3):
    token = lifecycle.token
    a, e, outsider = lifecycle.wallets["a"], lifecycle.wallets["e"], lifecycle.wallets["outsider"]
    signer = Account.from_key(lifecycle.keys["a"])
    before = token.balanceOf(a), token.balanceOf(e)
    receipt = series.transfer(signer, e, 3)
    assert receipt["status"] == 1
    assert (token.balanceOf(a), token.balanceOf(e)) == (before[0] - 3, before[1] + 3)

    nonce = w3.eth.get_transaction_count(a)
    with pytest.raises(TransferRefused) as refused:
        series.transfer(signer, outsider, 1)
    assert refused.value.code == 6 and refused.value.name == "TransferRestricted"
    assert refused.value.detail == token.messageForTransferRestriction(6)
    assert w3.eth.get_transaction_count(a) == nonce  # nothing sent


def test_transfer_from_an_unlocked_node_account(series, lifecycle, w3):
    token = lifecycle.token
    b, a = lifecycle.wallets["b"], lifecycle.wallets["a"]
    w3.provider.make_request("anvil_impersonateAccount", [b])
    try:
        before = token.balanceOf(b), token.balanceOf(a)
        series.transfer(b, a, 4)
        assert (token.balanceOf(b), token.balanceOf(a)) == (before[0] - 4, before[1] + 4)
    finally:
        w3.provider.make_request("anvil_stopImpersonatingAccount", [b])


def test_a_refused_call_raises_the_decoded_error(series, lifecycle):
    outsider = lifecycle.wallets["outsider"]
    signer = Account.create()
    with pytest.raises(SeriesError) as refused:
        series.send(signer, "pushPayments", 0, [outsider])
    assert refused.value.name == "MissingRole"
    assert refused.value.args_by_name == {"account": signer.address, "roleMask": 64}
    assert "lacks the role payer" in str(refused.value)
    with pytest.raises(SeriesError) as unknown:
        series.call("periodTerms", 99)
    assert unknown.value.name == "UnknownPeriod" and unknown.value.args_by_name == {"period": 99, "count": 3}
    with pytest.raises(SeriesError) as early:
        series.balance_at(outsider, 12345)
    assert early.value.name == "UnknownRecordTime" and early.value.args_by_name == {"time": 12345}


def test_the_register_rebuilt_from_events_matches_the_token(w3, lifecycle):
    token = lifecycle.token
    register = rebuild_register(read_events(w3, lifecycle.token.address, from_block=lifecycle.start_block))
    assert set(register.wallets()) == set(holders(lifecycle))
    now = register.balances()
    for wallet in register.wallets():
        assert now.get(wallet, 0) == token.balanceOf(wallet)
        for record_time in lifecycle.record_times:
            assert register.balances_at(record_time).get(wallet, 0) == token.balanceOfAt(wallet, record_time)
    assert register.total() == token.totalSupply()
    c = lifecycle.wallets["c"]
    # c's retired units left its balance at the call's record time, though burned later
    assert register.balances_at(lifecycle.record_times[1])[c] == 100
    assert now[c] == 100 - 25 - 5


def test_the_payment_history_rebuilt_from_events_matches_the_contract(w3, lifecycle):
    agent = lifecycle.agent
    events = read_events(w3, lifecycle.token.address, from_block=lifecycle.start_block)
    history = rebuild_payments(events, method_of=transaction_method(w3))
    w = lifecycle.wallets
    for period in (0, lifecycle.call_period):
        for holder in holders(lifecycle):
            assert history.settled(period, holder) == agent.isSettled(period, holder)
            payment = history.payment(period, holder)
            if payment is not None:
                cg, pg, _ = agent.entitlement(period, holder)
                assert (payment.coupon_gross, payment.principal_gross) == (cg, pg)
        accounts = agent.accounts(period)
        totals = history.totals(period)
        assert totals.net == accounts.paidNet
        assert totals.tax == accounts.taxWithheld
        assert totals.escrowed == accounts.escrowed
        assert totals.offchain_gross == accounts.offchainGross
        assert totals.coupon_gross + totals.principal_gross - totals.offchain_gross == accounts.settledGross

    methods = {name: history.payment(0, w[name]).method for name in "abcde"}
    assert methods == {"a": "push", "b": "claim", "c": "escrow release", "d": "bank", "e": "push"}
    assert history.payment(0, w["d"]).reference is not None
    assert not history.settled(lifecycle.call_period, w["c"]) and not history.settled(lifecycle.call_period, w["d"])
    assert history.payment(lifecycle.call_period, w["a"]).units_redeemed == (300 - 50) // 4

    # tax components named by the class in force at each payment
    before, after = history.payment(0, w["a"]), history.payment(lifecycle.call_period, w["a"])
    assert before.tax_class == after.tax_class == 1
    assert [line.rate_ppm for line in before.taxes] == [153_150, 50_000]
    assert [line.rate_ppm for line in after.taxes] == [150_000, 40_000]
    for payment in (before, after, history.payment(0, w["b"])):
        assert [line.amount for line in payment.taxes] == [
            payment.coupon_gross * line.rate_ppm // 1_000_000 for line in payment.taxes
        ]
        assert payment.net == payment.coupon_gross + payment.principal_gross - payment.tax
    assert history.payment(0, w["b"]).tax_class == 2
    assert history.payment(0, w["c"]).taxes == ()


def test_the_follower_resumes_from_a_persisted_cursor_exactly_once(w3, lifecycle):
    address, start = lifecycle.token.address, lifecycle.start_block
    head = w3.eth.block_number
    everything = read_events(w3, address, from_block=start, to_block=head)
    assert [e.position for e in everything] == sorted(e.position for e in everything)
    assert len({e.position for e in everything}) == len(everything) > 30

    first = EventFollower(w3, address, cursor=start, page_blocks=3)
    taken = []
    for event in first.events(head):
        taken.append(event)
        if len(taken) == 17:
            break
    saved = json.dumps(first.cursor.to_json())
    resumed = EventFollower(w3, address, cursor=Cursor.from_json(json.loads(saved)), page_blocks=2)
    rest = list(resumed.events(head))
    assert taken + rest == everything
    assert resumed.cursor == Cursor(head + 1)
    assert list(resumed.events(head)) == []

    names = {e.name for e in everything}
    assert {"Transfer", "PaymentMade", "PaymentEscrowed", "EscrowReleased", "OffchainPaymentRecorded"} <= names
    assert {"TaxClassUpdated", "UnitsRetired", "CallScheduled", "DocumentUpdated"} <= names
    generic = next(e for e in everything if e.name == "CallScheduled")
    assert type(generic).__name__ == "ChainEvent" and generic.args["full"] is False


def test_units_retired_before_a_record_time_but_burned_after_it_do_not_count_at_it(w3, lifecycle, chain, accounts):
    token, agent = lifecycle.token, lifecycle.agent
    d = lifecycle.wallets["d"]
    assert token.pendingRetirement(d) == 150 // 4
    final_record = agent.periodTerms(1).recordTime
    chain.mine(timestamp=final_record + 10)
    receipt = agent.claim(lifecycle.call_period, sender=accounts[13])  # burns d's retired units now
    assert w3.eth.get_block(receipt.block_number)["timestamp"] > final_record

    register = rebuild_register(read_events(w3, token.address, from_block=lifecycle.start_block))
    assert register.balances_at(final_record)[d] == token.balanceOfAt(d, final_record) == 150 - 150 // 4
    for wallet in register.wallets():
        assert register.balances_at(final_record).get(wallet, 0) == token.balanceOfAt(wallet, final_record)
        assert register.balances().get(wallet, 0) == token.balanceOf(wallet)
    assert register.balances_at_block(receipt.block_number - 1)[d] == 150
