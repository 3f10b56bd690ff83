import { AbiCoder } from "ethers";
import { ValueOutOfRangeError } from "../errors";
import { PARAMS_ABI_TYPE, STATE_TYPEHASH, domainSeparator, paramsValue, sluiceDomain, type SluiceDomain } from "../typedData";
import type { Address, Hex, Params, Payment, State } from "../types";
import { keccak256Bytes } from "./keccak";

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
 * EIP-712 digests of states for one adjudicator, by direct ABI encoding with a precomputed type
 * hash and domain separator: the same digest as the contract's `hashState` and as ethers'
 * `TypedDataEncoder`, without the generic encoder's cost.
 */
export class StateHasher {
  readonly domain: SluiceDomain;
  readonly domainSeparator: Hex;
  /** 0x1901 || domainSeparator || structHash */
  private readonly outer = Buffer.alloc(66);
  /** typeHash || channelId || version || keccak(transferred) || paymentsRoot || isFinal */
  private readonly struct = Buffer.alloc(192);
  private readonly transfers = Buffer.alloc(64);

  constructor(chainId: bigint, verifyingContract: Address) {
    this.domain = sluiceDomain(chainId, verifyingContract);
    this.domainSeparator = domainSeparator(this.domain);
    this.outer[0] = 0x19;
    this.outer[1] = 0x01;
    writeBytes32(this.outer, 2, this.domainSeparator, "domainSeparator");
    writeBytes32(this.struct, 0, STATE_TYPEHASH, "typeHash");
  }

  /** `hashStruct(state)`, as `StateHash.structHash`. */
  structHash(state: State): Buffer {
    const s = this.struct;
    writeBytes32(s, 32, state.channelId, "channelId");
    writeUint(s, 64, state.version, UINT64_MAX, "version");
    writeUint(this.transfers, 0, state.transferred[0], UINT256_MAX, "transferred[0]");
    writeUint(this.transfers, 32, state.transferred[1], UINT256_MAX, "transferred[1]");
    keccak256Bytes(this.transfers).copy(s, 96);
    writeBytes32(s, 128, state.paymentsRoot, "paymentsRoot");
    s.fill(0, 160, 192);
    if (state.isFinal) s[191] = 1;
    return keccak256Bytes(s);
  }

  /** The 32-byte digest both participants sign for `state` (the contract's `hashState`). */
  digest(state: State): Buffer {
    this.structHash(state).copy(this.outer, 34);
    return keccak256Bytes(this.outer);
  }

  /** `digest` as hex. */
  digestHex(state: State): Hex {
    return toHex(this.digest(state));
  }
}

const paymentBuffer = Buffer.alloc(160);

/** `keccak256(abi.encode(payment))`, the inner hash of a payment leaf. */
export function paymentHash(payment: Payment): Buffer {
  const b = paymentBuffer;
  writeBytes32(b, 0, payment.channelId, "payment.channelId");
  writeUint(b, 32, payment.seq, UINT64_MAX, "payment.seq");
  writeUint(b, 64, BigInt(payment.payer), 255n, "payment.payer");
  writeUint(b, 96, payment.amount, UINT256_MAX, "payment.amount");
  writeBytes32(b, 128, payment.ref, "payment.ref");
  return keccak256Bytes(b);
}

/** The Merkle leaf of a payment: `keccak256(bytes.concat(keccak256(abi.encode(payment))))`. */
export function paymentLeaf(payment: Payment): Buffer {
  return keccak256Bytes(paymentHash(payment));
}

/** `paymentLeaf` as hex. */
export function paymentLeafHex(payment: Payment): Hex {
  return toHex(paymentLeaf(payment));
}

/** The channel id of `params`: `keccak256(abi.encode(params))`, as the contract's `channelId`. */
export function channelId(params: Params): Hex {
  return toHex(keccak256Bytes(fromHex(AbiCoder.defaultAbiCoder().encode([PARAMS_ABI_TYPE], [paramsValue(params)]))));
}

export const MAX_UINT64 = UINT64_MAX;
export const MAX_UINT256 = UINT256_MAX;
