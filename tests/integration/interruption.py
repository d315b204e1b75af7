"""`kill -9` of a real `munibond` process at a chosen transaction, on a node that mines only when told to.

Shared by the kill-and-resume tests (tests/integration/test_kill_resume.py for `coupon pay`,
tests/integration/test_settlement_kill_resume.py for the subscription and trade settlements). The node's automine
is off while the command runs: the test watches the senders' pending nonces, mines the command's transactions one
by one and sends SIGKILL while the chosen one is still pending. That transaction is then mined (the command died
after sending it, before it saw the receipt), dropped (it died before the node accepted it), or was mined just
before the kill (the command died before it recorded the receipt or printed its report).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from web3 import Web3

from tests.integration.test_cli_workflow import ROOT

# what becomes of the transaction being sent when the process is killed
MINED = "mined"  # it reached the node and is mined after the kill
DROPPED = "dropped"  # it never reached the chain
AFTER = "after"  # mined just before the kill: the command is gone before it sees the receipt
OUTCOMES = (MINED, DROPPED, AFTER)


def environment(manifest: Path) -> dict[str, str]:
    """The commands' environment, with Ape data of the manifest's own (a shared one caches contract types by address
    across nodes, and every module's node deploys at the same addresses)."""
    return dict(os.environ, APE_DATA_FOLDER=str(manifest.parent / "ape-data"), PYTHONUNBUFFERED="1")


def sent_counts(web3: Web3, senders: Sequence[str]) -> tuple[int, int]:
    """The transactions of `senders` mined and sent (mined or pending), summed over the senders."""
    mined = sum(web3.eth.get_transaction_count(s, "latest") for s in senders)
    return mined, sum(web3.eth.get_transaction_count(s, "pending") for s in senders)


@contextmanager
def mining_on_request(web3: Web3) -> Iterator[None]:
    """Automine off for the block's duration (on again after, whatever happens)."""
    web3.provider.make_request("evm_setAutomine", [False])
    try:
        yield
    finally:
        web3.provider.make_request("evm_setAutomine", [True])


def kill_at(
    web3: Web3, command: list[str], env: dict[str, str], senders: Sequence[str], nth: int, *, mine_it: bool
) -> None:
    """Run `command` on a node that mines on request: mine its transactions (from any of `senders`) before the
    `nth` (1-based), and SIGKILL it once the `nth` is sent: while it is pending (left in the pool for the caller to
    mine or drop), or, with `mine_it`, right after mining it (the command has not yet seen the receipt)."""
    start, _ = sent_counts(web3, senders)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            mined, pending = sent_counts(web3, senders)
            if pending >= start + nth:
                assert pending == start + nth, (mined, pending, start, nth)
                if mine_it:
                    web3.provider.make_request("evm_mine", [])
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                assert process.returncode == -signal.SIGKILL, process.communicate()
                return
            if pending > mined:
                web3.provider.make_request("evm_mine", [])
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"the command ended (exit {process.returncode}) before transaction {nth}: {out}{err}")
            time.sleep(0.05)
        pytest.fail(f"transaction {nth} was never sent")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def interrupt(web3: Web3, command: list[str], env: dict[str, str], senders: Sequence[str], nth: int, then: str) -> None:
    """Kill `command` while its `nth` transaction is being sent, then leave that transaction `then` (MINED,
    DROPPED or AFTER); on return the node automines again and none of `senders` has anything in flight."""
    assert then in OUTCOMES, then
    with mining_on_request(web3):
        kill_at(web3, command, env, senders, nth, mine_it=then == AFTER)
        if then == MINED:
            web3.provider.make_request("evm_mine", [])
        elif then == DROPPED:
            web3.provider.make_request("anvil_dropAllTransactions", [])
    mined, pending = sent_counts(web3, senders)
    assert mined == pending, (mined, pending)  # nothing left in flight
