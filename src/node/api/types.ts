import type { GasEstimate } from "../../chain/driver";
import type { InvoiceStatus, SignedInvoice } from "../../invoice/types";
import type { Address, Hex } from "../../types";
import type { PaymentRef } from "../paymentRef";
import type { Scope } from "./access";
import type { WebhookRecord } from "../store/webhooks";
import type { EventView } from "./eventStream";

export type { EventView };

export type { PaymentRef } from "../paymentRef";

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
  /**
   * Gives up a channel whose open failed before funding (status `abandoned`): only while it is
   * `opening` and the chain holds no deposit in it; a funded one is refused (close or challenge it).
   */
  abandonChannel(channelId: Hex): Promise<ChannelView>;
  /** Adds to this node's deposit in a channel, on chain. */
  deposit(channelId: Hex, amount: bigint): Promise<ChannelView>;
  /**
   * Pays the peer; resolves once the countersigned state is on disk. `ref` is a 32-byte hex used as
   * is, or `{ memo }`: a text whose keccak256 (of its UTF-8) is the ref, kept beside the payment here.
   */
  pay(channelId: Hex, amount: bigint, ref: PaymentRef): Promise<PaymentView>;
  channels(): Promise<ChannelView[]>;
  channel(channelId: Hex): Promise<ChannelView>;
  payments(channelId: Hex, query: PaymentsQuery): Promise<PaymentView[]>;
  /** A page of the node's event log, in id order (`GET /v1/events` streams it). */
  listEvents(query: EventsQuery): Promise<EventView[]>;
  /** Makes a scoped API token (admin only); the answer is the only place the token appears. */
  createToken?(scope: Scope, name?: string): Promise<CreatedTokenView>;
  /** The scoped API tokens, live and revoked (admin only). */
  tokens?(): Promise<TokenView[]>;
  /** Revokes a scoped token: its next request is refused (admin only). */
  revokeToken?(id: bigint): Promise<TokenView>;
  /**
   * Writes a consistent copy of the node's store to `file` (absolute, on the node's machine) while
   * payments go on; refuses an existing file unless `force` (admin only).
   */
  backup?(file: string, force: boolean): Promise<BackupView>;
  /** Cooperative close: a final state signed by both, submitted on chain. */
  close(channelId: Hex): Promise<TxView>;
  /** Registers this node's latest countersigned state on chain (starts or answers a dispute). */
  challenge(channelId: Hex): Promise<TxView>;
  /** Settles a channel whose challenge deadline has passed. */
  settle(channelId: Hex): Promise<TxView>;
  /**
   * Takes `amount` out of an open channel to this node's payee without closing it: the peer
   * countersigns the withdrawal (if this side can afford it), both nodes store it, and this node
   * executes it on chain (`partialWithdraw`). Until executed or expired it counts as spent on both
   * sides. If the execution fails, the result says `signed` with the reason, and the node tries
   * again until the withdrawal expires.
   */
  cashOut(channelId: Hex, amount: bigint): Promise<CashOutView>;
  /** Withdraws the credited payouts of this node's own address in `asset` (a node holds one key). */
  withdraw(asset: Address): Promise<TxView>;
  /**
   * Mints `amount` of a test token (its `mint(address,uint256)`) to `to` (default: this node), with
   * this node's signer; development chains only (chain id 31337). Optional: a node without it
   * answers NOT_DEV_CHAIN.
   */
  mint?(asset: Address, amount: bigint, to?: Address): Promise<TxView>;
  /** A payment's Merkle proof against the latest state, and whether the chain accepts it. */
  prove(channelId: Hex, seq: bigint): Promise<ProofView>;

  // Invoices (optional: a node without them answers INVOICES_UNSUPPORTED).
  /** Makes an invoice this node is the payee of, signed by its key, with a fresh secret kept in its store. */
  createInvoice?(request: CreateInvoiceRequest): Promise<InvoiceView>;
  /** One of this node's invoices, by its id or its hashlock (0x and 64 hex digits). */
  invoice?(key: bigint | Hex): Promise<InvoiceView>;
  invoices?(query: InvoicesQuery): Promise<InvoiceView[]>;
  /** Cancels an open (or expired) invoice; a paid or cancelled one is refused (INVOICE_NOT_OPEN). */
  cancelInvoice?(id: bigint): Promise<InvoiceView>;
  /** Checks an invoice a payer was given (`sluice1…` or its JSON text): checksum, fields, signature. */
  decodeInvoice?(text: string): Promise<DecodedInvoiceView>;

  // Webhooks: the node POSTs each event to each endpoint whose filter matches (docs/api.md "Webhooks").
  /** Adds an endpoint; the answer carries its signing secret, shown this once. */
  addWebhook(request: AddWebhookRequest): Promise<WebhookView>;
  /** Every endpoint with its delivery state, by id. */
  webhooks(): Promise<WebhookView[]>;
  /** Removes an endpoint and its outbox (`WEBHOOK_NOT_FOUND` if there is none); answers what it was. */
  removeWebhook(id: bigint): Promise<WebhookView>;

  /**
   * Pays someone's invoice (`sluice1…` or its JSON text) with a hashlocked transfer: over this
   * node's open channel with its payee, else through a connected hub that reaches it (`route`: up
   * to 3 hubs in order, explicitly); resolves with the receipt of this node's lock (the invoice's
   * ref; the hubs' fees included) once unlocked. Refused before any lock if this node paid or is
   * paying it already; a routed payment that comes back fails with ROUTE_FAILED (where and why).
   */
  payInvoice?(text: string, route?: Address[]): Promise<PaymentView>;
  /** The locks this node forwarded as a hub, newest first (optional: a node without routing lists none). */
  forwards?(query: ForwardsQuery): Promise<ForwardView[]>;

  // The dashboard's reads (optional: a node without them answers INVALID_ARGUMENT).
  /** What an action would cost on chain now (gas units, fee at the EIP-1559 price), or its typed refusal: nothing is signed or sent. */
  estimate?(request: EstimateRequest): Promise<EstimateView>;
  /** The adjudicator's credits of this node's payees (and its own address), per asset of its channels and ETH. */
  listCredits?(): Promise<CreditView[]>;
}

