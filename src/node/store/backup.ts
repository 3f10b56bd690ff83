/**
 * Backups of a node's store and their restore. A backup is taken online with SQLite's backup API
 * (a consistent snapshot while payments keep committing), written beside its target and renamed
 * into place, and left in rollback-journal mode so that it is one self-contained file.
 *
 * A restore checks the file before it touches anything: a SQLite database that passes
 * `PRAGMA integrity_check`, a Sluice store (application id) of a schema this code knows, holding
 * the identity (key, chain, adjudicator) of the node it is restored for; then it marks every
 * channel as needing a resync (ChannelResyncRequiredError until the peer's states are adopted) and
 * puts the file in place, keeping any store it replaces beside it.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { Address, Hex } from "../../types";
import { decodeUint } from "./codec";
import { BackupExistsError, BackupInvalidError, StoreIdentityError, StoreNewerError } from "./errors";
import { APPLICATION_ID, SCHEMA_VERSION, userVersion } from "./migrations";

/** The node a store belongs to (written at its first start). */
export interface NodeIdentity {
  address: Address;
  chainId: bigint;
  adjudicator: Address;
}

/** What a backup (or a store) holds: its channels with their latest countersigned versions. */
export interface StoreSummary {
  file: string;
  /** Size of the file in bytes. */
  bytes: number;
  schemaVersion: number;
  identity: NodeIdentity | null;
  /** Each channel's id and the version of its latest countersigned state (0 with none). */
  channels: { channelId: Hex; version: bigint }[];
  /** Countersigned states held, over all channels. */
  states: number;
}

interface IdentityRow {
  address: Address;
  chain_id: string;
  adjudicator: Address;
}

/** The identity row of `db`, or null (a store from before migration 14, or never started). */
export function readIdentity(db: Database.Database): NodeIdentity | null {
  const row = db.prepare<[], IdentityRow>("SELECT address, chain_id, adjudicator FROM node_identity WHERE id = 1").get();
  return row === undefined ? null : { address: row.address, chainId: BigInt(row.chain_id), adjudicator: row.adjudicator };
}

/**
 * Records `identity` as the store's if it has none; refuses another one (StoreIdentityError).
 * Addresses compare case-insensitively.
 */
export function claimIdentity(db: Database.Database, identity: NodeIdentity): void {
  const stored = readIdentity(db);
  if (stored === null) {
    db.prepare("INSERT INTO node_identity (id, address, chain_id, adjudicator) VALUES (1, ?, ?, ?)").run(
      identity.address.toLowerCase(),
      identity.chainId.toString(),
      identity.adjudicator.toLowerCase(),
    );
    return;
  }
  const mismatch = identityMismatch(stored, identity);
  if (mismatch) throw new StoreIdentityError(mismatch.field, mismatch.stored, mismatch.given);
}

function identityMismatch(stored: NodeIdentity, given: Partial<NodeIdentity>): { field: "address" | "chainId" | "adjudicator"; stored: string; given: string } | undefined {
  if (given.address !== undefined && stored.address.toLowerCase() !== given.address.toLowerCase()) return { field: "address", stored: stored.address, given: given.address };
  if (given.chainId !== undefined && stored.chainId !== given.chainId) return { field: "chainId", stored: stored.chainId.toString(), given: given.chainId.toString() };
  if (given.adjudicator !== undefined && stored.adjudicator.toLowerCase() !== given.adjudicator.toLowerCase()) {
    return { field: "adjudicator", stored: stored.adjudicator, given: given.adjudicator };
  }
  return undefined;
}

/** What `db` (the file `file`) holds. */
export function summarize(db: Database.Database, file: string): StoreSummary {
  const rows = db
    .prepare<[], { channel_id: Hex; version: string | null }>(
      "SELECT c.channel_id, (SELECT max(version) FROM states s WHERE s.chan = c.id) AS version FROM channels c ORDER BY c.id",
    )
    .all();
  const states = db.prepare<[], number>("SELECT count(*) FROM states").pluck().get() ?? 0;
  return {
    file,
    bytes: fs.statSync(file).size,
    schemaVersion: userVersion(db),
    identity: readIdentity(db),
    channels: rows.map((row) => ({ channelId: row.channel_id, version: row.version === null ? 0n : decodeUint(row.version) })),
    states,
  };
}

/**
 * Copies the open store `db` to `file` with SQLite's online backup (other writes go on meanwhile;
 * the copy is the database as of one commit). Refuses an existing file unless `force`. The copy
 * is written beside `file` and renamed into place, so `file` is never half written.
 */
export async function writeBackup(db: Database.Database, file: string, force: boolean): Promise<StoreSummary> {
  if (!path.isAbsolute(file)) throw new BackupInvalidError(file, "give the backup's absolute path");
  if (!force && fs.existsSync(file)) throw new BackupExistsError(file);
  const partial = `${file}.partial-${process.pid}`;
  fs.rmSync(partial, { force: true });
  try {
    await db.backup(partial);
    fs.chmodSync(partial, 0o600); // it holds invoice and webhook secrets
    const copy = new Database(partial);
    try {
      // One file, no -wal beside it: the copy can be moved, mailed or restored as it is.
      copy.pragma("journal_mode = DELETE");
    } finally {
      copy.close();
    }
    if (!force && fs.existsSync(file)) throw new BackupExistsError(file);
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  const written = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return summarize(written, file);
  } finally {
    written.close();
  }
}

