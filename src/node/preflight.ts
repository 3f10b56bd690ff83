/**
 * Checks `sluice node start` makes before it writes anything to the data directory: a chain
 * answers at the RPC URL, the adjudicator's address holds the Sluice adjudicator, and the data
 * directory belongs to the key given (it remembers the address it was first started with).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, JsonRpcProvider } from "ethers";
import { Adjudicator__factory } from "../../typechain-types";
import { FailoverProvider, RpcChainMismatchError, redactUrl } from "../chain/failover";
import { DEFAULT_RPC } from "../schema/config";
import { DOMAIN_NAME, DOMAIN_VERSION } from "../typedData";
import type { Address } from "../types";
import { NodeConfigError } from "./configError";

/**
 * A provider once a chain answers at one of the `rpc` URLs, and the chain's id. Several URLs give
 * a `FailoverProvider` (src/chain/failover.ts): all of one chain, else refused.
 */
export async function connectChain(rpc: string | readonly string[]): Promise<{ provider: JsonRpcProvider; chainId: bigint }> {
  if (typeof rpc !== "string") {
    if (rpc.length === 1) return connectChain(rpc[0]);
    try {
      const provider = await FailoverProvider.connect(rpc);
      return { provider, chainId: provider.chainId };
    } catch (cause) {
      if (cause instanceof RpcChainMismatchError) throw new NodeConfigError(cause.message, { cause });
      throw new NodeConfigError(`no JSON-RPC node answers at any of ${rpc.map(redactUrl).join(", ")}: start a chain there, or give the URLs of yours with --rpc URL,URL (or "rpc" in the config file)`, { cause });
    }
  }
  const provider = new JsonRpcProvider(rpc, undefined, { cacheTimeout: -1 });
  try {
    return { provider, chainId: (await provider.getNetwork()).chainId };
  } catch (cause) {
    provider.destroy();
    const which = rpc === DEFAULT_RPC ? " (the default RPC URL)" : "";
    throw new NodeConfigError(
      `no JSON-RPC node answers at ${rpc}${which}: start a local chain there (npx hardhat node), or give the URL of yours with --rpc URL (or "rpc" in the config file)`,
      { cause },
    );
  }
}

/** Refuses an address without contract code, or whose contract is not the Sluice adjudicator (EIP-712 domain "Sluice", version 2). */
export async function checkAdjudicator(provider: JsonRpcProvider, adjudicator: Address, chain: string): Promise<void> {
  const where = `${getAddress(adjudicator)} on chain ${chain}`;
  if ((await provider.getCode(adjudicator)) === "0x") {
    throw new NodeConfigError(`no contract at the adjudicator's address ${where}: deploy one there (npm run deploy -- --rpc URL) or give the address it was deployed at (--adjudicator)`);
  }
  let domain: { name: string; version: string } | undefined;
  try {
    const [, name, version] = await Adjudicator__factory.connect(adjudicator, provider).eip712Domain();
    domain = { name, version };
  } catch {
    domain = undefined;
  }
  if (domain?.name !== DOMAIN_NAME || domain.version !== DOMAIN_VERSION) {
    const found = domain === undefined ? "it has no EIP-712 domain" : `its EIP-712 domain is "${domain.name}" version "${domain.version}"`;
    throw new NodeConfigError(`the contract at ${where} is not a Sluice adjudicator (version ${DOMAIN_VERSION}): ${found}; give the adjudicator's address (--adjudicator)`);
  }
}

const IDENTITY_FILE = "identity.json";

/** The address the data directory was first started with, or undefined before its first start. */
export function datadirAddress(datadir: string): Address | undefined {
  const file = path.join(datadir, IDENTITY_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return getAddress((JSON.parse(readFileSync(file, "utf8")) as { address: string }).address) as Address;
  } catch (cause) {
    throw new NodeConfigError(`cannot read ${file}: ${(cause as Error).message}; it should hold {"address": "0x…"}, the address of this data directory's key`, { cause });
  }
}

/** Refuses a key other than the one the data directory was first started with; changes nothing. */
export function checkDatadirKey(datadir: string, address: Address): void {
  const first = datadirAddress(datadir);
  if (first === undefined || first === getAddress(address)) return;
  throw new NodeConfigError(
    `the data directory ${datadir} belongs to ${first}, but the key given is ${getAddress(address)}: ` +
      `its channels can only be signed with ${first}'s key, so give that key (--keystore, or SLUICE_DEV_KEY), or start this key in another data directory (--datadir)`,
  );
}

/** Writes the key's address into the data directory if it holds none yet (its first start). */
export function rememberDatadirKey(datadir: string, address: Address): void {
  const file = path.join(datadir, IDENTITY_FILE);
  if (!existsSync(file)) writeFileSync(file, `${JSON.stringify({ address: getAddress(address) })}\n`, { mode: 0o600 });
}
