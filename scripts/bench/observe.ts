/**
 * What watching a node costs on the payment path (issue 16): payments per second on one channel
 * at 256 in flight (two harness processes, payments on the node object, as the channel section),
 * each node also serving its local HTTP API, in four conditions:
 *
 *   off      the metrics neither follow the event log nor time the commits (the reference)
 *   plain    the metrics on, nobody watching
 *   sse      plain, and a subscriber on the payee's `GET /v1/events` (in the bench's process)
 *   webhook  plain, and a webhook on the payee posting its payment events (in batches) to a receiver in the bench's process
 *   scraped  plain, and `GET /metrics` of both nodes scraped every 100 ms
 *
 * The conditions take turns, in a rotating order, `repeats` times; each one's median is compared
 * with the reference's median of the same invocation (the machine's speed drifts between runs).
 */
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { subscribeEvents } from "../../src/node/api/eventClient";
import type { BenchChain } from "./chain";
import type { LoadReport } from "./harness";
import { openPair, WARM_UP, type Pair } from "./oneChannel";

export const CONDITIONS = ["off", "plain", "sse", "webhook", "scraped"] as const;
export type Condition = (typeof CONDITIONS)[number];

export interface ObserveScale {
  /** Payments per run. */
  total: number;
  concurrency: number;
  /** Runs of each condition. */
  repeats: number;
  scrapeMs: number;
}

export interface ObserveRun {
  condition: Condition;
  perSecond: number;
  failed: number;
  latencyMs: LoadReport["latencyMs"];
  cpuUsPerPayment?: number;
  peerCpuUsPerPayment?: number;
  /** sse, webhook: the payee's payment events the subscriber or the receiver got during the run. */
  eventsReceived?: number;
  /** scraped: scrapes answered, and the size of the last one (bytes). */
  scrapes?: number;
  scrapeBytes?: number;
  /** webhook: the requests the receiver got during the run (each a batch of events). */
  requests?: number;
  /** The machine's 1-minute load average when the run ended. */
  loadAverage?: number;
}

export interface ObserveResult {
  runs: ObserveRun[];
  /**
   * Each condition's median payments/s, and its ratio to the reference's (`off`) and to `plain`;
   * the median CPU per payment of both processes (µs, payer + payee) and its ratio to `off`'s:
   * steadier than payments/s when other work shares the machine.
   */
  medians: Record<Condition, { perSecond: number; vsOff: number; vsPlain: number; cpuUs: number; cpuVsOff: number }>;
}

interface Api {
  url: string;
  token: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function scrape(api: Api): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } }, (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`GET /metrics: ${res.statusCode}`))));
    });
    req.on("error", reject);
  });
}

/** Scrapes every API in `apis` every `ms` until stopped; resolves with the scrapes done and the last size. */
function startScraper(apis: Api[], ms: number): () => Promise<{ scrapes: number; bytes: number }> {
  let scrapes = 0;
  let bytes = 0;
  let failure: Error | undefined;
  const timer = setInterval(() => {
    for (const api of apis) {
      scrape(api).then(
        (size) => {
          scrapes++;
          bytes = size;
        },
        (error: unknown) => (failure ??= error instanceof Error ? error : new Error(String(error))),
      );
    }
  }, ms);
  return () => {
    clearInterval(timer);
    return failure === undefined ? Promise.resolve({ scrapes, bytes }) : Promise.reject(failure);
  };
}

/** Follows the payee's event stream from `after` until stopped; resolves with the events received. */
function startSubscriber(api: Api, after: bigint): () => Promise<number> {
  const abort = new AbortController();
  let received = 0;
  const done = (async () => {
    for await (const event of subscribeEvents(api, { after, signal: abort.signal, reconnect: false })) {
      if (event.type === "payment.received") received++;
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) throw error;
  });
  return async () => {
    // Let the stream deliver what the run wrote, then stop it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    abort.abort();
    await done;
    return received;
  };
}

function post(api: Api, method: string, body: object): Promise<{ id: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(
      `${api.url}/v1/${method}`,
      { method: "POST", headers: { authorization: `Bearer ${api.token}`, "content-type": "application/json", "content-length": Buffer.byteLength(text) } },
      (res) => {
        let reply = "";
        res.on("data", (chunk: Buffer) => (reply += chunk.toString("utf8")));
        res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(reply) as { id: string }) : reject(new Error(`POST /v1/${method}: ${res.statusCode} ${reply}`))));
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

/** A receiver in this process and a webhook of the payee's node posting to it until stopped; resolves with the payment events delivered. */
async function startWebhook(api: Api): Promise<() => Promise<{ events: number; requests: number }>> {
  let received = 0;
  let requests = 0;
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      requests++;
      for (const event of (JSON.parse(body) as { events: { type: string }[] }).events) if (event.type === "payment.received") received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as { port: number }).port;
  const hook = await post(api, "addwebhook", { url: `http://127.0.0.1:${port}/hook`, events: ["payment.received"] });
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await post(api, "removewebhook", { id: hook.id });
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    return { events: received, requests };
  };
}

