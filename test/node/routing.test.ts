/**
 * Routing without processes: the fee arithmetic and the forwarding rules (routing/rules.ts), the
 * forwards table, and the hub's answers (routing/hub.ts) driven with in-memory channels: a lock
 * forwarded and unlocked upstream with the secret, one refused by a rule or by the next channel's
 * cap on pending locks (the 484th, with real channel state machines under the default policy), and
 * one whose outgoing lock came back, each cancelled upstream with a `route-failed` message.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MAX_PENDING_LOCKS, DEFAULT_MIN_LOCK_WINDOW, TooManyLocksError, type CommittedUpdate, type UpdateEntry } from "../../src/channel";
import { hashlockOf, lockLeafHex } from "../../src/crypto/hash";
import { channelId as channelIdOf } from "../../src/crypto";
import type { RouteBody, RouteFailure, RouteHop } from "../../src/node/protocol";
import {
  ForwardExpiryError,
  ForwardFeeTooLowError,
  ForwardInvoiceMismatchError,
  Hub,
  RouteFailures,
  Routing,
  RouteFinder,
  NoRouteError,
  forwardFee,
  forwardTerms,
  planRoute,
  type HubFees,
  type RoutingHost,
} from "../../src/node/routing";
import type { LockAction, ChannelSession } from "../../src/node/session";
import { ChannelStore } from "../../src/node/store";
import { CommitQueue } from "../../src/node/commitQueue";
import { decodeHubInfo } from "../../src/node/protocol";
import { HUB_INFO_STALE_MS, HUB_INFO_TTL_MS, HubInfoCache } from "../../src/node/routing/hubInfoCache";
import type { HubInfo } from "../../src/node/protocol";
import type { Invoice } from "../../src/invoice/types";
import { encodeInvoice } from "../../src/invoice";
import { ETH, type Address, type Hex, type Lock, type SignedState } from "../../src/types";
import { Clock, Registry, WINDOW, by0, configOf, makePair, refOf, secretOf, wire, type Pair } from "../channel/helpers";
import { keysParams } from "../helpers/offchain";

const T0 = 1_800_000_000n;
/** 0x and the given hex digits. */
const hex = (digits: string): Hex => `0x${digits}`;
const FEES: HubFees = { base: 10n, ppm: 1_000 };

