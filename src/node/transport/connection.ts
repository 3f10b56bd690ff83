/**
 * One authenticated WebSocket connection to a peer (the handshake is done before one exists: see
 * authenticate.ts): request/response with pipelining, notifications, handlers, backpressure, ping
 * and close.
 *
 * A request has an id and is answered by `{ id, type: "result", body }` or `{ id, type: "error",
 * body: { code, message } }`; a notification has no id and is answered only if it fails. A bad
 * frame (envelope.ts, then the body's validator) gets an error reply naming the problem and changes
 * nothing; the connection keeps serving. Error frames are never answered (no error ping-pong).
 */
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import { InvalidArgumentError } from "../../errors";
import type { Address } from "../../types";
import type { Authenticated } from "./authenticate";
import { closedError, shutdown } from "./closing";
import { CloseCode, ErrorCode } from "./codes";
import { failureReply, Router, type Handler } from "./dispatch";
import { encodeMessage, errorFrame, readFrame, remoteErrorOf, resultFrame, type MessageId } from "./envelope";
import { BackpressureError, ConnectionClosedError, type RemoteError } from "./errors";
import type { PeerRole } from "./handshake";
import { PendingRequests } from "./requests";
import type { Settings, Validator } from "./settings";
import { FrameWriter, type Corkable } from "./writer";

export type { Handler, Handlers } from "./dispatch";
export type { MessageId } from "./envelope";
export type { AcceptPeer } from "./authenticate";

export interface RequestOptions<T> {
  /** Default: the connection's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Checks and types the response body; a failure rejects the request with the validator's error. */
  validate?: Validator<T>;
}

/** A WebSocket and the TCP socket under it, which this side created (client) or accepted (server). */
export interface Link {
  ws: WebSocket;
  socket: Corkable | undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** The events of a connection and their arguments. */
export interface PeerConnectionEvents {
  /** The connection closed; pending requests have been rejected with the same error. */
  close: [error: ConnectionClosedError];
  /** An error frame of the peer that answers no pending request (a failed notification, a late answer). */
  peerError: [error: RemoteError];
  /** A handler failed with an error that was not meant for the peer (replied as INTERNAL). */
  handlerError: [error: unknown, type: string];
}

export class PeerConnection<M = Record<string, unknown>> extends EventEmitter<PeerConnectionEvents> {
  /** This node's address. */
  readonly localAddress: Address;
  /** The peer's address, proven by its handshake signature (lower case). */
  readonly peerAddress: Address;
  /** Resolves (never rejects) when the connection has closed. */
  readonly closed: Promise<ConnectionClosedError>;

  private readonly ws: WebSocket;
  private readonly writer: FrameWriter;
  private readonly requests: PendingRequests;
  private readonly router: Router<M>;
  private open = true;
  private nextId = 0;
  private pendingHandlers = 0;
  private paused = false;
  private writableWaiters: Array<{ resolve: () => void; reject: (error: ConnectionClosedError) => void }> = [];
  private pingTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private lastError: Error | undefined;
  private closeError: ConnectionClosedError | undefined;
  private resolveClosed!: (e: ConnectionClosedError) => void;

  /** @internal Use `PeerServer` or `connectPeer`. */
  constructor(
    link: Link,
    /** This side's role: "server" accepted the connection, "client" dialled it. */
    readonly role: PeerRole,
    private readonly settings: Settings<M>,
    authenticated: Authenticated,
    /** The URL dialled (client side), for error messages. */
    readonly url?: string,
  ) {
    super();
    this.ws = link.ws;
    this.localAddress = settings.identity.address;
    this.peerAddress = authenticated.peer;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.writer = new FrameWriter(link.ws, link.socket, settings.maxBufferedBytes, this.onDrain);
    this.requests = new PendingRequests(settings.requestTimeoutMs);
    this.router = new Router(settings.validators, settings.handlers);
    this.ws.on("close", this.onClose);
    this.ws.on("error", this.onError);
    this.ws.on("pong", this.onPong);
    if (settings.pingIntervalMs > 0) {
      this.pingTimer = setInterval(this.onPingTick, settings.pingIntervalMs);
      this.pingTimer.unref();
    }
    authenticated.handOver(this.onMessage);
  }

