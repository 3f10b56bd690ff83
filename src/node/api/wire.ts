/**
 * The JSON wire format of the local API: how `NodeApi` arguments and results travel over HTTP,
 * shared by the server (`server.ts`) and the client (`client.ts`, used by the CLI).
 *
 * - bigints travel as decimal strings ("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
 *   never as JSON numbers; small counts (`decimals`, `me`, `limit`, ...) are JSON integers;
 * - addresses and byte strings are 0x-prefixed hex, lower-cased on decode;
 * - objects are strict: an unknown key, a missing key or a wrong type is a `WireFormatError` that
 *   names the field (`amount`, `participants[1]`, `payment.seq`).
 */
import { MalformedMessageError } from "../../errors";
import type { Address, Hex } from "../../types";
import type {
  AssetInfo,
  ChannelStatusName,
  ChannelView,
  NodeApi,
  NodeInfo,
  OpenChannelRequest,
  PaymentView,
  ProofView,
  TxView,
  WithdrawalView,
  CashOutView,
} from "./types";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value on the wire is not what the API expects; `field` names it ("" for the whole body). */
export class WireFormatError extends MalformedMessageError {
  override readonly name: string = "WireFormatError";

  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field || "body", problem);
    this.message = `${field || "body"}: ${problem}`;
  }
}

// ---------------------------------------------------------------- value codecs

export interface Codec<T> {
  encode(value: T): Json;
  decode(value: unknown, field: string): T;
  /** The key may be absent (the value is then `undefined`). */
  readonly optional?: boolean;
}

export const MAX_UINT256 = (1n << 256n) - 1n;
export const MAX_UINT64 = (1n << 64n) - 1n;

const UINT = /^(0|[1-9][0-9]*)$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** What a JSON value is, for error messages. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? "a string" : `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `the number ${value}`;
  return `a ${typeof value}`;
}

function string(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== "string") throw new WireFormatError(field, `expected a string, got ${describe(value)}`);
  if (value.length > maxLength) throw new WireFormatError(field, `longer than ${maxLength} characters`);
  return value;
}

/** An unsigned integer up to `max`, as a decimal string. */
export function uint(max: bigint, bits: number): Codec<bigint> {
  const maxDigits = max.toString().length;
  return {
    encode: (value) => value.toString(),
    decode(value, field) {
      if (typeof value === "number") {
        throw new WireFormatError(field, `expected a uint${bits} as a decimal string, got a JSON number (amounts travel as strings)`);
      }
      const text = string(value, field, maxDigits);
      if (!UINT.test(text)) throw new WireFormatError(field, `expected a uint${bits} as a decimal string, got ${describe(value)}`);
      const n = BigInt(text);
      if (n > max) throw new WireFormatError(field, `out of range: more than 2^${bits} - 1`);
      return n;
    },
  };
}

export const uint256 = uint(MAX_UINT256, 256);
export const uint64 = uint(MAX_UINT64, 64);

/** A JSON integer in [min, max] (counts, indices, decimals). */
export function int<T extends number = number>(min: number, max: number): Codec<T> {
  return {
    encode: (value) => value,
    decode(value, field) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new WireFormatError(field, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
      }
      return value as T;
    },
  };
}

export const address: Codec<Address> = {
  encode: (value) => value,
  decode(value, field) {
    const text = string(value, field, 42);
    if (!ADDRESS.test(text)) throw new WireFormatError(field, "expected a 20-byte address as 0x-prefixed hex");
    return text.toLowerCase() as Address;
  },
};

export const bytes32: Codec<Hex> = {
  encode: (value) => value,
  decode(value, field) {
    const text = string(value, field, 66);
    if (!BYTES32.test(text)) throw new WireFormatError(field, "expected 32 bytes as 0x-prefixed hex (64 hex digits)");
    return text.toLowerCase() as Hex;
  },
};

export function text(maxLength: number): Codec<string> {
  return { encode: (value) => value, decode: (value, field) => string(value, field, maxLength) };
}

/** A `ws://` or `wss://` URL. */
export const wsUrl: Codec<string> = {
  encode: (value) => value,
  decode(value, field) {
    const s = string(value, field, 2048);
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new WireFormatError(field, `expected a ws:// or wss:// URL, got ${describe(value)}`);
    }
    if (url.protocol !== "ws:" && url.protocol !== "wss:") {
      throw new WireFormatError(field, `expected a ws:// or wss:// URL, got ${url.protocol}//`);
    }
    return s;
  },
};

