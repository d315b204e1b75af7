"""Investor master data (SQLite through SQLAlchemy) and the bondholder register's pure parts: FIFO acquisition,
CSV and HTML output."""

from __future__ import annotations

import os
import stat
from datetime import date
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from munibond.bondholder_register import (
    BondClass,
    BondholderRegister,
    Holding,
    Movement,
    amount_text,
    oldest_held_block,
    oldest_held_lot,
    price_text,
    register_csv,
    register_html,
)
from munibond.errors import InputError
from munibond.investor_db import InvestorRecord, MasterData, master_rows, open_store, records_from_import
from munibond.investors import parse_investors, read_csv_text

SALT = b"kanagawa"
HEADER = (
    "wallet,investor_id,country,region,category,tax_class,kyc_expiry,legal_name,name_kana,postal_code,address,"
    "bank_code,branch_code,account_type,account_number,account_holder,email,phone\r\n"
)
A = "0x1111111111111111111111111111111111111111"
B = "0x2222222222222222222222222222222222222222"
C = "0x3333333333333333333333333333333333333333"
ROW_A = (
    f"{A},K-1,392,140007,individual,jp_individual,2035-12-31,山田 太郎,ヤマダ タロウ,231-0023,横浜市中区山下町1,"
    "0001,001,ordinary,1234567,ﾔﾏﾀﾞ ﾀﾛｳ,t@example.jp,045-000-0000\r\n"
)
ROW_B = f"{B},K-1,392,140007,individual,jp_individual,2035-12-31,,,,,,,,,,,\r\n"
ROW_C = f"{C},K-2,392,140007,corporate,jp_corporate,2035-12-31,,,,,,,,,,,\r\n"


def test_cp932_file_with_japanese_names_is_read_and_grouped_per_investor(tmp_path):
    path = tmp_path / "investors.csv"
    path.write_bytes((HEADER + ROW_A + ROW_B + ROW_C).encode("cp932"))
    assert read_csv_text(path).startswith("wallet,")
    rows = parse_investors(path, issuer_salt=SALT)
    (master,) = master_rows(path)
    assert master.investor_id == "K-1" and master.master.legal_name == "山田 太郎"
    assert [line for line, _ in master.wallets] == [2, 3]
    (record,) = records_from_import([master], rows, {row.line: row.wallet for row in rows})
    assert record.wallets == (A, B) and record.category == "individual" and record.identity == rows[0].identity


def test_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "investors.csv"
    path.write_bytes((HEADER + ROW_A).encode("utf-8-sig"))
    assert master_rows(path)[0].master.address == "横浜市中区山下町1"


def test_neither_utf8_nor_cp932_names_the_line(tmp_path):
    path = tmp_path / "investors.csv"
    path.write_bytes(HEADER.encode() + b"\x81\x7f\r\n")  # not a valid cp932 pair, not UTF-8
    with pytest.raises(InputError) as caught:
        read_csv_text(path)
    assert caught.value.line == 2 and "neither UTF-8 nor Shift_JIS" in caught.value.message


def test_bad_master_cells_name_line_and_field_but_never_the_value(tmp_path):
    bad = ROW_A.replace("0001,001,ordinary", "001,0011,checking").replace("t@example.jp", "山田@")
    path = tmp_path / "investors.csv"
    path.write_text(HEADER + bad + ROW_C.replace(",,,,,,,,,,,", ",,,,,0001,,,,,,"))
    with pytest.raises(InputError) as caught:
        master_rows(path)
    issues = {(issue.line, issue.field) for issue in caught.value.issues}
    assert issues == {
        (2, "bank_code"),
        (2, "branch_code"),
        (2, "account_type"),
        (2, "email"),
        (3, "legal_name"),
        (3, "address"),
        (3, "branch_code"),
    }
    text = " ".join(str(issue) for issue in caught.value.issues)
    assert "山田" not in text and "checking" not in text and "横浜" not in text


def test_two_rows_of_one_investor_with_different_master_data_are_refused(tmp_path):
    path = tmp_path / "investors.csv"
    path.write_text(HEADER + ROW_A + ROW_A.replace(A, B).replace("山下町1", "山下町2"))
    with pytest.raises(InputError) as caught:
        master_rows(path)
    assert caught.value.line == 3 and "other master data on line 2" in caught.value.message


def test_without_master_columns_nothing_is_read(tmp_path):
    path = tmp_path / "investors.csv"
    path.write_text(
        "wallet,investor_id,country,region,category,tax_class,kyc_expiry\n"
        + f"{A},K-1,392,0,0,jp_individual,2035-12-31\n"
    )
    assert master_rows(path) == []


