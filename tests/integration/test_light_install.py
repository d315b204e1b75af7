"""`pip install munibond` is light: built as a wheel and installed into a fresh environment beside an
application's own web3, it keeps that web3, brings no Ape, ships the contract artifacts and `munibond init`,
and the commands that need the operator tools say which extra to install. Needs the package index pip is
configured with (about a minute)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import importlib.util, json
import munibond, munibond.abi_export as shipped, munibond.workspace, munibond.terms, munibond.cli
assert "site-packages" in munibond.__file__, munibond.__file__
assert importlib.util.find_spec("ape") is None and importlib.util.find_spec("QuantLib") is None
for name in shipped.DEPLOYABLES:
    artifact = shipped.load_artifact(name)
    for code in (artifact["bytecode"], artifact["deployedBytecode"]):
        assert code.startswith("0x") and len(code) > 2 and bytes.fromhex(code[2:]), name
    assert artifact["abi"], name
names = {entry.get("name") for entry in shipped.load_abi("BondSeries")}
assert {"forcedTransfer", "Initialized", "SafeERC20FailedOperation"} <= names
if importlib.util.find_spec("munibond.client") is None:
    assert not CLIENT_IN_TREE, "munibond.client is in the source tree but not in the wheel"
else:
    import munibond.client
print("ok")
"""


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUNIBOND_WORKSPACE", "APE_DATA_FOLDER")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_wheel_installs_light_beside_an_applications_web3(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _ok(_run([*pip, "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(tree)], tmp_path))
    (wheel,) = (tmp_path / "dist").glob("munibond-*.whl")

    venv = tmp_path / "app"
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path))
    python = venv / "bin" / "python"
    app_pip = [*pip, "--python", str(python)]
    version = [str(python), "-c", "import importlib.metadata as m; print(m.version('web3'))"]
    _ok(_run([*app_pip, "install", "-q", "web3>=7,<9"], tmp_path))
    web3_before = _ok(_run(version, tmp_path)).strip()
    _ok(_run([*app_pip, "install", "-q", str(wheel)], tmp_path))
    assert _ok(_run(version, tmp_path)).strip() == web3_before, "installing munibond changed the application's web3"
    _ok(_run([*app_pip, "check"], tmp_path))

    client_in_tree = (ROOT / "src" / "munibond" / "client").is_dir()
    assert _ok(_run([str(python), "-c", f"CLIENT_IN_TREE = {client_in_tree}\n{CHECK}"], tmp_path)).strip() == "ok"

    munibond = str(venv / "bin" / "munibond")
    _ok(_run([munibond, "init", "bonds"], tmp_path))
    assert (tmp_path / "bonds" / "munibond.yaml").is_file()
    assert (tmp_path / "bonds" / "termsheets" / "kanagawa-resident-2026.yaml").is_file()
    needs_ops = _run([munibond, "schedule", "termsheets/zurich-2030.yaml"], tmp_path / "bonds")
    assert needs_ops.returncode == 2
    assert needs_ops.stderr.count("\n") == 1 and "pip install 'munibond[ops]'" in needs_ops.stderr
    assert "schedule" in _ok(_run([munibond, "--help"], tmp_path))
