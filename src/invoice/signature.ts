/**
 * The invoice's signature: EIP-712 typed data in the adjudicator's domain (`sluiceDomain`: name
 * "Sluice", version "2", the chain id and the adjudicator as verifying contract), so the chain and
 * the contract of an invoice are bound by the domain as a state's are, and a wallet shows the
 * fields it signs. The adjudicator verifies only `State` and `Withdrawal` digests: an invoice's
 * signature can't be replayed there.
 *
 *   Invoice(address asset,address payee,uint256 amount,bytes32 hashlock,uint64 expiry,bytes32 ref,string description)
 */
import { TypedDataEncoder, type TypedDataField } from "ethers";
import { EcdsaVerifier, fromHex, type StateSigner } from "../crypto";
import { InvalidArgumentError } from "../errors";
import { sluiceDomain } from "../typedData";
import type { Hex } from "../types";
import { InvoiceSignatureError } from "./errors";
import type { Invoice, SignedInvoice } from "./types";

export const INVOICE_TYPES: Record<string, TypedDataField[]> = {
  Invoice: [
    { name: "asset", type: "address" },
    { name: "payee", type: "address" },
    { name: "amount", type: "uint256" },
    { name: "hashlock", type: "bytes32" },
    { name: "expiry", type: "uint64" },
    { name: "ref", type: "bytes32" },
    { name: "description", type: "string" },
  ],
};

/** The 32-byte digest the payee signs. */
export function invoiceDigest(invoice: Invoice): Hex {
  const { chainId, adjudicator, asset, payee, amount, hashlock, expiry, ref, description } = invoice;
  return TypedDataEncoder.hash(sluiceDomain(chainId, adjudicator), INVOICE_TYPES, { asset, payee, amount, hashlock, expiry, ref, description }) as Hex;
}

/** `invoice` signed by `signer`, which must be its payee's key. */
export async function signInvoice(invoice: Invoice, signer: StateSigner): Promise<SignedInvoice> {
  if (signer.address.toLowerCase() !== invoice.payee.toLowerCase()) {
    throw new InvalidArgumentError(`the invoice's payee is ${invoice.payee}: the key of ${signer.address} can't sign it`);
  }
  const signature = await signer.sign(fromHex(invoiceDigest(invoice), "digest"));
  return { ...invoice, signature };
}

const verifier = new EcdsaVerifier();

/** Throws `InvoiceSignatureError` unless the payee signed exactly these fields. */
export function verifyInvoice(invoice: SignedInvoice): void {
  if (!verifier.verify(invoice.payee, fromHex(invoiceDigest(invoice), "digest"), invoice.signature)) {
    throw new InvoiceSignatureError(invoice.payee);
  }
}
