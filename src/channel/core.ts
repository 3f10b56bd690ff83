import { ChannelFinalizedError, InvalidAmountError, InvalidArgumentError, InvalidSignatureError, SluiceError, ValueOutOfRangeError, WrongChannelError, RootMismatchError } from "../errors";
import { MAX_UINT256, MAX_UINT64, StateHasher, channelId as channelIdOf, toHex } from "../crypto/hash";
import type { StateSigner } from "../crypto/signer";
import { EcdsaVerifier, type SignatureVerifier } from "../crypto/verifier";
import { LocksTree, type LockProof } from "../merkle/locks";
import { PaymentLog, type PaymentProof } from "../merkle/paymentLog";
import type { Hex, Lock, Params, Payment, SignedState, SignedWithdrawal, State, Withdrawal } from "../types";
import { openingState } from "../types";
import { decodeMessageOf, type ProposedPayment, type StateUpdate, type WithdrawalAck, type WithdrawalProposal } from "./messages";
import {
  LockedMismatchError,
  LocksRootMismatchError,
  UnknownWithdrawalError,
  WithdrawalExceedsBalanceError,
  WithdrawalExpiryError,
  WithdrawalParticipantError,
  WithdrawalPendingError,
  WithdrawalTotalError,
} from "./errors";
import { balance, payouts, type Funds } from "./payouts";
import type { ChannelHooks, ChannelSnapshot, CommittedUpdate, RoleConfig, SignKind, SignIntent, WithdrawalRecord, WithdrawalStatus } from "./types";
import { lockPolicy, type Draft, type LockPolicy } from "./updates";
import { checkSignature, sameHex, verifyTransition } from "./verifyTransition";

export const copyState = (state: State): State => ({
  ...state,
  transferred: [state.transferred[0], state.transferred[1]],
  locked: [state.locked[0], state.locked[1]],
});

export const copyItems = (items: readonly ProposedPayment[]): ProposedPayment[] =>
  items.map((item) => (item.request === undefined ? { payment: { ...item.payment } } : { payment: { ...item.payment }, request: item.request }));

/** Copies of updates (their payments and locks), so that what a caller does with them reaches no channel state. */
export const copyUpdates = (updates: readonly StateUpdate[]): StateUpdate[] =>
  updates.map((u): StateUpdate => (u.op === "pay" ? { ...u, payment: { ...u.payment } } : { ...u, lock: { ...u.lock } }));

const copyWithdrawal = (r: WithdrawalRecord): WithdrawalRecord => ({ withdrawal: { ...r.withdrawal }, sigs: [r.sigs[0], r.sigs[1]], status: r.status });

const isLive = (r: WithdrawalRecord): boolean => r.status === "proposed" || r.status === "signed";

export const validAmount = (amount: unknown): amount is bigint => typeof amount === "bigint" && amount > 0n && amount <= MAX_UINT256;

/**
 * A state both sides signed, offered by the peer in a resync, with the payments it adds, or, for a
 * state with lock updates, its updates in order (then `payments` is not read).
 */
export interface HistoryItem {
  signed: SignedState;
  payments: readonly Payment[];
  updates?: readonly StateUpdate[];
}

/** A resync's states, all checked: `adopt` makes them the channel's once they are on disk. */
export interface VerifiedHistory {
  /** The latest version the history builds on. */
  from: bigint;
  updates: CommittedUpdate[];
  /** The pending locks of the last state. */
  locks?: LocksTree;
}

/**
 * The committed update of a checked draft: its payments (unlock receipts included, without a
 * request id), and, when the state has lock updates, the updates, the lock changes and the secrets
 * `me` learned (the unlocks of locks it sent).
 */
