import { Wallet } from "ethers";
import { AdjudicatorDriver, TxSender, type TxChange, defaultConfirmations } from "../chain";
import { EcdsaVerifier, KeySigner } from "../crypto";
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";
import type { Scope } from "./api/access";
import { eventView } from "./api/eventStream";
import type {
  AddWebhookRequest,
  AssetInfo,
  BackupView,
  CashOutView,
  ChannelView,
  CreatedTokenView,
  CreateInvoiceRequest,
  CreditView,
  DecodedInvoiceView,
  EstimateRequest,
  EstimateView,
  EventsQuery,
  EventView,
  ForwardsQuery,
  ForwardView,
  InvoicesQuery,
  InvoiceView,
  NodeApi,
  NodeInfo,
  OpenChannelRequest,
  PaymentsQuery,
  PaymentView,
  ProofView,
  TokenView,
  TxView,
  WebhookView,
} from "./api/types";
import { ApiTokens } from "./apiTokens";
import { ChainClock } from "./chainClock";
import { ChainEvents, guardLocks } from "./chainEvents";
import { ChannelOperations } from "./channelOps";
import { ChannelSessions } from "./channelSessions";
import { CommitQueue } from "./commitQueue";
import { Deposits } from "./deposits";
import { devMint } from "./devMint";
import { Estimates } from "./estimates";
import { nodeGauges, webhookBacklog } from "./gauges";
import { EXPIRY_MARGIN, InvoicePayer } from "./invoicePayer";
import { InvoiceBook } from "./invoices";
import { ChannelLifecycle } from "./lifecycle";
import { NodeMetrics } from "./metrics";
import { checkNodeOptions, DEFAULT_MAX_WITHDRAWAL_WINDOW, DEFAULT_WITHDRAWAL_WINDOW, type NodeOptions } from "./nodeOptions";
import type { PaymentRef } from "./paymentRef";
import { listPayments, payPeer, proofOf } from "./payments";
import { peerHandlers } from "./peerHandlers";
import { Peers, type PeerTransport } from "./peers";
import { Routing } from "./routing";
import { ChannelSession } from "./session";
import { ChannelStore, DEFAULT_EVENTS_PAGE, type ChannelRecord } from "./store";
import { Towers } from "./towers";
import { keyIdentity } from "./transport";
import { chainView, channelView, creditViews, latestBlock } from "./views";
import { readAssetInfo } from "./wallet";
import { ChainWatcher } from "./watcher";
import { newWebhook, UnknownWebhookError, WebhookDispatcher, webhookViewOf } from "./webhooks";
import { Withdrawals } from "./withdrawals";

export { NotYourChannelError, UnknownChannelIdError } from "./channelSessions";
export { ChannelStatusError, IllegalTransitionError } from "./lifecycle";

export type { NodeOptions } from "./nodeOptions";

/**
 * A Sluice node: holds its key and its store, talks to its peers over authenticated WebSockets,
 * follows the chain with its watcher, and offers `NodeApi` to the local HTTP API and the CLI.
 * Participant 0 of a channel is the node that opened it.
 *
 * This class wires the node's parts and answers `NodeApi` through them; each part has a module:
 * the channels by id (channelSessions.ts), peers and their requests (peers.ts, peerHandlers.ts),
 * what the watcher reads (chainEvents.ts, deposits.ts, chainClock.ts), withdrawals and cash-outs
 * (withdrawals.ts), the moves on chain (channelOps.ts, estimates.ts), payments (payments.ts), the
 * API's views (views.ts), the towers (towers.ts), the metrics' gauges (gauges.ts), the options
 * (nodeOptions.ts).
 */
