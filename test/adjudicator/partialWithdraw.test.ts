/**
 * `partialWithdraw`: a withdrawal signed by both participants pays `total - withdrawn[i]` to
 * `payees[i]` out of an open, unchallenged channel, while `block.timestamp <= expiry` and up to
 * what the channel holds; a total not above `withdrawn[i]` pays nothing. Payees here are accounts
 * apart from the participants' keys, so a payout to the wrong one shows.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { Signer, TypedDataDomain } from "ethers";
import { DOMAIN_NAME, DOMAIN_VERSION, WITHDRAWAL_TYPES, withdrawalValue } from "../../src/typedData";
import { ChannelMode, ETH, type Address, type Hex } from "../../src/types";
import { signWithdrawal, signWithdrawalBoth } from "../helpers/channel";
import {
  PERIOD,
  UNSIGNED,
  addressOf,
  deployBase,
  domainOf,
  expectConserved,
  expectedSplit,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  makeWithdrawal,
  malleate,
  now,
  signed,
  type ChannelParams,
  type ChannelWithdrawal,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [600n, 400n];
const HOLDINGS = DEPOSITS[0] + DEPOSITS[1];
const DAY = 86_400n;

async function fixture() {
  const base = await deployBase();
  const { adjudicator, adjudicatorAddress, alice, bob, both, participants } = base;
  const signers = await ethers.getSigners();
  const [payee0, payee1] = [signers[4], signers[5]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const ethParams = makeParams(participants, ETH, 21n, PERIOD, payees);
  const tokenParams = makeParams(participants, base.tokenAddress, 22n, PERIOD, payees);
  const otherParams = makeParams(participants, ETH, 23n, PERIOD, payees);
  const unfundedParams = makeParams(participants, ETH, 24n, PERIOD, payees);
  await fund(adjudicator, ethParams, both, DEPOSITS);
  await fund(adjudicator, tokenParams, both, DEPOSITS);
  await fund(adjudicator, otherParams, both, DEPOSITS);

  // A fee-on-transfer token: deposits credit what arrived, payouts arrive less the fee.
  const feeToken = await ethers.deployContract("FeeOnTransferToken");
  const feeTokenAddress = await addressOf(feeToken);
  for (const s of both) {
    await feeToken.mint(s.address, 10n ** 24n);
    await feeToken.connect(s).approve(adjudicatorAddress, ethers.MaxUint256);
  }
  const feeParams = makeParams(participants, feeTokenAddress, 25n, PERIOD, payees);
  await fund(adjudicator, feeParams, both, DEPOSITS);
  const feeDeposits: [bigint, bigint] = [
    DEPOSITS[0] - (await feeToken.feeOf(DEPOSITS[0])),
    DEPOSITS[1] - (await feeToken.feeOf(DEPOSITS[1])),
  ];

  // Participant 1's payee is a contract that refuses ETH.
  const refusing = await ethers.deployContract("ReentrantPayee");
  const refusingAddress = await addressOf(refusing);
  await refusing.setRejecting(true);
  const refusingParams = makeParams(participants, ETH, 26n, PERIOD, [payees[0], refusingAddress]);
  await fund(adjudicator, refusingParams, both, DEPOSITS);

  const second = await ethers.deployContract("Adjudicator");
  const expiry = (await now()) + DAY;
  // Every ETH channel and every ETH payee, for the conservation checks.
  const ethChannels = [ethParams, otherParams, refusingParams];
  const ethOwners = [...payees, refusingAddress];
  return {
    ethChannels,
    ethOwners,
    ...base,
    alice,
    bob,
    payee0,
    payee1,
    payees,
    ethParams,
    tokenParams,
    otherParams,
    unfundedParams,
    feeToken,
    feeTokenAddress,
    feeParams,
    feeDeposits,
    refusing,
    refusingAddress,
    refusingParams,
    second,
    expiry,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** A withdrawal of `params`' channel expiring at the fixture's `expiry`. */
