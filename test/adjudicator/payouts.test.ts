import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { lockLeafHex } from "../../src/crypto/hash";
import { ETH, ZERO_HASH, ChannelMode, type Address, type Hex, type Lock } from "../../src/types";
import { signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  balanceIn,
  deployFundedChannels,
  expectConserved,
  expectedSplit,
  fund,
  idOf,
  makeParams,
  makeState,
  makeWithdrawal,
  now,
  opening,
  signed,
  type ChannelParams,
  type ChannelState,
} from "../helpers/fixture";

const MAX_U256 = 2n ** 256n - 1n;
const DEPOSITS: [bigint, bigint] = [700n, 300n];
const LOCKS_ROOT = ethers.id("locks") as Hex;
const BYSTANDER_DEPOSIT = 10n ** 18n;

async function fixture() {
  const base = await deployFundedChannels(DEPOSITS);
  const { adjudicator, participants, carol, payee0, payee1, payees, ethParams, tokenParams } = base;
  // Bystanders: other channels of the same assets whose money must never be touched.
  const ethBystander = makeParams(participants, ETH, 500n, PERIOD, payees);
  const tokenBystander = makeParams(participants, base.tokenAddress, 501n, PERIOD, payees);
  await fund(adjudicator, ethBystander, [carol, carol], [BYSTANDER_DEPOSIT, BYSTANDER_DEPOSIT]);
  await fund(adjudicator, tokenBystander, [carol, carol], [BYSTANDER_DEPOSIT, BYSTANDER_DEPOSIT]);
  return { ...base, payee0, payee1, payees, ethParams, tokenParams, ethBystander, tokenBystander };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Everyone a payout or a credit of these scenarios could reach. */
const everyone = (c: Ctx) => [c.alice.address, c.bob.address, c.carol.address, ...c.payees];

/** Registers `state` at a pinned time and returns its deadline. */
async function register(c: Ctx, params: ChannelParams, state: ChannelState): Promise<bigint> {
  const at = BigInt(await time.latest()) + 10n;
  await time.setNextBlockTimestamp(at);
  await c.adjudicator.connect(c.carol).challenge(params, state, await signed(c.adjudicator, c.both, state));
  return at + PERIOD;
}

/** Executes partial withdrawals of `totals` (cumulative) for both participants. */
async function withdrawPartially(c: Ctx, params: ChannelParams, totals: readonly [bigint, bigint]): Promise<void> {
  for (const i of [0, 1] as const) {
    if (totals[i] === 0n) continue;
    const w = makeWithdrawal(params, i, totals[i], (await now()) + 1_000n);
    await c.adjudicator.partialWithdraw(params, w, await signWithdrawalBoth(c.adjudicator, c.both, w));
  }
}

interface SplitCase {
  description: string;
  transferred: [bigint, bigint];
  locked?: [bigint, bigint];
  withdrawn?: [bigint, bigint];
}

const SPLIT_CASES: SplitCase[] = [
  { description: "nothing transferred", transferred: [0n, 0n] },
  { description: "an ordinary net transfer", transferred: [250n, 50n] },
  { description: "participant 0 transfers one more than its deposit", transferred: [DEPOSITS[0] + 1n, 0n] },
  { description: "participant 1 transfers one more than its deposit", transferred: [0n, DEPOSITS[1] + 1n] },
  { description: "participant 0 transfers its deposit exactly", transferred: [DEPOSITS[0], 0n] },
  { description: "participant 1 transfers 2^256 - 1", transferred: [0n, MAX_U256] },
  { description: "participant 0 transfers 2^256 - 1", transferred: [MAX_U256, 0n] },
  { description: "both transfer 2^256 - 1", transferred: [MAX_U256, MAX_U256] },
  { description: "a net of exactly 2^128", transferred: [2n ** 128n, 0n] },
  { description: "a net of 2^255 against 2^128 - 1", transferred: [2n ** 128n - 1n, 2n ** 255n] },
  { description: "huge equal transfers", transferred: [2n ** 200n, 2n ** 200n] },
  { description: "honest locks on both sides", transferred: [200n, 0n], locked: [100n, 50n] },
  { description: "participant 0 locks 2^256 - 1", transferred: [0n, 0n], locked: [MAX_U256, 0n] },
  { description: "participant 1 locks 2^256 - 1", transferred: [0n, 0n], locked: [0n, MAX_U256] },
  { description: "both lock 2^256 - 1", transferred: [0n, 0n], locked: [MAX_U256, MAX_U256] },
  { description: "participant 0 locks one more than its balance", transferred: [0n, 0n], locked: [DEPOSITS[0] + 1n, 0n] },
  { description: "participant 1 locks more than what is left", transferred: [0n, 0n], locked: [0n, DEPOSITS[1] + 1n] },
  {
    description: "participant 1 transfers 2^256 - 1 and participant 0 locks 2^256 - 1",
    transferred: [0n, MAX_U256],
    locked: [MAX_U256, 0n],
  },
  {
    description: "participant 0 transfers 2^256 - 1 and participant 1 locks 2^256 - 1",
    transferred: [MAX_U256, 0n],
    locked: [0n, MAX_U256],
  },
  { description: "both transfer and lock 2^256 - 1", transferred: [MAX_U256, MAX_U256], locked: [MAX_U256, MAX_U256] },
  { description: "locks of exactly 2^128 on both sides", transferred: [0n, 0n], locked: [2n ** 128n, 2n ** 128n] },
  // Found by the fuzz test: clamping the transfer and the lock apart let two huge terms cancel.
  { description: "participant 1 transfers 2^200 and participant 0 locks 2^129", transferred: [0n, 2n ** 200n], locked: [2n ** 129n, 0n] },
  { description: "participant 0 transfers 2^129 and locks 2^255 (no wrap)", transferred: [2n ** 129n, 0n], locked: [2n ** 255n, 0n] },
  { description: "participant 0 locks 2^256 - 1 and transfers 2^256 - 1 (sum wraps)", transferred: [MAX_U256, 0n], locked: [MAX_U256, 0n] },
  { description: "partial withdrawals, nothing transferred", transferred: [0n, 0n], withdrawn: [100n, 50n] },
  {
    description: "partial withdrawals with 2^256 - 1 transferred and locked",
    transferred: [MAX_U256, 0n],
    locked: [0n, MAX_U256],
    withdrawn: [100n, 50n],
  },
  { description: "participant 0 withdrew its whole deposit and is owed a transfer", transferred: [0n, 100n], withdrawn: [DEPOSITS[0], 0n] },
  {
    description: "participant 1 withdrew everything the channel held",
    transferred: [0n, 0n],
    locked: [5n, 5n],
    withdrawn: [0n, DEPOSITS[0] + DEPOSITS[1]],
  },
];

describe("security: money is conserved by the clamped split, and payouts go to the payees", function () {
  const NONE: [bigint, bigint] = [0n, 0n];
  for (const { description, transferred, locked = NONE, withdrawn = NONE } of SPLIT_CASES) {
    const hasLocks = locked[0] !== 0n || locked[1] !== 0n;
    // A final state has no locks: those cases only settle.
    for (const path of hasLocks ? (["settle"] as const) : (["close", "settle"] as const)) {
      it(`${description}: ${path} pays and holds back exactly what the channel holds (ETH)`, async function () {
        const c = await loadFixture(fixture);
        await withdrawPartially(c, c.ethParams, withdrawn);
        const locks = { locked, locksRoot: hasLocks ? LOCKS_ROOT : ZERO_HASH };
        const s = makeState(c.ethParams, 1n, transferred, path === "close", ZERO_HASH, locks);
        const { payouts, held } = expectedSplit(DEPOSITS, transferred, withdrawn, locked);
        const holdings = DEPOSITS[0] + DEPOSITS[1] - withdrawn[0] - withdrawn[1];
        expect(payouts[0] + payouts[1] + held[0] + held[1]).to.equal(holdings);
        let tx: Promise<ContractTransactionResponse>;
        if (path === "close") {
          tx = c.adjudicator.connect(c.carol).close(c.ethParams, s, await signed(c.adjudicator, c.both, s));
          await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.ethParams), 1n, payouts);
        } else {
          const deadline = await register(c, c.ethParams, s);
          await time.increaseTo(deadline);
          tx = c.adjudicator.connect(c.carol).settle(c.ethParams, s);
          await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 1n, payouts, held);
        }
        await expect(tx).to.not.emit(c.adjudicator, "Credited");
        await expect(tx).to.changeEtherBalances(
          [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
          [payouts[0], payouts[1], 0n, 0n, -(payouts[0] + payouts[1])],
        );
        expect(await c.adjudicator.heldBack(idOf(c.ethParams))).to.deep.equal(held);
        await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], everyone(c));
        expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(2n * BYSTANDER_DEPOSIT + held[0] + held[1]);
      });
    }
  }

  for (const { transferred, locked } of [
    { transferred: [MAX_U256, 0n], locked: [0n, 0n] },
    { transferred: [0n, MAX_U256], locked: [0n, 0n] },
    { transferred: [0n, MAX_U256], locked: [MAX_U256, MAX_U256] },
  ] as { transferred: [bigint, bigint]; locked: [bigint, bigint] }[]) {
    const name = (xs: bigint[]) => xs.map((t) => (t === MAX_U256 ? "2^256-1" : "0")).join("/");
    it(`an ERC-20 channel with transfers ${name(transferred)} and locks ${name(locked)} pays and holds only its deposits`, async function () {
      const c = await loadFixture(fixture);
      const hasLocks = locked[0] !== 0n || locked[1] !== 0n;
      const s = makeState(c.tokenParams, 1n, transferred, !hasLocks, ZERO_HASH, { locked, locksRoot: hasLocks ? LOCKS_ROOT : ZERO_HASH });
      const { payouts, held } = expectedSplit(DEPOSITS, transferred, [0n, 0n], locked);
      let tx: Promise<ContractTransactionResponse>;
      if (hasLocks) {
        await time.increaseTo(await register(c, c.tokenParams, s));
        tx = c.adjudicator.settle(c.tokenParams, s);
      } else {
        tx = c.adjudicator.close(c.tokenParams, s, await signed(c.adjudicator, c.both, s));
      }
      await expect(tx).to.changeTokenBalances(
        c.token,
        [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
        [payouts[0], payouts[1], 0n, 0n, -(payouts[0] + payouts[1])],
      );
      expect(await c.adjudicator.heldBack(idOf(c.tokenParams))).to.deep.equal(held);
      await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams, c.tokenBystander], everyone(c));
    });
  }

  it("a channel funded only by participant 1 pays no more than that deposit", async function () {
    const c = await loadFixture(fixture);
    const p = makeParams(c.participants, ETH, 9_000n, PERIOD, c.payees);
    await c.adjudicator.connect(c.bob).deposit(p, 1, 40n, { value: 40n });
    const s = makeState(p, 1n, [0n, MAX_U256], true);
    const { payouts } = expectedSplit([0n, 40n], s.transferred);
    expect(payouts).to.deep.equal([40n, 0n]);
    const tx = c.adjudicator.connect(c.carol).close(p, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(p), 1n, payouts);
    await expect(tx).to.changeEtherBalances([c.payee0, c.payee1, c.adjudicatorAddress], [40n, 0n, -40n]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, p], everyone(c));
  });
});

