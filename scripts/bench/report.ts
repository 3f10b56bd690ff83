/**
 * docs/benchmarks.md from bench/results/*.json (and, where present, bench/results/before/*.json:
 * the same sections measured before a performance fix). Run alone to regenerate the page:
 * `ts-node --transpile-only scripts/bench/report.ts`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CpuFloor } from "./cpuFloor";
import type { FloorRun } from "./floor";
import type { LoadReport } from "./harness";
import type { HubResult } from "./hub";
import type { RoutedResult, RoutedRun } from "./routed";
import type { CryptoResult, MerkleResult } from "./micro";
import type { ObserveResult, ObserveRun, ObserveScale } from "./observe";
import type { OneChannelResult, Scale } from "./oneChannel";
import type { ProfileSummary } from "./profile";
import type { StallCounts } from "./tail";

const ROOT = path.resolve(__dirname, "..", "..");
/** BENCH_OUT=<dir>: results and the report go there instead (a smoke run that leaves the published figures alone). */
const OUT = process.env.BENCH_OUT ? path.resolve(process.env.BENCH_OUT) : undefined;
export const RESULTS_DIR = OUT ?? path.join(ROOT, "bench", "results");
const BEFORE_DIR = path.join(ROOT, "bench", "results", "before");
export const REPORT_FILE = OUT ? path.join(OUT, "benchmarks.md") : path.join(ROOT, "docs", "benchmarks.md");
const DOC = REPORT_FILE;

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** The gas section: a channel day against direct ERC-20 transfers (scripts/bench/index.ts). */
export interface GasResult {
  channel: OneChannelResult["gas"] & { channelDay: bigint; channelDayWithApprovals: bigint };
  transfer: { toHolder: bigint; toFreshAddress: bigint };
  breakEven: { vsTransfersToHolders: number; vsTransfersToHoldersWithApprovals: number; vsTransfersToFreshAddresses: number };
}

/** What each section's file holds besides the machine (scripts/bench/index.ts writes them). */
export interface Sections {
  crypto: { crypto: CryptoResult };
  floor: { seconds: number; runs: FloorRun[]; cpuFloor?: CpuFloor };
  merkle: { merkle: MerkleResult };
  channel: { scale: Scale; latencyScale?: Scale; result: OneChannelResult["node"]; profile: ProfileSummary | null; peerProfile: ProfileSummary | null };
  api: { scale: Scale; result: OneChannelResult["api"] };
  hub: { result: HubResult };
  routed: { result: RoutedResult };
  observe: { scale: ObserveScale; result: ObserveResult };
  gas: { gas: GasResult };
}

/** A value as JSON.stringify wrote it to a result file: bigints as decimal strings. */
type Stored<T> = T extends bigint ? string : T extends (infer U)[] ? Stored<U>[] : T extends object ? { [K in keyof T]: Stored<T[K]> } : T;

type Machine = ReturnType<typeof machine> & { loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
/** A section's file in bench/results/. */
export type SectionFile<S extends keyof Sections> = Stored<Sections[S]> & { section: S; machine: Machine };
/** A latency run as the report reads it (the API's runs have no CPU window). */
type Run = Stored<Omit<LoadReport, "windowUs">>;
const hasGroupCommits = <R extends Run>(x: R): x is R & { groupCommits: NonNullable<Run["groupCommits"]> } => x.groupCommits !== undefined;

function read<S extends keyof Sections>(dir: string, name: S): SectionFile<S> | undefined {
  const file = path.join(dir, `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as SectionFile<S>) : undefined;
}

const n0 = (x: number | string | undefined) => (x === undefined ? "–" : Math.round(Number(x)).toLocaleString("en-US"));
const ms = (x: number | undefined) => (x === undefined ? "–" : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString("en-US"));
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const mark = (ok: boolean) => (ok ? "**met**" : "**missed**");

/**
 * The sections whose run started with more runnable processes than cores (the 1-minute load
 * average): their latencies and CPU per payment measure the other work on the machine as much as
 * Sluice, so a latency or CPU target is not judged from them.
 */
function overloaded(...sections: ({ machine: Machine } | undefined)[]): string | undefined {
  const busy = sections.filter((x): x is { machine: Machine } => x !== undefined && x.machine.loadAverageAtStart[0] > x.machine.cpus);
  if (busy.length === 0) return undefined;
  const load = Math.max(...busy.map((x) => x.machine.loadAverageAtStart[0]));
  return `**not judged**: run with a load average of ${load} on ${busy[0].machine.cpus} cores`;
}

function where(r: { machine: Machine }): string {
  const m = r.machine;
  return `${m.date.slice(0, 16).replace("T", " ")} UTC, load average ${m.loadAverageAtStart.join(" / ")} at start, ${m.loadAverageAtEnd.join(" / ")} at end`;
}

function latencyRow(label: string, r: Run): string {
  const l = r.latencyMs;
  return `| ${label} | ${n0(r.perSecond)} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.max)} | ${r.cpuUsPerPayment ?? "–"}${r.peerCpuUsPerPayment !== undefined ? ` + ${r.peerCpuUsPerPayment}` : ""} |`;
}

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Which stalls the slowest 1 % of each latency run overlapped (scripts/bench/tail.ts). */
function tailTable(runs: Run[]): string[] {
  const withTail = runs.flatMap((x) => (x.tail ? [{ offered: x.offered, tail: x.tail }] : []));
  if (!withTail.length) return [];
  const t0 = withTail[0].tail;
  const side = (c: StallCounts) => `${c.gcPauses} (${ms(c.gcMs.p50)} / ${ms(c.gcMs.max)}) | ${c.slowCommits} of ${n0(c.commits)} (${ms(c.commitMs.p50)} / ${ms(c.commitMs.p99)})`;
  return [
    "**Where the slowest 1 % went.** Each node process stamps its garbage-collection pauses and its group commits with the wall",
    `clock; a payment at or above its run's p99 is put down to the stalls (a GC pause, or a commit of ${t0.thresholdMs} ms or more: a slow`,
    "flush of the disk) that overlapped it in either process, from its due time to its end. \"Neither\" is a stall this does not see:",
    "the scheduler, a wake-up, queueing behind other payments.",
    "",
    `| offered /s | slowest | GC pause only | slow commit only | both | neither | payer: GC pauses (p50 / max ms) | payer: commits ≥ ${t0.thresholdMs} ms (p50 / p99 ms) | payee: GC pauses | payee: commits ≥ ${t0.thresholdMs} ms |`,
    "|---|---|---|---|---|---|---|---|---|---|",
    ...withTail.map((x) => {
      const o = x.tail.overlapping;
      return `| ${n0(x.offered)} | ${x.tail.slow} | ${o.gcOnly} | ${o.commitOnly} | ${o.both} | ${o.neither} | ${side(x.tail.payer)} | ${side(x.tail.payee)} |`;
    }),
    "",
  ];
}

/** How the slowest payments of `runs` split between slow commits and GC pauses (either or both), as sentences. */
function tailSentences(runs: Run[]): string[] {
  const tails = runs.flatMap((x) => (x.tail ? [x.tail] : []));
  if (!tails.length) return [];
  const slow = tails.reduce((n, t) => n + t.slow, 0);
  const share = (f: (o: (typeof tails)[number]["overlapping"]) => number) => pct(tails.reduce((n, t) => n + f(t.overlapping), 0) / slow);
  return [
    `  Of the ${slow} slowest payments of the 1,000/s runs (at or above each run's p99), ${share((o) => o.commitOnly + o.both)} overlapped a commit of a`,
    `  millisecond or more in one of the two processes (a slow flush of the disk), ${share((o) => o.gcOnly + o.both)} a garbage-collection pause, and`,
    `  ${share((o) => o.neither)} neither (see "Where the slowest 1 % went" above).`,
  ];
}

