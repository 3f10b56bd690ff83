import type { AdjudicatorDriver, AdjudicatorEvent } from "../chain";
import { ChannelMode } from "../types";
import type { Address, Hex, Params, SignedState, State } from "../types";
import type { ChannelStore } from "./store";

/** What the watcher needs to know of one of this node's channels. */
export interface WatchedChannel {
  params: Params;
  /** This node's latest countersigned state (version 0 and unsigned before any update). */
  latest: SignedState;
}

/** The node, as the watcher sees it. */
export interface WatcherHost {
  /** This node's channel with that id, or undefined for anyone else's. */
  lookup(channelId: Hex): WatchedChannel | undefined;
  /**
   * Every event of one of this node's channels (and its own credits), after the watcher acted on
   * it. A throw is reported to `onError` and the watcher goes on with the next event: the event is
   * not handed over again.
   */
  onEvent(event: AdjudicatorEvent): void;
  /** Something the watcher tried failed; it retries on the next poll. */
  onError(error: unknown, what: string): void;
  /** Runs at the end of every round, after the events (the node checks its pending withdrawals there). */
  afterRound?(): Promise<void>;
}

export interface WatcherOptions {
  /** This node's address: credits to it are withdrawn. */
  owner: Address;
  /** How often to poll the chain (ms). */
  pollMs?: number;
  /** Name of the cursor in the store. */
  cursor?: string;
}

/**
 * Follows the adjudicator's events from the last processed block (kept in the store, so a
 * restart resumes where it stopped), across RPC errors (a failed poll is retried from the same
 * block). For this node's channels:
 * - a challenge with an older state than this node's latest is answered with the latest before
 *   the deadline (a final state closes the channel at once instead);
 * - once a challenge's deadline has passed, the channel is settled on the registered state, which
 *   `settle` takes back: the watcher keeps it from the `Challenged` event (whole in it), and
 *   after a restart reads it from the chain's events again;
 * - payouts credited to this node are withdrawn.
 */
