/**
 * The errors of invoices: decoding one a payer was given (a bad field, a typo, a forged signature)
 * and the payee's own book of them (unknown, not open, underpaid).
 */
import { InvalidArgumentError, SluiceError } from "../errors";
import type { InvoiceStatus } from "./types";

/** An invoice (string or JSON) that can't be used; `field` names the offending part. Nothing was stored or paid. */
export class InvalidInvoiceError extends InvalidArgumentError {
  static override readonly code: string = "INVALID_INVOICE";
  override readonly name: string = "InvalidInvoiceError";

  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`invalid invoice: ${field}: ${problem}`);
  }
}

/** The `sluice1…` string's checksum does not match: a character was mistyped, left out or added. */
export class InvoiceChecksumError extends InvalidInvoiceError {
  static override readonly code: string = "INVOICE_CHECKSUM";
  override readonly name: string = "InvoiceChecksumError";

  constructor() {
    super("checksum", "the checksum does not match: a character was mistyped, dropped or added; copy the whole invoice again");
  }
}

/** The invoice is not signed by its payee: it was altered (an amount changed) or forged. */
export class InvoiceSignatureError extends InvalidInvoiceError {
  static override readonly code: string = "INVOICE_SIGNATURE";
  override readonly name: string = "InvoiceSignatureError";

  constructor(readonly payee: string) {
    super("signature", `not signed by the payee ${payee}: the invoice was altered or forged; don't pay it`);
  }
}

/** No invoice with that id or hashlock in this node. */
export class UnknownInvoiceError extends SluiceError {
  static override readonly code: string = "INVOICE_NOT_FOUND";
  override readonly name: string = "UnknownInvoiceError";

  constructor(readonly invoice: string) {
    super(`no invoice ${invoice} in this node`);
  }
}

/** A change the invoice's status does not allow: paying one that is not open, cancelling a paid one. Nothing changed. */
export class InvoiceStatusError extends SluiceError {
  static override readonly code: string = "INVOICE_NOT_OPEN";
  override readonly name: string = "InvoiceStatusError";

  constructor(
    readonly id: bigint,
    readonly status: InvoiceStatus,
    readonly action: "pay" | "cancel",
  ) {
    super(`invoice ${id} is ${status}: it can't be ${action === "pay" ? "paid" : "cancelled"}${status === "paid" ? " again" : ""}`);
  }
}

/** A payment of less than the invoice's amount: the invoice stays open. */
export class InvoiceUnderpaidError extends SluiceError {
  static override readonly code: string = "INVOICE_UNDERPAID";
  override readonly name: string = "InvoiceUnderpaidError";

  constructor(
    readonly id: bigint,
    readonly amount: bigint,
    readonly received: bigint,
  ) {
    super(`invoice ${id} asks for ${amount}, the payment brings ${received}`);
  }
}

/** The node behind the API keeps no invoices. */
export class InvoicesUnsupportedError extends SluiceError {
  static override readonly code: string = "INVOICES_UNSUPPORTED";
  override readonly name: string = "InvoicesUnsupportedError";

  constructor() {
    super("this node keeps no invoices");
  }
}
