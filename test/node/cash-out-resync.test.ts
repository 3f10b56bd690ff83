/**
 * Cash-out while open, when the connection fails around the proposal (nodes in one process on the
 * embedded chain, the failures injected at exact points, no timing luck):
 * - the connection closes before the proposal leaves the process: the proposal is dropped at once
 *   and the cash-out is refused with PeerOfflineError (nothing counted, nothing to resync);
 * - the proposal left, and the peer went down before signing it: it stays counted as spent until
 *   the resync after the reconnect, which drops it;
 * - the peer countersigned and stored it, and only its answer was lost: the resync adopts it, and
 *   the requester executes it once;
 * - a node's watcher reads another channel's PartiallyWithdrawn (every node watches the whole
 *   adjudicator) and goes on: it must not stall on a channel it does not have.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic, Wallet, type Provider } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC, type AdjudicatorDriver } from "../../src/chain";
import type { WithdrawalRecord } from "../../src/channel";
import { SluiceNode, type NodeOptions } from "../../src/node/node";
import { PeerOfflineError, type ChannelSession } from "../../src/node/session";
import { ConnectionClosedError, RequestTimeoutError, type PeerConnection } from "../../src/node/transport";
import type { PeerMessages } from "../../src/node/protocol";
import { ETH, type Address, type Hex } from "../../src/types";

const ONE = 10n ** 18n;

function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

/** The node's internals these tests reach into to inject a failure at an exact point. */
interface Internals {
  sessions: Pick<Map<string, ChannelSession>, "get">;
  peers: { connections: Map<string, PeerConnection<PeerMessages>> };
}
const internals = (node: SluiceNode) => node as unknown as Internals;

