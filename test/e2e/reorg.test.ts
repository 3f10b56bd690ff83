/**
 * End to end on anvil, with real node processes: the chain reorganises under the nodes
 * (`anvil_reorg` replaces the last blocks with empty ones, dropping their transactions), and
 * events count only once confirmed.
 * - a deposit reorged out is no longer counted: the payment that needs it is refused, until the
 *   deposit is mined again;
 * - a refutation reorged out is sent again, and so are the node's own challenge and close;
 * - with `confirmations: 3`, a deposit shows as pending until 3 blocks deep, a cash-out's
 *   withdrawal counts as executed at 3 blocks, while a stale challenge is refuted at once,
 *   unconfirmed.
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify, type TransactionResponse } from "ethers";
import { ChannelStore } from "../../src/node/store";
import type { ChannelView } from "../../src/node/api/types";
import { ChannelMode, ETH, type Hex, type Params, type SignedState } from "../../src/types";
import { type Cluster, type ClusterNode, ETHER, openFunded, sentFrom, sleep, waitFor, withTwoNodes } from "./helpers/cluster";

const paramsOf = (c: ChannelView): Params => ({ participants: c.participants, payees: c.payees, asset: c.asset, challengePeriod: c.challengePeriod, nonce: c.nonce });
const ref = () => hexlify(randomBytes(32)) as Hex;

/** Replaces the last `depth` blocks with empty ones (the chain's height stays). */
async function reorg(cluster: Cluster, depth: number): Promise<void> {
  await cluster.chain.provider.send("anvil_reorg", [depth, []]);
}

/** The transactions `node` sent in blocks `from`..latest. */
function sentBy(cluster: Cluster, node: ClusterNode, from: number): Promise<TransactionResponse[]> {
  return sentFrom(cluster.chain, node.address, from);
}

async function channelOf(node: ClusterNode, id: Hex): Promise<ChannelView> {
  return node.process.api.channel(id);
}

/**
 * Payments both ways in `channel`, then Bob's node killed: the early state Bob would like to
 * register (read from his store) and what Alice holds as the newest.
 */
async function staleAndNewest(alice: ClusterNode, bob: ClusterNode, channel: ChannelView): Promise<{ stale: SignedState; newest: ChannelView }> {
  await bob.process.api.pay(channel.channelId, 1_000n, ref());
  const early = await alice.process.api.pay(channel.channelId, 10n, ref());
  await bob.process.api.pay(channel.channelId, 10n ** 15n, ref());
  const newest = await channelOf(alice, channel.channelId);
  await waitFor(async () => (await channelOf(bob, channel.channelId)).version === newest.version, { what: "Bob to hold the newest state" });
  await bob.process.kill();
  const store = ChannelStore.open(path.join(bob.process.options.datadir, "store.sqlite"));
  try {
    const stale = store.stateAt(channel.channelId, early.version);
    expect(stale, "the early state in Bob's store").to.not.equal(null);
    return { stale: stale!, newest };
  } finally {
    store.close();
  }
}

