/**
 * A node's link to its watchtower (`--tower-url`): hands the tower its channels' countersigned
 * states, read from the store (so only states on disk), off the payment path. The queue keeps only
 * the newest state per channel and is sent in the background, one request at a time; the tower
 * acknowledges each with the version it holds. After a (re)connect the client asks which versions
 * the tower holds and hands what is missing; before a clean stop it hands every channel's latest.
 *
 * `every` N: a state is handed once it is at least N versions past the last one handed (N = 1:
 * every state). Between two, a challenge with a state in the gap is refuted by the tower with an
 * older state than the node's latest: fewer messages, less protection while the node is down.
 */
import type { Address, Hex, Params, SignedState } from "../types";
import { decodeTowerChannels, decodeTowerStateReply, encodeTowerState } from "../tower/messages";
import type { TowerLinkView } from "./api/types";
import { isConcluded } from "./lifecycle";
import type { ChannelStore } from "./store";
import { ReconnectingPeer, type PeerConnection, type TransportOptions } from "./transport";

export interface TowerClientOptions {
  url: string;
  /** The address the tower must prove in the handshake (default: any). */
  address?: Address;
  /** Hand a state once it is at least this many versions past the last one handed (default 1). */
  every?: number;
  /** The handshake's settings (the node's chain, adjudicator and key). */
  transport: Omit<TransportOptions<Record<string, never>>, "validators" | "handlers">;
  /** The node's store: the states handed are read from it (so only states on disk); its events wake the link. */
  store: ChannelStore;
  onError(error: unknown, what: string): void;
  /** Longest wait for the tower's acknowledgements at a clean stop (ms, default 5,000). */
  flushMs?: number;
}

/** Events that follow a countersigned state of their channel. */
const STATE_EVENTS = ["payment.sent", "payment.received", "lock.added", "lock.settled", "lock.cancelled", "lock.expired"];
const EVENTS_PAGE = 1_000;

