/**
 * `sluice dev mint`: mints a test token (MockERC20's `mint(address,uint256)`) with the node's own
 * signer, on a development chain only (chain id 31337, a `hardhat node` or anvil). A faucet for the
 * test dollar `npm run deploy -- --token` deploys; anywhere else it is refused before any call.
 */
import { Contract, type ContractRunner } from "ethers";
import { InvalidAmountError, SluiceError } from "../errors";
import { ETH, type Address } from "../types";
import type { TxView } from "./api/types";

/** The chain id of Hardhat's and anvil's development chains. */
export const DEV_CHAIN_ID = 31337n;

/** A development-only command on a chain that is not a development chain. */
export class NotDevChainError extends SluiceError {
  static override readonly code: string = "NOT_DEV_CHAIN";
  override readonly name: string = "NotDevChainError";

  /** `chainId` undefined: a node that offers no minting at all. */
  constructor(readonly chainId?: string) {
    const where = chainId === undefined ? "this node offers no minting" : `this node's chain has id ${chainId}`;
    super(`minting test tokens works on a development chain only (chain id ${DEV_CHAIN_ID}); ${where}`);
  }
}

/** The asset is not a token this node can mint (ETH, no contract, or a token without `mint`). */
export class NotMintableError extends SluiceError {
  static override readonly code: string = "NOT_MINTABLE";
  override readonly name: string = "NotMintableError";

  constructor(
    readonly asset: Address,
    reason: string,
  ) {
    super(`can't mint ${asset}: ${reason}`);
  }
}

const MINT_ABI = ["function mint(address to, uint256 amount)"];

export interface MintRequest {
  asset: Address;
  amount: bigint;
  to: Address;
}

/** Mints `amount` base units of `asset` to `to`, sent by `signer`; refused unless `chainId` is 31337. */
export async function devMint(signer: ContractRunner, chainId: bigint, request: MintRequest): Promise<TxView> {
  if (chainId !== DEV_CHAIN_ID) throw new NotDevChainError(chainId.toString());
  if (request.amount <= 0n) throw new InvalidAmountError(request.amount);
  if (request.asset.toLowerCase() === ETH) throw new NotMintableError(request.asset, "ETH is not a token (the development chain's accounts hold ETH)");
  const provider = signer.provider;
  if (provider && (await provider.getCode(request.asset)) === "0x") throw new NotMintableError(request.asset, "no contract at this address on this chain");
  const token = new Contract(request.asset, MINT_ABI, signer);
  try {
    await token.getFunction("mint").staticCall(request.to, request.amount);
  } catch (error) {
    throw new NotMintableError(request.asset, `the token has no mint(address,uint256) anyone may call (${(error as Error).message.split("\n")[0]})`);
  }
  const tx = (await token.getFunction("mint").send(request.to, request.amount)) as { wait(): Promise<{ hash: string; blockNumber: number; gasUsed: bigint } | null> };
  const receipt = await tx.wait();
  if (receipt === null) throw new NotMintableError(request.asset, "the mint transaction was dropped");
  return { hash: receipt.hash as TxView["hash"], blockNumber: BigInt(receipt.blockNumber), gasUsed: receipt.gasUsed };
}
