"""A series' subscription books as the `munibond subscription` commands use them: opening one (deployment, the
series' minter role, the manifest record), finding a recorded book, reading it whole, the allotment file, and the
checks run before anything is sent (roles, window, phase, eligibility), each refused in one line.

A book is recorded under its series in the deployment manifest, `series[SYMBOL]["subscriptions"]`: a list (a
series sold in two tranches has two books), each `{"address", "block", "tx_hash"}`; the commands take the latest
unless `--book N` (numbered from 1) names another. Amounts stay integers (book units, payment-token base units).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from munibond.chain import subscription as sub
from munibond.chain.deployment import bond_token
from munibond.chain.erc20 import payment_token_at
from munibond.chain.events import logs_since
from munibond.chain.lookup import series_entry
from munibond.chain.preview import Money, money_of
from munibond.chain.refusals import RESTRICTION_CODES
from munibond.chain.series_terms import issuer_zone
from munibond.chain.session import Session
from munibond.clock import show_time
from munibond.csvinput import read_table, unique_wallet
from munibond.errors import InputError, Issue

ISSUER_ROLE = keccak(text="ISSUER_ROLE")
MINTER_ROLE = keccak(text="MINTER_ROLE")
TRANSFER_AGENT_ROLE = keccak(text="TRANSFER_AGENT_ROLE")
ZERO_ADDRESS = "0x" + "00" * 20
MANIFEST_KEY = "subscriptions"
ALLOTMENT_COLUMNS = ("wallet", "units")
PHASE_WORDS = {
    sub.Phase.OPEN: "open",
    sub.Phase.ALLOTTING: "allotting",
    sub.Phase.ALLOTTED: "allotted",
    sub.Phase.SETTLING: "settling",
    sub.Phase.SETTLED: "settled",
    sub.Phase.CANCELLED: "cancelled",
}
METHOD_WORDS = {
    sub.Method.NONE: "none yet",
    sub.Method.PRO_RATA: "pro rata",
    sub.Method.FIRST_COME: "arrival order",
    sub.Method.EXPLICIT: "from a file",
}


@dataclass(frozen=True)
class BookTerms:
    """What `open` deploys: the offering's terms (units and payment-token base units, Unix times)."""

    price: int
    unit_size: int
    offered: int
    open_time: int
    close_time: int
    settlement_time: int

    def matches(self, on_chain: Any, *, any_open_time: bool = False) -> bool:
        """Whether the book's terms `on_chain` are these (with `any_open_time`: whenever its window opened, for an
        `open` whose window opens "now")."""
        open_time = int(on_chain.openTime) if any_open_time else self.open_time
        return (
            int(on_chain.price),
            int(on_chain.unitSize),
            int(on_chain.offeredUnits),
            int(on_chain.openTime),
            int(on_chain.closeTime),
            int(on_chain.settlementTime),
        ) == (self.price, self.unit_size, self.offered, open_time, self.close_time, self.settlement_time)


@dataclass
class Book:
    """A recorded book of a series, with what every command reads of it."""

    symbol: str
    number: int  # 1-based, in the manifest's list
    contract: Any
    token: Any
    cash: Any
    money: Money
    zone: str
    start_block: int

    def terms(self) -> Any:
        return self.contract.terms()

    def phase(self) -> sub.Phase:
        return sub.Phase(int(self.contract.state().phase))

    def entries(self) -> list[sub.Commitment]:
        """Every investor still holding a commitment, in arrival order."""
        return sub.commitments(self.contract, self.wallets())

    def wallets(self) -> list[str]:
        return sub.investors(self.contract, self.start_block)

    def when(self, unix: int) -> str:
        return show_time(unix, self.zone, with_clock=True)

    def deadline(self) -> int:
        """The settlement deadline: after it the investors not settled are refunded (`settle` is refused)."""
        return int(self.contract.settlementDeadline())

    def held_proceeds(self) -> int:
        """Proceeds the payment token refused to the treasury, waiting in the book for `claimProceeds`."""
        return int(self.contract.heldProceeds())

    def lapse(self) -> str | None:
        """Why a book shown cancelled was not cancelled by the issuer (None otherwise): it lapsed, not allotted by
        the settlement time or not settled by the settlement deadline; its commitments not settled are refundable."""
        contract = self.contract
        if self.phase() != sub.Phase.CANCELLED or any(logs_since(contract.SubscriptionCancelled, self.start_block)):
            return None
        if any(logs_since(contract.AllotmentFinalized, self.start_block)):
            return f"lapsed: not settled by the settlement deadline {self.when(self.deadline())}"
        return f"lapsed: not allotted by the settlement time {self.when(int(self.terms().settlementTime))}"


