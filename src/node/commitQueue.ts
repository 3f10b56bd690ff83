import type { AddedPayments, ChannelStore } from "./store";
import type { CheckedForward, ForwardRecord, NewForward } from "./store/forwards";
import type { LockWrite } from "./store/locks";
import type { Hex, SignedState, State } from "../types";

type Write =
  | { kind: "own"; channelId: Hex; state: State; sig: Hex }
  | { kind: "reserve"; channelId: Hex; upTo: bigint }
  | { kind: "countersigned"; channelId: Hex; signed: SignedState; payments: AddedPayments; leaves?: readonly Hex[] }
  | { kind: "memo"; ref: Hex; memo: string }
  | { kind: "locks"; write: LockWrite }
  | { kind: "resynced"; channelId: Hex; reserveUpTo: bigint | null }
  | { kind: "forward"; forward: CheckedForward; stored?: ForwardRecord }
  | { kind: "forward-end"; id: bigint; status: "settled" | "cancelled"; error?: string }
  | { kind: "apply"; fn: () => unknown; outcome?: { value: unknown } | { error: unknown } };

/**
 * One group commit: when it started (ms since the Unix epoch on the high-resolution clock,
 * `performance.timeOrigin + performance.now()`, sub-millisecond; in a long-lived process it may
 * drift from `Date.now()` by seconds), how long it blocked the event loop (ms), how many writes it held.
 */
export interface CommitTiming {
  startedAt: number;
  ms: number;
  writes: number;
}

interface Waiter {
  resolve(committedAt: number): void;
  reject(error: unknown): void;
}

/**
 * Group commit: writes queued in one turn of the event loop go to disk in one transaction (one
 * fsync), and each caller's promise settles only after that transaction committed, with the time
 * the store recorded for the group (unix ms, the store's clock). Writes keep
 * their queue order. If the transaction fails, every write of the group is rejected with the
 * error and none of them is on disk.
 *
 * The commit runs on the event loop (better-sqlite3 is synchronous). A writer thread was tried:
 * on these machines its cross-thread wake-ups cost more than the fsync wait it took off the loop
 * (docs/benchmarks.md).
 */
