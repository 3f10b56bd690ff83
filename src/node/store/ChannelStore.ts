import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { channelId as channelIdOf, paymentLeafHex } from "../../crypto/hash";
import type { Address, Hex, Params, Payment, SignedState, State, Withdrawal } from "../../types";
import { UINT256_MAX, address, bool, bytes32, decodeUint, index01, signature, uint64Key, uintText } from "./codec";
import {
  ChannelConflictError,
  InvalidRecordError,
  NonIncreasingVersionError,
  OwnSignatureConflictError,
  PaymentSequenceError,
  StateAfterFinalError,
  StoreError,
  StoreOpenError,
  UnknownChannelError,
} from "./errors";
import { EventLog, type EventData, type EventType } from "./events";
import { InvoiceStore } from "./invoices";
import { LockStore } from "./locks";
import { LockSettlementStore } from "./lockSettlements";
import { ForwardStore } from "./forwards";
import { TokenStore } from "./tokens";
import { WebhookStore } from "./webhooks";
import { TransactionStore } from "./transactions";
import { TowerStore } from "../../tower/store";
import { APPLICATION_ID, migrate, userVersion } from "./migrations";
import { claimIdentity, readIdentity, restoreBackup, writeBackup, type NodeIdentity, type RestoreOptions, type RestoreResult, type StoreSummary } from "./backup";
import {
  CHANNEL_STATUSES,
  type ChannelRecord,
  type ChannelStatus,
  type AddedPayments,
  type CountersignedItem,
  type NewChannel,
  type OpenOptions,
  type OwnSignature,
  type PaymentQuery,
  type PaymentRecord,
  type WithdrawalRow,
  type WithdrawalStatus,
  WITHDRAWAL_STATUSES,
} from "./types";

// ------------------------------------------------------------------ rows and encoded records

interface ChannelRow {
  id: number;
  channel_id: Hex;
  participant0: Address;
  participant1: Address;
  asset: Address;
  challenge_period: string;
  nonce: string;
  my_index: 0 | 1;
  peer: Address;
  status: ChannelStatus;
  deposit0: string;
  deposit1: string;
  payee0: Address;
  payee1: Address;
  withdrawn0: string;
  withdrawn1: string;
  protocol: 1 | 2;
  final_version: string | null;
  created_at: number;
  updated_at: number;
}

/** The state columns shared by `states` and `own_signatures`. */
interface StateColumns {
  version: string;
  transferred0: string;
  transferred1: string;
  locked0: string;
  locked1: string;
  locks_root: Hex;
  payments_root: Hex;
  is_final: 0 | 1;
}

interface StateRow extends StateColumns {
  sig0: Hex;
  sig1: Hex;
  payment_seq: string | null;
  payment_count: number;
}

interface OwnRow extends StateColumns {
  sig: Hex;
}

interface PaymentRow {
  seq: string;
  version: string;
  payer: 0 | 1;
  amount: string;
  ref: Hex;
  leaf: Hex;
  recorded_at: number | null;
  memo: string | null;
}

/** What the store caches per channel: its row id and index never change once the channel is committed. */
interface ChannelRef {
  readonly id: number;
  readonly myIndex: 0 | 1;
  /** The keys the countersigned path checks, read once and then kept up to date by this store's writes. */
  tip?: ChannelTip;
}

/**
 * Version and seq keys (uint64Key text) of a channel's latest rows, so that recording a state
 * reads nothing back. Dropped with the refs whenever a write fails (its transaction rolled back).
 */
interface ChannelTip {
  latestVersion: string | null;
  lastSeq: string | null;
  finalVersion: string | null;
  /** Highest version in own_signatures: a countersigned state above it has no own signature to compare with. */
  ownVersion: string | null;
}

interface EncodedPayment {
  seqKey: string;
  payer: 0 | 1;
  amount: string;
  ref: Hex;
}

/** Field names of a state argument, built once so that the hot path builds no strings. */
interface StateFields {
  state: string;
  channelId: string;
  version: string;
  transferred: string;
  transferred0: string;
  transferred1: string;
  locked: string;
  locked0: string;
  locked1: string;
  locksRoot: string;
  paymentsRoot: string;
  isFinal: string;
}

function stateFields(prefix: string): StateFields {
  return {
    state: prefix,
    channelId: `${prefix}.channelId`,
    version: `${prefix}.version`,
    transferred: `${prefix}.transferred`,
    transferred0: `${prefix}.transferred[0]`,
    transferred1: `${prefix}.transferred[1]`,
    locked: `${prefix}.locked`,
    locked0: `${prefix}.locked[0]`,
    locked1: `${prefix}.locked[1]`,
    locksRoot: `${prefix}.locksRoot`,
    paymentsRoot: `${prefix}.paymentsRoot`,
    isFinal: `${prefix}.isFinal`,
  };
}

const SIGNED_STATE = stateFields("signed.state");
const OWN_STATE = stateFields("state");
const ZERO_KEY = uint64Key(0n, "version");
const DEFAULT_PAYMENT_LIMIT = 1000;
const MAX_PAYMENT_LIMIT = 1_000_000;
const MAX_BLOCK = (1n << 63n) - 1n;
/** Digits of 2^256 - 1: a withdrawal total padded to them sorts as the number does. */
const TOTAL_DIGITS = 78;

function object(value: unknown, field: string): void {
  if (typeof value !== "object" || value === null) throw new InvalidRecordError(field, value, "expected an object");
}

function pair(value: unknown, field: string): void {
  if (!Array.isArray(value) || value.length !== 2) throw new InvalidRecordError(field, value, "expected two elements");
}

function encodeState(state: State, channelId: Hex, f: StateFields): StateColumns {
  object(state, f.state);
  if (bytes32(state.channelId, f.channelId) !== channelId) {
    throw new InvalidRecordError(f.channelId, state.channelId, `expected ${channelId}`);
  }
  pair(state.transferred, f.transferred);
  pair(state.locked, f.locked);
  return {
    version: uint64Key(state.version, f.version),
    transferred0: uintText(state.transferred[0], UINT256_MAX, f.transferred0),
    transferred1: uintText(state.transferred[1], UINT256_MAX, f.transferred1),
    locked0: uintText(state.locked[0], UINT256_MAX, f.locked0),
    locked1: uintText(state.locked[1], UINT256_MAX, f.locked1),
    locks_root: bytes32(state.locksRoot, f.locksRoot),
    payments_root: bytes32(state.paymentsRoot, f.paymentsRoot),
    is_final: bool(state.isFinal, f.isFinal) ? 1 : 0,
  };
}

function encodePayment(payment: Payment, channelId: Hex, path = "payment"): EncodedPayment {
  object(payment, path);
  if (bytes32(payment.channelId, `${path}.channelId`) !== channelId) {
    throw new InvalidRecordError(`${path}.channelId`, payment.channelId, `expected ${channelId}`);
  }
  return {
    seqKey: uint64Key(payment.seq, `${path}.seq`),
    payer: index01(payment.payer, `${path}.payer`),
    amount: uintText(payment.amount, UINT256_MAX, `${path}.amount`),
    ref: bytes32(payment.ref, `${path}.ref`),
  };
}

function addedList(added: AddedPayments): readonly Payment[] {
  if (added === null) return [];
  if (Array.isArray(added)) {
    const list = added as readonly Payment[];
    if (list.length > MAX_PAYMENT_LIMIT) throw new InvalidRecordError("payments", list.length, `more than ${MAX_PAYMENT_LIMIT}`);
    return list;
  }
  return [added as Payment];
}

