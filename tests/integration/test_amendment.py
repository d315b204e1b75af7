"""Amending a deployed series to a corrected term sheet: only the schedule changes, period by period with old
and new terms on chain, never a period past its record date or funded, and a re-run sends nothing."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.term_amendment import amend_terms
from munibond.errors import InputError
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet, term_sheet_hash
from tests.integration.example_series import deploy_example_series

SYMBOL = "KNGW26"


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("amend")
    s, entry, terms = deploy_example_series(project, chain, tmp)
    return s, entry, terms, payment_agent(s.project, entry["payment_agent"])


def amended(terms, tmp_path, change) -> object:
    """A copy of the deployed term sheet with `change(raw dict)` applied."""
    raw = yaml.safe_load(terms.read_text())
    change(raw)
    path = tmp_path / "amended.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def nonce(s, alias: str) -> int:
    return s.chain.provider.web3.eth.get_transaction_count(s.signers.address(alias))


def two_business_days(raw) -> None:
    raw["record_date"] = {"business_days_before_payment": 2}


def test_a_record_date_correction_amends_every_period_once(series, tmp_path):
    s, entry, terms, agent = series
    path = amended(terms, tmp_path, two_business_days)
    schedule = build_schedule(load_term_sheet(path))
    token = bond_token(s.project, entry["token"])

    sent = nonce(s, "issuer")
    preview = amend_terms(s, SYMBOL, path, admin="issuer", dry_run=True)
    assert len(preview.changes) == len(schedule.periods) and preview.hash_updated
    assert nonce(s, "issuer") == sent

    report = amend_terms(s, SYMBOL, path, admin="issuer")
    assert [c.period for c in report.changes] == list(range(len(schedule.periods)))
    assert nonce(s, "issuer") == sent + len(schedule.periods) + 1  # one per period, then the hash
    for i, period in enumerate(schedule.periods):
        assert int(agent.periodTerms(i).recordTime) == period.record_time
        change = report.changes[i]
        assert change.new.record_time == period.record_time < change.old.record_time
        assert change.new.coupon == change.old.coupon  # the coupon itself is unchanged
    assert [int(t) for t in token.recordTimes()] == [p.record_time for p in schedule.periods]
    assert bytes(agent.termSheetHash()) == term_sheet_hash(path)
    events = agent.PeriodAmended.query("*", start_block=int(entry["block"]))
    assert len(events) == len(schedule.periods)
    manifest = json.loads(s.manifest.path.read_text())
    stored = manifest["series"][SYMBOL]["term_sheet"]
    assert not Path(stored).is_absolute() and s.manifest.term_sheet(SYMBOL).resolve() == path.resolve()

    again = amend_terms(s, SYMBOL, path, admin="issuer")
    assert again.changes == [] and not again.hash_updated
    assert nonce(s, "issuer") == sent + len(schedule.periods) + 1


def test_the_per_yen_rounding_amends_the_broken_period_coupon_only(series, tmp_path):
    s, _entry, terms, agent = series

    def per_yen(raw) -> None:
        raw["coupon"]["rounding"] = {"method": "per_currency_unit", "decimals": 13}

    path = amended(terms, tmp_path, per_yen)
    report = amend_terms(s, SYMBOL, path, admin="issuer")
    # only the 177-day first period changes: 3009/73 -> 10,000 × 0.0041219178082 = 20609589041/500000000 yen
    assert [c.period for c in report.changes] == [0]
    change = report.changes[0]
    assert change.new.coupon / change.old.coupon == Fraction(20609589041, 500_000_000) / Fraction(3009, 73)
    assert change.new.record_time == change.old.record_time
    on_chain = agent.periodTerms(0)
    assert Fraction(int(on_chain.couponNum), int(on_chain.couponDen)) == change.new.coupon
    assert amend_terms(s, SYMBOL, path, admin="issuer").changes == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda raw: raw["coupon"].update(rate="0.009"), "coupon.rate", "would change the token's couponRate"),
        (lambda raw: raw.update(issue_size=600000000), "issue_size", "cannot be amended on chain"),
        (lambda raw: raw["compliance"].update(max_holders=10), "compliance", "cannot be amended on chain"),
        (lambda raw: raw.update(timezone="Europe/Zurich"), "issue_date", "would change the token's issueDate"),
    ],
)
def test_what_the_token_fixed_at_deployment_cannot_be_amended(series, tmp_path, change, field, message):
    s, _entry, terms, _agent = series
    path = amended(terms, tmp_path, change)
    sent = nonce(s, "issuer")
    with pytest.raises(InputError) as err:
        amend_terms(s, SYMBOL, path, admin="issuer")
    assert err.value.file == str(path) and err.value.field == field and message in err.value.message
    assert err.value.line is not None
    assert nonce(s, "issuer") == sent


def test_periods_cannot_be_added_or_removed(series, tmp_path):
    s, _entry, terms, _agent = series

    # a long first period instead of the short one: one period fewer
    def long_first_period(raw) -> None:
        first = raw["coupon"]["first_coupon_date"]
        raw["coupon"]["first_coupon_date"] = first.replace(year=first.year + 1, month=3)

    path = amended(terms, tmp_path, long_first_period)
    if len(build_schedule(load_term_sheet(path)).periods) == len(build_schedule(load_term_sheet(terms)).periods):
        pytest.fail("the amended example was meant to change the number of periods")
    with pytest.raises(InputError, match="periods can be amended, not added or removed"):
        amend_terms(s, SYMBOL, path, admin="issuer")


def test_a_period_past_its_record_date_is_locked_the_later_ones_are_not(series, tmp_path):
    s, _entry, terms, agent = series
    s.chain.mine(timestamp=int(agent.periodTerms(0).recordTime) + 1)
    with pytest.raises(InputError, match="period 1: its record date has passed, its terms are locked"):
        amend_terms(s, SYMBOL, amended(terms, tmp_path, two_business_days), admin="issuer")

    # a redemption price correction touches only the last period: still open, so it is amended
    def price(raw) -> None:
        raw["redemption"]["price"] = "100.5"

    path = amended(terms, tmp_path, price)
    report = amend_terms(s, SYMBOL, path, admin="issuer")
    last = len(build_schedule(load_term_sheet(path)).periods) - 1
    assert [c.period for c in report.changes] == [last]
    assert report.changes[0].new.principal == report.changes[0].old.principal * 201 / 200
