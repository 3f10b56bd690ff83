import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { TypedDataEncoder } from "ethers";
import { DOMAIN_NAME, DOMAIN_VERSION, STATE_TYPES, STATE_TYPE_STRING, sluiceDomain, stateValue } from "../../src/typedData";
import { ETH, ZERO_HASH, ChannelMode, type Address, type Hex } from "../../src/types";
import { channelIdOf, openingState } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  deployBase,
  domainOf,
  fund,
  idOf,
  makeParams,
  makeState,
  signed,
  type ChannelState,
} from "../helpers/fixture";

const MAX_U256 = 2n ** 256n - 1n;
const MAX_U64 = 2n ** 64n - 1n;

async function fixture() {
  const base = await deployBase();
  const second = await ethers.deployContract("Adjudicator");
  return { ...base, second };
}

describe("Adjudicator views", function () {
  describe("#channelId", function () {
    it("is keccak256(abi.encode(params)) as the client computes it", async function () {
      const { adjudicator, participants, tokenAddress } = await loadFixture(fixture);
      const cases = [
        makeParams(participants),
        makeParams([participants[1], participants[0]]),
        makeParams(participants, tokenAddress, 0n, 1n),
        makeParams(participants, ETH, MAX_U64, 365n * 86_400n),
      ];
      for (const params of cases) expect(await adjudicator.channelId(params)).to.equal(channelIdOf(params));
    });

    it("changes with every field of the params", async function () {
      const { participants, tokenAddress, carol } = await loadFixture(fixture);
      const base = makeParams(participants);
      const variants = [
        makeParams([participants[1], participants[0]]),
        makeParams([participants[0], carol.address as Address]),
        makeParams(participants, tokenAddress),
        makeParams(participants, ETH, 2n),
        makeParams(participants, ETH, 1n, PERIOD + 1n),
      ];
      const ids = new Set([idOf(base), ...variants.map(idOf)]);
      expect(ids.size).to.equal(variants.length + 1);
    });
  });

  describe("#hashState", function () {
    const states = (id: Hex): ChannelState[] => [
      { ...openingState(id), transferred: [0n, 0n] },
      { channelId: id, version: 1n, transferred: [5n, 0n], paymentsRoot: ethers.id("r") as Hex, isFinal: false },
      { channelId: id, version: MAX_U64, transferred: [MAX_U256, MAX_U256], paymentsRoot: ethers.id("s") as Hex, isFinal: true },
      { channelId: ZERO_HASH, version: 0n, transferred: [0n, 1n], paymentsRoot: ZERO_HASH, isFinal: true },
    ];

    it("equals ethers' TypedDataEncoder digest under the Sluice domain", async function () {
      const { adjudicator, ethParams } = await loadFixture(fixture);
      const domain = await domainOf(adjudicator);
      for (const s of states(idOf(ethParams))) {
        expect(await adjudicator.hashState(s)).to.equal(TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(s)));
      }
    });

    it("uses the type string of DESIGN.md", async function () {
      expect(TypedDataEncoder.from(STATE_TYPES).encodeType("State")).to.equal(STATE_TYPE_STRING);
      expect(STATE_TYPE_STRING).to.equal(
        "State(bytes32 channelId,uint64 version,uint256[2] transferred,bytes32 paymentsRoot,bool isFinal)",
      );
    });

    it("changes with every field of the state", async function () {
      const { adjudicator, ethParams } = await loadFixture(fixture);
      const s = makeState(ethParams, 3n, [1n, 2n], false, ethers.id("root") as Hex);
      const variants: ChannelState[] = [
        { ...s, channelId: ethers.id("other") as Hex },
        { ...s, version: 4n },
        { ...s, transferred: [2n, 1n] },
        { ...s, transferred: [1n, 3n] },
        { ...s, paymentsRoot: ZERO_HASH },
        { ...s, isFinal: true },
      ];
      const digests = new Set([await adjudicator.hashState(s)]);
      for (const v of variants) digests.add(await adjudicator.hashState(v));
      expect(digests.size).to.equal(variants.length + 1);
    });

    it("rejects a state whose version or isFinal word has dirty high bits (no hash of a state that can't be decoded)", async function () {
      const { adjudicator, adjudicatorAddress, ethParams } = await loadFixture(fixture);
      const s = makeState(ethParams, 3n, [1n, 2n], true);
      const data = adjudicator.interface.encodeFunctionData("hashState", [s]);
      expect(await ethers.provider.call({ to: adjudicatorAddress, data })).to.equal(await adjudicator.hashState(s));
      const words = ethers.dataSlice(data, 4);
      const word = (i: number) => ethers.dataSlice(words, i * 32, (i + 1) * 32);
      const withWord = (i: number, value: string) =>
        ethers.concat([ethers.dataSlice(data, 0, 4), ...Array.from({ length: 6 }, (_, j) => (j === i ? value : word(j)))]);
      // version is word 1, isFinal word 5.
      for (const dirty of [withWord(1, ethers.toBeHex(2n ** 64n + 3n, 32)), withWord(5, ethers.toBeHex(2n, 32))]) {
        await expect(ethers.provider.call({ to: adjudicatorAddress, data: dirty })).to.be.rejected;
      }
    });

    it("depends on the verifying contract", async function () {
      const { adjudicator, second, ethParams } = await loadFixture(fixture);
      const s = makeState(ethParams, 1n, [0n, 0n]);
      const { chainId } = await ethers.provider.getNetwork();
      const otherDigest = await second.hashState(s);
      expect(otherDigest).to.not.equal(await adjudicator.hashState(s));
      expect(otherDigest).to.equal(TypedDataEncoder.hash(sluiceDomain(chainId, await addressOf(second)), STATE_TYPES, stateValue(s)));
    });
  });

  describe("#eip712Domain (ERC-5267)", function () {
    it("reports name Sluice, version 1, this chain and this contract, no salt or extensions", async function () {
      const { adjudicator, adjudicatorAddress } = await loadFixture(fixture);
      const [fields, name, version, chainId, verifyingContract, salt, extensions] = await adjudicator.eip712Domain();
      const network = await ethers.provider.getNetwork();
      expect(fields).to.equal("0x0f");
      expect(name).to.equal(DOMAIN_NAME);
      expect(name).to.equal("Sluice");
      expect(version).to.equal(DOMAIN_VERSION);
      expect(version).to.equal("1");
      expect(chainId).to.equal(network.chainId);
      expect(verifyingContract).to.equal(adjudicatorAddress);
      expect(salt).to.equal(ZERO_HASH);
      expect(extensions).to.deep.equal([]);
    });
  });

  describe("constants", function () {
    it("MAX_CHALLENGE_PERIOD is a year and MAX_DEPOSIT is 2^120 - 1", async function () {
      const { adjudicator } = await loadFixture(fixture);
      expect(await adjudicator.MAX_CHALLENGE_PERIOD()).to.equal(365n * 86_400n);
      expect(await adjudicator.MAX_DEPOSIT()).to.equal(2n ** 120n - 1n);
    });

    it("accepts a challenge period of exactly MAX_CHALLENGE_PERIOD and of 1 second", async function () {
      const { adjudicator, alice, participants } = await loadFixture(fixture);
      const max = await adjudicator.MAX_CHALLENGE_PERIOD();
      for (const period of [1n, max]) {
        const p = makeParams(participants, ETH, 1n, period);
        await adjudicator.connect(alice).deposit(p, 0, 1n, { value: 1n });
        const registered = adjudicator.connect(alice).challenge(p, { ...openingState(idOf(p)), transferred: [0n, 0n] }, UNSIGNED);
        await expect(registered).to.emit(adjudicator, "Challenged");
        expect((await adjudicator.channel(idOf(p))).deadline).to.equal(BigInt(await time.latest()) + period);
      }
    });
  });

  describe("#channel", function () {
    it("reports none, open, challenged (also past the deadline) and concluded", async function () {
      const { adjudicator, alice, bob, carol, both, ethParams } = await loadFixture(fixture);
      const id = idOf(ethParams);
      const read = async () => {
        const [mode, version, deadline, deposits] = await adjudicator.channel(id);
        return { mode: Number(mode), version, deadline, deposits: [deposits[0], deposits[1]] };
      };
      expect(await read()).to.deep.equal({ mode: ChannelMode.None, version: 0n, deadline: 0n, deposits: [0n, 0n] });
      await fund(adjudicator, ethParams, [alice, bob], [4n, 6n]);
      expect(await read()).to.deep.equal({ mode: ChannelMode.Open, version: 0n, deadline: 0n, deposits: [4n, 6n] });
      const s = makeState(ethParams, 2n, [1n, 0n]);
      await adjudicator.connect(carol).challenge(ethParams, s, await signed(adjudicator, both, s));
      const deadline = BigInt(await time.latest()) + PERIOD;
      expect(await read()).to.deep.equal({ mode: ChannelMode.Challenged, version: 2n, deadline, deposits: [4n, 6n] });
      await time.increaseTo(deadline + 1n);
      expect(await read()).to.deep.equal({ mode: ChannelMode.Challenged, version: 2n, deadline, deposits: [4n, 6n] });
      await adjudicator.settle(ethParams);
      expect(await read()).to.deep.equal({ mode: ChannelMode.Concluded, version: 2n, deadline: 0n, deposits: [0n, 0n] });
    });

    it("reports the concluded version after a close", async function () {
      const { adjudicator, both, ethParams } = await loadFixture(fixture);
      await fund(adjudicator, ethParams, both, [1n, 1n]);
      const s = makeState(ethParams, 42n, [0n, 0n], true);
      await adjudicator.close(ethParams, s, await signed(adjudicator, both, s));
      const [mode, version, deadline, deposits] = await adjudicator.channel(idOf(ethParams));
      expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Concluded), 42n, 0n]);
      expect(deposits).to.deep.equal([0n, 0n]);
    });

    it("reports a channel whose only deposit is participant 1's as open", async function () {
      const { adjudicator, carol, ethParams } = await loadFixture(fixture);
      await adjudicator.connect(carol).deposit(ethParams, 1, 9n, { value: 9n });
      const [mode, , , deposits] = await adjudicator.channel(idOf(ethParams));
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal([0n, 9n]);
    });
  });

  describe("#credits", function () {
    it("is zero for anyone who was never credited", async function () {
      const { adjudicator, alice, tokenAddress } = await loadFixture(fixture);
      expect(await adjudicator.credits(alice.address, ETH)).to.equal(0n);
      expect(await adjudicator.credits(alice.address, tokenAddress)).to.equal(0n);
    });
  });
});
