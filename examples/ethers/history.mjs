// (d) Replays the series' events from its deployment block (in the manifest) to the chain head and rebuilds:
//   - the holder register: Transfer events summed per wallet (every balance change of the token, mints, burns
//     and forced transfers included, emits one), wallets left with units only;
//   - the payment history: per period, the funding received (PeriodFunded), each payment (PaymentMade: coupon
//     and principal gross, tax withheld, net), escrowed entitlements (PaymentEscrowed) and bank payments the
//     payer recorded (OffchainPaymentRecorded), with totals.
// Amounts are decimal strings of base units (exact). Periods are 1-based, as the munibond CLI counts them.
//   node history.mjs --rpc URL --manifest PATH --symbol SYMBOL [--chunk BLOCKS]
// SPDX-License-Identifier: Apache-2.0
import { ZeroAddress } from "ethers";
import { UsageError, connect, options, printJson, run } from "./lib.mjs";

const EVENTS = ["Transfer", "PeriodFunded", "PaymentMade", "PaymentEscrowed", "OffchainPaymentRecorded"];

/**
 * @typedef {{holder: string, couponGross: bigint, principalGross: bigint, unitsRedeemed: bigint, block: number,
 *   txHash: string}} Entitlement
 * @typedef {{period: number, funded: bigint, payments: (Entitlement & {to: string, tax: bigint, net: bigint})[],
 *   escrowed: Entitlement[], offchain: (Entitlement & {reference: string})[]}} Period
 */

/**
 * Every log of `topics` at `address` in [from, to], `chunk` blocks per request (nodes cap a request's range).
 * @param {import("ethers").Provider} provider
 * @param {string} address
 * @param {string[]} topics any of these event topics
 * @param {number} from
 * @param {number} to
 * @param {number} chunk
 */
async function logsBetween(provider, address, topics, from, to, chunk) {
  const logs = [];
  for (let start = from; start <= to; start += chunk) {
    const end = Math.min(start + chunk - 1, to);
    logs.push(...(await provider.getLogs({ address, topics: [topics], fromBlock: start, toBlock: end })));
  }
  return logs;
}

/**
 * The entry of `index` (0-based on chain) in `map`, keyed 1-based.
 * @param {Map<number, Period>} map
 * @param {bigint} index
 * @returns {Period}
 */
function period(map, index) {
  const key = Number(index) + 1;
  if (!map.has(key)) {
    map.set(key, { period: key, funded: 0n, payments: [], escrowed: [], offchain: [] });
  }
  return /** @type {Period} */ (map.get(key));
}

/**
 * @template {string} K
 * @param {Record<K, bigint>[]} rows
 * @param {K} field
 */
function sum(rows, field) {
  return rows.reduce((total, row) => total + row[field], 0n);
}

await run(async () => {
  const opts = options("history.mjs --rpc URL --manifest PATH --symbol SYMBOL [--chunk BLOCKS]", {
    chunk: { type: "string" },
  });
  const chunk = Number(opts.chunk ?? "10000");
  if (!Number.isInteger(chunk) || chunk < 1) throw new UsageError(`--chunk: ${opts.chunk} is not a positive whole number`);
  const { provider, series, token } = await connect(opts);
  const head = await provider.getBlockNumber();
  const topics = EVENTS.map((name) => {
    const fragment = token.interface.getEvent(name);
    if (fragment === null) throw new Error(`the series ABI has no event ${name}`);
    return fragment.topicHash;
  });
  const logs = await logsBetween(provider, series.address, topics, series.startBlock, head, chunk);
  logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);

  /** @type {Map<string, bigint>} */
  const balances = new Map();
  /** @type {Map<number, Period>} */
  const periods = new Map();
  /** @type {(wallet: string, delta: bigint) => void} */
  const move = (wallet, delta) => {
    balances.set(wallet, (balances.get(wallet) ?? 0n) + delta);
  };
  for (const log of logs) {
    const event = token.interface.parseLog(log);
    if (event === null) throw new Error(`log ${log.index} of block ${log.blockNumber} is not a series event`);
    const a = event.args;
    const at = { block: log.blockNumber, txHash: log.transactionHash };
    switch (event.name) {
      case "Transfer": {
        const units = /** @type {bigint} */ (a.value);
        if (a.from !== ZeroAddress) move(a.from, -units);
        if (a.to !== ZeroAddress) move(a.to, units);
        break;
      }
      case "PeriodFunded":
        period(periods, a.period).funded += a.amount;
        break;
      case "PaymentMade": {
        const tax = a.taxes.reduce((/** @type {bigint} */ total, /** @type {bigint} */ t) => total + t, 0n);
        period(periods, a.period).payments.push({
          holder: a.holder,
          to: a.to,
          couponGross: a.couponGross,
          principalGross: a.principalGross,
          tax,
          net: a.net,
          unitsRedeemed: a.unitsRedeemed,
          ...at,
        });
        break;
      }
      case "PaymentEscrowed":
        period(periods, a.period).escrowed.push({
          holder: a.holder,
          couponGross: a.couponGross,
          principalGross: a.principalGross,
          unitsRedeemed: a.unitsRedeemed,
          ...at,
        });
        break;
      case "OffchainPaymentRecorded":
        period(periods, a.period).offchain.push({
          holder: a.holder,
          couponGross: a.couponGross,
          principalGross: a.principalGross,
          unitsRedeemed: a.unitsRedeemed,
          reference: a.paymentReference,
          ...at,
        });
        break;
      default:
        throw new Error(`unexpected event ${event.name}`);
    }
  }

  const holders = [...balances.entries()]
    .filter(([, units]) => units !== 0n)
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
    .map(([wallet, units]) => ({ wallet, units }));
  const history = [...periods.values()]
    .sort((a, b) => a.period - b.period)
    .map((p) => ({
      ...p,
      totals: {
        couponGross: sum(p.payments, "couponGross"),
        principalGross: sum(p.payments, "principalGross"),
        tax: sum(p.payments, "tax"),
        net: sum(p.payments, "net"),
        escrowedGross: sum(p.escrowed, "couponGross") + sum(p.escrowed, "principalGross"),
        offchainGross: sum(p.offchain, "couponGross") + sum(p.offchain, "principalGross"),
      },
    }));
  printJson({
    address: series.address,
    symbol: String(opts.symbol),
    fromBlock: series.startBlock,
    toBlock: head,
    holders,
    totalUnits: holders.reduce((total, h) => total + h.units, 0n),
    payments: history,
  });
});