def book_contract(session: Session, address: str) -> Any:
    from ape import chain

    return chain.contracts.instance_at(
        address, contract_type=session.project.SubscriptionBook.contract_type, detect_proxy=False, replace=True
    )


def recorded_books(session: Session, symbol: str) -> list[dict[str, Any]]:
    return list(series_entry(session, symbol).get(MANIFEST_KEY, []))


def find_book(session: Session, symbol: str, number: int | None = None) -> Book:
    """Book `number` (1-based; default the latest) of `symbol` from the manifest; refused when there is none."""
    entry = series_entry(session, symbol)
    books = recorded_books(session, symbol)
    if not books:
        raise InputError(
            f"{symbol} has no subscription book in the deployment manifest (run `munibond subscription open` first)",
            file=str(session.manifest.path),
            field="series",
        )
    index = len(books) if number is None else number
    if not 1 <= index <= len(books):
        raise InputError(f"{symbol} has {len(books)} subscription book(s), got --book {number}", field="--book")
    record = books[index - 1]
    cash = payment_token_at(entry["payment_token"])
    return Book(
        symbol,
        index,
        book_contract(session, record["address"]),
        bond_token(session.project, entry["token"]),
        cash,
        money_of(session, symbol, cash),
        issuer_zone(session, symbol),
        int(record["block"]),
    )


def same_book(session: Session, symbol: str, terms: BookTerms, *, any_open_time: bool) -> Book | None:
    """The latest recorded book of `symbol` when it has exactly `terms` (an `open` run again), else None."""
    if not recorded_books(session, symbol):
        return None
    latest = find_book(session, symbol)
    return latest if terms.matches(latest.terms(), any_open_time=any_open_time) else None


def open_book(
    session: Session,
    symbol: str,
    terms: BookTerms,
    *,
    admin: str,
    issuer: str,
    treasury: str,
    any_open_time: bool = False,
) -> Book:
    """Deploy the book of `terms` for `symbol` (unless the latest recorded book already has these terms: an
    interrupted `open` is finished, not repeated), record it, and grant it the series' minter role."""
    entry = series_entry(session, symbol)
    admin_account = session.signers.account(admin)
    token = bond_token(session.project, entry["token"])
    books = recorded_books(session, symbol)
    latest = same_book(session, symbol, terms, any_open_time=any_open_time)
    if latest is None:
        on_chain = (
            entry["token"],
            entry["payment_token"],
            session.signers.address(treasury),
            terms.price,
            terms.unit_size,
            terms.offered,
            terms.open_time,
            terms.close_time,
            terms.settlement_time,
        )
        contract = admin_account.deploy(
            session.project.SubscriptionBook, on_chain, admin_account.address, session.signers.address(issuer)
        )
        receipt = session.provider.get_receipt(contract.txn_hash)
        record = {"address": contract.address, "block": int(receipt.block_number), "tx_hash": str(contract.txn_hash)}
        session.manifest.series[symbol] = {**entry, MANIFEST_KEY: [*books, record]}
        session.manifest.save()
        latest = find_book(session, symbol)
    if not token.hasRole(MINTER_ROLE, latest.contract.address):
        token.grantRole(MINTER_ROLE, latest.contract.address, sender=admin_account)
    return latest


