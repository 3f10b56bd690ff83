/**
 * Invoices through a real node (embedded chain, its SQLite store) and its local HTTP API: create,
 * look up, list, cancel, decode; the typed errors with their codes and statuses; the secret kept
 * in the store and never in a reply; the payment path's hook (markPaid) seen through the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { deployAdjudicator } from "../../src/chain";
import { hashlockOf } from "../../src/crypto";
import { decodeInvoice, encodeInvoice, invoiceToJson, makeInvoice } from "../../src/invoice";
import { ApiClient, ApiError, startApiServer, type ApiServer } from "../../src/node/api";
import { SluiceNode } from "../../src/node/node";
import { memoHash } from "../../src/node/paymentRef";
import { ETH, type Address, type Hex } from "../../src/types";
import { FakeNode } from "../cli/fakeNode";
import { devKey, devSigner } from "../invoice/fixtures";

const TOKEN = "ab".repeat(32);
const USDC: Address = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "expected the API to refuse").to.be.instanceOf(ApiError);
  return error as ApiError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("invoices: node and local API", function () {
  let dir: string;
  let node: SluiceNode;
  let server: ApiServer;
  let client: ApiClient;
  let adjudicator: Address;
  /** The text of every reply the test saw, to look for the secret in. */
  let seen: string[];

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-invoices-api-"));
    const [deployer] = await ethers.getSigners();
    adjudicator = (await deployAdjudicator(deployer)).address;
    node = new SluiceNode({ privateKey: devKey(6), provider: ethers.provider, adjudicator, storePath: path.join(dir, "store.sqlite"), pollMs: 200 });
    await node.start();
    server = await startApiServer({ api: node, token: TOKEN });
    client = new ApiClient({ url: server.url, token: TOKEN });
  });

  after(async function () {
    client.dispose();
    await server.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(function () {
    seen = [];
  });

  /** A reply, remembered as JSON text. */
  function keep<T>(value: T): T {
    seen.push(JSON.stringify(value, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
    return value;
  }

  it("creates an invoice signed by the node's key for its chain and adjudicator; the string decodes to it; the secret stays in the store", async function () {
    const before = BigInt(Math.floor(Date.now() / 1000));
    const view = keep(await client.createInvoice({ amount: 25_000_000n, asset: USDC, description: "order 42 ☕", expiresIn: 600n }));
    expect(view.status).to.equal("open");
    expect(view.invoice).to.deep.include({
      chainId: 31337n,
      adjudicator: adjudicator.toLowerCase(),
      asset: USDC,
      payee: node.address.toLowerCase(),
      amount: 25_000_000n,
      description: "order 42 ☕",
    });
    expect(view.invoice.expiry - before).to.be.within(600n, 602n);
    expect(decodeInvoice(view.encoded)).to.deep.equal(view.invoice);
    const secret = node.store.invoices.secret(view.invoice.hashlock)!;
    expect(hashlockOf(secret)).to.equal(view.invoice.hashlock);
    keep(await client.invoice(view.id));
    keep(await client.invoices({}));
    expect(seen.join("\n")).to.not.include(secret.slice(2));
  });

  it("makes the ref from a memo as payments do, and keeps the memo", async function () {
    const view = await client.createInvoice({ amount: 1n, ref: { memo: "order-77" } });
    expect(view.invoice.ref).to.equal(memoHash("order-77"));
    expect(view.invoice.asset).to.equal(ETH);
    expect(view.memo).to.equal("order-77");
    const ref: Hex = `0x${"5a".repeat(32)}`;
    expect((await client.createInvoice({ amount: 1n, ref })).invoice.ref).to.equal(ref);
  });

  it("reads an invoice by id and by hashlock; an unknown one is 404 INVOICE_NOT_FOUND", async function () {
    const view = await client.createInvoice({ amount: 3n });
    expect(await client.invoice(view.id)).to.deep.equal(view);
    expect(await client.invoice(view.invoice.hashlock)).to.deep.equal(view);
    const unknown = await failure(client.invoice(999_999n));
    expect([unknown.status, unknown.code]).to.deep.equal([404, "INVOICE_NOT_FOUND"]);
    expect((await failure(client.invoice(`0x${"00".repeat(32)}`))).code).to.equal("INVOICE_NOT_FOUND");
  });

  it("lists by status and pages; cancels an open invoice once; a paid one (the payment path's markPaid) can't be cancelled", async function () {
    const a = await client.createInvoice({ amount: 10n, description: "a" });
    const b = await client.createInvoice({ amount: 20n, description: "b" });
    const c = await client.createInvoice({ amount: 30n, description: "c" });
    const cancelled = await client.cancelInvoice(a.id);
    expect(cancelled.status).to.equal("cancelled");
    expect(cancelled.cancelledAt).to.be.a("bigint");
    const again = await failure(client.cancelInvoice(a.id));
    expect([again.status, again.code]).to.deep.equal([409, "INVOICE_NOT_OPEN"]);
    expect(again.details).to.deep.include({ status: "cancelled", action: "cancel" });

    const { secret } = node.store.invoices.markPaid(b.invoice.hashlock, 20n);
    expect(hashlockOf(secret)).to.equal(b.invoice.hashlock);
    const paid = await client.invoice(b.id);
    expect(paid).to.deep.include({ status: "paid", paidAmount: 20n });
    expect((await failure(client.cancelInvoice(b.id))).details).to.deep.include({ status: "paid" });

    const page = await client.invoices({ fromId: a.id, limit: 2 });
    expect(page.map((v) => v.id)).to.deep.equal([a.id, b.id]);
    const open = await client.invoices({ status: "open", fromId: a.id });
    expect(open.map((v) => v.id)).to.deep.equal([c.id]);
    expect((await client.invoices({ status: "paid", fromId: a.id })).map((v) => v.id)).to.deep.equal([b.id]);
    expect((await client.invoices({ status: "cancelled", fromId: a.id })).map((v) => v.id)).to.deep.equal([a.id]);
  });

  it("reads an open invoice past its expiry as expired", async function () {
    const view = await client.createInvoice({ amount: 1n, expiresIn: 1n });
    await sleep(2_100);
    expect((await client.invoice(view.id)).status).to.equal("expired");
    expect((await client.invoices({ status: "expired", fromId: view.id })).map((v) => v.id)).to.deep.equal([view.id]);
    expect((await client.decodeInvoice(view.encoded)).expired).to.equal(true);
  });

  const refusals: [string, () => Promise<unknown>, number, string, string?][] = [
    ["a zero amount", () => client.createInvoice({ amount: 0n }), 400, "INVALID_AMOUNT"],
    ["a description above 256 bytes", () => client.createInvoice({ amount: 1n, description: "€".repeat(86) }), 400, "INVALID_INVOICE", "description"],
    ["a lifetime of 0 seconds", () => client.createInvoice({ amount: 1n, expiresIn: 0n }), 400, "INVALID_ARGUMENT"],
    ["a lifetime above a year", () => client.createInvoice({ amount: 1n, expiresIn: 366n * 86_400n }), 400, "INVALID_ARGUMENT"],
    ["an empty memo", () => client.createInvoice({ amount: 1n, ref: { memo: "" } }), 400, "INVALID_MEMO"],
  ];
  for (const [what, call, status, code, field] of refusals) {
    it(`refuses to create an invoice with ${what}: ${status} ${code}, nothing stored`, async function () {
      const count = (await client.invoices({ limit: 1000 })).length;
      const error = await failure(call());
      expect([error.status, error.code]).to.deep.equal([status, code]);
      if (field !== undefined) expect(error.details).to.deep.include({ field });
      expect((await client.invoices({ limit: 1000 })).length).to.equal(count);
    });
  }

  it("answers a body naming both an id and a hashlock (or neither) with 400 BAD_REQUEST", async function () {
    const headers = { authorization: `Bearer ${TOKEN}`, accept: "application/json" };
    const reply = await fetch(`${server.url}/v1/invoice?id=1&hashlock=0x${"00".repeat(32)}`, { headers });
    expect(reply.status).to.equal(400);
    expect(((await reply.json()) as { error: { code: string } }).error.code).to.equal("BAD_REQUEST");
    const none = await fetch(`${server.url}/v1/invoice`, { headers });
    expect(none.status).to.equal(400);
  });

  describe("decodeinvoice", function () {
    it("checks an invoice a payer was given (string or JSON): this network's, not expired", async function () {
      const view = await client.createInvoice({ amount: 5n, description: "for a payer" });
      const decoded = await client.decodeInvoice(view.encoded);
      expect(decoded).to.deep.equal({ invoice: view.invoice, encoded: view.encoded, expired: false, sameNetwork: true });
      expect(await client.decodeInvoice(JSON.stringify(invoiceToJson(view.invoice)))).to.deep.equal(decoded);
    });

    it("says when an invoice is for another chain", async function () {
      const signer = devSigner(7);
      const { invoice } = await makeInvoice({ chainId: 1n, adjudicator, asset: ETH, amount: 1n, expiry: 4_000_000_000n }, signer);
      expect(await client.decodeInvoice(encodeInvoice(invoice))).to.deep.include({ sameNetwork: false, expired: false });
    });

    it("answers a typo with 400 INVOICE_CHECKSUM, an altered amount with 400 INVOICE_SIGNATURE, a bad field with 400 INVALID_INVOICE", async function () {
      const view = await client.createInvoice({ amount: 5n });
      const i = 50;
      const typo = view.encoded.slice(0, i) + (view.encoded[i] === "q" ? "p" : "q") + view.encoded.slice(i + 1);
      const checksum = await failure(client.decodeInvoice(typo));
      expect([checksum.status, checksum.code]).to.deep.equal([400, "INVOICE_CHECKSUM"]);
      const forged = await failure(client.decodeInvoice(encodeInvoice({ ...view.invoice, amount: 500n })));
      expect([forged.status, forged.code]).to.deep.equal([400, "INVOICE_SIGNATURE"]);
      const bad = await failure(client.decodeInvoice("lnbc1qqqqqq"));
      expect([bad.status, bad.code]).to.deep.equal([400, "INVALID_INVOICE"]);
      expect(bad.details).to.deep.include({ field: "prefix" });
    });
  });

  it("a node without invoices answers 409 INVOICES_UNSUPPORTED", async function () {
    const other = await startApiServer({ api: new FakeNode(), token: TOKEN });
    const otherClient = new ApiClient({ url: other.url, token: TOKEN });
    try {
      const error = await failure(otherClient.invoices());
      expect([error.status, error.code]).to.deep.equal([409, "INVOICES_UNSUPPORTED"]);
    } finally {
      otherClient.dispose();
      await other.close();
    }
  });
});
