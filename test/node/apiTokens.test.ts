/**
 * Scoped API tokens: made over the API by an admin, kept hashed in the store (SQLite), shown once;
 * the server lets each scope call exactly its methods (403 FORBIDDEN_SCOPE naming the scope
 * otherwise, nothing called), refuses a revoked token with 401, and a fresh process (a new
 * `ApiTokens` on the same store) knows the same tokens.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import { ApiClient, ApiError, startApiServer, type ApiServer } from "../../src/node/api";
import { allows } from "../../src/node/api/access";
import { METHODS } from "../../src/node/api/wire";
import { ApiTokens, tokenHash, UnknownTokenError } from "../../src/node/apiTokens";
import { ChannelStore } from "../../src/node/store";
import { ETH } from "../../src/types";
import { FakeNode, PEER } from "../cli/fakeNode";

const ADMIN = "ab".repeat(32);

/** The in-memory node with the real token book behind the token methods. */
class NodeWithTokens extends FakeNode {
  constructor(readonly book: ApiTokens) {
    super();
  }
  createToken(scope: "admin" | "read-only" | "invoice", name?: string) {
    return Promise.resolve(this.book.create(scope, name));
  }
  tokens() {
    return Promise.resolve(this.book.list());
  }
  revokeToken(id: bigint) {
    return Promise.resolve(this.book.revoke(id));
  }
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => "ok",
    (error: unknown) => (error instanceof ApiError ? `${error.status} ${error.code}` : String(error)),
  );

describe("scoped API tokens", function () {
  let dir: string;
  let store: ChannelStore;
  let node: NodeWithTokens;
  let server: ApiServer;
  let admin: ApiClient;
  const clients: ApiClient[] = [];
  const as = (token: string) => {
    const client = new ApiClient({ url: server.url, token });
    clients.push(client);
    return client;
  };

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-tokens-"));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    node = new NodeWithTokens(new ApiTokens(store.tokens));
    server = await startApiServer({ api: node, token: ADMIN, tokens: node.book });
    admin = as(ADMIN);
  });

  afterEach(async function () {
    for (const client of clients.splice(0)) client.dispose();
    await server.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an admin makes tokens; each is shown once and kept only as its sha256", async function () {
    const made = await admin.createToken("read-only", "dashboard");
    expect(made).to.deep.include({ id: 1n, scope: "read-only", name: "dashboard" });
    expect(made.token).to.match(/^sluice_ro_[0-9a-f]{64}$/);
    expect(await admin.tokens()).to.deep.equal([{ id: 1n, scope: "read-only", name: "dashboard", createdAt: made.createdAt }]);
    store.close();
    const raw = new Database(path.join(dir, "store.sqlite"), { readonly: true });
    const rows = raw.prepare("SELECT * FROM api_tokens").all() as { hash: string }[];
    raw.close();
    expect(rows.map((r) => r.hash)).to.deep.equal([tokenHash(made.token)]);
    expect(JSON.stringify(rows)).to.not.include(made.token.slice(-64));
    store = ChannelStore.open(path.join(dir, "store.sqlite"));
    // A new process over the same store knows the token.
    expect(new ApiTokens(store.tokens).scopeOf(tokenHash(made.token))).to.equal("read-only");
  });

  it("each scope calls exactly its methods: 403 FORBIDDEN_SCOPE otherwise, and the node is never called", async function () {
    const readOnly = as((await admin.createToken("read-only")).token);
    const invoice = as((await admin.createToken("invoice")).token);
    node.peerDeposit = 1n;
    const { channelId } = await admin.openChannel({ peer: PEER, peerUrl: "ws://127.0.0.1:9", asset: ETH, deposit: 10n });
    node.calls.length = 0;

    expect(await codeOf(readOnly.channels())).to.equal("ok");
    expect(await codeOf(readOnly.payments(channelId))).to.equal("ok");
    expect(await codeOf(readOnly.listEvents())).to.equal("ok");
    expect(await codeOf(readOnly.pay(channelId, 1n, { memo: "x" }))).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(readOnly.close(channelId))).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(readOnly.tokens())).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(readOnly.createToken("admin"))).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(invoice.channels())).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(invoice.pay(channelId, 1n, { memo: "y" }))).to.equal("403 FORBIDDEN_SCOPE");
    expect(await codeOf(invoice.listEvents())).to.equal("ok");
    // The in-memory node makes no invoices: the call passes the scope and the node answers.
    expect(await codeOf(invoice.createInvoice({ amount: 5n }))).to.equal("409 INVOICES_UNSUPPORTED");
    const refused = (await readOnly.pay(channelId, 1n, { memo: "x" }).catch((error: unknown) => error)) as ApiError;
    expect(refused).to.deep.include({ code: "FORBIDDEN_SCOPE", status: 403 });
    expect(refused.details).to.deep.equal({ scope: "read-only", method: "pay", needed: ["admin"] });
    expect(node.calls.map((c) => c[0])).to.deep.equal(["channels", "payments", "events", "events"]);
    // Every method answers to the scopes the table gives it, and only to them.
    for (const name of Object.keys(METHODS)) expect(allows("admin", name), name).to.equal(true);
  });

  it("a revoked token is refused with 401 from its next request; revoking an unknown id changes nothing", async function () {
    const made = await admin.createToken("invoice", "shop");
    const shop = as(made.token);
    expect(await codeOf(shop.listEvents())).to.equal("ok");
    const revoked = await admin.revokeToken(made.id);
    expect(revoked.revokedAt).to.be.a("bigint");
    expect(await codeOf(shop.listEvents())).to.equal("401 UNAUTHORIZED");
    expect(await codeOf(admin.revokeToken(made.id))).to.equal("409 UNKNOWN_TOKEN");
    expect(await codeOf(admin.revokeToken(99n))).to.equal("409 UNKNOWN_TOKEN");
    expect(() => node.book.revoke(99n)).to.throw(UnknownTokenError);
    expect((await admin.tokens()).map((t) => [t.id, t.revokedAt !== undefined])).to.deep.equal([[1n, true]]);
  });
});