def check_admin(session: Session, symbol: str, admin: str) -> str:
    """`admin` must be the series' admin (it grants the book the minter role)."""
    token = bond_token(session.project, series_entry(session, symbol)["token"])
    address = session.signers.address(admin)
    if not token.hasRole(b"\x00" * 32, address):
        raise InputError(f"{admin} ({address}) is not the admin of {symbol}: nothing was sent", field="--admin")
    return address


def check_issuer(book: Book, session: Session, issuer: str) -> str:
    """`issuer` must hold the book's ISSUER_ROLE (allot, settle, cancel)."""
    address = session.signers.address(issuer)
    if not book.contract.hasRole(ISSUER_ROLE, address):
        raise InputError(
            f"{issuer} ({address}) does not hold the issuer role of {book.symbol}'s book {book.number}: "
            "nothing was sent",
            field="--issuer",
        )
    return address


def check_window(book: Book, now: int) -> None:
    terms = book.terms()
    if not int(terms.openTime) <= now < int(terms.closeTime):
        raise InputError(
            f"the subscription window of {book.symbol} is {book.when(int(terms.openTime))} to "
            f"{book.when(int(terms.closeTime))}; it is {book.when(now)}: nothing was sent",
            field="window",
        )
    if book.phase() != sub.Phase.OPEN:
        raise InputError(f"the book is {PHASE_WORDS[book.phase()]}: nothing was sent", field="phase")


def check_eligible(book: Book, investor: str, total_units: int) -> None:
    """The token would mint `total_units` book units to `investor` now (what `commit` requires)."""
    amount = total_units * int(book.terms().unitSize)
    code = int(book.token.detectTransferRestriction(ZERO_ADDRESS, investor, amount))
    if code != 0:
        words = RESTRICTION_CODES.get(code, f"restriction code {code}")
        raise InputError(
            f"{investor} cannot commit to {total_units:,} units in all: {words} (restriction code {code}); "
            "nothing was sent",
            field="--units",
        )


def check_allotment_time(book: Book, now: int) -> None:
    terms = book.terms()
    close, settlement = int(terms.closeTime), int(terms.settlementTime)
    if now < close:
        raise InputError(
            f"the subscription window is still open until {book.when(close)} (it is {book.when(now)}): allot after "
            "the close; nothing was sent",
            field="window",
        )
    if now >= settlement:
        raise InputError(
            f"the allotment deadline {book.when(settlement)} has passed: the book has lapsed and every commitment is "
            "refundable (`munibond subscription cancel`); nothing was sent",
            field="window",
        )


def check_settlement_time(book: Book, now: int) -> None:
    settlement = int(book.terms().settlementTime)
    phase = book.phase()
    deadline = int(book.contract.settlementDeadline())
    if now >= deadline and phase != sub.Phase.SETTLED:
        raise InputError(
            f"the settlement deadline {book.when(deadline)} has passed: every commitment not settled is refundable "
            "(`munibond subscription cancel`); nothing was sent",
            field="phase",
        )
    if phase not in (sub.Phase.ALLOTTED, sub.Phase.SETTLING, sub.Phase.SETTLED):
        raise InputError(
            f"the book is {PHASE_WORDS[phase]}: settle after `munibond subscription allot`; nothing was sent",
            field="phase",
        )
    if now < settlement:
        raise InputError(
            f"settlement is due at {book.when(settlement)} (it is {book.when(now)}): nothing was sent", field="phase"
        )


@dataclass(frozen=True)
class AllotmentRow:
    line: int
    wallet: str  # address, or alias:NAME until resolved
    units: int


