/** What the node's metrics read at scrape time. */
import type { ChannelSessions } from "./channelSessions";
import type { ChannelLifecycle } from "./lifecycle";
import type { GaugeSource, NodeGauges } from "./metrics";
import type { ChannelStore } from "./store";
import type { ChainWatcher } from "./watcher";

export interface GaugeSources {
  sessions: ChannelSessions;
  lifecycle: Pick<ChannelLifecycle, "status">;
  /** Peers with an open connection. */
  peerConnections: () => number;
  /** The node's watcher, once started. */
  watcher: () => Pick<ChainWatcher, "health"> | undefined;
}

export function nodeGauges({ sessions, lifecycle, peerConnections, watcher }: GaugeSources): NodeGauges {
  return {
    channelStatuses: () => [...sessions.values()].map((session) => lifecycle.status(session.id)),
    pendingLocks: () => [...sessions.values()].reduce((sum, session) => sum + session.lockCount, 0),
    peerConnections,
    chainReachable: () => watcher()?.health().reachable,
    assetOf: (channelId) => sessions.get(channelId)?.params.asset,
  };
}

/** Events stored and not yet delivered, summed over the webhook endpoints. */
export function webhookBacklog(store: Pick<ChannelStore, "events" | "webhooks">): GaugeSource {
  return {
    name: "sluice_webhook_backlog_events",
    help: "Events stored and not yet delivered, summed over the webhook endpoints (an endpoint's filter not counted)",
    read: () => {
      const last = store.events.lastId();
      return store.webhooks.list().reduce((sum, hook) => sum + Number(last - hook.cursor), 0);
    },
  };
}
