/**
 * One authenticated WebSocket connection to a peer: the handshake, frame checking, request/response
 * with pipelining, notifications, handlers, backpressure.
 *
 * Frames are JSON text `{ id?: number | string, type: string, body?: unknown }`. A request has an
 * id and is answered by `{ id, type: "result", body }` or `{ id, type: "error", body: { code,
 * message } }`; a notification has no id and is answered only if it fails. Every frame is checked
 * before anything else: size, JSON (parsed once), the envelope (no other keys), then the body by
 * the validator of its type. A bad frame gets an error reply naming the problem and changes
 * nothing; the connection keeps serving. Error frames are never answered (no error ping-pong).
 */
import { EventEmitter } from "node:events";
import WebSocket from "ws";
import { InvalidArgumentError, MalformedMessageError, SluiceError } from "../../errors";
import type { Address, Hex } from "../../types";
import { APP_CODE_PATTERN, CloseCode, ErrorCode, type ErrorCodeString } from "./codes";
import {
  BackpressureError,
  ConnectFailedError,
  ConnectionClosedError,
  HandshakeError,
  RemoteError,
  RequestTimeoutError,
} from "./errors";
import {
  HANDSHAKE_PROTOCOL,
  freshNonce,
  handshakeDigest,
  parseAuth,
  parseHello,
  parseWelcome,
  recoverSigner,
  type HelloBody,
  type PeerRole,
} from "./handshake";
import type { Settings, Validator } from "./settings";
import { describe } from "./validate";

/** Handles one incoming request or notification; returns the response body (or a promise of it). */
export type Handler<M, K extends keyof M> = (body: M[K], peer: PeerConnection<M>, type: K) => unknown;
export type Handlers<M> = { readonly [K in keyof M]?: Handler<M, K> };

/** Message id as it travels: this side assigns numbers; a peer may use strings. */
export type MessageId = number | string;

export interface RequestOptions<T> {
  /** Default: the connection's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Checks and types the response body; a failure rejects the request with the validator's error. */
  validate?: Validator<T>;
}

/** Decides whether a proven peer address may connect (server side). */
export type AcceptPeer = (address: Address) => boolean | Promise<boolean>;

/** Handshake frames are small; anything larger before authentication ends the attempt. */
const HANDSHAKE_FRAME_LIMIT = 4096;
/** How long a closing connection may take before its socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;
/** How often a paused connection checks whether it can read again. */
const RESUME_POLL_MS = 5;
const MAX_MESSAGE_CHARS = 1024;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  validate: Validator<unknown> | undefined;
  deadline: number;
  timeoutMs: number;
  type: string;
}

type Phase = "handshake" | "open" | "closed";
/** Handshake sub-steps: waiting for the peer's frame, or busy signing/checking (any frame then is an error). */
type HandshakeStep = "await-hello" | "await-auth" | "await-welcome" | "busy";

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text;
}

export interface PeerConnection<M> {
  /** The connection closed; pending requests have been rejected with the same error. */
  on(event: "close", listener: (error: ConnectionClosedError) => void): this;
  /** An error frame of the peer that answers no pending request (a failed notification, a late answer). */
  on(event: "peerError", listener: (error: RemoteError) => void): this;
  /** A handler failed with an error that was not meant for the peer (replied as INTERNAL). */
  on(event: "handlerError", listener: (error: unknown, type: string) => void): this;
  once(event: "close", listener: (error: ConnectionClosedError) => void): this;
}

export class PeerConnection<M = Record<string, unknown>> extends EventEmitter {
  /** This node's address. */
  readonly localAddress: Address;
  /** Resolves (never rejects) when the connection has closed. */
  readonly closed: Promise<ConnectionClosedError>;

  private phase: Phase = "handshake";
  private step: HandshakeStep;
  private peer: Address | undefined;
  private serverNonce: Hex | undefined;
  private clientNonce: Hex | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private handshakeSettle: { resolve: (c: PeerConnection<M>) => void; reject: (e: unknown) => void } | undefined;
  private accept: AcceptPeer | undefined;
  private expectedPeer: Address | undefined;
  private wasOpen = false;

