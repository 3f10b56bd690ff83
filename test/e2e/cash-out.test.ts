/**
 * End to end, cash-out while the channel stays open: two (and three) node processes on a
 * `hardhat node`, driven through their HTTP APIs. A node cashes out: the peer's node checks and
 * countersigns the withdrawal, both store it, the requester executes it, and its payee's balance on
 * chain rises by exactly the amount; payments go on and the close pays the rest. Then the crash
 * cases: the requesting node is killed with SIGKILL right after both signed (before it executes),
 * and after its restart the withdrawal is still counted and gets executed once; or the node stays
 * down past the withdrawal's expiry, and both sides drop it and count the amount again.
 */
import path from "node:path";
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { expect } from "chai";
import { hexlify } from "ethers";
import { increaseTime } from "../../src/chain";
import { ApiError } from "../../src/node/api";
import type { ChannelView } from "../../src/node/api/types";
import { ChannelStore } from "../../src/node/store";
import { ChannelMode, type Address, type Hex } from "../../src/types";
import { USDC, logsOf, openFunded, startCluster, waitFor, type Cluster, type ClusterNode } from "./helpers/cluster";

const ref = () => hexlify(randomBytes(32)) as Hex;
/** The default validity of a node's withdrawal (NodeOptions.withdrawalWindow). */
const WITHDRAWAL_WINDOW = 3_600;

