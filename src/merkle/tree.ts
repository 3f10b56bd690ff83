import { InvalidArgumentError } from "../errors";
import { keccak256Bytes } from "../crypto/keccak";

const NODE = 32;
const EMPTY = Buffer.alloc(NODE);
const pair = Buffer.alloc(2 * NODE);

/** keccak256 of the two nodes in ascending byte order (OpenZeppelin's commutative hash). */
export function hashPair(a: Uint8Array, b: Uint8Array): Buffer {
  if (Buffer.compare(a, b) <= 0) {
    pair.set(a, 0);
    pair.set(b, NODE);
  } else {
    pair.set(b, 0);
    pair.set(a, NODE);
  }
  return keccak256Bytes(pair);
}

/**
 * An append-only Merkle tree with the shape of merkletreejs' `new MerkleTree(leaves, keccak256,
 * { sortPairs: true })`: pairs are sorted before hashing and an odd node at the end of a layer is
 * carried up unhashed. With that rule the root of n leaves is the roots of the perfect subtrees
 * of n's binary decomposition (largest, leftmost first) folded from the right, e.g.
 * root(7) = H(P4, H(P2, P1)); so the tree keeps, per level k, the roots of the complete blocks of
 * 2^k leaves, like a binary counter: an append is amortised O(1) hashes (O(log n) at worst), the
 * root and any proof O(log n). Since the nodes of the first m leaves are a prefix of each level,
 * the tree also gives the root and proofs of any earlier size, and truncates in O(log n).
 */
export class MerkleTree {
  /** Level k holds the roots of the complete blocks of 2^k leaves, 32 bytes each, in order. */
  private readonly levels: Buffer[] = [];
  /** Number of nodes stored at each level: floor(size / 2^k). */
  private readonly counts: number[] = [];
  private n = 0;
  private cachedRoot: Buffer | undefined;

  constructor(leaves: Iterable<Uint8Array> = []) {
    for (const leaf of leaves) this.append(leaf);
  }

  /** Number of leaves. */
  get size(): number {
    return this.n;
  }

  /** Appends a 32-byte leaf (already hashed). */
  append(leaf: Uint8Array): void {
    if (leaf.length !== NODE) throw new InvalidArgumentError("a leaf has 32 bytes");
    this.push(0, leaf);
    this.n++;
    this.cachedRoot = undefined;
    for (let k = 0; (this.counts[k] & 1) === 0; k++) {
      const c = this.counts[k];
      this.push(k + 1, hashPair(this.node(k, c - 2), this.node(k, c - 1)));
    }
  }

  /**
   * The root; 32 zero bytes for an empty tree (the opening state's root). With `size`, the root
   * of the first `size` leaves (the tree as it was then): its nodes are a prefix of each level.
   */
  root(size: number = this.n): Buffer {
    this.checkSize(size);
    if (size === 0) return EMPTY;
    if (size !== this.n) return this.foldPeaks(undefined, 0, size);
    if (!this.cachedRoot) this.cachedRoot = this.foldPeaks(undefined, 0, size);
    return this.cachedRoot;
  }

  /**
   * Drops every leaf from `size` on, as if they had never been appended. Level k keeps its first
   * floor(size / 2^k) nodes: the complete blocks of the first `size` leaves, which are unchanged.
   */
  truncate(size: number): void {
    this.checkSize(size);
    if (size === this.n) return;
    for (let k = 0; k < this.counts.length; k++) this.counts[k] = Math.floor(size / 2 ** k);
    this.n = size;
    this.cachedRoot = undefined;
  }

  /** The root the tree would have with `leaf` appended; the tree is left unchanged. */
  rootWith(leaf: Uint8Array): Buffer {
    if (leaf.length !== NODE) throw new InvalidArgumentError("a leaf has 32 bytes");
    let carry: Buffer = Buffer.from(leaf);
    let k = 0;
    for (; this.bit(k, this.n); k++) carry = hashPair(this.peak(k, this.n), carry);
    return this.foldPeaks(carry, k + 1, this.n);
  }

  /** The leaf at `index`. */
  leaf(index: number): Buffer {
    this.checkIndex(index);
    return Buffer.from(this.node(0, index));
  }

  /**
   * The proof of the leaf at `index`: the sibling on each level from the leaves up, levels with no
   * sibling skipped; the same list as merkletreejs' `getProof(leaf, index)`. With `size`, the
   * proof against `root(size)`, the tree of the first `size` leaves.
   */
  proof(index: number, size: number = this.n): Buffer[] {
    this.checkSize(size);
    this.checkIndex(index, size);
    const proof: Buffer[] = [];
    // Root of the incomplete block at the end of level k: the peaks below k folded.
    let tail: Buffer | undefined;
    for (let k = 0; Math.ceil(size / 2 ** k) > 1; k++) {
      const sibling = Math.floor(index / 2 ** k) ^ 1;
      const width = Math.ceil(size / 2 ** k);
      if (sibling < width) {
        proof.push(sibling < Math.floor(size / 2 ** k) ? Buffer.from(this.node(k, sibling)) : (tail as Buffer));
      }
      if (this.bit(k, size)) tail = tail ? hashPair(this.peak(k, size), tail) : Buffer.from(this.peak(k, size));
    }
    return proof;
  }

  /** True iff `proof` leads from `leaf` to `root` with sorted pairs (OpenZeppelin `MerkleProof`). */
  static verify(proof: readonly Uint8Array[], root: Uint8Array, leaf: Uint8Array): boolean {
    let hash: Uint8Array = leaf;
    for (const sibling of proof) hash = hashPair(hash, sibling);
    return Buffer.compare(hash, root) === 0;
  }

  // ------------------------------------------------------------------ internals

  /** Bit k of `size`: whether the tree of `size` leaves has a perfect subtree of 2^k leaves. */
  private bit(k: number, size: number): boolean {
    return Math.floor(size / 2 ** k) % 2 === 1;
  }

  /** The perfect-subtree root at level k of the binary decomposition of `size` (its last complete block). */
  private peak(k: number, size: number): Buffer {
    return this.node(k, Math.floor(size / 2 ** k) - 1);
  }

  /** Folds `acc` with the peaks of `size` at levels `from` and up, smallest first. */
  private foldPeaks(acc: Buffer | undefined, from: number, size: number): Buffer {
    for (let k = from; k < this.counts.length; k++) {
      if (this.bit(k, size)) acc = acc ? hashPair(this.peak(k, size), acc) : Buffer.from(this.peak(k, size));
    }
    return acc as Buffer;
  }

  private node(k: number, i: number): Buffer {
    return this.levels[k].subarray(i * NODE, (i + 1) * NODE);
  }

  private push(k: number, node: Uint8Array): void {
    if (k === this.levels.length) {
      this.levels.push(Buffer.allocUnsafe(NODE * 64));
      this.counts.push(0);
    }
    let level = this.levels[k];
    const offset = this.counts[k] * NODE;
    if (offset + NODE > level.length) {
      const grown = Buffer.allocUnsafe(level.length * 2);
      level.copy(grown, 0, 0, offset);
      this.levels[k] = level = grown;
    }
    level.set(node, offset);
    this.counts[k]++;
  }

  private checkIndex(index: number, size: number = this.n): void {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new InvalidArgumentError(`no leaf ${index} in a tree of ${size}`);
    }
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.n) {
      throw new InvalidArgumentError(`size ${size} is not between 0 and ${this.n}`);
    }
  }
}