describe("routing", function () {
  describe("forwardFee", function () {
    const rows: { fees: HubFees; amount: bigint; fee: bigint }[] = [
      { fees: { base: 0n, ppm: 0 }, amount: 10n ** 18n, fee: 0n },
      { fees: { base: 10n, ppm: 0 }, amount: 1n, fee: 10n },
      { fees: { base: 0n, ppm: 1_000 }, amount: 999n, fee: 0n }, // rounded down
      { fees: { base: 0n, ppm: 1_000 }, amount: 1_000n, fee: 1n },
      { fees: { base: 7n, ppm: 2_500 }, amount: 10n ** 18n, fee: 7n + 25n * 10n ** 14n },
      { fees: { base: 0n, ppm: 1_000_000 }, amount: 2n ** 255n, fee: 2n ** 255n }, // exact beyond 2^53
    ];
    for (const { fees, amount, fee } of rows) {
      it(`base ${fees.base} + ${fees.ppm} ppm of ${amount} is ${fee}`, function () {
        expect(forwardFee(fees, amount)).to.equal(fee);
      });
    }
  });

  describe("forwardTerms", function () {
    const base = { fees: FEES, now: T0, revealWindow: WINDOW };
    it("forwards the instruction's amount a reveal window earlier, keeping what is above it", function () {
      const terms = forwardTerms({ ...base, amountIn: 1_050n, expiryIn: T0 + 3n * WINDOW, hop: { next: ETH, amount: 1_000n } });
      expect(terms).to.deep.equal({ amountOut: 1_000n, fee: 50n, expiryOut: T0 + 2n * WINDOW });
    });
    it("takes the instruction's expiry when it is earlier", function () {
      const terms = forwardTerms({ ...base, amountIn: 1_011n, expiryIn: T0 + 5n * WINDOW, hop: { next: ETH, amount: 1_000n, expiry: T0 + 2n * WINDOW } });
      expect(terms.expiryOut).to.equal(T0 + 2n * WINDOW);
      expect(terms.fee).to.equal(11n);
    });
    const refusals: { what: string; amountIn: bigint; expiryIn: bigint; hopExpiry?: bigint; error: new (...args: never[]) => Error }[] = [
      { what: "an incoming amount one below amount + fee", amountIn: 1_010n, expiryIn: T0 + 3n * WINDOW, error: ForwardFeeTooLowError },
      { what: "an incoming lock leaving less than a window after this hop's", amountIn: 1_011n, expiryIn: T0 + 2n * WINDOW - 1n, error: ForwardExpiryError },
      { what: "an instruction's expiry inside the reveal window", amountIn: 1_011n, expiryIn: T0 + 5n * WINDOW, hopExpiry: T0 + WINDOW - 1n, error: ForwardExpiryError },
    ];
    for (const row of refusals) {
      it(`refuses ${row.what}`, function () {
        const hop = { next: ETH, amount: 1_000n, ...(row.hopExpiry === undefined ? {} : { expiry: row.hopExpiry }) };
        expect(() => forwardTerms({ ...base, amountIn: row.amountIn, expiryIn: row.expiryIn, hop })).to.throw(row.error);
      });
    }
  });

  describe("planRoute", function () {
    const H1 = "0x00000000000000000000000000000000000000a1" as Address;
    const H2 = "0x00000000000000000000000000000000000000a2" as Address;
    const C = "0x00000000000000000000000000000000000000cc" as Address;
    const input = { payee: C, amount: 1_000_000n, now: T0, revealWindow: WINDOW, maxLockDuration: 100n * WINDOW, margin: 60n };

    it("adds each hub's fee on what it forwards, from the payee back, and leaves a window per hop", function () {
      const plan = planRoute({ ...input, hubs: [{ address: H1, fees: { base: 5n, ppm: 1_000 } }, { address: H2, fees: { base: 3n, ppm: 2_000 } }], invoiceExpiry: T0 + 50n * WINDOW })!;
      const toH2 = 1_000_000n + 3n + 2_000n;
      const toH1 = toH2 + 5n + (toH2 * 1_000n) / 1_000_000n;
      expect(plan.hops).to.deep.equal([
        { next: H2, amount: toH2 },
        { next: C, amount: 1_000_000n },
      ]);
      expect(plan.amount).to.equal(toH1);
      expect(plan.fees).to.equal(toH1 - 1_000_000n);
      // The payee's lock ends at the invoice's expiry: two windows above it for the payer.
      expect(plan.expiry).to.equal(T0 + 52n * WINDOW);
    });
    it("caps the payer's lock at the longest duration", function () {
      const plan = planRoute({ ...input, hubs: [{ address: H1, fees: FEES }], invoiceExpiry: T0 + 1_000n * WINDOW })!;
      expect(plan.expiry).to.equal(T0 + 100n * WINDOW - 60n);
    });
    it("finds no plan when the payee's lock would fall inside the reveal window", function () {
      expect(planRoute({ ...input, hubs: [{ address: H1, fees: FEES }], invoiceExpiry: T0 + WINDOW + 59n })).to.equal(undefined);
    });
    it("plans with each hub's published window and longest lock: every hop's expiry passes that hub's forwardTerms and caps", function () {
      const hubs = [
        { address: H1, fees: FEES, lockWindow: 3n * WINDOW, maxLockDuration: 20n * WINDOW },
        { address: H2, fees: FEES, lockWindow: 2n * WINDOW, maxLockDuration: 12n * WINDOW },
      ];
      /** Walks the route as the hubs will: each takes the lock within its longest and forwards it its own window earlier; the payee's lock. */
      const walk = (expiry: bigint, hops: RouteHop[]) => {
        for (const [i, hub] of hubs.entries()) {
          expect(expiry, `${hub.address} receives a lock within its longest`).to.be.at.most(T0 + hub.maxLockDuration);
          expiry = forwardTerms({ amountIn: 10n ** 9n, expiryIn: expiry, hop: hops[i], fees: FEES, now: T0, revealWindow: hub.lockWindow }).expiryOut;
        }
        return expiry;
      };
      const plan = planRoute({ ...input, hubs, invoiceExpiry: T0 + 50n * WINDOW })!;
      // H2 takes no lock longer than 12 windows and gets H1's less 3: the payer's lock is capped at 15, not at the invoice's 50 + 5.
      expect(plan.expiry).to.equal(T0 + 15n * WINDOW - 60n);
      expect(walk(plan.expiry, plan.hops), "the payee's lock").to.equal(T0 + 10n * WINDOW - 60n);
      // Each hub's outgoing lock must clear its own window: H2's (2) binds the payee's lock, H1's (3) is met with H2's 2 above it.
      expect(planRoute({ ...input, hubs, invoiceExpiry: T0 + 2n * WINDOW + 59n })).to.equal(undefined);
      const edge = planRoute({ ...input, hubs, invoiceExpiry: T0 + 2n * WINDOW + 60n })!;
      expect(edge.expiry).to.equal(T0 + 7n * WINDOW + 60n);
      expect(walk(edge.expiry, edge.hops)).to.equal(T0 + 2n * WINDOW + 60n);
      // A hub given no rules keeps the payer's (the finder gives one that publishes none the defaults).
      expect(planRoute({ ...input, hubs: [{ address: H1, fees: FEES }], invoiceExpiry: T0 + 50n * WINDOW })!.expiry).to.equal(T0 + 51n * WINDOW);
    });
  });

  describe("RouteFinder", function () {
    const H1 = "0x00000000000000000000000000000000000000a1" as Address;
    const C = "0x00000000000000000000000000000000000000cc" as Address;
    const invoice = { payee: C, asset: ETH, amount: 1_000_000n, hashlock: hashlockOf(secretOf("find")), expiry: T0 + 50n * WINDOW } as unknown as Invoice;
    const toHub = { peerAddress: H1, params: { asset: ETH }, isConnected: true, me: 0, payouts: [10n ** 9n, 0n] } as unknown as ChannelSession;
    const infoOf = (reaches: boolean): HubInfo => ({ address: H1, fees: FEES, peers: reaches ? [{ peer: C, asset: ETH, capacity: 10n ** 9n }] : [] });
    const finderOf = (answer: (fresh: boolean) => HubInfo, asked: boolean[]) =>
      new RouteFinder({
        openSessions: () => [toHub],
        hubInfo: (_peer, _via, fresh) => {
          asked.push(fresh === true);
          return Promise.resolve(answer(fresh === true));
        },
        policy: { clock: () => T0, minLockWindow: WINDOW, maxLockDuration: 100n * WINDOW },
        margin: 60n,
      });

    it("takes a recent hub answer; one that does not reach the payee is asked again afresh before giving up", async function () {
      const asked: boolean[] = [];
      const route = await finderOf((fresh) => infoOf(fresh), asked).find(invoice, "sluice1find");
      expect(route.hubs).to.deep.equal([H1]);
      expect(asked).to.deep.equal([false, true]);
      const direct: boolean[] = [];
      await finderOf(() => infoOf(true), direct).find(invoice, "sluice1find");
      expect(direct).to.deep.equal([false]);
    });

    it("plans a hub's hop with the window it publishes, and with the defaults (not the payer's own) when it publishes none", async function () {
      const published = await finderOf(() => ({ ...infoOf(true), lockWindow: 2n * WINDOW }), []).find(invoice, "sluice1find");
      expect(published.plan.expiry).to.equal(invoice.expiry + 2n * WINDOW);
      const silent = await finderOf(() => infoOf(true), []).find(invoice, "sluice1find");
      expect(silent.plan.expiry).to.equal(invoice.expiry + DEFAULT_MIN_LOCK_WINDOW);
    });

    it("refuses an answer in another hub's name: relayed for an explicit route, or a peer's own", async function () {
      const H2 = "0x00000000000000000000000000000000000000a2" as Address;
      // Asked about H2 through H1, H1 answers in its own name (or any other): no route, nothing locked.
      const relayed = finderOf(() => infoOf(true), []).find(invoice, "sluice1find", [H1, H2]);
      await expect(relayed).to.be.rejectedWith(NoRouteError, /the answer for hub 0x0{38}a2 came in the name of 0x0{38}a1/);
      // A connected peer answering in another's name is no candidate.
      const forged = finderOf(() => ({ ...infoOf(true), address: H2 }), []).find(invoice, "sluice1find");
      await expect(forged).to.be.rejectedWith(NoRouteError);
    });

    it("no hub reaches the payee, even asked afresh: NO_ROUTE", async function () {
      const asked: boolean[] = [];
      await expect(finderOf(() => infoOf(false), asked).find(invoice, "sluice1find")).to.be.rejectedWith(NoRouteError);
      expect(asked).to.deep.equal([false, true]);
    });
  });

  describe("ForwardStore", function () {
    let dir: string;
    let store: ChannelStore;
    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "sluice-forwards-"));
      store = ChannelStore.open(path.join(dir, "store.sqlite"));
    });
    afterEach(function () {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const forward = (n: number) => ({
      hashlock: hashlockOf(secretOf(n)),
      asset: ETH,
      inChannel: hex("11".repeat(32)),
      inLeaf: hex(n.toString(16).padStart(64, "0")),
      outChannel: hex("22".repeat(32)),
      outLeaf: hex((n + 1_000).toString(16).padStart(64, "0")),
      nextHop: ETH,
      amountIn: 1_050n,
      amountOut: 1_000n,
      fee: 50n,
      outExpiry: T0,
    });

    it("records a forward once, with its lock.forwarded event; a second add returns the stored row", function () {
      const first = store.forwards.add({ ...forward(1), hashlock: forward(1).hashlock.toUpperCase().replace("0X", "0x") as Hex });
      expect(first.status).to.equal("pending");
      // What add returns without reading it back is the row a read returns.
      expect(first).to.deep.equal(store.forwards.byIncoming(forward(1).inChannel, forward(1).inLeaf));
      expect(store.forwards.add({ ...forward(1), amountOut: 1n }).amountOut).to.equal(1_000n);
      expect(store.events.after(0n, 100).filter((e) => e.type === "lock.forwarded")).to.have.length(1);
      expect(store.forwards.byOutgoing(forward(1).outChannel, forward(1).outLeaf)?.id).to.equal(first.id);
    });
    it("ends a pending forward once; the totals count settled and pending, and the fees of the settled per asset", function () {
      const [a, b, c] = [1, 2, 3].map((n) => store.forwards.add(forward(n)));
      expect(store.forwards.finish(a.id, "settled")).to.equal(true);
      expect(store.forwards.finish(a.id, "cancelled", "late")).to.equal(false);
      store.forwards.finish(b.id, "cancelled", "FORWARD_NO_CHANNEL: offline");
      expect(store.forwards.totals()).to.deep.equal({ settled: 1n, pending: 1n, feesEarned: [{ asset: ETH, amount: 50n }] });
      expect(store.forwards.pending().map((f) => f.id)).to.deep.equal([c.id]);
      expect(store.forwards.list({ limit: 2 }).map((f) => f.id)).to.deep.equal([c.id, b.id]);
      expect(store.forwards.list({ before: b.id }).map((f) => f.id)).to.deep.equal([a.id]);
      expect(store.forwards.list({ status: "cancelled" })[0].error).to.equal("FORWARD_NO_CHANNEL: offline");
    });
  });

  describe("HubInfoCache", function () {
    const H = "0x00000000000000000000000000000000000000ee" as Address;
    const infoOf = (n: number): HubInfo => ({ address: H, fees: { base: BigInt(n), ppm: 0 }, peers: [] });

    it("gives a fresh answer as is, an older one at once while it asks again in the background, and asks anew past the stale limit", async function () {
      let now = 1_000_000;
      const cache = new HubInfoCache(() => now);
      let asked = 0;
      const ask = () => Promise.resolve(infoOf(++asked));
      expect((await cache.get(H, [], ask)).fees.base).to.equal(1n);
      now += HUB_INFO_TTL_MS - 1;
      expect((await cache.get(H, [], ask)).fees.base).to.equal(1n);
      expect(asked).to.equal(1);
      // Past its freshness: the kept answer at once, a new one asked, which the next call gets.
      now += 2;
      expect((await cache.get(H, [], ask)).fees.base).to.equal(1n);
      expect(asked).to.equal(2);
      expect((await cache.get(H, [], ask)).fees.base).to.equal(2n);
      expect(asked).to.equal(2);
      // Past the stale limit: the call waits for a new answer.
      now += HUB_INFO_STALE_MS;
      expect((await cache.get(H, [], ask)).fees.base).to.equal(3n);
      // A route through the hub failed: forgotten, asked again.
      cache.forget(H);
      expect((await cache.get(H, [], ask)).fees.base).to.equal(4n);
    });

    it("gives the stale answer while the background ask fails, then drops it", async function () {
      let now = 1_000_000;
      const cache = new HubInfoCache(() => now);
      await cache.get(H, [], () => Promise.resolve(infoOf(1)));
      now += HUB_INFO_TTL_MS + 1;
      expect((await cache.get(H, [], () => Promise.reject(new Error("gone")))).fees.base).to.equal(1n);
      await new Promise((resolve) => setImmediate(resolve));
      expect((await cache.get(H, [], () => Promise.resolve(infoOf(2)))).fees.base).to.equal(2n);
    });
  });

  describe("Routing (hub-info answers)", function () {
    it("reuses its own answer for a moment: many payers asking at once cost one look over the channels", async function () {
      let looked = 0;
      const session = { isConnected: true, peerAddress: "0x00000000000000000000000000000000000000c1", params: { asset: ETH }, payouts: [7n, 0n], me: 0 };
      const routing = new Routing({
        fees: FEES,
        address: "0x00000000000000000000000000000000000000ee",
        policy: { clock: () => T0, minLockWindow: 2n * WINDOW, maxLockDuration: 30n * WINDOW },
        openSessions: () => {
          looked++;
          return [session as unknown as ChannelSession];
        },
      } as unknown as RoutingHost);
      const ask = () => routing.handlers["hub-info"]({}, {} as never) as Promise<Record<string, unknown>>;
      const first = await ask();
      expect(await ask()).to.deep.equal(first);
      expect(looked).to.equal(1);
      expect(JSON.stringify(first)).to.contain("0x00000000000000000000000000000000000000c1");
      // It publishes its lock rules with its fees: a payer plans its expiries with them.
      expect(decodeHubInfo(first)).to.deep.include({ lockWindow: 2n * WINDOW, maxLockDuration: 30n * WINDOW });
      // A hub that publishes none (an older one) still decodes.
      const { lockWindow: _w, maxLockDuration: _d, ...older } = first;
      expect(decodeHubInfo(older)).to.not.have.property("lockWindow");
      // A hub with the default rules publishes none: its answer is one an older payer's schema takes too.
      const plain = new Routing({
        fees: FEES,
        address: "0x00000000000000000000000000000000000000ee",
        policy: { clock: () => T0, minLockWindow: DEFAULT_MIN_LOCK_WINDOW, maxLockDuration: DEFAULT_MAX_LOCK_DURATION },
        openSessions: () => [session as unknown as ChannelSession],
      } as unknown as RoutingHost);
      expect(Object.keys((await plain.handlers["hub-info"]({}, {} as never)) as Record<string, unknown>).sort()).to.deep.equal(["address", "fees", "peers"]);
      await new Promise((resolve) => setTimeout(resolve, 250));
      await ask();
      expect(looked).to.equal(2);
    });
  });

  describe("Hub", function () {
    const A = "0x00000000000000000000000000000000000000aa" as Address;
    let dir: string;
    let store: ChannelStore;
    let pair: Pair;
    let clock: Clock;
    let sent: { peer: Address; type: string; body: unknown }[];
    let errors: unknown[];
    let upstream: LockAction[];
    let failures: RouteFailures;
    let hub: Hub;
    let commits: CommitQueue;
    let inSession: ChannelSession;
    let outSession: ChannelSession;
    const inChannel = hex("ab".repeat(32));
    const secret = secretOf("routed");
    const hashlock = hashlockOf(secret);
    const inLock: Lock = { channelId: inChannel, sender: 0, amount: 1_050n, hashlock, expiry: T0 + 4n * WINDOW, ref: refOf("routed") };

    /** The hub's host over this test's store, sessions and recorders. */
    const hubHost = (): ConstructorParameters<typeof Hub>[0] => ({
      store,
      commits,
      address: "0x00000000000000000000000000000000000000ee",
      fees: FEES,
      policy: { clock: clock.read, minLockWindow: WINDOW, maxLockDuration: 100n * WINDOW },
      openSessions: () => [inSession, outSession],
      session: (id) => [inSession, outSession].find((s) => s.id.toLowerCase() === id.toLowerCase()),
      request: (peer, type, body) => {
        sent.push({ peer, type, body });
        return Promise.resolve({});
      },
      failures,
      onError: (error) => errors.push(error),
    });

    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "sluice-hub-"));
      store = ChannelStore.open(path.join(dir, "store.sqlite"));
      commits = new CommitQueue(store);
      clock = new Clock(T0);
      // The hub is participant 0 of a real channel state machine pair to the payee, under the default caps.
      pair = makePair(clock, new Registry(), { deposits: [10n ** 9n, 0n] });
      const payee = configOf(0).params.participants[1];
      sent = [];
      errors = [];
      upstream = [];
      failures = new RouteFailures();
      inSession = fakeSession({ id: inChannel, me: 1, peer: A, locks: () => [inLock], update: (action) => upstream.push(action) });
      const outId = channelIdOf(keysParams(15n));
      outSession = fakeSession({
        id: outId,
        me: 0,
        peer: payee,
        locks: () => pair[0].locks,
        update: async (action) => {
          const { proposal, rejected } = await pair[0].proposeUpdates([action]);
          if (!proposal) throw rejected[0].error;
          const { committed, send } = await pair[1].countersign(wire(proposal));
          await pair[0].receiveAck(wire(send));
          return committed;
        },
      });
      hub = new Hub(hubHost());
      const invoice = invoiceText({ payee, hashlock, amount: 1_000n });
      const body: RouteBody = { hashlock, invoice, hops: [{ next: payee, amount: 1_000n }] };
      hub.onRoute(body, A);
    });
    afterEach(function () {
      store.close();
      rmSync(dir, { recursive: true, force: true });
      expect(errors).to.deep.equal([]);
    });

    const arrive = () => hub.onLocks(inSession, { locks: { added: [inLock], removed: [] } } as unknown as CommittedUpdate);
    const until = async (condition: () => boolean) => {
      for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(condition(), "in time").to.equal(true);
    };

    it("forwards the lock (the forward on disk first), and unlocks upstream with the secret once the payee unlocks", async function () {
      arrive();
      await until(() => pair[0].locks.length === 1);
      const [outLock] = pair[0].locks;
      expect(outLock).to.include({ amount: 1_000n, expiry: inLock.expiry - WINDOW, hashlock });
      const forward = store.forwards.byOutgoing(outSession.id, lockLeafHex(outLock))!;
      expect(forward).to.include({ status: "pending", amountIn: 1_050n, amountOut: 1_000n, fee: 50n });
      // The payee's unlock is on disk with its secret: the hub unlocks upstream at once.
      store.locks.putSecret(hashlock, secret);
      hub.onLocks(outSession, { locks: { added: [], removed: [{ lock: outLock, reason: "unlock", secret }] } } as unknown as CommittedUpdate);
      await until(() => upstream.length === 1);
      expect(upstream[0]).to.deep.equal({ kind: "unlock", lock: inLock, secret });
      hub.onLocks(inSession, { locks: { added: [], removed: [{ lock: inLock, reason: "unlock", secret }] } } as unknown as CommittedUpdate);
      await until(() => store.forwards.totals().settled === 1n);
      expect(store.forwards.totals().feesEarned).to.deep.equal([{ asset: ETH, amount: 50n }]);
      const ended = store.events.after(0n, 100).filter((e) => e.type.startsWith("forward."));
      expect(ended.map((e) => [e.type, e.channelId, e.data.hashlock, e.data.fee])).to.deep.equal([["forward.settled", inChannel, hashlock, "50"]]);
    });

    it("writes the forward in the commit of the incoming lock's state (queued in the same turn), and locks downstream once it is on disk", async function () {
      const groups: number[] = [];
      commits.observe((t) => groups.push(t.writes));
      // The incoming lock's state, queued as the session does before it calls onLocks: a write that reads the forwards then.
      const sameTransaction = commits.apply(() => store.forwards.list().length);
      arrive();
      expect(pair[0].locks).to.have.length(0);
      await until(() => pair[0].locks.length === 1);
      expect(await sameTransaction).to.equal(0);
      // One group: that write and the forward after it; the outgoing lock went out only then.
      expect(groups[0]).to.equal(2);
      expect(store.forwards.list()).to.have.length(1);
    });

    it("a store failing every commit while a lock is forwarded: the failure is reported, nothing is locked downstream, no promise is left unhandled", async function () {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on("unhandledRejection", onUnhandled);
      try {
        const diskError = new Error("disk I/O error");
        commits.forward = () => Promise.reject(diskError);
        commits.apply = () => Promise.reject(diskError);
        arrive();
        await until(() => errors.length === 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(errors).to.deep.equal([diskError]);
        expect(unhandled).to.deep.equal([]);
        expect(pair[0].locks).to.have.length(0);
        expect(upstream).to.deep.equal([]);
        errors.length = 0;
      } finally {
        process.off("unhandledRejection", onUnhandled);
      }
    });

    it("unlocks upstream as soon as the payee's unlock is queued for disk, with the secret it carries", async function () {
      arrive();
      await until(() => pair[0].locks.length === 1);
      const [outLock] = pair[0].locks;
      hub.onLocks(outSession, { locks: { added: [], removed: [{ lock: outLock, reason: "unlock", secret }] } } as unknown as CommittedUpdate);
      // Not read from the store (the state that carries it is not on disk yet).
      expect(store.locks.secret(hashlock)).to.equal(null);
      expect(upstream).to.deep.equal([{ kind: "unlock", lock: inLock, secret }]);
    });

    it("a payee's unlock that comes while the forward's own call still runs: upstream is unlocked when that call ends", async function () {
      const lockDownstream = outSession.updateLock.bind(outSession);
      outSession.updateLock = async (action: LockAction) => {
        const committed = await lockDownstream(action);
        const [outLock] = pair[0].locks;
        hub.onLocks(outSession, { locks: { added: [], removed: [{ lock: outLock, reason: "unlock", secret }] } } as unknown as CommittedUpdate);
        expect(upstream).to.deep.equal([]);
        return committed;
      };
      arrive();
      await until(() => upstream.length === 1);
      expect(upstream[0]).to.deep.equal({ kind: "unlock", lock: inLock, secret });
    });

    it("restarted with a forward pending, the secret learned from the chain (the payee registered it): unlocks upstream", async function () {
      arrive();
      await until(() => pair[0].locks.length === 1);
      const restarted = new Hub(hubHost());
      restarted.resume(inSession);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(upstream).to.deep.equal([]);
      // The watcher's SecretRevealed: the guard kept the secret, then the hub is told.
      store.locks.putSecret(hashlock, secret);
      restarted.onSecret(hashlock);
      await until(() => upstream.length === 1);
      expect(upstream[0]).to.deep.equal({ kind: "unlock", lock: inLock, secret });
    });

    it("restarted after its incoming lock was unlocked but before the forward was ended: the forward reads settled, its fee earned", async function () {
      arrive();
      await until(() => pair[0].locks.length === 1);
      // The upstream unlock's state is on disk (its lock rows and secret), the forward's finish never ran (the hub died).
      const signed = (version: bigint) => ({
        state: { channelId: inChannel, version, transferred: [0n, 0n], locked: [0n, 0n], locksRoot: hex("07".repeat(32)), paymentsRoot: hex("08".repeat(32)), isFinal: false },
        sigs: [hex("ab".repeat(65)), hex("ab".repeat(65))],
      }) as SignedState;
      store.locks.record({ channelId: inChannel, signed: signed(1n), updates: [{ op: "lock", lock: inLock }], locks: { added: [inLock], removed: [] } });
      store.locks.record({
        channelId: inChannel,
        signed: signed(2n),
        updates: [{ op: "unlock", lock: inLock, secret }],
        locks: { added: [], removed: [{ lock: inLock, reason: "unlock", secret }] },
      });
      expect(store.forwards.list()[0].status).to.equal("pending");
      inSession = fakeSession({ id: inChannel, me: 1, peer: A, locks: () => [], update: (action) => upstream.push(action) });
      const restarted = new Hub(hubHost());
      restarted.resume(inSession);
      await until(() => store.forwards.totals().settled === 1n);
      expect(store.forwards.list()[0]).to.include({ status: "settled" });
      expect(store.forwards.totals().feesEarned).to.deep.equal([{ asset: ETH, amount: 50n }]);
      expect(upstream).to.deep.equal([]);
    });

    it("the 484th pending lock of the next channel is refused: cancelled upstream with TOO_MANY_LOCKS, the forward cancelled", async function () {
      this.timeout(60_000);
      const fill: UpdateEntry[] = Array.from({ length: DEFAULT_MAX_PENDING_LOCKS }, (_, i) => ({
        kind: "lock",
        amount: 1n,
        hashlock: hashlockOf(secretOf(`fill-${i}`)),
        expiry: T0 + 2n * WINDOW,
        ref: refOf(i),
      }));
      for (let i = 0; i < fill.length; i += 128) await by0(pair, ...fill.slice(i, i + 128));
      expect(pair[0].locks).to.have.length(DEFAULT_MAX_PENDING_LOCKS);
      arrive();
      await until(() => upstream.length === 1);
      expect(upstream[0]).to.deep.equal({ kind: "cancel", lock: inLock });
      const failure = sent.find((m) => m.type === "route-failed")!;
      expect(failure.peer).to.equal(A);
      expect(failure.body).to.include({ hashlock, code: TooManyLocksError.code });
      expect(pair[0].locks).to.have.length(DEFAULT_MAX_PENDING_LOCKS);
      expect(store.forwards.list({ status: "cancelled" })[0].error).to.match(/^TOO_MANY_LOCKS/);
      const ended = store.events.after(0n, 1000).filter((e) => e.type.startsWith("forward."));
      expect(ended.map((e) => e.type)).to.deep.equal(["forward.cancelled"]);
      expect(ended[0].data.error).to.match(/^TOO_MANY_LOCKS/);
    });

    it("refuses a last hop that does not match its invoice, before anything is locked", async function () {
      hub.onRoute({ hashlock, invoice: invoiceText({ payee: A, hashlock, amount: 1_000n }), hops: [{ next: outSession.peerAddress, amount: 1_000n }] }, A);
      arrive();
      await until(() => upstream.length === 1);
      expect(upstream[0].kind).to.equal("cancel");
      expect((sent[0].body as RouteFailure).code).to.equal(ForwardInvoiceMismatchError.code);
      expect(pair[0].locks).to.have.length(0);
      expect(store.forwards.list()).to.have.length(0);
    });

    it("the outgoing lock given back: the next hop's failure is relayed upstream and the lock cancelled", async function () {
      arrive();
      await until(() => pair[0].locks.length === 1);
      const [outLock] = pair[0].locks;
      const downstream: RouteFailure = { hashlock, hop: outSession.peerAddress, code: "FORWARD_NO_CHANNEL", reason: "the next hop is not connected" };
      failures.note(downstream, outSession.peerAddress);
      hub.onLocks(outSession, { locks: { added: [], removed: [{ lock: outLock, reason: "cancel" }] } } as unknown as CommittedUpdate);
      await until(() => upstream.length === 1);
      expect(upstream[0]).to.deep.equal({ kind: "cancel", lock: inLock });
      expect(sent.find((m) => m.type === "route-failed")?.body).to.deep.equal(downstream);
    });
  });
});

