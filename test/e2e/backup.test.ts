/**
 * End to end: backups and restore. Alice's store is backed up (`sluice backup`) while payments flow
 * in both directions over two channels (Alice participant 0 in one, participant 1 in the other);
 * many more payments follow; then both nodes stop, the old backup is restored into Alice's data
 * directory (`sluice restore`, after the refusals a restore must make) and Alice starts alone: a
 * payment is refused with CHANNEL_RESYNC_REQUIRED. Once Bob is back and they have resynced, Alice's
 * channels agree with Bob's (nothing lost), she pays again, and no version was ever signed with two
 * contents: the states of Alice's store before the restore, her store after it and Bob's agree at
 * every version they share, and her new states lie above every version signed before.
 */
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "chai";
import { hexlify } from "ethers";
import { MAX_VERSION_GAP } from "../../src/channel";
import { ApiError } from "../../src/node/api/errors";
import { ETH, type Hex } from "../../src/types";
import { sluice } from "./helpers/cli";
import { agreed, allPayments, type Cluster, type ClusterNode, ETHER, openFunded, sleep, waitFor, withTwoNodes } from "./helpers/cluster";

/** A countersigned state as a store holds it, by version: what "signed twice" compares. */
type StateRows = Map<string, string>;

/** The countersigned states of a channel in the store file `file` (read-only; a node may run on it). */
function statesIn(file: string, channelId: Hex): StateRows {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[string], { version: string; body: string }>(
        `SELECT s.version, s.transferred0 || ',' || s.transferred1 || ',' || s.locked0 || ',' || s.locked1 || ',' || s.locks_root || ',' || s.payments_root || ',' || s.is_final AS body
         FROM states s JOIN channels c ON c.id = s.chan WHERE c.channel_id = ? ORDER BY s.version`,
      )
      .all(channelId.toLowerCase());
    return new Map(rows.map((r) => [r.version, r.body]));
  } finally {
    db.close();
  }
}

/** Versions that two stores both hold with different contents (must be none). */
function conflicts(a: StateRows, b: StateRows): string[] {
  return [...a].filter(([version, body]) => b.has(version) && b.get(version) !== body).map(([version]) => BigInt(version).toString());
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

async function refusedWith(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    expect(error).to.be.instanceOf(ApiError);
    return (error as ApiError).code;
  }
  throw new Error("the call was not refused");
}

