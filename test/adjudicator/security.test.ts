/**
 * The security properties of DESIGN.md, one named test each, every one asserted end to end on a
 * small scenario. The detailed tables live beside each function's tests (signatures.test.ts,
 * partialWithdraw.test.ts, resolveLock.test.ts, locksReentrancy.test.ts, withdraw.test.ts,
 * safe.test.ts); these tests are the properties' compact, whole-channel statement.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { TypedDataDomain } from "ethers";
import { STATE_TYPES, WITHDRAWAL_TYPES, stateValue, withdrawalValue } from "../../src/typedData";
import { ETH, type Address, type Hex } from "../../src/types";
import { signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  deployBase,
  domainOf,
  expectConserved,
  expectRevertRow,
  expectedSplit,
  fund,
  idOf,
  makeParams,
  makeState,
  makeWithdrawal,
  malleate,
  now,
  signed,
  type ChannelParams,
  type ChannelState,
  type ChannelWithdrawal,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";
import { leafOf, secretOf, threeLockChannel, type ChannelLock, type ThreeLockChannel } from "../helpers/locks";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];
const TRANSFERRED: [bigint, bigint] = [200n, 50n];

type Locked = ThreeLockChannel;

/** A state (version 2) with locks a (sender 0, 100), b (sender 0, 30) and d (sender 1, 60). */
function locked(params: ChannelParams, expiry: bigint): Locked {
  return threeLockChannel(params, { amounts: [100n, 30n, 60n], secretPrefix: "sec-", version: 2n, transferred: TRANSFERRED, expiry });
}

