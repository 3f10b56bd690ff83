/**
 * A payer's recent `hub-info` answers, per hub asked and relay path: under load every payment
 * through a hub would ask it again. An answer is kept HUB_INFO_TTL_MS (asks meanwhile share it,
 * the one in flight too), and forgotten when a route through that hub fails, so the next payment
 * asks afresh. A stale answer never moves money: each hub checks what it forwards.
 */
import type { Address } from "../../types";
import type { HubInfo } from "../protocol";

/** How long an answer is kept (ms). */
export const HUB_INFO_TTL_MS = 1_000;

export class HubInfoCache {
  private readonly kept = new Map<string, { at: number; info: Promise<HubInfo> }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The kept answer of `peer` (relayed to `via`), or the one `ask` gets (kept unless it fails). */
  get(peer: Address, via: readonly Address[], ask: () => Promise<HubInfo>): Promise<HubInfo> {
    const key = [peer, ...via].join(",").toLowerCase();
    const now = this.now();
    const kept = this.kept.get(key);
    if (kept && now - kept.at < HUB_INFO_TTL_MS) return kept.info;
    const info = ask();
    this.kept.set(key, { at: now, info });
    info.catch(() => {
      if (this.kept.get(key)?.info === info) this.kept.delete(key);
    });
    return info;
  }

  /** Drops every answer asked of `peer` (a route through it failed). */
  forget(peer: Address): void {
    const first = peer.toLowerCase();
    for (const key of this.kept.keys()) if (key.split(",")[0] === first) this.kept.delete(key);
  }
}
