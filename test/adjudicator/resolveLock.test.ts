/**
 * `resolveLock`: after a channel settles on a state with locks, each lock (a leaf of the state's
 * `locksRoot`, shown by a proof) pays `payees[1 - sender]` if its secret was revealed at or before
 * its expiry, else, once the expiry has passed, `payees[sender]`; at most what is still held back
 * for the sender, and once. Trees are built by merkletreejs (sortPairs) over `lockLeafHex` leaves,
 * with an odd number of leaves so a node is carried up.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { ChannelMode, ETH, ZERO_HASH, type Address, type Hex } from "../../src/types";
import {
  PERIOD,
  deployBase,
  expectConserved,
  expectRevertRow,
  expectedSplit,
  fund,
  idOf,
  itRejectsRows,
  makeParams,
  makeState,
  now,
  opening,
  signed,
  type ChannelParams,
  type ChannelState,
  type RevertRow,
} from "../helpers/fixture";
import { LocksTree, leafOf, makeLock, secretOf, stateWithLocks, type ChannelLock } from "../helpers/locks";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];
const TRANSFERRED: [bigint, bigint] = [200n, 80n];
const VERSION = 5n;
const LABELS = ["a", "b", "c", "d", "e"] as const;
type Label = (typeof LABELS)[number];

/** One channel settled (or about to be) on a state with five locks: a, b, c from 0; d, e from 1. */
interface Scenario {
  params: ChannelParams;
  deposits: [bigint, bigint];
  locks: Record<Label, ChannelLock>;
  tree: LocksTree;
  state: ChannelState;
}

function scenario(
  params: ChannelParams,
  expiries: { early: bigint; late: bigint },
  deposits: [bigint, bigint] = DEPOSITS,
  locked?: [bigint, bigint],
): Scenario {
  const locks: Record<Label, ChannelLock> = {
    a: makeLock(params, 0, 100n, "a", expiries.early),
    b: makeLock(params, 0, 50n, "b", expiries.late),
    c: makeLock(params, 0, 20n, "c", expiries.early),
    d: makeLock(params, 1, 70n, "d", expiries.early),
    e: makeLock(params, 1, 30n, "e", expiries.late),
  };
  const tree = new LocksTree(LABELS.map((l) => locks[l]));
  return { params, deposits, locks, tree, state: stateWithLocks(params, VERSION, TRANSFERRED, tree, locked ?? tree.locked) };
}

