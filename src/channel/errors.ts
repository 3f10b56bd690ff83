/**
 * Errors of the channel state machine beyond the shared ones of src/errors.ts: the v2 additions
 * this client handles (hashlocked updates, withdrawals while the channel stays open).
 */
import { InsufficientFundsError, RootMismatchError, SluiceError } from "../errors";

/** This side's withdrawal of cumulative `total` still waits for the peer's countersignature. */
export class WithdrawalPendingError extends SluiceError {
  static override readonly code: string = "WITHDRAWAL_PENDING";
  override readonly name: string = "WithdrawalPendingError";

  constructor(readonly total: bigint) {
    super(`a withdrawal (cumulative total ${total}) still waits for the peer's countersignature`);
  }
}

/** A withdrawal names another participant than the one who may ask for it. */
export class WithdrawalParticipantError extends SluiceError {
  static override readonly code: string = "WITHDRAWAL_PARTICIPANT";
  override readonly name: string = "WithdrawalParticipantError";

  constructor(
    readonly expected: 0 | 1,
    readonly actual: number,
  ) {
    super(`a withdrawal for participant ${actual}: only participant ${expected} may ask for its own`);
  }
}

/**
 * A withdrawal's cumulative total is not above what the participant has withdrawn or signed to
 * withdraw already (`base`): it would pay nothing, or undo a withdrawal both signed.
 */
export class WithdrawalTotalError extends SluiceError {
  static override readonly code: string = "WITHDRAWAL_TOTAL";
  override readonly name: string = "WithdrawalTotalError";

  constructor(
    readonly total: bigint,
    readonly base: bigint,
  ) {
    super(`withdrawal total ${total} must be above ${base}, what was withdrawn or signed to be withdrawn before`);
  }
}

/** A withdrawal's expiry is not in the window this side countersigns: after `after`, at most `latest`. */
export class WithdrawalExpiryError extends SluiceError {
  static override readonly code: string = "WITHDRAWAL_EXPIRY";
  override readonly name: string = "WithdrawalExpiryError";

  constructor(
    readonly expiry: bigint,
    readonly after: bigint,
    readonly latest: bigint,
  ) {
    super(`withdrawal expiry ${expiry} is not after ${after} and at most ${latest}`);
  }
}

/** A countersignature for a withdrawal this side has not proposed (or no longer waits for). */
export class UnknownWithdrawalError extends SluiceError {
  static override readonly code: string = "UNKNOWN_WITHDRAWAL";
  override readonly name: string = "UnknownWithdrawalError";

  constructor(readonly total: bigint) {
    super(`no withdrawal of cumulative total ${total} waits for a countersignature`);
  }
}

/**
 * A withdrawal above what its participant can take out: its balance less its pending payments and
 * the withdrawals it signed that are not executed yet. An `InsufficientFundsError` (same code).
 */
export class WithdrawalExceedsBalanceError extends InsufficientFundsError {
  static override readonly code: string = InsufficientFundsError.code;
  constructor(participant: 0 | 1, amount: bigint, available: bigint) {
    super(participant, amount, available);
    this.message = `participant ${participant} can't withdraw ${amount}: only ${available} available (its balance less pending payments and withdrawals)`;
  }
}

// ------------------------------------------------------------------ hashlocked updates

/** A lock's expiry is outside the window this side accepts: at least `earliest` (now + the reveal window), at most `latest`. */
export class LockExpiryError extends SluiceError {
  static override readonly code: string = "LOCK_EXPIRY";
  override readonly name: string = "LockExpiryError";

  constructor(
    readonly expiry: bigint,
    readonly earliest: bigint,
    readonly latest: bigint,
  ) {
    super(`lock expiry ${expiry} is not in [${earliest}, ${latest}] (now + the reveal window, now + the longest lock duration)`);
  }
}

/** A lock would take the channel's pending locks above the cap on their number (`maxPendingLocks`). */
export class TooManyLocksError extends SluiceError {
  static override readonly code: string = "TOO_MANY_LOCKS";
  override readonly name: string = "TooManyLocksError";

