/**
 * End to end: locks made safe on chain, over direct channels. Bob is a node process; his peers are
 * scripted (a raw WebSocket client in this process with its own dev key, participant 0 of a
 * channel with Bob) so that they can lock and then never unlock, challenge with an old state, or
 * never reveal a secret; the chain is a real `hardhat node` whose clock the test moves.
 * - The payer locks Bob's invoice and disappears: Bob registers the secret once the chain reaches
 *   `expiry − revealWindow` (not before), disputes with the state holding the lock, settles after
 *   the challenge period and resolves the lock: paid.
 * - The payer locks, disappears, then challenges with its state from before the lock: Bob refutes
 *   it with the lock state and registers the secret at once; killed -9 and restarted between that
 *   and the settlement, he settles and resolves the lock all the same.
 * - Bob pays a lock whose secret never appears: after settlement and the lock's expiry he is
 *   refunded by `resolveLock`.
 * Each ends with Bob's balance checked against the chain (payouts, lock, gas) and his logs.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify, type HDNodeWallet } from "ethers";
import { Sequencer, encodeMessage, type CommittedUpdate, type UpdatesProposal, type PaymentProposal } from "../../src/channel";
import { increaseTime, type AdjudicatorEvent } from "../../src/chain";
import { KeySigner, channelId as channelIdOf } from "../../src/crypto";
import { encodeInvoice } from "../../src/invoice/text";
import { makeInvoice } from "../../src/invoice/make";
import type { EventView } from "../../src/node/api/types";
import { decodeOpenReply, encodeOpenTerms, paramsOf, type OpenTerms } from "../../src/node/protocol";
import { keyIdentity } from "../../src/node/transport";
import { ChannelMode, ETH, type Address, type Hex, type Params } from "../../src/types";
import { ETHER, logsOf, sleep, spentBy, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";
import { RawPeer } from "./helpers/rawPeer";

const CHALLENGE_PERIOD = 300;
/** The lock policy's reveal window (DEFAULT_MIN_LOCK_WINDOW): Bob's guard registers a secret that long before the lock's expiry. */
const WINDOW = 3_600n;
/** How far after the chain's time the scripted payer's locks expire. */
const LOCK_LIFETIME = 5_400n;

const ref = () => hexlify(randomBytes(32)) as Hex;

/** A scripted participant 0 of a channel with Bob. */
interface Scripted {
  wallet: HDNodeWallet;
  peer: RawPeer;
  params: Params;
  channelId: Hex;
  channel: Sequencer;
  /** Sends a proposal and commits Bob's countersignature. */
  deliver(proposal: PaymentProposal | UpdatesProposal): Promise<CommittedUpdate>;
}