export function committedUpdate(signed: SignedState, updates: readonly StateUpdate[], draft: Draft, me: 0 | 1): CommittedUpdate {
  const payments: ProposedPayment[] = [];
  for (const update of updates) {
    if (update.op === "pay") payments.push(update.request === undefined ? { payment: update.payment } : { payment: update.payment, request: update.request });
    else if (update.op === "unlock") payments.push({ payment: draft.receipts[payments.length] });
  }
  if (!draft.locksChanged) return { signed, payments };
  const secrets = draft.removed.filter((r) => r.reason === "unlock" && r.lock.sender === me).map((r) => ({ hashlock: r.lock.hashlock, secret: r.secret! }));
  return { signed, payments, updates: [...updates], locks: { added: [...draft.added], removed: [...draft.removed] }, secrets };
}

/** Thrown by `verifyHistory`: a state of the history does not check out (`cause` says how). */
export class SyncRejectedError extends SluiceError {
  static override readonly code: string = "SYNC_REJECTED";
  override readonly name: string = "SyncRejectedError";
}

/**
 * What both roles of a channel share: the latest state both signed, the payment log, deposits
 * and withdrawals, this side's signing history, and the checks and signatures around them. The
 * roles are `Sequencer` (participant 0) and `Countersigner` (participant 1). Operations run one at
 * a time in call order (`exclusive`); every rejection throws a `SluiceError` and changes nothing.
 */
export abstract class ChannelCore {
  readonly params: Params;
  readonly id: Hex;
  abstract readonly me: 0 | 1;
  readonly hasher: StateHasher;
  protected readonly signer: StateSigner;
  protected readonly verifier: SignatureVerifier;
  protected readonly hooks: ChannelHooks;
  /** Committed payments, then (the sequencer's) payments of the pending proposals. */
  protected readonly log: PaymentLog;
  protected _latest: SignedState;
  protected _deposits: readonly [bigint, bigint];
  protected _withdrawn: readonly [bigint, bigint];
  /** Live withdrawals of both sides (proposed by this side, or signed by both), oldest first. */
  protected live: WithdrawalRecord[] = [];
  protected _signedVersion: bigint;
  protected _signedFinal: boolean;
  /** Number of payments in `_latest` (the log's committed prefix). */
  protected committed: number;
  /** The pending locks of `_latest`. */
  protected _locks: LocksTree;
  /** The lock rules' clock, secret registry and caps. */
  readonly policy: LockPolicy;
  private queue: Promise<void> = Promise.resolve();

  protected constructor(config: RoleConfig, me: 0 | 1) {
    const { params, signer } = config;
    if (config.me !== undefined && config.me !== me) throw new InvalidArgumentError(`participant index ${String(config.me)} for the role of participant ${me}`);
    if (!sameHex(signer.address, params.participants[me])) {
      throw new InvalidArgumentError(`signer ${signer.address} is not participant ${me} (${params.participants[me]})`);
    }
    this.params = params;
    this.id = channelIdOf(params);
    this.signer = signer;
    this.hasher = new StateHasher(config.chainId, config.adjudicator);
    this.verifier = config.verifier ?? new EcdsaVerifier();
    this.hooks = config.hooks ?? {};
    this.policy = lockPolicy(config.lockPolicy);
    const restore = config.restore;
    this._deposits = restore?.deposits ?? config.deposits ?? [0n, 0n];
    this._withdrawn = restore?.withdrawn ?? config.withdrawn ?? [0n, 0n];
    if (restore) {
      if (!sameHex(restore.latest.state.channelId, this.id)) throw new WrongChannelError(this.id, restore.latest.state.channelId);
      this._locks = new LocksTree(this.id, restore.locks ?? []);
      const { locked, locksRoot } = restore.latest.state;
      const sums = this._locks.locked;
      if (sums[0] !== locked[0] || sums[1] !== locked[1]) throw new LockedMismatchError(sums, locked);
      if (!sameHex(this._locks.root, locksRoot)) throw new LocksRootMismatchError(this._locks.root, locksRoot);
      for (const r of restore.withdrawals ?? []) {
        if (!sameHex(r.withdrawal.channelId, this.id)) throw new WrongChannelError(this.id, r.withdrawal.channelId);
        if (isLive(r)) this.live.push(copyWithdrawal(r));
      }
      this.log = restore.leaves ? PaymentLog.fromLeaves(restore.leaves) : new PaymentLog(restore.payments);
      if (!sameHex(this.log.root, restore.latest.state.paymentsRoot)) {
        throw new RootMismatchError(restore.latest.state.paymentsRoot, this.log.root);
      }
      this._latest = restore.latest;
      this._signedVersion = restore.signedVersion > restore.latest.state.version ? restore.signedVersion : restore.latest.state.version;
      this._signedFinal = restore.signedFinal || restore.latest.state.isFinal;
    } else {
      this.log = new PaymentLog();
      this._locks = new LocksTree(this.id);
      this._latest = { state: openingState(this.id), sigs: ["0x", "0x"] };
      this._signedVersion = 0n;
      this._signedFinal = false;
    }
    this.committed = this.log.size;
  }

