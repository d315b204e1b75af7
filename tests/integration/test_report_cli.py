"""`munibond report` and `munibond bank` as an operator runs them: separate processes against one anvil node.

Preview, Zengin export, a declined confirmation (nothing recorded, exit 1), the record with --yes and its re-run,
the push, the payment run files, withholding, the annual summary and the reconciliation (exit 1 on a surplus)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from web3 import Web3

from munibond.demo import shift_dates, years_to_start_after
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet
from tests.integration.test_cli_workflow import MINT_ABI, ROOT, address_of, nonces
from tests.integration.test_cli_workflow import node as node  # the anvil fixture

EXAMPLES = ROOT / "examples"
ERC20_TRANSFER = [
    {
        "type": "function",
        "name": "transfer",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    }
]


def run(url: str, manifest: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    # Ape data of this module's own (a shared one caches contract types by address across runs on the same
    # deterministic anvil addresses, merging stale ABIs into this run's)
    env = dict(os.environ, APE_DATA_FOLDER=str(manifest.parent / "ape-data"))
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def issued(node, tmp_path_factory):
    """KNGW26 deployed (jp_local to the issuer's account), the example investors imported and issued, the chain at
    the first payment date and the treasury funded."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("report-cli")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    raw["tax"] = {"account": "tax_office", "components": {"jp_local": "issuer"}}
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    salt = tmp / "salt"
    salt.write_text("reports\n")
    for args in (
        ("deploy", str(terms), "--test-payment-token"),
        ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt)),
        ("issue", "KNGW26", str(EXAMPLES / "allocations.csv")),
    ):
        done = run(url, manifest, *args)
        assert done.returncode == 0, done.stderr
    first = build_schedule(load_term_sheet(terms)).periods[0]
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])
    deployed = json.loads(manifest.read_text())
    cash = web3.eth.contract(address=deployed["contracts"]["MockPaymentToken"]["address"], abi=MINT_ABI)
    treasury = address_of(web3, "treasury")
    cash.functions.mint(treasury, 10**9).transact({"from": treasury})
    return url, web3, tmp, manifest, deployed


def test_bank_export_record_pay_and_report(issued):
    url, web3, tmp, manifest, deployed = issued
    directory = str(EXAMPLES / "investor-directory.csv")
    preview_csv = tmp / "preview-1.csv"
    preview = run(
        url,
        manifest,
        "report",
        "payments",
        "KNGW26",
        "--period",
        "1",
        "--preview",
        "--investors",
        directory,
        "--csv",
        str(preview_csv),
    )
    assert preview.returncode == 0, preview.stderr
    assert "preview (nothing paid)" in preview.stdout
    rows = list(csv.DictReader(preview_csv.open(encoding="utf-8")))
    assert len(rows) == 8 and rows[-1]["period"] == "TOTAL" and {r["how"] for r in rows[:-1]} == {"to push"}
    nets = {r["investor_id"]: int(r["net"]) for r in rows[:-1] if r["investor_id"] != "KNGW-0002"}

    transfers = tmp / "transfers-1.txt"
    exported = run(
        url,
        manifest,
        "bank",
        "export",
        "KNGW26",
        "1",
        str(transfers),
        "--investors",
        directory,
        "--originator",
        str(EXAMPLES / "bank-originator.yaml"),
    )
    assert exported.returncode == 0, exported.stderr
    amounts = [int(r[80:90]) for r in transfers.read_bytes().split(b"\r\n") if r[:1] == b"2"]
    assert amounts == [nets["KNGW-0003"], nets["KNGW-0004"]]
    assert f"wrote 2 transfers, {sum(amounts):,} yen" in exported.stdout

    before = nonces(web3, "treasury")
    declined = run(url, manifest, "bank", "record", str(transfers), stdin="n\n")
    assert declined.returncode == 1 and "nothing recorded" in declined.stderr
    assert "Has the bank executed these transfers?" in declined.stdout
    assert nonces(web3, "treasury") == before

    recorded = run(url, manifest, "bank", "record", str(transfers), "--yes")
    assert recorded.returncode == 0, recorded.stderr
    assert "recorded 2 bank payments, 0 already recorded" in recorded.stdout
    before = nonces(web3, "treasury")
    again = run(url, manifest, "bank", "record", str(transfers), "--yes")
    assert again.returncode == 0 and "recorded 0 bank payments, 2 already recorded" in again.stdout
    assert nonces(web3, "treasury") == before

    paid = run(url, manifest, "coupon", "pay", "KNGW26", "1")
    assert paid.returncode == 0, paid.stderr
    run_csv, run_html = tmp / "run-1.csv", tmp / "run-1.html"
    report = run(
        url,
        manifest,
        "report",
        "payments",
        "KNGW26",
        "--period",
        "1",
        "--investors",
        directory,
        "--csv",
        str(run_csv),
        "--html",
        str(run_html),
    )
    assert report.returncode == 0, report.stderr
    rows = list(csv.DictReader(run_csv.open(encoding="utf-8")))
    by_investor = {r["investor_id"]: r for r in rows[:-1]}
    assert by_investor["KNGW-0004"]["how"] == "bank" and int(by_investor["KNGW-0004"]["net"]) == nets["KNGW-0004"]
    assert by_investor["KNGW-0001"]["how"] == "push" and by_investor["KNGW-0001"]["transaction"].startswith("0x")
    assert "<svg" in run_html.read_text(encoding="utf-8")

    withholding = run(url, manifest, "report", "withholding", "KNGW26", "--period", "1")
    assert withholding.returncode == 0, withholding.stderr
    assert f"jp_local 5% to {address_of(web3, 'issuer')}" in withholding.stdout
    assert f"jp_national 15.315% to {address_of(web3, 'tax_office')}" in withholding.stdout

    annual = run(
        url, manifest, "report", "annual", "KNGW26", "--year", rows[0]["settled_on"][:4], "--investors", directory
    )
    assert annual.returncode == 0, annual.stderr
    assert "KNGW-0002 Baba Jiro" in annual.stdout

    reconciled = run(url, manifest, "report", "reconcile", "KNGW26")
    assert reconciled.returncode == 0, reconciled.stdout + reconciled.stderr
    assert reconciled.stdout.splitlines()[-1] == "reconciled"

    agent = deployed["series"]["KNGW26"]["payment_agent"]
    cash = web3.eth.contract(address=deployed["contracts"]["MockPaymentToken"]["address"], abi=ERC20_TRANSFER)
    treasury = address_of(web3, "treasury")
    cash.functions.transfer(Web3.to_checksum_address(agent), 1234).transact({"from": treasury})
    surplus = run(url, manifest, "report", "reconcile", "KNGW26")
    assert surplus.returncode == 1
    assert any(line.startswith("surplus") and line.endswith("1,234") for line in surplus.stdout.splitlines())


def test_bad_report_input_is_one_line_and_exit_2(issued):
    url, _web3, tmp, manifest, _deployed = issued
    neither = run(url, manifest, "report", "withholding", "KNGW26")
    assert neither.returncode == 2 and neither.stderr.count("\n") == 1 and "give --period" in neither.stderr
    missing = run(url, manifest, "bank", "record", str(tmp / "no-such-file.txt"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
