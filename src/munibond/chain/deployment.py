"""Deploying an issuer's shared contracts and bond series, recorded in the deployment manifest.

Re-runnable: a contract already in the manifest (with code at its address) is reused; a series whose ISIN
the factory already deployed (found from its `SeriesDeployed` events, so even a run interrupted between the
transaction and the manifest write) is adopted instead of deployed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ethpm_types import ContractType

from munibond.chain.events import logs_since
from munibond.chain.manifest import ContractRecord, Manifest
from munibond.chain.series import PeriodOnChain, bond_terms, payment_agent_params, periods_on_chain, series_params
from munibond.chain.signers import Signers
from munibond.errors import InputError, Issue
from munibond.schedule import Schedule, build_schedule
from munibond.terms import TermSheet

# The manifest names ABIs shipped in munibond/abi (see Manifest.abi); a series' address answers to BondSeries.
SERIES_ABI = "BondSeries"

# Shared contracts in deployment order: manifest key -> (contract name, constructor args builder).
SHARED = ("InvestorRegistry", "PaymentAgentAdmin", "PaymentAgent", "BondTokenAdmin", "BondToken", "BondFactory")


@dataclass
class IssuerContracts:
    registry: Any
    factory: Any


def _has_code(provider: Any, address: str) -> bool:
    return len(provider.get_code(address)) > 0


def record_deployment(manifest: Manifest, key: str, name: str, contract: Any, abi: str | None = None) -> None:
    """Write a freshly deployed contract (address, deployment block and transaction) into the manifest; its ABI
    is the shipped one of `name` unless `abi` names another."""
    tx_hash = contract.txn_hash
    block = contract.provider.get_receipt(tx_hash).block_number if tx_hash else 0
    manifest.contracts[key] = ContractRecord(name, contract.address, abi or name, block, tx_hash)
    manifest.save()


def deploy_issuer(
    project: Any,
    provider: Any,
    manifest: Manifest,
    deployer: Any,
    *,
    admin: str,
    registrar: str,
    progress: Callable[[str], None] = lambda _msg: None,
) -> IssuerContracts:
    """Registry, token and payment-agent implementations and the factory, each deployed at most once."""

    def once(name: str, *args: Any) -> Any:
        record = manifest.contracts.get(name)
        container = getattr(project, name)
        if record and _has_code(provider, record.address):
            return container.at(record.address)
        contract = deployer.deploy(container, *args)
        record_deployment(manifest, name, name, contract)
        progress(f"{name} deployed at {contract.address}")
        return contract

    registry = once("InvestorRegistry", deployer.address)
    payments_admin = once("PaymentAgentAdmin")
    payments = once("PaymentAgent", payments_admin.address)
    extension = once("BondTokenAdmin", payments.address)
    implementation = once("BondToken", extension.address)
    factory = once("BondFactory", deployer.address, implementation.address, registry.address)
    _ensure_wiring(registry, factory, deployer, admin=admin, registrar=registrar)
    return IssuerContracts(registry, factory)


def _ensure_wiring(registry: Any, factory: Any, deployer: Any, *, admin: str, registrar: str) -> None:
    """Roles and links, each granted only if missing (so a re-run sends nothing)."""
    binder = registry.BINDER_ROLE()
    if not registry.hasRole(binder, factory.address):
        registry.grantRole(binder, factory.address, sender=deployer)
    registrar_role = registry.REGISTRAR_ROLE()
    if not registry.hasRole(registrar_role, registrar):
        registry.grantRole(registrar_role, registrar, sender=deployer)
    admin_role = registry.DEFAULT_ADMIN_ROLE()
    for contract in (registry, factory):
        if admin != deployer.address and not contract.hasRole(admin_role, admin):
            contract.grantRole(admin_role, admin, sender=deployer)
    deployer_role = factory.DEPLOYER_ROLE()
    if not factory.hasRole(deployer_role, admin):
        factory.grantRole(deployer_role, admin, sender=deployer)


def find_series(factory: Any, isin: str, start_block: int) -> tuple[str, str, int] | None:
    """(token, payment agent, block) of the series the factory deployed for `isin`, if any."""
    for log in logs_since(factory.SeriesDeployed, start_block):
        if log.isin == isin:
            return log.token, log.paymentAgent, log.block_number
    return None


# The token's BondTerms fields and the term sheet fields they come from.
BOND_TERM_FIELDS: dict[str, tuple[str, ...]] = {
    "isin": ("isin",),
    "denomination": ("denomination",),
    "issueVolume": ("issue_size",),
    "couponRate": ("coupon", "rate"),
    "couponFrequency": ("coupon", "frequency"),
    "couponType": ("coupon", "type"),
    "issueDate": ("issue_date",),
    "maturityDate": ("maturity_date",),
    "dayCountBasis": ("coupon", "day_count"),
}


def _issue_at(terms: TermSheet, message: str, *path: str) -> Issue:
    file, line = terms.locate(*path)
    return Issue(message, file=file, line=line, field=".".join(path) or None)


def deployed_differences(
    project: Any, token_address: str, agent_address: str, terms: TermSheet, digest: bytes, start_block: int = 0
) -> list[Issue]:
    """Every way the term sheet `terms` (file digest `digest`) differs from the series deployed at `token_address`:
    the token's name, symbol and BondTerms, the payment agent's term-sheet hash and schedule, one issue per
    differing field, located in the file. The chain is the reference: an empty list means the file is the bond."""
    agent = payment_agent(project, agent_address)
    issues = token_differences(project, token_address, terms)
    issues += schedule_differences(project, token_address, agent, terms, start_block)
    deployed_hash = bytes(agent.termSheetHash())
    if deployed_hash != digest:
        issues.append(
            Issue(
                f"is not the term sheet the series holds (its hash 0x{deployed_hash.hex()}, "
                f"this file's 0x{digest.hex()}); a corrected term sheet goes through `munibond amend`",
                file=terms.source_file,
                field="(file)",
            )
        )
    return issues


def term_sheet_period_count(agent: Any, start_block: int = 0) -> int:
    """The payment agent's periods that came from the term sheet (calls scheduled later are appended after them)."""
    return int(agent.periodCount()) - len(list(logs_since(agent.CallScheduled, start_block)))


