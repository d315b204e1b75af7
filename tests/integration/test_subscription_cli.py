"""`munibond subscription` as an operator and investors use it: separate `munibond` processes against one anvil.

The whole primary subscription of the shipped example: a book opened for the deployed series, four investors
committing more than is offered (one over the per-investor cap is refused), a pro rata allotment, a settlement cut
short by killing the process after its first batch and finished by a re-run (nobody minted or paid twice), the
report whose proceeds and refunds add up to the cash committed; then a second book cancelled with every unit of
cash returned. Every refusal is one `error:` line, exit status 2, and sends nothing (nonces unchanged).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import signal
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from web3 import Web3

from munibond.abi_export import load_abi
from tests.integration.test_cli_workflow import EXAMPLES, ROOT, address_of, node, nonces  # noqa: F401 (node: fixture)

SYMBOL = "KNGW26"
PRICE = 10_000  # yen per unit (the test payment token has the currency's decimals or more: compared in yen)
OFFERED = 100
DAY = 86_400
# committed units in arrival order; investor_e withdraws 5 before the close (its place is kept)
COMMITS = {"investor_a": 60, "investor_c": 50, "investor_d": 45, "investor_e": 30}
WITHDRAWN = {"investor_e": 5}
PHASE_SETTLING, PHASE_SETTLED, PHASE_CANCELLED = 3, 4, 5


def munibond(url: str, manifest: Path, *args: str) -> subprocess.CompletedProcess:
    """One `munibond` run with no terminal on standard input (as in a script)."""
    return subprocess.run(
        [sys.executable, "-m", "munibond", *args, "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result: subprocess.CompletedProcess) -> str:
    """The one `error:` line of a refusal, after checking it was one: exit 2, one line, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def travel(web3: Web3, timestamp: int) -> None:
    web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
    web3.provider.make_request("evm_mine", [])


def iso(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat()


def cash_token(web3: Web3, manifest: Path):
    entry = json.loads(manifest.read_text())["series"][SYMBOL]
    return web3.eth.contract(address=entry["payment_token"], abi=load_abi("MockPaymentToken"))


def series_token(web3: Web3, manifest: Path):
    entry = json.loads(manifest.read_text())["series"][SYMBOL]
    return web3.eth.contract(address=entry["token"], abi=load_abi("BondSeries"))


def book_at(web3: Web3, manifest: Path, number: int):
    record = json.loads(manifest.read_text())["series"][SYMBOL]["subscriptions"][number - 1]
    return web3.eth.contract(address=record["address"], abi=load_abi("SubscriptionBook")), int(record["block"])


def yen(web3: Web3, manifest: Path, base_units: int) -> Fraction:
    return Fraction(base_units, 10 ** cash_token(web3, manifest).functions.decimals().call())


def pro_rata(commitments: list[int], offered: int) -> list[int]:
    """The documented rule computed independently: floor of the exact share, then one unit each, in arrival order,
    to the fractional shares until the allottable units are used."""
    total = sum(commitments)
    allottable = min(offered, total)
    shares = [Fraction(c * allottable, total) for c in commitments]
    units = [int(s) for s in shares]
    left = allottable - sum(units)
    for i, share in enumerate(shares):
        if left and share.denominator != 1:
            units[i] += 1
            left -= 1
    return units


@pytest.fixture(scope="module")
def bond(node, tmp_path_factory):  # noqa: F811
    """The shipped example deployed, its investors onboarded (nothing issued yet) and four of them funded."""
    url, _web3 = node
    tmp = tmp_path_factory.mktemp("subscription")
    manifest = tmp / "manifest.json"
    ok(munibond(url, manifest, "deploy", str(EXAMPLES / "kanagawa-resident-2026.yaml"), "--test-payment-token",
                "--shift-dates"))  # fmt: skip
    salt = tmp / "issuer-salt"
    salt.write_text("kanagawa\n")
    ok(munibond(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt),
                "--yes"))  # fmt: skip
    for alias in COMMITS:
        ok(munibond(url, manifest, "fund", SYMBOL, "--amount", "2000000", "--to", alias))
    return tmp, manifest