describe("security: an older state never wins over a newer one submitted before the deadline", function () {
  it("a registered newer state can't be replaced by an older one, and settles", async function () {
    const c = await loadFixture(fixture);
    const older = makeState(c.ethParams, 10n, [0n, 200n]);
    const newer = makeState(c.ethParams, 11n, [300n, 200n]);
    const deadline = await register(c, c.ethParams, newer);
    await expect(c.adjudicator.connect(c.bob).challenge(c.ethParams, older, await signed(c.adjudicator, c.both, older)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(10n, 11n);
    await time.increaseTo(deadline);
    await expect(c.adjudicator.settle(c.ethParams, older)).to.be.revertedWithCustomError(c.adjudicator, "StateUnknown");
    await expect(c.adjudicator.settle(c.ethParams, newer)).to.changeEtherBalances(
      [c.payee0, c.payee1],
      expectedSplit(DEPOSITS, newer.transferred).payouts,
    );
  });

  it("an older registered state is replaced by a newer one one second before the deadline, and can't come back", async function () {
    const c = await loadFixture(fixture);
    const v1 = makeState(c.ethParams, 1n, [0n, 250n]);
    const v2 = makeState(c.ethParams, 2n, [100n, 250n], false, ZERO_HASH, { locked: [30n, 0n], locksRoot: LOCKS_ROOT });
    const v3 = makeState(c.ethParams, 3n, [400n, 250n]);
    const [s1, s2, s3] = [
      await signed(c.adjudicator, c.both, v1),
      await signed(c.adjudicator, c.both, v2),
      await signed(c.adjudicator, c.both, v3),
    ];
    const deadline = await register(c, c.ethParams, v2);
    await time.setNextBlockTimestamp(deadline - 1n);
    await c.adjudicator.connect(c.bob).challenge(c.ethParams, v3, s3);
    for (const [s, sigs] of [
      [v1, s1],
      [v2, s2],
    ] as const) {
      await expect(c.adjudicator.connect(c.alice).challenge(c.ethParams, s, sigs)).to.be.revertedWithCustomError(
        c.adjudicator,
        "ChallengeExpired",
      );
      await expect(c.adjudicator.settle(c.ethParams, s)).to.be.revertedWithCustomError(c.adjudicator, "StateUnknown");
    }
    const { payouts, held } = expectedSplit(DEPOSITS, v3.transferred);
    const tx = c.adjudicator.settle(c.ethParams, v3);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, payouts, held);
    await expect(tx).to.changeEtherBalances([c.payee0, c.payee1], payouts);
  });

  it("older states are refused while the challenge runs, whatever their contents", async function () {
    const c = await loadFixture(fixture);
    await register(c, c.ethParams, makeState(c.ethParams, 5n, [0n, 0n]));
    for (const s of [
      makeState(c.ethParams, 4n, [0n, 300n]),
      makeState(c.ethParams, 5n, [0n, 300n]),
      makeState(c.ethParams, 1n, [0n, 300n], true),
    ]) {
      await expect(c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s)))
        .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
        .withArgs(s.version, 5n);
    }
  });

  it("an older final state can't close over a newer registered one", async function () {
    const c = await loadFixture(fixture);
    const oldFinal = makeState(c.ethParams, 4n, [0n, 300n], true);
    const newer = makeState(c.ethParams, 5n, [700n, 0n]);
    await register(c, c.ethParams, newer);
    await expect(c.adjudicator.close(c.ethParams, oldFinal, await signed(c.adjudicator, c.both, oldFinal)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(4n, 5n);
  });
});

describe("security: refutations count while block.timestamp < deadline, settle from block.timestamp >= deadline", function () {
  const boundaries: { at: (deadline: bigint) => bigint; label: string; refutes: boolean }[] = [
    { at: (d) => d - PERIOD + 1n, label: "right after registration", refutes: true },
    { at: (d) => d - 1n, label: "at deadline - 1", refutes: true },
    { at: (d) => d, label: "at the deadline", refutes: false },
    { at: (d) => d + 1n, label: "at deadline + 1", refutes: false },
  ];
  for (const { at, label, refutes } of boundaries) {
    it(`${label}: a refutation ${refutes ? "counts" : "is too late (ChallengeExpired)"}`, async function () {
      const c = await loadFixture(fixture);
      const deadline = await register(c, c.ethParams, makeState(c.ethParams, 1n, [0n, 0n]));
      const newer = makeState(c.ethParams, 2n, [100n, 0n]);
      await time.setNextBlockTimestamp(at(deadline));
      const tx = c.adjudicator.challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
      if (refutes) await expect(tx).to.emit(c.adjudicator, "Challenged");
      else await expect(tx).to.be.revertedWithCustomError(c.adjudicator, "ChallengeExpired").withArgs(deadline);
      expect((await c.adjudicator.channel(idOf(c.ethParams))).version).to.equal(refutes ? 2n : 1n);
    });

    it(`${label}: settle ${refutes ? "is too early (ChallengePending)" : "concludes the channel"}`, async function () {
      const c = await loadFixture(fixture);
      const s = makeState(c.ethParams, 1n, [0n, 0n]);
      const deadline = await register(c, c.ethParams, s);
      await time.setNextBlockTimestamp(at(deadline));
      const tx = c.adjudicator.settle(c.ethParams, s);
      if (refutes) await expect(tx).to.be.revertedWithCustomError(c.adjudicator, "ChallengePending").withArgs(deadline);
      else await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 1n, DEPOSITS, [0n, 0n]);
      expect((await c.adjudicator.channel(idOf(c.ethParams))).mode).to.equal(refutes ? ChannelMode.Challenged : ChannelMode.Concluded);
    });
  }
});

