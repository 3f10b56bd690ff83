/**
 * Validation and column encoding of the store's records. Amounts are TEXT decimal (uint256 does
 * not fit SQLite's INTEGER, and a JS number would round it); uint64 keys (versions, sequence
 * numbers) are TEXT of exactly 20 decimal digits, so that text order is numeric order and the
 * primary-key index answers "latest version" and "payments from seq" directly; byte strings are
 * lower-case `0x` TEXT. Every check names the offending field.
 */
import { checkAddress, checkBytes, checkBytes32, MAX_UINT256, MAX_UINT64, type Checked } from "../../schema/primitives";
import type { Address, Hex } from "../../types";
import { InvalidRecordError } from "./errors";

export const UINT64_MAX = MAX_UINT64;
export const UINT256_MAX = MAX_UINT256;
/** Longest signature the store accepts (an ERC-1271 wallet may sign with any bytes). */
export const MAX_SIGNATURE_BYTES = 65_536;

const KEY_DIGITS = 20; // UINT64_MAX has 20 decimal digits

function checked<T>(result: Checked<T>, value: unknown, field: string): T {
  if (!result.ok) throw new InvalidRecordError(field, value, result.problem);
  return result.value;
}

/** A bytes32 as lower-case hex. */
export function bytes32(value: unknown, field: string): Hex {
  return checked(checkBytes32(value), value, field);
}

/** An address as lower-case hex. */
export function address(value: unknown, field: string): Address {
  return checked(checkAddress(value), value, field);
}

/** A signature (any whole number of bytes) as lower-case hex; empty only if `allowEmpty`. */
export function signature(value: unknown, field: string, allowEmpty: boolean): Hex {
  const hex = checked(checkBytes(value, MAX_SIGNATURE_BYTES), value, field);
  if (hex.length === 2 && !allowEmpty) throw new InvalidRecordError(field, value, "empty signature");
  return hex;
}

/** An unsigned integer up to `max`, as TEXT decimal. */
export function uintText(value: unknown, max: bigint, field: string): string {
  if (typeof value !== "bigint") throw new InvalidRecordError(field, value, "expected a bigint");
  if (value < 0n || value > max) throw new InvalidRecordError(field, value, `out of range [0, ${max}]`);
  return value.toString();
}

/** A uint64 as a 20-digit TEXT key (sorts as the number does). */
export function uint64Key(value: unknown, field: string): string {
  return uintText(value, UINT64_MAX, field).padStart(KEY_DIGITS, "0");
}

/** A participant index. */
export function index01(value: unknown, field: string): 0 | 1 {
  if (value === 0 || value === 1) return value;
  throw new InvalidRecordError(field, value, "expected 0 or 1");
}

export function bool(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  throw new InvalidRecordError(field, value, "expected a boolean");
}

/** A TEXT column back to a bigint (exact: no JS number in between). */
export function decodeUint(text: string): bigint {
  return BigInt(text);
}