describe("e2e: reorgs on anvil (confirmations 1, the development default)", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({ chain: "anvil", challengePeriod: 300, pollMs: 100 }, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  it("a deposit reorged out no longer counts: the payment needing it is refused until the deposit is mined again", async function () {
    if (!bob.process.isRunning) await bob.process.restart();
    const channel = await openFunded(alice, bob, ETH, [ETHER, 0n]);
    const id = channel.channelId;
    const before = await cluster.chain.provider.getBlockNumber();
    expect((await alice.process.api.deposit(id, ETHER)).deposits).to.deep.equal([2n * ETHER, 0n]);
    const [topUp] = await sentBy(cluster, alice, before + 1);
    expect(topUp, "Alice's top-up transaction").to.not.equal(undefined);
    expect(topUp.blockNumber).to.equal(await cluster.chain.provider.getBlockNumber());
    const raw = (await cluster.chain.provider.send("eth_getRawTransactionByHash", [topUp.hash])) as string;
    for (const node of [alice, bob]) {
      await waitFor(async () => (await channelOf(node, id)).deposits[0] === 2n * ETHER, { what: `${node.name} to count the top-up` });
    }

    await reorg(cluster, 1);
    expect(await cluster.chain.provider.getTransactionReceipt(topUp.hash), "the top-up is gone from the chain").to.equal(null);
    expect((await cluster.driver.channelStatus(id)).deposits).to.deep.equal([ETHER, 0n]);
    for (const node of [alice, bob]) {
      await waitFor(async () => (await channelOf(node, id)).deposits[0] === ETHER, { what: `${node.name} to stop counting the top-up` });
      expect(node.process.log()).to.match(/chain reorg: 1 block\(s\) above block \d+ replaced/);
    }
    // What the confirmed deposit covers still goes; what needs the top-up is refused.
    await alice.process.api.pay(id, ETHER / 2n, ref());
    const refused = await alice.process.api.pay(id, (3n * ETHER) / 2n, ref()).then(
      () => null,
      (error: unknown) => error as { code?: string },
    );
    expect(refused?.code).to.equal("INSUFFICIENT_FUNDS");

    // The same signed transaction mined again (its nonce is free again): the top-up counts again.
    await cluster.chain.provider.send("eth_sendRawTransaction", [raw]);
    for (const node of [alice, bob]) {
      await waitFor(async () => (await channelOf(node, id)).deposits[0] === 2n * ETHER, { what: `${node.name} to count the top-up again` });
    }
    await alice.process.api.pay(id, (3n * ETHER) / 2n, ref());
    const after = await channelOf(bob, id);
    expect(after.transferred).to.deep.equal([2n * ETHER, 0n]);
    expect(after.deposits).to.deep.equal([2n * ETHER, 0n]);
  });

  it("a deposit counted from the peer's word before the node's own round reaches its block still goes when that block is reorged out", async function () {
    // Carol's watcher polls every 4 s: Alice's word of her top-up arrives between two of its rounds.
    // The block the deposit is read at must be one whose hash Carol's watcher holds, or the reorg
    // below goes unseen and the top-up keeps counting for good.
    const carol = await cluster.startNode("carol", 3, { config: { pollMs: 4_000 } });
    try {
      const channel = await openFunded(alice, carol, ETH, [ETHER, 0n]);
      const id = channel.channelId;
      const before = await cluster.chain.provider.getBlockNumber();
      await alice.process.api.deposit(id, ETHER);
      const [topUp] = await sentBy(cluster, alice, before + 1);
      expect(topUp?.blockNumber, "Alice's top-up, in the last block").to.equal(await cluster.chain.provider.getBlockNumber());
      // At once, from Alice's word: no wait for Carol's next scheduled round.
      expect((await channelOf(carol, id)).deposits[0], "Carol counts the top-up when Alice's deposit call returns").to.equal(2n * ETHER);

      await reorg(cluster, 1);
      await cluster.chain.provider.send("anvil_mine", ["0x1"]);
      const head = BigInt(await cluster.chain.provider.getBlockNumber());
      await waitFor(async () => ((await carol.process.api.info()).chain?.lastBlock ?? -1n) >= head, { what: "Carol's watcher to read past the reorg", timeoutMs: 30_000 });
      expect((await cluster.driver.channelStatus(id)).deposits).to.deep.equal([ETHER, 0n]);
      expect((await channelOf(carol, id)).deposits, "Carol's count after the reorg").to.deep.equal([ETHER, 0n]);
      expect(carol.process.log()).to.match(/chain reorg: 1 block\(s\) above block \d+ replaced/);
      await waitFor(async () => (await channelOf(alice, id)).deposits[0] === ETHER, { what: "Alice to stop counting the top-up" });
      // What only the top-up covered can't be spent.
      const refused = await alice.process.api.pay(id, (3n * ETHER) / 2n, ref()).then(
        () => null,
        (error: unknown) => error as { code?: string },
      );
      expect(refused?.code).to.equal("INSUFFICIENT_FUNDS");
    } finally {
      await carol.process.kill();
    }
  });

  it("a refutation reorged out is sent again", async function () {
    if (!bob.process.isRunning) await bob.process.restart();
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    const { stale, newest } = await staleAndNewest(alice, bob, channel);
    const cheat = cluster.driver.connect(bob.wallet);
    await cheat.challenge(paramsOf(channel), stale);
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).version === newest.version, { what: "Alice to refute" });
    const height = await cluster.chain.provider.getBlockNumber();
    const [refutation] = await sentBy(cluster, alice, height);
    expect(refutation, "Alice's refutation in the last block").to.not.equal(undefined);

    await reorg(cluster, 1);
    // The stale challenge (an earlier block) stays; the refutation is gone, and sent again.
    await waitFor(
      async () => {
        const status = await cluster.driver.channelStatus(channel.channelId);
        return status.mode === ChannelMode.Challenged && status.version === newest.version && (await sentBy(cluster, alice, height + 1)).length > 0;
      },
      { what: "Alice to send her refutation again after the reorg" },
    );
    const again = await sentBy(cluster, alice, height + 1);
    expect(again[0].blockNumber).to.be.greaterThan(height);
    expect(alice.process.log()).to.match(/chain reorg/);
  });

  it("the node's own challenge reorged out is sent again", async function () {
    if (!bob.process.isRunning) await bob.process.restart();
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await alice.process.api.pay(channel.channelId, 5n, ref());
    const mine = await alice.process.api.challenge(channel.channelId);
    expect(Number(mine.blockNumber)).to.equal(await cluster.chain.provider.getBlockNumber());
    await reorg(cluster, 1);
    expect(await cluster.chain.provider.getTransactionReceipt(mine.hash), "the challenge is gone").to.equal(null);
    await waitFor(
      async () => {
        const status = await cluster.driver.channelStatus(channel.channelId);
        return status.mode === ChannelMode.Challenged && status.version === (await channelOf(alice, channel.channelId)).version;
      },
      { what: "Alice to challenge again after the reorg" },
    );
    const again = await sentBy(cluster, alice, Number(mine.blockNumber) + 1);
    expect(again.length, "a challenge sent after the reorg").to.be.greaterThan(0);
    expect((await channelOf(alice, channel.channelId)).status).to.equal("disputed");
  });

  it("the node's close reorged out is sent again, and pays out", async function () {
    if (!bob.process.isRunning) await bob.process.restart();
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await alice.process.api.pay(channel.channelId, 7n, ref());
    const closed = await alice.process.api.close(channel.channelId);
    expect((await cluster.driver.channelStatus(channel.channelId)).mode).to.equal(ChannelMode.Concluded);
    await reorg(cluster, 1);
    expect(await cluster.chain.provider.getTransactionReceipt(closed.hash), "the close is gone").to.equal(null);
    await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).mode === ChannelMode.Concluded, {
      what: "Alice to close again after the reorg",
    });
    const events = await cluster.driver.events({ channelId: channel.channelId, names: ["Closed"] });
    expect(events.map((e) => e.name === "Closed" && [e.blockNumber > Number(closed.blockNumber), e.payouts])).to.deep.equal([
      [true, [ETHER - 7n, ETHER + 7n]],
    ]);
  });
});

