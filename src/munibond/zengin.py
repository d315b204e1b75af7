"""The Zengin (全銀協) fixed-length transfer file for general transfers (総合振込), as Japanese banks take it.

One file: a header record (data kind 1), one data record (2) per transfer, a trailer (8) with the count and the
sum of the amounts, and an end record (9). Every record is 120 bytes of JIS X 0201 text (ASCII digits, upper-case
letters, a few symbols and half-width katakana) encoded in cp932, one byte per character, followed by CR LF.
Numeric fields are right-aligned and zero-padded, text fields left-aligned and padded with spaces. The layout of
every field (position, length, content) is in docs/bank-transfers.md; `HEADER`, `DATA`, `TRAILER` and `END` below
are that table in code, and `parse_transfer_file` reads a file back field by field.

Names are converted to what the format accepts (`to_zengin_text`): full-width katakana, hiragana and full-width
Latin letters and digits become their half-width forms, small kana become large ones, lower case becomes upper
case; anything else is refused with the offending character named.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

RECORD_LENGTH = 120
ENCODING = "cp932"
NEWLINE = b"\r\n"
TRANSFER_KIND = "21"  # 種別コード: 総合振込 (general transfer)
CODE_SET = "0"  # コード区分: JIS / Shift_JIS
MAX_AMOUNT = 10**10 - 1  # 振込金額: 10 digits
MAX_TOTAL = 10**12 - 1  # 合計金額: 12 digits
MAX_COUNT = 10**6 - 1  # 合計件数: 6 digits

# 預金種目 (account type): the words a CSV may use and the code the file carries
ACCOUNT_TYPES = {"futsu": "1", "ordinary": "1", "toza": "2", "current": "2", "chochiku": "4", "savings": "4"}
ACCOUNT_TYPE_CODES = frozenset({"1", "2", "4", "9"})

_SYMBOLS = frozenset(" ().,-/")
_HALF_KANA = frozenset(chr(c) for c in range(0xFF71, 0xFFA0)) | {"\uff66", "\uff62", "\uff63"}  # ｱ..ﾟ, ｦ, ｢, ｣
_SMALL_TO_LARGE = dict(zip("ｧｨｩｪｫｬｭｮｯ", "ｱｲｳｴｵﾔﾕﾖﾂ", strict=True))


def _full_to_half() -> dict[str, str]:
    """Full-width katakana (voiced ones too) -> their half-width spelling, derived from Unicode's own mapping."""
    table: dict[str, str] = {}
    for code in range(0xFF61, 0xFFA0):
        half = chr(code)
        for mark in ("", "\uff9e", "\uff9f"):
            full = unicodedata.normalize("NFKC", half + mark)
            if len(full) == 1 and full not in table:
                table[full] = half + mark
    return table


_FULL_TO_HALF = _full_to_half()


def to_zengin_text(text: str) -> str:
    """`text` in the characters a Zengin text field accepts (see the module doc); ValueError naming what cannot
    be converted."""
    out = []
    for char in text:
        if "\u3041" <= char <= "\u3096":  # hiragana -> katakana
            char = chr(ord(char) + 0x60)
        if char == "\u30fc" or char == "\uff70" or char == "\u2212":  # long vowel mark, minus: a hyphen
            char = "-"
        half = _FULL_TO_HALF.get(char)
        if half is None:
            half = unicodedata.normalize("NFKC", char) if not ("\uff61" <= char <= "\uff9f") else char
        for piece in half:
            piece = _SMALL_TO_LARGE.get(piece, piece).upper()
            if not (piece.isascii() and (piece.isdigit() or "A" <= piece <= "Z" or piece in _SYMBOLS)) and (
                piece not in _HALF_KANA
            ):
                raise ValueError(f"{char!r} cannot be written in a Zengin file (half-width kana, A-Z, 0-9, ().,-/)")
            out.append(piece)
    return "".join(out)


def _digits(value: int | str, width: int, what: str) -> str:
    text = str(value)
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{what} must be digits, got {value!r}")
    if len(text) > width:
        raise ValueError(f"{what} must have at most {width} digits, got {value!r}")
    return text.rjust(width, "0")


