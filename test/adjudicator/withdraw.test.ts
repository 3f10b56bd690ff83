import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, type Address } from "../../src/types";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  deployBase,
  expectConserved,
  expectedSplit,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  opening,
  signed,
  type RevertRow,
} from "../helpers/fixture";

const ZERO_ADDRESS = ethers.ZeroAddress as Address;

const DEPOSITS: [bigint, bigint] = [600n, 400n];
const TRANSFERRED: [bigint, bigint] = [100n, 0n];
const [PAY0, PAY1] = expectedSplit(DEPOSITS, TRANSFERRED).payouts;

async function fixture() {
  const base = await deployBase();
  const { adjudicator, adjudicatorAddress, alice, carol, both, participants } = base;
  const signers = await ethers.getSigners();
  const [payee0, payee1] = [signers[5], signers[6]];
  // ETH: payee 1 is a contract that rejects ETH; the participants sign with their own keys.
  const receiver = await ethers.deployContract("RevertingReceiver", [carol.address]);
  const receiverAddress = await addressOf(receiver);
  // Another address that refuses ETH, as a withdrawTo recipient.
  const refusing = await ethers.deployContract("RevertingReceiver", [carol.address]);
  const refusingAddress = await addressOf(refusing);
  const ethRecvParams = makeParams(participants, ETH, 10n, PERIOD, [payee0.address as Address, receiverAddress]);
  await fund(adjudicator, ethRecvParams, both, DEPOSITS);
  // Token: payee 1 (an EOA apart from participant 1) is blocked by the token.
  const blocking = await ethers.deployContract("BlockingToken");
  const blockingAddress = await addressOf(blocking);
  await blocking.mint(alice.address, 10n ** 24n);
  await blocking.connect(alice).approve(adjudicatorAddress, ethers.MaxUint256);
  const blockingParams = makeParams(participants, blockingAddress, 11n, PERIOD, [payee0.address as Address, payee1.address as Address]);
  await adjudicator.connect(alice).deposit(blockingParams, 0, DEPOSITS[0]);
  await adjudicator.connect(alice).deposit(blockingParams, 1, DEPOSITS[1]);
  await blocking.setBlocked(payee1.address, true);

  const closeEth = async () => {
    const s = makeState(ethRecvParams, 1n, TRANSFERRED, true);
    return adjudicator.close(ethRecvParams, s, await signed(adjudicator, both, s));
  };
  const closeToken = async () => {
    const s = makeState(blockingParams, 1n, TRANSFERRED, true);
    return adjudicator.close(blockingParams, s, await signed(adjudicator, both, s));
  };
  const withdrawCall = (asset: Address) => adjudicator.interface.encodeFunctionData("withdraw", [asset]);
  const withdrawToCall = (asset: Address, to: Address) => adjudicator.interface.encodeFunctionData("withdrawTo", [asset, to]);
  return {
    ...base,
    payee0,
    payee1,
    receiver,
    receiverAddress,
    refusingAddress,
    blocking,
    blockingAddress,
    ethRecvParams,
    blockingParams,
    closeEth,
    closeToken,
    withdrawCall,
    withdrawToCall,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Every owner a credit could go to in these scenarios. */
const owners = (c: Ctx) => [c.alice.address, c.bob.address, c.payee0.address, c.payee1.address, c.receiverAddress];

describe("Adjudicator #withdraw / #withdrawTo / #credits", function () {
  it("credits an ETH payout the payee refuses to the payee (not the participant), and still pays the other payee", async function () {
    const c = await loadFixture(fixture);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    const tx = c.closeEth();
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.receiverAddress, ETH, PAY1);
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.ethRecvParams), 1n, [PAY0, PAY1]);
    await expect(tx).to.changeEtherBalances([c.payee0, c.receiverAddress, c.alice, c.bob, c.adjudicatorAddress], [PAY0, 0n, 0n, 0n, -PAY0]);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1);
    expect(await c.adjudicator.credits(c.bob.address, ETH)).to.equal(0n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], owners(c));
  });

  it("pays a credit once with withdraw, then WithdrawNothing", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    await c.receiver.setRejecting(false);
    const tx = c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH));
    await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.receiverAddress, ETH, c.receiverAddress, PAY1);
    await expect(tx).to.changeEtherBalances([c.receiverAddress, c.adjudicatorAddress], [PAY1, -PAY1]);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH)))
      .to.be.revertedWithCustomError(c.adjudicator, "WithdrawNothing")
      .withArgs(c.receiverAddress, ETH);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], owners(c));
  });

  it("the participant whose payee was credited can't withdraw that credit", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    for (const call of [
      () => c.adjudicator.connect(c.bob).withdraw(ETH),
      () => c.adjudicator.connect(c.bob).withdrawTo(ETH, c.bob.address),
    ]) {
      await expect(call()).to.be.revertedWithCustomError(c.adjudicator, "WithdrawNothing").withArgs(c.bob.address, ETH);
    }
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1);
  });

  it("keeps the credit when the withdrawal transfer fails (WithdrawFailed), and pays it later", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH)))
      .to.be.revertedWithCustomError(c.adjudicator, "WithdrawFailed")
      .withArgs(c.receiverAddress, ETH, c.receiverAddress, PAY1);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1);
    await c.receiver.setRejecting(false);
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH))).to.changeEtherBalance(c.receiverAddress, PAY1);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], owners(c));
  });

  it("withdrawTo sends an ETH credit to another address", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    const tx = c.receiver.execute(c.adjudicatorAddress, c.withdrawToCall(ETH, c.mallory.address as Address));
    await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.receiverAddress, ETH, c.mallory.address, PAY1);
    await expect(tx).to.changeEtherBalances([c.mallory, c.receiverAddress, c.adjudicatorAddress], [PAY1, 0n, -PAY1]);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], owners(c));
  });

  it("a credit from a settle is withdrawable like one from a close", async function () {
    const c = await loadFixture(fixture);
    await c.adjudicator.connect(c.alice).challenge(c.ethRecvParams, opening(c.ethRecvParams), UNSIGNED);
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(c.ethRecvParams, opening(c.ethRecvParams));
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.receiverAddress, ETH, DEPOSITS[1]);
    await expect(tx).to.changeEtherBalances([c.payee0, c.receiverAddress], [DEPOSITS[0], 0n]);
    await c.receiver.setRejecting(false);
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH)))
      .to.emit(c.adjudicator, "Withdrawn")
      .withArgs(c.receiverAddress, ETH, c.receiverAddress, DEPOSITS[1]);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], owners(c));
  });

  describe("token blocked for the payee", function () {
    for (const returnFalse of [false, true]) {
      it(`credits the blocked payee (${returnFalse ? "transfer returns false" : "transfer reverts"}) and pays the other`, async function () {
        const c = await loadFixture(fixture);
        await c.blocking.setReturnFalse(returnFalse);
        const tx = c.closeToken();
        await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.payee1.address, c.blockingAddress, PAY1);
        await expect(tx).to.changeTokenBalances(c.blocking, [c.payee0, c.payee1, c.bob, c.adjudicatorAddress], [PAY0, 0n, 0n, -PAY0]);
        expect(await c.adjudicator.credits(c.payee1.address, c.blockingAddress)).to.equal(PAY1);
        await expect(c.adjudicator.connect(c.payee1).withdraw(c.blockingAddress))
          .to.be.revertedWithCustomError(c.adjudicator, "WithdrawFailed")
          .withArgs(c.payee1.address, c.blockingAddress, c.payee1.address, PAY1);
        expect(await c.adjudicator.credits(c.payee1.address, c.blockingAddress)).to.equal(PAY1);
        await expectConserved(c.adjudicator, c.blockingAddress, [c.blockingParams], owners(c));
      });
    }

    it("lets the blocked payee withdrawTo another address", async function () {
      const c = await loadFixture(fixture);
      await c.closeToken();
      const tx = c.adjudicator.connect(c.payee1).withdrawTo(c.blockingAddress, c.carol.address);
      await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.payee1.address, c.blockingAddress, c.carol.address, PAY1);
      await expect(tx).to.changeTokenBalances(c.blocking, [c.carol, c.payee1, c.adjudicatorAddress], [PAY1, 0n, -PAY1]);
      expect(await c.adjudicator.credits(c.payee1.address, c.blockingAddress)).to.equal(0n);
      await expectConserved(c.adjudicator, c.blockingAddress, [c.blockingParams], owners(c));
    });

    it("lets the payee withdraw once the token unblocks it", async function () {
      const c = await loadFixture(fixture);
      await c.closeToken();
      await c.blocking.setBlocked(c.payee1.address, false);
      const tx = c.adjudicator.connect(c.payee1).withdraw(c.blockingAddress);
      await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.payee1.address, c.blockingAddress, c.payee1.address, PAY1);
      await expect(tx).to.changeTokenBalances(c.blocking, [c.payee1, c.adjudicatorAddress], [PAY1, -PAY1]);
      await expectConserved(c.adjudicator, c.blockingAddress, [c.blockingParams], owners(c));
    });
  });

  it("adds up credits from several channels of the same asset and keeps assets apart", async function () {
    const c = await loadFixture(fixture);
    const second = makeParams(c.participants, ETH, 12n, PERIOD, c.ethRecvParams.payees);
    await c.adjudicator.connect(c.alice).deposit(second, 1, 50n, { value: 50n });
    await c.closeEth();
    const s = makeState(second, 1n, [0n, 0n], true);
    await expect(c.adjudicator.close(second, s, await signed(c.adjudicator, c.both, s)))
      .to.emit(c.adjudicator, "Credited")
      .withArgs(c.receiverAddress, ETH, 50n);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1 + 50n);
    expect(await c.adjudicator.credits(c.receiverAddress, c.blockingAddress)).to.equal(0n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams, second], owners(c));
    await c.receiver.setRejecting(false);
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH))).to.changeEtherBalance(c.receiverAddress, PAY1 + 50n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams, second], owners(c));
  });

  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      {
        description: "withdraw with no credit at all",
        call: (c) => c.adjudicator.connect(c.alice).withdraw(ETH),
        error: "WithdrawNothing",
        args: (c) => [c.alice.address, ETH],
      },
      {
        description: "withdrawTo with no credit at all",
        call: (c) => c.adjudicator.connect(c.alice).withdrawTo(c.tokenAddress, c.carol.address),
        error: "WithdrawNothing",
        args: (c) => [c.alice.address, c.tokenAddress],
      },
      {
        description: "withdraw of an asset the owner has no credit in",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.payee1).withdraw(ETH);
        },
        error: "WithdrawNothing",
        args: (c) => [c.payee1.address, ETH],
      },
      {
        description: "withdraw of someone else's credit",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.carol).withdraw(c.blockingAddress);
        },
        error: "WithdrawNothing",
        args: (c) => [c.carol.address, c.blockingAddress],
      },
      {
        description: "withdraw by the participant whose payee holds the credit",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.bob).withdraw(c.blockingAddress);
        },
        error: "WithdrawNothing",
        args: (c) => [c.bob.address, c.blockingAddress],
      },
      {
        description: "withdrawTo naming the owner as recipient, by someone else",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.mallory).withdrawTo(c.blockingAddress, c.payee1.address);
        },
        error: "WithdrawNothing",
        args: (c) => [c.mallory.address, c.blockingAddress],
      },
      {
        description: "a second withdraw of a paid credit",
        call: async (c) => {
          await c.closeToken();
          await c.adjudicator.connect(c.payee1).withdrawTo(c.blockingAddress, c.carol.address);
          return c.adjudicator.connect(c.payee1).withdrawTo(c.blockingAddress, c.carol.address);
        },
        error: "WithdrawNothing",
        args: (c) => [c.payee1.address, c.blockingAddress],
      },
      {
        description: "withdraw of ETH to a payee that still refuses it",
        call: async (c) => {
          await c.closeEth();
          return c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH));
        },
        error: "WithdrawFailed",
        args: (c) => [c.receiverAddress, ETH, c.receiverAddress, PAY1],
      },
      {
        description: "withdrawTo an address that refuses ETH",
        call: async (c) => {
          await c.closeEth();
          await c.receiver.setRejecting(false);
          return c.receiver.execute(c.adjudicatorAddress, c.withdrawToCall(ETH, c.refusingAddress));
        },
        error: "WithdrawFailed",
        args: (c) => [c.receiverAddress, ETH, c.refusingAddress, PAY1],
      },
      {
        description: "withdraw of a token credit the token still blocks (transfer reverts)",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.payee1).withdraw(c.blockingAddress);
        },
        error: "WithdrawFailed",
        args: (c) => [c.payee1.address, c.blockingAddress, c.payee1.address, PAY1],
      },
      {
        description: "withdraw of a token credit the token still blocks (transfer returns false)",
        call: async (c) => {
          await c.blocking.setReturnFalse(true);
          await c.closeToken();
          return c.adjudicator.connect(c.payee1).withdraw(c.blockingAddress);
        },
        error: "WithdrawFailed",
        args: (c) => [c.payee1.address, c.blockingAddress, c.payee1.address, PAY1],
      },
      {
        description: "withdrawTo a blocked address",
        call: async (c) => {
          await c.closeToken();
          await c.blocking.setBlocked(c.mallory.address, true);
          return c.adjudicator.connect(c.payee1).withdrawTo(c.blockingAddress, c.mallory.address);
        },
        error: "WithdrawFailed",
        args: (c) => [c.payee1.address, c.blockingAddress, c.mallory.address, PAY1],
      },
      {
        description: "withdrawTo the zero address, where an ETH credit would burn",
        call: async (c) => {
          await c.closeEth();
          await c.receiver.setRejecting(false);
          return c.receiver.execute(c.adjudicatorAddress, c.withdrawToCall(ETH, ZERO_ADDRESS));
        },
        error: "WithdrawRecipientInvalid",
        args: () => [ZERO_ADDRESS],
      },
      {
        description: "withdrawTo the adjudicator itself, where a credit would be owed to no one",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.payee1).withdrawTo(c.blockingAddress, c.adjudicatorAddress);
        },
        error: "WithdrawRecipientInvalid",
        args: (c) => [c.adjudicatorAddress],
      },
    ];

    itRejectsRows(fixture, rows, {
      check: async (ctx) => {
        // A refused withdrawal keeps every credit where it was.
        await expectConserved(ctx.adjudicator, ETH, [ctx.ethRecvParams], owners(ctx));
        await expectConserved(ctx.adjudicator, ctx.blockingAddress, [ctx.blockingParams], owners(ctx));
      },
    });
  });
});
