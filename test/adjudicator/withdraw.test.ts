import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ETH, type Address } from "../../src/types";
import { signState } from "../helpers/channel";
import {
  addressOf,
  deployBase,
  expectConserved,
  expectRevertRow,
  expectedPayouts,
  idOf,
  makeParams,
  makeState,
  signed,
  type RevertRow,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [600n, 400n];
const TRANSFERRED: [bigint, bigint] = [100n, 0n];
const [PAY0, PAY1] = expectedPayouts(DEPOSITS, TRANSFERRED);

async function fixture() {
  const base = await deployBase();
  const { adjudicator, adjudicatorAddress, alice, bob, carol } = base;
  // ETH: participant 1 is a contract that rejects ETH (it signs through carol's key, ERC-1271).
  const receiver = await ethers.deployContract("RevertingReceiver", [carol.address]);
  const receiverAddress = await addressOf(receiver);
  const ethParams = makeParams([alice.address as Address, receiverAddress], ETH, 10n);
  await adjudicator.connect(alice).deposit(ethParams, 0, DEPOSITS[0], { value: DEPOSITS[0] });
  await adjudicator.connect(alice).deposit(ethParams, 1, DEPOSITS[1], { value: DEPOSITS[1] });
  // Token: bob (participant 1) is blocked by the token.
  const blocking = await ethers.deployContract("BlockingToken");
  const blockingAddress = await addressOf(blocking);
  await blocking.mint(alice.address, 10n ** 24n);
  await blocking.connect(alice).approve(adjudicatorAddress, ethers.MaxUint256);
  const tokenParams = makeParams(base.participants, blockingAddress, 11n);
  await adjudicator.connect(alice).deposit(tokenParams, 0, DEPOSITS[0]);
  await adjudicator.connect(alice).deposit(tokenParams, 1, DEPOSITS[1]);
  await blocking.setBlocked(bob.address, true);

  const closeEth = async () => {
    const s = makeState(ethParams, 1n, TRANSFERRED, true);
    return adjudicator.close(ethParams, s, [await signState(adjudicator, alice, s), await signState(adjudicator, carol, s)]);
  };
  const closeToken = async () => {
    const s = makeState(tokenParams, 1n, TRANSFERRED, true);
    return adjudicator.close(tokenParams, s, await signed(adjudicator, [alice, bob], s));
  };
  const withdrawCall = (asset: Address) => adjudicator.interface.encodeFunctionData("withdraw", [asset]);
  const withdrawToCall = (asset: Address, to: Address) => adjudicator.interface.encodeFunctionData("withdrawTo", [asset, to]);
  return {
    ...base,
    receiver,
    receiverAddress,
    blocking,
    blockingAddress,
    ethRecvParams: ethParams,
    blockingParams: tokenParams,
    closeEth,
    closeToken,
    withdrawCall,
    withdrawToCall,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

describe("Adjudicator #withdraw / #withdrawTo / #credits", function () {
  it("credits an ETH payout the receiver refuses, and still pays the other side", async function () {
    const c = await loadFixture(fixture);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    const tx = c.closeEth();
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.receiverAddress, ETH, PAY1);
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.ethRecvParams), 1n, [PAY0, PAY1]);
    await expect(tx).to.changeEtherBalances([c.alice, c.receiverAddress, c.adjudicatorAddress], [PAY0, 0n, -PAY0]);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], [c.alice.address, c.receiverAddress]);
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
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], [c.alice.address, c.receiverAddress]);
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
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams], [c.receiverAddress]);
  });

  it("withdrawTo sends an ETH credit to another address", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    const tx = c.receiver.execute(c.adjudicatorAddress, c.withdrawToCall(ETH, c.mallory.address as Address));
    await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.receiverAddress, ETH, c.mallory.address, PAY1);
    await expect(tx).to.changeEtherBalances([c.mallory, c.receiverAddress, c.adjudicatorAddress], [PAY1, 0n, -PAY1]);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
  });

  it("withdrawTo a refusing address fails with WithdrawFailed and keeps the credit", async function () {
    const c = await loadFixture(fixture);
    await c.closeEth();
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawToCall(ETH, c.receiverAddress)))
      .to.be.revertedWithCustomError(c.adjudicator, "WithdrawFailed")
      .withArgs(c.receiverAddress, ETH, c.receiverAddress, PAY1);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1);
  });

  describe("token blocked for its owner", function () {
    for (const returnFalse of [false, true]) {
      it(`credits the blocked side (${returnFalse ? "transfer returns false" : "transfer reverts"}) and pays the other`, async function () {
        const c = await loadFixture(fixture);
        await c.blocking.setReturnFalse(returnFalse);
        const tx = c.closeToken();
        await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.bob.address, c.blockingAddress, PAY1);
        await expect(tx).to.changeTokenBalances(c.blocking, [c.alice, c.bob, c.adjudicatorAddress], [PAY0, 0n, -PAY0]);
        expect(await c.adjudicator.credits(c.bob.address, c.blockingAddress)).to.equal(PAY1);
        await expect(c.adjudicator.connect(c.bob).withdraw(c.blockingAddress))
          .to.be.revertedWithCustomError(c.adjudicator, "WithdrawFailed")
          .withArgs(c.bob.address, c.blockingAddress, c.bob.address, PAY1);
        expect(await c.adjudicator.credits(c.bob.address, c.blockingAddress)).to.equal(PAY1);
        await expectConserved(c.adjudicator, c.blockingAddress, [c.blockingParams], [c.alice.address, c.bob.address]);
      });
    }

    it("lets the blocked owner withdrawTo another address", async function () {
      const c = await loadFixture(fixture);
      await c.closeToken();
      const tx = c.adjudicator.connect(c.bob).withdrawTo(c.blockingAddress, c.carol.address);
      await expect(tx).to.emit(c.adjudicator, "Withdrawn").withArgs(c.bob.address, c.blockingAddress, c.carol.address, PAY1);
      await expect(tx).to.changeTokenBalances(c.blocking, [c.carol, c.bob, c.adjudicatorAddress], [PAY1, 0n, -PAY1]);
      expect(await c.adjudicator.credits(c.bob.address, c.blockingAddress)).to.equal(0n);
      await expectConserved(c.adjudicator, c.blockingAddress, [c.blockingParams], [c.alice.address, c.bob.address]);
    });

    it("lets the owner withdraw once the token unblocks it", async function () {
      const c = await loadFixture(fixture);
      await c.closeToken();
      await c.blocking.setBlocked(c.bob.address, false);
      await expect(c.adjudicator.connect(c.bob).withdraw(c.blockingAddress)).to.changeTokenBalances(
        c.blocking,
        [c.bob, c.adjudicatorAddress],
        [PAY1, -PAY1],
      );
    });
  });

  it("adds up credits from several channels of the same asset", async function () {
    const c = await loadFixture(fixture);
    const second = makeParams(c.ethRecvParams.participants, ETH, 12n);
    await c.adjudicator.connect(c.alice).deposit(second, 1, 50n, { value: 50n });
    await c.closeEth();
    const s = makeState(second, 1n, [0n, 0n], true);
    await expect(
      c.adjudicator.close(second, s, [await signState(c.adjudicator, c.alice, s), await signState(c.adjudicator, c.carol, s)]),
    )
      .to.emit(c.adjudicator, "Credited")
      .withArgs(c.receiverAddress, ETH, 50n);
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(PAY1 + 50n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams, second], [c.alice.address, c.receiverAddress]);
    await c.receiver.setRejecting(false);
    await expect(c.receiver.execute(c.adjudicatorAddress, c.withdrawCall(ETH))).to.changeEtherBalance(c.receiverAddress, PAY1 + 50n);
    await expectConserved(c.adjudicator, ETH, [c.ethRecvParams, second], [c.alice.address, c.receiverAddress]);
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
          return c.adjudicator.connect(c.bob).withdraw(ETH);
        },
        error: "WithdrawNothing",
        args: (c) => [c.bob.address, ETH],
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
        description: "withdrawTo naming the owner as recipient, by someone else",
        call: async (c) => {
          await c.closeToken();
          return c.adjudicator.connect(c.mallory).withdrawTo(c.blockingAddress, c.mallory.address);
        },
        error: "WithdrawNothing",
        args: (c) => [c.mallory.address, c.blockingAddress],
      },
    ];

    for (const row of rows) {
      it(`rejects ${row.description} (${row.error})`, async function () {
        const ctx = await loadFixture(fixture);
        await expectRevertRow(ctx.adjudicator, row, ctx);
      });
    }
  });
});
