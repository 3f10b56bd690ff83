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
import type { AdjudicatorDriver, AdjudicatorEvent } from "../../src/chain";
import { SecretAlreadyRevealedError } from "../../src/chain/errors";
import { fromHex } from "../../src/crypto/hash";
import { MerkleTree } from "../../src/merkle/tree";
import { DEFAULT_REVEAL_WINDOW, LockGuard, outcomeOf, paysMe, registrationsDue, type GuardedChannel } from "../../src/node/lockGuard";
import { ChannelStore } from "../../src/node/store";
import type { Hex, Lock, Params, SignedState, State } from "../../src/types";
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

/**
 * The guard over a fake chain (its secret registry, held-back amounts and resolved leaves) and a
 * real store, with a clock the test moves: what it sends, when, and that it sends it once.
 */
describe("LockGuard over a fake chain", function () {
  const PARAMS: Params = keysParams(21n);
  let dir: string;
  let store: ChannelStore;
  let now: bigint;
  let sent: string[];
  let reveals: Map<string, bigint>;
  let chainReveals: Map<string, bigint>;
  let held: [bigint, bigint];
  /** Leaves resolved on the fake chain (its `lockResolved`). */
  let resolvedLeaves: Set<string>;
  let errors: string[];
  let channel: GuardedChannel;

  const driver = {
    secretRevealedAt: (hashlock: Hex) => Promise.resolve(chainReveals.get(hashlock.toLowerCase()) ?? 0n),
    registerSecret: (secret: Hex, options: { deadline?: { at: bigint; period: bigint } }) => {
      const raced = chainReveals.get(hashlockOf(secret));
      if (raced !== undefined) return Promise.reject(new SecretAlreadyRevealedError("SecretAlreadyRevealed", { hashlock: hashlockOf(secret), revealedAt: raced }, "0x"));
      sent.push(`registerSecret ${secret} by ${options.deadline?.at}/${options.deadline?.period}`);
      chainReveals.set(hashlockOf(secret), now);
      return Promise.resolve({ revealedAt: now, hash: bytes(99) });
    },
    heldBack: () => Promise.resolve(held),
    lockResolved: (leaf: Hex) => Promise.resolve(resolvedLeaves.has(leaf)),
    resolveLock: (_params: Params, state: State, lock: Lock, proof: Hex[]) => {
      resolvedLeaves.add(lockLeafHex(lock));
      const ok = MerkleTree.verify(proof.map((p) => fromHex(p, "proof")), fromHex(state.locksRoot, "root"), fromHex(lockLeafHex(lock), "leaf"));
      sent.push(`resolveLock ${lock.hashlock} proof ${ok ? "valid" : "invalid"}`);
      return Promise.resolve({});
    },
    events: () => Promise.resolve([]),
  } as unknown as AdjudicatorDriver;

  const guardOf = () =>
    new LockGuard(
      {
        store,
        driver,
        live: () => (channel.offChain || channel.locks.length > 0 ? [channel] : []),
        channel: () => channel,
        dispute: (id) => {
          sent.push(`dispute ${id}`);
          return Promise.resolve();
        },
        clock: () => now,
        reveals,
        onError: (error, what) => errors.push(`${what}: ${String(error)}`),
      },
      { revealWindow: WINDOW },
    );
  /** One round, and the transactions it started. */
  const round = async (guard: LockGuard) => {
    await guard.round();
    await new Promise((resolve) => setImmediate(resolve));
  };

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-lockguard-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    sent = [];
    errors = [];
    reveals = new Map<string, bigint>();
    chainReveals = new Map<string, bigint>();
    held = [0n, 0n];
    now = EXPIRY - WINDOW - 1n;
    resolvedLeaves = new Set();
  });

  afterEach(function () {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("registers a received lock's known secret from expiry − window, then disputes, once; a reorg that takes the registration away sends it again", async function () {
    const received = lockOf(1, 0);
    const unknownSecret = lockOf(2, 0);
    store.locks.putSecret(received.hashlock, bytes(1));
    channel = { id: ID, params: PARAMS, me: 1, locks: [received, unknownSecret, lockOf(3, 1)], offChain: true };
    const guard = guardOf();
    await round(guard);
    expect(sent).to.deep.equal([]);

    now = EXPIRY - WINDOW;
    await round(guard);
    expect(sent).to.deep.equal([`registerSecret ${bytes(1)} by ${EXPIRY}/${WINDOW}`, `dispute ${ID}`]);
    expect(reveals.get(received.hashlock)).to.equal(EXPIRY - WINDOW);
    const [registered] = store.events.after(0n, 10, ["lock.registered"]);
    expect(registered.data).to.include({ hashlock: received.hashlock, expiry: EXPIRY.toString(), revealedAt: (EXPIRY - WINDOW).toString() });

    // The node marks the channel disputed; rounds after send nothing more.
    channel = { ...channel, offChain: false };
    now += 10n;
    await round(guard);
    await round(guard);
    expect(sent.length).to.equal(2);

    // A reorg took the registration away: sent again.
    chainReveals.clear();
    reveals.clear();
    guard.onReorg();
    await round(guard);
    expect(sent.slice(2)).to.deep.equal([`registerSecret ${bytes(1)} by ${EXPIRY}/${WINDOW}`]);
    expect(errors).to.deep.equal([]);
  });

  it("keeps a secret registered on chain by anyone when a lock of this node has its hashlock, and then claims a received lock with it", async function () {
    const received = lockOf(1, 0);
    const updates: StateUpdate[] = [{ op: "lock", lock: received }];
    const state: State = { channelId: ID, version: 1n, transferred: [0n, 0n], locked: [received.amount, 0n], locksRoot: new LocksTree(ID, [received]).root, paymentsRoot: bytes(8), isFinal: false };
    store.locks.record({ channelId: ID, signed: { state, sigs: [`0x${"ab".repeat(65)}`, `0x${"ab".repeat(65)}`] }, updates, locks: { added: [received], removed: [] } });
    channel = { id: ID, params: PARAMS, me: 1, locks: [received], offChain: true };
    const guard = guardOf();
    const revealed = (n: number) => ({ name: "SecretRevealed", hashlock: hashlockOf(bytes(n)), secret: bytes(n), blockNumber: 3, transactionHash: bytes(96), logIndex: 0 }) as unknown as AdjudicatorEvent;
    guard.onEvent(revealed(2), undefined);
    expect(store.locks.secret(hashlockOf(bytes(2)))).to.equal(null);
    guard.onEvent(revealed(1), undefined);
    expect(store.locks.secret(received.hashlock)).to.equal(bytes(1));
    // Registered already (by the one who revealed it): only the dispute is left to send, in the window.
    chainReveals.set(received.hashlock, 5n);
    now = EXPIRY - WINDOW;
    await round(guard);
    expect(sent).to.deep.equal([`dispute ${ID}`]);
  });

  it("a registration that another transaction beat (SecretAlreadyRevealed) counts as done: no error, no event of its own, nothing sent again", async function () {
    const received = lockOf(1, 0);
    store.locks.putSecret(received.hashlock, bytes(1));
    channel = { id: ID, params: PARAMS, me: 1, locks: [received], offChain: false };
    now = 10n;
    const guard = guardOf();
    // The chain had no registration when the guard looked; one lands before its transaction does.
    const read = driver.secretRevealedAt.bind(driver);
    driver.secretRevealedAt = async (hashlock: Hex) => {
      const at = await read(hashlock);
      chainReveals.set(received.hashlock, 7n);
      return at;
    };
    try {
      await round(guard);
      await round(guard);
    } finally {
      driver.secretRevealedAt = read;
    }
    expect(sent).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    expect(reveals.get(received.hashlock)).to.equal(7n);
    expect(store.events.after(0n, 10, ["lock.registered"])).to.deep.equal([]);
  });

  it("registers at once in a channel that can't change off chain, and never after the expiry", async function () {
    const received = lockOf(1, 0);
    store.locks.putSecret(received.hashlock, bytes(1));
    channel = { id: ID, params: PARAMS, me: 1, locks: [received], offChain: false };
    now = EXPIRY + 1n;
    await round(guardOf());
    expect(sent).to.deep.equal([]);
    now = 10n;
    await round(guardOf());
    expect(sent).to.deep.equal([`registerSecret ${bytes(1)} by ${EXPIRY}/${WINDOW}`]);
  });

  it("after a settlement resolves the locks that pay this node with valid proofs, when decided, and is done once their resolutions are confirmed", async function () {
    // me = 1: `mine` it receives (secret registered in time), `theirs` it receives (no secret), `back` it sent (no secret).
    const [mine, theirs, back] = [lockOf(1, 0), lockOf(2, 0), lockOf(3, 1)];
    const updates: StateUpdate[] = [mine, theirs, back].map((lock) => ({ op: "lock", lock }));
    const tree = new LocksTree(ID, [mine, theirs, back]);
    const state: State = { channelId: ID, version: 5n, transferred: [0n, 0n], locked: tree.locked, locksRoot: tree.root, paymentsRoot: bytes(8), isFinal: false };
    store.locks.record({ channelId: ID, signed: { state, sigs: [`0x${"ab".repeat(65)}`, `0x${"ab".repeat(65)}`] }, updates, locks: { added: [mine, theirs, back], removed: [] } });
    channel = { id: ID, params: PARAMS, me: 1, locks: [], offChain: false };
    chainReveals.set(mine.hashlock, EXPIRY - 100n);
    held = [mine.amount + theirs.amount, back.amount];
    const guard = guardOf();
    const settled = { name: "Settled", channelId: ID, version: 5n, payouts: [0n, 0n], heldBack: held, blockNumber: 9, transactionHash: bytes(98), logIndex: 0 } as unknown as AdjudicatorEvent;
    guard.onEvent(settled, state);

    now = EXPIRY - 50n;
    await round(guard);
    // Paid with its secret at once; the sender's refund waits for the expiry.
    expect(sent).to.deep.equal([`resolveLock ${mine.hashlock} proof valid`]);
    now = EXPIRY + 1n;
    await round(guard);
    // The first one is resolved on chain already (its event not confirmed yet): not sent again.
    expect(sent.slice(1)).to.deep.equal([`resolveLock ${back.hashlock} proof valid`]);

    const resolvedEvent = (lock: Lock, paidTo: 0 | 1) =>
      ({ name: "LockResolved", channelId: ID, hashlock: lock.hashlock, leaf: lockLeafHex(lock), paidTo, amount: lock.amount, blockNumber: 10, transactionHash: bytes(97), logIndex: 0 }) as unknown as AdjudicatorEvent;
    guard.onEvent(resolvedEvent(mine, 1), undefined);
    guard.onEvent(resolvedEvent(back, 1), undefined);
    expect(store.events.after(0n, 10, ["lock.resolved"]).map((e) => e.data.outcome)).to.deep.equal(["paid", "refunded"]);
    await round(guard);
    expect(sent.length).to.equal(2);
    expect(store.lockSettlements.open()).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });
});