/** How much of each run the commits held the payer's and the payee's event loops, as sentences. */
function commitShareSentences(runs: Run[]): string[] {
  const range = (pick: (x: Run) => Run["groupCommits"]) => {
    const shares = runs.flatMap((x) => {
      const commits = pick(x);
      return commits ? [commits.msBlocked / 1000 / x.seconds] : [];
    });
    return shares.length ? `${pct(Math.min(...shares))}–${pct(Math.max(...shares))}` : undefined;
  };
  const payer = range((x) => x.groupCommits);
  const payee = range((x) => x.peerGroupCommits);
  if (!payer || !payee) return [];
  return [
    `  At 1,000/s the commits (better-sqlite3 is synchronous, and most of a commit is waiting for the flush) hold the payer's`,
    `  event loop ${payer} of the time and the payee's ${payee}, so a slow flush also delays the payments queued behind it.`,
  ];
}

/** The floor's runs at `rate` with no busy loop, or with the one of about a Sluice round's CPU (600 µs per side or more). */
function floorRunsAt(floor: SectionFile<"floor"> | undefined, rate: number, busy: "none" | "sluice"): Stored<FloorRun>[] {
  return (floor?.runs ?? []).filter((r) => r.offered === rate && (busy === "none" ? !r.burnUs : r.burnUs >= 600));
}

/** The 1,000/s runs of a channel result (several, on their own processes; one in results from before). */
function runsAt(channel: SectionFile<"channel"> | undefined, rate: number): Run[] {
  const runs: Run[] = channel?.result.latency ?? channel?.result.open ?? [];
  return runs.filter((r) => r.offered === rate);
}

/** "median X ms (a–b over n runs)" of the p99s (or p50s) of some runs. */
function spread<R>(runs: R[], pick: (r: R) => number): string {
  const xs = runs.map(pick);
  if (xs.length === 1) return `${ms(xs[0])} ms`;
  return `${ms(median(xs))} ms (${ms(Math.min(...xs))}–${ms(Math.max(...xs))} over ${xs.length} runs)`;
}

/** The routed section: the hub's throughput and latency, routed beside direct, and where the hub's CPU went. */
function routedSection(file: SectionFile<"routed">): string[] {
  const r = file.result;
  const s = r.summary;
  const loads = (runs: Stored<RoutedRun>[]) => (runs.every((x) => x.loadAverage !== undefined) ? runs.map((x) => x.loadAverage!.toFixed(1)).join(", ") : "–");
  const byProcess = (runs: Stored<RoutedRun>[]) =>
    runs.every((x) => x.cpuUsPerPaymentByProcess !== undefined)
      ? (["payers", "payees"] as const).map((k) => n0(median(runs.map((x) => x.cpuUsPerPaymentByProcess![k])))).join(" / ")
      : "–";
  const row = (label: string, runs: Stored<RoutedRun>[]) =>
    `| ${label} | ${n0(median(runs.map((x) => x.perSecond)))}${runs.length > 1 ? ` (${n0(Math.min(...runs.map((x) => x.perSecond)))}–${n0(Math.max(...runs.map((x) => x.perSecond)))})` : ""} | ${spread(runs, (x) => x.latencyMs.p50)} | ${spread(runs, (x) => x.latencyMs.p99)} | ${n0(median(runs.map((x) => x.hubCpuUsPerPayment)))} | ${byProcess(runs)} | ${loads(runs)} |`;
  return [
    "## Routed payments through a hub",
    "",
    `Run ${where(file)}.`,
    "",
    `One hub node (routing on, fee ${r.fees.ppm / 10_000} % + ${r.fees.base} wei) in its own process with ${r.channels} channels (ETH): one to each of ${r.pairs} payers and`,
    `${r.pairs} payees, all separate \`SluiceNode\`s with their own keys, stores and WebSocket connections, the payers hosted together in one process and the`,
    "payees in another. Payer j pays payee j's invoices through the hub: the payer's lock to the hub, the hub's lock to the payee, the",
    "payee's unlock with the secret, the hub's unlock upstream; a payment counts when the payer's unlock is countersigned and stored.",
    `The ${n0(r.invoices.made)} invoices were made by the payees before the timed runs (${r.invoices.seconds.toFixed(1)} s). Beside each routed run, the same`,
    "payer process pays the hub directly over the same channels (one payment, no lock): the ratio is what the route costs. Medians of the runs.",
    "",
    "| load | payments/s | p50 ms | p99 ms | hub CPU µs per payment | payers' / payees' process CPU µs per payment | machine's load average at each run's end |",
    "|---|---|---|---|---|---|---|",
    ...r.closed.flatMap((c) => [row(`routed, closed, ${c.concurrency} in flight`, c.routed), row(`direct, closed, ${c.concurrency} in flight`, c.direct)]),
    ...(r.low ? [row(`routed, open, ${r.low.rate}/s offered`, r.low.routed), row(`direct, open, ${r.low.rate}/s offered`, r.low.direct)] : []),
    row(`routed, open, ${r.open.rate}/s offered`, r.open.routed),
    row(`direct, open, ${r.open.rate}/s offered`, r.open.direct),
    "",
    `Routed against direct: ${s.throughput.ratio.toFixed(2)}× the payments/s at ${s.throughput.concurrency} in flight; at ${r.open.rate}/s, ${s.at100.ratio.p50.toFixed(2)}× the p50 and ${s.at100.ratio.p99.toFixed(2)}× the p99` +
      (r.low && s.atLow ? `; at ${r.low.rate}/s (under the hub's capacity here), ${s.atLow.ratio.p50.toFixed(2)}× the p50 and ${s.atLow.ratio.p99.toFixed(2)}× the p99.` : "."),
    `A routed payment is two locks and two unlocks (four countersigned states, four group commits' share on the hub) where a direct one is one state:`,
    `the hub spends ${n0(s.hubCpuUsPerRouted)} µs of CPU per routed payment at ${s.throughput.concurrency} in flight.`,
    "",
    ...routedSteps(r),
    ...profileTable(r.profile, "Hub process profile over the fastest routed closed-loop run", 15),
  ];
}

/** Where a routed payment's time went, step by step (from the three nodes' stores), at the low rate and at the open loop's. */
function routedSteps(r: Stored<RoutedResult>): string[] {
  if (!r.steps || !r.low) return [];
  const { low, open } = r.steps;
  const cell = (x: number) => (Number.isNaN(x) ? "–" : x.toFixed(1));
  return [
    "Where a routed payment's time goes: each step is the group commit that wrote it, on the store's clock (1 ms resolution) in the node",
    "named, so a step's time includes the round trips and queues before that commit; medians over the routed payments of the open-loop runs.",
    "A payer that is participant 1 (as here) records its payment in the commit of the state that makes its lock.",
    "",
    `| step | ${r.low.rate}/s: ms since the step before | ${r.low.rate}/s: ms since offered | ${r.open.rate}/s: ms since the step before | ${r.open.rate}/s: ms since offered |`,
    "|---|---|---|---|---|",
    ...low.steps.map((t, i) => `| ${t.step} | ${cell(t.sinceBefore)} | ${cell(t.sinceOffered)} | ${cell(open.steps[i].sinceBefore)} | ${cell(open.steps[i].sinceOffered)} |`),
    "",
    `(${low.payments} payments at ${r.low.rate}/s, ${open.payments} at ${r.open.rate}/s. A step whose commit came before the one above it shows a negative time: the payee's paid invoice shares`,
    "the commit of the state it countersigns, the payer's finished payment the commit of its unlock, each before the hub stores its side.)",
    "",
  ];
}

