import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers, network } from "hardhat";
import { ChannelConcludedError, deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { MAX_PAYMENTS_PER_STATE } from "../../src/channel";
import { InsufficientFundsError, InvalidAmountError, InvalidArgumentError } from "../../src/errors";
import { ChannelStatusError, IllegalTransitionError, SluiceNode, UnknownChannelIdError, type NodeOptions } from "../../src/node/node";
import { decodeSyncReply, encodeSyncReply } from "../../src/node/protocol";
import { PeerOfflineError, VERSION_RESERVATION, type ChannelSession } from "../../src/node/session";
import { ChannelMode, ETH, type Address, type Hex } from "../../src/types";

function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

const ref = (text: string) => ethers.id(text) as Hex;

describe("SluiceNode (two nodes in one process, embedded chain)", function () {
  let dir: string;
  let nodes: SluiceNode[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-node-"));
  });

  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function twoNodes(extra: Partial<NodeOptions> = {}, bobExtra: Partial<NodeOptions> = {}) {
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const make = (i: number, more: Partial<NodeOptions> = {}) =>
      new SluiceNode({
        privateKey: devKey(i),
        provider: ethers.provider,
        adjudicator: driver.address,
        storePath: path.join(dir, `node${i}`, "store.sqlite"),
        pollMs: 50,
        challengePeriod: 600n,
        ...extra,
        ...more,
      });
    const alice = make(1);
    const bob = make(2, bobExtra);
    nodes.push(alice, bob);
    await alice.start();
    await bob.start();
    return { alice, bob, driver };
  }

  it("opens, pays both ways with pipelining, closes cooperatively; balances match to the wei", async function () {
    const { alice, bob } = await twoNodes();
    const opened = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    const id = opened.channelId;
    await bob.deposit(id, 10n ** 18n);
    await waitFor(async () => (await alice.channel(id)).deposits[1] === 10n ** 18n);

    const aliceToBob = Array.from({ length: 60 }, (_, i) => alice.pay(id, 1_000n + BigInt(i), ref(`a${i}`)));
    const bobToAlice = Array.from({ length: 40 }, (_, i) => bob.pay(id, 2_000n + BigInt(i), ref(`b${i}`)));
    await Promise.all([...aliceToBob, ...bobToAlice]);

    const a = await alice.channel(id);
    const b = await bob.channel(id);
    expect(a.version).to.equal(b.version);
    expect(a.transferred).to.deep.equal(b.transferred);
    const sent0 = 60n * 1_000n + (59n * 60n) / 2n;
    const sent1 = 40n * 2_000n + (39n * 40n) / 2n;
    expect(a.transferred).to.deep.equal([sent0, sent1]);
    expect(a.payments).to.equal(100n);

    const before = [await ethers.provider.getBalance(alice.address), await ethers.provider.getBalance(bob.address)];
    const tx = await bob.close(id);
    const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
    const fee = receipt!.gasUsed * receipt!.gasPrice;
    const after = [await ethers.provider.getBalance(alice.address), await ethers.provider.getBalance(bob.address)];
    expect(after[0] - before[0]).to.equal(10n ** 18n - sent0 + sent1);
    expect(after[1] - before[1] + fee).to.equal(10n ** 18n - sent1 + sent0);
  });

  it("puts the payments of one turn into one state (both ways, up to the batch limit), stores each on both sides, and pages a resync within a frame", async function () {
    const { alice, bob } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    await bob.deposit(channelId, 10n ** 18n);
    await waitFor(async () => (await alice.channel(channelId)).deposits[1] === 10n ** 18n);

    const done = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => alice.pay(channelId, 1_000n + BigInt(i), ref(`a${i}`))),
      ...Array.from({ length: 100 }, (_, i) => bob.pay(channelId, 5_000n + BigInt(i), ref(`b${i}`))),
    ]);
    expect(new Set(done.map((d) => d.seq)).size).to.equal(400);

    const states = bob.store.statesAfter(channelId, 0n, 10_000);
    expect(states.length).to.be.below(100); // 400 payments: batched, not one state each
    expect(Math.max(...states.map((s) => s.payments.length))).to.be.at.most(MAX_PAYMENTS_PER_STATE);
    const viaStates = states.flatMap((s) => s.payments);
    expect(viaStates.map((p) => p.seq)).to.deep.equal(Array.from({ length: 400 }, (_, i) => BigInt(i)));
    for (const node of [alice, bob]) {
      const stored = node.store.payments(channelId, { limit: 1_000 });
      expect(stored.map((r) => r.payment)).to.deep.equal(viaStates);
      // Each payment's version is the state that added it, and the caller was told that version.
      const versionOf = new Map(states.flatMap((s) => s.payments.map((p) => [p.seq, s.signed.state.version] as const)));
      for (const r of stored) expect(r.version).to.equal(versionOf.get(r.payment.seq));
      for (const d of done) expect(d.version).to.equal(versionOf.get(d.seq));
    }
    expect(alice.store.latest(channelId)).to.deep.equal(bob.store.latest(channelId));

    // A resync from scratch comes in pages that each fit a transport frame and chain up to the latest.
    const session = (bob as unknown as { sessions: Pick<Map<string, ChannelSession>, "get"> }).sessions.get(channelId.toLowerCase())!;
    let version = 0n;
    const paged = [];
    for (let pages = 0; ; pages++) {
      expect(pages).to.be.below(400);
      const json = JSON.stringify(encodeSyncReply(session.syncReply(version)));
      expect(Buffer.byteLength(json)).to.be.below(64 * 1024);
      const reply = decodeSyncReply(JSON.parse(json));
      paged.push(...reply.items);
      if (!reply.more) break;
      version = reply.items[reply.items.length - 1].signed.state.version;
    }
    expect(paged.flatMap((i) => i.payments)).to.deep.equal(viaStates);
    expect(paged[paged.length - 1].signed).to.deep.equal(bob.store.latest(channelId));
  });

  it("with one proposal in flight, the payments that arrive meanwhile wait and go together in the next state", async function () {
    const { alice, bob } = await twoNodes({ proposalsInFlight: 1 });
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    const first = alice.pay(channelId, 1n, ref("first"));
    await new Promise((resolve) => setImmediate(resolve)); // the first one is proposed alone
    const rest = Array.from({ length: 50 }, (_, i) => alice.pay(channelId, 2n, ref(`rest ${i}`)));
    const done = await Promise.all([first, ...rest]);
    expect(done[0].version).to.equal(1n);
    expect(new Set(done.slice(1).map((d) => d.version))).to.deep.equal(new Set([2n]));
    expect(bob.store.statesAfter(channelId, 0n, 10).map((s) => s.payments.length)).to.deep.equal([1, 50]);
    expect(() => new SluiceNode({ privateKey: devKey(3), provider: ethers.provider, adjudicator: alice.driver.address, storePath: path.join(dir, "x.sqlite"), proposalsInFlight: 0 })).to.throw(
      InvalidArgumentError,
      "proposalsInFlight",
    );
  });

  it("reserves versions on disk instead of writing each proposal's signature, and after a restart proposes above the reservation", async function () {
    const { alice, bob, driver } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    for (let i = 0; i < 3; i++) await alice.pay(channelId, 5n, ref(`before ${i}`));
    expect(alice.store.reservedVersion(channelId)).to.equal(1n + VERSION_RESERVATION); // reserved once, at version 1
    expect(alice.store.latestOwnSignature(channelId)!.state.version).to.equal(3n); // read from the countersigned state
    const commitsPerState = alice.commits.stats.writes;
    await alice.pay(channelId, 5n, ref("one more"));
    expect(alice.commits.stats.writes - commitsPerState).to.equal(1); // the countersigned state only

    // Alice restarts: she may have signed any version up to the reservation, so she goes on above it.
    await alice.stop();
    nodes.splice(nodes.indexOf(alice), 1);
    const again = new SluiceNode({ privateKey: devKey(1), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, "node1", "store.sqlite"), pollMs: 50 });
    nodes.push(again);
    await again.start();
    let done;
    for (const deadline = Date.now() + 10_000; !done; ) {
      done = await again.pay(channelId, 7n, ref("after")).catch((error: unknown) => {
        if (Date.now() > deadline || !(error instanceof PeerOfflineError)) throw error;
        return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50));
      });
    }
    expect(done.version).to.equal(2n + VERSION_RESERVATION);
    expect(again.store.reservedVersion(channelId)).to.equal(2n + 2n * VERSION_RESERVATION);
    expect(bob.store.latest(channelId)).to.deep.equal(again.store.latest(channelId));
    expect((await bob.channel(channelId)).transferred).to.deep.equal([27n, 0n]);
  });

  it("tells commit observers when each group commit started and how long it took, and a failing observer fails no payment", async function () {
    const { alice, bob } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    const seen: { startedAt: number; ms: number; writes: number }[] = [];
    const stop = alice.commits.observe((timing) => seen.push(timing));
    alice.commits.observe(() => {
      throw new Error("a broken monitor");
    });
    // The high-resolution clock the timings are stamped with (Date.now() can drift from it by seconds).
    const clock = () => performance.timeOrigin + performance.now();
    const before = clock();
    const groups = alice.commits.stats.groups;
    await Promise.all([alice.pay(channelId, 1n, ref("observed 1")), alice.pay(channelId, 2n, ref("observed 2"))]);
    expect(seen.length).to.equal(alice.commits.stats.groups - groups);
    expect(seen.reduce((n, t) => n + t.writes, 0)).to.be.at.least(1);
    for (const t of seen) {
      expect(t.startedAt).to.be.within(before, clock());
      expect(t.ms).to.be.at.least(0);
    }
    stop();
    const count = seen.length;
    await alice.pay(channelId, 3n, ref("not observed"));
    expect(seen.length).to.equal(count);
    expect((await bob.channel(channelId)).transferred).to.deep.equal([6n, 0n]);
  });

  it("proves a payment on chain after the close", async function () {
    const { alice, bob } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    for (let i = 0; i < 5; i++) await alice.pay(channelId, 7n, ref(`order ${i}`));
    expect((await alice.prove(channelId, 3n)).verifiedOnChain).to.equal(false);
    await alice.close(channelId);
    const proof = await bob.prove(channelId, 3n);
    expect(proof.verifiedOnChain).to.equal(true);
    expect(proof.payment.ref).to.equal(ref("order 3"));
  });

  it("refutes a stale challenge from the peer and settles on the newest state", async function () {
    const { alice, bob, driver } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    await bob.deposit(channelId, 10n ** 18n);
    await waitFor(async () => (await alice.channel(channelId)).deposits[1] === 10n ** 18n);
    await bob.pay(channelId, 100n, ref("1"));
    const stale = bob.store.latest(channelId)!;
    await bob.pay(channelId, 900n, ref("2"));
    // Bob cheats: registers the state in which he had paid less.
    const session = (await bob.channel(channelId));
    expect(session.transferred[1]).to.equal(1_000n);
    await driver.connect(new ethers.Wallet(devKey(2), ethers.provider)).challenge((await alice.channel(channelId)) && paramsOf(alice, channelId), stale);
    await waitFor(async () => (await driver.channelStatus(channelId)).version > stale.state.version);
    await network.provider.send("evm_increaseTime", [601]);
    await network.provider.send("evm_mine", []);
    await waitFor(async () => (await driver.channelStatus(channelId)).mode === ChannelMode.Concluded);
    // settle took the registered state back: the newest, from the refutation's Challenged event.
    const settled = (await driver.events({ channelId, names: ["Settled"] }))[0];
    expect(settled?.name === "Settled" && settled.version).to.equal(bob.store.latest(channelId)!.state.version);
    expect(settled?.name === "Settled" && settled.payouts).to.deep.equal([10n ** 18n + 1_000n, 10n ** 18n - 1_000n]);
  });

  it("agrees on the payees in the open handshake: the opener's from open or its node, the peer's from its node; payouts go there", async function () {
    const [, , , carol, dave] = await ethers.getSigners();
    const { alice, bob, driver } = await twoNodes({}, { payee: dave.address as Address });
    const opened = await alice.openChannel({
      peer: bob.address,
      peerUrl: bob.peerUrl,
      asset: ETH,
      deposit: 10n ** 18n,
      payee: carol.address as Address,
    });
    const payees = [carol.address.toLowerCase(), dave.address.toLowerCase()];
    expect(opened.payees).to.deep.equal(payees);
    await waitFor(async () => (await bob.channels()).length === 1);
    expect((await bob.channel(opened.channelId)).payees).to.deep.equal(payees);
    expect(bob.store.getChannel(opened.channelId)!.params).to.deep.equal(alice.store.getChannel(opened.channelId)!.params);
    await alice.pay(opened.channelId, 1_000n, ref("to dave"));
    const before = await Promise.all(payees.map((p) => ethers.provider.getBalance(p)));
    await alice.close(opened.channelId);
    const after = await Promise.all(payees.map((p) => ethers.provider.getBalance(p)));
    expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal([10n ** 18n - 1_000n, 1_000n]);
    expect((await driver.channelStatus(opened.channelId)).mode).to.equal(ChannelMode.Concluded);
  });

  describe("cash-out while open", function () {
    /** A channel of two nodes with 1 ETH on each side, seen open by both. */
    async function funded(extra: Partial<NodeOptions> = {}, bobExtra: Partial<NodeOptions> = {}) {
      const nodesAndDriver = await twoNodes(extra, bobExtra);
      const { alice, bob } = nodesAndDriver;
      const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
      await waitFor(async () => (await bob.channels()).length === 1);
      await bob.deposit(channelId, 10n ** 18n);
      await waitFor(async () => (await alice.channel(channelId)).deposits[1] === 10n ** 18n);
      return { ...nodesAndDriver, channelId };
    }

    async function rejection(promise: Promise<unknown>): Promise<unknown> {
      return promise.then(
        () => expect.fail("expected a rejection"),
        (error: unknown) => error,
      );
    }

    it("pays the payee exactly the amount on chain, counts it on both sides, for either participant; bad input changes nothing", async function () {
      const [, , , carol] = await ethers.getSigners();
      const { alice, bob, driver, channelId } = await funded({}, { payee: carol.address as Address });
      await alice.pay(channelId, 300n, ref("a"));
      const before = await ethers.provider.getBalance(carol.address);
      const cashed = await bob.cashOut(channelId, 10n ** 17n);
      expect(cashed).to.deep.include({ channelId, participant: 1, payee: carol.address.toLowerCase(), amount: 10n ** 17n, total: 10n ** 17n, status: "executed", paid: 10n ** 17n });
      expect((await ethers.provider.getBalance(carol.address)) - before).to.equal(10n ** 17n);
      const events = await driver.events({ channelId, names: ["PartiallyWithdrawn"] });
      expect(events.map((e) => e.name === "PartiallyWithdrawn" && [e.participant, e.amount, e.total])).to.deep.equal([[1, 10n ** 17n, 10n ** 17n]]);
      expect(events[0].transactionHash.toLowerCase()).to.equal(cashed.tx!.hash.toLowerCase());
      await waitFor(async () => (await alice.channel(channelId)).withdrawn[1] === 10n ** 17n);
      for (const node of [alice, bob]) {
        const view = await node.channel(channelId);
        expect(view.withdrawn).to.deep.equal([0n, 10n ** 17n]);
        expect(view.withdrawals).to.deep.equal([]);
        expect(view.balances).to.deep.equal([10n ** 18n - 300n, 10n ** 18n + 300n - 10n ** 17n]);
      }
      expect(bob.store.withdrawals(channelId).map((w) => [w.status, w.txHash])).to.deep.equal([["executed", cashed.tx!.hash]]);
      expect(alice.store.withdrawals(channelId).map((w) => w.status)).to.deep.equal(["executed"]);
      // Participant 0 too, building on nothing of its own.
      expect((await alice.cashOut(channelId, 5n)).total).to.equal(5n);

      // Bad input: a typed error, nothing stored or counted.
      const views = async () => Promise.all([alice.channel(channelId), bob.channel(channelId)]);
      const snapshot = await views();
      const rows: [string, () => Promise<unknown>, abstract new (...args: never[]) => Error][] = [
        ["amount 0", () => alice.cashOut(channelId, 0n), InvalidAmountError],
        ["above the balance", () => alice.cashOut(channelId, 10n ** 18n - 300n - 5n + 1n), InsufficientFundsError],
        ["an unknown channel", () => alice.cashOut(ref("no such channel"), 1n), UnknownChannelIdError],
      ];
      for (const [what, call, type] of rows) expect(await rejection(call()), what).to.be.instanceOf(type);
      expect(await views()).to.deep.equal(snapshot);
      expect(alice.store.withdrawals(channelId)).to.have.length(2);

      // The peer offline, then the channel closed.
      await bob.stop();
      nodes.splice(nodes.indexOf(bob), 1);
      await waitFor(() => !(alice as unknown as { peers: { connections: Map<string, unknown> } }).peers.connections.has(bob.address.toLowerCase()));
      expect(await rejection(alice.cashOut(channelId, 1n))).to.be.instanceOf(PeerOfflineError);
      expect(await alice.channel(channelId)).to.deep.equal(snapshot[0]);
      alice.lifecycle.apply(channelId, "closed"); // the Closed event, as the watcher would apply it
      expect(await rejection(alice.cashOut(channelId, 1n))).to.be.instanceOf(ChannelStatusError);
    });

    it("a withdrawal signed before a crash is counted after the restart and executed once; one never executed expires and counts again", async function () {
      const crash = {
        afterWithdrawalSigned: () => {
          throw new Error("crashed after signing");
        },
      };
      // Alice's watcher polls rarely: in-process, only her node's start may execute what she signed before the "crash".
      const { alice, bob, driver, channelId } = await funded({ testHooks: crash, pollMs: 60_000 }, { pollMs: 50 });
      const crashed = await rejection(alice.cashOut(channelId, 4n * 10n ** 17n));
      expect((crashed as Error).message).to.equal("crashed after signing");
      for (const node of [alice, bob]) {
        expect((await node.channel(channelId)).withdrawals.map((w) => [w.participant, w.amount, w.status])).to.deep.equal([[0, 4n * 10n ** 17n, "signed"]]);
      }
      expect(await rejection(alice.pay(channelId, 6n * 10n ** 17n + 1n, ref("too much")))).to.be.instanceOf(InsufficientFundsError);

      /** Alice's node again on her store; a long poll, so that only its start checks the withdrawals. */
      const restart = async (previous: SluiceNode, extra: Partial<NodeOptions>) => {
        await previous.stop();
        nodes.splice(nodes.indexOf(previous), 1);
        const node = new SluiceNode({ privateKey: devKey(1), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, "node1", "store.sqlite"), ...extra });
        nodes.push(node);
        await node.start();
        return node;
      };
      const before = await ethers.provider.getBalance(alice.address);
      const again = await restart(alice, { pollMs: 60_000, withdrawalWindow: 60n, testHooks: crash });
      await waitFor(async () => (await driver.channelStatus(channelId)).withdrawn[0] === 4n * 10n ** 17n);
      await waitFor(async () => (await bob.channel(channelId)).withdrawals.length === 0 && (await again.channel(channelId)).withdrawals.length === 0);
      const events = await driver.events({ channelId, names: ["PartiallyWithdrawn"] });
      expect(events).to.have.length(1);
      const receipt = await ethers.provider.getTransactionReceipt(events[0].transactionHash);
      expect((await ethers.provider.getBalance(alice.address)) - before + receipt!.gasUsed * receipt!.gasPrice).to.equal(4n * 10n ** 17n);

      // Signed, then a crash, and the node stays down past the expiry: both sides drop it and count the amount again.
      await waitFor(async () => (await again.channel(channelId)).withdrawn[0] === 4n * 10n ** 17n);
      expect((crashed as Error).message).to.equal((await rejection(again.cashOut(channelId, 10n ** 17n)) as Error).message);
      const third = again.store.withdrawals(channelId, { live: true });
      expect(third.map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[5n * 10n ** 17n, "signed"]]);
      await again.stop();
      nodes.splice(nodes.indexOf(again), 1);
      await network.provider.send("evm_increaseTime", [61]);
      await network.provider.send("evm_mine", []);
      await waitFor(async () => (await bob.channel(channelId)).withdrawals.length === 0);
      const last = new SluiceNode({ privateKey: devKey(1), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, "node1", "store.sqlite"), pollMs: 50 });
      nodes.push(last);
      await last.start();
      expect((await last.channel(channelId)).withdrawals).to.deep.equal([]);
      for (const node of [last, bob]) expect(node.store.withdrawals(channelId).map((w) => w.status)).to.deep.equal(["executed", "expired"]);
      expect(await driver.events({ channelId, names: ["PartiallyWithdrawn"] })).to.have.length(1);
      expect((await driver.channelStatus(channelId)).withdrawn).to.deep.equal([4n * 10n ** 17n, 0n]);
      let paid;
      for (const deadline = Date.now() + 10_000; !paid; ) {
        paid = await last.pay(channelId, 6n * 10n ** 17n, ref("all of it")).catch((error: unknown) => {
          if (Date.now() > deadline || !(error instanceof PeerOfflineError)) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50));
        });
      }
      await waitFor(async () => (await bob.channel(channelId)).transferred[0] === 6n * 10n ** 17n);
      expect((await bob.channel(channelId)).balances).to.deep.equal([0n, 16n * 10n ** 17n]);
    });
  });

  describe("lifecycle", function () {
    async function failure(promise: Promise<unknown>): Promise<unknown> {
      return promise.then(
        () => expect.fail("expected a rejection"),
        (error: unknown) => error,
      );
    }

    it("refuses to close or challenge a channel never funded, before signing anything: both sides stay opening", async function () {
      const { alice, bob } = await twoNodes();
      // The opening deposit fails (all Alice holds, nothing left for gas): the channel is stored on both sides, unfunded.
      const all = await ethers.provider.getBalance(alice.address);
      await failure(alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: all }));
      await waitFor(async () => (await bob.channels()).length === 1);
      const [{ channelId }] = await alice.channels();
      const stored = () => [alice, bob].map((node) => [node.store.getChannel(channelId)!.status, node.store.latest(channelId), node.store.latestOwnSignature(channelId)]);
      const before = stored();
      expect(before.map(([status]) => status)).to.deep.equal(["opening", "opening"]);
      for (const [node, call, event] of [
        [alice, "close", "closed"],
        [bob, "close", "closed"],
        [alice, "challenge", "challenged"],
      ] as const) {
        const error = await failure(call === "close" ? node.close(channelId) : node.challenge(channelId));
        expect(error, `${call} by ${node === alice ? "alice" : "bob"}`).to.be.instanceOf(IllegalTransitionError);
        expect(error).to.deep.include({ channelId, from: "opening", event });
      }
      expect(stored()).to.deep.equal(before);
    });

    it("a close whose transaction reverts changes no status; the chain's Closed event then moves it", async function () {
      const { alice, bob, driver } = await twoNodes();
      const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
      await waitFor(async () => (await bob.channels()).length === 1 && (await bob.channel(channelId)).status === "open");
      await alice.pay(channelId, 5n, ref("before the close"));
      // Alice's watcher stopped: she does not see Bob's close until she polls.
      await (alice as unknown as { watcher: { stop(): Promise<void> } }).watcher.stop();
      await bob.close(channelId);
      expect((await bob.channel(channelId)).status).to.equal("closed");
      expect((await driver.channelStatus(channelId)).mode).to.equal(ChannelMode.Concluded);

      // Alice closes too: her final state is Bob's, but the chain refuses it (concluded already).
      const error = await failure(alice.close(channelId));
      expect(error).to.be.instanceOf(ChannelConcludedError);
      expect(alice.store.getChannel(channelId)!.status).to.equal("open");
      await (alice as unknown as { watcher: { poll(): Promise<void> } }).watcher.poll();
      expect(alice.store.getChannel(channelId)!.status).to.equal("closed");
      expect(await failure(alice.close(channelId))).to.be.instanceOf(ChannelStatusError);
    });

    it("a withdrawal executed by someone else is marked executed by its event, with its transaction, not by a chain read", async function () {
      const hook = {
        afterWithdrawalSigned: () => {
          throw new Error("not executed by its node");
        },
      };
      // Alice's watcher polls once at start, then rarely: only this test makes her read the chain.
      const { alice, bob, driver } = await twoNodes({ testHooks: hook, pollMs: 60_000 }, { pollMs: 50 });
      const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
      await waitFor(async () => (await bob.channels()).length === 1);
      await failure(alice.cashOut(channelId, 10n ** 17n));
      const [record] = alice.store.withdrawals(channelId);
      expect(record).to.deep.include({ status: "signed", txHash: null });

      // Someone else (here the deployer) executes it.
      const [deployer] = await ethers.getSigners();
      const params = paramsOf(alice, channelId);
      const executed = await driver.connect(deployer).partialWithdraw(params, { withdrawal: record.withdrawal, sigs: record.sigs });
      expect(executed.executed).to.equal(true);

      // Alice reads the chain (her withdrawals' check, outside a watcher round): the withdrawal stays
      // signed, counted as spent, and is neither executed again nor expired.
      await (alice as unknown as { withdrawals: { check(): Promise<void> } }).withdrawals.check();
      expect(alice.store.withdrawals(channelId).map((w) => [w.status, w.txHash])).to.deep.equal([["signed", null]]);
      expect((await alice.channel(channelId)).balances[0]).to.equal(10n ** 18n - 10n ** 17n);
      expect(await driver.events({ channelId, names: ["PartiallyWithdrawn"] })).to.have.length(1);

      // Her watcher's round reads the event: executed, with the transaction that executed it (Bob's too).
      await (alice as unknown as { watcher: { poll(): Promise<void> } }).watcher.poll();
      expect(alice.store.withdrawals(channelId).map((w) => [w.status, w.txHash])).to.deep.equal([["executed", executed.hash]]);
      await waitFor(() => bob.store.withdrawals(channelId)[0]?.status === "executed");
      expect(bob.store.withdrawals(channelId).map((w) => [w.status, w.txHash])).to.deep.equal([["executed", executed.hash]]);
      expect((await alice.channel(channelId)).withdrawn).to.deep.equal([10n ** 17n, 0n]);
    });
  });

  it("refuses a zero payee before anything is stored or sent", async function () {
    const { alice, bob } = await twoNodes();
    const zero = "0x0000000000000000000000000000000000000000" as Address;
    let caught: unknown;
    try {
      await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 1n, payee: zero });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(InvalidArgumentError);
    expect(await alice.channels()).to.deep.equal([]);
    expect(await bob.channels()).to.deep.equal([]);
  });
});

function paramsOf(node: SluiceNode, channelId: Hex) {
  return node.store.getChannel(channelId)!.params;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

export type { Address };
