/**
 * The node's peers: the server they dial in to, a dialer per peer this node reaches out to, the
 * open connection with each, and the channels shared with a peer resuming on its new connection.
 */
import { SluiceError, codeOf } from "../errors";
import type { Address } from "../types";
import type { ChannelSessions } from "./channelSessions";
import { OpenPeerRejectedError, OpenPeerUnreachableError, OpenPeerUrlMismatchError, samePeerUrl, withinTime } from "./open";
import { peerValidators, type PeerMessages } from "./protocol";
import type { ChannelSession } from "./session";
import type { ChannelStore } from "./store";
import { HandshakeError, PeerServer, ReconnectingPeer, type Handlers, type PeerConnection, type TransportOptions } from "./transport";

/** The transport settings of the node: its key, chain and adjudicator, the limits given in its options. */
export type PeerTransport = Omit<TransportOptions<PeerMessages>, "validators" | "handlers" | "mapError">;

export interface PeersHost {
  /** Known once the node has read its chain. */
  transport(): PeerTransport;
  /** What the node answers to its peers' requests. */
  handlers: Handlers<PeerMessages>;
  sessions: ChannelSessions;
  store: Pick<ChannelStore, "setPeerUrl" | "appendEvent">;
  /** A channel shared with a peer resynced on a new connection with it. */
  resumed(session: ChannelSession): void;
  onError(error: unknown, what: string): void;
}

export class Peers {
  /** Open connections by peer address (lower case). */
  private readonly connections = new Map<string, PeerConnection<PeerMessages>>();
  private readonly dialers = new Map<string, ReconnectingPeer<PeerMessages>>();
  private server: PeerServer<PeerMessages> | undefined;

  constructor(private readonly host: PeersHost) {}

  /** ws:// URL peers connect to. */
  get url(): string {
    if (!this.server) throw new SluiceError("the node is not started");
    return this.server.url;
  }

  async listen(host: string, port: number): Promise<void> {
    this.server = await PeerServer.listen<PeerMessages>({ ...this.transportOptions(), host, port });
    this.server.on("connection", (connection) => this.attach(connection));
    this.server.on("error", (error) => this.host.onError(error, "peer server"));
  }

  /** The connection with `peer`, open or closing, if any. */
  connection(peer: Address): PeerConnection<PeerMessages> | undefined {
    return this.connections.get(peer.toLowerCase());
  }

  /** How many connections are open. */
  openCount(): number {
    return [...this.connections.values()].filter((connection) => connection.isOpen).length;
  }

  /**
   * The first two stages of `open`: the peer is reached and proves `peer`'s address. A connection
   * already open with `peer` is used as it is, unless the node dialled it at another URL than
   * `url` (a mistyped port, say): that is refused at once (`OpenPeerUrlMismatchError`). Otherwise
   * a dialer of its own tries `url` until the reach time limit; a refused handshake (another
   * address, chain or contract) fails at once. Only a dialer that connected replaces the peer's
   * known one: a failed open leaves no dialer behind and no other connection touched.
   */
  async connectForOpen(url: string, peer: Address, reachMs: number): Promise<PeerConnection<PeerMessages>> {
    const existing = this.connections.get(peer.toLowerCase());
    if (existing?.isOpen) {
      // A peer that dialled in is used as it is: where it listens is not known here.
      const known = this.dialers.get(peer.toLowerCase())?.url;
      if (known !== undefined && !samePeerUrl(known, url)) throw new OpenPeerUrlMismatchError(peer.toLowerCase(), url, known);
      return existing;
    }
    const dialer = this.newDialer(url, peer);
    let lastError: unknown;
    let onFailed: ((error: unknown) => void) | undefined;
    const refused = new Promise<never>((_, reject) => {
      onFailed = (error: unknown): void => {
        lastError = error;
        if (error instanceof HandshakeError) reject(new OpenPeerRejectedError(peer, url, error.detail, { cause: error }));
      };
      dialer.on("connectFailed", onFailed);
      dialer.on("gaveUp", onFailed);
    });
    try {
      const connection = await withinTime(
        Promise.race([dialer.start().waitForConnection(), refused]),
        reachMs,
        () => new OpenPeerUnreachableError(url, reachMs, { cause: lastError }),
      );
      this.adoptDialer(peer, dialer);
      // Kept for redials only once the peer proved itself at this URL.
      this.host.store.setPeerUrl(peer, url);
      return connection;
    } catch (error) {
      await dialer.close().catch(() => undefined);
      throw error;
    } finally {
      if (onFailed) {
        dialer.off("connectFailed", onFailed);
        dialer.off("gaveUp", onFailed);
      }
    }
  }

