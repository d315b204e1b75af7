"""The checks and previews run before a command sends money or mints: everything that can be known without
sending, refused in one line (`InputError`) when something would fail, else a `Preview` in currency units.

- payments (`coupon pay`, `redeem`): the payer's role, the period's dates on the chain's clock, earlier periods
  overdue (redemption), the payer's balance against the shortfall; then holders, gross, withholding, net,
  escrow, the funding and the payer's balance after, and the transactions (approval, funding, one per batch);
- issuance (`issue`): the minter's role and, for every mint still to make, the token's own compliance verdict
  (`detectTransferRestriction` from the zero address), refused by name with the token's message;
- onboarding (`investors import`): the registrar's role and the plan (registrations, updates, links);
- calls (`call`): the admin's role and the call's terms.

Amounts are exact: base units of the payment token printed as currency (`munibond.chain.funding.currency_text`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from munibond.chain import preflight, workflows
from munibond.chain.bulk import BulkReader
from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.funding import check_payer_funds, currency_text
from munibond.chain.issuance import DEFAULT_BATCH_SIZE as MINT_BATCH_SIZE
from munibond.chain.issuance import IssuanceReport
from munibond.chain.lookup import investor_registry, series_entry
from munibond.chain.series_terms import issuer_zone, series_currency, series_term_sheet
from munibond.chain.servicing import PeriodPreview, web3_of
from munibond.chain.session import Session
from munibond.clock import show_time
from munibond.confirmation import Preview
from munibond.errors import InputError

MINTER_ROLE = keccak(text="MINTER_ROLE")
REGISTRAR_ROLE = keccak(text="REGISTRAR_ROLE")
ADMIN_ROLE = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20
LISTED = 3  # refused mints named in the one-line refusal before "and N more"


def batches(count: int, size: int) -> int:
    return -(-count // size)


@dataclass(frozen=True)
class Money:
    """Formats base units of a payment token as the series' currency."""

    decimals: int
    minor_units: int
    code: str

    def __call__(self, base_units: int) -> str:
        return f"{currency_text(base_units, self.decimals, self.minor_units)} {self.code}"


def money_of(session: Session, symbol: str, cash: Any) -> Money:
    currency = series_currency(session, symbol)
    return Money(int(cash.decimals()), currency.minor_units, currency.code)


@dataclass
class PaymentPlan:
    preview: Preview
    period: PeriodPreview
    money: Money


def payment_preview(
    session: Session,
    symbol: str,
    period: int,
    *,
    payer: str,
    batch_size: int,
    redemption: bool = False,
    despite_overdue: bool = False,
) -> PaymentPlan:
    """Every check of a payment run of `period` (1-based), then what it will send."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    token = bond_token(session.project, entry["token"])
    payer_address = session.signers.address(payer)
    preflight.check_payer(token, payer_address, alias=payer, symbol=symbol)
    now = preflight.chain_time(session)
    preflight.check_payable(agent, period, now)
    overdue = preflight.overdue_unpaid(agent, period, now) if redemption else []
    if overdue and not despite_overdue:
        preflight.check_no_overdue(agent, period, now, symbol=symbol)
    check_payer_funds(session, symbol, period, payer)
    planned = workflows.preview_pay(session, symbol, period)
    cash = payment_token_at(entry["payment_token"])
    money = money_of(session, symbol, cash)
    shortfall = planned.funding_shortfall
    balance = int(cash.balanceOf(payer_address))
    allowance = int(cash.allowance(payer_address, agent.address))
    funding_txs = 0 if shortfall == 0 else 1 + (allowance < shortfall)
    pending = planned.pending
    escrowed = [e for e in pending if e.escrowed]
    tz = issuer_zone(session, symbol)
    payment_time = int(agent.periodTerms(period - 1).paymentTime)
    what = "redemption (final coupon and principal)" if redemption else "coupon payment"
    lines = [
        ("payment date", show_time(payment_time, tz)),
        (
            "holders to pay",
            f"{len(pending) - len(escrowed):,}" + (f" (+{len(escrowed):,} escrowed)" if escrowed else ""),
        ),
        ("already settled", f"{planned.already_settled:,}"),
        ("coupon (gross)", money(sum(e.coupon_gross for e in pending))),
    ]
    if redemption or any(e.principal_gross for e in pending):
        lines.append(("principal", money(sum(e.principal_gross for e in pending))))
        lines.append(("units retired", f"{sum(e.units_retired for e in pending):,}"))
    lines += [
        ("withholding", money(sum(sum(e.taxes) for e in pending))),
        ("net to holders", money(sum(e.net for e in pending))),
        ("escrow", money(sum(e.coupon_gross + e.principal_gross for e in escrowed))),
        ("funding sent now", money(shortfall)),
        ("payer", f"{payer} ({payer_address})"),
        ("payer balance", f"{money(balance)} now, {money(balance - shortfall)} after"),
    ]
    if overdue:
        lines.append(("overdue earlier periods", ", ".join(str(p) for p in overdue) + " (--despite-overdue)"))
    preview = Preview(
        f"{symbol} period {period}: {what}",
        lines,
        funding_txs + batches(len(pending), batch_size),
    )
    return PaymentPlan(preview, planned, money)


def _restriction_message(code: int) -> str:
    from munibond.chain.refusals import RESTRICTION_CODES

    return RESTRICTION_CODES.get(code, f"restriction code {code}")


def issue_preview(session: Session, symbol: str, report: IssuanceReport, *, minter: str) -> Preview:
    """The minter's role and every mint of a dry-run `report` checked by the token, then what will be minted."""
    entry = series_entry(session, symbol)
    token = bond_token(session.project, entry["token"])
    minter_address = session.signers.address(minter)
    if not token.hasRole(MINTER_ROLE, minter_address):
        raise InputError(
            f"{minter} ({minter_address}) does not have the minter role of {symbol}: nothing was sent", field="--minter"
        )
    terms = series_term_sheet(session, symbol)
    issued, units = int(token.totalSupply()), sum(report.minted.values())
    if issued + units > terms.total_units:
        raise InputError(
            f"would mint {units:,} units to {issued:,} issued: beyond the issue size of {terms.total_units:,} units; "
            "nothing was sent",
            field="allocations",
        )
    mints = list(report.minted.items())
    codes = BulkReader.pinned(web3_of(token)).map(
        token, "detectTransferRestriction", [(ZERO_ADDRESS, wallet, minted) for wallet, minted in mints]
    )
    refused = [
        f"{minted:,} units to {wallet}: {_restriction_message(int(code))}"
        for (wallet, minted), code in zip(mints, codes, strict=True)
        if int(code) != 0
    ]
    if refused:
        more = f" (and {len(refused) - LISTED} more)" if len(refused) > LISTED else ""
        raise InputError(
            f"the token would refuse {len(refused)} mint(s): {'; '.join(refused[:LISTED])}{more}; nothing was sent",
            field="allocations",
        )
    face = currency_text(units * terms.denomination_minor, terms.minor_units, terms.minor_units)
    lines = [
        ("wallets to mint to", f"{len(report.minted):,}"),
        ("units", f"{units:,} (face value {face} {terms.currency})"),
        ("already minted", f"{sum(report.already.values()):,} units"),
        ("compliance", f"every mint accepted by the token ({len(report.minted):,} checked)"),
        ("minter", f"{minter} ({minter_address})"),
    ]
    return Preview(f"{symbol}: issue", lines, batches(len(report.minted), MINT_BATCH_SIZE))