@dataclass(frozen=True)
class TermDifference:
    """One of the token's fixed terms that a term sheet would change: the view, its field in the file, both values."""

    view: str
    path: tuple[str, ...]
    deployed: object
    wanted: object


def fixed_term_differences(project: Any, token_address: str, terms: TermSheet) -> list[TermDifference]:
    """The token's fixed terms (name, symbol, BondTerms, payment token) that `terms` would change, read from chain."""
    token = bond_token(project, token_address)
    differences = [
        TermDifference(view, (view,), str(getattr(token, view)()), getattr(terms, view))
        for view in ("name", "symbol")
        if str(getattr(token, view)()) != getattr(terms, view)
    ]
    on_chain = token.bondTerms()
    currency = str(on_chain.currency)
    wanted = bond_terms(terms, currency)
    for view, path in BOND_TERM_FIELDS.items():
        deployed = str(getattr(on_chain, view)) if view == "isin" else int(getattr(on_chain, view))
        if deployed != wanted[view]:
            differences.append(TermDifference(view, path, deployed, wanted[view]))
    reference = terms.payment_token
    if reference is not None and reference.startswith("0x") and reference.lower() != currency.lower():
        differences.append(TermDifference("currency", ("payment_token",), currency, reference))
    return differences


def token_differences(project: Any, token_address: str, terms: TermSheet) -> list[Issue]:
    """`fixed_term_differences` as issues located in the file, one per field."""
    return [
        _issue_at(
            terms,
            f"differs from the deployed series: the token's {d.view} is {d.deployed}, the file gives {d.wanted}",
            *d.path,
        )
        for d in fixed_term_differences(project, token_address, terms)
    ]


def schedule_differences(
    project: Any, token_address: str, agent: Any, terms: TermSheet, start_block: int = 0
) -> list[Issue]:
    """The term-sheet periods of the agent that the schedule of `terms` would change, one issue each."""
    from munibond.chain.erc20 import payment_token_at

    decimals = int(payment_token_at(str(bond_token(project, token_address).currency())).decimals())
    desired = periods_on_chain(terms, build_schedule(terms), decimals)
    count = term_sheet_period_count(agent, start_block)
    if count != len(desired):
        return [
            _issue_at(terms, f"the schedule has {len(desired)} periods, the deployed series {count}", "maturity_date")
        ]
    issues = []
    for index, want in enumerate(desired):
        have = PeriodOnChain.from_agent(agent.periodTerms(index))
        if not have.same_terms(want):
            issues.append(
                _issue_at(
                    terms,
                    f"period {index + 1} differs from the deployed series (record time {have.record_time} -> "
                    f"{want.record_time}, payment time {have.payment_time} -> {want.payment_time}, coupon "
                    f"{have.coupon} -> {want.coupon}, principal {have.principal} -> {want.principal} per unit)",
                    "coupon",
                )
            )
    return issues


