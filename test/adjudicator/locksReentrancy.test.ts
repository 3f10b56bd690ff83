/**
 * Re-entrancy through the v2 payouts: a payee contract whose receive hook calls back into the
 * adjudicator (resolveLock, partialWithdraw, settle, close, withdraw, deposit) while it is being
 * paid, and a token that calls back from its `transfer` while a lock is paid out. Every call back
 * into a function that moves money is refused (ReentrancyGuardReentrantCall); the payout itself
 * goes through once, and the money still adds up.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { ContractTransactionResponse } from "ethers";
import type { ReentrantPayee } from "../../typechain-types";
import { ChannelMode, ETH, type Address } from "../../src/types";
import { signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  addressOf,
  deployBase,
  expectConserved,
  expectedSplit,
  fund,
  idOf,
  makeParams,
  makeState,
  makeWithdrawal,
  now,
  signed,
  type ChannelParams,
  type Sigs,
} from "../helpers/fixture";
import { leafOf, secretOf, threeLockChannel, type ChannelLock, type ThreeLockChannel } from "../helpers/locks";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];
const TRANSFERRED: [bigint, bigint] = [100n, 0n];

type LockedChannel = ThreeLockChannel;

/** Locks a and b (sender 0, secrets revealed in the fixture) and d (sender 1, never revealed). */
function lockedChannel(params: ChannelParams, expiry: bigint): LockedChannel {
  return threeLockChannel(params, { amounts: [100n, 50n, 70n], secretPrefix: "", version: 3n, transferred: TRANSFERRED, expiry });
}

