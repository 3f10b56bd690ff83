import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, ZERO_HASH, ChannelMode, type Address, type Hex } from "../../src/types";
import { signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  deployFundedChannels,
  expectConserved,
  expectedSplit,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  makeWithdrawal,
  now,
  opening,
  otherChannelRows,
  signed,
  type ChannelParams,
  type ChannelState,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [10n ** 18n, 2n * 10n ** 18n];
/** Gas a payout push gives an ETH payee and a token's transfer (Adjudicator.sol, internal constants). */
const ETH_PUSH_GAS = 30_000n;
const TOKEN_PUSH_GAS = 80_000n;
const LOCKS_ROOT = ethers.id("locks") as Hex;

async function fixture() {
  const base = await deployFundedChannels(DEPOSITS);
  const { adjudicator, both, payee0, payee1, payees, ethParams, tokenParams } = base;
  const final = makeState(ethParams, 9n, [3n * 10n ** 17n, 10n ** 17n], true, ethers.id("root") as Hex);
  const finalSigs = await signed(adjudicator, both, final);
  return { ...base, payee0, payee1, payees, ethParams, tokenParams, final, finalSigs };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** A signed state of the ETH channel: `final` with some fields changed. */
async function variant(c: Ctx, change: Partial<ChannelState>): Promise<[ChannelState, Sigs]> {
  const s = { ...c.final, ...change };
  return [s, await signed(c.adjudicator, c.both, s)];
}

/**
 * The largest gas limit (searched downwards from the estimate, by eth_call) with which `close`
 * fails with PayoutGasInsufficient: enough to pass every check, too little for a full push.
 */
async function starvingGasLimit(c: Ctx, params: ChannelParams, state: ChannelState, sigs: Sigs): Promise<bigint> {
  const full = await c.adjudicator.close.estimateGas(params, state, sigs);
  for (let gasLimit = full; gasLimit > full - 200_000n; gasLimit -= 1_000n) {
    try {
      await c.adjudicator.close.staticCall(params, state, sigs, { gasLimit });
    } catch (error) {
      const data = (error as { data?: string }).data;
      if (data && data !== "0x" && c.adjudicator.interface.parseError(data)?.name === "PayoutGasInsufficient") return gasLimit;
    }
  }
  throw new Error("no gas limit hits PayoutGasInsufficient");
}

/**
 * Argument predicates of PayoutGasInsufficient(gasLeft, gasNeeded): the gas needed covers at least
 * the callee's allowance plus the 1/64 that EIP-150 keeps back, and the gas left was less.
 */
function gasArgs(allowance: bigint): ((x: bigint) => boolean)[] {
  let left = -1n;
  return [
    (gasLeft: bigint) => {
      left = gasLeft;
      return gasLeft > 0n;
    },
    (gasNeeded: bigint) => gasNeeded >= allowance + allowance / 63n && left < gasNeeded,
  ];
}

describe("Adjudicator #close", function () {
  it("pays both payees at once by the final state (ETH), nothing to the participants, and concludes the channel", async function () {
    const { adjudicator, adjudicatorAddress, alice, bob, carol, payee0, payee1, ethParams, final, finalSigs } = await loadFixture(fixture);
    const { payouts } = expectedSplit(DEPOSITS, final.transferred);
    expect(payouts).to.deep.equal([8n * 10n ** 17n, 22n * 10n ** 17n]);
    const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
    await expect(tx).to.not.emit(adjudicator, "Credited");
    await expect(tx).to.changeEtherBalances(
      [payee0, payee1, alice, bob, adjudicatorAddress],
      [payouts[0], payouts[1], 0n, 0n, -(DEPOSITS[0] + DEPOSITS[1])],
    );
    const [mode, version, deadline, deposits, withdrawn] = await adjudicator.channel(idOf(ethParams));
    expect(mode).to.equal(ChannelMode.Concluded);
    expect(version).to.equal(0n);
    expect(deadline).to.equal(0n);
    expect(deposits).to.deep.equal([0n, 0n]);
    expect(withdrawn).to.deep.equal([0n, 0n]);
    expect(await adjudicator.heldBack(idOf(ethParams))).to.deep.equal([0n, 0n]);
    await expectConserved(adjudicator, ETH, [ethParams], [...ethParams.payees, alice.address, bob.address]);
  });

  it("pays both payees at once by the final state (ERC-20)", async function () {
    const { adjudicator, adjudicatorAddress, token, tokenAddress, alice, bob, payee0, payee1, both, tokenParams } =
      await loadFixture(fixture);
    const final = makeState(tokenParams, 3n, [5n, 10n ** 18n + 5n], true);
    const { payouts } = expectedSplit(DEPOSITS, final.transferred);
    const tx = adjudicator.connect(alice).close(tokenParams, final, await signed(adjudicator, both, final));
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(tokenParams), 3n, payouts);
    await expect(tx).to.changeTokenBalances(
      token,
      [payee0, payee1, alice, bob, adjudicatorAddress],
      [payouts[0], payouts[1], 0n, 0n, -(DEPOSITS[0] + DEPOSITS[1])],
    );
    await expectConserved(adjudicator, tokenAddress, [tokenParams], [...tokenParams.payees, alice.address, bob.address]);
  });

  it("pays the participants themselves when they are their own payees", async function () {
    const { adjudicator, adjudicatorAddress, alice, bob, carol, both, participants } = await loadFixture(fixture);
    const plain = makeParams(participants, ETH, 3n);
    await fund(adjudicator, plain, both, DEPOSITS);
    const final = makeState(plain, 1n, [0n, 5n], true);
    const { payouts } = expectedSplit(DEPOSITS, final.transferred);
    await expect(adjudicator.connect(carol).close(plain, final, await signed(adjudicator, both, final))).to.changeEtherBalances(
      [alice, bob, adjudicatorAddress],
      [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
    );
  });

  for (const who of ["participant 1", "payee 0", "a stranger"] as const) {
    it(`may be submitted by ${who}`, async function () {
      const c = await loadFixture(fixture);
      const sender = who === "participant 1" ? c.bob : who === "payee 0" ? c.payee0 : c.mallory;
      await expect(c.adjudicator.connect(sender).close(c.ethParams, c.final, c.finalSigs))
        .to.emit(c.adjudicator, "Closed")
        .withArgs(idOf(c.ethParams), c.final.version, expectedSplit(DEPOSITS, c.final.transferred).payouts);
    });
  }

  it("pays nothing to a side whose payout is zero and everything to the other", async function () {
    const { adjudicator, adjudicatorAddress, payee0, payee1, carol, both, ethParams } = await loadFixture(fixture);
    const final = makeState(ethParams, 1n, [DEPOSITS[0], 0n], true);
    const tx = adjudicator.connect(carol).close(ethParams, final, await signed(adjudicator, both, final));
    await expect(tx)
      .to.emit(adjudicator, "Closed")
      .withArgs(idOf(ethParams), 1n, [0n, DEPOSITS[0] + DEPOSITS[1]]);
    await expect(tx).to.changeEtherBalances(
      [payee0, payee1, adjudicatorAddress],
      [0n, DEPOSITS[0] + DEPOSITS[1], -(DEPOSITS[0] + DEPOSITS[1])],
    );
  });

  it("uses the current deposits, top-ups included, with no re-signing", async function () {
    const { adjudicator, alice, payee0, payee1, carol, ethParams, final, finalSigs } = await loadFixture(fixture);
    await adjudicator.connect(alice).deposit(ethParams, 0, 5n, { value: 5n });
    const { payouts } = expectedSplit([DEPOSITS[0] + 5n, DEPOSITS[1]], final.transferred);
    await expect(adjudicator.connect(carol).close(ethParams, final, finalSigs)).to.changeEtherBalances([payee0, payee1], payouts);
  });

  it("pays out what is left after partial withdrawals", async function () {
    const { adjudicator, adjudicatorAddress, payee0, payee1, carol, both, ethParams, final, finalSigs } = await loadFixture(fixture);
    const withdrawn: [bigint, bigint] = [10n ** 17n, 4n * 10n ** 17n];
    for (const i of [0, 1] as const) {
      const w = makeWithdrawal(ethParams, i, withdrawn[i], (await now()) + 1_000n);
      await adjudicator.partialWithdraw(ethParams, w, await signWithdrawalBoth(adjudicator, both, w));
    }
    expect((await adjudicator.channel(idOf(ethParams))).withdrawn).to.deep.equal(withdrawn);
    const { payouts } = expectedSplit(DEPOSITS, final.transferred, withdrawn);
    const rest = DEPOSITS[0] + DEPOSITS[1] - withdrawn[0] - withdrawn[1];
    expect(payouts[0] + payouts[1]).to.equal(rest);
    const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
    await expect(tx).to.changeEtherBalances([payee0, payee1, adjudicatorAddress], [payouts[0], payouts[1], -rest]);
    expect((await adjudicator.channel(idOf(ethParams))).withdrawn).to.deep.equal([0n, 0n]);
    await expectConserved(adjudicator, ETH, [ethParams], [...ethParams.payees]);
  });

  describe("during a challenge", function () {
    it("accepts a final state of a higher version and clears the challenge", async function () {
      const { adjudicator, payee0, payee1, carol, bob, both, ethParams, final, finalSigs } = await loadFixture(fixture);
      const older = makeState(ethParams, 4n, [10n, 0n]);
      await adjudicator.connect(bob).challenge(ethParams, older, await signed(adjudicator, both, older));
      const { payouts } = expectedSplit(DEPOSITS, final.transferred);
      const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
      await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
      await expect(tx).to.changeEtherBalances([payee0, payee1], payouts);
      const [mode, version, deadline] = await adjudicator.channel(idOf(ethParams));
      expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Concluded), 0n, 0n]);
      await expectConserved(adjudicator, ETH, [ethParams], [...ethParams.payees]);
    });

    it("accepts a final state over a registered state with locks; nothing stays held back", async function () {
      const { adjudicator, payee0, payee1, both, ethParams, final, finalSigs } = await loadFixture(fixture);
      const withLocks = makeState(ethParams, 8n, [10n, 0n], false, ZERO_HASH, { locked: [7n, 9n], locksRoot: LOCKS_ROOT });
      await adjudicator.challenge(ethParams, withLocks, await signed(adjudicator, both, withLocks));
      await expect(adjudicator.close(ethParams, final, finalSigs)).to.changeEtherBalances(
        [payee0, payee1],
        expectedSplit(DEPOSITS, final.transferred).payouts,
      );
      expect(await adjudicator.heldBack(idOf(ethParams))).to.deep.equal([0n, 0n]);
      await expectConserved(adjudicator, ETH, [ethParams], [...ethParams.payees]);
    });

    it("accepts the registered version itself when it is final", async function () {
      const { adjudicator, payee0, payee1, ethParams, final, finalSigs } = await loadFixture(fixture);
      await adjudicator.challenge(ethParams, final, finalSigs);
      await expect(adjudicator.close(ethParams, final, finalSigs)).to.changeEtherBalances(
        [payee0, payee1],
        expectedSplit(DEPOSITS, final.transferred).payouts,
      );
    });

    it("accepts another final state of the registered version (close asks for at least that version)", async function () {
      const c = await loadFixture(fixture);
      await c.adjudicator.challenge(c.ethParams, c.final, c.finalSigs);
      const [other, otherSigs] = await variant(c, { transferred: [0n, 0n] });
      await expect(c.adjudicator.close(c.ethParams, other, otherSigs))
        .to.emit(c.adjudicator, "Closed")
        .withArgs(idOf(c.ethParams), c.final.version, DEPOSITS);
    });

    it("still works after the deadline, as long as nobody has settled; settle then finds it concluded", async function () {
      const { adjudicator, alice, payee0, payee1, carol, ethParams, final, finalSigs } = await loadFixture(fixture);
      await adjudicator.connect(alice).challenge(ethParams, opening(ethParams), UNSIGNED);
      await time.increase(PERIOD * 2n);
      const { payouts } = expectedSplit(DEPOSITS, final.transferred);
      const tx = adjudicator.connect(carol).close(ethParams, final, finalSigs);
      await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(ethParams), final.version, payouts);
      await expect(tx).to.changeEtherBalances([payee0, payee1], payouts);
      await expect(adjudicator.settle(ethParams, opening(ethParams)))
        .to.be.revertedWithCustomError(adjudicator, "ChannelConcluded")
        .withArgs(idOf(ethParams));
    });
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      ...otherChannelRows<Ctx>(
        (c, params) => c.adjudicator.close(params, c.final, c.finalSigs),
        (c) => c.final.channelId,
        77n,
      ),
      {
        description: "a state that is not final",
        call: async (c) => c.adjudicator.close(c.ethParams, ...(await variant(c, { isFinal: false }))),
        error: "StateNotFinal",
        args: (c) => [c.final.version],
      },
      {
        description: "a state with locks that is not final",
        call: async (c) =>
          c.adjudicator.close(c.ethParams, ...(await variant(c, { isFinal: false, locked: [1n, 0n], locksRoot: LOCKS_ROOT }))),
        error: "StateNotFinal",
        args: (c) => [c.final.version],
      },
      {
        description: "a final state with locked[0] nonzero",
        call: async (c) => c.adjudicator.close(c.ethParams, ...(await variant(c, { locked: [1n, 0n] }))),
        error: "StateFinalWithLocks",
        args: (c) => [c.final.version],
      },
      {
        description: "a final state with locked[1] nonzero",
        call: async (c) => c.adjudicator.close(c.ethParams, ...(await variant(c, { locked: [0n, 1n] }))),
        error: "StateFinalWithLocks",
        args: (c) => [c.final.version],
      },
      {
        description: "a final state with a nonzero locksRoot",
        call: async (c) => c.adjudicator.close(c.ethParams, ...(await variant(c, { locksRoot: LOCKS_ROOT }))),
        error: "StateFinalWithLocks",
        args: (c) => [c.final.version],
      },
      {
        description: "a final state with locks on both sides and a root",
        call: async (c) => c.adjudicator.close(c.ethParams, ...(await variant(c, { locked: [2n, 3n], locksRoot: LOCKS_ROOT }))),
        error: "StateFinalWithLocks",
        args: (c) => [c.final.version],
      },
      {
        description: "a channel that was never opened",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 1_000n, PERIOD, c.payees);
          const s = makeState(p, 1n, [0n, 0n], true);
          return c.adjudicator.close(p, s, await signed(c.adjudicator, c.both, s));
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1_000n, PERIOD, c.payees))],
      },
      {
        description: "params no channel may have (a zero payee): never opened",
        call: async (c) => {
          const p = makeParams(c.participants, ETH, 1n, PERIOD, [c.payees[0], ethers.ZeroAddress as Address]);
          const s = makeState(p, 1n, [0n, 0n], true);
          return c.adjudicator.close(p, s, await signed(c.adjudicator, c.both, s));
        },
        error: "ChannelNotOpen",
        args: (c) => [idOf(makeParams(c.participants, ETH, 1n, PERIOD, [c.payees[0], ethers.ZeroAddress as Address]))],
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
          return c.adjudicator.close(c.ethParams, ...(await variant(c, { version: c.final.version + 1n, transferred: [0n, 0n] })));
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel already settled",
        call: async (c) => {
          await c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.ethParams, opening(c.ethParams));
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
        description: "a final state older than the registered one, after the deadline",
        call: async (c) => {
          const newer = makeState(c.ethParams, c.final.version + 5n, [0n, 0n]);
          await c.adjudicator.challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
          await time.increase(PERIOD * 3n);
          return c.adjudicator.close(c.ethParams, c.final, c.finalSigs);
        },
        error: "StateStale",
        args: (c) => [c.final.version, c.final.version + 5n],
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
      {
        description: "a state signed by the payees instead of the participants",
        call: async (c) => c.adjudicator.close(c.ethParams, c.final, await signed(c.adjudicator, [c.payee0, c.payee1], c.final)),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a state signed by participant 0 and payee 1",
        call: async (c) =>
          c.adjudicator.close(c.ethParams, c.final, [c.finalSigs[0], (await signed(c.adjudicator, [c.payee1, c.payee1], c.final))[1]]),
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "too little gas left for a full push to the payees (ETH)",
        call: async (c) => {
          const gasLimit = await starvingGasLimit(c, c.ethParams, c.final, c.finalSigs);
          return c.adjudicator.close(c.ethParams, c.final, c.finalSigs, { gasLimit });
        },
        error: "PayoutGasInsufficient",
        args: () => gasArgs(ETH_PUSH_GAS),
      },
      {
        description: "too little gas left for a full push to the payees (ERC-20)",
        call: async (c) => {
          const s = makeState(c.tokenParams, 1n, [0n, 0n], true);
          const sigs = await signed(c.adjudicator, c.both, s);
          const gasLimit = await starvingGasLimit(c, c.tokenParams, s, sigs);
          return c.adjudicator.close(c.tokenParams, s, sigs, { gasLimit });
        },
        error: "PayoutGasInsufficient",
        args: () => gasArgs(TOKEN_PUSH_GAS),
      },
    ];

    itRejectsRows(fixture, rows, {
      covers: {
        fn: "close",
        errors: [
          "StateChannelMismatch",
          "StateNotFinal",
          "StateFinalWithLocks",
          "ChannelNotOpen",
          "ChannelConcluded",
          "StateStale",
          "SignatureInvalid",
          "PayoutGasInsufficient",
        ],
      },
    });

    it("a rejected close changes nothing", async function () {
      const { adjudicator, adjudicatorAddress, ethParams, final, finalSigs } = await loadFixture(fixture);
      await expect(adjudicator.close(ethParams, final, [finalSigs[0], finalSigs[0]]))
        .to.be.revertedWithCustomError(adjudicator, "SignatureInvalid")
        .withArgs(1);
      const [mode, , , deposits, withdrawn] = await adjudicator.channel(idOf(ethParams));
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal(DEPOSITS);
      expect(withdrawn).to.deep.equal([0n, 0n]);
      expect(await ethers.provider.getBalance(adjudicatorAddress)).to.equal(DEPOSITS[0] + DEPOSITS[1]);
      await expectConserved(adjudicator, ETH, [ethParams], [...ethParams.payees]);
    });
  });
});
