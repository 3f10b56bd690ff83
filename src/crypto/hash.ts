import { createHash } from "node:crypto";
import { AbiCoder } from "ethers";
import { ValueOutOfRangeError } from "../errors";
import { PARAMS_ABI_TYPE, STATE_TYPEHASH, WITHDRAWAL_TYPEHASH, domainSeparator, paramsValue, sluiceDomain, type SluiceDomain } from "../typedData";
import type { Address, Hex, Lock, Params, Payment, State, Withdrawal } from "../types";
import { keccak256Bytes, type Keccak256 } from "./keccak";

const UINT64_MAX = (1n << 64n) - 1n;
const UINT256_MAX = (1n << 256n) - 1n;

/** Writes a 32-byte hex string (`0x` + 64 digits) at `offset`; throws on anything else. */
export function writeBytes32(target: Buffer, offset: number, hex: string, field: string): void {
  if (hex.length !== 66 || target.write(hex.slice(2), offset, 32, "hex") !== 32) {
    throw new ValueOutOfRangeError(`${field} (bytes32)`, hex);
  }
}

/** Writes `value` as a 32-byte big-endian word at `offset`, checking it against `max`. */
export function writeUint(target: Buffer, offset: number, value: bigint, max: bigint, field: string): void {
  if (typeof value !== "bigint" || value < 0n || value > max) throw new ValueOutOfRangeError(field, value);
  if (value <= UINT64_MAX) {
    target.fill(0, offset, offset + 24);
    target.writeBigUInt64BE(value, offset + 24);
  } else {
    target.write(value.toString(16).padStart(64, "0"), offset, 32, "hex");
  }
}

/** `0x`-prefixed lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}

/** Bytes of a `0x` hex string; throws `ValueOutOfRangeError` on malformed hex. */
export function fromHex(hex: string, field = "bytes"): Buffer {
  if (typeof hex !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new ValueOutOfRangeError(`${field} (hex)`, hex);
  }
  return Buffer.from(hex.slice(2), "hex");
}

/**
 * EIP-712 digests of states and withdrawals for one adjudicator, by direct ABI encoding with
 * precomputed type hashes and domain separator: the same digests as the contract's `hashState`
 * and `hashWithdrawal` and as ethers' `TypedDataEncoder`, without the generic encoder's cost.
 * The keccak256 is the native one where it loads (`keccak256Bytes`); pass `keccak256Js` to force
 * the pure-JS path (both give the same bytes, as the tests check).
 */
export class StateHasher {
  readonly domain: SluiceDomain;
  readonly domainSeparator: Hex;
  /** 0x1901 || domainSeparator || structHash */
  private readonly outer = Buffer.alloc(66);
  /** typeHash || channelId || version || keccak(transferred) || keccak(locked) || locksRoot || paymentsRoot || isFinal */
  private readonly struct = Buffer.alloc(256);
  private readonly pair = Buffer.alloc(64);
  /** typeHash || channelId || participant || total || expiry */
  private readonly withdrawal = Buffer.alloc(160);

  private readonly keccak: Keccak256;
  /** The last `locked` pair hashed and its hash: it rarely changes from one state to the next. */
  private lockedMemo: { a: bigint; b: bigint; hash: Buffer } | undefined;

  constructor(chainId: bigint, verifyingContract: Address, keccak: Keccak256 = keccak256Bytes) {
    this.keccak = keccak;
    this.domain = sluiceDomain(chainId, verifyingContract);
    this.domainSeparator = domainSeparator(this.domain);
    this.outer[0] = 0x19;
    this.outer[1] = 0x01;
    writeBytes32(this.outer, 2, this.domainSeparator, "domainSeparator");
    writeBytes32(this.struct, 0, STATE_TYPEHASH, "typeHash");
    writeBytes32(this.withdrawal, 0, WITHDRAWAL_TYPEHASH, "typeHash");
  }

  /** `hashStruct(state)`, as `StateHash.structHash`. */
  structHash(state: State): Buffer {
    const s = this.struct;
    writeBytes32(s, 32, state.channelId, "channelId");
    writeUint(s, 64, state.version, UINT64_MAX, "version");
    this.hashPair(state.transferred, "transferred").copy(s, 96);
    this.hashLocked(state.locked).copy(s, 128);
    writeBytes32(s, 160, state.locksRoot, "locksRoot");
    writeBytes32(s, 192, state.paymentsRoot, "paymentsRoot");
    s.fill(0, 224, 256);
    if (state.isFinal) s[255] = 1;
    return this.keccak(s);
  }

  /** `structHash` as hex: the fingerprint the contract keeps of a registered or concluded state. */
  structHashHex(state: State): Hex {
    return toHex(this.structHash(state));
  }

  /** The 32-byte digest both participants sign for `state` (the contract's `hashState`). */
  digest(state: State): Buffer {
    return this.wrap(this.structHash(state));
  }

  /** `digest` as hex. */
  digestHex(state: State): Hex {
    return toHex(this.digest(state));
  }

  /** `hashStruct(w)`, as `WithdrawalHash.structHash`. */
  withdrawalStructHash(w: Withdrawal): Buffer {
    const b = this.withdrawal;
    writeBytes32(b, 32, w.channelId, "channelId");
    writeUint(b, 64, BigInt(w.participant), 255n, "participant");
    writeUint(b, 96, w.total, UINT256_MAX, "total");
    writeUint(b, 128, w.expiry, UINT64_MAX, "expiry");
    return this.keccak(b);
  }

