import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { KeystoreError, createKeystore, keystoreAddress, readKeystore } from "../../src/node/keystore";

describe("keystore", function () {
  // scrypt with the standard parameters takes about a second per encryption or decryption.
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "sluice-keystore-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("creates a fresh key that only the password opens, readable by ethers, owner-only", async () => {
    const file = path.join(dir, "node.json");
    const address = await createKeystore(file, "correct horse");
    expect(keystoreAddress(file)).to.equal(address);
    const key = await readKeystore(file, "correct horse");
    expect(new Wallet(key).address).to.equal(address);
    expect((await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), "correct horse")).address).to.equal(address);
    expect(statSync(file).mode & 0o077).to.equal(0);
    let error: unknown;
    try {
      await readKeystore(file, "wrong horse");
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(KeystoreError);
    expect((error as Error).message).to.match(/wrong password/);
  });

  it("imports a given key, with or without 0x", async () => {
    const key = Wallet.createRandom().privateKey;
    for (const [name, text] of [["a.json", key], ["b.json", key.slice(2)]] as const) {
      const file = path.join(dir, name);
      expect(await createKeystore(file, "password1", text)).to.equal(new Wallet(key).address);
      expect(await readKeystore(file, "password1")).to.equal(key.toLowerCase());
    }
  });

  it("never overwrites a file, and refuses bad keys and short passwords with a named error, writing nothing", async () => {
    const existing = path.join(dir, "existing.json");
    writeFileSync(existing, "keep me");
    const rows: [string, string, string | undefined, RegExp][] = [
      [existing, "password1", undefined, /exists already/],
      [path.join(dir, "short.json"), "short", undefined, /at least 8 characters/],
      [path.join(dir, "hex.json"), "password1", "0x1234", /32 bytes of hex/],
      [path.join(dir, "zero.json"), "password1", `0x${"0".repeat(64)}`, /zero/],
      [path.join(dir, "order.json"), "password1", `0x${"f".repeat(64)}`, /not a valid secp256k1 key/],
      [path.join(dir, "missing", "x.json"), "password1", undefined, /cannot create/],
    ];
    for (const [file, password, key, message] of rows) {
      let error: unknown;
      try {
        await createKeystore(file, password, key);
      } catch (e) {
        error = e;
      }
      expect(error, file).to.be.instanceOf(KeystoreError);
      expect((error as Error).message, file).to.match(message);
      if (file !== existing) expect(() => statSync(file), file).to.throw();
    }
    expect(readFileSync(existing, "utf8")).to.equal("keep me");
  });

  it("reading names the file that is missing, not JSON or holds no address", () => {
    const notJson = path.join(dir, "not.json");
    writeFileSync(notJson, "{");
    const noAddress = path.join(dir, "empty.json");
    writeFileSync(noAddress, "{}");
    for (const [file, message] of [[path.join(dir, "nope.json"), /cannot read/], [notJson, /not a JSON keystore/], [noAddress, /holds no address/]] as const) {
      expect(() => keystoreAddress(file)).to.throw(KeystoreError, message);
    }
  });
});
