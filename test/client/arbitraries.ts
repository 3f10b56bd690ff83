import fc from "fast-check";
import type { Hex, Lock, Payment, State, Withdrawal } from "../../src/types";

export const UINT64_MAX = (1n << 64n) - 1n;
export const UINT256_MAX = (1n << 256n) - 1n;

export const hexOf = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;

export const bytes32 = (): fc.Arbitrary<Hex> => fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexOf);

/** Integers biased to edge cases: small, around 2^64 and near the top of the range. */
export const uint = (max: bigint): fc.Arbitrary<bigint> =>
  fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max }), fc.bigInt({ min: max - 1000n > 0n ? max - 1000n : 0n, max }));

/** A 32-byte value that is sometimes zero (the roots of an empty log or lock set). */
export const root = (): fc.Arbitrary<Hex> => fc.oneof({ weight: 1, arbitrary: fc.constant<Hex>(`0x${"00".repeat(32)}`) }, { weight: 4, arbitrary: bytes32() });

export const stateArb = (): fc.Arbitrary<State> =>
  fc.record({
    channelId: bytes32(),
    version: uint(UINT64_MAX),
    transferred: fc.tuple(uint(UINT256_MAX), uint(UINT256_MAX)),
    locked: fc.tuple(uint(UINT256_MAX), uint(UINT256_MAX)),
    locksRoot: root(),
    paymentsRoot: root(),
    isFinal: fc.boolean(),
  });

export const withdrawalArb = (): fc.Arbitrary<Withdrawal> =>
  fc.record({
    channelId: bytes32(),
    participant: fc.constantFrom(0 as const, 1 as const),
    total: uint(UINT256_MAX),
    expiry: uint(UINT64_MAX),
  });

/** A lock of channel `channelId` (any channel when omitted). */
export const lockArb = (channelId?: Hex): fc.Arbitrary<Lock> =>
  fc.record({
    channelId: channelId === undefined ? bytes32() : fc.constant(channelId),
    sender: fc.constantFrom(0 as const, 1 as const),
    amount: uint(UINT256_MAX),
    hashlock: bytes32(),
    expiry: uint(UINT64_MAX),
    ref: bytes32(),
  });

export const paymentArb = (): fc.Arbitrary<Payment> =>
  fc.record({
    channelId: bytes32(),
    seq: uint(UINT64_MAX),
    payer: fc.constantFrom(0 as const, 1 as const),
    amount: uint(UINT256_MAX),
    ref: bytes32(),
  });

/** A valid secp256k1 private key (1 <= k < n). */
export const privateKeyArb = (): fc.Arbitrary<Hex> =>
  fc
    .bigInt({ min: 1n, max: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140n })
    .map((k): Hex => `0x${k.toString(16).padStart(64, "0")}`);
