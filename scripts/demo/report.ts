/** The demo's report as a business reader reads it: plain words, amounts rounded for display only. */
import type { DemoReport, PartyBalance } from "./day";
import { ASSET_DECIMALS, columns, formatAmount, formatCount, formatFixed, formatUsdCents, roundToTotal, type Asset } from "./format";

const LABEL_WIDTH = 18;
const line = (label: string, text: string) => `${label.padEnd(LABEL_WIDTH)} ${text}`;
const cents = (usd: number) => BigInt(Math.round(usd * 100));

/** The balances table: per asset, each party's change on chain beside what its payments say, and the totals. */
export function balanceTable(balances: PartyBalance[]): string[] {
  const rows: string[][] = [["", "change on chain", "payments say", ""]];
  for (const asset of ["USDC", "ETH"] as Asset[]) {
    const mine = balances.filter((b) => b.asset === asset);
    if (mine.length === 0) continue;
    const { base, shown } = ASSET_DECIMALS[asset];
    const onChain = roundToTotal(
      mine.map((b) => b.onChainChange),
      base,
      shown,
    );
    const payments = roundToTotal(
      mine.map((b) => b.fromPayments),
      base,
      shown,
    );
    const show = (scaled: bigint) => `${formatFixed(scaled, shown)} ${asset}`;
    mine.forEach((b, i) => rows.push([b.party, show(onChain.rows[i]), show(payments.rows[i]), b.reconciled ? "matches exactly" : "MISMATCH"]));
    rows.push(["total", show(onChain.total), show(payments.total), ""]);
  }
  return columns(rows, ["left", "right", "right", "left"]).map((l) => `  ${l}`.trimEnd());
}

/** The hub's lines: the routed payments, Alice's fees, and what they would have cost on chain. */
export function routedLines(r: DemoReport): string[] {
  const { routed } = r;
  const feeText = `${(routed.fees.ppm / 10_000).toFixed(2).replace(/\.?0+$/, "")} %${routed.fees.base === 0n ? "" : ` + ${formatAmount(routed.fees.base, "USDC")}`}`;
  return [
    line(
      "through the hub",
      `${formatCount(routed.payments)} invoices paid between customers who share no channel, through Alice's hub: ${formatAmount(routed.volume, "USDC")} to the payees; ` +
        `${routed.failed === 0 ? "none failed" : `${formatCount(routed.failed)} FAILED`}; half paid within ${routed.latencyMs.p50.toFixed(1)} ms, 99 in 100 within ${routed.latencyMs.p99.toFixed(1)} ms`,
    ),
    line("hub fees", `Alice earned ${formatAmount(routed.earned, "USDC")} for forwarding them (her fee: ${feeText} of the amount)`),
    line(
      "routing saved",
      `${formatCount(routed.onLayer1.transactions)} token transfers on chain would have cost ${formatCount(routed.onLayer1.gas)} gas (${formatUsdCents(cents(routed.onLayer1.usd))}); ` +
        `a channel per pair, ${formatCount(routed.channelPerPair.channels)} more channels of ${routed.perChannel.transactions} transactions each, ${formatCount(routed.channelPerPair.gas)} gas (${formatUsdCents(cents(routed.channelPerPair.usd))}); through the hub: no transaction`,
    ),
  ];
}

/** The vanished payer's story, with its transactions. */
export function secretPathLine(p: NonNullable<DemoReport["secretPath"]>): string {
  const txs = p.transactions.map((t) => `${t.what} (${formatCount(t.gas)} gas)`).join(", ");
  return line(
    "payer vanished",
    `${p.payer} locked ${formatAmount(p.locked, "USDC")} to pay ${p.payee} ${formatAmount(p.amount, "USDC")} through the hub, then its node died before it paid Alice; ` +
      `${p.payee} ${p.payeePaidOffChain ? "was paid off chain at once" : "was NOT paid off chain"}. Alice's node took the secret to the chain: ${txs}: ` +
      (p.paid ? `Alice was paid the ${formatAmount(p.locked, "USDC")} in full` : `Alice was NOT paid (${p.resolved ? `${formatAmount(p.resolved.amount, "USDC")} to participant ${p.resolved.paidTo}` : "the lock was not resolved"})`),
  );
}

