/**
 * The delivery worker: POSTs each stored event to each endpoint whose filter matches, in event
 * order per endpoint, at least once. Each endpoint is its own loop over its outbox (the events after
 * its cursor, store/webhooks.ts): one request at a time, carrying the events waiting then (a batch,
 * signature.ts); a 2xx moves the cursor past the batch, anything else (or no answer within the
 * timeout) schedules the next attempt, from the batch's first event, after an exponential, jittered
 * delay, stored too, so a restart keeps both the place and the schedule. A failing endpoint waits
 * on its own timer: other endpoints and the payment path never wait for it.
 *
 * What a request costs the node (an HTTP exchange, a few hundred µs of CPU) is paid per batch, not
 * per event: while events keep coming, an endpoint's requests start at most every
 * BATCH_INTERVAL_MS, and the events of the wait go together in the next one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidArgumentError } from "../../errors";
import { headOfJson, type EventLog } from "../store/events";
import type { WebhookRecord, WebhookStore } from "../store/webhooks";
import { Connections, postJson } from "./post";
import { EVENT_IDS_HEADER, SIGNATURE_HEADER, signWebhook, webhookBody } from "./signature";

export interface WebhookDeliveryOptions {
  /** The delay before the first retry of an event (ms, default 1,000); it doubles with each failure... */
  initialRetryMs?: number;
  /** ... up to this (ms, default 600,000: 10 minutes). */
  maxRetryMs?: number;
  /** How long one request may take, connecting included (ms, default 10,000). */
  timeoutMs?: number;
  /** Jitter's source in [0, 1) (default Math.random). */
  random?: () => number;
  /** Told of what the worker failed at (a store error; a receiver's failure is recorded on its endpoint). */
  onError?: (error: unknown, what: string) => void;
}

export const DEFAULT_WEBHOOK_DELIVERY = { initialRetryMs: 1_000, maxRetryMs: 600_000, timeoutMs: 10_000 } as const;

/** The most events in one request (and read from the log at a time, per endpoint)... */
export const MAX_BATCH_EVENTS = 500;
/** ... and the most characters of events in one (about as many bytes; an event larger than this goes alone). */
export const MAX_BATCH_CHARS = 256 * 1024;
/** While events keep coming, a request to an endpoint starts at most this often (ms), unless a backlog fills them. */
export const BATCH_INTERVAL_MS = 25;
/** How many events passed over by an endpoint's filter are worth a write of its cursor. */
const PASS_WRITE_EVENTS = 10_000n;
/** How often an endpoint's progress is written while it keeps delivering (ms). */
const CURSOR_WRITE_MS = 1_000;
/** The longest timer Node keeps (ms): a later attempt is rescheduled when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The wait before attempt `failures + 1` at an event that failed `failures` times: between half and
 * all of min(max, initial × 2^(failures - 1)). Below the cap a wait is never shorter than the one
 * before; at the cap the waits stay spread over half of it, so endpoints that failed together
 * don't all come back at once.
 */
export function retryDelay(failures: number, initialMs: number, maxMs: number, random: () => number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 52));
  return Math.round(base / 2 + (random() * base) / 2);
}

interface EndpointLoop {
  running?: Promise<void>;
  /** Events came in while it ran: look again when it ends. */
  again: boolean;
  /** Waiting for the next attempt after a failure. */
  timer?: NodeJS.Timeout;
  /** Cancels the request in flight. */
  abort?: AbortController;
  /** Where the last look found no matching event, if beyond the stored cursor (written now and then, and at stop). */
  scanned?: bigint;
  /** When the last request started (ms), and whether it was full (a backlog: the next one goes at once). */
  sentAt: number;
  full: boolean;
}

export class WebhookDispatcher {
  private readonly loops = new Map<bigint, EndpointLoop>();
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private unlisten: (() => void) | undefined;
  private stopped = true;
  private connections = new Connections();

