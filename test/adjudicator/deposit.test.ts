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
  expectRevertRow,
  fund,
  idOf,
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
  return {
    ...base,
    feeToken,
    lyingToken,
    noReturnToken,
    maxDeposit,
    maxPeriod,
    feeParams: makeParams(base.participants, await addressOf(feeToken), 3n),
    lyingParams: makeParams(base.participants, await addressOf(lyingToken), 4n),
    noReturnParams: makeParams(base.participants, await addressOf(noReturnToken), 5n),
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

describe("Adjudicator #deposit", function () {
  describe("ETH", function () {
    it("opens the channel on the first deposit (mode 0 -> 1) and emits Deposited", async function () {
      const { adjudicator, alice, ethParams, adjudicatorAddress } = await loadFixture(fixture);
      const id = idOf(ethParams);
      expect((await adjudicator.channel(id)).mode).to.equal(ChannelMode.None);
      const tx = adjudicator.connect(alice).deposit(ethParams, 0, ONE_ETH, { value: ONE_ETH });
      await expect(tx).to.emit(adjudicator, "Deposited").withArgs(id, 0, ONE_ETH, ONE_ETH);
      await expect(tx).to.changeEtherBalances([alice, adjudicatorAddress], [-ONE_ETH, ONE_ETH]);
      const [mode, version, deadline, deposits] = await adjudicator.channel(id);
      expect(mode).to.equal(ChannelMode.Open);
      expect(version).to.equal(0n);
      expect(deadline).to.equal(0n);
      expect(deposits).to.deep.equal([ONE_ETH, 0n]);
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

    it("lets anyone deposit for either participant", async function () {
      const { adjudicator, carol, ethParams, adjudicatorAddress } = await loadFixture(fixture);
      const id = idOf(ethParams);
      const tx = adjudicator.connect(carol).deposit(ethParams, 1, 7n, { value: 7n });
      await expect(tx).to.emit(adjudicator, "Deposited").withArgs(id, 1, 7n, 7n);
      await expect(tx).to.changeEtherBalances([carol, adjudicatorAddress], [-7n, 7n]);
      await adjudicator.connect(carol).deposit(ethParams, 0, 2n, { value: 2n });
      expect((await adjudicator.channel(id)).deposits).to.deep.equal([2n, 7n]);
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
      expect(after.deposits).to.deep.equal([11n, 15n]);
      await expectConserved(adjudicator, ETH, [ethParams], []);
    });

    it("keeps channels with different params apart", async function () {
      const { adjudicator, alice, participants, ethParams } = await loadFixture(fixture);
      const other = makeParams(participants, ETH, ethParams.nonce + 1n);
      await adjudicator.connect(alice).deposit(ethParams, 0, 4n, { value: 4n });
      await adjudicator.connect(alice).deposit(other, 0, 9n, { value: 9n });
      expect((await adjudicator.channel(idOf(ethParams))).deposits).to.deep.equal([4n, 0n]);
      expect((await adjudicator.channel(idOf(other))).deposits).to.deep.equal([9n, 0n]);
      await expectConserved(adjudicator, ETH, [ethParams, other], []);
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
      const [mode, , , deposits] = await adjudicator.channel(id);
      expect(mode).to.equal(ChannelMode.Open);
      expect(deposits).to.deep.equal([1_000n, 300n]);
      await expectConserved(adjudicator, tokenAddress, [tokenParams], []);
    });

    it("pulls from the caller when a third party deposits for a participant", async function () {
      const { adjudicator, token, carol, alice, tokenParams, adjudicatorAddress } = await loadFixture(fixture);
      await expect(adjudicator.connect(carol).deposit(tokenParams, 0, 77n)).to.changeTokenBalances(
        token,
        [carol, alice, adjudicatorAddress],
        [-77n, 0n, 77n],
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
  });

  describe("reverts", function () {
    const concludedRow = async (ctx: Ctx): Promise<ChannelParams> => {
      const { adjudicator, alice, bob, ethParams } = ctx;
      await fund(adjudicator, ethParams, [alice, bob], [5n, 5n]);
      const final = makeState(ethParams, 1n, [0n, 0n], true);
      await adjudicator.close(ethParams, final, await signed(adjudicator, [alice, bob], final));
      return ethParams;
    };

    const rows: RevertRow<Ctx>[] = [
      {
        description: "participant 0 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([ZERO_ADDRESS, c.participants[1]]), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [ZERO_ADDRESS, c.participants[1]],
      },
      {
        description: "participant 1 is the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([c.participants[0], ZERO_ADDRESS]), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [c.participants[0], ZERO_ADDRESS],
      },
      {
        description: "both participants are the zero address",
        call: (c) => c.adjudicator.deposit(makeParams([ZERO_ADDRESS, ZERO_ADDRESS]), 1, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: () => [ZERO_ADDRESS, ZERO_ADDRESS],
      },
      {
        description: "the participants are the same address",
        call: (c) => c.adjudicator.deposit(makeParams([c.participants[0], c.participants[0]]), 0, 1n, { value: 1n }),
        error: "ChannelParticipantsInvalid",
        args: (c) => [c.participants[0], c.participants[0]],
      },
      {
        description: "challenge period 0",
        call: (c) => c.adjudicator.deposit(makeParams(c.participants, ETH, 1n, 0n), 0, 1n, { value: 1n }),
        error: "ChannelChallengePeriodInvalid",
        args: () => [0n],
      },
      {
        description: "challenge period MAX_CHALLENGE_PERIOD + 1",
        call: (c) => c.adjudicator.deposit(makeParams(c.participants, ETH, 1n, c.maxPeriod + 1n), 0, 1n, { value: 1n }),
        error: "ChannelChallengePeriodInvalid",
        args: (c) => [c.maxPeriod + 1n],
      },
      {
        description: "challenge period 2^64 - 1",
        call: (c) => c.adjudicator.deposit(makeParams(c.participants, ETH, 1n, 2n ** 64n - 1n), 0, 1n, { value: 1n }),
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
        description: "a concluded (closed) channel",
        call: async (c) => c.adjudicator.deposit(await concludedRow(c), 0, 1n, { value: 1n }),
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a concluded (settled) channel",
        call: async (c) => {
          await fund(c.adjudicator, c.tokenParams, c.both, [5n, 5n]);
          await c.adjudicator.connect(c.alice).challenge(c.tokenParams, opening(c.tokenParams), UNSIGNED);
          await time.increase(PERIOD);
          await c.adjudicator.settle(c.tokenParams);
          return c.adjudicator.deposit(c.tokenParams, 1, 1n);
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.tokenParams)],
      },
    ];

    for (const row of rows) {
      it(`rejects ${row.description} (${row.error})`, async function () {
        const ctx = await loadFixture(fixture);
        await expectRevertRow(ctx.adjudicator, row, ctx);
      });
    }

    it("rejected deposits leave no trace", async function () {
      const { adjudicator, alice, ethParams, adjudicatorAddress } = await loadFixture(fixture);
      await expect(adjudicator.connect(alice).deposit(ethParams, 0, 10n, { value: 9n })).to.be.revertedWithCustomError(
        adjudicator,
        "DepositValueMismatch",
      );
      expect((await adjudicator.channel(idOf(ethParams))).mode).to.equal(ChannelMode.None);
      expect(await ethers.provider.getBalance(adjudicatorAddress)).to.equal(0n);
    });
  });
});
