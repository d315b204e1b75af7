"""The bondholder register of a series, now or at a record date (Companies Act art. 681 style, on-chain part).

Only what the chain knows: wallet, investor identity, region, category, tax class, units and face value.
Names and addresses of the holders stay in the issuer's off-chain register (joined by identity).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from typing import Any

from munibond.chain.bulk import BulkReader
from munibond.chain.servicing import candidate_holders, settled_flags, web3_of


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
    settled: bool | None = None  # at a record date: the period was paid, escrowed or paid by bank to the wallet
    escrowed: int | None = None  # at a record date: gross held in escrow for the wallet (payment-token units)


def holder_register(
    token: Any, registry: Any, *, start_block: int, record_time: int | None = None
) -> list[RegisterLine]:
    """Every wallet with a balance (at `record_time` if given, else now), with its registry record.

    Now means the units the wallet still owns: units a passed record time retired (a call, an amortization, the
    final redemption) are left out even while the token still shows them until its next balance change."""
    denomination = int(token.denomination())
    reader = BulkReader.pinned(web3_of(token))
    wallets = candidate_holders(token, start_block)
    one = [(wallet,) for wallet in wallets]
    if record_time is None:
        balances = reader.map(token, "balanceOf", one)
        retiring = reader.map(token, "pendingRetirement", one)
        held = [int(b) - int(r) for b, r in zip(balances, retiring, strict=True)]
    else:
        held = [int(n) for n in reader.map(token, "balanceOfAt", [(wallet, record_time) for wallet in wallets])]
    holding = [(wallet, units) for wallet, units in zip(wallets, held, strict=True) if units]
    one = [(wallet,) for wallet, _ in holding]
    records = reader.map(registry, "investorRecord", one)
    frozen = reader.map(token, "isFrozen", one)
    return [
        RegisterLine(
            wallet,
            str(record.identity),
            int(record.country),
            int(record.region),
            int(record.category),
            int(record.taxClass),
            units,
            units * denomination,
            bool(is_frozen),
        )
        for (wallet, units), record, is_frozen in zip(holding, records, frozen, strict=True)
    ]


def with_payment_status(lines: list[RegisterLine], agent: Any, period: int) -> list[RegisterLine]:
    """The register at the record date of `period` (0-based) with each wallet's payment status for it."""
    reader = BulkReader.pinned(web3_of(agent))
    wallets = [line.wallet for line in lines]
    settled = settled_flags(agent, period, wallets, reader)
    escrowed = reader.map(agent, "escrowOf", [(period, wallet) for wallet in wallets])
    return [
        replace(line, settled=done, escrowed=int(held))
        for line, done, held in zip(lines, settled, escrowed, strict=True)
    ]


def register_csv(lines: list[RegisterLine]) -> str:
    """CSV of the register; with payment status (a register at a record date) also `settled,escrowed`."""
    status = any(line.settled is not None for line in lines)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["wallet", "identity", "country", "region", "category", "tax_class", "units", "face_value", "frozen"]
    writer.writerow(header + (["settled", "escrowed"] if status else []))
    for line in lines:
        row: list[object] = [
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
        if status:
            row += [str(bool(line.settled)).lower(), line.escrowed or 0]
        writer.writerow(row)
    return out.getvalue()
