"""Gas benchmark of the shared investor registry against the number of bond series bound to it.

One registry serves every series of an issuer, so its operations must cost the same with 1 or 50 series
(docs/architecture.md, "Per-investor aggregation"). With N series bound (real series deployed by the factory,
the investor holding units in every one of them) it measures:

* `registry_link_wallet_N_series`: `linkWallet` of a second wallet of that investor;
* `registry_register_N_series`: `registerInvestor` of a new investor;
* `registry_bind_N_series`: `bindToken` of one more series while N are bound;

and, once, what a multi-wallet investor pays in a series: the first transfer after the link (the series folds
the investor's wallets into its aggregate) and a later one. Run through Ape (`ape run bench_registry`);
figures are merged into bench/results.json under "gas" and bench/RESULTS.md is re-rendered.
"""

from __future__ import annotations

import hashlib
from typing import Any

from eth_utils import to_checksum_address

from bench.gas_foundation import FAR_FUTURE, JAPAN, KOBE, ZERO

SERIES_COUNTS = (1, 50)
UNITS = 100


def keyless(tag: str) -> str:
    """A deterministic wallet address nobody needs to sign for (it only receives)."""
    return to_checksum_address("0x" + hashlib.sha256(tag.encode()).hexdigest()[:40])


def series_params(admin: str, minter: str, isin: str) -> dict[str, Any]:
    """A residents-only series with a cap per investor and a holder limit (the rules aggregation serves)."""
    from munibond.chain.series import compliance_struct

    return {
        "name": "Kobe City Resident Bond",
        "symbol": "KOBE",
        "decimals": 0,
        "terms": {
            "isin": isin,
            "currency": ZERO,
            "denomination": 10_000,
            "issueVolume": 1_000_000_000,
            "couponRate": 450_000,  # 0.45 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": 1_767_225_600,
            "maturityDate": 1_924_992_000,
            "dayCountBasis": 2,
        },
        "roles": {
            "admin": admin,
            "agent": ZERO,
            "transferAgent": ZERO,
            "freezer": ZERO,
            "minter": minter,
            "documentManager": ZERO,
            "complianceManager": ZERO,
            "payer": ZERO,
        },
        "compliance": compliance_struct(
            maxHolders=10_000, maxPerInvestor=1_000_000, regionCountries=[JAPAN], regions=[KOBE]
        ),
        "recordTimes": [],
        "paymentAgentParams": b"",
    }


def measure(project: Any, accounts: Any) -> dict[str, int]:
    """Deploys the shared contracts and up to 50 series; returns the gas figures by key."""
    admin, registrar, minter, investor, second, other = accounts.test_accounts[0:6]
    registry = admin.deploy(project.InvestorRegistry, admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), registrar, sender=admin)
    payments = admin.deploy(project.PaymentAgent, admin.deploy(project.PaymentAgentAdmin))
    extension = admin.deploy(project.BondTokenAdmin, payments)
    implementation = admin.deploy(project.BondToken, extension)
    factory = admin.deploy(project.BondFactory, admin, implementation, registry)
    registry.grantRole(registry.BINDER_ROLE(), factory, sender=admin)

    tokens: list[Any] = []

    def deploy_series() -> Any:
        params = series_params(admin.address, minter.address, f"JP{len(tokens):010d}")
        receipt = factory.deploySeries(params, sender=admin)
        token = project.IBondToken.at(receipt.events.filter(factory.SeriesDeployed)[0].token)
        tokens.append(token)
        return token

    def register(wallet: Any, identity: Any) -> Any:
        return registry.registerInvestor(wallet, identity, JAPAN, KOBE, 0, 0, FAR_FUTURE, sender=registrar)

    gas: dict[str, int] = {}
    for count in SERIES_COUNTS:
        while len(tokens) < count:
            deploy_series()
        holder = keyless(f"holder-{count}")
        register(holder, keyless(f"holder-id-{count}"))
        for token in tokens:
            token.mint(holder, UNITS, sender=minter)
        gas[f"registry_link_wallet_{count}_series"] = registry.linkWallet(
            holder, keyless(f"holder-second-{count}"), sender=registrar
        ).gas_used
        gas[f"registry_register_{count}_series"] = register(
            keyless(f"new-{count}"), keyless(f"new-id-{count}")
        ).gas_used
        extra = deploy_series()
        registry.unbindToken(extra, sender=admin)
        gas[f"registry_bind_{count}_series"] = registry.bindToken(extra, sender=admin).gas_used

    # a multi-wallet investor in one series: the first transfer after the link folds its wallets
    token = tokens[0]
    register(investor, keyless("investor-id"))
    register(other, keyless("other-id"))
    token.mint(investor, UNITS, sender=minter)
    token.mint(other, UNITS, sender=minter)
    registry.linkWallet(investor, second, sender=registrar)
    gas["transfer_multi_wallet_first_after_link"] = token.transfer(other, 1, sender=investor).gas_used
    gas["transfer_multi_wallet_existing"] = token.transfer(other, 1, sender=investor).gas_used
    return gas


def main() -> None:
    """Entry point used by scripts/bench_registry.py."""
    from ape import accounts, networks, project

    from bench import gas_foundation as foundation
    from bench.gas_payments import lean_anvil

    with lean_anvil() as uri, networks.parse_network_choice(f"ethereum:local:{uri}"):
        figures = measure(project, accounts)
    merged = foundation.merge_results({"gas": figures})
    foundation.RESULTS_MD.write_text(foundation.render_markdown(merged))
    for key, value in sorted(figures.items()):
        print(f"{key:45s} {value:>10,}")