export type EstimateAction = "open" | "deposit" | "cashout" | "close" | "challenge" | "withdraw";

/** The action to estimate and what it needs: `channelId` (all but open and withdraw), `amount` (open, deposit, cashout), `peer` and `asset` (open), `asset` (withdraw, default ETH). */
export interface EstimateRequest {
  action: EstimateAction;
  channelId?: Hex;
  amount?: bigint;
  peer?: Address;
  asset?: Address;
}

/** A write's cost now: the chain driver's `GasEstimate` (wei) for an action. */
export interface EstimateView extends GasEstimate {
  action: EstimateAction;
  channelId?: Hex;
}

/** Payouts the adjudicator holds for `owner` in `asset`; `withdrawable`: the owner is the node's own address (`withdraw` takes them). */
export interface CreditView {
  owner: Address;
  asset: Address;
  amount: bigint;
  withdrawable: boolean;
}

/** A page of forwards, newest first: ids below `before` (default: from the newest), at most `limit` (default 100), only `status` if given. */
export interface ForwardsQuery {
  before?: bigint;
  limit?: number;
  status?: ForwardStatusName;
}

export type ForwardStatusName = "pending" | "settled" | "cancelled";

/** A lock this node forwarded as a hub: in from one channel, out to the next hop's. */
export interface ForwardView {
  id: bigint;
  hashlock: Hex;
  asset: Address;
  inChannel: Hex;
  outChannel: Hex;
  nextHop: Address;
  amountIn: bigint;
  amountOut: bigint;
  /** What the hub keeps: amountIn - amountOut. */
  fee: bigint;
  /** The outgoing lock's expiry (unix seconds). */
  expiry: bigint;
  status: ForwardStatusName;
  /** Why it was cancelled. */
  error?: string;
  /** Unix ms. */
  createdAt: bigint;
  finishedAt?: bigint;
}

/** `NodeInfo.hub`: routing on, its fees, the forwards settled and pending, the fees earned per asset. */
export interface HubView {
  fees: { base: bigint; ppm: number };
  /** Forwards settled (the upstream unlock on disk). */
  forwarded: bigint;
  pending: bigint;
  feesEarned: { asset: Address; amount: bigint }[];
}

export interface NodeInfo {
  address: Address;
  chainId: bigint;
  adjudicator: Address;
  /** ws:// URL peers connect to. */
  peerUrl: string;
  /** The chain's latest block (the last one read while the endpoint does not answer). */
  blockNumber: bigint;
  channels: number;
  /** How deep an event must be to count. */
  confirmations?: number;
  /** Whether the chain's RPC endpoint answers the node's watcher. */
  chain?: ChainHealthView;
  /** The watchtower this node hands its states to (`--tower-url`), and what it acknowledged. */
  tower?: TowerLinkView;
  /** This node's own tower service (`--tower`): where clients register, and its clients. */
  towerService?: TowerServiceView;
  /** Present when routing is on (`--hub`). */
  hub?: HubView;
}

