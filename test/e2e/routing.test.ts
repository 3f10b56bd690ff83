/**
 * End to end: invoices paid through hubs, real node processes and a `hardhat node`. Alice pays
 * Carol through the hub Hank (A→H→C, the hub found by asking Alice's peers): Carol's invoice is
 * paid, Hank keeps his fee, the three nodes' channels agree and the chain pays out what they say
 * after cooperative closes; the receipts prove with `verifyPayment`. An explicit 3-hop route
 * (A→H→I→C) through a hub with a longer reveal window than the others (Iris: 100 min, published
 * with her fees; planned with the payer's 1 h she would refuse the lock); a hop that can't forward (its channel too small, its next peer offline) cancels back
 * and Alice gets ROUTE_FAILED naming it, nothing moved; a kill -9 of the hub in the middle of a
 * burst loses no payment Alice saw succeed and leaves no lock pending.
 */
import path from "node:path";
import { expect } from "chai";
import type { ChannelView, PaymentView } from "../../src/node/api/types";
import { ETH } from "../../src/types";
import { sluice } from "./helpers/cli";
import { ETHER, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

const FEE_BASE = 1_000n;
const FEE_PPM = 2_000;
const hubConfig = { hub: true, feeBase: FEE_BASE.toString(), feePpm: FEE_PPM };
const feeOf = (amount: bigint) => FEE_BASE + (amount * BigInt(FEE_PPM)) / 1_000_000n;

const failureOf = async (work: Promise<unknown>): Promise<{ code: string; details: Record<string, unknown> }> => {
  try {
    await work;
  } catch (error) {
    const e = error as { code?: unknown; details?: Record<string, unknown> };
    return { code: String(e.code), details: e.details ?? {} };
  }
  throw new Error("expected the call to fail");
};

const nothingLocked = (view: ChannelView) => view.locked[0] === 0n && view.locked[1] === 0n;

describe("e2e: routed payments through hubs", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let hank: ClusterNode;
  let iris: ClusterNode;
  let carol: ClusterNode;
  let dave: ClusterNode;
  /** Alice → Hank, Hank → Carol, Hank → Iris, Iris → Carol, Hank → Dave (small). */
  let ah: ChannelView;
  let hc: ChannelView;
  let hi: ChannelView;
  let ic: ChannelView;
  let startBlock: number;

  const all = () => [alice, hank, iris, carol, dave];

  before(async function () {
    cluster = await startCluster();
    startBlock = await cluster.chain.provider.getBlockNumber();
    [alice, hank, iris, carol, dave] = await Promise.all([
      cluster.startNode("alice", 1),
      cluster.startNode("hank", 2, { config: hubConfig }),
      cluster.startNode("iris", 3, { config: { ...hubConfig, lockWindow: "100m" } }),
      cluster.startNode("carol", 4),
      cluster.startNode("dave", 5),
    ]);
    ah = await openFunded(alice, hank, ETH, [ETHER, ETHER]);
    hc = await openFunded(hank, carol, ETH, [ETHER, ETHER]);
    // Carol opens to Iris: Iris is participant 1 there (she asks for her locks).
    hi = await openFunded(hank, iris, ETH, [ETHER, ETHER]);
    ic = await openFunded(carol, iris, ETH, [ETHER, ETHER]);
    await openFunded(hank, dave, ETH, [ETHER / 1_000n, 0n]);
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(...all()));
  });

  /** Waits until `node` sees `channel` with no lock pending, and returns it. */
  async function settled(node: ClusterNode, channel: ChannelView): Promise<ChannelView> {
    await waitFor(async () => nothingLocked(await node.process.api.channel(channel.channelId)), { what: `${node.name}: no lock in ${channel.channelId}` });
    return node.process.api.channel(channel.channelId);
  }

  /** Both ends of `channel` agree on its transfers, and nothing is locked. */
  async function agreedTransfers(a: ClusterNode, b: ClusterNode, channel: ChannelView): Promise<[bigint, bigint]> {
    const [x, y] = [await settled(a, channel), await settled(b, channel)];
    await waitFor(async () => (await b.process.api.channel(channel.channelId)).version === (await a.process.api.channel(channel.channelId)).version, {
      what: "both ends at the same version",
    });
    expect((await b.process.api.channel(channel.channelId)).transferred).to.deep.equal((await a.process.api.channel(channel.channelId)).transferred);
    expect(x.transferred.length === 2 && y.transferred.length === 2).to.equal(true);
    return (await a.process.api.channel(channel.channelId)).transferred;
  }

  it("A→H→C: Alice pays Carol's invoice through the hub she finds; Carol is paid, Hank keeps his fee, the channels agree", async function () {
    const amount = ETHER / 10n;
    const fee = feeOf(amount);
    const invoice = await carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n, description: "routed order" });
    const receipt: PaymentView = await alice.process.api.payInvoice(invoice.encoded);
    expect(receipt.channelId.toLowerCase()).to.equal(ah.channelId.toLowerCase());
    expect(receipt.amount).to.equal(amount + fee);
    expect(receipt.ref).to.equal(invoice.invoice.ref);
    await waitFor(async () => (await carol.process.api.invoice(invoice.id)).status === "paid", { what: "Carol's invoice paid" });

    expect(await agreedTransfers(alice, hank, ah)).to.deep.equal([amount + fee, 0n]);
    expect(await agreedTransfers(hank, carol, hc)).to.deep.equal([amount, 0n]);
    const carolsReceipt = await carol.process.api.payments(hc.channelId, { ref: invoice.invoice.ref });
    expect(carolsReceipt.map((p) => p.amount)).to.deep.equal([amount]);

    await waitFor(async () => (await hank.process.api.info()).hub?.forwarded === 1n, { what: "Hank's forward settled" });
    const hub = (await hank.process.api.info()).hub!;
    expect(hub.fees).to.deep.equal({ base: FEE_BASE, ppm: FEE_PPM });
    expect(hub.pending).to.equal(0n);
    expect(hub.feesEarned).to.deep.equal([{ asset: ETH, amount: fee }]);
    const [forward] = await hank.process.api.forwards({});
    expect(forward).to.include({ status: "settled", amountIn: amount + fee, amountOut: amount, fee });
    expect(forward.inChannel.toLowerCase()).to.equal(ah.channelId.toLowerCase());
    expect(forward.outChannel.toLowerCase()).to.equal(hc.channelId.toLowerCase());
    expect((await alice.process.api.info()).hub).to.equal(undefined);

    // The CLI: `status` shows the hub, `forwards` the forward, `pay --route` refuses a route of 4.
    const datadir = path.join(cluster.dir, "hank");
    const status = await sluice("status", "--datadir", datadir);
    expect(status.stdout).to.match(new RegExp(`hub\\s+routing on, fee ${FEE_BASE} base units \\+ ${FEE_PPM} ppm; 1 payments forwarded, 0 pending; fees earned: ${fee} base units`));
    const listed = await sluice("forwards", "--datadir", datadir, "--json");
    expect((JSON.parse(listed.stdout) as { status: string; fee: string }[]).map((f) => [f.status, f.fee])).to.deep.equal([["settled", fee.toString()]]);
    const other = await carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n });
    const tooLong = await sluice("pay", other.encoded, "--route", [hank, iris, hank, iris].map((n) => n.address).join(","), "--datadir", path.join(cluster.dir, "alice"), "--json");
    expect(tooLong.code).to.equal(1);
    expect((JSON.parse(tooLong.stdout) as { error: { code: string } }).error.code).to.equal("ROUTE_TOO_LONG");
  });

  it("3 hops with an explicit route A→H→I→C: each hub keeps its fee on what it forwards, Iris's longer window planned for", async function () {
    const before = { ah: await agreedTransfers(alice, hank, ah), hi: await agreedTransfers(hank, iris, hi), ic: await agreedTransfers(carol, iris, ic) };
    const amount = ETHER / 20n;
    const toIris = amount + feeOf(amount);
    const toHank = toIris + feeOf(toIris);
    const invoice = await carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n });
    const receipt = await alice.process.api.payInvoice(invoice.encoded, [hank.address, iris.address]);
    expect(receipt.amount).to.equal(toHank);
    expect((await carol.process.api.invoice(invoice.id)).status).to.equal("paid");
    expect(await agreedTransfers(alice, hank, ah)).to.deep.equal([before.ah[0] + toHank, before.ah[1]]);
    expect(await agreedTransfers(hank, iris, hi)).to.deep.equal([before.hi[0] + toIris, before.hi[1]]);
    // Carol is participant 0 of her channel with Iris: Iris (participant 1) paid her.
    expect(await agreedTransfers(carol, iris, ic)).to.deep.equal([before.ic[0], before.ic[1] + amount]);
    await waitFor(async () => (await iris.process.api.info()).hub?.forwarded === 1n, { what: "Iris's forward settled" });
    expect((await iris.process.api.info()).hub?.feesEarned).to.deep.equal([{ asset: ETH, amount: feeOf(amount) }]);
    // A route of 4 hubs is refused before anything is locked.
    const other = await carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n });
    const tooLong = await failureOf(alice.process.api.payInvoice(other.encoded, [hank.address, iris.address, hank.address, iris.address]));
    expect(tooLong.code).to.equal("ROUTE_TOO_LONG");
  });

  it("a hop that can't forward cancels back: Alice gets ROUTE_FAILED naming the hub and why, nothing moved", async function () {
    const before = await agreedTransfers(alice, hank, ah);
    const hiBefore = await agreedTransfers(hank, iris, hi);
    const forwardsBefore = (await hank.process.api.forwards({})).length;
    // Hank's channel to Dave holds less than the invoice: found by no route, refused by Hank on an explicit one.
    const big = await dave.process.api.createInvoice({ amount: ETHER / 100n, asset: ETH, expiresIn: 7_200n });
    expect((await failureOf(alice.process.api.payInvoice(big.encoded))).code).to.equal("NO_ROUTE");
    const tooSmall = await failureOf(alice.process.api.payInvoice(big.encoded, [hank.address]));
    expect(tooSmall.code).to.equal("ROUTE_FAILED");
    expect(tooSmall.details).to.include({ hop: hank.address.toLowerCase(), peerCode: "INSUFFICIENT_FUNDS" });
    // Two hubs: Iris has no channel with Dave; her failure is relayed by Hank to Alice as she sent it.
    const viaIris = await dave.process.api.createInvoice({ amount: ETHER / 10_000n, asset: ETH, expiresIn: 7_200n });
    const relayed = await failureOf(alice.process.api.payInvoice(viaIris.encoded, [hank.address, iris.address]));
    expect(relayed.code).to.equal("ROUTE_FAILED");
    expect(relayed.details).to.include({ hop: iris.address.toLowerCase(), peerCode: "FORWARD_NO_CHANNEL" });
    expect(await agreedTransfers(hank, iris, hi)).to.deep.equal(hiBefore);
    // Dave offline: Hank can't reach him.
    const small = await dave.process.api.createInvoice({ amount: ETHER / 10_000n, asset: ETH, expiresIn: 7_200n });
    await dave.process.kill();
    await waitFor(async () => (await hank.process.api.info()).hub !== undefined && !(await hubReaches(hank, dave.address)), { what: "Hank to see Dave offline" });
    const offline = await failureOf(alice.process.api.payInvoice(small.encoded, [hank.address]));
    expect(offline.code).to.equal("ROUTE_FAILED");
    expect(offline.details).to.include({ hop: hank.address.toLowerCase(), peerCode: "FORWARD_NO_CHANNEL" });
    expect(await agreedTransfers(alice, hank, ah)).to.deep.equal(before);
    const refused = (await hank.process.api.forwards({})).slice(0, (await hank.process.api.forwards({})).length - forwardsBefore);
    expect(refused.every((f) => f.status === "cancelled")).to.equal(true);
    await dave.process.restart();
  });

  /** Whether the hub lists `peer` as reachable now (its channel open, the peer connected). */
  async function hubReaches(hub: ClusterNode, peer: string): Promise<boolean> {
    const channels = await hub.process.api.channels();
    const view = channels.find((c) => c.participants.some((p) => p.toLowerCase() === peer.toLowerCase()));
    if (!view) return false;
    const events: string[] = [];
    for await (const event of hub.process.api.events({ types: ["peer.connected", "peer.disconnected"], signal: AbortSignal.timeout(500) })) {
      if (typeof event.data.peer === "string" && event.data.peer.toLowerCase() === peer.toLowerCase()) events.push(event.type);
    }
    return events[events.length - 1] === "peer.connected";
  }

  it("kill -9 of the hub in a burst of routed payments: every payment Alice saw succeed is paid at Carol, no lock is left pending", async function () {
    const before = { ah: await agreedTransfers(alice, hank, ah), hc: await agreedTransfers(hank, carol, hc) };
    const amount = ETHER / 1_000n;
    const invoices = await Promise.all(Array.from({ length: 32 }, () => carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n })));
    const forwardsBefore = (await hank.process.api.forwards({ limit: 1_000 })).length;
    // Four payers in a row each: a failed payment (the hub down) waits a little before the next one.
    type Outcome = { ok: true; receipt: PaymentView } | { ok: false; code: string };
    const results: Outcome[] = [];
    let next = 0;
    const payer = async () => {
      for (let i = next++; i < invoices.length; i = next++) {
        try {
          results[i] = { ok: true, receipt: await alice.process.api.payInvoice(invoices[i].encoded, [hank.address]) };
        } catch (error) {
          results[i] = { ok: false, code: String((error as { code?: unknown }).code) };
          await sleep(300);
        }
      }
    };
    const burst = Promise.all([payer(), payer(), payer(), payer()]);
    // Kill Hank mid-burst, while a forward is pending (recorded, not yet settled upstream).
    let pendingAtKill: string[] = [];
    await waitFor(
      async () => {
        const forwards = await hank.process.api.forwards({ limit: 1_000 });
        pendingAtKill = forwards.filter((f) => f.status === "pending").map((f) => f.hashlock);
        return forwards.length >= forwardsBefore + 6 && pendingAtKill.length > 0;
      },
      { what: "a forward pending at Hank mid-burst", intervalMs: 2 },
    );
    await hank.process.kill();
    await hank.process.restart();
    await burst;
    for (const [a, b, channel] of [[alice, hank, ah], [hank, carol, hc]] as const) await settled(a, channel).then(() => settled(b, channel));
    await waitFor(async () => (await hank.process.api.info()).hub?.pending === 0n, { what: "no forward pending at Hank", timeoutMs: 60_000 });

    const paidAtCarol = await Promise.all(invoices.map(async (invoice) => (await carol.process.api.invoice(invoice.id)).status === "paid"));
    results.forEach((result, i) => {
      if (result.ok) expect(paidAtCarol[i], `payment ${i} succeeded for Alice: paid at Carol`).to.equal(true);
    });
    const paid = BigInt(paidAtCarol.filter(Boolean).length);
    expect(results.filter((r) => r.ok).length > 0, "some payments went through").to.equal(true);
    // Every payment settled end to end or moved nothing: the transfers count exactly the paid invoices.
    expect(await agreedTransfers(alice, hank, ah)).to.deep.equal([before.ah[0] + paid * (amount + feeOf(amount)), before.ah[1]]);
    expect(await agreedTransfers(hank, carol, hc)).to.deep.equal([before.hc[0] + paid * amount, before.hc[1]]);
    // The forwards pending at the kill ended, each settled or cancelled.
    const ended = await hank.process.api.forwards({ limit: 1_000 });
    for (const hashlock of pendingAtKill) expect(ended.find((f) => f.hashlock === hashlock)?.status).to.be.oneOf(["settled", "cancelled"]);
    console.log(`      kill -9 mid-burst: ${pendingAtKill.length} forward(s) pending at the kill; ${results.filter((r) => r.ok).length} of 32 succeeded for Alice, ${paid} paid at Carol, failures: ${results.filter((r) => !r.ok).map((r) => (r.ok ? "" : r.code)).join(", ") || "none"}`);
  });

  it("cooperative closes: the chain pays out what the channels say, and the receipts prove with verifyPayment", async function () {
    const expected = new Map<string, [bigint, bigint]>();
    for (const [a, b, channel] of [[alice, hank, ah], [hank, carol, hc], [hank, iris, hi], [carol, iris, ic]] as const) {
      await agreedTransfers(a, b, channel);
      expected.set(channel.channelId.toLowerCase(), (await a.process.api.channel(channel.channelId)).balances);
    }
    const receipts = { alice: await alice.process.api.payments(ah.channelId, {}), carol: await carol.process.api.payments(hc.channelId, {}) };
    expect(receipts.alice.length > 0 && receipts.carol.length > 0).to.equal(true);
    for (const [closer, channel] of [[alice, ah], [carol, hc], [iris, hi], [carol, ic]] as const) await closer.process.api.close(channel.channelId);
    const closed = await cluster.driver.events({ fromBlock: startBlock, names: ["Closed"] });
    for (const [id, balances] of expected) {
      const event = closed.find((e) => e.name === "Closed" && e.channelId.toLowerCase() === id);
      expect(event?.name === "Closed" ? event.payouts : undefined, `payouts of ${id}`).to.deep.equal(balances);
    }
    for (const [node, channel, list] of [[alice, ah, receipts.alice], [carol, hc, receipts.carol]] as const) {
      await waitFor(async () => (await node.process.api.channel(channel.channelId)).status === "closed", { what: `${channel.channelId} closed at ${node.name}` });
      for (const receipt of list) expect((await node.process.api.prove(channel.channelId, receipt.seq)).verifiedOnChain, `receipt ${receipt.seq}`).to.equal(true);
    }
  });
});
