"""`munibond holders SYMBOL [--period N] [--csv FILE]`: the holder register, now or at a record date."""

from __future__ import annotations

from pathlib import Path

import click

from munibond.commands.options import network_options


@click.command("holders")
@click.argument("symbol")
@click.option("--period", type=int, default=None, help="Show holdings at the record date of this period (1-based).")
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write CSV here."
)
@network_options
def holders(
    symbol: str,
    period: int | None,
    csv_path: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Print (or write as CSV) the holder register of series SYMBOL; with --period, at that record date and
    with each holder's payment status for it (settled, escrowed or unpaid)."""
    from rich.table import Table

    from munibond.chain import workflows
    from munibond.chain.register import register_csv
    from munibond.chain.session import connect
    from munibond.console import make_console
    from munibond.investors import category_word, tax_class_word

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        lines, when = workflows.register(session, symbol, period)
    if csv_path is not None:
        csv_path.write_text(register_csv(lines))
        click.echo(f"wrote {len(lines)} holdings to {csv_path}")
        return
    status = period is not None
    table = Table(title=f"{symbol} holder register {when}")
    columns = ["wallet", "identity", "country", "region", "category", "tax class", "units", "face value", "frozen"]
    for column in columns + (["payment", "escrowed"] if status else []):
        table.add_column(column, justify="right" if column in ("units", "face value", "escrowed") else "left")
    for line in lines:
        cells = [
            line.wallet,
            line.identity,
            str(line.country),
            str(line.region),
            category_word(line.category),
            tax_class_word(line.tax_class),
            str(line.units),
            f"{line.face_value:,}",
            "yes" if line.frozen else "",
        ]
        if status:
            payment = "escrowed" if line.escrowed else "settled" if line.settled else "unpaid"
            cells += [payment, f"{line.escrowed or 0:,}"]
        table.add_row(*cells)
    make_console().print(table)
    if status:
        unpaid = [line for line in lines if not line.settled]
        click.echo(f"period {period}: {len(lines) - len(unpaid)} holders settled, {len(unpaid)} unpaid")
