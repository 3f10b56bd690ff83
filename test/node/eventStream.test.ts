/**
 * The SSE stream over a real event log (SQLite in memory) and a real HTTP connection, read with the
 * library's subscriber: pages of the log pass on as stored JSON, a type filter is applied in SQL and
 * the events it skips are not read again, events appended while streaming arrive once each, in order.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import Database from "better-sqlite3";
import { subscribeEvents } from "../../src/node/api/eventClient";
import { eventView, resumePoint, streamEvents, type EventView } from "../../src/node/api/eventStream";
import { EventLog, type EventType } from "../../src/node/store/events";
import { migrate } from "../../src/node/store/migrations";

describe("event stream: pages of stored JSON, filtered in SQL", function () {
  let db: Database.Database;
  let log: EventLog;
  let server: http.Server;
  let url: string;
  /** How many pages the stream read, and of what: every read goes through the log. */
  let reads: { after: bigint; types?: readonly string[]; got: number }[];

  beforeEach(async function () {
    db = new Database(":memory:");
    migrate(db);
    log = new EventLog(db);
    reads = [];
    const feed = {
      jsonAfter: (after: bigint, limit: number, types?: readonly string[]) => {
        const page = log.jsonAfter(after, limit, types);
        reads.push({ after, ...(types === undefined ? {} : { types }), got: page.length });
        return page;
      },
      lastId: () => log.lastId(),
      listen: (listener: () => void) => log.listen(listener),
    };
    server = http.createServer((req, res) => {
      const requestUrl = new URL(req.url ?? "/", "http://localhost");
      streamEvents(feed, req, res, requestUrl, resumePoint(req, requestUrl));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async function () {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
  });

  /** `count` events in one commit, alternating the types given. */
  function append(count: number, types: EventType[]): void {
    db.transaction(() => {
      for (let i = 0; i < count; i++) log.append(types[i % types.length], null, 1_700_000_000_000 + i, { n: String(i) });
    })();
  }

  /** Reads the stream from `after` until `count` events came. */
  async function collect(count: number, options: { after?: bigint; types?: string[] } = {}): Promise<EventView[]> {
    const abort = new AbortController();
    const seen: EventView[] = [];
    const timer = setTimeout(() => abort.abort(), 10_000);
    try {
      for await (const event of subscribeEvents({ url, token: "unused" }, { ...options, signal: abort.signal, reconnect: false })) {
        seen.push(event);
        if (seen.length >= count) break;
      }
    } finally {
      clearTimeout(timer);
    }
    return seen;
  }

  it("streams every event once, in order, across pages and appends made while streaming; each as GET /v1/events shows it", async function () {
    append(1_200, ["invoice.created", "payment.received"]);
    const reading = collect(1_300);
    await new Promise((resolve) => setTimeout(resolve, 50));
    append(100, ["peer.connected"]);
    const seen = await reading;
    expect(seen.map((e) => BigInt(e.id))).to.deep.equal(Array.from({ length: 1_300 }, (_, i) => BigInt(i + 1)));
    expect(seen).to.deep.equal(log.after(0n, 10_000).map(eventView));
  });

  it("keeps only the types asked for, reads past the skipped ones once, and streams nothing for only unknown types", async function () {
    append(1_000, ["invoice.created", "invoice.created", "invoice.created", "payment.received"]);
    const seen = await collect(250, { types: ["payment.received", "no.such.type"] });
    expect(seen.map((e) => e.type)).to.deep.equal(Array(250).fill("payment.received"));
    expect(seen.map((e) => BigInt(e.id))).to.deep.equal(Array.from({ length: 250 }, (_, i) => BigInt(4 * i + 4)));
    expect(reads.every((read) => JSON.stringify(read.types) === '["payment.received"]'), "the filter is the SQL's, unknown types dropped").to.equal(true);

    // Events the filter skips move the stream's place: a later page starts after them.
    reads = [];
    const reading = collect(1, { after: 1_000n, types: ["payment.received"] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    append(3, ["invoice.created"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    append(1, ["payment.received"]);
    const [next] = await reading;
    expect(next).to.include({ id: "1004", type: "payment.received" });
    expect(reads.map((read) => read.after), "each read starts where the one before left off").to.deep.equal([1_000n, 1_000n, 1_003n]);

    reads = [];
    const abort = new AbortController();
    const none = (async () => {
      for await (const event of subscribeEvents({ url, token: "unused" }, { types: ["no.such.type"], signal: abort.signal, reconnect: false })) return event;
      return undefined;
    })();
    append(5, ["payment.received"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    abort.abort();
    expect(await none).to.equal(undefined);
    // (The streams before are still open until their connections close: their reads keep their filter.)
    expect(reads.filter((read) => (read.types?.length ?? 0) === 0), "nothing to match: the log is not read unfiltered").to.deep.equal([]);
  });
});
