"""docs/integration.md: the Python walkthrough runs as written, block after block, against a series on the test
chain, and does what it says."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.client_lifecycle import SYMBOL, Lifecycle, run_lifecycle

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "integration.md"

# The walkthrough in a process of its own (no Ape, no test harness), summarised as JSON on the last line.
RUNNER = """
import json, re, sys
text = open(sys.argv[1]).read()
section = text.split("\\n## Python\\n", 1)[1].split("\\n## ", 1)[0]
namespace = {"__name__": "walkthrough"}
for block in re.findall(r"```python\\n(.*?)```", section, flags=re.DOTALL):
    exec(compile(block, sys.argv[1], "exec"), namespace)
import web3
from munibond.client import SeriesError
try:
    namespace["series"].call("periodTerms", 99)
except SeriesError as error:
    refused_view = [error.name, error.args_by_name]
print(json.dumps({
    "refused_view": refused_view,
    "web3": web3.__version__,
    "ape_loaded": "ape" in sys.modules,
    "status": namespace["receipt"]["status"],
    "balances": namespace["register"].balances(),
    "methods": [p.method for p in namespace["history"].for_holder(namespace["client"].address)],
    "handled": len(namespace["handled"]),
    "events": len(namespace["events"]),
}))
"""


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of the `## Python` section, in order."""
    section = text.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.fixture(scope="module")
def lifecycle(project, chain, accounts, registry, factory, tmp_path_factory) -> Lifecycle:
    return run_lifecycle(project, chain, accounts, registry, factory, tmp_path_factory.mktemp("client-docs"))


def test_the_doc_has_a_python_walkthrough_and_a_javascript_heading():
    text = DOC.read_text()
    assert len(python_blocks(text)) >= 6
    assert "\n## JavaScript (ethers v6)\n" in text


def walkthrough_env(lifecycle: Lifecycle, cursor: Path) -> dict[str, str]:
    return {
        "MUNIBOND_RPC_URL": lifecycle.uri,
        "MUNIBOND_MANIFEST": str(lifecycle.manifest),
        "MUNIBOND_SERIES": SYMBOL,
        "MUNIBOND_FROM_KEY": lifecycle.keys["a"],
        "MUNIBOND_TO": lifecycle.wallets["e"],
        "MUNIBOND_CURSOR": str(cursor),
    }


def test_the_python_walkthrough_runs_as_written(lifecycle, monkeypatch, tmp_path, capsys):
    token = lifecycle.token
    sender, receiver = lifecycle.wallets["a"], lifecycle.wallets["e"]
    for name, value in walkthrough_env(lifecycle, tmp_path / "cursor.json").items():
        monkeypatch.setenv(name, value)
    before = token.balanceOf(sender), token.balanceOf(receiver)

    blocks = python_blocks(DOC.read_text())
    namespace: dict = {"__name__": "walkthrough"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out

    assert namespace["series"].address == token.address
    assert namespace["receipt"]["status"] == 1
    assert (token.balanceOf(sender), token.balanceOf(receiver)) == (before[0] - 10, before[1] + 10)
    assert "refused before sending: 6" in out
    assert "MissingRole {'account':" in out and "lacks the role payer" in out
    assert namespace["register"].balances() == {w: token.balanceOf(w) for w in namespace["register"].balances()}
    assert namespace["at_first_record"][sender] == token.balanceOfAt(sender, lifecycle.record_times[0])
    assert [p.method for p in namespace["history"].for_holder(sender)] == ["push", "push"]
    assert len(namespace["handled"]) == len(namespace["events"])

    follow = next(block for block in blocks if "EventFollower(" in block)
    exec(compile(follow, str(DOC), "exec"), namespace)
    assert namespace["handled"] == []  # resumed from the stored cursor: nothing twice


def interpreters() -> list[str]:
    """This Python, and another with a different web3.py major version when MUNIBOND_CLIENT_PYTHON names one."""
    other = os.environ.get("MUNIBOND_CLIENT_PYTHON")
    return [sys.executable, *([other] if other else [])]


@pytest.mark.parametrize("python", interpreters())
def test_the_walkthrough_runs_in_a_process_of_its_own(lifecycle, tmp_path, python):
    token = lifecycle.token
    sender, receiver = lifecycle.wallets["a"], lifecycle.wallets["e"]
    before = token.balanceOf(sender), token.balanceOf(receiver)
    env = os.environ | walkthrough_env(lifecycle, tmp_path / "cursor.json") | {"PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([python, "-c", RUNNER, str(DOC)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert not summary["ape_loaded"] and summary["status"] == 1
    assert summary["refused_view"] == ["UnknownPeriod", {"period": 99, "count": 3}]
    assert (token.balanceOf(sender), token.balanceOf(receiver)) == (before[0] - 10, before[1] + 10)
    assert summary["balances"] == {w: token.balanceOf(w) for w in summary["balances"]}
    assert summary["methods"] == ["push", "push"]
    assert summary["handled"] == summary["events"] > 30


def test_the_walkthrough_runs_with_only_web3_and_the_wheel(lifecycle, tmp_path, light_app):
    """What an integrator installs: a fresh environment with web3 from the index and the munibond wheel, no Ape;
    the walkthrough reads, pre-checks, transfers and replays there (its munibond is the wheel's, not this tree)."""
    token = lifecycle.token
    sender, receiver = lifecycle.wallets["a"], lifecycle.wallets["e"]
    before = token.balanceOf(sender), token.balanceOf(receiver)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= walkthrough_env(lifecycle, tmp_path / "cursor.json")
    python = str(light_app.python)
    where = subprocess.run([python, "-c", "import munibond; print(munibond.__file__)"], env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert "site-packages" in where.stdout, where.stdout + where.stderr
    run = subprocess.run([python, "-c", RUNNER, str(DOC)], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert not summary["ape_loaded"] and summary["status"] == 1
    assert (token.balanceOf(sender), token.balanceOf(receiver)) == (before[0] - 10, before[1] + 10)
    assert summary["balances"] == {w: token.balanceOf(w) for w in summary["balances"]}
    assert summary["handled"] == summary["events"] > 30
