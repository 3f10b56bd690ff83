import { InvalidArgumentError } from "../../errors";
import type { Address } from "../../types";
import type { HandshakeIdentity } from "./handshake";

/** Validates and types the body of one message type; throws (ideally `MalformedMessageError`) on a bad body. */
export type Validator<T> = (body: unknown) => T;

/** One validator per message type this side accepts: the registry of known types. */
export type Validators<M> = { readonly [K in keyof M]: Validator<M[K]> };

/** Message types the transport itself uses; a registry may not define them. */
export const RESERVED_TYPES: readonly string[] = ["result", "error", "hello", "auth", "welcome"];

/** Settings shared by both ends. Only `chainId`, `adjudicator`, `identity` and `validators` are required. */
export interface TransportOptions<M> {
  /** The chain this node works on; a peer on another chain is refused. */
  chainId: bigint;
  /** The adjudicator contract; a peer using another one is refused. */
  adjudicator: Address;
  /** This node's address and the function that signs the handshake digest with its key. */
  identity: HandshakeIdentity;
  /** The message types this side accepts, each with the validator of its body. */
  validators: Validators<M>;
  /** Handlers per type, shared by every connection (a connection can add its own with `handle`). */
  handlers?: import("./dispatch").Handlers<M>;
  /** A connection that hasn't completed the handshake by then is closed (default 5,000 ms). */
  handshakeTimeoutMs?: number;
  /** Largest frame answered normally; a larger one gets FRAME_TOO_LARGE (default 64 KiB). */
  maxFrameBytes?: number;
  /** Largest frame read at all; a larger one closes the connection with 1009 (default 16 × maxFrameBytes). */
  maxPayloadBytes?: number;
  /** Default timeout of `request` (default 30,000 ms). */
  requestTimeoutMs?: number;
  /** Requests awaiting an answer per connection; beyond it `request` throws `BackpressureError` (default 65,536). */
  maxInFlight?: number;
  /** Incoming requests whose async handlers are still running; at this many, reading pauses (default 4,096). */
  maxPendingHandlers?: number;
  /** Unsent bytes per connection; above it `request` refuses and reading pauses (default 8 MiB). */
  maxBufferedBytes?: number;
  /** WebSocket ping interval; a peer that misses a pong is dropped (default 15,000 ms; 0 = off). */
  pingIntervalMs?: number;
  /**
   * Turns a handler's error into the error reply (default: `RemoteError` keeps its code,
   * `MalformedMessageError` is BAD_BODY, other `SluiceError`s are REJECTED, anything else INTERNAL).
   */
  mapError?: (error: unknown, type: string) => { code: string; message: string } | undefined;
}

/** Options resolved once per server or dial, shared by its connections. */
export interface Settings<M> {
  chainId: bigint;
  adjudicator: Address;
  identity: HandshakeIdentity;
  validators: Validators<M>;
  handlers: import("./dispatch").Handlers<M>;
  handshakeTimeoutMs: number;
  maxFrameBytes: number;
  maxPayloadBytes: number;
  requestTimeoutMs: number;
  maxInFlight: number;
  maxPendingHandlers: number;
  maxBufferedBytes: number;
  pingIntervalMs: number;
  mapError: TransportOptions<M>["mapError"];
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new InvalidArgumentError(`${name} must be a positive number, got ${v}`);
  return v;
}

export function resolveSettings<M>(o: TransportOptions<M>): Settings<M> {
  if (typeof o.chainId !== "bigint" || o.chainId < 0n) throw new InvalidArgumentError("chainId must be a non-negative bigint");
  if (!/^0x[0-9a-fA-F]{40}$/.test(o.adjudicator)) throw new InvalidArgumentError(`adjudicator ${o.adjudicator} is not an address`);
  if (!o.identity || typeof o.identity.sign !== "function" || !/^0x[0-9a-fA-F]{40}$/.test(o.identity.address)) {
    throw new InvalidArgumentError("identity must have an address and a sign(digest) function");
  }
  for (const type of Object.keys(o.validators)) {
    if (RESERVED_TYPES.includes(type)) throw new InvalidArgumentError(`message type ${JSON.stringify(type)} is reserved by the transport`);
    if (type.length === 0 || type.length > 64) throw new InvalidArgumentError(`message type ${JSON.stringify(type)} must have 1 to 64 characters`);
  }
  const maxFrameBytes = positive("maxFrameBytes", o.maxFrameBytes, 64 * 1024);
  const maxPayloadBytes = positive("maxPayloadBytes", o.maxPayloadBytes, 16 * maxFrameBytes);
  if (maxPayloadBytes < maxFrameBytes) throw new InvalidArgumentError("maxPayloadBytes must be at least maxFrameBytes");
  return {
    chainId: o.chainId,
    adjudicator: o.adjudicator.toLowerCase() as Address,
    identity: { address: o.identity.address.toLowerCase() as Address, sign: o.identity.sign.bind(o.identity) },
    validators: o.validators,
    handlers: o.handlers ?? {},
    handshakeTimeoutMs: positive("handshakeTimeoutMs", o.handshakeTimeoutMs, 5_000),
    maxFrameBytes,
    maxPayloadBytes,
    requestTimeoutMs: positive("requestTimeoutMs", o.requestTimeoutMs, 30_000),
    maxInFlight: positive("maxInFlight", o.maxInFlight, 65_536),
    maxPendingHandlers: positive("maxPendingHandlers", o.maxPendingHandlers, 4_096),
    maxBufferedBytes: positive("maxBufferedBytes", o.maxBufferedBytes, 8 * 1024 * 1024),
    pingIntervalMs: positive("pingIntervalMs", o.pingIntervalMs, 15_000, true),
    mapError: o.mapError,
  };
}
