def test_mock_payment_token_mints_on_anvil(payment_token, accounts, chain):
    assert chain.chain_id == 31337
    payment_token.mint(accounts[1], 1234, sender=accounts[0])
    assert payment_token.balanceOf(accounts[1]) == 1234
    assert payment_token.decimals() == 0
