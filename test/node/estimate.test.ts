/**
 * The dashboard's reads on a real node over the embedded chain: `estimate` (a write's gas and fee
 * before it is sent, checked as the write checks itself; nothing signed or sent) and `listCredits`
 * (the adjudicator's credits of the node's payees).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { RevertingReceiver__factory } from "../../typechain-types";
import { TYPICAL_GAS, WithdrawNothingError } from "../../src/chain";
import { InsufficientFundsError, InvalidAmountError, InvalidArgumentError, WalletBalanceError } from "../../src/errors";
import { ChannelStatusError } from "../../src/node/node";
import { ApiClient, ApiError, startApiServer } from "../../src/node/api";
import type { EstimateView } from "../../src/node/api/types";
import { ETH, type Address, type Hex } from "../../src/types";
import { useEmbeddedNodes } from "../helpers/embeddedNodes";

const ETHER = 10n ** 18n;

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a refusal"),
    (error: unknown) => error,
  );
}

/** The fee fields follow from gas and the price the estimate read. */
function expectPriced(estimate: EstimateView): void {
  expect(estimate.fee).to.equal(estimate.gas * (estimate.baseFee + estimate.tip));
  expect(estimate.maxFee).to.equal(estimate.gas * estimate.maxFeePerGas);
  expect(estimate.maxFeePerGas).to.be.at.least(estimate.baseFee + estimate.tip);
}

async function gasUsedOf(hash: Hex): Promise<bigint> {
  return (await ethers.provider.getTransactionReceipt(hash))!.gasUsed;
}

