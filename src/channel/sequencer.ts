import {
  InsufficientFundsError,
  InvalidAmountError,
  InvalidArgumentError,
  ProposalPendingError,
  SluiceError,
  StaleRequestError,
  UnexpectedAckError,
  ValueOutOfRangeError,
} from "../errors";
import { MAX_UINT256, MAX_UINT64 } from "../crypto/hash";
import type { Hex, Payment, State } from "../types";
import { ZERO_HASH } from "../types";
import {
  decodeMessageOf,
  MAX_PAYMENTS_PER_STATE,
  type BatchProposal,
  type FinalProposal,
  type PaymentProposal,
  type ProposedPayment,
} from "./messages";
import { ChannelCore, copyItems, copyState, validAmount } from "./core";
import { balance } from "./payouts";
import type { CommittedUpdate, PaymentEntry, PendingProposal, ProposedBatch, RoleConfig } from "./types";

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

interface Pending extends PendingProposal {
  digest: Buffer;
}

const copyProposal = (p: Pending): PendingProposal => ({ kind: p.kind, state: copyState(p.state), sig: p.sig, payments: copyItems(p.payments) });

/** The request id of the last item that answers one, or `fallback`. */
const lastRequest = (items: readonly ProposedPayment[], fallback: bigint): bigint => {
  for (let i = items.length - 1; i >= 0; i--) if (items[i].request !== undefined) return items[i].request!;
  return fallback;
};

/**
 * Participant 0 of a channel: it proposes every state and so assigns every version, so two
 * different states are never proposed for one version and payments in both directions never
 * collide. It pays with `pay` (or `proposePayments`, several in one state), serves participant 1's
 * requests (`receiveRequest`), and commits a proposal on participant 1's acknowledgement
 * (`receiveAck`), which returns the committed update for the caller to persist.
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
    return this.exclusive(async () => {
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_PAYMENTS_PER_STATE) {
        throw new InvalidArgumentError(`a batch holds 1 to ${MAX_PAYMENTS_PER_STATE} payments`);
      }
      this.checkCanSign();
      const { pending, rejected } = await this.propose(entries);
      if (!pending) return { rejected };
      // The pending proposal keeps its own objects: the caller may change the message it sends.
      const proposal: BatchProposal = { kind: "payments", payments: copyItems(pending.payments), state: copyState(pending.state), sig: pending.sig };
      return { proposal, rejected };
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
      const leaves = this.leavesOf(oldest.payments);
      this.committed += oldest.payments.length;
      this.committedRequest = lastRequest(oldest.payments, this.committedRequest);
      return { signed: this._latest, payments: oldest.payments, leaves };
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
        served = lastRequest(p.payments, served);
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

  /** Checks each entry on top of the tip and the entries before it, signs one state adding those that pass, and appends it as pending. */
  private async propose(entries: readonly PaymentEntry[]): Promise<{ pending?: Pending; rejected: ProposedBatch["rejected"] }> {
    const tip = this.tip;
    const transferred: [bigint, bigint] = [tip.transferred[0], tip.transferred[1]];
    const funds = this.funds();
    const start = this.log.size;
    const items: ProposedPayment[] = [];
    const rejected: ProposedBatch["rejected"] = [];
    let served = this.servedRequest;
    for (let index = 0; index < entries.length; index++) {
      try {
        const item = this.checkEntry(entries[index], transferred, tip.locked, funds, served, BigInt(start + items.length));
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

  /** One entry of a proposal, checked on top of `transferred`. */
  private checkEntry(
    entry: PaymentEntry,
    transferred: readonly [bigint, bigint],
    locked: readonly [bigint, bigint],
    funds: ReturnType<ChannelCore["funds"]>,
    served: bigint,
    seq: bigint,
  ): ProposedPayment {
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
    const available = balance(funds, { transferred, locked }, payer);
    if (amount > available) throw new InsufficientFundsError(payer, amount, available);
    if (transferred[payer] + amount > MAX_UINT256) throw new ValueOutOfRangeError(`transferred[${payer}]`, transferred[payer] + amount);
    const payment: Payment = { channelId: this.id, seq, payer, amount, ref };
    return request === undefined ? { payment } : { payment, request };
  }

  private async makeFinal(): Promise<FinalProposal> {
    this.checkCanSign();
    if (this._pending.length > 0) throw new ProposalPendingError(this._pending[0].state.version);
    const state: State = { ...this._latest.state, channelId: this.id, version: this.nextVersion(), isFinal: true };
    const digest = this.hasher.digest(state);
    const sig = await this.sign("propose-final", state, digest, []);
    this._signedVersion = state.version;
    this._signedFinal = true;
    this._pending.push({ kind: "final", state, sig, payments: [], digest });
    return { kind: "final", state: copyState(state), sig };
  }

  private nextVersion(): bigint {
    const latest = this._latest.state.version;
    const version = (latest > this._signedVersion ? latest : this._signedVersion) + 1n;
    if (version > MAX_UINT64) throw new ValueOutOfRangeError("version", version);
    return version;
  }
}
