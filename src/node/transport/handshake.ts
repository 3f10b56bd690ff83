/**
 * The mutual handshake. Three frames, after the WebSocket upgrade:
 *
 *   server → client  {"type":"hello",   "body":{protocol, chainId, adjudicator, nonce: serverNonce, address}}
 *   client → server  {"type":"auth",    "body":{protocol, chainId, adjudicator, nonce: clientNonce, address, signature}}
 *   server → client  {"type":"welcome", "body":{address, signature}}
 *
 * Each side signs the EIP-712 digest of `PeerHandshake(string purpose, bytes32 serverNonce,
 * bytes32 clientNonce, string role)` under the domain {name "Sluice peer handshake", version "1",
 * chainId, verifyingContract: adjudicator}, where `purpose` is "Sluice peer handshake v1" and
 * `role` is the signer's own role ("server" or "client"). The fresh nonces of both sides bind the
 * signature to one session, the role to one direction, the domain to one chain and contract; a
 * wallet shows the fields as readable typed data. Either side answers a failed check with an
 * error frame and closes the connection. The hello names the server's address (proven only by the
 * welcome) so that a client expecting another peer refuses before the server counts it as connected.
 */
import { SigningKey, TypedDataEncoder, computeAddress, randomBytes, hexlify, recoverAddress, type TypedDataField } from "ethers";
import type { Address, Hex } from "../../types";
import { addressField, bytes32Field, signatureField, strictObject, stringField, uintField } from "./validate";

export const HANDSHAKE_PROTOCOL = "sluice/1";
export const HANDSHAKE_PURPOSE = "Sluice peer handshake v1";
export const HANDSHAKE_DOMAIN_NAME = "Sluice peer handshake";
export const HANDSHAKE_DOMAIN_VERSION = "1";

/** Which end of the connection: the listener is the server, the dialler the client. */
export type PeerRole = "server" | "client";

export const HANDSHAKE_TYPES: Record<string, TypedDataField[]> = {
  PeerHandshake: [
    { name: "purpose", type: "string" },
    { name: "serverNonce", type: "bytes32" },
    { name: "clientNonce", type: "bytes32" },
    { name: "role", type: "string" },
  ],
};

/** Proves this node's address: signs a 32-byte digest, returning r || s || v (65 bytes, v 27/28). */
export interface HandshakeIdentity {
  readonly address: Address;
  sign(digest: Hex): Hex | Promise<Hex>;
}

export interface HandshakeContext {
  chainId: bigint;
  adjudicator: Address;
  serverNonce: Hex;
  clientNonce: Hex;
  /** The role of the signer. */
  role: PeerRole;
}

/** The handshake as EIP-712 typed data (for `eth_signTypedData_v4` wallets). */
export function handshakeTypedData(ctx: HandshakeContext): {
  domain: { name: string; version: string; chainId: bigint; verifyingContract: Address };
  types: Record<string, TypedDataField[]>;
  primaryType: "PeerHandshake";
  message: { purpose: string; serverNonce: Hex; clientNonce: Hex; role: PeerRole };
} {
  return {
    domain: {
      name: HANDSHAKE_DOMAIN_NAME,
      version: HANDSHAKE_DOMAIN_VERSION,
      chainId: ctx.chainId,
      verifyingContract: ctx.adjudicator,
    },
    types: HANDSHAKE_TYPES,
    primaryType: "PeerHandshake",
    message: { purpose: HANDSHAKE_PURPOSE, serverNonce: ctx.serverNonce, clientNonce: ctx.clientNonce, role: ctx.role },
  };
}

/** The digest the signer of `ctx.role` signs. */
export function handshakeDigest(ctx: HandshakeContext): Hex {
  const { domain, types, message } = handshakeTypedData(ctx);
  return TypedDataEncoder.hash(domain, types, message) as Hex;
}

/** The address that signed `digest`, lower-cased, or undefined for a signature that recovers nothing. */
export function recoverSigner(digest: Hex, signature: Hex): Address | undefined {
  try {
    return recoverAddress(digest, signature).toLowerCase() as Address;
  } catch {
    return undefined;
  }
}

/** An identity holding a private key (ethers' `SigningKey`). */
export function keyIdentity(privateKey: Hex): HandshakeIdentity {
  const key = new SigningKey(privateKey);
  return {
    address: computeAddress(key.publicKey).toLowerCase() as Address,
    sign: (digest: Hex) => key.sign(digest).serialized as Hex,
  };
}

/** A fresh random 32-byte nonce. */
export function freshNonce(): Hex {
  return hexlify(randomBytes(32)) as Hex;
}

/** The fields both the hello and the auth carry: protocol, chain, contract, the sender's nonce. */
export interface DomainBody {
  protocol: string;
  chainId: bigint;
  adjudicator: Address;
  nonce: Hex;
}

export interface HelloBody extends DomainBody {
  /** The address the server claims (proven only by its welcome); absent from older servers. */
  address?: Address;
}

export interface AuthBody extends DomainBody {
  address: Address;
  signature: Hex;
}

export interface WelcomeBody {
  address: Address;
  signature: Hex;
}

export function parseHello(body: unknown): HelloBody {
  const o = strictObject(body, "hello", ["protocol", "chainId", "adjudicator", "nonce", "address"]);
  const hello: HelloBody = {
    protocol: stringField(o, "protocol", "hello", 32),
    chainId: uintField(o, "chainId", "hello"),
    adjudicator: addressField(o, "adjudicator", "hello"),
    nonce: bytes32Field(o, "nonce", "hello"),
  };
  if (o.address !== undefined) hello.address = addressField(o, "address", "hello");
  return hello;
}

export function parseAuth(body: unknown): AuthBody {
  const o = strictObject(body, "auth", ["protocol", "chainId", "adjudicator", "nonce", "address", "signature"]);
  return {
    protocol: stringField(o, "protocol", "auth", 32),
    chainId: uintField(o, "chainId", "auth"),
    adjudicator: addressField(o, "adjudicator", "auth"),
    nonce: bytes32Field(o, "nonce", "auth"),
    address: addressField(o, "address", "auth"),
    signature: signatureField(o, "signature", "auth"),
  };
}

export function parseWelcome(body: unknown): WelcomeBody {
  const o = strictObject(body, "welcome", ["address", "signature"]);
  return { address: addressField(o, "address", "welcome"), signature: signatureField(o, "signature", "welcome") };
}
