/**
 * `NodeApi` over the local HTTP API (server.ts), for the CLI and local applications. Error replies
 * come back as `ApiError` with the server's `code` (INSUFFICIENT_FUNDS, NOT_FOUND, STATE_STALE...);
 * an unreachable node is an `ApiUnreachableError` (code UNREACHABLE).
 *
 * Uses node:http rather than fetch: Node 20's fetch gives up after 300 s without response headers,
 * and opening a channel or closing one waits for the chain, which may take longer on a public chain.
 */
import http from "node:http";
import type { Address, Hex } from "../../types";
import { verbOf, type Scope } from "./access";
import { ApiError, ApiUnreachableError } from "./errors";
import { queryOfBody } from "./query";
import { subscribeEvents, type EventSubscription } from "./eventClient";
import type { EventView } from "./eventStream";
import { readApiInfo, readApiToken } from "./token";
import type {
  AssetInfo,
  BackupView,
  CashOutView,
  ChannelView,
  CreatedTokenView,
  EventsQuery,
  CreateInvoiceRequest,
  DecodedInvoiceView,
  InvoicesQuery,
  ForwardsQuery,
  ForwardView,
  InvoiceView,
  NodeApi,
  NodeInfo,
  OpenChannelRequest,
  PaymentRef,
  PaymentsQuery,
  PaymentView,
  ProofView,
  TokenView,
  TxView,
} from "./types";
import type { AddWebhookRequest, CreditView, EstimateRequest, EstimateView, WebhookView } from "./types";
import { errorReply, METHODS, WireFormatError, type Json, type Method } from "./wire";

export interface ApiClientOptions {
  /** `http://127.0.0.1:PORT` */
  url: string;
  token: string;
  /** Gives up on a request after this long (default: never; the node answers when the chain does). */
  timeoutMs?: number;
}

/** The largest reply the client reads (a page of 10,000 payments is about 3 MB). */
const MAX_REPLY_BYTES = 64 * 1024 * 1024;

