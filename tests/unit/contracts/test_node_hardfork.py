"""The tests' anvil runs at the hardfork this run asked for: paris, or MUNIBOND_HARDFORK (see tests/conftest.py).

The node says so (`anvil_nodeInfo`) and its EVM agrees: every feature of a later fork is refused, every feature
up to the configured one runs.
"""

import pytest

from tests.hardforks import FORKS, PROBES, Probe, executed_fork, probe_output


def test_node_reports_the_configured_hardfork(chain, node_hardfork):
    assert chain.provider.make_request("anvil_nodeInfo", [])["hardFork"].lower() == node_hardfork


def test_node_executes_the_configured_hardfork(chain, node_hardfork):
    assert executed_fork(chain.provider.web3) == node_hardfork


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.feature.split()[0])
def test_a_feature_runs_only_from_its_hardfork(chain, node_hardfork, probe: Probe):
    output = probe_output(chain.provider.web3, probe)
    if FORKS.index(node_hardfork) >= FORKS.index(probe.fork):
        assert output == probe.returns
    else:
        assert output != probe.returns
