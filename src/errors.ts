import { formatHumanAmount, type AssetUnit } from "./humanText";

/**
 * Every error Sluice throws is a `SluiceError`; each failure a caller can act on has its own
 * subclass, so callers catch by class rather than by message.
 *
 * Each class declares its stable code (`static override readonly code`), which the local API and
 * the peer protocol report: renaming a class changes no code. test/errors/codes.test.ts checks
 * that every exported class declares its own, that no two share one unless listed there, and that
 * docs/api.md documents every one.
 */
export class SluiceError extends Error {
  static readonly code: string = "SLUICE";
  override readonly name: string = "SluiceError";
  /**
   * This error's code: its class's code, unless the error carries one from elsewhere (the code a
   * peer sent, `TransportError`; the API's reply, `ApiError`; the CLI's, `CliError`).
   */
  readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = (new.target).code;
  }
}

/** The code of the error's class (`error.code` may carry another's: see `SluiceError.code`). */
export function codeOf(error: SluiceError): string {
  return (error.constructor as typeof SluiceError).code;
}

// ------------------------------------------------------------------ configuration and input

/** A constructor or function was given arguments that can't work (wrong key, bad index, ...). */
export class InvalidArgumentError extends SluiceError {
  static override readonly code: string = "INVALID_ARGUMENT";
  override readonly name: string = "InvalidArgumentError";
}

/** An untrusted message does not have the expected shape; `path` names the offending field. */
export class MalformedMessageError extends SluiceError {
  static override readonly code: string = "MALFORMED_MESSAGE";
  override readonly name: string = "MalformedMessageError";

  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`malformed message: ${path}: ${problem}`);
  }
}

/** An asset address that is not an ERC-20 token on this chain (no contract there, or no `symbol()`/`decimals()`). */
export class NotATokenError extends InvalidArgumentError {
  static override readonly code: string = "NOT_A_TOKEN";
  override readonly name: string = "NotATokenError";

