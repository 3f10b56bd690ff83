import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { TypedDataEncoder } from "ethers";
import {
  DOMAIN_NAME,
  DOMAIN_VERSION,
  STATE_TYPES,
  STATE_TYPE_STRING,
  WITHDRAWAL_TYPES,
  WITHDRAWAL_TYPE_STRING,
  sluiceDomain,
  stateValue,
  withdrawalValue,
} from "../../src/typedData";
import { ETH, ZERO_HASH, ChannelMode, type Address, type Hex } from "../../src/types";
import { channelIdOf, signWithdrawalBoth } from "../helpers/channel";
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
  makeWithdrawal,
  now,
  opening,
  signed,
  type ChannelState,
  type ChannelWithdrawal,
} from "../helpers/fixture";

const MAX_U256 = 2n ** 256n - 1n;
const MAX_U64 = 2n ** 64n - 1n;
const LOCKS_ROOT = ethers.id("locks") as Hex;

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  const payees: [Address, Address] = [signers[5].address as Address, signers[6].address as Address];
  const second = await ethers.deployContract("Adjudicator");
  const ethParams = makeParams(base.participants, ETH, 1n, PERIOD, payees);
  return { ...base, payees, second, ethParams };
}

/** Calldata of `fn(arg)` with its `index`-th 32-byte argument word replaced by `value`. */
function withWord(data: string, index: number, value: bigint): string {
  const words = ethers.dataSlice(data, 4);
  const count = ethers.dataLength(words) / 32;
  const word = (i: number) => (i === index ? ethers.toBeHex(value, 32) : ethers.dataSlice(words, i * 32, (i + 1) * 32));
  return ethers.concat([ethers.dataSlice(data, 0, 4), ...Array.from({ length: count }, (_, i) => word(i))]);
}

