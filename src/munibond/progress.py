"""Progress of a long run on the terminal: one line per batch with what is done and remaining, an estimate of the
time left and the hash of the transaction just mined.

The workflows report progress as text (`settled 300/2000 holders`, `registered 50/400 wallets`, `minted 900 units
to 30 wallets`); `RunProgress` reads the count done from that text with the caller's pattern, knows the total from
the preview, and adds the rest. The hash is that of the signer's latest transaction this session
(`munibond.chain.sending`, else Ape's history).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

DONE_OF_TOTAL = re.compile(r"(\d+)/\d+")


def duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s`, `1 h 02 min`."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def latest_hash(chain: Any, address: str) -> Callable[[], str | None]:
    """A function giving the hash of `address`'s latest transaction sent in this session, if Ape recorded one."""

    def read() -> str | None:
        from munibond.chain.sending import last_sent

        sent = last_sent(address)  # transactions munibond sends itself (chain.sending) are not in Ape's history
        if sent is not None:
            return sent
        try:
            sessional = chain.history[address].sessional
        except Exception:  # history is a convenience: no hash is shown rather than the run stopped
            return None
        return str(sessional[-1].txn_hash) if sessional else None

    return read


@dataclass
class RunProgress:
    """Callable with a workflow's progress text; prints it with done/remaining, elapsed, ETA and the last hash."""

    total: int
    unit: str
    pattern: re.Pattern[str] = DONE_OF_TOTAL
    last_hash: Callable[[], str | None] = lambda: None
    echo: Callable[[str], None] = click.echo
    started: float = field(default_factory=time.monotonic)
    hashes: list[str] = field(default_factory=list)

    def __call__(self, message: str) -> None:
        found = self.pattern.search(message)
        parts = [message]
        elapsed = time.monotonic() - self.started
        if found is not None and self.total:
            done = int(found.group(1))
            remaining = max(self.total - done, 0)
            parts.append(f"{remaining:,} {self.unit} remaining")
            parts.append(f"{duration(elapsed)} elapsed")
            if done and remaining:
                parts.append(f"ETA {duration(elapsed / done * remaining)}")
        tx = self.last_hash()
        if tx is not None and tx not in self.hashes:
            self.hashes.append(tx)
            parts.append(f"tx {tx}")
        self.echo(" · ".join(parts))
