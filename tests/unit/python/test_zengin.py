"""The Zengin general-transfer file: every record 120 bytes of cp932 ending in CR LF, each field where the layout
(docs/bank-transfers.md) puts it, the trailer counting and summing the data records, names converted to
half-width katakana or refused."""

import datetime as dt
import re
from pathlib import Path

import pytest

from munibond.zengin import (
    DATA,
    END,
    HEADER,
    RECORD_LENGTH,
    TRAILER,
    BankAccount,
    Originator,
    Transfer,
    parse_transfer_file,
    to_zengin_text,
    transfer_file,
)

PAYER = Originator(
    "0000012345", "カナガワケン", BankAccount("0138", "100", "futsu", "7654321", "カナガワケン", "ヨコハマ", "ホンテン")
)
DOI = BankAccount("0001", "001", "futsu", "1234567", "ドイ　シロウ", "ミズホ", "ホンテン")
CHIBA = BankAccount("0005", "123", "toza", "765432", "ちばしょうじ（かぶ", "", "")


def test_every_layout_is_120_bytes():
    for layout in (HEADER, DATA, TRAILER, END):
        assert sum(length for _name, length, _kind in layout) == RECORD_LENGTH


def test_file_records_fields_and_trailer():
    data = transfer_file(
        PAYER,
        dt.date(2027, 3, 25),
        [Transfer(DOI, 4_121, "0000000001", "KNGW-0004"), Transfer(CHIBA, 1_000_000, "0000000002")],
    )
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and [len(line) for line in lines[:-1]] == [RECORD_LENGTH] * 5
    assert data.count(b"\r\n") == 5 and b"\n" not in data.replace(b"\r\n", b"")
    header, doi, chiba, trailer, end = parse_transfer_file(data)
    assert header == {
        "data_kind": "1",
        "transfer_kind": "21",
        "code_set": "0",
        "requester_code": "0000012345",
        "requester_name": "ｶﾅｶﾞﾜｹﾝ".ljust(40),
        "transfer_date": "0325",
        "bank_code": "0138",
        "bank_name": "ﾖｺﾊﾏ".ljust(15),
        "branch_code": "100",
        "branch_name": "ﾎﾝﾃﾝ".ljust(15),
        "account_type": "1",
        "account_number": "7654321",
        "filler": " " * 17,
    }
    assert doi == {
        "data_kind": "2",
        "bank_code": "0001",
        "bank_name": "ﾐｽﾞﾎ".ljust(15),
        "branch_code": "001",
        "branch_name": "ﾎﾝﾃﾝ".ljust(15),
        "clearing_house": "    ",
        "account_type": "1",
        "account_number": "1234567",
        "recipient_name": "ﾄﾞｲ ｼﾛｳ".ljust(30),
        "amount": "0000004121",
        "new_code": "0",
        "customer_code_1": "0000000001",
        "customer_code_2": "KNGW-0004 ",
        "transfer_method": "7",
        "identification": " ",
        "filler": " " * 7,
    }
    assert (chiba["account_type"], chiba["account_number"], chiba["amount"]) == ("2", "0765432", "0001000000")
    assert chiba["recipient_name"].rstrip() == "ﾁﾊﾞｼﾖｳｼﾞ(ｶﾌﾞ" and chiba["bank_name"] == " " * 15
    assert trailer == {"data_kind": "8", "count": "000002", "total": "000001004121", "filler": " " * 101}
    assert end == {"data_kind": "9", "filler": " " * 119}


def test_half_width_katakana_is_one_byte_in_cp932():
    text = to_zengin_text("ガッコウ")
    assert text == "ｶﾞﾂｺｳ" and len(text.encode("cp932")) == len(text) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ヤマダ　タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"), ("ﾊﾟｰｸ", "ﾊﾟ-ｸ"), ("ＡＢＣ１２３", "ABC123"), ("abc-1.2/(x)", "ABC-1.2/(X)")],
)
def test_names_are_converted_to_the_file_characters(text, expected):
    assert to_zengin_text(text) == expected


@pytest.mark.parametrize("text", ["山田", "a@b", "naïve", "☆"])
def test_characters_the_format_lacks_are_refused(text):
    with pytest.raises(ValueError, match="cannot be written in a Zengin file"):
        to_zengin_text(text)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"bank_code": "001"}, "bank_code must be exactly 4 digits"),
        ({"branch_code": "1a3"}, "branch_code must be exactly 3 digits"),
        ({"account_type": "savingz"}, "account type must be"),
        ({"account_number": "12345678"}, "account_number must have at most 7 digits"),
        ({"account_name": " "}, "account_name must name"),
        ({"account_name": "ア" * 31}, "account_name must be at most 30"),
        ({"bank_name": "漢字"}, "bank_name: "),
    ],
)
def test_bad_accounts_are_refused(fields, message):
    values = {
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "1",
        "account_number": "1",
        "account_name": "ｱ",
    } | fields
    with pytest.raises(ValueError, match=message):
        BankAccount(**values)


@pytest.mark.parametrize("amount", [0, -1, 10**10, True])
def test_amounts_fit_ten_digits_and_are_positive(amount):
    with pytest.raises(ValueError, match="amount must be"):
        Transfer(DOI, amount)


def test_an_empty_file_is_refused():
    with pytest.raises(ValueError, match="at least one transfer"):
        transfer_file(PAYER, dt.date(2027, 3, 25), [])


def test_the_documented_layout_is_the_one_implemented():
    """docs/bank-transfers.md: each table's positions and lengths are those of the layouts in code, in order."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "bank-transfers.md").read_text(encoding="utf-8")
    sections = doc.split("### ")[1:]
    tables = {}
    for section in sections:
        title = section.splitlines()[0]
        rows = [re.match(r"\| (\d+(?:–\d+)?) \| (\d+) \|", line) for line in section.splitlines()]
        tables[title] = [(m.group(1), int(m.group(2))) for m in rows if m]
    expected = {"Header record": HEADER, "Data record": DATA, "Trailer record": TRAILER, "End record": END}
    for prefix, layout in expected.items():
        (title,) = [t for t in tables if t.startswith(prefix)]
        start, want = 1, []
        for _name, length, _kind in layout:
            want.append((str(start) if length == 1 else f"{start}–{start + length - 1}", length))
            start += length
        assert tables[title] == want, title
