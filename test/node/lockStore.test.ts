/**
 * The lock tables (migrations 13 and 18) over the channel store's database: the locks a state adds and
 * removes with their events, the pending set a restart restores, secrets checked against their
 * hashlock, a state's updates read back for a resync, all-or-nothing with the state's commit, and
 * this node's invoice payments (a second one refused while pending or once paid).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import type { StateUpdate } from "../../src/channel";
import { channelId as channelIdOf, hashlockOf, lockLeafHex } from "../../src/crypto";
import { InvoiceAlreadyPaidError } from "../../src/node/payInvoiceErrors";
import { ChannelStore, InvalidRecordError } from "../../src/node/store";
import { MIGRATIONS, migrate } from "../../src/node/store/migrations";
import type { Hex, Lock, SignedState } from "../../src/types";
import { keysParams } from "../helpers/offchain";
import { thrown } from "../invoice/fixtures";

const PARAMS = keysParams(11n);
const ID = channelIdOf(PARAMS);
const bytes = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const SIG: Hex = `0x${"ab".repeat(65)}`;

const lock = (n: number, sender: 0 | 1 = 0, amount = 10n): Lock => ({
  channelId: ID,
  sender,
  amount,
  hashlock: hashlockOf(bytes(n)),
  expiry: 2_000_000_000n + BigInt(n),
  ref: bytes(500 + n),
});

const signedAt = (version: bigint): SignedState => ({
  state: {
    channelId: ID,
    version,
    transferred: [0n, 0n],
    locked: [0n, 0n],
    locksRoot: bytes(7),
    paymentsRoot: bytes(8),
    isFinal: false,
  },
  sigs: [SIG, SIG],
});

describe("LockStore (SQLite)", function () {
  let dir: string;
  let store: ChannelStore;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-locks-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
  });

  afterEach(function () {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the locks a state adds and removes, the unlocked ones' secrets and each change as an event; a reopen reads the same pending set", function () {
    const [a, b, c] = [lock(1), lock(2, 1, 25n), lock(3)];
    const added: StateUpdate[] = [a, b, c].map((l) => ({ op: "lock", lock: l }));
    store.locks.record({ channelId: ID, signed: signedAt(1n), updates: added, locks: { added: [a, b, c], removed: [] } });
    expect(store.locks.pending(ID)).to.have.deep.members([a, b, c]);
    const removed: StateUpdate[] = [
      { op: "unlock", lock: a, secret: bytes(1) },
      { op: "cancel", lock: b, request: 4n },
    ];
    store.locks.record({
      channelId: ID,
      signed: signedAt(2n),
      updates: removed,
      locks: { added: [], removed: [{ lock: a, reason: "unlock", secret: bytes(1) }, { lock: b, reason: "cancel" }] },
    });
    expect(store.locks.pending(ID)).to.deep.equal([c]);
    expect(store.locks.secret(a.hashlock)).to.equal(bytes(1));
    expect(store.locks.secret(b.hashlock)).to.equal(null);
    const events = store.events.after(0n, 100);
    expect(events.map((e) => e.type)).to.deep.equal(["lock.added", "lock.added", "lock.added", "lock.settled", "lock.cancelled"]);
    expect(events[3].data).to.include({ hashlock: a.hashlock, amount: "10", version: "2", sender: 0 });
    expect(events.every((e) => e.channelId === ID)).to.equal(true);
    // The updates of a lock state come back for a resync; a state without lock changes has none.
    expect(store.locks.updatesOf(signedAt(2n))).to.deep.equal(removed);
    expect(store.locks.updatesOf(signedAt(3n))).to.equal(undefined);
    store.close();
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    expect(store.locks.pending(ID)).to.deep.equal([c]);
  });

  it("a state recorded again adds no lock, even one removed since; a lock added again after its removal is a new one, and lookups by leaf find the newest", function () {
    const a = lock(1);
    const add = (version: bigint) => store.locks.record({ channelId: ID, signed: signedAt(version), updates: [{ op: "lock", lock: a }], locks: { added: [a], removed: [] } });
    const cancel = (version: bigint) =>
      store.locks.record({ channelId: ID, signed: signedAt(version), updates: [{ op: "cancel", lock: a, request: 1n }], locks: { added: [], removed: [{ lock: a, reason: "cancel" }] } });
    add(1n);
    add(1n);
    expect(store.locks.pending(ID)).to.deep.equal([a]);
    cancel(2n);
    add(1n); // the first state again: its lock was removed since, it stays removed
    expect(store.locks.pending(ID)).to.deep.equal([]);
    expect(store.locks.removalOf(ID, lockLeafHex(a))).to.equal("cancel");
    add(3n); // the same lock, added anew
    expect(store.locks.pending(ID)).to.deep.equal([a]);
    expect(store.locks.removalOf(ID, lockLeafHex(a)), "the newest is pending").to.equal(null);
    cancel(2n); // the state that removed the first one, recorded again: the one added since stays
    expect(store.locks.pending(ID)).to.deep.equal([a]);
    expect(store.lockSettlements.pendingAt(ID, 1n)).to.deep.equal([a]);
    expect(store.lockSettlements.pendingAt(ID, 2n)).to.deep.equal([]);
    expect(store.lockSettlements.pendingAt(ID, 3n)).to.deep.equal([a]);
    expect(store.lockSettlements.lock(ID, lockLeafHex(a))).to.deep.equal(a);
    // One state that gives the lock back and makes the same one anew: it ends pending.
    store.locks.record({
      channelId: ID,
      signed: signedAt(4n),
      updates: [],
      locks: { added: [a], removed: [{ lock: a, reason: "cancel" }] },
    });
    expect(store.locks.pending(ID)).to.deep.equal([a]);
    expect(store.lockSettlements.pendingAt(ID, 4n)).to.deep.equal([a]);
    expect(store.events.after(0n, 100).slice(-2).map((e) => e.type), "events in the state's order: added, then removed").to.deep.equal(["lock.added", "lock.cancelled"]);
  });

  it("hasLock: a pending lock's hashlock, or one of a channel settled with locks still to resolve; not a lock long gone", function () {
    const [a, b] = [lock(1), lock(2)];
    store.locks.record({ channelId: ID, signed: signedAt(1n), updates: [], locks: { added: [a, b], removed: [] } });
    expect([store.lockSettlements.hasLock(a.hashlock), store.lockSettlements.hasLock(hashlockOf(bytes(99)))]).to.deep.equal([true, false]);
    store.locks.record({ channelId: ID, signed: signedAt(2n), updates: [], locks: { added: [], removed: [{ lock: a, reason: "cancel" }] } });
    expect([store.lockSettlements.hasLock(a.hashlock), store.lockSettlements.hasLock(b.hashlock)]).to.deep.equal([false, true]);
    // The channel settled on chain on its state 1, where a was pending: a's secret matters again.
    store.lockSettlements.settled(ID, 1n);
    expect(store.lockSettlements.hasLock(a.hashlock)).to.equal(true);
    store.lockSettlements.done(ID);
    expect(store.lockSettlements.hasLock(a.hashlock)).to.equal(false);
  });

  it("migration 18 keeps the locks of a store written before it: the pending set, how each removed one left, the locks at any version", function () {
    store.close();
    const file = path.join(dir, "v17.sqlite");
    const raw = new Database(file);
    const [a, b, c] = [lock(1), lock(2, 1, 25n), lock(3)];
    const key = (v: bigint) => v.toString().padStart(20, "0");
    try {
      migrate(raw, MIGRATIONS.slice(0, 17));
      const add = raw.prepare(
        "INSERT INTO locks (channel_id, leaf, added_version, sender, amount, hashlock, expiry, ref, removed_version, removed_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const [l, added, removed, reason] of [
        [a, 1n, 2n, "unlock"],
        [b, 1n, null, null],
        [c, 2n, 3n, "expire"],
        // The old key let a leaf be pending twice (never written so): the newest stays pending.
        [b, 3n, null, null],
      ] as const) {
        add.run(ID, lockLeafHex(l), key(added), l.sender, l.amount.toString(), l.hashlock, l.expiry.toString(), l.ref, removed === null ? null : key(removed), reason);
      }
    } finally {
      raw.close();
    }
    store = ChannelStore.open(file);
    expect(store.schemaVersion).to.equal(18);
    expect(store.locks.pending(ID)).to.deep.equal([b]);
    expect([a, b, c].map((l) => store.locks.removalOf(ID, lockLeafHex(l)))).to.deep.equal(["unlock", null, "expire"]);
    expect(store.lockSettlements.pendingAt(ID, 2n)).to.have.deep.members([b, c]);
    expect(store.lockSettlements.pendingAt(ID, 3n), "the older duplicate counts as removed at 3").to.deep.equal([b]);
    expect([a, b, c].map((l) => store.lockSettlements.hasLock(l.hashlock))).to.deep.equal([false, true, false]);
    // And it goes on from there: b leaves, a new lock comes.
    const d = lock(4);
    store.locks.record({ channelId: ID, signed: signedAt(4n), updates: [], locks: { added: [d], removed: [{ lock: b, reason: "cancel" }] } });
    expect(store.locks.pending(ID)).to.deep.equal([d]);
  });

  it("writes nothing, not even an event, when the state's transaction fails", function () {
    const a = lock(1);
    expect(() =>
      store.transaction(() => {
        store.locks.record({ channelId: ID, signed: signedAt(1n), updates: [{ op: "lock", lock: a }], locks: { added: [a], removed: [] } });
        throw new Error("the state's write failed");
      }),
    ).to.throw("the state's write failed");
    expect(store.locks.pending(ID)).to.deep.equal([]);
    expect(store.events.after(0n, 100)).to.deep.equal([]);
    expect(store.locks.updatesOf(signedAt(1n))).to.equal(undefined);
  });

  it("refuses a secret that is not its hashlock's preimage, and keeps the first of a known one", function () {
    expect(() => store.locks.putSecret(hashlockOf(bytes(1)), bytes(2))).to.throw(InvalidRecordError);
    expect(store.locks.secret(hashlockOf(bytes(1)))).to.equal(null);
    store.locks.putSecret(hashlockOf(bytes(1)), bytes(1));
    store.locks.putSecret(hashlockOf(bytes(1)), bytes(1));
    expect(store.locks.secret(hashlockOf(bytes(1)))).to.equal(bytes(1));
  });

  it("records an invoice payment once: refused while pending and once paid, allowed again after a failure", function () {
    const entry = { hashlock: hashlockOf(bytes(9)), invoice: "sluice1…", channelId: ID, amount: 5n };
    expect(store.locks.paymentStatus(entry.hashlock)).to.equal(null);
    // The record it returns is the stored row (keys in lower case), not read back.
    const begun = store.locks.beginPayment({ ...entry, hashlock: entry.hashlock.toUpperCase().replace("0X", "0x") as Hex, channelId: ID.toUpperCase().replace("0X", "0x") as Hex });
    expect(begun).to.deep.equal(store.locks.payment(entry.hashlock));
    expect(begun).to.include({ status: "pending", amount: 5n, hashlock: entry.hashlock.toLowerCase(), channelId: ID.toLowerCase() });
    expect(store.locks.paymentStatus(entry.hashlock)).to.equal("pending");
    const again = thrown(() => store.locks.beginPayment(entry));
    expect(again).to.be.instanceOf(InvoiceAlreadyPaidError);
    expect((again as InvoiceAlreadyPaidError).status).to.equal("pending");
    expect(store.locks.finishPayment(entry.hashlock, "failed", "the lock was cancelled")).to.include({ status: "failed", error: "the lock was cancelled" });
    expect(store.locks.beginPayment(entry).status).to.equal("pending");
    expect(store.locks.finishPayment(entry.hashlock, "failed", "the answer was lost")!.status).to.equal("failed");
    // Its lock settled after all (the call had failed on a lost answer): it is paid.
    expect(store.locks.finishPayment(entry.hashlock, "paid")!.status).to.equal("paid");
    // An ended payment stays as it ended.
    expect(store.locks.finishPayment(entry.hashlock, "failed")!.status).to.equal("paid");
    expect(store.locks.paymentStatus(entry.hashlock)).to.equal("paid");
    expect(() => store.locks.beginPayment(entry)).to.throw(InvoiceAlreadyPaidError, /paid this invoice already/);
  });

  it("records the one lock that paid an invoice: a second claim for it throws and changes nothing", function () {
    const a = lock(1);
    expect(store.locks.claimOf(a.hashlock)).to.equal(null);
    store.locks.claim(a.hashlock, ID, a);
    expect(store.locks.claimOf(a.hashlock)).to.deep.equal({ channelId: ID, leaf: lockLeafHex(a) });
    expect(() => store.locks.claim(a.hashlock, ID, lock(1, 0, 99n))).to.throw();
    expect(store.locks.claimOf(a.hashlock)).to.deep.equal({ channelId: ID, leaf: lockLeafHex(a) });
  });
});
