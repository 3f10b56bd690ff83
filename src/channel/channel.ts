import {
  ChannelFinalizedError,
  ConflictingStateError,
  FinalFlagError,
  InsufficientFundsError,
  InvalidAmountError,
  InvalidArgumentError,
  InvalidSignatureError,
  ProposalPendingError,
  RootMismatchError,
  SequenceMismatchError,
  StaleVersionError,
  TransferMismatchError,
  StaleRequestError,
  UnexpectedAckError,
  UnrequestedPaymentError,
  ValueOutOfRangeError,
  VersionGapError,
  WrongChannelError,
  WrongPayerError,
  WrongRoleError,
  MalformedMessageError,
  SluiceError,
} from "../errors";
import { MAX_UINT256, MAX_UINT64, StateHasher, channelId as channelIdOf, toHex } from "../crypto/hash";
import type { StateSigner } from "../crypto/signer";
import { EcdsaVerifier, type SignatureVerifier } from "../crypto/verifier";
import { PaymentLog, type PaymentProof } from "../merkle/paymentLog";
import type { Address, Hex, Params, Payment, SignedState, SignedWithdrawal, State, Withdrawal } from "../types";
import { ZERO_HASH, openingState } from "../types";
import {
  decodeMessage,
  decodeMessageOf,
  MAX_PAYMENTS_PER_STATE,
  type BatchProposal,
  type ChannelMessage,
  type FinalProposal,
  type FinalRequest,
  type PaymentProposal,
  type PaymentRequest,
  type ProposedPayment,
  type StateAck,
  type WithdrawalAck,
  type WithdrawalProposal,
} from "./messages";
import {
  LocksUnsupportedError,
  UnknownWithdrawalError,
  WithdrawalExpiryError,
  WithdrawalParticipantError,
  WithdrawalPendingError,
  WithdrawalExceedsBalanceError,
  WithdrawalTotalError,
} from "./errors";
import { balance, payouts, type Funds } from "./payouts";

/** Why a state is about to be signed. */
export type SignKind = "propose-payment" | "countersign-payment" | "propose-final" | "countersign-final";

/** What `beforeSign` sees: the state this side is about to sign, and what it signs it for. */
export interface SignIntent {
  kind: SignKind;
  state: State;
  digest: Hex;
  /** The payments the state adds, in order (none for a final state). */
  payments: ProposedPayment[];
  /** The peer's signature of the state, when countersigning. */
  peerSig?: Hex;
}

/** A state both sides have signed and this side now holds as its latest. */
export interface CommittedUpdate {
  signed: SignedState;
  /** The payments the state added, in order, each with the request it answered (payer 1). */
  payments: ProposedPayment[];
}

export interface ChannelHooks {
  /**
   * Called before this side signs a state, once it is checked; the signature is made only when
   * it returns (or its promise resolves). A store persists the intent here, so that after a crash
   * the node never signs the same version with other contents. If it throws, nothing is signed
   * and the channel is unchanged.
   */
  beforeSign?(intent: SignIntent): void | Promise<void>;
  /** Called after a fully signed state became the latest (the channel has already moved on). */
  onCommit?(update: CommittedUpdate): void | Promise<void>;
  /**
   * Called with a withdrawal this side signed, before its signature leaves the process: its own
   * proposal (`proposed`), one it countersigns (`signed`, both signatures), and its own proposal
   * once countersigned (`signed`). A store persists it here, so that after a crash the node still
   * counts it as spent. If it throws, the channel is unchanged and nothing is sent.
   */
  onWithdrawal?(record: WithdrawalRecord): void | Promise<void>;
}

/**
 * Where a withdrawal stands: `proposed` (this side's, waiting for the peer's countersignature),
 * `signed` (by both: it can be executed on chain until its expiry), `executed` (the chain's
 * cumulative withdrawal reached its total), `expired` (its expiry passed unexecuted), `refused`
 * (the peer did not countersign this side's proposal), `void` (the channel concluded first).
 * Proposed and signed withdrawals are live: both sides count them as spent.
 */
export type WithdrawalStatus = "proposed" | "signed" | "executed" | "expired" | "refused" | "void";

/** A withdrawal this side signed, with the signatures it holds (`sigs[i]` by participant i, "0x" if missing). */
export interface WithdrawalRecord {
  withdrawal: Withdrawal;
  sigs: [Hex, Hex];
  status: WithdrawalStatus;
}

/**
 * What a store keeps to rebuild a channel after a restart. Pending proposals are not part of it:
 * after a restart participant 0 treats them as abandoned (their versions stay burned through
 * `signedVersion`), and participant 1's outstanding requests are dropped.
 */
