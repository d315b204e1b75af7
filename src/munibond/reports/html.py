"""HTML pages of the reports, built with the standard library only: every value escaped with `html.escape`, the
chart drawn as inline SVG (no script, no external resource), printable as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from html import escape

from munibond.reports.payment_run import Batch, PaymentRunReport

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; margin-bottom: 0.3em; }
.preview { color: #a00; font-weight: bold; }
@media print { body { margin: 0.5cm; } }
"""

PAID_COLOUR = "#2e7d32"
REMAINING_COLOUR = "#c62828"


def page(title: str, body: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def table(caption: str, head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool]) -> str:
    """A table; cells are escaped here, `numeric` columns right-aligned."""
    out = [f"<table>\n<caption>{escape(caption)}</caption>\n<thead><tr>"]
    out += [f"<th>{escape(h)}</th>" for h in head]
    out.append("</tr></thead>\n<tbody>")
    for row in rows:
        cells = "".join(
            f'<td class="n">{escape(cell)}</td>' if is_number else f"<td>{escape(cell)}</td>"
            for cell, is_number in zip(row, numeric, strict=True)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody>\n</table>")
    return "\n".join(out)


def batch_chart(batches: Sequence[Batch], due: int, paid: int, show: Callable[[int], str]) -> str:
    """Horizontal bars, one per batch (transaction): gross paid so far (green) and what remains (red), as a share
    of all that is due for the period; a last bar for the state now. `show` formats an amount for the labels."""
    rows = [(f"batch {i + 1}", b.paid_after, b.remaining_after) for i, b in enumerate(batches)]
    rows.append(("now", paid, due - paid))
    width, bar_x, bar_width, bar_height, gap = 760, 90, 460, 18, 8
    height = 30 + len(rows) * (bar_height + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="paid against remaining by batch">',
        f'<rect x="{bar_x}" y="4" width="12" height="12" fill="{PAID_COLOUR}"/>'
        f'<text x="{bar_x + 16}" y="14" font-size="12">paid</text>'
        f'<rect x="{bar_x + 70}" y="4" width="12" height="12" fill="{REMAINING_COLOUR}"/>'
        f'<text x="{bar_x + 86}" y="14" font-size="12">remaining</text>',
    ]
    for index, (label, done, left) in enumerate(rows):
        y = 26 + index * (bar_height + gap)
        paid_width = bar_width * done // due if due else 0
        parts.append(f'<text x="4" y="{y + 13}" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{bar_x}" y="{y}" width="{paid_width}" height="{bar_height}" fill="{PAID_COLOUR}"/>')
        parts.append(
            f'<rect x="{bar_x + paid_width}" y="{y}" width="{bar_width - paid_width}" height="{bar_height}" '
            f'fill="{REMAINING_COLOUR}"/>'
        )
        text = f"paid {show(done)} / remaining {show(left)}"
        parts.append(f'<text x="{bar_x + bar_width + 8}" y="{y + 13}" font-size="11">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def payment_run_html(report: PaymentRunReport) -> str:
    """The payment run (or preview) of one period: totals, the chart by batch, the batches and every line."""
    money = report.money
    kind = "preview" if report.preview else "payment run"
    title = f"{report.symbol} period {report.period} {kind} — payment date {report.payment_date.isoformat()}"
    body = [
        f"<p>Amounts in {escape(money.code)}; dates in the issuer's time zone.</p>",
    ]
    if report.preview:
        body.append('<p class="preview">Preview: nothing has been paid; amounts are what the push would pay now.</p>')
    totals = [
        ("lines", str(len(report.lines))),
        ("coupon gross", money.show(report.total("coupon_gross"))),
        ("principal", money.show(report.total("principal_gross"))),
        *((f"withholding {c.label}", money.show(report.tax_total(c))) for c in report.components),
        ("withholding total", money.show(report.total("tax"))),
        ("net", money.show(report.total("net"))),
        ("due (gross, whole period)", money.show(report.due)),
        ("paid (gross)", money.show(report.paid)),
        ("remaining (gross)", money.show(report.remaining)),
    ]
    body.append(table("Totals", ("", "amount"), totals, (False, True)))
    body.append("<h2>Paid against remaining by batch</h2>")
    body.append(batch_chart(report.batches, report.due, report.paid, money.show))
    if report.batches:
        body.append(
            table(
                "Batches (one transaction each)",
                ("#", "transaction", "settlements", "gross", "paid after", "remaining after"),
                (
                    (
                        str(i + 1),
                        b.transaction,
                        str(b.settlements),
                        money.show(b.gross),
                        money.show(b.paid_after),
                        money.show(b.remaining_after),
                    )
                    for i, b in enumerate(report.batches)
                ),
                (True, False, True, True, True, True),
            )
        )
    head = (
        "investor",
        "name",
        "holder",
        "coupon",
        "principal",
        *(c.label for c in report.components),
        "net",
        "how",
        "transaction",
    )
    rows = (
        (
            line.investor_id,
            line.name,
            line.holder,
            money.show(line.coupon_gross),
            money.show(line.principal_gross),
            *(money.show(line.taxes.get(c.key, 0)) for c in report.components),
            money.show(line.net),
            line.how,
            line.transaction,
        )
        for line in report.lines
    )
    numeric = (False, False, False, True, True, *(True for _ in report.components), True, False, False)
    body.append(table("Payments", head, rows, numeric))
    return page(title, body)
