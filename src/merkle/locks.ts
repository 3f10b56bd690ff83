import { DuplicateLockError, UnknownLockError, ValueOutOfRangeError, WrongChannelError } from "../errors";
import { lockLeaf, lockLeafHex, toHex, MAX_UINT256 } from "../crypto/hash";
import type { Hex, Lock } from "../types";
import { MerkleTree } from "./tree";

/** The proof that a lock is a leaf of a locks root, as the adjudicator's `resolveLock` takes it. */
export interface LockProof {
  lock: Lock;
  leaf: Hex;
  proof: Hex[];
  root: Hex;
}

/** A lock with its leaf, as a tree keeps it (`with` and `without` hand them on, so leaves are hashed once). */
export interface LockEntry {
  lock: Lock;
  leaf: Buffer;
  hex: Hex;
}

/**
 * The pending locks of a channel (both senders) and the Merkle tree of their leaves, whose root
 * goes into a state's `locksRoot` and whose per-sender sums go into its `locked`.
 *
 * Leaves are `lockLeaf(lock)` = `keccak256(bytes.concat(keccak256(abi.encode(lock))))`, the tree
 * the payments' one (sorted pairs, an odd node carried up: merkletreejs `sortPairs: true`,
 * OpenZeppelin `MerkleProof` on chain). Locks are a set, not a log: the leaves are taken in
 * ascending byte order, so the root depends only on which locks are pending, never on the order
 * in which the two sides added them. The empty set has the zero root, as the contract expects of
 * a state without locks. A tree is immutable: `with` and `without` return a new one.
 */
export class LocksTree {
  readonly channelId: Hex;
  /** Sorted by leaf, ascending (lower-case hex of equal length sorts as the bytes do). Set once: a tree is immutable. */
  private entries: readonly LockEntry[];
  private sums: readonly [bigint, bigint];
  private tree: MerkleTree | undefined;

