/**
 * Where a routed payment's time goes: the routed bench's hub, payers and payees (scripts/bench/routed.ts),
 * a few routed payments offered at a low rate, then each one's steps read back from the three
 * nodes' stores (the events and records each commit writes, unix ms) against when it was offered.
 *
 *   npx ts-node --transpile-only scripts/bench/routedTrace.ts [rate/s] [seconds] [pairs] [closed total] [in flight]
 *
 * Then, with a closed total, a closed loop of that many routed payments: payments/s and each
 * process's CPU per payment (ROUTED_TRACE_PROFILE=1: and each one's top functions).
 *
 * Each step's time is the store's clock at the group commit that wrote it (a millisecond's
 * resolution), so a step's share includes the round trips and queues before that commit.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import os from "node:os";
import path from "node:path";
import { startChain } from "./chain";
import type { Harness, LoadReport } from "./harness";
import { summarizeProfile } from "./profile";
import { makeInvoices, startRouted, type RoutedSetup } from "./routed";
import { stepBreakdown } from "./routedSteps";

/** Runs a load of routed payments: its report, and a line with payments/s, latency and each process's CPU per payment. */
async function withCpu<R extends LoadReport>(setup: RoutedSetup, load: () => Promise<R>): Promise<{ run: R; line: string }> {
  const processes = [
    ["hub", setup.hub],
    ["payers", setup.payers.h],
    ["payees", setup.payees.h],
  ] as const;
  const cpu = () => Promise.all(processes.map(([, h]) => h.call<{ userUs: number; systemUs: number; commits: { count: number; ms: number; writes: number } }>("cpu")));
  const before = await cpu();
  const load0 = os.loadavg()[0];
  const run = await load();
  const after = await cpu();
  const us = processes.map(([name], i) => `${name} ${Math.round((after[i].userUs + after[i].systemUs - before[i].userUs - before[i].systemUs) / Math.max(1, run.done))}`);
  const commits = processes.map(([name], i) => {
    const count = after[i].commits.count - before[i].commits.count;
    const ms = after[i].commits.ms - before[i].commits.ms;
    return `${name} ${count} (${((after[i].commits.writes - before[i].commits.writes) / Math.max(1, count)).toFixed(1)} writes, ${(ms / Math.max(1, count)).toFixed(2)} ms each, ${Math.round(ms)} ms)`;
  });
  return {
    run,
    line: `${run.perSecond.toFixed(0)} routed/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms${run.failed ? `, ${run.failed} FAILED: ${run.firstError}` : ""}; CPU µs per payment: ${us.join(", ")}; load average ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}; group commits: ${commits.join(", ")}`,
  };
}

function printProfile(dir: string, windowUs: LoadReport["windowUs"]): void {
  // The main thread's profile (a process's worker threads write theirs beside it, numbered after it).
  const file = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort()[0];
  if (!file) return;
  const p = summarizeProfile(path.join(dir, file), windowUs, 30);
  console.log(`\n${path.basename(dir)}: idle ${p.idlePercent.toFixed(1)} %, gc ${p.gcPercent.toFixed(1)} %`);
  for (const e of p.top) console.log(`  ${e.percent.toFixed(1).padStart(5)} %  ${e.function}  ${e.where}`);
}


async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 2);
  const seconds = Number(process.argv[3] ?? 10);
  const pairs = Number(process.argv[4] ?? 10);
  const chain = await startChain();
  const work = mkdtempSync(path.join(tmpdir(), "sluice-routed-trace-"));
  const harnesses: Harness[] = [];
  try {
    const profile = process.env.ROUTED_TRACE_PROFILE === "1" ? path.join(work, "prof") : undefined;
    const setup = await startRouted(chain, pairs, work, { harnesses, cpuProfDir: profile && path.join(profile, "hub"), profilePeers: profile });
    const total = Math.round(rate * seconds);
    const closedTotal = Number(process.argv[5] ?? 0);
    // Warm up (connections, caches, JIT): 300 payments, 64 at a time, as the bench's first runs do.
    const warm = Math.ceil(300 / pairs);
    const invoices = await makeInvoices(setup, Math.ceil((total + closedTotal) / pairs) + warm + 1);
    await setup.payers.h.call<LoadReport>("payInvoices", { payers: invoices.map((list, j) => [j, list.slice(0, warm)]), mode: "closed", total: warm * pairs, concurrency: 64 });
    if (process.env.ROUTED_TRACE_IDLE) {
      const idle = await withCpu(setup, () => new Promise<LoadReport>((resolve) => setTimeout(() => resolve({ done: 5, perSecond: 0, latencyMs: { p50: 0, p99: 0 } } as LoadReport), 5_000)));
      console.log(`idle 5 s, CPU µs per second: ${idle.line.split("CPU µs per payment: ")[1]}`);
    }
    const open = await withCpu(setup, () =>
      setup.payers.h.call<LoadReport & { dueAt: number[]; latencies: number[] }>("payInvoices", {
        payers: invoices.map((list, j) => [j, list.slice(warm)]),
        mode: "open",
        rate,
        seconds,
        timeline: true,
      }),
    );
    const run = open.run;
    const per = Math.ceil(closedTotal / pairs);
    const from = warm + Math.ceil(total / pairs);
    const inFlight = Number(process.argv[6] ?? 64);
    const closed =
      closedTotal > 0
        ? await withCpu(setup, () =>
            setup.payers.h.call<LoadReport>("payInvoices", { payers: invoices.map((list, j) => [j, list.slice(from, from + per)]), mode: "closed", total: closedTotal, concurrency: inFlight }),
          )
        : undefined;
    for (const h of harnesses) await h.stop();
    const profiled = closed ?? open;
    if (closed) console.log(`closed loop, ${inFlight} in flight: ${closed.line}; window (µs, the profiles' clock) ${closed.run.windowUs.join(",")}`);
    console.log(`open loop, ${rate}/s: ${open.line}`);
    if (profile) for (const name of ["hub", "payers", "payees"]) printProfile(path.join(profile, name), profiled.run.windowUs);

    const { payments, steps } = stepBreakdown(work, pairs, run.dueAt);
    console.log(`${payments} routed payments at ${rate}/s over ${pairs} pairs`);
    console.log("step (median ms since the step before; since offered)");
    for (const t of steps) console.log(`  ${t.step.padEnd(40)} ${t.sinceBefore.toFixed(1).padStart(7)} ${t.sinceOffered.toFixed(1).padStart(8)}`);
  } finally {
    for (const h of harnesses) h.kill();
    await chain.stop();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