describe("e2e: confirmations 3 on anvil", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({ chain: "anvil", challengePeriod: 300, pollMs: 100, config: { confirmations: 3 } }, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  const mine = (blocks: number) => cluster.chain.provider.send("anvil_mine", [`0x${blocks.toString(16)}`]);

  it("a deposit is pending until 3 blocks deep, then counts; payments wait for it", async function () {
    const opened = await alice.process.api.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
    const id = opened.channelId;
    expect(opened.deposits).to.deep.equal([0n, 0n]);
    expect(opened.status).to.equal("opening");
    await waitFor(async () => (await channelOf(alice, id)).pendingDeposits?.[0] === ETHER, { what: "Alice to show her deposit as pending" });
    await waitFor(async () => (await channelOf(bob, id)).pendingDeposits?.[0] === ETHER, { what: "Bob to show Alice's deposit as pending" });
    const refused = await alice.process.api.pay(id, 1n, ref()).then(
      () => null,
      (error: unknown) => error as { code?: string },
    );
    expect(refused, "a payment before the deposit counts").to.not.equal(null);

    await mine(1); // 2 blocks deep
    await sleep(500);
    for (const node of [alice, bob]) {
      const view = await channelOf(node, id);
      expect(view.deposits, `${node.name} at 2 blocks`).to.deep.equal([0n, 0n]);
      expect(view.pendingDeposits).to.deep.equal([ETHER, 0n]);
    }
    await mine(1); // 3 blocks deep
    for (const node of [alice, bob]) {
      await waitFor(
        async () => {
          const view = await channelOf(node, id);
          return view.status === "open" && view.deposits[0] === ETHER && view.pendingDeposits === undefined;
        },
        { what: `${node.name} to count the deposit at 3 blocks` },
      );
    }
    await alice.process.api.pay(id, 1n, ref());
  });

  it("a cash-out's withdrawal counts as executed only once 3 blocks deep", async function () {
    const opened = await alice.process.api.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
    const id = opened.channelId;
    await mine(2);
    await waitFor(async () => (await channelOf(alice, id)).status === "open" && (await channelOf(bob, id)).status === "open", { what: "both to count the deposit" });
    const cashOut = await alice.process.api.cashOut(id, ETHER / 4n);
    expect(cashOut.status).to.equal("executed");
    expect((await cluster.driver.channelStatus(id)).withdrawn).to.deep.equal([ETHER / 4n, 0n]);
    await sleep(500);
    const unconfirmed = await channelOf(alice, id);
    expect(unconfirmed.withdrawn, "not counted at 1 block").to.deep.equal([0n, 0n]);
    expect(unconfirmed.withdrawals.map((w) => [w.total, w.status])).to.deep.equal([[ETHER / 4n, "signed"]]);
    expect(unconfirmed.balances[0], "still counted as spent").to.equal((3n * ETHER) / 4n);
    await mine(2);
    for (const node of [alice, bob]) {
      await waitFor(
        async () => {
          const view = await channelOf(node, id);
          return view.withdrawn[0] === ETHER / 4n && view.withdrawals.length === 0;
        },
        { what: `${node.name} to count the withdrawal at 3 blocks` },
      );
    }
    expect((await channelOf(alice, id)).balances[0]).to.equal((3n * ETHER) / 4n);
  });

  it("a stale challenge is refuted at once, before it is confirmed", async function () {
    const opened = await alice.process.api.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
    const id = opened.channelId;
    await waitFor(async () => (await channelOf(bob, id)).pendingDeposits?.[0] === ETHER, { what: "Bob to see the deposit" });
    await bob.process.api.deposit(id, ETHER);
    await mine(3);
    for (const node of [alice, bob]) {
      await waitFor(async () => (await channelOf(node, id)).deposits[1] === ETHER && (await channelOf(node, id)).status === "open", {
        what: `${node.name} to count both deposits`,
      });
    }
    const { stale, newest } = await staleAndNewest(alice, bob, opened);
    const challenge = await cluster.driver.connect(bob.wallet).challenge(paramsOf(opened), stale);
    await waitFor(async () => (await cluster.driver.channelStatus(id)).version === newest.version, { what: "Alice to refute" });
    // No block was mined but the refutation's own: the challenge was 1 block deep when answered.
    expect(await cluster.chain.provider.getBlockNumber()).to.equal(challenge.blockNumber + 1);
    // Not confirmed yet: the channel is not disputed in Alice's view until the challenge is 3 deep.
    expect((await channelOf(alice, id)).status).to.equal("open");
    await mine(2);
    await waitFor(async () => (await channelOf(alice, id)).status === "disputed", { what: "Alice to count the challenge at 3 blocks" });
  });
});
