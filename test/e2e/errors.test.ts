/**
 * End to end, issue 14 points 6 and 1 as a new operator ran them: the errors of `sluice open`,
 * `deposit`, `pay` and `cash-out` against running nodes say what is wrong in human amounts and
 * plain words, with a stable code, and change nothing: a wrong `--asset`, an open or a deposit the
 * wallet can't afford, an overpayment, a cash-out above the balance, and `open` to a connected peer
 * at another URL.
 */
import { expect } from "chai";
import { Wallet } from "ethers";
import type { ChannelView } from "../../src/node/api/types";
import { ETH } from "../../src/types";
import { sluice, type Run } from "./helpers/cli";
import { type Cluster, type ClusterNode, ETHER, openFunded, startCluster, withTwoNodes } from "./helpers/cluster";

/** The `--json` error of a command that failed. */
function failure(run: Run): { code: string; message: string; details?: Record<string, unknown> } {
  expect(run.code, run.stdout).to.equal(1);
  return (JSON.parse(run.stdout) as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
}

describe("e2e: errors in human amounts and plain words", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let channel: ChannelView;
  let datadirA: string;
  let datadirB: string;

  /** What both nodes hold: every channel with its deposits and transfers. */
  async function snapshot(): Promise<unknown> {
    const views = await Promise.all([alice, bob].map((n) => n.process.api.channels()));
    return views.map((list) => list.map((c) => [c.channelId, c.status, c.deposits, c.transferred, c.withdrawn]));
  }

  withTwoNodes({ token: true }, async (nodes) => {
    ({ cluster, alice, bob } = nodes);
    channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    datadirA = alice.process.options.datadir;
    datadirB = bob.process.options.datadir;
  });

  it("open with a wrong --asset: NOT_A_TOKEN, naming the address; nothing changes", async function () {
    const before = await snapshot();
    const nowhere = Wallet.createRandom().address;
    const [text, json] = await Promise.all([
      sluice("open", bob.address, bob.peerUrl, "1", "--asset", nowhere, "--datadir", datadirA),
      sluice("open", bob.address, bob.peerUrl, "1", "--asset", cluster.driver.address, "--datadir", datadirA, "--json"),
    ]);
    expect(text.code).to.equal(1);
    expect(text.stderr).to.contain(`sluice: ${nowhere.toLowerCase()} is not an ERC-20 token on this chain: no contract is deployed there`);
    expect(text.stderr).to.contain("give the token's contract address with --asset, or leave out --asset for ETH");
    expect(text.stderr).to.not.contain("internal error");
    const error = failure(json);
    expect(error.code).to.equal("NOT_A_TOKEN");
    expect(error.message).to.contain("its contract does not answer symbol() and decimals()");
    expect(await snapshot()).to.deep.equal(before);
  });

  it("an open or a deposit the wallet can't afford: WALLET_BALANCE_TOO_LOW in the asset's amounts; nothing changes", async function () {
    const before = await snapshot();
    const wei = await cluster.chain.provider.getBalance(alice.address);
    const [eth, usdc, deposit, json] = await Promise.all([
      sluice("open", bob.address, bob.peerUrl, "100000 ETH", "--datadir", datadirA),
      sluice("open", bob.address, bob.peerUrl, "2000000.5 USDC", "--asset", cluster.tokenAddress, "--datadir", datadirA),
      sluice("deposit", channel.channelId, "100000", "--datadir", datadirB),
      sluice("open", bob.address, bob.peerUrl, "100000 ETH", "--datadir", datadirA, "--json"),
    ]);
    expect(eth.code).to.equal(1);
    expect(eth.stderr).to.match(/\nsluice: you have [\d,]+(\.\d+)? ETH in your wallet; opening with 100,000 ETH needs 100,000 ETH plus gas/);
    expect(usdc.code).to.equal(1);
    expect(usdc.stderr).to.contain("sluice: you have 1,000,000 USDC in your wallet; opening with 2,000,000.5 USDC needs 2,000,000.5 USDC");
    expect(usdc.stderr).to.contain("add 1,000,000.5 USDC");
    expect(deposit.code).to.equal(1);
    expect(deposit.stderr).to.match(/\nsluice: you have [\d,]+(\.\d+)? ETH in your wallet; depositing 100,000 ETH needs 100,000 ETH plus gas/);
    const error = failure(json);
    expect(error.code).to.equal("WALLET_BALANCE_TOO_LOW");
    expect(error.details).to.deep.include({ amount: (100_000n * ETHER).toString(), wallet: alice.address.toLowerCase() });
    expect(BigInt(error.details!.balance as string)).to.be.at.most(wei);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("overpaying and cashing out too much: the amounts in ETH, 'you' instead of participant numbers; base units in details", async function () {
    const before = await snapshot();
    const [alicePays, bobPays, json, cashOut] = await Promise.all([
      sluice("pay", channel.channelId, "1000000 ETH", "--ref", "too-much", "--datadir", datadirA),
      sluice("pay", channel.channelId, "2.5", "--ref", "too-much", "--datadir", datadirB),
      sluice("pay", channel.channelId, "1000000 ETH", "--ref", "too-much", "--datadir", datadirA, "--json"),
      sluice("cash-out", channel.channelId, "5 ETH", "--datadir", datadirB),
    ]);
    expect(alicePays.code).to.equal(1);
    expect(alicePays.stderr).to.contain("sluice: can't pay 1,000,000 ETH: you can pay at most 1 ETH in this channel");
    expect(bobPays.code).to.equal(1);
    expect(bobPays.stderr).to.contain("sluice: can't pay 2.5 ETH: you can pay at most 1 ETH in this channel");
    const error = failure(json);
    expect(error.code).to.equal("INSUFFICIENT_FUNDS");
    expect(error.details).to.deep.include({ payer: 0, amount: (1_000_000n * ETHER).toString(), available: ETHER.toString() });
    expect(cashOut.code).to.equal(1);
    expect(cashOut.stderr).to.contain("sluice: can't cash out 5 ETH: you can cash out at most 1 ETH in this channel");
    for (const r of [alicePays, bobPays, cashOut]) expect(r.stderr).to.not.match(/participant \d|\d{19}/);
    expect(await snapshot()).to.deep.equal(before);
  });

  it("open to a connected peer at another URL is refused, naming both URLs; the channel keeps paying", async function () {
    const before = await snapshot();
    const port = Number(new URL(bob.peerUrl).port);
    const wrong = `ws://127.0.0.1:${port === 65535 ? port - 1 : port + 1}`;
    const r = await sluice("open", bob.address, wrong, "0.1 ETH", "--datadir", datadirA, "--json");
    const error = failure(r);
    expect(error.code).to.equal("OPEN_PEER_URL_MISMATCH");
    expect(error.message).to.contain(`${bob.address.toLowerCase()} is connected at ${bob.peerUrl}, not at ${wrong}`);
    expect(await snapshot()).to.deep.equal(before);
    await alice.process.api.pay(channel.channelId, 7n, { memo: "still-works" });
    expect((await bob.process.api.channel(channel.channelId)).transferred).to.deep.equal([7n, 0n]);
  });
});

describe("e2e: errors when the chain is gone", function () {
  this.timeout(120_000);
  let cluster: Cluster;

  after(async function () {
    await cluster?.stop();
  });

  it("deposit and close say the chain does not answer (CHAIN_UNREACHABLE), not 'internal error'", async function () {
    cluster = await startCluster();
    const [alice, bob] = await Promise.all([cluster.startNode("alice", 1), cluster.startNode("bob", 2)]);
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    await cluster.chain.stop();
    const datadir = alice.process.options.datadir;
    const [deposit, close] = await Promise.all([
      sluice("deposit", channel.channelId, "1", "--datadir", datadir, "--json"),
      sluice("close", channel.channelId, "--datadir", datadir),
    ]);
    const error = failure(deposit);
    expect(error.code).to.equal("CHAIN_UNREACHABLE");
    expect(error.message).to.match(/^the node can't reach the chain \(connect ECONNREFUSED 127\.0\.0\.1:\d+\): is the chain's JSON-RPC node running\?/);
    expect(close.code).to.equal(1);
    expect(close.stderr).to.match(/\nsluice: the node can't reach the chain \(connect ECONNREFUSED [^)]+\): is the chain's JSON-RPC node running\?: once it answers again/);
  });
});
