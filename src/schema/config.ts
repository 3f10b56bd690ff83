/**
 * The node's settings, from its JSON config file and from `sluice node start` flags: one schema
 * for both, so a value means the same in either place (a duration "1d", a port 8080 or "8080").
 * Flags arrive as strings; the file may give numbers or strings.
 */
import { z } from "zod";
import { ethers } from "../lazyEthers";
import { DEFAULT_MAX_FEE_GWEI } from "../chain/feeCap";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MAX_PENDING_LOCKS, DEFAULT_MIN_LOCK_WINDOW } from "../channel/lockDefaults";
import type { Address } from "../types";
import { checkAddress, checkUint, describe, fromCheck, MAX_UINT64, text, wsUrl, type Checked } from "./primitives";

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

export function checkBoolean(value: unknown): Checked<boolean> {
  if (typeof value === "boolean") return { ok: true, value };
  if (value === "true" || value === "false") return { ok: true, value: value === "true" };
  return { ok: false, problem: `expected true or false, got ${describe(value)}` };
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
  if (typeof value === "string" && /^(https?|wss?):\/\/[^\s,]+$/.test(value)) return { ok: true, value };
  return { ok: false, problem: `give the JSON-RPC URL, e.g. http://127.0.0.1:8545, got ${describe(value)}` };
}

/** The most JSON-RPC endpoints a node takes. */
export const MAX_RPC_URLS = 8;

/**
 * One JSON-RPC URL or several, in order of preference (the node fails over to the next): a list, or
 * one string with the URLs separated by commas (a flag; `--rpc` given several times arrives so).
 */
export function checkRpcUrls(value: unknown): Checked<string[]> {
  const items = Array.isArray(value) ? (value as unknown[]) : typeof value === "string" ? value.split(",").map((url) => url.trim()) : [value];
  if (items.length === 0 || items.length > MAX_RPC_URLS) return { ok: false, problem: `give 1 to ${MAX_RPC_URLS} JSON-RPC URLs, got ${items.length}` };
  const urls: string[] = [];
  for (const item of items) {
    const url = checkRpcUrl(item);
    if (!url.ok) return url;
    if (urls.includes(url.value)) return { ok: false, problem: `${url.value} is given twice` };
    if (items.length > 1 && !/^https?:/.test(url.value)) return { ok: false, problem: `${url.value}: several endpoints fail over over http or https only` };
    urls.push(url.value);
  }
  return { ok: true, value: urls };
}

export const duration = fromCheck(checkDuration);
export const port = fromCheck((value) => checkInteger(value, 0, 65535));
/** How often the node polls the chain, in milliseconds. */
export const pollMs = fromCheck((value) => checkInteger(value, 10, 3_600_000));
export const listen = fromCheck(checkListen);
/** How many versions apart the states handed to the tower are. */
export const towerEvery = fromCheck((value) => checkInteger(value, 1, 1_000_000));
/** A boolean, as JSON or as a flag's "true"/"false". */
export const flagBoolean = fromCheck(checkBoolean);
/** Blocks an event needs to count (src/chain/confirmations.ts has the defaults). */
export const confirmations = fromCheck((value) => checkInteger(value, 1, 1_000));

/** The levels of the node's log (`--log-level`), from the most talkative. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function checkLogLevel(value: unknown): Checked<LogLevel> {
  if (typeof value === "string" && (LOG_LEVELS as readonly string[]).includes(value)) return { ok: true, value: value as LogLevel };
  return { ok: false, problem: `expected one of ${LOG_LEVELS.join(", ")}, got ${describe(value)}` };
}

/** Gwei: a positive number with at most 9 decimals (1 wei), as a JSON number or a string of one (a flag). */
export function checkGwei(value: unknown): Checked<number> {
  const problem = `expected a fee in gwei, a positive number up to 100000 (e.g. 50 or 0.5), got ${describe(value)}`;
  const source = typeof value === "number" ? String(value) : value;
  if (typeof source !== "string" || !/^[0-9]{1,6}(\.[0-9]{1,9})?$/.test(source.trim())) return { ok: false, problem };
  const gwei = Number(source.trim());
  return gwei > 0 && gwei <= 100_000 ? { ok: true, value: gwei } : { ok: false, problem };
}

