import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { ContractTransactionResponse, Signer } from "ethers";
import { ETH, type Address } from "../../src/types";
import { signState } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  balanceIn,
  deployBase,
  expectConserved,
  expectedPayouts,
  fund,
  idOf,
  makeParams,
  makeState,
  opening,
  signed,
  type ChannelParams,
  type ChannelState,
  type Sigs,
} from "../helpers/fixture";

const MAX_U256 = 2n ** 256n - 1n;
const DEPOSITS: [bigint, bigint] = [700n, 300n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, ethParams, tokenParams, both, participants, carol } = base;
  await fund(adjudicator, ethParams, both, DEPOSITS);
  await fund(adjudicator, tokenParams, both, DEPOSITS);
  // Bystanders: other channels of the same assets whose money must never be touched.
  const ethBystander = makeParams(participants, ETH, 500n);
  const tokenBystander = makeParams(participants, base.tokenAddress, 501n);
  await fund(adjudicator, ethBystander, [carol, carol], [10n ** 18n, 10n ** 18n]);
  await fund(adjudicator, tokenBystander, [carol, carol], [10n ** 18n, 10n ** 18n]);
  return { ...base, ethBystander, tokenBystander };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Signatures by two signers, each of which may sign for a contract participant through ERC-1271. */
async function sigsOf(c: { adjudicator: Ctx["adjudicator"] }, signers: readonly [Signer, Signer], s: ChannelState): Promise<Sigs> {
  return [await signState(c.adjudicator, signers[0], s), await signState(c.adjudicator, signers[1], s)];
}

describe("security: no channel pays out more than was deposited into it", function () {
  const cases: { description: string; transferred: [bigint, bigint] }[] = [
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
  ];

  for (const { description, transferred } of cases) {
    for (const path of ["close", "settle"] as const) {
      it(`${description}: ${path} pays exactly the deposits, split by the clamped rule (ETH)`, async function () {
        const c = await loadFixture(fixture);
        const s = makeState(c.ethParams, 1n, transferred, path === "close");
        const sigs = await signed(c.adjudicator, c.both, s);
        let tx: Promise<ContractTransactionResponse>;
        if (path === "close") {
          tx = c.adjudicator.connect(c.carol).close(c.ethParams, s, sigs);
        } else {
          await c.adjudicator.connect(c.carol).challenge(c.ethParams, s, sigs);
          await time.increase(PERIOD);
          tx = c.adjudicator.connect(c.carol).settle(c.ethParams);
        }
        const payouts = expectedPayouts(DEPOSITS, transferred);
        expect(payouts[0] + payouts[1]).to.equal(DEPOSITS[0] + DEPOSITS[1]);
        await expect(tx).to.emit(c.adjudicator, path === "close" ? "Closed" : "Settled").withArgs(idOf(c.ethParams), 1n, payouts);
        await expect(tx).to.changeEtherBalances(
          [c.alice, c.bob, c.adjudicatorAddress],
          [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
        );
        await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], [c.alice.address, c.bob.address]);
        expect(await ethers.provider.getBalance(c.adjudicatorAddress)).to.equal(2n * 10n ** 18n);
      });
    }
  }

  for (const transferred of [[MAX_U256, 0n], [0n, MAX_U256]] as [bigint, bigint][]) {
    it(`an ERC-20 channel with transfers ${transferred.map((t) => (t === MAX_U256 ? "2^256-1" : "0")).join("/")} pays only its deposits`, async function () {
      const c = await loadFixture(fixture);
      const s = makeState(c.tokenParams, 1n, transferred, true);
      const payouts = expectedPayouts(DEPOSITS, transferred);
      await expect(c.adjudicator.close(c.tokenParams, s, await signed(c.adjudicator, c.both, s))).to.changeTokenBalances(
        c.token,
        [c.alice, c.bob, c.adjudicatorAddress],
        [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
      );
      await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams, c.tokenBystander], [c.alice.address, c.bob.address]);
    });
  }

  it("a channel funded only by participant 1 pays no more than that deposit", async function () {
    const c = await loadFixture(fixture);
    const p = makeParams(c.participants, ETH, 9_000n);
    await c.adjudicator.connect(c.bob).deposit(p, 1, 40n, { value: 40n });
    const s = makeState(p, 1n, [0n, MAX_U256], true);
    const tx = c.adjudicator.connect(c.carol).close(p, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(p), 1n, [40n, 0n]);
    await expect(tx).to.changeEtherBalances([c.alice, c.bob, c.adjudicatorAddress], [40n, 0n, -40n]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, p], [c.alice.address, c.bob.address]);
  });
});

