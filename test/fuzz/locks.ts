/**
 * Lock trees for the stateful fuzzer, built as a client builds them: leaves from `lockLeafHex`
 * (src/crypto/hash.ts), a merkletreejs tree with `sortPairs: true`, proofs from the tree; and an
 * independent check of a proof, OpenZeppelin `MerkleProof.processProof`'s rule, that predicts what
 * the contract accepts for any proof, a wrong one included.
 */
import keccak256 from "keccak256";
import { MerkleTree } from "merkletreejs";
import { keccak256Bytes, lockLeafHex, toHex } from "../../src/crypto";
import type { Hex, Lock } from "../../src/types";

/** The locks of a state, with their leaves, root and proofs. */
export interface LockSet {
  locks: Lock[];
  leaves: Hex[];
  root: Hex;
  /** proofs[i] proves leaves[i] under root. */
  proofs: Hex[][];
  /** Sum of the amounts of each sender's locks (senders 0 and 1; other senders left out). */
  sums: [bigint, bigint];
}

export function buildLockSet(locks: Lock[]): LockSet {
  const leaves = locks.map(lockLeafHex);
  const tree = new MerkleTree(leaves, keccak256, { sortPairs: true });
  const root = tree.getHexRoot() as Hex;
  const proofs = leaves.map((leaf, i) => tree.getHexProof(leaf, i) as Hex[]);
  const sums: [bigint, bigint] = [0n, 0n];
  for (const l of locks) if (l.sender === 0 || l.sender === 1) sums[l.sender] += l.amount;
  return { locks, leaves, root, proofs, sums };
}

const buf = (h: Hex) => Buffer.from(h.slice(2), "hex");

/** The root a proof leads to from a leaf: sorted pairs hashed with keccak256. */
export function processProof(leaf: Hex, proof: readonly Hex[]): Hex {
  let h: Buffer = buf(leaf);
  for (const p of proof) {
    const b = buf(p);
    h = Buffer.compare(h, b) < 0 ? keccak256Bytes(Buffer.concat([h, b])) : keccak256Bytes(Buffer.concat([b, h]));
  }
  return toHex(h).toLowerCase() as Hex;
}

export function verifyProof(leaf: Hex, proof: readonly Hex[], root: Hex): boolean {
  return processProof(leaf, proof) === root.toLowerCase();
}
