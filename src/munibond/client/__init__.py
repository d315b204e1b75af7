"""munibond.client: read, pre-check, transfer and follow a munibond series with plain web3.py.

Depends only on web3, eth-abi, eth-utils, hexbytes and the standard library (no Ape): a custodian's or an
exchange's service can import it on its own. Works with web3.py 7 and 8.

    from web3 import Web3, HTTPProvider
    from munibond.client import BondSeries
    series = BondSeries.from_manifest(Web3(HTTPProvider(url)), "deployments/mainnet.json", "KNGW26")
"""

from munibond.client.abi import merge_abis, series_abi
from munibond.client.errors import SeriesError, TransferRefused, UnknownRevert, decode_revert, role_names
from munibond.client.events import ChainEvent, Cursor, EventFollower, read_events
from munibond.client.models import (
    BondTerms,
    Document,
    Entitlement,
    HolderInfo,
    Period,
    PeriodAccounts,
    SeriesStatus,
    TransferCheck,
)
from munibond.client.payments import HolderPayment, PaymentHistory, TaxLine, rebuild_payments, transaction_method
from munibond.client.register import HolderRegister, rebuild_register
from munibond.client.series import BondSeries, document_key

__all__ = [
    "BondSeries",
    "BondTerms",
    "ChainEvent",
    "Cursor",
    "Document",
    "Entitlement",
    "EventFollower",
    "HolderInfo",
    "HolderPayment",
    "HolderRegister",
    "PaymentHistory",
    "Period",
    "PeriodAccounts",
    "SeriesError",
    "SeriesStatus",
    "TaxLine",
    "TransferCheck",
    "TransferRefused",
    "UnknownRevert",
    "decode_revert",
    "document_key",
    "merge_abis",
    "read_events",
    "rebuild_payments",
    "rebuild_register",
    "role_names",
    "series_abi",
    "transaction_method",
]
