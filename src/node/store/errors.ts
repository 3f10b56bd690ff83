import { SluiceError } from "../../errors";

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