export function formatReport(r: DemoReport): string {
  const ethChannels = r.balances.filter((b) => b.party !== "Alice" && b.asset === "ETH").length;
  const channelUsd = cents(r.price.channelUsd);
  const directUsd = cents(r.price.directUsd);
  const { cashOut, cheat } = r;
  const lines = [
    "",
    "Sluice: Alice's trading day",
    "===========================",
    line("chain", `${r.chain.url} (chain id ${r.chain.chainId}${r.chain.started ? ", started by the demo" : ""})`),
    line("parties", `${r.parties} nodes (Alice and ${r.parties - 1} customers), ${r.channels} payment channels (${ethChannels} in ETH, ${r.channels - ethChannels} in USDC)`),
    line("where money goes", `Alice's payouts go to her company's treasury ${r.treasury} (her node's key only signs); each customer's to its own address`),
    "",
    line("payments", `${formatCount(r.payments.total)}: ${formatCount(r.payments.toAlice)} orders paid to Alice and ${formatCount(r.payments.refunds)} refunds; ${r.payments.failed === 0 ? "none failed" : `${formatCount(r.payments.failed)} FAILED`}`),
    line(
      "speed",
      `${formatCount(Math.round(r.offChain.paymentsPerSecond))} payments/s over ${r.offChain.seconds.toFixed(1)} s; half confirmed within ${r.offChain.latencyMs.p50.toFixed(2)} ms, 99 in 100 within ${r.offChain.latencyMs.p99.toFixed(2)} ms`,
    ),
    line(
      "cost on chain",
      `${formatCount(r.onChain.transactions)} transactions, ${formatCount(r.onChain.gas)} gas: ${formatUsdCents(channelUsd)} (gas at ${r.price.gasPriceGwei} gwei, ETH at ${formatUsdCents(cents(r.price.ethUsd))})`,
    ),
    line(
      "without channels",
      `${formatCount(r.direct.transactions)} direct transfers, ${formatCount(r.direct.gas)} gas: ${formatUsdCents(directUsd)} (${formatCount(r.direct.gasPerUsdcTransfer)} gas per token transfer, ${formatCount(r.direct.gasPerEthTransfer)} per ETH transfer, measured on this chain)`,
    ),
    line("saving", `${formatUsdCents(directUsd - channelUsd)} (${r.saving.toFixed(1)}x less gas with channels)`),
    "",
    ...routedLines(r),
    "",
    "Balances: what each party gained or paid over the day, read from the chain, against what its payments say",
    "(for Alice, her node's address and her treasury together; each row is compared exactly):",
    "",
    ...balanceTable(r.balances),
    "",
    `Amounts are rounded for display, USDC to the cent and ETH to ${ASSET_DECIMALS.ETH.shown} decimals, so that each column's rows add up`,
    "to its total (the rows that lose the most to rounding are rounded up). Exact amounts: npm start -- --json.",
    "",
    line(
      "cash-out at 15:00",
      `Alice moved ${formatAmount(cashOut.amount, cashOut.asset)} of her takings from ${cashOut.customer}'s channel to her treasury while the channel stayed open: ` +
        `one transaction (${formatCount(cashOut.gas)} gas), ${cashOut.exact ? "received exactly" : `but the treasury RECEIVED ${formatAmount(cashOut.received, cashOut.asset)}`}; ` +
        `${cashOut.paymentsAfter} more orders paid in the channel afterwards`,
    ),
    line(
      "cheat attempt",
      `${cheat.customer} stopped its node and tried to close its channel on an outdated balance, one that would have let it keep ${formatAmount(cheat.wouldHaveKept, cheat.asset)} it had paid Alice; ` +
        `Alice's watcher answered with the latest balance: ${cheat.caught ? `caught, the channel settled on the latest balance and ${cheat.customer} paid in full` : "NOT CAUGHT, the channel settled on another balance"}`,
    ),
    ...(r.secretPath ? [secretPathLine(r.secretPath)] : []),
    line(
      "order receipts",
      `checked on chain: ${r.receipts.map((x) => `${x.order} (${formatAmount(x.amount, x.asset)}) ${x.verified ? "proven" : "NOT proven"}`).join("; ")}`,
    ),
    line("forged receipt", r.forgedReceiptRejected ? "a receipt with its amount altered was rejected by the chain" : "a receipt with its amount altered was ACCEPTED by the chain (bug)"),
    "",
  ];
  return lines.join("\n");
}
