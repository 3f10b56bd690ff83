/**
 * Reverts of the adjudicator as typed errors. Every custom error of the contract's ABI has a class
 * here (`StateStale` → `StateStaleError`), a subclass of `AdjudicatorRevertError` whose `args` are
 * the error's decoded arguments; the original ethers/provider error stays in `cause`.
 *
 * Revert data reaches the client by different paths: ethers' CALL_EXCEPTION (`error.data`) for
 * estimateGas and eth_call on a JSON-RPC node, the in-process Hardhat network's ProviderError
 * (`error.data`, sometimes nested), a hardhat node's JSON-RPC error (`error.info.error.data`,
 * or `data.data`), and nothing at all for a transaction that was mined and reverted (anvil), which
 * the driver then replays with eth_call. `decodeRevert` searches them all.
 */
import { Interface, type ErrorDescription, type TransactionReceipt } from "ethers";
import { Adjudicator__factory, IERC20Errors__factory } from "../../typechain-types";
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";

const ADJUDICATOR_INTERFACE = Adjudicator__factory.createInterface();
/** Errors a token may bubble up through the adjudicator's `safeTransferFrom` (OpenZeppelin's ERC-20). */
const TOKEN_INTERFACE = IERC20Errors__factory.createInterface();
/** `Error(string)` and `Panic(uint256)` are built into ethers' `parseError`. */
const BUILTIN_INTERFACE = new Interface([]);

/**
 * The arguments of each custom error of the adjudicator's ABI (its own errors, documented in
 * `IAdjudicator.sol`, and those of the OpenZeppelin code it builds on), by error name, as decoded:
 * `uint8` indices as numbers, other integers as bigints.
 */
export interface AdjudicatorErrorArgs {
  ChallengeExpired: { deadline: bigint };
  ChallengePending: { deadline: bigint };
  ChannelChallengePeriodInvalid: { challengePeriod: bigint };
  ChannelChallenged: { channelId: Hex; deadline: bigint };
  ChannelConcluded: { channelId: Hex };
  ChannelNotChallenged: { channelId: Hex };
  ChannelNotConcluded: { channelId: Hex };
  ChannelNotOpen: { channelId: Hex };
  ChannelParticipantsInvalid: { participant0: Address; participant1: Address };
  ChannelPayeesInvalid: { payee0: Address; payee1: Address };
  DepositNotReceived: { token: Address; amount: bigint };
  DepositOverflow: { deposit: bigint; amount: bigint };
  DepositValueMismatch: { value: bigint; expected: bigint };
  DepositZero: Record<string, never>;
  InvalidShortString: Record<string, never>;
  LockAlreadyResolved: { leaf: Hex };
  LockChannelMismatch: { channelId: Hex; lockChannelId: Hex };
  LockNothingHeld: { leaf: Hex };
  LockPending: { expiry: bigint };
  LockProofInvalid: { leaf: Hex };
  OpeningChallengeUnauthorized: { caller: Address };
  ParticipantIndexInvalid: { participant: number };
  PayoutGasInsufficient: { gasLeft: bigint; gasNeeded: bigint };
  ReentrancyGuardReentrantCall: Record<string, never>;
  SafeERC20FailedOperation: { token: Address };
  SecretAlreadyRevealed: { hashlock: Hex; revealedAt: bigint };
  SignatureInvalid: { participant: number };
  StateChannelMismatch: { channelId: Hex; stateChannelId: Hex };
  StateFinalWithLocks: { version: bigint };
  StateNotFinal: { version: bigint };
  StateStale: { version: bigint; registeredVersion: bigint };
  StateUnknown: { channelId: Hex };
  StringTooLong: { str: string };
  WithdrawFailed: { owner: Address; asset: Address; to: Address; amount: bigint };
  WithdrawNothing: { owner: Address; asset: Address };
  WithdrawRecipientInvalid: { to: Address };
  WithdrawalChannelMismatch: { channelId: Hex; withdrawalChannelId: Hex };
  WithdrawalExceedsHoldings: { amount: bigint; holdings: bigint };
  WithdrawalExpired: { expiry: bigint };
}

export type AdjudicatorErrorName = keyof AdjudicatorErrorArgs;

/** Where a revert came from, when known: the mined transaction's hash and receipt. */
export interface RevertContext {
  cause?: unknown;
  transactionHash?: Hex;
  receipt?: TransactionReceipt;
}

