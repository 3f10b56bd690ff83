/**
 * Locks for the adjudicator tests: hashlocked transfers built from a secret, Merkle trees of
 * their leaves exactly as the design names them (leaf = `lockLeafHex`, merkletreejs with the
 * `keccak256` package and `sortPairs: true`, an odd node carried up), and states that commit to a
 * tree. The contract checks proofs with OpenZeppelin's `MerkleProof`.
 */
import keccak256 from "keccak256";
import { MerkleTree } from "merkletreejs";
import { getBytes, id as textHash } from "ethers";
import { hashlockOf, lockLeafHex } from "../../src/crypto/hash";
import { ZERO_HASH, type Hex } from "../../src/types";
import { idOf, makeState, type ChannelParams, type ChannelState } from "./fixture";

/** Lock in the mutable shape typechain's `LockStruct` takes (also a valid `Lock`). */
export interface ChannelLock {
  channelId: Hex;
  sender: 0 | 1;
  amount: bigint;
  hashlock: Hex;
  expiry: bigint;
  ref: Hex;
}

/** A 32-byte secret derived from a label, so tests can name their secrets. */
export function secretOf(label: string): Hex {
  return textHash(`sluice-test-secret:${label}`) as Hex;
}

/** A lock of `params`' channel whose hashlock is sha256 of the labelled secret. */
export function makeLock(params: ChannelParams, sender: 0 | 1, amount: bigint, secretLabel: string, expiry: bigint): ChannelLock {
  return {
    channelId: idOf(params),
    sender,
    amount,
    hashlock: hashlockOf(secretOf(secretLabel)),
    expiry,
    ref: textHash(`sluice-test-lock-ref:${secretLabel}:${sender}:${amount}:${expiry}`) as Hex,
  };
}

/** Sum of each sender's lock amounts: what a state over exactly these locks signs as `locked`. */
export function lockedOf(locks: readonly ChannelLock[]): [bigint, bigint] {
  const sum = (sender: 0 | 1) => locks.filter((l) => l.sender === sender).reduce((s, l) => s + l.amount, 0n);
  return [sum(0), sum(1)];
}

/** A Merkle tree of lock leaves, built by merkletreejs as a client builds a state's `locksRoot`. */
export class LocksTree {
  readonly locks: readonly ChannelLock[];
  readonly leaves: readonly Hex[];
  readonly root: Hex;
  private readonly tree: MerkleTree;

  constructor(locks: readonly ChannelLock[]) {
    this.locks = locks;
    this.leaves = locks.map((l) => lockLeafHex(l));
    this.tree = new MerkleTree(
      this.leaves.map((l) => Buffer.from(getBytes(l))),
      keccak256,
      { sortPairs: true },
    );
    this.root = this.tree.getHexRoot() as Hex;
  }

  /** Index of `lock` in the tree (by leaf); throws if it is not one of its locks. */
  indexOf(lock: ChannelLock): number {
    const index = this.leaves.indexOf(lockLeafHex(lock));
    if (index < 0) throw new Error("lock is not a leaf of this tree");
    return index;
  }

  /** The proof of the lock at `index` (or of `lock`), as `resolveLock` takes it. */
  proof(which: number | ChannelLock): Hex[] {
    const index = typeof which === "number" ? which : this.indexOf(which);
    return this.tree.getHexProof(Buffer.from(getBytes(this.leaves[index])), index) as Hex[];
  }

  /** Each sender's sum over the tree's locks. */
  get locked(): [bigint, bigint] {
    return lockedOf(this.locks);
  }
}

/** The leaf of a lock (`LockLeaf.hash`), re-exported for the tests' expectations. */
export const leafOf = (lock: ChannelLock): Hex => lockLeafHex(lock);

/**
 * A (not final) state of `params` with the tree's root and, unless given, each sender's sum over
 * its locks as `locked`.
 */
export function stateWithLocks(
  params: ChannelParams,
  version: bigint,
  transferred: readonly [bigint, bigint],
  tree: LocksTree,
  locked: readonly [bigint, bigint] = tree.locked,
): ChannelState {
  return makeState(params, version, transferred, false, ZERO_HASH, { locked, locksRoot: tree.root });
}

/** A channel and a state over three locks: a and b sent by participant 0, d by participant 1. */
export interface ThreeLockChannel {
  params: ChannelParams;
  locks: { a: ChannelLock; b: ChannelLock; d: ChannelLock };
  tree: LocksTree;
  state: ChannelState;
}

/**
 * Locks a, b (sender 0) and d (sender 1) of `amounts`, their secrets labelled `${secretPrefix}a`,
 * `…b` and `…d`, in one tree, and the state at `version` with `transferred` that commits to it.
 */
export function threeLockChannel(
  params: ChannelParams,
  o: {
    amounts: readonly [bigint, bigint, bigint];
    secretPrefix: string;
    version: bigint;
    transferred: readonly [bigint, bigint];
    expiry: bigint;
  },
): ThreeLockChannel {
  const [a, b, d] = o.amounts;
  const locks = {
    a: makeLock(params, 0, a, `${o.secretPrefix}a`, o.expiry),
    b: makeLock(params, 0, b, `${o.secretPrefix}b`, o.expiry),
    d: makeLock(params, 1, d, `${o.secretPrefix}d`, o.expiry),
  };
  const tree = new LocksTree([locks.a, locks.b, locks.d]);
  return { params, locks, tree, state: stateWithLocks(params, o.version, o.transferred, tree) };
}
