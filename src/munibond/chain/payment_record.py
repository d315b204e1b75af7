"""The payment record of a period: every settlement of every holder, from the payment agent's events.

One line per settlement: paid on chain (net, with each withholding component), escrowed (gross held for a
frozen or unverified holder), released from escrow (paid later, possibly to another wallet of the same
investor) or recorded as paid off chain by bank transfer (with its reference, and the withholding and net the
bank transfer carried, as the event records them). Amounts are in payment-token base units. This is what a
paying agent files withholding reports from.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from munibond.chain.events import logs_since

PAID, ESCROWED, RELEASED, OFFCHAIN = "paid", "escrowed", "released", "offchain"


@dataclass(frozen=True)
class PaymentLine:
    period: int  # 0-based, as the agent numbers periods
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
    tax_class: int = 0  # the tax class the withholding used (its components name `taxes`); 0 for an escrow

    @property
    def tax(self) -> int:
        return sum(self.taxes)


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()


def _line(
    log: Any,
    kind: str,
    to: str,
    *,
    taxes: tuple[int, ...] = (),
    net: int = 0,
    reference: str = "",
    tax_class: int = 0,
) -> PaymentLine:
    """A settlement from one event log (the fields every settlement event carries, plus what `kind` adds)."""
    return PaymentLine(
        int(log["period"]),
        str(log["holder"]),
        to,
        kind,
        int(log["couponGross"]),
        int(log["principalGross"]),
        taxes,
        net,
        int(log["unitsRedeemed"]),
        reference,
        _hex(log.transaction_hash),
        int(log.block_number),
        int(log.log_index),
        tax_class,
    )


def payment_lines(agent: Any, period: int, *, start_block: int) -> list[PaymentLine]:
    """Every settlement of `period` (0-based) since `start_block`, in chain order."""
    return settlement_lines(agent, start_block=start_block, keep=lambda log: int(log["period"]) == period)


def wallet_lines(agent: Any, wallet: str, *, start_block: int) -> list[PaymentLine]:
    """Every settlement of any period that concerns `wallet` (as the holder, or as the wallet an escrow was
    released to), in chain order: the input of a holder's payment statement."""
    lines = settlement_lines(agent, start_block=start_block, keep=lambda log: True)
    return [line for line in lines if wallet in (line.holder, line.to)]


def settlement_lines(agent: Any, *, start_block: int, keep: Callable[[Any], bool]) -> list[PaymentLine]:
    """The settlements whose event log passes `keep`, in chain order."""

    def kept(event: Any) -> list[Any]:
        return [log for log in logs_since(event, start_block) if keep(log)]

    released = {(_hex(log.transaction_hash), str(log["holder"])) for log in kept(agent.EscrowReleased)}
    lines = [
        _line(
            log,
            RELEASED if (_hex(log.transaction_hash), str(log["holder"])) in released else PAID,
            str(log["to"]),
            taxes=tuple(int(t) for t in log["taxes"]),
            net=int(log["net"]),
            tax_class=int(log["taxClass"]),
        )
        for log in kept(agent.PaymentMade)
    ]
    lines += [_line(log, ESCROWED, str(agent.address)) for log in kept(agent.PaymentEscrowed)]
    lines += [
        _line(
            log,
            OFFCHAIN,
            "",
            taxes=tuple(int(t) for t in log["taxes"]),
            net=int(log["net"]),
            reference=_hex(log["paymentReference"]),
            tax_class=int(log["taxClass"]),
        )
        for log in kept(agent.OffchainPaymentRecorded)
    ]
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
