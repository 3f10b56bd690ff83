/**
 * The peer transport: authenticated WebSocket connections between two Sluice nodes, generic over
 * the message types (a registry of validators) the node speaks.
 */
export { ErrorCode, CloseCode, APP_CODE_PATTERN, type TransportErrorCode, type ErrorCodeString } from "./codes";
export {
  TransportError,
  RemoteError,
  HandshakeError,
  ConnectionClosedError,
  ConnectFailedError,
  RequestTimeoutError,
  BackpressureError,
} from "./errors";
export {
  HANDSHAKE_PROTOCOL,
  HANDSHAKE_PURPOSE,
  HANDSHAKE_DOMAIN_NAME,
  HANDSHAKE_DOMAIN_VERSION,
  HANDSHAKE_TYPES,
  handshakeDigest,
  handshakeTypedData,
  keyIdentity,
  recoverSigner,
  freshNonce,
  type HandshakeIdentity,
  type HandshakeContext,
  type PeerRole,
} from "./handshake";
export { RESERVED_TYPES, type TransportOptions, type Validator, type Validators } from "./settings";
export {
  PeerConnection,
  type Handler,
  type Handlers,
  type MessageId,
  type RequestOptions,
  type AcceptPeer,
} from "./connection";
export { authenticate, type Authenticated, type AuthenticateOptions } from "./authenticate";
export { PeerServer, type PeerServerOptions } from "./server";
export { connectPeer, ReconnectingPeer, type ConnectOptions, type ReconnectOptions } from "./client";
export { strictObject, stringField, bytes32Field, signatureField, addressField, uintField, describe } from "./validate";
