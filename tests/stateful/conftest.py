"""Session deployment and Hypothesis profiles of the model-based tests.

Profiles (selected with HYPOTHESIS_PROFILE, default `ci`; they apply to the state machine only, other tests keep
their own settings):

* `ci` — what `make test` runs: 300 generated sequences of 40 steps, derandomized (the same sequences on every
  run, so a CI failure reproduces locally), no example database.
* `fuzz` — what `make fuzz` runs: 3,000 sequences (FUZZ_EXAMPLES to change) from a random seed printed at the
  end of the run (FUZZ_SEED=<seed> replays it), failures kept in the local example database.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.stateful.world import World, deploy_world

STEPS = 40
# No explain phase: it replays a failing sequence once per step to comment it, minutes on a chain.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)

settings.register_profile(
    "ci",
    max_examples=300,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    phases=PHASES,
    suppress_health_check=list(HealthCheck),
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "3000")),
    stateful_step_count=STEPS,
    deadline=None,
    print_blob=True,
    phases=PHASES,
    suppress_health_check=list(HealthCheck),
)


def profile_name() -> str:
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return name if name in ("ci", "fuzz") else "ci"


FUZZ_SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))


def machine_settings() -> settings:
    return settings.get_profile(profile_name())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if profile_name() == "fuzz" and terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        terminalreporter.write_line(f"munibond model fuzz: FUZZ_SEED={FUZZ_SEED} (make fuzz FUZZ_SEED={FUZZ_SEED})")


@pytest.fixture(scope="module")
def series_world(project: Any, accounts: Any, chain: Any) -> Any:
    """The deployed series, its snapshot and the reference model of the set-up, once for the module (inside
    Ape's module isolation, so nothing of it outlives the module)."""
    world: World = deploy_world(project, accounts, chain)
    yield world
    world.rpc.set_interval(None)
