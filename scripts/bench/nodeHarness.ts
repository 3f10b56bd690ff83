/**
 * Bench harness: hosts one or more `SluiceNode`s in this process (a child of the bench, running
 * the compiled build, dist/scripts/bench/nodeHarness.js, with an IPC channel) and drives them on command,
 * with no HTTP API in between: the node's durable store and the real WebSocket to the peer's
 * process stay in the path. Commands arrive with `process.on("message")`, answers go back with
 * `process.send`:
 *
 *   init   { rpc, adjudicator, keys, dir, pollMs, hub? { base, ppm } }   → [{ address, peerUrl }] (hub: routing on, these fees)
 *   open   { node, peer, peerUrl, asset, deposit }   → channelId
 *   deposit{ node, channelId, amount }               → deposits
 *   pay    { node, channels, amount, mode: "closed", total, concurrency }
 *          { node, channels, amount, mode: "open", rate, seconds, timeline? }   → LoadReport (with timeline: due times,
 *                                                   latencies and this process's stalls, for tail.ts)
 *          { payers: [node, channelId][], amount, mode, … }   → the same, payment i from payer i mod n over its channel
 *   invoices { node, count, amount, asset, expiresIn }     → the encoded invoices (sluice1…) the node made
 *   payInvoices { payers: [node, invoices[]][], mode, … }  → LoadReport: payment i by payer i mod n, its next invoice
 *   close  { node, channelId }                       → { hash, gasUsed, version }
 *   stalls                                           → GC pauses, longest commit, event-loop delay since the last ask
 *   events                                           → the GC pauses and group commits since the last ask (or pay), stamped
 *   channel{ node, channelId }                       → version, payments
 *   api    { node }                                  → { url, token }: the node's local HTTP API (events, metrics)
 *   metrics{ node, follow }                          → the node's metrics follow the event log and the commits, or stop
 *   lastEvent { node }                               → the id of the node's last event
 *   stop                                             → stops the nodes and exits (so --cpu-prof writes)
 */
import path from "node:path";
import { PerformanceObserver, monitorEventLoopDelay } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { JsonRpcProvider } from "ethers";
import { startApiServer, type ApiServer } from "../../src/node/api";
import { SluiceNode } from "../../src/node/node";
import type { Address, Hex } from "../../src/types";
import { closedLoop, openLoop, summarize, type LoadResult } from "./load";
import type { LoopEvent } from "./tail";

interface Command {
  id: number;
  cmd: string;
  args: Record<string, unknown>;
}

const nodes: SluiceNode[] = [];
const servers: ApiServer[] = [];
let provider: JsonRpcProvider | undefined;

const refOf = (i: number): Hex => `0x${i.toString(16).padStart(64, "0")}`;

/** GC pauses and group commits, stamped with the wall clock, for scripts/bench/tail.ts. */
const loopEvents: LoopEvent[] = [];
const MAX_LOOP_EVENTS = 1_000_000;
function recordEvent(event: LoopEvent): void {
  if (loopEvents.length < MAX_LOOP_EVENTS) loopEvents.push(event);
}
const takeEvents = (): LoopEvent[] => loopEvents.splice(0);

function report(result: LoadResult & { offered?: number; lateness?: number[] }) {
  return {
    offered: result.offered,
    done: result.done,
    failed: result.failed,
    firstError: result.firstError,
    seconds: result.seconds,
    perSecond: result.done / result.seconds,
    latencyMs: summarize(result.latencies),
    latenessMs: result.lateness ? summarize(result.lateness) : undefined,
    windowUs: result.windowUs,
  };
}

let payCounter = 0;

/** The group commits of this process's nodes (one transaction and one fsync each), and the milliseconds they took. */
function commits(): { count: number; ms: number; writes: number } {
  const total = { count: 0, ms: 0, writes: 0 };
  for (const n of nodes) {
    total.count += n.commits.stats.groups;
    total.ms += n.commits.stats.ms;
    total.writes += n.commits.stats.writes;
  }
  return total;
}

/** Where this process's event loop stalled: garbage collection and the event-loop delay, since the last `stalls`. */
const gc = { count: 0, ms: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gc.count++;
    gc.ms += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    recordEvent({ kind: "gc", at: performance.timeOrigin + entry.startTime, ms: entry.duration });
  }
}).observe({ entryTypes: ["gc"] });
// The monitor's 1 ms timer wakes the event loop a thousand times a second, which costs CPU and
// wake-ups the nodes would not have: on only when debugging.
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
if (process.env.BENCH_DEBUG) loopDelay.enable();

function stalls() {
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const r = {
    gc: { count: gc.count, ms: Math.round(gc.ms * 100) / 100, maxMs: Math.round(gc.maxMs * 100) / 100 },
    loopDelayMs: process.env.BENCH_DEBUG ? { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) } : undefined,
  };
  Object.assign(gc, { count: 0, ms: 0, maxMs: 0 });
  loopDelay.reset();
  return r;
}

const hubOf = (fees: { base: string; ppm: number } | undefined) => (fees ? { fees: { base: BigInt(fees.base), ppm: fees.ppm } } : undefined);

