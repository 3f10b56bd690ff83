/**
 * Where a routed payment's SQLite work goes at the hub (issue 15, point 8): a real `ChannelStore`
 * in a temp dir gets, through the node's `CommitQueue`, the writes a hub makes for routed payments,
 * pipelined as in a busy hub: each group commit holds, for six cohorts of `group` payments, one
 * step each (1: the incoming lock's states, 2: the forwards, 3: the outgoing lock's states,
 * 4: the outgoing unlock's states with their receipts and the secret, 5: the incoming unlock's,
 * 6: the forwards finished). States carry `updates` updates each; the channels are `channels`
 * (half incoming, the hub participant 1; half outgoing, the hub participant 0). Per routed
 * payment: 2 lock rows added then marked removed, 2 receipts, the secret (twice, the second
 * ignored), a forward inserted and finished, 8 events, 4/`updates` state rows and their updates'
 * JSON. Also the hub's reads (the forward by its incoming lock three times and by its outgoing
 * lock once, the secret once).
 *
 * Each variant changes the bench's own temp store only (DROP INDEX, a trigger that drops the rows
 * of a table, or the store's statements swapped for ones over another table): nothing under src/.
 * Figures are the medians over runs interleaved with the baseline's, as a ratio to the baseline.
 *
 *   npx ts-node --transpile-only scripts/bench/routedWrites.ts [runs] [commits] [group] [channels] [updates] [shm|disk|both] [history] [variant,...]
 *
 * `history`: routed payments already in the store (its tables and random-key indexes grown, as a hub's after a day).
 *
 * Figures before migration 18 (2026-12-05, shared 2-core VM; `5 25 200 100 20 both 20000`: medians of 5 interleaved
 * runs, 25 steady commits of 200 routed payments, 100 channels, 20 updates a state, 20,000 routed
 * payments in the store before). CPU: process.cpuUsage (user + system, all threads) of the group
 * commits, µs per routed payment; ratio: median of each run's ratio to the baseline of its round;
 * write(): bytes the process passed to write() per routed payment (WAL frames + checkpoints).
 *
 *   variant                                   tmpfs µs (ratio)  disk µs (ratio)  write() (ratio)
 *   baseline                                   217 (1.00)        273 (1.00)       97.2 kB (1.00)
 *   lean: the next row + no payments_by_ref
 *         + forwards without leaf indexes      159 (0.73)        167 (0.60)       29.1 kB (0.30)
 *   pending table + BLOB + no hashlock idx     183 (0.82)        202 (0.73)       48.6 kB (0.50)
 *   BLOB(32) keys (locks, secrets,
 *         state_updates, forwards)             180 (0.80)        208 (0.78)       71.1 kB (0.73)
 *   pending locks table (+ history appended)   191 (0.87)        224 (0.83)       65.0 kB (0.67)
 *   forwards without leaf indexes              213 (0.95)        246 (0.89)       83.1 kB (0.86)
 *   wal_autocheckpoint 10000 (not schema)      225 (1.03)        244 (0.89)       84.5 kB (0.87)
 *   no locks_by_hashlock                       237 (1.09)        248 (0.91)       79.6 kB (0.82)
 *   no state_updates rows                      203 (0.93)        253 (0.93)       89.2 kB (0.92)
 *   no payments_by_ref                         209 (0.98)        255 (0.95)       88.0 kB (0.90)
 *   no events rows                             211 (0.97)        259 (0.96)       91.9 kB (0.95)
 *   no locks_pending                           217 (0.98)        265 (0.96)       96.1 kB (0.99)
 *   no forwards_out (reads 44 -> 1,450 µs)     212 (1.00)        264 (0.97)       90.2 kB (0.93)
 *   no forwards_pending                        217 (0.98)        265 (0.97)       97.0 kB (1.00)
 *   (state_updates JSON built in JS: 4 µs; the hub's reads: 44 µs beside the commits.)
 *
 * With the store's history (3 runs each; tmpfs / disk µs): baseline 157 / 173 on an empty store,
 * 217 / 273 after 20,000 routed payments, 265 / 335 after 60,000 (write() 42 → 97 → 124 kB);
 * lean 146 / 154, 159 / 167, 185 / 182; floor (no rows written at all) 85 / 84, 88 / 98. Most rows
 * are keyed or indexed by random 32-byte hashes (leaf, hashlock, ref): once an index outgrows a
 * commit's working set, each entry dirties a page of its own, written whole to the WAL and again
 * by the checkpoint. Keys that grow in order (rowid, a small table of pending rows) avoid that.
 *
 * Migration 18 (after the figures above) keys `locks` by rowid: a lock is looked up by leaf or
 * hashlock among the pending locks only (partial indexes), the history by (channel, version), and
 * `locks_by_hashlock` over the history is gone (hasLock asks the pending locks and the hashlocks
 * kept with each open settlement). The variants it made moot (no locks_by_hashlock, no
 * locks_pending, the pending-locks table) are gone from the list. Baseline, `3 25 200 100 20 disk
 * N none`, one run of 3 each, before → after: N = 0: 178 → 173 µs (write() 42 → 35 kB); 20,000:
 * 310 → 237 µs (97 → 70 kB); 60,000: 346 → 289 µs (274–294 over three runs; 124 → 86 kB). The rest of the growth: secrets, payments_by_ref and the forwards' two
 * leaf indexes, still on random keys over the whole history. After it, `lean` (BLOB keys, no
 * payments_by_ref, forwards in memory) against the baseline at 20,000: 227 → 163 µs (0.71),
 * write() 69 → 31 kB.
 */