describe("SluiceNode cash-out: a connection failing around the proposal, and the resync", function () {
  let dir: string;
  let nodes: SluiceNode[] = [];
  let driver: AdjudicatorDriver;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-cashout-"));
    const [deployer] = await ethers.getSigners();
    driver = await deployAdjudicator(deployer);
  });

  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });

  /** Node `i` (dev account i) on its own store in this test's directory; started. */
  async function startNode(i: number, extra: Partial<NodeOptions> = {}): Promise<SluiceNode> {
    const node = new SluiceNode({
      privateKey: devKey(i),
      provider: ethers.provider,
      adjudicator: driver.address,
      storePath: path.join(dir, `node${i}`, "store.sqlite"),
      pollMs: 50,
      ...extra,
    });
    nodes.push(node);
    await node.start();
    return node;
  }

  async function stopNode(node: SluiceNode): Promise<void> {
    nodes.splice(nodes.indexOf(node), 1);
    await node.stop();
  }

  type Hooks = { beforeGetBlock?: () => Promise<void> };

  /** Node options reading the chain through a provider whose `getBlock` (the chain's time) runs `hooks.beforeGetBlock` first, if set. */
  function hookedChain(i: number): { hooks: Hooks; options: Partial<NodeOptions> } {
    const hooks: Hooks = {};
    const real = ethers.provider;
    const getBlock = async (tag: string) => {
      await hooks.beforeGetBlock?.();
      return real.getBlock(tag);
    };
    const provider = new Proxy(real, {
      get: (target, key) => {
        if (key === "getBlock") return getBlock;
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? ((value).bind(target) as unknown) : value;
      },
    }) as Provider;
    return { hooks, options: { provider, chainSigner: new Wallet(devKey(i), real) } };
  }

  /** Alice (participant 0, paid out to `payee`) and Bob with 1 ETH each in a channel both see open; both on hooked chains. */
  async function funded(aliceExtra: Partial<NodeOptions> = {}) {
    const payee = (await ethers.getSigners())[7].address.toLowerCase() as Address;
    const [aliceChain, bobChain] = [hookedChain(1), hookedChain(2)];
    const alice = await startNode(1, { payee, ...aliceChain.options, ...aliceExtra });
    const bob = await startNode(2, bobChain.options);
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ONE });
    await waitFor(async () => (await bob.channels()).length === 1);
    await bob.deposit(channelId, ONE);
    await waitFor(async () => (await alice.channel(channelId)).deposits[1] === ONE);
    await alice.pay(channelId, 100n, ref("before"));
    return { alice, bob, channelId, payee, hooks: aliceChain.hooks, bobHooks: bobChain.hooks };
  }

  /** Bob's node again on his store and port (Alice redials the URL she knows). */
  function restartBob(bob: SluiceNode): Promise<SluiceNode> {
    const port = Number(new URL(bob.peerUrl).port);
    return startNode(2, { listen: { port } });
  }

  const isConnected = (node: SluiceNode, channelId: Hex) => internals(node).sessions.get(channelId.toLowerCase())!.isConnected;

  /** Where the connection goes down: the hook is given what takes it down and waits until Alice noticed. */
  const closings: [string, (alice: SluiceNode, hooks: Hooks, goDown: () => Promise<void>) => void][] = [
    ["while the node reads the chain's time, before it signs", (_alice, hooks, goDown) => (hooks.beforeGetBlock = goDown)],
    [
      "while the node signs and stores the proposal, before it sends it",
      (alice, _hooks, goDown) => {
        const put = alice.store.putWithdrawal.bind(alice.store);
        // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the session awaits what its store call returns: this hook's promise is the point
        alice.store.putWithdrawal = (channelId: Hex, record: WithdrawalRecord) => {
          put(channelId, record);
          // The session awaits its store hook: the connection goes down between the write and the send.
          return record.status === "proposed" ? goDown() : undefined;
        };
      },
    ],
  ];
  for (const [where, arm] of closings) {
    it(`drops a proposal that never left the process and refuses with PeerOfflineError: the connection closed ${where}`, async function () {
      const { alice, bob, channelId, hooks } = await funded();
      const before = await alice.channel(channelId);
      const seenByBob = await bob.channel(channelId);
      // Bob's node goes down (and stays down: nothing can reconnect) at the armed point; Alice has noticed when it returns.
      let wentDown = false;
      arm(alice, hooks, async () => {
        if (wentDown) return;
        wentDown = true;
        await stopNode(bob);
        await waitFor(async () => !isConnected(alice, channelId));
      });
      const error = await rejection(alice.cashOut(channelId, 10n ** 17n));
      expect(wentDown).to.equal(true);
      expect(error).to.be.instanceOf(PeerOfflineError);
      // Nothing counted, nothing live in the store: the peer cannot hold what never reached it.
      expect(await alice.channel(channelId)).to.deep.equal(before);
      expect(alice.store.withdrawals(channelId, { live: true })).to.deep.equal([]);

      // Bob back: nothing was signed by Bob, the two agree, and the whole balance can be cashed out.
      const bobAgain = await restartBob(bob);
      await waitFor(async () => isConnected(alice, channelId));
      expect(await bobAgain.channel(channelId)).to.deep.equal(seenByBob);
      expect(bobAgain.store.withdrawals(channelId)).to.deep.equal([]);
      const cashed = await alice.cashOut(channelId, before.balances[0]);
      expect([cashed.status, cashed.total]).to.deep.equal(["executed", before.balances[0]]);
    });
  }

  it("keeps a proposal that left while the peer went down before signing, counted until the resync, which drops it", async function () {
    const { alice, bob, channelId, payee } = await funded();
    const before = await alice.channel(channelId);
    const seenByBob = await bob.channel(channelId);
    const amount = 10n ** 17n;
    // Bob's node receives the proposal and goes down before it checks or signs anything.
    const session = internals(bob).sessions.get(channelId.toLowerCase())!;
    const handle = session.handle.bind(session);
    let received = false;
    session.handle = (connection, message) => {
      if (message.kind !== "withdrawal") return handle(connection, message);
      received = true;
      void stopNode(bob);
      return new Promise<never>(() => undefined);
    };

    const error = await rejection(alice.cashOut(channelId, amount));
    expect(received).to.equal(true);
    expect(error).to.be.instanceOf(ConnectionClosedError);
    // Alice cannot know whether Bob countersigned: the proposal stays counted as spent.
    const meanwhile = await alice.channel(channelId);
    expect(meanwhile.withdrawals).to.deep.equal([
      { participant: 0, total: amount, amount, expiry: meanwhile.withdrawals[0].expiry, status: "proposed" },
    ]);
    expect(meanwhile.balances).to.deep.equal([before.balances[0] - amount, before.balances[1]]);
    expect(alice.store.withdrawals(channelId, { live: true }).map((w) => [w.withdrawal.total, w.status])).to.deep.equal([
      [amount, "proposed"],
    ]);

    // Bob's node again: the resync tells Alice that Bob holds no such withdrawal, and she drops it.
    const bobAgain = await restartBob(bob);
    await waitFor(async () => (await alice.channel(channelId)).withdrawals.length === 0);
    expect(await alice.channel(channelId)).to.deep.equal(before);
    expect(await bobAgain.channel(channelId)).to.deep.equal(seenByBob);
    expect(bobAgain.store.withdrawals(channelId)).to.deep.equal([]);
    expect(alice.store.withdrawals(channelId).map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[amount, "refused"]]);
    expect(await driver.events({ channelId, names: ["PartiallyWithdrawn"] })).to.deep.equal([]);

    // Nothing lost or doubled: the next cash-out builds on nothing and pays exactly its amount.
    const paidBefore = await ethers.provider.getBalance(payee);
    const cashed = await alice.cashOut(channelId, amount);
    expect([cashed.status, cashed.total, cashed.paid]).to.deep.equal(["executed", amount, amount]);
    expect((await ethers.provider.getBalance(payee)) - paidBefore).to.equal(amount);
  });

  it("adopts a withdrawal the peer countersigned and stored when only its answer was lost, and executes it once", async function () {
    const { alice, bob, channelId, payee } = await funded();
    const before = await alice.channel(channelId);
    const amount = 3n * 10n ** 17n;
    // Bob's node countersigns and stores the withdrawal, then its connection to Alice drops before the answer leaves.
    const put = bob.store.putWithdrawal.bind(bob.store);
    let dropped = false;
    bob.store.putWithdrawal = ((id: Hex, record: WithdrawalRecord) => {
      put(id, record);
      if (record.status !== "signed" || dropped) return;
      dropped = true;
      void internals(bob).peers.connections.get(alice.address.toLowerCase())!.close();
    });

    const paidBefore = await ethers.provider.getBalance(payee);
    const error = await rejection(alice.cashOut(channelId, amount));
    expect(dropped).to.equal(true);
    expect(error).to.be.instanceOf(ConnectionClosedError);
    expect(bob.store.withdrawals(channelId, { live: true }).map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[amount, "signed"]]);

    // Alice redials; the resync hands her Bob's countersignature, and her node executes the withdrawal.
    await waitFor(async () => (await driver.channelStatus(channelId)).withdrawn[0] === amount);
    for (const node of [alice, bob]) {
      await waitFor(
        async () => (await node.channel(channelId)).withdrawals.length === 0 && (await node.channel(channelId)).withdrawn[0] === amount,
      );
      expect((await node.channel(channelId)).balances).to.deep.equal([before.balances[0] - amount, before.balances[1]]);
    }
    const events = await driver.events({ channelId, names: ["PartiallyWithdrawn"] });
    expect(events.map((e) => e.name === "PartiallyWithdrawn" && [e.participant, e.amount, e.total])).to.deep.equal([[0, amount, amount]]);
    expect((await ethers.provider.getBalance(payee)) - paidBefore).to.equal(amount);
    expect(alice.store.withdrawals(channelId).map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[amount, "executed"]]);
  });

  it("answers a withdrawals question only after the proposals that arrived before it: a slow countersignature is not taken for a refusal", async function () {
    // Alice gives up waiting for an answer after a second, then asks Bob which withdrawals he holds.
    const { alice, bob, channelId, payee, bobHooks } = await funded({ transport: { requestTimeoutMs: 1_000 } });
    const before = await alice.channel(channelId);
    const amount = 2n * 10n ** 17n;
    // Bob's node is slow to read the chain's time for the proposal: it goes on only once Alice's question has reached it.
    const session = internals(bob).sessions.get(channelId.toLowerCase())!;
    const reply = session.withdrawalsReply.bind(session);
    let asked = false;
    session.withdrawalsReply = () => {
      asked = true;
      return reply();
    };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    bobHooks.beforeGetBlock = () => released;

    const paidBefore = await ethers.provider.getBalance(payee);
    const cashing = rejection(alice.cashOut(channelId, amount));
    await waitFor(() => asked);
    bobHooks.beforeGetBlock = undefined;
    release();
    expect(await cashing).to.be.instanceOf(RequestTimeoutError);

    // Bob countersigned it; his answer to the question carried it, so Alice holds it signed and executes it.
    await waitFor(async () => (await driver.channelStatus(channelId)).withdrawn[0] === amount);
    for (const node of [alice, bob]) {
      await waitFor(async () => {
        const view = await node.channel(channelId);
        return view.withdrawals.length === 0 && view.withdrawn[0] === amount;
      });
      expect((await node.channel(channelId)).balances).to.deep.equal([before.balances[0] - amount, before.balances[1]]);
    }
    expect((await driver.events({ channelId, names: ["PartiallyWithdrawn"] })).length).to.equal(1);
    expect((await ethers.provider.getBalance(payee)) - paidBefore).to.equal(amount);
  });

  it("takes the peer's answer to a proposal that a resync already adopted as the signed withdrawal", async function () {
    // Alice's watcher polls rarely: only her cash-out executes the withdrawal.
    const { alice, bob, channelId, payee, bobHooks } = await funded({ pollMs: 60_000 });
    const amount = 10n ** 17n;
    const aliceSession = internals(alice).sessions.get(channelId.toLowerCase())!;
    const bobSession = internals(bob).sessions.get(channelId.toLowerCase())!;
    // Bob's node: slow to read the chain's time for the proposal, and its answer leaves only after its answer to Alice's question.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    bobHooks.beforeGetBlock = () => released;
    const reply = bobSession.withdrawalsReply.bind(bobSession);
    let asked = false;
    let answered = false;
    bobSession.withdrawalsReply = () => {
      asked = true;
      return reply().then((held) => ((answered = true), held));
    };
    const handle = bobSession.handle.bind(bobSession);
    let received = false;
    bobSession.handle = (connection, message) => {
      if (message.kind !== "withdrawal") return handle(connection, message);
      received = true;
      return handle(connection, message).then(async (ack) => (await waitFor(() => answered), ack));
    };

    const paidBefore = await ethers.provider.getBalance(payee);
    const cashing = alice.cashOut(channelId, amount);
    await waitFor(() => received);
    // Alice asks which withdrawals Bob holds (as after a reconnect or a timeout) while her proposal is with him.
    const connection = internals(alice).peers.connections.get(bob.address.toLowerCase())!;
    const syncing = (aliceSession as unknown as { syncWithdrawals(c: PeerConnection<PeerMessages>): Promise<void> }).syncWithdrawals(
      connection,
    );
    await waitFor(() => asked);
    bobHooks.beforeGetBlock = undefined;
    release();
    await syncing;
    // The resync adopted Bob's countersignature first; his answer then confirms it, and the cash-out goes through once.
    const cashed = await cashing;
    expect([cashed.status, cashed.total, cashed.paid]).to.deep.equal(["executed", amount, amount]);
    expect((await ethers.provider.getBalance(payee)) - paidBefore).to.equal(amount);
    expect((await driver.events({ channelId, names: ["PartiallyWithdrawn"] })).length).to.equal(1);
    for (const node of [alice, bob]) await waitFor(async () => (await node.channel(channelId)).withdrawn[0] === amount);
  });

  it("a node's watcher goes on past another channel's PartiallyWithdrawn", async function () {
    const errors: string[] = [];
    const carol = await startNode(3, { onError: (error, what) => errors.push(`${what}: ${(error as Error).message}`) });
    const { alice, channelId } = await funded();
    const cashed = await alice.cashOut(channelId, 10n ** 17n);
    expect(cashed.status).to.equal("executed");
    const block = cashed.tx!.blockNumber;
    // Carol has no such channel: her watcher skips the event and moves its cursor past that block.
    await waitFor(async () => (carol.store.getCursor("adjudicator") ?? -1n) >= block);
    expect(errors).to.deep.equal([]);
  });
});

const ref = (text: string) => ethers.id(text) as Hex;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}
