/**
 * The secret registry: `registerSecret(secret)` records, once, when sha256(secret) was first
 * revealed; `secretRevealedAt(hashlock)` reads it (0: never).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { hashlockOf } from "../../src/crypto/hash";
import { ZERO_HASH, type Hex } from "../../src/types";
import { deployBase, now } from "../helpers/fixture";
import { secretOf } from "../helpers/locks";

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  return { ...base, stranger: signers[9] };
}

/** sha256 of a 32-byte secret by node's crypto alone: a reference apart from src/. */
function nodeSha256(secret: Hex): Hex {
  return `0x${createHash("sha256")
    .update(Buffer.from(secret.slice(2), "hex"))
    .digest("hex")}`;
}

const SECRETS: { description: string; secret: Hex }[] = [
  { description: "a random-looking secret", secret: secretOf("invoice-1") },
  { description: "the zero secret", secret: ZERO_HASH },
  { description: "the all-ones secret", secret: ethers.toBeHex(ethers.MaxUint256, 32) as Hex },
];

describe("Adjudicator #registerSecret / #secretRevealedAt", function () {
  for (const { description, secret } of SECRETS) {
    it(`records sha256(secret) at the block's timestamp, with SecretRevealed (${description})`, async function () {
      const c = await loadFixture(fixture);
      const hashlock = hashlockOf(secret);
      expect(hashlock).to.equal(nodeSha256(secret));
      expect(hashlock).to.equal(ethers.sha256(secret));
      expect(await c.adjudicator.secretRevealedAt(hashlock)).to.equal(0n);
      const at = (await now()) + 100n;
      await time.setNextBlockTimestamp(at);
      const tx = c.adjudicator.connect(c.stranger).registerSecret(secret);
      await expect(tx).to.emit(c.adjudicator, "SecretRevealed").withArgs(hashlock, secret);
      expect(await c.adjudicator.secretRevealedAt(hashlock)).to.equal(at);
    });
  }

  it("registers under sha256, not keccak256", async function () {
    const c = await loadFixture(fixture);
    const secret = secretOf("hash-function");
    await c.adjudicator.registerSecret(secret);
    expect(await c.adjudicator.secretRevealedAt(ethers.keccak256(secret))).to.equal(0n);
    expect(await c.adjudicator.secretRevealedAt(ethers.sha256(secret))).to.be.greaterThan(0n);
    // The hashlock itself is not a secret that reveals anything: registering it records sha256 of it.
    expect(await c.adjudicator.secretRevealedAt(ethers.sha256(ethers.sha256(secret)))).to.equal(0n);
  });

  it("answers 0 for a hashlock never revealed", async function () {
    const c = await loadFixture(fixture);
    for (const hashlock of [ZERO_HASH, hashlockOf(secretOf("unknown")), ethers.id("not a hashlock") as Hex]) {
      expect(await c.adjudicator.secretRevealedAt(hashlock)).to.equal(0n);
    }
  });

  it("refuses a second registration with SecretAlreadyRevealed(hashlock, first time), by anyone, and keeps the first time", async function () {
    const c = await loadFixture(fixture);
    const secret = secretOf("twice");
    const hashlock = hashlockOf(secret);
    await c.adjudicator.connect(c.alice).registerSecret(secret);
    const first = await now();
    for (const caller of [c.alice, c.bob, c.stranger]) {
      await time.increase(10);
      await expect(c.adjudicator.connect(caller).registerSecret(secret))
        .to.be.revertedWithCustomError(c.adjudicator, "SecretAlreadyRevealed")
        .withArgs(hashlock, first);
    }
    expect(await c.adjudicator.secretRevealedAt(hashlock)).to.equal(first);
  });

  it("may be called by anyone: participants, strangers, contracts", async function () {
    const c = await loadFixture(fixture);
    const payee = await ethers.deployContract("ReentrantPayee");
    const callers = [c.alice, c.bob, c.mallory, c.stranger];
    for (const [i, caller] of callers.entries()) {
      const secret = secretOf(`caller-${i}`);
      await expect(c.adjudicator.connect(caller).registerSecret(secret))
        .to.emit(c.adjudicator, "SecretRevealed")
        .withArgs(hashlockOf(secret), secret);
    }
    const secret = secretOf("from-a-contract");
    await expect(payee.execute(await c.adjudicator.getAddress(), c.adjudicator.interface.encodeFunctionData("registerSecret", [secret])))
      .to.emit(c.adjudicator, "SecretRevealed")
      .withArgs(hashlockOf(secret), secret);
    expect(await c.adjudicator.secretRevealedAt(hashlockOf(secret))).to.equal(await now());
  });

  it("keeps each secret's own time", async function () {
    const c = await loadFixture(fixture);
    const times: bigint[] = [];
    const labels = ["a", "b", "c"];
    for (const label of labels) {
      const at = (await now()) + 1_000n;
      await time.setNextBlockTimestamp(at);
      await c.adjudicator.registerSecret(secretOf(label));
      times.push(at);
    }
    for (const [i, label] of labels.entries()) {
      expect(await c.adjudicator.secretRevealedAt(hashlockOf(secretOf(label)))).to.equal(times[i]);
    }
  });

  it("moves no money and needs no channel", async function () {
    const c = await loadFixture(fixture);
    const tx = c.adjudicator.connect(c.stranger).registerSecret(secretOf("free"));
    await expect(tx).to.changeEtherBalances([c.stranger, c.adjudicatorAddress], [0n, 0n]);
    await expect(tx).to.not.emit(c.adjudicator, "Credited");
  });
});
