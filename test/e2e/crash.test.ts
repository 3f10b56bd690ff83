/**
 * End to end, scenario 2: crash safety. Two node processes pay each other in a steady stream
 * (both directions, several payments in flight per node) while the test kills one of them with
 * SIGKILL at random moments, 20+ times, and restarts it on the same data directory and peer port.
 * Afterwards: every payment whose `pay` call resolved is in both nodes' payment lists exactly once;
 * each failed call, sent again with its ref, is found done if it went through and paid once if
 * not (the ref is the idempotency key); no reference appears twice anywhere, both sides hold the
 * same latest state, and the channel still closes cooperatively with payouts that match the final
 * transfers.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify } from "ethers";
import { ChannelMode, ETH, type Hex } from "../../src/types";
import type { PaymentView } from "../../src/node/api/types";
import { agreed, allPayments, type Cluster, type ClusterNode, ETHER, openFunded, sleep, waitFor, withTwoNodes } from "./helpers/cluster";

/** At least 20 (SLUICE_E2E_KILLS may raise it, or lower it while debugging). */
const KILLS = Number(process.env.SLUICE_E2E_KILLS ?? 20);
/** Payments each node keeps in flight. */
const WORKERS = 6;

type Outcome = "pending" | "acked" | "failed";

interface Attempt {
  ref: Hex;
  payer: 0 | 1;
  amount: bigint;
  outcome: Outcome;
  error?: string;
}

