"""Confirm before money moves, through the real `munibond` command against its own anvil: every command that
mints or pays runs its checks, shows the preview (currency units, holders, transactions, the payer's balance
after) and asks. "n" sends nothing, "y" sends, `--dry-run` shows the same preview and sends nothing, `--yes` runs
from a script, a standard input with no answer is refused in one line (exit 2); a re-run of a paid period prints
the same summary from chain and sends nothing; every run is in the append-only audit log.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from munibond.demo import shift_dates, years_to_start_after
from tests.integration.test_cli_workflow import EXAMPLES, ROOT, address_of, nonces
from tests.integration.test_treasury_safety import node  # noqa: F401  (the module's own anvil)

SALT = "confirm-salt"


def munibond(
    url: str, manifest: Path, *args: str, answer: str | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """`munibond ARGS`; `answer` is typed on standard input, else standard input is empty (/dev/null)."""
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=dict(os.environ),
        input=answer,
        stdin=subprocess.DEVNULL if answer is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def preview_lines(stdout: str) -> list[str]:
    """The preview block: its title line and the indented lines under it, up to the transactions count."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("KNGW26", "investors: import")))
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("transactions"))
    return lines[start : end + 1]


def value(lines: list[str], label: str) -> str:
    return next(line.strip()[len(label) :].strip() for line in lines if line.strip().startswith(label))


