"""The role matrix: who may call every state-changing function of a series, the registry and the factory.

One table (`GROUPS`) says, for every such function of the compiled ABIs, which roles may call it, who else may
(anyone, the holder of the units or entitlement it touches, the series' own payment code, the identity registry,
nobody once deployed), the error every other caller gets, and arguments with which an allowed caller succeeds in
the state `tests/unit/contracts/test_role_matrix.py` sets up. That test fails when a function of an ABI has no row
(or a row has no function), when an allowed caller does not succeed, when any other caller is refused with
anything but the documented error, and when the matrix in docs/security.md differs from `render()`.

Regenerate the documentation after changing the table:

    python -m tests.tools.role_matrix          # rewrites the matrix in docs/security.md
    python -m tests.tools.role_matrix --check  # exit 1 when the document or the exported ABIs disagree

Arguments are built lazily from `f`, the test's fixture namespace (addresses and prepared values, see the test),
and the caller's address; nothing here touches a chain.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
ABI_DIR = ROOT / "src" / "munibond" / "abi"
BEGIN = "<!-- role-matrix:begin -->"
END = "<!-- role-matrix:end -->"

ZERO = "0x" + "00" * 20
JAPAN = 392
KOBE = 281000
FAR_FUTURE = 2**32 - 1
DOC_NAME = b"prospectus".ljust(32, b"\0")

# A series' role bits (BondTokenStorage R_*): MissingRole(account, roleMask) names the mask the caller lacks.
SERIES_ROLE_BITS = {
    "admin": 1,
    "transfer_agent": 2,
    "freezer": 4,
    "minter": 8,
    "document": 16,
    "compliance": 32,
    "payer": 64,
}

Args = Callable[[Any, str], tuple[Any, ...]]  # (fixture namespace, caller address) -> call arguments


def role_id(name: str) -> bytes:
    """bytes32 role id as AccessControl names it (DEFAULT_ADMIN_ROLE is zero)."""
    return b"\0" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


@dataclass(frozen=True)
class Refusal:
    """The custom error every caller the row does not allow gets."""

    error: str
    args: Callable[[Any, str], tuple[Any, ...]]  # (fixture namespace, caller address) -> error arguments
    shown: str  # as docs/security.md shows it


@dataclass(frozen=True)
class Caller:
    """An allowed caller that is not a role: `account` succeeds in the test (None: nobody can call)."""

    label: str
    account: Callable[[Any], str] | None


@dataclass(frozen=True)
class Row:
    roles: tuple[str, ...]
    args: Args
    refusal: Refusal | None  # None: open to anyone
    caller: Caller | None = None
    note: str = ""


@dataclass(frozen=True)
class Group:
    """The functions reachable at one kind of address, with that address's roles."""

    title: str
    contracts: tuple[str, ...]  # implementation contracts whose ABIs together are the address's surface
    roles: dict[str, str]  # role key -> column label
    rows: dict[str, dict[str, Row]]  # contract -> function -> row


# ---------------------------------------------------------------------------------------------- refusals


def missing_role(mask: int) -> Refusal:
    return Refusal("MissingRole", lambda f, caller: (caller, mask), f"`MissingRole(caller, {mask})`")


def unauthorized(role: str) -> Refusal:
    return Refusal(
        "AccessControlUnauthorizedAccount",
        lambda f, caller: (caller, role_id(role)),
        f"`AccessControlUnauthorizedAccount(caller, {role})`",
    )


def caller_error(error: str) -> Refusal:
    return Refusal(error, lambda f, caller: (caller,), f"`{error}(caller)`")


def plain(error: str) -> Refusal:
    return Refusal(error, lambda f, caller: (), f"`{error}()`")


# ---------------------------------------------------------------------------------------------- callers

ANYONE = Caller("anyone", lambda f: f.stranger)
NOBODY = Caller("nobody (initializer, run once by the factory)", None)
OWNER = Caller("the owner (ERC-173), not another admin", lambda f: f.admin)
SERIES = Caller("the series' own payment code", lambda f: f.series)
HOLDER = Caller("a holder, for its own units", lambda f: f.holder)
SPENDER = Caller("a spender, within its allowance", lambda f: f.receiver)
ENTITLED = Caller("a holder, for its own entitlement", lambda f: f.receiver)
REFUSED_HOLDER = Caller("a holder, for its own refused payments", lambda f: f.undelivered)


def series(*roles: str, args: Args, also: Caller | None = None, note: str = "") -> Row:
    """A series function for `roles` (and `also`); everyone else gets MissingRole with the roles' mask."""
    mask = sum(SERIES_ROLE_BITS[r] for r in roles)
    return Row(roles, args, missing_role(mask), also, note)


