"""One bond series at one address (token, compliance, documents and payment code), read and used with web3.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from munibond.client.abi import registry_abi, series_abi
from munibond.client.errors import SeriesError, TransferRefused, decode_revert, revert_data
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


def _call(fn: Any, block: int | str = "latest") -> Any:
    """Calls a bound contract function; a revert becomes the decoded SeriesError."""
    return _guarded(lambda: fn.call(block_identifier=block))


def _document_name(raw: bytes) -> str:
    text = raw.rstrip(b"\x00")
    try:
        return text.decode()
    except UnicodeDecodeError:
        return "0x" + raw.hex()


def document_key(name: str) -> bytes:
    """The bytes32 key of a document name (UTF-8, right-padded; at most 32 bytes)."""
    raw = name.encode()
    if len(raw) > 32:
        raise ValueError(f"document name {name!r} is longer than 32 bytes")
    return raw.ljust(32, b"\x00")


class BondSeries:
    """A deployed series. `start_block` is where its events begin (the deployment block from the manifest)."""

    def __init__(self, w3: Any, address: str, *, start_block: int = 0, registry: str | None = None) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self.start_block = start_block
        self.contract = w3.eth.contract(address=self.address, abi=series_abi())
        self._registry = to_checksum_address(registry) if registry else None

    # ------------------------------------------------------------------------------------------- opening
    @classmethod
    def at(cls, w3: Any, address: str, *, start_block: int = 0) -> BondSeries:
        return cls(w3, address, start_block=start_block)

    @classmethod
    def from_manifest(cls, w3: Any, manifest: str | Path | dict[str, Any], symbol: str) -> BondSeries:
        """The series `symbol` of a deployment manifest (deployments/<network>.json, or its parsed content)."""
        data = manifest if isinstance(manifest, dict) else json.loads(Path(manifest).read_text())
        chain_id = int(data["chain_id"])
        if chain_id != int(w3.eth.chain_id):
            raise ValueError(f"the manifest is for chain id {chain_id}, the node serves chain id {w3.eth.chain_id}")
        entry = data.get("series", {}).get(symbol)
        if entry is None:
            known = ", ".join(sorted(data.get("series", {}))) or "none"
            raise KeyError(f"no series {symbol!r} in the manifest (deployed: {known})")
        registry = data.get("contracts", {}).get("InvestorRegistry", {}).get("address")
        return cls(w3, entry["token"], start_block=int(entry.get("block", 0)), registry=registry)

    # ------------------------------------------------------------------------------------------- plumbing
    def call(self, function: str, *args: Any, block: int | str = "latest") -> Any:
        """Any view of the series by name; a revert raises the decoded SeriesError."""
        return _call(getattr(self.contract.functions, function)(*args), block)

    @property
    def registry(self) -> Any:
        """The investor registry the series verifies holders in (a web3 contract)."""
        if self._registry is None:
            self._registry = to_checksum_address(self.call("identityRegistry"))
        return self.w3.eth.contract(address=self._registry, abi=registry_abi())

    # ------------------------------------------------------------------------------------------- reads
    def terms(self) -> BondTerms:
        t = self.call("bondTerms")
        return BondTerms(
            self.call("name"),
            self.call("symbol"),
            int(self.call("decimals")),
            t[0],
            to_checksum_address(t[1]),
            *(int(v) for v in t[2:]),
        )

    def period_count(self) -> int:
        return int(self.call("periodCount"))

    def period(self, index: int) -> Period:
        rt, pt, rn, rd, cn, cd, pn, pd = self.call("periodTerms", index)
        reclaim_after, cancelled, defaulted, closed, known, required, funded = self.call("periodState", index)
        return Period(
            index,
            int(rt),
            int(pt),
            Fraction(int(rn), int(rd)) if rn else Fraction(0),
            Fraction(int(cn), int(cd)),
            Fraction(int(pn), int(pd)),
            int(reclaim_after),
            bool(cancelled),
            bool(defaulted),
            bool(closed),
            int(required) if known else None,
            int(funded),
        )

    def schedule(self) -> list[Period]:
        """Every period in the order scheduled (cancelled ones included, flagged)."""
        return [self.period(i) for i in range(self.period_count())]

    def documents(self) -> list[Document]:
        docs = []
        for key in self.call("getAllDocuments"):
            uri, content_hash, modified = self.call("getDocument", key)
            docs.append(Document(_document_name(bytes(key)), uri, bytes(content_hash), int(modified)))
        return docs

    def status(self) -> SeriesStatus:
        return SeriesStatus(
            paused=bool(self.call("paused")),
            total_supply=int(self.call("totalSupply")),
            holder_count=int(self.call("holderCount")),
            period_count=self.period_count(),
            open_defaults=int(self.call("openDefaults")),
            record_times=tuple(int(t) for t in self.call("recordTimes")),
            closes_after_last_record_time=bool(self.call("closesAfterLastRecordTime")),
            payment_token=to_checksum_address(self.call("paymentToken")),
            committed_funds=int(self.call("committedFunds")),
        )

    def balance_of(self, holder: str, *, block: int | str = "latest") -> int:
        return int(self.call("balanceOf", to_checksum_address(holder), block=block))

    def balance_at(self, holder: str, record_time: int) -> int:
        """Units of `holder` at a passed scheduled record time."""
        return int(self.call("balanceOfAt", to_checksum_address(holder), record_time))

    def holder(self, wallet: str) -> HolderInfo:
        """Units, freezes and pending retirement of `wallet` on the series, and its investor record."""
        address = to_checksum_address(wallet)
        registry = self.registry
        identity, country, region, category, tax_class, kyc_expiry, _multi = _call(
            registry.functions.investorRecord(address)
        )
        return HolderInfo(
            address,
            self.balance_of(address),
            int(self.call("pendingRetirement", address)),
            bool(self.call("isFrozen", address)),
            int(self.call("getFrozenTokens", address)),
            bool(_call(registry.functions.isVerified(address))),
            to_checksum_address(identity),
            int(country),
            int(region),
            int(category),
            int(tax_class),
            int(kyc_expiry),
        )

    def accounts(self, period: int) -> PeriodAccounts:
        return PeriodAccounts(*(int(v) for v in self.call("accounts", period)))

    def tax_components(self, tax_class: int) -> list[tuple[int, str]]:
        """(rate in ppm of the coupon gross, account; zero = default tax account) of each component."""
        return [(int(rate), to_checksum_address(account)) for rate, account in self.call("taxComponents", tax_class)]

    def can_transfer(self, sender: str, to: str, units: int) -> TransferCheck:
        """The token's restriction code and message for `units` from `sender` to `to` (0 = allowed)."""
        code = int(self.call("detectTransferRestriction", to_checksum_address(sender), to_checksum_address(to), units))
        return TransferCheck(code, self.call("messageForTransferRestriction", code))

    def entitlement(self, holder: str, period: int) -> Entitlement:
        """Gross entitlement of `holder` for `period` (its record time must have passed) and its payment status."""
        wallet = to_checksum_address(holder)
        record_time = int(self.call("periodTerms", period)[0])
        coupon, principal, redeemed = self.call("entitlement", period, wallet)
        return Entitlement(
            period,
            wallet,
            self.balance_at(wallet, record_time),
            int(coupon),
            int(principal),
            int(redeemed),
            bool(self.call("isSettled", period, wallet)),
            int(self.call("escrowOf", period, wallet)),
        )

    # ------------------------------------------------------------------------------------------- sending
    def transfer(self, sender: Any, to: str, units: int, *, timeout: float = 120) -> dict[str, Any]:
        """Transfers `units` from `sender` (an eth_account LocalAccount, or the address of an account the node
        unlocks) to `to` after the token's pre-check; returns the receipt. Raises TransferRefused before sending
        when the token would refuse, SeriesError when the transaction reverts."""
        address = to_checksum_address(sender if isinstance(sender, str) else sender.address)
        check = self.can_transfer(address, to, units)
        if not check.allowed:
            raise TransferRefused(
                "TransferRestricted",
                {"code": check.code, "from": address, "to": to_checksum_address(to), "amount": units},
                detail=check.reason,
            )
        return self.send(sender, "transfer", to_checksum_address(to), units, timeout=timeout)

    def send(self, sender: Any, function: str, *args: Any, timeout: float = 120) -> dict[str, Any]:
        """Sends any series function from `sender` (LocalAccount or unlocked address); reverts are decoded."""
        return send_transaction(self.w3, getattr(self.contract.functions, function)(*args), sender, timeout=timeout)


