import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ETH, ChannelMode, type Address, type Hex } from "../../src/types";
import {
  PERIOD,
  UNSIGNED,
  deployBase,
  expectConserved,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  opening,
  otherChannelRows,
  signed,
  type ChannelState,
  type RevertRow,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];
const LOCKS_ROOT = ethers.id("locks") as Hex;

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  const [payee0, payee1] = [signers[5], signers[6]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const { adjudicator, both, participants } = base;
  const ethParams = makeParams(participants, ETH, 1n, PERIOD, payees);
  await fund(adjudicator, ethParams, both, DEPOSITS);
  const v5 = makeState(ethParams, 5n, [100n, 40n], false, ethers.id("five") as Hex, { locked: [10n, 20n], locksRoot: LOCKS_ROOT });
  const v7 = makeState(ethParams, 7n, [300n, 40n], false, ethers.id("seven") as Hex);
  return {
    ...base,
    payee0,
    payee1,
    payees,
    ethParams,
    v5,
    v7,
    v5Sigs: await signed(adjudicator, both, v5),
    v7Sigs: await signed(adjudicator, both, v7),
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** The `State` tuple as the Challenged event carries it. */
function stateArgs(s: ChannelState): unknown[] {
  return [s.channelId, s.version, s.transferred, s.locked, s.locksRoot, s.paymentsRoot, s.isFinal];
}

/** Pins the next block's timestamp a little ahead and returns it. */
async function pinNext(ahead = 10n): Promise<bigint> {
  const at = BigInt(await time.latest()) + ahead;
  await time.setNextBlockTimestamp(at);
  return at;
}

/** Registers v5 at a pinned time and returns its deadline. */
async function registerV5(c: Ctx): Promise<bigint> {
  const at = await pinNext();
  await c.adjudicator.connect(c.carol).challenge(c.ethParams, c.v5, c.v5Sigs);
  return at + PERIOD;
}

/** A state with some fields changed (not signed). */
const changed = (c: Ctx, change: Partial<ChannelState>): ChannelState => ({ ...opening(c.ethParams), ...change });

/** Signs a change of v7 by both participants. */
async function signedV7(c: Ctx, change: Partial<ChannelState>): Promise<[ChannelState, [Hex, Hex]]> {
  const s = { ...c.v7, ...change };
  return [s, await signed(c.adjudicator, c.both, s)];
}

describe("Adjudicator #challenge", function () {
  it("registers a signed state with locks: mode 2, its version, deadline = block time + period; moves no money", async function () {
    const { adjudicator, adjudicatorAddress, carol, alice, bob, payee0, payee1, ethParams, v5, v5Sigs } = await loadFixture(fixture);
    const at = await pinNext();
    const tx = adjudicator.connect(carol).challenge(ethParams, v5, v5Sigs);
    await expect(tx).to.changeEtherBalances([adjudicatorAddress, alice, bob, payee0, payee1], [0n, 0n, 0n, 0n, 0n]);
    const [mode, version, deadline, deposits, withdrawn] = await adjudicator.channel(idOf(ethParams));
    expect(mode).to.equal(ChannelMode.Challenged);
    expect(version).to.equal(5n);
    expect(deadline).to.equal(at + PERIOD);
    expect(deposits).to.deep.equal(DEPOSITS);
    expect(withdrawn).to.deep.equal([0n, 0n]);
    expect(await adjudicator.heldBack(idOf(ethParams))).to.deep.equal([0n, 0n]);
    await expectConserved(adjudicator, ETH, [ethParams], []);
  });

  it("emits Challenged with the whole registered state (locks included) and the deadline", async function () {
    const { adjudicator, ethParams, both } = await loadFixture(fixture);
    const s = makeState(ethParams, 12n, [321n, 123n], false, ethers.id("whole") as Hex, { locked: [4n, 6n], locksRoot: LOCKS_ROOT });
    const at = await pinNext(100n);
    await expect(adjudicator.challenge(ethParams, s, await signed(adjudicator, both, s)))
      .to.emit(adjudicator, "Challenged")
      .withArgs(idOf(ethParams), stateArgs(s), at + PERIOD);
  });

  it("registers a final state without locks", async function () {
    const { adjudicator, ethParams, both } = await loadFixture(fixture);
    const s = makeState(ethParams, 3n, [1n, 2n], true);
    const at = await pinNext();
    await expect(adjudicator.challenge(ethParams, s, await signed(adjudicator, both, s)))
      .to.emit(adjudicator, "Challenged")
      .withArgs(idOf(ethParams), stateArgs(s), at + PERIOD);
  });

  it("replaces the registered state with a higher version, keeping the deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.increase(PERIOD / 2n);
    await expect(c.adjudicator.connect(c.alice).challenge(c.ethParams, c.v7, c.v7Sigs))
      .to.emit(c.adjudicator, "Challenged")
      .withArgs(idOf(c.ethParams), stateArgs(c.v7), deadline);
    const [mode, version, newDeadline] = await c.adjudicator.channel(idOf(c.ethParams));
    expect(mode).to.equal(ChannelMode.Challenged);
    expect(version).to.equal(7n);
    expect(newDeadline).to.equal(deadline);
  });

  it("accepts a refutation one second before the deadline (block.timestamp < deadline)", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.setNextBlockTimestamp(deadline - 1n);
    await expect(c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs))
      .to.emit(c.adjudicator, "Challenged")
      .withArgs(idOf(c.ethParams), stateArgs(c.v7), deadline);
    expect((await c.adjudicator.channel(idOf(c.ethParams))).version).to.equal(7n);
  });

  it("accepts several refutations in a row, each of a higher version", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    for (const version of [6n, 9n, 2n ** 64n - 1n]) {
      const s = { ...c.v7, version };
      await expect(c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s)))
        .to.emit(c.adjudicator, "Challenged")
        .withArgs(idOf(c.ethParams), stateArgs(s), deadline);
      expect((await c.adjudicator.channel(idOf(c.ethParams))).version).to.equal(version);
    }
  });

  it("keeps mode 2 after the deadline until someone settles", async function () {
    const c = await loadFixture(fixture);
    const deadline = await registerV5(c);
    await time.increaseTo(deadline + 1_000n);
    const [mode, version, d] = await c.adjudicator.channel(idOf(c.ethParams));
    expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Challenged), 5n, deadline]);
  });

  describe("the opening state without signatures", function () {
    const callers: { who: string; pick: (c: Ctx) => HardhatEthersSigner }[] = [
      { who: "participant 0", pick: (c) => c.alice },
      { who: "participant 1", pick: (c) => c.bob },
      { who: "payee 0", pick: (c) => c.payee0 },
      { who: "payee 1", pick: (c) => c.payee1 },
    ];
    for (const { who, pick } of callers) {
      it(`may be registered by ${who}`, async function () {
        const c = await loadFixture(fixture);
        const at = await pinNext();
        await expect(c.adjudicator.connect(pick(c)).challenge(c.ethParams, opening(c.ethParams), UNSIGNED))
          .to.emit(c.adjudicator, "Challenged")
          .withArgs(idOf(c.ethParams), stateArgs(opening(c.ethParams)), at + PERIOD);
        const [mode, version, deadline] = await c.adjudicator.channel(idOf(c.ethParams));
        expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Challenged), 0n, at + PERIOD]);
      });
    }

    it("may be registered by a payee whose channel holds only the other side's deposit", async function () {
      const { adjudicator, alice, payee1, participants, payees } = await loadFixture(fixture);
      const p = makeParams(participants, ETH, 50n, PERIOD, payees);
      await adjudicator.connect(alice).deposit(p, 0, 10n, { value: 10n });
      await expect(adjudicator.connect(payee1).challenge(p, opening(p), UNSIGNED)).to.emit(adjudicator, "Challenged");
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
      const { adjudicator, payee0, bob, ethParams, v5, v5Sigs } = await loadFixture(fixture);
      await adjudicator.connect(payee0).challenge(ethParams, opening(ethParams), UNSIGNED);
      await expect(adjudicator.connect(bob).challenge(ethParams, v5, v5Sigs)).to.emit(adjudicator, "Challenged");
      expect((await adjudicator.channel(idOf(ethParams))).version).to.equal(5n);
    });
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      ...otherChannelRows<Ctx>(
        (c, params) => c.adjudicator.challenge(params, c.v5, c.v5Sigs),
        (c) => c.v5.channelId,
        99n,
      ),
      {
        description: "a final state with locked[0] nonzero",
        call: async (c) => c.adjudicator.challenge(c.ethParams, ...(await signedV7(c, { isFinal: true, locked: [1n, 0n] }))),
        error: "StateFinalWithLocks",
        args: () => [7n],
      },
      {
        description: "a final state with locked[1] nonzero",
        call: async (c) => c.adjudicator.challenge(c.ethParams, ...(await signedV7(c, { isFinal: true, locked: [0n, 1n] }))),
        error: "StateFinalWithLocks",
        args: () => [7n],
      },
      {
        description: "a final state with a nonzero locksRoot",
        call: async (c) => c.adjudicator.challenge(c.ethParams, ...(await signedV7(c, { isFinal: true, locksRoot: LOCKS_ROOT }))),
        error: "StateFinalWithLocks",
        args: () => [7n],
      },
      {
        description: "a final state with locks, as a refutation",
        call: async (c) => {
          await registerV5(c);
          return c.adjudicator.challenge(c.ethParams, ...(await signedV7(c, { isFinal: true, locked: [5n, 5n], locksRoot: LOCKS_ROOT })));
        },
        error: "StateFinalWithLocks",
        args: () => [7n],
      },
      {
        description: "a channel that was never opened",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 1_000n, PERIOD, c.payees);
          return c.adjudicator.connect(c.alice).challenge(p, opening(p), UNSIGNED);
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1_000n, PERIOD, c.payees))],
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
          const deadline = await registerV5(c);
          await time.increaseTo(deadline);
          await c.adjudicator.settle(c.ethParams, c.v5);
          return c.adjudicator.challenge(c.ethParams, c.v7, c.v7Sigs);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "the unsigned opening state on a settled channel",
        call: async (c) => {
          const deadline = await registerV5(c);
          await time.increaseTo(deadline);
          await c.adjudicator.settle(c.ethParams, c.v5);
          return c.adjudicator.connect(c.payee0).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a refutation with the registered version and other contents",
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
          return c.adjudicator.connect(c.payee1).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "StateStale",
        args: () => [0n, 0n],
      },
      {
        description: "a refutation exactly at the deadline (block.timestamp == deadline)",
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
        description: "a stale refutation after the deadline (the deadline is checked first)",
        call: async (c) => {
          const deadline = await registerV5(c);
          await time.increaseTo(deadline + 1n);
          return c.adjudicator.challenge(c.ethParams, c.v5, c.v5Sigs);
        },
        error: "ChallengeExpired",
        args: async (c) => [(await c.adjudicator.channel(idOf(c.ethParams))).deadline],
      },
      {
        description: "the unsigned opening state from a stranger",
        call: (c) => c.adjudicator.connect(c.carol).challenge(c.ethParams, opening(c.ethParams), UNSIGNED),
        error: "OpeningChallengeUnauthorized",
        args: (c) => [c.carol.address],
      },
      {
        description: "the unsigned opening state from a stranger who funded the channel",
        call: async (c) => {
          await c.adjudicator.connect(c.mallory).deposit(c.ethParams, 0, 1n, { value: 1n });
          return c.adjudicator.connect(c.mallory).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "OpeningChallengeUnauthorized",
        args: (c) => [c.mallory.address],
      },
      {
        description: "the unsigned opening state from a payee of another channel of the same participants",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 51n, PERIOD, [c.carol.address as Address, c.mallory.address as Address]);
          await c.adjudicator.connect(c.alice).deposit(p, 0, 1n, { value: 1n });
          return c.adjudicator.connect(c.carol).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
        },
        error: "OpeningChallengeUnauthorized",
        args: (c) => [c.carol.address],
      },
      {
        description: "empty signatures for a non-opening state from a stranger (signatures, not the caller, fail)",
        call: (c) => c.adjudicator.connect(c.carol).challenge(c.ethParams, changed(c, { version: 1n }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 1",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, changed(c, { version: 1n }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a transfer by participant 0",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, changed(c, { transferred: [1n, 0n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a transfer by participant 1",
        call: (c) => c.adjudicator.connect(c.payee1).challenge(c.ethParams, changed(c, { transferred: [0n, 1n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with locked[0] nonzero",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, changed(c, { locked: [1n, 0n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with locked[1] nonzero",
        call: (c) => c.adjudicator.connect(c.bob).challenge(c.ethParams, changed(c, { locked: [0n, 1n] }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a locks root",
        call: (c) => c.adjudicator.connect(c.payee0).challenge(c.ethParams, changed(c, { locksRoot: LOCKS_ROOT }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for version 0 with a payments root",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, changed(c, { paymentsRoot: ethers.id("x") as Hex }), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "empty signatures for a final version 0",
        call: (c) => c.adjudicator.connect(c.alice).challenge(c.ethParams, changed(c, { isFinal: true }), UNSIGNED),
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
        description: "the opening state signed by the payees instead of the participants",
        call: async (c) => {
          const s = opening(c.ethParams);
          return c.adjudicator.connect(c.payee0).challenge(c.ethParams, s, await signed(c.adjudicator, [c.payee0, c.payee1], s));
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
      {
        description: "a refutation signed by participant 1 only",
        call: async (c) => {
          await registerV5(c);
          return c.adjudicator.challenge(c.ethParams, c.v7, ["0x", c.v7Sigs[1]]);
        },
        error: "SignatureInvalid",
        args: () => [0],
      },
    ];

    itRejectsRows(fixture, rows, {
      covers: {
        fn: "challenge",
        errors: [
          "StateChannelMismatch",
          "StateFinalWithLocks",
          "ChannelNotOpen",
          "ChannelConcluded",
          "StateStale",
          "ChallengeExpired",
          "OpeningChallengeUnauthorized",
          "SignatureInvalid",
        ],
      },
    });

    it("a rejected refutation leaves the registered state and deadline as they were", async function () {
      const c = await loadFixture(fixture);
      const deadline = await registerV5(c);
      await expect(c.adjudicator.challenge(c.ethParams, c.v7, [c.v7Sigs[1], c.v7Sigs[0]]))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureInvalid")
        .withArgs(0);
      const [mode, version, d] = await c.adjudicator.channel(idOf(c.ethParams));
      expect([mode, version, d]).to.deep.equal([BigInt(ChannelMode.Challenged), 5n, deadline]);
      // The registered state is still v5: it, and nothing else, settles.
      await time.increaseTo(deadline);
      await expect(c.adjudicator.settle(c.ethParams, c.v7)).to.be.revertedWithCustomError(c.adjudicator, "StateUnknown");
      await expect(c.adjudicator.settle(c.ethParams, c.v5)).to.emit(c.adjudicator, "Settled");
    });

    it("a rejected opening challenge leaves the channel open", async function () {
      const c = await loadFixture(fixture);
      await expect(c.adjudicator.connect(c.carol).challenge(c.ethParams, opening(c.ethParams), UNSIGNED))
        .to.be.revertedWithCustomError(c.adjudicator, "OpeningChallengeUnauthorized")
        .withArgs(c.carol.address);
      const [mode, version, deadline] = await c.adjudicator.channel(idOf(c.ethParams));
      expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Open), 0n, 0n]);
    });
  });
});
