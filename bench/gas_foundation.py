"""Foundation gas benchmark: BondToken, InvestorRegistry and BondFactory against a plain OZ 5 ERC-20.

Deploys on the local anvil chain with the rules of a residents-only bond active (one allowed
(country, region) pair, a max holding per investor and a max number of holders), measures the
gas of each operation and merges the figures into bench/results.json (other benchmarks add their
own keys there; unknown keys are kept) and rewrites bench/RESULTS.md from the merged file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from munibond.chain.series import compliance_struct

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "RESULTS.md"

JAPAN = 392
KOBE = 281000
FAR_FUTURE = 2**32 - 1
ZERO = "0x" + "00" * 20

# Hard targets (gas) and the T-REX figures quoted in the issue, by key.
TARGETS: dict[str, tuple[int | None, int | None]] = {
    "transfer_existing": (52_000, 211_771),
    "transfer_new": (77_000, 228_871),
    "mint_new": (80_000, 223_711),
    "onboard_one": (60_000, 840_793),
    "onboard_batch100_each": (30_000, None),
    "deploy_series": (500_000, 3_772_820),
    # payment agent (bench/gas_payments.py, `ape run bench_payments`)
    "coupon_push_per_holder": (40_000, None),
    "coupon_claim": (70_000, None),
    "coupon_fund_10": (150_000, None),
    "coupon_fund_10000": (150_000, None),
}
# Which plain ERC-20 figure each key is compared with.
BASELINE_OF: dict[str, str] = {
    "transfer_new": "erc20_transfer_new",
    "mint_new": "erc20_mint_new",
    "mint_first_of_series": "erc20_mint_new",
}
DEPLOYABLES = [
    "InvestorRegistry",
    "BondToken",
    "BondTokenAdmin",
    "BondFactory",
    "PaymentAgent",
    "PaymentAgentAdmin",
    "BaselineERC20",
]


def _roles(admin: Any, agent: Any, payer: Any) -> dict[str, str]:
    return {
        "admin": admin.address,
        "agent": agent.address,
        "transferAgent": ZERO,
        "freezer": ZERO,
        "minter": ZERO,
        "documentManager": ZERO,
        "complianceManager": ZERO,
        "payer": payer.address,
    }


def series_params(roles: dict[str, str], isin: str, record_times: list[int]) -> dict[str, Any]:
    """Residents-only series: Kobe residents, max 1,000,000 units per investor, max 10,000 holders."""
    return {
        "name": "Kobe City Resident Bond 2026-1",
        "symbol": "KOBE26A",
        "decimals": 0,
        "terms": {
            "isin": isin,
            "currency": ZERO,
            "denomination": 10_000,
            "issueVolume": 1_000_000_000,
            "couponRate": 450_000,  # 0.45 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": 1_767_225_600,
            "maturityDate": 1_924_992_000,
            "dayCountBasis": 2,
        },
        "roles": roles,
        "compliance": compliance_struct(
            maxHolders=10_000, maxPerInvestor=1_000_000, regionCountries=[JAPAN], regions=[KOBE]
        ),
        "recordTimes": record_times,
        "paymentAgentParams": b"",
    }


def pack_record(identity: int, country: int, region: int, category: int, tax_class: int, kyc_expiry: int) -> int:
    """The InvestorRecord storage word (see InvestorRegistry)."""
    return identity | country << 160 | region << 176 | category << 200 | tax_class << 208 | kyc_expiry << 216


def runtime_size(contract_type: Any) -> int:
    code = contract_type.runtime_bytecode.bytecode if contract_type.runtime_bytecode else ""
    return (len(code) - 2) // 2 if code else 0


def measure(project: Any, accounts: Any, chain: Any) -> dict[str, dict[str, int]]:
    """Deploys everything and returns {"gas": {...}, "size": {...}}."""
    test_accounts = accounts.test_accounts
    admin, registrar, agent, payer = test_accounts[0:4]
    inv = test_accounts[4:10]
    gas: dict[str, int] = {}

    registry = admin.deploy(project.InvestorRegistry, admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), registrar, sender=admin)
    payments = admin.deploy(project.PaymentAgent, admin.deploy(project.PaymentAgentAdmin))
    extension = admin.deploy(project.BondTokenAdmin, payments)
    implementation = admin.deploy(project.BondToken, extension)
    factory = admin.deploy(project.BondFactory, admin, implementation, registry)
    registry.grantRole(registry.BINDER_ROLE(), factory, sender=admin)
    # a first series so that the measured deployment is not the first token bound in the registry
    factory.deploySeries(series_params(_roles(admin, agent, payer), "JP0000000001", []), sender=admin)

    receipt = factory.deploySeries(series_params(_roles(admin, agent, payer), "JP0000000002", []), sender=admin)
    gas["deploy_series"] = receipt.gas_used
    token = project.IBondToken.at(receipt.events.filter(factory.SeriesDeployed)[0].token)

    def register(wallet: Any) -> Any:
        return registry.registerInvestor(wallet, wallet, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)

    gas["onboard_one"] = register(inv[0]).gas_used
    for wallet in inv[1:]:
        register(wallet)
    wallets = [f"0x{i:040x}" for i in range(0x1000, 0x1000 + 100)]
    packed = [pack_record(int(w, 16) + 10**6, JAPAN, KOBE, 0, 0, FAR_FUTURE) for w in wallets]
    gas["onboard_batch100_each"] = registry.batchRegisterPacked(wallets, packed, sender=registrar).gas_used // 100
    batch = [(f"0x{i:040x}", f"0x{i + 10**6:040x}", JAPAN, KOBE, 0, 0, FAR_FUTURE) for i in range(0x2000, 0x2064)]
    gas["onboard_batch100_struct_each"] = registry.batchRegisterInvestors(batch, sender=registrar).gas_used // 100

    gas["mint_first_of_series"] = token.mint(inv[5], 1_000, sender=agent).gas_used
    gas["mint_new"] = token.mint(inv[0], 1_000, sender=agent).gas_used
    token.mint(inv[1], 1_000, sender=agent)
    gas["transfer_new"] = token.transfer(inv[2], 10, sender=inv[0]).gas_used
    gas["transfer_existing"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used

    # record dates: one scheduled, not yet passed -> the hot path only compares the time
    now = chain.pending_timestamp
    token.setRecordTimes([now + 1_000, now + 2_000, now + 3_000], sender=admin)
    gas["transfer_existing_record_scheduled"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used
    chain.mine(timestamp=now + 1_001)
    gas["transfer_existing_after_record_date"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used
    gas["transfer_existing_same_period"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used
    chain.mine(timestamp=now + 2_001)
    # second record date crossed by both accounts: the older in-slot snapshot spills into the history
    gas["transfer_existing_after_second_record_date"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used
    chain.mine(timestamp=now + 3_001)
    # third record date: the second spill of each account goes into its existing history word
    gas["transfer_existing_after_third_record_date"] = token.transfer(inv[1], 10, sender=inv[0]).gas_used

    baseline = admin.deploy(project.BaselineERC20)
    baseline.mint(inv[5], 1_000, sender=admin)
    gas["erc20_mint_new"] = baseline.mint(inv[0], 1_000, sender=admin).gas_used
    baseline.mint(inv[1], 1_000, sender=admin)
    gas["erc20_transfer_new"] = baseline.transfer(inv[2], 10, sender=inv[0]).gas_used
    gas["erc20_transfer_existing"] = baseline.transfer(inv[1], 10, sender=inv[0]).gas_used

    size = {name: runtime_size(getattr(project, name).contract_type) for name in DEPLOYABLES}
    return {"gas": gas, "size": size}


def merge_results(new: dict[str, dict[str, int]], path: Path = RESULTS_JSON) -> dict[str, Any]:
    """Merges `new` into the results file key by key; keys written by other benchmarks are kept."""
    merged: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    for section, values in new.items():
        merged.setdefault(section, {}).update(values)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return merged


def render_markdown(results: dict[str, Any]) -> str:
    """Markdown table: each figure, its ratio to the plain ERC-20 figure it compares with, target, T-REX."""
    gas: dict[str, int] = results.get("gas", {})
    lines = [
        "# Gas benchmark results",
        "",
        "Measured on anvil (`ape run bench`), solc 0.8.28, optimizer 200 runs, EVM paris.",
        "Ratios compare with the plain OpenZeppelin 5 ERC-20 (`BaselineERC20`): transfers to a new holder",
        "with `erc20_transfer_new`, mints with `erc20_mint_new`, everything else with",
        "`erc20_transfer_existing`. Rules active: residents-only (country + region), max per investor,",
        "max holders. The series is deployed without record times (the payment agent sets them).",
        "Payment-agent rows (coupon_*, redeem_per_holder, offchain_record_per_holder) come from",
        "`ape run bench_payments` (real token, registry and factory; 200-holder push and bank-record batches of",
        "Japanese individuals, two withholding components).",
        "Registry rows (registry_*: with 1 and 50 series bound, which must cost the same) and multi-wallet",
        "transfers (transfer_multi_wallet_*) come from `ape run bench_registry`.",
        "",
        "| key | gasUsed | x plain ERC-20 | target | T-REX |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in sorted(gas):
        base_key = BASELINE_OF.get(key, "erc20_transfer_existing")
        base = gas.get(base_key)
        ratio = f"{gas[key] / base:.2f}" if base else "-"
        target, trex = TARGETS.get(key, (None, None))
        target_text = f"{target:,}" if target else "-"
        trex_text = f"{trex:,}" if trex else "-"
        lines.append(f"| {key} | {gas[key]:,} | {ratio} | {target_text} | {trex_text} |")
    sizes: dict[str, int] = results.get("size", {})
    if sizes:
        lines += ["", "| contract | runtime bytes | limit |", "|---|---:|---:|"]
        lines += [f"| {name} | {sizes[name]:,} | 24,576 |" for name in sorted(sizes)]
    from bench.gas_example_bond import render_markdown as example_markdown
    from bench.gas_settlement import render_markdown as settlement_markdown
    from bench.throughput import render_markdown as throughput_markdown

    throughput = throughput_markdown(results) if "throughput" in results else ""
    return "\n".join(lines) + "\n" + example_markdown(results) + settlement_markdown(results) + throughput


def main() -> None:
    """Entry point used by scripts/bench.py."""
    from ape import accounts, chain, project

    results = merge_results(measure(project, accounts, chain))
    RESULTS_MD.write_text(render_markdown(results))
    for key, value in sorted(results["gas"].items()):
        print(f"{key:45s} {value:>10,}")