/** On or off: a JSON boolean, or "true"/"false" (a flag given with no value is true). */
export function checkSwitch(value: unknown): Checked<boolean> {
  if (typeof value === "boolean") return { ok: true, value };
  if (value === "true" || value === "false") return { ok: true, value: value === "true" };
  return { ok: false, problem: `expected true or false, got ${describe(value)}` };
}

/** A hub's base fee: whole base units of the channel's asset (a JSON integer or a string of digits). */
export function checkBaseUnits(value: unknown): Checked<bigint> {
  return checkUint(typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? String(value) : value, 256, false);
}

/** The fee cap of the node's transactions (src/chain/fees.ts). */
export const maxFeeGwei = fromCheck(checkGwei);

/** What `sluice node start` uses for a setting given neither as a flag nor in the config file (start.ts passes these to the node). */
export const NODE_DEFAULTS = { rpc: "http://127.0.0.1:8545", pollMs: 1_000, challengePeriod: 3_600n, withdrawalWindow: 3_600n, replaceAfter: 60n, logLevel: "info" } as const;
export const DEFAULT_RPC = NODE_DEFAULTS.rpc;

const inHours = (seconds: bigint) => `${seconds} s (${Number(seconds) / 3600}h)`;

/** What the config reference says of a setting (src/schema/configReference.ts). */
export interface SettingDoc {
  type: string;
  default: string;
  about: string;
  /** The `sluice node start` flag that sets it too, if there is one. */
  flag?: string;
}

function setting<T extends z.ZodType>(schema: T, doc: SettingDoc) {
  return schema.optional().meta({ ...doc });
}

const DURATION = "duration: seconds, or with s, m, h or d (90s, 30m, 24h, 1d)";

