"""Gas benchmark of the payment agent's cash leg on the local anvil chain.

Real contracts throughout (InvestorRegistry, series proxies of BondToken + PaymentAgent deployed by the
BondFactory); only the payment token is a test ERC-20. Run through Ape (`ape run bench_payments`, which calls `main()`).
Figures are merged into bench/results.json under "gas" (and the agent's runtime size under "size") without
touching other keys, and bench/RESULTS.md is re-rendered with the foundation benchmark's table layout.
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

from munibond.chain.deployment import payment_agent
from munibond.chain.series import compliance_struct

RESULTS = Path(__file__).with_name("results.json")
PERIOD_TUPLE = "(uint64,uint64,uint64,uint64,uint128,uint128,uint128,uint128)"
INIT_PARAMS_TYPE = f"(address,address,address,bytes32,uint64,uint64,{PERIOD_TUPLE}[],(uint8,(uint32,address)[])[])"
JP_INDIVIDUAL = 1
JAPAN = 392
MAX_U32 = 2**32 - 1
ZERO = "0x" + "00" * 20
PAYMENT_CODE = ("PaymentAgent", "PaymentAgentAdmin")
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
        periods,
        [(JP_INDIVIDUAL, [(153_150, tax_account), (50_000, local_tax)])],
    )
    return encode([INIT_PARAMS_TYPE], [value])


def pack_record(identity: str, tax_class: int) -> int:
    """The registry's packed InvestorRecord word: Japan, no region, individual, KYC never expiring."""
    return int(identity, 16) | JAPAN << 160 | tax_class << 208 | MAX_U32 << 216


def series_params(admin: str, operator: str, isin: str, record_times: list[int], agent_params: bytes) -> dict:
    """SeriesParams for BondFactory.deploySeries (no compliance rule; the operator mints)."""
    return {
        "name": "Kobe City Resident Bond 2026-1",
        "symbol": "KOBE26",
        "decimals": 0,
        "terms": {
            "isin": isin,
            "currency": ZERO,
            "denomination": 10_000,
            "issueVolume": 10_000_000_000,
            "couponRate": 850_000,  # 0.85 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": 1_767_225_600,
            "maturityDate": 1_924_992_000,
            "dayCountBasis": 2,
        },
        "roles": {
            "admin": admin,
            "agent": ZERO,
            "transferAgent": ZERO,
            "freezer": ZERO,
            "minter": operator,
            "documentManager": ZERO,
            "complianceManager": ZERO,
            "payer": ZERO,
        },
        "compliance": compliance_struct(),
        "recordTimes": record_times,
        "paymentAgentParams": agent_params,
    }


class Issuer:
    """The shared contracts, deployed as production does (registry, implementations, factory)."""

    def __init__(self, project: Any, accounts: Any) -> None:
        self.project = project
        self.deployer = accounts[0]
        self.registry = self.deployer.deploy(project.InvestorRegistry, self.deployer)
        self.registry.grantRole(self.registry.REGISTRAR_ROLE(), self.deployer, sender=self.deployer)
        payments = self.deployer.deploy(project.PaymentAgent, self.deployer.deploy(project.PaymentAgentAdmin))
        extension = self.deployer.deploy(project.BondTokenAdmin, payments)
        token_implementation = self.deployer.deploy(project.BondToken, extension)
        self.factory = self.deployer.deploy(project.BondFactory, self.deployer, token_implementation, self.registry)
        self.registry.grantRole(self.registry.BINDER_ROLE(), self.factory, sender=self.deployer)
        self.series_count = 0

    def register(self, wallets: list[str]) -> None:
        for start in range(0, len(wallets), 400):
            chunk = wallets[start : start + 400]
            packed = [pack_record(w, JP_INDIVIDUAL) for w in chunk]
            self.registry.batchRegisterPacked(chunk, packed, sender=self.deployer)


