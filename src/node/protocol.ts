/**
 * What two Sluice nodes say to each other over the authenticated transport: the message types,
 * their bodies and the validators the transport runs on every frame before anything else.
 *
 * | type    | sent by            | body                               | answer                         |
 * |---------|--------------------|------------------------------------|--------------------------------|
 * | open    | participant 0      | the channel's params               | {}                             |
 * | channel | either             | {channelId, message} (channel msg) | the reply message, or {}       |
 * | sync    | either             | {channelId, version}               | SyncReply: the newer states    |
 * | refresh | either             | {channelId}                        | {} (after re-reading deposits) |
 */
import { MAX_PAYMENTS_PER_STATE, decodeMessage, decodePayment, decodeSignedState, encodePayment, encodeSignedState } from "../channel";
import type { ChannelMessage, JsonPayment, JsonSignedState } from "../channel";
import { MalformedMessageError } from "../errors";
import type { Hex, Params, Payment, SignedState } from "../types";
import { addressField, bytes32Field, strictObject, uintField, type Validators } from "./transport";

const MAX_UINT64 = (1n << 64n) - 1n;
/** States a sync reply carries at most (each adds up to MAX_PAYMENTS_PER_STATE payments); a node further behind asks again. */
export const SYNC_PAGE = 64;

export interface OpenBody {
  params: Params;
}

export interface ChannelBody {
  channelId: Hex;
  message: ChannelMessage;
}

export interface SyncBody {
  channelId: Hex;
  /** The asker's latest countersigned version. */
  version: bigint;
}

/** One countersigned state and the payments it added, as the store keeps them. */
export interface SyncItem {
  signed: SignedState;
  payments: Payment[];
}

/** The answerer's countersigned states above the asker's latest, oldest first, at most SYNC_PAGE. */
export interface SyncReply {
  items: SyncItem[];
  /** True if more states follow: ask again. */
  more: boolean;
}

/** "My deposit changed on chain: read it again." */
export interface RefreshBody {
  channelId: Hex;
}

export interface PeerMessages {
  open: OpenBody;
  channel: ChannelBody;
  sync: SyncBody;
  refresh: RefreshBody;
}

function uint64(obj: Record<string, unknown>, key: string, path: string): bigint {
  const value = uintField(obj, key, path);
  if (value > MAX_UINT64) throw new MalformedMessageError(`${path}.${key}`, "exceeds uint64");
  return value;
}

export function decodeParams(input: unknown, path = "params"): Params {
  const obj = strictObject(input, path, ["participants", "asset", "challengePeriod", "nonce"]);
  const participants = obj.participants;
  if (!Array.isArray(participants) || participants.length !== 2) {
    throw new MalformedMessageError(`${path}.participants`, "must be an array of two addresses");
  }
  const pair = { 0: participants[0], 1: participants[1] } as Record<string, unknown>;
  return {
    participants: [addressField(pair, "0", `${path}.participants`), addressField(pair, "1", `${path}.participants`)],
    asset: addressField(obj, "asset", path),
    challengePeriod: uint64(obj, "challengePeriod", path),
    nonce: uint64(obj, "nonce", path),
  };
}

export function encodeParams(params: Params): Record<string, unknown> {
  return {
    participants: [...params.participants],
    asset: params.asset,
    challengePeriod: params.challengePeriod.toString(),
    nonce: params.nonce.toString(),
  };
}

export const peerValidators: Validators<PeerMessages> = {
  open(body) {
    const obj = strictObject(body, "body", ["params"]);
    return { params: decodeParams(obj.params, "body.params") };
  },
  channel(body) {
    const obj = strictObject(body, "body", ["channelId", "message"]);
    return { channelId: bytes32Field(obj, "channelId", "body"), message: decodeMessage(obj.message) };
  },
  refresh(body) {
    const obj = strictObject(body, "body", ["channelId"]);
    return { channelId: bytes32Field(obj, "channelId", "body") };
  },
  sync(body) {
    const obj = strictObject(body, "body", ["channelId", "version"]);
    return { channelId: bytes32Field(obj, "channelId", "body"), version: uint64(obj, "version", "body") };
  },
};

export function encodeSyncReply(reply: SyncReply): { items: { signed: JsonSignedState; payments: JsonPayment[] }[]; more: boolean } {
  return {
    items: reply.items.map((item) => ({
      signed: encodeSignedState(item.signed),
      payments: item.payments.map(encodePayment),
    })),
    more: reply.more,
  };
}

export function decodeSyncReply(input: unknown): SyncReply {
  const obj = strictObject(input, "reply", ["items", "more"]);
  if (!Array.isArray(obj.items)) throw new MalformedMessageError("reply.items", "must be an array");
  if (obj.items.length > SYNC_PAGE) throw new MalformedMessageError("reply.items", `more than ${SYNC_PAGE}`);
  if (typeof obj.more !== "boolean") throw new MalformedMessageError("reply.more", "must be a boolean");
  return {
    items: obj.items.map((raw, i) => {
      const item = strictObject(raw, `reply.items[${i}]`, ["signed", "payments"]);
      const payments = item.payments;
      if (!Array.isArray(payments) || payments.length > MAX_PAYMENTS_PER_STATE) {
        throw new MalformedMessageError(`reply.items[${i}].payments`, `must be an array of at most ${MAX_PAYMENTS_PER_STATE}`);
      }
      return {
        signed: decodeSignedState(item.signed, `reply.items[${i}].signed`),
        payments: payments.map((p, j) => decodePayment(p, `reply.items[${i}].payments[${j}]`)),
      };
    }),
    more: obj.more,
  };
}
