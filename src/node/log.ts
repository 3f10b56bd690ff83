/**
 * The node's log: JSON lines (pino), one object per line with `level`, `time` and `msg`; a line
 * about one channel carries its `channelId` and `peer`, a line about a peer its `peer` (child
 * loggers). Secrets never go in: keys, tokens and lock secrets are redacted wherever a field of
 * that name appears, and the node logs none of them in a message.
 */
import pino, { type DestinationStream, type Logger } from "pino";
import { NODE_DEFAULTS, type LogLevel } from "../schema/config";
import type { Address, Hex } from "../types";
import type { EventLog, EventRecord } from "./store/events";

export type { Logger } from "pino";

export { LOG_LEVELS, type LogLevel } from "../schema/config";
export const DEFAULT_LOG_LEVEL: LogLevel = NODE_DEFAULTS.logLevel;

/** Fields whose values never reach the log, at the top level or one level down. */
const SECRET_FIELDS = ["secret", "preimage", "token", "privateKey", "password", "authorization"];
const REDACT = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]);

/**
 * A logger writing JSON lines to `destination` (default: stderr), at `level` and above. `write`
 * may be a function taking one line (the CLI's stderr), as `sluice node start` gives it.
 */
export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL, destination?: DestinationStream | ((line: string) => void)): Logger {
  const stream: DestinationStream =
    typeof destination === "function" ? { write: (chunk: string) => destination(chunk.endsWith("\n") ? chunk.slice(0, -1) : chunk) } : (destination ?? pino.destination(2));
  return pino({ level, base: { name: "sluice" }, redact: { paths: REDACT, censor: "[redacted]" } }, stream);
}

const CHANNEL_ID = /0x[0-9a-fA-F]{64}/;
const ADDRESS = /0x[0-9a-fA-F]{40}(?![0-9a-fA-F])/;

/** The node's `onError` and `log` options on a logger (see `NodeOptions`). */
export interface NodeLogHooks {
  onError: (error: unknown, what: string) => void;
  log: (line: string) => void;
}

/**
 * The node's hooks writing to `logger`: a line naming a channel goes to the channel's child
 * logger (`channelId`, `peer` from `peerOf`), one naming only an address to the peer's.
 */
export function nodeLogHooks(logger: Logger, peerOf: (channelId: Hex) => Address | undefined): NodeLogHooks {
  const about = (text: string): Logger => {
    const channelId = CHANNEL_ID.exec(text)?.[0] as Hex | undefined;
    if (channelId !== undefined) return channelLogger(logger, channelId, peerOf(channelId));
    const peer = ADDRESS.exec(text)?.[0];
    return peer === undefined ? logger : logger.child({ peer: peer.toLowerCase() });
  };
  return {
    onError: (error, what) => {
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown } | null)?.code;
      about(what).warn({ ...(typeof code === "string" ? { code } : {}) }, `${what}: ${message}`);
    },
    log: (line) => {
      about(line).info(line);
    },
  };
}

/**
 * A channel's peer through `lookup` (the store), remembered once found; undefined while unknown,
 * and if the lookup fails (the store closed at shutdown).
 */
export function rememberedPeers(lookup: (channelId: Hex) => Address | undefined): (channelId: Hex) => Address | undefined {
  const peers = new Map<string, Address>();
  return (channelId) => {
    const key = channelId.toLowerCase();
    const known = peers.get(key);
    if (known !== undefined) return known;
    try {
      const peer = lookup(channelId);
      if (peer !== undefined) peers.set(key, peer);
      return peer;
    } catch {
      return undefined;
    }
  };
}

/** The child logger of one channel: every line carries its id and its peer. */
export function channelLogger(logger: Logger, channelId: Hex, peer: Address | undefined): Logger {
  return logger.child({ channelId: channelId.toLowerCase(), ...(peer === undefined ? {} : { peer: peer.toLowerCase() }) });
}

/**
 * Logs each event of the node's event log at debug level (a payment, a status change, a peer
 * connecting), on the channel's child logger; nothing is read while debug is off. Returns the
 * function that stops it.
 */
export function logEvents(events: EventLog, logger: Logger, peerOf: (channelId: Hex) => Address | undefined): () => void {
  if (!logger.isLevelEnabled("debug")) return () => undefined;
  return followEvents(events, (event) => {
    const target = event.channelId === undefined ? logger : channelLogger(logger, event.channelId, peerOf(event.channelId));
    target.debug({ event: event.type, eventId: event.id.toString(), ...event.data }, event.type);
  });
}

/** How many events one wake of a follower reads at most before it yields. */
const FOLLOW_PAGE = 1_000;

/**
 * Calls `handle` with every event appended from now on, in id order (after their transactions
 * committed). Returns the function that stops it.
 */
export function followEvents(events: EventLog, handle: (event: EventRecord) => void): () => void {
  let cursor = events.lastId();
  return events.listen(() => {
    for (;;) {
      const page = events.after(cursor, FOLLOW_PAGE);
      for (const event of page) {
        cursor = event.id;
        handle(event);
      }
      if (page.length < FOLLOW_PAGE) return;
    }
  });
}