describe("security: an older state never wins over a newer one", function () {
  it("a registered newer state can't be replaced by an older one, and settles", async function () {
    const c = await loadFixture(fixture);
    const older = makeState(c.ethParams, 10n, [0n, 200n]);
    const newer = makeState(c.ethParams, 11n, [300n, 200n]);
    await c.adjudicator.connect(c.alice).challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
    await expect(c.adjudicator.connect(c.bob).challenge(c.ethParams, older, await signed(c.adjudicator, c.both, older)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(10n, 11n);
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(c.ethParams)).to.changeEtherBalances(
      [c.alice, c.bob],
      expectedPayouts(DEPOSITS, newer.transferred),
    );
  });

  it("an older registered state is replaced by a newer one before the deadline, and can't come back", async function () {
    const c = await loadFixture(fixture);
    const v1 = makeState(c.ethParams, 1n, [0n, 250n]);
    const v2 = makeState(c.ethParams, 2n, [100n, 250n]);
    const v3 = makeState(c.ethParams, 3n, [400n, 250n]);
    const [s1, s2, s3] = [await signed(c.adjudicator, c.both, v1), await signed(c.adjudicator, c.both, v2), await signed(c.adjudicator, c.both, v3)];
    await c.adjudicator.connect(c.alice).challenge(c.ethParams, v2, s2);
    await c.adjudicator.connect(c.bob).challenge(c.ethParams, v3, s3);
    for (const [s, sigs] of [[v1, s1], [v2, s2]] as const) {
      await expect(c.adjudicator.connect(c.alice).challenge(c.ethParams, s, sigs))
        .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
        .withArgs(s.version, 3n);
    }
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(c.ethParams);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 3n, expectedPayouts(DEPOSITS, v3.transferred));
    await expect(tx).to.changeEtherBalances([c.alice, c.bob], expectedPayouts(DEPOSITS, v3.transferred));
  });

  it("an older final state can't close over a newer registered one", async function () {
    const c = await loadFixture(fixture);
    const oldFinal = makeState(c.ethParams, 4n, [0n, 300n], true);
    const newer = makeState(c.ethParams, 5n, [700n, 0n]);
    await c.adjudicator.challenge(c.ethParams, newer, await signed(c.adjudicator, c.both, newer));
    await expect(c.adjudicator.close(c.ethParams, oldFinal, await signed(c.adjudicator, c.both, oldFinal)))
      .to.be.revertedWithCustomError(c.adjudicator, "StateStale")
      .withArgs(4n, 5n);
  });
});

describe("security: nothing settles before the deadline or twice", function () {
  it("settle fails at every moment before the deadline, succeeds once at it, then never again", async function () {
    const c = await loadFixture(fixture);
    const s = makeState(c.ethParams, 1n, [100n, 0n]);
    await c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s));
    const deadline = (await c.adjudicator.channel(idOf(c.ethParams))).deadline;
    for (const at of [deadline - PERIOD / 2n, deadline - 2n, deadline - 1n]) {
      await time.setNextBlockTimestamp(at);
      await expect(c.adjudicator.settle(c.ethParams)).to.be.revertedWithCustomError(c.adjudicator, "ChallengePending").withArgs(deadline);
    }
    await time.setNextBlockTimestamp(deadline);
    await expect(c.adjudicator.settle(c.ethParams)).to.emit(c.adjudicator, "Settled");
    for (const call of [
      () => c.adjudicator.settle(c.ethParams),
      async () => {
        const f = makeState(c.ethParams, 2n, [0n, 0n], true);
        return c.adjudicator.close(c.ethParams, f, await signed(c.adjudicator, c.both, f));
      },
      () => c.adjudicator.connect(c.alice).challenge(c.ethParams, opening(c.ethParams), UNSIGNED),
    ]) {
      await expect(call()).to.be.revertedWithCustomError(c.adjudicator, "ChannelConcluded").withArgs(idOf(c.ethParams));
    }
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander], [c.alice.address, c.bob.address]);
  });
});

