/**
 * The rules of a state's updates (payments and lock updates), in one place: the sequencer checks
 * its own entries and participant 1's requests with them, the countersigner every proposal, and a
 * resync (structural part only: no policy, no funds) every state the peer offers.
 */
import { InsufficientFundsError, InvalidAmountError, InvalidArgumentError, SequenceMismatchError, ValueOutOfRangeError, WrongChannelError } from "../errors";
import { MAX_UINT256, MAX_UINT64, hashlockOf } from "../crypto/hash";
import { LocksTree } from "../merkle/locks";
import type { Hex, Lock, Payment } from "../types";
import {
  LockActorError,
  LockedValueCapError,
  LockExpiredError,
  LockExpiryError,
  LockNotExpiredError,
  SecretMismatchError,
  TooManyLocksError,
} from "./errors";
import type { LockUpdate, StateUpdate } from "./messages";
import { balance, type Funds } from "./payouts";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MAX_PENDING_LOCKS, DEFAULT_MIN_LOCK_WINDOW } from "./lockDefaults";

export const sameHex = (a: string, b: string) => a.length === b.length && (a === b || a.toLowerCase() === b.toLowerCase());

/**
 * What the lock rules read: the chain's time and secret registry, and the channel's caps. The node
 * passes `clock` = max(wall clock, latest block timestamp) and the adjudicator's
 * `secretRevealedAt`.
 */
export interface LockPolicy {
  /** Chain time in unix seconds. */
  clock(): bigint;
  /** When the secret of `hashlock` was first registered on chain (unix seconds), 0n if never. */
  secretRevealedAt(hashlock: Hex): bigint;
  /** The reveal window: a new lock expires at least this long after now, so that its receiver can register the secret on chain in time. */
  minLockWindow: bigint;
  /** A new lock expires at most this long after now. */
  maxLockDuration: bigint;
  /** Most locks pending in the channel at once (both senders). */
  maxPendingLocks: number;
  /** Most total value of the channel's pending locks (both senders). */
  maxLockedValue: bigint;
}

export { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MAX_PENDING_LOCKS, DEFAULT_MIN_LOCK_WINDOW };

/** The lock rules a node sets for itself (the rest of a LockPolicy comes from the chain). */
export type LockRuleSettings = Partial<Pick<LockPolicy, "minLockWindow" | "maxLockDuration" | "maxPendingLocks" | "maxLockedValue">>;

const wallClock = (): bigint => BigInt(Math.floor(Date.now() / 1000));

/** A policy from a partial one: defaults are the wall clock, a registry that knows no secret, the constants above and no value cap beyond uint256. */
export function lockPolicy(config: Partial<LockPolicy> = {}): LockPolicy {
  const policy: LockPolicy = {
    clock: config.clock ?? wallClock,
    secretRevealedAt: config.secretRevealedAt ?? (() => 0n),
    minLockWindow: config.minLockWindow ?? DEFAULT_MIN_LOCK_WINDOW,
    maxLockDuration: config.maxLockDuration ?? DEFAULT_MAX_LOCK_DURATION,
    maxPendingLocks: config.maxPendingLocks ?? DEFAULT_MAX_PENDING_LOCKS,
    maxLockedValue: config.maxLockedValue ?? MAX_UINT256,
  };
  const { minLockWindow, maxLockDuration, maxPendingLocks, maxLockedValue } = policy;
  if (typeof minLockWindow !== "bigint" || minLockWindow < 0n || minLockWindow > MAX_UINT64) throw new InvalidArgumentError("minLockWindow is a uint64 (seconds)");
  if (typeof maxLockDuration !== "bigint" || maxLockDuration < minLockWindow || maxLockDuration > MAX_UINT64) {
    throw new InvalidArgumentError("maxLockDuration is a uint64 (seconds), at least minLockWindow");
  }
  if (!Number.isSafeInteger(maxPendingLocks) || maxPendingLocks < 0) throw new InvalidArgumentError("maxPendingLocks is a non-negative integer");
  if (typeof maxLockedValue !== "bigint" || maxLockedValue < 0n || maxLockedValue > MAX_UINT256) throw new InvalidArgumentError("maxLockedValue is a uint256");
  return policy;
}

/** True iff the lock's secret was registered on chain at or before its expiry (then the lock pays its receiver, on chain too). */
export function revealedInTime(policy: LockPolicy, lock: Lock): boolean {
  const at = policy.secretRevealedAt(lock.hashlock);
  return at !== 0n && at <= lock.expiry;
}

/**
 * Who acts in an update, by the rule that participant 1's acts come with its request: a payment's
 * payer, a lock's and an expiry's sender, a cancel's receiver. An unlock may come from either (its
 * receiver claims, or its sender pays): the side that hands it in.
 */
export function actingParty(update: StateUpdate): 0 | 1 {
  switch (update.op) {
    case "pay":
      return update.payment.payer;
    case "lock":
    case "expire":
      return update.lock.sender;
    case "cancel":
      return update.lock.sender === 0 ? 1 : 0;
    case "unlock":
      return update.request === undefined ? 0 : 1;
  }
}

/** Throws LockActorError unless a lock update comes from the party who may make it (participant 1's with a request, 0's without). */
export function checkActingParty(update: LockUpdate): void {
  const by: 0 | 1 = update.request === undefined ? 0 : 1;
  const actor = actingParty(update);
  if (by !== actor) throw new LockActorError(update.op, by, actor);
}

/** Why a lock left the pending set. */
export type LockRemoval = "unlock" | "cancel" | "expire";

/** A lock a state removed, why, and the secret when it was unlocked. */
export interface RemovedLock {
  lock: Lock;
  reason: LockRemoval;
  secret?: Hex;
}