describe("the dashboard's reads: estimate and credits", function () {
  this.timeout(120_000);
  const twoNodes = useEmbeddedNodes("estimate");

  it("simulates a deposit, an open's deposit and a challenge: the estimate covers what the transaction then uses, and sends nothing", async function () {
    const { alice, bob } = await twoNodes();
    const open = await alice.estimate({ action: "open", peer: bob.address, asset: ETH, amount: ETHER });
    expect(open).to.include({ action: "open", basis: "simulated" });
    expect(open.gas).to.be.within(40_000n, 120_000n);
    expectPriced(open);
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });

    const nonce = await ethers.provider.getTransactionCount(bob.address);
    const deposit = await bob.estimate({ action: "deposit", channelId, amount: ETHER });
    expect(deposit).to.include({ action: "deposit", channelId, basis: "simulated" });
    expectPriced(deposit);
    expect(await ethers.provider.getTransactionCount(bob.address), "an estimate sends nothing").to.equal(nonce);
    await bob.deposit(channelId, ETHER);
    const block = await ethers.provider.getBlock("latest", true);
    const depositTx = block!.prefetchedTransactions.find((tx) => tx.from.toLowerCase() === bob.address.toLowerCase())!;
    const used = await gasUsedOf(depositTx.hash as Hex);
    expect(deposit.gas).to.be.at.least(used).and.at.most((used * 12n) / 10n);

    await alice.pay(channelId, 1_000n, ethers.id("one") as Hex);
    const challenge = await alice.estimate({ action: "challenge", channelId });
    expect(challenge).to.include({ basis: "simulated" });
    const challenged = await alice.challenge(channelId);
    expect(challenge.gas).to.be.at.least(challenged.gasUsed).and.at.most((challenged.gasUsed * 12n) / 10n);
  });

  it("gives the measured figures for a close and a cash-out (they need the peer's signature first), close to what they use", async function () {
    const { alice, bob } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
    await bob.deposit(channelId, ETHER);
    await alice.pay(channelId, 5_000n, ethers.id("p") as Hex);

    const first = await alice.estimate({ action: "cashout", channelId, amount: 1_000n });
    expect(first).to.include({ basis: "typical", gas: TYPICAL_GAS.firstWithdrawal });
    expectPriced(first);
    const cashedOut = await alice.cashOut(channelId, 1_000n);
    expect(cashedOut.status).to.equal("executed");
    expect(Number(cashedOut.tx!.gasUsed)).to.be.closeTo(Number(first.gas), Number(first.gas) / 10);
    expect(await alice.estimate({ action: "cashout", channelId, amount: 1_000n })).to.include({ gas: TYPICAL_GAS.withdrawal });

    const close = await alice.estimate({ action: "close", channelId });
    expect(close).to.include({ basis: "typical", gas: TYPICAL_GAS.close });
    const closed = await alice.close(channelId);
    expect(Number(closed.gasUsed)).to.be.closeTo(Number(close.gas), Number(close.gas) / 10);

    // Concluded: every channel action is refused as the action itself would be.
    for (const action of ["close", "challenge", "deposit", "cashout"] as const) {
      expect(await failure(alice.estimate({ action, channelId, amount: 1n })), action).to.be.instanceOf(ChannelStatusError);
    }
  });

  it("refuses what the action would refuse, by class: amounts, balances, missing fields, nothing to withdraw", async function () {
    const { alice, bob } = await twoNodes();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
    expect(await failure(alice.estimate({ action: "cashout", channelId, amount: 2n * ETHER }))).to.be.instanceOf(InsufficientFundsError);
    expect(await failure(alice.estimate({ action: "cashout", channelId, amount: 0n }))).to.be.instanceOf(InvalidAmountError);
    expect(await failure(alice.estimate({ action: "deposit", channelId }))).to.be.instanceOf(InvalidArgumentError);
    expect(await failure(alice.estimate({ action: "close" }))).to.be.instanceOf(InvalidArgumentError);
    expect(await failure(alice.estimate({ action: "open", peer: bob.address, amount: 1n }))).to.be.instanceOf(InvalidArgumentError);
    expect(await failure(alice.estimate({ action: "deposit", channelId, amount: 10n ** 30n }))).to.be.instanceOf(WalletBalanceError);
    expect(await failure(alice.estimate({ action: "withdraw" }))).to.be.instanceOf(WithdrawNothingError);
  });

  it("lists the credits of the node's payees: a payee that refuses ETH is credited at the close", async function () {
    const { alice, bob } = await twoNodes();
    const [deployer] = await ethers.getSigners();
    const receiver = await new RevertingReceiver__factory(deployer).deploy(deployer.address);
    const payee = (await receiver.getAddress()).toLowerCase() as Address;
    const before = await alice.listCredits();
    expect(before.every((c) => c.amount === 0n)).to.equal(true);
    expect(before.map((c) => c.owner)).to.include(alice.address.toLowerCase());

    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER, payee });
    await alice.pay(channelId, ETHER / 4n, ethers.id("x") as Hex);
    await alice.close(channelId);
    const credits = await alice.listCredits();
    expect(credits).to.deep.include({ owner: payee, asset: ETH, amount: (3n * ETHER) / 4n, withdrawable: false });
    expect(credits.find((c) => c.owner === alice.address.toLowerCase())).to.deep.include({ amount: 0n, withdrawable: true });
  });

  it("travels over HTTP: GET /v1/estimate with query parameters and GET /v1/credits, bigints exact, a refusal as its code, a bad action named", async function () {
    const { alice, bob } = await twoNodes();
    const token = "cd".repeat(32);
    const server = await startApiServer({ api: alice, token });
    const client = new ApiClient({ url: server.url, token });
    try {
      const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: ETHER });
      const direct = await alice.estimate({ action: "close", channelId });
      const viaHttp = await client.estimate({ action: "close", channelId });
      expect(viaHttp).to.include({ action: "close", channelId, gas: TYPICAL_GAS.close, basis: "typical" });
      expect(typeof viaHttp.fee).to.equal("bigint");
      expect(viaHttp.fee).to.equal(viaHttp.gas * (viaHttp.baseFee + viaHttp.tip));
      expect(direct.gas).to.equal(viaHttp.gas);
      const refused = await failure(client.estimate({ action: "cashout", channelId, amount: 2n * ETHER }));
      expect(refused).to.be.instanceOf(ApiError).and.to.include({ code: "INSUFFICIENT_FUNDS" });
      const query = new URLSearchParams({ action: "teleport", channelId });
      const bad = await fetch(`${server.url}/v1/estimate?${query.toString()}`, { headers: { authorization: `Bearer ${token}` } });
      expect(bad.status).to.equal(400);
      expect(((await bad.json()) as { error: { code: string; message: string } }).error).to.include({ code: "BAD_REQUEST" }).and.satisfy((e: { message: string }) => e.message.startsWith("action:"));
      const credits = await client.listCredits();
      expect(credits).to.deep.include({ owner: alice.address.toLowerCase(), asset: ETH, amount: 0n, withdrawable: true });
    } finally {
      client.dispose();
      await server.close();
    }
  });
});