async function fixture() {
  const base = await deployBase();
  const { adjudicator, both, participants, tokenAddress } = base;
  const signers = await ethers.getSigners();
  const [payee0, payee1, stranger] = [signers[4], signers[5], signers[9]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const paramsOf = (nonce: bigint, asset: Address = ETH) => makeParams(participants, asset, nonce, PERIOD, payees);

  const start = await now();
  const expiries = { early: start + 2n * PERIOD, late: start + 3n * PERIOD };
  // The main channel; the same in a token; one whose state locks less than its leaves add up to;
  // one whose state locks more than the channel holds.
  const eth = scenario(paramsOf(31n), expiries);
  const erc20 = scenario(paramsOf(32n, tokenAddress), expiries);
  const short = scenario(paramsOf(33n), expiries, DEPOSITS, [120n, 70n]);
  const tight = scenario(paramsOf(34n), expiries, [300n, 0n], [250n, 200n]);
  for (const s of [eth, erc20, short, tight]) {
    await fund(adjudicator, s.params, both, s.deposits);
    await adjudicator.challenge(s.params, s.state, await signed(adjudicator, both, s.state));
  }
  // A channel that stays open, one never funded, one that closes cooperatively in a test.
  const open = scenario(paramsOf(35n), expiries);
  const none = scenario(paramsOf(36n), expiries);
  const closed = scenario(paramsOf(37n), expiries);
  await fund(adjudicator, open.params, both, DEPOSITS);
  await fund(adjudicator, closed.params, both, DEPOSITS);
  const [, , deadline] = await adjudicator.channel(idOf(eth.params));
  return { ...base, payee0, payee1, stranger, payees, expiries, eth, erc20, short, tight, open, none, closed, deadline };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** Every ETH channel of the fixture, for the conservation checks (all pay the same two payees). */
const ethChannels = (c: Ctx) => [c.eth, c.short, c.tight, c.open, c.none, c.closed].map((s) => s.params);

async function expectEthConserved(c: Ctx): Promise<void> {
  await expectConserved(c.adjudicator, ETH, ethChannels(c), c.payees);
}

/** Settles the scenario's channel on its registered state once its deadline has come. */
async function settle(c: Ctx, s: Scenario = c.eth) {
  const [, , deadline] = await c.adjudicator.channel(idOf(s.params));
  if ((await now()) < deadline) await time.increaseTo(deadline);
  return c.adjudicator.connect(c.stranger).settle(s.params, s.state);
}

async function reveal(c: Ctx, label: Label, at?: bigint) {
  if (at !== undefined) await time.setNextBlockTimestamp(at);
  return c.adjudicator.connect(c.stranger).registerSecret(secretOf(label));
}

/** resolveLock from a stranger (anyone may call) with the lock's proof in the scenario's tree. */
function resolve(c: Ctx, label: Label, s: Scenario = c.eth) {
  const lock = s.locks[label];
  return c.adjudicator.connect(c.stranger).resolveLock(s.params, s.state, lock, s.tree.proof(lock));
}

async function heldBackOf(c: Ctx, s: Scenario = c.eth): Promise<[bigint, bigint]> {
  const held = await c.adjudicator.heldBack(idOf(s.params));
  return [held[0], held[1]];
}

const payeeOf = (c: Ctx, i: 0 | 1) => (i === 0 ? c.payee0 : c.payee1);

/** Resolves `label` and checks the payout, the event, the held-back view and conservation. */
async function expectResolved(c: Ctx, label: Label, paidTo: 0 | 1, amount: bigint, s: Scenario = c.eth): Promise<void> {
  const lock = s.locks[label];
  const heldBefore = await heldBackOf(c, s);
  const tx = resolve(c, label, s);
  await expect(tx).to.emit(c.adjudicator, "LockResolved").withArgs(idOf(s.params), lock.hashlock, leafOf(lock), paidTo, amount);
  await expect(tx).to.not.emit(c.adjudicator, "Credited");
  if (s.params.asset === ETH) {
    await expect(tx).to.changeEtherBalances(
      [payeeOf(c, paidTo), payeeOf(c, (1 - paidTo) as 0 | 1), c.adjudicatorAddress],
      [amount, 0n, -amount],
    );
    await expectEthConserved(c);
  } else {
    await expect(tx).to.changeTokenBalances(c.token, [payeeOf(c, paidTo), c.adjudicatorAddress], [amount, -amount]);
    await expectConserved(c.adjudicator, c.tokenAddress, [s.params], c.payees);
  }
  const expected = [...heldBefore] as [bigint, bigint];
  expected[lock.sender] -= amount;
  expect(await heldBackOf(c, s)).to.deep.equal(expected);
}

describe("Adjudicator #resolveLock", function () {
  describe("settlement holds back the locked amounts", function () {
    it("settle pays the balances and holds back locked[i] for each sender's locks", async function () {
      const c = await loadFixture(fixture);
      const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED, [0n, 0n], c.eth.tree.locked);
      expect(held).to.deep.equal(c.eth.tree.locked);
      expect(await heldBackOf(c)).to.deep.equal([0n, 0n]);
      const tx = settle(c);
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.eth.params), VERSION, payouts, held);
      await expect(tx).to.changeEtherBalances([c.payee0, c.payee1, c.alice, c.bob], [payouts[0], payouts[1], 0n, 0n]);
      expect(await heldBackOf(c)).to.deep.equal(held);
      const [mode] = await c.adjudicator.channel(idOf(c.eth.params));
      expect(mode).to.equal(BigInt(ChannelMode.Concluded));
      await expectEthConserved(c);
    });

    it("a state locking more than the channel holds: held back only what is left after participant 0's balance", async function () {
      const c = await loadFixture(fixture);
      const { payouts, held } = expectedSplit(c.tight.deposits, TRANSFERRED, [0n, 0n], c.tight.state.locked);
      expect(held[0] + held[1]).to.be.lessThan(c.tight.state.locked[0] + c.tight.state.locked[1]);
      await expect(settle(c, c.tight)).to.emit(c.adjudicator, "Settled").withArgs(idOf(c.tight.params), VERSION, payouts, held);
      expect(await heldBackOf(c, c.tight)).to.deep.equal(held);
      await expectEthConserved(c);
    });
  });

  describe("a secret revealed in time wins its lock", function () {
    for (const label of ["a", "d"] as const) {
      it(`revealed before settlement: lock ${label} pays the receiver's payee`, async function () {
        const c = await loadFixture(fixture);
        const lock = c.eth.locks[label];
        await reveal(c, label);
        await settle(c);
        await expectResolved(c, label, (1 - lock.sender) as 0 | 1, lock.amount);
        expect(await c.adjudicator.lockResolved(leafOf(lock))).to.equal(true);
      });

      it(`revealed after settlement, before expiry: lock ${label} still pays the receiver, also resolved long after expiry`, async function () {
        const c = await loadFixture(fixture);
        const lock = c.eth.locks[label];
        await settle(c);
        await reveal(c, label, lock.expiry - 10n);
        await time.increaseTo(lock.expiry + 7n * 86_400n);
        await expectResolved(c, label, (1 - lock.sender) as 0 | 1, lock.amount);
      });
    }

    it("revealed exactly at expiry: the receiver wins", async function () {
      const c = await loadFixture(fixture);
      await settle(c);
      await reveal(c, "a", c.eth.locks.a.expiry);
      expect(await c.adjudicator.secretRevealedAt(c.eth.locks.a.hashlock)).to.equal(c.eth.locks.a.expiry);
      await expectResolved(c, "a", 1, c.eth.locks.a.amount);
    });

    it("one revealed secret claims the same hashlock in every channel (as a hub needs)", async function () {
      const c = await loadFixture(fixture);
      await reveal(c, "d");
      await settle(c);
      await settle(c, c.short);
      await expectResolved(c, "d", 0, c.eth.locks.d.amount);
      await expectResolved(c, "d", 0, c.short.locks.d.amount, c.short);
    });
  });

  describe("a lock not claimed in time returns to its sender", function () {
    it("revealed one second after expiry: back to the sender's payee", async function () {
      const c = await loadFixture(fixture);
      await settle(c);
      await reveal(c, "d", c.eth.locks.d.expiry + 1n);
      await expectResolved(c, "d", 1, c.eth.locks.d.amount);
    });

    it("never revealed: LockPending up to and at expiry, then back to the sender's payee", async function () {
      const c = await loadFixture(fixture);
      const lock = c.eth.locks.a;
      await settle(c);
      await expect(resolve(c, "a")).to.be.revertedWithCustomError(c.adjudicator, "LockPending").withArgs(lock.expiry);
      await time.setNextBlockTimestamp(lock.expiry);
      await expect(resolve(c, "a")).to.be.revertedWithCustomError(c.adjudicator, "LockPending").withArgs(lock.expiry);
      await time.setNextBlockTimestamp(lock.expiry + 1n);
      await expectResolved(c, "a", 0, lock.amount);
      expect(await c.adjudicator.secretRevealedAt(lock.hashlock)).to.equal(0n);
    });

    it("a secret revealed late, after the lock went back, changes nothing", async function () {
      const c = await loadFixture(fixture);
      await settle(c);
      await time.increaseTo(c.eth.locks.a.expiry + 1n);
      await expectResolved(c, "a", 0, c.eth.locks.a.amount);
      await reveal(c, "a");
      await expect(resolve(c, "a")).to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved").withArgs(leafOf(c.eth.locks.a));
    });
  });

  describe("each lock resolves once, and held-back amounts cap the payouts", function () {
    it("every lock of both senders resolves once; the held-back amounts end at zero", async function () {
      const c = await loadFixture(fixture);
      for (const label of ["a", "b", "e"] as const) await reveal(c, label);
      await settle(c);
      await time.increaseTo(c.expiries.late + 1n);
      // a, b revealed: to payee 1; c never: back to payee 0; d never: back to payee 1; e revealed: to payee 0.
      await expectResolved(c, "a", 1, 100n);
      await expectResolved(c, "b", 1, 50n);
      await expectResolved(c, "c", 0, 20n);
      await expectResolved(c, "d", 1, 70n);
      await expectResolved(c, "e", 0, 30n);
      expect(await heldBackOf(c)).to.deep.equal([0n, 0n]);
      // A lock that left something held back is recorded; the one that used the rest up needs no record.
      await expect(resolve(c, "a")).to.be.revertedWithCustomError(c.adjudicator, "LockAlreadyResolved").withArgs(leafOf(c.eth.locks.a));
      await expect(resolve(c, "c")).to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld").withArgs(leafOf(c.eth.locks.c));
      await expect(resolve(c, "e")).to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld").withArgs(leafOf(c.eth.locks.e));
      expect(await c.adjudicator.lockResolved(leafOf(c.eth.locks.a))).to.equal(true);
      expect(await c.adjudicator.lockResolved(leafOf(c.eth.locks.e))).to.equal(false);
      await expectEthConserved(c);
    });

    it("a state locking less than its leaves add up to: payouts stop when the held-back amount is used up", async function () {
      const c = await loadFixture(fixture);
      const s = c.short;
      for (const label of LABELS) await reveal(c, label);
      await settle(c, s);
      expect(await heldBackOf(c, s)).to.deep.equal([120n, 70n]);
      await expectResolved(c, "a", 1, 100n, s);
      await expectResolved(c, "b", 1, 20n, s); // 50 locked, 20 left
      await expect(resolve(c, "c", s))
        .to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld")
        .withArgs(leafOf(s.locks.c));
      await expectResolved(c, "d", 0, 70n, s);
      await expect(resolve(c, "e", s))
        .to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld")
        .withArgs(leafOf(s.locks.e));
      expect(await heldBackOf(c, s)).to.deep.equal([0n, 0n]);
      await expectEthConserved(c);
    });

    it("a state locking more than the channel holds: the locks pay only what was held back, what no leaf claims stays", async function () {
      const c = await loadFixture(fixture);
      const s = c.tight;
      for (const label of LABELS) await reveal(c, label);
      await settle(c, s);
      const { held } = expectedSplit(s.deposits, TRANSFERRED, [0n, 0n], s.state.locked);
      expect(held[0] + held[1]).to.equal(s.deposits[0] + s.deposits[1]);
      expect(await heldBackOf(c, s)).to.deep.equal(held);
      const left = [...held] as [bigint, bigint];
      for (const label of LABELS) {
        const lock = s.locks[label];
        const amount = lock.amount < left[lock.sender] ? lock.amount : left[lock.sender];
        if (amount === 0n) {
          await expect(resolve(c, label, s))
            .to.be.revertedWithCustomError(c.adjudicator, "LockNothingHeld")
            .withArgs(leafOf(lock));
        } else {
          await expectResolved(c, label, (1 - lock.sender) as 0 | 1, amount, s);
        }
        left[lock.sender] -= amount;
      }
      // Sender 1's locks were cut short; sender 0's leaves claim less than was held back for it.
      expect(left[1]).to.equal(0n);
      expect(left[0]).to.equal(held[0] - s.tree.locked[0]);
      expect(await heldBackOf(c, s)).to.deep.equal(left);
      await expectEthConserved(c);
    });
  });

  describe("reverts", function () {
    const otherTree = (c: Ctx) => new LocksTree([c.eth.locks.a, c.eth.locks.b, c.eth.locks.d]);
    const call =
      (opts: {
        scenario?: (c: Ctx) => Scenario;
        state?: (c: Ctx) => ChannelState;
        lock?: (c: Ctx) => ChannelLock;
        proof?: (c: Ctx) => Hex[];
      }) =>
      (c: Ctx) => {
        const s = opts.scenario ? opts.scenario(c) : c.eth;
        const lock = opts.lock ? opts.lock(c) : s.locks.a;
        const proof = opts.proof ? opts.proof(c) : s.tree.proof(s.locks.a);
        return c.adjudicator.resolveLock(s.params, opts.state ? opts.state(c) : s.state, lock, proof);
      };
    /** Runs `setup` first, then the call. */
    const after = (setup: (c: Ctx) => Promise<unknown>, then: (c: Ctx) => ReturnType<ReturnType<typeof call>>) => async (c: Ctx) => {
      await setup(c);
      return then(c);
    };
    const settled = (c: Ctx) => reveal(c, "a").then(() => settle(c));

    const rows: RevertRow<Ctx>[] = [
      {
        description: "a state naming another channel",
        call: after(settled, call({ state: (c) => ({ ...c.eth.state, channelId: idOf(c.erc20.params) }) })),
        error: "StateChannelMismatch",
        args: (c) => [idOf(c.eth.params), idOf(c.erc20.params)],
      },
      {
        description: "a lock of another channel",
        call: after(settled, call({ lock: (c) => c.erc20.locks.a })),
        error: "LockChannelMismatch",
        args: (c) => [idOf(c.eth.params), idOf(c.erc20.params)],
      },
      {
        description: "a lock whose sender is 2",
        call: after(settled, call({ lock: (c) => ({ ...c.eth.locks.a, sender: 2 as unknown as 0 }) })),
        error: "ParticipantIndexInvalid",
        args: () => [2],
      },
      {
        description: "a channel whose challenge runs",
        call: call({}),
        error: "ChannelNotConcluded",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "a channel past its deadline, not settled",
        call: after((c) => time.increaseTo(c.deadline), call({})),
        error: "ChannelNotConcluded",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "an open channel",
        call: call({ scenario: (c) => c.open }),
        error: "ChannelNotConcluded",
        args: (c) => [idOf(c.open.params)],
      },
      {
        description: "a channel that does not exist",
        call: call({ scenario: (c) => c.none }),
        error: "ChannelNotConcluded",
        args: (c) => [idOf(c.none.params)],
      },
      {
        description: "another version of the settled state",
        call: after(settled, call({ state: (c) => ({ ...c.eth.state, version: VERSION + 1n }) })),
        error: "StateUnknown",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "the settled state with other locked amounts",
        call: after(settled, call({ state: (c) => ({ ...c.eth.state, locked: [1_000n, 1_000n] }) })),
        error: "StateUnknown",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "the settled state with another locks root (a tree the lock is in)",
        call: after(
          settled,
          call({ state: (c) => ({ ...c.eth.state, locksRoot: otherTree(c).root }), proof: (c) => otherTree(c).proof(c.eth.locks.a) }),
        ),
        error: "StateUnknown",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "the opening state",
        call: after(settled, call({ state: (c) => opening(c.eth.params) })),
        error: "StateUnknown",
        args: (c) => [idOf(c.eth.params)],
      },
      {
        description: "a state with locks, signed but never concluded, of a channel closed cooperatively",
        call: after(
          async (c) => {
            const final = makeState(c.closed.params, VERSION + 1n, TRANSFERRED, true);
            await c.adjudicator.close(c.closed.params, final, await signed(c.adjudicator, c.both, final));
          },
          call({ scenario: (c) => c.closed }),
        ),
        error: "StateUnknown",
        args: (c) => [idOf(c.closed.params)],
      },
      {
        description: "the final state of a channel closed cooperatively (no locks root)",
        call: after(
          async (c) => {
            const final = makeState(c.closed.params, VERSION + 1n, TRANSFERRED, true);
            await c.adjudicator.close(c.closed.params, final, await signed(c.adjudicator, c.both, final));
          },
          call({ scenario: (c) => c.closed, state: (c) => makeState(c.closed.params, VERSION + 1n, TRANSFERRED, true), proof: () => [] }),
        ),
        error: "LockProofInvalid",
        args: (c) => [leafOf(c.closed.locks.a)],
      },
      {
        description: "the proof of another leaf",
        call: after(settled, call({ proof: (c) => c.eth.tree.proof(c.eth.locks.d) })),
        error: "LockProofInvalid",
        args: (c) => [leafOf(c.eth.locks.a)],
      },
      {
        description: "an empty proof",
        call: after(settled, call({ proof: () => [] })),
        error: "LockProofInvalid",
        args: (c) => [leafOf(c.eth.locks.a)],
      },
      ...(
        [
          ["a raised amount", (l: ChannelLock) => ({ ...l, amount: l.amount + 1n })],
          ["a later expiry", (l: ChannelLock) => ({ ...l, expiry: l.expiry + 1n })],
          ["the other sender", (l: ChannelLock) => ({ ...l, sender: (1 - l.sender) as 0 | 1 })],
          ["another hashlock", (l: ChannelLock) => ({ ...l, hashlock: ethers.sha256(secretOf("forged")) as Hex })],
          ["another ref", (l: ChannelLock) => ({ ...l, ref: ZERO_HASH })],
        ] as const
      ).map(([what, change]): RevertRow<Ctx> => ({
        description: `a lock changed to ${what}, with the true lock's proof`,
        call: after(settled, call({ lock: (c) => change(c.eth.locks.a) })),
        error: "LockProofInvalid",
        args: (c) => [leafOf(change(c.eth.locks.a))],
      })),
      {
        description: "a lock resolved before",
        call: after(async (c) => {
          await settled(c);
          await resolve(c, "a");
        }, call({})),
        error: "LockAlreadyResolved",
        args: (c) => [leafOf(c.eth.locks.a)],
      },
      {
        description: "a lock whose sender has nothing held back any more",
        call: after(
          async (c) => {
            await reveal(c, "b");
            await reveal(c, "c");
            await settled(c);
            for (const label of ["a", "b", "c"] as const) await resolve(c, label);
          },
          call({ lock: (c) => c.eth.locks.c, proof: (c) => c.eth.tree.proof(c.eth.locks.c) }),
        ),
        error: "LockNothingHeld",
        args: (c) => [leafOf(c.eth.locks.c)],
      },
      {
        description: "a lock unrevealed before its expiry",
        call: after((c) => settle(c), call({})),
        error: "LockPending",
        args: (c) => [c.eth.locks.a.expiry],
      },
      {
        description: "a lock unrevealed at exactly its expiry",
        call: after(async (c) => {
          await settle(c);
          await time.setNextBlockTimestamp(c.eth.locks.a.expiry);
        }, call({})),
        error: "LockPending",
        args: (c) => [c.eth.locks.a.expiry],
      },
    ];

    itRejectsRows(fixture, rows, {
      check: async (c) => {
        await expectEthConserved(c);
      },
    });
  });

  describe("cooperative close and final states", function () {
    it("a channel closed cooperatively holds nothing back: there are no locks to resolve", async function () {
      const c = await loadFixture(fixture);
      const final = makeState(c.closed.params, 9n, TRANSFERRED, true);
      const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED);
      expect(held).to.deep.equal([0n, 0n]);
      const tx = c.adjudicator.close(c.closed.params, final, await signed(c.adjudicator, c.both, final));
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(c.closed.params), 9n, payouts);
      expect(payouts[0] + payouts[1]).to.equal(DEPOSITS[0] + DEPOSITS[1]);
      expect(await heldBackOf(c, c.closed)).to.deep.equal([0n, 0n]);
      await expectEthConserved(c);
    });

    const withLocks: { description: string; locked: [bigint, bigint]; root: (c: Ctx) => Hex }[] = [
      { description: "locked[0] only", locked: [1n, 0n], root: () => ZERO_HASH },
      { description: "locked[1] only", locked: [0n, 1n], root: () => ZERO_HASH },
      { description: "a locks root only", locked: [0n, 0n], root: (c) => c.open.tree.root },
      { description: "locked amounts and a locks root", locked: [170n, 100n], root: (c) => c.open.tree.root },
    ];
    for (const fn of ["close", "challenge"] as const) {
      for (const { description, locked, root } of withLocks) {
        it(`${fn} refuses a final state with ${description} (StateFinalWithLocks)`, async function () {
          const c = await loadFixture(fixture);
          const s = makeState(c.open.params, 3n, TRANSFERRED, true, ZERO_HASH, { locked, locksRoot: root(c) });
          const row: RevertRow<Ctx> = {
            description,
            call: async (ctx) => ctx.adjudicator[fn](ctx.open.params, s, await signed(ctx.adjudicator, ctx.both, s)),
            error: "StateFinalWithLocks",
            args: () => [3n],
          };
          await expectRevertRow(c.adjudicator, row, c);
          const [mode] = await c.adjudicator.channel(idOf(c.open.params));
          expect(mode).to.equal(BigInt(ChannelMode.Open));
        });
      }
    }
  });

  describe("ERC-20 locks", function () {
    it("pays token locks to the receiver (secret in time) and back to the sender (expired)", async function () {
      const c = await loadFixture(fixture);
      const s = c.erc20;
      await reveal(c, "d");
      const { payouts, held } = expectedSplit(DEPOSITS, TRANSFERRED, [0n, 0n], s.tree.locked);
      const tx = settle(c, s);
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(s.params), VERSION, payouts, held);
      await expect(tx).to.changeTokenBalances(c.token, [c.payee0, c.payee1], payouts);
      await expectResolved(c, "d", 0, 70n, s);
      await time.increaseTo(c.expiries.early + 1n);
      await expectResolved(c, "a", 0, 100n, s);
      await expectResolved(c, "c", 0, 20n, s);
      expect(await heldBackOf(c, s)).to.deep.equal([50n, 30n]);
      await expectConserved(c.adjudicator, c.tokenAddress, [s.params], c.payees);
    });
  });
});
