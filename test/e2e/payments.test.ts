/**
 * End to end, scenario 1: two Sluice nodes and a `hardhat node`, each in its own process on
 * loopback. Channels in ETH and in a 6-decimal ERC-20 with deposits on both sides, 1,000 payments
 * per channel in both directions at once (so participant 0's pipelining and participant 1's
 * requests interleave), a cooperative close, and the on-chain balances to the base unit.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import { ChannelMode, ETH, type Hex } from "../../src/types";
import type { PaymentView } from "../../src/node/api/types";
import { agreed, type Cluster, type ClusterNode, ETHER, openFunded, spentBy, USDC, waitFor, withTwoNodes } from "./helpers/cluster";

const PAYMENTS = 1_000;
/** Requests each node keeps in flight at once. */
const CONCURRENCY = 24;

interface Sent {
  payer: 0 | 1;
  amount: bigint;
  ref: Hex;
}

/** Pays `plan` from `from` with up to CONCURRENCY payments in flight; resolves with the answers. */
async function payAll(from: ClusterNode, channelId: Hex, plan: Sent[]): Promise<PaymentView[]> {
  const answers: PaymentView[] = [];
  let next = 0;
  const worker = async () => {
    while (next < plan.length) {
      const p = plan[next++];
      answers.push(await from.process.api.pay(channelId, p.amount, p.ref));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return answers;
}

function makePlan(payer: 0 | 1, count: number, max: bigint, tag: string): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    payer,
    amount: 1n + (BigInt(hexlify(randomBytes(6))) % max),
    ref: hexlify(Buffer.concat([Buffer.from(`${tag}-${i}`.padEnd(16, "\0")), randomBytes(16)])) as Hex,
  }));
}

const sum = (plan: Sent[]) => plan.reduce((s, p) => s + p.amount, 0n);

