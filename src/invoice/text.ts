/**
 * An invoice as one copy-pasteable string: `sluice1` and the bech32 (BIP-173) encoding of its
 * bytes, its length limit raised from 90 to `MAX_INVOICE_LENGTH`. The checksum catches a mistyped,
 * dropped or added character (BIP-173 guarantees up to 4 errors within 90 characters; beyond that
 * a random error slips through with probability about 1 in 10^9), and the strict layout below
 * refuses what is left. Upper case is accepted (QR codes use it), mixed case is not.
 *
 * Bytes, version 1 (integers big-endian; `var` = one length byte, then the value's bytes without
 * leading zeros, 1 to 32 of them):
 *
 *   version u8 (1) | chainId var | adjudicator 20 | asset 20 | payee 20 | amount var |
 *   hashlock 32 | expiry u64 | ref 32 | description u16 length + UTF-8 | signature 65
 *
 * Each invoice has exactly one string (no leading zeros, no padding bits, nothing after the
 * signature), so the string can be compared and stored as the invoice's identity.
 */
import { bech32 } from "bech32";
import { checkInvoice } from "./check";
import { InvalidInvoiceError, InvoiceChecksumError } from "./errors";
import { verifyInvoice } from "./signature";
import { MAX_DESCRIPTION_BYTES, type SignedInvoice } from "./types";
import type { Hex } from "../types";

export const INVOICE_PREFIX = "sluice";
export const INVOICE_VERSION = 1;
const SIGNATURE_BYTES = 65;
/** The longest encoded invoice: the largest layout (32-byte integers, the longest description) fits. */
export const MAX_INVOICE_LENGTH = 1024;

function uintBytes(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
}

function hexBytes(hex: Hex): Buffer {
  return Buffer.from(hex.slice(2), "hex");
}

