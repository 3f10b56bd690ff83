/**
 * One channel between two node processes over loopback WebSocket, every payment countersigned
 * and group-committed to each side's SQLite store (WAL, synchronous FULL) before it counts.
 * Participant 0 (the opener) pays: it sequences and pipelines; participant 1 countersigns.
 *
 * (b) node-to-node: each node in a harness process, payments fired on the node object.
 * (a) through the HTTP API: each node as `sluice node start` (NodeProcess), payments by ApiClient.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Address, Hex } from "../../src/types";
import { NodeProcess } from "../../src/node/process";
import type { BenchChain } from "./chain";
import { Harness, type LoadReport, type Stalls } from "./harness";
import { closedLoop, openLoop, summarize, type LoadResult } from "./load";
import { summarizeProfile, type ProfileSummary } from "./profile";
import { attributeTail, describeTail, type LoopEvent } from "./tail";

export interface Scale {
  /** Payments per closed-loop throughput run. */
  closedTotal: number;
  /** Seconds of schedule per open-loop run. */
  openSeconds: number;
  concurrencies: number[];
}

export interface OneChannelResult {
  asset: "ERC-20";
  node: {
    closed: (LoadReport & { concurrency: number })[];
    best: { concurrency: number; perSecond: number };
    /** Open-loop runs above 1,000/s, up to the highest rate sustained. */
    open: LoadReport[];
    sustained: LoadReport | null;
    /** Open-loop runs at 100/s and (several times) 1,000/s, on their own pair of processes. */
    latency?: LoadReport[];
  };
  api: {
    closed: (Omit<LoadReport, "windowUs"> & { concurrency: number })[];
    open: Omit<LoadReport, "windowUs">[];
  };
  profile: ProfileSummary | null;
  gas: { deposit0: bigint; deposit1: bigint; approvals: bigint; close: bigint; payments: number; finalVersion: string };
}

const TOKEN = 10n ** 6n;

/** Two harness processes, one node each, with a channel between them that both funded. */
export interface Pair {
  h0: Harness;
  h1: Harness;
  addresses: [Address, Address];
  channelId: Hex;
  /** Which blocks held the deposits (and the approvals before them). */
  blocks: { start: number; depositsEnd: number };
  /** Participant 0 pays participant 1 on the node object; the report adds participant 1's CPU, commits and stalls. */
  pay: (args: Record<string, unknown>) => Promise<LoadReport>;
  kill(): void;
}