  constructor(
    private readonly store: WebhookStore,
    private readonly log: EventLog,
    private readonly options: WebhookDeliveryOptions = {},
  ) {
    this.initialRetryMs = positive(options.initialRetryMs, DEFAULT_WEBHOOK_DELIVERY.initialRetryMs, "initialRetryMs");
    this.maxRetryMs = positive(options.maxRetryMs, DEFAULT_WEBHOOK_DELIVERY.maxRetryMs, "maxRetryMs");
    this.timeoutMs = positive(options.timeoutMs, DEFAULT_WEBHOOK_DELIVERY.timeoutMs, "timeoutMs");
    this.random = options.random ?? Math.random;
  }

  /** Starts every endpoint's loop where its outbox stands; the log is followed while there are endpoints. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // The endpoints are read once; the node tells of those it adds (`wake`) and removes (`forget`).
    for (const endpoint of this.store.list()) this.wake(endpoint.id);
  }

  /** Cancels the requests in flight (their events are sent again at the next start) and waits for the loops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    this.unlisten = undefined;
    const running: Promise<void>[] = [];
    for (const loop of this.loops.values()) {
      clearTimeout(loop.timer);
      loop.abort?.abort();
      if (loop.running !== undefined) running.push(loop.running);
    }
    await Promise.all(running);
    for (const [id, loop] of this.loops) {
      try {
        if (loop.scanned !== undefined) this.store.passed(id, loop.scanned);
      } catch (error) {
        this.options.onError?.(error, `saving the place of webhook ${id}`);
      }
    }
    this.loops.clear();
    this.connections.destroy();
    this.connections = new Connections();
  }

  /** Looks at the endpoint's outbox now (a new endpoint), unless it is waiting for a retry. */
  wake(id: bigint): void {
    if (this.stopped) return;
    let loop = this.loops.get(id);
    if (loop === undefined) {
      this.loops.set(id, (loop = { again: false, sentAt: 0, full: false }));
      this.followWhileNeeded();
    }
    if (loop.running !== undefined) {
      loop.again = true;
      return;
    }
    if (loop.timer !== undefined) return;
    const current = loop;
    current.again = false;
    current.running = this.pump(id, current)
      .catch((error: unknown) => this.options.onError?.(error, `delivering to webhook ${id}`))
      .finally(() => {
        current.running = undefined;
        if (current.again) this.wake(id);
      });
  }

  /** Stops the endpoint's loop (it was removed): its request in flight is cancelled. */
  forget(id: bigint): void {
    const loop = this.loops.get(id);
    if (loop === undefined) return;
    clearTimeout(loop.timer);
    loop.abort?.abort();
    this.loops.delete(id);
    this.followWhileNeeded();
  }

  /** Follows the event log while there are endpoints: a node without webhooks pays nothing per commit. */
  private followWhileNeeded(): void {
    if (this.loops.size > 0 && this.unlisten === undefined) {
      this.unlisten = this.log.listen(() => {
        for (const id of this.loops.keys()) this.wake(id);
      });
    } else if (this.loops.size === 0 && this.unlisten !== undefined) {
      this.unlisten();
      this.unlisten = undefined;
    }
  }

