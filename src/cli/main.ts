/**
 * `sluice`: the command line of the Sluice node, in the spirit of `lncli`. Every command but
 * `node start` talks to the node running in the data directory through its local API (the URL in
 * `api.json`, the token in `api.token`).
 *
 * Global flags: `--datadir <dir>` (default `$SLUICE_DATADIR`, else `./.sluice`), `--json` (the
 * result as JSON on stdout; errors as `{ "error": { code, message, details? } }` on stdout too),
 * `--help`. Exit codes: 0 done, 1 failed, 2 the command line is wrong.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { ApiClient } from "../node/api/client";
import { ApiError } from "../node/api/errors";
import { ApiFileError } from "../node/api/token";
import type { Json } from "../node/api/wire";
import { SluiceError, codeOf } from "../errors";
import { COMMANDS, addressArg, type Command, type Context, type Output, type Values } from "./commands";
import { CliError, UsageError } from "./errors";
import { checkGwei, checkInteger, checkListen, checkLogLevel, checkRpcUrls } from "../schema/config";
import type { Checked } from "../schema/primitives";

export const DEFAULT_DATADIR = "./.sluice";

// The type alone: src/node/start.ts itself is loaded only by `node start`.
import type { NodeStartOptions } from "../node/start";
export type { NodeStartOptions };

/** A running node as `startNode` resolves it; `close()` stops it (on Ctrl-C or SIGTERM). */
export interface StartedNode {
  close(): Promise<void>;
}

export type StartNode = (options: NodeStartOptions) => Promise<StartedNode | void>;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stderrIsTTY: boolean;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Loads `startNode` (default: require of src/node/start.ts, loaded only by `node start`). */
  loadStartNode?: () => StartNode;
  /** Resolves when a started node should stop (default: SIGINT or SIGTERM). */
  waitForStop?: () => Promise<void>;
  /** All of stdin (default: the process's). */
  readStdin?: () => Promise<string>;
}

const GLOBAL_OPTIONS = {
  datadir: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "sluice: two-party payment channels. Talks to the node running in the data directory.",
    "",
    "Usage: sluice [--datadir <dir>] [--json] <command> [arguments]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global flags:",
    `  --datadir <dir>  the node's data directory (default: $SLUICE_DATADIR, else ${DEFAULT_DATADIR})`,
    "  --json           print the result as JSON (errors too, as {\"error\": {code, message}})",
    "  -h, --help       help; `sluice <command> --help` for a command",
    "",
    "Amounts are human amounts with the asset's unit: \"100 USDC\", \"0.5 ETH\", or a number in the",
    "channel's asset. Exit codes: 0 done, 1 failed, 2 wrong command line.",
  ].join("\n");
}

function commandHelp(command: Command): string {
  return [`Usage: sluice ${command.usage}`, "", command.summary, "", command.help, "", "Global flags: --datadir <dir>, --json, --help"].join("\n");
}

/** First words of two-word commands (`node start`, `key new`). */
const COMMAND_GROUPS = ["node", "key", "dev", "invoice", "token", "webhook"];

/** Finds the command words among the leading arguments (global flags may come before them). */
function splitCommand(argv: string[]): { command: Command | undefined; name: string | undefined; rest: string[] } {
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i];
    if (arg === "--datadir") i += 2;
    else if (arg.startsWith("--datadir=") || arg === "--json" || arg === "--help" || arg === "-h") i += 1;
    else break;
  }
  const word = argv[i];
  if (word === undefined || word.startsWith("-")) return { command: undefined, name: word, rest: argv };
  let name = word;
  let words = 1;
  if (COMMAND_GROUPS.includes(word)) {
    const sub = argv[i + 1];
    if (sub === undefined || sub.startsWith("-")) return { command: undefined, name: word, rest: argv };
    name = `${word} ${sub}`;
    words = 2;
  }
  if (word === "help") return { command: undefined, name: "help", rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  const command = COMMANDS.find((c) => c.name === name);
  return { command, name, rest: [...argv.slice(0, i), ...argv.slice(i + words)] };
}

