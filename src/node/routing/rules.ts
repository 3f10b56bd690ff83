/**
 * The arithmetic of routing, pure: a hub's fee, the terms it forwards a lock on (or the rule the
 * lock breaks), and a payer's plan of the amounts and expiries along a route.
 */
import type { Address } from "../../types";
import type { RouteHop } from "../protocol";
import { ForwardExpiryError, ForwardFeeTooLowError } from "./errors";

/** A hub's fees: `base` base units per forward plus `ppm` millionths of the amount forwarded. */
export interface HubFees {
  base: bigint;
  ppm: number;
}

const MILLION = 1_000_000n;

/** The fee a hub charges to forward `amount`: `base + amount * ppm / 1e6`, rounded down. */
export function forwardFee(fees: HubFees, amount: bigint): bigint {
  return fees.base + (amount * BigInt(fees.ppm)) / MILLION;
}

export interface ForwardInput {
  /** The incoming lock's amount and expiry. */
  amountIn: bigint;
  expiryIn: bigint;
  /** The hub's instruction for this lock. */
  hop: RouteHop;
  fees: HubFees;
  /** The lock rules' clock and reveal window. */
  now: bigint;
  revealWindow: bigint;
}

export interface ForwardTerms {
  amountOut: bigint;
  /** What the hub keeps: incoming minus outgoing (at least its fee). */
  fee: bigint;
  expiryOut: bigint;
}

/**
 * The outgoing lock's terms: the instruction's amount, if the incoming lock pays it plus the fee;
 * expiring a reveal window before the incoming lock (or at the instruction's expiry if earlier),
 * and no sooner than a reveal window from now. Throws the rule broken.
 */
export function forwardTerms(input: ForwardInput): ForwardTerms {
  const { amountIn, expiryIn, hop, fees, now, revealWindow } = input;
  const fee = forwardFee(fees, hop.amount);
  if (amountIn < hop.amount + fee) throw new ForwardFeeTooLowError(amountIn, hop.amount, fee);
  let expiryOut = expiryIn - revealWindow;
  if (hop.expiry !== undefined && hop.expiry < expiryOut) expiryOut = hop.expiry;
  if (expiryOut < now + revealWindow) throw new ForwardExpiryError(expiryOut, now + revealWindow);
  return { amountOut: hop.amount, fee: amountIn - hop.amount, expiryOut };
}

export interface PlanInput {
  /**
   * The hubs in order, with their fees and, as each published them, its reveal window (it forwards
   * a lock that much before the incoming one expires) and the longest lock it takes; a hub that
   * published none keeps the payer's.
   */
  hubs: readonly { address: Address; fees: HubFees; lockWindow?: bigint; maxLockDuration?: bigint }[];
  /** The payee (the last hop's next). */
  payee: Address;
  /** What the payee must receive (the invoice's amount). */
  amount: bigint;
  invoiceExpiry: bigint;
  now: bigint;
  /** The payer's own lock rules (taken for the payee too, whose rules it can't know). */
  revealWindow: bigint;
  maxLockDuration: bigint;
  /** Kept from each edge of the window: the peers' clocks may be a little ahead. */
  margin: bigint;
}

export interface RoutePlan {
  /** The payer's lock to the first hub. */
  amount: bigint;
  expiry: bigint;
  /** The first hub's instruction: its own forward first, then the rest. */
  hops: RouteHop[];
  /** The fees the hubs take, together. */
  fees: bigint;
}

/**
 * The amounts (from the payee back: each hub's incoming = outgoing + its fee) and the payer's
 * expiry: as late as every node's lock rules allow, each hub's reveal window above the lock it
 * forwards, the payee's lock ending at the invoice's expiry at the latest. Each lock along the way
 * expires within its receiver's longest lock from now, and each hub's outgoing lock no sooner than
 * its window from now (the payee's: the payer's window), plus margin. Undefined if no expiry fits.
 */
export function planRoute(input: PlanInput): RoutePlan | undefined {
  const { hubs, payee, amount, now, revealWindow, margin } = input;
  const hops: RouteHop[] = [];
  let carried = amount;
  for (let i = hubs.length - 1; i >= 0; i--) {
    hops.unshift({ next: i === hubs.length - 1 ? payee : hubs[i + 1].address, amount: carried });
    carried += forwardFee(hubs[i].fees, carried);
  }
  // The payer's lock at `expiry`; hub i receives it less the windows of the hubs before it.
  const windows = hubs.map((hub) => hub.lockWindow ?? revealWindow);
  let span = 0n;
  let expiry = now + input.maxLockDuration - margin;
  hubs.forEach((hub, i) => {
    const longest = now + (hub.maxLockDuration ?? input.maxLockDuration) - margin + span;
    if (longest < expiry) expiry = longest;
    span += windows[i];
  });
  // The payee's lock ends by the invoice's expiry (and within the payer's longest lock, as the payer's own does).
  if (input.invoiceExpiry + span < expiry) expiry = input.invoiceExpiry + span;
  // Hub i's outgoing lock is the payee's plus the windows of the hubs after it: each must clear its own window.
  let need = revealWindow;
  let later = 0n;
  for (let i = hubs.length - 1; i >= 0; i--) {
    if (windows[i] - later > need) need = windows[i] - later;
    later += windows[i];
  }
  if (expiry - span < now + need + margin) return undefined;
  return { amount: carried, expiry, hops, fees: carried - amount };
}
