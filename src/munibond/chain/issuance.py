"""Primary issuance: minting the allocation to each investor exactly once.

The token's own mint events are the journal: units already minted to a wallet (Transfer events from the
zero address since the series was deployed) are subtracted, so an interrupted run finishes the job when it
is run again and never mints twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from munibond.allocations import Allocation
from munibond.chain.bulk import transfers
from munibond.chain.sending import Sender
from munibond.errors import InputError

ZERO_ADDRESS = "0x" + "00" * 20
DEFAULT_BATCH_SIZE = 50


@dataclass
class IssuanceReport:
    minted: dict[str, int] = field(default_factory=dict)
    already: dict[str, int] = field(default_factory=dict)
    transactions: list[Any] = field(default_factory=list)


def minted_so_far(token: Any, start_block: int) -> Counter[str]:
    minted: Counter[str] = Counter()
    for sender, to, value in transfers(token.provider.web3, str(token.address), start_block):
        if int(sender, 16) == 0:
            minted[to] += value
    return minted


def issuance_plan(
    token: Any, allocations: Sequence[Allocation], *, start_block: int
) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """(wallet, units still to mint) per allocation not yet complete, and what each wallet was minted so far."""
    done = minted_so_far(token, start_block)
    missing: list[tuple[str, int]] = []
    already: dict[str, int] = {}
    for allocation in allocations:
        minted = done.get(allocation.wallet, 0)
        if minted > allocation.units:
            raise InputError(
                f"{allocation.wallet} was minted {minted} units, more than its allocation of {allocation.units} "
                "(an allocation is the wallet's total: it cannot be lowered below what was issued); nothing was sent",
                field="units",
            )
        already[allocation.wallet] = minted
        if allocation.units > minted:
            missing.append((allocation.wallet, allocation.units - minted))
    return missing, already


def issue(
    token: Any,
    allocations: Sequence[Allocation],
    minter: Any,
    *,
    start_block: int,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str], None] = lambda _msg: None,
    dry_run: bool = False,
) -> IssuanceReport:
    """Mint what is still missing of each allocation (resolved wallets), in batches. `dry_run`: report what
    would be minted (in `minted`) and send nothing."""
    report = IssuanceReport()
    missing, report.already = issuance_plan(token, allocations, start_block=start_block)
    if dry_run:
        report.minted = dict(missing)
        return report
    sender = Sender(minter)
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        wallets = [wallet for wallet, _ in batch]
        amounts = [units for _, units in batch]
        report.transactions.append(sender.send(token, "batchMint", wallets, amounts, shape=len(batch)))
        for wallet, units in batch:
            report.minted[wallet] = units
        progress(f"minted {sum(report.minted.values())} units to {len(report.minted)} wallets")
    return report
