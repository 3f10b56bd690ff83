import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, ChannelMode, type Address } from "../../src/types";
import {
  ONE_ETH,
  PERIOD,
  UNSIGNED,
  addressOf,
  deployBase,
  expectConserved,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  opening,
  signed,
  type ChannelParams,
  type RevertRow,
} from "../helpers/fixture";

const ZERO_ADDRESS = ethers.ZeroAddress as Address;

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  // Payees apart from the signing keys: deposits never depend on them, but they are part of the id.
  const [payee0, payee1] = [signers[5], signers[6]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const feeToken = await ethers.deployContract("FeeOnTransferToken");
  const lyingToken = await ethers.deployContract("LyingToken");
  const noReturnToken = await ethers.deployContract("NoReturnToken");
  for (const s of [base.alice, base.bob]) {
    await feeToken.mint(s.address, 10n ** 24n);
    await feeToken.connect(s).approve(base.adjudicatorAddress, ethers.MaxUint256);
    await noReturnToken.mint(s.address, 10n ** 24n);
    await noReturnToken.connect(s).approve(base.adjudicatorAddress, ethers.MaxUint256);
  }
  const maxDeposit = await base.adjudicator.MAX_DEPOSIT();
  const maxPeriod = await base.adjudicator.MAX_CHALLENGE_PERIOD();
  const p = base.participants;
  return {
    ...base,
    payee0,
    payee1,
    payees,
    feeToken,
    lyingToken,
    noReturnToken,
    maxDeposit,
    maxPeriod,
    ethParams: makeParams(p, ETH, 1n, PERIOD, payees),
    tokenParams: makeParams(p, base.tokenAddress, 2n, PERIOD, payees),
    feeParams: makeParams(p, await addressOf(feeToken), 3n, PERIOD, payees),
    lyingParams: makeParams(p, await addressOf(lyingToken), 4n, PERIOD, payees),
    noReturnParams: makeParams(p, await addressOf(noReturnToken), 5n, PERIOD, payees),
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Closes `params` on a final state (nothing transferred) signed by alice and bob. */
async function closeChannel(c: Ctx, params: ChannelParams): Promise<void> {
  await fund(c.adjudicator, params, c.both, [5n, 5n]);
  const final = makeState(params, 1n, [0n, 0n], true);
  await c.adjudicator.close(params, final, await signed(c.adjudicator, c.both, final));
}

/** Settles `params` on its unsigned opening state, registered by participant 0. */
async function settleChannel(c: Ctx, params: ChannelParams): Promise<void> {
  await fund(c.adjudicator, params, c.both, [5n, 5n]);
  await c.adjudicator.connect(c.alice).challenge(params, opening(params), UNSIGNED);
  await time.increase(PERIOD);
  await c.adjudicator.settle(params, opening(params));
}

describe("Adjudicator #deposit", function () {
  describe("ETH", function () {
    it("opens the channel on the first deposit (mode 0 -> 1) and emits Deposited", async function () {
      const { adjudicator, alice, ethParams, adjudicatorAddress } = await loadFixture(fixture);
      const id = idOf(ethParams);
      expect((await adjudicator.channel(id)).mode).to.equal(ChannelMode.None);
      const tx = adjudicator.connect(alice).deposit(ethParams, 0, ONE_ETH, { value: ONE_ETH });
      await expect(tx).to.emit(adjudicator, "Deposited").withArgs(id, 0, ONE_ETH, ONE_ETH);
      await expect(tx).to.changeEtherBalances([alice, adjudicatorAddress], [-ONE_ETH, ONE_ETH]);
      const [mode, version, deadline, deposits, withdrawn] = await adjudicator.channel(id);
      expect(mode).to.equal(ChannelMode.Open);
      expect(version).to.equal(0n);
      expect(deadline).to.equal(0n);
      expect(deposits).to.deep.equal([ONE_ETH, 0n]);
      expect(withdrawn).to.deep.equal([0n, 0n]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("lets participant 1 deposit and keeps the two deposits apart", async function () {
      const { adjudicator, alice, bob, ethParams } = await loadFixture(fixture);
      await adjudicator.connect(alice).deposit(ethParams, 0, 3n, { value: 3n });
      await expect(adjudicator.connect(bob).deposit(ethParams, 1, 5n, { value: 5n }))
        .to.emit(adjudicator, "Deposited")
        .withArgs(idOf(ethParams), 1, 5n, 5n);
      expect((await adjudicator.channel(idOf(ethParams))).deposits).to.deep.equal([3n, 5n]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("lets anyone deposit for either participant: a stranger, a payee", async function () {
      const { adjudicator, carol, payee1, ethParams, adjudicatorAddress } = await loadFixture(fixture);
      const id = idOf(ethParams);
      const tx = adjudicator.connect(carol).deposit(ethParams, 1, 7n, { value: 7n });
      await expect(tx).to.emit(adjudicator, "Deposited").withArgs(id, 1, 7n, 7n);
      await expect(tx).to.changeEtherBalances([carol, adjudicatorAddress], [-7n, 7n]);
      await expect(adjudicator.connect(payee1).deposit(ethParams, 0, 2n, { value: 2n })).to.changeEtherBalances(
        [payee1, adjudicatorAddress],
        [-2n, 2n],
      );
      expect((await adjudicator.channel(id)).deposits).to.deep.equal([2n, 7n]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("adds top-ups to the participant's deposit", async function () {
      const { adjudicator, alice, ethParams } = await loadFixture(fixture);
      const id = idOf(ethParams);
      await adjudicator.connect(alice).deposit(ethParams, 0, ONE_ETH, { value: ONE_ETH });
      await expect(adjudicator.connect(alice).deposit(ethParams, 0, 2n * ONE_ETH, { value: 2n * ONE_ETH }))
        .to.emit(adjudicator, "Deposited")
        .withArgs(id, 0, 2n * ONE_ETH, 3n * ONE_ETH);
      expect((await adjudicator.channel(id)).deposits).to.deep.equal([3n * ONE_ETH, 0n]);
      expect((await adjudicator.channel(id)).mode).to.equal(ChannelMode.Open);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("accepts top-ups during a challenge, also after the deadline, without moving the deadline", async function () {
      const { adjudicator, alice, bob, ethParams } = await loadFixture(fixture);
      const id = idOf(ethParams);
      await fund(adjudicator, ethParams, [alice, bob], [10n, 10n]);
      await adjudicator.connect(alice).challenge(ethParams, opening(ethParams), UNSIGNED);
      const before = await adjudicator.channel(id);
      await adjudicator.connect(bob).deposit(ethParams, 1, 5n, { value: 5n });
      let after = await adjudicator.channel(id);
      expect(after.mode).to.equal(ChannelMode.Challenged);
      expect(after.deadline).to.equal(before.deadline);
      expect(after.deposits).to.deep.equal([10n, 15n]);
      await time.increaseTo(before.deadline + 10n);
      await adjudicator.connect(alice).deposit(ethParams, 0, 1n, { value: 1n });
      after = await adjudicator.channel(id);
      expect(after.mode).to.equal(ChannelMode.Challenged);
      expect(after.deadline).to.equal(before.deadline);
      expect(after.deposits).to.deep.equal([11n, 15n]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("keeps channels apart that differ in the nonce, the payees or the payees' order", async function () {
      const { adjudicator, alice, carol, participants, payees, ethParams } = await loadFixture(fixture);
      const others = [
        makeParams(participants, ETH, ethParams.nonce + 1n, PERIOD, payees),
        makeParams(participants, ETH, ethParams.nonce, PERIOD, participants),
        makeParams(participants, ETH, ethParams.nonce, PERIOD, [payees[1], payees[0]]),
        makeParams(participants, ETH, ethParams.nonce, PERIOD, [payees[0], carol.address as Address]),
      ];
      expect(new Set([ethParams, ...others].map(idOf)).size).to.equal(others.length + 1);
      await adjudicator.connect(alice).deposit(ethParams, 0, 4n, { value: 4n });
      for (const [k, other] of others.entries()) {
        const amount = BigInt(10 + k);
        await adjudicator.connect(alice).deposit(other, 0, amount, { value: amount });
      }
      expect((await adjudicator.channel(idOf(ethParams))).deposits).to.deep.equal([4n, 0n]);
      for (const [k, other] of others.entries()) {
        expect((await adjudicator.channel(idOf(other))).deposits).to.deep.equal([BigInt(10 + k), 0n]);
      }
      await expectConserved(adjudicator, ETH, [ethParams, ...others], []);
    });

    it("accepts payees that equal each other, a participant, or the other participant", async function () {
      const { adjudicator, alice, participants, payees } = await loadFixture(fixture);
      const cases: [Address, Address][] = [
        [payees[0], payees[0]],
        [participants[1], participants[0]],
        [participants[0], payees[1]],
      ];
      const channels = cases.map((pair, k) => makeParams(participants, ETH, 100n + BigInt(k), PERIOD, pair));
      for (const params of channels) {
        await expect(adjudicator.connect(alice).deposit(params, 1, 3n, { value: 3n }))
          .to.emit(adjudicator, "Deposited")
          .withArgs(idOf(params), 1, 3n, 3n);
      }
      await expectConserved(adjudicator, ETH, channels, []);
    });

    it("accepts a deposit of exactly MAX_DEPOSIT and rejects one wei more (DepositOverflow)", async function () {
      const { adjudicator, carol, ethParams, maxDeposit } = await loadFixture(fixture);
      await setBalance(carol.address, maxDeposit * 4n);
      const id = idOf(ethParams);
      await expect(adjudicator.connect(carol).deposit(ethParams, 0, maxDeposit + 1n, { value: maxDeposit + 1n }))
        .to.be.revertedWithCustomError(adjudicator, "DepositOverflow")
        .withArgs(0n, maxDeposit + 1n);
      await adjudicator.connect(carol).deposit(ethParams, 0, maxDeposit - 1n, { value: maxDeposit - 1n });
      await adjudicator.connect(carol).deposit(ethParams, 0, 1n, { value: 1n });
      await expect(adjudicator.connect(carol).deposit(ethParams, 0, 1n, { value: 1n }))
        .to.be.revertedWithCustomError(adjudicator, "DepositOverflow")
        .withArgs(maxDeposit, 1n);
      // The other participant's deposit is a separate counter.
      await adjudicator.connect(carol).deposit(ethParams, 1, maxDeposit, { value: maxDeposit });
      expect((await adjudicator.channel(id)).deposits).to.deep.equal([maxDeposit, maxDeposit]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });
  });

  describe("ERC-20", function () {
    it("pulls the token with transferFrom and opens the channel", async function () {
      const { adjudicator, token, alice, bob, tokenParams, adjudicatorAddress, tokenAddress } = await loadFixture(fixture);
      const id = idOf(tokenParams);
      const tx = adjudicator.connect(alice).deposit(tokenParams, 0, 1_000n);
      await expect(tx).to.emit(adjudicator, "Deposited").withArgs(id, 0, 1_000n, 1_000n);
      await expect(tx).to.changeTokenBalances(token, [alice, adjudicatorAddress], [-1_000n, 1_000n]);
      await expect(adjudicator.connect(bob).deposit(tokenParams, 1, 250n))
        .to.emit(adjudicator, "Deposited")
        .withArgs(id, 1, 250n, 250n);
      await adjudicator.connect(bob).deposit(tokenParams, 1, 50n);
      const [mode, , , deposits, withdrawn] = await adjudicator.channel(id);
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal([1_000n, 300n]);
      expect(withdrawn).to.deep.equal([0n, 0n]);
      await expectConserved(adjudicator, tokenAddress, [tokenParams], []);
    });

    it("pulls from the caller when a third party deposits for a participant", async function () {
      const { adjudicator, token, carol, alice, payee0, tokenParams, adjudicatorAddress } = await loadFixture(fixture);
      await expect(adjudicator.connect(carol).deposit(tokenParams, 0, 77n)).to.changeTokenBalances(
        token,
        [carol, alice, payee0, adjudicatorAddress],
        [-77n, 0n, 0n, 77n],
      );
      expect((await adjudicator.channel(idOf(tokenParams))).deposits).to.deep.equal([77n, 0n]);
    });

    it("credits what arrived from a fee-on-transfer token, not the amount named", async function () {
      const { adjudicator, feeToken, alice, feeParams, adjudicatorAddress } = await loadFixture(fixture);
      const amount = 10_000n;
      const fee = await feeToken.feeOf(amount);
      expect(fee).to.be.greaterThan(0n);
      await expect(adjudicator.connect(alice).deposit(feeParams, 0, amount))
        .to.emit(adjudicator, "Deposited")
        .withArgs(idOf(feeParams), 0, amount - fee, amount - fee);
      expect((await adjudicator.channel(idOf(feeParams))).deposits).to.deep.equal([amount - fee, 0n]);
      expect(await feeToken.balanceOf(adjudicatorAddress)).to.equal(amount - fee);
      await expectConserved(adjudicator, await addressOf(feeToken), [feeParams], []);
    });

    it("accepts a token without return values (USDT style)", async function () {
      const { adjudicator, noReturnToken, bob, noReturnParams, adjudicatorAddress } = await loadFixture(fixture);
      await expect(adjudicator.connect(bob).deposit(noReturnParams, 1, 123n))
        .to.emit(adjudicator, "Deposited")
        .withArgs(idOf(noReturnParams), 1, 123n, 123n);
      expect(await noReturnToken.balanceOf(adjudicatorAddress)).to.equal(123n);
    });

    it("rejects a deposit whose token transfer fails, with the token's error", async function () {
      const { adjudicator, token, tokenParams, adjudicatorAddress } = await loadFixture(fixture);
      const [, , , , poor] = await ethers.getSigners();
      await expect(adjudicator.connect(poor).deposit(tokenParams, 0, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(adjudicatorAddress, 0n, 1n);
      expect((await adjudicator.channel(idOf(tokenParams))).mode).to.equal(ChannelMode.None);
    });

    it("accepts MAX_DEPOSIT of a token and rejects one unit more (DepositOverflow)", async function () {
      const { adjudicator, token, alice, tokenParams, maxDeposit, tokenAddress } = await loadFixture(fixture);
      await token.mint(alice.address, maxDeposit);
      await adjudicator.connect(alice).deposit(tokenParams, 1, maxDeposit);
      await expect(adjudicator.connect(alice).deposit(tokenParams, 1, 1n))
        .to.be.revertedWithCustomError(adjudicator, "DepositOverflow")
        .withArgs(maxDeposit, 1n);
      await expectConserved(adjudicator, tokenAddress, [tokenParams], []);
    });

    it("refuses a deposit into a concluded token channel before pulling anything", async function () {
      const c = await loadFixture(fixture);
      await closeChannel(c, c.tokenParams);
      const held = await c.token.balanceOf(c.adjudicatorAddress);
      await expect(c.adjudicator.connect(c.carol).deposit(c.tokenParams, 0, 9n))
        .to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded")
        .withArgs(idOf(c.tokenParams));
      expect(await c.token.balanceOf(c.adjudicatorAddress)).to.equal(held);
      expect(await c.token.allowance(c.carol.address, c.adjudicatorAddress)).to.equal(ethers.MaxUint256);
    });
  });

  describe("reverts", function () {
    const p = (c: Ctx) => c.participants;
    const rows: RevertRow<Ctx>[] = [
      {
        description: "participant 0 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([ZERO_ADDRESS, p(c)[1]], ETH, 1n, PERIOD, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [ZERO_ADDRESS, p(c)[1]],
      },
      {
        description: "participant 1 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([p(c)[0], ZERO_ADDRESS], ETH, 1n, PERIOD, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [p(c)[0], ZERO_ADDRESS],
      },
      {
        description: "both participants are the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([ZERO_ADDRESS, ZERO_ADDRESS], ETH, 1n, PERIOD, c.payees), 1, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: () => [ZERO_ADDRESS, ZERO_ADDRESS],
      },
      {
        description: "the participants are the same address",
        call: (c) => c.adjudicator.deposit(makeParams([p(c)[0], p(c)[0]], ETH, 1n, PERIOD, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [p(c)[0], p(c)[0]],
      },
      {
        description: "invalid participants and a zero payee (participants are checked first)",
        call: (c) =>
          c.adjudicator.deposit(makeParams([p(c)[0], p(c)[0]], ETH, 1n, PERIOD, [ZERO_ADDRESS, c.payees[1]]), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [p(c)[0], p(c)[0]],
      },
      {
        description: "payee 0 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, PERIOD, [ZERO_ADDRESS, c.payees[1]]), 0, 1n, { value: 1n }),
        error: "ChannelPayeesInvalid",
        args: (c) => [ZERO_ADDRESS, c.payees[1]],
      },
      {
        description: "payee 1 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, PERIOD, [c.payees[0], ZERO_ADDRESS]), 1, 1n, { value: 1n }),
        error: "ChannelPayeesInvalid",
        args: (c) => [c.payees[0], ZERO_ADDRESS],
      },
      {
        description: "both payees are the zero address (token channel)",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), c.tokenAddress, 2n, PERIOD, [ZERO_ADDRESS, ZERO_ADDRESS]), 0, 1n),
        error: "ChannelPayeesInvalid",
        args: () => [ZERO_ADDRESS, ZERO_ADDRESS],
      },
      {
        description: "a zero payee and challenge period 0 (payees are checked first)",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, 0n, [c.payees[0], ZERO_ADDRESS]), 0, 1n, { value: 1n }),
        error: "ChannelPayeesInvalid",
        args: (c) => [c.payees[0], ZERO_ADDRESS],
      },
      {
        description: "challenge period 0",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, 0n, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelChallengePeriodInvalid",
        args: () => [0n],
      },
      {
        description: "challenge period MAX_CHALLENGE_PERIOD + 1",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, c.maxPeriod + 1n, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelChallengePeriodInvalid",
        args: (c) => [c.maxPeriod + 1n],
      },
      {
        description: "challenge period 2^64 - 1",
        call: (c) => c.adjudicator.deposit(makeParams(p(c), ETH, 1n, 2n ** 64n - 1n, c.payees), 0, 1n, { value: 1n }),
        error: "ChannelChallengePeriodInvalid",
        args: () => [2n ** 64n - 1n],
      },
      {
        description: "participant index 2",
        call: (c) => c.adjudicator.deposit(c.ethParams, 2, 1n, { value: 1n }),
        error: "ParticipantIndexInvalid",
        args: () => [2],
      },
      {
        description: "participant index 255",
        call: (c) => c.adjudicator.deposit(c.tokenParams, 255, 1n),
        error: "ParticipantIndexInvalid",
        args: () => [255],
      },
      {
        description: "an ETH deposit of zero",
        call: (c) => c.adjudicator.deposit(c.ethParams, 0, 0n),
        error: "DepositZero",
        args: () => [],
      },
      {
        description: "a token deposit of zero",
        call: (c) => c.adjudicator.deposit(c.tokenParams, 1, 0n),
        error: "DepositZero",
        args: () => [],
      },
      {
        description: "msg.value below the amount",
        call: (c) => c.adjudicator.deposit(c.ethParams, 0, 10n, { value: 9n }),
        error: "DepositValueMismatch",
        args: () => [9n, 10n],
      },
      {
        description: "msg.value above the amount",
        call: (c) => c.adjudicator.deposit(c.ethParams, 1, 10n, { value: 11n }),
        error: "DepositValueMismatch",
        args: () => [11n, 10n],
      },
      {
        description: "no msg.value for an ETH deposit",
        call: (c) => c.adjudicator.deposit(c.ethParams, 1, 10n),
        error: "DepositValueMismatch",
        args: () => [0n, 10n],
      },
      {
        description: "ETH attached to a token deposit",
        call: (c) => c.adjudicator.deposit(c.tokenParams, 0, 10n, { value: 10n }),
        error: "DepositValueMismatch",
        args: () => [10n, 0n],
      },
      {
        description: "a token whose transferFrom returns true and delivers nothing",
        call: (c) => c.adjudicator.deposit(c.lyingParams, 0, 1_000n),
        error: "DepositNotReceived",
        args: async (c) => [await addressOf(c.lyingToken), 1_000n],
      },
      {
        description: "a token whose balance appears to shrink during the transfer",
        call: async (c) => {
          await c.lyingToken.setReported(1_000_000n);
          await c.lyingToken.setShrinkBy(1n);
          return c.adjudicator.deposit(c.lyingParams, 1, 500n);
        },
        error: "DepositNotReceived",
        args: async (c) => [await addressOf(c.lyingToken), 500n],
      },
      {
        description: "an ETH deposit beyond MAX_DEPOSIT in one go",
        call: async (c) => {
          await setBalance(c.carol.address, c.maxDeposit * 2n);
          return c.adjudicator.connect(c.carol).deposit(c.ethParams, 1, c.maxDeposit + 1n, { value: c.maxDeposit + 1n });
        },
        error: "DepositOverflow",
        args: (c) => [0n, c.maxDeposit + 1n],
      },
      {
        description: "a token top-up beyond MAX_DEPOSIT",
        call: async (c) => {
          await c.token.mint(c.alice.address, c.maxDeposit);
          await c.adjudicator.connect(c.alice).deposit(c.tokenParams, 0, c.maxDeposit - 5n);
          return c.adjudicator.connect(c.alice).deposit(c.tokenParams, 0, 6n);
        },
        error: "DepositOverflow",
        args: (c) => [c.maxDeposit - 5n, 6n],
      },
      {
        description: "a concluded (closed) ETH channel",
        call: async (c) => {
          await closeChannel(c, c.ethParams);
          return c.adjudicator.deposit(c.ethParams, 0, 1n, { value: 1n });
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a concluded (settled) ETH channel",
        call: async (c) => {
          await settleChannel(c, c.ethParams);
          return c.adjudicator.deposit(c.ethParams, 1, 1n, { value: 1n });
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a concluded (closed) token channel",
        call: async (c) => {
          await closeChannel(c, c.tokenParams);
          return c.adjudicator.deposit(c.tokenParams, 0, 1n);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.tokenParams)],
      },
      {
        description: "a concluded (settled) token channel",
        call: async (c) => {
          await settleChannel(c, c.tokenParams);
          return c.adjudicator.deposit(c.tokenParams, 1, 1n);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.tokenParams)],
      },
    ];

    itRejectsRows(fixture, rows, {
      covers: {
        fn: "deposit",
        errors: [
          "ChannelParticipantsInvalid",
          "ChannelPayeesInvalid",
          "ChannelChallengePeriodInvalid",
          "ParticipantIndexInvalid",
          "DepositZero",
          "DepositValueMismatch",
          "DepositNotReceived",
          "DepositOverflow",
          "ChannelConcluded",
        ],
      },
    });

    it("rejected deposits leave no trace", async function () {
      const { adjudicator, alice, ethParams, participants, adjudicatorAddress } = await loadFixture(fixture);
      await expect(adjudicator.connect(alice).deposit(ethParams, 0, 10n, { value: 9n })).to.be.revertedWithCustomError(
        adjudicator,
        "DepositValueMismatch",
      );
      const zeroPayee = makeParams(participants, ETH, 1n, PERIOD, [ZERO_ADDRESS, participants[1]]);
      await expect(adjudicator.connect(alice).deposit(zeroPayee, 0, 10n, { value: 10n })).to.be.revertedWithCustomError(
        adjudicator,
        "ChannelPayeesInvalid",
      );
      for (const params of [ethParams, zeroPayee]) {
        expect((await adjudicator.channel(idOf(params))).mode).to.equal(ChannelMode.None);
      }
      expect(await ethers.provider.getBalance(adjudicatorAddress)).to.equal(0n);
    });
  });
});
