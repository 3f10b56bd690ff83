/**
 * EIP-1559 fees of the node's transactions: what to bid at first, and what a replacement bids.
 * A node accepts a replacement (same nonce) only when both fees rise by at least 10 % (geth's
 * txpool price bump; anvil and reth the same); 12.5 % leaves a margin and is what a block's base
 * fee can rise by, so a bumped transaction keeps up with a rising base fee.
 */
import { FeeCapExceededError } from "./errors";

export interface Fees {
  /** Wei per gas at most (base fee + tip). */
  maxFeePerGas: bigint;
  /** Wei per gas to the block's producer at most. */
  maxPriorityFeePerGas: bigint;
}

/** What the chain asks now: the latest block's base fee and the tip the node suggests. */
export interface Market {
  baseFee: bigint;
  tip: bigint;
}


/** Fees of a first attempt: twice the base fee plus the tip (room for six full blocks), at most `cap`; refused when base fee + tip is above it. */
export function initialFees(market: Market, cap: bigint, what: string): Fees {
  const needed = market.baseFee + market.tip;
  if (needed > cap) throw new FeeCapExceededError(what, needed, cap);
  const maxFeePerGas = min(2n * market.baseFee + market.tip, cap);
  return { maxFeePerGas, maxPriorityFeePerGas: min(market.tip, maxFeePerGas) };
}

/** The least a replacement of `fees` must bid on each: +12.5 %, rounded up. */
export function minimumBump(fees: Fees): Fees {
  return { maxFeePerGas: plusEighth(fees.maxFeePerGas), maxPriorityFeePerGas: plusEighth(fees.maxPriorityFeePerGas) };
}

/**
 * The fees of a replacement of `fees`: at least +12.5 % on both and at least what the market asks
 * now, never above `cap`; `urgent` (a dispute answer near its deadline) bids the cap on both.
 * Undefined when the cap leaves no room for a replacement the chain would accept.
 */
export function bumpedFees(fees: Fees, market: Market, cap: bigint, urgent: boolean): Fees | undefined {
  const least = minimumBump(fees);
  const wanted: Fees = urgent
    ? { maxFeePerGas: cap, maxPriorityFeePerGas: cap }
    : { maxFeePerGas: max(least.maxFeePerGas, 2n * market.baseFee + market.tip), maxPriorityFeePerGas: max(least.maxPriorityFeePerGas, market.tip) };
  const maxFeePerGas = min(wanted.maxFeePerGas, cap);
  const maxPriorityFeePerGas = min(wanted.maxPriorityFeePerGas, maxFeePerGas);
  if (maxFeePerGas < least.maxFeePerGas || maxPriorityFeePerGas < least.maxPriorityFeePerGas) return undefined;
  return { maxFeePerGas, maxPriorityFeePerGas };
}

function plusEighth(value: bigint): bigint {
  return value + (value + 7n) / 8n;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
