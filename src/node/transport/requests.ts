/**
 * Requests sent and not yet answered, matched by id in any order. Each has a deadline; one timer
 * per connection sweeps them, scanning only once the earliest known deadline has passed.
 */
import type { MessageId } from "./envelope";
import { RequestTimeoutError } from "./errors";
import type { Validator } from "./settings";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  validate: Validator<unknown> | undefined;
  deadline: number;
  timeoutMs: number;
  type: string;
}

export class PendingRequests {
  private readonly pending = new Map<MessageId, Pending>();
  private earliestDeadline = Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly sweepIntervalMs: number;

  /** `defaultTimeoutMs` sets how often deadlines are checked (a tenth of it, 5 to 250 ms). */
  constructor(defaultTimeoutMs: number) {
    this.sweepIntervalMs = Math.max(5, Math.min(250, defaultTimeoutMs / 10));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Waits for the answer to request `id`; rejects with `RequestTimeoutError` after `timeoutMs`. */
  add(id: MessageId, type: string, timeoutMs: number, validate: Validator<unknown> | undefined): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    const promise = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, validate, deadline, timeoutMs, type });
    });
    if (deadline < this.earliestDeadline) this.earliestDeadline = deadline;
    if (this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(this.sweep, this.sweepIntervalMs);
      this.sweepTimer.unref();
    }
    return promise;
  }

  /** The peer's result for `id`, checked by the request's validator. A late answer is dropped. */
  resolve(id: MessageId, body: unknown): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (pending.validate === undefined) {
      pending.resolve(body);
      return;
    }
    try {
      pending.resolve(pending.validate(body));
    } catch (error) {
      pending.reject(error);
    }
  }

  /** Fails request `id`; false if no request waits for that id. */
  reject(id: MessageId | undefined, error: unknown): boolean {
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (pending === undefined) return false;
    this.pending.delete(id as MessageId);
    pending.reject(error);
    return true;
  }

  /** Fails every request (the connection closed) and stops the timer. */
  rejectAll(error: unknown): void {
    this.stop();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }

  private stop(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.earliestDeadline = Infinity;
  }

  private readonly sweep = (): void => {
    if (this.pending.size === 0) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (now < this.earliestDeadline) return;
    let earliest = Infinity;
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(new RequestTimeoutError(p.type, p.timeoutMs));
      } else if (p.deadline < earliest) {
        earliest = p.deadline;
      }
    }
    this.earliestDeadline = earliest;
  };
}
