"""Secondary trades through the shared `TradeSettlement` contract (docs/settlement.md), as the `munibond trade`
commands run them: set-up, agreement by the parties' EIP-712 signatures, settlement delivery versus payment,
release against a bank payment id, cancellation, and the list of trades.

Every step runs its checks first and refuses in one line (`InputError`) before anything is sent: a trade that is
not open, has expired or is of another mode; a buyer who is not a verified investor; units the seller does not
hold free; a compliance rule of the series that refuses the buyer. The contract keeps one status byte per trade:
the terms of an agreed trade are read back from its `TradeAgreed` event, so a trade is named by its id (or a
unique prefix of it). A hash-locked trade's secret is read from a file or the environment, never taken on the command
line, and appears in no preview, message or audit entry (it is public only once the claim publishes it on chain).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from munibond import clock
from munibond.chain.deployment import bond_token, record_deployment
from munibond.chain.erc20 import payment_token_at
from munibond.chain.events import logs_since
from munibond.chain.lookup import investor_registry, require_manifest_file, series_entry
from munibond.chain.refusals import RESTRICTION_CODES
from munibond.chain.series_terms import issuer_zone, series_currency
from munibond.chain.session import Session
from munibond.confirmation import Preview
from munibond.errors import InputError
from munibond.trades import HASH_LOCK, OFFCHAIN_CASH, ONCHAIN_CASH, ZERO_ADDRESS, ZERO_REF, Trade, hash_lock

CONTRACT = "TradeSettlement"
FREEZER_ROLE = keccak(text="FREEZER_ROLE")
TRANSFER_AGENT_ROLE = keccak(text="TRANSFER_AGENT_ROLE")
ADMIN_ROLE = b"\x00" * 32

NONE, LOCKED, APPROVED, SETTLED, CANCELLED, RELEASED = range(6)
STATUS_WORDS = {
    NONE: "not agreed",
    LOCKED: "pending",
    APPROVED: "approved",
    SETTLED: "settled",
    CANCELLED: "cancelled",
    RELEASED: "released",
}
MODE_WORDS = {0: "on-chain cash (DvP)", 1: "bank transfer (payment id)", 2: "hash lock"}
MIN_ID_PREFIX = 6  # hex digits of a trade id the commands accept as its name
SECRET_ENV = "MUNIBOND_TRADE_SECRET"
_HEX32 = re.compile(r"^(0x)?([0-9a-fA-F]{64})$")
_DURATION = re.compile(r"^(\d+)([dhm])$")
_UNITS_S = {"d": 86_400, "h": 3_600, "m": 60}


@dataclass(frozen=True)
class Cash:
    """How a trade's `price` reads in currency units: payment-token base units (mode 0) or minor units (mode 1)."""

    decimals: int
    minor_units: int
    code: str

    def text(self, amount: int) -> str:
        from munibond.chain.funding import currency_text

        return f"{currency_text(amount, self.decimals, self.minor_units)} {self.code}"

    def amount(self, text: str, *, option: str) -> int:
        """`text` (a decimal amount in currency units) as an exact positive integer amount."""
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise InputError(f"must be an amount like 253125 or 1234.50, got {text!r}", field=option) from None
        scaled = value.scaleb(self.decimals) if value.is_finite() else value
        if not value.is_finite() or scaled != scaled.to_integral_value() or scaled <= 0:
            raise InputError(
                f"must be a positive amount in {self.code} with at most {self.decimals} decimals, got {text}",
                field=option,
            )
        return int(scaled)


@dataclass(frozen=True)
class AgreedTrade:
    """A trade the contract knows: its terms (from `TradeAgreed`), status and, once settled, when."""

    trade_id: bytes
    trade: Trade
    symbol: str | None
    status: int
    block: int
    settled_at: int | None = None
    payment_id: bytes | None = None

    @property
    def id_hex(self) -> str:
        return "0x" + self.trade_id.hex()

    @property
    def is_open(self) -> bool:
        return self.status in (LOCKED, APPROVED)

    def state(self, now: int) -> str:
        """pending / approved / expired (open but past its expiry) / settled / cancelled / released."""
        if self.is_open and now > self.trade.expiry:
            return "expired"
        return STATUS_WORDS[self.status]


@dataclass
class Plan:
    """What a step will send: the preview, then `send()` runs the transactions in order."""

    preview: Preview
    steps: list[tuple[str, Any]] = field(default_factory=list)  # (what, callable returning a receipt)
    trade_id: bytes = b""

    def send(self) -> list[Any]:
        return [action() for _what, action in self.steps]


# ------------------------------------------------------------------------------------------------ lookups