describe("security: nothing settles before the deadline or twice", function () {
  it("settle fails at every moment before the deadline, succeeds once at it, then never again", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.ethParams, 1n, [100n, 0n]);
    const deadline = await register(c, c.ethParams, s);
    for (const at of [deadline - PERIOD + 1n, deadline - PERIOD / 2n, deadline - 2n, deadline - 1n]) {
      await time.setNextBlockTimestamp(at);
      await expect(c.adjudicator.settle(c.ethParams, s))
        .to.be.revertedWithCustomError(c.adjudicator, "ChallengePending")
        .withArgs(deadline);
    }
    await time.setNextBlockTimestamp(deadline);
    await expect(c.adjudicator.settle(c.ethParams, s)).to.emit(c.adjudicator, "Settled");
    for (const at of [deadline + 1n, deadline + 10n * PERIOD]) {
      await time.setNextBlockTimestamp(at);
      await expect(c.adjudicator.settle(c.ethParams, s))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded")
        .withArgs(idOf(c.ethParams));
    }
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], everyone(c));
  });

  it("a refutation doesn't restart the clock: settle is due at the first registration's deadline", async function () {
    const c = await loadFixture(fixture);
    const deadline = await register(c, c.ethParams, makeState(c.ethParams, 1n, [0n, 0n]));
    const newer = makeState(c.ethParams, 2n, [10n, 0n]);
    await time.setNextBlockTimestamp(deadline - 1n);
    await c.adjudicator.challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
    await time.setNextBlockTimestamp(deadline);
    await expect(c.adjudicator.settle(c.ethParams, newer)).to.emit(c.adjudicator, "Settled");
  });
});

