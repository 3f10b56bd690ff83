/** Dialling a peer, once (`connectPeer`) or for good (`ReconnectingPeer`). */
import { EventEmitter } from "node:events";
import net from "node:net";
import tls from "node:tls";
import WebSocket from "ws";
import type { Address } from "../../types";
import { authenticate } from "./authenticate";
import { PeerConnection, type RequestOptions } from "./connection";
import { ErrorCode } from "./codes";
import { ConnectionClosedError, HandshakeError } from "./errors";
import { resolveSettings, type Settings, type TransportOptions } from "./settings";
import type { Corkable } from "./writer";

export interface ConnectOptions<M> extends TransportOptions<M> {
  /** The address the server must prove; another one is refused with PEER_REJECTED. */
  expectedPeer?: Address;
}

/** As ws connects by TLS: the server name is the host unless it is an IP address. */
function tlsConnect(options: { host?: string; servername?: string }): tls.TLSSocket {
  const servername = options.servername ?? (net.isIP(options.host ?? "") ? "" : options.host);
  return tls.connect({ ...options, path: undefined, servername } as tls.ConnectionOptions);
}

/**
 * Dials `url` and authenticates the server; the connection exists only once it has. The TCP socket
 * is created here (ws's `createConnection` option) so that the connection can cork it.
 */
async function dial<M>(url: string, settings: Settings<M>, expectedPeer: Address | undefined): Promise<PeerConnection<M>> {
  let socket: Corkable | undefined;
  const ws = new WebSocket(url, {
    maxPayload: settings.maxPayloadBytes,
    perMessageDeflate: false,
    handshakeTimeout: settings.handshakeTimeoutMs,
    createConnection: ((options: { socketPath?: string; host?: string; servername?: string }) => {
      const created = url.startsWith("wss:") ? tlsConnect(options) : net.connect({ ...options, path: options.socketPath } as net.NetConnectOpts);
      socket = created;
      return created;
    }) as unknown as typeof net.createConnection,
  });
  const authenticated = await authenticate(ws, "client", settings, { expectedPeer, url });
  return new PeerConnection<M>({ ws, socket }, "client", settings, authenticated, url);
}

/**
 * Connects to a peer at `url` (`ws://127.0.0.1:port`) and runs the handshake. Resolves with the
 * authenticated connection, or rejects with `HandshakeError` (its `code` says why: CHAIN_MISMATCH,
 * PEER_REJECTED, HANDSHAKE_TIMEOUT, …) or `ConnectFailedError`.
 */
export function connectPeer<M>(url: string, options: ConnectOptions<M>): Promise<PeerConnection<M>> {
  return dial(url, resolveSettings(options), options.expectedPeer);
}

export interface ReconnectOptions<M> extends ConnectOptions<M> {
  /** First retry delay (default 100 ms); doubles per failed attempt up to `maxDelayMs`, with jitter. */
  minDelayMs?: number;
  /** Longest retry delay (default 5,000 ms). */
  maxDelayMs?: number;
  /**
   * Refused handshakes in a row (the peer proved another address than `expectedPeer`, refused
   * ours, or works on another chain or contract) after which dialling stops with "gaveUp"
   * (default 5). A refusal is not a network failure: retrying at the usual pace only floods the
   * peer with attempts it will refuse again.
   */
  maxRejections?: number;
  /** Delay after the first refused handshake (default 1,000 ms); doubles per refusal, up to 60 s. */
  rejectedDelayMs?: number;
}

/** Handshake failures that a retry would meet again: the peer or this side refused the other. */
const REFUSALS: ReadonlySet<string> = new Set([ErrorCode.PEER_REJECTED, ErrorCode.CHAIN_MISMATCH, ErrorCode.ADJUDICATOR_MISMATCH, ErrorCode.HANDSHAKE_FAILED]);
const MAX_REJECTED_DELAY_MS = 60_000;

function isRefusal(error: unknown): error is HandshakeError {
  return error instanceof HandshakeError && REFUSALS.has(error.code);
}

/** The events of a `ReconnectingPeer` and their arguments. */
export interface ReconnectingPeerEvents<M> {
  /** A (re)connection completed the handshake. `reconnect` is true after a disconnect: resync now. */
  connected: [connection: PeerConnection<M>, reconnect: boolean];
  /** The connection dropped; a reconnect is scheduled (unless `close` was called). */
  disconnected: [error: ConnectionClosedError];
  /** An attempt failed; the next one follows after `delayMs`. */
  connectFailed: [error: unknown, attempt: number, delayMs: number];
  /** `maxRejections` handshakes in a row were refused: dialling stopped (`start` begins a new round). */
  gaveUp: [error: HandshakeError, attempts: number];
}

