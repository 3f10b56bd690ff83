import type Database from "better-sqlite3";
import type { Hex } from "../../types";
import { InvalidRecordError } from "./errors";

/**
 * What a user of a node cares about, each an event: payments, channel statuses, deposits,
 * withdrawals, peers. The store writes a change's event in the transaction of the change, so the
 * event log and the data never disagree.
 */
export const EVENT_TYPES = [
  "payment.sent",
  "payment.received",
  "channel.opening",
  "channel.open",
  "channel.closing",
  "channel.disputed",
  "channel.closed",
  "channel.settled",
  "channel.abandoned",
  "channel.deposit",
  "channel.withdrawn",
  "channel.restored",
  "channel.resynced",
  "withdrawal.proposed",
  "withdrawal.signed",
  "withdrawal.executed",
  "withdrawal.expired",
  "withdrawal.refused",
  "withdrawal.void",
  "invoice.created",
  "invoice.paid",
  "invoice.cancelled",
  "invoice.expired",
  "lock.added",
  "lock.settled",
  "lock.cancelled",
  "lock.expired",
  "lock.registered",
  "lock.resolved",
  "lock.forwarded",
  "forward.settled",
  "forward.cancelled",
  "peer.connected",
  "peer.disconnected",
  "chain.tx.sent",
  "chain.tx.replaced",
  "chain.tx.confirmed",
  "chain.tx.failed",
  "chain.rpc.switched",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** An event's fields: JSON values, bigints as decimal strings. */
export type EventData = { [key: string]: string | number | boolean | null | string[] };

/** One stored event: ids rise by one per event, from 1, and are never reused. */
export interface EventRecord {
  id: bigint;
  type: EventType;
  channelId?: Hex;
  /** When it was stored (unix ms, the store's clock). */
  at: number;
  data: EventData;
}

interface EventRow {
  id: number;
  type: EventType;
  chan: Hex | null;
  at: number;
  data: string;
}

/**
 * An event as the API shows it (`EventView`, api/eventStream.ts) as JSON text, built by SQLite:
 * `{"id":"<id>","type":"<type>"[,"channelId":"<chan>"],"at":<at>,"data":<data as stored>}`, exactly
 * what `JSON.stringify(eventView(event))` gives (the type and channel id need no escaping; the data
 * was written by `JSON.stringify`). Readers that only pass events on (the event stream, webhooks)
 * then cost no object, parse or serialization per event.
 */
const VIEW_JSON = `'{"id":"' || id || '","type":"' || type || '"' || CASE WHEN chan IS NULL THEN '' ELSE ',"channelId":"' || chan || '"' END || ',"at":' || at || ',"data":' || data || '}'`;
/** Where the id starts in a VIEW_JSON text, and what is between its end and the type. */
const ID_AT = '{"id":"'.length;
const TYPE_AFTER_ID = '","type":"'.length;

/** The id and the type at the head of a `jsonAfter` text (no parse of the rest). */
export function headOfJson(json: string): { id: string; type: string } {
  const idEnd = json.indexOf('"', ID_AT);
  const typeAt = idEnd + TYPE_AFTER_ID;
  return { id: json.slice(ID_AT, idEnd), type: json.slice(typeAt, json.indexOf('"', typeAt)) };
}

/** The most events one read returns, and how many a read returns by default. */
export const MAX_EVENTS_PAGE = 10_000;
export const DEFAULT_EVENTS_PAGE = 1_000;

/**
 * The `events` table: appends inside the caller's transaction, reads in id order, and wakes
 * listeners once per turn of the event loop in which events were appended (by then the
 * transaction has committed or rolled back; a listener reads what is on disk).
 */
export class EventLog {
  private readonly stAppend: Database.Statement<[string, Hex | null, number, string]>;
  private readonly stLast: Database.Statement<[], number | null>;
  private readonly stPages = new Map<string, Database.Statement<unknown[]>>();
  private readonly listeners = new Set<() => void>();
  private wakeScheduled = false;
  private stPaymentTotals: Database.Statement<[number, number], { chan: Hex; type: "payment.sent" | "payment.received"; count: number; amount: number }> | undefined;

  constructor(private readonly db: Database.Database) {
    this.stAppend = db.prepare("INSERT INTO events (type, chan, at, data) VALUES (?, ?, ?, ?)");
    this.stLast = db.prepare<[], number | null>("SELECT max(id) FROM events").pluck();
  }

  /** Appends an event; call it inside the transaction of the change it reports. */
  append(type: EventType, channelId: Hex | null, at: number, data: EventData): void {
    this.stAppend.run(type, channelId, at, JSON.stringify(data));
    if (this.listeners.size > 0 && !this.wakeScheduled) {
      this.wakeScheduled = true;
      setImmediate(() => this.wake());
    }
  }

  /** Events with an id above `after`, in id order, at most `limit`; only those of `types` if given. */
  after(after: bigint, limit: number, types?: readonly string[]): EventRecord[] {
    const rows = this.page("id, type, chan, at, data", after, limit, types) as EventRow[];
    return rows.map((row) => ({
      id: BigInt(row.id),
      type: row.type,
      ...(row.chan === null ? {} : { channelId: row.chan }),
      at: row.at,
      data: JSON.parse(row.data) as EventData,
    }));
  }

  /** As `after`, each event as the API's JSON text of it (VIEW_JSON; `headOfJson` reads its id and type). */
  jsonAfter(after: bigint, limit: number, types?: readonly string[]): string[] {
    return this.page(VIEW_JSON, after, limit, types, true) as string[];
  }

  private page(columns: string, after: bigint, limit: number, types: readonly string[] | undefined, pluck = false): unknown[] {
    if (typeof after !== "bigint" || after < 0n || after > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InvalidRecordError("after", after, "expected an event id from 0");
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_EVENTS_PAGE) {
      throw new InvalidRecordError("limit", limit, `expected an integer in [1, ${MAX_EVENTS_PAGE}]`);
    }
    const count = types?.length ?? 0;
    return this.statement(columns, count, pluck).all(Number(after), ...(types ?? []), limit);
  }

  /** The statement of a page of `columns` filtered by `count` types, 0: none (a webhook or a stream reads page after page). */
  private statement(columns: string, count: number, pluck: boolean): Database.Statement<unknown[]> {
    const key = `${count}:${columns}`;
    let statement = this.stPages.get(key);
    if (statement === undefined) {
      const marks = Array.from({ length: count }, () => "?").join(", ");
      statement = this.db.prepare<unknown[]>(`SELECT ${columns} FROM events WHERE id > ?${count === 0 ? "" : ` AND type IN (${marks})`} ORDER BY id LIMIT ?`);
      if (pluck) statement.pluck();
      this.stPages.set(key, statement);
    }
    return statement;
  }

  /** The id of the last event, 0n if none. */
  lastId(): bigint {
    return BigInt(this.stLast.get() ?? 0);
  }

  /**
   * The payment events above `after`, counted and summed by channel and type in SQLite (the
   * metrics read this at each scrape); the amounts as float64. `lastId` is where the next read starts.
   */
  paymentTotals(after: bigint): { lastId: bigint; totals: { channelId: Hex; type: "payment.sent" | "payment.received"; count: number; amount: number }[] } {
    this.stPaymentTotals ??= this.db.prepare<[number, number], { chan: Hex; type: "payment.sent" | "payment.received"; count: number; amount: number }>(
      `SELECT chan, type, count(*) AS count, total(CAST(json_extract(data, '$.amount') AS REAL)) AS amount FROM events
       WHERE id > ? AND id <= ? AND type IN ('payment.sent', 'payment.received') GROUP BY chan, type`,
    );
    const lastId = this.lastId();
    const rows = lastId > after ? this.stPaymentTotals.all(Number(after), Number(lastId)) : [];
    return { lastId, totals: rows.map((r) => ({ channelId: r.chan, type: r.type, count: r.count, amount: r.amount })) };
  }

  /** Calls `listener` after events were appended (at most once per turn). Returns the function that stops it. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private wake(): void {
    this.wakeScheduled = false;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own; the others still hear of the events.
      }
    }
  }
}
