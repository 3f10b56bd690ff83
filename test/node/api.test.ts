/**
 * The local HTTP API against an in-memory node (test/cli/fakeNode.ts): token auth, loopback-only
 * binding, strict body validation naming the bad field, every route through the typed client with
 * bigints near 2^256 - 1, error classes → codes, body size limit, and the token/api.json files.
 */
import { promises as fs } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  ChallengePendingError,
  ContractRevertError,
  StateStaleError,
  WithdrawNothingError,
} from "../../src/chain/errors";
import {
  ChannelFinalizedError,
  InsufficientFundsError,
  InvalidAmountError,
  SluiceError,
  WrongRoleError,
} from "../../src/errors";
import { fromHex, toHex } from "../../src/crypto/hash";
import { hashPair } from "../../src/merkle";
import {
  ApiClient,
  ApiError,
  ApiUnreachableError,
  ensureApiToken,
  isLoopbackHost,
  readApiInfo,
  readApiToken,
  startApiServer,
  startLocalApi,
  writeApiInfo,
  type ApiServer,
} from "../../src/node/api";
import type { NodeApi } from "../../src/node/api/types";
import { isRead } from "../../src/node/api/access";
import { queryOfBody } from "../../src/node/api/query";
import { cashOutView, channelView, paymentView, proofView, txView, nodeInfo, WireFormatError, type Json } from "../../src/node/api/wire";
import { WithdrawalExpiryError, WithdrawalPendingError } from "../../src/channel";
import { ChannelStatusError } from "../../src/node/node";
import { PeerOfflineError } from "../../src/node/session";
import { StoreOpenError, UnknownChannelError } from "../../src/node/store/errors";
import { ConnectFailedError, RemoteError } from "../../src/node/transport/errors";
import { ETH, type Hex } from "../../src/types";
import { BIG, FakeNode, hash, MAX_UINT256, PEER, USDC } from "../cli/fakeNode";

