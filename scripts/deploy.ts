/**
 * `npm run deploy -- --rpc URL [--token] [--keystore file]`: deploys the adjudicator (and with
 * `--token` a 6-decimal test dollar, MockERC20 "USDC", for development chains) on any JSON-RPC
 * node, and prints the addresses as JSON on stdout.
 *
 * The deployer: `--keystore` (password in SLUICE_KEYSTORE_PASSWORD), else SLUICE_DEPLOY_KEY (a hex
 * private key), else, on a development chain only (chain id 31337: Hardhat, anvil), the node's
 * first unlocked account.
 */
import { parseArgs } from "node:util";
import { JsonRpcProvider, Network, Wallet, type Signer } from "ethers";
import { deployAdjudicator } from "../src/chain";
import { readKeystore } from "../src/node/keystore";
import { MockERC20__factory } from "../typechain-types";

const DEV_CHAIN_ID = 31337n;
const PROBE_TIMEOUT_MS = 5_000;
const USAGE = "usage: npm run deploy -- --rpc URL [--token] [--keystore file]";

class DeployError extends Error {}

/** The chain id the node at `url` answers with, or a DeployError naming the URL. */
async function chainIdAt(url: string): Promise<bigint> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const { result } = (await response.json()) as { result?: unknown };
    if (typeof result !== "string") throw new Error("no chain id in the answer");
    return BigInt(result);
  } catch (cause) {
    throw new DeployError(`no JSON-RPC node answers at ${url} (${cause instanceof Error ? cause.message : String(cause)})`);
  }
}

async function deployer(provider: JsonRpcProvider, chainId: bigint, keystore: string | undefined): Promise<Signer> {
  if (keystore) {
    const password = process.env.SLUICE_KEYSTORE_PASSWORD;
    if (password === undefined) throw new DeployError("the keystore is encrypted: set SLUICE_KEYSTORE_PASSWORD");
    return new Wallet(await readKeystore(keystore, password), provider);
  }
  const key = process.env.SLUICE_DEPLOY_KEY;
  if (key) return new Wallet(key, provider);
  if (chainId !== DEV_CHAIN_ID) throw new DeployError(`chain ${chainId} is not a development chain: give --keystore or SLUICE_DEPLOY_KEY`);
  const [first] = await provider.listAccounts();
  if (!first) throw new DeployError("the node has no unlocked account: give --keystore or SLUICE_DEPLOY_KEY");
  return first;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rpc: { type: "string" }, token: { type: "boolean" }, keystore: { type: "string" } }, strict: true });
  if (!values.rpc) throw new DeployError(`--rpc is required\n${USAGE}`);
  const chainId = await chainIdAt(values.rpc);
  const provider = new JsonRpcProvider(values.rpc, Network.from(chainId), { staticNetwork: true });
  try {
    const signer = await deployer(provider, chainId, values.keystore);
    const adjudicator = await deployAdjudicator(signer);
    const out: Record<string, string> = { chainId: chainId.toString(), adjudicator: adjudicator.address };
    if (values.token) {
      const token = await new MockERC20__factory(signer).deploy("Test Dollar", "USDC", 6);
      await token.waitForDeployment();
      out.token = await token.getAddress();
    }
    console.log(JSON.stringify(out));
  } finally {
    provider.destroy();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof DeployError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS"));
  console.error(`deploy: ${known ? (error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
