/**
 * End to end, scenario 4: the stale-state attack. Bob's side registers an old state on chain (one
 * in which Bob had paid less), signed by both, read from Bob's own store after his node stopped,
 * and submitted with Bob's key. Alice's node refutes it with the newest state before the deadline,
 * and the settlement pays the newest balances: once with Alice's node running when the challenge
 * lands, once with her node killed then and restarted before the deadline (it must find the
 * challenge when it starts).
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import { increaseTime } from "../../src/chain";
import { ChannelStore } from "../../src/node/store";
import type { ChannelView } from "../../src/node/api/types";
import { ChannelMode, ETH, type Hex, type Params, type SignedState } from "../../src/types";
import { type Cluster, type ClusterNode, ETHER, openFunded, waitFor, withTwoNodes } from "./helpers/cluster";

const CHALLENGE_PERIOD = 300;

describe("e2e: a peer registers a stale state on chain", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({ challengePeriod: CHALLENGE_PERIOD, pollMs: 100 }, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  const paramsOf = (c: ChannelView): Params => ({ participants: c.participants, payees: c.payees, asset: c.asset, challengePeriod: c.challengePeriod, nonce: c.nonce });
  const ref = () => hexlify(randomBytes(32)) as Hex;

  /**
   * A channel with payments both ways, then Bob's node killed; returns the state Bob would like
   * to settle on (after his first payments only) and what Alice holds as the newest.
   */
  async function cheatableChannel(): Promise<{ channel: ChannelView; stale: SignedState; newest: ChannelView }> {
    if (!bob.process.isRunning) await bob.process.restart();
    const deposits: [bigint, bigint] = [ETHER, ETHER];
    const channel = await openFunded(alice, bob, ETH, deposits);
    expect(channel.challengePeriod).to.equal(BigInt(CHALLENGE_PERIOD));
    await bob.process.api.pay(channel.channelId, 1_000n, ref());
    const early = await alice.process.api.pay(channel.channelId, 10n, ref());
    // Later Bob pays much more: the state above is the one he would rather settle on.
    for (let i = 0; i < 5; i++) await bob.process.api.pay(channel.channelId, 10n ** 15n, ref());
    await alice.process.api.pay(channel.channelId, 20n, ref());
    const newest = await alice.process.api.channel(channel.channelId);
    await waitFor(async () => (await bob.process.api.channel(channel.channelId)).version === newest.version);
    await bob.process.kill();
    // What the cheater has: every state both signed, in his own store.
    const store = ChannelStore.open(path.join(bob.process.options.datadir, "store.sqlite"));
    let stale: SignedState | null;
    try {
      stale = store.stateAt(channel.channelId, early.version);
      expect(store.latest(channel.channelId)!.state.version).to.equal(newest.version);
    } finally {
      store.close();
    }
    expect(stale, "the early state in Bob's store").to.not.equal(null);
    expect(stale!.state.transferred).to.deep.equal([10n, 1_000n]);
    expect(newest.transferred).to.deep.equal([30n, 1_000n + 5n * 10n ** 15n]);
    return { channel, stale: stale!, newest };
  }

  /** Passes the deadline and waits for Alice's watcher to settle; checks the payouts. */
  async function expectSettledOnNewest(channel: ChannelView, newest: ChannelView, fromBlock: number): Promise<void> {
    await increaseTime(cluster.chain.provider, CHALLENGE_PERIOD + 1);
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).mode === ChannelMode.Concluded, {
      what: "Alice's watcher to settle after the deadline",
      timeoutMs: 30_000,
    });
    const events = await cluster.driver.events({ fromBlock, channelId: channel.channelId });
    const names = events.map((e) => e.name);
    expect(names).to.include("Settled");
    expect(names).to.not.include("Closed");
    const settled = events.find((e) => e.name === "Settled")!;
    const expected: [bigint, bigint] = [
      channel.deposits[0] - newest.transferred[0] + newest.transferred[1],
      channel.deposits[1] - newest.transferred[1] + newest.transferred[0],
    ];
    expect(settled.name === "Settled" && settled.version).to.equal(newest.version);
    expect(settled.name === "Settled" ? settled.payouts : undefined).to.deep.equal(expected);
    expect(newest.balances).to.deep.equal(expected);
    // Pushed, not credited.
    expect(events.some((e) => e.name === "Credited")).to.equal(false);
    await waitFor(async () => (await alice.process.api.channel(channel.channelId)).status === "settled", { what: "Alice's node to mark it settled" });
  }

  it("refutes the stale state with the newest one while online, and settles on the newest balances", async function () {
    const { channel, stale, newest } = await cheatableChannel();
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const cheat = await cluster.driver.connect(bob.wallet).challenge(paramsOf(channel), stale);
    expect(cheat.version).to.equal(stale.state.version);

    // Alice's watcher answers with her newest state before the deadline.
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).version === newest.version, {
      what: "Alice's watcher to refute",
      timeoutMs: 30_000,
    });
    const status = await cluster.driver.channelStatus(channel.channelId);
    expect(status.mode).to.equal(ChannelMode.Challenged);
    // The refutation does not move the deadline.
    expect(status.deadline).to.equal(cheat.deadline);
    const challenges = (await cluster.driver.events({ fromBlock, channelId: channel.channelId, names: ["Challenged"] })).map((e) =>
      e.name === "Challenged" ? e.state.version : -1n,
    );
    expect(challenges).to.deep.equal([stale.state.version, newest.version]);
    const refutation = (await cluster.driver.events({ fromBlock, channelId: channel.channelId, names: ["Challenged"] }))[1];
    const tx = await cluster.chain.provider.getTransaction(refutation.transactionHash);
    expect(tx!.from.toLowerCase()).to.equal(alice.address.toLowerCase());
    const block = await cluster.chain.provider.getBlock(refutation.blockNumber);
    expect(BigInt(block!.timestamp) < cheat.deadline).to.equal(true);

    await expectSettledOnNewest(channel, newest, fromBlock);
  });

  it("refutes a challenge that landed while its node was down, once restarted before the deadline", async function () {
    const { channel, stale, newest } = await cheatableChannel();
    await alice.process.kill();
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const cheat = await cluster.driver.connect(bob.wallet).challenge(paramsOf(channel), stale);
    // Nobody answers while Alice is down.
    await new Promise((r) => setTimeout(r, 500));
    let status = await cluster.driver.channelStatus(channel.channelId);
    expect(status.mode).to.equal(ChannelMode.Challenged);
    expect(status.version).to.equal(stale.state.version);

    await alice.process.restart();
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).version === newest.version, {
      what: "the restarted node to refute",
      timeoutMs: 30_000,
    });
    status = await cluster.driver.channelStatus(channel.channelId);
    expect(status.mode).to.equal(ChannelMode.Challenged);
    expect(status.deadline).to.equal(cheat.deadline);
    const latestBlock = await cluster.chain.provider.getBlock("latest");
    expect(BigInt(latestBlock!.timestamp) < cheat.deadline).to.equal(true);
    // The node marks the channel disputed once its watcher has read the Challenged events.
    await waitFor(async () => (await alice.process.api.channel(channel.channelId)).status === "disputed", { what: "Alice's node to mark it disputed" });

    await expectSettledOnNewest(channel, newest, fromBlock);
  });
});
