/** Byte strings as the chain sees them. */
export type Hex = `0x${string}`;
export type Address = `0x${string}`;

/** The fixed part of a channel; its ABI encoding hashes to the channel id. */
export interface Params {
  /** The keys that sign participant i's states and withdrawals (ECDSA only). */
  participants: [Address, Address];
  /** Where participant i's payouts go: any address, a contract wallet included. */
  payees: [Address, Address];
  asset: Address;
  challengePeriod: bigint;
  nonce: bigint;
}

/** The variable part of a channel, signed by both participants (EIP-712 `State`). */
export interface State {
  channelId: Hex;
  version: bigint;
  transferred: [bigint, bigint];
  /** Sum of participant i's pending hashlocked transfers. */
  locked: [bigint, bigint];
  /** Merkle root of the pending locks of both sides; zero when there are none. */
  locksRoot: Hex;
  paymentsRoot: Hex;
  isFinal: boolean;
}

/** One off-chain payment; a leaf of a state's payments root. */
export interface Payment {
  channelId: Hex;
  seq: bigint;
  payer: 0 | 1;
  amount: bigint;
  ref: Hex;
}

/** A hashlocked transfer pending in a state; a leaf of its locks root. */
export interface Lock {
  channelId: Hex;
  sender: 0 | 1;
  amount: bigint;
  /** sha256 of the 32-byte secret. */
  hashlock: Hex;
  /** Block timestamp after which, the secret unrevealed, the lock returns to its sender. */
  expiry: bigint;
  ref: Hex;
}

/** A withdrawal from an open channel (EIP-712 `Withdrawal`); `total` is cumulative. */
export interface Withdrawal {
  channelId: Hex;
  participant: 0 | 1;
  total: bigint;
  expiry: bigint;
}

/** A state with both participants' signatures, `sigs[i]` by participant i. */
export interface SignedState {
  state: State;
  sigs: [Hex, Hex];
}

/** A withdrawal with both participants' signatures. */
export interface SignedWithdrawal {
  withdrawal: Withdrawal;
  sigs: [Hex, Hex];
}

/** Channel modes as the adjudicator's `channel()` reports them. */
export enum ChannelMode {
  None = 0,
  Open = 1,
  Challenged = 2,
  Concluded = 3,
}

export const ETH: Address = "0x0000000000000000000000000000000000000000";
export const ZERO_HASH: Hex = "0x0000000000000000000000000000000000000000000000000000000000000000";

/** The opening state of a channel: version 0, nothing transferred or locked, zero roots, not final. */
export function openingState(channelId: Hex): State {
  return {
    channelId,
    version: 0n,
    transferred: [0n, 0n],
    locked: [0n, 0n],
    locksRoot: ZERO_HASH,
    paymentsRoot: ZERO_HASH,
    isFinal: false,
  };
}
