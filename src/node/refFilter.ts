/**
 * A Bloom filter of payment refs (case-insensitive hex): `mightHave` is false only for a ref never
 * added, so a "no" saves a store lookup and a "maybe" asks the store. It grows as refs are added:
 * a chain of filters, each twice the size of the one before, every ref added to the newest. Each
 * full filter says "maybe" to under 1 % of other refs; a lookup asks each (about 1 % per doubling).
 */
const FIRST_CAPACITY = 1 << 10;
/** Bits per ref and probes per lookup: under 1 % false positives at capacity (refs of consecutive numbers included). */
const BITS_PER_REF = 16;
const PROBES = 5;

interface Layer {
  bits: Uint32Array;
  /** Number of bits minus one (a power of two minus one). */
  mask: number;
  capacity: number;
  count: number;
}

function layer(capacity: number): Layer {
  const bits = capacity * BITS_PER_REF;
  return { bits: new Uint32Array(bits >>> 5), mask: bits - 1, capacity, count: 0 };
}

/** Two 32-bit FNV-1a hashes of the ref's characters, lower-cased (A-F as a-f). */
function hashes(ref: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i) | 0x20;
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return [h1 >>> 0, (h2 | 1) >>> 0];
}

export class RefFilter {
  private readonly layers: Layer[] = [layer(FIRST_CAPACITY)];

  /** Refs added (a ref added twice counts twice). */
  get size(): number {
    return this.layers.reduce((n, l) => n + l.count, 0);
  }

  add(ref: string): void {
    let top = this.layers[this.layers.length - 1];
    if (top.count >= top.capacity) this.layers.push((top = layer(top.capacity * 2)));
    const [h1, h2] = hashes(ref);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & top.mask;
      top.bits[bit >>> 5] |= 1 << (bit & 31);
    }
    top.count++;
  }

  /** False if `ref` was never added; true if it was, or (rarely) if it was not. */
  mightHave(ref: string): boolean {
    const [h1, h2] = hashes(ref);
    for (const l of this.layers) {
      let all = true;
      for (let i = 0; i < PROBES && all; i++) {
        const bit = (h1 + Math.imul(i, h2)) & l.mask;
        all = (l.bits[bit >>> 5] & (1 << (bit & 31))) !== 0;
      }
      if (all) return true;
    }
    return false;
  }
}
