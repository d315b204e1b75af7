"""`kill -9` of the real settlement commands at chosen transactions, then a re-run: the subscription book's
allotment, settlement and refunds, and a secondary trade's settlement, each done exactly once.

Every scenario runs `munibond` as a separate process against one anvil node that mines only when told to (the
machinery of tests/integration/interruption.py, shared with the `coupon pay` kill test): the process is killed
while a chosen transaction is being sent, that transaction is then mined or dropped (or was mined just before the
kill), and the command is run again, itself killed again at the next point where that keeps the test short. The
checks read the chain: every investor allotted, minted, paid and refunded exactly once, the treasury paid exactly
the proceeds, nothing left in the book, a trade's units and cash moved once; the re-run's output and audit log say
what it found done and skipped, and a run with nothing left sends nothing.

The investors' commitments are made straight on the book contract (the command that makes them is tested in
tests/integration/test_subscription_cli.py); every step killed and re-run is the real `munibond` command.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from munibond.abi_export import load_abi
from tests.integration.interruption import AFTER, DROPPED, MINED, environment, interrupt
from tests.integration.test_cli_workflow import EXAMPLES, ROOT, address_of
from tests.integration.test_cli_workflow import node as node  # the anvil fixture
from tests.integration.test_subscription_cli import iso, pro_rata, travel

SYMBOL = "KNGW26"
PRICE = 10_000  # yen per book unit (one token unit)
DAY = 86_400
INVESTORS = ("investor_a", "investor_b", "investor_b2", "investor_c", "investor_d", "investor_e", "investor_g")
COMMITS = (5, 3, 4, 6, 2, 7, 3)  # units, in arrival order: 30 committed
OFFERED = 20  # pro rata: every investor refunded part of its cash
BATCH = 2  # 7 investors: 4 batches
PRO_RATA, EXPLICIT = 1, 3
PHASE_ALLOTTED, PHASE_SETTLED, PHASE_CANCELLED = 2, 4, 5
SETTLED_FLAG, REFUNDED_FLAG = 2, 4


@dataclass(frozen=True)
class Market:
    url: str
    web3: Web3
    manifest: Path
    token: Any
    cash: Any
    unit_price: int  # PRICE in payment-token base units

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "munibond", *args, "--network", self.url, "--manifest", str(self.manifest)]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    def ok(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode == 0, (done.stdout, done.stderr)
        return done.stdout

    @property
    def env(self) -> dict[str, str]:
        return environment(self.manifest)

    def address(self, alias: str) -> str:
        return address_of(self.web3, alias)

    def send(self, call: Any, alias: str) -> None:
        tx = call.transact({"from": self.address(alias)})
        assert self.web3.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def nonces(self, *aliases: str) -> list[int]:
        return [self.web3.eth.get_transaction_count(self.address(alias)) for alias in aliases]

    def audit_end(self, command: str) -> dict[str, Any]:
        """The end entry of the latest run of `command` in the audit log."""
        entries = [json.loads(line) for line in (self.manifest.parent / "audit.log").read_text().splitlines()]
        return [e for e in entries if e["event"] == "end" and e["command"] == command][-1]


@dataclass(frozen=True)
class Book:
    contract: Any
    number: int
    block: int
    close: int
    settlement: int


@pytest.fixture(scope="module")
def market(node, tmp_path_factory) -> Market:
    """The shipped example deployed (nothing issued), its investors onboarded and holding cash."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("settlement-kill")
    manifest = tmp / "manifest.json"
    salt = tmp / "issuer-salt"
    salt.write_text("settlement-kill\n")
    first = Market(url, web3, manifest, None, None, 0)
    first.ok("deploy", str(EXAMPLES / "kanagawa-resident-2026.yaml"), "--test-payment-token", "--shift-dates")
    first.ok("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt), "--yes")
    entry = json.loads(manifest.read_text())["series"][SYMBOL]
    token = web3.eth.contract(address=entry["token"], abi=load_abi("BondSeries"))
    cash = web3.eth.contract(address=entry["payment_token"], abi=load_abi("MockPaymentToken"))
    unit_price = PRICE * 10 ** cash.functions.decimals().call()
    ready = Market(url, web3, manifest, token, cash, unit_price)
    for alias in INVESTORS:
        ready.send(cash.functions.mint(ready.address(alias), 1_000 * unit_price), "treasury")
    return ready


def open_book(market: Market) -> Book:
    """A book opened by the command, open for a day and settling a day after; every investor commits (in
    INVESTORS order) straight on the contract."""
    now = market.web3.eth.get_block("latest")["timestamp"]
    close, settlement = now + DAY, now + 2 * DAY
    market.ok("subscription", "open", SYMBOL, "--offered", str(OFFERED), "--price", str(PRICE), "--closes", iso(close),
              "--settles", iso(settlement), "--yes")  # fmt: skip
    records = json.loads(market.manifest.read_text())["series"][SYMBOL]["subscriptions"]
    record = records[-1]
    contract = market.web3.eth.contract(address=record["address"], abi=load_abi("SubscriptionBook"))
    for alias, units in zip(INVESTORS, COMMITS, strict=True):
        market.send(market.cash.functions.approve(contract.address, units * market.unit_price), alias)
        market.send(contract.functions.commit(units), alias)
    return Book(contract, len(records), int(record["block"]), close, settlement)


def expected_allotment() -> list[int]:
    return pro_rata(list(COMMITS), OFFERED)


def flagged(market: Market, book: Book, flag: int) -> int:
    """How many investors the book has flagged `flag` (settled or refunded)."""
    return sum(
        bool(book.contract.functions.commitmentOf(market.address(alias)).call()[3] & flag) for alias in INVESTORS
    )


def balances(market: Market, contract: Any, aliases: tuple[str, ...]) -> dict[str, int]:
    return {alias: contract.functions.balanceOf(market.address(alias)).call() for alias in aliases}


def batches(investors: int) -> int:
    return -(-investors // BATCH)


def test_allotment_then_settlement_killed_at_every_point_each_finished_exactly_once(market):
    """One pro rata book: the allotment killed between batches, its re-run killed after the last batch before the
    finalization, a third run finalizing; then the settlement killed after its first batch was sent, between
    batches, and after its last batch, and a final run with nothing left to send."""
    web3 = market.web3
    issuer = [market.address("issuer")]
    book = open_book(market)
    travel(web3, book.close)
    wallets = [market.address(alias) for alias in INVESTORS]

    # allotment: 4 batches of 2 investors, then the finalization
    allot = ("subscription", "allot", SYMBOL, "--pro-rata", "--yes", "--batch-size", str(BATCH))
    interrupt(web3, market.command(*allot), market.env, issuer, 2, DROPPED)  # the second batch never sent
    assert book.contract.functions.state().call()[5] == BATCH  # investors allotted
    interrupt(web3, market.command(*allot), market.env, issuer, batches(7 - BATCH), AFTER)  # before finalizing
    state = book.contract.functions.state().call()
    assert (state[1], state[5], state[0]) == (PRO_RATA, 7, 1), state  # all allotted, still allotting

    finished = market.ok(*allot)  # no AlreadyAllotted: only the finalization is left
    assert "(7 allotted already, 0 to allot)" in finished, finished
    assert f"allotment final: {OFFERED} units to 7 investors (1 transactions; 7 allotted already, skipped)" in finished
    end = market.audit_end("subscription allot")
    assert end["outcome"] == "completed" and len(end["transactions"]) == 1, end
    assert end["totals"]["already_allotted"] == 7, end
    # the allotment the rule gives, each investor allotted once, final once
    assert [book.contract.functions.commitmentOf(w).call()[1] for w in wallets] == expected_allotment()
    allotted = book.contract.events.Allotted().get_logs(from_block=book.block)
    assert Counter(log.args.investor for log in allotted) == Counter(wallets)
    assert len(book.contract.events.AllotmentFinalized().get_logs(from_block=book.block)) == 1
    state = book.contract.functions.state().call()
    assert (state[0], state[4], state[5]) == (PHASE_ALLOTTED, OFFERED, 7), state

    # settlement: 4 batches of 2 investors
    travel(web3, book.settlement)
    units_before = balances(market, market.token, INVESTORS)
    cash_before = balances(market, market.cash, (*INVESTORS, "treasury"))
    settle = ("subscription", "settle", SYMBOL, "--yes", "--batch-size", str(BATCH))
    interrupt(web3, market.command(*settle), market.env, issuer, 1, MINED)  # the first batch, its receipt unseen
    assert flagged(market, book, SETTLED_FLAG) == BATCH
    interrupt(web3, market.command(*settle), market.env, issuer, 2, DROPPED)  # between batches
    assert flagged(market, book, SETTLED_FLAG) == 2 * BATCH
    interrupt(web3, market.command(*settle), market.env, issuer, batches(7 - 2 * BATCH), AFTER)  # the last batch
    assert flagged(market, book, SETTLED_FLAG) == 7

    before = market.nonces("issuer")
    resumed = market.ok(*settle)
    assert "0 to settle (7 already settled)" in resumed and "nothing to send" in resumed, resumed
    assert f"KNGW26 book {book.number}: settled, 7 of 7 investors settled" in resumed, resumed
    end = market.audit_end("subscription settle")
    assert end["outcome"] == "nothing to send" and end["transactions"] == [], end
    assert end["totals"]["already_settled"] == 7, end
    assert market.nonces("issuer") == before

    # exactly once: one Settled event each, the allotment minted once, the rest refunded once, the proceeds paid once
    settled = book.contract.events.Settled().get_logs(from_block=book.block)
    assert Counter(log.args.investor for log in settled) == Counter(wallets)
    units_after = balances(market, market.token, INVESTORS)
    cash_after = balances(market, market.cash, (*INVESTORS, "treasury"))
    for alias, committed, units in zip(INVESTORS, COMMITS, expected_allotment(), strict=True):
        assert units_after[alias] - units_before[alias] == units, alias
        assert cash_after[alias] - cash_before[alias] == (committed - units) * market.unit_price, alias
    assert cash_after["treasury"] - cash_before["treasury"] == OFFERED * market.unit_price
    proceeds = book.contract.events.ProceedsPaid().get_logs(from_block=book.block)
    assert sum(log.args.cash for log in proceeds) == OFFERED * market.unit_price
    assert {log.args.treasury for log in proceeds} == {market.address("treasury")}
    assert market.cash.functions.balanceOf(book.contract.address).call() == 0  # nothing more owed
    assert book.contract.functions.state().call()[0] == PHASE_SETTLED
    assert len(book.contract.events.SettlementCompleted().get_logs(from_block=book.block)) == 1


def test_an_allotment_file_begun_is_finished_only_with_the_same_allotment(market, tmp_path):
    """An allotment from a file, interrupted after its first batch: a re-run with another file that allots an
    investor already allotted differently is refused (before, it skipped that investor silently and reported the
    other file's total); the same file finishes it."""
    book = open_book(market)
    travel(market.web3, book.close)
    expected = expected_allotment()
    rows = "".join(f"alias:{alias},{units}\n" for alias, units in zip(INVESTORS, expected, strict=True))
    allotment = tmp_path / "allotment.csv"
    allotment.write_text("wallet,units\n" + rows)
    # the first batch of a run of this file allotted, the run gone (the kill itself is exercised above)
    first_batch = [market.address(alias) for alias in INVESTORS[:BATCH]]
    market.send(book.contract.functions.allot(EXPLICIT, first_batch, expected[:BATCH]), "issuer")

    # another file, one unit moved from the last investor to the first (allotted already): refused, nothing sent
    moved = [expected[0] + 1, *expected[1:-1], expected[-1] - 1]
    other = tmp_path / "other.csv"
    other.write_text(
        "wallet,units\n" + "".join(f"alias:{alias},{u}\n" for alias, u in zip(INVESTORS, moved, strict=True))
    )
    before = market.nonces("issuer")
    refused = market.run("subscription", "allot", SYMBOL, "--file", str(other), "--yes")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), refused.stderr
    first = market.address(INVESTORS[0])
    assert f"{first} was allotted {expected[0]} units" in lines[0] and f"allots {moved[0]}" in lines[0], lines
    assert market.nonces("issuer") == before

    # the same file finishes it: the rest, then the finalization
    finished = market.ok("subscription", "allot", SYMBOL, "--file", str(allotment), "--yes", "--batch-size", str(BATCH))
    assert f"({BATCH} allotted already, {7 - BATCH} to allot)" in finished, finished
    assert f"allotment final: {OFFERED} units to 7 investors ({batches(7 - BATCH) + 1} transactions" in finished
    wallets = [market.address(alias) for alias in INVESTORS]
    assert [book.contract.functions.commitmentOf(w).call()[1] for w in wallets] == expected
    allotted = book.contract.events.Allotted().get_logs(from_block=book.block)
    assert Counter(log.args.investor for log in allotted) == Counter(wallets)
    assert book.contract.functions.state().call()[0] == PHASE_ALLOTTED


def test_cancel_killed_then_rerun_refunds_every_investor_exactly_once(market):
    """Killed once the cancellation is confirmed (before any refund), its re-run killed while its second refund
    batch is sent, then a run refunding the rest."""
    web3 = market.web3
    issuer = [market.address("issuer")]
    cash_before = balances(market, market.cash, (*INVESTORS, "treasury"))
    book = open_book(market)
    units_before = balances(market, market.token, INVESTORS)
    cancel = ("subscription", "cancel", SYMBOL, "--yes", "--batch-size", str(BATCH))

    interrupt(web3, market.command(*cancel), market.env, issuer, 1, AFTER)
    assert book.contract.functions.state().call()[0] == PHASE_CANCELLED
    assert flagged(market, book, REFUNDED_FLAG) == 0
    interrupt(web3, market.command(*cancel), market.env, issuer, 2, MINED)  # refunds only: cancelled already
    done = flagged(market, book, REFUNDED_FLAG)
    assert done == 2 * BATCH

    resumed = market.ok(*cancel)
    assert "(refunds still owed)" in resumed and f"{7 - done} ({done} already refunded or settled)" in resumed, resumed
    assert f"refunded {7 - done} investors" in resumed and f"{done} already refunded, skipped" in resumed, resumed
    end = market.audit_end("subscription cancel")
    assert end["outcome"] == "completed" and end["totals"]["already_refunded"] == done, end
    assert len(end["transactions"]) == batches(7 - done), end

    # every investor's cash back exactly once, nothing minted, nothing to the treasury, nothing left in the book
    wallets = [market.address(alias) for alias in INVESTORS]
    refunded = book.contract.events.Refunded().get_logs(from_block=book.block)
    assert Counter(log.args.investor for log in refunded) == Counter(wallets)
    assert {log.args.investor: log.args.cash for log in refunded} == {
        wallet: units * market.unit_price for wallet, units in zip(wallets, COMMITS, strict=True)
    }
    assert balances(market, market.cash, (*INVESTORS, "treasury")) == cash_before
    assert balances(market, market.token, INVESTORS) == units_before
    assert market.cash.functions.balanceOf(book.contract.address).call() == 0
    assert len(book.contract.events.SubscriptionCancelled().get_logs(from_block=book.block)) == 1


# ------------------------------------------------------------------------------------------------ trades


@pytest.fixture(scope="module")
def trading(market) -> Any:
    """The settlement contract set up, and the sellers holding units (minted by the series' minter)."""
    for alias in ("investor_c", "investor_d"):
        market.send(market.token.functions.mint(market.address(alias), 5), "agent")
    market.ok("trade", "setup", SYMBOL, "--yes")
    address = json.loads(market.manifest.read_text())["contracts"]["TradeSettlement"]["address"]
    return market.web3.eth.contract(address=address, abi=load_abi("TradeSettlement"))


def agreed(market: Market, *terms: str) -> str:
    out = market.ok("trade", "agree", SYMBOL, *terms, "--yes")
    match = re.search(r"trade (0x[0-9a-f]{64}) agreed", out)
    assert match, out
    return match.group(1)


def settled_events(settlement: Any, trade_id: str) -> list[Any]:
    return [
        log
        for log in settlement.events.TradeSettled().get_logs(from_block=0)
        if "0x" + bytes(log.args.tradeId).hex() == trade_id
    ]


def test_trade_settle_killed_after_sending_then_rerun_sends_nothing(market, trading):
    web3 = market.web3
    seller, buyer = "investor_c", "investor_e"
    price = 3 * market.unit_price
    market.send(market.cash.functions.mint(market.address(buyer), price), "treasury")
    trade_id = agreed(market, "--seller", seller, "--buyer", buyer, "--units", "3", "--unit-price", str(PRICE))
    units_before = balances(market, market.token, (seller, buyer))
    cash_before = balances(market, market.cash, (seller, buyer))

    # the buyer's approval, then the settlement: killed once the settlement is sent, mined after
    senders = [market.address(buyer), market.address("agent")]
    interrupt(web3, market.command("trade", "settle", trade_id, "--yes"), market.env, senders, 2, MINED)
    assert trading.functions.tradeStatus(trade_id).call() == 3  # settled

    before = market.nonces("agent", seller, buyer)
    again = market.ok("trade", "settle", trade_id, "--yes")
    assert f"trade {trade_id}" in again and "settled already at" in again and "nothing to send" in again, again
    assert market.audit_end("trade settle")["outcome"] == "nothing to send"
    assert market.nonces("agent", seller, buyer) == before

    assert len(settled_events(trading, trade_id)) == 1
    assert balances(market, market.token, (seller, buyer)) == {
        seller: units_before[seller] - 3,
        buyer: units_before[buyer] + 3,
    }
    assert balances(market, market.cash, (seller, buyer)) == {
        seller: cash_before[seller] + price,
        buyer: cash_before[buyer] - price,
    }
    assert market.token.functions.getFrozenTokens(market.address(seller)).call() == 0


def test_confirm_payment_killed_after_sending_then_rerun_sends_nothing(market, trading):
    web3 = market.web3
    seller, buyer = "investor_d", "investor_a"
    terms = ("--seller", seller, "--buyer", buyer, "--units", "1", "--price", str(PRICE), "--bank")
    trade_id = agreed(market, *terms, "--payment-id", "MIZUHO 0042")
    units_before = balances(market, market.token, (seller, buyer))
    cash_before = balances(market, market.cash, (seller, buyer))

    confirm = ("trade", "confirm-payment", trade_id, "MIZUHO 0042", "--by", seller, "--yes")
    interrupt(web3, market.command(*confirm), market.env, [market.address(seller)], 1, AFTER)
    assert trading.functions.tradeStatus(trade_id).call() == 3  # settled

    before = market.nonces(seller, buyer, "agent")
    again = market.ok(*confirm)
    assert "settled already at" in again and "nothing to send" in again, again
    other = market.run("trade", "confirm-payment", trade_id, "MIZUHO 0043", "--by", seller, "--yes")
    assert other.returncode == 2 and len(other.stderr.strip().splitlines()) == 1, other.stderr
    assert "was settled already under payment id" in other.stderr and "nothing was sent" in other.stderr
    assert market.nonces(seller, buyer, "agent") == before

    assert len(settled_events(trading, trade_id)) == 1
    assert balances(market, market.token, (seller, buyer)) == {
        seller: units_before[seller] - 1,
        buyer: units_before[buyer] + 1,
    }
    assert balances(market, market.cash, (seller, buyer)) == cash_before  # the cash went by bank
