"""The payer's side of a payment run: is there enough of the payment token before anything is sent, and, on a
development chain, a way to mint the deployment's test payment token to the treasury.

Amounts are shown in currency units (the payment token's base units / 10**decimals, exact), with the series'
ISO currency code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from munibond.chain.deployment import payment_agent
from munibond.chain.erc20 import ERC20_ABI, payment_token_at
from munibond.chain.lookup import series_entry, terms_after_record
from munibond.chain.series_terms import series_currency
from munibond.chain.session import Session
from munibond.errors import InputError

TEST_TOKEN_KEY = "MockPaymentToken"  # the manifest's record of the token `deploy --test-payment-token` made

MINT_ABI: dict[str, Any] = {
    "type": "function",
    "name": "mint",
    "stateMutability": "nonpayable",
    "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
    "outputs": [],
}


def currency_text(base_units: int, decimals: int, minor_units: int) -> str:
    """`base_units` of a `decimals`-decimal token as a currency amount, exact: 4121000 (JPY, 0) -> "4,121,000";
    123450 (CHF, 2 decimals) -> "1,234.50"; more decimals than minor units only when not zero."""
    whole, rest = divmod(base_units, 10**decimals)
    digits = (f"{rest:0{decimals}d}".rstrip("0") if decimals else "").ljust(minor_units, "0")
    return f"{whole:,}" + (f".{digits}" if digits else "")


def base_units(amount: Decimal, decimals: int) -> int:
    """A currency amount as base units of a `decimals`-decimal token; refused unless exact and positive."""
    scaled = amount.scaleb(decimals)
    if not amount.is_finite() or scaled != scaled.to_integral_value() or scaled <= 0:
        raise InputError(
            f"must be a positive amount with at most {decimals} decimals (the payment token's), got {amount}",
            field="amount",
        )
    return int(scaled)


def is_test_payment_token(session: Session, symbol: str) -> bool:
    """Whether `symbol` is paid in the test token this manifest's `deploy --test-payment-token` made, on a
    development chain: the only token `munibond fund` mints."""
    record = session.manifest.contracts.get(TEST_TOKEN_KEY)
    token = str(series_entry(session, symbol)["payment_token"])
    return session.is_dev_chain and record is not None and record.address.lower() == token.lower()


@dataclass(frozen=True)
class Minted:
    to: str
    amount: str  # in currency units
    code: str
    balance: str  # the recipient's balance after, in currency units


def mint_test_token(session: Session, symbol: str, amount: Decimal, *, to: str, sender: str) -> Minted:
    """Mint `amount` (currency units) of `symbol`'s test payment token to `to`; refused (one line) unless the
    series is paid in the deployment's test token on a development chain."""
    entry = series_entry(session, symbol)
    if not is_test_payment_token(session, symbol):
        where = "a development chain" if session.is_dev_chain else "this network (not a development chain)"
        raise InputError(
            f"{symbol} is paid in {entry['payment_token']} on {where}, not in the test payment token of "
            "`deploy --test-payment-token`: fund the payer from the treasury's own holdings of that token",
            field="symbol",
        )
    from ape import Contract

    token = Contract(entry["payment_token"], abi=[*ERC20_ABI, MINT_ABI])
    decimals = int(token.decimals())
    units = base_units(amount, decimals)
    currency = series_currency(session, symbol)
    recipient = session.signers.address(to)
    token.mint(recipient, units, sender=session.signers.account(sender))
    balance = int(token.balanceOf(recipient))
    return Minted(
        recipient,
        currency_text(units, decimals, currency.minor_units),
        currency.code,
        currency_text(balance, decimals, currency.minor_units),
    )


def check_payer_funds(session: Session, symbol: str, period: int, payer: str) -> None:
    """Before `coupon pay` or `redeem` sends anything: `payer` must hold what `period` (1-based) still lacks
    (its allowance is raised by the run itself). Refused in one line naming the shortfall in currency units
    and how to fund it."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    terms_after_record(session, agent, period)
    needed = int(agent.fundingShortfall(period - 1))
    if needed == 0:
        return
    cash = payment_token_at(entry["payment_token"])
    payer_address = session.signers.address(payer)
    balance = int(cash.balanceOf(payer_address))
    if balance >= needed:
        return
    decimals = int(cash.decimals())
    currency = series_currency(session, symbol)

    def text(value: int) -> str:
        return f"{currency_text(value, decimals, currency.minor_units)} {currency.code}"

    missing = needed - balance
    if is_test_payment_token(session, symbol):
        amount = currency_text(missing, decimals, currency.minor_units).replace(",", "")
        how = f"`munibond fund {symbol} --amount {amount} --to {payer}` mints it (test payment token)"
    else:
        how = "transfer it to the payer and run again"
    raise InputError(
        f"period {period} still needs {text(needed)} and {payer} holds {text(balance)}: {text(missing)} short "
        f"(nothing sent); {how}",
        field="payer",
    )
