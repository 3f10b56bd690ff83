/**
 * Payment receipts (SPV): `verifyPayment` against trees of 1 to 1,000 payments built by
 * merkletreejs exactly as the client builds them, on channels that concluded by a cooperative
 * close, by a settle after a refuted challenge (a state with pending locks), and on channels whose
 * challenge is still running (also with locks). Payees are apart from the participants.
 */
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { AbiCoder, getBytes, hexlify, id as textHash, keccak256 as keccakHex } from "ethers";
import keccak256 from "keccak256";
import { MerkleTree } from "merkletreejs";
import type { Adjudicator } from "../../typechain-types";
import type { ParamsStruct, PaymentStruct, StateStruct } from "../../typechain-types/contracts/Adjudicator";
import { PAYMENT_ABI_TYPE } from "../../src/typedData";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type Payment, type State } from "../../src/types";
import { channelIdOf, openingState, signBoth } from "../helpers/channel";

const coder = AbiCoder.defaultAbiCoder();

const SIZES = [...Array.from({ length: 40 }, (_, i) => i + 1), 63, 64, 65, 127, 128, 129, 255, 256, 257, 500, 999, 1000];
/** Trees up to this size are checked leaf by leaf; larger ones by a sample. */
const CHECK_ALL_UP_TO = 129;
const PATHS = ["close", "settle", "running"] as const;
type Path = (typeof PATHS)[number];
const SETTLE_PERIOD = 60n;
const RUNNING_PERIOD = 365n * 24n * 3600n;
const DEPOSIT = 10n ** 18n;

/** Leaf = keccak256(bytes.concat(keccak256(abi.encode(payment)))), as PaymentLeaf.hash. */
function leafOf(p: Payment): Hex {
  return keccakHex(keccakHex(coder.encode([PAYMENT_ABI_TYPE], [p]))) as Hex;
}

function paymentsOf(channelId: Hex, n: number, salt: string): Payment[] {
  return Array.from({ length: n }, (_, i) => ({
    channelId,
    seq: BigInt(i),
    payer: (i % 3 === 2 ? 1 : 0),
    amount: 1_000n + BigInt(i) * 7n,
    ref: textHash(`order-${salt}-${i}`) as Hex,
  }));
}

interface Log {
  payments: Payment[];
  tree: MerkleTree;
  root: Hex;
  proof(i: number): Hex[];
}

function logOf(payments: Payment[]): Log {
  const tree = new MerkleTree(
    payments.map((p) => Buffer.from(getBytes(leafOf(p)))),
    keccak256,
    { sortPairs: true },
  );
  const leaves = tree.getLeaves();
  return { payments, tree, root: tree.getHexRoot() as Hex, proof: (i) => tree.getHexProof(leaves[i], i) as Hex[] };
}

/** Locks pending in the non-final states of the settle and running paths (the tree's leaves don't matter here). */
const PENDING_LOCKS = { locked: [3n, 4n] as [bigint, bigint], locksRoot: textHash("pending locks") as Hex };
const NO_LOCKS = { locked: [0n, 0n] as [bigint, bigint], locksRoot: ZERO_HASH };

function stateOf(channelId: Hex, version: bigint, payments: Payment[], root: Hex, isFinal: boolean, locks = NO_LOCKS): State {
  const paid = (who: 0 | 1) => payments.filter((p) => p.payer === who).reduce((s, p) => s + p.amount, 0n);
  return {
    channelId,
    version,
    transferred: [paid(0), paid(1)],
    locked: [...locks.locked],
    locksRoot: locks.locksRoot,
    paymentsRoot: root,
    isFinal,
  };
}

const paramsArg = (p: Params): ParamsStruct => ({
  ...p,
  participants: [p.participants[0], p.participants[1]],
  payees: [p.payees[0], p.payees[1]],
});
const stateArg = (s: State): StateStruct => ({
  ...s,
  transferred: [s.transferred[0], s.transferred[1]],
  locked: [s.locked[0], s.locked[1]],
});
const paymentArg = (p: Payment): PaymentStruct => ({ ...p });

