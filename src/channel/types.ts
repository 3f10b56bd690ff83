import type { SluiceError } from "../errors";
import type { StateSigner } from "../crypto/signer";
import type { SignatureVerifier } from "../crypto/verifier";
import type { Address, Hex, Lock, Params, Payment, SignedState, State, Withdrawal } from "../types";
import type { BatchProposal, PaymentRequest, ProposedPayment, StateAck, StateUpdate, UpdateRequest, UpdatesProposal } from "./messages";
import type { LockPolicy, RemovedLock } from "./updates";

/** Why a state is about to be signed. */
export type SignKind = "propose-payment" | "countersign-payment" | "propose-final" | "countersign-final";

/** What `beforeSign` sees: the state this side is about to sign, and what it signs it for. */
export interface SignIntent {
  kind: SignKind;
  state: State;
  digest: Hex;
  /** The payments the state adds, in order (none for a final state), unlock receipts included. */
  payments: ProposedPayment[];
  /** Every update of the state, in order, when it has lock updates. */
  updates?: StateUpdate[];
  /** The peer's signature of the state, when countersigning. */
  peerSig?: Hex;
}

/** A state both sides have signed and this side now holds as its latest. */
export interface CommittedUpdate {
  signed: SignedState;
  /** The payments the state added, in order, each with the request it answered (payer 1). */
  payments: readonly ProposedPayment[];
  /** The payments' Merkle leaves, in order, when the channel's log has them (the store need not hash them again). */
  leaves?: readonly Hex[];
  /**
   * For a state with lock updates (absent otherwise): every update in order (`payments` has the
   * payments among them and the unlocks' receipts, without request ids).
   */
  updates?: readonly StateUpdate[];
  /** For a state with lock updates: the locks it added and removed (why, and the secret of an unlock), for a store to persist. */
  locks?: LockChanges;
  /**
   * For a state with lock updates: the secrets of the unlocked locks this side sent, learned from
   * the receiver (a hub stores them and unlocks upstream).
   */
  secrets?: readonly { hashlock: Hex; secret: Hex }[];
}

/** The locks a state added and removed, in the order of its updates. */
export interface LockChanges {
  added: readonly Lock[];
  removed: readonly RemovedLock[];
}

/** What the countersigner did with a proposal: the state it committed, and the acknowledgement to send once that is on disk. */
export interface Countersigned {
  committed: CommittedUpdate;
  send: StateAck;
}

export interface ChannelHooks {
  /**
   * Called before this side signs a state, once it is checked; the signature is made only when
   * it returns (or its promise resolves). If it throws, nothing is signed and the channel is
   * unchanged.
   */
  beforeSign?(intent: SignIntent): void | Promise<void>;
  /**
   * Called with a withdrawal this side signed, before its signature leaves the process: its own
   * proposal (`proposed`), one it countersigns (`signed`, both signatures), and its own proposal
   * once countersigned (`signed`). A store persists it here, so that after a crash the node still
   * counts it as spent. If it throws, the channel is unchanged and nothing is sent.
   */
  onWithdrawal?(record: WithdrawalRecord): void | Promise<void>;
}

/**
 * Where a withdrawal stands: `proposed` (this side's, waiting for the peer's countersignature),
 * `signed` (by both: it can be executed on chain until its expiry), `executed` (the chain's
 * cumulative withdrawal reached its total), `expired` (its expiry passed unexecuted), `refused`
 * (the peer did not countersign this side's proposal), `void` (the channel concluded first).
 * Proposed and signed withdrawals are live: both sides count them as spent.
 */
export type WithdrawalStatus = "proposed" | "signed" | "executed" | "expired" | "refused" | "void";

/** A withdrawal this side signed, with the signatures it holds (`sigs[i]` by participant i, "0x" if missing). */
export interface WithdrawalRecord {
  withdrawal: Withdrawal;
  sigs: [Hex, Hex];
  status: WithdrawalStatus;
}

/**
 * What a store keeps to rebuild a channel after a restart. Pending proposals are not part of it:
 * after a restart participant 0 treats them as abandoned (their versions stay burned through
 * `signedVersion`), and participant 1's outstanding requests are dropped.
 */
