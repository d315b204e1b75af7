// Shared by the ethers v6 examples: command-line options, the deployment manifest munibond writes
// (deployments/<network>.json), a provider checked against the manifest's chain, and JSON output.
// SPDX-License-Identifier: Apache-2.0
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Contract, FetchRequest, JsonRpcProvider, Network, getAddress, isAddress } from "ethers";
import { bondSeriesAbi } from "@munibond/abi";

/** Bad input: the script prints one line and exits 2. */
export class UsageError extends Error {}

/** @typedef {Record<string, string | boolean | (string | boolean)[] | undefined>} Options */
/** @typedef {Record<string, {type: "string" | "boolean"}>} OptionSpec */

/**
 * The message of a thrown value (ethers' short message when it has one).
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  if (error instanceof Error) {
    const short = /** @type {{shortMessage?: string}} */ (error).shortMessage;
    return short ?? error.message;
  }
  return String(error);
}

/** @type {OptionSpec} */
const COMMON = {
  rpc: { type: "string" },
  manifest: { type: "string" },
  symbol: { type: "string" },
};

/**
 * Parses `--rpc URL --manifest PATH --symbol SYMBOL` plus the script's own options.
 * @param {string} usage one line naming the script's options
 * @param {OptionSpec} extra
 * @returns {Options}
 */
export function options(usage, extra = {}) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...COMMON, ...extra }, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${messageOf(error)}; usage: ${usage}`);
  }
  for (const name of Object.keys(COMMON)) {
    if (!values[name]) throw new UsageError(`--${name} is required; usage: ${usage}`);
  }
  return values;
}

/**
 * The series entry of `symbol` in a munibond deployment manifest.
 * @param {string} path
 * @param {string} symbol
 * @returns {{chainId: bigint, address: string, paymentAgent: string, startBlock: number, isin: string}}
 */
export function loadSeries(path, symbol) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const code = /** @type {{code?: string}} */ (error).code;
    throw new UsageError(`${path}: not a readable manifest (${code ?? messageOf(error)})`);
  }
  const entry = manifest.series?.[symbol];
  if (entry === undefined) {
    const known = Object.keys(manifest.series ?? {}).join(", ") || "none";
    throw new UsageError(`${path}: no series ${symbol} (deployed: ${known})`);
  }
  return {
    chainId: BigInt(manifest.chain_id),
    address: getAddress(entry.token),
    paymentAgent: getAddress(entry.payment_agent),
    startBlock: Number(entry.block),
    isin: entry.isin,
  };
}

/** @type {JsonRpcProvider[]} */
const providers = [];

/**
 * The chain id the node at `rpc` reports (one request, no retries).
 * @param {string} rpc
 * @returns {Promise<bigint>}
 */
async function nodeChainId(rpc) {
  let request;
  try {
    request = new FetchRequest(rpc);
  } catch (error) {
    throw new UsageError(`--rpc: ${rpc} is not a URL (${messageOf(error)})`);
  }
  request.body = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };
  request.setHeader("content-type", "application/json");
  request.retryFunc = async () => false;
  request.timeout = 10_000;
  try {
    const response = await request.send();
    response.assertOk();
    return BigInt(response.bodyJson.result);
  } catch (error) {
    throw new UsageError(`${rpc}: no JSON-RPC node answers (${messageOf(error)})`);
  }
}

/**
 * A provider on `rpc` whose chain is the manifest's, and the series contract (token, admin extension and
 * payment code at one address: bondSeriesAbi).
 * @param {Options} opts
 */
export async function connect(opts) {
  const series = loadSeries(String(opts.manifest), String(opts.symbol));
  const chainId = await nodeChainId(String(opts.rpc));
  if (chainId !== series.chainId) {
    throw new UsageError(`${opts.manifest} is for chain id ${series.chainId}, ${opts.rpc} is chain id ${chainId}`);
  }
  // A known, static network: ethers neither polls for it nor retries forever when the node goes away.
  const provider = new JsonRpcProvider(String(opts.rpc), Network.from(chainId), { staticNetwork: true });
  providers.push(provider);
  const token = new Contract(series.address, bondSeriesAbi, provider);
  return { provider, series, token };
}

/**
 * @param {string} value
 * @param {string} name
 */
export function address(value, name) {
  if (!isAddress(value)) throw new UsageError(`--${name}: ${value} is not an address`);
  return getAddress(value);
}

/**
 * A non-negative integer amount in the token's base units.
 * @param {string} value
 * @param {string} name
 */
export function amount(value, name) {
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${name}: ${value} is not a whole number of base units`);
  return BigInt(value);
}

/**
 * Prints `value` as JSON; bigints as decimal strings (exact, as every amount on chain).
 * @param {unknown} value
 */
export function printJson(value) {
  process.stdout.write(
    `${JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`,
  );
}

/**
 * ISO 8601 UTC of a Unix time.
 * @param {bigint | number} seconds
 */
export function isoTime(seconds) {
  return new Date(Number(seconds) * 1000).toISOString().replace(".000Z", "Z");
}

/**
 * Runs `body`; bad input exits 2 with one line, any other failure exits 1.
 * @param {() => Promise<number | void>} body
 */
export async function run(body) {
  try {
    const status = await body();
    process.exitCode = typeof status === "number" ? status : 0;
  } catch (error) {
    process.stderr.write(`error: ${messageOf(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  } finally {
    for (const provider of providers) provider.destroy();
  }
}