  /**
   * Throws `WrongChannelError` for a lock of another channel, `ValueOutOfRangeError` for a sender
   * other than 0 or 1, a field outside its Solidity type or a per-sender sum beyond uint256, and
   * `DuplicateLockError` for two locks with the same leaf (the contract pays a leaf once).
   */
  constructor(channelId: Hex, locks: Iterable<Lock> = []) {
    this.channelId = channelId;
    const entries = [...locks].map((lock) => entryOf(channelId, lock));
    entries.sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0));
    const sums: [bigint, bigint] = [0n, 0n];
    entries.forEach((entry, i) => {
      if (i > 0 && entries[i - 1].hex === entry.hex) throw new DuplicateLockError(entry.hex);
      sums[entry.lock.sender] += entry.lock.amount;
    });
    this.entries = entries;
    this.sums = checkedSums(sums);
  }

  /** A tree of entries of this channel already checked and in leaf order (what `with` and `without` hand on: nothing is hashed or sorted again). */
  private static sorted(channelId: Hex, entries: LockEntry[], sums: [bigint, bigint]): LocksTree {
    const tree = new LocksTree(channelId);
    tree.entries = entries;
    tree.sums = checkedSums(sums);
    return tree;
  }

  /** Number of pending locks. */
  get size(): number {
    return this.entries.length;
  }

  /** The locks root: bytes32(0) when no lock is pending. */
  get root(): Hex {
    return toHex(this.merkle().root());
  }

  /** `[Σ amount of sender 0's locks, Σ of sender 1's]`: the state's `locked`. */
  get locked(): [bigint, bigint] {
    return [this.sums[0], this.sums[1]];
  }

  /** The pending locks, in leaf order. */
  all(): Lock[] {
    return this.entries.map((e) => e.lock);
  }

  /** The leaves, ascending. */
  leaves(): Hex[] {
    return this.entries.map((e) => e.hex);
  }

  /** Whether the lock (or the lock with this leaf) is pending. */
  has(lock: Lock | Hex): boolean {
    return this.find(keyOf(lock)) >= 0;
  }

  /** The pending lock with this leaf, if any. */
  get(leaf: Hex): Lock | undefined {
    const i = this.find(leaf.toLowerCase());
    return i < 0 ? undefined : this.entries[i].lock;
  }

  /** The proof of a pending lock against `root`; `UnknownLockError` when it is not pending. */
  proof(lock: Lock | Hex): LockProof {
    const key = keyOf(lock);
    const i = this.find(key);
    if (i < 0) throw new UnknownLockError(key);
    const entry = this.entries[i];
    return { lock: entry.lock, leaf: entry.hex, proof: this.merkle().proof(i).map(toHex), root: this.root };
  }

  /** A tree with these locks added (same errors as the constructor). */
  with(...locks: Lock[]): LocksTree {
    // The pending entries keep their leaves and order: each new one is hashed and put in its place.
    const entries = [...this.entries];
    const sums: [bigint, bigint] = [this.sums[0], this.sums[1]];
    for (const lock of locks) {
      const entry = entryOf(this.channelId, lock);
      const i = search(entries, entry.hex);
      if (i >= 0) throw new DuplicateLockError(entry.hex);
      entries.splice(~i, 0, entry);
      sums[lock.sender] += lock.amount;
    }
    return LocksTree.sorted(this.channelId, entries, sums);
  }

  /** A tree without the given locks (or leaves); `UnknownLockError` for one that is not pending. */
  without(...locks: (Lock | Hex)[]): LocksTree {
    const entries = [...this.entries];
    const sums: [bigint, bigint] = [this.sums[0], this.sums[1]];
    for (const lock of locks) {
      const key = keyOf(lock);
      const i = search(entries, key);
      if (i < 0) throw new UnknownLockError(key);
      sums[entries[i].lock.sender] -= entries[i].lock.amount;
      entries.splice(i, 1);
    }
    return LocksTree.sorted(this.channelId, entries, sums);
  }

  /** The index of the entry with leaf `hex` (lower case), or a negative number. */
  private find(hex: string): number {
    return search(this.entries, hex);
  }

  /** True iff `proof` leads from `leaf` to `root` by OpenZeppelin's `MerkleProof` rules. */
  static verify(proof: readonly Hex[], root: Hex, leaf: Hex): boolean {
    const bytes = (h: Hex) => Buffer.from(h.slice(2), "hex");
    return MerkleTree.verify(proof.map(bytes), bytes(root), bytes(leaf));
  }

  private merkle(): MerkleTree {
    this.tree ??= new MerkleTree(this.entries.map((e) => e.leaf));
    return this.tree;
  }
}

function entryOf(channelId: Hex, lock: Lock): LockEntry {
  if (lock.channelId.toLowerCase() !== channelId.toLowerCase()) throw new WrongChannelError(channelId, lock.channelId);
  if (lock.sender !== 0 && lock.sender !== 1) throw new ValueOutOfRangeError("lock.sender", lock.sender);
  // lockLeaf checks every field against its Solidity type and returns a fresh buffer, so the leaf can be kept.
  return { lock, leaf: lockLeaf(lock), hex: lockLeafHex(lock) };
}

/** The index of the entry with leaf `hex` in `entries` (sorted), else `~` the index where it would go. */
function search(entries: readonly LockEntry[], hex: string): number {
  let low = 0;
  let high = entries.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = entries[mid].hex;
    if (at < hex) low = mid + 1;
    else if (at > hex) high = mid - 1;
    else return mid;
  }
  return ~low;
}

function checkedSums(sums: [bigint, bigint]): [bigint, bigint] {
  for (const sender of [0, 1] as const) {
    if (sums[sender] > MAX_UINT256) throw new ValueOutOfRangeError(`locked[${sender}]`, sums[sender]);
  }
  return sums;
}

function keyOf(lock: Lock | Hex): string {
  return typeof lock === "string" ? lock.toLowerCase() : lockLeafHex(lock);
}
