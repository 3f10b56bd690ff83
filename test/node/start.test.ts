/**
 * `sluice node start` refuses a configuration that can't work, before it writes anything to the
 * data directory: an adjudicator address without code or with another contract, a key other than
 * the data directory's, no chain at the RPC URL. Against a real `hardhat node` and real SQLite data
 * directories; and the config reference in `--help` and the README, made from the schema.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { deployAdjudicator, freePort, startLocalNode, type LocalNode } from "../../src/chain";
import { main } from "../../src/cli/main";
import { DEFAULT_RPC, NODE_SETTINGS } from "../../src/schema/config";
import { configReferenceMarkdown } from "../../src/schema/configReference";
import { NodeConfigError, startNode } from "../../src/node/start";
import type { Address } from "../../src/types";
import { MockERC20__factory } from "../../typechain-types";

const ROOT = path.resolve(__dirname, "..", "..");

/** Each file of a directory with its content's hash: what "nothing changed" compares. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, createHash("sha256").update(readFileSync(path.join(dir, name))).digest("hex")]));
}

describe("sluice node start: configuration checked at start", function () {
  this.timeout(120_000);
  let chain: LocalNode;
  let adjudicator: Address;
  let token: Address;
  let dir: string;
  const savedKey = process.env.SLUICE_DEV_KEY;

  before(async function () {
    chain = await startLocalNode({ kind: "hardhat" });
    const deployer = chain.wallet(0);
    adjudicator = (await deployAdjudicator(deployer)).address;
    const mock = await new MockERC20__factory(deployer).deploy("Test Dollar", "USDC", 6);
    await mock.waitForDeployment();
    token = (await mock.getAddress()) as Address;
  });

  after(async function () {
    await chain?.stop();
  });

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-start-"));
  });

  afterEach(function () {
    if (savedKey === undefined) delete process.env.SLUICE_DEV_KEY;
    else process.env.SLUICE_DEV_KEY = savedKey;
    rmSync(dir, { recursive: true, force: true });
  });

  /** startNode with dev account `keyIndex`'s key. */
  function start(datadir: string, keyIndex: number, extra: { adjudicator?: string; rpc?: string; config?: string } = {}) {
    process.env.SLUICE_DEV_KEY = chain.wallet(keyIndex).privateKey;
    return startNode({
      datadir,
      rpc: extra.rpc ?? chain.url,
      ...(extra.config === undefined ? { adjudicator: extra.adjudicator ?? adjudicator } : { config: extra.config }),
      apiPort: 0,
      listen: { host: "127.0.0.1", port: 0 },
      log: () => undefined,
    });
  }

  async function refusal(started: Promise<{ close(): Promise<void> }>): Promise<Error> {
    return started.then(
      async (node) => {
        await node.close();
        return expect.fail("the node started");
      },
      (error: unknown) => error as Error,
    );
  }

  it("refuses an adjudicator address with no contract, naming the address and the chain; the data directory is not created", async function () {
    const empty = chain.wallet(7).address;
    const datadir = path.join(dir, "data");
    const error = await refusal(start(datadir, 1, { adjudicator: empty }));
    expect(error).to.be.instanceOf(NodeConfigError);
    expect(error.message).to.contain(`no contract at the adjudicator's address ${empty} on chain 31337 (${chain.url})`);
    expect(error.message).to.contain("npm run deploy");
    expect(existsSync(datadir)).to.equal(false);
  });

  it("refuses a contract that is not the adjudicator (the test token), from the config file too", async function () {
    const config = path.join(dir, "sluice.json");
    writeFileSync(config, JSON.stringify({ adjudicator: token }));
    const datadir = path.join(dir, "data");
    const error = await refusal(start(datadir, 1, { config }));
    expect(error).to.be.instanceOf(NodeConfigError);
    expect(error.message).to.contain(`the contract at ${token} on chain 31337 (${chain.url}) is not a Sluice adjudicator (version 2)`);
    expect(existsSync(datadir)).to.equal(false);
  });

  it("refuses a data directory started with another key, naming both addresses, and changes nothing", async function () {
    const datadir = path.join(dir, "data");
    const first = await start(datadir, 1);
    await first.close();
    const [alice, bob] = [chain.wallet(1).address, chain.wallet(2).address];
    expect(existsSync(path.join(datadir, "store.sqlite"))).to.equal(true);
    const before = snapshot(datadir);

    const error = await refusal(start(datadir, 2));
    expect(error).to.be.instanceOf(NodeConfigError);
    expect(error.message).to.contain(`the data directory ${datadir} belongs to ${alice}, but the key given is ${bob}`);
    expect(error.message).to.contain("another data directory (--datadir)");
    expect(snapshot(datadir)).to.deep.equal(before);
    expect(JSON.parse(readFileSync(path.join(datadir, "identity.json"), "utf8"))).to.deep.equal({ address: alice });

    const again = await start(datadir, 1);
    await again.close();
  });

  it("no chain at the RPC URL: the error says how to start one or where to point --rpc", async function () {
    const rpc = `http://127.0.0.1:${await freePort()}`;
    const datadir = path.join(dir, "data");
    const error = await refusal(start(datadir, 1, { rpc }));
    expect(error).to.be.instanceOf(NodeConfigError);
    expect(error.message).to.contain(`no JSON-RPC node answers at ${rpc}: start a local chain there (npx hardhat node), or give the URL of yours with --rpc URL`);
    expect(existsSync(datadir)).to.equal(false);
  });
});

describe("sluice node start: the config reference", function () {
  async function help(): Promise<string> {
    let stdout = "";
    const code = await main(["node", "start", "--help"], { stdout: (t) => (stdout += t), stderr: () => undefined, stderrIsTTY: false, env: {}, cwd: ROOT });
    expect(code).to.equal(0);
    return stdout;
  }

  it("--help lists every config key and says the real default RPC URL", async function () {
    const text = await help();
    for (const key of NODE_SETTINGS) expect(text, key).to.contain(`"${key}"`);
    expect(text).to.not.contain("embedded");
    expect(text).to.contain(`With no --rpc (or "rpc") the node uses ${DEFAULT_RPC}, where \`npx hardhat node\` listens`);
  });

  it("the README's section is the reference made from the schema, every key in it", function () {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const table = configReferenceMarkdown();
    for (const key of NODE_SETTINGS) expect(table, key).to.contain(`| \`${key}\` |`);
    expect(readme, `README.md's "Node configuration" section should hold exactly:\n${table}\n`).to.contain(`## Node configuration\n`);
    expect(readme.includes(table), `README.md's "Node configuration" section should hold exactly:\n${table}\n`).to.equal(true);
  });
});
