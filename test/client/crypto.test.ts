import { expect } from "chai";
import fc from "fast-check";
import { SigningKey, Wallet } from "ethers";
import * as crypto from "../../src/crypto";
import {
  EcdsaVerifier,
  KeySigner,
  isCanonicalSignature,
  jsSecp256k1,
  keccak256Js,
  keccak256Native,
  nativeSecp256k1,
  secp256k1Backend,
} from "../../src/crypto";
import { InvalidArgumentError } from "../../src/errors";
import type { Address, Hex } from "../../src/types";
import { bytes32, privateKeyArb } from "./arbitraries";

const address = (): fc.Arbitrary<Address> => bytes32().map((b) => b.slice(0, 42) as Address);

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const digestOf = (hex: Hex) => Buffer.from(hex.slice(2), "hex");

/** The same signature with s' = n - s and v flipped: valid for ecrecover's maths, rejected as malleable. */
function highS(sig: Hex): Hex {
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = parseInt(sig.slice(130), 16);
  return `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
}

describe("client crypto", function () {
  it("the native modules load here", function () {
    expect(nativeSecp256k1, "libsecp256k1").to.not.equal(undefined);
    expect(keccak256Native, "native keccak").to.not.equal(undefined);
    expect(secp256k1Backend().kind).to.equal("native");
    expect(secp256k1Backend("js").kind).to.equal("js");
  });

  it("native and JS keccak256 agree on random inputs", function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        expect(keccak256Native!(data).equals(keccak256Js(data))).to.equal(true);
      }),
      { numRuns: 300 },
    );
  });

  describe("signing", function () {
    it("native and JS signatures are byte-identical and equal ethers' SigningKey on random keys and digests", function () {
      fc.assert(
        fc.property(privateKeyArb(), bytes32(), (key, digest) => {
          const native = new KeySigner(key, "native");
          const js = new KeySigner(key, "js");
          expect(native.address).to.equal(js.address);
          expect(native.address).to.equal(new Wallet(key).address.toLowerCase());
          const d = digestOf(digest);
          const sig = native.sign(d);
          expect(sig).to.equal(js.sign(d));
          expect(sig).to.equal(new SigningKey(key).sign(digest).serialized);
          expect(sig.length).to.equal(132);
          expect(isCanonicalSignature(Buffer.from(sig.slice(2), "hex"))).to.equal(true);
        }),
        { numRuns: 150 },
      );
    });

    it("rejects keys and digests of the wrong length", function () {
      expect(() => new KeySigner("0x1234")).to.throw(InvalidArgumentError);
      const signer = new KeySigner(fc.sample(privateKeyArb(), 1)[0]);
      expect(() => signer.sign(Buffer.alloc(31))).to.throw(InvalidArgumentError);
      expect(() => jsSecp256k1.sign(Buffer.alloc(31), Buffer.alloc(32, 1))).to.throw(InvalidArgumentError);
    });
  });

  describe("EcdsaVerifier", function () {
    for (const kind of ["native", "js"] as const) {
      it(`${kind}: accepts the signer's signature and the two paths agree on tampered ones`, function () {
        const other = new EcdsaVerifier(kind === "native" ? "js" : "native");
        const verifier = new EcdsaVerifier(kind);
        expect(verifier.kind).to.equal(kind);
        fc.assert(
          fc.property(privateKeyArb(), privateKeyArb(), bytes32(), fc.nat(131), (key, otherKey, digest, position) => {
            const signer = new KeySigner(key);
            const d = digestOf(digest);
            const sig = signer.sign(d);
            // Twice: the second check goes through the cached public key.
            expect(verifier.verify(signer.address, d, sig)).to.equal(true);
            expect(verifier.verify(signer.address, d, sig)).to.equal(true);
            expect(verifier.verify(new KeySigner(otherKey).address, d, sig)).to.equal(key === otherKey);
            const tampered = [
              highS(sig),
              `${sig.slice(0, 130)}${sig.slice(130) === "1b" ? "1c" : "1b"}` as Hex, // flipped v
              `${sig.slice(0, 130)}00` as Hex, // v = 0
              sig.slice(0, 130) as Hex, // 64 bytes
              `${sig}00` as Hex, // 66 bytes
              `0x${"00".repeat(32)}${sig.slice(66)}` as Hex, // r = 0
            ];
            // A random nibble flip, unless it hits the 0x prefix.
            if (position >= 2) {
              const c = sig[position] === "0" ? "1" : "0";
              tampered.push(`${sig.slice(0, position)}${c}${sig.slice(position + 1)}` as Hex);
            }
            for (const t of tampered) {
              expect(verifier.verify(signer.address, d, t), t).to.equal(false);
              expect(other.verify(signer.address, d, t), t).to.equal(false);
            }
            // Another digest under the same signature.
            const d2 = Buffer.from(d);
            d2[0] ^= 1;
            expect(verifier.verify(signer.address, d2, sig)).to.equal(false);
          }),
          { numRuns: 60 },
        );
      });
    }

    it("rejects the high-s twin of a valid signature on both paths", function () {
      fc.assert(
        fc.property(privateKeyArb(), bytes32(), (key, digest) => {
          const signer = new KeySigner(key);
          const sig = signer.sign(digestOf(digest));
          const twin = highS(sig);
          expect(twin).to.not.equal(sig);
          expect(highS(twin)).to.equal(sig);
          expect(new EcdsaVerifier("native").verify(signer.address, digestOf(digest), twin)).to.equal(false);
          expect(new EcdsaVerifier("js").verify(signer.address, digestOf(digest), twin)).to.equal(false);
        }),
        { numRuns: 30 },
      );
    });
  });

  describe("no contract signers (v2)", function () {
    it("EcdsaVerifier refuses what an ERC-1271 wallet would accept for its address", function () {
      fc.assert(
        fc.property(privateKeyArb(), bytes32(), address(), (ownerKey, digest, wallet) => {
          const owner = new KeySigner(ownerKey);
          const d = digestOf(digest);
          const verifier = new EcdsaVerifier();
          // A wallet's formats: the owner's signature as is, or with a trailing type byte.
          expect(verifier.verify(wallet, d, owner.sign(d))).to.equal(false);
          expect(verifier.verify(wallet, d, `${owner.sign(d)}01` as Hex)).to.equal(false);
          // Empty bytes (a pre-approved hash) verify nothing either.
          expect(verifier.verify(wallet, d, "0x")).to.equal(false);
          expect(verifier.verify(owner.address, d, owner.sign(d))).to.equal(true);
        }),
        { numRuns: 30 },
      );
    });

    it("the crypto module exports no ERC-1271 verifier any more", function () {
      const names = Object.keys(crypto);
      expect(names.filter((n) => /1271|SignatureChecker/i.test(n))).to.deep.equal([]);
      expect(crypto.defaultVerifier()).to.be.instanceOf(EcdsaVerifier);
    });
  });
});
