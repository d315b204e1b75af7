"""An append-only local record of who ran which command that sends transactions, when, and what it sent.

One JSON object per line in `<workspace>/audit.log` (outside a workspace: beside the deployment manifest). Each
run writes a `start` entry (command, arguments without secrets, the operating-system user, the signing account's
address, chain id, manifest) once it knows the chain, and an `end` entry (outcome, transaction hashes, totals),
also when it is refused, declined or fails. The file is created readable and writable by its owner only (0600),
opened in append mode for each entry and never rewritten. Entries never hold personal data: no names, addresses
or bank details of investors, no wallets of holders; only counts, amounts and transaction hashes.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOG_NAME = "audit.log"
FILE_MODE = 0o600
SECRET_NAMES = re.compile(r"salt|secret|passphrase|password|mnemonic|private|key", re.IGNORECASE)
# arguments that are not options of the command: where Ape and munibond find things
CONTEXT_NAMES = frozenset({"alias_book"})


def log_path(manifest: Path | None) -> Path | None:
    """`<workspace>/audit.log`, else `audit.log` beside the manifest; without either (a run refused before it
    knew its manifest), the default manifest folder `deployments` when it exists, else nowhere (no folder is made
    for it)."""
    from munibond.workspace import current

    workspace = current()
    if workspace is not None:
        return workspace.root / LOG_NAME
    if manifest is not None:
        return manifest.parent / LOG_NAME
    default = Path("deployments")
    return default / LOG_NAME if default.is_dir() else None


def append_entry(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one JSON line to `path`, creating it (and its folder) owner-only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, sort_keys=True, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def public_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The command's arguments as logged: secrets (salts, passphrases, keys) left out, paths as text."""
    return {
        name: str(value) if isinstance(value, Path) else value
        for name, value in arguments.items()
        if not SECRET_NAMES.search(name) and name not in CONTEXT_NAMES
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass
class AuditRun:
    """One run of a command: `begin` once connected, `record` what was sent; the end entry is written on exit."""

    command: str
    arguments: dict[str, Any]
    manifest: Path | None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    path: Path | None = None
    started: bool = False
    transactions: list[str] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    outcome: str = "completed"

    def _entry(self, event: str, **fields: Any) -> dict[str, Any]:
        return {"time": _now(), "run": self.run_id, "event": event, "command": self.command, **fields}

    def begin(self, *, signer: str | None, chain_id: int | None, manifest: Path | None) -> None:
        """The start entry: who signs, on which chain, with which manifest."""
        if self.started:
            return
        self.manifest = manifest or self.manifest
        self.path = log_path(self.manifest)
        self.started = True
        if self.path is None:
            return
        append_entry(
            self.path,
            self._entry(
                "start",
                arguments=self.arguments,
                user=_user(),
                signer=signer,
                chain_id=chain_id,
                manifest=None if self.manifest is None else str(self.manifest),
            ),
        )

    def sent(self, receipts: list[Any]) -> None:
        """Transaction hashes of `receipts` (Ape receipts, or hashes as text)."""
        for receipt in receipts:
            self.transactions.append(str(getattr(receipt, "txn_hash", receipt)))

    def finish(self, outcome: str, message: str | None = None) -> None:
        if not self.started:
            self.begin(signer=None, chain_id=None, manifest=self.manifest)
        if self.path is None:
            return
        fields: dict[str, Any] = {"outcome": outcome, "transactions": self.transactions, "totals": self.totals}
        if message is not None:
            fields["message"] = message
        append_entry(self.path, self._entry("end", **fields))


def _first_line(error: BaseException) -> str:
    """The refusal's first line; for a problem in an input file only where it is (file, line, field), since the
    message may quote the file's content (an investor's data)."""
    from munibond.chain.refusals import report
    from munibond.errors import InputError

    if isinstance(error, InputError) and error.file is not None and error.line is not None:
        return ": ".join(str(part) for part in (error.file, error.line, error.field) if part is not None)
    lines = report(error) if isinstance(error, Exception) else None
    text = lines[0] if lines else f"{type(error).__name__}: {error}"
    return text.removeprefix("error: ").splitlines()[0] if text else type(error).__name__


@contextmanager
def audited(command: str, arguments: Mapping[str, Any], *, manifest: Path | None) -> Iterator[AuditRun]:
    """Log one run of `command`: the end entry says completed, dry run, nothing to send, declined, refused (with
    its one line) or failed."""
    run = AuditRun(command, public_arguments(arguments), manifest)
    try:
        yield run
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
        run.finish("declined" if code == 1 else "refused" if code else run.outcome)
        raise
    except BaseException as error:
        from munibond.chain.refusals import report

        refused = isinstance(error, Exception) and report(error) is not None
        run.finish("refused" if refused else "failed", _first_line(error))
        raise
    else:
        run.finish(run.outcome)
