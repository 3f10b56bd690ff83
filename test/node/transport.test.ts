/**
 * The peer transport over real sockets on 127.0.0.1: the mutual handshake and its failures, frame
 * checking against raw `ws` clients while an authenticated peer keeps being served, pipelining,
 * disconnects, reconnects, and a peer in a separate process that is killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { expect } from "chai";
import WebSocket, { WebSocketServer } from "ws";
import {
  BackpressureError,
  ConnectFailedError,
  ConnectionClosedError,
  ErrorCode,
  HandshakeError,
  PeerServer,
  ReconnectingPeer,
  RemoteError,
  RequestTimeoutError,
  authenticate,
  connectPeer,
  handshakeDigest,
  keyIdentity,
  type ConnectOptions,
  type HandshakeContext,
  type HandshakeIdentity,
  type PeerConnection,
  type PeerServerOptions,
} from "../../src/node/transport";
import type { Address, Hex } from "../../src/types";
import { testHandlers, testValidators, type TestMessages } from "./fixtures/transport-messages";

// Hardhat's first test accounts.
const KEYS = {
  alice: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcb4e6e8e4b2ab1b20",
  bob: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
  carol: "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
} as const satisfies Record<string, Hex>;
const alice = keyIdentity(KEYS.alice);
const bob = keyIdentity(KEYS.bob);
const carol = keyIdentity(KEYS.carol);
const CHAIN_ID = 31337n;
const ADJUDICATOR = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const OTHER_ADJUDICATOR = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Address;

type Frame = { id?: number | string; type: string; body?: Record<string, unknown> };

// ------------------------------------------------------------------ helpers

/** A text message's characters (the tests' sockets deliver Buffers). */
function text(data: WebSocket.RawData): string {
  return (data as Buffer).toString("utf8");
}

const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startServer(overrides: Partial<PeerServerOptions<TestMessages>> = {}): Promise<PeerServer<TestMessages>> {
  const server = await PeerServer.listen<TestMessages>({
    chainId: CHAIN_ID,
    adjudicator: ADJUDICATOR,
    identity: bob,
    validators: testValidators,
    handlers: testHandlers(),
    ...overrides,
  });
  cleanups.push(() => server.close());
  return server;
}

async function connect(url: string, overrides: Partial<ConnectOptions<TestMessages>> = {}): Promise<PeerConnection<TestMessages>> {
  const connection = await connectPeer<TestMessages>(url, {
    chainId: CHAIN_ID,
    adjudicator: ADJUDICATOR,
    identity: alice,
    validators: testValidators,
    handlers: testHandlers(),
    ...overrides,
  });
  cleanups.push(() => connection.close());
  return connection;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  expect.fail("expected a rejection");
}

/** A bare `ws` client that reads frames one at a time. */
class RawClient {
  readonly ws: WebSocket;
  private readonly frames: Frame[] = [];
  private waiting: ((f: Frame) => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on("message", (data) => {
      const frame = JSON.parse(text(data)) as Frame;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(frame);
      } else this.frames.push(frame);
    });
    this.ws.on("error", () => undefined);
    this.closed = new Promise((resolve) => this.ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })));
    cleanups.push(() => this.ws.terminate());
  }

  static async open(url: string): Promise<RawClient> {
    const client = new RawClient(url);
    await new Promise((resolve, reject) => {
      client.ws.once("open", resolve);
      client.ws.once("error", reject);
    });
    return client;
  }

  next(timeoutMs = 3_000): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no frame")), timeoutMs);
      this.waiting = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
    });
  }

  send(data: string | Buffer | object, binary = false): void {
    this.ws.send(typeof data === "string" || Buffer.isBuffer(data) ? data : JSON.stringify(data), { binary });
  }

  /** Sends `data` and returns the error frame it provokes. */
  async expectError(data: string | Buffer | object, binary = false): Promise<{ id?: number | string; code: string; message: string }> {
    this.send(data, binary);
    const frame = await this.next();
    expect(frame.type).to.equal("error");
    return { id: frame.id, code: frame.body!.code as string, message: frame.body!.message as string };
  }

  /** Runs the client side of the handshake by hand; returns the hello and the auth it sent. */
  async handshake(
    key: Hex,
    tweak: (auth: Record<string, unknown>, hello: Record<string, unknown>) => void = () => undefined,
  ): Promise<{ hello: Record<string, unknown>; auth: Record<string, unknown> }> {
    const hello = await this.next();
    expect(hello.type).to.equal("hello");
    const body = hello.body!;
    const clientNonce: Hex = `0x${"ab".repeat(32)}`;
    const identity = keyIdentity(key);
    const digest = handshakeDigest({
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      serverNonce: body.nonce as Hex,
      clientNonce,
      role: "client",
    });
    const auth: Record<string, unknown> = {
      protocol: body.protocol,
      chainId: CHAIN_ID.toString(),
      adjudicator: ADJUDICATOR,
      nonce: clientNonce,
      address: identity.address,
      signature: await identity.sign(digest),
    };
    tweak(auth, body);
    this.send({ type: "auth", body: auth });
    return { hello: body, auth };
  }
}

/**
 * Keeps an authenticated peer busy with requests until stopped; resolves with how many succeeded
 * (it throws on the first failure).
 */
