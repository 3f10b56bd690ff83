/**
 * A payer's recent `hub-info` answers, per hub asked and relay path: under load every payment
 * through a hub would ask it again. An answer is fresh HUB_INFO_TTL_MS (asks meanwhile share it,
 * the one in flight too); older, up to HUB_INFO_STALE_MS, it is still given at once while a fresh
 * one is asked in the background (so a payment does not wait a round trip for it). An answer is
 * forgotten when a route through that hub fails, so the next payment asks afresh. A stale answer
 * never moves money: each hub checks what it forwards.
 */
import type { Address } from "../../types";
import type { HubInfo } from "../protocol";

/** How long an answer is fresh (ms). */
export const HUB_INFO_TTL_MS = 1_000;
/** How long an answer may still be used while a fresh one is asked (ms). */
export const HUB_INFO_STALE_MS = 30_000;

interface Kept {
  at: number;
  info: Promise<HubInfo>;
  /** A fresh answer being asked in the background (the kept one is given meanwhile). */
  refreshing?: boolean;
}

export class HubInfoCache {
  private readonly kept = new Map<string, Kept>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The kept answer of `peer` (relayed to `via`), or the one `ask` gets (kept unless it fails). */
  get(peer: Address, via: readonly Address[], ask: () => Promise<HubInfo>): Promise<HubInfo> {
    const key = [peer, ...via].join(",").toLowerCase();
    const now = this.now();
    const kept = this.kept.get(key);
    if (kept && now - kept.at < HUB_INFO_TTL_MS) return kept.info;
    if (kept && now - kept.at < HUB_INFO_STALE_MS) {
      if (!kept.refreshing) this.refresh(key, kept, ask);
      return kept.info;
    }
    return this.ask(key, now, ask);
  }

  /** Drops every answer asked of `peer` (a route through it failed). */
  forget(peer: Address): void {
    const first = peer.toLowerCase();
    for (const key of this.kept.keys()) if (key.split(",")[0] === first) this.kept.delete(key);
  }

  private ask(key: string, now: number, ask: () => Promise<HubInfo>): Promise<HubInfo> {
    const info = ask();
    this.kept.set(key, { at: now, info });
    info.catch(() => {
      if (this.kept.get(key)?.info === info) this.kept.delete(key);
    });
    return info;
  }

  /** Asks again in the background; the answer replaces `kept` unless it was forgotten meanwhile. */
  private refresh(key: string, kept: Kept, ask: () => Promise<HubInfo>): void {
    kept.refreshing = true;
    const at = this.now();
    ask().then(
      (info) => {
        if (this.kept.get(key) === kept) this.kept.set(key, { at, info: Promise.resolve(info) });
      },
      () => {
        if (this.kept.get(key) === kept) this.kept.delete(key);
      },
    );
  }
}
