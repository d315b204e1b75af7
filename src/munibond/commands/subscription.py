"""`munibond subscription open|list|commit|withdraw|allot|settle|cancel|claim-proceeds|recover`: the primary
subscription of a series through its SubscriptionBook (contracts/settlement/SubscriptionBook.sol,
docs/settlement-subscription.md).

Every command that sends runs its checks first (roles, window, phase, eligibility, balances; a refusal is one
line, exit 2, nothing sent), shows a preview in currency units and asks (--yes for scripts, --dry-run sends
nothing). Batched steps (allot, settle, the refunds of cancel) read the book before each run and skip what is
done, so a run cut short is finished by running it again, and nobody is allotted, paid or refunded twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from munibond.commands.options import network_options
from munibond.confirmation import confirm_options
from munibond.errors import InputError

if TYPE_CHECKING:
    from munibond.chain.offering import Book
    from munibond.chain.session import Session


def _examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


BOOK = click.option(
    "--book", "book_number", type=click.IntRange(1), default=None, help="Book number (default: the latest)."
)
ISSUER = click.option("--issuer", default="issuer", show_default=True, help="Account with the book's issuer role.")
INVESTOR = click.option("--investor", required=True, help="The investor's account (alias or address) that signs.")
UNITS = click.option(
    "--units", type=click.IntRange(1), required=True, help="Book units (e.g. bonds of one denomination)."
)
BATCH_SIZE = click.option(
    "--batch-size", default=50, show_default=True, type=click.IntRange(1, 500), help="Investors per transaction."
)


@click.group("subscription")
def subscription() -> None:
    """The primary subscription book of a series: open, commit, allot, settle or cancel, and list it; claim
    proceeds the payment token refused to the treasury; move a lost wallet's entry to the investor's new wallet."""


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise InputError(
            f"must be a decimal amount in currency units like 10000 or 99.50, got {text!r}", field="--price"
        ) from None
    if not value.is_finite() or value <= 0:
        raise InputError(f"must be a positive amount, got {text!r}", field="--price")
    return value


def _moment(text: str, zone: str, option: str) -> int:
    """`2026-03-20` (00:00 in the issuer's zone) or `2026-03-20T15:00` (issuer's zone unless it carries an offset)."""
    from munibond.clock import day_start, to_unix

    try:
        if len(text) == 10:
            return day_start(dt.date.fromisoformat(text), zone)
        return to_unix(dt.datetime.fromisoformat(text), zone)
    except ValueError:
        raise InputError(
            f"must be a date like 2026-03-20 or a time like 2026-03-20T15:00 (issuer's zone), got {text!r}",
            field=option,
        ) from None


def _audit_begin(audit: Any, session: Session, signer: str) -> None:
    audit.begin(signer=signer, chain_id=int(session.chain.chain_id), manifest=session.manifest.path)


def _arguments(**values: Any) -> dict[str, Any]:
    return values


@subscription.command(
    "open",
    epilog=_examples(
        "munibond subscription open KNGW26 --offered 50000 --price 10000 --closes 2026-03-20 --dry-run",
        "munibond subscription open KNGW26 --offered 50000 --price 10000 --opens 2026-03-02T09:00 \\",
        "    --closes 2026-03-20T15:00 --settles 2026-04-01 --yes",
    ),
)
@click.argument("symbol")
@click.option("--offered", type=click.IntRange(1), required=True, help="Book units offered.")
@click.option("--price", required=True, help="Price of one book unit in currency units (e.g. 10000 for ¥10,000).")
@click.option("--opens", default=None, help="Window opens (issuer's zone); default: now.")
@click.option("--closes", required=True, help="Window closes (issuer's zone), e.g. 2026-03-20 or 2026-03-20T15:00.")
@click.option("--settles", default=None, help="Settlement (issuer's zone); default: the series' issue date.")
@click.option(
    "--unit-size", type=click.IntRange(1), default=1, show_default=True, help="Token base units per book unit."
)
@click.option("--admin", default="issuer", show_default=True, help="Series admin: deploys the book, grants it minting.")
@ISSUER
@click.option("--treasury", default="treasury", show_default=True, help="Receives the proceeds.")
@confirm_options
@network_options
def open_(
    symbol: str,
    offered: int,
    price: str,
    opens: str | None,
    closes: str,
    settles: str | None,
    unit_size: int,
    admin: str,
    issuer: str,
    treasury: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Deploy a subscription book for the deployed series SYMBOL and record it in the deployment manifest.

    The book takes commitments in [opens, closes), is allotted after the close and settles at --settles: units
    minted to each investor, cash to the treasury, the rest refunded. It is granted the series' minter role.
    Re-running with the same terms finishes an interrupted opening instead of deploying a second book."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain.deployment import bond_token
    from munibond.chain.erc20 import payment_token_at
    from munibond.chain.funding import base_units
    from munibond.chain.lookup import series_entry
    from munibond.chain.preview import money_of
    from munibond.chain.series_terms import issuer_zone
    from munibond.chain.session import connect
    from munibond.clock import show_time
    from munibond.confirmation import Preview, confirm

    arguments = _arguments(
        symbol=symbol,
        offered=offered,
        price=price,
        opens=opens,
        closes=closes,
        settles=settles,
        unit_size=unit_size,
        admin=admin,
        issuer=issuer,
        treasury=treasury,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with audited("subscription open", arguments, manifest=manifest) as audit:
        price_amount = _amount(price)
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            entry = series_entry(session, symbol)
            admin_address = offering.check_admin(session, symbol, admin)
            _audit_begin(audit, session, admin_address)
            zone = issuer_zone(session, symbol)
            token = bond_token(session.project, entry["token"])
            cash = payment_token_at(entry["payment_token"])
            money = money_of(session, symbol, cash)
            now = session.now()
            terms = offering.BookTerms(
                price=base_units(price_amount, int(cash.decimals())),
                unit_size=unit_size,
                offered=offered,
                open_time=now if opens is None else _moment(opens, zone, "--opens"),
                close_time=_moment(closes, zone, "--closes"),
                settlement_time=int(token.issueDate()) if settles is None else _moment(settles, zone, "--settles"),
            )
            existing = offering.same_book(session, symbol, terms, any_open_time=opens is None)
            if existing is None and terms.close_time <= max(terms.open_time, now):
                raise InputError("the window must close after it opens and after now", field="--closes")
            if terms.settlement_time <= terms.close_time:
                raise InputError(
                    f"settlement ({show_time(terms.settlement_time, zone, with_clock=True)}) must be after the close "
                    "(the allotment runs between them)",
                    field="--settles",
                )
            reopening = existing is not None
            preview = Preview(
                f"{symbol}: open a subscription book" + (" (finishing the latest, same terms)" if reopening else ""),
                [
                    ("offered", f"{offered:,} units of {unit_size:,} token units"),
                    ("price", f"{money(terms.price)} per unit ({money(terms.price * offered)} in all)"),
                    (
                        "window",
                        f"{show_time(terms.open_time, zone, with_clock=True)} to "
                        f"{show_time(terms.close_time, zone, with_clock=True)}",
                    ),
                    ("settlement", show_time(terms.settlement_time, zone, with_clock=True)),
                    ("treasury", f"{treasury} ({session.signers.address(treasury)})"),
                    ("issuer role", f"{issuer} ({session.signers.address(issuer)})"),
                    ("admin", f"{admin} ({admin_address})"),
                ],
                2 if existing is None else 0 if _granted(existing) else 1,
            )
            if not confirm(preview, yes=yes, dry_run=dry_run):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            book = offering.open_book(
                session, symbol, terms, admin=admin, issuer=issuer, treasury=treasury, any_open_time=opens is None
            )
            audit.totals = {"book": book.number, "offered": offered}
        click.echo(
            f"{symbol}: subscription book {book.number} open at {book.contract.address} (recorded in the manifest)"
        )


def _granted(book: Book) -> bool:
    from munibond.chain import offering

    return bool(book.token.hasRole(offering.MINTER_ROLE, book.contract.address))


@subscription.command(
    "list",
    epilog=_examples("munibond subscription list KNGW26", "munibond subscription list KNGW26 --book 1"),
)
@click.argument("symbol")
@BOOK
@network_options
def list_(symbol: str, book_number: int | None, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Show SYMBOL's subscription book: terms, state, and every commitment with its allotment and settlement."""
    from munibond.chain import offering
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        book = offering.find_book(session, symbol, book_number)
        _print_book(book)


