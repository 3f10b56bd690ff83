/**
 * The `route-failed` messages a node received: kept by hashlock until the lock they explain comes
 * back cancelled (a hub relays it upstream, a payer rejects its payment with it).
 */
import type { Address, Hex } from "../../types";
import type { RouteFailure } from "../protocol";

/** Failures kept at most (the oldest go first). */
const MAX_KEPT = 10_000;

export class RouteFailures {
  private readonly byHashlock = new Map<string, { from: string; failure: RouteFailure }>();

  /** Keeps `failure`, sent by the peer `from`. */
  note(failure: RouteFailure, from: Address): void {
    if (this.byHashlock.size >= MAX_KEPT) this.byHashlock.delete(this.byHashlock.keys().next().value!);
    this.byHashlock.set(failure.hashlock.toLowerCase(), { from: from.toLowerCase(), failure });
  }

  /** The failure of `hashlock` sent by `from` (once), or undefined. */
  take(hashlock: Hex, from: Address): RouteFailure | undefined {
    const key = hashlock.toLowerCase();
    const kept = this.byHashlock.get(key);
    if (kept?.from !== from.toLowerCase()) return undefined;
    this.byHashlock.delete(key);
    return kept.failure;
  }
}