describe("e2e: payments between two node processes over a hardhat node", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({ token: true }, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  it("pays 1,000 times both ways concurrently in ETH and in USDC, closes, and the chain pays out to the base unit", async function () {
    const chain = cluster.chain;
    const startBlock = await chain.provider.getBlockNumber();
    const ethBefore = [await chain.provider.getBalance(alice.address), await chain.provider.getBalance(bob.address)];
    const token = cluster.token!;
    const usdcBefore = [await token.balanceOf(alice.address), await token.balanceOf(bob.address)];

    const ethDeposits: [bigint, bigint] = [ETHER, 2n * ETHER];
    const usdcDeposits: [bigint, bigint] = [5_000n * USDC, 3_000n * USDC];
    const eth = await openFunded(alice, bob, ETH, ethDeposits);
    const usdc = await openFunded(alice, bob, cluster.tokenAddress, usdcDeposits);
    expect(eth.me).to.equal(0);
    expect((await bob.process.api.channel(eth.channelId)).me).to.equal(1);

    // Amounts small enough that no order of the payments overspends a deposit.
    const plans = {
      eth: [makePlan(0, PAYMENTS / 2, ETHER / 1_000n, "eth-a"), makePlan(1, PAYMENTS / 2, ETHER / 1_000n, "eth-b")],
      usdc: [makePlan(0, PAYMENTS / 2, 5n * USDC, "usdc-a"), makePlan(1, PAYMENTS / 2, 5n * USDC, "usdc-b")],
    };
    const started = Date.now();
    const answers = await Promise.all([
      payAll(alice, eth.channelId, plans.eth[0]),
      payAll(bob, eth.channelId, plans.eth[1]),
      payAll(alice, usdc.channelId, plans.usdc[0]),
      payAll(bob, usdc.channelId, plans.usdc[1]),
    ]);
    const elapsed = Date.now() - started;
    console.log(`      ${4 * (PAYMENTS / 2)} payments through the HTTP APIs in ${elapsed} ms (${Math.round((2 * PAYMENTS * 1000) / elapsed)}/s)`);

    for (const [channelId, plan] of [
      [eth.channelId, plans.eth],
      [usdc.channelId, plans.usdc],
    ] as const) {
      const all = [...plan[0], ...plan[1]];
      const views = await Promise.all([alice, bob].map((n) => n.process.api.channel(channelId)));
      const lists = await Promise.all([alice, bob].map((n) => n.process.api.payments(channelId, { limit: 10_000 })));
      // Both sides hold the same latest state, with every payment exactly once.
      expect(views[0].version).to.equal(views[1].version);
      expect(views[0].transferred).to.deep.equal([sum(plan[0]), sum(plan[1])]);
      expect(views[1].transferred).to.deep.equal(views[0].transferred);
      expect(views[0].payments).to.equal(BigInt(PAYMENTS));
      expect(lists[0].map(agreed)).to.deep.equal(lists[1].map(agreed));
      expect(lists[0].map((p) => p.seq)).to.deep.equal(Array.from({ length: PAYMENTS }, (_, i) => BigInt(i)));
      const byRef = new Map(lists[0].map((p) => [p.ref.toLowerCase(), p]));
      expect(byRef.size).to.equal(PAYMENTS);
      for (const sent of all) {
        const stored = byRef.get(sent.ref.toLowerCase());
        expect(stored, `payment ${sent.ref}`).to.not.equal(undefined);
        expect(stored!.payer).to.equal(sent.payer);
        expect(stored!.amount).to.equal(sent.amount);
      }
      // Versions never fall with the seq (one state may add several payments); the latest state is at least the last payment's.
      for (let i = 1; i < PAYMENTS; i++) expect(lists[0][i].version >= lists[0][i - 1].version).to.equal(true);
      expect(views[0].version >= lists[0][PAYMENTS - 1].version).to.equal(true);
    }
    // Every answer the API gave is a stored payment of that payer.
    expect(answers.flat()).to.have.length(2 * PAYMENTS);

    // Cooperative close: participant 1 asks for the ETH channel's final state, participant 0 closes USDC.
    const ethClose = await bob.process.api.close(eth.channelId);
    const usdcClose = await alice.process.api.close(usdc.channelId);
    const expectedEth: [bigint, bigint] = [
      ethDeposits[0] - sum(plans.eth[0]) + sum(plans.eth[1]),
      ethDeposits[1] - sum(plans.eth[1]) + sum(plans.eth[0]),
    ];
    const expectedUsdc: [bigint, bigint] = [
      usdcDeposits[0] - sum(plans.usdc[0]) + sum(plans.usdc[1]),
      usdcDeposits[1] - sum(plans.usdc[1]) + sum(plans.usdc[0]),
    ];
    const closed = await cluster.driver.events({ fromBlock: startBlock, names: ["Closed"] });
    const payoutsOf = (id: Hex) => closed.find((e) => e.name === "Closed" && e.channelId.toLowerCase() === id.toLowerCase());
    const ethEvent = payoutsOf(eth.channelId);
    const usdcEvent = payoutsOf(usdc.channelId);
    expect(ethEvent?.name === "Closed" && ethEvent.transactionHash.toLowerCase()).to.equal(ethClose.hash.toLowerCase());
    expect(ethEvent?.name === "Closed" ? ethEvent.payouts : undefined).to.deep.equal(expectedEth);
    expect(usdcEvent?.name === "Closed" ? usdcEvent.payouts : undefined).to.deep.equal(expectedUsdc);
    expect(usdcEvent?.name === "Closed" && usdcEvent.transactionHash.toLowerCase()).to.equal(usdcClose.hash.toLowerCase());
    for (const id of [eth.channelId, usdc.channelId]) {
      expect((await cluster.driver.channelStatus(id)).mode).to.equal(ChannelMode.Concluded);
      // The node that closed knows at once; the other learns it from its watcher's next poll.
      for (const node of [alice, bob]) {
        await waitFor(async () => (await node.process.api.channel(id)).status === "closed", { what: `${id} closed on both nodes` });
      }
    }

    // ERC-20: what each holds now is what it had, less its deposit, plus its payout.
    expect(await token.balanceOf(alice.address)).to.equal(usdcBefore[0] - usdcDeposits[0] + expectedUsdc[0]);
    expect(await token.balanceOf(bob.address)).to.equal(usdcBefore[1] - usdcDeposits[1] + expectedUsdc[1]);
    expect(await token.balanceOf(cluster.driver.address)).to.equal(0n);

    // ETH: the same, less every fee each node paid for its own transactions (deposits, approvals,
    // the close), read from the receipts of every transaction it sent.
    for (const [i, node] of [alice, bob].entries()) {
      const spent = await spentBy(chain, node.address, startBlock + 1);
      expect(spent.receipts.length).to.be.greaterThan(0);
      expect(spent.value).to.equal(ethDeposits[i]);
      const now = await chain.provider.getBalance(node.address);
      expect(now).to.equal(ethBefore[i] - spent.fees - spent.value + expectedEth[i]);
    }
    expect(await chain.provider.getBalance(cluster.driver.address)).to.equal(0n);
  });
});
