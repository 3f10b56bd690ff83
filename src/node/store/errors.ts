import { SluiceError } from "../../errors";
import type { Hex } from "../../types";

/** Base of every error the channel store throws; a failed write has changed nothing. */
export class StoreError extends SluiceError {
  static override readonly code: string = "STORE";
  override readonly name: string = "StoreError";
}

/** The database file can't be used as a Sluice store (another application's file, no WAL, ...). */
export class StoreOpenError extends StoreError {
  static override readonly code: string = "STORE_OPEN";
  override readonly name: string = "StoreOpenError";

  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`can't open the channel store ${path}: ${problem}`, options);
  }
}

/** The database was written by a newer version of Sluice; this code must not touch it. */
export class SchemaTooNewError extends StoreError {
  static override readonly code: string = "SCHEMA_TOO_NEW";
  override readonly name: string = "SchemaTooNewError";

  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`the channel store has schema version ${found}; this code knows versions up to ${supported}`);
  }
}

/** A schema migration failed; the database is left at the version before it. */
export class MigrationError extends StoreError {
  static override readonly code: string = "MIGRATION";
  override readonly name: string = "MigrationError";

  constructor(
    readonly version: number,
    options?: { cause?: unknown },
  ) {
    super(`migration to schema version ${version} failed`, options);
  }
}

/** A value handed to the store is malformed or out of range; `field` names it. */
export class InvalidRecordError extends StoreError {
  static override readonly code: string = "INVALID_RECORD";
  override readonly name: string = "InvalidRecordError";

  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly problem: string,
  ) {
    super(`${field} = ${describe(value)}: ${problem}`);
  }
}

/** No channel with this id is in the store. */
export class UnknownChannelError extends StoreError {
  static override readonly code: string = "UNKNOWN_CHANNEL";
  override readonly name: string = "UnknownChannelError";

  constructor(readonly channelId: string) {
    super(`unknown channel ${channelId}`);
  }
}

/** `putChannel` for a channel the store holds with another participant index. */
export class ChannelConflictError extends StoreError {
  static override readonly code: string = "CHANNEL_CONFLICT";
  override readonly name: string = "ChannelConflictError";

  constructor(
    readonly channelId: string,
    problem: string,
  ) {
    super(`channel ${channelId}: ${problem}`);
  }
}

/**
 * A countersigned state whose version is not above the latest stored one (and is not a duplicate
 * of the state stored at that version).
 */
export class NonIncreasingVersionError extends StoreError {
  static override readonly code: string = "NON_INCREASING_VERSION";
  override readonly name: string = "NonIncreasingVersionError";

  constructor(
    readonly channelId: string,
    readonly version: bigint,
    readonly latest: bigint,
  ) {
    super(`channel ${channelId}: version ${version} is not above the latest stored version ${latest}`);
  }
}

/**
 * This side already signed (or holds countersigned) a different state at this version: signing or
 * storing this one would put two states with one version into the world. Nothing was written.
 */
export class OwnSignatureConflictError extends StoreError {
  static override readonly code: string = "OWN_SIGNATURE_CONFLICT";
  override readonly name: string = "OwnSignatureConflictError";

  constructor(
    readonly channelId: string,
    readonly version: bigint,
  ) {
    super(`channel ${channelId}: this side already signed a different state at version ${version}`);
  }
}

/** This side signed (or holds) a final state at `finalVersion`; nothing newer may be signed or stored. */
export class StateAfterFinalError extends StoreError {
  static override readonly code: string = "STATE_AFTER_FINAL";
  override readonly name: string = "StateAfterFinalError";

  constructor(
    readonly channelId: string,
    readonly version: bigint,
    readonly finalVersion: bigint,
  ) {
    super(`channel ${channelId}: version ${version} comes after the final state at version ${finalVersion}`);
  }
}

/** A payment whose `seq` is not the next position of the channel's payment log. */
export class PaymentSequenceError extends StoreError {
  static override readonly code: string = "PAYMENT_SEQUENCE";
  override readonly name: string = "PaymentSequenceError";

  constructor(
    readonly channelId: string,
    readonly expected: bigint,
    readonly actual: bigint,
  ) {
    super(`channel ${channelId}: payment seq ${actual} should be ${expected}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "array" : "object";
  return String(value);
}

/**
 * A channel of a store put in place by `sluice restore` signs nothing (no payment, lock,
 * withdrawal, countersignature or close) until it has resynced with its peer: the backup may
 * predate states this node signed, and signing again at their versions could sign one twice.
 */
export class ChannelResyncRequiredError extends SluiceError {
  static override readonly code: string = "CHANNEL_RESYNC_REQUIRED";
  override readonly name: string = "ChannelResyncRequiredError";

  constructor(
    readonly channelId: Hex,
    readonly action: string,
  ) {
    super(`channel ${channelId} was restored from a backup and can't ${action} until it has resynced with its peer: connect the peer (the resync runs when it connects) and try again`);
  }
}

/** `backup` would overwrite a file: give another path, or `--force`. Nothing was written. */
export class BackupExistsError extends SluiceError {
  static override readonly code: string = "BACKUP_EXISTS";
  override readonly name: string = "BackupExistsError";

  constructor(readonly file: string) {
    super(`${file} exists: give a new file for the backup, or --force to replace it`);
  }
}

/** The file given to `restore` is not a usable backup of this node; nothing was changed. */
export class BackupInvalidError extends SluiceError {
  static override readonly code: string = "BACKUP_INVALID";
  override readonly name: string = "BackupInvalidError";

  constructor(
    readonly file: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file} can't be restored: ${problem}; nothing was changed`, options);
  }
}

/** `restore` while a node runs in the data directory: stop it first. Nothing was changed. */
export class NodeRunningError extends SluiceError {
  static override readonly code: string = "NODE_RUNNING";
  override readonly name: string = "NodeRunningError";

  constructor(
    readonly datadir: string,
    readonly pid: number,
  ) {
    super(`a node (pid ${pid}) is running in ${datadir}: stop it before restoring; nothing was changed`);
  }
}

/**
 * The data directory's store holds states the backup lacks: restoring would drop them (the
 * resync would fetch them back from the peers, but only from peers that still have them).
 * Nothing was changed; `--force` restores anyway and keeps the replaced store beside it.
 */
export class StoreNewerError extends SluiceError {
  static override readonly code: string = "STORE_NEWER";
  override readonly name: string = "StoreNewerError";

  constructor(
    readonly store: string,
    readonly channels: Hex[],
  ) {
    super(`the store ${store} is newer than the backup in ${channels.length} channel(s) (${channels.slice(0, 3).join(", ")}${channels.length > 3 ? ", ..." : ""}); nothing was changed: give --force to restore anyway (the store is kept beside it)`);
  }
}

/** The store belongs to another node: another key, chain or adjudicator than the one starting. */
export class StoreIdentityError extends StoreError {
  static override readonly code: string = "STORE_IDENTITY";
  override readonly name: string = "StoreIdentityError";

  constructor(
    readonly field: "address" | "chainId" | "adjudicator",
    readonly stored: string,
    readonly given: string,
  ) {
    super(`the store belongs to ${field} ${stored}, not ${given}: start it with the key, chain and adjudicator it was made with, or use another data directory`);
  }
}
