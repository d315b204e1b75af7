"""Secondary trades through the `munibond trade` commands, as separate processes against one anvil node: the
settlement contract set up for a workspace's series, an on-chain-cash trade agreed and settled delivery versus
payment, a bank-paid trade released on the seller's confirmation of the payment id, a hash-locked trade (cash on
another ledger) claimed with its secret, a series requiring the transfer agent's approval, cancellation, an expired
trade refused at settlement, and a buyer who is not a verified investor refused before anything is sent."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
import yaml
from eth_utils import keccak
from web3 import Web3

from munibond.abi_export import load_abi
from munibond.demo import shift_dates, years_to_start_after
from tests.integration.test_cli_workflow import EXAMPLES, address_of, munibond, node, nonces  # noqa: F401

FREEZER_ROLE = keccak(text="FREEZER_ROLE")
TRADE_ID = re.compile(r"trade (0x[0-9a-f]{64}) agreed")


def one_line_refusal(result) -> str:
    """The single `error:` line of a refused command (exit 2), with nothing else on stderr."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def market(tmp_path_factory, node):  # noqa: F811
    """KNGW26 deployed, the example investors onboarded, the example allocations issued and the settlement contract
    set up; returns (url, web3, manifest, token, cash, settlement address)."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("trade")
    raw = yaml.safe_load((EXAMPLES / "kanagawa-resident-2026.yaml").read_text())
    years = years_to_start_after(raw["issue_date"], web3.eth.get_block("latest")["timestamp"])
    terms = tmp / "kanagawa.yaml"
    terms.write_text(yaml.safe_dump(shift_dates(raw, years), sort_keys=False, allow_unicode=True))
    manifest = tmp / "manifest.json"
    salt = tmp / "issuer-salt"
    salt.write_text("kanagawa\n")
    for args in (
        ("deploy", str(terms), "--test-payment-token"),
        ("investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt), "--yes"),
        ("issue", "KNGW26", str(EXAMPLES / "allocations.csv"), "--yes"),
    ):
        done = munibond(url, manifest, *args)
        assert done.returncode == 0, done.stderr

    before = nonces(web3, "issuer")
    dry = munibond(url, manifest, "trade", "setup", "KNGW26", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "deploy" in dry.stdout and "grant the freezer role" in dry.stdout and "dry run: nothing sent" in dry.stdout
    assert nonces(web3, "issuer") == before and "TradeSettlement" not in json.loads(manifest.read_text())["contracts"]

    made = munibond(url, manifest, "trade", "setup", "KNGW26", "--yes")
    assert made.returncode == 0, made.stderr
    deployed = json.loads(manifest.read_text())
    settlement = deployed["contracts"]["TradeSettlement"]["address"]
    series = deployed["series"]["KNGW26"]
    token = web3.eth.contract(address=series["token"], abi=load_abi("BondSeries"))
    cash = web3.eth.contract(address=series["payment_token"], abi=load_abi("MockPaymentToken"))
    assert token.functions.hasRole(FREEZER_ROLE, settlement).call()

    sent = nonces(web3, "issuer")
    again = munibond(url, manifest, "trade", "setup", "KNGW26", "--yes")
    assert again.returncode == 0, again.stderr
    assert "served already" in again.stdout and "nothing to send" in again.stdout
    assert nonces(web3, "issuer") == sent
    return url, web3, manifest, token, cash, settlement


def units(token, web3: Web3, alias: str) -> int:
    return token.functions.balanceOf(address_of(web3, alias)).call()


def frozen(token, web3: Web3, alias: str) -> int:
    return token.functions.getFrozenTokens(address_of(web3, alias)).call()


def cash_of(cash, web3: Web3, alias: str) -> int:
    return cash.functions.balanceOf(address_of(web3, alias)).call()


def mint_cash(web3: Web3, cash, alias: str, amount: int) -> None:
    tx = cash.functions.mint(address_of(web3, alias), amount).transact({"from": address_of(web3, "treasury")})
    assert web3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def agreed_id(result) -> str:
    assert result.returncode == 0, result.stderr
    match = TRADE_ID.search(result.stdout)
    assert match, result.stdout
    return match.group(1)


def listed(url, manifest, trade_id: str) -> str:
    shown = munibond(url, manifest, "trade", "list")
    assert shown.returncode == 0, shown.stderr
    (line,) = (line for line in shown.stdout.splitlines() if line.startswith(trade_id[:14]))
    return line


def test_an_onchain_cash_trade_is_agreed_and_settled_delivery_versus_payment(market):
    url, web3, manifest, token, cash, _settlement = market
    seller_units, buyer_units = units(token, web3, "investor_c"), units(token, web3, "investor_e")
    seller_cash = cash_of(cash, web3, "investor_c")
    mint_cash(web3, cash, "investor_e", 253_125)
    terms = ("--seller", "investor_c", "--buyer", "investor_e", "--units", "25", "--unit-price", "10125")

    before = nonces(web3, "agent", "investor_c", "investor_e")
    dry = munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "253,125 JPY" in dry.stdout and "on-chain cash (DvP)" in dry.stdout and "dry run: nothing sent" in dry.stdout
    assert nonces(web3, "agent", "investor_c", "investor_e") == before and frozen(token, web3, "investor_c") == 0

    trade_id = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
    # locked, not moved: the units stay in the seller's balance, frozen
    assert units(token, web3, "investor_c") == seller_units and frozen(token, web3, "investor_c") == 25
    line = listed(url, manifest, trade_id)
    assert "pending" in line and "investor_c -> investor_e" in line and "25 units" in line and "253,125 JPY" in line

    settled = munibond(url, manifest, "trade", "settle", trade_id[:12], "--yes")
    assert settled.returncode == 0, settled.stderr
    assert "buyer approval" in settled.stdout  # the buyer's cash approval was short: sent first
    assert f"trade {trade_id} settled: 25 units of KNGW26 to investor_e, 253,125 JPY to investor_c" in settled.stdout
    assert (
        units(token, web3, "investor_c") == seller_units - 25 and units(token, web3, "investor_e") == buyer_units + 25
    )
    assert frozen(token, web3, "investor_c") == 0
    assert cash_of(cash, web3, "investor_c") == seller_cash + 253_125 and cash_of(cash, web3, "investor_e") == 0
    assert "settled" in listed(url, manifest, trade_id)

    # a re-run (a script run again) reports the settlement and sends nothing; a cancellation is refused
    sent = nonces(web3, "agent", "investor_c", "investor_e")
    again = munibond(url, manifest, "trade", "settle", trade_id, "--yes")
    assert again.returncode == 0, again.stderr
    assert "settled already at" in again.stdout and "nothing to send" in again.stdout, again.stdout
    cancelled = one_line_refusal(munibond(url, manifest, "trade", "cancel", trade_id, "--by", "investor_e", "--yes"))
    assert f"trade {trade_id} is settled: nothing was sent" in cancelled
    assert nonces(web3, "agent", "investor_c", "investor_e") == sent


def test_a_bank_paid_trade_is_released_on_the_sellers_confirmation_of_the_payment_id(market):
    url, web3, manifest, token, cash, _settlement = market
    seller_units, buyer_units = units(token, web3, "investor_d"), units(token, web3, "investor_a")
    cash_before = cash_of(cash, web3, "investor_d"), cash_of(cash, web3, "investor_a")
    terms = ("--seller", "investor_d", "--buyer", "investor_a", "--units", "10", "--price", "101000", "--bank")
    agreed = munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--payment-id", "MIZUHO 0001", "--yes")
    trade_id = agreed_id(agreed)
    assert "bank transfer (payment id)" in agreed.stdout and "101,000 JPY" in agreed.stdout
    assert frozen(token, web3, "investor_d") == 10

    sent = nonces(web3, "investor_d")
    wrong = one_line_refusal(
        munibond(url, manifest, "trade", "confirm-payment", trade_id, "MIZUHO 0002", "--by", "investor_d", "--yes")
    )
    assert "payment id 'MIZUHO 0002' is not the one agreed" in wrong
    seller_cancel = one_line_refusal(
        munibond(url, manifest, "trade", "cancel", trade_id, "--by", "investor_d", "--yes")
    )
    assert "the seller cannot cancel a trade paid by bank transfer" in seller_cancel
    with_settle = one_line_refusal(munibond(url, manifest, "trade", "settle", trade_id, "--yes"))
    assert "trade confirm-payment" in with_settle
    assert nonces(web3, "investor_d") == sent and frozen(token, web3, "investor_d") == 10

    confirmed = munibond(
        url, manifest, "trade", "confirm-payment", trade_id, "MIZUHO 0001", "--by", "investor_d", "--yes"
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert "payment confirmed, 10 units of KNGW26 released to investor_a" in confirmed.stdout
    assert (
        units(token, web3, "investor_d") == seller_units - 10 and units(token, web3, "investor_a") == buyer_units + 10
    )
    assert frozen(token, web3, "investor_d") == 0
    # the cash went by bank: no payment token moved
    assert (cash_of(cash, web3, "investor_d"), cash_of(cash, web3, "investor_a")) == cash_before
    assert "settled" in listed(url, manifest, trade_id) and "101,000 JPY" in listed(url, manifest, trade_id)


def test_one_bank_payment_releases_one_trade_of_the_seller(market):
    url, web3, manifest, token, _cash, _settlement = market
    terms = ("--seller", "investor_d", "--buyer", "investor_a", "--units", "10", "--price", "101000", "--bank")
    first = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
    second = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
    confirm = ("--by", "investor_d", "--yes")
    done = munibond(url, manifest, "trade", "confirm-payment", first, "MIZUHO 0100", *confirm)
    assert done.returncode == 0, done.stderr
    sent, locked = nonces(web3, "investor_d"), frozen(token, web3, "investor_d")
    reused = one_line_refusal(munibond(url, manifest, "trade", "confirm-payment", second, "MIZUHO 0100", *confirm))
    assert f"payment id 'MIZUHO 0100' already confirmed the seller's trade {first}" in reused
    assert nonces(web3, "investor_d") == sent and frozen(token, web3, "investor_d") == locked
    done = munibond(url, manifest, "trade", "confirm-payment", second, "MIZUHO 0101", *confirm)
    assert done.returncode == 0, done.stderr
    assert frozen(token, web3, "investor_d") == locked - 10


def test_a_hash_locked_trade_is_claimed_once_with_its_secret_file(market, tmp_path):
    url, web3, manifest, token, cash, settlement = market
    secret = os.urandom(32)
    (tmp_path / "secret.hex").write_text("0x" + secret.hex() + "\n")
    (tmp_path / "wrong.hex").write_text(os.urandom(32).hex())
    lock = "0x" + hashlib.sha256(secret).hexdigest()
    seller_units, buyer_units = units(token, web3, "investor_c"), units(token, web3, "investor_e")
    cash_before = cash_of(cash, web3, "investor_c"), cash_of(cash, web3, "investor_e")
    locked_before = frozen(token, web3, "investor_c")
    terms = ("--seller", "investor_c", "--buyer", "investor_e", "--units", "4", "--price", "40500", "--hash-lock", lock)
    agreed = munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes")
    trade_id = agreed_id(agreed)
    assert "hash lock" in agreed.stdout and lock[2:] in agreed.stdout and "trade claim" in agreed.stdout
    assert frozen(token, web3, "investor_c") == locked_before + 4

    sent = nonces(web3, "agent")
    claim = ("trade", "claim", trade_id[:12], "--secret-file")
    wrong = one_line_refusal(munibond(url, manifest, *claim, str(tmp_path / "wrong.hex"), "--yes"))
    assert f"the secret does not open the hash lock of trade {trade_id}" in wrong and "nothing was sent" in wrong
    assert nonces(web3, "agent") == sent and frozen(token, web3, "investor_c") == locked_before + 4

    claimed = munibond(url, manifest, *claim, str(tmp_path / "secret.hex"), "--yes")
    assert claimed.returncode == 0, claimed.stderr
    assert f"trade {trade_id} settled: secret revealed, 4 units of KNGW26 released to investor_e" in claimed.stdout
    assert secret.hex() not in claimed.stdout + claimed.stderr + (manifest.parent / "audit.log").read_text()
    assert units(token, web3, "investor_c") == seller_units - 4 and units(token, web3, "investor_e") == buyer_units + 4
    assert frozen(token, web3, "investor_c") == locked_before
    # the cash leg is on the other ledger: nothing moved here; the seller takes it there with the published secret
    assert (cash_of(cash, web3, "investor_c"), cash_of(cash, web3, "investor_e")) == cash_before
    contract = web3.eth.contract(address=settlement, abi=load_abi("TradeSettlement"))
    (revealed,) = contract.events.SecretRevealed().get_logs(from_block=0)
    assert revealed.args.tradeId.hex().removeprefix("0x") == trade_id[2:] and revealed.args.secret == secret

    sent = nonces(web3, "agent")
    again = munibond(url, manifest, *claim, str(tmp_path / "secret.hex"), "--yes")
    assert again.returncode == 0, again.stderr
    assert "settled already at" in again.stdout and "nothing to send" in again.stdout, again.stdout
    assert secret.hex() not in again.stdout + again.stderr
    assert nonces(web3, "agent") == sent and units(token, web3, "investor_e") == buyer_units + 4


def test_a_series_requiring_approval_settles_only_after_the_transfer_agent_approves(market):
    url, web3, manifest, token, cash, settlement = market
    required = munibond(url, manifest, "trade", "setup", "KNGW26", "--require-approval", "--yes")
    assert required.returncode == 0, required.stderr
    contract = web3.eth.contract(address=settlement, abi=load_abi("TradeSettlement"))
    try:
        assert contract.functions.approvalRequired(token.address).call()
        mint_cash(web3, cash, "investor_a", 30_000)
        terms = ("--seller", "investor_d", "--buyer", "investor_a", "--units", "3", "--price", "30000")
        trade_id = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
        buyer_units = units(token, web3, "investor_a")

        sent = nonces(web3, "investor_a")
        early = one_line_refusal(munibond(url, manifest, "trade", "settle", trade_id, "--by", "investor_a", "--yes"))
        assert f"KNGW26 requires the transfer agent's approval of trade {trade_id}" in early
        outsider = one_line_refusal(
            munibond(url, manifest, "trade", "approve", trade_id, "--by", "investor_a", "--yes")
        )
        assert "investor_a is not the transfer agent of KNGW26" in outsider and "nothing was sent" in outsider
        assert nonces(web3, "investor_a") == sent and units(token, web3, "investor_a") == buyer_units

        approved = munibond(url, manifest, "trade", "approve", trade_id, "--yes")
        assert approved.returncode == 0, approved.stderr
        assert f"trade {trade_id} approved by the transfer agent" in approved.stdout
        assert "approved" in listed(url, manifest, trade_id)
        sent = nonces(web3, "agent")
        again = munibond(url, manifest, "trade", "approve", trade_id, "--yes")
        assert again.returncode == 0 and "given already" in again.stdout and "nothing to send" in again.stdout
        assert nonces(web3, "agent") == sent

        settled = munibond(url, manifest, "trade", "settle", trade_id, "--by", "investor_a", "--yes")
        assert settled.returncode == 0, settled.stderr
        assert units(token, web3, "investor_a") == buyer_units + 3
    finally:
        tx = contract.functions.setApprovalRequired(token.address, False).transact({"from": address_of(web3, "issuer")})
        assert web3.eth.wait_for_transaction_receipt(tx)["status"] == 1


def test_the_buyer_cancels_and_the_units_are_unlocked(market):
    url, web3, manifest, token, _cash, _settlement = market
    terms = ("--seller", "investor_a", "--buyer", "investor_e", "--units", "5", "--price", "50000")
    trade_id = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
    assert frozen(token, web3, "investor_a") == 5
    held = units(token, web3, "investor_a")

    outsider = one_line_refusal(munibond(url, manifest, "trade", "cancel", trade_id, "--by", "investor_g", "--yes"))
    assert "investor_g is neither the seller nor the buyer" in outsider
    cancelled = munibond(url, manifest, "trade", "cancel", trade_id, "--by", "investor_e", "--yes")
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"trade {trade_id} cancelled: 5 units unlocked" in cancelled.stdout
    assert frozen(token, web3, "investor_a") == 0 and units(token, web3, "investor_a") == held
    assert "cancelled" in listed(url, manifest, trade_id)
    refused = one_line_refusal(munibond(url, manifest, "trade", "settle", trade_id, "--yes"))
    assert "is cancelled: nothing was sent" in refused


def test_an_expired_trade_is_refused_at_settlement_and_released(market):
    url, web3, manifest, token, cash, _settlement = market
    mint_cash(web3, cash, "investor_a", 20_000)
    terms = ("--seller", "investor_b", "--buyer", "investor_a", "--units", "2", "--price", "20000", "--expires", "1h")
    trade_id = agreed_id(munibond(url, manifest, "trade", "agree", "KNGW26", *terms, "--yes"))
    assert frozen(token, web3, "investor_b") == 2
    web3.provider.make_request("evm_increaseTime", [2 * 3600])
    web3.provider.make_request("evm_mine", [])
    assert "expired" in listed(url, manifest, trade_id)

    before = nonces(web3, "agent", "investor_a", "investor_b")
    balances = units(token, web3, "investor_b"), units(token, web3, "investor_a"), cash_of(cash, web3, "investor_a")
    refused = one_line_refusal(munibond(url, manifest, "trade", "settle", trade_id, "--yes"))
    assert f"trade {trade_id} expired at" in refused and "it can no longer settle" in refused
    assert nonces(web3, "agent", "investor_a", "investor_b") == before
    assert (units(token, web3, "investor_b"), units(token, web3, "investor_a"), cash_of(cash, web3, "investor_a")) == (
        balances
    )

    released = munibond(url, manifest, "trade", "cancel", trade_id, "--yes")
    assert released.returncode == 0, released.stderr
    assert "the trade expired" in released.stdout and f"trade {trade_id} released: 2 units unlocked" in released.stdout
    assert frozen(token, web3, "investor_b") == 0 and "released" in listed(url, manifest, trade_id)


def test_a_buyer_who_is_not_a_verified_investor_is_refused_before_anything_is_sent(market):
    url, web3, manifest, token, _cash, _settlement = market
    before = nonces(web3, "agent", "investor_c", "investor_i")
    allowance = token.functions.allowance(address_of(web3, "investor_c"), market[5]).call()
    frozen_before = frozen(token, web3, "investor_c")
    terms = ("--seller", "investor_c", "--buyer", "investor_i", "--units", "5", "--price", "50000", "--yes")
    refused = one_line_refusal(munibond(url, manifest, "trade", "agree", "KNGW26", *terms))
    assert "the buyer investor_i" in refused and "is not a verified investor" in refused
    assert "nothing was sent" in refused
    assert nonces(web3, "agent", "investor_c", "investor_i") == before
    assert frozen(token, web3, "investor_c") == frozen_before
    assert token.functions.allowance(address_of(web3, "investor_c"), market[5]).call() == allowance

    # registered but outside the region: the series' compliance refuses it by name, before anything is sent
    terms = ("--seller", "investor_c", "--buyer", "investor_f", "--units", "5", "--price", "50000", "--yes")
    region = one_line_refusal(munibond(url, manifest, "trade", "agree", "KNGW26", *terms))
    assert "KNGW26 refuses this transfer now: the receiver's region is not allowed" in region
    assert nonces(web3, "agent", "investor_c") == {k: v for k, v in before.items() if k != "investor_i"}


def test_help_shows_examples():
    import subprocess
    import sys

    for command in ("setup", "agree", "approve", "settle", "confirm-payment", "claim", "cancel", "list"):
        shown = subprocess.run(
            [sys.executable, "-m", "munibond", "trade", command, "--help"], capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        assert "Examples:" in shown.stdout and f"munibond trade {command}" in shown.stdout


def test_terms_that_need_no_chain_are_refused_before_connecting():
    from click.testing import CliRunner

    from munibond.cli import main

    unreachable = ["--network", "http://127.0.0.1:9"]
    base = ["trade", "agree", "KNGW26", "--seller", "investor_c", "--buyer", "investor_h"]
    for extra, message in (
        (["--units", "0", "--price", "1"], "--units: must be a positive number of units, got 0"),
        (["--units", "5"], "--price: give the trade's total --price or its --unit-price (one of them)"),
        (["--units", "5", "--price", "1", "--unit-price", "1"], "give the trade's total --price or its --unit-price"),
        (["--units", "5", "--price", "1", "--payment-id", "X"], "--payment-id is for a trade paid by bank transfer"),
        (["--units", "5", "--price", "1", "--hash-lock", "0x12"], "--hash-lock: must be a SHA-256 hash"),
        (["--units", "5", "--price", "1", "--bank", "--hash-lock", "0x" + "ab" * 32], "or hash-locked (--hash-lock)"),
    ):
        result = CliRunner(mix_stderr=False).invoke(main, [*base, *extra, *unreachable])
        assert result.exit_code == 2, result.output
        assert result.stderr.strip().startswith("error: ") and message in result.stderr
        assert "cannot reach the node" not in result.stderr

    unset = {"MUNIBOND_TRADE_SECRET": None}
    result = CliRunner(mix_stderr=False, env=unset).invoke(main, ["trade", "claim", "0x3f2a9c", "--yes", *unreachable])
    assert result.exit_code == 2 and "no secret: give --secret-file FILE or set MUNIBOND_TRADE_SECRET" in result.stderr