export class ChainWatcher {
  private readonly cursorName: string;
  private readonly pollMs: number;
  /** Channels in a running challenge: id → deadline (unix seconds) and the registered state, once known. */
  private readonly disputes = new Map<Hex, { deadline: bigint; state?: State }>();
  private readonly creditedAssets = new Set<Address>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly driver: AdjudicatorDriver,
    private readonly store: ChannelStore,
    private readonly host: WatcherHost,
    private readonly options: WatcherOptions,
  ) {
    this.cursorName = options.cursor ?? "adjudicator";
    this.pollMs = options.pollMs ?? 1_000;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: new events, then deadlines and credits. Safe to call any time (rounds never overlap). */
  poll(): Promise<void> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule(this.pollMs));
    }, delay);
  }

  /** Each step reports its own failure and does not keep the others from running. */
  private async round(): Promise<void> {
    const steps: [string, () => Promise<void>][] = [
      ["reading events", () => this.followEvents()],
      ["settling expired challenges", () => this.settleExpired()],
      ["withdrawing credits", () => this.withdrawCredits()],
      ["the end of a round", async () => this.host.afterRound?.()],
    ];
    for (const [what, step] of steps) await step().catch((error: unknown) => this.host.onError(error, what));
  }

  private async followEvents(): Promise<void> {
    const head = await this.driver.provider.getBlockNumber();
    const cursor = this.store.getCursor(this.cursorName);
    const from = cursor === null ? 0 : Number(cursor) + 1;
    if (from > head) return;
    const events = await this.driver.events({ fromBlock: from, toBlock: head });
    // One failing handler must not hold the cursor back: read again, its event would fail again every round.
    for (const event of events) {
      await this.handle(event).catch((error: unknown) => this.host.onError(error, `handling ${describe(event)}`));
    }
    this.store.setCursor(this.cursorName, head);
  }

  private async handle(event: AdjudicatorEvent): Promise<void> {
    switch (event.name) {
      case "Challenged": {
        const watched = this.host.lookup(event.channelId);
        if (!watched) return;
        this.disputes.set(event.channelId, { deadline: event.deadline, state: event.state });
        await this.answer(event.channelId, event.state.version, event.deadline, watched);
        break;
      }
      case "Closed":
      case "Settled":
        if (!this.host.lookup(event.channelId)) return;
        this.disputes.delete(event.channelId);
        break;
      case "Deposited":
      case "PartiallyWithdrawn":
      case "LockResolved":
        // Every node follows the whole adjudicator: other channels' events are not this node's.
        if (!this.host.lookup(event.channelId)) return;
        break;
      case "Credited":
      case "Withdrawn":
        if (event.owner.toLowerCase() !== this.options.owner.toLowerCase()) return;
        if (event.name === "Credited") this.creditedAssets.add(event.asset);
        break;
    }
    this.host.onEvent(event);
  }

  /** The state registered in the channel's running challenge, if this watcher has read it. */
  registered(channelId: Hex): State | undefined {
    for (const [id, dispute] of this.disputes) if (id.toLowerCase() === channelId.toLowerCase()) return dispute.state;
    return undefined;
  }

  /**
   * Looks a channel up on chain and takes it into account: at start, for challenges registered
   * while this node was not following (the events before its cursor are not read again).
   */
  async recheck(channelId: Hex): Promise<void> {
    const watched = this.host.lookup(channelId);
    if (!watched) return;
    const status = await this.driver.channelStatus(channelId);
    if (status.mode !== ChannelMode.Challenged) return;
    const known = this.disputes.get(channelId);
    const state = known?.state?.version === status.version ? known.state : undefined;
    this.disputes.set(channelId, state === undefined ? { deadline: status.deadline } : { deadline: status.deadline, state });
    await this.answer(channelId, status.version, status.deadline, watched);
  }

  /** Answers a challenge with this node's newer state, if it has one and the deadline allows. */
  private async answer(channelId: Hex, registered: bigint, deadline: bigint, watched: WatchedChannel): Promise<void> {
    const latest = watched.latest;
    if (latest.state.version <= registered) return;
    const block = await this.driver.provider.getBlock("latest");
    if (block && BigInt(block.timestamp) >= deadline) return;
    try {
      if (latest.state.isFinal) await this.driver.close(watched.params, latest);
      else await this.driver.challenge(watched.params, latest);
    } catch (error) {
      this.host.onError(error, `answering the challenge of ${channelId}`);
    }
  }

  private async settleExpired(): Promise<void> {
    if (this.disputes.size === 0) return;
    const block = await this.driver.provider.getBlock("latest");
    if (!block) return;
    const now = BigInt(block.timestamp);
    for (const [id, { deadline, state }] of this.disputes) {
      if (now < deadline) continue;
      const watched = this.host.lookup(id);
      if (!watched) {
        this.disputes.delete(id);
        continue;
      }
      try {
        const status = await this.driver.channelStatus(id);
        if (status.mode !== ChannelMode.Challenged) {
          this.disputes.delete(id);
          continue;
        }
        const registered = state?.version === status.version ? state : await this.driver.registeredState(id);
        await this.driver.settle(watched.params, registered);
        this.disputes.delete(id);
      } catch (error) {
        this.host.onError(error, `settling ${id}`);
      }
    }
  }

  private async withdrawCredits(): Promise<void> {
    for (const asset of this.creditedAssets) {
      try {
        const owed = await this.driver.credits(this.options.owner, asset);
        if (owed === 0n) {
          this.creditedAssets.delete(asset);
          continue;
        }
        await this.driver.withdraw(asset);
        this.creditedAssets.delete(asset);
      } catch (error) {
        this.host.onError(error, `withdrawing ${asset}`);
      }
    }
  }
}

/** An event as an error report names it: `Challenged of 0x12…` or `Credited at block 7`. */
function describe(event: AdjudicatorEvent): string {
  const channelId = "channelId" in event ? event.channelId : null;
  return channelId ? `${event.name} of ${channelId}` : `${event.name} at block ${event.blockNumber}`;
}
