"""A munibond workspace: the folder an operator works in, outside any source tree (`munibond init`).

A workspace is a folder holding `munibond.yaml`. Commands find it from `--workspace`, else
`$MUNIBOND_WORKSPACE`, else the nearest such folder at or above the current directory; without one they keep
the defaults of this repository (`examples/accounts.local.yaml`, `deployments/`). `munibond.yaml` (paths
relative to the workspace):

    version: 1
    network: http://127.0.0.1:8545   # --network default ($MUNIBOND_NETWORK wins over it)
    accounts: accounts.local.yaml    # alias book for development chains (--accounts default)
    deployments: deployments         # manifests <deployments>/<network>.json (--manifest default)
    termsheets: termsheets           # the issuer's term sheets and CSVs
    issuer_salt_file: null           # optional: file holding the issuer's salt for investor identities
    networks: {}                     # optional: gas pricing, confirmations, retries per network (munibond.netsettings)

Only the standard library and PyYAML: `munibond init` works without the operator extra.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from munibond.errors import InputError
from munibond.netsettings import NetworkSettings, parse_networks

CONFIG_NAME = "munibond.yaml"
WORKSPACE_ENV = "MUNIBOND_WORKSPACE"
CONFIG_VERSION = 1
DEFAULT_NETWORK = "http://127.0.0.1:8545"
TEMPLATE_DIR = Path(__file__).parent / "templates" / "workspace"
# template file (relative to TEMPLATE_DIR) -> its source in this repository's examples/ folder
TEMPLATE_SOURCES = {
    "accounts.local.yaml": "accounts.local.yaml",
    "termsheets/kanagawa-resident-2026.yaml": "kanagawa-resident-2026.yaml",
    "termsheets/zurich-2030.yaml": "zurich-2030.yaml",
    "termsheets/serial/harbor-city-2028.yaml": "serial/harbor-city-2028.yaml",
    "termsheets/serial/harbor-city-2029.yaml": "serial/harbor-city-2029.yaml",
    "termsheets/serial/harbor-city-2030.yaml": "serial/harbor-city-2030.yaml",
    "termsheets/investors.csv": "investors.csv",
    "termsheets/allocations.csv": "allocations.csv",
}
_KEYS = ("version", "network", "accounts", "deployments", "termsheets", "issuer_salt_file", "networks")

CONFIG_TEXT = f"""\
# munibond workspace: `munibond` commands run in this folder (or below it) take their defaults from here.
# Paths are relative to this folder.
version: {CONFIG_VERSION}
# --network default ($MUNIBOND_NETWORK overrides it): an RPC URI or an Ape network choice
network: {DEFAULT_NETWORK}
# alias book (alias: test-account index) for development chains; --accounts overrides it
accounts: accounts.local.yaml
# deployment manifests, <deployments>/<network>.json; --manifest overrides it
deployments: deployments
# the issuer's term sheets and investor/allocation CSVs
termsheets: termsheets
# optional: a file holding the issuer's secret salt for investor identities (keep it out of version control)
issuer_salt_file: null
# optional, per network (the --network value or the chain id): gas pricing, confirmations, retries, e.g.
# networks:
#   http://10.0.0.5:8545:            # Besu/QBFT: free gas, legacy transactions
#     gas: {{type: legacy, price: 0}}
#     confirmations: 1
#   11155111:                        # a chain id: EIP-1559 fees, 3 confirmations, patient retries
#     gas: {{type: eip1559}}
#     confirmations: 3
#     retries: {{attempts: 6, backoff: 2}}
"""
GITIGNORE_TEXT = "# Ape's data folder: keyfile accounts imported for this workspace live here; never commit it\n.ape/\n"


@dataclass(frozen=True)
class Workspace:
    root: Path
    network: str | None
    accounts: Path | None
    deployments: Path
    termsheets: Path
    issuer_salt_file: Path | None
    networks: Mapping[str, NetworkSettings] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def ape_data_folder(self) -> Path:
        return self.root / ".ape"

    @classmethod
    def load(cls, root: Path) -> Workspace:
        root = root.resolve()
        config = root / CONFIG_NAME
        try:
            raw = yaml.safe_load(config.read_text()) or {}
        except FileNotFoundError:
            message = f"not a munibond workspace (no {CONFIG_NAME}): run `munibond init`"
            raise InputError(message, file=str(root)) from None
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {exc}".splitlines()[0], file=str(config)) from None
        if not isinstance(raw, Mapping):
            raise InputError("must be a mapping of settings", file=str(config))
        for key in raw:
            if key not in _KEYS:
                raise InputError(f"unknown setting (known: {', '.join(_KEYS)})", file=str(config), field=str(key))
        if raw.get("version", CONFIG_VERSION) != CONFIG_VERSION:
            raise InputError(f"version {raw['version']!r} not supported (expected {CONFIG_VERSION})", file=str(config))

        def text(key: str) -> str | None:
            value = raw.get(key)
            if value is not None and not isinstance(value, str):
                raise InputError(f"must be a string, got {value!r}", file=str(config), field=key)
            return value or None

        def path(key: str, default: str | None) -> Path | None:
            value = text(key) if key in raw else default
            return None if value is None else root / value

        return cls(
            root,
            text("network"),
            path("accounts", None),
            path("deployments", "deployments") or root / "deployments",
            path("termsheets", "termsheets") or root / "termsheets",
            path("issuer_salt_file", None),
            parse_networks(raw.get("networks"), str(config)),
        )

    def manifest_path(self, network_name: str) -> Path:
        return self.deployments / f"{network_name}.json"


def find_workspace(explicit: Path | None = None, start: Path | None = None) -> Workspace | None:
    """The workspace of `explicit`, else of `$MUNIBOND_WORKSPACE`, else the nearest one at or above `start`
    (default: the current directory); None when there is none."""
    chosen = explicit or (Path(os.environ[WORKSPACE_ENV]) if os.environ.get(WORKSPACE_ENV) else None)
    if chosen is not None:
        return Workspace.load(chosen)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return Workspace.load(folder)
    return None


def activate(explicit: Path | None = None) -> Workspace | None:
    """Find the workspace and make it the process's: `$MUNIBOND_WORKSPACE` names it and, unless already set,
    `$APE_DATA_FOLDER` points into it (so Ape, imported later, never writes to the home folder)."""
    workspace = find_workspace(explicit)
    if workspace is not None:
        os.environ[WORKSPACE_ENV] = str(workspace.root)
        os.environ.setdefault("APE_DATA_FOLDER", str(workspace.ape_data_folder))
    return workspace


def current() -> Workspace | None:
    """The active workspace (see `activate`), if any."""
    return find_workspace()


def default_network() -> str:
    """`$MUNIBOND_NETWORK`, else the workspace's `network`, else a development node on 127.0.0.1:8545."""
    if os.environ.get("MUNIBOND_NETWORK"):
        return os.environ["MUNIBOND_NETWORK"]
    workspace = current()
    return (workspace.network if workspace else None) or DEFAULT_NETWORK


