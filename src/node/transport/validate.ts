/**
 * Small strict validators for untrusted JSON, for the transport's own frames (the handshake) and
 * test fixtures; the node's messages have schemas (src/schema/peer.ts). Each throws
 * `MalformedMessageError(path, problem)`, so the error reply names the offending field. The value
 * checks are the schema module's, so both accept the same values in the same canonical form.
 */
import { MalformedMessageError } from "../../errors";
import { checkAddress, checkBytes32, checkUint, describe as describeValue, type Checked } from "../../schema/primitives";
import type { Address, Hex } from "../../types";

/** What a JSON value is, for error messages (the transport's frames say "a undefined" for a missing body). */
export function describe(value: unknown): string {
  return value === undefined ? "a undefined" : describeValue(value);
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

function checked<T>(result: Checked<T>, path: string): T {
  if (!result.ok) throw new MalformedMessageError(path, result.problem);
  return result.value;
}

const HEX_65 = /^0x[0-9a-fA-F]{130}$/;

/** A 32-byte hex string (0x + 64 hex digits), lower-cased. */
export function bytes32Field(obj: Record<string, unknown>, key: string, path: string): Hex {
  return checked(checkBytes32(obj[key]), `${path}.${key}`);
}

/** A 65-byte signature r || s || v as hex, lower-cased. */
export function signatureField(obj: Record<string, unknown>, key: string, path: string): Hex {
  const value = stringField(obj, key, path, 132);
  if (!HEX_65.test(value)) throw new MalformedMessageError(`${path}.${key}`, "expected a 65-byte signature as 0x-prefixed hex");
  return value.toLowerCase() as Hex;
}

/** A 20-byte address as hex (any case; not checksum-validated), returned lower-cased. */
export function addressField(obj: Record<string, unknown>, key: string, path: string): Address {
  return checked(checkAddress(obj[key]), `${path}.${key}`);
}

/** An unsigned integer (up to uint256) sent as a decimal string (how bigints travel). */
export function uintField(obj: Record<string, unknown>, key: string, path: string): bigint {
  return checked(checkUint(obj[key], 256, false), `${path}.${key}`);
}