import Database from "better-sqlite3";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { StateUpdate } from "../../src/channel/messages";
import { encodeMessage } from "../../src/channel/messages";
import { hashlockOf, lockLeafHex, paymentLeafHex } from "../../src/crypto/hash";
import { CommitQueue } from "../../src/node/commitQueue";
import { ChannelStore } from "../../src/node/store";
import type { LockWrite } from "../../src/node/store/locks";
import type { Address, Hex, Lock, Payment, SignedState } from "../../src/types";

const hex = (bytes: number): Hex => `0x${randomBytes(bytes).toString("hex")}`;
const SIG: Hex = `0x${"1b".repeat(65)}`;
const ASSET: Address = "0x00000000000000000000000000000000000000aa";
const HUB: Address = "0x00000000000000000000000000000000000000b0";

interface Config {
  commits: number;
  group: number;
  channels: number;
  updates: number;
}

/** One write the hub queues, ready to replay (built before the clock starts). */
type Op = (q: CommitQueue) => Promise<unknown>;

interface Run {
  /** CPU (user + system) µs per routed payment in the steady commits. */
  cpuUs: number;
  wallUs: number;
  /** The hub's reads per routed payment (CPU µs). */
  readUs: number;
  /** Bytes of the database per routed payment (pages in use at the end). */
  bytes: number;
  /** Bytes the process passed to write() per routed payment (WAL frames; /proc/self/io wchar). */
  writtenBytes: number;
}

/** A channel as the hub sees it while the bench builds its states. */
interface Chan {
  id: Hex;
  me: 0 | 1;
  version: bigint;
  seq: bigint;
}

interface Routed {
  secret: Hex;
  lockIn: Lock;
  lockOut: Lock;
  inLeaf: Hex;
  outLeaf: Hex;
}

// ------------------------------------------------------------------ variants

interface Handles {
  db: Database.Database;
  store: ChannelStore;
}

interface Variant {
  name: string;
  /** What it would cost the product. */
  cost: string;
  /** Its reads would come from memory: the bench skips them (they would scan). */
  readsFromMemory?: boolean;
  /** It stores nothing (the floor): the final check of the forwards is skipped. */
  writesNothing?: boolean;
  apply?: (h: Handles) => void;
}

const dropRows = (table: string) => (h: Handles) => h.db.exec(`CREATE TRIGGER bench_drop_${table} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(IGNORE); END`);

const unhex = (param: string) => `unhex(substr(${param}, 3))`;
const rehex = (column: string) => `'0x' || lower(hex(${column}))`;

/** Copies `table` into a new one of `columns` with the 32-byte hex `keys` as BLOB (the migration), then drops the old one. */
function toBlob(db: Database.Database, table: string, columns: string, keys: readonly string[], names: readonly string[]): void {
  db.exec(`ALTER TABLE ${table} RENAME TO ${table}_hex; CREATE TABLE ${table} (${columns});`);
  const select = names.map((n) => (keys.includes(n) ? unhex(n) : n)).join(", ");
  db.exec(`INSERT INTO ${table} (${names.join(", ")}) SELECT ${select} FROM ${table}_hex; DROP TABLE ${table}_hex;`);
}