export class SluiceNode implements NodeApi {
  readonly address: Address;
  readonly store: ChannelStore;
  readonly driver: AdjudicatorDriver;
  /** The payment path's group commits (its own signatures, countersigned states). */
  readonly commits: CommitQueue;
  /** The channels' statuses: the only writer of them. */
  readonly lifecycle: ChannelLifecycle;
  /** What `GET /metrics` shows (a registry of this node's own). */
  readonly metrics: NodeMetrics;
  private readonly options: NodeOptions;
  private readonly signer: KeySigner;
  private readonly verifier: EcdsaVerifier;
  private readonly sender: TxSender;
  private chainId = 0n;
  /** Blocks an event needs to count: set at `start` from the option or the chain's default. */
  private confirmations = 1;
  private watcher: ChainWatcher | undefined;
  /** The channels by id, and the rules to find one. */
  private readonly sessions: ChannelSessions;
  /** The chain's time and the secrets revealed on it, read by the lock rules. */
  private readonly clock: ChainClock;
  /** The channels' deposits as the chain holds them. */
  private readonly deposits: Deposits;
  /** Cash-outs and this node's withdrawals: executed, retried, expired. */
  private readonly withdrawals: Withdrawals;
  /** Open, deposit, abandon, close, challenge, settle. */
  private readonly operations: ChannelOperations;
  /** What an action would cost on chain. */
  private readonly estimates: Estimates;
  /** The server, the dialers and the connections with peers. */
  private readonly peers: Peers;
  /** Payments through hubs, and forwarding as one (routing/routing.ts). */
  private readonly routing: Routing;
  /** The tower service and the link to this node's own tower, if configured. */
  private readonly towers: Towers;
  private readonly webhookDispatcher: WebhookDispatcher;
  private payer: InvoicePayer | undefined;
  private invoiceBook: InvoiceBook | undefined;
  private tokenBook: ApiTokens | undefined;
  private readonly assets = new Map<string, AssetInfo>();
  /** Told of what failed in the background (`options.onError`). */
  private readonly onError = (error: unknown, what: string): void => this.options.onError?.(error, what);