export const boolean: Codec<boolean> = {
  encode: (value) => value,
  decode(value, field) {
    if (typeof value !== "boolean") throw new WireFormatError(field, `expected true or false, got ${describe(value)}`);
    return value;
  },
};

export function oneOf<T extends string>(values: readonly T[]): Codec<T> {
  return {
    encode: (value) => value,
    decode(value, field) {
      if (typeof value !== "string" || !(values as readonly string[]).includes(value)) {
        throw new WireFormatError(field, `expected one of ${values.join(", ")}, got ${describe(value)}`);
      }
      return value as T;
    },
  };
}

export function optional<T>(codec: Codec<T>): Codec<T | undefined> {
  return {
    optional: true,
    encode: (value) => (value === undefined ? null : codec.encode(value)),
    decode: (value, field) => (value === undefined ? undefined : codec.decode(value, field)),
  };
}

export function array<T>(item: Codec<T>, maxLength: number): Codec<T[]> {
  return {
    encode: (values) => values.map((v) => item.encode(v)),
    decode(value, field) {
      if (!Array.isArray(value)) throw new WireFormatError(field, `expected an array, got ${describe(value)}`);
      if (value.length > maxLength) throw new WireFormatError(field, `more than ${maxLength} items`);
      return value.map((v, i) => item.decode(v, `${field}[${i}]`));
    },
  };
}

export function pair<T>(item: Codec<T>): Codec<[T, T]> {
  return {
    encode: (values) => [item.encode(values[0]), item.encode(values[1])],
    decode(value, field) {
      if (!Array.isArray(value) || value.length !== 2) {
        throw new WireFormatError(field, `expected an array of 2 items, got ${describe(value)}`);
      }
      return [item.decode(value[0], `${field}[0]`), item.decode(value[1], `${field}[1]`)];
    },
  };
}

type Fields<T> = { [K in keyof Required<T>]: Codec<T[K]> };

/** A plain object with exactly these keys (optional ones may be absent; unknown keys are rejected). */
export function object<T extends object>(fields: Fields<T>): Codec<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  return {
    encode(value) {
      const out: { [key: string]: Json } = {};
      for (const key of keys) {
        const v = value[key];
        if (v !== undefined) out[key] = fields[key].encode(v);
      }
      return out;
    },
    decode(value, field) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new WireFormatError(field, `expected an object, got ${describe(value)}`);
      }
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!Object.prototype.hasOwnProperty.call(fields, key)) {
          throw new WireFormatError(join(field, key), "unknown field");
        }
      }
      const out: Partial<T> = {};
      for (const key of keys) {
        const codec = fields[key];
        const v = record[key];
        if (v === undefined || (v === null && codec.optional)) {
          if (!codec.optional) throw new WireFormatError(join(field, key), "missing");
          continue;
        }
        out[key] = codec.decode(v, join(field, key));
      }
      return out as T;
    },
  };
}

function join(field: string, key: string): string {
  return field ? `${field}.${key}` : key;
}

// ---------------------------------------------------------------- NodeApi values

const participant = int<0 | 1>(0, 1);
const count = int(0, Number.MAX_SAFE_INTEGER);

export const CHANNEL_STATUSES: readonly ChannelStatusName[] = ["opening", "open", "closing", "disputed", "closed", "settled"];

export const nodeInfo = object<NodeInfo>({
  address,
  chainId: uint256,
  adjudicator: address,
  peerUrl: text(2048),
  blockNumber: uint64,
  channels: count,
});

export const assetInfo = object<AssetInfo>({
  asset: address,
  symbol: text(64),
  decimals: int(0, 255),
});