  constructor(readonly max: number) {
    super(`the channel already has ${max} pending locks, the most it takes`);
  }
}

/** A lock would take the total value of the channel's pending locks (both senders) above the cap (`maxLockedValue`). */
export class LockedValueCapError extends SluiceError {
  static override readonly code: string = "LOCKED_VALUE_CAP";
  override readonly name: string = "LockedValueCapError";

  constructor(
    readonly total: bigint,
    readonly cap: bigint,
  ) {
    super(`pending locks would total ${total}, above the cap of ${cap}`);
  }
}

/** An unlock's secret does not hash (sha256) to the lock's hashlock. */
export class SecretMismatchError extends SluiceError {
  static override readonly code: string = "SECRET_MISMATCH";
  override readonly name: string = "SecretMismatchError";

  constructor(readonly hashlock: string) {
    super(`the secret's sha256 is not the lock's hashlock ${hashlock}`);
  }
}

/**
 * The lock's sender refuses an unlock after the lock's expiry (`now`), its secret not revealed on
 * chain at or before the expiry: the lock is its own again (it expires it instead).
 */
export class LockExpiredError extends SluiceError {
  static override readonly code: string = "LOCK_EXPIRED";
  override readonly name: string = "LockExpiredError";

  constructor(
    readonly expiry: bigint,
    readonly now: bigint,
  ) {
    super(`the lock expired at ${expiry} (now ${now}) and its secret was not revealed on chain by then`);
  }
}

/** An expire of a lock that may still be paid: its expiry (`expiry`) not passed at `now`, or its secret revealed on chain in time (`revealedAt`). */
export class LockNotExpiredError extends SluiceError {
  static override readonly code: string = "LOCK_NOT_EXPIRED";
  override readonly name: string = "LockNotExpiredError";

  constructor(
    readonly expiry: bigint,
    readonly now: bigint,
    readonly revealedAt: bigint,
  ) {
    super(
      revealedAt !== 0n && revealedAt <= expiry
        ? `the lock's secret was revealed on chain at ${revealedAt}, by its expiry ${expiry}: it can't expire`
        : `the lock expires at ${expiry}, not before now (${now})`,
    );
  }
}

/**
 * A lock update made or asked for by a party that may not make it: a lock and its expiry are its
 * sender's acts, a cancel its receiver's; participant 1's acts come with its request, participant
 * 0's without one.
 */
export class LockActorError extends SluiceError {
  static override readonly code: string = "LOCK_ACTOR";
  override readonly name: string = "LockActorError";

  constructor(
    readonly op: string,
    readonly participant: 0 | 1,
    readonly expected: 0 | 1,
  ) {
    super(`participant ${participant} can't ${op} this lock: only participant ${expected} may`);
  }
}

/** A final state while locks are pending (`count`): unlock, cancel or expire them first. */
export class LocksPendingError extends SluiceError {
  static override readonly code: string = "LOCKS_PENDING";
  override readonly name: string = "LocksPendingError";

  constructor(readonly count: number) {
    super(`${count} lock(s) pending: a final state carries none (unlock, cancel or expire them first)`);
  }
}

/** A state's `locked` is not the per-sender sum of the pending locks its updates leave. */
export class LockedMismatchError extends SluiceError {
  static override readonly code: string = "LOCKED_MISMATCH";
  override readonly name: string = "LockedMismatchError";

  constructor(
    readonly expected: readonly [bigint, bigint],
    readonly actual: readonly [bigint, bigint],
  ) {
    super(`locked should be [${expected[0]}, ${expected[1]}], the state says [${actual[0]}, ${actual[1]}]`);
  }
}

/** A state's `locksRoot` is not the root of the pending locks its updates leave. A `RootMismatchError` (same code). */
export class LocksRootMismatchError extends RootMismatchError {
  static override readonly code: string = RootMismatchError.code;
  constructor(expected: string, actual: string) {
    super(expected, actual);
    this.message = `locks root ${actual} should be ${expected}`;
  }
}
