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
 * root and any proof O(log n).
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

  /** The root; 32 zero bytes for an empty tree (the opening state's root). */
  root(): Buffer {
    if (this.n === 0) return EMPTY;
    if (!this.cachedRoot) this.cachedRoot = this.foldPeaks(undefined, 0);
    return this.cachedRoot;
  }

  /** The root the tree would have with `leaf` appended; the tree is left unchanged. */
  rootWith(leaf: Uint8Array): Buffer {
    if (leaf.length !== NODE) throw new InvalidArgumentError("a leaf has 32 bytes");
    let carry: Buffer = Buffer.from(leaf);
    let k = 0;
    for (; this.bit(k); k++) carry = hashPair(this.peak(k), carry);
    return this.foldPeaks(carry, k + 1);
  }

  /** The leaf at `index`. */
  leaf(index: number): Buffer {
    this.checkIndex(index);
    return Buffer.from(this.node(0, index));
  }

  /**
   * The proof of the leaf at `index`: the sibling on each level from the leaves up, levels with no
   * sibling skipped; the same list as merkletreejs' `getProof(leaf, index)`.
   */
  proof(index: number): Buffer[] {
    this.checkIndex(index);
    const proof: Buffer[] = [];
    // Root of the incomplete block at the end of level k: the peaks below k folded.
    let tail: Buffer | undefined;
    for (let k = 0; Math.ceil(this.n / 2 ** k) > 1; k++) {
      const sibling = Math.floor(index / 2 ** k) ^ 1;
      const width = Math.ceil(this.n / 2 ** k);
      if (sibling < width) {
        proof.push(sibling < this.counts[k] ? Buffer.from(this.node(k, sibling)) : (tail as Buffer));
      }
      if (this.bit(k)) tail = tail ? hashPair(this.peak(k), tail) : Buffer.from(this.peak(k));
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

  private bit(k: number): boolean {
    return Math.floor(this.n / 2 ** k) % 2 === 1;
  }

  /** The perfect-subtree root at level k of the binary decomposition of the size. */
  private peak(k: number): Buffer {
    return this.node(k, this.counts[k] - 1);
  }

  /** Folds `acc` with the peaks at levels `from` and up, smallest first. */
  private foldPeaks(acc: Buffer | undefined, from: number): Buffer {
    for (let k = from; k < this.counts.length; k++) {
      if (this.bit(k)) acc = acc ? hashPair(this.peak(k), acc) : Buffer.from(this.peak(k));
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

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.n) {
      throw new InvalidArgumentError(`no leaf ${index} in a tree of ${this.n}`);
    }
  }
}
