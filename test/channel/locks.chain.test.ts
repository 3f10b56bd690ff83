/**
 * A state with locks made by the channel pair, on the real contract (Hardhat network): it is
 * registered with `challenge` and settled, and `resolveLock` with the channel's proof pays the
 * receiver when the secret was registered on chain by the expiry, and refunds the sender after the
 * expiry otherwise (never before it).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { lockLeafHex } from "../../src/crypto/hash";
import { ETH, type Address, type Lock } from "../../src/types";
import { PERIOD, deployBase, fund, idOf, makeParams, now } from "../helpers/fixture";
import { KEYS } from "../helpers/offchain";
import { Clock, Registry, by0, expectInStep, lock0, lock1, makePair, refOf, secretOf } from "./helpers";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  const [payee0, payee1, stranger] = [signers[4], signers[5], signers[9]];
  const params = makeParams([KEYS[0].address, KEYS[1].address], ETH, 151n, PERIOD, [payee0.address as Address, payee1.address as Address]);
  await fund(base.adjudicator, params, base.both, DEPOSITS);
  const clock = new Clock(await now());
  const registry = new Registry();
  const pair = makePair(clock, registry, { params, adjudicator: base.adjudicatorAddress, deposits: DEPOSITS });
  // a (0 → 1, 100) and b (1 → 0, 70) are paid on chain: their secrets are registered in time;
  // c (0 → 1, 30) and d (1 → 0, 20) go back to their senders: c's secret is never registered, d's too late.
  const expiry = clock.now + 2n * PERIOD;
  const locks: Record<"a" | "b" | "c" | "d", Lock> = {
    a: await lock0(pair, 100n, "a", expiry),
    b: await lock1(pair, 70n, "b", expiry),
    c: await lock0(pair, 30n, "c", expiry),
    d: await lock1(pair, 20n, "d", expiry),
  };
  await by0(pair, { kind: "pay", amount: 5n, ref: refOf("pay") });
  const signed = expectInStep(pair);
  return { ...base, payee0, payee1, stranger, params, pair, locks, expiry, signed };
}

describe("channel: a state with locks on the adjudicator", function () {
  it("is registered and settled, and each lock resolves with the channel's proof: paid with its secret in time, refunded after expiry otherwise", async function () {
    const { adjudicator, stranger, payee0, payee1, params, pair, locks, expiry, signed } = await loadFixture(fixture);
    const { state, sigs } = signed;
    expect(state.locked).to.deep.equal([130n, 90n]);
    // The contract's digest of the state is the one both sides signed.
    expect(await adjudicator.hashState(state)).to.equal(`0x${pair[0].hasher.digest(state).toString("hex")}`);

    await adjudicator.connect(stranger).challenge(params, state, [sigs[0], sigs[1]]);
    await adjudicator.connect(stranger).registerSecret(secretOf("a"));
    await adjudicator.connect(stranger).registerSecret(secretOf("b"));
    const [, , deadline] = await adjudicator.channel(idOf(params));
    await time.increaseTo(deadline);
    // Settlement pays each side its balance and holds the locked amounts back.
    await expect(adjudicator.connect(stranger).settle(params, state)).to.changeEtherBalances([payee0, payee1], pair[0].payouts);
    expect(pair[0].payouts).to.deep.equal([DEPOSITS[0] - 5n - 130n, DEPOSITS[1] + 5n - 90n]);

    const resolve = (lock: Lock) => adjudicator.connect(stranger).resolveLock(params, state, lock, pair[1].lockProof(lock).proof);
    const id = idOf(params);
    await expect(resolve(locks.a)).to.changeEtherBalances([payee0, payee1], [0n, 100n]);
    await expect(resolve(locks.b)).to.emit(adjudicator, "LockResolved").withArgs(id, locks.b.hashlock, lockLeafHex(locks.b), 0, 70n);
    // Before the expiry, a lock whose secret is not registered can't be refunded yet.
    await expect(resolve(locks.c)).to.be.revertedWithCustomError(adjudicator, "LockPending").withArgs(expiry);
    await time.increaseTo(expiry + 1n);
    await adjudicator.connect(stranger).registerSecret(secretOf("d")); // too late: d stays refundable
    await expect(resolve(locks.c)).to.changeEtherBalances([payee0, payee1], [30n, 0n]);
    await expect(resolve(locks.d)).to.emit(adjudicator, "LockResolved").withArgs(id, locks.d.hashlock, lockLeafHex(locks.d), 1, 20n);
    // Each leaf resolves once.
    await expect(resolve(locks.a)).to.be.revertedWithCustomError(adjudicator, "LockAlreadyResolved").withArgs(lockLeafHex(locks.a));
    expect(await ethers.provider.getBalance(await adjudicator.getAddress())).to.equal(0n);
  });
});
