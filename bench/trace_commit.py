"""Where a subscription commitment's gas goes: call frames and storage accesses of one commit (developer tool).

`ape run trace_commit` sets up the subscription benchmark's offering on a fresh anvil (3 investors instead of
50; a commitment does not depend on it), sends a second investor's commitment (the book already holding cash,
as `subscription_commit` in bench/results.json) and prints the call tree (gas used per frame) and every
SLOAD/SSTORE with its cost from anvil's `debug_traceTransaction`. Used for the gas notes in
docs/settlement-subscription.md.
"""

from __future__ import annotations

from bench.trace_claim import print_frames, storage_costs


def main() -> None:
    from ape import accounts, chain, project

    from bench.gas_payments import Issuer
    from bench.gas_subscription import Offering

    wallets = accounts.test_accounts
    issuer = Issuer(project, wallets)
    offer = Offering(issuer, chain, wallets, offered=10, investors=3)
    offer.book.commit(20, sender=offer.wallets[0])
    receipt = offer.book.commit(21, sender=offer.wallets[1])
    names = {
        offer.book.address.lower(): "subscription book",
        offer.token.address.lower(): "series (proxy)",
        offer.cash.address.lower(): "payment token",
        issuer.registry.address.lower(): "investor registry",
    }
    request = chain.provider.make_request
    print(f"commit gasUsed {receipt.gas_used:,}\n")
    frames = request("debug_traceTransaction", [receipt.txn_hash, {"tracer": "callTracer"}])
    print_frames(frames, names)
    trace = request("debug_traceTransaction", [receipt.txn_hash, {"enableMemory": False, "disableStorage": True}])
    totals, accesses = storage_costs(trace["structLogs"])
    print("\ndepth kind          gas")
    for (depth, kind), gas in sorted(totals.items()):
        print(f"{depth:>5} {kind:<10} {gas:>7,}")
    print("\ndepth op     slot (low 8 bytes)  cost")
    for depth, op, slot, cost in accesses:
        print(f"{depth:>5} {op:<6} {slot:>18} {cost:>6,}")
