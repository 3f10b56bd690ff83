/**
 * The watchtower service (`sluice node start --tower`): listens for client nodes on its own
 * authenticated WebSocket server, keeps the newest state each hands it (book.ts, store.ts), and
 * follows the adjudicator with the node's `ChainWatcher` under a cursor of its own: a watched
 * channel challenged with an older version than the one held is refuted with it before the
 * deadline, and settled once the deadline has passed, with the tower's key paying the gas (the
 * node's transaction sender). Nothing in a handed state pays the tower: the protocol's State has
 * no field for a reward.
 */
import { type AdjudicatorDriver, type AdjudicatorEvent } from "../chain";
import { codeOf, SluiceError } from "../errors";
import { EcdsaVerifier } from "../crypto";
import { ETH, type Hex } from "../types";
import type { TowerServiceView } from "../node/api/types";
import type { ChannelStore } from "../node/store";
import { PeerServer, type PeerConnection, type TransportOptions } from "../node/transport";
import { ChainWatcher, type WatcherHost } from "../node/watcher";
import { TowerBook } from "./book";
import { encodeTowerChannels, encodeTowerStateReply, towerValidators, type TowerMessages } from "./messages";

export interface TowerOptions {
  store: ChannelStore;
  /** The node's driver: its transactions go through the node's sender (fee bumping, durable nonces). */
  driver: AdjudicatorDriver;
  /** The handshake's settings: chain, adjudicator, the node's identity (its key). */
  transport: Omit<TransportOptions<TowerMessages>, "validators" | "handlers" | "mapError">;
  listen?: { host?: string; port?: number };
  pollMs?: number;
  confirmations?: number;
  onError?: (error: unknown, what: string) => void;
  log?: (line: string) => void;
}

/** The tower's watcher cursor in the store (the node's own watcher uses "adjudicator"). */
export const TOWER_CURSOR = "tower";

export class Tower {
  private readonly connected = new Map<string, number>();

  private constructor(
    private readonly options: TowerOptions,
    private readonly server: PeerServer<TowerMessages>,
    private readonly watcher: ChainWatcher,
  ) {}

  static async start(options: TowerOptions): Promise<Tower> {
    const { store, transport } = options;
    const book = new TowerBook(store.tower, new EcdsaVerifier(), transport.chainId, transport.adjudicator);
    const built: { tower?: Tower } = {};
    const server = await PeerServer.listen<TowerMessages>({
      ...transport,
      host: options.listen?.host ?? "127.0.0.1",
      port: options.listen?.port ?? 0,
      validators: towerValidators,
      handlers: {
        "tower.state": (body, client) => {
          const known = store.tower.newest(body.signed.state.channelId) !== undefined;
          const reply = book.accept(client.peerAddress, body.params, body.signed);
          // A channel new to the tower may be challenged already (its event went by unwatched): looked up
          // on chain once. A known one's challenge is followed by the watcher, which reads the newest state held.
          if (reply.stored && !known) built.tower?.recheck(reply.channelId);
          return encodeTowerStateReply(reply);
        },
        "tower.channels": (_body, client) => encodeTowerChannels(store.tower.channelsOf(client.peerAddress)),
      },
      mapError: (error) => (error instanceof SluiceError ? { code: codeOf(error), message: error.message } : undefined),
    });
    const watcher = new ChainWatcher(options.driver, store, towerHost(options), {
      // Credits are the node's own watcher's business: the tower withdraws none (no one credits the zero address).
      owner: ETH,
      cursor: TOWER_CURSOR,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.confirmations === undefined ? {} : { confirmations: options.confirmations }),
    });
    const tower = new Tower(options, server, watcher);
    built.tower = tower;
    server.on("connection", (connection) => tower.attach(connection));
    server.on("error", (error) => options.onError?.(error, "tower server"));
    // Challenges registered while the tower was down: their events are behind its cursor.
    for (const channelId of store.tower.liveChannels()) {
      await watcher.recheck(channelId).catch((error: unknown) => options.onError?.(error, `tower: checking ${channelId}`));
    }
    watcher.start();
    return tower;
  }

  /** ws:// URL clients register at. */
  get url(): string {
    return this.server.url;
  }

  view(): TowerServiceView {
    return {
      url: this.url,
      clients: this.options.store.tower.clients().map((c) => ({
        address: c.address,
        connected: (this.connected.get(c.address.toLowerCase()) ?? 0) > 0,
        channels: c.channels,
        lastSeen: BigInt(c.lastSeen),
      })),
    };
  }

  async stop(): Promise<void> {
    await this.watcher.stop();
    await this.server.close();
  }

  private recheck(channelId: Hex): void {
    this.watcher.recheck(channelId).catch((error: unknown) => this.options.onError?.(error, `tower: checking ${channelId}`));
  }

  private attach(connection: PeerConnection<TowerMessages>): void {
    const key = connection.peerAddress.toLowerCase();
    this.options.store.tower.seen(connection.peerAddress);
    this.connected.set(key, (this.connected.get(key) ?? 0) + 1);
    this.options.log?.(`tower: client ${key} connected`);
    void connection.closed.then(() => this.connected.set(key, (this.connected.get(key) ?? 1) - 1));
  }
}

/** The watcher's view of the tower's channels: the newest state held, until the channel concludes. */
function towerHost(options: TowerOptions): WatcherHost {
  const { store } = options;
  return {
    lookup: (channelId: Hex) => store.tower.newest(channelId),
    onEvent: (event: AdjudicatorEvent) => {
      if (event.name === "Challenged") options.log?.(`tower: channel ${event.channelId} challenged with version ${event.state.version}`);
      if (event.name !== "Closed" && event.name !== "Settled") return;
      store.tower.concluded(event.channelId);
      options.log?.(`tower: channel ${event.channelId} ${event.name === "Closed" ? "closed" : `settled on version ${event.version}`}`);
    },
    onError: (error: unknown, what: string) => options.onError?.(error, `tower: ${what}`),
  };
}
