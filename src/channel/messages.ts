import { MalformedMessageError } from "../errors";
import { decodeWith } from "../schema/decode";
import * as schema from "../schema/peer";
import { MAX_PAYMENTS_PER_STATE, MAX_SIGNATURE_BYTES } from "../schema/peer";
import { checkBytes, checkBytes32, checkUint, describe, type Checked } from "../schema/primitives";
import type { Hex, Lock, Payment, SignedState, SignedWithdrawal, State, Withdrawal } from "../types";

/**
 * Participant 0's half of a payment: the payment, the next state with it, and participant 0's
 * signature. A payment by participant 1 (payer 1) answers participant 1's request `request`.
 */
export interface PaymentProposal {
  kind: "payment";
  payment: Payment;
  state: State;
  sig: Hex;
  /** The id of the request this payment answers: present iff `payment.payer` is 1. */
  request?: bigint;
}

/**
 * Participant 1 asks participant 0 to propose a payment by participant 1; `id` is participant 1's
 * per-channel request number, strictly increasing. Unsigned: participant 1 countersigns the
 * resulting proposal only if it matches an outstanding request.
 */
export interface PaymentRequest {
  kind: "request";
  id: bigint;
  amount: bigint;
  ref: Hex;
}

/** A payment in a batch proposal, with the participant-1 request it answers (payer 1 only). */
export interface ProposedPayment {
  payment: Payment;
  /** The id of the request this payment answers: present iff `payment.payer` is 1. */
  request?: bigint;
}

/**
 * Participant 0's proposal of one state that adds several payments at once (consecutive seqs, in
 * order), with participant 0's signature: one signature and one countersignature for the lot.
 * Participant 1 checks every payment as it checks a single one.
 */
export interface BatchProposal {
  kind: "payments";
  payments: ProposedPayment[];
  state: State;
  sig: Hex;
}

export { MAX_PAYMENTS_PER_STATE, MAX_SIGNATURE_BYTES };

/**
 * One update of a state, in the order the state applies them. `request` is participant 1's request
 * id: present iff participant 1 is the acting party (see DESIGN.md and `actingParty`).
 * - `pay`: a payment, as in a `payments` batch.
 * - `lock`: adds the lock (its `sender` pays it into `locked[sender]`).
 * - `unlock`: the secret (`sha256(secret) == lock.hashlock`) turns the lock into a transfer by its
 *   sender and appends the receipt `{payer: sender, amount, ref: lock.ref}` to the payments log at
 *   the next `seq`. Either side may hand it in.
 * - `cancel`: the lock's receiver gives it back to its sender.
 * - `expire`: the lock's sender drops it after its expiry, its secret unrevealed on chain in time.
 */
export type StateUpdate =
  | { op: "pay"; payment: Payment; request?: bigint }
  | { op: "lock"; lock: Lock; request?: bigint }
  | { op: "unlock"; lock: Lock; secret: Hex; request?: bigint }
  | { op: "cancel"; lock: Lock; request?: bigint }
  | { op: "expire"; lock: Lock; request?: bigint };

/** A lock update (every `StateUpdate` but a payment). */
export type LockUpdate = Exclude<StateUpdate, { op: "pay" }>;

/** What an update request of participant 1 asks for: a lock it sends, or an unlock, cancel or expiry of the pending lock with this leaf. */
export type RequestedUpdate =
  | { op: "lock"; amount: bigint; hashlock: Hex; expiry: bigint; ref: Hex }
  | { op: "unlock"; leaf: Hex; secret: Hex }
  | { op: "cancel"; leaf: Hex }
  | { op: "expire"; leaf: Hex };

/**
 * Participant 1 asks participant 0 to propose a lock update it acts in; `id` comes from the same
 * strictly increasing sequence as its payment requests. Participant 1 countersigns the proposal
 * only if it matches an outstanding request.
 */
export interface UpdateRequest {
  kind: "update-request";
  id: bigint;
  update: RequestedUpdate;
}

/**
 * Participant 0's proposal of one state that applies payments and lock updates in order, with its
 * signature. A state whose updates are all payments travels as a `payments` batch instead.
 */
export interface UpdatesProposal {
  kind: "updates";
  updates: StateUpdate[];
  state: State;
  sig: Hex;
}

/** Participant 1 asks participant 0 to propose the final state. */
export interface FinalRequest {
  kind: "final-request";
}

/** A closing state (same transfers and root, `isFinal`), signed by its proposer. */
export interface FinalProposal {
  kind: "final";
  state: State;
  sig: Hex;
}

/** The countersignature of the proposal with this version. */
export interface StateAck {
  kind: "ack";
  version: bigint;
  sig: Hex;
}

