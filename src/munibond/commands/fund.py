"""`munibond fund SYMBOL --amount A [--to treasury]`: mint the test payment token on a development chain."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from munibond.commands.options import network_options
from munibond.errors import InputError

EXAMPLES = """\b
Examples:
  munibond deploy examples/kanagawa-resident-2026.yaml --test-payment-token --shift-dates
  munibond fund KNGW26 --amount 5000000                 # ¥5,000,000 to the treasury (the default payer)
  munibond fund KNGW26 --amount 1000 --to investor_a    # to any account or address
"""


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise InputError(
            f"must be a decimal amount in currency units like 5000000 or 1234.50, got {text!r}", field="amount"
        ) from None


@click.command("fund", epilog=EXAMPLES)
@click.argument("symbol")
@click.option("--amount", required=True, help="Amount in currency units (e.g. yen), exact: 5000000 or 1234.50.")
@click.option("--to", default="treasury", show_default=True, help="Account (alias) or address that receives it.")
@click.option("--sender", default="treasury", show_default=True, help="Account that sends the mint (anyone may).")
@network_options
def fund(
    symbol: str,
    amount: str,
    to: str,
    sender: str,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Mint AMOUNT of SYMBOL's test payment token to the payer, on a development chain only.

    Only for a series deployed with `--test-payment-token`: the token that deploy made has no other source of
    funds. Any other payment token (a real stablecoin or deposit token) is refused; fund the payer from the
    treasury's holdings instead.
    """
    from munibond.chain.funding import mint_test_token
    from munibond.chain.session import connect

    value = _amount(amount)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        minted = mint_test_token(session, symbol, value, to=to, sender=sender)
    click.echo(
        f"minted {minted.amount} {minted.code} of test payment token to {to} ({minted.to}); "
        f"it now holds {minted.balance} {minted.code}"
    )
