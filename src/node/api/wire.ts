/**
 * The JSON wire format of the local API: how `NodeApi` arguments and results travel over HTTP,
 * shared by the server (`server.ts`) and the client (`client.ts`, used by the CLI). The schemas are
 * src/schema/api.ts; this file runs them both ways and lists the methods.
 *
 * - bigints travel as decimal strings ("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
 *   never as JSON numbers; small counts (`decimals`, `me`, `limit`, ...) are JSON integers;
 * - addresses and byte strings are 0x-prefixed hex, lower-cased on decode;
 * - objects are strict: an unknown key, a missing key or a wrong type is a `WireFormatError` that
 *   names the field (`amount`, `participants[1]`, `payment.seq`).
 */
import { z } from "zod";
import { InvalidArgumentError, MalformedMessageError } from "../../errors";
import * as schema from "../../schema/api";
import * as invoiceSchema from "../../schema/invoice";
import * as dashboardSchema from "../../schema/dashboard";
import { InvoicesUnsupportedError } from "../../invoice/errors";
import { decodeWith } from "../../schema/decode";
import { NotDevChainError } from "../devMint";
import type { Address, Hex } from "../../types";
import type { AssetInfo, CashOutView, ChannelView, EventsQuery, NodeApi, NodeInfo, OpenChannelRequest, PaymentRef, PaymentsQuery, PaymentView, ProofView, TxView } from "./types";
import type { CreateInvoiceRequest, DecodedInvoiceView, ForwardsQuery, InvoicesQuery, InvoiceView } from "./types";
import type { Scope } from "./access";
import type { AddWebhookRequest, CreditView, EstimateRequest, EstimateView, WebhookView } from "./types";

export { CHANNEL_STATUSES, MAX_PAYMENTS_LIMIT } from "../../schema/api";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value on the wire is not what the API expects; `field` names it ("" for the whole body). */
export class WireFormatError extends MalformedMessageError {
  static override readonly code: string = "BAD_REQUEST";
  override readonly name: string = "WireFormatError";

  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field || "body", problem);
    this.message = `${field || "body"}: ${problem}`;
  }
}

/** A schema run both ways: `decode` checks JSON into the typed value, `encode` makes its JSON. */
export interface Codec<T> {
  encode(value: T): Json;
  decode(value: unknown, field: string): T;
  /** The schema it runs (the OpenAPI document is made from it). */
  readonly schema: z.ZodType<T, unknown>;
}

/** `schema` as a `Codec`: decode failures are `WireFormatError`s naming the field under `field`. */
export function codec<T>(schema: z.ZodType<T, unknown>): Codec<T> {
  return {
    schema,
    encode: (value) => withoutUndefined(z.encode(schema, value)),
    decode: (value, field) =>
      decodeWith(schema, value, (path, problem) => new WireFormatError(field && path ? `${field}.${path}` : field || path, problem)),
  };
}

/** The JSON form as `JSON.stringify` would write it: keys whose value is undefined (absent optionals) left out. */
function withoutUndefined(value: unknown): Json {
  if (Array.isArray(value)) return value.map(withoutUndefined);
  if (typeof value !== "object" || value === null) return value as Json;
  const out: { [key: string]: Json } = {};
  for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = withoutUndefined(v);
  return out;
}

export const nodeInfo: Codec<NodeInfo> = codec(schema.nodeInfo);
export const assetInfo: Codec<AssetInfo> = codec(schema.assetInfo);
export const openChannelRequest: Codec<OpenChannelRequest> = codec(schema.openChannelRequest);
export const channelView: Codec<ChannelView> = codec(schema.channelView);
export const paymentView: Codec<PaymentView> = codec(schema.paymentView);
export const txView: Codec<TxView> = codec(schema.txView);
export const cashOutView: Codec<CashOutView> = codec(schema.cashOutView);
export const proofView: Codec<ProofView> = codec(schema.proofView);
export const invoiceView: Codec<InvoiceView> = codec(invoiceSchema.invoiceView);
export const decodedInvoiceView: Codec<DecodedInvoiceView> = codec(invoiceSchema.decodedInvoiceView);
export const webhookView: Codec<WebhookView> = codec(schema.webhookView);
export const estimateView: Codec<EstimateView> = codec(dashboardSchema.estimateView);
export const creditView: Codec<CreditView> = codec(dashboardSchema.creditView);

// ---------------------------------------------------------------- methods

/** A payment's reference as a body carries it: `ref` or `memo`, not both. */
interface RefOrMemo {
  ref?: Hex;
  memo?: string;
}

