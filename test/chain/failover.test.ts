/**
 * FailoverProvider (src/chain/failover.ts) against small JSON-RPC servers: which endpoint a call
 * goes to, what counts as a failure, the chain-id checks, and the return to the preferred one.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { FailoverProvider, RpcChainMismatchError, RpcUnavailableError, redactUrl, type EndpointSwitch } from "../../src/chain/failover";

interface FakeEndpoint {
  url: string;
  /** answer: JSON-RPC results; drop: close the connection; revert: a JSON-RPC error reply. */
  mode: "answer" | "drop" | "revert";
  chainId: number;
  calls: string[];
  close(): Promise<void>;
}

async function fakeEndpoint(chainId = 31337): Promise<FakeEndpoint> {
  const endpoint = { mode: "answer" as FakeEndpoint["mode"], chainId, calls: [] as string[] };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const requests = [JSON.parse(body) as { id: number; method: string }].flat();
      for (const r of requests) endpoint.calls.push(r.method);
      if (endpoint.mode === "drop") {
        req.socket.destroy();
        return;
      }
      const answers = requests.map(({ id, method }) => {
        if (method === "eth_chainId") return { jsonrpc: "2.0", id, result: `0x${endpoint.chainId.toString(16)}` };
        if (endpoint.mode === "revert") return { jsonrpc: "2.0", id, error: { code: 3, message: "execution reverted", data: "0x" } };
        return { jsonrpc: "2.0", id, result: "0x2a" };
      });
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(Array.isArray(JSON.parse(body)) ? answers : answers[0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(endpoint, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

describe("FailoverProvider", function () {
  const opened: FakeEndpoint[] = [];
  const providers: FailoverProvider[] = [];
  const endpoint = async (chainId?: number) => {
    const e = await fakeEndpoint(chainId);
    opened.push(e);
    return e;
  };
  const connect = async (urls: string[], switches: EndpointSwitch[] = [], probeMs = 50) => {
    const provider = await FailoverProvider.connect(urls, { timeoutMs: 2_000, probeMs, onSwitch: (s) => switches.push(s) });
    providers.push(provider);
    return provider;
  };

  afterEach(async function () {
    for (const p of providers.splice(0)) p.destroy();
    await Promise.all(opened.splice(0).map((e) => e.close()));
  });

  it("sends every call to the first endpoint while it answers", async function () {
    const [a, b] = [await endpoint(), await endpoint()];
    const provider = await connect([a.url, b.url]);
    expect(await provider.getBlockNumber()).to.equal(42);
    expect(provider.states.map((s) => s.active)).to.deep.equal([true, false]);
    expect(b.calls).to.deep.equal(["eth_chainId"]);
  });

  it("moves to the next endpoint when the one in use drops, and back once the preferred answers", async function () {
    const [a, b] = [await endpoint(), await endpoint()];
    const switches: EndpointSwitch[] = [];
    const provider = await connect([a.url, b.url], switches);
    a.mode = "drop";
    expect(await provider.getBlockNumber()).to.equal(42);
    expect(provider.states.map((s) => [s.active, s.failures > 0])).to.deep.equal([
      [false, true],
      [true, false],
    ]);
    expect(switches).to.have.length(1);
    expect(switches[0]).to.include({ from: a.url, to: b.url });
    a.mode = "answer";
    const deadline = Date.now() + 5_000;
    while (!provider.states[0].active && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(provider.states[0].active, "back on the preferred endpoint").to.equal(true);
    expect(switches[1]).to.deep.equal({ from: b.url, to: a.url, reason: "recovered" });
  });

  it("passes a JSON-RPC error reply on: the chain's answer, not a failure of the endpoint", async function () {
    const [a, b] = [await endpoint(), await endpoint()];
    const provider = await connect([a.url, b.url]);
    a.mode = "revert";
    let caught: unknown;
    await provider.call({ to: "0x0000000000000000000000000000000000000001", data: "0x" }).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(Error);
    expect(provider.states[0]).to.include({ active: true, failures: 0 });
    expect(b.calls).to.deep.equal(["eth_chainId"]);
  });

  it("refuses at connect an endpoint of another chain, and throws when none answers", async function () {
    const [a, other] = [await endpoint(), await endpoint(5)];
    let caught: unknown;
    await connect([a.url, other.url]).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(RpcChainMismatchError);
    expect((caught as RpcChainMismatchError).chainId).to.equal(5n);
    a.mode = "drop";
    other.mode = "drop";
    caught = undefined;
    await connect([a.url, other.url]).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(RpcUnavailableError);
  });

  it("checks an endpoint that was down at connect before its first call, and never uses it if it serves another chain", async function () {
    const [a, late] = [await endpoint(), await endpoint(5)];
    late.mode = "drop";
    const provider = await connect([a.url, late.url]);
    late.mode = "answer";
    a.mode = "drop";
    let caught: unknown;
    await provider.getBlockNumber().catch((e: unknown) => (caught = e));
    expect(caught, "no endpoint of this chain answers").to.be.instanceOf(Error);
    expect(late.calls.filter((m) => m !== "eth_chainId"), "the other chain served no call").to.deep.equal([]);
    expect(provider.states[1].lastError).to.match(/serves chain 5/);
  });

  it("shows URLs without their path or query", function () {
    expect(redactUrl("https://mainnet.example.io/v3/secret-key?x=1")).to.equal("https://mainnet.example.io/…");
    expect(redactUrl("http://127.0.0.1:8545")).to.equal("http://127.0.0.1:8545");
  });
});
