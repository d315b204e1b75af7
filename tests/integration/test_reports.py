"""Reports and bank transfers on the test chain, through the library the `report` and `bank` commands use.

The example bond is deployed with local inhabitant tax (jp_local) routed to its own account; investors c and d
are paid by bank (Zengin file), the others on chain. Every figure is compared with the chain's own events."""

from __future__ import annotations

import csv
import hashlib
import io
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from munibond.chain import bank_transfers, workflows
from munibond.chain.deployment import payment_agent
from munibond.chain.erc20 import payment_token_at
from munibond.chain.manifest import Manifest
from munibond.chain.payment_record import payment_lines
from munibond.chain.session import Session
from munibond.chain.signers import AliasBook, Signers
from munibond.demo import shift_dates, years_to_start_after
from munibond.errors import InputError
from munibond.reports.directory import COLUMNS, CsvInvestorDirectory
from munibond.reports.html import payment_run_html
from munibond.reports.payment_run import SeriesContext, payment_run, preview_run, report_csv
from munibond.reports.reconcile import reconcile
from munibond.reports.withholding import annual_csv, annual_summary, remittance, remittance_csv
from munibond.zengin import RECORD_LENGTH, parse_transfer_file
from tests.integration.example_series import EXAMPLES, onboard_and_issue

SYMBOL = "KNGW26"
HEADER = ",".join(COLUMNS)
DIRECTORY = f"""{HEADER}
alias:investor_a,KNGW-0001,Aoki Ichiro,chain,,,,,,,
alias:investor_b,KNGW-0002,Baba Jiro,chain,,,,,,,
alias:investor_b2,KNGW-0002,Baba Jiro,chain,,,,,,,
alias:investor_c,KNGW-0003,Chiba Shoji KK,bank,0005,123,toza,765432,チバショウジ（カ,ミツビシ,ヨコハマ
alias:investor_d,KNGW-0004,Doi Shiro,bank,0001,001,futsu,1234567,ドイ　シロウ,ミズホ,ホンテン
"""
ORIGINATOR = """requester_code: "0000012345"
requester_name: カナガワケン
bank_code: "0138"
bank_name: ヨコハマ
branch_code: "100"
branch_name: ホンテン
account_type: futsu
account_number: "7654321"
"""


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    """KNGW26 with jp_local paid to the issuer's account (jp_national to tax_office), investors issued, cash minted."""
    import ape

    tmp = tmp_path_factory.mktemp("reports")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    raw["tax"] = {"account": "tax_office", "components": {"jp_local": "issuer"}}
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years_to_start_after(raw["issue_date"], chain.pending_timestamp))))
    signers = Signers(ape.accounts, True, AliasBook.load(EXAMPLES / "accounts.local.yaml"))
    s = Session(project, chain, chain.provider, signers, Manifest(tmp / "manifest.json", "local", chain.chain_id))
    (entry,) = workflows.deploy(
        s, [workflows.load_deployment_input(terms)], payment_token=None, test_payment_token=True
    )
    token = onboard_and_issue(s, entry, b"reports-test")
    treasury = s.signers.account("treasury")
    s.project.MockPaymentToken.at(entry["payment_token"]).mint(treasury, 10**12, sender=treasury)
    directory_csv = tmp / "directory.csv"
    directory_csv.write_text(DIRECTORY, encoding="utf-8")
    originator = tmp / "bank.yaml"
    originator.write_text(ORIGINATOR, encoding="utf-8")
    agent = payment_agent(s.project, entry["payment_agent"])
    return s, token, agent, payment_token_at(entry["payment_token"]), directory_csv, originator, tmp


def export(series, out: Path, period: int) -> bank_transfers.TransferPlan:
    """The Zengin file of `period` (1-based) for the bank-paid investors c and d, at its payment date."""
    s, _token, agent, _cash, directory_csv, originator, _tmp = series
    at_payment_date(s, agent, period - 1)
    directory = CsvInvestorDirectory(directory_csv, s.signers.address)
    return bank_transfers.export_transfers(
        s, SYMBOL, period, directory, bank_transfers.load_originator(originator), out
    )


