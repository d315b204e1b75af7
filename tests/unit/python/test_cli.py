"""The `munibond` command line (click's CliRunner, no chain)."""

import json
from pathlib import Path

from click.testing import CliRunner

from munibond.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[3]
KANAGAWA = ROOT / "examples" / "kanagawa-resident-2026.yaml"


def runner() -> CliRunner:
    return CliRunner(mix_stderr=False)


def test_schedule_json():
    result = runner().invoke(main, ["schedule", str(KANAGAWA), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["currency"] == "JPY" and data["minor_units"] == 0 and data["denomination"] == "10000"
    assert len(data["periods"]) == 10
    first = data["periods"][0]
    assert first["year_fraction"] == "177/365"
    assert first["coupon_per_unit"] == "3009/73"
    assert first["record_date"] == "2026-09-24"
    assert data["periods"][-1]["principal_per_unit"] == "10000"
    assert data["calls"] == []


def test_schedule_shows_the_term_sheets_call_options(tmp_path):
    callable_bond = tmp_path / "callable.yaml"
    text = KANAGAWA.read_text()
    assert "  call: []" in text
    callable_bond.write_text(
        text.replace(
            "  call: []",
            '  call: [{date: 2027-09-25, price: "100.5", notice_days: 10}, '
            '{date: 2027-12-25, price: "100", notice_days: 30}]',
        )
    )
    result = runner().invoke(main, ["schedule", str(callable_bond), "--json"])
    assert result.exit_code == 0, result.stderr
    on_coupon_date, mid_period = json.loads(result.stdout)["calls"]
    # 25 Sep 2027 is a Saturday: paid on Friday the 24th (preceding), record date one business day before
    # (Thursday the 23rd is Autumnal Equinox Day, so the 22nd); on a coupon date the whole coupon is accrued
    assert on_coupon_date == {
        "date": "2027-09-25",
        "notice_by": "2027-09-15",
        "price": "100.5",
        "record_date": "2027-09-22",
        "payment_date": "2027-09-24",
        "accrued_coupon_per_unit": "85/2",
        "principal_per_unit": "10050",
        "record_time": on_coupon_date["record_time"],
        "payment_time": on_coupon_date["payment_time"],
    }
    # 91 of the 182 days from 25 Sep 2027 to 25 Mar 2028 (ICMA): half of the ¥42.5 coupon
    assert mid_period["accrued_coupon_per_unit"] == "85/4" and mid_period["notice_by"] == "2027-11-25"
    assert mid_period["payment_date"] == "2027-12-24"

    table = runner().invoke(main, ["schedule", str(callable_bond)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.stderr
    assert "call options" in table.stdout and "2027-11-25" in table.stdout and "10,050" in table.stdout


def test_schedule_table():
    result = runner().invoke(main, ["schedule", str(KANAGAWA)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.stderr
    assert "Kanagawa Resident Bond 2026" in result.stdout
    assert "3009/73" in result.stdout and "2027-09-24" in result.stdout


def test_bad_term_sheet_exits_2_with_location(tmp_path):
    text = KANAGAWA.read_text().replace('  rate: "0.0085"', "  rate: 0.0085")
    bad = tmp_path / "bond.yaml"
    bad.write_text(text)
    line = text.splitlines().index("  rate: 0.0085") + 1
    result = runner().invoke(main, ["schedule", str(bad), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f'error: {bad}:{line}: coupon.rate: must be a decimal string like "0.0085", got float 0.0085'
    )


def test_missing_file_exits_2(tmp_path):
    result = runner().invoke(main, ["schedule", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "none.yaml" in result.stderr


def test_group_lists_lazy_commands():
    result = runner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_bank_payment_file_errors_exit_2_before_connecting(tmp_path):
    bad = tmp_path / "bank.csv"
    bad.write_text("wallet,reference\nalias:investor_c,TX 1\nalias:investor_d,\n")
    # the network is unreachable: the file is refused before any connection is tried
    result = runner().invoke(main, ["coupon", "offchain", "KNGW26", "1", str(bad), "--network", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {bad}:3: reference: must name the bank transfer (its reference or id)"


def test_a_malformed_amended_term_sheet_exits_2_before_connecting(tmp_path):
    bad = tmp_path / "amended.yaml"
    text = KANAGAWA.read_text().replace("business_days_before_payment: 1", "business_days_before_payment: -1")
    bad.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "business_days_before_payment: -1" in row)
    result = runner().invoke(main, ["amend", "KNGW26", str(bad), "--network", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:{line}: record_date.business_days_before_payment: ")


def test_a_document_needs_exactly_one_of_file_and_sha256_before_connecting(tmp_path):
    args = ["documents", "set", "KNGW26", "annual_report", "ipfs://x", "--network", "http://127.0.0.1:9"]
    neither = runner().invoke(main, args)
    assert neither.exit_code == 2 and "give exactly one of --file and --sha256" in neither.stderr
    bad = runner().invoke(main, [*args, "--sha256", "0x1234"])
    assert bad.exit_code == 2 and "sha256: must be 0x + 64 hex digits" in bad.stderr
