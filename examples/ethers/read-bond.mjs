// (a) Reads a bond: name, symbol, ISIN, terms (ERC-7092 views) and the payment schedule, as JSON.
//   node read-bond.mjs --rpc URL --manifest deployments/<network>.json --symbol SYMBOL
// SPDX-License-Identifier: Apache-2.0
import { Contract } from "ethers";
import { connect, isoTime, options, printJson, run } from "./lib.mjs";

const ERC20 = ["function symbol() view returns (string)", "function decimals() view returns (uint8)"];
const COUPON_TYPES = ["zero coupon", "fixed", "floating"];
const DAY_COUNTS = ["ACT/ACT-ICMA", "ACT/360", "ACT/365F", "30/360", "ACT/ACT-ISDA", "NL/365", "30E/360"];

/** dayCountBasis: the regular periods' convention in the low 4 bits, the stubs' code + 1 above (0: same). */
function dayCountName(/** @type {bigint} */ basis) {
  const regular = Number(basis & 15n);
  const stub = Number(basis >> 4n);
  const name = DAY_COUNTS[regular] ?? String(regular);
  return stub === 0 ? name : `${name} with ${DAY_COUNTS[stub - 1] ?? String(stub - 1)} stubs`;
}

/** The rate as an exact percent string: couponRate / scale * 100 ("0.455" for 0.455 %). */
function percent(/** @type {bigint} */ scaled, /** @type {bigint} */ scale) {
  const hundredths = scale / 100n; // 10^6 for the 10^8 scale: one percent
  const whole = scaled / hundredths;
  const rest = (scaled % hundredths).toString().padStart(hundredths.toString().length - 1, "0").replace(/0+$/, "");
  return rest ? `${whole}.${rest}` : `${whole}`;
}

await run(async () => {
  const opts = options("read-bond.mjs --rpc URL --manifest PATH --symbol SYMBOL");
  const { provider, series, token } = await connect(opts);
  const [name, symbol, decimals, totalSupply, terms, periodCount, rateScale] = await Promise.all([
    token.name(),
    token.symbol(),
    token.decimals(),
    token.totalSupply(),
    token.bondTerms(),
    token.periodCount(),
    token.COUPON_RATE_SCALE(),
  ]);
  const cash = new Contract(await token.paymentToken(), ERC20, provider);
  const periods = [];
  for (let i = 0n; i < periodCount; i++) {
    const [t, state] = await Promise.all([token.periodTerms(i), token.periodState(i)]);
    periods.push({
      period: Number(i) + 1, // 1-based, as the munibond CLI and the term sheet count them
      recordTime: isoTime(t.recordTime),
      paymentTime: isoTime(t.paymentTime),
      couponPerUnit: `${t.couponNum}/${t.couponDen}`,
      principalPerUnit: `${t.principalNum}/${t.principalDen}`,
      retiredFraction: `${t.redeemNum}/${t.redeemDen}`,
      cancelled: state.cancelled,
      defaulted: state.defaulted,
      closed: state.closed,
    });
  }
  printJson({
    address: series.address,
    name,
    symbol,
    decimals: Number(decimals),
    isin: terms.isin,
    totalSupply,
    terms: {
      currency: terms.currency,
      paymentToken: { address: await cash.getAddress(), symbol: await cash.symbol(), decimals: Number(await cash.decimals()) },
      denomination: terms.denomination,
      issueVolume: terms.issueVolume,
      couponRate: `${terms.couponRate}/${rateScale}`, // exact: the annual rate as a fraction
      couponRatePercent: percent(terms.couponRate, rateScale),
      couponFrequency: terms.couponFrequency,
      couponType: COUPON_TYPES[Number(terms.couponType)] ?? Number(terms.couponType),
      issueDate: isoTime(terms.issueDate),
      maturityDate: isoTime(terms.maturityDate),
      dayCountBasis: dayCountName(terms.dayCountBasis),
    },
    periods,
  });
});