export interface ChannelSnapshot {
  latest: SignedState;
  /** The payments of `latest`, in order. */
  payments: readonly Payment[];
  /** Highest version this side has ever signed (at least `latest.state.version`). */
  signedVersion: bigint;
  /** True once this side has signed a final state. */
  signedFinal: boolean;
  deposits: readonly [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals; [0, 0] if absent. */
  withdrawn?: readonly [bigint, bigint];
  /** Live withdrawals (proposed or signed), counted as spent until executed or expired. */
  withdrawals?: readonly WithdrawalRecord[];
  /**
   * Participant 1: the highest request id it has issued (the next one is above it). Participant 0:
   * the highest request id of a committed payment (it serves only higher ones). 0 if absent.
   */
  lastRequestId?: bigint;
}

export interface ChannelConfig {
  params: Params;
  /** This side's participant index: 0 sequences (proposes every state), 1 requests and countersigns. */
  me: 0 | 1;
  /** Signs for participant `me`; its address must be `params.participants[me]`. */
  signer: StateSigner;
  chainId: bigint;
  /** The adjudicator's address (the EIP-712 verifying contract). */
  adjudicator: Address;
  /** Checks the peer's signatures; ECDSA by default, `SignatureCheckerVerifier` for contract wallets. */
  verifier?: SignatureVerifier;
  /** Confirmed on-chain deposits; update them with `setDeposits`. */
  deposits?: readonly [bigint, bigint];
  /** Confirmed on-chain cumulative withdrawals (`partialWithdraw`); update them with `setWithdrawn`. */
  withdrawn?: readonly [bigint, bigint];
  hooks?: ChannelHooks;
  /** Rebuild from a store instead of starting at the opening state. */
  restore?: ChannelSnapshot;
}

/** A proposal of participant 0, waiting for participant 1's countersignature. */
export interface PendingProposal {
  kind: "payment" | "final";
  state: State;
  sig: Hex;
  /** The payments the state adds, in order (none for a final state). */
  payments: ProposedPayment[];
}

/**
 * One payment for `proposePayments`: participant 0's own (`pay`), or participant 1's request to
 * serve (its message as received).
 */
export type PaymentEntry = { kind: "pay"; amount: bigint; ref: Hex } | PaymentRequest;

/** What `proposePayments` made: the proposal of the entries that passed, and why the others failed. */
export interface ProposedBatch {
  /** The proposal to send, or undefined if no entry passed. */
  proposal?: BatchProposal;
  /** The entries left out, by their index in the input, each with its typed error. */
  rejected: { index: number; error: SluiceError }[];
}

interface Pending extends PendingProposal {
  digest: Buffer;
}

/**
 * How far above everything it holds or signed participant 1 lets a proposal's version jump
 * (2^20). Participant 0 skips a version per abandoned proposal; a peer jumping toward 2^64 - 1
 * could otherwise leave no version for a final state.
 */
export const MAX_VERSION_GAP = 1n << 20n;

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

const sameHex = (a: string, b: string) => a.length === b.length && a.toLowerCase() === b.toLowerCase();

const copyState = (state: State): State => ({
  ...state,
  transferred: [state.transferred[0], state.transferred[1]],
  locked: [state.locked[0], state.locked[1]],
});

const copyItems = (items: readonly ProposedPayment[]): ProposedPayment[] =>
  items.map((item) => (item.request === undefined ? { payment: { ...item.payment } } : { payment: { ...item.payment }, request: item.request }));

const copyWithdrawal = (r: WithdrawalRecord): WithdrawalRecord => ({ withdrawal: { ...r.withdrawal }, sigs: [r.sigs[0], r.sigs[1]], status: r.status });

const isLive = (r: WithdrawalRecord): boolean => r.status === "proposed" || r.status === "signed";

const copyProposal = (p: Pending): PendingProposal => ({ kind: p.kind, state: copyState(p.state), sig: p.sig, payments: copyItems(p.payments) });

/** The request id of the last item that answers one, or `fallback`. */
const lastRequest = (items: readonly ProposedPayment[], fallback: bigint): bigint => {
  for (let i = items.length - 1; i >= 0; i--) if (items[i].request !== undefined) return items[i].request!;
  return fallback;
};

const validAmount = (amount: unknown): amount is bigint => typeof amount === "bigint" && amount > 0n && amount <= MAX_UINT256;

/** True iff the state carries locks (this client does not make or accept them yet). */
const hasLocks = (state: State): boolean => state.locked[0] !== 0n || state.locked[1] !== 0n || !sameHex(state.locksRoot, ZERO_HASH);

export { openingState };

/**
 * One side of a payment channel: makes, checks and countersigns states. Participant 0 is the
 * sequencer: it proposes every state and so assigns every version, and participant 1 only
 * countersigns, so two different states are never proposed for one version and payments in both
 * directions never collide.
 *
 * - Participant 0 pays with `pay`; participant 1 asks to pay with `requestPayment`, and
 *   participant 0 turns the request into a proposal with `receiveRequest`.
 * - Participant 1 checks a proposal in `receivePayment` (one by participant 1 only if it matches
 *   an outstanding request of its own) and countersigns it; participant 0 commits it with the
 *   acknowledgement in `receiveAck`. A payment counts as done only then.
 * - Pipelining: participant 0 may have many proposals pending, each built on the previous one
 *   (the tip). Participant 1 processes them in the order received and acknowledges them in that
 *   order; an acknowledgement must answer the oldest pending proposal. When participant 1 rejects
 *   one, it and every later one (built on it) are void: `abandonPending`.
 *
 * Every rejection throws a `SluiceError` subclass and leaves the channel as it was; operations run
 * one at a time in call order. A proposal has version `max(latest, highest this side ever signed)
 * + 1`, so an abandoned version is never signed again with other contents.
 */
export class Channel {
  readonly params: Params;
  readonly id: Hex;
  readonly me: 0 | 1;
  readonly peer: 0 | 1;
  readonly hasher: StateHasher;
  private readonly signer: StateSigner;
  private readonly verifier: SignatureVerifier;
  private readonly hooks: ChannelHooks;
  /** Committed payments, then (participant 0) the payments of the pending proposals. */
  private readonly log: PaymentLog;
  private _latest: SignedState;
  private _deposits: readonly [bigint, bigint];
  private _withdrawn: readonly [bigint, bigint];
  /** Live withdrawals of both sides (proposed by this side, or signed by both), oldest first. */
  private live: WithdrawalRecord[] = [];
  private _signedVersion: bigint;
  private _signedFinal: boolean;
  /** Number of payments in `_latest` (the log's committed prefix). */
  private committed: number;
  // Participant 0.
  private readonly _pending: Pending[] = [];
  /** Highest request id of a committed payment. */
  private committedRequest = 0n;
  /** Highest request id of a committed or pending payment: a request is served only above it. */
  private servedRequest = 0n;
  // Participant 1.
  private readonly outstanding = new Map<bigint, PaymentRequest>();
  /** Sum of the outstanding requests' amounts. */
  private requested = 0n;
  /** Highest request id issued. */
  private issuedRequest = 0n;
  private queue: Promise<void> = Promise.resolve();