  private nextId = 0;
  private readonly pending = new Map<MessageId, Pending>();
  private earliestDeadline = Infinity;
  private sweepTimer: NodeJS.Timeout | undefined;
  private pendingHandlers = 0;
  private paused = false;
  private corked = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private alive = true;
  private lastError: Error | undefined;
  private closeError: ConnectionClosedError | undefined;
  private localHandlers: Map<string, Handler<M, keyof M>> | undefined;
  private resolveClosed!: (e: ConnectionClosedError) => void;

  /** @internal Use `PeerServer` or `connectPeer`. */
  constructor(
    private readonly ws: WebSocket,
    /** This side's role: "server" accepted the connection, "client" dialled it. */
    readonly role: PeerRole,
    private readonly settings: Settings<M>,
    /** The URL dialled (client side), for error messages. */
    readonly url?: string,
  ) {
    super();
    this.localAddress = settings.identity.address;
    this.step = role === "server" ? "await-auth" : "await-hello";
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    ws.on("message", this.onMessage);
    ws.on("close", this.onClose);
    ws.on("error", this.onError);
    ws.on("pong", this.onPong);
    ws.on("open", this.onOpen);
  }

  /** The peer's address, proven by its handshake signature (lower case). */
  get peerAddress(): Address {
    if (this.peer === undefined) throw new InvalidArgumentError("the handshake has not completed");
    return this.peer;
  }