/** An argument node's parseArgs would take for a short flag ("-1", "-0.5"). */
const NEGATIVE = /^-[0-9.]/;
/** Marks a negative value while parseArgs runs, so that it stays a value (removed right after). */
const SHIELD = "\u0000";

function parse(command: Command | undefined, args: string[]) {
  // Where the amount starts among the positionals ("100 USDC" may be two), if the command takes one.
  const amountAt = command === undefined ? -1 : command.usage.split(" ").indexOf("<amount>") - command.name.split(" ").length;
  let parsed;
  try {
    parsed = parseArgs({
      args: args.map((a) => (NEGATIVE.test(a) ? SHIELD + a : a)),
      options: { ...GLOBAL_OPTIONS, ...(command?.options ?? {}) },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify a positional.*$/s, "") : String(error);
    throw new UsageError(`${message}${command === undefined ? "" : `: see \`sluice ${command.name} --help\``}`);
  }
  const unshield = (v: string) => (v.startsWith(SHIELD) ? v.slice(SHIELD.length) : v);
  const positionals = parsed.positionals.map(unshield);
  // Every option's value and every other argument is checked by its command, which names it.
  const negative = amountAt < 0 ? undefined : positionals.slice(amountAt).find((a) => NEGATIVE.test(a));
  if (negative !== undefined) throw new UsageError(`amounts can't be negative: ${negative}`, "INVALID_AMOUNT");
  // A flag given several times (`multiple`) arrives as one value, comma-separated.
  const values = Object.fromEntries(Object.entries(parsed.values).map(([k, v]) => [k, typeof v === "string" ? unshield(v) : Array.isArray(v) ? v.map((x) => (typeof x === "string" ? unshield(x) : String(x))).join(",") : v]));
  return { values: values as typeof parsed.values, positionals };
}

/** The one-line message for an error, saying what to do. */
function explain(error: unknown, ctx: { datadir: string; hint: (command: string) => string; apiUrl?: string; command?: string }): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ApiFileError) {
    if (error.problem === "missing" && error.path.endsWith("api.json")) {
      return new CliError(`no node is running in ${ctx.datadir}: start one with \`${ctx.hint("sluice node start")}\``, "NODE_NOT_RUNNING");
    }
    if (error.problem === "missing") {
      return new CliError(
        `no API token in ${ctx.datadir} (api.token): the node creates it when it starts; start it with \`${ctx.hint("sluice node start")}\``,
        "NODE_NOT_RUNNING",
      );
    }
    return new CliError(`${error.message}: remove it and restart the node (\`${ctx.hint("sluice node start")}\`)`, "BAD_DATADIR");
  }
  if (error instanceof ApiError) {
    const d = (error.details ?? {}) as { [key: string]: Json };
    const withHint = (hint: string) => new CliError(`${error.message}: ${hint}`, error.code, error.details, { cause: error });
    const withCode = () => new CliError(`${error.message} (${error.code})`, error.code, error.details, { cause: error });
    switch (error.code) {
      case "UNREACHABLE":
        return new CliError(
          `no node is running in ${ctx.datadir} (nothing answers at ${ctx.apiUrl ?? "the URL of api.json"}): start one with \`${ctx.hint("sluice node start")}\``,
          "NODE_NOT_RUNNING",
          undefined,
          { cause: error },
        );
      case "UNAUTHORIZED":
        return withHint(`the node at ${ctx.apiUrl ?? "api.json's URL"} does not accept the token in ${path.join(ctx.datadir, "api.token")}; restart the node of this data directory`);
      case "NOT_FOUND":
        return withHint("`sluice channels` lists this node's channels");
      case "INSUFFICIENT_FUNDS":
        return withHint(`add funds with \`sluice deposit <channel> <amount>\`, or ${/can't (withdraw|cash out)/.test(error.message) ? "cash out" : "pay"} less`);
      case "NOT_A_TOKEN":
        if (typeof d.asset !== "string" || typeof d.reason !== "string") return withHint("give the token's contract address with --asset, or leave out --asset for ETH");
        return new CliError(
          `${d.asset} is not an ERC-20 token on this chain: ${d.reason}; give the token's contract address with --asset, or leave out --asset for ETH`,
          error.code,
          error.details,
          { cause: error },
        );
      case "CHALLENGE_PENDING":
        return withHint("run `sluice settle` after that");
      case "CHANNEL_NOT_CHALLENGED":
        return withHint("`sluice close` closes the channel with the peer, `sluice challenge` starts a dispute");
      case "CHANNEL_CONCLUDED":
        return withHint("nothing more to do there; `sluice withdraw` collects credited payouts");
      case "CHALLENGE_EXPIRED":
        return withHint("`sluice settle` pays out by the registered state");
      case "CHANNEL_CHALLENGED":
        return withHint("after the deadline, `sluice settle` pays out by the registered state");
      case "WITHDRAWAL_EXPIRED":
        return withHint("cash out again");
      case "WITHDRAW_NOTHING":
        return withHint("payouts are paid out directly, and credited only when that failed");
      case "CHANNEL_FINALIZED":
        return withHint("the channel has a final state: no more payments; `sluice close` closes it");
      case "PROPOSAL_PENDING":
        return withHint("wait for the peer to countersign, then try again");
      case "WITHDRAWAL_PENDING":
        return withHint("try again once it is answered");
      case "PEER_OFFLINE":
        return withHint("the peer's node must be online to countersign: try again once it is connected");
      case "CHANNEL_STATUS":
        return withHint("`sluice channel <channel>` shows its status");
      case "PEER_UNREACHABLE":
      case "PEER_DISCONNECTED":
      case "PEER_TIMEOUT":
        return withHint("is the peer's node running and reachable? if it stays away, `sluice challenge` settles on chain without it");
      case "GAS_FUNDS_TOO_LOW":
        return ctx.command === "open"
          ? withHint("the channel stays opening without your deposit: `sluice channels` lists it, `sluice abandon <channel>` gives it up")
          : withCode();
      case "CHAIN_UNREACHABLE":
        return withHint("once it answers again, `sluice channels` shows what was done before you retry");
      case "STATE_STALE":
        return withHint("the registered state counts; `sluice channel <channel>` shows it");
      case "INTERNAL":
        return new CliError(`the node failed unexpectedly: its log says why (the output of \`${ctx.hint("sluice node start")}\`)`, error.code, error.details, { cause: error });
      case "BAD_REQUEST":
        return new CliError(`the node refused the request: ${error.message}`, error.code, error.details, { cause: error });
      default:
        return withCode();
    }
  }
  if (error instanceof SluiceError) return new CliError(error.message, codeOf(error), undefined, { cause: error });
  const taken = addressInUse(error);
  if (taken !== undefined) {
    return new CliError(
      `${taken} is already in use: another program, or another sluice node, listens there; give this node another port (\`--listen host:port\` for peers, \`--api-port\` for the API, \`--tower-listen\` for a tower)`,
      "ADDRESS_IN_USE",
      { address: taken },
      { cause: error },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new CliError(`unexpected failure: ${message}`, "INTERNAL", undefined, { cause: error });
}

/** `host:port` of a listen that failed because the address is taken (Node's EADDRINUSE), else undefined. */
function addressInUse(error: unknown): string | undefined {
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") return undefined;
  const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (address === undefined || port === undefined) return "the address";
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

function progressLine(io: CliIo, json: boolean): (text: string) => () => void {
  return (text) => {
    if (!io.stderrIsTTY) {
      if (!json) io.stderr(`${text}\n`);
      return () => undefined;
    }
    const started = Date.now();
    io.stderr(text);
    const timer = setInterval(() => io.stderr(`\r\x1b[K${text} ${Math.round((Date.now() - started) / 1000)} s`), 1000);
    timer.unref();
    return () => {
      clearInterval(timer);
      io.stderr("\r\x1b[K");
    };
  };
}

/** A flag's value through a setting's check (src/schema/config.ts): the error names the flag and the value. */
function flagArg<T>(flag: string, text: string, check: (value: unknown) => Checked<T>): T {
  const result = check(text);
  if (!result.ok) throw new UsageError(`${flag} ${JSON.stringify(text)}: ${result.problem}`);
  return result.value;
}

function defaultLoadStartNode(): StartNode {
  let mod: { startNode?: unknown };
  try {
    // Loaded here only, synchronously, so every other command works (and starts fast) without the node's modules.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require("../node/start") as { startNode?: unknown };
  } catch (error) {
    if ((error as { code?: unknown }).code === "MODULE_NOT_FOUND" && /node[\\/]start/.test((error as Error).message)) {
      throw new CliError("this build of sluice has no node: src/node/start.ts is missing", "NO_NODE");
    }
    throw error;
  }
  if (typeof mod.startNode !== "function") throw new CliError("src/node/start.ts does not export startNode()", "NO_NODE");
  return mod.startNode as StartNode;
}

function defaultWaitForStop(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/** `node start` flags startNode decodes itself (the settings schema), by option. */
const PASSED_FLAGS = [
  ["fee-base", "feeBase"],
  ["fee-ppm", "feePpm"],
  ["lock-window", "lockWindow"],
  ["max-lock-duration", "maxLockDuration"],
  ["max-pending-locks", "maxPendingLocks"],
  ["max-locked-value", "maxLockedValue"],
] as const satisfies readonly (readonly [string, keyof NodeStartOptions])[];

async function startNodeCommand(io: CliIo, datadir: string, values: Values): Promise<Output> {
  const str = (key: string) => (typeof values[key] === "string" ? (values[key]) : undefined);
  const options: NodeStartOptions = { datadir: path.resolve(io.cwd, datadir), log: (line) => io.stderr(`${line}\n`) };
  const config = str("config");
  if (config !== undefined) options.config = path.resolve(io.cwd, config);
  const listen = str("listen");
  if (listen !== undefined) options.listen = flagArg("--listen", listen, checkListen);
  const apiPort = str("api-port");
  if (apiPort !== undefined) options.apiPort = flagArg("--api-port", apiPort, (value) => checkInteger(value, 0, 65535));
  const rpc = str("rpc");
  if (rpc !== undefined) {
    const urls = flagArg("--rpc", rpc, checkRpcUrls);
    options.rpc = urls.length === 1 ? urls[0] : urls;
  }
  const confirmations = str("confirmations");
  if (confirmations !== undefined) options.confirmations = flagArg("--confirmations", confirmations, (value) => checkInteger(value, 1, 1000));
  const maxFee = str("max-fee");
  if (maxFee !== undefined) options.maxFee = flagArg("--max-fee", maxFee, checkGwei);
  const logLevel = str("log-level");
  if (logLevel !== undefined) options.logLevel = flagArg("--log-level", logLevel, checkLogLevel);
  const adjudicator = str("adjudicator");
  if (adjudicator !== undefined) options.adjudicator = addressArg(adjudicator, "--adjudicator");
  const keystore = str("keystore");
  if (keystore !== undefined) options.keystore = path.resolve(io.cwd, keystore);
  const payee = str("payee");
  if (payee !== undefined) options.payee = addressArg(payee, "--payee");
  if (values.tower === true) options.tower = true;
  const towerListen = str("tower-listen");
  if (towerListen !== undefined) options.towerListen = flagArg("--tower-listen", towerListen, checkListen);
  const towerUrl = str("tower-url");
  if (towerUrl !== undefined) options.towerUrl = towerUrl;
  const towerAddress = str("tower-address");
  if (towerAddress !== undefined) options.towerAddress = addressArg(towerAddress, "--tower-address");
  const towerEvery = str("tower-every");
  if (towerEvery !== undefined) options.towerEvery = flagArg("--tower-every", towerEvery, (value) => checkInteger(value, 1, 1_000_000));
  if (values.hub === true) options.hub = true;
  // Handed on as given: startNode checks them with the config file's schema.
  for (const [flag, key] of PASSED_FLAGS) {
    const value = str(flag);
    if (value !== undefined) options[key] = value;
  }

  const startNode = (io.loadStartNode ?? defaultLoadStartNode)();
  const node = await startNode(options);
  if (node === undefined) return { json: { stopped: true }, text: "node stopped" };
  io.stderr(`node running in ${datadir}: stop it with Ctrl-C\n`);
  await (io.waitForStop ?? defaultWaitForStop)();
  io.stderr("stopping the node…\n");
  await node.close();
  return { json: { stopped: true }, text: "node stopped" };
}

/** Runs the command line `argv` (without `node sluice`); resolves to the exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const json = argv.includes("--json");
  let datadir = io.env.SLUICE_DATADIR || DEFAULT_DATADIR;
  let datadirGiven = false;
  let client: ApiClient | undefined;
  let apiUrl: string | undefined;
  const hint = (command: string) => (datadirGiven || datadir !== DEFAULT_DATADIR ? `${command} --datadir ${datadir}` : command);
  let commandName: string | undefined;
  try {
    const { command, name, rest } = splitCommand(argv);
    commandName = command?.name;
    const { values, positionals } = parse(command, rest);
    if (typeof values.datadir === "string") {
      if (values.datadir === "") throw new UsageError("--datadir is empty");
      datadir = values.datadir;
      datadirGiven = true;
    }
    if (command === undefined) {
      if (name === "help" || (name === undefined && values.help === true)) {
        const target = COMMANDS.find((c) => c.name === positionals.join(" "));
        io.stdout(`${target === undefined ? globalHelp() : commandHelp(target)}\n`);
        return 0;
      }
      if (name === undefined) throw new UsageError("no command given: see `sluice --help`");
      const group = COMMANDS.filter((c) => c.name.startsWith(`${name.split(" ")[0]} `)).map((c) => `\`sluice ${c.name}\``);
      if (COMMAND_GROUPS.includes(name)) throw new UsageError(`\`sluice ${name}\` needs a subcommand: ${group.join(", ")}`);
      if (group.length > 0) throw new UsageError(`unknown command ${JSON.stringify(name)}: ${group.join(", ")}`);
      throw new UsageError(`unknown command ${JSON.stringify(name)}: see \`sluice --help\``);
    }
    if (values.help === true) {
      io.stdout(`${commandHelp(command)}\n`);
      return 0;
    }
    const [min, max] = command.positionals;
    if (positionals.length < min || positionals.length > max) {
      const problem = positionals.length < min ? "missing arguments" : `unexpected argument ${JSON.stringify(positionals[max])}`;
      throw new UsageError(`${problem}: usage: sluice ${command.usage}`);
    }
    const ctx: Context = {
      datadir,
      json,
      hint,
      progress: progressLine(io, json),
      client: async () => {
        if (client === undefined) {
          client = await ApiClient.fromDataDir(path.resolve(io.cwd, datadir));
          apiUrl = client.url;
        }
        return client;
      },
      startNode: (v) => startNodeCommand(io, datadir, v),
      env: io.env,
      resolvePath: (file) => path.resolve(io.cwd, file),
      readStdin: io.readStdin ?? readProcessStdin,
      print: (text) => io.stdout(text),
    };
    const output = await command.run(ctx, positionals, values);
    io.stdout(json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
    return 0;
  } catch (caught) {
    const error = explain(caught, { datadir, hint, ...(apiUrl === undefined ? {} : { apiUrl }), ...(commandName === undefined ? {} : { command: commandName }) });
    if (json) {
      const body: { [key: string]: Json } = { code: error.code, message: error.message };
      if (error.details !== undefined) body.details = error.details;
      io.stdout(`${JSON.stringify({ error: body }, null, 2)}\n`);
    } else {
      io.stderr(`sluice: ${error.message}\n`);
    }
    return error.exitCode;
  } finally {
    client?.dispose();
  }
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`sluice: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
