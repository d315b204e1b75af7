"""`munibond subscription recover|claim-proceeds` and the book's held proceeds in `list` and `report subscription`:
separate `munibond` processes against one anvil, the state around them set up through the contracts directly.

The example series paid in a payment token with a blocklist: investor_b commits from a wallet whose keys it then
loses, and the transfer agent moves its entry to investor_b2, its other registered wallet (refused first for a
signer without the role, a wallet of another investor and a new wallet with an entry of its own); the payment
token refuses the treasury during the settlement, so the book holds the proceeds while the units are minted to
the new wallet; the report reconciles with the proceeds held, and the treasury claims them to another wallet
(refused for anyone else). Every refusal is one `error:` line, exit status 2, and sends nothing (nonces unchanged).
"""

from __future__ import annotations

import json

import pytest
from web3 import Web3

from tests.integration.test_cli_workflow import EXAMPLES, address_of, node, nonces  # noqa: F401 (node: fixture)
from tests.integration.test_subscription_cli import SYMBOL, book_at, iso, munibond, ok, refused, series_token, travel

PRICE = 10_000  # yen per unit; the payment token has 0 decimals (yen)
OFFERED = 40
DAY = 86_400
COMMITS = {"investor_a": 30, "investor_b": 20, "investor_b2": 10, "investor_c": 15}
ALLOTMENT = {"investor_a": 20, "investor_b2": 15, "investor_c": 5}  # investor_b2: after the recovery


def _send(web3: Web3, call, alias: str) -> None:
    receipt = web3.eth.wait_for_transaction_receipt(call.transact({"from": address_of(web3, alias)}))
    assert receipt["status"] == 1


@pytest.fixture(scope="module")
def book(node, project, tmp_path_factory):  # noqa: F811
    """The example deployed with a blocklist payment token, investors onboarded, book 1 open with four
    commitments (investor_b2, investor_b's other wallet, committed too); returns (manifest, cash, book, times)."""
    url, web3 = node
    tmp = tmp_path_factory.mktemp("subscription-recovery")
    manifest = tmp / "manifest.json"
    contract_type = project.MockHostilePaymentToken.contract_type
    abi = contract_type.model_dump(mode="json", by_alias=True)["abi"]
    factory = web3.eth.contract(abi=abi, bytecode=contract_type.deployment_bytecode.bytecode)
    deployed = web3.eth.wait_for_transaction_receipt(
        factory.constructor(0).transact({"from": address_of(web3, "issuer")})
    )
    cash = web3.eth.contract(address=deployed["contractAddress"], abi=abi)
    terms = tmp / "kanagawa-blocklist.yaml"
    text = (EXAMPLES / "kanagawa-resident-2026.yaml").read_text()
    assert "payment_token: null" in text
    terms.write_text(text.replace("payment_token: null", f'payment_token: "{cash.address}"'))
    ok(munibond(url, manifest, "deploy", str(terms), "--shift-dates"))
    salt = tmp / "issuer-salt"
    salt.write_text("kanagawa\n")
    ok(munibond(url, manifest, "investors", "import", str(EXAMPLES / "investors.csv"), "--issuer-salt-file", str(salt),
                "--yes"))  # fmt: skip
    now = web3.eth.get_block("latest")["timestamp"]
    close, settlement = now + DAY, now + 2 * DAY
    ok(munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", str(OFFERED), "--price", str(PRICE),
                "--closes", iso(close), "--settles", iso(settlement), "--yes"))  # fmt: skip
    contract, _block = book_at(web3, manifest, 1)
    for alias, units in COMMITS.items():
        _send(web3, cash.functions.mint(address_of(web3, alias), 1_000_000), alias)
        _send(web3, cash.functions.approve(contract.address, units * PRICE), alias)
        _send(web3, contract.functions.commit(units), alias)
    return manifest, cash, contract, (close, settlement)


def _units(contract, web3: Web3, alias: str) -> int:
    return contract.functions.commitmentOf(address_of(web3, alias)).call()[0]


