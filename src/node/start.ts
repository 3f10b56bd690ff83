/**
 * `sluice node start`: reads the configuration (file, then flags), loads the key, opens the
 * store in the data directory, starts the node (peers, watcher) and its local HTTP API.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { computeAddress } from "ethers";
import { DEFAULT_MAX_LOCK_DURATION, DEFAULT_MIN_LOCK_WINDOW } from "../channel/lockDefaults";
import { NODE_DEFAULTS, NODE_SETTINGS, nodeSettings, type NodeSettings } from "../schema/config";
import { decodeWith } from "../schema/decode";
import { checkBytes32 } from "../schema/primitives";
import type { Address, Hex } from "../types";
import { startLocalApi } from "./api";
import { NodeConfigError } from "./configError";
import { createLogger, logEvents, nodeLogHooks, rememberedPeers } from "./log";
import { SluiceNode, type NodeOptions } from "./node";
import { readKeystore } from "./keystore";
import type { ChannelStore } from "./store";
import { checkAdjudicator, checkDatadirKey, connectChain, rememberDatadirKey } from "./preflight";
import { FailoverProvider } from "../chain/failover";

export { NodeConfigError } from "./configError";
export { DEFAULT_RPC } from "../schema/config";

/** What `sluice node start` passes in (src/cli/main.ts). */
export interface NodeStartOptions {
  /** The data directory, absolute. */
  datadir: string;
  /** A JSON config file; flags override its settings. */
  config?: string;
  /** Where peers connect: host and port of `--listen host:port`. */
  listen?: { host: string; port: number };
  apiPort?: number;
  /** One JSON-RPC URL or several (in order of preference: the node fails over). */
  rpc?: string | readonly string[];
  adjudicator?: string;
  keystore?: string;
  /** Where this node's payouts go by default (its own address if not given). */
  payee?: string;
  /** `--confirmations N`: how deep an event must be to count (default by chain: src/chain/confirmations.ts). */
  confirmations?: number | string;
  /** `--max-fee GWEI`: the most the node pays per gas for a transaction (default: src/chain/feeCap.ts). */
  maxFee?: number | string;
  /** `--log-level`: trace, debug, info (default), warn, error or fatal. */
  logLevel?: string;
  /** `--tower`: also run a watchtower for other nodes; `--tower-listen host:port`: where its clients connect. */
  tower?: boolean;
  towerListen?: { host: string; port: number };
  /** `--tower-url ws://…`: the tower to hand this node's states to; `--tower-every N`: every N versions. */
  towerUrl?: string;
  /** `--tower-address 0x…`: the address the tower must prove (default: any). */
  towerAddress?: string;
  towerEvery?: number | string;
  /** `--hub`, `--fee-base`, `--fee-ppm`: routing on, and its fees. */
  hub?: boolean;
  feeBase?: string;
  feePpm?: string;
  /** `--lock-window D`, `--max-lock-duration D`: the reveal window and the longest lock (durations). */
  lockWindow?: string;
  maxLockDuration?: string;
  /** `--max-pending-locks N`, `--max-locked-value N`: the caps on a channel's pending locks (against jamming). */
  maxPendingLocks?: string;
  maxLockedValue?: string;
  /**
   * Where the node's log goes, one line at a time (stderr): JSON lines (src/node/log.ts), also on a
   * terminal (pipe them through `pino-pretty` to read them as text).
   */
  log: (line: string) => void;
}

function readConfig(file: string | undefined): NodeSettings {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (cause) {
    throw new NodeConfigError(`cannot read the config file ${file}: ${(cause as Error).message}`, { cause });
  }
  return decodeWith(nodeSettings, parsed, (key, problem) => {
    if (key === "") return new NodeConfigError(`${file}: ${problem.replace(/^expected an object/, "expected a JSON object")}`);
    const known = problem === "unknown field" ? ` (known: ${NODE_SETTINGS.join(", ")})` : "";
    return new NodeConfigError(`${file}: "${key}": ${problem}${known}`);
  });
}

/** The node's key: an encrypted JSON keystore (ethers), or for development only SLUICE_DEV_KEY. */
export async function loadNodeKey(keystore: string | undefined, log: (line: string) => void): Promise<Hex> {
  if (keystore) {
    const password = process.env.SLUICE_KEYSTORE_PASSWORD;
    if (password === undefined) throw new NodeConfigError("the keystore is encrypted: set SLUICE_KEYSTORE_PASSWORD");
    return readKeystore(keystore, password);
  }
  const dev = process.env.SLUICE_DEV_KEY;
  if (dev) {
    if (!checkBytes32(dev).ok) throw new NodeConfigError("SLUICE_DEV_KEY must be a 0x-prefixed 32-byte hex private key");
    log("warning: using the development key from SLUICE_DEV_KEY; use --keystore for real funds");
    return dev as Hex;
  }
  throw new NodeConfigError("no key: give --keystore <file> (with SLUICE_KEYSTORE_PASSWORD), or SLUICE_DEV_KEY for development");
}