/**
 * Opens `file` as a backup to restore and checks it: a SQLite database, intact
 * (`PRAGMA integrity_check`), a Sluice store of a schema this code knows, with a node identity
 * that matches `expected` (the fields given). Returns what it holds; BackupInvalidError otherwise.
 * `db` stays open for the caller (it is closed on a refusal).
 */
function checkedBackup(db: Database.Database, file: string, expected: Partial<NodeIdentity>): StoreSummary {
  const refuse = (problem: string, cause?: unknown): never => {
    throw new BackupInvalidError(file, problem, cause === undefined ? undefined : { cause });
  };
  let appId: number;
  let problems: string[];
  try {
    appId = db.pragma("application_id", { simple: true }) as number;
    problems = (db.pragma("integrity_check") as { integrity_check: string }[]).map((row) => row.integrity_check);
  } catch (error) {
    return refuse(`not a readable SQLite database (${error instanceof Error ? error.message : String(error)})`, error);
  }
  if (problems.length !== 1 || problems[0] !== "ok") return refuse(`PRAGMA integrity_check found damage: ${problems.slice(0, 3).join("; ")}`);
  if (appId !== APPLICATION_ID) return refuse(`not a Sluice store (application_id ${appId})`);
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) return refuse(`written by a newer Sluice (schema ${version}; this one knows up to ${SCHEMA_VERSION})`);
  if (version < 14) return refuse(`a store of schema ${version}, from before backups recorded their node (schema 14)`);
  const summary = summarize(db, file);
  if (summary.identity === null) return refuse("it records no node identity (a store whose node never started)");
  const mismatch = identityMismatch(summary.identity, expected);
  if (mismatch) return refuse(`it belongs to ${mismatch.field} ${mismatch.stored}, not ${mismatch.given}`);
  return summary;
}

/** What the store at `storeFile` says of its node, and which of its channels are newer than `backup`'s (or missing there). */
function existingStore(storeFile: string): { identity: NodeIdentity | null; summary: StoreSummary } {
  const db = new Database(storeFile, { fileMustExist: true });
  try {
    let identity: NodeIdentity | null = null;
    try {
      identity = readIdentity(db);
    } catch {
      identity = null; // a store from before migration 14
    }
    return { identity, summary: { ...summarize(db, storeFile), identity } };
  } finally {
    db.close();
  }
}

function newerChannels(store: StoreSummary, backup: StoreSummary): Hex[] {
  const held = new Map(backup.channels.map((c) => [c.channelId, c.version]));
  return store.channels.filter((c) => (held.get(c.channelId) ?? -1n) < c.version).map((c) => c.channelId);
}

export interface RestoreOptions {
  /** The backup file. */
  file: string;
  /** Where the node's store lives (`<datadir>/store.sqlite`). */
  storePath: string;
  /** The identity the backup must carry (what is known of the node it is restored for; the existing store's identity is added). */
  expected: Partial<NodeIdentity>;
  /** Restore over a store that holds newer states (kept beside it). */
  force?: boolean;
  /** Marks every channel of the copy (the ChannelStore's `markRestored`, which also writes events). */
  mark(copyPath: string): void;
}

export interface RestoreResult extends StoreSummary {
  /** Where the store it replaced was moved, if there was one. */
  replaced?: string;
}

/**
 * Puts the backup in place of the node's store (see the module comment); nothing changes if a
 * check fails. The caller makes sure no node is running on the store.
 */
export function restoreBackup(options: RestoreOptions): RestoreResult {
  const { file, storePath } = options;
  if (!fs.existsSync(file)) throw new BackupInvalidError(file, "no such file");
  const copy = `${storePath}.restoring`;
  removeDatabase(copy);
  try {
    fs.mkdirSync(path.dirname(storePath), { recursive: true });
    fs.copyFileSync(file, copy);
    fs.chmodSync(copy, 0o600);
    const existing = fs.existsSync(storePath) ? existingStore(storePath) : undefined;
    const expected = { ...options.expected, ...(existing?.identity ?? {}) };
    let summary: StoreSummary;
    let db: Database.Database;
    try {
      db = new Database(copy, { fileMustExist: true });
    } catch (error) {
      throw new BackupInvalidError(file, `can't be opened as a SQLite database (${error instanceof Error ? error.message : String(error)})`, { cause: error });
    }
    try {
      summary = { ...checkedBackup(db, file, expected), file };
    } finally {
      db.close();
    }
    const newer = existing === undefined ? [] : newerChannels(existing.summary, summary);
    if (newer.length > 0 && !options.force) throw new StoreNewerError(storePath, newer);
    options.mark(copy);
    let replaced: string | undefined;
    if (fs.existsSync(storePath)) {
      replaced = `${storePath}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      for (const suffix of ["", "-wal", "-shm"]) if (fs.existsSync(storePath + suffix)) fs.renameSync(storePath + suffix, replaced + suffix);
    }
    fs.renameSync(copy, storePath);
    return { ...summary, ...(replaced === undefined ? {} : { replaced }) };
  } finally {
    removeDatabase(copy);
  }
}

/** Removes a database file and its -wal and -shm files, if any. */
function removeDatabase(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true });
}
