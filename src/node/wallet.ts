/**
 * What the node reads of its wallet and of an asset before it asks a peer or sends a transaction:
 * the asset's symbol and decimals (an address that is no token fails here, by name), and whether
 * the wallet holds what an open or a deposit needs.
 */
import { Contract, type Provider } from "ethers";
import { messagesOf } from "../chain/failures";
import { NotATokenError, WalletBalanceError } from "../errors";
import { ETH, type Address } from "../types";
import type { AssetInfo } from "./api/types";

const ERC20_READS = [
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function balanceOf(address) view returns (uint256)",
];

/** The asset's symbol and decimals (ETH: "ETH", 18); a `NotATokenError` for an address that is no ERC-20 token. */
export async function readAssetInfo(provider: Provider, asset: Address): Promise<AssetInfo> {
  if (asset.toLowerCase() === ETH) return { asset: ETH, symbol: "ETH", decimals: 18 };
  const token = new Contract(asset, ERC20_READS, provider);
  try {
    const [symbol, decimals] = await Promise.all([token.symbol() as Promise<string>, token.decimals() as Promise<bigint>]);
    return { asset, symbol, decimals: Number(decimals) };
  } catch (error) {
    if (!isCallFailure(error)) throw error;
    const deployed = (await provider.getCode(asset)) !== "0x";
    const reason = deployed ? "its contract does not answer symbol() and decimals()" : "no contract is deployed there";
    throw new NotATokenError(asset.toLowerCase(), reason, { cause: error });
  }
}

/** Refuses with a `WalletBalanceError` if `wallet` holds less than `amount` of the asset (ETH: gas not counted). */
export async function checkWalletBalance(provider: Provider, wallet: Address, asset: AssetInfo, amount: bigint, action: "open" | "deposit"): Promise<void> {
  const isEth = asset.asset.toLowerCase() === ETH;
  const balance = isEth
    ? await provider.getBalance(wallet)
    : ((await new Contract(asset.asset, ERC20_READS, provider).balanceOf(wallet)) as bigint);
  if (balance < amount) {
    throw new WalletBalanceError(wallet.toLowerCase(), asset.asset.toLowerCase(), amount, balance, { ...asset, isEth }, action);
  }
}

/**
 * A call that reverted or returned nothing decodable (an address with no code, or another
 * contract): ethers' codes, or the in-process Hardhat network's "Transaction reverted: …".
 */
function isCallFailure(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "CALL_EXCEPTION" || code === "BAD_DATA" || /revert/i.test(messagesOf(error).join("\n"));
}