/** 32-byte keys as BLOB(32) instead of 66 characters of hex in the hot tables (locks, secrets, state_updates, forwards); the conversion in SQL stands in for Buffer.from. */
function blobKeys({ db, store }: Handles, leafIndexes = true): void {
  const { locks, forwards } = store; // made before their tables are rebuilt: they prepare their statements once
  toBlob(
    db,
    "locks",
    `id INTEGER PRIMARY KEY, channel_id BLOB NOT NULL, leaf BLOB NOT NULL, added_version TEXT NOT NULL, sender INTEGER NOT NULL, amount TEXT NOT NULL,
     hashlock BLOB NOT NULL, expiry TEXT NOT NULL, ref BLOB NOT NULL, removed_version TEXT, removed_reason TEXT`,
    ["channel_id", "leaf", "hashlock", "ref"],
    ["id", "channel_id", "leaf", "added_version", "sender", "amount", "hashlock", "expiry", "ref", "removed_version", "removed_reason"],
  );
  toBlob(db, "secrets", "hashlock BLOB PRIMARY KEY, secret BLOB NOT NULL, at INTEGER NOT NULL", ["hashlock", "secret"], ["hashlock", "secret", "at"]);
  toBlob(db, "state_updates", "channel_id BLOB NOT NULL, version TEXT NOT NULL, updates TEXT NOT NULL, PRIMARY KEY (channel_id, version)", ["channel_id"], ["channel_id", "version", "updates"]);
  toBlob(
    db,
    "forwards",
    `id INTEGER PRIMARY KEY, hashlock BLOB NOT NULL, asset TEXT NOT NULL, in_channel BLOB NOT NULL, in_leaf BLOB NOT NULL, out_channel BLOB NOT NULL,
     out_leaf BLOB NOT NULL, next_hop TEXT NOT NULL, amount_in TEXT NOT NULL, amount_out TEXT NOT NULL, fee TEXT NOT NULL, out_expiry TEXT NOT NULL,
     status TEXT NOT NULL, error TEXT, created_at INTEGER NOT NULL, finished_at INTEGER${leafIndexes ? ", UNIQUE (in_channel, in_leaf)" : ""}`,
    ["hashlock", "in_channel", "in_leaf", "out_channel", "out_leaf"],
    ["id", "hashlock", "asset", "in_channel", "in_leaf", "out_channel", "out_leaf", "next_hop", "amount_in", "amount_out", "fee", "out_expiry", "status", "error", "created_at", "finished_at"],
  );
  db.exec(`
    CREATE UNIQUE INDEX locks_pending ON locks (channel_id, leaf) WHERE removed_version IS NULL;
    CREATE INDEX locks_by_version ON locks (channel_id, added_version);
    CREATE INDEX forwards_pending ON forwards (status) WHERE status = 'pending';
  `);
  if (leafIndexes) db.exec("CREATE INDEX forwards_out ON forwards (out_channel, out_leaf)");
  Object.assign(locks, {
    stAdd: db.prepare(
      `INSERT OR IGNORE INTO locks (channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref)
       SELECT ${unhex("@channelId")}, ${unhex("@leaf")}, @version, @sender, @amount, ${unhex("@hashlock")}, @expiry, ${unhex("@ref")}
       WHERE NOT EXISTS (SELECT 1 FROM locks WHERE channel_id = ${unhex("@channelId")} AND added_version = @version AND leaf = ${unhex("@leaf")})`,
    ),
    stRemove: db.prepare(
      `UPDATE locks SET removed_version = ?, removed_reason = ? WHERE channel_id = ${unhex("?")} AND leaf = ${unhex("?")} AND removed_version IS NULL`,
    ),
    stSecret: db.prepare(`INSERT OR IGNORE INTO secrets (hashlock, secret, at) VALUES (${unhex("?")}, ${unhex("?")}, ?)`),
    stSecretOf: db.prepare(`SELECT ${rehex("secret")} FROM secrets WHERE hashlock = ${unhex("?")}`).pluck(),
    stUpdates: db.prepare(`INSERT OR IGNORE INTO state_updates (channel_id, version, updates) VALUES (${unhex("?")}, ?, ?)`),
  });
  const cols = `id, ${rehex("hashlock")} AS hashlock, asset, ${rehex("in_channel")} AS in_channel, ${rehex("in_leaf")} AS in_leaf,
    ${rehex("out_channel")} AS out_channel, ${rehex("out_leaf")} AS out_leaf, next_hop, amount_in, amount_out, fee, out_expiry, status, error, created_at, finished_at`;
  Object.assign(forwards, {
    stInsert: db.prepare(
      `INSERT OR IGNORE INTO forwards (hashlock, asset, in_channel, in_leaf, out_channel, out_leaf, next_hop, amount_in, amount_out, fee, out_expiry, status, created_at)
       VALUES (${unhex("@hashlock")}, @asset, ${unhex("@inChannel")}, ${unhex("@inLeaf")}, ${unhex("@outChannel")}, ${unhex("@outLeaf")}, @nextHop,
         @amountIn, @amountOut, @fee, @outExpiry, 'pending', @at)`,
    ),
    stByIn: db.prepare(`SELECT ${cols} FROM forwards WHERE in_channel = ${unhex("?")} AND in_leaf = ${unhex("?")}`),
    stFinish: db.prepare(
      `UPDATE forwards SET status = @status, error = @error, finished_at = @at WHERE id = @id AND status = 'pending'
       RETURNING ${rehex("in_channel")} AS in_channel, ${rehex("hashlock")} AS hashlock, asset, fee`,
    ),
  });
}

