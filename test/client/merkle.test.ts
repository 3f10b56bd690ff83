import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import keccak256 from "keccak256";
import { MerkleTree as ReferenceTree } from "merkletreejs";
import { concat, keccak256 as ethersKeccak256 } from "ethers";
import { ethers } from "hardhat";
import { KeySigner, StateHasher, channelId, keccak256Bytes, lockLeaf, lockLeafHex, paymentLeaf } from "../../src/crypto";
import { DuplicateLockError, InvalidArgumentError, UnknownLockError, ValueOutOfRangeError, WrongChannelError } from "../../src/errors";
import { LocksTree, MerkleTree, PaymentLog } from "../../src/merkle";
import { lockValue, paramsValue, paymentValue, stateValue } from "../../src/typedData";
import type { Address, Hex, Lock, Params, State } from "../../src/types";
import { ETH, ZERO_HASH, openingState } from "../../src/types";
import { hexOf, lockArb } from "./arbitraries";

/** Deterministic distinct leaves: keccak256 of the index. */
function leafAt(i: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeUInt32BE(i, 28);
  return keccak256Bytes(b);
}

const hexes = (bs: readonly Uint8Array[]) => bs.map((b) => hexOf(b));

describe("client Merkle log", function () {
  describe("MerkleTree", function () {
    // The reference tree hashes with our native keccak256 (tested equal to the JS one) to keep
    // the suite fast; the random-size test below uses the `keccak256` package.
    it("has merkletreejs' root for every size 1..2000, and rootWith predicts the next root", function () {
      const leaves: Buffer[] = [];
      const tree = new MerkleTree();
      expect(hexOf(tree.root())).to.equal(ZERO_HASH);
      for (let n = 1; n <= 2000; n++) {
        const leaf = leafAt(n);
        const predicted = tree.rootWith(leaf);
        leaves.push(leaf);
        tree.append(leaf);
        expect(tree.size).to.equal(n);
        expect(hexOf(predicted), `rootWith at ${n}`).to.equal(hexOf(tree.root()));
        const reference = new ReferenceTree(leaves, keccak256Bytes, { sortPairs: true });
        expect(hexOf(tree.root()), `root of ${n}`).to.equal(reference.getHexRoot());
      }
    });

    it("has merkletreejs' proofs for every leaf of every size 1..80", function () {
      const leaves: Buffer[] = [];
      const tree = new MerkleTree();
      for (let n = 1; n <= 80; n++) {
        leaves.push(leafAt(n));
        tree.append(leafAt(n));
        const reference = new ReferenceTree(leaves, keccak256Bytes, { sortPairs: true });
        for (let i = 0; i < n; i++) {
          const proof = tree.proof(i);
          expect(hexes(proof), `proof ${i} of ${n}`).to.deep.equal(reference.getHexProof(leaves[i], i));
          expect(MerkleTree.verify(proof, tree.root(), leaves[i])).to.equal(true);
        }
      }
    });

    it("matches merkletreejs on random larger sizes, and random leaves", function () {
      fc.assert(
        fc.property(
          fc.integer({ min: 2001, max: 20_000 }),
          fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
          fc.nat(),
          (n, picks, salt) => {
            const leaves = Array.from({ length: n }, (_, i) => leafAt(i + salt));
            const tree = new MerkleTree(leaves);
            // merkletreejs with the `keccak256` package, as the design names it.
            const reference = new ReferenceTree(leaves, keccak256, { sortPairs: true });
            expect(hexOf(tree.root())).to.equal(reference.getHexRoot());
            for (const pick of [0, n - 1, ...picks.map((p) => p % n)]) {
              const proof = tree.proof(pick);
              expect(hexes(proof)).to.deep.equal(reference.getHexProof(leaves[pick], pick));
              expect(reference.verify(proof, leaves[pick], reference.getRoot())).to.equal(true);
            }
          },
        ),
        { numRuns: 6 },
      );
    });

    it("rejects a proof for another leaf, a tampered sibling or another root", function () {
      const leaves = Array.from({ length: 37 }, (_, i) => leafAt(i));
      const tree = new MerkleTree(leaves);
      const proof = tree.proof(11);
      expect(MerkleTree.verify(proof, tree.root(), leaves[11])).to.equal(true);
      expect(MerkleTree.verify(proof, tree.root(), leaves[12])).to.equal(false);
      const tampered = proof.map((p) => Buffer.from(p));
      tampered[2][5] ^= 1;
      expect(MerkleTree.verify(tampered, tree.root(), leaves[11])).to.equal(false);
      expect(MerkleTree.verify(proof, leafAt(999), leaves[11])).to.equal(false);
    });

    // How long a proof takes is measured by the benchmarks (`npm run bench`: proofs at 10^6 leaves),
    // never asserted here; what makes it fast is that a proof has at most ceil(log2 n) nodes.
    it("at 10^6 leaves a proof has at most 20 nodes and verifies", function () {
      const leaves = randomBytes(32 * 1_000_000);
      const leaf = (i: number) => leaves.subarray(32 * i, 32 * i + 32);
      const tree = new MerkleTree();
      for (let i = 0; i < 1_000_000; i++) tree.append(leaf(i));
      const root = tree.root();
      for (const index of [0, 1, 123_456, 999_998, 999_999, 524_288, 786_431]) {
        const proof = tree.proof(index);
        expect(proof.length).to.be.at.most(20);
        expect(MerkleTree.verify(proof, root, leaf(index))).to.equal(true);
        expect(MerkleTree.verify(proof, root, leaf(index === 0 ? 1 : 0))).to.equal(false);
      }
    });

    it("truncate(m) gives merkletreejs' tree of the first m leaves, and the tree rebuilt from scratch, also after more appends", function () {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 600 }),
          fc.nat(),
          fc.integer({ min: 0, max: 70 }),
          fc.nat(),
          (n, cut, more, salt) => {
            const m = n === 0 ? 0 : cut % (n + 1);
            const leaves = Array.from({ length: n }, (_, i) => leafAt(i + salt));
            const tree = new MerkleTree(leaves);
            const rootOfM = hexOf(tree.root(m));
            const proofsOfM = Array.from({ length: m }, (_, i) => hexes(tree.proof(i, m)));
            tree.truncate(m);
            const extra = Array.from({ length: more }, (_, i) => leafAt(1_000_000 + i + salt));
            for (const [step, kept] of [[0, leaves.slice(0, m)], [1, [...leaves.slice(0, m), ...extra]]] as const) {
              if (step === 1) for (const leaf of extra) tree.append(leaf);
              const rebuilt = new MerkleTree(kept);
              expect(tree.size).to.equal(kept.length);
              expect(hexOf(tree.root())).to.equal(hexOf(rebuilt.root()));
              if (kept.length > 0) {
                const reference = new ReferenceTree([...kept], keccak256Bytes, { sortPairs: true });
                expect(hexOf(tree.root())).to.equal(reference.getHexRoot());
                for (const i of [0, kept.length - 1, salt % kept.length]) {
                  expect(hexes(tree.proof(i))).to.deep.equal(reference.getHexProof(kept[i], i));
                  expect(hexes(tree.proof(i))).to.deep.equal(hexes(rebuilt.proof(i)));
                }
                expect(hexOf(tree.rootWith(leafAt(7)))).to.equal(hexOf(new MerkleTree([...kept, leafAt(7)]).root()));
              } else {
                expect(hexOf(tree.root())).to.equal(ZERO_HASH);
              }
            }
            // Before the truncation, root(m) and proof(i, m) already were those of the first m leaves.
            expect(rootOfM).to.equal(hexOf(new MerkleTree(leaves.slice(0, m)).root()));
            const prefix = new MerkleTree(leaves.slice(0, m));
            expect(proofsOfM).to.deep.equal(Array.from({ length: m }, (_, i) => hexes(prefix.proof(i))));
          },
        ),
        { numRuns: 60 },
      );
    });

    it("rejects a truncation or prefix size outside 0..size", function () {
      const tree = new MerkleTree([leafAt(0), leafAt(1)]);
      expect(() => tree.truncate(3)).to.throw(InvalidArgumentError);
      expect(() => tree.truncate(-1)).to.throw(InvalidArgumentError);
      expect(() => tree.truncate(0.5)).to.throw(InvalidArgumentError);
      expect(() => tree.root(3)).to.throw(InvalidArgumentError);
      expect(() => tree.proof(1, 1)).to.throw(InvalidArgumentError);
      expect(tree.size).to.equal(2);
    });

    it("rejects leaves of the wrong size and indexes outside the tree", function () {
      const tree = new MerkleTree([leafAt(0)]);
      expect(() => tree.append(Buffer.alloc(31))).to.throw(InvalidArgumentError);
      expect(() => tree.proof(1)).to.throw(InvalidArgumentError);
      expect(() => tree.proof(-1)).to.throw(InvalidArgumentError);
    });
  });

  describe("PaymentLog", function () {
    it("truncate drops the payments from seq = size on; the log then takes them again", function () {
      const payments = Array.from({ length: 13 }, (_, i) => ({
        channelId: ZERO_HASH,
        seq: BigInt(i),
        payer: (i % 2) as 0 | 1,
        amount: BigInt(i + 1),
        ref: hexOf(leafAt(i)),
      }));
      const log = new PaymentLog(payments);
      const full = log.root;
      expect(log.proof(3, 5).root).to.equal(new PaymentLog(payments.slice(0, 5)).root);
      log.truncate(5);
      expect(log.size).to.equal(5);
      expect(log.all()).to.deep.equal(payments.slice(0, 5));
      expect(log.root).to.equal(new PaymentLog(payments.slice(0, 5)).root);
      expect(() => log.payment(5)).to.throw(InvalidArgumentError);
      for (const p of payments.slice(5)) log.append(p);
      expect(log.root).to.equal(full);
      expect(() => log.truncate(14)).to.throw(InvalidArgumentError);
      expect(log.size).to.equal(13);
    });

    it("rejects a payment whose seq is not next", function () {
      const log = new PaymentLog();
      const payment = { channelId: ZERO_HASH, seq: 1n, payer: 0 as const, amount: 1n, ref: ZERO_HASH };
      expect(() => log.append(payment)).to.throw(InvalidArgumentError);
      expect(log.size).to.equal(0);
      expect(log.root).to.equal(ZERO_HASH);
    });
  });

  describe("LocksTree", function () {
    const CHANNEL = hexOf(leafAt(424242));
    /** OpenZeppelin's `MerkleProof.processProof` written out: commutative keccak of sorted pairs. */
    function ozProcessProof(proof: readonly Hex[], leaf: Hex): Hex {
      let computed = leaf;
      for (const sibling of proof) {
        const [a, b] = BigInt(computed) < BigInt(sibling) ? [computed, sibling] : [sibling, computed];
        computed = ethersKeccak256(concat([a, b])) as Hex;
      }
      return computed;
    }

    it("is empty with the zero root and nothing locked", function () {
      const tree = new LocksTree(CHANNEL);
      expect([tree.size, tree.root, tree.locked]).to.deep.equal([0, ZERO_HASH, [0n, 0n]]);
      expect(tree.all()).to.deep.equal([]);
    });

    it("has merkletreejs' root and proofs over the sorted lock leaves, whatever the order the locks come in, on random lock sets", function () {
      fc.assert(
        // Amounts below 2^192, so that no sender's sum overflows uint256 (that case has its own test).
        fc.property(fc.uniqueArray(lockArb(CHANNEL).map((l) => ({ ...l, amount: l.amount >> 64n })), { maxLength: 70, selector: (l) => lockLeafHex(l) }), fc.nat(), (locks, seed) => {
          const tree = new LocksTree(CHANNEL, locks);
          const leaves = locks.map((l) => lockLeaf(l));
          expect(tree.size).to.equal(locks.length);
          if (locks.length === 0) {
            expect(tree.root).to.equal(ZERO_HASH);
            return;
          }
          // merkletreejs with the `keccak256` package: sorted leaves, sorted pairs.
          const reference = new ReferenceTree(leaves, keccak256, { sortPairs: true, sortLeaves: true });
          expect(tree.root).to.equal(reference.getHexRoot());
          const sorted = [...leaves].sort((a, b) => Buffer.compare(a, b));
          expect(tree.leaves()).to.deep.equal(hexes(sorted));
          // Order-independent: the same set shuffled gives the same root.
          const shuffled = [...locks].sort((x, y) => (lockLeafHex(x) < lockLeafHex(y) ? 1 : -1) * (seed % 2 === 0 ? 1 : -1));
          expect(new LocksTree(CHANNEL, shuffled).root).to.equal(tree.root);
          // Per-sender sums.
          const sum = (sender: 0 | 1) => locks.filter((l) => l.sender === sender).reduce((acc, l) => acc + l.amount, 0n);
          expect(tree.locked).to.deep.equal([sum(0), sum(1)]);
          for (const lock of [locks[0], locks[locks.length - 1], locks[seed % locks.length]]) {
            const { proof, leaf, root } = tree.proof(lock);
            expect(leaf).to.equal(lockLeafHex(lock));
            expect(root).to.equal(tree.root);
            const index = sorted.findIndex((l) => hexOf(l) === leaf);
            expect(proof).to.deep.equal(reference.getHexProof(lockLeaf(lock), index));
            expect(ozProcessProof(proof, leaf)).to.equal(root);
            expect(LocksTree.verify(proof, root, leaf)).to.equal(true);
            expect(tree.proof(leaf)).to.deep.equal(tree.proof(lock));
          }
        }),
        { numRuns: 150 },
      );
    });

    it("with and without give the tree of the new set; has and get find pending locks", function () {
      const locks = fc.sample(lockArb(CHANNEL).map((l) => ({ ...l, amount: l.amount % 1_000_000n })), 12);
      const tree = new LocksTree(CHANNEL, locks.slice(0, 8));
      const added = tree.with(...locks.slice(8));
      expect(added.root).to.equal(new LocksTree(CHANNEL, locks).root);
      expect(tree.size).to.equal(8); // unchanged
      const removed = added.without(locks[3], lockLeafHex(locks[9]));
      const rest = locks.filter((_, i) => i !== 3 && i !== 9);
      expect(removed.root).to.equal(new LocksTree(CHANNEL, rest).root);
      expect(removed.locked).to.deep.equal(new LocksTree(CHANNEL, rest).locked);
      expect([removed.has(locks[3]), removed.has(locks[4]), removed.has(lockLeafHex(locks[4]))]).to.deep.equal([false, true, true]);
      expect(removed.get(lockLeafHex(locks[4]))).to.deep.equal(locks[4]);
      expect(removed.get(lockLeafHex(locks[3]))).to.equal(undefined);
    });

    it("any sequence of with and without equals the tree built afresh from the pending set (root, locked, order, lookups)", function () {
      const pool = fc.sample(lockArb(CHANNEL).map((l) => ({ ...l, amount: l.amount >> 64n })), 40);
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(39), fc.nat(3)), { maxLength: 60 }), (steps) => {
          let tree = new LocksTree(CHANNEL);
          const pending = new Map<string, Lock>();
          for (const [add, at, count] of steps) {
            const picked = [...new Set(Array.from({ length: count + 1 }, (_, k) => pool[(at + 7 * k) % pool.length]))];
            if (add) {
              const fresh = picked.filter((l) => !pending.has(lockLeafHex(l)));
              tree = tree.with(...fresh);
              for (const l of fresh) pending.set(lockLeafHex(l), l);
            } else {
              const gone = picked.filter((l) => pending.has(lockLeafHex(l)));
              tree = tree.without(...gone.map((l, k) => (k % 2 === 0 ? l : lockLeafHex(l))));
              for (const l of gone) pending.delete(lockLeafHex(l));
            }
            const afresh = new LocksTree(CHANNEL, [...pending.values()]);
            expect([tree.root, tree.locked, tree.leaves()]).to.deep.equal([afresh.root, afresh.locked, afresh.leaves()]);
            // The order is the bytes' (as the contract's proofs need), not only the constructor's.
            const byBytes = [...pending.values()].map((l) => lockLeaf(l)).sort((x, y) => Buffer.compare(x, y)).map((b) => `0x${b.toString("hex")}`);
            expect(tree.leaves()).to.deep.equal(byBytes);
            for (const l of pool) expect(tree.has(l), "has").to.equal(pending.has(lockLeafHex(l)));
          }
        }),
        { numRuns: 60 },
      );
    });

    it("refuses duplicate leaves, other channels, bad senders, unknown locks and sums beyond uint256", function () {
      const [lock, other] = fc.sample(lockArb(CHANNEL).map((l) => ({ ...l, amount: 5n })), 2);
      const rows: [string, () => unknown, new (...args: never[]) => Error][] = [
        ["the same lock twice", () => new LocksTree(CHANNEL, [lock, { ...lock }]), DuplicateLockError],
        ["a lock added twice", () => new LocksTree(CHANNEL, [lock]).with(lock), DuplicateLockError],
        ["a lock of another channel", () => new LocksTree(CHANNEL, [{ ...lock, channelId: ZERO_HASH }]), WrongChannelError],
        ["sender 2", () => new LocksTree(CHANNEL, [{ ...lock, sender: 2 as never }]), ValueOutOfRangeError],
        ["an amount beyond uint256", () => new LocksTree(CHANNEL, [{ ...lock, amount: 1n << 256n }]), ValueOutOfRangeError],
        [
          "a sender's sum beyond uint256",
          () => new LocksTree(CHANNEL, [{ ...lock, amount: (1n << 256n) - 1n }, { ...other, sender: lock.sender }]),
          ValueOutOfRangeError,
        ],
        ["a proof of a lock not pending", () => new LocksTree(CHANNEL, [lock]).proof(other), UnknownLockError],
        ["removing a lock not pending", () => new LocksTree(CHANNEL, [lock]).without(other), UnknownLockError],
        ["removing a lock twice at once", () => new LocksTree(CHANNEL, [lock, other]).without(lock, lockLeafHex(lock)), UnknownLockError],
        ["the same lock twice in one with", () => new LocksTree(CHANNEL).with(lock, { ...lock }), DuplicateLockError],
        ["a sender's sum beyond uint256 by with", () => new LocksTree(CHANNEL, [{ ...lock, amount: (1n << 256n) - 1n }]).with({ ...other, sender: lock.sender }), ValueOutOfRangeError],
      ];
      for (const [description, make, error] of rows) expect(make, description).to.throw(error);
    });
  });

  describe("on chain", function () {
    const KEYS = [new KeySigner(hexOf(Buffer.alloc(32, 0x11))), new KeySigner(hexOf(Buffer.alloc(32, 0x22)))] as const;

    async function fixture() {
      const adjudicator = await ethers.deployContract("Adjudicator");
      const [funder, payee] = await ethers.getSigners();
      const { chainId } = await ethers.provider.getNetwork();
      const hasher = new StateHasher(chainId, (await adjudicator.getAddress()) as Address);
      const payees: [Address, Address] = [KEYS[0].address, (await payee.getAddress()) as Address];
      const params: Params = { participants: [KEYS[0].address, KEYS[1].address], payees, asset: ETH, challengePeriod: 3600n, nonce: 1n };
      await adjudicator.connect(funder).deposit(paramsValue(params) as never, 0, 1000n, { value: 1000n });
      await adjudicator.connect(funder).deposit(paramsValue(params) as never, 1, 500n, { value: 500n });
      const sign = (state: State): [Hex, Hex] => {
        const digest = hasher.digest(state);
        return [KEYS[0].sign(digest), KEYS[1].sign(digest)];
      };
      return { adjudicator, params, id: channelId(params), sign };
    }

    it("the contract's verifyPayment accepts every proof of a concluded channel's log, and no tampered one", async function () {
      const { adjudicator, params, id, sign } = await loadFixture(fixture);
      const log = new PaymentLog();
      const transferred: [bigint, bigint] = [0n, 0n];
      for (let i = 0; i < 23; i++) {
        const payer = i % 3 === 0 ? 1 : 0;
        const amount = BigInt(i + 1);
        log.append({ channelId: id, seq: BigInt(i), payer, amount, ref: hexOf(keccak256Bytes(Buffer.from(`order #${i}`))) });
        transferred[payer] += amount;
      }
      const state: State = { ...openingState(id), version: 24n, transferred, paymentsRoot: log.root, isFinal: true };
      await adjudicator.close(paramsValue(params) as never, stateValue(state) as never, sign(state));
      for (let seq = 0; seq < 23; seq++) {
        const { payment, proof, root, leaf } = log.proof(seq);
        expect(root).to.equal(state.paymentsRoot);
        expect(leaf).to.equal(hexOf(paymentLeaf(payment)));
        expect(await adjudicator.verifyPayment(id, stateValue(state) as never, paymentValue(payment) as never, proof)).to.equal(true);
        const forged = { ...payment, amount: payment.amount + 1n };
        expect(await adjudicator.verifyPayment(id, stateValue(state) as never, paymentValue(forged) as never, proof)).to.equal(false);
        if (proof.length > 0) {
          const bent = [...proof];
          bent[0] = (bent[0].slice(0, -1) + (bent[0].endsWith("0") ? "1" : "0")) as Hex;
          expect(await adjudicator.verifyPayment(id, stateValue(state) as never, paymentValue(payment) as never, bent)).to.equal(false);
        }
      }
    });

    it("the contract's resolveLock accepts every LocksTree proof of a settled channel's locks, and no tampered one", async function () {
      const { adjudicator, params, id, sign } = await loadFixture(fixture);
      const expiry = (await time.latest()) + 10 * 3600;
      const locks: Lock[] = Array.from({ length: 11 }, (_, i) => ({
        channelId: id,
        sender: (i % 2) as 0 | 1,
        amount: BigInt(10 + i),
        hashlock: hexOf(keccak256Bytes(Buffer.from(`secret ${i}`))),
        expiry: BigInt(expiry),
        ref: hexOf(leafAt(i)),
      }));
      const tree = new LocksTree(id, locks);
      const state: State = { ...openingState(id), version: 5n, transferred: [100n, 50n], locked: tree.locked, locksRoot: tree.root };
      await adjudicator.challenge(paramsValue(params) as never, stateValue(state) as never, sign(state));
      await time.increase(3600);
      await adjudicator.settle(paramsValue(params) as never, stateValue(state) as never);
      expect(await adjudicator.heldBack(id)).to.deep.equal(tree.locked);
      await time.increaseTo(expiry + 1);

      for (const lock of locks) {
        const { proof, leaf } = tree.proof(lock);
        if (proof.length > 0) {
          const bent = [...proof];
          bent[bent.length - 1] = hexOf(leafAt(999));
          await expect(adjudicator.resolveLock(paramsValue(params) as never, stateValue(state) as never, lockValue(lock) as never, bent))
            .to.be.revertedWithCustomError(adjudicator, "LockProofInvalid")
            .withArgs(leaf);
        }
        await expect(adjudicator.resolveLock(paramsValue(params) as never, stateValue(state) as never, lockValue(lock) as never, proof))
          .to.emit(adjudicator, "LockResolved")
          .withArgs(id, lock.hashlock, leaf, lock.sender, lock.amount);
      }
      expect(await adjudicator.heldBack(id)).to.deep.equal([0n, 0n]);
    });
  });
});
