"""Gas benchmark of the payment agent's cash leg on the local anvil chain.

Run through Ape (`ape run bench_payments`, which calls `main()`), or call `measure()` from another `ape run`
script. Results are merged into bench/results.json without touching keys this module does not own.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

RESULTS = Path(__file__).with_name("results.json")
PERIOD_TUPLE = "(uint64,uint64,uint64,uint64,uint128,uint128,uint128,uint128)"
INIT_PARAMS_TYPE = f"(address,address,address,bytes32,uint64,uint64,bool,{PERIOD_TUPLE}[],(uint8,(uint32,address)[])[])"
JP_INDIVIDUAL = 1
MAX_U32 = 2**32 - 1
TARGETS = {
    "coupon_push_per_holder": 40_000,
    "coupon_claim": 70_000,
    "coupon_fund_10": 150_000,
    "coupon_fund_10000": 150_000,
}


def holder_addresses(count: int, tag: str) -> list[str]:
    """Deterministic wallet addresses that need no keys (they only receive)."""
    return [to_checksum_address("0x" + hashlib.sha256(f"{tag}-{i}".encode()).hexdigest()[:40]) for i in range(count)]


def period_tuple(record: int, payment: int, coupon: Fraction, principal: Fraction, redeem: Fraction) -> tuple:
    return (
        record,
        payment,
        redeem.numerator,
        redeem.denominator if redeem else 1,
        coupon.numerator,
        coupon.denominator,
        principal.numerator,
        principal.denominator,
    )


def encode_params(payment_token: str, payer: str, tax_account: str, local_tax: str, periods: list[tuple]) -> bytes:
    value = (
        payment_token,
        payer,
        tax_account,
        b"\x00" * 32,
        30 * 86400,
        30 * 86400,
        False,
        periods,
        [(JP_INDIVIDUAL, [(153_150, tax_account), (50_000, local_tax)])],
    )
    return encode([INIT_PARAMS_TYPE], [value])


class Series:
    """One series (mock token + registry + cloned agent) with `holders` holders of 100 units each."""

    def __init__(self, project: Any, chain: Any, accounts: Any, holders: list[str], redeem: bool) -> None:
        self.chain = chain
        self.deployer, self.admin, self.treasury, self.tax, self.local_tax, self.claimer = accounts[:6]
        self.token = self.deployer.deploy(project.MockBondToken)
        self.registry = self.deployer.deploy(project.MockInvestorRegistry)
        self.cash = self.deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)
        self.holders = holders
        for start in range(0, len(holders), 400):
            chunk = holders[start : start + 400]
            self.token.mintBatch(chunk, 100, sender=self.deployer)
            self.registry.setRecords(chunk, (chunk[0], 392, 0, 0, JP_INDIVIDUAL, MAX_U32, False), sender=self.deployer)
        now = chain.pending_timestamp
        coupon = Fraction(85, 2)
        principal = Fraction(10_000) if redeem else Fraction(0)
        self.periods = [
            period_tuple(now + 1000, now + 2000, coupon, Fraction(0), Fraction(0)),
            period_tuple(now + 3000, now + 4000, coupon, Fraction(0), Fraction(0)),
            period_tuple(now + 5000, now + 6000, coupon, principal, Fraction(int(redeem))),
        ]
        factory = self.deployer.deploy(project.MockAgentFactory)
        implementation = self.deployer.deploy(project.PaymentAgent)
        params = encode_params(
            self.cash.address, self.treasury.address, self.tax.address, self.local_tax.address, self.periods
        )
        receipt = factory.deploy(implementation, self.token, self.registry, self.admin, params, sender=self.deployer)
        self.agent = project.PaymentAgent.at(next(iter(receipt.events.filter(factory.AgentCloned))).agent)
        self.token.setPayer(self.agent, True, sender=self.deployer)
        self.agent.syncRecordTimes(sender=self.admin)

    def travel(self, timestamp: int) -> None:
        self.chain.pending_timestamp = timestamp
        self.chain.mine()

    def fund(self, period: int) -> int:
        """Funds `period` and returns the gas of the fund transaction."""
        self.travel(max(self.periods[period][0] + 1, self.chain.pending_timestamp))
        amount = self.agent.fundingShortfall(period)
        self.cash.mint(self.treasury, amount, sender=self.treasury)
        self.cash.approve(self.agent, amount, sender=self.treasury)
        return self.agent.fund(period, amount, sender=self.treasury).gas_used

    def push(self, period: int, holders: list[str]) -> int:
        self.travel(max(self.periods[period][1], self.chain.pending_timestamp))
        return self.agent.pushPayments(period, holders, sender=self.treasury).gas_used


def measure(project: Any, chain: Any, accounts: Any) -> dict[str, Any]:
    """Runs every payment measurement on a fresh set of contracts and returns the figures."""
    results: dict[str, Any] = {}

    # Funding: same code path whatever the number of holders (O(1) via totalSupplyAt).
    for count in (10, 10_000):
        series = Series(project, chain, accounts, holder_addresses(count, f"fund{count}"), redeem=False)
        results[f"coupon_fund_{count}"] = series.fund(0)

    # Push: 200 registered Japanese individuals who already hold the payment token (two tax components).
    holders = holder_addresses(200, "push")
    series = Series(project, chain, accounts, holders, redeem=True)
    for holder in holders:
        series.cash.mint(holder, 1, sender=series.deployer)
    claimer = series.claimer
    series.token.mint(claimer, 100, sender=series.deployer)
    series.registry.setRecord(
        claimer, (claimer.address, 392, 0, 0, JP_INDIVIDUAL, MAX_U32, False), sender=series.deployer
    )
    series.cash.mint(claimer, 1, sender=series.deployer)
    series.fund(0)
    # First settlement of each holder in the series writes its fresh settlement word (zero -> non-zero).
    results["coupon_push_per_holder"] = series.push(0, holders) // len(holders)
    series.fund(1)
    # Later periods update the existing word.
    results["coupon_push_per_holder_later_period"] = series.push(1, holders) // len(holders)

    # Claim: a registered holder claiming a coupon (its first settlement in the series).
    results["coupon_claim"] = series.agent.claim(1, sender=claimer).gas_used

    # Redemption: coupon + principal paid and units burned, 200 holders per batch (burn cost is the mock's).
    series.fund(2)
    results["redeem_per_holder"] = series.push(2, holders) // len(holders)
    runtime = project.PaymentAgent.contract_type.runtime_bytecode.bytecode
    results["payment_agent_runtime_bytes"] = (len(runtime) - 2) // 2
    return results


def merge_results(figures: dict[str, Any], path: Path = RESULTS) -> dict[str, Any]:
    """Read, merge and write bench/results.json, replacing only the keys measured here."""
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    existing.update(figures)
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    return existing


def main() -> None:
    from ape import accounts, chain, project

    figures = measure(project, chain, accounts.test_accounts)
    merge_results(figures)
    for key, value in sorted(figures.items()):
        target = TARGETS.get(key)
        verdict = "" if target is None else (" ok" if value <= target else f" OVER target {target}")
        print(f"{key:40s} {value:>10,}{verdict}")
