"""The holder register rebuilt from events alone: balances now, at a block, or at a record time.

Every balance change of a series emits `Transfer` (mints from and burns to the zero address). Units a record
time retires (a call, an amortization, the final redemption) leave the balance at that record time, although the
token burns them later (`UnitsRetired` then `Transfer` to zero, in the same transaction): for balances at a
time, such a burn counts just after its record time, as the token's `balanceOfAt` counts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from munibond.client.events import ChainEvent, TransferEvent, UnitsRetiredEvent

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Movement:
    """A change of one wallet's units: `effective_time` is when it counts for balances at a time."""

    wallet: str
    delta: int
    block_number: int
    effective_time: int


class HolderRegister:
    """Wallet balances from the series' Transfer and UnitsRetired events (feed them in chain order)."""

    def __init__(self) -> None:
        self.movements: list[Movement] = []
        self._retiring: UnitsRetiredEvent | None = None

    def apply(self, event: ChainEvent) -> None:
        if isinstance(event, UnitsRetiredEvent):
            self._retiring = event
            return
        if not isinstance(event, TransferEvent):
            return
        when = event.timestamp
        retiring, self._retiring = self._retiring, None
        if (
            retiring is not None
            and retiring.transaction_hash == event.transaction_hash
            and (retiring.holder, retiring.units) == (event.sender, event.units)
            and event.receiver == ZERO_ADDRESS
        ):
            when = retiring.record_time + 1
        if event.sender != ZERO_ADDRESS:
            self.movements.append(Movement(event.sender, -event.units, event.block_number, when))
        if event.receiver != ZERO_ADDRESS:
            self.movements.append(Movement(event.receiver, event.units, event.block_number, when))

    def wallets(self) -> list[str]:
        """Every wallet that ever held units, in order of first appearance."""
        return list(dict.fromkeys(m.wallet for m in self.movements))

    def balances(self) -> dict[str, int]:
        """Non-zero balances now (as `balanceOf`: retired units not yet burned included)."""
        return _sum(self.movements)

    def balances_at_block(self, block: int) -> dict[str, int]:
        """Non-zero balances after block `block` (as `balanceOf` at that block)."""
        return _sum(m for m in self.movements if m.block_number <= block)

    def balances_at(self, time: int) -> dict[str, int]:
        """Non-zero balances at Unix time `time` (as `balanceOfAt` at a passed record time): every change in a
        block stamped at or before `time`, less the units record times before `time` retired."""
        return _sum(m for m in self.movements if m.effective_time <= time)

    def total(self) -> int:
        return sum(self.balances().values())


def _sum(movements: Iterable[Movement]) -> dict[str, int]:
    balances: dict[str, int] = {}
    for m in movements:
        balances[m.wallet] = balances.get(m.wallet, 0) + m.delta
    return {wallet: units for wallet, units in balances.items() if units}


def rebuild_register(events: Iterable[ChainEvent]) -> HolderRegister:
    register = HolderRegister()
    for event in events:
        register.apply(event)
    return register
