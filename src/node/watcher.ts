import { ChainResponseError, type AdjudicatorDriver, type AdjudicatorEvent } from "../chain";
import { ChannelMode } from "../types";
import type { Address, Hex, Params, SignedState, State } from "../types";
import type { ChainHealthView } from "./api/types";
import { ChainHealth } from "./chainHealth";
import type { BlockHash, ChannelStore } from "./store";

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
  /**
   * A reorg replaced the blocks above `fork` (`depth` of the blocks the watcher had read): what
   * was read from them is read again; the node reads its channels' deposits again, since a
   * deposit may be gone.
   */
  onReorg?(fork: number, depth: number): Promise<void>;
  /** The chain endpoint stopped answering (`down`: rounds are retried with backoff) or answers again (`up`). */
  onChainHealth?(change: "down" | "up", health: ChainHealthView): void;
}

export interface WatcherOptions {
  /** This node's address: credits to it are withdrawn. */
  owner: Address;
  /** How often to poll the chain (ms). */
  pollMs?: number;
  /** Name of the cursor in the store. */
  cursor?: string;
  /** How deep an event must be to count: 1 = in the latest block (default 1). */
  confirmations?: number;
  /** What keeps the channels' locks safe on chain (the node's `LockGuard`): told of settlements, resolutions and reorgs, run every round. */
  locks?: WatchedLocks;
}

/** The watcher's view of the lock guard (src/node/lockGuard.ts). */
export interface WatchedLocks {
  /** A confirmed event of one of this node's channels, or any `SecretRevealed`, with the registered state the watcher kept of the channel (if any). */
  onEvent(event: AdjudicatorEvent, registered: State | undefined): void;
  /** After the challenges are defended and settled: registers secrets, disputes, resolves locks. */
  round(): Promise<void>;
  /** A reorg replaced blocks the watcher had read. */
  onReorg(): void;
}

/** Hashes of at least this many recent blocks are kept: a reorg deeper than that rolls back to the oldest kept. */
const KEEP_BLOCKS = 64;
/** The deadline of a close this node follows until confirmed: none (no settlement to make). */
const NO_DEADLINE = 2n ** 64n;

/**
 * Follows the adjudicator's events from the last confirmed block processed (kept in the store, so
 * a restart resumes where it stopped), across RPC errors (a failed poll is retried from the same
 * block, after a wait that doubles with each failed round: `ChainHealth`). An event counts (is handed to the node) once `confirmations` blocks deep; the blocks
 * above are read again every round, their deposits shown as pending. The hashes of the recent
 * blocks are kept in the store with the cursor: one no longer on the chain is a reorg, and the
 * cursor goes back to the fork to read the new blocks. For this node's channels:
 * - a challenge is defended from the round it is seen in, confirmed or not: while the chain's
 *   registered state is older than this node's latest, the latest is sent (a final state closes
 *   the channel instead), again whenever a reorg takes the answer away; a challenge or close this
 *   node made itself is sent again if a reorg takes it away, and so is a settlement (a channel is
 *   followed until its `Closed` or `Settled` event is confirmed);
 * - once a challenge's deadline has passed, the channel is settled on the registered state, which
 *   `settle` takes back: the watcher keeps it from the `Challenged` event (whole in it), and
 *   after a restart reads it from the chain's events again;
 * - the channels' locks are guarded (`options.locks`): secrets registered in time, locks resolved
 *   after a settlement;
 * - payouts credited to this node are withdrawn.
 */