function keepBusy(connection: PeerConnection<TestMessages>): { stop: () => Promise<number> } {
  let running = true;
  let ok = 0;
  const loop = (async () => {
    while (running) {
      const answers = await Promise.all([0, 1, 2, 3].map((i) => connection.request("echo", { n: ok + i })));
      answers.forEach((a, i) => expect(a).to.deep.equal({ n: ok + i }));
      ok += answers.length;
      await new Promise((r) => setTimeout(r, 2));
    }
    return ok;
  })();
  return {
    stop: async () => {
      running = false;
      return loop;
    },
  };
}

/** The code a server-side attempt ended with: from "handshakeFailed", or the close reason of a connection. */
function serverSideOutcome(server: PeerServer<TestMessages>): Promise<string> {
  return new Promise((resolve) => {
    server.once("handshakeFailed", (error) => resolve((error as HandshakeError).code));
    server.once("connection", (connection) => void connection.closed.then((e) => resolve(e.reason)));
  });
}

// ------------------------------------------------------------------ handshake

describe("transport: handshake", () => {
  it("authenticates both sides and lets either side request", async () => {
    const server = await startServer();
    const serverSide = new Promise<PeerConnection<TestMessages>>((resolve) => server.once("connection", resolve));
    const client = await connect(server.url);
    const accepted = await serverSide;
    expect(client.peerAddress).to.equal(bob.address);
    expect(client.localAddress).to.equal(alice.address);
    expect(accepted.peerAddress).to.equal(alice.address);
    expect(accepted.role).to.equal("server");
    expect(await client.request("echo", { n: 1 })).to.deep.equal({ n: 1 });
    expect(await accepted.request("echo", { n: 2 })).to.deep.equal({ n: 2 });
    expect(server.port).to.be.greaterThan(0);
    expect(server.connections.size).to.equal(1);
  });

  it("binds the digest to chain, contract, both nonces and role", () => {
    const base: HandshakeContext = {
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      serverNonce: `0x${"11".repeat(32)}`,
      clientNonce: `0x${"22".repeat(32)}`,
      role: "client",
    };
    const digests = new Set([
      handshakeDigest(base),
      handshakeDigest({ ...base, chainId: 1n }),
      handshakeDigest({ ...base, adjudicator: OTHER_ADJUDICATOR }),
      handshakeDigest({ ...base, serverNonce: `0x${"33".repeat(32)}` }),
      handshakeDigest({ ...base, clientNonce: `0x${"33".repeat(32)}` }),
      handshakeDigest({ ...base, role: "server" }),
    ]);
    expect(digests.size).to.equal(6);
  });

  const rejections: Array<{
    what: string;
    server?: Partial<PeerServerOptions<TestMessages>>;
    client?: Partial<ConnectOptions<TestMessages>>;
    code: string;
    remote: boolean;
  }> = [
    { what: "a client signing with another key than its address", client: { identity: { address: alice.address, sign: (digest) => carol.sign(digest) } }, code: ErrorCode.HANDSHAKE_FAILED, remote: true },
    { what: "a server signing with another key than its address", server: { identity: { address: bob.address, sign: (digest) => carol.sign(digest) } }, code: ErrorCode.HANDSHAKE_FAILED, remote: false },
    { what: "a client on another chain", client: { chainId: 1n }, code: ErrorCode.CHAIN_MISMATCH, remote: false },
    { what: "a client with another adjudicator", client: { adjudicator: OTHER_ADJUDICATOR }, code: ErrorCode.ADJUDICATOR_MISMATCH, remote: false },
    { what: "a server other than the expected peer", client: { expectedPeer: carol.address }, code: ErrorCode.PEER_REJECTED, remote: false },
    { what: "a client the server's policy refuses", server: { acceptPeer: (a) => Promise.resolve(a === carol.address) }, code: ErrorCode.PEER_REJECTED, remote: true },
  ];
  for (const row of rejections) {
    it(`rejects ${row.what} with ${row.code}`, async () => {
      const server = await startServer(row.server);
      const serverOutcome = serverSideOutcome(server);
      const error = await rejection(connect(server.url, row.client));
      expect(error).to.be.instanceOf(HandshakeError);
      expect((error as HandshakeError).code).to.equal(row.code);
      expect((error as HandshakeError).remote).to.equal(row.remote);
      // The server side ends too, with the same code: a failed handshake when the server refused,
      // a close with the code as reason when the client refused the server's proof (the server
      // had already sent its welcome).
      expect(await serverOutcome).to.equal(row.code);
      await new Promise((r) => setTimeout(r, 10));
      expect(server.connections.size).to.equal(0);
    });
  }

  it("rejects a replayed handshake signature (fresh server nonce per session)", async () => {
    const server = await startServer();
    const first = await RawClient.open(server.url);
    const { auth } = await first.handshake(KEYS.alice);
    expect((await first.next()).type).to.equal("welcome");

    const second = await RawClient.open(server.url);
    const hello = await second.next();
    expect(hello.body!.nonce).to.not.equal(undefined);
    const error = await second.expectError({ type: "auth", body: auth });
    expect(error.code).to.equal(ErrorCode.HANDSHAKE_FAILED);
    expect(error.message).to.match(/does not prove address/);
    expect((await second.closed).code).to.equal(1008);
  });

  it("rejects a client that reflects the server nonce", async () => {
    const server = await startServer();
    const raw = await RawClient.open(server.url);
    await raw.handshake(KEYS.alice, (auth, hello) => (auth.nonce = hello.nonce));
    const error = await raw.next();
    expect(error.body!.code).to.equal(ErrorCode.HANDSHAKE_FAILED);
    expect(error.body!.message).to.match(/repeats the server nonce/);
  });

  it("the server refuses a client claiming another chain or contract", async () => {
    const server = await startServer();
    const wrongChain = await RawClient.open(server.url);
    await wrongChain.handshake(KEYS.alice, (auth) => (auth.chainId = "1"));
    const chainError = await wrongChain.next();
    expect(chainError.body!.code).to.equal(ErrorCode.CHAIN_MISMATCH);
    expect(chainError.body!.message).to.include("chain 1").and.include("chain 31337");
    const wrongContract = await RawClient.open(server.url);
    await wrongContract.handshake(KEYS.alice, (auth) => (auth.adjudicator = OTHER_ADJUDICATOR));
    expect((await wrongContract.next()).body!.code).to.equal(ErrorCode.ADJUDICATOR_MISMATCH);
  });

  it("closes a connection that never completes the handshake, while serving another peer", async () => {
    const server = await startServer({ handshakeTimeoutMs: 300 });
    const good = await connect(server.url);
    const busy = keepBusy(good);
    const failed = new Promise<unknown>((resolve) => server.once("handshakeFailed", resolve));
    const silent = await RawClient.open(server.url);
    expect((await silent.next()).type).to.equal("hello");
    const started = Date.now();
    const error = await silent.next(2_000);
    expect(error.body!.code).to.equal(ErrorCode.HANDSHAKE_TIMEOUT);
    expect(error.body!.message).to.include("300 ms");
    const closed = await silent.closed;
    expect(closed).to.deep.equal({ code: 1008, reason: ErrorCode.HANDSHAKE_TIMEOUT });
    expect(Date.now() - started).to.be.lessThan(1_000);
    expect(((await failed) as HandshakeError).code).to.equal(ErrorCode.HANDSHAKE_TIMEOUT);
    expect(await busy.stop()).to.be.greaterThan(0);
    expect(good.isOpen).to.equal(true);
  });

  it("gives up on a server that never says hello", async () => {
    const mute = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    cleanups.push(() => new Promise((r) => mute.close(r)));
    mute.on("connection", (ws) => cleanups.push(() => ws.terminate()));
    await new Promise((r) => mute.once("listening", r));
    const port = (mute.address() as { port: number }).port;
    const error = await rejection(connect(`ws://127.0.0.1:${port}`, { handshakeTimeoutMs: 200 }));
    expect(error).to.be.instanceOf(HandshakeError);
    expect((error as HandshakeError).code).to.equal(ErrorCode.HANDSHAKE_TIMEOUT);
  });

  it("reports a refused connection as ConnectFailedError", async () => {
    const server = await startServer();
    const url = server.url;
    await server.close();
    const error = await rejection(connect(url));
    expect(error).to.be.instanceOf(ConnectFailedError);
  });
});

