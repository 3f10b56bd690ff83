import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { channelId, paymentLeafHex } from "../../src/crypto/hash";
import { SluiceError } from "../../src/errors";
import {
  APPLICATION_ID,
  ChannelConflictError,
  ChannelStore,
  InvalidRecordError,
  MigrationError,
  NonIncreasingVersionError,
  OwnSignatureConflictError,
  PaymentSequenceError,
  SCHEMA_VERSION,
  SchemaTooNewError,
  StateAfterFinalError,
  StoreError,
  StoreOpenError,
  UnknownChannelError,
  type CountersignedItem,
} from "../../src/node/store";
import { MIGRATIONS, migrate, type Migration } from "../../src/node/store/migrations";
import { memoHash } from "../../src/node/paymentRef";
import {
  ETH,
  ZERO_HASH,
  type Address,
  type Hex,
  type Params,
  type Payment,
  type SignedState,
  type State,
  type Withdrawal,
} from "../../src/types";
import { CRASH_CHANNEL, paymentAt, signedAt } from "./fixtures/store-sequence";

const MAX256 = (1n << 256n) - 1n;
const MAX64 = (1n << 64n) - 1n;
const ALICE: Address = "0x00000000000000000000000000000000000a11ce";
const BOB: Address = "0x0000000000000000000000000000000000000b0b";

const CAROL: Address = "0x00000000000000000000000000000000000ca201";
const PARAMS: Params = { participants: [ALICE, BOB], payees: [CAROL, BOB], asset: ETH, challengePeriod: MAX64, nonce: MAX64 - 1n };
const CID = channelId(PARAMS);
const OTHER_PARAMS: Params = { ...PARAMS, nonce: 1n };
const OTHER = channelId(OTHER_PARAMS);

const hex = (byte: string, bytes: number): Hex => `0x${byte.repeat(bytes)}`;

function stateOf(version: bigint, over: Partial<State> = {}): State {
  return {
    channelId: CID,
    version,
    transferred: [MAX256 - version, version],
    locked: [version, MAX256 - 2n * version],
    locksRoot: hex((Number(version % 7n) + 1).toString().repeat(2), 32),
    paymentsRoot: hex((Number(version % 9n) + 1).toString().repeat(2), 32),
    isFinal: false,
    ...over,
  };
}

function signed(state: State, sigs: [Hex, Hex] = [hex("a1", 65), hex("b2", 65)]): SignedState {
  return { state, sigs };
}

function paymentOf(seq: bigint, over: Partial<Payment> = {}): Payment {
  return { channelId: CID, seq, payer: 0, amount: MAX256 - seq, ref: hex("cd", 32), ...over };
}

