"""Which hardfork a node executes, told by the EVM itself: one probe per fork from paris to osaka.

Each probe is something only that fork added, run through `eth_call` (init code without a receiver, or a call
to a precompile), so it works on any node implementation (anvil, Hardhat) without node-specific methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.exceptions import Web3Exception

# The forks the tests know, oldest first; paris is the contracts' EVM target (ape-config.yaml).
FORKS = ("paris", "shanghai", "cancun", "prague", "osaka")


@dataclass(frozen=True)
class Probe:
    feature: str
    fork: str  # the fork that introduced it
    to: str | None  # None: `data` is init code, executed by a creation call
    data: str
    returns: str  # the output only a node at `fork` or later gives


def _word(value: int) -> str:
    return f"0x{value:064x}"


PROBES = (
    # PUSH1 42, PUSH0, MSTORE, PUSH1 32, PUSH0, RETURN: returns 42 (EIP-3855)
    Probe("PUSH0", "shanghai", None, "0x602a5f5260205ff3", _word(42)),
    # mstore(32, 42); mcopy(0, 32, 32); return(0, 32): returns 42 (EIP-5656)
    Probe("MCOPY", "cancun", None, "0x602a602052602060206000" + "5e" + "60206000f3", _word(42)),
    # BLS12-381 G1ADD of two points at infinity: 128 zero bytes (EIP-2537); before prague an empty account
    Probe("BLS12-381 G1ADD precompile", "prague", "0x" + "00" * 19 + "0b", "0x" + "00" * 256, "0x" + "00" * 128),
    # clz(1) = 255; mstore(0, 255); return(0, 32) (EIP-7939)
    Probe("CLZ", "osaka", None, "0x60011e" + "600052" + "60206000f3", _word(255)),
)


def probe_output(web3: Any, probe: Probe) -> str | None:
    """What the node returns for the probe, None when it refuses it (an invalid opcode)."""
    call: dict[str, Any] = {"data": probe.data}
    if probe.to:
        call["to"] = probe.to
    try:
        return "0x" + bytes(web3.eth.call(call)).hex()
    except Web3Exception:  # each client words an invalid opcode differently; any refusal counts
        return None


def executed_fork(web3: Any) -> str:
    """The newest fork whose every probe (and every older fork's) behaves as introduced; paris if none does."""
    fork = FORKS[0]
    for probe in PROBES:
        if probe_output(web3, probe) != probe.returns:
            break
        fork = probe.fork
    return fork