async function runCondition(pair: Pair, apis: [Api, Api], condition: Condition, scale: ObserveScale): Promise<ObserveRun> {
  for (const [h, node] of [[pair.h0, 0], [pair.h1, 0]] as const) await h.call("metrics", { node, follow: condition !== "off" });
  const stopScraper = condition === "scraped" ? startScraper(apis, scale.scrapeMs) : undefined;
  const stopSubscriber = condition === "sse" ? startSubscriber(apis[1], BigInt(await pair.h1.call<string>("lastEvent", { node: 0 }))) : undefined;
  const stopWebhook = condition === "webhook" ? await startWebhook(apis[1]) : undefined;
  const r = await pair.pay({ mode: "closed", total: scale.total, concurrency: scale.concurrency, timeline: false });
  const loadAverage = Math.round(loadavg()[0] * 100) / 100;
  const scraped = await stopScraper?.();
  const delivered = await stopWebhook?.();
  const eventsReceived = (await stopSubscriber?.()) ?? delivered?.events;
  return {
    condition,
    perSecond: r.perSecond,
    failed: r.failed,
    latencyMs: r.latencyMs,
    cpuUsPerPayment: r.cpuUsPerPayment,
    peerCpuUsPerPayment: r.peerCpuUsPerPayment,
    loadAverage,
    ...(eventsReceived === undefined ? {} : { eventsReceived }),
    ...(delivered === undefined ? {} : { requests: delivered.requests }),
    ...(scraped === undefined ? {} : { scrapes: scraped.scrapes, scrapeBytes: scraped.bytes }),
  };
}

export async function observeBench(chain: BenchChain, scale: ObserveScale, log: (s: string) => void): Promise<ObserveResult> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-observe-"));
  let pair: Pair | undefined;
  try {
    // BENCH_OBSERVE_PROFILE=1 runs both harness processes under --cpu-prof (kept with BENCH_KEEP=1);
    // BENCH_OBSERVE_CONDITIONS=plain,webhook runs only those (profile one condition at a time).
    const profile = process.env.BENCH_OBSERVE_PROFILE === "1";
    const conditions = process.env.BENCH_OBSERVE_CONDITIONS ? (process.env.BENCH_OBSERVE_CONDITIONS.split(",") as Condition[]) : [...CONDITIONS];
    for (const c of conditions) if (!CONDITIONS.includes(c)) throw new Error(`unknown condition ${c}; conditions: ${CONDITIONS.join(", ")}`);
    pair = await openPair(chain, work, [10, 11], profile);
    const apis: [Api, Api] = [await pair.h0.call<Api>("api", { node: 0 }), await pair.h1.call<Api>("api", { node: 0 })];
    await pair.pay({ ...WARM_UP, total: Math.min(5_000, scale.total) });
    const runs: ObserveRun[] = [];
    for (let round = 0; round < scale.repeats; round++) {
      // A rotating order, so that no condition always runs first (a fresh store) or last.
      const order = conditions.map((_, i) => conditions[(i + round) % conditions.length]);
      for (const condition of order) {
        const run = await runCondition(pair, apis, condition, scale);
        runs.push(run);
        const requests = run.requests !== undefined ? ` in ${run.requests} requests` : "";
        const extra = run.eventsReceived !== undefined ? `, ${run.eventsReceived} events ${condition === "sse" ? "streamed" : "delivered"}${requests}` : run.scrapes !== undefined ? `, ${run.scrapes} scrapes of ${run.scrapeBytes} bytes` : "";
        log(`  ${condition.padEnd(7)} ${run.perSecond.toFixed(0)} payments/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, CPU/payment ${run.cpuUsPerPayment} + ${run.peerCpuUsPerPayment} µs${extra}${run.failed ? `, ${run.failed} failed` : ""}, load ${run.loadAverage}`);
      }
    }
    const of = (c: Condition, value: (r: ObserveRun) => number) => median(runs.filter((r) => r.condition === c).map(value));
    const perSecond = (c: Condition) => of(c, (r) => r.perSecond);
    const cpu = (c: Condition) => of(c, (r) => (r.cpuUsPerPayment ?? NaN) + (r.peerCpuUsPerPayment ?? NaN));
    const medians = Object.fromEntries(
      CONDITIONS.map((c) => [
        c,
        { perSecond: Math.round(perSecond(c)), vsOff: round3(perSecond(c) / perSecond("off")), vsPlain: round3(perSecond(c) / perSecond("plain")), cpuUs: cpu(c), cpuVsOff: round3(cpu(c) / cpu("off")) },
      ]),
    ) as ObserveResult["medians"];
    for (const c of CONDITIONS) {
      const m = medians[c];
      log(`  median ${c.padEnd(7)} ${m.perSecond} payments/s: ${m.vsOff.toFixed(3)} × off, ${m.vsPlain.toFixed(3)} × plain; CPU ${m.cpuUs} µs per payment (both sides), ${m.cpuVsOff.toFixed(3)} × off`);
    }
    await pair.h0.stop();
    await pair.h1.stop();
    if (profile) log(`  CPU profiles in ${work}/prof (payer) and ${work}/prof1 (payee)${process.env.BENCH_KEEP ? "" : ": set BENCH_KEEP=1 to keep them"}`);
    return { runs, medians };
  } finally {
    pair?.kill();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
