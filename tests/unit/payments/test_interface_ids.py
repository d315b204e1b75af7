"""The ERC-165 ids docs/integration.md lists are the ones the compiler computes (contracts/test/InterfaceIds.sol)
and the ones a series with payment code and the investor registry answer; nothing else is claimed."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from tests.unit.payments.payment_helpers import Terms

DOC = Path(__file__).resolve().parents[3] / "docs" / "integration.md"
ROW = re.compile(r"^\| `(\w+)` \| `(0x[0-9a-f]{8})` \|", re.MULTILINE)


def documented(heading: str) -> list[tuple[str, str]]:
    text = DOC.read_text()
    section = text.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
    return ROW.findall(section)


def compiled(pairs) -> list[tuple[str, str]]:
    names, ids = pairs
    return [(name, "0x" + bytes(i).hex()) for name, i in zip(names, ids, strict=True)]


def test_the_documented_ids_are_the_compilers_and_are_answered(
    project, chain, operator, deploy_agent, make_payment_token, series
):
    helper = project.InterfaceIds.deploy(sender=operator)
    series_ids, registry_ids = documented("A series"), documented("The investor registry")
    assert series_ids == compiled(helper.seriesIds())
    assert registry_ids == compiled(helper.registryIds())

    now = chain.pending_timestamp
    deploy_agent([Terms(record_time=now + 1000, payment_time=now + 2000, coupon=Fraction(1))], make_payment_token(0))
    token = series.token
    for name, interface_id in series_ids:
        assert token.supportsInterface(bytes.fromhex(interface_id[2:])), name
    for name, interface_id in registry_ids:
        assert series.registry.supportsInterface(bytes.fromhex(interface_id[2:])), name
    for contract in (token, series.registry):
        assert not contract.supportsInterface(bytes.fromhex("ffffffff"))
    assert not series.registry.supportsInterface(bytes.fromhex("57defe0d"))  # IIdentityRegistryStorage: not claimed
