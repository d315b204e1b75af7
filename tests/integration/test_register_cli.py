"""Investor master data and the bondholder register (社債原簿) through the `munibond` command, on a real anvil node.

One series, investors imported from a Shift_JIS CSV with Japanese names, units moved between investors on
different days, then the register at a record date, at a past date and now, as CSV and HTML.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml
from web3 import Web3

from munibond.demo import shift_dates, years_to_start_after
from tests.integration.test_cli_workflow import EXAMPLES, ROOT, address_of, munibond, node  # noqa: F401
from tests.tools.chromium import dump_dom, pdf_pages, print_to_pdf
from tests.tools.html_pages import Tables, tables_of

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = 86400
# Investors of examples/investors.csv with master data, except KNGW-0004 (investor_d): it has none.
MASTER = {
    "KNGW-0001": (
        "山田 太郎",
        "ヤマダ タロウ",
        "231-0023",
        "横浜市中区山下町1-1",
        "0001",
        "001",
        "ordinary",
        "1234567",
        "ﾔﾏﾀﾞ ﾀﾛｳ",
        "taro@example.jp",
        "045-000-0001",
    ),
    "KNGW-0002": (
        "佐藤 花子",
        "サトウ ハナコ",
        "220-0012",
        "横浜市西区みなとみらい2-2",
        "0005",
        "123",
        "savings",
        "7654321",
        "ｻﾄｳ ﾊﾅｺ",
        "",
        "",
    ),
    "KNGW-0003": (
        "株式会社みなと商事",
        "カブシキガイシャミナトショウジ",
        "210-0007",
        "川崎市川崎区駅前本町3",
        "0009",
        "250",
        "current",
        "0000042",
        "ｶ)ﾐﾅﾄｼﾖｳｼﾞ",
        "",
        "044-000-0003",
    ),
    "KNGW-0005": ("鈴木 一郎", "", "", "相模原市中央区中央2-11-15", "", "", "", "", "", "", ""),
    "KNGW-0006": ("高橋 次郎", "", "", "東京都千代田区1-1", "", "", "", "", "", "", ""),
    "KNGW-0007": ("神奈川県", "", "231-8588", "横浜市中区日本大通1", "", "", "", "", "", "", ""),
}
MASTER_HEADER = (
    "legal_name,name_kana,postal_code,address,bank_code,branch_code,account_type,account_number,"
    "account_holder,email,phone"
)
TOKEN_ABI = [
    {
        "type": "function",
        "name": name,
        "stateMutability": mutability,
        "inputs": [{"name": f"a{i}", "type": kind} for i, kind in enumerate(inputs)],
        "outputs": [{"name": "", "type": output}],
    }
    for name, mutability, inputs, output in (
        ("transfer", "nonpayable", ("address", "uint256"), "bool"),
        ("balanceOf", "view", ("address",), "uint256"),
        ("balanceOfAt", "view", ("address", "uint256"), "uint256"),
    )
]


def offline(*args: str) -> subprocess.CompletedProcess:
    """A `munibond` command that needs no node (the master-data subcommands)."""
    env = {k: v for k, v in os.environ.items() if k != "MUNIBOND_INVESTOR_DB"}
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def investors_csv(with_master: bool = True) -> str:
    """examples/investors.csv with the master-data columns (given on the first row of each investor only)."""
    lines = (EXAMPLES / "investors.csv").read_text().splitlines()
    out = [lines[0] + "," + MASTER_HEADER]
    seen = set()
    for line in lines[1:]:
        investor_id = line.split(",")[1]
        cells = MASTER.get(investor_id, ("",) * 11) if with_master and investor_id not in seen else ("",) * 11
        seen.add(investor_id)
        out.append(line + "," + ",".join(cells))
    return "\r\n".join(out) + "\r\n"


@pytest.fixture(scope="module")
def series(tmp_path_factory, node):  # noqa: F811
    url, web3 = node
    tmp = tmp_path_factory.mktemp("register")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    deployed = munibond(url, manifest, "deploy", str(terms), "--test-payment-token")
    assert deployed.returncode == 0, deployed.stderr
    salt = tmp / "issuer-salt"
    salt.write_text("kanagawa\n")
    return tmp, terms, manifest, salt


def test_bad_master_data_stops_before_any_write_and_keeps_personal_data_out_of_the_output(node, series):  # noqa: F811
    url, web3 = node
    tmp, _terms, manifest, salt = series
    bad = investors_csv().replace("1234567", "12345").replace("231-0023", "231-002X")
    path = tmp / "bad-investors.csv"
    path.write_bytes(bad.encode("cp932"))
    registrar = web3.eth.get_transaction_count(address_of(web3, "registrar"))
    result = munibond(url, manifest, "investors", "import", str(path), "--issuer-salt-file", str(salt), "--yes")
    assert result.returncode == 2, result.stderr
    assert f"error: {path}:2: postal_code: must be a Japanese postal code" in result.stderr
    assert f"error: {path}:2: account_number: must be 7 digits" in result.stderr
    output = result.stdout + result.stderr
    for personal in ("山田", "ヤマダ", "横浜市", "231-002X", "12345", "taro@example.jp"):
        assert personal not in output
    assert web3.eth.get_transaction_count(address_of(web3, "registrar")) == registrar
    assert not (tmp / "investors.db").exists()

    good = tmp / "dry-run-investors.csv"
    good.write_bytes(investors_csv().encode("cp932"))
    dry = munibond(url, manifest, "investors", "import", str(good), "--issuer-salt-file", str(salt), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would record the master data of 6 investors (dry run: nothing written)" in dry.stdout
    assert web3.eth.get_transaction_count(address_of(web3, "registrar")) == registrar
    assert not (tmp / "investors.db").exists()


def test_master_data_round_trip(node, series):  # noqa: F811
    url, _web3 = node
    tmp, _terms, manifest, salt = series
    path = tmp / "investors-sjis.csv"
    path.write_bytes(investors_csv().encode("cp932"))
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # really Shift_JIS
    imported = munibond(url, manifest, "investors", "import", str(path), "--issuer-salt-file", str(salt), "--yes")
    assert imported.returncode == 0, imported.stderr
    assert "registered 7, updated 0, linked 1" in imported.stdout
    database = tmp / "investors.db"
    assert f"master data: 6 added, 0 changed, 0 unchanged in {database}" in imported.stdout
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert "山田" not in imported.stdout + imported.stderr

    db = ["--manifest", str(manifest)]
    listed = offline("investors", "list", *db)
    assert listed.returncode == 0, listed.stderr
    assert "6 investors" in listed.stdout
    assert "KNGW-0001\t山田 太郎\tindividual\t1 wallet\tbank account" in listed.stdout
    assert "KNGW-0002\t佐藤 花子\tindividual\t2 wallets\tbank account" in listed.stdout
    assert "KNGW-0004" not in listed.stdout

    shown = offline("investors", "show", "KNGW-0003", *db)
    assert shown.returncode == 0, shown.stderr
    assert "legal_name: 株式会社みなと商事" in shown.stdout and "account_type: current" in shown.stdout
    assert "category: corporate" in shown.stdout
    assert f"wallets: {address_of(Web3(), 'investor_c')}" in shown.stdout

    refused = offline("investors", "update", "KNGW-0001", "--account-number", "98765", *db)
    assert refused.returncode == 2 and "account_number: must be 7 digits" in refused.stderr
    assert "98765" not in refused.stderr and "山田" not in refused.stderr
    half = offline("investors", "update", "KNGW-0005", "--bank-code", "0001", *db)
    assert half.returncode == 2 and "a bank account needs every bank field" in half.stderr
    changed = offline("investors", "update", "KNGW-0001", "--address", "横浜市中区本町6-50-10", "--phone", "", *db)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip() == "KNGW-0001: changed address, phone"
    unknown = offline("investors", "show", "KNGW-9999", *db)
    assert unknown.returncode == 2 and "no master data for investor KNGW-9999" in unknown.stderr

    for encoding in ("utf-8", "cp932"):
        out = tmp / f"export-{encoding}.csv"
        exported = offline("investors", "export", str(out), "--encoding", encoding, *db)
        assert exported.returncode == 0, exported.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        rows = {
            row["investor_id"]: row
            for row in csv.DictReader(
                io.StringIO(out.read_bytes().decode("utf-8-sig" if encoding == "utf-8" else "cp932"))
            )
        }
        assert set(rows) == set(MASTER)
        for investor_id, cells in MASTER.items():
            expected = dict(zip(MASTER_HEADER.split(","), cells, strict=True))
            if investor_id == "KNGW-0001":
                expected |= {"address": "横浜市中区本町6-50-10", "phone": ""}
            assert {k: rows[investor_id][k] for k in expected} == expected
        wallets = rows["KNGW-0002"]["wallets"].split(";")
        assert sorted(wallets) == sorted([address_of(Web3(), "investor_b"), address_of(Web3(), "investor_b2")])

    # the same file again: nothing on chain changes, the master data is as the file has it (and says it changed)
    again = munibond(url, manifest, "investors", "import", str(path), "--issuer-salt-file", str(salt), "--yes")
    assert again.returncode == 0, again.stderr
    assert "0 to register, 0 to update, 0 to link, 8 unchanged" in again.stdout
    assert "master data: 0 added, 1 changed, 5 unchanged" in again.stdout
    shown = offline("investors", "show", "KNGW-0001", *db)
    assert "address: 横浜市中区山下町1-1" in shown.stdout and "phone: 045-000-0001" in shown.stdout


def _move(web3: Web3, token, sender: str, receiver: str, units: int, *, days: int = 0) -> int:
    if days:
        web3.provider.make_request("evm_increaseTime", [days * DAY])
    tx = token.functions.transfer(address_of(web3, receiver), units).transact({"from": address_of(web3, sender)})
    receipt = web3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1
    return int(web3.eth.get_block(receipt["blockNumber"])["timestamp"])


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).astimezone(TOKYO).date().isoformat()


def test_register_at_a_record_date_a_past_date_and_now(node, series):  # noqa: F811
    url, web3 = node
    tmp, terms, manifest, _salt = series
    if not (tmp / "investors.db").exists():
        pytest.fail("the import test must run first in this module")
    issued = munibond(url, manifest, "issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes")
    assert issued.returncode == 0, issued.stderr
    deployed = json.loads(manifest.read_text())
    token = web3.eth.contract(address=deployed["series"]["KNGW26"]["token"], abi=TOKEN_ABI)
    # units issued from an allocation file are acquired at the issue price (par) on the issue date (paid in then),
    # which lies after the mint on this chain's clock
    issue_day = yaml.safe_load(terms.read_text())["issue_date"].isoformat()
    assert issue_day > _day(web3.eth.get_block("latest")["timestamp"])

    # investor_e's 20 units go to investor_a a day later; five come back the day after
    day_1 = _move(web3, token, "investor_e", "investor_a", 20, days=1)
    day_2 = _move(web3, token, "investor_a", "investor_e", 5, days=1)

    from munibond.schedule import build_schedule
    from munibond.terms import load_term_sheet

    first = build_schedule(load_term_sheet(terms)).periods[0]
    web3.provider.make_request("evm_setNextBlockTimestamp", [first.payment_time])
    web3.provider.make_request("evm_mine", [])
    _move(web3, token, "investor_a", "investor_e", 1)  # after the record date: not in the period's register

    register_csv, register_html = tmp / "register-1.csv", tmp / "register-1.html"
    made = munibond(
        url, manifest, "register", "KNGW26", "--period", "1", "--csv", str(register_csv), "--html", str(register_html)
    )
    assert made.returncode == 0, made.stderr
    assert "1 without master data" in made.stdout
    assert "山田" not in made.stdout
    for path in (register_csv, register_html):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(register_csv.read_bytes().decode("utf-8-sig"))))
    record_time = first.record_time
    for row in rows:
        wallets = row["wallets"].split(";")
        assert int(row["units"]) == sum(token.functions.balanceOfAt(w, record_time).call() for w in wallets)
        assert int(row["face_value"]) == int(row["units"]) * 10000 and row["currency"] == "JPY"
    by_id = {row["investor_id"]: row for row in rows}
    assert by_id["KNGW-0001"]["legal_name"] == "山田 太郎" and by_id["KNGW-0001"]["units"] == "55"
    assert by_id["KNGW-0001"]["address"] == "横浜市中区山下町1-1"
    assert by_id["KNGW-0001"]["acquired"] == issue_day  # the five sent back came out of the oldest lot
    assert (by_id["KNGW-0001"]["acquisition_price"], by_id["KNGW-0001"]["acquired_by"]) == ("10000", "issue")
    # investor_e's oldest lot still held came by a plain transfer: no price recorded
    assert (by_id["KNGW-0005"]["acquisition_price"], by_id["KNGW-0005"]["acquired_by"]) == ("", "transfer")
    assert by_id["KNGW-0005"]["units"] == "5" and by_id["KNGW-0005"]["acquired"] == _day(day_2)
    assert by_id["KNGW-0002"]["units"] == "90" and len(by_id["KNGW-0002"]["wallets"].split(";")) == 2
    (missing,) = (row for row in rows if row["master_data"] == "missing")
    assert missing["investor_id"] == "" and missing["wallets"] == address_of(web3, "investor_d")
    assert missing["units"] == "95"
    allocated = sum(int(line.split(",")[1]) for line in (EXAMPLES / "allocations.csv").read_text().splitlines()[1:])
    assert sum(int(row["units"]) for row in rows) == allocated

    parser = Tables()
    parser.feed(register_html.read_text(encoding="utf-8"))
    terms_table, holdings = parser.tables
    terms_text = " ".join(" ".join(row) for row in terms_table)
    assert "JP2140001A63" in terms_text and "各社債の金額" in terms_text and "10,000 JPY" in terms_text
    assert "500,000,000 JPY" in terms_text and "満期一括償還" in terms_text
    head, *body, total = holdings
    assert head[0].startswith("投資家番号") and "Units" in head[4]
    assert len(body) == len(rows)
    for row in rows:
        (line,) = (cells for cells in body if row["wallets"].split(";")[0] in cells[3])
        assert line[4] == f"{int(row['units']):,}"
        assert line[5] == f"{int(row['face_value']):,} JPY"
        assert line[1] == (row["legal_name"] or "登録情報なし / missing master data")
    assert total[0].startswith("合計 / Total") and total[1] == f"{allocated:,}"
    assert total[2] == f"{allocated * 10000:,} JPY"

    # as a browser shows it: Chromium's DOM holds the same tables, and the page prints
    rendered = tables_of(dump_dom(register_html, tmp / "chromium"))
    assert rendered == parser.tables
    pdf = print_to_pdf(register_html, tmp / "chromium")
    assert pdf.startswith(b"%PDF-") and pdf_pages(pdf) >= 1

    # at the end of the day investor_e's units moved: from the events
    past = tmp / "register-day-1.csv"
    at_day = munibond(url, manifest, "register", "KNGW26", "--date", _day(day_1), "--csv", str(past))
    assert at_day.returncode == 0, at_day.stderr
    rows = {row["investor_id"]: row for row in csv.DictReader(io.StringIO(past.read_bytes().decode("utf-8-sig")))}
    assert rows["KNGW-0001"]["units"] == "60" and "KNGW-0005" not in rows
    assert rows["KNGW-0001"]["acquired"] == issue_day

    now = munibond(url, manifest, "register", "KNGW26")
    assert now.returncode == 0, now.stderr
    assert "KNGW-0001\t山田 太郎\t横浜市中区山下町1-1\t54 units\t540000 JPY" in now.stdout
    assert "-\tmissing master data\t" in now.stdout

    future = munibond(url, manifest, "register", "KNGW26", "--date", "2099-01-01")
    assert future.returncode == 2 and "2099-01-01 is after today" in future.stderr
    both = munibond(url, manifest, "register", "KNGW26", "--date", _day(day_1), "--period", "1")
    assert both.returncode == 2 and "give --date or --period, not both" in both.stderr
    wrong = munibond(url, manifest, "register", "KNGW26", "--period", "99")
    assert wrong.returncode == 2 and "period" in wrong.stderr and "山田" not in wrong.stderr


def test_remove_refuses_a_holder_and_removes_master_data_only(node, series):  # noqa: F811
    url, web3 = node
    _tmp, _terms, manifest, _salt = series
    held = munibond(url, manifest, "investors", "remove", "KNGW-0001")
    assert held.returncode == 2 and "investor KNGW-0001 still holds KNGW26 (54 units)" in held.stderr
    before = web3.eth.get_transaction_count(address_of(web3, "registrar"))
    removed = munibond(url, manifest, "investors", "remove", "KNGW-0006")  # investor_f was never allocated
    assert removed.returncode == 0, removed.stderr
    assert "removed the master data of investor KNGW-0006 (its on-chain registration stays)" in removed.stdout
    assert web3.eth.get_transaction_count(address_of(web3, "registrar")) == before
    gone = offline("investors", "show", "KNGW-0006", "--manifest", str(manifest))
    assert gone.returncode == 2
    listed = offline("investors", "list", "--manifest", str(manifest))
    assert "5 investors" in listed.stdout
