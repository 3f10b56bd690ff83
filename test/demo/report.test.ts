import { expect } from "chai";
import type { DemoReport, PartyBalance } from "../../scripts/demo/day";
import { formatReport } from "../../scripts/demo/report";

const ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TREASURY = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
const ID = `0x${"11".repeat(32)}` as const;

function balance(party: string, asset: "USDC" | "ETH", change: bigint): PartyBalance {
  return { party, address: ALICE, payee: party === "Alice" ? TREASURY : ALICE, asset, onChainChange: change, fromPayments: change, reconciled: true };
}

/** The figures of the README's run (before this report), the ones that broke the old report's columns. */
function readmeRun(): DemoReport {
  const eth = 19_716_306_666_666_666_488n;
  const customers = [-59_810_540_000n, -59_247_340_000n, -59_329_160_000n, -59_643_800_000n];
  return {
    chain: { url: "http://127.0.0.1:41553", chainId: 31337n, started: true, firstBlock: 5, lastBlock: 40 },
    treasury: TREASURY,
    contracts: { adjudicator: ALICE, token: ALICE },
    channelIds: [ID, ID, ID, ID, ID],
    parties: 6,
    channels: 5,
    payments: { total: 3153, toAlice: 3003, refunds: 150, failed: 0 },
    offChain: { seconds: 2.02, paymentsPerSecond: 1559.3, latencyMs: { p50: 48.54, p99: 104.09, max: 120 } },
    onChain: { transactions: 26, gas: 1_512_566n },
    routed: {
      fees: { base: 0n, ppm: 1_000 },
      payments: 160,
      failed: 0,
      volume: 6_412_340_000n,
      earned: 6_412_340n,
      forwardsFees: 6_412_340n,
      feesEarned: 6_412_340n,
      forwardsSettled: 160,
      latencyMs: { p50: 21.37, p99: 58.9 },
      pairs: 4,
      onLayer1: { transactions: 160, gas: 5_455_360n, usd: 327.3216 },
      channelPerPair: { channels: 4, transactions: 20, gas: 1_020_000n, usd: 61.2 },
      perChannel: { transactions: 5, gas: 255_000n },
    },
    secretPath: {
      payer: "Customer 4",
      payee: "Customer 2",
      channelId: ID,
      amount: 50_000_000n,
      locked: 50_050_000n,
      hashlock: ID,
      payeePaidOffChain: true,
      forwardStatus: "settled",
      settledVersion: 90n,
      resolved: { amount: 50_050_000n, paidTo: 0 },
      transactions: [
        { what: "secret registered", hash: ID, gas: 46_000n },
        { what: "dispute with the state holding the lock", hash: ID, gas: 120_000n },
      ],
      paid: true,
    },
    direct: { transactions: 3153, gasPerUsdcTransfer: 34_096n, gasPerEthTransfer: 21_000n, gas: 99_254_208n },
    price: { gasPriceGwei: 20, ethUsd: 3000, channelUsd: 90.75396, directUsd: 5955.25248 },
    saving: 65.62,
    balances: [
      balance("Alice", "USDC", -customers.reduce((a, b) => a + b, 0n)),
      balance("Alice", "ETH", eth),
      balance("Customer 1", "ETH", -eth),
      ...customers.map((c, i) => balance(`Customer ${i + 2}`, "USDC", c)),
    ],
    cheat: {
      customer: "Customer 5",
      asset: "USDC",
      registeredVersion: 50n,
      refutedWith: 149n,
      settledVersion: 149n,
      wouldHaveKept: 40_123_450_000n,
      payouts: [1n, 2n],
      expected: [1n, 2n],
      caught: true,
    },
    receipts: [
      { order: "Customer 1's order 301", channelId: ID, seq: 310n, asset: "ETH", amount: 33_186_666_666_666_666n, verified: true },
      { order: "Customer 2's order 302", channelId: ID, seq: 311n, asset: "USDC", amount: 98_400_000n, verified: true },
    ],
    forgedReceiptRejected: true,
    cashOut: {
      customer: "Customer 2",
      channelId: ID,
      asset: "USDC",
      amount: 30_255_270_000n,
      received: 30_255_270_000n,
      transaction: ID,
      gas: 99_191n,
      paymentsAfter: 3,
      exact: true,
    },
  };
}

/** The rows of the balances table: from its header to the first blank line. */
function balanceRows(text: string): string[] {
  const lines = text.split("\n");
  const header = lines.findIndex((l) => /^\s+change on chain\s+payments say$/.test(l));
  expect(header, "the balances table's header").to.be.greaterThan(0);
  const end = lines.indexOf("", header);
  return lines.slice(header, end);
}