@pytest.fixture(scope="module")
def paid(series):
    """Period 1 paid: investors c and d by the bank (file recorded with its hash), the others pushed in batches of 3.
    (Ape reverts each test's transactions; a module fixture's stay for the tests after it.)"""
    s, *_rest, tmp = series
    out = tmp / "paid-1.txt"
    plan = export(series, out, 1)
    bank_transfers.record_transfers(s, out, payer="treasury", batch_size=50, confirm=lambda _p: True)
    workflows.pay(s, SYMBOL, 1, payer="treasury", batch_size=3)
    return plan


def context(series) -> SeriesContext:
    s, *_rest = series
    return SeriesContext(s, SYMBOL, CsvInvestorDirectory(series[4], s.signers.address))


def nonce(s, alias: str) -> int:
    return s.chain.provider.web3.eth.get_transaction_count(s.signers.address(alias))


def at_payment_date(s, agent, period: int) -> None:
    s.chain.mine(timestamp=int(agent.periodTerms(period).paymentTime))


def expected_taxes(coupon: int) -> tuple[int, int]:
    """jp_individual: floor(coupon × 15.315 %) and floor(coupon × 5 %), each on its own."""
    return coupon * 153_150 // 1_000_000, coupon * 50_000 // 1_000_000


def test_the_agent_sends_each_component_to_its_own_account(series):
    s, _token, agent, *_ = series
    national, local = agent.taxComponents(2)
    assert (int(national.ratePpm), str(national.account)) == (153_150, s.signers.address("tax_office"))
    assert (int(local.ratePpm), str(local.account)) == (50_000, s.signers.address("issuer"))


def test_preview_report_is_what_the_push_would_pay(series):
    s, _token, agent, *_ = series
    at_payment_date(s, agent, 0)
    report = preview_run(context(series), 1)
    assert report.preview and report.batches == [] and report.paid == 0
    d = s.signers.address("investor_d")
    (line,) = [line for line in report.lines if line.holder == d]
    terms = agent.periodTerms(0)
    coupon = int(95 * Fraction(int(terms.couponNum), int(terms.couponDen)))
    assert line.coupon_gross == coupon and line.investor_id == "KNGW-0004" and line.name == "Doi Shiro"
    assert tuple(line.taxes.values()) == expected_taxes(coupon)
    assert [c.label for c in report.components] == ["jp_national 15.315%", "jp_local 5%"]
    assert report.due == sum(x.gross for x in report.lines) == report.remaining
    assert "Preview" in payment_run_html(report)


def test_zengin_file_pays_bank_holders_their_net(series, tmp_path):
    s, *_rest = series
    out = tmp_path / "transfers-1.txt"
    plan = export(series, out, 1)
    data = out.read_bytes()
    assert plan.sha256 == "0x" + hashlib.sha256(data).hexdigest()
    raw_records = data.split(b"\r\n")
    assert raw_records[-1] == b"" and all(len(r) == RECORD_LENGTH for r in raw_records[:-1])
    records = parse_transfer_file(data)
    assert [r["data_kind"] for r in records] == ["1", "2", "2", "8", "9"]
    header, c_record, d_record, trailer, _end = records
    assert (header["transfer_kind"], header["requester_code"], header["bank_code"]) == ("21", "0000012345", "0138")
    assert header["requester_name"].rstrip() == "ｶﾅｶﾞﾜｹﾝ"
    payment_date = workflows.preview_pay(s, SYMBOL, 1)  # the file is dated on the payment date (issuer's zone)
    assert header["transfer_date"] == plan.transfer_date[5:7] + plan.transfer_date[8:10]
    pending = {e.holder: e for e in payment_date.pending}
    d = s.signers.address("investor_d")
    c = s.signers.address("investor_c")
    assert int(d_record["amount"]) == pending[d].net  # JPY in a 0-decimal token: base units are yen
    assert int(c_record["amount"]) == pending[c].net
    assert pending[d].net == pending[d].coupon_gross - sum(expected_taxes(pending[d].coupon_gross))
    assert (d_record["bank_code"], d_record["branch_code"], d_record["account_type"]) == ("0001", "001", "1")
    assert (d_record["account_number"], d_record["recipient_name"].rstrip()) == ("1234567", "ﾄﾞｲ ｼﾛｳ")
    assert (c_record["account_type"], c_record["account_number"]) == ("2", "0765432")
    assert c_record["recipient_name"].rstrip() == "ﾁﾊﾞｼﾖｳｼﾞ(ｶ"
    assert d_record["customer_code_2"].rstrip() == "KNGW-0004"
    assert int(trailer["count"]) == 2 == len(plan.transfers)
    assert int(trailer["total"]) == pending[c].net + pending[d].net == plan.total_yen
    with pytest.raises(InputError, match="never overwritten"):
        export(series, out, 1)


