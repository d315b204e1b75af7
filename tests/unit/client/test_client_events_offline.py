"""Event decoding by field name, on logs built here: the payment events as the contracts are about to emit them
(with the tax class, and the bank record with its withholding and net) give named tax lines and methods."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak

from munibond.client.abi import canonical_type, series_abi, signature
from munibond.client.events import EventDecoder, OffchainPaymentEvent, PaymentMadeEvent
from munibond.client.payments import TaxLine, rebuild_payments

HOLDER = "0x" + "aB" * 20
TAX_OFFICE = "0x" + "12" * 20
CITY = "0x" + "34" * 20


def _param(name: str, kind: str, indexed: bool = False) -> dict[str, Any]:
    return {"name": name, "type": kind, "indexed": indexed}


PAYMENT_MADE = {
    "type": "event",
    "name": "PaymentMade",
    "anonymous": False,
    "inputs": [
        _param("period", "uint256", True),
        _param("holder", "address", True),
        _param("to", "address"),
        _param("couponGross", "uint256"),
        _param("principalGross", "uint256"),
        _param("taxClass", "uint8"),
        _param("taxes", "uint256[]"),
        _param("net", "uint256"),
        _param("unitsRedeemed", "uint256"),
    ],
}
OFFCHAIN = {
    "type": "event",
    "name": "OffchainPaymentRecorded",
    "anonymous": False,
    "inputs": [
        _param("period", "uint256", True),
        _param("holder", "address", True),
        _param("couponGross", "uint256"),
        _param("principalGross", "uint256"),
        _param("taxClass", "uint8"),
        _param("taxes", "uint256[]"),
        _param("net", "uint256"),
        _param("unitsRedeemed", "uint256"),
        _param("paymentReference", "bytes32"),
    ],
}
TAX_CLASS_UPDATED = next(i for i in series_abi() if i["type"] == "event" and i["name"] == "TaxClassUpdated")


def log(event: dict[str, Any], values: dict[str, Any], block: int, index: int, tx: bytes) -> dict[str, Any]:
    indexed = [p for p in event["inputs"] if p["indexed"]]
    plain = [p for p in event["inputs"] if not p["indexed"]]
    return {
        "topics": [keccak(text=signature(event))] + [encode([canonical_type(p)], [values[p["name"]]]) for p in indexed],
        "data": encode([canonical_type(p) for p in plain], [values[p["name"]] for p in plain]),
        "blockNumber": block,
        "logIndex": index,
        "transactionHash": tx,
    }


def tax_class(cls: int, components: list[tuple[int, str]], block: int) -> dict[str, Any]:
    values = {"taxClass": cls, "oldComponents": [], "newComponents": components}
    return log(TAX_CLASS_UPDATED, values, block, 0, bytes([block]) * 32)


def paid(event: dict[str, Any], period: int, taxes: list[int], block: int, **more: Any) -> dict[str, Any]:
    """A 1001-yen coupon to HOLDER with `taxes` withheld."""
    values = {"period": period, "holder": HOLDER, "to": HOLDER, "couponGross": 1001, "principalGross": 0}
    values |= {"taxes": taxes, "net": 1001 - sum(taxes), "unitsRedeemed": 0} | more
    return log(event, values, block, 0, bytes([block]) * 32)


JP_INDIVIDUAL = [(153_150, TAX_OFFICE), (50_000, CITY)]


def test_payments_with_the_tax_class_in_the_event_name_their_components():
    decoder = EventDecoder([PAYMENT_MADE, OFFCHAIN, TAX_CLASS_UPDATED])
    bank_values = {"period": 1, "holder": HOLDER, "couponGross": 2000, "principalGross": 10_000, "taxClass": 1}
    bank_values |= {"taxes": [306, 100], "net": 11_594, "unitsRedeemed": 1, "paymentReference": b"\x09" * 32}
    logs = [
        tax_class(1, JP_INDIVIDUAL, 1),
        tax_class(4, JP_INDIVIDUAL, 2),
        paid(PAYMENT_MADE, 0, [153, 50], 5, taxClass=4),
        log(OFFCHAIN, bank_values, 6, 0, b"\x06" * 32),
    ]
    events = [decoder.record(entry, 1_800_000_000) for entry in logs]
    made, bank = events[2], events[3]
    assert isinstance(made, PaymentMadeEvent) and made.tax_class == 4 and made.taxes == (153, 50)
    assert made.holder.lower() == HOLDER.lower() and made.net == 798
    assert isinstance(bank, OffchainPaymentEvent) and (bank.tax_class, bank.taxes, bank.net) == (1, (306, 100), 11_594)

    history = rebuild_payments(events, method_of=lambda tx: "push")
    pushed, recorded = history.for_holder(made.holder)
    # classes 1 and 4 withhold alike: only the event's own class tells them apart
    assert (pushed.method, pushed.tax_class, pushed.net) == ("push", 4, 798)
    assert pushed.taxes == (TaxLine(0, 153, 153_150, TAX_OFFICE), TaxLine(1, 50, 50_000, CITY))
    assert (recorded.method, recorded.tax_class, recorded.net, recorded.reference) == ("bank", 1, 11_594, b"\x09" * 32)
    assert [line.rate_ppm for line in recorded.taxes] == [153_150, 50_000]
    totals = history.totals(1)
    assert (totals.offchain_gross, totals.net, totals.tax, totals.units_redeemed) == (12_000, 0, 0, 1)


def test_without_the_tax_class_two_classes_that_withhold_alike_stay_unnamed():
    old_made = dict(PAYMENT_MADE, inputs=[p for p in PAYMENT_MADE["inputs"] if p["name"] != "taxClass"])
    decoder = EventDecoder([old_made, TAX_CLASS_UPDATED])
    logs = [
        tax_class(1, JP_INDIVIDUAL, 1),
        paid(old_made, 0, [153, 50], 2),
        tax_class(4, JP_INDIVIDUAL, 3),
        paid(old_made, 1, [153, 50], 4),
    ]
    history = rebuild_payments(decoder.record(entry, 0) for entry in logs)
    first, second = history.for_holder(decoder.record(logs[1], 0).holder)
    assert first.tax_class == 1 and [t.rate_ppm for t in first.taxes] == [153_150, 50_000]
    assert second.tax_class is None and [t.rate_ppm for t in second.taxes] == [None, None]
    assert first.method == second.method == "paid"