// ------------------------------------------------------------------ authenticate

/** Two bare `ws` sockets connected over 127.0.0.1, and the server's TCP socket. */
async function socketPair(): Promise<{ server: WebSocket; serverSocket: Socket; client: WebSocket }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  cleanups.push(() => new Promise((r) => wss.close(r)));
  await new Promise((r) => wss.once("listening", r));
  const accepted = new Promise<{ server: WebSocket; serverSocket: Socket }>((resolve) =>
    wss.once("connection", (server, request) => resolve({ server, serverSocket: request.socket })),
  );
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  client.on("error", () => undefined);
  cleanups.push(() => client.terminate());
  const { server, serverSocket } = await accepted;
  server.on("error", () => undefined);
  cleanups.push(() => server.terminate());
  return { server, serverSocket, client };
}

function handshakeSettings(identity: HandshakeIdentity, handshakeTimeoutMs = 3_000) {
  return { chainId: CHAIN_ID, adjudicator: ADJUDICATOR, identity, handshakeTimeoutMs };
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: String(reason) })));
}

function nextFrame(ws: WebSocket): Promise<Frame> {
  return new Promise((resolve) => ws.once("message", (data) => resolve(JSON.parse(text(data)) as Frame)));
}

describe("transport: authenticate, before a connection exists", () => {
  it("proves each side's address to the other on bare sockets", async () => {
    const { server, client } = await socketPair();
    const [serverSide, clientSide] = await Promise.all([
      authenticate(server, "server", handshakeSettings(bob)),
      authenticate(client, "client", handshakeSettings(alice), { expectedPeer: bob.address }),
    ]);
    expect(serverSide.peer).to.equal(alice.address);
    expect(clientSide.peer).to.equal(bob.address);
  });

  const wrongPeers: Array<{ what: string; expectedPeer?: Address; accept?: (a: Address) => boolean; client: { code: string; remote: boolean }; server: string }> = [
    { what: "the client expected another server", expectedPeer: carol.address, client: { code: ErrorCode.PEER_REJECTED, remote: false }, server: ErrorCode.PEER_REJECTED },
    { what: "the server accepts only another client", accept: (a) => a === carol.address, client: { code: ErrorCode.PEER_REJECTED, remote: true }, server: ErrorCode.PEER_REJECTED },
  ];
  for (const row of wrongPeers) {
    it(`rejects a peer that proves the wrong address (${row.what}) with PEER_REJECTED and closes the socket`, async () => {
      const { server, client } = await socketPair();
      const clientClosed = closeOf(client);
      const serverSide = authenticate(server, "server", handshakeSettings(bob), { accept: row.accept }).then(
        () => "resolves",
        (error: unknown) => (error as HandshakeError).code,
      );
      const error = await rejection(authenticate(client, "client", handshakeSettings(alice), { expectedPeer: row.expectedPeer }));
      expect(error).to.be.instanceOf(HandshakeError);
      expect((error as HandshakeError).code).to.equal(row.client.code);
      expect((error as HandshakeError).remote).to.equal(row.client.remote);
      expect(await serverSide).to.equal(row.server);
      expect(await clientClosed).to.deep.equal({ code: 1008, reason: ErrorCode.PEER_REJECTED });
    });
  }

  it("rejects garbage before the handshake with BAD_JSON, an error frame and a 1008 close", async () => {
    const { server, client } = await socketPair();
    const serverSide = rejection(authenticate(server, "server", handshakeSettings(bob)));
    expect((await nextFrame(client)).type).to.equal("hello");
    const closed = closeOf(client);
    const reply = nextFrame(client);
    client.send("garbage{");
    const error = await serverSide;
    expect(error).to.be.instanceOf(HandshakeError);
    expect((error as HandshakeError).code).to.equal(ErrorCode.BAD_JSON);
    expect((error as HandshakeError).remote).to.equal(false);
    expect((await reply).body).to.include({ code: ErrorCode.BAD_JSON });
    expect(await closed).to.deep.equal({ code: 1008, reason: ErrorCode.BAD_JSON });
  });

  it("times out a peer that never answers with HANDSHAKE_TIMEOUT", async () => {
    const { server, client } = await socketPair();
    const closed = closeOf(client);
    const started = Date.now();
    const error = await rejection(authenticate(server, "server", handshakeSettings(bob, 150)));
    expect(error).to.be.instanceOf(HandshakeError);
    expect((error as HandshakeError).code).to.equal(ErrorCode.HANDSHAKE_TIMEOUT);
    expect(Date.now() - started).to.be.within(140, 1_000);
    expect((await closed).code).to.equal(1008);
  });

  it("fails a handshake still running when aborted", async () => {
    const { server } = await socketPair();
    const abort = new AbortController();
    const pending = rejection(authenticate(server, "server", handshakeSettings(bob), { signal: abort.signal }));
    abort.abort();
    expect(((await pending) as HandshakeError).code).to.equal(ErrorCode.HANDSHAKE_FAILED);
  });

  /** Bob's side of the handshake by hand, naming no address in its hello (as older servers do); returns the welcome. */
  async function handMadeServer(server: WebSocket): Promise<string> {
    const serverNonce: Hex = `0x${"cd".repeat(32)}`;
    const auth = nextFrame(server);
    server.send(JSON.stringify({ type: "hello", body: { protocol: "sluice/1", chainId: CHAIN_ID.toString(), adjudicator: ADJUDICATOR, nonce: serverNonce } }));
    const clientNonce = (await auth).body!.nonce as Hex;
    const signature = await bob.sign(handshakeDigest({ chainId: CHAIN_ID, adjudicator: ADJUDICATOR, serverNonce, clientNonce, role: "server" }));
    return JSON.stringify({ type: "welcome", body: { address: bob.address, signature } });
  }

  it("rejects at the welcome a server that proves another address than expected, when its hello named none", async () => {
    const { server, client } = await socketPair();
    const clientSide = rejection(authenticate(client, "client", handshakeSettings(alice), { expectedPeer: carol.address }));
    const closed = closeOf(client);
    server.send(await handMadeServer(server));
    const error = (await clientSide) as HandshakeError;
    expect(error.code).to.equal(ErrorCode.PEER_REJECTED);
    expect(error.message).to.include(`the server proved ${bob.address}`);
    expect(await closed).to.deep.equal({ code: 1008, reason: ErrorCode.PEER_REJECTED });
  });

  it("holds the frames right behind the handshake for the connection, in order", async () => {
    const { server, serverSocket, client } = await socketPair();
    const clientSide = authenticate(client, "client", handshakeSettings(alice));
    // The server side by hand: hello, then welcome and two frames in one TCP write.
    const welcome = await handMadeServer(server);
    serverSocket.cork();
    server.send(welcome);
    server.send(JSON.stringify({ type: "note", body: { n: 1 } }));
    server.send(JSON.stringify({ type: "note", body: { n: 2 } }));
    serverSocket.uncork();
    const authenticated = await clientSide;
    await new Promise((r) => setTimeout(r, 20));
    const handedOver: unknown[] = [];
    authenticated.handOver((data) => handedOver.push(JSON.parse(text(data))));
    server.send(JSON.stringify({ type: "note", body: { n: 3 } }));
    await new Promise((r) => setTimeout(r, 20));
    expect(handedOver).to.deep.equal([1, 2, 3].map((n) => ({ type: "note", body: { n } })));
  });
});

