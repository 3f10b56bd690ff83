/**
 * Peer transport micro-benchmark between two processes over loopback: a PeerServer in a child
 * process (test/node/fixtures/transport-peer.ts) and a client here.
 *
 *   npx ts-node --transpile-only scripts/bench-transport.ts
 *
 * 1. Latency and CPU: an open-loop load of 1,000 requests/s (sent on a fixed schedule whatever the
 *    answers do) for BENCH_LATENCY_SECONDS (default 5); reports p50/p99/max round-trip latency and
 *    the CPU time per request of each side (this process by `process.cpuUsage`, the peer by
 *    /proc/<pid>/stat).
 * 2. Throughput: echo requests with a ~300-byte body (about a payment message), pipelined with a
 *    window of W requests in flight, for several W. Reports round trips per second.
 *
 * BENCH_REPEAT=n runs the latency phase n times and reports each run and the medians (the machine
 * is shared: single runs are noisy). BENCH_LATENCY_ONLY=1 skips the throughput phase.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { connectPeer, keyIdentity, type PeerConnection } from "../src/node/transport";
import type { Address, Hex } from "../src/types";
import { testValidators, type TestMessages } from "../test/node/fixtures/transport-messages";

const SERVER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" as Hex;
const CLIENT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcb4e6e8e4b2ab1b20" as Hex;
const CHAIN_ID = 31337n;
const ADJUDICATOR = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
const PAD = "p".repeat(280);
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

async function startPeer(): Promise<{ port: number; pid: number; kill: () => void }> {
  const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "..", "test", "node", "fixtures", "transport-peer.ts")], {
    cwd: path.join(__dirname, ".."),
    env: { ...process.env, PEER_KEY: SERVER_KEY, PEER_CHAIN_ID: CHAIN_ID.toString(), PEER_ADJUDICATOR: ADJUDICATOR },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout.on("data", (chunk) => {
      buffer += String(chunk);
      if (buffer.includes("\n")) resolve(buffer.split("\n")[0]);
    });
    child.once("exit", (code) => reject(new Error(`peer exited with ${code}`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, pid: child.pid ?? 0, kill: () => child.kill("SIGKILL") };
}

/** CPU time (user + system) of another process so far, in µs. */
function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: state is field 3, utime field 14, stime field 15 (1-based over the whole line).
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / USER_HZ;
}

function ownCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Keeps `window` requests in flight until `total` have been answered; returns round trips/s. */
async function throughput(connection: PeerConnection<TestMessages>, total: number, window: number): Promise<number> {
  let sent = 0;
  let done = 0;
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const onAnswer = (): void => {
      done++;
      if (sent < total) send();
      else if (done === total) resolve();
    };
    const send = (): void => {
      sent++;
      connection.request("echo", { n: sent, pad: PAD }).then(onAnswer, reject);
    };
    for (let i = 0; i < window && sent < total; i++) send();
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return total / seconds;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

interface LatencyRun {
  p50: number;
  p99: number;
  max: number;
  clientCpuUs: number;
  peerCpuUs: number;
}

/** Open loop at `rate` requests/s for `seconds`: latencies and CPU per request of both sides. */
async function latency(connection: PeerConnection<TestMessages>, peerPid: number, rate: number, seconds: number): Promise<LatencyRun> {
  const total = rate * seconds;
  const latencies: number[] = [];
  const cpu0 = ownCpuUs();
  const peerCpu0 = processCpuUs(peerPid);
  const start = performance.now();
  let sent = 0;
  const inFlight: Array<Promise<void>> = [];
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000) + 1;
    while (sent < due && sent < total) {
      const t0 = performance.now();
      sent++;
      inFlight.push(connection.request("echo", { n: sent, pad: PAD }).then(() => void latencies.push(performance.now() - t0)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  const clientCpuUs = (ownCpuUs() - cpu0) / total;
  const peerCpuUs = (processCpuUs(peerPid) - peerCpu0) / total;
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1], clientCpuUs, peerCpuUs };
}

function describeRun(r: LatencyRun): string {
  return `p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, max ${r.max.toFixed(3)} ms, CPU/request ${r.clientCpuUs.toFixed(0)} µs (client) + ${r.peerCpuUs.toFixed(0)} µs (server)`;
}

async function main(): Promise<void> {
  const peer = await startPeer();
  try {
    const connection = await connectPeer<TestMessages>(`ws://127.0.0.1:${peer.port}`, {
      chainId: CHAIN_ID,
      adjudicator: ADJUDICATOR,
      identity: keyIdentity(CLIENT_KEY),
      validators: testValidators,
    });
    await throughput(connection, 20_000, 16); // warm-up
    console.log(`transport benchmark: two processes over 127.0.0.1, echo of a ~${PAD.length + 30}-byte body`);
    const seconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 5);
    const repeat = Number(process.env.BENCH_REPEAT ?? 1);
    const runs: LatencyRun[] = [];
    for (let i = 0; i < repeat; i++) {
      const run = await latency(connection, peer.pid, 1_000, seconds);
      runs.push(run);
      console.log(`  latency at 1,000 req/s offered, run ${i + 1}/${repeat} (${(1_000 * seconds).toLocaleString("en-US")} requests): ${describeRun(run)}`);
    }
    if (repeat > 1) {
      const m = (key: keyof LatencyRun): number => median(runs.map((r) => r[key]));
      console.log(`  median of ${repeat}: ${describeRun({ p50: m("p50"), p99: m("p99"), max: m("max"), clientCpuUs: m("clientCpuUs"), peerCpuUs: m("peerCpuUs") })}`);
    }
    if (process.env.BENCH_LATENCY_ONLY !== "1") {
      for (const window of [1, 16, 256, 4096]) {
        const total = window === 1 ? 10_000 : 200_000;
        const rate = await throughput(connection, total, window);
        console.log(`  pipelined, ${String(window).padStart(4)} in flight: ${Math.round(rate).toLocaleString("en-US")} round trips/s (${total.toLocaleString("en-US")} requests)`);
      }
    }
    await connection.close();
  } finally {
    peer.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