describe("the demo report (scripts/demo/report)", function () {
  it("shows ETH to 6 decimals and USDC with separators and 2 decimals, never the 18 decimals of wei", function () {
    const text = formatReport(readmeRun());
    expect(text).to.not.match(/\d\.\d{7,} ETH/);
    expect(text).to.not.match(/\d\.\d(?!\d) USDC/);
    expect(text).to.not.match(/\d{4,}\.\d+ USDC/);
    const rows = balanceRows(text);
    expect(rows.find((r) => r.includes("Alice") && r.includes("ETH"))).to.match(/Alice\s+19\.716307 ETH\s+19\.716307 ETH\s+matches exactly$/);
    expect(rows.find((r) => r.includes("Customer 1"))).to.match(/Customer 1\s+-19\.716307 ETH\s+-19\.716307 ETH\s+matches exactly$/);
    expect(rows.find((r) => r.includes("Customer 5"))).to.match(/Customer 5\s+-59,643\.80 USDC\s+-59,643\.80 USDC\s+matches exactly$/);
    expect(rows.find((r) => r.includes("Alice") && r.includes("USDC"))).to.include("238,030.84 USDC");
    expect(text).to.include("Alice moved 30,255.27 USDC of her takings");
  });

  it("aligns the balances table: every amount column ends at the same place on every row", function () {
    const rows = balanceRows(formatReport(readmeRun()));
    expect(rows.length).to.equal(1 + 5 + 1 + 2 + 1); // the header, the USDC rows and their total, the ETH rows and theirs
    const ends = (pattern: RegExp) => rows.slice(1).map((r) => [...r.matchAll(pattern)].map((m) => m.index + m[0].length));
    const amountEnds = ends(/-?[\d,]+\.\d+ (USDC|ETH)/g);
    for (const e of amountEnds) expect(e).to.deep.equal(amountEnds[0]);
    // The header's titles end where the amounts do.
    const header = rows[0];
    expect(header.indexOf("change on chain") + "change on chain".length).to.equal(amountEnds[0][0]);
    expect(header.indexOf("payments say") + "payments say".length).to.equal(amountEnds[0][1]);
  });

  it("shows a total per asset that the rows shown add up to, and says how amounts are rounded", function () {
    const report = readmeRun();
    // Three ETH rows whose rounded values alone would not add up to their rounded total.
    report.balances = report.balances.filter((b) => b.asset === "USDC");
    report.balances.push(balance("Alice", "ETH", 1_000_000_000_000_000_000n), balance("Customer 1", "ETH", -333_333_333_333_333_333n));
    report.balances.push(balance("Customer 6", "ETH", -333_333_333_333_333_333n), balance("Customer 7", "ETH", -333_333_333_333_333_334n));
    const text = formatReport(report);
    const parse = (s: string) => BigInt(s.replace(/[,.]/g, ""));
    for (const asset of ["USDC", "ETH"]) {
      const rows = balanceRows(text).filter((r) => r.includes(` ${asset} `));
      const total = rows.find((r) => r.trimStart().startsWith("total"))!;
      expect(total, `${asset} total`).to.not.equal(undefined);
      for (const column of [0, 1]) {
        const amount = (r: string) => parse([...r.matchAll(/(-?[\d,]+\.\d+) [A-Z]+/g)][column][1]);
        const sum = rows.filter((r) => r !== total).reduce((s, r) => s + amount(r), 0n);
        expect(sum, `${asset} column ${column}`).to.equal(amount(total));
      }
    }
    expect(text).to.match(/rounded for display, USDC to the cent and ETH to 6 decimals, so that each column's rows add up\s+to its total/);
    expect(text).to.include("Exact amounts: npm start -- --json");
  });

  it("speaks plain words: no protocol versions, no base units, readable order references", function () {
    const text = formatReport(readmeRun());
    expect(text).to.not.match(/version \d+/);
    expect(text).to.not.include("base unit");
    expect(text).to.not.match(/order #\d/);
    expect(text).to.include("Customer 5 stopped its node and tried to close its channel on an outdated balance");
    expect(text).to.include("would have let it keep 40,123.45 USDC it had paid Alice");
    expect(text).to.include("caught, the channel settled on the latest balance and Customer 5 paid in full");
    expect(text).to.include("Customer 1's order 301 (0.033187 ETH) proven; Customer 2's order 302 (98.40 USDC) proven");
    expect(text).to.include("cost on chain      26 transactions, 1,512,566 gas: $90.75 (gas at 20 gwei, ETH at $3,000.00)");
    expect(text).to.include("saving             $5,864.50 (65.6x less gas with channels)");
  });

  it("tells the hub's day: routed payments, Alice's fee, what they would have cost on chain, and the vanished payer", function () {
    const text = formatReport(readmeRun());
    expect(text).to.include("through the hub    160 invoices paid between customers who share no channel, through Alice's hub: 6,412.34 USDC to the payees; none failed");
    expect(text).to.include("hub fees           Alice earned 6.41 USDC for forwarding them (her fee: 0.1 % of the amount)");
    expect(text).to.include("160 token transfers on chain would have cost 5,455,360 gas ($327.32)");
    expect(text).to.include("a channel per pair, 4 more channels of 5 transactions each, 1,020,000 gas ($61.20); through the hub: no transaction");
    expect(text).to.include("Customer 4 locked 50.05 USDC to pay Customer 2 50.00 USDC through the hub, then its node died before it paid Alice; Customer 2 was paid off chain at once");
    expect(text).to.include("secret registered (46,000 gas), dispute with the state holding the lock (120,000 gas): Alice was paid the 50.05 USDC in full");
  });

  it("says plainly when something is wrong", function () {
    const report = readmeRun();
    report.balances[1] = { ...report.balances[1], fromPayments: report.balances[1].onChainChange + 1n, reconciled: false };
    report.cheat.caught = false;
    report.receipts[0].verified = false;
    report.forgedReceiptRejected = false;
    report.cashOut = { ...report.cashOut, received: 1_000_000n, exact: false };
    report.payments.failed = 2;
    report.routed.failed = 3;
    report.secretPath = { ...report.secretPath!, paid: false, resolved: undefined };
    const text = formatReport(report);
    expect(text).to.include("3 FAILED; half paid");
    expect(text).to.include("Alice was NOT paid (the lock was not resolved)");
    expect(balanceRows(text).find((r) => r.includes("Alice") && r.includes("ETH"))).to.match(/MISMATCH$/);
    expect(text).to.include("NOT CAUGHT");
    expect(text).to.include("(0.033187 ETH) NOT proven");
    expect(text).to.include("ACCEPTED by the chain (bug)");
    expect(text).to.include("but the treasury RECEIVED 1.00 USDC");
    expect(text).to.include("2 FAILED");
  });
});