function sameState(a: StateColumns, b: StateColumns): boolean {
  return (
    a.version === b.version &&
    a.transferred0 === b.transferred0 &&
    a.transferred1 === b.transferred1 &&
    a.locked0 === b.locked0 &&
    a.locked1 === b.locked1 &&
    a.locks_root === b.locks_root &&
    a.payments_root === b.payments_root &&
    a.is_final === b.is_final
  );
}

function decodeState(channelId: Hex, row: StateColumns): State {
  return {
    channelId,
    version: decodeUint(row.version),
    transferred: [decodeUint(row.transferred0), decodeUint(row.transferred1)],
    locked: [decodeUint(row.locked0), decodeUint(row.locked1)],
    locksRoot: row.locks_root,
    paymentsRoot: row.payments_root,
    isFinal: row.is_final === 1,
  };
}

function decodePayment(channelId: Hex, row: PaymentRow): PaymentRecord {
  return {
    payment: { channelId, seq: decodeUint(row.seq), payer: row.payer, amount: decodeUint(row.amount), ref: row.ref },
    leaf: row.leaf,
    version: decodeUint(row.version),
    ...(row.recorded_at === null ? {} : { committedAt: row.recorded_at }),
    ...(row.memo === null ? {} : { memo: row.memo }),
  };
}