  /** The last request id restored from a snapshot (checked). */
  protected static restoredRequestId(restore: ChannelSnapshot | undefined): bigint {
    const id = restore?.lastRequestId ?? 0n;
    if (typeof id !== "bigint" || id < 0n || id > MAX_UINT64) throw new InvalidArgumentError("lastRequestId is a uint64");
    return id;
  }

  get peer(): 0 | 1 {
    return this.me === 0 ? 1 : 0;
  }

  // ------------------------------------------------------------------ views

  /** The latest state both sides have signed (the opening state, unsigned, at first). */
  get latest(): SignedState {
    return this._latest;
  }

  /** The state the next proposal builds on (the sequencer's last pending proposal, else the latest). */
  abstract get tip(): State;

  /** What this side has asked to pay and not yet seen proposed (the countersigner's outstanding requests). */
  protected abstract get requested(): bigint;

  /** The request id a snapshot keeps (see `ChannelSnapshot.lastRequestId`). */
  protected abstract get lastRequestId(): bigint;

  /** Confirmed on-chain deposits this side checks payments against. */
  get deposits(): readonly [bigint, bigint] {
    return this._deposits;
  }

  /** Confirmed on-chain cumulative withdrawals this side checks payments against. */
  get withdrawn(): readonly [bigint, bigint] {
    return this._withdrawn;
  }

  /** Highest version this side has signed. */
  get signedVersion(): bigint {
    return this._signedVersion;
  }

  /** True once the latest state is final. */
  get isFinal(): boolean {
    return this._latest.state.isFinal;
  }

  /** True once this side has signed a final state: it signs nothing more. */
  get signedFinal(): boolean {
    return this._signedFinal;
  }

  /** Payouts if the channel settled on the latest state with the confirmed deposits and withdrawals. */
  get payouts(): [bigint, bigint] {
    return payouts(this.funds(), this._latest.state.transferred, this._latest.state.locked);
  }

  /**
   * What participant `who` can still pay against the confirmed deposits: on top of the tip
   * (pending proposals counted) and, for this side, less its outstanding requests.
   */
  spendable(who: 0 | 1 = this.me): bigint {
    const available = balance(this.funds(), this.tip, who);
    return who === this.me ? available - this.requested : available;
  }

  /** Number of payments in the latest state. */
  get paymentCount(): number {
    return this.committed;
  }

  /** Payment `seq` of the latest state (if held in memory: see `PaymentLog.fromLeaves`). */
  payment(seq: bigint | number): Payment {
    if (!(Number(seq) < this.committed)) throw new InvalidArgumentError(`no payment ${seq} in a log of ${this.committed}`);
    return this.log.payment(seq);
  }

  /** Merkle proof of payment `seq` against the latest state's root, for `verifyPayment`. */
  proof(seq: bigint | number): PaymentProof {
    return this.log.proof(seq, this.committed);
  }

