/**
 * The store's event log: each change's event is written in the change's transaction (a failed
 * write leaves neither), only real changes make events, ids rise by one, and listeners hear once
 * per turn, after the commit.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { channelId as channelIdOf } from "../../src/crypto";
import { CommitQueue } from "../../src/node/commitQueue";
import { ChannelStore, UnknownChannelError, type EventRecord } from "../../src/node/store";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type Payment, type SignedState } from "../../src/types";

const ALICE: Address = "0x00000000000000000000000000000000000a11ce";
const BOB: Address = "0x0000000000000000000000000000000000000b0b";
const PARAMS: Params = { participants: [ALICE, BOB], payees: [ALICE, BOB], asset: ETH, challengePeriod: 600n, nonce: 1n };
const CID = channelIdOf(PARAMS);
const UNKNOWN = channelIdOf({ ...PARAMS, nonce: 9n });
const SIG: Hex = `0x${"a1".repeat(65)}`;
const REF: Hex = `0x${"0f".repeat(32)}`;

const signed = (version: bigint, transferred: [bigint, bigint]): SignedState => ({
  state: { channelId: CID, version, transferred, locked: [0n, 0n], locksRoot: ZERO_HASH, paymentsRoot: ZERO_HASH, isFinal: false },
  sigs: [SIG, SIG],
});
const payment = (seq: bigint, payer: 0 | 1, amount: bigint): Payment => ({ channelId: CID, seq, payer, amount, ref: REF });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const brief = (events: EventRecord[]) => events.map((e) => [e.id, e.type]);

describe("event log", function () {
  let dir: string;
  let store: ChannelStore;
  let clock: number;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-events-"));
    clock = 1_700_000_000_000;
    store = ChannelStore.open(path.join(dir, "store.sqlite"), { now: () => clock });
    store.putChannel({ params: PARAMS, myIndex: 0, status: "opening" });
  });

  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a new channel is an event of its first status, with the peer, the asset and this side's index", function () {
    expect(store.events.after(0n, 100)).to.deep.equal([
      { id: 1n, type: "channel.opening", channelId: CID, at: clock, data: { created: true, peer: BOB, asset: ETH, me: 0 } },
    ]);
    store.putChannel({ params: PARAMS, myIndex: 0 });
    expect(store.events.lastId(), "storing it again is no change").to.equal(1n);
  });

  it("writes a payment's event with its state: sent by this side, received from the peer, with the state's time", async function () {
    const queue = new CommitQueue(store);
    clock += 5;
    await queue.countersigned(CID, signed(1n, [7n, 0n]), [payment(0n, 0, 7n)]);
    await queue.countersigned(CID, signed(2n, [7n, 3n]), [payment(1n, 1, 3n)]);
    const events = store.events.after(1n, 100);
    expect(events).to.deep.equal([
      { id: 2n, type: "payment.sent", channelId: CID, at: clock, data: { seq: "0", payer: 0, amount: "7", ref: REF, version: "1" } },
      { id: 3n, type: "payment.received", channelId: CID, at: clock, data: { seq: "1", payer: 1, amount: "3", ref: REF, version: "2" } },
    ]);
    expect(store.events.lastId()).to.equal(3n);
  });

  it("a failed group commit leaves no event of any of its writes", async function () {
    const queue = new CommitQueue(store);
    const group = [queue.countersigned(CID, signed(1n, [7n, 0n]), [payment(0n, 0, 7n)]), queue.reserveVersions(UNKNOWN, 5n)];
    const outcomes = await Promise.allSettled(group);
    expect(outcomes.map((o) => o.status)).to.deep.equal(["rejected", "rejected"]);
    expect(store.events.after(1n, 100)).to.deep.equal([]);
    // The next event takes the next id: nothing was half-written.
    await queue.countersigned(CID, signed(1n, [7n, 0n]), [payment(0n, 0, 7n)]);
    expect(brief(store.events.after(1n, 100))).to.deep.equal([[2n, "payment.sent"]]);
  });

  it("statuses, deposits, withdrawals: one event per real change, none for a write that changes nothing or fails", function () {
    store.setStatus(CID, "open");
    store.setStatus(CID, "open");
    store.setDeposits(CID, [10n, 0n]);
    store.setDeposits(CID, [10n, 0n]);
    store.setDeposits(CID, [10n, 4n]);
    store.setWithdrawn(CID, [0n, 0n]);
    store.setWithdrawn(CID, [2n, 0n]);
    const withdrawal = { channelId: CID, participant: 0 as const, total: 2n, expiry: 99n };
    store.putWithdrawal(CID, { withdrawal, sigs: [SIG, "0x"], status: "proposed" });
    store.putWithdrawal(CID, { withdrawal, sigs: [SIG, SIG], status: "signed" });
    store.putWithdrawal(CID, { withdrawal, sigs: [SIG, SIG], status: "signed" });
    expect(() => store.setStatus(UNKNOWN, "open")).to.throw(UnknownChannelError);
    expect(() => store.setDeposits(UNKNOWN, [1n, 0n])).to.throw(UnknownChannelError);
    const events = store.events.after(1n, 100);
    expect(events.map((e) => [e.type, e.data])).to.deep.equal([
      ["channel.open", { previous: "opening" }],
      ["channel.deposit", { deposits: ["10", "0"] }],
      ["channel.deposit", { deposits: ["10", "4"] }],
      ["channel.withdrawn", { withdrawn: ["2", "0"] }],
      ["withdrawal.proposed", { participant: 0, total: "2", expiry: "99" }],
      ["withdrawal.signed", { participant: 0, total: "2", expiry: "99" }],
    ]);
    expect(events.map((e) => e.id)).to.deep.equal([2n, 3n, 4n, 5n, 6n, 7n]);
    // Paging and filtering.
    expect(brief(store.events.after(3n, 2))).to.deep.equal([
      [4n, "channel.deposit"],
      [5n, "channel.withdrawn"],
    ]);
    expect(brief(store.events.after(0n, 100, ["channel.deposit", "withdrawal.signed"]))).to.deep.equal([
      [3n, "channel.deposit"],
      [4n, "channel.deposit"],
      [7n, "withdrawal.signed"],
    ]);
  });

  it("wakes listeners once per turn with events, after the commit; a rolled-back event is never seen; stops when told", async function () {
    let wakes = 0;
    let seen: bigint[] = [];
    const stop = store.events.listen(() => {
      wakes++;
      seen = store.events.after(1n, 100).map((e) => e.id);
    });
    store.setStatus(CID, "open");
    store.setDeposits(CID, [1n, 0n]);
    expect(wakes).to.equal(0);
    await nextTurn();
    expect(wakes).to.equal(1);
    expect(seen).to.deep.equal([2n, 3n]);
    expect(() =>
      store.transaction(() => {
        store.setDeposits(CID, [2n, 0n]);
        throw new Error("abort");
      }),
    ).to.throw("abort");
    await nextTurn();
    expect(seen).to.deep.equal([2n, 3n]);
    stop();
    store.setStatus(CID, "closing");
    await nextTurn();
    expect(store.events.after(1n, 100).map((e) => e.id)).to.deep.equal([2n, 3n, 4n]);
    expect(wakes).to.equal(2);
  });
});
