/**
 * `open` in stages (reach the peer, prove its address, the deposit), each with a time limit and a
 * typed error naming it; `abandonChannel` for a channel whose open failed before funding.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers, network } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { InvalidArgumentError, NotATokenError, WalletBalanceError } from "../../src/errors";
import { ChannelStatusError, IllegalTransitionError, SluiceNode, type NodeOptions } from "../../src/node/node";
import { ChannelFundedError, OpenDepositTimeoutError, OpenPeerRejectedError, OpenPeerUnreachableError, OpenPeerUrlMismatchError } from "../../src/node/open";
import { ETH, type Address, type Hex } from "../../src/types";

function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await sleep(25);
  }
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  try {
    await work;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("SluiceNode open stages and abandon", function () {
  let dir: string;
  let nodes: SluiceNode[] = [];
  /** What each node reported through onError, by node index. */
  let errors: Map<number, string[]>;

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-open-"));
    errors = new Map();
  });

  afterEach(async function () {
    await network.provider.send("evm_setAutomine", [true]);
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function startNodes(count: number, extra: Partial<NodeOptions> = {}): Promise<SluiceNode[]> {
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const made: SluiceNode[] = [];
    for (let i = 1; i <= count; i++) {
      const log: string[] = [];
      errors.set(i, log);
      const node = new SluiceNode({
        privateKey: devKey(i),
        provider: ethers.provider,
        adjudicator: driver.address,
        storePath: path.join(dir, `node${i}`, "store.sqlite"),
        pollMs: 50,
        challengePeriod: 600n,
        onError: (_error, what) => log.push(what),
        ...extra,
      });
      nodes.push(node);
      await node.start();
      made.push(node);
    }
    return made;
  }

  const dialers = (node: SluiceNode) => (node as unknown as { peers: { dialers: Map<string, unknown> } }).peers.dialers;

  it("fails at 'reaching the peer' within the time limit when nothing answers, and stops dialling", async function () {
    // The request's limit wins over the node's.
    const [alice, bob] = await startNodes(2, { openTimeouts: { reachMs: 60_000 } });
    const url = `ws://127.0.0.1:${await deadPort()}`;
    const started = Date.now();
    const error = await rejection(alice.openChannel({ peer: bob.address, peerUrl: url, asset: ETH, deposit: 1n, reachTimeoutMs: 1_500 }));
    const took = Date.now() - started;
    expect(error).to.be.instanceOf(OpenPeerUnreachableError);
    expect((error as OpenPeerUnreachableError).stage).to.equal("reach");
    expect((error as OpenPeerUnreachableError).code).to.equal("OPEN_PEER_UNREACHABLE");
    expect((error as Error).message).to.contain("reaching the peer").and.contain(url);
    expect(took).to.be.within(1_400, 4_000);
    expect(await alice.channels()).to.deep.equal([]);
    expect(dialers(alice).size).to.equal(0);
    // No attempt after the failure.
    const attempts = errors.get(1)!.filter((w) => w.startsWith("dialing")).length;
    await sleep(1_500);
    expect(errors.get(1)!.filter((w) => w.startsWith("dialing")).length).to.equal(attempts);
  });

  it("fails fast at 'proving the peer's address' when another node answers, and leaves the existing channel working", async function () {
    const [alice, bob, carol] = await startNodes(3);
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    await alice.pay(channelId, 5n, ethers.id("before") as Hex);

    const started = Date.now();
    const error = await rejection(alice.openChannel({ peer: carol.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 1n }));
    expect(error).to.be.instanceOf(OpenPeerRejectedError);
    expect((error as OpenPeerRejectedError).stage).to.equal("prove");
    expect((error as OpenPeerRejectedError).code).to.equal("OPEN_PEER_REJECTED");
    expect((error as Error).message).to.contain("proving the peer's address").and.contain(carol.address);
    expect(Date.now() - started).to.be.below(3_000);
    expect([...dialers(alice).keys()]).to.not.include(carol.address.toLowerCase());

    // Long enough for the redials a refusal used to cause (1 s, then 2 s).
    await sleep(1_500);
    expect(errors.get(1)!.filter((w) => w.includes(carol.address))).to.have.length.at.most(1);
    await alice.pay(channelId, 1n, ethers.id("after, from alice") as Hex);
    await bob.pay(channelId, 2n, ethers.id("after, from bob") as Hex);
    expect((await alice.channel(channelId)).transferred).to.deep.equal([6n, 2n]);
    expect(await alice.channels()).to.have.length(1);
  });

  it("fails at 'waiting for the deposit' when the deposit is not confirmed in time; it counts once it lands", async function () {
    const [alice, bob] = await startNodes(2, { openTimeouts: { depositMs: 1_000 } });
    await network.provider.send("evm_setAutomine", [false]);
    const error = await rejection(alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 7n }));
    expect(error).to.be.instanceOf(OpenDepositTimeoutError);
    expect((error as OpenDepositTimeoutError).stage).to.equal("deposit");
    const [channel] = await alice.channels();
    expect(channel.status).to.equal("opening");
    await network.provider.send("evm_setAutomine", [true]);
    await network.provider.send("evm_mine", []);
    await waitFor(async () => (await alice.channel(channel.channelId)).status === "open");
    expect((await alice.channel(channel.channelId)).deposits).to.deep.equal([7n, 0n]);
  });

  it("refuses an open or a deposit the wallet can't afford, and an asset that is no token, before anything is stored or sent", async function () {
    const [alice, bob] = await startNodes(2);
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 5n });
    const balance = await ethers.provider.getBalance(alice.address);
    const open = await rejection(alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: balance + 1n }));
    expect(open).to.be.instanceOf(WalletBalanceError);
    expect(open).to.deep.include({ code: "WALLET_BALANCE_TOO_LOW", amount: balance + 1n, balance, wallet: alice.address.toLowerCase(), asset: ETH });
    expect((open as Error).message).to.match(/^you have [\d,.]+ ETH in your wallet; opening with [\d,.]+ ETH needs/);
    const deposit = await rejection(alice.deposit(channelId, balance + 1n));
    expect(deposit).to.be.instanceOf(WalletBalanceError);
    expect((deposit as Error).message).to.contain("; depositing ");

    const noCode = ethers.Wallet.createRandom().address as Address;
    const notToken = await rejection(alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: noCode, deposit: 1n }));
    expect(notToken).to.be.instanceOf(NotATokenError);
    expect(notToken).to.deep.include({ code: "NOT_A_TOKEN", asset: noCode.toLowerCase(), reason: "no contract is deployed there" });
    const adjudicator = (await alice.info()).adjudicator;
    expect(await rejection(alice.asset(adjudicator))).to.deep.include({ reason: "its contract does not answer symbol() and decimals()" });

    await sleep(200);
    for (const node of [alice, bob]) {
      expect((await node.channels()).map((c) => [c.channelId, c.deposits])).to.deep.equal([[channelId, [5n, 0n]]]);
    }
  });

  it("refuses an open to a connected peer at another URL, at once; the same URL written otherwise is used", async function () {
    const [alice, bob] = await startNodes(2);
    await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 1n });
    const port = Number(new URL(bob.peerUrl).port);
    const wrong = `ws://127.0.0.1:${port + 1}`;
    const started = Date.now();
    const error = await rejection(alice.openChannel({ peer: bob.address, peerUrl: wrong, asset: ETH, deposit: 1n }));
    expect(Date.now() - started).to.be.below(1_000);
    expect(error).to.be.instanceOf(OpenPeerUrlMismatchError);
    expect(error).to.deep.include({ code: "OPEN_PEER_URL_MISMATCH", stage: "reach", peerUrl: wrong, connectedUrl: bob.peerUrl });
    expect(await alice.channels()).to.have.length(1);
    expect([...dialers(alice).keys()]).to.deep.equal([bob.address.toLowerCase()]);
    const again = await alice.openChannel({ peer: bob.address, peerUrl: `${bob.peerUrl}/`, asset: ETH, deposit: 1n });
    expect(again.status).to.equal("open");
  });

  it("refuses a challenge period above the adjudicator's maximum before the peer stores anything", async function () {
    const [alice, bob] = await startNodes(2);
    const error = await rejection(
      alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 1n, challengePeriod: 1_000n * 86_400n }),
    );
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.contain("365 days");
    await sleep(200);
    expect(await alice.channels()).to.deep.equal([]);
    expect(await bob.channels()).to.deep.equal([]);
  });

  it("abandons a channel whose open failed before funding, on both sides; refuses a funded one naming close and challenge", async function () {
    const [alice, bob] = await startNodes(2);
    // All the ETH the account holds passes the balance check, then leaves nothing for gas: the
    // deposit fails after both nodes stored the channel.
    const all = await ethers.provider.getBalance(alice.address);
    await rejection(alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: all }));
    const [stuck] = await alice.channels();
    expect(stuck.status).to.equal("opening");
    await waitFor(async () => (await bob.channels()).length === 1);

    const abandoned = await alice.abandonChannel(stuck.channelId);
    expect(abandoned.status).to.equal("abandoned");
    expect((await alice.channels()).map((c) => c.status)).to.deep.equal(["abandoned"]);
    expect((await bob.abandonChannel(stuck.channelId)).status).to.equal("abandoned");
    const refusedPay = await rejection(alice.pay(stuck.channelId, 1n, ethers.id("x") as Hex));
    expect(refusedPay).to.be.instanceOf(ChannelStatusError);
    // Again: nothing changes.
    expect((await alice.abandonChannel(stuck.channelId)).status).to.equal("abandoned");

    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 3n });
    const funded = await rejection(alice.abandonChannel(channelId));
    expect(funded).to.be.instanceOf(ChannelFundedError);
    expect((funded as Error).message).to.contain("sluice close").and.contain("sluice challenge");
    expect((await alice.channel(channelId)).status).to.equal("open");
    // Bob has not seen the funding yet or has: either way his copy can't be abandoned.
    expect(await rejection(bob.abandonChannel(channelId))).to.be.instanceOf(ChannelFundedError);
    expect((await bob.channel(channelId)).status).to.equal("open");

    await alice.close(channelId);
    expect(await rejection(alice.abandonChannel(channelId))).to.be.instanceOf(IllegalTransitionError);
  });
});
