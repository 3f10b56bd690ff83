import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, ZERO_HASH, ChannelMode, type Hex } from "../../src/types";
import {
  PERIOD,
  UNSIGNED,
  deployBase,
  expectConserved,
  expectRevertRow,
  fund,
  idOf,
  makeParams,
  makeState,
  opening,
  signed,
  type ChannelState,
  type RevertRow,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, ethParams, both } = base;
  await fund(adjudicator, ethParams, both, DEPOSITS);
  const v5 = makeState(ethParams, 5n, [100n, 40n], false, ethers.id("five") as Hex);
  const v7 = makeState(ethParams, 7n, [300n, 40n], false, ethers.id("seven") as Hex);
  return { ...base, v5, v7, v5Sigs: await signed(adjudicator, both, v5), v7Sigs: await signed(adjudicator, both, v7) };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Block timestamp of the transaction's receipt. */
async function minedAt(tx: Promise<{ wait(): Promise<{ blockNumber: number } | null> }>): Promise<bigint> {
  const receipt = await (await tx).wait();
  const block = await ethers.provider.getBlock(receipt!.blockNumber);
  return BigInt(block!.timestamp);
}

/** Registers v5 and returns its deadline. */
async function registerV5(c: Ctx): Promise<bigint> {
  await c.adjudicator.connect(c.carol).challenge(c.ethParams, c.v5, c.v5Sigs);
  return (await c.adjudicator.channel(idOf(c.ethParams))).deadline;
}