def _print_book(book: Book) -> None:
    from munibond.chain import offering

    terms, state, money = book.terms(), book.contract.state(), book.money
    price = int(terms.price)
    phase = offering.sub.Phase(int(state.phase))
    click.echo(
        f"{book.symbol} subscription book {book.number} at {book.contract.address}: {offering.PHASE_WORDS[phase]}"
    )
    click.echo(f"  offered     {int(terms.offeredUnits):,} units at {money(price)} per unit")
    click.echo(f"  window      {book.when(int(terms.openTime))} to {book.when(int(terms.closeTime))}")
    click.echo(f"  settlement  {book.when(int(terms.settlementTime))}, deadline {book.when(book.deadline())}")
    lapse = book.lapse()
    if lapse is not None:
        click.echo(f"  {lapse}; every commitment not settled is refundable (`munibond subscription cancel`)")
    committed = int(state.committedUnits)
    click.echo(f"  committed   {committed:,} units, {money(committed * price)}, {int(state.investors)} investors")
    click.echo(
        f"  allotment   {offering.METHOD_WORDS[offering.sub.Method(int(state.method))]}: {int(state.allottedUnits):,} "
        f"units to {int(state.processed)} investors; settled {int(state.settled)}"
    )
    held_proceeds = book.held_proceeds()
    if held_proceeds:
        click.echo(
            f"  proceeds    {money(held_proceeds)} held: the payment token refused the treasury "
            "(`munibond subscription claim-proceeds`)"
        )
    for c in book.entries():
        allotted = f"allotted {c.allotted:,}" if c.is_allotted else "not allotted"
        done = ", settled" if c.is_settled else ", refunded" if c.is_refunded else ""
        held = int(book.contract.heldRefund(c.investor))
        click.echo(
            f"  #{c.seq} {c.investor}: {c.units:,} units, {money(c.units * price)}; {allotted}{done}"
            + (f"; refund held {money(held)}" if held else "")
        )


