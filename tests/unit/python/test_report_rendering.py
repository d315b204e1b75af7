"""Report rendering without a chain: amounts in currency units exactly, CSV columns per component name, HTML that
escapes what it shows and draws the chart as inline SVG."""

import csv
import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser

from munibond.reports.html import payment_run_html
from munibond.reports.payment_run import Batch, Component, Money, PaymentRunReport, ReportLine, report_csv

NATIONAL = Component("jp_national", 153_150, "0x" + "11" * 20)
LOCAL = Component("jp_local", 50_000, "0x" + "22" * 20)


def test_amounts_are_exact_in_currency_units():
    assert Money("JPY", 0, 0).text(4_121) == "4121"
    assert Money("JPY", 0, 18).text(4_121 * 10**18) == "4121"
    assert Money("CHF", 2, 6).text(12_345_500_000) == "12345.50"
    assert Money("CHF", 2, 6).amount(1) == Decimal("0.000001")  # finer than a centime: every digit shown
    assert Money("CHF", 2, 6).show(1_234_567_890_000) == "1,234,567.89"
    assert NATIONAL.label == "jp_national 15.315%" and LOCAL.label == "jp_local 5%"


def _report() -> PaymentRunReport:
    day = dt.date(2027, 3, 25)
    report = PaymentRunReport("KNGW26", 1, day, Money("JPY", 0, 0), preview=False, components=[NATIONAL, LOCAL])
    report.lines = [
        ReportLine(
            1,
            day,
            day,
            "KNGW-0001",
            "<script>x</script>",
            "0xA",
            "0xA",
            3_360,
            0,
            {NATIONAL.key: 514, LOCAL.key: 168},
            2_678,
            "push",
            "0xt1",
        ),
        ReportLine(
            1,
            day,
            day,
            "KNGW-0003",
            "Chiba & Co",
            "0xC",
            "",
            8_400,
            0,
            {NATIONAL.key: 1_286},
            7_114,
            "bank",
            "0xt2",
            "0xfeed",
        ),
    ]
    report.due, report.paid = 20_000, 11_760
    report.batches = [Batch("0xt1", 1, 3_360, 3_360, 16_640), Batch("0xt2", 1, 8_400, 11_760, 8_240)]
    return report


def test_csv_has_a_column_per_component_and_a_total_row():
    rows = list(csv.reader(io.StringIO(report_csv(_report()))))
    head = rows[0]
    assert head[9:11] == ["jp_national 15.315%", "jp_local 5%"]
    assert rows[2][9:13] == ["1286", "0", "1286", "7114"]
    assert rows[-1][0] == "TOTAL" and rows[-1][7] == "11760" and rows[-1][9:13] == ["1800", "168", "1968", "9792"]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)

    def handle_data(self, data) -> None:
        self.text.append(data)


def test_html_escapes_values_and_draws_the_chart():
    page = payment_run_html(_report())
    parser = _Collect()
    parser.feed(page)
    assert "script" not in parser.tags and "<script>x</script>" in parser.text
    assert "Chiba & Co" in parser.text and "&amp;" in page
    assert parser.tags.count("svg") == 1 and parser.tags.count("rect") >= 2 + 2 * 3  # legend + 2 batches + now
    text = " ".join(parser.text)
    assert "9,792" in text and "1,800" in text and "paid 11,760 / remaining 8,240" in text
