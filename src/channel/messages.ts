import { MalformedMessageError } from "../errors";
import { MAX_UINT256, MAX_UINT64 } from "../crypto/hash";
import type { Hex, Payment, SignedState, SignedWithdrawal, State, Withdrawal } from "../types";

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

/** Most payments one state may add: keeps a proposal well inside a transport frame (about 250 bytes each). */
export const MAX_PAYMENTS_PER_STATE = 128;

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
  | { kind: "final-request" }
  | { kind: "withdrawal"; withdrawal: JsonWithdrawal; sig: string }
  | { kind: "withdrawal-ack"; total: string; sig: string };

/** Longest signature accepted from a peer (a contract wallet's may exceed 65 bytes). */
export const MAX_SIGNATURE_BYTES = 4096;

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
    case "final-request":
      return { kind: "final-request" };
    case "withdrawal":
      return { kind: "withdrawal", withdrawal: encodeWithdrawal(message.withdrawal), sig: message.sig };
    case "withdrawal-ack":
      return { kind: "withdrawal-ack", total: message.total.toString(), sig: message.sig };
  }
}

// ------------------------------------------------------------------ decoding untrusted input

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const BYTES = /^0x(?:[0-9a-fA-F]{2})*$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedMessageError(path, "expected an object");
  }
  return value as Record<string, unknown>;
}

function bytes32(value: unknown, path: string): Hex {
  if (typeof value !== "string" || !BYTES32.test(value)) throw new MalformedMessageError(path, "expected 0x and 64 hex digits");
  return value.toLowerCase() as Hex;
}

function signature(value: unknown, path: string): Hex {
  if (typeof value !== "string" || !BYTES.test(value)) throw new MalformedMessageError(path, "expected 0x and hex bytes");
  if (value.length > 2 + 2 * MAX_SIGNATURE_BYTES) throw new MalformedMessageError(path, `longer than ${MAX_SIGNATURE_BYTES} bytes`);
  return value.toLowerCase() as Hex;
}

/** A uint from a decimal string (JSON) or a bigint (typed objects), checked against `max`. */
function uint(value: unknown, max: bigint, path: string): bigint {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "string" && DECIMAL.test(value) && value.length <= 78) n = BigInt(value);
  else throw new MalformedMessageError(path, "expected a non-negative integer as a decimal string");
  if (n < 0n || n > max) throw new MalformedMessageError(path, `out of range [0, ${max}]`);
  return n;
}

function participant(value: unknown, path: string): 0 | 1 {
  if (value !== 0 && value !== 1) throw new MalformedMessageError(path, "expected 0 or 1");
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw new MalformedMessageError(path, "expected true or false");
  return value;
}

function pairOf<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): [T, T] {
  if (!Array.isArray(value) || value.length !== 2) throw new MalformedMessageError(path, "expected a pair");
  return [item(value[0], `${path}[0]`), item(value[1], `${path}[1]`)];
}

/** A `State` from its JSON form (or a typed state to check), normalised to lower-case hex. */
export function decodeState(input: unknown, path = "state"): State {
  const o = record(input, path);
  return {
    channelId: bytes32(o.channelId, `${path}.channelId`),
    version: uint(o.version, MAX_UINT64, `${path}.version`),
    transferred: pairOf(o.transferred, `${path}.transferred`, (v, p) => uint(v, MAX_UINT256, p)),
    locked: pairOf(o.locked, `${path}.locked`, (v, p) => uint(v, MAX_UINT256, p)),
    locksRoot: bytes32(o.locksRoot, `${path}.locksRoot`),
    paymentsRoot: bytes32(o.paymentsRoot, `${path}.paymentsRoot`),
    isFinal: boolean(o.isFinal, `${path}.isFinal`),
  };
}

/** A `Payment` from its JSON form (or a typed payment to check). */
export function decodePayment(input: unknown, path = "payment"): Payment {
  const o = record(input, path);
  return {
    channelId: bytes32(o.channelId, `${path}.channelId`),
    seq: uint(o.seq, MAX_UINT64, `${path}.seq`),
    payer: participant(o.payer, `${path}.payer`),
    amount: uint(o.amount, MAX_UINT256, `${path}.amount`),
    ref: bytes32(o.ref, `${path}.ref`),
  };
}

