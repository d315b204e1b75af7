"""Onboarding investors into the shared registry: batched, idempotent and resumable.

The registry itself is the journal: before sending, every row is compared with what the chain already
holds, so a run interrupted at any point can simply be started again; it registers only what is missing,
updates records that differ and links extra wallets exactly once.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from munibond.chain.bulk import BulkReader
from munibond.chain.sending import Sender
from munibond.errors import InputError
from munibond.investors import InvestorRow

DEFAULT_BATCH_SIZE = 50


@dataclass
class OnboardingPlan:
    """What has to be sent, computed from the CSV rows and the registry's current state."""

    register: list[InvestorRow] = field(default_factory=list)
    update: list[InvestorRow] = field(default_factory=list)
    link: list[tuple[InvestorRow, InvestorRow]] = field(default_factory=list)  # (existing wallet, extra wallet)
    unchanged: list[InvestorRow] = field(default_factory=list)
    reassigned: list[InvestorRow] = field(default_factory=list)  # registered under another identity than the row's
    matching: int = 0  # registered wallets whose identity is the row's

    @property
    def is_empty(self) -> bool:
        return not (self.register or self.update or self.link)


@dataclass
class OnboardingReport:
    registered: int = 0
    updated: int = 0
    linked: int = 0
    unchanged: int = 0
    transactions: list[Any] = field(default_factory=list)


def packed_record(row: InvestorRow) -> int:
    """The registry's one-word record of `row` (layout in docs/architecture.md, multi-wallet bit clear)."""
    identity, country, region, category, tax_class, kyc_expiry = row.record()
    return int(identity, 16) | country << 160 | region << 176 | category << 200 | tax_class << 208 | kyc_expiry << 216


def _on_chain(record: Any) -> tuple[Any, ...] | None:
    if int(str(record.identity), 16) == 0:
        return None
    return (
        str(record.identity),
        int(record.country),
        int(record.region),
        int(record.category),
        int(record.taxClass),
        int(record.kycExpiry),
        bool(record.multiWallet),
    )


def plan_onboarding(registry: Any, rows: Sequence[InvestorRow]) -> OnboardingPlan:
    """Compare resolved CSV rows (wallets are addresses) with the registry; read-only."""
    plan = OnboardingPlan()
    by_identity: dict[str, list[InvestorRow]] = defaultdict(list)
    for row in rows:
        by_identity[row.identity].append(row)
    reader = BulkReader.pinned(registry.provider.web3)
    records = dict(
        zip(
            (row.wallet for row in rows),
            reader.map(registry, "investorRecord", [(row.wallet,) for row in rows]),
            strict=True,
        )
    )
    for wallets in by_identity.values():
        primary = wallets[0]
        for position, row in enumerate(wallets):
            current = _on_chain(records[row.wallet])
            wanted = row.record()
            if current is None:
                if position == 0:
                    plan.register.append(row)
                else:
                    plan.link.append((primary, row))
                continue
            if current[0].lower() != wanted[0].lower():
                # Registered under another identity: a deliberate re-assignment is an update of the identity.
                plan.update.append(row)
                plan.reassigned.append(row)
                continue
            plan.matching += 1
            if current[1:6] != wanted[1:6]:
                plan.update.append(row)
            else:
                plan.unchanged.append(row)
            if position > 0 and not current[6]:
                plan.link.append((primary, row))
    return plan


def execute_onboarding(
    registry: Any,
    plan: OnboardingPlan,
    registrar: Any,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[str], None] = lambda _msg: None,
) -> OnboardingReport:
    """Send the plan: batched registrations, then updates, then wallet links."""
    report = OnboardingReport(unchanged=len(plan.unchanged))
    sender = Sender(registrar)
    for start in range(0, len(plan.register), batch_size):
        batch = plan.register[start : start + batch_size]
        wallets = [row.wallet for row in batch]
        words = [packed_record(row) for row in batch]
        report.transactions.append(sender.send(registry, "batchRegisterPacked", wallets, words, shape=len(batch)))
        report.registered += len(batch)
        progress(f"registered {report.registered}/{len(plan.register)} wallets")
    for row in plan.update:
        identity, country, region, category, tax_class, kyc_expiry = row.record()
        current = registry.investorRecord(row.wallet)
        if str(current.identity).lower() != identity.lower():
            report.transactions.append(sender.send(registry, "updateIdentity", row.wallet, identity))
        report.transactions.append(
            sender.send(registry, "updateInvestor", row.wallet, country, region, category, tax_class, kyc_expiry)
        )
        report.updated += 1
        progress(f"updated {row.wallet}")
    for primary, extra in plan.link:
        if registry.investorRecord(extra.wallet).multiWallet:
            continue
        report.transactions.append(sender.send(registry, "linkWallet", primary.wallet, extra.wallet))
        report.linked += 1
        progress(f"linked {extra.wallet} to the investor of {primary.wallet}")
    return report


def salt_record_path(manifest_path: Path) -> Path:
    """Where the issuer-salt fingerprint of a deployment lives: beside its manifest (`<manifest>.issuer-salt.json`)."""
    return manifest_path.with_name(manifest_path.stem + ".issuer-salt.json")


def stored_fingerprint(path: Path, registry: str) -> str | None:
    """The fingerprint recorded for `registry` in `path`, if any."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return str(data[registry.lower()]) if registry.lower() in data else None
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"not a readable issuer-salt record ({exc})", file=str(path)) from None


def store_fingerprint(path: Path, registry: str, fingerprint: str) -> None:
    data: dict[str, str] = {}
    if path.exists():
        data = json.loads(path.read_text())
    data[registry.lower()] = fingerprint
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def check_issuer_salt(plan: OnboardingPlan, stored: str | None, fingerprint: str, *, record: Path, rekey: bool) -> None:
    """Refuse, before anything is sent, a salt that is not the one the register was built with.

    With a stored fingerprint it must match. Without one (the first import with this check, or a lost record), a
    file whose wallets are registered but none under the identity this salt derives is refused too: a mistyped
    salt would re-key every investor. `rekey` accepts the salt anyway (a deliberate change, or bringing a register
    back after a mistaken import; see docs/operations.md)."""
    if rekey:
        return
    if stored is not None and stored != fingerprint:
        raise InputError(
            "the issuer salt is not the one this register was built with (its fingerprint differs from the one "
            "recorded at the first import): check --issuer-salt-file or $MUNIBOND_ISSUER_SALT; nothing was sent",
            file=str(record),
        )
    if stored is None and plan.reassigned and plan.matching == 0:
        raise InputError(
            f"the issuer salt gives none of the {len(plan.reassigned)} registered wallets of this file the identity "
            "it has on chain: a wrong salt would re-key every investor; check the salt (or pass --rekey to change "
            "it on purpose); nothing was sent",
            file="issuer salt",
        )
