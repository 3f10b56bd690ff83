import type { AddedPayments, ChannelStore } from "./store";
import type { Hex, SignedState, State } from "../types";

type Write =
  | { kind: "own"; channelId: Hex; state: State; sig: Hex }
  | { kind: "countersigned"; channelId: Hex; signed: SignedState; payments: AddedPayments };

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit: writes queued in one turn of the event loop go to disk in one transaction (one
 * fsync), and each caller's promise settles only after that transaction committed. Writes keep
 * their queue order. If the transaction fails, every write of the group is rejected with the
 * error and none of them is on disk.
 */
export class CommitQueue {
  private writes: Write[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;

  constructor(private readonly store: ChannelStore) {}

  /** Persists the state this node signed, before the signature leaves the process. */
  ownSignature(channelId: Hex, state: State, sig: Hex): Promise<void> {
    return this.enqueue({ kind: "own", channelId, state, sig });
  }

  /** Persists a state both sides signed (with the payments it adds), before it counts. */
  countersigned(channelId: Hex, signed: SignedState, payments: AddedPayments): Promise<void> {
    return this.enqueue({ kind: "countersigned", channelId, signed, payments });
  }

  private enqueue(write: Write): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writes.push(write);
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const writes = this.writes;
    const waiters = this.waiters;
    this.writes = [];
    this.waiters = [];
    this.scheduled = false;
    try {
      this.store.transaction(() => {
        for (const write of writes) {
          if (write.kind === "own") this.store.recordOwnSignature(write.channelId, write.state, write.sig);
          else this.store.recordCountersigned(write.channelId, write.signed, write.payments);
        }
      });
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  }
}