  /** `proof` without the payment (for a channel restored from leaf hashes, whose store holds the payments). */
  leafProof(seq: bigint | number): Omit<PaymentProof, "payment"> {
    return this.log.leafProof(seq, this.committed);
  }

  /** What a store keeps to rebuild this channel (pending proposals and requests are left out). */
  snapshot(): ChannelSnapshot & { payments: readonly Payment[]; locks: readonly Lock[] } {
    return {
      latest: this._latest,
      payments: this.log.all().slice(0, this.committed),
      signedVersion: this._signedVersion,
      signedFinal: this._signedFinal,
      deposits: this._deposits,
      withdrawn: this._withdrawn,
      withdrawals: this.live.map(copyWithdrawal),
      lastRequestId: this.lastRequestId,
      locks: this._locks.all(),
    };
  }

  // ------------------------------------------------------------------ locks

  /** The pending locks of the latest state, in leaf order. */
  get locks(): Lock[] {
    return this._locks.all().map((lock) => ({ ...lock }));
  }

  /** How many locks the latest state has pending (without copying them). */
  get lockCount(): number {
    return this._locks.size;
  }

  /** The pending lock of the latest state with this leaf (`lockLeafHex`), if any. */
  pendingLock(leaf: Hex): Lock | undefined {
    const lock = this._locks.get(leaf);
    return lock && { ...lock };
  }

  /**
   * The Merkle proof of a pending lock of the latest state against its `locksRoot`, as `resolveLock`
   * takes it (after a settlement on that state); `UnknownLockError` if it is not pending.
   */
  lockProof(lock: Lock | Hex): LockProof {
    return this._locks.proof(lock);
  }

  /** Sets the confirmed on-chain deposits (the caller reads them from the chain). */
  setDeposits(deposits: readonly [bigint, bigint]): void {
    if (deposits.length !== 2 || deposits.some((d) => typeof d !== "bigint" || d < 0n || d > MAX_UINT256)) {
      throw new InvalidArgumentError("deposits are two uint256 values");
    }
    this._deposits = [deposits[0], deposits[1]];
  }

  /**
   * Sets the confirmed on-chain cumulative withdrawals (the caller reads them from the chain; they
   * never fall, so a lower value is ignored). Live withdrawals whose total the chain has reached
   * are done: returned with status `executed` (for the store), no longer live. What each side
   * counts as spent does not change.
   */
  setWithdrawn(withdrawn: readonly [bigint, bigint]): WithdrawalRecord[] {
    if (withdrawn.length !== 2 || withdrawn.some((w) => typeof w !== "bigint" || w < 0n || w > MAX_UINT256)) {
      throw new InvalidArgumentError("withdrawn are two uint256 values");
    }
    const max = (a: bigint, b: bigint) => (a > b ? a : b);
    this._withdrawn = [max(this._withdrawn[0], withdrawn[0]), max(this._withdrawn[1], withdrawn[1])];
    return this.settleWithdrawals((r) => r.withdrawal.total <= this._withdrawn[r.withdrawal.participant], "executed");
  }

  // ------------------------------------------------------------------ resync

