import { expect } from "chai";
import { startLocalNode, AdjudicatorDriver, type LocalNode } from "../../src/chain";
import { ChannelMode } from "../../src/types";
import { MockERC20__factory } from "../../typechain-types";
import { runDemo, DEFAULT_OPTIONS, type DemoReport } from "../../scripts/demo/day";
import { formatAmount } from "../../scripts/demo/format";
import { formatReport } from "../../scripts/demo/report";
import { lockGuardAvailable } from "../../scripts/demo/hub";

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("the demo (npm start) with small numbers, checked against the chain", function () {
  let chain: LocalNode;
  let report: DemoReport;

  before(async function () {
    chain = await startLocalNode({ kind: "hardhat" });
    report = await runDemo({ ...DEFAULT_OPTIONS, customers: 4, payments: 25, concurrency: 4, routed: 3, rpc: chain.url, quiet: true });
  });

  after(async function () {
    await chain?.stop();
  });

  it("makes every payment: 25 orders per customer and a refund every 20th, and 3 orders after the cash-out", function () {
    expect(report.payments.failed).to.equal(0);
    expect(report.payments.toAlice).to.equal(4 * 25 + 3);
    expect(report.payments.refunds).to.equal(4 * 1);
    expect(report.payments.total).to.equal(107);
  });

  it("routes the customers' invoices to each other through Alice's hub; her fees are her forwards' fees", function () {
    const { routed } = report;
    expect(routed.failed).to.equal(0);
    expect(routed.payments).to.equal(3 * 3); // three dollar customers, three invoices each
    expect(routed.pairs).to.equal(3);
    expect(routed.volume).to.be.greaterThan(0n);
    // 0.1 % of each payment, rounded down, as the payers' receipts and Alice's node both say.
    expect(routed.earned).to.be.greaterThan(0n);
    expect(routed.earned <= routed.volume / 1_000n).to.equal(true);
    expect(routed.forwardsSettled).to.equal(routed.payments);
    expect(routed.forwardsFees).to.equal(routed.earned);
    expect(routed.feesEarned).to.equal(routed.earned);
    // What they would have cost on chain: computed from the gas measured on this chain.
    expect(routed.onLayer1.gas).to.equal(BigInt(routed.payments) * report.direct.gasPerUsdcTransfer);
    expect(routed.perChannel.transactions).to.be.greaterThanOrEqual(3); // two deposits and a close at least
    expect(routed.channelPerPair.gas).to.equal(BigInt(routed.pairs) * routed.perChannel.gas);
    expect(formatReport(report)).to.include(`Alice earned ${formatAmount(routed.earned, "USDC")} for forwarding them`);
  });

  it("cashes out half of Alice's takings to her treasury while the channel stays open, exactly, in one transaction", async function () {
    const { cashOut } = report;
    expect(cashOut.exact).to.equal(true);
    expect(cashOut.amount).to.be.greaterThan(0n);
    const driver = new AdjudicatorDriver(report.contracts.adjudicator, chain.provider);
    const events = (await driver.events({ fromBlock: report.chain.firstBlock, channelId: cashOut.channelId, names: ["PartiallyWithdrawn"] })).filter(
      (e) => e.name === "PartiallyWithdrawn",
    );
    expect(events.map((e) => e.name === "PartiallyWithdrawn" && [e.participant, e.amount, e.total, e.transactionHash])).to.deep.equal([
      [0, cashOut.amount, cashOut.amount, cashOut.transaction],
    ]);
    const receipt = await chain.provider.getTransactionReceipt(cashOut.transaction);
    expect(receipt!.blockNumber).to.be.lessThan(report.chain.lastBlock);
    const token = MockERC20__factory.connect(report.contracts.token, chain.provider);
    const at = (block: number) => (cashOut.asset === "ETH" ? chain.provider.getBalance(report.treasury, block) : token.balanceOf(report.treasury, { blockTag: block }));
    expect((await at(receipt!.blockNumber)) - (await at(receipt!.blockNumber - 1))).to.equal(cashOut.amount);
  });

  it("counts exactly the parties' transactions and their gas", async function () {
    const parties = new Set(report.balances.map((b) => b.address.toLowerCase()));
    let transactions = 0;
    let gas = 0n;
    for (let n = report.chain.firstBlock; n <= report.chain.lastBlock; n++) {
      const block = await chain.provider.getBlock(n, true);
      for (const tx of block!.prefetchedTransactions) {
        if (!parties.has(tx.from.toLowerCase())) continue;
        transactions++;
        gas += (await chain.provider.getTransactionReceipt(tx.hash))!.gasUsed;
      }
    }
    expect(report.onChain.transactions).to.equal(transactions);
    expect(report.onChain.gas).to.equal(gas);
    expect(report.saving).to.be.greaterThan(1);
  });

  it("reconciles every party's token balance on chain with its payments, to the base unit", async function () {
    const token = MockERC20__factory.connect(report.contracts.token, chain.provider);
    const usdc = report.balances.filter((b) => b.asset === "USDC");
    expect(usdc.length).to.equal(4); // Alice and the three token customers
    for (const b of report.balances) expect(b.reconciled, `${b.party} ${b.asset}`).to.equal(true);
    // The customers' token balances: what they were minted, less what they paid, plus refunds.
    const total = usdc.filter((b) => b.party !== "Alice").reduce((sum, b) => sum + b.onChainChange, 0n);
    const alice = usdc.find((b) => b.party === "Alice")!;
    expect(alice.onChainChange).to.equal(-total);
    for (const b of usdc) expect(await token.balanceOf(b.address)).to.be.greaterThan(0n);
  });

  it("pays Alice's side of every channel to her treasury, exactly her payouts and her cash-out, and nothing to her node's address", async function () {
    const driver = new AdjudicatorDriver(report.contracts.adjudicator, chain.provider);
    const token = MockERC20__factory.connect(report.contracts.token, chain.provider);
    const concluded = (await driver.events({ fromBlock: report.chain.firstBlock, names: ["Closed", "Settled"] })).filter(
      (e) => (e.name === "Closed" || e.name === "Settled") && report.channelIds.includes(e.channelId),
    );
    expect(concluded.length).to.equal(report.channelIds.length);
    // The treasury's payouts at the closes and settlement, and the cash-out.
    const paid = { eth: 0n, usdc: report.cashOut.asset === "USDC" ? report.cashOut.amount : 0n };
    if (report.cashOut.asset === "ETH") paid.eth += report.cashOut.amount;
    // A lock resolved to Alice (the vanished payer's) is paid to her treasury too.
    for (const e of await driver.events({ fromBlock: report.chain.firstBlock, names: ["LockResolved"] })) if (e.name === "LockResolved" && e.paidTo === 0) paid.usdc += e.amount;
    for (const e of concluded) {
      if (e.name !== "Closed" && e.name !== "Settled") continue;
      // The first channel is the ETH one.
      if (e.channelId === report.channelIds[0]) paid.eth += e.payouts[0];
      else paid.usdc += e.payouts[0];
    }
    const before = report.chain.firstBlock - 1;
    expect((await chain.provider.getBalance(report.treasury)) - (await chain.provider.getBalance(report.treasury, before))).to.equal(paid.eth);
    expect((await token.balanceOf(report.treasury)) - (await token.balanceOf(report.treasury, { blockTag: before }))).to.equal(paid.usdc);
    const alice = report.balances.find((b) => b.party === "Alice")!;
    expect(alice.payee).to.equal(report.treasury);
    expect(alice.address.toLowerCase()).to.not.equal(report.treasury.toLowerCase());
  });

  it("concludes every channel on chain; the cheater's settled on the newest state", async function () {
    const driver = new AdjudicatorDriver(report.contracts.adjudicator, chain.provider);
    for (const id of report.channelIds) expect((await driver.channelStatus(id)).mode).to.equal(ChannelMode.Concluded);
    expect(report.cheat.caught).to.equal(true);
    expect(report.cheat.registeredVersion < report.cheat.refutedWith).to.equal(true);
    const cheatChannel = report.channelIds[report.channelIds.length - 1];
    const allSettled = (await driver.events({ fromBlock: report.chain.firstBlock, names: ["Settled"] })).filter((e) => e.name === "Settled");
    // The cheater's channel, and the vanished payer's when that scene ran.
    expect(allSettled.length).to.equal(report.secretPath ? 2 : 1);
    const settled = allSettled.filter((e) => e.name === "Settled" && e.channelId === cheatChannel);
    expect(settled.length).to.equal(1);
    if (settled[0].name !== "Settled") throw new Error("unreachable");
    expect(settled[0].version).to.equal(report.cheat.refutedWith);
    expect(settled[0].payouts).to.deep.equal(report.cheat.expected);
  });

  it("prints what the cheater tried to keep, read from the state it registered on chain, in plain words", async function () {
    const driver = new AdjudicatorDriver(report.contracts.adjudicator, chain.provider);
    const cheatChannel = report.channelIds[report.channelIds.length - 1];
    const challenged = (await driver.events({ fromBlock: report.chain.firstBlock, channelId: cheatChannel, names: ["Challenged"] })).filter((e) => e.name === "Challenged");
    expect(challenged.length).to.equal(2); // the cheater's old state, then Alice's newest
    if (challenged[0].name !== "Challenged" || challenged[1].name !== "Challenged") throw new Error("unreachable");
    const paid = (t: [bigint, bigint]) => t[1] - t[0];
    const kept = paid(challenged[1].state.transferred) - paid(challenged[0].state.transferred);
    expect(kept).to.be.greaterThan(0n);
    expect(report.cheat.wouldHaveKept).to.equal(kept);
    const text = formatReport(report);
    expect(text).to.include(`${report.cheat.customer} stopped its node and tried to close its channel on an outdated balance, one that would have let it keep ${formatAmount(kept, report.cheat.asset)} it had paid Alice`);
    expect(text).to.include(`caught, the channel settled on the latest balance and ${report.cheat.customer} paid in full`);
    expect(text).to.not.match(/version \d+/);
  });

  it("prints every balance checked against the chain rounded for display, aligned, with per-asset totals of zero", function () {
    const text = formatReport(report);
    for (const b of report.balances) {
      const shown = escape(formatAmount(b.onChainChange, b.asset));
      expect(text, `${b.party} ${b.asset}`).to.match(new RegExp(`\\n  ${escape(b.party)}\\s+${shown}\\s+${shown}   matches exactly\\n`));
    }
    expect(text).to.match(/\n {2}total\s+0\.00 USDC\s+0\.00 USDC\n/);
    expect(text).to.match(/\n {2}total\s+0\.000000 ETH\s+0\.000000 ETH\n/);
    const rows = text.split("\n").filter((l) => /^ {2}\S.*(USDC|ETH)/.test(l));
    expect(rows.length).to.equal(report.balances.length + 2);
    // Aligned: the last amount column ends at the same place on every row.
    expect(new Set(rows.map((r) => r.replace(/\s+matches exactly$/, "").length)).size).to.equal(1);
    expect(text).to.not.include("base unit");
    expect(text).to.include(`Alice moved ${formatAmount(report.cashOut.amount, report.cashOut.asset)} of her takings from ${report.cashOut.customer}'s channel`);
  });

  it("a payer vanishes after its lock reached the hub: Alice's node registers the secret, disputes, settles and resolves the lock to her (with the lock guard)", async function () {
    // The scene needs the node's lock guard (src/node/lockGuard.ts, branch i15-lockwatch); without it the day leaves it out.
    expect(report.secretPath !== undefined).to.equal(lockGuardAvailable());
    const path = report.secretPath;
    if (!path) return;
    const driver = new AdjudicatorDriver(report.contracts.adjudicator, chain.provider);
    expect(path.payeePaidOffChain).to.equal(true);
    expect(path.paid).to.equal(true);
    expect(path.locked - path.amount).to.equal(path.amount / 1_000n); // Alice's 0.1 %
    expect(await driver.secretRevealedAt(path.hashlock)).to.not.equal(0n);
    expect((await driver.channelStatus(path.channelId)).mode).to.equal(ChannelMode.Concluded);
    const resolved = (await driver.events({ fromBlock: report.chain.firstBlock, channelId: path.channelId, names: ["LockResolved"] })).filter((e) => e.name === "LockResolved");
    expect(resolved.map((e) => e.name === "LockResolved" && [e.hashlock, e.paidTo, e.amount])).to.deep.equal([[path.hashlock, 0, path.locked]]);
    expect(path.transactions.map((t) => t.what)).to.include.members(["secret registered", "dispute with the state holding the lock", "settled after the challenge period", "lock resolved: paid to Alice"]);
    for (const t of path.transactions) expect((await chain.provider.getTransactionReceipt(t.hash))!.gasUsed).to.equal(t.gas);
    expect(formatReport(report)).to.include(`Alice was paid the ${formatAmount(path.locked, "USDC")} in full`);
  });

  it("verifies receipts on chain and rejects the forged one", function () {
    expect(report.receipts.length).to.be.greaterThan(0);
    for (const r of report.receipts) expect(r.verified, r.order).to.equal(true);
    expect(report.forgedReceiptRejected).to.equal(true);
    const text = formatReport(report);
    for (const r of report.receipts) {
      expect(r.order).to.match(/^Customer \d+'s order \d+$/);
      expect(text).to.include(`${r.order} (${formatAmount(r.amount, r.asset)}) proven`);
    }
    expect(text).to.include("a receipt with its amount altered was rejected by the chain");
  });
});
