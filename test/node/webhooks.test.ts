/**
 * Webhooks through a real node (embedded chain, its SQLite store) and real local HTTP receivers
 * (node:http): events delivered in order with valid signatures, several to a request while they
 * keep coming (batches: each answered 2xx moves past its last event; a failed one comes again from
 * its first); a receiver that fails, times out and
 * comes back gets every event, in order, after retries with growing delays; a node restarted
 * mid-backlog resumes from its outbox; filters; a down endpoint never holds up another; the
 * endpoint's checks and errors through the local API. Retry settings are short; times are only
 * asserted as lower bounds (a retry never comes before its delay).
 */
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { deployAdjudicator } from "../../src/chain";
import { ApiClient, ApiError, startApiServer, type ApiServer } from "../../src/node/api";
import type { EventView, WebhookView } from "../../src/node/api/types";
import Database from "better-sqlite3";
import { eventView } from "../../src/node/api/eventStream";
import { EventLog, headOfJson } from "../../src/node/store/events";
import { migrate } from "../../src/node/store/migrations";
import { SluiceNode, type NodeOptions } from "../../src/node/node";
import { InvalidArgumentError } from "../../src/errors";
import {
  InvalidWebhookError,
  MAX_BATCH_EVENTS,
  retryDelay,
  UnknownWebhookError,
  verifyWebhook,
  WebhookDispatcher,
  WebhookSignatureError,
  type WebhookBody,
} from "../../src/node/webhooks";
import type { Address } from "../../src/types";
import { devKey } from "../invoice/fixtures";

const SECRET = "whsec_test_0123456789abcdef";
const TOKEN = "cd".repeat(32);

/** What a receiver does with a request: answer 2xx, answer 500, or never answer. */
type Answer = "ok" | "fail" | "hang";

interface Received {
  /** Date.now() when its body had arrived. */
  at: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  answer: Answer;
}