/**
 * Either participant asks to withdraw from the open channel: the withdrawal (its own index, its
 * cumulative total, an expiry) and its signature. The peer countersigns it if it can afford it.
 */
export interface WithdrawalProposal {
  kind: "withdrawal";
  withdrawal: Withdrawal;
  sig: Hex;
}

/** The countersignature of the proposed withdrawal with this cumulative total. */
export interface WithdrawalAck {
  kind: "withdrawal-ack";
  total: bigint;
  sig: Hex;
}

/** Every message two channel sides exchange. */
export type ChannelMessage =
  | PaymentProposal
  | BatchProposal
  | FinalProposal
  | StateAck
  | PaymentRequest
  | UpdatesProposal
  | UpdateRequest
  | FinalRequest
  | WithdrawalProposal
  | WithdrawalAck;

// ------------------------------------------------------------------ JSON forms (bigint as decimal strings)

export interface JsonState {
  channelId: string;
  version: string;
  transferred: [string, string];
  locked: [string, string];
  locksRoot: string;
  paymentsRoot: string;
  isFinal: boolean;
}

export interface JsonPayment {
  channelId: string;
  seq: string;
  payer: 0 | 1;
  amount: string;
  ref: string;
}

export interface JsonSignedState {
  state: JsonState;
  sigs: [string, string];
}

export interface JsonWithdrawal {
  channelId: string;
  participant: 0 | 1;
  total: string;
  expiry: string;
}

export interface JsonSignedWithdrawal {
  withdrawal: JsonWithdrawal;
  sigs: [string, string];
}

export interface JsonLock {
  channelId: string;
  sender: 0 | 1;
  amount: string;
  hashlock: string;
  expiry: string;
  ref: string;
}

export type JsonStateUpdate =
  | { op: "pay"; payment: JsonPayment; request?: string }
  | { op: "lock" | "cancel" | "expire"; lock: JsonLock; request?: string }
  | { op: "unlock"; lock: JsonLock; secret: string; request?: string };

export type JsonRequestedUpdate =
  | { op: "lock"; amount: string; hashlock: string; expiry: string; ref: string }
  | { op: "unlock"; leaf: string; secret: string }
  | { op: "cancel" | "expire"; leaf: string };

export interface JsonProposedPayment {
  payment: JsonPayment;
  request?: string;
}

export type JsonChannelMessage =
  | { kind: "payment"; payment: JsonPayment; state: JsonState; sig: string; request?: string }
  | { kind: "payments"; payments: JsonProposedPayment[]; state: JsonState; sig: string }
  | { kind: "final"; state: JsonState; sig: string }
  | { kind: "ack"; version: string; sig: string }
  | { kind: "request"; id: string; amount: string; ref: string }
  | { kind: "updates"; updates: JsonStateUpdate[]; state: JsonState; sig: string }
  | { kind: "update-request"; id: string; update: JsonRequestedUpdate }
  | { kind: "final-request" }
  | { kind: "withdrawal"; withdrawal: JsonWithdrawal; sig: string }
  | { kind: "withdrawal-ack"; total: string; sig: string };


// ------------------------------------------------------------------ encoding

export function encodeState(state: State): JsonState {
  return {
    channelId: state.channelId,
    version: state.version.toString(),
    transferred: [state.transferred[0].toString(), state.transferred[1].toString()],
    locked: [state.locked[0].toString(), state.locked[1].toString()],
    locksRoot: state.locksRoot,
    paymentsRoot: state.paymentsRoot,
    isFinal: state.isFinal,
  };
}

export function encodePayment(payment: Payment): JsonPayment {
  return {
    channelId: payment.channelId,
    seq: payment.seq.toString(),
    payer: payment.payer,
    amount: payment.amount.toString(),
    ref: payment.ref,
  };
}

export function encodeLock(lock: Lock): JsonLock {
  return {
    channelId: lock.channelId,
    sender: lock.sender,
    amount: lock.amount.toString(),
    hashlock: lock.hashlock,
    expiry: lock.expiry.toString(),
    ref: lock.ref,
  };
}

function encodeUpdate(update: StateUpdate): JsonStateUpdate {
  let json: JsonStateUpdate;
  if (update.op === "pay") json = { op: "pay", payment: encodePayment(update.payment) };
  else if (update.op === "unlock") json = { op: "unlock", lock: encodeLock(update.lock), secret: update.secret };
  else json = { op: update.op, lock: encodeLock(update.lock) };
  if (update.request !== undefined) json.request = update.request.toString();
  return json;
}

function encodeRequestedUpdate(update: RequestedUpdate): JsonRequestedUpdate {
  switch (update.op) {
    case "lock":
      return { op: "lock", amount: update.amount.toString(), hashlock: update.hashlock, expiry: update.expiry.toString(), ref: update.ref };
    case "unlock":
      return { op: "unlock", leaf: update.leaf, secret: update.secret };
    default:
      return { op: update.op, leaf: update.leaf };
  }
}

