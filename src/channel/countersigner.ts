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
import { MAX_UINT64 } from "../crypto/hash";
import type { Hex, State } from "../types";
import { ZERO_HASH } from "../types";
import {
  decodeMessage,
  decodeMessageOf,
  type FinalRequest,
  type PaymentRequest,
  type ProposedPayment,
} from "./messages";
import { ChannelCore, validAmount } from "./core";
import { MAX_VERSION_GAP, type Countersigned, type RoleConfig } from "./types";
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
  /** Sum of the outstanding requests' amounts. */
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
      let items: ProposedPayment[];
      let state: State;
      let sig: Hex;
      if (kind === "payment") {
        const m = decodeMessageOf("payment", message);
        items = m.request === undefined ? [{ payment: m.payment }] : [{ payment: m.payment, request: m.request }];
        ({ state, sig } = m);
      } else if (kind === "payments") {
        ({ payments: items, state, sig } = decodeMessageOf("payments", message));
      } else if (kind === "final") {
        ({ state, sig } = decodeMessageOf("final", message));
        items = [];
      } else {
        // Not a proposal: decoding names the problem (the kind, or the message itself).
        decodeMessage(message);
        throw new MalformedMessageError("kind", `participant 1 countersigns proposals, not ${String(kind)}`);
      }
      return this.countersignState(items, state, sig, kind === "final");
    });
  }

  // ------------------------------------------------------------------ internals

  private async countersignState(items: ProposedPayment[], state: State, sig: Hex, isFinal: boolean): Promise<Countersigned> {
    this.checkCanSign();
    const start = this.log.size;
    const answered = new Set<bigint>();
    let digest: Buffer;
    let mySig: Hex;
    try {
      digest = await verifyTransition(
        {
          ...this.transitionContext(),
          funds: this.funds(),
          isFinal,
          checkVersion: (version) => this.checkVersion(version),
          checkItem: (item) => this.checkRequest(item, answered),
        },
        this._latest.state,
        state,
        items,
        [sig, undefined],
      );
      mySig = await this.sign(isFinal ? "countersign-final" : "countersign-payment", state, digest, items, sig);
    } catch (error) {
      this.log.truncate(start);
      throw error;
    }
    this._signedVersion = state.version;
    if (isFinal) this._signedFinal = true;
    this.committed = this.log.size;
    this._latest = { state, sigs: [sig, mySig] };
    for (const { payment, request } of items) {
      if (request === undefined) continue;
      this.outstanding.delete(request);
      this._requested -= payment.amount;
    }
    return { committed: { signed: this._latest, payments: items, leaves: this.leavesOf(items) }, send: { kind: "ack", version: state.version, sig: mySig } };
  }

  /** A payment by participant 1 must answer an outstanding request of its own, once; one by participant 0 none. */
  private checkRequest({ payment, request }: ProposedPayment, answered: Set<bigint>): void {
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
