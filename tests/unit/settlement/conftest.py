"""Fixtures for the secondary-trade settlement tests: one TradeSettlement serving series deployed by the real
factory (tests/conftest.py), a payment token, and EIP-712 signing of trades by the parties' own keys."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from munibond.chain.deployment import payment_agent
from munibond.chain.series import INIT_PARAMS_ABI
from tests.unit.settlement.trade_helpers import DAY, ONCHAIN, ZERO, ZERO32, typed_trade


@pytest.fixture
def settlement(project, deployer):
    return deployer.deploy(project.TradeSettlement)


@pytest.fixture
def sign(settlement, chain) -> Callable[[Any, dict[str, Any]], bytes]:
    """sign(account_or_key, trade) -> the 65-byte EIP-712 signature of `trade`."""

    def _sign(signer: Any, trade: dict[str, Any]) -> bytes:
        key = signer if isinstance(signer, str | bytes) else signer.private_key
        return bytes(Account.sign_message(typed_trade(settlement, chain.chain_id, trade), key).signature)

    return _sign


@pytest.fixture
def seller(investor_a):
    return investor_a


@pytest.fixture
def buyer(investor_b):
    return investor_b


@pytest.fixture
def broker(outsider):
    return outsider


@pytest.fixture
def cash(project, deployer):
    return deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)


@pytest.fixture
def hostile_cash(project, deployer):
    return deployer.deploy(project.MockHostilePaymentToken, 0)


@pytest.fixture
def serve(settlement, admin) -> Callable[[Any], Any]:
    """serve(series): grants the settlement contract the series' FREEZER_ROLE (its only role)."""

    def _serve(series: Any) -> Any:
        series.grantRole(keccak(text="FREEZER_ROLE"), settlement, sender=admin)
        return series

    return _serve


@pytest.fixture
def series(deploy_series, serve, onboard, minter, seller, buyer, settlement):
    """A served series; the seller holds 100 units and approved the settlement contract on it."""
    token = serve(deploy_series())
    onboard(seller)
    onboard(buyer)
    token.mint(seller, 100, sender=minter)
    token.approve(settlement, 2**256 - 1, sender=seller)
    return token


@pytest.fixture
def make_trade(chain, seller, buyer, cash) -> Callable[..., dict[str, Any]]:
    """make_trade(series, **overrides) -> Trade dict: 40 units for 400,000 cash, on-chain, expiring in a day."""

    def _make(series: Any, **overrides: Any) -> dict[str, Any]:
        trade = {
            "series": series.address,
            "seller": seller.address,
            "buyer": buyer.address,
            "units": 40,
            "paymentToken": cash.address,
            "price": 400_000,
            "expiry": chain.pending_timestamp + DAY,
            "mode": ONCHAIN,
            "paymentRef": ZERO32,
            "confirmer": ZERO,
            "nonce": 1,
        }
        for key, value in overrides.items():
            trade[key] = value.address if hasattr(value, "address") and key != "series" else value
        if hasattr(trade["series"], "address"):
            trade["series"] = trade["series"].address
        return trade

    return _make


@pytest.fixture
def agree(settlement, sign, broker, seller, buyer) -> Callable[..., Any]:
    """agree(trade, by=broker) -> receipt: both parties sign, `by` submits."""

    def _agree(trade: dict[str, Any], by: Any = None) -> Any:
        return settlement.agree(trade, sign(seller, trade), sign(buyer, trade), sender=by or broker)

    return _agree


@pytest.fixture
def fund_buyer(cash, buyer, settlement) -> Callable[[int], None]:
    def _fund(amount: int) -> None:
        cash.mint(buyer, amount, sender=buyer)
        cash.approve(settlement, amount, sender=buyer)

    return _fund


@pytest.fixture
def travel(chain) -> Callable[[int], None]:
    def _go(timestamp: int) -> None:
        chain.pending_timestamp = timestamp
        chain.mine()

    return _go


@pytest.fixture
def deploy_paying_series(project, factory, admin, roles, payer, serve) -> Callable[..., tuple[Any, Any]]:
    """deploy_paying_series(cash, periods) -> (token, payment agent) of a series with payment code; `periods` are
    (record_time, payment_time, coupon per unit, principal per unit, redeem fraction), no withholding."""

    def _deploy(cash: Any, periods: list[tuple[int, int, Fraction, Fraction, Fraction]]) -> tuple[Any, Any]:
        tuples = [
            (r, p, red.numerator, red.denominator, c.numerator, c.denominator, pr.numerator, pr.denominator)
            for r, p, c, pr, red in periods
        ]
        params = encode(
            [INIT_PARAMS_ABI], [(cash.address, payer.address, payer.address, b"\x11" * 32, 30 * DAY, 0, tuples, [])]
        )
        series_params = {
            "name": "Kobe City Bond 2026-2",
            "symbol": "KOBE262",
            "decimals": 0,
            "terms": {
                "isin": "JP2100010002",
                "currency": cash.address,
                "denomination": 10_000,
                "issueVolume": 1_000_000_000,
                "couponRate": 100,
                "couponFrequency": 2,
                "couponType": 1,
                "issueDate": 1_767_225_600,
                "maturityDate": 1_924_992_000,
                "dayCountBasis": 2,
            },
            "roles": roles,
            "compliance": {
                "maxHolders": 0,
                "maxPerInvestor": 0,
                "minHolding": 0,
                "holdingMultiple": 0,
                "lockUpUntil": 0,
                "allowedCountries": [],
                "regionCountries": [],
                "regions": [],
                "blackoutStarts": [],
                "blackoutEnds": [],
            },
            "recordTimes": sorted({p[0] for p in periods}),
            "paymentAgentParams": params,
        }
        receipt = factory.deploySeries(series_params, sender=admin)
        event = next(iter(receipt.events.filter(factory.SeriesDeployed)))
        token = project.IBondToken.at(event.token, detect_proxy=False)
        return serve(token), payment_agent(project, event.paymentAgent)

    return _deploy