describe("security: every channel concludes exactly once", function () {
  const endings: { name: string; conclude: (c: Ctx) => Promise<void> }[] = [
    {
      name: "a cooperative close",
      conclude: async (c) => {
        const f = makeState(c.ethParams, 3n, [50n, 0n], true);
        await c.adjudicator.close(c.ethParams, f, await signed(c.adjudicator, c.both, f));
      },
    },
    {
      name: "a settle",
      conclude: async (c) => {
        const s = makeState(c.ethParams, 3n, [50n, 0n], false, ZERO_HASH, { locked: [10n, 0n], locksRoot: LOCKS_ROOT });
        await time.increaseTo(await register(c, c.ethParams, s));
        await c.adjudicator.settle(c.ethParams, s);
      },
    },
    {
      name: "a close during a challenge, after the deadline",
      conclude: async (c) => {
        await time.increaseTo(await register(c, c.ethParams, makeState(c.ethParams, 2n, [0n, 0n])));
        const f = makeState(c.ethParams, 3n, [50n, 0n], true);
        await c.adjudicator.close(c.ethParams, f, await signed(c.adjudicator, c.both, f));
      },
    },
  ];

  for (const { name, conclude } of endings) {
    it(`after ${name}, close, settle, challenge and deposit all find the channel concluded; one conclusion event`, async function () {
      const c = await loadFixture(fixture);
      const id = idOf(c.ethParams);
      const from = await ethers.provider.getBlockNumber();
      await conclude(c);
      const held = await c.adjudicator.heldBack(id);
      const balance = await ethers.provider.getBalance(c.adjudicatorAddress);
      const final = makeState(c.ethParams, 9n, [0n, 0n], true);
      const finalSigs = await signed(c.adjudicator, c.both, final);
      const later = makeState(c.ethParams, 9n, [0n, 0n]);
      const attempts: (() => Promise<ContractTransactionResponse>)[] = [
        () => c.adjudicator.close(c.ethParams, final, finalSigs),
        () => c.adjudicator.settle(c.ethParams, opening(c.ethParams)),
        () => c.adjudicator.settle(c.ethParams, final),
        () => c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED),
        async () => c.adjudicator.challenge(c.ethParams, later, await signed(c.adjudicator, c.both, later)),
        () => c.adjudicator.deposit(c.ethParams, 0, 1n, { value: 1n }),
      ];
      for (const attempt of attempts) {
        await expect(attempt()).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded").withArgs(id);
      }
      expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(balance);
      expect(await c.adjudicator.heldBack(id)).to.deep.equal(held);
      const closed = await c.adjudicator.queryFilter(c.adjudicator.filters.Closed(id), from);
      const settled = await c.adjudicator.queryFilter(c.adjudicator.filters.Settled(id), from);
      expect(closed.length + settled.length).to.equal(1);
      await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], everyone(c));
    });
  }

  it("after the deadline both close and settle are valid: the first wins, the second finds the channel concluded", async function () {
    for (const first of ["close", "settle"] as const) {
      const c = await loadFixture(fixture);
      const s = makeState(c.ethParams, 2n, [0n, 100n]);
      await time.increaseTo(await register(c, c.ethParams, s));
      const f = makeState(c.ethParams, 3n, [100n, 0n], true);
      const fSigs = await signed(c.adjudicator, c.both, f);
      const close = () => c.adjudicator.close(c.ethParams, f, fSigs);
      const settle = () => c.adjudicator.settle(c.ethParams, s);
      const [winner, loser] = first === "close" ? [close, settle] : [settle, close];
      await expect(winner()).to.emit(c.adjudicator, first === "close" ? "Closed" : "Settled");
      await expect(loser()).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded").withArgs(idOf(c.ethParams));
      await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], everyone(c));
    }
  });
});