  /**
   * Still able to send: false from the moment the socket stops taking frames (the peer's close
   * frame or the end of its stream, before the "close" event), so that a frame sent while this is
   * true went out to the socket.
   */
  get isOpen(): boolean {
    return this.open && this.ws.readyState === WebSocket.OPEN;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.requests.size;
  }

  /** Bytes queued for sending. */
  get bufferedAmount(): number {
    return this.writer.bufferedAmount;
  }

  // ---------------------------------------------------------------------------- frames in

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    this.alive = true;
    if (!this.open) return;
    const frame = readFrame(data, isBinary, this.settings.maxFrameBytes);
    if (!frame.ok) {
      this.sendError(frame.id, frame.code, frame.detail);
      return;
    }
    const { id, type, body } = frame;
    if (type === "result") {
      if (id === undefined) this.sendError(undefined, ErrorCode.BAD_ENVELOPE, "a result needs the id of its request");
      else this.requests.resolve(id, body);
    } else if (type === "error") {
      const error = remoteErrorOf(body);
      if (!this.requests.reject(id, error)) this.emit("peerError", error);
    } else {
      this.dispatch(id, type, body);
    }
  };

  private dispatch(id: MessageId | undefined, type: string, body: unknown): void {
    const route = this.router.route(type, body);
    if (!route.ok) {
      this.sendError(id, route.code, route.detail);
      return;
    }
    let result: unknown;
    try {
      result = route.handler(route.body, this, type as keyof M);
    } catch (error) {
      this.replyFailure(id, type, error);
      return;
    }
    if (isThenable(result)) {
      this.pendingHandlers++;
      if (this.pendingHandlers >= this.settings.maxPendingHandlers) this.pause();
      result.then(
        (value) => this.afterHandler(id, type, value, undefined, false),
        (error: unknown) => this.afterHandler(id, type, undefined, error, true),
      );
    } else if (id !== undefined) {
      this.sendResult(id, type, result);
    }
  }

  private afterHandler(id: MessageId | undefined, type: string, value: unknown, error: unknown, failed: boolean): void {
    this.pendingHandlers--;
    if (!this.open) return;
    if (failed) this.replyFailure(id, type, error);
    else if (id !== undefined) this.sendResult(id, type, value);
    if (this.paused) this.tryResume();
  }

  private replyFailure(id: MessageId | undefined, type: string, error: unknown): void {
    const reply = failureReply(error, type, this.settings.mapError);
    this.sendError(id, reply.code, reply.message);
    if (reply.internal) this.emit("handlerError", error, type);
  }

  // ---------------------------------------------------------------------------- frames out