def test_declining_the_confirmation_records_nothing(series, tmp_path):
    s, _token, agent, *_rest = series
    export(series, tmp_path / "transfers-1.txt", 1)
    sent = nonce(s, "treasury")
    asked = []
    run = bank_transfers.record_transfers(
        s, tmp_path / "transfers-1.txt", payer="treasury", batch_size=50, confirm=lambda p: asked.append(p) or False
    )
    assert run is None and len(asked[0].to_record) == 2
    assert nonce(s, "treasury") == sent
    assert not agent.isSettled(0, s.signers.address("investor_d"))


def test_recording_the_executed_file_uses_its_hash_once(series, tmp_path):
    s, *_rest = series
    file = tmp_path / "transfers-1.txt"
    export(series, file, 1)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    run = bank_transfers.record_transfers(s, file, payer="treasury", batch_size=50, confirm=lambda _p: True)
    assert run is not None and {r.holder for r in run.recorded} == {
        s.signers.address("investor_c"),
        s.signers.address("investor_d"),
    }
    assert {r.reference_hash for r in run.recorded} == {"0x" + digest}
    sent = nonce(s, "treasury")
    again = bank_transfers.record_transfers(s, file, payer="treasury", batch_size=50, confirm=lambda _p: True)
    assert again is not None and again.recorded == [] and len(again.already_settled) == 2
    assert nonce(s, "treasury") == sent


def test_a_changed_transfer_file_is_refused(series, tmp_path):
    file = tmp_path / "transfers-1.txt"
    export(series, file, 1)
    data = file.read_bytes()
    file.write_bytes(data[:200] + b"X" + data[201:])  # one byte of the first transfer's name
    with pytest.raises(InputError, match="changed after `bank export`"):
        bank_transfers.read_plan(file)


def test_paid_period_csv_equals_the_chains_events(series, paid):
    s, _token, agent, *_ = series
    report = payment_run(context(series), 1)
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    total, lines = rows[-1], rows[:-1]
    events = payment_lines(agent, 0, start_block=context(series).start_block)
    assert len(lines) == len(events) == 7
    by_holder = {row["holder"]: row for row in lines}
    for event in events:
        row = by_holder[event.holder]
        assert int(row["coupon_gross"]) == event.coupon_gross and int(row["net"]) == event.net
        assert row["transaction"] == event.transaction and row["period"] == "1"
        if event.tax_class == 2:
            assert (int(row["jp_national 15.315%"]), int(row["jp_local 5%"])) == event.taxes
            assert event.taxes == expected_taxes(event.coupon_gross)
        elif event.tax_class == 3:
            assert (int(row["jp_national 15.315%"]), int(row["jp_local 5%"])) == (event.taxes[0], 0)
        else:
            assert event.taxes == () and row["tax_total"] == "0"
        assert row["how"] == ("bank" if event.kind == "offchain" else "push")
    assert by_holder[s.signers.address("investor_d")]["investor_id"] == "KNGW-0004"
    assert int(total["net"]) == sum(e.net for e in events)
    assert int(total["jp_national 15.315%"]) == sum(e.taxes[0] for e in events if e.taxes)
    assert int(total["jp_local 5%"]) == sum(e.taxes[1] for e in events if len(e.taxes) > 1)
    assert int(total["coupon_gross"]) == sum(e.coupon_gross for e in events)
    pushed = {e.transaction for e in events if e.kind == "paid"}
    assert len(report.batches) == len(pushed) + 1  # the bank record and each push batch
    assert report.remaining == 0 and report.paid == report.due == sum(e.coupon_gross for e in events)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_html_report_parses_with_totals_and_a_chart(series, paid):
    report = payment_run(context(series), 1)
    page = payment_run_html(report)
    parser = _Text()
    parser.feed(page)
    parser.close()
    text = " ".join(parser.text)
    assert {"html", "table", "svg", "rect"} <= set(parser.tags)
    assert f"{report.total('net'):,}" in text and f"{report.tax_total(report.components[1]):,}" in text
    assert "jp_local 5%" in text and "Doi Shiro" in text
    assert page.count("batch ") >= len(report.batches)