  dial(url: string, peer: Address): ReconnectingPeer<PeerMessages> {
    const known = this.dialers.get(peer.toLowerCase());
    // One dialer per peer, restarted if it gave up.
    if (known?.url === url) return known.start();
    const dialer = this.newDialer(url, peer);
    this.adoptDialer(peer, dialer);
    dialer.start();
    return dialer;
  }

  /** Asks the peer of `session` to read the channel's deposits again (this node just deposited); a peer not connected reads them in its own time. */
  async askRefresh(session: ChannelSession): Promise<void> {
    const connection = this.connections.get(session.peerAddress.toLowerCase());
    if (connection?.isOpen) await connection.request("refresh", { channelId: session.id }).catch(() => undefined);
  }

  /** Stops dialling, closes every connection, then the server. */
  async close(): Promise<void> {
    for (const dialer of this.dialers.values()) await dialer.close();
    this.dialers.clear();
    for (const connection of this.connections.values()) await connection.close().catch(() => undefined);
    this.connections.clear();
    await this.server?.close();
  }

  private transportOptions(): TransportOptions<PeerMessages> {
    return {
      ...this.host.transport(),
      validators: peerValidators,
      handlers: this.host.handlers,
      mapError: (error) => (error instanceof SluiceError ? { code: codeOf(error), message: error.message } : undefined),
    };
  }

  /** A dialer of `peer` at `url`, not started: its connections attach to the node. */
  private newDialer(url: string, peer: Address): ReconnectingPeer<PeerMessages> {
    const dialer = new ReconnectingPeer<PeerMessages>(url, { ...this.transportOptions(), expectedPeer: peer });
    dialer.on("connected", (connection) => this.attach(connection));
    dialer.on("connectFailed", (error) => this.host.onError(error, `dialing ${peer}`));
    return dialer;
  }

  /** `dialer` becomes the peer's dialer; another one it had (an older URL) stops. */
  private adoptDialer(peer: Address, dialer: ReconnectingPeer<PeerMessages>): void {
    const key = peer.toLowerCase();
    const known = this.dialers.get(key);
    if (known && known !== dialer) {
      known.close().catch((error: unknown) => this.host.onError(error, `closing the dialer of ${peer}`));
    }
    this.dialers.set(key, dialer);
  }

  /** A new connection with a peer: every channel shared with it resumes on it. */
  private attach(connection: PeerConnection<PeerMessages>): void {
    const key = connection.peerAddress.toLowerCase();
    this.connections.set(key, connection);
    this.peerEvent("peer.connected", connection.peerAddress);
    connection.once("close", () => {
      if (this.connections.get(key) === connection) this.connections.delete(key);
      this.peerEvent("peer.disconnected", connection.peerAddress);
    });
    for (const session of this.host.sessions.values()) {
      if (session.peerAddress.toLowerCase() !== key || this.host.sessions.isConcluded(session.id)) continue;
      session.attach(connection).then(
        () => this.host.resumed(session),
        (error: unknown) => this.host.onError(error, `resyncing ${session.id}`),
      );
    }
  }

  private peerEvent(type: "peer.connected" | "peer.disconnected", peer: Address): void {
    try {
      this.host.store.appendEvent(type, null, { peer: peer.toLowerCase() });
    } catch (error) {
      // A store closed under a connection closing at shutdown: the event is lost, nothing else.
      this.host.onError(error, `recording ${type}`);
    }
  }
}