export class ApiClient implements NodeApi {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number | undefined;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs;
  }

  /** A client for the node running in `datadir` (from its `api.json` and `api.token`). */
  static async fromDataDir(datadir: string, options: { timeoutMs?: number } = {}): Promise<ApiClient> {
    const info = await readApiInfo(datadir);
    const token = await readApiToken(datadir);
    return new ApiClient({ url: info.url, token, ...options });
  }

  /** Closes kept-alive connections (so a CLI process can exit at once). */
  dispose(): void {
    this.agent.destroy();
  }

  info(): Promise<NodeInfo> {
    return this.call(METHODS.info);
  }
  asset(asset: Address): Promise<AssetInfo> {
    return this.call(METHODS.asset, asset);
  }
  openChannel(request: OpenChannelRequest): Promise<ChannelView> {
    return this.call(METHODS.open, request);
  }
  deposit(channelId: Hex, amount: bigint): Promise<ChannelView> {
    return this.call(METHODS.deposit, channelId, amount);
  }
  abandonChannel(channelId: Hex): Promise<ChannelView> {
    return this.call(METHODS.abandon, channelId);
  }
  pay(channelId: Hex, amount: bigint, ref: PaymentRef): Promise<PaymentView> {
    return this.call(METHODS.pay, channelId, amount, ref);
  }
  channels(): Promise<ChannelView[]> {
    return this.call(METHODS.channels);
  }
  channel(channelId: Hex): Promise<ChannelView> {
    return this.call(METHODS.channel, channelId);
  }
  payments(channelId: Hex, query: PaymentsQuery = {}): Promise<PaymentView[]> {
    return this.call(METHODS.payments, channelId, query);
  }
  listEvents(query: EventsQuery = {}): Promise<EventView[]> {
    return this.call(METHODS.events, query);
  }
  createToken(scope: Scope, name?: string): Promise<CreatedTokenView> {
    return this.call(METHODS.createtoken, scope, name);
  }
  tokens(): Promise<TokenView[]> {
    return this.call(METHODS.tokens);
  }
  revokeToken(id: bigint): Promise<TokenView> {
    return this.call(METHODS.revoketoken, id);
  }
  backup(file: string, force = false): Promise<BackupView> {
    return this.call(METHODS.backup, file, force);
  }
  close(channelId: Hex): Promise<TxView> {
    return this.call(METHODS.close, channelId);
  }
  challenge(channelId: Hex): Promise<TxView> {
    return this.call(METHODS.challenge, channelId);
  }
  settle(channelId: Hex): Promise<TxView> {
    return this.call(METHODS.settle, channelId);
  }
  cashOut(channelId: Hex, amount: bigint): Promise<CashOutView> {
    return this.call(METHODS.cashout, channelId, amount);
  }
  withdraw(asset: Address): Promise<TxView> {
    return this.call(METHODS.withdraw, asset);
  }
  mint(asset: Address, amount: bigint, to?: Address): Promise<TxView> {
    return this.call(METHODS.mint, asset, amount, to);
  }
  prove(channelId: Hex, seq: bigint): Promise<ProofView> {
    return this.call(METHODS.prove, channelId, seq);
  }
  createInvoice(request: CreateInvoiceRequest): Promise<InvoiceView> {
    return this.call(METHODS.createinvoice, request);
  }
  invoice(key: bigint | Hex): Promise<InvoiceView> {
    return this.call(METHODS.invoice, key);
  }
  invoices(query: InvoicesQuery = {}): Promise<InvoiceView[]> {
    return this.call(METHODS.invoices, query);
  }
  cancelInvoice(id: bigint): Promise<InvoiceView> {
    return this.call(METHODS.cancelinvoice, id);
  }
  decodeInvoice(text: string): Promise<DecodedInvoiceView> {
    return this.call(METHODS.decodeinvoice, text);
  }
  addWebhook(request: AddWebhookRequest): Promise<WebhookView> {
    return this.call(METHODS.addwebhook, request);
  }
  webhooks(): Promise<WebhookView[]> {
    return this.call(METHODS.webhooks);
  }
  removeWebhook(id: bigint): Promise<WebhookView> {
    return this.call(METHODS.removewebhook, id);
  }

  estimate(request: EstimateRequest): Promise<EstimateView> {
    return this.call(METHODS.estimate, request);
  }
  listCredits(): Promise<CreditView[]> {
    return this.call(METHODS.credits);
  }

  /** Pays an invoice, directly or through hubs (`route`: explicit); see `NodeApi.payInvoice`. */
  payInvoice(text: string, route?: Address[]): Promise<PaymentView> {
    return this.call(METHODS.payinvoice, text, route);
  }

  /** The locks this node forwarded as a hub, newest first (see `NodeApi.forwards`). */
  forwards(query: ForwardsQuery = {}): Promise<ForwardView[]> {
    return this.call(METHODS.forwards, query);
  }

  /**
   * The node's events (payments, channel statuses, deposits, withdrawals, peers) in id order, from
   * `after`, following new ones as they happen: `for await (const event of client.events()) …`.
   * Reconnects after a lost connection or a node restart without losing or repeating an event.
   */
  events(subscription: EventSubscription = {}): AsyncGenerator<EventView> {
    return subscribeEvents({ url: this.url, token: this.token }, subscription);
  }

  private async call<A extends unknown[], R>(method: Method<A, R>, ...args: A): Promise<R> {
    const encoded = method.encodeArgs(...args);
    const { status, text } =
      verbOf(method.name) === "GET" ? await this.send("GET", `/v1/${method.name}${queryOfBody(encoded)}`) : await this.send("POST", `/v1/${method.name}`, JSON.stringify(encoded));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ApiError("BAD_RESPONSE", `the node answered ${status} with something that is not JSON`, status, undefined, {
        cause: error,
      });
    }
    if (status !== 200) {
      let reply: { error: { code: string; message: string; details?: Json } };
      try {
        reply = errorReply.decode(json, "");
      } catch (error) {
        throw new ApiError("BAD_RESPONSE", `the node answered ${status} without an error body`, status, undefined, { cause: error });
      }
      throw new ApiError(reply.error.code, reply.error.message, status, reply.error.details);
    }
    try {
      return method.result.decode(json, "");
    } catch (error) {
      const field = error instanceof WireFormatError ? `: ${error.message}` : "";
      throw new ApiError("BAD_RESPONSE", `unexpected reply to ${method.name}${field}`, status, undefined, { cause: error });
    }
  }

  private send(verb: "GET" | "POST", path: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.url}${path}`,
        {
          method: verb,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: "application/json",
            ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_REPLY_BYTES) {
              req.destroy(new ApiError("BAD_RESPONSE", `the reply is larger than ${MAX_REPLY_BYTES} bytes`, res.statusCode ?? 0));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (error) => reject(error instanceof ApiError ? error : new ApiUnreachableError(this.url, { cause: error })));
        },
      );
      if (this.timeoutMs !== undefined) {
        req.setTimeout(this.timeoutMs, () => {
          req.destroy(new ApiError("TIMEOUT", `no answer from the node within ${this.timeoutMs} ms`, 0));
        });
      }
      req.on("error", (error) => reject(error instanceof ApiError ? error : new ApiUnreachableError(this.url, { cause: error })));
      req.end(body);
    });
  }
}
