/**
 * The dashboard's sessions and the server's rule for browsers, without a browser: signed session
 * ids (a forged, expired, logged-out or other node's id is refused), one-time login codes, and the
 * server's answers to the page, to bearer clients and to other origins.
 */
import http from "node:http";
import { expect } from "chai";
import { SessionBook, sha256Hex } from "../../src/dashboard/sessions";
import { startApiServer, type ApiServer } from "../../src/node/api";
import { FakeNode } from "../cli/fakeNode";

const TOKEN = "cd".repeat(32);

describe("dashboard sessions", function () {
  let now = 1_000_000;
  const clock = () => now;

  it("a session id is signed: a forged, expired, logged-out or other node's id is refused", function () {
    const book = new SessionBook(TOKEN, { sessionMs: 1_000, now: clock });
    const { id, session } = book.open(sha256Hex(TOKEN));
    expect(book.find(id)).to.deep.equal(session);
    expect(session.csrf).to.have.length(43);
    const [payload, mac] = id.split(".");
    const forged = Buffer.from(JSON.stringify({ h: sha256Hex("x"), e: now + 1e9, n: "n" })).toString("base64url");
    expect(book.find(`${forged}.${mac}`)).to.equal(undefined);
    expect(book.find(`${payload}.${mac.slice(1)}A`)).to.equal(undefined);
    expect(book.find(payload)).to.equal(undefined);
    expect(new SessionBook("ef".repeat(32), { now: clock }).find(id), "another admin token").to.equal(undefined);
    expect(new SessionBook(TOKEN, { now: clock }).find(id), "the same node after a restart").to.deep.equal(session);
    now += 1_000;
    expect(book.find(id), "expired").to.equal(undefined);
    const second = book.open(sha256Hex(TOKEN));
    book.close(second.id);
    expect(book.find(second.id), "logged out").to.equal(undefined);
  });

  it("a login code works once, within its lifetime", function () {
    const book = new SessionBook(TOKEN, { linkMs: 500, now: clock });
    const { code } = book.issueCode("aa");
    expect(book.redeem(code)).to.equal("aa");
    expect(book.redeem(code)).to.equal(undefined);
    const late = book.issueCode("bb");
    now += 500;
    expect(book.redeem(late.code)).to.equal(undefined);
    expect(book.redeem("nonsense")).to.equal(undefined);
  });
});