def only(caller: Caller, refusal: Refusal, args: Args, note: str = "") -> Row:
    """A function no role reaches: only `caller` (or nobody)."""
    return Row((), args, refusal, caller, note)


def anyone(args: Args, note: str = "") -> Row:
    return Row((), args, None, ANYONE, note)


def access_control(*roles: str, args: Args, refusal: Refusal | None = None, note: str = "") -> Row:
    """A registry or factory function for `roles` (OpenZeppelin AccessControl: the first role is checked)."""
    return Row(roles, args, refusal or unauthorized(ROLE_IDS[roles[0]]), None, note)


ROLE_IDS = {
    "admin": "DEFAULT_ADMIN_ROLE",
    "registrar": "REGISTRAR_ROLE",
    "binder": "BINDER_ROLE",
    "deployer": "DEPLOYER_ROLE",
}


def transfer_refused(f: Any, caller: str) -> tuple[Any, ...]:
    """TransferRestricted(4 INSUFFICIENT_UNFROZEN_BALANCE, caller, receiver, 1, available 0)."""
    return (4, caller, f.receiver, 1, 0)


# ---------------------------------------------------------------------------------------------- the table

SERIES_GROUP = Group(
    title="Series (one address: BondToken, then BondTokenAdmin, PaymentAgent, PaymentAgentAdmin)",
    contracts=("BondToken", "BondTokenAdmin", "PaymentAgent", "PaymentAgentAdmin"),
    roles={
        "admin": "admin",
        "transfer_agent": "transfer agent",
        "freezer": "freezer",
        "minter": "minter",
        "document": "document",
        "compliance": "compliance",
        "payer": "payer",
    },
    rows={
        "BondToken": {
            "addAgent": series("admin", args=lambda f, c: (f.fresh(1),)),
            "approve": anyone(lambda f, c: (f.receiver, 1), "own allowance"),
            "batchBurn": series("minter", args=lambda f, c: ([f.holder], [1])),
            "batchForcedTransfer": series("transfer_agent", args=lambda f, c: ([f.holder], [f.receiver], [1])),
            "batchFreezePartialTokens": series("freezer", args=lambda f, c: ([f.holder], [1])),
            "batchMint": series("minter", args=lambda f, c: ([f.holder], [1])),
            "batchSetAddressFrozen": series("freezer", args=lambda f, c: ([f.holder], [True])),
            "batchTransfer": only(
                HOLDER,
                Refusal("TransferRestricted", transfer_refused, "`TransferRestricted(4, caller, to, amount, 0)`"),
                lambda f, c: ([f.receiver], [1]),
                "every transfer rule applies",
            ),
            "batchUnfreezePartialTokens": series("freezer", args=lambda f, c: ([f.holder], [1])),
            "burn": series("minter", args=lambda f, c: (f.holder, 1), note="not partially frozen units"),
            "forcedTransfer": series("transfer_agent", args=lambda f, c: (f.holder, f.receiver, 1)),
            "freezePartialTokens": series("freezer", args=lambda f, c: (f.holder, 1)),
            "grantRole": series("admin", args=lambda f, c: (role_id("MINTER_ROLE"), f.fresh(1))),
            "initialize": only(NOBODY, plain("InvalidInitialization"), lambda f, c: (f.roles, ZERO, f.config, [])),
            "mint": series("minter", args=lambda f, c: (f.holder, 1)),
            "pause": series("freezer", args=lambda f, c: ()),
            "recoveryAddress": series(
                "transfer_agent",
                args=lambda f, c: (f.holder, f.recovered, f.identity),
                note="new wallet of the same identity",
            ),
            "removeAgent": series("admin", args=lambda f, c: (f.fresh(1),)),
            "renounceRole": anyone(lambda f, c: (role_id("MINTER_ROLE"), c), "own roles only"),
            "retire": only(SERIES, caller_error("NotSeriesPayments"), lambda f, c: (f.holder,)),
            "revokeRole": series("admin", args=lambda f, c: (role_id("MINTER_ROLE"), f.fresh(1))),
            "syncInvestor": anyone(lambda f, c: (f.holder,), "folds an investor's wallets the registry linked"),
            "setAddressFrozen": series("freezer", args=lambda f, c: (f.holder, True)),
            "setClosesAfterLastRecordTime": series("admin", args=lambda f, c: (False,), also=SERIES),
            "setCompliance": series("admin", args=lambda f, c: (f.series,), note="only the series itself"),
            "setIdentityRegistry": series(
                "admin", args=lambda f, c: (f.registry,), note="with payment code: only the registry it has"
            ),
            "setName": series("admin", args=lambda f, c: ("Renamed",)),
            "setOnchainID": series("admin", args=lambda f, c: (f.fresh(1),)),
            "setRecordTimes": only(
                SERIES,
                caller_error("NotSeriesPayments"),
                lambda f, c: (f.record_times,),
                "the admin on a series without payment code",
            ),
            "setSymbol": series("admin", args=lambda f, c: ("RNM",)),
            "transfer": only(
                HOLDER,
                Refusal("TransferRestricted", transfer_refused, "`TransferRestricted(4, caller, to, amount, 0)`"),
                lambda f, c: (f.receiver, 1),
                "every transfer rule applies",
            ),
            "transferFrom": only(
                SPENDER,
                Refusal("ERC20InsufficientAllowance", lambda f, c: (c, 0, 1), "`ERC20InsufficientAllowance`"),
                lambda f, c: (f.holder, f.receiver, 1),
                "every transfer rule applies",
            ),
            "transferOwnership": only(
                OWNER, missing_role(1), lambda f, c: (f.fresh(1),), "moves the admin role to the new owner"
            ),
            "unfreezePartialTokens": series("freezer", args=lambda f, c: (f.holder, 1)),
            "unpause": series("freezer", args=lambda f, c: ()),
        },
        "BondTokenAdmin": {
            "configureInitial": only(NOBODY, plain("NotInitializing"), lambda f, c: (f.config,)),
            "removeDocument": series("document", args=lambda f, c: (DOC_NAME,)),
            "setBlackoutWindows": series("admin", "compliance", args=lambda f, c: ([], [])),
            "setCountriesAllowed": series("admin", "compliance", args=lambda f, c: ([JAPAN], True)),
            "setCountryRestriction": series("admin", "compliance", args=lambda f, c: (False,)),
            "setDocument": series("document", args=lambda f, c: (DOC_NAME, "ipfs://terms", b"\x01" * 32)),
            "setHoldingMultiple": series("admin", "compliance", args=lambda f, c: (1,)),
            "setLockUpUntil": series("admin", "compliance", args=lambda f, c: (0,)),
            "setMaxHolders": series("admin", "compliance", args=lambda f, c: (1000,)),
            "setMaxHoldingPerInvestor": series("admin", "compliance", args=lambda f, c: (10**6,)),
            "setMinimumHolding": series("admin", "compliance", args=lambda f, c: (1,)),
            "setRegionAllowed": series("admin", "compliance", args=lambda f, c: (JAPAN, KOBE, True)),
            "setRegionRestriction": series("admin", "compliance", args=lambda f, c: (False,)),
        },
        "PaymentAgent": {
            "claim": only(
                ENTITLED,
                Refusal("NothingToPay", lambda f, c: (f.paid, c), "`NothingToPay(period, caller)`"),
                lambda f, c: (f.paid,),
            ),
            "claimMany": only(
                ENTITLED,
                Refusal("NothingToPay", lambda f, c: (f.paid, c), "`NothingToPay(period, caller)`"),
                lambda f, c: ([f.paid],),
            ),
            "collectUndelivered": only(
                REFUSED_HOLDER,
                caller_error("NothingUndelivered"),
                lambda f, c: (f.undelivered,),
                "to a wallet of the same investor",
            ),
            "fund": series(
                "payer",
                args=lambda f, c: (f.unfunded, f.fund_amount),
                note="pulls from the caller, up to the shortfall",
            ),
            "markDefault": anyone(lambda f, c: (f.unfunded,), "after the payment time, when not covered"),
            "payTaxArrears": anyone(lambda f, c: (f.tax_account,), "pays only the account owed"),
            "pushPayments": series(
                "payer", args=lambda f, c: (f.paid, [f.receiver]), note="pays the holders at the record time only"
            ),
            "reclaim": series(
                "payer",
                args=lambda f, c: (f.reclaimable, f.fresh(2)),
                note="after the deadline; unassigned funding only",
            ),
            "recordOffchainPayments": series(
                "payer", args=lambda f, c: (f.paid, [f.receiver], [b"\x02" * 32]), note="moves no money"
            ),
            "redirectTaxArrears": series("admin", args=lambda f, c: (f.tax_account, f.fresh(2))),
            "releaseEscrow": series(
                "payer", args=lambda f, c: (f.paid, f.escrowed, f.escrowed), note="to a wallet of the holder's investor"
            ),
            "releaseUndelivered": series(
                "payer", args=lambda f, c: (f.undelivered, f.undelivered), note="to a wallet of the holder's investor"
            ),
            "sweepTax": anyone(lambda f, c: ([f.tax_class],), "pays only the configured tax accounts"),
        },
        "PaymentAgentAdmin": {
            "amendPeriod": series(
                "admin", args=lambda f, c: (f.future, f.amended), note="unfunded periods before their record time"
            ),
            "initialize": only(
                NOBODY,
                plain("PaymentsNotInitializable"),
                lambda f, c: (f.series, f.registry, f.admin, f.init_params),
            ),
            "recoverTokens": series(
                "admin", args=lambda f, c: (f.stray_token, f.fresh(2), f.stray_amount), note="never committed funds"
            ),
            "scheduleCall": series("admin", args=lambda f, c: (f.call,), note="at least the call notice ahead"),
            "setTaxAccount": series("admin", args=lambda f, c: (f.fresh(2),)),
            "setTaxClass": series(
                "admin", args=lambda f, c: (f.tax_class, [(100_000, f.tax_account)]), note="at most 100 %, 4 components"
            ),
            "setTermSheetHash": series("admin", args=lambda f, c: (b"\x22" * 32,)),
            "syncRecordTimes": series("admin", args=lambda f, c: ()),
        },
    },
)

