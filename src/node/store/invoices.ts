/**
 * The payee's invoices (table `invoices`, migration 8), over the channel store's database handle.
 * The secret of each is kept here and returned only by `markPaid` and `secret` (the payment path's
 * hooks), never by the reads the API serves. `expired` is not stored: an open invoice whose expiry
 * has passed reads as expired, and is no longer payable.
 */
import type { Database, Statement } from "better-sqlite3";
import { hashlockOf } from "../../crypto";
import { checkInvoice } from "../../invoice/check";
import { InvoiceStatusError, InvoiceUnderpaidError, UnknownInvoiceError } from "../../invoice/errors";
import type { InvoiceStatus, SignedInvoice } from "../../invoice/types";
import type { Address, Hex } from "../../types";
import { UINT256_MAX, UINT64_MAX, address, bytes32, decodeUint, signature, uintText } from "./codec";
import { InvalidRecordError, StoreError } from "./errors";
import type { EventData } from "./events";

/** An invoice to keep: signed by this node, with the secret its hashlock is the sha256 of. */
export interface NewInvoice {
  invoice: SignedInvoice;
  secret: Hex;
  /** The text `ref` is the keccak256 of, when made from one. */
  memo?: string;
}

export interface InvoiceRecord {
  /** This node's number for it: 1, 2, 3, ... in order of creation. */
  id: bigint;
  status: InvoiceStatus;
  invoice: SignedInvoice;
  /** Unix milliseconds. */
  createdAt: number;
  paidAt?: number;
  /** What the payment that paid it brought (at least `invoice.amount`). */
  paidAmount?: bigint;
  cancelledAt?: number;
  memo?: string;
}

/** A page of invoices: from id `fromId` (default 1) up, at most `limit` (default 100), only those of `status` if given. */
export interface InvoiceQuery {
  status?: InvoiceStatus;
  fromId?: bigint;
  limit?: number;
}

interface InvoiceRow {
  id: number;
  hashlock: Hex;
  chain_id: string;
  adjudicator: Address;
  asset: Address;
  payee: Address;
  amount: string;
  expiry: number;
  ref: Hex;
  description: string;
  signature: Hex;
  memo: string | null;
  status: "open" | "paid" | "cancelled";
  paid_amount: string | null;
  created_at: number;
  paid_at: number | null;
  cancelled_at: number | null;
}

/** Every column but the secret: what the reads select. */
const COLUMNS =
  "id, hashlock, chain_id, adjudicator, asset, payee, amount, expiry, ref, description, signature, memo, status, paid_amount, created_at, paid_at, cancelled_at";
/** The largest expiry the table holds: read back as a JS number, exactly. */
const MAX_EXPIRY = BigInt(Number.MAX_SAFE_INTEGER);
export const DEFAULT_INVOICES_LIMIT = 100;

export class InvoiceStore {
  private readonly stInsert: Statement;
  private readonly stById: Statement<[number], InvoiceRow>;
  private readonly stByHashlock: Statement<[Hex], InvoiceRow>;
  private readonly stSecret: Statement<[Hex], Hex>;
  private readonly stPay: Statement<[string, number, Hex, number]>;
  private readonly stCancel: Statement<[number, number]>;
  private readonly stList: Statement<[number, number], InvoiceRow>;
  private readonly stListStored: Statement<[string, number, number], InvoiceRow>;
  private readonly stListOpen: Statement<[number, number, number], InvoiceRow>;
  private readonly stListExpired: Statement<[number, number, number], InvoiceRow>;
  private readonly stExpiredBetween: Statement<[number, number], InvoiceRow>;

