"""A series taken through a lifecycle on the test chain, for the plain-web3 client tests.

Deployed through the factory with its payment code (the real contracts); investors of four tax classes; a
transfer before and after the first record time; a coupon paid by push, by claim, to a frozen holder's escrow
later released, and by bank; a tax-class change; a partial call (one unit in four retired) paid to every holder
but two: one moves units (the token burns its retired units first), the other's wait in its balance. The final
redemption stays ahead. The deployment is written to a manifest as the deploy command writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_utils import keccak

from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.manifest import ContractRecord, Manifest
from tests.conftest import JAPAN, KOBE, series_params
from tests.unit.payments.payment_helpers import JP_CORPORATE, JP_INDIVIDUAL, SWISS, AgentParams, Terms

ZERO = "0x" + "00" * 20
SYMBOL = "KOBE27"
COUPON = Fraction(85, 2)  # 42.5 yen per 10,000-yen unit: per-holder floors matter
CALL_FRACTION = Fraction(1, 4)


@dataclass
class Lifecycle:
    token: Any  # Ape contract, IBondToken ABI
    agent: Any  # Ape contract, payment code ABI (same address)
    cash: Any  # payment token
    manifest: Path
    start_block: int
    wallets: dict[str, str]  # role or investor name -> address
    keys: dict[str, str]  # investor name -> private key (hex)
    record_times: list[int]  # passed record times
    call_period: int
    uri: str


def _tax_classes(tax_account: str, local_tax_account: str) -> dict[int, list[tuple[int, str]]]:
    return {
        JP_INDIVIDUAL: [(153_150, tax_account), (50_000, local_tax_account)],
        JP_CORPORATE: [(153_150, ZERO)],
        SWISS: [(350_000, tax_account)],
    }


def run_lifecycle(project: Any, chain: Any, accounts: Any, registry: Any, factory: Any, tmp: Path) -> Lifecycle:
    admin, registrar, transfer_agent, freezer, minter, document_manager = (accounts[i] for i in range(6))
    payer, outsider = accounts[7], accounts[8]
    tax_account, local_tax_account = accounts[15], accounts[16]
    a, b, c, d, e = (accounts[i] for i in range(10, 15))
    cash = admin.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)

    now = chain.pending_timestamp
    periods = [
        Terms(now + 1_000, now + 2_000, coupon=COUPON),
        Terms(now + 100_000, now + 101_000, coupon=COUPON, principal=Fraction(10_000), redeem=Fraction(1)),
    ]
    agent_params = AgentParams(
        payment_token=str(cash),
        payer=str(payer),
        tax_account=str(tax_account),
        periods=periods,
        tax_classes=_tax_classes(str(tax_account), str(local_tax_account)),
        call_notice=100,
        reclaim_delay=1_000,
    )
    roles = {
        "admin": admin.address,
        "agent": ZERO,
        "transferAgent": transfer_agent.address,
        "freezer": freezer.address,
        "minter": minter.address,
        "documentManager": document_manager.address,
        "complianceManager": ZERO,
        "payer": ZERO,
    }
    params = series_params(
        roles, symbol=SYMBOL, isin="JP2100010027", currency=str(cash), record_times=[p.record_time for p in periods]
    )
    params["paymentAgentParams"] = agent_params.encode()
    receipt = factory.deploySeries(params, sender=admin)
    address = receipt.events.filter(factory.SeriesDeployed)[0].token
    token, agent = bond_token(project, address), payment_agent(project, address)

    manifest = Manifest(tmp / "deployments" / "local.json", "local", chain.chain_id)
    manifest.contracts["InvestorRegistry"] = ContractRecord("InvestorRegistry", registry.address, "", 0)
    manifest.series[SYMBOL] = {
        "isin": "JP2100010027",
        "token": address,
        "payment_agent": address,
        "payment_token": str(cash),
        "block": receipt.block_number,
    }
    manifest.save()

    for wallet, tax_class in ((a, JP_INDIVIDUAL), (b, JP_CORPORATE), (c, 0), (d, SWISS), (e, JP_INDIVIDUAL)):
        if not registry.contains(wallet):
            registry.registerInvestor(wallet, wallet, JAPAN, KOBE, 0, tax_class, 2**32 - 1, sender=registrar)
        else:
            registry.updateInvestor(wallet, JAPAN, KOBE, 0, tax_class, 2**32 - 1, sender=registrar)
    token.batchMint([a, b, c, d], [300, 200, 100, 150], sender=minter)
    token.setDocument(
        b"prospectus".ljust(32, b"\x00"), "ipfs://prospectus-kobe27", keccak(text="prospectus"), sender=document_manager
    )
    token.transfer(e, 50, sender=a)
    token.setAddressFrozen(c, True, sender=freezer)

    # coupon 0: bank for d, then funded; push a, c (frozen: escrow), e; b claims; c's escrow released
    chain.mine(timestamp=periods[0].payment_time)
    agent.recordOffchainPayments(0, [d], [keccak(text="MIZUHO-0001")], sender=payer)
    _fund(agent, cash, payer, 0)
    agent.pushPayments(0, [a, c, e], sender=payer)
    agent.claim(0, sender=b)
    token.setAddressFrozen(c, False, sender=freezer)
    agent.releaseEscrow(0, c, c, sender=payer)
    token.transfer(b, 20, sender=e)

    # individuals' withholding changes before the call is paid
    agent.setTaxClass(JP_INDIVIDUAL, [(150_000, str(tax_account)), (40_000, str(local_tax_account))], sender=admin)
    call_record = chain.pending_timestamp + 500
    call = Terms(
        call_record, call_record + 100, coupon=Fraction(85, 4), principal=Fraction(10_000), redeem=CALL_FRACTION
    )
    agent.scheduleCall(call.as_tuple(), sender=admin)
    call_period = int(agent.periodCount()) - 1
    chain.mine(timestamp=call.payment_time)
    _fund(agent, cash, payer, call_period)
    agent.pushPayments(call_period, [a, b, e], sender=payer)
    token.transfer(a, 5, sender=c)  # c unpaid: its retired units are burned first; d's wait in its balance

    keys = {name: w.private_key for name, w in zip("abcde", (a, b, c, d, e), strict=True)}
    wallets = {name: w.address for name, w in zip("abcde", (a, b, c, d, e), strict=True)}
    wallets |= {"admin": admin.address, "payer": payer.address, "outsider": outsider.address}
    return Lifecycle(
        token,
        agent,
        cash,
        manifest.path,
        receipt.block_number,
        wallets,
        keys,
        [periods[0].record_time, call_record],
        call_period,
        chain.provider.uri,
    )


def _fund(agent: Any, cash: Any, payer: Any, period: int) -> None:
    amount = int(agent.fundingShortfall(period))
    cash.mint(payer, amount, sender=payer)
    cash.approve(agent.address, amount, sender=payer)
    agent.fund(period, amount, sender=payer)
