/**
 * The hot path at 1,000 payments/s offered, one payment per state: CPU per payment on each side
 * and the p99, beside the machine's floor in the same run; with HOTPATH_PROFILE=1 each node
 * process runs under the CPU profiler and its top functions over the run are printed.
 *
 *   npx ts-node --transpile-only scripts/bench/hotpath.ts [runs] [seconds]
 *
 * HOTPATH_CONCURRENCY=n: a closed loop of n payments in flight instead (n = 1: one payment per state
 * however loaded the machine is; 256: the throughput).
 * HOTPATH_ROOTS=<dir>,<dir>: a pair of node processes from each checkout's build (dist/), their
 * runs interleaved, so two builds are compared under the same load on a shared machine.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { startChain } from "./chain";
import { machineFloor } from "./floor";
import { openPair as ownOpenPair, WARM_UP, type Pair } from "./oneChannel";
import { summarizeProfile } from "./profile";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(" ");

type OpenPair = typeof ownOpenPair;

/** `openPair` of the checkout at `root` (its Harness runs that checkout's dist/). */
function openPairOf(root: string | undefined): OpenPair {
  if (!root) return ownOpenPair;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(path.join(path.resolve(root), "scripts", "bench", "oneChannel")) as { openPair: OpenPair }).openPair;
}

interface Cpu {
  userUs: number;
  systemUs: number;
}

interface Series {
  label: string;
  pair: Pair;
  payer: number[];
  payee: number[];
  p99: number[];
  perState: number[];
  window?: [number, number];
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 8);
  const profile = process.env.HOTPATH_PROFILE === "1";
  const concurrency = Number(process.env.HOTPATH_CONCURRENCY ?? 0);
  const roots = process.env.HOTPATH_ROOTS ? process.env.HOTPATH_ROOTS.split(",") : [undefined];
  const chain = await startChain();
  const work = mkdtempSync(path.join(tmpdir(), "sluice-hotpath-"));
  const series: Series[] = [];
  try {
    for (const [i, root] of roots.entries()) {
      const dir = path.join(work, `pair${i}`);
      const pair = await openPairOf(root)(chain, dir, [8 + 2 * i, 9 + 2 * i], profile);
      series.push({ label: root ?? "this checkout", pair, payer: [], payee: [], p99: [], perState: [] });
      await pair.pay({ ...WARM_UP, total: 5_000 });
      await pair.pay({ mode: "open", rate: 1_000, seconds: 2 });
    }
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const s of series) {
        const cpu = () => Promise.all([s.pair.h0.call<Cpu>("cpu"), s.pair.h1.call<Cpu>("cpu")]);
        const before = await cpu();
        const r = await s.pair.pay(concurrency > 0 ? { mode: "closed", concurrency, total: seconds * (concurrency === 1 ? 500 : 5_000) } : { mode: "open", rate: 1_000, seconds });
        const after = await cpu();
        const split = [0, 1].map((i) => `${Math.round((after[i].userUs - before[i].userUs) / r.done)}/${Math.round((after[i].systemUs - before[i].systemUs) / r.done)}`);
        s.window ??= r.windowUs;
        s.payer.push(r.cpuUsPerPayment!);
        s.payee.push(r.peerCpuUsPerPayment!);
        s.p99.push(r.latencyMs.p99);
        const states = r.peerGroupCommits?.writes ?? 0;
        s.perState.push(states > 0 ? r.done / states : NaN);
        console.log(`run ${i + 1} ${s.label}: done ${r.done} failed ${r.failed}, CPU ${r.cpuUsPerPayment} + ${r.peerCpuUsPerPayment} µs (user/system ${split.join(" + ")}), ${Math.round(r.perSecond)}/s, p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, ${(r.done / Math.max(1, states)).toFixed(2)} payments per payee write; load ${load()}`);
      }
      const [f] = await machineFloor([{ rate: 1_000, burnUs: 0 }], seconds);
      floor.push(f.latencyMs.p99);
      console.log(`run ${i + 1} floor: p99 ${f.latencyMs.p99} ms; load ${load()}`);
    }
    for (const s of series) {
      console.log(`medians ${s.label}: CPU ${median(s.payer)} + ${median(s.payee)} µs, p99 ${median(s.p99)} ms (floor ${median(floor)} ms: ${(median(s.p99) / median(floor)).toFixed(2)}×), ${median(s.perState).toFixed(2)} payments per state`);
    }
    if (profile) {
      for (const [i, s] of series.entries()) {
        await s.pair.h0.stop();
        await s.pair.h1.stop();
        for (const dir of ["prof", "prof1"]) {
          const d = path.join(work, `pair${i}`, dir);
          const file = readdirSync(d).find((f) => f.endsWith(".cpuprofile"));
          if (!file) continue;
          const p = summarizeProfile(path.join(d, file), s.window, 45);
          console.log(`\n== ${s.label} ${dir}: window ${p.windowMs} ms, idle ${p.idlePercent} %, gc ${p.gcPercent} %`);
          for (const a of p.byArea) console.log(`  ${a.area}: ${a.selfMs} ms`);
          for (const t of p.top) console.log(`  ${t.selfMs} ms ${t.function} ${t.where}`);
        }
      }
    }
  } finally {
    for (const s of series) s.pair.kill();
    await chain.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