describe("security: no re-entrancy", function () {
  async function reentrantFixture() {
    const base = await fixture();
    const { adjudicator, alice, carol } = base;
    const receiver = await ethers.deployContract("ReentrantReceiver", [carol.address]);
    const receiverAddress = await addressOf(receiver);
    const params = makeParams([alice.address as Address, receiverAddress], ETH, 77n);
    await adjudicator.connect(alice).deposit(params, 0, DEPOSITS[0], { value: DEPOSITS[0] });
    await adjudicator.connect(alice).deposit(params, 1, DEPOSITS[1], { value: DEPOSITS[1] });
    const signers = [alice, carol] as const;
    const final = makeState(params, 3n, [100n, 0n], true);
    const finalSigs = await sigsOf(base, signers, final);
    // A second channel between the same two, the target of a re-entrant close.
    const victim = makeParams([alice.address as Address, receiverAddress], ETH, 78n);
    await adjudicator.connect(alice).deposit(victim, 0, 50n, { value: 50n });
    await adjudicator.connect(alice).deposit(victim, 1, 50n, { value: 50n });
    const victimFinal = makeState(victim, 1n, [0n, 50n], true);
    const victimSigs = await sigsOf(base, signers, victimFinal);
    const guardSelector = adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
    const concludedSelector = adjudicator.interface.getError("ChannelConcluded")!.selector;
    return {
      ...base,
      receiver,
      receiverAddress,
      params,
      signers,
      final,
      finalSigs,
      victim,
      victimFinal,
      victimSigs,
      guardSelector,
      concludedSelector,
    };
  }
  type RCtx = Awaited<ReturnType<typeof reentrantFixture>>;

  /**
   * Re-entries tried from the payout push. Money-moving functions must hit the guard; the
   * unguarded ones (an ETH deposit, a challenge: no external call) must find the channel concluded.
   */
  const payloads: { name: string; data: (c: RCtx) => string; value?: bigint; errors: (c: RCtx) => string[] }[] = [
    { name: "settle of the same channel", data: (c) => c.adjudicator.interface.encodeFunctionData("settle", [c.params]), errors: (c) => [c.guardSelector] },
    {
      name: "close of the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.params, c.final, c.finalSigs]),
      errors: (c) => [c.guardSelector],
    },
    {
      name: "close of another channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.victim, c.victimFinal, c.victimSigs]),
      errors: (c) => [c.guardSelector],
    },
    { name: "withdraw", data: (c) => c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]), errors: (c) => [c.guardSelector] },
    {
      name: "withdrawTo",
      data: (c) => c.adjudicator.interface.encodeFunctionData("withdrawTo", [ETH, c.receiverAddress]),
      errors: (c) => [c.guardSelector],
    },
    {
      name: "an ETH deposit into the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("deposit", [c.params, 1, 1n]),
      value: 1n,
      errors: (c) => [c.guardSelector, c.concludedSelector],
    },
    {
      name: "an unsigned opening challenge of the same channel",
      data: (c) => c.adjudicator.interface.encodeFunctionData("challenge", [c.params, opening(c.params), UNSIGNED]),
      errors: (c) => [c.guardSelector, c.concludedSelector],
    },
  ];

  for (const payload of payloads) {
    for (const path of ["close", "settle"] as const) {
      it(`an ETH receiver re-entering ${payload.name} from a ${path} payout gains nothing`, async function () {
        const c = await loadFixture(reentrantFixture);
        await c.receiver.arm(c.adjudicatorAddress, payload.data(c), payload.value ?? 0n);
        let tx: Promise<ContractTransactionResponse>;
        let payouts: [bigint, bigint];
        if (path === "close") {
          payouts = expectedPayouts(DEPOSITS, c.final.transferred);
          tx = c.adjudicator.connect(c.bob).close(c.params, c.final, c.finalSigs);
        } else {
          payouts = DEPOSITS;
          await c.receiver.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("challenge", [c.params, opening(c.params), UNSIGNED]));
          await time.increase(PERIOD);
          tx = c.adjudicator.connect(c.bob).settle(c.params);
        }
        await expect(tx).to.not.emit(c.adjudicator, "Credited");
        await expect(tx).to.changeEtherBalances(
          [c.alice, c.receiverAddress, c.adjudicatorAddress],
          [payouts[0], payouts[1], -(DEPOSITS[0] + DEPOSITS[1])],
        );
        expect(await c.receiver.reentries()).to.equal(1n);
        expect(payload.errors(c)).to.include(await c.receiver.lastError());
        expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
        const [mode, , , deposits] = await c.adjudicator.channel(idOf(c.params));
        expect(mode).to.equal(3n);
        expect(deposits).to.deep.equal([0n, 0n]);
        // The other channel is untouched and still closes normally.
        expect((await c.adjudicator.channel(idOf(c.victim))).deposits).to.deep.equal([50n, 50n]);
        await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, c.params, c.victim], [c.alice.address, c.receiverAddress]);
        await c.receiver.arm(ethers.ZeroAddress, "0x", 0n);
        await expect(c.adjudicator.close(c.victim, c.victimFinal, c.victimSigs)).to.changeEtherBalances(
          [c.alice, c.receiverAddress],
          [100n, 0n],
        );
      });
    }
  }

  it("a receiver re-entering withdraw from its own withdrawal is paid its credit exactly once", async function () {
    const c = await loadFixture(reentrantFixture);
    await c.receiver.setRejecting(true);
    await c.adjudicator.close(c.params, c.final, c.finalSigs);
    const credit = expectedPayouts(DEPOSITS, c.final.transferred)[1];
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(credit);
    await c.receiver.setRejecting(false);
    const withdraw = c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]);
    for (const data of [withdraw, c.adjudicator.interface.encodeFunctionData("withdrawTo", [ETH, c.receiverAddress])]) {
      await c.receiver.arm(c.adjudicatorAddress, data, 0n);
      const before = await c.receiver.reentries();
      const tx = c.receiver.execute(c.adjudicatorAddress, withdraw);
      if (data === withdraw) {
        await expect(tx).to.changeEtherBalances([c.receiverAddress, c.adjudicatorAddress], [credit, -credit]);
        expect(await c.receiver.reentries()).to.equal(before + 1n);
        expect(await c.receiver.lastError()).to.equal(c.guardSelector);
      } else {
        // Nothing left to withdraw, re-entrant or not.
        await expect(tx).to.be.revertedWithCustomError(c.adjudicator, "WithdrawNothing").withArgs(c.receiverAddress, ETH);
      }
    }
    expect(await c.adjudicator.credits(c.receiverAddress, ETH)).to.equal(0n);
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, c.params, c.victim], [c.alice.address, c.receiverAddress]);
  });

  describe("a re-entrant ERC-20", function () {
    async function tokenFixture() {
      const base = await fixture();
      const { adjudicator, adjudicatorAddress, alice, bob, participants } = base;
      const rToken = await ethers.deployContract("ReentrantToken");
      const rAddress = await addressOf(rToken);
      for (const s of [alice, bob]) {
        await rToken.mint(s.address, 10n ** 24n);
        await rToken.connect(s).approve(adjudicatorAddress, ethers.MaxUint256);
      }
      const params = makeParams(participants, rAddress, 33n);
      await fund(adjudicator, params, [alice, bob], DEPOSITS);
      const other = makeParams(participants, rAddress, 34n);
      await fund(adjudicator, other, [alice, bob], [5n, 5n]);
      const final = makeState(params, 2n, [0n, 100n], true);
      const finalSigs = await signed(adjudicator, [alice, bob], final);
      const guardSelector = adjudicator.interface.getError("ReentrancyGuardReentrantCall")!.selector;
      return { ...base, rToken, rAddress, params, other, final, finalSigs, guardSelector };
    }

    const tokenPayloads: { name: string; data: (c: Awaited<ReturnType<typeof tokenFixture>>) => string }[] = [
      { name: "close", data: (c) => c.adjudicator.interface.encodeFunctionData("close", [c.params, c.final, c.finalSigs]) },
      { name: "settle", data: (c) => c.adjudicator.interface.encodeFunctionData("settle", [c.other]) },
      { name: "withdraw", data: (c) => c.adjudicator.interface.encodeFunctionData("withdraw", [c.rAddress]) },
      { name: "deposit", data: (c) => c.adjudicator.interface.encodeFunctionData("deposit", [c.other, 0, 1n]) },
    ];

    for (const payload of tokenPayloads) {
      it(`calling back into ${payload.name} during payouts gains nothing`, async function () {
        const c = await loadFixture(tokenFixture);
        await c.rToken.arm(c.adjudicatorAddress, payload.data(c));
        const payouts = expectedPayouts(DEPOSITS, c.final.transferred);
        const holders = [c.alice.address, c.bob.address];
        const before = await Promise.all(holders.map((h) => c.rToken.balanceOf(h)));
        await (await c.adjudicator.close(c.params, c.final, c.finalSigs)).wait();
        // A payout is pushed, or (if the token's re-entry attempt used up the push's gas) credited:
        // either way each side gets exactly its payout and nobody more.
        for (const [i, holder] of holders.entries()) {
          const pushed = (await c.rToken.balanceOf(holder)) - before[i]!;
          expect(pushed + (await c.adjudicator.credits(holder, c.rAddress))).to.equal(payouts[i]);
        }
        const reentries = await c.rToken.reentries();
        if (reentries === 0n) {
          // The re-entry attempt ran out of the push's gas and its transfer reverted: both credited.
          for (const [i, holder] of holders.entries()) expect(await c.adjudicator.credits(holder, c.rAddress)).to.equal(payouts[i]);
        } else {
          expect(reentries).to.equal(2n);
          expect(await c.rToken.lastError()).to.equal(c.guardSelector);
        }
        expect((await c.adjudicator.channel(idOf(c.other))).deposits).to.deep.equal([5n, 5n]);
        await expectConserved(c.adjudicator, c.rAddress, [c.params, c.other], [c.alice.address, c.bob.address]);
      });
    }

    it("calling back into deposit during transferFrom credits only the outer deposit", async function () {
      const c = await loadFixture(tokenFixture);
      await c.rToken.arm(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("deposit", [c.params, 0, 1_000n]));
      const tx = c.adjudicator.connect(c.alice).deposit(c.params, 0, 10n);
      await expect(tx).to.emit(c.adjudicator, "Deposited").withArgs(idOf(c.params), 0, 10n, DEPOSITS[0] + 10n);
      await expect(tx).to.changeTokenBalances(c.rToken, [c.alice, c.adjudicatorAddress], [-10n, 10n]);
      expect(await c.rToken.reentries()).to.equal(1n);
      expect(await c.rToken.lastError()).to.equal(c.guardSelector);
      await expectConserved(c.adjudicator, c.rAddress, [c.params, c.other], []);
    });
  });
});

