"""`munibond documents list|set SYMBOL`: the series' documents on chain (prospectus, later disclosures)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from munibond.commands.options import network_options, safe_option
from munibond.errors import InputError


@click.group("documents")
def documents() -> None:
    """Documents of a series on chain (ERC-1643: name, URI, SHA-256 of the content)."""


@documents.command("list")
@click.argument("symbol")
@network_options
def list_documents(symbol: str, network: str, alias_book: Path | None, manifest: Path | None) -> None:
    """Print the documents the token of SYMBOL holds."""
    from munibond.chain import workflows
    from munibond.chain.session import connect

    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        held = workflows.documents(session, symbol)
    for d in held:
        modified = dt.datetime.fromtimestamp(d.last_modified, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(f"{d.name}: {d.uri} sha256 {d.sha256} (last modified {modified})")
    click.echo(f"{symbol}: {len(held)} documents")


@documents.command("set")
@click.argument("symbol")
@click.argument("name")
@click.argument("uri")
@click.option("--file", "content", type=click.Path(path_type=Path, dir_okay=False), help="Hash this file's content.")
@click.option("--sha256", "digest", default=None, help="The content's SHA-256 as 0x + 64 hex digits.")
@click.option("--manager", default="issuer", show_default=True, help="Account with the document manager role.")
@safe_option
@network_options
def set_document(
    symbol: str,
    name: str,
    uri: str,
    content: Path | None,
    digest: str | None,
    manager: str,
    propose_safe: Path | None,
    network: str,
    alias_book: Path | None,
    manifest: Path | None,
) -> None:
    """Publish or replace document NAME of SYMBOL at URI, with the SHA-256 of --file or --sha256 (idempotent)."""
    from munibond.chain import workflows
    from munibond.chain.documents import document_key, file_sha256
    from munibond.chain.safe import finish_proposal, start_proposal
    from munibond.chain.session import connect

    if (content is None) == (digest is None):
        raise InputError("give exactly one of --file and --sha256", field="sha256")
    if digest is not None and not re.fullmatch(r"0x[0-9a-fA-F]{64}", digest):
        raise InputError(f"must be 0x + 64 hex digits, got {digest!r}", field="sha256")
    sha256 = file_sha256(content) if content is not None else str(digest)
    document_key(name)
    with connect(network, alias_book=alias_book, manifest=manifest) as session:
        if propose_safe is not None:
            title = f"{symbol}: publish document {name}"
            start_proposal(session, manager, title, symbol=symbol, role_name="DOCUMENT_ROLE")
        document, sent = workflows.set_document(session, symbol, name, uri, sha256, manager=manager)
        proposed = finish_proposal(session, propose_safe) if propose_safe is not None else None
    if proposed is not None:
        click.echo(proposed)
        return
    state = "published" if sent else "already published (nothing sent)"
    click.echo(f"{symbol}: document {document.name!r} {state}: {document.uri} sha256 {document.sha256}")
