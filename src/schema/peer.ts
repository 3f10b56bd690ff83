/**
 * What a peer may send: the channel messages (channel/messages.ts types them) and the bodies of
 * the node protocol's requests and replies (node/protocol.ts). Channel messages accept their JSON
 * form or the typed form (bigints), checked alike; unknown keys of a message are dropped, unknown
 * keys of a protocol body are refused.
 */
import { z } from "zod";
import type { Lock, Payment, SignedState, SignedWithdrawal, State, Withdrawal } from "../types";
import { address, boolean, bytes, bytes32, int, list, pair, participant, text, uint256, uint64 } from "./primitives";

/** Most payments one state may add: keeps a proposal well inside a transport frame (about 250 bytes each). */
export const MAX_PAYMENTS_PER_STATE = 128;
/** Longest signature accepted from a peer (a contract wallet's may exceed 65 bytes). */
export const MAX_SIGNATURE_BYTES = 4096;
/** States a sync reply carries at most (each adds up to MAX_PAYMENTS_PER_STATE payments); a node further behind asks again. */
export const SYNC_PAGE = 64;
/** Live withdrawals one side holds at most: far more than two sides ever keep pending at once. */
export const MAX_LIVE_WITHDRAWALS = 64;

export const signature = bytes(MAX_SIGNATURE_BYTES);

export const state: z.ZodType<State, unknown> = z.object({
  channelId: bytes32,
  version: uint64,
  transferred: pair(uint256),
  locked: pair(uint256),
  locksRoot: bytes32,
  paymentsRoot: bytes32,
  isFinal: boolean,
});

export const payment: z.ZodType<Payment, unknown> = z.object({
  channelId: bytes32,
  seq: uint64,
  payer: participant,
  amount: uint256,
  ref: bytes32,
});

export const lock: z.ZodType<Lock, unknown> = z.object({
  channelId: bytes32,
  sender: participant,
  amount: uint256,
  hashlock: bytes32,
  expiry: uint64,
  ref: bytes32,
});

export const withdrawal: z.ZodType<Withdrawal, unknown> = z.object({
  channelId: bytes32,
  participant,
  total: uint256,
  expiry: uint64,
});

export const signedState: z.ZodType<SignedState, unknown> = z.object({ state, sigs: pair(signature) });
export const signedWithdrawal: z.ZodType<SignedWithdrawal, unknown> = z.object({ withdrawal, sigs: pair(signature) });

const proposedPayment = z.object({ payment, request: uint64.optional() });

const paymentProposal = z.object({ kind: z.literal("payment"), payment, state, sig: signature, request: uint64.optional() });
/** The hot message: up to MAX_PAYMENTS_PER_STATE payments under one signature (channel/messages.ts decodes it by hand, to this schema). */
export const batchProposal = z.object({
  kind: z.literal("payments"),
  payments: list(proposedPayment, MAX_PAYMENTS_PER_STATE, 1),
  state,
  sig: signature,
});

/** One update of an `updates` proposal (channel/messages.ts `StateUpdate`); `request` is participant 1's request id when it asked for it. */
export const stateUpdate = z.discriminatedUnion("op", [
  z.object({ op: z.literal("pay"), payment, request: uint64.optional() }),
  z.object({ op: z.literal("lock"), lock, request: uint64.optional() }),
  z.object({ op: z.literal("unlock"), lock, secret: bytes32, request: uint64.optional() }),
  z.object({ op: z.literal("cancel"), lock, request: uint64.optional() }),
  z.object({ op: z.literal("expire"), lock, request: uint64.optional() }),
]);

/** What participant 1 asks participant 0 to propose (channel/messages.ts `RequestedUpdate`); a lock by name of its leaf. */
export const requestedUpdate = z.discriminatedUnion("op", [
  z.object({ op: z.literal("lock"), amount: uint256, hashlock: bytes32, expiry: uint64, ref: bytes32 }),
  z.object({ op: z.literal("unlock"), leaf: bytes32, secret: bytes32 }),
  z.object({ op: z.literal("cancel"), leaf: bytes32 }),
  z.object({ op: z.literal("expire"), leaf: bytes32 }),
]);

