/**
 * Invoices: what a payee asks to be paid, signed by its node's key, as a `sluice1…` string and as
 * JSON. The payee's node keeps the secret (src/node/store/invoices.ts); a payer decodes and checks.
 */
export { MAX_DESCRIPTION_BYTES, type Invoice, type InvoiceStatus, type SignedInvoice } from "./types";
export { INVOICE_TYPES, invoiceDigest, signInvoice, verifyInvoice } from "./signature";
export { INVOICE_PREFIX, INVOICE_VERSION, MAX_INVOICE_LENGTH, decodeInvoice, encodeInvoice, invoiceBytes, invoiceFromBytes, readInvoice } from "./text";
export { invoiceFromJson, invoiceToJson, type InvoiceJson } from "./json";
export { makeInvoice, type InvoiceTerms, type MadeInvoice } from "./make";
export {
  InvalidInvoiceError,
  InvoiceChecksumError,
  InvoiceSignatureError,
  InvoiceStatusError,
  InvoiceUnderpaidError,
  InvoicesUnsupportedError,
  UnknownInvoiceError,
} from "./errors";
