/**
 * `ApiError`: an error reply of the local API as a typed error (client side). The mapping from the
 * node's error classes to codes is in codes.ts (server side), kept apart so that the client and the
 * CLI load without the chain's modules.
 */
import { SluiceError } from "../../errors";
import type { Json } from "./wire";

/** `StateStale` / `InsufficientFundsError` → `STATE_STALE` / `INSUFFICIENT_FUNDS`. */
export function screamingCase(name: string): string {
  return name
    .replace(/Error$/, "")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();
}

/** An error reply of the local API (or a failure to reach it), with its stable `code`. */
export class ApiError extends SluiceError {
  override readonly name: string = "ApiError";

  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status; 0 when no reply arrived. */
    readonly status: number,
    readonly details?: Json,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The node's API could not be reached (nothing listens at the URL, the connection dropped). */
export class ApiUnreachableError extends ApiError {
  override readonly name: string = "ApiUnreachableError";

  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("UNREACHABLE", `can't reach the node's API at ${url}${reason}`, 0, undefined, options);
  }
}