/** The forwards without their indexes by incoming and outgoing leaf (the hub would keep its pending forwards in memory by leaf, loaded with `pending()` at start). */
function forwardsWithoutLeafIndexes({ db }: Handles): void {
  const sql = db.prepare<[], string>("SELECT sql FROM sqlite_schema WHERE name = 'forwards'").pluck().get()!;
  db.exec(`
    ALTER TABLE forwards RENAME TO forwards_old;
    ${sql.replace(/,\s*UNIQUE \(in_channel, in_leaf\)/, "")};
    INSERT INTO forwards SELECT * FROM forwards_old;
    DROP TABLE forwards_old;
    CREATE INDEX forwards_pending ON forwards (status) WHERE status = 'pending';
  `);
}

const withoutIndex = (index: string, cost: string): Variant => ({ name: `no ${index}`, cost, apply: ({ db }) => db.exec(`DROP INDEX ${index}`) });

/** The hot tables a routed payment writes. */
const HOT_TABLES = ["states", "payments", "locks", "secrets", "state_updates", "forwards", "events"] as const;

const VARIANTS: readonly Variant[] = [
  { name: "baseline", cost: "-" },
  withoutIndex("payments_by_ref", "payments by ref (API ?ref=, firstPaymentBy: idempotent pay) would scan the channel's payments"),
  withoutIndex("forwards_out", "byOutgoing runs per routed payment (handleLocks, the downstream unlock): a scan of all forwards each time; not an option"),
  withoutIndex("forwards_pending", "pending() at start and onSecret would scan forwards"),
  {
    name: "wal_autocheckpoint 10000",
    cost: "not schema: the WAL grows to ~40 MiB between checkpoints (journal_size_limit 64 MiB truncates it), reads search a longer WAL index",
    apply: ({ db }) => db.pragma("wal_autocheckpoint = 10000"),
  },
  { name: "no events rows", cost: "no event log: API events, webhooks, dashboard, SSE; the JSON is still built", apply: dropRows("events") },
  { name: "no state_updates rows", cost: "a peer's resync could not replay lock states; the JSON is still built", apply: dropRows("state_updates") },
  { name: "BLOB(32) keys", cost: "migration rewrites 4 tables; codec hex<->Buffer at the store's edge", apply: blobKeys },
  {
    name: "forwards without leaf indexes",
    cost: "the hub keeps its pending forwards in memory by leaf (4 lookups a payment; loaded with pending() at start); a settled one is found by a scan",
    readsFromMemory: true,
    apply: forwardsWithoutLeafIndexes,
  },
  {
    name: "lean: BLOB keys + no payments_by_ref + forwards in memory",
    cost: "the three: payments_by_ref replaced (a partial index on the payments sent with a ref, a new column)",
    readsFromMemory: true,
    apply: (h) => {
      blobKeys(h, false);
      h.db.exec("DROP INDEX payments_by_ref");
    },
  },
  {
    name: "floor: no rows written",
    cost: "not a design: every insert into the hot tables dropped by a trigger; what is left is the JS path, the statements' calls and the commit",
    readsFromMemory: true,
    writesNothing: true,
    apply: (h) => HOT_TABLES.forEach((table) => dropRows(table)(h)),
  },
];

