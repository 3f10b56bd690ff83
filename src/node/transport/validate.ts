/**
 * Small strict validators for untrusted JSON. Each throws `MalformedMessageError(path, problem)`,
 * so the error reply names the offending field. Message validators of the channel layer can use
 * them too.
 */
import { MalformedMessageError } from "../../errors";
import type { Address, Hex } from "../../types";

/** What a JSON value is, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? "a string" : `the string ${JSON.stringify(value)}`;
  return `a ${typeof value}`;
}

/**
 * `value` as a plain object with only the `allowed` keys (own keys; an unknown key is an error).
 * Returns the object typed as a record for further field checks.
 */
export function strictObject(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new MalformedMessageError(path, `expected an object, got ${describe(value)}`);
  }
  for (const key in value) {
    if (!allowed.includes(key)) throw new MalformedMessageError(path, `unknown key ${JSON.stringify(key)}`);
  }
  return value as Record<string, unknown>;
}

export function stringField(obj: Record<string, unknown>, key: string, path: string, maxLength = 1024): string {
  const value = obj[key];
  if (typeof value !== "string") throw new MalformedMessageError(`${path}.${key}`, `expected a string, got ${describe(value)}`);
  if (value.length > maxLength) throw new MalformedMessageError(`${path}.${key}`, `longer than ${maxLength} characters`);
  return value;
}

const HEX_32 = /^0x[0-9a-fA-F]{64}$/;
const HEX_65 = /^0x[0-9a-fA-F]{130}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const UINT = /^(0|[1-9][0-9]{0,77})$/;

/** A 32-byte hex string (0x + 64 hex digits). */
export function bytes32Field(obj: Record<string, unknown>, key: string, path: string): Hex {
  const value = stringField(obj, key, path, 66);
  if (!HEX_32.test(value)) throw new MalformedMessageError(`${path}.${key}`, "expected 32 bytes as 0x-prefixed hex");
  return value as Hex;
}

/** A 65-byte signature r || s || v as hex. */
export function signatureField(obj: Record<string, unknown>, key: string, path: string): Hex {
  const value = stringField(obj, key, path, 132);
  if (!HEX_65.test(value)) throw new MalformedMessageError(`${path}.${key}`, "expected a 65-byte signature as 0x-prefixed hex");
  return value as Hex;
}

/** A 20-byte address as hex (any case; not checksum-validated), returned lower-cased. */
export function addressField(obj: Record<string, unknown>, key: string, path: string): Address {
  const value = stringField(obj, key, path, 42);
  if (!ADDRESS.test(value)) throw new MalformedMessageError(`${path}.${key}`, "expected a 20-byte address as 0x-prefixed hex");
  return value.toLowerCase() as Address;
}

/** An unsigned integer sent as a decimal string (how bigints travel), at most 78 digits. */
export function uintField(obj: Record<string, unknown>, key: string, path: string): bigint {
  const value = stringField(obj, key, path, 78);
  if (!UINT.test(value)) throw new MalformedMessageError(`${path}.${key}`, "expected an unsigned integer as a decimal string");
  return BigInt(value);
}
