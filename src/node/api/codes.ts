/**
 * The error replies of the local API (server side; the client sees them as `ApiError.code`,
 * errors.ts): every error answers with the code its class declares (`codeOf`, src/errors.ts) and
 * the HTTP status of its family. docs/api.md lists every code with its status and meaning.
 *
 * | family (first match)                           | code                                 | status |
 * |------------------------------------------------|--------------------------------------|--------|
 * | WireFormatError (request body)                 | BAD_REQUEST (details.field)          | 400    |
 * | ScopeError (the token's scope)                 | FORBIDDEN_SCOPE (details.needed)     | 403    |
 * | UnknownChannelError and subclasses             | NOT_FOUND (details.channelId)        | 404    |
 * | UnknownInvoiceError                            | INVOICE_NOT_FOUND (details.invoice)  | 404    |
 * | UnknownWebhookError                            | WEBHOOK_NOT_FOUND (details.webhook)  | 404    |
 * | AdjudicatorRevertError subclasses              | its own: STATE_STALE, ... (args)     | 409    |
 * | ContractRevertError (token, Error(...))        | CONTRACT_REVERT (details.errorName)  | 409    |
 * | RequestTimeoutError                            | PEER_TIMEOUT                         | 504    |
 * | BackpressureError                              | PEER_BACKPRESSURE                    | 503    |
 * | other TransportError, ChainResponseError       | its own: PEER_UNREACHABLE, ...       | 502    |
 * | InvalidArgumentError, InvalidAmountError, ValueOutOfRangeError | its own              | 400    |
 * | StoreError (other than the above)              | its own: STORE_OPEN, ...             | 500    |
 * | any other SluiceError                          | its own: INSUFFICIENT_FUNDS, ...     | 409    |
 * | anything else                                  | INTERNAL (no message, no stack)      | 500    |
 *
 * `details` carries the error's own fields (bigints as decimal strings), never `cause` or stacks;
 * a transport error's protocol code is `details.peerCode`.
 */
import { ChainResponseError, ContractRevertError, AdjudicatorRevertError } from "../../chain/errors";
import { codeOf, InvalidAmountError, InvalidArgumentError, SluiceError, ValueOutOfRangeError } from "../../errors";
import { UnknownInvoiceError } from "../../invoice/errors";
import { StoreError, UnknownChannelError } from "../store/errors";
import { UnknownWebhookError } from "../webhooks/errors";
import { BackpressureError, ConnectFailedError, ConnectionClosedError, RequestTimeoutError, TransportError } from "../transport/errors";
import { ScopeError } from "./access";
import { toJson, WireFormatError, type ErrorBody, type Json } from "./wire";

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

/** The HTTP status of an error's family (the table above). */
function statusOf(error: SluiceError): number {
  if (error instanceof ScopeError) return 403;
  if (error instanceof UnknownInvoiceError || error instanceof UnknownWebhookError) return 404;
  if (error instanceof RequestTimeoutError) return 504;
  if (error instanceof BackpressureError) return 503;
  if (error instanceof TransportError || error instanceof ChainResponseError) return 502;
  if (error instanceof InvalidArgumentError || error instanceof InvalidAmountError || error instanceof ValueOutOfRangeError) return 400;
  if (error instanceof StoreError) return 500;
  return 409;
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
  const code = codeOf(error);
  if (error instanceof AdjudicatorRevertError) {
    return reply(409, code, error.message, withTx(toJson({ ...error.args }), error));
  }
  if (error instanceof ContractRevertError) {
    const details: { [key: string]: Json } = {};
    if (error.errorName !== undefined) details.errorName = error.errorName;
    const args = toJson({ ...error.args });
    if (args !== undefined && args !== null && typeof args === "object" && Object.keys(args).length > 0) details.args = args;
    return reply(409, code, error.message, withTx(details, error));
  }
  const details = ownDetails(error);
  if (error instanceof TransportError) {
    // The protocol code says more only where the class does not fix it.
    const fixed = error instanceof ConnectFailedError || error instanceof RequestTimeoutError || error instanceof ConnectionClosedError;
    return reply(statusOf(error), code, error.message, fixed ? details : { ...details, peerCode: error.code });
  }
  return reply(statusOf(error), code, error.message, details);
}

function withTx(details: Json | undefined, error: ContractRevertError): Json | undefined {
  if (error.transactionHash === undefined) return details;
  const base = details !== undefined && details !== null && typeof details === "object" && !Array.isArray(details) ? details : {};
  return { ...base, transactionHash: error.transactionHash };
}