  /**
   * Checks the states both sides signed that the peer offers in a resync, each as
   * `verifyTransition` checks a proposal (both signatures instead of the peer's), on top of the
   * latest state and of the ones before it. Changes nothing: `adopt` takes them once they are on
   * disk. Throws SyncRejectedError (InvalidSignatureError for a signature) naming the item.
   */
  verifyHistory(items: readonly HistoryItem[]): Promise<VerifiedHistory> {
    return this.exclusive(async () => {
      const from = this._latest.state.version;
      // The pending proposals' payments (sequencer) sit above the committed ones: checked without them.
      const held = this.log.all();
      const pending = held.slice(held.length - (this.log.size - this.committed));
      this.log.truncate(this.committed);
      const updates: CommittedUpdate[] = [];
      let previous = this._latest.state;
      let locks = this._locks;
      try {
        for (const [i, { signed, payments, updates: given }] of items.entries()) {
          const where = `sync item ${i} (version ${signed.state.version})`;
          const stateUpdates = given ?? payments.map((payment): StateUpdate => ({ op: "pay", payment }));
          try {
            const { draft } = await verifyTransition({ ...this.transitionContext(), locks, funds: undefined, policy: undefined }, previous, signed.state, stateUpdates, signed.sigs);
            updates.push(committedUpdate(signed, stateUpdates, draft, this.me));
            locks = draft.locks;
          } catch (error) {
            if (error instanceof InvalidSignatureError) {
              throw new InvalidSignatureError(error.signer, `${where}: signature ${sameHex(error.signer, this.params.participants[0]) ? 0 : 1}`, { cause: error });
            }
            if (error instanceof SluiceError) throw new SyncRejectedError(`${where}: ${error.message}`, { cause: error });
            throw error;
          }
          previous = signed.state;
        }
      } finally {
        this.log.truncate(this.committed);
        for (const payment of pending) this.log.append(payment);
      }
      return { from, updates, locks };
    });
  }

  /**
   * Makes a verified history the channel's (call it once it is on disk): its last state becomes the
   * latest, its payments join the log. The sequencer's pending proposals are abandoned first.
   */
  adopt(history: VerifiedHistory): Promise<void> {
    return this.exclusive(() => {
      if (this._latest.state.version !== history.from) throw new SyncRejectedError(`the channel moved from version ${history.from} to ${this._latest.state.version} meanwhile`);
      if (history.updates.length === 0) return;
      this.dropPending();
      this.log.truncate(this.committed);
      for (const { payments } of history.updates) for (const { payment } of payments) this.log.append(payment);
      const last = history.updates[history.updates.length - 1].signed;
      this._latest = last;
      if (history.locks) this._locks = history.locks;
      this.committed = this.log.size;
      if (last.state.version > this._signedVersion) this._signedVersion = last.state.version;
      if (last.state.isFinal) this._signedFinal = true;
    });
  }

  /** Drops the role's uncommitted work before a resync's states are adopted (the sequencer's pending proposals). */
  protected abstract dropPending(): void;

  // ------------------------------------------------------------------ withdrawals (either side)

  /** Live withdrawals (this side's proposals, and those signed by both), oldest first (copies). */
  get withdrawals(): WithdrawalRecord[] {
    return this.live.map(copyWithdrawal);
  }

  /**
   * What participant `who` has withdrawn or signed to withdraw: the chain's cumulative withdrawal,
   * or the highest total of a live withdrawal above it. A new withdrawal builds on it, and every
   * balance counts it as spent.
   */
  withdrawnOrPending(who: 0 | 1): bigint {
    let total = this._withdrawn[who];
    for (const r of this.live) if (r.withdrawal.participant === who && r.withdrawal.total > total) total = r.withdrawal.total;
    return total;
  }

  /**
   * What participant `who` could withdraw now: its balance counting the live withdrawals, its
   * payments in pending proposals but not the payments to it (participant 0's tip), and, for
   * participant 1 itself, its outstanding requests. Never more than a settlement would pay it.
   */
  withdrawable(who: 0 | 1): bigint {
    const other = who === 0 ? 1 : 0;
    const latest = this._latest.state;
    const tip = this.tip;
    const transferred: [bigint, bigint] = [0n, 0n];
    transferred[who] = tip.transferred[who];
    transferred[other] = latest.transferred[other];
    const locked: [bigint, bigint] = [0n, 0n];
    locked[who] = tip.locked[who] > latest.locked[who] ? tip.locked[who] : latest.locked[who];
    const available = balance(this.funds(), { transferred, locked }, who);
    return who === this.me ? available - this.requested : available;
  }