  constructor(config: ChannelConfig) {
    const { params, me, signer } = config;
    if (me !== 0 && me !== 1) throw new InvalidArgumentError(`participant index ${String(me)}`);
    if (!sameHex(signer.address, params.participants[me])) {
      throw new InvalidArgumentError(`signer ${signer.address} is not participant ${me} (${params.participants[me]})`);
    }
    this.params = params;
    this.id = channelIdOf(params);
    this.me = me;
    this.peer = me === 0 ? 1 : 0;
    this.signer = signer;
    this.hasher = new StateHasher(config.chainId, config.adjudicator);
    this.verifier = config.verifier ?? new EcdsaVerifier();
    this.hooks = config.hooks ?? {};
    const restore = config.restore;
    this._deposits = restore?.deposits ?? config.deposits ?? [0n, 0n];
    this._withdrawn = restore?.withdrawn ?? config.withdrawn ?? [0n, 0n];
    if (restore) {
      if (!sameHex(restore.latest.state.channelId, this.id)) throw new WrongChannelError(this.id, restore.latest.state.channelId);
      if (hasLocks(restore.latest.state)) throw new LocksUnsupportedError(restore.latest.state.version);
      for (const r of restore.withdrawals ?? []) {
        if (!sameHex(r.withdrawal.channelId, this.id)) throw new WrongChannelError(this.id, r.withdrawal.channelId);
        if (isLive(r)) this.live.push(copyWithdrawal(r));
      }
      this.log = new PaymentLog(restore.payments);
      if (!sameHex(this.log.root, restore.latest.state.paymentsRoot)) {
        throw new RootMismatchError(restore.latest.state.paymentsRoot, this.log.root);
      }
      this._latest = restore.latest;
      this._signedVersion = restore.signedVersion > restore.latest.state.version ? restore.signedVersion : restore.latest.state.version;
      this._signedFinal = restore.signedFinal || restore.latest.state.isFinal;
      const lastRequestId = restore.lastRequestId ?? 0n;
      if (typeof lastRequestId !== "bigint" || lastRequestId < 0n || lastRequestId > MAX_UINT64) {
        throw new InvalidArgumentError("lastRequestId is a uint64");
      }
      if (me === 0) this.committedRequest = this.servedRequest = lastRequestId;
      else this.issuedRequest = lastRequestId;
    } else {
      this.log = new PaymentLog();
      this._latest = { state: openingState(this.id), sigs: ["0x", "0x"] };
      this._signedVersion = 0n;
      this._signedFinal = false;
    }
    this.committed = this.log.size;
  }

