/**
 * `sluice invoice create|show|list|cancel` through `main()` against a real node (embedded chain,
 * SQLite store) behind its local API: human amounts, the string to copy, the checks of a string a
 * payer was given, typed errors with their codes and exit codes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator } from "../../src/chain";
import { decodeInvoice } from "../../src/invoice";
import { startLocalApi, type ApiServer } from "../../src/node/api";
import { SluiceNode } from "../../src/node/node";
import { devKey } from "../invoice/fixtures";
import { runSluice } from "./run";

describe("sluice invoice (CLI against a real node)", function () {
  let dir: string;
  let node: SluiceNode;
  let api: ApiServer;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-invoice-cli-"));
    const [deployer] = await ethers.getSigners();
    const adjudicator = (await deployAdjudicator(deployer)).address;
    node = new SluiceNode({ privateKey: devKey(8), provider: ethers.provider, adjudicator, storePath: path.join(dir, "store.sqlite"), pollMs: 200 });
    await node.start();
    api = await startLocalApi({ api: node, datadir: dir });
  });

  after(async function () {
    await api.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sluice = (...args: string[]) => runSluice(dir, args);

  const lastLine = (text: string) => text.trim().split("\n").at(-1)!;

  it("creates an invoice from a human amount and prints the string to hand the payer", async function () {
    const now = BigInt(Math.floor(Date.now() / 1000));
    const r = await sluice("invoice", "create", "0.5", "ETH", "--description", "order 42", "--expiry", "30m", "--ref", "order-42");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^invoice #\d+ for 0\.5 ETH, payable until /);
    expect(r.stdout).to.match(/status\s+open/);
    const invoice = decodeInvoice(lastLine(r.stdout));
    expect(invoice).to.deep.include({ amount: 5n * 10n ** 17n, description: "order 42", payee: node.address.toLowerCase() });
    expect(invoice.ref).to.equal(keccak256(toUtf8Bytes("order-42")));
    expect(invoice.expiry - now).to.be.within(1_800n, 1_802n);
  });

  it("shows an invoice by id, by hashlock and by its string (checked: signed, this network)", async function () {
    const created = JSON.parse((await sluice("--json", "invoice", "create", "1.25 ETH")).stdout) as { id: string; encoded: string; invoice: { hashlock: string } };
    expect(created.id).to.match(/^\d+$/);
    const byId = await sluice("invoice", "show", created.id);
    expect(byId.code).to.equal(0);
    expect(byId.stdout).to.match(/amount\s+1\.25 ETH/);
    expect(lastLine(byId.stdout)).to.equal(created.encoded);
    const byHashlock = await sluice("--json", "invoice", "show", created.invoice.hashlock);
    expect((JSON.parse(byHashlock.stdout) as { id: string }).id).to.equal(created.id);
    const checked = await sluice("invoice", "show", created.encoded.toUpperCase());
    expect(checked.code, checked.stderr).to.equal(0);
    expect(checked.stdout).to.match(/invoice\s+valid: signed by its payee/);
    expect(checked.stdout).to.match(/network\s+this node's chain and adjudicator/);
  });

  it("refuses a mistyped string (checksum) and a forged one with the node's codes", async function () {
    const created = JSON.parse((await sluice("--json", "invoice", "create", "2")).stdout) as { encoded: string };
    const i = 60;
    const typo = created.encoded.slice(0, i) + (created.encoded[i] === "q" ? "p" : "q") + created.encoded.slice(i + 1);
    const r = await sluice("invoice", "show", typo);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/checksum does not match/);
    const j = await sluice("--json", "invoice", "show", typo);
    expect((JSON.parse(j.stdout) as { error: { code: string } }).error.code).to.equal("INVOICE_CHECKSUM");
    const notAnInvoice = await sluice("invoice", "show", "hello");
    expect(notAnInvoice.code).to.equal(2);
    expect(notAnInvoice.stderr).to.match(/is not an invoice/);
  });

  it("lists by status and cancels once; a second cancel and an unknown id fail with the node's codes", async function () {
    const created = JSON.parse((await sluice("--json", "invoice", "create", "3", "--description", "to cancel")).stdout) as { id: string };
    const cancelled = await sluice("invoice", "cancel", created.id);
    expect(cancelled.code, cancelled.stderr).to.equal(0);
    expect(cancelled.stdout).to.match(new RegExp(`^invoice #${created.id} cancelled`));
    const again = await sluice("--json", "invoice", "cancel", created.id);
    expect(again.code).to.equal(1);
    expect((JSON.parse(again.stdout) as { error: { code: string } }).error.code).to.equal("INVOICE_NOT_OPEN");
    const list = await sluice("invoice", "list", "--status", "cancelled");
    expect(list.stdout).to.match(new RegExp(`#${created.id}\\s+cancelled\\s+3 ETH .*to cancel`));
    const open = JSON.parse((await sluice("--json", "invoice", "list", "--status", "open")).stdout) as { id: string; status: string }[];
    expect(open.length).to.be.greaterThan(0);
    expect(open.every((v) => v.status === "open")).to.equal(true);
    expect(open.map((v) => v.id)).to.not.include(created.id);
    const paged = JSON.parse((await sluice("--json", "invoice", "list", "--from", "2", "--limit", "1")).stdout) as { id: string }[];
    expect(paged.map((v) => v.id)).to.deep.equal(["2"]);
    const unknown = await sluice("--json", "invoice", "show", "999999");
    expect((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code).to.equal("INVOICE_NOT_FOUND");
  });

  const usage: [string, string[], RegExp][] = [
    ["an amount in another unit", ["invoice", "create", "5", "USDC"], /doesn't match the asset/],
    ["an amount with too many decimals", ["invoice", "create", "0.0000000000000000001"], /too many decimals/],
    ["a bad --expiry", ["invoice", "create", "1", "--expiry", "5x"], /--expiry "5x"/],
    ["an unknown --status", ["invoice", "list", "--status", "late"], /--status "late": give one of open, paid, expired, cancelled/],
    ["an id that is not a number", ["invoice", "cancel", "abc"], /is not an invoice id/],
    ["no subcommand", ["invoice"], /needs a subcommand/],
  ];
  for (const [what, args, message] of usage) {
    it(`exits 2 on ${what}, creating nothing`, async function () {
      const before = (await node.invoices({ limit: 1000 })).length;
      const r = await sluice(...args);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(message);
      expect((await node.invoices({ limit: 1000 })).length).to.equal(before);
    });
  }

  it("refuses a description above 256 bytes with the node's INVALID_INVOICE naming the field", async function () {
    const r = await sluice("--json", "invoice", "create", "1", "--description", "x".repeat(257));
    expect(r.code).to.equal(1);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; details: { field: string } } };
    expect([error.code, error.details.field]).to.deep.equal(["INVALID_INVOICE", "description"]);
  });

  it("pay <invoice>: checks it and refuses without a channel to its payee (NO_ROUTE: no hub either); --ref or a lone non-invoice is a usage error", async function () {
    const made = await node.createInvoice({ amount: 1_000n, expiresIn: 7_200n });
    const r = await sluice("pay", made.encoded, "--json");
    expect(r.code).to.equal(1);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; details: { payee: string } } };
    expect([error.code, error.details.payee]).to.deep.equal(["NO_ROUTE", made.invoice.payee]);
    const human = await sluice("pay", made.encoded);
    expect(human.stderr).to.match(/no open channel with the payee/);
    // Nothing was recorded as being paid: the refusal came before anything.
    expect(node.store.locks.payment(made.invoice.hashlock)).to.equal(null);
    const withRef = await sluice("pay", made.encoded, "--ref", "x");
    expect([withRef.code, withRef.stderr]).to.deep.equal([2, "sluice: an invoice carries its own ref: pay it without --ref\n"]);
    const lone = await sluice("pay", "0x1234");
    expect(lone.code).to.equal(2);
    expect(lone.stderr).to.match(/pay takes <channel> <amount> --ref <order>, or an invoice/);
  });
});
