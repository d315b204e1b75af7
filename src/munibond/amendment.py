"""Term amendments: which changes of a deployed bond's term sheet the payment agent can take, and which periods
they change.

The bond token keeps its identity, compliance rules and ERC-7092 views (rate, frequency, coupon type, issue and
maturity dates, day-count basis) from deployment; an amended term sheet must leave those alone. What the
payment agent holds per period (record and payment times, coupon and principal per unit, redeemed fraction)
can change, one admin action per period (old and new values in the event), as long as the period's record
date has not passed and nothing was paid for it. Pure: the caller supplies what the chain holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from munibond.chain.series import PeriodOnChain, bond_terms
from munibond.terms import TermSheet

# Term sheet fields the deployed token (or the payment agent's setup) fixed, by where they live in the file.
FIXED_FIELDS: tuple[tuple[str, ...], ...] = (
    ("name",),
    ("symbol",),
    ("isin",),
    ("issuer",),
    ("currency",),
    ("denomination",),
    ("issue_size",),
    ("compliance",),
    ("roles",),
    ("tax",),
    ("documents",),
    ("payment_token",),
)
# The token's ERC-7092 views and the term sheet fields they come from.
TOKEN_VIEWS: dict[str, tuple[str, ...]] = {
    "couponRate": ("coupon", "rate"),
    "couponFrequency": ("coupon", "frequency"),
    "couponType": ("coupon", "type"),
    "issueDate": ("issue_date",),
    "maturityDate": ("maturity_date",),
    "dayCountBasis": ("coupon", "day_count"),
}


@dataclass(frozen=True)
class PeriodChange:
    """One period whose on-chain terms the amended term sheet changes (`period` 0-based, as the agent counts)."""

    period: int
    old: PeriodOnChain
    new: PeriodOnChain


def _value(terms: TermSheet, path: tuple[str, ...]) -> object:
    value: object = terms
    for key in path:
        value = getattr(value, key)
    return value


def check_fixed_fields(current: TermSheet, amended: TermSheet, fields: tuple[tuple[str, ...], ...]) -> None:
    """Raises an InputError located in the amended file at the first of `fields` that differs from `current`."""
    for path in fields:
        if _value(current, path) != _value(amended, path):
            raise amended.input_error(
                "cannot be amended on chain (fixed when the series was deployed); only the schedule can change",
                *path,
            )


def check_amendable(current: TermSheet, amended: TermSheet) -> None:
    """Raises an InputError located in the amended file at the first field the chain cannot take."""
    check_fixed_fields(current, amended, FIXED_FIELDS)
    deployed, proposed = bond_terms(current, ""), bond_terms(amended, "")
    for view, path in TOKEN_VIEWS.items():
        if deployed[view] != proposed[view]:
            raise amended.input_error(
                f"would change the token's {view} ({deployed[view]} -> {proposed[view]}), which is fixed at "
                "deployment; only the schedule can change",
                *path,
            )


def period_changes(on_chain: list[PeriodOnChain], amended: list[PeriodOnChain]) -> list[PeriodChange]:
    """The term-sheet periods (the first `len(amended)` of the agent's; calls come after) whose terms differ.

    The amended schedule must have as many periods as the deployed one: a period can be amended, not added or
    removed (a different frequency or maturity is refused earlier, as the token's views would change).
    """
    if len(on_chain) < len(amended):
        raise ValueError(f"the agent has {len(on_chain)} periods, the amended schedule {len(amended)}")
    return [PeriodChange(i, on_chain[i], new) for i, new in enumerate(amended) if not on_chain[i].same_terms(new)]