/** This node's link to its watchtower. */
export interface TowerLinkView {
  url: string;
  connected: boolean;
  /** The tower's address, proven by its handshake (once connected). */
  address?: Address;
  /** The newest version the tower acknowledged, per channel. */
  acknowledged: { channelId: Hex; version: bigint }[];
}

/** A tower service: where clients register, and each client (`channels`: watched and not concluded). */
export interface TowerServiceView {
  url: string;
  clients: { address: Address; connected: boolean; channels: number; lastSeen: bigint }[];
}

/** A backup the node wrote: where, its size, and the channels and states it holds. */
export interface BackupView {
  file: string;
  bytes: number;
  /** Countersigned states held, over all channels. */
  states: number;
  /** Each channel with the version of its latest countersigned state in the backup. */
  channels: { channelId: Hex; version: bigint }[];
}

/** One of the node's JSON-RPC endpoints (`--rpc`, in order of preference) and its failures. */
export interface RpcEndpointView {
  /** The URL with its path and query left out (they may hold an API key). */
  url: string;
  /** The one the node's calls go to now. */
  active: boolean;
  /** Calls that failed at it (an error or a timeout) since the start. */
  failures: number;
  lastError?: string;
  /** When it last failed (unix milliseconds). */
  lastFailureAt?: bigint;
}

/** The chain endpoint as the node's watcher finds it. */
export interface ChainHealthView {
  reachable: boolean;
  /** Rounds failed in a row (0 while it answers); the watcher waits twice as long after each. */
  failures: number;
  /** When the current outage began (unix milliseconds). */
  downSince?: bigint;
  /** The last failure's message. */
  lastError?: string;
  /** The latest block the watcher read. */
  lastBlock?: bigint;
  /** The JSON-RPC endpoints, in order of preference, when the node was given several. */
  endpoints?: RpcEndpointView[];
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
  /** How long to keep dialling a peer that does not answer (ms; default: the node's, 15,000 unless configured). */
  reachTimeoutMs?: number;
}

export type ChannelStatusName = "opening" | "open" | "closing" | "disputed" | "closed" | "settled" | "abandoned";

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
  /** Confirmed deposits: what counts (`confirmations` blocks deep). */
  deposits: [bigint, bigint];
  /** Deposited in blocks not yet confirmed, beyond `deposits`: not counted yet (absent if none). */
  pendingDeposits?: [bigint, bigint];
  /** Restored from a backup and not resynced with the peer yet: it signs nothing until then (absent otherwise). */
  resyncRequired?: true;
  /** Confirmed on-chain cumulative withdrawals (cash-outs executed while open). */
  withdrawn: [bigint, bigint];
  /** Withdrawals signed (or proposed by this node) and not yet executed: counted as spent in `balances`. */
  withdrawals: WithdrawalView[];
  version: bigint;
  transferred: [bigint, bigint];
  /**
   * What each side would receive (at its payee) if its pending withdrawals were executed and the
   * latest state settled now: what it can still pay or cash out.
   */
  balances: [bigint, bigint];
  /** Each side's pending hashlocked transfers, summed (the latest state's `locked`). */
  locked: [bigint, bigint];
  payments: bigint;
  /** On-chain challenge deadline (unix seconds) while disputed. */
  deadline?: bigint;
}

/** A withdrawal counted as spent but not executed on chain yet. */
export interface WithdrawalView {
  participant: 0 | 1;
  /** The participant's cumulative withdrawal once it is executed. */
  total: bigint;
  /** What it adds to the participant's withdrawals before it. */
  amount: bigint;
  /** The last block timestamp it can be executed at. */
  expiry: bigint;
  /** `proposed`: this node's, waiting for the peer's countersignature; `signed`: by both. */
  status: "proposed" | "signed";
}

