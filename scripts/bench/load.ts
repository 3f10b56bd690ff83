/**
 * Load generators shared by the node harness (payments on the node object) and the API bench
 * (payments through the HTTP API): closed loop (a fixed number in flight) and open loop (sends
 * scheduled at fixed intervals whatever the answers do; latency counted from the scheduled time).
 */
import { performance } from "node:perf_hooks";

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
 * Open loop: payment i is due at t0 + i / rate and is sent at once when due (a late timer sends
 * every payment that became due meanwhile); its latency runs from the due time to its resolution,
 * so queueing in the sender counts. Runs `seconds` of schedule, then waits for the stragglers.
 */
export async function openLoop(rate: number, seconds: number, send: Send): Promise<LoadResult & { offered: number }> {
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let sent = 0;
  let settled = 0;
  const startUs = nowUs();
  const t0 = performance.now();
  let finish!: () => void;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const fire = (i: number, due: number): void => {
    send(i).then(
      () => {
        latencies.push(performance.now() - due);
        if (++settled === total) finish();
      },
      (error: unknown) => {
        failed++;
        firstError ??= String((error as Error)?.message ?? error);
        if (++settled === total) finish();
      },
    );
  };
  const tick = (): void => {
    const now = performance.now();
    while (sent < total) {
      const due = t0 + (sent * 1000) / rate;
      if (due > now) break;
      fire(sent, due);
      sent++;
    }
    if (sent < total) {
      const wait = t0 + (sent * 1000) / rate - performance.now();
      if (wait >= 1) setTimeout(tick, Math.floor(wait));
      else setImmediate(tick);
    }
  };
  tick();
  await allDone;
  const elapsed = (performance.now() - t0) / 1000;
  return { offered: rate, done: latencies.length, failed, firstError, seconds: elapsed, latencies, windowUs: [startUs, nowUs()] };
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(latencies: number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const at = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  let sum = 0;
  for (const x of sorted) sum += x;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    count: sorted.length,
    p50: r(at(0.5)),
    p90: r(at(0.9)),
    p99: r(at(0.99)),
    max: r(sorted.length ? sorted[sorted.length - 1]! : 0),
    mean: r(sorted.length ? sum / sorted.length : 0),
  };
}