  /**
   * Authenticated and still able to send: false from the moment the socket stops taking frames
   * (the peer's close frame or the end of its stream, before the "close" event), so that a frame
   * sent while this is true went out to the socket.
   */
  get isOpen(): boolean {
    return this.phase === "open" && this.ws.readyState === WebSocket.OPEN;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Bytes queued for sending. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  // ---------------------------------------------------------------------------- handshake

  /** @internal Server side: send hello, then wait for the client's auth. */
  beginServer(accept: AcceptPeer | undefined): Promise<PeerConnection<M>> {
    this.accept = accept;
    const promise = this.armHandshake();
    this.serverNonce = freshNonce();
    this.sendFrame({
      type: "hello",
      body: {
        protocol: HANDSHAKE_PROTOCOL,
        chainId: this.settings.chainId.toString(),
        adjudicator: this.settings.adjudicator,
        nonce: this.serverNonce,
      },
    });
    return promise;
  }

  /** @internal Client side: wait for the server's hello (the socket may still be connecting). */
  beginClient(expectedPeer: Address | undefined): Promise<PeerConnection<M>> {
    this.expectedPeer = expectedPeer?.toLowerCase() as Address | undefined;
    return this.armHandshake();
  }

  private armHandshake(): Promise<PeerConnection<M>> {
    const promise = new Promise<PeerConnection<M>>((resolve, reject) => (this.handshakeSettle = { resolve, reject }));
    this.handshakeTimer = setTimeout(this.onHandshakeTimeout, this.settings.handshakeTimeoutMs);
    return promise;
  }

  private readonly onHandshakeTimeout = (): void => {
    this.failHandshake(ErrorCode.HANDSHAKE_TIMEOUT, `the handshake did not complete within ${this.settings.handshakeTimeoutMs} ms`);
  };

  private handshakeFrame(id: MessageId | undefined, type: string, body: unknown): void {
    if (type === "error") {
      const err = this.parseErrorBody(body);
      this.failHandshake(err.code, err.detail, true);
      return;
    }
    const step = this.step;
    if (step === "busy") {
      this.failHandshake(ErrorCode.NOT_AUTHENTICATED, `${JSON.stringify(type)} frame before the handshake completed`, false, id);
    } else if (step === "await-auth") {
      if (type !== "auth") {
        this.failHandshake(ErrorCode.NOT_AUTHENTICATED, `${JSON.stringify(type)} frame before the handshake completed (expected "auth")`, false, id);
        return;
      }
      this.step = "busy";
      this.onAuth(body).catch(this.onHandshakeCrash);
    } else if (step === "await-hello") {
      if (type !== "hello") {
        this.failHandshake(ErrorCode.HANDSHAKE_FAILED, `expected "hello", got ${JSON.stringify(type)}`, false, id);
        return;
      }
      this.step = "busy";
      this.onHello(body).catch(this.onHandshakeCrash);
    } else {
      if (type !== "welcome") {
        this.failHandshake(ErrorCode.HANDSHAKE_FAILED, `expected "welcome", got ${JSON.stringify(type)}`, false, id);
        return;
      }
      this.step = "busy";
      this.onWelcome(body);
    }
  }

  private readonly onHandshakeCrash = (error: unknown): void => {
    this.failHandshake(ErrorCode.INTERNAL, `handshake signing failed: ${messageOf(error)}`);
  };

  /** The problem with the peer's chain or contract, if any. */
  private checkDomain(hello: HelloBody): [ErrorCodeString, string] | undefined {
    const s = this.settings;
    if (hello.protocol !== HANDSHAKE_PROTOCOL) {
      return [ErrorCode.HANDSHAKE_FAILED, `unsupported protocol ${JSON.stringify(hello.protocol)} (this node speaks ${HANDSHAKE_PROTOCOL})`];
    }
    if (hello.chainId !== s.chainId) {
      return [ErrorCode.CHAIN_MISMATCH, `the peer is on chain ${hello.chainId}, this node on chain ${s.chainId}`];
    }
    if (hello.adjudicator !== s.adjudicator) {
      return [ErrorCode.ADJUDICATOR_MISMATCH, `the peer uses adjudicator ${hello.adjudicator}, this node ${s.adjudicator}`];
    }
    return undefined;
  }

  // client: hello → auth
  private async onHello(body: unknown): Promise<void> {
    let hello: HelloBody;
    try {
      hello = parseHello(body);
    } catch (error) {
      this.failHandshake(ErrorCode.HANDSHAKE_FAILED, messageOf(error));
      return;
    }
    const problem = this.checkDomain(hello);
    if (problem) {
      this.failHandshake(problem[0], problem[1]);
      return;
    }
    const s = this.settings;
    this.serverNonce = hello.nonce;
    this.clientNonce = freshNonce();
    const digest = handshakeDigest({
      chainId: s.chainId,
      adjudicator: s.adjudicator,
      serverNonce: this.serverNonce,
      clientNonce: this.clientNonce,
      role: "client",
    });
    const signature = await s.identity.sign(digest);
    if (this.phase !== "handshake") return;
    this.sendFrame({
      type: "auth",
      body: {
        protocol: HANDSHAKE_PROTOCOL,
        chainId: s.chainId.toString(),
        adjudicator: s.adjudicator,
        nonce: this.clientNonce,
        address: s.identity.address,
        signature,
      },
    });
    this.step = "await-welcome";
  }

  // server: auth → welcome
  private async onAuth(body: unknown): Promise<void> {
    let auth;
    try {
      auth = parseAuth(body);
    } catch (error) {
      this.failHandshake(ErrorCode.HANDSHAKE_FAILED, messageOf(error));
      return;
    }
    const problem = this.checkDomain(auth);
    if (problem) {
      this.failHandshake(problem[0], problem[1]);
      return;
    }
    const s = this.settings;
    const serverNonce = this.serverNonce as Hex;
    if (auth.nonce.toLowerCase() === serverNonce.toLowerCase()) {
      this.failHandshake(ErrorCode.HANDSHAKE_FAILED, "the client nonce repeats the server nonce");
      return;
    }
    this.clientNonce = auth.nonce;
    const digest = handshakeDigest({ chainId: s.chainId, adjudicator: s.adjudicator, serverNonce, clientNonce: auth.nonce, role: "client" });
    const signer = recoverSigner(digest, auth.signature);
    if (signer !== auth.address) {
      this.failHandshake(
        ErrorCode.HANDSHAKE_FAILED,
        `the signature does not prove address ${auth.address} for this session (it recovers ${signer ?? "no address"})`,
      );
      return;
    }
    if (this.accept && !(await this.accept(signer))) {
      if (this.phase === "handshake") this.failHandshake(ErrorCode.PEER_REJECTED, `peer ${signer} is not accepted by this node`);
      return;
    }
    if (this.phase !== "handshake") return;
    const own = handshakeDigest({ chainId: s.chainId, adjudicator: s.adjudicator, serverNonce, clientNonce: auth.nonce, role: "server" });
    const signature = await s.identity.sign(own);
    if (this.phase !== "handshake") return;
    this.sendFrame({ type: "welcome", body: { address: s.identity.address, signature } });
    this.completeHandshake(signer);
  }

  // client: welcome → open
  private onWelcome(body: unknown): void {
    let welcome;
    try {
      welcome = parseWelcome(body);
    } catch (error) {
      this.failHandshake(ErrorCode.HANDSHAKE_FAILED, messageOf(error));
      return;
    }
    const s = this.settings;
    const digest = handshakeDigest({
      chainId: s.chainId,
      adjudicator: s.adjudicator,
      serverNonce: this.serverNonce as Hex,
      clientNonce: this.clientNonce as Hex,
      role: "server",
    });
    const signer = recoverSigner(digest, welcome.signature);
    if (signer !== welcome.address) {
      this.failHandshake(
        ErrorCode.HANDSHAKE_FAILED,
        `the signature does not prove address ${welcome.address} for this session (it recovers ${signer ?? "no address"})`,
      );
      return;
    }
    if (this.expectedPeer !== undefined && signer !== this.expectedPeer) {
      this.failHandshake(ErrorCode.PEER_REJECTED, `expected peer ${this.expectedPeer}, but the server proved ${signer}`);
      return;
    }
    this.completeHandshake(signer);
  }

  private completeHandshake(peer: Address): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.peer = peer;
    this.phase = "open";
    if (this.settings.pingIntervalMs > 0) {
      this.pingTimer = setInterval(this.onPingTick, this.settings.pingIntervalMs);
      this.pingTimer.unref();
    }
    const settle = this.handshakeSettle;
    this.handshakeSettle = undefined;
    settle?.resolve(this);
  }