/** The parts of a ChannelSession the hub reads, over a given lock list and update function. */
function fakeSession(config: { id: Hex; me: 0 | 1; peer: Address; locks(): Lock[]; update(action: LockAction): unknown }): ChannelSession {
  return {
    id: config.id,
    me: config.me,
    peerAddress: config.peer,
    params: { asset: ETH },
    isConnected: true,
    payouts: [10n ** 9n, 10n ** 9n],
    get locks() {
      return config.locks();
    },
    pendingLock: (leaf: Hex) => config.locks().find((lock) => lockLeafHex(lock) === leaf.toLowerCase()),
    updateLock: async (action: LockAction) => config.update(action),
  } as unknown as ChannelSession;
}

/**
 * The `sluice1…` text of an invoice to `payee`. Its signature is no one's: a hub matches the last
 * hop to the invoice's fields and leaves the payee's signature to the payer (see `readInvoice`).
 */
function invoiceText(fields: { payee: Address; hashlock: Hex; amount: bigint }): string {
  return encodeInvoice({
    chainId: 31_337n,
    adjudicator: "0x00000000000000000000000000000000000000ad",
    asset: ETH,
    expiry: T0 + 10n * WINDOW,
    ref: refOf("invoice"),
    description: "",
    signature: `0x${"11".repeat(64)}1b`,
    ...fields,
  });
}
