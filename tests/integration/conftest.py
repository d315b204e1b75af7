"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.integration.light_install import LightApp, build_light_app


@pytest.fixture(scope="session")
def light_app(tmp_path_factory) -> LightApp:
    """Built once per session: tests/integration/test_client_docs.py runs the client walkthrough with it too."""
    return build_light_app(tmp_path_factory.mktemp("light-install"))