describe("e2e: crash safety under kill -9", function () {
  this.timeout(400_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({}, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  it(`loses and doubles no acknowledged payment across ${KILLS} kills of either node; a retry by ref pays the failed ones once; then closes cooperatively`, async function () {
    const deposits: [bigint, bigint] = [10n * ETHER, 10n * ETHER];
    const { channelId } = await openFunded(alice, bob, ETH, deposits);
    const nodes = [alice, bob] as const;
    const up = [true, true];
    const attempts = new Map<string, Attempt>();
    const acked = [0, 0];
    let running = true;

    const worker = async (payer: 0 | 1, w: number) => {
      let n = 0;
      while (running) {
        if (!up[payer]) {
          await sleep(20);
          continue;
        }
        const ref = hexlify(Buffer.concat([Buffer.from([payer, w]), randomBytes(30)])) as Hex;
        const attempt: Attempt = { ref, payer, amount: 1n + BigInt(n++ % 1_000) * 1_000n, outcome: "pending" };
        attempts.set(ref.toLowerCase(), attempt);
        try {
          const done = await nodes[payer].process.api.pay(channelId, attempt.amount, ref);
          expect(done.ref.toLowerCase()).to.equal(ref.toLowerCase());
          expect(done.payer).to.equal(payer);
          attempt.outcome = "acked";
          acked[payer]++;
        } catch (error) {
          attempt.outcome = "failed";
          attempt.error = (error as Error).message;
          await sleep(100);
        }
      }
    };
    const workers = [0, 1].flatMap((payer) => Array.from({ length: WORKERS }, (_, w) => worker(payer as 0 | 1, w)));

    const schedule: string[] = [];
    try {
      for (let k = 0; k < KILLS; k++) {
        // Let the stream run a random while, then kill a node: alternating, with a random repeat.
        await sleep(150 + Math.floor(Math.random() * 900));
        const victim = (k % 2 === 0) !== Math.random() < 0.25 ? 0 : 1;
        const node = nodes[victim];
        const before = [...acked];
        up[victim] = false;
        await node.process.kill();
        schedule.push(`${node.name}@${before.join("/")}`);
        await sleep(Math.floor(Math.random() * 300));
        await node.process.restart();
        up[victim] = true;
        // Not stuck: after the resync both nodes get payments through again. Every other round the
        // next kill comes without waiting for that, so some land while the nodes reconnect and resync.
        if (k % 2 === 1 || k === KILLS - 1) {
          const mark = [...acked];
          await waitFor(() => acked[0] > mark[0] && acked[1] > mark[1], {
            timeoutMs: 30_000,
            what: `payments by both nodes after restart ${k + 1} of ${node.name}`,
          });
        }
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }
    console.log(`      kills: ${schedule.join(" ")}`);

    // The two nodes resync after the last restart: wait until they agree.
    let views = await Promise.all(nodes.map((n) => n.process.api.channel(channelId)));
    await waitFor(
      async () => {
        views = await Promise.all(nodes.map((n) => n.process.api.channel(channelId)));
        return views[0].version === views[1].version && views[0].payments === views[1].payments;
      },
      { what: "both nodes at the same version" },
    );
    expect(views[0].transferred).to.deep.equal(views[1].transferred);

    const lists = await Promise.all(nodes.map((n) => allPayments(n, channelId)));
    expect(lists[0].map(agreed)).to.deep.equal(lists[1].map(agreed));
    const all = [...attempts.values()];
    const ackedAttempts = all.filter((a) => a.outcome === "acked");
    const failed = all.filter((a) => a.outcome === "failed");
    console.log(
      `      ${all.length} payments tried: ${ackedAttempts.length} acknowledged, ${failed.length} failed, ` +
        `${lists[0].length} stored (${lists[0].length - ackedAttempts.length} of the failed ones went through)`,
    );
    expect(all.some((a) => a.outcome === "pending")).to.equal(false);
    expect(failed.length, "the kills made some payments fail").to.be.greaterThan(0);

    // A caller whose payment failed or got no answer (the node killed between the request and the
    // answer) sends the same payment again: the ref finds one that went through, and pays the rest once.
    const wentThrough = new Set(lists[0].map((p) => p.ref.toLowerCase()));
    let replayed = 0;
    for (const attempt of failed) {
      const done = await nodes[attempt.payer].process.api.pay(channelId, attempt.amount, attempt.ref);
      expect(done.replayed === true, `the retry of ${attempt.ref} (${attempt.error}) replays iff it went through`).to.equal(wentThrough.has(attempt.ref.toLowerCase()));
      if (done.replayed === true) replayed++;
      attempt.outcome = "acked";
    }
    console.log(`      retried the ${failed.length} failed payments: ${replayed} found done, ${failed.length - replayed} paid now`);
    await waitFor(
      async () => {
        views = await Promise.all(nodes.map((n) => n.process.api.channel(channelId)));
        return views[0].version === views[1].version && views[0].payments === views[1].payments;
      },
      { what: "both nodes at the same version after the retries" },
    );
    const relisted = await Promise.all(nodes.map((n) => allPayments(n, channelId)));
    expect(relisted[0].map(agreed)).to.deep.equal(relisted[1].map(agreed));
    const list: PaymentView[] = relisted[0];
    expect(list.length, "every payment tried is stored, once").to.equal(all.length);

    // No reference twice; nothing stored that nobody asked for, and as asked.
    const seen = new Set<string>();
    for (const [i, p] of list.entries()) {
      const ref = p.ref.toLowerCase();
      expect(seen.has(ref), `ref ${ref} stored twice`).to.equal(false);
      seen.add(ref);
      expect(p.seq).to.equal(BigInt(i));
      const attempt = attempts.get(ref);
      expect(attempt, `stored payment ${ref} was never requested`).to.not.equal(undefined);
      expect(p.payer).to.equal(attempt!.payer);
      expect(p.amount).to.equal(attempt!.amount);
    }
    // Every payment is there: the acknowledged ones, and the failed ones once retried.
    const lost = all.filter((a) => !seen.has(a.ref.toLowerCase()));
    expect(lost.map((a) => a.ref), "acknowledged payments missing").to.deep.equal([]);
    // The latest state adds up to the stored payments.
    const transferred: [bigint, bigint] = [0n, 0n];
    for (const p of list) transferred[p.payer] += p.amount;
    expect(views[0].transferred).to.deep.equal(transferred);
    expect(views[0].payments).to.equal(BigInt(list.length));

    // Still a working channel: a payment each way, then the cooperative close.
    const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        // Says whether a node process died under the call (no JS stack: a native crash or the OOM killer).
        console.log(`      ${what} failed: alice running ${alice.process.isRunning}, bob running ${bob.process.isRunning}`);
        throw error;
      }
    };
    await step("alice pay", () => alice.process.api.pay(channelId, 7n, hexlify(randomBytes(32)) as Hex));
    await step("bob pay", () => bob.process.api.pay(channelId, 5n, hexlify(randomBytes(32)) as Hex));
    transferred[0] += 7n;
    transferred[1] += 5n;
    const startBlock = await cluster.chain.provider.getBlockNumber();
    const tx = await step("close", () => alice.process.api.close(channelId));
    const events = await cluster.driver.events({ fromBlock: startBlock + 1, names: ["Closed"], channelId });
    expect(events).to.have.length(1);
    const closed = events[0];
    expect(closed.transactionHash.toLowerCase()).to.equal(tx.hash.toLowerCase());
    expect(closed.name === "Closed" ? closed.payouts : undefined).to.deep.equal([
      deposits[0] - transferred[0] + transferred[1],
      deposits[1] - transferred[1] + transferred[0],
    ]);
    expect((await cluster.driver.channelStatus(channelId)).mode).to.equal(ChannelMode.Concluded);
  });
});
