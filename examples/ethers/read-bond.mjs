// (a) Reads a bond: name, symbol, ISIN, terms (ERC-7092 views) and the payment schedule, as JSON.
//   node read-bond.mjs --rpc URL --manifest deployments/<network>.json --symbol SYMBOL
// SPDX-License-Identifier: Apache-2.0
import { Contract } from "ethers";
import { connect, isoTime, options, printJson, run } from "./lib.mjs";

const ERC20 = ["function symbol() view returns (string)", "function decimals() view returns (uint8)"];
const COUPON_TYPES = ["zero coupon", "fixed", "floating"];
const DAY_COUNTS = ["actual/actual", "actual/360", "actual/365 fixed", "30/360"];

await run(async () => {
  const opts = options("read-bond.mjs --rpc URL --manifest PATH --symbol SYMBOL");
  const { provider, series, token } = await connect(opts);
  const [name, symbol, decimals, totalSupply, terms, periodCount] = await Promise.all([
    token.name(),
    token.symbol(),
    token.decimals(),
    token.totalSupply(),
    token.bondTerms(),
    token.periodCount(),
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
      couponRateBps: terms.couponRate,
      couponFrequency: terms.couponFrequency,
      couponType: COUPON_TYPES[Number(terms.couponType)] ?? Number(terms.couponType),
      issueDate: isoTime(terms.issueDate),
      maturityDate: isoTime(terms.maturityDate),
      dayCountBasis: DAY_COUNTS[Number(terms.dayCountBasis)] ?? Number(terms.dayCountBasis),
    },
    periods,
  });
});