async function fixture() {
  const base = await deployBase();
  const { adjudicator, adjudicatorAddress, both, participants } = base;
  const signers = await ethers.getSigners();
  const [payee0, payee1, stranger] = [signers[4], signers[5], signers[9]];
  const attacker = await ethers.deployContract("ReentrantPayee");
  const attackerAddress = await addressOf(attacker);
  const hostile = await ethers.deployContract("HostileToken");
  const hostileAddress = await addressOf(hostile);
  for (const s of both) {
    await hostile.mint(s.address, 10n ** 24n);
    await hostile.connect(s).approve(adjudicatorAddress, ethers.MaxUint256);
  }
  // ETH channels pay participant 1's side to the attacker; the hostile token's to EOAs.
  const toAttacker: [Address, Address] = [payee0.address as Address, attackerAddress];
  const toEoas: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const expiry = (await now()) + 3n * PERIOD;
  const lockCh = lockedChannel(makeParams(participants, ETH, 41n, PERIOD, toAttacker), expiry);
  const tokenCh = lockedChannel(makeParams(participants, hostileAddress, 42n, PERIOD, toEoas), expiry);
  const settleCh = lockedChannel(makeParams(participants, ETH, 43n, PERIOD, toAttacker), expiry);
  const wdParams = makeParams(participants, ETH, 44n, PERIOD, toAttacker);
  const closeParams = makeParams(participants, ETH, 45n, PERIOD, toAttacker);
  for (const params of [lockCh.params, tokenCh.params, settleCh.params, wdParams, closeParams]) {
    await fund(adjudicator, params, both, DEPOSITS);
  }
  for (const ch of [lockCh, tokenCh, settleCh]) {
    await adjudicator.challenge(ch.params, ch.state, await signed(adjudicator, both, ch.state));
  }
  await adjudicator.registerSecret(secretOf("a"));
  await adjudicator.registerSecret(secretOf("b"));
  const [, , deadline] = await adjudicator.channel(idOf(settleCh.params));
  await time.increaseTo(deadline);
  // Settled while the attackers are disarmed; settleCh stays registered, its deadline passed.
  await adjudicator.settle(lockCh.params, lockCh.state);
  await adjudicator.settle(tokenCh.params, tokenCh.state);
  const closeState = makeState(closeParams, 8n, TRANSFERRED, true);
  const closeSigs = await signed(adjudicator, both, closeState);
  const guardError = adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
  return {
    ...base,
    payee0,
    payee1,
    stranger,
    attacker,
    attackerAddress,
    hostile,
    hostileAddress,
    lockCh,
    tokenCh,
    settleCh,
    wdParams,
    closeParams,
    closeState,
    closeSigs,
    expiry,
    guardError,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

const ethChannels = (c: Ctx) => [c.lockCh.params, c.settleCh.params, c.wdParams, c.closeParams];

async function expectEthConserved(c: Ctx): Promise<void> {
  await expectConserved(c.adjudicator, ETH, ethChannels(c), [c.payee0.address, c.attackerAddress]);
}

function resolveData(c: Ctx, ch: LockedChannel, lock: ChannelLock): string {
  return c.adjudicator.interface.encodeFunctionData("resolveLock", [ch.params, ch.state, lock, ch.tree.proof(lock)]);
}

function resolve(c: Ctx, ch: LockedChannel, lock: ChannelLock): Promise<ContractTransactionResponse> {
  return c.adjudicator.connect(c.stranger).resolveLock(ch.params, ch.state, lock, ch.tree.proof(lock));
}

async function heldBackOf(c: Ctx, ch: LockedChannel): Promise<[bigint, bigint]> {
  const held = await c.adjudicator.heldBack(idOf(ch.params));
  return [held[0], held[1]];
}

/** The attacker (payee or token) tried exactly `times` call(s) back, the last refused by the guard. */
async function expectRefused(attacker: Pick<ReentrantPayee, "reentries" | "lastError">, guardError: string, times = 1n) {
  expect(await attacker.reentries()).to.equal(times);
  expect(await attacker.lastError()).to.equal(guardError);
}

async function withdrawal(c: Ctx, participant: 0 | 1, total: bigint): Promise<{ w: ReturnType<typeof makeWithdrawal>; sigs: Sigs }> {
  const w = makeWithdrawal(c.wdParams, participant, total, c.expiry);
  return { w, sigs: await signWithdrawalBoth(c.adjudicator, c.both, w) };
}

describe("security: no re-entrancy through lock resolution and withdrawals", function () {
  describe("a payee contract calling back from its receive hook", function () {
    it("re-entering resolveLock for the same lock is refused: the lock pays once", async function () {
      const c = await loadFixture(fixture);
      const { a } = c.lockCh.locks;
      await c.attacker.arm(c.adjudicatorAddress, resolveData(c, c.lockCh, a), 0);
      const tx = resolve(c, c.lockCh, a);
      await expect(tx).to.emit(c.adjudicator, "LockResolved").withArgs(idOf(c.lockCh.params), a.hashlock, leafOf(a), 1, a.amount);
      await expect(tx).to.changeEtherBalances([c.attackerAddress, c.adjudicatorAddress], [a.amount, -a.amount]);
      await expectRefused(c.attacker, c.guardError);
      expect(await heldBackOf(c, c.lockCh)).to.deep.equal([c.lockCh.state.locked[0] - a.amount, c.lockCh.state.locked[1]]);
      await expect(resolve(c, c.lockCh, a))
        .to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved")
        .withArgs(leafOf(a));
      await expectEthConserved(c);
    });

    it("re-entering resolveLock for another lock is refused; that lock resolves later, once", async function () {
      const c = await loadFixture(fixture);
      const { a, b } = c.lockCh.locks;
      await c.attacker.arm(c.adjudicatorAddress, resolveData(c, c.lockCh, b), 0);
      await expect(resolve(c, c.lockCh, a)).to.changeEtherBalance(c.attackerAddress, a.amount);
      await expectRefused(c.attacker, c.guardError);
      expect(await c.adjudicator.lockResolved(leafOf(b))).to.equal(false);
      await c.attacker.arm(c.adjudicatorAddress, "0x", 0);
      await expect(resolve(c, c.lockCh, b)).to.changeEtherBalance(c.attackerAddress, b.amount);
      expect(await heldBackOf(c, c.lockCh)).to.deep.equal([0n, c.lockCh.state.locked[1]]);
      await expectEthConserved(c);
    });

    it("re-entering settle of another channel from a lock payout is refused; that channel settles later", async function () {
      const c = await loadFixture(fixture);
      const settleData = c.adjudicator.interface.encodeFunctionData("settle", [c.settleCh.params, c.settleCh.state]);
      await c.attacker.arm(c.adjudicatorAddress, settleData, 0);
      await resolve(c, c.lockCh, c.lockCh.locks.a);
      await expectRefused(c.attacker, c.guardError);
      const [mode] = await c.adjudicator.channel(idOf(c.settleCh.params));
      expect(mode).to.equal(BigInt(ChannelMode.Challenged));
      await c.attacker.arm(c.adjudicatorAddress, "0x", 0);
      await expect(c.adjudicator.settle(c.settleCh.params, c.settleCh.state)).to.emit(c.adjudicator, "Settled");
      await expectEthConserved(c);
    });

    it("re-entering settle from settle's own payout is refused: the channel settles once", async function () {
      const c = await loadFixture(fixture);
      const ch = c.settleCh;
      await c.attacker.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("settle", [ch.params, ch.state]), 0);
      const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED, [0n, 0n], ch.state.locked);
      const tx = c.adjudicator.settle(ch.params, ch.state);
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(ch.params), ch.state.version, payouts, held);
      await expect(tx).to.changeEtherBalances([c.payee0, c.attackerAddress], payouts);
      expect((await (await tx).wait())!.logs.filter((l) => l.address === c.adjudicatorAddress)).to.have.length(1);
      await expectRefused(c.attacker, c.guardError);
      await expectEthConserved(c);
    });

    it("re-entering close from close's own payout is refused: the channel closes once", async function () {
      const c = await loadFixture(fixture);
      const data = c.adjudicator.interface.encodeFunctionData("close", [c.closeParams, c.closeState, c.closeSigs]);
      await c.attacker.arm(c.adjudicatorAddress, data, 0);
      const { payouts } = expectedSplit(DEPOSITS, TRANSFERRED);
      const tx = c.adjudicator.close(c.closeParams, c.closeState, c.closeSigs);
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.closeParams), c.closeState.version, payouts);
      await expect(tx).to.changeEtherBalances([c.payee0, c.attackerAddress], payouts);
      await expectRefused(c.attacker, c.guardError);
      await expectEthConserved(c);
    });

    it("re-entering partialWithdraw with the same signed withdrawal is refused: it pays once", async function () {
      const c = await loadFixture(fixture);
      const { w, sigs } = await withdrawal(c, 1, 300n);
      await c.attacker.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("partialWithdraw", [c.wdParams, w, sigs]), 0);
      const tx = c.adjudicator.partialWithdraw(c.wdParams, w, sigs);
      await expect(tx).to.changeEtherBalances([c.attackerAddress, c.adjudicatorAddress], [300n, -300n]);
      await expectRefused(c.attacker, c.guardError);
      const [, , , , withdrawn] = await c.adjudicator.channel(idOf(c.wdParams));
      expect([withdrawn[0], withdrawn[1]]).to.deep.equal([0n, 300n]);
      await expectEthConserved(c);
    });

    it("re-entering partialWithdraw with a higher signed total is refused; the higher total later pays only the difference", async function () {
      const c = await loadFixture(fixture);
      const first = await withdrawal(c, 1, 300n);
      const second = await withdrawal(c, 1, 500n);
      const data = c.adjudicator.interface.encodeFunctionData("partialWithdraw", [c.wdParams, second.w, second.sigs]);
      await c.attacker.arm(c.adjudicatorAddress, data, 0);
      await expect(c.adjudicator.partialWithdraw(c.wdParams, first.w, first.sigs)).to.changeEtherBalance(c.attackerAddress, 300n);
      await expectRefused(c.attacker, c.guardError);
      await c.attacker.arm(c.adjudicatorAddress, "0x", 0);
      await expect(c.adjudicator.partialWithdraw(c.wdParams, second.w, second.sigs)).to.changeEtherBalance(c.attackerAddress, 200n);
      await expectEthConserved(c);
    });

    it("re-entering withdraw of its credit from a payout is refused: the credit stays and pays once", async function () {
      const c = await loadFixture(fixture);
      await c.attacker.setRejecting(true);
      const first = await withdrawal(c, 1, 100n);
      await expect(c.adjudicator.partialWithdraw(c.wdParams, first.w, first.sigs))
        .to.emit(c.adjudicator, "Credited")
        .withArgs(c.attackerAddress, ETH, 100n);
      await c.attacker.setRejecting(false);
      await c.attacker.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]), 0);
      const second = await withdrawal(c, 1, 250n);
      await expect(c.adjudicator.partialWithdraw(c.wdParams, second.w, second.sigs)).to.changeEtherBalance(c.attackerAddress, 150n);
      await expectRefused(c.attacker, c.guardError);
      expect(await c.adjudicator.credits(c.attackerAddress, ETH)).to.equal(100n);
      await expectEthConserved(c);
      // withdraw's own transfer has no gas bound; the hook calls withdraw again and is refused too.
      const withdraw = c.attacker.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
      await expect(withdraw).to.emit(c.adjudicator, "Withdrawn").withArgs(c.attackerAddress, ETH, c.attackerAddress, 100n);
      await expect(withdraw).to.changeEtherBalances([c.attackerAddress, c.adjudicatorAddress], [100n, -100n]);
      await expectRefused(c.attacker, c.guardError, 2n);
      expect(await c.adjudicator.credits(c.attackerAddress, ETH)).to.equal(0n);
      await expectEthConserved(c);
    });

    it("a deposit made from a payout hook is only a deposit: the money still adds up", async function () {
      const c = await loadFixture(fixture);
      const data = c.adjudicator.interface.encodeFunctionData("deposit", [c.wdParams, 1, 40n]);
      await c.attacker.arm(c.adjudicatorAddress, data, 40);
      const { w, sigs } = await withdrawal(c, 1, 300n);
      await expect(c.adjudicator.partialWithdraw(c.wdParams, w, sigs)).to.changeEtherBalances(
        [c.attackerAddress, c.adjudicatorAddress],
        [300n - 40n, -(300n - 40n)],
      );
      expect(await c.attacker.reentries()).to.equal(1n);
      expect(await c.attacker.lastError()).to.equal("0x00000000");
      const [, , , deposits, withdrawn] = await c.adjudicator.channel(idOf(c.wdParams));
      expect([deposits[1], withdrawn[1]]).to.deep.equal([DEPOSITS[1] + 40n, 300n]);
      await expectEthConserved(c);
    });
  });

  describe("a hostile token calling back from transfer while a lock is paid out", function () {
    it("re-entering resolveLock for the same lock is refused: the lock pays once", async function () {
      const c = await loadFixture(fixture);
      const { a } = c.tokenCh.locks;
      await c.hostile.arm(c.adjudicatorAddress, resolveData(c, c.tokenCh, a), 0);
      const tx = resolve(c, c.tokenCh, a);
      await expect(tx).to.emit(c.adjudicator, "LockResolved").withArgs(idOf(c.tokenCh.params), a.hashlock, leafOf(a), 1, a.amount);
      await expect(tx).to.changeTokenBalances(c.hostile, [c.payee1, c.adjudicatorAddress], [a.amount, -a.amount]);
      await expect(tx).to.not.emit(c.adjudicator, "Credited");
      await expectRefused(c.hostile, c.guardError);
      await c.hostile.arm(c.adjudicatorAddress, "0x", 0);
      await expect(resolve(c, c.tokenCh, a))
        .to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved")
        .withArgs(leafOf(a));
      await expectConserved(c.adjudicator, c.hostileAddress, [c.tokenCh.params], [c.payee0.address, c.payee1.address]);
    });

    it("re-entering resolveLock for another lock is refused; that lock resolves later", async function () {
      const c = await loadFixture(fixture);
      const { a, b } = c.tokenCh.locks;
      await c.hostile.arm(c.adjudicatorAddress, resolveData(c, c.tokenCh, b), 0);
      await resolve(c, c.tokenCh, a);
      await expectRefused(c.hostile, c.guardError);
      expect(await heldBackOf(c, c.tokenCh)).to.deep.equal([b.amount, c.tokenCh.state.locked[1]]);
      await c.hostile.arm(c.adjudicatorAddress, "0x", 0);
      await expect(resolve(c, c.tokenCh, b)).to.changeTokenBalance(c.hostile, c.payee1, b.amount);
      await expectConserved(c.adjudicator, c.hostileAddress, [c.tokenCh.params], [c.payee0.address, c.payee1.address]);
    });
  });

  describe("a payee of a lock that refuses ETH", function () {
    it("is credited, blocks no other lock, and withdraws its credit later", async function () {
      const c = await loadFixture(fixture);
      const { a, d } = c.lockCh.locks;
      await c.attacker.setRejecting(true);
      const tx = resolve(c, c.lockCh, a);
      await expect(tx).to.emit(c.adjudicator, "LockResolved").withArgs(idOf(c.lockCh.params), a.hashlock, leafOf(a), 1, a.amount);
      await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.attackerAddress, ETH, a.amount);
      await expect(tx).to.changeEtherBalances([c.attackerAddress, c.adjudicatorAddress], [0n, 0n]);
      expect(await c.adjudicator.credits(c.attackerAddress, ETH)).to.equal(a.amount);
      await expectEthConserved(c);
      // Lock d (sender 1, never revealed) goes back to the refusing payee after expiry: credited too.
      await time.increaseTo(d.expiry + 1n);
      await expect(resolve(c, c.lockCh, d))
        .to.emit(c.adjudicator, "Credited")
        .withArgs(c.attackerAddress, ETH, d.amount);
      await c.attacker.setRejecting(false);
      const withdraw = c.attacker.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
      await expect(withdraw)
        .to.emit(c.adjudicator, "Withdrawn")
        .withArgs(c.attackerAddress, ETH, c.attackerAddress, a.amount + d.amount);
      await expect(withdraw).to.changeEtherBalance(c.attackerAddress, a.amount + d.amount);
      expect(await heldBackOf(c, c.lockCh)).to.deep.equal([c.lockCh.state.locked[0] - a.amount, 0n]);
      await expectEthConserved(c);
    });
  });
});
