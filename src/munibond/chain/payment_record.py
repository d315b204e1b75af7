"""The payment record of a period: every settlement of every holder, from the payment agent's events.

One line per settlement: paid on chain (net, with each withholding component), escrowed (gross held for a
frozen or unverified holder), released from escrow (paid later, possibly to another wallet of the same
investor) or recorded as paid off chain by bank transfer (with its reference). Amounts are in payment-token
base units. This is what a paying agent files withholding reports from.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from munibond.chain.events import logs_since

PAID, ESCROWED, RELEASED, OFFCHAIN = "paid", "escrowed", "released", "offchain"


@dataclass(frozen=True)
class PaymentLine:
    holder: str
    to: str  # the wallet paid; the agent for an escrow; empty for an off-chain payment
    kind: str  # paid | escrowed | released | offchain
    coupon_gross: int
    principal_gross: int
    taxes: tuple[int, ...]  # one amount per withholding component of the holder's tax class
    net: int
    units_redeemed: int
    reference: str  # off-chain payment reference (0x-hex), else empty
    transaction: str
    block: int
    log_index: int

    @property
    def tax(self) -> int:
        return sum(self.taxes)


def _where(log: Any) -> tuple[str, int, int]:
    tx = log.transaction_hash
    return (tx if isinstance(tx, str) else "0x" + bytes(tx).hex(), int(log.block_number), int(log.log_index))


def payment_lines(agent: Any, period: int, *, start_block: int) -> list[PaymentLine]:
    """Every settlement of `period` (0-based) since `start_block`, in chain order."""
    released = {
        (_where(log)[0], str(log["holder"]))
        for log in logs_since(agent.EscrowReleased, start_block)
        if int(log["period"]) == period
    }
    lines = []
    for log in logs_since(agent.PaymentMade, start_block):
        if int(log["period"]) != period:
            continue
        tx, block, index = _where(log)
        holder = str(log["holder"])
        kind = RELEASED if (tx, holder) in released else PAID
        lines.append(
            PaymentLine(
                holder,
                str(log["to"]),
                kind,
                int(log["couponGross"]),
                int(log["principalGross"]),
                tuple(int(t) for t in log["taxes"]),
                int(log["net"]),
                int(log["unitsRedeemed"]),
                "",
                tx,
                block,
                index,
            )
        )
    for log in logs_since(agent.PaymentEscrowed, start_block):
        if int(log["period"]) != period:
            continue
        tx, block, index = _where(log)
        lines.append(
            PaymentLine(
                str(log["holder"]),
                str(agent.address),
                ESCROWED,
                int(log["couponGross"]),
                int(log["principalGross"]),
                (),
                0,
                int(log["unitsRedeemed"]),
                "",
                tx,
                block,
                index,
            )
        )
    for log in logs_since(agent.OffchainPaymentRecorded, start_block):
        if int(log["period"]) != period:
            continue
        tx, block, index = _where(log)
        reference = log["paymentReference"]
        lines.append(
            PaymentLine(
                str(log["holder"]),
                "",
                OFFCHAIN,
                int(log["couponGross"]),
                int(log["principalGross"]),
                (),
                0,
                int(log["unitsRedeemed"]),
                reference if isinstance(reference, str) else "0x" + bytes(reference).hex(),
                tx,
                block,
                index,
            )
        )
    return sorted(lines, key=lambda line: (line.block, line.log_index))


def payment_record_csv(lines: list[PaymentLine]) -> str:
    """CSV with one column per withholding component (tax_1 ... tax_n, the most any line has)."""
    components = max((len(line.taxes) for line in lines), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["holder", "to", "kind", "coupon_gross", "principal_gross"]
        + [f"tax_{i + 1}" for i in range(components)]
        + ["tax_total", "net", "units_redeemed", "reference", "transaction"]
    )
    for line in lines:
        taxes = list(line.taxes) + [0] * (components - len(line.taxes))
        head = [line.holder, line.to, line.kind, line.coupon_gross, line.principal_gross]
        tail = [line.tax, line.net, line.units_redeemed, line.reference, line.transaction]
        writer.writerow([*head, *taxes, *tail])
    return out.getvalue()