/** A proposal of payments and lock updates in one state (payment-only batches travel as `payments`). */
export const updatesProposal = z.object({
  kind: z.literal("updates"),
  updates: list(stateUpdate, MAX_PAYMENTS_PER_STATE, 1),
  state,
  sig: signature,
});

export const channelMessage = z.discriminatedUnion("kind", [
  paymentProposal,
  batchProposal,
  z.object({ kind: z.literal("final"), state, sig: signature }),
  z.object({ kind: z.literal("ack"), version: uint64, sig: signature }),
  z.object({ kind: z.literal("request"), id: uint64, amount: uint256, ref: bytes32 }),
  updatesProposal,
  z.object({ kind: z.literal("update-request"), id: uint64, update: requestedUpdate }),
  z.object({ kind: z.literal("final-request") }),
  z.object({ kind: z.literal("withdrawal"), withdrawal, sig: signature }),
  z.object({ kind: z.literal("withdrawal-ack"), total: uint256, sig: signature }),
]);

// ---------------------------------------------------------------- node protocol bodies

export const openTerms = z.strictObject({
  participants: pair(address),
  payee: address,
  asset: address,
  challengePeriod: uint64,
  nonce: uint64,
});

export const openReply = z.strictObject({ payee: address, channelId: bytes32 });

const byChannel = z.strictObject({ channelId: bytes32 });

/** Most hubs between a payer and a payee (an explicit route names at most this many). */
export const MAX_ROUTE_HOPS = 3;
/** Longest invoice text a route instruction carries (a `sluice1…` string or its JSON). */
export const MAX_INVOICE_TEXT = 4096;
/** Most peers a hub lists in its `hub-info` reply. */
export const MAX_HUB_PEERS = 1024;

/** One hop of a route: the peer to lock to, the amount to lock and, optionally, the latest expiry. */
const routeHop = z.strictObject({ next: address, amount: uint256, expiry: uint64.optional() });

/**
 * A route instruction: what the receiving hub does with the lock of `hashlock` it is about to
 * get: `hops[0]` is its own forward, the rest it passes on; the last hop's `next` is the payee of
 * `invoice`.
 */
export const routeBody = z.strictObject({ hashlock: bytes32, invoice: text(MAX_INVOICE_TEXT), hops: list(routeHop, MAX_ROUTE_HOPS, 1) });

/** Why a routed lock came back: `hop` is the node that could not forward it. */
export const routeFailedBody = z.strictObject({ hashlock: bytes32, hop: address, code: text(64), reason: text(1024) });

/** Asks a hub for its fees and the peers it reaches; `via` relays the question to those hubs in turn (a route's later hops). */
export const hubInfoBody = z.strictObject({ via: list(address, MAX_ROUTE_HOPS - 1).optional() });

export const hubInfoReply = z.strictObject({
  address,
  fees: z.strictObject({ base: uint256, ppm: int(0, 1_000_000) }),
  peers: list(z.strictObject({ peer: address, asset: address, capacity: uint256 }), MAX_HUB_PEERS),
  // Seconds; absent from a hub that publishes none (the payer then plans with its own).
  lockWindow: uint64.optional(),
  maxLockDuration: uint64.optional(),
});

/** Request bodies by type; `channel`'s message is decoded by `channelMessage` (see protocol.ts). */
export const peerBodies = {
  route: routeBody,
  "route-failed": routeFailedBody,
  "hub-info": hubInfoBody,
  open: z.strictObject({ params: openTerms }),
  channel: z.strictObject({ channelId: bytes32, message: z.unknown() }),
  sync: z.strictObject({ channelId: bytes32, version: uint64 }),
  refresh: byChannel,
  withdrawals: byChannel,
};

export const syncReply = z.strictObject({
  items: list(
    z.strictObject({ signed: signedState, payments: list(payment, MAX_PAYMENTS_PER_STATE), updates: list(stateUpdate, MAX_PAYMENTS_PER_STATE, 1).optional() }),
    SYNC_PAGE,
  ),
  more: boolean,
});

export const withdrawalsReply = z.strictObject({ items: list(signedWithdrawal, MAX_LIVE_WITHDRAWALS) });
