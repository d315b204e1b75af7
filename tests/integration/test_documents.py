"""A series' documents: the term sheet's are published at deployment, later ones by the document manager,
each only when the token does not already hold that URI and hash."""

from __future__ import annotations

import hashlib

import pytest

from munibond.chain import workflows
from munibond.chain.documents import document_key
from munibond.errors import InputError
from munibond.terms import load_term_sheet
from tests.integration.example_series import deploy_example_series

SYMBOL = "KNGW26"


@pytest.fixture(scope="module")
def series(project, chain, tmp_path_factory):
    s, entry, terms = deploy_example_series(project, chain, tmp_path_factory.mktemp("documents"))
    return s, entry, terms


def nonce(s, alias: str) -> int:
    return s.chain.provider.web3.eth.get_transaction_count(s.signers.address(alias))


def test_the_term_sheets_documents_are_on_chain_after_deployment_once(series):
    s, _entry, terms = series
    expected = [(d.name, d.uri, d.sha256) for d in load_term_sheet(terms).documents]
    assert expected, "the example term sheet lists its prospectus"
    held = workflows.documents(s, SYMBOL)
    assert [(d.name, d.uri, d.sha256) for d in held] == expected and all(d.last_modified > 0 for d in held)

    sent = nonce(s, "issuer")
    workflows.deploy(s, [workflows.load_deployment_input(terms)], payment_token=None, test_payment_token=True)
    assert nonce(s, "issuer") == sent


def test_a_later_disclosure_is_published_by_the_document_manager_and_replaced_by_name(series):
    s, _entry, _terms = series
    report = hashlib.sha256(b"FY2027 financial statements").hexdigest()
    document, sent = workflows.set_document(
        s, SYMBOL, "annual_report_2027", "ipfs://report-2027", "0x" + report, manager="issuer"
    )
    assert sent and document.sha256 == "0x" + report
    before = nonce(s, "issuer")
    _again, sent_again = workflows.set_document(
        s, SYMBOL, "annual_report_2027", "ipfs://report-2027", "0x" + report.upper(), manager="issuer"
    )
    assert not sent_again and nonce(s, "issuer") == before

    corrected = "0x" + hashlib.sha256(b"FY2027 financial statements, corrected").hexdigest()
    workflows.set_document(s, SYMBOL, "annual_report_2027", "ipfs://report-2027-v2", corrected, manager="issuer")
    held = {d.name: d for d in workflows.documents(s, SYMBOL)}
    assert (held["annual_report_2027"].uri, held["annual_report_2027"].sha256) == ("ipfs://report-2027-v2", corrected)
    assert "prospectus" in held and len(held) == 2


def test_only_the_document_manager_can_publish(series):
    s, _entry, _terms = series
    with pytest.raises(Exception, match="roleMask"):
        workflows.set_document(s, SYMBOL, "notice", "ipfs://x", "0x" + "11" * 32, manager="treasury")


def test_a_name_longer_than_32_bytes_is_refused_before_sending():
    with pytest.raises(InputError, match="1 to 32 bytes"):
        document_key("財務書類" * 3)  # 36 bytes of UTF-8