/**
 * A call or transaction reverted. `errorName`/`args` are set when the revert data decoded (a token's
 * custom error, `Error(string)`, `Panic(uint256)`); `data` is the raw revert data when there was any.
 * The adjudicator's own errors arrive as the `AdjudicatorRevertError` subclasses below.
 */
export class ContractRevertError extends SluiceError {
  static override readonly code: string = "CONTRACT_REVERT";
  override readonly name: string = "ContractRevertError";
  readonly errorName: string | undefined;
  readonly args: Readonly<Record<string, unknown>>;
  readonly data: Hex | undefined;
  readonly transactionHash: Hex | undefined;
  readonly receipt: TransactionReceipt | undefined;

  constructor(
    message: string,
    decoded: { errorName?: string; args?: Record<string, unknown>; data?: Hex },
    context: RevertContext = {},
  ) {
    super(message, { cause: context.cause });
    this.errorName = decoded.errorName;
    this.args = Object.freeze({ ...(decoded.args ?? {}) });
    this.data = decoded.data;
    this.transactionHash = context.transactionHash ?? (context.receipt?.hash as Hex | undefined);
    this.receipt = context.receipt;
  }
}

/** The adjudicator reverted with its custom error `errorName`, whose decoded arguments are `args`. */
export class AdjudicatorRevertError<N extends AdjudicatorErrorName = AdjudicatorErrorName> extends ContractRevertError {
  static override readonly code: string = "ADJUDICATOR_REVERT";
  override readonly name: string;
  declare readonly errorName: N;
  declare readonly args: Readonly<AdjudicatorErrorArgs[N]>;
  declare readonly data: Hex;

  constructor(errorName: N, args: AdjudicatorErrorArgs[N], data: Hex, context: RevertContext = {}) {
    super(`Adjudicator reverted: ${errorName}(${formatArgs(args)})`, { errorName, args, data }, context);
    this.name = `${errorName}Error`;
  }
}

