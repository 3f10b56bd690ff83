/**
 * Deploys the adjudicator (and, with SLUICE_DEPLOY_TOKEN=1, a 6-decimal test dollar) on the
 * network Hardhat is pointed at, and prints the addresses as JSON:
 *   npx hardhat run --network localhost scripts/deploy.ts
 */
import { ethers } from "hardhat";
import { deployAdjudicator } from "../src/chain";

async function main(): Promise<void> {
  const [deployer] = await ethers.getSigners();
  const adjudicator = await deployAdjudicator(deployer);
  const out: Record<string, string> = { adjudicator: adjudicator.address };
  if (process.env.SLUICE_DEPLOY_TOKEN === "1") {
    const token = await ethers.deployContract("MockERC20", ["Test Dollar", "USDC", 6]);
    out.token = await token.getAddress();
  }
  console.log(JSON.stringify(out));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