// ------------------------------------------------------------------ the hub's writes

/** The states of one step of a cohort: its payments' updates, `per` to a state, on the channels from `first` on. */
function stepStates(cohort: readonly Routed[], chans: readonly Chan[], first: number, per: number, step: "lock-in" | "lock-out" | "unlock-out" | "unlock-in"): Op[] {
  const ops: Op[] = [];
  for (let s = 0; s * per < cohort.length; s++) {
    const chan = chans[(first + s) % chans.length];
    const items = cohort.slice(s * per, (s + 1) * per);
    const lockOf = (r: Routed) => (step === "lock-in" || step === "unlock-in" ? r.lockIn : r.lockOut);
    const locks = items.map((r) => ({ ...lockOf(r), channelId: chan.id }));
    const unlock = step.startsWith("unlock");
    chan.version++;
    const receipts: Payment[] = unlock ? locks.map((lock) => ({ channelId: chan.id, seq: chan.seq++, payer: lock.sender, amount: lock.amount, ref: lock.ref })) : [];
    const leaves = receipts.map(paymentLeafHex);
    const signed: SignedState = {
      state: { channelId: chan.id, version: chan.version, transferred: [chan.seq * 1000n, 0n], locked: [0n, 0n], locksRoot: hex(32), paymentsRoot: hex(32), isFinal: false },
      sigs: [SIG, SIG],
    };
    const updates: StateUpdate[] = locks.map((lock, i) => (unlock ? { op: "unlock", lock, secret: items[i].secret } : { op: "lock", lock }));
    const write: LockWrite = {
      channelId: chan.id,
      signed,
      updates,
      locks: unlock ? { added: [], removed: locks.map((lock, i) => ({ lock, reason: "unlock", secret: items[i].secret })) } : { added: locks, removed: [] },
    };
    ops.push((q) => q.countersigned(chan.id, signed, receipts, leaves));
    ops.push((q) => q.locks(write));
  }
  return ops;
}

/** Builds the commits of a run (steps pipelined over cohorts) with the reads the hub makes after each. */
function buildCommits(config: Config, chansIn: Chan[], chansOut: Chan[], firstForward: bigint): { commits: Op[][]; reads: ((store: ChannelStore) => void)[][] } {
  const cohorts = config.commits + 5;
  const statesPerCohort = Math.ceil(config.group / config.updates);
  const routed: Routed[][] = Array.from({ length: cohorts }, (_, c) =>
    Array.from({ length: config.group }, (_, k) => {
      const secret = hex(32);
      const ref = hex(32);
      const hashlock = hashlockOf(secret);
      const inChan = chansIn[(c * statesPerCohort + Math.floor(k / config.updates)) % chansIn.length];
      const outChan = chansOut[(c * statesPerCohort + Math.floor(k / config.updates)) % chansOut.length];
      const lockIn: Lock = { channelId: inChan.id, sender: 0, amount: 1_001_000n + BigInt(k), hashlock, expiry: 2_000_000_000n, ref };
      const lockOut: Lock = { channelId: outChan.id, sender: 0, amount: 1_000_000n + BigInt(k), hashlock, expiry: 1_999_999_000n, ref };
      return { secret, lockIn, lockOut, inLeaf: lockLeafHex(lockIn), outLeaf: lockLeafHex(lockOut) };
    }),
  );
  const commits: Op[][] = [];
  const reads: ((store: ChannelStore) => void)[][] = [];
  const forwardId = (c: number, k: number) => firstForward + BigInt(c * config.group + k);
  for (let t = 0; t < cohorts + 5; t++) {
    const ops: Op[] = [];
    const after: ((store: ChannelStore) => void)[] = [];
    const first = (c: number) => c * statesPerCohort;
    for (let step = 0; step < 6; step++) {
      const c = t - step;
      if (c < 0 || c >= cohorts) continue;
      const cohort = routed[c];
      if (step === 0) ops.push(...stepStates(cohort, chansIn, first(c), config.updates, "lock-in"));
      if (step === 1) {
        for (const r of cohort) {
          ops.push((q) =>
            q.forward({
              hashlock: r.lockIn.hashlock,
              asset: ASSET,
              inChannel: r.lockIn.channelId,
              inLeaf: r.inLeaf,
              outChannel: r.lockOut.channelId,
              outLeaf: r.outLeaf,
              nextHop: HUB,
              amountIn: r.lockIn.amount,
              amountOut: r.lockOut.amount,
              fee: 1000n,
              outExpiry: r.lockOut.expiry,
            }),
          );
          // The hub looks for a forward of the lock before writing one, and reads it back after.
          after.push((store) => store.forwards.byIncoming(r.lockIn.channelId, r.inLeaf));
          after.push((store) => store.forwards.byIncoming(r.lockIn.channelId, r.inLeaf));
          after.push((store) => store.locks.secret(r.lockIn.hashlock));
        }
      }
      if (step === 2) ops.push(...stepStates(cohort, chansOut, first(c), config.updates, "lock-out"));
      if (step === 3) {
        ops.push(...stepStates(cohort, chansOut, first(c), config.updates, "unlock-out"));
        // The hub finds the forward of each outgoing lock removed (handleLocks), and of each incoming one below.
        for (const r of cohort) after.push((store) => store.forwards.byOutgoing(r.lockOut.channelId, r.outLeaf));
      }
      if (step === 4) {
        ops.push(...stepStates(cohort, chansIn, first(c), config.updates, "unlock-in"));
        for (const r of cohort) after.push((store) => store.forwards.byIncoming(r.lockIn.channelId, r.inLeaf));
      }
      if (step === 5) cohort.forEach((_, k) => ops.push((q) => q.finishForward(forwardId(c, k), "settled")));
    }
    commits.push(ops);
    reads.push(after);
  }
  return { commits, reads };
}