export class CommitQueue {
  private writes: Write[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;
  /** Groups committed, the writes they held, and the milliseconds the commits blocked the event loop. */
  readonly stats = { groups: 0, writes: 0, ms: 0 };
  private readonly observers = new Set<(timing: CommitTiming) => void>();

  constructor(private readonly store: ChannelStore) {}

  /** Persists the state this node signed, before the signature leaves the process. */
  ownSignature(channelId: Hex, state: State, sig: Hex): Promise<number> {
    return this.enqueue({ kind: "own", channelId, state, sig });
  }

  /** Persists that this node may sign proposals up to version `upTo`, before the first of them leaves the process. */
  reserveVersions(channelId: Hex, upTo: bigint): Promise<number> {
    return this.enqueue({ kind: "reserve", channelId, upTo });
  }

  /** Persists a state both sides signed (with the payments it adds, and their leaves if known: see `recordCountersigned`), before it counts. */
  countersigned(channelId: Hex, signed: SignedState, payments: AddedPayments, leaves?: readonly Hex[]): Promise<number> {
    return this.enqueue({ kind: "countersigned", channelId, signed, payments, leaves });
  }

  /** Keeps the text a payment ref was hashed from (`ChannelStore.putMemo`); queued with the payment's state, it shares its commit. */
  memo(ref: Hex, memo: string): Promise<number> {
    return this.enqueue({ kind: "memo", ref, memo });
  }

  /** Keeps what a countersigned state did to the locks (`LockStore.record`); queued right after the state, it shares its commit. */
  locks(write: LockWrite): Promise<number> {
    return this.enqueue({ kind: "locks", write });
  }

  /** Clears a restored channel's mark (`ChannelStore.markResynced`); queued with the adopted states, it shares their commit. */
  resynced(channelId: Hex, reserveUpTo: bigint | null): Promise<number> {
    return this.enqueue({ kind: "resynced", channelId, reserveUpTo });
  }

  /**
   * Records a hub's forward (`ForwardStore.add`) before its outgoing lock is proposed: the forwards
   * of one turn share a commit. Resolves with the stored forward once it is on disk (the one
   * stored before, if its incoming lock has one). Bad input rejects this call alone, before
   * anything is queued.
   */
  async forward(forward: NewForward): Promise<ForwardRecord> {
    const write: Extract<Write, { kind: "forward" }> = { kind: "forward", forward: this.store.forwards.check(forward) };
    await this.enqueue(write);
    return write.stored!;
  }

  /** Ends a pending forward (`ForwardStore.finish`); queued, it shares the commit of this turn's other writes. */
  finishForward(id: bigint, status: "settled" | "cancelled", error?: string): Promise<number> {
    return this.enqueue({ kind: "forward-end", id, status, error });
  }

  /**
   * Runs `fn` (synchronous store writes) in this turn's group commit and resolves with its result
   * once the group is on disk. `fn` runs in its own savepoint: if it throws, its writes are undone
   * and this call alone rejects with the error; the rest of the group commits.
   */
  async apply<T>(fn: () => T): Promise<T> {
    const write: Extract<Write, { kind: "apply" }> = { kind: "apply", fn };
    await this.enqueue(write);
    if (write.outcome && "error" in write.outcome) throw write.outcome.error;
    return write.outcome!.value as T;
  }

  /**
   * Calls `observer` after each group commit that succeeded, once its writers are settled (to see
   * slow flushes of the disk, for instance). Returns the function that stops it.
   */
  observe(observer: (timing: CommitTiming) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Commits what is queued now, without waiting for the end of the turn (before closing the store). */
  drain(): void {
    this.flush();
  }

  private enqueue(write: Write): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.writes.push(write);
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.writes.length === 0) return;
    const writes = this.writes;
    const waiters = this.waiters;
    this.writes = [];
    this.waiters = [];
    const started = performance.now();
    let committedAt: number;
    try {
      committedAt = this.store.transaction(() => {
        for (const write of writes) {
          if (write.kind === "own") this.store.recordOwnSignature(write.channelId, write.state, write.sig);
          else if (write.kind === "reserve") this.store.reserveVersions(write.channelId, write.upTo);
          else if (write.kind === "memo") this.store.putMemo(write.ref, write.memo);
          else if (write.kind === "locks") this.store.locks.record(write.write);
          else if (write.kind === "resynced") this.store.markResynced(write.channelId, write.reserveUpTo);
          else if (write.kind === "forward") write.stored = this.store.forwards.insert(write.forward);
          else if (write.kind === "forward-end") this.store.forwards.finish(write.id, write.status, write.error);
          else if (write.kind === "apply") write.outcome = this.savepoint(write.fn);
          // The group fails as a whole if one write throws: the state needs no savepoint of its own.
          else this.store.recordCountersignedInGroup(write.channelId, write.signed, write.payments, write.leaves);
        }
        return this.store.now();
      });
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    const ms = performance.now() - started;
    this.stats.groups++;
    this.stats.writes += writes.length;
    this.stats.ms += ms;
    for (const waiter of waiters) waiter.resolve(committedAt);
    if (this.observers.size > 0) this.notify({ startedAt: performance.timeOrigin + started, ms, writes: writes.length });
  }

  private savepoint(fn: () => unknown): { value: unknown } | { error: unknown } {
    try {
      return { value: this.store.transaction(fn) };
    } catch (error) {
      return { error };
    }
  }

  private notify(timing: CommitTiming): void {
    for (const observer of this.observers) {
      try {
        observer(timing);
      } catch {
        // A monitor that fails must not turn a commit that is on disk into an error.
      }
    }
  }
}
