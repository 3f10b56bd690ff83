/**
 * `GET /v1/events`: the node's event log as Server-Sent Events (text/event-stream). Each event is
 * `id: N`, `event: <type>` and `data: <EventView as JSON>`; ids rise by one per event and are never
 * reused, so a subscriber resumes exactly where it stopped with the `Last-Event-ID` header (what a
 * browser's EventSource sends when it reconnects) or `?after=N`, across restarts of either side:
 * nothing lost, nothing twice. `?types=a,b` keeps only those types (ids still rise; they skip). A
 * comment line every `keepAliveMs` keeps proxies from closing an idle stream.
 */
import type http from "node:http";
import { EVENT_TYPES, headOfJson, type EventRecord, type EventType } from "../store/events";
import { WireFormatError, type Json } from "./wire";

/** The node's event log as the stream reads it (`EventLog` in the store). */
export interface EventFeed {
  /** The events after `after` as their views' JSON text (EventLog.jsonAfter), of `types` only if given. */
  jsonAfter(after: bigint, limit: number, types?: readonly string[]): string[];
  lastId(): bigint;
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

/** The known types of `?types=` (none of them: nothing matches), or undefined: every event. */
function typeFilter(url: URL): EventType[] | undefined {
  const types = url.searchParams.get("types");
  if (types === null || types === "") return undefined;
  const wanted = new Set(types.split(","));
  return EVENT_TYPES.filter((type) => wanted.has(type));
}

/** Streams the feed to `res` from `after` until the client goes away (or `stop` is called). */
export function streamEvents(feed: EventFeed, req: http.IncomingMessage, res: http.ServerResponse, url: URL, after: bigint, keepAliveMs = DEFAULT_KEEP_ALIVE_MS): void {
  const types = typeFilter(url);
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
          if (closed || types?.length === 0) return;
          const end = feed.lastId();
          const page = feed.jsonAfter(last, PAGE, types);
          let chunk = "";
          for (const json of page) {
            const { id, type } = headOfJson(json);
            chunk += `id: ${id}\nevent: ${type}\ndata: ${json}\n\n`;
          }
          if (page.length > 0) last = BigInt(headOfJson(page[page.length - 1]).id);
          if (chunk !== "" && !res.write(chunk)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
          // A short page holds every match up to `end`: the events a filter skips are not read again.
          if (page.length < PAGE) {
            if (end > last) last = end;
            break;
          }
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
