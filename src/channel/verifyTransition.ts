import {
  ChannelFinalizedError,
  FinalFlagError,
  InsufficientFundsError,
  InvalidAmountError,
  InvalidSignatureError,
  RootMismatchError,
  SequenceMismatchError,
  StaleVersionError,
  TransferMismatchError,
  WrongChannelError,
} from "../errors";
import type { StateHasher } from "../crypto/hash";
import type { SignatureVerifier } from "../crypto/verifier";
import type { PaymentLog } from "../merkle/paymentLog";
import { ZERO_HASH, type Address, type Hex, type Payment, type State } from "../types";
import { LocksUnsupportedError } from "./errors";
import type { ProposedPayment } from "./messages";
import { balance, type Funds } from "./payouts";

/** What a transition is checked against. */
export interface TransitionContext {
  channelId: Hex;
  participants: readonly [Address, Address];
  hasher: StateHasher;
  verifier: SignatureVerifier;
  /** The log of `prev`'s payments: the transition's payments are appended to it (the caller truncates it on failure). */
  log: PaymentLog;
  /** With funds, each payment must be affordable on top of the ones before it. */
  funds?: Funds;
  /** The version rule, if stricter than "above `prev`" (throws). */
  checkVersion?(version: bigint): void;
  /** Whether `next` must be final (FinalFlagError otherwise); either if undefined. */
  isFinal?: boolean;
  /** A further check of each payment, in order, before the transfers are compared (throws). */
  checkItem?(item: ProposedPayment): void;
}

export const sameHex = (a: string, b: string) => a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());

/** True iff the state carries locks (this client does not make or accept them yet). */
export const hasLocks = (state: State): boolean => state.locked[0] !== 0n || state.locked[1] !== 0n || !sameHex(state.locksRoot, ZERO_HASH);

/**
 * Checks that `next` follows `prev` by exactly `payments`: same channel, a higher version, nothing
 * after a final state, no locks, each payment the next in the log with a non-zero amount (and
 * affordable, with `funds`; and passing `checkItem`), the transfers grown by exactly the payments, the root of the log with
 * them appended, and the signatures given in `sigs` (by participant; undefined is not checked).
 * Appends the payments to `ctx.log`; returns the state's digest. Used by the countersigner for a
 * proposal and by a resync for each state the peer offers.
 */
export async function verifyTransition(
  ctx: TransitionContext,
  prev: State,
  next: State,
  items: readonly { payment: Payment; request?: bigint }[],
  sigs: readonly [Hex | undefined, Hex | undefined],
): Promise<Buffer> {
  if (prev.isFinal) throw new ChannelFinalizedError(ctx.channelId);
  if (!sameHex(next.channelId, ctx.channelId)) throw new WrongChannelError(ctx.channelId, next.channelId);
  for (const { payment } of items) {
    if (!sameHex(payment.channelId, ctx.channelId)) throw new WrongChannelError(ctx.channelId, payment.channelId);
    if (payment.amount === 0n) throw new InvalidAmountError(payment.amount);
  }
  if (ctx.checkVersion) ctx.checkVersion(next.version);
  else if (next.version <= prev.version) throw new StaleVersionError(next.version, prev.version);
  if (ctx.isFinal !== undefined && next.isFinal !== ctx.isFinal) throw new FinalFlagError(ctx.isFinal);
  if (hasLocks(next)) throw new LocksUnsupportedError(next.version);
  const start = ctx.log.size;
  const expected: [bigint, bigint] = [prev.transferred[0], prev.transferred[1]];
  for (let i = 0; i < items.length; i++) {
    const payment = items[i].payment;
    const seq = BigInt(start + i);
    if (payment.seq !== seq) throw new SequenceMismatchError(seq, payment.seq);
    ctx.checkItem?.(items[i]);
    expected[payment.payer] += payment.amount;
  }
  if (next.transferred[0] !== expected[0] || next.transferred[1] !== expected[1]) throw new TransferMismatchError(expected, next.transferred);
  if (ctx.funds) {
    const running: [bigint, bigint] = [prev.transferred[0], prev.transferred[1]];
    for (const { payment } of items) {
      const available = balance(ctx.funds, { transferred: running, locked: prev.locked }, payment.payer);
      if (payment.amount > available) throw new InsufficientFundsError(payment.payer, payment.amount, available);
      running[payment.payer] += payment.amount;
    }
  }
  for (const { payment } of items) ctx.log.append(payment);
  const root = ctx.log.root;
  if (!sameHex(root, next.paymentsRoot)) throw new RootMismatchError(root, next.paymentsRoot);
  const digest = ctx.hasher.digest(next);
  for (const p of [0, 1] as const) {
    const sig = sigs[p];
    if (sig !== undefined) await checkSignature(ctx.verifier, ctx.participants[p], digest, sig);
  }
  return digest;
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
