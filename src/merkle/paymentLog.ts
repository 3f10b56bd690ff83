import { InvalidArgumentError } from "../errors";
import { paymentLeaf, toHex } from "../crypto/hash";
import type { Hex, Payment } from "../types";
import { MerkleTree } from "./tree";

/** The proof that a payment is a leaf of a payments root, as the adjudicator's `verifyPayment` takes it. */
export interface PaymentProof {
  payment: Payment;
  leaf: Hex;
  proof: Hex[];
  root: Hex;
}

/**
 * A channel's payment log: every payment in order (`payment.seq` is its position) and the Merkle
 * tree of their leaves, whose root goes into each state's `paymentsRoot`.
 */
export class PaymentLog {
  private readonly tree = new MerkleTree();
  private readonly payments: Payment[] = [];

  constructor(payments: Iterable<Payment> = []) {
    for (const payment of payments) this.append(payment);
  }

  /** Number of payments; also the `seq` of the next one. */
  get size(): number {
    return this.payments.length;
  }

  /** The payments root (bytes32(0) while the log is empty). */
  get root(): Hex {
    return toHex(this.tree.root());
  }

  /** The root of the first `size` payments (the log as it was then). */
  rootAt(size: number): Hex {
    return toHex(this.tree.root(size));
  }

  /** Drops every payment from `seq = size` on (e.g. proposals the peer did not countersign). */
  truncate(size: number): void {
    this.tree.truncate(size);
    this.payments.length = size;
  }

  /** Appends a payment, whose `seq` must be the log's size. */
  append(payment: Payment, leaf: Uint8Array = paymentLeaf(payment)): void {
    if (payment.seq !== BigInt(this.payments.length)) {
      throw new InvalidArgumentError(`payment seq ${payment.seq} should be ${this.payments.length}`);
    }
    this.tree.append(leaf);
    this.payments.push(payment);
  }

  /** The payment with sequence number `seq`. */
  payment(seq: bigint | number): Payment {
    const index = Number(seq);
    const payment = this.payments[index];
    if (payment === undefined) throw new InvalidArgumentError(`no payment ${seq} in a log of ${this.size}`);
    return payment;
  }

  /** All payments, oldest first. */
  all(): readonly Payment[] {
    return this.payments;
  }

  /**
   * The proof of payment `seq` against the current root, or with `size` against the root of the
   * first `size` payments (`rootAt(size)`).
   */
  proof(seq: bigint | number, size: number = this.size): PaymentProof {
    const index = Number(seq);
    if (!(index < size)) throw new InvalidArgumentError(`no payment ${seq} in a log of ${size}`);
    const payment = this.payment(seq);
    return {
      payment,
      leaf: toHex(this.tree.leaf(index)),
      proof: this.tree.proof(index, size).map(toHex),
      root: this.rootAt(size),
    };
  }
}