  /**
   * This side asks to withdraw `amount` from the open channel to its payee, valid until `expiry`
   * (a block timestamp): signs the withdrawal of cumulative total `withdrawnOrPending(me) + amount`
   * and returns the proposal to send. From now on the amount counts as spent, until the peer
   * refuses (`abandonWithdrawal`), the withdrawal expires unexecuted, or it is executed. One
   * proposal at a time.
   */
  proposeWithdrawal(amount: bigint, expiry: bigint): Promise<WithdrawalProposal> {
    return this.exclusive(async () => {
      this.checkCanSign();
      const waiting = this.live.find((r) => r.status === "proposed");
      if (waiting) throw new WithdrawalPendingError(waiting.withdrawal.total);
      if (!validAmount(amount)) throw new InvalidAmountError(amount);
      if (typeof expiry !== "bigint" || expiry <= 0n || expiry > MAX_UINT64) throw new ValueOutOfRangeError("expiry", expiry);
      const available = this.withdrawable(this.me);
      if (amount > available) throw new WithdrawalExceedsBalanceError(this.me, amount, available < 0n ? 0n : available);
      const total = this.withdrawnOrPending(this.me) + amount;
      if (total > MAX_UINT256) throw new ValueOutOfRangeError("withdrawal total", total);
      const withdrawal: Withdrawal = { channelId: this.id, participant: this.me, total, expiry };
      const sig = await this.signer.sign(this.hasher.withdrawalDigest(withdrawal));
      const record: WithdrawalRecord = { withdrawal, sigs: this.me === 0 ? [sig, "0x"] : ["0x", sig], status: "proposed" };
      await this.hooks.onWithdrawal?.(copyWithdrawal(record));
      this.live.push(record);
      return { kind: "withdrawal", withdrawal: { ...withdrawal }, sig };
    });
  }

  /**
   * The peer asks to withdraw: checks the withdrawal (this channel, the peer's own, its total above
   * what the peer withdrew or signed to withdraw, the difference affordable from the peer's
   * balance less its pending payments and withdrawals, an expiry after `now` and at most
   * `maxWindow` after it, the peer's signature), countersigns it and returns the acknowledgement.
   * The withdrawal counts as spent from now on. `now` is the chain's time (latest block).
   */
  receiveWithdrawal(message: unknown, now: bigint, maxWindow: bigint): Promise<WithdrawalAck> {
    return this.exclusive(async () => {
      const { withdrawal, sig } = decodeMessageOf("withdrawal", message);
      this.checkCanSign();
      this.checkChannel(withdrawal.channelId);
      if (withdrawal.participant !== this.peer) throw new WithdrawalParticipantError(this.peer, withdrawal.participant);
      if (withdrawal.expiry <= now || withdrawal.expiry > now + maxWindow) {
        throw new WithdrawalExpiryError(withdrawal.expiry, now, now + maxWindow);
      }
      const base = this.withdrawnOrPending(this.peer);
      if (withdrawal.total <= base) throw new WithdrawalTotalError(withdrawal.total, base);
      const amount = withdrawal.total - base;
      const available = this.withdrawable(this.peer);
      if (amount > available) throw new WithdrawalExceedsBalanceError(this.peer, amount, available < 0n ? 0n : available);
      const digest = this.hasher.withdrawalDigest(withdrawal);
      await this.checkPeerSignature(digest, sig);
      const mySig = await this.signer.sign(digest);
      const record: WithdrawalRecord = { withdrawal, sigs: this.me === 0 ? [mySig, sig] : [sig, mySig], status: "signed" };
      await this.hooks.onWithdrawal?.(copyWithdrawal(record));
      this.live.push(record);
      return { kind: "withdrawal-ack", total: withdrawal.total, sig: mySig };
    });
  }

