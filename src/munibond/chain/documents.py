"""A series' documents on chain (ERC-1643: name -> URI, content hash, last modified), e.g. the prospectus
and the issuer's later disclosures. Publishing compares with what the token holds and sends only what
differs, so it runs again safely after an interruption."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from munibond.errors import InputError


@dataclass(frozen=True)
class Document:
    name: str
    uri: str
    sha256: str  # 0x + 64 hex digits
    last_modified: int = 0  # Unix time on chain; 0 when not published


def document_key(name: str) -> bytes:
    """The bytes32 name of a document: its UTF-8 bytes, right-padded with zeros (at most 32 bytes)."""
    raw = name.encode("utf-8")
    if not raw or len(raw) > 32:
        raise InputError(f"must be 1 to 32 bytes of UTF-8, got {len(raw)}: {name!r}", field="name")
    return raw.ljust(32, b"\0")


def file_sha256(path: Path) -> str:
    try:
        return "0x" + hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=str(path)) from None


def documents_on_chain(token: Any) -> list[Document]:
    """Every document the token holds, in its order."""
    result = []
    for key in token.getAllDocuments():
        uri, digest, modified = token.getDocument(key)
        name = bytes(key).rstrip(b"\0").decode("utf-8", errors="replace")
        result.append(Document(name, str(uri), "0x" + bytes(digest).hex(), int(modified)))
    return result


def publish_documents(token: Any, documents: list[Document], send: Callable[..., Any]) -> list[Document]:
    """Set each of `documents` whose URI or hash differs from the token's, through `send(contract, method, *args)`
    (signed by the document manager, or proposed to its Safe); returns those sent."""
    current = {d.name: d for d in documents_on_chain(token)}
    sent = []
    for document in documents:
        held = current.get(document.name)
        if held is not None and (held.uri, held.sha256) == (document.uri, document.sha256.lower()):
            continue
        send(token, "setDocument", document_key(document.name), document.uri, bytes.fromhex(document.sha256[2:]))
        sent.append(document)
    return sent
