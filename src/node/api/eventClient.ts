/**
 * The client side of `GET /v1/events`: the node's events as an async iterator, in id order,
 * reconnecting after a lost connection or a restarted node with `Last-Event-ID` (so none is lost
 * or seen twice). Ends when the caller breaks out of the loop or `signal` aborts.
 */
import http from "node:http";
import { ApiError, ApiUnreachableError } from "./errors";
import type { EventView } from "./eventStream";

export interface EventSubscription {
  /** Start after this event id (default 0: from the first event the node kept). */
  after?: bigint;
  /** Only these event types. */
  types?: readonly string[];
  /** Reconnect after a lost connection (default true); without it the iterator ends there. */
  reconnect?: boolean;
  /** Wait between reconnection attempts (ms, default 1,000). */
  retryMs?: number;
  signal?: AbortSignal;
}

interface Target {
  url: string;
  token: string;
}

/** Splits a text/event-stream into events (the fields this server sends: id, event, data). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];

  /** Feeds a chunk; returns the data of each event it completed. */
  push(chunk: string): string[] {
    this.buffer += chunk;
    const out: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, end).replace(/\r$/, "");
      this.buffer = this.buffer.slice(end + 1);
      if (line === "") {
        if (this.data.length > 0) out.push(this.data.join("\n"));
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
      // id:, event:, retry: and comments: the data carries the id and the type.
    }
    return out;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Opens the stream once; yields events until it ends. Throws ApiError for an error reply, ApiUnreachableError if it can't connect. */
async function* streamOnce(target: Target, after: bigint, types: readonly string[] | undefined, signal?: AbortSignal): AsyncGenerator<EventView> {
  const query = types && types.length > 0 ? `?types=${encodeURIComponent(types.join(","))}` : "";
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(`${target.url}/v1/events${query}`, {
      method: "GET",
      headers: { authorization: `Bearer ${target.token}`, accept: "text/event-stream", "last-event-id": after.toString() },
      signal,
    });
    req.on("response", resolve);
    req.on("error", (error) => reject(new ApiUnreachableError(target.url, { cause: error })));
    req.end();
  });
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    let message = `the node answered ${res.statusCode} to GET /v1/events`;
    let code = "BAD_RESPONSE";
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { error: { code: string; message: string } };
      ({ code, message } = body.error);
    } catch {
      // Not an error body: the generic message stands.
    }
    throw new ApiError(code, message, res.statusCode ?? 0);
  }
  res.setEncoding("utf8");
  const parser = new SseParser();
  try {
    for await (const chunk of res) {
      for (const data of parser.push(chunk as string)) yield JSON.parse(data) as EventView;
    }
  } catch (error) {
    if (signal?.aborted) return;
    throw new ApiUnreachableError(target.url, { cause: error });
  }
}

/** The node's events from `options.after`, reconnecting as `EventSubscription` says. */
export async function* subscribeEvents(target: Target, options: EventSubscription = {}): AsyncGenerator<EventView> {
  let after = options.after ?? 0n;
  const reconnect = options.reconnect ?? true;
  for (;;) {
    try {
      for await (const event of streamOnce(target, after, options.types, options.signal)) {
        after = BigInt(event.id);
        yield event;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      if (!reconnect || !(error instanceof ApiUnreachableError)) throw error;
    }
    if (!reconnect || options.signal?.aborted) return;
    await sleep(options.retryMs ?? 1_000, options.signal);
    if (options.signal?.aborted) return;
  }
}
