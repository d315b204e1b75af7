"""The shipped ABIs (munibond/abi/*.json) and the merged ABI one series address answers."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

# One series address runs the token, its admin extension (fallback) and the payment code with its admin half.
SERIES_PARTS = ("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin")
SERIES_MERGED = "BondSeries"


def _abi_dir() -> Any:
    return resources.files("munibond") / "abi"


def has_abi(name: str) -> bool:
    return (_abi_dir() / f"{name}.json").is_file()


@cache
def _load(name: str) -> tuple[dict[str, Any], ...]:
    data = json.loads((_abi_dir() / f"{name}.json").read_text())
    return tuple(data["abi"] if isinstance(data, dict) else data)


def load_abi(name: str) -> list[dict[str, Any]]:
    """The ABI shipped as munibond/abi/<name>.json (a fresh list: callers may keep it)."""
    return list(_load(name))


def signature(item: dict[str, Any]) -> str:
    """`name(type,...)` with tuples spelled out, as selectors and topics hash it."""
    return f"{item.get('name', '')}({','.join(canonical_type(p) for p in item.get('inputs', []))})"


def canonical_type(param: dict[str, Any]) -> str:
    """The canonical ABI type of one parameter (`tuple[]` becomes `(t1,t2)[]`)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(canonical_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def merge_abis(parts: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every function, event and error of `parts` once (first occurrence wins); no constructor, fallback or receive."""
    merged: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for abi in parts:
        for item in abi:
            if item["type"] not in ("function", "event", "error"):
                continue
            key = (item["type"], signature(item))
            if key not in seen:
                seen.add(key)
                merged.append(item)
    return merged


def series_abi() -> list[dict[str, Any]]:
    """What one series address answers: the shipped BondSeries ABI (the merge of SERIES_PARTS, `make abi`)."""
    return load_abi(SERIES_MERGED)


def registry_abi() -> list[dict[str, Any]]:
    return load_abi("InvestorRegistry")


def factory_abi() -> list[dict[str, Any]]:
    return load_abi("BondFactory")