describe("e2e: backup and restore", function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;

  withTwoNodes({}, (nodes) => {
    ({ cluster, alice, bob } = nodes);
  });

  it("restores an old backup taken while paying: signs nothing before the resync, then loses nothing and reuses no version", async function () {
    const datadir = (node: ClusterNode) => path.join(cluster.dir, node.name);
    const storeOf = (node: ClusterNode) => path.join(datadir(node), "store.sqlite");
    // Alice is participant 0 of `led` and participant 1 of `led by Bob`.
    const led = (await openFunded(alice, bob, ETH, [10n * ETHER, 10n * ETHER])).channelId;
    const ledByBob = (await openFunded(bob, alice, ETH, [10n * ETHER, 10n * ETHER])).channelId;
    const channels = [led, ledByBob];

    let paid = 0;
    const pay = async (payer: ClusterNode, channelId: Hex) => {
      await payer.process.api.pay(channelId, 1_000n + BigInt(paid % 97), hexlify(randomBytes(32)) as Hex);
      paid++;
    };
    /** Payments in both directions over both channels, two in flight per direction. */
    const payMany = (rounds: number) =>
      Promise.all(channels.flatMap((c) => [alice, bob, alice, bob].map(async (payer) => {
        for (let i = 0; i < rounds; i++) await pay(payer, c);
      })));

    await payMany(10);
    const foreign = path.join(cluster.dir, "bob-backup.sqlite");
    expect((await sluice("--datadir", datadir(bob), "backup", foreign)).code).to.equal(0);

    // The backup is taken while payments flow.
    const backup = path.join(cluster.dir, "alice-backup.sqlite");
    const flowing = payMany(40);
    await sleep(300);
    const made = await sluice("--datadir", datadir(alice), "--json", "backup", backup);
    expect(made.code, made.stderr).to.equal(0);
    const held = JSON.parse(made.stdout) as { bytes: number; states: number; channels: { channelId: Hex; version: string }[] };
    expect(held.bytes).to.be.greaterThan(0);
    expect(held.channels.map((c) => c.channelId).sort()).to.deep.equal([...channels].sort());
    await flowing;
    const again = await sluice("--datadir", datadir(alice), "backup", backup);
    expect(again.code).to.not.equal(0);
    expect(again.stderr).to.match(/exists.*--force/);

    // Many more payments after the backup.
    await payMany(60);
    const before = await Promise.all(channels.map((c) => bob.process.api.channel(c)));
    for (const [i, c] of channels.entries()) {
      expect(before[i].version > BigInt(held.channels.find((h) => h.channelId === c)!.version) + 100n, "the backup is far behind").to.equal(true);
    }

    // Restore refuses while Alice runs.
    const running = await sluice("--datadir", datadir(alice), "restore", backup);
    expect(running.code).to.not.equal(0);
    expect(running.stderr).to.match(/is running in/);

    await bob.process.stop();
    await alice.process.stop();
    const signedBefore = channels.map((c) => statesIn(storeOf(alice), c));
    const bobStates = channels.map((c) => statesIn(storeOf(bob), c));
    const aliceStore = sha(storeOf(alice));

    // A damaged file, another node's backup and an older backup without --force change nothing.
    const damaged = path.join(cluster.dir, "damaged.sqlite");
    copyFileSync(backup, damaged);
    const bytes = readFileSync(damaged);
    bytes.fill(0x5a, 4096, 4096 * 4);
    writeFileSync(damaged, bytes);
    for (const [file, why] of [
      [damaged, /can't be restored: (PRAGMA integrity_check|not a readable SQLite)/],
      [foreign, /can't be restored: it belongs to address/],
      [backup, /newer than the backup in 2 channel\(s\).*--force/],
    ] as const) {
      const refused = await sluice("--datadir", datadir(alice), "restore", file);
      expect(refused.code, refused.stdout).to.not.equal(0);
      expect(refused.stderr).to.match(why);
      expect(sha(storeOf(alice)), `restoring ${path.basename(file)} changed Alice's store`).to.equal(aliceStore);
    }

    const restored = await sluice("--datadir", datadir(alice), "--json", "restore", backup, "--force");
    expect(restored.code, restored.stderr).to.equal(0);
    const replaced = (JSON.parse(restored.stdout) as { replaced: string }).replaced;
    expect(existsSync(replaced)).to.equal(true);

    // Alice alone: every channel refuses to sign.
    await alice.process.restart();
    for (const c of channels) {
      expect(await refusedWith(alice.process.api.pay(c, 1n, hexlify(randomBytes(32)) as Hex)), `a payment in ${c}`).to.equal("CHANNEL_RESYNC_REQUIRED");
    }
    expect(await refusedWith(alice.process.api.close(led))).to.equal("CHANNEL_RESYNC_REQUIRED");
    for (const c of channels) expect((await alice.process.api.channel(c)).resyncRequired, `${c} shows the mark`).to.equal(true);

    // Bob back: both channels resync, and Alice's view is Bob's again.
    await bob.process.restart();
    await waitFor(async () => (await alice.process.api.listEvents({ types: ["channel.resynced"] })).length === 2, { timeoutMs: 60_000, what: "both channels resynced" });
    for (const c of channels) {
      const [mine, theirs] = await Promise.all([alice.process.api.channel(c), bob.process.api.channel(c)]);
      expect(mine.version, c).to.equal(theirs.version);
      expect(mine.resyncRequired).to.equal(undefined);
      expect(mine.transferred).to.deep.equal(theirs.transferred);
      expect(mine.balances).to.deep.equal(theirs.balances);
      expect(mine.payments).to.equal(theirs.payments);
      expect((await allPayments(alice, c)).map(agreed)).to.deep.equal((await allPayments(bob, c)).map(agreed));
    }

    // Paying goes on in both directions.
    await payMany(5);
    const after = await Promise.all(channels.map((c) => bob.process.api.channel(c)));
    for (const i of [0, 1]) expect(after[i].payments).to.equal(before[i].payments + 20n);

    // No version signed twice: Alice's old store, her new one and Bob's agree wherever they overlap;
    // as participant 0 she proposed above everything Bob could hold of her old signatures.
    for (const [i, c] of channels.entries()) {
      const now = statesIn(storeOf(alice), c);
      const bobNow = statesIn(storeOf(bob), c);
      expect(conflicts(signedBefore[i], now), `${c}: Alice's old and new states`).to.deep.equal([]);
      expect(conflicts(signedBefore[i], bobNow), `${c}: Alice's old states and Bob's`).to.deep.equal([]);
      expect(conflicts(now, bobNow), `${c}: Alice's and Bob's states`).to.deep.equal([]);
      expect(conflicts(bobStates[i], bobNow)).to.deep.equal([]);
      const versions = [...now.keys()].map(BigInt);
      expect(versions.every((v, k) => k === 0 || v > versions[k - 1]), "versions strictly increase").to.equal(true);
    }
    const newest = BigInt(before[0].version);
    const firstNew = [...statesIn(storeOf(alice), led).keys()].map(BigInt).find((v) => v > newest)!;
    console.log(
      `      backup: ${held.bytes} bytes, ${held.states} states (versions ${held.channels.map((c) => c.version).join(", ")}); ` +
        `at the restore Bob held versions ${before.map((v) => v.version).join(", ")}; Alice's first proposal after it: ${firstNew}; ${paid} payments`,
    );
    expect(firstNew >= newest + MAX_VERSION_GAP, `the first version Alice proposed after the restore (${firstNew}) is above her old reservation`).to.equal(true);
  });
});
