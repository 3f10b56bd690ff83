/**
 * Typed data and hashers of the client against three references: the contract (`hashState`,
 * `hashWithdrawal`, `channelId`), ethers' generic `TypedDataEncoder`, and ethers' `AbiCoder` +
 * keccak256 for the Merkle leaves. The fast hashers run on both keccak paths (native and JS).
 */
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, TypedDataEncoder, keccak256, sha256 } from "ethers";
import { ethers } from "hardhat";
import {
  StateHasher,
  channelId,
  hashlockOf,
  keccak256Js,
  keccak256Native,
  lockHash,
  lockLeaf,
  lockLeafHex,
  paymentLeaf,
  paymentLeafHex,
  toHex,
  type Keccak256,
} from "../../src/crypto";
import { ValueOutOfRangeError } from "../../src/errors";
import {
  LOCK_ABI_TYPE,
  PAYMENT_ABI_TYPE,
  STATE_TYPEHASH,
  STATE_TYPES,
  STATE_TYPE_STRING,
  WITHDRAWAL_TYPEHASH,
  WITHDRAWAL_TYPES,
  WITHDRAWAL_TYPE_STRING,
  lockValue,
  paramsValue,
  paymentValue,
  sluiceDomain,
  stateValue,
  typedDataDigest,
  withdrawalTypedDataDigest,
  withdrawalValue,
} from "../../src/typedData";
import type { Address, Hex, Params } from "../../src/types";
import { channelIdOf } from "../helpers/channel";
import { bytes32, lockArb, paymentArb, stateArb, uint, UINT256_MAX, UINT64_MAX, withdrawalArb } from "./arbitraries";

const coder = AbiCoder.defaultAbiCoder();
const RUNS = 300;

/** The two keccak256 paths the hashers can take. */
const KECCAKS: [string, Keccak256][] = [
  ["native", keccak256Native!],
  ["JS", keccak256Js],
];

const address = (): fc.Arbitrary<Address> => bytes32().map((b) => b.slice(0, 42) as Address);

const paramsArb = (): fc.Arbitrary<Params> =>
  fc.record({
    participants: fc.tuple(address(), address()),
    payees: fc.tuple(address(), address()),
    asset: address(),
    challengePeriod: uint(UINT64_MAX),
    nonce: uint(UINT64_MAX),
  });