/** A local HTTP receiver; `script` answers the requests in turn, then `then` answers the rest. */
class Receiver {
  readonly requests: Received[] = [];
  script: Answer[] = [];
  then: Answer = "ok";
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const answer = this.script.shift() ?? this.then;
      this.requests.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), answer });
      if (answer === "ok") res.writeHead(204).end();
      else if (answer === "fail") res.writeHead(500).end("down for maintenance");
    });
  });

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** The events of the requests answered 2xx, in the order they came. */
  get acknowledged(): EventView[] {
    return this.requests.filter((r) => r.answer === "ok").flatMap(eventsOf);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function failure<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a ${type.name}`).to.be.instanceOf(type);
  return error as E;
}

const ids = (events: readonly EventView[]) => events.map((e) => BigInt(e.id));
/** A request's events (its body, a batch), unchecked. */
const eventsOf = (request: Received): EventView[] => (JSON.parse(request.body) as WebhookBody).events;
const firstId = (request: Received): bigint => BigInt(eventsOf(request)[0].id);
const lastId = (request: Received): bigint => BigInt(eventsOf(request).at(-1)!.id);

describe("webhooks: delivery from a node to real HTTP receivers", function () {
  let adjudicator: Address;
  let dir: string;
  let nodes: SluiceNode[];
  let receivers: Receiver[];

  before(async function () {
    const [deployer] = await ethers.getSigners();
    adjudicator = (await deployAdjudicator(deployer)).address;
  });

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-webhooks-"));
    nodes = [];
    receivers = [];
  });

  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    for (const receiver of receivers) await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A started node on this test's store (the same file each call: a restart). */
  async function startNode(webhooks: NodeOptions["webhooks"] = { initialRetryMs: 20, maxRetryMs: 200, timeoutMs: 2_000 }): Promise<SluiceNode> {
    const node = new SluiceNode({ privateKey: devKey(7), provider: ethers.provider, adjudicator, storePath: path.join(dir, "store.sqlite"), pollMs: 200, webhooks });
    await node.start();
    nodes.push(node);
    return node;
  }

  async function receiver(): Promise<Receiver> {
    const r = await Receiver.start();
    receivers.push(r);
    return r;
  }

  /** `n` invoice.created events (the node's own API makes them). */
  async function invoices(node: SluiceNode, n: number): Promise<bigint[]> {
    const made: bigint[] = [];
    for (let i = 0; i < n; i++) made.push((await node.createInvoice({ amount: BigInt(i + 1) })).id);
    return made;
  }

  async function endpoint(node: SluiceNode, id: bigint): Promise<WebhookView> {
    const found = (await node.webhooks()).find((w) => w.id === id);
    expect(found, `webhook ${id}`).to.not.equal(undefined);
    return found!;
  }

  it("POSTs each event after the endpoint was added, in order, signed, in batches headed with their first and last ids", async function () {
    const node = await startNode();
    const r = await receiver();
    await invoices(node, 1);
    const before = node.store.events.lastId();
    const hook = await node.addWebhook({ url: r.url, secret: SECRET });
    expect(hook.secret, "the answer to add shows the secret").to.equal(SECRET);
    expect(hook.cursor, "it starts after the last event stored").to.equal(before);
    await invoices(node, 5);
    await until("5 deliveries", () => r.acknowledged.length >= 5);

    const events = r.requests.flatMap((request) => {
      expect(request.headers["content-type"]).to.equal("application/json");
      const batch = verifyWebhook(SECRET, request.headers["sluice-signature"] as string, request.body, 60);
      expect(batch.length, "a request carries at least one event").to.be.at.least(1);
      expect(request.headers["sluice-event-ids"]).to.equal(`${batch[0].id}-${batch[batch.length - 1].id}`);
      return batch;
    });
    expect(ids(events)).to.deep.equal([1n, 2n, 3n, 4n, 5n].map((i) => before + i));
    expect(events.map((e) => e.type)).to.deep.equal(Array(5).fill("invoice.created"));
    expect(events.map((e) => e.data.amount)).to.deep.equal(["1", "2", "3", "4", "5"]);
    // The body is the event as GET /v1/events shows it.
    expect((await node.listEvents({ after: before })).slice(0, 5)).to.deep.equal(events);

    await until("the cursor at the last event", () => node.store.webhooks.get(hook.id)?.cursor === before + 5n);
    const seen = await endpoint(node, hook.id);
    expect(seen).to.include({ delivered: 5, failures: 0, attempts: 0, url: r.url });
    expect(seen.secret, "the list never shows the secret").to.equal(undefined);
    expect(seen.lastError).to.equal(undefined);
  });

  /** `count` events in one commit (a backlog, as after an outage), returned with the last id before them. */
  function backlog(node: SluiceNode, count: number): bigint {
    const before = node.store.events.lastId();
    node.store.transaction(() => {
      for (let i = 0; i < count; i++) node.store.events.append("invoice.created", null, Date.now(), { invoice: String(i), amount: String(i + 1) });
    });
    return before;
  }

  /** Each request answered 2xx starts with the event after the last of the one before (none twice in a row). */
  function expectContiguous(r: Receiver): void {
    const ok = r.requests.filter((request) => request.answer === "ok");
    for (let i = 1; i < ok.length; i++) expect(firstId(ok[i]), `request ${i + 1} answered 2xx`).to.equal(lastId(ok[i - 1]) + 1n);
  }

  it("sends a backlog in full batches, each signed, every event once and in order", async function () {
    const node = await startNode();
    const r = await receiver();
    await node.addWebhook({ url: r.url, secret: SECRET });
    const total = 2 * MAX_BATCH_EVENTS + 200;
    const before = backlog(node, total);
    await until(`${total} events acknowledged`, () => r.acknowledged.length >= total);
    await new Promise((resolve) => setTimeout(resolve, 50)); // anything extra would arrive now

    expect(r.requests.map((request) => eventsOf(request).length)).to.deep.equal([MAX_BATCH_EVENTS, MAX_BATCH_EVENTS, 200]);
    const events = r.requests.flatMap((request) => {
      const batch = verifyWebhook(SECRET, request.headers["sluice-signature"] as string, request.body, 60);
      expect(request.headers["sluice-event-ids"]).to.equal(`${batch[0].id}-${batch[batch.length - 1].id}`);
      return batch;
    });
    expect(ids(events)).to.deep.equal(Array.from({ length: total }, (_, i) => before + 1n + BigInt(i)));
    expect(events.map((e) => e.data.invoice)).to.deep.equal(Array.from({ length: total }, (_, i) => String(i)));
    expectContiguous(r);
  });

  it("a batch that fails or times out comes again from its first event: order kept across batches and retries", async function () {
    const node = await startNode({ initialRetryMs: 20, maxRetryMs: 100, timeoutMs: 300 });
    const r = await receiver();
    r.script = ["ok", "fail", "hang", "ok"];
    const hook = await node.addWebhook({ url: r.url, secret: SECRET });
    const total = 2 * MAX_BATCH_EVENTS + 200;
    const before = backlog(node, total);
    await until(`${total} events acknowledged`, () => r.acknowledged.length >= total);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const second = before + BigInt(MAX_BATCH_EVENTS) + 1n;
    expect(r.requests.map((request) => [request.answer, firstId(request)])).to.deep.equal([
      ["ok", before + 1n],
      ["fail", second],
      ["hang", second],
      ["ok", second],
      ["ok", second + BigInt(MAX_BATCH_EVENTS)],
    ]);
    expect(ids(r.acknowledged), "every event acknowledged once, in order").to.deep.equal(Array.from({ length: total }, (_, i) => before + 1n + BigInt(i)));
    expectContiguous(r);
    await until("the cursor at the last event", () => node.store.webhooks.get(hook.id)?.cursor === before + BigInt(total));
    const done = await endpoint(node, hook.id);
    expect(done).to.include({ delivered: total, failures: 2, attempts: 0 });
    expect(done.lastError).to.equal(`events ${second}-${second + BigInt(MAX_BATCH_EVENTS) - 1n}: no answer within 300 ms`);
  });

  it("retries a receiver that fails and times out with growing delays, then delivers everything in order", async function () {
    // random 0: each wait is exactly half its base, 10, 20, 40, 80, then capped at 80 (max 160).
    const node = await startNode({ initialRetryMs: 20, maxRetryMs: 160, timeoutMs: 150, random: () => 0 });
    const r = await receiver();
    r.script = ["fail", "fail", "fail", "hang", "hang"];
    const hook = await node.addWebhook({ url: r.url, secret: SECRET });
    const made = await invoices(node, 3);

    await until("the first failure recorded", () => (node.store.webhooks.get(hook.id)?.failures ?? 0) >= 1);
    const failing = await endpoint(node, hook.id);
    expect(failing.lastError).to.match(/^events \d+-\d+: HTTP 500$/);
    expect(failing.lastErrorAt).to.be.a("number");
    expect(failing.delivered).to.equal(0);

    await until("all 3 events acknowledged", () => r.acknowledged.length >= 3);
    const first = ids(r.acknowledged)[0];
    expect(ids(r.acknowledged), "in order, none lost, none twice once acknowledged").to.deep.equal([first, first + 1n, first + 2n]);
    expect(r.acknowledged.map((e) => e.data.invoice)).to.deep.equal(made.map(String));
    // The first event was tried 6 times (3 × 500, 2 × no answer, then 2xx) before any after it was
    // acknowledged: each attempt a batch starting with it (it may carry the events made meanwhile).
    const attempts = r.requests.slice(0, 6);
    expect(attempts.map(firstId)).to.deep.equal(Array(6).fill(first));
    expect(attempts.map((a) => a.answer)).to.deep.equal(["fail", "fail", "fail", "hang", "hang", "ok"]);
    // Each retry came at least its delay after the attempt before (for one without an answer, after the timeout too).
    const waits = [10, 20, 40, 80, 80];
    for (const [i, wait] of waits.entries()) {
      expect(attempts[i + 1].at - attempts[i].at, `the wait before attempt ${i + 2}`).to.be.at.least(wait - 2);
    }

    await until("the cursor at the last event", () => node.store.webhooks.get(hook.id)?.cursor === first + 2n);
    const done = await endpoint(node, hook.id);
    expect(done).to.include({ delivered: 3, failures: 5, attempts: 0 });
    expect(done.lastError, "the last failure is kept").to.equal(`events ${first}-${lastId(attempts[4])}: no answer within 150 ms`);
    expect(done.nextAttemptAt).to.equal(undefined);
  });

  it("the retry delay doubles from the initial one up to the cap, jittered between half and all of it", function () {
    const rows: [failures: number, random: number, delay: number][] = [
      [1, 0, 500],
      [1, 0.999999, 1_000],
      [2, 0, 1_000],
      [3, 0.5, 3_000],
      [10, 0, 256_000],
      [11, 0, 300_000],
      [11, 0.999999, 600_000],
      [400, 0.5, 450_000],
    ];
    for (const [failures, random, delay] of rows) {
      expect(retryDelay(failures, 1_000, 600_000, () => random), `failure ${failures}, random ${random}`).to.equal(delay);
    }
    // Below the cap (1 s × 2^9 = 512 s), a wait is never shorter than the longest one before it.
    for (let failures = 1; failures < 10; failures++) {
      expect(retryDelay(failures + 1, 1_000, 600_000, () => 0), `failure ${failures + 1}`).to.be.at.least(retryDelay(failures, 1_000, 600_000, () => 0.999999));
    }
  });

  it("a node stopped mid-backlog resumes from its outbox after a restart: nothing lost, nothing acknowledged sent again", async function () {
    let node = await startNode({ initialRetryMs: 20, maxRetryMs: 100, timeoutMs: 2_000 });
    const r = await receiver();
    r.script = ["ok", "ok"];
    r.then = "fail";
    const hook = await node.addWebhook({ url: r.url, secret: SECRET });
    // One event to each of the 2 requests answered 2xx (each made once the request before arrived), then a backlog.
    await invoices(node, 1);
    await until("the first request", () => r.requests.length >= 1);
    await invoices(node, 1);
    await until("the second request", () => r.requests.length >= 2);
    await invoices(node, 4);
    await until("a failure after 2 acknowledged", () => (node.store.webhooks.get(hook.id)?.failures ?? 0) >= 2);
    await node.stop();

    const stopped = nodes.pop()!;
    expect(stopped).to.equal(node);
    const acknowledged = ids(r.acknowledged);
    expect(acknowledged).to.have.length(2);
    const sentBefore = r.requests.length;

    node = await startNode({ initialRetryMs: 20, maxRetryMs: 100, timeoutMs: 2_000 });
    const carried = await endpoint(node, hook.id);
    expect(carried.cursor, "the outbox's place survived").to.equal(acknowledged[1]);
    expect(carried.attempts, "and its retry state").to.be.at.least(2);
    r.then = "ok";
    await until("all 6 acknowledged", () => r.acknowledged.length >= 6);
    expect(ids(r.acknowledged)).to.deep.equal([0n, 1n, 2n, 3n, 4n, 5n].map((i) => acknowledged[0] + i));
    const resent = r.requests.slice(sentBefore).flatMap((request) => ids(eventsOf(request)));
    expect(resent[0], "the restarted node starts at the first event not acknowledged").to.equal(acknowledged[1] + 1n);
    expect(resent.filter((id) => id <= acknowledged[1]), "no acknowledged event sent again").to.deep.equal([]);
  });

  it("sends an endpoint only the types it asked for; its cursor passes over the rest", async function () {
    const node = await startNode();
    const all = await receiver();
    const cancelled = await receiver();
    await node.addWebhook({ url: all.url, secret: SECRET });
    const filtered = await node.addWebhook({ url: cancelled.url, secret: SECRET, events: ["invoice.cancelled"] });
    expect(filtered.events).to.deep.equal(["invoice.cancelled"]);
    const [a, b, c] = await invoices(node, 3);
    await node.cancelInvoice(b);
    await until("4 events at the unfiltered endpoint", () => all.acknowledged.length >= 4);
    await until("1 event at the filtered one", () => cancelled.acknowledged.length >= 1);
    expect(all.acknowledged.map((e) => e.type)).to.deep.equal(["invoice.created", "invoice.created", "invoice.created", "invoice.cancelled"]);
    expect(cancelled.acknowledged.map((e) => [e.type, e.data.invoice])).to.deep.equal([["invoice.cancelled", String(b)]]);
    expect([a, c]).to.have.length(2);

    await node.cancelInvoice(c);
    await until("the second cancellation", () => cancelled.acknowledged.length >= 2);
    expect(cancelled.requests.flatMap(eventsOf).every((event) => event.type === "invoice.cancelled")).to.equal(true);
    const last = node.store.events.lastId();
    await until("the filtered cursor at the last event", () => node.store.webhooks.get(filtered.id)?.cursor === last);

    // Events it does not take are passed over in memory, and the place is written when the node stops.
    await invoices(node, 2);
    await until("the 2 new events at the unfiltered endpoint", () => all.acknowledged.length >= 6);
    const passed = node.store.events.lastId();
    expect(passed).to.equal(last + 2n);
    await node.stop();
    nodes.pop();
    const again = await startNode();
    expect((await endpoint(again, filtered.id)).cursor).to.equal(passed);
    expect(cancelled.requests).to.have.length(2);
  });

  it("an endpoint that does not answer holds up no other endpoint and no write of the node", async function () {
    const node = await startNode({ initialRetryMs: 20, maxRetryMs: 200, timeoutMs: 60_000 });
    const down = await receiver();
    const up = await receiver();
    down.then = "hang";
    const stuck = await node.addWebhook({ url: down.url, secret: SECRET });
    await node.addWebhook({ url: up.url, secret: SECRET });
    const made = await invoices(node, 5);
    await until("5 events at the endpoint that is up", () => up.acknowledged.length >= 5);
    expect(up.acknowledged.map((e) => e.data.invoice)).to.deep.equal(made.map(String));
    expect(down.requests, "the other still waits for its first answer").to.have.length(1);
    expect((await endpoint(node, stuck.id)).delivered).to.equal(0);
    // Removing it cancels its request; the node stops without waiting for it.
    await node.removeWebhook(stuck.id);
    expect((await node.webhooks()).map((w) => w.id)).to.not.include(stuck.id);
  });

  it("checks the URL (http or https only, loopback allowed), the types, the secret and the delivery settings; removes by id", async function () {
    const node = await startNode();
    const server: ApiServer = await startApiServer({ api: node, token: TOKEN });
    const client = new ApiClient({ url: server.url, token: TOKEN });
    try {
      const refused: [string, Parameters<SluiceNode["addWebhook"]>[0], string][] = [
        ["an ftp URL", { url: "ftp://127.0.0.1/hooks" }, "url"],
        ["a file URL", { url: "file:///etc/passwd" }, "url"],
        ["not a URL", { url: "localhost:8080" }, "url"],
        ["credentials in the URL", { url: "https://user:pw@example.com/" }, "url"],
        ["an unknown type", { url: "http://127.0.0.1:1/", events: ["payment.sent", "payment.lost"] }, "events"],
        ["a short secret", { url: "http://127.0.0.1:1/", secret: "short" }, "secret"],
        ["a secret with a space", { url: "http://127.0.0.1:1/", secret: "a secret with spaces" }, "secret"],
      ];
      for (const [what, request, field] of refused) {
        const error = await failure(node.addWebhook(request), InvalidWebhookError);
        expect(error.field, what).to.equal(field);
        const reply = await failure(client.addWebhook(request), ApiError);
        expect([reply.code, reply.status], what).to.deep.equal(["WEBHOOK_INVALID", 400]);
      }
      expect(await client.webhooks(), "nothing was stored").to.deep.equal([]);

      const added = await client.addWebhook({ url: "http://10.1.2.3:9000/sluice", events: ["payment.received"] });
      expect(added.secret, "a random secret by default").to.match(/^whsec_[0-9a-f]{64}$/);
      const local = await client.addWebhook({ url: "https://localhost/x" });
      expect((await client.webhooks()).map((w) => [w.id, w.url, w.events, w.secret])).to.deep.equal([
        [added.id, "http://10.1.2.3:9000/sluice", ["payment.received"], undefined],
        [local.id, "https://localhost/x", [], undefined],
      ]);
      const removed = await client.removeWebhook(added.id);
      expect(removed.url).to.equal(added.url);
      const again = await failure(client.removeWebhook(added.id), ApiError);
      expect([again.code, again.status, again.details]).to.deep.equal(["WEBHOOK_NOT_FOUND", 404, { webhook: String(added.id) }]);
      await failure(node.removeWebhook(99n), UnknownWebhookError);
      for (const options of [{ initialRetryMs: 0 }, { maxRetryMs: 1.5 }, { timeoutMs: -1 }]) {
        expect(() => new WebhookDispatcher(node.store.webhooks, node.store.events, options), JSON.stringify(options)).to.throw(InvalidArgumentError, /must be a positive integer of ms/);
      }
      expect((await client.webhooks()).map((w) => w.id)).to.deep.equal([local.id]);
    } finally {
      client.dispose();
      await server.close();
    }
  });
});

describe("EventLog.jsonAfter", function () {
  it("gives each event as GET /v1/events shows it (JSON.stringify of its view), its id and type at the head, filtered as `after`", function () {
    const db = new Database(":memory:");
    try {
      migrate(db);
      const log = new EventLog(db);
      const channel = `0x${"ab".repeat(32)}` as const;
      log.append("payment.received", channel, 1_700_000_000_123, { amount: "5", ref: 'order "42" – ü\n\u0000', locks: ["a"], n: 3.5, ok: true, none: null });
      log.append("peer.connected", null, 1, {});
      log.append("payment.sent", channel, 2, { amount: "7" });
      const events = log.after(0n, 10);
      expect(events.map((e) => e.type)).to.deep.equal(["payment.received", "peer.connected", "payment.sent"]);
      const texts = log.jsonAfter(0n, 10);
      expect(texts).to.deep.equal(events.map((e) => JSON.stringify(eventView(e))));
      expect(texts.map(headOfJson)).to.deep.equal(events.map((e) => ({ id: String(e.id), type: e.type })));
      expect(log.jsonAfter(1n, 1, ["payment.sent", "payment.received"]), "filtered and limited").to.deep.equal([texts[2]]);
      expect(() => log.jsonAfter(-1n, 1), "a bad cursor").to.throw(/expected an event id from 0/);
    } finally {
      db.close();
    }
  });
});

describe("verifyWebhook", function () {
  const event = { id: "7", type: "payment.received", at: 1_700_000_000_000, data: { amount: "5" } };
  const body = JSON.stringify({ events: [event, { ...event, id: "9" }] });
  const now = 1_700_000_100_000;
  const t = now / 1000 - 10;
  const sign = (secret: string, text: string, at: number) => `t=${at},v1=${createHmac("sha256", secret).update(`${at}.${text}`).digest("hex")}`;

  it("accepts the HMAC-SHA256 of \"<t>.<body>\" within the tolerance and returns the batch's events", function () {
    expect(verifyWebhook(SECRET, sign(SECRET, body, t), body, 60, now)).to.deep.equal((JSON.parse(body) as WebhookBody).events);
    expect(ids(verifyWebhook(SECRET, sign(SECRET, body, t), Buffer.from(body), 60, now)), "a Buffer body").to.deep.equal([7n, 9n]);
    const rotated = `${sign("whsec_the_old_secret_000", body, t)},v1=${sign(SECRET, body, t).split("v1=")[1]}`;
    expect(ids(verifyWebhook(SECRET, rotated, body, 60, now)), "one of several v1 signatures").to.deep.equal([7n, 9n]);
  });

  it("refuses a tampered body, another secret, an old or future timestamp, and a malformed header", function () {
    const good = sign(SECRET, body, t);
    const rows: [string, string | undefined, string, string][] = [
      ["a tampered body", good, body.replace('"5"', '"500"'), "no v1 signature matches"],
      ["another secret", sign("whsec_someone_else_000", body, t), body, "no v1 signature matches"],
      ["an old timestamp", sign(SECRET, body, t - 600), body, "beyond the tolerance of 60 s"],
      ["a future timestamp", sign(SECRET, body, t + 600), body, "beyond the tolerance of 60 s"],
      ["a timestamp changed after signing", good.replace(`t=${t}`, `t=${t + 1}`), body, "no v1 signature matches"],
      ["no header", undefined, body, "no Sluice-Signature header"],
      ["no timestamp", good.split(",")[1], body, "no timestamp"],
      ["no signature", `t=${t}`, body, "no v1 signature in the header"],
    ];
    // Signed with the secret, but not a batch (a receiver never sees one from a node).
    for (const [what, raw] of [["one event alone", JSON.stringify(event)], ["an array", JSON.stringify([event])], ["null", "null"]]) {
      rows.push([what, sign(SECRET, raw, t), raw, "not a batch of events"]);
    }
    for (const [what, header, raw, problem] of rows) {
      let caught: unknown;
      try {
        verifyWebhook(SECRET, header, raw, 60, now);
      } catch (error) {
        caught = error;
      }
      expect(caught, what).to.be.instanceOf(WebhookSignatureError);
      expect((caught as WebhookSignatureError).problem, what).to.include(problem);
      expect((caught as WebhookSignatureError).code).to.equal("WEBHOOK_SIGNATURE");
    }
  });
});
