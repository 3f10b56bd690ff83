/**
 * Runs a Sluice node as a separate process (`sluice node start`), as an operator would, and
 * talks to it through its local HTTP API: what the demo, the end-to-end tests and the
 * benchmarks use to put real nodes on real sockets.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";
import { ApiClient } from "./api";

/** The repository: above src/node (run through ts-node) or dist/src/node (compiled). */
const ABOVE_SRC = path.resolve(__dirname, "..", "..");
const REPO_ROOT = path.basename(ABOVE_SRC) === "dist" ? path.dirname(ABOVE_SRC) : ABOVE_SRC;
const CLI = path.join(REPO_ROOT, "bin", "sluice.js");
/** Compiles src/ into dist/ if it changed since the last build: the node runs the compiled build. */
const BUILD = path.join(REPO_ROOT, "bin", "build.js");

/** The node process exited or did not come up. */
export class NodeProcessError extends SluiceError {
  static override readonly code: string = "NODE_PROCESS";
  override readonly name: string = "NodeProcessError";
}

export interface NodeProcessOptions {
  /** Data directory (created if missing). */
  datadir: string;
  /** Development key of the node (passed as SLUICE_DEV_KEY). */
  privateKey: Hex;
  rpc: string;
  adjudicator: Address;
  /** Peer listen address; a fixed port lets peers redial the node after a restart. */
  listen?: { host: string; port: number };
  /** Extra settings written to the node's config file. */
  config?: { pollMs?: number; challengePeriod?: number; payee?: Address; withdrawalWindow?: number; logLevel?: string };
  /** Extra environment of the process (e.g. SLUICE_TEST_CRASH); replaced by `restart(env)`. */
  env?: Record<string, string>;
  /** How long to wait for the API to come up (default 60 s). */
  startTimeoutMs?: number;
}

/** A node running in its own process. */
export class NodeProcess {
  api!: ApiClient;
  private child: ChildProcess | undefined;
  private output = "";
  private exit: Promise<number | null> = Promise.resolve(null);
  private env: Record<string, string>;

  private constructor(readonly options: NodeProcessOptions) {
    this.env = options.env ?? {};
  }

  /** Starts the node and resolves once its API answers. */
  static async start(options: NodeProcessOptions): Promise<NodeProcess> {
    const node = new NodeProcess(options);
    await node.launch();
    return node;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process printed (stdout and stderr). */
  log(): string {
    return this.output;
  }

  /** Starts it again (after `kill` or `stop`), on the same data directory; with `env`, that environment instead of the first one's. */
  async restart(env?: Record<string, string>): Promise<void> {
    if (this.isRunning) throw new NodeProcessError("the node is still running");
    if (env !== undefined) this.env = env;
    await this.launch();
  }

  /** Resolves with the exit code (or null after a signal) once the process has exited. */
  exited(): Promise<number | null> {
    return this.exit;
  }

  /** Kills the process at once (SIGKILL by default): a crash, with no chance to clean up. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.isRunning) return;
    this.child!.kill(signal);
    await this.exit;
    this.api?.dispose();
  }

  /** Stops it cleanly (SIGTERM) and waits for the exit. */
  async stop(): Promise<void> {
    await this.kill("SIGTERM");
  }

  private async launch(): Promise<void> {
    const o = this.options;
    mkdirSync(o.datadir, { recursive: true });
    const args = [CLI, "node", "start", "--datadir", o.datadir, "--rpc", o.rpc, "--adjudicator", o.adjudicator];
    if (o.listen) args.push("--listen", `${o.listen.host}:${o.listen.port}`);
    if (o.config) {
      const file = path.join(o.datadir, "config.json");
      writeFileSync(file, JSON.stringify(o.config));
      args.push("--config", file);
    }
    // A crashed node leaves its api.json behind: wait for the new one, not the stale one.
    rmSync(path.join(o.datadir, "api.json"), { force: true });
    // Built here rather than in the child, so that no compile counts against the start timeout.
    execFileSync(process.execPath, [BUILD, "--if-stale"], { stdio: ["ignore", "inherit", "inherit"] });
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, SLUICE_DEV_KEY: o.privateKey },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    const append = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 1_000_000) this.output = this.output.slice(-500_000);
    };
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
    while (!existsSync(path.join(o.datadir, "api.json"))) {
      if (!this.isRunning) throw new NodeProcessError(`the node exited while starting:\n${this.output}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new NodeProcessError(`the node did not start in time:\n${this.output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    this.api = await ApiClient.fromDataDir(o.datadir);
  }

  /** Deletes the data directory (the node must be stopped). */
  removeData(): void {
    if (this.isRunning) throw new NodeProcessError("stop the node first");
    rmSync(this.options.datadir, { recursive: true, force: true });
  }
}
