/**
 * Alice's trading day, played by the real parts: a JSON-RPC chain, the adjudicator, one node
 * process per party (each with its own store, talking over WebSocket), their HTTP APIs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { JsonRpcProvider, Wallet, HDNodeWallet, Mnemonic, keccak256, toUtf8Bytes, type TransactionReceipt } from "ethers";
import { AdjudicatorDriver, DEV_MNEMONIC, deployAdjudicator, increaseTime, startLocalNode, type LocalNode } from "../../src/chain";
import { NodeProcess } from "../../src/node/process";
import type { ChannelView, ForwardView, PaymentView } from "../../src/node/api/types";
import { ChannelStore } from "../../src/node/store";
import { ChannelMode, ETH, ZERO_HASH, type Address, type Hex, type Params, type Payment } from "../../src/types";
import { MockERC20__factory, type MockERC20 } from "../../typechain-types";
import { formatAmount, type Asset } from "./format";
import { HUB_CONFIG, HUB_FEES, lockGuardAvailable, payThroughHub, payerVanishes, type Party, type RoutedPayment, type RoutedPlan, type SecretPathReport } from "./hub";
import { Progress, phase } from "./progress";

export interface DemoOptions {
  customers: number;
  /** Orders each customer pays. */
  payments: number;
  /** Payments in flight per channel. */
  concurrency: number;
  /** Invoices each dollar customer pays another customer through Alice's hub. */
  routed: number;
  /** Play the payer that vanishes after locking (needs the node's lock guard, src/node/lockGuard.ts). */
  secretPath: boolean;
  /** An external JSON-RPC node (hardhat node or anvil with the standard dev mnemonic); default: start one. */
  rpc?: string;
  /** Gas price for pricing the on-chain costs (gwei). */
  gasPriceGwei: number;
  /** ETH price for the ETH channel's amounts and for pricing gas (USD). */
  ethUsd: number;
  /** Seed of the order amounts. */
  seed: number;
  quiet: boolean;
}

export const DEFAULT_OPTIONS: DemoOptions = {
  customers: 5,
  payments: 600,
  concurrency: 16,
  routed: 40,
  secretPath: lockGuardAvailable(),
  gasPriceGwei: 20,
  ethUsd: 3_000,
  seed: 1,
  quiet: false,
};

export interface PartyBalance {
  party: string;
  /** The node's key: it signs, deposits and pays the gas. */
  address: Address;
  /** Where the party's payouts go (Alice: her treasury; a customer: its own address). */
  payee: Address;
  asset: Asset;
  /** On-chain balance change over the day of the node's address and the payee together (ETH: plus the gas the party paid). */
  onChainChange: bigint;
  /** What its payments say: received − sent, over all its channels. */
  fromPayments: bigint;
  reconciled: boolean;
}

export interface DemoReport {
  chain: { url: string; chainId: bigint; started: boolean; firstBlock: number; lastBlock: number };
  /** Alice's treasury: the payee of her side of every channel (her node's key only signs). */
  treasury: Address;
  contracts: { adjudicator: Address; token: Address };
  /** Every channel of the day: the cheater's settled, the others closed. */
  channelIds: Hex[];
  parties: number;
  channels: number;
  payments: { total: number; toAlice: number; refunds: number; failed: number };
  offChain: { seconds: number; paymentsPerSecond: number; latencyMs: { p50: number; p99: number; max: number } };
  onChain: { transactions: number; gas: bigint };
  /** Customers paying each other's invoices through Alice's hub (dollar channels). */
  routed: {
    fees: { base: bigint; ppm: number };
    payments: number;
    failed: number;
    /** What the payees received. */
    volume: bigint;
    /** What Alice kept: the payers' locks less what she forwarded, from their receipts. */
    earned: bigint;
    /** The same from Alice's node: her settled forwards' fees, and her hub's fees earned. */
    forwardsFees: bigint;
    feesEarned: bigint;
    forwardsSettled: number;
    latencyMs: { p50: number; p99: number };
    /** Payer and payee pairs that paid each other. */
    pairs: number;
    /** The same payments as direct token transfers on chain. */
    onLayer1: { transactions: number; gas: bigint; usd: number };
    /** A channel per pair instead of the hub: each opened, funded by the payer and closed, as Alice's channels were. */
    channelPerPair: { channels: number; transactions: number; gas: bigint; usd: number };
    /** One of Alice's dollar channels over its life (open, deposits and approvals, close), measured on this chain. */
    perChannel: { transactions: number; gas: bigint };
  };
  /** The payer that vanished after locking, and how Alice's node was paid on chain (absent when not played). */
  secretPath?: SecretPathReport;
  direct: { transactions: number; gasPerUsdcTransfer: bigint; gasPerEthTransfer: bigint; gas: bigint };
  price: { gasPriceGwei: number; ethUsd: number; channelUsd: number; directUsd: number };
  saving: number;
  balances: PartyBalance[];
  cheat: {
    customer: string;
    asset: Asset;
    registeredVersion: bigint;
    refutedWith: bigint;
    settledVersion: bigint;
    /** What the cheater would have kept had the old state stood: its payments to Alice made after that state. */
    wouldHaveKept: bigint;
    payouts: [bigint, bigint];
    expected: [bigint, bigint];
    caught: boolean;
  };
  receipts: { order: string; channelId: Hex; seq: bigint; asset: Asset; amount: bigint; verified: boolean }[];
  forgedReceiptRejected: boolean;
  /** Alice took part of her takings out of one channel while it stayed open, to her treasury. */
  cashOut: {
    customer: string;
    channelId: Hex;
    asset: Asset;
    amount: bigint;
    /** What the treasury received in that transaction, read from the chain. */
    received: bigint;
    transaction: Hex;
    gas: bigint;
    /** Payments made in the channel after the cash-out, before the close. */
    paymentsAfter: number;
    exact: boolean;
  };
}

