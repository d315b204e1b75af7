"""Gas of the example bond as the `munibond` library deploys and services it.

bench/gas_foundation.py and bench/gas_payments.py measure series built for the measurement: three rules and no
payment schedule for the token figures, no rule and a 3-period schedule for the payment figures, holders that
already hold the payment token. This benchmark measures what the issuer of examples/kanagawa-resident-2026.yaml
pays instead: the series deployed by `workflows.deploy` (what `munibond deploy` runs, test payment token
included) with every rule of its term sheet (country and region allow-lists, holder cap, per-investor cap,
minimum holding) and its whole 10-period schedule; investors onboarded, issued, paid and redeemed through
`workflows` (`munibond investors import`, `issue`, `coupon pay|claim`, `redeem`); holders that never held the
payment token beside holders that hold some. Dates are moved by whole years as the demo does, so that the bond
is issued after the chain's clock.

The tax account (`tax_office`) is given one unit of the payment token first, as a tax office's collection
account would hold it, so that the first push batch does not also carry its first-receipt storage write and the
two push figures differ only by the holders' own.

On a local anvil without step tracing (`gas_payments.lean_anvil`). Run with `ape run bench_example_bond` (part
of `make bench`); figures are written under "example_bond" in bench/results.json, other keys kept.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from bench.gas_payments import holder_addresses, lean_anvil

RESULTS = Path(__file__).with_name("results.json")
ROOT = Path(__file__).resolve().parents[1]
TERM_SHEET = Path("examples") / "kanagawa-resident-2026.yaml"
KEY = "example_bond"
SYMBOL = "KNGW26"
BATCH = 200  # holders per push and redemption batch (`--batch-size 200`)
UNITS = 10  # units of each bulk holder (¥100,000, between the minimum holding and the per-investor cap)
ISSUER_SALT = b"bench-example-bond"

# Wallets with keys (aliases of examples/accounts.local.yaml), each with one part in the measurements.
SELLER = "investor_a"  # sends every measured transfer
BUYER = "investor_b"  # an existing holder receiving
NEWCOMER = "investor_c"  # registered, first units by transfer
FIRST_CLAIMER = "investor_d"  # first claim of each claimed period (the general path marks it covered); holds some
CLAIMER_NEW = "investor_e"  # claims period 1 without ever having held the payment token
CLAIMER_HOLDING = "investor_g"  # claims period 1 holding some payment token
MANY_HOLDING = "investor_h"  # pushed period 1, then claims periods 2 and 3 in one transaction
MANY_NEW = "investor_i"  # a holder from after the first record date: claims periods 2 and 3, never paid before
LATE = "investor_j"  # onboarded alone, then minted alone
ALLOCATED = {SELLER: 50, BUYER: 20, FIRST_CLAIMER: 10, CLAIMER_NEW: 10, CLAIMER_HOLDING: 10, MANY_HOLDING: 10}

T = TypeVar("T")


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


PUSH = selector("pushPayments(uint256,address[])")
CLAIM = selector("claim(uint256)")
CLAIM_MANY = selector("claimMany(uint256[])")
SET_DOCUMENT = selector("setDocument(bytes32,string,bytes32)")


@dataclass(frozen=True)
class Sent:
    """One mined transaction: its block, recipient (None for a creation), calldata and gas used."""

    block: int
    to: str | None
    data: bytes
    gas: int

    @property
    def selector(self) -> bytes:
        return self.data[:4]

    @classmethod
    def of(cls, tx: Mapping[str, Any], receipt: Mapping[str, Any]) -> Sent:
        """From a web3 transaction and its receipt (a reverted transaction is an error here)."""
        if int(receipt["status"]) != 1:
            raise RuntimeError(f"transaction {tx['hash']!r} reverted")
        to = tx.get("to")
        return cls(int(receipt["blockNumber"]), str(to) if to else None, bytes(tx["input"]), int(receipt["gasUsed"]))


def only(sent: Iterable[Sent], wanted: bytes) -> Sent:
    """The one transaction calling `wanted`; any other count is an error (the step sent something else)."""
    matches = [s for s in sent if s.selector == wanted]
    if len(matches) != 1:
        raise RuntimeError(f"expected one call of 0x{wanted.hex()}, found {len(matches)}")
    return matches[0]


def in_block(sent: Iterable[Sent], block: int) -> Sent:
    """The one transaction mined in `block`."""
    matches = [s for s in sent if s.block == block]
    if len(matches) != 1:
        raise RuntimeError(f"expected one transaction in block {block}, found {len(matches)}")
    return matches[0]


@dataclass(frozen=True)
class PushBatch:
    period: int  # 0-based, as the agent numbers periods
    holders: tuple[str, ...]
    gas: int


def push_batches(sent: Iterable[Sent]) -> list[PushBatch]:
    """The `pushPayments` transactions among `sent`, with their period and holders decoded from the calldata."""
    batches = []
    for s in sent:
        if s.selector == PUSH:
            period, holders = decode(["uint256", "address[]"], s.data[4:])
            batches.append(PushBatch(int(period), tuple(to_checksum_address(h) for h in holders), s.gas))
    return batches


def batch_of(batches: Iterable[PushBatch], holders: Sequence[str]) -> PushBatch:
    """The batch that paid exactly `holders` (in any order): the figure is then known to be theirs alone."""
    wanted = {to_checksum_address(h) for h in holders}
    for batch in batches:
        if set(batch.holders) == wanted:
            return batch
    raise RuntimeError(f"no push batch paid exactly these {len(wanted)} holders")


def investors_csv(wallets: Sequence[str], tag: str) -> str:
    """An investor CSV of Kanagawa-resident individuals (wallets as addresses or `alias:` references)."""
    lines = ["wallet,investor_id,country,region,category,tax_class,kyc_expiry"]
    lines += [f"{w},{tag}-{i:04d},392,140007,individual,jp_individual,2099-12-31" for i, w in enumerate(wallets)]
    return "\n".join(lines) + "\n"


def allocations_csv(units: Sequence[tuple[str, int]]) -> str:
    return "wallet,units\n" + "".join(f"{wallet},{count}\n" for wallet, count in units)


class Recorder:
    """Runs a step and returns what it mined (anvil automines one transaction per block)."""

    def __init__(self, web3: Any) -> None:
        self.web3 = web3

    def run(self, action: Callable[[], T]) -> tuple[T, list[Sent]]:
        first = self.web3.eth.block_number + 1
        result = action()
        sent = []
        for number in range(first, self.web3.eth.block_number + 1):
            for tx in self.web3.eth.get_block(number, full_transactions=True)["transactions"]:
                sent.append(Sent.of(tx, self.web3.eth.get_transaction_receipt(tx["hash"])))
        return result, sent

    def travel(self, timestamp: int) -> None:
        """Mines a block at `timestamp` unless the chain is already past it."""
        if int(self.web3.eth.get_block("latest")["timestamp"]) < timestamp:
            self.web3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
            self.web3.provider.make_request("evm_mine", [])


def measure(uri: str) -> dict[str, Any]:
    """Deploys the example bond through the library on the chain at `uri`, services it and returns the figures."""
    from munibond.chain import workflows
    from munibond.chain.deployment import bond_token, payment_agent
    from munibond.chain.servicing import fund_period
    from munibond.chain.session import DEFAULT_ALIAS_BOOK, connect
    from munibond.demo import shift_dates, years_to_start_after

    gas: dict[str, int] = {}
    fresh = holder_addresses(BATCH, "example-bond-new")  # never hold the payment token before they are paid
    holding = holder_addresses(BATCH, "example-bond-holding")  # given one unit of it first
    book = ROOT / DEFAULT_ALIAS_BOOK
    with tempfile.TemporaryDirectory() as tmp, connect(uri, alias_book=book, manifest=Path(tmp) / "m.json") as session:
        folder = Path(tmp)
        recorder = Recorder(session.chain.provider.web3)
        signers = session.signers

        def write(name: str, text: str) -> Path:
            (folder / name).write_text(text)
            return folder / name

        def onboard(path: Path, batch_size: int) -> list[Any]:
            rows = workflows.load_investors(path, ISSUER_SALT, now=session.now())
            _, report = workflows.import_investors(session, path, rows, registrar="registrar", batch_size=batch_size)
            if report is None:
                raise RuntimeError(f"{path.name}: nothing to register")
            return report.transactions

        def claim(holder: str, period: int) -> int:
            _, sent = recorder.run(lambda: workflows.claim(session, SYMBOL, period, holder=holder))
            return only(sent, CLAIM).gas

        def claim_outstanding(holder: str, periods: set[int]) -> int:
            paid, sent = recorder.run(lambda: workflows.claim_outstanding(session, SYMBOL, holder=holder))
            if {p.period for p in paid} != periods:
                raise RuntimeError(f"{holder} claimed periods {sorted(p.period for p in paid)}, not {sorted(periods)}")
            return only(sent, CLAIM_MANY).gas

        def pay(period: int) -> list[PushBatch]:
            _, sent = recorder.run(lambda: workflows.pay(session, SYMBOL, period, payer="treasury", batch_size=BATCH))
            return push_batches(sent)

        # `munibond deploy examples/kanagawa-resident-2026.yaml --test-payment-token`, dates moved as the demo does
        raw = yaml.safe_load((ROOT / TERM_SHEET).read_text())
        years = years_to_start_after(raw["issue_date"], session.now())
        terms = write(TERM_SHEET.name, yaml.safe_dump(shift_dates(raw, years), sort_keys=False))
        data = workflows.load_deployment_input(terms)
        (entry,), sent = recorder.run(
            lambda: workflows.deploy(session, [data], payment_token=None, test_payment_token=True)
        )
        gas["deploy_series"] = in_block(sent, int(entry["block"])).gas
        gas["publish_documents"] = only(sent, SET_DOCUMENT).gas
        token = bond_token(session.project, entry["token"])
        agent = payment_agent(session.project, entry["payment_agent"])
        cash = session.project.MockPaymentToken.at(entry["payment_token"])
        treasury = signers.account("treasury")

        # Onboarding (`munibond investors import`): everyone in batches of 100, then one investor alone.
        keyed = [f"alias:{alias}" for alias in (*ALLOCATED, NEWCOMER, MANY_NEW)]
        path = write("investors.csv", investors_csv([*fresh, *holding, *keyed], "BENCH"))
        receipts = onboard(path, 100)
        gas["onboard_batch100_each"] = receipts[1].gas_used // 100  # not the registry's first batch
        path = write("late.csv", investors_csv([f"alias:{LATE}"], "LATE"))
        (receipt,) = onboard(path, 50)
        gas["onboard_one"] = receipt.gas_used

        # Issuance (`munibond issue`, batches of 50): the bulk in first-seen order fresh, holding, keyed; then one.
        units = [(w, UNITS) for w in (*fresh, *holding)] + [(f"alias:{a}", n) for a, n in ALLOCATED.items()]
        path = write("allocations.csv", allocations_csv(units))
        issued = workflows.issue_allocations(session, SYMBOL, path, workflows.load_allocations(path), minter="agent")
        gas["issue_batch50_each"] = issued.transactions[1].gas_used // 50  # not the series' first mint
        path = write("late-allocation.csv", allocations_csv([(f"alias:{LATE}", UNITS)]))
        issued = workflows.issue_allocations(session, SYMBOL, path, workflows.load_allocations(path), minter="agent")
        (receipt,) = issued.transactions
        gas["mint_new"] = receipt.gas_used

        # Transfers between residents before the first record date.
        seller = signers.account(SELLER)
        gas["transfer_new"] = token.transfer(signers.address(NEWCOMER), 5, sender=seller).gas_used
        gas["transfer_existing"] = token.transfer(signers.address(BUYER), 5, sender=seller).gas_used

        # Payment token: the treasury's funds, one unit for the "holding" wallets and the tax account.
        cash.mint(treasury, 10**12, sender=treasury)
        for alias in (CLAIMER_HOLDING, FIRST_CLAIMER, "tax_office"):
            cash.mint(signers.address(alias), 1, sender=treasury)
        for wallet in holding:
            cash.mint(wallet, 1, sender=treasury)
        if any(int(cash.balanceOf(w)) for w in fresh):
            raise RuntimeError("a 'never held' holder holds the payment token")

        # Period 1: the first transfer after its record date, claims, then the push to everyone else.
        first = agent.periodTerms(0)
        recorder.travel(int(first.recordTime) + 1)
        gas["transfer_existing_after_record_date"] = token.transfer(signers.address(BUYER), 5, sender=seller).gas_used
        token.transfer(signers.address(MANY_NEW), 5, sender=seller)  # holds from period 2 on
        recorder.travel(int(first.paymentTime))
        fund_period(agent, cash, 0, treasury)
        gas["coupon_claim_first_of_period"] = claim(FIRST_CLAIMER, 1)
        gas["coupon_claim_new"] = claim(CLAIMER_NEW, 1)
        gas["coupon_claim_holding"] = claim(CLAIMER_HOLDING, 1)
        batches = pay(1)
        gas["coupon_push_per_holder_new"] = batch_of(batches, fresh).gas // BATCH
        gas["coupon_push_per_holder_holding"] = batch_of(batches, holding).gas // BATCH

        # Periods 2 and 3 claimed in one transaction each (after a first claim marked each covered), then pushed.
        recorder.travel(int(agent.periodTerms(2).paymentTime))
        for period in (1, 2):
            fund_period(agent, cash, period, treasury)
        claim_outstanding(FIRST_CLAIMER, {1, 2})
        gas["coupon_claim_two_periods_each_holding"] = claim_outstanding(MANY_HOLDING, {1, 2}) // 2
        gas["coupon_claim_two_periods_each_new"] = claim_outstanding(MANY_NEW, {1, 2}) // 2
        gas["coupon_push_per_holder_later_period"] = batch_of(pay(2), fresh).gas // BATCH
        pay(3)

        # Redemption at maturity (`munibond redeem`): coupon + principal, units burned, batches of 200.
        final = agent.periodTerms(workflows.final_period(session, SYMBOL) - 1)
        recorder.travel(int(final.recordTime) + 1)
        recorder.travel(int(final.paymentTime))
        # periods 4 to 9 are left unpaid here (only the gas of each kind of step is measured)
        _, sent = recorder.run(
            lambda: workflows.redeem(session, SYMBOL, payer="treasury", batch_size=BATCH, despite_overdue=True)
        )
        gas["redeem_per_holder"] = batch_of(push_batches(sent), fresh).gas // BATCH
        if int(token.totalSupply()) != 0:
            raise RuntimeError(f"{int(token.totalSupply())} units left after the redemption")
        return {
            "gas": gas,
            "term_sheet": str(TERM_SHEET),
            "years_moved": years,
            "schedule_periods": len(data.schedule.periods),
        }


# The example bond's figures beside the figure of the same operation in the lean benchmarks ("gas" keys):
# (label, example_bond key, "gas" key or None, why they differ). The explanations were written from traces of
# these transactions (storage accesses counted by slot); a difference that moves needs a new trace.
RULE_WORDS = "the country allow-list and the minimum holding: two more cold storage words (+4.2k)"
COMPARISON: tuple[tuple[str, str, str | None, str], ...] = (
    (
        "deploy the series, against the lean token-only series",
        "deploy_series",
        "deploy_series",
        "58 storage words written from zero (lean: 7): payment schedule 24 (two per coupon period, three for the "
        "redemption, configuration, term-sheet hash), record times and retirement 13, three tax classes 11, "
        "rules 2, roles and configuration 6, registry 2 (the issuer's first series); 5.5 kB of calldata; "
        "~80k of events",
    ),
    (
        "deploy the series, against the lean series with a 3-period payment agent",
        "deploy_series",
        "deploy_series_with_payment_agent_3_periods",
        "7 more periods, three tax classes (lean: one), the rules' two words, the registry's first series",
    ),
    ("publish the prospectus (`setDocument`)", "publish_documents", None, "sent by `munibond deploy` after the series"),
    ("onboard one investor", "onboard_one", "onboard_one", "`batchRegisterPacked` of one (lean: `registerInvestor`)"),
    (
        "onboard, batch of 100, each",
        "onboard_batch100_each",
        "onboard_batch100_each",
        "calldata: real addresses and identities have no zero bytes (lean: small numbers)",
    ),
    ("issue, batch of 50, each", "issue_batch50_each", None, "`batchMint` as `munibond issue` sends it"),
    (
        "mint to a new holder",
        "mint_new",
        "mint_new",
        f"{RULE_WORDS}; `batchMint` of one as `munibond issue` sends it (lean: `mint`)",
    ),
    ("transfer between existing holders", "transfer_existing", "transfer_existing", RULE_WORDS),
    ("transfer to a new holder", "transfer_new", "transfer_new", RULE_WORDS),
    (
        "first transfer after a record date",
        "transfer_existing_after_record_date",
        "transfer_existing_after_record_date",
        RULE_WORDS,
    ),
    (
        "coupon push per holder, batch of 200, holders never held the payment token",
        "coupon_push_per_holder_new",
        "coupon_push_per_holder",
        "each holder's first payment-token balance: a storage word written from zero (+17.1k)",
    ),
    (
        "coupon push per holder, batch of 200, holders hold some",
        "coupon_push_per_holder_holding",
        "coupon_push_per_holder",
        "same work; the lean batch also paid the tax account's first receipt and marked the period covered",
    ),
    (
        "coupon push per holder, a later period",
        "coupon_push_per_holder_later_period",
        "coupon_push_per_holder_later_period",
        "holders paid before",
    ),
    (
        "coupon claim, holder never held the payment token",
        "coupon_claim_new",
        "coupon_claim",
        "the holder's first payment-token balance (+17.1k)",
    ),
    ("coupon claim, holder holds some", "coupon_claim_holding", "coupon_claim", "same work"),
    (
        "first claim of a period (before any push)",
        "coupon_claim_first_of_period",
        None,
        "the general claim path, which marks the funded period covered (holder holds some payment token)",
    ),
    (
        "claimMany of two periods, per period, holder never held the payment token",
        "coupon_claim_two_periods_each_new",
        "coupon_claim_two_periods_each",
        "the holder's first payment-token balance, shared by the two periods",
    ),
    (
        "claimMany of two periods, per period, holder holds some",
        "coupon_claim_two_periods_each_holding",
        "coupon_claim_two_periods_each",
        "same work",
    ),
    (
        "redemption per holder (pay + burn, batch of 200)",
        "redeem_per_holder",
        "redeem_per_holder",
        "holders paid before in both; same storage accesses, ~1k more execution (not broken down)",
    ),
)


def render_markdown(results: Mapping[str, Any]) -> str:
    """The example-bond section of bench/RESULTS.md (empty when the results have none)."""
    example = results.get(KEY)
    if not example:
        return ""
    figures: Mapping[str, int] = example.get("gas", {})
    lean: Mapping[str, int] = results.get("gas", {})
    lines = [
        "",
        "## The example bond as deployed",
        "",
        f"`ape run bench_example_bond`: {example.get('term_sheet', TERM_SHEET)} deployed by the `munibond` library",
        "(`workflows.deploy`, as `munibond deploy --test-payment-token`; dates moved "
        f"{example.get('years_moved', '?')} year(s) as the demo does) with all its rules: country and region",
        "allow-lists, holder cap, per-investor cap, minimum holding, and its "
        f"{example.get('schedule_periods', '?')}-period schedule. Investors onboarded, issued, paid and",
        'redeemed through `workflows`. "Never held" holders receive the payment token for the first time;',
        '"holds some" holders (and the tax account) were given one unit of it first. The lean column is the',
        "same operation in the table above (a series built for the measurement).",
        "",
        "| operation | example bond | lean bench | difference | why |",
        "|---|---:|---:|---:|---|",
    ]
    for label, key, lean_key, why in COMPARISON:
        if key not in figures:
            continue
        value = figures[key]
        base = lean.get(lean_key) if lean_key else None
        base_text = f"{base:,}" if base else "-"
        diff_text = f"{value - base:+,}" if base else "-"
        lines.append(f"| {label} | {value:,} | {base_text} | {diff_text} | {why} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    from bench import gas_foundation as foundation

    with lean_anvil() as uri:
        figures = measure(uri)
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[KEY] = figures
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    foundation.RESULTS_MD.write_text(foundation.render_markdown(results))
    for key, value in sorted(figures["gas"].items()):
        print(f"{key:45s} {value:>10,}")
