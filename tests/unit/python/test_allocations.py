"""Allocation CSV: wallet and units per row, every problem named by file, line and field."""

import pytest

from munibond.allocations import parse_allocations
from munibond.errors import InputError


def write(tmp_path, text: str):
    path = tmp_path / "allocations.csv"
    path.write_text(text)
    return path


def test_rows_are_read_with_their_lines(tmp_path):
    rows = parse_allocations(write(tmp_path, "wallet,units\nalias:investor_a,40\n\nalias:investor_b, 60\n"))
    assert [(a.line, a.alias, a.units) for a in rows] == [(2, "investor_a", 40), (4, "investor_b", 60)]


def test_every_problem_is_listed_in_line_order(tmp_path):
    path = write(
        tmp_path,
        "wallet,units\nalias:investor_a,0\nalias:investor_b\nalias:investor_c,1.5\nalias:investor_d,5\n"
        "alias:investor_d,6\n",
    )
    with pytest.raises(InputError) as err:
        parse_allocations(path)
    assert [(i.line, i.field) for i in err.value.issues] == [
        (2, "units"),
        (3, "(row)"),
        (4, "units"),
        (6, "wallet"),
    ]
    assert err.value.issues[0].message == "must be at least 1"
    assert err.value.issues[3].message == "duplicate wallet (already on line 5)"


def test_the_issue_size_caps_the_total(tmp_path):
    path = write(tmp_path, "wallet,units\nalias:investor_a,40\nalias:investor_b,61\n")
    assert sum(a.units for a in parse_allocations(path, total_units=101)) == 101
    with pytest.raises(InputError, match="allocates 101 units, the issue size is 100"):
        parse_allocations(path, total_units=100)


def test_the_header_is_checked(tmp_path):
    with pytest.raises(InputError, match="header must be wallet,units"):
        parse_allocations(write(tmp_path, "address,units\nalias:investor_a,40\n"))
    with pytest.raises(InputError, match="the file is empty"):
        parse_allocations(write(tmp_path, ""))