const USDC_DECIMALS = 6n;
const CHALLENGE_PERIOD = 3_600;
const usdc = (cents: bigint) => cents * 10n ** (USDC_DECIMALS - 2n);

/** A small deterministic PRNG (mulberry32), so a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Order {
  channel: ChannelView;
  payer: "customer" | "alice";
  amount: bigint;
  ref: Hex;
  label: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  if (options.customers < 4) throw new Error("the demo needs at least 4 customers: one in ETH, three in dollars (they pay each other through the hub, one vanishes, one cheats)");
  const q = options.quiet;
  const work = mkdtempSync(path.join(tmpdir(), "sluice-demo-"));
  let chain: LocalNode | undefined;
  const parties: Party[] = [];
  try {
    phase("Setting up: a chain, the adjudicator, a dollar stablecoin, one node per party", q);
    let url: string;
    let provider: JsonRpcProvider;
    if (options.rpc) {
      url = options.rpc;
      provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1 });
    } else {
      chain = await startLocalNode({ kind: "hardhat" });
      url = chain.url;
      provider = chain.provider;
    }
    const chainId = (await provider.getNetwork()).chainId;
    const wallet = (i: number) => new Wallet(devKey(i), provider);
    const deployer = wallet(0);
    const driver = await deployAdjudicator(deployer);
    const token = await new MockERC20__factory(deployer).deploy("Test Dollar", "USDC", Number(USDC_DECIMALS));
    await token.waitForDeployment();
    const tokenAddress = (await token.getAddress()) as Address;

    const names = ["Alice", ...Array.from({ length: options.customers }, (_, i) => `Customer ${i + 1}`)];
    const orderCents = (rng: () => number) => 8_000n + BigInt(Math.floor(rng() * 4_001));
    // Deposits cover the day: customers pay up to $120 an order, Alice refunds up to $30 every 20th.
    // Through the hub a customer pays up to $60 an invoice, plus Alice's 0.1 %.
    const customerDepositCents = BigInt(options.payments) * 12_000n + BigInt(options.routed) * 6_100n + 10_000n;
    const aliceDepositCents = BigInt(Math.ceil(options.payments / 20)) * 3_000n + 10_000n;
    const centsToWei = (cents: bigint) => (cents * 10n ** 16n) / BigInt(options.ethUsd);
    for (const [i] of names.entries()) {
      await (await token.mint(wallet(i + 1).address, usdc(customerDepositCents * 2n))).wait();
    }
    // Alice's company keeps its money in a wallet of its own: her payouts go there, her node's key only signs.
    const treasury = wallet(options.customers + 2).address as Address;
    const payeeOf = (i: number): Address => (i === 0 ? treasury : (wallet(i + 1).address as Address));
    const startBlock = await provider.getBlockNumber();
    const balancesOf = async (address: string) => ({ usdc: await token.balanceOf(address), eth: await provider.getBalance(address) });
    const startBalances = await Promise.all(names.map((_, i) => balancesOf(wallet(i + 1).address)));
    const treasuryStart = await balancesOf(treasury);

    const adjudicator = driver.address;
    const started = await Promise.all(
      names.map((name, i) =>
        NodeProcess.start({
          datadir: path.join(work, name.replace(/\s+/g, "-").toLowerCase()),
          privateKey: devKey(i + 1),
          rpc: url,
          adjudicator,
          listen: { host: "127.0.0.1", port: 0 },
          config: { pollMs: 200, challengePeriod: CHALLENGE_PERIOD, ...(i === 0 ? HUB_CONFIG : {}) },
        }),
      ),
    );
    started.forEach((node, i) => parties.push({ name: names[i], wallet: wallet(i + 1), node }));
    const alice = parties[0];
    const customers = parties.slice(1);

    phase("09:00  Alice opens a channel with each customer; both sides deposit", q);
    const opening = new Progress("channels opened", customers.length, q);
    const channels: ChannelView[] = await Promise.all(
      customers.map(async (customer, i) => {
        const isEth = i === 0;
        const asset = isEth ? ETH : tokenAddress;
        const amount = (cents: bigint) => (isEth ? centsToWei(cents) : usdc(cents));
        const peerUrl = (await customer.node.api.info()).peerUrl;
        const opened = await alice.node.api.openChannel({
          peer: customer.wallet.address as Address,
          peerUrl,
          asset,
          deposit: amount(aliceDepositCents),
          payee: treasury,
        });
        await customer.node.api.deposit(opened.channelId, amount(customerDepositCents));
        await waitFor(async () => (await alice.node.api.channel(opened.channelId)).deposits[1] === amount(customerDepositCents));
        opening.tick();
        return alice.node.api.channel(opened.channelId);
      }),
    );
    opening.finish();

    phase("The day's trading: customers pay for orders, Alice refunds some; all channels at once", q);
    const rng = random(options.seed);
    const orders: Order[][] = channels.map((channel, c) => {
      const isEth = c === 0;
      const amount = (cents: bigint) => (isEth ? centsToWei(cents) : usdc(cents));
      const list: Order[] = [];
      for (let n = 0; n < options.payments; n++) {
        const label = orderLabel(c, n + 1);
        list.push({ channel, payer: "customer", amount: amount(orderCents(rng)), ref: keccak256(toUtf8Bytes(label)) as Hex, label });
        if (n % 20 === 19) {
          const refund = `refund on ${orderLabel(c, n + 1)}`;
          list.push({ channel, payer: "alice", amount: amount(500n + BigInt(Math.floor(rng() * 2_501))), ref: keccak256(toUtf8Bytes(refund)) as Hex, label: refund });
        }
      }
      return list;
    });
    const total = orders.reduce((n, list) => n + list.length, 0);
    const trading = new Progress("payments countersigned and stored", total, q);
    const latencies: number[] = [];
    const done: (Order & { payment: PaymentView })[] = [];
    let failed = 0;
    const t0 = performance.now();
    await Promise.all(
      orders.map(async (list, c) => {
        const customer = customers[c];
        let next = 0;
        const worker = async () => {
          while (next < list.length) {
            const order = list[next++];
            const api = order.payer === "customer" ? customer.node.api : alice.node.api;
            const start = performance.now();
            try {
              const payment = await api.pay(order.channel.channelId, order.amount, order.ref);
              latencies.push(performance.now() - start);
              done.push({ ...order, payment });
            } catch {
              failed++;
            }
            trading.tick();
          }
        };
        await Promise.all(Array.from({ length: options.concurrency }, worker));
      }),
    );
    const seconds = (performance.now() - t0) / 1_000;
    const traded = done.length;
    trading.finish(`${(done.length / seconds).toFixed(0)} payments/s`);
    latencies.sort((a, b) => a - b);

    phase("12:00  Customers who share no channel pay each other's invoices through Alice's hub (her fee: 0.1 %)", q);
    const dollarCustomers = customers.map((_, i) => i).filter((i) => channels[i].asset !== ETH);
    const plan: RoutedPlan[] = dollarCustomers.flatMap((payer, k) =>
      Array.from({ length: options.routed }, () => ({ payer, payee: dollarCustomers[(k + 1) % dollarCustomers.length], amount: usdc(2_000n + BigInt(Math.floor(rng() * 4_001))) })),
    );
    const routing = new Progress("invoices paid through the hub", plan.length, q);
    const routedRun = await payThroughHub(customers, tokenAddress, plan, Math.min(4, options.concurrency), routing);
    routing.finish(routedRun.failed === 0 ? "" : `${routedRun.failed} failed, the first: ${routedRun.firstError ?? "?"}`);
    await waitFor(async () => (await alice.node.api.info()).hub?.pending === 0n);
    const hubAfterRouting = (await alice.node.api.info()).hub!;
    const forwards = await allForwards(alice);

    phase("15:00  Alice cashes out half of her takings from one channel to her treasury; the channel stays open", q);
    const cashOutIndex = Math.min(1, channels.length - 1);
    const cashOutChannel = channels[cashOutIndex];
    const cashOutIsEth = cashOutChannel.asset === ETH;
    const takings = (await alice.node.api.channel(cashOutChannel.channelId)).balances[0];
    const cashOutAmount = takings / 2n;
    const treasuryBalance = async (blockTag?: number) =>
      cashOutIsEth ? provider.getBalance(treasury, blockTag) : token.balanceOf(treasury, blockTag === undefined ? {} : { blockTag });
    const cashing = new Progress("signed by both, executed on chain", 1, q);
    const cashed = await alice.node.api.cashOut(cashOutChannel.channelId, cashOutAmount);
    if (cashed.status !== "executed" || cashed.tx === undefined) throw new Error(`the cash-out was not executed: ${cashed.reason ?? "?"}`);
    const cashOutBlock = Number(cashed.tx.blockNumber);
    const received = (await treasuryBalance(cashOutBlock)) - (await treasuryBalance(cashOutBlock - 1));
    // The channel goes on: a few more orders after the cash-out.
    const after: Order[] = Array.from({ length: 3 }, (_, n) => {
      const label = orderLabel(cashOutIndex, options.payments + n + 1);
      const amount = cashOutIsEth ? centsToWei(10_000n) : usdc(10_000n);
      return { channel: cashOutChannel, payer: "customer" as const, amount, ref: keccak256(toUtf8Bytes(label)) as Hex, label };
    });
    for (const order of after) done.push({ ...order, payment: await customers[cashOutIndex].node.api.pay(order.channel.channelId, order.amount, order.ref) });
    cashing.finish(`${formatAmount(cashOutAmount, cashOutIsEth ? "ETH" : "USDC")} to the treasury ${treasury}`);

    const vanishIndex = customers.length - 2;
    let secretPath: SecretPathReport | undefined;
    if (options.secretPath) {
      phase(`17:00  ${customers[vanishIndex].name} pays ${customers[cashOutIndex].name} through the hub and vanishes before Alice is paid; her node collects on chain`, q);
      secretPath = await payerVanishes({
        alice,
        payer: customers[vanishIndex],
        payee: customers[cashOutIndex],
        channel: channels[vanishIndex],
        asset: tokenAddress,
        amount: usdc(5_000n),
        provider,
        driver,
        quiet: q,
      });
    }
    const routedAll: RoutedPayment[] = [
      ...routedRun.paid,
      ...(secretPath ? [{ payer: vanishIndex, payee: cashOutIndex, amount: secretPath.amount, paid: secretPath.locked, ref: secretPath.hashlock }] : []),
    ];

    phase("End of day: the last customer tries to cheat with an older state", q);
    const cheaterIndex = customers.length - 1;
    const cheater = customers[cheaterIndex];
    const cheatChannel = channels[cheaterIndex];
    const newest = await alice.node.api.channel(cheatChannel.channelId);
    await cheater.node.stop();
    const store = ChannelStore.open(path.join(cheater.node.options.datadir, "store.sqlite"));
    const record = store.getChannel(cheatChannel.channelId)!;
    const latestOfCheater = store.latest(cheatChannel.channelId)!;
    const old = store.statesAfter(cheatChannel.channelId, latestOfCheater.state.version / 3n, 1)[0].signed;
    store.close();
    const cheaterDriver = new AdjudicatorDriver(adjudicator, cheater.wallet);
    const registered = await cheaterDriver.challenge(record.params, old);
    const cheatLog = new Progress("Alice's watcher refutes", 1, q);
    await waitFor(async () => (await driver.channelStatus(cheatChannel.channelId)).version > old.state.version, 30_000);
    cheatLog.finish("the outdated balance was answered with the latest one");
    await increaseTime(provider, CHALLENGE_PERIOD + 1);
    const settling = new Progress("challenge period over: settled", 1, q);
    await waitFor(async () => (await driver.channelStatus(cheatChannel.channelId)).mode === ChannelMode.Concluded, 30_000);
    const settledEvent = (await driver.events({ fromBlock: registered.blockNumber, channelId: cheatChannel.channelId, names: ["Settled"] }))[0];
    settling.finish();
    const settled = settledEvent?.name === "Settled" ? settledEvent : undefined;

    phase("18:00  every other channel closes cooperatively, one transaction each", q);
    const toClose = channels.slice(0, cheaterIndex).filter((_, i) => !(secretPath && i === vanishIndex));
    const closing = new Progress("channels closed", toClose.length, q);
    await Promise.all(
      toClose.map(async (channel) => {
        await alice.node.api.close(channel.channelId);
        closing.tick();
      }),
    );
    closing.finish();

    phase("An auditor checks order receipts on chain (verifyPayment)", q);
    const receipts: DemoReport["receipts"] = [];
    for (const c of new Set([0, Math.min(1, channels.length - 1), cheaterIndex])) {
      const mine = done.filter((d) => d.channel.channelId === channels[c].channelId && d.payer === "customer");
      const pick = mine[Math.floor(mine.length / 2)];
      if (!pick) continue;
      const proof = await alice.node.api.prove(pick.channel.channelId, pick.payment.seq);
      receipts.push({
        order: pick.label,
        channelId: pick.channel.channelId,
        seq: pick.payment.seq,
        asset: pick.channel.asset === ETH ? "ETH" : "USDC",
        amount: pick.amount,
        verified: proof.verifiedOnChain,
      });
    }
    let forgedReceiptRejected = false;
    const sample = done.find((d) => d.channel.channelId === channels[0].channelId && d.payer === "customer");
    if (sample) {
      const proof = await alice.node.api.prove(sample.channel.channelId, sample.payment.seq);
      const aliceView = await alice.node.api.channel(sample.channel.channelId);
      const forged: Payment = { ...proof.payment, amount: proof.payment.amount * 10n };
      const state = {
        channelId: sample.channel.channelId,
        version: aliceView.version,
        transferred: aliceView.transferred,
        locked: [0n, 0n] as [bigint, bigint],
        locksRoot: ZERO_HASH,
        paymentsRoot: proof.root,
        isFinal: true,
      };
      forgedReceiptRejected = !(await driver.verifyPayment(sample.channel.channelId, state, forged, proof.proof));
    }

    // ------------------------------------------------------------- the report's figures
    const endBlock = await provider.getBlockNumber();
    const receiptsOnChain: TransactionReceipt[] = [];
    for (let b = startBlock + 1; b <= endBlock; b++) {
      const block = await provider.getBlock(b);
      for (const hash of block?.transactions ?? []) {
        const r = await provider.getTransactionReceipt(hash);
        if (r) receiptsOnChain.push(r);
      }
    }
    const partyAddresses = new Set(parties.map((p) => p.wallet.address.toLowerCase()));
    const dayTxs = receiptsOnChain.filter((r) => partyAddresses.has(r.from.toLowerCase()));
    const gas = dayTxs.reduce((sum, r) => sum + r.gasUsed, 0n);

    const balances: PartyBalance[] = [];
    for (const [i, party] of parties.entries()) {
      const address = party.wallet.address.toLowerCase();
      const isAlice = i === 0;
      const flows = (asset: Asset) =>
        done
          .filter((d) => (asset === "ETH") === (d.channel.asset === ETH))
          .filter((d) => isAlice || d.channel.participants[1].toLowerCase() === address)
          .reduce((sum, d) => {
            const paidByParty = (d.payer === "alice") === isAlice;
            return sum + (paidByParty ? -d.amount : d.amount);
          }, 0n);
      const gasPaid = dayTxs.filter((r) => r.from.toLowerCase() === address).reduce((sum, r) => sum + r.gasUsed * r.gasPrice, 0n);
      // The node's address deposits and pays the gas; the payee receives the payouts: count both.
      const payeeChange =
        i === 0 ? { usdc: (await token.balanceOf(treasury)) - treasuryStart.usdc, eth: (await provider.getBalance(treasury)) - treasuryStart.eth } : { usdc: 0n, eth: 0n };
      const usdcChange = (await token.balanceOf(party.wallet.address)) - startBalances[i].usdc + payeeChange.usdc;
      const ethChange = (await provider.getBalance(party.wallet.address)) - startBalances[i].eth + gasPaid + payeeChange.eth;
      const assets: Asset[] = isAlice ? ["USDC", "ETH"] : [i === 1 ? "ETH" : "USDC"];
      for (const asset of assets) {
        const onChainChange = asset === "USDC" ? usdcChange : ethChange;
        const fromPayments = flows(asset) + (asset === "USDC" ? routedFlow(routedAll, i - 1) : 0n);
        balances.push({
          party: party.name,
          address: party.wallet.address as Address,
          payee: payeeOf(i),
          asset,
          onChainChange,
          fromPayments,
          reconciled: onChainChange === fromPayments,
        });
      }
    }

    const direct = await measureDirectTransfers(token, wallet(options.customers + 3), wallet(options.customers + 4));
    const usdcPayments = done.filter((d) => d.channel.asset !== ETH).length;
    const ethPayments = done.length - usdcPayments;
    const directGas = BigInt(usdcPayments) * direct.usdc + BigInt(ethPayments) * direct.eth;
    const usd = (g: bigint) => (Number(g) * options.gasPriceGwei * 1e-9 * options.ethUsd);
    const perChannel = await channelLifetime(driver, provider, channels[cashOutIndex].channelId, startBlock + 1, tokenAddress);
    const pairs = new Set(routedRun.paid.map((r) => `${r.payer}>${r.payee}`)).size;
    const settledForwards = forwards.filter((f) => f.status === "settled");
    const routed: DemoReport["routed"] = {
      fees: { ...HUB_FEES },
      payments: routedRun.paid.length,
      failed: routedRun.failed,
      volume: routedRun.paid.reduce((sum, r) => sum + r.amount, 0n),
      earned: routedRun.paid.reduce((sum, r) => sum + r.paid - r.amount, 0n),
      forwardsFees: settledForwards.reduce((sum, f) => sum + f.fee, 0n),
      feesEarned: hubAfterRouting.feesEarned.filter((f) => f.asset.toLowerCase() === tokenAddress.toLowerCase()).reduce((sum, f) => sum + f.amount, 0n),
      forwardsSettled: settledForwards.length,
      latencyMs: { p50: percentile(routedRun.latencies, 50), p99: percentile(routedRun.latencies, 99) },
      pairs,
      onLayer1: { transactions: routedRun.paid.length, gas: BigInt(routedRun.paid.length) * direct.usdc, usd: usd(BigInt(routedRun.paid.length) * direct.usdc) },
      channelPerPair: { channels: pairs, transactions: pairs * perChannel.transactions, gas: BigInt(pairs) * perChannel.gas, usd: usd(BigInt(pairs) * perChannel.gas) },
      perChannel,
    };

    const newestOfCheat = newest.transferred;
    const deposits = (await alice.node.api.channel(cheatChannel.channelId)).deposits;
    const expectedPayout0 = deposits[0] + newestOfCheat[1] - newestOfCheat[0];
    const expected: [bigint, bigint] = [expectedPayout0, deposits[0] + deposits[1] - expectedPayout0];
    return {
      chain: { url, chainId, started: !options.rpc, firstBlock: startBlock + 1, lastBlock: endBlock },
      treasury,
      contracts: { adjudicator, token: tokenAddress },
      channelIds: channels.map((c) => c.channelId),
      parties: parties.length,
      channels: channels.length,
      payments: { total: done.length, toAlice: done.filter((d) => d.payer === "customer").length, refunds: done.filter((d) => d.payer === "alice").length, failed },
      offChain: {
        seconds,
        paymentsPerSecond: traded / seconds,
        latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] ?? 0 },
      },
      onChain: { transactions: dayTxs.length, gas },
      routed,
      ...(secretPath ? { secretPath } : {}),
      direct: { transactions: done.length, gasPerUsdcTransfer: direct.usdc, gasPerEthTransfer: direct.eth, gas: directGas },
      price: { gasPriceGwei: options.gasPriceGwei, ethUsd: options.ethUsd, channelUsd: usd(gas), directUsd: usd(directGas) },
      saving: Number(directGas) / Number(gas),
      balances,
      cheat: {
        customer: cheater.name,
        asset: cheatChannel.asset === ETH ? "ETH" : "USDC",
        registeredVersion: old.state.version,
        refutedWith: newest.version,
        settledVersion: settled?.version ?? 0n,
        wouldHaveKept: newestOfCheat[1] - newestOfCheat[0] - (old.state.transferred[1] - old.state.transferred[0]),
        payouts: settled?.payouts ?? [0n, 0n],
        expected,
        caught: settled !== undefined && settled.version === newest.version && settled.payouts[0] === expected[0] && settled.payouts[1] === expected[1],
      },
      receipts,
      forgedReceiptRejected,
      cashOut: {
        customer: customers[cashOutIndex].name,
        channelId: cashOutChannel.channelId,
        asset: cashOutIsEth ? "ETH" : "USDC",
        amount: cashOutAmount,
        received,
        transaction: cashed.tx.hash,
        gas: cashed.tx.gasUsed,
        paymentsAfter: after.length,
        exact: received === cashOutAmount && cashed.paid === cashOutAmount,
      },
    };
  } catch (error) {
    for (const p of parties) process.stderr.write(`\n--- ${p.name}'s node log (last lines) ---\n${p.node.log().split("\n").slice(-30).join("\n")}\n`);
    throw error;
  } finally {
    await Promise.all(parties.map((p) => p.node.stop().catch(() => undefined)));
    await chain?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** What a party's payments through the hub say it gained: customer `customer` (-1: Alice, who keeps the fees). */
