"""Workspaces (`munibond init`, munibond.yaml) and the manifest's portable paths: no chain needed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from munibond.chain.manifest import Manifest
from munibond.errors import InputError
from munibond.workspace import (
    CONFIG_NAME,
    WORKSPACE_ENV,
    Workspace,
    activate,
    default_network,
    find_workspace,
    init_workspace,
    template_drift,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Unset for the test, restored after it (setenv first: monkeypatch restores only what it recorded)."""
    for name in (WORKSPACE_ENV, "MUNIBOND_NETWORK", "APE_DATA_FOLDER"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_init_creates_a_workspace_and_never_overwrites(tmp_path):
    folder = tmp_path / "bonds"
    created = {path.relative_to(folder).as_posix() for path, new in init_workspace(folder) if new}
    assert {CONFIG_NAME, "accounts.local.yaml", "deployments", "termsheets", ".gitignore"} <= created
    assert {"termsheets/kanagawa-resident-2026.yaml", "termsheets/investors.csv"} <= created
    assert (folder / "accounts.local.yaml").read_bytes() == (ROOT / "examples" / "accounts.local.yaml").read_bytes()
    (folder / "accounts.local.yaml").write_text("issuer: 7\n")
    (folder / "termsheets" / "zurich-2030.yaml").unlink()
    again = {path.relative_to(folder).as_posix() for path, new in init_workspace(folder) if new}
    assert again == {"termsheets/zurich-2030.yaml"}
    assert (folder / "accounts.local.yaml").read_text() == "issuer: 7\n"


def test_init_refuses_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        init_workspace(tmp_path / "f")


def test_workspace_is_found_from_below_from_the_environment_or_not_at_all(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws")
    deep = tmp_path / "ws" / "termsheets" / "serial"
    found = find_workspace(start=deep)
    assert found is not None and found.root == (tmp_path / "ws").resolve()
    assert found.accounts == found.root / "accounts.local.yaml"
    assert found.manifest_path("local") == found.root / "deployments" / "local.json"
    assert find_workspace(start=tmp_path) is None
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path / "ws"))
    assert find_workspace(start=tmp_path).root == found.root
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path))
    with pytest.raises(InputError, match="not a munibond workspace"):
        find_workspace(start=tmp_path)


def test_activate_points_ape_into_the_workspace_unless_set(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws")
    workspace = activate(tmp_path / "ws")
    assert os.environ["APE_DATA_FOLDER"] == str(workspace.root / ".ape")
    assert os.environ[WORKSPACE_ENV] == str(workspace.root)
    monkeypatch.setenv("APE_DATA_FOLDER", "/elsewhere")
    activate(tmp_path / "ws")
    assert os.environ["APE_DATA_FOLDER"] == "/elsewhere"


def test_network_default_order(tmp_path, monkeypatch):
    init_workspace(tmp_path / "ws")
    config = tmp_path / "ws" / CONFIG_NAME
    config.write_text(config.read_text().replace("http://127.0.0.1:8545", "http://10.0.0.5:8545"))
    monkeypatch.chdir(tmp_path)
    assert default_network() == "http://127.0.0.1:8545"
    monkeypatch.chdir(tmp_path / "ws")
    assert default_network() == "http://10.0.0.5:8545"
    monkeypatch.setenv("MUNIBOND_NETWORK", "ethereum:sepolia:node")
    assert default_network() == "ethereum:sepolia:node"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("netwrk: x\n", "unknown setting"),
        ("version: 2\n", "not supported"),
        ("accounts: 3\n", "must be a string"),
        ("- a\n", "must be a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_settings_are_one_line_input_errors(tmp_path, text, message):
    (tmp_path / CONFIG_NAME).write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        Workspace.load(tmp_path)
    assert caught.value.file == str(tmp_path / CONFIG_NAME) and "\n" not in str(caught.value)


def test_workspace_template_is_the_examples():
    assert template_drift(ROOT / "examples") == [], "run `make workspace-template` after changing examples/"


def test_manifest_stores_paths_relative_and_names_shipped_abis(tmp_path):
    manifest = Manifest(tmp_path / "deployments" / "local.json", "local", 31337, root=tmp_path)
    sheet = tmp_path / "termsheets" / "a.yaml"
    assert manifest.stored_path(sheet) == "termsheets/a.yaml"
    assert manifest.stored_path(tmp_path.parent / "b.yaml") == "../b.yaml"
    manifest.series["X"] = {"term_sheet": "termsheets/a.yaml"}
    assert manifest.term_sheet("X") == sheet
    series = manifest.abi("BondSeries")
    assert manifest.abi("munibond/abi/BondSeries.json") == series  # manifests written before ABIs were named
    assert any(entry.get("name") == "mint" for entry in manifest.abi("MockPaymentToken"))
    (tmp_path / "custom.json").write_text('{"abi": [{"type": "event", "name": "E", "inputs": []}]}')
    assert manifest.abi("custom.json") == [{"type": "event", "name": "E", "inputs": []}]
    with pytest.raises(ValueError, match="no shipped ABI"):
        manifest.abi("NoSuchContract")