describe("security: no re-entrancy", function () {
  async function reentrantFixture() {
    const base = await fixture();
    const { adjudicator, alice, participants, both, payee0 } = base;
    // The re-entering contract is payee 1; the participants sign with their own keys.
    const receiver = await ethers.deployContract("ReentrantPayee");
    const receiverAddress = await addressOf(receiver);
    const hookPayees: [Address, Address] = [payee0.address as Address, receiverAddress];
    const params = makeParams(participants, ETH, 77n, PERIOD, hookPayees);
    await fund(adjudicator, params, [alice, alice], DEPOSITS);
    const final = makeState(params, 3n, [100n, 0n], true);
    const finalSigs = await signed(adjudicator, both, final);
    // A second channel paying the same payees: the target of re-entrant closes and withdrawals.
    const victim = makeParams(participants, ETH, 78n, PERIOD, hookPayees);
    await fund(adjudicator, victim, [alice, alice], [50n, 50n]);
    const victimFinal = makeState(victim, 1n, [0n, 50n], true);
    const victimSigs = await signed(adjudicator, both, victimFinal);
    const victimWithdrawal = makeWithdrawal(victim, 1, 20n, (await now()) + 100n * PERIOD);
    const victimWithdrawalSigs = await signWithdrawalBoth(adjudicator, both, victimWithdrawal);
    // A settled channel with one expired lock of participant 0: resolveLock would pay payee 0.
    const locks = makeParams(participants, ETH, 79n, PERIOD, hookPayees);
    await fund(adjudicator, locks, [alice, alice], [60n, 40n]);
    const lock: Lock = {
      channelId: idOf(locks),
      sender: 0,
      amount: 25n,
      hashlock: ethers.id("no secret") as Hex,
      expiry: (await now()) + 10n,
      ref: ZERO_HASH,
    };
    const lockState = makeState(locks, 1n, [0n, 0n], false, ZERO_HASH, { locked: [lock.amount, 0n], locksRoot: lockLeafHex(lock) });
    await adjudicator.challenge(locks, lockState, await signed(adjudicator, both, lockState));
    await time.increase(PERIOD);
    await adjudicator.settle(locks, lockState);
    const guardSelector = adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
    const concludedSelector = adjudicator.interface.getError("ChannelConcluded")!.selector;
    const success = "0x00000000";
    return {
      ...base,
      receiver,
      receiverAddress,
      params,
      final,
      finalSigs,
      victim,
      victimFinal,
      victimSigs,
      victimWithdrawal,
      victimWithdrawalSigs,
      locks,
      lock,
      lockState,
      guardSelector,
      concludedSelector,
      success,
    };
  }
  type RCtx = Awaited<ReturnType<typeof reentrantFixture>>;
  const owners = (c: RCtx) => [...everyone(c), c.receiverAddress];
  const channels = (c: RCtx) => [c.ethParams, c.ethBystander, c.params, c.victim, c.locks];

  /**
   * Re-entries tried from the payout push. Money-moving functions must hit the guard; the
   * unguarded ones (an ETH deposit, a challenge: no external call, no money out) must find the
   * channel concluded, or do exactly what they would do from outside.
   */
  const payloads: { name: string; data: (c: RCtx) => string; value?: bigint; outcomes: (c: RCtx) => string[] }[] = [
    {
      name: "settle of the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("settle", [c.params, opening(c.params)]),
      outcomes: (c) => [c.guardSelector],
    },
    {
      name: "close of the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.params, c.final, c.finalSigs]),
      outcomes: (c) => [c.guardSelector],
    },
    {
      name: "close of another channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.victim, c.victimFinal, c.victimSigs]),
      outcomes: (c) => [c.guardSelector],
    },
    {
      name: "partialWithdraw of another channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("partialWithdraw", [c.victim, c.victimWithdrawal, c.victimWithdrawalSigs]),
      outcomes: (c) => [c.guardSelector],
    },
    {
      name: "resolveLock of a settled channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("resolveLock", [c.locks, c.lockState, c.lock, []]),
      outcomes: (c) => [c.guardSelector],
    },
    { name: "withdraw", data: (c) => c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]), outcomes: (c) => [c.guardSelector] },
    {
      name: "withdrawTo",
      data: (c) => c.adjudicator.interface.encodeFunctionData("withdrawTo", [ETH, c.receiverAddress]),
      outcomes: (c) => [c.guardSelector],
    },
    {
      name: "an ETH deposit into the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("deposit", [c.params, 1, 1n]),
      value: 1n,
      outcomes: (c) => [c.concludedSelector],
    },
    {
      name: "an unsigned opening challenge of the same channel (the receiver is its payee)",
      data: (c) => c.adjudicator.interface.encodeFunctionData("challenge", [c.params, opening(c.params), UNSIGNED]),
      outcomes: (c) => [c.concludedSelector],
    },
  ];

  for (const payload of payloads) {
    for (const path of ["close", "settle"] as const) {
      it(`an ETH payee re-entering ${payload.name} from a ${path} payout gains nothing`, async function () {
        const c = await loadFixture(reentrantFixture);
        await c.receiver.arm(c.adjudicatorAddress, payload.data(c), payload.value ?? 0n);
        let tx: Promise<ContractTransactionResponse>;
        let payouts: [bigint, bigint];
        if (path === "close") {
          payouts = expectedSplit(DEPOSITS, c.final.transferred).payouts;
          tx = c.adjudicator.connect(c.bob).close(c.params, c.final, c.finalSigs);
        } else {
          payouts = DEPOSITS;
          // The receiver, a payee, registers the opening state itself (no re-entry yet: no ETH arrives).
          await c.receiver.execute(
            c.adjudicatorAddress,
            c.adjudicator.interface.encodeFunctionData("challenge", [c.params, opening(c.params), UNSIGNED]),
          );
          await time.increase(PERIOD);
          tx = c.adjudicator.connect(c.bob).settle(c.params, opening(c.params));
        }
        await expect(tx).to.not.emit(c.adjudicator, "Credited");
        await expect(tx).to.changeEtherBalances(
          [c.payee0, c.receiverAddress, c.alice, c.bob, c.adjudicatorAddress],
          [payouts[0], payouts[1], 0n, 0n, -(DEPOSITS[0] + DEPOSITS[1])],
        );
        expect(await c.receiver.reentries()).to.equal(1n);
        expect(payload.outcomes(c)).to.include(await c.receiver.lastError());
        expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
        const [mode, , , deposits] = await c.adjudicator.channel(idOf(c.params));
        expect(mode).to.equal(BigInt(ChannelMode.Concluded));
        expect(deposits).to.deep.equal([0n, 0n]);
        // The other channels are untouched and still work normally.
        const [victimMode, , , victimDeposits, victimWithdrawn] = await c.adjudicator.channel(idOf(c.victim));
        expect([victimMode, victimDeposits, victimWithdrawn]).to.deep.equal([BigInt(ChannelMode.Open), [50n, 50n], [0n, 0n]]);
        expect(await c.adjudicator.heldBack(idOf(c.locks))).to.deep.equal([c.lock.amount, 0n]);
        await expectConserved(c.adjudicator, ETH, channels(c), owners(c));
        await c.receiver.arm(ethers.ZeroAddress, "0x", 0n);
        await expect(c.adjudicator.close(c.victim, c.victimFinal, c.victimSigs)).to.changeEtherBalances(
          [c.payee0, c.receiverAddress],
          expectedSplit([50n, 50n], c.victimFinal.transferred).payouts,
        );
        await expect(c.adjudicator.resolveLock(c.locks, c.lockState, c.lock, [])).to.changeEtherBalance(c.payee0, c.lock.amount);
        await expectConserved(c.adjudicator, ETH, channels(c), owners(c));
      });
    }
  }

  it("an ETH payee re-entering challenge of another channel gains nothing: the challenge outgrows the push's gas, the payout is credited", async function () {
    // challenge takes no guard (it moves no money), so from a payout hook it would only do what the
    // payee may do from outside; but registering a state writes two fresh storage words, more than
    // the push allows, so the hook runs out of gas, the push fails, and the payout waits as a credit.
    const c = await loadFixture(reentrantFixture);
    await c.receiver.arm(
      c.adjudicatorAddress,
      c.adjudicator.interface.encodeFunctionData("challenge", [c.victim, opening(c.victim), UNSIGNED]),
      0n,
    );
    const { payouts } = expectedSplit(DEPOSITS, c.final.transferred);
    const tx = c.adjudicator.close(c.params, c.final, c.finalSigs);
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.receiverAddress, ETH, payouts[1]);
    await expect(tx).to.changeEtherBalances([c.payee0, c.receiverAddress], [payouts[0], 0n]);
    expect(await c.receiver.reentries()).to.equal(0n);
    expect((await c.adjudicator.channel(idOf(c.victim))).mode).to.equal(BigInt(ChannelMode.Open));
    await expectConserved(c.adjudicator, ETH, channels(c), owners(c));
    // Withdrawn later, the credit arrives with all the gas the payee wants: the hook's challenge then succeeds.
    const withdraw = c.receiver.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
    await expect(withdraw).to.changeEtherBalance(c.receiverAddress, payouts[1]);
    expect(await c.receiver.lastError()).to.equal(c.success);
    expect((await c.adjudicator.channel(idOf(c.victim))).mode).to.equal(BigInt(ChannelMode.Challenged));
    await expectConserved(c.adjudicator, ETH, channels(c), owners(c));
  });

  it("a payee re-entering withdraw from its own withdrawal is paid its credit exactly once", async function () {
    const c = await loadFixture(reentrantFixture);
    await c.receiver.setRejecting(true);
    await c.adjudicator.close(c.params, c.final, c.finalSigs);
    const credit = expectedSplit(DEPOSITS, c.final.transferred).payouts[1];
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(credit);
    await c.receiver.setRejecting(false);
    const withdraw = c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]);
    const withdrawTo = c.adjudicator.interface.encodeFunctionData("withdrawTo", [ETH, c.receiverAddress]);
    const close = c.adjudicator.interface.encodeFunctionData("close", [c.victim, c.victimFinal, c.victimSigs]);
    for (const [k, data] of [withdraw, withdrawTo, close].entries()) {
      await c.receiver.arm(c.adjudicatorAddress, data, 0n);
      const before = await c.receiver.reentries();
      const tx = c.receiver.execute(c.adjudicatorAddress, withdraw);
      if (k === 0) {
        await expect(tx).to.changeEtherBalances([c.receiverAddress, c.adjudicatorAddress], [credit, -credit]);
        expect(await c.receiver.reentries()).to.equal(before + 1n);
        expect(await c.receiver.lastError()).to.equal(c.guardSelector);
      } else {
        // Nothing left to withdraw, re-entrant or not.
        await expect(tx).to.be.revertedWithCustomError(c.adjudicator, "WithdrawNothing").withArgs(c.receiverAddress, ETH);
      }
    }
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    expect((await c.adjudicator.channel(idOf(c.victim))).mode).to.equal(BigInt(ChannelMode.Open));
    await expectConserved(c.adjudicator, ETH, channels(c), owners(c));
  });

  describe("a re-entrant ERC-20", function () {
    async function tokenFixture() {
      const base = await fixture();
      const { adjudicator, adjudicatorAddress, alice, bob, both, participants, payees } = base;
      const rToken = await ethers.deployContract("ReentrantToken");
      const rAddress = await addressOf(rToken);
      for (const s of [alice, bob]) {
        await rToken.mint(s.address, 10n ** 24n);
        await rToken.connect(s).approve(adjudicatorAddress, ethers.MaxUint256);
      }
      const params = makeParams(participants, rAddress, 33n, PERIOD, payees);
      await fund(adjudicator, params, [alice, bob], DEPOSITS);
      const other = makeParams(participants, rAddress, 34n, PERIOD, payees);
      await fund(adjudicator, other, [alice, bob], [5n, 5n]);
      const otherWithdrawal = makeWithdrawal(other, 0, 2n, (await now()) + 100n * PERIOD);
      const otherWithdrawalSigs = await signWithdrawalBoth(adjudicator, both, otherWithdrawal);
      const final = makeState(params, 2n, [0n, 100n], true);
      const finalSigs = await signed(adjudicator, both, final);
      const guardSelector = adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
      return { ...base, rToken, rAddress, params, other, otherWithdrawal, otherWithdrawalSigs, final, finalSigs, guardSelector };
    }
    type TCtx = Awaited<ReturnType<typeof tokenFixture>>;

    const tokenPayloads: { name: string; data: (c: TCtx) => string }[] = [
      { name: "close", data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.params, c.final, c.finalSigs]) },
      { name: "settle", data: (c) => c.adjudicator.interface.encodeFunctionData("settle", [c.other, opening(c.other)]) },
      {
        name: "partialWithdraw",
        data: (c) => c.adjudicator.interface.encodeFunctionData("partialWithdraw", [c.other, c.otherWithdrawal, c.otherWithdrawalSigs]),
      },
      { name: "withdraw", data: (c) => c.adjudicator.interface.encodeFunctionData("withdraw", [c.rAddress]) },
      { name: "withdrawTo", data: (c) => c.adjudicator.interface.encodeFunctionData("withdrawTo", [c.rAddress, c.carol.address]) },
      { name: "deposit", data: (c) => c.adjudicator.interface.encodeFunctionData("deposit", [c.other, 0, 1n]) },
    ];

    for (const payload of tokenPayloads) {
      it(`calling back into ${payload.name} during payouts gains nothing`, async function () {
        const c = await loadFixture(tokenFixture);
        await c.rToken.arm(c.adjudicatorAddress, payload.data(c));
        const { payouts } = expectedSplit(DEPOSITS, c.final.transferred);
        const holders = c.payees;
        const before = await Promise.all(holders.map((h) => c.rToken.balanceOf(h)));
        await (await c.adjudicator.close(c.params, c.final, c.finalSigs)).wait();
        // A payout is pushed, or (if the token's re-entry attempt used up the push's gas) credited:
        // either way each payee gets exactly its payout and nobody more.
        for (const [i, holder] of holders.entries()) {
          const pushed = (await c.rToken.balanceOf(holder)) - before[i];
          expect(pushed + (await c.adjudicator.credits(holder, c.rAddress))).to.equal(payouts[i]);
        }
        for (const participant of [c.alice.address, c.bob.address])
          expect(await c.adjudicator.credits(participant, c.rAddress)).to.equal(0n);
        const reentries = await c.rToken.reentries();
        if (reentries === 0n) {
          // The re-entry attempt ran out of the push's gas and its transfer reverted: both credited.
          for (const [i, holder] of holders.entries()) expect(await c.adjudicator.credits(holder, c.rAddress)).to.equal(payouts[i]);
        } else {
          expect(reentries).to.equal(2n);
          expect(await c.rToken.lastError()).to.equal(c.guardSelector);
        }
        const [, , , otherDeposits, otherWithdrawn] = await c.adjudicator.channel(idOf(c.other));
        expect([otherDeposits, otherWithdrawn]).to.deep.equal([
          [5n, 5n],
          [0n, 0n],
        ]);
        await expectConserved(c.adjudicator, c.rAddress, [c.params, c.other], [...everyone(c)]);
      });
    }

    it("calling back into deposit during transferFrom credits only the outer deposit", async function () {
      const c = await loadFixture(tokenFixture);
      await c.rToken.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("deposit", [c.params, 0, 1_000n]));
      const tx = c.adjudicator.connect(c.alice).deposit(c.params, 0, 10n);
      await expect(tx)
        .to.emit(c.adjudicator, "Deposited")
        .withArgs(idOf(c.params), 0, 10n, DEPOSITS[0] + 10n);
      await expect(tx).to.changeTokenBalances(c.rToken, [c.alice, c.adjudicatorAddress], [-10n, 10n]);
      expect(await c.rToken.reentries()).to.equal(1n);
      expect(await c.rToken.lastError()).to.equal(c.guardSelector);
      await expectConserved(c.adjudicator, c.rAddress, [c.params, c.other], []);
    });

    it("calling back into partialWithdraw during a deposit's transferFrom pays nothing", async function () {
      const c = await loadFixture(tokenFixture);
      await c.rToken.arm(
        c.adjudicatorAddress,
        c.adjudicator.interface.encodeFunctionData("partialWithdraw", [c.other, c.otherWithdrawal, c.otherWithdrawalSigs]),
      );
      await expect(c.adjudicator.connect(c.alice).deposit(c.params, 1, 10n)).to.changeTokenBalances(
        c.rToken,
        [c.alice, c.payee0, c.adjudicatorAddress],
        [-10n, 0n, 10n],
      );
      expect(await c.rToken.lastError()).to.equal(c.guardSelector);
      expect((await c.adjudicator.channel(idOf(c.other))).withdrawn).to.deep.equal([0n, 0n]);
      await expectConserved(c.adjudicator, c.rAddress, [c.params, c.other], []);
    });
  });
});