describe("security: a failing receiver can't block anyone else's money", function () {
  interface Hostile {
    name: string;
    deploy: (owner: Address) => Promise<{ getAddress(): Promise<string> }>;
    /** Whether the hostile side ends up paid (true) or credited (false). */
    paid: boolean;
  }
  const hostiles: Hostile[] = [
    { name: "a reverting receiver", deploy: (o) => ethers.deployContract("RevertingReceiver", [o]), paid: false },
    { name: "a receiver that burns all gas", deploy: (o) => ethers.deployContract("GasBurner", [o, 0n]), paid: false },
    { name: "a receiver that needs 20,000 gas (within ETH_PUSH_GAS)", deploy: (o) => ethers.deployContract("GasBurner", [o, 20_000n]), paid: true },
    { name: "a receiver that needs 40,000 gas (beyond ETH_PUSH_GAS)", deploy: (o) => ethers.deployContract("GasBurner", [o, 40_000n]), paid: false },
    { name: "a receiver returning 64 KB of data", deploy: (o) => ethers.deployContract("ReturnBombReceiver", [o, 65_536n]), paid: true },
    {
      name: "a receiver reverting with 64 KB of data",
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
      it(`${hostile.name} as participant ${index}: the other side is paid, the hostile side ${hostile.paid ? "too" : "credited"}`, async function () {
        const c = await loadFixture(fixture);
        const contract = await hostile.deploy(c.carol.address as Address);
        const hostileAddress = await addressOf(contract);
        const participants: [Address, Address] = index === 0 ? [hostileAddress, c.alice.address as Address] : [c.alice.address as Address, hostileAddress];
        const signers: [Signer, Signer] = index === 0 ? [c.carol, c.alice] : [c.alice, c.carol];
        const params = makeParams(participants, ETH, 600n);
        await fund(c.adjudicator, params, [c.bob, c.bob], DEPOSITS);
        const s = makeState(params, 1n, [120n, 20n], true);
        const payouts = expectedPayouts(DEPOSITS, s.transferred);
        const tx = c.adjudicator.connect(c.bob).close(params, s, await sigsOf(c, signers, s));
        const hostilePayout = payouts[index];
        const honestPayout = payouts[1 - index];
        if (hostile.paid) await expect(tx).to.not.emit(c.adjudicator, "Credited");
        else await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(hostileAddress, ETH, hostilePayout);
        await expect(tx).to.changeEtherBalances(
          [c.alice, hostileAddress, c.adjudicatorAddress],
          [honestPayout, hostile.paid ? hostilePayout : 0n, -(hostile.paid ? DEPOSITS[0] + DEPOSITS[1] : honestPayout)],
        );
        const receipt = await (await tx).wait();
        expect(receipt!.gasUsed, "bounded gas: the hostile side can't make the close expensive").to.be.lessThan(200_000n);
        expect(await c.adjudicator.credits(hostileAddress, ETH)).to.equal(hostile.paid ? 0n : hostilePayout);
        await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, params], [c.alice.address, hostileAddress]);
      });
    }
  }

  it("a reverting receiver's credit is withdrawable later, after a settle", async function () {
    const c = await loadFixture(fixture);
    const receiver = await ethers.deployContract("RevertingReceiver", [c.carol.address]);
    const rAddress = await addressOf(receiver);
    const params = makeParams([rAddress, c.bob.address as Address], ETH, 601n);
    await fund(c.adjudicator, params, [c.alice, c.alice], DEPOSITS);
    await c.adjudicator.connect(c.bob).challenge(params, opening(params), UNSIGNED);
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(params);
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(rAddress, ETH, DEPOSITS[0]);
    await expect(tx).to.changeEtherBalances([c.bob, rAddress], [DEPOSITS[1], 0n]);
    await receiver.setRejecting(false);
    const withdraw = receiver.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
    await expect(withdraw).to.emit(c.adjudicator, "Withdrawn").withArgs(rAddress, ETH, rAddress, DEPOSITS[0]);
    await expect(withdraw).to.changeEtherBalance(rAddress, DEPOSITS[0]);
    await expectConserved(c.adjudicator, ETH, [c.ethParams, c.ethBystander, params], [rAddress, c.bob.address]);
  });

  it("a token that blocks one participant doesn't block the other (settle path)", async function () {
    const c = await loadFixture(fixture);
    const blocking = await ethers.deployContract("BlockingToken");
    const bAddress = await addressOf(blocking);
    await blocking.mint(c.carol.address, 10n ** 20n);
    await blocking.connect(c.carol).approve(c.adjudicatorAddress, ethers.MaxUint256);
    const params = makeParams(c.participants, bAddress, 602n);
    await fund(c.adjudicator, params, [c.carol, c.carol], DEPOSITS);
    await blocking.setBlocked(c.alice.address, true);
    await c.adjudicator.connect(c.bob).challenge(params, opening(params), UNSIGNED);
    await time.increase(PERIOD);
    const tx = c.adjudicator.settle(params);
    await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.alice.address, bAddress, DEPOSITS[0]);
    await expect(tx).to.changeTokenBalances(blocking, [c.alice, c.bob, c.adjudicatorAddress], [0n, DEPOSITS[1], -DEPOSITS[1]]);
    await expectConserved(c.adjudicator, bAddress, [params], [c.alice.address, c.bob.address]);
  });

  it("a caller can't force the credit path by sending too little gas (PayoutGasInsufficient or success, never a credit)", async function () {
    const c = await loadFixture(fixture);
    const hungry = await ethers.deployContract("GasBurner", [c.carol.address, 20_000n]);
    const hAddress = await addressOf(hungry);
    const params = makeParams([c.alice.address as Address, hAddress], ETH, 603n);
    await fund(c.adjudicator, params, [c.bob, c.bob], DEPOSITS);
    const s = makeState(params, 1n, [100n, 0n], true);
    const sigs = await sigsOf(c, [c.alice, c.carol], s);
    const full = await c.adjudicator.connect(c.bob).close.estimateGas(params, s, sigs);
    const snapshot = await ethers.provider.send("evm_snapshot", []);
    let sawGasInsufficient = false;
    let successes = 0;
    for (let gasLimit = full - 60_000n; gasLimit <= full + 10_000n; gasLimit += 2_500n) {
      await ethers.provider.send("evm_revert", [snapshot]);
      await ethers.provider.send("evm_snapshot", []);
      const balanceBefore = await balanceIn(ETH, hAddress);
      try {
        const receipt = await (await c.adjudicator.connect(c.bob).close(params, s, sigs, { gasLimit })).wait();
        successes += 1;
        const credited = receipt!.logs.some((l) => c.adjudicator.interface.parseLog(l)?.name === "Credited");
        expect(credited, `gas limit ${gasLimit} forced a credit`).to.equal(false);
        expect(await balanceIn(ETH, hAddress)).to.equal(balanceBefore + expectedPayouts(DEPOSITS, s.transferred)[1]);
      } catch (error) {
        const data = (error as { data?: string }).data;
        if (data !== undefined && data !== "0x") {
          const parsed = c.adjudicator.interface.parseError(data);
          if (parsed?.name === "PayoutGasInsufficient") sawGasInsufficient = true;
        }
        expect(await c.adjudicator.credits(hAddress, ETH)).to.equal(0n);
      }
    }
    expect(successes, "some gas limits must succeed").to.be.greaterThan(0);
    expect(sawGasInsufficient, "some gas limit must hit PayoutGasInsufficient").to.equal(true);
  });
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
    const params = makeParams(c.participants, fAddress, 700n);
    await fund(c.adjudicator, params, c.both, [100_000n, 50_000n]);
    const credited: [bigint, bigint] = [100_000n - (await fee.feeOf(100_000n)), 50_000n - (await fee.feeOf(50_000n))];
    expect((await c.adjudicator.channel(idOf(params))).deposits).to.deep.equal(credited);
    expect(await fee.balanceOf(c.adjudicatorAddress)).to.equal(credited[0] + credited[1]);
    const s = makeState(params, 1n, [10_000n, 0n], true);
    const payouts = expectedPayouts(credited, s.transferred);
    const tx = c.adjudicator.close(params, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(params), 1n, payouts);
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    await expect(tx).to.changeTokenBalances(
      fee,
      [c.alice, c.bob, c.adjudicatorAddress],
      [payouts[0] - (await fee.feeOf(payouts[0])), payouts[1] - (await fee.feeOf(payouts[1])), -(credited[0] + credited[1])],
    );
    expect(await fee.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    await expectConserved(c.adjudicator, fAddress, [params], [c.alice.address, c.bob.address]);
  });

  it("a token without return values is pushed, not credited", async function () {
    const c = await loadFixture(fixture);
    const usdt = await ethers.deployContract("NoReturnToken");
    const uAddress = await addressOf(usdt);
    await usdt.mint(c.alice.address, 10n ** 12n);
    await usdt.connect(c.alice).approve(c.adjudicatorAddress, ethers.MaxUint256);
    const params: ChannelParams = makeParams(c.participants, uAddress, 701n);
    await fund(c.adjudicator, params, [c.alice, c.alice], DEPOSITS);
    const s = makeState(params, 1n, [0n, 100n], true);
    const tx = c.adjudicator.close(params, s, await signed(c.adjudicator, c.both, s));
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
    const payouts = expectedPayouts(DEPOSITS, s.transferred);
    expect(await usdt.balanceOf(c.bob.address)).to.equal(payouts[1]);
    expect(await usdt.balanceOf(c.adjudicatorAddress)).to.equal(0n);
    await expectConserved(c.adjudicator, uAddress, [params], [c.alice.address, c.bob.address]);
  });
});