  constructor(
    readonly asset: string,
    /** Why: no contract at the address, or one that does not answer `symbol()` and `decimals()`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${asset} is not an ERC-20 token on this chain: ${reason}; give the token's contract address, or ETH's (0x${"0".repeat(40)})`, options);
  }
}

// ------------------------------------------------------------------ the node's wallet

/**
 * The node's wallet holds less of the asset than an open or a deposit needs. Checked before the
 * peer is asked or a transaction sent: nothing changed.
 */
export class WalletBalanceError extends SluiceError {
  static override readonly code: string = "WALLET_BALANCE_TOO_LOW";
  override readonly name: string = "WalletBalanceError";

  constructor(
    readonly wallet: string,
    readonly asset: string,
    readonly amount: bigint,
    readonly balance: bigint,
    unit: AssetUnit & { isEth: boolean },
    action: "open" | "deposit",
  ) {
    const human = (value: bigint) => formatHumanAmount(value, unit);
    const doing = action === "open" ? "opening with" : "depositing";
    const gas = unit.isEth ? " plus gas" : "";
    super(
      `you have ${human(balance)} in your wallet; ${doing} ${human(amount)} needs ${human(amount)}${gas}: ` +
        `add ${human(amount - balance)}${gas === "" ? "" : " and some for gas"} to ${wallet}, or ${action === "open" ? "open with" : "deposit"} less`,
    );
  }
}

/** The node's wallet can't pay a transaction's gas (and value): the chain refused to take it; nothing was sent. */
export class GasFundsError extends SluiceError {
  static override readonly code: string = "GAS_FUNDS_TOO_LOW";
  override readonly name: string = "GasFundsError";

  constructor(
    readonly wallet: string,
    options?: { cause?: unknown },
  ) {
    super(`your wallet ${wallet} has too little ETH for this transaction and its gas: add ETH to it and try again`, options);
  }
}

// ------------------------------------------------------------------ signatures

/** A signature is not the expected signer's signature of the digest. */
export class InvalidSignatureError extends SluiceError {
  static override readonly code: string = "INVALID_SIGNATURE";
  override readonly name: string = "InvalidSignatureError";

  constructor(
    readonly signer: string,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid signature of ${signer}${detail ? `: ${detail}` : ""}`, options);
  }
}

// ------------------------------------------------------------------ channel protocol

/** A message or state names another channel than this one. */
export class WrongChannelError extends SluiceError {
  static override readonly code: string = "WRONG_CHANNEL";
  override readonly name: string = "WrongChannelError";

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`wrong channel: expected ${expected}, got ${actual}`);
  }
}

/** A state's version is not newer than the latest state this side holds. */
export class StaleVersionError extends SluiceError {
  static override readonly code: string = "STALE_VERSION";
  override readonly name: string = "StaleVersionError";

  constructor(
    readonly version: bigint,
    readonly latest: bigint,
  ) {
    super(`stale version ${version}: the latest state has version ${latest}`);
  }
}

/**
 * Signing the state would sign a version this side already signed with other contents (for
 * instance a version signed before a crash and never countersigned). Nothing was signed.
 */
export class ConflictingStateError extends SluiceError {
  static override readonly code: string = "CONFLICTING_STATE";
  override readonly name: string = "ConflictingStateError";

  constructor(
    readonly version: bigint,
    readonly signedVersion: bigint,
  ) {
    super(`version ${version} conflicts: this side already signed up to version ${signedVersion}`);
  }
}

/** A payment amount of zero, negative, or beyond uint256. */
export class InvalidAmountError extends SluiceError {
  static override readonly code: string = "INVALID_AMOUNT";
  override readonly name: string = "InvalidAmountError";

  constructor(readonly amount: bigint) {
    super(`invalid amount ${amount} (base units): an amount must be more than zero and below 2^256`);
  }
}

/** The payer's payout would drop below zero against the confirmed deposits. */
export class InsufficientFundsError extends SluiceError {
  static override readonly code: string = "INSUFFICIENT_FUNDS";
  override readonly name: string = "InsufficientFundsError";

  constructor(
    readonly payer: 0 | 1,
    readonly amount: bigint,
    readonly available: bigint,
  ) {
    super(`participant ${payer} can't pay ${amount}: only ${available} available`);
  }
}

/** The state's transfers are not the latest transfers plus exactly the payment (or unchanged). */
export class TransferMismatchError extends SluiceError {
  static override readonly code: string = "TRANSFER_MISMATCH";
  override readonly name: string = "TransferMismatchError";

  constructor(
    readonly expected: readonly [bigint, bigint],
    readonly actual: readonly [bigint, bigint],
  ) {
    super(`transfers [${actual.join(", ")}] should be [${expected.join(", ")}]`);
  }
}

/** The state's payments root is not the root of the log with the payment appended. */
export class RootMismatchError extends SluiceError {
  static override readonly code: string = "ROOT_MISMATCH";
  override readonly name: string = "RootMismatchError";

  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`payments root ${actual} should be ${expected}`);
  }
}

/** The payment's sequence number is not the next position in the payment log. */
export class SequenceMismatchError extends SluiceError {
  static override readonly code: string = "SEQUENCE_MISMATCH";
  override readonly name: string = "SequenceMismatchError";

  constructor(
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`payment seq ${actual} should be ${expected}`);
  }
}

/** The payment names a payer other than the participant who proposed it. */
export class WrongPayerError extends SluiceError {
  static override readonly code: string = "WRONG_PAYER";
  override readonly name: string = "WrongPayerError";

  constructor(
    readonly expected: 0 | 1,
    readonly actual: number,
  ) {
    super(`payer ${actual} should be ${expected}`);
  }
}

/** A state's final flag is not what the message kind requires. */
export class FinalFlagError extends SluiceError {
  static override readonly code: string = "FINAL_FLAG";
  override readonly name: string = "FinalFlagError";

  constructor(readonly expected: boolean) {
    super(expected ? "a closing state must be final" : "a payment state must not be final");
  }
}

/** The channel (or this side) has signed a final state; nothing more is signed. */
export class ChannelFinalizedError extends SluiceError {
  static override readonly code: string = "CHANNEL_FINALIZED";
  override readonly name: string = "ChannelFinalizedError";

  constructor(readonly channelId: string) {
    super(`channel ${channelId} is final: nothing more is signed`);
  }
}