function refOf(body: RefOrMemo): PaymentRef | undefined {
  if (body.ref !== undefined && body.memo !== undefined) throw new WireFormatError("memo", "give ref or memo, not both");
  return body.memo !== undefined ? { memo: body.memo } : body.ref;
}

function refOrMemo(ref: PaymentRef | undefined): RefOrMemo {
  if (ref === undefined) return {};
  return typeof ref === "string" ? { ref } : { memo: ref.memo };
}

/**
 * One API method: its request body (from and to the `NodeApi` arguments), its result, and how the
 * server calls the node.
 */
export interface Method<A extends unknown[], R> {
  readonly name: string;
  /** The schema of its arguments as a JSON body (a read takes the same fields as query parameters). */
  readonly body: z.ZodType;
  encodeArgs(...args: A): Json;
  decodeArgs(body: unknown): A;
  readonly result: Codec<R>;
  call(api: NodeApi, args: A): Promise<R>;
}

function method<B extends object, A extends unknown[], R>(
  name: string,
  body: z.ZodType<B, unknown>,
  toArgs: (body: B) => A,
  fromArgs: (...args: A) => B,
  result: Codec<R>,
  call: (api: NodeApi, args: A) => Promise<R>,
): Method<A, R> {
  const bodyCodec = codec(body);
  return {
    name,
    body,
    encodeArgs: (...args) => bodyCodec.encode(fromArgs(...args)),
    decodeArgs: (raw) => toArgs(bodyCodec.decode(raw, "")),
    result,
    call,
  };
}

const empty = schema.empty as z.ZodType<Record<never, never>, unknown>;
const byChannel = schema.byChannel as z.ZodType<{ channelId: Hex }, unknown>;
const byAsset = schema.byAsset as z.ZodType<{ asset: Address }, unknown>;
const channelAmount = schema.channelAmount as z.ZodType<{ channelId: Hex; amount: bigint }, unknown>;

