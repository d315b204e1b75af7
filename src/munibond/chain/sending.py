"""Sending a run of similar contract transactions (batches of pushes, mints, registrations) without redundant work.

Ape's `contract.method(*args, sender=...)` estimates gas, rebuilds its network configuration several times and,
after the receipt, fetches the transaction's trace (to show contract debug logs). For hundreds of batches that
is most of the time. `Sender` prepares the first transaction of each *shape* (function and batch length) through
Ape — its gas estimated once, so a refusal surfaces as Ape's decoded custom error before anything is sent, and
its fees set — and reuses that gas limit with a margin for every later transaction of the same shape.
Each transaction is then signed by the Ape account and sent as a raw transaction through web3, and its receipt
read unformatted with one request; no trace is fetched.

A transaction that runs out of gas under the reused limit reverted whole (it changed nothing): its call is
estimated again and sent once more. Any other failure is replayed through Ape's estimate, which raises the
contract's decoded error; the receipts of the transactions mined before it stand, and a re-run resumes from the
chain's journal as before.

The network's settings (`munibond.netsettings`, applied by `munibond.chain.transport`) give the transaction type
and fees of the templates; on an EIP-1559 network without a fixed fee cap the cap is set again before each
transaction from the latest base fee (2 × base fee + priority fee), so a long run keeps up with rising fees. Each
transaction counts as done once `confirmations` blocks follow its block. When the node does not answer a send,
the transaction is looked up by its hash, then the account's nonce: found, it is waited for; its nonce still
free, the same signed bytes are sent again (they can land once at most); its nonce taken by another transaction,
the run stops in one line, and a re-run resumes from the chain.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from munibond.chain import transport
from munibond.chain.bulk import Function, to_checksum_address

# Registry writes record the decision time (block.timestamp) beside the record: an estimate made in the block of
# the previous write prices that store lower than the next block pays; batches of one shape vary in which paths
# they take (first payment-token balance, escrow). The limit is the estimate plus this margin.
GAS_MARGIN_PERCENT = 130
RECEIPT_TIMEOUT_S = 600.0
POLL_S = 0.02
CONFIRMATION_POLL_S = 0.25


@dataclass(frozen=True)
class SentReceipt:
    """What a run keeps of a mined transaction (attribute names as Ape's receipts)."""

    txn_hash: str
    block_number: int
    gas_used: int
    gas_limit: int
    status: int
    logs: list[Any] = field(repr=False)  # as the node sent them, addresses checksummed (Ape decodes them too)

    @property
    def failed(self) -> bool:
        return self.status != 1


class TransactionFailed(RuntimeError):
    def __init__(self, receipt: SentReceipt, what: str) -> None:
        self.receipt = receipt
        super().__init__(
            f"{what} failed in transaction {receipt.txn_hash} (block {receipt.block_number}, gas used "
            f"{receipt.gas_used} of {receipt.gas_limit})"
        )


_LAST_SENT: dict[str, str] = {}  # address -> hash of the latest transaction it sent in this process


def last_sent(address: str) -> str | None:
    """The hash of the latest transaction `address` sent through a Sender in this process, if any."""
    return _LAST_SENT.get(address)


class Sender:
    """Sends transactions of `account` (an Ape account) straight through web3 (see the module docstring)."""

    def __init__(self, account: Any, *, margin_percent: int = GAS_MARGIN_PERCENT) -> None:
        self.account = account
        self.provider = account.provider
        self.web3 = self.provider.web3
        self.margin_percent = margin_percent
        self._templates: dict[tuple[str, str, Any], Any] = {}
        self._block_gas_limit: int | None = None
        self._nonce: int | None = None  # the next nonce, counted locally between reads from the node
        settings = transport.active()
        self._settings = settings
        self._confirmations = settings.confirmations
        # an EIP-1559 fee cap of the node's choosing is set again before each transaction
        self._refresh_fee_cap = settings.gas.type == "eip1559" and settings.gas.max_fee is None
        self.estimates = 0  # gas estimates made (for tests and profiles)

    def send(self, contract: Any, name: str, *args: Any, shape: Any = None) -> SentReceipt:
        """`contract.name(*args)` from the account; `shape` (e.g. the batch length) keys the reused gas limit."""
        function = Function.of(contract, name, len(args))
        key = (str(contract.address), function.signature, shape)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._prepare(contract, name, args)
        receipt = self._submit(template, function.encode(args))
        if receipt.failed and receipt.gas_used >= receipt.gas_limit * 99 // 100:
            self._templates[key] = self._prepare(contract, name, args)
            receipt = self._submit(self._templates[key], function.encode(args))
        if receipt.failed:
            getattr(contract, name).estimate_gas_cost(*args, sender=self.account)  # raises the decoded refusal
            raise TransactionFailed(receipt, f"{name} on {contract.address}")
        return receipt

    def _prepare(self, contract: Any, name: str, args: tuple[Any, ...]) -> Any:
        """Ape's transaction for this call with the gas limit of its estimate plus the margin (capped at the block
        gas limit) and the fees Ape sets; the estimate raises the contract's decoded refusal."""
        method = getattr(contract, name)
        estimate = int(method.estimate_gas_cost(*args, sender=self.account))
        self.estimates += 1
        if self._block_gas_limit is None:
            self._block_gas_limit = int(self.web3.eth.get_block("latest")["gasLimit"])
        gas = min(estimate * self.margin_percent // 100, self._block_gas_limit)
        self._nonce = None  # read again from the node before the next transaction
        return method.as_transaction(*args, sender=self.account, gas_limit=gas)

    def _submit(self, template: Any, data: bytes) -> SentReceipt:
        if self._nonce is None:
            self._nonce = int(self.web3.eth.get_transaction_count(self.account.address, "pending"))
        nonce = self._nonce
        update: dict[str, Any] = {"data": data, "nonce": nonce}
        if self._refresh_fee_cap:
            base_fee = int(self.web3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            update["max_fee"] = 2 * base_fee + int(template.max_priority_fee or 0)
        transaction = template.model_copy(update=update)
        transaction.signature = None
        signed = self.account.sign_transaction(transaction)
        if signed is None or signed.signature is None:
            raise RuntimeError(f"{self.account.address} did not sign the transaction")
        raw_transaction = signed.serialize_transaction()
        try:
            txn_hash = self.web3.eth.send_raw_transaction(raw_transaction)
        except transport.SendUnconfirmed as unanswered:
            txn_hash = self._resolve_unanswered(raw_transaction, nonce, unanswered)
        except Exception:
            self._nonce = None
            raise
        self._nonce = nonce + 1
        _LAST_SENT[self.account.address] = "0x" + bytes(txn_hash).hex()
        raw = self._receipt("0x" + bytes(txn_hash).hex())
        self._await_confirmations(int(raw["blockNumber"], 16))
        return SentReceipt(
            str(raw["transactionHash"]),
            int(raw["blockNumber"], 16),
            int(raw["gasUsed"], 16),
            int(transaction.gas_limit),
            int(raw["status"], 16),
            [dict(log, address=to_checksum_address(log["address"])) for log in raw["logs"]],
        )

    def _resolve_unanswered(self, raw: bytes, nonce: int, unanswered: transport.SendUnconfirmed) -> bytes:
        """The node did not answer the send of `raw` (nonce `nonce`): its hash when the node has it (pending or
        mined), after sending the same bytes again while its nonce is still free; never a second transaction."""
        from web3.exceptions import TransactionNotFound

        txn_hash = keccak(raw)
        policy = self._settings.retries
        for retry in range(1, policy.attempts + 2):
            try:
                self.web3.eth.get_transaction(txn_hash)
                return txn_hash
            except TransactionNotFound:
                pass
            used = int(self.web3.eth.get_transaction_count(self.account.address, "pending"))
            if used > nonce:
                self._nonce = None
                raise transport.NodeUnavailable(
                    f"{unanswered}, and nonce {nonce} of {self.account.address} is now used by another transaction"
                ) from unanswered
            if retry > policy.attempts:
                break
            delay = policy.delay(retry)
            print(
                f"node: transaction 0x{txn_hash.hex()} not received; sending the same transaction again "
                f"({retry}/{policy.attempts}) in {delay:g} s",
                file=sys.stderr,
                flush=True,
            )
            time.sleep(delay)
            try:
                self.web3.eth.send_raw_transaction(raw)
                return txn_hash
            except transport.SendUnconfirmed:
                continue
            except Exception as exc:
                if "already known" in str(exc) or "already imported" in str(exc):
                    return txn_hash
                raise
        self._nonce = None
        raise transport.NodeUnavailable(f"{unanswered} after {policy.attempts + 1} attempts") from unanswered

    def _receipt(self, txn_hash: str) -> dict[str, Any]:
        """The receipt as the node sends it (hex strings; logs decoded by `bulk.Event`): web3's formatting of a
        batch's hundreds of logs costs more than waiting for the block."""
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while True:
            response = self.web3.provider.make_request("eth_getTransactionReceipt", [txn_hash])
            if "error" in response:
                raise RuntimeError(f"the node refused the receipt of {txn_hash}: {response['error']}")
            if response.get("result") is not None:
                return dict(response["result"])
            if time.monotonic() > deadline:
                raise TimeoutError(f"transaction {txn_hash} was not mined within {RECEIPT_TIMEOUT_S:.0f} s")
            time.sleep(POLL_S)

    def _await_confirmations(self, block: int) -> None:
        required = self._confirmations
        deadline = time.monotonic() + RECEIPT_TIMEOUT_S
        while required and int(self.web3.eth.block_number) < block + required:
            if time.monotonic() > deadline:
                raise TimeoutError(f"block {block} did not reach {required} confirmations")
            time.sleep(CONFIRMATION_POLL_S)
