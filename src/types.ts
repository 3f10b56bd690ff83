/** Byte strings as the chain sees them. */
export type Hex = `0x${string}`;
export type Address = `0x${string}`;

/** The fixed part of a channel; its ABI encoding hashes to the channel id. */
export interface Params {
  participants: [Address, Address];
  asset: Address;
  challengePeriod: bigint;
  nonce: bigint;
}

/** The variable part of a channel, signed by both participants (EIP-712 `State`). */
export interface State {
  channelId: Hex;
  version: bigint;
  transferred: [bigint, bigint];
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

/** A state with both participants' signatures, `sigs[i]` by participant i. */
export interface SignedState {
  state: State;
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

/** The opening state of a channel: version 0, nothing transferred, zero root, not final. */
export function openingState(channelId: Hex): State {
  return { channelId, version: 0n, transferred: [0n, 0n], paymentsRoot: ZERO_HASH, isFinal: false };
}
