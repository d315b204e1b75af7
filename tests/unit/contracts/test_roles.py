"""Role isolation: every privileged function rejects every role that must not reach it."""

from __future__ import annotations

from typing import Any

import pytest
from ape import reverts
from eth_utils import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

ROLE_NAMES = [
    "admin",
    "transfer_agent",
    "freezer",
    "minter",
    "document_manager",
    "compliance_manager",
    "payer",
    "outsider",
]
DOC = b"prospectus".ljust(32, b"\0")


def privileged_calls(t: Any, w: Any, r: Any) -> dict[str, tuple[list[str], str, tuple[Any, ...]]]:
    """name -> (roles allowed, method, arguments)."""
    zero32 = b"\0" * 32
    return {
        "mint": (["minter"], "mint", (w, 1)),
        "burn": (["minter"], "burn", (w, 1)),
        "batchMint": (["minter"], "batchMint", ([w], [1])),
        "batchBurn": (["minter"], "batchBurn", ([w], [1])),
        "forcedTransfer": (["transfer_agent"], "forcedTransfer", (w, r, 1)),
        "batchForcedTransfer": (["transfer_agent"], "batchForcedTransfer", ([w], [r], [1])),
        "recoveryAddress": (["transfer_agent"], "recoveryAddress", (w, r, w)),
        "setAddressFrozen": (["freezer"], "setAddressFrozen", (w, True)),
        "batchSetAddressFrozen": (["freezer"], "batchSetAddressFrozen", ([w], [True])),
        "freezePartialTokens": (["freezer"], "freezePartialTokens", (w, 1)),
        "batchFreezePartialTokens": (["freezer"], "batchFreezePartialTokens", ([w], [1])),
        "unfreezePartialTokens": (["freezer"], "unfreezePartialTokens", (w, 0)),
        "batchUnfreezePartialTokens": (["freezer"], "batchUnfreezePartialTokens", ([w], [0])),
        "pause": (["freezer"], "pause", ()),
        "unpause": (["freezer"], "unpause", ()),
        "setRecordTimes": (["admin"], "setRecordTimes", ([],)),
        "setClosesAfterLastRecordTime": (["admin"], "setClosesAfterLastRecordTime", (False,)),
        "setDocument": (["document_manager"], "setDocument", (DOC, "u", zero32)),
        "removeDocument": (["document_manager"], "removeDocument", (DOC,)),
        "setMaxHolders": (["admin", "compliance_manager"], "setMaxHolders", (9,)),
        "setMaxHoldingPerInvestor": (["admin", "compliance_manager"], "setMaxHoldingPerInvestor", (9,)),
        "setMinimumHolding": (["admin", "compliance_manager"], "setMinimumHolding", (1,)),
        "setHoldingMultiple": (["admin", "compliance_manager"], "setHoldingMultiple", (1,)),
        "setLockUpUntil": (["admin", "compliance_manager"], "setLockUpUntil", (0,)),
        "setCountriesAllowed": (["admin", "compliance_manager"], "setCountriesAllowed", ([392], True)),
        "setCountryRestriction": (["admin", "compliance_manager"], "setCountryRestriction", (False,)),
        "setRegionAllowed": (["admin", "compliance_manager"], "setRegionAllowed", (392, 1, True)),
        "setRegionRestriction": (["admin", "compliance_manager"], "setRegionRestriction", (False,)),
        "setBlackoutWindows": (["admin", "compliance_manager"], "setBlackoutWindows", ([], [])),
        "setName": (["admin"], "setName", ("x",)),
        "setSymbol": (["admin"], "setSymbol", ("x",)),
        "setOnchainID": (["admin"], "setOnchainID", (w,)),
        "setIdentityRegistry": (["admin"], "setIdentityRegistry", (t.identityRegistry(),)),
        "setCompliance": (["admin"], "setCompliance", (t,)),
        "addAgent": (["admin"], "addAgent", (w,)),
        "removeAgent": (["admin"], "removeAgent", (w,)),
        "grantRole": (["admin"], "grantRole", (zero32, w)),
        "revokeRole": (["admin"], "revokeRole", (zero32, w)),
        "transferOwnership": (["admin"], "transferOwnership", (w,)),
    }


@pytest.fixture(scope="module")
def role_token(deploy_series):
    return deploy_series()


MISSING_ROLE = keccak(text="MissingRole(address,uint256)")[:4]


def revert_data(chain: Any, contract: Any, method: str, args: tuple[Any, ...], sender: Any) -> bytes:
    """Revert data of an eth_call of `method` from `sender` (empty bytes when the call succeeds)."""
    data = getattr(contract, method).encode_input(*args)
    try:
        chain.provider.web3.eth.call({"from": sender.address, "to": contract.address, "data": data})
    except ContractCustomError as err:
        return bytes.fromhex(str(err.data)[2:])
    except ContractLogicError as err:
        return bytes.fromhex(str(err.data)[2:]) if err.data else b"?"
    return b""


def test_every_privileged_function_rejects_other_roles(role_token, request, chain, investor_a, investor_b):
    calls = privileged_calls(role_token, investor_a, investor_b)
    senders = {role: request.getfixturevalue(role) for role in ROLE_NAMES}
    checked = 0
    for fn, (allowed, method, args) in calls.items():
        for role, sender in senders.items():
            data = revert_data(chain, role_token, method, args, sender)
            if role in allowed:
                assert data[:4] != MISSING_ROLE, (fn, role)
            else:
                assert data[:4] == MISSING_ROLE, (fn, role, data.hex())
                checked += 1
    assert checked > 200


@pytest.mark.parametrize("fn", ["pause", "setMaxHolders", "setDocument", "setRecordTimes", "addAgent"])
def test_allowed_role_reaches_function(role_token, request, investor_a, investor_b, fn):
    allowed, method, args = privileged_calls(role_token, investor_a, investor_b)[fn]
    getattr(role_token, method)(*args, sender=request.getfixturevalue(allowed[-1]))


def test_roles_cannot_grant_roles(role_token, request, investor_a):
    for role in ROLE_NAMES[1:]:
        with reverts(role_token.MissingRole):
            role_token.grantRole(role_token_minter_role(), investor_a, sender=request.getfixturevalue(role))


def test_registry_roles(registry, registrar, outsider, investor_a, admin):
    with reverts(registry.AccessControlUnauthorizedAccount):
        registry.setKycProvider(investor_a, True, sender=registrar)
    with reverts(registry.AccessControlUnauthorizedAccount):
        registry.bindToken(investor_a, sender=registrar)
    with reverts(registry.AccessControlUnauthorizedAccount):
        registry.unbindToken(investor_a, sender=outsider)
    with reverts(registry.AccessControlUnauthorizedAccount):
        registry.linkWallet(investor_a, outsider, sender=outsider)
    with reverts(registry.AccessControlUnauthorizedAccount):
        registry.updateInvestor(investor_a, 392, 0, 0, 0, 1, sender=admin)  # admin is not registrar


def test_redemption_burn_is_reserved_to_the_series_payment_code(role_token, request, investor_a):
    """No role burns through `retire`: only the series' payment code does, when it settles a retiring period."""
    for role in ROLE_NAMES:
        with reverts(role_token.NotSeriesPayments):
            role_token.retire(investor_a, sender=request.getfixturevalue(role))


def role_token_minter_role() -> bytes:
    return keccak(text="MINTER_ROLE")