describe("Adjudicator views", function () {
  describe("#channelId", function () {
    it("is keccak256(abi.encode(params)) as the client computes it", async function () {
      const { adjudicator, participants, payees, tokenAddress } = await loadFixture(fixture);
      const cases = [
        makeParams(participants),
        makeParams(participants, ETH, 1n, PERIOD, payees),
        makeParams([participants[1], participants[0]], ETH, 1n, PERIOD, [payees[1], payees[0]]),
        makeParams(participants, tokenAddress, 0n, 1n, payees),
        makeParams(participants, ETH, MAX_U64, 365n * 86_400n, [payees[0], payees[0]]),
      ];
      for (const params of cases) expect(await adjudicator.channelId(params)).to.equal(channelIdOf(params));
    });

    it("changes with every field of the params, each payee included", async function () {
      const { participants, payees, tokenAddress, carol } = await loadFixture(fixture);
      const base = makeParams(participants, ETH, 1n, PERIOD, payees);
      const variants = [
        makeParams([participants[1], participants[0]], ETH, 1n, PERIOD, payees),
        makeParams([participants[0], carol.address as Address], ETH, 1n, PERIOD, payees),
        makeParams(participants, ETH, 1n, PERIOD, [carol.address as Address, payees[1]]),
        makeParams(participants, ETH, 1n, PERIOD, [payees[0], carol.address as Address]),
        makeParams(participants, ETH, 1n, PERIOD, [payees[1], payees[0]]),
        makeParams(participants, ETH, 1n, PERIOD),
        makeParams(participants, tokenAddress, 1n, PERIOD, payees),
        makeParams(participants, ETH, 2n, PERIOD, payees),
        makeParams(participants, ETH, 1n, PERIOD + 1n, payees),
      ];
      const ids = new Set([idOf(base), ...variants.map(idOf)]);
      expect(ids.size).to.equal(variants.length + 1);
    });

    it("rejects params whose words have dirty high bits (no id for params that can't be decoded)", async function () {
      const { adjudicator, adjudicatorAddress, ethParams } = await loadFixture(fixture);
      const data = adjudicator.interface.encodeFunctionData("channelId", [ethParams]);
      expect(await ethers.provider.call({ to: adjudicatorAddress, data })).to.equal(ethers.zeroPadValue(idOf(ethParams), 32));
      // Words: participants 0-1, payees 2-3, asset 4 (addresses: 160 bits), challengePeriod 5, nonce 6 (64 bits).
      const words = ethers.dataSlice(data, 4);
      const at = (i: number) => BigInt(ethers.dataSlice(words, i * 32, (i + 1) * 32));
      for (const [index, bits] of [
        [0, 160n],
        [1, 160n],
        [2, 160n],
        [3, 160n],
        [4, 160n],
        [5, 64n],
        [6, 64n],
      ] as const) {
        const dirty = withWord(data, index, at(index) | (1n << bits));
        await expect(ethers.provider.call({ to: adjudicatorAddress, data: dirty }), `word ${index}`).to.be.rejected;
      }
    });
  });

  describe("#hashState", function () {
    const states = (id: Hex): ChannelState[] => [
      {
        ...opening({ ...makeParams(["0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"]) }),
        channelId: id,
      },
      {
        channelId: id,
        version: 1n,
        transferred: [5n, 0n],
        locked: [0n, 0n],
        locksRoot: ZERO_HASH,
        paymentsRoot: ethers.id("r") as Hex,
        isFinal: false,
      },
      {
        channelId: id,
        version: 2n,
        transferred: [5n, 1n],
        locked: [7n, 3n],
        locksRoot: LOCKS_ROOT,
        paymentsRoot: ethers.id("r") as Hex,
        isFinal: false,
      },
      {
        channelId: id,
        version: MAX_U64,
        transferred: [MAX_U256, MAX_U256],
        locked: [MAX_U256, MAX_U256],
        locksRoot: ethers.id("l") as Hex,
        paymentsRoot: ethers.id("s") as Hex,
        isFinal: true,
      },
      {
        channelId: ZERO_HASH,
        version: 0n,
        transferred: [0n, 1n],
        locked: [1n, 0n],
        locksRoot: ZERO_HASH,
        paymentsRoot: ZERO_HASH,
        isFinal: true,
      },
    ];

    it("equals ethers' TypedDataEncoder digest under the Sluice domain", async function () {
      const { adjudicator, ethParams } = await loadFixture(fixture);
      const domain = await domainOf(adjudicator);
      for (const s of states(idOf(ethParams))) {
        expect(await adjudicator.hashState(s)).to.equal(TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(s)));
      }
    });

    it("uses the type string of DESIGN.md", function () {
      expect(TypedDataEncoder.from(STATE_TYPES).encodeType("State")).to.equal(STATE_TYPE_STRING);
      expect(STATE_TYPE_STRING).to.equal(
        "State(bytes32 channelId,uint64 version,uint256[2] transferred,uint256[2] locked,bytes32 locksRoot,bytes32 paymentsRoot,bool isFinal)",
      );
    });

    it("changes with every field of the state", async function () {
      const { adjudicator, ethParams } = await loadFixture(fixture);
      const s = makeState(ethParams, 3n, [1n, 2n], false, ethers.id("root") as Hex, { locked: [4n, 5n], locksRoot: LOCKS_ROOT });
      const variants: ChannelState[] = [
        { ...s, channelId: ethers.id("other") as Hex },
        { ...s, version: 4n },
        { ...s, transferred: [2n, 1n] },
        { ...s, transferred: [1n, 3n] },
        { ...s, locked: [5n, 4n] },
        { ...s, locked: [4n, 6n] },
        { ...s, locked: [0n, 5n] },
        { ...s, locksRoot: ZERO_HASH },
        { ...s, paymentsRoot: ZERO_HASH },
        { ...s, paymentsRoot: LOCKS_ROOT, locksRoot: ethers.id("root") as Hex },
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
      // Words: channelId 0, version 1, transferred 2-3, locked 4-5, locksRoot 6, paymentsRoot 7, isFinal 8.
      expect(ethers.dataLength(data)).to.equal(4 + 9 * 32);
      for (const dirty of [withWord(data, 1, 2n ** 64n + 3n), withWord(data, 8, 2n)]) {
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

  describe("#hashWithdrawal", function () {
    const withdrawals = (id: Hex): ChannelWithdrawal[] => [
      { channelId: id, participant: 0, total: 0n, expiry: 0n },
      { channelId: id, participant: 1, total: 12_345n, expiry: 1_700_000_000n },
      { channelId: id, participant: 0, total: MAX_U256, expiry: MAX_U64 },
      { channelId: ZERO_HASH, participant: 1, total: 1n, expiry: 1n },
    ];

    it("equals ethers' TypedDataEncoder digest under the Sluice domain", async function () {
      const { adjudicator, ethParams } = await loadFixture(fixture);
      const domain = await domainOf(adjudicator);
      for (const w of withdrawals(idOf(ethParams))) {
        expect(await adjudicator.hashWithdrawal(w)).to.equal(TypedDataEncoder.hash(domain, WITHDRAWAL_TYPES, withdrawalValue(w)));
      }
    });

    it("uses the type string of DESIGN.md", function () {
      expect(TypedDataEncoder.from(WITHDRAWAL_TYPES).encodeType("Withdrawal")).to.equal(WITHDRAWAL_TYPE_STRING);
      expect(WITHDRAWAL_TYPE_STRING).to.equal("Withdrawal(bytes32 channelId,uint8 participant,uint256 total,uint64 expiry)");
    });

    it("changes with every field, differs from every state digest, and depends on the verifying contract", async function () {
      const { adjudicator, second, ethParams } = await loadFixture(fixture);
      const w = makeWithdrawal(ethParams, 0, 100n, 5_000n);
      const variants: ChannelWithdrawal[] = [
        { ...w, channelId: ethers.id("other") as Hex },
        { ...w, participant: 1 },
        { ...w, total: 101n },
        { ...w, expiry: 5_001n },
      ];
      const digests = new Set([await adjudicator.hashWithdrawal(w)]);
      for (const v of variants) digests.add(await adjudicator.hashWithdrawal(v));
      expect(digests.size).to.equal(variants.length + 1);
      expect(await second.hashWithdrawal(w)).to.not.equal(await adjudicator.hashWithdrawal(w));
      expect(await adjudicator.hashState(opening(ethParams))).to.not.be.oneOf([...digests]);
    });

    it("rejects a withdrawal whose participant or expiry word has dirty high bits", async function () {
      const { adjudicator, adjudicatorAddress, ethParams } = await loadFixture(fixture);
      const w = makeWithdrawal(ethParams, 1, 100n, 5_000n);
      const data = adjudicator.interface.encodeFunctionData("hashWithdrawal", [w]);
      expect(await ethers.provider.call({ to: adjudicatorAddress, data })).to.equal(await adjudicator.hashWithdrawal(w));
      // Words: channelId 0, participant 1 (uint8), total 2, expiry 3 (uint64).
      for (const dirty of [withWord(data, 1, 256n + 1n), withWord(data, 3, 2n ** 64n + 5_000n)]) {
        await expect(ethers.provider.call({ to: adjudicatorAddress, data: dirty })).to.be.rejected;
      }
    });
  });

  describe("#eip712Domain (ERC-5267)", function () {
    it("reports name Sluice, version 2, this chain and this contract, no salt or extensions", async function () {
      const { adjudicator, adjudicatorAddress } = await loadFixture(fixture);
      const [fields, name, version, chainId, verifyingContract, salt, extensions] = await adjudicator.eip712Domain();
      const network = await ethers.provider.getNetwork();
      expect(fields).to.equal("0x0f");
      expect(name).to.equal(DOMAIN_NAME);
      expect(name).to.equal("Sluice");
      expect(version).to.equal(DOMAIN_VERSION);
      expect(version).to.equal("2");
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
      const { adjudicator, alice, participants, payees } = await loadFixture(fixture);
      const max = await adjudicator.MAX_CHALLENGE_PERIOD();
      for (const period of [1n, max]) {
        const p = makeParams(participants, ETH, 1n, period, payees);
        await adjudicator.connect(alice).deposit(p, 0, 1n, { value: 1n });
        const at = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(at);
        await expect(adjudicator.connect(alice).challenge(p, opening(p), UNSIGNED)).to.emit(adjudicator, "Challenged");
        expect((await adjudicator.channel(idOf(p))).deadline).to.equal(at + period);
      }
    });
  });

  describe("#channel", function () {
    it("reports none, open, challenged (also past the deadline) and concluded, with deposits and withdrawals", async function () {
      const { adjudicator, alice, bob, carol, both, ethParams } = await loadFixture(fixture);
      const id = idOf(ethParams);
      const read = async () => {
        const [mode, version, deadline, deposits, withdrawn] = await adjudicator.channel(id);
        return { mode: Number(mode), version, deadline, deposits: [deposits[0], deposits[1]], withdrawn: [withdrawn[0], withdrawn[1]] };
      };
      expect(await read()).to.deep.equal({ mode: ChannelMode.None, version: 0n, deadline: 0n, deposits: [0n, 0n], withdrawn: [0n, 0n] });
      await fund(adjudicator, ethParams, [alice, bob], [40n, 60n]);
      expect(await read()).to.deep.equal({ mode: ChannelMode.Open, version: 0n, deadline: 0n, deposits: [40n, 60n], withdrawn: [0n, 0n] });
      const w = makeWithdrawal(ethParams, 1, 15n, (await now()) + 1_000n);
      await adjudicator.partialWithdraw(ethParams, w, await signWithdrawalBoth(adjudicator, both, w));
      expect(await read()).to.deep.equal({ mode: ChannelMode.Open, version: 0n, deadline: 0n, deposits: [40n, 60n], withdrawn: [0n, 15n] });
      const s = makeState(ethParams, 2n, [1n, 0n]);
      const at = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(at);
      await adjudicator.connect(carol).challenge(ethParams, s, await signed(adjudicator, both, s));
      const deadline = at + PERIOD;
      const challenged = { mode: ChannelMode.Challenged, version: 2n, deadline, deposits: [40n, 60n], withdrawn: [0n, 15n] };
      expect(await read()).to.deep.equal(challenged);
      await time.increaseTo(deadline + 1n);
      expect(await read()).to.deep.equal(challenged);
      await adjudicator.settle(ethParams, s);
      expect(await read()).to.deep.equal({
        mode: ChannelMode.Concluded,
        version: 0n,
        deadline: 0n,
        deposits: [0n, 0n],
        withdrawn: [0n, 0n],
      });
    });

    it("reports a closed channel as concluded with zeros (Closed carries the version)", async function () {
      const { adjudicator, both, ethParams } = await loadFixture(fixture);
      await fund(adjudicator, ethParams, both, [1n, 1n]);
      const s = makeState(ethParams, 42n, [0n, 0n], true);
      await expect(adjudicator.close(ethParams, s, await signed(adjudicator, both, s)))
        .to.emit(adjudicator, "Closed")
        .withArgs(idOf(ethParams), 42n, [1n, 1n]);
      const [mode, version, deadline, deposits, withdrawn] = await adjudicator.channel(idOf(ethParams));
      expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Concluded), 0n, 0n]);
      expect(deposits).to.deep.equal([0n, 0n]);
      expect(withdrawn).to.deep.equal([0n, 0n]);
    });

    it("reports a channel whose only deposit is participant 1's as open", async function () {
      const { adjudicator, carol, ethParams } = await loadFixture(fixture);
      await adjudicator.connect(carol).deposit(ethParams, 1, 9n, { value: 9n });
      const [mode, , , deposits] = await adjudicator.channel(idOf(ethParams));
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal([0n, 9n]);
    });
  });

  describe("#heldBack", function () {
    it("is zero before settlement and what the settled state's locks hold after it", async function () {
      const { adjudicator, both, ethParams } = await loadFixture(fixture);
      const id = idOf(ethParams);
      expect(await adjudicator.heldBack(id)).to.deep.equal([0n, 0n]);
      await fund(adjudicator, ethParams, both, [100n, 100n]);
      expect(await adjudicator.heldBack(id)).to.deep.equal([0n, 0n]);
      const s = makeState(ethParams, 3n, [10n, 0n], false, ZERO_HASH, { locked: [20n, 30n], locksRoot: LOCKS_ROOT });
      await adjudicator.challenge(ethParams, s, await signed(adjudicator, both, s));
      expect(await adjudicator.heldBack(id)).to.deep.equal([0n, 0n]);
      await time.increase(PERIOD);
      await expect(adjudicator.settle(ethParams, s)).to.emit(adjudicator, "Settled").withArgs(id, 3n, [70n, 80n], [20n, 30n]);
      expect(await adjudicator.heldBack(id)).to.deep.equal([20n, 30n]);
    });
  });

  describe("#lockResolved and #secretRevealedAt", function () {
    it("are false and 0 for anything never resolved or revealed", async function () {
      const { adjudicator } = await loadFixture(fixture);
      for (const x of [ZERO_HASH, LOCKS_ROOT, ethers.id("anything") as Hex]) {
        expect(await adjudicator.lockResolved(x)).to.equal(false);
        expect(await adjudicator.secretRevealedAt(x)).to.equal(0n);
      }
    });
  });

  describe("#credits", function () {
    it("is zero for anyone who was never credited", async function () {
      const { adjudicator, alice, payees, tokenAddress } = await loadFixture(fixture);
      for (const owner of [alice.address, ...payees]) {
        expect(await adjudicator.credits(owner, ETH)).to.equal(0n);
        expect(await adjudicator.credits(owner, tokenAddress)).to.equal(0n);
      }
    });

    it("is what a refused push credited to the payee, per asset", async function () {
      const { adjudicator, carol, both, participants, tokenAddress } = await loadFixture(fixture);
      const receiver = await ethers.deployContract("RevertingReceiver", [carol.address]);
      const receiverAddress = await addressOf(receiver);
      const params = makeParams(participants, ETH, 5n, PERIOD, [participants[0], receiverAddress]);
      await fund(adjudicator, params, both, [3n, 4n]);
      const s = makeState(params, 1n, [0n, 0n], true);
      await adjudicator.close(params, s, await signed(adjudicator, both, s));
      expect(await adjudicator.credits(receiverAddress, ETH)).to.equal(4n);
      expect(await adjudicator.credits(receiverAddress, tokenAddress)).to.equal(0n);
      expect(await adjudicator.credits(participants[1], ETH)).to.equal(0n);
    });
  });
});