def test_the_transfer_agent_moves_a_lost_wallets_entry_and_the_refusals(node, book):  # noqa: F811
    url, web3 = node
    manifest, _cash, contract, _times = book
    before = nonces(web3, "agent", "investor_a")
    line = refused(munibond(url, manifest, "subscription", "recover", SYMBOL, "investor_b", "investor_b2", "--agent",
                            "investor_a", "--yes"))  # fmt: skip
    assert "is not the transfer agent of KNGW26" in line, line
    line = refused(munibond(url, manifest, "subscription", "recover", SYMBOL, "investor_b", "investor_c", "--yes"))
    assert f"{address_of(web3, 'investor_c')}) belongs to identity" in line and "same investor" in line, line
    line = refused(munibond(url, manifest, "subscription", "recover", SYMBOL, "investor_b", "investor_b2", "--yes"))
    assert "already has an entry" in line and "10 units committed" in line, line
    assert nonces(web3, "agent", "investor_a") == before
    assert (_units(contract, web3, "investor_b"), _units(contract, web3, "investor_b2")) == (20, 10)

    # investor_b2 withdraws its own commitment in the window; then the move goes through
    _send(web3, contract.functions.withdraw(10), "investor_b2")
    moved = ok(munibond(url, manifest, "subscription", "recover", SYMBOL, "investor_b", "investor_b2", "--yes"))
    assert "(20 units) moved to" in moved, moved
    assert (_units(contract, web3, "investor_b"), _units(contract, web3, "investor_b2")) == (0, 20)
    assert nonces(web3, "agent")["agent"] == before["agent"] + 1
    # a re-run finds the entry at the new wallet and sends nothing
    again = ok(munibond(url, manifest, "subscription", "recover", SYMBOL, "investor_b", "investor_b2", "--yes"))
    assert "nothing to send" in again and "already" in again, again
    assert nonces(web3, "agent")["agent"] == before["agent"] + 1
    # the audit log: every run with its outcome, the wallets of the investor left out of the arguments
    entries = [json.loads(line) for line in (manifest.parent / "audit.log").read_text().splitlines()]
    runs = [e for e in entries if e["command"] == "subscription recover"]
    ends = [e for e in runs if e["event"] == "end"]
    assert [e["outcome"] for e in ends] == ["refused", "refused", "refused", "completed", "nothing to send"]
    assert len(ends[3]["transactions"]) == 1 and ends[3]["totals"] == {"units": 20, "held": 0}
    assert all("investor_b" not in json.dumps(e.get("arguments", {})) for e in runs)


def test_a_treasury_refused_by_the_payment_token_leaves_the_proceeds_held(node, book):  # noqa: F811
    url, web3 = node
    manifest, cash, contract, (close, settlement) = book
    travel(web3, close)
    wallets = {alias: address_of(web3, alias) for alias in ALLOTMENT}
    _send(web3, contract.functions.allot(3, list(wallets.values()), list(ALLOTMENT.values())), "issuer")
    _send(web3, contract.functions.finalizeAllotment(), "issuer")
    treasury = address_of(web3, "treasury")
    _send(web3, cash.functions.setBlocked(treasury, True), "issuer")
    travel(web3, settlement)
    start = {alias: cash.functions.balanceOf(address_of(web3, alias)).call() for alias in (*ALLOTMENT, "investor_b")}
    treasury_before = cash.functions.balanceOf(treasury).call()

    settled = ok(munibond(url, manifest, "subscription", "settle", SYMBOL, "--yes"))
    assert "3 of 3 investors settled" in settled and "400,000 JPY of proceeds held" in settled, settled
    token = series_token(web3, manifest)
    committed = {"investor_a": 30, "investor_b2": 20, "investor_c": 15}
    for alias, units in ALLOTMENT.items():
        assert token.functions.balanceOf(wallets[alias]).call() == units
        refund = (committed[alias] - units) * PRICE
        assert cash.functions.balanceOf(wallets[alias]).call() == start[alias] + refund
    assert token.functions.balanceOf(address_of(web3, "investor_b")).call() == 0  # the lost wallet: nothing
    assert cash.functions.balanceOf(address_of(web3, "investor_b")).call() == start["investor_b"]
    assert contract.functions.heldProceeds().call() == OFFERED * PRICE
    assert cash.functions.balanceOf(treasury).call() == treasury_before
    assert cash.functions.balanceOf(contract.address).call() == OFFERED * PRICE


