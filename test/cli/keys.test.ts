/**
 * `sluice key new|import|show`: real keystore files in a temp directory, through `main()` in-process
 * and once through the real binary, and `sluice node start --keystore` reading what they wrote.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { main, type NodeStartOptions } from "../../src/cli/main";

const BIN = path.resolve(__dirname, "..", "..", "bin", "sluice.js");
const PASSWORD = "correct horse battery";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[], cwd: string, env: Record<string, string> = { SLUICE_KEYSTORE_PASSWORD: PASSWORD }, stdin = ""): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTTY: false,
    env,
    cwd,
    readStdin: () => Promise.resolve(stdin),
  });
  return { code, stdout, stderr };
}

describe("sluice key", function () {
  // Each encryption or decryption runs scrypt with the standard parameters (about a second).
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => (dir = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-key-"))));
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it("new writes a keystore the password opens; show prints its address, and checks the password when given", async () => {
    const created = await run(["--json", "key", "new", "node.json"], dir);
    expect(created.code, created.stderr).to.equal(0);
    const { address, keystore } = JSON.parse(created.stdout) as { address: string; keystore: string };
    expect(keystore).to.equal(path.join(dir, "node.json"));
    const wallet = await Wallet.fromEncryptedJson(await fs.readFile(keystore, "utf8"), PASSWORD);
    expect(wallet.address).to.equal(address);

    const shown = await run(["key", "show", "node.json"], dir, {});
    expect([shown.code, shown.stdout.trim()]).to.deep.equal([0, address]);
    const checked = await run(["key", "show", "node.json"], dir);
    expect(checked.stdout).to.include(`${address} (the password opens it)`);
    const wrong = await run(["key", "show", "node.json"], dir, { SLUICE_KEYSTORE_PASSWORD: "not the password" });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/cannot decrypt the keystore .*node\.json: wrong password/);
  });

  it("import reads the key from stdin, never from the command line", async () => {
    const key = Wallet.createRandom().privateKey;
    const imported = await run(["--json", "key", "import", "imported.json"], dir, { SLUICE_KEYSTORE_PASSWORD: PASSWORD }, `${key}\n`);
    expect(imported.code, imported.stderr).to.equal(0);
    expect((JSON.parse(imported.stdout) as { address: string }).address).to.equal(new Wallet(key).address);
    const empty = await run(["key", "import", "empty.json"], dir, { SLUICE_KEYSTORE_PASSWORD: PASSWORD }, "");
    expect([empty.code, empty.stderr]).to.satisfy(([c, e]: [number, string]) => c === 2 && /no private key on stdin/.test(e));
    const positional = await run(["key", "import", "x.json", key], dir);
    expect(positional.code).to.equal(2);
    await fs.access(path.join(dir, "empty.json")).then(
      () => expect.fail("a refused import wrote a file"),
      () => undefined,
    );
  });

  it("refuses without a password, over an existing file, and names a wrong subcommand; nothing is written", async () => {
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [["key", "new", "a.json"], {}, 2, /set SLUICE_KEYSTORE_PASSWORD/],
      [["key", "new", "a.json"], { SLUICE_KEYSTORE_PASSWORD: "short" }, 1, /at least 8 characters/],
      [["key"], {}, 2, /`sluice key` needs a subcommand: `sluice key new`, `sluice key import`, `sluice key show`/],
      [["key", "rotate"], {}, 2, /unknown command "key rotate": `sluice key new`/],
      [["key", "show", "missing.json"], {}, 1, /cannot read the keystore .*missing\.json/],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await run(args, dir, env);
      expect(r.code, args.join(" ")).to.equal(code);
      expect(r.stderr, args.join(" ")).to.match(message);
    }
    expect(await fs.readdir(dir)).to.deep.equal([]);
    await fs.writeFile(path.join(dir, "kept.json"), "mine");
    const over = await run(["key", "new", "kept.json"], dir);
    expect([over.code, await fs.readFile(path.join(dir, "kept.json"), "utf8")]).to.deep.equal([1, "mine"]);
    expect(over.stderr).to.match(/exists already: not overwritten/);
  });

  it("node start --keystore starts with the key the keystore holds", async () => {
    await run(["key", "new", "node.json"], dir);
    let started: NodeStartOptions | undefined;
    const { loadNodeKey } = await import("../../src/node/start");
    const code = await main(["node", "start", "--keystore", "node.json", "--datadir", "data"], {
      stdout: () => undefined,
      stderr: () => undefined,
      stderrIsTTY: false,
      env: {},
      cwd: dir,
      loadStartNode: () => (options) => {
        started = options;
        return Promise.resolve();
      },
    });
    expect(code).to.equal(0);
    expect(started?.keystore).to.equal(path.join(dir, "node.json"));
    process.env.SLUICE_KEYSTORE_PASSWORD = PASSWORD;
    try {
      const key = await loadNodeKey(started!.keystore, () => undefined);
      const { address } = JSON.parse(await fs.readFile(path.join(dir, "node.json"), "utf8")) as { address: string };
      expect(new Wallet(key).address.toLowerCase()).to.equal(`0x${address.toLowerCase()}`);
    } finally {
      delete process.env.SLUICE_KEYSTORE_PASSWORD;
    }
  });

  it("the sluice binary runs key show", async () => {
    await run(["key", "new", "node.json"], dir);
    const shown = await new Promise<Run>((resolve) =>
      execFile(process.execPath, [BIN, "key", "show", "node.json"], { cwd: dir, env: { ...process.env, SLUICE_KEYSTORE_PASSWORD: "" } }, (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr }),
      ),
    );
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout.trim()).to.match(/^0x[0-9a-fA-F]{40}$/);
  });
});
