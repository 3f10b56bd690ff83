/**
 * Load generators shared by the node harness (payments on the node object) and the API bench
 * (payments through the HTTP API): closed loop (a fixed number in flight) and open loop (sends
 * scheduled at fixed intervals whatever the answers do; latency counted from the scheduled time).
 */
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

/** Sends payment number `i`; resolves when the payment is done (countersigned and on disk). */
export type Send = (i: number) => Promise<unknown>;

export interface LoadResult {
  /** Payments that resolved. */
  done: number;
  failed: number;
  firstError?: string;
  /** Wall time from the first send to the last resolution (s). */
  seconds: number;
  /** Latency of each resolved payment (ms). */
  latencies: number[];
  /** Open loop: when each of those payments was due (ms since the Unix epoch), in the same order. */
  dueAt?: number[];
  /** process.hrtime window of the run (µs), to cut a CPU profile to it. */
  windowUs: [number, number];
}

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** Keeps `concurrency` payments in flight until `total` have been sent and have resolved. */
export async function closedLoop(total: number, concurrency: number, send: Send): Promise<LoadResult> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const startUs = nowUs();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const start = performance.now();
      try {
        await send(i);
        latencies.push(performance.now() - start);
      } catch (error) {
        failed++;
        firstError ??= String((error as Error)?.message ?? error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { done: latencies.length, failed, firstError, seconds, latencies, windowUs: [startUs, nowUs()] };
}

/**
 * The open loop's clock: a worker thread that sleeps (Atomics.wait, sub-millisecond) until each
 * payment is due and then posts its index, so the event loop running the node sleeps between
 * sends. (Timers in Node have a 1 ms granularity; spinning the loop with setImmediate instead
 * kept the paying process busy between sends, and on 2 cores that CPU came out of both nodes.)
 */
const METRONOME = `
const { parentPort, workerData } = require("node:worker_threads");
const { total, rate } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => performance.timeOrigin + performance.now();
const t0 = now() + 2;
parentPort.postMessage({ t0 });
for (let i = 0; i < total; i++) {
  const wait = t0 + (i * 1000) / rate - now();
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  parentPort.postMessage(i);
}
`;

/**
 * Open loop: payment i is due at t0 + i / rate and is sent when the metronome says it is due
 * (every payment due by then goes at once); its latency runs from the due time to its
 * resolution, so queueing in the sender counts. `lateness` is how long after its due time each
 * send started: the time the paying process's event loop took to take up the metronome's
 * message. Runs `seconds` of schedule, then waits for the stragglers.
 */
export async function openLoop(rate: number, seconds: number, send: Send): Promise<LoadResult & { offered: number; lateness: number[] }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let sent = 0;
  let settled = 0;
  const startUs = nowUs();
  let t0 = 0;
  const lateness: number[] = [];
  const dueAt: number[] = [];
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const fire = (i: number, due: number): void => {
    send(i).then(
      () => {
        latencies.push(performance.now() - due);
        dueAt.push(performance.timeOrigin + due);
        if (++settled === total) finish();
      },
      (error: unknown) => {
        failed++;
        firstError ??= String((error as Error)?.message ?? error);
        if (++settled === total) finish();
      },
    );
  };
  // The worker's clock starts when it is running (starting a worker takes milliseconds).
  const metronome = new Worker(METRONOME, { eval: true, workerData: { total, rate } });
  metronome.on("message", (due: number | { t0: number }) => {
    if (typeof due !== "number") {
      t0 = due.t0 - performance.timeOrigin;
      return;
    }
    const now = performance.now();
    while (sent <= due) {
      const dueTime = t0 + (sent * 1000) / rate;
      lateness.push(now - dueTime);
      fire(sent, dueTime);
      sent++;
    }
  });
  const stopped = new Promise<void>((resolve, reject) => {
    metronome.once("exit", () => resolve());
    metronome.once("error", reject);
  });
  await Promise.all([allDone, stopped]); // a metronome that fails ends the run instead of leaving it waiting
  const elapsed = (performance.now() - t0) / 1000;
  return { offered: rate, done: latencies.length, failed, firstError, seconds: elapsed, latencies, dueAt, lateness, windowUs: [startUs, nowUs()] };
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The value at quantile `p` (0 to 1) of ascending `sorted`; 0 for none. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number): number => quantile(sorted, p);
  let sum = 0;
  for (const x of sorted) sum += x;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    count: sorted.length,
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    p99: r(at(0.99)),
    max: r(sorted.length ? sorted[sorted.length - 1] : 0),
    mean: r(sorted.length ? sum / sorted.length : 0),
  };
}
