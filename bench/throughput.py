"""Throughput of the operator path: the `munibond` library driving a whole first coupon for many holders.

On a local anvil without step tracing (`gas_payments.lean_anvil`), through exactly what the commands run
(`connect`, `workflows.deploy`, `workflows.load_investors` + `workflows.import_investors` from a generated
investors CSV, `workflows.load_allocations` + `workflows.issue_allocations`, `workflows.register` (`holders`),
`workflows.preview_pay` (`coupon pay --dry-run`), `funding.check_payer_funds` + `workflows.pay` (`coupon pay`)),
for HOLDERS resident individuals of the example bond (its holder cap and issue size raised to fit). Each stage
records wall-clock seconds (this machine, written beside the figures), transactions, gas and the rate per second;
`throughput` keeps the median of the repetitions per stage; `capacity` derives from measured gas how many of each
operation fit in one 30M-gas block. Measured and committed, never asserted by tests. Run with
`ape run bench_throughput` (part of `make bench`); `MUNIBOND_BENCH_REPEATS` sets the repetitions (default 5 at
1,000 holders, 3 at 10,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.gas_payments import holder_addresses, lean_anvil

RESULTS = Path(__file__).with_name("results.json")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SIZES = (1_000, 10_000)
REPEATS = {1_000: 5, 10_000: 3}
STAGES = ("deploy", "import", "issue", "register", "preview", "coupon_pay")
# results.json `throughput` keys: (key, holders, stage)
KEYS = (
    ("coupon_run_1000_s", 1_000, "coupon_pay"),
    ("coupon_run_10000_s", 10_000, "coupon_pay"),
    ("import_10000_s", 10_000, "import"),
    ("issue_10000_s", 10_000, "issue"),
    ("register_10000_s", 10_000, "register"),
    ("preview_10000_s", 10_000, "preview"),
)
UNITS_EACH = 2
IMPORT_BATCH = 50  # the defaults of `investors import` and `coupon pay`
PAY_BATCH = 100
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


def _term_sheet(raw: dict[str, Any], holders: int) -> dict[str, Any]:
    """The example bond with room for `holders` holders of UNITS_EACH units."""
    raw = dict(raw, compliance=dict(raw["compliance"], max_holders=max(holders, raw["compliance"]["max_holders"])))
    raw["issue_size"] = max(int(raw["issue_size"]), holders * UNITS_EACH * int(raw["denomination"]))
    return raw


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


def measure(uri: str, holders: int) -> dict[str, dict[str, float | int]]:
    """One run on a fresh chain: deploy, import, issue, register now, preview and pay the first coupon."""
    from munibond.chain import workflows
    from munibond.chain.deployment import payment_agent
    from munibond.chain.funding import check_payer_funds
    from munibond.chain.session import connect
    from munibond.demo import shift_dates, years_to_start_after

    wallets = holder_addresses(holders, "throughput")
    with tempfile.TemporaryDirectory() as tmp, connect(uri, manifest=Path(tmp) / "manifest.json") as session:
        folder = Path(tmp)
        web3 = session.chain.provider.web3
        raw = _term_sheet(yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text()), holders)
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

        def onboard() -> Any:
            rows = workflows.load_investors(investors, b"throughput", now=session.now())
            return workflows.import_investors(session, investors, rows, registrar="registrar", batch_size=IMPORT_BATCH)

        stages.run("import", holders, onboard)
        stages.run(
            "issue",
            holders,
            lambda: workflows.issue_allocations(
                session, "KNGW26", allocations, workflows.load_allocations(allocations), minter="agent"
            ),
        )
        lines, _ = stages.run("register", holders, lambda: workflows.register(session, "KNGW26", None))
        if len(lines) != holders:
            raise RuntimeError(f"the register lists {len(lines)} of {holders} holders")
        agent = payment_agent(session.project, entry["payment_agent"])
        treasury = session.signers.account("treasury")
        session.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**15, sender=treasury)
        web3.provider.make_request("evm_setNextBlockTimestamp", [int(agent.periodTerms(0).paymentTime)])
        web3.provider.make_request("evm_mine", [])
        preview = stages.run("preview", holders, lambda: workflows.preview_pay(session, "KNGW26", 1))
        if len(preview.pending) != holders:
            raise RuntimeError(f"the preview lists {len(preview.pending)} of {holders} holders")

        def pay() -> Any:
            check_payer_funds(session, "KNGW26", 1, "treasury")
            return workflows.pay(session, "KNGW26", 1, payer="treasury", batch_size=PAY_BATCH)

        run = stages.run("coupon_pay", holders, pay)
        if run.settled != holders or len(run.payments) != holders:
            raise RuntimeError(f"the push settled {run.settled} of {holders} holders")
    return stages.figures


def median_figures(runs: list[dict[str, dict[str, float | int]]]) -> dict[str, dict[str, float | int]]:
    """Per stage: the median seconds (and its rate) of the runs; transactions and gas of the first run."""
    result: dict[str, dict[str, float | int]] = {}
    for name in runs[0]:
        seconds = statistics.median(float(run[name]["seconds"]) for run in runs)
        result[name] = dict(runs[0][name], seconds=round(seconds, 2))
        result[name]["per_second"] = round(int(result[name]["items"]) / seconds, 1) if seconds else 0.0
        result[name]["runs"] = len(runs)
    return result


def repeats(holders: int) -> int:
    return int(os.environ.get("MUNIBOND_BENCH_REPEATS", REPEATS[holders]))


def capacity(gas: dict[str, int]) -> dict[str, int]:
    """Operations of each kind that fit in one 30M-gas block, from the measured gas per operation."""
    return {label: BLOCK_GAS // gas[key] for label, key, _ in CAPACITY if gas.get(key)}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {dt.date.today()}"


def render_markdown(results: dict[str, Any]) -> str:
    """The throughput section appended to bench/RESULTS.md."""
    throughput = results.get("throughput", {})
    by_size: dict[str, dict[str, dict[str, Any]]] = throughput.get("stages", {})
    lines = [
        "",
        "## Throughput",
        "",
        f"`ape run bench_throughput`: the `munibond` library on anvil, through the functions the commands call "
        f"({throughput.get('machine', '?')}), median of the runs shown. Seconds include every RPC read the",
        "commands make (holder discovery from events, balances at the record date, settled flags, registry",
        "records; read in batched JSON-RPC requests) and the CSV parsing of import and issue. The holders receive",
        "the payment token for the first time, so each push writes a new balance slot (~17k gas more than the",
        "gas table's push figure, measured for holders that already hold it). `make bench` takes the median of 5",
        "runs at 1,000 holders and 3 at 10,000 (`MUNIBOND_BENCH_REPEATS` overrides); the `runs` column says how many",
        "the committed figures are.",
        "",
        "| holders | stage | runs | seconds | items/s | transactions | gas |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, stages in sorted(by_size.items(), key=lambda item: int(item[0])):
        for name in (n for n in STAGES if n in stages):
            f = stages[name]
            lines.append(
                f"| {int(size):,} | {name} | {f.get('runs', 1)} | {f['seconds']} | {f['per_second']:,} "
                f"| {f['transactions']:,} | {f['gas']:,} |"
            )
    per_block = throughput.get("per_30m_gas_block", {})
    if per_block:
        lines += ["", "| per 30M-gas block | operations |", "|---|---:|"]
        lines += [f"| {label} | {count:,} |" for label, count in per_block.items()]
    return "\n".join(lines) + "\n"


def sizes() -> tuple[int, ...]:
    """`MUNIBOND_BENCH_SIZES` (comma-separated holder counts, e.g. `1000`), else SIZES."""
    named = os.environ.get("MUNIBOND_BENCH_SIZES")
    return tuple(int(n) for n in named.split(",")) if named else SIZES


def main() -> None:
    from bench import gas_foundation as foundation

    measured: dict[str, dict[str, dict[str, float | int]]] = {}
    for holders in sizes():
        runs = []
        for _ in range(repeats(holders)):
            with lean_anvil() as uri:
                runs.append(measure(uri, holders))
        measured[str(holders)] = median_figures(runs)
        for name, f in measured[str(holders)].items():
            print(
                f"{holders:>6,} {name:11s} {f['seconds']:>8}s {f['per_second']:>9,}/s {f['transactions']:>5} txs "
                f"(median of {f['runs']})"
            )
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous = results.get("throughput", {})
    stages = {size: figures for size, figures in previous.get("stages", {}).items() if size.isdigit()}
    stages.update(measured)
    throughput: dict[str, Any] = {
        "machine": machine(),
        "stages": stages,
        "per_30m_gas_block": capacity(results.get("gas", {})),
    }
    for key, holders, stage in KEYS:
        figures = stages.get(str(holders), {}).get(stage)
        if figures is not None:
            throughput[key] = figures["seconds"]
    results["throughput"] = throughput
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    foundation.RESULTS_MD.write_text(foundation.render_markdown(results))
