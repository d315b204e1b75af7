"""The operator commands on a network that is not a friendly development node, through the real `munibond` command:
a free-gas chain (anvil at gas price 0 and base fee 0, as a Besu/QBFT network) whose settings in `munibond.yaml`
ask for legacy transactions at price 0; a node behind a proxy that drops connections and answers 503; a node that
goes away; confirmations under interval mining. Every holder is paid exactly once throughout.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from web3 import HTTPProvider, Web3

from munibond.abi_export import load_abi
from munibond.demo import shift_dates, years_to_start_after
from tests.integration.test_cli_workflow import EXAMPLES, MNEMONIC, ROOT, _free_port, address_of

SALT = "real-networks-salt"


class FlakyProxy:
    """An HTTP JSON-RPC proxy in front of anvil (a thread of the test) that fails requests on purpose.

    `plan[method]` lists what happens to that method's next calls, one entry each: `"503"` (answered 503, not
    forwarded), `"drop"` (connection closed, not forwarded), `"lost"` (forwarded, then the connection closed before
    the answer: the node has it, the client never hears). `down` answers 503 to everything."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.plan: dict[str, list[str]] = {}
        self.down = False
        self.seen: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = json.loads(body)
                method = request["method"] if isinstance(request, dict) else "batch"
                with proxy.lock:
                    proxy.seen[method] += 1
                    planned = proxy.plan.get(method)
                    action = "503" if proxy.down else (planned.pop(0) if planned else "ok")
                    if action != "ok":
                        proxy.failed[method] += 1
                if action == "503":
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if action == "drop":
                    self.close_connection = True
                    return
                forwarded = urllib.request.Request(
                    proxy.upstream, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(forwarded, timeout=60) as response:
                    answer = response.read()
                if action == "lost":
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def free_gas_node(node_hardfork):
    """anvil as a free-gas permissioned chain: gas price 0, base fee 0."""
    anvil = shutil.which("anvil") or str(ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    port = _free_port()
    process = subprocess.Popen(
        [
            anvil,
            "--port",
            str(port),
            "--accounts",
            "20",
            "--mnemonic",
            MNEMONIC,
            "--hardfork",
            node_hardfork,
            "--gas-price",
            "0",
            "--base-fee",
            "0",
            "--silent",
        ],
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
    proxy = FlakyProxy(url)
    yield proxy, web3
    proxy.close()
    process.terminate()
    process.wait(timeout=10)


def run(proxy: FlakyProxy, bond: dict, *args: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "munibond",
            "--workspace",
            str(bond["workspace"]),
            *args,
            "--network",
            proxy.url,
            "--manifest",
            str(bond["manifest"]),
            *extra,
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in ("MUNIBOND_WORKSPACE", "MUNIBOND_NETWORK")},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def bond(tmp_path_factory, free_gas_node):
    """A workspace whose `networks` entry for the proxy's URL asks for legacy transactions at price 0 and quick
    retries; KNGW26 deployed, its investors imported and its allocations issued through the proxy."""
    proxy, web3 = free_gas_node
    tmp = tmp_path_factory.mktemp("real-networks")
    settings = {
        "version": 1,
        "networks": {
            proxy.url: {
                "gas": {"type": "legacy", "price": 0},
                "retries": {"attempts": 3, "backoff": 0.05, "max_delay": 0.2},
            }
        },
    }
    (tmp / "munibond.yaml").write_text(yaml.safe_dump(settings))
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    (tmp / "salt").write_text(SALT + "\n")
    bond = {"workspace": tmp, "manifest": tmp / "manifest.json", "terms": terms}
    start = web3.eth.block_number
    for args in (
        ("deploy", str(terms), "--test-payment-token"),
        ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(tmp / "salt"), "--yes"),
        ("issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes"),
    ):
        done = run(proxy, bond, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    bond["setup_blocks"] = (start + 1, web3.eth.block_number)
    deployed = json.loads(bond["manifest"].read_text())
    series = deployed["series"]["KNGW26"]
    bond["agent"] = web3.eth.contract(address=series["payment_agent"], abi=load_abi("BondSeries"))
    bond["token"] = web3.eth.contract(address=series["token"], abi=load_abi("BondSeries"))
    return bond


def transactions_in(web3: Web3, first: int, last: int) -> list[dict]:
    return [tx for number in range(first, last + 1) for tx in web3.eth.get_block(number, True)["transactions"]]


def at_payment_date(web3: Web3, bond: dict, period: int) -> None:
    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    terms = build_schedule(load_term_sheet(bond["terms"])).periods[period - 1]
    web3.provider.make_request("evm_setNextBlockTimestamp", [terms.payment_time])
    web3.provider.make_request("evm_mine", [])


def payments_of(web3: Web3, bond: dict, period: int) -> Counter[str]:
    """Holder -> how many `PaymentMade` events period `period` (from 1) has for it."""
    logs = bond["agent"].events.PaymentMade.get_logs(from_block=0)
    return Counter(str(log["args"]["holder"]) for log in logs if int(log["args"]["period"]) == period - 1)


def holders_at_record(web3: Web3, bond: dict, period: int) -> set[str]:
    """The wallets of the allocations file holding units at the period's record time."""
    record_time = int(bond["agent"].functions.periodTerms(period - 1).call()[0])
    rows = (EXAMPLES / "allocations.csv").read_text().splitlines()[1:]
    wallets = {address_of(web3, row.split(",")[0].removeprefix("alias:")) for row in rows}
    return {wallet for wallet in wallets if bond["token"].functions.balanceOfAt(wallet, record_time).call()}


def fund_treasury(proxy: FlakyProxy, bond: dict) -> None:
    funded = run(proxy, bond, "fund", "KNGW26", "--amount", "1000000")
    assert funded.returncode == 0, funded.stderr


def test_a_free_gas_network_gets_legacy_transactions_at_price_0(free_gas_node, bond):
    proxy, web3 = free_gas_node
    at_payment_date(web3, bond, 1)
    fund_treasury(proxy, bond)
    start = web3.eth.block_number + 1
    paid = run(proxy, bond, "coupon", "pay", "KNGW26", "1", "--yes")
    assert paid.returncode == 0, paid.stderr
    sent = transactions_in(web3, start, web3.eth.block_number)
    setup = transactions_in(web3, *bond["setup_blocks"])
    assert len(sent) >= 2 and len(setup) > 10
    for tx in sent + setup:
        assert tx["type"] == 0 and tx["gasPrice"] == 0, tx
        receipt = web3.eth.get_transaction_receipt(tx["hash"])
        assert receipt["status"] == 1 and receipt["effectiveGasPrice"] == 0
    payments = payments_of(web3, bond, 1)
    assert set(payments) == holders_at_record(web3, bond, 1) and set(payments.values()) == {1}


def test_transient_node_errors_are_retried_and_every_holder_is_paid_once(free_gas_node, bond):
    proxy, web3 = free_gas_node
    at_payment_date(web3, bond, 2)
    treasury = address_of(web3, "treasury")
    nonce = web3.eth.get_transaction_count(treasury)
    # reads fail now and then; the first send is received but unanswered, the next dropped before it arrives,
    # the one after refused with 503
    proxy.plan = {
        "eth_call": ["503", "ok", "drop", "ok", "503"],
        "eth_getTransactionReceipt": ["drop"],
        "eth_getTransactionCount": ["503"],
        "batch": ["drop", "ok", "503"],
        "eth_sendRawTransaction": ["lost", "drop", "ok", "503"],
    }
    try:
        paid = run(proxy, bond, "coupon", "pay", "KNGW26", "2", "--yes")
    finally:
        leftover = {method: actions for method, actions in proxy.plan.items() if actions}
        proxy.plan = {}
    assert paid.returncode == 0, paid.stderr
    assert "Traceback" not in paid.stderr
    assert not leftover, leftover
    assert "retry 1/3" in paid.stderr and "sending the same transaction again" in paid.stderr
    payments = payments_of(web3, bond, 2)
    assert set(payments) == holders_at_record(web3, bond, 2) and set(payments.values()) == {1}
    # approve, fund and one push: each sent once whatever the proxy did
    assert web3.eth.get_transaction_count(treasury) - nonce == 3


def test_a_node_that_stays_away_ends_the_run_in_one_line_and_a_rerun_finishes_it(free_gas_node, bond):
    proxy, web3 = free_gas_node
    at_payment_date(web3, bond, 3)
    # the funding goes through, then the node stops answering before the push
    proxy.plan = {"eth_sendRawTransaction": ["ok", "ok"]}
    original_plan_len = 2
    treasury = address_of(web3, "treasury")
    nonce = web3.eth.get_transaction_count(treasury)

    def go_down_after_two_sends() -> None:
        deadline = time.monotonic() + 120
        while proxy.seen["eth_sendRawTransaction"] < proxy_sends_before + original_plan_len:
            if time.monotonic() > deadline:
                return
            time.sleep(0.01)
        proxy.down = True

    proxy_sends_before = proxy.seen["eth_sendRawTransaction"]
    watcher = threading.Thread(target=go_down_after_two_sends, daemon=True)
    watcher.start()
    try:
        cut = run(proxy, bond, "coupon", "pay", "KNGW26", "3", "--yes")
    finally:
        watcher.join(timeout=5)
        proxy.down = False
        proxy.plan = {}
    assert cut.returncode == 2, (cut.stdout, cut.stderr)
    assert "Traceback" not in cut.stderr
    errors = [line for line in cut.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "the node did not answer" in errors[0] and "run the command again" in errors[0]
    assert not payments_of(web3, bond, 3)
    assert web3.eth.get_transaction_count(treasury) - nonce <= 2

    again = run(proxy, bond, "coupon", "pay", "KNGW26", "3", "--yes")
    assert again.returncode == 0, again.stderr
    payments = payments_of(web3, bond, 3)
    assert set(payments) == holders_at_record(web3, bond, 3) and set(payments.values()) == {1}


def test_confirmations_are_waited_for_after_each_transaction(free_gas_node, bond):
    proxy, web3 = free_gas_node
    at_payment_date(web3, bond, 4)
    treasury = address_of(web3, "treasury")
    start = web3.eth.block_number + 1
    web3.provider.make_request("evm_setAutomine", [False])
    web3.provider.make_request("evm_setIntervalMining", [1])
    try:
        paid = run(proxy, bond, "coupon", "pay", "KNGW26", "4", "--yes", extra=("--confirmations", "2"))
        finished_at = web3.eth.block_number
    finally:
        web3.provider.make_request("evm_setIntervalMining", [0])
        web3.provider.make_request("evm_setAutomine", [True])
    assert paid.returncode == 0, paid.stderr
    blocks = [tx["blockNumber"] for tx in transactions_in(web3, start, finished_at) if tx["from"] == treasury]
    assert len(blocks) == 3, blocks
    # each transaction was sent once the previous one had 2 blocks on top of its own
    assert all(later >= earlier + 3 for earlier, later in itertools.pairwise(blocks)), blocks
    assert finished_at >= blocks[-1] + 2
    payments = payments_of(web3, bond, 4)
    assert set(payments) == holders_at_record(web3, bond, 4) and set(payments.values()) == {1}


def test_an_eip1559_network_gets_type_2_transactions_with_the_set_priority_fee(free_gas_node, bond):
    proxy, web3 = free_gas_node
    settings_file = bond["workspace"] / "munibond.yaml"
    legacy = settings_file.read_text()
    settings = yaml.safe_load(legacy)
    settings["networks"][proxy.url]["gas"] = {"type": "eip1559", "priority_fee": 7}
    settings_file.write_text(yaml.safe_dump(settings))
    at_payment_date(web3, bond, 5)
    treasury = address_of(web3, "treasury")
    start = web3.eth.block_number + 1
    try:
        paid = run(proxy, bond, "coupon", "pay", "KNGW26", "5", "--yes")
    finally:
        settings_file.write_text(legacy)
    assert paid.returncode == 0, paid.stderr
    sent = [tx for tx in transactions_in(web3, start, web3.eth.block_number) if tx["from"] == treasury]
    assert len(sent) >= 2
    for tx in sent:
        latest_then = int(web3.eth.get_block(tx["blockNumber"] - 1)["baseFeePerGas"])  # automine: the parent
        base_fee = int(web3.eth.get_block(tx["blockNumber"])["baseFeePerGas"])
        # the fee cap is set again before each transaction: twice the latest base fee plus the priority fee
        assert tx["type"] == 2 and tx["maxPriorityFeePerGas"] == 7 and tx["maxFeePerGas"] == 2 * latest_then + 7, tx
        assert web3.eth.get_transaction_receipt(tx["hash"])["effectiveGasPrice"] == base_fee + 7
    payments = payments_of(web3, bond, 5)
    assert set(payments) == holders_at_record(web3, bond, 5) and set(payments.values()) == {1}


def test_network_settings_are_checked_before_connecting(free_gas_node, bond, tmp_path):
    proxy, _web3 = free_gas_node
    (tmp_path / "munibond.yaml").write_text(
        yaml.safe_dump({"networks": {"1": {"gas": {"type": "legacy", "max_fee": 1}}}})
    )
    refused = run(proxy, {"workspace": tmp_path, "manifest": bond["manifest"]}, "holders", "KNGW26")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "networks.1.gas.max_fee: unknown setting" in refused.stderr


def safe_transactions(path: Path, safe: str) -> list[dict]:
    """The transactions of a Safe Transaction Builder batch file, after checking its envelope."""
    batch = json.loads(path.read_text())
    assert batch["version"] == "1.0" and batch["chainId"] == "31337" and isinstance(batch["createdAt"], int)
    assert batch["meta"]["createdFromSafeAddress"] == safe and batch["meta"]["name"].startswith("KNGW26: ")
    for tx in batch["transactions"]:
        assert set(tx) <= {"to", "value", "data", "contractMethod", "contractInputsValues"} and tx["value"] == "0"
    return batch["transactions"]


def execute_as(web3: Web3, safe: str, transactions: list[dict]) -> None:
    """What the Safe does once its owners have signed: each call from the Safe's address."""
    web3.provider.make_request("anvil_impersonateAccount", [safe])
    try:
        for tx in transactions:
            sent = web3.eth.send_transaction(
                {"from": safe, "to": tx["to"], "value": int(tx["value"]), "data": tx["data"], "gasPrice": 0}
            )
            assert web3.eth.wait_for_transaction_receipt(sent)["status"] == 1
    finally:
        web3.provider.make_request("anvil_stopImpersonatingAccount", [safe])


def test_admin_operations_are_proposed_to_a_safe_as_a_transaction_builder_file(free_gas_node, bond):
    from eth_account import Account

    proxy, web3 = free_gas_node
    token = bond["token"]
    safe = Account.create().address
    issuer = address_of(web3, "issuer")
    # checked before anything is written: the Safe must hold the role
    early = bond["workspace"] / "early.json"
    refused = run(proxy, bond, "transfers", "suspend", "KNGW26", "--freezer", safe, "--propose-safe", str(early))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr and not early.exists()
    assert f"the Safe {safe} does not have the freezer role of KNGW26: nothing written" in refused.stderr
    for role in ("FREEZER_ROLE", "DOCUMENT_ROLE"):
        granted = token.functions.grantRole(getattr(token.functions, role)().call(), safe).transact({"from": issuer})
        assert web3.eth.wait_for_transaction_receipt(granted)["status"] == 1
    everyone = {alias: web3.eth.get_transaction_count(address_of(web3, alias)) for alias in ("issuer", "agent")}

    suspend = bond["workspace"] / "suspend.json"
    proposed = run(proxy, bond, "transfers", "suspend", "KNGW26", "--freezer", safe, "--propose-safe", str(suspend))
    assert proposed.returncode == 0, proposed.stderr
    assert f"wrote 1 transaction(s) for the Safe {safe}" in proposed.stdout
    (pause,) = safe_transactions(suspend, safe)
    function, arguments = token.decode_function_input(pause["data"])
    assert pause["to"] == token.address and function.fn_name == "pause" and arguments == {}
    assert pause["contractMethod"] == {"inputs": [], "name": "pause", "payable": False}

    digest = "0x" + "ab" * 32
    publish = bond["workspace"] / "document.json"
    args = ("documents", "set", "KNGW26", "annual_report_2027", "ipfs://report-2027", "--sha256", digest)
    proposed = run(proxy, bond, *args, "--manager", safe, "--propose-safe", str(publish))
    assert proposed.returncode == 0, proposed.stderr
    (document,) = safe_transactions(publish, safe)
    function, arguments = token.decode_function_input(document["data"])
    assert function.fn_name == "setDocument"
    key = b"annual_report_2027".ljust(32, b"\0")
    assert list(arguments.values()) == [key, "ipfs://report-2027", bytes.fromhex(digest[2:])]
    assert document["contractMethod"]["name"] == "setDocument"
    shown = document["contractInputsValues"]
    assert list(shown) == [item["name"] for item in document["contractMethod"]["inputs"]]
    assert list(shown.values()) == ["0x" + key.hex(), "ipfs://report-2027", digest]

    # nothing was sent: the token is open and has no such document; no account signed anything
    assert not token.functions.paused().call()
    assert {alias: web3.eth.get_transaction_count(address_of(web3, alias)) for alias in everyone} == everyone

    execute_as(web3, safe, [pause, document])
    assert token.functions.paused().call()
    listed = run(proxy, bond, "documents", "list", "KNGW26")
    assert listed.returncode == 0 and "ipfs://report-2027" in listed.stdout, listed.stderr

    # done by the Safe: a second proposal has nothing to propose and writes no file
    again = bond["workspace"] / "again.json"
    proposed = run(proxy, bond, "transfers", "suspend", "KNGW26", "--freezer", safe, "--propose-safe", str(again))
    assert proposed.returncode == 0 and "nothing to propose" in proposed.stdout and not again.exists()

    resume = bond["workspace"] / "resume.json"
    proposed = run(proxy, bond, "transfers", "resume", "KNGW26", "--freezer", safe, "--propose-safe", str(resume))
    assert proposed.returncode == 0, proposed.stderr
    execute_as(web3, safe, safe_transactions(resume, safe))
    assert not token.functions.paused().call()


def test_an_amendment_by_a_safe_admin_is_proposed_and_recorded_once_executed(free_gas_node, bond):
    """The redemption price corrected (only the last period changes): two admin calls for the Safe; the manifest
    follows once the Safe has executed them and `amend` runs again."""
    from eth_account import Account

    from munibond.terms import term_sheet_hash

    proxy, web3 = free_gas_node
    agent = bond["agent"]
    safe = Account.create().address
    granted = agent.functions.grantRole(b"\0" * 32, safe).transact({"from": address_of(web3, "issuer")})
    assert web3.eth.wait_for_transaction_receipt(granted)["status"] == 1
    raw = yaml.safe_load(bond["terms"].read_text())
    raw["redemption"]["price"] = "100.5"
    corrected = bond["workspace"] / "corrected.yaml"
    corrected.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    last = agent.functions.periodCount().call() - 1
    before = agent.functions.periodTerms(last).call()

    target = bond["workspace"] / "amend.json"
    proposed = run(proxy, bond, "amend", "KNGW26", str(corrected), "--admin", safe, "--propose-safe", str(target))
    assert proposed.returncode == 0, proposed.stderr
    assert "would amend 1 periods; term-sheet hash would be updated" in proposed.stdout
    assert "wrote 2 transaction(s)" in proposed.stdout
    assert agent.functions.periodTerms(last).call() == before
    manifest = json.loads(bond["manifest"].read_text())
    assert manifest["series"]["KNGW26"]["term_sheet"] != "corrected.yaml"

    amend_period, set_hash = safe_transactions(target, safe)
    function, arguments = agent.decode_function_input(amend_period["data"])
    assert function.fn_name == "amendPeriod" and "contractMethod" not in amend_period
    assert next(iter(arguments.values())) == last
    function, arguments = agent.decode_function_input(set_hash["data"])
    assert function.fn_name == "setTermSheetHash" and list(arguments.values()) == [term_sheet_hash(corrected)]
    assert list(set_hash["contractInputsValues"].values()) == ["0x" + term_sheet_hash(corrected).hex()]

    execute_as(web3, safe, [amend_period, set_hash])
    after = agent.functions.periodTerms(last).call()
    assert after[6] * 200 == before[6] * 201  # the principal per unit at 100.5 % instead of 100 %
    assert agent.functions.termSheetHash().call() == term_sheet_hash(corrected)

    recorded = run(proxy, bond, "amend", "KNGW26", str(corrected), "--admin", safe)
    assert recorded.returncode == 0 and "amended 0 periods" in recorded.stdout, recorded.stderr
    manifest = json.loads(bond["manifest"].read_text())
    assert (bond["workspace"] / manifest["series"]["KNGW26"]["term_sheet"]).resolve() == corrected.resolve()


def test_a_call_by_a_safe_admin_is_proposed_with_its_calldata(free_gas_node, bond):
    """`scheduleCall` takes a struct: the batch carries its calldata only (the app shows raw data)."""
    from eth_account import Account

    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    proxy, web3 = free_gas_node
    token, agent = bond["token"], bond["agent"]
    safe = Account.create().address
    issuer = address_of(web3, "issuer")
    for contract in {token.address: token, agent.address: agent}.values():
        admin_role = contract.functions.DEFAULT_ADMIN_ROLE().call()
        granted = contract.functions.grantRole(admin_role, safe).transact({"from": issuer})
        assert web3.eth.wait_for_transaction_receipt(granted)["status"] == 1
    periods = build_schedule(load_term_sheet(bond["terms"])).periods
    call_date = periods[7].accrual_end.isoformat()
    count = agent.functions.periodCount().call()

    target = bond["workspace"] / "call.json"
    args = ("call", "KNGW26", call_date, "--off-schedule", "--admin", safe, "--propose-safe", str(target), "--yes")
    proposed = run(proxy, bond, *args)
    assert proposed.returncode == 0, proposed.stderr
    assert "proposed to the Safe (nothing sent)" in proposed.stdout and agent.functions.periodCount().call() == count
    (scheduled,) = safe_transactions(target, safe)
    assert "contractMethod" not in scheduled and scheduled["to"] == agent.address
    function, arguments = agent.decode_function_input(scheduled["data"])
    assert function.fn_name == "scheduleCall"

    execute_as(web3, safe, [scheduled])
    assert agent.functions.periodCount().call() == count + 1
    assert tuple(agent.functions.periodTerms(count).call()) == tuple(arguments["terms"].values())
    again = run(proxy, bond, "call", "KNGW26", call_date, "--off-schedule", "--admin", safe, "--yes")
    assert again.returncode == 0 and "already scheduled (nothing sent)" in again.stdout, again.stderr
