"""Pure helpers behind the operator commands: currency amounts, demo date shifting, BDT decimals, --help examples."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
import yaml
from click.testing import CliRunner

from munibond.chain.bond_export import decimal_text, per_unit_text
from munibond.chain.funding import base_units, currency_text
from munibond.cli import main
from munibond.clock import day_start
from munibond.demo_dates import is_shifted_copy_of, write_shifted, years_needed, years_to_start_after
from munibond.errors import InputError
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet
from tests.integration.test_cli_workflow import EXAMPLES


def test_currency_text_is_exact_in_currency_units():
    assert currency_text(4_121_000, 0, 0) == "4,121,000"
    assert currency_text(123_450, 2, 2) == "1,234.50"
    assert currency_text(5 * 10**18, 18, 2) == "5.00"
    assert currency_text(10**18 + 1, 18, 2) == "1.000000000000000001"


def test_base_units_refuses_what_the_token_cannot_hold():
    assert base_units(Decimal("5000000"), 0) == 5_000_000
    assert base_units(Decimal("1234.50"), 2) == 123_450
    for bad in ("0.5", "0", "-1", "Infinity"):
        with pytest.raises(InputError):
            base_units(Decimal(bad), 0)


def test_decimal_text_never_rounds():
    assert decimal_text(Fraction(85, 100), 0) == "0.85"
    assert decimal_text(Fraction(10_000), 0) == "10000"
    assert decimal_text(Fraction(500_000), 2) == "500000.00"
    assert per_unit_text(Fraction(3009, 73), 0) == "3009/73"
    with pytest.raises(ValueError):
        decimal_text(Fraction(1, 3), 0)


def test_shift_dates_moves_whole_years_and_the_calendar_follows(tmp_path):
    example = EXAMPLES / "kanagawa-resident-2026.yaml"
    original = load_term_sheet(example)
    now = day_start(dt.date(2026, 12, 2), "Asia/Tokyo")
    years = years_needed(example, now)
    assert years == 1
    moved = write_shifted(example, years, tmp_path)
    assert is_shifted_copy_of(moved, example) and moved.parent == tmp_path
    assert moved.read_text().startswith("# kanagawa-resident-2026.yaml with every date moved 1 year(s) later")
    terms = load_term_sheet(moved)
    assert (terms.issue_date, terms.maturity_date) == (dt.date(2027, 4, 1), dt.date(2032, 3, 25))
    assert terms.coupon.first_coupon_date == dt.date(2027, 9, 25)
    periods = build_schedule(terms).periods
    assert periods[0].record_time > now
    # 25 September 2027 is a Saturday: the payment rolls to the preceding business day of the new year, Friday 24th
    assert periods[0].payment_date == dt.date(2027, 9, 24)
    assert build_schedule(original).periods[0].payment_date == dt.date(2026, 9, 25)
    assert write_shifted(example, 0, tmp_path) == example
    raw = yaml.safe_load(example.read_text())
    assert years_to_start_after(raw["issue_date"], day_start(dt.date(2026, 3, 31), "Asia/Tokyo"), "Asia/Tokyo") == 0


@pytest.mark.parametrize(
    "command",
    [
        ["deploy"],
        ["fund"],
        ["export"],
        ["schedule"],
        ["amend"],
        ["call"],
        ["redeem"],
        ["coupon", "pay"],
        ["coupon", "status"],
        ["coupon", "reclaim"],
        ["coupon", "payments"],
        ["coupon", "claim"],
    ],
)
def test_help_shows_examples(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    examples = result.output.split("Examples:", 1)[1]
    assert f"munibond {' '.join(command)} " in examples
