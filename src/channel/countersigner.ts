import {
  ConflictingStateError,
  InsufficientFundsError,
  InvalidAmountError,
  InvalidArgumentError,
  MalformedMessageError,
  StaleVersionError,
  UnrequestedPaymentError,
  ValueOutOfRangeError,
  VersionGapError,
  WrongPayerError,
} from "../errors";
import { MAX_UINT64, hashlockOf, lockLeafHex } from "../crypto/hash";
import type { Hex, Lock, State } from "../types";
import { ZERO_HASH } from "../types";
import {
  decodeMessage,
  decodeMessageOf,
  type FinalRequest,
  type PaymentRequest,
  type RequestedUpdate,
  type LockUpdate,
  type StateUpdate,
  type UpdateRequest,
} from "./messages";
import { ChannelCore, committedUpdate, validAmount } from "./core";
import { LockActorError, LockExpiredError, LockExpiryError, LockNotExpiredError, SecretMismatchError } from "./errors";
import { MAX_VERSION_GAP, type CommittedUpdate, type Countersigned, type LockRef, type RoleConfig } from "./types";
import { checkActingParty, revealedInTime } from "./updates";
import { sameHex, verifyTransition } from "./verifyTransition";

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/**
 * Participant 1 of a channel: it proposes nothing. It asks to pay with a request
 * (`requestPayment`) that participant 0 turns into a proposal, and checks and countersigns every
 * proposal of participant 0 (`countersign`), which returns the committed update for the caller to
 * persist and the acknowledgement to send once it is on disk. A payment by participant 1 is
 * countersigned only if it answers an outstanding request of its own, which it consumes.
 */
export class Countersigner extends ChannelCore {
  readonly me = 1 as const;
  private readonly outstanding = new Map<bigint, PaymentRequest>();
  /** Outstanding lock update requests, by id (same id sequence as the payment requests). */
  private readonly outstandingUpdates = new Map<bigint, UpdateRequest>();
  /** Sum of the outstanding requests' amounts (payments and locks). */
  private _requested = 0n;
  /** Highest request id issued. */
  private issuedRequest: bigint;

  constructor(config: RoleConfig) {
    super(config, 1);
    this.issuedRequest = ChannelCore.restoredRequestId(config.restore);
  }

  get tip(): State {
    return this._latest.state;
  }

  protected get requested(): bigint {
    return this._requested;
  }

  protected get lastRequestId(): bigint {
    return this.issuedRequest;
  }

  /** Outstanding payment requests, oldest first (copies). */
  get requests(): PaymentRequest[] {
    return [...this.outstanding.values()].map((r) => ({ ...r }));
  }

  /** Outstanding lock update requests, oldest first (copies). */
  get updateRequests(): UpdateRequest[] {
    return [...this.outstandingUpdates.values()].map((r) => ({ ...r, update: { ...r.update } }));
  }

