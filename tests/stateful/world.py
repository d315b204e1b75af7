"""The deployed world of the model-based tests: one series with payment code, its registry and payment token.

Deployed once per module the way production deploys it (InvestorRegistry, PaymentAgent with PaymentAgentAdmin,
BondTokenAdmin, BondToken implementations and a BondFactory holding the registry's BINDER_ROLE; `deploySeries`
creates the series proxy, initializes token and payment code and binds the token). Only the payment token
(MockHostilePaymentToken, whose blocklist the machine switches) and the state reader (MockMulticall) are test
contracts. `initial_model` builds the
reference model of the same set-up from the same constants, independently of the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from eth_abi import encode
from eth_utils import to_checksum_address

from tests.stateful.model import ZERO, Config, Model, Record, Terms
from tests.stateful.rpc import ErrorDecoder, Fn, Reader, Rpc

DAY = 86_400
FACE = 10_000  # yen per unit
COUPON = Fraction(85, 2)  # 0.85 % a year on 10,000 yen, semi-annual
JAPAN = 392
USA = 840
FAR_FUTURE = 2**32 - 1
MAX_HOLDERS = 4
CAP = 200
RECLAIM_DELAY = 2 * DAY
CALL_NOTICE = 3 * DAY

# tax classes: 0 exempt (no component), 1 Japanese individual, 2 Japanese corporation, 3 Swiss 35 %
JP_INDIVIDUAL, JP_CORPORATE, SWISS = 1, 2, 3
TAX_CLASSES_USED = (0, JP_INDIVIDUAL, JP_CORPORATE, SWISS)

PERIOD_TUPLE = "(uint64,uint64,uint64,uint64,uint128,uint128,uint128,uint128)"
INIT_PARAMS = f"(address,address,address,bytes32,uint64,uint64,{PERIOD_TUPLE}[],(uint8,(uint32,address)[])[])"
PAYER_CASH = 10**15  # minted to the payer at set-up: every funding is paid from it


def identity_of(n: int) -> str:
    """An investor identity (opaque address derived off chain, see docs/architecture.md)."""
    return to_checksum_address(f"0x{0x1D0000 + n:040x}")


# investor per wallet index: W0 and W1 are one investor (linked at set-up), W4 and W5 register later
WALLET_IDENTITY = (0, 0, 1, 2, 3, 4)
IDENTITY_TAX_CLASS = {0: JP_INDIVIDUAL, 1: JP_CORPORATE, 2: JP_INDIVIDUAL, 3: SWISS, 4: 0}
INITIAL_UNITS = (40, 20, 60, 30, 0, 0)


class Abi:
    """The functions the machine calls, by contract."""

    # token (IBondToken at the series address)
    balance_of = Fn("balanceOf", ("address",), ("uint256",))
    total_supply = Fn("totalSupply", (), ("uint256",))
    holder_count = Fn("holderCount", (), ("uint256",))
    paused = Fn("paused", (), ("bool",))
    is_frozen = Fn("isFrozen", ("address",), ("bool",))
    frozen_tokens = Fn("getFrozenTokens", ("address",), ("uint256",))
    pending_retirement = Fn("pendingRetirement", ("address",), ("uint256",))
    account_state = Fn("accountState", ("address",), ("uint256", "bool", "uint256", "address", "uint256"))
    balance_of_at = Fn("balanceOfAt", ("address", "uint256"), ("uint256",))
    total_supply_at = Fn("totalSupplyAt", ("uint256",), ("uint256",))
    record_times = Fn("recordTimes", (), ("uint256[]",))
    closes = Fn("closesAfterLastRecordTime", (), ("bool",))
    detect = Fn("detectTransferRestriction", ("address", "address", "uint256"), ("uint8",))
    transfer = Fn("transfer", ("address", "uint256"), ("bool",))
    mint = Fn("mint", ("address", "uint256"))
    burn = Fn("burn", ("address", "uint256"))
    forced_transfer = Fn("forcedTransfer", ("address", "address", "uint256"), ("bool",))
    recovery = Fn("recoveryAddress", ("address", "address", "address"), ("bool",))
    set_frozen = Fn("setAddressFrozen", ("address", "bool"))
    freeze_partial = Fn("freezePartialTokens", ("address", "uint256"))
    unfreeze_partial = Fn("unfreezePartialTokens", ("address", "uint256"))
    pause = Fn("pause")
    unpause = Fn("unpause")
    set_max_holders = Fn("setMaxHolders", ("uint32",))
    set_cap = Fn("setMaxHoldingPerInvestor", ("uint96",))
    # payment code (same address)
    fund = Fn("fund", ("uint256", "uint256"))
    push = Fn("pushPayments", ("uint256", "address[]"), ("uint256",))
    claim = Fn("claim", ("uint256",))
    claim_many = Fn("claimMany", ("uint256[]",))
    offchain = Fn("recordOffchainPayments", ("uint256", "address[]", "bytes32[]"))
    release = Fn("releaseEscrow", ("uint256", "address", "address"))
    reclaim = Fn("reclaim", ("uint256", "address"), ("uint256",))
    sweep = Fn("sweepTax", ("uint8[]",))
    mark_default = Fn("markDefault", ("uint256",))
    amend = Fn("amendPeriod", ("uint256", PERIOD_TUPLE))
    schedule_call = Fn("scheduleCall", (PERIOD_TUPLE,), ("uint256",))
    period_count = Fn("periodCount", (), ("uint256",))
    accounts = Fn("accounts", ("uint256",), ("uint256",) * 8)
    period_state = Fn("periodState", ("uint256",), ("uint64", "bool", "bool", "bool", "bool", "uint256", "uint256"))
    shortfall = Fn("fundingShortfall", ("uint256",), ("uint256",))
    required = Fn("requiredFunding", ("uint256",), ("uint256",))
    entitlement = Fn("entitlement", ("uint256", "address"), ("uint256", "uint256", "uint256"))
    is_settled = Fn("isSettled", ("uint256", "address"), ("bool",))
    escrow_of = Fn("escrowOf", ("uint256", "address"), ("uint256",))
    tax_pending = Fn("taxPending", ("uint8",), ("uint256[]",))
    open_defaults = Fn("openDefaults", (), ("uint256",))
    undelivered = Fn("undelivered", ("address",), ("uint256",))
    tax_arrears = Fn("taxArrears", ("address",), ("uint256",))
    committed = Fn("committedFunds", (), ("uint256",))
    collect_undelivered = Fn("collectUndelivered", ("address",), ("uint256",))
    release_undelivered = Fn("releaseUndelivered", ("address", "address"), ("uint256",))
    pay_tax_arrears = Fn("payTaxArrears", ("address",), ("uint256",))
    redirect_tax_arrears = Fn("redirectTaxArrears", ("address", "address"), ("uint256",))
    # registry
    register = Fn("registerInvestor", ("address", "address", "uint16", "uint24", "uint8", "uint8", "uint32"))
    link = Fn("linkWallet", ("address", "address"))
    update = Fn("updateInvestor", ("address", "uint16", "uint24", "uint8", "uint8", "uint32"))
    remove = Fn("removeInvestor", ("address",))
    record = Fn("record", ("address",), ("uint256",))
    is_verified = Fn("isVerified", ("address",), ("bool",))
    investor_country = Fn("investorCountry", ("address",), ("uint16",))
    # payment token
    cash_balance = Fn("balanceOf", ("address",), ("uint256",))
    cash_mint = Fn("mint", ("address", "uint256"))
    cash_set_blocked = Fn("setBlocked", ("address", "bool"))


def pack_record(r: Record) -> int:
    """The registry's packed InvestorRecord word."""
    return (
        int(r.identity, 16)
        | r.country << 160
        | r.region << 176
        | r.category << 200
        | r.tax_class << 208
        | r.kyc_expiry << 216
        | int(r.multi) << 248
    )


