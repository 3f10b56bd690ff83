/**
 * Errors of the channel state machine beyond the shared ones of src/errors.ts: the v2 additions
 * this client handles (locks it refuses for now, withdrawals while the channel stays open).
 */
import { InsufficientFundsError, SluiceError } from "../errors";

/**
 * A state carries locks (`locked` or `locksRoot` not zero). This client makes and accepts no
 * hashlocked transfers yet, so it refuses to sign such a state; nothing changed.
 */
export class LocksUnsupportedError extends SluiceError {
  static override readonly code: string = "LOCKS_UNSUPPORTED";
  override readonly name: string = "LocksUnsupportedError";

  constructor(readonly version: bigint) {
    super(`state version ${version} carries locks, which this client does not handle yet`);
  }
}

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