  private async pump(id: bigint, loop: EndpointLoop): Promise<void> {
    if (this.stopped || this.loops.get(id) !== loop) return;
    const endpoint = this.store.get(id);
    if (endpoint === null) {
      this.loops.delete(id);
      this.followWhileNeeded();
      return;
    }
    const wait = (endpoint.nextAttemptAt ?? 0) - Date.now();
    if (wait > 0) {
      this.retryIn(id, loop, wait);
      return;
    }
    // Acknowledged events move the stored cursor at most every CURSOR_WRITE_MS, and whenever the
    // loop stops: one commit per event would cost the node a disk sync per event. A node killed
    // in between sends those events again (at least once).
    let cursor = loop.scanned !== undefined && loop.scanned > endpoint.cursor ? loop.scanned : endpoint.cursor;
    let attempts = endpoint.attempts;
    let unsaved = 0;
    let savedAt = Date.now();
    const save = () => {
      if (unsaved > 0) this.store.delivered(id, cursor, unsaved);
      unsaved = 0;
      savedAt = Date.now();
    };
    try {
      for (;;) {
        // Paced only while events keep coming: a drained outbox is recorded at once.
        const pause = loop.full ? 0 : loop.sentAt + BATCH_INTERVAL_MS - Date.now();
        if (pause > 0 && this.log.lastId() > cursor) {
          await sleep(pause);
          if (this.stopped || this.loops.get(id) !== loop) return;
        }
        const last = this.log.lastId();
        const page = this.log.jsonAfter(cursor, MAX_BATCH_EVENTS, endpoint.events);
        if (page.length === 0) {
          save();
          // Nothing for this endpoint up to `last`. Kept in memory, and written only every
          // PASS_WRITE_EVENTS events: an endpoint filtered out of a payment burst costs no disk sync.
          if (last > cursor) {
            loop.scanned = last;
            if (last - endpoint.cursor >= PASS_WRITE_EVENTS) this.store.passed(id, last);
          }
          return;
        }
        const batch = batchOf(page);
        loop.sentAt = Date.now();
        loop.full = batch.events.length === MAX_BATCH_EVENTS || batch.events.length < page.length;
        const failure = await this.deliver(endpoint, batch, loop);
        if (failure === "cancelled" || this.stopped || this.loops.get(id) !== loop) return;
        if (failure === undefined) {
          const recovered = attempts > 0;
          cursor = batch.lastId;
          attempts = 0;
          unsaved += batch.events.length;
          // Back after failures: the stored retry state goes at once (the list shows no stale next attempt).
          if (recovered || Date.now() - savedAt >= CURSOR_WRITE_MS) save();
          continue;
        }
        save();
        const delay = retryDelay(attempts + 1, this.initialRetryMs, this.maxRetryMs, this.random);
        this.store.failed(id, cursor, `events ${batch.ids}: ${failure}`, Date.now() + delay);
        this.retryIn(id, loop, delay);
        return;
      }
    } finally {
      save();
    }
  }

  private retryIn(id: bigint, loop: EndpointLoop, ms: number): void {
    loop.timer = setTimeout(() => {
      loop.timer = undefined;
      this.wake(id);
    }, Math.min(ms, MAX_TIMER_MS));
    loop.timer.unref();
  }

  /** POSTs the batch: undefined if the endpoint answered 2xx, else what went wrong ("cancelled": by stop or forget). */
  private async deliver(endpoint: WebhookRecord, batch: Batch, loop: EndpointLoop): Promise<string | undefined> {
    // Encoded once: the signature and the request use the same bytes.
    const body = Buffer.from(webhookBody(batch.events));
    const headers = {
      "user-agent": "Sluice-Webhooks/2",
      [SIGNATURE_HEADER]: signWebhook(endpoint.secret, body, Math.floor(Date.now() / 1000)),
      [EVENT_IDS_HEADER]: batch.ids,
    };
    loop.abort = new AbortController();
    const outcome = await postJson(new URL(endpoint.url), body, headers, this.timeoutMs, loop.abort.signal, this.connections);
    loop.abort = undefined;
    if ("aborted" in outcome) return "cancelled";
    if ("error" in outcome) return outcome.error;
    return outcome.status >= 200 && outcome.status < 300 ? undefined : `HTTP ${outcome.status}`;
  }
}

/** One request's events, as JSON, and the id range they span (`first-last`). */
interface Batch {
  events: readonly string[];
  ids: string;
  lastId: bigint;
}

/** The first events of `page` (as JSON) within MAX_BATCH_CHARS, at least one. */
function batchOf(page: readonly string[]): Batch {
  let count = 0;
  let chars = 0;
  for (const json of page) {
    chars += json.length;
    if (count > 0 && chars > MAX_BATCH_CHARS) break;
    count++;
  }
  const events = count === page.length ? page : page.slice(0, count);
  const lastId = headOfJson(events[count - 1]).id;
  return { events, ids: `${headOfJson(events[0]).id}-${lastId}`, lastId: BigInt(lastId) };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`webhooks.${name} must be a positive integer of ms, not ${String(value)}`);
  return value;
}
