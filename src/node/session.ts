import {
  Countersigner,
  MAX_PAYMENTS_PER_STATE,
  MAX_VERSION_GAP,
  Sequencer,
  SyncRejectedError,
  openingState,
  decodeMessageOf,
  encodeMessage,
  type BatchProposal,
  type ChannelSnapshot,
  type CommittedUpdate,
  type FinalProposal,
  type LockPolicy,
  type LockRef,
  type PaymentEntry,
  type PaymentRequest,
  type UpdateEntry,
  type UpdateRequest,
  type UpdatesProposal,
  type WithdrawalRecord,
  UnknownWithdrawalError,
} from "../channel";
import type { SignatureVerifier, StateHasher, StateSigner } from "../crypto";
import type { PaymentProof } from "../merkle";
import { InvalidArgumentError, SluiceError, WrongRoleError } from "../errors";
import type { Address, Hex, Lock, Params, Payment, SignedState, SignedWithdrawal } from "../types";
import { CommitQueue } from "./commitQueue";
import { OwnPayments, type DonePayment } from "./ownPayments";
import { channelId as channelIdOf } from "../crypto";
import { SYNC_PAGE, decodeSyncReply, decodeWithdrawalsReply, type PeerMessages, type SyncItem, type SyncReply } from "./protocol";
import { ChannelResyncRequiredError, type ChannelStore } from "./store";
import { ConnectionClosedError, RemoteError, RequestTimeoutError, type PeerConnection } from "./transport";

export { SyncRejectedError };
export type { DonePayment };

/** Leaf hashes read from the store per query when a channel's payment log is rebuilt at start (the store's largest page). */
export const RESTORE_PAGE = 1_000_000;

/** The peer is not connected; the operation can be retried once it is. */
export class PeerOfflineError extends SluiceError {
  static override readonly code: string = "PEER_OFFLINE";
  override readonly name: string = "PeerOfflineError";
  constructor(readonly peer: Address) {
    super(`peer ${peer} is not connected`);
  }
}

/** The peer refused an update; nothing changed on either side. */
export class PeerRejectedError extends SluiceError {
  static override readonly code: string = "PEER_REJECTED";
  override readonly name: string = "PeerRejectedError";
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`the peer rejected the update (${code}): ${message}`, options);
  }
}

interface Waiter {
  resolve(done: DonePayment): void;
  reject(error: unknown): void;
}

/** Participant 1: its lock update request waiting for the countersigned state. */
interface UpdateWaiter {
  resolve(committed: CommittedUpdate): void;
  reject(error: unknown): void;
}

/**
 * A lock update this side makes: lock `amount` to the peer, unlock a pending lock with its secret,
 * give back (cancel) a lock the peer sent, or drop (expire) its own lock past its expiry.
 */
export type LockAction =
  | { kind: "lock"; amount: bigint; hashlock: Hex; expiry: bigint; ref: Hex }
  | { kind: "unlock"; lock: LockRef; secret: Hex }
  | { kind: "cancel"; lock: LockRef }
  | { kind: "expire"; lock: LockRef };

/**
 * Participant 0: a payment or lock update waiting for the next proposal, with its caller's
 * promise. Payments and lock updates go in separate states (their callers read different results).
 */
interface Queued {
  entry: UpdateEntry;
  lock: boolean;
  settle(proposal: BatchProposal | UpdatesProposal, index: number, committed: CommittedUpdate, committedAt: number): void;
  reject(error: unknown): void;
}