def test_withholding_remittance_per_component_and_payee(series, paid):
    s, _token, agent, *_ = series
    ctx = context(series)
    events = payment_lines(agent, 0, start_block=ctx.start_block)
    result = remittance(ctx, period=1)
    rows = {(r.component.name, r.account): r for r in result.rows}
    tax_office, issuer = s.signers.address("tax_office"), s.signers.address("issuer")
    assert set(rows) == {("jp_national", tax_office), ("jp_local", issuer)}
    local = rows[("jp_local", issuer)]
    assert local.on_chain == sum(e.taxes[1] for e in events if e.kind == "paid" and len(e.taxes) == 2)
    d = s.signers.address("investor_d")
    c = s.signers.address("investor_c")
    assert local.by_bank == next(e.taxes[1] for e in events if e.holder == d)
    assert rows[("jp_national", tax_office)].by_bank == sum(e.taxes[0] for e in events if e.holder in (c, d))
    assert result.total("total") == sum(sum(e.taxes) for e in events)
    assert "TOTAL" in remittance_csv(result)
    day = ctx.block_day(events[-1].block)
    dated = remittance(ctx, first=day, last=day)
    assert dated.total("total") == result.total("total")
    assert dated.swept.get(issuer) == local.on_chain  # the push transferred the local tax to the issuer's account


def test_annual_summary_per_investor(series, paid):
    s, _token, agent, *_ = series
    ctx = context(series)
    events = payment_lines(agent, 0, start_block=ctx.start_block)
    year = ctx.block_day(events[-1].block).year
    summary = annual_summary(ctx, year)
    rows = {row.investor_id: row for row in summary.rows if row.investor_id}
    b = rows["KNGW-0002"]  # two wallets, one investor
    assert set(b.wallets) == {s.signers.address("investor_b"), s.signers.address("investor_b2")}
    assert b.coupon_gross == sum(e.coupon_gross for e in events if e.holder in b.wallets)
    assert rows["KNGW-0004"].bank_paid == 1
    assert summary.total("net") == sum(e.net for e in events)
    assert summary.total("tax") == sum(sum(e.taxes) for e in events)
    assert annual_csv(summary).splitlines()[-1].startswith("TOTAL")
    assert annual_summary(ctx, year + 5).rows == []


def test_bank_result_file_records_only_executed_transfers(series, paid, tmp_path):
    s, _token, agent, *_rest = series
    out = tmp_path / "transfers-2.txt"
    plan = export(series, out, 2)
    first, second = plan.transfers
    result = tmp_path / "result-2.csv"
    result.write_text(
        "record,account_number,amount,status\n"
        f"1,{first.account_number},{first.yen},executed\n2,{second.account_number},{second.yen},failed\n"
    )
    executed = bank_transfers.read_result(result, plan)
    assert executed == [1]
    run = bank_transfers.record_transfers(
        s, out, payer="treasury", batch_size=50, confirm=lambda _p: True, executed=executed
    )
    assert run is not None and [r.holder for r in run.recorded] == [first.wallet]
    assert agent.isSettled(1, first.wallet) and not agent.isSettled(1, second.wallet)
    sent = nonce(s, "treasury")
    again = bank_transfers.record_transfers(
        s, out, payer="treasury", batch_size=50, confirm=lambda _p: True, executed=executed
    )
    assert again is not None and again.recorded == [] and nonce(s, "treasury") == sent
    bad = tmp_path / "result-bad.csv"
    bad.write_text(f"record,account_number,amount,status\n1,{first.account_number},{first.yen + 1},executed\n")
    with pytest.raises(InputError) as err:
        bank_transfers.read_result(bad, plan)
    assert {i.field for i in err.value.issues} == {"amount", "record"}


