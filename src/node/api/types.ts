import type { Address, Hex } from "../../types";

/**
 * What the node offers its local API and CLI. Amounts are bigint base units; the HTTP layer
 * carries them as decimal strings. Every method rejects with a `SluiceError` subclass a caller can
 * catch by class; the HTTP layer maps the class to an error code.
 */
export interface NodeApi {
  /** The node itself: its address, chain, adjudicator, where peers reach it. */
  info(): Promise<NodeInfo>;
  /** Decimals and symbol of an asset (ETH or an ERC-20), for parsing and printing amounts. */
  asset(asset: Address): Promise<AssetInfo>;
  /**
   * Opens a channel with a peer: agrees on the params with the peer over WebSocket (this node is
   * participant 0), deposits `deposit` on chain, and waits until the deposit is confirmed.
   */
  openChannel(request: OpenChannelRequest): Promise<ChannelView>;
  /** Adds to this node's deposit in a channel, on chain. */
  deposit(channelId: Hex, amount: bigint): Promise<ChannelView>;
  /** Pays the peer; resolves once the countersigned state is on disk. */
  pay(channelId: Hex, amount: bigint, ref: Hex): Promise<PaymentView>;
  channels(): Promise<ChannelView[]>;
  channel(channelId: Hex): Promise<ChannelView>;
  payments(channelId: Hex, query: { fromSeq?: bigint; limit?: number }): Promise<PaymentView[]>;
  /** Cooperative close: a final state signed by both, submitted on chain. */
  close(channelId: Hex): Promise<TxView>;
  /** Registers this node's latest countersigned state on chain (starts or answers a dispute). */
  challenge(channelId: Hex): Promise<TxView>;
  /** Settles a channel whose challenge deadline has passed. */
  settle(channelId: Hex): Promise<TxView>;
  /** Withdraws this node's credited payouts in `asset`. */
  withdraw(asset: Address): Promise<TxView>;
  /** A payment's Merkle proof against the latest state, and whether the chain accepts it. */
  prove(channelId: Hex, seq: bigint): Promise<ProofView>;
}

export interface NodeInfo {
  address: Address;
  chainId: bigint;
  adjudicator: Address;
  /** ws:// URL peers connect to. */
  peerUrl: string;
  blockNumber: bigint;
  channels: number;
}

export interface AssetInfo {
  asset: Address;
  symbol: string;
  decimals: number;
}

export interface OpenChannelRequest {
  peer: Address;
  /** ws:// URL of the peer's node. */
  peerUrl: string;
  asset: Address;
  deposit: bigint;
  challengePeriod?: bigint;
  /**
   * Where this node's payouts from the channel go (any address, a contract wallet included);
   * default: the node's configured payee, else its own address. The peer names its own.
   */
  payee?: Address;
}

export type ChannelStatusName = "opening" | "open" | "closing" | "disputed" | "closed" | "settled";

export interface ChannelView {
  channelId: Hex;
  /** The keys that sign each side's states and withdrawals. */
  participants: [Address, Address];
  /** Where each side's payouts, withdrawals and credits go. */
  payees: [Address, Address];
  asset: Address;
  challengePeriod: bigint;
  nonce: bigint;
  me: 0 | 1;
  status: ChannelStatusName;
  deposits: [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals (cash-outs executed while open). */
  withdrawn: [bigint, bigint];
  version: bigint;
  transferred: [bigint, bigint];
  /** What each side would receive if the latest state settled now (to its payee). */
  balances: [bigint, bigint];
  payments: bigint;
  /** On-chain challenge deadline (unix seconds) while disputed. */
  deadline?: bigint;
}

export interface PaymentView {
  channelId: Hex;
  seq: bigint;
  payer: 0 | 1;
  amount: bigint;
  ref: Hex;
  /** Version of the countersigned state that added the payment. */
  version: bigint;
}

export interface TxView {
  channelId?: Hex;
  hash: Hex;
  blockNumber: bigint;
  gasUsed: bigint;
}

export interface ProofView {
  payment: PaymentView;
  leaf: Hex;
  proof: Hex[];
  root: Hex;
  stateVersion: bigint;
  /** `verifyPayment` on chain: true once the channel concluded with (or registered) this state. */
  verifiedOnChain: boolean;
}
