import { randomBytes } from "node:crypto";
import { hashlockOf, toHex, type StateSigner } from "../crypto";
import type { Address, Hex } from "../types";
import { checkInvoice } from "./check";
import { signInvoice } from "./signature";
import type { SignedInvoice } from "./types";

/** What the payee asks for; the hashlock and its secret are made here. */
export interface InvoiceTerms {
  chainId: bigint;
  adjudicator: Address;
  asset: Address;
  amount: bigint;
  /** Unix seconds: the last second it can be paid at. */
  expiry: bigint;
  /** The payment reference (default: 32 random bytes). */
  ref?: Hex;
  description?: string;
}

export interface MadeInvoice {
  invoice: SignedInvoice;
  /** The preimage of `invoice.hashlock`: for the payee's store only. */
  secret: Hex;
}

/** A new invoice signed by `signer` (the payee), with a fresh 32-byte secret from crypto.randomBytes. */
export async function makeInvoice(terms: InvoiceTerms, signer: StateSigner): Promise<MadeInvoice> {
  const secret = toHex(randomBytes(32));
  const unsigned = {
    chainId: terms.chainId,
    adjudicator: terms.adjudicator.toLowerCase() as Address,
    asset: terms.asset.toLowerCase() as Address,
    payee: signer.address.toLowerCase() as Address,
    amount: terms.amount,
    hashlock: hashlockOf(secret),
    expiry: terms.expiry,
    ref: (terms.ref ?? toHex(randomBytes(32))).toLowerCase() as Hex,
    description: terms.description ?? "",
  };
  checkInvoice(unsigned);
  return { invoice: await signInvoice(unsigned, signer), secret };
}
