"""The bondholder register of a series, now or at a record date (Companies Act art. 681 style, on-chain part).

Only what the chain knows: wallet, investor identity, region, category, tax class, units and face value.
Names and addresses of the holders stay in the issuer's off-chain register (joined by identity).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from munibond.chain.servicing import candidate_holders


@dataclass(frozen=True)
class RegisterLine:
    wallet: str
    identity: str
    country: int
    region: int
    category: int
    tax_class: int
    units: int
    face_value: int  # in currency minor units
    frozen: bool


def holder_register(
    token: Any, registry: Any, *, start_block: int, record_time: int | None = None
) -> list[RegisterLine]:
    """Every wallet with a balance (at `record_time` if given, else now), with its registry record."""
    denomination = int(token.denomination())
    lines = []
    for wallet in candidate_holders(token, start_block):
        units = int(token.balanceOf(wallet) if record_time is None else token.balanceOfAt(wallet, record_time))
        if not units:
            continue
        record = registry.investorRecord(wallet)
        lines.append(
            RegisterLine(
                wallet,
                str(record.identity),
                int(record.country),
                int(record.region),
                int(record.category),
                int(record.taxClass),
                units,
                units * denomination,
                bool(token.isFrozen(wallet)),
            )
        )
    return lines


def register_csv(lines: list[RegisterLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["wallet", "identity", "country", "region", "category", "tax_class", "units", "face_value", "frozen"]
    )
    for line in lines:
        writer.writerow(
            [
                line.wallet,
                line.identity,
                line.country,
                line.region,
                line.category,
                line.tax_class,
                line.units,
                line.face_value,
                str(line.frozen).lower(),
            ]
        )
    return out.getvalue()