  /**
   * Ends a handshake: an error frame to the peer (unless the peer reported the failure), close,
   * and the handshake promise rejects with a `HandshakeError`.
   */
  private failHandshake(code: ErrorCodeString, detail: string, remote = false, id?: MessageId): void {
    if (this.phase !== "handshake") return;
    this.phase = "closed";
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    if (!remote) this.sendError(id, code, detail);
    this.shutdown(CloseCode.POLICY, code);
    const settle = this.handshakeSettle;
    this.handshakeSettle = undefined;
    settle?.reject(new HandshakeError(code, detail, remote));
  }

  // ---------------------------------------------------------------------------- frames in

  private readonly onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    this.alive = true;
    const phase = this.phase;
    if (phase === "closed") return;
    if (isBinary) {
      this.badFrame(undefined, ErrorCode.BAD_JSON, "binary frame: frames are JSON text");
      return;
    }
    const buf = data as Buffer;
    const limit = phase === "open" ? this.settings.maxFrameBytes : HANDSHAKE_FRAME_LIMIT;
    if (buf.length > limit) {
      this.badFrame(undefined, ErrorCode.FRAME_TOO_LARGE, `frame of ${buf.length} bytes exceeds the limit of ${limit} bytes`);
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(buf.toString("utf8"));
    } catch (error) {
      this.badFrame(undefined, ErrorCode.BAD_JSON, `frame is not JSON: ${messageOf(error)}`);
      return;
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
      this.badFrame(undefined, ErrorCode.BAD_ENVELOPE, `envelope: expected an object, got ${describe(frame)}`);
      return;
    }
    const env = frame as { id?: unknown; type?: unknown; body?: unknown };
    const rawId = env.id;
    let id: MessageId | undefined;
    if (rawId !== undefined) {
      if (typeof rawId === "number" ? !Number.isSafeInteger(rawId) || rawId < 0 : typeof rawId !== "string" || rawId.length === 0 || rawId.length > 64) {
        this.badFrame(undefined, ErrorCode.BAD_ENVELOPE, `envelope.id: expected a non-negative integer or a string of 1 to 64 characters, got ${describe(rawId)}`);
        return;
      }
      id = rawId as MessageId;
    }
    const type = env.type;
    if (typeof type !== "string" || type.length === 0 || type.length > 64) {
      this.badFrame(id, ErrorCode.BAD_ENVELOPE, `envelope.type: expected a string of 1 to 64 characters, got ${describe(type)}`);
      return;
    }
    for (const key in env) {
      if (key !== "id" && key !== "type" && key !== "body") {
        this.badFrame(id, ErrorCode.BAD_ENVELOPE, `envelope: unknown key ${JSON.stringify(clip(key))}`);
        return;
      }
    }
    if (phase === "open") this.dispatch(id, type, env.body);
    else this.handshakeFrame(id, type, env.body);
  };

  /** A frame that fails the checks: an error reply; during the handshake the attempt ends too. */
  private badFrame(id: MessageId | undefined, code: ErrorCodeString, detail: string): void {
    if (this.phase === "handshake") this.failHandshake(code, detail, false, id);
    else this.sendError(id, code, detail);
  }

  private dispatch(id: MessageId | undefined, type: string, body: unknown): void {
    if (type === "result") {
      if (id === undefined) {
        this.sendError(undefined, ErrorCode.BAD_ENVELOPE, "a result needs the id of its request");
        return;
      }
      this.settle(id, body);
      return;
    }
    if (type === "error") {
      this.onErrorFrame(id, body);
      return;
    }
    const validators = this.settings.validators as Record<string, Validator<unknown> | undefined>;
    const validator = Object.hasOwn(validators, type) ? validators[type] : undefined;
    if (validator === undefined) {
      this.sendError(id, ErrorCode.UNKNOWN_TYPE, `unknown message type ${JSON.stringify(type)}`);
      return;
    }
    let value: unknown;
    try {
      value = validator(body);
    } catch (error) {
      this.sendError(id, ErrorCode.BAD_BODY, `invalid ${type} body: ${messageOf(error)}`);
      return;
    }
    const handler = this.handlerFor(type);
    if (handler === undefined) {
      this.sendError(id, ErrorCode.UNKNOWN_TYPE, `message type ${JSON.stringify(type)} is not served by this node`);
      return;
    }
    let result: unknown;
    try {
      result = handler(value as M[keyof M], this, type as keyof M);
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

  private handlerFor(type: string): Handler<M, keyof M> | undefined {
    const local = this.localHandlers?.get(type);
    if (local !== undefined) return local;
    const shared = this.settings.handlers as Record<string, Handler<M, keyof M> | undefined>;
    return Object.hasOwn(shared, type) ? shared[type] : undefined;
  }

  private afterHandler(id: MessageId | undefined, type: string, value: unknown, error: unknown, failed: boolean): void {
    this.pendingHandlers--;
    if (this.phase !== "open") return;
    if (failed) this.replyFailure(id, type, error);
    else if (id !== undefined) this.sendResult(id, type, value);
    if (this.paused) this.tryResume();
  }

  private replyFailure(id: MessageId | undefined, type: string, error: unknown): void {
    const mapped = this.settings.mapError?.(error, type);
    if (mapped !== undefined) {
      this.sendError(id, mapped.code, mapped.message);
    } else if (error instanceof RemoteError) {
      this.sendError(id, error.code, error.detail);
    } else if (error instanceof MalformedMessageError) {
      this.sendError(id, ErrorCode.BAD_BODY, `invalid ${type} body: ${error.message}`);
    } else if (error instanceof SluiceError) {
      this.sendError(id, ErrorCode.REJECTED, `${error.name}: ${error.message}`);
    } else {
      this.sendError(id, ErrorCode.INTERNAL, `internal error while handling ${JSON.stringify(type)}`);
      this.emit("handlerError", error, type);
    }
  }

  private parseErrorBody(body: unknown): RemoteError {
    const b = (typeof body === "object" && body !== null ? body : {}) as { code?: unknown; message?: unknown };
    const code = typeof b.code === "string" && APP_CODE_PATTERN.test(b.code) ? b.code : "UNKNOWN";
    const message = typeof b.message === "string" ? clip(b.message) : "";
    return new RemoteError(code, message);
  }

  private onErrorFrame(id: MessageId | undefined, body: unknown): void {
    const error = this.parseErrorBody(body);
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (pending === undefined) {
      this.emit("peerError", error);
      return;
    }
    this.pending.delete(id as MessageId);
    pending.reject(error);
  }

  private settle(id: MessageId, body: unknown): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return; // a late answer to a request that timed out
    this.pending.delete(id);
    if (pending.validate === undefined) {
      pending.resolve(body);
      return;
    }
    try {
      pending.resolve(pending.validate(body));
    } catch (error) {
      pending.reject(error);
    }
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
    if (this.pending.size >= this.settings.maxInFlight) {
      return Promise.reject(new BackpressureError(`${this.pending.size} requests in flight (limit ${this.settings.maxInFlight})`));
    }
    if (this.ws.bufferedAmount > this.settings.maxBufferedBytes) {
      return Promise.reject(new BackpressureError(`${this.ws.bufferedAmount} bytes not yet sent (limit ${this.settings.maxBufferedBytes})`));
    }
    const id = ++this.nextId;
    let frame: string;
    try {
      frame = this.encode(id, type, body);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options?.timeoutMs ?? this.settings.requestTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const validate = options?.validate as Validator<unknown> | undefined;
    const promise = new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, validate, deadline, timeoutMs, type });
    });
    if (deadline < this.earliestDeadline) this.earliestDeadline = deadline;
    if (this.sweepTimer === undefined) this.startSweep();
    this.corkUntilTickEnd();
    this.ws.send(frame);
    return promise as Promise<T>;
  }

  /** Sends a notification (no answer unless it fails; a failure arrives as a "peerError" event). */
  notify(type: string, body?: unknown): void {
    if (!this.isOpen) throw this.notOpen();
    if (this.ws.bufferedAmount > this.settings.maxBufferedBytes) {
      throw new BackpressureError(`${this.ws.bufferedAmount} bytes not yet sent (limit ${this.settings.maxBufferedBytes})`);
    }
    const frame = this.encode(undefined, type, body);
    this.corkUntilTickEnd();
    this.ws.send(frame);
  }

  /** Adds (or replaces) the handler of a type on this connection only. The type needs a validator. */
  handle<K extends keyof M & string>(type: K, handler: Handler<M, K>): this {
    if (!Object.hasOwn(this.settings.validators, type)) throw new InvalidArgumentError(`no validator for message type ${JSON.stringify(type)}`);
    (this.localHandlers ??= new Map()).set(type, handler as unknown as Handler<M, keyof M>);
    return this;
  }

  private encode(id: MessageId | undefined, type: string, body: unknown): string {
    if (typeof type !== "string" || type.length === 0 || type.length > 64 || type === "result" || type === "error") {
      throw new InvalidArgumentError(`invalid message type ${JSON.stringify(type)}`);
    }
    let frame: string;
    try {
      frame = JSON.stringify(id === undefined ? { type, body } : { id, type, body });
    } catch (error) {
      throw new InvalidArgumentError(`can't encode the ${type} body as JSON: ${messageOf(error)}`, { cause: error });
    }
    // A UTF-16 length within a third of the limit is within it in UTF-8 too; otherwise count.
    if (frame.length * 3 > this.settings.maxFrameBytes && Buffer.byteLength(frame) > this.settings.maxFrameBytes) {
      throw new InvalidArgumentError(`the ${type} frame has ${Buffer.byteLength(frame)} bytes; the limit is ${this.settings.maxFrameBytes}`);
    }
    return frame;
  }

  private sendResult(id: MessageId, type: string, body: unknown): void {
    let frame: string;
    try {
      frame = JSON.stringify({ id, type: "result", body });
    } catch (error) {
      this.sendError(id, ErrorCode.INTERNAL, `internal error while answering ${JSON.stringify(type)}`);
      this.emit("handlerError", error, type);
      return;
    }
    this.sendRaw(frame);
  }

  private sendError(id: MessageId | undefined, code: string, message: string): void {
    this.sendRaw(JSON.stringify({ id, type: "error", body: { code, message: clip(message) } }));
  }

  private sendFrame(frame: { type: string; body: unknown }): void {
    this.sendRaw(JSON.stringify(frame));
  }

  private sendRaw(frame: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.corkUntilTickEnd();
    this.ws.send(frame);
    if (this.ws.bufferedAmount > this.settings.maxBufferedBytes) this.pause();
  }

  /**
   * Frames sent in one tick (a burst of requests, the answers to a chunk of pipelined requests)
   * leave in one write: the socket stays corked until the end of the tick. Without this every
   * frame is its own syscall, and throughput falls as more requests are in flight.
   */
  private corkUntilTickEnd(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
    if (socket?.cork === undefined) return;
    socket.cork();
    this.corked = true;
    process.nextTick(this.uncork, socket);
  }

  private readonly uncork = (socket: { uncork?: () => void }): void => {
    this.corked = false;
    socket.uncork?.();
  };

  // ---------------------------------------------------------------------------- backpressure, timers

  /** Stops reading from the peer until handlers and the send buffer catch up. */
  private pause(): void {
    if (this.paused || this.phase !== "open") return;
    this.paused = true;
    this.ws.pause();
    this.resumeTimer = setInterval(this.tryResume, RESUME_POLL_MS);
  }

  private readonly tryResume = (): void => {
    if (!this.paused) return;
    if (this.phase !== "open") {
      clearInterval(this.resumeTimer);
      return;
    }
    if (this.pendingHandlers * 2 > this.settings.maxPendingHandlers) return;
    if (this.ws.bufferedAmount * 2 > this.settings.maxBufferedBytes) return;
    this.paused = false;
    clearInterval(this.resumeTimer);
    this.resumeTimer = undefined;
    this.ws.resume();
  };

  private startSweep(): void {
    const interval = Math.max(5, Math.min(250, this.settings.requestTimeoutMs / 10));
    this.sweepTimer = setInterval(this.sweep, interval);
    this.sweepTimer.unref();
  }

  /** Rejects requests past their deadline. Scans only once the earliest known deadline has passed. */
  private readonly sweep = (): void => {
    if (this.pending.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      this.earliestDeadline = Infinity;
      return;
    }
    const now = Date.now();
    if (now < this.earliestDeadline) return;
    let earliest = Infinity;
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(new RequestTimeoutError(p.type, p.timeoutMs));
      } else if (p.deadline < earliest) {
        earliest = p.deadline;
      }
    }
    this.earliestDeadline = earliest;
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
    return this.closeError ?? new ConnectionClosedError(1006, this.phase === "handshake" ? "NOT_AUTHENTICATED" : "CLOSED");
  }

  /** Closes the connection; pending requests reject with `ConnectionClosedError`. */
  close(code: number = CloseCode.NORMAL, reason = ""): Promise<ConnectionClosedError> {
    if (this.phase === "handshake") {
      this.failHandshake(ErrorCode.HANDSHAKE_FAILED, "closed by this node before the handshake completed");
    } else if (this.phase === "open") {
      this.phase = "closed";
      this.shutdown(code, reason);
    }
    return this.closed;
  }

  /** Starts the close handshake and destroys the socket if the peer doesn't finish it soon. */
  private shutdown(code: number, reason: string): void {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }

  private readonly onOpen = (): void => {
    this.wasOpen = true;
  };

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (code: number, reasonBuffer: Buffer): void => {
    let reason = reasonBuffer.toString("utf8");
    if (code === CloseCode.TOO_BIG && reason === "") reason = ErrorCode.FRAME_TOO_LARGE;
    const error = new ConnectionClosedError(code, reason, { cause: this.lastError });
    this.closeError = error;
    const wasHandshake = this.phase === "handshake";
    this.phase = "closed";
    clearTimeout(this.handshakeTimer);
    clearInterval(this.sweepTimer);
    clearInterval(this.pingTimer);
    clearInterval(this.resumeTimer);
    this.sweepTimer = this.pingTimer = this.resumeTimer = this.handshakeTimer = undefined;
    if (wasHandshake && this.handshakeSettle) {
      const settle = this.handshakeSettle;
      this.handshakeSettle = undefined;
      settle.reject(this.role === "client" && !this.wasOpen ? new ConnectFailedError(this.url ?? "", { cause: this.lastError }) : error);
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
    this.resolveClosed(error);
    this.emit("close", error);
  };
}
