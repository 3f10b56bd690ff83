/**
 * Metrics and logs of real node processes (`sluice node start`, a `hardhat node`): `GET /metrics`
 * after payments between them, counted exactly, for a read-only token; the log in JSON lines at the
 * level of the config's `logLevel`, each payment's line with its channel and peer; and neither an
 * API token nor an invoice's secret anywhere in what the processes printed.
 */
import http from "node:http";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import { readApiToken } from "../../src/node/api";
import { ETH, type Hex } from "../../src/types";
import { ETHER, openFunded, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

function getMetrics(node: ClusterNode, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${node.process.api.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
  });
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

type Line = { level: number; msg: string; channelId?: string; peer?: string; event?: string; amount?: string };

/** The node's log lines; a line that is not JSON (but the CLI's own "node running" line) fails the test. */
function linesOf(node: ClusterNode): Line[] {
  return node.process
    .log()
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("node running in "))
    .map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`${node.name} printed a line that is not JSON: ${l}`);
      }
    });
}

describe("e2e: metrics and logs of node processes", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  before(async function () {
    cluster = await startCluster();
    alice = await cluster.startNode("alice", 1, { config: { logLevel: "debug" } });
    bob = await cluster.startNode("bob", 2, { config: { logLevel: "warn" } });
  });

  after(async function () {
    await cluster?.stop();
  });

  it("serves exact counts after payments, logs each on the channel's line, and prints no token or secret", async function () {
    const { channelId } = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    const amounts = [3n, 5n, 8n];
    for (const [i, amount] of amounts.entries()) await alice.process.api.pay(channelId, amount, { memo: `order ${i}` });
    await bob.process.api.pay(channelId, 2n, { memo: "refund" });
    const readOnly = (await alice.process.api.createToken("read-only", "prometheus")).token;
    const invoice = await alice.process.api.createInvoice({ amount: 7n });
    const db = new Database(path.join(cluster.dir, "alice", "store.sqlite"), { readonly: true });
    const secret = db.prepare("SELECT secret FROM invoices WHERE hashlock = ?").pluck().get(invoice.invoice.hashlock) as Hex;
    db.close();
    expect(secret).to.match(/^0x[0-9a-f]{64}$/);

    const asset = ETH.toLowerCase();
    await waitFor(async () => sample((await getMetrics(alice, readOnly)).body, `sluice_payments_total{direction="received",asset="${asset}"}`) === 1, { what: "alice to count bob's payment" });
    const { status, body } = await getMetrics(alice, readOnly);
    expect(status).to.equal(200);
    expect(sample(body, `sluice_payments_total{direction="sent",asset="${asset}"}`)).to.equal(3);
    expect(sample(body, `sluice_payment_amount_total{direction="sent",asset="${asset}"}`)).to.equal(16);
    expect(sample(body, "sluice_payment_latency_seconds_count")).to.equal(3);
    expect(sample(body, 'sluice_channels{status="open"}')).to.equal(1);
    expect(sample(body, "sluice_peer_connections")).to.equal(1);
    expect(sample(body, "process_resident_memory_bytes")).to.be.greaterThan(0);
    const onBob = (await getMetrics(bob, await readApiToken(path.join(cluster.dir, "bob")))).body;
    expect(sample(onBob, `sluice_payments_total{direction="received",asset="${asset}"}`)).to.equal(3);

    // Alice logs at debug: every event, a payment's on its channel's line with the peer.
    await waitFor(() => linesOf(alice).filter((l) => l.event === "payment.sent").length === 3, { what: "alice's payment lines" });
    const sent = linesOf(alice).filter((l) => l.event === "payment.sent");
    expect(sent.map((l) => [l.amount, l.channelId, l.peer])).to.deep.equal(amounts.map((a) => [a.toString(), channelId.toLowerCase(), bob.address.toLowerCase()]));
    expect(linesOf(alice).some((l) => l.level === 30 && l.msg.startsWith("sluice node "))).to.equal(true);
    // Bob logs at warn: nothing below it (not even the start line).
    expect(linesOf(bob).filter((l) => l.level < 40)).to.deep.equal([]);

    const printed = `${alice.process.log()}\n${bob.process.log()}`.toLowerCase();
    expect(printed).to.not.include(readOnly.slice(-64));
    expect(printed).to.not.include(secret.slice(2));
    expect(printed).to.not.include((await readApiToken(path.join(cluster.dir, "alice"))).toLowerCase());
    expect(printed).to.not.include(alice.wallet.privateKey.slice(2).toLowerCase());
  });
});
