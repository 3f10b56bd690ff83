import type { Address, Hex } from "../types";

/** The longest invoice description, in UTF-8 bytes. */
export const MAX_DESCRIPTION_BYTES = 256;

/**
 * What a payee asks to be paid, and where. `payee` is the address of the key of the payee's node
 * (the channel participant a payer's lock must reach, and the key that signs the invoice);
 * `hashlock` is sha256 of a 32-byte secret only the payee's node knows until it is paid.
 */
export interface Invoice {
  chainId: bigint;
  adjudicator: Address;
  /** ETH (the zero address) or an ERC-20 token. */
  asset: Address;
  payee: Address;
  /** Base units of `asset`; above zero. */
  amount: bigint;
  hashlock: Hex;
  /** The last unix second (wall clock) the invoice can be paid at. */
  expiry: bigint;
  /** The payment reference the lock (and the payment it becomes) carries. */
  ref: Hex;
  /** UTF-8, at most `MAX_DESCRIPTION_BYTES` bytes; may be empty. */
  description: string;
}

/** An invoice with the payee's signature of its EIP-712 digest (`invoiceDigest`): 65 bytes r || s || v. */
export interface SignedInvoice extends Invoice {
  signature: Hex;
}

/** `expired` is never stored: an open invoice past its expiry reads as expired. */
export type InvoiceStatus = "open" | "paid" | "expired" | "cancelled";
