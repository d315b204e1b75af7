// (c) Transfers units from the investor whose key is in MUNIBOND_PRIVATE_KEY, after the same pre-check as
// check-transfer.mjs. A transfer the pre-check refuses is not sent, unless --try-anyway: then the node refuses it
// (gas estimation reverts, nothing is broadcast) and the revert data is decoded with the series ABI to the
// custom error's name and arguments, e.g. TransferRestricted(code, from, to, amount, detail).
//   MUNIBOND_PRIVATE_KEY=0x… node transfer.mjs --rpc URL --manifest PATH --symbol SYMBOL --to ADDRESS --amount UNITS
// Exit status: 0 transferred, 1 refused (JSON on stdout either way), 2 bad input.
// SPDX-License-Identifier: Apache-2.0
import { Contract, Wallet, isCallException } from "ethers";
import { bondSeriesAbi } from "@munibond/abi";
import { UsageError, address, amount, connect, options, printJson, run } from "./lib.mjs";

/**
 * The custom error in `error`'s revert data, decoded with the contract's ABI (null when it is not one).
 * @param {Contract} contract
 * @param {unknown} error
 * @returns {{name: string | null, data?: string, signature?: string, args?: Record<string, unknown>,
 *   message?: string} | null}
 */
function decodeRevert(contract, error) {
  if (!isCallException(error) || !error.data) return null;
  const decoded = contract.interface.parseError(error.data);
  if (decoded === null) return { name: null, data: error.data };
  const args = Object.fromEntries(decoded.fragment.inputs.map((input, i) => [input.name || `arg${i}`, decoded.args[i]]));
  return { name: decoded.name, signature: decoded.signature, args };
}

await run(async () => {
  const opts = options(
    "transfer.mjs --rpc URL --manifest PATH --symbol SYMBOL --to ADDRESS --amount UNITS [--try-anyway] " +
      "(key in MUNIBOND_PRIVATE_KEY)",
    { to: { type: "string" }, amount: { type: "string" }, "try-anyway": { type: "boolean" } },
  );
  const to = address(String(opts.to ?? ""), "to");
  const units = amount(String(opts.amount ?? ""), "amount");
  const key = process.env.MUNIBOND_PRIVATE_KEY;
  if (!key) throw new UsageError("MUNIBOND_PRIVATE_KEY is not set (the sending investor's private key)");
  let wallet;
  try {
    wallet = new Wallet(key);
  } catch {
    throw new UsageError("MUNIBOND_PRIVATE_KEY is not a private key");
  }
  const { provider, series } = await connect(opts);
  const token = new Contract(series.address, bondSeriesAbi, wallet.connect(provider));
  const from = wallet.address;
  const code = Number(await token.detectTransferRestriction(from, to, units));
  const report = {
    from,
    to,
    amount: units,
    precheck: { code, message: await token.messageForTransferRestriction(code) },
  };
  if (code !== 0 && !opts["try-anyway"]) {
    printJson({ ...report, outcome: "not sent" });
    return 1;
  }
  try {
    const tx = await token.transfer(to, units);
    const receipt = await tx.wait();
    printJson({ ...report, outcome: "transferred", txHash: receipt.hash, block: receipt.blockNumber });
    return 0;
  } catch (error) {
    const refused = decodeRevert(token, error);
    if (refused === null) throw error;
    if (refused.name === "TransferRestricted" && refused.args !== undefined) {
      refused.message = await token.messageForTransferRestriction(refused.args.code);
    }
    printJson({ ...report, outcome: "refused", error: refused });
    return 1;
  }
});
