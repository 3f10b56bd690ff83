import { InvalidArgumentError } from "../errors";
import type { Address, Hex } from "../types";
import { fromHex, toHex } from "./hash";
import { publicKeyToAddress, secp256k1Backend, type Secp256k1Backend, type Secp256k1Kind } from "./secp256k1";

/**
 * Signs state and withdrawal digests for one participant: a 65-byte ECDSA signature (r || s || v,
 * low s) by the key whose address is `participants[i]`. Protocol v2 has no contract signers; a
 * signer that returns anything else (e.g. an ERC-1271 wallet's format) is refused by the contract
 * and by `EcdsaVerifier`. A hardware or remote signer may answer asynchronously.
 */
export interface StateSigner {
  /** The participant address the signatures are for. */
  readonly address: Address;
  sign(digest: Uint8Array): Hex | Promise<Hex>;
}

/** A `StateSigner` holding a private key: signs synchronously, natively where possible. */
export class KeySigner implements StateSigner {
  readonly address: Address;
  readonly publicKey: Buffer;
  private readonly key: Buffer;
  private readonly backend: Secp256k1Backend;

  constructor(privateKey: Hex, kind: Secp256k1Kind = "auto") {
    this.key = fromHex(privateKey, "privateKey");
    if (this.key.length !== 32) throw new InvalidArgumentError("a private key has 32 bytes");
    this.backend = secp256k1Backend(kind);
    this.publicKey = this.backend.publicKey(this.key);
    this.address = publicKeyToAddress(this.publicKey);
  }

  /** 65-byte signature r || s || v (v in {27, 28}, low s) of a 32-byte digest. */
  sign(digest: Uint8Array): Hex {
    return toHex(this.backend.sign(digest, this.key));
  }
}
