/** One webhook request: a POST of a JSON body, with a deadline for the whole exchange. */
import http from "node:http";
import https from "node:https";

/** Connections kept open between requests (one set per worker; `destroy` closes them). */
export class Connections {
  private readonly http = new http.Agent({ keepAlive: true });
  private readonly https = new https.Agent({ keepAlive: true });

  for(url: URL): http.Agent {
    return url.protocol === "https:" ? this.https : this.http;
  }

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** How a request ended: the receiver's status, or why there was none. */
export type PostOutcome = { status: number } | { error: string } | { aborted: true };

/** The most of a receiver's answer read (the rest is dropped: only its status counts). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs `body` to `url` and resolves when the answer has been read, or with the error, or after
 * `timeoutMs` (the whole exchange, connecting included). Never rejects. `signal` cancels it (the
 * node stopping, the endpoint removed).
 */
export function postJson(url: URL, body: string | Buffer, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal, connections: Connections): Promise<PostOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const request = (url.protocol === "https:" ? https : http).request(url, {
      method: "POST",
      agent: connections.for(url),
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    const deadline = setTimeout(() => {
      settle({ error: `no answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    const onAbort = () => {
      settle({ aborted: true });
      request.destroy();
    };
    signal.addEventListener("abort", onAbort);
    request.on("error", (error) => settle({ error: error.message }));
    request.on("response", (response) => {
      let read = 0;
      response.on("data", (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) {
          settle({ status: response.statusCode ?? 0 });
          request.destroy();
        }
      });
      response.on("end", () => settle({ status: response.statusCode ?? 0 }));
      response.on("error", (error) => settle({ error: error.message }));
    });
    if (signal.aborted) onAbort();
    else request.end(body);
  });
}