describe("security: a failing payee blocks no one", function () {
  interface Hostile {
    name: string;
    deploy: (owner: Address) => Promise<{ getAddress(): Promise<string> }>;
    /** Whether the hostile payee ends up paid (true) or credited (false). */
    paid: boolean;
  }
  const hostiles: Hostile[] = [
    { name: "a reverting payee", deploy: (o) => ethers.deployContract("RevertingReceiver", [o]), paid: false },
    { name: "a payee that burns all gas", deploy: (o) => ethers.deployContract("GasBurner", [o, 0n]), paid: false },
    {
      name: "a payee that needs 20,000 gas (within the push allowance)",
      deploy: (o) => ethers.deployContract("GasBurner", [o, 20_000n]),
      paid: true,
    },
    {
      name: "a payee that needs 40,000 gas (beyond the push allowance)",
      deploy: (o) => ethers.deployContract("GasBurner", [o, 40_000n]),
      paid: false,
    },
    { name: "a payee returning 64 KB of data", deploy: (o) => ethers.deployContract("ReturnBombReceiver", [o, 65_536n]), paid: true },
    {
      name: "a payee reverting with 64 KB of data",
      deploy: async (o) => {
        const bomb = await ethers.deployContract("ReturnBombReceiver", [o, 65_536n]);
        await bomb.setReverting(true);
        return bomb;
      },
      paid: false,
    },
  ];

  for (const hostile of hostiles) {
    for (const index of [0, 1] as const) {
      for (const path of ["close", "settle"] as const) {
        it(`${hostile.name} as payee ${index}, ${path}: the other payee is paid, the hostile one ${hostile.paid ? "too" : "credited"}`, async function () {
          const c = await loadFixture(fixture);
          const contract = await hostile.deploy(c.carol.address as Address);
          const hostileAddress = await addressOf(contract);
          const honest = index === 0 ? c.payee1 : c.payee0;
          const payees: [Address, Address] = index === 0 ? [hostileAddress, c.payees[1]] : [c.payees[0], hostileAddress];
          const params = makeParams(c.participants, ETH, 600n, PERIOD, payees);
          await fund(c.adjudicator, params, [c.carol, c.carol], DEPOSITS);
          const s = makeState(params, 1n, [120n, 20n], path === "close");
          const { payouts } = expectedSplit(DEPOSITS, s.transferred);
          let tx: Promise<ContractTransactionResponse>;
          if (path === "close") {
            tx = c.adjudicator.connect(c.mallory).close(params, s, await signed(c.adjudicator, c.both, s));
          } else {
            await time.increaseTo(await register(c, params, s));
            tx = c.adjudicator.connect(c.mallory).settle(params, s);
          }
          const hostilePayout = payouts[index];
          const honestPayout = payouts[1 - index];
          if (hostile.paid) await expect(tx).to.not.emit(c.adjudicator, "Credited");
          else await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(hostileAddress, ETH, hostilePayout);
          await expect(tx).to.changeEtherBalances(
            [honest, hostileAddress, c.alice, c.bob, c.adjudicatorAddress],
            [honestPayout, hostile.paid ? hostilePayout : 0n, 0n, 0n, -(hostile.paid ? DEPOSITS[0] + DEPOSITS[1] : honestPayout)],
          );
          const receipt = await (await tx).wait();
          expect(receipt!.gasUsed, "bounded gas: the hostile payee can't make the payout expensive").to.be.lessThan(200_000n);
          expect(await c.adjudicator.credits(hostileAddress, ETH)).to.equal(hostile.paid ? 0n : hostilePayout);
          expect((await c.adjudicator.channel(idOf(params))).mode).to.equal(BigInt(ChannelMode.Concluded));
          await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, params], [...everyone(c), hostileAddress]);
        });
      }
    }
  }

  it("a reverting payee's credit is withdrawable later, after a settle", async function () {
    const c = await loadFixture(fixture);
    const receiver = await ethers.deployContract("RevertingReceiver", [c.carol.address]);
    const rAddress = await addressOf(receiver);
    const params = makeParams(c.participants, ETH, 601n, PERIOD, [rAddress, c.payees[1]]);
    await fund(c.adjudicator, params, [c.carol, c.carol], DEPOSITS);
    await c.adjudicator.connect(c.payee1).challenge(params, opening(params), UNSIGNED);
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(params, opening(params));
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(rAddress, ETH, DEPOSITS[0]);
    await expect(tx).to.changeEtherBalances([c.payee1, rAddress], [DEPOSITS[1], 0n]);
    await receiver.setRejecting(false);
    const withdraw = receiver.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
    await expect(withdraw).to.emit(c.adjudicator, "Withdrawn").withArgs(rAddress, ETH, rAddress, DEPOSITS[0]);
    await expect(withdraw).to.changeEtherBalance(rAddress, DEPOSITS[0]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, params], [...everyone(c), rAddress]);
  });

  it("a token that blocks one payee doesn't block the other (settle path)", async function () {
    const c = await loadFixture(fixture);
    const blocking = await ethers.deployContract("BlockingToken");
    const bAddress = await addressOf(blocking);
    await blocking.mint(c.carol.address, 10n ** 20n);
    await blocking.connect(c.carol).approve(c.adjudicatorAddress, ethers.MaxUint256);
    const params = makeParams(c.participants, bAddress, 602n, PERIOD, c.payees);
    await fund(c.adjudicator, params, [c.carol, c.carol], DEPOSITS);
    await blocking.setBlocked(c.payee0.address, true);
    await c.adjudicator.connect(c.bob).challenge(params, opening(params), UNSIGNED);
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(params, opening(params));
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.payee0.address, bAddress, DEPOSITS[0]);
    await expect(tx).to.changeTokenBalances(blocking, [c.payee0, c.payee1, c.adjudicatorAddress], [0n, DEPOSITS[1], -DEPOSITS[1]]);
    await expectConserved(c.adjudicator, bAddress, [params], everyone(c));
  });
});

