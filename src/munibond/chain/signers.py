"""Who signs: resolving role references in term sheets and CSVs to addresses and Ape accounts.

A reference is either a hex address (checked) or an alias. On a local development chain the aliases
name Ape's test accounts through an alias book (`examples/accounts.local.yaml`: alias -> index). On any
other network an alias is an Ape keyfile account (`ape accounts import ALIAS`) unlocked non-interactively
with the passphrase from the environment variable `APE_ACCOUNTS_<ALIAS>_PASSPHRASE` and autosign; no
private key ever lives in a file of this repository.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from eth_utils import is_address, is_checksum_address, to_checksum_address

from munibond.errors import InputError


@dataclass
class AliasBook:
    """alias -> test-account index, for local chains only."""

    indexes: dict[str, int] = field(default_factory=dict)
    source: str = "<built-in>"

    @classmethod
    def load(cls, path: Path) -> AliasBook:
        raw = yaml.safe_load(path.read_text()) or {}
        if not isinstance(raw, Mapping):
            raise InputError("must be a mapping alias: test-account index", file=str(path))
        indexes: dict[str, int] = {}
        for alias, index in raw.items():
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise InputError(
                    f"index must be a non-negative integer, got {index!r}", file=str(path), field=str(alias)
                )
            indexes[str(alias)] = index
        return cls(indexes, str(path))


def parse_address(value: str, *, source: str, line: int | None, field_name: str) -> str:
    """A checksummed address, or an InputError naming where the bad value came from."""
    text = value.strip()
    if not is_address(text):
        raise InputError(f"not an address: {value!r}", file=source, line=line, field=field_name)
    if text != text.lower() and text[2:] != text[2:].upper() and not is_checksum_address(text):
        raise InputError(f"bad EIP-55 checksum: {value!r}", file=source, line=line, field=field_name)
    return to_checksum_address(text)


def is_hex_reference(reference: str) -> bool:
    return reference.startswith(("0x", "0X"))


@dataclass
class Signers:
    """Resolves references against the connected network's accounts."""

    accounts: Any  # ape.managers.accounts.AccountManager
    local: bool
    book: AliasBook = field(default_factory=AliasBook)
    _cache: dict[str, Any] = field(default_factory=dict)

    def account(self, reference: str) -> Any:
        """An Ape account able to sign for `reference` (an alias)."""
        if reference in self._cache:
            return self._cache[reference]
        if is_hex_reference(reference):
            address = to_checksum_address(reference)
            for candidate in self._local_accounts():
                if candidate.address == address:
                    self._cache[reference] = candidate
                    return candidate
            raise InputError("no signing account for this address", file=self.book.source, field=reference)
        if self.local:
            if reference not in self.book.indexes:
                raise InputError("unknown account alias", file=self.book.source, field=reference)
            signer = self.accounts.test_accounts[self.book.indexes[reference]]
        else:
            try:
                signer = self.accounts.load(reference)
            except (KeyError, ValueError):
                raise InputError(
                    "no keyfile account with this alias (import it with `ape accounts import ALIAS`)",
                    file="accounts",
                    field=reference,
                ) from None
            passphrase = os.environ.get(f"APE_ACCOUNTS_{reference}_PASSPHRASE")
            if passphrase is None:
                raise InputError(
                    "passphrase is not set", file="environment", field=f"APE_ACCOUNTS_{reference}_PASSPHRASE"
                )
            try:
                signer.set_autosign(True, passphrase=passphrase)
            except Exception as exc:  # Ape's keyfile accounts raise their own error types
                raise InputError(
                    f"cannot unlock the keyfile account: {str(exc).splitlines()[0] or type(exc).__name__} "
                    "(wrong passphrase?)",
                    file="environment",
                    field=f"APE_ACCOUNTS_{reference}_PASSPHRASE",
                ) from None
        _wait_for_pending(signer.address, reference)
        self._cache[reference] = signer
        return signer

    def address(self, reference: str) -> str:
        """The address of `reference`, which need not be able to sign (e.g. a Safe multisig)."""
        if is_hex_reference(reference):
            return parse_address(reference, source=self.book.source, line=None, field_name="address")
        return self.account(reference).address

    def _local_accounts(self) -> list[Any]:
        return list(self.accounts.test_accounts) if self.local else []


def _wait_for_pending(address: str, alias: str) -> None:
    """An account about to sign first lets its transactions still pending on the node be mined (see
    `munibond.chain.preflight.wait_for_pending`); nothing to do without a connected node."""
    from ape import networks

    provider = networks.active_provider
    if provider is None or not provider.is_connected:
        return
    from munibond.chain.preflight import wait_for_pending

    wait_for_pending(provider.web3, address, alias=alias)
