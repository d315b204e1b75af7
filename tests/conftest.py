"""Shared fixtures: role-named accounts and deployed contracts on the local anvil chain."""

import pytest


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def payment_token(project, deployer):
    return deployer.deploy(project.MockPaymentToken, "Digital Yen", "DJPY", 0)
