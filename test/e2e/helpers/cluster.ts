/**
 * The end-to-end fixture: a `hardhat node` in its own process, the adjudicator (and a 6-decimal
 * test dollar) deployed on it, and Sluice nodes each in its own process (`sluice node start`),
 * driven through their HTTP API. Everything listens on 127.0.0.1. `stop()` ends every process it
 * started (nodes first, then the chain) and removes the data directories; call it from an `after`
 * hook so a failing test leaves nothing running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { HDNodeWallet, TransactionReceipt, TransactionResponse } from "ethers";
import { MockERC20__factory, type MockERC20 } from "../../../typechain-types";
import { deployAdjudicator, freePort, startLocalNode, type AdjudicatorDriver, type LocalNode, type LocalNodeKind } from "../../../src/chain";
import type { ChannelView, PaymentView } from "../../../src/node/api/types";
import { NodeProcess } from "../../../src/node/process";
import { ETH, type Address, type Hex } from "../../../src/types";

export const LOOPBACK = "127.0.0.1";
/** 1 USDC of the test dollar (6 decimals). */
export const USDC = 1_000_000n;
export const ETHER = 10n ** 18n;

export interface ClusterOptions {
  /** Deploy the test dollar and mint `mint` to every node's account. */
  token?: boolean;
  /** USDC base units minted to each node (default 1,000,000 USDC). */
  mint?: bigint;
  /** Challenge period of the channels the nodes open (seconds; default 3,600). */
  challengePeriod?: number;
  /** Watcher poll interval of the nodes (ms; default 100). */
  pollMs?: number;
  /** The chain node: `hardhat node` (default) or anvil (it can reorg: `anvil_reorg`). */
  chain?: LocalNodeKind;
  /** Further settings of every node's config file (e.g. `confirmations`). */
  config?: Record<string, unknown>;
}

export interface ClusterNode {
  name: string;
  /** Dev account of the node (its key signs states and its transactions). */
  wallet: HDNodeWallet;
  address: Address;
  process: NodeProcess;
  /** ws:// URL on a fixed port: the peer redials it after a restart. */
  peerUrl: string;
}

export interface StartNodeOptions {
  /** Where its payouts go (default its own address). */
  payee?: Address;
  /** Extra environment of its process. */
  env?: Record<string, string>;
  /** Extra keys of its config file (e.g. a fixed `apiPort`). */
  config?: Record<string, unknown>;
  /** Its JSON-RPC URL, if not the cluster's chain (e.g. a proxy in front of it). */
  rpc?: string;
}

