/**
 * `devMint` (behind `sluice dev mint` and POST /v1/mint): mints the test dollar on a development
 * chain with the node's signer; refuses any other chain before a call, and ETH, an address without
 * a contract or a token without `mint` with NOT_MINTABLE, changing nothing.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { codeOf } from "../../src/errors";
import { mapError } from "../../src/node/api/codes";
import { DEV_CHAIN_ID, devMint, NotDevChainError, NotMintableError } from "../../src/node/devMint";
import { ETH, type Address } from "../../src/types";
import { LyingToken__factory, MockERC20__factory } from "../../typechain-types";

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("devMint", function () {
  it("mints to the recipient with the signer, on chain id 31337", async () => {
    const [signer, other] = await ethers.getSigners();
    const token = await new MockERC20__factory(signer).deploy("Test Dollar", "USDC", 6);
    const asset = (await token.getAddress()) as Address;
    const tx = await devMint(signer, DEV_CHAIN_ID, { asset, amount: 1_000_000000n, to: other.address as Address });
    expect(tx.hash).to.match(/^0x[0-9a-f]{64}$/);
    expect(tx.gasUsed).to.be.greaterThan(0n);
    expect(await token.balanceOf(other.address)).to.equal(1_000_000000n);
  });

  it("refuses any chain but a development chain, with NOT_DEV_CHAIN, before any call", async () => {
    const [signer] = await ethers.getSigners();
    const token = await new MockERC20__factory(signer).deploy("Test Dollar", "USDC", 6);
    const error = await rejection(devMint(signer, 1n, { asset: (await token.getAddress()) as Address, amount: 5n, to: signer.address as Address }));
    expect(error).to.be.instanceOf(NotDevChainError);
    expect(error.message).to.match(/development chain only \(chain id 31337\); this node's chain has id 1$/);
    expect(mapError(error)).to.deep.include({ status: 409 });
    expect(mapError(error).body.code).to.equal("NOT_DEV_CHAIN");
    expect(await token.totalSupply()).to.equal(0n);
  });

  it("refuses ETH, an address without a contract and a token without mint, with NOT_MINTABLE", async () => {
    const [signer] = await ethers.getSigners();
    const lying = await new LyingToken__factory(signer).deploy();
    const to = signer.address as Address;
    const cases: [Address, RegExp][] = [
      [ETH, /ETH is not a token/],
      ["0x000000000000000000000000000000000000dEaD", /no contract at this address/],
      [(await lying.getAddress()) as Address, /has no mint\(address,uint256\)/],
    ];
    for (const [asset, message] of cases) {
      const error = await rejection(devMint(signer, DEV_CHAIN_ID, { asset, amount: 5n, to }));
      expect(error, asset).to.be.instanceOf(NotMintableError);
      expect(codeOf(error as NotMintableError)).to.equal("NOT_MINTABLE");
      expect(error.message).to.match(message);
    }
  });

  it("refuses a zero amount", async () => {
    const [signer] = await ethers.getSigners();
    const token = await new MockERC20__factory(signer).deploy("Test Dollar", "USDC", 6);
    const error = await rejection(devMint(signer, DEV_CHAIN_ID, { asset: (await token.getAddress()) as Address, amount: 0n, to: signer.address as Address }));
    expect(codeOf(error as NotMintableError)).to.equal("INVALID_AMOUNT");
  });
});
