/**
 * Typed failures of the peer transport. All are `SluiceError`s; each carries the protocol `code`
 * (see `ErrorCode`) so that a caller can act on it without parsing messages. The code each class
 * declares (`static code`, PEER_...) is the one the local API answers with (docs/api.md).
 */
import { SluiceError } from "../../errors";
import { APP_CODE_PATTERN, ErrorCode, type ErrorCodeString } from "./codes";

/** Base of the transport's errors. */
export class TransportError extends SluiceError {
  static override readonly code: string = "PEER_ERROR";
  override readonly name: string = "TransportError";

  constructor(
    override readonly code: ErrorCodeString,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An error reply of the peer (`request` rejects with it), or an error a handler throws to send a
 * specific code to the peer: `throw new RemoteError("INSUFFICIENT_FUNDS", "only 5 available")`.
 */
export class RemoteError extends TransportError {
  static override readonly code: string = "PEER_ERROR";
  override readonly name: string = "RemoteError";

  constructor(
    code: ErrorCodeString,
    /** The peer's message (or the message to send), without the code prefix. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    if (!APP_CODE_PATTERN.test(code)) throw new TypeError(`invalid error code ${JSON.stringify(code)}`);
    super(code, `${code}: ${detail}`, options);
  }
}

/** The handshake failed, on this side (`remote` false) or by the peer's error frame (`remote` true). */
export class HandshakeError extends TransportError {
  static override readonly code: string = "PEER_HANDSHAKE_FAILED";
  override readonly name: string = "HandshakeError";

  constructor(
    code: ErrorCodeString,
    readonly detail: string,
    readonly remote: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, `handshake ${remote ? "rejected by the peer" : "failed"}: ${code}: ${detail}`, options);
  }
}

/** The connection closed (or was never open); every pending request rejects with this. */
export class ConnectionClosedError extends TransportError {
  static override readonly code: string = "PEER_DISCONNECTED";
  override readonly name: string = "ConnectionClosedError";

  constructor(
    /** The WebSocket close code (1006 when the socket dropped without a close frame). */
    readonly closeCode: number,
    /** The close reason: an `ErrorCode` when the transport closed for a protocol error. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      "CONNECTION_CLOSED",
      `connection closed (${closeCode}${reason ? ` ${reason}` : ""})`,
      options,
    );
  }
}

/** The peer could not be reached (refused, unreachable, the HTTP upgrade failed). */
export class ConnectFailedError extends TransportError {
  static override readonly code: string = "PEER_UNREACHABLE";
  override readonly name: string = "ConnectFailedError";

  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("CONNECT_FAILED", `can't connect to ${url}${reason}`, options);
  }
}

/** The peer did not answer a request in time. A late answer is dropped. */
export class RequestTimeoutError extends TransportError {
  static override readonly code: string = "PEER_TIMEOUT";
  override readonly name: string = "RequestTimeoutError";

  constructor(
    readonly type: string,
    readonly timeoutMs: number,
  ) {
    super("REQUEST_TIMEOUT", `no answer to ${JSON.stringify(type)} within ${timeoutMs} ms`);
  }
}

/** Too many requests in flight, or too much unsent data: slow down and retry. Nothing was sent. */
export class BackpressureError extends TransportError {
  static override readonly code: string = "PEER_BACKPRESSURE";
  override readonly name: string = "BackpressureError";

  constructor(detail: string) {
    super("BACKPRESSURE", `backpressure: ${detail}`);
  }
}

export { ErrorCode };