  /**
   * Asks to pay `amount` to participant 0: returns the request to send, with the next request id.
   * Checked against the latest state less the outstanding requests.
   */
  requestPayment(amount: bigint, ref: Hex = ZERO_HASH): Promise<PaymentRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      if (!validAmount(amount)) throw new InvalidAmountError(amount);
      if (typeof ref !== "string" || !BYTES32.test(ref)) throw new InvalidArgumentError(`ref ${String(ref)} is not 32 bytes`);
      const available = this.spendable(1);
      if (amount > available) throw new InsufficientFundsError(1, amount, available < 0n ? 0n : available);
      const id = this.issuedRequest + 1n;
      if (id > MAX_UINT64) throw new ValueOutOfRangeError("request id", id);
      const request: PaymentRequest = { kind: "request", id, amount, ref: ref.toLowerCase() as Hex };
      this.issuedRequest = id;
      this.outstanding.set(id, request);
      this._requested += amount;
      return { ...request };
    });
  }

  /**
   * Drops the outstanding request `id` (e.g. on a timeout): a proposal for it is refused from now
   * on. Returns the request, or undefined if it was not outstanding.
   */
  cancelRequest(id: bigint): Promise<PaymentRequest | undefined> {
    return this.exclusive(() => {
      const request = this.outstanding.get(id);
      if (!request) return undefined;
      this.outstanding.delete(id);
      this._requested -= request.amount;
      return { ...request };
    });
  }

  /**
   * Asks to lock `amount` to participant 0 under `hashlock` until `expiry` (chain time): returns the
   * request to send. Checked as participant 0 will check it (amount, expiry window, affordable
   * against the latest state less the outstanding requests); the amount counts as spent until the
   * request is answered or cancelled. The caps on pending locks are checked when participant 0
   * serves the request and when this side countersigns the proposal.
   */
  requestLock(amount: bigint, hashlock: Hex, expiry: bigint, ref: Hex = ZERO_HASH): Promise<UpdateRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      if (!validAmount(amount)) throw new InvalidAmountError(amount);
      for (const [name, value] of [["hashlock", hashlock], ["ref", ref]] as const) {
        if (typeof value !== "string" || !BYTES32.test(value)) throw new InvalidArgumentError(`${name} ${String(value)} is not 32 bytes`);
      }
      if (typeof expiry !== "bigint") throw new InvalidArgumentError("expiry is a bigint (unix seconds)");
      const now = this.policy.clock();
      const earliest = now + this.policy.minLockWindow;
      const latest = now + this.policy.maxLockDuration;
      if (expiry < earliest || expiry > latest) throw new LockExpiryError(expiry, earliest, latest);
      const available = this.spendable(1);
      if (amount > available) throw new InsufficientFundsError(1, amount, available < 0n ? 0n : available);
      return this.issue({ op: "lock", amount, hashlock: hashlock.toLowerCase() as Hex, expiry, ref: ref.toLowerCase() as Hex }, amount);
    });
  }

  /** Asks to unlock a pending lock (either sender) with its secret: the request to send. */
  requestUnlock(lock: LockRef, secret: Hex): Promise<UpdateRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      const pending = this.pendingOf(lock);
      if (typeof secret !== "string" || !BYTES32.test(secret)) throw new InvalidArgumentError(`secret ${String(secret)} is not 32 bytes`);
      if (!sameHex(hashlockOf(secret), pending.hashlock)) throw new SecretMismatchError(pending.hashlock);
      // Participant 0 refuses a late unlock of its lock; this side's own it may still hand in (it pays).
      const now = this.policy.clock();
      if (pending.sender === 0 && now > pending.expiry && !revealedInTime(this.policy, pending)) throw new LockExpiredError(pending.expiry, now);
      return this.issue({ op: "unlock", leaf: lockLeafHex(pending), secret: secret.toLowerCase() as Hex }, 0n);
    });
  }

  /** Asks to give back a pending lock participant 0 sent (this side is its receiver): the request to send. */
  requestCancel(lock: LockRef): Promise<UpdateRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      const pending = this.pendingOf(lock);
      if (pending.sender !== 0) throw new LockActorError("cancel", 1, 0);
      return this.issue({ op: "cancel", leaf: lockLeafHex(pending) }, 0n);
    });
  }

  /** Asks to drop its own pending lock after its expiry, its secret not revealed on chain in time: the request to send. */
  requestExpire(lock: LockRef): Promise<UpdateRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      const pending = this.pendingOf(lock);
      if (pending.sender !== 1) throw new LockActorError("expire", 1, 0);
      const now = this.policy.clock();
      if (now <= pending.expiry || revealedInTime(this.policy, pending)) throw new LockNotExpiredError(pending.expiry, now, this.policy.secretRevealedAt(pending.hashlock));
      return this.issue({ op: "expire", leaf: lockLeafHex(pending) }, 0n);
    });
  }

  /**
   * Drops the outstanding update request `id`: a proposal for it is refused from now on. Returns
   * the request, or undefined if it was not outstanding.
   */
  cancelUpdateRequest(id: bigint): Promise<UpdateRequest | undefined> {
    return this.exclusive(() => {
      const request = this.outstandingUpdates.get(id);
      if (!request) return undefined;
      this.outstandingUpdates.delete(id);
      if (request.update.op === "lock") this._requested -= request.update.amount;
      return { ...request, update: { ...request.update } };
    });
  }

  /** Asks participant 0 for the final state: the message to send. */
  requestFinal(): Promise<FinalRequest> {
    return this.exclusive(() => {
      this.checkCanSign();
      return { kind: "final-request" };
    });
  }

  /**
   * Checks participant 0's proposal (one payment, several, or the final state) with
   * `verifyTransition` on top of the latest state, plus this side's rules: the version above all it
   * signed (by at most MAX_VERSION_GAP), each payment by participant 1 answering an outstanding
   * request, each payment affordable, and countersigns it. Returns the committed update and the
   * acknowledgement to send once the update is on disk. Accepts the typed message or its JSON form.
   */
  countersign(message: unknown): Promise<Countersigned> {
    return this.exclusive(async () => {
      const kind = typeof message === "object" && message !== null ? (message as { kind?: unknown }).kind : undefined;
      let updates: StateUpdate[];
      let state: State;
      let sig: Hex;
      if (kind === "payment") {
        const m = decodeMessageOf("payment", message);
        updates = [m.request === undefined ? { op: "pay", payment: m.payment } : { op: "pay", payment: m.payment, request: m.request }];
        ({ state, sig } = m);
      } else if (kind === "payments") {
        const m = decodeMessageOf("payments", message);
        updates = m.payments.map(({ payment, request }): StateUpdate => (request === undefined ? { op: "pay", payment } : { op: "pay", payment, request }));
        ({ state, sig } = m);
      } else if (kind === "updates") {
        ({ updates, state, sig } = decodeMessageOf("updates", message));
      } else if (kind === "final") {
        ({ state, sig } = decodeMessageOf("final", message));
        updates = [];
      } else {
        // Not a proposal: decoding names the problem (the kind, or the message itself).
        decodeMessage(message);
        throw new MalformedMessageError("kind", `participant 1 countersigns proposals, not ${String(kind)}`);
      }
      return this.countersignState(updates, state, sig, kind === "final");
    });
  }

  // ------------------------------------------------------------------ internals

  private async countersignState(updates: StateUpdate[], state: State, sig: Hex, isFinal: boolean): Promise<Countersigned> {
    this.checkCanSign();
    const start = this.log.size;
    const answered = new Set<bigint>();
    let checked: Awaited<ReturnType<typeof verifyTransition>>;
    let committed: CommittedUpdate;
    let mySig: Hex;
    try {
      checked = await verifyTransition(
        {
          ...this.transitionContext(),
          funds: this.funds(),
          isFinal,
          checkVersion: (version) => this.checkVersion(version),
          checkItem: (update) => this.checkRequest(update, answered),
        },
        this._latest.state,
        state,
        updates,
        [sig, undefined],
      );
      committed = committedUpdate({ state, sigs: [sig, "0x"] }, updates, checked.draft, 1);
      mySig = await this.sign(isFinal ? "countersign-final" : "countersign-payment", state, checked.digest, committed.payments, sig, committed.updates);
    } catch (error) {
      this.log.truncate(start);
      throw error;
    }
    this._signedVersion = state.version;
    if (isFinal) this._signedFinal = true;
    this.committed = this.log.size;
    this._latest = { state, sigs: [sig, mySig] };
    this._locks = checked.draft.locks;
    for (const update of updates) {
      if (update.request === undefined) continue;
      if (update.op === "pay") {
        this.outstanding.delete(update.request);
        this._requested -= update.payment.amount;
      } else {
        this.outstandingUpdates.delete(update.request);
        if (update.op === "lock") this._requested -= update.lock.amount;
      }
    }
    committed.signed = this._latest;
    committed.leaves = this.leavesOf(committed.payments);
    return { committed, send: { kind: "ack", version: state.version, sig: mySig } };
  }

  /**
   * Participant 1's acts must answer an outstanding request of its own, once, and match it; participant
   * 0's carry none (`checkActingParty` for lock updates).
   */
  private checkRequest(update: StateUpdate, answered: Set<bigint>): void {
    if (update.op !== "pay") {
      checkActingParty(update);
      if (update.request === undefined) return;
      const asked = this.outstandingUpdates.get(update.request);
      if (!asked) throw new UnrequestedPaymentError(update.request, "no such outstanding request");
      if (answered.has(update.request)) throw new UnrequestedPaymentError(update.request, "answered twice in one state");
      const mismatch = updateMismatch(asked.update, update);
      if (mismatch) throw new UnrequestedPaymentError(update.request, mismatch);
      answered.add(update.request);
      return;
    }
    const { payment, request } = update;
    if (payment.payer === 0) {
      if (request !== undefined) throw new WrongPayerError(1, payment.payer);
      return;
    }
    if (request === undefined) throw new UnrequestedPaymentError(undefined, "a payment by participant 1 must answer its request");
    const asked = this.outstanding.get(request);
    if (!asked) throw new UnrequestedPaymentError(request, "no such outstanding request");
    if (answered.has(request)) throw new UnrequestedPaymentError(request, "answered twice in one state");
    if (asked.amount !== payment.amount) throw new UnrequestedPaymentError(request, `amount ${payment.amount}, requested ${asked.amount}`);
    if (!sameHex(asked.ref, payment.ref)) throw new UnrequestedPaymentError(request, `ref ${payment.ref}, requested ${asked.ref}`);
    answered.add(request);
  }

  /** Issues the next request id for an update request; `amount` counts as spent meanwhile. */
  private issue(update: RequestedUpdate, amount: bigint): UpdateRequest {
    const id = this.issuedRequest + 1n;
    if (id > MAX_UINT64) throw new ValueOutOfRangeError("request id", id);
    const request: UpdateRequest = { kind: "update-request", id, update };
    this.issuedRequest = id;
    this.outstandingUpdates.set(id, request);
    this._requested += amount;
    return { ...request, update: { ...update } };
  }

  /** The pending lock of the latest state that `lock` names; UnknownLockError if none. */
  private pendingOf(lock: LockRef): Lock {
    return this._locks.proof(lock).lock;
  }

  /** The version rule: above the latest and all this side signed, by at most MAX_VERSION_GAP. */
  private checkVersion(version: bigint): void {
    const latest = this._latest.state.version;
    if (version <= latest) throw new StaleVersionError(version, latest);
    if (version <= this._signedVersion) throw new ConflictingStateError(version, this._signedVersion);
    const base = latest > this._signedVersion ? latest : this._signedVersion;
    if (version - base > MAX_VERSION_GAP) throw new VersionGapError(version, base + MAX_VERSION_GAP);
  }

  protected dropPending(): void {}
}

/** How a proposed lock update differs from the request it claims to answer, or undefined if it matches. */
function updateMismatch(asked: RequestedUpdate, update: LockUpdate): string | undefined {
  if (asked.op !== update.op) return `${update.op}, requested ${asked.op}`;
  const lock = update.lock;
  if (asked.op === "lock") {
    const same = lock.sender === 1 && lock.amount === asked.amount && lock.expiry === asked.expiry && sameHex(lock.hashlock, asked.hashlock) && sameHex(lock.ref, asked.ref);
    return same ? undefined : "the lock differs from the one requested";
  }
  if (!sameHex(lockLeafHex(lock), asked.leaf)) return `lock ${lockLeafHex(lock)}, requested ${asked.leaf}`;
  if (asked.op === "unlock" && update.op === "unlock" && !sameHex(update.secret, asked.secret)) return "the secret differs from the one requested";
  return undefined;
}
