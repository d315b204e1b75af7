"""Term-sheet loading: the examples load; every bad field is reported as file:line: field: message."""

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from munibond.errors import InputError
from munibond.terms import CouponRounding, TermSheetError, isin_check_digit_ok, load_term_sheet, term_sheet_hash

ROOT = Path(__file__).resolve().parents[3]
KANAGAWA = ROOT / "examples" / "kanagawa-resident-2026.yaml"
ZURICH = ROOT / "examples" / "zurich-2030.yaml"


def test_kanagawa_example_loads():
    ts = load_term_sheet(KANAGAWA)
    assert ts.currency == "JPY" and ts.minor_units == 0
    assert ts.denomination == Decimal(10000)
    assert ts.total_units == 50_000
    assert ts.max_holding_units == 100  # ¥1,000,000 / ¥10,000
    assert ts.min_holding_units == 1
    assert ts.coupon.rate == Decimal("0.0085")
    assert ts.coupon.first_coupon_date == date(2026, 9, 25)
    assert ts.compliance.regions[0].region == 140007
    assert ts.roles.payer == "treasury"
    assert ts.tax is not None and ts.tax.account == "tax_office"
    assert ts.lockup_until_time is None


def test_zurich_example_loads():
    ts = load_term_sheet(ZURICH)
    assert ts.currency == "CHF" and ts.minor_units == 2
    assert ts.denomination_minor == 500_000
    assert ts.coupon.day_count == "30E/360"
    assert ts.compliance.countries == [756, 438]
    assert ts.max_holding_units is None


def test_isin_check_digit():
    # Published ISINs: Apple US0378331005, Nestlé CH0038863350
    assert isin_check_digit_ok("US0378331005")
    assert isin_check_digit_ok("CH0038863350")
    assert not isin_check_digit_ok("US0378331006")


def test_term_sheet_hash_is_sha256_of_file_bytes(tmp_path):
    digest = term_sheet_hash(KANAGAWA)
    assert len(digest) == 32
    assert digest == hashlib.sha256(KANAGAWA.read_bytes()).digest()
    changed = tmp_path / "changed.yaml"
    changed.write_bytes(KANAGAWA.read_bytes() + b"\n")
    assert term_sheet_hash(changed) != digest


