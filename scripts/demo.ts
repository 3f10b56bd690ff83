/**
 * `npm start`: Alice's trading day on Sluice. Starts a chain of its own (or uses `--rpc`), runs one
 * node process per party, and prints the day's report (`--json` for machine output).
 */
import { parseArgs } from "node:util";
import { DEFAULT_OPTIONS, runDemo, type DemoOptions, type DemoReport } from "./demo/day";
import { formatReport } from "./demo/report";

const HELP = `Alice's trading day on Sluice payment channels.

usage: npm start -- [options]

  --customers N     customers Alice trades with, one channel each (default ${DEFAULT_OPTIONS.customers}; the first uses ETH, the others a dollar stablecoin)
  --payments N      orders each customer pays (default ${DEFAULT_OPTIONS.payments}); Alice refunds every 20th
  --concurrency N   payments in flight per channel (default ${DEFAULT_OPTIONS.concurrency})
  --routed N        invoices each dollar customer pays another customer through Alice's hub
                    (default ${DEFAULT_OPTIONS.routed})
  --no-secret-path  skip the payer that vanishes after locking (Alice's node collects on chain)
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
      routed: { type: "string" },
      "no-secret-path": { type: "boolean" },
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
    routed: positiveInt(values.routed, "routed", DEFAULT_OPTIONS.routed),
    secretPath: values["no-secret-path"] === true ? false : DEFAULT_OPTIONS.secretPath,
    rpc: values.rpc,
    gasPriceGwei: positiveInt(values["gas-price"], "gas-price", DEFAULT_OPTIONS.gasPriceGwei),
    ethUsd: positiveInt(values["eth-usd"], "eth-usd", DEFAULT_OPTIONS.ethUsd),
    seed: positiveInt(values.seed, "seed", DEFAULT_OPTIONS.seed),
    quiet: values.json === true,
  };
  if (options.customers < 4) throw new Error("--customers: at least 4 (one in ETH, three in dollars: they pay each other through the hub, one vanishes, one cheats)");
  if (options.customers > 15) throw new Error("--customers: at most 15 (the chain's dev accounts run out)");
  return { options, json: values.json === true };
}

export { formatReport };

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
    report.balances.every((b) => b.reconciled) && report.cheat.caught && report.receipts.every((x) => x.verified) && report.forgedReceiptRejected && report.cashOut.exact &&
    report.routed.failed === 0 &&
    report.routed.earned === report.routed.forwardsFees &&
    (report.secretPath === undefined || report.secretPath.paid);
  if (!ok) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`the demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
