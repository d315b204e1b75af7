"""What a run of the demo (`make demo`, `ape run demo`) must show, whichever node it ran on."""


def assert_demo_outcomes(out: str) -> None:
    assert "✔ investor_a → investor_d: 5 units" in out
    for refusal in ("REGION_NOT_ALLOWED", "OVER_INVESTOR_CAP", "SENDER_FROZEN", "SERIES_REDEEMED"):
        assert "refused on chain, code" in out and refusal in out
    assert "investor_a holds 25 units now and was paid on 35" in out
    assert "total supply after redemption: 0 units" in out
    assert "What each holder received" in out
    assert "investor_e was frozen at payment, its ¥1,275 is held in escrow" in out
    assert "payer released the escrow to investor_e: gross ¥1,275, tax ¥258, net ¥1,017" in out
    # primary subscription: oversubscribed, pro rata, cash to the issuer, the unallotted cash refunded
    assert "investor_f commits 5 units — refused by the book, code 8: REGION_NOT_ALLOWED" in out
    assert "book closed: 70 units committed for 20 offered (oversubscribed)" in out
    assert "allotted pro rata (floor, the remainder to the earliest): investor_h 18 of 60, investor_g 2 of 10" in out
    assert "settled at the issue date in 1 transaction(s): 20 units minted (investor_h 18, investor_g 2)" in out
    assert (
        "cash: ¥200,000 to the issuer's treasury, ¥500,000 unallotted refunded "
        "(investor_h ¥420,000, investor_g ¥80,000)"
    ) in out
    # secondary trade: locked at agreement, both legs in one transaction
    assert "the transfer agent submitted it: 25 units are locked in investor_c's wallet" in out
    assert "settled DvP in one transaction: investor_h received 25 units, investor_c was paid ¥253,125" in out
    assert "nothing stays in the settlement contract (0 units, ¥0)" in out
    # every holder's payment-token balance is its net over the life of the bond (the released escrow included)
    # plus what settlement left it (subscription refunds, sale proceeds)
    rows = [line.split("│") for line in out.splitlines() if line.startswith("│ investor_")]
    lifetime = rows[-8:]  # the last table: holder, tax class, coupons, tax, principal, net, refunds & sales, balance
    assert len({cells[1] for cells in lifetime}) == 8

    def yen(cell: str) -> int:
        return int(cell.strip().removeprefix("¥").replace(",", ""))

    assert all(yen(cells[6]) + yen(cells[7]) == yen(cells[8]) and yen(cells[6]) > 0 for cells in lifetime)
    extras = {cells[1].strip(): yen(cells[7]) for cells in lifetime if yen(cells[7])}
    assert extras == {"investor_c": 253_125, "investor_g": 80_000, "investor_h": 420_000}
