/**
 * Error codes of the peer protocol, carried in error frames
 * `{ "type": "error", "id"?: …, "body": { "code": …, "message": … } }` and in the typed errors of
 * this module. Applications add their own codes (any string of `A-Z`, `0-9`, `_`) by throwing a
 * `RemoteError` from a handler.
 */
export const ErrorCode = {
  /** The frame is not UTF-8 JSON text (or is a binary frame). */
  BAD_JSON: "BAD_JSON",
  /** The JSON is not an envelope `{ id?: number | string, type: string, body?: unknown }`, or has other keys. */
  BAD_ENVELOPE: "BAD_ENVELOPE",
  /** No validator (or no handler) for the message type on this side. */
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  /** The body failed the validator of its type; the message names the field. */
  BAD_BODY: "BAD_BODY",
  /** The frame is larger than the frame limit. Above the hard limit the connection is closed (1009). */
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  /** The handshake failed: malformed handshake frame, or a signature that does not prove the claimed address. */
  HANDSHAKE_FAILED: "HANDSHAKE_FAILED",
  /** The handshake did not complete in time. */
  HANDSHAKE_TIMEOUT: "HANDSHAKE_TIMEOUT",
  /** The peers are on different chains. */
  CHAIN_MISMATCH: "CHAIN_MISMATCH",
  /** The peers use different adjudicator contracts. */
  ADJUDICATOR_MISMATCH: "ADJUDICATOR_MISMATCH",
  /** The peer proved an address this side does not accept (`expectedPeer`, `acceptPeer`). */
  PEER_REJECTED: "PEER_REJECTED",
  /** A non-handshake frame arrived before the handshake completed. */
  NOT_AUTHENTICATED: "NOT_AUTHENTICATED",
  /** Too many unauthenticated connections at once; try again later. */
  BUSY: "BUSY",
  /** The handler failed with an error that is not meant for the peer (details stay local). */
  INTERNAL: "INTERNAL",
  /** The handler refused the request with a Sluice error that has no code of its own. */
  REJECTED: "REJECTED",
} as const;

/** A code defined by the transport. */
export type TransportErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
/** Any code in an error frame: a transport code or an application's own. */
export type ErrorCodeString = TransportErrorCode | (string & {});

/** WebSocket close codes the transport uses. The close reason is the error code. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Handshake violations (bad frames before authentication, failed checks, timeout). */
  POLICY: 1008,
  /** ws closes with this one when a frame exceeds the hard payload limit. */
  TOO_BIG: 1009,
  TRY_AGAIN_LATER: 1013,
} as const;

/** Application codes must look like the transport's: upper case, digits, underscores. */
export const APP_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