/**
 * A channel whose payee `index` needs 20,000 gas to accept ETH (within the push allowance), with a
 * final state signed and ready; one fixture per payee index, so that `loadFixture` hands every
 * gas limit a freshly open channel.
 */
async function hungryFixture(index: 0 | 1) {
  const c = await fixture();
  const hungry = await ethers.deployContract("GasBurner", [c.carol.address, 20_000n]);
  const hungryAddress = await addressOf(hungry);
  const payees: [Address, Address] = index === 0 ? [hungryAddress, c.payees[1]] : [c.payees[0], hungryAddress];
  const params = makeParams(c.participants, ETH, 603n, PERIOD, payees);
  await fund(c.adjudicator, params, [c.carol, c.carol], DEPOSITS);
  const s = makeState(params, 1n, [100n, 0n], true);
  const sigs = await signed(c.adjudicator, c.both, s);
  return { ...c, hungryAddress, params, s, sigs };
}
function hungryPayee0Fixture() {
  return hungryFixture(0);
}
function hungryPayee1Fixture() {
  return hungryFixture(1);
}
const hungryFixtures = [hungryPayee0Fixture, hungryPayee1Fixture] as const;

describe("security: a caller can't force the credit path by sending too little gas", function () {
  for (const index of [0, 1] as const) {
    it(`every gas limit against a freshly open channel, payee ${index} needing 20,000 gas: PayoutGasInsufficient or paid, never a credit`, async function () {
      const load = () => loadFixture(hungryFixtures[index]);
      const first = await load();
      const full = await first.adjudicator.connect(first.bob).close.estimateGas(first.params, first.s, first.sigs);
      const payouts = expectedSplit(DEPOSITS, first.s.transferred).payouts;
      // Coarse steps from well below the estimate, fine ones around it.
      const limits: bigint[] = [];
      for (let g = full - 60_000n; g < full - 3_000n; g += 2_500n) limits.push(g);
      for (let g = full - 3_000n; g <= full + 10_000n; g += 250n) limits.push(g);
      let starved = 0;
      let paid = 0;
      for (const gasLimit of limits) {
        const c = await load();
        const id = idOf(c.params);
        expect((await c.adjudicator.channel(id)).mode, `gas limit ${gasLimit}: channel open before the call`).to.equal(
          BigInt(ChannelMode.Open),
        );
        const balanceBefore = await balanceIn(ETH, c.hungryAddress);
        let receipt: ContractTransactionReceipt;
        try {
          receipt = (await (await c.adjudicator.connect(c.bob).close(c.params, c.s, c.sigs, { gasLimit })).wait())!;
        } catch (error) {
          const data = (error as { data?: unknown }).data;
          const parsed = typeof data === "string" && data !== "0x" ? c.adjudicator.interface.parseError(data) : null;
          expect(parsed?.name, `gas limit ${gasLimit}: ${String(error).slice(0, 200)}`).to.equal("PayoutGasInsufficient");
          expect((await c.adjudicator.channel(id)).mode, `gas limit ${gasLimit}: still open`).to.equal(BigInt(ChannelMode.Open));
          expect(await c.adjudicator.credits(c.hungryAddress, ETH)).to.equal(0n);
          starved += 1;
          continue;
        }
        const credited = receipt.logs.some((l) => c.adjudicator.interface.parseLog(l)?.name === "Credited");
        expect(credited, `gas limit ${gasLimit} forced a credit`).to.equal(false);
        expect(await balanceIn(ETH, c.hungryAddress), `gas limit ${gasLimit}: hungry payee paid`).to.equal(balanceBefore + payouts[index]);
        expect(await c.adjudicator.credits(c.hungryAddress, ETH)).to.equal(0n);
        expect((await c.adjudicator.channel(id)).mode).to.equal(BigInt(ChannelMode.Concluded));
        paid += 1;
      }
      expect(starved + paid).to.equal(limits.length);
      expect(paid, "some gas limits must succeed").to.be.greaterThan(0);
      expect(starved, "some gas limits must hit PayoutGasInsufficient").to.be.greaterThan(0);
    });
  }
});