  constructor(options: NodeOptions) {
    checkNodeOptions(options);
    this.options = options;
    this.towers = new Towers(options);
    this.clock = new ChainClock(options.provider, this.onError, options.lockRules);
    this.signer = new KeySigner(options.privateKey);
    this.address = this.signer.address;
    this.store = ChannelStore.open(options.storePath);
    this.commits = new CommitQueue(this.store);
    this.lifecycle = new ChannelLifecycle(this.store);
    this.sessions = new ChannelSessions(this.lifecycle, (record) => this.newSession(record));
    const chainSigner = options.chainSigner ?? new Wallet(options.privateKey, options.provider);
    // Every transaction of the node goes through its sender, its pending ones kept in the store.
    this.sender = new TxSender(chainSigner, {
      journal: this.store.transactions,
      ...(options.maxFeeGwei === undefined ? {} : { maxFeeGwei: options.maxFeeGwei }),
      ...(options.replaceAfterMs === undefined ? {} : { replaceAfterMs: options.replaceAfterMs }),
      ...(options.pollMs === undefined ? {} : { pollMs: Math.min(options.pollMs, 1_000) }),
      ...(options.log === undefined ? {} : { log: options.log }),
      onTransaction: (change) => this.transactionEvent(change),
    });
    this.driver = new AdjudicatorDriver(options.adjudicator, chainSigner, this.sender);
    this.verifier = new EcdsaVerifier();
    this.metrics = new NodeMetrics(
      nodeGauges({ sessions: this.sessions, lifecycle: this.lifecycle, peerConnections: () => this.peers.openCount(), watcher: () => this.watcher }),
    );
    this.metrics.registerGauge(webhookBacklog(this.store));
    this.metrics.countCalls(this.driver);
    this.metrics.follow(this.store.events, this.commits);
    this.deposits = new Deposits({
      sessions: this.sessions,
      store: this.store,
      lifecycle: this.lifecycle,
      driver: this.driver,
      provider: options.provider,
      watcher: () => this.watcher,
      confirmations: () => this.confirmations,
      log: (line) => this.options.log?.(line),
      onError: this.onError,
    });
    this.withdrawals = new Withdrawals({
      sessions: this.sessions,
      lifecycle: this.lifecycle,
      driver: this.driver,
      chainTime: () => this.clock.chainTime(),
      confirmations: () => this.confirmations,
      window: options.withdrawalWindow ?? DEFAULT_WITHDRAWAL_WINDOW,
      afterSigned: (channelId) => this.options.testHooks?.afterWithdrawalSigned?.(channelId),
      onError: this.onError,
    });
    this.webhookDispatcher = new WebhookDispatcher(this.store.webhooks, this.store.events, { ...options.webhooks, onError: options.onError });
    this.routing = new Routing({
      store: this.store,
      commits: this.commits,
      address: this.address,
      policy: this.clock.lockRules,
      ...(options.hub === undefined ? {} : { fees: options.hub.fees }),
      margin: EXPIRY_MARGIN,
      openSessions: () => this.sessions.open(),
      session: (id) => this.sessions.get(id),
      connection: (peer) => this.peers.connection(peer),
      decode: (text) => this.decodeInvoice(text),
      onError: this.onError,
    });
    // After the routing: its handlers are among the peers'.
    this.peers = new Peers({
      transport: () => this.peerTransport(),
      handlers: peerHandlers({
        address: this.address,
        payee: this.payee,
        store: this.store,
        sessions: this.sessions,
        deposits: this.deposits,
        routing: this.routing.handlers,
        onError: this.onError,
      }),
      sessions: this.sessions,
      store: this.store,
      resumed: (session) => {
        this.invoicePayer.resolvePending(session);
        this.routing.resume(session);
      },
      onError: this.onError,
    });
    // What the channel operations and the estimates of them share: the node's address, payee and wallet, its channels.
    const account = {
      address: this.address,
      payee: this.payee,
      provider: options.provider,
      ...(options.challengePeriod === undefined ? {} : { challengePeriod: options.challengePeriod }),
      asset: (asset: Address) => this.asset(asset),
      driver: this.driver,
      lifecycle: this.lifecycle,
      sessions: this.sessions,
    };
    this.operations = new ChannelOperations({
      ...account,
      ...(options.openTimeouts === undefined ? {} : { openTimeouts: options.openTimeouts }),
      store: this.store,
      peers: this.peers,
      deposits: this.deposits,
      watcher: () => this.watcher,
    });
    this.estimates = new Estimates(account);
  }

  /** ws:// URL peers connect to. */
  get peerUrl(): string {
    return this.peers.url;
  }

  async start(): Promise<void> {
    this.chainId = (await this.options.provider.getNetwork()).chainId;
    // A backup restored here carries it: a store of another key, chain or adjudicator is refused.
    this.store.claimIdentity({ address: this.address, chainId: this.chainId, adjudicator: this.options.adjudicator });
    this.confirmations = this.options.confirmations ?? defaultConfirmations(this.chainId);
    for (const record of this.store.listChannels()) {
      if (record.protocol !== 2) {
        this.options.onError?.(new SluiceError(`channel ${record.channelId} was opened under protocol v1: skipped`), "loading channels");
        continue;
      }
      this.sessions.load(record);
    }
    await this.peers.listen(this.options.listen?.host ?? "127.0.0.1", this.options.listen?.port ?? 0);
    // Before the watcher: a tower port already taken fails the start with nothing else running.
    await this.towers.start({ store: this.store, driver: this.driver, transport: this.peerTransport(), confirmations: this.confirmations, onError: this.onError });
    // Transactions sent before a restart: mined, or sent again with their nonce before any new one.
    this.sender.resume().catch((error: unknown) => this.options.onError?.(error, "checking the transactions pending from before"));
    const locks = guardLocks({
      store: this.store,
      driver: this.driver,
      sessions: this.sessions,
      lifecycle: this.lifecycle,
      clock: this.clock,
      dispute: (id) => this.challenge(id),
      onError: this.onError,
    });
    await locks.learnReveals().catch((error: unknown) => this.options.onError?.(error, "reading the secrets registered on chain"));
    const events = new ChainEvents({
      sessions: this.sessions,
      lifecycle: this.lifecycle,
      store: this.store,
      clock: this.clock,
      deposits: this.deposits,
      withdrawals: this.withdrawals,
      invoicePayer: () => this.invoicePayer,
      routing: this.routing,
      log: (line) => this.options.log?.(line),
      onError: this.onError,
    });
    this.watcher = new ChainWatcher(this.driver, this.store, events, {
      owner: this.address,
      pollMs: this.options.pollMs,
      confirmations: this.confirmations,
      locks,
    });
    for (const session of this.sessions.values()) {
      if (!this.sessions.isConcluded(session.id)) await this.deposits.refresh(session.id);
      await this.watcher.recheck(session.id);
    }
    // Withdrawals signed before a restart: executed, expired or still to execute (the first round does it).
    await this.withdrawals.check();
    this.watcher.start();
    for (const peer of this.store.listPeers()) {
      if (this.sessions.hasLiveChannelWith(peer.address)) this.peers.dial(peer.url, peer.address);
    }
    this.webhookDispatcher.start();
  }