export interface SessionConfig {
  params: Params;
  me: 0 | 1;
  signer: StateSigner;
  verifier: SignatureVerifier;
  chainId: bigint;
  adjudicator: Address;
  store: ChannelStore;
  commits: CommitQueue;
  deposits: readonly [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals. */
  withdrawn: readonly [bigint, bigint];
  /** Participant 0: payment proposals awaiting an answer at most (default DEFAULT_PROPOSALS_IN_FLIGHT). */
  maxProposalsInFlight?: number;
  /** The chain's time: the latest block's timestamp (withdrawal expiries are block timestamps). */
  chainTime(): Promise<bigint>;
  /** The longest a peer's withdrawal may stay valid that this side countersigns (seconds). */
  maxWithdrawalWindow: bigint;
  /** Throws unless the channel takes withdrawals now (open on chain, not closing or disputed). */
  checkWithdrawable(what: string): void;
  /** Leaf hashes read per query when the payment log is rebuilt at start (default RESTORE_PAGE). */
  restorePage?: number;
  /** The lock rules (the node's: clock = max(wall clock, latest block), secrets revealed on chain). */
  lockPolicy?: Partial<LockPolicy>;
  /**
   * Called when a state that added or removed locks is queued for disk (with the update that did
   * it), in the same turn: the group-commit writes it queues share the state's commit and settle
   * only once the state is on disk (anything sent to a peer waits for that).
   */
  onLocks?(session: ChannelSession, committed: CommittedUpdate): void;
}

/** Versions participant 0 reserves on disk at a time (see `ChannelSession.reserve`); far below MAX_VERSION_GAP. */
export const VERSION_RESERVATION = 4096n;

/** Proposals participant 0 keeps in flight by default: enough to pipeline, few enough that load batches. */
export const DEFAULT_PROPOSALS_IN_FLIGHT = 2;

/**
 * One channel of this node: its `Channel` state machine, bound to the store and to the current
 * connection with the peer. No signature leaves the process before its version is reserved on
 * disk (a final state is written itself), and a payment counts as done only once the
 * countersigned state is on disk.
 *
 * Participant 0 proposes every state (pipelined: proposals go out in version order without
 * waiting for acknowledgements); participant 1 asks for its own payments with a request and
 * countersigns every proposal. Participant 0 batches: the payments (its own and participant 1's
 * requests) that arrive in one turn of the event loop go into one state, up to
 * MAX_PAYMENTS_PER_STATE, and with `maxProposalsInFlight` proposals unanswered the next ones
 * wait and go together; so under load one signature pair covers many payments, and one at a
 * time a payment still goes out at once.
 */
export class ChannelSession {
  readonly id: Hex;
  readonly params: Params;
  readonly me: 0 | 1;
  readonly peerAddress: Address;
  private channel: Sequencer | Countersigner;
  private readonly config: SessionConfig;
  private connection: PeerConnection<PeerMessages> | undefined;
  /** Participant 1: its requests waiting for the countersigned payment. */
  private readonly waiters = new Map<bigint, Waiter>();
  /** Participant 1: its lock update requests waiting for the countersigned state. */
  private readonly updateWaiters = new Map<bigint, UpdateWaiter>();
  /** Participant 0: payments for the next proposal, in arrival order. */
  private outbox: Queued[] = [];
  private flushScheduled = false;
  /** Participant 0: payment proposals sent and not yet answered. */
  private proposalsInFlight = 0;
  /** The peer's withdrawal proposals being checked and countersigned (see `withdrawalsReply`). */
  private readonly countersigning = new Set<Promise<unknown>>();
  /** Participant 0: the highest version reserved on disk (see `reserve`). */
  private reservedUpTo: bigint;
  private reserving: Promise<void> | undefined;
  /** This node's payments by ref: a retried payment finds the first one. */
  private readonly own: OwnPayments;
  /** Restored from a backup and not resynced since: signs nothing (see `requireResynced`). */
  private restored: boolean;

  private readonly maxProposalsInFlight: number;

  constructor(config: SessionConfig) {
    this.config = config;
    this.maxProposalsInFlight = config.maxProposalsInFlight ?? DEFAULT_PROPOSALS_IN_FLIGHT;
    this.params = config.params;
    this.me = config.me;
    this.peerAddress = config.params.participants[config.me === 0 ? 1 : 0];
    this.id = channelIdOf(config.params);
    this.reservedUpTo = config.store.reservedVersion(this.id) ?? 0n;
    this.restored = config.store.resyncRequired(this.id);
    this.own = new OwnPayments(this.id, (ref) => {
      const record = config.store.firstPaymentBy(this.id, this.me, ref);
      if (record === null) return undefined;
      const { payment, version, committedAt, memo } = record;
      return { payment, version, ...(committedAt === undefined ? {} : { committedAt }), ...(memo === undefined ? {} : { memo }) };
    });
    // After a restart, every version up to the reservation may have been signed and sent.
    // (Reading the stored payment log also tells `own` which refs this node paid with.)
    this.channel = this.makeChannel(this.snapshot(this.reservedUpTo));
  }

  get latest(): SignedState {
    return this.channel.latest;
  }

  get deposits(): readonly [bigint, bigint] {
    return this.channel.deposits;
  }

  get withdrawn(): readonly [bigint, bigint] {
    return this.channel.withdrawn;
  }

  get paymentCount(): number {
    return this.channel.paymentCount;
  }

  get payouts(): [bigint, bigint] {
    return this.channel.payouts;
  }

  get hasher(): StateHasher {
    return this.channel.hasher;
  }

  get isConnected(): boolean {
    return this.connection?.isOpen === true;
  }

  /** True while the channel, restored from a backup, has not resynced with its peer. */
  get resyncRequired(): boolean {
    return this.restored;
  }

