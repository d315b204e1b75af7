"""The cash leg's ERC-20 (a stablecoin or deposit token), attached with the standard ERC-20 ABI."""

from __future__ import annotations

from typing import Any


def _fn(name: str, inputs: list[tuple[str, str]], outputs: list[str], mutability: str) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": t} for t in outputs],
    }


ERC20_ABI: list[dict[str, Any]] = [
    _fn("name", [], ["string"], "view"),
    _fn("symbol", [], ["string"], "view"),
    _fn("decimals", [], ["uint8"], "view"),
    _fn("totalSupply", [], ["uint256"], "view"),
    _fn("balanceOf", [("account", "address")], ["uint256"], "view"),
    _fn("allowance", [("owner", "address"), ("spender", "address")], ["uint256"], "view"),
    _fn("approve", [("spender", "address"), ("value", "uint256")], ["bool"], "nonpayable"),
    _fn("transfer", [("to", "address"), ("value", "uint256")], ["bool"], "nonpayable"),
    {
        "type": "event",
        "name": "Transfer",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
]


def payment_token_at(address: str) -> Any:
    from ape import Contract

    return Contract(address, abi=ERC20_ABI)