/** Bytes this process passed to write() so far (Linux). */
const wchar = () => Number(/wchar: (\d+)/.exec(readFileSync("/proc/self/io", "utf8"))![1]);

const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** The hub's channels, the same params (and ids) in every store of a run. */
function openChannels(store: ChannelStore, channels: number, states: bigint, seqs: bigint): { chansIn: Chan[]; chansOut: Chan[] } {
  const chans = (me: 0 | 1, n: number): Chan[] =>
    Array.from({ length: n }, (_, i) => {
      const peer: Address = `0x${(0x1000 + i + me * 0x800).toString(16).padStart(40, "0")}`;
      const participants: [Address, Address] = me === 0 ? [HUB, peer] : [peer, HUB];
      const record = store.putChannel({ params: { participants, payees: participants, asset: ASSET, challengePeriod: 3600n, nonce: BigInt(i) }, myIndex: me, status: "open" });
      return { id: record.channelId, me, version: states, seq: seqs };
    });
  return { chansIn: chans(1, channels / 2), chansOut: chans(0, channels / 2) };
}

/** A closed store that each run copies: the channels, and `history` routed payments a hub made before (bulk SQL, the same rows per payment). */
interface Template {
  file: string;
  history: number;
  /** Each channel's states and payments in the history. */
  states: bigint;
  seqs: bigint;
}

const randomHex = "'0x' || lower(hex(randomblob(32)))";

