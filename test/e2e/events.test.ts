/**
 * End to end: the event stream of real node processes over a `hardhat node`. A library subscriber
 * and a `sluice events --follow` process follow Bob's node while the two nodes open a channel and
 * pay both ways, and while Bob's node is killed with SIGKILL in the middle of a burst and
 * restarted: both see every change exactly once, in id order (ids 1..N without a gap), with one
 * payment event per stored payment; a subscriber that stops resumes after its last id; the paged
 * read (`POST /v1/events`) agrees with the stream.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { expect } from "chai";
import { freePort } from "../../src/chain";
import { readApiToken, type EventView } from "../../src/node/api";
import { ETH } from "../../src/types";
import { ETHER, allPayments, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { paymentsAcrossKill } from "./helpers/traffic";

const CLI = path.resolve(__dirname, "..", "..", "bin", "sluice.js");

/** `sluice events --follow --json` on a node's data directory: the events it printed so far. */
function followCli(datadir: string): { process: ChildProcess; events: EventView[]; stderr(): string } {
  const child = spawn(process.execPath, [CLI, "events", "--follow", "--json", "--datadir", datadir], { stdio: ["ignore", "pipe", "pipe"] });
  const events: EventView[] = [];
  let buffer = "";
  let errors = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => (errors += chunk));
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (line.trim() !== "") events.push(JSON.parse(line) as EventView);
    }
  });
  return { process: child, events, stderr: () => errors.slice(-2_000) };
}

/** A raw GET of the stream: the status and the first bytes of the body. */
function rawGet(url: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (body.includes("\n\nid:") || res.statusCode !== 200) req.destroy();
      });
      res.on("close", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

describe("e2e: the event stream across a kill -9", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  before(async function () {
    cluster = await startCluster();
    // A fixed API port: a subscriber reconnects to the same URL after the restart.
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2, { config: { apiPort: await freePort() } })]);
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
  });

  it("every change once, in order, to a library subscriber and to `sluice events --follow`; resumable after any id", async function () {
    const bobDir = path.join(cluster.dir, "bob");
    const seen: EventView[] = [];
    const stop = new AbortController();
    const following = (async () => {
      for await (const event of bob.process.api.events({ retryMs: 100, signal: stop.signal })) seen.push(event);
    })();
    const cli = followCli(bobDir);
    try {
      const { channelId } = await openFunded(alice, bob, ETH, [5n * ETHER, 5n * ETHER]);
      // Bob killed in the middle of a burst from Alice and restarted; the failed payments sent again by ref.
      const failed = await paymentsAcrossKill(alice, bob, channelId, [30, 20], 60);
      console.log(`      burst of 60: ${failed} failed under the kill and were sent again`);

      const stored = await allPayments(bob, channelId);
      expect(stored).to.have.length(30 + 20 + 60);
      const paymentEvents = () => seen.filter((e) => e.type === "payment.sent" || e.type === "payment.received");
      await waitFor(() => paymentEvents().length >= stored.length && cli.events.length >= seen.length, { what: "the subscribers to catch up", timeoutMs: 30_000 });
      await sleep(300); // anything extra (a duplicate) would arrive now

      // No gap, no repeat: ids 1..N.
      expect(seen.map((e) => e.id)).to.deep.equal(seen.map((_, i) => String(i + 1)));
      // One event per stored payment, as stored.
      const byPayment = paymentEvents().map((e) => [e.type, e.data.seq, e.data.amount, e.data.ref]);
      expect(byPayment).to.deep.equal(stored.map((p) => [p.payer === 0 ? "payment.received" : "payment.sent", p.seq.toString(), p.amount.toString(), p.ref]));
      // The channel's life and the peer connections are there too.
      const types = seen.map((e) => e.type);
      expect(types).to.include.members(["channel.opening", "channel.open", "channel.deposit", "peer.connected", "chain.tx.sent", "chain.tx.confirmed"]);
      // Bob's deposit transaction: sent, then confirmed with its block.
      const sent = seen.find((e) => e.type === "chain.tx.sent")!;
      const confirmed = seen.find((e) => e.type === "chain.tx.confirmed" && e.data.hash === sent.data.hash)!;
      expect(sent.data).to.include({ what: "deposit", nonce: confirmed.data.nonce });
      expect(Number(confirmed.id)).to.be.above(Number(sent.id));
      expect(confirmed.data.blockNumber).to.be.a("number");
      expect(types.filter((t) => t === "peer.connected").length, "connected again after the restart").to.be.at.least(2);
      // The CLI process followed across the kill the same way (it may print the newest events a moment later).
      await waitFor(() => cli.events.length >= seen.length, { what: "the CLI to print every event", timeoutMs: 10_000 });
      expect(cli.events.slice(0, seen.length), `the CLI printed ${cli.events.length} events; stderr: ${cli.stderr()}`).to.deep.equal(seen);

      // Resume after any id: a new subscriber from the middle gets exactly the rest.
      const mid = seen[Math.floor(seen.length / 2)];
      const rest: EventView[] = [];
      for await (const event of bob.process.api.events({ after: BigInt(mid.id), reconnect: false })) {
        rest.push(event);
        if (rest.length === seen.length - Number(mid.id)) break;
      }
      expect(rest).to.deep.equal(seen.slice(Number(mid.id)));
      // The paged read agrees, and filters by type.
      const paged: EventView[] = [];
      for (let after = 0n; ; ) {
        const page = await bob.process.api.listEvents({ after, limit: 25 });
        if (page.length === 0) break;
        paged.push(...page);
        after = BigInt(page[page.length - 1].id);
      }
      expect(paged).to.deep.equal(seen);
      expect(await bob.process.api.listEvents({ types: ["payment.sent"], limit: 10_000 })).to.deep.equal(seen.filter((e) => e.type === "payment.sent"));

      // The raw stream: Last-Event-ID wins over ?after=; a bad id is a 400 naming the header.
      const token = await readApiToken(bobDir);
      const fromHeader = await rawGet(`${bob.process.api.url}/v1/events?after=1`, token, { "last-event-id": "5" });
      expect(fromHeader.status).to.equal(200);
      expect(fromHeader.body).to.match(/^retry: 1000\n\nid: 6\n/);
      const bad = await rawGet(`${bob.process.api.url}/v1/events`, token, { "last-event-id": "-1" });
      expect(bad.status).to.equal(400);
      expect((JSON.parse(bad.body) as { error: object }).error).to.deep.include({ code: "BAD_REQUEST", details: { field: "Last-Event-ID" } });
    } finally {
      stop.abort();
      await following;
      cli.process.kill();
    }
  });
});
