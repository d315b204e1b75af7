"""The `munibond` command line as an operator uses it: separate processes against one running anvil node.

Checks re-runs send nothing (nonces unchanged) and bad input stops before any transaction.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from web3 import HTTPProvider, Web3

from munibond.demo import shift_dates, years_to_start_after

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ALIAS_BOOK = yaml.safe_load((EXAMPLES / "accounts.local.yaml").read_text())
MNEMONIC = "test test test test test test test test test test test junk"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def node(node_hardfork):
    anvil = shutil.which("anvil") or str(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    port = _free_port()
    hardfork = ["--hardfork", node_hardfork]  # that of the suite's own anvil (tests/conftest.py)
    process = subprocess.Popen(
        [anvil, "--port", str(port), "--accounts", "20", "--mnemonic", MNEMONIC, *hardfork, "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


CALL_OPTION = {"price": "100.5", "notice_days": 10}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, node):
    """A term sheet moved into the node's future, and a manifest path of its own."""
    _url, web3 = node
    tmp = tmp_path_factory.mktemp("cli")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    # a call option on the third coupon date (exercised by the last test of this module)
    raw["redemption"]["call"] = [{"date": raw["coupon"]["first_coupon_date"].replace(year=2027), **CALL_OPTION}]
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    return tmp, terms, tmp / "manifest.json"


def address_of(web3: Web3, alias: str) -> str:
    web3.eth.account.enable_unaudited_hdwallet_features()
    return web3.eth.account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{ALIAS_BOOK[alias]}").address