class Series:
    """One series (real token + agent through the factory) with `holders` holders of 100 units each."""

    def __init__(self, issuer: Any, chain: Any, accounts: Any, holders: list[str], redeem: bool) -> None:
        project = issuer.project
        self.chain = chain
        self.deployer, self.admin, self.treasury, self.tax, self.local_tax, self.claimer = accounts[:6]
        self.cash = self.deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)
        self.holders = holders
        issuer.register(holders)
        now = chain.pending_timestamp
        coupon = Fraction(85, 2)
        principal = Fraction(10_000) if redeem else Fraction(0)
        self.periods = [
            period_tuple(now + 1000, now + 2000, coupon, Fraction(0), Fraction(0)),
            period_tuple(now + 3000, now + 4000, coupon, Fraction(0), Fraction(0)),
            period_tuple(now + 5000, now + 6000, coupon, principal, Fraction(int(redeem))),
        ]
        params = encode_params(
            self.cash.address, self.treasury.address, self.tax.address, self.local_tax.address, self.periods
        )
        issuer.series_count += 1
        receipt = issuer.factory.deploySeries(
            series_params(
                self.admin.address,
                self.deployer.address,
                f"JP{issuer.series_count:010d}",
                [p[0] for p in self.periods],
                params,
            ),
            sender=self.deployer,
        )
        self.deploy_gas = receipt.gas_used
        event = next(iter(receipt.events.filter(issuer.factory.SeriesDeployed)))
        self.token = project.IBondToken.at(event.token, detect_proxy=False)
        self.agent = payment_agent(project, event.paymentAgent)
        for start in range(0, len(holders), 200):
            chunk = holders[start : start + 200]
            self.token.batchMint(chunk, [100] * len(chunk), sender=self.deployer)

    def travel(self, timestamp: int) -> None:
        """Mines a block at `timestamp` (raw anvil RPC: the generic provider cannot time-travel)."""
        provider = self.chain.provider
        provider.make_request("evm_setNextBlockTimestamp", [timestamp])
        provider.make_request("evm_mine", [])

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
    """Runs every payment measurement on a fresh set of real contracts and returns the figures."""
    results: dict[str, Any] = {}
    issuer = Issuer(project, accounts)

    # Funding: same code path whatever the number of holders (O(1) via totalSupplyAt).
    for count in (10, 10_000):
        series = Series(issuer, chain, accounts, holder_addresses(count, f"fund{count}"), redeem=False)
        results[f"coupon_fund_{count}"] = series.fund(0)

    # Push: 200 registered Japanese individuals who already hold the payment token (two tax components).
    holders = holder_addresses(200, "push")
    claimer, second_claimer = accounts[5], accounts[6]
    issuer.register([claimer.address, second_claimer.address])
    series = Series(issuer, chain, accounts, holders, redeem=True)
    # A whole series in one transaction: the proxy, initialized as token and as payment agent with 3 periods.
    results["deploy_series_with_payment_agent_3_periods"] = series.deploy_gas
    for holder in holders:
        series.cash.mint(holder, 1, sender=series.deployer)
    for wallet in (claimer, second_claimer):
        series.token.mint(wallet, 100, sender=series.deployer)
        series.cash.mint(wallet, 1, sender=series.deployer)
    series.fund(0)
    # The holders' first settlement in the series.
    results["coupon_push_per_holder"] = series.push(0, holders) // len(holders)
    series.fund(1)
    results["coupon_push_per_holder_later_period"] = series.push(1, holders) // len(holders)

    # Claim: a registered holder claiming a coupon (its first settlement in the series, all state cold).
    results["coupon_claim"] = series.agent.claim(1, sender=claimer).gas_used
    # Two periods claimed in one transaction share the base cost, cold accounts and configuration reads.
    results["coupon_claim_two_periods_each"] = series.agent.claimMany([0, 1], sender=second_claimer).gas_used // 2

    # Redemption: coupon + principal paid and units burned through the token's redeem, 200 holders per batch.
    series.fund(2)
    results["redeem_per_holder"] = series.push(2, holders) // len(holders)

    # Bank payments: 200 holders' coupons recorded as paid off chain (each event with the holder's tax class, its
    # withholding per component and the net), their first settlement in the series.
    bank = holder_addresses(200, "bank")
    bank_series = Series(issuer, chain, accounts, bank, redeem=False)
    bank_series.travel(max(bank_series.periods[0][0] + 1, chain.pending_timestamp))
    references = [hashlib.sha256(wallet.encode()).digest() for wallet in bank]
    receipt = bank_series.agent.recordOffchainPayments(0, bank, references, sender=bank_series.treasury)
    results["offchain_record_per_holder"] = receipt.gas_used // len(bank)
    return results


def merge_results(figures: dict[str, Any], size: dict[str, int], path: Path = RESULTS) -> dict[str, Any]:
    """Merges the figures under "gas" and the agent's size under "size"; other benchmarks' keys are kept.

    Flat top-level keys left by an earlier version of this benchmark are dropped.
    """
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    merged = {key: value for key, value in existing.items() if isinstance(value, dict)}
    merged.setdefault("gas", {}).update(figures)
    merged.setdefault("size", {}).update(size)
    path.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return merged


@contextmanager
def lean_anvil() -> Iterator[str]:
    """A local anvil WITHOUT --steps-tracing; yields its URI.

    Ape's foundry provider always starts anvil with --steps-tracing, which keeps a per-opcode trace of every
    transaction in memory: the ~640M gas of the 10,000-holder set-up grows it past 20 GB until it is killed.
    Same mnemonic and chain id as Ape's local test network, so its test accounts sign as usual.
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["anvil", "--port", str(port), "--accounts", "20", "--chain-id", "1337"]
    command += ["--gas-price", "0", "--block-base-fee-per-gas", "0"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    from ape import accounts, chain, networks, project

    with lean_anvil() as uri, networks.parse_network_choice(f"ethereum:local:{uri}"):
        figures = measure(project, chain, accounts.test_accounts)
    from bench import gas_foundation as foundation

    size = {name: foundation.runtime_size(getattr(project, name).contract_type) for name in PAYMENT_CODE}
    merged = merge_results(figures, size)
    foundation.RESULTS_MD.write_text(foundation.render_markdown(merged))
    for key, value in sorted(figures.items()):
        target = TARGETS.get(key)
        verdict = "" if target is None else (" ok" if value <= target else f" OVER target {target}")
        print(f"{key:40s} {value:>10,}{verdict}")
    for name in PAYMENT_CODE:
        print(f"{name + ' runtime bytes':40s} {size[name]:>10,}")
