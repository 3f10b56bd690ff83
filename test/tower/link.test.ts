/**
 * A node and its tower over the real transport (nodes in one process, the embedded chain): the
 * node hands its countersigned states and shows what the tower acknowledged; the tower refuses a
 * bad state over the wire with its code; a restarted tower keeps its clients and states and gets
 * what is new once the client reconnects; with `every` N, a clean stop still hands the latest.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic, Wallet } from "ethers";
import { ethers } from "hardhat";
import { DEV_MNEMONIC, deployAdjudicator, freePort, type AdjudicatorDriver } from "../../src/chain";
import { SluiceNode, type NodeOptions } from "../../src/node/node";
import { ChannelStore } from "../../src/node/store";
import { RemoteError, connectPeer, keyIdentity } from "../../src/node/transport";
import { encodeTowerState } from "../../src/tower";
import { ChannelMode, ETH, type Address, type Hex } from "../../src/types";

function devKey(index: number): Hex {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("tower: a node's link to its tower", function () {
  this.timeout(60_000);
  let dir: string;
  let nodes: SluiceNode[] = [];
  let adjudicator: Address;
  let driver: AdjudicatorDriver;
  let towerPort: number;
  let towerUrl: string;

  beforeEach(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-tower-link-"));
    const [deployer] = await ethers.getSigners();
    driver = await deployAdjudicator(deployer);
    adjudicator = driver.address;
    towerPort = await freePort();
    towerUrl = `ws://127.0.0.1:${towerPort}`;
  });

  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(index: number, more: Partial<NodeOptions> = {}): Promise<SluiceNode> {
    const node = new SluiceNode({
      privateKey: devKey(index),
      provider: ethers.provider,
      adjudicator,
      storePath: path.join(dir, `node${index}`, "store.sqlite"),
      pollMs: 50,
      challengePeriod: 600n,
      ...more,
    });
    nodes.push(node);
    await node.start();
    return node;
  }

  const startTower = () => start(3, { tower: { listen: { host: "127.0.0.1", port: towerPort } } });

  async function channelOf(alice: SluiceNode, bob: SluiceNode): Promise<Hex> {
    const opened = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
    await bob.deposit(opened.channelId, 10n ** 18n);
    await waitFor(async () => (await alice.channel(opened.channelId)).deposits[1] === 10n ** 18n, "Alice to see Bob's deposit");
    return opened.channelId;
  }

  /** A tower, Alice and Bob (neither registered) and their channel with one payment of Alice's. */
  async function towerAndChannel(): Promise<{ tower: SluiceNode; alice: SluiceNode; bob: SluiceNode; id: Hex }> {
    const tower = await startTower();
    const alice = await start(1);
    const bob = await start(2);
    const id = await channelOf(alice, bob);
    await alice.pay(id, 5n, ethers.id("early") as Hex);
    return { tower, alice, bob, id };
  }

  /** Dials the tower with dev key `index`, as a client. */
  const dial = (index: number) => connectPeer<Record<string, never>>(towerUrl, { chainId: 31337n, adjudicator, identity: keyIdentity(devKey(index)), validators: {} });

  const acknowledged = async (node: SluiceNode, id: Hex) => (await node.info()).tower?.acknowledged.find((a) => a.channelId === id.toLowerCase())?.version;

  it("hands every countersigned state; the tower acknowledges and lists its client", async function () {
    const tower = await startTower();
    expect((await tower.info()).towerService).to.deep.equal({ url: towerUrl, clients: [] });
    const alice = await start(1, { towerClient: { url: towerUrl } });
    const bob = await start(2);
    const id = await channelOf(alice, bob);
    await Promise.all(Array.from({ length: 20 }, (_, i) => alice.pay(id, 1_000n + BigInt(i), ethers.id(`a${i}`) as Hex)));
    await bob.pay(id, 5n, ethers.id("b") as Hex);
    const latest = (await alice.channel(id)).version;
    await waitFor(async () => (await acknowledged(alice, id)) === latest, "the tower to acknowledge the latest state");

    const link = (await alice.info()).tower!;
    expect(link.url).to.equal(towerUrl);
    expect(link.connected).to.equal(true);
    expect(link.address).to.equal(tower.address.toLowerCase());
    const held = tower.store.tower.newest(id)!;
    expect(held.latest).to.deep.equal(alice.store.latest(id));
    const clients = (await tower.info()).towerService!.clients;
    expect(clients.map((c) => [c.address, c.connected, c.channels])).to.deep.equal([[alice.address.toLowerCase(), true, 1]]);
    // Bob has no tower: his status says nothing of one.
    expect((await bob.info()).tower).to.equal(undefined);
  });

  it("with the tower's address pinned, refuses a tower that proves another one", async function () {
    const tower = await startTower();
    const bob = await start(2);
    const alice = await start(1, { towerClient: { url: towerUrl, address: bob.address } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await alice.info()).tower).to.deep.equal({ url: towerUrl, connected: false, acknowledged: [] });
    expect((await tower.info()).towerService!.clients).to.deep.equal([]);
  });

  it("refuses over the wire a state of a channel the client is not in, or with a bad signature, with its code", async function () {
    const { tower, alice, id } = await towerAndChannel();
    const signed = alice.store.latest(id)!;
    const params = alice.store.getChannel(id)!.params;

    const mallory = await dial(5);
    try {
      await expect(mallory.request("tower.state", encodeTowerState({ params, signed }))).to.be.rejectedWith(RemoteError, /TOWER_NOT_YOUR_CHANNEL/);
      await expect(mallory.request("tower.state", { params: "nope" })).to.be.rejectedWith(RemoteError, /BAD_BODY/);
    } finally {
      await mallory.close();
    }
    const asBob = await dial(2);
    try {
      const forged = { state: { ...signed.state, transferred: [0n, 7n] as [bigint, bigint] }, sigs: signed.sigs };
      await expect(asBob.request("tower.state", encodeTowerState({ params, signed: forged }))).to.be.rejectedWith(RemoteError, /TOWER_BAD_SIGNATURE/);
      expect(tower.store.tower.newest(id)).to.equal(undefined);
      const reply = await asBob.request("tower.state", encodeTowerState({ params, signed }));
      expect(reply).to.deep.equal({ channelId: id.toLowerCase(), version: signed.state.version.toString(), stored: true });
    } finally {
      await asBob.close();
    }
    expect(tower.store.tower.newest(id)?.latest).to.deep.equal(signed);
  });

  it("a restarted tower keeps its clients and states, and gets what is new once the client reconnects", async function () {
    let tower = await startTower();
    const alice = await start(1, { towerClient: { url: towerUrl } });
    const bob = await start(2);
    const id = await channelOf(alice, bob);
    await alice.pay(id, 1n, ethers.id("1") as Hex);
    const first = (await alice.channel(id)).version;
    await waitFor(async () => (await acknowledged(alice, id)) === first, "the first acknowledgement");

    await tower.stop();
    nodes = nodes.filter((n) => n !== tower);
    await waitFor(async () => (await alice.info()).tower?.connected === false, "Alice to see her tower gone");
    for (let i = 0; i < 3; i++) await alice.pay(id, 2n, ethers.id(`later${i}`) as Hex);
    const latest = (await alice.channel(id)).version;
    // What the tower kept on disk, read while it is down.
    const kept = ChannelStore.open(path.join(dir, "node3", "store.sqlite"));
    try {
      expect(kept.tower.newest(id)?.latest.state.version).to.equal(first);
      expect(kept.tower.clients().map((c) => c.address)).to.deep.equal([alice.address.toLowerCase()]);
    } finally {
      kept.close();
    }

    tower = await startTower();
    await waitFor(async () => (await acknowledged(alice, id)) === latest, "the restarted tower to get the newest state", 30_000);
    expect(tower.store.tower.newest(id)?.latest.state.version).to.equal(latest);
    expect((await tower.info()).towerService!.clients.map((c) => c.address)).to.deep.equal([alice.address.toLowerCase()]);
  });

  it("refutes a challenge that was registered before the client handed its state", async function () {
    const { tower, alice, bob, id } = await towerAndChannel();
    const stale = bob.store.latest(id)!;
    for (let i = 0; i < 3; i++) await bob.pay(id, 10n ** 15n, ethers.id(`bob${i}`) as Hex);
    await waitFor(async () => (await alice.channel(id)).version === (await bob.channel(id)).version, "both to agree");
    const newest = alice.store.latest(id)!;
    const params = alice.store.getChannel(id)!.params;
    // Neither node runs: only the tower can answer.
    for (const node of [alice, bob]) await node.stop();
    nodes = nodes.filter((n) => n !== alice && n !== bob);
    const cheat = await driver.connect(new Wallet(devKey(2), ethers.provider)).challenge(params, stale);
    // The tower's watcher reads past the challenge before it knows the channel: the event went by unwatched.
    await waitFor(() => (tower.store.getCursor("tower") ?? -1n) >= BigInt(cheat.blockNumber), "the tower to read past the challenge");

    const asAlice = await dial(1);
    try {
      await asAlice.request("tower.state", encodeTowerState({ params, signed: newest }));
    } finally {
      await asAlice.close();
    }
    await waitFor(async () => (await driver.channelStatus(id)).version === newest.state.version, "the tower to refute");
    expect((await driver.channelStatus(id)).mode).to.equal(ChannelMode.Challenged);
  });

  it("with every N, hands only every N-th version, and the latest at a clean stop", async function () {
    const tower = await startTower();
    const alice = await start(1, { towerClient: { url: towerUrl, every: 100 } });
    const bob = await start(2);
    const id = await channelOf(alice, bob);
    for (let i = 0; i < 3; i++) await alice.pay(id, 3n, ethers.id(`n${i}`) as Hex);
    const latest = (await alice.channel(id)).version;
    expect(latest < 100n).to.equal(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(tower.store.tower.newest(id)).to.equal(undefined);

    await alice.stop();
    nodes = nodes.filter((n) => n !== alice);
    expect(tower.store.tower.newest(id)?.latest.state.version).to.equal(latest);
  });
});
