/**
 * The chain watcher against the real adjudicator on the Hardhat network: what it hands over, its
 * cursor, the challenges it answers and settles, and how it goes on after a failure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { deployAdjudicator, increaseTime, type AdjudicatorDriver, type AdjudicatorEvent } from "../../src/chain";
import { ChannelStore } from "../../src/node/store";
import { ChainWatcher, type WatcherHost } from "../../src/node/watcher";
import { ChannelMode, ETH, openingState, type Address, type Hex, type Params, type SignedState } from "../../src/types";
import { Adjudicator__factory } from "../../typechain-types";
import { signBoth } from "../helpers/channel";

const ETHER = 10n ** 18n;
const PERIOD = 600n;

describe("ChainWatcher", function () {
  let dir: string;
  let stores: ChannelStore[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-watcher-"));
  });

  afterEach(function () {
    for (const store of stores) store.close();
    stores = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function fixture() {
    const [deployer, alice, bob] = await ethers.getSigners();
    const deployed = await deployAdjudicator(deployer);
    const adjudicator = Adjudicator__factory.connect(deployed.address, deployer);
    const participants: [Address, Address] = [alice.address as Address, bob.address as Address];
    const params: Params = { participants, payees: participants, asset: ETH, challengePeriod: PERIOD, nonce: 1n };
    const other: Params = { ...params, nonce: 2n };
    const asAlice = deployed.connect(alice);
    await asAlice.deposit(params, 0, ETHER);
    await deployed.connect(bob).deposit(params, 1, ETHER);
    await asAlice.deposit(other, 0, ETHER);
    /** A state of `params` at `version`, signed by both. */
    const signed = async (version: bigint, transferred: [bigint, bigint]): Promise<SignedState> => {
      const state = { ...openingState(deployed.channelId(params)), version, transferred };
      return { state, sigs: await signBoth(adjudicator, [alice, bob], state) };
    };
    return { driver: asAlice, asBob: deployed.connect(bob), params, other, id: deployed.channelId(params), otherId: deployed.channelId(other), signed, alice: participants[0] };
  }

  /** A watcher of Alice's over `params` (her latest state `latest`), recording what it hands over and reports. */
  function watch(driver: AdjudicatorDriver, owner: Address, params: Params, latest: () => SignedState, storeFile = "store.sqlite") {
    const store = ChannelStore.open(path.join(dir, storeFile));
    stores.push(store);
    const id = driver.channelId(params);
    const seen: AdjudicatorEvent[] = [];
    const errors: [unknown, string][] = [];
    const host: WatcherHost & { failOn?: (event: AdjudicatorEvent) => boolean } = {
      lookup: (channelId: Hex) => (channelId.toLowerCase() === id.toLowerCase() ? { params, latest: latest() } : undefined),
      onEvent(event) {
        if (host.failOn?.(event)) throw new Error(`handler failed on ${event.name}`);
        seen.push(event);
      },
      onError: (error, what) => errors.push([error, what]),
    };
    const watcher = new ChainWatcher(driver, store, host, { owner, pollMs: 60_000 });
    return { watcher, store, host, seen, errors };
  }

  const names = (events: AdjudicatorEvent[]) => events.map((e) => e.name);

  it("hands over its channels' events in order, not other channels', and resumes from its cursor in the store", async function () {
    const { driver, params, other, id, signed, alice } = await loadFixture(fixture);
    const opening = await signed(0n, [0n, 0n]);
    const first = watch(driver, alice, params, () => opening);
    await first.watcher.poll();
    expect(first.seen.map((e) => e.name === "Deposited" && [e.channelId, e.participant, e.deposit])).to.deep.equal([
      [id, 0, ETHER],
      [id, 1, ETHER],
    ]);
    expect(first.store.getCursor("adjudicator")).to.equal(BigInt(await ethers.provider.getBlockNumber()));
    expect(first.errors).to.deep.equal([]);

    // Restarted on the same store: nothing handed over twice; only what came after.
    first.store.close();
    stores = [];
    await driver.deposit(other, 0, 1n);
    await driver.deposit(params, 0, 5n);
    const again = watch(driver, alice, params, () => opening);
    await again.watcher.poll();
    expect(again.seen.map((e) => e.name === "Deposited" && [e.channelId, e.deposit])).to.deep.equal([[id, ETHER + 5n]]);
  });

  it("a handler that throws is reported with the event it failed on; the events after it and later rounds go on", async function () {
    const { driver, params, id, signed, alice } = await loadFixture(fixture);
    const opening = await signed(0n, [0n, 0n]);
    const { watcher, host, seen, errors, store } = watch(driver, alice, params, () => opening);
    host.failOn = (event) => event.name === "Deposited" && event.participant === 0;
    await watcher.poll();
    expect(seen.map((e) => e.name === "Deposited" && e.participant)).to.deep.equal([1]);
    expect(errors.map(([error, what]) => [(error as Error).message, what])).to.deep.equal([["handler failed on Deposited", `handling Deposited of ${id}`]]);
    const head = BigInt(await ethers.provider.getBlockNumber());
    expect(store.getCursor("adjudicator")).to.equal(head);

    // The failed event is not handed over again; the next round hands over what is new.
    await driver.deposit(params, 1, 7n);
    await watcher.poll();
    expect(seen.map((e) => e.name === "Deposited" && e.participant)).to.deep.equal([1, 1]);
    expect(errors).to.have.length(1);
  });

  it("a round whose chain read fails is reported and retried from the same block; the round's other steps still run", async function () {
    const { driver, params, signed, alice } = await loadFixture(fixture);
    const opening = await signed(0n, [0n, 0n]);
    const { watcher, host, seen, errors, store } = watch(driver, alice, params, () => opening);
    let rounds = 0;
    host.afterRound = () => {
      rounds++;
      return Promise.resolve();
    };
    const events = driver.events.bind(driver);
    driver.events = () => Promise.reject(new Error("RPC down"));
    try {
      await watcher.poll();
    } finally {
      driver.events = events;
    }
    expect(errors.map(([error, what]) => [(error as Error).message, what])).to.deep.equal([["RPC down", "reading events"]]);
    expect(rounds).to.equal(1);
    expect(store.getCursor("adjudicator")).to.equal(null);
    await watcher.poll();
    expect(names(seen)).to.deep.equal(["Deposited", "Deposited"]);
    expect(rounds).to.equal(2);
  });

  it("answers a challenge with an older state by its newer one, and a later challenge of it too (recheck after a restart)", async function () {
    const { driver, asBob, params, id, signed, alice } = await loadFixture(fixture);
    const stale = await signed(1n, [0n, 10n]);
    let latest = await signed(2n, [0n, 30n]);
    const { watcher, store, seen } = watch(driver, alice, params, () => latest);
    await watcher.poll();
    await asBob.challenge(params, stale);
    await watcher.poll();
    expect((await driver.channelStatus(id)).version).to.equal(2n);
    expect(names(seen).filter((n) => n === "Challenged")).to.have.length(1); // its own answer comes next round
    await watcher.poll();
    expect(names(seen).filter((n) => n === "Challenged")).to.have.length(2);

    // A challenge registered while the watcher did not follow (its cursor already past it): recheck answers it.
    const newer = await signed(3n, [0n, 40n]);
    await asBob.challenge(params, newer);
    store.setCursor("adjudicator", await ethers.provider.getBlockNumber());
    latest = await signed(4n, [0n, 50n]);
    await watcher.recheck(id);
    const status = await driver.channelStatus(id);
    expect([status.mode, status.version]).to.deep.equal([ChannelMode.Challenged, 4n]);
  });

  it("settles a challenge once its deadline has passed, on the registered state taken from its event", async function () {
    const { driver, params, id, signed, alice } = await loadFixture(fixture);
    const latest = await signed(2n, [0n, 30n]);
    const { watcher, seen, errors } = watch(driver, alice, params, () => latest);
    await driver.challenge(params, latest);
    await watcher.poll();
    expect((await driver.channelStatus(id)).mode).to.equal(ChannelMode.Challenged); // before the deadline: nothing
    await increaseTime(ethers.provider, PERIOD + 1n);
    await watcher.poll();
    expect((await driver.channelStatus(id)).mode).to.equal(ChannelMode.Concluded);
    await watcher.poll();
    const settled = seen.find((e) => e.name === "Settled");
    expect(settled?.name === "Settled" && [settled.version, settled.payouts]).to.deep.equal([2n, [ETHER + 30n, ETHER - 30n]]);
    expect(errors).to.deep.equal([]);
  });
});