/** A refutation at or after the deadline of the running challenge. */
export class ChallengeExpiredError extends AdjudicatorRevertError<"ChallengeExpired">  {
  static override readonly code: string = "CHALLENGE_EXPIRED";
}
/** `settle` before the deadline of the running challenge. */
export class ChallengePendingError extends AdjudicatorRevertError<"ChallengePending">  {
  static override readonly code: string = "CHALLENGE_PENDING";
}
/** The challenge period is zero or longer than the contract's maximum. */
export class ChannelChallengePeriodInvalidError extends AdjudicatorRevertError<"ChannelChallengePeriodInvalid">  {
  static override readonly code: string = "CHANNEL_CHALLENGE_PERIOD_INVALID";
}
/** `partialWithdraw` while a challenge runs (until `deadline`, then settle). */
export class ChannelChallengedError extends AdjudicatorRevertError<"ChannelChallenged">  {
  static override readonly code: string = "CHANNEL_CHALLENGED";
}
/** The channel has concluded (closed or settled); only its locks and receipts remain. */
export class ChannelConcludedError extends AdjudicatorRevertError<"ChannelConcluded">  {
  static override readonly code: string = "CHANNEL_CONCLUDED";
}
/** `settle` on a channel with no running challenge. */
export class ChannelNotChallengedError extends AdjudicatorRevertError<"ChannelNotChallenged">  {
  static override readonly code: string = "CHANNEL_NOT_CHALLENGED";
}
/** `resolveLock` on a channel that has not concluded. */
export class ChannelNotConcludedError extends AdjudicatorRevertError<"ChannelNotConcluded">  {
  static override readonly code: string = "CHANNEL_NOT_CONCLUDED";
}
/** The channel has no deposit yet: nothing to close, dispute or withdraw. */
export class ChannelNotOpenError extends AdjudicatorRevertError<"ChannelNotOpen">  {
  static override readonly code: string = "CHANNEL_NOT_OPEN";
}
/** The participants are the zero address or the same address. */
export class ChannelParticipantsInvalidError extends AdjudicatorRevertError<"ChannelParticipantsInvalid">  {
  static override readonly code: string = "CHANNEL_PARTICIPANTS_INVALID";
}
/** A payee is the zero address. */
export class ChannelPayeesInvalidError extends AdjudicatorRevertError<"ChannelPayeesInvalid">  {
  static override readonly code: string = "CHANNEL_PAYEES_INVALID";
}
/** The token transfer left the adjudicator's balance no higher than before. */
export class DepositNotReceivedError extends AdjudicatorRevertError<"DepositNotReceived">  {
  static override readonly code: string = "DEPOSIT_NOT_RECEIVED";
}
/** The participant's deposit would exceed the contract's maximum. */
export class DepositOverflowError extends AdjudicatorRevertError<"DepositOverflow">  {
  static override readonly code: string = "DEPOSIT_OVERFLOW";
}
/** ETH: `msg.value` differs from `amount`; token: ETH was attached. */
export class DepositValueMismatchError extends AdjudicatorRevertError<"DepositValueMismatch">  {
  static override readonly code: string = "DEPOSIT_VALUE_MISMATCH";
}
/** A deposit of zero. */
export class DepositZeroError extends AdjudicatorRevertError<"DepositZero">  {
  static override readonly code: string = "DEPOSIT_ZERO";
}
/** OpenZeppelin ShortStrings (EIP-712 name/version); unreachable with the fixed domain. */
export class InvalidShortStringError extends AdjudicatorRevertError<"InvalidShortString">  {
  static override readonly code: string = "INVALID_SHORT_STRING";
}
/** The lock was resolved before. */
export class LockAlreadyResolvedError extends AdjudicatorRevertError<"LockAlreadyResolved">  {
  static override readonly code: string = "LOCK_ALREADY_RESOLVED";
}
/** The lock names another channel than the params. */
export class LockChannelMismatchError extends AdjudicatorRevertError<"LockChannelMismatch">  {
  static override readonly code: string = "LOCK_CHANNEL_MISMATCH";
}
/** Nothing is held back any more for the lock's sender: every held-back amount has been paid. */
export class LockNothingHeldError extends AdjudicatorRevertError<"LockNothingHeld">  {
  static override readonly code: string = "LOCK_NOTHING_HELD";
}
/** The lock's secret is unrevealed and its expiry has not passed: retry after `expiry`. */
export class LockPendingError extends AdjudicatorRevertError<"LockPending">  {
  static override readonly code: string = "LOCK_PENDING";
}
/** The lock is not a leaf of the state's `locksRoot` by the proof. */
export class LockProofInvalidError extends AdjudicatorRevertError<"LockProofInvalid">  {
  static override readonly code: string = "LOCK_PROOF_INVALID";
}
/** An unsigned opening-state challenge from someone who is neither a participant nor a payee. */
export class OpeningChallengeUnauthorizedError extends AdjudicatorRevertError<"OpeningChallengeUnauthorized">  {
  static override readonly code: string = "OPENING_CHALLENGE_UNAUTHORIZED";
}
/** A participant index (deposit, withdrawal, lock sender) other than 0 or 1. */
export class ParticipantIndexInvalidError extends AdjudicatorRevertError<"ParticipantIndexInvalid">  {
  static override readonly code: string = "PARTICIPANT_INDEX_INVALID";
}
/** Too little gas was left to push a payout with its full allowance: send more gas. */
export class PayoutGasInsufficientError extends AdjudicatorRevertError<"PayoutGasInsufficient">  {
  static override readonly code: string = "PAYOUT_GAS_INSUFFICIENT";
}
/** A re-entrant call into the adjudicator (OpenZeppelin's guard). */
export class ReentrancyGuardReentrantCallError extends AdjudicatorRevertError<"ReentrancyGuardReentrantCall">  {
  static override readonly code: string = "REENTRANCY_GUARD_REENTRANT_CALL";
}
/** The token's `transferFrom` failed (returned false or nothing from a non-contract). */
export class SafeERC20FailedOperationError extends AdjudicatorRevertError<"SafeERC20FailedOperation">  {
  static override readonly code: string = "SAFE_ERC20_FAILED_OPERATION";
}
/** The secret was registered before, at `revealedAt`. */
export class SecretAlreadyRevealedError extends AdjudicatorRevertError<"SecretAlreadyRevealed">  {
  static override readonly code: string = "SECRET_ALREADY_REVEALED";
}
/** `sigs[participant]` is not that participant's signature. */
export class SignatureInvalidError extends AdjudicatorRevertError<"SignatureInvalid">  {
  static override readonly code: string = "SIGNATURE_INVALID";
}
/** The state names another channel than the params. */
export class StateChannelMismatchError extends AdjudicatorRevertError<"StateChannelMismatch">  {
  static override readonly code: string = "STATE_CHANNEL_MISMATCH";
}
/** A final state with locks (`locked` or `locksRoot` not zero). */
export class StateFinalWithLocksError extends AdjudicatorRevertError<"StateFinalWithLocks">  {
  static override readonly code: string = "STATE_FINAL_WITH_LOCKS";
}
/** `close` with a state whose `isFinal` is false. */
export class StateNotFinalError extends AdjudicatorRevertError<"StateNotFinal">  {
  static override readonly code: string = "STATE_NOT_FINAL";
}
/** The state is not newer than the registered one (`close`: older). */
export class StateStaleError extends AdjudicatorRevertError<"StateStale">  {
  static override readonly code: string = "STATE_STALE";
}
/** The state handed to `settle` or `resolveLock` is not the one the channel registered or concluded with. */
export class StateUnknownError extends AdjudicatorRevertError<"StateUnknown">  {
  static override readonly code: string = "STATE_UNKNOWN";
}
/** OpenZeppelin ShortStrings; unreachable with the fixed domain. */
export class StringTooLongError extends AdjudicatorRevertError<"StringTooLong">  {
  static override readonly code: string = "STRING_TOO_LONG";
}
/** The transfer of a credit failed; the credit is kept. */
export class WithdrawFailedError extends AdjudicatorRevertError<"WithdrawFailed">  {
  static override readonly code: string = "WITHDRAW_FAILED";
}
/** `withdraw` with no credit for this owner and asset. */
export class WithdrawNothingError extends AdjudicatorRevertError<"WithdrawNothing">  {
  static override readonly code: string = "WITHDRAW_NOTHING";
}
/** `withdrawTo` the zero address or the adjudicator itself. */
export class WithdrawRecipientInvalidError extends AdjudicatorRevertError<"WithdrawRecipientInvalid">  {
  static override readonly code: string = "WITHDRAW_RECIPIENT_INVALID";
}
/** The withdrawal names another channel than the params. */
export class WithdrawalChannelMismatchError extends AdjudicatorRevertError<"WithdrawalChannelMismatch">  {
  static override readonly code: string = "WITHDRAWAL_CHANNEL_MISMATCH";
}
/** The withdrawal would pay more than the channel holds. */
export class WithdrawalExceedsHoldingsError extends AdjudicatorRevertError<"WithdrawalExceedsHoldings">  {
  static override readonly code: string = "WITHDRAWAL_EXCEEDS_HOLDINGS";
}
/** The withdrawal's expiry has passed. */
export class WithdrawalExpiredError extends AdjudicatorRevertError<"WithdrawalExpired">  {
  static override readonly code: string = "WITHDRAWAL_EXPIRED";
}

