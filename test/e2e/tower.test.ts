/**
 * End to end, the watchtower: a node runs with a tower (`towerUrl`), pays and is paid many times,
 * and is killed (SIGKILL: no goodbye to the tower). Its peer, Bob, stops too and registers an old
 * state both signed, read from his own store. Nobody of the channel runs: the tower refutes with
 * the newest state it holds before the deadline, and settles once the deadline has passed, paying
 * its own gas. The client, restarted, finds its channel settled on that state. Once with every
 * state handed (the tower holds the latest), once with `towerEvery` 4 (the tower holds an older
 * one than the latest, but newer than the stale one, and refutes with it).
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import { freePort, increaseTime, type ChallengedEvent } from "../../src/chain";
import { ChannelStore } from "../../src/node/store";
import type { ChannelView } from "../../src/node/api/types";
import { ChannelMode, ETH, type Hex, type Params, type SignedState } from "../../src/types";
import { sluice } from "./helpers/cli";
import { ETHER, LOOPBACK, logsOf, openFunded, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

const CHALLENGE_PERIOD = 300;

describe("e2e: a watchtower defends a node that is down", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let tower: ClusterNode;
  let bob: ClusterNode;
  let alice: ClusterNode;
  let carol: ClusterNode;
  let towerUrl: string;

  before(async function () {
    cluster = await startCluster({ challengePeriod: CHALLENGE_PERIOD, pollMs: 100 });
    const port = await freePort();
    towerUrl = `ws://${LOOPBACK}:${port}`;
    tower = await cluster.startNode("tower", 3, { config: { tower: true, towerListen: `${LOOPBACK}:${port}` } });
    [bob, alice, carol] = await Promise.all([
      cluster.startNode("bob", 2),
      cluster.startNode("alice", 1, { config: { towerUrl } }),
      cluster.startNode("carol", 4, { config: { towerUrl, towerEvery: 4 } }),
    ]);
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(tower, alice, bob, carol));
  });

  const paramsOf = (c: ChannelView): Params => ({ participants: c.participants, payees: c.payees, asset: c.asset, challengePeriod: c.challengePeriod, nonce: c.nonce });
  const ref = () => hexlify(randomBytes(32)) as Hex;

  /** The version the client's tower acknowledged for the channel (its `sluice status`), or -1. */
  async function acknowledged(client: ClusterNode, channelId: Hex): Promise<bigint> {
    const info = await client.process.api.info();
    return info.tower?.acknowledged.find((a) => a.channelId === channelId)?.version ?? -1n;
  }

  /**
   * A channel of `client` with Bob, payments both ways (Bob pays much more later), handed to the
   * tower; then the client and Bob killed. Returns the early state Bob would like to settle on,
   * the client's newest view, and the newest version the tower acknowledged.
   */
  async function cheatableChannel(client: ClusterNode, every: bigint): Promise<{ channel: ChannelView; stale: SignedState; newest: ChannelView; held: bigint }> {
    if (!bob.process.isRunning) await bob.process.restart();
    const channel = await openFunded(client, bob, ETH, [ETHER, ETHER]);
    await bob.process.api.pay(channel.channelId, 1_000n, ref());
    const early = await client.process.api.pay(channel.channelId, 10n, ref());
    for (let i = 0; i < 8; i++) {
      await bob.process.api.pay(channel.channelId, 10n ** 15n, ref());
      await client.process.api.pay(channel.channelId, 20n, ref());
    }
    let newest = await client.process.api.channel(channel.channelId);
    // The tower has what the `every` rule hands it: the latest (every 1), or one at most every - 1 versions older.
    await waitFor(async () => (await acknowledged(client, channel.channelId)) + every > newest.version, { what: "the tower to acknowledge the due state" });
    if (every > 1n) {
      // The client's latest must be newer than what the tower holds, for the test to mean something.
      while ((await acknowledged(client, channel.channelId)) === newest.version) {
        await bob.process.api.pay(channel.channelId, 10n ** 15n, ref());
        newest = await client.process.api.channel(channel.channelId);
      }
    }
    const held = await acknowledged(client, channel.channelId);
    await waitFor(async () => (await bob.process.api.channel(channel.channelId)).version === newest.version, { what: "Bob to hold the newest state" });
    await client.process.kill();
    await bob.process.kill();
    const store = ChannelStore.open(path.join(bob.process.options.datadir, "store.sqlite"));
    let stale: SignedState | null;
    try {
      stale = store.stateAt(channel.channelId, early.version);
    } finally {
      store.close();
    }
    expect(stale, "the early state in Bob's store").to.not.equal(null);
    // The client opened the channel: it is participant 0.
    expect(stale!.state.transferred).to.deep.equal([10n, 1_000n]);
    return { channel, stale: stale!, newest, held };
  }

  /** Bob registers `stale`; the tower must refute with version `held` and settle after the deadline. Returns the Settled payouts. */
  async function cheatAndExpectTower(channel: ChannelView, stale: SignedState, held: bigint): Promise<{ payouts: [bigint, bigint]; refuted: SignedState["state"] }> {
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const cheat = await cluster.driver.connect(bob.wallet).challenge(paramsOf(channel), stale);
    expect(cheat.version).to.equal(stale.state.version);
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).version === held, { what: "the tower to refute", timeoutMs: 30_000 });
    const status = await cluster.driver.channelStatus(channel.channelId);
    expect(status.mode).to.equal(ChannelMode.Challenged);
    expect(status.deadline).to.equal(cheat.deadline);
    const challenges = (await cluster.driver.events({ fromBlock, channelId: channel.channelId, names: ["Challenged"] })) as ChallengedEvent[];
    expect(challenges.map((e) => e.state.version)).to.deep.equal([stale.state.version, held]);
    const refutation = challenges[1];
    expect((await cluster.chain.provider.getTransaction(refutation.transactionHash))!.from.toLowerCase()).to.equal(tower.address.toLowerCase());
    const block = await cluster.chain.provider.getBlock(refutation.blockNumber);
    expect(BigInt(block!.timestamp) < cheat.deadline).to.equal(true);

    // Nobody of the channel runs: the tower settles once the deadline has passed.
    await increaseTime(cluster.chain.provider, CHALLENGE_PERIOD + 1);
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).mode === ChannelMode.Concluded, { what: "the tower to settle", timeoutMs: 30_000 });
    const events = await cluster.driver.events({ fromBlock, channelId: channel.channelId });
    const settled = events.find((e) => e.name === "Settled");
    expect(settled?.name === "Settled" && settled.version).to.equal(held);
    expect((await cluster.chain.provider.getTransaction(settled!.transactionHash))!.from.toLowerCase()).to.equal(tower.address.toLowerCase());
    expect(events.some((e) => e.name === "Credited"), "payouts pushed, not credited").to.equal(false);
    return { payouts: settled!.name === "Settled" ? settled!.payouts : [0n, 0n], refuted: refutation.state };
  }

  /** The balances a state pays out of the channel's deposits. */
  const balancesOf = (channel: ChannelView, transferred: readonly [bigint, bigint]): [bigint, bigint] => [
    channel.deposits[0] - transferred[0] + transferred[1],
    channel.deposits[1] - transferred[1] + transferred[0],
  ];

  it("refutes a stale challenge with the client's latest state and settles while the client is down", async function () {
    const { channel, stale, newest, held } = await cheatableChannel(alice, 1n);
    expect(held).to.equal(newest.version);

    const { payouts } = await cheatAndExpectTower(channel, stale, held);
    expect(payouts).to.deep.equal(newest.balances);
    expect(payouts).to.not.deep.equal(balancesOf(channel, stale.state.transferred));

    // Alice comes back: her channel is settled on her latest state.
    await alice.process.restart();
    await waitFor(async () => (await alice.process.api.channel(channel.channelId)).status === "settled", { what: "Alice's node to see the settlement" });
    const after = await alice.process.api.channel(channel.channelId);
    expect(after.version).to.equal(newest.version);
    expect(after.balances).to.deep.equal(payouts);

    // The tower lists its clients; the client shows its tower, connected again.
    const service = (await tower.process.api.info()).towerService!;
    expect(service.url).to.equal(towerUrl);
    expect(service.clients.map((c) => c.address.toLowerCase())).to.include.members([alice.address.toLowerCase(), carol.address.toLowerCase()]);
    await waitFor(async () => (await alice.process.api.info()).tower?.connected === true, { what: "Alice to reconnect to her tower" });
    const text = await sluice("--datadir", alice.process.options.datadir, "status");
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain(`${towerUrl}, connected (${tower.address.toLowerCase()})`);
    const towerText = await sluice("--datadir", tower.process.options.datadir, "status");
    expect(towerText.stdout).to.contain(`clients register at ${towerUrl}`);
    expect(towerText.stdout).to.contain(alice.address.toLowerCase());
  });

  it("with towerEvery 4, refutes with the newest state it holds (older than the client's latest, newer than the stale one)", async function () {
    const { channel, stale, newest, held } = await cheatableChannel(carol, 4n);
    expect(held < newest.version).to.equal(true);
    expect(held > stale.state.version).to.equal(true);
    const { payouts, refuted } = await cheatAndExpectTower(channel, stale, held);
    expect(payouts).to.deep.equal(balancesOf(channel, refuted.transferred));
    expect(payouts).to.not.deep.equal(balancesOf(channel, stale.state.transferred));

    await carol.process.restart();
    await waitFor(async () => (await carol.process.api.channel(channel.channelId)).status === "settled", { what: "Carol's node to see the settlement" });
  });
});
