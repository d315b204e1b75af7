"""The payment history of a series rebuilt from events alone: per holder and period, what was paid and how.

How a payment was made: `push` (the payer's pushPayments), `claim` (the holder's claim), `escrow` (entitlement
held in escrow, not yet paid), `escrow release` (escrow paid out), `bank` (recorded as paid by bank transfer).
Push and claim emit the same event; telling them apart reads the sending transaction's function selector
(`method_of`), otherwise they are reported as `paid`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from eth_utils import keccak

from munibond.client.events import (
    ChainEvent,
    EscrowReleasedEvent,
    OffchainPaymentEvent,
    PaymentEscrowedEvent,
    PaymentMadeEvent,
    TaxClassUpdatedEvent,
)

PPM = 1_000_000
_METHODS = {
    keccak(text="pushPayments(uint256,address[])")[:4]: "push",
    keccak(text="claim(uint256)")[:4]: "claim",
    keccak(text="claimMany(uint256[])")[:4]: "claim",
}


@dataclass(frozen=True)
class TaxLine:
    """One withholding component of a payment; rate and account from the tax class in force at the payment."""

    component: int
    amount: int
    rate_ppm: int | None
    account: str | None  # zero address = the series' default tax account


@dataclass(frozen=True)
class HolderPayment:
    period: int
    holder: str
    method: str
    coupon_gross: int
    principal_gross: int
    units_redeemed: int
    tax_class: int | None
    taxes: tuple[TaxLine, ...]
    net: int | None  # None: escrowed and not released, or a bank record without the net
    paid_to: str | None
    reference: bytes | None  # bank payment reference hash
    block_number: int
    transaction_hash: str

    @property
    def gross(self) -> int:
        return self.coupon_gross + self.principal_gross

    @property
    def tax(self) -> int:
        return sum(line.amount for line in self.taxes)


@dataclass(frozen=True)
class PeriodTotals:
    holders: int
    coupon_gross: int
    principal_gross: int
    tax: int
    net: int  # paid on chain (push, claim, escrow release)
    escrowed: int  # gross still in escrow
    offchain_gross: int  # recorded as paid by bank
    units_redeemed: int


def transaction_method(w3: Any) -> Callable[[str], str]:
    """method_of for `rebuild_payments`: push or claim from the transaction's function selector."""
    cache: dict[str, str] = {}

    def method_of(tx_hash: str) -> str:
        if tx_hash not in cache:
            data = bytes(w3.eth.get_transaction(tx_hash)["input"])
            cache[tx_hash] = _METHODS.get(data[:4], "paid")
        return cache[tx_hash]

    return method_of


