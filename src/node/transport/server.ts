/**
 * Listens for peers. Every accepted socket runs the handshake; only authenticated connections are
 * reported ("connection"). Failed attempts are reported as "handshakeFailed" and never disturb the
 * other connections.
 */
import { EventEmitter } from "node:events";
import http, { type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import WebSocket, { WebSocketServer } from "ws";
import { InvalidArgumentError } from "../../errors";
import { authenticate, type AcceptPeer } from "./authenticate";
import { CloseCode, ErrorCode } from "./codes";
import { PeerConnection } from "./connection";
import { errorFrame } from "./envelope";
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

/** The events of a server and their arguments. */
export interface PeerServerEvents<M> {
  /** A peer completed the handshake. Register per-connection handlers here, synchronously. */
  connection: [connection: PeerConnection<M>];
  /** A connection attempt failed its handshake (`error.code` says why); `remote` is the peer's socket address. */
  handshakeFailed: [error: unknown, remote: string];
  error: [error: Error];
}

export class PeerServer<M = Record<string, unknown>> extends EventEmitter<PeerServerEvents<M>> {
  /** Authenticated connections currently open. */
  readonly connections = new Set<PeerConnection<M>>();
  /** Sockets still in the handshake. */
  private readonly handshaking = new Set<WebSocket>();
  /** Aborts the handshakes still running when the server closes. */
  private readonly stopping = new AbortController();
  private readonly maxPendingHandshakes: number;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly http: http.Server,
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
    http.on("upgrade", this.onUpgrade);
    http.on("error", (error: Error) => {
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
      // The HTTP server is ours so that the upgraded TCP socket is too (the connection corks it).
      const server = http.createServer((_request, response) => {
        response.writeHead(426, { "Content-Type": "text/plain" }).end("Upgrade Required");
      });
      const wss = new WebSocketServer({ noServer: true, maxPayload: settings.maxPayloadBytes, perMessageDeflate: false, clientTracking: false });
      server.once("error", reject);
      server.listen(port, host, () => {
        server.removeListener("error", reject);
        const bound = server.address() as AddressInfo;
        resolve(new PeerServer(server, wss, settings, options.acceptPeer, maxPending, host, bound.port));
      });
    });
  }

  /** `ws://host:port` for `connectPeer`. */
  get url(): string {
    const host = this.host.includes(":") ? `[${this.host}]` : this.host;
    return `ws://${host}:${this.port}`;
  }

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onSocket(ws, request, socket));
  };

  private onSocket(ws: WebSocket, request: IncomingMessage, socket: Duplex): void {
    const remote = `${request.socket.remoteAddress ?? "?"}:${request.socket.remotePort ?? "?"}`;
    if (this.closing !== undefined || this.handshaking.size >= this.maxPendingHandshakes) {
      ws.send(errorFrame(undefined, ErrorCode.BUSY, "too many connections in the handshake; try again later"));
      ws.close(CloseCode.TRY_AGAIN_LATER, ErrorCode.BUSY);
      this.emit("handshakeFailed", new HandshakeError(ErrorCode.BUSY, "too many connections in the handshake", false), remote);
      return;
    }
    this.handshaking.add(ws);
    authenticate(ws, "server", this.settings, { accept: this.acceptPeer, signal: this.stopping.signal }).then(
      (authenticated) => {
        this.handshaking.delete(ws);
        const connection = new PeerConnection<M>({ ws, socket }, "server", this.settings, authenticated);
        if (this.closing !== undefined || !connection.isOpen) {
          void connection.close(CloseCode.GOING_AWAY, "server closing");
          return;
        }
        this.connections.add(connection);
        void connection.closed.then(() => this.connections.delete(connection));
        this.emit("connection", connection);
      },
      (error: unknown) => {
        this.emitHandshakeFailed(error, remote, ws);
      },
    );
  }

  private emitHandshakeFailed(error: unknown, remote: string, ws: WebSocket): void {
    // Counted as handshaking until the socket is gone, so that close() can wait for it.
    if (ws.readyState === WebSocket.CLOSED) this.handshaking.delete(ws);
    else ws.once("close", () => this.handshaking.delete(ws));
    this.emit("handshakeFailed", error, remote);
  }

  /** Closes every connection (1001, pending requests reject) and stops listening. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort();
      const sockets = [...this.handshaking].map((ws) => new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(undefined) : ws.once("close", resolve))));
      const closing = [...this.connections].map((c) => c.close(CloseCode.GOING_AWAY, "server closing"));
      await Promise.all([...closing, ...sockets]);
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
    })();
    return this.closing;
  }
}
