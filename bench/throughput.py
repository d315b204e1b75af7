"""Throughput of the operator path: the `munibond` library driving a whole first coupon for many holders.

On a local anvil without step tracing (`gas_payments.lean_anvil`), through exactly what the commands run
(`connect`, `workflows.deploy`, `workflows.import_investors` from a generated investors CSV,
`workflows.issue_allocations`, `workflows.pay`), for HOLDERS resident individuals of the example bond. Each
stage records wall-clock seconds (this machine, written beside the figures), transactions, gas and the rate
per second; `capacity` derives from measured gas how many of each operation fit in one 30M-gas block.
Measured and committed, never asserted by tests. Run with `ape run bench_throughput` (part of `make bench`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.gas_payments import holder_addresses, lean_anvil

RESULTS = Path(__file__).with_name("results.json")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
HOLDERS = 1_000  # the example bond's own cap on the number of holders
STAGES = ("deploy", "onboard", "issue", "coupon_pay")
UNITS_EACH = 10
BLOCK_GAS = 30_000_000
# Capacity per block from the gas figures of `make bench`: (label, gas key, operations per transaction).
CAPACITY = (
    ("coupon payments pushed", "coupon_push_per_holder", 1),
    ("redemptions (pay + burn)", "redeem_per_holder", 1),
    ("coupon claims", "coupon_claim", 1),
    ("transfers between holders", "transfer_existing", 1),
    ("investors onboarded (batches of 100)", "onboard_batch100_each", 1),
)


def _write_inputs(folder: Path, wallets: list[str]) -> tuple[Path, Path]:
    investors = folder / "investors.csv"
    rows = ["wallet,investor_id,country,region,category,tax_class,kyc_expiry,name_ref"]
    rows += [f"{w},BENCH-{i:05d},392,140007,individual,jp_individual,2099-12-31,R{i}" for i, w in enumerate(wallets)]
    investors.write_text("\n".join(rows) + "\n")
    allocations = folder / "allocations.csv"
    allocations.write_text("wallet,units\n" + "".join(f"{w},{UNITS_EACH}\n" for w in wallets))
    return investors, allocations


class Stages:
    """Times each stage and reads its transactions and gas from the blocks it mined (anvil: one per tx)."""

    def __init__(self, web3: Any) -> None:
        self.web3 = web3
        self.figures: dict[str, dict[str, float | int]] = {}

    def run(self, name: str, count: int, action: Callable[[], Any]) -> Any:
        first = self.web3.eth.block_number + 1
        start = time.perf_counter()
        result = action()
        seconds = time.perf_counter() - start
        blocks = [self.web3.eth.get_block(n) for n in range(first, self.web3.eth.block_number + 1)]
        self.figures[name] = {
            "items": count,
            "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1),
            "transactions": sum(len(b["transactions"]) for b in blocks),
            "gas": sum(int(b["gasUsed"]) for b in blocks),
        }
        return result


def measure(uri: str, holders: int = HOLDERS) -> dict[str, Any]:
    from munibond.chain import workflows
    from munibond.chain.deployment import payment_agent
    from munibond.chain.session import connect
    from munibond.demo import shift_dates, years_to_start_after

    wallets = holder_addresses(holders, "throughput")
    with tempfile.TemporaryDirectory() as tmp, connect(uri, manifest=Path(tmp) / "manifest.json") as session:
        folder = Path(tmp)
        web3 = session.chain.provider.web3
        raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
        terms = folder / "terms.yaml"
        terms.write_text(yaml.safe_dump(shift_dates(raw, years_to_start_after(raw["issue_date"], session.now()))))
        investors, allocations = _write_inputs(folder, wallets)
        stages = Stages(web3)

        (entry,) = stages.run(
            "deploy",
            1,
            lambda: workflows.deploy(
                session, [workflows.load_deployment_input(terms)], payment_token=None, test_payment_token=True
            ),
        )
        rows = workflows.load_investors(investors, b"throughput", now=session.now())
        stages.run(
            "onboard",
            holders,
            lambda: workflows.import_investors(session, investors, rows, registrar="registrar", batch_size=100),
        )
        plan = workflows.load_allocations(allocations)
        stages.run(
            "issue", holders, lambda: workflows.issue_allocations(session, "KNGW26", allocations, plan, minter="agent")
        )
        agent = payment_agent(session.project, entry["payment_agent"])
        treasury = session.signers.account("treasury")
        session.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**12, sender=treasury)
        web3.provider.make_request("evm_setNextBlockTimestamp", [int(agent.periodTerms(0).paymentTime)])
        web3.provider.make_request("evm_mine", [])
        run = stages.run(
            "coupon_pay", holders, lambda: workflows.pay(session, "KNGW26", 1, payer="treasury", batch_size=200)
        )
        if run.settled != holders:
            raise RuntimeError(f"the push settled {run.settled} of {holders} holders")
    return stages.figures


def capacity(gas: dict[str, int]) -> dict[str, int]:
    """Operations of each kind that fit in one 30M-gas block, from the measured gas per operation."""
    return {label: BLOCK_GAS // gas[key] for label, key, _ in CAPACITY if gas.get(key)}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {dt.date.today()}"


def render_markdown(results: dict[str, Any]) -> str:
    """The throughput section appended to bench/RESULTS.md."""
    stages: dict[str, dict[str, Any]] = results.get("throughput", {}).get("stages", {})
    lines = [
        "",
        "## Throughput",
        "",
        f"`ape run bench_throughput`: the `munibond` library on anvil, {HOLDERS:,} holders of the example bond "
        f"({results.get('throughput', {}).get('machine', '?')}). Seconds include every RPC read the commands",
        "make (holder discovery from events, balances at the record date, settled flags). The holders receive",
        "the payment token for the first time, so each push writes a new balance slot (~17k gas more than the",
        "gas table's push figure, measured for holders that already hold it).",
        "",
        "| stage | items | seconds | items/s | transactions | gas |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in (n for n in STAGES if n in stages):
        f = stages[name]
        lines.append(
            f"| {name} | {f['items']:,} | {f['seconds']} | {f['per_second']:,} | {f['transactions']:,} | {f['gas']:,} |"
        )
    per_block = results.get("throughput", {}).get("per_30m_gas_block", {})
    if per_block:
        lines += ["", "| per 30M-gas block | operations |", "|---|---:|"]
        lines += [f"| {label} | {count:,} |" for label, count in per_block.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import gas_foundation as foundation

    with lean_anvil() as uri:
        stages = measure(uri)
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["throughput"] = {
        "machine": machine(),
        "stages": stages,
        "per_30m_gas_block": capacity(results.get("gas", {})),
    }
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    foundation.RESULTS_MD.write_text(foundation.render_markdown(results))
    for name, f in stages.items():
        print(
            f"{name:12s} {f['items']:>6,} items {f['seconds']:>8}s {f['per_second']:>8,}/s {f['transactions']:>5} txs"
        )
