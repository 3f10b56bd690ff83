/**
 * Webhook endpoints and their durable outbox (table `webhooks`, migration 11), over the channel
 * store's database handle. An endpoint's outbox is the event log itself: the events after its
 * `cursor` that match its filter are still to deliver, in id order. Delivering one moves the cursor
 * in a commit of its own, so after a restart delivery resumes at the first event not acknowledged.
 */
import type { Database, Statement } from "better-sqlite3";
import { InvalidRecordError, StoreError } from "./errors";
import type { EventType } from "./events";

export interface NewWebhook {
  url: string;
  /** The event types to deliver; empty: every event. */
  events: readonly EventType[];
  secret: string;
}

export interface WebhookRecord {
  /** This node's number for it: 1, 2, 3, ..., never reused. */
  id: bigint;
  url: string;
  events: EventType[];
  secret: string;
  /** Unix ms. */
  createdAt: number;
  /** The last event id delivered, or passed over because the filter does not match it. */
  cursor: bigint;
  /** Events delivered (2xx answers). */
  delivered: number;
  /** Failed attempts, in all. */
  failures: number;
  /** Failed attempts at the next event, in a row (0: none). */
  attempts: number;
  /** No attempt before this time (unix ms); absent: at once. */
  nextAttemptAt?: number;
  lastError?: string;
  lastErrorAt?: number;
}

interface WebhookRow {
  id: number;
  url: string;
  events: string;
  secret: string;
  created_at: number;
  cursor: number;
  delivered: number;
  failures: number;
  attempts: number;
  next_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

/** The longest error text kept per endpoint. */
const MAX_ERROR_LENGTH = 500;

export class WebhookStore {
  private readonly stInsert: Statement<[string, string, string, number, number]>;
  private readonly stById: Statement<[number], WebhookRow>;
  private readonly stAll: Statement<[], WebhookRow>;
  private readonly stDelete: Statement<[number]>;
  private readonly stDelivered: Statement<[number, number, number]>;
  private readonly stPassed: Statement<[number, number]>;
  private readonly stFailed: Statement<[number, string, number, number, number]>;
  private readonly stLastEvent: Statement<[], number | null>;

  constructor(
    private readonly db: Database,
    /** The clock, in unix milliseconds (the channel store's). */
    private readonly now: () => number,
  ) {
    this.stInsert = db.prepare("INSERT INTO webhooks (url, events, secret, created_at, cursor) VALUES (?, ?, ?, ?, ?)");
    this.stById = db.prepare("SELECT * FROM webhooks WHERE id = ?");
    this.stAll = db.prepare("SELECT * FROM webhooks ORDER BY id");
    this.stDelete = db.prepare("DELETE FROM webhooks WHERE id = ?");
    // A cursor only moves forward.
    this.stDelivered = db.prepare("UPDATE webhooks SET cursor = max(cursor, ?), delivered = delivered + ?, attempts = 0, next_at = NULL WHERE id = ?");
    this.stPassed = db.prepare("UPDATE webhooks SET cursor = max(cursor, ?) WHERE id = ?");
    this.stFailed = db.prepare(
      "UPDATE webhooks SET cursor = max(cursor, ?), failures = failures + 1, attempts = attempts + 1, last_error = ?, last_error_at = ?, next_at = ? WHERE id = ?",
    );
    this.stLastEvent = db.prepare<[], number | null>("SELECT max(id) FROM events").pluck();
  }

  /** Keeps a new endpoint; it is sent the events stored after this call. */
  add(entry: NewWebhook): WebhookRecord {
    const id = this.run(() =>
      this.db
        .transaction(() => this.stInsert.run(entry.url, JSON.stringify(entry.events), entry.secret, this.now(), this.stLastEvent.get() ?? 0).lastInsertRowid)
        .immediate(),
    );
    return this.get(BigInt(id))!;
  }

  /** The endpoint of `id`, or null if there is none (never added, or removed). */
  get(id: bigint): WebhookRecord | null {
    const row = this.run(() => this.stById.get(rowId(id)));
    return row === undefined ? null : record(row);
  }

  list(): WebhookRecord[] {
    return this.run(() => this.stAll.all().map(record));
  }

  /** Removes the endpoint and its outbox; false if there was none. */
  remove(id: bigint): boolean {
    return this.run(() => this.stDelete.run(rowId(id)).changes === 1);
  }

  /** `count` events up to `eventId` were delivered (answered 2xx): the cursor moves to it and the retry state is cleared. */
  delivered(id: bigint, eventId: bigint, count = 1): void {
    if (!Number.isSafeInteger(count) || count < 1) throw new InvalidRecordError("count", count, "expected a positive integer");
    this.run(() => this.stDelivered.run(eventIdOf(eventId), count, rowId(id)));
  }

  /** No event up to `eventId` that the endpoint has not had matches its filter: the cursor moves past them. */
  passed(id: bigint, eventId: bigint): void {
    this.run(() => this.stPassed.run(eventIdOf(eventId), rowId(id)));
  }

  /**
   * An attempt at the next event after `cursor` (delivered or passed over up to there) failed with
   * `error`; no attempt before `nextAt` (unix ms).
   */
  failed(id: bigint, cursor: bigint, error: string, nextAt: number): void {
    this.run(() => this.stFailed.run(eventIdOf(cursor), error.slice(0, MAX_ERROR_LENGTH), this.now(), nextAt, rowId(id)));
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`the webhook store failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

function record(row: WebhookRow): WebhookRecord {
  return {
    id: BigInt(row.id),
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    secret: row.secret,
    createdAt: row.created_at,
    cursor: BigInt(row.cursor),
    delivered: row.delivered,
    failures: row.failures,
    attempts: row.attempts,
    ...(row.next_at === null ? {} : { nextAttemptAt: row.next_at }),
    ...(row.last_error === null ? {} : { lastError: row.last_error }),
    ...(row.last_error_at === null ? {} : { lastErrorAt: row.last_error_at }),
  };
}

/** An endpoint id as the row id it is; one beyond any row's (2^53 - 1 and up) is one no row has. */
function rowId(id: bigint): number {
  if (typeof id !== "bigint" || id < 0n) throw new InvalidRecordError("id", id, "expected a webhook id from 0");
  return id > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(id);
}

function eventIdOf(id: bigint): number {
  if (typeof id !== "bigint" || id < 0n || id > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidRecordError("eventId", id, "expected an event id from 0");
  return Number(id);
}