def _text(value: str, width: int, what: str) -> str:
    try:
        text = to_zengin_text(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    if len(text) > width:
        raise ValueError(f"{what} must be at most {width} half-width characters, got {len(text)} ({text})")
    return text.ljust(width, " ")


def account_type_code(value: str) -> str:
    """The 預金種目 code of an account type word (futsu, toza, chochiku) or code (1, 2, 4, 9)."""
    code = ACCOUNT_TYPES.get(value.strip().lower(), value.strip())
    if code not in ACCOUNT_TYPE_CODES:
        raise ValueError(f"account type must be futsu, toza, chochiku or a code 1, 2, 4, 9; got {value!r}")
    return code


@dataclass(frozen=True)
class BankAccount:
    """A Japanese bank account as a transfer names it."""

    bank_code: str  # 4 digits (金融機関コード)
    branch_code: str  # 3 digits (支店コード)
    account_type: str  # 1 ordinary, 2 current, 4 savings, 9 other
    account_number: str  # up to 7 digits
    account_name: str  # the holder's name in kana, as the bank has it (受取人名)
    bank_name: str = ""  # kana, optional in the file
    branch_name: str = ""

    def __post_init__(self) -> None:
        for what, value, width in (("bank_code", self.bank_code, 4), ("branch_code", self.branch_code, 3)):
            if len(value) != width or not (value.isascii() and value.isdigit()):
                raise ValueError(f"{what} must be exactly {width} digits, got {value!r}")
        account_type_code(self.account_type)
        _digits(self.account_number, 7, "account_number")
        if not self.account_name.strip():
            raise ValueError("account_name must name the account holder (in kana)")
        _text(self.account_name, 30, "account_name")
        _text(self.bank_name, 15, "bank_name")
        _text(self.branch_name, 15, "branch_name")


@dataclass(frozen=True)
class Originator:
    """The paying customer (振込依頼人): its code at the bank and the account the transfers are debited from."""

    requester_code: str  # 10 digits, assigned by the bank
    requester_name: str  # kana, up to 40
    account: BankAccount  # account_name is the requester's; bank and branch names appear in the header

    def __post_init__(self) -> None:
        _digits(self.requester_code, 10, "requester_code")
        _text(self.requester_name, 40, "requester_name")


@dataclass(frozen=True)
class Transfer:
    """One data record: `amount` yen to `account`; the customer codes let the bank's result name the line."""

    account: BankAccount
    amount: int
    customer_code_1: str = ""  # 10 digits or blank
    customer_code_2: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or not 0 < self.amount <= MAX_AMOUNT:
            raise ValueError(f"amount must be 1..{MAX_AMOUNT:,} yen, got {self.amount!r}")


# (name, length, kind) per record kind: kind "N" numeric (zero-padded), "C" text (space-padded)
HEADER: tuple[tuple[str, int, str], ...] = (
    ("data_kind", 1, "N"),
    ("transfer_kind", 2, "N"),
    ("code_set", 1, "N"),
    ("requester_code", 10, "N"),
    ("requester_name", 40, "C"),
    ("transfer_date", 4, "N"),
    ("bank_code", 4, "N"),
    ("bank_name", 15, "C"),
    ("branch_code", 3, "N"),
    ("branch_name", 15, "C"),
    ("account_type", 1, "N"),
    ("account_number", 7, "N"),
    ("filler", 17, "C"),
)
DATA: tuple[tuple[str, int, str], ...] = (
    ("data_kind", 1, "N"),
    ("bank_code", 4, "N"),
    ("bank_name", 15, "C"),
    ("branch_code", 3, "N"),
    ("branch_name", 15, "C"),
    ("clearing_house", 4, "C"),
    ("account_type", 1, "N"),
    ("account_number", 7, "N"),
    ("recipient_name", 30, "C"),
    ("amount", 10, "N"),
    ("new_code", 1, "N"),
    ("customer_code_1", 10, "C"),
    ("customer_code_2", 10, "C"),
    ("transfer_method", 1, "C"),
    ("identification", 1, "C"),
    ("filler", 7, "C"),
)
TRAILER: tuple[tuple[str, int, str], ...] = (
    ("data_kind", 1, "N"),
    ("count", 6, "N"),
    ("total", 12, "N"),
    ("filler", 101, "C"),
)
END: tuple[tuple[str, int, str], ...] = (("data_kind", 1, "N"), ("filler", 119, "C"))


def _record(layout: tuple[tuple[str, int, str], ...], values: dict[str, str]) -> bytes:
    fields = []
    for name, length, _kind in layout:
        value = values.get(name, "")
        if len(value) != length:
            value = value.ljust(length, " ")
        fields.append(value)
    data = "".join(fields).encode(ENCODING)
    if len(data) != RECORD_LENGTH:
        raise AssertionError(f"a Zengin record must be {RECORD_LENGTH} bytes, built {len(data)}")
    return data


def header_record(originator: Originator, transfer_date: dt.date) -> bytes:
    account = originator.account
    return _record(
        HEADER,
        {
            "data_kind": "1",
            "transfer_kind": TRANSFER_KIND,
            "code_set": CODE_SET,
            "requester_code": _digits(originator.requester_code, 10, "requester_code"),
            "requester_name": _text(originator.requester_name, 40, "requester_name"),
            "transfer_date": f"{transfer_date.month:02d}{transfer_date.day:02d}",
            "bank_code": _digits(account.bank_code, 4, "bank_code"),
            "bank_name": _text(account.bank_name, 15, "bank_name"),
            "branch_code": _digits(account.branch_code, 3, "branch_code"),
            "branch_name": _text(account.branch_name, 15, "branch_name"),
            "account_type": account_type_code(account.account_type),
            "account_number": _digits(account.account_number, 7, "account_number"),
        },
    )


def data_record(transfer: Transfer) -> bytes:
    account = transfer.account
    return _record(
        DATA,
        {
            "data_kind": "2",
            "bank_code": _digits(account.bank_code, 4, "bank_code"),
            "bank_name": _text(account.bank_name, 15, "bank_name"),
            "branch_code": _digits(account.branch_code, 3, "branch_code"),
            "branch_name": _text(account.branch_name, 15, "branch_name"),
            "account_type": account_type_code(account.account_type),
            "account_number": _digits(account.account_number, 7, "account_number"),
            "recipient_name": _text(account.account_name, 30, "account_name"),
            "amount": _digits(transfer.amount, 10, "amount"),
            "new_code": "0",
            "customer_code_1": _text(transfer.customer_code_1, 10, "customer_code_1"),
            "customer_code_2": _text(transfer.customer_code_2, 10, "customer_code_2"),
            "transfer_method": "7",  # テレ振込 (electronic)
        },
    )


def trailer_record(count: int, total: int) -> bytes:
    return _record(
        TRAILER, {"data_kind": "8", "count": _digits(count, 6, "count"), "total": _digits(total, 12, "total")}
    )


def end_record() -> bytes:
    return _record(END, {"data_kind": "9"})


def transfer_file(originator: Originator, transfer_date: dt.date, transfers: Sequence[Transfer]) -> bytes:
    """The whole file: header, one data record per transfer in order, trailer, end; each record ends in CR LF."""
    if not transfers:
        raise ValueError("a transfer file needs at least one transfer")
    if len(transfers) > MAX_COUNT:
        raise ValueError(f"at most {MAX_COUNT:,} transfers fit in one file, got {len(transfers):,}")
    total = sum(t.amount for t in transfers)
    if total > MAX_TOTAL:
        raise ValueError(f"the total {total:,} yen exceeds the trailer's 12 digits")
    records = [header_record(originator, transfer_date)]
    records += [data_record(t) for t in transfers]
    records += [trailer_record(len(transfers), total), end_record()]
    return b"".join(record + NEWLINE for record in records)


def parse_record(record: bytes) -> dict[str, str]:
    """The fields of one 120-byte record (without its CR LF), by the layout of its data kind."""
    if len(record) != RECORD_LENGTH:
        raise ValueError(f"a Zengin record is {RECORD_LENGTH} bytes, got {len(record)}")
    layout = {b"1": HEADER, b"2": DATA, b"8": TRAILER, b"9": END}.get(record[:1])
    if layout is None:
        raise ValueError(f"unknown data kind {record[:1]!r}")
    fields, position = {}, 0
    for name, length, _kind in layout:
        fields[name] = record[position : position + length].decode(ENCODING)
        position += length
    return fields


def parse_transfer_file(data: bytes) -> list[dict[str, str]]:
    """Every record of a transfer file, parsed (CR LF separated, each exactly 120 bytes)."""
    if not data.endswith(NEWLINE):
        raise ValueError("a Zengin file ends with CR LF")
    return [parse_record(record) for record in data[: -len(NEWLINE)].split(NEWLINE)]