  async stop(): Promise<void> {
    // Before anything closes: the tower gets every channel's latest state.
    await this.towers.stop();
    // Requests in flight are cancelled; their events go again at the next start.
    await this.webhookDispatcher.stop();
    this.sender.close();
    await this.watcher?.stop();
    // Withdrawals being executed: their transactions are out; wait for the receipts (failures are retried at the next start).
    await this.withdrawals.settled();
    await this.peers.close();
    this.commits.drain();
    this.metrics.stop();
    this.store.close();
  }

  // ------------------------------------------------------------------ NodeApi

  async info(): Promise<NodeInfo> {
    const chain = chainView(this.watcher, this.options.provider);
    const blockNumber = await latestBlock(this.options.provider, chain);
    const hub = this.routing.hubView();
    return {
      address: this.address,
      chainId: this.chainId,
      adjudicator: this.options.adjudicator,
      peerUrl: this.peerUrl,
      blockNumber,
      channels: this.sessions.size,
      confirmations: this.confirmations,
      ...(chain === undefined ? {} : { chain }),
      ...this.towers.views(),
      ...(hub === undefined ? {} : { hub }),
    };
  }

  async asset(asset: Address): Promise<AssetInfo> {
    const key = asset.toLowerCase();
    const known = this.assets.get(key);
    if (known) return known;
    const info = await readAssetInfo(this.options.provider, asset);
    this.assets.set(key, info);
    return info;
  }

  async openChannel(request: OpenChannelRequest): Promise<ChannelView> {
    return this.channel(await this.operations.open(request));
  }

  async abandonChannel(channelId: Hex): Promise<ChannelView> {
    return this.channel(await this.operations.abandon(channelId));
  }

  async deposit(channelId: Hex, amount: bigint): Promise<ChannelView> {
    return this.channel(await this.operations.deposit(channelId, amount));
  }

  async pay(channelId: Hex, amount: bigint, paymentRef: PaymentRef): Promise<PaymentView> {
    return payPeer(this.sessions.live(channelId, "pay"), amount, paymentRef, this.metrics);
  }

  async channels(): Promise<ChannelView[]> {
    return Promise.all([...this.sessions.values()].map((session) => this.channel(session.id)));
  }

  async channel(channelId: Hex): Promise<ChannelView> {
    const session = this.sessions.find(channelId);
    return channelView(session, this.store.getChannel(session.id)!.status, { watcher: this.watcher, driver: this.driver });
  }

  payments(channelId: Hex, query: PaymentsQuery): Promise<PaymentView[]> {
    return new Promise((resolve) => resolve(listPayments(this.store, this.sessions.find(channelId), query)));
  }

