/**
 * Start time of the `sluice` command: wall time of `sluice --help` and of `sluice status` against
 * a running node (a `hardhat node`, the adjudicator and one node process), median of N runs each;
 * and the node's answer to `info` (what `status` asks) from this process, for comparison.
 *
 *   npx ts-node --transpile-only scripts/bench/cliStartup.ts      (CLI_RUNS=15, CLI_BIN=bin/sluice.js)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deployAdjudicator, startLocalNode } from "../../src/chain";
import { NodeProcess } from "../../src/node/process";
import type { Hex } from "../../src/types";

const RUNS = Number(process.env.CLI_RUNS ?? 15);
const BIN = path.resolve(process.env.CLI_BIN ?? path.join(__dirname, "..", "..", "bin", "sluice.js"));

function timeRuns(args: string[]): number[] {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, [BIN, ...args], { stdio: "ignore", env: { ...process.env, SLUICE_DATADIR: "" } });
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return ms;
}

async function timeInfo(node: NodeProcess): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    await node.api.info();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return ms;
}

function line(what: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  return `${what.padEnd(16)} median ${median.toFixed(0)} ms  min ${sorted[0].toFixed(0)}  max ${sorted[sorted.length - 1].toFixed(0)}  (${ms.length} runs)`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-cli-startup-"));
  const chain = await startLocalNode({ kind: "hardhat" });
  let node: NodeProcess | undefined;
  try {
    const driver = await deployAdjudicator(chain.wallet(0));
    const datadir = path.join(dir, "node");
    node = await NodeProcess.start({ datadir, privateKey: chain.wallet(1).privateKey as Hex, rpc: chain.url, adjudicator: driver.address });
    timeRuns(["--help"]); // warm the file cache
    console.log(`${BIN}`);
    console.log(line("sluice --help", timeRuns(["--help"])));
    console.log(line("sluice status", timeRuns(["--datadir", datadir, "status"])));
    console.log(line("API info", await timeInfo(node)));
  } finally {
    await node?.stop();
    await chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