REGISTRY_GROUP = Group(
    title="InvestorRegistry (one per issuer, shared by its series)",
    contracts=("InvestorRegistry",),
    roles={"admin": "admin", "registrar": "registrar", "binder": "binder"},
    rows={
        "InvestorRegistry": {
            "batchRegisterIdentity": access_control(
                "registrar", args=lambda f, c: ([f.fresh(3)], [f.fresh(3)], [JAPAN])
            ),
            "batchRegisterInvestors": access_control("registrar", args=lambda f, c: ([f.investor_input(f.fresh(3))],)),
            "batchRegisterPacked": access_control(
                "registrar", args=lambda f, c: ([f.fresh(3)], [f.packed(f.fresh(3))])
            ),
            "bindToken": access_control(
                "binder", "admin", args=lambda f, c: (f.fresh(4),), refusal=unauthorized("DEFAULT_ADMIN_ROLE")
            ),
            "cancelAttestationNonce": anyone(lambda f, c: (4242,), "own nonces (as a KYC provider)"),
            "deleteIdentity": access_control("registrar", args=lambda f, c: (f.receiver,)),
            "grantRole": access_control("admin", args=lambda f, c: (role_id("REGISTRAR_ROLE"), f.fresh(3))),
            "linkWallet": access_control("registrar", args=lambda f, c: (f.receiver, f.fresh(3))),
            "registerIdentity": access_control("registrar", args=lambda f, c: (f.fresh(3), f.fresh(3), JAPAN)),
            "registerInvestor": access_control(
                "registrar", args=lambda f, c: (f.fresh(3), f.fresh(3), JAPAN, KOBE, 0, 1, FAR_FUTURE)
            ),
            "registerWithAttestation": anyone(
                lambda f, c: (f.attestation, f.signature), "signed by a KYC provider the admin trusts"
            ),
            "removeInvestor": access_control("registrar", args=lambda f, c: (f.receiver,)),
            "renounceRole": anyone(lambda f, c: (role_id("REGISTRAR_ROLE"), c), "own roles only"),
            "revokeRole": access_control("admin", args=lambda f, c: (role_id("REGISTRAR_ROLE"), f.fresh(3))),
            "setClaimTopicsRegistry": access_control("admin", args=lambda f, c: (ZERO,), note="accepts only zero"),
            "setIdentityRegistryStorage": access_control("admin", args=lambda f, c: (ZERO,), note="accepts only zero"),
            "setKycProvider": access_control("admin", args=lambda f, c: (f.fresh(3), True)),
            "setTrustedIssuersRegistry": access_control("admin", args=lambda f, c: (ZERO,), note="accepts only zero"),
            "unbindToken": access_control("admin", args=lambda f, c: (f.series,)),
            "updateCountry": access_control("registrar", args=lambda f, c: (f.receiver, JAPAN)),
            "updateIdentity": access_control("registrar", args=lambda f, c: (f.receiver, f.fresh(3))),
            "updateInvestor": access_control(
                "registrar", args=lambda f, c: (f.receiver, JAPAN, KOBE, 0, 1, FAR_FUTURE)
            ),
        },
    },
)

