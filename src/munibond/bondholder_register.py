"""The bondholder register (社債原簿, after Companies Act art. 681) of a series at a date or a record date.

Header: the bond's class and terms (art. 681 (1)-(3): kind, total amount, amount of each bond, paid-in date),
read from the chain (ISIN, denomination, issue volume, rate, frequency, issue and maturity date, payment
dates) and from the term sheet the manifest references (name, issuer, redemption). Then one holding per
investor (art. 681 (4)-(5)): investor id, name and address from the investor database (`munibond.investor_db`,
flagged "missing master data" when it has none), wallets, units, face value, acquisition date.

Where the units come from:
* `--period N`: the token's `balanceOfAt` at the period's record time (the balances the payment uses);
* `--date D` before today (issuer's zone): the Transfer events up to the last block of that day — a unit a
  passed record time retired (call, amortization, redemption) counts until its burn is on chain;
* otherwise now: the units each wallet still owns (`munibond.chain.register.holder_register`).

Acquisition date: the day (issuer's zone) of the earliest acquisition the investor still holds, first in first
out over its transfers: units received from outside the investor (issue or transfer) form lots in order, units
sent out of the investor (transfer or burn) take the oldest lots first; moves between the investor's own
wallets change nothing. Units the register no longer counts but the events still show (a retirement not yet
burnt) are taken from the oldest lots too.

Acquisition price (per unit, currency units, exact) of that same lot, where the chain records one:
* a secondary trade settled by the workspace's TradeSettlement: its `TradeSettled` price over its units, on the
  settlement day;
* a primary subscription settled by a SubscriptionBook: the book's `Settled` cash over the units minted, on the
  settlement day;
* any other issue (a mint from an allocation file): the issue price, par (the denomination; term sheets name no
  other), on the issue date (the paid-in date) when it was minted before it;
* a plain transfer between investors carries no price (shown empty).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from eth_utils import keccak

from munibond.investor_db import InvestorRecord
from munibond.money import format_minor

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class BondClass:
    """The header of the register: the bond's class and terms."""

    symbol: str
    name: str
    issuer: str
    isin: str
    currency: str
    minor_units: int
    denomination: int  # face of one unit, minor units
    issue_volume: int  # 社債の総額, minor units
    coupon: str  # e.g. "0.85 % p.a., 2 payments a year" or "zero coupon"
    issue_date: date
    maturity_date: date
    payment_dates: tuple[date, ...]
    redemption: str
    timezone: str

    @property
    def units_issued(self) -> int:
        return self.issue_volume // self.denomination


@dataclass(frozen=True)
class Holding:
    """The units of one investor (all its wallets) at the register's date."""

    key: str  # the on-chain identity, or the wallet when it has none
    wallets: tuple[str, ...]
    units: int
    face_value: int  # minor units
    acquired: date | None
    investor: InvestorRecord | None  # master data, None when the database has none
    acquisition_price: Fraction | None = None  # per unit, currency minor units (of the lot `acquired` dates)
    acquired_by: str = ""  # "trade", "subscription", "issue", "transfer" (empty without units)

    @property
    def missing_master_data(self) -> bool:
        return self.investor is None


@dataclass(frozen=True)
class BondholderRegister:
    bond: BondClass
    as_of: date  # issuer's zone
    basis: str  # how the units were read, e.g. "record date of period 1 (balanceOfAt)"
    holdings: tuple[Holding, ...]

    @property
    def total_units(self) -> int:
        return sum(h.units for h in self.holdings)

    @property
    def total_face_value(self) -> int:
        return sum(h.face_value for h in self.holdings)

    @property
    def missing(self) -> int:
        return sum(1 for h in self.holdings if h.missing_master_data)


@dataclass(frozen=True)
class Movement:
    """A Transfer event: `units` from `sender` to `receiver` (the zero address for issue and burn); for a
    settlement, its price per unit (currency minor units), the settlement's day and how the units were acquired."""

    block: int
    sender: str
    receiver: str
    units: int
    price: Fraction | None = None
    day: date | None = None
    kind: str = "transfer"