function routedFlow(routed: RoutedPayment[], customer: number): bigint {
  let sum = 0n;
  for (const r of routed) {
    if (customer === -1) sum += r.paid - r.amount;
    if (r.payee === customer) sum += r.amount;
    if (r.payer === customer) sum -= r.paid;
  }
  return sum;
}

/** Every forward of Alice's hub, a page at a time. */
async function allForwards(alice: Party): Promise<ForwardView[]> {
  const all: ForwardView[] = [];
  for (;;) {
    const page = await alice.node.api.forwards(all.length === 0 ? { limit: 100 } : { limit: 100, before: all[all.length - 1].id });
    all.push(...page);
    if (page.length < 100) return all;
  }
}

/**
 * One channel's life on chain: its deposits (each with the approval the depositor sent just
 * before it, if any) and its close. A partial withdrawal is left out: a channel per pair needs none.
 */
async function channelLifetime(driver: AdjudicatorDriver, provider: JsonRpcProvider, channelId: Hex, fromBlock: number, token: Address): Promise<{ transactions: number; gas: bigint }> {
  const events = (await driver.events({ fromBlock, channelId, names: ["Deposited", "Closed"] })).filter((e) => e.name === "Deposited" || e.name === "Closed");
  const hashes = new Set<string>(events.map((e) => e.transactionHash));
  for (const e of events) {
    if (e.name !== "Deposited") continue;
    const tx = (await provider.getTransaction(e.transactionHash))!;
    if (tx.nonce === 0) continue;
    // The depositor's previous transaction, a few blocks back at most (the chain mines one per transaction).
    for (let n = tx.blockNumber!; n >= Math.max(fromBlock, tx.blockNumber! - 40); n--) {
      const previous = (await provider.getBlock(n, true))!.prefetchedTransactions.find((t) => t.from === tx.from && t.nonce === tx.nonce - 1);
      if (!previous) continue;
      if (previous.to?.toLowerCase() === token.toLowerCase()) hashes.add(previous.hash);
      break;
    }
  }
  let gas = 0n;
  for (const hash of hashes) gas += (await provider.getTransactionReceipt(hash))!.gasUsed;
  return { transactions: hashes.size, gas };
}

/** Gas of direct transfers on the same chain, between two accounts outside the day. */
async function measureDirectTransfers(token: MockERC20, from: Wallet, to: Wallet): Promise<{ usdc: bigint; eth: bigint }> {
  const t = token.connect(from);
  await (await t.mint(from.address, usdc(1_000_000n))).wait();
  await (await t.mint(to.address, 1n)).wait();
  const samples: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    const receipt = await (await t.transfer(to.address, usdc(10_000n + BigInt(i)))).wait();
    samples.push(receipt!.gasUsed);
  }
  const eth = await (await from.sendTransaction({ to: to.address, value: 10n ** 15n })).wait();
  return { usdc: samples.reduce((a, b) => a + b, 0n) / BigInt(samples.length), eth: eth!.gasUsed };
}

/** An order's reference as a person reads it: "Customer 2's order 301". */
function orderLabel(channel: number, order: number): string {
  return `Customer ${channel + 1}'s order ${order}`;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting for the chain or a node");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type { Params };