  /**
   * Sends a request and resolves with the answer's body (checked by `options.validate`), or rejects
   * with `RemoteError` (the peer's code and message), `RequestTimeoutError`, `ConnectionClosedError`
   * or `BackpressureError`. Any number of requests may be in flight (up to `maxInFlight`); answers
   * are matched by id, in any order.
   */
  request<T = unknown>(type: string, body?: unknown, options?: RequestOptions<T>): Promise<T> {
    if (!this.isOpen) return Promise.reject(this.notOpen());
    if (this.requests.size >= this.settings.maxInFlight) {
      return Promise.reject(new BackpressureError(`${this.requests.size} requests in flight (limit ${this.settings.maxInFlight})`));
    }
    const tooMuch = this.unsentBacklog();
    if (tooMuch) return Promise.reject(tooMuch);
    const id = ++this.nextId;
    let frame: string;
    try {
      frame = encodeMessage(id, type, body, this.settings.maxFrameBytes);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new InvalidArgumentError(String(error)));
    }
    const answer = this.requests.add(id, type, options?.timeoutMs ?? this.settings.requestTimeoutMs, options?.validate);
    this.writer.send(frame);
    return answer as Promise<T>;
  }

  /** Sends a notification (no answer unless it fails; a failure arrives as a "peerError" event). */
  notify(type: string, body?: unknown): void {
    if (!this.isOpen) throw this.notOpen();
    const tooMuch = this.unsentBacklog();
    if (tooMuch) throw tooMuch;
    this.writer.send(encodeMessage(undefined, type, body, this.settings.maxFrameBytes));
  }

  /**
   * Resolves once the send buffer has room (at once if it has): after a `BackpressureError` for
   * unsent bytes, wait for this before sending again. Rejects with `ConnectionClosedError` if the
   * connection closes first.
   */
  whenWritable(): Promise<void> {
    if (!this.isOpen) return Promise.reject(this.notOpen());
    if (!this.writer.isCongested) return Promise.resolve();
    return new Promise((resolve, reject) => this.writableWaiters.push({ resolve, reject }));
  }

  /** Adds (or replaces) the handler of a type on this connection only. The type needs a validator. */
  handle<K extends keyof M & string>(type: K, handler: Handler<M, K>): this {
    this.router.add(type, handler as Handler<M, keyof M>);
    return this;
  }

  private unsentBacklog(): BackpressureError | undefined {
    const buffered = this.writer.bufferedAmount;
    if (buffered <= this.settings.maxBufferedBytes) return undefined;
    return new BackpressureError(`${buffered} bytes not yet sent (limit ${this.settings.maxBufferedBytes})`);
  }

  private sendResult(id: MessageId, type: string, body: unknown): void {
    let frame: string;
    try {
      frame = resultFrame(id, body);
    } catch (error) {
      this.sendError(id, ErrorCode.INTERNAL, `internal error while answering ${JSON.stringify(type)}`);
      this.emit("handlerError", error, type);
      return;
    }
    this.sendReply(frame);
  }

  private sendError(id: MessageId | undefined, code: string, message: string): void {
    this.sendReply(errorFrame(id, code, message));
  }

  /** Answers the peer; past `maxBufferedBytes` unsent, stops reading its requests until the buffer drains. */
  private sendReply(frame: string): void {
    if (this.writer.send(frame) && this.writer.isCongested) this.pause();
  }

  // ---------------------------------------------------------------------------- backpressure, ping

  /** Stops reading from the peer until handlers and the send buffer catch up. */
  private pause(): void {
    if (this.paused || !this.open) return;
    this.paused = true;
    this.ws.pause();
  }

  /** Resumes reading once at most half of `maxPendingHandlers` run and the send buffer has drained. */
  private tryResume(): void {
    if (!this.paused || !this.open) return;
    if (this.pendingHandlers * 2 > this.settings.maxPendingHandlers || this.writer.isCongested) return;
    this.paused = false;
    this.ws.resume();
  }

  private readonly onDrain = (): void => {
    this.tryResume();
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w.resolve();
  };

  private readonly onPingTick = (): void => {
    if (!this.alive) {
      this.lastError = new Error(`no pong within ${this.settings.pingIntervalMs} ms`);
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  };

  private readonly onPong = (): void => {
    this.alive = true;
  };

  // ---------------------------------------------------------------------------- closing

  private notOpen(): ConnectionClosedError {
    return this.closeError ?? new ConnectionClosedError(1006, "CLOSED");
  }

  /** Closes the connection; pending requests reject with `ConnectionClosedError`. */
  close(code: number = CloseCode.NORMAL, reason = ""): Promise<ConnectionClosedError> {
    if (this.open) {
      this.open = false;
      shutdown(this.ws, code, reason);
    }
    return this.closed;
  }

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (code: number, reason: Buffer): void => {
    const error = closedError(code, reason, this.lastError);
    this.closeError = error;
    this.open = false;
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.requests.rejectAll(error);
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w.reject(error);
    this.resolveClosed(error);
    this.emit("close", error);
  };
}