export class TowerClient {
  private readonly dialer: ReconnectingPeer<Record<string, never>>;
  private readonly every: bigint;
  /** The version last queued or sent, per channel (lower-case id): the `every` rule counts from it. */
  private readonly handed = new Map<string, bigint>();
  private readonly acked = new Map<string, bigint>();
  /** The newest state to send per channel. */
  private readonly queue = new Map<string, { params: Params; signed: SignedState }>();
  private pumping: Promise<void> | undefined;
  private cursor: bigint;
  private stopListening: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: TowerClientOptions) {
    this.every = BigInt(options.every ?? 1);
    this.cursor = options.store.events.lastId();
    const expected = options.address === undefined ? {} : { expectedPeer: options.address };
    this.dialer = new ReconnectingPeer<Record<string, never>>(options.url, { ...options.transport, ...expected, validators: {} });
    this.dialer.on("connected", (connection) => void this.onConnected(connection));
    this.dialer.on("connectFailed", (error) => options.onError(error, `dialing the tower at ${options.url}`));
  }

  start(): void {
    this.stopListening = this.options.store.events.listen(() => this.readEvents());
    this.dialer.start();
  }

  view(): TowerLinkView {
    const connection = this.dialer.connection;
    return {
      url: this.options.url,
      connected: connection !== undefined,
      ...(connection === undefined ? {} : { address: connection.peerAddress }),
      acknowledged: [...this.acked].map(([channelId, version]) => ({ channelId: channelId as Hex, version })),
    };
  }

  /** Hands every channel's latest state (waiting up to `flushMs` for the acknowledgements), then disconnects. */
  async stop(): Promise<void> {
    this.stopListening?.();
    if (this.dialer.connection) {
      for (const channelId of this.liveChannels()) this.consider(channelId, true);
      const deadline = Date.now() + (this.options.flushMs ?? 5_000);
      while ((this.queue.size > 0 || this.pumping) && this.dialer.connection && Date.now() < deadline) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.pump(), new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now())))]);
        clearTimeout(timer);
      }
    }
    this.stopped = true;
    await this.dialer.close();
  }

  /** The channels of the events appended since the last look: each one's latest state may be due. */
  private readEvents(): void {
    try {
      const channels = new Set<Hex>();
      for (;;) {
        const page = this.options.store.events.after(this.cursor, EVENTS_PAGE, STATE_EVENTS);
        for (const event of page) if (event.channelId !== undefined) channels.add(event.channelId);
        if (page.length > 0) this.cursor = page[page.length - 1].id;
        if (page.length < EVENTS_PAGE) break;
      }
      for (const channelId of channels) this.consider(channelId, false);
      void this.pump();
    } catch (error) {
      this.options.onError(error, "reading the events for the tower");
    }
  }

  /** Queues the channel's latest state if it is due (`all`: if it is newer than the one last handed at all). */
  private consider(channelId: Hex, all: boolean): void {
    const latest = this.latest(channelId);
    if (!latest || latest.signed.state.version === 0n) return;
    const key = channelId.toLowerCase();
    const version = latest.signed.state.version;
    const last = this.handed.get(key);
    const due = all ? last === undefined || version > last : version >= (last ?? 0n) + this.every;
    if (!due) return;
    this.handed.set(key, version);
    this.queue.set(key, latest);
  }

  /** The channels that can still be disputed (protocol v2: the node skips older ones). */
  private liveChannels(): Hex[] {
    return this.options.store
      .listChannels()
      .filter((record) => record.protocol === 2 && !isConcluded(record.status))
      .map((record) => record.channelId);
  }

  /** A channel's params and its latest countersigned state on disk (undefined before the first). */
  private latest(channelId: Hex): { params: Params; signed: SignedState } | undefined {
    const record = this.options.store.getChannel(channelId);
    const signed = record === null ? null : this.options.store.latest(channelId);
    return record === null || signed === null ? undefined : { params: record.params, signed };
  }

  /** After a (re)connect: learns what the tower holds, then hands what it misses (or what is due). */
  private async onConnected(connection: PeerConnection<Record<string, never>>): Promise<void> {
    try {
      const held = decodeTowerChannels(await connection.request("tower.channels", {}));
      for (const { channelId, version } of held) {
        const key = channelId.toLowerCase();
        this.acked.set(key, version);
        this.handed.set(key, version);
      }
      for (const channelId of this.liveChannels()) {
        const key = channelId.toLowerCase();
        // A channel the tower doesn't hold gets its latest at once; one it holds, by the `every` rule.
        this.consider(channelId, !this.acked.has(key));
      }
      await this.pump();
    } catch (error) {
      this.options.onError(error, `registering with the tower at ${this.options.url}`);
    }
  }

  /** Sends the queue in the background, one state at a time, while connected. */
  private pump(): Promise<void> {
    if (this.pumping) return this.pumping;
    const run = this.sendQueued().finally(() => {
      this.pumping = undefined;
      // Queued while the last answer was awaited and after the loop looked.
      if (this.queue.size > 0 && this.dialer.connection && !this.stopped) void this.pump();
    });
    this.pumping = run;
    return run;
  }

  /** A failure leaves the state queued (unless a newer one is) until the next connection. */
  private async sendQueued(): Promise<void> {
    for (;;) {
      const connection = this.dialer.connection;
      const next = this.queue.entries().next();
      if (this.stopped || connection === undefined || next.done === true) return;
      const [key, item] = next.value;
      this.queue.delete(key);
      try {
        const reply = decodeTowerStateReply(await connection.request("tower.state", encodeTowerState(item)));
        const known = this.acked.get(key);
        if (known === undefined || reply.version > known) this.acked.set(key, reply.version);
      } catch (error) {
        if (!connection.isOpen && !this.queue.has(key)) this.queue.set(key, item);
        this.options.onError(error, `handing version ${item.signed.state.version} of ${key} to the tower`);
        if (!connection.isOpen) return;
      }
    }
  }
}