export function encodeWithdrawal(w: Withdrawal): JsonWithdrawal {
  return { channelId: w.channelId, participant: w.participant, total: w.total.toString(), expiry: w.expiry.toString() };
}

export function encodeSignedWithdrawal(signed: SignedWithdrawal): JsonSignedWithdrawal {
  return { withdrawal: encodeWithdrawal(signed.withdrawal), sigs: [signed.sigs[0], signed.sigs[1]] };
}

export function encodeSignedState(signed: SignedState): JsonSignedState {
  return { state: encodeState(signed.state), sigs: [signed.sigs[0], signed.sigs[1]] };
}

/** The JSON-safe form of a message (bigints as decimal strings); `JSON.stringify` it as is. */
export function encodeMessage(message: ChannelMessage): JsonChannelMessage {
  switch (message.kind) {
    case "payment": {
      const json: JsonChannelMessage = { kind: "payment", payment: encodePayment(message.payment), state: encodeState(message.state), sig: message.sig };
      if (message.request !== undefined) json.request = message.request.toString();
      return json;
    }
    case "payments":
      return {
        kind: "payments",
        payments: message.payments.map(({ payment, request }) =>
          request === undefined ? { payment: encodePayment(payment) } : { payment: encodePayment(payment), request: request.toString() },
        ),
        state: encodeState(message.state),
        sig: message.sig,
      };
    case "final":
      return { kind: "final", state: encodeState(message.state), sig: message.sig };
    case "ack":
      return { kind: "ack", version: message.version.toString(), sig: message.sig };
    case "request":
      return { kind: "request", id: message.id.toString(), amount: message.amount.toString(), ref: message.ref };
    case "updates":
      return { kind: "updates", updates: message.updates.map(encodeUpdate), state: encodeState(message.state), sig: message.sig };
    case "update-request":
      return { kind: "update-request", id: message.id.toString(), update: encodeRequestedUpdate(message.update) };
    case "final-request":
      return { kind: "final-request" };
    case "withdrawal":
      return { kind: "withdrawal", withdrawal: encodeWithdrawal(message.withdrawal), sig: message.sig };
    case "withdrawal-ack":
      return { kind: "withdrawal-ack", total: message.total.toString(), sig: message.sig };
  }
}

// ------------------------------------------------------------------ decoding untrusted input

export const malformed = (path: string, problem: string) => new MalformedMessageError(path || "message", problem);

/** A `State` from its JSON form (or a typed state to check), normalised to lower-case hex. */
export function decodeState(input: unknown, path = "state"): State {
  return decodeWith(schema.state, input, malformed, path);
}

/** A `Payment` from its JSON form (or a typed payment to check). */
export function decodePayment(input: unknown, path = "payment"): Payment {
  return decodeWith(schema.payment, input, malformed, path);
}

/** A `Lock` from its JSON form (or a typed lock to check). */
export function decodeLock(input: unknown, path = "lock"): Lock {
  return decodeWith(schema.lock, input, malformed, path);
}

/** A `Withdrawal` from its JSON form (or a typed withdrawal to check). */
export function decodeWithdrawal(input: unknown, path = "withdrawal"): Withdrawal {
  return decodeWith(schema.withdrawal, input, malformed, path);
}

/** A `SignedWithdrawal` from its JSON form. */
export function decodeSignedWithdrawal(input: unknown, path = "signedWithdrawal"): SignedWithdrawal {
  return decodeWith(schema.signedWithdrawal, input, malformed, path);
}

/** A `SignedState` from its JSON form. */
export function decodeSignedState(input: unknown, path = "signedState"): SignedState {
  return decodeWith(schema.signedState, input, malformed, path);
}

/** Messages the node's transport decoded already: the channel takes them as they are (see `trustDecoded`). */
const decoded = new WeakSet<object>();

/**
 * A channel message from untrusted input: its JSON form as `encodeMessage` makes it, or a typed
 * message (bigints) to check. Throws `MalformedMessageError` naming the first bad field. A batch
 * proposal (the hot message) goes through `decodeBatchProposal`, a hand-tuned decoder that
 * accepts exactly what the schema accepts (test/schema/batch.test.ts).
 */
export function decodeMessage(input: unknown): ChannelMessage {
  if (typeof input === "object" && input !== null && decoded.has(input)) return input as ChannelMessage;
  if (typeof input === "object" && input !== null && (input as { kind?: unknown }).kind === "payments") return decodeBatchProposal(input);
  return decodeWith(schema.channelMessage, input, malformed);
}

