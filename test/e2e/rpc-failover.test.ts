/**
 * End to end: a node with two JSON-RPC endpoints (`--rpc A,B`), two proxies in front of the same
 * hardhat node. When A starts dropping connections, Alice's calls move to B (her status and an
 * event say so) and a deposit is made and confirmed through B; when A answers again she goes back
 * to it. An endpoint of another chain is refused at start.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { NodeProcess } from "../../src/node/process";
import { ETH, type Hex } from "../../src/types";
import { ETHER, logsOf, openFunded, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { startRpcProxy, type RpcProxy } from "./helpers/rpcProxy";

/** A JSON-RPC endpoint of another chain (id 5): it answers eth_chainId, and nothing else. */
async function otherChain(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const { id } = JSON.parse(body) as { id: unknown };
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x5" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("e2e: failover between JSON-RPC endpoints", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let first: RpcProxy;
  let second: RpcProxy;
  let alice: ClusterNode;
  let bob: ClusterNode;

  before(async function () {
    cluster = await startCluster({ pollMs: 100 });
    [first, second] = await Promise.all([startRpcProxy(cluster.chain.url), startRpcProxy(cluster.chain.url)]);
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1, { rpc: `${first.url},${second.url}` }), cluster.startNode("bob", 2)]);
  });

  after(async function () {
    await cluster?.stop();
    await Promise.all([first?.close(), second?.close()]);
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
  });

  const active = async () => (await alice.process.api.info()).chain?.endpoints?.find((e) => e.active)?.url;
  const switches = async () => (await alice.process.api.listEvents({ types: ["chain.rpc.switched"] })).map((e) => e.data as { from: string; to: string; reason: string });

  it("moves to the second endpoint when the first drops, confirms a deposit through it, and returns to the first once it answers", async function () {
    const channelId: Hex = (await openFunded(alice, bob, ETH, [ETHER, ETHER])).channelId;
    expect(await active()).to.equal(first.url);
    expect(second.received.pass, "the second endpoint is only checked at start").to.be.below(5);

    first.mode = "drop";
    await waitFor(async () => (await active()) === second.url, { what: "Alice to move to the second endpoint" });
    const info = await alice.process.api.info();
    expect(info.chain?.reachable).to.equal(true);
    const [a, b] = info.chain!.endpoints!;
    expect(a.failures).to.be.greaterThan(0);
    expect(a.lastError).to.be.a("string");
    expect(b.active).to.equal(true);
    const away = (await switches()).find((s) => s.from === first.url && s.to === second.url);
    expect(away?.reason, "the switch says why").to.be.a("string").and.not.equal("recovered");

    // A deposit sent and confirmed through the second endpoint while the first drops everything.
    const passedBefore = second.received.pass;
    await alice.process.api.deposit(channelId, ETHER);
    await waitFor(async () => (await alice.process.api.channel(channelId)).deposits[0] === 2n * ETHER, { what: "Alice to see her deposit confirmed" });
    await waitFor(async () => (await bob.process.api.channel(channelId)).deposits[0] === 2n * ETHER, { what: "Bob to see Alice's deposit" });
    expect(second.received.pass - passedBefore, "calls went through the second endpoint").to.be.greaterThan(5);
    expect(first.received.drop).to.be.greaterThan(0);
    const statusText = await (await import("./helpers/cli")).sluice("--datadir", path.join(cluster.dir, "alice"), "status");
    expect(statusText.stdout).to.match(new RegExp(`\\* ${second.url.replace(/[.:/]/g, "\\$&")}`));

    first.mode = "pass";
    await waitFor(async () => (await active()) === first.url, { timeoutMs: 60_000, what: "Alice to return to the first endpoint" });
    expect((await switches()).at(-1)).to.deep.equal({ from: second.url, to: first.url, reason: "recovered" });
    const passed = first.received.pass;
    await alice.process.api.pay(channelId, 1n, `0x${"ab".repeat(32)}`);
    await waitFor(() => first.received.pass > passed + 3, { what: "calls to go through the first endpoint again" });
  });

  it("refuses at start an endpoint that serves another chain", async function () {
    const other = await otherChain();
    try {
      const start = NodeProcess.start({
        datadir: path.join(cluster.dir, "carol"),
        privateKey: cluster.chain.wallet(3).privateKey as Hex,
        rpc: `${cluster.chain.url},${other.url}`,
        adjudicator: cluster.driver.address,
        config: { pollMs: 100 },
      });
      let refusal: unknown;
      await start.then(
        (proc) => proc.kill(),
        (error: unknown) => (refusal = error),
      );
      expect(refusal).to.be.instanceOf(Error);
      expect((refusal as Error).message).to.match(/serves chain 5, not chain 31337 like the others/);
    } finally {
      await other.close();
    }
  });
});