def munibond(url: str, manifest: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def nonces(web3: Web3, *aliases: str) -> dict[str, int]:
    return {alias: web3.eth.get_transaction_count(address_of(web3, alias)) for alias in aliases}


def test_deploy_onboard_issue_and_rerun_sends_nothing(node, workspace):
    url, web3 = node
    _tmp, terms, manifest = workspace

    result = munibond(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert result.returncode == 0, result.stderr
    deployed = json.loads(manifest.read_text())
    assert deployed["chain_id"] == 31337
    series = deployed["series"]["KNGW26"]
    assert set(deployed["contracts"]) >= {"InvestorRegistry", "BondFactory", "BondToken", "PaymentAgent"}
    assert len(web3.eth.get_code(series["token"])) > 0

    before = nonces(web3, "issuer", "registrar", "agent")
    again = munibond(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert again.returncode == 0, again.stderr
    assert nonces(web3, "issuer", "registrar", "agent") == before
    assert json.loads(manifest.read_text())["series"]["KNGW26"]["token"] == series["token"]

    salt_file = _tmp / "issuer-salt"
    salt_file.write_text("kanagawa\n")
    salt = ["--issuer-salt-file", str(salt_file)]
    onboard = munibond(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), *salt, "--yes")
    assert onboard.returncode == 0, onboard.stderr
    assert "registered 7, updated 0, linked 1" in onboard.stdout
    before = nonces(web3, "registrar")
    onboard_again = munibond(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), *salt)
    assert onboard_again.returncode == 0, onboard_again.stderr
    assert "0 to register, 0 to update, 0 to link, 8 unchanged" in onboard_again.stdout
    assert nonces(web3, "registrar") == before

    minter_nonce = nonces(web3, "agent")
    planned = munibond(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    allocated = sum(int(line.split(",")[1]) for line in (EXAMPLES / "allocations.csv").read_text().splitlines()[1:])
    assert re.search(rf"wallets to mint to +7\n +units +{allocated:,} \(face value ", planned.stdout), planned.stdout
    assert "dry run: nothing sent" in planned.stdout
    assert nonces(web3, "agent") == minter_nonce

    issued = munibond(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes")
    assert issued.returncode == 0, issued.stderr
    assert f"minted {allocated} units now" in issued.stdout
    before = nonces(web3, "agent")
    issued_again = munibond(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"))
    assert issued_again.returncode == 0, issued_again.stderr
    assert "nothing to send" in issued_again.stdout
    assert nonces(web3, "agent") == before


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("alias:investor_h,KNGW-0008,392,140007,individual,jp_individual,2099-12-31,R\n", None),
        ("alias:investor_h,KNGW-0008,39x,140007,individual,jp_individual,2099-12-31,R\n", "country"),
        ("0x12345,KNGW-0008,392,140007,individual,jp_individual,2099-12-31,R\n", "wallet"),
        ("alias:investor_h,KNGW-0008,392,140007,individual,no_such_class,2099-12-31,R\n", "tax_class"),
        ("alias:investor_h,KNGW-0008,392,140007,individual,jp_individual,2099-02-30,R\n", "kyc_expiry"),
    ],
)
def test_bad_investor_row_stops_before_any_transaction(node, workspace, row, field):
    url, web3 = node
    tmp, _terms, manifest = workspace
    good = (EXAMPLES / "investors.csv").read_text()
    csv_file = tmp / f"investors-{field}.csv"
    # the bad row is the last line: every earlier (valid, new) row must not be registered either
    extra = "alias:investor_i,KNGW-0009,392,140007,individual,jp_individual,2099-12-31,R\n"
    csv_file.write_text(good + extra + row)
    before = nonces(web3, "registrar")
    salt_file = tmp / "issuer-salt"
    salt_file.write_text("kanagawa")
    args = ("investors", "import", str(csv_file), "--issuer-salt-file", str(salt_file), "--dry-run")
    result = munibond(url, manifest, *args)
    if field is None:
        assert result.returncode == 0, result.stderr
        assert "2 to register" in result.stdout and "dry run" in result.stdout
    else:
        assert result.returncode == 2
        line = len(good.splitlines()) + 2
        assert f"error: {csv_file}:{line}: {field}:" in result.stderr
    assert nonces(web3, "registrar") == before


def test_bad_term_sheet_names_file_line_and_field(node, workspace):
    url, _web3 = node
    tmp, terms, manifest = workspace
    bad = tmp / "bad.yaml"
    raw = yaml.safe_load(terms.read_text())
    raw["coupon"]["rate"] = 0.0085  # a float where an exact decimal string is required
    bad.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    result = munibond(url, manifest, "deploy", str(bad), "--test-payment-token")
    assert result.returncode == 2
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "rate: 0.0085" in text)
    assert f"error: {bad}:{line}: coupon.rate:" in result.stderr


def test_deploying_after_the_first_record_date_is_refused(node, tmp_path):
    url, web3 = node
    manifest = tmp_path / "m.json"
    before = nonces(web3, "issuer")
    result = munibond(url, manifest, "deploy", str(EXAMPLES / "kanagawa-resident-2026.yaml"), "--test-payment-token")
    now = web3.eth.get_block("latest")["timestamp"]
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    if years_to_start_after(raw["issue_date"], now) == 0:
        pytest.fail("the example's first record date is still ahead of the clock; this test needs a past one")
    assert result.returncode == 2
    assert "has already passed" in result.stderr
    assert nonces(web3, "issuer") == before


MINT_ABI = [
    {
        "type": "function",
        "name": "mint",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


def test_register_and_coupon_payment_after_the_record_date(node, workspace):
    """Runs after the deployment test (same module, same node): register, then pay period 1 twice."""
    url, web3 = node
    tmp, terms, manifest = workspace
    deployed = json.loads(manifest.read_text())
    if "KNGW26" not in deployed.get("series", {}):
        pytest.fail("the deployment test must run first in this module")

    register_file = tmp / "register.csv"
    listed = munibond(url, manifest, "holders", "KNGW26", "--csv", str(register_file))
    assert listed.returncode == 0, listed.stderr
    rows = register_file.read_text().splitlines()
    assert rows[0].startswith("wallet,identity,")
    allocated = sum(int(line.split(",")[1]) for line in (EXAMPLES / "allocations.csv").read_text().splitlines()[1:])
    assert sum(int(row.split(",")[6]) for row in rows[1:]) == allocated

    not_yet = munibond(url, manifest, "coupon", "pay", "KNGW26", "1")
    assert not_yet.returncode == 2 and "has not passed yet" in not_yet.stderr

    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    first = build_schedule(load_term_sheet(terms)).periods[0]
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])
    cash = web3.eth.contract(address=deployed["contracts"]["MockPaymentToken"]["address"], abi=MINT_ABI)
    treasury = address_of(web3, "treasury")
    cash.functions.mint(treasury, 10**9).transact({"from": treasury})

    # investor_c is paid by bank transfer: recorded before the push, which then skips it
    bank = tmp / "bank-1.csv"
    bank.write_text("wallet,reference\nalias:investor_c,MIZUHO 0924-0001\n")
    recorded = munibond(url, manifest, "coupon", "offchain", "KNGW26", "1", str(bank))
    assert recorded.returncode == 0, recorded.stderr
    assert "recorded 1 bank payments, 0 already settled" in recorded.stdout
    before = nonces(web3, "treasury")
    recorded = munibond(url, manifest, "coupon", "offchain", "KNGW26", "1", str(bank))
    assert "recorded 0 bank payments, 1 already settled" in recorded.stdout
    assert nonces(web3, "treasury") == before

    preview = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "dry run: nothing sent" in preview.stdout and "funding sent now" in preview.stdout
    assert re.search(r"holders to pay +6\n +already settled +1\n", preview.stdout), preview.stdout
    assert nonces(web3, "treasury") == before

    paid = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--yes")
    assert paid.returncode == 0, paid.stderr
    assert "settled 6 holders (1 already settled)" in paid.stdout
    summary = paid.stdout.splitlines()[-1]
    assert summary.startswith("KNGW26 period 1 settled so far: 7 holders (1 by bank transfer, 0 escrowed)")
    tax_office = address_of(web3, "tax_office")
    assert cash.functions.balanceOf(tax_office).call() > 0

    at_record = tmp / "register-1.csv"
    listed = munibond(url, manifest, "holders", "KNGW26", "--period", "1", "--csv", str(at_record))
    assert listed.returncode == 0, listed.stderr
    status = list(csv.DictReader(at_record.read_text().splitlines()))
    assert len(status) == 7 and all(row["settled"] == "true" and row["escrowed"] == "0" for row in status)

    before = nonces(web3, "treasury")
    again = munibond(url, manifest, "coupon", "pay", "KNGW26", "1")
    assert again.returncode == 0, again.stderr
    assert "nothing to send" in again.stdout and again.stdout.splitlines()[-1] == summary
    assert nonces(web3, "treasury") == before

    # Everything payable was pushed: a holder's pull of all outstanding periods sends nothing.
    holder_nonce = nonces(web3, "investor_a")
    nothing = munibond(url, manifest, "coupon", "claim", "KNGW26", "--holder", "investor_a")
    assert nothing.returncode == 2 and "investor_a has nothing to claim on KNGW26" in nothing.stderr
    assert nonces(web3, "investor_a") == holder_nonce

    shown = munibond(url, manifest, "coupon", "status", "KNGW26")
    assert shown.returncode == 0, shown.stderr
    rows = [
        [cell.strip().replace(",", "") for cell in line.strip().strip("│").split("│")]
        for line in shown.stdout.splitlines()
        if line.startswith("│")
    ]
    cells = next(row for row in rows if row[0] == "1")
    required, funded, net, tax, escrowed, reclaimed, held = (int(c) for c in cells[2:9])
    assert funded == net + tax + escrowed + reclaimed + held
    assert tax == cash.functions.balanceOf(tax_office).call()

    # The payment record agrees with the period's accounts, holder by holder.
    record_file = tmp / "payments-1.csv"
    written = munibond(url, manifest, "coupon", "payments", "KNGW26", "1", "--csv", str(record_file))
    assert written.returncode == 0, written.stderr
    lines = list(csv.DictReader(record_file.read_text().splitlines()))
    assert len(lines) == 7 and {line["kind"] for line in lines} <= {"paid", "escrowed", "offchain"}
    (by_bank,) = (line for line in lines if line["kind"] == "offchain")
    assert by_bank["holder"] == address_of(web3, "investor_c") and by_bank["reference"].startswith("0x")
    assert required == funded + int(by_bank["coupon_gross"])  # the bank-paid coupon is not funded on chain
    on_chain = [line for line in lines if line["kind"] != "offchain"]  # the bank pays its own net and tax
    assert sum(int(line["net"]) for line in on_chain) == net
    assert sum(int(line["tax_total"]) for line in on_chain) == tax
    assert sum(int(line["coupon_gross"]) for line in lines if line["kind"] == "escrowed") == escrowed
    for line in lines:
        components = [int(v) for k, v in line.items() if k.startswith("tax_") and k != "tax_total"]
        assert sum(components) == int(line["tax_total"])
        # escrow holds the gross (withheld at release); a bank payment records the net the bank transfers
        escrowed_line = line["kind"] == "escrowed"
        assert int(line["net"]) == (0 if escrowed_line else int(line["coupon_gross"]) - sum(components))
    shown = munibond(url, manifest, "coupon", "payments", "KNGW26", "1")
    assert shown.returncode == 0 and f"7 settlements: net {net:,}, withheld {tax:,}" in shown.stdout, shown.stderr

    # investor_a's statement: the same payment, dated, with both withholding components
    (line_a,) = (line for line in lines if line["holder"] == address_of(web3, "investor_a"))
    statement = munibond(url, manifest, "coupon", "statement", "KNGW26", "investor_a")
    assert statement.returncode == 0, statement.stderr
    taxes = f"{int(line_a['tax_1']):,} + {int(line_a['tax_2']):,}"
    assert f"received on chain: coupons {int(line_a['coupon_gross']):,}, withholding {taxes}," in statement.stdout
    assert f"net {int(line_a['net']):,}" in statement.stdout
    unknown = munibond(url, manifest, "coupon", "payments", "KNGW26", "99")
    assert unknown.returncode == 2 and "period" in unknown.stderr


def test_redeem_before_maturity_is_refused_without_sending(node, workspace):
    url, web3 = node
    _tmp, _terms, manifest = workspace
    if "KNGW26" not in json.loads(manifest.read_text()).get("series", {}):
        pytest.fail("the deployment test must run first in this module")
    suspended = munibond(url, manifest, "transfers", "suspend", "KNGW26")
    assert suspended.returncode == 0 and "transfers suspended" in suspended.stdout, suspended.stderr
    again = munibond(url, manifest, "transfers", "suspend", "KNGW26")
    assert "(already)" in again.stdout
    resumed = munibond(url, manifest, "transfers", "resume", "KNGW26")
    assert resumed.returncode == 0 and "transfers open" in resumed.stdout, resumed.stderr
    before = nonces(web3, "treasury")
    result = munibond(url, manifest, "redeem", "KNGW26")
    assert result.returncode == 2
    assert "has not passed yet" in result.stderr
    assert nonces(web3, "treasury") == before


def test_serial_issue_is_deployed_in_one_transaction(node, tmp_path):
    url, web3 = node
    sheets = []
    for source in sorted((EXAMPLES / "serial").glob("*.yaml")):
        raw = yaml.safe_load(source.read_text())
        years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
        target = tmp_path / source.name
        target.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False))
        sheets.append(str(target))
    manifest = tmp_path / "serial.json"
    result = munibond(url, manifest, "deploy", *sheets, "--test-payment-token")
    assert result.returncode == 0, result.stderr
    series = json.loads(manifest.read_text())["series"]
    assert sorted(series) == ["HCGO28", "HCGO29", "HCGO30"]
    assert len({entry["block"] for entry in series.values()}) == 1, "one deploySerial transaction"
    assert len({entry["token"] for entry in series.values()}) == 3
    maturities = sorted(entry["maturity_date"] for entry in series.values())
    assert [m[:4] for m in maturities] == sorted({m[:4] for m in maturities})

    clash = tmp_path / "clash.yaml"
    clash.write_text(Path(sheets[0]).read_text().replace("HCGO28", "HCGO29"))
    refused = munibond(url, tmp_path / "other.json", "deploy", sheets[1], str(clash), "--test-payment-token")
    assert refused.returncode == 2
    assert "HCGO29 is also used by" in refused.stderr


