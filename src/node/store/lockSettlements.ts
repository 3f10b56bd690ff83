/**
 * What the lock guard (src/node/lockGuard.ts) keeps of the channels settled on chain with amounts
 * held back for locks (tables `lock_settlements`, `lock_resolutions`, migration 14), and the locks
 * pending at any countersigned version of a channel (from `locks`, migrations 13 and 18: each lock keeps
 * the version that added it and the one that removed it). So the locks tree of a state the peer
 * registered, older than this node's latest, is rebuilt from the store after a restart too.
 */
import type { Database, Statement } from "better-sqlite3";
import { decodeState, encodeState } from "../../channel/messages";
import type { Hex, Lock, State } from "../../types";
import { UINT256_MAX, bytes32, decodeUint, index01, uint64Key, uintText } from "./codec";
import type { EventData, EventType } from "./events";
import { lockOf, type LockRow } from "./locks";

/** A channel settled with locks held back, until every lock of this node in it is resolved. */
export interface LockSettlement {
  channelId: Hex;
  version: bigint;
  /** The state it settled on (what `resolveLock` takes back), once read from the chain. */
  state?: State;
}

/** A `LockResolved` event of one of this node's channels. */
export interface LockResolution {
  channelId: Hex;
  leaf: Hex;
  hashlock: Hex;
  paidTo: 0 | 1;
  /** `paid`: the receiver got it (its secret was registered by its expiry); `refunded`: the sender did. */
  outcome: "paid" | "refunded";
  amount: bigint;
  txHash: Hex;
}

interface SettlementRow {
  channel_id: Hex;
  version: string;
  state: string | null;
}

export class LockSettlementStore {
  private readonly stPendingAt: Statement<[Hex, string, string], LockRow>;
  private readonly stLock: Statement<[Hex, Hex], LockRow>;
  private readonly stHasLock: Statement<[{ hashlock: Hex }], number>;
  private readonly stKeepHashlocks: Statement<[{ channelId: Hex; version: string }]>;
  private readonly stPut: Statement<[Hex, string]>;
  private readonly stState: Statement<[string, Hex, string]>;
  private readonly stOpen: Statement<[], SettlementRow>;
  private readonly stDone: Statement<[Hex]>;
  private readonly stResolve: Statement<[Hex, Hex, number, string, Hex]>;
  private readonly stResolved: Statement<[Hex], Hex>;

  constructor(
    db: Database,
    /** Appends an event to the store's log (in the running transaction). */
    private readonly event: (type: EventType, channelId: Hex, data: EventData) => void,
  ) {
    this.stPendingAt = db.prepare(
      `SELECT channel_id, sender, amount, hashlock, expiry, ref FROM locks
       WHERE channel_id = ? AND added_version <= ? AND (removed_version IS NULL OR removed_version > ?) ORDER BY added_version, leaf`,
    );
    // Newest first through the channel's history (no index on leaf over it): read per LockResolved event, a rare path.
    this.stLock = db.prepare(
      "SELECT channel_id, sender, amount, hashlock, expiry, ref FROM locks INDEXED BY locks_by_version WHERE channel_id = ? AND leaf = ? ORDER BY added_version DESC LIMIT 1",
    );
    // A pending lock, else a lock pending in the state an unfinished settlement settled on: two index lookups.
    this.stHasLock = db
      .prepare<[{ hashlock: Hex }], number>(
        `SELECT 1 WHERE EXISTS (SELECT 1 FROM locks INDEXED BY locks_pending_by_hashlock WHERE removed_version IS NULL AND hashlock = @hashlock)
           OR EXISTS (SELECT 1 FROM lock_settlement_hashlocks h JOIN lock_settlements s ON s.channel_id = h.channel_id
                      WHERE h.hashlock = @hashlock AND s.done = 0)`,
      )
      .pluck();
    this.stKeepHashlocks = db.prepare(
      `INSERT OR IGNORE INTO lock_settlement_hashlocks (hashlock, channel_id)
       SELECT hashlock, channel_id FROM locks INDEXED BY locks_by_version
       WHERE channel_id = @channelId AND added_version <= @version AND (removed_version IS NULL OR removed_version > @version)`,
    );
    this.stPut = db.prepare("INSERT OR IGNORE INTO lock_settlements (channel_id, version) VALUES (?, ?)");
    this.stState = db.prepare("UPDATE lock_settlements SET state = ? WHERE channel_id = ? AND version = ?");
    this.stOpen = db.prepare("SELECT channel_id, version, state FROM lock_settlements WHERE done = 0 ORDER BY channel_id");
    this.stDone = db.prepare("UPDATE lock_settlements SET done = 1 WHERE channel_id = ?");
    this.stResolve = db.prepare("INSERT OR IGNORE INTO lock_resolutions (channel_id, leaf, paid_to, amount, tx_hash) VALUES (?, ?, ?, ?, ?)");
    this.stResolved = db.prepare<[Hex], Hex>("SELECT leaf FROM lock_resolutions WHERE channel_id = ?").pluck();
  }

