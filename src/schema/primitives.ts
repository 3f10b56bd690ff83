/**
 * The values every trust boundary shares, defined once: byte strings and addresses (canonical
 * form: lower-case hex, made at decode and used everywhere after), unsigned integers as bigint
 * (decimal strings on the wire), participant indices. Each check's message says what was
 * expected; `decode.ts` adds the path of the offending field.
 */
import { z } from "zod";
import type { Address, Hex } from "../types";

export const MAX_UINT64 = (1n << 64n) - 1n;
export const MAX_UINT256 = (1n << 256n) - 1n;

export const BYTES32_PATTERN = /^0x[0-9a-fA-F]{64}$/;
export const ADDRESS_PATTERN = /^0x[0-9a-fA-F]{40}$/;
/** A decimal unsigned integer without leading zeros. */
export const DECIMAL_PATTERN = /^(?:0|[1-9][0-9]*)$/;

/** What a JSON value is, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? "a string" : `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return `a number (${value})`;
  return `a ${typeof value}`;
}

// ---------------------------------------------------------------- plain checks (no zod)
// Each returns the canonical value, or a string saying what is wrong. The zod schemas below and
// the hand-tuned proposal decoder (channel/messages.ts) both use them, so both accept exactly
// the same values.

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

const fail = <T>(problem: string): Checked<T> => ({ ok: false, problem });

/** Hex digits only (any count): with a length check, cheaper to test than a pattern with a repeated group. */
const HEX_DIGITS = /^0x[0-9a-fA-F]*$/;
/** The canonical form, which needs no lower-casing. */
const LOWER_BYTES32 = /^0x[0-9a-f]{64}$/;

export function checkBytes32(value: unknown): Checked<Hex> {
  if (typeof value === "string" && value.length === 66) {
    if (LOWER_BYTES32.test(value)) return { ok: true, value: value as Hex };
    if (BYTES32_PATTERN.test(value)) return { ok: true, value: value.toLowerCase() as Hex };
  }
  return fail(`expected 32 bytes as 0x-prefixed hex (64 hex digits), got ${describe(value)}`);
}

export function checkAddress(value: unknown): Checked<Address> {
  if (typeof value === "string" && value.length === 42 && ADDRESS_PATTERN.test(value)) return { ok: true, value: value.toLowerCase() as Address };
  return fail(`expected a 20-byte address as 0x-prefixed hex, got ${describe(value)}`);
}

/** Hex bytes (a signature: any whole number of bytes, a contract wallet's may exceed 65) up to `maxBytes`. */
export function checkBytes(value: unknown, maxBytes: number): Checked<Hex> {
  if (typeof value !== "string" || value.length % 2 !== 0 || !HEX_DIGITS.test(value)) return fail(`expected 0x-prefixed hex bytes, got ${describe(value)}`);
  if (value.length > 2 + 2 * maxBytes) return fail(`longer than ${maxBytes} bytes`);
  return { ok: true, value: value.toLowerCase() as Hex };
}

/**
 * An unsigned integer of `bits` bits as a decimal string; also a bigint if `typed` (a typed
 * message handed to the library is checked as its JSON form is).
 */
export function checkUint(value: unknown, bits: 64 | 256, typed: boolean): Checked<bigint> {
  const max = bits === 64 ? MAX_UINT64 : MAX_UINT256;
  let n: bigint;
  if (typeof value === "bigint" && typed) n = value;
  else if (typeof value === "string" && value.length <= 78 && DECIMAL_PATTERN.test(value)) n = BigInt(value);
  else if (typeof value === "number") return fail(`expected a uint${bits} as a decimal string, got a JSON number (amounts travel as strings)`);
  else return fail(`expected a uint${bits} as a decimal string, got ${describe(value)}`);
  if (n < 0n || n > max) return fail(`out of range: more than 2^${bits} - 1`);
  return { ok: true, value: n };
}

// ---------------------------------------------------------------- zod schemas

/** A zod schema from a plain check: the check's problem becomes the issue's message. */
export function fromCheck<T>(check: (value: unknown) => Checked<T>) {
  return z.unknown().transform((value, ctx): T => {
    const result = check(value);
    if (result.ok) return result.value;
    ctx.issues.push({ code: "custom", message: result.problem, input: value });
    return z.NEVER;
  });
}

