import { Contract, type ContractRunner } from "ethers";
import type { Address, Hex } from "../types";
import { toHex } from "./hash";
import { publicKeyToAddress, secp256k1Backend, type Secp256k1Backend, type Secp256k1Kind } from "./secp256k1";

/** Checks that `signature` is `signer`'s signature of a 32-byte digest. */
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

/** `bytes4(keccak256("isValidSignature(bytes32,bytes)"))`, what an ERC-1271 wallet returns for a valid signature. */
export const ERC1271_MAGIC_VALUE = "0x1626ba7e";

const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

/** ERC-1271 verification: asks the signer's contract through the chain. */
export class Erc1271Verifier implements SignatureVerifier {
  constructor(private readonly runner: ContractRunner) {}

  async verify(signer: Address, digest: Uint8Array, signature: Hex): Promise<boolean> {
    const wallet = new Contract(signer, ERC1271_ABI, this.runner);
    try {
      const result = (await wallet.getFunction("isValidSignature").staticCall(toHex(digest), signature)) as string;
      return result.toLowerCase() === ERC1271_MAGIC_VALUE;
    } catch {
      // No code at the address, a revert, or an answer that doesn't decode: not valid.
      return false;
    }
  }
}

/**
 * The adjudicator's rule (OpenZeppelin `SignatureChecker`): valid if ECDSA recovers the signer,
 * else if the signer's contract says so through ERC-1271.
 */
export class SignatureCheckerVerifier implements SignatureVerifier {
  private readonly ecdsa: EcdsaVerifier;
  private readonly erc1271: Erc1271Verifier;

  constructor(runner: ContractRunner, kind: Secp256k1Kind = "auto") {
    this.ecdsa = new EcdsaVerifier(kind);
    this.erc1271 = new Erc1271Verifier(runner);
  }

  verify(signer: Address, digest: Uint8Array, signature: Hex): boolean | Promise<boolean> {
    if (this.ecdsa.verify(signer, digest, signature)) return true;
    return this.erc1271.verify(signer, digest, signature);
  }
}

/** The default verifier: ECDSA with the best secp256k1 implementation here. */
export function defaultVerifier(): SignatureVerifier {
  return new EcdsaVerifier();
}