def read_allotment_file(path: Path) -> list[AllotmentRow]:
    """An allotment file `wallet,units` (a 0x address or alias:NAME; whole units, 0 allowed), validated whole:
    one InputError naming file, line and field for every bad row."""
    file = str(path)
    rows, issues = read_table(path, ALLOTMENT_COLUMNS)
    seen: dict[str, int] = {}
    result: list[AllotmentRow] = []
    for line, (wallet_text, units_text) in rows:
        wallet = unique_wallet(wallet_text, seen, file, line, issues)
        if not units_text.isascii() or not units_text.isdigit():
            issues.append(
                Issue(f"must be a whole number of units (0 or more), got {units_text!r}", file, line, "units")
            )
            continue
        if wallet is not None:
            result.append(AllotmentRow(line, wallet, int(units_text)))
    if not result and not issues:
        issues.append(Issue("no allotment rows", file, 2, "(row)"))
    if issues:
        raise InputError.from_issues(sorted(issues, key=lambda issue: issue.line or 0))
    return result


def explicit_allotment(
    rows: list[AllotmentRow], path: Path, entries: list[sub.Commitment], offered: int, resolve: Any
) -> dict[str, int]:
    """The file's rows checked against the book (a wallet without a commitment, more than its commitment, more than
    the offer in all), every problem named by file, line and field."""
    file = str(path)
    by_wallet = {c.investor.lower(): c for c in entries}
    issues: list[Issue] = []
    allotment: dict[str, int] = {}
    for row in rows:
        try:
            wallet = resolve(row.wallet[len("alias:") :]) if row.wallet.startswith("alias:") else row.wallet
        except InputError as exc:
            issues.append(Issue(f"cannot resolve the alias: {exc.message}", file, row.line, "wallet"))
            continue
        entry = by_wallet.get(str(wallet).lower())
        if entry is None:
            issues.append(Issue(f"{wallet} has no commitment in the book", file, row.line, "wallet"))
        elif row.units > entry.units:
            issues.append(
                Issue(f"allots {row.units} units, more than the commitment of {entry.units}", file, row.line, "units")
            )
        else:
            allotment[entry.investor] = row.units
    if not issues and sum(allotment.values()) > offered:
        issues.append(Issue(f"allots {sum(allotment.values())} units, {offered} are offered", file, None, "units"))
    if issues:
        raise InputError.from_issues(sorted(issues, key=lambda issue: issue.line or 0))
    return allotment


