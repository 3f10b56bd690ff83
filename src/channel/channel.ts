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
} from "../errors";
import { MAX_UINT256, MAX_UINT64, StateHasher, channelId as channelIdOf, paymentLeaf, toHex } from "../crypto/hash";
import type { StateSigner } from "../crypto/signer";
import { EcdsaVerifier, type SignatureVerifier } from "../crypto/verifier";
import { PaymentLog, type PaymentProof } from "../merkle/paymentLog";
import type { Address, Hex, Params, Payment, SignedState, State } from "../types";
import { ZERO_HASH, openingState } from "../types";
import {
  decodeMessage,
  decodeMessageOf,
  type ChannelMessage,
  type FinalProposal,
  type FinalRequest,
  type PaymentProposal,
  type PaymentRequest,
  type StateAck,
} from "./messages";
import { payouts, spendable } from "./payouts";

/** Why a state is about to be signed. */
export type SignKind = "propose-payment" | "countersign-payment" | "propose-final" | "countersign-final";

/** What `beforeSign` sees: the state this side is about to sign, and what it signs it for. */
export interface SignIntent {
  kind: SignKind;
  state: State;
  digest: Hex;
  /** The payment the state adds (payment states only). */
  payment?: Payment;
  /** The participant-1 request the payment answers (payments by participant 1 only). */
  request?: bigint;
  /** The peer's signature of the state, when countersigning. */
  peerSig?: Hex;
}

/** A state both sides have signed and this side now holds as its latest. */
export interface CommittedUpdate {
  signed: SignedState;
  payment?: Payment;
  /** The participant-1 request the payment answered (payments by participant 1 only). */
  request?: bigint;
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
  hooks?: ChannelHooks;
  /** Rebuild from a store instead of starting at the opening state. */
  restore?: ChannelSnapshot;
}