def schedule(base: int) -> list[Terms]:
    """Four semi-annual-style periods 10 days apart: the second amortizes a quarter of every holding, the last
    redeems everything at par."""
    return [
        Terms(base + 10 * DAY, base + 11 * DAY, COUPON),
        Terms(base + 20 * DAY, base + 21 * DAY, COUPON, principal=Fraction(FACE), redeem=Fraction(1, 4)),
        Terms(base + 30 * DAY, base + 31 * DAY, COUPON),
        Terms(base + 40 * DAY, base + 41 * DAY, COUPON, principal=Fraction(FACE), redeem=Fraction(1)),
    ]


@dataclass
class World:
    chain: Any  # Ape's chain manager: snapshots through it keep Ape's own isolation bookkeeping right
    rpc: Rpc
    reader: Reader
    series: str
    registry: str
    cash: str
    admin: str
    registrar: str
    agent: str
    payer: str
    treasury: str
    tax_account: str
    local_tax_account: str
    wallets: tuple[str, ...]
    base: int
    snapshot_id: str
    initial: Model
    has_pending_view: bool

    def reset(self) -> Model:
        """Back to the deployed set-up (anvil consumes a snapshot on revert, so take it again)."""
        self.chain.restore(self.snapshot_id)
        self.snapshot_id = self.chain.snapshot()
        return self.initial.fork()

    def identity(self, wallet_index: int) -> str:
        return identity_of(WALLET_IDENTITY[wallet_index])

    def kyc_expiry_at_setup(self, wallet_index: int) -> int:
        return self.base + 25 * DAY if wallet_index == 3 else FAR_FUTURE


