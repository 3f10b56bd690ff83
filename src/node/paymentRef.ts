/**
 * A payment's reference as callers give it: a 32-byte hex used as is, or a text memo (an order
 * number) whose keccak256 of its UTF-8 bytes becomes the reference. Only the hash goes into the
 * payment leaf (on chain, in the Merkle log); the memo is local data of the node that was given it.
 */
import { keccak256Bytes, toHex } from "../crypto";
import { InvalidArgumentError } from "../errors";
import type { Hex } from "../types";
import type { PaymentView } from "./api/types";
import type { PaymentRecord } from "./store";

/** The longest memo, in UTF-8 bytes. */
export const MAX_MEMO_BYTES = 256;

/** A payment reference: a 32-byte hex, or a memo to hash. */
export type PaymentRef = Hex | { memo: string };

/** An empty memo, or one longer than `MAX_MEMO_BYTES`: nothing is paid or stored. */
export class InvalidMemoError extends InvalidArgumentError {
  static override readonly code: string = "INVALID_MEMO";
  override readonly name: string = "InvalidMemoError";

  constructor(readonly bytes: number) {
    super(
      bytes === 0
        ? "the memo is empty: give the order's reference as text"
        : `the memo is ${bytes} bytes of UTF-8, more than the ${MAX_MEMO_BYTES} allowed: shorten it, or give its 32-byte hash as ref`,
    );
  }
}

/** The reference's hash, and its memo when given as one (checked: 1 to `MAX_MEMO_BYTES` bytes). */
export function resolveRef(ref: PaymentRef): { ref: Hex; memo?: string } {
  if (typeof ref === "string") return { ref };
  const bytes = Buffer.from(ref.memo, "utf8");
  if (bytes.length === 0 || bytes.length > MAX_MEMO_BYTES) throw new InvalidMemoError(bytes.length);
  return { ref: memoHash(ref.memo), memo: ref.memo };
}

/** keccak256 of the memo's UTF-8 bytes: the reference a memo stands for. */
export function memoHash(memo: string): Hex {
  return toHex(keccak256Bytes(Buffer.from(memo, "utf8")));
}

/**
 * A stored (or just committed) payment as the API shows it: its commit time in unix seconds, its
 * memo if known, and `replayed` when a retry found it.
 */
export function paymentViewOf(record: Omit<PaymentRecord, "leaf"> & { replayed?: true }): PaymentView {
  return {
    ...record.payment,
    version: record.version,
    ...(record.committedAt === undefined ? {} : { committedAt: BigInt(Math.floor(record.committedAt / 1000)) }),
    ...(record.memo === undefined ? {} : { memo: record.memo }),
    ...(record.replayed ? { replayed: true } : {}),
  };
}
