/**
 * The channels' hashlocked transfers (tables `locks`, `secrets`, `state_updates`,
 * `invoice_payments`, migrations 13 and 18), over the channel store's database handle. `record` runs in
 * the group commit of the countersigned state that adds or removes locks, so a restart restores
 * exactly the pending locks of the latest stored state.
 */
import type { Database, Statement } from "better-sqlite3";
import { decodeMessageOf, encodeMessage, encodeState, type StateUpdate } from "../../channel/messages";
import type { LockChanges } from "../../channel/types";
import { hashlockOf, lockLeafHex } from "../../crypto/hash";
import { InvoiceAlreadyPaidError } from "../payInvoiceErrors";
import type { Hex, Lock, SignedState } from "../../types";
import { UINT256_MAX, bytes32, decodeUint, uint64Key, uintText } from "./codec";
import { InvalidRecordError } from "./errors";
import type { EventData, EventType } from "./events";

/** What a countersigned state did to the locks, as the store keeps it. */
export interface LockWrite {
  channelId: Hex;
  signed: SignedState;
  updates: readonly StateUpdate[];
  locks: LockChanges;
}

/** How a lock left the channel's states. */
export type LockRemoval = "unlock" | "cancel" | "expire";

export type InvoicePaymentStatus = "pending" | "paid" | "failed";

/** An invoice this node pays (or paid, or failed to pay). */
export interface InvoicePaymentRecord {
  hashlock: Hex;
  invoice: string;
  channelId: Hex;
  amount: bigint;
  status: InvoicePaymentStatus;
  error?: string;
  startedAt: number;
  finishedAt?: number;
}

/** A row of `locks`, as the lock queries select it. */
export interface LockRow {
  channel_id: Hex;
  sender: 0 | 1;
  amount: string;
  hashlock: Hex;
  expiry: string;
  ref: Hex;
}

interface PaymentRow {
  hashlock: Hex;
  invoice: string;
  channel_id: Hex;
  amount: string;
  status: InvoicePaymentStatus;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

const paymentOf = (row: PaymentRow): InvoicePaymentRecord => ({
  hashlock: row.hashlock,
  invoice: row.invoice,
  channelId: row.channel_id,
  amount: decodeUint(row.amount),
  status: row.status,
  ...(row.error === null ? {} : { error: row.error }),
  startedAt: row.started_at,
  ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
});

const EVENT_OF = { unlock: "lock.settled", cancel: "lock.cancelled", expire: "lock.expired" } as const;

export const lockOf = (row: LockRow): Lock => ({
  channelId: row.channel_id,
  sender: row.sender,
  amount: decodeUint(row.amount),
  hashlock: row.hashlock,
  expiry: decodeUint(row.expiry),
  ref: row.ref,
});

const lockData = (lock: Lock, version: bigint): EventData => ({
  hashlock: lock.hashlock,
  sender: lock.sender,
  amount: lock.amount.toString(),
  expiry: lock.expiry.toString(),
  ref: lock.ref,
  version: version.toString(),
});

export class LockStore {
  private readonly stAdd: Statement;
  private readonly stRemove: Statement<[{ version: string; reason: LockRemoval; channelId: Hex; leaf: Hex }]>;
  private readonly stPending: Statement<[Hex], LockRow>;
  private readonly stRemoval: Statement<[Hex, Hex], LockRemoval | null>;
  private readonly stSecret: Statement<[Hex, Hex, number]>;
  private readonly stSecretOf: Statement<[Hex], Hex>;
  private readonly stUpdates: Statement<[Hex, string, string]>;
  private readonly stUpdatesOf: Statement<[Hex, string], string>;
  private readonly stPayment: Statement<[Hex], PaymentRow>;
  private readonly stPaymentStatus: Statement<[Hex], InvoicePaymentStatus>;
  private readonly stClaim: Statement<[Hex, Hex, Hex]>;
  private readonly stClaimOf: Statement<[Hex], { channel_id: Hex; leaf: Hex }>;
  private readonly stBegin: Statement<[Record<string, unknown>], PaymentRow>;
  private readonly stFinish: Statement<[{ status: InvoicePaymentStatus; error: string | null; at: number; hashlock: Hex }]>;