async function fixture() {
  const base = await deployBase();
  const { adjudicator, both, participants } = base;
  const signers = await ethers.getSigners();
  const [payee0, payee1, stranger] = [signers[4], signers[5], signers[9]];
  const attacker = await ethers.deployContract("ReentrantPayee");
  const refusing = await ethers.deployContract("ReentrantPayee");
  await refusing.setRejecting(true);
  const [attackerAddress, refusingAddress] = [await addressOf(attacker), await addressOf(refusing)];
  const second = await ethers.deployContract("Adjudicator");
  const expiry = (await now()) + 3n * PERIOD;
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const main = locked(makeParams(participants, ETH, 61n, PERIOD, payees), expiry);
  const other = locked(makeParams(participants, ETH, 62n, PERIOD, payees), expiry);
  const hostile = locked(makeParams(participants, ETH, 63n, PERIOD, [payees[0], attackerAddress]), expiry);
  const failing = locked(makeParams(participants, ETH, 64n, PERIOD, [payees[0], refusingAddress]), expiry);
  for (const ch of [main, other, hostile, failing]) await fund(adjudicator, ch.params, both, DEPOSITS);
  return {
    ...base,
    payee0,
    payee1,
    stranger,
    attacker,
    attackerAddress,
    refusing,
    refusingAddress,
    second,
    expiry,
    main,
    other,
    hostile,
    failing,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

async function conserved(c: Ctx): Promise<void> {
  await expectConserved(
    c.adjudicator,
    ETH,
    [c.main, c.other, c.hostile, c.failing].map((ch) => ch.params),
    [c.payee0.address, c.payee1.address, c.attackerAddress, c.refusingAddress],
  );
}

async function registerAndSettle(c: Ctx, ch: Locked): Promise<void> {
  await c.adjudicator.challenge(ch.params, ch.state, await signed(c.adjudicator, c.both, ch.state));
  const [, , deadline] = await c.adjudicator.channel(idOf(ch.params));
  await time.increaseTo(deadline);
  await c.adjudicator.connect(c.stranger).settle(ch.params, ch.state);
}

function resolve(c: Ctx, ch: Locked, lock: ChannelLock) {
  return c.adjudicator.connect(c.stranger).resolveLock(ch.params, ch.state, lock, ch.tree.proof(lock));
}

async function withdrawal(
  c: Ctx,
  ch: Locked,
  participant: 0 | 1,
  total: bigint,
  expiry: bigint = c.expiry,
): Promise<{ w: ChannelWithdrawal; sigs: Sigs }> {
  const w = makeWithdrawal(ch.params, participant, total, expiry);
  return { w, sigs: await signWithdrawalBoth(c.adjudicator, c.both, w) };
}

async function signBothIn(c: Ctx, change: TypedDataDomain, what: { state?: ChannelState; w?: ChannelWithdrawal }): Promise<Sigs> {
  const domain = { ...(await domainOf(c.adjudicator)), ...change };
  const sign = (s: typeof c.alice) =>
    what.state
      ? s.signTypedData(domain, STATE_TYPES, stateValue(what.state))
      : s.signTypedData(domain, WITHDRAWAL_TYPES, withdrawalValue(what.w!));
  return [(await sign(c.alice)) as Hex, (await sign(c.bob)) as Hex];
}

describe("security properties (DESIGN.md)", function () {
  it('"Money is conserved: what a channel pays out, credits and still holds back for locks always adds up to what was deposited minus what was withdrawn"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.failing; // participant 1's payee refuses ETH: its payouts become credits
    const id = idOf(ch.params);
    await conserved(c);
    const withdrawn: [bigint, bigint] = [120n, 80n];
    for (const i of [0, 1] as const) {
      const { w, sigs } = await withdrawal(c, ch, i, withdrawn[i]);
      await c.adjudicator.partialWithdraw(ch.params, w, sigs);
      await conserved(c);
    }
    await c.adjudicator.registerSecret(secretOf("sec-a"));
    await c.adjudicator.challenge(ch.params, ch.state, await signed(c.adjudicator, c.both, ch.state));
    await time.increaseTo((await c.adjudicator.channel(id))[2]);
    const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED, withdrawn, ch.state.locked);
    expect(payouts[0] + payouts[1] + held[0] + held[1]).to.equal(DEPOSITS[0] + DEPOSITS[1] - withdrawn[0] - withdrawn[1]);
    await expect(c.adjudicator.settle(ch.params, ch.state)).to.emit(c.adjudicator, "Settled").withArgs(id, 2n, payouts, held);
    await conserved(c);
    await resolve(c, ch, ch.locks.a);
    await conserved(c);
    await time.increaseTo(c.expiry + 1n);
    for (const lock of [ch.locks.b, ch.locks.d]) {
      await resolve(c, ch, lock);
      await conserved(c);
    }
    // Everything the channel took in went out, is credited, or is still held back: here nothing is held.
    expect(await c.adjudicator.heldBack(id)).to.deep.equal([0n, 0n]);
    expect(await c.adjudicator.credits(c.refusingAddress, ETH)).to.equal(withdrawn[1] + payouts[1] + ch.locks.a.amount + ch.locks.d.amount);
  });

  it('"nothing is ever paid twice (no lock twice, no withdrawal replayed)"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.main;
    const { w, sigs } = await withdrawal(c, ch, 0, 150n, c.expiry + 365n * 86_400n);
    await expect(c.adjudicator.partialWithdraw(ch.params, w, sigs)).to.changeEtherBalance(c.payee0, 150n);
    const replay = c.adjudicator.connect(c.stranger).partialWithdraw(ch.params, w, sigs);
    await expect(replay).to.not.emit(c.adjudicator, "PartiallyWithdrawn");
    await expect(replay).to.changeEtherBalances([c.payee0, c.payee1, c.adjudicatorAddress], [0n, 0n, 0n]);
    await c.adjudicator.registerSecret(secretOf("sec-a"));
    await registerAndSettle(c, ch);
    await expect(resolve(c, ch, ch.locks.a)).to.changeEtherBalance(c.payee1, ch.locks.a.amount);
    await expect(resolve(c, ch, ch.locks.a))
      .to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved")
      .withArgs(leafOf(ch.locks.a));
    await time.increaseTo(c.expiry + 1n);
    await expect(resolve(c, ch, ch.locks.b)).to.changeEtherBalance(c.payee0, ch.locks.b.amount);
    await expect(resolve(c, ch, ch.locks.a))
      .to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved")
      .withArgs(leafOf(ch.locks.a));
    await expect(resolve(c, ch, ch.locks.b))
      .to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld")
      .withArgs(leafOf(ch.locks.b));
    await expect(resolve(c, ch, ch.locks.d)).to.changeEtherBalance(c.payee1, ch.locks.d.amount);
    await expect(resolve(c, ch, ch.locks.d))
      .to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld")
      .withArgs(leafOf(ch.locks.d));
    await expect(c.adjudicator.settle(ch.params, ch.state)).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded");
    await expect(c.adjudicator.partialWithdraw(ch.params, w, sigs)).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded");
    await conserved(c);
  });

  it('"A state or withdrawal not signed by both participants\' keys, signed for another channel, chain or contract, expired, or with a high-s signature, is rejected"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.main;
    const state = makeState(ch.params, 4n, TRANSFERRED, true);
    const stateSigs = await signed(c.adjudicator, c.both, state);
    const { w, sigs: wSigs } = await withdrawal(c, ch, 1, 100n);
    const secondAddress = await addressOf(c.second);
    const otherState = { ...state, channelId: idOf(c.other.params) };
    const otherW = { ...w, channelId: idOf(c.other.params) };
    const cases: { description: string; stateSigs: () => Promise<Sigs> | Sigs; wSigs: () => Promise<Sigs> | Sigs; index: number }[] = [
      { description: "unsigned", stateSigs: () => UNSIGNED, wSigs: () => UNSIGNED, index: 0 },
      { description: "signed by participant 0 only", stateSigs: () => [stateSigs[0], "0x"], wSigs: () => [wSigs[0], "0x"], index: 1 },
      {
        description: "signed by a payee instead of a participant",
        stateSigs: async () => [
          stateSigs[0],
          (await c.payee1.signTypedData(await domainOf(c.adjudicator), STATE_TYPES, stateValue(state))) as Hex,
        ],
        wSigs: async () => [
          wSigs[0],
          (await c.payee1.signTypedData(await domainOf(c.adjudicator), WITHDRAWAL_TYPES, withdrawalValue(w))) as Hex,
        ],
        index: 1,
      },
      {
        description: "signed for another channel",
        stateSigs: () => signed(c.adjudicator, c.both, otherState),
        wSigs: () => signWithdrawalBoth(c.adjudicator, c.both, otherW),
        index: 0,
      },
      {
        description: "signed for another chain",
        stateSigs: () => signBothIn(c, { chainId: 5n }, { state }),
        wSigs: () => signBothIn(c, { chainId: 5n }, { w }),
        index: 0,
      },
      {
        description: "signed for another contract",
        stateSigs: () => signBothIn(c, { verifyingContract: secondAddress }, { state }),
        wSigs: () => signBothIn(c, { verifyingContract: secondAddress }, { w }),
        index: 0,
      },
      {
        description: "with a high-s signature",
        stateSigs: () => [stateSigs[0], malleate(stateSigs[1])],
        wSigs: () => [wSigs[0], malleate(wSigs[1])],
        index: 1,
      },
    ];
    for (const k of cases) {
      const rows: RevertRow<Ctx>[] = [
        {
          description: `close ${k.description}`,
          call: async (x) => x.adjudicator.close(ch.params, state, await k.stateSigs()),
          error: "SignatureInvalid",
          args: () => [k.index],
        },
        {
          description: `challenge ${k.description}`,
          call: async (x) => x.adjudicator.challenge(ch.params, state, await k.stateSigs()),
          error: "SignatureInvalid",
          args: () => [k.index],
        },
        {
          description: `withdrawal ${k.description}`,
          call: async (x) => x.adjudicator.partialWithdraw(ch.params, w, await k.wSigs()),
          error: "SignatureInvalid",
          args: () => [k.index],
        },
      ];
      for (const row of rows) await expectRevertRow(c.adjudicator, row, c);
    }
    // A state or withdrawal naming another channel, and an expired withdrawal.
    await expect(c.adjudicator.close(ch.params, otherState, await signed(c.adjudicator, c.both, otherState)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateChannelMismatch")
      .withArgs(idOf(ch.params), idOf(c.other.params));
    await expect(c.adjudicator.partialWithdraw(ch.params, otherW, await signWithdrawalBoth(c.adjudicator, c.both, otherW)))
      .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalChannelMismatch")
      .withArgs(idOf(ch.params), idOf(c.other.params));
    await time.increaseTo(c.expiry + 1n);
    await expect(c.adjudicator.partialWithdraw(ch.params, w, wSigs))
      .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalExpired")
      .withArgs(c.expiry);
    // The same state and signatures are accepted as they are.
    await expect(c.adjudicator.close(ch.params, state, stateSigs)).to.emit(c.adjudicator, "Closed");
    await conserved(c);
  });

  it('"An older state never wins over a newer one submitted before the deadline"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.main;
    const states = [1n, 3n, 4n, 5n].map((v) => makeState(ch.params, v, [v * 50n, v === 1n ? 500n : 0n]));
    const sigs: Sigs[] = [];
    for (const s of states) sigs.push(await signed(c.adjudicator, c.both, s));
    const [older, newer, lastSecond, late] = [0, 1, 2, 3];
    await c.adjudicator.connect(c.payee1).challenge(ch.params, states[older], sigs[older]);
    const [, , deadline] = await c.adjudicator.channel(idOf(ch.params));
    await c.adjudicator.connect(c.payee0).challenge(ch.params, states[newer], sigs[newer]);
    await expect(c.adjudicator.challenge(ch.params, states[older], sigs[older]))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(1n, 3n);
    const olderFinal = makeState(ch.params, 2n, states[older].transferred, true);
    await expect(c.adjudicator.close(ch.params, olderFinal, await signed(c.adjudicator, c.both, olderFinal)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(2n, 3n);
    await expect(c.adjudicator.settle(ch.params, states[older])).to.be.revertedWithCustomError(c.adjudicator, "ChallengePending");
    // A newer state counts up to the last second before the deadline, and the deadline never moves.
    await time.setNextBlockTimestamp(deadline - 1n);
    await c.adjudicator.challenge(ch.params, states[lastSecond], sigs[lastSecond]);
    expect((await c.adjudicator.channel(idOf(ch.params)))[2]).to.equal(deadline);
    await expect(c.adjudicator.challenge(ch.params, states[late], sigs[late]))
      .to.be.revertedWithCustomError(c.adjudicator, "ChallengeExpired")
      .withArgs(deadline);
    await expect(c.adjudicator.settle(ch.params, states[newer])).to.be.revertedWithCustomError(c.adjudicator, "StateUnknown");
    const payouts = expectedSplit(DEPOSITS, states[lastSecond].transferred).payouts;
    const tx = c.adjudicator.settle(ch.params, states[lastSecond]);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(ch.params), 4n, payouts, [0n, 0n]);
    await expect(tx).to.changeEtherBalances([c.payee0, c.payee1], payouts);
    await conserved(c);
  });

  it('"a secret revealed in time always wins its lock, after settlement too"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.main;
    await registerAndSettle(c, ch);
    // Revealed after settlement: d at its expiry exactly, a a minute before.
    await time.setNextBlockTimestamp(c.expiry - 60n);
    await c.adjudicator.registerSecret(secretOf("sec-a"));
    await time.setNextBlockTimestamp(c.expiry);
    await c.adjudicator.registerSecret(secretOf("sec-d"));
    await time.increaseTo(c.expiry + 30n * 86_400n);
    await expect(resolve(c, ch, ch.locks.a))
      .to.emit(c.adjudicator, "LockResolved")
      .withArgs(idOf(ch.params), ch.locks.a.hashlock, leafOf(ch.locks.a), 1, ch.locks.a.amount);
    await expect(resolve(c, ch, ch.locks.d)).to.changeEtherBalances([c.payee0, c.payee1], [ch.locks.d.amount, 0n]);
    await conserved(c);
  });

  it('"Nothing settles before the deadline or twice"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.main;
    await c.adjudicator.challenge(ch.params, ch.state, await signed(c.adjudicator, c.both, ch.state));
    const [, , deadline] = await c.adjudicator.channel(idOf(ch.params));
    await time.setNextBlockTimestamp(deadline - 1n);
    await expect(c.adjudicator.settle(ch.params, ch.state))
      .to.be.revertedWithCustomError(c.adjudicator, "ChallengePending")
      .withArgs(deadline);
    await time.setNextBlockTimestamp(deadline);
    await expect(c.adjudicator.settle(ch.params, ch.state)).to.emit(c.adjudicator, "Settled");
    const final = makeState(ch.params, 9n, TRANSFERRED, true);
    const finalSigs = await signed(c.adjudicator, c.both, final);
    const again: RevertRow<Ctx>[] = [
      {
        description: "settle",
        call: (x) => x.adjudicator.settle(ch.params, ch.state),
        error: "ChannelConcluded",
        args: () => [idOf(ch.params)],
      },
      {
        description: "close",
        call: (x) => x.adjudicator.close(ch.params, final, finalSigs),
        error: "ChannelConcluded",
        args: () => [idOf(ch.params)],
      },
      {
        description: "challenge",
        call: (x) => x.adjudicator.challenge(ch.params, final, finalSigs),
        error: "ChannelConcluded",
        args: () => [idOf(ch.params)],
      },
    ];
    for (const row of again) await expectRevertRow(c.adjudicator, row, c);
    // An unregistered channel settles never.
    await expect(c.adjudicator.settle(c.other.params, c.other.state)).to.be.revertedWithCustomError(c.adjudicator, "ChannelNotChallenged");
    await conserved(c);
  });

  it('"no re-entrancy"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.hostile; // participant 1's payee calls back from its receive hook
    const guard = c.adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
    await c.adjudicator.registerSecret(secretOf("sec-a"));
    await c.adjudicator.challenge(ch.params, ch.state, await signed(c.adjudicator, c.both, ch.state));
    await time.increaseTo((await c.adjudicator.channel(idOf(ch.params)))[2]);
    await c.attacker.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("settle", [ch.params, ch.state]), 0);
    await c.adjudicator.settle(ch.params, ch.state);
    expect([await c.attacker.reentries(), await c.attacker.lastError()]).to.deep.equal([1n, guard]);
    const data = c.adjudicator.interface.encodeFunctionData("resolveLock", [ch.params, ch.state, ch.locks.a, ch.tree.proof(ch.locks.a)]);
    await c.attacker.arm(c.adjudicatorAddress, data, 0);
    await expect(resolve(c, ch, ch.locks.a)).to.changeEtherBalance(c.attackerAddress, ch.locks.a.amount);
    expect([await c.attacker.reentries(), await c.attacker.lastError()]).to.deep.equal([2n, guard]);
    expect(await c.adjudicator.heldBack(idOf(ch.params))).to.deep.equal([ch.locks.b.amount, ch.locks.d.amount]);
    await conserved(c);
  });

  it('"a failing receiver blocks no one"', async function () {
    const c = await loadFixture(fixture);
    const ch = c.failing; // participant 1's payee refuses ETH
    const { w, sigs } = await withdrawal(c, ch, 1, 100n);
    await expect(c.adjudicator.partialWithdraw(ch.params, w, sigs))
      .to.emit(c.adjudicator, "Credited")
      .withArgs(c.refusingAddress, ETH, 100n);
    const w0 = await withdrawal(c, ch, 0, 100n);
    await expect(c.adjudicator.partialWithdraw(ch.params, w0.w, w0.sigs)).to.changeEtherBalance(c.payee0, 100n);
    await c.adjudicator.challenge(ch.params, ch.state, await signed(c.adjudicator, c.both, ch.state));
    await time.increaseTo((await c.adjudicator.channel(idOf(ch.params)))[2]);
    const { payouts } = expectedSplit(DEPOSITS, TRANSFERRED, [100n, 100n], ch.state.locked);
    const settle = c.adjudicator.settle(ch.params, ch.state);
    await expect(settle).to.emit(c.adjudicator, "Credited").withArgs(c.refusingAddress, ETH, payouts[1]);
    await expect(settle).to.changeEtherBalance(c.payee0, payouts[0]);
    await time.increaseTo(c.expiry + 1n);
    await expect(resolve(c, ch, ch.locks.a)).to.changeEtherBalance(c.payee0, ch.locks.a.amount);
    await expect(resolve(c, ch, ch.locks.d))
      .to.emit(c.adjudicator, "Credited")
      .withArgs(c.refusingAddress, ETH, ch.locks.d.amount);
    await conserved(c);
    const owed = 100n + payouts[1] + ch.locks.d.amount;
    await c.refusing.setRejecting(false);
    const withdraw = c.refusing.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
    await expect(withdraw).to.changeEtherBalance(c.refusingAddress, owed);
    await conserved(c);
  });
});