@pytest.mark.parametrize("entry", ["munibond", "ape run"])
def test_bad_allocation_row_is_reported_by_both_entry_points(tmp_path, entry):
    bad = tmp_path / "allocations.csv"
    bad.write_text("wallet,units\nalias:investor_a,10\nalias:investor_b,1.5\n")
    if entry == "munibond":
        command = [sys.executable, "-m", "munibond", "issue", "KNGW26", str(bad)]
    else:
        command = [str(Path(sys.executable).with_name("ape")), "run", "issue", "KNGW26", str(bad)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert f"error: {bad}:3: units: must be a whole number of units" in result.stderr


def test_full_call_is_scheduled_and_cancels_the_later_periods(node, workspace):
    """Runs last in this module: a full call on the third coupon date replaces every later period."""
    url, web3 = node
    _tmp, terms, manifest = workspace
    if "KNGW26" not in json.loads(manifest.read_text()).get("series", {}):
        pytest.fail("the deployment test must run first in this module")
    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    periods = build_schedule(load_term_sheet(terms)).periods
    call_date = periods[2].accrual_end.isoformat()

    before = nonces(web3, "agent", "issuer")
    bad = munibond(url, manifest, "call", "KNGW26", call_date, "--price", "abc")
    assert bad.returncode == 2 and "price: must be a decimal" in bad.stderr
    other_price = munibond(url, manifest, "call", "KNGW26", call_date, "--price", "101")
    assert other_price.returncode == 2
    assert f"price: the term sheet's call on {call_date} is at 100.5, not 101" in other_price.stderr
    not_listed = munibond(url, manifest, "call", "KNGW26", periods[3].accrual_end.isoformat())
    assert not_listed.returncode == 2
    assert f"date: {periods[3].accrual_end}: is not a call date of the term sheet ({call_date})" in not_listed.stderr
    preview = munibond(url, manifest, "call", "KNGW26", call_date, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert f"call would be scheduled (dry run) as period {len(periods) + 1}" in preview.stdout
    assert nonces(web3, "agent", "issuer") == before

    result = munibond(url, manifest, "call", "KNGW26", call_date, "--yes")
    assert result.returncode == 0, result.stderr
    assert f"call scheduled as period {len(periods) + 1}" in result.stdout
    assert "at 100.5 % of face" in result.stdout
    after = nonces(web3, "agent", "issuer")
    assert after["agent"] == before["agent"]  # the admin (issuer) schedules it, not the agent
    assert after["issuer"] == before["issuer"] + 1
    again = munibond(url, manifest, "call", "KNGW26", call_date)  # a re-run after an interruption
    assert again.returncode == 0, again.stderr
    assert f"call already scheduled (nothing sent) as period {len(periods) + 1}" in again.stdout
    assert nonces(web3, "agent", "issuer") == after

    shown = munibond(url, manifest, "coupon", "status", "KNGW26")
    rows = {
        row[0]: row
        for row in (
            [cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in shown.stdout.splitlines()
            if line.startswith("│")
        )
    }
    assert rows["2"][-1] == "" and rows["3"][-1] == "cancelled"
    assert all(rows[str(i)][-1] == "cancelled" for i in range(3, len(periods) + 1))
    assert rows[str(len(periods) + 1)][-1] == ""