def test_database_file_is_created_owner_only_and_an_open_one_is_refused(tmp_path):
    path = tmp_path / "sub" / "investors.db"
    store = open_store(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    master = MasterData(legal_name="山田 太郎", address="横浜市")
    assert store.upsert([InvestorRecord("K-1", master, "individual", None, (A,))]) == (1, 0, 0)
    assert store.upsert([InvestorRecord("K-1", master, "individual", None, (A,))]) == (0, 0, 1)
    assert store.upsert([InvestorRecord("K-2", master, "corporate", None, (A,))]) == (1, 0, 0)
    assert store.get("K-1").wallets == () and store.get("K-2").wallets == (A,)  # the wallet moved
    os.chmod(path, 0o644)
    with pytest.raises(InputError) as caught:
        open_store(f"sqlite:///{path}")
    assert "may be read by others (mode 0644)" in caught.value.message


def test_update_validates_the_whole_record_and_remove_deletes_wallets(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'investors.db'}")
    store.upsert([InvestorRecord("K-1", MasterData(legal_name="山田 太郎", address="横浜市"), None, None, (A, B))])
    with pytest.raises(InputError) as caught:
        store.update("K-1", {"bank_code": "0001"})
    assert "a bank account needs every bank field" in caught.value.message
    bank = {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "0000001",
            "account_holder": "ﾔﾏﾀﾞ ﾀﾛｳ"}  # fmt: skip
    assert store.update("K-1", bank) == list(bank)
    assert store.get("K-1").has_bank_account
    assert store.update("K-1", {"category": "individual"}) == ["category"]
    with pytest.raises(InputError):
        store.update("K-1", {"category": "retail"})
    assert store.remove("K-1") and not store.remove("K-1")
    assert store.by_wallet() == {}


def test_fifo_acquisition():
    zero = "0x" + "0" * 40
    a, b = A.lower(), B.lower()
    moves = [
        Movement(10, zero, a, 40),  # issue
        Movement(20, C, a, 20),  # bought
        Movement(30, a, B, 5),  # moved to its own second wallet: nothing changes
        Movement(40, a, C, 45),  # sold: the 40 issued and 5 bought
    ]
    assert oldest_held_block(moves, {a, b}, 15) == 20
    assert oldest_held_block(moves[:3], {a, b}, 60) == 10
    assert oldest_held_block(moves, {a, b}, 0) is None
    assert oldest_held_block(moves[:2], {a}, 20) == 20  # 40 more on the events than held (a retirement)


def test_the_acquisition_price_is_that_of_the_oldest_lot_still_held():
    zero = "0x" + "0" * 40
    a = A.lower()
    issued = Movement(10, zero, a, 40, Fraction(10_000), date(2026, 4, 1), "issue")
    bought = Movement(20, C, a, 25, Fraction(253_125, 25), date(2026, 5, 2), "trade")
    gift = Movement(30, C, a, 5)
    moves = [issued, bought, gift, Movement(40, a, C, 40)]  # the issued 40 sold: the trade's lot is the oldest held
    assert oldest_held_lot(moves[:3], {a}, 70) is issued
    lot = oldest_held_lot(moves, {a}, 30)
    assert lot is bought and (lot.price, lot.day, lot.kind) == (Fraction(10_125), date(2026, 5, 2), "trade")
    assert oldest_held_lot(moves, {a}, 5) is gift and gift.price is None  # a plain transfer has no price
    assert oldest_held_block(moves, {a}, 30) == 20


def test_price_text_is_exact():
    assert price_text(Fraction(10_125), 0) == "10125"
    assert price_text(Fraction(101_225, 10), 0) == "10122.5"
    assert price_text(Fraction(1_012_345, 100), 2) == "101.2345"
    assert price_text(Fraction(10_000, 3), 0) == "3333 + 1/3 minor units"


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self._open = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.cells[-1] += data


def test_register_outputs_are_exact_and_escaped():
    dates = (date(2025, 1, 1), date(2030, 1, 1), (date(2026, 1, 1),))
    bond = BondClass("ZRH30", "Zurich 2030", "City", "CH0", "CHF", 2, 500000, 10**11, "1.25 %", *dates, "bullet", "UTC")
    who = InvestorRecord("Z-1", MasterData(legal_name="<b>A & B AG</b>", address="Bahnhofstrasse 1"), None, None, (A,))
    holdings = (
        Holding(A, (A,), 3, 3 * 500000, date(2025, 1, 1), who, Fraction(1_012_345, 2), "trade"),
        Holding(C, (C,), 1, 500000, None, None),
    )
    register = BondholderRegister(bond, date(2026, 1, 1), "now", holdings)
    text = register_csv(register)
    assert "Z-1,<b>A & B AG</b>,,Bahnhofstrasse 1,," in text and ",3,15000.00,CHF,2025-01-01,5061.725,trade" in text
    assert ",missing," in text and ",1,5000.00,CHF," in text
    page = register_html(register)
    assert "<b>A" not in page and "&lt;b&gt;A &amp; B AG&lt;/b&gt;" in page
    parser = _Cells()
    parser.feed(page)
    assert "20,000.00 CHF" in parser.cells and "4" in parser.cells  # totals row
    assert "5061.725 CHF (trade)" in parser.cells and "—" in parser.cells  # a price per unit, or none
    assert amount_text(1234550, 2) == "12345.50" and amount_text(7, 0) == "7"


BANK = {"bank_code": "0005", "branch_code": "123", "account_type": "current", "account_number": "0765432",
        "account_holder": "チバショウジ（カ", "bank_name": "ミツビシ", "branch_name": "ヨコハマ"}  # fmt: skip


def test_paid_by_bank_needs_a_bank_account_and_is_one_of_two_words(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'investors.db'}")
    store.upsert([InvestorRecord("K-3", MasterData(legal_name="千葉商事株式会社", address="横浜市"), None, None, (C,))])
    with pytest.raises(InputError) as caught:
        store.update("K-3", {"pay_by": "bank"})
    assert str(caught.value).startswith("pay_by: paid by bank needs a bank account")
    with pytest.raises(InputError) as caught:
        store.update("K-3", {"pay_by": "cash"})
    assert str(caught.value) == "pay_by: must be one of chain | bank"
    with pytest.raises(InputError) as caught:
        store.update("K-3", {**BANK, "bank_name": "三菱UFJ銀行"})
    assert str(caught.value) == "bank_name: must be kana, at most 15 half-width characters"
    assert store.update("K-3", {**BANK, "pay_by": "bank"}) == [*BANK, "pay_by"]
    assert store.get("K-3").master.paid_by_bank
    assert store.update("K-3", {"pay_by": ""}) == ["pay_by"] and not store.get("K-3").master.paid_by_bank


def test_a_database_of_the_earlier_schema_gets_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "investors.db"
    store = open_store(f"sqlite:///{path}")
    store.upsert([InvestorRecord("K-1", MasterData(legal_name="山田 太郎", address="横浜市"), None, None, (A,))])
    store.engine.dispose()
    with sqlite3.connect(path) as db:  # as an earlier version left it: without the bank names and pay_by
        for column in ("bank_name", "branch_name", "pay_by"):
            db.execute(f"ALTER TABLE investors DROP COLUMN {column}")
    reopened = open_store(f"sqlite:///{path}")
    assert reopened.get("K-1").master.legal_name == "山田 太郎" and reopened.get("K-1").master.pay_by is None
    assert reopened.update("K-1", {**BANK, "pay_by": "bank"})
    assert reopened.get("K-1").master.bank_name == "ミツビシ"


def test_the_database_directory_pays_by_bank_only_whom_it_marks(tmp_path):
    from munibond.reports.directory import DatabaseDirectory
    from munibond.zengin import BankAccount

    store = open_store(f"sqlite:///{tmp_path / 'investors.db'}")
    chiba = MasterData(legal_name="千葉商事株式会社", address="横浜市", **BANK, pay_by="bank")
    yamada = MasterData(legal_name="山田 太郎", address="横浜市", **{**BANK, "account_holder": "ﾔﾏﾀﾞ ﾀﾛｳ"})
    store.upsert([InvestorRecord("K-3", chiba, None, None, (C,)), InvestorRecord("K-1", yamada, None, None, (A, B))])
    directory = DatabaseDirectory(store)
    (wallet,) = directory.bank_paid()
    contact = directory.bank_paid()[wallet]
    assert wallet == C and contact.investor_id == "K-3" and contact.name == "千葉商事株式会社"
    assert contact.bank_account == BankAccount(
        "0005", "123", "2", "0765432", "チバショウジ（カ", "ミツビシ", "ヨコハマ"
    )
    assert directory.lookup(B.upper().replace("0X", "0x")).investor_id == "K-1"  # any spelling of the address
    assert not directory.lookup(A).paid_by_bank and directory.lookup("0x" + "4" * 40) is None


def test_a_stored_account_zengin_cannot_hold_is_refused_by_investor_and_field(tmp_path):
    from munibond.reports.directory import DatabaseDirectory

    store = open_store(f"sqlite:///{tmp_path / 'investors.db'}")
    stored = MasterData(
        legal_name="千葉商事", address="横浜市", **{**BANK, "account_holder": "千葉商事"}, pay_by="bank"
    )
    store.upsert([InvestorRecord("K-3", stored, None, None, (C,))])  # written by other means than the validation
    with pytest.raises(InputError) as caught:
        DatabaseDirectory(store)
    assert str(caught.value) == "account_name: investor K-3: cannot go into a Zengin file"


def test_which_directory_a_command_reads(tmp_path):
    from munibond.reports.directory import CsvInvestorDirectory, DatabaseDirectory, EmptyDirectory, investor_directory

    manifest = tmp_path / "manifest.json"
    resolve = str
    choose = {"db": None, "manifest": manifest, "resolve": resolve}
    assert isinstance(investor_directory(None, **choose, required=False), EmptyDirectory)
    with pytest.raises(InputError) as caught:
        investor_directory(None, **choose, required=True)
    assert "no investor database" in caught.value.message
    assert not (tmp_path / "investors.db").exists()  # a report creates no database
    open_store(f"sqlite:///{tmp_path / 'investors.db'}")
    assert isinstance(investor_directory(None, **choose, required=True), DatabaseDirectory)
    directory_csv = tmp_path / "directory.csv"
    directory_csv.write_text(
        "wallet,investor_id,name,pay_by,bank_code,branch_code,account_type,account_number,account_name,bank_name,"
        f"branch_name\n{A},K-1,Yamada,chain,,,,,,,\n"
    )
    assert isinstance(investor_directory(directory_csv, **choose, required=True), CsvInvestorDirectory)
