/**
 * End to end: the dashboard in a real Chromium (puppeteer-core driving Debian's /usr/bin/chromium)
 * against real node processes over a `hardhat node`. Alice's operator logs in, sees her channel,
 * watches a payment Bob's node makes appear without a reload, finds it by ref, verifies its receipt
 * on chain, makes an invoice (text and QR code) that turns paid live when Bob's node pays it, sees
 * the payment charts and the credits a settlement left, confirms a cash-out and a close after
 * their gas estimates, at desktop and phone widths. A real hub (Hank, routing on) shows a payment
 * Bob routes through him to Carol live on its Hub screen (pending, then settled, and the fee), and
 * Carol's invoice turns paid live on her screen when Bob, with no channel to her, pays it through
 * Hank. axe-core finds no WCAG A/AA violation on any screen. The page's own rules hold: only
 * same-origin scripts (CSP), an HttpOnly SameSite=Strict cookie, a CSRF token on every write, and
 * a wrong token, an expired session, a cross-site POST and a missing CSRF token are refused.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { hexlify } from "ethers";
import type { Browser, HTTPRequest, Page } from "puppeteer-core";
import type { PaymentView } from "../../src/node/api/types";
import { RevertingReceiver__factory } from "../../typechain-types";
import { freePort } from "../../src/chain";
import { readApiInfo, readApiToken } from "../../src/node/api";
import { ETH, type Address, type Hex } from "../../src/types";
import { axeViolations, DESKTOP, launchChromium, PHONE, screenshot, trackTransfer } from "./helpers/browser";
import { sluice } from "./helpers/cli";
import { ETHER, logsOf, openFunded, sleep, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

/** A dialog of the page is open. */
const DIALOG_OPEN = `document.querySelector("dialog[open]") !== null`;

/** The page's event stream is connected (its status says "Live"). */
const LIVE = `document.getElementById("live").textContent === "Live"`;

/** The session cookie of a `Set-Cookie` header, as `name=value`. */
function cookieOf(reply: Response): string {
  const header = reply.headers.get("set-cookie") ?? "";
  return header.split(";")[0];
}

async function loginWith(url: string, token: string): Promise<{ cookie: string; csrf: string; reply: Response }> {
  const reply = await fetch(`${url}/dashboard/login`, { method: "POST", headers: { "content-type": "application/json", origin: url }, body: JSON.stringify({ token }) });
  const body = (await reply.clone().json()) as { csrf?: string };
  return { cookie: cookieOf(reply), csrf: body.csrf ?? "", reply };
}

async function errorOf(reply: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await reply.json()) as { error: { code: string; message: string } };
  return { status: reply.status, ...body.error };
}

/** The text of the page's message bar once it shows `pattern`. */
async function messageMatching(page: Page, pattern: RegExp): Promise<string> {
  const bar = `document.getElementById("message")`;
  await page.waitForFunction(`!${bar}.hidden && new RegExp(${JSON.stringify(pattern.source)}).test(${bar}.textContent)`, { timeout: 60_000 });
  return textOf(page, "#message");
}

/** The text of the first element `selector` matches ("" if none). */
async function textOf(page: Page, selector: string): Promise<string> {
  return String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? ""`));
}

async function expectAccessible(page: Page, screen: string): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, `axe on ${screen}: ${JSON.stringify(violations, null, 1)}`).to.deep.equal([]);
}

/** Clicks `selector` until `done` (a page expression) holds: a live update may redraw it meanwhile. */
async function clickUntil(page: Page, selector: string, done: string): Promise<void> {
  await waitFor(async () => {
    await page.waitForSelector(selector);
    await page.click(selector).catch(() => undefined);
    return Boolean(await page.evaluate(done));
  }, { what: `${done} after a click on ${selector}` });
}

async function openReceipt(page: Page, ref: Hex): Promise<void> {
  await clickUntil(page, `tr.payment[data-ref="${ref}"]`, `document.querySelector("#receipt:not([hidden]) #verify") !== null`);
}

/** Logs in with `token` on the page's login form (the page is at the dashboard) and waits for the screens. */
async function logInWith(page: Page, token: string): Promise<void> {
  // The form shows once the page found no session (a request away): typing before lands nowhere.
  await page.waitForSelector("#login:not([hidden])");
  await page.type("#token", token);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#nav:not([hidden])");
}

/** The names of the screens the page's navigation offers. */
async function screensOffered(page: Page): Promise<string[]> {
  return String(await page.evaluate(`[...document.querySelectorAll("nav a")].filter((a) => !a.hidden).map((a) => a.textContent).join(",")`)).split(",");
}

/** Makes an invoice with the Invoices screen's form at `url`; answers its text once its QR code is drawn. */
async function makeInvoice(page: Page, url: string, amount: string, description: string): Promise<string> {
  await page.goto(`${url}/#/invoices`);
  await page.waitForSelector("#invoice-asset option");
  await page.type("#invoice-amount", amount);
  await page.type("#invoice-description", description);
  await page.click("#invoice-form button[type=submit]");
  await page.waitForFunction(`document.querySelector("#invoice-detail:not([hidden]) h2")?.textContent.startsWith("Invoice #") && document.querySelector("#invoice-detail img.qr")?.naturalWidth > 0`, { timeout: 15_000 });
  return textOf(page, "#invoice-text");
}

