import pytest

# assertion messages for the helper shared by the demo tests (anvil and Hardhat)
pytest.register_assert_rewrite("tests.integration.demo_outcomes")
