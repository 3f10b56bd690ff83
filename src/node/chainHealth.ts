/**
 * Whether the chain's RPC endpoint answers, as the watcher's rounds find it, and how long the
 * watcher waits before its next round: its poll interval while the endpoint answers, then twice
 * as long after each failed round, up to MAX_BACKOFF_MS (or 32 poll intervals if that is less).
 */
import type { ChainHealthView } from "./api/types";

const MAX_BACKOFF_MS = 30_000;

export class ChainHealth {
  private failures = 0;
  private downSince: number | undefined;
  private lastError: string | undefined;
  private lastBlock: bigint | undefined;

  constructor(
    private readonly pollMs: number,
    /** Told when the endpoint stops answering (`down`) and when it answers again (`up`). */
    private readonly onChange: (change: "down" | "up", view: ChainHealthView) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A round read the chain up to `head`. */
  succeeded(head: number): void {
    const was = this.view();
    this.lastBlock = BigInt(head);
    if (this.failures === 0) return;
    this.failures = 0;
    this.downSince = undefined;
    this.lastError = undefined;
    this.onChange("up", { ...was, reachable: true, lastBlock: this.lastBlock });
  }

  /** A round could not read the chain. */
  failed(error: unknown): void {
    this.failures++;
    this.lastError = error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500);
    if (this.failures > 1) return;
    this.downSince = this.now();
    this.onChange("down", this.view());
  }

  /** Milliseconds until the next round. */
  get delay(): number {
    if (this.failures === 0) return this.pollMs;
    const cap = Math.max(this.pollMs, Math.min(MAX_BACKOFF_MS, this.pollMs * 32));
    return Math.min(cap, this.pollMs * 2 ** Math.min(this.failures, 20));
  }

  view(): ChainHealthView {
    return {
      reachable: this.failures === 0,
      failures: this.failures,
      ...(this.downSince === undefined ? {} : { downSince: BigInt(this.downSince) }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(this.lastBlock === undefined ? {} : { lastBlock: this.lastBlock }),
    };
  }
}
