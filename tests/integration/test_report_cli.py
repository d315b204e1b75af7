"""`munibond report` and `munibond bank` as an operator runs them: separate processes against one anvil node.

Preview, Zengin export, a declined confirmation (nothing recorded, exit 1), the record with --yes and its re-run,
the push, the payment run files, withholding, the annual summary and the reconciliation (exit 1 on a surplus)."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from web3 import Web3

from munibond.demo import shift_dates, years_to_start_after
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet
from tests.integration.test_cli_workflow import MINT_ABI, ROOT, address_of, nonces
from tests.integration.test_cli_workflow import node as node  # the anvil fixture
from tests.tools.chromium import Pixels, dump_dom, screenshot
from tests.tools.html_pages import charts_of, tables_of

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


PAID, REMAINING = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)  # munibond.reports.html's colours
BAR_PIXELS = 460 * 18 * 95 // 100  # most of one chart bar (460 x 18 px)


def summary_figures(stdout: str) -> tuple[str, int, str]:
    """(net, batches, remaining) from the last line of `report payments`."""
    found = re.search(r"net ([\d,]+) JPY; (\d+) batches, remaining ([\d,]+)", stdout)
    assert found, stdout
    return found[1], int(found[2]), found[3]


def rendered(page: Path, work: Path, *, batches: int) -> tuple[dict[str, str], Pixels]:
    """The payment report as headless Chromium renders it: its totals (label -> amount) from the DOM after
    loading, checked to hold one chart with a paid and a remaining bar per batch and one for now; and a
    screenshot."""
    dom = dump_dom(page, work)
    totals_table, *_ = tables_of(dom)
    totals = {row[0]: row[1] for row in totals_table[1:]}
    shapes = charts_of(dom)
    (chart,) = shapes.charts
    legend = 2
    assert sum(tag == "rect" for tag, _ in chart) == legend + 2 * (batches + 1)
    labels = [text for text in shapes.texts[0] if text.startswith("batch ") or text == "now"]
    assert labels == [f"batch {i + 1}" for i in range(batches)] + ["now"]
    return totals, screenshot(page, work)


def status_row(shown: subprocess.CompletedProcess, period: str) -> dict[str, str]:
    """The row of `period` in `coupon status`, by column name."""
    assert shown.returncode == 0, shown.stderr
    lines = [line.replace("┃", "│") for line in shown.stdout.splitlines()]  # the header row is drawn heavy
    rows = [[c.strip() for c in line.strip().strip("│").split("│")] for line in lines if "│" in line]
    header = next(row for row in rows if row[0] == "#")
    return dict(zip(header, next(row for row in rows if row[0] == period), strict=True))


def amount(cell: str) -> int:
    """A yen amount as `coupon status` shows it (thousands separators)."""
    return int(cell.replace(",", ""))


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
        ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt), "--yes"),
        ("issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes"),
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
        "--html",
        str(tmp / "preview-1.html"),
    )
    assert preview.returncode == 0, preview.stderr
    assert "preview (nothing paid)" in preview.stdout
    net, batches, remaining = summary_figures(preview.stdout)
    totals, pixels = rendered(tmp / "preview-1.html", tmp / "chromium-preview", batches=0)
    assert batches == 0 and totals["net"] == net and totals["paid (gross)"] == "0"
    assert totals["remaining (gross)"] == remaining
    assert pixels.count_near(REMAINING) >= BAR_PIXELS  # nothing paid: one full red bar (and the legend)
    assert pixels.count_near(PAID) < BAR_PIXELS
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

    # the bank's share counts against the requirement: short only of what the push still pays, and overdue
    bank_paid = status_row(run(url, manifest, "coupon", "status", "KNGW26"), "1")
    required, funded, offchain, shortfall = (
        amount(bank_paid[c]) for c in ("required", "funded", "off-chain", "shortfall")
    )
    assert funded == 0 and offchain > 0 and shortfall == required - offchain
    assert bank_paid["overdue"] == "overdue (5 unpaid)" and bank_paid["state"] == ""

    paid = run(url, manifest, "coupon", "pay", "KNGW26", "1", "--yes", "--batch-size", "2")
    assert paid.returncode == 0, paid.stderr
    settled = status_row(run(url, manifest, "coupon", "status", "KNGW26"), "1")
    assert amount(settled["shortfall"]) == 0 and amount(settled["off-chain"]) == offchain
    assert amount(settled["funded"]) == required - offchain and settled["overdue"] == ""
    assert amount(settled["remainder"]) == amount(settled["funded"]) - amount(settled["paid net"]) - amount(
        settled["tax"]
    ) - amount(settled["escrowed"])
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
    net, batches, remaining = summary_figures(report.stdout)
    assert batches >= 3  # five holders pushed two at a time
    totals, pixels = rendered(run_html, tmp / "chromium-run", batches=batches)
    assert totals["net"] == net == f"{Decimal(rows[-1]['net']):,}" and totals["remaining (gross)"] == remaining
    assert pixels.count_near(PAID) >= BAR_PIXELS  # the last bar, everything paid, is green

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


MASTER_COLUMNS = "legal_name,address,bank_code,branch_code,account_type,account_number,account_holder,bank_name,pay_by"
MASTER = {  # personal data: must appear in no log and no command output
    "KNGW-0001": ("青木 一郎", "横浜市中区山下町1", "", "", "", "", "", "", ""),
    "KNGW-0003": ("千葉商事株式会社", "横浜市西区みなとみらい2-2-1", "0005", "123", "current", "0765432",
                  "チバショウジ（カ", "ミツビシ", "bank"),
    "KNGW-0004": ("土井 四郎", "横浜市中区本町6-50", "0001", "001", "ordinary", "1234567", "ドイ シロウ", "", "bank"),
}  # fmt: skip


def test_bank_export_takes_bank_paid_holders_from_the_investor_database(issued):
    url, web3, tmp, manifest, _deployed = issued
    lines = (EXAMPLES / "investors.csv").read_text().splitlines()
    rows = [lines[0] + "," + MASTER_COLUMNS]
    seen = set()
    for line in lines[1:]:
        investor_id = line.split(",")[1]
        cells = MASTER.get(investor_id, ("",) * 9) if investor_id not in seen else ("",) * 9  # once per investor
        seen.add(investor_id)
        rows.append(line + "," + ",".join(cells))
    with_master = tmp / "investors-master.csv"
    with_master.write_text("\n".join(rows) + "\n", encoding="utf-8")
    salt = tmp / "salt"
    imported = run(url, manifest, "investors", "import", str(with_master), "--issuer-salt-file", str(salt), "--yes")
    assert imported.returncode == 0, imported.stderr
    assert "8 unchanged" in imported.stdout and "master data: 3 added" in imported.stdout
    listed = subprocess.run(  # a master-data command: no node
        [sys.executable, "-m", "munibond", "investors", "list", "--manifest", str(manifest)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    paid_by_bank = {line.split("\t")[0] for line in listed.stdout.splitlines() if line.endswith("paid by bank")}
    assert paid_by_bank == {"KNGW-0003", "KNGW-0004"}

    second = build_schedule(load_term_sheet(tmp / "kanagawa.yaml")).periods[1]
    web3.provider.make_request("evm_setNextBlockTimestamp", [second.payment_time])
    web3.provider.make_request("evm_mine", [])
    preview_csv = tmp / "preview-2.csv"
    preview = run(
        url, manifest, "report", "payments", "KNGW26", "--period", "2", "--preview", "--csv", str(preview_csv)
    )
    assert preview.returncode == 0, preview.stderr
    previewed = {r["investor_id"]: r for r in csv.DictReader(preview_csv.open(encoding="utf-8")) if r["investor_id"]}
    assert set(previewed) == {"KNGW-0001", "KNGW-0003", "KNGW-0004"}  # the others have no master data
    assert previewed["KNGW-0003"]["name"] == "千葉商事株式会社"

    transfers = tmp / "transfers-2.txt"
    originator = str(EXAMPLES / "bank-originator.yaml")
    exported = run(url, manifest, "bank", "export", "KNGW26", "2", str(transfers), "--originator", originator)
    assert exported.returncode == 0, exported.stderr
    records = [r for r in transfers.read_bytes().split(b"\r\n") if r[:1] == b"2"]
    assert [(r[1:5], r[43:50], int(r[80:90])) for r in records] == [
        (b"0005", b"0765432", int(previewed["KNGW-0003"]["net"])),
        (b"0001", b"1234567", int(previewed["KNGW-0004"]["net"])),
    ]
    recorded = run(url, manifest, "bank", "record", str(transfers), "--yes")
    assert recorded.returncode == 0 and "recorded 2 bank payments" in recorded.stdout, recorded.stderr
    row = status_row(run(url, manifest, "coupon", "status", "KNGW26"), "2")
    gross = sum(int(previewed[i]["coupon_gross"]) for i in ("KNGW-0003", "KNGW-0004"))
    assert amount(row["off-chain"]) == gross and amount(row["shortfall"]) == amount(row["required"]) - gross

    personal = ["青木", "千葉商事", "土井", "横浜市", "0765432", "1234567", "チバ", "ﾁﾊﾞ", "ドイ", "ﾄﾞｲ"]
    audit = (manifest.parent / "audit.log").read_text(encoding="utf-8")
    assert '"investors import"' in audit
    for output in (audit, imported.stdout, exported.stdout, recorded.stdout):
        assert not [word for word in personal if word in output], output
