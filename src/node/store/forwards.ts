/**
 * The locks a hub forwards (table `forwards`, migration 14): one row per incoming lock it passes
 * on, written with its `lock.forwarded` event before the outgoing lock is proposed, so a restart
 * finds every forward that may have a lock downstream and resolves it upstream.
 */
import type { Database, Statement } from "better-sqlite3";
import type { Address, Hex } from "../../types";
import { UINT256_MAX, address, bytes32, decodeUint, uintText } from "./codec";
import type { EventData, EventType } from "./events";

export type ForwardStatus = "pending" | "settled" | "cancelled";

/** What a hub writes before it locks downstream. */
export interface NewForward {
  hashlock: Hex;
  asset: Address;
  inChannel: Hex;
  inLeaf: Hex;
  outChannel: Hex;
  outLeaf: Hex;
  /** The peer the outgoing lock goes to. */
  nextHop: Address;
  amountIn: bigint;
  amountOut: bigint;
  fee: bigint;
  outExpiry: bigint;
}

export interface ForwardRecord extends NewForward {
  id: bigint;
  status: ForwardStatus;
  error?: string;
  createdAt: number;
  finishedAt?: number;
}

export interface ForwardsQuery {
  /** Forwards with an id below this one (newest first paging). */
  before?: bigint;
  limit?: number;
  status?: ForwardStatus;
}

interface ForwardRow {
  id: number;
  hashlock: Hex;
  asset: Address;
  in_channel: Hex;
  in_leaf: Hex;
  out_channel: Hex;
  out_leaf: Hex;
  next_hop: Address;
  amount_in: string;
  amount_out: string;
  fee: string;
  out_expiry: string;
  status: ForwardStatus;
  error: string | null;
  created_at: number;
  finished_at: number | null;
}

const recordOf = (row: ForwardRow): ForwardRecord => ({
  id: BigInt(row.id),
  hashlock: row.hashlock,
  asset: row.asset,
  inChannel: row.in_channel,
  inLeaf: row.in_leaf,
  outChannel: row.out_channel,
  outLeaf: row.out_leaf,
  nextHop: row.next_hop,
  amountIn: decodeUint(row.amount_in),
  amountOut: decodeUint(row.amount_out),
  fee: decodeUint(row.fee),
  outExpiry: decodeUint(row.out_expiry),
  status: row.status,
  ...(row.error === null ? {} : { error: row.error }),
  createdAt: row.created_at,
  ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
});

/** A forward checked and encoded by `ForwardStore.check`, for `insert`. */
export interface CheckedForward {
  row: Record<string, string> & { inChannel: Hex };
  event: EventData;
}

/** The most forwards one read returns. */
export const MAX_FORWARDS_PAGE = 1_000;

export class ForwardStore {
  private readonly stInsert: Statement<[Record<string, unknown>], ForwardRow>;
  private readonly stByIn: Statement<[Hex, Hex], ForwardRow>;
  private readonly stByOut: Statement<[Hex, Hex], ForwardRow>;
  private readonly stPending: Statement<[], ForwardRow>;
  private readonly stFinish: Statement<[{ id: number; status: ForwardStatus; error: string | null; at: number }], { in_channel: Hex; hashlock: Hex; asset: Address; fee: string }>;
  private readonly stPage: Statement<[{ before: number; status: string | null; limit: number }], ForwardRow>;
  private readonly stTotals: Statement<[], { status: ForwardStatus; n: number }>;
  private readonly stFees: Statement<[], { asset: Address; fee: string }>;

  constructor(
    private readonly db: Database,
    /** The clock, in unix milliseconds (the channel store's). */
    private readonly now: () => number,
    /** Appends an event to the store's log (in the running transaction). */
    private readonly event: (type: EventType, channelId: Hex, data: EventData) => void,
  ) {
    this.stInsert = db.prepare(
      `INSERT OR IGNORE INTO forwards (hashlock, asset, in_channel, in_leaf, out_channel, out_leaf, next_hop, amount_in, amount_out, fee, out_expiry, status, created_at)
       VALUES (@hashlock, @asset, @inChannel, @inLeaf, @outChannel, @outLeaf, @nextHop, @amountIn, @amountOut, @fee, @outExpiry, 'pending', @at)
       RETURNING *`,
    );
    this.stByIn = db.prepare("SELECT * FROM forwards WHERE in_channel = ? AND in_leaf = ?");
    this.stByOut = db.prepare("SELECT * FROM forwards WHERE out_channel = ? AND out_leaf = ?");
    this.stPending = db.prepare("SELECT * FROM forwards WHERE status = 'pending' ORDER BY id");
    this.stFinish = db.prepare(
      "UPDATE forwards SET status = @status, error = @error, finished_at = @at WHERE id = @id AND status = 'pending' RETURNING in_channel, hashlock, asset, fee",
    );
    this.stPage = db.prepare("SELECT * FROM forwards WHERE id < @before AND (@status IS NULL OR status = @status) ORDER BY id DESC LIMIT @limit");
    this.stTotals = db.prepare("SELECT status, COUNT(*) AS n FROM forwards GROUP BY status");
    // Fees are uint256 as text: summed in TypeScript, exactly.
    this.stFees = db.prepare("SELECT asset, fee FROM forwards WHERE status = 'settled'");
  }

