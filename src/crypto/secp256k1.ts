import { Signature, SigningKey } from "ethers";
import { InvalidArgumentError } from "../errors";
import type { Address } from "../types";
import { keccak256Bytes } from "./keccak";

/** Which implementation of secp256k1 to use: libsecp256k1 (native), ethers' @noble/curves, or the best here. */
export type Secp256k1Kind = "native" | "js" | "auto";

/**
 * The elliptic-curve operations Sluice needs. Both implementations give byte-identical results:
 * RFC 6979 deterministic nonces, low s, `v` in {27, 28}.
 */
export interface Secp256k1Backend {
  readonly kind: "native" | "js";
  /** 64-byte uncompressed public key (x || y, no 0x04 prefix) of a 32-byte private key. */
  publicKey(privateKey: Uint8Array): Buffer;
  /** 65-byte signature r || s || v of a 32-byte digest. */
  sign(digest: Uint8Array, privateKey: Uint8Array): Buffer;
  /**
   * The 64-byte public key that signed `digest`, or `undefined` when `signature` is not a
   * signature the adjudicator accepts (length 65, `v` in {27, 28}, 0 < r < n, 0 < s <= n/2).
   */
  recover(digest: Uint8Array, signature: Uint8Array): Buffer | undefined;
}

const N = Buffer.from("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", "hex");
const HALF_N = Buffer.from("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0", "hex");
const ZERO32 = Buffer.alloc(32);

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True iff `signature` has the form the adjudicator (OpenZeppelin `ECDSA`) accepts. */
export function isCanonicalSignature(signature: Uint8Array): boolean {
  if (signature.length !== 65) return false;
  const v = signature[64];
  if (v !== 27 && v !== 28) return false;
  const sig = asBuffer(signature);
  const r = sig.subarray(0, 32);
  const s = sig.subarray(32, 64);
  return r.compare(ZERO32) > 0 && r.compare(N) < 0 && s.compare(ZERO32) > 0 && s.compare(HALF_N) <= 0;
}

/** The address of a 64-byte uncompressed public key, lower case. */
export function publicKeyToAddress(publicKey: Uint8Array): Address {
  return `0x${keccak256Bytes(publicKey).subarray(12).toString("hex")}`;
}

function checkPrivateKey(privateKey: Uint8Array): void {
  if (privateKey.length !== 32) throw new InvalidArgumentError("a private key has 32 bytes");
}

function checkDigest(digest: Uint8Array): void {
  if (digest.length !== 32) throw new InvalidArgumentError("a digest has 32 bytes");
}

// -------------------------------------------------------------------- pure JS (ethers)

const hex = (bytes: Uint8Array) => `0x${asBuffer(bytes).toString("hex")}`;

/** secp256k1 through ethers' `SigningKey` (@noble/curves, pure JS). */
export const jsSecp256k1: Secp256k1Backend = {
  kind: "js",
  publicKey(privateKey) {
    checkPrivateKey(privateKey);
    return Buffer.from(SigningKey.computePublicKey(hex(privateKey), false).slice(4), "hex");
  },
  sign(digest, privateKey) {
    checkDigest(digest);
    checkPrivateKey(privateKey);
    return Buffer.from(new SigningKey(hex(privateKey)).sign(hex(digest)).serialized.slice(2), "hex");
  },
  recover(digest, signature) {
    checkDigest(digest);
    if (!isCanonicalSignature(signature)) return undefined;
    try {
      const publicKey = SigningKey.recoverPublicKey(hex(digest), Signature.from(hex(signature)));
      return Buffer.from(publicKey.slice(4), "hex");
    } catch {
      return undefined;
    }
  },
};

// -------------------------------------------------------------------- native (libsecp256k1)

interface NativeSecp256k1 {
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
}

function makeNative(lib: NativeSecp256k1): Secp256k1Backend {
  return {
    kind: "native",
    publicKey(privateKey) {
      checkPrivateKey(privateKey);
      return Buffer.from(lib.publicKeyCreate(privateKey, false).subarray(1));
    },
    sign(digest, privateKey) {
      checkDigest(digest);
      checkPrivateKey(privateKey);
      const { signature, recid } = lib.ecdsaSign(digest, privateKey);
      // recid 2 and 3 need r >= n, which no key finds in practice (probability ~2^-127).
      if (recid > 1) throw new InvalidArgumentError("signature with an overflowing r");
      const out = Buffer.allocUnsafe(65);
      out.set(signature, 0);
      out[64] = 27 + recid;
      return out;
    },
    recover(digest, signature) {
      checkDigest(digest);
      if (!isCanonicalSignature(signature)) return undefined;
      try {
        const sig = asBuffer(signature);
        return Buffer.from(lib.ecdsaRecover(sig.subarray(0, 64), sig[64] - 27, digest, false).subarray(1));
      } catch {
        return undefined;
      }
    },
  };
}

function loadNative(): Secp256k1Backend | undefined {
  try {
    // `secp256k1/bindings` is the prebuilt libsecp256k1 addon alone (the package's main entry
    // silently falls back to elliptic, which we don't want).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require("secp256k1/bindings") as NativeSecp256k1;
    const backend = makeNative(lib);
    // Self-test: the native and JS paths must agree byte for byte.
    const key = Buffer.alloc(32, 1);
    const digest = Buffer.alloc(32, 2);
    if (!backend.sign(digest, key).equals(jsSecp256k1.sign(digest, key))) return undefined;
    return backend;
  } catch {
    return undefined;
  }
}

/** libsecp256k1, or `undefined` where its addon doesn't load. */
export const nativeSecp256k1: Secp256k1Backend | undefined = loadNative();

/**
 * The secp256k1 implementation of the given kind. "auto" is the native one when it loads and the
 * environment variable `SLUICE_SECP256K1` is not `js`; "native" throws where it doesn't load.
 */
export function secp256k1Backend(kind: Secp256k1Kind = "auto"): Secp256k1Backend {
  if (kind === "js") return jsSecp256k1;
  if (kind === "native") {
    if (!nativeSecp256k1) throw new InvalidArgumentError("the native secp256k1 module does not load here");
    return nativeSecp256k1;
  }
  return process.env.SLUICE_SECP256K1 === "js" || !nativeSecp256k1 ? jsSecp256k1 : nativeSecp256k1;
}
