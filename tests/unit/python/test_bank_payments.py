"""Bank payment CSV: wallet and reference per row, every problem named by file, line and field."""

import pytest
from eth_utils import keccak

from munibond.bank_payments import MAX_REFERENCE_LENGTH, parse_bank_payments
from munibond.errors import InputError

WALLET = "0x" + "ab" * 20


def write(tmp_path, text: str):
    path = tmp_path / "bank.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_keep_their_line_and_hash_the_reference(tmp_path):
    path = write(tmp_path, "wallet,reference\n\nalias:investor_c,みずほ 0925-001\n" + WALLET + ",TX 2\n")
    first, second = parse_bank_payments(path)
    assert (first.line, first.alias, first.reference) == (3, "investor_c", "みずほ 0925-001")
    assert first.reference_hash == keccak("みずほ 0925-001".encode())
    assert second.wallet.lower() == WALLET and second.wallet != WALLET  # checksummed
    assert second.alias is None and second.line == 4


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("alias:investor_c,", "reference", "must name the bank transfer"),
        (f"alias:investor_c,{'x' * (MAX_REFERENCE_LENGTH + 1)}", "reference", "at most 140 characters"),
        ("alias:investor_c,TX\t1", "reference", "printable text"),
        ("0x1234,TX 1", "wallet", "neither a 0x address"),
        ("alias:investor_c", "(row)", "expected 2 fields, found 1"),
    ],
)
def test_a_bad_row_names_its_line_and_field(tmp_path, row, field, message):
    path = write(tmp_path, f"wallet,reference\nalias:investor_a,TX 0\n{row}\n")
    with pytest.raises(InputError) as err:
        parse_bank_payments(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 3, field)
    assert message in err.value.message


def test_duplicates_are_refused_and_every_problem_is_listed_in_line_order(tmp_path):
    path = write(
        tmp_path,
        "wallet,reference\nalias:investor_a,TX 1\nalias:investor_b\nalias:investor_a,TX 2\nalias:investor_c,TX 1\n",
    )
    with pytest.raises(InputError) as err:
        parse_bank_payments(path)
    assert [(i.line, i.field) for i in err.value.issues] == [(3, "(row)"), (4, "wallet"), (5, "reference")]
    assert "already on line 2" in err.value.issues[1].message and "already on line 2" in err.value.issues[2].message


def test_a_file_without_rows_or_with_another_header_is_refused(tmp_path):
    with pytest.raises(InputError, match="no bank payments listed"):
        parse_bank_payments(write(tmp_path, "wallet,reference\n"))
    with pytest.raises(InputError, match="header must be wallet,reference, got wallet,units"):
        parse_bank_payments(write(tmp_path, "wallet,units\nalias:investor_a,10\n"))