def audit_entries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture(scope="module")
def bond(tmp_path_factory, node):  # noqa: F811
    url, web3 = node
    tmp = tmp_path_factory.mktemp("confirm")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    deployed = munibond(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert deployed.returncode == 0, deployed.stderr
    salt_file = tmp / "salt"
    salt_file.write_text(SALT + "\n")
    return {"tmp": tmp, "terms": terms, "manifest": manifest, "salt": salt_file, "log": tmp / "audit.log"}


def test_import_and_issue_ask_first(node, bond):  # noqa: F811
    url, web3 = node
    manifest, log = bond["manifest"], bond["log"]
    importing = ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(bond["salt"]))

    before = nonces(web3, "registrar")
    silent = munibond(url, manifest, *importing)  # a script that forgot --yes: refused, never waiting
    assert silent.returncode == 2, (silent.stdout, silent.stderr)
    (line,) = [x for x in silent.stderr.splitlines() if x.strip()]
    assert line.startswith("error: --yes: standard input is not interactive")
    declined = munibond(url, manifest, *importing, answer="n\n")
    assert declined.returncode == 1, declined.stderr
    assert "investors to register  7" in declined.stdout and "cancelled: nothing was sent" in declined.stderr
    dry = munibond(url, manifest, *importing, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert preview_lines(dry.stdout) == preview_lines(declined.stdout)
    assert nonces(web3, "registrar") == before

    accepted = munibond(url, manifest, *importing, answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert preview_lines(accepted.stdout) == preview_lines(dry.stdout)
    assert "registered 7, updated 0, linked 1" in accepted.stdout
    assert "tx 0x" in accepted.stdout
    assert nonces(web3, "registrar")["registrar"] > before["registrar"]

    allocations = str(EXAMPLES / "allocations.csv")
    allocated = sum(int(x.split(",")[1]) for x in (EXAMPLES / "allocations.csv").read_text().splitlines()[1:])
    # a mint the token would refuse (an unregistered wallet) is named before anything is sent
    stranger = bond["tmp"] / "stranger.csv"
    stranger.write_text("wallet,units\nalias:investor_h,5\n")
    before = nonces(web3, "agent")
    refused = munibond(url, manifest, "issue", "KNGW26", str(stranger), "--yes")
    assert refused.returncode == 2, refused.stderr
    assert f"the token would refuse 1 mint(s): 5 units to {address_of(web3, 'investor_h')}" in refused.stderr
    dry = munibond(url, manifest, "issue", "KNGW26", allocations, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    lines = preview_lines(dry.stdout)
    assert value(lines, "units").startswith(f"{allocated:,} (face value ")
    assert "dry run: nothing sent" in dry.stdout
    assert nonces(web3, "agent") == before
    issued = munibond(url, manifest, "issue", "KNGW26", allocations, "--yes")
    assert issued.returncode == 0, issued.stderr
    assert preview_lines(issued.stdout) == lines
    assert f"minted {allocated} units now" in issued.stdout

    entries = audit_entries(log)
    refusals = [e for e in entries if e["event"] == "end" and e["outcome"] == "refused"]
    assert {e["command"] for e in refusals} == {"investors import", "issue"}
    assert any("mint(s)" in e.get("message", "") for e in refusals)
    assert [e["outcome"] for e in entries if e["event"] == "end" and e["command"] == "investors import"] == [
        "refused",
        "declined",
        "dry run",
        "completed",
    ]


def test_coupon_pay_previews_asks_and_prints_the_summary_again(node, bond):  # noqa: F811
    url, web3 = node
    manifest, log = bond["manifest"], bond["log"]
    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    first = build_schedule(load_term_sheet(bond["terms"])).periods[0]
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])
    funded = munibond(url, manifest, "fund", "KNGW26", "--amount", "1000000", "--to", "treasury")
    assert funded.returncode == 0, funded.stderr

    before = nonces(web3, "treasury")
    dry = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    shown = preview_lines(dry.stdout)
    assert value(shown, "holders to pay") == "7"
    assert value(shown, "payer balance").startswith("1,000,000 JPY now, ")
    net = value(shown, "net to holders")
    assert net.endswith(" JPY")
    declined = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", answer="n\n")
    assert declined.returncode == 1 and "cancelled: nothing was sent" in declined.stderr
    assert preview_lines(declined.stdout) == shown
    silent = munibond(url, manifest, "coupon", "pay", "KNGW26", "1")
    assert silent.returncode == 2 and silent.stderr.count("\n") == 1, silent.stderr
    assert nonces(web3, "treasury") == before

    paid = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", answer="y\n")
    assert paid.returncode == 0, paid.stderr
    assert preview_lines(paid.stdout) == shown
    out = paid.stdout.splitlines()
    assert out[0].startswith("coupon pay KNGW26: checking")  # the first line comes before any slow work
    progress = [line for line in out if "settled 7/7 holders" in line]
    assert progress and "tx 0x" in progress[-1] and "0 holders remaining" in progress[-1]
    summary = out[-1]
    assert summary.startswith("KNGW26 period 1 settled so far: 7 holders") and f"net {net}" in summary
    after = nonces(web3, "treasury")
    transactions = int(value(shown, "transactions"))
    assert after["treasury"] == before["treasury"] + transactions

    again = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing to send" in again.stdout and again.stdout.splitlines()[-1] == summary
    assert nonces(web3, "treasury") == after

    ends = [e for e in audit_entries(log) if e["event"] == "end" and e["command"] == "coupon pay"]
    assert [e["outcome"] for e in ends] == ["dry run", "declined", "refused", "completed", "nothing to send"]
    assert len(ends[3]["transactions"]) == transactions and ends[3]["totals"]["settled"] == 7


def test_the_audit_log_is_appended_never_rewritten_and_owner_only(node, bond):  # noqa: F811
    url, _web3 = node
    log = bond["log"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    earlier = log.read_bytes()
    status = munibond(url, bond["manifest"], "redeem", "KNGW26", "--yes")  # before maturity: refused
    assert status.returncode == 2
    now = log.read_bytes()
    assert now.startswith(earlier) and len(now) > len(earlier)
    start, end = (json.loads(line) for line in now[len(earlier) :].decode().splitlines())
    assert start["event"] == "start" and start["command"] == "redeem" and start["chain_id"] == 31337
    assert start["signer"] == address_of(_web3, "treasury") and start["run"] == end["run"]
    assert end["outcome"] == "refused" and "has not passed yet" in end["message"]
    text = now.decode()
    assert SALT not in text and "issuer_salt_file" not in text
    for alias in ("investor_a", "investor_b"):  # no holder's wallet, only signers'
        assert address_of(_web3, alias) not in text
