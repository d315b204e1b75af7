// (b) Asks the token whether a transfer would pass its compliance checks, without sending anything:
// detectTransferRestriction (ERC-1404 style code, 0 = allowed) and messageForTransferRestriction.
//   node check-transfer.mjs --rpc URL --manifest PATH --symbol SYMBOL --from ADDRESS --to ADDRESS --amount UNITS
// SPDX-License-Identifier: Apache-2.0
import { address, amount, connect, options, printJson, run } from "./lib.mjs";

await run(async () => {
  const opts = options(
    "check-transfer.mjs --rpc URL --manifest PATH --symbol SYMBOL --from ADDRESS --to ADDRESS --amount UNITS",
    { from: { type: "string" }, to: { type: "string" }, amount: { type: "string" } },
  );
  const from = address(String(opts.from ?? ""), "from");
  const to = address(String(opts.to ?? ""), "to");
  const units = amount(String(opts.amount ?? ""), "amount");
  const { token } = await connect(opts);
  const code = Number(await token.detectTransferRestriction(from, to, units));
  printJson({
    from,
    to,
    amount: units,
    allowed: code === 0,
    code,
    message: await token.messageForTransferRestriction(code),
  });
});
