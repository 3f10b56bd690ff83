import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { decodeMessage, encodeSignedState, type ChannelMessage } from "../../src/channel";
import { EcdsaVerifier, channelId as channelIdOf, hashlockOf, paymentLeaf } from "../../src/crypto";
import { SluiceError, WrongRoleError } from "../../src/errors";
import { MerkleTree, PaymentLog } from "../../src/merkle";
import { CommitQueue } from "../../src/node/commitQueue";
import { decodeSyncReply, encodeSyncReply, encodeWithdrawalsReply, type PeerMessages, type SyncItem } from "../../src/node/protocol";
import { ChannelSession, SyncRejectedError, type SessionConfig } from "../../src/node/session";
import { ChannelStore } from "../../src/node/store";
import { ConnectionClosedError, RemoteError, type PeerConnection } from "../../src/node/transport";
import { type Hex, type Params, type Payment, type SignedState, type State } from "../../src/types";
import { hexOf } from "../client/arbitraries";
import { ADJUDICATOR, CHAIN_ID, KEYS, keysParams } from "../helpers/offchain";

const PARAMS: Params = keysParams(3n);
const ID = channelIdOf(PARAMS);
const DEPOSITS = [1_000n, 1_000n] as const;
const NOW = 1_700_000_000n;
const ref = (n: number): Hex => hexOf(Buffer.from(n.toString(16).padStart(64, "0"), "hex"));
const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value ?? {}));

type Handlers = { [K in keyof PeerMessages]?: (body: Record<string, unknown>) => unknown };

/**
 * One end of an in-memory connection: `request` sends the body as JSON text to the handlers of the
 * other end and returns their JSON answer; a SluiceError comes back as a RemoteError, as from the
 * transport. `close` closes both ends.
 */
class MemoryConnection extends EventEmitter {
  isOpen = true;
  other!: MemoryConnection;
  handlers: Handlers = {};

  async request(type: keyof PeerMessages, body: unknown): Promise<unknown> {
    if (!this.isOpen) throw new ConnectionClosedError(1006, "closed");
    const handler = this.other.handlers[type];
    if (!handler) throw new RemoteError("UNKNOWN_TYPE", `no handler for ${type}`);
    try {
      return json(await handler(json(body) as Record<string, unknown>));
    } catch (error) {
      if (error instanceof SluiceError) throw new RemoteError(error.name, error.message, { cause: error });
      throw error;
    }
  }

  close(): void {
    for (const end of [this, this.other]) {
      if (!end.isOpen) continue;
      end.isOpen = false;
      end.emit("close", new ConnectionClosedError(1006, "closed by the test"));
    }
  }
}

const asPeer = (c: MemoryConnection) => c as unknown as PeerConnection<PeerMessages>;

/** Serves a session's side of the peer protocol on `connection`, as the node does. */
function serve(session: ChannelSession, connection: MemoryConnection): void {
  connection.handlers = {
    channel: (body) => session.handle(asPeer(connection), decodeMessage(body.message)),
    sync: (body) => encodeSyncReply(session.syncReply(BigInt(body.version as string))),
    withdrawals: async () => encodeWithdrawalsReply(await session.withdrawalsReply()),
  };
}

