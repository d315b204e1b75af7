"""The example-bond benchmark's bookkeeping: which mined transaction a figure is read from, and its report."""

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from bench import gas_example_bond as bench
from munibond.allocations import parse_allocations
from munibond.investors import InvestorCategory, parse_investors

A, B, C = (to_checksum_address(f"0x{i:040x}") for i in (0xA1, 0xB2, 0xC3))


def push(period: int, holders: list[str], gas: int, block: int = 1) -> bench.Sent:
    return bench.Sent(block, A, bench.PUSH + encode(["uint256", "address[]"], [period, holders]), gas)


def test_a_sent_transaction_is_read_from_web3_dicts():
    tx = {"hash": HexBytes("0x01"), "to": A, "input": HexBytes(bench.CLAIM + bytes(32))}
    sent = bench.Sent.of(tx, {"status": 1, "blockNumber": 7, "gasUsed": 69_673})
    assert (sent.block, sent.to, sent.selector, sent.gas) == (7, A, bench.CLAIM, 69_673)
    creation = bench.Sent.of({**tx, "to": None}, {"status": 1, "blockNumber": 8, "gasUsed": 1})
    assert creation.to is None


def test_a_reverted_transaction_is_never_a_figure():
    tx = {"hash": HexBytes("0x01"), "to": A, "input": HexBytes(bench.CLAIM)}
    with pytest.raises(RuntimeError, match="reverted"):
        bench.Sent.of(tx, {"status": 0, "blockNumber": 7, "gasUsed": 30_000})


def test_only_wants_exactly_one_call_of_the_selector():
    claim = bench.Sent(1, A, bench.CLAIM + bytes(32), 70_000)
    approve = bench.Sent(2, B, bytes.fromhex("095ea7b3"), 46_000)
    assert bench.only([approve, claim], bench.CLAIM) is claim
    with pytest.raises(RuntimeError, match="found 0"):
        bench.only([approve], bench.CLAIM)
    with pytest.raises(RuntimeError, match="found 2"):
        bench.only([claim, claim], bench.CLAIM)


def test_in_block_wants_exactly_one_transaction():
    first, second = bench.Sent(3, A, b"", 1), bench.Sent(4, A, b"", 2)
    assert bench.in_block([first, second], 4) is second
    with pytest.raises(RuntimeError, match="found 0"):
        bench.in_block([first, second], 5)


def test_push_batches_decode_period_and_holders_and_skip_other_calls():
    funding = bench.Sent(1, A, bytes.fromhex("ca1d209d") + bytes(64), 90_000)
    batches = bench.push_batches([funding, push(0, [A, B], 60_000, 2), push(0, [C], 40_000, 3)])
    assert batches == [bench.PushBatch(0, (A, B), 60_000), bench.PushBatch(0, (C,), 40_000)]


def test_batch_of_finds_the_batch_that_paid_exactly_a_group():
    batches = bench.push_batches([push(2, [A, B], 60_000), push(2, [C], 40_000)])
    assert bench.batch_of(batches, [B.lower(), A]).gas == 60_000
    with pytest.raises(RuntimeError, match="no push batch"):
        bench.batch_of(batches, [A])  # a figure is never read from a batch that paid others too
    with pytest.raises(RuntimeError, match="no push batch"):
        bench.batch_of(batches, [A, B, C])


def test_the_generated_csv_files_are_valid_inputs_of_the_commands(tmp_path):
    investors = tmp_path / "investors.csv"
    investors.write_text(bench.investors_csv([A, "alias:investor_a"], "T"))
    rows = parse_investors(investors, issuer_salt=b"s", now=0)
    assert [(r.wallet, r.investor_id, r.country, r.region) for r in rows] == [
        (A, "T-0000", 392, 140007),
        ("alias:investor_a", "T-0001", 392, 140007),
    ]
    assert {r.category for r in rows} == {InvestorCategory.INDIVIDUAL}
    assert {r.tax_class.name for r in rows} == {"jp_individual"}
    allocations = tmp_path / "allocations.csv"
    allocations.write_text(bench.allocations_csv([(A, 10), ("alias:investor_a", 50)]))
    assert [(a.wallet, a.units) for a in parse_allocations(allocations)] == [(A, 10), ("alias:investor_a", 50)]


def test_the_report_sets_each_figure_beside_the_lean_one():
    results = {
        "gas": {"transfer_existing": 51_217, "coupon_claim": 69_685},
        "example_bond": {
            "gas": {"transfer_existing": 56_075, "coupon_claim_new": 86_773, "publish_documents": 212_888},
            "term_sheet": "examples/kanagawa-resident-2026.yaml",
            "years_moved": 1,
            "schedule_periods": 10,
        },
    }
    text = bench.render_markdown(results)
    assert "10-period schedule" in text
    assert "| transfer between existing holders | 56,075 | 51,217 | +4,858 |" in text
    assert "| coupon claim, holder never held the payment token | 86,773 | 69,685 | +17,088 |" in text
    assert "| publish the prospectus (`setDocument`) | 212,888 | - | - |" in text
    assert "redemption" not in text.split("|---|")[-1]  # figures not measured are not listed


def test_no_report_without_example_figures():
    assert bench.render_markdown({"gas": {"transfer_existing": 1}}) == ""