def settlement_contract(session: Session) -> Any:
    """The workspace's TradeSettlement (manifest `contracts.TradeSettlement`)."""
    require_manifest_file(session)
    record = session.manifest.contracts.get(CONTRACT)
    if record is None:
        raise InputError(
            "no TradeSettlement in the deployment manifest: run `munibond trade setup SYMBOL` first",
            file=str(session.manifest.path),
        )
    return session.project.TradeSettlement.at(record.address)


def symbol_of(session: Session, series: str) -> str | None:
    for symbol, entry in session.manifest.series.items():
        if str(entry.get("token", "")).lower() == series.lower():
            return symbol
    return None


def cash_of(session: Session, symbol: str, mode: int, payment_token: str) -> Cash:
    currency = series_currency(session, symbol)
    if mode == ONCHAIN_CASH:
        decimals = int(payment_token_at(payment_token).decimals())
        return Cash(decimals, currency.minor_units, currency.code)
    return Cash(currency.minor_units, currency.minor_units, currency.code)


def payment_token_of(session: Session, symbol: str) -> str:
    entry = series_entry(session, symbol)
    recorded = entry.get("payment_token")
    if recorded:
        return str(recorded)
    currency = str(bond_token(session.project, entry["token"]).currency())
    if int(currency, 16) == 0:
        raise InputError(f"{symbol} names no payment token (manifest or on chain)", field="series")
    return currency


def payment_reference(text: str) -> bytes:
    """The 32 bytes a payment id is recorded as: a 0x-prefixed 32-byte hex as it is, else keccak256 of the text
    (the bank transfer's reference, as `munibond bank` records references)."""
    stripped = text.strip()
    if not stripped:
        raise InputError("a payment id must not be empty", field="--payment-id")
    if re.fullmatch(r"0x[0-9a-fA-F]{64}", stripped):
        return bytes.fromhex(stripped[2:])
    return keccak(text=stripped)


def parse_hash_lock(text: str) -> bytes:
    """The hash lock `H = sha256(secret)` of a hash-locked trade: 32 bytes as 0x + 64 hex digits, not zero."""
    match = _HEX32.match(text.strip())
    if not match or int(match.group(2), 16) == 0:
        raise InputError(f"must be a SHA-256 hash, 0x and 64 hex digits (not zero), got {text!r}", field="--hash-lock")
    return bytes.fromhex(match.group(2))


def read_secret(secret_file: Path | None, environ: Mapping[str, str]) -> bytes:
    """The 32-byte secret of a hash-locked trade, written as 64 hex digits (0x optional, surrounding white space
    ignored) in `secret_file`, or else in `$MUNIBOND_TRADE_SECRET`; never from the command line (shell history,
    `ps`). Error messages never repeat it."""
    if secret_file is not None:
        try:
            text = secret_file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot read the secret: {exc.strerror}", file=str(secret_file)) from None
        where = {"file": str(secret_file)}
    else:
        value = environ.get(SECRET_ENV)
        if not value:
            raise InputError(f"no secret: give --secret-file FILE or set {SECRET_ENV}", field="--secret-file")
        text, where = value, {"field": SECRET_ENV}
    match = _HEX32.match(text.strip())
    if not match:
        raise InputError("the secret must be 32 bytes written as 64 hex digits (0x optional)", **where)
    return bytes.fromhex(match.group(2))


def parse_expiry(text: str, now: int, tz: str) -> int:
    """`2d`, `36h`, `90m` after the chain's clock; a date (the end of that day in the issuer's zone); or a local
    date and time `2027-03-31T15:00`."""
    match = _DURATION.match(text.strip())
    if match:
        return now + int(match.group(1)) * _UNITS_S[match.group(2)]
    try:
        if len(text) == 10:
            return clock.day_end(dt.date.fromisoformat(text), tz)
        return clock.to_unix(dt.datetime.fromisoformat(text), tz)
    except ValueError:
        raise InputError(
            f"must be a duration like 2d or 36h, a date like 2027-03-31 or a time like 2027-03-31T15:00, got {text!r}",
            field="--expires",
        ) from None


def _trade_of(struct: Any) -> Trade:
    def part(name: str, index: int) -> Any:
        return getattr(struct, name) if hasattr(struct, name) else struct[index]

    return Trade(
        series=to_checksum_address(str(part("series", 0))),
        seller=to_checksum_address(str(part("seller", 1))),
        buyer=to_checksum_address(str(part("buyer", 2))),
        units=int(part("units", 3)),
        payment_token=to_checksum_address(str(part("paymentToken", 4))),
        price=int(part("price", 5)),
        expiry=int(part("expiry", 6)),
        mode=int(part("mode", 7)),
        payment_ref=bytes(part("paymentRef", 8)),
        confirmer=to_checksum_address(str(part("confirmer", 9))),
        nonce=int(part("nonce", 10)),
    )


