/**
 * Routed payments through one hub: a hub node (its own process, routing on) with a channel to
 * each of 50 payers and 50 payees; the payers are `SluiceNode`s hosted together in one process, the
 * payees in another. Payer j pays payee j's invoices through the hub (A→H→C: a lock to the hub,
 * the hub's lock to the payee, the payee's unlock with the secret, the hub's unlock upstream); the
 * payees make their invoices before the timed runs. Beside each routed run, the same payer process
 * pays the hub directly over the same channels (one state per payment, no lock): the ratio is what
 * routing costs.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ETH, type Address, type Hex } from "../../src/types";
import type { BenchChain } from "./chain";
import { Harness, type LoadReport } from "./harness";
import { summarizeProfile, type ProfileSummary } from "./profile";
import { median } from "./report";
import { stepBreakdown, type StepTimes } from "./routedSteps";

export interface RoutedOptions {
  /** Payers and payees: each has one channel with the hub. */
  pairs: number;
  /** Closed loops: payments kept in flight, and how many a run pays (several times the in-flight count, so most of a run is at that depth). */
  closed: { concurrency: number; total: number }[];
  closedRepeats: number;
  openRate: number;
  openSeconds: number;
  openRepeats: number;
  /** A lower rate as well, under the hub's capacity: the routed latency without the queue. */
  lowRate: number;
}

/**
 * A run, the hub's CPU over it, each process's (hub, payers, payees: their sum is what one payment costs
 * the machine), and the machine's load average (1 minute) at its end (other processes share the cores).
 */
export type RoutedRun = LoadReport & { hubCpuUsPerPayment: number; cpuUsPerPaymentByProcess?: { hub: number; payers: number; payees: number }; loadAverage?: number };

export interface RoutedResult {
  channels: number;
  pairs: number;
  processes: { hub: number; payers: number; payees: number };
  fees: { base: string; ppm: number };
  /** What each payee's invoice asks (wei); the payer's lock carries it and the hub's fee. */
  amount: string;
  /** The invoices were made by the payees before the timed runs: how many, and how long that took. */
  invoices: { made: number; seconds: number };
  closed: { concurrency: number; routed: RoutedRun[]; direct: RoutedRun[] }[];
  open: { rate: number; seconds: number; routed: RoutedRun[]; direct: RoutedRun[] };
  low: { rate: number; seconds: number; routed: RoutedRun[]; direct: RoutedRun[] };
  /** Medians over the repeated runs. */
  summary: {
    throughput: { concurrency: number; routed: number; direct: number; ratio: number };
    at100: Latencies;
    atLow: Latencies;
    hubCpuUsPerRouted: number;
  };
  targets: { routedPerSecond: number; p50Ms: number };
  profile: ProfileSummary | null;
  /** Where a routed payment's time went, from the three stores: over the low-rate runs and over the open-loop runs. */
  steps?: { low: StepBreakdown; open: StepBreakdown };
}

/** Each step's medians over the payments of some runs (`payments` of them). */
export interface StepBreakdown {
  payments: number;
  steps: StepTimes[];
}

/** Routed and direct medians at one offered rate, and routed over direct. */
export interface Latencies {
  routed: { p50: number; p99: number };
  direct: { p50: number; p99: number };
  ratio: { p50: number; p99: number };
}

/** Alice's fee in the demo: 0.1 % of the amount, no fixed part. */
const FEES = { base: "0", ppm: 1_000 };
const AMOUNT = 1_000_000_000n; // 1 gwei a payment
const INVOICE_LIFETIME = 7_200; // the route needs a reveal window per hop before the invoice's expiry

/** The hub, the payers' and the payees' processes, and the channels: what the bench and the trace share. */
export interface RoutedSetup {
  hub: Harness;
  payers: { h: Harness; nodes: { address: Address; peerUrl: string }[] };
  payees: { h: Harness; nodes: { address: Address; peerUrl: string }[] };
  /** The hub's channel with payer j, by j. */
  payerChannels: Hex[];
  /** Every harness started (stopped or killed by the caller). */
  harnesses: Harness[];
}

/**
 * Starts the hub (routing on, its store in `work`/hub) and `pairs` payers and payees in two more
 * processes; the hub opens and funds a channel to each (1 ETH) and pays each payer half of it.
 */