@pytest.fixture(scope="module")
def book(node, bond):  # noqa: F811
    """Book 1 open for a day, settling a day after the close; returns (close, settlement)."""
    url, web3 = node
    _tmp, manifest = bond
    now = web3.eth.get_block("latest")["timestamp"]
    close, settlement = now + DAY, now + 2 * DAY
    before = nonces(web3, "issuer")
    planned = ok(munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", str(OFFERED), "--price",
                          str(PRICE), "--closes", iso(close), "--settles", iso(settlement), "--dry-run"))  # fmt: skip
    assert "dry run: nothing sent" in planned and re.search(r"transactions +2\n", planned), planned
    assert nonces(web3, "issuer") == before
    opened = ok(munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", str(OFFERED), "--price",
                         str(PRICE), "--closes", iso(close), "--settles", iso(settlement), "--yes"))  # fmt: skip
    assert "subscription book 1 open at" in opened
    return close, settlement


def test_open_records_the_book_and_grants_it_minting(node, bond, book):  # noqa: F811
    url, web3 = node
    _tmp, manifest = bond
    close, settlement = book
    contract, block = book_at(web3, manifest, 1)
    terms = contract.functions.terms().call()
    token = series_token(web3, manifest)
    assert terms[0] == token.address and terms[2] == address_of(web3, "treasury")
    assert terms[3] == PRICE * 10 ** cash_token(web3, manifest).functions.decimals().call()
    assert (terms[5], terms[7], terms[8]) == (OFFERED, close, settlement)
    assert block > 0 and len(web3.eth.get_code(contract.address)) > 0
    minter = Web3.keccak(text="MINTER_ROLE")
    assert token.functions.hasRole(minter, contract.address).call()
    issuer_role = Web3.keccak(text="ISSUER_ROLE")
    assert contract.functions.hasRole(issuer_role, address_of(web3, "issuer")).call()
    # the same terms again: the book exists and holds the role, nothing is sent and no second book is recorded
    before = nonces(web3, "issuer")
    again = munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", str(OFFERED), "--price", str(PRICE),
                     "--closes", iso(close), "--settles", iso(settlement), "--yes")  # fmt: skip
    assert "nothing to send" in ok(again)
    assert nonces(web3, "issuer") == before
    assert len(json.loads(manifest.read_text())["series"][SYMBOL]["subscriptions"]) == 1


def test_commitments_and_the_refusals_of_the_window(node, bond, book):  # noqa: F811
    url, web3 = node
    _tmp, manifest = bond
    contract, _block = book_at(web3, manifest, 1)
    cash = cash_token(web3, manifest)
    before_cash = {alias: cash.functions.balanceOf(address_of(web3, alias)).call() for alias in COMMITS}
    for alias, units in COMMITS.items():
        out = ok(munibond(url, manifest, "subscription", "commit", SYMBOL, "--investor", alias, "--units", str(units),
                          "--yes"))  # fmt: skip
        assert f"commitment now {units} units" in out
    for alias, units in WITHDRAWN.items():
        ok(munibond(url, manifest, "subscription", "withdraw", SYMBOL, "--investor", alias, "--units", str(units),
                    "--yes"))  # fmt: skip
    committed = {alias: units - WITHDRAWN.get(alias, 0) for alias, units in COMMITS.items()}
    unit_price = contract.functions.terms().call()[3]
    for alias, units in committed.items():
        wallet = address_of(web3, alias)
        assert contract.functions.commitmentOf(wallet).call()[0] == units
        assert cash.functions.balanceOf(wallet).call() == before_cash[alias] - units * unit_price
    assert cash.functions.balanceOf(contract.address).call() == sum(committed.values()) * unit_price

    # over the per-investor cap (¥1,000,000 = 100 units): refused before sending, in one line
    investors = nonces(web3, "investor_a")
    line = refused(munibond(url, manifest, "subscription", "commit", SYMBOL, "--investor", "investor_a", "--units",
                            "41", "--yes"))  # fmt: skip
    assert "101 units in all" in line and "per-investor cap" in line, line
    # a wallet outside the allowed region (investor_f: Tokyo) is refused the same way
    line = refused(munibond(url, manifest, "subscription", "commit", SYMBOL, "--investor", "investor_f", "--units",
                            "1", "--yes"))  # fmt: skip
    assert "region is not allowed" in line, line
    # no terminal and no --yes: refused, nothing sent
    line = refused(munibond(url, manifest, "subscription", "commit", SYMBOL, "--investor", "investor_a", "--units",
                            "1"))  # fmt: skip
    assert "--yes" in line
    assert nonces(web3, "investor_a", "investor_f") == {**investors, "investor_f": 0}
    assert contract.functions.commitmentOf(address_of(web3, "investor_a")).call()[0] == committed["investor_a"]

    # the issuer cannot allot before the close; an account without the book's issuer role cannot at all
    issuer = nonces(web3, "issuer", "treasury")
    line = refused(munibond(url, manifest, "subscription", "allot", SYMBOL, "--pro-rata", "--yes"))
    assert "still open" in line, line
    line = refused(munibond(url, manifest, "subscription", "allot", SYMBOL, "--pro-rata", "--issuer", "treasury",
                            "--yes"))  # fmt: skip
    assert "does not hold the issuer role" in line, line
    assert nonces(web3, "issuer", "treasury") == issuer

    listed = ok(munibond(url, manifest, "subscription", "list", SYMBOL))
    assert "open" in listed.splitlines()[0]
    assert f"committed   {sum(committed.values())} units, 1,800,000 JPY, 4 investors" in listed, listed