def _line_of(text: str, needle: str) -> int:
    """1-based line of the last line containing `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert found, f"{needle!r} not in the text"
    return found[-1]


# (original line fragment, replacement, field path, message fragment)
CASES = [
    (
        '  rate: "0.0085"',
        "  rate: 0.0085",
        "coupon.rate",
        'must be a decimal string like "0.0085", got float 0.0085',
    ),
    ("  frequency: 2", "  frequency: 3", "coupon.frequency", "1, 2, 4 or 12"),
    ("  frequency: 2", "  frequency: 2.0", "coupon.frequency", "must be an integer, got float 2.0"),
    ("  day_count: ACT/ACT-ICMA", "  day_count: ACT/ACT", "coupon.day_count", "'ACT/ACT-ICMA'"),
    ("  end_of_month: false", "  end_of_month: false\n  colour: red", "coupon.colour", "unknown key"),
    ('isin: "JP2140001A63"', 'isin: "JP2140001A60"', "isin", "wrong check digit"),
    ('isin: "JP2140001A63"', 'isin: "JP21400"', "isin", "must be an ISIN"),
    ("denomination: 10000", "denomination: 10000.0", "denomination", "got float 10000.0"),
    ("denomination: 10000", 'denomination: "10000.5"', "denomination", "finer than the JPY minor unit"),
    ("issue_size: 500000000", "issue_size: 500005000", "issue_size", "multiple of the denomination"),
    ("issue_date: 2026-04-01", "issue_date: 2026-02-30", "issue_date", "not a valid timestamp"),
    ("issue_date: 2026-04-01", 'issue_date: "2026-4-1"', "issue_date", "must be a date like 2026-04-01"),
    ("issue_date: 2026-04-01", "issue_date: 20260401", "issue_date", "must be a date like 2026-04-01"),
    ("issue_date: 2026-04-01", "issue_date: 2026-04-01T09:00:00", "issue_date", "no time of day"),
    ("maturity_date: 2031-03-25", "maturity_date: 2026-03-25", "maturity_date", "after issue_date"),
    (
        "  first_coupon_date: 2026-09-25",
        "  first_coupon_date: 2031-09-25",
        "coupon.first_coupon_date",
        "not after",
    ),
    ("calendar: JP", "calendar: Tokyo", "calendar", "'JP', 'CH', 'US', 'TARGET' or 'NONE'"),
    ("timezone: Asia/Tokyo", "timezone: Asia/Tokio", "timezone", "unknown time zone"),
    ("region: 140007}", "region: 0140007}", "compliance.regions[0].region", "leading zeros"),
    ("region: 140007}", "region: 16777216}", "compliance.regions[0].region", "less than 16777216"),
    (
        "  countries: [392]",
        "  countries: [392, 1000]",
        "compliance.countries[1]",
        "less than or equal to 999",
    ),
    (
        "  regions: [{country",
        "  regions: [{country: 756, region: 1}, {country",
        "compliance.regions[0].country",
        "not in",
    ),
    (
        "  max_holding_per_investor: 1000000",
        "  max_holding_per_investor: 1005000",
        "compliance.max_holding_per_investor",
        "multiple",
    ),
    ("  min_holding: 10000", "  min_holding: 2000000", "compliance.min_holding", "must not exceed"),
    (
        "  admin: issuer",
        '  admin: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"',
        "roles.admin",
        "bad EIP-55 checksum",
    ),
    ("  admin: issuer", '  admin: "0x12"', "roles.admin", "not a 20-byte hex address"),
    ("  admin: issuer", "  admin: 12", "roles.admin", "got int 12"),
    ("  payer: treasury", "  payer: treasury\n  payer: agent", "roles.payer", "duplicate key"),
    (
        "  amortization: []",
        '  amortization: [{date: 2028-03-25, percent_of_original_face: "60"}, '
        '{date: 2029-03-25, percent_of_original_face: "50"}]',
        "redemption.amortization",
        "more than 100%",
    ),
    (
        "  call: []",
        '  call: [{date: 2031-09-25, price: "100", notice_days: 30}]',
        "redemption.call[0].date",
        "before maturity_date",
    ),
    ('  price: "100"', "  price: 100.5", "redemption.price", 'like "100", got float 100.5'),
    (
        "  lockup_until: null",
        "  lockup_until: 2025-01-01",
        "compliance.lockup_until",
        "not be before issue_date",
    ),
    (
        "  blackout_windows: []",
        "  blackout_windows: [{start: 2026-09-24T00:00:00, end: 2026-09-23T00:00:00}]",
        "compliance.blackout_windows[0].end",
        "after start",
    ),
    ('    sha256: "0x9f86', '    sha256: "9f86', "documents[0].sha256", "32-byte hex digest"),
    (
        "  - name: prospectus",
        "  - name: prospectus_of_the_kanagawa_resident_bond",
        "documents[0].name",
        "at most 32 bytes of UTF-8",
    ),
    ("  type: fixed", "  type: zero", "coupon.rate", "no coupon rate", 'rate: "0.0085"'),
    (
        "record_date: {business_days_before_payment: 1}",
        "record_date: {business_days_before_payment: 0}",
        "record_date.business_days_before_payment",
        "greater than or equal to 1",
    ),
    ("  frequency: 2", "  frequency: true", "coupon.frequency", "must be an integer, got bool True"),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding: {method: per_currency_unit}",
        "coupon.rounding.decimals",
        "required for method per_currency_unit",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding:\n    method: per_currency_unit\n    decimals: 13.0",
        "coupon.rounding.decimals",
        "must be an integer, got float 13.0",
    ),
    (
        "  end_of_month: false",
        '  end_of_month: false\n  rounding: {method: per_currency_unit, decimals: "13"}',
        "coupon.rounding.decimals",
        "must be an integer, got str '13'",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding:\n    method: per_currency_unit\n    decimals: 0",
        "coupon.rounding.decimals",
        "greater than or equal to 1, got int 0",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding: {method: per_currency_unit, decimals: 19}",
        "coupon.rounding.decimals",
        "less than or equal to 18, got int 19",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding: {method: per_yen, decimals: 13}",
        "coupon.rounding.method",
        "'exact' or 'per_currency_unit', got str 'per_yen'",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding:\n    method: exact\n    decimals: 13",
        "coupon.rounding.decimals",
        "only for method per_currency_unit",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding: per_currency_unit",
        "coupon.rounding",
        "valid dictionary",
    ),
    (
        "  end_of_month: false",
        "  end_of_month: false\n  rounding: {method: per_currency_unit, decimals: 13, mode: down}",
        "coupon.rounding.mode",
        "unknown key",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[1][:40] for c in CASES])
def test_bad_field_is_located(tmp_path, case):
    original, replacement, field, fragment = case[:4]
    # the reported line is the one carrying the field: by default the last line of the replacement
    needle = case[4] if len(case) > 4 else replacement.splitlines()[-1]
    text = KANAGAWA.read_text()
    assert original in text
    bad = tmp_path / "bond.yaml"
    bad_text = text.replace(original, replacement, 1)
    bad.write_text(bad_text)
    with pytest.raises(TermSheetError) as info:
        load_term_sheet(bad)
    err = info.value
    assert isinstance(err, InputError)
    issue = next((i for i in err.issues if i.field == field), None)
    assert issue is not None, [str(i) for i in err.issues]
    assert fragment in issue.message, str(issue)
    assert issue.file == str(bad)
    expected_line = _line_of(bad_text, needle)
    assert issue.line == expected_line, str(issue)
    assert str(issue).startswith(f"{bad}:{expected_line}: {field}: ")


def test_coupon_rounding_loads_and_defaults_to_exact(tmp_path):
    assert load_term_sheet(KANAGAWA).coupon.rounding == CouponRounding(method="exact", decimals=None)
    text = KANAGAWA.read_text().replace(
        "  end_of_month: false", "  end_of_month: false\n  rounding: {method: per_currency_unit, decimals: 13}", 1
    )
    path = tmp_path / "bond.yaml"
    path.write_text(text)
    assert load_term_sheet(path).coupon.rounding == CouponRounding(method="per_currency_unit", decimals=13)


def test_coupon_rounding_is_refused_for_a_zero_coupon_bond(tmp_path):
    text = (
        KANAGAWA.read_text()
        .replace("  type: fixed", "  type: zero", 1)
        .replace('  rate: "0.0085"\n', "", 1)
        .replace("  frequency: 2\n", "", 1)
        .replace("  stub_day_count: ACT/365F       # broken period = actual days / 365 (29 February counted)\n", "", 1)
        .replace("  first_coupon_date: 2026-09-25\n", "", 1)
        .replace(
            "  end_of_month: false", "  end_of_month: false\n  rounding: {method: per_currency_unit, decimals: 13}"
        )
    )
    path = tmp_path / "bond.yaml"
    path.write_text(text)
    with pytest.raises(TermSheetError) as info:
        load_term_sheet(path)
    assert [i.field for i in info.value.issues] == ["coupon.rounding"]
    line = _line_of(text, "  rounding:")
    assert str(info.value.issues[0]) == (
        f"{path}:{line}: coupon.rounding: not allowed for a zero-coupon bond (it pays no interest)"
    )


def test_missing_field_points_at_enclosing_mapping(tmp_path):
    text = KANAGAWA.read_text()
    bad = tmp_path / "bond.yaml"
    bad.write_text(text.replace("  payer: treasury\n", ""))
    with pytest.raises(TermSheetError) as info:
        load_term_sheet(bad)
    assert info.value.field == "roles.payer"
    assert info.value.line == _line_of(text, "roles:")
    assert "required" in info.value.message


def test_all_problems_reported_in_line_order(tmp_path):
    text = KANAGAWA.read_text()
    bad = tmp_path / "bond.yaml"
    bad.write_text(text.replace('  rate: "0.0085"', "  rate: 0.0085").replace("calendar: JP", "calendar: XX"))
    with pytest.raises(TermSheetError) as info:
        load_term_sheet(bad)
    fields = [i.field for i in info.value.issues]
    assert fields == ["coupon.rate", "calendar"]
    assert "(and 1 more)" in str(info.value)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("", "empty"), ("- a\n- b\n", "top level must be a mapping"), ("name: [unclosed\n", "YAML syntax")],
)
def test_unreadable_files(tmp_path, content, fragment):
    bad = tmp_path / "bond.yaml"
    bad.write_text(content)
    with pytest.raises(TermSheetError, match=fragment) as info:
        load_term_sheet(bad)
    assert info.value.file == str(bad)


def test_missing_file(tmp_path):
    with pytest.raises(TermSheetError, match="cannot read"):
        load_term_sheet(tmp_path / "nope.yaml")
