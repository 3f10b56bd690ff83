/**
 * The error codes of the local API: the mapping from the node's error classes to stable codes and
 * HTTP statuses (server side; the client sees them as `ApiError.code`, errors.ts).
 *
 * Codes, by class (first match wins):
 *
 * | class                                   | code                              | status |
 * |-----------------------------------------|-----------------------------------|--------|
 * | WireFormatError (request body)          | BAD_REQUEST (details.field)       | 400    |
 * | UnknownChannelError                     | NOT_FOUND (details.channelId)     | 404    |
 * | AdjudicatorRevertError subclasses       | the error's name: STATE_STALE ... | 409    |
 * | ContractRevertError (token, Error(...)) | CONTRACT_REVERT (details.errorName)| 409   |
 * | ConnectFailedError                      | PEER_UNREACHABLE                  | 502    |
 * | RequestTimeoutError                     | PEER_TIMEOUT                      | 504    |
 * | ConnectionClosedError                   | PEER_DISCONNECTED                 | 502    |
 * | HandshakeError                          | PEER_HANDSHAKE_FAILED             | 502    |
 * | RemoteError (the peer's error reply)    | PEER_ERROR (details.peerCode)     | 502    |
 * | other TransportError                    | PEER_ERROR                        | 502    |
 * | ChainResponseError                      | CHAIN_ERROR                       | 502    |
 * | InvalidArgumentError, InvalidAmountError, ValueOutOfRangeError | INVALID_ARGUMENT, INVALID_AMOUNT, VALUE_OUT_OF_RANGE | 400 |
 * | StoreError (other than the above)       | its name: STORE_OPEN, ...         | 500    |
 * | any other SluiceError `FooBarError`     | FOO_BAR (InsufficientFundsError → INSUFFICIENT_FUNDS) | 409 |
 * | anything else                           | INTERNAL (no message, no stack)   | 500    |
 *
 * `details` carries the error's own fields (bigints as decimal strings), never `cause` or stacks.
 */
import { ChainResponseError, ContractRevertError, AdjudicatorRevertError } from "../../chain/errors";
import { InvalidAmountError, InvalidArgumentError, SluiceError, ValueOutOfRangeError } from "../../errors";
import { StoreError, UnknownChannelError } from "../store/errors";
import {
  ConnectFailedError,
  ConnectionClosedError,
  HandshakeError,
  RemoteError,
  RequestTimeoutError,
  TransportError,
} from "../transport/errors";
import { screamingCase } from "./errors";
import { toJson, WireFormatError, type ErrorBody, type Json } from "./wire";

export { screamingCase };

/** Keys of an error that never go into `details`. */
const HIDDEN = new Set(["name", "message", "stack", "cause", "receipt", "data", "code"]);

function ownDetails(error: Error): { [key: string]: Json } | undefined {
  const out: { [key: string]: Json } = {};
  for (const [key, value] of Object.entries(error)) {
    if (HIDDEN.has(key)) continue;
    const json = toJson(value);
    if (json !== undefined) out[key] = json;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface MappedError {
  status: number;
  body: ErrorBody;
}

function reply(status: number, code: string, message: string, details?: Json): MappedError {
  return { status, body: details === undefined ? { code, message } : { code, message, details } };
}

/** The error reply for an error thrown while serving a request. */
export function mapError(error: unknown): MappedError {
  if (!(error instanceof SluiceError)) return reply(500, "INTERNAL", "internal error: see the node's log");
  if (error instanceof WireFormatError) {
    return reply(400, "BAD_REQUEST", error.message, { field: error.field || "body" });
  }
  if (error instanceof UnknownChannelError) {
    return reply(404, "NOT_FOUND", error.message, { channelId: error.channelId });
  }
  if (error instanceof AdjudicatorRevertError) {
    return reply(409, screamingCase(error.errorName), error.message, withTx(toJson({ ...error.args }), error));
  }
  if (error instanceof ContractRevertError) {
    const details: { [key: string]: Json } = {};
    if (error.errorName !== undefined) details.errorName = error.errorName;
    const args = toJson({ ...error.args });
    if (args !== undefined && args !== null && typeof args === "object" && Object.keys(args).length > 0) details.args = args;
    return reply(409, "CONTRACT_REVERT", error.message, withTx(details, error));
  }
  if (error instanceof TransportError) {
    const details = ownDetails(error);
    if (error instanceof ConnectFailedError) return reply(502, "PEER_UNREACHABLE", error.message, details);
    if (error instanceof RequestTimeoutError) return reply(504, "PEER_TIMEOUT", error.message, details);
    if (error instanceof ConnectionClosedError) return reply(502, "PEER_DISCONNECTED", error.message, details);
    if (error instanceof HandshakeError) return reply(502, "PEER_HANDSHAKE_FAILED", error.message, { ...details, peerCode: error.code });
    if (error instanceof RemoteError) return reply(502, "PEER_ERROR", error.message, { ...details, peerCode: error.code });
    return reply(502, "PEER_ERROR", error.message, { ...details, peerCode: error.code });
  }
  if (error instanceof ChainResponseError) return reply(502, "CHAIN_ERROR", error.message, ownDetails(error));
  const code = screamingCase(error.name);
  if (error instanceof InvalidArgumentError || error instanceof InvalidAmountError || error instanceof ValueOutOfRangeError) {
    return reply(400, code, error.message, ownDetails(error));
  }
  if (error instanceof StoreError) return reply(500, code, error.message, ownDetails(error));
  return reply(409, code, error.message, ownDetails(error));
}

function withTx(details: Json | undefined, error: ContractRevertError): Json | undefined {
  if (error.transactionHash === undefined) return details;
  const base = details !== undefined && details !== null && typeof details === "object" && !Array.isArray(details) ? details : {};
  return { ...base, transactionHash: error.transactionHash };
}