def test_a_bad_allotment_file_line_is_named_before_anything_is_sent(node, bond, book):  # noqa: F811
    url, web3 = node
    tmp, manifest = bond
    close, _settlement = book
    travel(web3, close)
    before = nonces(web3, "issuer")
    bad_units = tmp / "allotment-bad-units.csv"
    bad_units.write_text("wallet,units\nalias:investor_a,30\nalias:investor_c,2x\n")
    line = refused(munibond(url, manifest, "subscription", "allot", SYMBOL, "--file", str(bad_units), "--yes"))
    assert line.startswith(f"error: {bad_units}:3: units: "), line
    bad_wallet = tmp / "allotment-bad-wallet.csv"
    bad_wallet.write_text("wallet,units\n0x1234,30\n")
    line = refused(munibond(url, manifest, "subscription", "allot", SYMBOL, "--file", str(bad_wallet), "--yes"))
    assert line.startswith(f"error: {bad_wallet}:2: wallet: "), line
    too_many = tmp / "allotment-too-many.csv"
    too_many.write_text("wallet,units\nalias:investor_a,30\nalias:investor_d,46\n")
    line = refused(munibond(url, manifest, "subscription", "allot", SYMBOL, "--file", str(too_many), "--yes"))
    assert line.startswith(f"error: {too_many}:3: units: ") and "commitment of 45" in line, line
    assert nonces(web3, "issuer") == before
    contract, _block = book_at(web3, manifest, 1)
    assert contract.functions.state().call()[0] == 0  # still open: nothing allotted


