/**
 * Invoices at the boundaries: the JSON form of a signed invoice (what a payer is handed, and what
 * the local API returns), and the local API's invoice bodies and results. Same conventions as
 * api.ts: bigints as decimal strings, hex lower-cased on decode, objects strict.
 */
import { z } from "zod";
import { MAX_DESCRIPTION_BYTES, type SignedInvoice } from "../invoice/types";
import type { CreateInvoiceRequest, DecodedInvoiceView, InvoicesQuery, InvoiceStatusName, InvoiceView } from "../node/api/types";
import { MAX_MEMO_BYTES } from "../node/paymentRef";
import { addressJson, boolean, bytes32Json, checkBytes, checkCodec, int, list, optionalJson, text, uint256Json, uint64Json, type Checked } from "./primitives";
import type { Hex } from "../types";

type Schema<T> = z.ZodType<T, unknown>;

export const INVOICE_STATUSES: readonly [InvoiceStatusName, ...InvoiceStatusName[]] = ["open", "paid", "expired", "cancelled"];
/** The largest page of invoices one request returns. */
export const MAX_INVOICES_LIMIT = 1_000;
/** The longest `sluice1…` string a body may carry (longer ones are refused by the codec too). */
const MAX_INVOICE_TEXT = 2048;

function checkSignature65(value: unknown): Checked<Hex> {
  const result = checkBytes(value, 65);
  if (result.ok && result.value.length !== 132) return { ok: false, problem: "expected a 65-byte signature (r, s, v)" };
  return result;
}

/** A signed invoice as JSON: the fields of `Invoice` and `signature`. */
export const signedInvoiceJson: Schema<SignedInvoice> = z.strictObject({
  chainId: uint256Json,
  adjudicator: addressJson,
  asset: addressJson,
  payee: addressJson,
  amount: uint256Json,
  hashlock: bytes32Json,
  expiry: uint64Json,
  ref: bytes32Json,
  // A description of at most MAX_DESCRIPTION_BYTES bytes has at most as many UTF-16 units; the byte count is checked after.
  description: text(MAX_DESCRIPTION_BYTES),
  signature: checkCodec(checkSignature65, z.custom<Hex>(), (value) => value),
});

const invoiceStatus = z.enum(INVOICE_STATUSES, { error: (issue) => `expected one of ${INVOICE_STATUSES.join(", ")}, got ${JSON.stringify(issue.input)}` });

export const invoiceView: Schema<InvoiceView> = z.strictObject({
  id: uint64Json,
  status: invoiceStatus,
  invoice: signedInvoiceJson,
  encoded: text(MAX_INVOICE_TEXT),
  createdAt: uint64Json,
  paidAt: optionalJson(uint64Json),
  paidAmount: optionalJson(uint256Json),
  cancelledAt: optionalJson(uint64Json),
  memo: optionalJson(text(MAX_MEMO_BYTES)),
});

export const decodedInvoiceView: Schema<DecodedInvoiceView> = z.strictObject({
  invoice: signedInvoiceJson,
  encoded: text(MAX_INVOICE_TEXT),
  expired: boolean,
  sameNetwork: boolean,
});

// ---------------------------------------------------------------- request bodies

/** How long a new invoice stays payable, at most (seconds): a year. */
export const MAX_INVOICE_LIFETIME = 365n * 86_400n;

export const createInvoiceBody: Schema<Omit<CreateInvoiceRequest, "ref"> & { ref?: Hex; memo?: string }> = z.strictObject({
  amount: uint256Json,
  asset: optionalJson(addressJson),
  // The node counts the UTF-8 bytes (INVALID_INVOICE beyond MAX_DESCRIPTION_BYTES).
  description: optionalJson(text(4 * MAX_DESCRIPTION_BYTES)),
  expiresIn: optionalJson(uint64Json),
  ref: optionalJson(bytes32Json),
  memo: optionalJson(text(4 * MAX_MEMO_BYTES)),
});

/** An invoice by its id in this node, or by its hashlock: one of the two. */
export const invoiceBody = z.strictObject({ id: optionalJson(uint64Json), hashlock: optionalJson(bytes32Json) });
export const byInvoiceId = z.strictObject({ id: uint64Json });
export const invoicesBody: Schema<InvoicesQuery> = z.strictObject({
  status: optionalJson(invoiceStatus),
  fromId: optionalJson(uint64Json),
  limit: optionalJson(int(1, MAX_INVOICES_LIMIT)),
});
export const decodeInvoiceBody = z.strictObject({ invoice: text(MAX_INVOICE_TEXT) });
/** Paying an invoice: through the hubs of `route` in order (at most 3; more is ROUTE_TOO_LONG), else direct or through a hub found. */
export const payInvoiceBody = z.strictObject({ invoice: text(MAX_INVOICE_TEXT), route: optionalJson(list(addressJson, 16)) });
