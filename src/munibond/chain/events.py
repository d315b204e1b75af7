"""Reading contract events from a given block to the chain head (the journals our operations resume from)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def logs_since(event: Any, start_block: int) -> Iterator[Any]:
    """Every log of `event` (an Ape ContractEvent) from `start_block` to the current head, in order."""
    head = event.chain_manager.blocks.height
    if start_block > head:
        return iter(())
    return event.range(start_block, head + 1)