  /** A page of the event log (`store.events`), in id order. */
  listEvents(query: EventsQuery): Promise<EventView[]> {
    return new Promise((resolve) => resolve(this.store.events.after(query.after ?? 0n, query.limit ?? DEFAULT_EVENTS_PAGE, query.types).map(eventView)));
  }

  close(channelId: Hex): Promise<TxView> {
    return this.operations.close(channelId);
  }

  challenge(channelId: Hex): Promise<TxView> {
    return this.operations.challenge(channelId);
  }

  settle(channelId: Hex): Promise<TxView> {
    return this.operations.settle(channelId);
  }

  cashOut(channelId: Hex, amount: bigint): Promise<CashOutView> {
    return this.withdrawals.cashOut(channelId, amount);
  }

  async withdraw(asset: Address): Promise<TxView> {
    const result = await this.driver.withdraw(asset);
    return { hash: result.hash, blockNumber: BigInt(result.blockNumber), gasUsed: result.gasUsed };
  }

  /** Mints a test token with this node's signer, to this node by default (development chains only). */
  mint(asset: Address, amount: bigint, to?: Address): Promise<TxView> {
    return devMint(this.driver.runner, this.chainId, { asset, amount, to: to ?? this.address });
  }

  async prove(channelId: Hex, seq: bigint): Promise<ProofView> {
    return proofOf(this.store, this.driver, this.sessions.find(channelId), seq);
  }

  // ------------------------------------------------------------------ the dashboard's reads

  /** What an action would cost on chain now, or its typed refusal: nothing is signed or sent. */
  estimate(request: EstimateRequest): Promise<EstimateView> {
    return this.estimates.estimate(request);
  }

  /** The adjudicator's credits of this node's payees and its own address, per asset of its channels (and ETH). */
  listCredits(): Promise<CreditView[]> {
    return creditViews(this.driver, this.address, this.payee, this.sessions.values());
  }

  // ------------------------------------------------------------------ API tokens

  /** The scoped tokens of the local API (the server asks it for each request's scope). */
  get apiTokens(): ApiTokens {
    return (this.tokenBook ??= new ApiTokens(this.store.tokens));
  }

  createToken(scope: Scope, name?: string): Promise<CreatedTokenView> {
    return new Promise((resolve) => resolve(this.apiTokens.create(scope, name)));
  }

  tokens(): Promise<TokenView[]> {
    return new Promise((resolve) => resolve(this.apiTokens.list()));
  }

  revokeToken(id: bigint): Promise<TokenView> {
    return new Promise((resolve) => resolve(this.apiTokens.revoke(id)));
  }

  async backup(file: string, force: boolean): Promise<BackupView> {
    const { bytes, states, channels } = await this.store.backup(file, { force });
    return { file, bytes, states, channels };
  }

  // ------------------------------------------------------------------ invoices (this node as payee)

  createInvoice(request: CreateInvoiceRequest): Promise<InvoiceView> {
    return this.withInvoices((book) => book.create(request));
  }

  invoice(key: bigint | Hex): Promise<InvoiceView> {
    return this.withInvoices((book) => book.get(key));
  }

  invoices(query: InvoicesQuery = {}): Promise<InvoiceView[]> {
    return this.withInvoices((book) => book.list(query));
  }

  cancelInvoice(id: bigint): Promise<InvoiceView> {
    return this.withInvoices((book) => book.cancel(id));
  }

  decodeInvoice(text: string): Promise<DecodedInvoiceView> {
    return this.withInvoices((book) => book.decode(text));
  }

  // ------------------------------------------------------------------ webhooks

  addWebhook(request: AddWebhookRequest): Promise<WebhookView> {
    return new Promise((resolve) => {
      const record = this.store.webhooks.add(newWebhook(request));
      this.webhookDispatcher.wake(record.id);
      resolve(webhookViewOf(record, true));
    });
  }

