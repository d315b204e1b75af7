"""The `munibond` command as an operator outside this repository uses it: `munibond init` in an empty folder,
then deploy, onboard, issue and pay a coupon against a running anvil, every step a separate process whose
current directory is the workspace (or below it). Contract types come from the shipped artifacts, the
defaults from munibond.yaml, and nothing is written to the home folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from web3 import HTTPProvider, Web3

import munibond
from munibond.abi_export import load_abi
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet

ROOT = Path(__file__).resolve().parents[2]
MNEMONIC = "test test test test test test test test test test test junk"
# the node starts before the example bond's first record date, so the example term sheet deploys unchanged
GENESIS = int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp())


@pytest.fixture
def node(node_hardfork: str) -> Iterator[tuple[str, Web3]]:
    anvil = shutil.which("anvil") or str(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [anvil, "--port", str(port), "--accounts", "20", "--mnemonic", MNEMONIC, "--silent"]
    command += ["--hardfork", node_hardfork, "--timestamp", str(GENESIS)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    web3 = Web3(HTTPProvider(url))
    for _ in range(100):
        if web3.is_connected():
            break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("anvil did not start")
    yield url, web3
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def munibond_cli(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    """`munibond ARGS` in `cwd`, in an environment naming no workspace, Ape folder or network, and with its own
    home folder; the code under test is the one this test imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUNIBOND_", "APE_"))}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = str(Path(munibond.__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_workspace_from_init_to_a_paid_coupon(tmp_path, home, node):
    url, web3 = node
    ws = tmp_path / "bonds"
    ws.mkdir()
    assert ROOT not in ws.resolve().parents

    made = munibond_cli(ws, home, "init")
    assert made.returncode == 0, made.stderr
    for name in ("munibond.yaml", "accounts.local.yaml", "termsheets/kanagawa-resident-2026.yaml",
                 "termsheets/investors.csv", "termsheets/allocations.csv"):  # fmt: skip
        assert (ws / name).is_file(), name
    assert (ws / "deployments").is_dir()
    # the operator points the workspace at the node; a second `init` keeps that (and every other file)
    config = ws / "munibond.yaml"
    config.write_text(config.read_text().replace("network: http://127.0.0.1:8545", f"network: {url}"))
    edited = config.read_text()
    again = munibond_cli(ws, home, "init")
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr
    assert config.read_text() == edited

    deployed = munibond_cli(ws, home, "deploy", "termsheets/kanagawa-resident-2026.yaml", "--test-payment-token")
    assert deployed.returncode == 0, deployed.stderr
    manifest = json.loads((ws / "deployments" / "local.json").read_text())
    series = manifest["series"]["KNGW26"]
    assert series["term_sheet"] == "termsheets/kanagawa-resident-2026.yaml"
    assert series["currency"] == {"code": "JPY", "minor_units": 0}
    assert series["token_abi"] == series["payment_agent_abi"] == "BondSeries"
    assert manifest["contracts"]["MockPaymentToken"]["abi"] == "MockPaymentToken"
    for record in manifest["contracts"].values():
        assert record["abi"] == record["contract"]
        assert web3.eth.get_code(record["address"])

    # from a folder below the workspace: the workspace is found by walking up
    sheets = ws / "termsheets"
    # the issuer salt from the file the workspace's munibond.yaml names (never the command line)
    (ws / "issuer-salt").write_text("kanagawa-salt\n")
    config = ws / "munibond.yaml"
    config.write_text(config.read_text().replace("issuer_salt_file: null", "issuer_salt_file: issuer-salt"))
    onboarded = munibond_cli(sheets, home, "investors", "import", "investors.csv", "--yes")
    assert onboarded.returncode == 0, onboarded.stderr
    assert "registered 7" in onboarded.stdout
    issued = munibond_cli(sheets, home, "issue", "KNGW26", "allocations.csv", "--yes")
    assert issued.returncode == 0, issued.stderr
    allocated = sum(int(line.split(",")[1]) for line in (sheets / "allocations.csv").read_text().splitlines()[1:])
    assert f"minted {allocated} units" in issued.stdout

    first = build_schedule(load_term_sheet(sheets / "kanagawa-resident-2026.yaml")).periods[0]
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])
    # The example treasury holds no test deposit tokens: fund it (the test token lets anyone mint).
    web3.eth.account.enable_unaudited_hdwallet_features()
    book = yaml.safe_load((ws / "accounts.local.yaml").read_text())
    treasury = web3.eth.account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{book['treasury']}").address
    cash = web3.eth.contract(address=series["payment_token"], abi=load_abi("MockPaymentToken"))
    web3.eth.wait_for_transaction_receipt(cash.functions.mint(treasury, 10**9).transact({"from": treasury}))

    paid = munibond_cli(ws, home, "coupon", "pay", "KNGW26", "1", "--yes")
    assert paid.returncode == 0, paid.stderr
    assert "settled 7 holders" in paid.stdout

    assert (ws / ".ape").is_dir(), "Ape's data folder is the workspace's"
    assert not (home / ".ape").exists(), "nothing written to the home folder"
    assert not (ws / ".build").exists() and not (ws / "contracts").exists(), "nothing compiled"

    # From anywhere else: --workspace names it; without one, a missing alias book is one line, exit 2.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = munibond_cli(elsewhere, home, "--workspace", str(ws), "holders", "KNGW26")
    assert listed.returncode == 0, listed.stderr
    lost = munibond_cli(elsewhere, home, "holders", "KNGW26", "--network", url,
                        "--manifest", str(ws / "deployments" / "local.json"))  # fmt: skip
    assert lost.returncode == 2
    assert lost.stderr.startswith("error: ") and "no alias book" in lost.stderr and len(lost.stderr.splitlines()) == 1
