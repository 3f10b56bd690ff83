import {
  ChannelFinalizedError,
  FinalFlagError,
  InvalidAmountError,
  InvalidSignatureError,
  RootMismatchError,
  StaleVersionError,
  TransferMismatchError,
  WrongChannelError,
} from "../errors";
import type { StateHasher } from "../crypto/hash";
import type { SignatureVerifier } from "../crypto/verifier";
import type { LocksTree } from "../merkle/locks";
import type { PaymentLog } from "../merkle/paymentLog";
import { type Address, type Hex, type State } from "../types";
import { LockedMismatchError, LocksPendingError, LocksRootMismatchError } from "./errors";
import type { StateUpdate } from "./messages";
import type { Funds } from "./payouts";
import { Draft, sameHex, type LockPolicy } from "./updates";

export { sameHex };

/** What a transition is checked against. */
export interface TransitionContext {
  channelId: Hex;
  participants: readonly [Address, Address];
  hasher: StateHasher;
  verifier: SignatureVerifier;
  /** The log of `prev`'s payments: the transition's payments are appended to it (the caller truncates it on failure). */
  log: PaymentLog;
  /** The pending locks of `prev`. */
  locks: LocksTree;
  /** With funds, each payment and lock must be affordable on top of the updates before it. */
  funds?: Funds;
  /** With a policy, the lock rules that depend on time and caps (see `Draft`); the side that checks is `me`. */
  policy?: LockPolicy;
  me?: 0 | 1;
  /** The version rule, if stricter than "above `prev`" (throws). */
  checkVersion?(version: bigint): void;
  /** Whether `next` must be final (FinalFlagError otherwise); either if undefined. */
  isFinal?: boolean;
  /** A further check of each update, in order, before it is applied (throws). */
  checkItem?(update: StateUpdate): void;
}

/** A checked transition: the next state's digest and what its updates did (the draft: receipts, pending locks, lock changes). */
export interface CheckedTransition {
  digest: Buffer;
  draft: Draft;
}

/**
 * Checks that `next` follows `prev` by exactly `updates` (see `Draft` for each update's rules): same
 * channel, a higher version, nothing after a final state, a final state without pending locks,
 * the transfers, `locked` and `locksRoot` those the updates leave, the payments root of the log
 * with their payments appended, and the signatures given in `sigs` (by participant; undefined is
 * not checked). Appends the payments to `ctx.log`. Used by the countersigner for a proposal and
 * by a resync for each state the peer offers.
 */
export async function verifyTransition(
  ctx: TransitionContext,
  prev: State,
  next: State,
  updates: readonly StateUpdate[],
  sigs: readonly [Hex | undefined, Hex | undefined],
): Promise<CheckedTransition> {
  if (prev.isFinal) throw new ChannelFinalizedError(ctx.channelId);
  if (!sameHex(next.channelId, ctx.channelId)) throw new WrongChannelError(ctx.channelId, next.channelId);
  for (const update of updates) {
    const item = update.op === "pay" ? update.payment : update.lock;
    if (!sameHex(item.channelId, ctx.channelId)) throw new WrongChannelError(ctx.channelId, item.channelId);
    if (item.amount === 0n) throw new InvalidAmountError(item.amount);
  }
  if (ctx.checkVersion) ctx.checkVersion(next.version);
  else if (next.version <= prev.version) throw new StaleVersionError(next.version, prev.version);
  if (ctx.isFinal !== undefined && next.isFinal !== ctx.isFinal) throw new FinalFlagError(ctx.isFinal);
  const draft = new Draft({ channelId: ctx.channelId, funds: ctx.funds, policy: ctx.policy, me: ctx.me }, prev.transferred, ctx.locks, BigInt(ctx.log.size));
  for (const update of updates) {
    ctx.checkItem?.(update);
    draft.apply(update);
  }
  const expected = draft.transferred;
  if (next.transferred[0] !== expected[0] || next.transferred[1] !== expected[1]) throw new TransferMismatchError(expected, next.transferred);
  if (next.isFinal && draft.locks.size > 0) throw new LocksPendingError(draft.locks.size);
  const locked = draft.locks.locked;
  if (next.locked[0] !== locked[0] || next.locked[1] !== locked[1]) throw new LockedMismatchError(locked, next.locked);
  const locksRoot = draft.locks.root;
  if (!sameHex(locksRoot, next.locksRoot)) throw new LocksRootMismatchError(locksRoot, next.locksRoot);
  for (const payment of draft.receipts) ctx.log.append(payment);
  const root = ctx.log.root;
  if (!sameHex(root, next.paymentsRoot)) throw new RootMismatchError(root, next.paymentsRoot);
  const digest = ctx.hasher.digest(next);
  for (const p of [0, 1] as const) {
    const sig = sigs[p];
    if (sig !== undefined) await checkSignature(ctx.verifier, ctx.participants[p], digest, sig);
  }
  return { digest, draft };
}

/** Throws InvalidSignatureError unless `sig` is `signer`'s signature of `digest`. */
export async function checkSignature(verifier: SignatureVerifier, signer: Address, digest: Buffer, sig: Hex, what?: string): Promise<void> {
  let valid: boolean;
  try {
    valid = await verifier.verify(signer, digest, sig);
  } catch (cause) {
    throw new InvalidSignatureError(signer, "the verifier failed", { cause });
  }
  if (!valid) throw new InvalidSignatureError(signer, what);
}
