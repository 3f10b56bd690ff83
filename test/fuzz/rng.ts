/**
 * Seeded randomness for the stateful fuzzer: sfc32 behind fast-check's `Random`, so that plain
 * draws and fast-check's biased arbitraries come from one stream and a seed replays a run.
 */
import fc from "fast-check";
import { hexlify } from "ethers";
import type { Hex } from "../../src/types";

/** sfc32 in the shape fast-check's `Random` takes. */
class Sfc32 {
  constructor(
    private a: number,
    private b: number,
    private c: number,
    private d: number,
  ) {}

  static of(seed: number): Sfc32 {
    const g = new Sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0);
    for (let i = 0; i < 15; i++) g.unsafeNext();
    return g;
  }

  clone(): Sfc32 {
    return new Sfc32(this.a, this.b, this.c, this.d);
  }

  next(): [number, Sfc32] {
    const g = this.clone();
    return [g.unsafeNext(), g];
  }

  unsafeNext(): number {
    this.a |= 0;
    this.b |= 0;
    this.c |= 0;
    this.d |= 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t | 0;
  }

  getState(): readonly number[] {
    return [this.a, this.b, this.c, this.d];
  }
}

export class Rng {
  private readonly random: fc.Random;

  constructor(seed: number) {
    this.random = new fc.Random(Sfc32.of(seed));
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return this.random.nextInt(min, max);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.random.nextInt(0, 999_999) < p * 1_000_000;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error("pick from an empty list");
    return xs[this.int(0, xs.length - 1)];
  }

  /** A bigint in [min, max], uniform. */
  big(min: bigint, max: bigint): bigint {
    return this.random.nextBigInt(min, max);
  }

  /** A bigint in [min, max] from fast-check's arbitrary: biased towards the bounds and small values. */
  biasedBig(min: bigint, max: bigint): bigint {
    return fc.bigInt({ min, max }).generate(this.random, 4).value;
  }

  bytes(n: number): Hex {
    return hexlify(Uint8Array.from({ length: n }, () => this.int(0, 255))) as Hex;
  }

  /** A key of `table`, drawn with the given weights. */
  weighted<T extends string>(table: Record<T, number>): T {
    const entries = Object.entries(table) as [T, number][];
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.int(0, total - 1);
    for (const [k, w] of entries) {
      if (r < w) return k;
      r -= w;
    }
    return entries[entries.length - 1][0];
  }
}
