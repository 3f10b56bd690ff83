/**
 * What two Sluice nodes say to each other over the authenticated transport: the message types,
 * their bodies and the validators the transport runs on every frame before anything else.
 *
 * | type    | sent by            | body                               | answer                         |
 * |---------|--------------------|------------------------------------|--------------------------------|
 * | open    | participant 0      | the terms: params but its payee only | {payee, channelId}: the peer's |
 * | channel | either             | {channelId, message} (channel msg) | the reply message, or {}       |
 * | sync    | either             | {channelId, version}               | SyncReply: the newer states    |
 * | refresh | either             | {channelId}                        | {} (after re-reading deposits) |
 * | withdrawals | either         | {channelId}                        | {items}: the withdrawals both signed that the answerer counts |
 */
import {
  MAX_PAYMENTS_PER_STATE,
  decodeMessage,
  decodePayment,
  decodeSignedState,
  decodeSignedWithdrawal,
  encodePayment,
  encodeSignedState,
  encodeSignedWithdrawal,
} from "../channel";
import type { ChannelMessage, JsonPayment, JsonSignedState, JsonSignedWithdrawal } from "../channel";
import { MalformedMessageError } from "../errors";
import type { Address, Hex, Params, Payment, SignedState, SignedWithdrawal } from "../types";
import { addressField, bytes32Field, strictObject, uintField, type Validators } from "./transport";

const MAX_UINT64 = (1n << 64n) - 1n;
/** States a sync reply carries at most (each adds up to MAX_PAYMENTS_PER_STATE payments); a node further behind asks again. */
export const SYNC_PAGE = 64;

/**
 * Participant 0's offer of a channel: the params without participant 1's payee, which participant
 * 1 announces in its answer (its own choice, its address by default).
 */
export interface OpenTerms {
  participants: [Address, Address];
  /** Participant 0's payee. */
  payee: Address;
  asset: Address;
  challengePeriod: bigint;
  nonce: bigint;
}

export interface OpenBody {
  params: OpenTerms;
}

/** Participant 1's answer to `open`: its payee, and the id of the channel both now store. */
export interface OpenReply {
  payee: Address;
  channelId: Hex;
}

/** The params of the channel `terms` open once participant 1 announced `payee1`. */
export function paramsOf(terms: OpenTerms, payee1: Address): Params {
  return {
    participants: [terms.participants[0], terms.participants[1]],
    payees: [terms.payee, payee1],
    asset: terms.asset,
    challengePeriod: terms.challengePeriod,
    nonce: terms.nonce,
  };
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

/** "Which withdrawals of this channel, signed by both, do you count?" (after a reconnect). */
export interface WithdrawalsBody {
  channelId: Hex;
}

/** Live withdrawals one side holds at most: far more than two sides ever keep pending at once. */
export const MAX_LIVE_WITHDRAWALS = 64;

export interface PeerMessages {
  open: OpenBody;
  channel: ChannelBody;
  sync: SyncBody;
  refresh: RefreshBody;
  withdrawals: WithdrawalsBody;
}

function uint64(obj: Record<string, unknown>, key: string, path: string): bigint {
  const value = uintField(obj, key, path);
  if (value > MAX_UINT64) throw new MalformedMessageError(`${path}.${key}`, "exceeds uint64");
  return value;
}

function addressPair(obj: Record<string, unknown>, key: string, path: string): [Address, Address] {
  const value = obj[key];
  if (!Array.isArray(value) || value.length !== 2) throw new MalformedMessageError(`${path}.${key}`, "must be an array of two addresses");
  const pair = { 0: value[0], 1: value[1] } as Record<string, unknown>;
  return [addressField(pair, "0", `${path}.${key}`), addressField(pair, "1", `${path}.${key}`)];
}

export function decodeOpenTerms(input: unknown, path = "params"): OpenTerms {
  const obj = strictObject(input, path, ["participants", "payee", "asset", "challengePeriod", "nonce"]);
  return {
    participants: addressPair(obj, "participants", path),
    payee: addressField(obj, "payee", path),
    asset: addressField(obj, "asset", path),
    challengePeriod: uint64(obj, "challengePeriod", path),
    nonce: uint64(obj, "nonce", path),
  };
}

export function encodeOpenTerms(terms: OpenTerms): Record<string, unknown> {
  return {
    participants: [...terms.participants],
    payee: terms.payee,
    asset: terms.asset,
    challengePeriod: terms.challengePeriod.toString(),
    nonce: terms.nonce.toString(),
  };
}

export function decodeOpenReply(input: unknown): OpenReply {
  const obj = strictObject(input, "reply", ["payee", "channelId"]);
  return { payee: addressField(obj, "payee", "reply"), channelId: bytes32Field(obj, "channelId", "reply").toLowerCase() as Hex };
}

export const peerValidators: Validators<PeerMessages> = {
  open(body) {
    const obj = strictObject(body, "body", ["params"]);
    return { params: decodeOpenTerms(obj.params, "body.params") };
  },
  channel(body) {
    const obj = strictObject(body, "body", ["channelId", "message"]);
    return { channelId: bytes32Field(obj, "channelId", "body"), message: decodeMessage(obj.message) };
  },
  refresh(body) {
    const obj = strictObject(body, "body", ["channelId"]);
    return { channelId: bytes32Field(obj, "channelId", "body") };
  },
  withdrawals(body) {
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

export function encodeWithdrawalsReply(items: readonly SignedWithdrawal[]): { items: JsonSignedWithdrawal[] } {
  return { items: items.map(encodeSignedWithdrawal) };
}

export function decodeWithdrawalsReply(input: unknown): SignedWithdrawal[] {
  const obj = strictObject(input, "reply", ["items"]);
  if (!Array.isArray(obj.items) || obj.items.length > MAX_LIVE_WITHDRAWALS) {
    throw new MalformedMessageError("reply.items", `must be an array of at most ${MAX_LIVE_WITHDRAWALS}`);
  }
  return obj.items.map((raw, i) => decodeSignedWithdrawal(raw, `reply.items[${i}]`));
}
