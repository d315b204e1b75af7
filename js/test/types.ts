// Type-level test, compiled by `tsc -p tsconfig.test.json` (no output, nothing runs): viem and abitype (which
// ethers v6 users apply to the same literals) must infer arguments and results from the generated ABIs. Each
// `@ts-expect-error` line is a wrong call; if inference were lost (an ABI typed as plain JSON or `Abi`), the
// line would compile, the directive would be unused and tsc would fail.
// SPDX-License-Identifier: Apache-2.0
import type { AbiParametersToPrimitiveTypes, Address, ExtractAbiError, ExtractAbiEvent, ExtractAbiFunction } from "abitype";
import type { ContractFunctionArgs, ContractFunctionReturnType, PublicClient } from "viem";
import { bondSeriesAbi, bondTokenAbi, iPaymentAgentAbi } from "../src/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

// abitype: balanceOf(address) -> uint256 as [Address] -> [bigint]
type BalanceOf = ExtractAbiFunction<typeof bondTokenAbi, "balanceOf">;
assertType<Equal<AbiParametersToPrimitiveTypes<BalanceOf["inputs"]>, readonly [Address]>>();
assertType<Equal<AbiParametersToPrimitiveTypes<BalanceOf["outputs"]>, readonly [bigint]>>();
// @ts-expect-error balanceOf returns a bigint, not a number
assertType<Equal<AbiParametersToPrimitiveTypes<BalanceOf["outputs"]>, readonly [number]>>();

// the merged series ABI answers token and payment functions at one address
type Restriction = ExtractAbiFunction<typeof bondSeriesAbi, "detectTransferRestriction">;
assertType<Equal<AbiParametersToPrimitiveTypes<Restriction["inputs"]>, readonly [Address, Address, bigint]>>();
assertType<Equal<AbiParametersToPrimitiveTypes<Restriction["outputs"]>, readonly [number]>>();
type Message = ExtractAbiFunction<typeof bondSeriesAbi, "messageForTransferRestriction">;
assertType<Equal<AbiParametersToPrimitiveTypes<Message["outputs"]>, readonly [string]>>();
type PeriodCount = ContractFunctionReturnType<typeof bondSeriesAbi, "view", "periodCount">;
assertType<Equal<PeriodCount, bigint>>();

// a struct result keeps its field names and types
type PeriodTerms = ContractFunctionReturnType<typeof bondSeriesAbi, "view", "periodTerms">;
assertType<Equal<PeriodTerms["couponNum"], bigint>>();
assertType<Equal<PeriodTerms["recordTime"], bigint>>();
assertType<Equal<ContractFunctionArgs<typeof iPaymentAgentAbi, "view", "periodTerms">, readonly [bigint]>>();

// events and custom errors carry typed fields
type PaymentMade = AbiParametersToPrimitiveTypes<ExtractAbiEvent<typeof bondSeriesAbi, "PaymentMade">["inputs"]>;
assertType<Equal<PaymentMade, readonly [bigint, Address, Address, bigint, bigint, number, readonly bigint[], bigint, bigint]>>();
type TransferRestricted = ExtractAbiError<typeof bondSeriesAbi, "TransferRestricted">;
assertType<Equal<AbiParametersToPrimitiveTypes<TransferRestricted["inputs"]>, readonly [number, Address, Address, bigint, bigint]>>();

// viem: readContract checks the function name and its arguments against the ABI, and types the result
declare const client: PublicClient;
declare const series: Address;
export async function calls(holder: Address): Promise<bigint> {
  const balance: bigint = await client.readContract({
    address: series,
    abi: bondSeriesAbi,
    functionName: "balanceOf",
    args: [holder],
  });
  const isin: string = await client.readContract({ address: series, abi: bondSeriesAbi, functionName: "isin" });
  // @ts-expect-error balanceOf takes an address, not a number
  await client.readContract({ address: series, abi: bondSeriesAbi, functionName: "balanceOf", args: [1n] });
  // @ts-expect-error no such function on a series
  await client.readContract({ address: series, abi: bondSeriesAbi, functionName: "balanceOff", args: [holder] });
  // @ts-expect-error isin returns a string
  const wrong: bigint = await client.readContract({ address: series, abi: bondSeriesAbi, functionName: "isin" });
  return balance + BigInt(isin.length) + wrong;
}