  constructor(
    private readonly db: Database,
    /** The clock, in unix milliseconds (the channel store's). */
    private readonly now: () => number,
    /** Appends an event to the store's log (in the running transaction). */
    private readonly event: (type: "invoice.created" | "invoice.paid" | "invoice.cancelled" | "invoice.expired", data: EventData) => void = () => undefined,
  ) {
    this.stInsert = db.prepare(
      `INSERT INTO invoices (hashlock, secret, chain_id, adjudicator, asset, payee, amount, expiry, ref, description, signature, memo, status, created_at)
       VALUES (@hashlock, @secret, @chainId, @adjudicator, @asset, @payee, @amount, @expiry, @ref, @description, @signature, @memo, 'open', @createdAt)`,
    );
    this.stById = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE id = ?`);
    this.stByHashlock = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE hashlock = ?`);
    this.stSecret = db.prepare<[Hex], Hex>("SELECT secret FROM invoices WHERE hashlock = ?").pluck();
    // Open and not expired, decided in the same statement that pays it: paid once, whatever runs concurrently.
    this.stPay = db.prepare("UPDATE invoices SET status = 'paid', paid_amount = ?, paid_at = ? WHERE hashlock = ? AND status = 'open' AND expiry >= ?");
    this.stCancel = db.prepare("UPDATE invoices SET status = 'cancelled', cancelled_at = ? WHERE id = ? AND status = 'open'");
    this.stList = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE id >= ? ORDER BY id LIMIT ?`);
    this.stListStored = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE status = ? AND id >= ? ORDER BY id LIMIT ?`);
    this.stListOpen = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE status = 'open' AND expiry >= ? AND id >= ? ORDER BY id LIMIT ?`);
    this.stListExpired = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE status = 'open' AND expiry < ? AND id >= ? ORDER BY id LIMIT ?`);
    this.stExpiredBetween = db.prepare(`SELECT ${COLUMNS} FROM invoices WHERE status = 'open' AND expiry > ? AND expiry <= ? ORDER BY expiry, id`);
  }

  /** Keeps a new invoice (status open); refuses a malformed one or a secret that isn't its hashlock's preimage. */
  add(entry: NewInvoice): InvoiceRecord {
    const { invoice } = entry;
    checkInvoice(invoice);
    const hashlock = bytes32(invoice.hashlock, "invoice.hashlock");
    const secret = bytes32(entry.secret, "secret");
    if (hashlockOf(secret) !== hashlock) throw new InvalidRecordError("secret", "0x…", "its sha256 is not the invoice's hashlock");
    if (invoice.expiry > MAX_EXPIRY) throw new InvalidRecordError("invoice.expiry", invoice.expiry, `above ${MAX_EXPIRY}`);
    if (entry.memo !== undefined && typeof entry.memo !== "string") throw new InvalidRecordError("memo", entry.memo, "expected a string");
    const id = this.write(() => {
      const inserted = this.stInsert.run({
        hashlock,
        secret,
        chainId: uintText(invoice.chainId, UINT256_MAX, "invoice.chainId"),
        adjudicator: address(invoice.adjudicator, "invoice.adjudicator"),
        asset: address(invoice.asset, "invoice.asset"),
        payee: address(invoice.payee, "invoice.payee"),
        amount: uintText(invoice.amount, UINT256_MAX, "invoice.amount"),
        expiry: invoice.expiry,
        ref: bytes32(invoice.ref, "invoice.ref"),
        description: invoice.description,
        signature: signature(invoice.signature, "invoice.signature", false),
        memo: entry.memo ?? null,
        createdAt: this.now(),
      });
      this.event("invoice.created", { invoice: String(inserted.lastInsertRowid), hashlock, amount: invoice.amount.toString(), asset: invoice.asset.toLowerCase(), expiry: invoice.expiry.toString() });
      return inserted;
    }).lastInsertRowid;
    return this.byId(BigInt(id))!;
  }

  byId(id: bigint): InvoiceRecord | null {
    const row = this.stById.get(rowId(id));
    return row === undefined ? null : this.record(row);
  }

  byHashlock(hashlock: Hex): InvoiceRecord | null {
    const row = this.stByHashlock.get(bytes32(hashlock, "hashlock"));
    return row === undefined ? null : this.record(row);
  }

  /** The invoice by id, or `UnknownInvoiceError`. */
  get(id: bigint): InvoiceRecord {
    const record = this.byId(id);
    if (record === null) throw new UnknownInvoiceError(String(id));
    return record;
  }

  list(query: InvoiceQuery = {}): InvoiceRecord[] {
    const from = query.fromId === undefined ? 1 : rowId(query.fromId);
    const limit = query.limit ?? DEFAULT_INVOICES_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidRecordError("limit", limit, "expected a positive integer");
    const nowSeconds = this.nowSeconds();
    let rows: InvoiceRow[];
    switch (query.status) {
      case undefined:
        rows = this.stList.all(from, limit);
        break;
      case "open":
        rows = this.stListOpen.all(nowSeconds, from, limit);
        break;
      case "expired":
        rows = this.stListExpired.all(nowSeconds, from, limit);
        break;
      case "paid":
      case "cancelled":
        rows = this.stListStored.all(query.status, from, limit);
        break;
      default:
        throw new InvalidRecordError("status", query.status, "expected open, paid, expired or cancelled");
    }
    return rows.map((row) => this.record(row, nowSeconds));
  }

  /**
   * The payment path's hook: marks the invoice of `hashlock` paid by a payment of `amount`, once.
   * Refused (nothing changes) if there is no such invoice (`UnknownInvoiceError`), if it is not
   * open: paid already, cancelled, or expired (`InvoiceStatusError`), or if `amount` is below the
   * invoice's (`InvoiceUnderpaidError`). Returns the paid invoice and its secret, to reveal.
   */
  markPaid(hashlock: Hex, amount: bigint): { record: InvoiceRecord; secret: Hex } {
    const key = bytes32(hashlock, "hashlock");
    const received = uintText(amount, UINT256_MAX, "amount");
    const before = this.byHashlock(key);
    if (before === null) throw new UnknownInvoiceError(key);
    if (before.status !== "open") throw new InvoiceStatusError(before.id, before.status, "pay");
    if (amount < before.invoice.amount) throw new InvoiceUnderpaidError(before.id, before.invoice.amount, amount);
    const changed = this.write(() => {
      const done = this.stPay.run(received, this.now(), key, this.nowSeconds()).changes;
      if (done === 1) this.event("invoice.paid", { invoice: String(before.id), hashlock: key, amount: received });
      return done;
    });
    const after = this.byHashlock(key)!;
    if (changed !== 1) throw new InvoiceStatusError(after.id, after.status, "pay");
    return { record: after, secret: this.stSecret.get(key)! };
  }

  /** Cancels an open (or expired) invoice; a paid or cancelled one is refused with `InvoiceStatusError`. */
  cancel(id: bigint): InvoiceRecord {
    const changed = this.write(() => {
      const done = this.stCancel.run(this.now(), rowId(id)).changes;
      if (done === 1) this.event("invoice.cancelled", { invoice: String(id) });
      return done;
    });
    const record = this.get(id);
    if (changed !== 1) throw new InvoiceStatusError(record.id, record.status, "cancel");
    return record;
  }

  /**
   * Writes an `invoice.expired` event for each open invoice whose expiry passed since the last
   * sweep (`expiredUpTo`, unix seconds, kept by the caller in the same transaction), once each;
   * returns the new mark. An expired invoice stays `open` in its row (it reads as expired).
   */
  sweepExpired(expiredUpTo: number, setMark: (seconds: number) => void): number {
    const now = this.nowSeconds() - 1; // an invoice is payable through its expiry second
    if (now <= expiredUpTo) return expiredUpTo;
    return this.write(() => {
      for (const row of this.stExpiredBetween.all(expiredUpTo, now)) {
        this.event("invoice.expired", { invoice: String(row.id), hashlock: row.hashlock, amount: decodeUint(row.amount).toString(), expiry: String(row.expiry) });
      }
      setMark(now);
      return now;
    });
  }

  /** The secret of the invoice of `hashlock`, for the payment path; null if there is none. */
  secret(hashlock: Hex): Hex | null {
    return this.stSecret.get(bytes32(hashlock, "hashlock")) ?? null;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private record(row: InvoiceRow, nowSeconds = this.nowSeconds()): InvoiceRecord {
    const invoice: SignedInvoice = {
      chainId: decodeUint(row.chain_id),
      adjudicator: row.adjudicator,
      asset: row.asset,
      payee: row.payee,
      amount: decodeUint(row.amount),
      hashlock: row.hashlock,
      expiry: BigInt(row.expiry),
      ref: row.ref,
      description: row.description,
      signature: row.signature,
    };
    const status: InvoiceStatus = row.status === "open" && row.expiry < nowSeconds ? "expired" : row.status;
    return {
      id: BigInt(row.id),
      status,
      invoice,
      createdAt: row.created_at,
      ...(row.paid_at === null ? {} : { paidAt: row.paid_at }),
      ...(row.paid_amount === null ? {} : { paidAmount: decodeUint(row.paid_amount) }),
      ...(row.cancelled_at === null ? {} : { cancelledAt: row.cancelled_at }),
      ...(row.memo === null ? {} : { memo: row.memo }),
    };
  }

  /** Runs a change and its event in one transaction (a savepoint inside the caller's). */
  private write<T>(fn: () => T): T {
    return this.run(() => this.db.transaction(fn).immediate());
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`the invoice store failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

/** An invoice id as the row id it is; an id beyond any row's (2^53 - 1 and up) is one no row has. */
function rowId(id: bigint): number {
  if (typeof id !== "bigint" || id < 0n || id > UINT64_MAX) throw new InvalidRecordError("id", id, "expected a uint64");
  return id > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(id);
}
