import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, ZERO_HASH, ChannelMode, type Hex } from "../../src/types";
import { signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  deployFundedChannels,
  expectConserved,
  expectedSplit,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  makeWithdrawal,
  now,
  opening,
  signed,
  type ChannelParams,
  type ChannelState,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [5n * 10n ** 17n, 10n ** 18n];
/** Gas a payout push gives an ETH payee (Adjudicator.sol, internal constants). */
const ETH_PUSH_GAS = 30_000n;
const LOCKS_ROOT = ethers.id("locks") as Hex;

async function fixture() {
  const base = await deployFundedChannels(DEPOSITS);
  const { adjudicator, both, payee0, payee1, payees, ethParams, tokenParams } = base;
  const v3 = makeState(ethParams, 3n, [10n ** 17n, 0n], false, ethers.id("three") as Hex);
  // Every field nonzero, so that changing any one of them gives another state.
  const v4 = makeState(ethParams, 4n, [2n * 10n ** 17n, 5n * 10n ** 16n], false, ethers.id("four") as Hex, {
    locked: [3n * 10n ** 16n, 7n * 10n ** 16n],
    locksRoot: LOCKS_ROOT,
  });
  return {
    ...base,
    payee0,
    payee1,
    payees,
    ethParams,
    tokenParams,
    v3,
    v4,
    v3Sigs: await signed(adjudicator, both, v3),
    v4Sigs: await signed(adjudicator, both, v4),
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Registers `state` at a pinned time and returns its deadline. */
async function register(c: Ctx, params: ChannelParams, state: ChannelState, sigs: Sigs): Promise<bigint> {
  const at = BigInt(await time.latest()) + 10n;
  await time.setNextBlockTimestamp(at);
  await c.adjudicator.connect(c.bob).challenge(params, state, sigs);
  return at + PERIOD;
}

const registerV3 = (c: Ctx) => register(c, c.ethParams, c.v3, c.v3Sigs);
const registerV4 = (c: Ctx) => register(c, c.ethParams, c.v4, c.v4Sigs);

/** The registered v4 with one field changed: `settle` must refuse it (StateUnknown). */
const V4_VARIANTS: { field: string; change: (s: ChannelState) => Partial<ChannelState> }[] = [
  { field: "version", change: (s) => ({ version: s.version + 1n }) },
  { field: "a lower version", change: (s) => ({ version: s.version - 1n }) },
  { field: "transferred[0]", change: (s) => ({ transferred: [s.transferred[0] + 1n, s.transferred[1]] }) },
  { field: "transferred[1]", change: (s) => ({ transferred: [s.transferred[0], s.transferred[1] - 1n] }) },
  { field: "the transfers swapped", change: (s) => ({ transferred: [s.transferred[1], s.transferred[0]] }) },
  { field: "locked[0]", change: (s) => ({ locked: [s.locked[0] + 1n, s.locked[1]] }) },
  { field: "locked[1]", change: (s) => ({ locked: [s.locked[0], 0n] }) },
  { field: "locksRoot", change: () => ({ locksRoot: ZERO_HASH }) },
  { field: "paymentsRoot", change: () => ({ paymentsRoot: ethers.id("another root") as Hex }) },
  { field: "isFinal", change: (s) => ({ isFinal: !s.isFinal }) },
];

describe("Adjudicator #settle", function () {
  it("settles exactly at the deadline (block.timestamp == deadline) and pays both payees by the registered state", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV3(c);
    await time.setNextBlockTimestamp(deadline);
    const { payouts, held } = expectedSplit(DEPOSITS, c.v3.transferred);
    const tx = c.adjudicator.connect(c.carol).settle(c.ethParams, c.v3);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, payouts, held);
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    await expect(tx).to.changeEtherBalances(
      [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
      [payouts[0], payouts[1], 0n, 0n, -(DEPOSITS[0] + DEPOSITS[1])],
    );
    const [mode, version, d, deposits, withdrawn] = await c.adjudicator.channel(idOf(c.ethParams));
    expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Concluded), 0n, 0n]);
    expect(deposits).to.deep.equal([0n, 0n]);
    expect(withdrawn).to.deep.equal([0n, 0n]);
    expect(await c.adjudicator.heldBack(idOf(c.ethParams))).to.deep.equal([0n, 0n]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [...c.payees, c.alice.address, c.bob.address]);
  });

  it("settles any time after the deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV3(c);
    await time.increaseTo(deadline + 7n * 86_400n);
    await expect(c.adjudicator.settle(c.ethParams, c.v3)).to.changeEtherBalances(
      [c.payee0, c.payee1],
      expectedSplit(DEPOSITS, c.v3.transferred).payouts,
    );
  });

  it("holds back the locked amounts of a registered state with locks and pays the balances", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV4(c);
    await time.increaseTo(deadline);
    const { payouts, held } = expectedSplit(DEPOSITS, c.v4.transferred, [0n, 0n], c.v4.locked);
    expect(held).to.deep.equal(c.v4.locked);
    const tx = c.adjudicator.connect(c.carol).settle(c.ethParams, c.v4);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 4n, payouts, held);
    await expect(tx).to.changeEtherBalances(
      [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
      [payouts[0], payouts[1], 0n, 0n, -(payouts[0] + payouts[1])],
    );
    expect(await c.adjudicator.heldBack(idOf(c.ethParams))).to.deep.equal(held);
    expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(held[0] + held[1]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [...c.payees]);
  });

  it("pays by the newest registered state after a refutation", async function () {
    const c = await loadFixture(fixture);
    await registerV3(c);
    await c.adjudicator.connect(c.alice).challenge(c.ethParams, c.v4, c.v4Sigs);
    await time.increase(PERIOD);
    const { payouts, held } = expectedSplit(DEPOSITS, c.v4.transferred, [0n, 0n], c.v4.locked);
    expect(payouts).to.not.deep.equal(expectedSplit(DEPOSITS, c.v3.transferred).payouts);
    const tx = c.adjudicator.settle(c.ethParams, c.v4);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 4n, payouts, held);
    await expect(tx).to.changeEtherBalances([c.payee0, c.payee1], payouts);
  });

  it("counts deposits topped up during the challenge", async function () {
    const c = await loadFixture(fixture);
    await registerV3(c);
    await c.adjudicator.connect(c.carol).deposit(c.ethParams, 1, 123n, { value: 123n });
    await c.adjudicator.connect(c.alice).deposit(c.ethParams, 0, 7n, { value: 7n });
    await time.increase(PERIOD);
    const deposits: [bigint, bigint] = [DEPOSITS[0] + 7n, DEPOSITS[1] + 123n];
    const { payouts, held } = expectedSplit(deposits, c.v3.transferred);
    const tx = c.adjudicator.connect(c.carol).settle(c.ethParams, c.v3);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, payouts, held);
    await expect(tx).to.changeEtherBalances(
      [c.payee0, c.payee1, c.adjudicatorAddress],
      [payouts[0], payouts[1], -(deposits[0] + deposits[1])],
    );
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [...c.payees]);
  });

  it("pays out what is left after partial withdrawals", async function () {
    const c = await loadFixture(fixture);
    const withdrawn: [bigint, bigint] = [10n ** 17n, 2n * 10n ** 17n];
    for (const i of [0, 1] as const) {
      const w = makeWithdrawal(c.ethParams, i, withdrawn[i], (await now()) + 1_000n);
      await c.adjudicator.partialWithdraw(c.ethParams, w, await signWithdrawalBoth(c.adjudicator, c.both, w));
    }
    const deadline = await registerV4(c);
    await time.increaseTo(deadline);
    const { payouts, held } = expectedSplit(DEPOSITS, c.v4.transferred, withdrawn, c.v4.locked);
    const tx = c.adjudicator.settle(c.ethParams, c.v4);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 4n, payouts, held);
    await expect(tx).to.changeEtherBalances(
      [c.payee0, c.payee1, c.adjudicatorAddress],
      [payouts[0], payouts[1], -(payouts[0] + payouts[1])],
    );
    expect(await c.adjudicator.heldBack(idOf(c.ethParams))).to.deep.equal(held);
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [...c.payees]);
  });

  for (const who of ["the payee of participant 1", "a stranger"] as const) {
    it(`returns the deposits on the unsigned opening state, settled by ${who}`, async function () {
      const c = await loadFixture(fixture);
      await c.adjudicator.connect(c.payee0).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
      await time.increase(PERIOD);
      const caller = who === "a stranger" ? c.mallory : c.payee1;
      const tx = c.adjudicator.connect(caller).settle(c.ethParams, opening(c.ethParams));
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 0n, DEPOSITS, [0n, 0n]);
      await expect(tx).to.changeEtherBalances([c.payee0, c.payee1, c.alice, c.bob], [DEPOSITS[0], DEPOSITS[1], 0n, 0n]);
    });
  }

  it("pays out a token channel", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.tokenParams, 8n, [0n, 3n * 10n ** 17n], false, ZERO_HASH, { locked: [10n, 0n], locksRoot: LOCKS_ROOT });
    const deadline = await register(c, c.tokenParams, s, await signed(c.adjudicator, c.both, s));
    await time.increaseTo(deadline);
    const { payouts, held } = expectedSplit(DEPOSITS, s.transferred, [0n, 0n], s.locked);
    const tx = c.adjudicator.settle(c.tokenParams, s);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.tokenParams), 8n, payouts, held);
    await expect(tx).to.changeTokenBalances(
      c.token,
      [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
      [payouts[0], payouts[1], 0n, 0n, -(payouts[0] + payouts[1])],
    );
    await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], [...c.payees]);
  });

  it("settles a final state registered by challenge", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.ethParams, 2n, [0n, 10n ** 17n], true);
    await c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s));
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(c.ethParams, s)).to.changeEtherBalances(
      [c.payee0, c.payee1],
      expectedSplit(DEPOSITS, s.transferred).payouts,
    );
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      {
        description: "a state that names another channel",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, { ...c.v3, channelId: idOf(c.tokenParams) });
        },
        error: "StateChannelMismatch",
        args: (c) => [idOf(c.ethParams), idOf(c.tokenParams)],
      },
      {
        description: "params of another channel with the registered state",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          return c.adjudicator.settle(makeParams(c.participants, ETH, 1n), c.v3);
        },
        error: "StateChannelMismatch",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1n)), c.v3.channelId],
      },
      {
        description: "a channel that was never opened",
        call: (c) => {
          const p = makeParams(c.participants, ETH, 404n, PERIOD, c.payees);
          return c.adjudicator.settle(p, opening(p));
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 404n, PERIOD, c.payees))],
      },
      {
        description: "an open channel with no challenge",
        call: (c) => c.adjudicator.settle(c.ethParams, opening(c.ethParams)),
        error: "ChannelNotChallenged",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "right after registration",
        call: async (c) => {
          await registerV3(c);
          return c.adjudicator.settle(c.ethParams, c.v3);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "one second before the deadline (block.timestamp == deadline - 1)",
        call: async (c) => {
          const deadline = await registerV3(c);
          await time.setNextBlockTimestamp(deadline - 1n);
          return c.adjudicator.settle(c.ethParams, c.v3);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "before the deadline, after a refutation (the deadline did not move)",
        call: async (c) => {
          const deadline = await registerV3(c);
          await c.adjudicator.challenge(c.ethParams, c.v4, c.v4Sigs);
          await time.setNextBlockTimestamp(deadline - 1n);
          return c.adjudicator.settle(c.ethParams, c.v4);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "a wrong state before the deadline (the deadline is checked first)",
        call: async (c) => {
          await registerV3(c);
          return c.adjudicator.settle(c.ethParams, c.v4);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "the opening state while a signed state is registered",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, opening(c.ethParams));
        },
        error: "StateUnknown",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "the state a refutation replaced",
        call: async (c) => {
          await registerV3(c);
          await c.adjudicator.challenge(c.ethParams, c.v4, c.v4Sigs);
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, c.v3);
        },
        error: "StateUnknown",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a newer state, signed by both but never registered",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, c.v4);
        },
        error: "StateUnknown",
        args: (c) => [idOf(c.ethParams)],
      },
      ...V4_VARIANTS.map(({ field, change }): RevertRow<Ctx> => ({
        description: `the registered state with ${field} changed`,
        call: async (c) => {
          await registerV4(c);
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, { ...c.v4, ...change(c.v4) });
        },
        error: "StateUnknown",
        args: (c) => [idOf(c.ethParams)],
      })),
      {
        description: "a second settle",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.ethParams, c.v3);
          return c.adjudicator.settle(c.ethParams, c.v3);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a closed channel",
        call: async (c) => {
          const final = makeState(c.ethParams, 1n, [0n, 0n], true);
          await c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
          return c.adjudicator.settle(c.ethParams, final);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel closed during its challenge, after the deadline",
        call: async (c) => {
          await registerV3(c);
          const final = makeState(c.ethParams, 5n, [0n, 0n], true);
          await c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
          await time.increase(PERIOD);
          return c.adjudicator.settle(c.ethParams, c.v3);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "too little gas left for a full push to the payees",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          const full = await c.adjudicator.settle.estimateGas(c.ethParams, c.v3);
          for (let gasLimit = full; gasLimit > full - 200_000n; gasLimit -= 1_000n) {
            try {
              await c.adjudicator.settle.staticCall(c.ethParams, c.v3, { gasLimit });
            } catch (error) {
              const data = (error as { data?: string }).data;
              if (data && data !== "0x" && c.adjudicator.interface.parseError(data)?.name === "PayoutGasInsufficient") {
                return c.adjudicator.settle(c.ethParams, c.v3, { gasLimit });
              }
            }
          }
          throw new Error("no gas limit hits PayoutGasInsufficient");
        },
        error: "PayoutGasInsufficient",
        args: () => {
          const allowance = ETH_PUSH_GAS;
          let left = -1n;
          return [
            (gasLeft: bigint) => {
              left = gasLeft;
              return gasLeft > 0n;
            },
            (gasNeeded: bigint) => gasNeeded >= allowance + allowance / 63n && left < gasNeeded,
          ];
        },
      },
    ];

    itRejectsRows(fixture, rows, {
      covers: {
        fn: "settle",
        errors: [
          "StateChannelMismatch",
          "ChannelNotOpen",
          "ChannelNotChallenged",
          "ChallengePending",
          "StateUnknown",
          "ChannelConcluded",
          "PayoutGasInsufficient",
        ],
      },
    });

    it("each changed state really differs from the registered one (another struct hash)", async function () {
      const c = await loadFixture(fixture);
      const digests = new Set([await c.adjudicator.hashState(c.v4)]);
      for (const { change } of V4_VARIANTS) digests.add(await c.adjudicator.hashState({ ...c.v4, ...change(c.v4) }));
      expect(digests.size).to.equal(V4_VARIANTS.length + 1);
    });

    it("a refused settle changes nothing, and the registered state still settles", async function () {
      const c = await loadFixture(fixture);
      await registerV4(c);
      await time.increase(PERIOD);
      const before = await ethers.provider.getBalance(c.adjudicatorAddress);
      await expect(c.adjudicator.settle(c.ethParams, c.v3))
        .to.be.revertedWithCustomError(c.adjudicator, "StateUnknown")
        .withArgs(idOf(c.ethParams));
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(before);
      expect((await c.adjudicator.channel(idOf(c.ethParams))).mode).to.equal(ChannelMode.Challenged);
      await expect(c.adjudicator.settle(c.ethParams, c.v4)).to.emit(c.adjudicator, "Settled");
    });

    it("a second settle pays nothing", async function () {
      const c = await loadFixture(fixture);
      await registerV3(c);
      await time.increase(PERIOD);
      await c.adjudicator.settle(c.ethParams, c.v3);
      const before = await ethers.provider.getBalance(c.adjudicatorAddress);
      await expect(c.adjudicator.settle(c.ethParams, c.v3)).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded");
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(before);
      // The token channel's money is untouched by the ETH channel's settlement.
      await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], []);
    });
  });
});