/** 32 bytes as 0x-prefixed hex, lower-cased. */
export const bytes32 = fromCheck(checkBytes32);
/** A 20-byte address, lower-cased (not checksum-validated: any case is accepted). */
export const address = fromCheck(checkAddress);
/** A signature's hex bytes, lower-cased, at most `maxBytes`. */
export const bytes = (maxBytes: number) => fromCheck((value) => checkBytes(value, maxBytes));
/** uint64/uint256 from a decimal string, or a bigint: for typed messages checked as their JSON form. */
export const uint64 = fromCheck((value) => checkUint(value, 64, true));
export const uint256 = fromCheck((value) => checkUint(value, 256, true));

export const participant = z.union([z.literal(0), z.literal(1)], { error: (issue) => `expected 0 or 1, got ${describe(issue.input)}` });

/** A JSON integer in [min, max] (counts, indices, decimals, ports). */
export function int(min: number, max: number) {
  const error = (issue: { input: unknown }) => `expected an integer from ${min} to ${max}, got ${describe(issue.input)}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export const boolean = z.boolean({ error: (issue) => `expected true or false, got ${describe(issue.input)}` });

export function text(maxLength: number) {
  return z
    .string({ error: (issue) => `expected a string, got ${describe(issue.input)}` })
    .max(maxLength, { error: `longer than ${maxLength} characters` });
}

/** A pair (two items), such as both sides' deposits. */
export function pair<T extends z.ZodType>(item: T) {
  return z.tuple([item, item], { error: (issue) => `expected an array of 2 items, got ${describe(issue.input)}` });
}

/** An array of at most `maxLength` items. */
export function list<T extends z.ZodType>(item: T, maxLength: number, minLength = 0) {
  const size = minLength > 0 ? `${minLength} to ${maxLength}` : `at most ${maxLength}`;
  return z
    .array(item, { error: (issue) => `expected an array of ${size} items, got ${describe(issue.input)}` })
    .min(minLength, { error: `expected an array of ${size} items` })
    .max(maxLength, { error: `more than ${maxLength} items` });
}

/** A `ws://` or `wss://` URL. */
export const wsUrl = text(2048).check((ctx) => {
  let url: URL;
  try {
    url = new URL(ctx.value);
  } catch {
    ctx.issues.push({ code: "custom", message: `expected a ws:// or wss:// URL, got ${describe(ctx.value)}`, input: ctx.value });
    return;
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    ctx.issues.push({ code: "custom", message: `expected a ws:// or wss:// URL, got ${url.protocol}//`, input: ctx.value });
  }
});

// ---------------------------------------------------------------- two-way (JSON <-> typed), for the HTTP API

/** The JSON Schema of a wire value, for the OpenAPI document (the checks are the codec's). */
export interface WireJsonSchema {
  type: "string";
  pattern?: string;
  description: string;
}

/**
 * A codec from a plain check: decodes as `fromCheck`, encodes back with `encode`; `json` describes
 * its JSON side in the OpenAPI document.
 */
export function checkCodec<T, J>(check: (value: unknown) => Checked<T>, output: z.ZodType<T>, encode: (value: T) => J, json?: WireJsonSchema) {
  return z.codec(json === undefined ? z.unknown() : z.unknown().meta({ ...json }), output, {
    decode(value, payload) {
      const result = check(value);
      if (result.ok) return result.value;
      payload.issues.push({ code: "custom", message: result.problem, input: value });
      return undefined;
    },
    encode: (value) => encode(value as T) as unknown,
  });
}

const identity = <T>(value: T): T => value;
export const bytes32Json = checkCodec(checkBytes32, z.custom<Hex>(), identity, {
  type: "string",
  pattern: BYTES32_PATTERN.source,
  description: "32 bytes as 0x and 64 hex digits",
});
export const addressJson = checkCodec(checkAddress, z.custom<Address>(), identity, {
  type: "string",
  pattern: ADDRESS_PATTERN.source,
  description: "an address: 0x and 40 hex digits (checksummed or one case)",
});
/** uint64/uint256 as decimal strings only (JSON numbers refused: amounts travel as strings). */
export const uint64Json = checkCodec((value) => checkUint(value, 64, false), z.bigint(), String, {
  type: "string",
  pattern: DECIMAL_PATTERN.source,
  description: "a uint64 as a decimal string",
});
export const uint256Json = checkCodec((value) => checkUint(value, 256, false), z.bigint(), String, {
  type: "string",
  pattern: DECIMAL_PATTERN.source,
  description: "a uint256 as a decimal string (amounts in base units)",
});

/** Optional: the key may be absent, or null (both decode to undefined; undefined encodes to no key). */
export function optionalJson<T extends z.ZodType>(item: T) {
  return z
    .codec(z.unknown(), item.optional(), {
      decode: (value) => (value === null ? undefined : value) as z.input<T> | undefined,
      encode: (value) => value,
    })
    .optional();
}
