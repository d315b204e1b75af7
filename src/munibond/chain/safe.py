"""A Safe multisig as the signer of admin operations: the transactions a command would send are written as a Safe
Transaction Builder batch file instead (`--propose-safe FILE`), for the Safe's owners to import in the Safe{Wallet}
Transaction Builder app, sign and execute.

The batch file is the app's JSON format: `version`, `chainId` (a string), `createdAt` (milliseconds), `meta`
(`name`, `description`, `txBuilderVersion`, `createdFromSafeAddress`, `createdFromOwnerAddress`) and
`transactions`, each `to`, `value` (a decimal string), `data` (the calldata, hex) and, for a function whose inputs
are all plain values, `contractMethod` (inputs, name, payable) and `contractInputsValues` (each input as a
string) so the app shows the call by name. The calldata is what executes; it is encoded from the shipped ABIs.

Every check a command runs before sending runs before writing the file, with the Safe's address as the role
holder (so the Safe must hold the role). Nothing is sent; a command that writes the manifest after sending
(`amend`) leaves it as it is: run it again once the Safe has executed the batch.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from munibond import __version__
from munibond.chain.bulk import Function
from munibond.errors import InputError

BATCH_VERSION = "1.0"
TX_BUILDER_VERSION = "1.18.0"
ADMIN_ROLE = b"\x00" * 32  # OpenZeppelin's DEFAULT_ADMIN_ROLE: the series admin


def _plain(kind: str) -> bool:
    return not kind.startswith("tuple") and "[" not in kind


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class SafeProposal:
    """The transactions a command would send from `safe`, collected for a Transaction Builder batch file."""

    safe: str
    chain_id: int
    name: str
    description: str = ""
    transactions: list[dict[str, Any]] = field(default_factory=list)

    def add(self, contract: Any, method: str, *args: Any) -> None:
        """Record `contract.method(*args)` as sent by the Safe."""
        function = Function.of(contract, method, len(args))
        entry: dict[str, Any] = {
            "to": str(contract.address),
            "value": "0",
            "data": "0x" + function.encode(args).hex(),
        }
        inputs = function.abi.get("inputs", [])
        if all(_plain(item["type"]) for item in inputs):
            entry["contractMethod"] = {
                "inputs": [
                    {"internalType": item.get("internalType", item["type"]), "name": item["name"], "type": item["type"]}
                    for item in inputs
                ],
                "name": method,
                "payable": function.abi.get("stateMutability") == "payable",
            }
            entry["contractInputsValues"] = {
                item["name"]: _as_text(value) for item, value in zip(inputs, args, strict=True)
            }
        self.transactions.append(entry)

    def batch(self, created_at_ms: int | None = None) -> dict[str, Any]:
        return {
            "version": BATCH_VERSION,
            "chainId": str(self.chain_id),
            "createdAt": int(time.time() * 1000) if created_at_ms is None else created_at_ms,
            "meta": {
                "name": self.name,
                "description": self.description or f"munibond {__version__}",
                "txBuilderVersion": TX_BUILDER_VERSION,
                "createdFromSafeAddress": self.safe,
                "createdFromOwnerAddress": "",
            },
            "transactions": self.transactions,
        }

    def write(self, path: Path) -> None:
        try:
            path.write_text(json.dumps(self.batch(), indent=2) + "\n")
        except OSError as exc:
            raise InputError(f"cannot write the Safe batch file: {exc.strerror}", file=str(path)) from None


def send_or_propose(session: Any, role: str, contract: Any, method: str, *args: Any) -> str | None:
    """`contract.method(*args)` signed by `role` (an alias or address) and sent, returning its hash; or, when the
    session is proposing to a Safe (`session.proposal`), recorded for the batch file (None). The role must then
    resolve to the Safe's address."""
    proposal: SafeProposal | None = getattr(session, "proposal", None)
    if proposal is None:
        receipt = getattr(contract, method)(*args, sender=session.signers.account(role))
        return str(receipt.txn_hash)
    address = session.signers.address(role)
    if address.lower() != proposal.safe.lower():
        raise InputError(
            f"{role} ({address}) is not the Safe {proposal.safe} the batch file is for: give the Safe's address "
            "as the signing role",
            field=role,
        )
    proposal.add(contract, method, *args)
    return None


def start_proposal(session: Any, role: str, name: str, *, symbol: str, role_name: str) -> SafeProposal:
    """Make `session` propose to the Safe that `role` names (its address) instead of sending, once the Safe holds
    `role_name` (e.g. `FREEZER_ROLE`) on the series `symbol`."""
    from munibond.chain.deployment import bond_token
    from munibond.chain.lookup import series_entry

    safe = session.signers.address(role)
    if not session.is_dev_chain and not bytes(session.provider.web3.eth.get_code(safe)):
        raise InputError(f"{safe} has no contract code: a Safe multisig is a contract; nothing written", field=role)
    token = bond_token(session.project, series_entry(session, symbol)["token"])
    role_id = ADMIN_ROLE if role_name == "DEFAULT_ADMIN_ROLE" else keccak(text=role_name)
    if not token.hasRole(role_id, safe):
        words = role_name.removesuffix("_ROLE").lower().replace("default_", "")
        raise InputError(f"the Safe {safe} does not have the {words} role of {symbol}: nothing written", field=role)
    session.proposal = SafeProposal(safe, int(session.chain.chain_id), name)
    return session.proposal


def finish_proposal(session: Any, path: Path) -> str | None:
    """Write the proposal's batch file (when there is anything to propose); the line to print, None when the
    session was not proposing."""
    proposal: SafeProposal | None = getattr(session, "proposal", None)
    if proposal is None:
        return None
    if not proposal.transactions:
        return f"nothing to propose to the Safe {proposal.safe}: {path} not written"
    proposal.write(path)
    count = len(proposal.transactions)
    return (
        f"wrote {count} transaction(s) for the Safe {proposal.safe} to {path} (nothing sent): import it in the "
        "Safe{Wallet} Transaction Builder, then sign and execute"
    )