/** The dialog's gas estimate once the node answered it. */
async function estimateShown(page: Page): Promise<string> {
  await page.waitForSelector(`#dialog-estimate[data-state="estimated"]`, { timeout: 30_000 });
  return textOf(page, "#dialog-estimate");
}

/** A chart's `data-total` (the sum of its bars) as a bigint ("0" while there is no chart). */
async function chartTotal(page: Page, selector: string): Promise<bigint> {
  return BigInt(String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.getAttribute("data-total") ?? "0"`)));
}

async function confirmDialog(page: Page, fields: Record<string, string> = {}): Promise<void> {
  await page.waitForSelector("dialog[open]");
  for (const [name, value] of Object.entries(fields)) await page.type(`#field-${name}`, value);
  await page.click("#dialog-ok");
}

describe("e2e: the dashboard in Chromium", function () {
  this.timeout(600_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let browser: Browser;
  let url: string;
  let bobUrl: string;
  let admin: string;
  let channelId: Hex;

  before(async function () {
    browser = await launchChromium();
    cluster = await startCluster({ challengePeriod: 3_600 });
    const apiPort = await freePort();
    alice = await cluster.startNode("alice", 1, { config: { apiPort } });
    bob = await cluster.startNode("bob", 2, { env: { SLUICE_DASHBOARD_SESSION_MS: "2000" } });
    url = `http://127.0.0.1:${apiPort}`;
    bobUrl = (await readApiInfo(path.join(cluster.dir, "bob"))).url;
    admin = await readApiToken(path.join(cluster.dir, "alice"));
    channelId = (await openFunded(alice, bob, ETH, [10n * ETHER, 10n * ETHER])).channelId;
  });

  after(async function () {
    await browser?.close();
    await cluster?.stop();
  });

  describe("the rules of the page", function () {
    it("serves the page with a CSP that allows only its own origin, and no script from elsewhere", async function () {
      const reply = await fetch(`${url}/`);
      expect(reply.status).to.equal(200);
      const csp = reply.headers.get("content-security-policy") ?? "";
      expect(csp).to.include("script-src 'self'").and.include("connect-src 'self'").and.include("default-src 'none'");
      expect(csp).not.to.include("unsafe-inline");
      const html = await reply.text();
      expect(html).not.to.match(/<script(?![^>]*\bsrc="\/ui\/)/, "every script is a file of the page");
      expect(html).not.to.match(/https?:\/\//, "nothing from another origin");
    });

    it("refuses a wrong token, and keeps bearer clients as they were", async function () {
      const wrong = await loginWith(url, "00".repeat(32));
      expect(await errorOf(wrong.reply)).to.include({ status: 401, code: "UNAUTHORIZED" });
      expect(wrong.cookie).to.equal("");
      const bearer = await fetch(`${url}/v1/info`, { headers: { authorization: `Bearer ${admin}` } });
      expect(bearer.status).to.equal(200);
      const browserWithToken = await fetch(`${url}/v1/info`, { headers: { authorization: `Bearer ${admin}`, origin: "http://evil.example" } });
      expect(await errorOf(browserWithToken)).to.include({ status: 403, code: "FORBIDDEN" });
    });

    it("refuses a cross-site POST, even with the session's cookie and CSRF token", async function () {
      const { cookie, csrf } = await loginWith(url, admin);
      const before = (await alice.process.api.channel(channelId)).payments;
      const body = JSON.stringify({ channelId, amount: "1", memo: "cross-site" });
      for (const origin of ["http://evil.example", "http://localhost:1", "null"]) {
        const reply = await fetch(`${url}/v1/pay`, { method: "POST", headers: { cookie, origin, "x-csrf-token": csrf, "content-type": "application/json" }, body });
        expect(await errorOf(reply), origin).to.include({ status: 403, code: "FORBIDDEN" });
      }
      // Without the CSRF token, or with another, the page's own origin is refused too.
      for (const token of [undefined, "x".repeat(43)]) {
        const headers: Record<string, string> = { cookie, origin: url, "content-type": "application/json", ...(token === undefined ? {} : { "x-csrf-token": token }) };
        const reply = await fetch(`${url}/v1/pay`, { method: "POST", headers, body });
        expect(await errorOf(reply)).to.include({ status: 403, code: "FORBIDDEN" });
      }
      expect((await alice.process.api.channel(channelId)).payments).to.equal(before);
      // A real cross-site page in the browser: its form POST reaches nothing.
      const evilPort = await freePort();
      const evil = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html" });
        res.end(`<form method="post" action="${url}/v1/close" enctype="text/plain"><input name='{"channelId":"${channelId}","x":"' value='"}'><button>Win a prize</button></form>`);
      });
      await new Promise<void>((resolve) => evil.listen(evilPort, "localhost", resolve));
      const page = await browser.newPage();
      try {
        await page.goto(`${url}/`);
        await logInWith(page, admin);
        await page.goto(`http://localhost:${evilPort}/`);
        const [reply] = await Promise.all([page.waitForNavigation({ timeout: 30_000 }), page.click("button")]);
        expect(reply?.url()).to.equal(`${url}/v1/close`);
        expect(reply?.status()).to.be.oneOf([401, 403]);
        const text = String(await page.evaluate("document.body.innerText"));
        expect(text).to.match(/FORBIDDEN|UNAUTHORIZED/);
      } finally {
        await page.close();
        evil.close();
      }
      expect((await alice.process.api.channel(channelId)).status).to.equal("open");
    });

    it("ends an expired session, and a session only does what its token's scope allows", async function () {
      const { cookie } = await loginWith(bobUrl, await readApiToken(path.join(cluster.dir, "bob")));
      expect((await fetch(`${bobUrl}/v1/info`, { headers: { cookie } })).status).to.equal(200);
      await sleep(2_500);
      expect(await errorOf(await fetch(`${bobUrl}/v1/info`, { headers: { cookie } }))).to.include({ status: 401, code: "UNAUTHORIZED" });
      expect((await fetch(`${bobUrl}/dashboard/session`, { headers: { cookie } })).status).to.equal(401);

      const readOnly = await alice.process.api.createToken("read-only", "dashboard test");
      const session = await loginWith(url, readOnly.token);
      expect(session.reply.status).to.equal(200);
      expect((await fetch(`${url}/v1/channels`, { headers: { cookie: session.cookie } })).status).to.equal(200);
      const pay = await fetch(`${url}/v1/pay`, {
        method: "POST",
        headers: { cookie: session.cookie, origin: url, "x-csrf-token": session.csrf, "content-type": "application/json" },
        body: JSON.stringify({ channelId, amount: "1" }),
      });
      expect(await errorOf(pay)).to.include({ status: 403, code: "FORBIDDEN_SCOPE" });
      await alice.process.api.revokeToken(readOnly.id);
      expect((await fetch(`${url}/v1/channels`, { headers: { cookie: session.cookie } })).status).to.equal(401);
    });

    it("shows a read-only token no action, and an invoice token its invoices only", async function () {
      const readOnly = await alice.process.api.createToken("read-only", "looker");
      const invoicer = await alice.process.api.createToken("invoice", "shop");
      for (const [token, expected] of [[readOnly.token, ["Overview", "Channels", "Payments", "Invoices"]], [invoicer.token, ["Invoices"]]] as const) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        try {
          await page.goto(`${url}/#/channels`);
          await logInWith(page, token);
          const nav = String(await page.evaluate(`[...document.querySelectorAll("nav a")].filter((a) => !a.hidden).map((a) => a.textContent).join(",")`));
          expect(nav.split(",")).to.deep.equal(expected);
          if (token === readOnly.token) {
            await page.waitForSelector(`[data-channel="${channelId}"]`);
            expect(await page.evaluate(`document.querySelectorAll("[data-action], #open-channel").length`), "no action for a read-only token").to.equal(0);
            await page.goto(`${url}/#/invoices`);
            await page.waitForSelector("#invoices");
            expect(await page.evaluate(`document.getElementById("invoice-form") === null`)).to.equal(true);
          } else {
            await page.waitForSelector("#invoice-form");
            expect(new URL(page.url()).hash).to.equal("#/channels", "the address stays; the screen is the one the scope allows");
            expect(await textOf(page, "#screen h1")).to.equal("Invoices");
          }
        } finally {
          await context.close();
        }
      }
    });

    it("logs in once with the link of `sluice dashboard`; the cookie is HttpOnly and SameSite=Strict", async function () {
      const run = await sluice("dashboard", "--json", "--datadir", path.join(cluster.dir, "alice"));
      expect(run.code, run.stderr).to.equal(0);
      const link = (JSON.parse(run.stdout) as { url: string }).url;
      expect(link).to.match(new RegExp(`^${url}/dashboard/login\\?code=`));
      expect(link).not.to.include(admin);
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      try {
        await page.goto(link);
        expect(new URL(page.url()).pathname).to.equal("/");
        await page.waitForSelector("#nav:not([hidden])");
        const cookies = await context.cookies();
        expect(cookies).to.have.length(1);
        expect(cookies[0]).to.include({ httpOnly: true, sameSite: "Strict" });
        const again = await page.goto(link);
        expect(again?.status(), "a link works once").to.equal(401);
      } finally {
        await context.close();
      }
    });
  });

  describe("the screens", function () {
    let page: Page;
    let transfer: () => { bytes: number; requests: string[] };
    const cspErrors: string[] = [];
    const ref = hexlify(randomBytes(32)) as Hex;

    before(async function () {
      // A browser of its own: no cookie of the tests above.
      page = await (await browser.createBrowserContext()).newPage();
      await page.setViewport(DESKTOP);
      page.on("console", (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text())) cspErrors.push(message.text());
      });
      transfer = await trackTransfer(page);
    });

    after(async function () {
      await page?.close();
    });

    it("logs in with a pasted token (a wrong one shows the node's message) and shows the overview", async function () {
      await page.goto(`${url}/`);
      await page.waitForSelector("#login:not([hidden])");
      const weight = transfer();
      console.log(`      page weight before login: ${(weight.bytes / 1024).toFixed(1)} KB in ${weight.requests.length} requests`);
      await screenshot(page, "login");
      await expectAccessible(page, "login");
      await page.type("#token", "ab".repeat(32));
      await page.click("#login-form button[type=submit]");
      expect(await messageMatching(page, /wrong or revoked API token/)).not.to.include("{");
      await page.evaluate(`document.getElementById("token").value = ""`);
      await page.type("#token", admin);
      await page.click("#login-form button[type=submit]");
      await page.waitForSelector("#asset-totals [data-asset]");
      await page.waitForFunction(LIVE);
      const loaded = transfer();
      console.log(`      page weight, first load logged in: ${(loaded.bytes / 1024).toFixed(1)} KB in ${loaded.requests.length} requests`);
      expect(loaded.bytes, "the first load stays light").to.be.below(100 * 1024);
      const foreign = loaded.requests.filter((r) => !r.startsWith(url) && !r.startsWith("data:"));
      expect(foreign, "every request goes to the node").to.deep.equal([]);
      const text = await textOf(page, "#asset-totals");
      expect(text).to.include("ETH").and.include("Spendable").and.include("10 ETH");
      await screenshot(page, "overview-desktop");
      await expectAccessible(page, "overview");
    });

    it("shows the channel, its balances and the peer online", async function () {
      await page.goto(`${url}/#/channels`);
      const card = `[data-channel="${channelId}"]`;
      await page.waitForSelector(`${card} .badge.online`);
      const text = await textOf(page, card);
      expect(text).to.include("open").and.include("10 ETH");
      await screenshot(page, "channels-desktop");
      await expectAccessible(page, "channels");
    });

    it("shows a payment from the other node without a reload, finds it by ref and verifies its receipt on chain", async function () {
      await page.goto(`${url}/#/payments`);
      await page.waitForSelector("#payments tbody tr");
      await page.evaluate("window.marker = 42");
      for (let i = 0; i < 3; i++) await bob.process.api.pay(channelId, ETHER / 10n, { memo: `coffee ${i}` });
      await bob.process.api.pay(channelId, ETHER / 4n, ref);
      await page.waitForSelector(`tr.payment[data-ref="${ref}"]`, { timeout: 30_000 });
      expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(42);
      expect(await page.evaluate(`document.querySelectorAll("tr.payment").length`)).to.equal(4);
      await screenshot(page, "payments-desktop");
      await expectAccessible(page, "payments");

      await page.type("#search", ref);
      await page.click("#payment-filters button[type=submit]");
      await page.waitForFunction(`document.querySelectorAll("tr.payment").length === 1`);
      expect(await page.evaluate(`document.querySelector("tr.payment").getAttribute("data-ref")`)).to.equal(ref);
      await openReceipt(page, ref);
      await page.click("#verify");
      // The chain knows no state of the open channel yet: the page says so, and offers the proof.
      await page.waitForSelector("#verify-result .badge", { timeout: 60_000 });
      expect(await textOf(page, "#verify-result")).to.match(/not on chain yet.*closed or challenged/);
      const proof = JSON.parse(await textOf(page, "#proof-json")) as { verifiedOnChain: boolean; payment: { ref: string }; proof: string[] };
      expect(proof).to.deep.include({ verifiedOnChain: false });
      expect(proof.payment.ref).to.equal(ref);
      expect(await page.evaluate(`document.getElementById("download-proof").disabled`)).to.equal(false);
      await expectAccessible(page, "receipt");
    });

    it("draws the payments per minute and the volume per asset live: a point appears after payments, without a reload", async function () {
      await page.goto(`${url}/#/overview`);
      await page.waitForSelector("#rate-chart");
      const volume = `[data-volume="${ETH}"] svg`;
      await page.waitForSelector(volume);
      const [count, paid] = [await chartTotal(page, "#rate-chart"), await chartTotal(page, volume)];
      expect(count, "the payments before the page was opened are drawn").to.be.at.least(4n);
      await page.evaluate("window.marker = 17");
      await bob.process.api.pay(channelId, ETHER / 50n, { memo: "chart 1" });
      await bob.process.api.pay(channelId, ETHER / 20n, { memo: "chart 2" });
      await page.waitForFunction(`Number(document.getElementById("rate-chart").getAttribute("data-total")) === ${count + 2n}`, { timeout: 30_000 });
      expect(await chartTotal(page, volume)).to.equal(paid + ETHER / 50n + ETHER / 20n);
      expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(17);
      const lastBar = String(await page.evaluate(`[...document.querySelectorAll("#rate-chart rect")].pop().getAttribute("data-value")`));
      expect(Number(lastBar)).to.be.at.least(2);
      await screenshot(page, "overview-charts");
      await expectAccessible(page, "overview with charts");
    });

    it("pages the payments, filters them by direction and exports them as CSV", async function () {
      await page.goto(`${url}/#/overview`);
      await page.goto(`${url}/#/payments`);
      await page.waitForSelector("#page-info");
      for (let i = 0; i < 21; i++) await bob.process.api.pay(channelId, 1_000n, { memo: `tip ${i}` });
      await page.waitForFunction(`document.getElementById("page-info").textContent === "Page 1 of 2 · 27 payments"`, { timeout: 30_000 });
      expect(await page.evaluate(`document.querySelectorAll("tr.payment").length`)).to.equal(20);
      await clickUntil(page, ".pager button:last-child", `document.getElementById("page-info").textContent === "Page 2 of 2 · 27 payments"`);
      expect(await page.evaluate(`document.querySelectorAll("tr.payment").length`)).to.equal(7);
      await page.select("#direction", "sent");
      expect(await textOf(page, "#page-info")).to.equal("Page 1 of 1 · 0 payments");
      await page.select("#direction", "received");
      expect(await textOf(page, "#page-info")).to.equal("Page 1 of 2 · 27 payments");

      const downloads = mkdtempSync(path.join(tmpdir(), "sluice-csv-"));
      try {
        const cdp = await page.createCDPSession();
        await cdp.send("Page.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });
        await page.click("#export-csv");
        const file = path.join(downloads, "sluice-payments.csv");
        await waitFor(() => existsSync(file), { what: "the CSV download" });
        const lines = readFileSync(file, "utf8").trim().split("\n");
        expect(lines[0]).to.equal("channelId,seq,direction,amount,symbol,decimals,ref,memo,version,committedAt");
        expect(lines).to.have.length(28);
        const amounts = lines.slice(1).map((line) => BigInt(line.split(",")[3]));
        expect(amounts.reduce((a, b) => a + b, 0n)).to.equal(3n * (ETHER / 10n) + ETHER / 4n + ETHER / 50n + ETHER / 20n + 21n * 1_000n);
        expect(lines.slice(1).every((line) => line.split(",")[2] === "received")).to.equal(true);
      } finally {
        rmSync(downloads, { recursive: true, force: true });
      }
    });

    it("makes an invoice shown as text and QR code", async function () {
      const text = await makeInvoice(page, url, "2.5", "Order 1042");
      expect(text).to.match(/^sluice1[0-9a-z]+$/);
      const made = await alice.process.api.invoices({});
      expect(made.map((i) => i.encoded)).to.include(text);
      expect(await textOf(page, "#invoices tbody")).to.include("Order 1042").and.include("2.5 ETH");
      await screenshot(page, "invoices-desktop");
      await expectAccessible(page, "invoices");
      // Its status follows the node live: cancelled through the API, the page says so without a reload.
      const id = made.find((i) => i.encoded === text)!.id;
      await page.evaluate("window.marker = 7");
      await alice.process.api.cancelInvoice(id);
      await page.waitForSelector(`tr.invoice[data-id="${id}"] .badge.cancelled`, { timeout: 15_000 });
      await page.waitForSelector("#invoice-detail .badge.cancelled");
      expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(7);
    });

    it("turns a shown invoice paid, live, when the other node pays it", async function () {
      const text = await makeInvoice(page, url, "0.5", "Paid live");
      expect(await page.evaluate(`document.querySelector("#invoice-detail .badge").textContent`)).to.equal("open");
      const id = String(await page.evaluate(`document.getElementById("invoice-detail").dataset.invoice`));
      await page.evaluate("window.marker = 9");
      const receipt = await bob.process.api.payInvoice(text);
      expect(receipt.amount).to.equal(ETHER / 2n);
      await page.waitForSelector("#invoice-detail .badge.paid", { timeout: 30_000 });
      await page.waitForSelector(`tr.invoice[data-id="${id}"] .badge.paid`);
      expect(await textOf(page, "#invoice-detail .paid-note")).to.include("Paid 0.5 ETH");
      expect(await page.evaluate(`document.querySelector("#invoice-detail img.qr") === null`), "a paid invoice offers no QR code to pay again").to.equal(true);
      expect(await textOf(page, "#invoice-detail")).not.to.include("null");
      expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(9);
      await screenshot(page, "invoice-paid");
      await expectAccessible(page, "invoice paid");
    });

    it("shows the credits a settlement left with the adjudicator for a payee that refused the payout", async function () {
      const receiver = await new RevertingReceiver__factory(cluster.chain.wallet(0)).deploy(cluster.chain.wallet(0).address);
      await receiver.waitForDeployment();
      const payee = (await receiver.getAddress()).toLowerCase() as Address;
      await page.goto(`${url}/#/overview`);
      const credits = `[data-asset="${ETH}"] [data-stat="credits"]`;
      await page.waitForSelector(credits);
      expect(await textOf(page, credits)).to.equal("0 ETH");
      const second = await alice.process.api.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER, payee });
      await alice.process.api.close(second.channelId);
      await page.waitForFunction(`document.querySelector(${JSON.stringify(credits)})?.textContent === "1 ETH"`, { timeout: 30_000 });
      expect(await textOf(page, `[data-asset="${ETH}"]`)).to.include(payee.slice(0, 8));
      await screenshot(page, "overview-credits");
      await expectAccessible(page, "overview with credits");
    });

    it("works at a phone's width", async function () {
      await page.setViewport(PHONE);
      for (const screen of ["overview", "channels", "payments", "invoices"]) {
        await page.goto(`${url}/#/${screen}`);
        await page.reload();
        await page.waitForSelector("#nav:not([hidden])");
        await sleep(500);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        expect(overflow, `${screen}: no sideways scrolling`).to.be.at.most(0);
        await screenshot(page, `${screen}-phone`);
        await expectAccessible(page, `${screen} (phone)`);
      }
      await page.setViewport(DESKTOP);
    });

    it("can be used with the keyboard alone: skip link, screens, an action's dialog and back", async function () {
      await page.goto(`${url}/#/overview`);
      await page.reload();
      await page.waitForSelector("#asset-totals [data-asset]");
      const active = () => page.evaluate(`(document.activeElement?.textContent ?? "").trim()`) as Promise<string>;
      await page.keyboard.press("Tab");
      expect(await active()).to.equal("Skip to content");
      for (let i = 0; i < 10 && (await active()) !== "Channels"; i++) await page.keyboard.press("Tab");
      expect(await active()).to.equal("Channels");
      await page.keyboard.press("Enter");
      await page.waitForFunction(`location.hash === "#/channels"`);
      const deposit = `[data-channel="${channelId}"] [data-action="deposit"]`;
      // Focus and Enter, again if a live redraw replaced the button in between.
      await waitFor(async () => {
        await page.waitForSelector(deposit);
        await page.focus(deposit).catch(() => undefined);
        await page.keyboard.press("Enter");
        return Boolean(await page.evaluate(DIALOG_OPEN));
      }, { what: "the deposit dialog opened with the keyboard" });
      expect(await page.evaluate(`document.activeElement.id`), "the dialog takes the focus").to.equal("field-amount");
      await page.keyboard.type("0.5");
      expect(await estimateShown(page)).to.match(/^Network fee about /);
      await page.keyboard.press("Escape");
      await page.waitForFunction(`!document.querySelector("dialog").open`);
      expect(await page.evaluate(`document.activeElement?.getAttribute("data-action")`), "the focus goes back to the button").to.equal("deposit");
    });

    it("reconnects its event stream after the node restarts", async function () {
      await page.goto(`${url}/#/payments`);
      await page.reload();
      await page.waitForFunction(LIVE);
      await alice.process.stop();
      await page.waitForFunction(`!(${LIVE})`, { timeout: 30_000 });
      await alice.process.restart();
      await page.waitForFunction(LIVE, { timeout: 60_000 });
      await waitFor(async () => (await bob.process.api.channel(channelId)).status === "open", { what: "the channel after the restart" });
      const paidAfter = hexlify(randomBytes(32)) as Hex;
      await waitFor(async () => (await bob.process.api.pay(channelId, ETHER / 100n, paidAfter), true), { what: `bob to pay after alice's restart\n${logsOf(alice, bob)}`, timeoutMs: 60_000, intervalMs: 500 });
      await page.waitForSelector(`tr.payment[data-ref="${paidAfter}"]`, { timeout: 30_000 });
    });

    it("cashes out and closes the channel, each after a confirmation", async function () {
      await page.goto(`${url}/#/channels`);
      const card = `[data-channel="${channelId}"]`;
      await clickUntil(page, `${card} [data-action="cash out"]`, DIALOG_OPEN);
      await page.type("#field-amount", "1");
      expect(await estimateShown(page)).to.match(/^Network fee about .* \(73,303 gas at .* per gas, the measured figure/);
      await screenshot(page, "cash-out-dialog");
      await page.click("#dialog-ok");
      await messageMatching(page, /Cashed out 1 ETH|Cash-out signed/);
      await waitFor(async () => (await alice.process.api.channel(channelId)).withdrawn[0] === ETHER, { what: "the cash-out on chain", timeoutMs: 60_000 });

      await clickUntil(page, `${card} [data-action="close"]`, DIALOG_OPEN);
      const estimate = await estimateShown(page);
      expect(estimate).to.match(/^Network fee about [0-9.,…]+ (ETH|gwei|wei) \(63,605 gas at .*; at most [0-9.,…]+ (ETH|gwei|wei)\.$/);
      expect(estimate).not.to.include("{");
      await screenshot(page, "close-dialog");
      await expectAccessible(page, "close dialog");
      await confirmDialog(page);
      await messageMatching(page, /The channel is closed/);
      await page.waitForSelector(`${card} .badge.closed`, { timeout: 30_000 });
      expect((await alice.process.api.channel(channelId)).status).to.be.oneOf(["closed", "settled"]);
      await screenshot(page, "channels-closed");
    });

    it("verifies the payment's receipt on chain once the channel is closed", async function () {
      await page.goto(`${url}/#/payments`);
      await page.waitForSelector("#payments tbody tr.payment");
      await page.type("#search", ref);
      await page.click("#payment-filters button[type=submit]");
      await openReceipt(page, ref);
      await page.click("#verify");
      await page.waitForSelector("#verify-result .badge.verified", { timeout: 60_000 });
      const proof = JSON.parse(await textOf(page, "#proof-json")) as { verifiedOnChain: boolean; payment: { ref: string } };
      expect(proof).to.deep.include({ verifiedOnChain: true });
      expect(proof.payment.ref).to.equal(ref);
      await screenshot(page, "receipt-desktop");
      expect(cspErrors, "no CSP violation on any screen").to.deep.equal([]);
    });

    it("shows the node's readable message when an action is refused", async function () {
      await page.goto(`${url}/#/channels`);
      await clickUntil(page, "#open-channel", DIALOG_OPEN);
      await confirmDialog(page, { peer: bob.address, peerUrl: bob.peerUrl, deposit: "1000000" });
      await page.waitForSelector("#dialog-error:not([hidden])", { timeout: 60_000 });
      const error = await textOf(page, "#dialog-error");
      expect(error.length).to.be.greaterThan(10);
      expect(error).not.to.match(/^\s*\{/, "not raw JSON");
      // The estimate said so before the click, in words.
      await page.waitForSelector(`#dialog-estimate[data-state="refused"]`);
      const refused = await textOf(page, "#dialog-estimate");
      expect(refused).to.match(/^This would not go through now: .*1,000,000 ETH/);
      expect(refused).not.to.include("{");
      await page.click("#dialog-cancel");
    });

    it("challenges after the gas estimate, and the dispute's deadline counts down live", async function () {
      const third = await openFunded(alice, bob, ETH, [ETHER, 0n]);
      await page.goto(`${url}/#/channels`);
      const card = `[data-channel="${third.channelId}"]`;
      await clickUntil(page, `${card} [data-action="challenge"]`, DIALOG_OPEN);
      expect(await estimateShown(page)).to.match(/^Network fee about .* \([0-9,]+ gas at .* per gas\); at most /);
      await page.click("#dialog-ok");
      await messageMatching(page, /Your latest state is registered on chain/);
      await page.waitForSelector(`${card} .badge.disputed`, { timeout: 30_000 });
      const countdown = `${card} .countdown`;
      await page.waitForFunction(`/^0h 5[0-9]m [0-9]{2}s left$/.test(document.querySelector(${JSON.stringify(countdown)})?.textContent ?? "")`);
      const first = await textOf(page, countdown);
      await page.waitForFunction(`document.querySelector(${JSON.stringify(countdown)}).textContent !== ${JSON.stringify(first)}`, { timeout: 5_000 });
      const seconds = (text: string) => { const [, h, m, sec] = /^(\d+)h (\d+)m (\d+)s/.exec(text)!; return Number(h) * 3600 + Number(m) * 60 + Number(sec); };
      expect(seconds(await textOf(page, countdown))).to.be.below(seconds(first));
      await screenshot(page, "channels-disputed");
      await expectAccessible(page, "channels with a dispute");
    });
  });

  describe("a real hub: its hub screen, and an invoice paid through it", function () {
    /** Hank routes (fee 0.000001 ETH + 100 ppm); Bob pays Carol through him: Bob → Hank → Carol, no channel Bob–Carol. */
    const FEE_BASE = 1_000_000_000_000n;
    const FEE_PPM = 100n;
    let hank: ClusterNode;
    let carol: ClusterNode;
    let hankUrl: string;
    let carolUrl: string;

    before(async function () {
      [hank, carol] = await Promise.all([
        cluster.startNode("hank", 3, { config: { hub: true, feeBase: FEE_BASE.toString(), feePpm: Number(FEE_PPM) } }),
        cluster.startNode("carol", 4),
      ]);
      hankUrl = (await readApiInfo(path.join(cluster.dir, "hank"))).url;
      carolUrl = (await readApiInfo(path.join(cluster.dir, "carol"))).url;
      await openFunded(bob, hank, ETH, [ETHER, ETHER]);
      await openFunded(hank, carol, ETH, [ETHER, ETHER]);
    });

    afterEach(function () {
      if (this.currentTest?.state === "failed") console.log(logsOf(bob, hank, carol));
    });

    it("shows a routed payment live on the hub's screen: forwarded, pending then settled, and the fee earned", async function () {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const carolPid = carol.process.pid!;
      try {
        await page.setViewport(DESKTOP);
        const asked: string[] = [];
        page.on("request", (request: HTTPRequest) => {
          const { pathname, search } = new URL(request.url());
          if (pathname === "/v1/forwards") asked.push(search);
        });
        await page.goto(`${hankUrl}/#/hub`);
        await logInWith(page, await readApiToken(path.join(cluster.dir, "hank")));
        expect(await screensOffered(page)).to.deep.equal(["Overview", "Channels", "Payments", "Invoices", "Hub"]);
        await page.waitForFunction(LIVE);
        await page.waitForSelector("#forwards tbody tr");
        expect(await textOf(page, "#screen h1")).to.equal("Hub");
        expect(await textOf(page, "#forwards tbody")).to.equal("No forwards yet.");
        expect(await textOf(page, `[data-stat="forwarded"]`)).to.equal("0");
        expect(await textOf(page, `[data-stat="pending"]`)).to.equal("0");
        expect(await textOf(page, "#fees-earned")).to.equal("None yet");
        expect(await textOf(page, `[data-stat="policy"]`)).to.equal("1,000,000,000,000 base units + 100 ppm of the amount");
        expect(asked[0]).to.include("limit=20");
        await expectAccessible(page, "hub, no forward yet");

        // Every status a forward's row shows, in order: the page must go from pending to settled by itself.
        await page.evaluate(`window.marker = 5; window.seen = [];
          new MutationObserver(() => {
            for (const row of document.querySelectorAll("tr.forward")) {
              const last = window.seen.filter((s) => s.startsWith(row.dataset.hashlock)).pop();
              const now = row.dataset.hashlock + " " + row.dataset.status;
              if (last !== now) window.seen.push(now);
            }
          }).observe(document.getElementById("forwards"), { childList: true, subtree: true, attributes: true });`);
        const amount = ETHER / 100n;
        const fee = FEE_BASE + (amount * FEE_PPM) / 1_000_000n;
        const invoice = await carol.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n, description: "routed through the hub" });
        const hashlock = invoice.invoice.hashlock.toLowerCase();
        const row = `tr.forward[data-hashlock="${hashlock}"]`;
        // Carol's node paused: Hank's lock to her waits, so his forward stays pending until she resumes.
        process.kill(carolPid, "SIGSTOP");
        let paid: Promise<PaymentView>;
        try {
          paid = bob.process.api.payInvoice(invoice.encoded);
          paid.catch(() => undefined);
          await page.waitForSelector(`${row}[data-status="pending"]`, { timeout: 30_000 });
          expect(await textOf(page, `[data-stat="pending"]`)).to.equal("1");
          expect(await textOf(page, `[data-stat="forwarded"]`)).to.equal("0");
          await screenshot(page, "hub-pending");
        } finally {
          process.kill(carolPid, "SIGCONT");
        }
        const receipt = await paid;
        expect(receipt.amount).to.equal(amount + fee);
        await page.waitForSelector(`${row}[data-status="settled"]`, { timeout: 30_000 });
        await page.waitForFunction(`document.querySelector('[data-stat="forwarded"]').textContent === "1"`, { timeout: 15_000 });
        expect(await textOf(page, `[data-stat="pending"]`)).to.equal("0");
        expect(fee).to.equal(2_000_000_000_000n);
        expect(await textOf(page, "#fees-earned")).to.equal("0.000002 ETH");
        expect(await textOf(page, row)).to.include("0.01 ETH").and.include("0.010002 ETH").and.include("settled");
        expect(await page.evaluate(`document.querySelectorAll("tr.forward").length`)).to.equal(1);
        expect(await page.evaluate("window.seen"), "the row went from pending to settled live").to.deep.equal([`${hashlock} pending`, `${hashlock} settled`]);
        expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(5);
        const forwards = await hank.process.api.forwards({});
        expect(forwards.map((f) => [f.hashlock.toLowerCase(), f.status, f.fee])).to.deep.equal([[hashlock, "settled", fee]]);
        await screenshot(page, "hub-desktop");
        await expectAccessible(page, "hub");

        await page.setViewport(PHONE);
        await sleep(300);
        const overflow = Number(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"));
        expect(overflow, "hub: no sideways scrolling").to.be.at.most(0);
        await screenshot(page, "hub-phone");
        await expectAccessible(page, "hub (phone)");
      } finally {
        await context.close();
      }
    });

    it("turns an invoice on the payee's screen paid, live, when a node without a channel to her pays it through the hub", async function () {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      try {
        await page.setViewport(DESKTOP);
        await page.goto(`${carolUrl}/#/invoices`);
        await logInWith(page, await readApiToken(path.join(cluster.dir, "carol")));
        await page.waitForFunction(LIVE);
        const text = await makeInvoice(page, carolUrl, "0.02", "Routed order");
        expect(await page.evaluate(`document.querySelector("#invoice-detail .badge").textContent`)).to.equal("open");
        const id = String(await page.evaluate(`document.getElementById("invoice-detail").dataset.invoice`));
        const bobsChannels = await bob.process.api.channels();
        expect(bobsChannels.some((c) => c.participants.some((p) => p.toLowerCase() === carol.address.toLowerCase())), "Bob has no channel to Carol").to.equal(false);
        await page.evaluate("window.marker = 11");
        const receipt = await bob.process.api.payInvoice(text);
        expect(receipt.amount).to.equal(ETHER / 50n + FEE_BASE + ((ETHER / 50n) * FEE_PPM) / 1_000_000n);
        await page.waitForSelector("#invoice-detail .badge.paid", { timeout: 30_000 });
        await page.waitForSelector(`tr.invoice[data-id="${id}"] .badge.paid`);
        expect(await textOf(page, "#invoice-detail .paid-note")).to.include("Paid 0.02 ETH");
        expect(await textOf(page, "#invoice-detail")).not.to.include("null");
        expect(await page.evaluate("window.marker"), "the page was not reloaded").to.equal(11);
        await screenshot(page, "invoice-paid-routed");
        await expectAccessible(page, "invoice paid through a hub");
      } finally {
        await context.close();
      }
    });
  });

  describe("a node that does not route", function () {
    it("shows no hub screen for a node that does not route", async function () {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      try {
        await page.goto(`${url}/#/hub`);
        await logInWith(page, admin);
        await page.waitForSelector("#asset-totals");
        expect(await screensOffered(page)).not.to.include("Hub");
        expect(await page.evaluate(`document.querySelector('nav a[href="#/hub"]').hidden`)).to.equal(true);
        expect(await textOf(page, "#screen h1")).to.equal("Overview");
      } finally {
        await context.close();
      }
    });
  });
});