interface Channel {
  n: number;
  path: Path;
  params: Params;
  id: Hex;
  /** The state the channel concluded with (close, settle) or that its challenge holds (running). */
  current: State;
  log: Log;
  /** An older state, v4, over the first n - 1 payments (or another single payment when n = 1). */
  older: State;
  olderLog: Log;
}

/** Indices to check: all of a small tree; first, last, middle, neighbours and a spread of a large one. */
function indicesOf(n: number): number[] {
  if (n <= CHECK_ALL_UP_TO) return Array.from({ length: n }, (_, i) => i);
  const picks = new Set([0, 1, n - 2, n - 1, Math.floor(n / 2), Math.floor(n / 2) - 1]);
  // A fixed spread (a multiplicative walk), reproducible run to run.
  for (let k = 1; k <= 24; k++) picks.add((k * 7919) % n);
  return [...picks].sort((a, b) => a - b);
}

describe("#verifyPayment (payment receipts)", function () {
  async function fixture() {
    const signers = await ethers.getSigners();
    const [alice, bob, carol] = signers;
    const adjudicator = await ethers.deployContract("Adjudicator");
    const participants = [alice.address, bob.address] as [Address, Address];
    let nonce = 0n;
    const payees = [signers[5].address, signers[6].address] as [Address, Address];
    const paramsFor = (period: bigint): Params => ({ participants, payees, asset: ETH, challengePeriod: period, nonce: ++nonce });
    const open = async (params: Params) => {
      await adjudicator.connect(alice).deposit(paramsArg(params), 0, DEPOSIT, { value: DEPOSIT });
    };

    // Build every channel's log and states, and sign them all at once.
    const channels: Channel[] = [];
    for (const n of SIZES) {
      for (const path of PATHS) {
        const params = paramsFor(path === "running" ? RUNNING_PERIOD : SETTLE_PERIOD);
        const id = channelIdOf(params);
        const log = logOf(paymentsOf(id, n, `${path}-${n}`));
        const olderLog = logOf(n > 1 ? log.payments.slice(0, n - 1) : paymentsOf(id, 1, `older-${path}`));
        channels.push({
          n,
          path,
          params,
          id,
          log,
          olderLog,
          current: stateOf(id, 5n, log.payments, log.root, path === "close", path === "close" ? NO_LOCKS : PENDING_LOCKS),
          older: stateOf(id, 4n, olderLog.payments, olderLog.root, false),
        });
      }
    }
    const sigs = await Promise.all(
      channels.map(async (c) => ({
        current: await signBoth(adjudicator, [alice, bob], c.current),
        older: await signBoth(adjudicator, [alice, bob], c.older),
      })),
    );

    // close: final state at once. settle and running: register the older state, refute it with
    // the current one; settle the first kind after its period.
    for (const [i, c] of channels.entries()) {
      await open(c.params);
      if (c.path === "close") {
        await adjudicator.connect(carol).close(paramsArg(c.params), stateArg(c.current), sigs[i].current);
      } else {
        await adjudicator.connect(carol).challenge(paramsArg(c.params), stateArg(c.older), sigs[i].older);
        await adjudicator.connect(carol).challenge(paramsArg(c.params), stateArg(c.current), sigs[i].current);
      }
    }
    await time.increase(SETTLE_PERIOD);
    for (const c of channels) if (c.path === "settle") await adjudicator.connect(carol).settle(paramsArg(c.params), stateArg(c.current));

    // Channels that hold no state: one never opened, one open, and one whose challenge holds the
    // unsigned opening state.
    const untouched = paramsFor(SETTLE_PERIOD);
    const opened = paramsFor(SETTLE_PERIOD);
    await open(opened);
    const atOpening = paramsFor(RUNNING_PERIOD);
    await open(atOpening);
    await adjudicator.connect(alice).challenge(paramsArg(atOpening), stateArg(openingState(channelIdOf(atOpening))), ["0x", "0x"]);

    // Closed during a running challenge: the closing state counts, the registered one no more.
    const interrupted = paramsFor(RUNNING_PERIOD);
    const interruptedId = channelIdOf(interrupted);
    const interruptedLog = logOf(paymentsOf(interruptedId, 9, "interrupted"));
    const interruptedOlderLog = logOf(interruptedLog.payments.slice(0, 5));
    const interruptedOlder = stateOf(interruptedId, 6n, interruptedOlderLog.payments, interruptedOlderLog.root, false);
    const interruptedFinal = stateOf(interruptedId, 9n, interruptedLog.payments, interruptedLog.root, true);
    await open(interrupted);
    await adjudicator.challenge(
      paramsArg(interrupted),
      stateArg(interruptedOlder),
      await signBoth(adjudicator, [alice, bob], interruptedOlder),
    );
    await adjudicator.close(
      paramsArg(interrupted),
      stateArg(interruptedFinal),
      await signBoth(adjudicator, [alice, bob], interruptedFinal),
    );

    // A channel whose (faulty) log holds a payment that names another channel.
    const mixedParams = paramsFor(SETTLE_PERIOD);
    const mixedId = channelIdOf(mixedParams);
    const otherId = channels[0].id;
    const mixedPayments = paymentsOf(mixedId, 6, "mixed");
    const foreignIndex = 4;
    mixedPayments[foreignIndex] = { ...mixedPayments[foreignIndex], channelId: otherId };
    const mixedLog = logOf(mixedPayments);
    const mixedState = stateOf(mixedId, 2n, mixedPayments, mixedLog.root, true);
    await open(mixedParams);
    await adjudicator.close(paramsArg(mixedParams), stateArg(mixedState), await signBoth(adjudicator, [alice, bob], mixedState));

    const find = (n: number, path: Path) => channels.find((c) => c.n === n && c.path === path)!;
    return {
      adjudicator,
      channels,
      find,
      untouched,
      opened,
      atOpening,
      mixed: { id: mixedId, otherId, log: mixedLog, state: mixedState, foreignIndex },
      interrupted: {
        id: interruptedId,
        log: interruptedLog,
        olderLog: interruptedOlderLog,
        older: interruptedOlder,
        final: interruptedFinal,
      },
    };
  }

  /** verifyPayment for many inputs at once. */
  async function verifyAll(adjudicator: Adjudicator, calls: [Hex, State, Payment, Hex[]][]): Promise<boolean[]> {
    return Promise.all(calls.map(([id, s, p, proof]) => adjudicator.verifyPayment(id, stateArg(s), paymentArg(p), proof)));
  }

  describe("accepts every payment of the state a channel concluded with (or its running challenge holds)", function () {
    for (const n of SIZES) {
      it(`${n} payment${n === 1 ? "" : "s"}: closed, settled, challenge running`, async function () {
        const { adjudicator, find } = await loadFixture(fixture);
        for (const path of PATHS) {
          const c = find(n, path);
          const [mode, version] = await adjudicator.channel(c.id);
          // channel() reports the version only while a challenge runs (mode 2); a concluded channel is mode 3.
          expect([mode, version]).to.deep.equal(path === "running" ? [2n, 5n] : [3n, 0n]);
          // The settled state had pending locks: their amounts stay held back.
          expect(await adjudicator.heldBack(c.id)).to.deep.equal(path === "settle" ? PENDING_LOCKS.locked : [0n, 0n]);
          const indices = indicesOf(n);
          const results = await verifyAll(
            adjudicator,
            indices.map((i) => [c.id, c.current, c.log.payments[i], c.log.proof(i)]),
          );
          expect(results.filter((r) => !r).length, `${path}: payments not confirmed`).to.equal(0);
          expect(results.length).to.equal(indices.length);
          // merkletreejs agrees: the proofs are what a client would hand out.
          for (const i of [0, n - 1]) expect(c.log.tree.verify(c.log.proof(i), leafOf(c.log.payments[i]), c.log.root)).to.equal(true);
        }
      });
    }
  });

  describe("rejects", function () {
    const SAMPLE_SIZES = [1, 2, 3, 5, 8, 13, 64, 65, 257, 1000];

    it("a forged proof: any one sibling with one bit flipped, or a sibling added or dropped", async function () {
      const { adjudicator, find } = await loadFixture(fixture);
      for (const n of SAMPLE_SIZES) {
        for (const path of PATHS) {
          const c = find(n, path);
          const i = Math.floor(n / 2);
          const proof = c.log.proof(i);
          const payment = c.log.payments[i];
          const forged: Hex[][] = proof.map((_, k) => proof.map((h, j) => (j === k ? flipBit(h, 7 + k) : h)));
          forged.push([...proof, textHash("extra sibling") as Hex]);
          if (proof.length > 0) forged.push(proof.slice(0, -1));
          const [genuine, ...results] = await verifyAll(adjudicator, [
            [c.id, c.current, payment, proof],
            ...forged.map((f): [Hex, State, Payment, Hex[]] => [c.id, c.current, payment, f]),
          ]);
          expect(genuine, `${n}/${path}: genuine proof`).to.equal(true);
          expect(results, `${n}/${path}: forged proofs`).to.deep.equal(forged.map(() => false));
        }
      }
    });

    it("a payment with one field changed: amount, payer, seq, ref", async function () {
      const { adjudicator, find } = await loadFixture(fixture);
      for (const n of SAMPLE_SIZES) {
        for (const path of PATHS) {
          const c = find(n, path);
          const i = n - 1;
          const p = c.log.payments[i];
          const proof = c.log.proof(i);
          const changed: Payment[] = [
            { ...p, amount: p.amount + 1n },
            { ...p, amount: 0n },
            { ...p, payer: p.payer === 0 ? 1 : 0 },
            { ...p, seq: p.seq + 1n },
            { ...p, ref: textHash("another order") as Hex },
          ];
          const results = await verifyAll(adjudicator, [
            [c.id, c.current, p, proof],
            ...changed.map((q): [Hex, State, Payment, Hex[]] => [c.id, c.current, q, proof]),
          ]);
          expect(results).to.deep.equal([true, ...changed.map(() => false)]);
        }
      }
    });

    it("another channel's payment: payment.channelId or the channelId argument differs", async function () {
      const { adjudicator, find } = await loadFixture(fixture);
      for (const path of PATHS) {
        const a = find(8, path);
        const b = find(13, path);
        const p = a.log.payments[3];
        const proof = a.log.proof(3);

        const results = await verifyAll(adjudicator, [
          [a.id, a.current, p, proof], // the genuine receipt
          [a.id, a.current, { ...p, channelId: b.id }, proof], // the payment names B, all else is A's
          [b.id, a.current, p, proof], // asks about channel B with A's state and payment
          [b.id, b.current, p, proof], // A's payment against B's concluded state
          [a.id, a.current, b.log.payments[3], b.log.proof(3)], // B's receipt presented as A's
          [b.id, b.current, b.log.payments[3], b.log.proof(3)], // and B's own receipt holds
        ]);
        expect(results, path).to.deep.equal([true, false, false, false, false, true]);
      }
    });

    it("a payment naming another channel even when it is a genuine leaf of the concluded root", async function () {
      // Channel M concluded with a root whose tree (wrongly) holds a payment that names channel
      // B: the Merkle proof is valid, yet that payment is no receipt of M, nor of B.
      const { adjudicator, mixed } = await loadFixture(fixture);
      const k = mixed.foreignIndex;
      const foreign = mixed.log.payments[k];
      expect(foreign.channelId).to.equal(mixed.otherId);
      expect(mixed.log.tree.verify(mixed.log.proof(k), leafOf(foreign), mixed.log.root)).to.equal(true);
      const results = await verifyAll(adjudicator, [
        [mixed.id, mixed.state, mixed.log.payments[0], mixed.log.proof(0)],
        [mixed.id, mixed.state, foreign, mixed.log.proof(k)],
        [mixed.otherId, mixed.state, foreign, mixed.log.proof(k)],
        [mixed.otherId, { ...mixed.state, channelId: mixed.otherId }, foreign, mixed.log.proof(k)],
      ]);
      expect(results).to.deep.equal([true, false, false, false]);
    });

    it("a state other than the concluded or registered one (one field changed at a time), even with a valid proof of its own root", async function () {
      const { adjudicator, find } = await loadFixture(fixture);
      for (const n of SAMPLE_SIZES) {
        for (const path of PATHS) {
          const c = find(n, path);
          const i = 0;
          const cur = c.current;
          // The older state's proof is valid for the older root: only the state is wrong.
          expect(c.olderLog.tree.verify(c.olderLog.proof(i), leafOf(c.olderLog.payments[i]), c.olderLog.root)).to.equal(true);
          const variants: State[] = [
            { ...cur, version: cur.version + 1n },
            { ...cur, version: cur.version - 1n },
            { ...cur, transferred: [cur.transferred[0] + 1n, cur.transferred[1]] },
            { ...cur, transferred: [cur.transferred[0], cur.transferred[1] + 1n] },
            { ...cur, locked: [cur.locked[0] + 1n, cur.locked[1]] },
            { ...cur, locked: [cur.locked[0], cur.locked[1] + 1n] },
            { ...cur, locksRoot: cur.locksRoot === ZERO_HASH ? (textHash("some locks") as Hex) : ZERO_HASH },
            { ...cur, paymentsRoot: c.olderLog.root },
            { ...cur, isFinal: !cur.isFinal },
          ];
          const results = await verifyAll(adjudicator, [
            [c.id, cur, c.log.payments[i], c.log.proof(i)],
            [c.id, c.older, c.olderLog.payments[i], c.olderLog.proof(i)],
            ...variants.map((v): [Hex, State, Payment, Hex[]] => [c.id, v, c.log.payments[i], c.log.proof(i)]),
            // The changed root with the proof that fits it: still not the concluded state.
            [c.id, variants[7], c.olderLog.payments[i], c.olderLog.proof(i)],
          ]);
          expect(results, `${n}/${path}`).to.deep.equal([true, false, ...variants.map(() => false), false]);
        }
      }
    });

    it("a state registered in a challenge that was later replaced (settled or still running)", async function () {
      const { adjudicator, find } = await loadFixture(fixture);
      for (const n of SAMPLE_SIZES) {
        for (const path of ["settle", "running"] as const) {
          const c = find(n, path);
          const last = c.olderLog.payments.length - 1;
          const results = await verifyAll(adjudicator, [
            [c.id, c.older, c.olderLog.payments[0], c.olderLog.proof(0)],
            [c.id, c.older, c.olderLog.payments[last], c.olderLog.proof(last)],
            [c.id, c.current, c.log.payments[0], c.log.proof(0)],
          ]);
          expect(results, `${n}/${path}`).to.deep.equal([false, false, true]);
        }
      }
    });

    it("the registered state of a challenge that a cooperative close then ended", async function () {
      const { adjudicator, interrupted: x } = await loadFixture(fixture);
      const [mode, version] = await adjudicator.channel(x.id);
      expect([mode, version]).to.deep.equal([3n, 0n]);
      const results = await verifyAll(adjudicator, [
        [x.id, x.older, x.olderLog.payments[2], x.olderLog.proof(2)],
        [x.id, x.final, x.log.payments[2], x.log.proof(2)],
        [x.id, x.final, x.log.payments[8], x.log.proof(8)],
      ]);
      expect(results).to.deep.equal([false, true, true]);
    });

    it("any state of a channel with no registered or concluded state", async function () {
      const { adjudicator, untouched, opened, atOpening } = await loadFixture(fixture);
      const calls: [Hex, State, Payment, Hex[]][] = [];
      for (const params of [untouched, opened]) {
        const id = channelIdOf(params);
        const log = logOf(paymentsOf(id, 5, "unregistered"));
        const state = stateOf(id, 1n, log.payments, log.root, true);
        for (let i = 0; i < 5; i++) calls.push([id, state, log.payments[i], log.proof(i)]);
        // A single-payment root: the leaf is the root and the proof is empty.
        const single = logOf(log.payments.slice(0, 1));
        calls.push([id, stateOf(id, 1n, single.payments, single.root, true), single.payments[0], []]);
      }
      expect((await adjudicator.channel(channelIdOf(untouched)))[0]).to.equal(0n);
      expect((await adjudicator.channel(channelIdOf(opened)))[0]).to.equal(1n);
      expect(await verifyAll(adjudicator, calls)).to.deep.equal(calls.map(() => false));

      // The opening state registers a zero root: no payment (nor any zero-looking one) is in it.
      const id = channelIdOf(atOpening);
      expect((await adjudicator.channel(id))[0]).to.equal(2n);
      const zeroPayment: Payment = { channelId: id, seq: 0n, payer: 0, amount: 0n, ref: ZERO_HASH };
      const log = logOf(paymentsOf(id, 4, "opening"));
      expect(
        await verifyAll(adjudicator, [
          [id, openingState(id), zeroPayment, []],
          [id, openingState(id), log.payments[0], log.proof(0)],
          [id, { ...openingState(id), paymentsRoot: log.root }, log.payments[0], log.proof(0)],
        ]),
      ).to.deep.equal([false, false, false]);
    });

    it("an inner node presented as a leaf with the shortened proof above it", async function () {
      // The second-preimage attack on a Merkle tree: an inner node N = H(a, b) plus the proof
      // from N upwards verifies against the root exactly like a leaf would. A verifier that took
      // leaf hashes from the caller would accept N as a "payment". verifyPayment takes the payment
      // itself and hashes it twice: leaf = keccak256(x) with x = keccak256(abi.encode(payment)),
      // a 32-byte preimage. N = keccak256(a ‖ b) has a 64-byte preimage, so a payment whose leaf
      // equals N would need a 32-byte x with keccak256(x) = keccak256(a ‖ b): a second preimage
      // of keccak256 of another length, which nobody can find. (A single hash of the 160-byte
      // encoding would already differ in length here; the double hash makes the argument hold
      // for any payload, as in OpenZeppelin's StandardMerkleTree.)
      const { adjudicator, find } = await loadFixture(fixture);
      for (const n of [4, 8, 13, 64, 1000]) {
        const c = find(n, "close");
        const layers = c.log.tree.getLayers();
        const full = c.log.proof(0);
        for (let level = 1; level < layers.length - 1; level++) {
          const inner = hexlify(layers[level][0]) as Hex;
          const shortened = full.slice(level);
          // The shortened proof really does lift the inner node to the root...
          expect(c.log.tree.verify(shortened, inner, c.log.root), `${n}: level ${level}`).to.equal(true);
          // ...but no payment hashes to the inner node, so the contract says no to every attempt:
          // the children's hashes and the node itself smuggled into a payment's fields, and the
          // genuine first payment with the shortened proof.
          const [a, b] = [hexlify(layers[level - 1][0]) as Hex, hexlify(layers[level - 1][1]) as Hex];
          const first = c.log.payments[0];
          const attempts: Payment[] = [
            { ...first, ref: inner },
            { ...first, ref: a, amount: BigInt(b) },
            { ...first, ref: b, amount: BigInt(a) },
            first,
          ];
          for (const p of attempts) expect(leafOf(p)).to.not.equal(inner);
          const results = await verifyAll(
            adjudicator,
            attempts.map((p): [Hex, State, Payment, Hex[]] => [c.id, c.current, p, shortened]),
          );
          expect(results, `${n}: level ${level}`).to.deep.equal(attempts.map(() => false));
        }
      }
    });
  });
});

function flipBit(h: Hex, bit: number): Hex {
  const bytes = getBytes(h);
  bytes[(bit >> 3) % 32] ^= 1 << (bit & 7);
  return hexlify(bytes) as Hex;
}