/** The direct runs of the closed-loop row at `concurrency` (every direct closed run if there is none). */
function directAt(r: Stored<RoutedResult>, concurrency: number): Stored<RoutedRun>[] {
  const row = r.closed.find((c) => c.concurrency === concurrency);
  return row ? row.direct : r.closed.flatMap((c) => c.direct);
}

/** Why the routed targets are missed, when they are: where the hub's time goes per routed payment (from its profile). */
function routedMisses(r: Stored<RoutedResult>): string[] {
  const { summary: s, targets: t } = r;
  if (s.throughput.routed >= t.routedPerSecond && s.at100.routed.p50 <= t.p50Ms) return [];
  const top = (r.profile?.top ?? []).filter((x) => x.function !== "(idle)").slice(0, 3);
  return [
    `- **Routed payments.** ${n0(s.throughput.routed)} routed payments/s (target ${n0(t.routedPerSecond)}), p50 ${ms(s.at100.routed.p50)} ms at ${r.open.rate}/s offered (target ${t.p50Ms} ms${s.at100.routed.p50 <= t.p50Ms ? ": met in this run; under a loaded machine it moves, see the load average beside each run" : ""});`,
    `  the hub spends ${n0(s.hubCpuUsPerRouted)} µs of CPU per routed payment against ${n0(median(directAt(r, s.throughput.concurrency).map((x) => x.hubCpuUsPerPayment)))} µs per direct one at ${n0(s.throughput.concurrency)} in flight.` +
      (top.length ? ` Its profile's top entries: ${top.map((x) => `\`${x.function}\` (${x.where || "native"}) ${x.percent} %`).join(", ")}.` : ""),
    "  A routed payment is four countersigned states (two per channel), each stored by both its nodes before it counts, plus what only",
    "  routing needs: the payer checks the invoice's signature (a recovery), the hub writes and ends a forward, both unlocks store the",
    "  secret. Under deep load a state carries many updates, so the signatures are shared and what is left is per update: above all",
    "  SQLite's work (rows and their indexes, the write-ahead log) in each process's group commits, then garbage collection. At the",
    "  deepest row all three processes are busy on the 2 cores (the CPU columns add up to what one routed payment costs the machine); 2,000",
    "  routed payments/s needs that sum near 1,000 µs. The direct payments over the same channels, one update each, are the table's",
    "  reference.",
  ];
}

function profileTable(p: ProfileSummary | null, title: string, top = 15): string[] {
  if (!p) return [];
  const busy = 100 - p.idlePercent;
  const lines = [
    `${title}: ${ms(p.windowMs)} ms window, ${p.idlePercent} % idle (waiting for the peer, the disk or the scheduler), ${busy.toFixed(1)} % busy, of which garbage collection ${p.gcPercent} %.`,
    "",
    "| self time by area | % of window |",
    "|---|---|",
    ...p.byArea.filter((a) => a.area !== "(idle)").slice(0, 10).map((a) => `| ${a.area} | ${a.percent} |`),
    "",
    "| top functions (self time) | where | % of window |",
    "|---|---|---|",
    ...p.top
      .filter((t) => t.function !== "(idle)")
      .slice(0, top)
      .map((t) => `| \`${t.function}\` | ${t.where || "native"} | ${t.percent} |`),
    "",
  ];
  return lines;
}