def tax_classes(tax_account: str, local_tax_account: str) -> dict[int, tuple[tuple[int, str], ...]]:
    return {
        JP_INDIVIDUAL: ((153_150, ZERO), (50_000, local_tax_account)),
        JP_CORPORATE: ((153_150, ZERO),),
        SWISS: ((350_000, local_tax_account),),
    }


def deploy_world(project: Any, accounts: Any, chain: Any) -> World:
    """Deploys and sets up the series (Ape, once per session) and snapshots the chain."""
    admin, registrar, agent, payer = accounts[1], accounts[2], accounts[3], accounts[4]
    treasury, tax_account, local_tax_account = accounts[5], accounts[6], accounts[7]
    wallet_accounts = [accounts[i] for i in range(14, 20)]
    wallets = tuple(w.address for w in wallet_accounts)

    registry = admin.deploy(project.InvestorRegistry, admin)
    registry.grantRole(registry.REGISTRAR_ROLE(), registrar, sender=admin)
    payments = admin.deploy(project.PaymentAgent, admin.deploy(project.PaymentAgentAdmin))
    extension = admin.deploy(project.BondTokenAdmin, payments)
    implementation = admin.deploy(project.BondToken, extension)
    factory = admin.deploy(project.BondFactory, admin, implementation, registry)
    registry.grantRole(registry.BINDER_ROLE(), factory, sender=admin)
    # a payment token whose blocklist the machine switches (refused deliveries, tax arrears)
    cash = admin.deploy(project.MockHostilePaymentToken, 0)
    multicall = admin.deploy(project.MockMulticall)

    errors = ErrorDecoder(
        getattr(project, name).contract_type.abi
        for name in ("IBondToken", "IPaymentAgent", "InvestorRegistry", "MockHostilePaymentToken", "BondToken")
    )
    rpc = Rpc(chain.provider.web3, errors)
    rpc.set_interval(1)
    base = rpc.latest_timestamp() + 3600
    periods = schedule(base)
    classes = tax_classes(tax_account.address, local_tax_account.address)
    params = (
        cash.address,
        payer.address,
        tax_account.address,
        b"\x11" * 32,
        RECLAIM_DELAY,
        CALL_NOTICE,
        [t.as_tuple() for t in periods],
        [(c, list(components)) for c, components in classes.items()],
    )
    roles = {
        "admin": admin.address,
        "agent": agent.address,
        "transferAgent": ZERO,
        "freezer": ZERO,
        "minter": ZERO,
        "documentManager": ZERO,
        "complianceManager": ZERO,
        "payer": payer.address,
    }
    series_params = {
        "name": "Kobe City Resident Bond (model)",
        "symbol": "KOBEM",
        "decimals": 0,
        "terms": {
            "isin": "JP2100019999",
            "currency": cash.address,
            "denomination": FACE,
            "issueVolume": 1_000_000_000,
            "couponRate": 850_000,  # 0.85 % at COUPON_RATE_SCALE 1e8
            "couponFrequency": 2,
            "couponType": 1,
            "issueDate": base,
            "maturityDate": periods[-1].payment,
            "dayCountBasis": 2,
        },
        "roles": roles,
        "compliance": {
            "maxHolders": MAX_HOLDERS,
            "maxPerInvestor": CAP,
            "minHolding": 0,
            "holdingMultiple": 0,
            "lockUpUntil": 0,
            "allowedCountries": [JAPAN],
            "regionCountries": [],
            "regions": [],
            "blackoutStarts": [],
            "blackoutEnds": [],
        },
        "recordTimes": [],
        "paymentAgentParams": encode([INIT_PARAMS], [params]),
    }
    receipt = factory.deploySeries(series_params, sender=admin)
    series = next(iter(receipt.events.filter(factory.SeriesDeployed))).token

    world_args = {
        "chain": chain,
        "rpc": rpc,
        "reader": Reader(rpc, multicall.address),
        "series": series,
        "registry": registry.address,
        "cash": cash.address,
        "admin": admin.address,
        "registrar": registrar.address,
        "agent": agent.address,
        "payer": payer.address,
        "treasury": treasury.address,
        "tax_account": tax_account.address,
        "local_tax_account": local_tax_account.address,
        "wallets": wallets,
        "base": base,
    }
    # investors: W0 + W1 (linked: the series folds them into one aggregate at their first mints), W2, W3 (KYC
    # expires between the second and third record times); W4 and W5 are registered or linked by the machine
    for i in (0, 2, 3):
        expiry = base + 25 * DAY if i == 3 else FAR_FUTURE
        identity = identity_of(WALLET_IDENTITY[i])
        tax_class = IDENTITY_TAX_CLASS[WALLET_IDENTITY[i]]
        registry.registerInvestor(wallets[i], identity, JAPAN, 0, 0, tax_class, expiry, sender=registrar)
    registry.linkWallet(wallets[0], wallets[1], sender=registrar)
    token = project.IBondToken.at(series, detect_proxy=False)
    for i, units in enumerate(INITIAL_UNITS):
        if units:
            token.mint(wallets[i], units, sender=agent)
    cash.mint(payer, PAYER_CASH, sender=payer)
    cash.approve(series, 2**256 - 1, sender=payer)

    has_pending_view = any(
        getattr(entry, "name", None) == "pendingRetirement" for entry in project.IBondToken.contract_type.abi
    )
    now = rpc.latest_timestamp()
    snapshot_id = chain.snapshot()
    partial = World(**world_args, snapshot_id=snapshot_id, initial=None, has_pending_view=has_pending_view)  # type: ignore[arg-type]
    partial.initial = initial_model(partial, periods, classes, now)
    return partial