type ErrorClass<N extends AdjudicatorErrorName> = new (
  errorName: N,
  args: AdjudicatorErrorArgs[N],
  data: Hex,
  context?: RevertContext,
) => AdjudicatorRevertError<N>;

/** The class of each adjudicator error; the mapped type makes a missing one a compile error. */
export const ADJUDICATOR_ERROR_CLASSES: { readonly [N in AdjudicatorErrorName]: ErrorClass<N> } = {
  ChallengeExpired: ChallengeExpiredError,
  ChallengePending: ChallengePendingError,
  ChannelChallengePeriodInvalid: ChannelChallengePeriodInvalidError,
  ChannelChallenged: ChannelChallengedError,
  ChannelConcluded: ChannelConcludedError,
  ChannelNotChallenged: ChannelNotChallengedError,
  ChannelNotConcluded: ChannelNotConcludedError,
  ChannelNotOpen: ChannelNotOpenError,
  ChannelParticipantsInvalid: ChannelParticipantsInvalidError,
  ChannelPayeesInvalid: ChannelPayeesInvalidError,
  DepositNotReceived: DepositNotReceivedError,
  DepositOverflow: DepositOverflowError,
  DepositValueMismatch: DepositValueMismatchError,
  DepositZero: DepositZeroError,
  InvalidShortString: InvalidShortStringError,
  LockAlreadyResolved: LockAlreadyResolvedError,
  LockChannelMismatch: LockChannelMismatchError,
  LockNothingHeld: LockNothingHeldError,
  LockPending: LockPendingError,
  LockProofInvalid: LockProofInvalidError,
  OpeningChallengeUnauthorized: OpeningChallengeUnauthorizedError,
  ParticipantIndexInvalid: ParticipantIndexInvalidError,
  PayoutGasInsufficient: PayoutGasInsufficientError,
  ReentrancyGuardReentrantCall: ReentrancyGuardReentrantCallError,
  SafeERC20FailedOperation: SafeERC20FailedOperationError,
  SecretAlreadyRevealed: SecretAlreadyRevealedError,
  SignatureInvalid: SignatureInvalidError,
  StateChannelMismatch: StateChannelMismatchError,
  StateFinalWithLocks: StateFinalWithLocksError,
  StateNotFinal: StateNotFinalError,
  StateStale: StateStaleError,
  StateUnknown: StateUnknownError,
  StringTooLong: StringTooLongError,
  WithdrawFailed: WithdrawFailedError,
  WithdrawNothing: WithdrawNothingError,
  WithdrawRecipientInvalid: WithdrawRecipientInvalidError,
  WithdrawalChannelMismatch: WithdrawalChannelMismatchError,
  WithdrawalExceedsHoldings: WithdrawalExceedsHoldingsError,
  WithdrawalExpired: WithdrawalExpiredError,
};