  /**
   * Records a forward (pending) with its `lock.forwarded` event, in one transaction; the incoming
   * lock recorded already (a retry after a restart) returns the stored row unchanged.
   */
  add(forward: NewForward): ForwardRecord {
    const checked = this.check(forward);
    return this.db.transaction(() => this.insert(checked))();
  }

  /** Checks a forward and encodes it for `insert` (throws on bad input, writing nothing). */
  check(forward: NewForward): CheckedForward {
    return {
      row: {
        hashlock: bytes32(forward.hashlock, "hashlock"),
        asset: address(forward.asset, "asset"),
        inChannel: bytes32(forward.inChannel, "inChannel"),
        inLeaf: bytes32(forward.inLeaf, "inLeaf"),
        outChannel: bytes32(forward.outChannel, "outChannel"),
        outLeaf: bytes32(forward.outLeaf, "outLeaf"),
        nextHop: address(forward.nextHop, "nextHop"),
        amountIn: uintText(forward.amountIn, UINT256_MAX, "amountIn"),
        amountOut: uintText(forward.amountOut, UINT256_MAX, "amountOut"),
        fee: uintText(forward.fee, UINT256_MAX, "fee"),
        outExpiry: forward.outExpiry.toString(),
      },
      event: {
        hashlock: forward.hashlock.toLowerCase(),
        outChannel: forward.outChannel.toLowerCase(),
        nextHop: forward.nextHop.toLowerCase(),
        amountIn: forward.amountIn.toString(),
        amountOut: forward.amountOut.toString(),
        fee: forward.fee.toString(),
        expiry: forward.outExpiry.toString(),
      },
    };
  }

  /**
   * Writes a checked forward and its event in the running transaction (the group commit's, or
   * `add`'s) and returns the stored row; if its incoming lock has one already, that one, unchanged.
   */
  insert({ row, event }: CheckedForward): ForwardRecord {
    // The row as written (RETURNING: no read back); none if the incoming lock has a forward already.
    const written = this.stInsert.get({ ...row, at: this.now() });
    if (written === undefined) return this.byIncoming(row.inChannel, row.inLeaf as Hex)!;
    this.event("lock.forwarded", row.inChannel, event);
    return recordOf(written);
  }

  /** The forward of the incoming lock `inLeaf` of `inChannel`, or null. */
  byIncoming(inChannel: Hex, inLeaf: Hex): ForwardRecord | null {
    const row = this.stByIn.get(bytes32(inChannel, "inChannel"), bytes32(inLeaf, "inLeaf"));
    return row === undefined ? null : recordOf(row);
  }

  /** The forward whose outgoing lock is `outLeaf` of `outChannel`, or null. */
  byOutgoing(outChannel: Hex, outLeaf: Hex): ForwardRecord | null {
    const row = this.stByOut.get(bytes32(outChannel, "outChannel"), bytes32(outLeaf, "outLeaf"));
    return row === undefined ? null : recordOf(row);
  }

  /** Every pending forward, oldest first (a restart resumes them). */
  pending(): ForwardRecord[] {
    return this.stPending.all().map(recordOf);
  }

  /**
   * Ends a pending forward (settled once the upstream unlock is on disk, or cancelled with why) with
   * its `forward.settled`/`forward.cancelled` event, in the running transaction (the group
   * commit's); false if it was not pending.
   */
  finish(id: bigint, status: "settled" | "cancelled", error?: string): boolean {
    const row = this.stFinish.get({ id: Number(id), status, error: error ?? null, at: this.now() });
    if (row === undefined) return false;
    const data: EventData = { forward: id.toString(), hashlock: row.hashlock, asset: row.asset, fee: row.fee, ...(error === undefined ? {} : { error }) };
    this.event(status === "settled" ? "forward.settled" : "forward.cancelled", row.in_channel, data);
    return true;
  }

  /** A page of forwards, newest first. */
  list(query: ForwardsQuery = {}): ForwardRecord[] {
    const limit = Math.min(query.limit ?? 100, MAX_FORWARDS_PAGE);
    const before = query.before === undefined ? Number.MAX_SAFE_INTEGER : Number(query.before);
    return this.stPage.all({ before, status: query.status ?? null, limit }).map(recordOf);
  }

  /** How many forwards settled and are pending, and the fees the settled ones earned per asset. */
  totals(): { settled: bigint; pending: bigint; feesEarned: { asset: Address; amount: bigint }[] } {
    const counts = new Map(this.stTotals.all().map((row) => [row.status, BigInt(row.n)]));
    const fees = new Map<Address, bigint>();
    for (const { asset, fee } of this.stFees.iterate()) fees.set(asset, (fees.get(asset) ?? 0n) + decodeUint(fee));
    return {
      settled: counts.get("settled") ?? 0n,
      pending: counts.get("pending") ?? 0n,
      feesEarned: [...fees].map(([asset, amount]) => ({ asset, amount })),
    };
  }
}