/** A proposal of participant 0, waiting for participant 1's countersignature. */
export interface PendingProposal {
  kind: "payment" | "final";
  state: State;
  sig: Hex;
  payment?: Payment;
  /** The participant-1 request the payment answers (payer 1 only). */
  request?: bigint;
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

const copyState = (state: State): State => ({ ...state, transferred: [state.transferred[0], state.transferred[1]] });

const copyProposal = (p: Pending): PendingProposal => {
  const copy: PendingProposal = { kind: p.kind, state: copyState(p.state), sig: p.sig };
  if (p.payment) copy.payment = { ...p.payment };
  if (p.request !== undefined) copy.request = p.request;
  return copy;
};

const validAmount = (amount: unknown): amount is bigint => typeof amount === "bigint" && amount > 0n && amount <= MAX_UINT256;

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
    if (restore) {
      if (!sameHex(restore.latest.state.channelId, this.id)) throw new WrongChannelError(this.id, restore.latest.state.channelId);
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

  /** Payouts if the channel settled on the latest state with the confirmed deposits. */
  get payouts(): [bigint, bigint] {
    return payouts(this._deposits, this._latest.state.transferred);
  }

  /**
   * What participant `who` can still pay against the confirmed deposits: on top of the tip
   * (pending proposals counted) and, for participant 1 on its own side, less its outstanding
   * requests.
   */
  spendable(who: 0 | 1 = this.me): bigint {
    const available = spendable(this._deposits, this.tip.transferred, who);
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
      return this.propose(0, amount, ref, undefined);
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
      const { id, amount, ref } = decodeMessageOf("request", message);
      this.checkCanSign();
      if (id <= this.servedRequest) throw new StaleRequestError(id, this.servedRequest);
      return this.propose(1, amount, ref, id);
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
      if (oldest.payment) this.committed++;
      if (oldest.request !== undefined) this.committedRequest = oldest.request;
      await this.hooks.onCommit?.({ signed: this._latest, payment: oldest.payment, request: oldest.request });
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
        if (p.payment) size++;
        if (p.request !== undefined) served = p.request;
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
      const { payment, state, sig, request } = decodeMessageOf("payment", message);
      this.checkCanSign();
      this.checkChannel(state.channelId);
      this.checkChannel(payment.channelId);
      const payer = payment.payer;
      if (payment.amount === 0n) throw new InvalidAmountError(payment.amount);
      this.checkVersion(state.version);
      if (state.isFinal) throw new FinalFlagError(false);
      const seq = BigInt(this.log.size);
      if (payment.seq !== seq) throw new SequenceMismatchError(seq, payment.seq);
      if (payer === 1) {
        if (request === undefined) throw new UnrequestedPaymentError(undefined, "a payment by participant 1 must answer its request");
        const asked = this.outstanding.get(request);
        if (!asked) throw new UnrequestedPaymentError(request, "no such outstanding request");
        if (asked.amount !== payment.amount) throw new UnrequestedPaymentError(request, `amount ${payment.amount}, requested ${asked.amount}`);
        if (!sameHex(asked.ref, payment.ref)) throw new UnrequestedPaymentError(request, `ref ${payment.ref}, requested ${asked.ref}`);
      } else if (request !== undefined) {
        throw new WrongPayerError(1, payer);
      }
      const latest = this._latest.state;
      const expected: [bigint, bigint] = [latest.transferred[0], latest.transferred[1]];
      expected[payer] += payment.amount;
      if (state.transferred[0] !== expected[0] || state.transferred[1] !== expected[1]) {
        throw new TransferMismatchError(expected, state.transferred);
      }
      const available = spendable(this._deposits, latest.transferred, payer);
      if (payment.amount > available) throw new InsufficientFundsError(payer, payment.amount, available);
      const leaf = paymentLeaf(payment);
      const root = this.log.rootWith(leaf);
      if (!sameHex(root, state.paymentsRoot)) throw new RootMismatchError(root, state.paymentsRoot);
      const digest = this.hasher.digest(state);
      await this.checkPeerSignature(digest, sig);
      const mySig = await this.sign("countersign-payment", state, digest, payment, request, sig);
      this._signedVersion = state.version;
      this.log.append(payment, leaf);
      this.committed = this.log.size;
      this._latest = { state, sigs: [sig, mySig] };
      if (request !== undefined) {
        this.outstanding.delete(request);
        this.requested -= payment.amount;
      }
      await this.hooks.onCommit?.({ signed: this._latest, payment, request });
      return { kind: "ack", version: state.version, sig: mySig };
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
      const latest = this._latest.state;
      if (state.transferred[0] !== latest.transferred[0] || state.transferred[1] !== latest.transferred[1]) {
        throw new TransferMismatchError(latest.transferred, state.transferred);
      }
      if (!sameHex(state.paymentsRoot, latest.paymentsRoot)) throw new RootMismatchError(latest.paymentsRoot, state.paymentsRoot);
      const digest = this.hasher.digest(state);
      await this.checkPeerSignature(digest, sig);
      const mySig = await this.sign("countersign-final", state, digest, undefined, undefined, sig);
      this._signedVersion = state.version;
      this._signedFinal = true;
      this._latest = { state, sigs: [sig, mySig] };
      await this.hooks.onCommit?.({ signed: this._latest });
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
      case "final":
        return this.acceptFinal(message);
      case "ack":
        return this.receiveAck(message);
      case "request":
        return this.receiveRequest(message);
      case "final-request":
        return this.receiveFinalRequest(message);
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

  /** Signs the payment of `amount` by `payer` on top of the tip and appends it as pending (participant 0). */
  private async propose(payer: 0 | 1, amount: bigint, ref: Hex, request: bigint | undefined): Promise<PaymentProposal> {
    if (!validAmount(amount)) throw new InvalidAmountError(amount);
    const tip = this.tip;
    const available = spendable(this._deposits, tip.transferred, payer);
    if (amount > available) throw new InsufficientFundsError(payer, amount, available);
    const transferred: [bigint, bigint] = [tip.transferred[0], tip.transferred[1]];
    transferred[payer] += amount;
    if (transferred[payer] > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${payer}]`, transferred[payer]);
    const version = this.nextVersion();
    const payment: Payment = { channelId: this.id, seq: BigInt(this.log.size), payer, amount, ref };
    const leaf = paymentLeaf(payment);
    const state: State = { channelId: this.id, version, transferred, paymentsRoot: this.log.rootWith(leaf), isFinal: false };
    const digest = this.hasher.digest(state);
    const sig = await this.sign("propose-payment", state, digest, payment, request);
    this._signedVersion = version;
    this.log.append(payment, leaf);
    const pending: Pending = { kind: "payment", state, sig, payment, digest };
    if (request !== undefined) {
      pending.request = request;
      this.servedRequest = request;
    }
    this._pending.push(pending);
    // Copies: what the caller does with the message must not reach the pending proposal.
    const proposal: PaymentProposal = { kind: "payment", payment: { ...payment }, state: copyState(state), sig };
    if (request !== undefined) proposal.request = request;
    return proposal;
  }

  private async makeFinal(): Promise<FinalProposal> {
    this.checkCanSign();
    if (this._pending.length > 0) throw new ProposalPendingError(this._pending[0].state.version);
    const latest = this._latest.state;
    const state: State = { ...latest, channelId: this.id, version: this.nextVersion(), isFinal: true };
    const digest = this.hasher.digest(state);
    const sig = await this.sign("propose-final", state, digest);
    this._signedVersion = state.version;
    this._signedFinal = true;
    this._pending.push({ kind: "final", state, sig, digest });
    return { kind: "final", state: copyState(state), sig };
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

  private async sign(kind: SignKind, state: State, digest: Buffer, payment?: Payment, request?: bigint, peerSig?: Hex): Promise<Hex> {
    if (this.hooks.beforeSign) {
      const intent: SignIntent = { kind, state, digest: toHex(digest), payment, peerSig };
      if (request !== undefined) intent.request = request;
      await this.hooks.beforeSign(intent);
    }
    return await this.signer.sign(digest);
  }
}
