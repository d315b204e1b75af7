"""Every deployable contract stays under the EIP-170 runtime size limit."""

import pytest

LIMIT = 24_576
DEPLOYABLES = [
    "InvestorRegistry",
    "BondToken",
    "BondTokenAdmin",
    "BondFactory",
    "BaselineERC20",
    "MockPaymentToken",
]


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_runtime_size_under_limit(project, name):
    code = getattr(project, name).contract_type.runtime_bytecode.bytecode
    size = (len(code) - 2) // 2
    assert 0 < size < LIMIT, f"{name}: {size} bytes"


def test_deployed_clone_is_minimal(deploy_series, chain):
    token = deploy_series()
    code = chain.provider.get_code(token.address)
    assert code[:10].hex().startswith("363d3d373d3d3d363d73")  # EIP-1167 prefix, args follow the 45-byte proxy