// ------------------------------------------------------------------ frames

describe("transport: bad frames", () => {
  it("answers frames before the handshake with an error and closes, while serving another peer", async () => {
    const server = await startServer();
    const good = await connect(server.url);
    const busy = keepBusy(good);
    const cases: Array<{ data: string | object; code: string; match: RegExp }> = [
      { data: "garbage{", code: ErrorCode.BAD_JSON, match: /not JSON/ },
      { data: { id: 1, type: "echo", body: { n: 1 } }, code: ErrorCode.NOT_AUTHENTICATED, match: /before the handshake/ },
      { data: { type: "auth", body: { n: 1 } }, code: ErrorCode.HANDSHAKE_FAILED, match: /auth: unknown key "n"/ },
      { data: { type: "auth", extra: 1 }, code: ErrorCode.BAD_ENVELOPE, match: /unknown key "extra"/ },
      { data: "x".repeat(5_000), code: ErrorCode.FRAME_TOO_LARGE, match: /5000 bytes exceeds/ },
    ];
    for (const c of cases) {
      const raw = await RawClient.open(server.url);
      expect((await raw.next()).type).to.equal("hello");
      const error = await raw.expectError(c.data);
      expect(error.code, JSON.stringify(c.data).slice(0, 40)).to.equal(c.code);
      expect(error.message).to.match(c.match);
      expect((await raw.closed).code).to.equal(1008);
    }
    expect(await busy.stop()).to.be.greaterThan(0);
    expect(good.isOpen).to.equal(true);
  });

  it("answers each bad frame of an authenticated peer with a clear error, changes nothing and keeps serving", async () => {
    const server = await startServer({ maxFrameBytes: 16 * 1024, maxPayloadBytes: 64 * 1024 });
    const good = await connect(server.url);
    const busy = keepBusy(good);
    const raw = await RawClient.open(server.url);
    await raw.handshake(KEYS.carol);
    expect((await raw.next()).type).to.equal("welcome");

    const cases: Array<{ what: string; data: string | object; binary?: boolean; code: string; id?: number | string; match: RegExp }> = [
      { what: "garbage", data: "\u0000not json", code: ErrorCode.BAD_JSON, match: /not JSON/ },
      { what: "a truncated object", data: '{"id":1,"type":"echo"', code: ErrorCode.BAD_JSON, match: /not JSON/ },
      { what: "a binary frame", data: Buffer.from("{}"), binary: true, code: ErrorCode.BAD_JSON, match: /binary frame/ },
      { what: "an array", data: "[1,2]", code: ErrorCode.BAD_ENVELOPE, match: /expected an object, got an array/ },
      { what: "null", data: "null", code: ErrorCode.BAD_ENVELOPE, match: /got null/ },
      { what: "a number", data: "42", code: ErrorCode.BAD_ENVELOPE, match: /got a number/ },
      { what: "no type", data: { id: 3 }, code: ErrorCode.BAD_ENVELOPE, id: 3, match: /envelope\.type/ },
      { what: "a numeric type", data: { id: 4, type: 7 }, code: ErrorCode.BAD_ENVELOPE, id: 4, match: /envelope\.type.*got a number/ },
      { what: "an unknown key", data: { id: 5, type: "echo", body: { n: 1 }, extra: true }, code: ErrorCode.BAD_ENVELOPE, id: 5, match: /unknown key "extra"/ },
      { what: "a __proto__ key", data: '{"id":6,"type":"echo","__proto__":{"x":1}}', code: ErrorCode.BAD_ENVELOPE, id: 6, match: /unknown key "__proto__"/ },
      { what: "a fractional id", data: { id: 1.5, type: "echo" }, code: ErrorCode.BAD_ENVELOPE, match: /envelope\.id/ },
      { what: "an object id", data: { id: { a: 1 }, type: "echo" }, code: ErrorCode.BAD_ENVELOPE, match: /envelope\.id/ },
      { what: "an unknown type", data: { id: 7, type: "steal", body: {} }, code: ErrorCode.UNKNOWN_TYPE, id: 7, match: /unknown message type "steal"/ },
      { what: "a prototype name as type", data: { id: 8, type: "constructor" }, code: ErrorCode.UNKNOWN_TYPE, id: 8, match: /"constructor"/ },
      { what: "a handshake frame after the handshake", data: { id: 9, type: "hello", body: {} }, code: ErrorCode.UNKNOWN_TYPE, id: 9, match: /"hello"/ },
      { what: "a body of the wrong type", data: { id: "s1", type: "echo", body: { n: "one" } }, code: ErrorCode.BAD_BODY, id: "s1", match: /echo\.n: expected a non-negative integer/ },
      { what: "a body with an extra field", data: { id: 10, type: "echo", body: { n: 1, x: 2 } }, code: ErrorCode.BAD_BODY, id: 10, match: /echo: unknown key "x"/ },
      { what: "a missing body", data: { id: 11, type: "echo" }, code: ErrorCode.BAD_BODY, id: 11, match: /expected an object, got a undefined/ },
      { what: "a result without id", data: { type: "result", body: {} }, code: ErrorCode.BAD_ENVELOPE, match: /needs the id/ },
      { what: "an oversized frame", data: { id: 12, type: "echo", body: { n: 1, pad: "x".repeat(20_000) } }, code: ErrorCode.FRAME_TOO_LARGE, match: /exceeds the limit of 16384 bytes/ },
    ];
    for (const c of cases) {
      const error = await raw.expectError(c.data, c.binary);
      expect(error.code, c.what).to.equal(c.code);
      expect(error.id, c.what).to.equal(c.id);
      expect(error.message, c.what).to.match(c.match);
    }
    // Nothing changed: no notes counted, the connection still answers requests.
    raw.send({ id: 13, type: "count" });
    expect(await raw.next()).to.deep.equal({ id: 13, type: "result", body: { notes: 0 } });
    raw.send({ id: "x", type: "echo", body: { n: 99 } });
    expect(await raw.next()).to.deep.equal({ id: "x", type: "result", body: { n: 99 } });

    // Above the hard payload limit ws closes the connection (1009); the other peer is untouched.
    raw.send({ id: 14, type: "echo", body: { n: 1, pad: "y".repeat(100_000) } });
    expect((await raw.closed).code).to.equal(1009);
    expect(await busy.stop()).to.be.greaterThan(0);
    expect(await good.request("echo", { n: 5 })).to.deep.equal({ n: 5 });
  });

  it("turns handler failures into error replies with the request's id", async () => {
    const server = await startServer();
    const client = await connect(server.url);
    const serverSide = [...server.connections][0];
    const internal = new Promise<unknown>((resolve) => serverSide.once("handlerError", (error) => resolve(error)));

    const app = await rejection(client.request("fail", { code: "INSUFFICIENT_FUNDS" }));
    expect(app).to.be.instanceOf(RemoteError);
    expect((app as RemoteError).code).to.equal("INSUFFICIENT_FUNDS");
    expect((app as RemoteError).detail).to.equal("asked to fail");

    const crash = await rejection(client.request("crash", {}));
    expect((crash as RemoteError).code).to.equal(ErrorCode.INTERNAL);
    expect((crash as RemoteError).message).to.not.include("secret");
    expect(String(await internal)).to.include("secret internal detail");

    const unserializable = await rejection(client.request("bigint", {}));
    expect((unserializable as RemoteError).code).to.equal(ErrorCode.INTERNAL);

    const badBody = await rejection(client.request("echo", { n: -1 }));
    expect((badBody as RemoteError).code).to.equal(ErrorCode.BAD_BODY);
    expect((badBody as RemoteError).detail).to.include("echo.n");

    expect(await client.request("echo", { n: 3 })).to.deep.equal({ n: 3 });
  });

  it("delivers notifications and reports a failed one as a peerError", async () => {
    const server = await startServer();
    const client = await connect(server.url);
    for (let n = 0; n < 5; n++) client.notify("note", { n });
    const peerError = new Promise<RemoteError>((resolve) => client.once("peerError", resolve));
    client.notify("note", { n: "bad" });
    const error = await peerError;
    expect(error.code).to.equal(ErrorCode.BAD_BODY);
    expect(error.detail).to.include("note.n");
    expect(await client.request("count", {})).to.deep.equal({ notes: 5 });
  });

  it("refuses to send what it could not receive", async () => {
    const server = await startServer();
    const client = await connect(server.url);
    expect(await rejection(client.request("echo", { n: 1n }))).to.match(/can't encode the echo body/);
    expect(await rejection(client.request("result", {}))).to.match(/invalid message type/);
    expect(await rejection(client.request("echo", { n: 1, pad: "z".repeat(70_000) }))).to.match(/limit is 65536/);
  });
});

// ------------------------------------------------------------------ requests

describe("transport: requests", () => {
  it("pipelines 10,000 requests on one connection, answered out of order and matched by id", async () => {
    const server = await startServer();
    const client = await connect(server.url);
    const order: number[] = [];
    const mismatched: number[] = [];
    const requests: Array<Promise<void>> = [];
    // Plain comparisons per answer: chai (with Hardhat's matchers) costs about 1 ms per deep.equal.
    for (let n = 0; n < 10_000; n++) {
      requests.push(
        client.request<{ n: number }>("shuffle", { n }).then((answer) => {
          if (answer.n !== n || Object.keys(answer).length !== 1) mismatched.push(n);
          order.push(n);
        }),
      );
    }
    expect(client.inFlight).to.equal(10_000);
    await Promise.all(requests);
    expect(mismatched).to.deep.equal([]);
    expect(order).to.have.length(10_000);
    const inversions = order.filter((n, i) => i > 0 && n < order[i - 1]).length;
    expect(inversions).to.be.greaterThan(1_000);
    expect(client.inFlight).to.equal(0);
  });

  it("validates answers when asked to", async () => {
    const server = await startServer();
    const client = await connect(server.url);
    const check = (body: unknown): number => {
      const n = (body as { n?: unknown }).n;
      if (typeof n !== "number") throw new TypeError("answer.n: expected a number");
      return n;
    };
    expect(await client.request("echo", { n: 4 }, { validate: check })).to.equal(4);
    expect(await rejection(client.request("count", {}, { validate: check }))).to.match(/answer\.n/);
  });

  it("times out a request and keeps the connection", async () => {
    const server = await startServer();
    const client = await connect(server.url, { requestTimeoutMs: 100 });
    const error = await rejection(client.request("slow", { ms: 400 }));
    expect(error).to.be.instanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).timeoutMs).to.equal(100);
    expect(await client.request("echo", { n: 1 })).to.deep.equal({ n: 1 });
    expect(await client.request("slow", { ms: 10 }, { timeoutMs: 1_000 })).to.deep.equal({ ms: 10 });
  });

  it("caps requests in flight with BackpressureError", async () => {
    const server = await startServer();
    const client = await connect(server.url, { maxInFlight: 10 });
    const inFlight = Array.from({ length: 10 }, (_, n) => client.request("shuffle", { n }));
    expect(await rejection(client.request("echo", { n: 0 }))).to.be.instanceOf(BackpressureError);
    await Promise.all(inFlight);
    expect(await client.request("echo", { n: 0 })).to.deep.equal({ n: 0 });
  });

  it("rejects pending requests with ConnectionClosedError on disconnect", async () => {
    const server = await startServer();
    const serverSide = new Promise<PeerConnection<TestMessages>>((resolve) => server.once("connection", resolve));
    const client = await connect(server.url);
    const pending = Array.from({ length: 50 }, () => rejection(client.request("slow", { ms: 5_000 })));
    await new Promise((r) => setTimeout(r, 20));
    await (await serverSide).close(1001, "going");
    for (const error of await Promise.all(pending)) {
      expect(error).to.be.instanceOf(ConnectionClosedError);
      expect((error as ConnectionClosedError).closeCode).to.equal(1001);
    }
    expect(client.isOpen).to.equal(false);
    expect(await rejection(client.request("echo", { n: 1 }))).to.be.instanceOf(ConnectionClosedError);
    expect(() => client.notify("note", { n: 1 })).to.throw(ConnectionClosedError);
  });
});

