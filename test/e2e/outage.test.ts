/**
 * End to end: the chain's RPC endpoint fails under a running node (a proxy between Alice's node
 * process and anvil drops connections, answers 503, answers JSON-RPC errors, or is slow). Alice
 * keeps paying and being paid off chain, her status shows the outage, her watcher backs off, and
 * when the endpoint answers again she catches up with what happened on chain meanwhile (Bob's
 * deposit, through his own endpoint).
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import { ETH, type Hex } from "../../src/types";
import { ETHER, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { startRpcProxy, type ProxyMode, type RpcProxy } from "./helpers/rpcProxy";

const ref = () => hexlify(randomBytes(32)) as Hex;
const POLL_MS = 100;

describe("e2e: the chain endpoint fails under a running node", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let proxy: RpcProxy;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let channelId: Hex;

  before(async function () {
    cluster = await startCluster({ chain: "anvil", pollMs: POLL_MS });
    proxy = await startRpcProxy(cluster.chain.url);
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1, { rpc: proxy.url }), cluster.startNode("bob", 2)]);
    channelId = (await openFunded(alice, bob, ETH, [ETHER, ETHER])).channelId;
  });

  after(async function () {
    await cluster?.stop();
    await proxy?.close();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
    proxy.mode = "pass";
    proxy.delayMs = 0;
  });

  /** Payments both ways; both nodes end on the same version. */
  async function payBothWays(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await alice.process.api.pay(channelId, 3n, ref());
      await bob.process.api.pay(channelId, 2n, ref());
    }
    const version = (await alice.process.api.channel(channelId)).version;
    await waitFor(async () => (await bob.process.api.channel(channelId)).version === version, { what: "Bob to hold Alice's version" });
  }

  for (const fault of ["drop", "error", "rpcError"] as const satisfies readonly ProxyMode[]) {
    it(`${fault}: payments go on, the status shows the outage, the watcher backs off, and catches up after`, async function () {
      const depositBefore = (await alice.process.api.channel(channelId)).deposits[1];
      const headBefore = await cluster.chain.provider.getBlockNumber();
      await waitFor(async () => (await alice.process.api.info()).chain?.lastBlock === BigInt(headBefore), { what: "Alice's watcher to read the head" });
      proxy.mode = fault;
      await payBothWays(5);
      await waitFor(async () => (await alice.process.api.info()).chain?.reachable === false, { what: "Alice's status to show the outage" });
      const down = await alice.process.api.info();
      expect(down.chain?.failures).to.be.greaterThan(0);
      expect(down.chain?.lastError).to.be.a("string");
      expect(down.chain?.downSince).to.be.a("bigint");
      expect(down.blockNumber, "the last block read").to.equal(BigInt(headBefore));

      // Bob deposits more through his own endpoint; Alice can't see it yet.
      await bob.process.api.deposit(channelId, ETHER / 2n);
      await payBothWays(3);
      // Backoff: over 2 s a watcher polling every 100 ms would try ~20 times; doubling waits, a handful.
      const counted = proxy.received[fault];
      await sleep(2_000);
      const attempts = proxy.received[fault] - counted;
      expect(attempts, "requests in 2 s of outage").to.be.at.most(8);
      expect((await alice.process.api.channel(channelId)).deposits[1]).to.equal(depositBefore);

      proxy.mode = "pass";
      await waitFor(
        async () => {
          const [info, view] = await Promise.all([alice.process.api.info(), alice.process.api.channel(channelId)]);
          return info.chain?.reachable === true && view.deposits[1] === depositBefore + ETHER / 2n;
        },
        { what: "Alice to catch up with Bob's deposit", timeoutMs: 30_000 },
      );
      const up = await alice.process.api.info();
      expect(up.chain).to.deep.include({ reachable: true, failures: 0 });
      expect(up.blockNumber).to.be.greaterThan(BigInt(headBefore));
      expect(alice.process.log()).to.match(/chain endpoint not answering/);
      expect(alice.process.log()).to.match(/chain endpoint answering again after \d+ failed round\(s\)/);
      await payBothWays(2);
    });
  }

  it("a slow endpoint (300 ms a request) is no outage: payments go on and deposits are seen", async function () {
    const depositBefore = (await alice.process.api.channel(channelId)).deposits[1];
    proxy.delayMs = 300;
    try {
      await payBothWays(3);
      await bob.process.api.deposit(channelId, ETHER / 4n);
      await waitFor(async () => (await alice.process.api.channel(channelId)).deposits[1] === depositBefore + ETHER / 4n, {
        what: "Alice to see Bob's deposit through the slow endpoint",
        timeoutMs: 30_000,
      });
      expect((await alice.process.api.info()).chain).to.deep.include({ reachable: true, failures: 0 });
    } finally {
      proxy.delayMs = 0;
    }
  });
});
