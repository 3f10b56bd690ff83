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
 * tree of their leaves, whose root goes into each state's `paymentsRoot`. A log rebuilt from a
 * store's leaf hashes (`fromLeaves`) knows its first payments by their leaves only: the store has
 * the payments, and the log proves them (`leafProof`).
 */
export class PaymentLog {
  private readonly tree = new MerkleTree();
  /** The payments from `seq = base` on. */
  private readonly payments: Payment[] = [];
  /** Number of leading payments held by their leaf hash only. */
  private base = 0;

  constructor(payments: Iterable<Payment> = []) {
    for (const payment of payments) this.append(payment);
  }

  /** A log of payments known by their leaf hashes, in order (e.g. read from a store). */
  static fromLeaves(leaves: Iterable<Hex | Uint8Array>): PaymentLog {
    const log = new PaymentLog();
    log.appendLeaves(leaves);
    return log;
  }

  /** Appends payments known by their leaf hashes only; allowed while the log holds no payment itself. */
  appendLeaves(leaves: Iterable<Hex | Uint8Array>): void {
    if (this.payments.length > 0) throw new InvalidArgumentError("leaf hashes go before the payments held in memory");
    for (const leaf of leaves) {
      this.tree.append(typeof leaf === "string" ? Buffer.from(leaf.slice(2), "hex") : leaf);
      this.base++;
    }
  }

  /** Number of payments; also the `seq` of the next one. */
  get size(): number {
    return this.base + this.payments.length;
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
    if (size < this.base) this.base = size;
    this.payments.length = size - this.base;
  }

  /** Appends a payment, whose `seq` must be the log's size. */
  append(payment: Payment, leaf: Uint8Array = paymentLeaf(payment)): void {
    const size = this.size;
    if (payment.seq !== BigInt(size)) throw new InvalidArgumentError(`payment seq ${payment.seq} should be ${size}`);
    this.tree.append(leaf);
    this.payments.push(payment);
  }

  /** The payment with sequence number `seq`. */
  payment(seq: bigint | number): Payment {
    const index = Number(seq);
    if (index < this.base) throw new InvalidArgumentError(`payment ${seq} is held by its leaf hash only: read it from the store`);
    const payment = this.payments[index - this.base];
    if (payment === undefined) throw new InvalidArgumentError(`no payment ${seq} in a log of ${this.size}`);
    return payment;
  }

  /** The leaf hash of payment `seq`. */
  leafHex(seq: bigint | number): Hex {
    return toHex(this.tree.leaf(Number(seq)));
  }

  /** The payments held in memory, oldest first: all of them unless the log was rebuilt from leaf hashes. */
  all(): readonly Payment[] {
    return this.payments;
  }

  /**
   * The proof of payment `seq` against the current root, or with `size` against the root of the
   * first `size` payments (`rootAt(size)`).
   */
  proof(seq: bigint | number, size: number = this.size): PaymentProof {
    const proof = this.leafProof(seq, size);
    return { payment: this.payment(seq), ...proof };
  }

  /** `proof` without the payment itself (which a log rebuilt from leaf hashes does not hold). */
  leafProof(seq: bigint | number, size: number = this.size): Omit<PaymentProof, "payment"> {
    const index = Number(seq);
    if (!(index < size)) throw new InvalidArgumentError(`no payment ${seq} in a log of ${size}`);
    return { leaf: toHex(this.tree.leaf(index)), proof: this.tree.proof(index, size).map(toHex), root: this.rootAt(size) };
  }
}