const TOKEN = "ab".repeat(32);
const MAX_UINT64 = (1n << 64n) - 1n;

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** One HTTP request with full control over method, headers and body. */
function raw(
  url: string,
  options: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; chunks?: Buffer[] },
): Promise<RawReply> {
  // A read goes as GET with its body's fields as query parameters (unless the test says otherwise).
  const name = /^\/v1\/([a-z]+)$/.exec(options.path)?.[1];
  const method = options.method ?? (name !== undefined && isRead(name) ? "GET" : "POST");
  let target = options.path;
  let body = options.body;
  if (method === "GET" && options.method === undefined && typeof body === "string") {
    target += body === "" ? "" : queryOfBody(JSON.parse(body) as Json);
    body = undefined;
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${target}`, { method, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    // The server may close the connection before the whole body is sent (413): the reply counts.
    req.on("error", reject);
    if (options.chunks !== undefined) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(body);
    }
  });
}

function auth(token = TOKEN): http.OutgoingHttpHeaders {
  return { authorization: `Bearer ${token}`, "content-type": "application/json" };
}

function errorOf(reply: RawReply): { code: string; message: string; details?: Record<string, unknown> } {
  return (reply.body as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
}

/** A node whose every method throws `error`. */
function failingNode(error: unknown): NodeApi {
  const fail = async (): Promise<never> => {
    throw error;
  };
  return {
    info: fail,
    asset: fail,
    openChannel: fail,
    abandonChannel: fail,
    deposit: fail,
    pay: fail,
    channels: fail,
    channel: fail,
    payments: fail,
    listEvents: fail,
    close: fail,
    challenge: fail,
    settle: fail,
    cashOut: fail,
    withdraw: fail,
    prove: fail,
    addWebhook: fail,
    webhooks: fail,
    removeWebhook: fail,
  };
}

describe("local HTTP API", function () {
  let fake: FakeNode;
  let server: ApiServer;
  let client: ApiClient;

  beforeEach(async function () {
    fake = new FakeNode();
    server = await startApiServer({ api: fake, token: TOKEN });
    client = new ApiClient({ url: server.url, token: TOKEN });
  });

  afterEach(async function () {
    client.dispose();
    await server.close();
  });

  describe("auth", function () {
    const rows: [string, http.OutgoingHttpHeaders][] = [
      ["no Authorization header", { "content-type": "application/json" }],
      ["a wrong token", auth("cd".repeat(32))],
      ["a token one character short", auth(TOKEN.slice(1))],
      ["Basic instead of Bearer", { authorization: `Basic ${TOKEN}` }],
      ["an empty bearer", { authorization: "Bearer " }],
    ];
    for (const [description, headers] of rows) {
      it(`401 UNAUTHORIZED with ${description}`, async function () {
        const reply = await raw(server.url, { path: "/v1/info", headers, body: "{}" });
        expect(reply.status).to.equal(401);
        expect(errorOf(reply).code).to.equal("UNAUTHORIZED");
        expect(reply.headers["www-authenticate"]).to.equal("Bearer");
        expect(fake.calls).to.deep.equal([]);
      });
    }

    it("401 before anything else: an unknown route without a token reveals nothing", async function () {
      const reply = await raw(server.url, { path: "/v1/nope", body: "{}" });
      expect(reply.status).to.equal(401);
    });

    it("serves the right token, and the client turns a wrong one into ApiError UNAUTHORIZED", async function () {
      const reply = await raw(server.url, { path: "/v1/info", headers: auth(), body: "" });
      expect(reply.status).to.equal(200);
      const wrong = new ApiClient({ url: server.url, token: "00".repeat(32) });
      const error = await wrong.info().then(
        () => undefined,
        (e: unknown) => e,
      );
      wrong.dispose();
      expect(error).to.be.instanceOf(ApiError);
      expect((error as ApiError).code).to.equal("UNAUTHORIZED");
      expect((error as ApiError).status).to.equal(401);
    });

    it("refuses browser requests (an Origin header) with 403 even with the token", async function () {
      const reply = await raw(server.url, { path: "/v1/info", headers: { ...auth(), origin: "http://evil.example" }, body: "{}" });
      expect(reply.status).to.equal(403);
      expect(errorOf(reply).code).to.equal("FORBIDDEN");
    });
  });

  describe("loopback only", function () {
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", "169.254.0.1"]) {
      it(`refuses to bind ${host}`, async function () {
        const error = await startApiServer({ api: fake, token: TOKEN, host }).then(
          (s) => s.close().then(() => undefined),
          (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(SluiceError);
        expect((error as Error).message).to.match(/loopback/);
      });
    }

    it("recognises loopback addresses", function () {
      for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) expect(isLoopbackHost(host), host).to.equal(true);
      for (const host of ["128.0.0.1", "::", "::2", "0.0.0.0", "localhost.example.com"]) expect(isLoopbackHost(host), host).to.equal(false);
    });

    it("binds 127.0.0.1 by default and 'localhost' as 127.0.0.1", async function () {
      expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const other = await startApiServer({ api: fake, token: TOKEN, host: "localhost" });
      expect(other.host).to.equal("127.0.0.1");
      await other.close();
    });
  });

  describe("request validation", function () {
    const CH = hash("some channel");
    // route, body, field named in details.field, message pattern
    const rows: [string, string, string, RegExp][] = [
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: 5 }), "deposit", /decimal string/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: "-1" }), "deposit", /uint256/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: "1.5" }), "deposit", /uint256/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: (MAX_UINT256 + 1n).toString() }), "deposit", /out of range/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: "1e18" }), "deposit", /uint256/],
      ["open", JSON.stringify({ peer: "0x1234", peerUrl: "ws://x:1", asset: ETH, deposit: "1" }), "peer", /address/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "http://x:1", asset: ETH, deposit: "1" }), "peerUrl", /ws:\/\//],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", deposit: "1" }), "asset", /missing/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: "1", fee: "1" }), "fee", /unknown field/],
      ["open", JSON.stringify({ peer: PEER, peerUrl: "ws://x:1", asset: ETH, deposit: "1", challengePeriod: (MAX_UINT64 + 1n).toString() }), "challengePeriod", /out of range/],
      ["deposit", JSON.stringify({ channelId: CH, amount: "007" }), "amount", /uint256/],
      ["deposit", JSON.stringify({ channelId: "0x1234", amount: "7" }), "channelId", /32 bytes/],
      ["pay", JSON.stringify({ channelId: CH, amount: "1", ref: "order-1" }), "ref", /32 bytes/],
      ["pay", JSON.stringify({ channelId: CH, amount: "", ref: CH }), "amount", /uint256/],
      ["pay", JSON.stringify({ channelId: CH, amount: null, ref: CH }), "amount", /null/],
      ["pay", JSON.stringify({ channelId: CH, amount: "1" }), "ref", /ref \(32-byte hex\) or memo/],
      ["pay", JSON.stringify({ channelId: CH, amount: "1", ref: CH, memo: "order-1" }), "memo", /not both/],
      ["pay", JSON.stringify({ channelId: CH, amount: "1", memo: 7 }), "memo", /string/],
      ["payments", JSON.stringify({ channelId: CH, ref: CH, memo: "order-1" }), "memo", /not both/],
      ["payments", JSON.stringify({ channelId: CH, limit: 0 }), "limit", /integer from 1/],
      ["payments", JSON.stringify({ channelId: CH, limit: "five" }), "limit", /integer/],
      ["payments", JSON.stringify({ channelId: CH, fromSeq: "-1" }), "fromSeq", /uint64/],
      ["prove", JSON.stringify({ channelId: CH, seq: "abc" }), "seq", /uint64/],
      ["withdraw", JSON.stringify({}), "asset", /missing/],
      ["asset", JSON.stringify({ asset: "0x" + "g".repeat(40) }), "asset", /address/],
      ["channels", JSON.stringify({ all: true }), "all", /unknown field/],
      ["deposit", JSON.stringify([CH]), "body", /expected an object/],
      ["close", "{not json", "body", /not valid JSON/],
    ];
    for (const [route, body, field, message] of rows) {
      it(`400 BAD_REQUEST naming ${field} on /v1/${route} ${body.slice(0, 60)}`, async function () {
        const reply = await raw(server.url, { path: `/v1/${route}`, headers: auth(), body });
        expect(reply.status).to.equal(400);
        const error = errorOf(reply);
        expect(error.code).to.equal("BAD_REQUEST");
        expect(error.details).to.deep.equal({ field });
        expect(error.message).to.match(message);
        expect(error.message.startsWith(field)).to.equal(true);
        expect(fake.calls).to.deep.equal([]);
      });
    }

    it("404 for an unknown route, 405 for a read POSTed or a write sent as GET, 415 for a non-JSON content type", async function () {
      const notFound = await raw(server.url, { path: "/v1/steal", headers: auth(), body: "{}" });
      expect([notFound.status, errorOf(notFound).code]).to.deep.equal([404, "NOT_FOUND"]);
      const postRead = await raw(server.url, { method: "POST", path: "/v1/info", headers: auth(), body: "{}" });
      expect([postRead.status, errorOf(postRead).code, postRead.headers.allow]).to.deep.equal([405, "METHOD_NOT_ALLOWED", "GET"]);
      const getWrite = await raw(server.url, { method: "GET", path: "/v1/pay", headers: auth() });
      expect([getWrite.status, errorOf(getWrite).code, getWrite.headers.allow]).to.deep.equal([405, "METHOD_NOT_ALLOWED", "POST"]);
      const text = await raw(server.url, { path: "/v1/close", headers: { ...auth(), "content-type": "text/plain" }, body: "{}" });
      expect([text.status, errorOf(text).code]).to.deep.equal([415, "UNSUPPORTED_MEDIA_TYPE"]);
      expect(fake.calls).to.deep.equal([]);
    });

    it("a read takes its fields as query parameters: a key given twice is refused naming it", async function () {
      const twice = await raw(server.url, { method: "GET", path: `/v1/payments?channelId=${CH}&limit=1&limit=2`, headers: auth() });
      expect([twice.status, errorOf(twice).code, errorOf(twice).details]).to.deep.equal([400, "BAD_REQUEST", { field: "limit" }]);
      expect(fake.calls).to.deep.equal([]);
    });

    it("413 PAYLOAD_TOO_LARGE for an oversized body, by Content-Length or streamed, and keeps serving", async function () {
      const big = JSON.stringify({ channelId: "0x" + "1".repeat(70_000) });
      const declared = await raw(server.url, { path: "/v1/deposit", headers: auth(), body: big });
      expect([declared.status, errorOf(declared).code]).to.deep.equal([413, "PAYLOAD_TOO_LARGE"]);
      const chunks = Array.from({ length: 20 }, () => Buffer.alloc(8 * 1024, 0x20));
      const streamed = await raw(server.url, { path: "/v1/close", headers: { ...auth(), "transfer-encoding": "chunked" }, chunks });
      expect([streamed.status, errorOf(streamed).code]).to.deep.equal([413, "PAYLOAD_TOO_LARGE"]);
      expect(fake.calls).to.deep.equal([]);
      expect((await client.info()).address).to.equal((await fake.info()).address);
    });
  });

  describe("routes", function () {
    it("every route round-trips through the client, bigints near 2^256 - 1 exactly", async function () {
      fake.peerDeposit = 1n;
      const info = await client.info();
      expect(info).to.deep.equal(await fake.info());

      expect(await client.asset(USDC)).to.deep.equal({ asset: USDC, symbol: "USDC", decimals: 6 });

      const opened = await client.openChannel({ peer: PEER, peerUrl: "ws://127.0.0.1:9736", asset: BIG, deposit: MAX_UINT256 - 5n, challengePeriod: MAX_UINT64 });
      expect(opened.deposits).to.deep.equal([MAX_UINT256 - 5n, 1n]);
      expect(opened.challengePeriod).to.equal(MAX_UINT64);
      const id = opened.channelId;

      const deposited = await client.deposit(id, 4n);
      expect(deposited.deposits[0]).to.equal(MAX_UINT256 - 1n);
      expect(deposited).to.deep.equal(await fake.channel(id));

      const payment = await client.pay(id, MAX_UINT256 - 2n, hash("order-1"));
      expect(payment).to.deep.equal({ channelId: id, seq: 0n, payer: 0, amount: MAX_UINT256 - 2n, ref: hash("order-1"), version: 1n, committedAt: fake.now });
      fake.now += 5n;
      const memo = "order-2 für Café ☕";
      const paid = await client.pay(id, 1n, { memo });
      expect(paid).to.deep.equal({ channelId: id, seq: 1n, payer: 0, amount: 1n, ref: hash(memo), version: 2n, committedAt: fake.now, memo });
      expect(fake.calls.at(-1)).to.deep.equal(["pay", id, 1n, { memo }]);
      // Lookup by ref, as a hash or as its memo: the payment a lost reply committed.
      expect(await client.payments(id, { ref: { memo } })).to.deep.equal([paid]);
      expect(await client.payments(id, { ref: hash(memo) })).to.deep.equal([paid]);
      expect(await client.payments(id, { ref: hash("order-9") })).to.deep.equal([]);

      const channel = await client.channel(id);
      expect(channel.transferred).to.deep.equal([MAX_UINT256 - 1n, 0n]);
      expect(channel.balances).to.deep.equal([0n, MAX_UINT256]);
      expect(await client.channels()).to.deep.equal(await fake.channels());

      expect((await client.payments(id, {})).map((p) => p.seq)).to.deep.equal([0n, 1n]);
      expect(await client.payments(id, { fromSeq: 1n, limit: 1 })).to.deep.equal(await fake.payments(id, { fromSeq: 1n }));

      const proof = await client.prove(id, 1n);
      expect(proof).to.deep.equal(await fake.prove(id, 1n));
      // The proof leads from the leaf to the root (sorted pairs, as the adjudicator checks it).
      const folded = proof.proof.reduce((node, sibling) => hashPair(node, fromHex(sibling)), fromHex(proof.leaf));
      expect(toHex(folded)).to.equal(proof.root);

      const challenged = await client.challenge(id);
      expect(challenged.channelId).to.equal(id);
      const pending = await client.settle(id).catch((e: unknown) => e);
      expect((pending as ApiError).code).to.equal("CHALLENGE_PENDING");
      fake.now += MAX_UINT64;
      const settled = await client.settle(id);
      expect(settled.blockNumber).to.equal(fake.blockNumber);
      expect((await client.prove(id, 0n)).verifiedOnChain).to.equal(true);

      const second = await client.openChannel({ peer: PEER, peerUrl: "wss://peer.example/sluice", asset: ETH, deposit: 10n, payee: USDC });
      expect(second.challengePeriod).to.equal(86_400n);
      expect(second.payees).to.deep.equal([USDC, PEER]);
      const cashed = await client.cashOut(second.channelId, 4n);
      expect(cashed).to.deep.include({ channelId: second.channelId, participant: 0, payee: USDC, amount: 4n, total: 4n, status: "executed", paid: 4n });
      expect(cashed.tx?.gasUsed).to.equal(56_000n);
      expect((await client.channel(second.channelId)).withdrawn).to.deep.equal([4n, 0n]);
      const tooMuch = await client.cashOut(second.channelId, 7n).catch((e: unknown) => e);
      expect([(tooMuch as ApiError).code, (tooMuch as ApiError).status]).to.deep.equal(["INSUFFICIENT_FUNDS", 409]);
      const closed = await client.close(second.channelId);
      expect(closed).to.deep.include({ channelId: second.channelId, gasUsed: 61_000n });

      fake.credits.set(ETH, MAX_UINT256);
      const withdrawn = await client.withdraw(ETH);
      expect(withdrawn.channelId).to.equal(undefined);
      expect(withdrawn.gasUsed).to.equal(40_000n);
    });

    it("the wire codec round-trips every view at the extremes of its types", function () {
      const M = MAX_UINT256;
      const view = {
        channelId: hash("c"),
        participants: [PEER, USDC] as [Hex, Hex],
        payees: [BIG, PEER] as [Hex, Hex],
        asset: BIG,
        challengePeriod: MAX_UINT64,
        nonce: MAX_UINT64,
        me: 1 as const,
        status: "disputed" as const,
        deposits: [M, M - 1n] as [bigint, bigint],
        withdrawn: [M - 2n, 1n] as [bigint, bigint],
        withdrawals: [
          { participant: 0 as const, total: M, amount: 2n, expiry: MAX_UINT64, status: "signed" as const },
          { participant: 1 as const, total: 2n, amount: 1n, expiry: 0n, status: "proposed" as const },
        ],
        version: MAX_UINT64,
        transferred: [M, 0n] as [bigint, bigint],
        balances: [0n, M] as [bigint, bigint],
        locked: [0n, M] as [bigint, bigint],
        payments: MAX_UINT64,
        deadline: MAX_UINT64,
      };
      const encoded = JSON.parse(JSON.stringify(channelView.encode(view))) as unknown;
      expect(channelView.decode(encoded, "")).to.deep.equal(view);
      expect((encoded as { deposits: unknown }).deposits).to.deep.equal([M.toString(), (M - 1n).toString()]);
      const payment = { channelId: hash("c"), seq: MAX_UINT64, payer: 0 as const, amount: M, ref: hash("r"), version: MAX_UINT64 };
      expect(paymentView.decode(JSON.parse(JSON.stringify(paymentView.encode(payment))), "")).to.deep.equal(payment);
      const withMemo = { ...payment, committedAt: MAX_UINT64, memo: "é".repeat(128) };
      expect(paymentView.encode(withMemo)).to.deep.include({ committedAt: MAX_UINT64.toString(), memo: withMemo.memo });
      expect(paymentView.decode(JSON.parse(JSON.stringify(paymentView.encode(withMemo))), "")).to.deep.equal(withMemo);
      const proof = { payment, leaf: hash("l"), proof: [hash("a"), hash("b")], root: hash("root"), stateVersion: MAX_UINT64, verifiedOnChain: false };
      expect(proofView.decode(JSON.parse(JSON.stringify(proofView.encode(proof))), "")).to.deep.equal(proof);
      const tx = { hash: hash("t"), blockNumber: MAX_UINT64, gasUsed: M };
      expect(txView.decode(JSON.parse(JSON.stringify(txView.encode(tx))), "")).to.deep.equal(tx);
      const cashOut = { channelId: hash("c"), participant: 1 as const, payee: BIG, amount: M, total: M, expiry: MAX_UINT64, status: "executed" as const, paid: M, tx };
      expect(cashOutView.decode(JSON.parse(JSON.stringify(cashOutView.encode(cashOut))), "")).to.deep.equal(cashOut);
      const unexecuted = { ...cashOut, status: "signed" as const, paid: undefined, tx: undefined, reason: "ChannelChallenged" };
      const { paid: _paid, tx: _tx, ...rest } = unexecuted;
      expect(cashOutView.decode(JSON.parse(JSON.stringify(cashOutView.encode(unexecuted))), "")).to.deep.equal(rest);
      const info = { address: PEER, chainId: M, adjudicator: USDC, peerUrl: "ws://a:1", blockNumber: 0n, channels: 0 };
      expect(nodeInfo.decode(JSON.parse(JSON.stringify(nodeInfo.encode(info))), "")).to.deep.equal(info);
      expect(() => channelView.decode({ ...(encoded as object), extra: 1 }, "")).to.throw(WireFormatError, /extra: unknown field/);
      expect(() => channelView.decode({ ...(encoded as object), deposits: ["1"] }, "")).to.throw(WireFormatError, /deposits/);
    });
  });

  describe("errors", function () {
    const data = "0x" as Hex;
    // error thrown by the node, HTTP status, code, details (subset)
    const rows: [string, unknown, number, string, Record<string, unknown>?][] = [
      ["InsufficientFundsError", new InsufficientFundsError(0, 5n, 3n), 409, "INSUFFICIENT_FUNDS", { payer: 0, amount: "5", available: "3" }],
      ["UnknownChannelError", new UnknownChannelError(hash("x")), 404, "NOT_FOUND", { channelId: hash("x") }],
      ["StateStaleError (contract)", new StateStaleError("StateStale", { version: 3n, registeredVersion: MAX_UINT64 }, data), 409, "STATE_STALE", { version: "3", registeredVersion: MAX_UINT64.toString() }],
      ["ChallengePendingError (contract)", new ChallengePendingError("ChallengePending", { deadline: 1_700_000_000n }, data), 409, "CHALLENGE_PENDING", { deadline: "1700000000" }],
      ["WithdrawNothingError (contract)", new WithdrawNothingError("WithdrawNothing", { owner: PEER, asset: ETH }, data), 409, "WITHDRAW_NOTHING", { owner: PEER, asset: ETH }],
      ["ContractRevertError (a token's)", new ContractRevertError("Reverted: ERC20InsufficientBalance", { errorName: "ERC20InsufficientBalance", args: { sender: PEER, balance: 5n, needed: MAX_UINT256 } }), 409, "CONTRACT_REVERT", { errorName: "ERC20InsufficientBalance", args: { sender: PEER, balance: "5", needed: MAX_UINT256.toString() } }],
      ["InvalidAmountError", new InvalidAmountError(0n), 400, "INVALID_AMOUNT", { amount: "0" }],
      ["ChannelFinalizedError", new ChannelFinalizedError(hash("x")), 409, "CHANNEL_FINALIZED", { channelId: hash("x") }],
      ["WrongRoleError", new WrongRoleError(1, "pay"), 409, "WRONG_ROLE", { participant: 1, operation: "pay" }],
      ["PeerOfflineError", new PeerOfflineError(PEER), 409, "PEER_OFFLINE", { peer: PEER }],
      ["ChannelStatusError", new ChannelStatusError(hash("x"), "closed", "cash out"), 409, "CHANNEL_STATUS", { channelId: hash("x"), status: "closed" }],
      ["WithdrawalPendingError", new WithdrawalPendingError(7n), 409, "WITHDRAWAL_PENDING", { total: "7" }],
      ["WithdrawalExpiryError", new WithdrawalExpiryError(1n, 2n, 3n), 409, "WITHDRAWAL_EXPIRY", { expiry: "1", after: "2", latest: "3" }],
      ["ConnectFailedError", new ConnectFailedError("ws://127.0.0.1:1"), 502, "PEER_UNREACHABLE", { url: "ws://127.0.0.1:1" }],
      ["RemoteError", new RemoteError("INSUFFICIENT_FUNDS", "only 3"), 502, "PEER_ERROR", { peerCode: "INSUFFICIENT_FUNDS", detail: "only 3" }],
      ["StoreOpenError", new StoreOpenError("/data/x.db", "not a database"), 500, "STORE_OPEN", { path: "/data/x.db" }],
      ["a WireFormatError thrown by the node", new WireFormatError("x", "bad"), 400, "BAD_REQUEST", { field: "x" }],
    ];
    // The chain's refusals arrive in plain words (src/chain/revertWords.ts); the others as thrown.
    const plain: Record<string, string> = {
      "StateStaleError (contract)": `the chain holds a newer state (version ${MAX_UINT64}) than this one (version 3)`,
      "ChallengePendingError (contract)": "the challenge period runs until 2023-11-14T22:13:20Z",
      "WithdrawNothingError (contract)": `nothing is credited to ${PEER} in ${ETH}`,
      "ContractRevertError (a token's)": `the token refused the transfer: ${PEER} holds 5 base units, and ${MAX_UINT256} base units is needed`,
    };
    for (const [description, thrown, status, code, details] of rows) {
      it(`${description} → ${status} ${code}`, async function () {
        const failing = await startApiServer({ api: failingNode(thrown), token: TOKEN });
        const reply = await raw(failing.url, { path: "/v1/channels", headers: auth(), body: "{}" });
        const viaClient = await new ApiClient({ url: failing.url, token: TOKEN }).channels().catch((e: unknown) => e);
        await failing.close();
        expect(reply.status).to.equal(status);
        const error = errorOf(reply);
        expect(error.code).to.equal(code);
        expect(error.message).to.equal(plain[description] ?? (thrown as Error).message);
        if (details !== undefined) expect(error.details).to.deep.include(details);
        expect(JSON.stringify(reply.body)).not.to.match(/stack|cause|\bat .*\.ts:/);
        expect(viaClient).to.be.instanceOf(ApiError);
        expect((viaClient as ApiError).code).to.equal(code);
        expect((viaClient as ApiError).status).to.equal(status);
      });
    }

    for (const thrown of [new Error("password=hunter2 at /home/alice/secret.ts:12"), new TypeError("x is undefined"), "a string"]) {
      it(`an unexpected ${thrown instanceof Error ? thrown.name : typeof thrown} → 500 INTERNAL without leaking it`, async function () {
        const logged: unknown[] = [];
        const failing = await startApiServer({ api: failingNode(thrown), token: TOKEN, onInternalError: (e) => logged.push(e) });
        const reply = await raw(failing.url, { path: "/v1/info", headers: auth(), body: "{}" });
        await failing.close();
        expect(reply.status).to.equal(500);
        expect(errorOf(reply)).to.deep.equal({ code: "INTERNAL", message: "internal error: see the node's log" });
        expect(logged).to.deep.equal([thrown]);
      });
    }

    it("the fake's real errors travel too: unknown channel, insufficient funds, deposit overflow", async function () {
      const missing = await client.channel(hash("nope")).catch((e: unknown) => e);
      expect([(missing as ApiError).code, (missing as ApiError).status]).to.deep.equal(["NOT_FOUND", 404]);
      const { channelId } = await client.openChannel({ peer: PEER, peerUrl: "ws://p:1", asset: USDC, deposit: 10n });
      const poor = await client.pay(channelId, 11n, hash("r")).catch((e: unknown) => e);
      expect((poor as ApiError).code).to.equal("INSUFFICIENT_FUNDS");
      expect((poor as ApiError).details).to.deep.equal({ payer: 0, amount: "11", available: "10" });
      const overflow = await client.deposit(channelId, MAX_UINT256).catch((e: unknown) => e);
      expect((overflow as ApiError).code).to.equal("DEPOSIT_OVERFLOW");
      expect((overflow as ApiError).details).to.deep.equal({ deposit: "10", amount: MAX_UINT256.toString() });
    });

    it("a memo beyond 256 bytes of UTF-8 (or empty) is INVALID_MEMO, and pays nothing", async function () {
      const { channelId } = await client.openChannel({ peer: PEER, peerUrl: "ws://p:1", asset: USDC, deposit: 10n });
      for (const memo of ["é".repeat(128) + "x", ""]) {
        const refused = await client.pay(channelId, 1n, { memo }).catch((e: unknown) => e);
        expect([(refused as ApiError).code, (refused as ApiError).status]).to.deep.equal(["INVALID_MEMO", 400]);
        expect((refused as ApiError).message).to.match(memo === "" ? /memo is empty/ : /memo is 257 bytes of UTF-8, more than the 256 allowed/);
      }
      expect((await client.channel(channelId)).payments).to.equal(0n);
      expect((await client.pay(channelId, 1n, { memo: "é".repeat(128) })).memo).to.equal("é".repeat(128));
    });

    it("an unreachable node is ApiUnreachableError with code UNREACHABLE", async function () {
      await server.close();
      const error = await client.info().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ApiUnreachableError);
      expect((error as ApiError).code).to.equal("UNREACHABLE");
    });
  });

  describe("token and api.json", function () {
    let dir: string;
    beforeEach(async function () {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-api-"));
    });
    afterEach(async function () {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it("creates a random 32-byte token with mode 0600 once, and concurrent starters agree on it", async function () {
      const datadir = path.join(dir, "data");
      const tokens = await Promise.all(Array.from({ length: 8 }, () => ensureApiToken(datadir)));
      expect(new Set(tokens).size).to.equal(1);
      expect(tokens[0]).to.match(/^[0-9a-f]{64}$/);
      const stat = await fs.stat(path.join(datadir, "api.token"));
      expect(stat.mode & 0o777).to.equal(0o600);
      expect(await ensureApiToken(datadir)).to.equal(tokens[0]);
      expect(await readApiToken(datadir)).to.equal(tokens[0]);
      expect((await fs.readdir(datadir)).sort()).to.deep.equal(["api.token"]);
      const other = await ensureApiToken(path.join(dir, "other"));
      expect(other).not.to.equal(tokens[0]);
    });

    it("rejects a token file that is not a token", async function () {
      await fs.writeFile(path.join(dir, "api.token"), "hello\n");
      const error = await readApiToken(dir).catch((e: unknown) => e);
      expect((error as Error).message).to.match(/not an API token/);
    });

    it("startLocalApi writes api.json for the client and removes it on close", async function () {
      const local = await startLocalApi({ api: fake, datadir: dir });
      const info = await readApiInfo(dir);
      expect(info).to.deep.equal({ url: local.url, pid: process.pid });
      const viaFiles = await ApiClient.fromDataDir(dir);
      expect((await viaFiles.info()).address).to.equal((await fake.info()).address);
      viaFiles.dispose();
      await local.close();
      expect(await fs.readdir(dir)).to.deep.equal(["api.token"]);
      await writeApiInfo(dir, { url: "http://127.0.0.1:1", pid: 1 });
      expect((await readApiInfo(dir)).url).to.equal("http://127.0.0.1:1");
    });
  });
});
