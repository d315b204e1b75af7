"""The token's ERC-7092 style terms from a term sheet: the coupon rate exact at its fixed scale, one code per
day-count convention (and its stub convention)."""

from pathlib import Path
from typing import get_args

import pytest

from munibond.chain.series import COUPON_RATE_SCALE, DAY_COUNT_BASIS, bond_terms
from munibond.terms import DayCountName, TermSheetError, load_term_sheet

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
KANAGAWA = (EXAMPLES / "kanagawa-resident-2026.yaml").read_text()


def sheet(tmp_path: Path, *replacements: tuple[str, str]):
    text = KANAGAWA
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "terms.yaml"
    path.write_text(text)
    return load_term_sheet(path)


@pytest.mark.parametrize(
    ("rate", "scaled"),
    [("0.0085", 850_000), ("0.00125", 125_000), ("0.00455", 455_000), ("0.00000001", 1)],
)
def test_coupon_rate_is_exact_at_the_token_scale(tmp_path, rate, scaled):
    terms = sheet(tmp_path, ('rate: "0.0085"', f'rate: "{rate}"'))
    assert bond_terms(terms, "")["couponRate"] == scaled
    assert COUPON_RATE_SCALE == 10**8  # BondTokenAdmin.COUPON_RATE_SCALE


def test_a_rate_finer_than_the_scale_is_refused_at_coupon_rate(tmp_path):
    terms = sheet(tmp_path, ('rate: "0.0085"', 'rate: "0.004555555"'))
    with pytest.raises(TermSheetError, match=r"0\.004555555") as raised:
        bond_terms(terms, "")
    assert "coupon.rate" in str(raised.value)


def test_every_day_count_convention_has_its_own_code():
    assert set(DAY_COUNT_BASIS) == set(get_args(DayCountName))
    assert sorted(DAY_COUNT_BASIS.values()) == list(range(len(DAY_COUNT_BASIS)))
    assert max(DAY_COUNT_BASIS.values()) < 15  # the stub's code + 1 fits the high four bits


def test_stub_convention_is_coded_above_the_regular_one(tmp_path):
    # The example: ACT/ACT-ICMA, ACT/365F stubs -> 0 | (2 + 1) << 4.
    assert bond_terms(sheet(tmp_path), "")["dayCountBasis"] == 48
    same = sheet(tmp_path, ("stub_day_count: ACT/365F", "stub_day_count: ACT/ACT-ICMA"))
    assert bond_terms(same, "")["dayCountBasis"] == 0
    isda = sheet(tmp_path, ("day_count: ACT/ACT-ICMA", "day_count: ACT/ACT-ISDA"), ("stub_day_count: ACT/365F", ""))
    assert bond_terms(isda, "")["dayCountBasis"] == 4