  /** The locks pending in the channel's countersigned state of `version` (both senders). */
  pendingAt(channelId: Hex, version: bigint): Lock[] {
    const key = uint64Key(version, "version");
    return this.stPendingAt.all(bytes32(channelId, "channelId"), key, key).map(lockOf);
  }

  /** The channel's lock with that leaf (pending or not), or undefined if this node never had it. */
  lock(channelId: Hex, leaf: Hex): Lock | undefined {
    const row = this.stLock.get(bytes32(channelId, "channelId"), bytes32(leaf, "leaf"));
    return row === undefined ? undefined : lockOf(row);
  }

  /**
   * Whether a lock with that hashlock is pending in a channel of this node, or was pending in the
   * state a channel of this node settled on with locks still to resolve: the locks whose secret
   * can still matter to this node (a secret revealed on chain for any other is not kept).
   */
  hasLock(hashlock: Hex): boolean {
    return this.stHasLock.get({ hashlock: bytes32(hashlock, "hashlock") }) !== undefined;
  }

  /**
   * Records that the channel settled on its state of `version` with amounts held back (a second
   * record is ignored), with the hashlocks of the locks pending in that state (see `hasLock`).
   */
  settled(channelId: Hex, version: bigint): void {
    const key = { channelId: bytes32(channelId, "channelId"), version: uint64Key(version, "version") };
    this.stPut.run(key.channelId, key.version);
    this.stKeepHashlocks.run(key);
  }

  /** Keeps the state a recorded settlement settled on. */
  putState(state: State): void {
    this.stState.run(JSON.stringify(encodeState(state)), bytes32(state.channelId, "channelId"), uint64Key(state.version, "version"));
  }

  /** The settlements with a lock of this node still to resolve. */
  open(): LockSettlement[] {
    return this.stOpen.all().map((row) => ({
      channelId: row.channel_id,
      version: decodeUint(row.version),
      ...(row.state === null ? {} : { state: decodeState(JSON.parse(row.state)) }),
    }));
  }

  /** Every lock of this node in the channel's settlement is resolved (or can pay it nothing more). */
  done(channelId: Hex): void {
    this.stDone.run(bytes32(channelId, "channelId"));
  }

  /** Records a lock resolved on chain, with its `lock.resolved` event (once per lock: a replayed event adds nothing). */
  resolved(resolution: LockResolution): void {
    const channelId = bytes32(resolution.channelId, "channelId");
    const paidTo = index01(resolution.paidTo, "paidTo");
    const amount = uintText(resolution.amount, UINT256_MAX, "amount");
    const { changes } = this.stResolve.run(channelId, bytes32(resolution.leaf, "leaf"), paidTo, amount, bytes32(resolution.txHash, "txHash"));
    if (changes === 0) return;
    this.event("lock.resolved", channelId, {
      hashlock: resolution.hashlock,
      leaf: resolution.leaf,
      outcome: resolution.outcome,
      paidTo,
      amount,
      txHash: resolution.txHash,
    });
  }

  /** The leaves of the channel's locks resolved on chain. */
  resolvedLeaves(channelId: Hex): Set<string> {
    return new Set(this.stResolved.all(bytes32(channelId, "channelId")));
  }
}
