/**
 * End to end: a hub's routed payments made safe on chain, with real node processes, a real
 * `hardhat node` whose clock the test moves, and a peer proxy that holds a connection at the exact
 * frame that reveals the secret (so a node is killed knowing what it received).
 * - The hub goes offline after locking downstream: Carol's unlock never reaches Hank, who is
 *   killed -9. Carol registers the secret at `expiry − window`, disputes, settles and resolves the
 *   lock: paid. Hank, restarted, learns the secret from the chain and collects upstream from Alice.
 * - The payer disappears after locking: Hank's unlock never reaches Alice, who is killed -9 and
 *   stays down. Hank registers the secret at his incoming lock's `expiry − window`, disputes,
 *   settles and resolves the lock: paid.
 * - The hub challenges with its state from before the lock (read from its store, both
 *   signatures; the hub down): the payee refutes with the lock state, registers the secret at
 *   once and is paid by `resolveLock`; the hub, restarted, collects upstream off chain.
 * - The payee withholds the secret until just before its lock's window: the forward stays
 *   pending, nothing goes on chain, the late reveal settles both hops off chain with the hub's
 *   upstream lock still a window from its expiry.
 * Each ends with every party's balance checked against the chain (payouts, lock resolutions,
 * gas, no credits left) and their payment logs: the payer paid amount + fee, the hub earned the
 * fee, the payee got the amount.
 */
