"""The ethers v6 examples (examples/ethers/) against a series the library deployed on the test chain: their JSON
must agree with what the contracts say (read through Ape, not through the examples).

node and the examples' node_modules come from `make install`; when they are missing the tests fail, they do not
skip."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from munibond.allocations import Allocation
from munibond.chain import workflows
from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.issuance import issue
from tests.integration.example_series import EXAMPLES, ROOT, deploy_example_series

SYMBOL = "KNGW26"
EXAMPLE = ROOT / "examples" / "ethers"
ISSUED = {"investor_a": 40, "investor_b": 60}


def node() -> str:
    path = shutil.which("node")
    assert path is not None, "node is not on PATH (make install needs it for js/ and examples/ethers/)"
    return path


def require_installed() -> None:
    for needed in (EXAMPLE / "node_modules" / "ethers", ROOT / "js" / "dist" / "index.js"):
        assert needed.exists(), f"{needed.relative_to(ROOT)} is missing: run make install"


def run_example(script: str, url: str, manifest: Path, *args: str, key: str | None = None) -> tuple[int, Any]:
    """(exit status, parsed JSON stdout) of `node examples/ethers/<script>`; stderr must stay empty."""
    env = {k: v for k, v in os.environ.items() if k != "MUNIBOND_PRIVATE_KEY"}
    if key is not None:
        env["MUNIBOND_PRIVATE_KEY"] = key
    command = [node(), script, "--rpc", url, "--manifest", str(manifest), "--symbol", SYMBOL, *args]
    result = subprocess.run(command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120)
    assert result.stderr == "", result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    """KNGW26 deployed through the library, the example investors onboarded, 40 units issued to investor_a and
    60 to investor_b, and the first coupon paid; returns (session, token, agent, manifest path, node URL)."""
    require_installed()
    tmp = tmp_path_factory.mktemp("ethers")
    s, entry, _terms = deploy_example_series(project, chain, tmp)
    rows = workflows.load_investors(EXAMPLES / "investors.csv", b"ethers-example", now=s.now())
    workflows.import_investors(s, EXAMPLES / "investors.csv", rows, registrar="registrar")
    token = bond_token(s.project, entry["token"])
    allocations = [Allocation(i, s.signers.address(alias), units) for i, (alias, units) in enumerate(ISSUED.items(), 2)]
    issue(token, allocations, s.signers.account("agent"), start_block=int(entry["block"]))
    treasury = s.signers.account("treasury")
    s.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**12, sender=treasury)
    agent = payment_agent(s.project, entry["payment_agent"])
    chain.mine(timestamp=int(agent.periodTerms(0).paymentTime))
    paid = workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=50)
    assert len(paid.payments) == len(ISSUED)
    return s, token, agent, tmp / "manifest.json", chain.provider.http_uri


def test_read_bond_shows_the_terms_and_schedule_on_chain(series):
    _s, token, agent, manifest, url = series
    status, bond = run_example("read-bond.mjs", url, manifest)
    assert status == 0
    assert (bond["name"], bond["symbol"], bond["isin"]) == (token.name(), SYMBOL, token.isin())
    assert bond["address"] == token.address and int(bond["totalSupply"]) == int(token.totalSupply()) == 100
    terms = token.bondTerms()
    assert int(bond["terms"]["denomination"]) == int(terms.denomination)
    assert bond["terms"]["couponRate"] == f"{terms.couponRate}/{token.COUPON_RATE_SCALE()}"
    assert Decimal(bond["terms"]["couponRatePercent"]) == Decimal(int(terms.couponRate)) / 10**6
    assert bond["terms"]["paymentToken"]["address"] == agent.paymentToken()
    assert len(bond["periods"]) == int(agent.periodCount()) > 1
    for index, shown in enumerate(bond["periods"]):
        on_chain = agent.periodTerms(index)
        assert shown["period"] == index + 1
        assert shown["couponPerUnit"] == f"{on_chain.couponNum}/{on_chain.couponDen}"
        assert shown["closed"] == bool(agent.periodState(index).closed)


def test_check_transfer_reports_the_tokens_restriction_code_and_message(series):
    s, token, _agent, manifest, url = series
    a, f = s.signers.address("investor_a"), s.signers.address("investor_f")
    status, check = run_example("check-transfer.mjs", url, manifest, "--from", a, "--to", f, "--amount", "5")
    code = int(token.detectTransferRestriction(a, f, 5))
    assert status == 0 and code != 0  # investor_f lives outside Kanagawa: a residents-only bond refuses it
    assert check == {
        "from": a,
        "to": f,
        "amount": "5",
        "allowed": False,
        "code": code,
        "message": token.messageForTransferRestriction(code),
    }


def test_transfer_moves_units_and_a_refused_one_is_decoded_to_its_custom_error(series):
    s, token, _agent, manifest, url = series
    a, c, f = (s.signers.address(x) for x in ("investor_a", "investor_c", "investor_f"))
    key = s.signers.account("investor_a").private_key
    before = int(token.balanceOf(a)), int(token.balanceOf(c))

    status, sent = run_example("transfer.mjs", url, manifest, "--to", c, "--amount", "15", key=key)
    assert status == 0 and sent["outcome"] == "transferred" and sent["precheck"]["code"] == 0
    assert (int(token.balanceOf(a)), int(token.balanceOf(c))) == (before[0] - 15, before[1] + 15)

    code = int(token.detectTransferRestriction(a, f, 5))
    status, held = run_example("transfer.mjs", url, manifest, "--to", f, "--amount", "5", key=key)
    assert status == 1 and held["outcome"] == "not sent" and held["precheck"]["code"] == code

    status, refused = run_example("transfer.mjs", url, manifest, "--to", f, "--amount", "5", "--try-anyway", key=key)
    assert status == 1 and refused["outcome"] == "refused"
    error = refused["error"]
    assert error["name"] == "TransferRestricted"
    assert error["signature"] == "TransferRestricted(uint8,address,address,uint256,uint256)"
    assert (int(error["args"]["code"]), error["args"]["from"], error["args"]["to"], int(error["args"]["amount"])) == (
        code,
        a,
        f,
        5,
    )
    assert error["message"] == token.messageForTransferRestriction(code)
    assert int(token.balanceOf(a)) == before[0] - 15 and int(token.balanceOf(f)) == 0


def test_history_rebuilds_the_register_and_the_coupon_payments_from_events(series):
    s, token, agent, manifest, url = series
    status, history = run_example("history.mjs", url, manifest, "--chunk", "7")
    assert status == 0
    holders = {h["wallet"]: int(h["units"]) for h in history["holders"]}
    # the transfer test (when it ran first) moved 15 units from investor_a to investor_c: the register follows
    wallets = [s.signers.address(alias) for alias in ("investor_a", "investor_b", "investor_c")]
    expected = {w: int(token.balanceOf(w)) for w in wallets if int(token.balanceOf(w)) > 0}
    assert holders == expected and sum(holders.values()) == int(token.totalSupply()) == int(history["totalUnits"])

    (first,) = history["payments"]
    assert first["period"] == 1
    accounts = agent.accounts(0)
    totals = {k: int(v) for k, v in first["totals"].items()}
    assert int(first["funded"]) == int(accounts.funded) > 0
    assert totals["net"] == int(accounts.paidNet) > 0
    assert totals["tax"] == int(accounts.taxWithheld) > 0
    assert totals["couponGross"] == int(accounts.settledGross) == totals["net"] + totals["tax"]
    assert totals["principalGross"] == totals["escrowedGross"] == totals["offchainGross"] == 0
    record_time = int(agent.periodTerms(0).recordTime)
    paid = {p["holder"]: int(p["couponGross"]) for p in first["payments"]}
    for alias, units in ISSUED.items():
        wallet = s.signers.address(alias)
        assert int(token.balanceOfAt(wallet, record_time)) == units
        assert paid[wallet] == int(agent.entitlement(0, wallet)[0]) > 0


def test_a_manifest_without_the_symbol_is_bad_input(series, tmp_path):
    _s, _token, _agent, manifest, url = series
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**json.loads(manifest.read_text()), "series": {}}))
    result = subprocess.run(
        [node(), "read-bond.mjs", "--rpc", url, "--manifest", str(other), "--symbol", SYMBOL],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: {other}: no series {SYMBOL} (deployed: none)\n"


def test_the_examples_type_check_against_the_typed_abis():
    """tsc (js/'s pinned TypeScript) checks the scripts' JSDoc types in strict mode (examples/ethers/jsconfig.json)."""
    require_installed()
    tsc = ROOT / "js" / "node_modules" / "typescript" / "bin" / "tsc"
    assert tsc.exists(), "js/node_modules is missing: run make install"
    result = subprocess.run(
        [node(), str(tsc), "-p", "jsconfig.json"], cwd=EXAMPLE, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_integration_guides_javascript_blocks_run_against_the_series(series):
    """docs/integration.md's JavaScript blocks, in order, as one module beside the examples (so it resolves ethers
    and @munibond/abi as they do); its last line must agree with the contracts."""
    _s, token, _agent, manifest, url = series
    guide = (ROOT / "docs" / "integration.md").read_text()
    section = guide[guide.index("## JavaScript (ethers v6)") :]
    blocks = [block.split("```", 1)[0] for block in section.split("```js\n")[1:]]
    assert len(blocks) >= 3
    module = EXAMPLE / "integration-guide.generated.mjs"
    module.write_text("\n".join(blocks))
    env = {**os.environ, "RPC": url, "MANIFEST": str(manifest), "SYMBOL": SYMBOL}
    try:
        result = subprocess.run(
            [node(), module.name], cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        module.unlink()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == token.isin()
    summary = json.loads(lines[-1])
    assert summary["code"] == token.detectTransferRestriction(summary["holder"], summary["other"], 1)
    assert summary["payments"] == len(ISSUED)
