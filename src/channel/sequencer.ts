import {
  InvalidAmountError,
  InvalidArgumentError,
  ProposalPendingError,
  SluiceError,
  StaleRequestError,
  UnexpectedAckError,
  UnknownLockError,
  ValueOutOfRangeError,
} from "../errors";
import { MAX_UINT64 } from "../crypto/hash";
import { checkBytes32 as checkBytes32Value } from "../schema/primitives";
import type { LocksTree } from "../merkle/locks";
import type { Hex, Lock, State } from "../types";
import { ZERO_HASH } from "../types";
import {
  decodeMessageOf,
  MAX_PAYMENTS_PER_STATE,
  type BatchProposal,
  type FinalProposal,
  type PaymentProposal,
  type LockUpdate,
  type StateUpdate,
  type UpdatesProposal,
} from "./messages";
import { ChannelCore, committedUpdate, copyItems, copyState, copyUpdates, validAmount } from "./core";
import { LocksPendingError } from "./errors";
import type { CommittedUpdate, LockRef, PaymentEntry, PendingProposal, ProposedBatch, ProposedUpdates, RoleConfig, UpdateEntry } from "./types";
import { checkActingParty, Draft } from "./updates";

interface Pending extends PendingProposal {
  digest: Buffer;
  /** The pending locks of `state`. */
  locks: LocksTree;
  /** The highest request id served by this proposal or an earlier one. */
  served: bigint;
  /** What `receiveAck` returns (its `signed` set then). */
  committed: CommittedUpdate;
}

const copyProposal = (p: Pending): PendingProposal => {
  const copy: PendingProposal = { kind: p.kind, state: copyState(p.state), sig: p.sig, payments: copyItems(p.payments) };
  if (p.updates) copy.updates = copyUpdates(p.updates);
  return copy;
};

const checkBytes32 = (name: string, value: unknown): Hex => {
  const checked = checkBytes32Value(value);
  if (!checked.ok) throw new InvalidArgumentError(`${name} ${String(value)} is not 32 bytes`);
  return checked.value;
};

/**
 * Participant 0 of a channel: it proposes every state and so assigns every version, so two
 * different states are never proposed for one version and payments in both directions never
 * collide. It pays with `pay` (or `proposePayments`, several in one state), serves participant 1's
 * requests (`receiveRequest`), and commits a proposal on participant 1's acknowledgement
 * (`receiveAck`), which returns the committed update for the caller to persist. Lock updates go
 * the same way: its own (`lock`, `unlock`, `cancelLock`, `expireLock`), participant 1's requests
 * (`receiveUpdateRequest`), or any mix with payments in one state (`proposeUpdates`).
 *
 * Pipelining: many proposals may be pending, each built on the previous one (the tip). Acks must
 * answer the oldest pending proposal. When participant 1 rejects one, it and every later one are
 * void: `abandonPending`. A proposal has version `max(latest, highest ever signed) + 1`, so an
 * abandoned version is never signed again with other contents.
 */
export class Sequencer extends ChannelCore {
  readonly me = 0 as const;
  private readonly _pending: Pending[] = [];
  /** Highest request id of a committed payment. */
  private committedRequest: bigint;
  /** Highest request id of a committed or pending payment: a request is served only above it. */
  private servedRequest: bigint;

  constructor(config: RoleConfig) {
    super(config, 0);
    this.committedRequest = this.servedRequest = ChannelCore.restoredRequestId(config.restore);
  }

  get tip(): State {
    const last = this._pending[this._pending.length - 1];
    return last ? last.state : this._latest.state;
  }

  /** The pending locks of the tip. */
  private get tipLocks(): LocksTree {
    const last = this._pending[this._pending.length - 1];
    return last ? last.locks : this._locks;
  }

  protected get requested(): bigint {
    return 0n;
  }

  protected get lastRequestId(): bigint {
    return this.committedRequest;
  }

  /** Proposals waiting for a countersignature, oldest first (copies). */
  get pending(): PendingProposal[] {
    return this._pending.map(copyProposal);
  }

  /** Number of proposals waiting for a countersignature. */
  get pendingCount(): number {
    return this._pending.length;
  }

  /**
   * Pays `amount` to participant 1: signs the next state on top of the tip with the payment
   * appended and returns the proposal to send. Further proposals may follow at once; the payment
   * is done once `receiveAck` accepts participant 1's countersignature.
   */
  pay(amount: bigint, ref: Hex = ZERO_HASH): Promise<PaymentProposal> {
    return this.exclusive(async () => {
      this.checkCanSign();
      return this.proposeOne({ kind: "pay", amount, ref });
    });
  }

