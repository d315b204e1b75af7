"""Per-network settings in munibond.yaml: parsed exactly, refused at their field, looked up by network or chain id."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from munibond.errors import InputError
from munibond.netsettings import DEFAULT, GasPolicy, RetryPolicy, parse_networks, settings_for
from munibond.workspace import Workspace

CONFIG = """
version: 1
networks:
  http://10.0.0.5:8545:
    gas: {type: legacy, price: 0}
    confirmations: 1
  11155111:
    gas: {type: eip1559, priority_fee: 1000000000, max_fee: 50000000000}
    confirmations: 3
    retries: {attempts: 6, backoff: 0.5, max_delay: 4}
"""


def test_a_workspace_holds_settings_per_network_or_chain_id(tmp_path: Path) -> None:
    (tmp_path / "munibond.yaml").write_text(CONFIG)
    networks = Workspace.load(tmp_path).networks
    besu = settings_for(networks, "http://10.0.0.5:8545", 1337)
    assert besu.gas.transaction_fields() == {"type": 0, "gas_price": 0} and besu.confirmations == 1
    sepolia = settings_for(networks, "ethereum:sepolia:node", 11155111)
    assert sepolia.gas.transaction_fields() == {"type": 2, "max_priority_fee": 10**9, "max_fee": 5 * 10**10}
    assert sepolia.retries == RetryPolicy(6, Fraction(1, 2), Fraction(4))
    assert [sepolia.retries.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert settings_for(networks, "http://elsewhere:8545", 5) == DEFAULT
    assert settings_for(networks, "http://10.0.0.5:8545", 1337, confirmations=0).confirmations == 0


def test_defaults_leave_fees_to_the_node() -> None:
    assert GasPolicy().transaction_fields() == {}
    assert GasPolicy("legacy").transaction_fields() == {"type": 0}
    assert GasPolicy("eip1559").transaction_fields() == {"type": 2}
    assert DEFAULT.confirmations == 0 and DEFAULT.retries.attempts == 5


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"x": {"gas": {"type": "cheap"}}}, "networks.x.gas.type", "must be one of auto, legacy, eip1559"),
        ({"x": {"gas": {"type": "legacy", "max_fee": 1}}}, "networks.x.gas.max_fee", "unknown setting"),
        ({"x": {"gas": {"type": "legacy", "price": -1}}}, "networks.x.gas.price", "whole number of wei"),
        ({"x": {"gas": {"type": "legacy", "price": 1.5}}}, "networks.x.gas.price", "whole number of wei"),
        (
            {"x": {"gas": {"type": "eip1559", "max_fee": 1, "priority_fee": 2}}},
            "networks.x.gas",
            "priority_fee 2 is above max_fee 1",
        ),
        ({"x": {"confirmations": -1}}, "networks.x.confirmations", "from 0 to 1000"),
        ({"x": {"confirmations": True}}, "networks.x.confirmations", "from 0 to 1000"),
        ({"x": {"retries": {"attempts": 101}}}, "networks.x.retries.attempts", "from 0 to 100"),
        ({"x": {"retries": {"backoff": "soon"}}}, "networks.x.retries.backoff", "number of seconds"),
        ({"x": {"retry": 3}}, "networks.x.retry", "unknown setting"),
        ({"x": "fast"}, "networks.x", "must be a mapping"),
    ],
)
def test_bad_settings_are_refused_at_their_field(raw: object, field: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_networks(raw, "munibond.yaml")
    (issue,) = refused.value.issues
    assert issue.field == field and message in issue.message, issue


def test_the_new_workspace_config_documents_the_section(tmp_path: Path) -> None:
    from munibond.workspace import CONFIG_TEXT

    assert "networks" not in (yaml.safe_load(CONFIG_TEXT) or {})
    assert "# networks:" in CONFIG_TEXT and "type: legacy, price: 0" in CONFIG_TEXT
