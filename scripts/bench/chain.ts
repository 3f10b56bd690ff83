/** A local chain for the benches: `hardhat node` in its own process, the adjudicator, a stablecoin. */
import { startLocalNode, deployAdjudicator, type LocalNode } from "../../src/chain";
import type { Address, Hex } from "../../src/types";
import { MockERC20__factory, type MockERC20 } from "../../typechain-types";

export interface BenchChain {
  node: LocalNode;
  adjudicator: Address;
  token: MockERC20;
  tokenAddress: Address;
  /** Private key of dev account i (funded with ETH by the node). */
  key(i: number): Hex;
  address(i: number): Address;
  stop(): Promise<void>;
}

export async function startChain(): Promise<BenchChain> {
  const node = await startLocalNode({ kind: "hardhat" });
  try {
    const deployer = node.wallet(0);
    const driver = await deployAdjudicator(deployer);
    const token = await new MockERC20__factory(deployer).deploy("Test Dollar", "USDC", 6);
    await token.waitForDeployment();
    return {
      node,
      adjudicator: driver.address,
      token,
      tokenAddress: (await token.getAddress()) as Address,
      key: (i) => node.wallet(i).privateKey as Hex,
      address: (i) => node.wallet(i).address as Address,
      stop: () => node.stop(),
    };
  } catch (error) {
    await node.stop();
    throw error;
  }
}
