/**
 * Starts a local JSON-RPC node (`hardhat node` or anvil) on a free loopback port, for tests and
 * the demo. The node runs in its own process group; `stop()` ends the group, and nodes still
 * running when this process exits are killed too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Network } from "ethers";
import { SluiceError } from "../errors";

/** The mnemonic both hardhat node and anvil fund their dev accounts from by default. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const DEV_PATH = "m/44'/60'/0'/0";
const LOOPBACK = "127.0.0.1";

export type LocalNodeKind = "hardhat" | "anvil";

export interface LocalNodeOptions {
  kind: LocalNodeKind;
  /** A fixed port; default: a free one picked by the OS. */
  port?: number;
  /** The Hardhat project to run `hardhat node` in; default: the nearest folder with a hardhat.config. */
  projectRoot?: string;
  /** How long to wait for `eth_chainId` to answer (default 60 s). */
  startTimeoutMs?: number;
}

export interface LocalNode {
  readonly kind: LocalNodeKind;
  readonly url: string;
  readonly port: number;
  readonly chainId: bigint;
  readonly pid: number;
  /** A provider without ethers' 250 ms request cache (state read right after a write is fresh). */
  readonly provider: JsonRpcProvider;
  /** Dev account `i` of the default mnemonic (funded by the node), connected to `provider`. */
  wallet(index: number): HDNodeWallet;
  /** Dev accounts 0..count-1. */
  wallets(count: number): HDNodeWallet[];
  /** Output of the node so far (last lines), for diagnostics. */
  output(): string;
  /** Ends the node's process group and waits for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

/** The local node could not be started. */
export class LocalNodeError extends SluiceError {
  static override readonly code: string = "LOCAL_NODE";
  override readonly name: string = "LocalNodeError";
}

/** Ports this process has handed out: a closed port is free again, and the next call could get it too. */
const handedOut = new Set<number>();

/**
 * A port that was free on 127.0.0.1 a moment ago, and not one this process handed out before (two
 * nodes started side by side would otherwise both be given the port the first one closed).
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new LocalNodeError("no free port"))));
    });
  });
}

/** The anvil binary of the installed `@foundry-rs/anvil-<os>-<arch>` package. */
export function anvilBinary(): string {
  const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch (error) {
    throw new LocalNodeError(`anvil is not installed for ${process.platform}-${process.arch} (${pkg})`, { cause: error });
  }
  return path.join(dir, "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
}

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "hardhat.config.ts")) || existsSync(path.join(dir, "hardhat.config.js"))) return dir;
    if (path.dirname(dir) === dir) throw new LocalNodeError(`no hardhat.config above ${start}`);
  }
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(process.platform === "win32" ? child.pid : -child.pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of running) killGroup(child, "SIGKILL");
  };
  process.once("exit", killAll);
  // The nodes run in their own process group, so a Ctrl-C on the terminal does not reach them:
  // kill them, then let the signal do what it would have done (unless someone else handles it).
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

/** Sends one JSON-RPC request to `url` (loopback only) and returns its result. */
function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json" }, timeout: 2_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        try {
          const reply = JSON.parse(text) as { result?: unknown; error?: { message?: string } };
          if (reply.error) reject(new LocalNodeError(reply.error.message ?? "rpc error"));
          else resolve(reply.result);
        } catch (error) {
          reject(error instanceof Error ? error : new LocalNodeError(String(error)));
        }
      });
    });
    req.on("timeout", () => req.destroy(new LocalNodeError("rpc timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

export async function startLocalNode(options: LocalNodeOptions): Promise<LocalNode> {
  const port = options.port ?? (await freePort());
  const url = `http://${LOOPBACK}:${port}`;
  let command: string;
  let args: string[];
  let cwd: string | undefined;
  const env = { ...process.env };
  if (options.kind === "hardhat") {
    // Hardhat's CLI run directly by this Node (what `npx hardhat` resolves to, without npx).
    const root = options.projectRoot ?? findProjectRoot(__dirname);
    command = process.execPath;
    args = [require.resolve("hardhat/internal/cli/bootstrap.js", { paths: [root] }), "node", "--hostname", LOOPBACK, "--port", String(port)];
    cwd = root;
    // A parent `hardhat test --network x` must not redirect the child's network.
    delete env.HARDHAT_NETWORK;
  } else {
    command = anvilBinary();
    args = ["--port", String(port), "--host", LOOPBACK, "--silent"];
  }

  const child = spawn(command, args, { cwd, env, detached: process.platform !== "win32", stdio: ["ignore", "pipe", "pipe"] });
  installExitHook();
  running.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n"));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      running.delete(child);
      resolve();
    });
  });
  child.once("error", (error) => lines.push(`spawn error: ${error.message}`));

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return exit;
    stopped = true;
    provider?.destroy();
    if (!exited) {
      killGroup(child, "SIGTERM");
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    }
    // Sweep anything left in the group (the leader is gone; ESRCH is fine).
    killGroup(child, "SIGKILL");
  };

  let provider: JsonRpcProvider | undefined;
  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    let chainIdHex: unknown;
    for (;;) {
      if (exited) throw new LocalNodeError(`${options.kind} node exited while starting:\n${lines.join("\n")}`);
      try {
        chainIdHex = await rpc(url, "eth_chainId");
        break;
      } catch {
        if (Date.now() > deadline) throw new LocalNodeError(`${options.kind} node did not answer on ${url}:\n${lines.join("\n")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const chainId = BigInt(chainIdHex as string);
    provider = new JsonRpcProvider(url, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1, pollingInterval: 50 });
    const connected = provider;
    const root = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, DEV_PATH);
    const wallet = (index: number) => root.deriveChild(index).connect(connected);
    return {
      kind: options.kind,
      url,
      port,
      chainId,
      pid: child.pid ?? -1,
      provider: connected,
      wallet,
      wallets: (count) => Array.from({ length: count }, (_, i) => wallet(i)),
      output: () => lines.join("\n"),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Moves the node's clock forward and mines a block (`evm_increaseTime` + `evm_mine`). */
export async function increaseTime(provider: { send(method: string, params: unknown[]): Promise<unknown> }, seconds: number | bigint): Promise<void> {
  await provider.send("evm_increaseTime", [Number(seconds)]);
  await provider.send("evm_mine", []);
}