def init_workspace(folder: Path) -> list[tuple[Path, bool]]:
    """Create the workspace `folder` (config, dev-chain alias book, deployments/ and termsheets/ with the
    example term sheets and CSVs); returns each path with whether it was created. Existing files are kept
    as they are, so re-running is harmless."""
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a folder", file=str(folder))
    results: list[tuple[Path, bool]] = []

    def make_dir(path: Path) -> None:
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        results.append((path, not existed))

    def write(path: Path, content: bytes) -> None:
        if path.exists():
            results.append((path, False))
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:
            handle.write(content)
        results.append((path, True))

    make_dir(folder)
    write(folder / CONFIG_NAME, CONFIG_TEXT.encode())
    make_dir(folder / "deployments")
    make_dir(folder / "termsheets")
    for relative in TEMPLATE_SOURCES:
        write(folder / relative, (TEMPLATE_DIR / relative).read_bytes())
    write(folder / ".gitignore", GITIGNORE_TEXT.encode())
    return results


def template_drift(examples: Path) -> list[str]:
    """Template files that differ from their source in `examples` (this repository's examples/ folder)."""
    return [
        relative
        for relative, source in TEMPLATE_SOURCES.items()
        if (TEMPLATE_DIR / relative).read_bytes() != (examples / source).read_bytes()
    ]


def sync_templates(examples: Path) -> list[Path]:
    """Copy the examples into the workspace template (`make workspace-template`)."""
    written = []
    for relative, source in TEMPLATE_SOURCES.items():
        target = TEMPLATE_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((examples / source).read_bytes())
        written.append(target)
    return written


def as_stored_path(path: Path | str, root: Path) -> str:
    """`path` as a manifest stores it: relative to `root` (the workspace), never absolute."""
    return os.path.relpath(Path(path).resolve(), root.resolve())


def _main(argv: list[str]) -> int:
    examples = Path(argv[0]) if argv else Path("examples")
    for path in sync_templates(examples):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