/** This side has proposals waiting for the peer's countersignature (a final state needs none pending). */
export class ProposalPendingError extends SluiceError {
  static override readonly code: string = "PROPOSAL_PENDING";
  override readonly name: string = "ProposalPendingError";

  constructor(readonly version: bigint) {
    super(`a proposal for version ${version} is still waiting for its countersignature`);
  }
}

/** An acknowledgement that answers no pending proposal of this side. */
export class UnexpectedAckError extends SluiceError {
  static override readonly code: string = "UNEXPECTED_ACK";
  override readonly name: string = "UnexpectedAckError";

  constructor(
    readonly version: bigint,
    readonly pendingVersion: bigint | undefined,
  ) {
    super(
      pendingVersion === undefined
        ? `acknowledgement of version ${version}, but nothing is pending`
        : `acknowledgement of version ${version}, but version ${pendingVersion} is pending`,
    );
  }
}

/** A value does not fit the Solidity type it stands for (uint64 version, uint256 amount, bytes32...). */
export class ValueOutOfRangeError extends SluiceError {
  static override readonly code: string = "VALUE_OUT_OF_RANGE";
  override readonly name: string = "ValueOutOfRangeError";

  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`${field} = ${typeof value === "string" ? JSON.stringify(value) : String(value)} is out of range`);
  }
}

/**
 * A proposal's version is more than `MAX_VERSION_GAP` above everything this side holds or signed:
 * accepting it would bring the version toward 2^64 - 1 and could leave no room for a final state.
 */
export class VersionGapError extends SluiceError {
  static override readonly code: string = "VERSION_GAP";
  override readonly name: string = "VersionGapError";

  constructor(
    readonly version: bigint,
    readonly max: bigint,
  ) {
    super(`version ${version} jumps too far: at most ${max} is accepted`);
  }
}

/**
 * A proposal makes participant 1 pay without an outstanding request of its own for exactly that
 * payment (same request id, amount and ref): unrequested, cancelled, already paid or altered.
 */
export class UnrequestedPaymentError extends SluiceError {
  static override readonly code: string = "UNREQUESTED_PAYMENT";
  override readonly name: string = "UnrequestedPaymentError";

  constructor(
    readonly request: bigint | undefined,
    detail: string,
  ) {
    super(`unrequested payment${request === undefined ? "" : ` for request ${request}`}: ${detail}`);
  }
}

/** A payment request whose id is not above every request already served (a replay or a reorder). */
export class StaleRequestError extends SluiceError {
  static override readonly code: string = "STALE_REQUEST";
  override readonly name: string = "StaleRequestError";

  constructor(
    readonly id: bigint,
    readonly last: bigint,
  ) {
    super(`payment request ${id} is stale: requests up to ${last} were already served`);
  }
}

/**
 * The operation belongs to the other participant's role: participant 0 sequences (proposes every
 * state, serves requests), participant 1 requests payments and countersigns.
 */
export class WrongRoleError extends SluiceError {
  static override readonly code: string = "WRONG_ROLE";
  override readonly name: string = "WrongRoleError";

  constructor(
    readonly participant: 0 | 1,
    readonly operation: string,
    hint?: string,
  ) {
    super(`participant ${participant} can't ${operation}${hint ? `: ${hint}` : ""}`);
  }
}

// ------------------------------------------------------------------ locks

/**
 * Two locks of one locks tree have the same leaf (same channel, sender, amount, hashlock, expiry
 * and ref). The contract resolves each leaf once, so the second would never be paid: a state
 * must not carry both.
 */
export class DuplicateLockError extends SluiceError {
  static override readonly code: string = "DUPLICATE_LOCK";
  override readonly name: string = "DuplicateLockError";

  constructor(readonly leaf: string) {
    super(`duplicate lock: leaf ${leaf} is already in the locks tree`);
  }
}

/** A lock (or leaf) asked for is not in the locks tree. */
export class UnknownLockError extends SluiceError {
  static override readonly code: string = "UNKNOWN_LOCK";
  override readonly name: string = "UnknownLockError";

  constructor(readonly leaf: string) {
    super(`no lock with leaf ${leaf} in the locks tree`);
  }
}