/** Runs a closed or open loop of `send` as `a` says, with this process's CPU, commits and stalls over it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parent's JSON arguments
async function measured(a: Record<string, any>, send: (i: number) => Promise<unknown>) {
  stalls();
  takeEvents();
  const cpu0 = process.cpuUsage();
  const c0 = commits();
  const result = a.mode === "open" ? await openLoop(a.rate as number, a.seconds as number, send) : await closedLoop(a.total as number, a.concurrency as number, send);
  payCounter += result.done + result.failed;
  const cpu = process.cpuUsage(cpu0);
  const c1 = commits();
  const groupCommits = { count: c1.count - c0.count, writes: c1.writes - c0.writes, msBlocked: Math.round(c1.ms - c0.ms) };
  // With `timeline` (open loop): each payment's due time and latency, and this process's stalls, for scripts/bench/tail.ts.
  const timeline = a.timeline === true && result.dueAt ? { dueAt: result.dueAt, latencies: result.latencies, events: takeEvents() } : {};
  return { ...report(result), ...timeline, groupCommits, cpuUsPerPayment: Math.round((cpu.user + cpu.system) / Math.max(1, result.done)), stalls: stalls() };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parent's JSON arguments, each command reads its own
async function run(cmd: string, a: Record<string, any>): Promise<unknown> {
  switch (cmd) {
    case "init": {
      provider = new JsonRpcProvider(a.rpc as string, undefined, { cacheTimeout: -1, staticNetwork: true });
      const keys = a.keys as Hex[];
      const made = keys.map(
        (key, i) =>
          new SluiceNode({
            privateKey: key,
            provider: provider!,
            adjudicator: a.adjudicator as Address,
            storePath: path.join(a.dir as string, `node-${i}.sqlite`),
            pollMs: (a.pollMs as number) ?? 60_000,
            proposalsInFlight: process.env.BENCH_PROPOSALS_IN_FLIGHT ? Number(process.env.BENCH_PROPOSALS_IN_FLIGHT) : undefined,
            hub: hubOf(a.hub as { base: string; ppm: number } | undefined),
            onError: (error, what) => {
              if (process.env.BENCH_DEBUG) console.error(`node ${i}: ${what}:`, error);
            },
          }),
      );
      // Start a few at a time: each start asks the chain for the network and the block number.
      for (let i = 0; i < made.length; i += 10) await Promise.all(made.slice(i, i + 10).map((n) => n.start()));
      nodes.push(...made);
      for (const n of made) n.commits.observe((t) => recordEvent({ kind: "commit", at: t.startedAt, ms: t.ms }));
      return made.map((n) => ({ address: n.address, peerUrl: n.peerUrl }));
    }
    case "open": {
      const view = await nodes[a.node as number].openChannel({
        peer: a.peer as Address,
        peerUrl: a.peerUrl as string,
        asset: a.asset as Address,
        deposit: BigInt(a.deposit as string),
      });
      return view.channelId;
    }
    case "deposit": {
      const view = await nodes[a.node as number].deposit(a.channelId as Hex, BigInt(a.amount as string));
      return view.deposits.map(String);
    }
    case "channel": {
      const view = await nodes[a.node as number].channel(a.channelId as Hex);
      return { version: view.version.toString(), payments: view.payments.toString(), deposits: view.deposits.map(String) };
    }
    case "pay": {
      const amount = BigInt(a.amount as string);
      const base = payCounter;
      if (a.payers) {
        const payers = a.payers as [number, Hex][];
        return measured(a, (i) => nodes[payers[i % payers.length][0]].pay(payers[i % payers.length][1], amount, refOf(base + i)));
      }
      const node = nodes[a.node as number];
      const channels = a.channels as Hex[];
      return measured(a, (i) => node.pay(channels[i % channels.length], amount, refOf(base + i)));
    }
    case "invoices": {
      const node = nodes[a.node as number];
      const made: string[] = [];
      for (let i = 0; i < (a.count as number); i++) {
        const invoice = await node.createInvoice({ amount: BigInt(a.amount as string), asset: a.asset as Address, expiresIn: BigInt(a.expiresIn as number) });
        made.push(invoice.encoded);
      }
      return made;
    }
    case "payInvoices": {
      const payers = a.payers as [number, string[]][];
      const next = payers.map(() => 0);
      return measured(a, (i) => {
        const p = i % payers.length;
        const invoice = payers[p][1][next[p]++];
        if (invoice === undefined) return Promise.reject(new Error(`payer ${p} has no invoice left`));
        return nodes[payers[p][0]].payInvoice(invoice);
      });
    }
      takeEvents();
    case "close": {
      const tx = await nodes[a.node as number].close(a.channelId as Hex);
      const view = await nodes[a.node as number].channel(a.channelId as Hex);
      return { hash: tx.hash, gasUsed: tx.gasUsed.toString(), version: view.version.toString() };
    }
    case "cpu": {
      const u = process.cpuUsage();
      return { userUs: u.user, systemUs: u.system, commits: commits() };
    }
    case "api": {
      const node = nodes[a.node as number];
      const token = randomBytes(32).toString("hex");
      const server = await startApiServer({ api: node, token, events: node.store.events, metrics: node.metrics });
      servers.push(server);
      return { url: server.url, token };
    }
    case "metrics": {
      const node = nodes[a.node as number];
      node.metrics.stop();
      if (a.follow === true) node.metrics.follow(node.store.events, node.commits);
      return null;
    }
    case "lastEvent":
      return nodes[a.node as number].store.events.lastId().toString();
    case "stalls":
      return stalls();
    case "events":
      return takeEvents();
    case "stop": {
      for (const server of servers) await server.close();
      for (const node of nodes) await node.stop().catch(() => undefined);
      provider?.destroy();
      return null;
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

process.on("message", (message: Command) => {
  run(message.cmd, message.args).then(
    (result) => {
      process.send!({ id: message.id, result }, () => {
        if (message.cmd === "stop") process.exit(0);
      });
    },
    (error: unknown) => process.send!({ id: message.id, error: String((error as Error)?.stack ?? error) }),
  );
});
process.send!({ ready: true });
