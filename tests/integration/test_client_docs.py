"""docs/integration.md: the Python walkthrough runs as written, block after block, against a series on the test
chain, and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.client_lifecycle import SYMBOL, Lifecycle, run_lifecycle

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


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


def test_the_python_walkthrough_runs_as_written(lifecycle, monkeypatch, tmp_path, capsys):
    token = lifecycle.token
    sender, receiver = lifecycle.wallets["a"], lifecycle.wallets["e"]
    monkeypatch.setenv("MUNIBOND_RPC_URL", lifecycle.uri)
    monkeypatch.setenv("MUNIBOND_MANIFEST", str(lifecycle.manifest))
    monkeypatch.setenv("MUNIBOND_SERIES", SYMBOL)
    monkeypatch.setenv("MUNIBOND_FROM_KEY", lifecycle.keys["a"])
    monkeypatch.setenv("MUNIBOND_TO", receiver)
    monkeypatch.setenv("MUNIBOND_CURSOR", str(tmp_path / "cursor.json"))
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
