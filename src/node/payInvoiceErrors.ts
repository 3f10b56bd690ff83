/** The errors of paying an invoice (`NodeApi.payInvoice`): each names why nothing was paid. */
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";

/** This node paid the invoice already, or is paying it: refused before any lock is made. */
export class InvoiceAlreadyPaidError extends SluiceError {
  static override readonly code: string = "INVOICE_ALREADY_PAID";
  override readonly name: string = "InvoiceAlreadyPaidError";

  constructor(
    readonly hashlock: Hex,
    readonly status: "pending" | "paid" | "failed",
  ) {
    super(`this node ${status === "paid" ? "paid this invoice already" : "is paying this invoice already"} (hashlock ${hashlock})`);
  }
}

/** The invoice can't be paid here: made for another chain or adjudicator, or past its expiry. */
export class InvoiceNotPayableError extends SluiceError {
  static override readonly code: string = "INVOICE_NOT_PAYABLE";
  override readonly name: string = "InvoiceNotPayableError";

  constructor(readonly reason: "network" | "expired", message: string) {
    super(message);
  }
}

/** This node has no open channel with the invoice's payee in its asset (routing is not offered yet). */
export class NoDirectChannelError extends SluiceError {
  static override readonly code: string = "NO_DIRECT_CHANNEL";
  override readonly name: string = "NoDirectChannelError";

  constructor(
    readonly payee: Address,
    readonly asset: Address,
  ) {
    super(`no open channel with the payee ${payee} in asset ${asset}: open one first (payments through a hub are not offered yet)`);
  }
}

/** The payee did not take the lock: it gave it back (an unknown invoice, or too little), or it expired. Nothing was paid. */
export class InvoicePaymentFailedError extends SluiceError {
  static override readonly code: string = "INVOICE_PAYMENT_FAILED";
  override readonly name: string = "InvoicePaymentFailedError";

  constructor(
    readonly hashlock: Hex,
    readonly reason: "cancelled" | "expired" | "refused",
    detail?: string,
  ) {
    super(`the invoice was not paid: the lock was ${reason}${detail ? ` (${detail})` : ""}; the amount is back in the channel`);
  }
}