export interface Cluster {
  chain: LocalNode;
  dir: string;
  driver: AdjudicatorDriver;
  token: MockERC20 | undefined;
  tokenAddress: Address;
  /**
   * Starts a node with dev account `index` (listening on a fixed free port); `payee` is where its
   * payouts go (default its own address), `env` extra environment of its process, `rpc` its chain
   * endpoint (default the chain's own URL; a proxy in front of it for the outage tests).
   */
  startNode(name: string, index: number, options?: StartNodeOptions): Promise<ClusterNode>;
  nodes: ClusterNode[];
  /** Kills every node, stops the chain, removes the data. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-e2e-"));
  const nodes: ClusterNode[] = [];
  let chain: LocalNode | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const node of nodes) await node.process.kill().catch(() => undefined);
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    chain = await startLocalNode({ kind: options.chain ?? "hardhat" });
    const deployer = chain.wallet(0);
    const driver = await deployAdjudicator(deployer);
    let token: MockERC20 | undefined;
    let tokenAddress = ETH;
    if (options.token) {
      token = await new MockERC20__factory(deployer).deploy("Test Dollar", "USDC", 6);
      await token.waitForDeployment();
      tokenAddress = (await token.getAddress()) as Address;
    }
    const config = {
      pollMs: options.pollMs ?? 100,
      ...options.config,
      ...(options.challengePeriod === undefined ? {} : { challengePeriod: options.challengePeriod }),
    };
    const localChain = chain;
    // The deployer's transactions go one at a time (automining refuses a nonce used twice).
    let deployerQueue: Promise<unknown> = Promise.resolve();
    const startNode = async (name: string, index: number, extra: StartNodeOptions = {}): Promise<ClusterNode> => {
      const wallet = localChain.wallet(index);
      if (token) {
        const minted = deployerQueue.then(async () => (await token.mint(wallet.address, options.mint ?? 1_000_000n * USDC)).wait());
        deployerQueue = minted.catch(() => undefined);
        await minted;
      }
      const launch = async () => {
        const port = await freePort();
        const proc = await NodeProcess.start({
          datadir: path.join(dir, name),
          privateKey: wallet.privateKey as Hex,
          rpc: extra.rpc ?? localChain.url,
          adjudicator: driver.address,
          listen: { host: LOOPBACK, port },
          config: { ...config, ...(extra.payee === undefined ? {} : { payee: extra.payee }), ...extra.config },
          ...(extra.env === undefined ? {} : { env: extra.env }),
        });
        return { port, proc };
      };
      // Another process (any program's ephemeral port) may take the port between its choice and the node's listen: once more, on another.
      const { port, proc } = await launch().catch((error: unknown) => {
        if (error instanceof Error && /EADDRINUSE|is already in use/.test(error.message)) return launch();
        throw error;
      });
      const node: ClusterNode = { name, wallet, address: wallet.address as Address, process: proc, peerUrl: `ws://${LOOPBACK}:${port}` };
      nodes.push(node);
      return node;
    };
    return { chain, dir, driver, token, tokenAddress, startNode, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Opens a channel from `opener` (participant 0) to `peer` with a deposit on each side, and waits
 * until both nodes see both deposits.
 */
export async function openFunded(opener: ClusterNode, peer: ClusterNode, asset: Address, deposits: [bigint, bigint]): Promise<ChannelView> {
  const opened = await opener.process.api.openChannel({ peer: peer.address, peerUrl: peer.peerUrl, asset, deposit: deposits[0] });
  const id = opened.channelId;
  await waitFor(async () => (await peer.process.api.channels()).some((c) => c.channelId === id), { what: `${peer.name} to know ${id}` });
  if (deposits[1] > 0n) await peer.process.api.deposit(id, deposits[1]);
  for (const node of [opener, peer]) {
    await waitFor(
      async () => {
        const c = await node.process.api.channel(id);
        return c.status === "open" && c.deposits[0] === deposits[0] && c.deposits[1] === deposits[1];
      },
      { what: `${node.name} to see the deposits of ${id}` },
    );
  }
  return opener.process.api.channel(id);
}

/** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean> | boolean, options: { timeoutMs?: number; what?: string; intervalMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let lastError: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out waiting for ${options.what ?? "a condition"}${detail}`);
    }
    await sleep(options.intervalMs ?? 50);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The transactions `account` sent that are in blocks `fromBlock`..latest, in block order. */
export async function sentFrom(chain: LocalNode, account: Address, fromBlock: number): Promise<TransactionResponse[]> {
  const head = await chain.provider.getBlockNumber();
  const sent: TransactionResponse[] = [];
  for (let n = fromBlock; n <= head; n++) {
    const block = await chain.provider.getBlock(n, true);
    sent.push(...(block?.prefetchedTransactions ?? []).filter((tx) => tx.from.toLowerCase() === account.toLowerCase()));
  }
  return sent;
}

/**
 * What `account` spent on its own transactions (gas fees plus value sent) in blocks
 * `fromBlock`..latest, read from every block: exact to the wei whatever the node sent.
 */
export async function spentBy(chain: LocalNode, account: Address, fromBlock: number): Promise<{ fees: bigint; value: bigint; receipts: TransactionReceipt[] }> {
  const head = await chain.provider.getBlockNumber();
  let fees = 0n;
  let value = 0n;
  const receipts: TransactionReceipt[] = [];
  for (let n = fromBlock; n <= head; n++) {
    const block = await chain.provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      if (tx.from.toLowerCase() !== account.toLowerCase()) continue;
      const receipt = (await chain.provider.getTransactionReceipt(tx.hash))!;
      receipts.push(receipt);
      fees += receipt.gasUsed * receipt.gasPrice;
      if (receipt.status === 1) value += tx.value;
    }
  }
  return { fees, value, receipts };
}

/** The node's log, for assertion messages. */
export function logsOf(...nodes: ClusterNode[]): string {
  return nodes.map((n) => `----- ${n.name} -----\n${n.process.log().slice(-6_000)}`).join("\n");
}

/** Every payment of a channel as a node lists it, page by page. */
export async function allPayments(node: ClusterNode, channelId: Hex): Promise<PaymentView[]> {
  const out: PaymentView[] = [];
  for (;;) {
    const page = await node.process.api.payments(channelId, { fromSeq: BigInt(out.length), limit: 1_000 });
    out.push(...page);
    if (page.length < 1_000) return out;
  }
}

/** What both nodes hold of a payment: the time it was committed and its memo are each node's own. */
export function agreed(payment: PaymentView): Omit<PaymentView, "committedAt" | "memo"> {
  const { committedAt: _committedAt, memo: _memo, ...shared } = payment;
  return shared;
}

export interface TwoNodes {
  cluster: Cluster;
  alice: ClusterNode;
  bob: ClusterNode;
}

/**
 * The hooks of a describe block run over one cluster with two nodes, Alice (account 1) and Bob
 * (account 2): started before its tests, then handed to `use`; stopped after them; a failed test
 * prints both nodes' logs.
 */
export function withTwoNodes(options: ClusterOptions, use: (nodes: TwoNodes) => void | Promise<void>): void {
  let nodes: TwoNodes | undefined;
  before(async function () {
    const cluster = await startCluster(options);
    const [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2)]);
    nodes = { cluster, alice, bob };
    await use(nodes);
  });

  after(async function () {
    await nodes?.cluster.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed" && nodes) console.log(logsOf(nodes.alice, nodes.bob));
  });
}
