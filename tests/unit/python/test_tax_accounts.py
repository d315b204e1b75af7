"""A term sheet can send each withholding component to its own account (national tax to the tax office, local
inhabitant tax to the municipality), and the payment agent's parameters carry them per component."""

from pathlib import Path

import pytest
import yaml

from munibond.chain.series import tax_class_configs
from munibond.money import TAX_CLASSES
from munibond.terms import TermSheetError, load_term_sheet

ROOT = Path(__file__).resolve().parents[3]
KANAGAWA = ROOT / "examples" / "kanagawa-resident-2026.yaml"


def _with_tax(tmp_path: Path, tax: object) -> Path:
    raw = yaml.safe_load(KANAGAWA.read_text())
    raw["tax"] = tax
    path = tmp_path / "terms.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    return path


def test_each_component_can_name_its_own_account(tmp_path):
    terms = load_term_sheet(_with_tax(tmp_path, {"account": "tax_office", "components": {"jp_local": "issuer"}}))
    assert terms.tax is not None
    assert terms.tax.account_of("jp_national") == "tax_office"
    assert terms.tax.account_of("jp_local") == "issuer"


def test_without_components_every_component_goes_to_the_default_account():
    terms = load_term_sheet(KANAGAWA)
    assert terms.tax is not None and terms.tax.components == {}
    assert terms.tax.account_of("jp_local") == "tax_office"


def test_an_unknown_component_name_is_refused_with_its_line(tmp_path):
    path = _with_tax(tmp_path, {"account": "tax_office", "components": {"jp_locl": "issuer"}})
    with pytest.raises(TermSheetError) as err:
        load_term_sheet(path)
    assert err.value.field == "tax.components" and "unknown withholding component jp_locl" in err.value.message
    assert err.value.line is not None


def test_agent_parameters_route_each_component_to_its_account():
    configs = dict(tax_class_configs("0xNational", {"jp_local": "0xCity"}))
    individual = TAX_CLASSES["jp_individual"]
    assert configs[individual.id] == [(153_150, "0xNational"), (50_000, "0xCity")]
    assert configs[TAX_CLASSES["jp_corporate"].id] == [(153_150, "0xNational")]
    assert dict(tax_class_configs("0xAll"))[individual.id] == [(153_150, "0xAll"), (50_000, "0xAll")]
