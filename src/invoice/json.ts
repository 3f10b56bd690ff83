/**
 * An invoice as JSON (bigints as decimal strings, hex lower case), the other form a payer may be
 * handed. Decoding checks every field (the schema in src/schema/invoice.ts, then the rules of
 * check.ts) and the payee's signature, as the `sluice1…` string's decoder does.
 */
import { z } from "zod";
import { decodeWith } from "../schema/decode";
import { signedInvoiceJson } from "../schema/invoice";
import { checkInvoice } from "./check";
import { InvalidInvoiceError } from "./errors";
import { verifyInvoice } from "./signature";
import type { SignedInvoice } from "./types";

export type InvoiceJson = { [key in keyof SignedInvoice]: string };

/** The invoice's JSON object (every value a string). */
export function invoiceToJson(invoice: SignedInvoice): InvoiceJson {
  checkInvoice(invoice);
  return z.encode(signedInvoiceJson, invoice) as InvoiceJson;
}

/** The invoice a JSON value (an object, or its text) holds, checked like `decodeInvoice`. */
export function invoiceFromJson(value: unknown): SignedInvoice {
  let input = value;
  if (typeof value === "string") {
    try {
      input = JSON.parse(value);
    } catch {
      throw new InvalidInvoiceError("invoice", "not valid JSON");
    }
  }
  const invoice = decodeWith(signedInvoiceJson, input, (path, problem) => new InvalidInvoiceError(path || "invoice", problem));
  checkInvoice(invoice);
  verifyInvoice(invoice);
  return invoice;
}