function decodeChannel(row: ChannelRow): ChannelRecord {
  return {
    channelId: row.channel_id,
    params: {
      participants: [row.participant0, row.participant1],
      payees: [row.payee0, row.payee1],
      asset: row.asset,
      challengePeriod: decodeUint(row.challenge_period),
      nonce: decodeUint(row.nonce),
    },
    myIndex: row.my_index,
    peer: row.peer,
    status: row.status,
    deposits: [decodeUint(row.deposit0), decodeUint(row.deposit1)],
    withdrawn: [decodeUint(row.withdrawn0), decodeUint(row.withdrawn1)],
    protocol: row.protocol,
    finalVersion: row.final_version === null ? null : decodeUint(row.final_version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function status(value: unknown, field: string): ChannelStatus {
  if (typeof value === "string" && (CHANNEL_STATUSES as readonly string[]).includes(value))
    return value as ChannelStatus;
  throw new InvalidRecordError(field, value, `expected one of ${CHANNEL_STATUSES.join(", ")}`);
}

function deposits(value: unknown, field: string): [string, string] {
  pair(value, field);
  const d = value as readonly unknown[];
  return [uintText(d[0], UINT256_MAX, `${field}[0]`), uintText(d[1], UINT256_MAX, `${field}[1]`)];
}

/** Prefixes the field of an `InvalidRecordError` raised for item `i` of a batch. */
function inItem(error: unknown, i: number): unknown {
  return error instanceof InvalidRecordError
    ? new InvalidRecordError(`items[${i}].${error.field}`, error.value, error.problem)
    : error;
}

// ------------------------------------------------------------------ the store

/**
 * The node's durable store: channels, every state this side signed, every countersigned state
 * with both signatures and the payment it added, and the watchers' block cursors, in one SQLite
 * file (WAL, `synchronous = FULL`). Every write method is one transaction that has reached the
 * disk when the method returns, so a caller may sign, send or acknowledge right after it; a write
 * that throws has changed nothing. Calls made inside `transaction(fn)` share one commit (and one
 * fsync): the group commit of pipelined payments.
 *
 * One process should own a store; other connections (a CLI reading it) are safe, but two nodes
 * writing one channel could each sign a different state.
 */
export class ChannelStore {
  private readonly refs = new Map<string, ChannelRef>();
  private readonly clock: () => number;
  /** The SELECT … FROM payments … JOIN that every read of payments starts with. */
  private readonly paymentRead: string;
  /** The event log, written in the transaction of each change it reports. */
  readonly events: EventLog;
  /** The time of the transaction running now (`transaction`), which every row it writes carries. */
  private txTime: number | undefined;
  private invoiceStore: InvoiceStore | undefined;
  private tokenStore: TokenStore | undefined;
  private webhookStore: WebhookStore | undefined;
  private transactionStore: TransactionStore | undefined;
  private towerStore: TowerStore | undefined;
  private lockStore: LockStore | undefined;
  private lockSettlementStore: LockSettlementStore | undefined;
  private forwardStore: ForwardStore | undefined;

  private readonly stChannelRef: Database.Statement<[Hex], { id: number; my_index: 0 | 1 }>;
  private readonly stChannel: Database.Statement<[Hex], ChannelRow>;
  private readonly stStatus: Database.Statement<[Hex], ChannelStatus>;
  private readonly stChannels: Database.Statement<[], ChannelRow>;
  private readonly stChannelsByStatus: Database.Statement<[string], ChannelRow>;
  private readonly stInsertChannel: Database.Statement<unknown[]>;
  private readonly stSetDeposits: Database.Statement<[string, string, number, Hex]>;
  private readonly stSetStatus: Database.Statement<[string, number, Hex]>;
  private readonly stSetWithdrawn: Database.Statement<[string, string, number, Hex]>;
  private readonly stFinalVersion: Database.Statement<[number], string | null>;
  private readonly stReserved: Database.Statement<[number], string | null>;
  private readonly stSetReserved: Database.Statement<unknown[]>;
  private readonly stSetFinalVersion: Database.Statement<[string, number, number]>;

  private readonly stLatestVersion: Database.Statement<[number], string>;
  private readonly stLatestState: Database.Statement<[number], StateRow>;
  private readonly stStateAt: Database.Statement<[number, string], StateRow>;
  private readonly stStatesAfter: Database.Statement<[number, string, number], StateRow>;
  private readonly stInsertState: Database.Statement<unknown[]>;

  private readonly stOwnAt: Database.Statement<[number, string], OwnRow>;
  private readonly stLatestOwn: Database.Statement<[number], OwnRow>;
  private readonly stInsertOwn: Database.Statement<unknown[]>;

  private readonly stLastSeq: Database.Statement<[number], string>;
  private readonly stLatestOwnVersion: Database.Statement<[number], string>;
  private readonly stPaymentAt: Database.Statement<[number, string], PaymentRow>;
  private readonly stPayments: Database.Statement<[number, string, number], PaymentRow>;
  private readonly stPaymentsByRef: Database.Statement<[number, Hex, string, number], PaymentRow>;
  private readonly stFirstPaymentBy: Database.Statement<[number, Hex, number], PaymentRow>;
  private readonly stPutMemo: Database.Statement<[Hex, string]>;
  private readonly stLeaves: Database.Statement<[number], Hex>;
  private readonly stInsertPayment: Database.Statement<unknown[]>;

  private readonly stCursor: Database.Statement<[string], bigint>;
  private readonly stSetCursor: Database.Statement<[string, bigint, number]>;

  private readonly txRecord: Database.Transaction<(c: Hex, s: SignedState, p: AddedPayments, leaves?: readonly Hex[]) => boolean>;
  private readonly txBatch: Database.Transaction<(items: readonly CountersignedItem[]) => number>;
  private readonly txOwn: Database.Transaction<(c: Hex, s: State, sig: Hex) => OwnSignature>;
  private readonly txPutChannel: Database.Transaction<(c: NewChannel) => ChannelRecord>;
  private readonly txUser: Database.Transaction<(fn: () => unknown) => unknown>;

  private constructor(
    private readonly db: Database.Database,
    /** The database file. */
    readonly path: string,
    options: OpenOptions,
  ) {
    this.clock = options.now ?? Date.now;
    this.events = new EventLog(db);
    const p = <R>(sql: string) => db.prepare<unknown[], R>(sql);

    this.stChannelRef = db.prepare("SELECT id, my_index FROM channels WHERE channel_id = ?");
    this.stChannel = db.prepare("SELECT * FROM channels WHERE channel_id = ?");
    this.stStatus = db.prepare<[Hex], ChannelStatus>("SELECT status FROM channels WHERE channel_id = ?").pluck();
    this.stChannels = db.prepare("SELECT * FROM channels ORDER BY id");
    this.stChannelsByStatus = db.prepare("SELECT * FROM channels WHERE status = ? ORDER BY id");
    this.stInsertChannel = p(
      `INSERT INTO channels (channel_id, participant0, participant1, payee0, payee1, asset, challenge_period, nonce, my_index,
         peer, status, deposit0, deposit1, withdrawn0, withdrawn1, protocol, final_version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '0', '0', 2, NULL, ?, ?)`,
    );
    this.stSetDeposits = db.prepare(
      "UPDATE channels SET deposit0 = ?, deposit1 = ?, updated_at = ? WHERE channel_id = ?",
    );
    this.stSetWithdrawn = db.prepare(
      "UPDATE channels SET withdrawn0 = ?, withdrawn1 = ?, updated_at = ? WHERE channel_id = ?",
    );
    this.stSetStatus = db.prepare("UPDATE channels SET status = ?, updated_at = ? WHERE channel_id = ?");
    this.stFinalVersion = db
      .prepare<[number], string | null>("SELECT final_version FROM channels WHERE id = ?")
      .pluck();
    this.stSetFinalVersion = db.prepare("UPDATE channels SET final_version = ?, updated_at = ? WHERE id = ?");
    this.stReserved = db.prepare<[number], string | null>("SELECT reserved_version FROM channels WHERE id = ?").pluck();
    this.stSetReserved = db.prepare(
      "UPDATE channels SET reserved_version = ?, updated_at = ? WHERE id = ? AND (reserved_version IS NULL OR reserved_version < ?)",
    );

    const stateCols = "version, transferred0, transferred1, locked0, locked1, locks_root, payments_root, is_final";
    this.stLatestVersion = db
      .prepare<[number], string>("SELECT version FROM states WHERE chan = ? ORDER BY version DESC LIMIT 1")
      .pluck();
    this.stLatestState = db.prepare(
      `SELECT ${stateCols}, sig0, sig1, payment_seq, payment_count FROM states WHERE chan = ? ORDER BY version DESC LIMIT 1`,
    );
    this.stStateAt = db.prepare(
      `SELECT ${stateCols}, sig0, sig1, payment_seq, payment_count FROM states WHERE chan = ? AND version = ?`,
    );
    this.stInsertState = p(
      `INSERT INTO states (chan, ${stateCols}, sig0, sig1, payment_seq, payment_count, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );

    this.stOwnAt = db.prepare(`SELECT ${stateCols}, sig FROM own_signatures WHERE chan = ? AND version = ?`);
    this.stLatestOwn = db.prepare(
      `SELECT ${stateCols}, sig FROM own_signatures WHERE chan = ? ORDER BY version DESC LIMIT 1`,
    );
    this.stInsertOwn = p(
      `INSERT INTO own_signatures (chan, ${stateCols}, sig, signed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );

    this.stLatestOwnVersion = db
      .prepare<[number], string>("SELECT version FROM own_signatures WHERE chan = ? ORDER BY version DESC LIMIT 1")
      .pluck();
    this.stLastSeq = db
      .prepare<[number], string>("SELECT seq FROM payments WHERE chan = ? ORDER BY seq DESC LIMIT 1")
      .pluck();
    const paymentCols = "seq, version, payer, amount, ref, leaf";
    // A payment as read: its state's time and its ref's memo beside it.
    const paymentRead = (this.paymentRead = `SELECT p.seq, p.version, p.payer, p.amount, p.ref, p.leaf, s.recorded_at, m.memo FROM payments p
      LEFT JOIN states s ON s.chan = p.chan AND s.version = p.version LEFT JOIN memos m ON m.ref = p.ref`);
    this.stPaymentAt = db.prepare(`${paymentRead} WHERE p.chan = ? AND p.seq = ?`);
    this.stStatesAfter = db.prepare(
      `SELECT ${stateCols}, sig0, sig1, payment_seq, payment_count FROM states WHERE chan = ? AND version > ? ORDER BY version LIMIT ?`,
    );
    this.stPayments = db.prepare(`${paymentRead} WHERE p.chan = ? AND p.seq >= ? ORDER BY p.seq LIMIT ?`);
    // By ref through its index: without it SQLite walks the channel's payments in seq order (for the
    // ORDER BY), a scan of the whole log on every payment (a retried payment's lookup).
    const byRef = paymentRead.replace("FROM payments p", "FROM payments p INDEXED BY payments_by_ref");
    this.stPaymentsByRef = db.prepare(`${byRef} WHERE p.chan = ? AND p.ref = ? AND p.seq >= ? ORDER BY p.seq LIMIT ?`);
    this.stFirstPaymentBy = db.prepare(`${byRef} WHERE p.chan = ? AND p.ref = ? AND p.payer = ? ORDER BY p.seq LIMIT 1`);
    this.stPutMemo = db.prepare("INSERT INTO memos (ref, memo) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING");
    this.stLeaves = db.prepare<[number], Hex>("SELECT leaf FROM payments WHERE chan = ? ORDER BY seq").pluck();
    this.stInsertPayment = p(`INSERT INTO payments (chan, ${paymentCols}) VALUES (?, ?, ?, ?, ?, ?, ?)`);

    this.stCursor = db.prepare<[string], bigint>("SELECT block FROM cursors WHERE name = ?").pluck().safeIntegers();
    this.stSetCursor = db.prepare(
      `INSERT INTO cursors (name, block, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET block = excluded.block, updated_at = excluded.updated_at`,
    );

    this.txRecord = db.transaction((c: Hex, s: SignedState, added: AddedPayments, leaves?: readonly Hex[]) => this.recordOne(c, s, added, leaves));
    this.txBatch = db.transaction((items: readonly CountersignedItem[]) => {
      const given: unknown = items;
      if (!Array.isArray(given)) throw new InvalidRecordError("items", given, "expected an array");
      let written = 0;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        try {
          object(item, "item");
          if (this.recordOne(item.channelId, item.signed, item.payment)) written++;
        } catch (error) {
          throw inItem(error, i);
        }
      }
      return written;
    });
    this.txOwn = db.transaction((c: Hex, s: State, sig: Hex) => this.recordOwn(c, s, sig));
    this.txPutChannel = db.transaction((c: NewChannel) => this.insertChannel(c));
    this.txUser = db.transaction((fn: () => unknown) => fn());
  }

  /**
   * Opens (creating it and its directory if needed) the store at `file`: WAL, `synchronous =
   * FULL`, foreign keys on, a busy timeout, and the schema migrated to `SCHEMA_VERSION`.
   * @throws SchemaTooNewError if a newer Sluice wrote the file; StoreOpenError if it is not a
   * Sluice store or can't be opened; MigrationError if a migration fails.
   */
  static open(file: string, options: OpenOptions = {}): ChannelStore {
    if (typeof file !== "string" || file === "" || file === ":memory:" || file.startsWith("file:")) {
      throw new StoreOpenError(String(file), "expected the path of a database file");
    }
    let db: Database.Database;
    try {
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    } catch (error) {
      throw new StoreOpenError(file, error instanceof Error ? error.message : String(error), { cause: error });
    }
    try {
      const appId = db.pragma("application_id", { simple: true }) as number;
      if (appId !== 0 && appId !== APPLICATION_ID) {
        throw new StoreOpenError(file, `another application's database (application_id ${appId})`);
      }
      if (appId === 0 && userVersion(db) === 0) {
        const objects = db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get() as number;
        if (objects > 0) throw new StoreOpenError(file, "a database with tables that is not a Sluice store");
      }
      const mode = db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new StoreOpenError(file, `journal mode is ${String(mode)}, not WAL`);
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`); // truncate a grown WAL after checkpoints
      if (db.pragma("synchronous", { simple: true }) !== 2 || db.pragma("foreign_keys", { simple: true }) !== 1) {
        throw new StoreOpenError(file, "SQLite did not accept synchronous = FULL and foreign_keys = ON");
      }
      migrate(db);
      return new ChannelStore(db, file, options);
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreOpenError(file, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  /**
   * Puts the backup `file` in place of the store at `storePath` once it checks out (see
   * store/backup.ts), every channel marked as needing a resync. The node must not be running.
   */
  static restore(options: Omit<RestoreOptions, "mark">): RestoreResult {
    return restoreBackup({
      ...options,
      mark: (copy) => {
        const store = ChannelStore.open(copy);
        try {
          store.markRestored();
        } finally {
          store.close();
        }
      },
    });
  }

  /** The schema version of the open database. */
  get schemaVersion(): number {
    return userVersion(this.db);
  }

  /** Closes the database (checkpointing the WAL). The store can't be used afterwards. */
  close(): void {
    this.refs.clear();
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `fn` in one transaction (BEGIN IMMEDIATE; a savepoint when nested): every write inside it
   * commits together, with one fsync, when `fn` returns, or none does if it throws. `fn` must be
   * synchronous.
   */
  transaction<T>(fn: () => T): T {
    if (this.txTime !== undefined) return this.write(() => this.txUser.immediate(fn) as T);
    this.txTime = this.clock();
    try {
      return this.write(() => this.txUser.immediate(fn) as T);
    } finally {
      this.txTime = undefined;
    }
  }

  /**
   * The store's clock (ms since the Unix epoch); inside `transaction`, the time it started, which
   * every row it writes carries (so a group commit knows the time its payments were recorded).
   */
  now(): number {
    return this.txTime ?? this.clock();
  }

  // ---------------------------------------------------------------- channels

  /**
   * Stores a channel; its id is computed from `params`. Storing a channel again with the same
   * params and index changes nothing and returns the stored record.
   * @throws ChannelConflictError if the channel is stored with the other participant index.
   */
  putChannel(channel: NewChannel): ChannelRecord {
    return this.write(() => this.txPutChannel.immediate(channel));
  }

  /** The channel, or null. */
  getChannel(channelId: Hex): ChannelRecord | null {
    const row = this.stChannel.get(bytes32(channelId, "channelId"));
    return row === undefined ? null : decodeChannel(row);
  }

  /** The channel's status, or null: `getChannel(id)?.status` without reading and decoding the whole row (the payment path asks it every time). */
  channelStatus(channelId: Hex): ChannelStatus | null {
    return this.stStatus.get(bytes32(channelId, "channelId")) ?? null;
  }

  /** All channels (or those with `status`), oldest first. */
  listChannels(filter: { status?: ChannelStatus } = {}): ChannelRecord[] {
    const rows =
      filter.status === undefined
        ? this.stChannels.all()
        : this.stChannelsByStatus.all(status(filter.status, "filter.status"));
    return rows.map(decodeChannel);
  }

  /** Records the confirmed on-chain deposits of both participants. */
  setDeposits(channelId: Hex, amounts: readonly [bigint, bigint]): void {
    this.setAmounts(channelId, amounts, "deposits");
  }

  /** Records the confirmed on-chain cumulative withdrawals of both participants (`partialWithdraw`). */
  setWithdrawn(channelId: Hex, amounts: readonly [bigint, bigint]): void {
    this.setAmounts(channelId, amounts, "withdrawn");
  }

  /** Writes both participants' deposits or withdrawn amounts, and their event, if they changed. */
  private setAmounts(channelId: Hex, amounts: readonly [bigint, bigint], field: "deposits" | "withdrawn"): void {
    const cid = bytes32(channelId, "channelId");
    const [a0, a1] = deposits(amounts, field);
    this.transaction(() => {
      const before = this.stChannel.get(cid);
      if (before === undefined) throw new UnknownChannelError(cid);
      const was = field === "deposits" ? [before.deposit0, before.deposit1] : [before.withdrawn0, before.withdrawn1];
      if (was[0] === a0 && was[1] === a1) return;
      (field === "deposits" ? this.stSetDeposits : this.stSetWithdrawn).run(a0, a1, this.now(), cid);
      this.events.append(field === "deposits" ? "channel.deposit" : "channel.withdrawn", cid, this.now(), { [field]: [decodeUint(a0).toString(), decodeUint(a1).toString()] });
    });
  }

  /**
   * Appends an event (see `EventLog`) in the current transaction, or in one of its own: for a
   * change the store does not see (a peer connecting), or one the caller writes in `transaction`.
   */
  appendEvent(type: EventType, channelId: Hex | null, data: EventData): void {
    this.transaction(() => this.events.append(type, channelId, this.now(), data));
  }

  /**
   * Stores the channel's status as given. The node moves a status only through its
   * `ChannelLifecycle` (node/lifecycle.ts), which checks the move against the transition table.
   */
  setStatus(channelId: Hex, value: ChannelStatus): void {
    const cid = bytes32(channelId, "channelId");
    const s = status(value, "status");
    this.transaction(() => {
      const before = this.stStatus.get(cid);
      if (before === undefined) throw new UnknownChannelError(cid);
      if (before === s) return;
      this.stSetStatus.run(s, this.now(), cid);
      this.events.append(`channel.${s}`, cid, this.now(), { previous: before });
    });
  }

  // ---------------------------------------------------------------- identity, backups, restored channels

  /** The node this store belongs to, or null before its first start. */
  identity(): NodeIdentity | null {
    return readIdentity(this.db);
  }

  /** Records the node this store belongs to at its first start; StoreIdentityError if it belongs to another. */
  claimIdentity(identity: NodeIdentity): void {
    this.transaction(() => claimIdentity(this.db, identity));
  }

  /**
   * Writes a consistent copy of the store to `file` (an absolute path) while it stays in use
   * (SQLite's online backup); BackupExistsError if `file` exists, unless `force`.
   */
  backup(file: string, options: { force?: boolean } = {}): Promise<StoreSummary> {
    return writeBackup(this.db, file, options.force === true);
  }

  /** Marks every channel as restored from a backup: it signs nothing until it has resynced (`markResynced`). */
  markRestored(): void {
    this.transaction(() => {
      for (const row of this.db.prepare<[], { channel_id: Hex }>("SELECT channel_id FROM channels WHERE resync_required = 0").all()) {
        this.db.prepare("UPDATE channels SET resync_required = 1, updated_at = ? WHERE channel_id = ?").run(this.now(), row.channel_id);
        this.events.append("channel.restored", row.channel_id, this.now(), {});
      }
    });
  }

  /** Whether the channel was restored from a backup and has not resynced with its peer since. */
  resyncRequired(channelId: Hex): boolean {
    const cid = bytes32(channelId, "channelId");
    const mark = this.db.prepare<[Hex], number>("SELECT resync_required FROM channels WHERE channel_id = ?").pluck().get(cid);
    if (mark === undefined) throw new UnknownChannelError(cid);
    return mark === 1;
  }

  /**
   * The restored channel resynced with its peer (call it in the transaction that stores the adopted
   * states): clears its mark and, for participant 0, raises the version reservation to `reserveUpTo`.
   */
  markResynced(channelId: Hex, reserveUpTo: bigint | null): void {
    const cid = bytes32(channelId, "channelId");
    this.transaction(() => {
      if (reserveUpTo !== null) this.reserveVersions(cid, reserveUpTo);
      const changed = this.db.prepare("UPDATE channels SET resync_required = 0, updated_at = ? WHERE channel_id = ? AND resync_required = 1").run(this.now(), cid).changes;
      const latest = this.latest(cid);
      if (changed > 0) {
        this.events.append("channel.resynced", cid, this.now(), {
          version: (latest?.state.version ?? 0n).toString(),
          ...(reserveUpTo === null ? {} : { reservedVersion: reserveUpTo.toString() }),
        });
      }
    });
  }

  // ---------------------------------------------------------------- this side's signatures

  /**
   * Records that this side signs `state` with `sig`; call it before the signature leaves the
   * process. Signing the same state again is allowed: nothing is written and the stored record is
   * returned (send its signature). Returns what to send.
   * @throws OwnSignatureConflictError if this side signed (or holds countersigned) a different
   * state at this version; StateAfterFinalError if it comes after a final state this side signed.
   */
  recordOwnSignature(channelId: Hex, state: State, sig: Hex): OwnSignature {
    try {
      return this.txOwn.immediate(channelId, state, sig);
    } catch (error) {
      throw this.rolledBack(error);
    }
  }

  /**
   * Records that this side may sign proposals up to version `upTo` (participant 0 reserves a
   * range before any of its signatures leaves the process, instead of writing each one). Never
   * lowers the reservation.
   */
  reserveVersions(channelId: Hex, upTo: bigint): void {
    const key = uint64Key(upTo, "upTo");
    this.write(() => this.stSetReserved.run(key, this.now(), this.ref(bytes32(channelId, "channelId")).id, key));
  }

  /** The highest version reserved with `reserveVersions`, or null. */
  reservedVersion(channelId: Hex): bigint | null {
    const v = this.stReserved.get(this.ref(bytes32(channelId, "channelId")).id) ?? null;
    return v === null ? null : decodeUint(v);
  }

  /**
   * The state this side signed at `version` with its signature (from its own records or from the
   * countersigned state), or null if it signed none.
   */
  ownSignatureAt(channelId: Hex, version: bigint): OwnSignature | null {
    const cid = bytes32(channelId, "channelId");
    const ref = this.ref(cid);
    const key = uint64Key(version, "version");
    const own = this.stOwnAt.get(ref.id, key);
    if (own !== undefined) return { state: decodeState(cid, own), sig: own.sig };
    const row = this.stStateAt.get(ref.id, key);
    if (row !== undefined) return { state: decodeState(cid, row), sig: ref.myIndex === 0 ? row.sig0 : row.sig1 };
    return null;
  }

  /** The newest state this side signed (a pending proposal, or the latest countersigned state), or null. */
  latestOwnSignature(channelId: Hex): OwnSignature | null {
    const cid = bytes32(channelId, "channelId");
    const ref = this.ref(cid);
    const own = this.stLatestOwn.get(ref.id);
    const row = this.stLatestState.get(ref.id);
    if (own !== undefined && (row === undefined || own.version >= row.version)) {
      return { state: decodeState(cid, own), sig: own.sig };
    }
    if (row !== undefined) return { state: decodeState(cid, row), sig: ref.myIndex === 0 ? row.sig0 : row.sig1 };
    return null;
  }

  // ---------------------------------------------------------------- countersigned states

  /**
   * Stores a state signed by both participants and, atomically with it, the payments it adds:
   * null (or []) for a state without one, such as a closing state; one payment; or several with
   * consecutive seqs. Returns true if written, false if the same state with the same payments is
   * already stored (a replay after a crash; the stored signatures are kept). Empty signatures are
   * accepted only at version 0 (the opening state).
   * @throws NonIncreasingVersionError unless the version is above the latest stored one;
   * OwnSignatureConflictError if this side signed another state at this version;
   * StateAfterFinalError after a final state; PaymentSequenceError unless the payments' seqs are
   * the next positions of the log; InvalidRecordError for malformed input; UnknownChannelError.
   * `leaves`, the payments' Merkle leaves in order, saves hashing them again when the caller's
   * payment log has them (a wrong one shows at the next start: the log rebuilt from the stored
   * leaves would not match the latest state's root).
   */
  recordCountersigned(channelId: Hex, signed: SignedState, payments: AddedPayments, leaves?: readonly Hex[]): boolean {
    try {
      return this.txRecord.immediate(channelId, signed, payments, leaves);
    } catch (error) {
      throw this.rolledBack(error);
    }
  }

  /**
   * `recordCountersigned` inside a running `transaction` that fails as a whole when this throws
   * (the commit queue's group commit): without the savepoint of its own that `recordCountersigned`
   * opens, so a failure here must abort the enclosing transaction. Outside one, the same as
   * `recordCountersigned`.
   */
  recordCountersignedInGroup(channelId: Hex, signed: SignedState, payments: AddedPayments, leaves?: readonly Hex[]): boolean {
    if (this.txTime === undefined) return this.recordCountersigned(channelId, signed, payments, leaves);
    try {
      return this.recordOne(channelId, signed, payments, leaves);
    } catch (error) {
      throw this.rolledBack(error);
    }
  }

  /**
   * `recordCountersigned` for many states in one transaction and one fsync (pipelined payments).
   * All or nothing: if one item fails, none is written, and an `InvalidRecordError` names the item
   * (`items[3].payment.amount`). Returns how many were written (duplicates are skipped).
   */
  recordCountersignedBatch(items: readonly CountersignedItem[]): number {
    try {
      return this.txBatch.immediate(items);
    } catch (error) {
      throw this.rolledBack(error);
    }
  }

  /** The countersigned state with the highest version, or null if there is none. */
  latest(channelId: Hex): SignedState | null {
    const cid = bytes32(channelId, "channelId");
    const row = this.stLatestState.get(this.ref(cid).id);
    return row === undefined ? null : { state: decodeState(cid, row), sigs: [row.sig0, row.sig1] };
  }

  /** The countersigned state at `version`, or null. */
  stateAt(channelId: Hex, version: bigint): SignedState | null {
    const cid = bytes32(channelId, "channelId");
    const row = this.stStateAt.get(this.ref(cid).id, uint64Key(version, "version"));
    return row === undefined ? null : { state: decodeState(cid, row), sigs: [row.sig0, row.sig1] };
  }

  /**
   * Countersigned states above `version` in version order (at most `limit`), each with the
   * payments it added: what a peer that is behind receives to catch up.
   */
  statesAfter(channelId: Hex, version: bigint, limit: number): { signed: SignedState; payments: Payment[] }[] {
    const cid = bytes32(channelId, "channelId");
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAYMENT_LIMIT) {
      throw new InvalidRecordError("limit", limit, `expected an integer in [1, ${MAX_PAYMENT_LIMIT}]`);
    }
    const chan = this.ref(cid).id;
    const rows = this.stStatesAfter.all(chan, uint64Key(version, "version"), limit);
    return rows.map((row) => ({
      signed: { state: decodeState(cid, row), sigs: [row.sig0, row.sig1] },
      payments: this.paymentsOf(chan, row).map((p) => decodePayment(cid, p).payment),
    }));
  }

  // ---------------------------------------------------------------- payments

  /** Payments in seq order from `fromSeq` (default 0), at most `limit` (default 1000), only those with `ref` if given. */
  payments(channelId: Hex, query: PaymentQuery = {}): PaymentRecord[] {
    const cid = bytes32(channelId, "channelId");
    const limit = query.limit ?? DEFAULT_PAYMENT_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAYMENT_LIMIT) {
      throw new InvalidRecordError("limit", limit, `expected an integer in [1, ${MAX_PAYMENT_LIMIT}]`);
    }
    const chan = this.ref(cid).id;
    const from = uint64Key(query.fromSeq ?? 0n, "fromSeq");
    if (query.payer === undefined && query.since === undefined && query.until === undefined) {
      const rows =
        query.ref === undefined
          ? this.stPayments.all(chan, from, limit)
          : this.stPaymentsByRef.all(chan, bytes32(query.ref, "ref"), from, limit);
      return rows.map((row) => decodePayment(cid, row));
    }
    // Filtered pages (the API's direction and time range): a statement per combination.
    const where = ["p.chan = ?", "p.seq >= ?"];
    const args: (number | string)[] = [chan, from];
    const filter = (clause: string, value: number | string) => {
      where.push(clause);
      args.push(value);
    };
    if (query.ref !== undefined) filter("p.ref = ?", bytes32(query.ref, "ref"));
    if (query.payer !== undefined) filter("p.payer = ?", index01(query.payer, "payer"));
    if (query.since !== undefined) filter("s.recorded_at >= ?", timeMs(query.since, "since"));
    if (query.until !== undefined) filter("s.recorded_at < ?", timeMs(query.until, "until"));
    const sql = `${this.paymentRead} WHERE ${where.join(" AND ")} ORDER BY p.seq LIMIT ?`;
    return this.db
      .prepare<unknown[], PaymentRow>(sql)
      .all(...args, limit)
      .map((row) => decodePayment(cid, row));
  }

  /**
   * Keeps `memo` as the text of the payment ref `keccak256(utf8(memo))`, for every payment with
   * that ref (the hash is the caller's: `resolveRef`). Written before the payment is sent, so a
   * committed payment never lacks it; one already kept stays (the same ref has the same text).
   */
  /** The invoices, in this store's database (their SQL is in invoices.ts). */
  get invoices(): InvoiceStore {
    return (this.invoiceStore ??= new InvoiceStore(this.db, () => this.now(), (type, data) => this.events.append(type, null, this.now(), data)));
  }

  /** The scoped API tokens (hashes only). */
  /** Pending locks, known secrets and this node's invoice payments (their SQL is in locks.ts). */
  get locks(): LockStore {
    return (this.lockStore ??= new LockStore(this.db, () => this.now(), (type, channelId, data) => this.events.append(type, channelId, this.now(), data)));
  }

  /** Channels settled with locks held back and their locks resolved on chain (their SQL is in lockSettlements.ts). */
  get lockSettlements(): LockSettlementStore {
    return (this.lockSettlementStore ??= new LockSettlementStore(this.db, (type, channelId, data) => this.events.append(type, channelId, this.now(), data)));
  }

  /** The locks this node forwarded as a hub (their SQL is in forwards.ts). */
  get forwards(): ForwardStore {
    return (this.forwardStore ??= new ForwardStore(this.db, () => this.now(), (type, channelId, data) => this.events.append(type, channelId, this.now(), data)));
  }

  get tokens(): TokenStore {
    return (this.tokenStore ??= new TokenStore(this.db, () => this.now()));
  }

  /** Writes the `invoice.expired` events due now (each invoice once; the mark is a cursor row, in the same transaction). */
  sweepExpiredInvoices(): void {
    const mark = Number(this.getCursor(INVOICE_EXPIRY_CURSOR) ?? 0n);
    this.transaction(() => this.invoices.sweepExpired(mark, (seconds) => this.setCursor(INVOICE_EXPIRY_CURSOR, seconds)));
  }

  /** The webhook endpoints and their outbox, in this store's database (their SQL is in webhooks.ts). */
  get webhooks(): WebhookStore {
    return (this.webhookStore ??= new WebhookStore(this.db, () => this.now()));
  }

  /** The transactions sent and not yet seen mined: the journal of the node's `TxSender` (SQL in transactions.ts). */
  get transactions(): TransactionStore {
    return (this.transactionStore ??= new TransactionStore(this.db));
  }

  /** The watchtower's clients and handed states, in this store's database (their SQL is in src/tower/store.ts). */
  get tower(): TowerStore {
    return (this.towerStore ??= new TowerStore(this.db, () => this.now()));
  }

  /**
   * Keeps `memo` as the text of the payment ref `keccak256(utf8(memo))`, for every payment with
   * that ref (the hash is the caller's: `resolveRef`). The session queues it in the group commit of
   * its payment's state, so a committed payment never lacks it; one already kept stays.
   */
  putMemo(ref: Hex, memo: string): void {
    if (typeof memo !== "string") throw new InvalidRecordError("memo", memo, "expected a string");
    this.stPutMemo.run(bytes32(ref, "ref"), memo);
  }

  /** The first payment `payer` made with `ref` in the channel, or null: what a retried payment finds. */
  firstPaymentBy(channelId: Hex, payer: 0 | 1, ref: Hex): PaymentRecord | null {
    const cid = bytes32(channelId, "channelId");
    const row = this.stFirstPaymentBy.get(this.ref(cid).id, bytes32(ref, "ref"), index01(payer, "payer"));
    return row === undefined ? null : decodePayment(cid, row);
  }

  /** The payment with sequence number `seq`, or null. */
  payment(channelId: Hex, seq: bigint): PaymentRecord | null {
    const cid = bytes32(channelId, "channelId");
    const row = this.stPaymentAt.get(this.ref(cid).id, uint64Key(seq, "seq"));
    return row === undefined ? null : decodePayment(cid, row);
  }

  /** Every payment leaf in seq order: what the Merkle log is rebuilt from on start. */
  leafHashes(channelId: Hex): Hex[] {
    return this.stLeaves.all(this.ref(bytes32(channelId, "channelId")).id);
  }

  /** Number of payments (also the seq of the next one: seqs are stored contiguous from 0). */
  paymentCount(channelId: Hex): bigint {
    const last = this.stLastSeq.get(this.ref(bytes32(channelId, "channelId")).id);
    return last === undefined ? 0n : decodeUint(last) + 1n;
  }

  // ---------------------------------------------------------------- withdrawals

  /**
   * Stores a withdrawal this side signed, or its new status (one row per participant and
   * cumulative total: a later record of the same total replaces the earlier one). Call it before
   * the signature leaves the process.
   */
  putWithdrawal(channelId: Hex, record: WithdrawalRow): void {
    const cid = bytes32(channelId, "channelId");
    object(record, "record");
    const w = record.withdrawal;
    object(w, "record.withdrawal");
    if (bytes32(w.channelId, "record.withdrawal.channelId") !== cid) {
      throw new InvalidRecordError("record.withdrawal.channelId", w.channelId, `expected ${cid}`);
    }
    const participant = index01(w.participant, "record.withdrawal.participant");
    const total = uintText(w.total, UINT256_MAX, "record.withdrawal.total").padStart(TOTAL_DIGITS, "0");
    const expiry = uintText(w.expiry, (1n << 64n) - 1n, "record.withdrawal.expiry");
    pair(record.sigs, "record.sigs");
    const sig0 = signature(record.sigs[0], "record.sigs[0]", true);
    const sig1 = signature(record.sigs[1], "record.sigs[1]", true);
    if (!(WITHDRAWAL_STATUSES as readonly unknown[]).includes(record.status)) {
      throw new InvalidRecordError("record.status", record.status, `expected one of ${WITHDRAWAL_STATUSES.join(", ")}`);
    }
    const tx = record.txHash === undefined || record.txHash === null ? null : bytes32(record.txHash, "record.txHash");
    this.transaction(() => {
      const chan = this.ref(cid).id;
      const before = this.db
        .prepare<[number, number, string], WithdrawalStatus>("SELECT status FROM withdrawals WHERE chan = ? AND participant = ? AND total = ?")
        .pluck()
        .get(chan, participant, total);
      this.db
        .prepare(
          `INSERT INTO withdrawals (chan, participant, total, expiry, sig0, sig1, status, tx_hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (chan, participant, total) DO UPDATE SET expiry = excluded.expiry, sig0 = excluded.sig0, sig1 = excluded.sig1,
             status = excluded.status, tx_hash = coalesce(excluded.tx_hash, tx_hash), updated_at = excluded.updated_at`,
        )
        .run(chan, participant, total, expiry, sig0, sig1, record.status, tx, this.now());
      if (before === record.status) return;
      this.events.append(`withdrawal.${record.status}`, cid, this.now(), {
        participant,
        total: decodeUint(total).toString(),
        expiry: expiry,
        ...(tx === null ? {} : { txHash: tx }),
      });
    });
  }

  /** The channel's withdrawals (only the live ones, proposed or signed, with `live`), by participant and total. */
  withdrawals(channelId: Hex, filter: { live?: boolean } = {}): WithdrawalRow[] {
    const cid = bytes32(channelId, "channelId");
    const where = filter.live ? " AND status IN ('proposed', 'signed')" : "";
    const rows = this.db
      .prepare<[number], { participant: 0 | 1; total: string; expiry: string; sig0: Hex; sig1: Hex; status: WithdrawalStatus; tx_hash: Hex | null }>(
        `SELECT participant, total, expiry, sig0, sig1, status, tx_hash FROM withdrawals WHERE chan = ?${where} ORDER BY participant, total`,
      )
      .all(this.ref(cid).id);
    return rows.map((row) => {
      const withdrawal: Withdrawal = { channelId: cid, participant: row.participant, total: decodeUint(row.total), expiry: decodeUint(row.expiry) };
      return { withdrawal, sigs: [row.sig0, row.sig1], status: row.status, txHash: row.tx_hash };
    });
  }

  // ---------------------------------------------------------------- peers

  /** Remembers where to dial `peer` (a ws:// URL). */
  setPeerUrl(peer: Address, url: string): void {
    const key = address(peer, "peer").toLowerCase();
    if (typeof url !== "string" || !/^wss?:\/\/\S+$/.test(url) || url.length > 2048) {
      throw new InvalidRecordError("url", url, "expected a ws:// or wss:// URL");
    }
    this.db
      .prepare("INSERT INTO peers (address, url, updated_at) VALUES (?, ?, ?) ON CONFLICT (address) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at")
      .run(key, url, this.now());
  }

  /** Every peer this node knows how to dial. */
  listPeers(): { address: Address; url: string }[] {
    return this.db.prepare<[], { address: Address; url: string }>("SELECT address, url FROM peers ORDER BY address").all();
  }

  // ---------------------------------------------------------------- watcher cursors

  /** The last block the watcher `name` processed, or null. */
  getCursor(name: string): bigint | null {
    return this.stCursor.get(cursorName(name)) ?? null;
  }

  /** Records that the watcher `name` processed every block up to `block` (it may move back on a reorg). */
  setCursor(name: string, block: bigint | number): void {
    const n = cursorName(name);
    const b = typeof block === "number" && Number.isSafeInteger(block) ? BigInt(block) : block;
    if (typeof b !== "bigint" || b < 0n || b > MAX_BLOCK) {
      throw new InvalidRecordError("block", block, `expected an integer in [0, ${MAX_BLOCK}]`);
    }
    this.write(() => this.stSetCursor.run(n, b, this.now()));
  }

  /** The hashes of the recent blocks the watcher `name` read, highest first. */
  blockHashes(name: string): BlockHash[] {
    return this.db
      .prepare<[string], BlockHash>("SELECT number, hash FROM block_hashes WHERE cursor = ? ORDER BY number DESC")
      .all(cursorName(name));
  }

  /**
   * In one transaction: the watcher `name` processed every block up to `block`, and read `hashes`
   * (kept; those below the highest `keep` are dropped).
   */
  advanceCursor(name: string, block: number, hashes: readonly BlockHash[], keep: number): void {
    const n = cursorName(name);
    const b = blockNumber(block, "block");
    const rows = hashes.map((h, i) => ({ number: blockNumber(h.number, `hashes[${i}].number`), hash: blockHashOf(h.hash, i) }));
    this.write(() =>
      this.db.transaction(() => {
        this.stSetCursor.run(n, BigInt(b), this.now());
        const put = this.db.prepare("INSERT INTO block_hashes (cursor, number, hash) VALUES (?, ?, ?) ON CONFLICT (cursor, number) DO UPDATE SET hash = excluded.hash");
        for (const row of rows) put.run(n, row.number, row.hash);
        this.db.prepare("DELETE FROM block_hashes WHERE cursor = ? AND number <= (SELECT MAX(number) FROM block_hashes WHERE cursor = ?) - ?").run(n, n, keep);
      })(),
    );
  }

  /**
   * A reorg replaced the blocks above `fork`: in one transaction, forgets their hashes and moves
   * the watcher's cursor back to `fork` if it was past it.
   */
  rollBackCursor(name: string, fork: number): void {
    const n = cursorName(name);
    const f = blockNumber(fork, "fork");
    this.write(() =>
      this.db.transaction(() => {
        this.db.prepare("DELETE FROM block_hashes WHERE cursor = ? AND number > ?").run(n, f);
        this.db.prepare("UPDATE cursors SET block = ?, updated_at = ? WHERE name = ? AND block > ?").run(f, this.now(), n, f);
      })(),
    );
  }

  // ---------------------------------------------------------------- internals

  /**
   * Runs a write; on any error forgets the cached channel refs, since the rollback may have
   * removed a channel whose rowid was cached (and SQLite would hand that rowid to the next one).
   */
  private write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw this.rolledBack(error);
    }
  }

  private rolledBack(error: unknown): unknown {
    this.refs.clear();
    return error;
  }

  private tip(ref: ChannelRef): ChannelTip {
    ref.tip ??= {
      latestVersion: this.stLatestVersion.get(ref.id) ?? null,
      lastSeq: this.stLastSeq.get(ref.id) ?? null,
      finalVersion: this.stFinalVersion.get(ref.id) ?? null,
      ownVersion: this.stLatestOwnVersion.get(ref.id) ?? null,
    };
    return ref.tip;
  }

  private ref(channelId: Hex): ChannelRef {
    let ref = this.refs.get(channelId);
    if (ref === undefined) {
      const row = this.stChannelRef.get(channelId);
      if (row === undefined) throw new UnknownChannelError(channelId);
      ref = { id: row.id, myIndex: row.my_index };
      this.refs.set(channelId, ref);
    }
    return ref;
  }

  private insertChannel(channel: NewChannel): ChannelRecord {
    object(channel, "channel");
    const params = channel.params;
    object(params, "params");
    pair(params.participants, "params.participants");
    pair(params.payees, "params.payees");
    const normalized: Params = {
      participants: [
        address(params.participants[0], "params.participants[0]"),
        address(params.participants[1], "params.participants[1]"),
      ],
      payees: [address(params.payees[0], "params.payees[0]"), address(params.payees[1], "params.payees[1]")],
      asset: address(params.asset, "params.asset"),
      challengePeriod: params.challengePeriod,
      nonce: params.nonce,
    };
    const period = uintText(params.challengePeriod, (1n << 64n) - 1n, "params.challengePeriod");
    const nonce = uintText(params.nonce, (1n << 64n) - 1n, "params.nonce");
    const myIndex = index01(channel.myIndex, "myIndex");
    const s = status(channel.status ?? "opening", "status");
    const [d0, d1] = deposits(channel.deposits ?? [0n, 0n], "deposits");
    const cid = channelIdOf(normalized);

    const existing = this.stChannel.get(cid);
    if (existing !== undefined) {
      if (existing.my_index !== myIndex) {
        throw new ChannelConflictError(cid, `stored with my index ${existing.my_index}, not ${myIndex}`);
      }
      return decodeChannel(existing);
    }
    const now = this.now();
    const [p0, p1] = normalized.participants;
    this.stInsertChannel.run(
      cid,
      p0,
      p1,
      normalized.payees[0],
      normalized.payees[1],
      normalized.asset,
      period,
      nonce,
      myIndex,
      myIndex === 0 ? p1 : p0,
      s,
      d0,
      d1,
      now,
      now,
    );
    this.events.append(`channel.${s}`, cid, now, { created: true, peer: myIndex === 0 ? p1 : p0, asset: normalized.asset, me: myIndex });
    return decodeChannel(this.stChannel.get(cid)!);
  }

  private recordOwn(channelId: Hex, state: State, sig: Hex): OwnSignature {
    const cid = bytes32(channelId, "channelId");
    const ref = this.ref(cid);
    const s = encodeState(state, cid, OWN_STATE);
    const sigHex = signature(sig, "sig", false);

    const own = this.stOwnAt.get(ref.id, s.version);
    if (own !== undefined) {
      if (!sameState(own, s)) throw new OwnSignatureConflictError(cid, state.version);
      return { state: decodeState(cid, own), sig: own.sig };
    }
    const row = this.stStateAt.get(ref.id, s.version);
    if (row !== undefined) {
      if (!sameState(row, s)) throw new OwnSignatureConflictError(cid, state.version);
      return { state: decodeState(cid, row), sig: ref.myIndex === 0 ? row.sig0 : row.sig1 };
    }
    const tip = this.tip(ref);
    const finalVersion = tip.finalVersion;
    if (finalVersion !== null && s.version > finalVersion) {
      throw new StateAfterFinalError(cid, state.version, decodeUint(finalVersion));
    }
    const now = this.now();
    this.stInsertOwn.run(ref.id, s.version, s.transferred0, s.transferred1, s.locked0, s.locked1, s.locks_root, s.payments_root, s.is_final, sigHex, now);
    if (tip.ownVersion === null || s.version > tip.ownVersion) tip.ownVersion = s.version;
    if (s.is_final === 1 && (finalVersion === null || s.version < finalVersion)) {
      this.stSetFinalVersion.run(s.version, now, ref.id);
      tip.finalVersion = s.version;
    }
    return { state: decodeState(cid, s), sig: sigHex };
  }

  /** The stored payments `state` added, in seq order. */
  private paymentsOf(chan: number, state: Pick<StateRow, "payment_seq" | "payment_count">): PaymentRow[] {
    if (state.payment_seq === null || state.payment_count === 0) return [];
    return this.stPayments.all(chan, state.payment_seq, state.payment_count);
  }

  private recordOne(channelId: Hex, signed: SignedState, added: AddedPayments, leaves?: readonly Hex[]): boolean {
    const cid = bytes32(channelId, "channelId");
    const ref = this.ref(cid);
    object(signed, "signed");
    const s = encodeState(signed.state, cid, SIGNED_STATE);
    pair(signed.sigs, "signed.sigs");
    const unsignedOk = s.version === ZERO_KEY;
    const sig0 = signature(signed.sigs[0], "signed.sigs[0]", unsignedOk);
    const sig1 = signature(signed.sigs[1], "signed.sigs[1]", unsignedOk);
    const payments = addedList(added);
    const single = !Array.isArray(added);
    const encoded = payments.map((payment, i) => encodePayment(payment, cid, single ? "payment" : `payments[${i}]`));
    if (leaves !== undefined && (!Array.isArray(leaves) || leaves.length !== payments.length)) {
      throw new InvalidRecordError("leaves", leaves, `expected ${payments.length} leaf hashes`);
    }
    const leafHexes = leaves === undefined ? undefined : leaves.map((leaf, i) => bytes32(leaf, `leaves[${i}]`));

    const tip = this.tip(ref);
    const latest = tip.latestVersion;
    if (latest !== null && s.version <= latest) {
      const row = this.stStateAt.get(ref.id, s.version);
      if (row !== undefined && sameState(row, s) && this.samePayments(ref.id, row, encoded)) return false;
      throw new NonIncreasingVersionError(cid, signed.state.version, decodeUint(latest));
    }
    const finalVersion = tip.finalVersion;
    if (finalVersion !== null && s.version > finalVersion) {
      throw new StateAfterFinalError(cid, signed.state.version, decodeUint(finalVersion));
    }
    if (tip.ownVersion !== null && s.version <= tip.ownVersion) {
      const own = this.stOwnAt.get(ref.id, s.version);
      if (own !== undefined && !sameState(own, s)) throw new OwnSignatureConflictError(cid, signed.state.version);
    }
    if (payments.length > 0) {
      const last = tip.lastSeq;
      let expected = last === null ? 0n : decodeUint(last) + 1n;
      for (const payment of payments) {
        if (payment.seq !== expected) throw new PaymentSequenceError(cid, expected, payment.seq);
        expected++;
      }
    }

    const now = this.now();
    this.stInsertState.run(
      ref.id,
      s.version,
      s.transferred0,
      s.transferred1,
      s.locked0,
      s.locked1,
      s.locks_root,
      s.payments_root,
      s.is_final,
      sig0,
      sig1,
      encoded.length === 0 ? null : encoded[0].seqKey,
      encoded.length,
      now,
    );
    for (const [i, p] of encoded.entries()) {
      this.stInsertPayment.run(ref.id, p.seqKey, s.version, p.payer, p.amount, p.ref, leafHexes?.[i] ?? paymentLeafHex(payments[i]));
      const payment = payments[i];
      this.events.append(payment.payer === ref.myIndex ? "payment.sent" : "payment.received", cid, now, {
        seq: payment.seq.toString(),
        payer: payment.payer,
        amount: payment.amount.toString(),
        ref: p.ref,
        version: signed.state.version.toString(),
      });
    }
    if (s.is_final === 1 && (finalVersion === null || s.version < finalVersion)) {
      this.stSetFinalVersion.run(s.version, now, ref.id);
      tip.finalVersion = s.version;
    }
    tip.latestVersion = s.version;
    if (encoded.length > 0) tip.lastSeq = encoded[encoded.length - 1].seqKey;
    return true;
  }

  private samePayments(chan: number, state: StateRow, encoded: readonly EncodedPayment[]): boolean {
    const stored = this.paymentsOf(chan, state);
    return (
      stored.length === encoded.length &&
      stored.every((row, i) => row.seq === encoded[i].seqKey && row.payer === encoded[i].payer && row.amount === encoded[i].amount && row.ref === encoded[i].ref)
    );
  }
}

/** A block the watcher read, by number and hash. */
export interface BlockHash {
  number: number;
  hash: Hex;
}

function blockNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidRecordError(field, value, "expected a block number: a whole number from 0");
  }
  return value;
}

function blockHashOf(value: unknown, i: number): Hex {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) throw new InvalidRecordError(`hashes[${i}].hash`, value, "expected a 32-byte 0x hex hash");
  return value.toLowerCase() as Hex;
}

/** The cursor row that marks up to which second invoice expiries have been written as events. */
const INVOICE_EXPIRY_CURSOR = "invoice-expiry";

/** A time in unix ms, as a filter takes it. */
function timeMs(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new InvalidRecordError(field, value, "expected unix milliseconds");
  return value as number;
}

function cursorName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new InvalidRecordError("name", name, "expected a non-empty string of at most 200 characters");
  }
  return name;
}
