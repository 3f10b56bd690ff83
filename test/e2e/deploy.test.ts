import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { connectAdjudicator } from "../../src/chain";
import { startLocalNode, type LocalNode } from "../../src/chain/localNode";
import { createKeystore } from "../../src/node/keystore";
import { MockERC20__factory } from "../../typechain-types";

const ROOT = path.resolve(__dirname, "..", "..");
const run = promisify(execFile);

/** `npm run deploy -- args` as a user runs it; resolves with stdout, or rejects with the exit error. */
async function deploy(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return run("npm", ["run", "--silent", "deploy", "--", ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
}

async function failure(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    await deploy(args, env);
  } catch (error) {
    expect((error as { code?: number }).code, "exit code").to.equal(1);
    return (error as { stderr: string }).stderr;
  }
  throw new Error(`deploy ${args.join(" ")} succeeded`);
}

describe("npm run deploy -- --rpc URL", function () {
  this.timeout(300_000);
  let chain: LocalNode;
  before(async () => (chain = await startLocalNode({ kind: "hardhat" })));
  after(async () => chain?.stop());

  it("deploys the adjudicator and the test dollar on a node at any port, with the node's first account", async () => {
    expect(chain.port).to.not.equal(8545);
    const { stdout } = await deploy(["--rpc", chain.url, "--token"]);
    const out = JSON.parse(stdout) as { chainId: string; adjudicator: string; token: string };
    expect(out.chainId).to.equal(chain.chainId.toString());
    const driver = connectAdjudicator(out.adjudicator as `0x${string}`, chain.provider);
    const [mode] = await driver.contract.channel(`0x${"11".repeat(32)}`);
    expect(mode).to.equal(0n);
    const token = MockERC20__factory.connect(out.token, chain.provider);
    expect(await token.decimals()).to.equal(6n);
    expect(await token.symbol()).to.equal("USDC");
  });

  it("deploys with a keystore's key, which pays the gas", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sluice-deploy-"));
    try {
      const funder = chain.wallet(5);
      const file = path.join(dir, "deployer.json");
      const address = await createKeystore(file, "password1", funder.privateKey);
      const before = await chain.provider.getBalance(address);
      const { stdout } = await deploy(["--rpc", chain.url, "--keystore", file], { SLUICE_KEYSTORE_PASSWORD: "password1" });
      expect((await chain.provider.getCode((JSON.parse(stdout) as { adjudicator: string }).adjudicator)).length).to.be.greaterThan(2);
      expect(await chain.provider.getBalance(address)).to.be.lessThan(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses with a message that names the problem", async () => {
    expect(await failure([])).to.match(/--rpc is required/);
    expect(await failure(["--rpc", "http://127.0.0.1:9"])).to.match(/no JSON-RPC node answers at http:\/\/127\.0\.0\.1:9/);
    expect(await failure(["--rpc", chain.url, "--bogus"])).to.match(/Unknown option '--bogus'/);
    expect(await failure(["--rpc", chain.url, "--keystore", "/nonexistent.json"], { SLUICE_KEYSTORE_PASSWORD: "password1" })).to.match(/cannot read the keystore \/nonexistent\.json/);
  });
});
