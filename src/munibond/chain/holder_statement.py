"""A holder's payment statement: every settlement of a series that concerns one wallet, dated in the
issuer's time zone, with each withholding component — what an investor needs for its tax return and what
a paying agent sends with the annual withholding certificate.

Dates are the day the settlement was made on chain (a pull claim or an escrow release can come after the
payment date). Escrowed lines are listed but carry no net: the money is received when released. Payments
recorded as made by bank transfer are listed with their reference; their withholding is on the bank's
record, not the chain's, so they are left out of the on-chain totals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from munibond.chain.deployment import payment_agent
from munibond.chain.lookup import series_entry
from munibond.chain.payment_record import ESCROWED, OFFCHAIN, wallet_lines
from munibond.chain.session import Session
from munibond.clock import local_date
from munibond.terms import load_term_sheet


@dataclass(frozen=True)
class StatementLine:
    date: dt.date  # the day of the settlement in the issuer's zone
    period: int  # 1-based, as in the schedule
    kind: str  # paid | escrowed | released | offchain
    holder: str
    to: str
    coupon_gross: int
    taxes: tuple[int, ...]
    net: int
    principal_gross: int
    units_redeemed: int
    reference: str
    transaction: str


@dataclass
class HolderStatement:
    wallet: str
    year: int | None
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def received(self) -> list[StatementLine]:
        """The settlements paid on chain (paid or released), which the totals add up."""
        return [line for line in self.lines if line.kind not in (ESCROWED, OFFCHAIN)]

    @property
    def coupon_gross(self) -> int:
        return sum(line.coupon_gross for line in self.received)

    @property
    def taxes(self) -> tuple[int, ...]:
        """Withholding per component position (Japan: national, local), summed over the received lines."""
        width = max((len(line.taxes) for line in self.received), default=0)
        return tuple(sum(line.taxes[i] for line in self.received if i < len(line.taxes)) for i in range(width))

    @property
    def net(self) -> int:
        return sum(line.net for line in self.received)

    @property
    def principal_gross(self) -> int:
        return sum(line.principal_gross for line in self.received)


def holder_statement(session: Session, symbol: str, holder: str, *, year: int | None = None) -> HolderStatement:
    """The statement of `holder` (alias or address) on `symbol`, for one calendar `year` (issuer's zone) or all."""
    entry = series_entry(session, symbol)
    agent = payment_agent(session.project, entry["payment_agent"])
    timezone = load_term_sheet(session.manifest.resolve(entry["term_sheet"])).timezone
    wallet = session.signers.address(holder)
    web3 = session.chain.provider.web3
    days: dict[int, dt.date] = {}
    statement = HolderStatement(wallet, year)
    for line in wallet_lines(agent, wallet, start_block=int(entry["block"])):
        if line.block not in days:
            days[line.block] = local_date(int(web3.eth.get_block(line.block)["timestamp"]), timezone)
        day = days[line.block]
        if year is not None and day.year != year:
            continue
        statement.lines.append(
            StatementLine(
                day,
                line.period + 1,
                line.kind,
                line.holder,
                line.to,
                line.coupon_gross,
                line.taxes,
                line.net,
                line.principal_gross,
                line.units_redeemed,
                line.reference,
                line.transaction,
            )
        )
    return statement


def statement_csv(statement: HolderStatement) -> str:
    """CSV with one column per withholding component (tax_1 ... tax_n, the most any line has)."""
    components = max((len(line.taxes) for line in statement.lines), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["date", "period", "kind", "holder", "to", "coupon_gross"]
        + [f"tax_{i + 1}" for i in range(components)]
        + ["net", "principal_gross", "units_redeemed", "reference", "transaction"]
    )
    for line in statement.lines:
        taxes = list(line.taxes) + [0] * (components - len(line.taxes))
        head = [line.date.isoformat(), line.period, line.kind, line.holder, line.to, line.coupon_gross]
        tail = [line.net, line.principal_gross, line.units_redeemed, line.reference, line.transaction]
        writer.writerow([*head, *taxes, *tail])
    return out.getvalue()
