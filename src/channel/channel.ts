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
  UnexpectedAckError,
  ValueOutOfRangeError,
  WrongChannelError,
  WrongPayerError,
} from "../errors";
import { MAX_UINT256, MAX_UINT64, StateHasher, channelId as channelIdOf, paymentLeaf, toHex } from "../crypto/hash";
import type { StateSigner } from "../crypto/signer";
import { EcdsaVerifier, type SignatureVerifier } from "../crypto/verifier";
import { PaymentLog, type PaymentProof } from "../merkle/paymentLog";
import type { Address, Hex, Params, Payment, SignedState, State } from "../types";
import { ZERO_HASH } from "../types";
import { decodeMessage, decodeMessageOf, type ChannelMessage, type FinalProposal, type PaymentProposal, type StateAck } from "./messages";
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
  /** The peer's signature of the state, when countersigning. */
  peerSig?: Hex;
}

/** A state both sides have signed and this side now holds as its latest. */
export interface CommittedUpdate {
  signed: SignedState;
  payment?: Payment;
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

/** What a store keeps to rebuild a channel after a restart. */
export interface ChannelSnapshot {
  latest: SignedState;
  payments: readonly Payment[];
  /** Highest version this side has ever signed (at least `latest.state.version`). */
  signedVersion: bigint;
  /** True once this side has signed a final state. */
  signedFinal: boolean;
  deposits: readonly [bigint, bigint];
}

export interface ChannelConfig {
  params: Params;
  /** This side's participant index. */
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

/** This side's own proposal, waiting for the peer's countersignature. */
export interface PendingProposal {
  kind: "payment" | "final";
  state: State;
  sig: Hex;
  payment?: Payment;
}

interface Pending extends PendingProposal {
  digest: Buffer;
  leaf?: Buffer;
}

const sameHex = (a: string, b: string) => a.length === b.length && a.toLowerCase() === b.toLowerCase();

const copyState = (state: State): State => ({ ...state, transferred: [state.transferred[0], state.transferred[1]] });

/** The opening state of a channel: version 0, nothing transferred, zero root, not final. */
export function openingState(channelId: Hex): State {
  return { channelId, version: 0n, transferred: [0n, 0n], paymentsRoot: ZERO_HASH, isFinal: false };
}

/**
 * One side of a payment channel: makes, checks and countersigns states. A payment counts as
 * done only when both sides hold the same fully signed state: the payer `pay`s (signs the next
 * state), the payee checks it in `receivePayment` and countersigns, the payer checks the
 * countersignature in `receiveAck`. Every rejection throws a `SluiceError` subclass and leaves
 * the channel as it was; operations run one at a time in call order.
 *
 * Versions: a proposal has version `max(latest, highest this side ever signed) + 1`. A
 * receiver accepts any version above both its latest and everything it signed itself (a peer
 * may skip a version it signed and abandoned), so that no side ever signs one version twice.
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
  private readonly log: PaymentLog;
  private _latest: SignedState;
  private _deposits: readonly [bigint, bigint];
  private _signedVersion: bigint;
  private _signedFinal: boolean;
  private _pending: Pending | undefined;
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
    } else {
      this.log = new PaymentLog();
      this._latest = { state: openingState(this.id), sigs: ["0x", "0x"] };
      this._signedVersion = 0n;
      this._signedFinal = false;
    }
  }

  // ------------------------------------------------------------------ views

  /** The latest state both sides have signed (the opening state, unsigned, at first). */
  get latest(): SignedState {
    return this._latest;
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

  /** This side's proposal waiting for a countersignature, if any. */
  get pending(): PendingProposal | undefined {
    const p = this._pending;
    return p && { kind: p.kind, state: p.state, sig: p.sig, payment: p.payment };
  }

  /** Payouts if the channel settled on the latest state with the confirmed deposits. */
  get payouts(): [bigint, bigint] {
    return payouts(this._deposits, this._latest.state.transferred);
  }

  /** What participant `who` can still pay against the latest state and confirmed deposits. */
  spendable(who: 0 | 1 = this.me): bigint {
    return spendable(this._deposits, this._latest.state.transferred, who);
  }

  /** Number of payments in the latest state. */
  get paymentCount(): number {
    return this.log.size;
  }

  /** Payment `seq` of the latest state. */
  payment(seq: bigint | number): Payment {
    return this.log.payment(seq);
  }

  /** Merkle proof of payment `seq` against the latest state's root, for `verifyPayment`. */
  proof(seq: bigint | number): PaymentProof {
    return this.log.proof(seq);
  }

  /** What a store keeps to rebuild this channel. */
  snapshot(): ChannelSnapshot {
    return {
      latest: this._latest,
      payments: this.log.all().slice(),
      signedVersion: this._signedVersion,
      signedFinal: this._signedFinal,
      deposits: this._deposits,
    };
  }

  // ------------------------------------------------------------------ updates

  /** Sets the confirmed on-chain deposits (the caller reads them from the chain). */
  setDeposits(deposits: readonly [bigint, bigint]): void {
    if (deposits.length !== 2 || deposits.some((d) => typeof d !== "bigint" || d < 0n || d > MAX_UINT256)) {
      throw new InvalidArgumentError("deposits are two uint256 values");
    }
    this._deposits = [deposits[0], deposits[1]];
  }

  /**
   * Pays `amount` to the peer: signs the next state with the payment appended and returns the
   * proposal to send. The payment is done once `receiveAck` accepts the peer's countersignature.
   */
  pay(amount: bigint, ref: Hex = ZERO_HASH): Promise<PaymentProposal> {
    return this.exclusive(async () => {
      this.checkCanPropose();
      if (typeof amount !== "bigint" || amount <= 0n || amount > MAX_UINT256) throw new InvalidAmountError(amount);
      const me = this.me;
      const latest = this._latest.state;
      const available = spendable(this._deposits, latest.transferred, me);
      if (amount > available) throw new InsufficientFundsError(me, amount, available);
      const transferred: [bigint, bigint] = [latest.transferred[0], latest.transferred[1]];
      transferred[me] += amount;
      if (transferred[me] > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${me}]`, transferred[me]);
      const version = this.nextVersion();
      const payment: Payment = { channelId: this.id, seq: BigInt(this.log.size), payer: me, amount, ref };
      const leaf = paymentLeaf(payment);
      const state: State = { channelId: this.id, version, transferred, paymentsRoot: this.log.rootWith(leaf), isFinal: false };
      const digest = this.hasher.digest(state);
      const sig = await this.sign("propose-payment", state, digest, payment);
      this._signedVersion = version;
      this._pending = { kind: "payment", state, sig, payment, digest, leaf };
      // Copies: what the caller does with the message must not reach the pending proposal.
      return { kind: "payment", payment: { ...payment }, state: copyState(state), sig };
    });
  }

  /**
   * Checks the peer's payment proposal and countersigns it; the returned acknowledgement goes
   * back to the payer. Accepts the typed message or its JSON form.
   */
  receivePayment(message: PaymentProposal | unknown): Promise<StateAck> {
    return this.exclusive(async () => {
      const { payment, state, sig } = decodeMessageOf("payment", message);
      this.checkCanSign();
      this.checkChannel(state.channelId);
      this.checkChannel(payment.channelId);
      const payer = this.peer;
      if (payment.payer !== payer) throw new WrongPayerError(payer, payment.payer);
      if (payment.amount === 0n) throw new InvalidAmountError(payment.amount);
      this.checkVersion(state.version);
      if (state.isFinal) throw new FinalFlagError(false);
      const seq = BigInt(this.log.size);
      if (payment.seq !== seq) throw new SequenceMismatchError(seq, payment.seq);
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
      const mySig = await this.sign("countersign-payment", state, digest, payment, sig);
      this._signedVersion = state.version;
      this.commit(state, mySig, sig, payment, leaf);
      await this.hooks.onCommit?.({ signed: this._latest, payment });
      return { kind: "ack", version: state.version, sig: mySig };
    });
  }

  /** Signs a final state (latest transfers and root); the channel closes once the peer countersigns. */
  proposeFinal(): Promise<FinalProposal> {
    return this.exclusive(async () => {
      this.checkCanPropose();
      const latest = this._latest.state;
      const state: State = { ...latest, channelId: this.id, version: this.nextVersion(), isFinal: true };
      const digest = this.hasher.digest(state);
      const sig = await this.sign("propose-final", state, digest);
      this._signedVersion = state.version;
      this._signedFinal = true;
      this._pending = { kind: "final", state, sig, digest };
      return { kind: "final", state: copyState(state), sig };
    });
  }

  /** Checks the peer's final state (latest transfers and root, final) and countersigns it. */
  acceptFinal(message: FinalProposal | unknown): Promise<StateAck> {
    return this.exclusive(async () => {
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
      const mySig = await this.sign("countersign-final", state, digest, undefined, sig);
      this._signedVersion = state.version;
      this._signedFinal = true;
      this.commit(state, mySig, sig);
      await this.hooks.onCommit?.({ signed: this._latest });
      return { kind: "ack", version: state.version, sig: mySig };
    });
  }

  /** Checks the peer's countersignature of this side's pending proposal; the update is then done. */
  receiveAck(message: StateAck | unknown): Promise<SignedState> {
    return this.exclusive(async () => {
      const { version, sig } = decodeMessageOf("ack", message);
      const pending = this._pending;
      if (!pending || pending.state.version !== version) throw new UnexpectedAckError(version, pending?.state.version);
      await this.checkPeerSignature(pending.digest, sig);
      this._pending = undefined;
      this.commit(pending.state, pending.sig, sig, pending.payment, pending.leaf);
      await this.hooks.onCommit?.({ signed: this._latest, payment: pending.payment });
      return this._latest;
    });
  }

  /**
   * Dispatches a message from the peer: proposals return the acknowledgement to send back, an
   * acknowledgement returns the fully signed state.
   */
  receive(message: ChannelMessage | unknown): Promise<StateAck | SignedState> {
    const decoded = decodeMessage(message);
    switch (decoded.kind) {
      case "payment":
        return this.receivePayment(decoded);
      case "final":
        return this.acceptFinal(decoded);
      case "ack":
        return this.receiveAck(decoded);
    }
  }

  /**
   * Drops this side's pending proposal, after the peer rejected it (e.g. both sides proposed the
   * same version at once). Its version stays used: the next proposal skips it.
   */
  abandonPending(): PendingProposal | undefined {
    const pending = this.pending;
    this._pending = undefined;
    return pending;
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

  private nextVersion(): bigint {
    const latest = this._latest.state.version;
    const version = (latest > this._signedVersion ? latest : this._signedVersion) + 1n;
    if (version > MAX_UINT64) throw new ValueOutOfRangeError("version", version);
    return version;
  }

  private checkCanSign(): void {
    if (this._signedFinal || this._latest.state.isFinal) throw new ChannelFinalizedError(this.id);
  }

  private checkCanPropose(): void {
    this.checkCanSign();
    if (this._pending) throw new ProposalPendingError(this._pending.state.version);
  }

  private checkChannel(id: Hex): void {
    if (!sameHex(id, this.id)) throw new WrongChannelError(this.id, id);
  }

  private checkVersion(version: bigint): void {
    const latest = this._latest.state.version;
    if (version <= latest) throw new StaleVersionError(version, latest);
    if (version <= this._signedVersion) throw new ConflictingStateError(version, this._signedVersion);
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

  private async sign(kind: SignKind, state: State, digest: Buffer, payment?: Payment, peerSig?: Hex): Promise<Hex> {
    if (this.hooks.beforeSign) await this.hooks.beforeSign({ kind, state, digest: toHex(digest), payment, peerSig });
    return await this.signer.sign(digest);
  }

  private commit(state: State, mySig: Hex, peerSig: Hex, payment?: Payment, leaf?: Buffer): void {
    if (payment) this.log.append(payment, leaf);
    const sigs: [Hex, Hex] = this.me === 0 ? [mySig, peerSig] : [peerSig, mySig];
    this._latest = { state, sigs };
  }
}
