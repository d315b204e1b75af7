"""The demo on a second EVM implementation: Hardhat's node (npm `hardhat`, tools/hardhat/hardhat.config.js).

The same script as `make demo` (`ape run demo`), given the node's URL, must show the same outcomes as on anvil:
deployment, compliance refusals, record dates, coupons with withholding, escrow and redemption, with the
chain's clock moved by `evm_setNextBlockTimestamp`/`evm_mine`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from tests.hardforks import executed_fork
from tests.integration.demo_outcomes import assert_demo_outcomes

ROOT = Path(__file__).resolve().parents[2]
HARDHAT = ROOT / "node_modules" / ".bin" / "hardhat"
CONFIG = ROOT / "tools" / "hardhat" / "hardhat.config.js"
HARDFORK = re.search(r'hardfork: "(\w+)"', CONFIG.read_text()).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hardhat_node(tmp_path_factory) -> Iterator[str]:
    if not HARDHAT.exists():
        pytest.fail(f"{HARDHAT} is missing: `make install` installs the npm devDependencies (package.json)")
    port = _free_port()
    log = tmp_path_factory.mktemp("hardhat") / "node.log"
    env = dict(os.environ, HARDHAT_DISABLE_TELEMETRY_PROMPT="true")
    with log.open("w") as out:
        # its own process group: `hardhat` is a node script, and the group is stopped as a whole
        process = subprocess.Popen(
            [str(HARDHAT), "node", "--config", str(CONFIG), "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        web3 = Web3(HTTPProvider(url))
        deadline = time.monotonic() + 120
        while not web3.is_connected():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"hardhat node did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_hardhat_node_is_a_second_implementation_at_the_current_hardfork(hardhat_node, report_node):
    web3 = Web3(HTTPProvider(hardhat_node))
    assert web3.client_version.startswith("HardhatNetwork/")
    assert web3.eth.chain_id == 31337
    assert executed_fork(web3) == HARDFORK
    report_node(f"{web3.client_version} at hardfork {executed_fork(web3)} (demo)")


def test_demo_runs_the_bond_lifecycle_on_hardhat(hardhat_node):
    ape = Path(sys.executable).with_name("ape")
    # Ape traces every transaction to print console.log lines; Hardhat answers with full struct logs, which
    # takes minutes over the demo. The call tree from the receipt is enough here.
    env = dict(os.environ, COLUMNS="200", APE_NODE_CALL_TRACE_APPROACH="basic")
    result = subprocess.run(
        [str(ape), "run", "demo", "--network", hardhat_node],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Connecting to a 'hardhatnetwork' node" in result.stdout + result.stderr
    assert_demo_outcomes(result.stdout)
