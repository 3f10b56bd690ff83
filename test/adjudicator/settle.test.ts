import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, ChannelMode } from "../../src/types";
import {
  PERIOD,
  UNSIGNED,
  deployBase,
  expectConserved,
  expectRevertRow,
  expectedPayouts,
  fund,
  idOf,
  makeParams,
  makeState,
  opening,
  signed,
  type RevertRow,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [5n * 10n ** 17n, 10n ** 18n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, ethParams, tokenParams, both } = base;
  await fund(adjudicator, ethParams, both, DEPOSITS);
  await fund(adjudicator, tokenParams, both, DEPOSITS);
  const v3 = makeState(ethParams, 3n, [10n ** 17n, 0n]);
  const v4 = makeState(ethParams, 4n, [2n * 10n ** 17n, 5n * 10n ** 16n]);
  return { ...base, v3, v4, v3Sigs: await signed(adjudicator, both, v3), v4Sigs: await signed(adjudicator, both, v4) };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

async function registerV3(c: Ctx): Promise<bigint> {
  await c.adjudicator.connect(c.bob).challenge(c.ethParams, c.v3, c.v3Sigs);
  return (await c.adjudicator.channel(idOf(c.ethParams))).deadline;
}

describe("Adjudicator #settle", function () {
  it("settles exactly at the deadline and pays both by the registered state", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV3(c);
    await time.setNextBlockTimestamp(deadline);
    const payouts = expectedPayouts(DEPOSITS, c.v3.transferred);
    const tx = c.adjudicator.connect(c.carol).settle(c.ethParams);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, payouts);
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    await expect(tx).to.changeEtherBalances(
      [c.alice, c.bob, c.adjudicatorAddress],
      [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
    );
    const [mode, version, d, deposits] = await c.adjudicator.channel(idOf(c.ethParams));
    expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Concluded), 3n, 0n]);
    expect(deposits).to.deep.equal([0n, 0n]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [c.alice.address, c.bob.address]);
  });

  it("settles any time after the deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV3(c);
    await time.increaseTo(deadline + 7n * 86_400n);
    await expect(c.adjudicator.settle(c.ethParams)).to.changeEtherBalances(
      [c.alice, c.bob],
      expectedPayouts(DEPOSITS, c.v3.transferred),
    );
  });

  it("pays by the newest registered state after a refutation", async function () {
    const c = await loadFixture(fixture);
    await registerV3(c);
    await c.adjudicator.connect(c.alice).challenge(c.ethParams, c.v4, c.v4Sigs);
    await time.increase(PERIOD);
    const payouts = expectedPayouts(DEPOSITS, c.v4.transferred);
    expect(payouts).to.not.deep.equal(expectedPayouts(DEPOSITS, c.v3.transferred));
    const tx = c.adjudicator.settle(c.ethParams);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 4n, payouts);
    await expect(tx).to.changeEtherBalances([c.alice, c.bob], payouts);
  });

  it("counts deposits topped up during the challenge", async function () {
    const c = await loadFixture(fixture);
    await registerV3(c);
    await c.adjudicator.connect(c.carol).deposit(c.ethParams, 1, 123n, { value: 123n });
    await c.adjudicator.connect(c.alice).deposit(c.ethParams, 0, 7n, { value: 7n });
    await time.increase(PERIOD);
    const deposits: [bigint, bigint] = [DEPOSITS[0] + 7n, DEPOSITS[1] + 123n];
    const payouts = expectedPayouts(deposits, c.v3.transferred);
    const tx = c.adjudicator.connect(c.carol).settle(c.ethParams);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, payouts);
    await expect(tx).to.changeEtherBalances([c.alice, c.bob, c.adjudicatorAddress], [payouts[0], payouts[1], -(deposits[0] + deposits[1])]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams], [c.alice.address, c.bob.address]);
  });

  it("returns the deposits on the unsigned opening state", async function () {
    const c = await loadFixture(fixture);
    await c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(c.ethParams)).to.changeEtherBalances([c.alice, c.bob], DEPOSITS);
  });

  it("pays out a token channel", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.tokenParams, 8n, [0n, 3n * 10n ** 17n]);
    await c.adjudicator.challenge(c.tokenParams, s, await signed(c.adjudicator, c.both, s));
    await time.increase(PERIOD);
    const payouts = expectedPayouts(DEPOSITS, s.transferred);
    const tx = c.adjudicator.settle(c.tokenParams);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.tokenParams), 8n, payouts);
    await expect(tx).to.changeTokenBalances(c.token, [c.alice, c.bob, c.adjudicatorAddress], [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])]);
    await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], [c.alice.address, c.bob.address]);
  });

  it("settles a final state registered by challenge", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.ethParams, 2n, [0n, 10n ** 17n], true);
    await c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s));
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(c.ethParams)).to.changeEtherBalances([c.alice, c.bob], expectedPayouts(DEPOSITS, s.transferred));
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      {
        description: "a channel that was never opened",
        call: (c) => c.adjudicator.settle(makeParams(c.participants, ETH, 404n)),
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 404n))],
      },
      {
        description: "an open channel with no challenge",
        call: (c) => c.adjudicator.settle(c.ethParams),
        error: "ChannelNotChallenged",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "right after registration",
        call: async (c) => {
          await registerV3(c);
          return c.adjudicator.settle(c.ethParams);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "one second before the deadline",
        call: async (c) => {
          const deadline = await registerV3(c);
          await time.setNextBlockTimestamp(deadline - 1n);
          return c.adjudicator.settle(c.ethParams);
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
          return c.adjudicator.settle(c.ethParams);
        },
        error: "ChallengePending",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "a second settle",
        call: async (c) => {
          await registerV3(c);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.ethParams);
          return c.adjudicator.settle(c.ethParams);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a closed channel",
        call: async (c) => {
          const final = makeState(c.ethParams, 1n, [0n, 0n], true);
          await c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
          return c.adjudicator.settle(c.ethParams);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
    ];

    for (const row of rows) {
      it(`rejects ${row.description} (${row.error})`, async function () {
        const ctx = await loadFixture(fixture);
        await expectRevertRow(ctx.adjudicator, row, ctx);
      });
    }

    it("a second settle pays nothing", async function () {
      const c = await loadFixture(fixture);
      await registerV3(c);
      await time.increase(PERIOD);
      await c.adjudicator.settle(c.ethParams);
      const before = await ethers.provider.getBalance(c.adjudicatorAddress);
      await expect(c.adjudicator.settle(c.ethParams)).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded");
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(before);
      // The token channel's money is untouched by the ETH channel's settlement.
      await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], []);
    });
  });
});