def check_matches_chain(project: Any, found: tuple[str, str, int], terms: TermSheet, digest: bytes) -> None:
    """Refuse (one line per differing field) a term sheet that is not the deployed series' own; `found` is
    (token, payment agent, deployment block) as `existing_series` returns it."""
    issues = deployed_differences(project, found[0], found[1], terms, digest, found[2])
    if issues:
        raise InputError.from_issues(issues)


def existing_series(project: Any, manifest: Manifest, factory: Any, terms: TermSheet) -> tuple[str, str, int] | None:
    """(token, payment agent, block) of the deployed series of `terms` (by ISIN, from the factory's events), or None.

    Refuses a symbol that names another ISIN in the manifest, and an ISIN already deployed under another symbol."""
    entry = manifest.series.get(terms.symbol)
    if entry is not None and entry.get("isin") != terms.isin:
        raise terms.input_error(
            f"symbol {terms.symbol} is already the series of ISIN {entry.get('isin')} in {manifest.path}", "isin"
        )
    found = find_series(factory, terms.isin, manifest.contracts["BondFactory"].block)
    if found is None:
        return None
    deployed_symbol = str(bond_token(project, found[0]).symbol())
    if deployed_symbol != terms.symbol:
        raise terms.input_error(
            f"ISIN {terms.isin} is already deployed as series {deployed_symbol} (token {found[0]}); "
            "a new series needs its own ISIN",
            "symbol",
        )
    return found


@dataclass(frozen=True)
class SeriesSpec:
    """One series to deploy: its validated terms, schedule and the digest of the term sheet as issued."""

    terms: TermSheet
    schedule: Schedule
    digest: bytes


def _params(spec: SeriesSpec, signers: Signers, payment_token: str, payment_token_decimals: int) -> dict[str, Any]:
    terms = spec.terms
    roles = {
        "admin": signers.address(terms.roles.admin),
        "agent": "0x" + "00" * 20,
        "transferAgent": signers.address(terms.roles.transfer_agent),
        "freezer": signers.address(terms.roles.freezer),
        "minter": signers.address(terms.roles.minter),
        "documentManager": signers.address(terms.roles.document_manager),
        "complianceManager": signers.address(terms.roles.admin),
        # The token's PAYER role (record times, redemption burn, settlement marks) belongs to the series'
        # payment agent alone, which the factory grants it; the treasury pays through the agent.
        "payer": "0x" + "00" * 20,
    }
    treasury = signers.address(terms.roles.payer)
    tax_account = signers.address(terms.tax.account) if terms.tax else roles["admin"]
    component_accounts = {name: signers.address(ref) for name, ref in terms.tax.components.items()} if terms.tax else {}
    agent_params = payment_agent_params(
        terms,
        spec.schedule,
        payment_token=payment_token,
        payment_token_decimals=payment_token_decimals,
        payer=treasury,
        tax_account=tax_account,
        term_sheet_hash=spec.digest,
        component_accounts=component_accounts,
    )
    return series_params(terms, spec.schedule, roles=roles, payment_token=payment_token, agent_params=agent_params)