describe("Adjudicator #challenge", function () {
  it("registers a signed state: mode 2, its version, deadline = block time + period", async function () {
    const { adjudicator, carol, ethParams, v5, v5Sigs } = await loadFixture(fixture);
    const at = await minedAt(adjudicator.connect(carol).challenge(ethParams, v5, v5Sigs));
    const [mode, version, deadline, deposits] = await adjudicator.channel(idOf(ethParams));
    expect(mode).to.equal(ChannelMode.Challenged);
    expect(version).to.equal(5n);
    expect(deadline).to.equal(at + PERIOD);
    expect(deposits).to.deep.equal(DEPOSITS);
    await expectConserved(adjudicator, ETH, [ethParams], []);
  });

  it("emits Challenged with the whole registered state and the deadline", async function () {
    const { adjudicator, ethParams, both } = await loadFixture(fixture);
    const s = makeState(ethParams, 12n, [321n, 123n], true, ethers.id("whole") as Hex);
    const next = (await time.latest()) + 100;
    await time.setNextBlockTimestamp(next);
    await expect(adjudicator.challenge(ethParams, s, await signed(adjudicator, both, s)))
      .to.emit(adjudicator, "Challenged")
      .withArgs(idOf(ethParams), s.version, s.transferred, s.paymentsRoot, s.isFinal, BigInt(next) + PERIOD);
  });

  it("replaces the registered state with a higher version, keeping the deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.increase(PERIOD / 2n);
    await expect(c.adjudicator.connect(c.alice).challenge(c.ethParams, c.v7, c.v7Sigs))
      .to.emit(c.adjudicator, "Challenged")
      .withArgs(idOf(c.ethParams), 7n, c.v7.transferred, c.v7.paymentsRoot, false, deadline);
    const [mode, version, newDeadline] = await c.adjudicator.channel(idOf(c.ethParams));
    expect(mode).to.equal(ChannelMode.Challenged);
    expect(version).to.equal(7n);
    expect(newDeadline).to.equal(deadline);
  });

  it("accepts a refutation one second before the deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.setNextBlockTimestamp(deadline - 1n);
    await expect(c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs)).to.emit(c.adjudicator, "Challenged");
    expect((await c.adjudicator.channel(idOf(c.ethParams))).version).to.equal(7n);
  });

  it("keeps mode 2 after the deadline until someone settles", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.increaseTo(deadline + 1_000n);
    const [mode, version, d] = await c.adjudicator.channel(idOf(c.ethParams));
    expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Challenged), 5n, deadline]);
  });

  describe("the opening state without signatures", function () {
    for (const index of [0, 1] as const) {
      it(`may be registered by participant ${index}`, async function () {
        const { adjudicator, both, ethParams } = await loadFixture(fixture);
        // Pin the block's time: the next block's timestamp is latest + 1 only if the wall clock has not moved on.
        const at = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(at);
        await expect(adjudicator.connect(both[index]).challenge(ethParams, opening(ethParams), UNSIGNED))
          .to.emit(adjudicator, "Challenged")
          .withArgs(idOf(ethParams), 0n, [0n, 0n], ZERO_HASH, false, at + PERIOD);
        const [mode, version] = await adjudicator.channel(idOf(ethParams));
        expect([mode, version]).to.deep.equal([BigInt(ChannelMode.Challenged), 0n]);
      });
    }

    it("may be registered by a participant whose channel holds only the other side's deposit", async function () {
      const { adjudicator, alice, bob, participants } = await loadFixture(fixture);
      const p = makeParams(participants, ETH, 50n);
      await adjudicator.connect(alice).deposit(p, 0, 10n, { value: 10n });
      await expect(adjudicator.connect(bob).challenge(p, opening(p), UNSIGNED)).to.emit(adjudicator, "Challenged");
    });

    it("may be registered by anyone when both participants signed it", async function () {
      const { adjudicator, carol, both, ethParams } = await loadFixture(fixture);
      const s = opening(ethParams);
      await expect(adjudicator.connect(carol).challenge(ethParams, s, await signed(adjudicator, both, s))).to.emit(
        adjudicator,
        "Challenged",
      );
    });

    it("is refuted by any signed state of a higher version", async function () {
      const { adjudicator, alice, bob, ethParams, v5, v5Sigs } = await loadFixture(fixture);
      await adjudicator.connect(alice).challenge(ethParams, opening(ethParams), UNSIGNED);
      await expect(adjudicator.connect(bob).challenge(ethParams, v5, v5Sigs)).to.emit(adjudicator, "Challenged");
      expect((await adjudicator.channel(idOf(ethParams))).version).to.equal(5n);
    });
  });

  describe("reverts", function () {
    const notOpening = (c: Ctx, change: Partial<ChannelState>): ChannelState => ({ ...opening(c.ethParams), ...change });
    const rows: RevertRow<Ctx>[] = [
      {
        description: "a state that names another channel",
        call: (c) => c.adjudicator.challenge(makeParams(c.participants, ETH, 99n), c.v5, c.v5Sigs),
        error: "StateChannelMismatch",
        args: (c) => [idOf(makeParams(c.participants, ETH, 99n)), c.v5.channelId],
      },
      {
        description: "a channel that was never opened",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 1_000n);
          return c.adjudicator.connect(c.alice).challenge(p, opening(p), UNSIGNED);
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1_000n))],
      },
      {
        description: "a closed channel",
        call: async (c) => {
          const final = makeState(c.ethParams, 9n, [0n, 0n], true);
          await c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
          return c.adjudicator.connect(c.alice).challenge(c.ethParams, c.v7, c.v7Sigs);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a settled channel",
        call: async (c) => {
          await registerV5(c);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.ethParams);
          return c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a refutation with the registered version (StateStale)",
        call: async (c) => {
          await registerV5(c);
          const same = { ...c.v5, transferred: [0n, 500n] as [bigint, bigint] };
          return c.adjudicator.challenge(c.ethParams, same, await signed(c.adjudicator, c.both, same));
        },
        error: "StateStale",
        args: () => [5n, 5n],
      },
      {
        description: "the registered state itself again",
        call: async (c) => {
          await registerV5(c);
          return c.adjudicator.challenge(c.ethParams, c.v5, c.v5Sigs);
        },
        error: "StateStale",
        args: () => [5n, 5n],
      },
      {
        description: "a refutation with a lower version",
        call: async (c) => {
          await c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs);
          return c.adjudicator.challenge(c.ethParams, c.v5, c.v5Sigs);
        },
        error: "StateStale",
        args: () => [5n, 7n],
      },
      {
        description: "the unsigned opening state while a challenge runs",
        call: async (c) => {
          await registerV5(c);
          return c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "StateStale",
        args: () => [0n, 5n],
      },
      {
        description: "the unsigned opening state twice",
        call: async (c) => {
          await c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
          return c.adjudicator.connect(c.bob).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "StateStale",
        args: () => [0n, 0n],
      },
      {
        description: "a refutation exactly at the deadline",
        call: async (c) => {
          const deadline = await registerV5(c);
          await time.setNextBlockTimestamp(deadline);
          return c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs);
        },
        error: "ChallengeExpired",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "a refutation after the deadline",
        call: async (c) => {
          const deadline = await registerV5(c);
          await time.increaseTo(deadline + 500n);
          return c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs);
        },
        error: "ChallengeExpired",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "the unsigned opening state from a non-participant",
        call: (c) => c.adjudicator.connect(c.carol).challenge(c.ethParams, opening(c.ethParams), UNSIGNED),
        error: "OpeningChallengeUnauthorized",
        args: (c) => [c.carol.address],
      },
      {
        description: "empty signatures for version 1",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, notOpening(c, { version: 1n }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a transfer by participant 0",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, notOpening(c, { transferred: [1n, 0n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a transfer by participant 1",
        call: (c) => c.adjudicator.connect(c.bob).challenge(c.ethParams, notOpening(c, { transferred: [0n, 1n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a payments root",
        call: (c) =>
          c.adjudicator.connect(c.alice).challenge(c.ethParams, notOpening(c, { paymentsRoot: ethers.id("x") as Hex }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for a final version 0",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, notOpening(c, { isFinal: true }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "the opening state with only participant 1's signature missing",
        call: async (c) => {
          const s = opening(c.ethParams);
          const sigs = await signed(c.adjudicator, c.both, s);
          return c.adjudicator.connect(c.alice).challenge(c.ethParams, s, [sigs[0], "0x"]);
        },
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "the opening state with only participant 0's signature missing",
        call: async (c) => {
          const s = opening(c.ethParams);
          const sigs = await signed(c.adjudicator, c.both, s);
          return c.adjudicator.connect(c.carol).challenge(c.ethParams, s, ["0x", sigs[1]]);
        },
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a state signed by participant 0 only",
        call: (c) => c.adjudicator.challenge(c.ethParams, c.v5, [c.v5Sigs[0], "0x"]),
        error: "SignatureInvalid",
        args: () => [1],
      },
    ];

    for (const row of rows) {
      it(`rejects ${row.description} (${row.error})`, async function () {
        const ctx = await loadFixture(fixture);
        await expectRevertRow(ctx.adjudicator, row, ctx);
      });
    }

    it("a rejected refutation leaves the registered state and deadline as they were", async function () {
      const c = await loadFixture(fixture);
      const deadline = await registerV5(c);
      await expect(c.adjudicator.challenge(c.ethParams, c.v7, [c.v7Sigs[1], c.v7Sigs[0]])).to.be.revertedWithCustomError(
        c.adjudicator,
        "SignatureInvalid",
      );
      const [mode, version, d] = await c.adjudicator.channel(idOf(c.ethParams));
      expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Challenged), 5n, deadline]);
    });
  });
});