/**
 * Keeps a connection to one peer: dials, and after any disconnect or failed attempt dials again
 * with exponential backoff. The node listens to "connected" (with `reconnect` true) to resync its
 * channels with the peer. Refused handshakes back off from a longer delay and, after
 * `maxRejections` in a row, stop the dialling ("gaveUp").
 */
export class ReconnectingPeer<M = Record<string, unknown>> extends EventEmitter<ReconnectingPeerEvents<M>> {
  private readonly settings: Settings<M>;
  private current: PeerConnection<M> | undefined;
  private attempt = 0;
  private rejections = 0;
  private refusal: HandshakeError | undefined;
  private everConnected = false;
  private stopped = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRejections: number;
  private readonly rejectedDelayMs: number;

  constructor(
    readonly url: string,
    private readonly options: ReconnectOptions<M>,
  ) {
    super();
    this.settings = resolveSettings(options);
    this.minDelayMs = options.minDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.maxRejections = options.maxRejections ?? 5;
    this.rejectedDelayMs = options.rejectedDelayMs ?? 1_000;
  }

  /** Starts dialling (idempotent); after "gaveUp", starts a new round of attempts. */
  start(): this {
    if (this.stopped) return this;
    if (this.refusal !== undefined) {
      this.refusal = undefined;
      this.rejections = 0;
      this.attempt = 0;
      this.dialOnce();
    } else if (!this.started) {
      this.started = true;
      this.dialOnce();
    }
    return this;
  }

  /** The refusal that stopped the dialling ("gaveUp"), until `start` is called again. */
  get gaveUpWith(): HandshakeError | undefined {
    return this.refusal;
  }

  /** The open connection, if any. */
  get connection(): PeerConnection<M> | undefined {
    return this.current?.isOpen ? this.current : undefined;
  }

  /** Resolves with the open connection, waiting for the next one if needed; rejects once dialling gave up. */
  waitForConnection(): Promise<PeerConnection<M>> {
    const open = this.connection;
    if (open) return Promise.resolve(open);
    if (this.refusal !== undefined) return Promise.reject(this.refusal);
    return new Promise((resolve, reject) => {
      const onConnected = (connection: PeerConnection<M>): void => {
        this.off("gaveUp", onGaveUp);
        resolve(connection);
      };
      const onGaveUp = (error: HandshakeError): void => {
        this.off("connected", onConnected);
        reject(error);
      };
      this.once("connected", onConnected);
      this.once("gaveUp", onGaveUp);
    });
  }

  /** A request over the current connection; rejects with `ConnectionClosedError` while disconnected. */
  request<T = unknown>(type: string, body?: unknown, options?: RequestOptions<T>): Promise<T> {
    const open = this.connection;
    if (!open) return Promise.reject(new ConnectionClosedError(1006, "NOT_CONNECTED"));
    return open.request(type, body, options);
  }

  /** Stops reconnecting and closes the connection. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.current) await this.current.close();
  }

  private dialOnce(): void {
    this.attempt++;
    dial(this.url, this.settings, this.options.expectedPeer).then(this.onConnected, this.onAttemptFailed);
  }

  private readonly onConnected = (connection: PeerConnection<M>): void => {
    if (this.stopped) {
      void connection.close();
      return;
    }
    this.attempt = 0;
    this.rejections = 0;
    this.current = connection;
    const reconnect = this.everConnected;
    this.everConnected = true;
    connection.once("close", this.onDisconnected);
    this.emit("connected", connection, reconnect);
  };

  private readonly onDisconnected = (error: ConnectionClosedError): void => {
    this.current = undefined;
    this.emit("disconnected", error);
    if (!this.stopped) this.schedule(this.minDelayMs * (0.5 + Math.random() / 2));
  };

  private readonly onAttemptFailed = (error: unknown): void => {
    if (this.stopped) return;
    let base: number;
    if (isRefusal(error)) {
      this.rejections++;
      if (this.rejections >= this.maxRejections) {
        this.refusal = error;
        this.emit("gaveUp", error, this.attempt);
        return;
      }
      base = Math.min(MAX_REJECTED_DELAY_MS, this.rejectedDelayMs * 2 ** Math.min(this.rejections - 1, 30));
    } else {
      this.rejections = 0;
      base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.min(this.attempt - 1, 30));
    }
    const delay = base * (0.5 + Math.random() / 2);
    this.emit("connectFailed", error, this.attempt, delay);
    this.schedule(delay);
  };

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.dialOnce();
    }, delayMs);
  }
}