def initial_model(world: World, periods: list[Terms], classes: dict, now: int) -> Model:
    """The reference model of the set-up, built from the same constants as the deployment."""
    cfg = Config(
        wallets=world.wallets,
        series=world.series,
        payer=world.payer,
        treasury=world.treasury,
        tax_account=world.tax_account,
        tax_classes=classes,
        reclaim_delay=RECLAIM_DELAY,
        call_notice=CALL_NOTICE,
        allowed_countries=frozenset({JAPAN}),
    )
    m = Model(cfg=cfg, now=now, max_holders=MAX_HOLDERS, cap=CAP)
    for w in world.wallets:
        m.bal[w] = 0
        m.pending[w] = []
        m.frozen[w] = False
        m.frozen_units[w] = 0
    for a in (world.series, world.payer, world.treasury, world.tax_account, world.local_tax_account, *world.wallets):
        m.cash[a] = 0
    m.cash[world.payer] = PAYER_CASH
    for terms in periods:
        m.add_period(terms)
    for tax_class, components in classes.items():
        m.tax_pending[tax_class] = [0] * len(components)
    # the registry as the set-up left it: W0, W2, W3 registered, W1 linked to W0 (identity A's generation 1)
    for i in (0, 2, 3):
        identity = identity_of(WALLET_IDENTITY[i])
        record = Record(identity, JAPAN, 0, 0, IDENTITY_TAX_CLASS[WALLET_IDENTITY[i]], world.kyc_expiry_at_setup(i))
        m.records[world.wallets[i]] = record
        m.wallets_of[identity] = [world.wallets[i]]
    identity_a = identity_of(0)
    m.records[world.wallets[0]].multi = True
    m.records[world.wallets[1]] = Record(**{**m.records[world.wallets[0]].__dict__})
    m.wallets_of[identity_a].append(world.wallets[1])
    m.generation[identity_a] = 1
    # the first mints folded A's wallets into the series' aggregate, one party at a time
    m.agg_of[world.wallets[0]] = identity_a
    m.agg_of[world.wallets[1]] = identity_a
    m.agg_generation[identity_a] = 1
    for i, units in enumerate(INITIAL_UNITS):
        m.bal[world.wallets[i]] += units
        m.minted += units
    return m
