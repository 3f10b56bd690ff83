import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { channelId as channelIdOf } from "../../src/crypto";
import { CommitQueue, type CommitTiming } from "../../src/node/commitQueue";
import { ChannelStore, NonIncreasingVersionError, PaymentSequenceError, UnknownChannelError } from "../../src/node/store";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type SignedState, type State } from "../../src/types";

const ALICE: Address = "0x00000000000000000000000000000000000a11ce";
const BOB: Address = "0x0000000000000000000000000000000000000b0b";
const PARAMS: Params = { participants: [ALICE, BOB], payees: [ALICE, BOB], asset: ETH, challengePeriod: 600n, nonce: 1n };
const CID = channelIdOf(PARAMS);
const OTHER_PARAMS: Params = { ...PARAMS, nonce: 2n };
const OTHER = channelIdOf(OTHER_PARAMS);
const UNKNOWN = channelIdOf({ ...PARAMS, nonce: 3n });
const SIG: Hex = `0x${"a1".repeat(65)}`;

function stateOf(channelId: Hex, version: bigint): State {
  return { channelId, version, transferred: [version, 0n], locked: [0n, 0n], locksRoot: ZERO_HASH, paymentsRoot: ZERO_HASH, isFinal: false };
}

const signed = (channelId: Hex, version: bigint): SignedState => ({ state: stateOf(channelId, version), sigs: [SIG, SIG] });