export async function startRouted(chain: BenchChain, pairs: number, work: string, options: { cpuProfDir?: string; profilePeers?: string; harnesses: Harness[] }): Promise<RoutedSetup> {
  const harnesses = options.harnesses;
  const hub = await Harness.start({ cpuProfDir: options.cpuProfDir });
  harnesses.push(hub);
  await hub.call("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys: [chain.key(5)], dir: path.join(work, "hub"), hub: FEES });
  const peers = async (name: string) => {
    const h = await Harness.start({ cpuProfDir: options.profilePeers ? path.join(options.profilePeers, name) : undefined });
    harnesses.push(h);
    const keys = Array.from({ length: pairs }, () => `0x${randomBytes(32).toString("hex")}`);
    const nodes = await h.call<{ address: Address; peerUrl: string }[]>("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys, dir: path.join(work, name), pollMs: 600_000 });
    return { h, nodes };
  };
  const payers = await peers("payers");
  const payees = await peers("payees");

  // The hub opens and funds every channel (1 ETH), then pays each payer half of it: what the payers spend.
  const open = async (list: { address: Address; peerUrl: string }[]): Promise<Hex[]> => {
    const ids: Hex[] = new Array<Hex>(list.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < list.length) {
          const i = next++;
          ids[i] = await hub.call<Hex>("open", { node: 0, peer: list[i].address, peerUrl: list[i].peerUrl, asset: ETH, deposit: (10n ** 18n).toString() });
        }
      }),
    );
    return ids;
  };
  const payerChannels = await open(payers.nodes);
  await open(payees.nodes);
  await hub.call("pay", { node: 0, channels: payerChannels, amount: (5n * 10n ** 17n).toString(), mode: "closed", total: pairs, concurrency: pairs });
  return { hub, payers, payees, payerChannels, harnesses };
}

/** `count` invoices of each payee (payee j's for payer j), made before the timed runs. */
export function makeInvoices(setup: RoutedSetup, count: number): Promise<string[][]> {
  const { payees } = setup;
  return Promise.all(payees.nodes.map((_, j) => payees.h.call<string[]>("invoices", { node: j, count, amount: AMOUNT.toString(), asset: ETH, expiresIn: INVOICE_LIFETIME })));
}

