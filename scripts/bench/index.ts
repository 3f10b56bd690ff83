/**
 * `npm run bench`: what Sluice exists for, beside the limits of this machine. Writes one JSON
 * file per section to bench/results/ and regenerates docs/benchmarks.md from them.
 *
 *   BENCH_ONLY=crypto,floor,merkle,channel,api,hub,routed,observe,gas   run only these sections (the others' last
 *                                                  results stay and go into the report)
 *   BENCH_QUICK=1                                  smaller runs (a smoke test of the bench)
 *   BENCH_OUT=<dir>                                write the results and the report to <dir> instead of
 *                                                  bench/results/ and docs/benchmarks.md
 *   BENCH_KEEP=1                                   keep the temporary stores and CPU profiles
 *   BENCH_DEBUG=1                                  print the GC pauses and event-loop delays of each run
 *   BENCH_LATENCY_ONLY=1                           channel: the 100/s and 1,000/s runs only (kept with the last throughput results)
 *   BENCH_PROPOSALS_IN_FLIGHT=n                    the nodes' proposalsInFlight (default: the node's)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startChain, type BenchChain } from "./chain";
import { cpuFloor } from "./cpuFloor";
import { machineFloor } from "./floor";
import { hubBench } from "./hub";
import { cryptoLimit, merkleCosts } from "./micro";
import { observeBench } from "./observe";
import { oneChannelApi, oneChannelLatency, oneChannelNode, type Scale } from "./oneChannel";
import { routedBench } from "./routed";
import { REPORT_FILE, RESULTS_DIR, machine, writeReport, type GasResult, type SectionFile } from "./report";

const SECTIONS = ["crypto", "floor", "merkle", "channel", "api", "hub", "routed", "observe", "gas"] as const;
type Section = (typeof SECTIONS)[number];

const log = (s: string) => console.log(s);

function save(name: string, data: object, startedLoad: number[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const body = { section: name, machine: { ...machine(), loadAverageAtStart: startedLoad, loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100) }, ...data };
  writeFileSync(path.join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(body, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY ? (process.env.BENCH_ONLY.split(",").map((s) => s.trim()) as Section[]) : [...SECTIONS];
  for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; sections: ${SECTIONS.join(", ")}`);
  const quick = process.env.BENCH_QUICK === "1";
  const scale: Scale = quick ? { closedTotal: 5_000, openSeconds: 3, concurrencies: [1, 64] } : { closedTotal: 20_000, openSeconds: 8, concurrencies: [1, 16, 64, 256] };
  // One run's p99 at 1,000/s moves by milliseconds from run to run here: several runs, the median reported.
  const latencyRepeats = quick ? 2 : 5;
  const latencyRepeats100 = quick ? 1 : 3;
  const m = machine();
  log(`Sluice benchmarks: ${m.cpus} × ${m.cpuModel}, node ${m.node}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  const load = () => os.loadavg().map((x) => Math.round(x * 100) / 100);

  if (only.includes("crypto")) {
    const l = load();
    log("\n[crypto] libsecp256k1 on one core");
    const c = cryptoLimit();
    log(`  ${c.signsPerSecond} signs/s, ${c.verifiesPerSecond} verifications/s → ${c.paymentLimitOneCore} payments/s on one core (2 signs + 2 verifications each)`);
    save("crypto", { crypto: c }, l);
  }
  if (only.includes("floor")) {
    const l = load();
    log("\n[floor] one round with none of Sluice in it: loopback TCP and one fsync'd write on each side");
    const plan = [
      ...Array.from({ length: latencyRepeats100 }, () => ({ rate: 100, burnUs: 0 })),
      ...Array.from({ length: latencyRepeats }, () => ({ rate: 1_000, burnUs: 0 })),
      // A round that also does part of a Sluice round's CPU work (busy loops; 600 µs is about all of it), to see how the tail grows with it.
      ...[100, 250, 600].flatMap((burnUs) => Array.from({ length: quick ? 1 : 2 }, () => ({ rate: 1_000, burnUs }))),
    ];
    const runs = await machineFloor(plan, scale.openSeconds);
    for (const r of runs) log(`  ${r.offered}/s${r.burnUs ? ` + ${r.burnUs} µs of CPU per side` : ""}: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms, CPU per round ${r.cpuUsPerRound?.join(" + ")} µs`);
    const cpu = await cpuFloor(scale.openSeconds);
    log(`  CPU floor of one payment per state: crypto ${cpu.cryptoUs} µs, commit ${cpu.commitUs} µs, round ${cpu.roundUs.join(" + ")} µs less its write ${cpu.fsyncWriteUs} µs → ${cpu.floorUs.join(" + ")} µs`);
    save("floor", { seconds: scale.openSeconds, runs, cpuFloor: cpu }, l);
  }
  if (only.includes("merkle")) {
    const l = load();
    log("\n[merkle] payment log append and proof costs");
    const r = merkleCosts(quick ? 100_000 : 1_000_000);
    for (const a of r.append) log(`  n = ${a.n}: ${a.usPerAppend} µs per payment (leaf, append, new root); tree append alone ${a.treeOnlyUsPerAppend} µs`);
    log(`  proof at ${r.proofAt}: p50 ${r.proofMs.p50} ms, p99 ${r.proofMs.p99} ms, max ${r.proofMs.max} ms (${r.proofLength} hashes, verified: ${r.verified})`);
    save("merkle", { merkle: r }, l);
  }

  const needChain = only.some((s) => s === "channel" || s === "api" || s === "hub" || s === "routed" || s === "observe" || s === "gas");
  if (!needChain) {
    writeReport();
    return;
  }
  log("\nstarting a hardhat node, deploying the adjudicator and a stablecoin");
  const chain = await startChain();
  try {
    let channelGas: Awaited<ReturnType<typeof oneChannelNode>>["gas"] | undefined;
    if (only.includes("channel")) {
      const l = load();
      log("\n[channel] one channel, two node processes, payments on the node objects (no HTTP)");
      const latencyOnly = process.env.BENCH_LATENCY_ONLY === "1";
      const previous = path.join(RESULTS_DIR, "channel.json");
      if (latencyOnly && !existsSync(previous)) throw new Error("BENCH_LATENCY_ONLY needs an earlier channel run in bench/results/channel.json");
      const r = latencyOnly ? undefined : await oneChannelNode(chain, scale, log);
      if (r) channelGas = r.gas;
      log("  latency: a fresh pair of node processes without the profiler");
      const latency = await oneChannelLatency(chain, { ...scale, repeats: latencyRepeats, repeats100: latencyRepeats100 }, log);
      const body = r
        ? { scale, result: { ...r.node, latency }, profile: r.profile, peerProfile: r.profile1 }
        : (() => {
            const old = JSON.parse(readFileSync(previous, "utf8")) as SectionFile<"channel">;
            return { scale: old.scale, latencyScale: scale, result: { ...old.result, latency }, profile: old.profile, peerProfile: old.peerProfile };
          })();
      save("channel", body, l);
    }
    if (only.includes("api")) {
      const l = load();
      log("\n[api] one channel, two `sluice node start` processes, payments through the HTTP API");
      const r = await oneChannelApi(chain, scale, log);
      save("api", { scale, result: r }, l);
    }
    if (only.includes("hub")) {
      const l = load();
      log("\n[hub] one hub node, 100 channels to 100 peers");
      const r = await hubBench(
        chain,
        quick
          ? { channels: 100, peerProcesses: 2, closedTotal: 5_000, concurrency: [400], openSeconds: 3, openRates: [1_000] }
          : { channels: 100, peerProcesses: 2, closedTotal: 20_000, concurrency: [100, 400, 1_000], openSeconds: 8, openRates: [1_000] },
        log,
      );
      save("hub", { result: r }, l);
    }
    if (only.includes("routed")) {
      const l = load();
      log("\n[routed] invoices paid through one hub: 50 payers and 50 payees, each with a channel to it (A→H→C), beside direct payments");
      const r = await routedBench(
        chain,
        quick
          ? { pairs: 50, closed: [{ concurrency: 256, total: 4_000 }, { concurrency: 4_096, total: 16_000 }], closedRepeats: 1, openRate: 100, openSeconds: 3, openRepeats: 2, lowRate: 10 }
          : {
              pairs: 50,
              closed: [
                { concurrency: 64, total: 3_000 },
                { concurrency: 256, total: 3_000 },
                { concurrency: 4_096, total: 16_000 },
              ],
              closedRepeats: 3,
              openRate: 100,
              openSeconds: 8,
              openRepeats: 3,
              lowRate: 10,
            },
        log,
      );
      save("routed", { result: r }, l);
    }
    if (only.includes("observe")) {
      const l = load();
      log("\n[observe] one channel at 256 in flight: metrics off, on, with an SSE subscriber on the payee, with a webhook on the payee, with /metrics scraped every 100 ms");
      const scale = quick ? { total: 4_000, concurrency: 256, repeats: 2, scrapeMs: 100 } : { total: 20_000, concurrency: 256, repeats: 5, scrapeMs: 100 };
      save("observe", { scale, result: await observeBench(chain, scale, log) }, l);
    }
    if (only.includes("gas")) {
      const l = load();
      log("\n[gas] a channel day against direct ERC-20 transfers");
      save("gas", { gas: await gas(chain, channelGas) }, l);
    }
  } finally {
    await chain.stop();
  }
  writeReport();
  log(`\nwrote ${path.relative(process.cwd(), RESULTS_DIR)}/*.json and ${path.relative(process.cwd(), REPORT_FILE)}`);
}

/** Direct ERC-20 transfers on the same chain, and the channel day's gas (from the channel run, or a fresh small one). */
async function gas(chain: BenchChain, measured: Awaited<ReturnType<typeof oneChannelNode>>["gas"] | undefined): Promise<GasResult> {
  let day = measured;
  if (!day) {
    log("  (no channel run in this invocation: a short one for the gas figures)");
    day = (await oneChannelNode(chain, { closedTotal: 2_000, openSeconds: 0, concurrencies: [64] }, log)).gas;
  }
  const from = chain.node.wallet(6);
  const to = chain.node.wallet(7).address;
  const token = chain.token.connect(from);
  await (await chain.token.mint(from.address, 10n ** 12n)).wait();
  const first = await (await token.transfer(to, 1_000n)).wait();
  const steady: bigint[] = [];
  for (let i = 0; i < 20; i++) steady.push((await (await token.transfer(to, 1_000n + BigInt(i))).wait())!.gasUsed);
  steady.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const transfer = steady[Math.floor(steady.length / 2)];
  const freshRecipient = first!.gasUsed;
  const channelDay = day.deposit0 + day.deposit1 + day.close;
  const withApprovals = channelDay + day.approvals;
  const breakEven = (fixed: bigint, per: bigint) => Number(fixed / per) + 1;
  const r = {
    channel: { ...day, channelDay, channelDayWithApprovals: withApprovals },
    transfer: { toHolder: transfer, toFreshAddress: freshRecipient },
    breakEven: {
      vsTransfersToHolders: breakEven(channelDay, transfer),
      vsTransfersToHoldersWithApprovals: breakEven(withApprovals, transfer),
      vsTransfersToFreshAddresses: breakEven(channelDay, freshRecipient),
    },
  };
  log(
    `  channel day ${channelDay} gas (${day.payments} payments; + ${day.approvals} for the approvals) vs ${transfer} gas per transfer → break-even at N = ${r.breakEven.vsTransfersToHolders} (${r.breakEven.vsTransfersToHoldersWithApprovals} counting the approvals)`,
  );
  return r;
}

main().catch((error: unknown) => {
  console.error(String((error as Error)?.stack ?? error).slice(0, 4000));
  process.exit(1);
});
