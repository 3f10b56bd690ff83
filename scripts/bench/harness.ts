/** The bench's side of a node harness child process (scripts/bench/nodeHarness.ts). */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { LatencySummary } from "./load";
import type { TailAttribution } from "./tail";

const ROOT = path.resolve(__dirname, "..", "..");

/** What stalled a process's event loop during a run: GC pauses and the loop's delay. */
export interface Stalls {
  gc: { count: number; ms: number; maxMs: number };
  /** Only with BENCH_DEBUG (the monitor's 1 ms timer would add wake-ups to every run). */
  loopDelayMs?: { p50: number; p99: number; max: number };
}

export interface GroupCommits {
  count: number;
  writes: number;
  /** Milliseconds the commits blocked the process's event loop. */
  msBlocked: number;
}

export interface LoadReport {
  offered?: number;
  done: number;
  failed: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** Open loop: how late each send started after its due time (the paying process's event loop was busy). */
  latenessMs?: LatencySummary;
  windowUs: [number, number];
  /** CPU time (user + system) of the paying process per payment resolved. */
  cpuUsPerPayment?: number;
  /** The same for the peer's process (one-channel runs). */
  peerCpuUsPerPayment?: number;
  /** Group commits (transactions, each one fsync) in the paying process, the writes they held and the time they blocked it. */
  groupCommits?: GroupCommits;
  peerGroupCommits?: GroupCommits;
  stalls?: Stalls;
  peerStalls?: Stalls;
  /** Open loop on one channel: which stalls the slowest payments overlapped. */
  tail?: TailAttribution;
}

export class Harness {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private exited: Promise<number | null>;
  private stderr = "";

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.on("message", (m: { id?: number; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`harness: ${m.error}`));
      else p.resolve(m.result);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr += chunk.toString();
      if (process.env.BENCH_DEBUG) process.stderr.write(chunk);
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    child.once("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`harness exited (${code}):\n${this.stderr.slice(-4000)}`));
      this.pending.clear();
    });
  }

  /** Starts a harness process; `cpuProfDir` runs it with `--cpu-prof` into that folder. */
  static async start(options: { cpuProfDir?: string } = {}): Promise<Harness> {
    // The compiled nodeHarness.ts (dist/, tsconfig.build.json), rebuilt first if a source changed.
    execFileSync(process.execPath, [path.join(ROOT, "bin", "build.js"), "--if-stale"], { stdio: ["ignore", "inherit", "inherit"] });
    const execArgv: string[] = [];
    if (options.cpuProfDir) execArgv.push("--cpu-prof", "--cpu-prof-dir", options.cpuProfDir);
    const child = fork(path.join(ROOT, "dist", "scripts", "bench", "nodeHarness.js"), [], {
      cwd: ROOT,
      execArgv,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    const harness = new Harness(child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m.ready) {
          child.off("message", onMessage);
          resolve();
        }
      };
      child.on("message", onMessage);
      child.once("exit", (code) => reject(new Error(`harness exited while starting (${code}): ${harness.stderr}`)));
    });
    return harness;
  }

  call<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      this.child.send({ id, cmd, args });
    });
  }

  /** Stops its nodes and waits for the process to exit (a CPU profile is written then). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.call("stop").catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
