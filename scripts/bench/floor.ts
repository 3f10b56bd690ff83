/**
 * The machine's floor for one payment round, with none of Sluice in it: two processes over
 * loopback TCP; the payer sends a 400-byte frame, the payee appends a 12 KiB record to a file and
 * fsyncs it (about what a SQLite commit of a countersigned state writes to its log) before it
 * answers, and the payer does the same before the round counts. No cryptography, no JSON, no
 * SQLite, no WebSocket. Driven by the same open-loop metronome as the channel runs, so Sluice's
 * latency can be read against what the machine's scheduler, loopback and disk allow. A run may
 * add `burnUs` of busy CPU on each side per round, to see how the tail grows with the work done.
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { openLoop, summarize, type LatencySummary } from "./load";

const FRAME = 400;
const RECORD = 12 * 1024;
const SLOTS = 256;

export interface FloorRun {
  offered: number;
  /** Busy CPU added on each side per round (µs). */
  burnUs: number;
  latencyMs: LatencySummary;
  /** CPU time (user + system) per round of the payer's process (its metronome included) and of the payee's (µs). */
  cpuUsPerRound?: [number, number];
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

function burn(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/** A file of SLOTS records, written once so the runs overwrite blocks already allocated (as a WAL does). */
function journal(file: string): () => void {
  const fd = fs.openSync(file, "w");
  const record = Buffer.alloc(RECORD, 1);
  for (let i = 0; i < SLOTS; i++) fs.writeSync(fd, record, 0, RECORD, i * RECORD);
  fs.fsyncSync(fd);
  let next = 0;
  return () => {
    fs.writeSync(fd, record, 0, RECORD, (next++ % SLOTS) * RECORD);
    fs.fsyncSync(fd);
  };
}

/** For each whole frame that arrives: the CPU work, the durable write, then `then`. */
function onFrames(socket: net.Socket, burnUs: number, commit: () => void, then: () => void): void {
  socket.setNoDelay(true);
  let buffered = 0;
  socket.on("data", (chunk) => {
    buffered += chunk.length;
    for (; buffered >= FRAME; buffered -= FRAME) {
      burn(burnUs);
      commit();
      then();
    }
  });
}

/** The payee: answers each frame after its record is on disk. */
function payee(file: string, burnUs: number): void {
  const commit = journal(file);
  const server = net.createServer((socket) => onFrames(socket, burnUs, commit, () => socket.write(Buffer.alloc(FRAME, 2))));
  server.listen(0, "127.0.0.1", () => process.send!((server.address() as net.AddressInfo).port));
  // The parent asks for this process's CPU time before and after a run.
  process.on("message", () => process.send!(cpuNow()));
}

/** Runs the skeleton for each entry (a fresh pair of processes each), `seconds` of schedule each. */
export async function machineFloor(plan: { rate: number; burnUs: number }[], seconds: number): Promise<FloorRun[]> {
  const runs: FloorRun[] = [];
  for (const { rate, burnUs } of plan) runs.push({ offered: rate, burnUs, ...(await floorRun(rate, burnUs, seconds)) });
  return runs;
}

async function floorRun(rate: number, burnUs: number, seconds: number): Promise<Pick<FloorRun, "latencyMs" | "cpuUsPerRound">> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "sluice-bench-floor-"));
  const child = fork(__filename, ["payee", path.join(dir, "payee.log"), String(burnUs)], { execArgv: ["-r", "ts-node/register/transpile-only"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve(m as number));
      child.once("exit", (code) => reject(new Error(`floor payee exited (${code})`)));
    });
    const socket = net.connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const waiting: (() => void)[] = [];
    onFrames(socket, burnUs, journal(path.join(dir, "payer.log")), () => waiting.shift()!());
    const frame = Buffer.alloc(FRAME, 1);
    const send = () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        socket.write(frame);
      });
    const payeeCpu = () =>
      new Promise<number>((resolve) => {
        child.once("message", (m) => resolve(m as number));
        child.send("cpu");
      });
    await openLoop(rate, 1, send); // warm-up
    const before = [cpuNow(), await payeeCpu()];
    const r = await openLoop(rate, seconds, send);
    const after = [cpuNow(), await payeeCpu()];
    socket.destroy();
    const perRound = (i: number) => Math.round((after[i] - before[i]) / Math.max(1, r.latencies.length));
    return { latencyMs: summarize(r.latencies), cpuUsPerRound: [perRound(0), perRound(1)] };
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv[2] === "payee") payee(process.argv[3], Number(process.argv[4]));
