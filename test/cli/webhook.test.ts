/**
 * `sluice webhook add|list|remove` through `main()` against a real node (embedded chain, SQLite
 * store) behind its local API, and a real local receiver: the secret printed once, the delivery
 * state listed, the node's refusals with their codes and exit codes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { deployAdjudicator } from "../../src/chain";
import { startLocalApi, type ApiServer } from "../../src/node/api";
import { SluiceNode } from "../../src/node/node";
import { verifyWebhook } from "../../src/node/webhooks";
import { devKey } from "../invoice/fixtures";
import { runSluice } from "./run";

describe("sluice webhook (CLI against a real node)", function () {
  let dir: string;
  let node: SluiceNode;
  let api: ApiServer;
  let receiver: http.Server;
  let receiverUrl: string;
  /** Each request's signature header and body; the receiver answers 204 unless `failing`. */
  const received: { signature: string; body: string }[] = [];
  let failing = false;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-webhook-cli-"));
    const [deployer] = await ethers.getSigners();
    const adjudicator = (await deployAdjudicator(deployer)).address;
    node = new SluiceNode({
      privateKey: devKey(9),
      provider: ethers.provider,
      adjudicator,
      storePath: path.join(dir, "store.sqlite"),
      pollMs: 200,
      webhooks: { initialRetryMs: 60_000, timeoutMs: 2_000 },
    });
    await node.start();
    api = await startLocalApi({ api: node, datadir: dir });
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        received.push({ signature: String(req.headers["sluice-signature"]), body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(failing ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`;
  });

  after(async function () {
    await api.close();
    await node.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const sluice = (...args: string[]) => runSluice(dir, args);

  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("adds an endpoint, prints its secret once, and the node's signed deliveries show in the list", async function () {
    const added = await sluice("webhook", "add", receiverUrl, "--events", "invoice.created, invoice.cancelled");
    expect(added.code, added.stderr).to.equal(0);
    const secret = /signing secret: (whsec_[0-9a-f]{64})/.exec(added.stdout)?.[1];
    expect(secret, added.stdout).to.be.a("string");
    expect(added.stdout).to.include(`webhook #1 added: the node POSTs invoice.created, invoice.cancelled to ${receiverUrl}`);

    const invoice = await node.createInvoice({ amount: 5n });
    await node.cancelInvoice(invoice.id);
    // Events go in batches: one request may carry both.
    const delivered = () => received.flatMap((r) => verifyWebhook(secret!, r.signature, r.body, 60));
    await until("2 events delivered", () => delivered().length >= 2);
    const events = delivered();
    expect(events.map((e) => [e.type, e.data.invoice])).to.deep.equal([
      ["invoice.created", String(invoice.id)],
      ["invoice.cancelled", String(invoice.id)],
    ]);

    const list = await sluice("webhook", "list");
    expect(list.code, list.stderr).to.equal(0);
    expect(list.stdout).to.match(new RegExp(`webhook\\s+#1  ${receiverUrl}`));
    expect(list.stdout).to.match(/events\s+invoice\.created, invoice\.cancelled/);
    expect(list.stdout).to.match(new RegExp(`cursor\\s+event #${events[1].id}`));
    expect(list.stdout).to.match(/delivered\s+2\n/);
    expect(list.stdout, "the secret is never listed").to.not.include(secret);

    const json = await sluice("--json", "webhook", "list");
    const [view] = JSON.parse(json.stdout) as { id: string; delivered: number; failures: number; cursor: string; secret?: string }[];
    expect(view).to.include({ id: "1", delivered: 2, failures: 0, cursor: events[1].id });
    expect(view.secret).to.equal(undefined);
  });

  it("lists a failing endpoint's last error and next attempt", async function () {
    failing = true;
    const before = received.length;
    await node.createInvoice({ amount: 6n });
    await until("a failed attempt", () => received.length > before);
    await until("the failure recorded", () => (node.store.webhooks.get(1n)?.failures ?? 0) >= 1);
    const list = await sluice("webhook", "list");
    expect(list.stdout).to.match(/failures\s+1 \(1 in a row at the next event\)/);
    expect(list.stdout).to.match(/last error\s+events \d+-\d+: HTTP 503 \(\d{4}-\d\d-\d\dT/);
    expect(list.stdout).to.match(/next attempt\s+\d{4}-\d\d-\d\dT/);
  });

  it("refuses a URL other than http(s), an unknown type and a short secret with WEBHOOK_INVALID; removes by id", async function () {
    for (const args of [["ftp://127.0.0.1/x"], [receiverUrl, "--events", "payment.lost"], [receiverUrl, "--secret", "tooshort"]]) {
      const run = await sluice("--json", "webhook", "add", ...args);
      expect(run.code, args.join(" ")).to.equal(1);
      expect((JSON.parse(run.stdout) as { error: { code: string } }).error.code, args.join(" ")).to.equal("WEBHOOK_INVALID");
    }
    const removed = await sluice("webhook", "remove", "1");
    expect(removed.code, removed.stderr).to.equal(0);
    expect(removed.stdout).to.include(`webhook #1 removed (${receiverUrl}): 2 events delivered`);
    expect((await sluice("webhook", "list")).stdout.trim()).to.equal("no webhooks");
    const again = await sluice("--json", "webhook", "remove", "1");
    expect(again.code).to.equal(1);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).to.equal("WEBHOOK_NOT_FOUND");
    const usage = await sluice("webhook", "remove", "first");
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include("is not a webhook id");
  });
});
