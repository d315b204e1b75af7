"""The operator's path through the README as shipped, in separate `munibond` processes against one anvil node:
deploy the example with --shift-dates, export it as ICMA BDT JSON, amend --dry-run, pay a coupon with the test
payment token funded by `munibond fund`, and read every printed date in the issuer's zone (Asia/Tokyo: a payment
at 00:00 there is 15:00 UTC the day before)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
import yaml

from munibond.clock import calendar_years_after, show_time
from munibond.schedule import build_schedule
from munibond.terms import load_term_sheet
from tests.integration.test_cli_workflow import EXAMPLES, ROOT, munibond, node, nonces  # noqa: F401 (node: fixture)

EXAMPLE = EXAMPLES / "kanagawa-resident-2026.yaml"
TZ = "Asia/Tokyo"


@pytest.fixture(scope="module")
def deployed(node, tmp_path_factory):  # noqa: F811
    """The shipped example deployed as the README says, in a manifest of its own."""
    url, _web3 = node
    manifest = tmp_path_factory.mktemp("operator") / "manifest.json"
    result = munibond(url, manifest, "deploy", str(EXAMPLE), "--test-payment-token", "--shift-dates")
    assert result.returncode == 0, result.stderr
    entry = json.loads(manifest.read_text())["series"]["KNGW26"]
    shifted = (ROOT / entry["term_sheet"]).resolve()  # stored relative to the root: the cwd, outside a workspace
    assert shifted.parent == manifest.parent and shifted.name.startswith("kanagawa-resident-2026.shifted-")
    assert f"deploying {shifted}" in result.stdout
    return manifest, shifted


def test_the_shipped_example_deploys_with_shift_dates_and_a_rerun_sends_nothing(node, deployed):  # noqa: F811
    url, web3 = node
    manifest, shifted = deployed
    terms = load_term_sheet(shifted)
    original = load_term_sheet(EXAMPLE)
    years = terms.issue_date.year - original.issue_date.year
    assert years >= 1 and terms.maturity_date == original.maturity_date.replace(
        year=original.maturity_date.year + years
    )
    first = build_schedule(terms).periods[0]
    assert first.record_time > web3.eth.get_block("latest")["timestamp"]

    before = nonces(web3, "issuer", "registrar", "agent")
    again = munibond(url, manifest, "deploy", str(EXAMPLE), "--test-payment-token", "--shift-dates")
    assert again.returncode == 0, again.stderr
    assert "already deployed" in again.stdout
    assert nonces(web3, "issuer", "registrar", "agent") == before


def test_export_icma_json_matches_the_term_sheet(node, deployed, tmp_path):  # noqa: F811
    url, _web3 = node
    manifest, shifted = deployed
    terms = load_term_sheet(shifted)
    schedule = build_schedule(terms)
    out = tmp_path / "kngw26.json"
    result = munibond(url, manifest, "export", "KNGW26", "--format", "icma-json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    bdt = doc["ICMABondDataTaxonomy"]
    issuance, product = bdt["Issuance"], bdt["Product"]
    interest = product["InterestPayment"]

    assert bdt["PartyRole"] == [{"PartyRoleType": "ISSUER", "PartyID": {"PID": "ISSUER"}}]
    assert bdt["Party"] == [{"PID": "ISSUER", "PartyName": terms.issuer}]
    assert product["SecurityIdentifierList"]["SecurityIdentifier"] == [{"ISIN": terms.isin, "IdentifierType": "ISIN"}]
    assert issuance["SpecifiedCurrency"] == terms.currency == "JPY"
    # amounts are exact decimal strings in currency units, never JSON numbers
    assert issuance["SpecifiedDenomination"] == "10000" and Decimal("10000") == terms.denomination
    assert product["AggregateNominalAmount"] == "500000000" and Decimal("500000000") == terms.issue_size
    assert issuance["IssueDate"] == terms.issue_date.isoformat()
    assert product["MaturityDate"] == terms.maturity_date.isoformat()
    assert interest["InterestType"] == "FIXED"
    assert interest["InterestRate"] == "0.85" and Decimal(interest["InterestRate"]) == terms.coupon.rate * 100
    assert interest["InterestCommencementDate"] == terms.issue_date.isoformat()
    payments = interest["InterestPayments"]
    assert payments["InterestPaymentFrequency"] == "SEMI_ANNUAL" and terms.coupon.frequency == 2
    assert payments["PayableDate"] == [{"Day": 25, "Month": 3}, {"Day": 25, "Month": 9}]
    assert payments["FirstPayment"] == {"PaymentDate": schedule.periods[0].payment_date.isoformat()}
    assert product["DayCountFraction"] == "ACT/ACT (ICMA)" and terms.coupon.day_count == "ACT/ACT-ICMA"
    assert product["BusinessDayConvention"] == "PRECEDING" and terms.business_day_convention == "preceding"
    assert product["BusinessDayCenter"] == "JPTO" and terms.calendar == "JP"
    assert issuance["RedemptionPaymentBasis"] == "REDEMPTION_AT_PAR" and terms.redemption.price == 100

    extra = doc["munibond"]
    assert extra["payment_dates"] == [p.payment_date.isoformat() for p in schedule.periods]
    assert [p["RecordDate"] for p in extra["periods"]] == [p.record_date.isoformat() for p in schedule.periods]
    assert extra["time_zone"] == TZ and extra["currency_minor_units"] == 0
    assert extra["redemption_price_percent"] == "100"
    first = extra["periods"][0]
    assert first["InterestAmountPerDenomination"] == "3009/73"  # 177-day stub, ACT/365F: exact, as a fraction
    assert extra["periods"][1]["InterestAmountPerDenomination"] == "42.5"  # 10,000 x 0.85 % / 2
    assert extra["periods"][-1]["PrincipalAmountPerDenomination"] == "10000"

    printed = munibond(url, manifest, "export", "KNGW26")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["ICMABondDataTaxonomy"] == bdt


def test_amend_dry_run_prints_the_issuers_dates(node, deployed, tmp_path):  # noqa: F811
    url, web3 = node
    manifest, shifted = deployed
    raw = yaml.safe_load(shifted.read_text())
    raw["record_date"] = {"business_days_before_payment": 2}
    corrected = tmp_path / "corrected.yaml"
    corrected.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    first = build_schedule(load_term_sheet(shifted)).periods[0]
    before = nonces(web3, "issuer")
    result = munibond(url, manifest, "amend", "KNGW26", str(corrected), "--dry-run")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.strip().startswith("period 1:"))
    payment = f"{first.payment_date} 00:00 Asia/Tokyo"
    assert f"payment {payment} -> {payment}" in line
    assert "UTC" not in result.stdout
    assert nonces(web3, "issuer") == before


def _status_rows(stdout: str) -> dict[str, list[str]]:
    rows = [[c.strip() for c in line.strip().strip("│").split("│")] for line in stdout.splitlines() if "│" in line]
    return {row[0]: row for row in rows if row and row[0].isdigit()}


def test_coupon_pay_refuses_an_unfunded_payer_then_fund_and_pay_with_periods_numbered_from_1(node, deployed):  # noqa: F811
    url, web3 = node
    manifest, shifted = deployed
    salt_file = manifest.with_name("issuer-salt")
    salt_file.write_text("kanagawa\n")
    salt = ["--issuer-salt-file", str(salt_file)]
    onboard = munibond(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), *salt, "--yes")
    assert onboard.returncode == 0, onboard.stderr
    issued = munibond(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes")
    assert issued.returncode == 0, issued.stderr

    first = build_schedule(load_term_sheet(shifted)).periods[0]
    # the Tokyo payment is at 00:00 local, 15:00 UTC the day before: a UTC date would print a day early
    assert dt.datetime.fromtimestamp(first.payment_time, dt.UTC).date() == first.payment_date - dt.timedelta(days=1)
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])

    before = nonces(web3, "treasury")
    refused = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--yes")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "treasury holds 0 JPY" in refused.stderr and "short (nothing sent)" in refused.stderr
    hint = re.search(r"`munibond fund KNGW26 --amount (\d+) --to treasury`", refused.stderr)
    assert hint is not None, refused.stderr
    assert nonces(web3, "treasury") == before

    other = manifest.with_name("without-test-token.json")
    data = json.loads(manifest.read_text())
    del data["contracts"]["MockPaymentToken"]
    other.write_text(json.dumps(data))
    not_test = munibond(url, other, "fund", "KNGW26", "--amount", hint.group(1))
    assert not_test.returncode == 2 and "not in the test payment token" in not_test.stderr
    fraction = munibond(url, manifest, "fund", "KNGW26", "--amount", "0.5")
    assert fraction.returncode == 2 and "at most 0 decimals" in fraction.stderr
    assert nonces(web3, "treasury") == before

    funded = munibond(url, manifest, "fund", "KNGW26", "--amount", hint.group(1))
    assert funded.returncode == 0, funded.stderr
    amount = f"{int(hint.group(1)):,}"
    assert f"minted {amount} JPY of test payment token to treasury" in funded.stdout

    paid = munibond(url, manifest, "coupon", "pay", "KNGW26", "1", "--yes")
    assert paid.returncode == 0, paid.stderr
    assert "period 0" not in paid.stdout
    assert "period 1: funded" in paid.stdout and "period 1: settled 7/7 holders" in paid.stdout

    shown = munibond(url, manifest, "coupon", "status", "KNGW26")
    assert shown.returncode == 0, shown.stderr
    assert "dates in Asia/Tokyo" in shown.stdout
    assert _status_rows(shown.stdout)["1"][1] == first.payment_date.isoformat()

    early = munibond(url, manifest, "coupon", "reclaim", "KNGW26", "1")
    assert early.returncode == 2, early.stdout + early.stderr
    five_years = first.payment_date.replace(year=first.payment_date.year + 5)
    assert f"can be reclaimed from {five_years} 00:00 Asia/Tokyo (5 calendar years" in early.stderr
    assert show_time(calendar_years_after(first.payment_time, 5, TZ), TZ, with_clock=True) in early.stderr