function withdrawal(c: Ctx, participant: 0 | 1, total: bigint, params: ChannelParams = c.ethParams): ChannelWithdrawal {
  return makeWithdrawal(params, participant, total, c.expiry);
}

/** Submits `w` from mallory (anyone may), signed by both participants unless `sigs` is given. */
async function submit(c: Ctx, w: ChannelWithdrawal, sigs?: Sigs, params: ChannelParams = c.ethParams) {
  const signatures = sigs ?? (await signWithdrawalBoth(c.adjudicator, c.both, w));
  return c.adjudicator.connect(c.mallory).partialWithdraw(params, w, signatures);
}

/** Signs a withdrawal under the Sluice domain with one field changed. */
async function signWithdrawalIn(c: Ctx, change: TypedDataDomain, signer: Signer, w: ChannelWithdrawal): Promise<Hex> {
  const domain = { ...(await domainOf(c.adjudicator)), ...change };
  return (await signer.signTypedData(domain, WITHDRAWAL_TYPES, withdrawalValue(w))) as Hex;
}

async function signedIn(c: Ctx, change: TypedDataDomain, w: ChannelWithdrawal): Promise<Sigs> {
  return [await signWithdrawalIn(c, change, c.alice, w), await signWithdrawalIn(c, change, c.bob, w)];
}

async function withdrawnOf(c: Ctx, params: ChannelParams = c.ethParams): Promise<[bigint, bigint]> {
  const [, , , , withdrawn] = await c.adjudicator.channel(idOf(params));
  return [withdrawn[0], withdrawn[1]];
}

async function deadlineOf(c: Ctx, params: ChannelParams = c.ethParams): Promise<bigint> {
  const [, , deadline] = await c.adjudicator.channel(idOf(params));
  return deadline;
}

async function challengeEth(c: Ctx): Promise<void> {
  const s = makeState(c.ethParams, 1n, [0n, 0n]);
  await c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s));
}

const W = 250n;

