/**
 * What two Sluice nodes say to each other over the authenticated transport: the message types,
 * their bodies and the validators the transport runs on every frame before anything else.
 *
 * | type    | sent by            | body                               | answer                         |
 * |---------|--------------------|------------------------------------|--------------------------------|
 * | open    | participant 0      | the terms: params but its payee only | {payee, channelId}: the peer's |
 * | channel | either             | {channelId, message} (channel msg) | the reply message, or {}       |
 * | sync    | either             | {channelId, version}               | SyncReply: the newer states (with their updates if they changed locks) |
 * | refresh | either             | {channelId}                        | {} (after re-reading deposits) |
 * | withdrawals | either         | {channelId}                        | {items}: the withdrawals both signed that the answerer counts |
 * | route   | payer or hub, to the next hub | RouteBody: what to do with the lock of a hashlock about to come | {} once kept |
 * | route-failed | hub, to the node upstream | RouteFailure: the routed lock comes back cancelled, and why | {} |
 * | hub-info | either            | {via?}: relayed to each hub of `via` in turn | HubInfo: fees and the peers reached |
 */
import { encodeMessage, encodePayment, encodeSignedState, encodeSignedWithdrawal } from "../channel";
import { decodeTrustedMessage } from "../channel/messages";
import type { ChannelMessage, JsonPayment, JsonSignedState, JsonSignedWithdrawal, JsonStateUpdate, StateUpdate } from "../channel";
import { MalformedMessageError } from "../errors";
import { decodeWith } from "../schema/decode";
import * as schema from "../schema/peer";
import type { Address, Hex, Params, Payment, SignedState, SignedWithdrawal } from "../types";
import type { Validators } from "./transport";

export { SYNC_PAGE, MAX_LIVE_WITHDRAWALS } from "../schema/peer";

/** A peer's body failed its schema: the error names the field under `root`. */
const malformedAt = (root: string) => (path: string, problem: string) => new MalformedMessageError(path ? `${root}.${path}` : root, problem);

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

/** One countersigned state and the payments it added, as the store keeps them; with its updates if it changed locks. */
export interface SyncItem {
  signed: SignedState;
  payments: Payment[];
  updates?: StateUpdate[];
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


/** One hop of a route: lock `amount` to `next` (expiring at `expiry` at the latest, if given). */
export interface RouteHop {
  next: Address;
  amount: bigint;
  expiry?: bigint;
}

/** A route instruction (plain data): `hops[0]` is the receiving hub's forward, the rest it passes on; the last `next` is the invoice's payee. */
export interface RouteBody {
  hashlock: Hex;
  /** The invoice paid (its `sluice1…` text): the last hub checks payee, amount and asset against it. */
  invoice: string;
  hops: RouteHop[];
}

/** A routed lock could not go on: `hop` is the node that refused, `code` its error code. */
export interface RouteFailure {
  hashlock: Hex;
  hop: Address;
  code: string;
  reason: string;
}

export interface HubInfoBody {
  /** Hubs to relay the question to, in order (the answer is the last one's). */
  via?: Address[];
}

/**
 * A hub's answer to `hub-info`: its fees, per peer and asset how much it can lock to it now, and
 * its lock rules that a payer plans expiries with (its reveal window and longest lock, seconds).
 */
export interface HubInfo {
  address: Address;
  fees: { base: bigint; ppm: number };
  peers: { peer: Address; asset: Address; capacity: bigint }[];
  lockWindow?: bigint;
  maxLockDuration?: bigint;
}

export interface PeerMessages {
  route: RouteBody;
  "route-failed": RouteFailure;
  "hub-info": HubInfoBody;
  open: OpenBody;
  channel: ChannelBody;
  sync: SyncBody;
  refresh: RefreshBody;
  withdrawals: WithdrawalsBody;
}

export function decodeOpenTerms(input: unknown, path = "params"): OpenTerms {
  return decodeWith(schema.openTerms, input, malformedAt(path));
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
  return decodeWith(schema.openReply, input, malformedAt("reply"));
}

/**
 * The bodies of the peer's requests, each decoded once: a channel message is frozen and marked
 * decoded, so the channel takes it as it is (channel/messages.ts `decodeTrustedMessage`).
 */
export const peerValidators: Validators<PeerMessages> = {
  route: (body) => decodeWith(schema.peerBodies.route, body, malformedAt("body")),
  "route-failed": (body) => decodeWith(schema.peerBodies["route-failed"], body, malformedAt("body")),
  "hub-info": (body) => decodeWith(schema.peerBodies["hub-info"], body, malformedAt("body")),
  open: (body) => decodeWith(schema.peerBodies.open, body, malformedAt("body")),
  channel(body) {
    const { channelId, message } = decodeWith(schema.peerBodies.channel, body, malformedAt("body"));
    return { channelId, message: decodeTrustedMessage(message) };
  },
  refresh: (body) => decodeWith(schema.peerBodies.refresh, body, malformedAt("body")),
  withdrawals: (body) => decodeWith(schema.peerBodies.withdrawals, body, malformedAt("body")),
  sync: (body) => decodeWith(schema.peerBodies.sync, body, malformedAt("body")),
};

type JsonSyncItem = { signed: JsonSignedState; payments: JsonPayment[]; updates?: JsonStateUpdate[] };

export function encodeSyncReply(reply: SyncReply): { items: JsonSyncItem[]; more: boolean } {
  return {
    items: reply.items.map((item) => {
      const json: JsonSyncItem = { signed: encodeSignedState(item.signed), payments: item.payments.map(encodePayment) };
      if (item.updates) json.updates = encodeUpdates(item.signed, item.updates);
      return json;
    }),
    more: reply.more,
  };
}

/** A state's updates in their JSON form (as an `updates` proposal carries them). */
function encodeUpdates(signed: SignedState, updates: StateUpdate[]): JsonStateUpdate[] {
  const json = encodeMessage({ kind: "updates", updates, state: signed.state, sig: signed.sigs[0] });
  return json.kind === "updates" ? json.updates : [];
}

export function decodeSyncReply(input: unknown): SyncReply {
  return decodeWith(schema.syncReply, input, malformedAt("reply"));
}

export function encodeWithdrawalsReply(items: readonly SignedWithdrawal[]): { items: JsonSignedWithdrawal[] } {
  return { items: items.map(encodeSignedWithdrawal) };
}

export function decodeWithdrawalsReply(input: unknown): SignedWithdrawal[] {
  return decodeWith(schema.withdrawalsReply, input, malformedAt("reply")).items;
}

export function encodeRoute(body: RouteBody): Record<string, unknown> {
  return {
    hashlock: body.hashlock,
    invoice: body.invoice,
    hops: body.hops.map((hop) => ({ next: hop.next, amount: hop.amount.toString(), ...(hop.expiry === undefined ? {} : { expiry: hop.expiry.toString() }) })),
  };
}

export function encodeHubInfo(info: HubInfo): Record<string, unknown> {
  return {
    address: info.address,
    fees: { base: info.fees.base.toString(), ppm: info.fees.ppm },
    peers: info.peers.map((p) => ({ peer: p.peer, asset: p.asset, capacity: p.capacity.toString() })),
    ...(info.lockWindow === undefined ? {} : { lockWindow: info.lockWindow.toString() }),
    ...(info.maxLockDuration === undefined ? {} : { maxLockDuration: info.maxLockDuration.toString() }),
  };
}

export function decodeHubInfo(input: unknown): HubInfo {
  return decodeWith(schema.hubInfoReply, input, malformedAt("reply"));
}