export const openChannelRequest = object<OpenChannelRequest>({
  peer: address,
  peerUrl: wsUrl,
  asset: address,
  deposit: uint256,
  challengePeriod: optional(uint64),
  payee: optional(address),
});

export const withdrawalView = object<WithdrawalView>({
  participant: int<0 | 1>(0, 1),
  total: uint256,
  amount: uint256,
  expiry: uint64,
  status: oneOf(["proposed", "signed"] as const),
});

export const channelView = object<ChannelView>({
  channelId: bytes32,
  participants: pair(address),
  payees: pair(address),
  asset: address,
  challengePeriod: uint64,
  nonce: uint64,
  me: participant,
  status: oneOf(CHANNEL_STATUSES),
  deposits: pair(uint256),
  withdrawn: pair(uint256),
  withdrawals: array(withdrawalView, 64),
  version: uint64,
  transferred: pair(uint256),
  balances: pair(uint256),
  payments: uint64,
  deadline: optional(uint64),
});

export const paymentView = object<PaymentView>({
  channelId: bytes32,
  seq: uint64,
  payer: participant,
  amount: uint256,
  ref: bytes32,
  version: uint64,
});

export const txView = object<TxView>({
  channelId: optional(bytes32),
  hash: bytes32,
  blockNumber: uint64,
  gasUsed: uint256,
});

export const cashOutView = object<CashOutView>({
  channelId: bytes32,
  participant: int<0 | 1>(0, 1),
  payee: address,
  amount: uint256,
  total: uint256,
  expiry: uint64,
  status: oneOf(["executed", "signed"] as const),
  paid: optional(uint256),
  tx: optional(txView),
  reason: optional(text(4096)),
});

/** A Merkle proof has at most 64 siblings (a log of up to 2^64 payments). */
export const proofView = object<ProofView>({
  payment: paymentView,
  leaf: bytes32,
  proof: array(bytes32, 64),
  root: bytes32,
  stateVersion: uint64,
  verifiedOnChain: boolean,
});

/** The largest page of payments one request returns. */
export const MAX_PAYMENTS_LIMIT = 10_000;

// ---------------------------------------------------------------- methods

/**
 * One API method: its request body (from and to the `NodeApi` arguments), its result, and how the
 * server calls the node.
 */
export interface Method<A extends unknown[], R> {
  readonly name: string;
  encodeArgs(...args: A): Json;
  decodeArgs(body: unknown): A;
  readonly result: Codec<R>;
  call(api: NodeApi, args: A): Promise<R>;
}

function method<B extends object, A extends unknown[], R>(
  name: string,
  body: Codec<B>,
  toArgs: (body: B) => A,
  fromArgs: (...args: A) => B,
  result: Codec<R>,
  call: (api: NodeApi, args: A) => Promise<R>,
): Method<A, R> {
  return {
    name,
    encodeArgs: (...args) => body.encode(fromArgs(...args)),
    decodeArgs: (raw) => toArgs(body.decode(raw, "")),
    result,
    call,
  };
}

type Empty = Record<never, never>;
const empty = object<Empty>({});
const byChannel = object<{ channelId: Hex }>({ channelId: bytes32 });
const byAsset = object<{ asset: Address }>({ asset: address });

