"""Property test: random sequences of balance operations never bypass identity, compliance or freeze checks.

Every operation is first executed as an eth_call (the same contract code); it is sent as a transaction only
when that call succeeds, so rejected operations cost no block. After every sent operation the invariants
are checked against the chain: sum of balances == totalSupply, frozen <= balance, every wallet whose
balance grew was verified, allowed and not frozen at that time, the per-investor cap and max holders hold,
and holderCount equals the number of investors (linked wallets counted once) with a non-zero holding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import JAPAN, KOBE, OSAKA

CAP = 60
MAX_HOLDERS = 3

OPS = st.one_of(
    st.tuples(st.just("transfer"), st.integers(0, 5), st.integers(0, 5), st.integers(0, 70)),
    st.tuples(st.just("mint"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 70)),
    st.tuples(st.just("burn"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 30)),
    st.tuples(st.just("forcedTransfer"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 40)),
    st.tuples(st.just("freezePartialTokens"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 20)),
    st.tuples(st.just("unfreezePartialTokens"), st.integers(0, 5), st.integers(0, 5), st.integers(1, 20)),
    st.tuples(st.just("setAddressFrozen"), st.integers(0, 5), st.integers(0, 5), st.integers(0, 1)),
    st.tuples(st.just("advance"), st.integers(0, 5), st.integers(0, 5), st.integers(100, 400)),
)


@contextmanager
def isolated(chain: Any) -> Iterator[None]:
    """Runs the block on a chain snapshot and restores it; unlike `chain.isolate()`, which swallows every
    exception raised inside it, a failed assertion still fails the test."""
    snapshot = chain.snapshot()
    try:
        yield
    finally:
        chain.restore(snapshot)


@pytest.fixture(scope="module")
def world(deploy_series, registry, registrar, chain, accounts, minter, transfer_agent, freezer):
    """Wallets: w0+w1 one linked investor, w2 Kobe, w3 Kobe (KYC expires), w4 Osaka, w5 unregistered."""
    wallets = [accounts[i] for i in range(14, 20)]
    now = chain.pending_timestamp
    token = deploy_series(maxHolders=MAX_HOLDERS, maxPerInvestor=CAP, regionCountries=[JAPAN], regions=[KOBE])
    far = 2**32 - 1
    registry.registerInvestor(wallets[0], wallets[0], JAPAN, KOBE, 0, 0, far, sender=registrar)
    registry.linkWallet(wallets[0], wallets[1], sender=registrar)
    registry.registerInvestor(wallets[2], wallets[2], JAPAN, KOBE, 0, 0, far, sender=registrar)
    registry.registerInvestor(wallets[3], wallets[3], JAPAN, KOBE, 0, 0, now + 600, sender=registrar)
    registry.registerInvestor(wallets[4], wallets[4], JAPAN, OSAKA, 0, 0, far, sender=registrar)
    roles = {"mint": minter, "burn": minter, "forcedTransfer": transfer_agent}
    return token, wallets, roles


def identity_of(wallets: list[Any], w: Any) -> str:
    return wallets[0].address if w in (wallets[0], wallets[1]) else w.address


def snapshot(token: Any, registry: Any, wallets: list[Any]) -> dict[str, Any]:
    return {
        "bal": [token.balanceOf(w) for w in wallets],
        "frozen": [token.getFrozenTokens(w) for w in wallets],
        "ok": [registry.isVerified(w) and not token.isFrozen(w) and w != wallets[4] for w in wallets],
        "holders": token.holderCount(),
    }


def would_succeed(chain: Any, contract: Any, method: str, args: tuple[Any, ...], sender: Any) -> bool:
    data = getattr(contract, method).encode_input(*args)
    try:
        chain.provider.web3.eth.call({"from": sender.address, "to": contract.address, "data": data})
    except Exception:
        return False
    return True


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=3, max_size=10))
def test_no_balance_path_bypasses_checks(world, registry, chain, freezer, ops):
    token, wallets, roles = world
    with isolated(chain):
        token.mint(wallets[2], 10, sender=roles["mint"])  # a funded holder so that transfers can succeed
        assert token.balanceOf(wallets[2]) == 10 and token.holderCount() == 1
        for op, i, j, amount in ops:
            before = snapshot(token, registry, wallets)
            if op == "advance":
                chain.mine(timestamp=chain.pending_timestamp + amount)
                continue
            if op == "transfer":
                method, args, sender = "transfer", (wallets[j], amount), wallets[i]
            elif op == "mint":
                method, args, sender = "mint", (wallets[j], amount), roles["mint"]
            elif op == "burn":
                method, args, sender = op, (wallets[i], amount), roles[op]
            elif op == "forcedTransfer":
                method, args, sender = op, (wallets[i], wallets[j], amount), roles[op]
            elif op == "setAddressFrozen":
                method, args, sender = op, (wallets[i], bool(amount)), freezer
            else:
                method, args, sender = op, (wallets[i], amount), freezer
            if not would_succeed(chain, token, method, args, sender):
                continue
            getattr(token, method)(*args, sender=sender)
            after = snapshot(token, registry, wallets)

            assert sum(after["bal"]) == token.totalSupply()
            assert all(f <= b for f, b in zip(after["frozen"], after["bal"], strict=True))
            for k in range(len(wallets)):
                if after["bal"][k] > before["bal"][k]:
                    assert before["ok"][k], f"{op} credited ineligible wallet {k}"
            totals: dict[str, int] = {}
            for k, w in enumerate(wallets):
                totals[identity_of(wallets, w)] = totals.get(identity_of(wallets, w), 0) + after["bal"][k]
            before_totals: dict[str, int] = {}
            for k, w in enumerate(wallets):
                key = identity_of(wallets, w)
                before_totals[key] = before_totals.get(key, 0) + before["bal"][k]
            for key, total in totals.items():
                if total > before_totals[key]:
                    assert total <= CAP, f"{op} pushed investor over the cap"
            assert after["holders"] == sum(1 for t in totals.values() if t > 0)
            if after["holders"] > before["holders"]:
                assert after["holders"] <= MAX_HOLDERS


MERGE_OPS = st.one_of(
    st.tuples(st.just("mint"), st.integers(0, 4), st.integers(0, 4), st.integers(1, 40)),
    st.tuples(st.just("transfer"), st.integers(0, 4), st.integers(0, 4), st.integers(1, 40)),
    st.tuples(st.just("merge"), st.integers(0, 4), st.integers(0, 4), st.just(0)),
)


@pytest.fixture(scope="module")
def merge_world(deploy_series, registry, registrar, accounts, admin):
    """Five single-wallet investors (fresh funded accounts) in a series with a cap and a holder limit."""
    wallets = [accounts.generate_test_account() for _ in range(5)]
    token = deploy_series(maxHolders=MAX_HOLDERS, maxPerInvestor=CAP, isin="JP2100019999")
    for w in wallets:
        admin.transfer(w, 10**18)
        registry.registerInvestor(w, w, JAPAN, KOBE, 0, 0, 2**32 - 1, sender=registrar)
    return token, wallets


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(MERGE_OPS, min_size=3, max_size=12))
def test_merges_keep_cap_and_holder_count_exact(merge_world, registry, registrar, minter, chain, ops):
    """Wallets holding units join other investors (registry merges) between balance changes: the series folds
    lazily, yet no investor's units ever exceed the cap or the holder limit, views always show the investor's
    whole holding, and once folded (syncInvestor) the holder count is the number of investors holding units."""
    token, wallets = merge_world
    with isolated(chain):
        for w in wallets[:3]:
            token.mint(w, 20, sender=minter)
        for op, i, j, amount in ops:
            identities = [str(registry.identity(w)) for w in wallets]
            if op == "merge":
                # a wallet that is its investor's only one joins the investor of wallet 0 or 1 (with whatever
                # units it holds), so that investors grow over several merges
                target = identities[j % 2]
                if identities[i] == target or registry.investorRecord(wallets[i]).multiWallet:
                    continue
                registry.updateIdentity(wallets[i], target, sender=registrar)
            else:
                method, args, sender = (
                    ("mint", (wallets[j], amount), minter)
                    if op == "mint"
                    else ("transfer", (wallets[j], amount), wallets[i])
                )
                before = holdings(token, registry, wallets)
                if not would_succeed(chain, token, method, args, sender):
                    continue
                getattr(token, method)(*args, sender=sender)
                after = holdings(token, registry, wallets)
                for investor, total in after.items():
                    if total > before.get(investor, 0):
                        assert total <= CAP, f"{op} pushed {investor} over the cap"
                if len(positive(after)) > len(positive(before)):
                    assert len(positive(after)) <= MAX_HOLDERS
            totals = holdings(token, registry, wallets)
            assert token.holderCount() >= len(positive(totals))  # pending folds only ever over-count
            for w in wallets:
                if registry.investorRecord(w).multiWallet:
                    state = token.accountState(w)
                    assert state.aggregationIdentity == str(registry.identity(w))
                    assert state.aggregateBalance == totals[str(registry.identity(w))]
        for w in wallets:
            token.syncInvestor(w, sender=minter)
        assert token.holderCount() == len(positive(holdings(token, registry, wallets)))


def holdings(token: Any, registry: Any, wallets: list[Any]) -> dict[str, int]:
    """Units per investor identity (the registry's grouping)."""
    totals: dict[str, int] = {}
    for w in wallets:
        key = str(registry.identity(w))
        totals[key] = totals.get(key, 0) + int(token.balanceOf(w))
    return totals


def positive(totals: dict[str, int]) -> list[str]:
    return [k for k, v in totals.items() if v > 0]
