"""The example resident bond deployed through the library on Ape's test chain, its dates moved ahead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from munibond.allocations import Allocation, parse_allocations
from munibond.chain import workflows
from munibond.chain.deployment import bond_token
from munibond.chain.issuance import issue
from munibond.chain.manifest import Manifest
from munibond.chain.session import Session
from munibond.chain.signers import AliasBook, Signers
from munibond.demo import shift_dates, years_to_start_after

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def deploy_example_series(
    project: Any, chain: Any, tmp: Path, *, payment_token: str | None = None
) -> tuple[Session, dict[str, Any], Path]:
    """A session on the test chain with KNGW26 deployed (the test payment token, or `payment_token`); returns it,
    the manifest entry and the moved term sheet."""
    import ape

    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years_to_start_after(raw["issue_date"], chain.pending_timestamp))))
    signers = Signers(ape.accounts, True, AliasBook.load(EXAMPLES / "accounts.local.yaml"))
    s = Session(project, chain, chain.provider, signers, Manifest(tmp / "manifest.json", "local", chain.chain_id))
    (entry,) = workflows.deploy(
        s,
        [workflows.load_deployment_input(terms)],
        payment_token=payment_token,
        test_payment_token=payment_token is None,
    )
    return s, entry, terms


def onboard_and_issue(s: Session, entry: dict[str, Any], issuer_salt: bytes) -> Any:
    """The example investors registered and the example allocations minted; returns the series token."""
    rows = workflows.load_investors(EXAMPLES / "investors.csv", issuer_salt, now=s.now())
    workflows.import_investors(s, EXAMPLES / "investors.csv", rows, registrar="registrar")
    token = bond_token(s.project, entry["token"])
    allocations = [
        Allocation(a.line, s.signers.address(a.alias), a.units) for a in parse_allocations(EXAMPLES / "allocations.csv")
    ]
    issue(token, allocations, s.signers.account("agent"), start_block=int(entry["block"]))
    return token
