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
    # every holder's net over the life of the bond (the released escrow included) is its payment-token balance
    rows = [line.split("│") for line in out.splitlines() if line.startswith("│ investor_")]
    lifetime = rows[-8:]  # the last table: holder, tax class, coupons, tax, principal, net received, balance
    assert len({cells[1] for cells in lifetime}) == 8
    assert all(cells[6].strip() == cells[7].strip() and cells[7].strip() != "¥0" for cells in lifetime)
