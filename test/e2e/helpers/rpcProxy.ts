/**
 * An HTTP proxy in front of the chain's JSON-RPC endpoint that fails on demand: `pass` forwards,
 * `drop` closes the connection without an answer, `error` answers 503, `rpcError` answers a
 * JSON-RPC error (-32603), and `delayMs` holds every request that long before its mode applies.
 * It counts the requests it received in each mode.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ProxyMode = "pass" | "drop" | "error" | "rpcError";

export interface RpcProxy {
  url: string;
  mode: ProxyMode;
  delayMs: number;
  /** Requests received per mode since the start. */
  readonly received: Record<ProxyMode, number>;
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const received: Record<ProxyMode, number> = { pass: 0, drop: 0, error: 0, rpcError: 0 };
  const proxy = { mode: "pass" as ProxyMode, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const respond = () => {
        const mode = proxy.mode;
        received[mode]++;
        if (mode === "drop") {
          req.socket.destroy();
          return;
        }
        if (mode === "error") {
          res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable");
          return;
        }
        if (mode === "rpcError") {
          const error = { jsonrpc: "2.0", id: idOf(body), error: { code: -32603, message: "proxy: internal error" } };
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(error));
          return;
        }
        const forward = http.request(target, { method: "POST", headers: { "content-type": "application/json" } }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, { "content-type": "application/json" });
          answer.pipe(res);
        });
        forward.on("error", () => res.destroy());
        forward.end(body);
      };
      if (proxy.delayMs > 0) setTimeout(respond, proxy.delayMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The id of a JSON-RPC request (a batch: its first one's), so that the error answers it. */
function idOf(body: Buffer): unknown {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { id?: unknown } | { id?: unknown }[];
    return Array.isArray(parsed) ? (parsed[0]?.id ?? null) : (parsed.id ?? null);
  } catch {
    return null;
  }
}
