import type { Address, Hex } from "../types";
import { publicKeyToAddress, secp256k1Backend, type Secp256k1Backend, type Secp256k1Kind } from "./secp256k1";

/**
 * Checks that `signature` is `signer`'s signature of a 32-byte digest. Protocol v2 accepts ECDSA
 * keys only (no ERC-1271 contract signers: a wallet can revoke a signature it once gave), so the
 * one implementation is `EcdsaVerifier`; the interface stays for callers that count or fake checks.
 */
export interface SignatureVerifier {
  verify(signer: Address, digest: Uint8Array, signature: Hex): boolean | Promise<boolean>;
}

/**
 * ECDSA verification against a known address, as OpenZeppelin's `ECDSA.recover` decides it
 * (65 bytes, low s, v in {27, 28}). After the first match the signer's public key is cached, so
 * later checks compare recovered keys and skip the address hash. Recovery rather than plain
 * verification: a signature with a flipped `v` verifies against the key but recovers another
 * address on chain, and would be worthless there.
 */
export class EcdsaVerifier implements SignatureVerifier {
  private readonly backend: Secp256k1Backend;
  private readonly keys = new Map<string, Buffer>();

  constructor(kind: Secp256k1Kind = "auto") {
    this.backend = secp256k1Backend(kind);
  }

  get kind(): "native" | "js" {
    return this.backend.kind;
  }

  verify(signer: Address, digest: Uint8Array, signature: Hex): boolean {
    if (signature.length !== 132) return false;
    const sig = Buffer.from(signature.slice(2), "hex");
    if (sig.length !== 65) return false;
    const recovered = this.backend.recover(digest, sig);
    if (!recovered) return false;
    const id = signer.toLowerCase();
    const known = this.keys.get(id);
    if (known) return known.equals(recovered);
    if (publicKeyToAddress(recovered) !== id) return false;
    this.keys.set(id, recovered);
    return true;
  }
}

/** The default verifier: ECDSA with the best secp256k1 implementation here. */
export function defaultVerifier(): SignatureVerifier {
  return new EcdsaVerifier();
}
