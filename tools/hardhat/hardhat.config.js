// Hardhat's node as a second EVM implementation for the tests (tests/integration/test_demo_hardhat.py):
// the same chain id, mnemonic and funded accounts as the anvil that Ape starts, so the demo's aliases
// (examples/accounts.local.yaml) are the same wallets on both nodes. Only `hardhat node` uses this file;
// the contracts are compiled by Ape (solc-js, EVM target paris), never by Hardhat.
const path = require("path");
const os = require("os");

module.exports = {
  // Nothing for Hardhat to compile; its cache and artifacts stay out of the repository.
  paths: {
    root: __dirname,
    sources: path.join(__dirname, "no-sources"),
    cache: path.join(os.tmpdir(), "munibond-hardhat-cache"),
    artifacts: path.join(os.tmpdir(), "munibond-hardhat-artifacts"),
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "osaka",
      allowUnlimitedContractSize: false, // EIP-170's 24 KiB limit, as on a real chain
      // A reverted transaction is mined with status 0 and eth_sendTransaction returns its hash, as on a real
      // node (Hardhat's default answers it with a JSON-RPC error instead): the demo shows refusals by receipt.
      throwOnTransactionFailures: false,
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        path: "m/44'/60'/0'/0",
        count: 20,
        accountsBalance: "10000000000000000000000000", // 10,000,000 ETH each
      },
      mining: { auto: true, interval: 0 },
    },
  },
};
