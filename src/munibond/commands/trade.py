"""`munibond trade setup|agree|approve|settle|confirm-payment|claim|cancel|list`: secondary trades settled delivery
versus payment through the workspace's TradeSettlement contract (docs/settlement.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options


def _examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group("trade")
def trade() -> None:
    """Secondary trades between investors, settled delivery versus payment: the units reach the buyer only with
    the cash (on chain in the same transaction, or on the seller's confirmation of a bank payment), and only
    through the series' own compliance at that moment."""


def _run(
    command: str,
    arguments: dict[str, Any],
    signer: str,
    plan_of: Callable[[Any], Any],
    done: Callable[[Any, Any, list[Any]], str],
    *,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Check and preview (`plan_of(session)`), confirm, send, then print `done(session, plan, receipts)`."""
    from munibond.audit_log import audited
    from munibond.chain.session import connect
    from munibond.confirmation import confirm

    with (
        audited(command, arguments, manifest=manifest) as audit,
        connect(network, alias_book=alias_book, manifest=manifest) as session,
    ):
        audit.begin(
            signer=session.signers.address(signer),
            chain_id=int(session.chain.chain_id),
            manifest=session.manifest.path,
        )
        plan = plan_of(session)
        if not confirm(plan.preview, yes=yes, dry_run=dry_run):
            audit.outcome = "dry run" if dry_run else "nothing to send"
            return
        receipts = plan.send()
        audit.sent(receipts)
        if plan.trade_id:
            audit.totals = {"trade": "0x" + plan.trade_id.hex()}
        click.echo(done(session, plan, receipts))


# ------------------------------------------------------------------------------------------------ setup


@trade.command(
    "setup",
    epilog=_examples(
        "munibond trade setup KNGW26 --dry-run          # what would be deployed and granted",
        "munibond trade setup KNGW26 --yes",
        "munibond trade setup KNGW26 --require-approval  # the transfer agent approves every trade",
    ),
)
@click.argument("symbols", nargs=-1, required=True)
@click.option("--admin", default="issuer", show_default=True, help="Series admin who grants the freezer role.")
@click.option("--sender", default="issuer", show_default=True, help="Account that deploys the settlement contract.")
@click.option("--require-approval", is_flag=True, help="Settlement of the series' trades needs the transfer agent.")
@confirm_options
@network_options
def setup(
    symbols: tuple[str, ...],
    admin: str,
    sender: str,
    require_approval: bool,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Deploy the workspace's TradeSettlement contract (once; its address goes into the deployment manifest) and
    let it lock the units of agreed trades of each series SYMBOLS (the series' freezer role, its only role).
    Re-runnable: sends only what is missing."""
    from munibond.chain import trade_settlement as ts

    arguments = {"symbols": list(symbols), "admin": admin, "sender": sender, "require_approval": require_approval,
                 "yes": yes, "dry_run": dry_run, "network": network, "manifest": manifest}  # fmt: skip

    def done(session: Any, _plan: Any, _receipts: list[Any]) -> str:
        record = session.manifest.contracts[ts.CONTRACT]
        return f"TradeSettlement at {record.address} serves {', '.join(symbols)} (manifest: {session.manifest.path})"

    _run(
        "trade setup",
        arguments,
        admin,
        lambda s: ts.setup_plan(s, list(symbols), deployer=sender, admin=admin, require_approval=require_approval),
        done,
        yes=yes,
        dry_run=dry_run,
        network=network,
        alias_book=alias_book,
        manifest=manifest,
    )


# ------------------------------------------------------------------------------------------------ agree


@trade.command(
    "agree",
    epilog=_examples(
        "munibond trade agree KNGW26 --seller investor_c --buyer investor_h --units 25 --price 253125 --dry-run",
        "munibond trade agree KNGW26 --seller investor_c --buyer investor_h --units 25 --unit-price 10125 \\",
        "    --expires 2d --yes                                   # on-chain cash, settled by `trade settle`",
        "munibond trade agree KNGW26 --seller investor_c --buyer investor_h --units 10 --price 101000 \\",
        "    --bank --payment-id 'MIZUHO 0001' --expires 2027-04-30  # bank transfer, `trade confirm-payment`",
        "munibond trade agree KNGW26 --seller investor_c --buyer investor_h --units 10 --price 101000 \\",
        '    --hash-lock "$(cat lock.hex)" --expires 1d --yes   # cash on another ledger, `trade claim`',
    ),
)
@click.argument("symbol")
@click.option("--seller", required=True, help="Seller's wallet (alias or address).")
@click.option("--buyer", required=True, help="Buyer's wallet (alias or address).")
@click.option("--units", type=int, required=True, help="Units delivered.")
@click.option("--price", default=None, help="Total price in currency units (e.g. 253125 or 1234.50).")
@click.option("--unit-price", default=None, help="Price of one unit in currency units (instead of --price).")
@click.option(
    "--expires",
    default="2d",
    show_default=True,
    help="When the trade lapses: a duration after the chain's clock (2d, 36h), a date (the end of that day in "
    "the issuer's zone) or a local time 2027-03-31T15:00.",
)
@click.option("--bank", is_flag=True, help="Cash paid by bank transfer: units released by `trade confirm-payment`.")
@click.option("--payment-id", default=None, help="With --bank: the reference the bank transfer carries.")
@click.option("--confirmer", default=None, help="With --bank: the seller's bank agent, who may confirm too.")
@click.option(
    "--hash-lock",
    default=None,
    help="Cash on another ledger: the SHA-256 hash (0x + 64 hex) of the secret that releases both legs; the units "
    "are claimed with `trade claim`. Its expiry must come before the cash leg's deadline (docs/settlement.md).",
)
@click.option("--nonce", type=click.IntRange(0), default=None, help="Makes equal terms a new trade (default: random).")
@click.option("--by", "submitter", default="agent", show_default=True, help="Who submits (broker, transfer agent).")
@click.option("--seller-signature", default=None, help="The seller's EIP-712 signature made elsewhere (hex).")
@click.option("--buyer-signature", default=None, help="The buyer's EIP-712 signature made elsewhere (hex).")
@confirm_options
@network_options
def agree(
    symbol: str,
    seller: str,
    buyer: str,
    units: int,
    price: str | None,
    unit_price: str | None,
    expires: str,
    bank: bool,
    payment_id: str | None,
    confirmer: str | None,
    hash_lock: str | None,
    nonce: int | None,
    submitter: str,
    seller_signature: str | None,
    buyer_signature: str | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Agree a sale of UNITS of SYMBOL from SELLER to BUYER: both sign the terms (EIP-712; the command signs with
    their accounts unless their signatures are given), the broker or transfer agent submits them, and the seller's
    units are locked in its wallet until settlement, cancellation or expiry. Refused before anything is sent when
    the buyer is not a verified investor, the seller lacks free units, or the series' compliance refuses the
    transfer now. Prints the trade id the other trade commands take."""
    import secrets

    from munibond.chain import trade_settlement as ts
    from munibond.errors import InputError

    # what needs no chain is refused before connecting
    if units <= 0:
        raise InputError(f"must be a positive number of units, got {units}", field="--units")
    if (price is None) == (unit_price is None):
        raise InputError("give the trade's total --price or its --unit-price (one of them)", field="--price")
    if not bank and (payment_id is not None or confirmer is not None):
        option = "--payment-id" if payment_id is not None else "--confirmer"
        raise InputError(f"{option} is for a trade paid by bank transfer (--bank)", field=option)
    lock = None
    if hash_lock is not None:
        if bank:
            raise InputError("a trade is paid by bank (--bank) or hash-locked (--hash-lock), not both", field="--bank")
        lock = ts.parse_hash_lock(hash_lock)
    chosen_nonce = secrets.randbits(63) if nonce is None else nonce
    arguments = {"symbol": symbol, "units": units, "price": price, "unit_price": unit_price, "expires": expires,
                 "bank": bank, "hash_locked": lock is not None, "nonce": chosen_nonce, "by": submitter, "yes": yes,
                 "dry_run": dry_run, "network": network, "manifest": manifest}  # fmt: skip

    def plan_of(session: Any) -> Any:
        return ts.agree_plan(
            session,
            symbol,
            seller=seller,
            buyer=buyer,
            units=units,
            price=price,
            unit_price=unit_price,
            expires=expires,
            bank=bank,
            payment_id=payment_id,
            confirmer=confirmer,
            nonce=chosen_nonce,
            submitter=submitter,
            seller_signature=seller_signature,
            buyer_signature=buyer_signature,
            lock=lock,
        )

    def done(_session: Any, plan: Any, _receipts: list[Any]) -> str:
        short = plan.trade_id.hex()[:12]
        next_step = (
            f"trade claim 0x{short} --secret-file FILE"
            if lock is not None
            else f"trade confirm-payment 0x{short} PAYMENT_ID"
            if bank
            else f"trade settle 0x{short}"
        )
        return (
            f"trade 0x{plan.trade_id.hex()} agreed: {units} units of {symbol} locked in the seller's wallet; "
            f"settle it with `munibond {next_step}`"
        )

    _run("trade agree", arguments, submitter, plan_of, done, yes=yes, dry_run=dry_run, network=network,
         alias_book=alias_book, manifest=manifest)  # fmt: skip


# ------------------------------------------------------------------------------------------------ settle


@trade.command(
    "settle",
    epilog=_examples(
        "munibond trade settle 0x3f2a9c --dry-run     # the checks and what moves",
        "munibond trade settle 0x3f2a9c --yes",
    ),
)
@click.argument("trade_ref", metavar="TRADE")
@click.option("--by", "submitter", default="agent", show_default=True, help="Who sends the settlement.")
@confirm_options
@network_options
def settle(
    trade_ref: str,
    submitter: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Settle an agreed on-chain-cash TRADE (its id, or at least 6 hex digits of it): the units go to the buyer
    and the price to the seller in one transaction, or nothing moves. The buyer's approval of the cash is sent
    first when short. Refused before sending when the trade expired, was cancelled, or a party is no longer
    eligible; a trade settled already (a re-run) is reported and nothing is sent."""
    from munibond.chain import trade_settlement as ts

    arguments = {"trade": trade_ref, "by": submitter, "yes": yes, "dry_run": dry_run, "network": network,
                 "manifest": manifest}  # fmt: skip

    def done(session: Any, plan: Any, _receipts: list[Any]) -> str:
        agreed = ts.find_trade(session, ts.settlement_contract(session), "0x" + plan.trade_id.hex())
        cash = ts.cash_of(session, agreed.symbol, agreed.trade.mode, agreed.trade.payment_token)
        return (
            f"trade {agreed.id_hex} settled: {agreed.trade.units} units of {agreed.symbol} to "
            f"{ts.describe_party(session, agreed.trade.buyer)}, {cash.text(agreed.trade.price)} to "
            f"{ts.describe_party(session, agreed.trade.seller)}"
        )

    _run("trade settle", arguments, submitter, lambda s: ts.settle_plan(s, trade_ref, submitter=submitter), done,
         yes=yes, dry_run=dry_run, network=network, alias_book=alias_book, manifest=manifest)  # fmt: skip


@trade.command(
    "confirm-payment",
    epilog=_examples(
        "munibond trade confirm-payment 0x3f2a9c 'MIZUHO 0001' --by investor_c --dry-run",
        "munibond trade confirm-payment 0x3f2a9c 'MIZUHO 0001' --by seller_bank --yes   # the trade's confirmer",
    ),
)
@click.argument("trade_ref", metavar="TRADE")
@click.argument("payment_id")
@click.option("--by", "confirmer", required=True, help="The seller, or the confirmer named in the trade.")
@confirm_options
@network_options
def confirm_payment(
    trade_ref: str,
    payment_id: str,
    confirmer: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Confirm receipt of the bank payment of TRADE under PAYMENT_ID (the transfer's reference; it must be the one
    agreed, when the trade named one): the locked units are released to the buyer. A trade settled already under
    that payment id (a re-run) is reported and nothing is sent."""
    from munibond.chain import trade_settlement as ts

    arguments = {"trade": trade_ref, "by": confirmer, "yes": yes, "dry_run": dry_run, "network": network,
                 "manifest": manifest}  # fmt: skip

    def done(session: Any, plan: Any, _receipts: list[Any]) -> str:
        agreed = ts.find_trade(session, ts.settlement_contract(session), "0x" + plan.trade_id.hex())
        return (
            f"trade {agreed.id_hex} settled: payment confirmed, {agreed.trade.units} units of {agreed.symbol} "
            f"released to {ts.describe_party(session, agreed.trade.buyer)}"
        )

    _run(
        "trade confirm-payment",
        arguments,
        confirmer,
        lambda s: ts.confirm_payment_plan(s, trade_ref, payment_id, confirmer=confirmer),
        done,
        yes=yes,
        dry_run=dry_run,
        network=network,
        alias_book=alias_book,
        manifest=manifest,
    )


@trade.command(
    "claim",
    epilog=_examples(
        "munibond trade claim 0x3f2a9c --secret-file secret.hex --dry-run   # checks the secret against the lock",
        "MUNIBOND_TRADE_SECRET=$(cat secret.hex) munibond trade claim 0x3f2a9c --by investor_h --yes",
    ),
)
@click.argument("trade_ref", metavar="TRADE")
@click.option(
    "--secret-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="File holding the 32-byte secret as 64 hex digits (default: $MUNIBOND_TRADE_SECRET; never on the command "
    "line).",
)
@click.option("--by", "submitter", default="agent", show_default=True, help="Who sends the claim (anyone).")
@confirm_options
@network_options
def claim(
    trade_ref: str,
    secret_file: Path | None,
    submitter: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Settle a hash-locked TRADE (cash on another ledger) with the secret whose SHA-256 is its lock: the units go
    to the buyer and the secret is published on chain, where the seller reads it to take the cash locked under the
    same hash on the other ledger. Refused before sending when the secret does not match, the trade expired or is
    not open, or a party is no longer eligible."""
    import os

    from munibond.chain import trade_settlement as ts

    secret = ts.read_secret(secret_file, os.environ)
    arguments = {"trade": trade_ref, "secret_from": "file" if secret_file is not None else "environment",
                 "by": submitter, "yes": yes, "dry_run": dry_run, "network": network, "manifest": manifest}  # fmt: skip

    def done(session: Any, plan: Any, _receipts: list[Any]) -> str:
        agreed = ts.find_trade(session, ts.settlement_contract(session), "0x" + plan.trade_id.hex())
        return (
            f"trade {agreed.id_hex} settled: secret revealed, {agreed.trade.units} units of {agreed.symbol} "
            f"released to {ts.describe_party(session, agreed.trade.buyer)}"
        )

    _run("trade claim", arguments, submitter, lambda s: ts.claim_plan(s, trade_ref, secret, submitter=submitter),
         done, yes=yes, dry_run=dry_run, network=network, alias_book=alias_book, manifest=manifest)  # fmt: skip


@trade.command(
    "approve",
    epilog=_examples(
        "munibond trade approve 0x3f2a9c --dry-run",
        "munibond trade approve 0x3f2a9c --yes          # then anyone may settle it",
    ),
)
@click.argument("trade_ref", metavar="TRADE")
@click.option("--by", "approver", default="agent", show_default=True, help="The series' transfer agent.")
@confirm_options
@network_options
def approve(
    trade_ref: str,
    approver: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Approve an open TRADE as the series' transfer agent: a series set up with `--require-approval` settles a
    trade only once approved (or when the transfer agent sends the settlement). Refused when the signer is not the
    transfer agent, or the trade expired or is not open; an approved trade sends nothing."""
    from munibond.chain import trade_settlement as ts

    arguments = {"trade": trade_ref, "by": approver, "yes": yes, "dry_run": dry_run, "network": network,
                 "manifest": manifest}  # fmt: skip

    def done(session: Any, plan: Any, _receipts: list[Any]) -> str:
        agreed = ts.find_trade(session, ts.settlement_contract(session), "0x" + plan.trade_id.hex())
        return f"trade {agreed.id_hex} approved by the transfer agent: it may now be settled"

    _run("trade approve", arguments, approver, lambda s: ts.approve_plan(s, trade_ref, approver=approver), done,
         yes=yes, dry_run=dry_run, network=network, alias_book=alias_book, manifest=manifest)  # fmt: skip


@trade.command(
    "cancel",
    epilog=_examples(
        "munibond trade cancel 0x3f2a9c --by investor_h --dry-run   # the buyer withdraws",
        "munibond trade cancel 0x3f2a9c --yes                        # after expiry: release the units",
    ),
)
@click.argument("trade_ref", metavar="TRADE")
@click.option(
    "--by",
    default=None,
    help="The seller or the buyer (default: after expiry the transfer agent releases the units, which anyone may).",
)
@confirm_options
@network_options
def cancel(
    trade_ref: str,
    by: str | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Cancel an open TRADE (seller or buyer; a bank-paid trade only the buyer until it expires), or release an
    expired one: the seller's units are unlocked; nothing else is held by the contract."""
    from munibond.chain import trade_settlement as ts

    arguments = {"trade": trade_ref, "by": by, "yes": yes, "dry_run": dry_run, "network": network,
                 "manifest": manifest}  # fmt: skip

    def done(session: Any, plan: Any, _receipts: list[Any]) -> str:
        agreed = ts.find_trade(session, ts.settlement_contract(session), "0x" + plan.trade_id.hex())
        return f"trade {agreed.id_hex} {ts.STATUS_WORDS[agreed.status]}: {agreed.trade.units} units unlocked"

    _run("trade cancel", arguments, by or "agent", lambda s: ts.cancel_plan(s, trade_ref, by=by), done, yes=yes,
         dry_run=dry_run, network=network, alias_book=alias_book, manifest=manifest)  # fmt: skip


@trade.command(
    "list",
    epilog=_examples(
        "munibond trade list",
        "munibond trade list --series KNGW26 --status pending",
    ),
)
@click.option("--series", "symbol", default=None, help="Only the trades of this series.")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "expired", "settled", "cancelled", "released"]),
    default=None,
    help="Only trades in this state (expired: agreed, not settled, past the expiry).",
)
@network_options
def list_trades(
    symbol: str | None, status: str | None, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Every agreed trade: id, series, seller, buyer, units, price in currency units, how the cash is paid, the
    expiry or settlement time (issuer's zone) and its state."""
    from munibond import clock
    from munibond.chain import trade_settlement as ts
    from munibond.chain.series_terms import issuer_zone
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        now = session.now()
        shown = 0
        for agreed, cash in ts.trade_rows(session, symbol=symbol):
            state = agreed.state(now)
            if status is not None and state != status:
                continue
            t = agreed.trade
            tz = issuer_zone(session, agreed.symbol) if agreed.symbol else "UTC"
            if agreed.settled_at is not None:
                when = f"settled {clock.show_time(agreed.settled_at, tz, with_clock=True)}"
            else:
                when = f"expires {clock.show_time(t.expiry, tz, with_clock=True)}"
            price = cash.text(t.price) if cash is not None else f"{t.price} (base units)"
            click.echo(
                f"{agreed.id_hex[:14]}  {agreed.symbol or t.series}  {state}  "
                f"{ts.describe_party(session, t.seller)} -> {ts.describe_party(session, t.buyer)}  "
                f"{t.units} units  {price}  {ts.MODE_WORDS[t.mode]}  {when}"
            )
            shown += 1
        click.echo(f"{shown} trade(s)")