/** A `Withdrawal` from its JSON form (or a typed withdrawal to check). */
export function decodeWithdrawal(input: unknown, path = "withdrawal"): Withdrawal {
  const o = record(input, path);
  return {
    channelId: bytes32(o.channelId, `${path}.channelId`),
    participant: participant(o.participant, `${path}.participant`),
    total: uint(o.total, MAX_UINT256, `${path}.total`),
    expiry: uint(o.expiry, MAX_UINT64, `${path}.expiry`),
  };
}

/** A `SignedWithdrawal` from its JSON form. */
export function decodeSignedWithdrawal(input: unknown, path = "signedWithdrawal"): SignedWithdrawal {
  const o = record(input, path);
  return { withdrawal: decodeWithdrawal(o.withdrawal, `${path}.withdrawal`), sigs: pairOf(o.sigs, `${path}.sigs`, signature) };
}

/** A `SignedState` from its JSON form. */
export function decodeSignedState(input: unknown, path = "signedState"): SignedState {
  const o = record(input, path);
  return { state: decodeState(o.state, `${path}.state`), sigs: pairOf(o.sigs, `${path}.sigs`, signature) };
}

function proposedPayments(value: unknown): ProposedPayment[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_PAYMENTS_PER_STATE) {
    throw new MalformedMessageError("payments", `expected an array of 1 to ${MAX_PAYMENTS_PER_STATE} payments`);
  }
  return value.map((raw, i) => {
    const o = record(raw, `payments[${i}]`);
    const item: ProposedPayment = { payment: decodePayment(o.payment, `payments[${i}].payment`) };
    if (o.request !== undefined) item.request = uint(o.request, MAX_UINT64, `payments[${i}].request`);
    return item;
  });
}

/**
 * A channel message from untrusted input: its JSON form as `encodeMessage` makes it, or a typed
 * message (bigints) to check. Throws `MalformedMessageError` naming the first bad field.
 */
export function decodeMessage(input: unknown): ChannelMessage {
  const o = record(input, "message");
  switch (o.kind) {
    case "payment": {
      const message: PaymentProposal = { kind: "payment", payment: decodePayment(o.payment), state: decodeState(o.state), sig: signature(o.sig, "sig") };
      if (o.request !== undefined) message.request = uint(o.request, MAX_UINT64, "request");
      return message;
    }
    case "payments":
      return { kind: "payments", payments: proposedPayments(o.payments), state: decodeState(o.state), sig: signature(o.sig, "sig") };
    case "final":
      return { kind: "final", state: decodeState(o.state), sig: signature(o.sig, "sig") };
    case "ack":
      return { kind: "ack", version: uint(o.version, MAX_UINT64, "version"), sig: signature(o.sig, "sig") };
    case "request":
      return { kind: "request", id: uint(o.id, MAX_UINT64, "id"), amount: uint(o.amount, MAX_UINT256, "amount"), ref: bytes32(o.ref, "ref") };
    case "final-request":
      return { kind: "final-request" };
    case "withdrawal":
      return { kind: "withdrawal", withdrawal: decodeWithdrawal(o.withdrawal), sig: signature(o.sig, "sig") };
    case "withdrawal-ack":
      return { kind: "withdrawal-ack", total: uint(o.total, MAX_UINT256, "total"), sig: signature(o.sig, "sig") };
    default:
      throw new MalformedMessageError(
        "kind",
        'expected "payment", "payments", "final", "ack", "request", "final-request", "withdrawal" or "withdrawal-ack"',
      );
  }
}

/** `decodeMessage` that also requires the given kind. */
export function decodeMessageOf<K extends ChannelMessage["kind"]>(kind: K, input: unknown): Extract<ChannelMessage, { kind: K }> {
  const message = decodeMessage(input);
  if (message.kind !== kind) throw new MalformedMessageError("kind", `expected "${kind}"`);
  return message as Extract<ChannelMessage, { kind: K }>;
}