def agreed_trades(session: Session, settlement: Any) -> list[AgreedTrade]:
    """Every trade agreed on `settlement`, oldest first, with its status now."""
    start = session.manifest.contracts[CONTRACT].block
    settled = {
        bytes(log.tradeId): (int(log.settledAt), bytes(log.paymentId))
        for log in logs_since(settlement.TradeSettled, start)
    }
    out = []
    for log in logs_since(settlement.TradeAgreed, start):
        trade_id = bytes(log.tradeId)
        trade = _trade_of(log.trade)
        when, payment = settled.get(trade_id, (None, None))
        out.append(
            AgreedTrade(
                trade_id,
                trade,
                symbol_of(session, trade.series),
                int(settlement.tradeStatus(trade_id)),
                int(log.block_number),
                when,
                payment,
            )
        )
    return out


def find_trade(session: Session, settlement: Any, reference: str) -> AgreedTrade:
    """The agreed trade whose id is `reference` or starts with it (at least 6 hex digits)."""
    text = reference.lower().removeprefix("0x")
    if not re.fullmatch(r"[0-9a-f]+", text) or len(text) < MIN_ID_PREFIX:
        raise InputError(
            f"a trade id is hex (at least {MIN_ID_PREFIX} digits of it, see `munibond trade list`), got {reference!r}",
            field="trade",
        )
    matches = [t for t in agreed_trades(session, settlement) if t.trade_id.hex().startswith(text)]
    if not matches:
        raise InputError(f"no agreed trade with id 0x{text}… (see `munibond trade list`)", field="trade")
    if len(matches) > 1:
        raise InputError(f"0x{text} names {len(matches)} trades: give more digits of the id", field="trade")
    return matches[0]


def _name(session: Session, address: str) -> str:
    for alias in session.signers.book.indexes:
        try:
            if session.signers.address(alias) == address:
                return f"{alias} ({address})"
        except InputError:
            continue
    return address


def _when(unix: int, tz: str) -> str:
    return clock.show_time(unix, tz, with_clock=True)


def _trade_lines(session: Session, symbol: str, t: Trade, cash: Cash, tz: str) -> list[tuple[str, str]]:
    token = bond_token(session.project, t.series)
    face = int(token.denomination()) * t.units
    currency = series_currency(session, symbol)
    from munibond.chain.funding import currency_text

    lines = [
        ("series", symbol),
        ("seller", _name(session, t.seller)),
        ("buyer", _name(session, t.buyer)),
        ("units", f"{t.units:,} (face value {currency_text(face, currency.minor_units, currency.minor_units)} "
                  f"{currency.code})"),
        ("price", cash.text(t.price)),
        ("cash", MODE_WORDS[t.mode]),
    ]  # fmt: skip
    if t.mode == OFFCHAIN_CASH:
        ref = "named at confirmation" if t.payment_ref == ZERO_REF else "0x" + t.payment_ref.hex()
        lines.append(("payment id", ref))
        if int(t.confirmer, 16):
            lines.append(("confirmer", _name(session, t.confirmer)))
    if t.mode == HASH_LOCK:
        lines.append(("hash lock", "0x" + t.payment_ref.hex() + " (SHA-256; the same secret releases the cash)"))
    lines.append(("expires", _when(t.expiry, tz)))
    return lines


# ------------------------------------------------------------------------------------------------ set-up


def setup_plan(
    session: Session,
    symbols: list[str],
    *,
    deployer: str,
    admin: str,
    require_approval: bool,
) -> Plan:
    """Deploy the settlement contract once (recorded in the manifest) and let it lock units of each series
    (FREEZER_ROLE, granted by the series admin); optionally require the transfer agent's approval per series."""
    require_manifest_file(session)
    record = session.manifest.contracts.get(CONTRACT)
    existing = None
    if record is not None and len(session.provider.get_code(record.address)) > 0:
        existing = session.project.TradeSettlement.at(record.address)
    admin_account = session.signers.account(admin)
    holder: dict[str, Any] = {"contract": existing}
    plan = Plan(Preview("trade setup"))
    lines = plan.preview.lines
    if existing is None:
        deployer_account = session.signers.account(deployer)
        lines.append(("deploy", f"TradeSettlement (by {deployer})"))

        def deploy() -> Any:
            contract = deployer_account.deploy(session.project.TradeSettlement)
            record_deployment(session.manifest, CONTRACT, CONTRACT, contract)
            holder["contract"] = contract
            return contract.txn_hash

        plan.steps.append(("deploy", deploy))
    else:
        lines.append(("settlement", f"TradeSettlement at {existing.address} (already deployed)"))
    for symbol in symbols:
        token = bond_token(session.project, series_entry(session, symbol)["token"])
        if not token.hasRole(ADMIN_ROLE, admin_account.address):
            raise InputError(f"{admin} is not admin of {symbol}: it cannot grant the freezer role", field="--admin")
        if existing is None or not token.hasRole(FREEZER_ROLE, existing.address):
            lines.append((symbol, "grant the freezer role (the contract locks and unlocks units of agreed trades)"))
            plan.steps.append(
                (
                    symbol,
                    lambda token=token: token.grantRole(FREEZER_ROLE, holder["contract"].address, sender=admin_account),
                )
            )
        else:
            lines.append((symbol, "served already"))
        if require_approval and (existing is None or not existing.approvalRequired(token.address)):
            lines.append((f"{symbol} approval", "settlement needs the transfer agent's approval"))
            plan.steps.append(
                (
                    f"{symbol} approval",
                    lambda token=token: holder["contract"].setApprovalRequired(
                        token.address, True, sender=admin_account
                    ),
                )
            )
    plan.preview = Preview(plan.preview.title, lines, len(plan.steps))
    return plan