def send_transaction(w3: Any, fn: Any, sender: Any, *, timeout: float = 120) -> dict[str, Any]:
    """Simulates, signs (LocalAccount) or asks the node to sign (address), sends and waits for the receipt."""
    address = to_checksum_address(sender if isinstance(sender, str) else sender.address)
    tx = _guarded(lambda: fn.build_transaction({"from": address}))  # estimates gas: a revert surfaces here
    if isinstance(sender, str):
        tx_hash = _guarded(lambda: w3.eth.send_transaction(tx))
    else:
        tx["nonce"] = w3.eth.get_transaction_count(address, "pending")
        signed = sender.sign_transaction(tx)
        tx_hash = _guarded(lambda: w3.eth.send_raw_transaction(signed.raw_transaction))
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
    if receipt["status"] != 1:
        replay = {"from": address, "to": tx["to"], "data": tx["data"], "value": tx.get("value", 0)}
        _guarded(lambda: w3.eth.call(replay, receipt["blockNumber"] - 1))
        raise SeriesError("TransactionFailed", {"transaction": "0x" + bytes(tx_hash).hex()}, detail="reverted")
    return dict(receipt)


def _guarded(action: Callable[[], Any]) -> Any:
    """Runs a web3 action; an exception carrying revert data becomes the decoded SeriesError."""
    try:
        return action()
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        raise decode_revert(data) from exc