  /**
   * Refuses to `action` (ChannelResyncRequiredError) while the channel, restored from a backup, has
   * not resynced with its peer: the backup may predate versions this node signed.
   */
  requireResynced(action: string): void {
    if (this.restored) throw new ChannelResyncRequiredError(this.id, action);
  }

  /** The proof of payment `seq` against the latest state's root (the payment read from the store). */
  proof(seq: bigint): PaymentProof {
    const proof = this.channel.leafProof(seq);
    const record = this.config.store.payment(this.id, seq);
    if (!record) throw new InvalidArgumentError(`channel ${this.id} has no payment ${seq}`);
    return { payment: record.payment, ...proof };
  }

  setDeposits(deposits: readonly [bigint, bigint]): void {
    this.channel.setDeposits(deposits);
  }

  /**
   * The chain's cumulative withdrawals (they never fall: a lower value is ignored), into the
   * state machine and the store; the withdrawals they execute are stored as executed.
   */
  setWithdrawn(withdrawn: readonly [bigint, bigint], txHash?: Hex): WithdrawalRecord[] {
    const before = this.channel.withdrawn;
    const executed = this.channel.setWithdrawn(withdrawn);
    const after = this.channel.withdrawn;
    if (after[0] !== before[0] || after[1] !== before[1]) this.config.store.setWithdrawn(this.id, after);
    for (const record of executed) this.config.store.putWithdrawal(this.id, txHash === undefined ? record : { ...record, txHash });
    // A chain read without a transaction may have marked it executed first: the hash comes later.
    if (txHash !== undefined) {
      for (const record of this.config.store.withdrawals(this.id)) {
        const { participant, total } = record.withdrawal;
        if (record.status === "executed" && !record.txHash && total === withdrawn[participant]) {
          this.config.store.putWithdrawal(this.id, { ...record, txHash });
        }
      }
    }
    return executed;
  }

  /** Live withdrawals of both sides (proposed by this side, or signed by both), oldest first. */
  get withdrawals(): WithdrawalRecord[] {
    return this.channel.withdrawals;
  }

  /** What participant `who` has withdrawn, or signed to withdraw and not yet executed. */
  withdrawnOrPending(who: 0 | 1): bigint {
    return this.channel.withdrawnOrPending(who);
  }

  /** Drops the live withdrawals whose expiry is before `now` (read withdrawals first: see Channel.expireWithdrawals). */
  expireWithdrawals(now: bigint): WithdrawalRecord[] {
    return this.stored(this.channel.expireWithdrawals(now));
  }

  /** The channel concluded: its live withdrawals can no longer be executed. */
  voidWithdrawals(): WithdrawalRecord[] {
    return this.stored(this.channel.voidWithdrawals());
  }

  private stored(records: WithdrawalRecord[]): WithdrawalRecord[] {
    for (const record of records) this.config.store.putWithdrawal(this.id, record);
    return records;
  }

  // ------------------------------------------------------------------ withdrawals while open

  /**
   * Takes `amount` out of the open channel to this side's payee: proposes the withdrawal (valid for
   * `window` seconds of chain time), which the peer checks, countersigns and stores before it
   * answers; resolves with the withdrawal signed by both, on disk. Nothing changes if the peer is
   * offline or the amount is refused here: a connection that closes before the proposal leaves
   * the process (while this side reads the chain's time, signs or stores it) drops the proposal
   * and refuses with PeerOfflineError, since the peer cannot hold what never reached it. A
   * refusal by the peer (or a send that failed before the frame went out) drops it too. If the
   * proposal left and the answer is lost (the connection closed or timed out after the send), it
   * keeps counting as spent until the next sync with the peer tells whether it countersigned (or
   * until it expires).
   */
  async cashOut(amount: bigint, window: bigint): Promise<SignedWithdrawal> {
    this.requireResynced("cash out");
    this.requireConnection();
    const now = await this.config.chainTime();
    const connection = this.requireConnection();
    const proposal = await this.channel.proposeWithdrawal(amount, now + window);
    const total = proposal.withdrawal.total;
    // Signing and storing took turns of the event loop: if the connection closed meanwhile, the
    // proposal never left. (Between this check and `request` nothing yields, so the frame goes out.)
    if (!connection.isOpen) {
      this.stored(compact([await this.channel.abandonWithdrawal(total)]));
      throw new PeerOfflineError(this.peerAddress);
    }
    let reply: unknown;
    try {
      reply = await connection.request("channel", { channelId: this.id, message: encodeMessage(proposal) });
    } catch (error) {
      // Only a closed connection or a timeout may follow a frame that reached the peer; a refusal
      // (RemoteError) or a send refused locally (backpressure, encoding) leaves nothing at the peer.
      const mayHaveArrived = error instanceof ConnectionClosedError || error instanceof RequestTimeoutError;
      if (!mayHaveArrived) this.stored(compact([await this.channel.abandonWithdrawal(total)]));
      // No answer in time on a live connection: ask the peer which withdrawals it holds (it answers
      // after it handled the proposal, if it got it), so the proposal does not wait for a reconnect.
      else if (connection.isOpen) await this.syncWithdrawals(connection).catch(() => undefined);
      throw this.peerError(error);
    }
    try {
      return await this.channel.receiveWithdrawalAck(decodeMessageOf("withdrawal-ack", reply));
    } catch (error) {
      // A resync (after a reconnect meanwhile) may have adopted the peer's countersignature, both
      // signatures checked, before this answer was read: the withdrawal is then signed already.
      const adopted =
        error instanceof UnknownWithdrawalError
          ? this.channel.withdrawals.find((r) => r.status === "signed" && r.withdrawal.participant === this.me && r.withdrawal.total === total)
          : undefined;
      if (!adopted) throw error;
      return { withdrawal: adopted.withdrawal, sigs: adopted.sigs };
    }
  }

