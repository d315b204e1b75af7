"""The bondholder register's acquisition price and date from the chain: a holding bought in a secondary trade
settled by TradeSettlement shows the trade's price per unit and settlement day, one from a primary subscription
settled by a SubscriptionBook the book's price and settlement day, one issued from an allocation file the issue
price (par) on the issue date."""

from __future__ import annotations

from fractions import Fraction

from eth_utils import keccak

from munibond.bondholder_register import build_register, register_csv
from munibond.chain import subscription as sub
from munibond.chain import trade_settlement as ts
from munibond.chain import workflows
from munibond.clock import local_date
from tests.integration.example_series import deploy_example_series, onboard_and_issue

SYMBOL = "KNGW26"
NEW_INVESTORS = (
    "wallet,investor_id,country,region,category,tax_class,kyc_expiry,name_ref\n"
    "alias:investor_h,KNGW-0008,392,140007,individual,jp_individual,2035-12-31,REG-0008\n"
    "alias:investor_i,KNGW-0009,392,140007,individual,jp_individual,2035-12-31,REG-0009\n"
    "alias:investor_j,KNGW-0010,392,140007,individual,jp_individual,2035-12-31,REG-0010\n"
)
BOOK_PRICE = 9_950  # yen per unit: this offering is priced below par


def test_acquisition_price_and_date_come_from_the_settlement_that_delivered_the_units(project, chain, tmp_path):
    s, entry, _terms = deploy_example_series(project, chain, tmp_path)
    token = onboard_and_issue(s, entry, b"register-acquisition")
    newcomers = tmp_path / "newcomers.csv"
    newcomers.write_text(NEW_INVESTORS)
    workflows.import_investors(
        s, newcomers, workflows.load_investors(newcomers, b"register-acquisition", now=s.now()), registrar="registrar"
    )
    cash = s.project.MockPaymentToken.at(entry["payment_token"])
    tz = "Asia/Tokyo"
    issue_day = local_date(int(token.bondTerms().issueDate), tz)

    # a secondary trade: investor_c sells 25 units to the newcomer investor_j for 253,125 yen, DvP
    ts.setup_plan(s, [SYMBOL], deployer="issuer", admin="issuer", require_approval=False).send()
    agreed = ts.agree_plan(
        s,
        SYMBOL,
        seller="investor_c",
        buyer="investor_j",
        units=25,
        price="253125",
        unit_price=None,
        expires="2d",
        bank=False,
        payment_id=None,
        confirmer=None,
        nonce=7,
        submitter="agent",
    )
    agreed.send()
    cash.mint(s.signers.address("investor_j"), 253_125, sender=s.signers.account("investor_j"))
    receipts = ts.settle_plan(s, "0x" + agreed.trade_id.hex(), submitter="agent").send()
    trade_day = local_date(s.chain.provider.get_block(receipts[-1].block_number).timestamp, tz)

    # a primary subscription at 9,950 yen: investor_h and investor_i commit 30 and 10 for 20 offered (pro rata)
    issuer, treasury = s.signers.account("issuer"), s.signers.account("treasury")
    now = s.now()
    settles_at = max(int(token.bondTerms().issueDate), now + 7200)
    terms = (token.address, cash.address, treasury.address, BOOK_PRICE, 1, 20, now, now + 3600, settles_at)
    book = issuer.deploy(s.project.SubscriptionBook, terms, issuer, issuer)
    token.grantRole(keccak(text="MINTER_ROLE"), book, sender=issuer)
    for alias, units in (("investor_h", 30), ("investor_i", 10)):
        investor = s.signers.account(alias)
        cash.mint(investor, units * BOOK_PRICE, sender=investor)
        cash.approve(book, units * BOOK_PRICE, sender=investor)
        book.commit(units, sender=investor)
    s.chain.mine(timestamp=now + 3601)
    wallets = sub.investors(book)
    sub.allot(
        book, sub.Method.PRO_RATA, sub.plan(book, sub.Method.PRO_RATA, sub.commitments(book, wallets)), sender=issuer
    )
    s.chain.mine(timestamp=settles_at)
    run = sub.settle(book, wallets, sender=issuer)
    settled_day = local_date(s.chain.provider.get_block("latest").timestamp, tz)
    assert [int(token.balanceOf(s.signers.address(a))) for a in ("investor_h", "investor_i")] == [15, 5]
    assert int(cash.balanceOf(treasury)) >= 20 * BOOK_PRICE and len(run.transactions) == 1

    register = build_register(s, SYMBOL, records=[])
    by_wallet = {h.wallets[0]: h for h in register.holdings if len(h.wallets) == 1}
    bought = by_wallet[s.signers.address("investor_j")]
    assert (bought.units, bought.acquired_by, bought.acquisition_price, bought.acquired) == (
        25,
        "trade",
        Fraction(10_125),
        trade_day,
    )
    for alias, units in (("investor_h", 15), ("investor_i", 5)):
        subscribed = by_wallet[s.signers.address(alias)]
        assert (subscribed.units, subscribed.acquired_by, subscribed.acquisition_price, subscribed.acquired) == (
            units,
            "subscription",
            Fraction(BOOK_PRICE),
            settled_day,
        )
    issued = by_wallet[s.signers.address("investor_c")]  # its 75 left are of the allocation issue
    assert (issued.units, issued.acquired_by, issued.acquisition_price, issued.acquired) == (
        75,
        "issue",
        Fraction(10_000),
        issue_day,
    )
    rows = {line.split(",")[6]: line.split(",") for line in register_csv(register).splitlines()[1:]}
    assert rows[s.signers.address("investor_j")][-3:] == [trade_day.isoformat(), "10125", "trade"]
    assert rows[s.signers.address("investor_h")][-3:] == [settled_day.isoformat(), "9950", "subscription"]