  /** The peer countersigned this side's proposal: returns the withdrawal signed by both, now executable. */
  receiveWithdrawalAck(message: unknown): Promise<SignedWithdrawal> {
    return this.exclusive(async () => {
      const { total, sig } = decodeMessageOf("withdrawal-ack", message);
      const proposed = this.live.find((r) => r.status === "proposed" && r.withdrawal.total === total);
      if (!proposed) throw new UnknownWithdrawalError(total);
      await this.checkPeerSignature(this.hasher.withdrawalDigest(proposed.withdrawal), sig);
      const sigs: [Hex, Hex] = this.me === 0 ? [proposed.sigs[0], sig] : [sig, proposed.sigs[1]];
      const record: WithdrawalRecord = { withdrawal: proposed.withdrawal, sigs, status: "signed" };
      await this.hooks.onWithdrawal?.(copyWithdrawal(record));
      // Replaced where it stands now (the chain may have settled other withdrawals meanwhile).
      const index = this.live.indexOf(proposed);
      if (index >= 0) this.live[index] = record;
      return { withdrawal: { ...record.withdrawal }, sigs: [sigs[0], sigs[1]] };
    });
  }

  /**
   * Drops this side's proposal of cumulative `total` after the peer refused it: the amount counts
   * again. Returns the record (status `refused`), or undefined if no such proposal waits.
   */
  abandonWithdrawal(total: bigint): Promise<WithdrawalRecord | undefined> {
    return this.exclusive(() => {
      const index = this.live.findIndex((r) => r.status === "proposed" && r.withdrawal.total === total);
      if (index < 0) return undefined;
      const [dropped] = this.live.splice(index, 1);
      return { ...copyWithdrawal(dropped), status: "refused" };
    });
  }

  /**
   * The withdrawals signed by both that the peer holds live (after a reconnect): each is checked
   * (this channel, both signatures) and counted from now on; this side's proposals among them
   * become signed, and its proposals the peer does not hold are dropped (the peer never
   * countersigned them: the request was lost). Only the proposals of cumulative totals `asked`
   * are dropped, if given: those made before the peer was asked (one made since may be on its way
   * to the peer). Returns what changed, for the store.
   */
  syncWithdrawals(held: readonly SignedWithdrawal[], asked?: readonly bigint[]): Promise<WithdrawalRecord[]> {
    return this.exclusive(async () => {
      const changed: WithdrawalRecord[] = [];
      const adopted: WithdrawalRecord[] = [];
      for (const signed of held) {
        const w = signed.withdrawal;
        this.checkChannel(w.channelId);
        const digest = this.hasher.withdrawalDigest(w);
        for (const p of [0, 1] as const) {
          await checkSignature(this.verifier, this.params.participants[p], digest, signed.sigs[p], `withdrawal ${w.total} of participant ${w.participant}`);
        }
        adopted.push({ withdrawal: { ...w }, sigs: [signed.sigs[0], signed.sigs[1]], status: "signed" });
      }
      const same = (a: Withdrawal, b: Withdrawal) => a.participant === b.participant && a.total === b.total && a.expiry === b.expiry;
      for (const record of adopted) {
        if (record.withdrawal.total <= this._withdrawn[record.withdrawal.participant]) continue;
        const index = this.live.findIndex((r) => same(r.withdrawal, record.withdrawal));
        if (index >= 0 && this.live[index].status === "signed") continue;
        if (index >= 0) this.live[index] = record;
        else this.live.push(record);
        changed.push(copyWithdrawal(record));
      }
      for (let i = this.live.length - 1; i >= 0; i--) {
        const r = this.live[i];
        if (r.status !== "proposed" || (asked !== undefined && !asked.includes(r.withdrawal.total))) continue;
        this.live.splice(i, 1);
        changed.push({ ...copyWithdrawal(r), status: "refused" });
      }
      return changed;
    });
  }