  constructor(
    db: Database,
    /** The clock, in unix milliseconds (the channel store's). */
    private readonly now: () => number,
    /** Appends an event to the store's log (in the running transaction). */
    private readonly event: (type: EventType, channelId: Hex, data: EventData) => void,
  ) {
    // A state recorded again adds nothing: the lock pending already (locks_pending), or added by
    // this version and removed since (found by version, among the channel's newest entries).
    this.stAdd = db.prepare(
      `INSERT OR IGNORE INTO locks (channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref)
       SELECT @channelId, @leaf, @version, @sender, @amount, @hashlock, @expiry, @ref
       WHERE NOT EXISTS (SELECT 1 FROM locks WHERE channel_id = @channelId AND added_version = @version AND leaf = @leaf)`,
    );
    // Only a lock added at or before the removing version: a state recorded again leaves a lock added anew since alone.
    this.stRemove = db.prepare(
      "UPDATE locks SET removed_version = @version, removed_reason = @reason WHERE channel_id = @channelId AND leaf = @leaf AND removed_version IS NULL AND added_version <= @version",
    );
    // The channel's newest lock with that leaf: walked from the newest version down (no index on leaf
    // over the history; a rare path: a forward whose incoming lock is gone, after a restart).
    this.stRemoval = db
      .prepare<[Hex, Hex], LockRemoval | null>("SELECT removed_reason FROM locks INDEXED BY locks_by_version WHERE channel_id = ? AND leaf = ? ORDER BY added_version DESC LIMIT 1")
      .pluck();
    this.stPending = db.prepare(
      "SELECT channel_id, sender, amount, hashlock, expiry, ref FROM locks INDEXED BY locks_pending WHERE channel_id = ? AND removed_version IS NULL ORDER BY added_version, leaf",
    );
    this.stSecret = db.prepare("INSERT OR IGNORE INTO secrets (hashlock, secret, at) VALUES (?, ?, ?)");
    this.stSecretOf = db.prepare<[Hex], Hex>("SELECT secret FROM secrets WHERE hashlock = ?").pluck();
    this.stUpdates = db.prepare("INSERT OR IGNORE INTO state_updates (channel_id, version, updates) VALUES (?, ?, ?)");
    this.stUpdatesOf = db.prepare<[Hex, string], string>("SELECT updates FROM state_updates WHERE channel_id = ? AND version = ?").pluck();
    this.stPayment = db.prepare("SELECT * FROM invoice_payments WHERE hashlock = ?");
    this.stPaymentStatus = db.prepare<[Hex], InvoicePaymentStatus>("SELECT status FROM invoice_payments WHERE hashlock = ?").pluck();
    this.stClaim = db.prepare("INSERT INTO invoice_claims (hashlock, channel_id, leaf) VALUES (?, ?, ?)");
    this.stClaimOf = db.prepare("SELECT channel_id, leaf FROM invoice_claims WHERE hashlock = ?");
    this.stBegin = db.prepare(
      `INSERT INTO invoice_payments (hashlock, invoice, channel_id, amount, status, started_at) VALUES (@hashlock, @invoice, @channelId, @amount, 'pending', @at)
       ON CONFLICT (hashlock) DO UPDATE SET invoice = excluded.invoice, channel_id = excluded.channel_id, amount = excluded.amount,
         status = 'pending', error = NULL, started_at = excluded.started_at, finished_at = NULL
       WHERE invoice_payments.status = 'failed'
       RETURNING *`,
    );
    // A settled lock is paid even if the call that made it had failed (its answer lost); only a pending one fails.
    this.stFinish = db.prepare(
      "UPDATE invoice_payments SET status = @status, error = @error, finished_at = @at WHERE hashlock = @hashlock AND (status = 'pending' OR (@status = 'paid' AND status = 'failed'))",
    );
  }

  /**
   * Keeps what a countersigned state did to the locks: the locks it added, those it removed (and
   * why), the secrets of the unlocked ones, its updates (for a peer's resync), each change an
   * event. Call it in the transaction that stores the state.
   */
  record(write: LockWrite): void {
    const channelId = bytes32(write.channelId, "channelId");
    const version = write.signed.state.version;
    const key = uint64Key(version, "version");
    // Removals first: a state that gives a lock back and makes the same one anew (same leaf) ends with it pending.
    for (const { lock, reason, secret } of write.locks.removed) {
      this.stRemove.run({ version: key, reason, channelId, leaf: lockLeafHex(lock) });
      if (secret !== undefined) this.putSecret(lock.hashlock, secret);
    }
    for (const lock of write.locks.added) {
      this.stAdd.run({
        channelId,
        leaf: lockLeafHex(lock),
        version: key,
        sender: lock.sender,
        amount: uintText(lock.amount, UINT256_MAX, "lock.amount"),
        hashlock: bytes32(lock.hashlock, "lock.hashlock"),
        expiry: lock.expiry.toString(),
        ref: bytes32(lock.ref, "lock.ref"),
      });
      this.event("lock.added", channelId, lockData(lock, version));
    }
    for (const { lock, reason } of write.locks.removed) this.event(EVENT_OF[reason], channelId, lockData(lock, version));
    const json = encodeMessage({ kind: "updates", updates: [...write.updates], state: write.signed.state, sig: write.signed.sigs[0] });
    if (json.kind === "updates") this.stUpdates.run(channelId, key, JSON.stringify(json.updates));
  }