/** A driver write was asked of a driver connected to a provider only. */
export class SignerRequiredError extends SluiceError {
  static override readonly code: string = "SIGNER_REQUIRED";
  override readonly name: string = "SignerRequiredError";
  constructor(operation: string) {
    super(`${operation} sends a transaction: connect the driver to a Signer, not only a Provider`);
  }
}

/** The node returned something the driver can't use (no receipt, a wrong domain, ...). */
export class ChainResponseError extends SluiceError {
  static override readonly code: string = "CHAIN_ERROR";
  override readonly name: string = "ChainResponseError";
}

/** The chain's JSON-RPC node does not answer (refused, reset, timed out): the node can't read or send anything. */
export class ChainUnreachableError extends ChainResponseError {
  static override readonly code: string = "CHAIN_UNREACHABLE";
  override readonly name: string = "ChainUnreachableError";
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the node can't reach the chain (${reason}): is the chain's JSON-RPC node running?`, options);
  }
}

// ---------------------------------------------------------------- decoding

function isAdjudicatorErrorName(name: string): name is AdjudicatorErrorName {
  return Object.prototype.hasOwnProperty.call(ADJUDICATOR_ERROR_CLASSES, name);
}

/** ethers' built-in `Error(string)` and `Panic(uint256)` have unnamed inputs. */
const BUILTIN_ARG_NAMES: Record<string, string> = { Error: "message", Panic: "code" };

function argsOf(description: ErrorDescription): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  description.fragment.inputs.forEach((input, i) => {
    const value: unknown = description.args[i];
    // uint8 indices (participants) are small numbers in the client's types.
    const name = input.name || BUILTIN_ARG_NAMES[description.name] || String(i);
    args[name] = input.type === "uint8" ? Number(value) : value;
  });
  return args;
}

/** Decodes revert data into the typed error, or `undefined` if no known error has its selector. */
export function decodeRevertData(data: Hex, context: RevertContext = {}): ContractRevertError | undefined {
  if (data.length < 10) return undefined;
  const own = ADJUDICATOR_INTERFACE.parseError(data);
  if (own !== null && isAdjudicatorErrorName(own.name)) {
    const Class = ADJUDICATOR_ERROR_CLASSES[own.name] as ErrorClass<AdjudicatorErrorName>;
    return new Class(own.name, argsOf(own) as AdjudicatorErrorArgs[AdjudicatorErrorName], data, context);
  }
  const other = TOKEN_INTERFACE.parseError(data) ?? BUILTIN_INTERFACE.parseError(data);
  if (other === null) return undefined;
  const args = argsOf(other);
  return new ContractRevertError(`Reverted: ${other.name}(${formatArgs(args)})`, { errorName: other.name, args, data }, context);
}

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/;

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * Every hex string stored under a `data` key somewhere in the error (ethers, Hardhat, JSON-RPC),
 * and the hash of the mined transaction when the node reported one (`transactionHash` from the
 * in-process Hardhat network, `txHash` from a hardhat node).
 */
function searchError(error: unknown): { data: Hex[]; transactionHash: Hex | undefined } {
  const data: Hex[] = [];
  let transactionHash: Hex | undefined;
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number, key: string): void => {
    if (depth > 8 || value === null || value === undefined) return;
    if (typeof value === "string") {
      if (key === "data" && HEX.test(value)) data.push(value as Hex);
      if ((key === "transactionHash" || key === "txHash") && TX_HASH.test(value)) transactionHash ??= value.toLowerCase() as Hex;
      // JSON-RPC error bodies sometimes arrive as text (ethers' `info.responseBody`).
      if (value.startsWith("{") && value.includes('"data"')) {
        try {
          visit(JSON.parse(value), depth + 1, "");
        } catch {
          // not JSON: ignore
        }
      }
      return;
    }
    if (typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    const record = value as Record<string, unknown>;
    for (const k of ["data", "error", "info", "cause", "revert", "responseBody", "body", "transactionHash", "txHash"]) {
      if (k in record) visit(record[k], depth + 1, k);
    }
  };
  visit(error, 0, "");
  return { data, transactionHash };
}

function isRevertLike(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { code?: unknown; message?: unknown };
  if (e.code === "CALL_EXCEPTION") return true;
  return typeof e.message === "string" && /revert/i.test(e.message);
}

/**
 * Turns an error thrown by ethers, a provider or Hardhat into the typed revert error it carries:
 * an `AdjudicatorRevertError` subclass for the adjudicator's custom errors, a `ContractRevertError`
 * for other reverts (decoded when possible). Returns `undefined` for errors that are not reverts
 * (network failures, a rejected signature request, ...). The original error is the `cause`.
 */
export function decodeRevert(error: unknown, context: Omit<RevertContext, "cause"> = {}): ContractRevertError | undefined {
  if (error instanceof ContractRevertError) return error;
  const full: RevertContext = { ...context, cause: error };
  const receipt = context.receipt ?? receiptOf(error);
  if (receipt !== undefined) full.receipt = receipt;
  const found = searchError(error);
  full.transactionHash ??= found.transactionHash;
  const candidates = found.data;
  for (const data of candidates) {
    const decoded = decodeRevertData(data, full);
    if (decoded !== undefined) return decoded;
  }
  if (!isRevertLike(error)) return undefined;
  const data = candidates.find((c) => c.length >= 10);
  const message = error instanceof Error ? error.message : String(error);
  return new ContractRevertError(`Reverted${data ? " with unknown data " + data : ""}: ${message}`, data ? { data } : {}, full);
}

/** The receipt of a mined, reverted transaction that ethers' `wait()` attaches to its error. */
export function receiptOf(error: unknown): TransactionReceipt | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const receipt = (error as { receipt?: unknown }).receipt;
  if (typeof receipt === "object" && receipt !== null && "status" in receipt && "hash" in receipt) {
    return receipt as TransactionReceipt;
  }
  return undefined;
}

function formatArgs(args: object): string {
  return Object.entries(args)
    .map(([k, v]) => `${k}: ${typeof v === "bigint" ? v.toString() : String(v)}`)
    .join(", ");
}

/** The chain's fee is above the node's cap (`--max-fee`): nothing was sent. */
export class FeeCapExceededError extends ChainResponseError {
  static override readonly code: string = "FEE_CAP_EXCEEDED";
  override readonly name: string = "FeeCapExceededError";
  /** What a transaction needs now (base fee of the latest block + tip), in wei per gas. */
  readonly fee: bigint;
  readonly cap: bigint;
  constructor(what: string, fee: bigint, cap: bigint) {
    super(`${what} needs a fee of ${formatGwei(fee)} gwei per gas, above the cap of ${formatGwei(cap)} gwei (--max-fee): not sent; wait for fees to fall or raise the cap`);
    this.fee = fee;
    this.cap = cap;
  }
}

/** A nonce the sender had a transaction pending at was taken by another transaction of the same key (sent elsewhere). */
export class NonceTakenError extends ChainResponseError {
  static override readonly code: string = "NONCE_TAKEN";
  override readonly name: string = "NonceTakenError";
  readonly nonce: bigint;
  constructor(what: string, nonce: bigint) {
    super(`${what} (nonce ${nonce}) was not mined: another transaction of this key took its nonce; do not use the node's key in another wallet`);
    this.nonce = nonce;
  }
}

function formatGwei(wei: bigint): string {
  const whole = wei / 1_000_000_000n;
  const fraction = (wei % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return fraction === "" ? whole.toString() : `${whole}.${fraction}`;
}
