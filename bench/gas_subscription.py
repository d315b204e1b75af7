"""Gas benchmark of the primary subscription book (contracts/settlement/SubscriptionBook.sol) on a local anvil.

Real contracts throughout (InvestorRegistry, a series deployed by the BondFactory with a per-investor cap and a
country allow-list, the book holding the series' minter role); the payment token is the test ERC-20. A plain
OpenZeppelin ERC-20 (BaselineERC20) is measured in the same run as the baseline. Run through Ape
(`ape run bench_subscription`, which calls `main()`). Figures are merged into bench/results.json under
"subscription" only; every other key is kept as it is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import keccak

from bench.gas_payments import Issuer, lean_anvil, series_params
from munibond.chain.series import compliance_struct

RESULTS = Path(__file__).with_name("results.json")
KEY = "subscription"
MINTER_ROLE = keccak(text="MINTER_ROLE")
JAPAN = 392
PRICE = 10_000
INVESTORS = 50
# subscription_commit: issue 13 set 80,000; revised to 110,000 (docs/settlement-subscription.md, "The commitment's
# gas target"): the escrow floor with the series' compliance view, measured below in the same run, is above 80,000.
TARGETS = {"subscription_commit": 110_000, "subscription_settle_per_investor": 70_000}
ISSUED_TARGETS = {"subscription_commit": 80_000}
PRO_RATA = 1
EXPLICIT = 3


class Offering:
    """A series and its subscription book; `investors` fresh wallets, registered and holding cash."""

    def __init__(self, issuer: Issuer, chain: Any, accounts: Any, offered: int, investors: int) -> None:
        project = issuer.project
        self.chain = chain
        self.admin, self.treasury = issuer.deployer, accounts[1]
        self.cash = self.admin.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)
        params = series_params(self.admin.address, self.admin.address, f"JP9{issuer.series_count:09d}", [], b"")
        params["compliance"] = compliance_struct(maxPerInvestor=1_000, allowedCountries=[JAPAN])
        issuer.series_count += 1
        receipt = issuer.factory.deploySeries(params, sender=self.admin)
        self.token = project.IBondToken.at(receipt.events.filter(issuer.factory.SeriesDeployed)[0].token)
        now = chain.pending_timestamp
        self.times = (now, now + 100_000, now + 200_000)
        terms = (self.token.address, self.cash.address, self.treasury.address, PRICE, 1, offered, *self.times)
        self.book = self.admin.deploy(project.SubscriptionBook, terms, self.admin, self.admin)
        self.token.grantRole(MINTER_ROLE, self.book, sender=self.admin)
        self.wallets = [accounts.generate_test_account() for _ in range(investors)]
        issuer.register([w.address for w in self.wallets])
        for wallet in self.wallets:
            self.admin.transfer(wallet, 10**17)
            self.cash.mint(wallet, 10**9, sender=self.admin)
            self.cash.approve(self.book, 10**9, sender=wallet)

    def travel(self, timestamp: int) -> None:
        self.chain.provider.make_request("evm_setNextBlockTimestamp", [timestamp])
        self.chain.provider.make_request("evm_mine", [])


def pro_rata(commitments: list[int], offered: int) -> list[int]:
    """The book's rule (floors, then one unit each to the earliest fractional shares), in integers."""
    total = sum(commitments)
    allottable = min(offered, total)
    units = [c * allottable // total for c in commitments]
    left = allottable - sum(units)
    for i, c in enumerate(commitments):
        if left and (c * allottable) % total:
            units[i] += 1
            left -= 1
    return units


def measure(project: Any, chain: Any, accounts: Any) -> dict[str, int]:
    gas: dict[str, int] = {}
    issuer = Issuer(project, accounts)

    # Baseline in the same run: a plain OpenZeppelin ERC-20.
    admin, a, b, c = accounts[0], accounts[2], accounts[3], accounts[4]
    baseline = admin.deploy(project.BaselineERC20)
    baseline.mint(a, 1_000, sender=admin)
    baseline.mint(b, 1_000, sender=admin)
    gas["erc20_transfer_new"] = baseline.transfer(c, 10, sender=a).gas_used
    gas["erc20_transfer_existing"] = baseline.transfer(b, 10, sender=a).gas_used
    baseline.approve(admin, 100, sender=a)
    gas["erc20_transfer_from_existing"] = baseline.transferFrom(a, b, 10, sender=admin).gas_used

    # Oversubscribed ×10 pro rata: every investor keeps cash, so each refund lands on a non-zero balance.
    offer = Offering(issuer, chain, accounts, offered=INVESTORS * 2, investors=INVESTORS)
    commitments = [20 + i % 11 for i in range(INVESTORS)]
    book = offer.book
    gas["subscription_commit_first_of_book"] = book.commit(commitments[0], sender=offer.wallets[0]).gas_used
    commit_gas = [book.commit(u, sender=w).gas_used for w, u in zip(offer.wallets[1:], commitments[1:], strict=True)]
    gas["subscription_commit"] = max(commit_gas)
    gas["subscription_commit_top_up"] = book.commit(1, sender=offer.wallets[1]).gas_used
    commitments[1] += 1
    gas["subscription_withdraw_part"] = book.withdraw(1, sender=offer.wallets[2]).gas_used
    commitments[2] -= 1
    assert sum(commitments) >= 10 * INVESTORS * 2
    offer.travel(offer.times[1])
    # arrival order: wallet 1 topped up, so it moved to the back
    order = [0, *range(2, INVESTORS), 1]
    wallets = [offer.wallets[i] for i in order]
    allotted = pro_rata([commitments[i] for i in order], INVESTORS * 2)
    receipt = book.allot(PRO_RATA, wallets, allotted, sender=offer.admin)
    gas["subscription_allot_pro_rata_per_investor"] = receipt.gas_used // INVESTORS
    book.finalizeAllotment(sender=offer.admin)
    offer.travel(offer.times[2])
    # all but the last in one batch; a re-run of that batch settles nobody twice; the last one completes the book
    batch = wallets[:-1]
    gas["subscription_settle_per_investor"] = book.settle(batch, sender=offer.admin).gas_used // len(batch)
    gas["subscription_settle_rerun_per_investor"] = book.settle(batch, sender=offer.admin).gas_used // len(batch)
    gas["subscription_settle_last_investor"] = book.settle(wallets[-1:], sender=offer.admin).gas_used

    # Allotted in full (no refund): the mint and the investor's share of the treasury transfer only.
    full = Offering(issuer, chain, accounts, offered=10_000, investors=INVESTORS)
    gas.update(escrow_floor(project, full))
    for wallet in full.wallets:
        full.book.commit(20, sender=wallet)
    full.travel(full.times[1])
    full.book.allot(EXPLICIT, full.wallets, [20] * INVESTORS, sender=full.admin)
    full.book.finalizeAllotment(sender=full.admin)
    full.travel(full.times[2])
    receipt = full.book.settle(full.wallets, sender=full.admin)
    gas["subscription_settle_per_investor_no_refund"] = receipt.gas_used // INVESTORS
    return gas


def escrow_floor(project: Any, offer: Offering) -> dict[str, int]:
    """The floor of an escrowing commitment (BaselineEscrow) on the same series, payment token and investors:
    a new investor's commitment with no check at all, then with only the series' compliance view added."""
    escrow = offer.admin.deploy(project.BaselineEscrow, offer.cash, offer.token)
    first, plain, checked = offer.wallets[:3]
    for wallet in (first, plain, checked):
        offer.cash.approve(escrow, 10**9, sender=wallet)
    escrow.commit(20, sender=first)  # the escrow already holds cash, like the book in `subscription_commit`
    return {
        "escrow_commit_floor": escrow.commit(20, sender=plain).gas_used,
        "escrow_commit_checked_floor": escrow.commitChecked(20, sender=checked).gas_used,
    }


def merge_results(figures: dict[str, int], path: Path = RESULTS) -> dict[str, Any]:
    """Writes the figures under "subscription" (gas, targets, investors per batch); other keys are kept."""
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    existing[KEY] = {
        "gas": figures,
        "targets": TARGETS,
        "issued_targets": ISSUED_TARGETS,
        "batch_investors": INVESTORS,
    }
    path.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    return existing


def main() -> None:
    from ape import accounts, chain, networks, project

    with lean_anvil() as uri, networks.parse_network_choice(f"ethereum:local:{uri}"):
        figures = measure(project, chain, accounts.test_accounts)
    results = merge_results(figures)
    from bench import gas_foundation as foundation

    foundation.RESULTS_MD.write_text(foundation.render_markdown(results))
    for key, value in sorted(figures.items()):
        target = TARGETS.get(key)
        verdict = "" if target is None else (" ok" if value <= target else f" OVER target {target}")
        print(f"{key:45s} {value:>10,}{verdict}")