/** Every method of the API; `POST /v1/<name>` (see server.ts). */
export const METHODS = {
  info: method("info", empty, (): [] => [], () => ({}), nodeInfo, (api) => api.info()),
  asset: method(
    "asset",
    byAsset,
    (b): [Address] => [b.asset],
    (asset) => ({ asset }),
    assetInfo,
    (api, [asset]) => api.asset(asset),
  ),
  open: method(
    "open",
    schema.openChannelRequest,
    (b): [OpenChannelRequest] => [b],
    (request) => request,
    channelView,
    (api, [request]) => api.openChannel(request),
  ),
  abandon: method(
    "abandon",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    channelView,
    (api, [channelId]) => api.abandonChannel(channelId),
  ),
  deposit: method(
    "deposit",
    channelAmount,
    (b): [Hex, bigint] => [b.channelId, b.amount],
    (channelId, amount) => ({ channelId, amount }),
    channelView,
    (api, [channelId, amount]) => api.deposit(channelId, amount),
  ),
  pay: method(
    "pay",
    schema.payBody as z.ZodType<{ channelId: Hex; amount: bigint } & RefOrMemo, unknown>,
    (b): [Hex, bigint, PaymentRef] => {
      const ref = refOf(b);
      if (ref === undefined) throw new WireFormatError("ref", "give the payment's ref (32-byte hex) or memo (text)");
      return [b.channelId, b.amount, ref];
    },
    (channelId, amount, ref) => ({ channelId, amount, ...refOrMemo(ref) }),
    paymentView,
    (api, [channelId, amount, ref]) => api.pay(channelId, amount, ref),
  ),
  channels: method("channels", empty, (): [] => [], () => ({}), codec(z.array(schema.channelView)), (api) =>
    api.channels(),
  ),
  channel: method(
    "channel",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    channelView,
    (api, [channelId]) => api.channel(channelId),
  ),
  payments: method(
    "payments",
    schema.paymentsBody as z.ZodType<{ channelId: Hex } & Omit<PaymentsQuery, "ref"> & RefOrMemo, unknown>,
    (b): [Hex, PaymentsQuery] => [
      b.channelId,
      pick({ fromSeq: b.fromSeq, limit: b.limit, ref: refOf(b), direction: b.direction, since: b.since, until: b.until }),
    ],
    (channelId, query) => pick({ channelId, fromSeq: query.fromSeq, limit: query.limit, ...refOrMemo(query.ref), direction: query.direction, since: query.since, until: query.until }),
    codec(z.array(schema.paymentView).max(schema.MAX_PAYMENTS_LIMIT)),
    (api, [channelId, query]) => api.payments(channelId, query),
  ),
  events: method(
    "events",
    schema.eventsBody as z.ZodType<{ after?: bigint; limit?: number; types?: string[] }, unknown>,
    (b): [EventsQuery] => [pick({ after: b.after, limit: b.limit, types: b.types })],
    (query) => ({ after: query.after, limit: query.limit, types: query.types }),
    codec(z.array(schema.eventView).max(schema.MAX_EVENTS_LIMIT)),
    (api, [query]) => api.listEvents(query),
  ),
  close: method(
    "close",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.close(channelId),
  ),
  challenge: method(
    "challenge",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.challenge(channelId),
  ),
  settle: method(
    "settle",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.settle(channelId),
  ),
  cashout: method(
    "cashout",
    channelAmount,
    (b): [Hex, bigint] => [b.channelId, b.amount],
    (channelId, amount) => ({ channelId, amount }),
    cashOutView,
    (api, [channelId, amount]) => api.cashOut(channelId, amount),
  ),
  withdraw: method(
    "withdraw",
    byAsset,
    (b): [Address] => [b.asset],
    (asset) => ({ asset }),
    txView,
    (api, [asset]) => api.withdraw(asset),
  ),
  mint: method(
    "mint",
    schema.mintBody as z.ZodType<{ asset: Address; amount: bigint; to?: Address }, unknown>,
    (b): [Address, bigint, Address | undefined] => [b.asset, b.amount, b.to],
    (asset, amount, to) => pick({ asset, amount, to }),
    txView,
    (api, [asset, amount, to]) => {
      if (api.mint === undefined) return Promise.reject(new NotDevChainError());
      return api.mint(asset, amount, to);
    },
  ),
  prove: method(
    "prove",
    schema.proveBody as z.ZodType<{ channelId: Hex; seq: bigint }, unknown>,
    (b): [Hex, bigint] => [b.channelId, b.seq],
    (channelId, seq) => ({ channelId, seq }),
    proofView,
    (api, [channelId, seq]) => api.prove(channelId, seq),
  ),
  createinvoice: method(
    "createinvoice",
    invoiceSchema.createInvoiceBody,
    (b): [CreateInvoiceRequest] => [pick({ amount: b.amount, asset: b.asset, description: b.description, expiresIn: b.expiresIn, ref: refOf(b) })],
    (request) => ({ ...request, ref: undefined, ...refOrMemo(request.ref) }),
    invoiceView,
    (api, [request]) => api.createInvoice?.(request) ?? noInvoices(),
  ),
  invoice: method(
    "invoice",
    invoiceSchema.invoiceBody as z.ZodType<{ id?: bigint; hashlock?: Hex }, unknown>,
    (b): [bigint | Hex] => {
      if ((b.id === undefined) === (b.hashlock === undefined)) throw new WireFormatError("id", "give the invoice's id or its hashlock, one of the two");
      return [b.id ?? b.hashlock!];
    },
    (key) => (typeof key === "bigint" ? { id: key } : { hashlock: key }),
    invoiceView,
    (api, [key]) => api.invoice?.(key) ?? noInvoices(),
  ),
  invoices: method(
    "invoices",
    invoiceSchema.invoicesBody as z.ZodType<InvoicesQuery, unknown>,
    (b): [InvoicesQuery] => [pick(b)],
    (query) => query,
    codec(z.array(invoiceSchema.invoiceView).max(invoiceSchema.MAX_INVOICES_LIMIT)),
    (api, [query]) => api.invoices?.(query) ?? noInvoices(),
  ),
  cancelinvoice: method(
    "cancelinvoice",
    invoiceSchema.byInvoiceId as z.ZodType<{ id: bigint }, unknown>,
    (b): [bigint] => [b.id],
    (id) => ({ id }),
    invoiceView,
    (api, [id]) => api.cancelInvoice?.(id) ?? noInvoices(),
  ),
  decodeinvoice: method(
    "decodeinvoice",
    invoiceSchema.decodeInvoiceBody as z.ZodType<{ invoice: string }, unknown>,
    (b): [string] => [b.invoice],
    (invoice) => ({ invoice }),
    decodedInvoiceView,
    (api, [invoice]) => api.decodeInvoice?.(invoice) ?? noInvoices(),
  ),
  payinvoice: method(
    "payinvoice",
    invoiceSchema.payInvoiceBody as z.ZodType<{ invoice: string; route?: Address[] }, unknown>,
    (b): [string, Address[] | undefined] => [b.invoice, b.route],
    (invoice, route) => pick({ invoice, route }),
    paymentView,
    (api, [invoice, route]) => api.payInvoice?.(invoice, route) ?? noInvoices(),
  ),
  forwards: method(
    "forwards",
    schema.forwardsBody,
    (b): [ForwardsQuery] => [pick(b)],
    (query) => query,
    codec(z.array(schema.forwardView).max(schema.MAX_FORWARDS_LIMIT)),
    (api, [query]) => api.forwards?.(query) ?? Promise.resolve([]),
  ),
  createtoken: method(
    "createtoken",
    schema.createTokenBody as z.ZodType<{ scope: Scope; name?: string }, unknown>,
    (b): [Scope, string | undefined] => [b.scope, b.name],
    (scope, name) => pick({ scope, name }),
    codec(schema.createdTokenView),
    (api, [scope, name]) => api.createToken?.(scope, name) ?? noTokens(),
  ),
  tokens: method("tokens", empty, (): [] => [], () => ({}), codec(z.array(schema.tokenView)), (api) => api.tokens?.() ?? noTokens()),
  revoketoken: method(
    "revoketoken",
    schema.byTokenId as z.ZodType<{ id: bigint }, unknown>,
    (b): [bigint] => [b.id],
    (id) => ({ id }),
    codec(schema.tokenView),
    (api, [id]) => api.revokeToken?.(id) ?? noTokens(),
  ),
  addwebhook: method(
    "addwebhook",
    schema.addWebhookBody,
    (b): [AddWebhookRequest] => [pick(b)],
    (request) => request,
    webhookView,
    (api, [request]) => api.addWebhook(request),
  ),
  webhooks: method("webhooks", empty, (): [] => [], () => ({}), codec(z.array(schema.webhookView)), (api) => api.webhooks()),
  backup: method(
    "backup",
    schema.backupBody as z.ZodType<{ file: string; force?: boolean }, unknown>,
    (b): [string, boolean] => [b.file, b.force === true],
    (file, force) => ({ file, ...(force ? { force } : {}) }),
    codec(schema.backupView),
    (api, [file, force]) => api.backup?.(file, force) ?? Promise.reject(new MalformedMessageError("method", "this node takes no backups")),
  ),
  removewebhook: method(
    "removewebhook",
    schema.byWebhookId as z.ZodType<{ id: bigint }, unknown>,
    (b): [bigint] => [b.id],
    (id) => ({ id }),
    webhookView,
    (api, [id]) => api.removeWebhook(id),
  ),
  estimate: method(
    "estimate",
    dashboardSchema.estimateBody,
    (b): [EstimateRequest] => [pick(b)],
    (request) => request,
    estimateView,
    (api, [request]) => api.estimate?.(request) ?? unsupported("estimate"),
  ),
  credits: method("credits", empty, (): [] => [], () => ({}), codec(z.array(dashboardSchema.creditView)), (api) => api.listCredits?.() ?? unsupported("credits")),
} as const;