/** The next turn of the event loop, after the queue's flush of this one. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** How a promise ended, without letting a rejection go unhandled. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "ok",
    (error: unknown) => error,
  );
}

describe("CommitQueue", function () {
  let dir: string;
  let store: ChannelStore;
  let queue: CommitQueue;
  /** The store's transactions, each as the list of writes it ran, in order. */
  let transactions: string[][];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-commits-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    store.putChannel({ params: PARAMS, myIndex: 0, status: "open" });
    store.putChannel({ params: OTHER_PARAMS, myIndex: 0, status: "open" });
    transactions = [];
    const transaction = store.transaction.bind(store);
    const record = <A extends unknown[], R>(name: string, write: (...args: A) => R) => (...args: A): R => {
      transactions[transactions.length - 1]?.push(`${name} ${String(args[0]).slice(0, 6)}`);
      return write(...args);
    };
    store.transaction = <T>(fn: () => T): T => {
      transactions.push([]);
      return transaction(fn);
    };
    store.recordOwnSignature = record("own", store.recordOwnSignature.bind(store));
    store.reserveVersions = record("reserve", store.reserveVersions.bind(store));
    store.recordCountersignedInGroup = record("countersigned", store.recordCountersignedInGroup.bind(store));
    store.putMemo = record("memo", store.putMemo.bind(store));
    queue = new CommitQueue(store);
  });

  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const short = (id: Hex) => id.slice(0, 6);

  it("commits the writes of one turn in one transaction, in queue order, and settles each writer only after it", async function () {
    const settled: string[] = [];
    const writes = [
      queue.reserveVersions(CID, 100n).then(() => settled.push("reserve")),
      queue.countersigned(CID, signed(CID, 1n), null).then(() => settled.push("countersigned 1")),
      queue.countersigned(CID, signed(CID, 2n), null).then(() => settled.push("countersigned 2")),
      queue.ownSignature(OTHER, stateOf(OTHER, 1n), SIG).then(() => settled.push("own")),
    ];
    // Nothing is on disk, and no writer settled, within the turn that queued them.
    expect(store.reservedVersion(CID)).to.equal(null);
    expect(transactions).to.deep.equal([]);
    await Promise.all(writes);
    expect(transactions).to.deep.equal([[`reserve ${short(CID)}`, `countersigned ${short(CID)}`, `countersigned ${short(CID)}`, `own ${short(OTHER)}`]]);
    expect(settled).to.deep.equal(["reserve", "countersigned 1", "countersigned 2", "own"]);
    expect(store.reservedVersion(CID)).to.equal(100n);
    expect(store.latest(CID)!.state.version).to.equal(2n); // version 2 after version 1: queue order kept
    expect(store.latestOwnSignature(OTHER)!.state.version).to.equal(1n);
    expect(queue.stats).to.include({ groups: 1, writes: 4 });
  });

  it("writes queued in later turns go in later groups, in order", async function () {
    const first = queue.countersigned(CID, signed(CID, 1n), null);
    await nextTurn();
    const second = queue.countersigned(CID, signed(CID, 2n), null);
    await Promise.all([first, second]);
    expect(transactions).to.have.length(2);
    expect(queue.stats).to.include({ groups: 2, writes: 2 });
    expect(store.latest(CID)!.state.version).to.equal(2n);
  });

  it("a write that fails fails exactly the writers of its group, with its error, and none of that group is on disk", async function () {
    const before = queue.countersigned(CID, signed(CID, 1n), null);
    await nextTurn();
    const group = [
      queue.reserveVersions(OTHER, 50n),
      queue.countersigned(CID, signed(CID, 2n), null),
      queue.ownSignature(UNKNOWN, stateOf(UNKNOWN, 1n), SIG), // no such channel
      queue.countersigned(OTHER, signed(OTHER, 1n), null),
    ].map(outcome);
    await nextTurn();
    // The failed group's state of OTHER is not on disk: the next group writes it afresh.
    const after = queue.countersigned(OTHER, signed(OTHER, 1n), null);

    expect(await outcome(before)).to.equal("ok");
    const outcomes = await Promise.all(group);
    for (const o of outcomes) expect(o).to.be.instanceOf(UnknownChannelError);
    expect(new Set(outcomes).size).to.equal(1); // the same error for each
    expect(await outcome(after)).to.equal("ok");
    // None of the failed group is on disk: not the reservation, not the states before the failing write.
    expect(store.reservedVersion(OTHER)).to.equal(null);
    expect(store.latest(CID)!.state.version).to.equal(1n);
    expect(store.latest(OTHER)!.state.version).to.equal(1n);
    expect(queue.stats).to.include({ groups: 2, writes: 2 });
  });

  it("a write the store refuses (a version not above the latest) fails its group with the store's typed error", async function () {
    await queue.countersigned(CID, signed(CID, 2n), null);
    const outcomes = await Promise.all([queue.reserveVersions(CID, 9n), queue.countersigned(CID, signed(CID, 1n), null)].map(outcome));
    for (const o of outcomes) expect(o).to.be.instanceOf(NonIncreasingVersionError);
    expect(store.reservedVersion(CID)).to.equal(null);
  });

  it("a countersigned state that fails after an earlier one of its group was written leaves neither on disk, and the next group writes them afresh", async function () {
    await queue.countersigned(CID, signed(CID, 1n), [{ channelId: CID, seq: 0n, payer: 0, amount: 1n, ref: ZERO_HASH }]);
    const payment = (seq: bigint) => ({ channelId: CID, seq, payer: 0 as const, amount: 1n, ref: ZERO_HASH });
    // Version 2 is written (the state, its payment, its event), then version 3 skips a seq.
    const outcomes = await Promise.all([queue.countersigned(CID, signed(CID, 2n), [payment(1n)]), queue.countersigned(CID, signed(CID, 3n), [payment(5n)])].map(outcome));
    for (const o of outcomes) expect(o).to.be.instanceOf(PaymentSequenceError);
    expect(store.latest(CID)!.state.version).to.equal(1n);
    expect(store.paymentCount(CID)).to.equal(1n);
    // The store's cached tip was rolled back with the transaction: version 2 and seq 1 are next again.
    await Promise.all([queue.countersigned(CID, signed(CID, 2n), [payment(1n)]), queue.countersigned(CID, signed(CID, 3n), [payment(2n)])]);
    expect(store.latest(CID)!.state.version).to.equal(3n);
    expect(store.paymentCount(CID)).to.equal(3n);
  });

  it("tells observers of each committed group (not of a failed one), goes on past a throwing observer, and stops when told", async function () {
    const seen: CommitTiming[] = [];
    const stop = queue.observe((timing) => seen.push(timing));
    queue.observe(() => {
      throw new Error("a broken monitor");
    });
    const started = performance.timeOrigin + performance.now();
    await Promise.all([queue.reserveVersions(CID, 10n), queue.countersigned(CID, signed(CID, 1n), null)]);
    expect(seen).to.have.length(1);
    expect(seen[0].writes).to.equal(2);
    expect(seen[0].ms).to.be.at.least(0);
    expect(seen[0].startedAt).to.be.within(started, performance.timeOrigin + performance.now());

    expect(await outcome(queue.ownSignature(UNKNOWN, stateOf(UNKNOWN, 1n), SIG))).to.be.instanceOf(UnknownChannelError);
    expect(seen).to.have.length(1);

    stop();
    await queue.countersigned(CID, signed(CID, 2n), null);
    expect(seen).to.have.length(1);
    expect(store.latest(CID)!.state.version).to.equal(2n);
  });

  it("settles every writer of a group with the one time the store recorded for it, and a memo rides in the state's transaction", async function () {
    const memoRef: Hex = `0x${"0e".repeat(32)}`;
    const writes = [queue.memo(memoRef, "order #7"), queue.countersigned(CID, signed(CID, 1n), null), queue.reserveVersions(OTHER, 9n)];
    const times = await Promise.all(writes);
    expect(transactions).to.deep.equal([[`memo ${memoRef.slice(0, 6)}`, `countersigned ${short(CID)}`, `reserve ${short(OTHER)}`]]);
    expect(new Set(times).size).to.equal(1);
    const [record] = store.payments(CID); // none: a state without payments
    expect(record).to.equal(undefined);
    expect(store.stateAt(CID, 1n)).to.not.equal(null);
    // The time the writers got is the time on the stored rows.
    const later = await queue.countersigned(CID, signed(CID, 2n), [{ channelId: CID, seq: 0n, payer: 0, amount: 5n, ref: memoRef }]);
    expect(later).to.be.at.least(times[0]);
    expect(store.payment(CID, 0n)).to.deep.include({ committedAt: later, memo: "order #7" });
  });

  it("drain commits what is queued at once, within the turn", async function () {
    const write = queue.reserveVersions(CID, 7n);
    queue.drain();
    expect(store.reservedVersion(CID)).to.equal(7n);
    await write;
    queue.drain(); // nothing queued: no empty transaction
    expect(transactions).to.have.length(1);
  });
});