/** What `Draft` checks against. */
export interface DraftContext {
  channelId: Hex;
  /** With funds, every payment and lock must be affordable by its payer on top of the updates before it. */
  funds?: Funds;
  /** With a policy, the time and cap rules; without, the structural rules only (a resync of states both signed). */
  policy?: LockPolicy;
  /** The side that checks: the lock's sender refuses a late unlock. */
  me?: 0 | 1;
  /** The side that checks proposes: it also leaves out its own late unlock of the peer's lock, which the peer would refuse. */
  proposing?: boolean;
}

/**
 * The next state being built from the previous one, one update at a time: `apply` checks an update
 * against the rules and the updates before it, and applies it, or throws a typed error and changes
 * nothing. Payments (and unlock receipts) get consecutive `seq`s from `firstSeq` on.
 */
export class Draft {
  readonly transferred: [bigint, bigint];
  locks: LocksTree;
  /** The payments the updates added, in order: payments and unlocks' receipts. */
  readonly receipts: Payment[] = [];
  readonly added: Lock[] = [];
  readonly removed: RemovedLock[] = [];
  private now: bigint | undefined;

  constructor(
    private readonly ctx: DraftContext,
    transferred: readonly [bigint, bigint],
    locks: LocksTree,
    private readonly firstSeq: bigint,
  ) {
    this.transferred = [transferred[0], transferred[1]];
    this.locks = locks;
  }

  /** The `seq` the next payment or receipt gets. */
  get nextSeq(): bigint {
    return this.firstSeq + BigInt(this.receipts.length);
  }

  /** True iff the updates so far changed the pending locks. */
  get locksChanged(): boolean {
    return this.added.length > 0 || this.removed.length > 0;
  }

  /** Checks `update` on top of the updates before it and applies it; returns the payment it adds to the log, if any. */
  apply(update: StateUpdate): Payment | undefined {
    if (update.op === "pay") return this.pay(update.payment);
    const lock = update.lock;
    if (!sameHex(lock.channelId, this.ctx.channelId)) throw new WrongChannelError(this.ctx.channelId, lock.channelId);
    if (update.op === "lock") {
      this.lock(lock);
      return undefined;
    }
    const remaining = this.locks.without(lock);
    const policy = this.ctx.policy;
    if (update.op === "unlock") {
      if (!sameHex(hashlockOf(update.secret), lock.hashlock)) throw new SecretMismatchError(lock.hashlock);
      // The sender's rule for the receiver's claim (a sender handing in its own unlock pays of its own will); a
      // proposer also applies it to its own claim, which the peer would refuse.
      const handedBy = update.request === undefined ? 0 : 1;
      const checks = handedBy !== lock.sender && (this.ctx.me === lock.sender || (this.ctx.proposing === true && handedBy === this.ctx.me));
      if (policy && checks && this.time() > lock.expiry && !revealedInTime(policy, lock)) throw new LockExpiredError(lock.expiry, this.time());
      const total = this.transferred[lock.sender] + lock.amount;
      if (total > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${lock.sender}]`, total);
      const receipt: Payment = { channelId: this.ctx.channelId, seq: this.nextSeq, payer: lock.sender, amount: lock.amount, ref: lock.ref };
      this.transferred[lock.sender] = total;
      this.locks = remaining;
      this.receipts.push(receipt);
      this.removed.push({ lock, reason: "unlock", secret: update.secret });
      return receipt;
    }
    if (update.op === "expire" && policy && (this.time() <= lock.expiry || revealedInTime(policy, lock))) {
      throw new LockNotExpiredError(lock.expiry, this.time(), policy.secretRevealedAt(lock.hashlock));
    }
    this.locks = remaining;
    this.removed.push({ lock, reason: update.op });
    return undefined;
  }

  private pay(payment: Payment): Payment {
    if (!sameHex(payment.channelId, this.ctx.channelId)) throw new WrongChannelError(this.ctx.channelId, payment.channelId);
    if (payment.amount <= 0n) throw new InvalidAmountError(payment.amount);
    const seq = this.nextSeq;
    if (payment.seq !== seq) throw new SequenceMismatchError(seq, payment.seq);
    this.checkAffordable(payment.payer, payment.amount);
    const total = this.transferred[payment.payer] + payment.amount;
    if (total > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${payment.payer}]`, total);
    this.transferred[payment.payer] = total;
    this.receipts.push(payment);
    return payment;
  }

  private lock(lock: Lock): void {
    if (lock.amount <= 0n) throw new InvalidAmountError(lock.amount);
    const policy = this.ctx.policy;
    if (policy) {
      const now = this.time();
      const earliest = now + policy.minLockWindow;
      const latest = now + policy.maxLockDuration;
      if (lock.expiry < earliest || lock.expiry > latest) throw new LockExpiryError(lock.expiry, earliest, latest);
      if (this.locks.size >= policy.maxPendingLocks) throw new TooManyLocksError(policy.maxPendingLocks);
      const [a, b] = this.locks.locked;
      if (a + b + lock.amount > policy.maxLockedValue) throw new LockedValueCapError(a + b + lock.amount, policy.maxLockedValue);
    }
    this.checkAffordable(lock.sender, lock.amount);
    this.locks = this.locks.with(lock);
    this.added.push(lock);
  }

  private checkAffordable(payer: 0 | 1, amount: bigint): void {
    if (!this.ctx.funds) return;
    const available = balance(this.ctx.funds, { transferred: this.transferred, locked: this.locks.locked }, payer);
    if (amount > available) throw new InsufficientFundsError(payer, amount, available);
  }

  /** The chain's time, read once per draft: every update of one state is checked at the same instant. */
  private time(): bigint {
    this.now ??= this.ctx.policy!.clock();
    return this.now;
  }
}
