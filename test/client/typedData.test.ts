import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, keccak256 } from "ethers";
import { ethers } from "hardhat";
import { StateHasher, channelId, paymentLeafHex } from "../../src/crypto";
import { ValueOutOfRangeError } from "../../src/errors";
import { PAYMENT_ABI_TYPE, STATE_TYPEHASH, paramsValue, paymentValue, sluiceDomain, stateValue, typedDataDigest } from "../../src/typedData";
import type { Address, Hex, Params } from "../../src/types";
import { channelIdOf } from "../helpers/channel";
import { bytes32, paymentArb, stateArb, uint, UINT64_MAX } from "./arbitraries";

const coder = AbiCoder.defaultAbiCoder();

describe("client typed data", function () {
  async function fixture() {
    const adjudicator = await ethers.deployContract("Adjudicator");
    const { chainId } = await ethers.provider.getNetwork();
    const address = (await adjudicator.getAddress()) as Address;
    return { adjudicator, chainId, address, hasher: new StateHasher(chainId, address) };
  }

  describe("StateHasher", function () {
    it("type hash is the contract's type string hashed", function () {
      expect(STATE_TYPEHASH).to.equal(
        keccak256(Buffer.from("State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)")),
      );
    });

    it("digest equals TypedDataEncoder and the contract's hashState on 200 random states", async function () {
      const { adjudicator, hasher, chainId, address } = await loadFixture(fixture);
      const domain = sluiceDomain(chainId, address);
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(stateArb(), async (state) => {
          runs++;
          const fast = hasher.digestHex(state);
          expect(fast).to.equal(typedDataDigest(domain, state));
          expect(fast).to.equal(await adjudicator.hashState(stateValue(state) as never));
        }),
        { numRuns: 200 },
      );
      expect(runs).to.equal(200);
    });

    it("depends on the domain: another chain or contract gives another digest", async function () {
      const { hasher, chainId, address } = await loadFixture(fixture);
      const state = fc.sample(stateArb(), 1)[0];
      const other = "0x000000000000000000000000000000000000dEaD" as Address;
      expect(new StateHasher(chainId + 1n, address).digestHex(state)).to.not.equal(hasher.digestHex(state));
      expect(new StateHasher(chainId, other).digestHex(state)).to.not.equal(hasher.digestHex(state));
    });

    it("rejects values outside their Solidity types", async function () {
      const { hasher } = await loadFixture(fixture);
      const state = fc.sample(stateArb(), 1)[0];
      const bad = [
        { ...state, version: UINT64_MAX + 1n },
        { ...state, version: -1n },
        { ...state, transferred: [1n << 256n, 0n] as [bigint, bigint] },
        { ...state, channelId: "0x1234" as Hex },
        { ...state, paymentsRoot: `0x${"zz".repeat(32)}` as Hex },
      ];
      for (const s of bad) expect(() => hasher.digest(s)).to.throw(ValueOutOfRangeError);
    });
  });

  describe("paymentLeaf", function () {
    it("is keccak256(keccak256(abi.encode(payment))) on random payments", function () {
      fc.assert(
        fc.property(paymentArb(), (payment) => {
          const inner = keccak256(coder.encode([PAYMENT_ABI_TYPE], [paymentValue(payment)]));
          expect(paymentLeafHex(payment)).to.equal(keccak256(inner));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("channelId", function () {
    it("equals the contract's channelId and the test helper's", async function () {
      const { adjudicator } = await loadFixture(fixture);
      const params = fc.sample(
        fc.record({
          participants: fc.tuple(bytes32(), bytes32()).map(([a, b]) => [a.slice(0, 42), b.slice(0, 42)] as const),
          asset: bytes32().map((a) => a.slice(0, 42)),
          challengePeriod: uint(UINT64_MAX),
          nonce: uint(UINT64_MAX),
        }),
        20,
      ) as unknown as Params[];
      for (const p of params) {
        expect(channelId(p)).to.equal(channelIdOf(p));
        expect(channelId(p)).to.equal(await adjudicator.channelId(paramsValue(p) as never));
      }
    });
  });
});