describe("e2e: locks safe on chain (secrets registered in time, disputes, resolutions)", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let bob: ClusterNode;
  let chainId: bigint;
  let adjudicator: Address;
  /** The chain's latest block time as last read: the scripted peers' lock clock. */
  let chainSeconds = 0n;

  const syncClock = async (): Promise<bigint> => {
    chainSeconds = BigInt((await cluster.chain.provider.getBlock("latest"))!.timestamp);
    return chainSeconds;
  };
  const clock = () => {
    const wall = BigInt(Math.floor(Date.now() / 1000));
    return wall > chainSeconds ? wall : chainSeconds;
  };
  /** Moves the chain's clock to `at` (unix seconds) or just past it, and mines a block. */
  const advanceTo = async (at: bigint) => {
    const now = await syncClock();
    if (at > now) await increaseTime(cluster.chain.provider, at - now);
    await syncClock();
  };

  before(async function () {
    cluster = await startCluster({ challengePeriod: CHALLENGE_PERIOD, pollMs: 100 });
    bob = await cluster.startNode("bob", 2);
    chainId = cluster.chain.chainId;
    adjudicator = cluster.driver.address;
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(bob));
  });

  /** Dev account `index` opens a channel with Bob (1 ETH on its side, `bobDeposit` on Bob's, both paid by it) and drives it by hand. */
  async function scripted(index: number, bobDeposit: bigint): Promise<Scripted> {
    const wallet = cluster.chain.wallet(index);
    const key = wallet.privateKey as Hex;
    const peer = await RawPeer.connect(bob.peerUrl);
    await peer.handshake(keyIdentity(key), chainId, adjudicator);
    const terms: OpenTerms = {
      participants: [wallet.address.toLowerCase() as Address, bob.address.toLowerCase() as Address],
      payee: wallet.address.toLowerCase() as Address,
      asset: ETH,
      challengePeriod: BigInt(CHALLENGE_PERIOD),
      nonce: BigInt(hexlify(randomBytes(7))),
    };
    const opened = await peer.request("open", { params: encodeOpenTerms(terms) });
    expect(opened.type, JSON.stringify(opened.body)).to.equal("result");
    const params = paramsOf(terms, decodeOpenReply(opened.body).payee);
    const channelId = channelIdOf(params);
    const funder = cluster.driver.connect(wallet);
    await funder.deposit(params, 0, ETHER);
    // Anyone may deposit for a participant: the scripted peer funds Bob's side too.
    if (bobDeposit > 0n) await funder.deposit(params, 1, bobDeposit);
    await waitFor(async () => (await bob.process.api.channels()).some((c) => c.channelId === channelId), { what: "Bob to know the channel" });
    expect((await peer.request("refresh", { channelId })).type).to.equal("result");
    await waitFor(
      async () => {
        const c = await bob.process.api.channel(channelId);
        return c.status === "open" && c.deposits[0] === ETHER && c.deposits[1] === bobDeposit;
      },
      { what: "Bob to see the deposits" },
    );
    const channel = new Sequencer({ params, signer: new KeySigner(key), chainId, adjudicator, deposits: [ETHER, bobDeposit], lockPolicy: { clock } });
    const deliver = async (proposal: PaymentProposal | UpdatesProposal): Promise<CommittedUpdate> => {
      const answer = await peer.request("channel", { channelId, message: encodeMessage(proposal) });
      expect(answer.type, JSON.stringify(answer.body)).to.equal("result");
      return channel.receiveAck(answer.body);
    };
    return { wallet, peer, params, channelId, channel, deliver };
  }

  /** The payer pays 1,000 wei, then locks `amount` to Bob under his invoice's hashlock; Bob asks it for the unlock, which it never serves, and it is gone. */
  async function payerLocksAndVanishes(index: number, amount: bigint) {
    const m = await scripted(index, 0n);
    const beforeLock = await m.deliver(await m.channel.pay(1_000n, ref()));
    const invoice = await bob.process.api.createInvoice({ amount, asset: ETH, expiresIn: 3n * 86_400n, description: "locked, never unlocked" });
    const expiry = (await syncClock()) + LOCK_LIFETIME;
    const locked = await m.deliver(await m.channel.lock(amount, invoice.invoice.hashlock, expiry, invoice.invoice.ref));
    // Bob hands over the secret at once (an unlock request): never answered.
    await m.peer.next((f) => f.type === "channel", 20_000);
    m.peer.close();
    await waitFor(async () => (await bob.process.api.invoice(invoice.id)).status === "paid", { what: "the invoice paid on Bob's node" });
    return { m, invoice, expiry, beforeLock, locked, hashlock: invoice.invoice.hashlock };
  }

  /** Bob's events of `types` for a channel, as stored (waits until `count` are there). */
  async function bobEvents(channelId: Hex, types: string[], count: number): Promise<EventView[]> {
    const seen: EventView[] = [];
    const signal = AbortSignal.timeout(20_000);
    for await (const event of bob.process.api.events({ types, signal })) {
      if (event.channelId?.toLowerCase() !== channelId.toLowerCase()) continue;
      seen.push(event);
      if (seen.length === count) break;
    }
    return seen;
  }

  const channelEvents = (channelId: Hex, fromBlock: number) => cluster.driver.events({ fromBlock, channelId });
  const only = <N extends AdjudicatorEvent["name"]>(events: AdjudicatorEvent[], name: N) => events.filter((e): e is Extract<AdjudicatorEvent, { name: N }> => e.name === name);

  /** Waits for the lock's resolution on chain and returns the channel's events since `fromBlock`. */
  async function resolvedOnChain(channelId: Hex, fromBlock: number): Promise<AdjudicatorEvent[]> {
    await waitFor(async () => only(await channelEvents(channelId, fromBlock), "LockResolved").length > 0, { what: "the lock resolved on chain", timeoutMs: 60_000 });
    return channelEvents(channelId, fromBlock);
  }

  /** Bob's ETH balance moved by exactly `expected` plus what his own transactions cost him since `fromBlock`. */
  async function expectBobReceived(before: bigint, fromBlock: number, expected: bigint): Promise<void> {
    const after = await cluster.chain.provider.getBalance(bob.address);
    const { fees, value } = await spentBy(cluster.chain, bob.address, fromBlock + 1);
    expect(value).to.equal(0n);
    expect(after - before + fees).to.equal(expected);
    // Pushed, nothing left as credits.
    expect(await cluster.driver.credits(bob.address)).to.equal(0n);
  }

  it("the payer disappears after locking: Bob registers the secret at expiry − window, disputes, settles, resolves the lock and is paid", async function () {
    const amount = ETHER / 10n;
    const { m, expiry, locked, hashlock } = await payerLocksAndVanishes(3, amount);
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await cluster.chain.provider.getBalance(bob.address);

    // Before the reveal window the peer may still unlock: nothing goes on chain.
    await advanceTo(expiry - WINDOW - 30n);
    await sleep(1_500);
    expect(await cluster.driver.secretRevealedAt(hashlock)).to.equal(0n);
    expect((await cluster.driver.channelStatus(m.channelId)).mode).to.equal(ChannelMode.Open);

    // At expiry − window: the secret goes on chain and the channel is disputed with the lock state.
    await advanceTo(expiry - WINDOW);
    await waitFor(async () => (await cluster.driver.channelStatus(m.channelId)).mode === ChannelMode.Challenged, { what: "Bob's dispute", timeoutMs: 30_000 });
    await waitFor(async () => (await cluster.driver.secretRevealedAt(hashlock)) !== 0n, { what: "the secret registered", timeoutMs: 30_000 });
    const revealedAt = await cluster.driver.secretRevealedAt(hashlock);
    expect(revealedAt >= expiry - WINDOW && revealedAt <= expiry, `registered at ${revealedAt}, expiry ${expiry}`).to.equal(true);
    const status = await cluster.driver.channelStatus(m.channelId);
    expect(status.version).to.equal(locked.signed.state.version);
    await waitFor(async () => (await bob.process.api.channel(m.channelId)).status === "disputed", { what: "Bob's node to show the channel disputed" });
    // Once: one registration and one challenge, however many rounds ran.
    await sleep(1_000);
    const sent = await spentBy(cluster.chain, bob.address, fromBlock + 1);
    expect(sent.receipts.length).to.equal(2);

    await advanceTo(status.deadline);
    const events = await resolvedOnChain(m.channelId, fromBlock);
    const [settled] = only(events, "Settled");
    expect(settled.version).to.equal(locked.signed.state.version);
    expect(settled.payouts).to.deep.equal([ETHER - 1_000n - amount, 1_000n]);
    expect(settled.heldBack).to.deep.equal([amount, 0n]);
    const [resolved] = only(events, "LockResolved");
    expect(resolved.hashlock).to.equal(hashlock);
    expect([resolved.paidTo, resolved.amount]).to.deep.equal([1, amount]);
    expect(await cluster.driver.heldBack(m.channelId)).to.deep.equal([0n, 0n]);
    await waitFor(async () => (await bob.process.api.channel(m.channelId)).status === "settled", { what: "Bob's node to mark it settled" });
    await expectBobReceived(before, fromBlock, 1_000n + amount);

    // Bob's logs: the payment before the lock; the registration and the resolution (paid).
    const payments = await bob.process.api.payments(m.channelId, {});
    expect(payments.map((p) => [p.payer, p.amount])).to.deep.equal([[0, 1_000n]]);
    const [registered, paid] = await bobEvents(m.channelId, ["lock.registered", "lock.resolved"], 2);
    expect(registered.type).to.equal("lock.registered");
    expect(registered.data).to.include({ hashlock, revealedAt: revealedAt.toString() });
    expect(paid.type).to.equal("lock.resolved");
    expect(paid.data).to.include({ hashlock, outcome: "paid", amount: amount.toString(), paidTo: 1 });
  });

  it("the payer then challenges with its state before the lock: refuted with the lock state, the secret registered at once; Bob restarted (kill -9) before the settlement finishes the job", async function () {
    const amount = ETHER / 20n;
    const { m, expiry, beforeLock, locked, hashlock } = await payerLocksAndVanishes(4, amount);
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await cluster.chain.provider.getBalance(bob.address);

    const cheat = await cluster.driver.connect(m.wallet).challenge(m.params, beforeLock.signed);
    expect(cheat.version).to.equal(beforeLock.signed.state.version);
    await waitFor(async () => (await cluster.driver.channelStatus(m.channelId)).version === locked.signed.state.version, { what: "Bob's refutation", timeoutMs: 30_000 });
    // The channel can't change off chain any more: the secret goes on chain at once, long before expiry − window.
    await waitFor(async () => (await cluster.driver.secretRevealedAt(hashlock)) !== 0n, { what: "the secret registered", timeoutMs: 30_000 });
    expect((await cluster.driver.secretRevealedAt(hashlock)) < expiry - WINDOW).to.equal(true);
    const status = await cluster.driver.channelStatus(m.channelId);
    expect([status.mode, status.deadline]).to.deep.equal([ChannelMode.Challenged, cheat.deadline]);

    await bob.process.kill();
    await bob.process.restart();
    await advanceTo(status.deadline);
    const events = await resolvedOnChain(m.channelId, fromBlock);
    expect(only(events, "Challenged").map((e) => e.state.version)).to.deep.equal([beforeLock.signed.state.version, locked.signed.state.version]);
    const [settled] = only(events, "Settled");
    expect(settled.version).to.equal(locked.signed.state.version);
    expect(settled.payouts).to.deep.equal([ETHER - 1_000n - amount, 1_000n]);
    const [resolved] = only(events, "LockResolved");
    expect([resolved.hashlock, resolved.paidTo, resolved.amount]).to.deep.equal([hashlock, 1, amount]);
    await expectBobReceived(before, fromBlock, 1_000n + amount);
    const [paid] = await bobEvents(m.channelId, ["lock.resolved"], 1);
    expect(paid.data).to.include({ hashlock, outcome: "paid", amount: amount.toString() });
  });

  it("a lock whose secret never appears: after the settlement and its expiry, Bob (its sender) is refunded by resolveLock", async function () {
    const m = await scripted(5, ETHER / 2n);
    // The payee serves Bob's lock request, then never reveals the secret and is gone.
    m.peer.handlers.set("channel", async (frame) => {
      const { message } = frame.body as { message: unknown };
      await m.deliver(await m.channel.receiveUpdateRequest(message));
      return {};
    });
    const amount = ETHER / 5n;
    const expiry = (await syncClock()) + LOCK_LIFETIME;
    const { invoice } = await makeInvoice({ chainId, adjudicator, asset: ETH, amount, expiry }, new KeySigner(m.wallet.privateKey as Hex));
    const paying = bob.process.api.payInvoice(encodeInvoice(invoice)).catch((error: unknown) => error);
    await waitFor(() => m.channel.locks.length === 1, { what: "Bob's lock" });
    m.peer.close();
    const lockVersion = m.channel.latest.state.version;
    await waitFor(async () => (await bob.process.api.channel(m.channelId)).version === lockVersion, { what: "Bob to store the lock" });
    const fromBlock = await cluster.chain.provider.getBlockNumber();
    const before = await cluster.chain.provider.getBalance(bob.address);

    await bob.process.api.challenge(m.channelId);
    const status = await cluster.driver.channelStatus(m.channelId);
    expect(status.version).to.equal(lockVersion);
    await advanceTo(status.deadline);
    await waitFor(async () => (await cluster.driver.channelStatus(m.channelId)).mode === ChannelMode.Concluded, { what: "the settlement", timeoutMs: 30_000 });
    expect(await cluster.driver.heldBack(m.channelId)).to.deep.equal([0n, amount]);
    // Not expired yet: the lock may still be claimed with its secret, nothing is resolved.
    await sleep(1_000);
    expect(only(await channelEvents(m.channelId, fromBlock), "LockResolved")).to.deep.equal([]);

    await advanceTo(expiry + 1n);
    const events = await resolvedOnChain(m.channelId, fromBlock);
    const [settled] = only(events, "Settled");
    expect(settled.payouts).to.deep.equal([ETHER, ETHER / 2n - amount]);
    const [resolved] = only(events, "LockResolved");
    expect([resolved.hashlock, resolved.paidTo, resolved.amount]).to.deep.equal([invoice.hashlock, 1, amount]);
    expect(await cluster.driver.secretRevealedAt(invoice.hashlock)).to.equal(0n);
    await expectBobReceived(before, fromBlock, ETHER / 2n);
    const [refunded] = await bobEvents(m.channelId, ["lock.resolved"], 1);
    expect(refunded.data).to.include({ hashlock: invoice.hashlock, outcome: "refunded", amount: amount.toString(), paidTo: 1 });
    // Nothing was paid off chain.
    expect(await bob.process.api.payments(m.channelId, {})).to.deep.equal([]);
    void paying;
  });
});