describe("dashboard routes of the API server", function () {
  let server: ApiServer;
  let fake: FakeNode;
  const bearer = { authorization: `Bearer ${TOKEN}` };

  beforeEach(async function () {
    fake = new FakeNode();
    server = await startApiServer({ api: fake, token: TOKEN });
  });

  afterEach(async function () {
    await server.close();
  });

  async function link(): Promise<string> {
    const reply = await fetch(`${server.url}/dashboard/link`, { method: "POST", headers: bearer });
    expect(reply.status).to.equal(200);
    return ((await reply.json()) as { url: string }).url;
  }

  async function sessionCookie(): Promise<{ cookie: string; csrf: string }> {
    const reply = await fetch(await link(), { redirect: "manual" });
    expect(reply.status).to.equal(303);
    expect(reply.headers.get("location")).to.equal("/");
    const header = reply.headers.get("set-cookie") ?? "";
    expect(header).to.match(/HttpOnly/).and.match(/SameSite=Strict/).and.match(/Path=\//);
    const cookie = header.split(";")[0];
    const session = (await (await fetch(`${server.url}/dashboard/session`, { headers: { cookie } })).json()) as { csrf: string; scope: string };
    expect(session.scope).to.equal("admin");
    return { cookie, csrf: session.csrf };
  }

  it("serves the page to its own host only, with the CSP", async function () {
    const page = await fetch(`${server.url}/`);
    expect(page.status).to.equal(200);
    expect(page.headers.get("content-security-policy")).to.include("script-src 'self'");
    expect(await page.text()).to.include('src="/ui/app.js"');
    expect((await fetch(`${server.url}/ui/app.js`)).headers.get("content-type")).to.match(/^text\/javascript/);
    expect((await fetch(`${server.url}/ui/nothing.js`)).status).to.equal(404);
    expect((await fetch(`${server.url}/ui/../sessions.ts`)).status).to.equal(401, "not a file of the page: the API's 401");
    // Another host name resolving to the node (DNS rebinding) gets no page.
    const rebound = await new Promise<number>((resolve, reject) => {
      http.get(`${server.url}/`, { headers: { host: `evil.example:${server.port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(rebound).to.equal(403);
  });

  it("a login link needs the bearer token, and logs in once", async function () {
    expect((await fetch(`${server.url}/dashboard/link`, { method: "POST" })).status).to.equal(401);
    expect((await fetch(`${server.url}/dashboard/link`, { method: "POST", headers: { ...bearer, origin: server.url } })).status).to.equal(401);
    const url = await link();
    expect((await fetch(url, { redirect: "manual" })).status).to.equal(303);
    expect((await fetch(url, { redirect: "manual" })).status).to.equal(401);
  });

  it("a session reads without Origin and with its own; writes need the CSRF token; other origins are refused", async function () {
    const { cookie, csrf } = await sessionCookie();
    expect((await fetch(`${server.url}/v1/info`, { headers: { cookie } })).status).to.equal(200);
    expect((await fetch(`${server.url}/v1/info`, { headers: { cookie, origin: server.url } })).status).to.equal(200);
    expect((await fetch(`${server.url}/v1/info`, { headers: { cookie, origin: "http://127.0.0.1:1" } })).status).to.equal(403);
    const write = (headers: Record<string, string>) =>
      fetch(`${server.url}/v1/withdraw`, { method: "POST", headers: { cookie, "content-type": "application/json", ...headers }, body: JSON.stringify({ asset: "0x0000000000000000000000000000000000000000" }) });
    expect((await write({ origin: server.url })).status).to.equal(403);
    expect((await write({ origin: server.url, "x-csrf-token": "wrong" })).status).to.equal(403);
    expect((await write({ "x-csrf-token": csrf, origin: "http://evil.example" })).status).to.equal(403);
    expect(fake.calls.filter((c) => c[0] === "withdraw"), "refused writes reach nothing").to.deep.equal([]);
    await write({ origin: server.url, "x-csrf-token": csrf });
    expect(fake.calls.filter((c) => c[0] === "withdraw")).to.have.length(1);
    // Logging out is a write too: without the CSRF token, or from another origin, the session stays.
    const forged: Record<string, string>[] = [{ origin: server.url }, { origin: server.url, "x-csrf-token": "wrong" }, { "x-csrf-token": csrf, origin: "http://evil.example" }];
    for (const headers of forged) {
      const refused = await fetch(`${server.url}/dashboard/logout`, { method: "POST", headers: { cookie, ...headers } });
      expect(refused.status, JSON.stringify(headers)).to.equal(403);
      expect(refused.headers.get("set-cookie"), "the cookie is kept").to.equal(null);
      expect((await fetch(`${server.url}/v1/info`, { headers: { cookie } })).status).to.equal(200);
    }
    const out = await fetch(`${server.url}/dashboard/logout`, { method: "POST", headers: { cookie, origin: server.url, "x-csrf-token": csrf } });
    expect(out.status).to.equal(200);
    expect((await fetch(`${server.url}/v1/info`, { headers: { cookie } })).status).to.equal(401);
  });

  it("bearer clients are unchanged: no token 401, an Origin 403", async function () {
    expect((await fetch(`${server.url}/v1/info`)).status).to.equal(401);
    expect((await fetch(`${server.url}/v1/info`, { headers: bearer })).status).to.equal(200);
    expect((await fetch(`${server.url}/v1/info`, { headers: { ...bearer, origin: server.url } })).status).to.equal(401, "the page never uses the token itself");
    expect((await fetch(`${server.url}/v1/info`, { headers: { ...bearer, origin: "http://evil.example" } })).status).to.equal(403);
  });
});