// ------------------------------------------------------------------ backpressure

/** An authenticated raw client (carol) and the server's side of its connection. */
async function rawPeer(server: PeerServer<TestMessages>): Promise<{ raw: RawClient; connection: PeerConnection<TestMessages> }> {
  const accepted = new Promise<PeerConnection<TestMessages>>((resolve) => server.once("connection", resolve));
  const raw = await RawClient.open(server.url);
  await raw.handshake(KEYS.carol);
  expect((await raw.next()).type).to.equal("welcome");
  return { raw, connection: await accepted };
}

/** Samples a number every millisecond until stopped; returns the largest. */
function sampleMax(read: () => number): { stop: () => number } {
  let max = 0;
  const timer = setInterval(() => (max = Math.max(max, read())), 1);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, read());
    },
  };
}

describe("transport: backpressure", () => {
  const MAX_BUFFERED = 64 * 1024;
  const PAD = "b".repeat(4_000);
  const COUNT = 5_000; // 20 MB: more than the kernel's socket buffers hold

  it("a sender facing a slow reader waits for the drain; nothing is lost or reordered", async function () {
    this.timeout(30_000);
    const server = await startServer({ maxBufferedBytes: MAX_BUFFERED });
    const { raw, connection } = await rawPeer(server);
    raw.ws.pause();
    let waits = 0;
    const buffered = sampleMax(() => connection.bufferedAmount);
    const sending = (async () => {
      for (let n = 0; n < COUNT; n++) {
        for (;;) {
          try {
            connection.notify("echo", { n, pad: PAD });
            break;
          } catch (error) {
            expect(error).to.be.instanceOf(BackpressureError);
            waits++;
            await connection.whenWritable();
          }
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(waits, "the sender waits while the reader is paused").to.be.greaterThan(0);
    raw.ws.resume();
    const received: number[] = [];
    for (let i = 0; i < COUNT; i++) received.push((await raw.next()).body!.n as number);
    await sending;
    expect(received.every((n, i) => n === i)).to.equal(true);
    expect(buffered.stop()).to.be.lessThan(MAX_BUFFERED + 2 * 4_100);
  });

  it("stops reading a peer that doesn't read its answers, and resumes on the drain", async function () {
    this.timeout(30_000);
    const server = await startServer({ maxBufferedBytes: MAX_BUFFERED });
    const { raw, connection } = await rawPeer(server);
    raw.ws.pause();
    const buffered = sampleMax(() => connection.bufferedAmount);
    for (let n = 0; n < COUNT; n++) raw.send({ id: n, type: "echo", body: { n, pad: PAD } });
    await new Promise((r) => setTimeout(r, 300));
    // Had the server kept reading, about COUNT × 4 kB of answers would wait in its buffer.
    expect(connection.bufferedAmount).to.be.lessThan(1024 * 1024);
    expect(raw.ws.bufferedAmount, "the client's requests back up while the server doesn't read").to.be.greaterThan(0);
    raw.ws.resume();
    const ids: unknown[] = [];
    for (let n = 0; n < COUNT; n++) {
      const answer = await raw.next();
      if (answer.type !== "result" || answer.body!.n !== n) expect.fail(`answer ${n}: ${JSON.stringify(answer).slice(0, 80)}`);
      ids.push(answer.id);
    }
    expect(ids.every((id, n) => id === n)).to.equal(true);
    expect(buffered.stop()).to.be.lessThan(1024 * 1024);
    raw.send({ id: "last", type: "echo", body: { n: 1 } });
    expect(await raw.next()).to.deep.equal({ id: "last", type: "result", body: { n: 1 } });
  });
});

// ------------------------------------------------------------------ reconnect

describe("transport: reconnect", () => {
  it("reconnects after the peer drops the connection and after the peer restarts", async () => {
    const server = await startServer();
    const peer = new ReconnectingPeer<TestMessages>(server.url, {
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      identity: alice,
      validators: testValidators,
      expectedPeer: bob.address,
      minDelayMs: 20,
      maxDelayMs: 100,
    });
    cleanups.push(() => peer.close());
    const events: string[] = [];
    peer.on("connected", (_c, reconnect) => events.push(reconnect ? "reconnected" : "connected"));
    peer.on("disconnected", () => events.push("disconnected"));
    peer.start();
    const first = await peer.waitForConnection();
    expect(await peer.request("echo", { n: 1 })).to.deep.equal({ n: 1 });

    // The server drops the connection.
    const reconnected = new Promise<PeerConnection<TestMessages>>((resolve) => peer.once("connected", resolve));
    await [...server.connections][0].close();
    const second = await reconnected;
    expect(second).to.not.equal(first);
    expect(await peer.request("echo", { n: 2 })).to.deep.equal({ n: 2 });

    // The server goes away and comes back on the same port.
    const port = server.port;
    const failures: unknown[] = [];
    peer.on("connectFailed", (error) => failures.push(error));
    await server.close();
    expect(await rejection(peer.request("echo", { n: 3 }))).to.be.instanceOf(ConnectionClosedError);
    await new Promise((r) => setTimeout(r, 150));
    const again = new Promise<PeerConnection<TestMessages>>((resolve) => peer.once("connected", resolve));
    await startServer({ port });
    await again;
    expect(await peer.request("echo", { n: 4 })).to.deep.equal({ n: 4 });
    expect(failures.length).to.be.greaterThan(0);
    expect(failures[0]).to.be.instanceOf(ConnectFailedError);
    expect(events).to.deep.equal(["connected", "disconnected", "reconnected", "disconnected", "reconnected"]);
  });
});

describe("transport: a peer that proves the wrong address", () => {
  it("is refused at the hello: the server never counts it as connected and keeps serving its other peers", async () => {
    const server = await startServer();
    const good = await connect(server.url);
    const busy = keepBusy(good);
    const connections: unknown[] = [];
    server.on("connection", (c) => connections.push(c));
    const failed = new Promise<unknown>((resolve) => server.once("handshakeFailed", resolve));
    const error = await rejection(connect(server.url, { expectedPeer: carol.address }));
    expect((error as HandshakeError).code).to.equal(ErrorCode.PEER_REJECTED);
    expect((error as HandshakeError).message).to.include(`the server is ${bob.address}`);
    const serverSide = (await failed) as HandshakeError;
    expect(serverSide.code).to.equal(ErrorCode.PEER_REJECTED);
    expect(serverSide.remote).to.equal(true);
    expect(connections).to.deep.equal([]);
    expect(await busy.stop()).to.be.greaterThan(0);
    expect(good.isOpen).to.equal(true);
    expect(server.connections.size).to.equal(1);
  });

  it("is redialled with a doubling delay, and no more after maxRejections refusals in a row", async () => {
    const server = await startServer();
    const good = await connect(server.url);
    const busy = keepBusy(good);
    let attempts = 0;
    server.on("handshakeFailed", () => attempts++);
    const peer = new ReconnectingPeer<TestMessages>(server.url, {
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      identity: alice,
      validators: testValidators,
      expectedPeer: carol.address,
      minDelayMs: 1,
      rejectedDelayMs: 40,
      maxRejections: 4,
    });
    cleanups.push(() => peer.close());
    const delays: number[] = [];
    peer.on("connectFailed", (error, _attempt, delayMs) => {
      expect((error as HandshakeError).code).to.equal(ErrorCode.PEER_REJECTED);
      delays.push(delayMs);
    });
    const gaveUp = new Promise<[HandshakeError, number]>((resolve) => peer.once("gaveUp", (error, n) => resolve([error, n])));
    peer.start();
    const [error, tried] = await gaveUp;
    expect(error.code).to.equal(ErrorCode.PEER_REJECTED);
    expect(tried).to.equal(4);
    // Each delay is its base (40, 80, 160 ms) with up to half of it taken off at random.
    expect(delays).to.have.length(3);
    delays.forEach((delay, i) => expect(delay).to.be.within(20 * 2 ** i, 40 * 2 ** i));
    expect(await rejection(peer.waitForConnection())).to.equal(error);
    await new Promise((r) => setTimeout(r, 200));
    expect(attempts, "no attempt after giving up").to.equal(4);
    expect(peer.gaveUpWith).to.equal(error);
    // The other peer was never disturbed.
    expect(await busy.stop()).to.be.greaterThan(0);
    expect(good.isOpen).to.equal(true);
    expect(server.connections.size).to.equal(1);
    // start() begins a new round, which ends the same way.
    const again = peer.start().waitForConnection();
    expect(((await rejection(again)) as HandshakeError).code).to.equal(ErrorCode.PEER_REJECTED);
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts).to.equal(8);
  });
});

// ------------------------------------------------------------------ separate process

describe("transport: peer in another process", () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  it("exchanges requests with a child process and sees it die (kill -9)", async function () {
    this.timeout(30_000);
    child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "fixtures", "transport-peer.ts")], {
      cwd: path.join(__dirname, "..", ".."),
      env: { ...process.env, PEER_KEY: KEYS.bob, PEER_CHAIN_ID: CHAIN_ID.toString(), PEER_ADJUDICATOR: ADJUDICATOR },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child!.once("exit", (_code, signal) => resolve(signal)));
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = "";
      child!.stdout!.on("data", (chunk) => {
        buffer += String(chunk);
        if (buffer.includes("\n")) resolve(buffer.split("\n")[0]);
      });
      child!.once("exit", (code) => reject(new Error(`peer exited with ${code}`)));
    });
    const info = JSON.parse(line) as { port: number; address: Address };
    expect(info.address).to.equal(bob.address);

    const client = await connect(`ws://127.0.0.1:${info.port}`, { expectedPeer: bob.address });
    expect(client.peerAddress).to.equal(bob.address);
    const answers = await Promise.all(Array.from({ length: 1_000 }, (_, n) => client.request<{ n: number }>("shuffle", { n })));
    expect(answers.filter((a, n) => a.n !== n)).to.deep.equal([]);

    const pending = rejection(client.request("slow", { ms: 10_000 }));
    const closed = client.closed;
    await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    expect(await exited).to.equal("SIGKILL");
    const closeError = await closed;
    expect(closeError).to.be.instanceOf(ConnectionClosedError);
    expect(closeError.closeCode).to.equal(1006);
    expect(await pending).to.be.instanceOf(ConnectionClosedError);
  });
});