describe("Adjudicator #partialWithdraw", function () {
  describe("reverts", function () {
    const rows: RevertRow<Ctx>[] = [
      {
        description: "a withdrawal naming another channel",
        call: (c) => submit(c, withdrawal(c, 0, W, c.otherParams)),
        error: "WithdrawalChannelMismatch",
        args: (c) => [idOf(c.ethParams), idOf(c.otherParams)],
      },
      {
        description: "participant index 2",
        call: (c) => submit(c, { ...withdrawal(c, 0, W), participant: 2 as unknown as 0 }),
        error: "ParticipantIndexInvalid",
        args: () => [2],
      },
      {
        description: "an expiry in the past",
        call: (c) => submit(c, makeWithdrawal(c.ethParams, 0, W, c.expiry - DAY - 1n)),
        error: "WithdrawalExpired",
        args: (c) => [c.expiry - DAY - 1n],
      },
      {
        description: "one second after the expiry",
        call: async (c) => {
          const w = withdrawal(c, 0, W);
          const sigs = await signWithdrawalBoth(c.adjudicator, c.both, w);
          await time.setNextBlockTimestamp(c.expiry + 1n);
          return submit(c, w, sigs);
        },
        error: "WithdrawalExpired",
        args: (c) => [c.expiry],
      },
      {
        description: "a channel with no deposit",
        call: (c) => submit(c, withdrawal(c, 0, W, c.unfundedParams), undefined, c.unfundedParams),
        error: "ChannelNotOpen",
        args: (c) => [idOf(c.unfundedParams)],
      },
      {
        description: "a channel closed cooperatively",
        call: async (c) => {
          const s = makeState(c.ethParams, 1n, [0n, 0n], true);
          await c.adjudicator.close(c.ethParams, s, await signed(c.adjudicator, c.both, s));
          return submit(c, withdrawal(c, 0, W));
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel settled after a challenge",
        call: async (c) => {
          await challengeEth(c);
          await time.increaseTo(await deadlineOf(c));
          await c.adjudicator.settle(c.ethParams, makeState(c.ethParams, 1n, [0n, 0n]));
          return submit(c, withdrawal(c, 0, W));
        },
        error: "ChannelConcluded",
        args: (c) => [idOf(c.ethParams)],
      },
      {
        description: "a channel whose challenge runs",
        call: async (c) => {
          await challengeEth(c);
          return submit(c, withdrawal(c, 0, W));
        },
        error: "ChannelChallenged",
        args: async (c) => [idOf(c.ethParams), await deadlineOf(c)],
      },
      {
        description: "a channel whose challenge has passed its deadline but is not settled",
        call: async (c) => {
          await challengeEth(c);
          await time.increaseTo(await deadlineOf(c));
          return submit(c, withdrawal(c, 0, W));
        },
        error: "ChannelChallenged",
        args: async (c) => [idOf(c.ethParams), await deadlineOf(c)],
      },
      {
        description: "no signatures",
        call: (c) => submit(c, withdrawal(c, 0, W), UNSIGNED),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "participant 0's signature only",
        call: async (c) => submit(c, withdrawal(c, 0, W), [await signWithdrawal(c.adjudicator, c.alice, withdrawal(c, 0, W)), "0x"]),
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "participant 1's signature only",
        call: async (c) => submit(c, withdrawal(c, 0, W), ["0x", await signWithdrawal(c.adjudicator, c.bob, withdrawal(c, 0, W))]),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "participant 0's signature twice",
        call: async (c) => {
          const sig = await signWithdrawal(c.adjudicator, c.alice, withdrawal(c, 0, W));
          return submit(c, withdrawal(c, 0, W), [sig, sig]);
        },
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "the signatures swapped",
        call: async (c) => {
          const [s0, s1] = await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 0, W));
          return submit(c, withdrawal(c, 0, W), [s1, s0]);
        },
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "payee 0's signature for participant 0 (a payee is not a signer)",
        call: async (c) => {
          const w = withdrawal(c, 0, W);
          return submit(c, w, [await signWithdrawal(c.adjudicator, c.payee0, w), await signWithdrawal(c.adjudicator, c.bob, w)]);
        },
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a stranger's signature for participant 1",
        call: async (c) => {
          const w = withdrawal(c, 1, W);
          return submit(c, w, [await signWithdrawal(c.adjudicator, c.alice, w), await signWithdrawal(c.adjudicator, c.mallory, w)]);
        },
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "a high-s signature of participant 0",
        call: async (c) => {
          const [s0, s1] = await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 0, W));
          return submit(c, withdrawal(c, 0, W), [malleate(s0), s1]);
        },
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a high-s signature of participant 1",
        call: async (c) => {
          const [s0, s1] = await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 0, W));
          return submit(c, withdrawal(c, 0, W), [s0, malleate(s1)]);
        },
        error: "SignatureInvalid",
        args: () => [1],
      },
      {
        description: "signed for another chain id",
        call: async (c) => submit(c, withdrawal(c, 0, W), await signedIn(c, { chainId: 1n }, withdrawal(c, 0, W))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signed for another adjudicator",
        call: async (c) =>
          submit(c, withdrawal(c, 0, W), await signedIn(c, { verifyingContract: await addressOf(c.second) }, withdrawal(c, 0, W))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signed under another domain name",
        call: async (c) => submit(c, withdrawal(c, 0, W), await signedIn(c, { name: `${DOMAIN_NAME}X` }, withdrawal(c, 0, W))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signed under the previous domain version",
        call: async (c) =>
          submit(c, withdrawal(c, 0, W), await signedIn(c, { version: String(Number(DOMAIN_VERSION) - 1) }, withdrawal(c, 0, W))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signatures of another channel's withdrawal",
        call: async (c) =>
          submit(c, withdrawal(c, 0, W), await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 0, W, c.otherParams))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signatures of a smaller total",
        call: async (c) => submit(c, withdrawal(c, 0, W), await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 0, W - 1n))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signatures of the other participant's withdrawal",
        call: async (c) => submit(c, withdrawal(c, 0, W), await signWithdrawalBoth(c.adjudicator, c.both, withdrawal(c, 1, W))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signatures of a later expiry",
        call: async (c) =>
          submit(c, withdrawal(c, 0, W), await signWithdrawalBoth(c.adjudicator, c.both, makeWithdrawal(c.ethParams, 0, W, c.expiry + 1n))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "signatures of a state, offered for a withdrawal",
        call: async (c) => submit(c, withdrawal(c, 0, W), await signed(c.adjudicator, c.both, makeState(c.ethParams, W, [0n, 0n]))),
        error: "SignatureInvalid",
        args: () => [0],
      },
      {
        description: "a total beyond both deposits",
        call: (c) => submit(c, withdrawal(c, 1, HOLDINGS + 1n)),
        error: "WithdrawalExceedsHoldings",
        args: () => [HOLDINGS + 1n, HOLDINGS],
      },
      {
        description: "a total beyond what the other side's withdrawal left",
        call: async (c) => {
          await submit(c, withdrawal(c, 1, 700n));
          return submit(c, withdrawal(c, 0, HOLDINGS - 700n + 1n));
        },
        error: "WithdrawalExceedsHoldings",
        args: () => [HOLDINGS - 700n + 1n, HOLDINGS - 700n],
      },
      {
        description: "a raised total whose increase exceeds what is left",
        call: async (c) => {
          await submit(c, withdrawal(c, 0, 500n));
          return submit(c, withdrawal(c, 0, HOLDINGS + 1n));
        },
        error: "WithdrawalExceedsHoldings",
        args: () => [HOLDINGS + 1n - 500n, HOLDINGS - 500n],
      },
    ];

    itRejectsRows(fixture, rows, {
      check: async (c) => {
        await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
      },
    });
  });

  describe("payouts", function () {
    for (const i of [0, 1] as const) {
      it(`pays payees[${i}] (not participant ${i}) the total, and records it`, async function () {
        const c = await loadFixture(fixture);
        const participant = i === 0 ? c.alice : c.bob;
        const payee = i === 0 ? c.payee0 : c.payee1;
        const tx = submit(c, withdrawal(c, i, W));
        await expect(tx).to.emit(c.adjudicator, "PartiallyWithdrawn").withArgs(idOf(c.ethParams), i, W, W);
        await expect(tx).to.changeEtherBalances([payee, participant, c.mallory, c.adjudicatorAddress], [W, 0n, 0n, -W]);
        const [mode, version, deadline, deposits, withdrawn] = await c.adjudicator.channel(idOf(c.ethParams));
        expect([mode, version, deadline]).to.deep.equal([BigInt(ChannelMode.Open), 0n, 0n]);
        expect([deposits[0], deposits[1]]).to.deep.equal(DEPOSITS);
        expect([withdrawn[0], withdrawn[1]]).to.deep.equal(i === 0 ? [W, 0n] : [0n, W]);
        await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
      });
    }

    it("pays a raised total's difference only: total - withdrawn", async function () {
      const c = await loadFixture(fixture);
      await submit(c, withdrawal(c, 0, W));
      const tx = submit(c, withdrawal(c, 0, 400n));
      await expect(tx)
        .to.emit(c.adjudicator, "PartiallyWithdrawn")
        .withArgs(idOf(c.ethParams), 0, 400n - W, 400n);
      await expect(tx).to.changeEtherBalances([c.payee0, c.adjudicatorAddress], [400n - W, -(400n - W)]);
      expect(await withdrawnOf(c)).to.deep.equal([400n, 0n]);
    });

    it("keeps each participant's total apart", async function () {
      const c = await loadFixture(fixture);
      await submit(c, withdrawal(c, 1, 100n));
      await expect(submit(c, withdrawal(c, 0, 100n))).to.changeEtherBalances([c.payee0, c.payee1], [100n, 0n]);
      await expect(submit(c, withdrawal(c, 1, 150n))).to.changeEtherBalances([c.payee0, c.payee1], [0n, 50n]);
      expect(await withdrawnOf(c)).to.deep.equal([100n, 150n]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });

    it("pays nothing on a replay of the same signed withdrawal: no event, no balance change", async function () {
      const c = await loadFixture(fixture);
      const w = withdrawal(c, 0, W);
      const sigs = await signWithdrawalBoth(c.adjudicator, c.both, w);
      await submit(c, w, sigs);
      const tx = submit(c, w, sigs);
      await expect(tx).to.not.emit(c.adjudicator, "PartiallyWithdrawn");
      await expect(tx).to.changeEtherBalances([c.payee0, c.payee1, c.adjudicatorAddress], [0n, 0n, 0n]);
      expect((await (await tx).wait())!.logs).to.have.length(0);
      expect(await withdrawnOf(c)).to.deep.equal([W, 0n]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });

    for (const lower of [W - 1n, 0n]) {
      it(`pays nothing on a signed total (${lower}) below what was withdrawn`, async function () {
        const c = await loadFixture(fixture);
        await submit(c, withdrawal(c, 0, W));
        const tx = submit(c, withdrawal(c, 0, lower));
        await expect(tx).to.not.emit(c.adjudicator, "PartiallyWithdrawn");
        await expect(tx).to.changeEtherBalances([c.payee0, c.adjudicatorAddress], [0n, 0n]);
        expect(await withdrawnOf(c)).to.deep.equal([W, 0n]);
      });
    }

    it("pays nothing on a total of zero before any withdrawal, and records nothing", async function () {
      const c = await loadFixture(fixture);
      const tx = submit(c, withdrawal(c, 1, 0n));
      await expect(tx).to.not.emit(c.adjudicator, "PartiallyWithdrawn");
      await expect(tx).to.changeEtherBalances([c.payee1, c.adjudicatorAddress], [0n, 0n]);
      expect(await withdrawnOf(c)).to.deep.equal([0n, 0n]);
    });

    it("is valid at block.timestamp == expiry", async function () {
      const c = await loadFixture(fixture);
      const w = withdrawal(c, 1, W);
      const sigs = await signWithdrawalBoth(c.adjudicator, c.both, w);
      await time.setNextBlockTimestamp(c.expiry);
      await expect(submit(c, w, sigs)).to.changeEtherBalance(c.payee1, W);
      expect(await now()).to.equal(c.expiry);
    });

    it("is refused at expiry + 1 even though it would have paid one second earlier", async function () {
      const c = await loadFixture(fixture);
      const w = withdrawal(c, 1, W);
      const sigs = await signWithdrawalBoth(c.adjudicator, c.both, w);
      await time.setNextBlockTimestamp(c.expiry + 1n);
      await expect(submit(c, w, sigs))
        .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalExpired")
        .withArgs(c.expiry);
      expect(await withdrawnOf(c)).to.deep.equal([0n, 0n]);
    });

    it("may be submitted by anyone, and always pays the payee", async function () {
      const c = await loadFixture(fixture);
      let total = 0n;
      for (const submitter of [c.mallory, c.payee0, c.alice, c.bob, c.payee1]) {
        total += 10n;
        const w = withdrawal(c, 0, total);
        const sigs = await signWithdrawalBoth(c.adjudicator, c.both, w);
        const tx = c.adjudicator.connect(submitter).partialWithdraw(c.ethParams, w, sigs);
        await expect(tx).to.emit(c.adjudicator, "PartiallyWithdrawn").withArgs(idOf(c.ethParams), 0, 10n, total);
        await expect(tx).to.changeEtherBalance(c.payee0, 10n);
      }
      expect(await withdrawnOf(c)).to.deep.equal([total, 0n]);
    });

    it("lets a side withdraw more than it deposited when it was paid: only the channel's holdings bound it", async function () {
      const c = await loadFixture(fixture);
      // Alice has paid Bob 300 off-chain; both sign Bob's withdrawal of 700: his 400 deposit plus
      // the 300 received. The contract checks no state here, only what the channel holds.
      const paid = makeState(c.ethParams, 1n, [300n, 0n]);
      await expect(submit(c, withdrawal(c, 1, 700n))).to.changeEtherBalance(c.payee1, 700n);
      expect(700n).to.be.greaterThan(DEPOSITS[1]);
      await expect(submit(c, withdrawal(c, 0, HOLDINGS - 700n + 1n)))
        .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalExceedsHoldings")
        .withArgs(HOLDINGS - 700n + 1n, HOLDINGS - 700n);
      // The final state pays what is left by the balances: Alice 600 - 300, Bob 400 + 300 - 700.
      const final = makeState(c.ethParams, 2n, paid.transferred, true);
      const { payouts } = expectedSplit(DEPOSITS, final.transferred, [0n, 700n]);
      expect(payouts).to.deep.equal([300n, 0n]);
      const tx = c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.ethParams), 2n, payouts);
      await expect(tx).to.changeEtherBalances([c.payee0, c.payee1, c.adjudicatorAddress], [300n, 0n, -300n]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });

    it("can empty the channel exactly, and then nothing more", async function () {
      const c = await loadFixture(fixture);
      await submit(c, withdrawal(c, 0, 500n));
      await expect(submit(c, withdrawal(c, 1, HOLDINGS - 500n))).to.changeEtherBalance(c.payee1, HOLDINGS - 500n);
      await expect(submit(c, withdrawal(c, 0, 501n)))
        .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalExceedsHoldings")
        .withArgs(1n, 0n);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });
  });

  describe("withdrawals, then the channel concludes", function () {
    const WITHDRAWN: [bigint, bigint] = [100n, 50n];
    const TRANSFERRED: [bigint, bigint] = [150n, 30n];

    async function withdrawBoth(c: Ctx): Promise<void> {
      await submit(c, withdrawal(c, 0, WITHDRAWN[0]));
      await submit(c, withdrawal(c, 1, WITHDRAWN[1]));
    }

    it("close pays the balances net of the withdrawals", async function () {
      const c = await loadFixture(fixture);
      await withdrawBoth(c);
      const final = makeState(c.ethParams, 7n, TRANSFERRED, true);
      const { payouts } = expectedSplit(DEPOSITS, TRANSFERRED, WITHDRAWN);
      expect(payouts[0] + payouts[1]).to.equal(HOLDINGS - WITHDRAWN[0] - WITHDRAWN[1]);
      const tx = c.adjudicator.close(c.ethParams, final, await signed(c.adjudicator, c.both, final));
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.ethParams), 7n, payouts);
      await expect(tx).to.changeEtherBalances(
        [c.payee0, c.payee1, c.alice, c.bob, c.adjudicatorAddress],
        [payouts[0], payouts[1], 0n, 0n, -(payouts[0] + payouts[1])],
      );
      const [mode, , , deposits, withdrawn] = await c.adjudicator.channel(idOf(c.ethParams));
      expect(mode).to.equal(BigInt(ChannelMode.Concluded));
      expect([deposits[0], deposits[1], withdrawn[0], withdrawn[1]]).to.deep.equal([0n, 0n, 0n, 0n]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });

    it("settle pays the registered state's balances net of the withdrawals", async function () {
      const c = await loadFixture(fixture);
      await withdrawBoth(c);
      const s = makeState(c.ethParams, 7n, TRANSFERRED);
      await c.adjudicator.challenge(c.ethParams, s, await signed(c.adjudicator, c.both, s));
      await time.increaseTo(await deadlineOf(c));
      const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED, WITHDRAWN);
      const tx = c.adjudicator.settle(c.ethParams, s);
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.ethParams), 7n, payouts, held);
      await expect(tx).to.changeEtherBalances([c.payee0, c.payee1], payouts);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });

    it("a state signed before a withdrawal still settles net of it", async function () {
      const c = await loadFixture(fixture);
      const s = makeState(c.ethParams, 3n, TRANSFERRED);
      const sigs = await signed(c.adjudicator, c.both, s);
      await submit(c, withdrawal(c, 0, 200n));
      await c.adjudicator.challenge(c.ethParams, s, sigs);
      await time.increaseTo(await deadlineOf(c));
      const { payouts } = expectedSplit(DEPOSITS, TRANSFERRED, [200n, 0n]);
      await expect(c.adjudicator.settle(c.ethParams, s)).to.changeEtherBalances([c.payee0, c.payee1], payouts);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });
  });

  describe("tokens and receivers", function () {
    it("pays an ERC-20 withdrawal to the payee", async function () {
      const c = await loadFixture(fixture);
      const tx = submit(c, withdrawal(c, 1, W, c.tokenParams), undefined, c.tokenParams);
      await expect(tx).to.emit(c.adjudicator, "PartiallyWithdrawn").withArgs(idOf(c.tokenParams), 1, W, W);
      await expect(tx).to.changeTokenBalances(c.token, [c.payee1, c.bob, c.adjudicatorAddress], [W, 0n, -W]);
      expect(await withdrawnOf(c, c.tokenParams)).to.deep.equal([0n, W]);
      await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], c.payees);
    });

    it("with a fee-on-transfer token: records the full amount sent, the payee gets it less the fee", async function () {
      const c = await loadFixture(fixture);
      const [, , , deposits] = await c.adjudicator.channel(idOf(c.feeParams));
      expect([deposits[0], deposits[1]]).to.deep.equal(c.feeDeposits);
      const total = c.feeDeposits[0] + 100n;
      const fee = await c.feeToken.feeOf(total);
      const tx = submit(c, withdrawal(c, 0, total, c.feeParams), undefined, c.feeParams);
      await expect(tx).to.emit(c.adjudicator, "PartiallyWithdrawn").withArgs(idOf(c.feeParams), 0, total, total);
      await expect(tx).to.changeTokenBalances(c.feeToken, [c.payee0, c.adjudicatorAddress], [total - fee, -total]);
      const held = c.feeDeposits[0] + c.feeDeposits[1] - total;
      await expect(submit(c, withdrawal(c, 1, held + 1n, c.feeParams), undefined, c.feeParams))
        .to.be.revertedWithCustomError(c.adjudicator, "WithdrawalExceedsHoldings")
        .withArgs(held + 1n, held);
      await expectConserved(c.adjudicator, c.feeTokenAddress, [c.feeParams], c.payees);
    });

    it("credits a payee that refuses ETH, which withdraws it later; the other side is not blocked", async function () {
      const c = await loadFixture(fixture);
      const id = idOf(c.refusingParams);
      const tx = submit(c, withdrawal(c, 1, W, c.refusingParams), undefined, c.refusingParams);
      await expect(tx).to.emit(c.adjudicator, "PartiallyWithdrawn").withArgs(id, 1, W, W);
      await expect(tx).to.emit(c.adjudicator, "Credited").withArgs(c.refusingAddress, ETH, W);
      await expect(tx).to.changeEtherBalances([c.refusingAddress, c.adjudicatorAddress], [0n, 0n]);
      expect(await c.adjudicator.credits(c.refusingAddress, ETH)).to.equal(W);
      expect(await withdrawnOf(c, c.refusingParams)).to.deep.equal([0n, W]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);

      await expect(submit(c, withdrawal(c, 0, W, c.refusingParams), undefined, c.refusingParams)).to.changeEtherBalance(c.payee0, W);

      await c.refusing.setRejecting(false);
      const withdraw = c.refusing.execute(c.adjudicatorAddress, c.adjudicator.interface.encodeFunctionData("withdraw", [ETH]));
      await expect(withdraw).to.emit(c.adjudicator, "Withdrawn").withArgs(c.refusingAddress, ETH, c.refusingAddress, W);
      await expect(withdraw).to.changeEtherBalances([c.refusingAddress, c.adjudicatorAddress], [W, -W]);
      await expectConserved(c.adjudicator, ETH, c.ethChannels, c.ethOwners);
    });
  });
});