def import_preview(session: Session, plan: Any, *, registrar: str, batch_size: int) -> Preview:
    """The registrar's role, then the onboarding plan: registrations in batches, updates and links one by one."""
    registry = investor_registry(session)
    registrar_address = session.signers.address(registrar)
    if not plan.is_empty and not registry.hasRole(REGISTRAR_ROLE, registrar_address):
        raise InputError(
            f"{registrar} ({registrar_address}) does not have the registrar role of the investor registry: nothing "
            "was sent",
            field="--registrar",
        )
    lines = [
        ("investors to register", f"{len(plan.register):,}"),
        ("to update", f"{len(plan.update):,}"),
        ("wallets to link", f"{len(plan.link):,}"),
        ("unchanged", f"{len(plan.unchanged):,}"),
        ("registrar", f"{registrar} ({registrar_address})"),
    ]
    # an update whose identity changes takes two transactions; counted as the worst case
    sends = batches(len(plan.register), batch_size) + 2 * len(plan.update) + len(plan.link)
    return Preview("investors: import", lines, sends)


def call_preview(session: Session, symbol: str, scheduled: Any, *, admin: str) -> Preview:
    """The admin's role, then the call as scheduled (from a dry run of `workflows.schedule_call`)."""
    entry = series_entry(session, symbol)
    token = bond_token(session.project, entry["token"])
    admin_address = session.signers.address(admin)
    sends = 0 if scheduled.outcome == workflows.ALREADY_SCHEDULED else 1
    if sends and not token.hasRole(ADMIN_ROLE, admin_address):
        raise InputError(
            f"{admin} ({admin_address}) does not have the admin role of {symbol}: nothing was sent", field="--admin"
        )
    terms = scheduled.terms
    tz = issuer_zone(session, symbol)
    money_terms = series_term_sheet(session, symbol)
    units = int(token.totalSupply())
    retired = terms.fraction * units
    lines = [
        ("period", f"{scheduled.period + 1}" + (" (already scheduled)" if not sends else "")),
        ("payment date", f"{terms.payment_date} ({tz})"),
        ("record date", f"{terms.record_date} ({tz})"),
        ("price", f"{terms.price} % of face"),
        (
            "per unit",
            f"accrued coupon {terms.accrued_per_unit}, principal {terms.principal_per_unit} {money_terms.currency}",
        ),
        ("part retired", f"{terms.fraction} of every holding ({retired} of {units:,} units outstanding now)"),
        ("admin", f"{admin} ({admin_address})"),
    ]
    return Preview(f"{symbol}: early redemption (call)", lines, sends)