import path from "node:path";
import { expect } from "chai";
import { increaseTime, type AdjudicatorEvent } from "../../src/chain";
import type { ChannelView, PaymentView } from "../../src/node/api/types";
import { ChannelStore } from "../../src/node/store";
import { ChannelMode, ETH, type Hex, type Params, type SignedState } from "../../src/types";
import { ETHER, logsOf, openFunded, sleep, spentBy, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { startPeerProxy, type PeerProxy } from "./helpers/peerProxy";

const CHALLENGE_PERIOD = 300;
/** The lock policy's reveal window (DEFAULT_MIN_LOCK_WINDOW). */
const WINDOW = 3_600n;
const FEE_BASE = 1_000n;
const FEE_PPM = 2_000;
const hubConfig = { hub: true, feeBase: FEE_BASE.toString(), feePpm: FEE_PPM };
const feeOf = (amount: bigint) => FEE_BASE + (amount * BigInt(FEE_PPM)) / 1_000_000n;
const isUnlock = (text: string) => text.includes('"op":"unlock"');

/** Waits until the proxy held the frame with the secret (the failure lists what it passed). */
async function heldAtUnlock(proxy: PeerProxy, paying: Promise<unknown>): Promise<void> {
  let outcome: unknown = "pending";
  void paying.then((value) => (outcome = value));
  await waitFor(() => proxy.held !== undefined, { what: "the unlock frame" }).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; the payment: ${String(outcome)}; frames passed: ${proxy.passed.map((t) => t.slice(0, 160)).join(" | ")}`);
  });
}

describe("e2e: a hub's routed payments safe on chain", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  const proxies: PeerProxy[] = [];
  let nodes: ClusterNode[] = [];

  before(async function () {
    cluster = await startCluster({ challengePeriod: CHALLENGE_PERIOD, pollMs: 100 });
  });

  after(async function () {
    for (const proxy of proxies) await proxy.close();
    await cluster?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(...nodes));
    // Each scenario's nodes and proxy end with it: no redials and no ports taken under the next one.
    for (const node of nodes) await node.process.kill();
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  const chainTime = async () => BigInt((await cluster.chain.provider.getBlock("latest"))!.timestamp);
  /** Moves the chain's clock to `at` (or just past it) and mines a block. */
  const advanceTo = async (at: bigint) => {
    const now = await chainTime();
    if (at > now) await increaseTime(cluster.chain.provider, at - now);
  };
  const only = <N extends AdjudicatorEvent["name"]>(events: AdjudicatorEvent[], name: N) => events.filter((e): e is Extract<AdjudicatorEvent, { name: N }> => e.name === name);

  /** Payer → hub → payee, each with 1 ETH on both sides; the hub dials the payee, the payer the hub. `via` puts a proxy on one of those links. */
  async function line(names: [string, string, string], first: number, via: "payer" | "payee") {
    const [payer, hub, payee] = await Promise.all([
      cluster.startNode(names[0], first),
      cluster.startNode(names[1], first + 1, { config: hubConfig }),
      cluster.startNode(names[2], first + 2),
    ]);
    nodes = [payer, hub, payee];
    const proxy = await startPeerProxy(via === "payer" ? hub.peerUrl : payee.peerUrl);
    proxies.push(proxy);
    const payerHub = await openFunded(payer, via === "payer" ? { ...hub, peerUrl: proxy.url } : hub, ETH, [ETHER, ETHER]);
    const hubPayee = await openFunded(hub, via === "payee" ? { ...payee, peerUrl: proxy.url } : payee, ETH, [ETHER, ETHER]);
    return { payer, hub, payee, proxy, payerHub, hubPayee, fromBlock: await cluster.chain.provider.getBlockNumber() };
  }

  /** The channel's events on chain since `fromBlock`. */
  const channelEvents = (channel: ChannelView, fromBlock: number) => cluster.driver.events({ fromBlock, channelId: channel.channelId });

  /** Waits until the channel settled on chain and its lock was resolved; returns its events. */
  async function settledAndResolved(channel: ChannelView, fromBlock: number) {
    await waitFor(async () => only(await channelEvents(channel, fromBlock), "LockResolved").length > 0, { what: `the lock of ${channel.channelId} resolved on chain`, timeoutMs: 60_000 });
    const events = await channelEvents(channel, fromBlock);
    return { settled: only(events, "Settled")[0], resolved: only(events, "LockResolved")[0] };
  }

  /** `node` received exactly `expected` on chain since `fromBlock` (besides its own gas), nothing left as credits. */
  async function expectReceived(node: ClusterNode, before: bigint, fromBlock: number, expected: bigint): Promise<void> {
    const after = await cluster.chain.provider.getBalance(node.address);
    const { fees, value } = await spentBy(cluster.chain, node.address, fromBlock + 1);
    expect(value, `${node.name} sent no value`).to.equal(0n);
    expect(after - before + fees, `${node.name} received`).to.equal(expected);
    expect(await cluster.driver.credits(node.address), `${node.name}'s credits`).to.equal(0n);
  }

  const balancesOf = (...parties: ClusterNode[]) => Promise.all(parties.map((p) => cluster.chain.provider.getBalance(p.address)));

  /** The payee's invoice paid through the hub: the payer's call (pending until it is unlocked), the invoice, the amounts. */
  async function payThrough(payer: ClusterNode, hub: ClusterNode, payee: ClusterNode, amount: bigint) {
    // Invoices are dated by the lock rules' clock, max(wall, chain): an earlier test moved the chain
    // ahead, and the invoice still lasts its two hours from the chain's time once the payee's node
    // has read a block (a wall-clock date would leave it no reveal window at all).
    const expiresIn = 7_200n;
    let invoice: Awaited<ReturnType<typeof payee.process.api.createInvoice>> | undefined;
    await waitFor(
      async () => {
        invoice = await payee.process.api.createInvoice({ amount, asset: ETH, expiresIn, description: "routed, on chain" });
        return invoice.invoice.expiry >= (await chainTime()) + expiresIn - 60n;
      },
      { what: `${payee.name}'s invoice to last ${expiresIn} s from the chain's time`, timeoutMs: 10_000 },
    );
    if (invoice === undefined) throw new Error("no invoice");
    const paying = payer.process.api.payInvoice(invoice.encoded, [hub.address]).then(
      (receipt): PaymentView | Error => receipt,
      (error: unknown) => error as Error,
    );
    return { invoice, paying, hashlock: invoice.invoice.hashlock.toLowerCase() as Hex, fee: feeOf(amount) };
  }

  /** The expiry of the lock `node` stored in `channel` under `hashlock`, from its `lock.added` event (waits for it). */
  async function lockAdded(node: ClusterNode, channel: ChannelView, hashlock: Hex): Promise<bigint> {
    let expiry: bigint | undefined;
    await waitFor(
      async () => {
        const events = await node.process.api.listEvents({ types: ["lock.added"] });
        const found = events.find((e) => e.channelId?.toLowerCase() === channel.channelId.toLowerCase() && (e.data.hashlock as string).toLowerCase() === hashlock);
        if (found) expiry = BigInt(found.data.expiry as string);
        return found !== undefined;
      },
      { what: `${node.name}'s lock.added ${hashlock} in ${channel.channelId}` },
    );
    return expiry!;
  }

  /**
   * Payer → hub → payee (`line`), the payee's invoice paid through the hub with the proxy holding
   * the first frame that carries the secret; `setup` runs on the line before the payment.
   */
  async function heldPayment(names: [string, string, string], first: number, via: "payer" | "payee", amount: bigint, setup?: (l: Awaited<ReturnType<typeof line>>) => Promise<unknown>) {
    const l = await line(names, first, via);
    await setup?.(l);
    l.proxy.holdAt(isUnlock);
    const paid = await payThrough(l.payer, l.hub, l.payee, amount);
    await heldAtUnlock(l.proxy, paid.paying);
    return { ...l, ...paid };
  }

  /** The payer's lock to the hub was unlocked off chain: its receipt, its log, the hub's forward settled with its fee, the channel open on chain. */
  async function paidUpstream(payer: ClusterNode, hub: ClusterNode, channel: ChannelView, paid: Pick<Awaited<ReturnType<typeof payThrough>>, "paying" | "invoice" | "fee"> & { amount: bigint }) {
    const { paying, invoice, amount, fee } = paid;
    await waitFor(async () => (await payer.process.api.channel(channel.channelId)).locked[0] === 0n, { what: `${payer.name}'s lock unlocked`, timeoutMs: 60_000 });
    const receipt = await paying;
    expect(receipt instanceof Error ? receipt.message : receipt.amount).to.equal(amount + fee);
    const log = await payer.process.api.payments(channel.channelId, {});
    expect(log.map((p) => [p.amount, p.ref])).to.deep.equal([[amount + fee, invoice.invoice.ref]]);
    await waitFor(async () => (await hub.process.api.info()).hub?.pending === 0n, { what: `${hub.name}'s forward settled` });
    const [forward] = await hub.process.api.forwards({});
    expect(forward).to.include({ status: "settled", amountIn: amount + fee, amountOut: amount, fee });
    expect((await hub.process.api.info()).hub?.feesEarned).to.deep.equal([{ asset: ETH, amount: fee }]);
    expect((await cluster.driver.channelStatus(channel.channelId)).mode).to.equal(ChannelMode.Open);
  }

  /** Both ends at the same version, `closer` closes cooperatively: the chain pays out `payouts`. */
  async function closeAgreed(closer: ClusterNode, other: ClusterNode, channel: ChannelView, fromBlock: number, payouts: [bigint, bigint]) {
    await waitFor(async () => (await other.process.api.channel(channel.channelId)).version === (await closer.process.api.channel(channel.channelId)).version, { what: "both at the same version" });
    await closer.process.api.close(channel.channelId);
    const [closed] = only(await channelEvents(channel, fromBlock), "Closed");
    expect(closed.payouts).to.deep.equal(payouts);
  }

  it("the hub goes offline after locking downstream: the payee is paid on chain, the hub (restarted) collects upstream; nobody loses", async function () {
    const amount = ETHER / 10n;
    // Carol's unlock (it carries the secret) is held before Hank reads it: Hank dies without it.
    const { payer: alice, hub: hank, payee: carol, payerHub: ah, hubPayee: hc, invoice, paying, hashlock, fee } = await heldPayment(["alice", "hank", "carol"], 1, "payee", amount);
    await hank.process.kill();
    await waitFor(async () => (await carol.process.api.channel(hc.channelId)).locked[0] === amount, { what: "Carol to hold Hank's lock" });
    const expiryOut = await lockAdded(carol, hc, hashlock);
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await balancesOf(alice, hank, carol);

    // Before expiry − window nothing goes on chain; then Carol registers the secret and disputes.
    await advanceTo(expiryOut - WINDOW - 60n);
    expect(await cluster.driver.secretRevealedAt(hashlock)).to.equal(0n);
    await advanceTo(expiryOut - WINDOW);
    await waitFor(async () => (await cluster.driver.secretRevealedAt(hashlock)) !== 0n, { what: "Carol to register the secret", timeoutMs: 30_000 });
    await waitFor(async () => (await cluster.driver.channelStatus(hc.channelId)).mode === ChannelMode.Challenged, { what: "Carol's dispute", timeoutMs: 30_000 });
    const revealedAt = await cluster.driver.secretRevealedAt(hashlock);
    expect(revealedAt >= expiryOut - WINDOW && revealedAt <= expiryOut).to.equal(true);
    await advanceTo((await cluster.driver.channelStatus(hc.channelId)).deadline);
    const out = await settledAndResolved(hc, fromBlock);
    expect(out.settled.payouts).to.deep.equal([ETHER - amount, ETHER]);
    expect(out.settled.heldBack).to.deep.equal([amount, 0n]);
    expect([out.resolved.hashlock.toLowerCase(), out.resolved.paidTo, out.resolved.amount]).to.deep.equal([hashlock, 1, amount]);
    expect((await carol.process.api.invoice(invoice.id)).status).to.equal("paid");

    // Hank comes back: he learns the secret from the chain and Alice unlocks it off chain, well before her lock's window.
    await hank.process.restart();
    await paidUpstream(alice, hank, ah, { paying, invoice, amount, fee });
    await closeAgreed(alice, hank, ah, fromBlock, [ETHER - amount - fee, ETHER + amount + fee]);
    await expectReceived(alice, before[0], fromBlock, ETHER - amount - fee);
    await expectReceived(hank, before[1], fromBlock, ETHER - amount + ETHER + amount + fee);
    await expectReceived(carol, before[2], fromBlock, ETHER + amount);
  });

  it("the payer disappears after locking through the hub: the hub registers the secret, disputes, settles and is paid", async function () {
    const amount = ETHER / 20n;
    // Hugo's unlock to Ann is held; Ann is killed -9 and stays down. Cleo was paid off chain.
    const { payer: ann, hub: hugo, payee: cleo, payerHub: ah, hubPayee: hc, invoice, hashlock, fee } = await heldPayment(["ann", "hugo", "cleo"], 4, "payer", amount);
    await ann.process.kill();
    await waitFor(async () => (await cleo.process.api.invoice(invoice.id)).status === "paid", { what: "Cleo's invoice paid" });
    await waitFor(async () => (await cleo.process.api.channel(hc.channelId)).locked[0] === 0n, { what: "Cleo unlocked" });
    const expiryIn = await lockAdded(hugo, ah, hashlock);
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await balancesOf(ann, hugo, cleo);

    await advanceTo(expiryIn - WINDOW - 60n);
    expect(await cluster.driver.secretRevealedAt(hashlock)).to.equal(0n);
    expect((await cluster.driver.channelStatus(ah.channelId)).mode).to.equal(ChannelMode.Open);
    await advanceTo(expiryIn - WINDOW);
    await waitFor(async () => (await cluster.driver.secretRevealedAt(hashlock)) !== 0n, { what: "Hugo to register the secret", timeoutMs: 30_000 });
    await waitFor(async () => (await cluster.driver.channelStatus(ah.channelId)).mode === ChannelMode.Challenged, { what: "Hugo's dispute", timeoutMs: 30_000 });
    await advanceTo((await cluster.driver.channelStatus(ah.channelId)).deadline);
    const upstream = await settledAndResolved(ah, fromBlock);
    expect(upstream.settled.payouts).to.deep.equal([ETHER - amount - fee, ETHER]);
    expect(upstream.settled.heldBack).to.deep.equal([amount + fee, 0n]);
    expect([upstream.resolved.hashlock.toLowerCase(), upstream.resolved.paidTo, upstream.resolved.amount]).to.deep.equal([hashlock, 1, amount + fee]);
    await waitFor(async () => (await hugo.process.api.channel(ah.channelId)).status === "settled", { what: "Hugo's node to mark it settled" });

    // Hugo and Cleo close cooperatively; the payments logs and every balance against the chain.
    expect((await cleo.process.api.payments(hc.channelId, {})).map((p) => [p.amount, p.ref])).to.deep.equal([[amount, invoice.invoice.ref]]);
    await closeAgreed(hugo, cleo, hc, fromBlock, [ETHER - amount, ETHER + amount]);
    await expectReceived(hugo, before[1], fromBlock, ETHER + amount + fee + ETHER - amount);
    await expectReceived(cleo, before[2], fromBlock, ETHER + amount);
    // Ann, down, sent nothing and received her payout: what she deposited less amount + fee.
    const annNow = await cluster.chain.provider.getBalance(ann.address);
    expect(annNow - before[0]).to.equal(ETHER - amount - fee);
    expect(await cluster.driver.credits(ann.address)).to.equal(0n);
  });

  /** The hub's countersigned state of `version` in `channel`, read from its store (the hub is down). */
  function storedState(hub: ClusterNode, channel: ChannelView, version: bigint): SignedState {
    const store = ChannelStore.open(path.join(cluster.dir, hub.name, "store.sqlite"));
    try {
      const [found] = store.statesAfter(channel.channelId, version - 1n, 1);
      expect(found?.signed.state.version, `${hub.name}'s state ${version}`).to.equal(version);
      return found.signed;
    } finally {
      store.close();
    }
  }

  it("the hub challenges with its state from before the lock: the payee refutes with the lock state and is paid on chain; the hub still collects upstream", async function () {
    const direct = 1_000n;
    const amount = ETHER / 8n;
    const { payer: amy, hub: hal, payee: cat, payerHub: ah, hubPayee: hc, invoice, paying, hashlock, fee } = await heldPayment(["amy", "hal", "cat"], 7, "payee", amount, (l) =>
      l.hub.process.api.pay(l.hubPayee.channelId, direct, { memo: "before the lock" }),
    );
    await hal.process.kill();
    const expiryOut = await lockAdded(cat, hc, hashlock);
    const lockVersion = (await cat.process.api.channel(hc.channelId)).version;
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await balancesOf(amy, hal, cat);

    // Hal, from the test with his own key, challenges with his state from before the lock.
    const old = storedState(hal, hc, lockVersion - 1n);
    expect(old.state.locked).to.deep.equal([0n, 0n]);
    const params: Params = { participants: hc.participants, payees: hc.payees, asset: hc.asset, challengePeriod: hc.challengePeriod, nonce: hc.nonce };
    const cheat = await cluster.driver.connect(hal.wallet).challenge(params, old);
    expect(cheat.version).to.equal(lockVersion - 1n);
    await waitFor(async () => (await cluster.driver.channelStatus(hc.channelId)).version === lockVersion, { what: "Cat's refutation", timeoutMs: 30_000 });
    // The channel can't change off chain any more: Cat registers the secret at once, long before expiry − window.
    await waitFor(async () => (await cluster.driver.secretRevealedAt(hashlock)) !== 0n, { what: "Cat to register the secret", timeoutMs: 30_000 });
    expect((await cluster.driver.secretRevealedAt(hashlock)) < expiryOut - WINDOW).to.equal(true);
    await advanceTo((await cluster.driver.channelStatus(hc.channelId)).deadline);
    const out = await settledAndResolved(hc, fromBlock);
    expect(out.settled.version).to.equal(lockVersion);
    expect(out.settled.payouts).to.deep.equal([ETHER - direct - amount, ETHER + direct]);
    expect(out.settled.heldBack).to.deep.equal([amount, 0n]);
    expect([out.resolved.hashlock.toLowerCase(), out.resolved.paidTo, out.resolved.amount]).to.deep.equal([hashlock, 1, amount]);
    expect((await cat.process.api.payments(hc.channelId, {})).map((p) => p.amount)).to.deep.equal([direct]);
    const resolvedAtCat = await cat.process.api.listEvents({ types: ["lock.resolved"] });
    expect(resolvedAtCat.map((e) => [(e.data.hashlock as string).toLowerCase(), e.data.outcome])).to.deep.equal([[hashlock, "paid"]]);

    await hal.process.restart();
    await paidUpstream(amy, hal, ah, { paying, invoice, amount, fee });
    await closeAgreed(amy, hal, ah, fromBlock, [ETHER - amount - fee, ETHER + amount + fee]);
    await expectReceived(amy, before[0], fromBlock, ETHER - amount - fee);
    await expectReceived(hal, before[1], fromBlock, ETHER - direct - amount + ETHER + amount + fee);
    await expectReceived(cat, before[2], fromBlock, ETHER + direct + amount);
  });

  it("the payee withholds the secret until just before its lock's window: the forward stays pending, the late reveal settles off chain, the hub keeps a window upstream", async function () {
    const amount = ETHER / 4n;
    const { payer: abby, hub: huck, payee: cody, proxy, payerHub: ah, hubPayee: hc, invoice, paying, hashlock, fee } = await heldPayment(["abby", "huck", "cody"], 10, "payee", amount);
    const expiryOut = await lockAdded(cody, hc, hashlock);
    const expiryIn = await lockAdded(huck, ah, hashlock);
    expect(expiryIn - expiryOut >= WINDOW, `e_in ${expiryIn} − e_out ${expiryOut} ≥ the window`).to.equal(true);
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await balancesOf(abby, huck, cody);

    // Just before Cody's guard would go on chain: the forward is still pending, nothing on chain.
    await advanceTo(expiryOut - WINDOW - 60n);
    await sleep(1_000);
    expect((await huck.process.api.info()).hub?.pending).to.equal(1n);
    expect((await huck.process.api.forwards({})).map((f) => f.status)).to.deep.equal(["pending"]);
    expect(await cluster.driver.secretRevealedAt(hashlock)).to.equal(0n);

    // Cody reveals now (the held connection dropped, he answers the lock again on the new one).
    proxy.cut();
    await paidUpstream(abby, huck, ah, { paying, invoice, amount, fee });
    const upstreamLeft = expiryIn - (await chainTime());
    expect(upstreamLeft >= WINDOW, `${upstreamLeft} s left upstream`).to.equal(true);
    expect((await cody.process.api.payments(hc.channelId, {})).map((p) => [p.amount, p.ref])).to.deep.equal([[amount, invoice.invoice.ref]]);
    expect(await cluster.driver.secretRevealedAt(hashlock)).to.equal(0n);
    expect((await cluster.driver.channelStatus(hc.channelId)).mode).to.equal(ChannelMode.Open);

    await closeAgreed(abby, huck, ah, fromBlock, [ETHER - amount - fee, ETHER + amount + fee]);
    await closeAgreed(huck, cody, hc, fromBlock, [ETHER - amount, ETHER + amount]);
    await expectReceived(abby, before[0], fromBlock, ETHER - amount - fee);
    await expectReceived(huck, before[1], fromBlock, ETHER + amount + fee + ETHER - amount);
    await expectReceived(cody, before[2], fromBlock, ETHER + amount);
  });
});
