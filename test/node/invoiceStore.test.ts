/**
 * The invoices table (migration 8) over the channel store's database: lookups by id and hashlock,
 * the secret kept and never read back by the reads, open → paid exactly once, cancel rules,
 * expired derived from the clock, status filters and paging, durability across a reopen.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import Database from "better-sqlite3";
import { hashlockOf } from "../../src/crypto";
import { InvoiceStatusError, InvoiceUnderpaidError, UnknownInvoiceError, makeInvoice, type MadeInvoice } from "../../src/invoice";
import { ChannelStore, InvalidRecordError, SCHEMA_VERSION } from "../../src/node/store";
import { MIGRATIONS, migrate } from "../../src/node/store/migrations";
import type { Address } from "../../src/types";
import { devSigner, thrown } from "../invoice/fixtures";

const signer = devSigner(5);
const ADJUDICATOR: Address = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const USDC: Address = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";
/** The test clock starts here (ms); invoices made at it expire `EXPIRY` seconds later. */
const T0 = 1_800_000_000_000;
const EXPIRY = BigInt(T0 / 1000) + 3_600n;

describe("InvoiceStore (SQLite)", function () {
  let dir: string;
  let clock: number;
  let store: ChannelStore;

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-invoices-"));
    clock = T0;
    store = ChannelStore.open(path.join(dir, "store.sqlite"), { now: () => clock });
  });

  afterEach(function () {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function made(amount = 5_000_000n, expiry = EXPIRY, description = "two coffees"): Promise<MadeInvoice> {
    return makeInvoice({ chainId: 31337n, adjudicator: ADJUDICATOR, asset: USDC, amount, expiry, description }, signer);
  }

  describe("migration 8", function () {
    it("creates the invoices table on a version-6 store and keeps what was there", function () {
      const file = path.join(dir, "old.sqlite");
      const raw = new Database(file);
      migrate(raw, MIGRATIONS.slice(0, 6));
      raw.prepare("INSERT INTO memos (ref, memo) VALUES (?, ?)").run(`0x${"11".repeat(32)}`, "kept");
      raw.close();
      const reopened = ChannelStore.open(file);
      expect(reopened.schemaVersion).to.equal(SCHEMA_VERSION);
      expect(MIGRATIONS.find((m) => m.description.startsWith("invoices"))!.version).to.be.at.most(SCHEMA_VERSION);
      expect(reopened.invoices.list()).to.deep.equal([]);
      reopened.close();
      const check = new Database(file, { readonly: true });
      expect(check.prepare("SELECT memo FROM memos").pluck().get()).to.equal("kept");
      check.close();
    });
  });

  describe("#add, #byId, #byHashlock", function () {
    it("keeps an invoice with ids 1, 2, ...; reads it by id and by hashlock without its secret", async function () {
      const a = await made();
      const b = await made(7n);
      const first = store.invoices.add(a);
      const second = store.invoices.add({ ...b, memo: "order 7" });
      expect([first.id, second.id]).to.deep.equal([1n, 2n]);
      expect(first).to.deep.equal({ id: 1n, status: "open", invoice: a.invoice, createdAt: T0 });
      expect(store.invoices.byHashlock(b.invoice.hashlock)).to.deep.equal({ ...second, memo: "order 7" });
      expect(store.invoices.byId(1n)).to.deep.equal(first);
      expect(JSON.stringify(store.invoices.list(), (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).to.not.include(a.secret.slice(2));
      expect(store.invoices.byId(3n)).to.equal(null);
      expect(store.invoices.byId((1n << 64n) - 1n)).to.equal(null);
      expect(store.invoices.byHashlock(hashlockOf(`0x${"00".repeat(32)}`))).to.equal(null);
    });

    it("gives the secret to the payment path only, by hashlock", async function () {
      const a = await made();
      store.invoices.add(a);
      expect(store.invoices.secret(a.invoice.hashlock)).to.equal(a.secret);
      expect(store.invoices.secret(`0x${"ee".repeat(32)}`)).to.equal(null);
    });

    const refusals: [string, (m: MadeInvoice) => MadeInvoice, string][] = [
      ["a secret that is not the hashlock's preimage", (m) => ({ ...m, secret: `0x${"00".repeat(32)}` }), "secret"],
      ["a zero amount", (m) => ({ ...m, invoice: { ...m.invoice, amount: 0n } }), "amount"],
      ["an expiry beyond 2^53 - 1", (m) => ({ ...m, invoice: { ...m.invoice, expiry: 1n << 60n } }), "invoice.expiry"],
      ["a malformed asset", (m) => ({ ...m, invoice: { ...m.invoice, asset: "0x12" } }), "invoice.asset"],
    ];
    for (const [what, change, field] of refusals) {
      it(`refuses ${what} and stores nothing`, async function () {
        const entry = change(await made());
        const error = thrown(() => store.invoices.add(entry));
        expect((error as { field?: string }).field).to.equal(field);
        expect(store.invoices.list()).to.deep.equal([]);
      });
    }

    it("refuses a second invoice with the same hashlock", async function () {
      const a = await made();
      store.invoices.add(a);
      expect(() => store.invoices.add(a)).to.throw(/UNIQUE/);
      expect(store.invoices.list()).to.have.length(1);
    });
  });

  describe("#markPaid", function () {
    it("moves open to paid once, with the amount received and the time, and returns the secret", async function () {
      const a = await made();
      store.invoices.add(a);
      clock += 5_000;
      const { record, secret } = store.invoices.markPaid(a.invoice.hashlock, 5_000_001n);
      expect(secret).to.equal(a.secret);
      expect(record).to.deep.include({ id: 1n, status: "paid", paidAt: T0 + 5_000, paidAmount: 5_000_001n });
      const again = thrown(() => store.invoices.markPaid(a.invoice.hashlock, 5_000_000n));
      expect(again).to.be.instanceOf(InvoiceStatusError);
      expect(again).to.deep.include({ id: 1n, status: "paid", action: "pay", code: "INVOICE_NOT_OPEN" });
      expect(store.invoices.byId(1n)).to.deep.include({ paidAt: T0 + 5_000, paidAmount: 5_000_001n });
      // Each change is an event, written with it; the refused second payment is none.
      const events = store.events.after(0n, 100).map((e) => [e.type, e.data.invoice, e.at]);
      expect(events).to.deep.equal([
        ["invoice.created", "1", T0],
        ["invoice.paid", "1", T0 + 5_000],
      ]);
    });

    it("refuses an underpayment, an expired, a cancelled and an unknown invoice, changing nothing", async function () {
      const [a, b, c] = [await made(), await made(1n, EXPIRY - 10n), await made()];
      for (const m of [a, b, c]) store.invoices.add(m);
      store.invoices.cancel(3n);
      expect(thrown(() => store.invoices.markPaid(a.invoice.hashlock, 4_999_999n))).to.be.instanceOf(InvoiceUnderpaidError);
      expect(store.invoices.byId(1n)!.status).to.equal("open");
      clock = Number(EXPIRY - 9n) * 1000;
      expect(thrown(() => store.invoices.markPaid(b.invoice.hashlock, 1n))).to.deep.include({ status: "expired" });
      expect(thrown(() => store.invoices.markPaid(c.invoice.hashlock, 5_000_000n))).to.deep.include({ status: "cancelled" });
      expect(thrown(() => store.invoices.markPaid(`0x${"ab".repeat(32)}`, 1n))).to.be.instanceOf(UnknownInvoiceError);
      expect(store.invoices.list().map((r) => r.status)).to.deep.equal(["open", "expired", "cancelled"]);
      expect(store.events.after(0n, 100).map((e) => e.type)).to.deep.equal(["invoice.created", "invoice.created", "invoice.created", "invoice.cancelled"]);
    });

    it("can be paid at its expiry second, not after", async function () {
      const a = await made();
      const b = await made();
      store.invoices.add(a);
      store.invoices.add(b);
      clock = Number(EXPIRY) * 1000 + 999;
      expect(store.invoices.byId(1n)!.status).to.equal("open");
      expect(store.invoices.markPaid(a.invoice.hashlock, 5_000_000n).record.status).to.equal("paid");
      clock = Number(EXPIRY + 1n) * 1000;
      expect(store.invoices.byId(2n)!.status).to.equal("expired");
      expect(thrown(() => store.invoices.markPaid(b.invoice.hashlock, 5_000_000n))).to.be.instanceOf(InvoiceStatusError);
    });
  });

  describe("#cancel", function () {
    it("cancels an open or an expired invoice; refuses a paid or cancelled one and an unknown id", async function () {
      const [a, b, c] = [await made(), await made(), await made(1n, BigInt(T0 / 1000))];
      for (const m of [a, b, c]) store.invoices.add(m);
      clock += 2_000;
      expect(store.invoices.cancel(1n)).to.deep.include({ status: "cancelled", cancelledAt: T0 + 2_000 });
      expect(store.invoices.byId(3n)!.status).to.equal("expired");
      expect(store.invoices.cancel(3n).status).to.equal("cancelled");
      store.invoices.markPaid(b.invoice.hashlock, 5_000_000n);
      expect(thrown(() => store.invoices.cancel(2n))).to.deep.include({ status: "paid", action: "cancel" });
      expect(thrown(() => store.invoices.cancel(1n))).to.deep.include({ status: "cancelled", action: "cancel" });
      expect(thrown(() => store.invoices.cancel(9n))).to.be.instanceOf(UnknownInvoiceError);
      expect(store.invoices.list().map((r) => r.status)).to.deep.equal(["cancelled", "paid", "cancelled"]);
    });
  });

  describe("#sweepExpired (the invoice.expired events)", function () {
    it("writes each open invoice's expiry once, when its last payable second has passed; not a paid or cancelled one's", async function () {
      const [a, b, c, d] = [await made(1n, EXPIRY), await made(2n, EXPIRY + 10n), await made(3n, EXPIRY), await made(4n, EXPIRY)];
      for (const m of [a, b, c, d]) store.invoices.add(m);
      store.invoices.markPaid(c.invoice.hashlock, 3n);
      store.invoices.cancel(4n);
      const expired = () => store.events.after(0n, 100).filter((e) => e.type === "invoice.expired").map((e) => e.data.invoice);
      clock = Number(EXPIRY) * 1000 + 999; // still a's last payable second
      store.sweepExpiredInvoices();
      expect(expired()).to.deep.equal([]);
      clock = Number(EXPIRY + 1n) * 1000;
      store.sweepExpiredInvoices();
      store.sweepExpiredInvoices();
      expect(expired()).to.deep.equal(["1"]);
      clock = Number(EXPIRY + 100n) * 1000;
      store.sweepExpiredInvoices();
      expect(expired()).to.deep.equal(["1", "2"]);
      expect(store.invoices.list({ status: "expired" }).map((r) => r.id)).to.deep.equal([1n, 2n]);
    });
  });

  describe("#list", function () {
    it("filters by status (expired from the clock) and pages by id", async function () {
      const all: MadeInvoice[] = [];
      for (let i = 0; i < 12; i++) all.push(await made(BigInt(i + 1), i % 4 === 3 ? BigInt(T0 / 1000) : EXPIRY));
      for (const m of all) store.invoices.add(m);
      clock += 1_000; // ids 4, 8, 12 are past their expiry
      store.invoices.markPaid(all[0].invoice.hashlock, 1n);
      store.invoices.markPaid(all[5].invoice.hashlock, 6n);
      store.invoices.cancel(3n);
      const ids = (status?: "open" | "paid" | "expired" | "cancelled", fromId?: bigint, limit?: number) =>
        store.invoices.list({ status, fromId, limit }).map((r) => Number(r.id));
      expect(ids()).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(ids("open")).to.deep.equal([2, 5, 7, 9, 10, 11]);
      expect(ids("expired")).to.deep.equal([4, 8, 12]);
      expect(ids("paid")).to.deep.equal([1, 6]);
      expect(ids("cancelled")).to.deep.equal([3]);
      expect(ids(undefined, 5n, 3)).to.deep.equal([5, 6, 7]);
      expect(ids("open", 8n, 2)).to.deep.equal([9, 10]);
      expect(ids(undefined, 13n)).to.deep.equal([]);
      expect(ids(undefined, (1n << 64n) - 1n)).to.deep.equal([]);
      expect(store.invoices.list({ status: "expired" }).every((r) => r.status === "expired")).to.equal(true);
      expect(() => store.invoices.list({ limit: 0 })).to.throw(InvalidRecordError);
    });
  });

  it("keeps invoices and their paid status across a reopen", async function () {
    const a = await made();
    store.invoices.add(a);
    store.invoices.markPaid(a.invoice.hashlock, 5_000_000n);
    store.close();
    store = ChannelStore.open(path.join(dir, "store.sqlite"), { now: () => clock });
    expect(store.invoices.byId(1n)).to.deep.include({ status: "paid", invoice: a.invoice });
    expect(store.invoices.secret(a.invoice.hashlock)).to.equal(a.secret);
    expect(() => store.invoices.markPaid(a.invoice.hashlock, 5_000_000n)).to.throw(InvoiceStatusError);
  });
});
