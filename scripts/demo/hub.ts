/**
 * Alice's hub in the demo: customers who share no channel pay each other's invoices through her
 * node (routing on, her fee), and one payer that vanishes after its lock reached her, which her
 * node answers on chain (the secret registered, the channel disputed, settled, the lock resolved).
 */
import { performance } from "node:perf_hooks";
import type { JsonRpcProvider, Wallet } from "ethers";
import { ChannelMode, type Address, type Hex } from "../../src/types";
import { increaseTime, type AdjudicatorDriver, type AdjudicatorEvent } from "../../src/chain";
import type { NodeProcess } from "../../src/node/process";
import type { ChannelView, ForwardView } from "../../src/node/api/types";
import { Progress } from "./progress";

export interface Party {
  name: string;
  wallet: Wallet;
  node: NodeProcess;
}

/** Alice's routing fee: nothing fixed, 0.1 % of what she forwards (a card network's interchange is 10 to 20 times that). */
export const HUB_FEES = { base: 0n, ppm: 1_000 } as const;

/** Her node's settings for it (`node start --hub --fee-base 0 --fee-ppm 1000`). */
export const HUB_CONFIG = { hub: true, feeBase: HUB_FEES.base.toString(), feePpm: HUB_FEES.ppm };

/** One invoice a customer made and another paid through the hub. */
export interface RoutedPayment {
  /** Indexes into the customers. */
  payer: number;
  payee: number;
  /** The invoice's amount: what the payee received. */
  amount: bigint;
  /** What the payer's lock to Alice carried: the amount and her fee. */
  paid: bigint;
  ref: Hex;
}

export interface RoutedPlan {
  payer: number;
  payee: number;
  amount: bigint;
}