def still_to_allot(book: Book, entries: list[sub.Commitment], plan: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The part of `plan` the book has not recorded yet (a run interrupted between batches is finished by the rest),
    refused in one line when what the book recorded differs from `plan`: an investor allotted other units by an
    earlier run (e.g. of another allotment file), or allotted units and absent from `plan`."""
    planned = {investor.lower(): units for investor, units in plan}
    for c in entries:
        if not c.is_allotted:
            continue
        wanted = planned.get(c.investor.lower(), 0)
        if wanted != c.allotted:
            raise InputError(
                f"{c.investor} was allotted {c.allotted:,} units by an earlier run of this allotment, this one allots "
                f"{wanted:,}: an allotment begun is finished with the same allotment (book {book.number}); nothing "
                "was sent",
                field="allotment",
            )
    allotted = {c.investor.lower() for c in entries if c.is_allotted}
    return [(investor, units) for investor, units in plan if investor.lower() not in allotted]


@dataclass(frozen=True)
class ProceedsClaim:
    """What `claim-proceeds` pays: `held` (0 when every held proceed was claimed already) to `to`."""

    held: int
    to: str
    treasury: str
    signer: str


def plan_proceeds_claim(book: Book, session: Session, by: str, to: str | None) -> ProceedsClaim:
    """The held proceeds of `book` and where they go: to the treasury, or with `to` to any wallet when the signer
    `by` is the treasury. Refused in one line when the book never held proceeds, or when someone other than the
    treasury names another wallet; `held` 0 when they were all claimed already (nothing to send)."""
    treasury = str(book.terms().treasury)
    signer = session.signers.address(by)
    target = treasury if to is None else str(session.signers.address(to))
    held = book.held_proceeds()
    if held == 0:
        if any(logs_since(book.contract.ProceedsHeld, book.start_block)):
            return ProceedsClaim(0, target, treasury, signer)
        raise InputError(
            f"{book.symbol}'s book {book.number} holds no proceeds: the payment token never refused the treasury "
            f"({treasury}); nothing was sent",
            field="book",
        )
    if target.lower() != treasury.lower() and str(signer).lower() != treasury.lower():
        raise InputError(
            f"{by} ({signer}) is not the treasury of {book.symbol}'s book {book.number} ({treasury}): only the "
            "treasury may send the held proceeds to another wallet; without --to anyone may push them to the treasury; "
            "nothing was sent",
            field="--to",
        )
    return ProceedsClaim(held, target, treasury, signer)


@dataclass(frozen=True)
class Recovery:
    """A lost wallet's entry to move to the investor's new wallet (`done`: it is there already)."""

    lost: str
    new: str
    identity: str
    units: int
    allotted: int
    held: int
    done: bool


def _entry(book: Book, wallet: str) -> tuple[Any, int]:
    return book.contract.commitmentOf(wallet), int(book.contract.heldRefund(wallet))


def plan_recovery(book: Book, session: Session, agent: str, lost: str, new: str) -> Recovery:
    """Checks `recoverCommitment(lost, new)` as the book will, each failure one line naming the problem: the signer
    holds the series' transfer-agent role, the lost wallet has an entry and is still registered, both wallets are
    one identity's, the new wallet has no entry. An entry already moved from `lost` to `new` is `done`."""
    signer = session.signers.address(agent)
    lost_wallet, new_wallet = str(session.signers.address(lost)), str(session.signers.address(new))
    if lost_wallet.lower() == new_wallet.lower():
        raise InputError(f"the lost and the new wallet are the same ({lost_wallet}): nothing was sent", field="NEW")
    if not book.token.hasRole(TRANSFER_AGENT_ROLE, signer):
        raise InputError(
            f"{agent} ({signer}) is not the transfer agent of {book.symbol}: only the series' transfer agent moves a "
            "lost wallet's entry; nothing was sent",
            field="--agent",
        )
    lost_entry, lost_held = _entry(book, lost_wallet)
    new_entry, new_held = _entry(book, new_wallet)
    if int(lost_entry.units) == 0 and lost_held == 0:
        moved = [
            m.new for m in sub.recoveries(book.contract, book.start_block) if m.lost.lower() == lost_wallet.lower()
        ]
        if moved and moved[-1].lower() == new_wallet.lower():
            return Recovery(lost_wallet, new_wallet, "", int(new_entry.units), int(new_entry.allotted), new_held, True)
        raise InputError(
            f"{lost} ({lost_wallet}) has no entry in {book.symbol}'s book {book.number} (no commitment, no held refund)"
            + (f": it was moved to {moved[-1]}" if moved else "")
            + "; nothing was sent",
            field="LOST",
        )
    registry = session.project.InvestorRegistry.at(str(book.token.identityRegistry()))
    lost_identity, new_identity = str(registry.identity(lost_wallet)), str(registry.identity(new_wallet))
    if int(lost_identity, 16) == 0:
        raise InputError(
            f"{lost} ({lost_wallet}) is no longer registered in the investor registry: the book checks both wallets' "
            "identity, so recover the entry before the registrar removes the lost wallet (register it again to the "
            "investor's identity first); nothing was sent",
            field="LOST",
        )
    if lost_identity.lower() != new_identity.lower():
        whose = "is not registered" if int(new_identity, 16) == 0 else f"belongs to identity {new_identity}"
        raise InputError(
            f"{new} ({new_wallet}) {whose}, not to the identity of {lost} ({lost_identity}): an entry moves only to "
            "another wallet of the same investor; nothing was sent",
            field="NEW",
        )
    if int(new_entry.units) != 0 or new_held != 0:
        raise InputError(
            f"{new} ({new_wallet}) already has an entry in {book.symbol}'s book {book.number} "
            f"({int(new_entry.units):,} units committed, refund held {book.money(new_held)}): two entries are not "
            "merged; nothing was sent",
            field="NEW",
        )
    return Recovery(
        lost_wallet, new_wallet, lost_identity, int(lost_entry.units), int(lost_entry.allotted), lost_held, False
    )