/** Every method of the API; `POST /v1/<name>` (see server.ts). */
export const METHODS = {
  info: method("info", empty, (): [] => [], () => ({}), nodeInfo, (api) => api.info()),
  asset: method(
    "asset",
    byAsset,
    (b): [Address] => [b.asset],
    (asset) => ({ asset }),
    assetInfo,
    (api, [asset]) => api.asset(asset),
  ),
  open: method(
    "open",
    openChannelRequest,
    (b): [OpenChannelRequest] => [b],
    (request) => request,
    channelView,
    (api, [request]) => api.openChannel(request),
  ),
  deposit: method(
    "deposit",
    object<{ channelId: Hex; amount: bigint }>({ channelId: bytes32, amount: uint256 }),
    (b): [Hex, bigint] => [b.channelId, b.amount],
    (channelId, amount) => ({ channelId, amount }),
    channelView,
    (api, [channelId, amount]) => api.deposit(channelId, amount),
  ),
  pay: method(
    "pay",
    object<{ channelId: Hex; amount: bigint; ref: Hex }>({ channelId: bytes32, amount: uint256, ref: bytes32 }),
    (b): [Hex, bigint, Hex] => [b.channelId, b.amount, b.ref],
    (channelId, amount, ref) => ({ channelId, amount, ref }),
    paymentView,
    (api, [channelId, amount, ref]) => api.pay(channelId, amount, ref),
  ),
  channels: method("channels", empty, (): [] => [], () => ({}), array(channelView, Number.MAX_SAFE_INTEGER), (api) =>
    api.channels(),
  ),
  channel: method(
    "channel",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    channelView,
    (api, [channelId]) => api.channel(channelId),
  ),
  payments: method(
    "payments",
    object<{ channelId: Hex; fromSeq?: bigint; limit?: number }>({
      channelId: bytes32,
      fromSeq: optional(uint64),
      limit: optional(int(1, MAX_PAYMENTS_LIMIT)),
    }),
    (b): [Hex, { fromSeq?: bigint; limit?: number }] => [b.channelId, pick({ fromSeq: b.fromSeq, limit: b.limit })],
    (channelId, query) => ({ channelId, fromSeq: query.fromSeq, limit: query.limit }),
    array(paymentView, MAX_PAYMENTS_LIMIT),
    (api, [channelId, query]) => api.payments(channelId, query),
  ),
  close: method(
    "close",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.close(channelId),
  ),
  challenge: method(
    "challenge",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.challenge(channelId),
  ),
  settle: method(
    "settle",
    byChannel,
    (b): [Hex] => [b.channelId],
    (channelId) => ({ channelId }),
    txView,
    (api, [channelId]) => api.settle(channelId),
  ),
  cashout: method(
    "cashout",
    object<{ channelId: Hex; amount: bigint }>({ channelId: bytes32, amount: uint256 }),
    (b): [Hex, bigint] => [b.channelId, b.amount],
    (channelId, amount) => ({ channelId, amount }),
    cashOutView,
    (api, [channelId, amount]) => api.cashOut(channelId, amount),
  ),
  withdraw: method(
    "withdraw",
    byAsset,
    (b): [Address] => [b.asset],
    (asset) => ({ asset }),
    txView,
    (api, [asset]) => api.withdraw(asset),
  ),
  prove: method(
    "prove",
    object<{ channelId: Hex; seq: bigint }>({ channelId: bytes32, seq: uint64 }),
    (b): [Hex, bigint] => [b.channelId, b.seq],
    (channelId, seq) => ({ channelId, seq }),
    proofView,
    (api, [channelId, seq]) => api.prove(channelId, seq),
  ),
} as const;

export type MethodName = keyof typeof METHODS;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, name);
}

/** `value` without its undefined keys. */
function pick<T extends object>(value: T): T {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

// ---------------------------------------------------------------- errors

/** The body of every error reply: `{ "error": { "code", "message", "details"? } }`. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Json;
}

const errorBody = object<ErrorBody>({
  code: text(128),
  message: text(4096),
  details: {
    optional: true,
    encode: (value: Json | undefined) => value ?? null,
    decode: (value: unknown) => value as Json,
  },
});

export const errorReply = object<{ error: ErrorBody }>({ error: errorBody });

/**
 * A value for `details`: bigints as decimal strings, plain objects and arrays recursively (at most
 * `depth` levels), functions and class instances other than arrays, plain objects and errors left out.
 */
export function toJson(value: unknown, depth = 4): Json | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "object": {
      if (depth <= 0) return undefined;
      if (Array.isArray(value)) return value.map((v) => toJson(v, depth - 1) ?? null);
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) {
        const j = toJson(v, depth - 1);
        if (j !== undefined) out[k] = j;
      }
      return out;
    }
    default:
      return undefined;
  }
}
