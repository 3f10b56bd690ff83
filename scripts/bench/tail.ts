/**
 * Where the slowest payments of an open-loop run went: which of them overlapped a stall of either
 * node's event loop, a garbage-collection pause or a slow group commit (a disk flush). Both node
 * processes stamp their events with the wall clock (performance.timeOrigin + now, sub-millisecond),
 * which they share on one machine.
 */
import { quantile } from "./load";

/** Something that held a node process's event loop: a GC pause or a group commit. */
export interface LoopEvent {
  kind: "gc" | "commit";
  /** Start, ms since the Unix epoch. */
  at: number;
  ms: number;
}

/** One process's events during a run. */
export interface StallCounts {
  gcPauses: number;
  gcMs: { p50: number; max: number };
  commits: number;
  commitMs: { p50: number; p99: number; max: number };
  /** Commits that took `thresholdMs` or more. */
  slowCommits: number;
}

export interface TailAttribution {
  /** A GC pause or a commit counts as a stall from this long. */
  thresholdMs: number;
  /** Payments at or above the run's p99 latency. */
  slow: number;
  /** How many of them overlapped a stall of either process, by kind. */
  overlapping: { gcOnly: number; commitOnly: number; both: number; neither: number };
  payer: StallCounts;
  payee: StallCounts;
}

const round = (x: number): number => Math.round(x * 100) / 100;

function counts(events: LoopEvent[], thresholdMs: number): StallCounts {
  const gc = events.filter((e) => e.kind === "gc").map((e) => e.ms).sort((a, b) => a - b);
  const commits = events.filter((e) => e.kind === "commit").map((e) => e.ms).sort((a, b) => a - b);
  return {
    gcPauses: gc.length,
    gcMs: { p50: round(quantile(gc, 0.5)), max: round(gc[gc.length - 1] ?? 0) },
    commits: commits.length,
    commitMs: { p50: round(quantile(commits, 0.5)), p99: round(quantile(commits, 0.99)), max: round(commits[commits.length - 1] ?? 0) },
    slowCommits: commits.filter((ms) => ms >= thresholdMs).length,
  };
}

/**
 * Attributes the payments at or above the p99 of `latencies` (each due at the matching `dueAt`,
 * ms since the epoch) to the stalls of the two processes that overlapped them.
 */
export function attributeTail(dueAt: number[], latencies: number[], payer: LoopEvent[], payee: LoopEvent[], thresholdMs = 1): TailAttribution {
  if (dueAt.length !== latencies.length) throw new Error(`tail: ${dueAt.length} due times for ${latencies.length} latencies`);
  const p99 = quantile([...latencies].sort((a, b) => a - b), 0.99);
  const stalls = [...payer, ...payee].filter((e) => e.ms >= thresholdMs);
  const overlapping = { gcOnly: 0, commitOnly: 0, both: 0, neither: 0 };
  let slow = 0;
  latencies.forEach((latency, i) => {
    if (latency < p99) return;
    slow++;
    const from = dueAt[i];
    const to = from + latency;
    const hit = stalls.filter((e) => e.at < to && e.at + e.ms > from);
    const gc = hit.some((e) => e.kind === "gc");
    const commit = hit.some((e) => e.kind === "commit");
    if (gc && commit) overlapping.both++;
    else if (gc) overlapping.gcOnly++;
    else if (commit) overlapping.commitOnly++;
    else overlapping.neither++;
  });
  return { thresholdMs, slow, overlapping, payer: counts(payer, thresholdMs), payee: counts(payee, thresholdMs) };
}

/** One line: how the slowest payments split by the stalls they overlapped, and the stalls of each process. */
export function describeTail(t: TailAttribution): string {
  const o = t.overlapping;
  const side = (name: string, c: StallCounts) =>
    `${name} ${c.gcPauses} GC pauses (p50 ${c.gcMs.p50}, max ${c.gcMs.max} ms), ${c.slowCommits} of ${c.commits} commits ≥ ${t.thresholdMs} ms (p50 ${c.commitMs.p50}, p99 ${c.commitMs.p99} ms)`;
  return `${t.slow} payments overlapped a GC pause only ${o.gcOnly}, a commit ≥ ${t.thresholdMs} ms only ${o.commitOnly}, both ${o.both}, neither ${o.neither}; ${side("payer", t.payer)}; ${side("payee", t.payee)}`;
}
