/**
 * The node's settings, from its JSON config file and from `sluice node start` flags: one schema
 * for both, so a value means the same in either place (a duration "1d", a port 8080 or "8080").
 * Flags arrive as strings; the file may give numbers or strings.
 */
import { z } from "zod";
import { ethers } from "../lazyEthers";
import type { Address } from "../types";
import { checkAddress, describe, fromCheck, MAX_UINT64, text, type Checked } from "./primitives";

const SCALE: Record<string, bigint> = { s: 1n, m: 60n, min: 60n, h: 3600n, d: 86400n };

/** Seconds (a positive whole number, or a string of one), or a number with s, m, min, h or d: "3600", "90s", "30m", "24h", "1d". */
export function checkDuration(value: unknown): Checked<bigint> {
  const problem = `expected a positive number of seconds, or one with s, m, h or d (e.g. 1d), got ${describe(value)}`;
  const source = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  const match = typeof source === "string" ? /^([0-9]{1,30})\s*(s|m|min|h|d)?$/.exec(source.trim()) : null;
  if (match === null || BigInt(match[1]) === 0n) return { ok: false, problem };
  const seconds = BigInt(match[1]) * SCALE[match[2] ?? "s"];
  if (seconds > MAX_UINT64) return { ok: false, problem: "too long: more than 2^64 - 1 seconds" };
  return { ok: true, value: seconds };
}

/** A whole number in [min, max], as a JSON integer or a string of digits (a flag). */
export function checkInteger(value: unknown, min: number, max: number): Checked<number> {
  const n = typeof value === "number" ? value : typeof value === "string" && /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return { ok: true, value: n };
  return { ok: false, problem: `expected a whole number from ${min} to ${max}, got ${describe(value)}` };
}

/** `host:port` (an IPv6 host in brackets). */
export function checkListen(value: unknown): Checked<{ host: string; port: number }> {
  const match = typeof value === "string" ? /^(\[[^\]]+\]|[^:]+):([0-9]{1,5})$/.exec(value) : null;
  if (match === null || Number(match[2]) > 65535) return { ok: false, problem: `give host:port, e.g. 0.0.0.0:9735, got ${describe(value)}` };
  return { ok: true, value: { host: match[1].replace(/^\[|\]$/g, ""), port: Number(match[2]) } };
}

/** An address, checksummed or all one case; `nonZero` refuses 0x00…00. */
export function checkSettingAddress(value: unknown, nonZero = false): Checked<Address> {
  const result = checkAddress(value);
  if (!result.ok) return result;
  if (!ethers().isAddress(value)) return { ok: false, problem: "bad checksum: give the address checksummed or all one case" };
  if (nonZero && BigInt(result.value) === 0n) return { ok: false, problem: "the zero address" };
  return result;
}

export function checkRpcUrl(value: unknown): Checked<string> {
  if (typeof value === "string" && /^(https?|wss?):\/\/\S+$/.test(value)) return { ok: true, value };
  return { ok: false, problem: `give the JSON-RPC URL, e.g. http://127.0.0.1:8545, got ${describe(value)}` };
}

export const duration = fromCheck(checkDuration);
export const port = fromCheck((value) => checkInteger(value, 0, 65535));
/** How often the node polls the chain, in milliseconds. */
export const pollMs = fromCheck((value) => checkInteger(value, 10, 3_600_000));
export const listen = fromCheck(checkListen);

/** Every setting of `sluice node start`, each optional; the file's keys, and the flags' as far as there are flags. */
export const nodeSettings = z.strictObject({
  listen: listen.optional(),
  apiPort: port.optional(),
  rpc: fromCheck(checkRpcUrl).optional(),
  adjudicator: fromCheck((value) => checkSettingAddress(value)).optional(),
  keystore: text(4096).optional(),
  pollMs: pollMs.optional(),
  challengePeriod: duration.optional(),
  payee: fromCheck((value) => checkSettingAddress(value, true)).optional(),
  withdrawalWindow: duration.optional(),
});

export type NodeSettings = z.output<typeof nodeSettings>;
export const NODE_SETTINGS = Object.keys(nodeSettings.shape);