def amount_text(minor: int, minor_units: int) -> str:
    """An amount in currency units, exact, without grouping (e.g. 1234550 with 2 minor units -> "12345.50")."""
    whole, rest = divmod(minor, 10**minor_units)
    return f"{whole}" + (f".{rest:0{minor_units}d}" if minor_units else "")


def price_text(minor: Fraction, minor_units: int) -> str:
    """A per-unit price in currency units: exact when it is a whole number of minor units, else the exact decimal
    when it terminates, else the fraction of minor units spelled out (e.g. "10125", "1012.25", "3333 1/3 minor")."""
    if minor.denominator == 1:
        return amount_text(int(minor), minor_units)
    denominator, twos, fives = minor.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator == 1:
        places = max(twos, fives)
        scaled = minor * 10**places
        return amount_text(int(scaled), minor_units + places)
    whole = minor.numerator // minor.denominator
    rest = minor - whole
    return f"{amount_text(whole, minor_units)} + {rest.numerator}/{rest.denominator} minor units"


def oldest_held_lot(movements: Iterable[Movement], wallets: set[str], units: int) -> Movement | None:
    """The movement that brought the earliest acquisition still held, first in first out (see the module
    docstring), by the investor owning `wallets` (lower-case) and holding `units` at the end of `movements`."""
    lots: list[list[Any]] = []  # [units, movement], oldest first

    def take(amount: int) -> None:
        while amount > 0 and lots:
            used = min(amount, lots[0][0])
            lots[0][0] -= used
            amount -= used
            if lots[0][0] == 0:
                lots.pop(0)

    for move in movements:
        inside_from = move.sender.lower() in wallets
        inside_to = move.receiver.lower() in wallets
        if inside_to and not inside_from:
            lots.append([move.units, move])
        elif inside_from and not inside_to:
            take(move.units)
    take(sum(lot[0] for lot in lots) - units)
    return lots[0][1] if lots else None


def oldest_held_block(movements: Iterable[Movement], wallets: set[str], units: int) -> int | None:
    """The block of `oldest_held_lot`."""
    lot = oldest_held_lot(movements, wallets, units)
    return None if lot is None else lot.block


def group_holdings(
    positions: Iterable[tuple[str, str, int]],
    movements: list[Movement],
    *,
    denomination: int,
    block_date: Any,
    records: list[InvestorRecord],
) -> list[Holding]:
    """Holdings per investor from (wallet, identity, units) positions; `block_date(block)` gives a block's day;
    `records` is the investor database's content."""
    by_key: dict[str, list[tuple[str, int]]] = {}
    for wallet, identity, units in positions:
        if units:
            key = identity if int(identity, 16) != 0 else wallet
            by_key.setdefault(key, []).append((wallet, units))
    by_identity = {r.identity.lower(): r for r in records if r.identity}
    by_wallet = {w.lower(): r for r in records for w in r.wallets}
    holdings = []
    for key, held in by_key.items():
        wallets = tuple(sorted(w for w, _ in held))
        units = sum(u for _, u in held)
        record = by_identity.get(key.lower()) or next(
            (by_wallet[w.lower()] for w in wallets if w.lower() in by_wallet), None
        )
        family = {w.lower() for w in wallets} | {w.lower() for w in (record.wallets if record else ())}
        lot = oldest_held_lot(movements, family, units)
        if lot is None:
            holdings.append(Holding(key, wallets, units, units * denomination, None, record))
            continue
        holdings.append(
            Holding(
                key,
                wallets,
                units,
                units * denomination,
                lot.day or block_date(lot.block),
                record,
                lot.price,
                lot.kind,
            )
        )
    holdings.sort(key=lambda h: (h.investor is None, h.investor.investor_id if h.investor else h.key))
    return holdings


# --- output ------------------------------------------------------------------------------------------------


CSV_HEADER = (
    "investor_id",
    "legal_name",
    "postal_code",
    "address",
    "master_data",
    "identity",
    "wallets",
    "units",
    "face_value",
    "currency",
    "acquired",
    "acquisition_price",
    "acquired_by",
)