def test_held_proceeds_in_list_and_report_then_claimed_by_the_treasury_only(node, book):  # noqa: F811
    url, web3 = node
    manifest, cash, contract, _times = book
    listed = ok(munibond(url, manifest, "subscription", "list", SYMBOL))
    assert "proceeds    400,000 JPY held" in listed and ", deadline " in listed, listed
    assert address_of(web3, "investor_b2") in listed and address_of(web3, "investor_b") + ":" not in listed
    report = ok(munibond(url, manifest, "report", "subscription", SYMBOL))
    assert "held in the book for the treasury: 400,000)" in report and "NOT" not in report, report
    assert "complete: proceeds + refunds = committed" in report, report

    # anyone but the treasury may not name another wallet; nothing is sent
    target = address_of(web3, "investor_j")
    before = nonces(web3, "investor_a", "treasury")
    line = refused(munibond(url, manifest, "subscription", "claim-proceeds", SYMBOL, "--to", "investor_j", "--by",
                            "investor_a", "--yes"))  # fmt: skip
    assert "is not the treasury" in line, line
    # anyone may push them to the treasury, but the token still refuses it: the simulation names it, nothing sent
    line = refused(munibond(url, manifest, "subscription", "claim-proceeds", SYMBOL, "--by", "investor_a", "--yes"))
    assert "the payment token refuses to pay the held proceeds to " + address_of(web3, "treasury") in line, line
    assert nonces(web3, "investor_a", "treasury") == before
    assert contract.functions.heldProceeds().call() == OFFERED * PRICE
    # the treasury (still refused by the token) has them paid to another wallet of its own
    target_before = cash.functions.balanceOf(target).call()
    claimed = ok(munibond(url, manifest, "subscription", "claim-proceeds", SYMBOL, "--to", "investor_j", "--yes"))
    assert f"400,000 JPY of held proceeds paid to {target}" in claimed, claimed
    assert cash.functions.balanceOf(target).call() == target_before + OFFERED * PRICE
    assert contract.functions.heldProceeds().call() == 0
    assert cash.functions.balanceOf(contract.address).call() == 0
    again = ok(munibond(url, manifest, "subscription", "claim-proceeds", SYMBOL, "--yes"))
    assert "nothing to send" in again and "claimed already" in again, again
    assert nonces(web3, "treasury")["treasury"] == before["treasury"] + 1

    report = ok(munibond(url, manifest, "report", "subscription", SYMBOL))
    assert "paid out: 400,000, held in the book for the treasury: 0)" in report, report
    assert "complete: proceeds + refunds = committed" in report and "NOT" not in report, report


def test_a_book_not_allotted_in_time_shows_as_lapsed_and_holds_no_proceeds(node, book):  # noqa: F811
    url, web3 = node
    manifest, cash, _contract, _times = book
    now = web3.eth.get_block("latest")["timestamp"]
    ok(munibond(url, manifest, "subscription", "open", SYMBOL, "--offered", "10", "--price", str(PRICE), "--closes",
                iso(now + DAY), "--settles", iso(now + 2 * DAY), "--yes"))  # fmt: skip
    second, _block = book_at(web3, manifest, 2)
    _send(web3, cash.functions.approve(second.address, 3 * PRICE), "investor_c")
    _send(web3, second.functions.commit(3), "investor_c")
    travel(web3, now + 2 * DAY)  # the settlement time, never allotted: the book has lapsed
    listed = ok(munibond(url, manifest, "subscription", "list", SYMBOL, "--book", "2"))
    assert listed.splitlines()[0].endswith(": cancelled"), listed
    assert "lapsed: not allotted by the settlement time" in listed and "refundable" in listed, listed
    before = nonces(web3, "treasury")
    line = refused(munibond(url, manifest, "subscription", "claim-proceeds", SYMBOL, "--book", "2", "--yes"))
    assert "book 2 holds no proceeds" in line, line
    assert nonces(web3, "treasury") == before
