/**
 * `npm start`: Alice's trading day on Sluice. Starts a chain of its own (or uses `--rpc`), runs one
 * node process per party, and prints the day's report (`--json` for machine output).
 */
import { parseArgs } from "node:util";
import { formatUnits } from "ethers";
import { DEFAULT_OPTIONS, runDemo, type DemoOptions, type DemoReport } from "./demo/day";

const HELP = `Alice's trading day on Sluice payment channels.

usage: npm start -- [options]

  --customers N     customers Alice trades with, one channel each (default ${DEFAULT_OPTIONS.customers}; the first uses ETH, the others a dollar stablecoin)
  --payments N      orders each customer pays (default ${DEFAULT_OPTIONS.payments}); Alice refunds every 20th
  --concurrency N   payments in flight per channel (default ${DEFAULT_OPTIONS.concurrency})
  --rpc URL         use this JSON-RPC node (a hardhat node or anvil with the standard dev accounts)
                    instead of starting one
  --gas-price GWEI  gas price used to price the on-chain costs (default ${DEFAULT_OPTIONS.gasPriceGwei})
  --eth-usd USD     ETH price in dollars (default ${DEFAULT_OPTIONS.ethUsd})
  --seed N          seed of the order amounts (default ${DEFAULT_OPTIONS.seed})
  --json            print the report as JSON
  --help            this text
`;

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < 1) throw new Error(`--${name} ${JSON.stringify(text)}: give a whole number of at least 1`);
  return Number(text);
}

function parse(argv: string[]): { options: DemoOptions; json: boolean } | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      customers: { type: "string" },
      payments: { type: "string" },
      concurrency: { type: "string" },
      rpc: { type: "string" },
      "gas-price": { type: "string" },
      "eth-usd": { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return undefined;
  if (values.rpc !== undefined && !/^https?:\/\/\S+$/.test(values.rpc)) throw new Error(`--rpc ${JSON.stringify(values.rpc)}: give an http:// URL`);
  const options: DemoOptions = {
    customers: positiveInt(values.customers, "customers", DEFAULT_OPTIONS.customers),
    payments: positiveInt(values.payments, "payments", DEFAULT_OPTIONS.payments),
    concurrency: positiveInt(values.concurrency, "concurrency", DEFAULT_OPTIONS.concurrency),
    rpc: values.rpc,
    gasPriceGwei: positiveInt(values["gas-price"], "gas-price", DEFAULT_OPTIONS.gasPriceGwei),
    ethUsd: positiveInt(values["eth-usd"], "eth-usd", DEFAULT_OPTIONS.ethUsd),
    seed: positiveInt(values.seed, "seed", DEFAULT_OPTIONS.seed),
    quiet: values.json === true,
  };
  if (options.customers > 15) throw new Error("--customers: at most 15 (the chain's dev accounts run out)");
  return { options, json: values.json === true };
}

const n = (x: number | bigint) => x.toLocaleString("en-US");
const usd = (x: number) => `$${x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export function formatReport(r: DemoReport): string {
  const amount = (asset: string, value: bigint) => `${formatUnits(value, asset === "ETH" ? 18 : 6)} ${asset}`;
  const lines = [
    "",
    "Sluice: Alice's trading day",
    "===========================",
    `chain            ${r.chain.url} (chain id ${r.chain.chainId}${r.chain.started ? ", started by the demo" : ""})`,
    `parties          ${r.parties} nodes (Alice and ${r.parties - 1} customers), ${r.channels} channels`,
    `payees           Alice's payouts go to her treasury ${r.treasury} (her node's key only signs); the customers' to their own addresses`,
    "",
    `payments         ${n(r.payments.total)} (${n(r.payments.toAlice)} orders paid to Alice, ${n(r.payments.refunds)} refunds), ${n(r.payments.failed)} failed`,
    `off-chain        ${n(Math.round(r.offChain.paymentsPerSecond))} payments/s over ${r.offChain.seconds.toFixed(1)} s; latency p50 ${r.offChain.latencyMs.p50.toFixed(2)} ms, p99 ${r.offChain.latencyMs.p99.toFixed(2)} ms`,
    `on-chain         ${n(r.onChain.transactions)} transactions, ${n(r.onChain.gas)} gas (${usd(r.price.channelUsd)} at ${r.price.gasPriceGwei} gwei, ETH at ${usd(r.price.ethUsd)})`,
    `direct transfers ${n(r.direct.transactions)} transactions, ${n(r.direct.gas)} gas (${usd(r.price.directUsd)}): ${n(r.direct.gasPerUsdcTransfer)} gas per token transfer, ${n(r.direct.gasPerEthTransfer)} per ETH transfer, measured on this chain`,
    `saving           ${r.saving.toFixed(1)}x less gas with channels`,
    "",
    "balances on chain against the payments (to the base unit; for Alice her node's address and her treasury together):",
    ...r.balances.map(
      (b) =>
        `  ${b.party.padEnd(12)} ${b.asset.padEnd(4)} change ${amount(b.asset, b.onChainChange).padStart(22)}   payments say ${amount(b.asset, b.fromPayments).padStart(22)}   ${b.reconciled ? "reconciled" : "MISMATCH"}`,
    ),
    "",
    `cash-out         Alice took ${amount(r.cashOut.asset, r.cashOut.amount)} of her takings out of ${r.cashOut.customer}'s channel to her treasury while it stayed open (${n(r.cashOut.gas)} gas; ${r.cashOut.exact ? "received exactly" : `RECEIVED ${amount(r.cashOut.asset, r.cashOut.received)}`}); ${r.cashOut.paymentsAfter} more orders paid in it after`,
    `the cheat        ${r.cheat.customer} registered version ${r.cheat.registeredVersion}; Alice's watcher answered with version ${r.cheat.refutedWith}; settled at version ${r.cheat.settledVersion}: ${r.cheat.caught ? "caught, paid by the newest state" : "NOT CAUGHT"}`,
    "receipts         " + r.receipts.map((x) => `${x.order} ${x.verified ? "verified" : "NOT verified"}`).join("; "),
    `forged receipt   ${r.forgedReceiptRejected ? "rejected by the chain" : "ACCEPTED (bug)"}`,
    "",
  ];
  return lines.join("\n");
}

function toJson(report: DemoReport): string {
  return JSON.stringify(report, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    process.exitCode = 2;
    return;
  }
  if (!parsed) {
    process.stdout.write(HELP);
    return;
  }
  const report = await runDemo(parsed.options);
  process.stdout.write(parsed.json ? `${toJson(report)}\n` : formatReport(report));
  const ok =
    report.balances.every((b) => b.reconciled) && report.cheat.caught && report.receipts.every((x) => x.verified) && report.forgedReceiptRejected && report.cashOut.exact;
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`the demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
