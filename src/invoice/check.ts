import { InvalidInvoiceError } from "./errors";
import { MAX_DESCRIPTION_BYTES, type Invoice } from "./types";

/** With the u flag a surrogate range matches only unpaired surrogates. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The UTF-8 length of a description; throws unless it is well-formed text of at most `MAX_DESCRIPTION_BYTES`. */
export function descriptionBytes(description: string): number {
  if (LONE_SURROGATE.test(description)) throw new InvalidInvoiceError("description", "not well-formed Unicode text (a lone surrogate)");
  const bytes = Buffer.byteLength(description, "utf8");
  if (bytes > MAX_DESCRIPTION_BYTES) {
    throw new InvalidInvoiceError("description", `${bytes} bytes of UTF-8, more than the ${MAX_DESCRIPTION_BYTES} allowed: shorten it`);
  }
  return bytes;
}

/** The rules beyond each field's type, shared by every way an invoice is made or read. */
export function checkInvoice(invoice: Invoice): void {
  if (invoice.chainId <= 0n) throw new InvalidInvoiceError("chainId", "must be above zero");
  if (invoice.amount <= 0n) throw new InvalidInvoiceError("amount", "must be above zero");
  descriptionBytes(invoice.description);
}