  webhooks(): Promise<WebhookView[]> {
    return new Promise((resolve) => resolve(this.store.webhooks.list().map((record) => webhookViewOf(record))));
  }

  removeWebhook(id: bigint): Promise<WebhookView> {
    return new Promise((resolve) => {
      const record = this.store.webhooks.get(id);
      if (record === null || !this.store.webhooks.remove(id)) throw new UnknownWebhookError(String(id));
      this.webhookDispatcher.forget(id);
      resolve(webhookViewOf(record));
    });
  }

  /** Pays an invoice over this node's open channel with its payee, else through hubs (`route`: explicit); resolves with the receipt once unlocked. */
  payInvoice(text: string, route?: Address[]): Promise<PaymentView> {
    return this.invoicePayer.pay(text, route);
  }

  /** The locks this node forwarded as a hub, newest first. */
  forwards(query: ForwardsQuery = {}): Promise<ForwardView[]> {
    return new Promise((resolve) => resolve(this.routing.forwards(query)));
  }

  /** Invoices paid and received over direct channels with hashlocked transfers. */
  private get invoicePayer(): InvoicePayer {
    return (this.payer ??= new InvoicePayer({
      store: this.store,
      commits: this.commits,
      address: this.address,
      decode: (text) => this.decodeInvoice(text),
      openSessions: () => this.sessions.open(),
      policy: this.clock.lockRules,
      onError: this.onError,
      routing: this.routing.payer,
    }));
  }

  /** Runs `fn` on this node's invoices (they need the chain id, known once started); a throw rejects. */
  private async withInvoices<T>(fn: (book: InvoiceBook) => T | Promise<T>): Promise<T> {
    if (this.chainId === 0n) throw new SluiceError("the node is not started");
    // The lock rules' clock: an invoice's expiry and "expired" agree with the locks that pay it (a chain ahead of the wall clock).
    this.invoiceBook ??= new InvoiceBook({ store: this.store, signer: this.signer, chainId: this.chainId, adjudicator: this.options.adjudicator, now: () => Number(this.clock.lockRules.clock()) * 1000 });
    return await fn(this.invoiceBook);
  }

  // ------------------------------------------------------------------ wiring

  /** A transaction of the node's sender, as an event (`chain.tx.sent`, `.replaced`, `.confirmed`, `.failed`). */
  private transactionEvent(change: TxChange): void {
    const { kind, nonce, ...rest } = change;
    this.store.appendEvent(`chain.tx.${kind}`, null, { ...rest, nonce: nonce.toString() });
  }

  /** The transport settings of the node's connections (its peers', its tower's). */
  private peerTransport(): PeerTransport {
    return { ...this.options.transport, chainId: this.chainId, adjudicator: this.options.adjudicator, identity: keyIdentity(this.options.privateKey) };
  }

  /** Where this node's payouts go by default. */
  private get payee(): Address {
    return this.options.payee ?? this.address;
  }

  /** The session of a stored channel, wired to this node. */
  private newSession(record: ChannelRecord): ChannelSession {
    return new ChannelSession({
      params: record.params,
      me: record.myIndex,
      signer: this.signer,
      verifier: this.verifier,
      chainId: this.chainId,
      adjudicator: this.options.adjudicator,
      store: this.store,
      commits: this.commits,
      maxProposalsInFlight: this.options.proposalsInFlight,
      deposits: record.deposits,
      withdrawn: record.withdrawn,
      chainTime: () => this.clock.chainTime(),
      maxWithdrawalWindow: this.options.maxWithdrawalWindow ?? DEFAULT_MAX_WITHDRAWAL_WINDOW,
      checkWithdrawable: (what) => this.sessions.checkWithdrawable(record.channelId, what),
      lockPolicy: this.clock.lockRules,
      onLocks: (s, committed) => {
        // The payer first: it leaves alone the locks the hub has instructions for, which the hub then takes.
        this.invoicePayer.onLocks(s, committed);
        this.routing.onLocks(s, committed);
      },
    });
  }
}
