/**
 * The invoice payer's record of a payment (table `invoice_payments`) against the lock that makes
 * it: written with the state that makes the lock when this node is participant 1 (that state is
 * the first place the lock exists), before the lock when it is participant 0; a second payment of
 * the invoice refused before any lock either way. Sessions are fakes that queue a stand-in for the
 * countersigned state in the node's group commit and call `onLocks`, as ChannelSession does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { CommittedUpdate } from "../../src/channel";
import { hashlockOf } from "../../src/crypto/hash";
import type { Invoice } from "../../src/invoice/types";
import { CommitQueue } from "../../src/node/commitQueue";
import { InvoicePayer } from "../../src/node/invoicePayer";
import { InvoiceAlreadyPaidError } from "../../src/node/payInvoiceErrors";
import { RouteFailures, type RouteFinder } from "../../src/node/routing";
import type { ChannelSession, LockAction } from "../../src/node/session";
import { ChannelStore } from "../../src/node/store";
import { ETH, type Address, type Hex, type Lock } from "../../src/types";
import { refOf, secretOf } from "../channel/helpers";

const PAYEE = "0x00000000000000000000000000000000000000cc" as Address;
const CHANNEL: Hex = `0x${"cd".repeat(32)}`;
const NOW = 1_700_000_000n;

describe("InvoicePayer: the payment's record and its lock", function () {
  let dir: string;
  let store: ChannelStore;
  let commits: CommitQueue;
  let payer: InvoicePayer;
  let errors: unknown[];
  const secret = secretOf("invoice");
  const hashlock = hashlockOf(secret);
  const invoice = { payee: PAYEE, asset: ETH, amount: 500n, hashlock, expiry: NOW + 86_400n, ref: refOf("invoice"), chainId: 1n } as unknown as Invoice;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-payer-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    commits = new CommitQueue(store);
    errors = [];
  });
  afterEach(function () {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(errors).to.deep.equal([]);
  });

  /**
   * A session of role `me` with the payee: a lock update queues a stand-in for its state (it reads
   * the payment's record in that transaction) and calls onLocks in the same turn, then waits for disk.
   */
  const sessionAs = (me: 0 | 1, seen: { action: LockAction; recordAtState: Promise<unknown>; recordBefore: unknown }[], refuse?: Error) => {
    const session = {
      id: CHANNEL,
      me,
      peerAddress: PAYEE,
      params: { asset: ETH },
      isConnected: true,
      locks: [] as Lock[],
      updateLock: async (action: LockAction) => {
        if (action.kind !== "lock") throw new Error("only locks here");
        if (refuse) throw refuse;
        const recordBefore = store.locks.payment(hashlock)?.status;
        const lock: Lock = { channelId: CHANNEL, sender: me, amount: action.amount, hashlock: action.hashlock, expiry: action.expiry, ref: action.ref };
        const state = commits.apply(() => store.locks.payment(hashlock)?.status ?? null);
        payer.onLocks(session as unknown as ChannelSession, { locks: { added: [lock], removed: [] }, payments: [] } as unknown as CommittedUpdate);
        seen.push({ action, recordAtState: state, recordBefore });
        await state;
      },
    };
    payer = new InvoicePayer({
      store,
      commits,
      address: "0x00000000000000000000000000000000000000aa",
      decode: (text) => Promise.resolve({ invoice, encoded: text, expired: false, sameNetwork: true } as never),
      openSessions: () => [session as unknown as ChannelSession],
      policy: { clock: () => NOW, secretRevealedAt: () => 0n, minLockWindow: 3_600n, maxLockDuration: 7n * 86_400n },
      onError: (error) => errors.push(error),
      routing: { finder: {} as RouteFinder, failures: new RouteFailures(), instruct: () => Promise.resolve({}) },
    });
  };

  it("as participant 1: nothing is written before the lock; the record shares the commit of the state that makes it", async function () {
    const seen: { action: LockAction; recordAtState: Promise<unknown>; recordBefore: unknown }[] = [];
    sessionAs(1, seen);
    const groups: number[] = [];
    commits.observe((t) => groups.push(t.writes));
    void payer.pay("sluice1invoice").catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).to.have.length(1);
    expect(seen[0].recordBefore).to.equal(undefined);
    // The state's transaction did not hold it yet (queued before it), the same group did.
    expect(await seen[0].recordAtState).to.equal(null);
    expect(groups).to.deep.equal([2]);
    expect(store.locks.payment(hashlock)).to.include({ status: "pending", amount: 500n, channelId: CHANNEL });
    // A second payment while the first is in flight: refused, no second lock.
    await expect(payer.pay("sluice1invoice")).to.be.rejectedWith(InvoiceAlreadyPaidError);
    expect(seen).to.have.length(1);
  });

  it("as participant 0: the record is on disk before the lock is proposed", async function () {
    const seen: { action: LockAction; recordAtState: Promise<unknown>; recordBefore: unknown }[] = [];
    sessionAs(0, seen);
    void payer.pay("sluice1invoice").catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).to.have.length(1);
    expect(seen[0].recordBefore).to.equal("pending");
  });

  it("a stored pending payment is refused before any lock; a failed one may be paid again", async function () {
    const seen: { action: LockAction; recordAtState: Promise<unknown>; recordBefore: unknown }[] = [];
    sessionAs(1, seen);
    store.locks.beginPayment({ hashlock, invoice: "sluice1invoice", channelId: CHANNEL, amount: 500n });
    await expect(payer.pay("sluice1invoice")).to.be.rejectedWith(InvoiceAlreadyPaidError, /is paying/);
    store.locks.finishPayment(hashlock, "failed", "test");
    void payer.pay("sluice1invoice").catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).to.have.length(1);
    expect(store.locks.payment(hashlock)?.status).to.equal("pending");
  });

  it("as participant 1, a lock the peer refuses: the attempt is recorded failed, with why", async function () {
    sessionAs(1, [], new Error("the hub said no"));
    await expect(payer.pay("sluice1invoice")).to.be.rejectedWith(/the hub said no/);
    expect(store.locks.payment(hashlock)).to.include({ status: "failed", error: "the hub said no" });
  });
});
