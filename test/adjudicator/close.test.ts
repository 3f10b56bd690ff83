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

const DEPOSITS: [bigint, bigint] = [10n ** 18n, 2n * 10n ** 18n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, ethParams, tokenParams, both } = base;
  await fund(adjudicator, ethParams, both, DEPOSITS);
  await fund(adjudicator, tokenParams, both, DEPOSITS);
  const final = makeState(ethParams, 9n, [3n * 10n ** 17n, 10n ** 17n], true, ethers.id("root") as `0x${string}`);
  const finalSigs = await signed(adjudicator, both, final);
  return { ...base, final, finalSigs };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

describe("Adjudicator #close", function () {
  it("pays both participants at once by the final state (ETH) and concludes the channel", async function () {
    const { adjudicator, adjudicatorAddress, alice, bob, carol, ethParams, final, finalSigs } = await loadFixture(fixture);
    const payouts = expectedPayouts(DEPOSITS, final.transferred);
    expect(payouts).to.deep.equal([8n * 10n ** 17n, 22n * 10n ** 17n]);
    const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
    await expect(tx).to.not.emit(adjudicator, "Credited");
    await expect(tx).to.changeEtherBalances(
      [alice, bob, adjudicatorAddress],
      [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
    );
    const [mode, version, deadline, deposits] = await adjudicator.channel(idOf(ethParams));
    expect(mode).to.equal(ChannelMode.Concluded);
    expect(version).to.equal(final.version);
    expect(deadline).to.equal(0n);
    expect(deposits).to.deep.equal([0n, 0n]);
    await expectConserved(adjudicator, ETH, [ethParams], [alice.address, bob.address]);
  });

  it("pays both participants at once by the final state (ERC-20)", async function () {
    const { adjudicator, adjudicatorAddress, token, tokenAddress, alice, bob, both, tokenParams } = await loadFixture(fixture);
    const final = makeState(tokenParams, 3n, [5n, 10n ** 18n + 5n], true);
    const payouts = expectedPayouts(DEPOSITS, final.transferred);
    const tx = adjudicator.connect(alice).close(tokenParams, final, await signed(adjudicator, both, final));
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(tokenParams), 3n, payouts);
    await expect(tx).to.changeTokenBalances(
      token,
      [alice, bob, adjudicatorAddress],
      [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
    );
    await expectConserved(adjudicator, tokenAddress, [tokenParams], [alice.address, bob.address]);
  });

  it("may be submitted by a participant or by anyone", async function () {
    const { adjudicator, bob, ethParams, final, finalSigs } = await loadFixture(fixture);
    await expect(adjudicator.connect(bob).close(ethParams, final, finalSigs)).to.emit(adjudicator, "Closed");
  });

  it("pays nothing to a side whose payout is zero and everything to the other", async function () {
    const { adjudicator, adjudicatorAddress, alice, bob, carol, both, ethParams } = await loadFixture(fixture);
    const final = makeState(ethParams, 1n, [DEPOSITS[0], 0n], true);
    const tx = adjudicator.connect(carol).close(ethParams, final, await signed(adjudicator, both, final));
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), 1n, [0n, DEPOSITS[0] + DEPOSITS[1]]);
    await expect(tx).to.changeEtherBalances([alice, bob, adjudicatorAddress], [0n, DEPOSITS[0] + DEPOSITS[1], -(DEPOSITS[0] + DEPOSITS[1])]);
  });

  it("uses the current deposits, top-ups included, with no re-signing", async function () {
    const { adjudicator, alice, bob, carol, ethParams, final, finalSigs } = await loadFixture(fixture);
    await adjudicator.connect(alice).deposit(ethParams, 0, 5n, { value: 5n });
    const payouts = expectedPayouts([DEPOSITS[0] + 5n, DEPOSITS[1]], final.transferred);
    await expect(adjudicator.connect(carol).close(ethParams, final, finalSigs)).to.changeEtherBalances([alice, bob], payouts);
  });

  describe("during a challenge", function () {
    it("accepts a final state of a higher version and clears the challenge", async function () {
      const { adjudicator, alice, bob, carol, both, ethParams, final, finalSigs } = await loadFixture(fixture);
      const older = makeState(ethParams, 4n, [10n, 0n]);
      await adjudicator.connect(bob).challenge(ethParams, older, await signed(adjudicator, both, older));
      const payouts = expectedPayouts(DEPOSITS, final.transferred);
      const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
      await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
      await expect(tx).to.changeEtherBalances([alice, bob], payouts);
      const [mode, version, deadline] = await adjudicator.channel(idOf(ethParams));
      expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Concluded), final.version, 0n]);
      await expectConserved(adjudicator, ETH, [ethParams], [alice.address, bob.address]);
    });

    it("accepts the registered version itself when it is final", async function () {
      const { adjudicator, alice, bob, ethParams, final, finalSigs } = await loadFixture(fixture);
      await adjudicator.connect(bob).challenge(ethParams, final, finalSigs);
      await expect(adjudicator.close(ethParams, final, finalSigs)).to.changeEtherBalances(
        [alice, bob],
        expectedPayouts(DEPOSITS, final.transferred),
      );
    });

    it("still works after the deadline, as long as nobody has settled", async function () {
      const { adjudicator, alice, bob, carol, ethParams, final, finalSigs } = await loadFixture(fixture);
      await adjudicator.connect(alice).challenge(ethParams, opening(ethParams), UNSIGNED);
      await time.increase(PERIOD * 2n);
      const payouts = expectedPayouts(DEPOSITS, final.transferred);
      const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
      await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
      await expect(tx).to.changeEtherBalances([alice, bob], payouts);
      await expect(adjudicator.settle(ethParams))
        .to.be.revertedWithCustomError(adjudicator, "ChannelConcluded")
        .withArgs(idOf(ethParams));
    });
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      {
        description: "a state that names another channel",
        call: (c) => c.adjudicator.close(makeParams(c.participants, ETH, 77n), c.final, c.finalSigs),
        error: "StateChannelMismatch",
        args: (c) => [idOf(makeParams(c.participants, ETH, 77n)), c.final.channelId],
      },
      {
        description: "a state that is not final",
        call: async (c) => {
          const s = { ...c.final, isFinal: false };
          return c.adjudicator.close(c.ethParams, s, await signed(c.adjudicator, c.both, s));
        },
        error: "StateNotFinal",
        args: (c) => [c.final.version],
      },
      {
        description: "a channel that was never opened",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 1_000n);
          const s = makeState(p, 1n, [0n, 0n], true);
          return c.adjudicator.close(p, s, await signed(c.adjudicator, c.both, s));
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1_000n))],
      },
      {
        description: "a channel already closed (the same state again)",
        call: async (c) => {
          await c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
          return c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel already closed (a higher final version)",
        call: async (c) => {
          await c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
          const later = { ...c.final, version: c.final.version + 1n, transferred: [0n, 0n] as [bigint, bigint] };
          return c.adjudicator.close(c.ethParams, later, await signed(c.adjudicator, c.both, later));
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel already settled",
        call: async (c) => {
          await c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.ethParams);
          return c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a final state older than the registered one",
        call: async (c) => {
          const newer = makeState(c.ethParams, c.final.version + 1n, [0n, 0n]);
          await c.adjudicator.challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
          return c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
        },
        error: "StateStale",
        args: (c) => [c.final.version, c.final.version + 1n],
      },
      {
        description: "a state signed by nobody",
        call: (c) => c.adjudicator.close(c.ethParams, c.final, UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a state signed by participant 0 only",
        call: (c) => c.adjudicator.close(c.ethParams, c.final, [c.finalSigs[0], "0x"]),
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "a state signed by participant 1 only",
        call: (c) => c.adjudicator.close(c.ethParams, c.final, ["0x", c.finalSigs[1]]),
        error: "SignatureInvalid",
        args: () => [0],
      },
    ];

    for (const row of rows) {
      it(`rejects ${row.description} (${row.error})`, async function () {
        const ctx = await loadFixture(fixture);
        await expectRevertRow(ctx.adjudicator, row, ctx);
      });
    }

    it("a rejected close changes nothing", async function () {
      const { adjudicator, adjudicatorAddress, alice, bob, ethParams, final, finalSigs } = await loadFixture(fixture);
      await expect(adjudicator.close(ethParams, final, [finalSigs[0], finalSigs[0]])).to.be.revertedWithCustomError(
        adjudicator,
        "SignatureInvalid",
      );
      const [mode, , , deposits] = await adjudicator.channel(idOf(ethParams));
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal(DEPOSITS);
      expect(await ethers.provider.getBalance(adjudicatorAddress)).to.equal(DEPOSITS[0] + DEPOSITS[1]);
      await expectConserved(adjudicator, ETH, [ethParams], [alice.address, bob.address]);
    });
  });
});