  /** The pending locks of a channel's latest stored state, in the order they were added. */
  pending(channelId: Hex): Lock[] {
    return this.stPending.all(bytes32(channelId, "channelId")).map(lockOf);
  }

  /** Why the lock of leaf `leaf` left channel `channelId`'s states (unlock, cancel, expire); null while pending or unknown. */
  removalOf(channelId: Hex, leaf: Hex): LockRemoval | null {
    return this.stRemoval.get(bytes32(channelId, "channelId"), bytes32(leaf, "leaf")) ?? null;
  }

  /** The updates of the countersigned state `signed` if it changed locks, else undefined. */
  updatesOf(signed: SignedState): StateUpdate[] | undefined {
    const { state } = signed;
    const text = this.stUpdatesOf.get(state.channelId.toLowerCase() as Hex, uint64Key(state.version, "version"));
    if (text === undefined) return undefined;
    const message = { kind: "updates", updates: JSON.parse(text) as unknown, state: encodeState(state), sig: signed.sigs[0] };
    return decodeMessageOf("updates", message).updates;
  }

  /** Keeps a secret (checked against its hashlock); a known one is kept as it was. */
  putSecret(hashlock: Hex, secret: Hex): void {
    const key = bytes32(hashlock, "hashlock");
    const value = bytes32(secret, "secret");
    if (hashlockOf(value) !== key) throw new InvalidRecordError("secret", "0x…", "its sha256 is not the hashlock");
    this.stSecret.run(key, value, this.now());
  }

  /** The secret of `hashlock` if this node learned it, else null. */
  secret(hashlock: Hex): Hex | null {
    return this.stSecretOf.get(bytes32(hashlock, "hashlock")) ?? null;
  }

  /** Records the lock that paid this node's invoice of `hashlock` (in the transaction that marks it paid); a second claim throws. */
  claim(hashlock: Hex, channelId: Hex, lock: Lock): void {
    this.stClaim.run(bytes32(hashlock, "hashlock"), bytes32(channelId, "channelId"), lockLeafHex(lock));
  }

  /** The lock (channel and leaf) that paid this node's invoice of `hashlock`, or null. */
  claimOf(hashlock: Hex): { channelId: Hex; leaf: Hex } | null {
    const row = this.stClaimOf.get(bytes32(hashlock, "hashlock"));
    return row === undefined ? null : { channelId: row.channel_id, leaf: row.leaf };
  }

  // ---------------------------------------------------------------- invoices this node pays

  /**
   * Records that this node starts paying the invoice of `hashlock` (before any lock is made):
   * InvoicePaymentPendingError if it is paying or has paid it already. A failed one may be paid again.
   */
  beginPayment(entry: { hashlock: Hex; invoice: string; channelId: Hex; amount: bigint }): InvoicePaymentRecord {
    const hashlock = bytes32(entry.hashlock, "hashlock");
    // The row as written (RETURNING: no read back); none if a payment of it is pending or paid.
    const written = this.stBegin.get({
      hashlock,
      invoice: entry.invoice,
      channelId: bytes32(entry.channelId, "channelId"),
      amount: uintText(entry.amount, UINT256_MAX, "amount"),
      at: this.now(),
    });
    if (written === undefined) throw new InvoiceAlreadyPaidError(hashlock, this.paymentStatus(hashlock)!);
    return paymentOf(written);
  }

  /** Ends a pending invoice payment as paid or failed (with why), or a failed one as paid (its lock settled after all); a paid one stays. Returns the record. */
  finishPayment(hashlock: Hex, status: "paid" | "failed", error?: string): InvoicePaymentRecord | null {
    const key = bytes32(hashlock, "hashlock");
    this.stFinish.run({ status, error: error ?? null, at: this.now(), hashlock: key });
    return this.payment(key);
  }

  /** The status of this node's payment of the invoice of `hashlock`, or null (the check before paying: one column, not the record). */
  paymentStatus(hashlock: Hex): InvoicePaymentStatus | null {
    return this.stPaymentStatus.get(bytes32(hashlock, "hashlock")) ?? null;
  }

  /** This node's payment of the invoice of `hashlock`, or null. */
  payment(hashlock: Hex): InvoicePaymentRecord | null {
    const row = this.stPayment.get(bytes32(hashlock, "hashlock"));
    return row === undefined ? null : paymentOf(row);
  }
}
