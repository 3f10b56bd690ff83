/**
 * Backups of the store and their restore (src/node/store/backup.ts): an online copy while writes
 * go on, the checks a restore makes before it changes anything, and the restored mark.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import {
  BackupExistsError,
  BackupInvalidError,
  ChannelStore,
  StoreIdentityError,
  StoreNewerError,
  type NodeIdentity,
} from "../../src/node/store";
import { CRASH_CHANNEL, CRASH_PARAMS, paymentAt, signedAt } from "./fixtures/store-sequence";

const IDENTITY: NodeIdentity = { address: CRASH_PARAMS.participants[0], chainId: 31337n, adjudicator: "0x5fbdb2315678afecb367f032d93f642f64180aa3" };

describe("store backups", function () {
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  /** A store of the node IDENTITY with the channel at `versions` countersigned states (one payment each). */
  function storeWith(name: string, versions: number): ChannelStore {
    const store = ChannelStore.open(file(name));
    store.claimIdentity(IDENTITY);
    store.putChannel({ params: CRASH_PARAMS, myIndex: 0, status: "open", deposits: [10n, 10n] });
    append(store, 1, versions);
    return store;
  }

  function append(store: ChannelStore, from: number, to: number): void {
    for (let v = BigInt(from); v <= BigInt(to); v++) store.recordCountersigned(CRASH_CHANNEL, signedAt(v), paymentAt(v));
  }

  /** Every file in the directory with its bytes: what "nothing changed" compares. */
  function snapshot(): Map<string, string> {
    return new Map(fs.readdirSync(dir).map((name) => [name, fs.readFileSync(file(name)).toString("base64")]));
  }

  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-backup-"));
  });

  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("#backup", function () {
    it("copies the store as of one commit while writes go on, and says what it holds", async function () {
      const store = storeWith("store.sqlite", 50);
      try {
        const backup = store.backup(file("copy.sqlite"));
        append(store, 51, 60); // writes while the copy runs
        const summary = await backup;
        expect(summary.file).to.equal(file("copy.sqlite"));
        expect(summary.bytes).to.equal(fs.statSync(file("copy.sqlite")).size);
        expect(summary.identity?.chainId).to.equal(31337n);
        expect(summary.channels).to.have.length(1);
        const held = summary.channels[0].version;
        expect(held >= 50n && held <= 60n, `held version ${held}`).to.equal(true);
        expect(summary.states).to.equal(Number(held));
        expect(fs.existsSync(file("copy.sqlite-wal")), "one self-contained file").to.equal(false);
        const copy = new Database(file("copy.sqlite"), { readonly: true });
        expect(copy.pragma("integrity_check", { simple: true })).to.equal("ok");
        expect(copy.prepare("SELECT count(*) FROM payments").pluck().get()).to.equal(Number(held));
        copy.close();
      } finally {
        store.close();
      }
    });

    it("refuses to overwrite a file unless forced, and refuses a relative path", async function () {
      const store = storeWith("store.sqlite", 3);
      try {
        fs.writeFileSync(file("taken"), "keep me");
        await expect(store.backup(file("taken"))).to.be.rejectedWith(BackupExistsError);
        expect(fs.readFileSync(file("taken"), "utf8")).to.equal("keep me");
        await expect(store.backup("relative.sqlite")).to.be.rejectedWith(BackupInvalidError, /absolute path/);
        const summary = await store.backup(file("taken"), { force: true });
        expect(summary.channels[0].version).to.equal(3n);
        expect(fs.readdirSync(dir).filter((name) => name.includes("partial"))).to.deep.equal([]);
      } finally {
        store.close();
      }
    });
  });

  describe("#restore", function () {
    async function backupOf(versions: number): Promise<string> {
      const store = storeWith("source.sqlite", versions);
      try {
        await store.backup(file("backup.sqlite"));
      } finally {
        store.close();
      }
      for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file("source.sqlite") + suffix, { force: true });
      return file("backup.sqlite");
    }

    it("puts the backup in place with every channel marked, and the resync clears the mark", async function () {
      const backup = await backupOf(5);
      const restored = ChannelStore.restore({ file: backup, storePath: file("node/store.sqlite"), expected: { address: IDENTITY.address } });
      expect(restored.channels).to.deep.equal([{ channelId: CRASH_CHANNEL, version: 5n }]);
      const store = ChannelStore.open(file("node/store.sqlite"));
      try {
        expect(store.resyncRequired(CRASH_CHANNEL)).to.equal(true);
        expect(store.events.after(0n, 1000).map((e) => e.type)).to.include("channel.restored");
        store.recordCountersigned(CRASH_CHANNEL, signedAt(6n), paymentAt(6n));
        store.transaction(() => store.markResynced(CRASH_CHANNEL, 6n + 100n));
        expect(store.resyncRequired(CRASH_CHANNEL)).to.equal(false);
        expect(store.reservedVersion(CRASH_CHANNEL)).to.equal(106n);
        const resynced = store.events.after(0n, 1000).filter((e) => e.type === "channel.resynced");
        expect(resynced.map((e) => e.data)).to.deep.equal([{ version: "6", reservedVersion: "106" }]);
      } finally {
        store.close();
      }
    });

    const refusals: { what: string; make: (backup: string) => void; error: RegExp }[] = [
      { what: "a file that is not SQLite", make: (b) => fs.writeFileSync(b, "not a database at all, just text".repeat(200)), error: /not a readable SQLite database|can't be opened/ },
      {
        what: "a damaged store",
        make: (b) => {
          const bytes = fs.readFileSync(b);
          bytes.fill(0xa5, 4096 * 2, 4096 * 3); // one whole page of the tables, overwritten
          fs.writeFileSync(b, bytes);
        },
        error: /integrity_check|malformed|not a readable/,
      },
      {
        what: "another application's database",
        make: (b) => {
          fs.rmSync(b);
          const other = new Database(b);
          other.exec("CREATE TABLE t (x)");
          other.close();
        },
        error: /not a Sluice store/,
      },
    ];
    for (const { what, make, error } of refusals) {
      it(`refuses ${what} and changes nothing`, async function () {
        const backup = await backupOf(40);
        make(backup);
        const before = snapshot();
        let caught: unknown;
        try {
          ChannelStore.restore({ file: backup, storePath: file("store.sqlite"), expected: {} });
        } catch (e) {
          caught = e;
        }
        expect(caught).to.be.instanceOf(BackupInvalidError);
        expect((caught as Error).message).to.match(error);
        expect(snapshot()).to.deep.equal(before);
      });
    }

    it("refuses another node's backup (key, chain or adjudicator)", async function () {
      const backup = await backupOf(2);
      for (const expected of [{ address: CRASH_PARAMS.participants[1] }, { chainId: 1n }, { adjudicator: CRASH_PARAMS.participants[1] }]) {
        expect(() => ChannelStore.restore({ file: backup, storePath: file("store.sqlite"), expected }), JSON.stringify(expected, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).to.throw(
          BackupInvalidError,
          /belongs to/,
        );
      }
      expect(fs.existsSync(file("store.sqlite"))).to.equal(false);
    });

    it("refuses a backup older than the store unless forced, then keeps the store beside it", async function () {
      const backup = await backupOf(3);
      storeWith("store.sqlite", 9).close();
      const before = snapshot();
      expect(() => ChannelStore.restore({ file: backup, storePath: file("store.sqlite"), expected: {} })).to.throw(StoreNewerError, /newer than the backup in 1 channel/);
      expect(snapshot()).to.deep.equal(before);
      const restored = ChannelStore.restore({ file: backup, storePath: file("store.sqlite"), expected: {}, force: true });
      expect(restored.replaced).to.be.a("string");
      const kept = ChannelStore.open(restored.replaced!);
      expect(kept.latest(CRASH_CHANNEL)?.state.version).to.equal(9n);
      kept.close();
      const store = ChannelStore.open(file("store.sqlite"));
      expect(store.latest(CRASH_CHANNEL)?.state.version).to.equal(3n);
      store.close();
    });

    it("a store refuses to start as another node than the one it belongs to", function () {
      const store = storeWith("store.sqlite", 1);
      try {
        expect(() => store.claimIdentity({ ...IDENTITY, chainId: 5n })).to.throw(StoreIdentityError, /chainId 31337/);
        expect(() => store.claimIdentity({ ...IDENTITY, address: IDENTITY.address.toUpperCase().replace("0X", "0x") as typeof IDENTITY.address })).to.not.throw();
      } finally {
        store.close();
      }
    });
  });
});
