"""The end-to-end walkthrough behind `make demo`: a Japanese resident-participation bond on a local chain.

Deploys the registry, factory and the example bond; onboards investors; issues; shows a compliant transfer
and refused ones with their reasons; sells a second tranche by primary subscription (oversubscribed, allotted pro
rata, units minted against the cash at the issue date, the unallotted cash refunded); settles a secondary trade
delivery versus payment; then services the bond to maturity (coupons with withholding, a transfer between record
date and payment date, redemption with burn) and prints what each holder got.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from munibond.allocations import parse_allocations
from munibond.attestation import Attestation
from munibond.chain import subscription
from munibond.chain.deployment import (
    SeriesSpec,
    bond_token,
    deploy_issuer,
    deploy_series,
    payment_agent,
    record_deployment,
)
from munibond.chain.issuance import issue
from munibond.chain.manifest import Manifest
from munibond.chain.onboarding import execute_onboarding, plan_onboarding
from munibond.chain.servicing import HolderPayment, pay_period, payments_in
from munibond.chain.signers import AliasBook, Signers
from munibond.demo_dates import shift_dates, years_to_start_after
from munibond.investors import InvestorCategory, InvestorRow, investor_identity, parse_investors, resolve_wallets
from munibond.money import TAX_CLASSES
from munibond.schedule import build_schedule
from munibond.terms import TermSheet, term_sheet_from_dict
from munibond.trades import Trade

EXAMPLES = Path("examples")
ISSUER_SALT = b"kanagawa-prefecture"
MINTER_ROLE = keccak(text="MINTER_ROLE")
FREEZER_ROLE = keccak(text="FREEZER_ROLE")
DAY = 86_400
ZERO_ADDRESS = "0x" + "00" * 20
# The second tranche sold by subscription: units offered, price per unit (yen, par) and what is committed.
TRANCHE_UNITS = 20
TRANCHE_PRICE = 10_000
COMMITMENTS = (("investor_h", 60), ("investor_g", 10))
# The secondary trade settled delivery versus payment: seller, buyer, units, price per unit (yen).
TRADE = ("investor_c", "investor_h", 25, 10_125)


@dataclass
class DemoFiles:
    terms: Path = EXAMPLES / "kanagawa-resident-2026.yaml"
    investors: Path = EXAMPLES / "investors.csv"
    allocations: Path = EXAMPLES / "allocations.csv"
    accounts: Path = EXAMPLES / "accounts.local.yaml"
    manifest: Path = Path("deployments") / "local.json"


def load_terms_starting_after(path: Path, now: int) -> tuple[TermSheet, int, bytes]:
    """The example term sheet, moved by whole years so that it is issued after the chain's clock.

    Returns the term sheet, the number of years moved and the bytes whose hash goes on chain.
    """
    raw = yaml.safe_load(path.read_text())
    years = years_to_start_after(raw["issue_date"], now)
    shifted = shift_dates(raw, years) if years else raw
    canonical = yaml.safe_dump(shifted, sort_keys=True, allow_unicode=True).encode()
    return term_sheet_from_dict(shifted, source=str(path)), years, canonical


def _yen(amount: int) -> str:
    return f"¥{amount:,}"


class Walkthrough:
    def __init__(self, project: Any, chain: Any, accounts: Any, console: Console, files: DemoFiles) -> None:
        self.project = project
        self.chain = chain
        self.console = console
        self.files = files
        self.signers = Signers(accounts, local=True, book=AliasBook.load(files.accounts))
        self.names: dict[str, str] = {}
        for alias in self.signers.book.indexes:
            self.names[self.signers.address(alias)] = alias

    def say(self, text: str) -> None:
        self.console.print(text)

    def step(self, title: str) -> None:
        self.console.rule(f"[bold]{title}")

    def name(self, address: str) -> str:
        return self.names.get(str(address), str(address))

    def send_raw(self, to: str, data: bytes, sender: str) -> int:
        """Send a transaction from an unlocked development account and return its receipt status.

        Used for transfers the demo expects to fail, so that the refusal is shown by the chain itself.
        """
        web3 = self.chain.provider.web3
        tx_hash = web3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": 500_000})
        return int(web3.eth.wait_for_transaction_receipt(tx_hash)["status"])

    def travel_to(self, timestamp: int) -> None:
        """Mine a block at `timestamp` unless the chain is already there.

        Through the development RPC methods that anvil and Hardhat's node both implement (Ape's `chain.mine`
        needs a test provider, which a node given by URL is not), so the demo runs on either node.
        """
        if self.chain.pending_timestamp < timestamp:
            self.chain.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
            self.chain.provider.make_request("evm_mine", [])

    # ------------------------------------------------------------------ set-up

    def run(self) -> None:
        files = self.files
        now = self.chain.pending_timestamp
        terms, years, canonical = load_terms_starting_after(files.terms, now)
        schedule = build_schedule(terms)
        self.step(f"{terms.name} — {terms.isin}")
        if years:
            self.say(f"Example dates moved {years} year(s) forward so that the bond is issued after the chain's clock.")
        self.say(
            f"{terms.currency} {terms.denomination:,} units, issue {terms.issue_date}, maturity {terms.maturity_date}, "
            f"{len(schedule.periods)} payments; residents of region "
            f"{', '.join(str(r.region) for r in terms.compliance.regions)} only, "
            f"at most {_yen(int(terms.compliance.max_holding_per_investor or 0))} per investor."
        )
        issuer = self.signers.account(terms.roles.admin)
        treasury = self.signers.account(terms.roles.payer)
        registrar = self.signers.account(terms.roles.registrar)
        agent = self.signers.account(terms.roles.transfer_agent)

        self.step("Deployment")
        cash = issuer.deploy(self.project.MockPaymentToken, "Digital Yen (test deposit token)", "DJPY", 0)
        self.say(f"payment token DJPY (0 decimals) at {cash.address}")
        manifest = Manifest(files.manifest, "local", self.chain.chain_id)
        contracts = deploy_issuer(
            self.project,
            self.chain.provider,
            manifest,
            issuer,
            admin=issuer.address,
            registrar=registrar.address,
            progress=self.say,
        )
        (series,) = deploy_series(
            manifest,
            contracts,
            [SeriesSpec(terms, schedule, hashlib.sha256(canonical).digest())],
            self.signers,
            issuer,
            payment_token=cash.address,
            payment_token_decimals=0,
            progress=self.say,
        )
        self.say(f"manifest written to {files.manifest}")
        token = bond_token(self.project, series["token"])
        paying_agent = payment_agent(self.project, series["payment_agent"])
        start = int(series["block"])

        self.step("Onboarding investors")
        rows = parse_investors(files.investors, issuer_salt=ISSUER_SALT, now=now)
        rows = resolve_wallets(rows, self.signers.address, file=str(files.investors))
        self.investors = {row.wallet: row for row in rows}
        plan = plan_onboarding(contracts.registry, rows)
        report = execute_onboarding(contracts.registry, plan, registrar)
        self.say(
            f"registered {report.registered} wallets, linked {report.linked} extra wallet(s) "
            f"of multi-wallet investors, {report.unchanged} already up to date"
        )
        self.self_service_kyc(contracts.registry, issuer, now)

        self.step("Issuance")
        allocations = parse_allocations(files.allocations, total_units=terms.total_units)
        allocations = [
            type(a)(a.line, self.signers.address(a.alias) if a.alias else a.wallet, a.units) for a in allocations
        ]
        issued = issue(token, allocations, agent, start_block=start)
        self.say(f"minted {sum(issued.minted.values())} units to {len(issued.minted)} wallets")
        self.holder_table(token, "Holders after issuance")

        self.step("Transfers and compliance")
        self.transfers(token)

        self.settlement_cash: dict[str, int] = defaultdict(int)  # refunds and sale proceeds kept, per wallet
        self.step("Primary subscription: a second tranche, delivery versus payment")
        self.subscription(token, cash, issuer, treasury)
        self.step("Secondary trade: delivery versus payment")
        self.trade(token, cash, manifest, issuer, agent)
        self.holder_table(token, "Holders before the first record date")

        self.step("Coupons and redemption")
        received = self.service(schedule, token, paying_agent, cash, treasury, start)
        self.received_table(received, schedule, cash)

    def self_service_kyc(self, registry: Any, issuer: Any, now: int) -> None:
        """A trusted KYC provider attests investor_h off chain; the investor submits it and pays the gas."""
        provider = self.signers.account("kyc_provider")
        registry.setKycProvider(provider.address, True, sender=issuer)
        investor = self.signers.account("investor_h")
        attestation = Attestation(
            wallet=investor.address,
            identity=investor_identity(ISSUER_SALT, "KNGW-0008"),
            country=392,
            region=140007,
            category=int(InvestorCategory.INDIVIDUAL),
            tax_class=TAX_CLASSES["jp_individual"].id,
            kyc_expiry=now + 10 * 365 * 86400,
            issued_at=self.chain.blocks.head.timestamp,
            nonce=1,
            deadline=now + 3600,
        )
        signature = attestation.sign(provider.private_key, registry.address, self.chain.chain_id)
        registry.registerWithAttestation(attestation.as_struct(), signature, sender=investor)
        self.investors[investor.address] = InvestorRow(
            0,
            investor.address,
            "KNGW-0008",
            attestation.identity,
            attestation.country,
            attestation.region,
            InvestorCategory.INDIVIDUAL,
            TAX_CLASSES["jp_individual"],
            attestation.kyc_expiry,
        )
        self.say(
            f"investor_h registered itself with an EIP-712 attestation signed by kyc_provider "
            f"(verified: {registry.isVerified(investor.address)}); replaying it would fail (nonce used)"
        )

    # ------------------------------------------------------------------ transfers

    def try_transfer(self, token: Any, sender: str, receiver: str, units: int, why: str) -> bool:
        src, dst = self.signers.account(sender), self.signers.address(receiver)
        code = int(token.detectTransferRestriction(src.address, dst, units))
        message = token.messageForTransferRestriction(code)
        if code == 0:
            token.transfer(dst, units, sender=src)
            self.say(f"[green]✔[/] {sender} → {receiver}: {units} units ({why}) — {message}")
            return True
        before = int(token.balanceOf(src.address))
        status = self.send_raw(token.address, token.transfer.encode_input(dst, units), src.address)
        if status != 0 or int(token.balanceOf(src.address)) != before:
            raise AssertionError(f"transfer {sender} → {receiver} was expected to be refused on chain")
        self.say(
            f"[red]✘[/] {sender} → {receiver}: {units} units ({why}) — refused on chain, "
            f"code {code}: [bold]{message}[/]"
        )
        return False

    def transfers(self, token: Any) -> None:
        self.try_transfer(token, "investor_a", "investor_d", 5, "two residents")
        self.try_transfer(token, "investor_g", "investor_h", 10, "to the investor onboarded by attestation")
        self.try_transfer(token, "investor_a", "investor_f", 5, "to a non-resident of the prefecture")
        self.try_transfer(token, "investor_a", "investor_d", 10, "would take the receiver over ¥1,000,000")
        self.try_transfer(
            token,
            "investor_a",
            "investor_b2",
            15,
            "investor B holds 90 units over two wallets; the cap applies to both together",
        )
        self.freeze(token, "investor_e", True)
        self.try_transfer(token, "investor_e", "investor_a", 5, "from a frozen wallet")
        self.freeze(token, "investor_e", False)

    # ------------------------------------------------------------------ settlement

    def subscription(self, token: Any, cash: Any, issuer: Any, treasury: Any) -> None:
        """A book of TRANCHE_UNITS units at par: oversubscribed, allotted pro rata after the close, settled at the
        issue date (units minted, cash to the treasury, the unallotted cash refunded) by munibond.chain.subscription."""
        from ape.exceptions import ContractLogicError

        from munibond.chain.refusals import describe

        now = self.chain.pending_timestamp
        close = now + DAY
        settles_at = max(int(token.bondTerms().issueDate), close + DAY)
        terms = (token.address, cash.address, treasury.address, TRANCHE_PRICE, 1, TRANCHE_UNITS, now, close, settles_at)
        book = issuer.deploy(self.project.SubscriptionBook, terms, issuer.address, issuer.address)
        token.grantRole(MINTER_ROLE, book.address, sender=issuer)
        self.say(
            f"subscription book at {book.address}: {TRANCHE_UNITS} units at {_yen(TRANCHE_PRICE)} each, window "
            f"one day, settlement at the issue date; the book holds the series' minter role"
        )
        outsider = self.signers.account("investor_f")
        try:
            book.commit.call(5, sender=outsider)  # simulated: the book's refusal, without a transaction
            raise AssertionError("the book accepted a commitment from a non-resident")
        except ContractLogicError as refused:
            error = (describe(refused) or "").split("(")[0]
            named = f" ({error})" if error.isidentifier() else ""  # the custom error, when the node's answer names it
            code = int(token.detectTransferRestriction(ZERO_ADDRESS, outsider.address, 5))
            self.say(
                f"[red]✘[/] investor_f commits 5 units — refused by the book, code {code}: "
                f"[bold]{token.messageForTransferRestriction(code)}[/]{named}"
            )
        before = {alias: int(token.balanceOf(self.signers.address(alias))) for alias, _ in COMMITMENTS}
        for alias, units in COMMITMENTS:
            investor = self.signers.account(alias)
            cash.mint(investor.address, units * TRANCHE_PRICE, sender=investor)
            cash.approve(book.address, units * TRANCHE_PRICE, sender=investor)
            book.commit(units, sender=investor)
            self.say(f"{alias} commits {units} units and pays {_yen(units * TRANCHE_PRICE)} into the book")
        committed = int(book.state().committedUnits)
        self.say(f"book closed: {committed} units committed for {TRANCHE_UNITS} offered (oversubscribed)")

        self.travel_to(close)
        wallets = subscription.investors(book)
        plan = subscription.plan(book, subscription.Method.PRO_RATA, subscription.commitments(book, wallets))
        subscription.allot(book, subscription.Method.PRO_RATA, plan, sender=issuer)
        requested = dict(COMMITMENTS)
        self.say(
            "allotted pro rata (floor, the remainder to the earliest): "
            + ", ".join(f"{self.name(w)} {units} of {requested[self.name(w)]}" for w, units in plan)
        )

        self.travel_to(settles_at)
        treasury_before = int(cash.balanceOf(treasury.address))
        cash_before = {alias: int(cash.balanceOf(self.signers.address(alias))) for alias in before}
        run = subscription.settle(book, wallets, sender=issuer)
        proceeds = int(cash.balanceOf(treasury.address)) - treasury_before
        refunds = {}
        for alias in before:
            wallet = self.signers.address(alias)
            refunds[alias] = int(cash.balanceOf(wallet)) - cash_before[alias]
            self.settlement_cash[wallet] += refunds[alias]
        minted = {alias: int(token.balanceOf(self.signers.address(alias))) - before[alias] for alias in before}
        self.say(
            f"settled at the issue date in {len(run.transactions)} transaction(s): {sum(minted.values())} units minted "
            f"({', '.join(f'{a} {u}' for a, u in minted.items())})"
        )
        self.say(
            f"cash: {_yen(proceeds)} to the issuer's treasury, {_yen(sum(refunds.values()))} unallotted refunded "
            f"({', '.join(f'{a} {_yen(r)}' for a, r in refunds.items())})"
        )

    def trade(self, token: Any, cash: Any, manifest: Manifest, issuer: Any, broker: Any) -> None:
        """investor_c sells to investor_h: both sign the EIP-712 terms (munibond.trades), the transfer agent submits
        them (the units are locked in the seller's wallet), then settles: units and cash move in one transaction."""
        seller_alias, buyer_alias, units, unit_price = TRADE
        seller, buyer = self.signers.account(seller_alias), self.signers.account(buyer_alias)
        settlement = issuer.deploy(self.project.TradeSettlement)
        record_deployment(manifest, "TradeSettlement", "TradeSettlement", settlement)
        token.grantRole(FREEZER_ROLE, settlement.address, sender=issuer)
        self.say(f"TradeSettlement at {settlement.address} (in the manifest); it may lock units of the series")
        price = units * unit_price
        terms = Trade(
            series=token.address,
            seller=seller.address,
            buyer=buyer.address,
            units=units,
            payment_token=cash.address,
            price=price,
            expiry=self.chain.pending_timestamp + 2 * DAY,
            nonce=1,
        )
        chain_id = int(self.chain.chain_id)
        signatures = (
            terms.sign(seller.private_key, settlement.address, chain_id),
            terms.sign(buyer.private_key, settlement.address, chain_id),
        )
        token.approve(settlement.address, units, sender=seller)
        settlement.agree(terms.as_struct(), *signatures, sender=broker)
        self.say(
            f"{seller_alias} and {buyer_alias} signed the trade (EIP-712): {units} units for {_yen(price)} "
            f"({_yen(unit_price)} per unit), on-chain cash"
        )
        self.say(
            f"the transfer agent submitted it: {int(token.getFrozenTokens(seller.address))} units are locked in "
            f"{seller_alias}'s wallet until settlement"
        )
        cash.mint(buyer.address, price, sender=buyer)
        cash.approve(settlement.address, price, sender=buyer)
        held = int(token.balanceOf(buyer.address)), int(cash.balanceOf(seller.address))
        settlement.settle(terms.as_struct(), sender=broker)
        delivered = int(token.balanceOf(buyer.address)) - held[0]
        paid = int(cash.balanceOf(seller.address)) - held[1]
        self.settlement_cash[seller.address] += paid
        self.say(
            f"settled DvP in one transaction: {buyer_alias} received {delivered} units, {seller_alias} was paid "
            f"{_yen(paid)}"
        )
        self.say(
            f"nothing stays in the settlement contract ({int(token.balanceOf(settlement.address))} units, "
            f"{_yen(int(cash.balanceOf(settlement.address)))})"
        )

    # ------------------------------------------------------------------ servicing

    def service(
        self,
        schedule: Any,
        token: Any,
        paying_agent: Any,
        cash: Any,
        treasury: Any,
        start: int,
    ) -> dict[str, list[HolderPayment]]:
        cash.mint(treasury.address, 10**12, sender=treasury)
        received: dict[str, list[HolderPayment]] = defaultdict(list)
        last = len(schedule.periods) - 1
        for period_id, period in enumerate(schedule.periods):
            self.travel_to(period.record_time + 1)
            if period_id == last:
                # The payment agent set the token to close after its last record time (the final redemption):
                # units moved now would be neither paid nor burned, so the token refuses every move.
                self.try_transfer(token, "investor_b", "investor_b2", 1, "after the final record date")
            if period_id == 0:
                self.try_transfer(
                    token,
                    "investor_a",
                    "investor_e",
                    10,
                    "sold after the record date, before payment: the seller keeps the coupon",
                )
            if period_id == 1:
                self.freeze(token, "investor_e", True, "(e.g. a court order) before payment 2")
            self.travel_to(period.payment_time)
            run = pay_period(paying_agent, token, cash, period_id, treasury, start_block=start)
            for payment in run.payments:
                if not payment.escrowed:
                    received[payment.holder].append(payment)
            if period_id == 1:
                released = self.escrow_and_release(token, paying_agent, run.payments, period_id, treasury)
                received[released.holder].append(released)
            funded = paying_agent.accounts(period_id)
            if period_id in (0, last):
                self.payment_table(token, run.payments, period, period_id == last)
            if period_id == 0:
                for alias in ("investor_a", "investor_e"):
                    wallet = self.signers.address(alias)
                    self.say(
                        f"{alias} holds {int(token.balanceOf(wallet))} units now and was paid on "
                        f"{int(token.balanceOfAt(wallet, period.record_time))}, its balance at the record date"
                    )
            else:
                gross = sum(p.coupon_gross for p in run.payments)
                self.say(
                    f"payment {period.index} on {period.payment_date}: {len(run.payments)} holders, "
                    f"gross {_yen(gross)}, funded {_yen(int(funded.funded))}"
                )
            self.check_conservation(paying_agent, period_id)
        self.say(f"total supply after redemption: {int(token.totalSupply())} units")
        return received

    def freeze(self, token: Any, alias: str, frozen: bool, why: str = "") -> None:
        token.setAddressFrozen(self.signers.address(alias), frozen, sender=self.signers.account("agent"))
        self.say(f"freezer {'froze' if frozen else 'unfroze'} {alias}'s wallet {why}".rstrip())

    def escrow_and_release(
        self, token: Any, paying_agent: Any, payments: list[HolderPayment], period_id: int, treasury: Any
    ) -> HolderPayment:
        """The push escrowed the frozen investor_e's payment; once unfrozen, the payer releases it to it."""
        wallet = self.signers.address("investor_e")
        (held,) = (p for p in payments if p.holder == wallet and p.escrowed)
        self.say(
            f"payment {period_id + 1}: investor_e was frozen at payment, its {_yen(held.coupon_gross)} is held in "
            f"escrow by the payment agent"
        )
        self.freeze(token, "investor_e", False)
        receipt = paying_agent.releaseEscrow(period_id, wallet, wallet, sender=treasury)
        (released,) = payments_in([receipt], paying_agent, period_id)
        self.say(
            f"payer released the escrow to investor_e: gross {_yen(released.coupon_gross)}, tax "
            f"{_yen(sum(released.taxes))}, net {_yen(released.net)} (`munibond coupon release`)"
        )
        return released

    def check_conservation(self, paying_agent: Any, period_id: int) -> None:
        a = paying_agent.accounts(period_id)
        parts = int(a.paidNet) + int(a.taxWithheld) + int(a.escrowed) + int(a.reclaimed) + int(a.held)
        if parts != int(a.funded):
            raise AssertionError(f"period {period_id + 1}: funded {a.funded} != sum of buckets {parts}")

    def payment_table(self, token: Any, payments: list[HolderPayment], period: Any, final: bool) -> None:
        title = (
            f"Payment {period.index} on {period.payment_date} (record date {period.record_date}), "
            f"coupon per unit {period.coupon_per_unit} yen" + (" + redemption at par" if final else "")
        )
        table = Table(title=title)
        for column in (
            "holder",
            "tax class",
            "units",
            "coupon gross",
            "national tax",
            "local tax",
            "principal",
            "net paid",
            "units burned",
        ):
            table.add_column(column, justify="left" if column in ("holder", "tax class") else "right")
        for p in sorted(payments, key=lambda p: self.name(p.holder)):
            row = self.investors.get(p.holder)
            tax_class = row.tax_class.name if row else "?"
            national = p.taxes[0] if len(p.taxes) > 0 else 0
            local = p.taxes[1] if len(p.taxes) > 1 else 0
            units = int(token.balanceOfAt(p.holder, period.record_time))
            table.add_row(
                self.name(p.holder),
                tax_class,
                f"{units}",
                _yen(p.coupon_gross),
                _yen(national),
                _yen(local),
                _yen(p.principal_gross),
                _yen(p.net),
                str(p.units_redeemed),
            )
        self.console.print(table)

    # ------------------------------------------------------------------ reports

    def holder_table(self, token: Any, title: str) -> None:
        table = Table(title=title)
        for column in ("wallet", "investor", "region", "category", "tax class", "units", "face value"):
            table.add_column(column, justify="right" if column in ("units", "face value") else "left")
        denomination = int(token.denomination())
        for wallet, row in self.investors.items():
            units = int(token.balanceOf(wallet))
            if not units:
                continue
            table.add_row(
                self.name(wallet),
                row.investor_id,
                str(row.region),
                row.category.name.lower(),
                row.tax_class.name,
                str(units),
                _yen(units * denomination),
            )
        table.add_row(
            "",
            "",
            "",
            "",
            "total",
            str(int(token.totalSupply())),
            _yen(int(token.totalSupply()) * denomination),
        )
        self.console.print(table)

    def received_table(self, received: dict[str, list[HolderPayment]], schedule: Any, cash: Any) -> None:
        table = Table(title="What each holder received over the life of the bond")
        for column in (
            "holder",
            "tax class",
            "coupons gross",
            "tax withheld",
            "principal",
            "net received",
            "refunds & sales",
            "DJPY balance",
        ):
            table.add_column(column, justify="left" if column in ("holder", "tax class") else "right")
        for holder, payments in sorted(received.items(), key=lambda item: self.name(item[0])):
            row = self.investors.get(holder)
            table.add_row(
                self.name(holder),
                row.tax_class.name if row else "?",
                _yen(sum(p.coupon_gross for p in payments)),
                _yen(sum(sum(p.taxes) for p in payments)),
                _yen(sum(p.principal_gross for p in payments)),
                _yen(sum(p.net for p in payments)),
                _yen(self.settlement_cash.get(holder, 0)),
                _yen(int(cash.balanceOf(holder))),
            )
        self.console.print(table)
        self.say("DJPY balance = net received + refunds & sales (subscription refunds, the trade's sale proceeds);")
        self.say("the cash each investor brought for its subscription or purchase was spent in settlement")
        tax_office = self.signers.address("tax_office")
        self.say(f"withholding tax collected by tax_office: {_yen(int(cash.balanceOf(tax_office)))}")