def test_pro_rata_allotment_then_an_interrupted_settlement_finishes_exactly_once(node, bond, book):  # noqa: F811
    url, web3 = node
    _tmp, manifest = bond
    _close, settlement = book
    contract, block = book_at(web3, manifest, 1)
    aliases = list(COMMITS)
    committed = [COMMITS[a] - WITHDRAWN.get(a, 0) for a in aliases]
    expected = pro_rata(committed, OFFERED)
    assert expected == [34, 28, 25, 13] and sum(expected) == OFFERED

    planned = ok(munibond(url, manifest, "subscription", "allot", SYMBOL, "--pro-rata", "--dry-run"))
    for alias, units in zip(aliases, expected, strict=True):
        assert f"{address_of(web3, alias)}: committed" in planned and f"allotted {units}," in planned
    ok(munibond(url, manifest, "subscription", "allot", SYMBOL, "--pro-rata", "--yes", "--batch-size", "3"))
    for alias, units in zip(aliases, expected, strict=True):
        assert contract.functions.commitmentOf(address_of(web3, alias)).call()[1] == units
    assert contract.functions.state().call()[0] == 2  # allotted

    # before the settlement time: refused, nothing sent
    before = nonces(web3, "issuer")
    assert "settlement is due" in refused(munibond(url, manifest, "subscription", "settle", SYMBOL, "--yes"))
    assert nonces(web3, "issuer") == before

    travel(web3, settlement)
    cash, token = cash_token(web3, manifest), series_token(web3, manifest)
    unit_price = contract.functions.terms().call()[3]
    treasury = address_of(web3, "treasury")
    treasury_before = cash.functions.balanceOf(treasury).call()
    investors_before = [cash.functions.balanceOf(address_of(web3, a)).call() for a in aliases]

    # a run with batches of one investor, killed as soon as it reports its first batch
    process = subprocess.Popen(
        [sys.executable, "-m", "munibond", "subscription", "settle", SYMBOL, "--yes", "--batch-size", "1",
         "--network", url, "--manifest", str(manifest)],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    seen = []
    for output in process.stdout:
        seen.append(output)
        if output.startswith("settled 1/4"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, seen
    state = contract.functions.state().call()
    assert state[0] == PHASE_SETTLING and 1 <= state[6] < 4, state

    finished = ok(munibond(url, manifest, "subscription", "settle", SYMBOL, "--yes", "--batch-size", "2"))
    assert "already settled" in finished and "4 of 4 investors settled" in finished, finished
    assert contract.functions.state().call()[0] == PHASE_SETTLED
    # a third run has nothing left to send
    before = nonces(web3, "issuer")
    assert "nothing to send" in ok(munibond(url, manifest, "subscription", "settle", SYMBOL, "--yes"))
    assert nonces(web3, "issuer") == before

    # exactly once: one Settled event per investor, units minted once, cash paid once
    settled = contract.events.Settled().get_logs(from_block=block)
    assert sorted(log.args.investor for log in settled) == sorted(address_of(web3, a) for a in aliases)
    for alias, units, held, start in zip(aliases, expected, committed, investors_before, strict=True):
        wallet = address_of(web3, alias)
        assert token.functions.balanceOf(wallet).call() == units
        assert cash.functions.balanceOf(wallet).call() == start + (held - units) * unit_price
    assert token.functions.totalSupply().call() == OFFERED
    assert cash.functions.balanceOf(treasury).call() == treasury_before + OFFERED * unit_price
    assert cash.functions.balanceOf(contract.address).call() == 0


def _csv_rows(path: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    return rows[:-1], rows[-1]


def test_the_report_reconciles_proceeds_and_refunds_with_the_cash_committed(node, bond, book):  # noqa: F811
    url, web3 = node
    tmp, manifest = bond
    out = tmp / "subscription-1.csv"
    printed = ok(munibond(url, manifest, "report", "subscription", SYMBOL, "--csv", str(out), "--investors",
                          str(EXAMPLES / "investor-directory.csv")))  # fmt: skip
    assert "complete: proceeds + refunds = committed" in printed and "NOT" not in printed, printed
    rows, total = _csv_rows(out)
    committed = {address_of(web3, a): COMMITS[a] - WITHDRAWN.get(a, 0) for a in COMMITS}
    assert {row["wallet"]: int(row["committed_units"]) for row in rows} == committed
    assert [row["investor_id"] for row in rows] == ["KNGW-0001", "KNGW-0003", "KNGW-0004", "KNGW-0005"]
    contract, block = book_at(web3, manifest, 1)
    settled = {log.args.investor: log for log in contract.events.Settled().get_logs(from_block=block)}
    for row in rows:
        paid, refunded = Decimal(row["paid"]), Decimal(row["refunded"])
        assert paid == int(row["issued_units"]) * PRICE == int(row["allotted_units"]) * PRICE
        assert paid + refunded == Decimal(row["committed"]) == committed[row["wallet"]] * PRICE
        assert row["status"] == "settled"
        assert settled[row["wallet"]].transactionHash.to_0x_hex() in row["transaction"]
    total_committed = sum(committed.values()) * PRICE
    assert Decimal(total["paid"]) == OFFERED * PRICE  # the proceeds: what the treasury received
    assert Decimal(total["paid"]) + Decimal(total["refunded"]) == Decimal(total["committed"]) == total_committed
    assert sum(Decimal(row["refunded"]) for row in rows) == Decimal(total["refunded"])
    treasury = cash_token(web3, manifest).functions.balanceOf(address_of(web3, "treasury")).call()
    assert yen(web3, manifest, treasury) >= OFFERED * PRICE


def test_cancel_returns_every_unit_of_cash(node, bond, book):  # noqa: F811
    url, web3 = node
    tmp, manifest = bond
    now = web3.eth.get_block("latest")["timestamp"]
    ok(munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", "20", "--price", str(PRICE), "--closes",
                iso(now + DAY), "--yes"))  # fmt: skip
    contract, _block = book_at(web3, manifest, 2)
    cash = cash_token(web3, manifest)
    wallets = {alias: address_of(web3, alias) for alias in ("investor_c", "investor_d", "investor_e")}
    start = {alias: cash.functions.balanceOf(w).call() for alias, w in wallets.items()}
    for alias, units in (("investor_c", 7), ("investor_d", 11), ("investor_e", 9)):
        ok(munibond(url, manifest, "subscription", "commit", SYMBOL, "--investor", alias, "--units", str(units),
                    "--yes"))  # fmt: skip
    assert cash.functions.balanceOf(contract.address).call() > 0
    # allotted from a file after the close (investor_e not listed: nothing), then cancelled all the same
    travel(web3, contract.functions.terms().call()[7])
    allotment = tmp / "allotment-2.csv"
    allotment.write_text(f"wallet,units\nalias:investor_d,11\n{wallets['investor_c']},5\n")
    ok(munibond(url, manifest, "subscription", "allot", SYMBOL, "--file", str(allotment), "--yes"))
    assert [contract.functions.commitmentOf(w).call()[1] for w in wallets.values()] == [5, 11, 0]
    assert list(contract.functions.state().call())[:2] == [2, 3]  # allotted, from a file

    line = refused(munibond(url, manifest, "subscription", "cancel", SYMBOL, "--issuer", "investor_c", "--yes"))
    assert "does not hold the issuer role" in line
    planned = ok(munibond(url, manifest, "subscription", "cancel", SYMBOL, "--dry-run"))
    assert "270,000 JPY" in planned and "dry run: nothing sent" in planned
    assert contract.functions.state().call()[0] == 2

    done = ok(munibond(url, manifest, "subscription", "cancel", SYMBOL, "--yes", "--batch-size", "2"))
    assert "refunded 3 investors, 270,000 JPY" in done, done
    assert contract.functions.state().call()[0] == PHASE_CANCELLED
    assert {alias: cash.functions.balanceOf(w).call() for alias, w in wallets.items()} == start
    assert cash.functions.balanceOf(contract.address).call() == 0
    before = nonces(web3, "issuer")
    assert "nothing to send" in ok(munibond(url, manifest, "subscription", "cancel", SYMBOL, "--yes"))
    assert nonces(web3, "issuer") == before

    out = tmp / "subscription-2.csv"
    printed = ok(munibond(url, manifest, "report", "subscription", SYMBOL, "--book", "2", "--csv", str(out)))
    assert "complete: proceeds + refunds = committed" in printed and "NOT" not in printed, printed
    rows, total = _csv_rows(out)
    assert {row["status"] for row in rows} == {"refunded"}
    assert Decimal(total["paid"]) == 0
    assert Decimal(total["refunded"]) == Decimal(total["committed"]) == 27 * PRICE


def test_every_subcommand_shows_examples():
    commands = [
        ("subscription", c)
        for c in ("open", "list", "commit", "withdraw", "allot", "settle", "cancel", "claim-proceeds", "recover")
    ]
    for group, command in [*commands, ("report", "subscription")]:
        result = subprocess.run(
            [sys.executable, "-m", "munibond", group, command, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert "Examples:" in result.stdout and f"munibond {group} {command} KNGW26" in result.stdout