/** A cash-out: the withdrawal both signed and, once executed, its transaction. */
export interface CashOutView {
  channelId: Hex;
  participant: 0 | 1;
  /** Who receives it: this node's payee in the channel. */
  payee: Address;
  /** What this cash-out asked for. */
  amount: bigint;
  /** The participant's cumulative withdrawal it brings the channel to. */
  total: bigint;
  expiry: bigint;
  /** `executed` on chain, or `signed` by both and not executed yet (see `reason`). */
  status: "executed" | "signed";
  /** What the transaction paid the payee: `amount`, plus any earlier signed withdrawal not yet executed. */
  paid?: bigint;
  tx?: TxView;
  /** Why the execution failed, when `status` is `signed`; the node tries again until `expiry`. */
  reason?: string;
}

export interface PaymentView {
  channelId: Hex;
  seq: bigint;
  payer: 0 | 1;
  amount: bigint;
  ref: Hex;
  /** Version of the countersigned state that added the payment. */
  version: bigint;
  /** When this node committed it (unix seconds). */
  committedAt?: bigint;
  /** The text `ref` is the keccak256 of, when this node was given it: local data, not in the leaf. */
  memo?: string;
  /** Set on the answer to a `pay` whose ref named a payment of this node already: nothing was paid again. */
  replayed?: boolean;
}

/** A page of a channel's payments: from seq `fromSeq` (default 0), at most `limit`, only those with `ref` if given. */
/** A page of a channel's payments: from `fromSeq` (the cursor: the last seq seen + 1), filtered. */
export interface PaymentsQuery {
  fromSeq?: bigint;
  limit?: number;
  ref?: PaymentRef;
  /** Only those this node paid (`sent`) or was paid (`received`). */
  direction?: "sent" | "received";
  /** Only those committed at or after this time (unix seconds). */
  since?: bigint;
  /** Only those committed before this time (unix seconds). */
  until?: bigint;
}

/** A scoped API token as listed (never the token itself). */
export interface TokenView {
  id: bigint;
  scope: Scope;
  name: string;
  /** Unix seconds. */
  createdAt: bigint;
  revokedAt?: bigint;
}

/** A token just made: the only answer that carries the token. */
export interface CreatedTokenView extends TokenView {
  token: string;
}

export interface EventsQuery {
  /** Events with an id above this (default 0: from the first). */
  after?: bigint;
  /** At most this many (default 1,000, at most 10,000). */
  limit?: number;
  /** Only these types (`payment.received`, `channel.closed`, ...). */
  types?: string[];
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

export type InvoiceStatusName = InvoiceStatus;

export interface CreateInvoiceRequest {
  /** Base units of `asset`. */
  amount: bigint;
  /** Default: ETH. */
  asset?: Address;
  /** UTF-8, at most 256 bytes. */
  description?: string;
  /** Seconds from now until it expires (default 3,600; at most a year). */
  expiresIn?: bigint;
  /** The payment reference: a 32-byte hex, or `{ memo }` hashed as payments' memos are (default: random). */
  ref?: PaymentRef;
}

/** An invoice of this node. The secret is never shown: the payment that pays the invoice reveals it. */
export interface InvoiceView {
  id: bigint;
  /** `expired`: open, and its expiry has passed (no longer payable). */
  status: InvoiceStatusName;
  invoice: SignedInvoice;
  /** The `sluice1…` string to hand the payer. */
  encoded: string;
  /** Unix seconds. */
  createdAt: bigint;
  paidAt?: bigint;
  paidAmount?: bigint;
  cancelledAt?: bigint;
  /** The text `ref` was hashed from, when made from one. */
  memo?: string;
}

/** A page of invoices, oldest first: from id `fromId` (default 1), at most `limit` (default 100), only `status` if given. */
export interface InvoicesQuery {
  status?: InvoiceStatusName;
  fromId?: bigint;
  limit?: number;
}

/** An invoice a payer was given, checked. */
export interface DecodedInvoiceView {
  invoice: SignedInvoice;
  encoded: string;
  /** Its expiry has passed by this node's clock. */
  expired: boolean;
  /** Its chain and adjudicator are this node's: this node can pay it. */
  sameNetwork: boolean;
}

export interface AddWebhookRequest {
  /** http:// or https:// (loopback and private addresses allowed). */
  url: string;
  /** The event types to deliver (default: every event). */
  events?: string[];
  /** The signing secret, 16 to 256 printable characters (default: a random `whsec_…`). */
  secret?: string;
}

/**
 * A webhook endpoint and its delivery state, as the store keeps it (`WebhookRecord`: the fields'
 * meanings are there; times unix ms); its secret only in the answer to `addWebhook`.
 */
export type WebhookView = Omit<WebhookRecord, "secret" | "events"> & { events: string[]; secret?: string };