export interface ChannelSnapshot {
  latest: SignedState;
  /** The payments of `latest`, in order (or their leaf hashes in `leaves`). */
  payments?: readonly Payment[];
  /** The leaf hashes of `latest`'s payments, in order, when the payments themselves stay in a store. */
  leaves?: Iterable<Hex | Uint8Array>;
  /** The pending locks of `latest` (none if absent): checked against its `locked` and `locksRoot`. */
  locks?: readonly Lock[];
  /** Highest version this side has ever signed (at least `latest.state.version`). */
  signedVersion: bigint;
  /** True once this side has signed a final state. */
  signedFinal: boolean;
  deposits: readonly [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals; [0, 0] if absent. */
  withdrawn?: readonly [bigint, bigint];
  /** Live withdrawals (proposed or signed), counted as spent until executed or expired. */
  withdrawals?: readonly WithdrawalRecord[];
  /**
   * Participant 1: the highest request id it has issued (the next one is above it). Participant 0:
   * the highest request id of a committed payment or lock update (it serves only higher ones). 0 if absent.
   */
  lastRequestId?: bigint;
}

export interface ChannelConfig {
  params: Params;
  /** This side's participant index: 0 sequences (proposes every state), 1 requests and countersigns. */
  me: 0 | 1;
  /** Signs for participant `me`; its address must be `params.participants[me]`. */
  signer: StateSigner;
  chainId: bigint;
  /** The adjudicator's address (the EIP-712 verifying contract). */
  adjudicator: Address;
  /** Checks the peer's signatures; ECDSA by default, `SignatureCheckerVerifier` for contract wallets. */
  verifier?: SignatureVerifier;
  /** Confirmed on-chain deposits; update them with `setDeposits`. */
  deposits?: readonly [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals (`partialWithdraw`); update them with `setWithdrawn`. */
  withdrawn?: readonly [bigint, bigint];
  hooks?: ChannelHooks;
  /** Rebuild from a store instead of starting at the opening state. */
  restore?: ChannelSnapshot;
  /**
   * The lock rules' chain clock, secret registry and caps (`lockPolicy` gives the defaults: the
   * wall clock, a registry that knows no secret, a one-hour reveal window, locks of at most a week,
   * 483 pending locks, no value cap). A node passes `clock` = max(wall clock, latest block
   * timestamp) and a `secretRevealedAt` answered from the secrets it watches on chain.
   */
  lockPolicy?: Partial<LockPolicy>;
}

/** The configuration of one role: `me` is implied by the class. */
export type RoleConfig = Omit<ChannelConfig, "me"> & { me?: 0 | 1 };

/** A proposal of participant 0, waiting for participant 1's countersignature. */
export interface PendingProposal {
  kind: "payment" | "final";
  state: State;
  sig: Hex;
  /** The payments the state adds, in order (none for a final state), unlock receipts included. */
  payments: ProposedPayment[];
  /** Every update of the state, in order, when it has lock updates. */
  updates?: StateUpdate[];
}

/**
 * One payment for `proposePayments`: participant 0's own (`pay`), or participant 1's request to
 * serve (its message as received).
 */
export type PaymentEntry = { kind: "pay"; amount: bigint; ref: Hex } | PaymentRequest;

/** A pending lock named by itself or by its leaf (`lockLeafHex`). */
export type LockRef = Lock | Hex;

/**
 * One update for `proposeUpdates`: a payment entry, participant 0's own lock update, or
 * participant 1's update request to serve (its message as received). Participant 0 may lock
 * (`lock`, it sends), unlock any pending lock whose secret it has, cancel a lock participant 1
 * sent, and expire its own expired lock.
 */
export type UpdateEntry =
  | PaymentEntry
  | { kind: "lock"; amount: bigint; hashlock: Hex; expiry: bigint; ref: Hex }
  | { kind: "unlock"; lock: LockRef; secret: Hex }
  | { kind: "cancel"; lock: LockRef }
  | { kind: "expire"; lock: LockRef }
  | UpdateRequest;

/** What `proposeUpdates` made: the proposal (a `payments` batch if every update is a payment) and why the others failed. */
export interface ProposedUpdates {
  proposal?: BatchProposal | UpdatesProposal;
  rejected: { index: number; error: SluiceError }[];
}
/** What `proposePayments` made: the proposal of the entries that passed, and why the others failed. */
export interface ProposedBatch {
  /** The proposal to send, or undefined if no entry passed. */
  proposal?: BatchProposal;
  /** The entries left out, by their index in the input, each with its typed error. */
  rejected: { index: number; error: SluiceError }[];
}

/**
 * How far above everything it holds or signed participant 1 lets a proposal's version jump
 * (2^20). Participant 0 skips a version per abandoned proposal; a peer jumping toward 2^64 - 1
 * could otherwise leave no version for a final state.
 */
export const MAX_VERSION_GAP = 1n << 20n;
