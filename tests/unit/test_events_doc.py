"""docs/events.md documents every event and custom error the exported ABIs of the series, the registry and the
factory declare: each event under a heading with its signature and a table naming every field, each error in a
table row with every parameter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "events.md"
ABI_DIR = ROOT / "src" / "munibond" / "abi"
SERIES = ("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin")
CONTRACTS = (*SERIES, "InvestorRegistry", "BondFactory")


def abi(name: str) -> list[dict[str, Any]]:
    data = json.loads((ABI_DIR / f"{name}.json").read_text())
    return data["abi"] if isinstance(data, dict) else data


def canonical_type(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(canonical_type(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}(" + ",".join(canonical_type(i) for i in item["inputs"]) + ")"


def sections() -> dict[str, list[str]]:
    """Heading signature -> the bodies of every `### `signature`` section (an event may appear per address)."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"^### `([^`]+)`\n(.*?)(?=^#{2,3} |\Z)", DOC.read_text(), re.S | re.M):
        found.setdefault(match.group(1), []).append(match.group(2))
    return found


def items(kind: str, contracts: tuple[str, ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, item) for name in contracts for item in abi(name) if item["type"] == kind]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_event_and_field_is_documented(contract):
    documented = sections()
    for _, event in items("event", (contract,)):
        sig = signature(event)
        assert sig in documented, f"{contract}: event {sig} has no section in docs/events.md"
        bodies = documented[sig]
        for field in event["inputs"]:
            row = f"| `{field['name']}` | `{canonical_type(field)}` |"
            assert any(row in body for body in bodies), f"{contract}: {sig} field {field['name']} not documented"


@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_error_is_documented_with_its_parameters(contract):
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    for _, error in items("error", (contract,)):
        params = ", ".join(f"{canonical_type(i)} {i['name']}" for i in error["inputs"])
        head = f"| `{error['name']}({params})` | "
        matching = [row for row in rows if row.startswith(head)]
        assert matching, f"{contract}: error {error['name']}({params}) not documented"
        assert all(len(row) > len(head) + 10 for row in matching), f"{error['name']} has no meaning"


def test_series_errors_are_in_the_series_section():
    text = DOC.read_text()
    series_part = text[text.index("## Errors at the series address") : text.index("## Errors at the registry")]
    for _, error in items("error", SERIES):
        assert f"| `{error['name']}(" in series_part, f"{error['name']} missing from the series' errors"
    assert "bit 6 (64) payer" in series_part  # MissingRole's mask is explained


def test_the_doc_names_no_event_the_abis_do_not_have():
    declared = {signature(event) for _, event in items("event", CONTRACTS)}
    assert set(sections()) <= declared, set(sections()) - declared
