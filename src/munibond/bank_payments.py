"""Bank payment CSV (`wallet,reference`): holders a period was paid to by bank transfer instead of on chain.

The payment agent records each as settled with `keccak256` of the UTF-8 reference (the bank's transfer id);
the reference itself stays off chain. Validated whole before anything is sent: a bad row raises an InputError
naming file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak

from munibond.csvinput import WalletRow, read_table, unique_wallet
from munibond.errors import InputError, Issue

COLUMNS = ("wallet", "reference")
MAX_REFERENCE_LENGTH = 140  # the longest free-text remittance field of the common bank formats


@dataclass(frozen=True)
class BankPayment(WalletRow):
    reference: str

    @property
    def reference_hash(self) -> bytes:
        """What goes on chain: keccak256 of the UTF-8 reference."""
        return keccak(text=self.reference)


def _reference(value: str) -> str:
    if not value:
        raise ValueError("must name the bank transfer (its reference or id)")
    if len(value) > MAX_REFERENCE_LENGTH:
        raise ValueError(f"must be at most {MAX_REFERENCE_LENGTH} characters, got {len(value)}")
    if not value.isprintable():
        raise ValueError("must be printable text without control characters")
    return value


def parse_bank_payments(path: str | Path) -> list[BankPayment]:
    """All rows of a bank payment file, or one InputError listing every problem."""
    file = str(path)
    rows, issues = read_table(path, COLUMNS)
    result: list[BankPayment] = []
    wallets: dict[str, int] = {}
    references: dict[str, int] = {}
    for line, (wallet_text, reference_text) in rows:
        try:
            reference = _reference(reference_text)
        except ValueError as exc:
            issues.append(Issue(str(exc), file, line, "reference"))
            continue
        if reference in references:
            issues.append(
                Issue(f"duplicate reference (already on line {references[reference]})", file, line, "reference")
            )
            continue
        wallet = unique_wallet(wallet_text, wallets, file, line, issues)
        if wallet is not None:
            references[reference] = line
            result.append(BankPayment(line, wallet, reference))
    if not result and not issues:
        issues.append(Issue("no bank payments listed (only the header)", file, 1, "(file)"))
    if issues:
        raise InputError.from_issues(sorted(issues, key=lambda issue: issue.line or 0))
    return result
