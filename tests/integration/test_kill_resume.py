"""`kill -9` of the real `munibond coupon pay` process at several points, then a re-run: every holder is paid
exactly once, the period is funded exactly once, and the totals are exact.

The node mines only when the test says so (automine off), so each kill lands at a known point: the test watches
the payer's pending nonce, mines the command's transactions one by one and sends SIGKILL while the chosen one is
still pending. That transaction is then either mined (the command died after sending it, before it saw the
receipt) or dropped (it died before the node accepted it); either way the re-run must finish the period. The
machinery is shared with the settlement commands' kill tests (tests/integration/interruption.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from web3 import Web3

from munibond.demo import shift_dates, years_to_start_after
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet
from tests.integration.interruption import AFTER, DROPPED, MINED, environment, interrupt
from tests.integration.test_cli_workflow import MINT_ABI, ROOT, address_of
from tests.integration.test_cli_workflow import node as node  # the anvil fixture

EXAMPLES = ROOT / "examples"
ABI = ROOT / "src" / "munibond" / "abi"
HOLDERS = ("investor_a", "investor_b", "investor_b2", "investor_c", "investor_d", "investor_e", "investor_g")
BATCH = "2"  # 7 holders: approval, funding and 4 batches = 6 transactions
TRANSACTIONS = 6


def run(url: str, manifest: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=environment(manifest),
        capture_output=True,
        text=True,
        timeout=300,
    )


def pay_command(url: str, manifest: Path, period: int) -> list[str]:
    return [
        sys.executable, "-m", "munibond", "coupon", "pay", "KNGW26", str(period), "--yes", "--batch-size", BATCH,
        "--network", url, "--manifest", str(manifest),
    ]  # fmt: skip


def agent_contract(web3: Web3, address: str):
    abi = json.loads((ABI / "IPaymentAgent.json").read_text())  # payments, views and events
    return web3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


@pytest.fixture(scope="module")
def issued(node, tmp_path_factory):
    """KNGW26 deployed, the example investors imported and issued (7 holders), the treasury holding cash."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("kill-resume")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    salt = tmp / "salt"
    salt.write_text("kill-resume\n")
    for args in (
        ("deploy", str(terms), "--test-payment-token"),
        ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt), "--yes"),
        ("issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes"),
    ):
        done = run(url, manifest, *args)
        assert done.returncode == 0, done.stderr
    deployed = json.loads(manifest.read_text())
    cash = web3.eth.contract(address=deployed["contracts"]["MockPaymentToken"]["address"], abi=MINT_ABI)
    treasury = address_of(web3, "treasury")
    cash.functions.mint(treasury, 10**10).transact({"from": treasury})
    agent = agent_contract(web3, deployed["series"]["KNGW26"]["payment_agent"])
    return url, web3, manifest, build_schedule(load_term_sheet(terms)), cash, agent


def at(web3: Web3, moment: int) -> None:
    web3.provider.make_request("evm_setNextBlockTimestamp", [moment])
    web3.provider.make_request("evm_mine", [])


# (period, the transaction being sent when the process is killed, then what happens to it)
KILLS = [
    (1, 1, MINED),  # the approval sent, not yet confirmed
    (2, 2, DROPPED),  # the funding never reached the chain
    (3, 4, MINED),  # mid-batch: the second batch sent, the process gone before its receipt
    (4, TRANSACTIONS, AFTER),  # the last batch confirmed, the process gone before its report
]


@pytest.mark.parametrize(("period", "nth", "then"), KILLS, ids=[f"period{k[0]}-tx{k[1]}-{k[2]}" for k in KILLS])
def test_kill_9_then_rerun_pays_everyone_exactly_once(issued, period, nth, then):
    url, web3, manifest, schedule, cash, agent = issued
    treasury = address_of(web3, "treasury")
    holders = {address_of(web3, alias) for alias in HOLDERS}
    at(web3, schedule.periods[period - 1].payment_time)
    index = period - 1
    cash_before = {h: cash.functions.balanceOf(h).call() for h in (*holders, treasury)}

    interrupt(web3, pay_command(url, manifest, period), environment(manifest), [treasury], nth, then)

    resumed = run(url, manifest, "coupon", "pay", "KNGW26", str(period), "--yes", "--batch-size", BATCH)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"KNGW26 period {period} settled so far: 7 holders" in resumed.stdout

    # every holder exactly once, for the amounts the entitlement gives, and the period funded exactly once
    made = agent.events.PaymentMade().get_logs(from_block=0, argument_filters={"period": index})
    assert Counter(log.args.holder for log in made) == Counter(holders)
    accounts = agent.functions.accounts(index).call()
    funded, paid_net, tax = accounts[0], accounts[1], accounts[2]
    assert funded == agent.functions.requiredFunding(index).call()
    assert paid_net == sum(log.args.net for log in made) and tax == sum(sum(log.args.taxes) for log in made)
    for log in made:
        assert cash.functions.balanceOf(log.args.holder).call() - cash_before[log.args.holder] == log.args.net
    assert cash_before[treasury] - cash.functions.balanceOf(treasury).call() == funded

    # a further re-run sends nothing and prints the same summary
    nonce = web3.eth.get_transaction_count(treasury)
    again = run(url, manifest, "coupon", "pay", "KNGW26", str(period), "--yes")
    assert again.returncode == 0, again.stderr
    assert f"KNGW26 period {period} settled so far: 7 holders" in again.stdout
    assert web3.eth.get_transaction_count(treasury) == nonce