export class ChainWatcher {
  private readonly cursorName: string;
  private readonly pollMs: number;
  private readonly confirmations: number;
  /**
   * Channels in a running challenge: id → deadline (unix seconds), the registered state once
   * known, and `mine` when this node made the challenge.
   */
  private readonly disputes = new Map<Hex, Dispute>();
  /** Cumulative deposits seen in blocks not yet confirmed, by channel id (lower case). */
  private pending = new Map<string, [bigint, bigint]>();
  private readonly chain: ChainHealth;
  private readonly creditedAssets = new Set<Address>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly driver: AdjudicatorDriver,
    private readonly store: ChannelStore,
    private readonly host: WatcherHost,
    private readonly options: WatcherOptions,
  ) {
    this.cursorName = options.cursor ?? "adjudicator";
    this.pollMs = options.pollMs ?? 1_000;
    this.confirmations = options.confirmations ?? 1;
    this.chain = new ChainHealth(this.pollMs, (change, health) => host.onChainHealth?.(change, health));
  }

  /** Whether the chain endpoint answers (the node's status shows it). */
  health(): ChainHealthView {
    return this.chain.view();
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.queued;
  }

  /**
   * One round that starts after this call: new events, then deadlines and credits. Safe to call
   * any time: rounds never overlap; during one, the next is queued (once for all callers).
   */
  poll(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = undefined;
        return this.poll();
      });
      return this.queued;
    }
    this.running = this.round().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => this.schedule(this.chain.delay));
    }, delay);
  }

  /** Each step reports its own failure and does not keep the others from running. */
  private async round(): Promise<void> {
    const steps: [string, () => Promise<void>][] = [
      ["reading events", () => this.followEvents().catch((error: unknown) => {
        this.chain.failed(error);
        throw error;
      })],
      ["defending challenges", () => this.defendAll()],
      ["settling expired challenges", () => this.settleExpired()],
      ["guarding locks", async () => this.options.locks?.round()],
      ["withdrawing credits", () => this.withdrawCredits()],
      ["the end of a round", async () => this.host.afterRound?.()],
    ];
    for (const [what, step] of steps) await step().catch((error: unknown) => this.host.onError(error, what));
  }

  private async followEvents(): Promise<void> {
    await this.detectReorg();
    const head = await this.driver.provider.getBlockNumber();
    const cursor = this.store.getCursor(this.cursorName);
    const from = cursor === null ? 0 : Number(cursor) + 1;
    const hashes = await this.readHashes(head);
    const events = from > head ? [] : await this.driver.events({ fromBlock: from, toBlock: head });
    const confirmed = head - this.confirmations + 1;
    const pending = new Map<string, [bigint, bigint]>();
    // One failing handler must not hold the cursor back: read again, its event would fail again every round.
    for (const event of events) {
      const handled = event.blockNumber <= confirmed ? this.handle(event) : this.early(event, pending);
      await handled.catch((error: unknown) => this.host.onError(error, `handling ${describe(event)}`));
    }
    this.pending = pending;
    this.chain.succeeded(head);
    this.store.advanceCursor(this.cursorName, Math.max(from - 1, confirmed, 0), hashes, Math.max(KEEP_BLOCKS, 2 * this.confirmations));
  }

  /**
   * Compares the newest stored block hash with the chain's; on a difference walks down to the
   * highest one still there (the fork), rolls the cursor back to it and tells the host.
   */
  private async detectReorg(): Promise<void> {
    const known = this.store.blockHashes(this.cursorName);
    if (known.length === 0) return;
    let fork: number | undefined;
    for (const block of known) {
      const onChain = await this.driver.provider.getBlock(block.number);
      if (onChain?.hash?.toLowerCase() === block.hash) {
        fork = block.number;
        break;
      }
    }
    const newest = known[0].number;
    if (fork === newest) return;
    // Deeper than the hashes kept: back to below the oldest of them.
    const at = fork ?? Math.max(0, known[known.length - 1].number - 1);
    this.store.rollBackCursor(this.cursorName, at);
    this.options.locks?.onReorg();
    await this.host.onReorg?.(at, newest - at);
  }

  /** The hashes of the blocks above the newest stored one, up to `head` (at most the last ones kept). */
  private async readHashes(head: number): Promise<BlockHash[]> {
    const newest = this.store.blockHashes(this.cursorName)[0]?.number ?? -1;
    const first = Math.max(newest + 1, head - Math.max(KEEP_BLOCKS, 2 * this.confirmations) + 1, 0);
    const hashes: BlockHash[] = [];
    for (let n = first; n <= head; n++) {
      const block = await this.driver.provider.getBlock(n);
      if (!block?.hash) throw new ChainResponseError(`the chain has no block ${n} below its head ${head}`);
      hashes.push({ number: n, hash: block.hash as Hex });
    }
    return hashes;
  }

  /** An event not yet confirmed: a challenge is defended at once; a deposit is shown as pending. */
  private async early(event: AdjudicatorEvent, pending: Map<string, [bigint, bigint]>): Promise<void> {
    if (!("channelId" in event) || event.channelId === null || !this.host.lookup(event.channelId)) return;
    if (event.name === "Challenged") await this.track(event.channelId, { deadline: event.deadline, state: event.state });
    if (event.name === "Deposited") {
      const key = event.channelId.toLowerCase();
      const seen = pending.get(key) ?? [0n, 0n];
      if (event.deposit > seen[event.participant]) seen[event.participant] = event.deposit;
      pending.set(key, seen);
    }
  }

  private async handle(event: AdjudicatorEvent): Promise<void> {
    switch (event.name) {
      case "Challenged": {
        if (!this.host.lookup(event.channelId)) return;
        await this.track(event.channelId, { deadline: event.deadline, state: event.state });
        break;
      }
      case "Closed":
      case "Settled":
        if (!this.host.lookup(event.channelId)) return;
        this.options.locks?.onEvent(event, this.disputes.get(event.channelId)?.state);
        this.disputes.delete(event.channelId);
        break;
      case "LockResolved":
        if (!this.host.lookup(event.channelId)) return;
        this.options.locks?.onEvent(event, undefined);
        break;
      case "SecretRevealed":
        // Anyone's: the guard keeps the secrets of this node's locks.
        this.options.locks?.onEvent(event, undefined);
        break;
      case "Deposited":
      case "PartiallyWithdrawn":
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

  /**
   * The highest block this watcher has processed as confirmed (undefined before its first round).
   * Its hash, and those of the blocks below it, are kept: a reorg that replaces it is seen by the
   * next round, which rolls back and tells the host. A read of the chain at this block is
   * therefore one a reorg can't silently invalidate; a read at a newer block could be.
   */
  coveredBlock(): number | undefined {
    const cursor = this.store.getCursor(this.cursorName);
    return cursor === null ? undefined : Number(cursor);
  }

  /** Cumulative deposits of each side seen in blocks not yet confirmed (undefined if none). */
  pendingDeposits(channelId: Hex): readonly [bigint, bigint] | undefined {
    return this.pending.get(channelId.toLowerCase());
  }

  /** The state registered in the channel's running challenge, if this watcher has read it. */
  registered(channelId: Hex): State | undefined {
    for (const [id, dispute] of this.disputes) if (id.toLowerCase() === channelId.toLowerCase()) return dispute.state;
    return undefined;
  }

  /**
   * Looks a channel up on chain and takes it into account: at start, for challenges registered
   * while this node was not following (the events before its cursor are not read again), and
   * after this node's own challenge (`mine`: sent again if a reorg takes it away).
   */
  async recheck(channelId: Hex, mine = false): Promise<void> {
    const watched = this.host.lookup(channelId);
    if (!watched) return;
    const status = await this.driver.channelStatus(channelId);
    if (status.mode !== ChannelMode.Challenged) return;
    const known = this.disputes.get(channelId);
    const state = known?.state?.version === status.version ? known.state : undefined;
    await this.track(channelId, { deadline: status.deadline, ...(state === undefined ? {} : { state }), mine: mine || known?.mine === true });
  }

  /**
   * This node closed the channel (a final state): until the `Closed` event is confirmed, the close
   * is sent again if a reorg takes it away.
   */
  concluding(channelId: Hex): void {
    if (!this.host.lookup(channelId)) return;
    const known = this.disputes.get(channelId);
    this.disputes.set(channelId, { deadline: known?.deadline ?? NO_DEADLINE, ...(known?.state ? { state: known.state } : {}), mine: true });
  }

  /** Takes in a challenge of one of this node's channels (keeping what is known of it) and defends it now. */
  private async track(channelId: Hex, seen: Dispute): Promise<void> {
    const known = this.disputes.get(channelId);
    this.disputes.set(channelId, { ...known, ...seen, mine: seen.mine === true || known?.mine === true });
    await this.defend(channelId);
  }

  private async defendAll(): Promise<void> {
    for (const id of [...this.disputes.keys()]) await this.defend(id);
  }

  /**
   * Sends this node's latest state while the chain has an older one registered (and the deadline
   * allows); sends its own challenge again if the chain no longer has it. A challenge of the peer's
   * that a reorg took away is forgotten (its event, if mined again, brings it back).
   */
  private async defend(channelId: Hex): Promise<void> {
    const dispute = this.disputes.get(channelId);
    const watched = this.host.lookup(channelId);
    if (!dispute || !watched) {
      this.disputes.delete(channelId);
      return;
    }
    try {
      const status = await this.driver.channelStatus(channelId);
      if (status.mode === ChannelMode.Open && !dispute.mine) this.disputes.delete(channelId);
      if (status.mode === ChannelMode.Open && dispute.mine) await this.send(watched);
      if (status.mode !== ChannelMode.Challenged || status.version >= watched.latest.state.version) return;
      dispute.deadline = status.deadline;
      const block = await this.driver.provider.getBlock("latest");
      if (block && BigInt(block.timestamp) >= status.deadline) return;
      await this.send(watched);
    } catch (error) {
      this.host.onError(error, `answering the challenge of ${channelId}`);
    }
  }

  /** Registers this node's latest state: closes with a final one, else challenges (the opening one if nothing was signed). */
  private async send(watched: WatchedChannel): Promise<void> {
    const latest = watched.latest;
    if (latest.state.isFinal) await this.driver.close(watched.params, latest);
    else if (latest.state.version === 0n) await this.driver.challengeOpening(watched.params);
    else await this.driver.challenge(watched.params, latest);
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
        // Kept until the confirmed Closed or Settled event: a reorg may take the settlement away.
        const status = await this.driver.channelStatus(id);
        if (status.mode !== ChannelMode.Challenged) continue;
        const registered = state?.version === status.version ? state : await this.driver.registeredState(id);
        await this.driver.settle(watched.params, registered);
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

interface Dispute {
  deadline: bigint;
  state?: State;
  mine?: boolean;
}

/** An event as an error report names it: `Challenged of 0x12…` or `Credited at block 7`. */
function describe(event: AdjudicatorEvent): string {
  const channelId = "channelId" in event ? event.channelId : null;
  return channelId ? `${event.name} of ${channelId}` : `${event.name} at block ${event.blockNumber}`;
}
