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
import { EcdsaVerifier, fromHex, keccak256Bytes, toHex, type StateSigner } from "../crypto";
import { writeBytes32, writeUint } from "../crypto/hash";
import { InvalidArgumentError, ValueOutOfRangeError } from "../errors";
import { domainSeparator, sluiceDomain } from "../typedData";
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

const INVOICE_TYPEHASH = keccak256Bytes(Buffer.from(TypedDataEncoder.from(INVOICE_TYPES).encodeType("Invoice"), "utf8"));
const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** Domain separators by chain and adjudicator (a node sees a handful). */
const separators = new Map<string, Buffer>();
const MAX_SEPARATORS = 64;

function separatorOf(chainId: bigint, adjudicator: string): Buffer {
  const key = `${chainId}:${adjudicator.toLowerCase()}`;
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = fromHex(domainSeparator(sluiceDomain(chainId, adjudicator as Hex)), "domainSeparator");
    if (separators.size >= MAX_SEPARATORS) separators.clear();
    separators.set(key, separator);
  }
  return separator;
}

function writeAddress(target: Buffer, offset: number, value: string, field: string): void {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) throw new ValueOutOfRangeError(`${field} (address)`, value);
  target.fill(0, offset, offset + 12);
  target.write(value.slice(2), offset + 12, 20, "hex");
}

/**
 * The 32-byte digest the payee signs: EIP-712 by direct encoding (the type hash and the domain
 * separator precomputed, the native keccak), the same bytes as ethers' `TypedDataEncoder.hash`.
 */
export function invoiceDigest(invoice: Invoice): Hex {
  const struct = Buffer.alloc(256);
  INVOICE_TYPEHASH.copy(struct, 0);
  writeAddress(struct, 32, invoice.asset, "asset");
  writeAddress(struct, 64, invoice.payee, "payee");
  writeUint(struct, 96, invoice.amount, UINT256_MAX, "amount");
  writeBytes32(struct, 128, invoice.hashlock, "hashlock");
  writeUint(struct, 160, invoice.expiry, UINT64_MAX, "expiry");
  writeBytes32(struct, 192, invoice.ref, "ref");
  keccak256Bytes(Buffer.from(invoice.description, "utf8")).copy(struct, 224);
  const outer = Buffer.alloc(66);
  outer[0] = 0x19;
  outer[1] = 0x01;
  separatorOf(invoice.chainId, invoice.adjudicator).copy(outer, 2);
  keccak256Bytes(struct).copy(outer, 34);
  return toHex(keccak256Bytes(outer));
}

/** The digest through ethers' generic typed-data encoder: the slow reference `invoiceDigest` matches. */
export function invoiceTypedDataDigest(invoice: Invoice): Hex {
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