describe("security: unusual tokens", function () {
  it("a fee-on-transfer token: payouts add up to what was credited, the adjudicator keeps nothing", async function () {
    const c = await loadFixture(fixture);
    const fee = await ethers.deployContract("FeeOnTransferToken");
    const fAddress = await addressOf(fee);
    for (const s of [c.alice, c.bob]) {
      await fee.mint(s.address, 10n ** 24n);
      await fee.connect(s).approve(c.adjudicatorAddress, ethers.MaxUint256);
    }
    const params = makeParams(c.participants, fAddress, 700n, PERIOD, c.payees);
    await fund(c.adjudicator, params, c.both, [100_000n, 50_000n]);
    const credited: [bigint, bigint] = [100_000n - (await fee.feeOf(100_000n)), 50_000n - (await fee.feeOf(50_000n))];
    expect((await c.adjudicator.channel(idOf(params))).deposits).to.deep.equal(credited);
    expect(await fee.balanceOf(c.adjudicatorAddress)).to.equal(credited[0] + credited[1]);
    const s = makeState(params, 1n, [10_000n, 0n], true);
    const { payouts } = expectedSplit(credited, s.transferred);
    const tx = c.adjudicator.close(params, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(params), 1n, payouts);
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    await expect(tx).to.changeTokenBalances(
      fee,
      [c.payee0, c.payee1, c.adjudicatorAddress],
      [payouts[0] - (await fee.feeOf(payouts[0])), payouts[1] - (await fee.feeOf(payouts[1])), -(credited[0] + credited[1])],
    );
    expect(await fee.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    await expectConserved(c.adjudicator, fAddress, [params], everyone(c));
  });

  it("a token without return values is pushed, not credited", async function () {
    const c = await loadFixture(fixture);
    const usdt = await ethers.deployContract("NoReturnToken");
    const uAddress = await addressOf(usdt);
    await usdt.mint(c.alice.address, 10n ** 12n);
    await usdt.connect(c.alice).approve(c.adjudicatorAddress, ethers.MaxUint256);
    const params = makeParams(c.participants, uAddress, 701n, PERIOD, c.payees);
    await fund(c.adjudicator, params, [c.alice, c.alice], DEPOSITS);
    const s = makeState(params, 1n, [0n, 100n], true);
    const tx = c.adjudicator.close(params, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    const { payouts } = expectedSplit(DEPOSITS, s.transferred);
    expect(await usdt.balanceOf(c.payee0.address)).to.equal(payouts[0]);
    expect(await usdt.balanceOf(c.payee1.address)).to.equal(payouts[1]);
    expect(await usdt.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    await expectConserved(c.adjudicator, uAddress, [params], everyone(c));
  });
});