/** Each payer in `plan` pays its invoices one after another, `concurrency` at a time; the payees make the invoices as they go. */
export async function payThroughHub(
  customers: Party[],
  asset: Address,
  plan: RoutedPlan[],
  concurrency: number,
  progress: Progress,
): Promise<{ paid: RoutedPayment[]; failed: number; latencies: number[]; firstError?: string }> {
  const paid: RoutedPayment[] = [];
  const latencies: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  const byPayer = new Map<number, RoutedPlan[]>();
  for (const p of plan) byPayer.set(p.payer, [...(byPayer.get(p.payer) ?? []), p]);
  await Promise.all(
    [...byPayer.values()].map(async (list) => {
      let next = 0;
      const worker = async () => {
        while (next < list.length) {
          const { payer, payee, amount } = list[next++];
          try {
            const invoice = await customers[payee].node.api.createInvoice({ amount, asset, expiresIn: 7_200n, description: `${customers[payer].name} pays ${customers[payee].name}` });
            const start = performance.now();
            const receipt = await customers[payer].node.api.payInvoice(invoice.encoded);
            latencies.push(performance.now() - start);
            paid.push({ payer, payee, amount, paid: receipt.amount, ref: invoice.invoice.ref });
          } catch (error) {
            failed++;
            firstError ??= (error as Error).message;
          }
          progress.tick();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }),
  );
  latencies.sort((a, b) => a - b);
  return { paid, failed, latencies, firstError };
}

/** A transaction of the on-chain secret path, as the report lists it. */
export interface PathTransaction {
  what: string;
  hash: Hex;
  gas: bigint;
}

export interface SecretPathReport {
  payer: string;
  payee: string;
  channelId: Hex;
  amount: bigint;
  /** What the payer's lock to Alice carried (amount and fee). */
  locked: bigint;
  hashlock: Hex;
  /** The payee's invoice was paid (Alice unlocked downstream) before the payer's lock was settled. */
  payeePaidOffChain: boolean;
  /** Alice's forward, as her node lists it after the lock's resolution. */
  forwardStatus: string;
  settledVersion: bigint;
  /** What `resolveLock` paid, and to which participant (0: Alice's treasury). */
  resolved: { amount: bigint; paidTo: 0 | 1 } | undefined;
  transactions: PathTransaction[];
  /** The payer's lock resolved to Alice, for exactly what it carried. */
  paid: boolean;
}

interface PathContext {
  alice: Party;
  payer: Party;
  payee: Party;
  channel: ChannelView;
  asset: Address;
  amount: bigint;
  provider: JsonRpcProvider;
  driver: AdjudicatorDriver;
  quiet: boolean;
}

const pollUntil = async (what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * The payer vanishes (its process killed) after its lock reached Alice and she paid the payee:
 * her node registers the secret on chain once the lock nears its expiry, disputes the channel with
 * the state holding the lock, settles after the challenge period, and resolves the lock to her.
 * The payee's node is paused while the payer locks, so that the payer can be killed in between.
 */
export async function payerVanishes(c: PathContext): Promise<SecretPathReport> {
  const { alice, payer, payee, channel, provider, driver } = c;
  const pid = payee.node.pid!;
  const invoice = await payee.node.api.createInvoice({ amount: c.amount, asset: c.asset, expiresIn: 7_200n, description: `${payer.name} pays ${payee.name}, then vanishes` });
  const fromBlock = await provider.getBlockNumber();
  process.kill(pid, "SIGSTOP");
  let locked: bigint;
  try {
    void payer.node.api.payInvoice(invoice.encoded).catch(() => undefined);
    await pollUntil("the payer's lock at Alice", async () => (await alice.node.api.channel(channel.channelId)).locked[1] > 0n, 20_000);
    locked = (await alice.node.api.channel(channel.channelId)).locked[1];
    await payer.node.kill("SIGKILL");
  } finally {
    process.kill(pid, "SIGCONT");
  }
  const step = new Progress("payee paid; the payer is gone", 1, c.quiet);
  await pollUntil("the payee's invoice paid", async () => (await payee.node.api.invoice(invoice.id)).status === "paid");
  const payeePaidOffChain = (await driver.channelStatus(channel.channelId)).mode === ChannelMode.Open;
  step.finish();

  // Alice's lock guard acts once the chain reaches the payer's lock's expiry less the reveal window: her outgoing lock's expiry.
  const forwardOf = async (): Promise<ForwardView> => (await alice.node.api.forwards({})).find((f) => f.hashlock === invoice.invoice.hashlock)!;
  const guard = new Progress("secret on chain, channel disputed", 1, c.quiet);
  const now = BigInt((await provider.getBlock("latest"))!.timestamp);
  const forward = await forwardOf();
  if (forward.expiry > now) await increaseTime(provider, forward.expiry - now);
  await pollUntil("Alice's dispute with the lock", async () => (await driver.channelStatus(channel.channelId)).mode === ChannelMode.Challenged, 30_000);
  await pollUntil("the secret registered", async () => (await driver.secretRevealedAt(invoice.invoice.hashlock)) !== 0n, 30_000);
  guard.finish();
  const settling = new Progress("settled, lock resolved", 1, c.quiet);
  const { deadline } = await driver.channelStatus(channel.channelId);
  const at = BigInt((await provider.getBlock("latest"))!.timestamp);
  if (deadline >= at) await increaseTime(provider, deadline - at + 1n);
  const events = async () => driver.events({ fromBlock: fromBlock + 1, channelId: channel.channelId });
  await pollUntil("the lock resolved", async () => (await events()).some((e) => e.name === "LockResolved"), 60_000);
  settling.finish();

  const channelEvents = await events();
  const revealed = (await driver.events({ fromBlock: fromBlock + 1, names: ["SecretRevealed"] })).filter((e) => e.name === "SecretRevealed" && e.hashlock === invoice.invoice.hashlock);
  const labelled: [string, AdjudicatorEvent][] = [
    ...revealed.map((e): [string, AdjudicatorEvent] => ["secret registered", e]),
    ...channelEvents.map((e): [string, AdjudicatorEvent] => [PATH_LABELS[e.name] ?? e.name, e]),
  ].sort((a, b) => a[1].blockNumber - b[1].blockNumber || a[1].logIndex - b[1].logIndex);
  const transactions: PathTransaction[] = [];
  for (const [what, e] of labelled) {
    if (transactions.some((t) => t.hash === e.transactionHash)) continue;
    transactions.push({ what, hash: e.transactionHash, gas: (await provider.getTransactionReceipt(e.transactionHash))!.gasUsed });
  }
  const settled = channelEvents.find((e) => e.name === "Settled");
  const resolvedEvent = channelEvents.find((e) => e.name === "LockResolved");
  const resolved = resolvedEvent?.name === "LockResolved" ? { amount: resolvedEvent.amount, paidTo: resolvedEvent.paidTo } : undefined;
  await pollUntil("Alice's forward settled", async () => (await forwardOf()).status !== "pending", 10_000).catch(() => undefined);
  return {
    payer: payer.name,
    payee: payee.name,
    channelId: channel.channelId,
    amount: c.amount,
    locked,
    hashlock: invoice.invoice.hashlock,
    payeePaidOffChain,
    forwardStatus: (await forwardOf()).status,
    settledVersion: settled?.name === "Settled" ? settled.version : 0n,
    resolved,
    transactions,
    paid: resolved !== undefined && resolved.paidTo === 0 && resolved.amount === locked,
  };
}

const PATH_LABELS: Partial<Record<AdjudicatorEvent["name"], string>> = {
  Challenged: "dispute with the state holding the lock",
  Settled: "settled after the challenge period",
  LockResolved: "lock resolved: paid to Alice",
};

/** Whether this build's node keeps locks safe on chain (src/node/lockGuard.ts, branch i15-lockwatch). */
export function lockGuardAvailable(): boolean {
  try {
    require.resolve("../../src/node/lockGuard");
    return true;
  } catch {
    return false;
  }
}
