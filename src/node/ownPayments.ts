import { SluiceError } from "../errors";
import type { Hex, Payment } from "../types";
import { ZERO_HASH } from "../types";
import { RefFilter } from "./refFilter";

/** A payment that both sides signed and this node has on disk. */
export interface DonePayment {
  payment: Payment;
  version: bigint;
  /** When this node committed it (unix ms, the store's clock); unknown for a payment stored before times were kept. */
  committedAt?: number;
  /** The text its ref was hashed from, when this node was given it. */
  memo?: string;
  /** True when a retry found it: this call paid nothing. */
  replayed?: true;
}

/** A payment ref was used before in this channel by this node for another amount: nothing was paid. */
export class PaymentRefConflictError extends SluiceError {
  static override readonly code: string = "PAYMENT_REF_CONFLICT";
  override readonly name: string = "PaymentRefConflictError";

  constructor(
    readonly channelId: Hex,
    readonly ref: Hex,
    readonly amount: bigint,
    readonly original: { amount: bigint; seq?: bigint },
  ) {
    super(
      `ref ${ref} already names a payment of ${original.amount} (not ${amount}) in channel ${channelId}` +
        (original.seq === undefined ? ", still in flight" : `, seq ${original.seq}`) +
        ": a ref is the payment's idempotency key; use a new ref for a new payment",
    );
  }
}

interface InFlight {
  amount: bigint;
  memo?: string;
  done: Promise<DonePayment>;
}

/**
 * This node's own payments in one channel, keyed by ref: a payment's ref is its idempotency key.
 * A payment with a ref this node already paid with (committed, or still in flight) and the same
 * amount returns that payment and pays nothing again; with another amount it is refused with
 * `PaymentRefConflictError`. A payment that failed leaves no trace: a retry pays anew. The zero
 * ref (no ref given) names no payment, and each such payment is a new one.
 *
 * The store is asked only for a ref the filter of this node's committed refs may hold: the
 * session adds every ref of its own payments that it stores (`committedRef`), and the ones stored
 * before it started as it reads the payment log, so a new ref costs no store read.
 */
export class OwnPayments {
  private readonly inFlight = new Map<Hex, InFlight>();
  private readonly refs = new RefFilter();

  /** `committed(ref)`: this node's first committed payment with `ref` in the channel, from the store. */
  constructor(
    private readonly channelId: Hex,
    private readonly committed: (ref: Hex) => DonePayment | undefined,
  ) {}

  /** Pays with `send` unless `ref` already names a payment of this node; see the class. */
  pay(amount: bigint, ref: Hex, memo: string | undefined, send: () => Promise<DonePayment>): Promise<DonePayment> {
    if (ref === ZERO_HASH) return send();
    const flying = this.inFlight.get(ref);
    if (flying) {
      if (flying.amount !== amount) return Promise.reject(new PaymentRefConflictError(this.channelId, ref, amount, { amount: flying.amount }));
      return flying.done.then((done) => ({ ...done, replayed: true }));
    }
    const stored = this.refs.mightHave(ref) ? this.committed(ref) : undefined;
    if (stored) {
      if (stored.payment.amount !== amount) {
        return Promise.reject(new PaymentRefConflictError(this.channelId, ref, amount, { amount: stored.payment.amount, seq: stored.payment.seq }));
      }
      return Promise.resolve({ ...stored, replayed: true });
    }
    const entry: InFlight = { amount, memo, done: send() };
    this.inFlight.set(ref, entry);
    const forget = () => {
      if (this.inFlight.get(ref) === entry) this.inFlight.delete(ref);
    };
    entry.done.then(forget, forget);
    return entry.done;
  }

  /** A payment of this node with `ref` is stored (or about to be: a failed write only costs a store read later). */
  committedRef(ref: Hex): void {
    if (ref !== ZERO_HASH) this.refs.add(ref);
  }

  /** The memo of this node's payment in flight with `ref`, to be written with its state. */
  memoOf(ref: Hex): string | undefined {
    return this.inFlight.get(ref)?.memo;
  }
}
