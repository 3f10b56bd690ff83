/**
 * The node's invoice methods (`NodeApi.createInvoice` ... `decodeInvoice`): invoices signed by the
 * node's key, kept in its store; a payer's invoices decoded and checked. The payment path uses the
 * store's hooks (`store.invoices.byHashlock`, `markPaid`, `secret`).
 */
import type { StateSigner } from "../crypto";
import { InvalidAmountError, InvalidArgumentError } from "../errors";
import { InvalidInvoiceError, UnknownInvoiceError } from "../invoice/errors";
import { invoiceFromJson } from "../invoice/json";
import { makeInvoice } from "../invoice/make";
import { decodeInvoice, encodeInvoice } from "../invoice/text";
import type { SignedInvoice } from "../invoice/types";
import { MAX_INVOICE_LIFETIME } from "../schema/invoice";
import { ETH, type Address, type Hex } from "../types";
import type { CreateInvoiceRequest, DecodedInvoiceView, InvoicesQuery, InvoiceView } from "./api/types";
import { resolveRef } from "./paymentRef";
import type { ChannelStore } from "./store";
import type { InvoiceRecord } from "./store/invoices";

/**
 * How long an invoice stays payable unless told (seconds): a day. A payment's lock must expire
 * after the reveal window (an hour by default) and not after the invoice, so an invoice that
 * lives only an hour could never be paid.
 */
export const DEFAULT_INVOICE_LIFETIME = 86_400n;

const seconds = (ms: number): bigint => BigInt(Math.floor(ms / 1000));

/** A stored invoice as the API shows it: times in unix seconds, its string; never its secret. */
export function invoiceViewOf(record: InvoiceRecord): InvoiceView {
  return {
    id: record.id,
    status: record.status,
    invoice: record.invoice,
    encoded: encodeInvoice(record.invoice),
    createdAt: seconds(record.createdAt),
    ...(record.paidAt === undefined ? {} : { paidAt: seconds(record.paidAt) }),
    ...(record.paidAmount === undefined ? {} : { paidAmount: record.paidAmount }),
    ...(record.cancelledAt === undefined ? {} : { cancelledAt: seconds(record.cancelledAt) }),
    ...(record.memo === undefined ? {} : { memo: record.memo }),
  };
}

export interface InvoiceBookOptions {
  store: ChannelStore;
  /** The payee's key: signs every invoice. */
  signer: StateSigner;
  chainId: bigint;
  adjudicator: Address;
  /** Unix milliseconds (default Date.now). */
  now?: () => number;
}

export class InvoiceBook {
  private readonly now: () => number;

  constructor(private readonly options: InvoiceBookOptions) {
    this.now = options.now ?? Date.now;
  }

  async create(request: CreateInvoiceRequest): Promise<InvoiceView> {
    if (typeof request.amount !== "bigint" || request.amount <= 0n) throw new InvalidAmountError(request.amount);
    const lifetime = request.expiresIn ?? DEFAULT_INVOICE_LIFETIME;
    if (lifetime <= 0n || lifetime > MAX_INVOICE_LIFETIME) {
      throw new InvalidArgumentError(`an invoice expires 1 second to 365 days after it is made, not ${lifetime} seconds`);
    }
    const resolved = request.ref === undefined ? undefined : resolveRef(request.ref);
    const made = await makeInvoice(
      {
        chainId: this.options.chainId,
        adjudicator: this.options.adjudicator,
        asset: request.asset ?? ETH,
        amount: request.amount,
        expiry: seconds(this.now()) + lifetime,
        ref: resolved?.ref,
        description: request.description,
      },
      this.options.signer,
    );
    const { store } = this.options;
    // The memo first, as `pay` does: the payment that pays the invoice finds it.
    if (resolved?.memo !== undefined) store.putMemo(resolved.ref, resolved.memo);
    return invoiceViewOf(store.invoices.add({ ...made, ...(resolved?.memo === undefined ? {} : { memo: resolved.memo }) }));
  }

  get(key: bigint | Hex): InvoiceView {
    const record = typeof key === "bigint" ? this.options.store.invoices.byId(key) : this.options.store.invoices.byHashlock(key);
    if (record === null) throw new UnknownInvoiceError(String(key));
    return invoiceViewOf(record);
  }

  list(query: InvoicesQuery): InvoiceView[] {
    return this.options.store.invoices.list(query).map(invoiceViewOf);
  }

  cancel(id: bigint): InvoiceView {
    return invoiceViewOf(this.options.store.invoices.cancel(id));
  }

  /** A payer's invoice: a `sluice1…` string or the JSON text of one (starting with `{`). */
  decode(text: string): DecodedInvoiceView {
    if (typeof text !== "string") throw new InvalidInvoiceError("invoice", "expected a string");
    const invoice: SignedInvoice = text.trim().startsWith("{") ? invoiceFromJson(text) : decodeInvoice(text);
    return {
      invoice,
      encoded: encodeInvoice(invoice),
      expired: invoice.expiry < seconds(this.now()),
      sameNetwork: invoice.chainId === this.options.chainId && invoice.adjudicator === this.options.adjudicator.toLowerCase(),
    };
  }
}
