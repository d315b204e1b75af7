"""The question before money moves and the audit log, without a chain: answers, a silent standard input, an
append-only owner-only log whose entries leave secrets out."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from munibond.audit_log import audited, public_arguments
from munibond.confirmation import Preview, confirm, confirm_options
from munibond.errors import InputError
from munibond.progress import RunProgress, duration

PREVIEW = Preview("KNGW26 period 1: coupon payment", [("net to holders", "15,661 JPY")], transactions=3)


@click.command()
@confirm_options
def sample(yes: bool, dry_run: bool) -> None:
    try:
        if confirm(PREVIEW, yes=yes, dry_run=dry_run):
            click.echo("SENT")
    except InputError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)


@pytest.mark.parametrize(
    ("args", "answer", "code", "sent"),
    [
        ([], "y\n", 0, True),
        ([], "n\n", 1, False),
        ([], "\n", 1, False),  # the default is No
        (["--yes"], None, 0, True),
        (["--dry-run"], None, 0, False),
    ],
)
def test_answers(args, answer, code, sent):
    result = CliRunner().invoke(sample, args, input=answer)
    assert result.exit_code == code, result.output
    assert ("SENT" in result.output) is sent
    assert "  net to holders  15,661 JPY" in result.output and "  transactions    3" in result.output


def test_nothing_to_send_asks_nothing():
    @click.command()
    def empty() -> None:
        click.echo(f"sent={confirm(Preview('nothing', [], 0), yes=False, dry_run=False)}")

    result = CliRunner().invoke(empty, [], input="")
    assert result.exit_code == 0 and "nothing to send" in result.output and "sent=False" in result.output


def test_an_empty_standard_input_is_refused_in_one_line():
    """/dev/null (cron, CI, `< /dev/null`): the end of input is no answer: one line, exit 2."""
    code = (
        "import sys; from munibond.confirmation import ask\n"
        "try:\n    ask('go?')\nexcept Exception as e:\n    print(e, file=sys.stderr); sys.exit(2)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith("--yes: standard input is not interactive")


def test_a_silent_pipe_is_refused_instead_of_waiting():
    """An open pipe that never brings an answer (a cron job's): one line, exit 2, within the wait."""
    code = (
        "import sys; from munibond.confirmation import ask\n"
        "try:\n    ask('go?', timeout=0.5)\nexcept Exception as e:\n    print(e, file=sys.stderr); sys.exit(2)\n"
    )
    reader, writer = os.pipe()
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-c", code], stdin=reader, capture_output=True, text=True, timeout=30)
    finally:
        os.close(reader)
        os.close(writer)
    assert result.returncode == 2 and time.monotonic() - started < 20
    assert result.stderr.strip().startswith("--yes: standard input is not interactive")


def test_audit_entries_are_appended_owner_only_and_leave_secrets_out(tmp_path, monkeypatch):
    monkeypatch.delenv("MUNIBOND_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "deployments" / "local.json"
    log = manifest.parent / "audit.log"
    arguments = {"symbol": "KNGW26", "issuer_salt_file": Path("/secret/salt"), "passphrase": "x", "yes": True}
    with audited("coupon pay", arguments, manifest=manifest) as run:
        run.begin(signer="0xabc", chain_id=31337, manifest=manifest)
        run.sent(["0x01", "0x02"])
        run.totals = {"settled": 7}
    first = log.read_bytes()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    with pytest.raises(InputError), audited("issue", {"symbol": "KNGW26"}, manifest=manifest):
        raise InputError("the token would refuse 1 mint(s)", field="allocations")
    both = log.read_bytes()
    assert both.startswith(first)
    entries = [json.loads(line) for line in both.decode().splitlines()]
    assert [(e["command"], e["event"]) for e in entries] == [
        ("coupon pay", "start"), ("coupon pay", "end"), ("issue", "start"), ("issue", "end")]  # fmt: skip
    assert entries[0]["arguments"] == {"symbol": "KNGW26", "yes": True} and entries[0]["signer"] == "0xabc"
    assert entries[1]["transactions"] == ["0x01", "0x02"] and entries[1]["outcome"] == "completed"
    assert entries[3]["outcome"] == "refused" and "would refuse 1 mint(s)" in entries[3]["message"]
    assert "secret" not in both.decode()
    assert public_arguments({"mnemonic": "m", "manifest": Path("a.json")}) == {"manifest": "a.json"}


def test_a_bad_row_is_logged_by_its_place_not_its_content(tmp_path, monkeypatch):
    monkeypatch.delenv("MUNIBOND_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    manifest = tmp_path / "m.json"
    bad = InputError("must be a known name, got 'Yamada Taro'", file="investors.csv", line=3, field="name")
    with pytest.raises(InputError), audited("investors import", {}, manifest=manifest):
        raise bad
    text = (tmp_path / "audit.log").read_text()
    assert "Yamada" not in text and '"message": "investors.csv: 3: name"' in text


def test_nothing_is_written_where_no_manifest_or_workspace_is_known(tmp_path, monkeypatch):
    monkeypatch.delenv("MUNIBOND_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError), audited("issue", {}, manifest=None):
        raise InputError("bad", file="a.csv", line=2, field="units")
    assert list(tmp_path.iterdir()) == []


def test_progress_counts_remaining_and_estimates():
    lines: list[str] = []
    progress = RunProgress(400, "holders", echo=lines.append, started=time.monotonic() - 10)
    progress("period 1: settled 100/400 holders")
    assert "300 holders remaining" in lines[0] and "ETA 30 s" in lines[0]
    assert duration(3725) == "1 h 02 min" and duration(65) == "1 min 05 s"