export function writeReport(): void {
  const crypto = read(RESULTS_DIR, "crypto");
  const merkle = read(RESULTS_DIR, "merkle");
  const channel = read(RESULTS_DIR, "channel");
  const api = read(RESULTS_DIR, "api");
  const hub = read(RESULTS_DIR, "hub");
  const gas = read(RESULTS_DIR, "gas");
  const floor = read(RESULTS_DIR, "floor");
  const observe = read(RESULTS_DIR, "observe");
  const routed = read(RESULTS_DIR, "routed");
  const before = { channel: read(BEFORE_DIR, "channel"), hub: read(BEFORE_DIR, "hub"), observe: read(BEFORE_DIR, "observe") };
  const any = channel ?? floor ?? hub ?? crypto ?? merkle ?? api ?? gas;
  const m = any?.machine ?? machine();
  const L: string[] = [];
  L.push("# Benchmarks", "");
  L.push(
    `Generated by \`npm run bench\` (scripts/bench/) from the results in bench/results/. Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}.`,
    "Every figure below comes from a run on this machine; each section gives the time of its run and the load average then.",
    "**Timings vary from run to run**, by tens of per cent when other work shares the machine (the load average is the number of",
    "runnable processes: above 2 on 2 cores, the benchmark's processes waited for a core part of the time).",
    "",
  );

  // ---------------------------------------------------------------- summary
  const best = channel?.result.best.perSecond;
  const at1000Runs = runsAt(channel, 1000);
  const at1000 = at1000Runs.length ? { latencyMs: { p50: median(at1000Runs.map((r) => r.latencyMs.p50)), p99: median(at1000Runs.map((r) => r.latencyMs.p99)) } } : undefined;
  const floorAt1000 = floorRunsAt(floor, 1000, "none");
  const hubBest = hub?.result.best.perSecond;
  const append = merkle?.merkle.append;
  const proof = merkle?.merkle.proofMs;
  L.push("## Targets", "");
  L.push("| target | measured | |", "|---|---|---|");
  if (channel && best !== undefined) L.push(`| ≥ 5,000 countersigned, durably stored payments/s on one channel | ${n0(best)} payments/s (${channel.result.best.concurrency} in flight) | ${mark(best >= 5000)} |`);
  if (at1000) {
    const machineP99 = floorAt1000.length ? `; this machine with none of Sluice in the round: p99 ${spread(floorAt1000, (r) => r.latencyMs.p99)}` : "";
    const busy = overloaded(channel, floor);
    L.push(`| p99 ≤ 5 ms at 1,000 payments/s offered | p99 ${spread(at1000Runs, (r) => r.latencyMs.p99)}, p50 ${ms(at1000.latencyMs.p50)} ms${machineP99} | ${busy ?? mark(at1000.latencyMs.p99 <= 5)} |`);
    if (floorAt1000.length) {
      const ratio = at1000.latencyMs.p99 / median(floorAt1000.map((r) => r.latencyMs.p99));
      L.push(`| p99 at 1,000/s ≤ 2× the floor's p99 in the same run (medians) | ${ratio.toFixed(2)}× | ${busy ?? mark(ratio <= 2)} |`);
    }
    const cpu = [median(at1000Runs.map((r) => r.cpuUsPerPayment ?? Infinity)), median(at1000Runs.map((r) => r.peerCpuUsPerPayment ?? Infinity))];
    const parts = floor?.cpuFloor ? `; the floor of its parts measured alone (crypto, one commit, one round of the machine floor): ${floor.cpuFloor.floorUs[0]} + ${floor.cpuFloor.floorUs[1]} µs` : "";
    L.push(`| CPU per payment at 1,000/s offered ≤ 250 µs per side (median of the runs) | ${cpu[0]} µs payer + ${cpu[1]} µs payee${parts} | ${busy ?? mark(Math.max(...cpu) <= 250)} |`);
  }
  if (hubBest !== undefined) L.push(`| ≥ 5,000 payments/s through one hub with 100 channels | ${n0(hubBest)} payments/s | ${mark(hubBest >= 5000)} |`);
  if (routed) {
    const { summary: s, targets: t } = routed.result;
    L.push(`| ≥ ${n0(t.routedPerSecond)} routed payments/s through one hub (50 payers, 50 payees) | ${n0(s.throughput.routed)}/s (${s.throughput.concurrency} in flight; direct ${n0(s.throughput.direct)}/s) | ${mark(s.throughput.routed >= t.routedPerSecond)} |`);
    L.push(`| routed p50 ≤ ${t.p50Ms} ms at 100 routed payments/s offered | p50 ${ms(s.at100.routed.p50)} ms, p99 ${ms(s.at100.routed.p99)} ms (direct ${ms(s.at100.direct.p50)} / ${ms(s.at100.direct.p99)} ms) | ${mark(s.at100.routed.p50 <= t.p50Ms)} |`);
  }
  if (observe) {
    const { medians } = observe.result;
    // Results from before the webhook condition have none.
    const webhook = medians.webhook as ObserveResult["medians"]["webhook"] | undefined;
    // Metrics against none; a subscriber, a webhook and scrapes against the node as it runs (metrics on, nobody watching).
    const worst = Math.min(medians.plain.vsOff, medians.sse.vsPlain, medians.scraped.vsPlain, webhook?.vsPlain ?? 0);
    L.push(
      `| metrics cost ≤ 10 % of payments/s at 256 in flight (against metrics off), and so do an SSE subscriber, a webhook and a 100 ms scrape (against metrics on, nobody watching); medians | metrics ${medians.plain.vsOff.toFixed(3)}×; SSE ${medians.sse.vsPlain.toFixed(3)}×, webhook ${webhook === undefined ? "not run" : `${webhook.vsPlain.toFixed(3)}×`}, scraped ${medians.scraped.vsPlain.toFixed(3)}× | ${mark(worst >= 0.9)} |`,
    );
  }
  if (append) {
    const lo = Math.min(...append.map((a) => a.usPerAppend));
    const hi = Math.max(...append.map((a) => a.usPerAppend));
    const flat = append.length >= 2 && append[append.length - 1].usPerAppend <= append[0].usPerAppend * 2.5;
    L.push(`| Merkle append cost flat in n (O(log n)) | ${append.map((a) => `${a.usPerAppend} µs at 10^${Math.round(Math.log10(a.n))}`).join(", ")} (range ${lo}–${hi}) | ${mark(flat)} |`);
  }
  if (proof) L.push(`| a proof at 10^6 payments in ≤ 10 ms | p50 ${proof.p50} ms, p99 ${proof.p99} ms, max ${proof.max} ms at ${n0(merkle.merkle.proofAt)} payments | ${mark(proof.p99 <= 10 && merkle.merkle.proofAt >= 1e6)} |`);
  L.push("");
  L.push("Anchors, as published (not measured here): Lightning's best published benchmark, **89 payments/s at 1.1 s mean latency**", "(eclair; c-lightning 61, lnd 33); Raiden **164 transfers/s**; Kchannels claims **1,000 TPS**; go-nitro **84 ms to the first payment**.");
  if (best !== undefined) {
    L.push("", `One Sluice channel here: ${n0(best)} payments/s, ${(best / 89).toFixed(0)}× eclair's 89/s and ${(best / 164).toFixed(0)}× Raiden's 164/s` + (at1000 ? `; p50 latency ${ms(at1000.latencyMs.p50)} ms at 1,000/s offered against eclair's 1.1 s mean.` : "."));
  }
  L.push("");

  // ---------------------------------------------------------------- the limit
  if (crypto) {
    const c = crypto.crypto;
    L.push("## The limit: the cryptography alone", "", `Run ${where(crypto)}.`, "");
    L.push(
      `libsecp256k1 (the \`secp256k1\` npm package, native) on one core: **${n0(c.signsPerSecond)} signs/s** and **${n0(c.verifiesPerSecond)} verifications/s** (recovery and comparison with the known key, as the node checks a signature);`,
      `EIP-712 state digests ${n0(c.digestsPerSecond)}/s. A state costs two signatures and two verifications (each side signs it and checks the other's),`,
      `so with one payment per state one core doing nothing but that allows **${n0(c.paymentLimitOneCore)} payments/s** (${n0(c.paymentLimitWithDigests)} with the two digests).`,
      "",
    );
    const bestConcurrency = channel?.result.best.concurrency;
    const bestRun = channel?.result.closed.find((x) => x.concurrency === bestConcurrency);
    const perState = bestRun?.peerGroupCommits?.writes ? bestRun.done / bestRun.peerGroupCommits.writes : undefined;
    if (best !== undefined) {
      L.push(
        `The one-channel rate, ${n0(best)} payments/s, is ${pct(best / c.paymentLimitOneCore)} of that one-payment-per-state limit: under load participant 0 puts the payments`,
        `that arrive while its proposals are in flight into one state` +
          (perState ? ` (${perState.toFixed(1)} payments per state on average in the best run),` : ",") +
          " so the signatures are shared and the limit moves up by that factor. With one payment in flight every state carries one payment and the limit applies.",
        "",
      );
    }
  }

  // ---------------------------------------------------------------- one channel
  if (channel) {
    const r = channel.result;
    L.push("## One channel", "", `Run ${where(channel)}.`, "");
    L.push(
      "Two node processes on loopback WebSocket (authenticated peer transport), each with its own SQLite store (WAL, `synchronous = FULL`).",
      "Participant 0 pays; it signs each state (its version within a range of versions reserved on disk beforehand, so that no",
      "version is ever signed twice, even across a crash), participant 1 checks every payment in it, countersigns and stores it",
      "before its acknowledgement leaves, and participant 0 counts the payments once the countersigned state is on its disk.",
      "Participant 0 keeps up to two proposals in flight; the payments that arrive meanwhile wait and go together in the next state",
      "(at most 128). The writes are group-committed (one transaction and one fsync per turn of the event loop).",
      "Amounts in a stablecoin (MockERC20) channel. Payments are fired on the `SluiceNode` object in participant 0's process",
      "(scripts/bench/nodeHarness.ts): no HTTP in the path, everything else as in production.",
      "",
      "Closed loop (a fixed number of payments in flight; latency from send to done):",
      "",
      "| in flight | payments/s | p50 ms | p99 ms | max ms | CPU µs per payment (payer + payee) |",
      "|---|---|---|---|---|---|",
      ...r.closed.map((x) => latencyRow(String(x.concurrency), x)),
      "",
      `Open loop above 1,000/s (sends scheduled at fixed intervals, ${channel.scale.openSeconds} s each; latency from the scheduled time to done, so any queueing counts), to find the highest rate sustained:`,
      "",
      "| offered /s | achieved /s | p50 ms | p99 ms | max ms | CPU µs per payment |",
      "|---|---|---|---|---|---|",
      ...r.open.filter((x) => x.offered !== undefined && x.offered > 1000).map((x) => latencyRow(n0(x.offered), x)),
      "",
      r.sustained
        ? `Highest offered load sustained (achieved within 3 % of offered, p99 under 50 ms): **${n0(r.sustained.offered)}/s** (p50 ${ms(r.sustained.latencyMs.p50)} ms, p99 ${ms(r.sustained.latencyMs.p99)} ms, max ${ms(r.sustained.latencyMs.max)} ms).`
        : "No offered load above 1,000/s was sustained under the criterion (achieved within 3 % of offered, p99 under 50 ms).",
      "",
    );
    if (r.latency) {
      L.push(
        "### Latency at fixed offered loads",
        "",
        `On a fresh pair of node processes without the CPU profiler, after a warm-up; ${(channel.latencyScale ?? channel.scale).openSeconds} s of schedule per run. The sends are timed by a`,
        "metronome thread (scripts/bench/load.ts) that sleeps until each payment is due and wakes the paying process's event loop;",
        "\"late\" is how long after its due time a send started, because that loop was busy. Latency counts from the due time.",
        "",
        "| offered /s | achieved /s | p50 ms | p99 ms | max ms | sends late p50 / p99 ms | CPU µs per payment (payer + payee) |",
        "|---|---|---|---|---|---|---|",
        ...r.latency.map(
          (x) =>
            `| ${n0(x.offered)} | ${n0(x.perSecond)} | ${ms(x.latencyMs.p50)} | ${ms(x.latencyMs.p99)} | ${ms(x.latencyMs.max)} | ${x.latenessMs ? `${ms(x.latenessMs.p50)} / ${ms(x.latenessMs.p99)}` : "–"} | ${x.cpuUsPerPayment ?? "–"} + ${x.peerCpuUsPerPayment ?? "–"} |`,
        ),
        "",
      );
      L.push(...tailTable(r.latency));
    }
    if (floor) {
      L.push(
        "**The machine's floor for a round** (scripts/bench/floor.ts, run " + where(floor) + "): the same metronome drives two processes",
        "over loopback TCP with none of Sluice in between; the payee writes a 12 KiB record and fsyncs it before it answers, the payer",
        "does the same before the round counts: the two durable commits and two socket trips a payment needs, without the",
        "cryptography, the JSON, the WebSocket and SQLite.",
        "",
        "The last rows add a busy loop of the given length on each side per round: part of the CPU a Sluice round takes here (600 µs is",
        "about all of it). The floor does not batch: each round carries one payment, where Sluice puts what queued up into one state.",
        "",
        "| offered /s | CPU added per side per round | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        ...floor.runs.map((x) => `| ${n0(x.offered)} | ${x.burnUs ? `${x.burnUs} µs` : "none"} | ${ms(x.latencyMs.p50)} | ${ms(x.latencyMs.p99)} | ${ms(x.latencyMs.max)} |`),
        "",
      );
      const f = floor.cpuFloor;
      if (f) {
        L.push(
          `**The CPU floor of one payment per state** (scripts/bench/cpuFloor.ts, same run), per side, from its parts measured alone: the`,
          `cryptography of one state (a signature, a verification, the state digest, the payment leaf, the log append and its new root)`,
          `${f.cryptoUs} µs; one group commit of a countersigned state and its payment (SQLite, WAL, \`synchronous = FULL\`) ${f.commitUs} µs;`,
          `the machine floor's round at 1,000/s, ${f.roundUs[0]} µs in the payer's process (the bench's metronome included) and ${f.roundUs[1]} µs in the`,
          `payee's, less its fsync'd 12 KiB write (${f.fsyncWriteUs} µs alone). Together **${f.floorUs[0]} µs payer + ${f.floorUs[1]} µs payee**, without the`,
          "JSON, the WebSocket framing, the checks or the event log: what a payment per state costs here however lean the code around it.",
          "",
        );
      }
    }
    const single = r.closed.find((x) => x.concurrency === 1);
    if (single?.groupCommits && single.peerGroupCommits) {
      const c0 = single.groupCommits.msBlocked / Math.max(1, single.groupCommits.count);
      const c1 = single.peerGroupCommits.msBlocked / Math.max(1, single.peerGroupCommits.count);
      L.push(
        `With one payment in flight a commit took ${c0.toFixed(2)} ms on average in participant 0 and ${c1.toFixed(2)} ms in participant 1,`,
        `about ${(c0 + c1).toFixed(1)} ms of the ${ms(single.latencyMs.p50)} ms median; and each process spent about a millisecond of CPU per payment`,
        `(${single.cpuUsPerPayment} + ${single.peerCpuUsPerPayment} µs): the signature and the verification are a tenth of it, the rest is the fixed`,
        "cost of a round (the socket, the JSON, the checks, the commit, waking up), which batching shares only under load.",
        "",
      );
    }
    const withCommits = r.closed.filter(hasGroupCommits).filter((x) => x.concurrency > 1);
    if (withCommits.length) {
      L.push(
        "Group commit at work (payer's process): " +
          withCommits
            .map((x) => `${x.concurrency} in flight: ${x.peerGroupCommits?.writes ? (x.done / x.peerGroupCommits.writes).toFixed(1) : "–"} payments per state, ${(x.groupCommits.writes / Math.max(1, x.groupCommits.count)).toFixed(1)} writes per fsync, ${(x.groupCommits.msBlocked / Math.max(1, x.groupCommits.count)).toFixed(1)} ms per commit, ${((x.groupCommits.msBlocked / 1000 / x.seconds) * 100).toFixed(0)} % of the run blocked in commits`)
            .join("; ") +
          ".",
        "",
      );
    }
    L.push("### Where the time goes", "");
    L.push(
      `CPU profile (\`node --cpu-prof\`, summarized by scripts/bench/profile.ts) of each node process over the best closed-loop run (${r.best.concurrency} in flight).`,
      "",
    );
    L.push(...profileTable(channel.profile, "Participant 0 (payer, sequencer)"));
    L.push(...profileTable(channel.peerProfile, "Participant 1 (payee, countersigner)", 10));
  }
  if (before.channel) {
    const b = before.channel.result;
    const a = channel?.result;
    L.push(
      "### Before and after the fixes",
      "",
      `Before: run ${where(before.channel)}, with one payment per state and participant 0's signature written before each proposal left.`,
      "After: the run above, with batched states, at most two proposals in flight, and reserved versions (see the end of the page).",
      "Timings vary from run to run; the CPU per payment is the steadier measure.",
      "",
    );
    L.push("| measure | before | after |", "|---|---|---|");
    for (const x of b.closed) {
      const y = a?.closed.find((z) => z.concurrency === x.concurrency);
      L.push(`| ${x.concurrency} in flight: payments/s, CPU µs per payment | ${n0(x.perSecond)}, ${x.cpuUsPerPayment ?? "–"} + ${x.peerCpuUsPerPayment ?? "–"} | ${y ? `${n0(y.perSecond)}, ${y.cpuUsPerPayment ?? "–"} + ${y.peerCpuUsPerPayment ?? "–"}` : "–"} |`);
    }
    for (const x of b.open) {
      if (x.offered === undefined || x.offered > 1000) continue;
      const ys = runsAt(channel, x.offered);
      const after = ys.length ? `${ms(median(ys.map((y) => y.latencyMs.p50)))} / ${ms(median(ys.map((y) => y.latencyMs.p99)))}${ys.length > 1 ? ` (median of ${ys.length} runs)` : ""}` : "–";
      L.push(`| ${n0(x.offered)}/s offered: p50 / p99 ms | ${ms(x.latencyMs.p50)} / ${ms(x.latencyMs.p99)} | ${after} |`);
    }
    L.push("");
  }

  // ---------------------------------------------------------------- API
  if (api) {
    const r = api.result;
    L.push("## One channel through the HTTP API", "", `Run ${where(api)}.`, "");
    L.push(
      "The same channel set-up with each node run as an operator runs it (`sluice node start`, scripts' `NodeProcess`), every payment",
      "an HTTP request to the payer's local API: what an application sees. The HTTP round trip is extra work in the payer's process.",
      "",
      "| load | payments/s | p50 ms | p99 ms | max ms | |",
      "|---|---|---|---|---|---|",
      ...r.closed.map((x) => latencyRow(`closed, ${x.concurrency} in flight`, x)),
      ...r.open.map((x) => latencyRow(`open, ${n0(x.offered)}/s offered`, x)),
      "",
    );
  }

  // ---------------------------------------------------------------- hub
  if (hub) {
    const r = hub.result;
    L.push("## A hub", "", `Run ${where(hub)}.`, "");
    L.push(
      `One hub node in its own process with ${r.channels} channels (ETH), one to each of ${r.channels} peers; the peers are separate \`SluiceNode\`s, each with its own`,
      `key, store and WebSocket connection, ${r.nodesPerPeerProcess} to a process in ${r.peerProcesses} processes. The hub pays round-robin over its channels;`,
      "every payment is countersigned by its peer and stored on both sides as above.",
      "",
      "| load | aggregate payments/s | p50 ms | p99 ms | max ms | hub CPU µs per payment |",
      "|---|---|---|---|---|---|",
      ...r.closed.map((x) => latencyRow(`closed, ${x.concurrency} in flight`, x)),
      ...r.open.map((x) => latencyRow(`open, ${n0(x.offered)}/s offered`, x)),
      "",
    );
    const hc = r.closed.filter(hasGroupCommits);
    if (hc.length) {
      L.push(
        "Hub's group commits: " +
          hc
            .map((x) => `${x.concurrency} in flight: ${(x.groupCommits.writes / Math.max(1, x.groupCommits.count)).toFixed(1)} writes per fsync, ${(x.groupCommits.msBlocked / Math.max(1, x.groupCommits.count)).toFixed(1)} ms per commit, ${((x.groupCommits.msBlocked / 1000 / x.seconds) * 100).toFixed(0)} % of the run blocked in commits`)
            .join("; ") +
          ". better-sqlite3 commits synchronously, so the hub's event loop does nothing else during an fsync. A channel's payments share",
        "a state only when several wait for it: with 100 in flight over 100 channels each state carries about one payment, with",
        "1,000 in flight about ten, which is where the hub's CPU per payment falls.",
        "",
      );
    }
    L.push(...profileTable(r.profile, "Hub process profile over the best closed-loop run", 12));
  }
  if (before.hub) {
    const b = before.hub.result;
    L.push("Hub before the fixes (one payment per state, a signature write per proposal): " + b.closed.map((x) => `${x.concurrency} in flight ${n0(x.perSecond)}/s, ${x.cpuUsPerPayment} µs of hub CPU per payment`).join("; ") + ` (run ${where(before.hub)}).`, "");
  }

  if (routed) L.push(...routedSection(routed));

  // ---------------------------------------------------------------- observe
  if (observe) {
    const { scale, result } = observe;
    L.push("## Watching a node: metrics, event stream, scrapes", "", `Run ${where(observe)}.`, "");
    L.push(
      `One channel between two harness processes, payments on the node object, ${n0(scale.concurrency)} in flight, ${n0(scale.total)} payments a run; each node also serves`,
      "its local HTTP API. Conditions: **off**, the metrics neither follow the event log nor time the commits (the reference); **plain**, the",
      `metrics on and nobody watching; **sse**, a subscriber on the payee's \`GET /v1/events\`; **webhook**, a webhook of the payee posting its payment`,
      `events (in batches: a request at most every 25 ms while events keep coming) to a receiver in the bench's process; **scraped**, \`GET /metrics\` of both`,
      `nodes every ${scale.scrapeMs} ms. They take turns in a rotating order, ${scale.repeats} runs each; the medians are compared within this run.`,
      "Events: the payee's payment events the subscriber or the receiver got before the run's end (+ 200 ms), median of the runs; the",
      "load average is the machine's (1 minute) at the end of each run.",
      "",
      "| condition | median payments/s | × off | × plain | CPU µs per payment, both sides (payer + payee), medians | CPU × off | events during the run | runs (payments/s, load average) |",
      "|---|---|---|---|---|---|---|---|",
      ...(["off", "plain", "sse", "webhook", "scraped"] as const).flatMap((c) => {
        const m = result.medians[c] as ObserveResult["medians"][typeof c] | undefined;
        if (m === undefined) return [];
        const runs = result.runs.filter((r) => r.condition === c);
        const sides = (side: (r: ObserveRun) => number | undefined) => median(runs.flatMap((r) => (side(r) === undefined ? [] : [side(r)!])));
        const cpu = m.cpuUs === undefined ? "–" : `${m.cpuUs} (${sides((r) => r.cpuUsPerPayment)} + ${sides((r) => r.peerCpuUsPerPayment)})`;
        const cpuRatio = m.cpuVsOff === undefined ? "–" : m.cpuVsOff.toFixed(3);
        const received = runs.flatMap((r) => (r.eventsReceived === undefined ? [] : [r.eventsReceived]));
        const requests = runs.flatMap((r) => (r.requests === undefined ? [] : [r.requests]));
        const events = received.length === 0 ? "–" : `${n0(median(received))} of ${n0(scale.total)}${requests.length === 0 ? "" : ` in ${n0(median(requests))} requests`}`;
        const perRun = runs.map((r) => `${n0(Math.round(r.perSecond))}${r.loadAverage === undefined ? "" : ` (${r.loadAverage})`}`).join(", ");
        return `| ${c} | ${n0(m.perSecond)} | ${m.vsOff.toFixed(3)} | ${m.vsPlain.toFixed(3)} | ${cpu} | ${cpuRatio} | ${events} | ${perRun} |`;
      }),
      "",
      "Payments/s moves by a factor of two from run to run when other processes share the two cores (see the load average); the CPU",
      "per payment moves far less and shows what each condition adds.",
      "",
    );
    if (before.observe) {
      const runsOf = (r: ObserveResult, c: "plain" | "sse" | "webhook") => r.runs.filter((x) => x.condition === c);
      const payee = (r: ObserveResult, c: "plain" | "sse" | "webhook") => median(runsOf(r, c).map((x) => x.peerCpuUsPerPayment ?? NaN));
      const got = (r: ObserveResult) => median(runsOf(r, "webhook").map((x) => x.eventsReceived ?? NaN));
      const row = (label: string, f: SectionFile<"observe">) => {
        const r = f.result;
        const perEvent = ((payee(r, "webhook") - payee(r, "plain")) * f.scale.total) / got(r);
        return `| ${label} (${where(f)}) | ${payee(r, "plain")} | ${payee(r, "sse")} | ${payee(r, "webhook")} | ${n0(got(r))} of ${n0(f.scale.total)} | ${perEvent.toFixed(0)} |`;
      };
      L.push(
        "Webhooks before and after batching (one request per event before; a batch of the events waiting, at most one request every 25 ms",
        "while they keep coming, after; the same bench on the code of each), medians of the payee's CPU per payment:",
        "",
        "| code | payee CPU µs per payment, plain | sse | webhook | events delivered during a run | webhook µs of payee CPU per delivered event |",
        "|---|---|---|---|---|---|",
        row("before", before.observe),
        row("after", observe),
        "",
      );
    }
  }

  // ---------------------------------------------------------------- merkle
  if (merkle) {
    const r = merkle.merkle;
    L.push("## Merkle payment log", "", `Run ${where(merkle)}.`, "");
    L.push(
      "Cost per payment appended to a channel's log, averaged over the 1,000 appends that bring it to n: the leaf (double keccak of the",
      "ABI-encoded payment), the append to the incremental tree, and the new root (what each state carries). The tree append alone",
      "(leaf given) beside it.",
      "",
      "| payments n | µs per payment | tree append alone, µs |",
      "|---|---|---|",
      ...r.append.map((a) => `| ${n0(a.n)} | ${a.usPerAppend} | ${a.treeOnlyUsPerAppend} |`),
      "",
      `Proofs at ${n0(r.proofAt)} payments (2,000 random payments, built from the stored tree, ${r.proofLength} hashes each, checked against the root: ${r.verified}):`,
      `p50 ${r.proofMs.p50} ms, p99 ${r.proofMs.p99} ms, max ${r.proofMs.max} ms. Building the log to ${n0(r.proofAt)} took ${r.buildSeconds} s.`,
      "",
    );
  }

  // ---------------------------------------------------------------- gas
  if (gas) {
    const g = gas.gas;
    L.push("## Gas against layer 1", "", `Run ${where(gas)}, on the same Hardhat chain as the channel run.`, "");
    L.push(
      `A channel day in the stablecoin: participant 0's opening deposit (${n0(g.channel.deposit0)} gas), participant 1's deposit (${n0(g.channel.deposit1)}), ${n0(g.channel.payments)} payments off chain`,
      `(final version ${n0(g.channel.finalVersion)}), and the cooperative close (${n0(g.channel.close)}): **${n0(g.channel.channelDay)} gas**, whatever the number of payments`,
      `(the close carries one state). The two ERC-20 approvals the deposits needed first cost ${n0(g.channel.approvals)} more (${n0(g.channel.channelDayWithApprovals)} in all).`,
      `A direct ERC-20 transfer on the same chain: **${n0(g.transfer.toHolder)} gas** to an address that holds the token, ${n0(g.transfer.toFreshAddress)} to a fresh one.`,
      "",
      `**Break-even: N = ${g.breakEven.vsTransfersToHolders}** payments (the channel day costs less than N direct transfers from N = ${g.breakEven.vsTransfersToHolders} on); ${g.breakEven.vsTransfersToHoldersWithApprovals} counting the approvals;`,
      `${g.breakEven.vsTransfersToFreshAddresses} against transfers to fresh addresses. At ${n0(g.channel.payments)} payments the channel used ${(Number(g.channel.channelDay) / (Number(g.transfer.toHolder) * Number(g.channel.payments)) * 100).toFixed(4)} % of the direct transfers' gas.`,
      "",
    );
  }
  // ---------------------------------------------------------------- misses
  L.push("## What is missed, and why", "");
  const misses: string[] = [];
  if (channel && channel.result.best.perSecond < 5000) {
    misses.push("- **Payments per second on one channel**: see the CPU per payment in the closed-loop table and the profiles above.");
  }
  if (channel) {
    const runs = runsAt(channel, 1000);
    const slow = runsAt(channel, 100);
    const p99 = runs.length ? median(runs.map((r) => r.latencyMs.p99)) : undefined;
    const floor100 = floorRunsAt(floor, 100, "none");
    const floorBusy = floorRunsAt(floor, 1000, "sluice");
    const cpu = (xs: Run[]) => `${n0(median(xs.map((x) => x.cpuUsPerPayment ?? 0)))} + ${n0(median(xs.map((x) => x.peerCpuUsPerPayment ?? 0)))} µs`;
    if (p99 !== undefined && p99 > 5)
      misses.push(
        `- **p99 at 1,000/s offered**: ${spread(runs, (r) => r.latencyMs.p99)}.` +
          (slow.length ? ` At 100/s, far from saturation, it is already ${spread(slow, (r) => r.latencyMs.p99)}:` : "") +
          " the tail is mostly the tail of a single round, not queueing.",
        ...(floorAt1000.length
          ? [
              `  The same round with none of Sluice in it (the machine's floor above) has p99 ${spread(floorAt1000, (r) => r.latencyMs.p99)} at 1,000/s` +
                (floor100.length ? ` and ${spread(floor100, (r) => r.latencyMs.p99)} at 100/s.` : "."),
            ]
          : []),
        ...tailSentences(runs),
        ...commitShareSentences(runs),
        `  A Sluice round adds, in each process, the checks, two signatures and two recoveries, the JSON and WebSocket framing and a`,
        `  SQLite commit instead of a bare fsync'd write: ${runs.length ? cpu(runs) : "about a millisecond"} of CPU per payment (payer + payee) at 1,000/s, where most states`,
        "  carry one payment. On these 2 cores the tail grows quickly with the work per round; the floor rows with a busy loop show",
        "  how far it moves here from run to run.",
        ...(floorBusy.length
          ? [`  With ${floorBusy[0].burnUs} µs of it per side, about a Sluice round's CPU and none of Sluice's code, the floor's p99 is ${spread(floorBusy, (r) => r.latencyMs.p99)}.`]
          : []),
        "  Durability is not traded for it: both countersigned states are on disk before a payment counts.",
      );
  }
  if (hub && hub.result.best.perSecond < 5000) {
    misses.push(
      "- **Hub throughput.** The hub signs and verifies once per state and writes once per state; with few payments per channel in",
      "  flight each state carries one payment, and the profile is dominated by libsecp256k1 and the synchronous SQLite commits.",
    );
  }
  if (routed) misses.push(...routedMisses(routed.result));
  L.push(...(misses.length ? misses : ["Nothing: every target above is met in these runs."]));
  L.push(
    "",
    "Tried and kept:",
    "- Several payments per state (participant 0 proposes what arrived in one turn of the event loop, up to 128) and at most two",
    "  proposals in flight per channel, so that under load the payments wait for the next state instead of each taking its own",
    "  signatures and commits.",
    "- Reserved versions: participant 0 writes \"I may sign up to version v + 4,096\" once per 4,096 states instead of writing",
    "  each proposal's signature before it leaves; after a restart it proposes above the reservation, so no version is signed",
    "  twice. One fsync less on every payment's path.",
    "- The payment path reads the channel's status column alone (`ChannelStore.channelStatus`), not the whole decoded row.",
    "- A new payment's ref is checked against a Bloom filter of the node's own stored refs (src/node/refFilter.ts, seeded as the",
    "  payment log is read at start, fed by every state the session stores) instead of a store read per payment (about 17 µs",
    "  of the payer's CPU alone); only a ref the filter may hold is looked up. A countersigned state is written inside the",
    "  group commit without a savepoint of its own (the group fails as a whole), and canonical hex is taken without lower-casing:",
    "  about 4 µs less per stored state. Against the code before, runs interleaved in one process (scripts/bench/hotpath.ts, a",
    "  loaded machine): 256 in flight 13,802 → 18,501 payments/s (medians of 3), one in flight 665 + 615 → 648 + 609 µs per",
    "  payment (medians of 5, within the run-to-run spread).",
    "- Routed: a lock's leaf is hashed once per lock object (crypto/hash.ts keeps it beside the object), and a hub finds a",
    "  forward's pending lock by its leaf instead of hashing every pending lock of the channel to compare; the last hub reads the",
    "  route's invoice without recovering the payee's signature (the payer checked it; a forged one harms only that payer).",
    "  `scripts/bench/routedTrace.ts` at 2,048 in flight, one run each on a quiet machine: hub CPU 1,084 → 706 µs per routed",
    "  payment, 769 → 1,003 routed/s.",
    "",
    "Tried and dropped (measured worse here):",
    "- The store's commits on a writer thread of their own (worker_threads, its own connection), to take the fsync off the",
    "  event loop: the cross-thread wake-ups cost more than they saved (one in flight, p50 1.8 → 2.8 ms; hub at 1,000 in flight",
    "  7,500 → 5,100 payments/s).",
    "- Checkpointing the WAL from a background thread every 100 ms instead of inside the commit that crosses 1,000 pages:",
    "  p50 at 1,000/s 3.0–3.9 ms with SQLite's own checkpoints, 4.6–5.2 ms with the thread (three runs each).",
    "- A larger WAL before checkpoints (`wal_autocheckpoint` 10,000 and 100,000 pages): group commits of 32 payments no faster;",
    "  at 1,000/s, 20,000 pages gave p99 11.6–14.8 ms against 7.0–10.7 ms with 1,000 (three runs each).",
    "- Each commit with `synchronous = NORMAL` and the log fdatasync'd by the node (on the event loop, or on libuv's threadpool so",
    "  the loop runs meanwhile). On the loop: p99 at 1,000/s 7.2–10.6 ms against 7.0–13.4 ms without, within the run-to-run",
    "  spread. On the threadpool: p50 3.3–4.1 ms against 2.5–3.5 ms, p99 7.4–13.8 against 6.3–10.4 ms. A bare fdatasync's tail with",
    "  two writers is shorter than fsync's (p99 0.5 against 1.3 ms in a micro-benchmark), but SQLite's commit is more than that fsync.",
    "- One proposal in flight instead of two: p99 at 1,000/s 7.5–10.3 ms; and freeing the slot when the acknowledgement arrives",
    "  instead of after the commit: 11.5–18.7 ms; against 7.0–13.4 ms for the default in the runs around them (three runs each).",
    "- Each node process pinned to its own core (taskset): p99 7.4–12.4 ms against 6.3–8.2 ms.",
    "- No checkpoints during the runs (`wal_autocheckpoint = 0`, so the WAL only grows): p50 at 1,000/s 3.2–4.4 ms and p99",
    "  6.9–11.2 ms, against 1.7–3.3 ms and 4.5–8.4 ms with SQLite's checkpoints every 1,000 pages (two groups of five runs each).",
    "  The checkpoints are not the tail; an ever-growing log file is slower to append to and flush.",
    "- V8's garbage collector on the main thread alone (`--single-threaded-gc`): each scavenge took 2.5–3.9 ms (p50 per run)",
    "  instead of 1.4–1.9 ms, and p99 at 1,000/s was 6.6–8.3 ms. A larger young generation (`--max-semi-space-size=64`): 3 to 5",
    "  scavenges per process per 8 s run instead of 13 to 18, but each 2.5–4.3 ms, and p99 5.8–8.6 ms against 6.3–9.0 ms with",
    "  the defaults (five runs each): within the spread. With 256 MB, about a whole run's allocation: 2 to 5 pauses per process",
    "  per run (3–10 ms each) instead of 18 to 86, p99 5.8–10.7 ms (median 6.9) against 6.1–10.4 ms (median 7.7) with the",
    "  defaults (ten runs each, alternated): with a tenth of the pauses the target is still not met. None of these is a setting",
    "  the node could impose on a process that embeds it.",
    "- Flushing with fdatasync instead of fsync: a micro-benchmark on this disk today (two processes, a 37 KiB overwrite and a",
    "  flush each, 3,000 times) gave the same figures for both, p50 0.24–0.27 ms and p99 1.18–1.30 ms; the shorter fdatasync",
    "  tail measured before (below) did not reproduce.",
    "- Rowid tables for states and payments instead of WITHOUT ROWID (each commit rewrites 9 pages today, the rows being large",
    "  for an index b-tree): commit p50 / p99 0.18–0.20 / 0.46–0.58 ms against 0.19–0.21 / 0.45–0.51 ms. Not worth a migration.",
    "- Routed, 4,096 in flight (`scripts/bench/routedTrace.ts`, alternated with runs of the defaults, 1,098–1,162 routed/s): a",
    "  page size of 1,024 for new stores 969–1,044/s (the hub's commits grew from 21–28 to 76–88 ms); a 64 MiB page cache and",
    "  256 MiB of mmap 1,088–1,264/s, either alone 1,257–1,294/s (one run each: within the spread); `wal_autocheckpoint` 10,000",
    "  1,189/s; a larger young generation (`--max-semi-space-size=32`) 1,190/s against 1,098/s beside it, not a setting the node",
    "  can impose on a process that embeds it. Later, in pairs alternated with the defaults: `locking_mode = EXCLUSIVE` (no file",
    "  lock per transaction, the WAL index in the process's memory) 1,130 / 1,239 / 1,154 routed/s against 1,148 / 1,257 / 1,175",
    "  (the CPU per payment lower in the first pair only), and it would shut out the read-only look at a running node's store",
    "  that operators and two tests use; a young generation of 16 MiB from the start (`--min-semi-space-size=16`) 1,207 / 1,208",
    "  against 1,156 / 1,214. Neither kept.",
    "",
    "Diagnostic, not a configuration: routed at 4,096 in flight with every store on tmpfs, 1,319 routed/s against 1,157–1,187 on",
    "the disk; the hub's group commits still took 238 µs of its time per routed payment (payers' 175, payees' 195), so SQLite's own",
    "work (rows, indexes, the log) is about 40 % of the CPU a routed payment costs the machine. Without any event rows (a build",
    "that skipped them): 1,381/s on tmpfs, about 3 % less CPU in each process. `scripts/bench/routedWrites.ts` replays a hub's",
    "writes on a real store: its commits cost 173 µs per routed payment on an empty store, 273 after 20,000 routed payments and",
    "335 after 60,000 (on the disk), as random-key indexes (leaf, hashlock, ref) outgrow a commit and each entry dirties a page.",
    "Migration 18 keys the locks by rowid (a lock is looked up by leaf or hashlock among the pending locks only, the history by",
    "channel and version): in the same replay, one run of 3 each, 178 → 173 µs on an empty store, 310 → 237 after 20,000 routed",
    "payments, 346 → 289 after 60,000 (274–294 over three runs; write() 124 → 86 kB). The rest of the leaner schema (BLOB keys, the",
    "forwards found in memory, payments_by_ref replaced) is not built; secrets, payments_by_ref and the forwards' leaf indexes",
    "still grow with the history.",
    "",
    "perf over the whole machine at 4,096 in flight (5 s, every process): 12 % of all CPU samples are the kernel zeroing fresh",
    "pages (clear_page_erms), faulted in by V8's scavenger promoting objects into new old-space pages, by TurboFan's compile",
    "zones and by the main threads' allocations: the memory churn costs about as much again as the profiles' (garbage",
    "collector) line shows. With the commits' share (about 40 %) and the signatures', that is where a routed payment's CPU goes.",
    "",
    "Diagnostic, not a configuration (nothing durable): with both stores on tmpfs, where an fsync costs nothing, a commit took",
    "0.08–0.11 ms instead of 0.33–0.45 ms, and p99 at 1,000/s was 4.0–6.9 ms (p50 1.0–1.6 ms) against 6.7–9.5 ms (p50 2.1–3.5 ms) on",
    "the disk in the runs around them (six runs each). The disk's flush is about half the tail; the CPU of a round and this",
    "machine's scheduling are the other half, so neither a faster disk nor less CPU alone would bring p99 under 5 ms here.",
    "",
    "The load generator was fixed in this round: the open loop used to spin the paying process's event loop (setImmediate) while",
    "the next send was less than a millisecond away, which at 1,000/s is always. That kept the payer's loop awake, so its answers",
    "were picked up without a wake-up (a lower p50), and burned CPU both nodes needed (its CPU per payment was counted in the",
    "payer's). The metronome thread now sleeps until each send is due.",
    "",
  );
  mkdirSync(path.dirname(DOC), { recursive: true });
  writeFileSync(DOC, `${L.join("\n").replace(/\n{3,}/g, "\n\n")}\n`);
}

if (require.main === module) writeReport();
