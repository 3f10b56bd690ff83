/**
 * `GET /v1/events`: the node's event log as Server-Sent Events (text/event-stream). Each event is
 * `id: N`, `event: <type>` and `data: <EventView as JSON>`; ids rise by one per event and are never
 * reused, so a subscriber resumes exactly where it stopped with the `Last-Event-ID` header (what a
 * browser's EventSource sends when it reconnects) or `?after=N`, across restarts of either side:
 * nothing lost, nothing twice. `?types=a,b` keeps only those types (ids still rise; they skip). A
 * comment line every `keepAliveMs` keeps proxies from closing an idle stream.
 */
import type http from "node:http";
import type { EventRecord, EventType, RawEventRecord } from "../store/events";
import { WireFormatError, type Json } from "./wire";

/** The node's event log as the stream reads it (`EventLog` in the store). */
export interface EventFeed {
  rawAfter(after: bigint, limit: number): RawEventRecord[];
  listen(listener: () => void): () => void;
}

/** An event as the API shows it (JSON): ids and amounts as decimal strings. */
export interface EventView {
  id: string;
  type: EventType;
  channelId?: string;
  /** When the node stored it (unix ms). */
  at: number;
  data: { [key: string]: Json };
}

const PAGE = 500;
const DEFAULT_KEEP_ALIVE_MS = 15_000;

export function eventView(event: EventRecord): EventView {
  return {
    id: event.id.toString(),
    type: event.type,
    ...(event.channelId === undefined ? {} : { channelId: event.channelId }),
    at: event.at,
    data: event.data,
  };
}

/**
 * `JSON.stringify(eventView(event))` of an event read raw: its data spliced in as stored (written by
 * `JSON.stringify`), so passing an event on costs no parse and no re-serialization of it.
 */
export function eventJson(event: RawEventRecord): string {
  const channel = event.channelId === undefined ? "" : `,"channelId":${JSON.stringify(event.channelId)}`;
  return `{"id":"${event.id}","type":${JSON.stringify(event.type)}${channel},"at":${event.at},"data":${event.data}}`;
}

/** Where a subscriber resumes: after the id of `Last-Event-ID`, else of `?after=`, else 0 (from the first event). */
export function resumePoint(req: http.IncomingMessage, url: URL): bigint {
  const header = req.headers["last-event-id"];
  const given = typeof header === "string" && header !== "" ? header : url.searchParams.get("after");
  if (given === null || given === "") return 0n;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(given)) {
    throw new WireFormatError(typeof header === "string" && header !== "" ? "Last-Event-ID" : "after", `expected an event id (a decimal integer from 0), got ${JSON.stringify(given)}`);
  }
  return BigInt(given);
}

function typeFilter(url: URL): ((type: EventType) => boolean) | undefined {
  const types = url.searchParams.get("types");
  if (types === null || types === "") return undefined;
  const wanted = new Set(types.split(","));
  return (type) => wanted.has(type);
}

/** Streams the feed to `res` from `after` until the client goes away (or `stop` is called). */
export function streamEvents(feed: EventFeed, req: http.IncomingMessage, res: http.ServerResponse, url: URL, after: bigint, keepAliveMs = DEFAULT_KEEP_ALIVE_MS): void {
  const keep = typeFilter(url);
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-accel-buffering": "no",
  });
  res.write("retry: 1000\n\n");
  let last = after;
  let closed = false;
  let pumping = false;
  let again = false;

  const pump = async (): Promise<void> => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = true;
    try {
      do {
        again = false;
        for (;;) {
          if (closed) return;
          const page = feed.rawAfter(last, PAGE);
          if (page.length === 0) break;
          let chunk = "";
          for (const event of page) {
            if (keep === undefined || keep(event.type)) {
              chunk += `id: ${event.id}\nevent: ${event.type}\ndata: ${eventJson(event)}\n\n`;
            }
          }
          last = page[page.length - 1].id;
          if (chunk !== "" && !res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
          // A short page was the end of the log: events appended since wake the pump again.
          if (page.length < PAGE) break;
        }
      } while (again);
    } finally {
      pumping = false;
    }
  };

  const fail = () => {
    // The log could not be read: end the stream; the client reconnects with its last id.
    closed = true;
    res.end();
  };
  const unlisten = feed.listen(() => void pump().catch(fail));
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs);
  keepAlive.unref();
  const stop = () => {
    closed = true;
    unlisten();
    clearInterval(keepAlive);
  };
  req.on("close", stop);
  res.on("close", stop);
  void pump().catch(fail);
}
