import { getBytes, keccak256 as ethersKeccak256 } from "ethers";

/** A keccak256 implementation over bytes. */
export type Keccak256 = (data: Uint8Array) => Buffer;

interface NativeKeccakHasher {
  update(data: Buffer): NativeKeccakHasher;
  digest(): Buffer;
  /** The addon's sponge, which the `keccak` package wraps in a stream (see keccak/lib/api/keccak.js). */
  _state?: NativeKeccakState;
}

interface NativeKeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Buffer;
}

const asBuffer = (data: Uint8Array) =>
  Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** keccak256 through ethers (@noble/hashes, pure JS): the fallback. */
export const keccak256Js: Keccak256 = (data) => Buffer.from(getBytes(ethersKeccak256(data)));

function loadNativeKeccak(): Keccak256 | undefined {
  try {
    // The `keccak` package falls back to its own JS code when the addon is missing; only take the
    // native one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const binding = require("keccak/bindings") as (algorithm: string) => NativeKeccakHasher;
    // The stream wrapper costs more than the hash: drive the addon's sponge directly (keccak256:
    // rate 1088, capacity 512, padding 0x01), one sponge reused since JS is single-threaded.
    const sponge = binding("keccak256")._state;
    const native: Keccak256 =
      sponge && typeof sponge.absorbLastFewBits === "function"
        ? (data) => {
            sponge.initialize(1088, 512);
            sponge.absorb(asBuffer(data));
            sponge.absorbLastFewBits(0x01);
            return sponge.squeeze(32);
          }
        : (data) => binding("keccak256").update(asBuffer(data)).digest();
    // Self-test against the JS implementation once, below and above one block (136 bytes).
    for (const probe of [Buffer.from("sluice"), Buffer.alloc(300, 0xa5)]) {
      if (!native(probe).equals(keccak256Js(probe))) return undefined;
    }
    return native;
  } catch {
    return undefined;
  }
}

/** The native keccak256 (libkeccak through the `keccak` package), if its addon loads here. */
export const keccak256Native: Keccak256 | undefined = loadNativeKeccak();

/** keccak256 of bytes, natively when possible (about 5 times faster than the JS one here). */
export const keccak256Bytes: Keccak256 = keccak256Native ?? keccak256Js;
