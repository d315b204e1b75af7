"""`make demo` runs the whole lifecycle; this runs the same script (`ape run demo`) on its own anvil."""

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.demo_outcomes import assert_demo_outcomes

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_bond_lifecycle_end_to_end(tmp_path):
    ape = Path(sys.executable).with_name("ape")
    env = dict(os.environ, COLUMNS="200")
    result = subprocess.run([str(ape), "run", "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_demo_outcomes(result.stdout)
