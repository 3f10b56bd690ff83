/**
 * End to end: webhooks of a real node process over a `hardhat node`. Bob's node POSTs its events to
 * a receiver in this process (node:http) while the two nodes open a channel and pay both ways; Bob's
 * node is killed with SIGKILL in the middle of a burst (deliveries in flight) and restarted; then
 * the receiver answers 500 for a while and comes back. Every event after the endpoint was added
 * arrives, signed, in id order; the only repeats are of events acknowledged since the killed node
 * last wrote the endpoint's cursor (at least once); `sluice webhook list` shows the deliveries and
 * failures.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { freePort } from "../../src/chain";
import type { EventView } from "../../src/node/api";
import { verifyWebhook } from "../../src/node/webhooks";
import { ETH } from "../../src/types";
import { ETHER, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { newRef, paymentsAcrossKill, payUntilDone } from "./helpers/traffic";

const CLI = path.resolve(__dirname, "..", "..", "bin", "sluice.js");
const SECRET = "whsec_e2e_0123456789abcdef";

describe("e2e: webhooks across a kill -9 and a receiver outage", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let receiver: http.Server;
  /** The events of the requests answered 2xx (batches), in arrival order: their ids. */
  const acknowledged: bigint[] = [];
  /** Answers 500 while above 0 (counting down per request, a batch of events). */
  let failNext = 0;
  let failed = 0;
  let badSignatures = 0;

  before(async function () {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        let events: EventView[];
        try {
          events = verifyWebhook(SECRET, req.headers["sluice-signature"] as string | undefined, Buffer.concat(chunks), 300);
        } catch {
          badSignatures++;
          res.writeHead(400).end();
          return;
        }
        if (failNext > 0) {
          failNext--;
          failed++;
          res.writeHead(500).end();
          return;
        }
        acknowledged.push(...events.map((event) => BigInt(event.id)));
        res.writeHead(200).end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    cluster = await startCluster();
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2, { config: { apiPort: await freePort() } })]);
  });

  after(async function () {
    await cluster?.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
  });

  it("delivers every event once acknowledged, in order, across a kill -9 mid-burst and a receiver outage", async function () {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/sluice`;
    const bobDir = path.join(cluster.dir, "bob");
    const added = await promisify(execFile)(process.execPath, [CLI, "--json", "--datadir", bobDir, "webhook", "add", url, "--secret", SECRET]);
    const hook = JSON.parse(added.stdout) as { id: string; cursor: string };
    const from = BigInt(hook.cursor);

    const { channelId } = await openFunded(alice, bob, ETH, [5n * ETHER, 5n * ETHER]);
    // Bob killed in the middle of a burst from Alice (deliveries in flight) and restarted.
    await paymentsAcrossKill(alice, bob, channelId, [20, 10], 40);

    // The receiver goes down for 3 requests; payments go on meanwhile.
    failNext = 3;
    for (let i = 0; i < 10; i++) await payUntilDone(alice, channelId, 4_000n + BigInt(i), newRef());

    const expectedIds = async () => (await bob.process.api.listEvents({ after: from, limit: 10_000 })).map((e) => BigInt(e.id));
    await waitFor(async () => new Set(acknowledged).size >= (await expectedIds()).length && failNext === 0, {
      what: "every event acknowledged after the outage",
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    await sleep(300); // anything extra would arrive now
    const expected = await expectedIds();
    console.log(`      ${expected.length} events, ${acknowledged.length} acknowledged (${acknowledged.length - expected.length} sent again after the kill), ${failed} answered 500`);

    expect(badSignatures, "every request signed with the endpoint's secret").to.equal(0);
    expect(failed).to.equal(3);
    expect([...new Set(acknowledged)], "every event, in id order").to.deep.equal(expected);
    // Repeats come only from the kill: the events acknowledged since the node last wrote the
    // endpoint's cursor, sent again from the restarted node, in order. The sequence goes back once.
    const backs = acknowledged.flatMap((id, i) => (i > 0 && id <= acknowledged[i - 1] ? [i] : []));
    expect(backs.length, "the acknowledged ids go back at most once (at the restart)").to.be.at.most(1);
    if (backs.length === 1) expect(acknowledged.slice(0, backs[0]), "a repeat is of an event acknowledged already").to.include(acknowledged[backs[0]]);

    const listed = await promisify(execFile)(process.execPath, [CLI, "--json", "--datadir", bobDir, "webhook", "list"]);
    const [view] = JSON.parse(listed.stdout) as { id: string; cursor: string; delivered: number; failures: number; attempts: number; lastError?: string }[];
    expect(view).to.include({ id: hook.id, cursor: String(expected[expected.length - 1]), failures: 3, attempts: 0 });
    expect(view.delivered, "each event counted once").to.equal(expected.length);
    expect(view.lastError).to.match(/HTTP 500$/);
  });
});
