/**
 * What the node does with what its watcher reads: the watcher's host (the adjudicator's events,
 * the end of each round, reorgs, the endpoint's outages) and the lock guard over its channels.
 */
import type { AdjudicatorDriver, AdjudicatorEvent } from "../chain";
import type { Hex } from "../types";
import type { ChainHealthView } from "./api/types";
import type { ChainClock } from "./chainClock";
import type { ChannelSessions } from "./channelSessions";
import type { Deposits } from "./deposits";
import type { InvoicePayer } from "./invoicePayer";
import type { ChannelLifecycle } from "./lifecycle";
import { LockGuard } from "./lockGuard";
import type { Routing } from "./routing";
import type { ChannelSession } from "./session";
import type { ChannelStore } from "./store";
import type { WatchedChannel, WatcherHost } from "./watcher";
import type { Withdrawals } from "./withdrawals";

export interface ChainEventsHost {
  sessions: ChannelSessions;
  lifecycle: Pick<ChannelLifecycle, "apply">;
  store: Pick<ChannelStore, "sweepExpiredInvoices">;
  clock: Pick<ChainClock, "chainTime" | "recordReveal">;
  deposits: Pick<Deposits, "onDeposited" | "onReorg">;
  withdrawals: Pick<Withdrawals, "taken" | "check">;
  /** The invoices this node pays with locks (made when first needed). */
  invoicePayer(): Pick<InvoicePayer, "expireDue">;
  routing: Pick<Routing, "onSecret">;
  log?(line: string): void;
  onError(error: unknown, what: string): void;
}

export class ChainEvents implements WatcherHost {
  constructor(private readonly host: ChainEventsHost) {}

  lookup(channelId: Hex): WatchedChannel | undefined {
    const session = this.host.sessions.get(channelId);
    return session && { params: session.params, latest: session.latest };
  }

  onEvent(event: AdjudicatorEvent): void {
    const { sessions, lifecycle } = this.host;
    // The watcher hands over only this node's channels; a throw here would stall its cursor for good.
    if ("channelId" in event && event.channelId !== null && sessions.get(event.channelId) === undefined) return;
    switch (event.name) {
      case "Deposited":
        this.host.deposits.onDeposited(event);
        break;
      case "PartiallyWithdrawn":
        this.host.withdrawals.taken(sessions.find(event.channelId), event.participant, event.total, event.transactionHash);
        break;
      case "Challenged":
        lifecycle.apply(event.channelId, "challenged");
        break;
      case "Closed":
        lifecycle.apply(event.channelId, "closed");
        sessions.find(event.channelId).voidWithdrawals();
        break;
      case "Settled":
        lifecycle.apply(event.channelId, "settled");
        sessions.find(event.channelId).voidWithdrawals();
        break;
      case "SecretRevealed":
        void this.host.clock.recordReveal(event.hashlock, event.blockNumber);
        // The guard kept the secret (of a lock of this node) before this: a forward waiting for it unlocks upstream.
        this.host.routing.onSecret(event.hashlock);
        break;
      default:
        break;
    }
  }

  onError(error: unknown, what: string): void {
    this.host.onError(error, what);
  }

  async afterRound(): Promise<void> {
    const { sessions } = this.host;
    // The lock rules' clock follows the chain's (a chain ahead of the wall clock).
    await this.host.clock.chainTime().catch((error: unknown) => this.host.onError(error, "reading the chain's time"));
    for (const session of sessions.values()) if (session.isConnected && !sessions.isConcluded(session.id)) this.host.invoicePayer().expireDue(session);
    this.host.store.sweepExpiredInvoices();
    await this.host.withdrawals.check();
  }

  onReorg(fork: number, depth: number): Promise<void> {
    return this.host.deposits.onReorg(fork, depth);
  }

  onChainHealth(change: "down" | "up", health: ChainHealthView): void {
    this.host.log?.(describeHealth(change, health));
  }
}

export interface GuardedLocksHost {
  store: ChannelStore;
  driver: AdjudicatorDriver;
  sessions: ChannelSessions;
  lifecycle: Pick<ChannelLifecycle, "status">;
  clock: Pick<ChainClock, "lockRules" | "secretReveals">;
  /** Disputes the channel with this node's latest countersigned state. */
  dispute(channelId: Hex): Promise<unknown>;
  onError(error: unknown, what: string): void;
}

/** Keeps every pending lock safe on chain (secrets registered in time, disputes, resolutions after settlement). */
export function guardLocks(host: GuardedLocksHost): LockGuard {
  const { sessions, clock } = host;
  const guarded = (session: ChannelSession) => ({ id: session.id, params: session.params, me: session.me, locks: session.locks });
  return new LockGuard(
    {
      store: host.store,
      driver: host.driver,
      // `closing` (written by earlier versions while their close ran) moves as `open` does.
      live: () =>
        [...sessions.values()]
          .filter((s) => !sessions.isConcluded(s.id))
          .map((s) => ({ ...guarded(s), offChain: ["open", "closing"].includes(host.lifecycle.status(s.id)) })),
      channel: (id) => {
        const session = sessions.get(id);
        return session && guarded(session);
      },
      dispute: (id) => host.dispute(id),
      clock: () => clock.lockRules.clock(),
      reveals: clock.secretReveals,
      onError: (error, what) => host.onError(error, what),
    },
    { revealWindow: clock.lockRules.minLockWindow },
  );
}

/** The log line of an outage of the chain endpoint, or of its end. */
function describeHealth(change: "down" | "up", health: ChainHealthView): string {
  if (change === "down") return `chain endpoint not answering (${health.lastError ?? "no answer"}): payments go on off chain; retrying with backoff`;
  const seconds = health.downSince === undefined ? 0 : Math.round((Date.now() - Number(health.downSince)) / 1000);
  return `chain endpoint answering again after ${health.failures} failed round(s), ${seconds} s; caught up to block ${health.lastBlock ?? "?"}`;
}
