"""Role isolation generated from the complete ABIs (issue "Trust").

Every state-changing function reachable at a series' address (BondToken, BondTokenAdmin, PaymentAgent,
PaymentAgentAdmin: one storage, one role table), of the InvestorRegistry and of the BondFactory has one row in
tests/tools/role_matrix.py. For every row, with arguments that succeed for an allowed caller, each allowed
caller's call succeeds and every other role holder and a stranger are refused with exactly the documented error.
A function without a row fails `test_every_state_changing_function_has_a_row`; the matrix in docs/security.md
is checked against the table (`python -m tests.tools.role_matrix` rewrites it).

One module-scoped state (a series with payments and every situation a payment function needs: a period to
reclaim, one paid with an escrow, an undelivered payment and tax arrears, one unfunded past its payment time,
one in the future) serves every call; calls are `eth_call`s, so none changes it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import ape
import pytest
from ape.contracts import ContractInstance
from eth_abi import decode, encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from munibond.chain.deployment import bond_token, payment_agent
from munibond.chain.series import INIT_PARAMS_ABI, compliance_struct
from tests.conftest import FAR_FUTURE, JAPAN, KOBE, series_params
from tests.tools import role_matrix as rm

TAX_CLASS = 1
RECLAIM_DELAY = 100
CALL_NOTICE = 1000
COUPON = (10, 1)  # minor units per unit


def abi_dicts(project: Any, name: str) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", by_alias=True) for item in getattr(project, name).contract_type.abi]


def compiled_abis(project: Any) -> dict[str, list[dict[str, Any]]]:
    names = {c for g in rm.GROUPS for c in g.contracts} | {"IBondToken", "IPaymentAgent"}
    return {name: abi_dicts(project, name) for name in names}


def encode_error(abis: dict[str, list[dict[str, Any]]], name: str, args: tuple[Any, ...]) -> bytes:
    """Revert data of custom error `name` with `args` (its declaration taken from any of the ABIs)."""
    for abi in abis.values():
        for item in abi:
            if item.get("type") == "error" and item["name"] == name:
                types = [rm.canonical_type(i) for i in item["inputs"]]
                return keccak(text=rm.signature(item))[:4] + encode(types, list(args))
    raise AssertionError(f"no error {name} in the ABIs")


def describe(abis: dict[str, list[dict[str, Any]]], data: bytes) -> str:
    """`Name(args)` of revert data when one of the ABIs declares the error, else its hex."""
    for abi in abis.values():
        for item in abi:
            if item.get("type") == "error" and keccak(text=rm.signature(item))[:4] == data[:4]:
                types = [rm.canonical_type(i) for i in item["inputs"]]
                return f"{item['name']}{tuple(decode(types, data[4:]))}"
    return "0x" + data.hex()


def eth_call(chain: Any, to: str, data: bytes, sender: str) -> tuple[bool, bytes]:
    """(succeeded, return or revert data) of a call from `sender`, which may be a contract (anvil allows it)."""
    request = {"from": sender, "to": to, "data": "0x" + data.hex()}
    response = chain.provider.web3.provider.make_request("eth_call", [request, "latest"])
    if "error" in response:
        return False, bytes.fromhex((response["error"].get("data") or "0x")[2:])
    return True, bytes.fromhex(response["result"][2:])


def encode_call(code: Any, name: str, args: tuple[Any, ...]) -> bytes:
    return bytes(getattr(code, name.split("(")[0]).encode_input(*args))


def period(record: int, payment: int) -> tuple[int, ...]:
    return (record, payment, 0, 1, *COUPON, 0, 1)


@pytest.fixture(scope="module")
def abis(project) -> dict[str, list[dict[str, Any]]]:
    return compiled_abis(project)


@pytest.fixture(scope="module")
def world(
    project,
    chain,
    accounts,
    factory,
    registry,
    token_implementation,
    deploy_series,
    roles,
    admin,
    registrar,
    transfer_agent,
    freezer,
    minter,
    document_manager,
    compliance_manager,
    payer,
    outsider,
    investor_a,
    investor_b,
    investor_c,
    investor_d,
    investor_e,
    kyc_provider,
) -> SimpleNamespace:
    """A series with payments in the state every row's arguments need, the registry and a factory of its own."""
    holder, escrowed, undelivered, receiver, recovered = investor_a, investor_b, investor_c, investor_d, investor_e
    binder, deployer, tax_account = accounts[15], accounts[16], accounts[17]
    money = admin.deploy(project.MockHostilePaymentToken, 0)

    base = chain.pending_timestamp + 3600
    periods = [
        period(base, base + 10),  # 0: funded, reclaimable at the end
        period(base + 20, base + 30),  # 1: funded and pushed: one escrow, one undelivered payment, tax arrears
        period(base + 40, base + 50),  # 2: unfunded after its payment time
        period(base + 10**7, base + 10**7 + 100),  # 3: in the future
    ]
    init = (
        money.address,
        payer.address,
        tax_account.address,
        b"\x11" * 32,
        RECLAIM_DELAY,
        CALL_NOTICE,
        periods,
        [(TAX_CLASS, [(100_000, tax_account.address)])],
    )
    init_params = encode([INIT_PARAMS_ABI], [init])
    params = series_params(roles, record_times=[p[0] for p in periods])
    params["paymentAgentParams"] = init_params
    address = factory.deploySeries(params, sender=admin).events.filter(factory.SeriesDeployed)[0].token
    token, agent = bond_token(project, address), payment_agent(project, address)

    for wallet in (holder, escrowed, undelivered, receiver):
        registry.registerInvestor(wallet, wallet, JAPAN, KOBE, 0, TAX_CLASS, FAR_FUTURE, sender=registrar)
    registry.linkWallet(holder, recovered, sender=registrar)  # the holder's new wallet, for a recovery
    token.batchMint([holder, escrowed, undelivered, receiver], [100, 50, 10, 5], sender=minter)
    token.approve(receiver, 10, sender=holder)
    token.freezePartialTokens(holder, 1, sender=freezer)
    token.setDocument(rm.DOC_NAME, "ipfs://prospectus", b"\x01" * 32, sender=document_manager)

    chain.pending_timestamp = base + 60
    chain.mine()
    shortfalls = [agent.fundingShortfall(p) for p in range(3)]
    money.mint(payer, sum(shortfalls), sender=payer)
    money.approve(agent, sum(shortfalls), sender=payer)
    agent.fund(0, shortfalls[0], sender=payer)
    agent.fund(1, shortfalls[1], sender=payer)
    token.setAddressFrozen(escrowed, True, sender=freezer)
    money.setBlocked(undelivered, True, sender=admin)
    money.setBlocked(tax_account, True, sender=admin)
    agent.pushPayments(1, [holder, escrowed, undelivered], sender=payer)
    token.setAddressFrozen(escrowed, False, sender=freezer)
    money.setBlocked(undelivered, False, sender=admin)
    money.setBlocked(tax_account, False, sender=admin)
    assert agent.escrowOf(1, escrowed) and agent.undelivered(undelivered) and agent.taxArrears(tax_account)

    stray = admin.deploy(project.MockPaymentToken, "Sent by mistake", "OOPS", 0)
    stray.mint(address, 5, sender=admin)

    own_factory = admin.deploy(project.BondFactory, admin, token_implementation, registry)
    registry.grantRole(registry.BINDER_ROLE(), own_factory, sender=admin)
    registry.grantRole(registry.BINDER_ROLE(), binder, sender=admin)
    own_factory.grantRole(own_factory.DEPLOYER_ROLE(), deployer, sender=admin)
    own_factory.revokeRole(own_factory.DEPLOYER_ROLE(), admin, sender=admin)

    chain.pending_timestamp = base + 200  # period 0's reclaim time (payment time + delay) has passed
    chain.mine()

    f = SimpleNamespace(
        series=address,
        registry=registry.address,
        factory=own_factory.address,
        admin=admin.address,
        stranger=outsider.address,
        holder=holder.address,
        receiver=receiver.address,
        escrowed=escrowed.address,
        undelivered=undelivered.address,
        recovered=recovered.address,
        identity=holder.address,
        tax_account=tax_account.address,
        tax_class=TAX_CLASS,
        reclaimable=0,
        paid=1,
        unfunded=2,
        future=3,
        fund_amount=shortfalls[2],
        amended=(*periods[3][:4], 11, 1, 0, 1),
        call=(base + 5 * 10**6, base + 5 * 10**6 + 100, 1, 2, 0, 1, 10_000, 1),  # a partial call at par
        stray_token=stray.address,
        stray_amount=5,
        record_times=list(token.recordTimes()),
        roles=roles,
        config=compliance_struct(),
        init_params=init_params,
        series_params=series_params(roles, name="Matrix", symbol="MTX"),
        fresh=lambda i: to_checksum_address(f"0x{0xF00D0000 + i:040x}"),
        investor_input=lambda w: {
            "wallet": w,
            "identity": w,
            "country": JAPAN,
            "region": KOBE,
            "category": 0,
            "taxClass": TAX_CLASS,
            "kycExpiry": FAR_FUTURE,
        },
        packed=lambda w: int(w, 16) | JAPAN << 160 | KOBE << 176 | TAX_CLASS << 208 | FAR_FUTURE << 216,
    )
    f.token_only_series = deploy_series().address  # deployed without payment parameters
    f.attestation, f.signature = attestation(registry, f.fresh(6), kyc_provider, chain)
    f.accounts = {
        "series": {
            "admin": admin,
            "transfer_agent": transfer_agent,
            "freezer": freezer,
            "minter": minter,
            "document": document_manager,
            "compliance": compliance_manager,
            "payer": payer,
        },
        "registry": {"admin": admin, "registrar": registrar, "binder": binder},
        "factory": {"admin": admin, "deployer": deployer},
    }
    return f