describe("ChannelSession (real SQLite stores, in-memory connection)", function () {
  let dir: string;
  let stores: ChannelStore[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-session-"));
    stores = [];
  });

  afterEach(function () {
    for (const store of stores) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function openStore(name: string, me: 0 | 1): ChannelStore {
    const store = ChannelStore.open(path.join(dir, `${name}.db`));
    stores.push(store);
    store.putChannel({ params: PARAMS, myIndex: me, status: "open", deposits: DEPOSITS });
    return store;
  }

  function session(store: ChannelStore, me: 0 | 1, extra: Partial<SessionConfig> = {}): ChannelSession {
    return new ChannelSession({
      params: PARAMS,
      me,
      signer: KEYS[me],
      verifier: new EcdsaVerifier(),
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      store,
      commits: new CommitQueue(store),
      deposits: DEPOSITS,
      withdrawn: [0n, 0n],
      chainTime: () => Promise.resolve(NOW),
      maxWithdrawalWindow: 3600n,
      checkWithdrawable: () => undefined,
      ...extra,
    });
  }

  /** Connects two sessions (each serving the other) and syncs them. */
  async function connect(a: ChannelSession, b: ChannelSession): Promise<[MemoryConnection, MemoryConnection]> {
    const ends = [new MemoryConnection(), new MemoryConnection()] as const;
    ends[0].other = ends[1];
    ends[1].other = ends[0];
    serve(a, ends[0]);
    serve(b, ends[1]);
    await a.attach(asPeer(ends[0]));
    await b.attach(asPeer(ends[1]));
    return [ends[0], ends[1]];
  }

  async function pair(extra: Partial<SessionConfig> = {}) {
    const storeA = openStore("alice", 0);
    const storeB = openStore("bob", 1);
    const alice = session(storeA, 0, extra);
    const bob = session(storeB, 1, extra);
    const ends = await connect(alice, bob);
    return { alice, bob, storeA, storeB, ends };
  }

  /** Both signatures of `state`, as a state both sides signed. */
  const signBoth = (alice: ChannelSession, state: State): SignedState => {
    const digest = alice.hasher.digest(state);
    return { state, sigs: [KEYS[0].sign(digest), KEYS[1].sign(digest)] as [Hex, Hex] };
  };

  it("pays both ways; each payment resolves once the countersigned state is on both disks", async function () {
    const { alice, bob, storeA, storeB } = await pair();
    const first = await alice.pay(30n, ref(1));
    expect(first.version).to.equal(1n);
    expect(storeB.latest(ID)).to.deep.equal(alice.latest);
    const second = await bob.pay(10n, ref(2));
    expect(second.payment).to.include({ payer: 1, amount: 10n, seq: 1n });
    expect(storeA.latest(ID)).to.deep.equal(storeB.latest(ID));
    expect(alice.latest).to.deep.equal(bob.latest);
    expect(alice.latest.state.transferred).to.deep.equal([30n, 10n]);
    expect(storeA.payments(ID).map((r) => r.payment)).to.deep.equal(storeB.payments(ID).map((r) => r.payment));
    expect(alice.payouts).to.deep.equal([980n, 1020n]);
  });

  it("batches the payments of one turn into one state, and fails an unaffordable one alone", async function () {
    const { alice, bob, storeB } = await pair();
    const results = await Promise.allSettled([alice.pay(1n, ref(1)), alice.pay(2_000n, ref(2)), alice.pay(3n, ref(3)), bob.pay(4n, ref(4))]);
    expect(results.map((r) => r.status)).to.deep.equal(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    const versions = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ version: bigint }>).value.version);
    expect(new Set(versions).size).to.equal(1);
    expect(storeB.paymentCount(ID)).to.equal(3n);
    expect(bob.latest.state.transferred).to.deep.equal([4n, 4n]);
  });

  it("refuses a message meant for the other role with WrongRoleError; a refused payment changes neither side", async function () {
    const { alice, bob, ends } = await pair();
    await alice.pay(5n, ref(1));
    const proposal: ChannelMessage = { kind: "final-request" };
    const refused = await bob.handle(asPeer(ends[1]), proposal).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(WrongRoleError);
    // A proposal to participant 0 is a role error too: it proposes every state.
    const signed = alice.latest;
    const misrouted = await alice.handle(asPeer(ends[0]), { kind: "final", state: { ...signed.state, version: 9n, isFinal: true }, sig: signed.sigs[0] }).catch((e: unknown) => e);
    expect(misrouted).to.be.instanceOf(WrongRoleError);
    // Bob refuses more than his balance: Alice sees it as the peer's refusal, and both stay where they were.
    const before = [alice.latest, bob.latest];
    const overspend = await alice.pay(1_001n, ref(2)).catch((e: unknown) => e);
    expect(overspend).to.be.instanceOf(SluiceError);
    expect([alice.latest, bob.latest]).to.deep.equal(before);
  });

  it("a resync adopts a history both signed that checks out, and rejects a bad transition, adopting nothing", async function () {
    const storeA = openStore("alice", 0);
    const alice = session(storeA, 0);
    const payment: Payment = { channelId: ID, seq: 0n, payer: 0, amount: 7n, ref: ref(1) };
    const log = new PaymentLog([payment]);
    const good: SignedState = signBoth(alice, { ...alice.latest.state, version: 4n, transferred: [7n, 0n], paymentsRoot: log.root });
    const bad: SignedState = signBoth(alice, { ...good.state, version: 5n, transferred: [7n, 1n] });
    const offer = (items: SyncItem[]) => {
      const ends = [new MemoryConnection(), new MemoryConnection()] as const;
      ends[0].other = ends[1];
      ends[1].other = ends[0];
      ends[1].handlers = {
        sync: () => ({ items: items.map((i) => ({ signed: encodeSignedState(i.signed), payments: i.payments.map((p) => json({ ...p, seq: p.seq.toString(), amount: p.amount.toString() })) })), more: false }),
        withdrawals: () => ({ items: [] }),
      };
      return alice.attach(asPeer(ends[0]));
    };
    // The bad state's transfers grow by 1 with no payment: refused whole, though both signed it.
    const error = await offer([{ signed: good, payments: [payment] }, { signed: bad, payments: [] }]).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SyncRejectedError);
    expect((error as Error).message).to.match(/sync item 1 \(version 5\).*transfer/i);
    expect(alice.latest.state.version).to.equal(0n);
    expect(storeA.latest(ID)).to.equal(null);
    // A swapped signature is refused with the signer named.
    const swapped = await offer([{ signed: { ...good, sigs: [good.sigs[1], good.sigs[0]] }, payments: [payment] }]).catch((e: unknown) => e);
    expect((swapped as Error).message).to.match(/sync item 0 \(version 4\): signature 0/);
    await offer([{ signed: good, payments: [payment] }]);
    expect(alice.latest).to.deep.equal(good);
    expect(storeA.latest(ID)).to.deep.equal(good);
    expect(alice.paymentCount).to.equal(1);
    expect(decodeSyncReply(encodeSyncReply(alice.syncReply(0n))).items).to.have.length(1);
  });

  it("restarts from more payments than the restore page holds: the log is rebuilt from the stored leaves, the root matches, proofs work", async function () {
    const { alice, bob, storeA, storeB, ends } = await pair({ restorePage: 4 });
    for (let i = 0; i < 11; i++) await (i % 3 === 0 ? bob : alice).pay(BigInt(i + 1), ref(i));
    ends[0].close();
    const again = [session(storeA, 0, { restorePage: 4 }), session(storeB, 1, { restorePage: 4 })] as const;
    for (const [i, s] of again.entries()) {
      expect(s.paymentCount).to.equal(11);
      expect(s.latest).to.deep.equal([alice, bob][i].latest);
      const proof = s.proof(9n);
      expect(proof.payment).to.deep.equal(storeA.payment(ID, 9n)!.payment);
      expect(proof.root).to.equal(s.latest.state.paymentsRoot);
      expect(MerkleTree.verify(proof.proof.map((h) => Buffer.from(h.slice(2), "hex")), Buffer.from(proof.root.slice(2), "hex"), paymentLeaf(proof.payment))).to.equal(true);
    }
    await connect(again[0], again[1]);
    const done = await again[1].pay(1n, ref(99));
    expect(done.payment.seq).to.equal(11n);
    expect(again[0].latest).to.deep.equal(again[1].latest);
    // A store whose leaves do not give the latest root is refused at start.
    const wrong = openStore("wrong", 0);
    wrong.recordCountersigned(ID, signBoth(alice, { ...alice.latest.state, version: 1n, transferred: [0n, 0n] }), null);
    expect(() => session(wrong, 0)).to.throw(/root/i);
  });

  it("cashes out while open: the peer countersigns and stores the withdrawal before it answers; both count it", async function () {
    const { alice, bob, storeA, storeB } = await pair();
    await alice.pay(100n, ref(1));
    const signed = await bob.cashOut(300n, 600n);
    expect(signed.withdrawal).to.include({ participant: 1, total: 300n, expiry: NOW + 600n });
    expect(new EcdsaVerifier().verify(KEYS[0].address, alice.hasher.withdrawalDigest(signed.withdrawal), signed.sigs[0])).to.equal(true);
    for (const store of [storeA, storeB]) expect(store.withdrawals(ID, { live: true }).map((r) => r.status)).to.deep.equal(["signed"]);
    expect(alice.withdrawnOrPending(1)).to.equal(300n);
    expect(bob.withdrawnOrPending(1)).to.equal(300n);
    // More than what is left is refused by the proposer itself, and nothing is stored.
    await expect(bob.cashOut(1_000n, 600n)).to.be.rejectedWith(SluiceError);
    // The chain executes it: both mark it executed.
    for (const s of [alice, bob]) expect(s.setWithdrawn([0n, 300n]).map((r) => r.status)).to.deep.equal(["executed"]);
    expect(storeB.withdrawals(ID, { live: true })).to.deep.equal([]);
  });

  describe("locks", function () {
    const secretOf = (n: number): Hex => ref(1000 + n);
    const expiry = () => BigInt(Math.floor(Date.now() / 1000)) + 7_200n;
    const lockOf = (amount: bigint, n: number) => ({ kind: "lock" as const, amount, hashlock: hashlockOf(secretOf(n)), expiry: expiry(), ref: ref(n) });
    const types = (store: ChannelStore) => store.events.after(0n, 100, ["lock.added", "lock.settled", "lock.cancelled", "lock.expired"]).map((e) => e.type);

    it("locks both ways, unlocks and cancels; locks and secrets are on both disks with the state, each change an event", async function () {
      const { alice, bob, storeA, storeB } = await pair();
      const added = await alice.updateLock(lockOf(100n, 1));
      expect(added.locks?.added.map((l) => l.amount)).to.deep.equal([100n]);
      for (const [store, s] of [[storeA, alice], [storeB, bob]] as const) {
        expect(store.locks.pending(ID)).to.deep.equal(s.locks);
        expect(store.latest(ID)!.state.locked).to.deep.equal([100n, 0n]);
      }
      // Participant 1, the receiver, asks for the unlock with the secret: the amount is paid with a receipt of the lock's ref.
      const unlocked = await bob.updateLock({ kind: "unlock", lock: bob.locks[0], secret: secretOf(1) });
      expect(unlocked.payments.map((p) => [p.payment.amount, p.payment.ref])).to.deep.equal([[100n, ref(1)]]);
      for (const store of [storeA, storeB]) {
        expect(store.locks.pending(ID)).to.deep.equal([]);
        expect(store.locks.secret(hashlockOf(secretOf(1)))).to.equal(secretOf(1));
        expect(store.latest(ID)!.state.transferred).to.deep.equal([100n, 0n]);
        expect(store.payments(ID, { ref: ref(1) }).length).to.equal(1);
      }
      // Participant 1 locks; participant 0, the receiver, gives it back.
      await bob.updateLock(lockOf(40n, 2));
      await alice.updateLock({ kind: "cancel", lock: alice.locks[0] });
      for (const store of [storeA, storeB]) {
        expect(store.locks.pending(ID)).to.deep.equal([]);
        expect(store.latest(ID)!.state.locked).to.deep.equal([0n, 0n]);
        expect(types(store)).to.deep.equal(["lock.added", "lock.settled", "lock.added", "lock.cancelled"]);
      }
      // A lock update the rules refuse changes nothing on either disk.
      await expect(alice.updateLock({ ...lockOf(100n, 3), expiry: expiry() - 7_000n })).to.be.rejectedWith(SluiceError);
      expect(storeA.latest(ID)!.state.version).to.equal(storeB.latest(ID)!.state.version);
    });

    it("calls onLocks in the turn the lock state is queued: a write it queues shares the state's commit", async function () {
      const storeA = openStore("alice", 0);
      const storeB = openStore("bob", 1);
      const commits = new CommitQueue(storeB);
      const seen: { storedBefore: boolean; read: Promise<bigint | undefined> }[] = [];
      const bob = session(storeB, 1, {
        commits,
        onLocks: (_, committed) => {
          const storedBefore = storeB.latest(ID)?.state.version === committed.signed.state.version;
          seen.push({ storedBefore, read: commits.apply(() => storeB.latest(ID)?.state.version) });
        },
      });
      const alice = session(storeA, 0);
      await connect(alice, bob);
      const groups: number[] = [];
      commits.observe((t) => groups.push(t.writes));
      await alice.updateLock(lockOf(100n, 1));
      expect(seen).to.have.length(1);
      expect(seen[0].storedBefore).to.equal(false);
      // Its write ran in the state's transaction, after the state: it read the state's version.
      expect(await seen[0].read).to.equal(1n);
      // One group: the countersigned state, its locks, the write onLocks queued.
      expect(groups).to.deep.equal([3]);
    });

    it("expires a sender's lock once the lock rules' clock passes its expiry, both roles, and not before", async function () {
      let now = BigInt(Math.floor(Date.now() / 1000));
      const { alice, bob, storeA, storeB } = await pair({ lockPolicy: { clock: () => now } });
      const mine = await alice.updateLock({ ...lockOf(60n, 1), expiry: now + 7_200n });
      const theirs = await bob.updateLock({ ...lockOf(15n, 2), expiry: now + 7_200n });
      await expect(alice.updateLock({ kind: "expire", lock: mine.locks!.added[0] })).to.be.rejectedWith(SluiceError, /expir/i);
      now += 7_201n;
      await alice.updateLock({ kind: "expire", lock: mine.locks!.added[0] });
      await bob.updateLock({ kind: "expire", lock: theirs.locks!.added[0] });
      for (const store of [storeA, storeB]) {
        expect(store.locks.pending(ID)).to.deep.equal([]);
        expect(store.latest(ID)!.state.locked).to.deep.equal([0n, 0n]);
        expect(store.latest(ID)!.state.transferred).to.deep.equal([0n, 0n]);
        expect(types(store)).to.deep.equal(["lock.added", "lock.added", "lock.expired", "lock.expired"]);
      }
    });

    it("a restart restores the pending locks from the store; the lock then settles", async function () {
      const { alice, storeA, storeB, ends } = await pair();
      await alice.updateLock(lockOf(70n, 1));
      await alice.updateLock(lockOf(30n, 2));
      ends[0].close();
      const again = [session(storeA, 0), session(storeB, 1)] as const;
      const pendingBefore = alice.locks;
      expect(again[0].locks).to.have.deep.members(pendingBefore);
      expect(again[1].locks).to.have.deep.members(pendingBefore);
      expect(again[0].locks.map((l) => l.amount)).to.have.members([70n, 30n]);
      await connect(again[0], again[1]);
      const byAmount = (s: ChannelSession, amount: bigint) => s.locks.find((l) => l.amount === amount)!;
      await again[1].updateLock({ kind: "unlock", lock: byAmount(again[1], 70n), secret: secretOf(1) });
      await again[0].updateLock({ kind: "unlock", lock: byAmount(again[0], 30n), secret: secretOf(2) });
      expect(again[1].latest.state.transferred).to.deep.equal([100n, 0n]);
      expect(storeB.locks.pending(ID)).to.deep.equal([]);
    });

    it("a peer that is behind adopts lock states with their updates in the resync reply", async function () {
      const { alice, bob, ends } = await pair();
      await alice.pay(5n, ref(9));
      await alice.updateLock(lockOf(70n, 1));
      await bob.updateLock({ kind: "unlock", lock: bob.locks[0], secret: secretOf(1) });
      await alice.updateLock(lockOf(20n, 2));
      // The reply carries each lock state's updates, and survives its JSON form.
      const reply = decodeSyncReply(json(encodeSyncReply(alice.syncReply(0n))));
      expect(reply.items.map((i) => i.updates?.map((u) => u.op))).to.deep.equal([undefined, ["lock"], ["unlock"], ["lock"]]);
      // A participant 1 that lost its store catches up from participant 0, lock states included.
      ends[0].close();
      const fresh = session(openStore("bob-again", 1), 1);
      await connect(alice, fresh);
      expect(fresh.latest).to.deep.equal(alice.latest);
      expect(fresh.locks).to.deep.equal(alice.locks);
      expect(fresh.locks.map((l) => l.amount)).to.deep.equal([20n]);
    });
  });
});