  /**
   * The cumulative totals of this side's proposals waiting for a countersignature. Queued behind
   * the operations called before it: a proposal made by one of them has been handed to its caller
   * before this resolves, so the caller's next step (sending it) runs first.
   */
  proposedWithdrawals(): Promise<bigint[]> {
    return this.exclusive(() => this.live.filter((r) => r.status === "proposed").map((r) => r.withdrawal.total));
  }

  /** The live withdrawals signed by both, in the order this side's operations ran (for a peer's sync). */
  signedWithdrawals(): Promise<SignedWithdrawal[]> {
    return this.exclusive(() =>
      this.live.filter((r) => r.status === "signed").map((r) => ({ withdrawal: { ...r.withdrawal }, sigs: [r.sigs[0], r.sigs[1]] })),
    );
  }

  /**
   * The chain's time reached `now`: live withdrawals with an expiry before it that the chain has
   * not executed can never be (the contract takes one while `block.timestamp <= expiry`), so their
   * amounts count again. Call it with the withdrawals read from the chain at or after the block of
   * `now` (`setWithdrawn` first), so that an execution in time is counted, not dropped. Returns the
   * dropped records (status `expired`).
   */
  expireWithdrawals(now: bigint): WithdrawalRecord[] {
    return this.settleWithdrawals((r) => r.withdrawal.expiry < now, "expired");
  }

  /** The channel concluded: no live withdrawal can be executed any more. Returns them (status `void`). */
  voidWithdrawals(): WithdrawalRecord[] {
    return this.settleWithdrawals(() => true, "void");
  }

  // ------------------------------------------------------------------ internals

  protected exclusive<T>(operation: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(operation);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The log's leaves of `items` (payments it holds), for the store. */
  protected leavesOf(items: readonly ProposedPayment[]): Hex[] {
    return items.map(({ payment }) => this.log.leafHex(payment.seq));
  }

  /** What `verifyTransition` checks a state against: this channel and its log. */
  protected transitionContext(): Parameters<typeof verifyTransition>[0] {
    return { channelId: this.id, participants: this.params.participants, hasher: this.hasher, verifier: this.verifier, log: this.log, locks: this._locks, policy: this.policy, me: this.me };
  }

  /** Deposits and withdrawals the payout maths and every affordability check run against. */
  protected funds(): Funds {
    if (this.live.length === 0) return { deposits: this._deposits, withdrawn: this._withdrawn };
    return { deposits: this._deposits, withdrawn: [this.withdrawnOrPending(0), this.withdrawnOrPending(1)] };
  }

  /** Removes the live withdrawals that `done` selects and returns them with `status`. */
  private settleWithdrawals(done: (r: WithdrawalRecord) => boolean, status: WithdrawalStatus): WithdrawalRecord[] {
    const out: WithdrawalRecord[] = [];
    this.live = this.live.filter((r) => {
      if (!done(r)) return true;
      out.push({ ...copyWithdrawal(r), status });
      return false;
    });
    return out;
  }

  protected checkCanSign(): void {
    if (this._signedFinal || this._latest.state.isFinal) throw new ChannelFinalizedError(this.id);
  }

  protected checkChannel(id: Hex): void {
    if (!sameHex(id, this.id)) throw new WrongChannelError(this.id, id);
  }

  protected checkPeerSignature(digest: Buffer, sig: Hex): Promise<void> {
    return checkSignature(this.verifier, this.params.participants[this.peer], digest, sig);
  }

  protected async sign(kind: SignKind, state: State, digest: Buffer, payments: readonly ProposedPayment[], peerSig?: Hex, updates?: readonly StateUpdate[]): Promise<Hex> {
    if (this.hooks.beforeSign) {
      const intent: SignIntent = { kind, state, digest: toHex(digest), payments: copyItems(payments) };
      if (peerSig !== undefined) intent.peerSig = peerSig;
      if (updates !== undefined) intent.updates = copyUpdates(updates);
      await this.hooks.beforeSign(intent);
    }
    return await this.signer.sign(digest);
  }
}