def attestation(registry: Any, wallet: str, signer: Any, chain: Any) -> tuple[dict[str, Any], bytes]:
    """An attestation for a new `wallet` signed by `signer`, built from the registry's own ABI and digest."""
    now = chain.pending_timestamp
    values = {
        "wallet": wallet,
        "identity": wallet,
        "country": JAPAN,
        "region": KOBE,
        "taxClass": TAX_CLASS,
        "kycExpiry": FAR_FUTURE,
        "issuedAt": now - 1,
        "nonce": 77,
        "deadline": now + 10**6,
    }
    method = registry.registerWithAttestation.abis[0]
    struct = {c.name: values.get(c.name, 0) for c in method.inputs[0].components}
    digest = bytes(registry.attestationDigest(struct))
    return struct, bytes(Account.unsafe_sign_hash(digest, signer.private_key).signature)


GROUP_KEYS = {rm.SERIES_GROUP.title: "series", rm.REGISTRY_GROUP.title: "registry", rm.FACTORY_GROUP.title: "factory"}


def target(world: SimpleNamespace, group: rm.Group) -> str:
    return {"series": world.series, "registry": world.registry, "factory": world.factory}[GROUP_KEYS[group.title]]


@pytest.mark.parametrize("group", rm.GROUPS, ids=lambda g: GROUP_KEYS[g.title])
def test_only_the_allowed_callers_reach_each_function(project, chain, abis, world, group):
    address = target(world, group)
    role_accounts = world.accounts[GROUP_KEYS[group.title]]
    everyone = {a.address for a in role_accounts.values()} | {world.stranger}
    names = {a.address: role for role, a in role_accounts.items()} | {world.stranger: "stranger"}
    failures: list[str] = []
    refusals = 0
    for contract, rows in group.rows.items():
        code = ContractInstance(address, getattr(project, contract).contract_type)
        for name, row in rows.items():
            allowed = {role_accounts[role].address for role in row.roles}
            if row.caller is rm.ANYONE:
                allowed |= everyone
            elif row.caller is not None and row.caller.account is not None:
                allowed.add(row.caller.account(world))
            for caller in sorted(allowed):
                ok, data = eth_call(chain, address, encode_call(code, name, row.args(world, caller)), caller)
                if not ok:
                    who = names.get(caller, caller)
                    failures.append(f"{contract}.{name} from allowed {who}: reverted {describe(abis, data)}")
            for caller in sorted(everyone - allowed):
                assert row.refusal is not None, name
                expected = encode_error(abis, row.refusal.error, row.refusal.args(world, caller))
                ok, data = eth_call(chain, address, encode_call(code, name, row.args(world, caller)), caller)
                refusals += 1
                if ok or data != expected:
                    got = "success" if ok else describe(abis, data)
                    who = names[caller]
                    failures.append(f"{contract}.{name} from {who}: expected {row.refusal.shown}, got {got}")
    assert not failures, "\n".join(failures)
    assert refusals > 0