/** One node per data directory: a lock file holding the pid, stale if that process is gone. */
function lockDatadir(datadir: string): () => void {
  const file = path.join(datadir, "node.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = runningNodePid(datadir);
      if (pid !== undefined) throw new NodeConfigError(`a node (pid ${pid}) is already running in ${datadir}`);
      rmSync(file, { force: true });
    }
  }
  throw new NodeConfigError(`cannot lock ${datadir}`);
}

/** The pid of the node running in `datadir` (its lock file names a live process), or undefined. */
export function runningNodePid(datadir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(datadir, "node.lock"), "utf8"));
  } catch {
    return undefined;
  }
  return Number.isSafeInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The settings given as options (the flags of `sluice node start`), checked by the config file's schema. */
function decodeOptions(options: NodeStartOptions): NodeSettings {
  const given = {
    apiPort: options.apiPort,
    rpc: options.rpc,
    adjudicator: options.adjudicator,
    keystore: options.keystore,
    payee: options.payee,
    confirmations: options.confirmations,
    maxFeeGwei: options.maxFee,
    logLevel: options.logLevel,
    tower: options.tower,
    towerUrl: options.towerUrl,
    towerAddress: options.towerAddress,
    towerEvery: options.towerEvery,
    hub: options.hub,
    feeBase: options.feeBase,
    feePpm: options.feePpm,
    lockWindow: options.lockWindow,
    maxLockDuration: options.maxLockDuration,
    maxPendingLocks: options.maxPendingLocks,
    maxLockedValue: options.maxLockedValue,
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined));
  return decodeWith(nodeSettings, defined, (key, problem) => new NodeConfigError(`${key} ${JSON.stringify((given as Record<string, unknown>)[key])}: ${problem}`));
}

/** The lock rules the settings give (the defaults for the others); NodeConfigError if the longest lock is shorter than the window. */
export function lockRulesOf(settings: NodeSettings): NonNullable<NodeOptions["lockRules"]> {
  const window = settings.lockWindow ?? DEFAULT_MIN_LOCK_WINDOW;
  const longest = settings.maxLockDuration ?? DEFAULT_MAX_LOCK_DURATION;
  if (longest < window) throw new NodeConfigError(`maxLockDuration (${longest} s) is shorter than lockWindow (${window} s): a lock could not expire late enough to be taken`);
  return {
    ...(settings.lockWindow === undefined ? {} : { minLockWindow: settings.lockWindow }),
    ...(settings.maxLockDuration === undefined ? {} : { maxLockDuration: settings.maxLockDuration }),
    ...(settings.maxPendingLocks === undefined ? {} : { maxPendingLocks: settings.maxPendingLocks }),
    ...(settings.maxLockedValue === undefined ? {} : { maxLockedValue: settings.maxLockedValue }),
  };
}