  // ------------------------------------------------------------------ views

  /** The latest state both sides have signed (the opening state, unsigned, at first). */
  get latest(): SignedState {
    return this._latest;
  }

  /** The state the next proposal builds on: the last pending proposal's, else the latest. */
  get tip(): State {
    const last = this._pending[this._pending.length - 1];
    return last ? last.state : this._latest.state;
  }

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

  /** Participant 0's proposals waiting for a countersignature, oldest first (copies). */
  get pending(): PendingProposal[] {
    return this._pending.map(copyProposal);
  }

  /** Participant 1's outstanding payment requests, oldest first (copies). */
  get requests(): PaymentRequest[] {
    return [...this.outstanding.values()].map((r) => ({ ...r }));
  }

  /** Payouts if the channel settled on the latest state with the confirmed deposits and withdrawals. */
  get payouts(): [bigint, bigint] {
    return payouts(this.funds(), this._latest.state.transferred, this._latest.state.locked);
  }

  /**
   * What participant `who` can still pay against the confirmed deposits: on top of the tip
   * (pending proposals counted) and, for participant 1 on its own side, less its outstanding
   * requests.
   */
  spendable(who: 0 | 1 = this.me): bigint {
    const available = balance(this.funds(), this.tip, who);
    return this.me === 1 && who === 1 ? available - this.requested : available;
  }

  /** Number of payments in the latest state. */
  get paymentCount(): number {
    return this.committed;
  }

  /** Payment `seq` of the latest state. */
  payment(seq: bigint | number): Payment {
    if (!(Number(seq) < this.committed)) throw new InvalidArgumentError(`no payment ${seq} in a log of ${this.committed}`);
    return this.log.payment(seq);
  }

  /** Merkle proof of payment `seq` against the latest state's root, for `verifyPayment`. */
  proof(seq: bigint | number): PaymentProof {
    return this.log.proof(seq, this.committed);
  }