function makeTemplate(dir: string, config: Config, history: number): Template {
  const file = path.join(dir, `sluice-routed-writes-template-${process.pid}.db`);
  rmSync(file, { force: true });
  const store = ChannelStore.open(file);
  const db = (store as unknown as { db: Database.Database }).db;
  // Each routed payment of the history: a lock and a receipt on one incoming and one outgoing channel.
  const per = Math.ceil((2 * history) / config.channels);
  const states = 2 * Math.ceil(per / config.updates);
  openChannels(store, config.channels, 0n, 0n);
  if (history > 0) {
    const key = (expr: string) => `printf('%020d', ${expr})`;
    const rows = (n: number) => `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${n - 1})`;
    db.transaction(() => {
      db.exec(`
        ${rows(states)} INSERT INTO states (chan, version, transferred0, transferred1, payments_root, is_final, sig0, sig1, recorded_at, locks_root)
          SELECT c.id, ${key("i + 1")}, '0', '0', ${randomHex}, 0, '${SIG}', '${SIG}', 0, ${randomHex} FROM channels c, n;
        ${rows(per)} INSERT INTO payments (chan, seq, version, payer, amount, ref, leaf)
          SELECT c.id, ${key("i")}, ${key(`2 * (i / ${config.updates}) + 2`)}, 0, '1000000', ${randomHex}, ${randomHex} FROM channels c, n;
        ${rows(per)} INSERT INTO locks (channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref, removed_version, removed_reason)
          SELECT c.channel_id, ${randomHex}, ${key(`2 * (i / ${config.updates}) + 1`)}, 0, '1000000', ${randomHex}, '2000000000', ${randomHex},
            ${key(`2 * (i / ${config.updates}) + 2`)}, 'unlock' FROM channels c, n;
        ${rows(states)} INSERT INTO state_updates (channel_id, version, updates)
          SELECT c.channel_id, ${key("i + 1")}, hex(randomblob(${150 * config.updates})) FROM channels c, n;
        ${rows(history)} INSERT INTO secrets (hashlock, secret, at) SELECT ${randomHex}, ${randomHex}, i FROM n;
        ${rows(history)} INSERT INTO forwards (hashlock, asset, in_channel, in_leaf, out_channel, out_leaf, next_hop, amount_in, amount_out, fee, out_expiry, status, created_at, finished_at)
          SELECT ${randomHex}, '${ASSET}', (SELECT channel_id FROM channels WHERE id = 1 + i % ${config.channels / 2}), ${randomHex},
            (SELECT channel_id FROM channels WHERE id = 1 + ${config.channels / 2} + i % ${config.channels / 2}), ${randomHex}, '${HUB}',
            '1001000', '1000000', '1000', '1999999000', 'settled', i, i FROM n;
        ${rows(8 * history)} INSERT INTO events (type, chan, at, data)
          SELECT 'lock.added', (SELECT channel_id FROM channels WHERE id = 1 + i % ${config.channels}), i,
            '{"hashlock":"' || ${randomHex} || '","sender":0,"amount":"1000000","expiry":"2000000000","ref":"' || ${randomHex} || '","version":"12"}' FROM n;
      `);
    })();
  }
  store.close();
  return { file, history, states: BigInt(states), seqs: BigInt(per) };
}