  /** The digest both participants sign for a withdrawal (the contract's `hashWithdrawal`). */
  withdrawalDigest(w: Withdrawal): Buffer {
    return this.wrap(this.withdrawalStructHash(w));
  }

  /** `withdrawalDigest` as hex. */
  withdrawalDigestHex(w: Withdrawal): Hex {
    return toHex(this.withdrawalDigest(w));
  }

  private wrap(structHash: Buffer): Buffer {
    structHash.copy(this.outer, 34);
    return this.keccak(this.outer);
  }

  private hashLocked(locked: readonly [bigint, bigint]): Buffer {
    const memo = this.lockedMemo;
    if (memo !== undefined && memo.a === locked[0] && memo.b === locked[1]) return memo.hash;
    const hash = this.hashPair(locked, "locked");
    this.lockedMemo = { a: locked[0], b: locked[1], hash };
    return hash;
  }

  private hashPair(values: readonly [bigint, bigint], field: string): Buffer {
    writeUint(this.pair, 0, values[0], UINT256_MAX, `${field}[0]`);
    writeUint(this.pair, 32, values[1], UINT256_MAX, `${field}[1]`);
    return this.keccak(this.pair);
  }
}

const paymentBuffer = Buffer.alloc(160);

/** `keccak256(abi.encode(payment))`, the inner hash of a payment leaf. */
export function paymentHash(payment: Payment, keccak: Keccak256 = keccak256Bytes): Buffer {
  const b = paymentBuffer;
  writeBytes32(b, 0, payment.channelId, "payment.channelId");
  writeUint(b, 32, payment.seq, UINT64_MAX, "payment.seq");
  writeUint(b, 64, BigInt(payment.payer), 255n, "payment.payer");
  writeUint(b, 96, payment.amount, UINT256_MAX, "payment.amount");
  writeBytes32(b, 128, payment.ref, "payment.ref");
  return keccak(b);
}

/** The Merkle leaf of a payment: `keccak256(bytes.concat(keccak256(abi.encode(payment))))`. */
export function paymentLeaf(payment: Payment, keccak: Keccak256 = keccak256Bytes): Buffer {
  return keccak(paymentHash(payment, keccak));
}

/** `paymentLeaf` as hex. */
export function paymentLeafHex(payment: Payment): Hex {
  return toHex(paymentLeaf(payment));
}

const lockBuffer = Buffer.alloc(192);

/** `keccak256(abi.encode(lock))`, the inner hash of a lock leaf. */
export function lockHash(lock: Lock, keccak: Keccak256 = keccak256Bytes): Buffer {
  const b = lockBuffer;
  writeBytes32(b, 0, lock.channelId, "lock.channelId");
  writeUint(b, 32, BigInt(lock.sender), 255n, "lock.sender");
  writeUint(b, 64, lock.amount, UINT256_MAX, "lock.amount");
  writeBytes32(b, 96, lock.hashlock, "lock.hashlock");
  writeUint(b, 128, lock.expiry, UINT64_MAX, "lock.expiry");
  writeBytes32(b, 160, lock.ref, "lock.ref");
  return keccak(b);
}

/**
 * Leaves already hashed, by lock object: a lock is a value (every holder copies, none edits one in
 * place), and a hub looks the same lock's leaf up several times per routed payment.
 */
const leafOf = new WeakMap<Lock, { leaf: Buffer; hex: Hex }>();

function cachedLeaf(lock: Lock): { leaf: Buffer; hex: Hex } {
  let known = leafOf.get(lock);
  if (known === undefined) {
    const leaf = keccak256Bytes(lockHash(lock));
    known = { leaf, hex: toHex(leaf) };
    leafOf.set(lock, known);
  }
  return known;
}

/** The Merkle leaf of a lock: `keccak256(bytes.concat(keccak256(abi.encode(lock))))` (a fresh buffer). */
export function lockLeaf(lock: Lock, keccak: Keccak256 = keccak256Bytes): Buffer {
  if (keccak !== keccak256Bytes) return keccak(lockHash(lock, keccak));
  return Buffer.from(cachedLeaf(lock).leaf);
}

/** `lockLeaf` as hex. */
export function lockLeafHex(lock: Lock): Hex {
  return cachedLeaf(lock).hex;
}

/** The hashlock of a 32-byte secret: `sha256(secret)`, as the contract's secret registry computes it. */
export function hashlockOf(secret: Hex): Hex {
  const bytes = fromHex(secret, "secret");
  if (bytes.length !== 32) throw new ValueOutOfRangeError("secret (bytes32)", secret);
  return toHex(createHash("sha256").update(bytes).digest());
}

/** The channel id of `params`: `keccak256(abi.encode(params))`, as the contract's `channelId`. */
export function channelId(params: Params): Hex {
  return toHex(keccak256Bytes(fromHex(AbiCoder.defaultAbiCoder().encode([PARAMS_ABI_TYPE], [paramsValue(params)]))));
}

export const MAX_UINT64 = UINT64_MAX;
export const MAX_UINT256 = UINT256_MAX;
