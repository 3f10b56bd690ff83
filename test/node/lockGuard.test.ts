/**
 * The lock guard's rules with a fake clock: which received locks need their secret on chain at
 * what time, who a settled lock pays and when that is decided; and the store's part: the locks
 * pending at any stored version (a state the peer registered, older than the latest), the
 * settlements still to resolve, and each resolution recorded once with its event.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { StateUpdate } from "../../src/channel";
import { channelId as channelIdOf, hashlockOf, lockLeafHex } from "../../src/crypto";
import { LocksTree } from "../../src/merkle/locks";
import { DEFAULT_REVEAL_WINDOW, outcomeOf, paysMe, registrationsDue } from "../../src/node/lockGuard";
import { ChannelStore } from "../../src/node/store";
import type { Hex, Lock, SignedState, State } from "../../src/types";
import { keysParams } from "../helpers/offchain";

const ID = channelIdOf(keysParams(21n));
const bytes = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const EXPIRY = 1_000_000n;
const WINDOW = 3_600n;

const lockOf = (n: number, sender: 0 | 1, expiry = EXPIRY): Lock => ({ channelId: ID, sender, amount: 10n * BigInt(n), hashlock: hashlockOf(bytes(n)), expiry, ref: bytes(900 + n) });

describe("LockGuard rules", function () {
  it("the default reveal window is the lock policy's (one hour)", function () {
    expect(DEFAULT_REVEAL_WINDOW).to.equal(3_600n);
  });

  describe("registrationsDue", function () {
    // Node `me` = 1 receives the locks sent by 0; it knows the secrets of locks 1 and 3.
    const received = lockOf(1, 0);
    const unknown = lockOf(2, 0);
    const sent = lockOf(3, 1);
    const locks = [received, unknown, sent];
    const secretOf = (lock: Lock): Hex | undefined => (lock === received || lock === sent ? bytes(lock === received ? 1 : 3) : undefined);
    const due = (now: bigint, offChain: boolean) => registrationsDue(locks, 1, now, { revealWindow: WINDOW, offChain, secretOf }).map((d) => [d.lock, d.secret]);

    const rows: { what: string; now: bigint; offChain: boolean; expected: [Lock, Hex][] }[] = [
      { what: "open channel, before the window: the peer may still unlock", now: EXPIRY - WINDOW - 1n, offChain: true, expected: [] },
      { what: "open channel, at expiry − window", now: EXPIRY - WINDOW, offChain: true, expected: [[received, bytes(1)]] },
      { what: "open channel, at the expiry itself", now: EXPIRY, offChain: true, expected: [[received, bytes(1)]] },
      { what: "after the expiry: too late, the lock refunds its sender", now: EXPIRY + 1n, offChain: true, expected: [] },
      { what: "disputed or settled channel: at once, whatever the window", now: 10n, offChain: false, expected: [[received, bytes(1)]] },
      { what: "disputed channel after the expiry: nothing", now: EXPIRY + 1n, offChain: false, expected: [] },
    ];
    for (const row of rows) {
      it(row.what, function () {
        expect(due(row.now, row.offChain)).to.deep.equal(row.expected);
      });
    }

    it("never its own locks nor one whose secret it does not know", function () {
      const all = registrationsDue(locks, 1, EXPIRY, { revealWindow: WINDOW, offChain: false, secretOf: () => bytes(5) }).map((d) => d.lock);
      expect(all).to.deep.equal([received, unknown]);
      expect(registrationsDue(locks, 0, EXPIRY, { revealWindow: WINDOW, offChain: false, secretOf: () => bytes(5) }).map((d) => d.lock)).to.deep.equal([sent]);
    });

    it("a window of zero waits until the expiry itself", function () {
      expect(registrationsDue([received], 1, EXPIRY - 1n, { revealWindow: 0n, offChain: true, secretOf }).length).to.equal(0);
      expect(registrationsDue([received], 1, EXPIRY, { revealWindow: 0n, offChain: true, secretOf }).length).to.equal(1);
    });
  });

  describe("outcomeOf and paysMe", function () {
    const lock = lockOf(1, 0);
    const rows: { what: string; revealedAt: bigint; now: bigint; outcome: "paid" | "refunded" | undefined }[] = [
      { what: "secret registered before the expiry: paid, at any time after", revealedAt: EXPIRY - 5n, now: EXPIRY - 4n, outcome: "paid" },
      { what: "secret registered at the expiry itself: paid", revealedAt: EXPIRY, now: EXPIRY + 100n, outcome: "paid" },
      { what: "secret registered after the expiry: refunded", revealedAt: EXPIRY + 1n, now: EXPIRY + 1n, outcome: "refunded" },
      { what: "no secret, not expired: undecided", revealedAt: 0n, now: EXPIRY, outcome: undefined },
      { what: "no secret, past the expiry: refunded", revealedAt: 0n, now: EXPIRY + 1n, outcome: "refunded" },
    ];
    for (const row of rows) {
      it(row.what, function () {
        expect(outcomeOf(lock, row.revealedAt, row.now)).to.equal(row.outcome);
      });
    }

    it("a paid lock pays its receiver, a refunded one its sender", function () {
      expect([paysMe(lock, 1, "paid"), paysMe(lock, 0, "paid"), paysMe(lock, 0, "refunded"), paysMe(lock, 1, "refunded")]).to.deep.equal([true, false, true, false]);
    });
  });
});

describe("LockSettlementStore (SQLite)", function () {
  let dir: string;
  let store: ChannelStore;
  const SIG: Hex = `0x${"ab".repeat(65)}`;
  const stateAt = (version: bigint, locks: Lock[]): State => {
    const tree = new LocksTree(ID, locks);
    return { channelId: ID, version, transferred: [0n, 0n], locked: tree.locked, locksRoot: tree.root, paymentsRoot: bytes(8), isFinal: false };
  };
  const signed = (state: State): SignedState => ({ state, sigs: [SIG, SIG] });

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lockguard-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
  });

  afterEach(function () {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("rebuilds the locks of any stored version, whose tree has that state's root", function () {
    const [a, b, c] = [lockOf(1, 0), lockOf(2, 1), lockOf(3, 0)];
    const add = (version: bigint, locks: Lock[]) => {
      const updates: StateUpdate[] = locks.map((lock) => ({ op: "lock", lock }));
      store.locks.record({ channelId: ID, signed: signed(stateAt(version, [])), updates, locks: { added: locks, removed: [] } });
    };
    add(1n, [a, b]);
    store.locks.record({
      channelId: ID,
      signed: signed(stateAt(2n, [b])),
      updates: [{ op: "unlock", lock: a, secret: bytes(1) }],
      locks: { added: [], removed: [{ lock: a, reason: "unlock", secret: bytes(1) }] },
    });
    add(3n, [c]);
    const at = (version: bigint) => store.lockSettlements.pendingAt(ID, version);
    expect(at(0n)).to.deep.equal([]);
    expect(at(1n)).to.have.deep.members([a, b]);
    expect(at(2n)).to.deep.equal([b]);
    expect(at(3n)).to.have.deep.members([b, c]);
    expect(at(3n)).to.have.deep.members(store.locks.pending(ID));
    // The roots match those the states carried: a peer's older state can be resolved from the store.
    expect(new LocksTree(ID, at(1n)).root).to.equal(stateAt(1n, [a, b]).locksRoot);
    expect(new LocksTree(ID, at(2n)).root).to.equal(stateAt(2n, [b]).locksRoot);
  });

  it("keeps a settlement until done, its state once known, and each resolution once with its event", function () {
    const a = lockOf(1, 0);
    const state = stateAt(4n, [a]);
    store.lockSettlements.settled(ID, 4n);
    store.lockSettlements.settled(ID, 4n);
    expect(store.lockSettlements.open()).to.deep.equal([{ channelId: ID, version: 4n }]);
    store.lockSettlements.putState(state);
    store.close();
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    expect(store.lockSettlements.open()).to.deep.equal([{ channelId: ID, version: 4n, state }]);

    const resolution = { channelId: ID, leaf: lockLeafHex(a), hashlock: a.hashlock, paidTo: 1 as const, outcome: "paid" as const, amount: 10n, txHash: bytes(77) };
    store.transaction(() => store.lockSettlements.resolved(resolution));
    store.transaction(() => store.lockSettlements.resolved(resolution));
    expect([...store.lockSettlements.resolvedLeaves(ID)]).to.deep.equal([lockLeafHex(a)]);
    const events = store.events.after(0n, 100, ["lock.resolved"]);
    expect(events.length).to.equal(1);
    expect(events[0].data).to.deep.equal({ hashlock: a.hashlock, leaf: lockLeafHex(a), outcome: "paid", paidTo: 1, amount: "10", txHash: bytes(77) });

    store.lockSettlements.done(ID);
    expect(store.lockSettlements.open()).to.deep.equal([]);
  });
});