# ------------------------------------------------------------------------------------------------ agreement


def _served(session: Session, settlement: Any, symbol: str, token: Any) -> None:
    if not token.hasRole(FREEZER_ROLE, settlement.address):
        raise InputError(
            f"the settlement contract does not serve {symbol} yet: run `munibond trade setup {symbol}`",
            field="series",
        )


def _check_parties_now(session: Session, symbol: str, token: Any, t: Trade) -> None:
    """The checks that hold whatever the trade's state: pause, verification and freezes of both parties."""
    registry = investor_registry(session)
    if bool(token.paused()):
        raise InputError(f"transfers of {symbol} are suspended (`munibond transfers resume`): nothing was sent")
    if not registry.isVerified(t.buyer):
        raise InputError(
            f"the buyer {_name(session, t.buyer)} is not a verified investor (registered, KYC valid): nothing was sent",
            field="buyer",
        )
    if not registry.isVerified(t.seller):
        raise InputError(
            f"the seller {_name(session, t.seller)} is not a verified investor: nothing was sent", field="seller"
        )
    for role, wallet in (("buyer", t.buyer), ("seller", t.seller)):
        if bool(token.isFrozen(wallet)):
            raise InputError(f"the {role} {_name(session, wallet)} is frozen on {symbol}: nothing was sent", field=role)


def _free_units(token: Any, wallet: str) -> int:
    return int(token.balanceOf(wallet)) - int(token.getFrozenTokens(wallet)) - int(token.pendingRetirement(wallet))


def _signature(session: Session, party: str, t: Trade, settlement: Any, given: str | None, submitter: str) -> bytes:
    """The party's signature: given, empty when the party submits itself, else made with its account."""
    address = t.seller if party == "seller" else t.buyer
    if address == submitter:
        return b""
    if given:
        text = given.removeprefix("0x")
        if not re.fullmatch(r"[0-9a-fA-F]{130}", text):
            raise InputError("a signature is 65 bytes in hex (130 digits)", field=f"--{party}-signature")
        return bytes.fromhex(text)
    from eth_account.messages import encode_typed_data

    account = session.signers.account(address)
    signable = encode_typed_data(full_message=t.typed_data(settlement.address, int(session.chain.chain_id)))
    signed = account.sign_message(signable)
    if signed is None:
        raise InputError(f"the {party}'s account cannot sign typed data: give --{party}-signature", field=party)
    return bytes(signed.encode_rsv())


