/**
 * End to end: an invoice paid over a direct channel with a hashlocked transfer, two node
 * processes and a `hardhat node`. Alice pays Bob's invoices as participant 0 (ETH, her channel)
 * and as participant 1 (USDC, his channel); a second payment of an invoice is refused before any
 * lock; invoices for too much, expired or for another chain are refused; a lock whose hashlock
 * Bob doesn't know comes back cancelled; Bob killed -9 around a pending lock restores it from his
 * store and it settles; the receipt proves on chain after the close.
 */
import { expect } from "chai";
import { KeySigner } from "../../src/crypto";
import { encodeInvoice } from "../../src/invoice/text";
import { makeInvoice } from "../../src/invoice/make";
import type { ChannelView, PaymentView } from "../../src/node/api/types";
import { ETH, type Address, type Hex } from "../../src/types";
import { type Cluster, type ClusterNode, ETHER, openFunded, USDC, waitFor, withTwoNodes } from "./helpers/cluster";

const codeOf = async (work: Promise<unknown>): Promise<string> => {
  try {
    await work;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error("expected the call to fail");
};

/** The first `count` events of `types` a node kept, in order (waits for them up to 20 s). */
async function eventTypes(node: ClusterNode, types: string[], count: number): Promise<string[]> {
  const signal = AbortSignal.timeout(20_000);
  const seen: string[] = [];
  for await (const event of node.process.api.events({ types, signal })) {
    seen.push(event.type);
    if (seen.length === count) break;
  }
  return seen;
}

/** No value locked: the balances add up to the deposits. */
const nothingLocked = (view: ChannelView) => view.balances[0] + view.balances[1] === view.deposits[0] + view.deposits[1];

describe("e2e: paying an invoice over a direct channel (hashlocked transfer)", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let eth: ChannelView;
  let usdc: ChannelView;

  withTwoNodes({ token: true }, async (nodes) => {
    ({ cluster, alice, bob } = nodes);
    eth = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    usdc = await openFunded(bob, alice, cluster.tokenAddress, [1_000n * USDC, 1_000n * USDC]);
  });

  /** An invoice signed with Bob's key but not kept by his node (its hashlock unknown to it), or for other terms. */
  const forged = async (terms: { amount: bigint; expiry?: bigint; chainId?: bigint; asset?: Address }) => {
    const info = await bob.process.api.info();
    const { invoice } = await makeInvoice(
      {
        chainId: terms.chainId ?? info.chainId,
        adjudicator: info.adjudicator,
        asset: terms.asset ?? ETH,
        amount: terms.amount,
        expiry: terms.expiry ?? BigInt(Math.floor(Date.now() / 1000) + 7_200),
      },
      new KeySigner(bob.wallet.privateKey as Hex),
    );
    return encodeInvoice(invoice);
  };

  async function paysOnce(channel: ChannelView, asset: Address, amount: bigint, payer: 0 | 1): Promise<PaymentView> {
    const before = await alice.process.api.channel(channel.channelId);
    const invoice = await bob.process.api.createInvoice({ amount, asset, expiresIn: 7_200n, description: `order of ${amount}` });
    const receipt = await alice.process.api.payInvoice(invoice.encoded);
    expect(receipt.channelId.toLowerCase()).to.equal(channel.channelId.toLowerCase());
    expect(receipt.ref).to.equal(invoice.invoice.ref);
    expect(receipt.amount).to.equal(amount);
    expect(receipt.payer).to.equal(payer);
    expect((await bob.process.api.invoice(invoice.id)).status).to.equal("paid");
    const expected = [...before.transferred];
    expected[payer] += amount;
    for (const node of [alice, bob]) {
      await waitFor(async () => (await node.process.api.channel(channel.channelId)).version >= receipt.version, { what: `${node.name} at the unlock` });
      const view = await node.process.api.channel(channel.channelId);
      expect(view.transferred, node.name).to.deep.equal(expected);
      expect(nothingLocked(view), node.name).to.equal(true);
    }
    // The receipt is the payment log's entry with the invoice's ref.
    const logged = await bob.process.api.payments(channel.channelId, { ref: invoice.invoice.ref });
    expect(logged.map((p) => p.seq)).to.deep.equal([receipt.seq]);

    // Paid once: a second attempt is refused before any lock (the channel does not move).
    const version = (await alice.process.api.channel(channel.channelId)).version;
    expect(await codeOf(alice.process.api.payInvoice(invoice.encoded))).to.equal("INVOICE_ALREADY_PAID");
    expect((await alice.process.api.channel(channel.channelId)).version).to.equal(version);
    return receipt;
  }

  it("Alice pays Bob's invoice as participant 0 and as participant 1; paying it again is refused before any lock", async function () {
    await paysOnce(eth, ETH, ETHER / 10n, 0);
    await paysOnce(usdc, cluster.tokenAddress, 25n * USDC, 1);
    const types = await eventTypes(bob, ["lock.added", "lock.settled"], 4);
    expect(types).to.deep.equal(["lock.added", "lock.settled", "lock.added", "lock.settled"]);
  });

  it("refuses an invoice for more than the channel holds, an expired one and one for another chain, locking nothing", async function () {
    const version = (await alice.process.api.channel(eth.channelId)).version;
    const now = BigInt(Math.floor(Date.now() / 1000));
    const tooMuch = await bob.process.api.createInvoice({ amount: 5n * ETHER, asset: ETH, expiresIn: 7_200n });
    expect(await codeOf(alice.process.api.payInvoice(tooMuch.encoded))).to.equal("INSUFFICIENT_FUNDS");
    expect(await codeOf(alice.process.api.payInvoice(await forged({ amount: 1n, expiry: now - 10n })))).to.equal("INVOICE_NOT_PAYABLE");
    expect(await codeOf(alice.process.api.payInvoice(await forged({ amount: 1n, chainId: 999n })))).to.equal("INVOICE_NOT_PAYABLE");
    expect(await codeOf(alice.process.api.payInvoice(await forged({ amount: 1n, asset: "0x00000000000000000000000000000000000000aa" })))).to.equal(
      "NO_ROUTE",
    );
    expect((await alice.process.api.channel(eth.channelId)).version).to.equal(version);
    expect((await bob.process.api.invoice(tooMuch.id)).status).to.equal("open");
  });

  it("a lock whose hashlock Bob doesn't know comes back cancelled, and the payer gets a typed error", async function () {
    const before = await alice.process.api.channel(eth.channelId);
    expect(await codeOf(alice.process.api.payInvoice(await forged({ amount: ETHER / 100n })))).to.equal("INVOICE_PAYMENT_FAILED");
    const after = await alice.process.api.channel(eth.channelId);
    expect(after.transferred).to.deep.equal(before.transferred);
    expect(nothingLocked(after)).to.equal(true);
    expect(after.version > before.version, "a lock and its cancel were signed").to.equal(true);
    expect(await eventTypes(alice, ["lock.added", "lock.cancelled"], 4)).to.deep.equal(["lock.added", "lock.added", "lock.added", "lock.cancelled"]);
  });

  it("Bob killed -9 while Alice's lock is pending: after his restart the lock, restored from his store, settles and the invoice reads paid", async function () {
    /** Whether Bob's last lock was still pending when he was killed: his restart's connection came between its lock.added and its lock.settled. */
    const pendingAtKill = async (): Promise<boolean> => {
      const seen: string[] = [];
      for await (const event of bob.process.api.events({ types: ["lock.added", "lock.settled", "peer.connected"], signal: AbortSignal.timeout(1_500) })) {
        seen.push(event.type);
      }
      const added = seen.lastIndexOf("lock.added");
      const settled = seen.indexOf("lock.settled", added);
      return settled > added && seen.slice(added, settled).includes("peer.connected");
    };
    const amount = ETHER / 100n;
    let pending = false;
    // The kill lands in a window of milliseconds (Bob answers a lock at once): tried until one lands in it.
    for (let attempt = 0; attempt < 8 && !pending; attempt++) {
      const invoice = await bob.process.api.createInvoice({ amount, asset: ETH, expiresIn: 7_200n });
      const before = await alice.process.api.channel(eth.channelId);
      const paying = alice.process.api.payInvoice(invoice.encoded).then(
        (receipt) => ({ receipt }),
        (error: unknown) => ({ error }),
      );
      // Kill Bob as soon as Alice's channel moves: the lock is on both disks (Bob stores before he acknowledges).
      await waitFor(async () => (await alice.process.api.channel(eth.channelId)).version > before.version, { what: "Alice's lock", intervalMs: 1 });
      await bob.process.kill();
      await bob.process.restart();
      await waitFor(async () => (await bob.process.api.invoice(invoice.id)).status === "paid", { what: "the invoice paid on Bob's node" });
      for (const node of [alice, bob]) {
        await waitFor(
          async () => {
            const view = await node.process.api.channel(eth.channelId);
            return nothingLocked(view) && view.transferred[0] === before.transferred[0] + amount;
          },
          { what: `${node.name}: the lock settled` },
        );
      }
      // Alice's call resolves with the receipt: her request was answered before the kill, the unlock came after.
      const outcome = await paying;
      expect("receipt" in outcome, "Alice's payInvoice resolved").to.equal(true);
      if ("receipt" in outcome) expect(outcome.receipt.ref).to.equal(invoice.invoice.ref);
      expect((await alice.process.api.payments(eth.channelId, { ref: invoice.invoice.ref })).length).to.equal(1);
      pending = await pendingAtKill();
    }
    expect(pending, "a kill landed while the lock was pending at Bob").to.equal(true);
  });

  it("the receipts prove on chain after a cooperative close", async function () {
    const receipts = await alice.process.api.payments(eth.channelId, {});
    await bob.process.api.close(eth.channelId);
    await waitFor(async () => (await alice.process.api.channel(eth.channelId)).status === "closed", { what: "closed on Alice's node" });
    for (const receipt of receipts) {
      const proof = await alice.process.api.prove(eth.channelId, receipt.seq);
      expect(proof.verifiedOnChain, `receipt ${receipt.seq}`).to.equal(true);
    }
  });
});
