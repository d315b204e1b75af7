"""An application's environment with only web3 and the munibond wheel built from this tree (no Ape): built once
per test session by the `light_app` fixture (tests/integration/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUNIBOND_WORKSPACE", "APE_DATA_FOLDER")}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@dataclass(frozen=True)
class LightApp:
    """An application's environment: web3 from the index, then the munibond wheel built from this tree."""

    folder: Path
    python: Path
    web3_before: str
    web3_after: str


def build_light_app(tmp_path: Path) -> LightApp:
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
    _ok(_run([*app_pip, "check"], tmp_path))
    return LightApp(venv, python, web3_before, _ok(_run(version, tmp_path)).strip())