/**
 * `decodeMessage`, once, for the node's transport: the result is frozen (nothing can change it
 * after the check) and marked, so the channel's own `decodeMessage` of it returns it as is instead
 * of decoding the same message a second time.
 */
export function decodeTrustedMessage(input: unknown): ChannelMessage {
  const message = deepFreeze(decodeMessage(input));
  decoded.add(message);
  return message;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/** `decodeMessage` that also requires the given kind. */
export function decodeMessageOf<K extends ChannelMessage["kind"]>(kind: K, input: unknown): Extract<ChannelMessage, { kind: K }> {
  const message = decodeMessage(input);
  if (message.kind !== kind) throw new MalformedMessageError("kind", `expected "${kind}"`);
  return message as Extract<ChannelMessage, { kind: K }>;
}

// ------------------------------------------------------------------ the batch proposal, by hand

/** The checked value, or a `MalformedMessageError` at `path` ("missing" if absent, as the schema says). */
function field<T>(value: unknown, check: (value: unknown) => Checked<T>, path: string): T {
  const result = check(value);
  if (result.ok) return result.value;
  throw new MalformedMessageError(path, value === undefined ? "missing" : result.problem);
}

const uint64 = (value: unknown): Checked<bigint> => checkUint(value, 64, true);
const uint256 = (value: unknown): Checked<bigint> => checkUint(value, 256, true);
const signature = (value: unknown): Checked<Hex> => checkBytes(value, MAX_SIGNATURE_BYTES);

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedMessageError(path, value === undefined ? "missing" : `expected an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

function uintPair(value: unknown, path: string): [bigint, bigint] {
  if (!Array.isArray(value) || value.length !== 2) throw new MalformedMessageError(path, value === undefined ? "missing" : `expected an array of 2 items, got ${describe(value)}`);
  return [field(value[0], uint256, `${path}[0]`), field(value[1], uint256, `${path}[1]`)];
}

function handState(input: unknown, path: string): State {
  const o = record(input, path);
  const channelId = field(o.channelId, checkBytes32, `${path}.channelId`);
  const version = field(o.version, uint64, `${path}.version`);
  const transferred = uintPair(o.transferred, `${path}.transferred`);
  const locked = uintPair(o.locked, `${path}.locked`);
  const locksRoot = field(o.locksRoot, checkBytes32, `${path}.locksRoot`);
  const paymentsRoot = field(o.paymentsRoot, checkBytes32, `${path}.paymentsRoot`);
  if (typeof o.isFinal !== "boolean") throw new MalformedMessageError(`${path}.isFinal`, o.isFinal === undefined ? "missing" : `expected true or false, got ${describe(o.isFinal)}`);
  return { channelId, version, transferred, locked, locksRoot, paymentsRoot, isFinal: o.isFinal };
}

function handPayment(input: unknown, path: string): Payment {
  const o = record(input, path);
  const channelId = field(o.channelId, checkBytes32, `${path}.channelId`);
  const seq = field(o.seq, uint64, `${path}.seq`);
  const payer = o.payer;
  if (payer !== 0 && payer !== 1) throw new MalformedMessageError(`${path}.payer`, payer === undefined ? "missing" : `expected 0 or 1, got ${describe(payer)}`);
  const amount = field(o.amount, uint256, `${path}.amount`);
  return { channelId, seq, payer, amount, ref: field(o.ref, checkBytes32, `${path}.ref`) };
}

/**
 * A batch proposal, decoded by hand: the schema `batchProposal` costs several times more on 128
 * payments (scripts/bench/decode.ts). Same checks in the same order, same paths.
 */
export function decodeBatchProposal(input: unknown): BatchProposal {
  const o = record(input, "message");
  if (o.kind !== "payments") throw new MalformedMessageError("kind", `expected "payments", got ${describe(o.kind)}`);
  const raw = o.payments;
  if (!Array.isArray(raw)) throw new MalformedMessageError("payments", raw === undefined ? "missing" : `expected an array of 1 to ${MAX_PAYMENTS_PER_STATE} items, got ${describe(raw)}`);
  if (raw.length === 0) throw new MalformedMessageError("payments", `expected an array of 1 to ${MAX_PAYMENTS_PER_STATE} items`);
  if (raw.length > MAX_PAYMENTS_PER_STATE) throw new MalformedMessageError("payments", `more than ${MAX_PAYMENTS_PER_STATE} items`);
  const payments: ProposedPayment[] = new Array<ProposedPayment>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const item = record(raw[i], `payments[${i}]`);
    const payment = handPayment(item.payment, `payments[${i}].payment`);
    payments[i] = item.request === undefined ? { payment } : { payment, request: field(item.request, uint64, `payments[${i}].request`) };
  }
  const state = handState(o.state, "state");
  return { kind: "payments", payments, state, sig: field(o.sig, signature, "sig") };
}