def test_an_attestation_from_an_untrusted_signer_is_refused(project, chain, abis, world, registry, outsider):
    """registerWithAttestation is open to anyone: what gates it is the signer, a KYC provider the admin trusts."""
    struct, signature = attestation(registry, world.fresh(7), outsider, chain)
    code = ContractInstance(world.registry, project.InvestorRegistry.contract_type)
    call = encode_call(code, "registerWithAttestation", (struct, signature))
    ok, data = eth_call(chain, world.registry, call, world.stranger)
    assert not ok and data == encode_error(abis, "UntrustedKycProvider", (outsider.address,))


def test_a_second_admin_is_not_the_owner(project, chain, abis, world, accounts, admin):
    """transferOwnership needs the owner itself: another account holding the admin role is refused."""
    token = bond_token(project, world.series)
    second = accounts[18]
    token.grantRole(b"\0" * 32, second, sender=admin)
    code = ContractInstance(world.series, project.BondToken.contract_type)
    call = encode_call(code, "transferOwnership", (world.fresh(1),))
    ok, data = eth_call(chain, world.series, call, second.address)
    assert not ok and data == encode_error(abis, "MissingRole", (second.address, 1))


def test_a_series_without_payment_code_gets_no_payment_periods(project, chain, world, admin, payer):
    """Its payment code was never initialized: no call can be scheduled, so no unit can be retired unpaid."""
    agent = payment_agent(project, world.token_only_series)
    now = chain.pending_timestamp
    with ape.reverts(agent.PaymentsNotInitializable):
        agent.scheduleCall((now + 100, now + 200, 1, 1, 0, 1, 0, 1), sender=admin)
    assert agent.periodCount() == 0
    with ape.reverts(agent.UnknownPeriod):
        agent.recordOffchainPayments(0, [admin], [b"\x01" * 32], sender=payer)


def test_every_state_changing_function_has_a_row(abis):
    """The table covers exactly the compiled ABIs; the series' interfaces add nothing its code does not serve."""
    problems = rm.drift(abis)
    served = {keccak(text=sig)[:4] for c in rm.SERIES_GROUP.contracts for sig in rm.state_changing(abis[c]).values()}
    for interface in ("IBondToken", "IPaymentAgent"):
        for sig in rm.state_changing(abis[interface]).values():
            if keccak(text=sig)[:4] not in served:
                problems.append(f"{interface}.{sig}: declared but served by no code at a series' address")
    assert not problems, "\n".join(problems)


def test_the_documented_matrix_is_generated_from_the_table():
    text = rm.DOC.read_text()
    assert rm.with_matrix(text) == text, "docs/security.md: role matrix is stale; run python -m tests.tools.role_matrix"