export async function startNode(options: NodeStartOptions): Promise<{ close(): Promise<void> }> {
  const file = readConfig(options.config);
  const settings: NodeSettings = {
    ...file,
    ...decodeOptions(options),
    ...(options.listen === undefined ? {} : { listen: options.listen }),
    ...(options.towerListen === undefined ? {} : { towerListen: options.towerListen }),
  };
  const { adjudicator, listen, payee, challengePeriod, withdrawalWindow } = settings;
  if (adjudicator === undefined) {
    throw new NodeConfigError("give the adjudicator's address: --adjudicator 0x… (or \"adjudicator\" in the config file)");
  }
  if (settings.towerListen !== undefined && settings.tower !== true) throw new NodeConfigError("towerListen is where this node's tower listens: give tower (--tower) too");
  for (const key of ["towerEvery", "towerAddress"] as const) {
    if (settings[key] !== undefined && settings.towerUrl === undefined) throw new NodeConfigError(`${key} is about the tower this node hands its states to: give towerUrl (--tower-url) too`);
  }
  const lockRules = lockRulesOf(settings);
  const rpc = settings.rpc ?? [NODE_DEFAULTS.rpc];
  const logger = createLogger(settings.logLevel ?? NODE_DEFAULTS.logLevel, options.log);
  const privateKey = await loadNodeKey(settings.keystore, (line) => logger.warn(line));
  const address = computeAddress(privateKey) as Address;
  // Nothing is written to the data directory until the key, the chain and the adjudicator check out.
  checkDatadirKey(options.datadir, address);
  const { provider, chainId } = await connectChain(rpc);
  const chainName = `${chainId} (${rpc.join(", ")})`;
  let unlock: (() => void) | undefined;
  try {
    await checkAdjudicator(provider, adjudicator, chainName);
    mkdirSync(options.datadir, { recursive: true, mode: 0o700 });
    if (!existsSync(options.datadir)) throw new NodeConfigError(`cannot create ${options.datadir}`);
    unlock = lockDatadir(options.datadir);
    // The node is not built yet when its hooks are: they find a channel's peer in its store once it is.
    const built: { store?: ChannelStore } = {};
    const peerOf = rememberedPeers((channelId) => built.store?.getChannel(channelId)?.peer);
    const hooks = nodeLogHooks(logger, peerOf);
    const node = new SluiceNode({
      privateKey,
      provider,
      adjudicator,
      storePath: path.join(options.datadir, "store.sqlite"),
      listen,
      pollMs: settings.pollMs ?? NODE_DEFAULTS.pollMs,
      challengePeriod: challengePeriod ?? NODE_DEFAULTS.challengePeriod,
      withdrawalWindow: withdrawalWindow ?? NODE_DEFAULTS.withdrawalWindow,
      ...(payee === undefined ? {} : { payee }),
      ...(settings.confirmations === undefined ? {} : { confirmations: settings.confirmations }),
      ...(settings.maxFeeGwei === undefined ? {} : { maxFeeGwei: settings.maxFeeGwei }),
      replaceAfterMs: Number(settings.replaceAfter ?? NODE_DEFAULTS.replaceAfter) * 1_000,
      ...(settings.tower === true ? { tower: settings.towerListen === undefined ? {} : { listen: settings.towerListen } } : {}),
      ...(settings.towerUrl === undefined ? {} : { towerClient: towerClientOf(settings.towerUrl, settings) }),
      ...(settings.hub === true ? { hub: { fees: { base: settings.feeBase ?? 0n, ppm: settings.feePpm ?? 0 } } } : {}),
      lockRules,
      ...testHooks(),
      onError: hooks.onError,
      log: hooks.log,
    });
    built.store = node.store;
    if (provider instanceof FailoverProvider) {
      provider.onSwitch = (change) => {
        node.store.appendEvent("chain.rpc.switched", null, { ...change });
        logger.warn(change, `chain: calls moved from ${change.from} to ${change.to} (${change.reason})`);
      };
    }
    const stopEventLog = logEvents(node.store.events, logger, peerOf);
    await node.start();
    rememberDatadirKey(options.datadir, address);
    const api = await startLocalApi({
      api: node,
      events: node.store.events,
      tokens: node.apiTokens,
      metrics: node.metrics,
      datadir: options.datadir,
      port: settings.apiPort ?? 0,
      onInternalError: (error) => logger.error({ err: error }, "api: internal error"),
    });
    logger.info({ address: node.address, peerUrl: node.peerUrl, api: api.url, rpc }, `sluice node ${node.address}: peers at ${node.peerUrl}, API at ${api.url}, chain ${rpc.join(", ")}`);
    const { towerService } = await node.info();
    if (towerService) logger.info({ towerUrl: towerService.url }, `watchtower: clients register at ${towerService.url}`);
    return {
      async close() {
        await api.close();
        stopEventLog();
        await node.stop();
        provider.destroy();
        unlock?.();
      },
    };
  } catch (error) {
    provider.destroy();
    unlock?.();
    throw error;
  }
}

/** The node's link to its tower from the settings (`towerUrl` given). */
function towerClientOf(url: string, settings: NodeSettings): NonNullable<NodeOptions["towerClient"]> {
  return {
    url,
    ...(settings.towerEvery === undefined ? {} : { every: settings.towerEvery }),
    ...(settings.towerAddress === undefined ? {} : { address: settings.towerAddress }),
  };
}

/**
 * Fault injection for the end-to-end tests, from the environment: `SLUICE_TEST_CRASH=withdrawal-signed`
 * kills the process (SIGKILL, no clean-up) as soon as a cash-out's withdrawal is signed by both and
 * stored, before it is executed. Unset in normal use.
 */
function testHooks(): Pick<NodeOptions, "testHooks"> {
  if (process.env.SLUICE_TEST_CRASH !== "withdrawal-signed") return {};
  return { testHooks: { afterWithdrawalSigned: () => process.kill(process.pid, "SIGKILL") } };
}
