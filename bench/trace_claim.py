"""Where a coupon claim's gas goes: call frames and storage accesses of the bench claim (developer tool).

`ape run trace_claim` sets up the payment benchmark's series on a fresh anvil (5 pushed holders instead of
200; the claim itself does not depend on it), sends the same claim as `coupon_claim` and prints the call tree
(gas used per frame) and every SLOAD/SSTORE with its cost (2,100 = cold slot, 100 = warm) from anvil's
`debug_traceTransaction`, then the payment agent's own execution gas per Solidity source line (the runtime
source map comes from `source_lines.py`). Used to find and check the levers listed in docs/payments.md.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

STORAGE_OPS = ("SLOAD", "SSTORE")
CALL_OPS = ("CALL", "STATICCALL", "DELEGATECALL")


def print_frames(frame: dict[str, Any], names: dict[str, str], depth: int = 0) -> None:
    target = names.get(frame["to"].lower(), frame["to"])
    print(f"{'  ' * depth}{frame['type']:<12} {target:<44} {int(frame['gasUsed'], 16):>8,}")
    for child in frame.get("calls", []):
        print_frames(child, names, depth + 1)


def storage_costs(logs: list[dict[str, Any]]) -> tuple[Counter, list[tuple[int, str, str, int]]]:
    """Gas per (depth, kind) and the list of storage accesses (depth, op, slot suffix, cost)."""
    totals: Counter = Counter()
    accesses = []
    for step, following in pairwise(logs):
        op = step["op"]
        same_frame = following["depth"] == step["depth"]
        cost = step["gas"] - following["gas"] if same_frame else (0 if op in CALL_OPS else step["gasCost"])
        kind = op if op in STORAGE_OPS or op.startswith("LOG") else "execution"
        totals[(step["depth"], kind)] += cost
        if op in STORAGE_OPS:
            accesses.append((step["depth"], op, step["stack"][-1][-16:], cost))
    return totals, accesses


def main() -> None:
    from ape import accounts, chain, project

    from bench import gas_payments as bench

    wallets = accounts.test_accounts
    issuer = bench.Issuer(project, wallets)
    holders = bench.holder_addresses(5, "trace")
    claimer = wallets[5]
    issuer.register([claimer.address])
    series = bench.Series(issuer, chain, wallets, holders, redeem=True)
    for holder in holders:
        series.cash.mint(holder, 1, sender=series.deployer)
    series.token.mint(claimer, 100, sender=series.deployer)
    series.cash.mint(claimer, 1, sender=series.deployer)
    for period in (0, 1):
        series.fund(period)
        series.push(period, holders)
    receipt = series.agent.claim(1, sender=claimer)
    names = {
        series.token.address.lower(): "series (token + payment agent proxy)",
        series.cash.address.lower(): "payment token",
        issuer.registry.address.lower(): "investor registry",
    }
    request = chain.provider.make_request
    print(f"claim gasUsed {receipt.gas_used:,}\n")
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
    implementation = to_checksum_address(frames["calls"][0]["to"])
    print_agent_lines(chain.provider.get_code(implementation), trace["structLogs"])


def print_agent_lines(deployed_code: bytes, struct_logs: list[dict[str, Any]], top: int = 30) -> None:
    """The payment agent implementation's execution gas (depth 2) per source line, most expensive first."""
    from bench import source_lines as lines_module

    root = Path(__file__).resolve().parent.parent
    code, source_map, ids = lines_module.compile_runtime(root, "contracts/payments/PaymentAgent.sol", "PaymentAgent")
    if lines_module.without_metadata(code) != lines_module.without_metadata(bytes(deployed_code)):
        print("\n(agent source lines skipped: the compiled code differs from the deployed implementation)")
        return
    costs = lines_module.execution_by_line(struct_logs, 2, lines_module.pc_lines(root, code, source_map, ids))
    print(f"\nagent execution by source line ({sum(costs.values()):,} gas in all)")
    for (name, line), gas in costs.most_common(top):
        text = lines_module.source_text(root, name, line)[:90]
        print(f"{gas:>6,}  {Path(name).name}:{line:<5} {text}")