FACTORY_GROUP = Group(
    title="BondFactory (one per issuer)",
    contracts=("BondFactory",),
    roles={"admin": "admin", "deployer": "deployer"},
    rows={
        "BondFactory": {
            "deploySerial": access_control("deployer", args=lambda f, c: ([f.series_params],)),
            "deploySeries": access_control("deployer", args=lambda f, c: (f.series_params,)),
            "grantRole": access_control("admin", args=lambda f, c: (role_id("DEPLOYER_ROLE"), f.fresh(5))),
            "renounceRole": anyone(lambda f, c: (role_id("DEPLOYER_ROLE"), c), "own roles only"),
            "revokeRole": access_control("admin", args=lambda f, c: (role_id("DEPLOYER_ROLE"), f.fresh(5))),
        },
    },
)

GROUPS: tuple[Group, ...] = (SERIES_GROUP, REGISTRY_GROUP, FACTORY_GROUP)


# ---------------------------------------------------------------------------------------------- ABIs


def canonical_type(item: dict[str, Any]) -> str:
    """ABI type with tuples spelled out, as in a function signature."""
    kind = item["type"]
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(canonical_type(i) for i in item['inputs'])})"


def state_changing(abi: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Function key -> signature of every non-view function; the key is the name unless it is overloaded."""
    items = [i for i in abi if i.get("type") == "function" and i.get("stateMutability") not in ("view", "pure")]
    names = [i["name"] for i in items]
    return {(i["name"] if names.count(i["name"]) == 1 else signature(i)): signature(i) for i in items}


def drift(abis: dict[str, Sequence[dict[str, Any]]]) -> list[str]:
    """Every disagreement between the table and the ABIs (contract name -> ABI list), as readable lines."""
    problems = []
    for group in GROUPS:
        seen: dict[str, str] = {}
        for contract in group.contracts:
            functions = state_changing(abis[contract])
            rows = group.rows.get(contract, {})
            for key in sorted(set(functions) - set(rows)):
                problems.append(f"{contract}.{key}: no row in the role matrix (tests/tools/role_matrix.py)")
            for key in sorted(set(rows) - set(functions)):
                problems.append(f"{contract}.{key}: a row in the role matrix but no such function")
            for sig in functions.values():
                selector = keccak(text=sig)[:4].hex()
                if selector in seen:
                    problems.append(f"{contract}.{sig}: selector {selector} already served by {seen[selector]}")
                seen[selector] = f"{contract}.{sig}"
    return problems


def exported_abis() -> dict[str, list[dict[str, Any]]]:
    """The ABIs shipped in the Python package (src/munibond/abi, re-exported by `python -m munibond.abi_export`)."""
    names = {c for g in GROUPS for c in g.contracts}
    return {name: json.loads((ABI_DIR / f"{name}.json").read_text()) for name in names}


# ---------------------------------------------------------------------------------------------- rendering


def _cell(row: Row, role: str) -> str:
    if role in row.roles:
        return "✓"
    if role == "admin" and row.caller is OWNER:
        return "owner"
    return ""


def _also(row: Row) -> str:
    parts = []
    if row.caller is not None and row.caller is not OWNER:
        parts.append(row.caller.label)
    if row.note:
        parts.append(row.note)
    return "; ".join(parts)


def render() -> str:
    """The markdown between the markers of docs/security.md."""
    out: list[str] = []
    for group in GROUPS:
        multi = len(group.contracts) > 1
        head = ["function", *(["code"] if multi else []), *group.roles.values(), "also / limits", "anyone else gets"]
        out += [f"#### {group.title}", "", "| " + " | ".join(head) + " |"]
        out.append(
            "|" + "|".join(["---", *(["---"] if multi else [])] + [":-:"] * len(group.roles) + ["---", "---"]) + "|"
        )
        for contract in group.contracts:
            for name, row in sorted(group.rows[contract].items()):
                cells = [f"`{name}`", *([contract] if multi else [])]
                cells += [_cell(row, role) for role in group.roles]
                cells += [_also(row), row.refusal.shown if row.refusal else "—"]
                out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip("\n")


def with_matrix(text: str) -> str:
    """`text` (docs/security.md) with the generated matrix between its markers."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{DOC} lacks the markers {BEGIN} ... {END}")
    return text[: start + len(BEGIN)] + "\n" + render() + "\n" + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the role matrix into docs/security.md.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when anything is stale")
    options = parser.parse_args(argv)
    problems = drift(exported_abis())
    for line in problems:
        print(line, file=sys.stderr)
    text = DOC.read_text()
    updated = with_matrix(text)
    if options.check:
        if updated != text:
            print(f"{DOC.relative_to(ROOT)}: role matrix is stale (python -m tests.tools.role_matrix)", file=sys.stderr)
        return 1 if problems or updated != text else 0
    if updated != text:
        DOC.write_text(updated)
        print(f"{DOC.relative_to(ROOT)}: role matrix rewritten")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