def test_reconcile_then_a_stray_transfer_is_a_surplus(series, paid):
    s, _token, agent, cash, *_ = series
    ctx = context(series)
    assert reconcile(ctx).ok, "\n".join(reconcile(ctx).lines())
    at_payment_date(s, agent, 1)
    workflows.pay(s, SYMBOL, 2, payer="treasury", batch_size=50)
    result = reconcile(ctx)
    assert result.ok, "\n".join(result.lines())
    assert result.balance == result.expected == result.committed_view > 0
    assert result.lines()[-1] == "reconciled"
    cash.transfer(agent.address, 777, sender=s.signers.account("treasury"))
    after = reconcile(ctx)
    assert not after.ok and after.difference == 777
    assert any(line.startswith("surplus") and line.rstrip().endswith("777") for line in after.lines())
    assert after.lines()[-1] == "NOT reconciled"


def test_directory_errors_name_file_line_and_field(series, tmp_path: Path):
    s, *_ = series
    bad = tmp_path / "directory.csv"
    bad.write_text(
        HEADER + "\n"
        "alias:investor_c,KNGW-0003,C,bank,005,123,toza,765432,チバ,,\n"
        "alias:investor_d,KNGW-0004,D,bank,0001,001,futsu,1234567,土井,,\n"
        "alias:investor_a,KNGW-0001,A,cash,,,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        CsvInvestorDirectory(bad, s.signers.address)
    assert [(i.line, i.field) for i in err.value.issues] == [(2, "bank_code"), (3, "account_name"), (4, "pay_by")]


def test_status_counts_bank_payments_and_shows_overdue_and_remainder(series, paid, tmp_path):
    s, *_ = series
    (first, second, *_rest) = workflows.status(s, SYMBOL)
    by_bank = sum(int(t.coupon_gross) + int(t.principal_gross) for t in paid.transfers)
    assert first.offchain_gross == by_bank > 0
    assert first.shortfall == 0 and first.unpaid_holders == 0 and not first.overdue and not first.defaulted
    assert first.funded == first.required - by_bank  # the bank's share was never funded in the payment token
    assert first.remainder == first.reclaimed + first.held == first.funded - first.paid_net - first.tax_withheld
    assert second.required is None and not second.overdue  # its record date has not passed

    out = tmp_path / "paid-2.txt"
    plan = export(series, out, 2)  # now at period 2's payment date
    bank_transfers.record_transfers(s, out, payer="treasury", batch_size=50, confirm=lambda _p: True)
    second = workflows.status(s, SYMBOL)[1]
    assert second.offchain_gross == sum(t.coupon_gross + t.principal_gross for t in plan.transfers)
    assert second.funded == 0 and second.shortfall == second.required - second.offchain_gross > 0
    assert second.overdue and second.unpaid_holders == 5  # a, b, b2, e, g wait for the push

    workflows.pay(s, SYMBOL, 2, payer="treasury", batch_size=50)
    second = workflows.status(s, SYMBOL)[1]
    assert second.shortfall == 0 and second.unpaid_holders == 0 and not second.overdue
    assert second.funded == second.required - second.offchain_gross
    result = reconcile(context(series))
    assert result.ok, "\n".join(result.lines())
    assert result.by_bank == first.offchain_gross + second.offchain_gross
    checks = {c.label: c for c in result.checks}
    assert checks["tax withheld"].books == first.tax_withheld + second.tax_withheld > 0
    assert checks["period 2 remainder"].books == second.held + second.reclaimed


def test_reconcile_finds_withheld_tax_pending_after_a_claim(series, paid):
    s, _token, agent, cash, *_ = series
    at_payment_date(s, agent, 1)
    from munibond.chain.servicing import fund_period

    fund_period(agent, cash, 1, s.signers.account("treasury"))
    claimed = workflows.claim(s, SYMBOL, 2, holder="investor_a")
    assert sum(claimed.taxes) > 0
    result = reconcile(context(series))
    assert result.ok, "\n".join(result.lines())
    pending = sum(e.amount for e in result.commitments if e.label.startswith("tax pending"))
    assert pending == sum(claimed.taxes)
    tax = next(c for c in result.checks if c.label == "tax withheld")
    assert tax.ok and tax.found >= pending
    assert any(line.startswith("  tax withheld") and line.endswith("ok") for line in result.lines())
