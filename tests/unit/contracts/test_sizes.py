"""Every deployable contract stays under the EIP-170 runtime size limit."""

import pytest
from eth_utils import keccak

LIMIT = 24_576
DEPLOYABLES = [
    "InvestorRegistry",
    "BondToken",
    "BondTokenAdmin",
    "BondFactory",
    "PaymentAgent",
    "PaymentAgentAdmin",
    "TradeSettlement",
    "SubscriptionBook",
    "BaselineERC20",
    "MockPaymentToken",
]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_runtime_size_under_limit(project, name):
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    size = (len(code) - 2) // 2
    assert 0 < size < LIMIT, f"{name}: {size} bytes"


def test_series_proxy_routes_claims_to_the_payment_code(deploy_series, chain, factory, registry):
    """98 bytes of routing code naming both implementations, then the immutable args (registry first)."""
    token = deploy_series()
    code = bytes(chain.provider.get_code(token.address))
    assert code[:7].hex() == "3d3560e01c8063"
    assert code[7:11] == keccak(text="claim(uint256)")[:4]
    assert code[16:20] == keccak(text="claimMany(uint256[])")[:4]
    assert "0x" + code[0x19:0x2D].hex() == factory.tokenImplementation().lower()
    assert "0x" + code[0x34:0x48].hex() == factory.paymentAgentImplementation().lower()
    assert code[0x48:0x62].hex() == "5b363d3d373d3d3d363d855af43d82803e903d91606057fd5bf3"
    assert "0x" + code[0x62 + 12 : 0x62 + 32].hex() == registry.address.lower()