/** Every setting of `sluice node start`, each optional; the file's keys, and the flags' as far as there are flags. */
export const nodeSettings = z.strictObject({
  listen: setting(listen, { type: "host:port", default: "127.0.0.1:0 (loopback, any free port)", about: "where peers connect (WebSocket)", flag: "--listen" }),
  apiPort: setting(port, { type: "port, 0 to 65535", default: "0 (any free port; written to api.json)", about: "the local HTTP API's port on 127.0.0.1", flag: "--api-port" }),
  rpc: setting(fromCheck(checkRpcUrls), {
    type: "URL (http, https, ws or wss), or a list of them (a flag: repeated, or comma-separated)",
    default: DEFAULT_RPC,
    about: "the chain's JSON-RPC endpoint (`npx hardhat node` serves this default); several: the node uses the first that answers, fails over to the next and returns to the first once it answers again",
    flag: "--rpc",
  }),
  adjudicator: setting(
    fromCheck((value) => checkSettingAddress(value)),
    { type: "address", default: "none: required", about: "the Sluice adjudicator contract on that chain (`npm run deploy` prints it)", flag: "--adjudicator" },
  ),
  keystore: setting(text(4096), {
    type: "file path",
    default: "none: then SLUICE_DEV_KEY (development only)",
    about: "the node's encrypted JSON key; its password in SLUICE_KEYSTORE_PASSWORD",
    flag: "--keystore",
  }),
  pollMs: setting(pollMs, { type: "milliseconds, 10 to 3600000", default: String(NODE_DEFAULTS.pollMs), about: "how often the node polls the chain" }),
  challengePeriod: setting(duration, { type: DURATION, default: inHours(NODE_DEFAULTS.challengePeriod), about: "how long a dispute stays open in the channels this node opens" }),
  payee: setting(
    fromCheck((value) => checkSettingAddress(value, true)),
    { type: "address, not zero", default: "the node's own address", about: "where this node's payouts go (a company wallet, a Safe)", flag: "--payee" },
  ),
  confirmations: setting(confirmations, {
    type: "blocks, 1 to 1000",
    default: "1 on development chains (chain id 31337 or 1337), 12 elsewhere",
    about: "how deep a deposit, withdrawal or conclusion must be to count (1: in the latest block); a challenge is answered at once",
    flag: "--confirmations",
  }),
  withdrawalWindow: setting(duration, { type: DURATION, default: inHours(NODE_DEFAULTS.withdrawalWindow), about: "how long a cash-out's withdrawal signed by both stays valid" }),
  maxFeeGwei: setting(maxFeeGwei, {
    type: "gwei, above 0 up to 100000 (decimals allowed)",
    default: `${DEFAULT_MAX_FEE_GWEI}`,
    about: "the most the node pays per gas (base fee + tip) for a transaction: it refuses to send when the chain asks more, and bumps a stuck one no higher",
    flag: "--max-fee",
  }),
  replaceAfter: setting(duration, {
    type: DURATION,
    default: `${NODE_DEFAULTS.replaceAfter} s`,
    about: "how long a transaction may wait unmined before the node replaces it (same nonce, fees +12.5 %)",
  }),
  tower: setting(flagBoolean, {
    type: "true or false",
    default: "false",
    about: "also run a watchtower: other nodes register at towerListen and hand it their states; it refutes stale challenges of their channels and settles them, paying the gas",
    flag: "--tower",
  }),
  towerListen: setting(listen, { type: "host:port", default: "127.0.0.1:0 (loopback, any free port)", about: "where the watchtower's clients connect (WebSocket, the peer handshake)", flag: "--tower-listen" }),
  towerUrl: setting(wsUrl, { type: "ws:// or wss:// URL", default: "none: no tower", about: "the watchtower this node hands its countersigned states to", flag: "--tower-url" }),
  towerAddress: setting(
    fromCheck((value) => checkSettingAddress(value, true)),
    { type: "address", default: "none: any tower that answers at towerUrl", about: "the address the tower at towerUrl must prove in the handshake; another one is refused", flag: "--tower-address" },
  ),
  towerEvery: setting(towerEvery, {
    type: "versions, 1 to 1000000",
    default: "1 (every state)",
    about: "hand the tower a state once it is this many versions past the last one handed (and every channel's latest at a clean stop)",
    flag: "--tower-every",
  }),
  hub: setting(fromCheck(checkSwitch), {
    type: "true or false",
    default: "false",
    about: "routing on: the node forwards hashlocked payments between its channels for its fees (README \"Routing through a hub\")",
    flag: "--hub",
  }),
  feeBase: setting(fromCheck(checkBaseUnits), { type: "base units of the channel's asset", default: "0", about: "a hub's fixed fee per forwarded payment", flag: "--fee-base" }),
  feePpm: setting(
    fromCheck((value) => checkInteger(value, 0, 1_000_000)),
    { type: "millionths, 0 to 1000000", default: "0", about: "a hub's fee on the amount forwarded, in millionths (1000 = 0.1 %)", flag: "--fee-ppm" },
  ),
  lockWindow: setting(duration, {
    type: DURATION,
    default: inHours(DEFAULT_MIN_LOCK_WINDOW),
    about:
      "the reveal window: a lock this node takes or makes expires at least this long after now, and a hub's outgoing lock this much before its incoming one (time to register the secret on chain); a hub publishes it with its fees",
    flag: "--lock-window",
  }),
  maxLockDuration: setting(duration, {
    type: DURATION,
    default: `${DEFAULT_MAX_LOCK_DURATION} s (7 d)`,
    about: "the longest a lock this node takes may run, from now; at least lockWindow; a hub publishes it with its fees",
    flag: "--max-lock-duration",
  }),
  maxPendingLocks: setting(
    fromCheck((value) => checkInteger(value, 1, 100_000)),
    {
      type: "locks, 1 to 100000",
      default: String(DEFAULT_MAX_PENDING_LOCKS),
      about: "the most locks pending in a channel at once, both directions: a lock beyond it is refused (against jamming: a peer tying up the channel with locks it never settles)",
      flag: "--max-pending-locks",
    },
  ),
  maxLockedValue: setting(fromCheck(checkBaseUnits), {
    type: "base units of the channel's asset",
    default: "no cap but the deposits",
    about: "the most value locked in a channel's pending locks at once, both directions: a lock beyond it is refused (against jamming)",
    flag: "--max-locked-value",
  }),
  logLevel: setting(fromCheck(checkLogLevel), {
    type: LOG_LEVELS.join(", "),
    default: NODE_DEFAULTS.logLevel,
    about: "the lowest level the node logs (JSON lines on stderr; debug adds a line per event, payments included)",
    flag: "--log-level",
  }),
});

export type NodeSettings = z.output<typeof nodeSettings>;
export const NODE_SETTINGS = Object.keys(nodeSettings.shape);