/** One run: a copy of the template under `dir`, the variant applied, the commits replayed; the steady commits timed. */
async function runOnce(dir: string, template: Template, variant: Variant, config: Config): Promise<Run> {
  const work = mkdtempSync(path.join(dir, "sluice-routed-writes-"));
  try {
    copyFileSync(template.file, path.join(work, "node.db"));
    const store = ChannelStore.open(path.join(work, "node.db"));
    const db = (store as unknown as { db: Database.Database }).db;
    const { chansIn, chansOut } = openChannels(store, config.channels, template.states, template.seqs);
    variant.apply?.({ db, store });
    const queue = new CommitQueue(store);
    const { commits, reads } = buildCommits(config, chansIn, chansOut, BigInt(template.history) + 1n);
    // Steady commits: all six steps present (5 to fill the pipeline before, 5 to drain after).
    const steady = (t: number) => t >= 5 && t < commits.length - 5;
    let cpu = 0;
    let wall = 0;
    let readCpu = 0;
    let written = 0;
    for (const [t, ops] of commits.entries()) {
      const b0 = wchar();
      const c0 = cpuNow();
      const w0 = performance.now();
      await Promise.all(ops.map((op) => op(queue)));
      const c1 = cpuNow();
      const w1 = performance.now();
      const b1 = wchar();
      if (variant.readsFromMemory !== true) for (const read of reads[t]) read(store);
      if (steady(t)) {
        cpu += c1 - c0;
        wall += w1 - w0;
        readCpu += cpuNow() - c1;
        written += b1 - b0;
      }
    }
    const payments = config.commits * config.group;
    const routed = (config.commits + 5) * config.group;
    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    const settled = count("SELECT count(*) FROM forwards WHERE status = 'settled'");
    if (variant.writesNothing !== true && settled !== template.history + routed) throw new Error(`${variant.name}: ${settled} forwards settled, expected ${template.history + routed}`);
    const bytes = count("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    store.close();
    return { cpuUs: cpu / payments, wallUs: (wall * 1000) / payments, readUs: readCpu / payments, writtenBytes: written / payments, bytes: bytes / (template.history + routed) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The JS-side cost of the state_updates JSON (encodeMessage + stringify), per routed payment: its 4 states' share. */
function updatesJsonUs(config: Config): number {
  const chan: Chan = { id: hex(32), me: 1, version: 0n, seq: 0n };
  const lock: Lock = { channelId: chan.id, sender: 0, amount: 1_000_000n, hashlock: hex(32), expiry: 2_000_000_000n, ref: hex(32) };
  const updates: StateUpdate[] = Array.from({ length: config.updates }, () => ({ op: "unlock", lock: { ...lock, hashlock: hex(32) }, secret: hex(32) }));
  const state = { channelId: chan.id, version: 7n, transferred: [0n, 0n] as [bigint, bigint], locked: [0n, 0n] as [bigint, bigint], locksRoot: hex(32), paymentsRoot: hex(32), isFinal: false };
  const rounds = 2000;
  const c0 = cpuNow();
  for (let i = 0; i < rounds; i++) {
    const json = encodeMessage({ kind: "updates", updates, state, sig: SIG });
    if (json.kind === "updates") JSON.stringify(json.updates);
  }
  return ((cpuNow() - c0) / rounds / config.updates) * 4;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const config: Config = {
    commits: Number(process.argv[3] ?? 40),
    group: Number(process.argv[4] ?? 200),
    channels: Number(process.argv[5] ?? 100),
    updates: Number(process.argv[6] ?? 20),
  };
  const media = process.argv[7] ?? "both";
  const dirs: [string, string][] = [];
  if (media !== "disk") dirs.push(["tmpfs", "/dev/shm"]);
  if (media !== "shm") dirs.push(["disk", tmpdir()]);
  const history = Number(process.argv[8] ?? 0);
  const only = process.argv[9]?.split(",");
  const variants = VARIANTS.filter((v, i) => i === 0 || only === undefined || only.some((o) => v.name.includes(o)));
  console.log(
    `${runs} runs × ${variants.length} variants; ${config.commits} steady commits of ${config.group} routed payments, ${config.channels} channels, ${config.updates} updates a state, ${history} routed payments in the store before`,
  );
  const templates = new Map(dirs.map(([medium, dir]) => [medium, makeTemplate(dir, config, history)]));
  try {
    const results = new Map<string, Run[]>();
    // JIT and page cache warm-up: one untimed baseline run.
    await runOnce(dirs[0][1], templates.get(dirs[0][0])!, VARIANTS[0], config);
    for (let r = 0; r < runs; r++) {
      for (const [medium, dir] of dirs) {
        for (const variant of variants) {
          const run = await runOnce(dir, templates.get(medium)!, variant, config);
          const key = `${medium}|${variant.name}`;
          results.set(key, [...(results.get(key) ?? []), run]);
          // The ratio is taken run by run against the baseline of the same round.
        }
      }
      process.stdout.write(`round ${r + 1}/${runs} done\n`);
    }
    const ratioOf = (medium: string, name: string, pick: (run: Run) => number) => {
      const base = results.get(`${medium}|baseline`)!;
      return median(results.get(`${medium}|${name}`)!.map((run, i) => pick(run) / pick(base[i])));
    };
    console.log(`\nstate_updates JSON built in JS (encodeMessage + stringify): ${updatesJsonUs(config).toFixed(1)} µs CPU per routed payment`);
    console.log("\nvariant | " + dirs.map(([m]) => `${m} CPU µs (ratio) | ${m} wall µs | ${m} write() B (ratio) | ${m} reads µs`).join(" | ") + " | bytes/payment | cost to the product");
    for (const variant of variants) {
      const cells = dirs.map(([medium]) => {
        const rs = results.get(`${medium}|${variant.name}`)!;
        return `${median(rs.map((x) => x.cpuUs)).toFixed(0)} (${ratioOf(medium, variant.name, (x) => x.cpuUs).toFixed(2)}) | ${median(rs.map((x) => x.wallUs)).toFixed(0)} | ${median(rs.map((x) => x.writtenBytes)).toFixed(0)} (${ratioOf(medium, variant.name, (x) => x.writtenBytes).toFixed(2)}) | ${median(rs.map((x) => x.readUs)).toFixed(1)}`;
      });
      const bytes = median(results.get(`${dirs[0][0]}|${variant.name}`)!.map((x) => x.bytes));
      console.log(`${variant.name} | ${cells.join(" | ")} | ${bytes.toFixed(0)} | ${variant.cost}`);
    }
  } finally {
    for (const template of templates.values()) rmSync(template.file, { force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