describe("client typed data", function () {
  async function fixture() {
    const adjudicator = await ethers.deployContract("Adjudicator");
    const { chainId } = await ethers.provider.getNetwork();
    const verifyingContract = (await adjudicator.getAddress()) as Address;
    const domain = sluiceDomain(chainId, verifyingContract);
    const hashers = KECCAKS.map(([, k]) => new StateHasher(chainId, verifyingContract, k));
    return { adjudicator, chainId, verifyingContract, domain, hashers };
  }

  it("the native keccak256 loads here (else the two paths below would be one)", function () {
    expect(keccak256Native).to.not.equal(undefined);
  });

  describe("type strings", function () {
    // The primary types exactly as DESIGN.md's "Interface (v2)" and IAdjudicator.sol fix them.
    const SPEC = {
      State:
        "State(bytes32 channelId,uint64 version,uint256[2] transferred,uint256[2] locked,bytes32 locksRoot,bytes32 paymentsRoot,bool isFinal)",
      Withdrawal: "Withdrawal(bytes32 channelId,uint8 participant,uint256 total,uint64 expiry)",
    };

    it("are the spec's, and the field lists encode to them", function () {
      expect(STATE_TYPE_STRING).to.equal(SPEC.State);
      expect(WITHDRAWAL_TYPE_STRING).to.equal(SPEC.Withdrawal);
      expect(TypedDataEncoder.from(STATE_TYPES).encodeType("State")).to.equal(SPEC.State);
      expect(TypedDataEncoder.from(WITHDRAWAL_TYPES).encodeType("Withdrawal")).to.equal(SPEC.Withdrawal);
      expect(STATE_TYPEHASH).to.equal(keccak256(Buffer.from(SPEC.State)));
      expect(WITHDRAWAL_TYPEHASH).to.equal(keccak256(Buffer.from(SPEC.Withdrawal)));
    });

    it("the domain the client builds is the one the contract reports (ERC-5267)", async function () {
      const { adjudicator, domain } = await loadFixture(fixture);
      const d = await adjudicator.eip712Domain();
      expect({ name: d.name, version: d.version, chainId: d.chainId, verifyingContract: d.verifyingContract }).to.deep.equal(domain);
      expect(d.fields).to.equal("0x0f");
    });
  });

  describe("StateHasher on states", function () {
    it(`digest equals the contract's hashState and TypedDataEncoder, on both keccak paths, on ${RUNS} random states`, async function () {
      const { adjudicator, domain, hashers } = await loadFixture(fixture);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(stateArb(), async (state) => {
          runs++;
          const [native, js] = hashers.map((h) => h.digestHex(state));
          expect(native).to.equal(js);
          expect(native).to.equal(typedDataDigest(domain, state));
          expect(native).to.equal(TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(state)));
          expect(native).to.equal(await adjudicator.hashState(stateValue(state) as never));
          const structs = hashers.map((h) => h.structHashHex(state));
          expect(structs[0]).to.equal(structs[1]);
          expect(structs[0]).to.equal(TypedDataEncoder.from(STATE_TYPES).hashStruct("State", stateValue(state)));
        }),
        { numRuns: RUNS },
      );
      expect(runs).to.equal(RUNS);
    });

    it("every field changes the digest", async function () {
      const { hashers } = await loadFixture(fixture);
      const [state] = fc.sample(stateArb(), 1);
      const hasher = hashers[0];
      const flip = (h: Hex): Hex => `${h.slice(0, -1)}${h.endsWith("0") ? "1" : "0"}` as Hex;
      const variants = [
        { ...state, channelId: flip(state.channelId) },
        { ...state, version: state.version ^ 1n },
        { ...state, transferred: [state.transferred[0] ^ 1n, state.transferred[1]] as [bigint, bigint] },
        { ...state, transferred: [state.transferred[1], state.transferred[0]] as [bigint, bigint] },
        { ...state, locked: [state.locked[0], state.locked[1] ^ 1n] as [bigint, bigint] },
        { ...state, locksRoot: flip(state.locksRoot) },
        { ...state, paymentsRoot: flip(state.paymentsRoot) },
        { ...state, isFinal: !state.isFinal },
      ];
      const digests = new Set([hasher.digestHex(state), ...variants.map((v) => hasher.digestHex(v))]);
      // A swap of equal transfers changes nothing; every other variant gives a new digest.
      const expected = state.transferred[0] === state.transferred[1] ? variants.length : variants.length + 1;
      expect(digests.size).to.equal(expected);
    });

    it("depends on the domain: another chain or contract gives another digest", async function () {
      const { hashers, chainId, verifyingContract } = await loadFixture(fixture);
      const [state] = fc.sample(stateArb(), 1);
      const [w] = fc.sample(withdrawalArb(), 1);
      const other = "0x000000000000000000000000000000000000dEaD" as Address;
      for (const hasher of [new StateHasher(chainId + 1n, verifyingContract), new StateHasher(chainId, other)]) {
        expect(hasher.digestHex(state)).to.not.equal(hashers[0].digestHex(state));
        expect(hasher.withdrawalDigestHex(w)).to.not.equal(hashers[0].withdrawalDigestHex(w));
        // The struct hash has no domain in it.
        expect(hasher.structHashHex(state)).to.equal(hashers[0].structHashHex(state));
      }
    });

    it("rejects values outside their Solidity types", async function () {
      const { hashers } = await loadFixture(fixture);
      const [state] = fc.sample(stateArb(), 1);
      const rows: [string, typeof state][] = [
        ["version above uint64", { ...state, version: UINT64_MAX + 1n }],
        ["negative version", { ...state, version: -1n }],
        ["transferred above uint256", { ...state, transferred: [UINT256_MAX + 1n, 0n] }],
        ["negative locked", { ...state, locked: [0n, -1n] }],
        ["locked above uint256", { ...state, locked: [UINT256_MAX + 1n, 0n] }],
        ["short channel id", { ...state, channelId: "0x1234" }],
        ["locksRoot not hex", { ...state, locksRoot: `0x${"zz".repeat(32)}` }],
        ["paymentsRoot too long", { ...state, paymentsRoot: `0x${"00".repeat(33)}` }],
      ];
      for (const [description, bad] of rows) {
        for (const hasher of hashers) expect(() => hasher.digest(bad), description).to.throw(ValueOutOfRangeError);
      }
    });
  });

  describe("StateHasher on withdrawals", function () {
    it(`withdrawalDigest equals the contract's hashWithdrawal and TypedDataEncoder, on both keccak paths, on ${RUNS} random withdrawals`, async function () {
      const { adjudicator, domain, hashers } = await loadFixture(fixture);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(withdrawalArb(), async (w) => {
          runs++;
          const [native, js] = hashers.map((h) => h.withdrawalDigestHex(w));
          expect(native).to.equal(js);
          expect(native).to.equal(withdrawalTypedDataDigest(domain, w));
          expect(native).to.equal(TypedDataEncoder.hash(domain, WITHDRAWAL_TYPES, withdrawalValue(w)));
          expect(native).to.equal(await adjudicator.hashWithdrawal(withdrawalValue(w) as never));
          expect(toHex(hashers[0].withdrawalStructHash(w))).to.equal(
            TypedDataEncoder.from(WITHDRAWAL_TYPES).hashStruct("Withdrawal", withdrawalValue(w)),
          );
        }),
        { numRuns: RUNS },
      );
      expect(runs).to.equal(RUNS);
    });

    it("every field changes the digest", async function () {
      const { hashers } = await loadFixture(fixture);
      const [w] = fc.sample(withdrawalArb(), 1);
      const hasher = hashers[0];
      const variants = [
        { ...w, channelId: `${w.channelId.slice(0, -1)}${w.channelId.endsWith("0") ? "1" : "0"}` as Hex },
        { ...w, participant: (1 - w.participant) as 0 | 1 },
        { ...w, total: w.total ^ 1n },
        { ...w, expiry: w.expiry ^ 1n },
      ];
      expect(new Set([hasher.withdrawalDigestHex(w), ...variants.map((v) => hasher.withdrawalDigestHex(v))]).size).to.equal(5);
    });

    it("rejects values outside their Solidity types", async function () {
      const { hashers } = await loadFixture(fixture);
      const [w] = fc.sample(withdrawalArb(), 1);
      const rows: [string, typeof w][] = [
        ["participant above uint8", { ...w, participant: 256 as never }],
        ["negative participant", { ...w, participant: -1 as never }],
        ["total above uint256", { ...w, total: UINT256_MAX + 1n }],
        ["expiry above uint64", { ...w, expiry: UINT64_MAX + 1n }],
        ["short channel id", { ...w, channelId: "0xab" }],
      ];
      for (const [description, bad] of rows) {
        for (const hasher of hashers) expect(() => hasher.withdrawalDigest(bad), description).to.throw(ValueOutOfRangeError);
      }
    });
  });

  describe("Merkle leaves", function () {
    it(`paymentLeaf is keccak256(keccak256(abi.encode(payment))) on both keccak paths, on ${RUNS} random payments`, function () {
      fc.assert(
        fc.property(paymentArb(), (payment) => {
          const reference = keccak256(keccak256(coder.encode([PAYMENT_ABI_TYPE], [paymentValue(payment)])));
          expect(paymentLeafHex(payment)).to.equal(reference);
          for (const [, k] of KECCAKS) expect(toHex(paymentLeaf(payment, k))).to.equal(reference);
        }),
        { numRuns: RUNS },
      );
    });

    it(`lockLeaf is keccak256(keccak256(abi.encode(lock))) on both keccak paths, on ${RUNS} random locks`, function () {
      fc.assert(
        fc.property(lockArb(), (lock) => {
          const inner = keccak256(coder.encode([LOCK_ABI_TYPE], [lockValue(lock)]));
          const reference = keccak256(inner);
          expect(lockLeafHex(lock)).to.equal(reference);
          for (const [, k] of KECCAKS) {
            expect(toHex(lockHash(lock, k))).to.equal(inner);
            expect(toHex(lockLeaf(lock, k))).to.equal(reference);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it("the lock's ABI type is the Solidity struct's field list", function () {
      // Lock { bytes32 channelId; uint8 sender; uint256 amount; bytes32 hashlock; uint64 expiry; bytes32 ref; }
      const [lock] = fc.sample(lockArb(), 1);
      const explicit = coder.encode(
        ["bytes32", "uint8", "uint256", "bytes32", "uint64", "bytes32"],
        [lock.channelId, lock.sender, lock.amount, lock.hashlock, lock.expiry, lock.ref],
      );
      expect(coder.encode([LOCK_ABI_TYPE], [lockValue(lock)])).to.equal(explicit);
    });

    it("lockLeaf rejects values outside their Solidity types", function () {
      const [lock] = fc.sample(lockArb(), 1);
      const rows: [string, typeof lock][] = [
        ["sender above uint8", { ...lock, sender: 256 as never }],
        ["amount above uint256", { ...lock, amount: UINT256_MAX + 1n }],
        ["expiry above uint64", { ...lock, expiry: UINT64_MAX + 1n }],
        ["short hashlock", { ...lock, hashlock: "0x12" }],
      ];
      for (const [description, bad] of rows) expect(() => lockLeaf(bad), description).to.throw(ValueOutOfRangeError);
    });

    it("hashlockOf is sha256 of the 32-byte secret; other lengths are refused", function () {
      fc.assert(
        fc.property(bytes32(), (secret) => {
          expect(hashlockOf(secret)).to.equal(sha256(secret));
        }),
        { numRuns: 100 },
      );
      expect(() => hashlockOf("0x1234")).to.throw(ValueOutOfRangeError);
      expect(() => hashlockOf(`0x${"00".repeat(33)}`)).to.throw(ValueOutOfRangeError);
    });
  });

  describe("channelId", function () {
    it("equals the contract's channelId and the ethers-only helper's, payees included", async function () {
      const { adjudicator } = await loadFixture(fixture);
      const samples = fc.sample(paramsArb(), 25);
      for (const p of samples) {
        expect(channelId(p)).to.equal(channelIdOf(p));
        expect(channelId(p)).to.equal(await adjudicator.channelId(paramsValue(p) as never));
      }
      const [p] = samples;
      const otherPayees: Params = { ...p, payees: [p.payees[1], p.payees[0]] };
      if (p.payees[0] !== p.payees[1]) expect(channelId(otherPayees)).to.not.equal(channelId(p));
    });
  });
});
