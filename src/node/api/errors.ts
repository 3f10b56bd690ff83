/**
 * `ApiError`: an error reply of the local API as a typed error (client side). The mapping from the
 * node's errors to replies is in codes.ts (server side), kept apart so that the client and the
 * CLI load without the chain's modules.
 */
import { SluiceError } from "../../errors";
import type { Json } from "./wire";

/**
 * An error reply of the local API (or a failure to reach it): `code` is the reply's code (see
 * docs/api.md); the class's own code, API_ERROR, only names the class.
 */
export class ApiError extends SluiceError {
  static override readonly code: string = "API_ERROR";
  override readonly name: string = "ApiError";

  constructor(
    override readonly code: string,
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
  static override readonly code: string = "UNREACHABLE";
  override readonly name: string = "ApiUnreachableError";

  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("UNREACHABLE", `can't reach the node's API at ${url}${reason}`, 0, undefined, options);
  }
}
