import type { Address, Hex, Params, Payment, SignedState, State, Withdrawal } from "../../types";

/**
 * Where a channel is in its life, as this node sees it: `opening` (stored, not yet funded),
 * `open`, `closing` (a final state is being signed or submitted), `disputed` (a challenge runs on
 * chain), `closed` (concluded by a final state), `settled` (concluded after a challenge),
 * `abandoned` (its open failed before any deposit and it was given up).
 */
export type ChannelStatus = "opening" | "open" | "closing" | "disputed" | "closed" | "settled" | "abandoned";

export const CHANNEL_STATUSES: readonly ChannelStatus[] = [
  "opening",
  "open",
  "closing",
  "disputed",
  "closed",
  "settled",
  "abandoned",
];

/**
 * Where a withdrawal stands (the channel's `WithdrawalStatus`): `proposed` and `signed` are live
 * (counted as spent); `executed`, `expired`, `refused` and `void` are done.
 */
export type WithdrawalStatus = "proposed" | "signed" | "executed" | "expired" | "refused" | "void";

export const WITHDRAWAL_STATUSES: readonly WithdrawalStatus[] = ["proposed", "signed", "executed", "expired", "refused", "void"];

/** A withdrawal this side signed, as stored. */
export interface WithdrawalRow {
  withdrawal: Withdrawal;
  /** `sigs[i]` by participant i; "0x" where this side does not hold it (its proposal, not yet countersigned). */
  sigs: [Hex, Hex];
  status: WithdrawalStatus;
  /** The transaction that executed it, when this node sent it. */
  txHash?: Hex | null;
}

/** A channel to store. */
export interface NewChannel {
  params: Params;
  /** This node's participant index. */
  myIndex: 0 | 1;
  /** Defaults to `opening`. */
  status?: ChannelStatus;
  /** Confirmed on-chain deposits; default `[0n, 0n]`. */
  deposits?: readonly [bigint, bigint];
}

/** A stored channel. Addresses and hex come back lower-case. */
export interface ChannelRecord {
  channelId: Hex;
  params: Params;
  myIndex: 0 | 1;
  /** `params.participants[1 - myIndex]`. */
  peer: Address;
  status: ChannelStatus;
  /** Confirmed on-chain deposits of participants 0 and 1. */
  deposits: [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals (`partialWithdraw`) of participants 0 and 1. */
  withdrawn: [bigint, bigint];
  /**
   * The protocol the channel was opened under: 2 for every channel this code stores; 1 for a
   * channel a store from before protocol v2 held (its id hashes params without payees: a v1
   * adjudicator's channel, which this node no longer drives).
   */
  protocol: 1 | 2;
  /** The lowest version of a final state this side signed or holds; nothing newer is signed. */
  finalVersion: bigint | null;
  /** Milliseconds since the epoch. */
  createdAt: number;
  updatedAt: number;
}

/** A state this side signed, with its signature. */
export interface OwnSignature {
  state: State;
  sig: Hex;
}

/** A stored payment: the leaf of the payments log and the version of the state that added it. */
export interface PaymentRecord {
  payment: Payment;
  /** `keccak256(bytes.concat(keccak256(abi.encode(payment))))`, computed by the store. */
  leaf: Hex;
  version: bigint;
  /** When this store committed it (unix ms: the `recorded_at` of its state). */
  committedAt?: number;
  /** The text its ref is the keccak256 of, when this node was given it (`putMemo`). */
  memo?: string;
}

/**
 * The payments a countersigned state adds, in order: none (null or []), one, or several with
 * consecutive seqs.
 */
export type AddedPayments = Payment | readonly Payment[] | null;

/** One countersigned state (and the payments it adds, if any) for `recordCountersignedBatch`. */
export interface CountersignedItem {
  channelId: Hex;
  signed: SignedState;
  payment: AddedPayments;
}

export interface PaymentQuery {
  /** First seq to return; default 0. */
  fromSeq?: bigint;
  /** At most this many; default 1000. */
  limit?: number;
  /** Only the payments with this ref. */
  ref?: Hex;
  /** Only the payments of this payer (participant index). */
  payer?: 0 | 1;
  /** Only the payments committed at or after this time (unix ms). */
  since?: number;
  /** Only the payments committed before this time (unix ms). */
  until?: number;
}

export interface OpenOptions {
  /** Milliseconds to wait for another connection's write lock; default 5000. */
  busyTimeoutMs?: number;
  /** Clock for `created_at`/`updated_at`; default `Date.now`. */
  now?: () => number;
}