  /** What a store keeps to rebuild this channel (pending proposals and requests are left out). */
  snapshot(): ChannelSnapshot {
    return {
      latest: this._latest,
      payments: this.log.all().slice(0, this.committed),
      signedVersion: this._signedVersion,
      signedFinal: this._signedFinal,
      deposits: this._deposits,
      withdrawn: this._withdrawn,
      withdrawals: this.live.map(copyWithdrawal),
      lastRequestId: this.me === 0 ? this.committedRequest : this.issuedRequest,
    };
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
    let available = balance(this.funds(), { transferred, locked }, who);
    if (this.me === 1 && who === 1) available -= this.requested;
    return available;
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
  receiveWithdrawal(message: WithdrawalProposal | unknown, now: bigint, maxWindow: bigint): Promise<WithdrawalAck> {
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
  receiveWithdrawalAck(message: WithdrawalAck | unknown): Promise<SignedWithdrawal> {
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
    return this.exclusive(async () => {
      const index = this.live.findIndex((r) => r.status === "proposed" && r.withdrawal.total === total);
      if (index < 0) return undefined;
      const [dropped] = this.live.splice(index, 1);
      return { ...copyWithdrawal(dropped!), status: "refused" };
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
          const signer = this.params.participants[p];
          let valid: boolean;
          try {
            valid = await this.verifier.verify(signer, digest, signed.sigs[p]);
          } catch (cause) {
            throw new InvalidSignatureError(signer, "the verifier failed", { cause });
          }
          if (!valid) throw new InvalidSignatureError(signer, `withdrawal ${w.total} of participant ${w.participant}`);
        }
        adopted.push({ withdrawal: { ...w }, sigs: [signed.sigs[0], signed.sigs[1]], status: "signed" });
      }
      const same = (a: Withdrawal, b: Withdrawal) => a.participant === b.participant && a.total === b.total && a.expiry === b.expiry;
      for (const record of adopted) {
        if (record.withdrawal.total <= this._withdrawn[record.withdrawal.participant]) continue;
        const index = this.live.findIndex((r) => same(r.withdrawal, record.withdrawal));
        if (index >= 0 && this.live[index]!.status === "signed") continue;
        if (index >= 0) this.live[index] = record;
        else this.live.push(record);
        changed.push(copyWithdrawal(record));
      }
      for (let i = this.live.length - 1; i >= 0; i--) {
        const r = this.live[i]!;
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
    return this.exclusive(async () => this.live.filter((r) => r.status === "proposed").map((r) => r.withdrawal.total));
  }

  /** The live withdrawals signed by both, in the order this side's operations ran (for a peer's sync). */
  signedWithdrawals(): Promise<SignedWithdrawal[]> {
    return this.exclusive(async () =>
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

  // ------------------------------------------------------------------ participant 0

  /**
   * Participant 0 pays `amount` to participant 1: signs the next state on top of the tip with the
   * payment appended and returns the proposal to send. Further proposals may follow at once; the
   * payment is done once `receiveAck` accepts participant 1's countersignature.
   */
  pay(amount: bigint, ref: Hex = ZERO_HASH): Promise<PaymentProposal> {
    return this.exclusive(async () => {
      this.checkRole(0, "pay directly", "request the payment with requestPayment");
      this.checkCanSign();
      return this.proposeOne({ kind: "pay", amount, ref });
    });
  }

  /**
   * Participant 0 proposes one state that adds every entry that passes its checks, in order, each
   * checked on top of the ones before it (its own payments as `pay` checks them, participant 1's
   * requests as `receiveRequest` does): one signature for the lot. An entry that fails is left out
   * with its typed error; the rest go on. At most MAX_PAYMENTS_PER_STATE entries.
   */
  proposePayments(entries: readonly PaymentEntry[]): Promise<ProposedBatch> {
    return this.exclusive(async () => {
      this.checkRole(0, "propose payments", "request the payments with requestPayment");
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PAYMENTS_PER_STATE) {
        throw new InvalidArgumentError(`a batch holds 1 to ${MAX_PAYMENTS_PER_STATE} payments`);
      }
      this.checkCanSign();
      const { pending, rejected } = await this.propose(entries);
      if (!pending) return { rejected };
      const proposal: BatchProposal = { kind: "payments", payments: copyItems(pending.payments), state: copyState(pending.state), sig: pending.sig };
      return { proposal, rejected };
    });
  }

  /**
   * Participant 0 serves participant 1's payment request: checks it (amount, id above every
   * request served, participant 1 can afford it on top of the tip) and returns the proposal of the
   * payment by participant 1, carrying the request id.
   */
  receiveRequest(message: PaymentRequest | unknown): Promise<PaymentProposal> {
    return this.exclusive(async () => {
      this.checkRole(0, "serve a payment request", "participant 0 sequences");
      const request = decodeMessageOf("request", message);
      this.checkCanSign();
      return this.proposeOne(request);
    });
  }

  /** Participant 0 signs a final state (latest transfers and root); allowed with nothing pending. */
  proposeFinal(): Promise<FinalProposal> {
    return this.exclusive(async () => {
      this.checkRole(0, "propose a final state", "ask for it with requestFinal");
      return this.makeFinal();
    });
  }

  /**
   * Participant 0 answers participant 1's request for the final state with the final proposal;
   * `ProposalPendingError` while proposals are pending (retry once they are acknowledged).
   */
  receiveFinalRequest(message: FinalRequest | unknown): Promise<FinalProposal> {
    return this.exclusive(async () => {
      this.checkRole(0, "serve a final-state request", "participant 0 sequences");
      decodeMessageOf("final-request", message);
      return this.makeFinal();
    });
  }

  /**
   * Checks participant 1's countersignature of the oldest pending proposal and commits it (acks
   * arrive in the order of the proposals); returns the fully signed state, now the latest.
   */
  receiveAck(message: StateAck | unknown): Promise<SignedState> {
    return this.exclusive(async () => {
      this.checkRole(0, "receive an acknowledgement", "participant 1 proposes nothing");
      const { version, sig } = decodeMessageOf("ack", message);
      const oldest = this._pending[0];
      if (!oldest || oldest.state.version !== version) throw new UnexpectedAckError(version, oldest?.state.version);
      await this.checkPeerSignature(oldest.digest, sig);
      this._pending.shift();
      this._latest = { state: oldest.state, sigs: [oldest.sig, sig] };
      this.committed += oldest.payments.length;
      this.committedRequest = lastRequest(oldest.payments, this.committedRequest);
      await this.hooks.onCommit?.({ signed: this._latest, payments: copyItems(oldest.payments) });
      return this._latest;
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
    return this.exclusive(async () => {
      const start = from === undefined ? 0 : this._pending.findIndex((p) => p.state.version === from);
      if (start < 0 || start >= this._pending.length) return [];
      const dropped = this._pending.splice(start);
      let size = this.committed;
      let served = this.committedRequest;
      for (const p of this._pending) {
        size += p.payments.length;
        served = lastRequest(p.payments, served);
      }
      this.log.truncate(size);
      this.servedRequest = served;
      return dropped.map(copyProposal);
    });
  }

  // ------------------------------------------------------------------ participant 1

  /**
   * Participant 1 asks to pay `amount` to participant 0: returns the request to send, with the
   * next request id. Participant 1 countersigns a payment by itself only for an outstanding
   * request, which the payment then consumes. Checked against its latest state less its
   * outstanding requests.
   */
  requestPayment(amount: bigint, ref: Hex = ZERO_HASH): Promise<PaymentRequest> {
    return this.exclusive(async () => {
      this.checkRole(1, "request a payment", "pay with pay");
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
      this.requested += amount;
      return { ...request };
    });
  }

  /**
   * Participant 1 drops its outstanding request `id` (e.g. on a timeout): a proposal for it is
   * refused from now on. Returns the request, or undefined if it was not outstanding.
   */
  cancelRequest(id: bigint): Promise<PaymentRequest | undefined> {
    return this.exclusive(async () => {
      this.checkRole(1, "cancel a payment request");
      const request = this.outstanding.get(id);
      if (!request) return undefined;
      this.outstanding.delete(id);
      this.requested -= request.amount;
      return { ...request };
    });
  }

  /** Participant 1 asks participant 0 for the final state: the message to send. */
  requestFinal(): Promise<FinalRequest> {
    return this.exclusive(async () => {
      this.checkRole(1, "request a final state", "propose it with proposeFinal");
      this.checkCanSign();
      return { kind: "final-request" };
    });
  }

  /**
   * Participant 1 checks participant 0's payment proposal and countersigns it; the returned
   * acknowledgement goes back. A payment by participant 0 is checked as a payee does; one by
   * participant 1 must match an outstanding request (id, amount, ref), which it consumes.
   * Accepts the typed message or its JSON form.
   */
  receivePayment(message: PaymentProposal | unknown): Promise<StateAck> {
    return this.exclusive(async () => {
      this.checkRole(1, "countersign a payment", "participant 0 proposes every state");
      const { payment, request, state, sig } = decodeMessageOf("payment", message);
      return this.countersign(request === undefined ? [{ payment }] : [{ payment, request }], state, sig);
    });
  }

  /**
   * Participant 1 checks participant 0's proposal of several payments in one state, each as
   * `receivePayment` checks a single one and on top of the ones before it, and countersigns the
   * state; one bad payment refuses the whole proposal.
   */
  receivePayments(message: BatchProposal | unknown): Promise<StateAck> {
    return this.exclusive(async () => {
      this.checkRole(1, "countersign payments", "participant 0 proposes every state");
      const { payments, state, sig } = decodeMessageOf("payments", message);
      return this.countersign(payments, state, sig);
    });
  }

  /** Participant 1 checks participant 0's final state (latest transfers and root, final) and countersigns it. */
  acceptFinal(message: FinalProposal | unknown): Promise<StateAck> {
    return this.exclusive(async () => {
      this.checkRole(1, "countersign a final state", "participant 0 proposes every state");
      const { state, sig } = decodeMessageOf("final", message);
      this.checkCanSign();
      this.checkChannel(state.channelId);
      this.checkVersion(state.version);
      if (!state.isFinal) throw new FinalFlagError(true);
      if (hasLocks(state)) throw new LocksUnsupportedError(state.version);
      const latest = this._latest.state;
      if (state.transferred[0] !== latest.transferred[0] || state.transferred[1] !== latest.transferred[1]) {
        throw new TransferMismatchError(latest.transferred, state.transferred);
      }
      if (!sameHex(state.paymentsRoot, latest.paymentsRoot)) throw new RootMismatchError(latest.paymentsRoot, state.paymentsRoot);
      const digest = this.hasher.digest(state);
      await this.checkPeerSignature(digest, sig);
      const mySig = await this.sign("countersign-final", state, digest, [], sig);
      this._signedVersion = state.version;
      this._signedFinal = true;
      this._latest = { state, sigs: [sig, mySig] };
      await this.hooks.onCommit?.({ signed: this._latest, payments: [] });
      return { kind: "ack", version: state.version, sig: mySig };
    });
  }

  // ------------------------------------------------------------------ both

  /**
   * Dispatches a message from the peer to the method for its kind. Participant 0 gets requests
   * (answered with a proposal to send) and acknowledgements (answered with the fully signed
   * state); participant 1 gets proposals (answered with the acknowledgement to send).
   */
  async receive(message: ChannelMessage | unknown): Promise<StateAck | SignedState | PaymentProposal | FinalProposal> {
    // Dispatch on the kind alone: the method decodes and checks the whole message, once.
    const kind = typeof message === "object" && message !== null ? (message as { kind?: unknown }).kind : undefined;
    switch (kind) {
      case "payment":
        return this.receivePayment(message);
      case "payments":
        return this.receivePayments(message);
      case "final":
        return this.acceptFinal(message);
      case "ack":
        return this.receiveAck(message);
      case "request":
        return this.receiveRequest(message);
      case "final-request":
        return this.receiveFinalRequest(message);
      case "withdrawal":
      case "withdrawal-ack":
        throw new InvalidArgumentError("withdrawals go through receiveWithdrawal and receiveWithdrawalAck (they need the chain's time)");
      default:
        // Not a known kind: decoding names the problem (the kind, or the message itself).
        decodeMessage(message);
        throw new MalformedMessageError("kind", "unknown message kind");
    }
  }

  // ------------------------------------------------------------------ internals

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

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

  /**
   * Checks each entry on top of the tip and the entries before it, signs one state adding those
   * that pass, and appends it as pending (participant 0).
   */
  private async propose(entries: readonly PaymentEntry[]): Promise<{ pending?: Pending; rejected: ProposedBatch["rejected"] }> {
    const tip = this.tip;
    const transferred: [bigint, bigint] = [tip.transferred[0], tip.transferred[1]];
    const start = this.log.size;
    const items: ProposedPayment[] = [];
    const rejected: ProposedBatch["rejected"] = [];
    let served = this.servedRequest;
    for (const [index, entry] of entries.entries()) {
      try {
        const item = this.checkEntry(entry, transferred, served, BigInt(start + items.length));
        transferred[item.payment.payer] += item.payment.amount;
        if (item.request !== undefined) served = item.request;
        items.push(item);
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
        rejected.push({ index, error });
      }
    }
    if (items.length === 0) return { rejected };
    const version = this.nextVersion();
    for (const item of items) this.log.append(item.payment);
    const state: State = {
      channelId: this.id,
      version,
      transferred,
      locked: [tip.locked[0], tip.locked[1]],
      locksRoot: tip.locksRoot,
      paymentsRoot: this.log.root,
      isFinal: false,
    };
    const digest = this.hasher.digest(state);
    let sig: Hex;
    try {
      sig = await this.sign("propose-payment", state, digest, items);
    } catch (error) {
      this.log.truncate(start);
      throw error;
    }
    this._signedVersion = version;
    this.servedRequest = served;
    const pending: Pending = { kind: "payment", state, sig, payments: items, digest };
    this._pending.push(pending);
    return { pending, rejected };
  }

  /** One entry of a proposal, checked on top of `transferred` (participant 0). */
  private checkEntry(entry: PaymentEntry, transferred: readonly [bigint, bigint], served: bigint, seq: bigint): ProposedPayment {
    let payer: 0 | 1;
    let request: bigint | undefined;
    let amount: bigint;
    let ref: Hex;
    if (entry?.kind === "request") {
      ({ id: request, amount, ref } = decodeMessageOf("request", entry));
      if (request <= served) throw new StaleRequestError(request, served);
      payer = 1;
    } else if (entry?.kind === "pay") {
      ({ amount, ref } = entry);
      if (typeof ref !== "string" || !BYTES32.test(ref)) throw new InvalidArgumentError(`ref ${String(ref)} is not 32 bytes`);
      ref = ref.toLowerCase() as Hex;
      payer = 0;
    } else {
      throw new InvalidArgumentError('a payment entry is {kind: "pay", amount, ref} or a payment request');
    }
    if (!validAmount(amount)) throw new InvalidAmountError(amount);
    const available = balance(this.funds(), { transferred, locked: this.tip.locked }, payer);
    if (amount > available) throw new InsufficientFundsError(payer, amount, available);
    if (transferred[payer] + amount > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${payer}]`, transferred[payer] + amount);
    const payment: Payment = { channelId: this.id, seq, payer, amount, ref };
    return request === undefined ? { payment } : { payment, request };
  }

  /**
   * Participant 1: checks participant 0's state adding `items` (each payment in order on top of
   * the latest state, the transfers, the root, the signature), countersigns and commits it.
   */
  private async countersign(items: ProposedPayment[], state: State, sig: Hex): Promise<StateAck> {
    this.checkCanSign();
    this.checkChannel(state.channelId);
    for (const { payment } of items) {
      this.checkChannel(payment.channelId);
      if (payment.amount === 0n) throw new InvalidAmountError(payment.amount);
    }
    this.checkVersion(state.version);
    if (state.isFinal) throw new FinalFlagError(false);
    if (hasLocks(state)) throw new LocksUnsupportedError(state.version);
    const latest = this._latest.state;
    const start = this.log.size;
    const expected: [bigint, bigint] = [latest.transferred[0], latest.transferred[1]];
    const answered = new Set<bigint>();
    for (const [i, { payment, request }] of items.entries()) {
      const seq = BigInt(start + i);
      if (payment.seq !== seq) throw new SequenceMismatchError(seq, payment.seq);
      this.checkRequest(payment, request, answered);
      expected[payment.payer] += payment.amount;
    }
    if (state.transferred[0] !== expected[0] || state.transferred[1] !== expected[1]) {
      throw new TransferMismatchError(expected, state.transferred);
    }
    const running: [bigint, bigint] = [latest.transferred[0], latest.transferred[1]];
    for (const { payment } of items) {
      const available = balance(this.funds(), { transferred: running, locked: latest.locked }, payment.payer);
      if (payment.amount > available) throw new InsufficientFundsError(payment.payer, payment.amount, available);
      running[payment.payer] += payment.amount;
    }
    for (const { payment } of items) this.log.append(payment);
    let mySig: Hex;
    try {
      const root = this.log.root;
      if (!sameHex(root, state.paymentsRoot)) throw new RootMismatchError(root, state.paymentsRoot);
      const digest = this.hasher.digest(state);
      await this.checkPeerSignature(digest, sig);
      mySig = await this.sign("countersign-payment", state, digest, items, sig);
    } catch (error) {
      this.log.truncate(start);
      throw error;
    }
    this._signedVersion = state.version;
    this.committed = this.log.size;
    this._latest = { state, sigs: [sig, mySig] };
    for (const { payment, request } of items) {
      if (request === undefined) continue;
      this.outstanding.delete(request);
      this.requested -= payment.amount;
    }
    await this.hooks.onCommit?.({ signed: this._latest, payments: copyItems(items) });
    return { kind: "ack", version: state.version, sig: mySig };
  }

  /** A payment by participant 1 must answer an outstanding request of its own, once; one by participant 0 none. */
  private checkRequest(payment: Payment, request: bigint | undefined, answered: Set<bigint>): void {
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

  private async makeFinal(): Promise<FinalProposal> {
    this.checkCanSign();
    if (this._pending.length > 0) throw new ProposalPendingError(this._pending[0].state.version);
    const latest = this._latest.state;
    const state: State = { ...latest, channelId: this.id, version: this.nextVersion(), isFinal: true };
    const digest = this.hasher.digest(state);
    const sig = await this.sign("propose-final", state, digest, []);
    this._signedVersion = state.version;
    this._signedFinal = true;
    this._pending.push({ kind: "final", state, sig, payments: [], digest });
    return { kind: "final", state: copyState(state), sig };
  }

  /** Deposits and withdrawals the payout maths and every affordability check run against. */
  private funds(): Funds {
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

  private nextVersion(): bigint {
    const latest = this._latest.state.version;
    const version = (latest > this._signedVersion ? latest : this._signedVersion) + 1n;
    if (version > MAX_UINT64) throw new ValueOutOfRangeError("version", version);
    return version;
  }

  private checkRole(role: 0 | 1, operation: string, hint?: string): void {
    if (this.me !== role) throw new WrongRoleError(this.me, operation, hint);
  }

  private checkCanSign(): void {
    if (this._signedFinal || this._latest.state.isFinal) throw new ChannelFinalizedError(this.id);
  }

  private checkChannel(id: Hex): void {
    if (!sameHex(id, this.id)) throw new WrongChannelError(this.id, id);
  }

  /** Participant 1's version rule: above its latest and all it signed, by at most MAX_VERSION_GAP. */
  private checkVersion(version: bigint): void {
    const latest = this._latest.state.version;
    if (version <= latest) throw new StaleVersionError(version, latest);
    if (version <= this._signedVersion) throw new ConflictingStateError(version, this._signedVersion);
    const base = latest > this._signedVersion ? latest : this._signedVersion;
    if (version - base > MAX_VERSION_GAP) throw new VersionGapError(version, base + MAX_VERSION_GAP);
  }

  private async checkPeerSignature(digest: Buffer, sig: Hex): Promise<void> {
    const peer = this.params.participants[this.peer];
    let valid: boolean;
    try {
      valid = await this.verifier.verify(peer, digest, sig);
    } catch (cause) {
      throw new InvalidSignatureError(peer, "the verifier failed", { cause });
    }
    if (!valid) throw new InvalidSignatureError(peer);
  }

  private async sign(kind: SignKind, state: State, digest: Buffer, payments: readonly ProposedPayment[], peerSig?: Hex): Promise<Hex> {
    if (this.hooks.beforeSign) {
      const intent: SignIntent = { kind, state, digest: toHex(digest), payments: copyItems(payments) };
      if (peerSig !== undefined) intent.peerSig = peerSig;
      await this.hooks.beforeSign(intent);
    }
    return await this.signer.sign(digest);
  }
}
