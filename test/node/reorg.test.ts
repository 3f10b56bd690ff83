/**
 * The watcher across reorgs and confirmations, on the Hardhat network (`evm_snapshot` /
 * `evm_revert` then new blocks: another branch at the same heights), and the store's block hashes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { confirmedTag, defaultConfirmations, deployAdjudicator, type AdjudicatorDriver, type AdjudicatorEvent } from "../../src/chain";
import { ChannelStore, InvalidRecordError } from "../../src/node/store";
import { ChainWatcher, type WatcherHost } from "../../src/node/watcher";
import { ETH, openingState, type Address, type Hex, type Params, type SignedState } from "../../src/types";

const ETHER = 10n ** 18n;
const HASH = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

describe("reorgs and confirmations", function () {
  let dir: string;
  let stores: ChannelStore[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-reorg-"));
  });

  afterEach(function () {
    for (const store of stores) store.close();
    stores = [];
    rmSync(dir, { recursive: true, force: true });
  });

  const open = () => {
    const store = ChannelStore.open(path.join(dir, "store.sqlite"));
    stores.push(store);
    return store;
  };

  async function fixture() {
    const [deployer, alice, bob] = await ethers.getSigners();
    const deployed = await deployAdjudicator(deployer);
    const participants: [Address, Address] = [alice.address as Address, bob.address as Address];
    const params: Params = { participants, payees: participants, asset: ETH, challengePeriod: 600n, nonce: 7n };
    const driver = deployed.connect(alice);
    await driver.deposit(params, 0, ETHER);
    return { driver, params, id: deployed.channelId(params), alice: participants[0] };
  }

  /** A watcher of Alice's channel, recording what it hands over, its reorg reports and errors. */
  function watch(driver: AdjudicatorDriver, store: ChannelStore, owner: Address, params: Params, confirmations = 1) {
    const id = driver.channelId(params);
    const opening: SignedState = { state: openingState(id), sigs: ["0x", "0x"] };
    const seen: AdjudicatorEvent[] = [];
    const reorgs: [number, number][] = [];
    const errors: [unknown, string][] = [];
    const host: WatcherHost = {
      lookup: (channelId: Hex) => (channelId.toLowerCase() === id.toLowerCase() ? { params, latest: opening } : undefined),
      onEvent: (event) => seen.push(event),
      onError: (error, what) => errors.push([error, what]),
      onReorg: (fork, depth) => {
        reorgs.push([fork, depth]);
        return Promise.resolve();
      },
    };
    const watcher = new ChainWatcher(driver, store, host, { owner, pollMs: 60_000, confirmations });
    return { watcher, seen, reorgs, errors };
  }

  const deposits = (events: AdjudicatorEvent[]) => events.flatMap((e) => (e.name === "Deposited" ? [e.deposit] : []));

  it("a reorg is found after a restart from the stored hashes: the cursor goes back to the fork, the new branch is read", async function () {
    const { driver, params, id, alice } = await loadFixture(fixture);
    const first = watch(driver, open(), alice, params);
    await first.watcher.poll();
    expect(deposits(first.seen)).to.deep.equal([ETHER]);
    const fork = await ethers.provider.getBlockNumber();
    const snapshot = (await network.provider.send("evm_snapshot", [])) as string;
    await driver.deposit(params, 0, ETHER);
    await first.watcher.poll();
    expect(deposits(first.seen)).to.deep.equal([ETHER, 2n * ETHER]);
    stores.pop()!.close();

    // Another branch while the node is down: the top-up is gone, two empty blocks in its place.
    await network.provider.send("evm_revert", [snapshot]);
    await network.provider.send("hardhat_mine", ["0x2"]);
    const store = open();
    expect(store.getCursor("adjudicator")).to.equal(BigInt(fork + 1));
    const second = watch(driver, store, alice, params);
    await second.watcher.poll();
    expect(second.errors).to.deep.equal([]);
    expect(second.reorgs).to.deep.equal([[fork, 1]]);
    expect(deposits(second.seen), "the old branch's top-up is not handed over again").to.deep.equal([]);
    expect(store.getCursor("adjudicator")).to.equal(BigInt(fork + 2));
    const kept = store.blockHashes("adjudicator");
    expect(kept[0]).to.deep.equal({ number: fork + 2, hash: (await ethers.provider.getBlock(fork + 2))!.hash!.toLowerCase() });
    expect((await driver.channelStatus(id, confirmedTag(fork + 2, 1))).deposits).to.deep.equal([ETHER, 0n]);

    // The top-up mined again on the new branch is handed over.
    await driver.deposit(params, 0, ETHER);
    await second.watcher.poll();
    expect(deposits(second.seen)).to.deep.equal([2n * ETHER]);
    expect(second.reorgs).to.have.length(1);
  });

  it("with 3 confirmations a deposit is pending until 3 blocks deep, then handed over once", async function () {
    const { driver, params, id, alice } = await loadFixture(fixture);
    const { watcher, seen } = watch(driver, open(), alice, params, 3);
    await watcher.poll();
    await network.provider.send("hardhat_mine", ["0x2"]);
    await watcher.poll();
    expect(deposits(seen)).to.deep.equal([ETHER]);

    await driver.deposit(params, 0, ETHER);
    await watcher.poll();
    expect(deposits(seen)).to.deep.equal([ETHER]);
    expect(watcher.pendingDeposits(id)).to.deep.equal([2n * ETHER, 0n]);
    const head = await ethers.provider.getBlockNumber();
    expect((await driver.channelStatus(id, confirmedTag(head, 3))).deposits, "the chain at the confirmed block").to.deep.equal([ETHER, 0n]);

    await network.provider.send("hardhat_mine", ["0x1"]);
    await watcher.poll();
    expect(deposits(seen)).to.deep.equal([ETHER]);
    await network.provider.send("hardhat_mine", ["0x1"]);
    await watcher.poll();
    await watcher.poll();
    expect(deposits(seen), "handed over once, at 3 blocks").to.deep.equal([ETHER, 2n * ETHER]);
    expect(watcher.pendingDeposits(id)).to.equal(undefined);
  });

  it("a pending deposit reorged out disappears from the pending ones", async function () {
    const { driver, params, id, alice } = await loadFixture(fixture);
    const { watcher, reorgs } = watch(driver, open(), alice, params, 3);
    await network.provider.send("hardhat_mine", ["0x3"]);
    await watcher.poll();
    expect(watcher.pendingDeposits(id), "the first deposit, 3 blocks deep").to.equal(undefined);
    const snapshot = (await network.provider.send("evm_snapshot", [])) as string;
    await driver.deposit(params, 0, ETHER);
    await watcher.poll();
    expect(watcher.pendingDeposits(id)).to.deep.equal([2n * ETHER, 0n]);
    await network.provider.send("evm_revert", [snapshot]);
    await network.provider.send("hardhat_mine", ["0x1"]);
    await watcher.poll();
    expect(reorgs).to.have.length(1);
    expect(watcher.pendingDeposits(id)).to.equal(undefined);
  });

  describe("defaults", function () {
    it("1 confirmation on development chains, 12 elsewhere; the confirmed block", function () {
      expect(defaultConfirmations(31337n)).to.equal(1);
      expect(defaultConfirmations(1337n)).to.equal(1);
      expect(defaultConfirmations(1n)).to.equal(12);
      expect(defaultConfirmations(8453n)).to.equal(12);
      expect(confirmedTag(100, 1)).to.equal("latest");
      expect(confirmedTag(100, 12)).to.equal(89);
      expect(confirmedTag(5, 12)).to.equal(0);
    });
  });

  describe("the store's block hashes", function () {
    it("kept with the cursor in one write, the highest `keep` only; a rollback forgets those above the fork", function () {
      const store = open();
      store.advanceCursor("w", 5, [1, 2, 3, 4, 5, 6].map((n) => ({ number: n, hash: HASH(n) })), 4);
      expect(store.getCursor("w")).to.equal(5n);
      expect(store.blockHashes("w").map((b) => b.number)).to.deep.equal([6, 5, 4, 3]);
      expect(store.blockHashes("other")).to.deep.equal([]);
      store.rollBackCursor("w", 4);
      expect(store.getCursor("w")).to.equal(4n);
      expect(store.blockHashes("w")).to.deep.equal([
        { number: 4, hash: HASH(4) },
        { number: 3, hash: HASH(3) },
      ]);
      // A fork above the cursor leaves the cursor where it is.
      store.rollBackCursor("w", 9);
      expect(store.getCursor("w")).to.equal(4n);
    });

    it("refuses a bad block number or hash and writes nothing", function () {
      const store = open();
      store.advanceCursor("w", 1, [{ number: 1, hash: HASH(1) }], 64);
      expect(() => store.advanceCursor("w", 2, [{ number: 2, hash: "0x12" }], 64)).to.throw(InvalidRecordError, /hashes\[0\]\.hash/);
      expect(() => store.advanceCursor("w", -1, [], 64)).to.throw(InvalidRecordError, /block/);
      expect(() => store.rollBackCursor("w", 1.5)).to.throw(InvalidRecordError, /fork/);
      expect(store.getCursor("w")).to.equal(1n);
      expect(store.blockHashes("w")).to.deep.equal([{ number: 1, hash: HASH(1) }]);
    });
  });
});
