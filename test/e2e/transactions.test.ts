/**
 * End to end on anvil with real node processes and automine off (`evm_setAutomine false`; the
 * test mines with `anvil_mine`), so a node's transaction stays pending as long as the test wants:
 * - a deposit not mined within `replaceAfter` is replaced (same nonce, higher fees) and mined once;
 * - a node killed with a deposit pending (and dropped from the pool while it is down) sends it
 *   again with its nonce at its restart: mined once, and the next transaction takes the next nonce;
 * - a refutation kept out of the blocks (their base fee above its fee) is bumped to the cap when
 *   less than a quarter of the challenge period is left, and lands before the deadline;
 * - with the chain's fee above the cap (`maxFeeGwei`), a deposit is refused (FEE_CAP_EXCEEDED),
 *   nothing sent.
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify, type TransactionResponse } from "ethers";
import type { ChannelView } from "../../src/node/api/types";
import { ChannelStore } from "../../src/node/store";
import { ChannelMode, ETH, type Hex, type Params } from "../../src/types";
import { ETHER, logsOf, openFunded, sentFrom, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

const GWEI = 10n ** 9n;
const CAP_GWEI = 100n;
const PERIOD = 400;
const ref = () => hexlify(randomBytes(32)) as Hex;
const paramsOf = (c: ChannelView): Params => ({ participants: c.participants, payees: c.payees, asset: c.asset, challengePeriod: c.challengePeriod, nonce: c.nonce });

describe("e2e: transactions on anvil with automine off (fees, replacement, nonces across a restart)", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  before(async function () {
    cluster = await startCluster({ chain: "anvil", challengePeriod: PERIOD, pollMs: 100, config: { replaceAfter: "1s", maxFeeGwei: Number(CAP_GWEI) } });
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2)]);
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
    await automine(true);
    for (const node of [alice, bob]) if (!node.process.isRunning) await node.process.restart();
  });

  const automine = (on: boolean) => cluster.chain.provider.send("evm_setAutomine", [on]);
  const mine = () => cluster.chain.provider.send("anvil_mine", [1]);

  /** Alice's transactions waiting in anvil's pool. */
  async function pooled(): Promise<TransactionResponse[]> {
    const latest = await cluster.chain.provider.getTransactionCount(alice.address, "latest");
    const pending = await cluster.chain.provider.getTransactionCount(alice.address, "pending");
    if (pending === latest) return [];
    const content = (await cluster.chain.provider.send("txpool_content", [])) as { pending: Record<string, Record<string, { hash: string }>> };
    const own = Object.entries(content.pending).find(([from]) => from.toLowerCase() === alice.address.toLowerCase())?.[1] ?? {};
    const txs = await Promise.all(Object.values(own).map((t) => cluster.chain.provider.getTransaction(t.hash)));
    return txs.filter((tx): tx is TransactionResponse => tx !== null);
  }

  /** Alice's transactions in blocks `from`..latest. */
  const minedFrom = (from: number) => sentFrom(cluster.chain, alice.address, from);

  /** Mines a block every 200 ms until `operation` settles. */
  async function minedWhile<T>(operation: Promise<T>): Promise<T> {
    let done = false;
    const settled = operation.finally(() => {
      done = true;
    });
    while (!done) {
      await mine();
      await sleep(200);
    }
    return settled;
  }

  it("a deposit not mined in time is replaced with the same nonce and higher fees, and mined once", async function () {
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await automine(false);
    const from = (await cluster.chain.provider.getBlockNumber()) + 1;
    const nonce = await cluster.chain.provider.getTransactionCount(alice.address, "latest");
    const deposit = alice.process.api.deposit(channel.channelId, ETHER);
    await waitFor(async () => (await pooled()).length === 1, { what: "Alice's deposit in the pool" });
    const [first] = await pooled();
    await waitFor(async () => (await pooled())[0]?.hash !== first.hash, { what: "Alice to replace her deposit" });
    expect(alice.process.log()).to.match(/deposit \(nonce \d+\) not mined: replacing it/);
    await mine();
    expect((await deposit).deposits).to.deep.equal([2n * ETHER, ETHER]);
    const mined = await minedFrom(from);
    expect(mined.map((tx) => tx.nonce), "one transaction, with the nonce of the first").to.deep.equal([nonce]);
    expect(mined[0].hash).to.not.equal(first.hash);
    expect(mined[0].maxFeePerGas! * 8n).to.be.gte(first.maxFeePerGas! * 9n);
    expect(mined[0].maxPriorityFeePerGas! * 8n).to.be.gte(first.maxPriorityFeePerGas! * 9n);
    expect((await cluster.driver.channelStatus(channel.channelId)).deposits).to.deep.equal([2n * ETHER, ETHER]);
  });

  it("killed with a deposit pending that is then dropped: at its restart the node sends it again with its nonce, once, and the next deposit takes the next nonce", async function () {
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await automine(false);
    const from = (await cluster.chain.provider.getBlockNumber()) + 1;
    const nonce = await cluster.chain.provider.getTransactionCount(alice.address, "latest");
    const lost = alice.process.api.deposit(channel.channelId, ETHER).catch((error: unknown) => error);
    await waitFor(async () => (await pooled()).length === 1, { what: "Alice's deposit in the pool" });
    const [sent] = await pooled();
    await alice.process.kill();
    expect(await lost, "the request died with the node").to.be.instanceOf(Error);
    await cluster.chain.provider.send("anvil_dropAllTransactions", []);
    expect(await cluster.chain.provider.getTransaction(sent.hash), "dropped from the pool").to.equal(null);
    const store = ChannelStore.open(path.join(alice.process.options.datadir, "store.sqlite"));
    try {
      expect(store.transactions.pending(alice.address).map((tx) => [tx.nonce, tx.hashes.at(-1)])).to.deep.equal([[BigInt(nonce), sent.hash]]);
    } finally {
      store.close();
    }

    await alice.process.restart();
    await waitFor(async () => (await pooled()).length === 1, { what: "Alice to send her deposit again" });
    await minedWhile(waitFor(async () => (await alice.process.api.channel(channel.channelId)).deposits[0] === 2n * ETHER, { what: "the deposit counted" }));
    await minedWhile(alice.process.api.deposit(channel.channelId, 3n * ETHER));
    const mined = await minedFrom(from);
    expect(mined.map((tx) => tx.nonce), "each nonce once, none skipped").to.deep.equal([nonce, nonce + 1]);
    expect(mined[0].hash, "the journaled deposit itself").to.equal(sent.hash);
    expect((await cluster.driver.channelStatus(channel.channelId)).deposits).to.deep.equal([5n * ETHER, ETHER]);
  });

  it("a refutation kept out of the blocks is bumped to the cap near the deadline and lands before it", async function () {
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await bob.process.api.pay(channel.channelId, 1_000n, ref());
    const early = await alice.process.api.pay(channel.channelId, 10n, ref());
    await alice.process.api.pay(channel.channelId, 20n, ref());
    const newest = await alice.process.api.channel(channel.channelId);
    await waitFor(async () => (await bob.process.api.channel(channel.channelId)).version === newest.version, { what: "Bob to hold the newest state" });
    await bob.process.kill();
    const bobStore = ChannelStore.open(path.join(bob.process.options.datadir, "store.sqlite"));
    const stale = bobStore.stateAt(channel.channelId, early.version)!;
    bobStore.close();
    const challenge = await cluster.driver.connect(bob.wallet).challenge(paramsOf(channel), stale);
    await automine(false);
    await waitFor(async () => (await pooled()).length === 1, { what: "Alice's refutation in the pool" });
    const [first] = await pooled();
    expect(first.maxFeePerGas, "an ordinary fee at first").to.be.lt(CAP_GWEI * GWEI);
    // Blocks too expensive for it while the deadline nears: less than a quarter of the period left.
    await cluster.chain.provider.send("evm_increaseTime", [PERIOD - 60]);
    await cluster.chain.provider.send("anvil_setNextBlockBaseFeePerGas", [`0x${(first.maxFeePerGas! + 1n).toString(16)}`]);
    await mine();
    expect((await cluster.driver.channelStatus(channel.channelId)).version, "still the stale state").to.equal(early.version);
    await waitFor(async () => (await pooled())[0]?.maxFeePerGas === CAP_GWEI * GWEI, { what: "Alice to bid the cap" });
    expect(alice.process.log()).to.match(/its deadline is near/);
    await mine();
    const status = await cluster.driver.channelStatus(channel.channelId);
    expect([status.mode, status.version]).to.deep.equal([ChannelMode.Challenged, newest.version]);
    const [refutation] = await minedFrom(challenge.blockNumber + 1);
    expect(refutation.maxFeePerGas).to.equal(CAP_GWEI * GWEI);
    const block = await cluster.chain.provider.getBlock(refutation.blockNumber!);
    expect(BigInt(block!.timestamp)).to.be.lt(challenge.deadline);
  });

  it("with the chain's fee above the cap, a deposit is refused with FEE_CAP_EXCEEDED naming the fee, and nothing is sent", async function () {
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await cluster.chain.provider.send("anvil_setNextBlockBaseFeePerGas", [`0x${(500n * GWEI).toString(16)}`]);
    await mine();
    const nonce = await cluster.chain.provider.getTransactionCount(alice.address, "pending");
    const refused = await alice.process.api.deposit(channel.channelId, ETHER).then(
      () => null,
      (error: unknown) => error as { code?: string; message?: string },
    );
    expect(refused?.code).to.equal("FEE_CAP_EXCEEDED");
    expect(refused?.message).to.match(/needs a fee of 50\d\.?\d* gwei per gas, above the cap of 100 gwei/);
    expect(await cluster.chain.provider.getTransactionCount(alice.address, "pending")).to.equal(nonce);
    // The base fee falls 12.5 % a block: below the cap again after 13 empty blocks.
    await cluster.chain.provider.send("anvil_mine", [16]);
    expect((await alice.process.api.deposit(channel.channelId, ETHER)).deposits).to.deep.equal([2n * ETHER, ETHER]);
  });
});