describe("e2e: cash-out while the channel stays open", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let carol: ClusterNode;
  /** Alice's payee: her company's wallet, which her node's key does not control. */
  let treasury: Address;
  /** Carol's payee. */
  let vault: Address;

  before(async function () {
    cluster = await startCluster({ token: true });
    treasury = cluster.chain.wallet(8).address as Address;
    vault = cluster.chain.wallet(9).address as Address;
    [alice, bob, carol] = await Promise.all([
      cluster.startNode("alice", 1, { payee: treasury }),
      cluster.startNode("bob", 2),
      // Carol's node kills itself (SIGKILL) as soon as a withdrawal of hers is signed by both and stored.
      cluster.startNode("carol", 3, { payee: vault, env: { SLUICE_TEST_CRASH: "withdrawal-signed" } }),
    ]);
  });

  after(async function () {
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob, carol));
  });

  const usdcOf = (address: string) => cluster.token!.balanceOf(address);
  const withdrawnEvents = async (channelId: Hex) =>
    (await cluster.driver.events({ channelId, names: ["PartiallyWithdrawn"] })).map((e) => (e.name === "PartiallyWithdrawn" ? [e.participant, e.amount, e.total] : []));
  const apiError = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail("expected the API to refuse"),
      (error: unknown) => error as ApiError,
    );

  it("pays the payee exactly the amount, both nodes count it, payments go on, and the close pays the rest", async function () {
    const deposits: [bigint, bigint] = [1_000n * USDC, 500n * USDC];
    const channel = await openFunded(alice, bob, cluster.tokenAddress, deposits);
    const id = channel.channelId;
    expect(channel.payees).to.deep.equal([treasury.toLowerCase(), bob.address.toLowerCase()]);
    await alice.process.api.pay(id, 100n * USDC, ref());
    await bob.process.api.pay(id, 30n * USDC, ref());

    // Alice cashes out 400 USDC to her treasury while the channel stays open.
    const before = await usdcOf(treasury);
    const cashed = await alice.process.api.cashOut(id, 400n * USDC);
    expect(cashed).to.deep.include({ channelId: id, participant: 0, payee: treasury.toLowerCase(), amount: 400n * USDC, total: 400n * USDC, status: "executed", paid: 400n * USDC });
    expect((await usdcOf(treasury)) - before).to.equal(400n * USDC);
    expect(await withdrawnEvents(id)).to.deep.equal([[0, 400n * USDC, 400n * USDC]]);
    // Bob cashes out 200 USDC to himself.
    const bobBefore = await usdcOf(bob.address);
    expect((await bob.process.api.cashOut(id, 200n * USDC)).total).to.equal(200n * USDC);
    expect((await usdcOf(bob.address)) - bobBefore).to.equal(200n * USDC);

    const expected = (t: [bigint, bigint], w: [bigint, bigint]): [bigint, bigint] => [deposits[0] - w[0] + t[1] - t[0], deposits[1] - w[1] + t[0] - t[1]];
    const withdrawn: [bigint, bigint] = [400n * USDC, 200n * USDC];
    for (const node of [alice, bob]) {
      await waitFor(async () => (await node.process.api.channel(id)).withdrawn[1] === withdrawn[1], { what: `${node.name} to see both withdrawals` });
      const view = await node.process.api.channel(id);
      expect(view.withdrawn).to.deep.equal(withdrawn);
      expect(view.withdrawals).to.deep.equal([]);
      expect(view.balances).to.deep.equal(expected([100n * USDC, 30n * USDC], withdrawn));
    }

    // Bad input: a clear error, and nothing changes.
    const views = () => Promise.all([alice, bob].map((n) => n.process.api.channel(id)));
    const unchanged = await views();
    const left = unchanged[0].balances[0];
    const refused: [string, () => Promise<unknown>, number, string][] = [
      ["amount 0", () => alice.process.api.cashOut(id, 0n), 400, "INVALID_AMOUNT"],
      ["above the balance", () => alice.process.api.cashOut(id, left + 1n), 409, "INSUFFICIENT_FUNDS"],
      ["an unknown channel", () => alice.process.api.cashOut(ref(), 1n), 404, "NOT_FOUND"],
    ];
    for (const [what, call, status, code] of refused) {
      const error = await apiError(call());
      expect([error.status, error.code], what).to.deep.equal([status, code]);
    }
    // The peer offline: PEER_OFFLINE, and the refusal changes nothing.
    await bob.process.kill();
    await waitFor(async () => (await apiError(alice.process.api.cashOut(id, 1n))).code === "PEER_OFFLINE", { what: "alice to see bob gone" });
    const offline = await alice.process.api.channel(id);
    expect((await apiError(alice.process.api.cashOut(id, 1n))).code).to.equal("PEER_OFFLINE");
    expect(await alice.process.api.channel(id)).to.deep.equal(offline);
    // An attempt made before alice's node saw the connection end is dropped if its proposal never
    // left the node (PEER_OFFLINE). One whose frame went out to the dead socket (PEER_DISCONNECTED)
    // may have reached bob for all alice knows: it counts as spent until the resync, at most one.
    if (offline.withdrawals.length === 0) expect(offline).to.deep.equal(unchanged[0]);
    else {
      const proposed = { participant: 0, total: withdrawn[0] + 1n, amount: 1n, expiry: offline.withdrawals[0].expiry, status: "proposed" };
      expect(offline).to.deep.equal({ ...unchanged[0], withdrawals: [proposed], balances: [left - 1n, unchanged[0].balances[1]] });
    }
    // Bob back: the resync drops any such proposal (bob died before it was sent, so he never signed
    // it), and both nodes are exactly where they were.
    await bob.process.restart();
    await waitFor(async () => isDeepStrictEqual(await views(), unchanged), { what: "alice and bob to agree on the channel as before bob went down" });
    expect(await views()).to.deep.equal(unchanged);

    // Payments go on, against what is left after the cash-outs.
    await waitFor(async () => {
      await alice.process.api.pay(id, left, ref());
      return true;
    }, { what: "alice to pay again once bob is back" });
    expect((await apiError(alice.process.api.pay(id, 1n, ref()))).code).to.equal("INSUFFICIENT_FUNDS");
    const transferred: [bigint, bigint] = [100n * USDC + left, 30n * USDC];

    // The close pays each payee the rest.
    const treasuryBefore = await usdcOf(treasury);
    const startBlock = await cluster.chain.provider.getBlockNumber();
    await alice.process.api.close(id);
    const closed = (await cluster.driver.events({ fromBlock: startBlock + 1, channelId: id, names: ["Closed"] }))[0];
    expect(closed.name === "Closed" && closed.payouts).to.deep.equal(expected(transferred, withdrawn));
    expect((await usdcOf(treasury)) - treasuryBefore).to.equal(0n); // alice spent all she had left
    expect(expected(transferred, withdrawn)[0]).to.equal(0n);
    // Everything that left the channel: the two cash-outs and the close, exactly the deposits.
    expect(withdrawn[0] + withdrawn[1] + expected(transferred, withdrawn)[0] + expected(transferred, withdrawn)[1]).to.equal(deposits[0] + deposits[1]);
    await waitFor(async () => (await alice.process.api.channel(id)).status === "closed");
    expect((await apiError(alice.process.api.cashOut(id, 1n))).code).to.equal("CHANNEL_STATUS");
  });

  describe("the requesting node killed right after both signed", function () {
    let channel: ChannelView;
    const deposits: [bigint, bigint] = [1_000n * USDC, 1_000n * USDC];

    // Bob's node serves these channels: up, even if the test before stopped with it down.
    before(async function () {
      if (!bob.process.isRunning) await bob.process.restart();
    });

    /** Carol asks for a cash-out; her node signs, stores and dies before executing. Resolves once she is dead. */
    async function cashOutAndDie(amount: bigint): Promise<void> {
      const error = await apiError(carol.process.api.cashOut(channel.channelId, amount));
      expect(error.code, error.message).to.equal("UNREACHABLE");
      await carol.process.exited();
      expect(carol.process.isRunning).to.equal(false);
    }

    /** Carol's live withdrawals, read from her store while her node is down. */
    function carolsStore() {
      const store = ChannelStore.open(path.join(carol.process.options.datadir, "store.sqlite"));
      try {
        return store.withdrawals(channel.channelId, { live: true });
      } finally {
        store.close();
      }
    }

    it("counts the withdrawal on both sides meanwhile, and executes it once after the restart", async function () {
      channel = await openFunded(carol, bob, cluster.tokenAddress, deposits);
      await carol.process.api.pay(channel.channelId, 100n * USDC, ref());
      await cashOutAndDie(250n * USDC);

      // Both signed and stored it: Bob counts it as spent by Carol, and so does her store.
      const atBob = await bob.process.api.channel(channel.channelId);
      expect(atBob.withdrawals).to.deep.equal([{ participant: 0, total: 250n * USDC, amount: 250n * USDC, expiry: atBob.withdrawals[0].expiry, status: "signed" }]);
      expect(atBob.balances[0]).to.equal(deposits[0] - 100n * USDC - 250n * USDC);
      const stored = carolsStore();
      expect(stored.map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[250n * USDC, "signed"]]);
      expect(stored[0].sigs.every((sig) => sig.length === 132)).to.equal(true);
      expect(await withdrawnEvents(channel.channelId)).to.deep.equal([]);

      const before = await usdcOf(vault);
      await carol.process.restart({});
      await waitFor(async () => (await cluster.driver.channelStatus(channel.channelId)).withdrawn[0] === 250n * USDC, {
        what: "the restarted node to execute the withdrawal",
      });
      for (const node of [carol, bob]) {
        await waitFor(async () => (await node.process.api.channel(channel.channelId)).withdrawals.length === 0, { what: `${node.name} to see it executed` });
        const view = await node.process.api.channel(channel.channelId);
        expect(view.withdrawn).to.deep.equal([250n * USDC, 0n]);
        expect(view.balances[0]).to.equal(deposits[0] - 100n * USDC - 250n * USDC);
      }
      expect((await usdcOf(vault)) - before).to.equal(250n * USDC);
      expect(await withdrawnEvents(channel.channelId)).to.deep.equal([[0, 250n * USDC, 250n * USDC]]);
    });

    it("drops it on both sides once it expired unexecuted while the node was down: the amount counts again, nothing is paid", async function () {
      expect(channel, "the channel the test before opened and this one goes on with").to.not.equal(undefined);
      // Carol's node again with the crash switched on.
      await carol.process.stop();
      await carol.process.restart({ SLUICE_TEST_CRASH: "withdrawal-signed" });
      await waitFor(async () => {
        await carol.process.api.pay(channel.channelId, 1n * USDC, ref());
        return true;
      }, { what: "carol to reconnect" });
      const left = deposits[0] - 101n * USDC - 250n * USDC;
      const before = await usdcOf(vault);
      await cashOutAndDie(left);
      await waitFor(async () => (await bob.process.api.channel(channel.channelId)).balances[0] === 0n, { what: "bob to count carol's withdrawal" });
      expect(carolsStore().map((w) => [w.withdrawal.total, w.status])).to.deep.equal([[250n * USDC + left, "signed"]]);

      // The chain's time passes the expiry while Carol is down: Bob drops it.
      await increaseTime(cluster.chain.provider, WITHDRAWAL_WINDOW + 1);
      await waitFor(async () => (await bob.process.api.channel(channel.channelId)).withdrawals.length === 0, { what: "bob to drop the expired withdrawal" });
      expect((await bob.process.api.channel(channel.channelId)).balances[0]).to.equal(left);

      // Carol's restarted node drops it too, and executes nothing.
      await carol.process.restart({});
      await waitFor(async () => (await carol.process.api.channel(channel.channelId)).withdrawals.length === 0, { what: "carol to drop it" });
      expect(await withdrawnEvents(channel.channelId)).to.deep.equal([[0, 250n * USDC, 250n * USDC]]);
      expect((await cluster.driver.channelStatus(channel.channelId)).withdrawn).to.deep.equal([250n * USDC, 0n]);
      expect((await usdcOf(vault)) - before).to.equal(0n);

      // The amount counts again: Carol pays all of it to Bob, and the close pays out the rest to the base unit.
      await waitFor(async () => {
        await carol.process.api.pay(channel.channelId, left, ref());
        return true;
      }, { what: "carol to pay what is left" });
      const startBlock = await cluster.chain.provider.getBlockNumber();
      await carol.process.api.close(channel.channelId);
      const closed = (await cluster.driver.events({ fromBlock: startBlock + 1, channelId: channel.channelId, names: ["Closed"] }))[0];
      expect(closed.name === "Closed" && closed.payouts).to.deep.equal([0n, deposits[0] + deposits[1] - 250n * USDC]);
      expect((await cluster.driver.channelStatus(channel.channelId)).mode).to.equal(ChannelMode.Concluded);
    });
  });
});
