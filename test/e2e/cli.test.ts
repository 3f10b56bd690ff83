/**
 * End to end, scenario 5: the `sluice` command line (`node bin/sluice.js`, a process per command)
 * against two running node processes on a `hardhat node`: status, channels, pay with a human
 * amount and --ref, payments, cash-out while open, close, prove after the close (verified on
 * chain), and the error messages for an unknown channel, an amount in the wrong unit, and no node
 * running.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { hexlify, id as keccakText } from "ethers";
import { randomBytes } from "node:crypto";
import { ChannelMode, ETH, ZERO_HASH, type Hex } from "../../src/types";
import type { ChannelView } from "../../src/node/api/types";
import { sluice, type Run } from "./helpers/cli";
import { ETHER, USDC, logsOf, openFunded, startCluster, type Cluster, type ClusterNode } from "./helpers/cluster";

function json<T>(run: Run): T {
  expect(run.code, `exit code of a command that should work; stderr: ${run.stderr}`).to.equal(0);
  return JSON.parse(run.stdout) as T;
}

/** The `--json` output of a command that failed. */
function failure(run: Run): { error: { code: string; message: string } } {
  return JSON.parse(run.stdout) as { error: { code: string; message: string } };
}

describe("e2e: the sluice CLI against running nodes", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let eth: ChannelView;
  let usdc: ChannelView;
  let datadirA: string;
  let datadirB: string;
  let empty: string;

  before(async function () {
    cluster = await startCluster({ token: true });
    [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2)]);
    eth = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    usdc = await openFunded(alice, bob, cluster.tokenAddress, [1_000n * USDC, 500n * USDC]);
    datadirA = alice.process.options.datadir;
    datadirB = bob.process.options.datadir;
    empty = mkdtempSync(path.join(tmpdir(), "sluice-e2e-empty-"));
  });

  after(async function () {
    if (empty) rmSync(empty, { recursive: true, force: true });
    await cluster?.stop();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logsOf(alice, bob));
  });

  it("status and channels show the running node", async function () {
    const [status, statusJson, channels, channelsJson] = await Promise.all([
      sluice("status", "--datadir", datadirA),
      sluice("--json", "status", "--datadir", datadirA),
      sluice("channels", "--datadir", datadirB),
      sluice("channels", "--datadir", datadirB, "--json"),
    ]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout.toLowerCase()).to.include(alice.address.toLowerCase());
    expect(status.stdout.toLowerCase()).to.include(cluster.driver.address.toLowerCase());
    expect(status.stdout).to.include(alice.peerUrl);
    const info = json<{ address: string; chainId: string; adjudicator: string; peerUrl: string; channels: number }>(statusJson);
    expect(info.address.toLowerCase()).to.equal(alice.address.toLowerCase());
    expect(BigInt(info.chainId)).to.equal(cluster.chain.chainId);
    expect(info.adjudicator.toLowerCase()).to.equal(cluster.driver.address.toLowerCase());
    expect(info.peerUrl).to.equal(alice.peerUrl);
    expect(Number(info.channels)).to.equal(2);

    expect(channels.code, channels.stderr).to.equal(0);
    expect(channels.stdout).to.include(eth.channelId);
    expect(channels.stdout).to.include(usdc.channelId);
    expect(channels.stdout).to.match(/USDC/);
    const list = json<{ channelId: string; status: string; me: number; deposits: string[] }[]>(channelsJson);
    const byId = new Map(list.map((c) => [c.channelId.toLowerCase(), c]));
    expect(byId.get(eth.channelId.toLowerCase())).to.deep.include({ status: "open", me: 1, deposits: [ETHER.toString(), ETHER.toString()] });
    expect(byId.get(usdc.channelId.toLowerCase())).to.deep.include({ status: "open", me: 1 });
  });

  it("pays with human amounts and --ref, lists the payments, closes, and proves a payment on chain", async function () {
    // One at a time per channel, so the seqs are known.
    const paid = await sluice("pay", eth.channelId, "0.25 ETH", "--ref", "order-123", "--datadir", datadirA);
    expect(paid.code, paid.stderr).to.equal(0);
    expect(paid.stdout).to.match(/paid 0\.25 ETH/);
    const [back, dollars] = await Promise.all([
      sluice("--datadir", datadirB, "pay", eth.channelId, "0.000000000000000001", "ETH", "--ref", "order-124", "--json"),
      sluice("pay", usdc.channelId, "12.5 USDC", "--ref", "order-125", "--datadir", datadirB),
    ]);
    const backPayment = json<{ seq: string; payer: number; amount: string; ref: string }>(back);
    expect(backPayment).to.deep.include({ seq: "1", payer: 1, amount: "1", ref: keccakText("order-124") });
    expect(dollars.code, dollars.stderr).to.equal(0);
    expect(dollars.stdout).to.match(/paid 12\.5 USDC/);

    // Bob cashes out 100 USDC from the open channel: his address receives exactly that.
    const before = await cluster.token!.balanceOf(bob.address);
    const cashed = await sluice("cash-out", usdc.channelId, "100", "USDC", "--datadir", datadirB);
    expect(cashed.code, cashed.stderr).to.equal(0);
    expect(cashed.stdout).to.match(new RegExp(`^cashed out 100 USDC from ${usdc.channelId} to your payee ${bob.address.toLowerCase()}: transaction 0x[0-9a-f]{64}`));
    expect((await cluster.token!.balanceOf(bob.address)) - before).to.equal(100n * USDC);
    const shown = await sluice("channel", usdc.channelId, "--datadir", datadirB);
    expect(shown.stdout).to.match(/cashed out\s+you 100 USDC, peer 0 USDC/);
    const tooMuch = await sluice("cash-out", usdc.channelId, "400", "--datadir", datadirB, "--json");
    expect(tooMuch.code).to.equal(1);
    expect(failure(tooMuch).error.code).to.equal("INSUFFICIENT_FUNDS");

    // What the nodes stored: exact base units, the hashed references.
    const ethPayments = await alice.process.api.payments(eth.channelId, {});
    expect(ethPayments.map((p) => [p.payer, p.amount, p.ref])).to.deep.equal([
      [0, ETHER / 4n, keccakText("order-123")],
      [1, 1n, keccakText("order-124")],
    ]);
    const usdcPayments = await alice.process.api.payments(usdc.channelId, {});
    expect(usdcPayments.map((p) => [p.payer, p.amount, p.ref])).to.deep.equal([[1, 12_500_000n, keccakText("order-125")]]);

    const [listed, listedJson] = await Promise.all([
      sluice("payments", eth.channelId, "--datadir", datadirB),
      sluice("payments", eth.channelId, "--datadir", datadirB, "--json"),
    ]);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include("0.25 ETH");
    expect(listed.stdout.toLowerCase()).to.include(keccakText("order-123").slice(0, 10));
    expect(json<{ ref: string }[]>(listedJson).map((p) => p.ref)).to.deep.equal([keccakText("order-123"), keccakText("order-124")]);

    // Before the close the chain knows no state of the channel: the proof is not confirmed yet.
    const early = json<{ verifiedOnChain: boolean }>(await sluice("prove", eth.channelId, "0", "--datadir", datadirA, "--json"));
    expect(early.verifiedOnChain).to.equal(false);

    const closed = await sluice("close", eth.channelId, "--datadir", datadirB);
    expect(closed.code, closed.stderr).to.equal(0);
    expect(closed.stdout.toLowerCase()).to.match(/0x[0-9a-f]{64}/);
    expect((await cluster.driver.channelStatus(eth.channelId)).mode).to.equal(ChannelMode.Concluded);

    const [proofText, proofJson] = await Promise.all([
      sluice("prove", eth.channelId, "#0", "--datadir", datadirA),
      sluice("prove", eth.channelId, "0", "--datadir", datadirB, "--json"),
    ]);
    expect(proofText.code, proofText.stderr).to.equal(0);
    expect(proofText.stdout.toLowerCase()).to.include(keccakText("order-123").toLowerCase().slice(0, 10));
    const proof = json<{
      payment: { channelId: Hex; seq: string; payer: number; amount: string; ref: Hex };
      proof: Hex[];
      root: Hex;
      stateVersion: string;
      verifiedOnChain: boolean;
    }>(proofJson);
    expect(proof.verifiedOnChain).to.equal(true);
    // Checked again here, straight against the contract, with the final state rebuilt from the view.
    const view = await bob.process.api.channel(eth.channelId);
    expect(view.status).to.equal("closed");
    const state = {
      channelId: eth.channelId,
      version: BigInt(proof.stateVersion),
      transferred: view.transferred,
      locked: [0n, 0n] as [bigint, bigint],
      locksRoot: ZERO_HASH,
      paymentsRoot: proof.root,
      isFinal: true,
    };
    const payment = { channelId: eth.channelId, seq: 0n, payer: 0 as const, amount: ETHER / 4n, ref: keccakText("order-123") as Hex };
    expect(await cluster.driver.verifyPayment(eth.channelId, state, payment, proof.proof)).to.equal(true);
    expect(await cluster.driver.verifyPayment(eth.channelId, state, { ...payment, amount: ETHER / 2n }, proof.proof)).to.equal(false);
  });

  it("says what is wrong: unknown channel, wrong unit, no node running", async function () {
    const unknown = hexlify(randomBytes(32));
    const [noChannel, noChannelJson, wrongUnit, wrongUnitUsdc, tooPrecise, noNode, noNodeJson] = await Promise.all([
      sluice("pay", unknown, "1 ETH", "--ref", "x", "--datadir", datadirA),
      sluice("channel", unknown, "--datadir", datadirA, "--json"),
      sluice("pay", usdc.channelId, "5 ETH", "--ref", "x", "--datadir", datadirA),
      sluice("pay", usdc.channelId, "5", "DAI", "--ref", "x", "--datadir", datadirA),
      sluice("pay", usdc.channelId, "0.0000001 USDC", "--ref", "x", "--datadir", datadirA),
      sluice("status", "--datadir", empty),
      sluice("channels", "--datadir", empty, "--json"),
    ]);
    expect(noChannel.code).to.equal(1);
    expect(noChannel.stderr).to.include(`no channel ${unknown}`);
    expect(noChannel.stderr).to.match(/`sluice channels` lists this node's channels/);
    expect(noChannelJson.code).to.equal(1);
    expect(failure(noChannelJson).error).to.deep.include({ code: "NOT_FOUND" });

    expect(wrongUnit.code).to.equal(2);
    expect(wrongUnit.stderr).to.include("the unit ETH doesn't match the asset: amounts here are in USDC");
    expect(wrongUnitUsdc.code).to.equal(2);
    expect(wrongUnitUsdc.stderr).to.include("the unit DAI doesn't match the asset");
    expect(tooPrecise.code).to.equal(2);
    expect(tooPrecise.stderr).to.include("USDC has 6 decimals");

    expect(noNode.code).to.equal(1);
    expect(noNode.stderr).to.include(`no node is running in ${empty}`);
    expect(noNode.stderr).to.include("sluice node start");
    expect(noNodeJson.code).to.equal(1);
    expect(JSON.parse(noNodeJson.stdout)).to.deep.equal({
      error: { code: "NODE_NOT_RUNNING", message: failure(noNodeJson).error.message },
    });

    // Nothing was paid by the refused commands.
    expect(await alice.process.api.payments(usdc.channelId, {})).to.have.length(1);

    // A crashed node leaves its api.json behind: the CLI finds nobody answering there.
    await bob.process.kill();
    const crashed = await sluice("status", "--datadir", datadirB);
    expect(crashed.code).to.equal(1);
    expect(crashed.stderr).to.match(new RegExp(`no node is running in ${datadirB} \\(nothing answers at http://127\\.0\\.0\\.1:\\d+\\)`));
  });
});