def deploy_series(
    manifest: Manifest,
    contracts: IssuerContracts,
    specs: list[SeriesSpec],
    signers: Signers,
    deployer: Any,
    *,
    payment_token: str,
    payment_token_decimals: int,
    progress: Callable[[str], None] = lambda _msg: None,
    project: Any = None,
) -> list[dict[str, Any]]:
    """Deploy the series of `specs` that do not exist yet — one `deploySeries`, or one `deploySerial`
    transaction for a serial issue (several maturities) — and return their manifest entries in order.

    A series counts as existing when the factory's `SeriesDeployed` events name its ISIN (also after a run
    interrupted before the manifest write). An existing series must be exactly the term sheet's (the chain is the
    reference, see `deployed_differences`); its manifest entry is then left as it is (only `amend` changes the
    term sheet a series points to).
    """
    if project is None:
        from ape import project
    found: dict[str, tuple[str, str, int]] = {}
    missing: list[SeriesSpec] = []
    for spec in specs:
        on_chain = existing_series(project, manifest, contracts.factory, spec.terms)
        if on_chain is None:
            missing.append(spec)
            continue
        check_matches_chain(project, on_chain, spec.terms, spec.digest)
        found[spec.terms.isin] = on_chain
        progress(f"{spec.terms.symbol} already deployed at {on_chain[0]}")
    if missing:
        params = [_params(spec, signers, payment_token, payment_token_decimals) for spec in missing]
        if len(params) == 1:
            receipt = contracts.factory.deploySeries(params[0], sender=deployer)
        else:
            receipt = contracts.factory.deploySerial(params, sender=deployer)
        for spec in missing:
            deployed = find_series(contracts.factory, spec.terms.isin, receipt.block_number)
            if deployed is None:
                raise RuntimeError(f"factory did not report the deployment of {spec.terms.isin}")
            found[spec.terms.isin] = deployed
            progress(f"{spec.terms.symbol} deployed: token {deployed[0]}, payment agent {deployed[1]}")
    entries = []
    for spec in specs:
        token, agent, block = found[spec.terms.isin]
        kept = manifest.series.get(spec.terms.symbol)
        if kept is not None and kept.get("token") == token and spec not in missing:
            entries.append(kept)
            continue
        entry = {
            "isin": spec.terms.isin,
            "token": token,
            "payment_agent": agent,
            "payment_token": payment_token,
            "block": block,
            "maturity_date": spec.terms.maturity_date.isoformat(),
            "term_sheet": manifest.stored_path(spec.terms.source_file) if spec.terms.source_file else None,
            "term_sheet_sha256": "0x" + spec.digest.hex(),
            "currency": {"code": spec.terms.currency, "minor_units": spec.terms.minor_units},
            "token_abi": SERIES_ABI,
            "payment_agent_abi": SERIES_ABI,
        }
        manifest.series[spec.terms.symbol] = entry
        entries.append(entry)
    manifest.save()
    return entries


def bond_token(project: Any, address: str) -> Any:
    """A series token with its full ABI (token + admin extension; the series proxy is not resolved as a proxy)."""
    from ape import chain

    # replace: never merged with a stale ABI Ape cached for the address (a development node restarted)
    return chain.contracts.instance_at(
        address, contract_type=project.IBondToken.contract_type, detect_proxy=False, replace=True
    )


def payments_contract_type(project: Any) -> ContractType:
    """The complete ABI of a series' payment code: PaymentAgent (money paths) and PaymentAgentAdmin (administration
    and views, reached through PaymentAgent's fallback), then the token's (IBondToken: the same address), every
    function, event and error once.

    Built once per project, so every instance shares one contract type (Ape matches custom errors by it)."""
    key = id(project)
    if key not in _PAYMENTS_TYPES:
        _PAYMENTS_TYPES[key] = _merge_payment_abis(project)
    return _PAYMENTS_TYPES[key]


_PAYMENTS_TYPES: dict[int, ContractType] = {}


def _merge_payment_abis(project: Any) -> ContractType:
    abi: list[Any] = []
    seen: set[tuple[str, str]] = set()
    for name in ("PaymentAgent", "PaymentAgentAdmin", "IBondToken"):
        for item in getattr(project, name).contract_type.abi:
            if item.type in ("constructor", "fallback", "receive"):
                continue
            key = (item.type, item.signature)
            if key not in seen:
                seen.add(key)
                abi.append(item)
    return ContractType(contractName="PaymentAgent", abi=abi)


def payment_agent(project: Any, address: str) -> Any:
    """A series' payment code at the series' own address (token and payments share it), with its complete ABI.

    The type replaces whatever Ape's contract cache holds for the address (a development node restarted at the
    same addresses would otherwise merge a stale ABI from an earlier run into it).
    """
    from ape import chain

    return chain.contracts.instance_at(
        address, contract_type=payments_contract_type(project), detect_proxy=False, replace=True
    )