  /**
   * Proposes one state that adds every entry that passes its checks, in order, each checked on top
   * of the ones before it (its own payments as `pay` checks them, participant 1's requests as
   * `receiveRequest` does): one signature for the lot. An entry that fails is left out with its
   * typed error; the rest go on. At most MAX_PAYMENTS_PER_STATE entries.
   */
  proposePayments(entries: readonly PaymentEntry[]): Promise<ProposedBatch> {
    // Payment entries only: the proposal is a `payments` batch.
    return this.proposeUpdates(entries) as Promise<ProposedBatch>;
  }

  /**
   * `proposePayments` for payments and lock updates in any mix (see `UpdateEntry`), each checked by
   * the rules of `Draft` on top of the ones before it. The proposal is a `payments` batch if every
   * update is a payment, else an `updates` proposal.
   */
  proposeUpdates(entries: readonly UpdateEntry[]): Promise<ProposedUpdates> {
    return this.exclusive(async () => {
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PAYMENTS_PER_STATE) {
        throw new InvalidArgumentError(`a batch holds 1 to ${MAX_PAYMENTS_PER_STATE} payments or updates`);
      }
      this.checkCanSign();
      const { pending, rejected } = await this.propose(entries);
      if (!pending) return { rejected };
      // The pending proposal keeps its own objects: the caller may change the message it sends.
      const proposal: BatchProposal | UpdatesProposal = pending.updates
        ? { kind: "updates", updates: copyUpdates(pending.updates), state: copyState(pending.state), sig: pending.sig }
        : { kind: "payments", payments: copyItems(pending.payments), state: copyState(pending.state), sig: pending.sig };
      return { proposal, rejected };
    });
  }

  /** Locks `amount` to participant 1 under `hashlock` until `expiry` (chain time, unix seconds): the proposal to send. */
  lock(amount: bigint, hashlock: Hex, expiry: bigint, ref: Hex = ZERO_HASH): Promise<UpdatesProposal> {
    return this.proposeUpdate({ kind: "lock", amount, hashlock, expiry, ref });
  }

  /** Unlocks a pending lock (participant 1's, to be paid, or its own, to pay) with its secret: the proposal to send. */
  unlock(lock: LockRef, secret: Hex): Promise<UpdatesProposal> {
    return this.proposeUpdate({ kind: "unlock", lock, secret });
  }

  /** Gives back a pending lock participant 1 sent: the proposal to send. */
  cancelLock(lock: LockRef): Promise<UpdatesProposal> {
    return this.proposeUpdate({ kind: "cancel", lock });
  }

  /** Drops its own pending lock after its expiry, its secret not revealed on chain in time: the proposal to send. */
  expireLock(lock: LockRef): Promise<UpdatesProposal> {
    return this.proposeUpdate({ kind: "expire", lock });
  }

  /** Serves participant 1's update request (checked as the update it asks for): the proposal to send. */
  receiveUpdateRequest(message: unknown): Promise<UpdatesProposal> {
    return this.exclusive(async () => {
      const request = decodeMessageOf("update-request", message);
      this.checkCanSign();
      return this.proposeSingle(request);
    });
  }

  /**
   * Serves participant 1's payment request: checks it (amount, id above every request served,
   * participant 1 can afford it on top of the tip) and returns the proposal of the payment by
   * participant 1, carrying the request id.
   */
  receiveRequest(message: unknown): Promise<PaymentProposal> {
    return this.exclusive(async () => {
      const request = decodeMessageOf("request", message);
      this.checkCanSign();
      return this.proposeOne(request);
    });
  }

  /** Signs a final state (latest transfers and root); allowed with nothing pending. */
  proposeFinal(): Promise<FinalProposal> {
    return this.exclusive(async () => this.makeFinal());
  }

  /**
   * Answers participant 1's request for the final state with the final proposal;
   * `ProposalPendingError` while proposals are pending (retry once they are acknowledged).
   */
  receiveFinalRequest(message: unknown): Promise<FinalProposal> {
    return this.exclusive(async () => {
      decodeMessageOf("final-request", message);
      return this.makeFinal();
    });
  }

  /**
   * Checks participant 1's countersignature of the oldest pending proposal and commits it (acks
   * arrive in the order of the proposals); returns the committed update (the fully signed state,
   * now the latest, and its payments), for the caller to persist before it counts.
   */
  receiveAck(message: unknown): Promise<CommittedUpdate> {
    return this.exclusive(async () => {
      const { version, sig } = decodeMessageOf("ack", message);
      const oldest = this._pending[0];
      if (!oldest || oldest.state.version !== version) throw new UnexpectedAckError(version, oldest?.state.version);
      await this.checkPeerSignature(oldest.digest, sig);
      this._pending.shift();
      this._latest = { state: oldest.state, sigs: [oldest.sig, sig] };
      this._locks = oldest.locks;
      const committed = oldest.committed;
      committed.signed = this._latest;
      committed.leaves = this.leavesOf(oldest.payments);
      this.committed += oldest.payments.length;
      this.committedRequest = oldest.served;
      return committed;
    });
  }

  /**
   * Drops pending proposals after participant 1 rejected one: with `from`, the proposal of that
   * version and every later one (each is built on it), or nothing if none has that version (a
   * rejection of a proposal already abandoned); without it, all. Returns them, oldest first, and
   * rolls the payment log back. Their versions stay burned: the next proposal skips them. A
   * dropped payment by participant 1 may be served again (its request id is free again).
   */
  abandonPending(from?: bigint): Promise<PendingProposal[]> {
    return this.exclusive(() => {
      const start = from === undefined ? 0 : this._pending.findIndex((p) => p.state.version === from);
      if (start < 0 || start >= this._pending.length) return [];
      const dropped = this._pending.splice(start);
      let size = this.committed;
      let served = this.committedRequest;
      for (const p of this._pending) {
        size += p.payments.length;
        served = p.served;
      }
      this.log.truncate(size);
      this.servedRequest = served;
      return dropped.map(copyProposal);
    });
  }

  protected dropPending(): void {
    this._pending.length = 0;
    this.servedRequest = this.committedRequest;
  }

  // ------------------------------------------------------------------ internals

  /** `propose` for one entry: its error is thrown, its proposal returned in the single-payment form. */
  private async proposeOne(entry: PaymentEntry): Promise<PaymentProposal> {
    const { pending, rejected } = await this.propose([entry]);
    if (!pending) throw rejected[0].error;
    const { payment, request } = pending.payments[0];
    // Copies: what the caller does with the message must not reach the pending proposal.
    const proposal: PaymentProposal = { kind: "payment", payment: { ...payment }, state: copyState(pending.state), sig: pending.sig };
    if (request !== undefined) proposal.request = request;
    return proposal;
  }

  /** `propose` for one lock update: its error is thrown, its proposal returned. */
  private async proposeSingle(entry: UpdateEntry): Promise<UpdatesProposal> {
    const { pending, rejected } = await this.propose([entry]);
    if (!pending) throw rejected[0].error;
    return { kind: "updates", updates: copyUpdates(pending.updates!), state: copyState(pending.state), sig: pending.sig };
  }

  private proposeUpdate(entry: UpdateEntry): Promise<UpdatesProposal> {
    return this.exclusive(async () => {
      this.checkCanSign();
      return this.proposeSingle(entry);
    });
  }

  /** Checks each entry on top of the tip and the entries before it, signs one state applying those that pass, and appends it as pending. */
  private async propose(entries: readonly UpdateEntry[]): Promise<{ pending?: Pending; rejected: ProposedBatch["rejected"] }> {
    const tip = this.tip;
    const start = this.log.size;
    const draft = new Draft({ channelId: this.id, funds: this.funds(), policy: this.policy, me: 0, proposing: true }, tip.transferred, this.tipLocks, BigInt(start));
    const updates: StateUpdate[] = [];
    const rejected: ProposedBatch["rejected"] = [];
    let served = this.servedRequest;
    for (let index = 0; index < entries.length; index++) {
      try {
        const update = this.updateOf(entries[index], draft, served);
        draft.apply(update);
        if (update.request !== undefined) served = update.request;
        updates.push(update);
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
        rejected.push({ index, error });
      }
    }
    if (updates.length === 0) return { rejected };
    const version = this.nextVersion();
    for (const receipt of draft.receipts) this.log.append(receipt);
    const state: State = {
      channelId: this.id,
      version,
      transferred: draft.transferred,
      locked: draft.locks.locked,
      locksRoot: draft.locks.root,
      paymentsRoot: this.log.root,
      isFinal: false,
    };
    const digest = this.hasher.digest(state);
    const committed = committedUpdate({ state, sigs: ["0x", "0x"] }, updates, draft, 0);
    let sig: Hex;
    try {
      sig = await this.sign("propose-payment", state, digest, committed.payments, undefined, committed.updates);
    } catch (error) {
      this.log.truncate(start);
      throw error;
    }
    this._signedVersion = version;
    this.servedRequest = served;
    const pending: Pending = { kind: "payment", state, sig, payments: committed.payments as Pending["payments"], digest, locks: draft.locks, served, committed };
    if (committed.updates) pending.updates = committed.updates as StateUpdate[];
    this._pending.push(pending);
    return { pending, rejected };
  }

  /** The update an entry asks for, on top of `draft` (a participant-1 request only above `served`); the draft's rules check it. */
  private updateOf(entry: UpdateEntry, draft: Draft, served: bigint): StateUpdate {
    switch (entry?.kind) {
      case "request": {
        const { id, amount, ref } = decodeMessageOf("request", entry);
        if (id <= served) throw new StaleRequestError(id, served);
        return { op: "pay", payment: { channelId: this.id, seq: draft.nextSeq, payer: 1, amount, ref }, request: id };
      }
      case "pay": {
        const ref = checkBytes32("ref", entry.ref);
        if (!validAmount(entry.amount)) throw new InvalidAmountError(entry.amount);
        return { op: "pay", payment: { channelId: this.id, seq: draft.nextSeq, payer: 0, amount: entry.amount, ref } };
      }
      case "lock": {
        if (!validAmount(entry.amount)) throw new InvalidAmountError(entry.amount);
        if (typeof entry.expiry !== "bigint" || entry.expiry < 0n || entry.expiry > MAX_UINT64) throw new ValueOutOfRangeError("expiry", entry.expiry);
        const lock: Lock = { channelId: this.id, sender: 0, amount: entry.amount, hashlock: checkBytes32("hashlock", entry.hashlock), expiry: entry.expiry, ref: checkBytes32("ref", entry.ref) };
        return { op: "lock", lock };
      }
      case "unlock":
        return { op: "unlock", lock: pendingLock(draft, entry.lock), secret: checkBytes32("secret", entry.secret) };
      case "cancel":
      case "expire": {
        const update: LockUpdate = { op: entry.kind, lock: pendingLock(draft, entry.lock) };
        checkActingParty(update);
        return update;
      }
      case "update-request": {
        const { id, update: asked } = decodeMessageOf("update-request", entry);
        if (id <= served) throw new StaleRequestError(id, served);
        let update: LockUpdate;
        if (asked.op === "lock") {
          const { amount, hashlock, expiry, ref } = asked;
          update = { op: "lock", lock: { channelId: this.id, sender: 1, amount, hashlock, expiry, ref }, request: id };
        } else if (asked.op === "unlock") {
          update = { op: "unlock", lock: pendingLock(draft, asked.leaf), secret: asked.secret, request: id };
        } else {
          update = { op: asked.op, lock: pendingLock(draft, asked.leaf), request: id };
        }
        checkActingParty(update);
        return update;
      }
      default:
        throw new InvalidArgumentError('an entry is {kind: "pay" | "lock" | "unlock" | "cancel" | "expire", ...}, a payment request or an update request');
    }
  }

  private async makeFinal(): Promise<FinalProposal> {
    this.checkCanSign();
    if (this._pending.length > 0) throw new ProposalPendingError(this._pending[0].state.version);
    if (this._locks.size > 0) throw new LocksPendingError(this._locks.size);
    const state: State = { ...this._latest.state, channelId: this.id, version: this.nextVersion(), isFinal: true };
    const digest = this.hasher.digest(state);
    const sig = await this.sign("propose-final", state, digest, []);
    this._signedVersion = state.version;
    this._signedFinal = true;
    this._pending.push({ kind: "final", state, sig, payments: [], digest, locks: this._locks, served: this.servedRequest, committed: { signed: { state, sigs: ["0x", "0x"] }, payments: [] } });
    return { kind: "final", state: copyState(state), sig };
  }

  private nextVersion(): bigint {
    const latest = this._latest.state.version;
    const version = (latest > this._signedVersion ? latest : this._signedVersion) + 1n;
    if (version > MAX_UINT64) throw new ValueOutOfRangeError("version", version);
    return version;
  }
}

/** The pending lock of the draft that `lock` names (itself, or its leaf); UnknownLockError if none. */
function pendingLock(draft: Draft, lock: LockRef): Lock {
  if (typeof lock === "string") {
    const found = draft.locks.get(lock);
    if (!found) throw new UnknownLockError(lock);
    return found;
  }
  if (!draft.locks.has(lock)) throw new UnknownLockError(lock.hashlock);
  return lock;
}