def register_csv(register: BondholderRegister) -> str:
    """One row per holding; face value in currency units (exact); `master_data` is `missing` when the database has
    none for the holder."""
    bond = register.bond
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for h in register.holdings:
        record = h.investor
        writer.writerow(
            [
                record.investor_id if record else "",
                record.master.legal_name if record else "",
                (record.master.postal_code or "") if record else "",
                record.master.address if record else "",
                "missing" if record is None else "",
                h.key,
                ";".join(h.wallets),
                h.units,
                amount_text(h.face_value, bond.minor_units),
                bond.currency,
                h.acquired.isoformat() if h.acquired else "",
                "" if h.acquisition_price is None else price_text(h.acquisition_price, bond.minor_units),
                h.acquired_by,
            ]
        )
    return out.getvalue()


_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans JP", "Hiragino Sans", "Yu Gothic", sans-serif; font-size: 9pt; color: #000; }
h1 { font-size: 14pt; margin: 0 0 4mm; }
h2 { font-size: 11pt; margin: 5mm 0 2mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.3mm solid #444; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #eee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.mono { font-family: monospace; font-size: 7pt; word-break: break-all; }
tr.missing td { background: #fff4d6; }
tfoot td { font-weight: bold; border-top: 0.6mm solid #000; }
table.terms th { width: 28%; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
"""


def _row(label_ja: str, label_en: str, value: str) -> str:
    return f"<tr><th>{html.escape(label_ja)} / {html.escape(label_en)}</th><td>{html.escape(value)}</td></tr>"


def register_html(register: BondholderRegister) -> str:
    """A printable page (A4): the bond's terms, then every holding with a totals row; headings in Japanese and
    English; units and amounts exact."""
    bond = register.bond
    money = lambda minor: f"{format_minor(minor, bond.currency)} {bond.currency}"  # noqa: E731
    terms = [
        _row("銘柄", "Bond", f"{bond.name} ({bond.symbol})"),
        _row("発行者", "Issuer", bond.issuer),
        _row("ISIN", "ISIN", bond.isin),
        _row("社債の種類", "Class", f"{bond.coupon}; {bond.redemption}"),
        _row("種類ごとの社債の総額", "Total amount of the class", money(bond.issue_volume)),
        _row("各社債の金額", "Amount of each bond (denomination)", money(bond.denomination)),
        _row("発行口数", "Units issued", f"{bond.units_issued:,}"),
        _row("利率", "Interest rate", bond.coupon),
        _row("発行日（払込日）", "Issue date (paid-in date)", bond.issue_date.isoformat()),
        _row("償還期限", "Maturity date", bond.maturity_date.isoformat()),
        _row("償還の方法", "Redemption", bond.redemption),
        _row("利払日", "Payment dates", ", ".join(d.isoformat() for d in bond.payment_dates)),
        _row("基準日", "As of", f"{register.as_of.isoformat()} ({bond.timezone}) — {register.basis}"),
    ]
    heads = [
        ("投資家番号", "Investor id", False),
        ("氏名又は名称", "Name", False),
        ("住所", "Address", False),
        ("ウォレット", "Wallets", False),
        ("口数", "Units", True),
        ("額面金額", "Face value", True),
        ("取得日", "Acquired", False),
        ("取得価額（1口）", "Acquisition price per unit", True),
    ]
    head_cells = "".join(
        ('<th class="num">' if numeric else "<th>") + f"{html.escape(ja)}<br>{html.escape(en)}</th>"
        for ja, en, numeric in heads
    )
    body = []
    for h in register.holdings:
        record = h.investor
        if record is None:
            who = ["—", "登録情報なし / missing master data", "—"]
        else:
            postal = f"〒{record.master.postal_code} " if record.master.postal_code else ""
            who = [record.investor_id, record.master.legal_name, postal + record.master.address]
        cells = [f"<td>{html.escape(text)}</td>" for text in who]
        cells.append(f'<td class="mono">{"<br>".join(html.escape(w) for w in h.wallets)}</td>')
        cells.append(f'<td class="num">{h.units:,}</td>')
        cells.append(f'<td class="num">{html.escape(money(h.face_value))}</td>')
        cells.append(f"<td>{h.acquired.isoformat() if h.acquired else '—'}</td>")
        price = (
            "—"
            if h.acquisition_price is None
            else f"{price_text(h.acquisition_price, bond.minor_units)} {bond.currency}"
        )
        how = f" ({h.acquired_by})" if h.acquisition_price is not None else ""
        cells.append(f'<td class="num">{html.escape(price + how)}</td>')
        css = ' class="missing"' if record is None else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    total = (
        f'<tr><td colspan="4">合計 / Total ({len(register.holdings)} holdings)</td>'
        f'<td class="num">{register.total_units:,}</td>'
        f'<td class="num">{html.escape(money(register.total_face_value))}</td><td></td><td></td></tr>'
    )
    title = f"社債原簿 / Bondholder register — {bond.name} ({bond.symbol}) — {register.as_of.isoformat()}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="ja">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{html.escape(title)}</h1>",
            "<h2>社債の種類及び条件 / Class and terms of the bond</h2>",
            f'<table class="terms">{"".join(terms)}</table>',
            "<h2>社債権者 / Bondholders</h2>",
            '<table class="holdings">',
            f"<thead><tr>{head_cells}</tr></thead>",
            f"<tbody>{''.join(body)}</tbody>",
            f"<tfoot>{total}</tfoot>",
            "</table>",
            "</body>",
            "</html>",
            "",
        ]
    )


def coupon_text(rate: Fraction, frequency: int, coupon_type: str) -> str:
    if coupon_type == "zero":
        return "割引債 / zero coupon"
    from munibond.chain.bond_export import decimal_text

    return f"年 {decimal_text(rate * 100, 2)} % / {decimal_text(rate * 100, 2)} % p.a., {frequency} payments a year"


def redemption_text(terms: Any) -> str:
    """The redemption method of a term sheet, in Japanese and English."""
    parts = []
    redemption = terms.redemption
    if redemption.amortization:
        steps = ", ".join(f"{a.date.isoformat()} {a.percent_of_original_face} %" for a in redemption.amortization)
        parts.append(f"定時償還 / amortizing ({steps} of the original face), the rest at maturity")
    else:
        parts.append("満期一括償還 / bullet at maturity")
    parts.append(f"at {redemption.price} %")
    for call in redemption.call:
        parts.append(f"繰上償還可 / callable {call.date.isoformat()} at {call.price} %")
    return "; ".join(parts)


# --- reading the chain -----------------------------------------------------------------------------------------


def _last_block_at(web3: Any, first: int, moment: int) -> int | None:
    """The last block from `first` on whose timestamp is at most `moment` (None when `first` is already later)."""
    head = int(web3.eth.block_number)
    if int(web3.eth.get_block(first)["timestamp"]) > moment:
        return None
    low, high = first, head
    while low < high:
        middle = (low + high + 1) // 2
        if int(web3.eth.get_block(middle)["timestamp"]) <= moment:
            low = middle
        else:
            high = middle - 1
    return low


def build_register(
    session: Any,
    symbol: str,
    *,
    day: date | None = None,
    period: int | None = None,
    records: list[InvestorRecord],
) -> BondholderRegister:
    """The register of `symbol` at the record date of `period` (1-based), at the end of `day` (issuer's zone), or
    now; `records` is the investor database's content."""
    from munibond import clock
    from munibond.chain.deployment import bond_token, payment_agent
    from munibond.chain.events import logs_since
    from munibond.chain.lookup import investor_registry, series_entry, terms_after_record
    from munibond.chain.register import holder_register
    from munibond.chain.series import COUPON_RATE_SCALE, COUPON_TYPE
    from munibond.chain.series_terms import series_currency, series_term_sheet
    from munibond.errors import InputError

    entry = series_entry(session, symbol)
    token = bond_token(session.project, entry["token"])
    agent = payment_agent(session.project, entry["payment_agent"])
    registry = investor_registry(session)
    terms = series_term_sheet(session, symbol)
    currency = series_currency(session, symbol)
    tz = terms.timezone
    web3 = session.chain.provider.web3
    start = int(entry["block"])
    now = int(web3.eth.get_block("latest")["timestamp"])

    record_time: int | None = None
    from_events = False  # units from the Transfer events (a past date) rather than the token's views
    if period is not None:
        record_time = int(terms_after_record(session, agent, period).recordTime)
        as_of = clock.local_date(record_time, tz)
        basis = f"period {period} record date, units from balanceOfAt / 第{period}回利払の基準日"
        until = _last_block_at(web3, start, record_time)
    elif day is not None and clock.day_end(day, tz) < now:
        as_of = day
        basis = f"end of {day.isoformat()}, units from Transfer events / 当日終了時点"
        until = _last_block_at(web3, start, clock.day_end(day, tz))
        from_events = True
    else:
        today = clock.local_date(now, tz)
        if day is not None and day > today:
            raise InputError(f"{day.isoformat()} is after today ({today.isoformat()}, {tz})", field="--date")
        as_of = today
        basis = "now, units each wallet owns / 現在"
        until = int(web3.eth.block_number)

    days: dict[int, date] = {}

    def block_date(block: int) -> date:
        if block not in days:
            days[block] = clock.local_date(int(web3.eth.get_block(block)["timestamp"]), tz)
        return days[block]

    denomination = int(token.denomination())
    issue_day = clock.local_date(int(token.bondTerms().issueDate), tz)
    movements = []
    if until is not None:
        priced = settlement_prices(session, token, start, until, currency.minor_units, tz)
        for log in logs_since(token.Transfer, start):
            block = int(log.block_number)
            if block > until:
                break
            sender, receiver, units = str(log["from"]), str(log["to"]), int(log["value"])
            key = (_hex(log.transaction_hash), sender.lower(), receiver.lower(), units)
            if key in priced:
                price, day, kind = priced[key]
                movements.append(Movement(block, sender, receiver, units, price, day, kind))
            elif int(sender, 16) == 0:  # issued otherwise: at the issue price (par), paid in on the issue date
                day = max(block_date(block), issue_day)
                movements.append(Movement(block, sender, receiver, units, Fraction(denomination), day, "issue"))
            else:
                movements.append(Movement(block, sender, receiver, units))
    if from_events:
        balances: dict[str, int] = {}
        for move in movements:
            if int(move.sender, 16):
                balances[move.sender] = balances.get(move.sender, 0) - move.units
            if int(move.receiver, 16):
                balances[move.receiver] = balances.get(move.receiver, 0) + move.units
        positions = [
            (wallet, str(registry.investorRecord(wallet).identity), units)
            for wallet, units in balances.items()
            if units
        ]
    else:
        lines = holder_register(token, registry, start_block=start, record_time=record_time)
        positions = [(line.wallet, line.identity, line.units) for line in lines]

    on_chain = token.bondTerms()
    coupon_type = next(name for name, code in COUPON_TYPE.items() if code == int(on_chain.couponType))
    payment_dates = []
    for index in range(int(agent.periodCount())):
        if not agent.periodState(index).cancelled:
            payment_dates.append(clock.local_date(int(agent.periodTerms(index).paymentTime), tz))
    bond = BondClass(
        symbol=symbol,
        name=terms.name,
        issuer=terms.issuer,
        isin=str(on_chain.isin),
        currency=currency.code,
        minor_units=currency.minor_units,
        denomination=int(on_chain.denomination),
        issue_volume=int(on_chain.issueVolume),
        coupon=coupon_text(
            Fraction(int(on_chain.couponRate), COUPON_RATE_SCALE), int(on_chain.couponFrequency), coupon_type
        ),
        issue_date=clock.local_date(int(on_chain.issueDate), tz),
        maturity_date=clock.local_date(int(on_chain.maturityDate), tz),
        payment_dates=tuple(payment_dates),
        redemption=redemption_text(terms),
        timezone=tz,
    )
    holdings = group_holdings(positions, movements, denomination=denomination, block_date=block_date, records=records)
    return BondholderRegister(bond, as_of, basis, tuple(holdings))


SUBSCRIPTION_SETTLED = keccak(text="Settled(address,uint256,uint256,uint256,uint256,uint256)")


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return (text if text.startswith("0x") else "0x" + text).lower()


def _per_unit_minor(cash: int, units: int, token_decimals: int, minor_units: int) -> Fraction:
    """`cash` (payment-token base units) for `units` as currency minor units per unit, exact."""
    return Fraction(cash * 10**minor_units, units * 10**token_decimals)


def settlement_prices(
    session: Any, token: Any, start: int, until: int, minor_units: int, tz: str
) -> dict[tuple[str, str, str, int], tuple[Fraction, date, str]]:
    """(transaction, from, to, units) of the series' Transfers that settled a trade or a subscription -> (price per
    unit in currency minor units, settlement day, "trade" or "subscription").

    Trades: the `TradeSettled` events of the manifest's TradeSettlement for this series (mode 1 prices are in
    minor units already, the others in the payment token's base units). Subscriptions: the `Settled` events of
    any SubscriptionBook whose terms name this series, in the transaction that minted the units (the book holds
    the series' minter role: nobody else mints in that transaction)."""
    from munibond import clock
    from munibond.abi_export import load_abi
    from munibond.chain.erc20 import payment_token_at
    from munibond.chain.events import logs_since

    web3 = session.chain.provider.web3
    decimals: dict[str, int] = {}

    def token_decimals(address: str) -> int:
        if address not in decimals:
            decimals[address] = int(payment_token_at(address).decimals())
        return decimals[address]

    found: dict[tuple[str, str, str, int], tuple[Fraction, date, str]] = {}
    record = session.manifest.contracts.get("TradeSettlement")
    if record is not None and len(session.provider.get_code(record.address)) > 0:
        settlement = session.project.TradeSettlement.at(record.address)
        for log in logs_since(settlement.TradeSettled, max(start, int(record.block))):
            if int(log.block_number) > until or str(log.series).lower() != token.address.lower():
                continue
            units, price = int(log.units), int(log.price)
            if int(log.mode) == 1:
                per_unit = Fraction(price, units)
            else:
                per_unit = _per_unit_minor(price, units, token_decimals(str(log.paymentToken)), minor_units)
            key = (_hex(log.transaction_hash), str(log.seller).lower(), str(log.buyer).lower(), units)
            found[key] = (per_unit, clock.local_date(int(log.settledAt), tz), "trade")

    books: dict[str, Any] = {}
    event = web3.eth.contract(abi=load_abi("ISubscriptionBook")).events.Settled()
    for raw in web3.eth.get_logs({"fromBlock": start, "toBlock": until, "topics": ["0x" + SUBSCRIPTION_SETTLED.hex()]}):
        emitter = str(raw["address"])
        if emitter not in books:
            try:
                terms = web3.eth.contract(address=emitter, abi=load_abi("ISubscriptionBook")).functions.terms().call()
            except Exception:  # another contract's event of the same signature: not a book
                terms = None
            books[emitter] = terms if terms is not None and str(terms[0]).lower() == token.address.lower() else None
        terms = books[emitter]
        if terms is None:
            continue
        args = event.process_log(raw)["args"]
        minted = int(args["units"]) * int(terms[4])  # book units x unit size
        if minted == 0:
            continue
        per_unit = _per_unit_minor(int(args["cash"]), minted, token_decimals(str(terms[1])), minor_units)
        key = (_hex(raw["transactionHash"]), "0x" + "00" * 20, str(args["investor"]).lower(), minted)
        found[key] = (per_unit, clock.local_date(int(args["time"]), tz), "subscription")
    return found
