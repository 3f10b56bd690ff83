/**
 * The README's "Run your own nodes" section, run as written: every command of its ```sh blocks,
 * in order, as a child process against a real `npx hardhat node`. Only what must differ in a test
 * is changed: the ports (another chain may hold 8545), the `nodes/` directory (a temporary one),
 * and the values of its `export` lines that stand for what an earlier command printed (the
 * addresses of the deploy, Bob's address, the channel id). A README command that breaks fails
 * this test.
 */
import { expect } from "chai";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { JsonRpcProvider } from "ethers";
import { formatAmount } from "../../src/cli/amount";
import { MockERC20__factory } from "../../typechain-types";

const ROOT = path.resolve(__dirname, "..", "..");
const run = promisify(execFile);

/** The section's text: from its heading to the next `## ` heading. */
function section(): string {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Run your own nodes\n");
  expect(start, "README has a section \"Run your own nodes\"").to.be.greaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The command lines of the section's ```sh blocks, in order. */
function commandsOf(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((block) =>
    block[1].split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#")),
  );
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Commands that run until stopped, and the line each prints once it is ready. */
function readyLine(command: string): RegExp | undefined {
  if (/^npx hardhat node\b/.test(command)) return /Started HTTP and WebSocket JSON-RPC server/;
  if (/ node start /.test(command)) return /API at http/;
  return undefined;
}

describe("README: Run your own nodes", function () {
  this.timeout(600_000);
  const background: ChildProcess[] = [];
  let dir: string;

  before(() => (dir = mkdtempSync(path.join(tmpdir(), "sluice-runbook-"))));
  after(() => {
    for (const child of background) {
      if (child.exitCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGTERM");
        } catch {
          child.kill("SIGTERM");
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs start to finish: a chain, the contracts, two keys, two nodes, test dollars, a channel, two payments, a close", async () => {
    const text = section();
    const commands = commandsOf(text);
    const [chainPort, alicePort, bobPort] = [await freePort(), await freePort(), await freePort()];
    for (const needed of ["http://127.0.0.1:8545", "127.0.0.1:9735", "127.0.0.1:9736", "nodes/"]) {
      expect(text, `the section uses ${needed}, which the test replaces`).to.include(needed);
    }
    const chainUrl = `http://127.0.0.1:${chainPort}`;
    const adapt = (command: string): string =>
      command
        .replace(/^npx hardhat node\b/, `npx hardhat node --port ${chainPort}`)
        .replaceAll("http://127.0.0.1:8545", chainUrl)
        .replaceAll("127.0.0.1:9735", `127.0.0.1:${alicePort}`)
        .replaceAll("127.0.0.1:9736", `127.0.0.1:${bobPort}`)
        .replace(/(^|\s)nodes(?=\/|\s|$)/g, `$1${dir}/nodes`);

    /** What earlier commands printed, for the `export` lines that stand for it. */
    const printed = new Map<string, string>();
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.SLUICE_DATADIR;
    const outputs: { command: string; stdout: string }[] = [];

    for (const command of commands) {
      const line = adapt(command);
      const ready = readyLine(command);
      if (ready !== undefined) {
        await startInBackground(line, env, ready, background);
        continue;
      }
      if (command.startsWith("export ")) {
        // Run as written, then put in what the earlier commands printed for the names that stand for it.
        const { stdout } = await run("bash", ["-c", `${line}\nenv -0`], { cwd: ROOT, env });
        for (const entry of stdout.split("\0")) {
          const eq = entry.indexOf("=");
          if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
        for (const name of [...command.matchAll(/(?:^export|\s)([A-Z_]+)=/g)].map((m) => m[1])) {
          if (printed.has(name)) env[name] = printed.get(name);
          expect(env[name], `${name} is set`).to.be.a("string").and.not.equal("");
        }
        continue;
      }
      let stdout: string;
      try {
        ({ stdout } = await run("bash", ["-o", "pipefail", "-c", line], { cwd: ROOT, env, timeout: 240_000 }));
      } catch (error) {
        const e = error as { code?: unknown; stdout?: string; stderr?: string };
        throw new Error(`README command failed (exit ${String(e.code)}): ${command}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`, { cause: error });
      }
      outputs.push({ command, stdout });
      if (command.startsWith("npm run deploy")) {
        const json = JSON.parse(/\{[\s\S]*\}/.exec(stdout)?.[0] ?? "null") as { adjudicator: string; token: string };
        printed.set("ADJUDICATOR", json.adjudicator);
        printed.set("USDC", json.token);
      }
      const address = /0x[0-9a-fA-F]{40}/.exec(stdout)?.[0];
      if (/key import \S*alice\.json/.test(command)) printed.set("ALICE", address!);
      if (/key import \S*bob\.json/.test(command)) printed.set("BOB", address!);
      const opened = /opened channel (0x[0-9a-f]{64})/.exec(stdout);
      if (opened) printed.set("CHANNEL", opened[1]);
    }

    // Every step ran: the two nodes and the chain in the background, and each command the section names.
    expect(background).to.have.length(3);
    for (const step of ["npm run deploy", "key import", "dev mint", "open ", "pay ", "payments ", "close "]) {
      expect(outputs.some((o) => o.command.includes(step)), `the section runs ${step.trim()}`).to.equal(true);
    }
    // The addresses the README states are the ones a fresh chain and those keys give.
    for (const name of ["ADJUDICATOR", "USDC", "BOB"]) {
      expect(text.toLowerCase(), `the README's ${name}`).to.include(printed.get(name)!.toLowerCase());
    }

    const usdc = { asset: printed.get("USDC") as `0x${string}`, symbol: "USDC", decimals: 6 };
    const listed = outputs.find((o) => / payments /.test(o.command))!.stdout;
    expect(listed).to.include(formatAmount(12_500000n, usdc)).and.include(formatAmount(7_500000n, usdc));
    expect(listed.split("\n").filter((row) => /^\s*\d+\s+(\S+\s+)?peer\s/.test(row)), `Bob's node lists both payments, from the peer:\n${listed}`).to.have.length(2);
    expect(outputs.find((o) => / channels$/.test(o.command))!.stdout).to.match(/closed/);

    const provider = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
    try {
      const token = MockERC20__factory.connect(usdc.asset, provider);
      expect(await token.balanceOf(printed.get("BOB")!)).to.equal(20_000000n);
      expect(await token.balanceOf(printed.get("ALICE")!)).to.equal(980_000000n);
      expect(await token.balanceOf(printed.get("ADJUDICATOR")!)).to.equal(0n);
    } finally {
      provider.destroy();
    }
  });
});

/** Starts a command that runs until stopped; resolves once it prints `ready`, rejects if it exits first. */
function startInBackground(command: string, env: NodeJS.ProcessEnv, ready: RegExp, started: ChildProcess[]): Promise<void> {
  const child = spawn("bash", ["-c", `exec ${command}`], { cwd: ROOT, env: { ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let output = "";
  let isReady = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 180 s: ${command}\n${output}`)), 180_000);
    const onData = (chunk: Buffer) => {
      if (isReady) return; // keep reading, so that a chatty process never blocks on a full pipe
      output = (output + chunk.toString()).slice(-20_000);
      if (ready.test(output)) {
        isReady = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      if (isReady) return;
      clearTimeout(timer);
      reject(new Error(`exited (${String(code)}) before it was ready: ${command}\n${output}`));
    });
  });
}
