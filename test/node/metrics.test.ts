/**
 * `GET /metrics` of real nodes (two in one process, embedded chain, each with a registry of its
 * own): payments and amounts by direction and asset, the payment latency histogram and the group
 * commits counted exactly, channels by status, peers, chain calls and their errors, a gauge a
 * module registers, the process metrics; and who may read it (admin, read-only; not invoice).
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { startApiServer, type ApiServer } from "../../src/node/api";
import { SluiceNode } from "../../src/node/node";
import { ETH, type Hex } from "../../src/types";

const devKey = (index: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
const ADMIN = "cd".repeat(32);
const ASSET = ETH.toLowerCase();

function get(url: string, token?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
  });
}

/** The value of one series (`name{labels}` exactly as Prometheus prints it), undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("node metrics (GET /metrics)", function () {
  let dir: string;
  let alice: SluiceNode;
  let bob: SluiceNode;
  let server: ApiServer;
  let channelId: Hex;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-metrics-"));
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const make = (i: number) =>
      new SluiceNode({ privateKey: devKey(i), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, `node${i}`, "store.sqlite"), pollMs: 50, challengePeriod: 600n });
    alice = make(1);
    bob = make(2);
    await alice.start();
    await bob.start();
    ({ channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n }));
    await bob.deposit(channelId, 10n ** 18n);
    server = await startApiServer({ api: alice, token: ADMIN, tokens: alice.apiTokens, metrics: alice.metrics });
  });

  after(async function () {
    await server.close();
    await alice.stop();
    await bob.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts payments and amounts by direction and asset, and times each sent one, exactly, per node", async function () {
    const sent = [5n, 7n, 11n, 13n];
    for (const amount of sent) await alice.pay(channelId, amount, ethers.id(`a${amount}`) as Hex);
    await Promise.all([bob.pay(channelId, 3n, ethers.id("b1") as Hex), bob.pay(channelId, 4n, ethers.id("b2") as Hex)]);
    const series = (direction: string) => `{direction="${direction}",asset="${ASSET}"}`;
    const scrape = async (node: SluiceNode) => node.metrics.text();
    await waitFor(async () => sample(await scrape(alice), `sluice_payments_total${series("received")}`) === 2, "alice to count bob's payments");
    await waitFor(async () => sample(await scrape(bob), `sluice_payments_total${series("received")}`) === 4, "bob to count alice's payments");

    const text = (await get(`${server.url}/metrics`, ADMIN)).body;
    expect(sample(text, `sluice_payments_total${series("sent")}`)).to.equal(4);
    expect(sample(text, `sluice_payments_total${series("received")}`)).to.equal(2);
    expect(sample(text, `sluice_payment_amount_total${series("sent")}`)).to.equal(36);
    expect(sample(text, `sluice_payment_amount_total${series("received")}`)).to.equal(7);
    expect(sample(text, "sluice_payment_latency_seconds_count")).to.equal(4);
    expect(sample(text, 'sluice_payment_latency_seconds_bucket{le="+Inf"}')).to.equal(4);
    expect(text).to.match(/# HELP sluice_payment_amount_total .*float64.*not accounting/);

    const onBob = await scrape(bob);
    expect(sample(onBob, `sluice_payments_total${series("sent")}`)).to.equal(2);
    expect(sample(onBob, `sluice_payment_amount_total${series("received")}`)).to.equal(36);
    expect(sample(onBob, "sluice_payment_latency_seconds_count")).to.equal(2);
  });

  it("times every group commit and counts its writes, as the queue's own stats do", async function () {
    await alice.pay(channelId, 1n, ethers.id("commit") as Hex);
    const text = await alice.metrics.text();
    const { groups, writes } = alice.commits.stats;
    expect(groups).to.be.greaterThan(0);
    expect(sample(text, "sluice_commit_duration_seconds_count")).to.equal(groups);
    expect(sample(text, "sluice_commit_writes_count")).to.equal(groups);
    expect(sample(text, "sluice_commit_writes_sum")).to.equal(writes);
  });

  it("shows channels by status, peer connections, locks, chain calls and their errors, and the process", async function () {
    let text = await alice.metrics.text();
    expect(sample(text, 'sluice_channels{status="open"}')).to.equal(1);
    expect(sample(text, "sluice_peer_connections")).to.equal(1);
    expect(sample(text, "sluice_pending_locks")).to.equal(0);
    expect(sample(text, "sluice_chain_reachable")).to.equal(1);
    expect(sample(text, 'sluice_chain_calls_total{method="deposit"}')).to.equal(1);
    expect(sample(text, 'sluice_chain_call_errors_total{method="settle"}')).to.equal(undefined);
    expect(sample(text, "process_cpu_user_seconds_total")).to.be.a("number");

    // No challenge is running: the adjudicator refuses the settle, and the driver's call counts as failed.
    await expect(alice.settle(channelId)).to.be.rejected;
    text = await alice.metrics.text();
    expect(sample(text, 'sluice_chain_calls_total{method="settle"}')).to.equal(1);
    expect(sample(text, 'sluice_chain_call_errors_total{method="settle"}')).to.equal(1);
    expect(sample(await bob.metrics.text(), 'sluice_chain_calls_total{method="settle"}'), "bob's registry is its own").to.equal(undefined);
  });

  it("serves a gauge another module registers, until it is removed; the webhook backlog is one", async function () {
    let backlog = 3;
    const remove = alice.metrics.registerGauge({ name: "sluice_example_backlog", help: "Deliveries waiting", read: () => backlog });
    expect(sample(await alice.metrics.text(), "sluice_example_backlog")).to.equal(3);
    backlog = 0;
    expect(sample(await alice.metrics.text(), "sluice_example_backlog")).to.equal(0);
    remove();
    expect(await alice.metrics.text()).to.not.include("sluice_example_backlog");
    // No endpoint: nothing waits.
    expect(sample(await alice.metrics.text(), "sluice_webhook_backlog_events")).to.equal(0);
  });

  it("answers admin and read-only tokens in Prometheus text format; refuses an invoice token (403) and no token (401)", async function () {
    const readOnly = (await alice.createToken("read-only")).token;
    const invoice = (await alice.createToken("invoice")).token;
    for (const token of [ADMIN, readOnly]) {
      const reply = await get(`${server.url}/metrics`, token);
      expect(reply.status).to.equal(200);
      expect(reply.type).to.match(/^text\/plain; version=0\.0\.4/);
      expect(reply.body).to.include("# TYPE sluice_payments_total counter");
    }
    const refused = await get(`${server.url}/metrics`, invoice);
    expect(refused.status).to.equal(403);
    expect(JSON.parse(refused.body)).to.deep.include({ error: { code: "FORBIDDEN_SCOPE", message: "a token with scope invoice can't call metrics: that needs admin or read-only", details: { scope: "invoice", method: "metrics", needed: ["admin", "read-only"] } } });
    expect((await get(`${server.url}/metrics`)).status).to.equal(401);
  });
});