/** The store's files in a fresh temp dir, removed after each test. */
let dir: string;
let stores: ChannelStore[];
const dbPath = (name = "node.db") => path.join(dir, "nested", name);
function open(file = dbPath()): ChannelStore {
  const store = ChannelStore.open(file);
  stores.push(store);
  return store;
}
function withChannels(): ChannelStore {
  const store = open();
  store.putChannel({ params: PARAMS, myIndex: 0, status: "open", deposits: [MAX256, MAX256 - 1n] });
  store.putChannel({ params: OTHER_PARAMS, myIndex: 1 });
  return store;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-store-"));
  stores = [];
});
afterEach(() => {
  for (const store of stores) store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("ChannelStore", () => {
  describe("#open and migrations", () => {
    it("creates the directory and migrates an empty file to the current schema, WAL, synchronous FULL", () => {
      const store = open();
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION);
      store.close();
      const raw = new Database(dbPath(), { readonly: true });
      try {
        expect(raw.pragma("user_version", { simple: true })).to.equal(SCHEMA_VERSION);
        expect(raw.pragma("application_id", { simple: true })).to.equal(APPLICATION_ID);
        expect(raw.pragma("journal_mode", { simple: true })).to.equal("wal");
        const tables = raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
        expect(tables).to.deep.equal([
          "api_tokens",
          "block_hashes",
          "channels",
          "cursors",
          "events",
          "forwards",
          "invoice_claims",
          "invoice_payments",
          "invoices",
          "lock_resolutions",
          "lock_settlement_hashlocks",
          "lock_settlements",
          "locks",
          "memos",
          "node_identity",
          "own_signatures",
          "payments",
          "peers",
          "pending_transactions",
          "secrets",
          "sqlite_sequence",
          "state_updates",
          "states",
          "tower_clients",
          "tower_states",
          "webhooks",
          "withdrawals",
        ]);
      } finally {
        raw.close();
      }
    });

    it("keeps every record across close and reopen", () => {
      let store = withChannels();
      store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n));
      store.recordOwnSignature(CID, stateOf(2n), hex("a1", 65));
      store.setCursor("adjudicator", 12_345_678n);
      store.close();
      store = open();
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION);
      expect(store.listChannels().map((c) => c.channelId)).to.deep.equal([CID, OTHER]);
      expect(store.latest(CID)).to.deep.equal(signed(stateOf(1n)));
      expect(store.payment(CID, 0n)?.payment).to.deep.equal(paymentOf(0n));
      expect(store.ownSignatureAt(CID, 2n)).to.deep.equal({ state: stateOf(2n), sig: hex("a1", 65) });
      expect(store.getCursor("adjudicator")).to.equal(12_345_678n);
    });

    it("refuses a database with a newer schema version, and leaves it untouched", () => {
      open().close();
      const raw = new Database(dbPath());
      raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      raw.close();
      let error: unknown;
      try {
        ChannelStore.open(dbPath());
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(SchemaTooNewError);
      expect(error).to.be.instanceOf(SluiceError);
      expect((error as SchemaTooNewError).found).to.equal(SCHEMA_VERSION + 1);
      expect((error as SchemaTooNewError).supported).to.equal(SCHEMA_VERSION);
      const check = new Database(dbPath(), { readonly: true });
      expect(check.pragma("user_version", { simple: true })).to.equal(SCHEMA_VERSION + 1);
      check.close();
    });

    it("refuses another application's database and a file that is not a database", () => {
      fs.mkdirSync(path.dirname(dbPath()), { recursive: true });
      const foreign = new Database(dbPath("foreign.db"));
      foreign.exec("CREATE TABLE accounts (id INTEGER)");
      foreign.close();
      expect(() => ChannelStore.open(dbPath("foreign.db"))).to.throw(StoreOpenError, /not a Sluice store/);
      const other = new Database(dbPath("other.db"));
      other.pragma("application_id = 42");
      other.close();
      expect(() => ChannelStore.open(dbPath("other.db"))).to.throw(StoreOpenError, /application_id 42/);
      fs.writeFileSync(dbPath("text.db"), "this is not sqlite ".repeat(100));
      expect(() => ChannelStore.open(dbPath("text.db"))).to.throw(StoreOpenError);
      expect(() => ChannelStore.open(":memory:")).to.throw(StoreOpenError);
    });

    it("applies migrations in order, each in its own transaction; a failing one leaves the version before it", () => {
      fs.mkdirSync(dir, { recursive: true });
      const db = new Database(path.join(dir, "m.db"));
      try {
        const m1: Migration = { version: 1, description: "a", up: (d) => d.exec("CREATE TABLE a (x)") };
        const broken: Migration = {
          version: 2,
          description: "b fails halfway",
          up: (d) => {
            d.exec("CREATE TABLE b (x)");
            throw new Error("boom");
          },
        };
        let error: unknown;
        try {
          migrate(db, [m1, broken]);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(MigrationError);
        expect((error as MigrationError).version).to.equal(2);
        expect(((error as MigrationError).cause as Error).message).to.equal("boom");
        expect(db.pragma("user_version", { simple: true })).to.equal(1);
        const tables = () => db.prepare("SELECT name FROM sqlite_schema ORDER BY name").pluck().all();
        expect(tables()).to.deep.equal(["a"]);

        const m2: Migration = { version: 2, description: "b", up: (d) => d.exec("CREATE TABLE b (x)") };
        expect(migrate(db, [m1, m2])).to.deep.equal({ from: 1, to: 2 });
        expect(migrate(db, [m1, m2])).to.deep.equal({ from: 2, to: 2 });
        expect(tables()).to.deep.equal(["a", "b"]);
        expect(() => migrate(db, [m1])).to.throw(SchemaTooNewError);
        expect(() => migrate(db, [m2, m1])).to.throw(StoreError, /expected 1/);
      } finally {
        db.close();
      }
    });

    it("migrates a store of protocol v1: payees are the participants, the channels are marked protocol 1, states have no locks", () => {
      fs.mkdirSync(path.dirname(dbPath()), { recursive: true });
      const db = new Database(dbPath());
      const v1: Params = { ...PARAMS, payees: [ALICE, BOB] };
      try {
        migrate(db, MIGRATIONS.slice(0, 3));
        db.prepare(
          `INSERT INTO channels (channel_id, participant0, participant1, asset, challenge_period, nonce, my_index, peer, status,
             deposit0, deposit1, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 'open', '5', '6', 1, 1)`,
        ).run(CID, ALICE, BOB, ETH, MAX64.toString(), (MAX64 - 1n).toString(), BOB);
        db.prepare(
          `INSERT INTO states (chan, version, transferred0, transferred1, payments_root, is_final, sig0, sig1, payment_seq, recorded_at, payment_count)
             VALUES (1, ?, '3', '4', ?, 0, ?, ?, NULL, 1, 0)`,
        ).run("1".padStart(20, "0"), hex("ab", 32), hex("a1", 65), hex("b2", 65));
      } finally {
        db.close();
      }
      const store = open();
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION);
      const record = store.getChannel(CID)!;
      expect(record).to.deep.include({ params: v1, protocol: 1, deposits: [5n, 6n], withdrawn: [0n, 0n] });
      expect(store.latest(CID)!.state).to.deep.equal({
        channelId: CID,
        version: 1n,
        transferred: [3n, 4n],
        locked: [0n, 0n],
        locksRoot: ZERO_HASH,
        paymentsRoot: hex("ab", 32),
        isFinal: false,
      });
    });
  });

  describe("channels", () => {
    it("round-trips a channel with uint64 and uint256 extremes exactly", () => {
      const store = open();
      const stored = store.putChannel({ params: PARAMS, myIndex: 1, status: "open", deposits: [MAX256, MAX256 - 1n] });
      const expected = {
        channelId: CID,
        params: PARAMS,
        myIndex: 1,
        peer: ALICE,
        status: "open",
        deposits: [MAX256, MAX256 - 1n],
        withdrawn: [0n, 0n],
        protocol: 2,
        finalVersion: null,
      };
      expect(stored).to.deep.include(expected);
      store.close();
      const again = open().getChannel(CID);
      expect(again).to.deep.include(expected);
      expect(again!.createdAt).to.be.a("number").and.equal(stored.createdAt);
    });

    it("derives the id from the params, normalises hex to lower case, and is idempotent", () => {
      const store = open();
      const upper: Params = { ...PARAMS, participants: [ALICE, "0x0000000000000000000000000000000000000B0B"] };
      const first = store.putChannel({ params: upper, myIndex: 0 });
      expect(first.channelId).to.equal(CID);
      expect(first.params.participants[1]).to.equal(BOB);
      expect(first.status).to.equal("opening");
      expect(first.deposits).to.deep.equal([0n, 0n]);
      const second = store.putChannel({ params: PARAMS, myIndex: 0, status: "closed" });
      expect(second).to.deep.equal(first);
      expect(() => store.putChannel({ params: PARAMS, myIndex: 1 })).to.throw(ChannelConflictError);
      expect(store.getChannel(CID.toUpperCase().replace("0X", "0x") as Hex)?.channelId).to.equal(CID);
      expect(store.getChannel(OTHER)).to.equal(null);
    });

    it("updates status, deposits and withdrawals, lists by status, and refuses unknown channels", () => {
      const store = withChannels();
      store.setStatus(OTHER, "disputed");
      store.setDeposits(OTHER, [MAX256, 7n]);
      store.setWithdrawn(OTHER, [MAX256 - 1n, 3n]);
      expect(store.getChannel(OTHER)).to.deep.include({ status: "disputed", deposits: [MAX256, 7n], withdrawn: [MAX256 - 1n, 3n] });
      expect(() => store.setWithdrawn(OTHER, [0n, MAX256 + 1n]))
        .to.throw(InvalidRecordError)
        .with.property("field", "withdrawn[1]");
      expect(store.listChannels({ status: "disputed" }).map((c) => c.channelId)).to.deep.equal([OTHER]);
      expect(store.listChannels({ status: "open" }).map((c) => c.channelId)).to.deep.equal([CID]);
      const unknown = hex("77", 32);
      expect(() => store.setStatus(unknown, "open")).to.throw(UnknownChannelError);
      expect(() => store.setDeposits(unknown, [1n, 1n])).to.throw(UnknownChannelError);
      expect(() => store.setWithdrawn(unknown, [1n, 1n])).to.throw(UnknownChannelError);
      expect(() => store.latest(unknown)).to.throw(UnknownChannelError);
      expect(() => store.recordCountersigned(unknown, signed(stateOf(1n, { channelId: unknown })), null)).to.throw(
        UnknownChannelError,
      );
    });

    const badChannels: [string, () => unknown, string][] = [
      [
        "a participant that is not an address",
        () => ({ params: { ...PARAMS, participants: [ALICE, "0x12"] }, myIndex: 0 }),
        "params.participants[1]",
      ],
      [
        "a payee that is not an address",
        () => ({ params: { ...PARAMS, payees: [ALICE, "0xb0b"] }, myIndex: 0 }),
        "params.payees[1]",
      ],
      ["no payees", () => ({ params: { ...PARAMS, payees: undefined }, myIndex: 0 }), "params.payees"],
      [
        "a uint64 nonce above 2^64 - 1",
        () => ({ params: { ...PARAMS, nonce: MAX64 + 1n }, myIndex: 0 }),
        "params.nonce",
      ],
      [
        "a challenge period as a number",
        () => ({ params: { ...PARAMS, challengePeriod: 60 }, myIndex: 0 }),
        "params.challengePeriod",
      ],
      ["index 2", () => ({ params: PARAMS, myIndex: 2 }), "myIndex"],
      ["an unknown status", () => ({ params: PARAMS, myIndex: 0, status: "gone" }), "status"],
      ["a deposit beyond uint256", () => ({ params: PARAMS, myIndex: 0, deposits: [0n, MAX256 + 1n] }), "deposits[1]"],
      ["a negative deposit", () => ({ params: PARAMS, myIndex: 0, deposits: [-1n, 0n] }), "deposits[0]"],
    ];
    for (const [description, input, field] of badChannels) {
      it(`refuses a channel with ${description} (field ${field})`, () => {
        const store = open();
        expect(() => store.putChannel(input() as never))
          .to.throw(InvalidRecordError)
          .with.property("field", field);
        expect(store.listChannels()).to.deep.equal([]);
      });
    }
  });

  describe("countersigned states and payments", () => {
    it("round-trips states, signatures and payments with uint256 and uint64 extremes exactly", () => {
      const store = withChannels();
      const opening = signed(stateOf(0n, { transferred: [0n, 0n], paymentsRoot: ZERO_HASH }), ["0x", "0x"]);
      expect(store.recordCountersigned(CID, opening, null)).to.equal(true);
      const s1 = signed(stateOf(1n, { transferred: [MAX256, MAX256 - 1n] }), [hex("1b", 65), hex("1c", 200)]);
      const p0 = paymentOf(0n, { amount: MAX256, payer: 1 });
      expect(store.recordCountersigned(CID, s1, p0)).to.equal(true);
      const sTop = signed(stateOf(MAX64, { isFinal: true }));
      const p1 = paymentOf(1n, { amount: 1n });
      expect(store.recordCountersigned(CID, sTop, p1)).to.equal(true);

      for (const reopen of [false, true]) {
        if (reopen) store.close();
        const s = reopen ? open() : store;
        expect(s.latest(CID)).to.deep.equal(sTop);
        expect(s.stateAt(CID, 0n)).to.deep.equal(opening);
        expect(s.stateAt(CID, 1n)).to.deep.equal(s1);
        expect(s.stateAt(CID, MAX64)).to.deep.equal(sTop);
        expect(s.stateAt(CID, 2n)).to.equal(null);
        const committedAt = s.payment(CID, 0n)!.committedAt;
        expect(committedAt).to.be.a("number");
        expect(s.payment(CID, 0n)).to.deep.equal({ payment: p0, leaf: paymentLeafHex(p0), version: 1n, committedAt });
        expect(s.payment(CID, 1n)).to.deep.equal({ payment: p1, leaf: paymentLeafHex(p1), version: MAX64, committedAt: s.payment(CID, 1n)!.committedAt });
        expect(s.payment(CID, 2n)).to.equal(null);
        expect(s.paymentCount(CID)).to.equal(2n);
        expect(s.leafHashes(CID)).to.deep.equal([paymentLeafHex(p0), paymentLeafHex(p1)]);
        expect(s.getChannel(CID)!.finalVersion).to.equal(MAX64);
        expect(s.latest(OTHER)).to.equal(null);
        expect(s.paymentCount(OTHER)).to.equal(0n);
        expect(s.leafHashes(OTHER)).to.deep.equal([]);
      }
    });

    it("pages payments by seq", () => {
      const store = withChannels();
      const items: CountersignedItem[] = [];
      for (let v = 1n; v <= 25n; v++)
        items.push({ channelId: CID, signed: signed(stateOf(v)), payment: paymentOf(v - 1n) });
      expect(store.recordCountersignedBatch(items)).to.equal(25);
      expect(store.payments(CID).map((p) => p.payment.seq)).to.have.length(25);
      const page = store.payments(CID, { fromSeq: 10n, limit: 5 });
      expect(page.map((p) => p.payment.seq)).to.deep.equal([10n, 11n, 12n, 13n, 14n]);
      expect(page.map((p) => p.version)).to.deep.equal([11n, 12n, 13n, 14n, 15n]);
      expect(store.payments(CID, { fromSeq: 25n })).to.deep.equal([]);
      expect(() => store.payments(CID, { limit: 0 }))
        .to.throw(InvalidRecordError)
        .with.property("field", "limit");
    });

    it("keeps each payment's commit time and the memo its ref was hashed from, and finds payments by ref", () => {
      let clock = 1_700_000_000_000;
      const store = ChannelStore.open(dbPath(), { now: () => clock });
      stores.push(store);
      store.putChannel({ params: PARAMS, myIndex: 0, status: "open", deposits: [MAX256, MAX256 - 1n] });
      const memo = "order #42 — café";
      const ref = memoHash(memo);
      store.putMemo(ref, memo);
      store.putMemo(ref, memo);
      const other = hex("ee", 32);
      for (let v = 1n; v <= 4n; v++) {
        clock += 1000;
        store.recordCountersigned(CID, signed(stateOf(v)), paymentOf(v - 1n, { ref: v % 2n === 0n ? ref : other }));
      }
      expect(store.payment(CID, 1n)).to.deep.include({ committedAt: 1_700_000_002_000, memo });
      expect(store.payment(CID, 0n)).to.deep.include({ committedAt: 1_700_000_001_000 });
      expect(store.payment(CID, 0n)).to.not.have.property("memo");
      const byRef = store.payments(CID, { ref });
      expect(byRef.map((p) => [p.payment.seq, p.memo, p.committedAt])).to.deep.equal([
        [1n, memo, 1_700_000_002_000],
        [3n, memo, 1_700_000_004_000],
      ]);
      expect(store.payments(CID, { ref, fromSeq: 2n, limit: 1 }).map((p) => p.payment.seq)).to.deep.equal([3n]);
      expect(store.payments(CID, { ref: hex("99", 32) })).to.deep.equal([]);
      expect(() => store.payments(CID, { ref: "0x12" })).to.throw(InvalidRecordError).with.property("field", "ref");
      expect(() => store.putMemo("0x12", memo)).to.throw(InvalidRecordError).with.property("field", "ref");
    });

    it("filters a page by payer and commit time, combined with ref and the seq cursor", () => {
      let clock = 1_700_000_000_000;
      const store = ChannelStore.open(dbPath(), { now: () => clock });
      stores.push(store);
      store.putChannel({ params: PARAMS, myIndex: 0, status: "open", deposits: [MAX256, MAX256 - 1n] });
      const ref = hex("ab", 32);
      for (let v = 1n; v <= 8n; v++) {
        clock += 1000;
        store.recordCountersigned(CID, signed(stateOf(v)), paymentOf(v - 1n, { payer: v % 2n === 0n ? 1 : 0, ref: v <= 4n ? ref : hex("cd", 32) }));
      }
      const seqs = (query: Parameters<ChannelStore["payments"]>[1]) => store.payments(CID, query).map((p) => p.payment.seq);
      expect(seqs({ payer: 1 })).to.deep.equal([1n, 3n, 5n, 7n]);
      expect(seqs({ payer: 0, fromSeq: 3n, limit: 2 })).to.deep.equal([4n, 6n]);
      // since is inclusive, until exclusive: payment seq n was committed at T0 + (n + 1) s.
      expect(seqs({ since: 1_700_000_003_000, until: 1_700_000_006_000 })).to.deep.equal([2n, 3n, 4n]);
      expect(seqs({ since: 1_700_000_003_000, payer: 1, ref })).to.deep.equal([3n]);
      expect(seqs({ until: 1_700_000_000_500 })).to.deep.equal([]);
      expect(() => store.payments(CID, { since: -1 })).to.throw(InvalidRecordError).with.property("field", "since");
      expect(() => store.payments(CID, { payer: 2 as 0 })).to.throw(InvalidRecordError).with.property("field", "payer");
    });

    it("migrates payments stored before memos: they read with their state's time and no memo", () => {
      fs.mkdirSync(path.dirname(dbPath()), { recursive: true });
      const db = new Database(dbPath());
      try {
        migrate(db, MIGRATIONS.slice(0, 5));
        db.prepare(
          `INSERT INTO channels (channel_id, participant0, participant1, payee0, payee1, asset, challenge_period, nonce, my_index, peer, status,
             deposit0, deposit1, protocol, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, '1', '1', 0, ?, 'open', '5', '6', 2, 1, 1)`,
        ).run(CID, ALICE, BOB, CAROL, BOB, ETH, BOB);
        db.prepare(
          `INSERT INTO states (chan, version, transferred0, transferred1, payments_root, is_final, sig0, sig1, payment_seq, recorded_at, payment_count)
             VALUES (1, ?, '3', '4', ?, 0, ?, ?, ?, 1234567, 1)`,
        ).run("1".padStart(20, "0"), hex("ab", 32), hex("a1", 65), hex("b2", 65), "0".padStart(20, "0"));
        db.prepare("INSERT INTO payments (chan, seq, version, payer, amount, ref, leaf) VALUES (1, ?, ?, 0, '3', ?, ?)").run(
          "0".padStart(20, "0"),
          "1".padStart(20, "0"),
          hex("cd", 32),
          hex("ef", 32),
        );
      } finally {
        db.close();
      }
      const store = open();
      expect(store.schemaVersion).to.equal(SCHEMA_VERSION);
      const [old] = store.payments(CID, { ref: hex("cd", 32) });
      expect(old).to.deep.equal({ payment: { channelId: CID, seq: 0n, payer: 0, amount: 3n, ref: hex("cd", 32) }, leaf: hex("ef", 32), version: 1n, committedAt: 1234567 });
    });

    it("stores the leaves the caller's log computed, or hashes the payments itself; refuses leaves that don't fit, writing nothing", () => {
      const store = withChannels();
      const leaf = paymentLeafHex(paymentOf(0n));
      expect(store.recordCountersigned(CID, signed(stateOf(1n)), [paymentOf(0n)], [leaf])).to.equal(true);
      expect(store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(1n))).to.equal(true);
      expect(store.leafHashes(CID)).to.deep.equal([leaf, paymentLeafHex(paymentOf(1n))]);
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), [paymentOf(2n)], []))
        .to.throw(InvalidRecordError)
        .with.property("field", "leaves");
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), [paymentOf(2n)], ["0x12"]))
        .to.throw(InvalidRecordError)
        .with.property("field", "leaves[0]");
      expect(store.latest(CID)!.state.version).to.equal(2n);
      expect(store.paymentCount(CID)).to.equal(2n);
    });

    it("accepts only strictly increasing versions", () => {
      const store = withChannels();
      store.recordCountersigned(CID, signed(stateOf(5n)), paymentOf(0n));
      const stale = (v: bigint, payment: Payment | null) => () =>
        store.recordCountersigned(CID, signed(stateOf(v)), payment);
      for (const v of [4n, 5n, 0n]) {
        expect(stale(v, null)).to.throw(NonIncreasingVersionError).that.deep.includes({ version: v, latest: 5n });
      }
      let error: unknown;
      try {
        store.recordCountersigned(CID, signed(stateOf(3n)), null);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(NonIncreasingVersionError);
      expect(error).to.deep.include({ channelId: CID, version: 3n, latest: 5n });
      // Same version, other contents: not a duplicate.
      expect(() =>
        store.recordCountersigned(CID, signed(stateOf(5n, { transferred: [1n, 1n] })), paymentOf(0n)),
      ).to.throw(NonIncreasingVersionError);
      expect(store.recordCountersigned(CID, signed(stateOf(6n)), null)).to.equal(true);
      expect(store.latest(CID)!.state.version).to.equal(6n);
    });

    it("is idempotent for a duplicate of a stored state and payment (crash replay), and keeps the stored one", () => {
      const store = withChannels();
      const s1 = signed(stateOf(1n));
      expect(store.recordCountersigned(CID, s1, paymentOf(0n))).to.equal(true);
      expect(store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(1n))).to.equal(true);
      // Replays, of the latest and of an older one; hex case does not matter.
      expect(store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(1n))).to.equal(false);
      const upperRoot = stateOf(1n, { paymentsRoot: s1.state.paymentsRoot.toUpperCase().replace("0X", "0x") as Hex });
      expect(store.recordCountersigned(CID, signed(upperRoot), paymentOf(0n))).to.equal(false);
      // Re-signed copy of the same state: kept as first stored.
      expect(
        store.recordCountersigned(CID, signed(stateOf(1n), [hex("99", 65), hex("98", 65)]), paymentOf(0n)),
      ).to.equal(false);
      expect(store.stateAt(CID, 1n)).to.deep.equal(s1);
      // Same state with another payment, or without its payment: a conflict, not a duplicate.
      expect(() => store.recordCountersigned(CID, s1, paymentOf(0n, { amount: 1n }))).to.throw(
        NonIncreasingVersionError,
      );
      expect(() => store.recordCountersigned(CID, s1, null)).to.throw(NonIncreasingVersionError);
      expect(store.paymentCount(CID)).to.equal(2n);
      expect(
        store.recordCountersignedBatch([
          { channelId: CID, signed: signed(stateOf(2n)), payment: paymentOf(1n) },
          { channelId: CID, signed: signed(stateOf(3n)), payment: paymentOf(2n) },
        ]),
      ).to.equal(1);
    });

    it("requires each payment at the next seq of the log and in the state's channel", () => {
      const store = withChannels();
      const gap = () => store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(1n));
      expect(gap).to.throw(PaymentSequenceError).that.deep.includes({ expected: 0n, actual: 1n });
      store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n));
      store.recordCountersigned(CID, signed(stateOf(2n)), null);
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), paymentOf(0n))).to.throw(PaymentSequenceError);
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), paymentOf(1n, { channelId: OTHER })))
        .to.throw(InvalidRecordError)
        .with.property("field", "payment.channelId");
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n, { channelId: OTHER })), null))
        .to.throw(InvalidRecordError)
        .with.property("field", "signed.state.channelId");
      expect(store.recordCountersigned(CID, signed(stateOf(3n)), paymentOf(1n))).to.equal(true);
      expect(store.paymentCount(CID)).to.equal(2n);
    });

    const badWrites: [string, () => [SignedState, Payment | null], string][] = [
      ["a version beyond uint64", () => [signed(stateOf(MAX64 + 1n)), null], "signed.state.version"],
      ["a negative version", () => [signed(stateOf(-1n)), null], "signed.state.version"],
      [
        "a version as a number",
        () => [signed(stateOf(1n, { version: 1 as unknown as bigint })), null],
        "signed.state.version",
      ],
      [
        "a transfer beyond uint256",
        () => [signed(stateOf(1n, { transferred: [MAX256 + 1n, 0n] })), null],
        "signed.state.transferred[0]",
      ],
      [
        "a negative transfer",
        () => [signed(stateOf(1n, { transferred: [0n, -1n] })), null],
        "signed.state.transferred[1]",
      ],
      [
        "one transfer",
        () => [signed(stateOf(1n, { transferred: [1n] as unknown as [bigint, bigint] })), null],
        "signed.state.transferred",
      ],
      ["a short root", () => [signed(stateOf(1n, { paymentsRoot: "0x1234" })), null], "signed.state.paymentsRoot"],
      [
        "a root that is not hex",
        () => [signed(stateOf(1n, { paymentsRoot: `0x${"zz".repeat(32)}` })), null],
        "signed.state.paymentsRoot",
      ],
      [
        "isFinal as a number",
        () => [signed(stateOf(1n, { isFinal: 1 as unknown as boolean })), null],
        "signed.state.isFinal",
      ],
      [
        "an empty signature after version 0",
        () => [signed(stateOf(1n), [hex("aa", 65), "0x"]), null],
        "signed.sigs[1]",
      ],
      ["an odd-length signature", () => [signed(stateOf(1n), ["0xabc", hex("aa", 65)]), null], "signed.sigs[0]"],
      [
        "one signature",
        () => [{ state: stateOf(1n), sigs: [hex("aa", 65)] as unknown as [Hex, Hex] }, null],
        "signed.sigs",
      ],
      ["a locked amount beyond uint256", () => [signed(stateOf(1n, { locked: [0n, MAX256 + 1n] })), null], "signed.state.locked[1]"],
      ["a short locks root", () => [signed(stateOf(1n, { locksRoot: "0x00" })), null], "signed.state.locksRoot"],
      [
        "a payment amount beyond uint256",
        () => [signed(stateOf(1n)), paymentOf(0n, { amount: MAX256 + 1n })],
        "payment.amount",
      ],
      [
        "a payment amount as a number",
        () => [signed(stateOf(1n)), paymentOf(0n, { amount: 5 as unknown as bigint })],
        "payment.amount",
      ],
      ["payer 2", () => [signed(stateOf(1n)), paymentOf(0n, { payer: 2 as 0 })], "payment.payer"],
      ["a short ref", () => [signed(stateOf(1n)), paymentOf(0n, { ref: "0x00" })], "payment.ref"],
      ["a seq beyond uint64", () => [signed(stateOf(1n)), paymentOf(MAX64 + 1n)], "payment.seq"],
    ];
    for (const [description, input, field] of badWrites) {
      it(`refuses ${description} (field ${field}) and writes nothing`, () => {
        const store = withChannels();
        const [s, p] = input();
        expect(() => store.recordCountersigned(CID, s, p))
          .to.throw(InvalidRecordError)
          .with.property("field", field);
        expect(store.latest(CID)).to.equal(null);
        expect(store.paymentCount(CID)).to.equal(0n);
      });
    }
  });

  describe("own signatures", () => {
    it("records a signature before it is sent and allows re-sending the same state only", () => {
      const store = withChannels();
      expect(store.ownSignatureAt(CID, 1n)).to.equal(null);
      expect(store.latestOwnSignature(CID)).to.equal(null);
      const first = store.recordOwnSignature(CID, stateOf(1n), hex("a1", 65));
      expect(first).to.deep.equal({ state: stateOf(1n), sig: hex("a1", 65) });
      // Same state again (a re-send after a restart): the stored signature comes back.
      expect(store.recordOwnSignature(CID, stateOf(1n), hex("ff", 65))).to.deep.equal(first);
      expect(store.ownSignatureAt(CID, 1n)).to.deep.equal(first);
      // Another state at the same version: refused.
      let error: unknown;
      try {
        store.recordOwnSignature(CID, stateOf(1n, { transferred: [0n, 2n] }), hex("a1", 65));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(OwnSignatureConflictError);
      expect(error).to.deep.include({ channelId: CID, version: 1n });
      // Nor may another state at that version be stored as countersigned.
      expect(() => store.recordCountersigned(CID, signed(stateOf(1n, { isFinal: true })), paymentOf(0n))).to.throw(
        OwnSignatureConflictError,
      );
      expect(store.latest(CID)).to.equal(null);
      expect(store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n))).to.equal(true);
      expect(store.latestOwnSignature(CID)).to.deep.equal(first);
    });

    it("treats a countersigned state as signed by this side at its version", () => {
      const store = withChannels();
      store.recordCountersigned(CID, signed(stateOf(1n), [hex("a1", 65), hex("b2", 65)]), paymentOf(0n));
      store.recordCountersigned(OTHER, signed(stateOf(1n, { channelId: OTHER }), [hex("a1", 65), hex("b2", 65)]), null);
      expect(store.ownSignatureAt(CID, 1n)).to.deep.equal({ state: stateOf(1n), sig: hex("a1", 65) });
      // In OTHER this node is participant 1.
      expect(store.ownSignatureAt(OTHER, 1n)?.sig).to.equal(hex("b2", 65));
      expect(() => store.recordOwnSignature(CID, stateOf(1n, { paymentsRoot: ZERO_HASH }), hex("a1", 65))).to.throw(
        OwnSignatureConflictError,
      );
      expect(store.recordOwnSignature(CID, stateOf(1n), hex("00", 65)).sig).to.equal(hex("a1", 65));
      store.recordOwnSignature(CID, stateOf(2n), hex("a2", 65));
      expect(store.latestOwnSignature(CID)).to.deep.equal({ state: stateOf(2n), sig: hex("a2", 65) });
    });

    it("signs and stores nothing after a final state", () => {
      const store = withChannels();
      store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n));
      store.recordOwnSignature(CID, stateOf(2n, { isFinal: true }), hex("f1", 65));
      expect(store.getChannel(CID)!.finalVersion).to.equal(2n);
      expect(() => store.recordOwnSignature(CID, stateOf(3n), hex("a3", 65)))
        .to.throw(StateAfterFinalError)
        .that.deep.includes({ version: 3n, finalVersion: 2n });
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), paymentOf(1n))).to.throw(StateAfterFinalError);
      expect(store.recordCountersigned(CID, signed(stateOf(2n, { isFinal: true })), null)).to.equal(true);
      expect(store.latest(CID)!.state.isFinal).to.equal(true);
    });

    it("validates the signature and state, naming the field", () => {
      const store = withChannels();
      expect(() => store.recordOwnSignature(CID, stateOf(1n), "0x"))
        .to.throw(InvalidRecordError)
        .with.property("field", "sig");
      expect(() => store.recordOwnSignature(CID, stateOf(1n, { version: MAX64 + 1n }), hex("a1", 65)))
        .to.throw(InvalidRecordError)
        .with.property("field", "state.version");
      expect(store.ownSignatureAt(CID, 1n)).to.equal(null);
    });
  });

  describe("group commits", () => {
    const item = (v: bigint, over: Partial<Payment> = {}): CountersignedItem => ({
      channelId: CID,
      signed: signed(stateOf(v)),
      payment: paymentOf(v - 1n, over),
    });

    it("writes a batch over several channels in one transaction", () => {
      const store = withChannels();
      const items = [
        item(1n),
        item(2n),
        { channelId: OTHER, signed: signed(stateOf(9n, { channelId: OTHER })), payment: null },
        item(3n),
      ];
      expect(store.recordCountersignedBatch(items)).to.equal(4);
      expect(store.latest(CID)!.state.version).to.equal(3n);
      expect(store.latest(OTHER)!.state.version).to.equal(9n);
      expect(store.paymentCount(CID)).to.equal(3n);
      expect(store.recordCountersignedBatch([])).to.equal(0);
    });

    const badBatches: [
      string,
      (items: CountersignedItem[]) => void,
      new (...args: never[]) => StoreError,
      string | null,
    ][] = [
      [
        "an invalid amount",
        (items) => (items[3] = item(4n, { amount: -1n })),
        InvalidRecordError,
        "items[3].payment.amount",
      ],
      [
        "a version going back",
        (items) => (items[4] = { ...item(2n), signed: signed(stateOf(2n, { transferred: [1n, 1n] })) }),
        NonIncreasingVersionError,
        null,
      ],
      [
        "a payment seq gap",
        (items) => (items[2] = { ...item(3n), payment: paymentOf(5n) }),
        PaymentSequenceError,
        null,
      ],
      [
        "an unknown channel",
        (items) => (items[4] = { ...item(5n), channelId: hex("77", 32) }),
        UnknownChannelError,
        null,
      ],
      [
        "a malformed item",
        (items) => (items[1] = null as unknown as CountersignedItem),
        InvalidRecordError,
        "items[1].item",
      ],
    ];
    for (const [description, spoil, errorClass, field] of badBatches) {
      it(`writes nothing of a batch with ${description}`, () => {
        const store = withChannels();
        store.recordCountersigned(CID, signed(stateOf(0n), ["0x", "0x"]), null);
        const items = [1n, 2n, 3n, 4n, 5n].map((v) => item(v));
        spoil(items);
        let error: unknown;
        try {
          store.recordCountersignedBatch(items);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(errorClass);
        if (field !== null) expect(error).to.have.property("field", field);
        expect(store.latest(CID)!.state.version).to.equal(0n);
        expect(store.paymentCount(CID)).to.equal(0n);
        expect(store.recordCountersignedBatch([1n, 2n].map((v) => item(v)))).to.equal(2);
      });
    }

    it("commits every write of transaction(fn) together, or none of them", () => {
      const store = withChannels();
      const result = store.transaction(() => {
        store.recordOwnSignature(CID, stateOf(1n), hex("a1", 65));
        store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n));
        store.setCursor("w", 5);
        // A nested transaction is a savepoint: its failure is caught here and undone alone.
        expect(() =>
          store.transaction(() => {
            store.setStatus(CID, "closing");
            throw new Error("inner");
          }),
        ).to.throw("inner");
        return "done";
      });
      expect(result).to.equal("done");
      expect(store.getCursor("w")).to.equal(5n);
      expect(store.getChannel(CID)!.status).to.equal("open");

      expect(() =>
        store.transaction(() => {
          store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(1n));
          store.setCursor("w", 6n);
          store.setStatus(CID, "closing");
          throw new Error("abort");
        }),
      ).to.throw("abort");
      expect(store.latest(CID)!.state.version).to.equal(1n);
      expect(store.paymentCount(CID)).to.equal(1n);
      expect(store.getCursor("w")).to.equal(5n);
      expect(store.getChannel(CID)!.status).to.equal("open");
      // What the aborted transaction recorded is forgotten too: the same state and payment go in again.
      expect(store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(1n))).to.equal(true);
      expect(() => store.recordCountersigned(CID, signed(stateOf(3n)), paymentOf(3n))).to.throw(PaymentSequenceError);
      expect(store.paymentCount(CID)).to.equal(2n);
    });

    it("forgets a channel whose insert was rolled back, even if a new channel reuses its row", () => {
      const store = open();
      expect(() =>
        store.transaction(() => {
          store.putChannel({ params: PARAMS, myIndex: 0 });
          store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n));
          throw new Error("abort");
        }),
      ).to.throw("abort");
      store.putChannel({ params: OTHER_PARAMS, myIndex: 0 });
      expect(() => store.recordCountersigned(CID, signed(stateOf(1n)), paymentOf(0n))).to.throw(UnknownChannelError);
      expect(store.latest(OTHER)).to.equal(null);
    });
  });

  describe("withdrawals", () => {
    const withdrawal = (participant: 0 | 1, total: bigint, over: Partial<Withdrawal> = {}): Withdrawal => ({
      channelId: CID,
      participant,
      total,
      expiry: MAX64,
      ...over,
    });

    it("keeps this side's proposals and the withdrawals both signed, with their status, across a reopen; a later record of the same total replaces it", () => {
      let store = withChannels();
      store.putWithdrawal(CID, { withdrawal: withdrawal(0, MAX256), sigs: [hex("a1", 65), "0x"], status: "proposed" });
      store.putWithdrawal(CID, { withdrawal: withdrawal(1, 10n), sigs: [hex("a1", 65), hex("b2", 65)], status: "signed" });
      store.putWithdrawal(CID, { withdrawal: withdrawal(1, 9n), sigs: [hex("a1", 65), hex("b2", 65)], status: "expired" });
      store.close();
      store = open();
      expect(store.withdrawals(CID).map((w) => [w.withdrawal.participant, w.withdrawal.total, w.status])).to.deep.equal([
        [0, MAX256, "proposed"],
        [1, 9n, "expired"],
        [1, 10n, "signed"],
      ]);
      expect(store.withdrawals(CID, { live: true }).map((w) => w.withdrawal.total)).to.deep.equal([MAX256, 10n]);
      // The proposal countersigned, then executed by a transaction this node sent.
      store.putWithdrawal(CID, { withdrawal: withdrawal(0, MAX256), sigs: [hex("a1", 65), hex("b2", 65)], status: "signed" });
      store.putWithdrawal(CID, { withdrawal: withdrawal(0, MAX256), sigs: [hex("a1", 65), hex("b2", 65)], status: "executed", txHash: hex("cc", 32) });
      store.putWithdrawal(CID, { withdrawal: withdrawal(0, MAX256), sigs: [hex("a1", 65), hex("b2", 65)], status: "executed" });
      expect(store.withdrawals(CID)[0]).to.deep.equal({
        withdrawal: withdrawal(0, MAX256),
        sigs: [hex("a1", 65), hex("b2", 65)],
        status: "executed",
        txHash: hex("cc", 32),
      });
      expect(store.withdrawals(OTHER)).to.deep.equal([]);
      expect(() => store.withdrawals(hex("77", 32))).to.throw(UnknownChannelError);
    });

    const badWithdrawals: [string, () => unknown, string][] = [
      ["another channel's", () => ({ withdrawal: withdrawal(0, 1n, { channelId: OTHER }), sigs: ["0x", "0x"], status: "proposed" }), "record.withdrawal.channelId"],
      ["participant 2", () => ({ withdrawal: withdrawal(2 as 0, 1n), sigs: ["0x", "0x"], status: "proposed" }), "record.withdrawal.participant"],
      ["a total beyond uint256", () => ({ withdrawal: withdrawal(0, MAX256 + 1n), sigs: ["0x", "0x"], status: "proposed" }), "record.withdrawal.total"],
      ["an expiry beyond uint64", () => ({ withdrawal: withdrawal(0, 1n, { expiry: MAX64 + 1n }), sigs: ["0x", "0x"], status: "proposed" }), "record.withdrawal.expiry"],
      ["a malformed signature", () => ({ withdrawal: withdrawal(0, 1n), sigs: ["0x1", "0x"], status: "proposed" }), "record.sigs[0]"],
      ["an unknown status", () => ({ withdrawal: withdrawal(0, 1n), sigs: ["0x", "0x"], status: "pending" }), "record.status"],
    ];
    for (const [description, input, field] of badWithdrawals) {
      it(`refuses a withdrawal with ${description} (field ${field}) and writes nothing`, () => {
        const store = withChannels();
        expect(() => store.putWithdrawal(CID, input() as never))
          .to.throw(InvalidRecordError)
          .with.property("field", field);
        expect(store.withdrawals(CID)).to.deep.equal([]);
      });
    }
  });

  describe("version reservations", () => {
    it("only rise, survive a reopen, and name bad input", () => {
      const store = withChannels();
      expect(store.reservedVersion(CID)).to.equal(null);
      store.reserveVersions(CID, 4_097n);
      store.reserveVersions(CID, 100n); // never lowered
      expect(store.reservedVersion(CID)).to.equal(4_097n);
      store.reserveVersions(CID, MAX64);
      expect(store.reservedVersion(OTHER)).to.equal(null);
      store.close();
      stores.pop();
      expect(open().reservedVersion(CID)).to.equal(MAX64);
      const again = stores[stores.length - 1];
      expect(() => again.reserveVersions(CID, -1n)).to.throw(InvalidRecordError).with.property("field", "upTo");
      expect(() => again.reserveVersions(CID, MAX64 + 1n)).to.throw(InvalidRecordError).with.property("field", "upTo");
      expect(() => again.reserveVersions(hex("ee", 32), 1n)).to.throw(UnknownChannelError);
    });
  });

  describe("resync and peers", () => {
    it("statesAfter returns the countersigned states above a version, oldest first, each with its payments", () => {
      const store = withChannels();
      store.recordCountersigned(CID, signed(stateOf(0n, { transferred: [0n, 0n], paymentsRoot: ZERO_HASH }), ["0x", "0x"]), null);
      store.recordCountersigned(CID, signed(stateOf(2n)), paymentOf(0n));
      store.recordCountersigned(CID, signed(stateOf(5n)), paymentOf(1n, { payer: 1 }));
      store.recordCountersigned(CID, signed(stateOf(6n, { isFinal: true })), null);
      const after = store.statesAfter(CID, 0n, 10);
      expect(after.map((i) => i.signed.state.version)).to.deep.equal([2n, 5n, 6n]);
      expect(after[0].payments).to.deep.equal([paymentOf(0n)]);
      expect(after[1].payments).to.deep.equal([paymentOf(1n, { payer: 1 })]);
      expect(after[2].payments).to.deep.equal([]);
      expect(after[1].signed).to.deep.equal(store.stateAt(CID, 5n));
      expect(store.statesAfter(CID, 2n, 1).map((i) => i.signed.state.version)).to.deep.equal([5n]);
      expect(store.statesAfter(CID, 6n, 10)).to.deep.equal([]);
      expect(() => store.statesAfter(CID, 0n, 0)).to.throw(InvalidRecordError).with.property("field", "limit");
    });

    it("remembers where to dial each peer, and refuses a URL that is not ws://", () => {
      let store = open();
      store.setPeerUrl(BOB, "ws://127.0.0.1:9735");
      store.setPeerUrl(BOB, "ws://127.0.0.1:9736");
      store.setPeerUrl(ALICE, "wss://alice.example:443");
      store.close();
      store = open();
      expect(store.listPeers()).to.deep.equal([
        { address: BOB, url: "ws://127.0.0.1:9736" },
        { address: ALICE, url: "wss://alice.example:443" },
      ]); // ordered by address
      for (const bad of ["http://127.0.0.1:1", "ws://", "", "ws://a b"]) {
        expect(() => store.setPeerUrl(BOB, bad)).to.throw(InvalidRecordError).with.property("field", "url");
      }
      expect(store.listPeers()).to.have.length(2);
    });
  });

  describe("watcher cursors", () => {
    it("keeps the last processed block per watcher", () => {
      let store = open();
      expect(store.getCursor("adjudicator")).to.equal(null);
      store.setCursor("adjudicator", 10);
      store.setCursor("adjudicator", (1n << 63n) - 1n);
      store.setCursor("other", 0n);
      store.close();
      store = open();
      expect(store.getCursor("adjudicator")).to.equal((1n << 63n) - 1n);
      expect(store.getCursor("other")).to.equal(0n);
      store.setCursor("adjudicator", 9n); // a reorg may move it back
      expect(store.getCursor("adjudicator")).to.equal(9n);
      for (const bad of [-1n, 1n << 63n, 1.5, Number.MAX_SAFE_INTEGER + 2]) {
        expect(() => store.setCursor("adjudicator", bad))
          .to.throw(InvalidRecordError)
          .with.property("field", "block");
      }
      expect(() => store.setCursor("", 1n))
        .to.throw(InvalidRecordError)
        .with.property("field", "name");
      expect(store.getCursor("adjudicator")).to.equal(9n);
    });
  });

  describe("crash safety (kill -9 of a writer)", function () {
    this.timeout(120_000);
    const LANES = 3;
    const KILLS_PER_LANE = 7;
    const root = path.resolve(__dirname, "../..");
    const writer = path.join(__dirname, "fixtures", "store-writer.ts");

    interface Run {
      acked: bigint;
      readyAt: bigint | null;
      stderr: string;
      signal: NodeJS.Signals | null;
    }

    /** Starts the writer, kills it with SIGKILL at a random moment, and reports what it acknowledged. */
    function runAndKill(file: string, seed: number, early: boolean): Promise<Run> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", writer, file, String(seed)], {
          cwd: root,
          stdio: ["ignore", "pipe", "pipe"],
        });
        const run: Run = { acked: -1n, readyAt: null, stderr: "", signal: null };
        let pending = "";
        let timer: NodeJS.Timeout | undefined;
        const kill = () => child.kill("SIGKILL");
        const guard = setTimeout(kill, 30_000);
        if (early) timer = setTimeout(kill, Math.random() * 700); // during start-up, open or recovery
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          pending += chunk;
          let nl: number;
          while ((nl = pending.indexOf("\n")) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.startsWith("ready ")) {
              run.readyAt = BigInt(line.slice(6));
              if (!early) timer = setTimeout(kill, 20 + Math.random() * 250);
            } else {
              const v = BigInt(line);
              if (v !== run.acked + 1n && run.acked >= 0n)
                reject(new Error(`acks out of order: ${run.acked} then ${v}`));
              run.acked = v;
            }
          }
        });
        child.stderr.on("data", (chunk: Buffer) => (run.stderr += chunk.toString()));
        child.on("error", reject);
        child.on("close", (_code, signal) => {
          clearTimeout(guard);
          clearTimeout(timer);
          run.signal = signal;
          resolve(run);
        });
      });
    }

    /** Everything the store must show after a kill: checked through the API and the raw tables. */
    function verify(file: string, acked: bigint): bigint {
      if (!fs.existsSync(file)) {
        expect(acked).to.equal(-1n);
        return 0n;
      }
      const store = ChannelStore.open(file);
      try {
        if (store.getChannel(CRASH_CHANNEL) === null) {
          expect(acked).to.equal(-1n);
          return 0n;
        }
        const latest = store.latest(CRASH_CHANNEL);
        const top = latest?.state.version ?? 0n;
        expect(top >= acked, `acknowledged version ${acked} lost: the store holds up to ${top}`).to.equal(true);
        if (latest !== null) expect(latest).to.deep.equal(signedAt(top));
        expect(store.paymentCount(CRASH_CHANNEL)).to.equal(top);
        if (top > 0n) {
          expect(store.payment(CRASH_CHANNEL, top - 1n)).to.deep.equal({
            payment: paymentAt(top),
            leaf: paymentLeafHex(paymentAt(top)),
            version: top,
            committedAt: store.payment(CRASH_CHANNEL, top - 1n)!.committedAt,
          });
          const probe = 1n + BigInt(Math.floor(Math.random() * Number(top)));
          expect(store.stateAt(CRASH_CHANNEL, probe)).to.deep.equal(signedAt(probe));
          const leaves = store.leafHashes(CRASH_CHANNEL);
          expect(leaves.length).to.equal(Number(top));
          expect(leaves[Number(probe) - 1]).to.equal(paymentLeafHex(paymentAt(probe)));
        }
      } finally {
        store.close();
      }
      const raw = new Database(file, { readonly: true });
      try {
        expect(raw.pragma("integrity_check", { simple: true })).to.equal("ok");
        expect(raw.pragma("foreign_key_check")).to.deep.equal([]);
        const q = (sql: string) => raw.prepare(sql).pluck().get() as number | string | null;
        const states = q("SELECT count(*) FROM states") as number;
        // Versions 1..top, none missing: count = max = top (keys are unique).
        if (states > 0) {
          expect(BigInt(q("SELECT min(version) FROM states") as string)).to.equal(1n);
          expect(BigInt(q("SELECT max(version) FROM states") as string)).to.equal(BigInt(states));
        }
        expect(q("SELECT count(*) FROM payments")).to.equal(states);
        // No state without its payment, no payment without its state.
        expect(
          q(`SELECT count(*) FROM states s LEFT JOIN payments p ON p.chan = s.chan AND p.seq = s.payment_seq
             WHERE p.seq IS NULL OR p.version <> s.version`),
        ).to.equal(0);
        expect(
          q(`SELECT count(*) FROM payments p LEFT JOIN states s ON s.chan = p.chan AND s.version = p.version
             WHERE s.version IS NULL`),
        ).to.equal(0);
        return BigInt(states);
      } finally {
        raw.close();
      }
    }

    it(`keeps every acknowledged state through ${LANES * KILLS_PER_LANE} SIGKILLs at random moments`, async () => {
      // allSettled: a failing lane must not leave the others' writers running after the temp dir is gone.
      const settled = await Promise.allSettled(
        Array.from({ length: LANES }, async (_, lane) => {
          const file = path.join(dir, `crash-${lane}`, "node.db");
          let kills = 0;
          let top = 0n;
          let written = 0n;
          for (let round = 0; round < KILLS_PER_LANE; round++) {
            const early = round % 4 === 3;
            const run = await runAndKill(file, 1 + lane * 1000 + round, early);
            expect(run.signal, `writer exited by itself: ${run.stderr}`).to.equal("SIGKILL");
            kills++;
            if (run.readyAt !== null) expect(run.readyAt).to.equal(top); // restarted at the latest state
            const now = verify(file, run.acked);
            expect(now >= top).to.equal(true);
            written += now - top;
            top = now;
          }
          return { kills, top, written };
        }),
      );
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      const totals = settled.map(
        (r) => (r as PromiseFulfilledResult<{ kills: number; top: bigint; written: bigint }>).value,
      );
      const kills = totals.reduce((n, t) => n + t.kills, 0);
      if (process.env.STORE_CRASH_VERBOSE) console.log(totals);
      expect(kills).to.be.at.least(20);
      // The writer made progress (the kills did not all land before the first write).
      expect(totals.reduce((n, t) => n + t.written, 0n) > 0n).to.equal(true);
    });
  });
});