def _investor_step(
    command: str,
    symbol: str,
    investor: str,
    units: int,
    book_number: int | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """`commit` and `withdraw`, signed by the investor's own account."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm

    arguments = _arguments(
        symbol=symbol,
        investor=investor,
        units=units,
        book=book_number,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with audited(f"subscription {command}", arguments, manifest=manifest) as audit:
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            book = offering.find_book(session, symbol, book_number)
            address = session.signers.address(investor)
            _audit_begin(audit, session, address)
            offering.check_window(book, session.now())
            price = int(book.terms().price)
            held = offering.sub.commitments(book.contract, [address])
            current = held[0].units if held else 0
            cash = units * price
            money = book.money
            sends = 1
            if command == "commit":
                total = current + units
                offering.check_eligible(book, address, total)
                balance = int(book.cash.balanceOf(address))
                if balance < cash:
                    raise InputError(
                        f"{investor} holds {money(balance)}, the commitment needs {money(cash)}: nothing was sent",
                        field="--units",
                    )
                sends += int(book.cash.allowance(address, book.contract.address)) < cash
            else:
                if units > current:
                    raise InputError(
                        f"{investor} has committed {current:,} units, cannot withdraw {units:,}: nothing was sent",
                        field="--units",
                    )
                total = current - units
            lines = [
                ("investor", f"{investor} ({address})"),
                ("units", f"{units:,} ({current:,} before, {total:,} after)"),
                ("cash", f"{money(cash)} {'paid into' if command == 'commit' else 'returned from'} the book"),
                ("window closes", book.when(int(book.terms().closeTime))),
            ]
            if not confirm(
                Preview(f"{symbol}: {command} to subscription book {book.number}", lines, sends),
                yes=yes,
                dry_run=dry_run,
            ):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            account = session.signers.account(investor)
            if command == "commit":
                if sends == 2:
                    audit.sent([book.cash.approve(book.contract.address, cash, sender=account)])
                audit.sent([book.contract.commit(units, sender=account)])
            else:
                audit.sent([book.contract.withdraw(units, sender=account)])
            audit.totals = {"units": units, "cash": cash}
        click.echo(f"{symbol}: {investor} {command} {units:,} units ({money(cash)}); commitment now {total:,} units")


@subscription.command(
    "commit",
    epilog=_examples(
        "munibond fund KNGW26 --amount 500000 --to investor_a         # dev chain: the investor's cash",
        "munibond subscription commit KNGW26 --investor investor_a --units 30 --yes",
    ),
)
@click.argument("symbol")
@INVESTOR
@UNITS
@BOOK
@confirm_options
@network_options
def commit(
    symbol: str,
    investor: str,
    units: int,
    book_number: int | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Commit UNITS more for INVESTOR during the window: pays units × price into the book (approving it first).

    Refused before sending when the token would not mint the whole commitment to the investor (unverified,
    frozen, over the per-investor cap, ...) or the investor lacks the cash. A top-up moves the investor to the
    back of the arrival order."""
    _investor_step("commit", symbol, investor, units, book_number, yes, dry_run, network, alias_book, manifest)


@subscription.command(
    "withdraw",
    epilog=_examples("munibond subscription withdraw KNGW26 --investor investor_a --units 10 --yes"),
)
@click.argument("symbol")
@INVESTOR
@UNITS
@BOOK
@confirm_options
@network_options
def withdraw(
    symbol: str,
    investor: str,
    units: int,
    book_number: int | None,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Withdraw UNITS of INVESTOR's commitment during the window; the cash comes back at once."""
    _investor_step("withdraw", symbol, investor, units, book_number, yes, dry_run, network, alias_book, manifest)


@subscription.command(
    "allot",
    epilog=_examples(
        "munibond subscription allot KNGW26 --pro-rata --dry-run     # every investor's allotment; sends nothing",
        "munibond subscription allot KNGW26 --arrival-order --yes",
        "munibond subscription allot KNGW26 --file allotment.csv     # wallet,units per line",
    ),
)
@click.argument("symbol")
@click.option("--pro-rata", is_flag=True, help="Pro rata: floor of each share, the remainder to the earliest.")
@click.option("--arrival-order", is_flag=True, help="First come, first served, in arrival order.")
@click.option(
    "--file",
    "allotment_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Allotment CSV `wallet,units` (address or alias:NAME; investors not listed get nothing).",
)
@ISSUER
@BOOK
@BATCH_SIZE
@confirm_options
@network_options
def allot(
    symbol: str,
    pro_rata: bool,
    arrival_order: bool,
    allotment_file: Path | None,
    issuer: str,
    book_number: int | None,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Allot SYMBOL's book after the close and make the allotment final, in batches (re-runnable).

    The allotment is computed here exactly as the book verifies it (docs/settlement-subscription.md); a file is
    checked whole (wallet, units, commitments, the offer) before anything is sent. A re-run finishes an interrupted
    allotment with the same allotment: one that differs for an investor already allotted is refused."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain import subscription as sub
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm
    from munibond.progress import RunProgress, latest_hash

    if pro_rata + arrival_order + (allotment_file is not None) != 1:
        raise InputError("give exactly one of --pro-rata, --arrival-order or --file FILE", field="--pro-rata")
    method = sub.Method.PRO_RATA if pro_rata else sub.Method.FIRST_COME if arrival_order else sub.Method.EXPLICIT
    arguments = _arguments(
        symbol=symbol,
        method=method.name,
        file=allotment_file,
        issuer=issuer,
        book=book_number,
        batch_size=batch_size,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with audited("subscription allot", arguments, manifest=manifest) as audit:
        rows = offering.read_allotment_file(allotment_file) if allotment_file is not None else None
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            book = offering.find_book(session, symbol, book_number)
            signer = offering.check_issuer(book, session, issuer)
            _audit_begin(audit, session, signer)
            phase = book.phase()
            entries = book.entries()
            offered = int(book.terms().offeredUnits)
            if phase not in (sub.Phase.OPEN, sub.Phase.ALLOTTING, sub.Phase.ALLOTTED):
                raise InputError(
                    f"the book is {offering.PHASE_WORDS[phase]}: there is nothing to allot; nothing was sent",
                    field="phase",
                )
            if phase in (sub.Phase.OPEN, sub.Phase.ALLOTTING):
                offering.check_allotment_time(book, session.now())
            fixed = sub.Method(int(book.contract.state().method))
            if phase == sub.Phase.ALLOTTING and fixed != method:
                raise InputError(
                    f"the allotment was begun {offering.METHOD_WORDS[fixed]}: finish it the same way; nothing was sent",
                    field="method",
                )
            explicit = None
            if rows is not None and allotment_file is not None:
                explicit = offering.explicit_allotment(rows, allotment_file, entries, offered, session.signers.address)
            allotting = phase in (sub.Phase.OPEN, sub.Phase.ALLOTTING)
            plan = sub.plan(book.contract, method, entries, explicit) if allotting else []
            pending = offering.still_to_allot(book, entries, plan) if allotting else []
            done_before = sum(c.is_allotted for c in entries)
            audit.totals = {"already_allotted": done_before}
            price, money = int(book.terms().price), book.money
            if dry_run:
                committed = {c.investor: c.units for c in entries}
                for investor, units in plan:
                    click.echo(
                        f"  {investor}: committed {committed[investor]:,}, allotted {units:,}, refund "
                        f"{money((committed[investor] - units) * price)}"
                    )
            units_total = sum(u for _, u in plan) if plan else int(book.contract.state().allottedUnits)
            committed_total = sum(c.units for c in entries)
            final = 1 if allotting else 0
            preview = Preview(
                f"{symbol}: allot subscription book {book.number} ({offering.METHOD_WORDS[method]})",
                [
                    ("investors", f"{len(entries):,} ({done_before:,} allotted already, {len(pending):,} to allot)"),
                    ("committed", f"{committed_total:,} units, {money(committed_total * price)}"),
                    ("allotted", f"{units_total:,} of {offered:,} offered units, {money(units_total * price)}"),
                    ("to refund at settlement", money((committed_total - units_total) * price)),
                    ("state", offering.PHASE_WORDS[phase]),
                ],
                -(-len(pending) // batch_size) + final,
            )
            if not confirm(preview, yes=yes, dry_run=dry_run):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            progress = RunProgress(len(pending), "investors", last_hash=latest_hash(session.chain, signer))
            run = sub.allot(
                book.contract, method, plan, sender=session.signers.account(issuer), batch=batch_size, progress=progress
            )
            audit.sent(run.transactions)
            audit.totals = {"investors": len(run.investors), "already_allotted": done_before, "units": units_total}
        click.echo(
            f"{symbol}: allotment final: {units_total:,} units to {len(entries)} investors "
            f"({len(run.transactions)} transactions; {done_before} allotted already, skipped)"
        )


@subscription.command(
    "settle",
    epilog=_examples(
        "munibond subscription settle KNGW26 --dry-run          # units, proceeds and refunds; sends nothing",
        "munibond subscription settle KNGW26 --yes --batch-size 100",
        "munibond subscription settle KNGW26 --yes              # after an interruption: finishes the rest",
    ),
)
@click.argument("symbol")
@ISSUER
@BOOK
@BATCH_SIZE
@confirm_options
@network_options
def settle(
    symbol: str,
    issuer: str,
    book_number: int | None,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Settle SYMBOL's allotted book at or after its settlement time, in batches: units minted to each investor,
    allotted cash to the treasury, the rest refunded. Idempotent: a re-run settles only who is left."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain import subscription as sub
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm
    from munibond.progress import RunProgress, latest_hash

    arguments = _arguments(
        symbol=symbol,
        issuer=issuer,
        book=book_number,
        batch_size=batch_size,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with (
        audited("subscription settle", arguments, manifest=manifest) as audit,
        connect(network, alias_book=alias_book, manifest=manifest) as session,
    ):
        book = offering.find_book(session, symbol, book_number)
        signer = offering.check_issuer(book, session, issuer)
        _audit_begin(audit, session, signer)
        offering.check_settlement_time(book, session.now())
        entries = book.entries()
        pending = [c for c in entries if not c.is_settled]
        skipped = len(entries) - len(pending)
        audit.totals = {"already_settled": skipped}
        price, money = int(book.terms().price), book.money
        units = sum(c.allotted for c in pending)
        refunds = sum(c.units - c.allotted for c in pending) * price
        preview = Preview(
            f"{symbol}: settle subscription book {book.number}",
            [
                ("investors", f"{len(pending):,} to settle ({skipped:,} already settled)"),
                ("units to mint", f"{units:,}"),
                ("proceeds to the treasury", money(units * price)),
                ("refunds", money(refunds)),
            ],
            -(-len(pending) // batch_size),
        )
        if not confirm(preview, yes=yes, dry_run=dry_run):
            audit.outcome = "dry run" if dry_run else "nothing to send"
            _print_settled(book)
            return
        progress = RunProgress(len(pending), "investors", last_hash=latest_hash(session.chain, signer))
        run = sub.settle(
            book.contract,
            [c.investor for c in pending],
            sender=session.signers.account(issuer),
            batch=batch_size,
            progress=progress,
        )
        audit.sent(run.transactions)
        audit.totals = {
            "investors": len(run.investors),
            "already_settled": skipped,
            "units": units,
            "proceeds": units * price,
        }
        click.echo(
            f"this run: settled {len(run.investors)} investors in {len(run.transactions)} transactions "
            f"({skipped} already settled, skipped)"
        )
        _print_settled(book)


def _print_settled(book: Book) -> None:
    from munibond.chain import offering

    state = book.contract.state()
    phase = offering.PHASE_WORDS[offering.sub.Phase(int(state.phase))]
    click.echo(
        f"{book.symbol} book {book.number}: {phase}, {int(state.settled)} of {int(state.investors)} investors settled"
    )
    held = book.held_proceeds()
    if held:
        click.echo(
            f"{book.money(held)} of proceeds held in the book: the payment token refused the treasury "
            "(`munibond subscription claim-proceeds`)"
        )


@subscription.command(
    "cancel",
    epilog=_examples(
        "munibond subscription cancel KNGW26 --dry-run          # every commitment to return; sends nothing",
        "munibond subscription cancel KNGW26 --yes              # cancel, then refund everyone in batches",
    ),
)
@click.argument("symbol")
@ISSUER
@BOOK
@BATCH_SIZE
@confirm_options
@network_options
def cancel(
    symbol: str,
    issuer: str,
    book_number: int | None,
    batch_size: int,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Cancel SYMBOL's book (before its first settlement) and refund every commitment in batches; on a book
    already cancelled or lapsed, push the refunds still owed (re-runnable)."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain import subscription as sub
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm
    from munibond.progress import RunProgress, latest_hash

    arguments = _arguments(
        symbol=symbol,
        issuer=issuer,
        book=book_number,
        batch_size=batch_size,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with audited("subscription cancel", arguments, manifest=manifest) as audit:
        with connect(network, alias_book=alias_book, manifest=manifest) as session:
            book = offering.find_book(session, symbol, book_number)
            phase = book.phase()
            cancelling = phase != sub.Phase.CANCELLED
            signer = offering.check_issuer(book, session, issuer) if cancelling else session.signers.address(issuer)
            _audit_begin(audit, session, signer)
            if phase in (sub.Phase.SETTLING, sub.Phase.SETTLED):
                raise InputError(
                    f"the book is {offering.PHASE_WORDS[phase]}: it can no longer be cancelled", field="phase"
                )
            entries = book.entries()
            pending = [c for c in entries if not (c.is_refunded or c.is_settled)]
            skipped = len(entries) - len(pending)
            audit.totals = {"already_refunded": skipped}
            price, money = int(book.terms().price), book.money
            preview = Preview(
                f"{symbol}: cancel subscription book {book.number}" + ("" if cancelling else " (refunds still owed)"),
                [
                    ("investors to refund", f"{len(pending):,} ({skipped:,} already refunded or settled)"),
                    ("cash returned", money(sum(c.units for c in pending) * price)),
                    ("state", offering.PHASE_WORDS[phase]),
                ],
                int(cancelling) + -(-len(pending) // batch_size),
            )
            if not confirm(preview, yes=yes, dry_run=dry_run):
                audit.outcome = "dry run" if dry_run else "nothing to send"
                return
            account = session.signers.account(issuer)
            if cancelling:
                audit.sent([book.contract.cancel(sender=account)])
            progress = RunProgress(len(pending), "investors", last_hash=latest_hash(session.chain, signer))
            run = sub.refund(
                book.contract, [c.investor for c in pending], sender=account, batch=batch_size, progress=progress
            )
            audit.sent(run.transactions)
            returned = sum(c.units for c in pending) * price
            audit.totals = {"investors": len(run.investors), "already_refunded": skipped, "returned": returned}
        click.echo(
            f"{symbol}: book {book.number} cancelled; refunded {len(run.investors)} investors, "
            f"{money(returned)} ({len(run.transactions)} transactions; {skipped} already refunded, skipped)"
        )


@subscription.command(
    "claim-proceeds",
    epilog=_examples(
        "munibond subscription claim-proceeds KNGW26 --dry-run          # the proceeds held; sends nothing",
        "munibond subscription claim-proceeds KNGW26 --yes              # to the treasury (anyone may send it)",
        "munibond subscription claim-proceeds KNGW26 --to treasury_2 --yes  # the treasury names another wallet",
    ),
)
@click.argument("symbol")
@BOOK
@click.option("--to", "to", default=None, help="Wallet paid (alias or address; only the treasury may name one).")
@click.option("--by", "by", default="treasury", show_default=True, help="Account that signs.")
@confirm_options
@network_options
def claim_proceeds(
    symbol: str,
    book_number: int | None,
    to: str | None,
    by: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Pay the proceeds SYMBOL's book holds because the payment token refused them to the treasury at settlement.

    Without --to they go to the treasury (anyone may send that, e.g. once the token accepts the treasury again);
    the treasury itself may send them to another wallet with --to. Simulated before sending, so a refusal of the
    payment token is named in one line; a re-run after the claim sends nothing."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm

    arguments = _arguments(  # no wallet of a holder in the audit log: only whether --to names one
        symbol=symbol,
        book=book_number,
        to_another_wallet=to is not None,
        by=by,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with (
        audited("subscription claim-proceeds", arguments, manifest=manifest) as audit,
        connect(network, alias_book=alias_book, manifest=manifest) as session,
    ):
        book = offering.find_book(session, symbol, book_number)
        plan = offering.plan_proceeds_claim(book, session, by, to)
        _audit_begin(audit, session, plan.signer)
        money = book.money
        preview = Preview(
            f"{symbol}: claim the proceeds held by subscription book {book.number}"
            + ("" if plan.held else " (claimed already)"),
            [
                ("proceeds held", money(plan.held)),
                ("paid to", plan.to + (" (the treasury)" if plan.to.lower() == plan.treasury.lower() else "")),
                ("signed by", f"{by} ({plan.signer})"),
            ],
            1 if plan.held else 0,
        )
        if plan.held:
            _simulate_claim(book, plan.to, session.signers.account(by))
        if not confirm(preview, yes=yes, dry_run=dry_run):
            audit.outcome = "dry run" if dry_run else "nothing to send"
            if not plan.held:
                click.echo("the held proceeds were claimed already")
            return
        audit.sent([book.contract.claimProceeds(plan.to, sender=session.signers.account(by))])
        audit.totals = {"proceeds": plan.held}
        click.echo(f"{symbol}: {money(plan.held)} of held proceeds paid to {plan.to} (book {book.number})")


def _simulate_claim(book: Book, to: str, account: Any) -> None:
    """`claimProceeds(to)` as a call first: the checks passed, so a refusal is the payment token's, in one line."""
    from ape.exceptions import ContractLogicError

    from munibond.chain.refusals import describe

    try:
        book.contract.claimProceeds.call(to, sender=account)
    except ContractLogicError as exc:
        reason = describe(exc) or "reverted"
        raise InputError(
            f"the payment token refuses to pay the held proceeds to {to} ({reason}); the treasury may name another "
            "wallet with --to; nothing was sent",
            field="--to",
        ) from exc


@subscription.command(
    "recover",
    epilog=_examples(
        "munibond subscription recover KNGW26 investor_b investor_b2 --dry-run   # checks only; sends nothing",
        "munibond subscription recover KNGW26 0xLOST... 0xNEW... --yes --agent agent",
    ),
)
@click.argument("symbol")
@click.argument("lost")
@click.argument("new")
@BOOK
@click.option("--agent", default="agent", show_default=True, help="The series' transfer agent (signs).")
@confirm_options
@network_options
def recover(
    symbol: str,
    lost: str,
    new: str,
    book_number: int | None,
    agent: str,
    yes: bool,
    dry_run: bool,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Move the entry of the LOST wallet in SYMBOL's book (commitment, allotment, arrival place, held refund) to
    NEW, another wallet of the same investor, so that its units are minted and its cash refunded there.

    The series' transfer agent signs. Checked before sending: the signer's role, both wallets registered to one
    identity (the lost one still registered: recover the entry before the registrar removes it), NEW without an
    entry. A re-run once the entry is at NEW sends nothing."""
    from munibond.audit_log import audited
    from munibond.chain import offering
    from munibond.chain.session import connect
    from munibond.confirmation import Preview, confirm

    arguments = _arguments(  # the investor's wallets stay out of the audit log
        symbol=symbol,
        book=book_number,
        agent=agent,
        yes=yes,
        dry_run=dry_run,
        network=network,
        manifest=manifest,
    )
    with (
        audited("subscription recover", arguments, manifest=manifest) as audit,
        connect(network, alias_book=alias_book, manifest=manifest) as session,
    ):
        book = offering.find_book(session, symbol, book_number)
        signer = session.signers.address(agent)
        _audit_begin(audit, session, signer)
        plan = offering.plan_recovery(book, session, agent, lost, new)
        money, price = book.money, int(book.terms().price)
        preview = Preview(
            f"{symbol}: move an entry of subscription book {book.number} to the investor's new wallet"
            + (" (moved already)" if plan.done else ""),
            [
                ("lost wallet", f"{lost} ({plan.lost})"),
                ("new wallet", f"{new} ({plan.new})" + (f", identity {plan.identity}" if plan.identity else "")),
                ("commitment", f"{plan.units:,} units, {money(plan.units * price)}"),
                ("refund held", money(plan.held)),
                ("state", offering.PHASE_WORDS[book.phase()]),
                ("signed by", f"{agent} ({signer}), the transfer agent"),
            ],
            0 if plan.done else 1,
        )
        account = None if plan.done else session.signers.account(agent)
        if account is not None:
            book.contract.recoverCommitment.call(plan.lost, plan.new, sender=account)  # a refusal: one line
        if not confirm(preview, yes=yes, dry_run=dry_run):
            audit.outcome = "dry run" if dry_run else "nothing to send"
            if plan.done:
                click.echo(f"the entry of {plan.lost} is at {plan.new} already")
            return
        audit.sent([book.contract.recoverCommitment(plan.lost, plan.new, sender=account)])
        audit.totals = {"units": plan.units, "held": plan.held}
        click.echo(
            f"{symbol}: the entry of {plan.lost} ({plan.units:,} units) moved to {plan.new} (book {book.number}); "
            "the registrar may now remove the lost wallet"
        )