class PaymentHistory:
    """Settlements by (period, holder) from PaymentMade, PaymentEscrowed, EscrowReleased, OffchainPaymentRecorded
    and TaxClassUpdated events fed in chain order."""

    def __init__(self, method_of: Callable[[str], str] | None = None) -> None:
        self.payments: dict[tuple[int, str], HolderPayment] = {}
        self.tax_classes: dict[int, tuple[tuple[int, str], ...]] = {}
        self._method_of = method_of
        self._releasing: EscrowReleasedEvent | None = None

    def apply(self, event: ChainEvent) -> None:
        if isinstance(event, TaxClassUpdatedEvent):
            self.tax_classes[event.tax_class] = event.components
        elif isinstance(event, EscrowReleasedEvent):
            self._releasing = event
        elif isinstance(event, PaymentMadeEvent):
            self._paid(event)
        elif isinstance(event, PaymentEscrowedEvent):
            self.payments[(event.period, event.holder)] = HolderPayment(
                event.period, event.holder, "escrow", event.coupon_gross, event.principal_gross,
                event.units_redeemed, None, (), None, None, None, event.block_number, event.transaction_hash,
            )  # fmt: skip
        elif isinstance(event, OffchainPaymentEvent):
            taxes = self._tax_lines(event.tax_class, event.taxes or (), event.coupon_gross)
            self.payments[(event.period, event.holder)] = HolderPayment(
                event.period, event.holder, "bank", event.coupon_gross, event.principal_gross,
                event.units_redeemed, event.tax_class, taxes, event.net, None, event.payment_reference,
                event.block_number, event.transaction_hash,
            )  # fmt: skip

    def _paid(self, event: PaymentMadeEvent) -> None:
        key = (event.period, event.holder)
        releasing, self._releasing = self._releasing, None
        tax_class = event.tax_class if event.tax_class is not None else self._infer_class(event)
        taxes = self._tax_lines(tax_class, event.taxes, event.coupon_gross)
        if releasing is not None and releasing.transaction_hash == event.transaction_hash and key in self.payments:
            escrow = self.payments[key]
            self.payments[key] = replace(
                escrow,
                method="escrow release",
                tax_class=tax_class,
                taxes=taxes,
                net=event.net,
                paid_to=event.paid_to,
                block_number=event.block_number,
                transaction_hash=event.transaction_hash,
            )
            return
        method = self._method_of(event.transaction_hash) if self._method_of else "paid"
        self.payments[key] = HolderPayment(
            event.period, event.holder, method, event.coupon_gross, event.principal_gross, event.units_redeemed,
            tax_class, taxes, event.net, event.paid_to, None, event.block_number, event.transaction_hash,
        )  # fmt: skip

    def _infer_class(self, event: PaymentMadeEvent) -> int | None:
        """The one tax class in force whose components give exactly the withheld amounts (events without
        `taxClass`); None when none or several match."""
        matches = [
            cls
            for cls, components in self.tax_classes.items()
            if len(components) == len(event.taxes)
            and all(
                int(event.coupon_gross * Fraction(rate, PPM)) == tax
                for (rate, _), tax in zip(components, event.taxes, strict=True)
            )
        ]
        return matches[0] if len(matches) == 1 else None

    def _tax_lines(self, tax_class: int | None, taxes: Iterable[int], coupon_gross: int) -> tuple[TaxLine, ...]:
        components = self.tax_classes.get(tax_class, ()) if tax_class is not None else ()
        lines = []
        for i, amount in enumerate(taxes):
            rate, account = components[i] if i < len(components) else (None, None)
            lines.append(TaxLine(i, amount, rate, account))
        return tuple(lines)

    # -------------------------------------------------------------------------------------------- queries
    def payment(self, period: int, holder: str) -> HolderPayment | None:
        return self.payments.get((period, holder))

    def settled(self, period: int, holder: str) -> bool:
        """As the series' isSettled: paid, escrowed or recorded as paid by bank."""
        return (period, holder) in self.payments

    def for_holder(self, holder: str) -> list[HolderPayment]:
        return [p for (_, h), p in sorted(self.payments.items()) if h == holder]

    def for_period(self, period: int) -> list[HolderPayment]:
        return [p for (n, _), p in sorted(self.payments.items()) if n == period]

    def totals(self, period: int) -> PeriodTotals:
        rows = self.for_period(period)
        on_chain = [p for p in rows if p.method not in ("escrow", "bank")]
        return PeriodTotals(
            holders=len(rows),
            coupon_gross=sum(p.coupon_gross for p in rows),
            principal_gross=sum(p.principal_gross for p in rows),
            tax=sum(p.tax for p in on_chain),
            net=sum(p.net or 0 for p in on_chain),
            escrowed=sum(p.gross for p in rows if p.method == "escrow"),
            offchain_gross=sum(p.gross for p in rows if p.method == "bank"),
            units_redeemed=sum(p.units_redeemed for p in rows),
        )


def rebuild_payments(events: Iterable[ChainEvent], *, method_of: Callable[[str], str] | None = None) -> PaymentHistory:
    history = PaymentHistory(method_of)
    for event in events:
        history.apply(event)
    return history