/** The answer of a node without one of the optional reads (a test double). */
function unsupported(method: string): Promise<never> {
  return Promise.reject(new InvalidArgumentError(`this node does not answer ${method}`));
}

/** The answer of a node without scoped tokens (a test double). */
function noTokens(): Promise<never> {
  return Promise.reject(new MalformedMessageError("method", "this node issues no scoped tokens"));
}

/** The answer of a node without invoices. */
function noInvoices(): Promise<never> {
  return Promise.reject(new InvoicesUnsupportedError());
}

export type MethodName = keyof typeof METHODS;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, name);
}

/** `value` without its undefined keys. */
function pick<T extends object>(value: T): T {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

// ---------------------------------------------------------------- errors

/** The body of every error reply: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Json;
}

export const errorReply: Codec<{ error: ErrorBody }> = codec(schema.errorReply as z.ZodType<{ error: ErrorBody }, unknown>);

/**
 * A value for `details`: bigints as decimal strings, plain objects and arrays recursively (at most
 * `depth` levels), functions and class instances other than arrays, plain objects and errors left out.
 */
export function toJson(value: unknown, depth = 4): Json | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "object": {
      if (depth <= 0) return undefined;
      if (Array.isArray(value)) return value.map((v) => toJson(v, depth - 1) ?? null);
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) {
        const j = toJson(v, depth - 1);
        if (j !== undefined) out[k] = j;
      }
      return out;
    }
    default:
      return undefined;
  }
}