  /**
   * Answers a peer's `withdrawals`: the live withdrawals both signed that this side counts, once
   * every proposal of the peer that arrived before the question has been handled (the peer drops
   * a proposal this answer lacks, so one still being countersigned must not be left out).
   */
  async withdrawalsReply(): Promise<SignedWithdrawal[]> {
    await Promise.allSettled([...this.countersigning]);
    return this.channel.signedWithdrawals();
  }

  /** After a reconnect: learns which withdrawals the peer holds signed, and drops own proposals it never countersigned. */
  private async syncWithdrawals(connection: PeerConnection<PeerMessages>): Promise<void> {
    // Only the proposals sent before the question may be dropped for a missing countersignature.
    // Read through the channel's queue: a proposal made before it has been sent by then (`cashOut`
    // sends it as soon as it gets it back), and the question leaves right after.
    const asked = await this.channel.proposedWithdrawals();
    const held = decodeWithdrawalsReply(await connection.request("withdrawals", { channelId: this.id }));
    this.stored(await this.channel.syncWithdrawals(held, asked));
  }

  /** Binds the session to a (new) connection with the peer and catches up with it. */
  async attach(connection: PeerConnection<PeerMessages>): Promise<void> {
    this.connection = connection;
    connection.once("close", (error) => this.detach(connection, error));
    await this.sync();
  }

  private detach(connection: PeerConnection<PeerMessages>, error: ConnectionClosedError): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    const channel = this.channel;
    if (channel instanceof Sequencer) {
      void channel.abandonPending().catch(() => undefined);
      return;
    }
    for (const [id, waiter] of this.waiters) {
      waiter.reject(error);
      void channel.cancelRequest(id).catch(() => undefined);
    }
    this.waiters.clear();
    for (const [id, waiter] of this.updateWaiters) {
      waiter.reject(error);
      void channel.cancelUpdateRequest(id).catch(() => undefined);
    }
    this.updateWaiters.clear();
  }

  // ------------------------------------------------------------------ paying

  /**
   * Pays the peer; resolves once the countersigned state is on disk (with `memo`, the text `ref`
   * was hashed from, in the same commit). `ref` is the payment's idempotency key in the channel:
   * see `OwnPayments`.
   */
  pay(amount: bigint, ref: Hex, memo?: string): Promise<DonePayment> {
    this.requireResynced("pay");
    return this.own.pay(amount, ref, memo, () => {
      const channel = this.channel;
      if (channel instanceof Countersigner) return this.payAsRequester(channel, amount, ref);
      this.requireConnection();
      return this.enqueue({ kind: "pay", amount, ref });
    });
  }

  /** Participant 0: queues a payment for the next proposal (at the end of this turn, or when one in flight is answered). */
  private enqueue(entry: PaymentEntry): Promise<DonePayment> {
    return new Promise<DonePayment>((resolve, reject) => {
      const settle = (proposal: BatchProposal | UpdatesProposal, index: number, _: CommittedUpdate, committedAt: number) =>
        resolve({ payment: (proposal as BatchProposal).payments[index].payment, version: proposal.state.version, committedAt });
      this.queue({ entry, lock: false, settle, reject });
    });
  }

  /** Participant 0: queues a lock update (its own or participant 1's request) for the next proposal, as `enqueue` does payments. */
  private enqueueUpdate(entry: UpdateEntry): Promise<CommittedUpdate> {
    return new Promise<CommittedUpdate>((resolve, reject) => this.queue({ entry, lock: true, settle: (_p, _i, committed) => resolve(committed), reject }));
  }

