"""`pip install munibond` is light: built as a wheel and installed into a fresh environment beside an
application's own web3, it keeps that web3, brings no Ape, ships the contract artifacts and `munibond init`,
and the commands that need the operator tools say which extra to install. Needs the package index pip is
configured with (about a minute)."""

from __future__ import annotations

from tests.integration.light_install import ROOT, _ok, _run

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


def test_wheel_installs_light_beside_an_applications_web3(light_app, tmp_path):
    assert light_app.web3_after == light_app.web3_before, "installing munibond changed the application's web3"
    venv, python = light_app.folder, light_app.python
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