export async function routedBench(chain: BenchChain, o: RoutedOptions, log: (s: string) => void): Promise<RoutedResult> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-routed-"));
  const profDir = path.join(work, "prof");
  const harnesses: Harness[] = [];
  try {
    const setup = await startRouted(chain, o.pairs, work, { cpuProfDir: profDir, harnesses });
    const { hub, payers, payerChannels } = setup;
    log(`  hub up; ${o.pairs} payers in one process, ${o.pairs} payees in another; ${2 * o.pairs} channels open`);

    // Invoices: payee j's for payer j, enough for every routed payment of the runs.
    const warmup = 500;
    const needed = warmup + o.closed.reduce((sum, c) => sum + o.closedRepeats * c.total, 0) + o.openRepeats * Math.round((o.openRate + o.lowRate) * o.openSeconds);
    const perPayee = Math.ceil(needed / o.pairs) + 2;
    const t0 = performance.now();
    const invoices = await makeInvoices(setup, perPayee);
    const invoiceSeconds = (performance.now() - t0) / 1000;
    log(`  ${perPayee * o.pairs} invoices made by the payees in ${invoiceSeconds.toFixed(1)} s (before the timed runs)`);
    const cursor = invoices.map(() => 0);
    /** The next invoices of each payer for a run of `total` payments (payment i by payer i mod pairs). */
    const take = (total: number): [number, string[]][] =>
      invoices.map((list, j) => {
        const count = Math.ceil(total / o.pairs);
        const slice = list.slice(cursor[j], cursor[j] + count);
        cursor[j] += count;
        if (slice.length < count) throw new Error(`payee ${j} ran out of invoices`);
        return [j, slice];
      });
    const direct: [number, Hex][] = payerChannels.map((id, j) => [j, id]);

    const cpuOf = async (h: Harness) => {
      const c = await h.call<{ userUs: number; systemUs: number }>("cpu");
      return c.userUs + c.systemUs;
    };
    const cpus = async () => ({ hub: await cpuOf(hub), payers: await cpuOf(payers.h), payees: await cpuOf(setup.payees.h) });
    /** When each routed payment of the open loops was offered (unix ms), by rate: the step breakdown reads them. */
    const offered = new Map<number, number[]>();
    const measure = async (routed: boolean, load: Record<string, unknown>, total: number): Promise<RoutedRun> => {
      const before = await cpus();
      const timeline = routed && load.mode === "open";
      const r = routed
        ? await payers.h.call<LoadReport & { dueAt?: number[]; latencies?: number[]; events?: unknown }>("payInvoices", { payers: take(total), ...load, timeline })
        : await payers.h.call<LoadReport>("pay", { payers: direct, amount: AMOUNT.toString(), ...load });
      const after = await cpus();
      const { dueAt, latencies: _l, events: _e, ...run } = r as LoadReport & { dueAt?: number[]; latencies?: number[]; events?: unknown };
      if (dueAt) offered.set(load.rate as number, [...(offered.get(load.rate as number) ?? []), ...dueAt]);
      const per = (k: keyof typeof after) => Math.round((after[k] - before[k]) / Math.max(1, r.done));
      const byProcess = { hub: per("hub"), payers: per("payers"), payees: per("payees") };
      return { ...run, hubCpuUsPerPayment: byProcess.hub, cpuUsPerPaymentByProcess: byProcess, loadAverage: Math.round(os.loadavg()[0] * 100) / 100 };
    };
    const describe = (label: string, r: RoutedRun) =>
      `  ${label}: ${r.perSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, CPU µs/payment hub ${r.hubCpuUsPerPayment} + payers ${r.cpuUsPerPaymentByProcess?.payers} + payees ${r.cpuUsPerPaymentByProcess?.payees}${r.failed ? `, ${r.failed} FAILED: ${r.firstError}` : ""}`;

    await measure(true, { mode: "closed", total: warmup, concurrency: 256 }, warmup);
    await measure(false, { mode: "closed", total: warmup, concurrency: 256 }, warmup);

    const closed: RoutedResult["closed"] = [];
    for (const { concurrency, total } of o.closed) {
      const row = { concurrency, routed: [] as RoutedRun[], direct: [] as RoutedRun[] };
      for (let k = 0; k < o.closedRepeats; k++) {
        const load = { mode: "closed", total, concurrency };
        row.routed.push(await measure(true, load, total));
        log(describe(`routed, closed loop, ${concurrency} in flight`, row.routed[k]));
        row.direct.push(await measure(false, load, total));
        log(describe(`direct, closed loop, ${concurrency} in flight`, row.direct[k]));
      }
      closed.push(row);
    }
    const openAt = async (rate: number) => {
      const runs = { rate, seconds: o.openSeconds, routed: [] as RoutedRun[], direct: [] as RoutedRun[] };
      const load = { mode: "open", rate, seconds: o.openSeconds };
      for (let k = 0; k < o.openRepeats; k++) {
        runs.routed.push(await measure(true, load, Math.round(rate * o.openSeconds)));
        log(describe(`routed, open loop ${rate}/s`, runs.routed[k]));
        runs.direct.push(await measure(false, load, Math.round(rate * o.openSeconds)));
        log(describe(`direct, open loop ${rate}/s`, runs.direct[k]));
      }
      return runs;
    };
    const lowRuns = await openAt(o.lowRate);
    const openRuns = await openAt(o.openRate);

    const medianOf = (runs: RoutedRun[], pick: (r: RoutedRun) => number) => median(runs.map(pick));
    const bestRow = closed.reduce((a, b) => (medianOf(b.routed, (r) => r.perSecond) > medianOf(a.routed, (r) => r.perSecond) ? b : a));
    const throughput = {
      concurrency: bestRow.concurrency,
      routed: medianOf(bestRow.routed, (r) => r.perSecond),
      direct: medianOf(bestRow.direct, (r) => r.perSecond),
      ratio: 0,
    };
    throughput.ratio = throughput.routed / throughput.direct;
    const lat = (runs: RoutedRun[]) => ({ p50: medianOf(runs, (r) => r.latencyMs.p50), p99: medianOf(runs, (r) => r.latencyMs.p99) });
    const latencies = (runs: { routed: RoutedRun[]; direct: RoutedRun[] }): Latencies => {
      const routed = lat(runs.routed);
      const direct = lat(runs.direct);
      return { routed, direct, ratio: { p50: routed.p50 / direct.p50, p99: routed.p99 / direct.p99 } };
    };
    // The profile is cut to the best row's fastest routed run.
    const profiled = bestRow.routed.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

    for (const h of harnesses) await h.stop();
    const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
    const profile = files[0] ? summarizeProfile(path.join(profDir, files[0]), profiled.windowUs) : null;
    const steps = { low: stepBreakdown(work, o.pairs, offered.get(o.lowRate) ?? []), open: stepBreakdown(work, o.pairs, offered.get(o.openRate) ?? []) };
    return {
      channels: 2 * o.pairs,
      pairs: o.pairs,
      processes: { hub: 1, payers: 1, payees: 1 },
      fees: FEES,
      amount: AMOUNT.toString(),
      invoices: { made: perPayee * o.pairs, seconds: invoiceSeconds },
      closed,
      open: openRuns,
      low: lowRuns,
      summary: { throughput, at100: latencies(openRuns), atLow: latencies(lowRuns), hubCpuUsPerRouted: medianOf(bestRow.routed, (r) => r.hubCpuUsPerPayment) },
      targets: { routedPerSecond: 2_000, p50Ms: 15 },
      profile,
      steps,
    };
  } finally {
    for (const h of harnesses) h.kill();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}
