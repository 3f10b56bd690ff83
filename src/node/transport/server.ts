/**
 * Listens for peers. Every accepted socket runs the handshake; only authenticated connections are
 * reported ("connection"). Failed attempts are reported as "handshakeFailed" and never disturb the
 * other connections.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import { InvalidArgumentError } from "../../errors";
import { CloseCode, ErrorCode } from "./codes";
import { PeerConnection, type AcceptPeer } from "./connection";
import { HandshakeError } from "./errors";
import { resolveSettings, type Settings, type TransportOptions } from "./settings";

export interface PeerServerOptions<M> extends TransportOptions<M> {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port to bind; 0 (the default) picks a free one, see `port`. */
  port?: number;
  /** Decides whether a peer that proved its address may connect (default: everyone). */
  acceptPeer?: AcceptPeer;
  /** Connections still in the handshake at once; more are refused with BUSY (default 256). */
  maxPendingHandshakes?: number;
}

export interface PeerServer<M> {
  /** A peer completed the handshake. Register per-connection handlers here, synchronously. */
  on(event: "connection", listener: (connection: PeerConnection<M>) => void): this;
  /** A connection attempt failed its handshake (`error.code` says why); `remote` is the peer's socket address. */
  on(event: "handshakeFailed", listener: (error: unknown, remote: string) => void): this;
  on(event: "error", listener: (error: Error) => void): this;
  once(event: "connection", listener: (connection: PeerConnection<M>) => void): this;
  once(event: "handshakeFailed", listener: (error: unknown, remote: string) => void): this;
}

export class PeerServer<M = Record<string, unknown>> extends EventEmitter {
  /** Authenticated connections currently open. */
  readonly connections = new Set<PeerConnection<M>>();
  private readonly all = new Set<PeerConnection<M>>();
  private handshaking = 0;
  private readonly maxPendingHandshakes: number;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly wss: WebSocketServer,
    private readonly settings: Settings<M>,
    private readonly acceptPeer: AcceptPeer | undefined,
    maxPendingHandshakes: number,
    /** The bound interface. */
    readonly host: string,
    /** The bound port (the real one when 0 was asked for). */
    readonly port: number,
  ) {
    super();
    this.maxPendingHandshakes = maxPendingHandshakes;
    wss.on("connection", this.onSocket);
    wss.on("error", (error: Error) => {
      if (this.listenerCount("error") > 0) this.emit("error", error);
    });
  }

  /** Binds and resolves once listening. */
  static listen<M>(options: PeerServerOptions<M>): Promise<PeerServer<M>> {
    const settings = resolveSettings(options);
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? 0;
    const maxPending = options.maxPendingHandshakes ?? 256;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`invalid port ${port}`);
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host,
        port,
        maxPayload: settings.maxPayloadBytes,
        perMessageDeflate: false,
        clientTracking: false,
      });
      const onError = (error: Error): void => reject(error);
      wss.once("error", onError);
      wss.once("listening", () => {
        wss.removeListener("error", onError);
        const bound = wss.address() as AddressInfo;
        resolve(new PeerServer(wss, settings, options.acceptPeer, maxPending, host, bound.port));
      });
    });
  }

  /** `ws://host:port` for `connectPeer`. */
  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  private readonly onSocket = (ws: WebSocket, request: IncomingMessage): void => {
    const remote = `${request.socket.remoteAddress ?? "?"}:${request.socket.remotePort ?? "?"}`;
    if (this.closing !== undefined || this.handshaking >= this.maxPendingHandshakes) {
      ws.send(JSON.stringify({ type: "error", body: { code: ErrorCode.BUSY, message: "too many connections in the handshake; try again later" } }));
      ws.close(CloseCode.TRY_AGAIN_LATER, ErrorCode.BUSY);
      this.emit("handshakeFailed", new HandshakeError(ErrorCode.BUSY, "too many connections in the handshake", false), remote);
      return;
    }
    const connection = new PeerConnection<M>(ws, "server", this.settings);
    this.handshaking++;
    this.all.add(connection);
    void connection.closed.then(() => {
      this.all.delete(connection);
      this.connections.delete(connection);
    });
    connection.beginServer(this.acceptPeer).then(
      (open) => {
        this.handshaking--;
        if (!open.isOpen) return;
        this.connections.add(open);
        this.emit("connection", open);
      },
      (error: unknown) => {
        this.handshaking--;
        this.emit("handshakeFailed", error, remote);
      },
    );
  };

  /** Closes every connection (1001, pending requests reject) and stops listening. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closing = [...this.all].map((c) => c.close(CloseCode.GOING_AWAY, "server closing"));
      await Promise.all(closing);
      await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    })();
    return this.closing;
  }
}
