"""`munibond export SYMBOL --format icma-json [--out FILE]`: a deployed bond's terms for other systems."""

from __future__ import annotations

import json
from pathlib import Path

import click

from munibond.commands.options import network_options

EXAMPLES = """\b
Examples:
  munibond export KNGW26 --format icma-json                       # print the ICMA BDT document
  munibond export KNGW26 --format icma-json --out kngw26.bdt.json  # write it to a file
"""


@click.command("export", epilog=EXAMPLES)
@click.argument("symbol")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["icma-json"]),
    default="icma-json",
    show_default=True,
    help="icma-json: the ICMA Bond Data Taxonomy field names, as JSON.",
)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write here (else stdout).")
@network_options
def export(
    symbol: str, fmt: str, out: Path | None, network: str, alias_book: Path | None, manifest: Path | None
) -> None:
    """Export the terms of SYMBOL read from the chain (completed from the manifest and its term sheet for what is
    not on chain) in the field names of the ICMA Bond Data Taxonomy. Amounts are exact decimal strings in
    currency units, dates ISO dates in the issuer's zone. Sends nothing."""
    from munibond.chain.bond_export import export_icma
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        document = export_icma(session, symbol)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text)
        click.echo(f"wrote {symbol} ({fmt}) to {out}")