/** The invoice's bytes (the layout above). */
export function invoiceBytes(invoice: SignedInvoice): Buffer {
  checkInvoice(invoice);
  const description = Buffer.from(invoice.description, "utf8");
  const chainId = uintBytes(invoice.chainId);
  const amount = uintBytes(invoice.amount);
  const expiry = Buffer.alloc(8);
  expiry.writeBigUInt64BE(invoice.expiry);
  const signature = hexBytes(invoice.signature);
  if (signature.length !== SIGNATURE_BYTES) throw new InvalidInvoiceError("signature", `expected ${SIGNATURE_BYTES} bytes, got ${signature.length}`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(description.length);
  return Buffer.concat([
    Buffer.of(INVOICE_VERSION, chainId.length),
    chainId,
    hexBytes(invoice.adjudicator),
    hexBytes(invoice.asset),
    hexBytes(invoice.payee),
    Buffer.of(amount.length),
    amount,
    hexBytes(invoice.hashlock),
    expiry,
    hexBytes(invoice.ref),
    length,
    description,
    signature,
  ]);
}

/** `sluice1…`: the invoice as one string. */
export function encodeInvoice(invoice: SignedInvoice): string {
  return bech32.encode(INVOICE_PREFIX, bech32.toWords(invoiceBytes(invoice)), MAX_INVOICE_LENGTH);
}

/** Reads the layout field by field; every problem names its field. */
class Reader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  take(length: number, field: string): Buffer {
    if (this.offset + length > this.bytes.length) throw new InvalidInvoiceError(field, "the invoice ends before this field: it was cut short");
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  hex(length: number, field: string): Hex {
    return `0x${this.take(length, field).toString("hex")}`;
  }

  uint(field: string): bigint {
    const length = this.take(1, field)[0];
    if (length < 1 || length > 32) throw new InvalidInvoiceError(field, `a length of ${length} bytes: expected 1 to 32`);
    const bytes = this.take(length, field);
    if (bytes[0] === 0) throw new InvalidInvoiceError(field, "has a leading zero byte: not the canonical encoding");
    return BigInt(`0x${bytes.toString("hex")}`);
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw new InvalidInvoiceError("signature", `${this.bytes.length - this.offset} bytes after the signature`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The invoice in `bytes`, its fields checked (not its signature). */
export function invoiceFromBytes(bytes: Buffer): SignedInvoice {
  const reader = new Reader(bytes);
  const version = reader.take(1, "version")[0];
  if (version !== INVOICE_VERSION) throw new InvalidInvoiceError("version", `version ${version}: this code reads version ${INVOICE_VERSION}`);
  const chainId = reader.uint("chainId");
  const adjudicator = reader.hex(20, "adjudicator");
  const asset = reader.hex(20, "asset");
  const payee = reader.hex(20, "payee");
  const amount = reader.uint("amount");
  const hashlock = reader.hex(32, "hashlock");
  const expiry = reader.take(8, "expiry").readBigUInt64BE();
  const ref = reader.hex(32, "ref");
  const length = reader.take(2, "description").readUInt16BE();
  if (length > MAX_DESCRIPTION_BYTES) throw new InvalidInvoiceError("description", `${length} bytes, more than the ${MAX_DESCRIPTION_BYTES} allowed`);
  let description: string;
  try {
    description = utf8.decode(reader.take(length, "description"));
  } catch {
    throw new InvalidInvoiceError("description", "not valid UTF-8");
  }
  const signature = reader.hex(SIGNATURE_BYTES, "signature");
  reader.end();
  const invoice: SignedInvoice = { chainId, adjudicator, asset, payee, amount, hashlock, expiry, ref, description, signature };
  checkInvoice(invoice);
  return invoice;
}

/**
 * The invoice a `sluice1…` string holds, checked: checksum (`InvoiceChecksumError`), every field
 * (`InvalidInvoiceError` naming it) and the payee's signature (`InvoiceSignatureError`).
 * Surrounding white space is ignored.
 */
export function decodeInvoice(text: string): SignedInvoice {
  const invoice = readInvoice(text);
  verifyInvoice(invoice);
  return invoice;
}

/**
 * `decodeInvoice` without the payee's signature: for a hub matching a route's last hop to the
 * invoice the payer sent with it. A forged invoice there harms only the payer who sent it (the
 * payee, not knowing the hashlock, gives the lock back), so the hub spares the recovery.
 */
export function readInvoice(text: string): SignedInvoice {
  if (typeof text !== "string") throw new InvalidInvoiceError("invoice", "expected a string");
  const trimmed = text.trim();
  if (!trimmed.toLowerCase().startsWith(`${INVOICE_PREFIX}1`)) {
    throw new InvalidInvoiceError("prefix", `a Sluice invoice starts with ${INVOICE_PREFIX}1`);
  }
  if (trimmed.length > MAX_INVOICE_LENGTH) throw new InvalidInvoiceError("invoice", `longer than ${MAX_INVOICE_LENGTH} characters`);
  if (trimmed !== trimmed.toLowerCase() && trimmed !== trimmed.toUpperCase()) {
    throw new InvalidInvoiceError("invoice", "mixes upper and lower case: use one (the checksum covers the characters, not their case)");
  }
  const bad = /[^02-9ac-hj-np-z]/.exec(trimmed.toLowerCase().slice(INVOICE_PREFIX.length + 1));
  if (bad !== null) throw new InvalidInvoiceError("invoice", `the character ${JSON.stringify(bad[0])} is not in the bech32 alphabet (no 1, b, i or o after the prefix): a typo?`);
  const decoded = bech32.decodeUnsafe(trimmed, MAX_INVOICE_LENGTH);
  if (decoded === undefined) throw new InvoiceChecksumError();
  const bytes = bech32.fromWordsUnsafe(decoded.words);
  if (bytes === undefined) throw new InvalidInvoiceError("invoice", "its bits don't end on a whole byte: not an invoice this code wrote");
  return invoiceFromBytes(Buffer.from(bytes));
}