  private queue(queued: Queued): void {
    this.outbox.push(queued);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushOutbox());
    }
  }

  /**
   * Proposes the queued payments and lock updates, up to MAX_PAYMENTS_PER_STATE of one sort a
   * state, while fewer than `maxProposalsInFlight` proposals await an answer; the rest wait for the
   * next answer and then go together (so under load a state carries what arrived during one round trip).
   */
  private flushOutbox(): void {
    this.flushScheduled = false;
    while (this.outbox.length > 0 && this.proposalsInFlight < this.maxProposalsInFlight) {
      this.proposalsInFlight++;
      void this.proposeBatch(this.outbox.splice(0, this.sameSortAhead())).finally(() => {
        this.proposalsInFlight--;
        if (this.outbox.length > 0) this.flushOutbox();
      });
    }
  }

  /** How many entries at the head of the outbox are of the first one's sort (payments or lock updates), at most MAX_PAYMENTS_PER_STATE. */
  private sameSortAhead(): number {
    const lock = this.outbox[0].lock;
    let n = 1;
    while (n < this.outbox.length && n < MAX_PAYMENTS_PER_STATE && this.outbox[n].lock === lock) n++;
    return n;
  }

  /**
   * Participant 0: proposes one state with every queued entry that passes the channel's checks
   * (the others fail alone, with their error) and settles each caller once the peer countersigned
   * it and it is on disk.
   */
  private async proposeBatch(batch: Queued[]): Promise<void> {
    let included: Queued[] | undefined;
    let proposal: BatchProposal | UpdatesProposal;
    let done: { committed: CommittedUpdate; committedAt: number };
    try {
      const connection = this.requireConnection();
      const result = await this.sequencer().proposeUpdates(batch.map((q) => q.entry));
      for (const { index, error } of result.rejected) batch[index].reject(error);
      if (!result.proposal) return;
      proposal = result.proposal;
      const left = new Set(result.rejected.map((r) => r.index));
      included = batch.filter((_, i) => !left.has(i));
      done = await this.propose(connection, proposal);
    } catch (error) {
      for (const q of included ?? batch) q.reject(error);
      return;
    }
    included.forEach((q, i) => q.settle(proposal, i, done.committed, done.committedAt));
  }

  private async payAsRequester(channel: Countersigner, amount: bigint, ref: Hex): Promise<DonePayment> {
    const connection = this.requireConnection();
    const request = await channel.requestPayment(amount, ref);
    return this.sendRequest(connection, request, this.waiters, (id) => channel.cancelRequest(id));
  }

  /**
   * Participant 1: sends a request and resolves when the state that answers it is on disk (its
   * waiter, in `waiters`, is settled by `persist`); a refused or failed send cancels the request.
   */
  private async sendRequest<T>(
    connection: PeerConnection<PeerMessages>,
    request: PaymentRequest | UpdateRequest,
    waiters: Map<bigint, { resolve(value: T): void; reject(error: unknown): void }>,
    cancel: (id: bigint) => Promise<unknown>,
  ): Promise<T> {
    const done = new Promise<T>((resolve, reject) => waiters.set(request.id, { resolve, reject }));
    try {
      await connection.request("channel", { channelId: this.id, message: encodeMessage(request) });
    } catch (error) {
      const waiter = waiters.get(request.id);
      if (waiter) {
        waiters.delete(request.id);
        await cancel(request.id);
        waiter.reject(this.peerError(error));
      }
    }
    return done;
  }

  // ------------------------------------------------------------------ locks

  /** The pending locks of the latest state both signed. */
  get locks(): Lock[] {
    return this.channel.locks;
  }

  /** How many locks the latest state both signed has pending. */
  get lockCount(): number {
    return this.channel.lockCount;
  }

  /** The pending lock of the latest state both signed with this leaf (`lockLeafHex`), if any. */
  pendingLock(leaf: Hex): Lock | undefined {
    return this.channel.pendingLock(leaf);
  }

  /**
   * Makes one lock update with the peer (participant 0 proposes it, participant 1 asks for it and
   * countersigns); resolves with the committed update once the state is on disk.
   */
  async updateLock(action: LockAction): Promise<CommittedUpdate> {
    this.requireResynced(`${action.kind} a lock`);
    const connection = this.requireConnection();
    const channel = this.channel;
    if (channel instanceof Sequencer) return this.enqueueUpdate(action);
    const request = await this.requestOf(channel, action);
    return this.sendRequest(connection, request, this.updateWaiters, (id) => channel.cancelUpdateRequest(id));
  }

  private requestOf(channel: Countersigner, action: LockAction): Promise<UpdateRequest> {
    switch (action.kind) {
      case "lock":
        return channel.requestLock(action.amount, action.hashlock, action.expiry, action.ref);
      case "unlock":
        return channel.requestUnlock(action.lock, action.secret);
      case "cancel":
        return channel.requestCancel(action.lock);
      case "expire":
        return channel.requestExpire(action.lock);
    }
  }

  /**
   * Participant 0: makes its signature durable (a payment state's version within the reserved
   * range, a final state itself), sends the proposal, and commits on the peer's acknowledgement.
   * A rejection, or a failure to write, voids this proposal and every later one.
   */
  private async propose(
    connection: PeerConnection<PeerMessages>,
    proposal: BatchProposal | UpdatesProposal | FinalProposal,
  ): Promise<{ committed: CommittedUpdate; committedAt: number }> {
    const channel = this.sequencer();
    try {
      this.requireResynced("propose a state");
      if (proposal.kind === "final") await this.config.commits.ownSignature(this.id, proposal.state, proposal.sig);
      else await this.reserve(proposal.state.version);
    } catch (error) {
      await channel.abandonPending(proposal.state.version);
      throw error;
    }
    let reply: unknown;
    try {
      reply = await connection.request("channel", { channelId: this.id, message: encodeMessage(proposal) });
    } catch (error) {
      await channel.abandonPending(proposal.state.version);
      throw this.peerError(error);
    }
    // The channel checks the ack (it decodes it); the write is queued before the next ack is handled.
    const committed = await channel.receiveAck(reply);
    return { committed, committedAt: await this.persist(committed) };
  }

  /**
   * Participant 0 signs payment states without writing each signature: before the first version
   * above the reserved range leaves the process, it reserves the next VERSION_RESERVATION versions
   * on disk, and after a restart it proposes above them. So no version is ever signed twice, at
   * one commit per VERSION_RESERVATION states instead of one per state.
   */
  private async reserve(version: bigint): Promise<void> {
    while (version > this.reservedUpTo) {
      if (!this.reserving) {
        const upTo = version + VERSION_RESERVATION;
        this.reserving = this.config.commits.reserveVersions(this.id, upTo).then(
          () => {
            if (upTo > this.reservedUpTo) this.reservedUpTo = upTo;
            this.reserving = undefined;
          },
          (error: unknown) => {
            this.reserving = undefined;
            throw error;
          },
        );
      }
      await this.reserving;
    }
  }

  /** Agrees on a final state with the peer; resolves with it once it is on disk. */
  async finalize(): Promise<SignedState> {
    this.requireResynced("close");
    const connection = this.requireConnection();
    const channel = this.channel;
    if (!channel.isFinal) {
      if (channel instanceof Sequencer) {
        await this.propose(connection, await channel.proposeFinal());
      } else {
        const request = await channel.requestFinal();
        try {
          await connection.request("channel", { channelId: this.id, message: encodeMessage(request) });
        } catch (error) {
          throw this.peerError(error);
        }
        // The peer answers only after this side countersigned the final state and stored it.
      }
    }
    if (!this.channel.isFinal) throw new SluiceError(`channel ${this.id} has no final state yet`);
    return this.channel.latest;
  }

  // ------------------------------------------------------------------ the peer's messages

  /** Handles a channel message from the peer and returns the reply body. */
  async handle(connection: PeerConnection<PeerMessages>, message: PeerMessages["channel"]["message"]): Promise<unknown> {
    this.requireResynced("answer the peer's update");
    const channel = this.channel;
    switch (message.kind) {
      case "payment":
      case "payments":
      case "updates":
      case "final": {
        if (!(channel instanceof Countersigner)) throw new WrongRoleError(0, "countersign a proposal", "participant 0 proposes every state");
        const { committed, send } = await channel.countersign(message);
        // The acknowledgement leaves only once the countersigned state is on disk.
        await this.persist(committed);
        return encodeMessage(send);
      }
      case "request":
        if (!(channel instanceof Sequencer)) throw new WrongRoleError(1, "serve a payment request", "participant 0 sequences");
        await this.enqueue(message);
        return {};
      case "final-request": {
        if (!(channel instanceof Sequencer)) throw new WrongRoleError(1, "serve a final-state request", "participant 0 sequences");
        await this.propose(connection, await channel.receiveFinalRequest(message));
        return {};
      }
      case "withdrawal": {
        // Registered before anything yields: a `withdrawals` question that arrives after it waits for it.
        const answer = this.countersignWithdrawal(message);
        this.countersigning.add(answer);
        const done = () => this.countersigning.delete(answer);
        void answer.then(done, done);
        return answer;
      }
      case "update-request": {
        if (!(channel instanceof Sequencer)) throw new WrongRoleError(1, "serve a lock update request", "participant 0 sequences");
        await this.enqueueUpdate(message);
        return {};
      }
      case "ack":
      case "withdrawal-ack":
        throw new SluiceError("acknowledgements travel as replies, not as requests");
    }
  }

  /** Checks the peer's withdrawal and countersigns it; the channel stores it, signed by both, before the countersignature leaves. */
  private async countersignWithdrawal(message: PeerMessages["channel"]["message"]): Promise<unknown> {
    this.config.checkWithdrawable("countersign a withdrawal");
    const now = await this.config.chainTime();
    return encodeMessage(await this.channel.receiveWithdrawal(message, now, this.config.maxWithdrawalWindow));
  }

  /**
   * Answers a peer's sync: the countersigned states above its latest, with their payments: at
   * most SYNC_PAGE states and, past the first, MAX_PAYMENTS_PER_STATE payments, so the reply fits
   * in one transport frame.
   */
  syncReply(version: bigint): SyncReply {
    if (this.channel.latest.state.version <= version) return { items: [], more: false };
    const items: SyncItem[] = [];
    let payments = 0;
    for (const item of this.config.store.statesAfter(this.id, version, SYNC_PAGE)) {
      payments += item.payments.length;
      if (items.length > 0 && payments > MAX_PAYMENTS_PER_STATE) break;
      // A state that changed locks travels with its updates: the peer checks them (`verifyHistory`).
      const updates = this.config.store.locks.updatesOf(item.signed);
      items.push(updates === undefined ? item : { ...item, updates });
    }
    const last = items[items.length - 1];
    return { items, more: last !== undefined && last.signed.state.version < this.channel.latest.state.version };
  }

  /**
   * Catches up with the peer: asks for the countersigned states above this side's latest and
   * adopts them if every one checks out: both signatures, versions rising, each payment the next
   * in the log, the transfers growing by exactly that payment, the root matching the log. After a
   * crash of participant 0 this is how it learns the states participant 1 countersigned.
   */
  async sync(): Promise<void> {
    const connection = this.requireConnection();
    const restored = this.restored;
    // A restored channel first learns the withdrawals signed since the backup: the states it adopts are checked against them.
    if (restored) await this.syncWithdrawals(connection);
    for (;;) {
      const raw = await connection.request("sync", { channelId: this.id, version: this.channel.latest.state.version.toString() });
      const reply = decodeSyncReply(raw);
      const last = !reply.more || reply.items.length === 0;
      if (reply.items.length > 0) await this.adopt(reply.items, restored && last);
      else if (restored) await this.resynced(this.channel.latest.state.version);
      if (last) break;
    }
    if (!restored) await this.syncWithdrawals(connection);
    else this.resumeAfterRestore();
  }

  /**
   * Adopts the peer's countersigned states once `verifyHistory` checked them and they are on disk
   * (with `resynced`, the restored channel's mark is cleared in the same commit).
   */
  private async adopt(items: SyncItem[], resynced = false): Promise<void> {
    const channel = this.channel;
    if (channel instanceof Sequencer) await channel.abandonPending();
    const history = await channel.verifyHistory(items);
    const writes = history.updates.map((update) => this.persist(update));
    if (resynced) writes.push(this.resynced(items[items.length - 1].signed.state.version));
    await Promise.all(writes);
    await channel.adopt(history);
  }

  /**
   * Queues the end of a restored channel's resync: its mark cleared and, for participant 0, its
   * reservation moved to the highest version the peer accepts above `newest`, its newest state (no
   * proposal this node signed before the backup was restored can be at or above that).
   */
  private resynced(newest: bigint): Promise<number> {
    return this.config.commits.resynced(this.id, this.me === 0 ? newest + MAX_VERSION_GAP - 1n : null);
  }

  /** After a restored channel resynced: participant 0's state machine restarts above its new reservation. */
  private resumeAfterRestore(): void {
    this.restored = false;
    if (this.me !== 0) return;
    this.reservedUpTo = this.config.store.reservedVersion(this.id) ?? 0n;
    this.channel = this.makeChannel(this.snapshot(this.reservedUpTo, this.channel.deposits, this.channel.withdrawn));
  }

  // ------------------------------------------------------------------ internals

  /**
   * Writes a state both sides signed (group commit with the other writes of this turn); resolves
   * once it is on disk, and settles participant 1's payments it answered.
   */
  private persist(update: CommittedUpdate): Promise<number> {
    const payments: Payment[] = [];
    for (const item of update.payments) {
      payments.push(item.payment);
      if (item.payment.payer !== this.me) continue;
      this.own.committedRef(item.payment.ref);
      // Queued in the same turn as the state: one transaction holds both.
      const memo = this.own.memoOf(item.payment.ref);
      if (memo !== undefined) void this.config.commits.memo(item.payment.ref, memo).catch(() => undefined);
    }
    const write = this.config.commits.countersigned(this.id, update.signed, payments, update.leaves);
    if (update.locks && update.updates) {
      // Queued in the same turn: the locks share the state's commit (it fails or succeeds with them).
      void this.config.commits.locks({ channelId: this.id, signed: update.signed, updates: update.updates, locks: update.locks }).catch(() => undefined);
      this.settleUpdateWaiters(update, write);
      this.config.onLocks?.(this, update);
    }
    if (this.waiters.size === 0) return write;
    const version = update.signed.state.version;
    for (const { payment, request } of update.payments) {
      const waiter = request === undefined ? undefined : this.waiters.get(request);
      if (!waiter) continue;
      this.waiters.delete(request!);
      write.then(
        (committedAt) => waiter.resolve({ payment, version, committedAt }),
        (error: unknown) => waiter.reject(error),
      );
    }
    return write;
  }

  /** Participant 1: settles the lock update requests `update` answered once `write` is on disk. */
  private settleUpdateWaiters(update: CommittedUpdate, write: Promise<number>): void {
    for (const item of update.updates ?? []) {
      if (item.op === "pay" || item.request === undefined) continue;
      const waiter = this.updateWaiters.get(item.request);
      if (!waiter) continue;
      this.updateWaiters.delete(item.request);
      write.then(
        () => waiter.resolve(update),
        (error: unknown) => waiter.reject(error),
      );
    }
  }

  private sequencer(): Sequencer {
    if (!(this.channel instanceof Sequencer)) throw new WrongRoleError(this.me, "propose a state", "participant 0 proposes every state");
    return this.channel;
  }

  private requireConnection(): PeerConnection<PeerMessages> {
    const connection = this.connection;
    if (!connection?.isOpen) throw new PeerOfflineError(this.peerAddress);
    return connection;
  }

  private peerError(error: unknown): unknown {
    if (error instanceof RemoteError) return new PeerRejectedError(error.code, error.message, { cause: error });
    return error;
  }

  private makeChannel(restore: ChannelSnapshot | undefined): Sequencer | Countersigner {
    const c = this.config;
    const config = {
      params: c.params,
      signer: c.signer,
      verifier: c.verifier,
      chainId: c.chainId,
      adjudicator: c.adjudicator,
      deposits: c.deposits,
      withdrawn: c.withdrawn,
      restore,
      lockPolicy: c.lockPolicy,
      // Its own write and fsync: withdrawals are rare, and nothing may leave before it is on disk.
      hooks: { onWithdrawal: (record: WithdrawalRecord) => this.config.store.putWithdrawal(this.id, record) },
    };
    return c.me === 0 ? new Sequencer(config) : new Countersigner(config);
  }

  /** The stored payment leaves in seq order, read page by page (any number of payments). */
  private *storedLeaves(): Generator<Hex> {
    const page = this.config.restorePage ?? RESTORE_PAGE;
    for (let fromSeq = 0n; ; ) {
      const records = this.config.store.payments(this.id, { fromSeq, limit: page });
      for (const record of records) {
        if (record.payment.payer === this.me) this.own.committedRef(record.payment.ref);
        yield record.leaf;
      }
      if (records.length < page) return;
      fromSeq += BigInt(records.length);
    }
  }

  /**
   * What the store holds of this channel, to rebuild its state machine at start; `signed` is a
   * version this side may have signed without a record of it.
   */
  private snapshot(signed: bigint, deposits = this.config.deposits, withdrawn = this.config.withdrawn): ChannelSnapshot | undefined {
    const store = this.config.store;
    const own = store.latestOwnSignature(this.id);
    const withdrawals = store.withdrawals(this.id, { live: true });
    // Nothing countersigned yet: the opening state, above what this side may have signed.
    const latest =
      store.latest(this.id) ?? (own || signed > 0n || withdrawals.length > 0 ? { state: openingState(this.id), sigs: ["0x", "0x"] as [Hex, Hex] } : null);
    if (!latest) return undefined;
    let signedVersion = latest.state.version > signed ? latest.state.version : signed;
    if (own && own.state.version > signedVersion) signedVersion = own.state.version;
    return {
      latest,
      leaves: this.storedLeaves(),
      locks: store.locks.pending(this.id),
      signedVersion,
      signedFinal: latest.state.isFinal || (own?.state.isFinal ?? false),
      deposits,
      withdrawn,
      withdrawals,
      // Participant 1 issues request ids above any it may have issued before a restart.
      lastRequestId: this.me === 1 ? BigInt(Date.now()) << 20n : 0n,
    };
  }
}

const compact = <T>(items: readonly (T | undefined)[]): T[] => items.filter((x): x is T => x !== undefined);
