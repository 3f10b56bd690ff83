/**
 * In-process figures: what libsecp256k1 allows on one core (the limit the payment rates are set
 * against), and the Merkle payment log's append and proof costs as the log grows to 10^6.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { EcdsaVerifier, KeySigner, StateHasher, nativeSecp256k1, paymentLeaf } from "../../src/crypto";
import { MerkleTree, PaymentLog } from "../../src/merkle";
import { ZERO_HASH, type Hex, type Payment, type State } from "../../src/types";
import { summarize, type LatencySummary } from "./load";

const hex = (b: Uint8Array): Hex => `0x${Buffer.from(b).toString("hex")}`;

/** `count` states with random ids and roots, version i + 1 and growing transfers (`unit` base units each step): digest inputs. */
export function randomStates(count: number, unit: bigint): State[] {
  return Array.from({ length: count }, (_, i) => ({
    channelId: hex(randomBytes(32)),
    version: BigInt(i + 1),
    transferred: [BigInt(i) * unit, 7n * BigInt(i)],
    locked: [0n, 0n],
    locksRoot: ZERO_HASH,
    paymentsRoot: hex(randomBytes(32)),
    isFinal: false,
  }));
}

/** Runs `op` repeatedly for about `ms` milliseconds; operations per second. */
function perSecond(ms: number, op: (i: number) => void): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 200; k++) op(n++);
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

export interface CryptoResult {
  native: boolean;
  signsPerSecond: number;
  verifiesPerSecond: number;
  digestsPerSecond: number;
  /** Payments per second one core could do if it only did 2 signs + 2 verifications per payment. */
  paymentLimitOneCore: number;
  /** ... and with the EIP-712 digests too (each side hashes the state once). */
  paymentLimitWithDigests: number;
}

export function cryptoLimit(): CryptoResult {
  const signer = new KeySigner(hex(randomBytes(32)), "native");
  const verifier = new EcdsaVerifier("native");
  const digests = Array.from({ length: 1024 }, () => randomBytes(32));
  const sigs = digests.map((d) => signer.sign(d));
  verifier.verify(signer.address, digests[0], sigs[0]); // caches the public key, as the node does
  perSecond(300, (i) => signer.sign(digests[i & 1023])); // warm-up
  const signs = perSecond(2_000, (i) => signer.sign(digests[i & 1023]));
  const verifies = perSecond(2_000, (i) => {
    if (!verifier.verify(signer.address, digests[i & 1023], sigs[i & 1023])) throw new Error("bad signature");
  });
  const hasher = new StateHasher(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  const states = randomStates(1024, 10n ** 6n);
  const digestRate = perSecond(1_000, (i) => hasher.digest(states[i & 1023]));
  const opUs = 2e6 / signs + 2e6 / verifies;
  return {
    native: nativeSecp256k1 !== undefined && nativeSecp256k1 !== null,
    signsPerSecond: Math.round(signs),
    verifiesPerSecond: Math.round(verifies),
    digestsPerSecond: Math.round(digestRate),
    paymentLimitOneCore: Math.round(1e6 / opUs),
    paymentLimitWithDigests: Math.round(1e6 / (opUs + 2e6 / digestRate)),
  };
}

export interface MerkleResult {
  /** Cost per payment appended to the log (leaf hash, tree append, new root), around size n. */
  append: { n: number; usPerAppend: number; treeOnlyUsPerAppend: number }[];
  proofAt: number;
  proofMs: LatencySummary;
  proofLength: number;
  verified: boolean;
  buildSeconds: number;
}

export function merkleCosts(max = 1_000_000): MerkleResult {
  const channelId = hex(randomBytes(32));
  const refs = randomBytes(32 * 1024);
  const paymentOf = (seq: number): Payment => ({
    channelId,
    seq: BigInt(seq),
    payer: (seq % 7 === 0 ? 1 : 0),
    amount: BigInt(1 + (seq % 1000)) * 10n ** 4n,
    ref: hex(refs.subarray(32 * (seq & 1023), 32 * (seq & 1023) + 32)),
  });
  const log = new PaymentLog();
  const tree = new MerkleTree();
  const leaves = randomBytes(32 * 4096);
  const checkpoints = [1_000, 10_000, 100_000, 1_000_000].filter((n) => n <= max);
  const append: MerkleResult["append"] = [];
  const t0 = performance.now();
  let size = 0;
  for (const n of checkpoints) {
    // Grow to n − w untimed-ish (still counted in buildSeconds), then time the last w appends.
    const w = Math.min(1_000, n);
    while (size < n - w) {
      const p = paymentOf(size);
      log.append(p);
      void log.root;
      tree.append(leaves.subarray(32 * (size & 4095), 32 * (size & 4095) + 32));
      size++;
    }
    let start = performance.now();
    for (let k = 0; k < w; k++) {
      const p = paymentOf(size + k);
      log.append(p, paymentLeaf(p));
      void log.root; // each state carries the new root
    }
    const logUs = ((performance.now() - start) * 1000) / w;
    start = performance.now();
    for (let k = 0; k < w; k++) tree.append(leaves.subarray(32 * ((size + k) & 4095), 32 * ((size + k) & 4095) + 32));
    const treeUs = ((performance.now() - start) * 1000) / w;
    size += w;
    append.push({ n, usPerAppend: Math.round(logUs * 100) / 100, treeOnlyUsPerAppend: Math.round(treeUs * 100) / 100 });
  }
  const buildSeconds = (performance.now() - t0) / 1000;
  // Proofs at the full size: random payments, each proof built from the stored tree and checked.
  const times: number[] = [];
  let verified = true;
  let proofLength = 0;
  const root = Buffer.from(log.root.slice(2), "hex");
  for (let k = 0; k < 2_000; k++) {
    const seq = Math.floor(Math.random() * size);
    const start = performance.now();
    const proof = log.proof(seq);
    times.push(performance.now() - start);
    proofLength = proof.proof.length;
    if (k < 200) {
      const ok = MerkleTree.verify(
        proof.proof.map((h) => Buffer.from(h.slice(2), "hex")),
        root,
        Buffer.from(proof.leaf.slice(2), "hex"),
      );
      verified &&= ok;
    }
  }
  return { append, proofAt: size, proofMs: summarize(times), proofLength, verified, buildSeconds: Math.round(buildSeconds * 10) / 10 };
}
