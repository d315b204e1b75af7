"""Bulk reads (one eth_call of BatchCallReader's creation code per chunk, or batched JSON-RPC eth_calls) and the
lean sender against the example series on the test chain.

The bulk reader must return exactly what one Ape call per value returns, whatever the chunking and by either
path; a reverting call must fail the read naming which call it was and carry its revert data; the sender must
reuse one gas estimate per batch shape and refuse, before sending, what the contract would refuse.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
from ape.exceptions import ContractLogicError

from munibond.chain.bulk import BulkCallError, BulkReader, Call, Function, transfers
from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.lookup import investor_registry
from munibond.chain.refusals import describe
from munibond.chain.sending import Sender, TransactionFailed
from munibond.chain.servicing import candidate_holders
from tests.integration.example_series import deploy_example_series, onboard_and_issue


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    s, entry, _terms = deploy_example_series(project, chain, tmp_path_factory.mktemp("bulk"))
    token = onboard_and_issue(s, entry, b"bulk-test")
    agent = payment_agent(s.project, entry["payment_agent"])
    return s, entry, token, agent, investor_registry(s)


def _wallets(s, entry, token):
    wallets = candidate_holders(token, int(entry["block"]))
    # and two wallets that never held anything (reads of zero balances and empty records)
    return [*wallets, s.signers.address("investor_h"), s.signers.address("tax_office")]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 8, 9, 500])
def test_bulk_reads_equal_one_call_per_value_at_every_chunk_size(series, chunk_size):
    s, entry, token, agent, registry = series
    wallets = _wallets(s, entry, token)
    assert len(wallets) == 9
    reader = BulkReader(s.provider.web3, chunk_size=chunk_size)

    balances = reader.map(token, "balanceOf", [(w,) for w in wallets])
    assert balances == [int(token.balanceOf(w)) for w in wallets]
    assert any(balances) and not all(balances)
    assert reader.requests == math.ceil(len(wallets) / chunk_size)

    records = reader.map(registry, "investorRecord", [(w,) for w in wallets])
    for wallet, record in zip(wallets, records, strict=True):
        one = registry.investorRecord(wallet)
        assert record.identity == one.identity
        assert (record.country, record.region, record.category, record.taxClass, record.kycExpiry) == (
            int(one.country),
            int(one.region),
            int(one.category),
            int(one.taxClass),
            int(one.kycExpiry),
        )
        assert record.multiWallet is bool(one.multiWallet)

    flags = reader.map(agent, "isSettled", [(0, w) for w in wallets])
    assert flags == [bool(agent.isSettled(0, w)) for w in wallets]


def test_calls_to_several_contracts_in_one_read_come_back_in_order(series):
    s, entry, token, _agent, registry = series
    wallets = _wallets(s, entry, token)[:3]
    balance, verified = Function.of(token, "balanceOf"), Function.of(registry, "isVerified")
    calls = []
    for wallet in wallets:
        calls += [Call(str(token.address), balance, (wallet,)), Call(str(registry.address), verified, (wallet,))]
    values = BulkReader(s.provider.web3, chunk_size=4).read(calls)
    expected = []
    for wallet in wallets:
        expected += [int(token.balanceOf(wallet)), bool(registry.isVerified(wallet))]
    assert values == expected


def test_a_reverting_call_fails_the_read_naming_it_with_its_custom_error(series):
    s, entry, token, _agent, _registry = series
    wallets = _wallets(s, entry, token)
    never_a_record_time = 12345
    calls = [Call(str(token.address), Function.of(token, "balanceOf"), (w,)) for w in wallets]
    calls.insert(5, Call(str(token.address), Function.of(token, "balanceOfAt"), (wallets[0], never_a_record_time)))
    with pytest.raises(BulkCallError) as caught:
        BulkReader(s.provider.web3, chunk_size=4).read(calls)
    error = caught.value
    assert error.index == 5 and error.call is calls[5]
    assert "balanceOfAt" in str(error) and str(never_a_record_time) in str(error)
    assert "UnknownRecordTime" in str(error)
    assert error.data[:4] == Function({"name": "UnknownRecordTime", "inputs": [{"type": "uint256"}]}).selector
    assert "UnknownRecordTime" in (describe(error) or "")
    # the single call says the same through Ape
    with pytest.raises(ContractLogicError):
        token.balanceOfAt(wallets[0], never_a_record_time)


def test_transfer_logs_read_raw_equal_apes_decoded_events(series):
    s, entry, token, _agent, _registry = series
    start = int(entry["block"])
    head = s.chain.blocks.height
    ape_logs = [(str(log["from"]), str(log["to"]), int(log["value"])) for log in token.Transfer.range(start, head + 1)]
    assert ape_logs and list(transfers(s.provider.web3, str(token.address), start)) == ape_logs


def test_the_sender_estimates_once_per_batch_shape_and_refuses_before_sending(series):
    s, _entry, token, _agent, registry = series
    registrar = s.signers.account("registrar")
    fresh = [s.signers.address(alias) for alias in ("investor_h", "investor_i", "investor_j")]
    sender = Sender(registrar)
    nonce = registrar.nonce
    # updateInvestor of an unregistered wallet is refused by the registry: Ape's decoded error, nothing sent
    with pytest.raises(ContractLogicError):
        sender.send(registry, "updateInvestor", fresh[0], 392, 140007, 0, 1, 2**31)
    assert registrar.nonce == nonce

    minter = Sender(s.signers.account("agent"))
    holders = [s.signers.address(alias) for alias in ("investor_a", "investor_e", "investor_d", "investor_b")]
    before = [int(token.balanceOf(w)) for w in holders]
    for pair in (holders[:2], holders[2:4]):
        receipt = minter.send(token, "batchMint", pair, [1, 1], shape=len(pair))
        assert receipt.status == 1 and receipt.gas_used < receipt.gas_limit
    minter.send(token, "batchMint", holders[:1], [1], shape=1)
    assert minter.estimates == 2  # one per shape: batches of two, then one
    assert [int(token.balanceOf(w)) for w in holders] == [b + 1 + (i == 0) for i, b in enumerate(before)]


def test_a_gas_limit_too_low_fails_the_transaction_whole_and_says_so(series):
    s, entry, token, _agent, _registry = series
    holder = s.signers.address("investor_e")
    before = int(token.balanceOf(holder))
    starved = Sender(s.signers.account("agent"), margin_percent=50)
    with pytest.raises(TransactionFailed, match="batchMint") as caught:
        starved.send(token, "batchMint", [holder], [1])
    assert caught.value.receipt.failed
    assert starved.estimates == 2  # the out-of-gas transaction was estimated again and sent once more
    assert int(token.balanceOf(holder)) == before
    assert bond_token(s.project, entry["token"]).balanceOf(holder) == before


class RefusesCodeWithoutTarget:
    """A provider in front of the test node that refuses every eth_call without a `to` (as a node that does not
    run creation code in calls would), and counts the requests that reach it."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self.calls_without_target = 0

    def make_request(self, method: str, params: list[Any]) -> dict[str, Any]:
        if method == "eth_call" and "to" not in params[0]:
            self.calls_without_target += 1
            return {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "creation calls refused"}}
        return dict(self.provider.make_request(method, params))

    def make_batch_request(self, requests: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        return [self.make_request(method, params) for method, params in requests]


def test_one_call_per_chunk_and_the_batched_fallback_read_the_same(series):
    s, entry, token, agent, _registry = series
    wallets = _wallets(s, entry, token)
    direct = BulkReader(s.provider.web3, chunk_size=4)
    by_code = direct.map(token, "balanceOf", [(w,) for w in wallets])
    assert direct.by_creation_code and direct.requests == math.ceil(len(wallets) / 4)

    refusing = RefusesCodeWithoutTarget(s.provider.web3.provider)
    fallback = BulkReader(SimpleNamespace(provider=refusing), chunk_size=4)
    assert fallback.map(token, "balanceOf", [(w,) for w in wallets]) == by_code
    assert not fallback.by_creation_code and refusing.calls_without_target == 1  # tried once, then batches only
    assert fallback.map(agent, "isSettled", [(0, w) for w in wallets]) == [bool(agent.isSettled(0, w)) for w in wallets]
    assert refusing.calls_without_target == 1


def test_a_reverting_call_in_the_batched_fallback_is_named_too(series):
    s, entry, token, _agent, _registry = series
    wallets = _wallets(s, entry, token)
    calls = [Call(str(token.address), Function.of(token, "balanceOf"), (w,)) for w in wallets]
    calls.insert(2, Call(str(token.address), Function.of(token, "balanceOfAt"), (wallets[0], 12345)))
    fallback = BulkReader(SimpleNamespace(provider=RefusesCodeWithoutTarget(s.provider.web3.provider)), chunk_size=4)
    with pytest.raises(BulkCallError) as caught:
        fallback.read(calls)
    assert caught.value.index == 2 and "UnknownRecordTime" in str(caught.value)


def test_a_large_read_is_split_within_the_creation_limits_and_stays_one_request_per_chunk(series):
    s, entry, token, _agent, registry = series
    wallets = _wallets(s, entry, token) * 150  # 1,350 reads of each kind
    reader = BulkReader(s.provider.web3)
    records = reader.map(registry, "investorRecord", [(w,) for w in wallets])
    balances = reader.map(token, "balanceOf", [(w,) for w in wallets])
    assert reader.by_creation_code and reader.creation_code_accepted
    assert reader.requests == 2 * math.ceil(len(wallets) / reader.chunk_size)
    assert balances == [int(token.balanceOf(w)) for w in _wallets(s, entry, token)] * 150
    assert [r.identity for r in records[:9]] == [registry.investorRecord(w).identity for w in wallets[:9]]
    assert records[9:18] == records[:9]