export async function openPair(chain: BenchChain, work: string, keys: [number, number], profile: boolean): Promise<Pair> {
  const h0 = await Harness.start(profile ? { cpuProfDir: path.join(work, "prof") } : {});
  const h1 = await Harness.start(profile ? { cpuProfDir: path.join(work, "prof1") } : {});
  const kill = () => {
    h0.kill();
    h1.kill();
  };
  try {
    const [n0] = await h0.call<{ address: Address; peerUrl: string }[]>("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys: [chain.key(keys[0])], dir: path.join(work, "p0") });
    const [n1] = await h1.call<{ address: Address; peerUrl: string }[]>("init", { rpc: chain.node.url, adjudicator: chain.adjudicator, keys: [chain.key(keys[1])], dir: path.join(work, "p1") });
    const deposit = 10_000_000n * TOKEN;
    for (const a of [n0.address, n1.address]) await (await chain.token.mint(a, deposit)).wait();
    const start = await chain.node.provider.getBlockNumber();
    const channelId = await h0.call<Hex>("open", { node: 0, peer: n1.address, peerUrl: n1.peerUrl, asset: chain.tokenAddress, deposit: deposit.toString() });
    await h1.call("deposit", { node: 0, channelId, amount: deposit.toString() });
    const depositsEnd = await chain.node.provider.getBlockNumber();
    const pay = async (args: Record<string, unknown>): Promise<LoadReport> => {
      type Cpu = { userUs: number; systemUs: number; commits: { count: number; writes: number; ms: number } };
      const before = await h1.call<Cpu>("cpu");
      await h1.call("stalls");
      await h1.call("events");
      const { dueAt, latencies, events, ...r } = await h0.call<LoadReport & { dueAt?: number[]; latencies?: number[]; events?: LoopEvent[] }>("pay", { node: 0, channels: [channelId], amount: "1", timeline: true, ...args });
      const after = await h1.call<Cpu>("cpu");
      const peerStalls = await h1.call<Stalls>("stalls");
      const peerEvents = await h1.call<LoopEvent[]>("events");
      if (dueAt && latencies && events) r.tail = attributeTail(dueAt, latencies, events, peerEvents);
      if (process.env.BENCH_DEBUG) console.log(`    stalls: payer ${JSON.stringify(r.stalls)}, payee ${JSON.stringify(peerStalls)}`);
      const peerGroupCommits = { count: after.commits.count - before.commits.count, writes: after.commits.writes - before.commits.writes, msBlocked: Math.round(after.commits.ms - before.commits.ms) };
      return { ...r, peerStalls, peerGroupCommits, peerCpuUsPerPayment: Math.round((after.userUs + after.systemUs - before.userUs - before.systemUs) / Math.max(1, r.done)) };
    };
    return { h0, h1, addresses: [n0.address, n1.address], channelId, blocks: { start, depositsEnd }, pay, kill };
  } catch (error) {
    kill();
    throw error;
  }
}

export const WARM_UP = { mode: "closed", concurrency: 64 } as const; // JIT, SQLite pages

export async function oneChannelNode(chain: BenchChain, scale: Scale, log: (s: string) => void): Promise<{ node: OneChannelResult["node"]; profile: ProfileSummary | null; profile1: ProfileSummary | null; gas: OneChannelResult["gas"] }> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-1ch-"));
  let pair: Pair | undefined;
  try {
    pair = await openPair(chain, work, [1, 2], true);
    const { pay } = pair;
    log(`  channel ${pair.channelId.slice(0, 10)}… open, both deposited`);
    await pay({ ...WARM_UP, total: Math.min(5_000, scale.closedTotal) });
    const closed: (LoadReport & { concurrency: number })[] = [];
    for (const concurrency of scale.concurrencies) {
      const total = concurrency === 1 ? Math.min(3_000, scale.closedTotal) : scale.closedTotal;
      const r = await pay({ mode: "closed", total, concurrency });
      closed.push({ ...r, concurrency });
      log(`  closed loop, ${concurrency} in flight: ${r.perSecond.toFixed(0)} payments/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, CPU/payment ${r.cpuUsPerPayment} µs + ${r.peerCpuUsPerPayment} µs, commits ${JSON.stringify(r.groupCommits)} + ${JSON.stringify(r.peerGroupCommits)}${r.failed ? `, ${r.failed} failed: ${r.firstError}` : ""}`);
    }
    const best = closed.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));

    // The highest offered load the pair sustains: achieved within 3 % of offered and p99 under 50 ms.
    const open: LoadReport[] = [];
    let sustained: LoadReport | null = null;
    const steps = [0.5, 0.65, 0.8, 0.9, 1.0].map((f) => Math.max(1_000, Math.round((best.perSecond * f) / 250) * 250));
    for (const rate of scale.openSeconds > 0 ? [...new Set(steps)] : []) {
      if (rate <= 1_000) continue;
      const r = await pay({ mode: "open", rate, seconds: scale.openSeconds });
      const ok = r.failed === 0 && r.done / (scale.openSeconds * rate) >= 0.97 && r.seconds <= scale.openSeconds * 1.03 + 0.05 && r.latencyMs.p99 <= 50;
      log(`  open loop ${rate}/s: achieved ${r.perSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms ${ok ? "(sustained)" : "(not sustained)"}`);
      open.push(r);
      if (!ok) break;
      sustained = r;
    }

    // Cooperative close, then the profile of each process over the best closed-loop run.
    const closedTx = await pair.h0.call<{ gasUsed: string; version: string }>("close", { node: 0, channelId: pair.channelId });
    const gas = await dayGas(chain, pair.blocks.start, pair.blocks.depositsEnd, pair.addresses);
    const payments = closed.reduce((n, r) => n + r.done, 0) + open.reduce((n, r) => n + r.done, 0);
    await pair.h0.stop();
    await pair.h1.stop();
    const profileOf = (dir: string): ProfileSummary | null => {
      const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
      return file ? summarizeProfile(path.join(dir, file), best.windowUs) : null;
    };
    return {
      node: { closed, best: { concurrency: best.concurrency, perSecond: best.perSecond }, open, sustained },
      profile: profileOf(path.join(work, "prof")),
      profile1: profileOf(path.join(work, "prof1")),
      gas: { ...gas, close: BigInt(closedTx.gasUsed), payments, finalVersion: closedTx.version },
    };
  } finally {
    pair?.kill();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Latency at fixed offered loads, on a fresh pair of node processes without the CPU profiler
 * (its sampling thread interrupts the event loop): 100/s `repeats100` times, then 1,000/s `repeats`
 * times, since one run's p99 moves by milliseconds from run to run on this machine.
 */
export async function oneChannelLatency(chain: BenchChain, scale: Scale & { repeats: number; repeats100: number }, log: (s: string) => void): Promise<LoadReport[]> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-lat-"));
  let pair: Pair | undefined;
  try {
    pair = await openPair(chain, work, [8, 9], false);
    await pair.pay({ ...WARM_UP, total: Math.min(5_000, scale.closedTotal) });
    const runs: LoadReport[] = [];
    for (const rate of [...Array<number>(scale.repeats100).fill(100), ...Array<number>(scale.repeats).fill(1_000)]) {
      const r = await pair.pay({ mode: "open", rate, seconds: scale.openSeconds });
      runs.push(r);
      log(`  open loop ${rate}/s: achieved ${r.perSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms; sends started late by p50 ${r.latenessMs?.p50} ms, p99 ${r.latenessMs?.p99} ms; CPU/payment ${r.cpuUsPerPayment} + ${r.peerCpuUsPerPayment} µs${r.failed ? `, ${r.failed} failed: ${r.firstError}` : ""}`);
      if (r.tail) log(`    slowest 1 %: ${describeTail(r.tail)}`);
    }
    await pair.h0.stop();
    await pair.h1.stop();
    return runs;
  } finally {
    pair?.kill();
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}

/** Gas of the deposits (and the approvals the driver sent first) between two blocks. */
async function dayGas(chain: BenchChain, from: number, to: number, parties: Address[]): Promise<{ deposit0: bigint; deposit1: bigint; approvals: bigint }> {
  const provider = chain.node.provider;
  let approvals = 0n;
  const deposits: bigint[] = [0n, 0n];
  for (let b = from + 1; b <= to; b++) {
    const block = await provider.getBlock(b, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      const who = parties.findIndex((p) => p.toLowerCase() === tx.from.toLowerCase());
      if (who < 0) continue;
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (tx.to?.toLowerCase() === chain.tokenAddress.toLowerCase()) approvals += receipt!.gasUsed;
      else if (tx.to?.toLowerCase() === chain.adjudicator.toLowerCase()) deposits[who] += receipt!.gasUsed;
    }
  }
  return { deposit0: deposits[0], deposit1: deposits[1], approvals };
}

type Plain = Omit<LoadReport, "windowUs">;
const plain = (r: LoadResult & { offered?: number }): Plain => ({
  offered: r.offered,
  done: r.done,
  failed: r.failed,
  firstError: r.firstError,
  seconds: r.seconds,
  perSecond: r.done / r.seconds,
  latencyMs: summarize(r.latencies),
});

/** (a): the same channel set-up with each node a `sluice node start` process, paid through its HTTP API. */
export async function oneChannelApi(chain: BenchChain, scale: Scale, log: (s: string) => void): Promise<OneChannelResult["api"]> {
  const work = mkdtempSync(path.join(tmpdir(), "sluice-bench-api-"));
  const nodes: NodeProcess[] = [];
  try {
    for (const [i, key] of [chain.key(3), chain.key(4)].entries()) {
      nodes.push(
        await NodeProcess.start({
          datadir: path.join(work, `n${i}`),
          privateKey: key,
          rpc: chain.node.url,
          adjudicator: chain.adjudicator,
          listen: { host: "127.0.0.1", port: 0 },
          config: { pollMs: 60_000 },
        }),
      );
    }
    const [a, b] = nodes as [NodeProcess, NodeProcess];
    const deposit = 10_000_000n * TOKEN;
    for (const i of [3, 4]) await (await chain.token.mint(chain.address(i), deposit)).wait();
    const info = await b.api.info();
    const opened = await a.api.openChannel({ peer: info.address, peerUrl: info.peerUrl, asset: chain.tokenAddress, deposit });
    await b.api.deposit(opened.channelId, deposit);
    const ref = (i: number): Hex => `0x${(i + 1).toString(16).padStart(64, "0")}`;
    let counter = 0;
    const send = () => a.api.pay(opened.channelId, 1n, ref(counter++));
    await closedLoop(Math.min(3_000, scale.closedTotal), 64, send); // warm-up
    const closed: OneChannelResult["api"]["closed"] = [];
    for (const concurrency of [1, 64]) {
      const r = plain(await closedLoop(concurrency === 1 ? Math.min(2_000, scale.closedTotal) : scale.closedTotal, concurrency, send));
      closed.push({ ...r, concurrency });
      log(`  API closed loop, ${concurrency} in flight: ${r.perSecond.toFixed(0)} payments/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`);
    }
    const open: Plain[] = [];
    for (const rate of [100, 1_000]) {
      const r = plain(await openLoop(rate, scale.openSeconds, send));
      open.push(r);
      log(`  API open loop ${rate}/s: achieved ${r.perSecond.toFixed(0)}/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`);
    }
    return { closed, open };
  } finally {
    for (const n of nodes) await n.stop().catch(() => undefined);
    if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  }
}
