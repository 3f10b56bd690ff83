/**
 * Failures of a provider that are not reverts, recognised so that they arrive as typed errors:
 * the chain refusing a transaction the wallet can't pay for, and a chain that does not answer.
 * Ethers wraps the node's JSON-RPC error (or the socket's) in its own, so the nested errors are
 * searched too.
 */
import { SluiceError } from "../errors";

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EHOSTUNREACH", "EAI_AGAIN", "NETWORK_ERROR", "TIMEOUT"]);

/** Whether the chain refused a transaction because the wallet can't pay its value and gas. */
export function isGasFundsFailure(error: unknown): boolean {
  // A SluiceError with the code INSUFFICIENT_FUNDS (a channel's) is not one.
  if (typeof error !== "object" || error === null || error instanceof SluiceError) return false;
  return (error as { code?: unknown }).code === "INSUFFICIENT_FUNDS" || /insufficient funds|doesn't have enough funds/i.test(messagesOf(error).join("\n"));
}

/** The socket-level reason ("connect ECONNREFUSED 127.0.0.1:8545") if the chain's node did not answer, else undefined. */
export function chainUnreachable(error: unknown): string | undefined {
  if (error instanceof SluiceError) return undefined;
  const found = nested(error).find((e) => typeof e.code === "string" && UNREACHABLE_CODES.has(e.code));
  if (found === undefined) return undefined;
  return typeof found.message === "string" && found.message !== "" ? found.message : String(found.code);
}

/** The messages of an error and of the errors nested in it. */
export function messagesOf(error: unknown): string[] {
  return nested(error).map((e) => (typeof e.message === "string" ? e.message : ""));
}

interface Nested {
  message?: unknown;
  code?: unknown;
  error?: unknown;
  cause?: unknown;
  info?: unknown;
}

function nested(error: unknown, depth = 0): Nested[] {
  if (typeof error !== "object" || error === null || depth > 4) return [];
  const e = error as Nested;
  return [e, ...nested(e.error, depth + 1), ...nested(e.cause, depth + 1), ...nested(e.info, depth + 1)];
}