def agree_plan(
    session: Session,
    symbol: str,
    *,
    seller: str,
    buyer: str,
    units: int,
    price: str | None,
    unit_price: str | None,
    expires: str,
    bank: bool,
    payment_id: str | None,
    confirmer: str | None,
    nonce: int,
    submitter: str,
    seller_signature: str | None = None,
    buyer_signature: str | None = None,
    lock: bytes | None = None,
) -> Plan:
    """Check a trade and plan its agreement: the seller's approval of the settlement contract on the series when
    short, then `agree` with both parties' EIP-712 signatures, sent by `submitter` (a broker or the transfer
    agent; a party submitting needs no signature of its own). With `lock` (a SHA-256 hash) the trade is hash-locked:
    the cash is paid on another ledger and the units are claimed with the secret (`claim_plan`)."""
    entry = series_entry(session, symbol)
    settlement = settlement_contract(session)
    token = bond_token(session.project, entry["token"])
    _served(session, settlement, symbol, token)
    tz = issuer_zone(session, symbol)
    if units <= 0:
        raise InputError(f"must be a positive number of units, got {units}", field="--units")
    if (price is None) == (unit_price is None):
        raise InputError("give the trade's total --price or its --unit-price (one of them)", field="--price")
    if not bank and payment_id is not None:
        raise InputError("a payment id is for a trade paid by bank transfer (--bank)", field="--payment-id")
    if not bank and confirmer is not None:
        raise InputError("a confirmer is for a trade paid by bank transfer (--bank)", field="--confirmer")
    if lock is not None and (bank or payment_id is not None or confirmer is not None):
        raise InputError("a hash-locked trade has no bank payment id or confirmer", field="--hash-lock")
    mode = HASH_LOCK if lock is not None else OFFCHAIN_CASH if bank else ONCHAIN_CASH
    cash_token = payment_token_of(session, symbol)
    cash = cash_of(session, symbol, mode, cash_token)
    total = (
        cash.amount(price, option="--price")
        if price is not None
        else units * cash.amount(unit_price or "", option="--unit-price")
    )
    seller_address, buyer_address = session.signers.address(seller), session.signers.address(buyer)
    if seller_address == buyer_address:
        raise InputError("seller and buyer are the same wallet", field="--buyer")
    if confirmer and session.signers.address(confirmer) == buyer_address:
        raise InputError("the confirmer is the buyer: it would confirm its own payment", field="--confirmer")
    now = session.now()
    expiry = parse_expiry(expires, now, tz)
    if expiry <= now:
        raise InputError(f"the expiry {_when(expiry, tz)} has passed on the chain's clock", field="--expires")
    t = Trade(
        series=token.address,
        seller=seller_address,
        buyer=buyer_address,
        units=units,
        payment_token=cash_token,
        price=total,
        expiry=expiry,
        mode=mode,
        payment_ref=lock if lock is not None else payment_reference(payment_id) if payment_id is not None else ZERO_REF,
        confirmer=session.signers.address(confirmer) if confirmer else ZERO_ADDRESS,
        nonce=nonce,
    )
    trade_id = bytes(settlement.tradeId(t.as_struct()))
    if int(settlement.tradeStatus(trade_id)) != NONE:
        raise InputError(f"trade 0x{trade_id.hex()} was agreed before: give another --nonce", field="--nonce")
    _check_parties_now(session, symbol, token, t)
    free = _free_units(token, seller_address)
    if free < units:
        raise InputError(
            f"the seller {_name(session, seller_address)} holds {free} free units of {symbol} "
            f"(not frozen, locked or retiring), fewer than {units}: nothing was sent",
            field="--units",
        )
    code = int(token.detectTransferRestriction(seller_address, buyer_address, units))
    if code:
        raise InputError(
            f"{symbol} refuses this transfer now: {RESTRICTION_CODES.get(code, f'restriction code {code}')} "
            "(checked again at settlement): nothing was sent",
            field="--buyer",
        )

    plan = Plan(Preview(f"trade agree {symbol}: trade 0x{trade_id.hex()}"), trade_id=trade_id)
    plan.preview.lines.extend(_trade_lines(session, symbol, t, cash, tz))
    plan.preview.lines.append(("nonce", str(nonce)))
    open_units = sum(
        a.trade.units
        for a in agreed_trades(session, settlement)
        if a.is_open and a.trade.seller == seller_address and a.trade.series == token.address
    )
    needed = open_units + units
    if int(token.allowance(seller_address, settlement.address)) < needed:
        seller_account = session.signers.account(seller)
        plan.preview.lines.append(("seller approval", f"{needed} units for the settlement contract (by the seller)"))
        plan.steps.append(("approve", lambda: token.approve(settlement.address, needed, sender=seller_account)))
    sender = session.signers.account(submitter)
    seller_sig = _signature(session, "seller", t, settlement, seller_signature, sender.address)
    buyer_sig = _signature(session, "buyer", t, settlement, buyer_signature, sender.address)
    plan.preview.lines.append(("submitted by", f"{submitter}, with both parties' EIP-712 signatures"))
    plan.preview.lines.append(("locks", f"{units} units in the seller's wallet until settlement or expiry"))
    plan.steps.append(("agree", lambda: settlement.agree(t.as_struct(), seller_sig, buyer_sig, sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


# ------------------------------------------------------------------------------------------------ settlement


def _settled_already(session: Session, agreed: AgreedTrade, mode: int, command: str) -> Plan | None:
    """A plan sending nothing when `agreed` was settled already the way `command` settles it (a re-run after an
    interruption: the units and cash moved once, the command reports it and exits 0), else None."""
    t = agreed.trade
    if agreed.status != SETTLED or t.mode != mode or agreed.symbol is None:
        return None
    tz = issuer_zone(session, agreed.symbol)
    cash = cash_of(session, agreed.symbol, t.mode, t.payment_token)
    plan = Plan(Preview(f"{command} {agreed.symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    plan.preview.lines.extend(_trade_lines(session, agreed.symbol, t, cash, tz))
    when = "" if agreed.settled_at is None else f" at {_when(agreed.settled_at, tz)}"
    plan.preview.lines.append(("status", f"settled already{when}: {t.units} units and the price moved once"))
    return plan


def _open_trade(session: Session, agreed: AgreedTrade, mode: int) -> tuple[AgreedTrade, str, Any, str]:
    t = agreed.trade
    symbol = agreed.symbol
    if symbol is None:
        raise InputError(f"trade {agreed.id_hex} is of a series not in this manifest ({t.series})", field="trade")
    tz = issuer_zone(session, symbol)
    if not agreed.is_open:
        raise InputError(f"trade {agreed.id_hex} is {STATUS_WORDS[agreed.status]}: nothing was sent", field="trade")
    if session.now() > t.expiry:
        raise InputError(
            f"trade {agreed.id_hex} expired at {_when(t.expiry, tz)}: it can no longer settle (its units are released "
            "by `munibond trade cancel`): nothing was sent",
            field="trade",
        )
    if t.mode != mode:
        hint = {OFFCHAIN_CASH: "`munibond trade confirm-payment`", HASH_LOCK: "`munibond trade claim`"}.get(
            t.mode, "`munibond trade settle`"
        )
        raise InputError(
            f"trade {agreed.id_hex} is paid by {MODE_WORDS[t.mode]}: it settles with {hint}", field="trade"
        )
    return agreed, symbol, bond_token(session.project, t.series), tz


def _approval_counts(session: Session, settlement: Any, agreed: AgreedTrade) -> bool:
    """Whether the trade carries an approval whose giver still holds the series' transfer agent role."""
    if agreed.status != APPROVED:
        return False
    approver = settlement.tradeApprover(agreed.trade_id)
    return bool(bond_token(session.project, agreed.trade.series).hasRole(TRANSFER_AGENT_ROLE, approver))


def _check_approval(session: Session, settlement: Any, agreed: AgreedTrade, symbol: str, sender: Any) -> None:
    token_address = agreed.trade.series
    if (
        settlement.approvalRequired(token_address)
        and not _approval_counts(session, settlement, agreed)
        and not bond_token(session.project, token_address).hasRole(TRANSFER_AGENT_ROLE, sender.address)
    ):
        raise InputError(
            f"{symbol} requires the transfer agent's approval of trade {agreed.id_hex} (or the transfer agent "
            "sends the settlement): nothing was sent",
            field="--by",
        )


def settle_plan(session: Session, reference: str, *, submitter: str) -> Plan:
    """Check an on-chain-cash trade and plan its settlement: the buyer's cash approval when short, then `settle`
    (both legs in one transaction)."""
    settlement = settlement_contract(session)
    agreed = find_trade(session, settlement, reference)
    done = _settled_already(session, agreed, ONCHAIN_CASH, "trade settle")
    if done is not None:
        return done
    agreed, symbol, token, tz = _open_trade(session, agreed, ONCHAIN_CASH)
    t = agreed.trade
    sender = session.signers.account(submitter)
    _check_approval(session, settlement, agreed, symbol, sender)
    _check_parties_now(session, symbol, token, t)
    cash_token = payment_token_at(t.payment_token)
    cash = cash_of(session, symbol, ONCHAIN_CASH, t.payment_token)
    balance = int(cash_token.balanceOf(t.buyer))
    if balance < t.price:
        raise InputError(
            f"the buyer {_name(session, t.buyer)} holds {cash.text(balance)}, less than the price "
            f"{cash.text(t.price)}: nothing was sent",
            field="trade",
        )
    plan = Plan(Preview(f"trade settle {symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    plan.preview.lines.extend(_trade_lines(session, symbol, t, cash, tz))
    if int(cash_token.allowance(t.buyer, settlement.address)) < t.price:
        buyer_account = session.signers.account(t.buyer)
        approval = f"{cash.text(t.price)} for the settlement contract (by the buyer)"
        plan.preview.lines.append(("buyer approval", approval))
        plan.steps.append(("approve", lambda: cash_token.approve(settlement.address, t.price, sender=buyer_account)))
    else:
        settlement.settle.call(t.as_struct(), sender=sender)  # a refusal now is named in one line, nothing sent
    plan.preview.lines.append(
        ("delivers", f"{t.units} units to the buyer and {cash.text(t.price)} to the seller, in one transaction")
    )
    plan.preview.lines.append(("sent by", submitter))
    plan.steps.append(("settle", lambda: settlement.settle(t.as_struct(), sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


def confirm_payment_plan(session: Session, reference: str, payment_id: str, *, confirmer: str) -> Plan:
    """Check a bank-paid trade and plan the release of its units to the buyer on the seller's (or its bank's)
    confirmation of the payment under `payment_id`."""
    settlement = settlement_contract(session)
    agreed = find_trade(session, settlement, reference)
    reference_bytes = payment_reference(payment_id)
    done = _settled_already(session, agreed, OFFCHAIN_CASH, "trade confirm-payment")
    if done is not None:
        if agreed.payment_id is not None and agreed.payment_id != reference_bytes:
            raise InputError(
                f"trade {agreed.id_hex} was settled already under payment id 0x{agreed.payment_id.hex()}, not "
                f"{payment_id!r}: nothing was sent",
                field="payment-id",
            )
        return done
    agreed, symbol, token, tz = _open_trade(session, agreed, OFFCHAIN_CASH)
    t = agreed.trade
    sender = session.signers.account(confirmer)
    allowed = {t.seller} | ({t.confirmer} if int(t.confirmer, 16) else set())
    if sender.address not in allowed:
        raise InputError(
            f"{confirmer} is neither the seller nor the trade's confirmer: only they confirm the payment",
            field="--by",
        )
    if t.payment_ref != ZERO_REF and reference_bytes != t.payment_ref:
        raise InputError(
            f"payment id {payment_id!r} is not the one agreed for trade {agreed.id_hex}: nothing was sent",
            field="payment-id",
        )
    confirmed = bytes(settlement.paymentTrade(t.seller, reference_bytes))
    if confirmed != ZERO_REF:
        raise InputError(
            f"payment id {payment_id!r} already confirmed the seller's trade 0x{confirmed.hex()}: one payment "
            "releases one trade: nothing was sent",
            field="payment-id",
        )
    _check_approval(session, settlement, agreed, symbol, sender)
    _check_parties_now(session, symbol, token, t)
    settlement.confirmPayment.call(t.as_struct(), reference_bytes, sender=sender)
    cash = cash_of(session, symbol, OFFCHAIN_CASH, t.payment_token)
    plan = Plan(Preview(f"trade confirm-payment {symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    plan.preview.lines.extend(_trade_lines(session, symbol, t, cash, tz))
    plan.preview.lines.append(("payment received", f"{cash.text(t.price)} under payment id {payment_id!r}"))
    plan.preview.lines.append(("delivers", f"{t.units} units to the buyer"))
    plan.preview.lines.append(("confirmed by", confirmer))
    plan.steps.append(("confirm", lambda: settlement.confirmPayment(t.as_struct(), reference_bytes, sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


def claim_plan(session: Session, reference: str, secret: bytes, *, submitter: str) -> Plan:
    """Check a hash-locked trade and plan its claim with `secret`: the units go to the buyer and the secret is
    published on chain (`SecretRevealed`), where the seller reads it to take the cash on the other ledger."""
    settlement = settlement_contract(session)
    agreed = find_trade(session, settlement, reference)
    done = _settled_already(session, agreed, HASH_LOCK, "trade claim")
    if done is not None:
        return done
    agreed, symbol, token, tz = _open_trade(session, agreed, HASH_LOCK)
    t = agreed.trade
    if hash_lock(secret) != t.payment_ref:
        raise InputError(
            f"the secret does not open the hash lock of trade {agreed.id_hex} (its SHA-256 is not "
            f"0x{t.payment_ref.hex()}): nothing was sent",
            field="--secret-file",
        )
    sender = session.signers.account(submitter)
    _check_approval(session, settlement, agreed, symbol, sender)
    _check_parties_now(session, symbol, token, t)
    settlement.claim.call(t.as_struct(), secret, sender=sender)  # a refusal now is named in one line, nothing sent
    cash = cash_of(session, symbol, HASH_LOCK, t.payment_token)
    plan = Plan(Preview(f"trade claim {symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    plan.preview.lines.extend(_trade_lines(session, symbol, t, cash, tz))
    plan.preview.lines.append(("delivers", f"{t.units} units to the buyer"))
    plan.preview.lines.append(("reveals", "the secret, on chain: the seller takes the cash on the other ledger"))
    plan.preview.lines.append(("sent by", submitter))
    plan.steps.append(("claim", lambda: settlement.claim(t.as_struct(), secret, sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


def approve_plan(session: Session, reference: str, *, approver: str) -> Plan:
    """Plan the transfer agent's approval of an open trade, which a series requiring approval needs before anyone
    but the transfer agent settles it. Re-runnable: an approved trade sends nothing."""
    settlement = settlement_contract(session)
    agreed = find_trade(session, settlement, reference)
    t = agreed.trade
    symbol = agreed.symbol
    if symbol is None:
        raise InputError(f"trade {agreed.id_hex} is of a series not in this manifest ({t.series})", field="trade")
    tz = issuer_zone(session, symbol)
    if not agreed.is_open:
        raise InputError(f"trade {agreed.id_hex} is {STATUS_WORDS[agreed.status]}: nothing was sent", field="trade")
    if session.now() > t.expiry:
        raise InputError(
            f"trade {agreed.id_hex} expired at {_when(t.expiry, tz)}: it can no longer settle: nothing was sent",
            field="trade",
        )
    sender = session.signers.account(approver)
    token = bond_token(session.project, t.series)
    if not token.hasRole(TRANSFER_AGENT_ROLE, sender.address):
        raise InputError(
            f"{approver} is not the transfer agent of {symbol}: only the transfer agent approves trades: nothing "
            "was sent",
            field="--by",
        )
    cash = cash_of(session, symbol, t.mode, t.payment_token)
    plan = Plan(Preview(f"trade approve {symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    plan.preview.lines.extend(_trade_lines(session, symbol, t, cash, tz))
    if _approval_counts(session, settlement, agreed):
        plan.preview.lines.append(("approval", "given already"))
        return plan
    required = bool(settlement.approvalRequired(t.series))
    plan.preview.lines.append(
        ("approval", f"by {approver}, the transfer agent" + ("" if required else f" ({symbol} does not require it)"))
    )
    plan.steps.append(("approve", lambda: settlement.approveTrade(t.as_struct(), sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


def _units_unlocked(session: Session, settlement: Any, t: Trade) -> int:
    """What cancelling or releasing `t` unfreezes, as the contract computes it: the trade's units, or less when the
    seller's wallet freeze shrank, never into the units the seller's other open trades on the series keep locked."""
    others = int(settlement.lockedUnits(t.series, t.seller)) - t.units
    frozen = int(bond_token(session.project, t.series).getFrozenTokens(t.seller))
    return min(t.units, max(frozen - others, 0))


def cancel_plan(session: Session, reference: str, *, by: str | None) -> Plan:
    """Plan the cancellation of an open trade by `by` (seller or buyer), or, past its expiry, its release (anyone):
    the seller's units are unlocked; nothing else is held."""
    settlement = settlement_contract(session)
    agreed = find_trade(session, settlement, reference)
    t = agreed.trade
    symbol = agreed.symbol or t.series
    tz = issuer_zone(session, agreed.symbol) if agreed.symbol else "UTC"
    if not agreed.is_open:
        raise InputError(f"trade {agreed.id_hex} is {STATUS_WORDS[agreed.status]}: nothing was sent", field="trade")
    expired = session.now() > t.expiry
    plan = Plan(Preview(f"trade cancel {symbol}: trade {agreed.id_hex}"), trade_id=agreed.trade_id)
    cash = cash_of(session, agreed.symbol, t.mode, t.payment_token) if agreed.symbol else Cash(0, 0, "")
    if agreed.symbol:
        plan.preview.lines.extend(_trade_lines(session, agreed.symbol, t, cash, tz))
    unlocks = _units_unlocked(session, settlement, t)
    if by is None:
        if not expired:
            raise InputError(
                f"trade {agreed.id_hex} runs until {_when(t.expiry, tz)}: the seller or the buyer cancels it (--by)",
                field="--by",
            )
        sender = session.signers.account("agent")
        plan.preview.lines.append(("releases", f"{unlocks} units to the seller (the trade expired)"))
        plan.steps.append(("release", lambda: settlement.release(t.as_struct(), sender=sender)))
    else:
        sender = session.signers.account(by)
        if sender.address not in (t.seller, t.buyer):
            raise InputError(f"{by} is neither the seller nor the buyer of trade {agreed.id_hex}", field="--by")
        if sender.address == t.seller and t.mode != ONCHAIN_CASH and not expired:
            raise InputError(
                f"the seller cannot cancel a trade paid by {MODE_WORDS[t.mode]} before it expires "
                f"({_when(t.expiry, tz)}): the buyer may have paid already; the buyer cancels",
                field="--by",
            )
        plan.preview.lines.append(("unlocks", f"{unlocks} units in the seller's wallet (cancelled by {by})"))
        plan.steps.append(("cancel", lambda: settlement.cancel(t.as_struct(), sender=sender)))
    plan.preview = Preview(plan.preview.title, plan.preview.lines, len(plan.steps))
    return plan


def trade_rows(session: Session, *, symbol: str | None = None) -> list[tuple[AgreedTrade, Cash | None]]:
    """The agreed trades (of `symbol`, when given) with how their price reads."""
    settlement = settlement_contract(session)
    if symbol is not None:
        series_entry(session, symbol)
    rows = []
    cashes: dict[tuple[str, int], Cash] = {}
    for agreed in agreed_trades(session, settlement):
        if symbol is not None and agreed.symbol != symbol:
            continue
        cash = None
        if agreed.symbol is not None:
            key = (agreed.symbol, agreed.trade.mode)
            if key not in cashes:
                cashes[key] = cash_of(session, agreed.symbol, agreed.trade.mode, agreed.trade.payment_token)
            cash = cashes[key]
        rows.append((agreed, cash))
    return rows


def describe_party(session: Session, address: str) -> str:
    """An alias of the alias book for `address` when it has one, else the address."""
    for alias in session.signers.book.indexes:
        try:
            if session.signers.address(alias) == address:
                return alias
        except InputError:
            continue
    return address
