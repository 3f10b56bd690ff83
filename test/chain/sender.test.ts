/**
 * The transaction sender on anvil with automine off (`evm_setAutomine false`; blocks come from
 * `anvil_mine`), so a transaction stays pending as long as the test wants: replacement of a stuck
 * transaction (same nonce, fees +12.5 %, mined once), the fee cap (refused above it, bumps stop
 * at it), a dispute answer bumped to the cap near its deadline (and mined before it), and the
 * journal across a restart (still pending, dropped, or mined while down: never sent twice, no gap).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { hexlify, type HDNodeWallet, type TransactionResponse } from "ethers";
import {
  deployAdjudicator,
  FeeCapExceededError,
  startLocalNode,
  TxSender,
  AdjudicatorDriver,
  type LocalNode,
  type SenderOptions,
} from "../../src/chain";
import { ChannelStore } from "../../src/node/store";
import { STATE_TYPES, stateValue } from "../../src/typedData";
import { ChannelMode, ETH, type Address, type Hex, type Params, type State } from "../../src/types";

const ETHER = 10n ** 18n;
const GWEI = 10n ** 9n;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe("TxSender on anvil, automine off", function () {
  this.timeout(120_000);
  let chain: LocalNode;
  let dir: string;
  let store: ChannelStore;
  let alice: HDNodeWallet;
  let bob: HDNodeWallet;
  let adjudicator: Address;

  before(async function () {
    chain = await startLocalNode({ kind: "anvil" });
    [alice, bob] = [chain.wallet(1), chain.wallet(2)];
    adjudicator = (await deployAdjudicator(chain.wallet(0))).address;
    dir = mkdtempSync(path.join(tmpdir(), "sluice-sender-"));
  });

  beforeEach(async function () {
    store = ChannelStore.open(path.join(dir, `${randomBytes(4).toString("hex")}.sqlite`));
    await automine(false);
  });

  afterEach(function () {
    store.close();
  });

  after(async function () {
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const automine = (on: boolean) => chain.provider.send("evm_setAutomine", [on]);
  const mine = (blocks = 1) => chain.provider.send("anvil_mine", [blocks]);

  function senderOf(wallet: HDNodeWallet, options: SenderOptions = {}): { sender: TxSender; driver: AdjudicatorDriver } {
    const sender = new TxSender(wallet, { journal: store.transactions, pollMs: 50, replaceAfterMs: 60_000, ...options });
    return { sender, driver: new AdjudicatorDriver(adjudicator, wallet, sender) };
  }

  function params(challengePeriod = 600n): Params {
    return {
      participants: [alice.address as Address, bob.address as Address],
      payees: [alice.address as Address, bob.address as Address],
      asset: ETH,
      challengePeriod,
      nonce: BigInt(hexlify(randomBytes(8))),
    };
  }

  /** The transactions `wallet` has in blocks `from`..latest. */
  async function minedFrom(wallet: HDNodeWallet, from: number): Promise<TransactionResponse[]> {
    const head = await chain.provider.getBlockNumber();
    const found: TransactionResponse[] = [];
    for (let n = from; n <= head; n++) {
      const block = await chain.provider.getBlock(n, true);
      found.push(...(block?.prefetchedTransactions ?? []).filter((tx) => tx.from.toLowerCase() === wallet.address.toLowerCase()));
    }
    return found;
  }

  async function market(): Promise<{ base: bigint; tip: bigint }> {
    const [block, fees] = await Promise.all([chain.provider.getBlock("latest"), chain.provider.getFeeData()]);
    return { base: block!.baseFeePerGas!, tip: fees.maxPriorityFeePerGas! };
  }

  async function signed(p: Params, version: bigint): Promise<{ state: State; sigs: [Hex, Hex] }> {
    const domain = await new AdjudicatorDriver(adjudicator, chain.provider).domain();
    const state: State = { ...openingStateOf(p), version, transferred: [0n, version] };
    const sign = (w: HDNodeWallet) => w.signTypedData(domain, STATE_TYPES, stateValue(state)) as Promise<Hex>;
    return { state, sigs: [await sign(alice), await sign(bob)] };
  }

  function openingStateOf(p: Params): State {
    const id = new AdjudicatorDriver(adjudicator, chain.provider).channelId(p);
    return { channelId: id, version: 0n, transferred: [0n, 0n], locked: [0n, 0n], locksRoot: `0x${"00".repeat(32)}`, paymentsRoot: `0x${"00".repeat(32)}`, isFinal: false };
  }

  it("replaces a transaction not mined in time with the same nonce and fees at least 12.5 % higher; one of them is mined, once", async function () {
    const { driver } = senderOf(alice, { replaceAfterMs: 300 });
    const p = params();
    const from = (await chain.provider.getBlockNumber()) + 1;
    const nonce = await chain.provider.getTransactionCount(alice.address, "latest");
    const deposit = driver.deposit(p, 0, ETHER);
    await waitFor(() => (store.transactions.pending(alice.address as Address)[0]?.hashes.length ?? 0) >= 3, "two replacements");
    const [pending] = store.transactions.pending(alice.address as Address);
    expect(pending.nonce).to.equal(BigInt(nonce));
    const attempts = await Promise.all(pending.hashes.map((h) => chain.provider.getTransaction(h)));
    const sent = attempts.filter((tx): tx is TransactionResponse => tx !== null);
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i].nonce, "same nonce").to.equal(nonce);
      expect(sent[i].maxFeePerGas! * 8n, "max fee +12.5 %").to.be.gte(sent[i - 1].maxFeePerGas! * 9n);
      expect(sent[i].maxPriorityFeePerGas! * 8n, "tip +12.5 %").to.be.gte(sent[i - 1].maxPriorityFeePerGas! * 9n);
    }
    await mine();
    const result = await deposit;
    expect(pending.hashes, "the mined one is an attempt of it").to.include(result.hash);
    await mine(2);
    const mined = await minedFrom(alice, from);
    expect(mined.map((tx) => tx.nonce)).to.deep.equal([nonce]);
    expect((await driver.channel(driver.channelId(p))).deposits[0], "deposited once").to.equal(ETHER);
    expect(store.transactions.pending(alice.address as Address), "journal emptied once mined").to.deep.equal([]);
  });

  it("refuses to send when the chain asks more than the cap, naming the fee; nothing is sent or kept", async function () {
    const { base, tip } = await market();
    const cap = (base + tip) / 2n;
    const { driver } = senderOf(alice, { maxFeeGwei: Number(cap) / 1e9 });
    const nonce = await chain.provider.getTransactionCount(alice.address, "pending");
    const error = await driver.deposit(params(), 0, ETHER).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(FeeCapExceededError);
    expect((error as FeeCapExceededError).fee).to.equal(base + tip);
    expect((error as FeeCapExceededError).cap).to.equal(cap);
    expect((error as Error).message).to.match(/needs a fee of [0-9.]+ gwei per gas, above the cap of [0-9.]+ gwei/);
    expect(await chain.provider.getTransactionCount(alice.address, "pending")).to.equal(nonce);
    expect(store.transactions.pending(alice.address as Address)).to.deep.equal([]);
  });

  it("bumps a stuck transaction up to the cap and no higher", async function () {
    const { base, tip } = await market();
    // Room for two bumps of 12.5 % (x1.27) but not a third (x1.42).
    const cap = ((2n * base + tip) * 13n) / 10n;
    const { driver, sender } = senderOf(alice, { replaceAfterMs: 150, maxFeeGwei: Number(cap) / 1e9 });
    expect(sender.cap).to.equal(cap);
    const deposit = driver.deposit(params(), 0, ETHER);
    await waitFor(() => (store.transactions.pending(alice.address as Address)[0]?.hashes.length ?? 0) >= 3, "two replacements");
    await sleep(1_500); // ten more replacement periods: no further attempt fits under the cap
    const [pending] = store.transactions.pending(alice.address as Address);
    expect(pending.hashes).to.have.length(3);
    expect(pending.maxFeePerGas).to.be.lte(cap);
    const last = await chain.provider.getTransaction(pending.hashes[2]);
    expect(last!.maxFeePerGas).to.be.lte(cap);
    await mine();
    expect((await deposit).hash).to.equal(pending.hashes[2]);
  });

  it("bumps a refutation straight to the cap when less than a quarter of the challenge period is left, and it lands before the deadline", async function () {
    const period = 400n;
    const p = params(period);
    const id = openingStateOf(p).channelId;
    const bobs = senderOf(bob);
    const alices = senderOf(alice, { maxFeeGwei: 100 });
    const stale = await signed(p, 1n);
    const newest = await signed(p, 2n);
    await automine(true);
    await bobs.driver.deposit(p, 1, ETHER);
    const challenge = await bobs.driver.challenge(p, stale);
    await automine(false);
    const refutation = alices.driver.challenge(p, newest);
    await waitFor(() => store.transactions.pending(alice.address as Address).length === 1, "the refutation sent");
    const first = store.transactions.pending(alice.address as Address)[0];
    expect(first.maxFeePerGas, "an ordinary fee at first").to.be.lt(100n * GWEI);
    expect(first.deadline).to.deep.equal({ at: challenge.deadline, period });
    // Blocks whose base fee is above the refutation's max fee: it stays out while the deadline nears.
    await chain.provider.send("evm_increaseTime", [Number(period) - 60]);
    await chain.provider.send("anvil_setNextBlockBaseFeePerGas", [`0x${(first.maxFeePerGas + 1n).toString(16)}`]);
    await mine();
    expect((await bobs.driver.channel(id)).version, "not mined in the expensive block").to.equal(1n);
    await waitFor(async () => {
      const last = store.transactions.pending(alice.address as Address)[0]?.hashes.at(-1);
      return last !== undefined && (await chain.provider.getTransaction(last))?.maxFeePerGas === 100n * GWEI;
    }, "the bump to the cap, broadcast");
    await mine();
    const result = await refutation;
    const block = await chain.provider.getBlock(result.blockNumber);
    expect(BigInt(block!.timestamp)).to.be.lt(challenge.deadline);
    expect(result.version).to.equal(2n);
    const status = await bobs.driver.channel(id);
    expect([status.mode, status.version]).to.deep.equal([ChannelMode.Challenged, 2n]);
    expect((await chain.provider.getTransaction(result.hash))!.maxFeePerGas).to.equal(100n * GWEI);
  });

  for (const whileDown of ["still pending", "dropped from the pool", "mined"] as const) {
    it(`after a restart with a transaction ${whileDown}: it is mined once with its nonce, and the next takes the nonce after it`, async function () {
      const p = params();
      const from = (await chain.provider.getBlockNumber()) + 1;
      const nonce = await chain.provider.getTransactionCount(alice.address, "latest");
      const before = senderOf(alice);
      const lost = before.driver.deposit(p, 0, ETHER).catch((error: unknown) => error);
      await waitFor(() => store.transactions.pending(alice.address as Address)[0]?.hashes.length === 1, "the deposit sent");
      before.sender.close(); // the process ends; the journal stays
      expect(await lost).to.be.instanceOf(Error);
      const [journaled] = store.transactions.pending(alice.address as Address);
      if (whileDown === "dropped from the pool") {
        await chain.provider.send("anvil_dropAllTransactions", []);
        expect(await chain.provider.getTransaction(journaled.hashes[0]), "gone from the pool").to.equal(null);
      }
      if (whileDown === "mined") await mine();

      const after = senderOf(alice);
      const resumed = after.sender.resume();
      let done = false;
      const next = after.driver.deposit(p, 0, 2n * ETHER).finally(() => {
        done = true;
      });
      for (let i = 0; i < 100 && !done; i++) {
        await mine();
        await sleep(100);
      }
      await resumed;
      await next;
      const mined = await minedFrom(alice, from);
      expect(mined.map((tx) => tx.nonce), "each nonce once, none skipped").to.deep.equal([nonce, nonce + 1]);
      expect(mined[0].hash, "the journaled transaction itself, same contents").to.equal(journaled.hashes[0]);
      expect((await after.driver.channel(after.driver.channelId(p))).deposits[0], "both deposits, each once").to.equal(3n * ETHER);
      expect(store.transactions.pending(alice.address as Address)).to.deep.equal([]);
    });
  }
});
