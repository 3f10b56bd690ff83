/**
 * End to end with a real Safe 1.4.1, deployed from the published build artifacts of
 * `@safe-global/safe-contracts` (singleton, SafeProxyFactory, CompatibilityFallbackHandler,
 * MultiSend, SignMessageLib): a company keeps its money in a 2-of-2 Safe and lets its node's hot
 * key sign. The Safe is `payees[1]`; the participants are EOAs. The Safe deposits through
 * `execTransaction`, is paid by close and by challenge + settle, and an owner rotation between
 * signing and closing changes nothing. A Safe as a participant (an ERC-1271 signer) is refused.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { Contract, ContractFactory, type BaseContract, type ContractTransactionResponse, type Signer, type TypedDataField } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import SafeArtifact from "@safe-global/safe-contracts/build/artifacts/contracts/Safe.sol/Safe.json";
import SafeProxyFactoryArtifact from "@safe-global/safe-contracts/build/artifacts/contracts/proxies/SafeProxyFactory.sol/SafeProxyFactory.json";
import FallbackHandlerArtifact from "@safe-global/safe-contracts/build/artifacts/contracts/handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json";
import MultiSendArtifact from "@safe-global/safe-contracts/build/artifacts/contracts/libraries/MultiSend.sol/MultiSend.json";
import SignMessageLibArtifact from "@safe-global/safe-contracts/build/artifacts/contracts/libraries/SignMessageLib.sol/SignMessageLib.json";
import { ChannelMode, ETH, type Address, type Hex } from "../../src/types";
import { signState, signWithdrawal } from "../helpers/channel";
import {
  ONE_ETH,
  PERIOD,
  UNSIGNED,
  deployBase,
  expectConserved,
  expectedPayouts,
  idOf,
  makeParams,
  makeState,
  makeWithdrawal,
  now,
  opening,
  signed,
  type ChannelParams,
  type ChannelState,
  type Sigs,
} from "../helpers/fixture";

interface Artifact {
  abi: ConstructorParameters<typeof ContractFactory>[0];
  bytecode: string;
}

const SENTINEL_OWNERS = "0x0000000000000000000000000000000000000001";
const CALL = 0;
const DELEGATECALL = 1;
/** ERC-1271 `isValidSignature(bytes32,bytes)` magic value. */
const ERC1271_MAGIC = "0x1626ba7e";

/** The Safe's EIP-712 transaction type (Safe 1.4.1, `SAFE_TX_TYPEHASH`). */
const SAFE_TX_TYPES: Record<string, TypedDataField[]> = {
  SafeTx: [
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "data", type: "bytes" },
    { name: "operation", type: "uint8" },
    { name: "safeTxGas", type: "uint256" },
    { name: "baseGas", type: "uint256" },
    { name: "gasPrice", type: "uint256" },
    { name: "gasToken", type: "address" },
    { name: "refundReceiver", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
};
/** The message type CompatibilityFallbackHandler checks ERC-1271 signatures against. */
const SAFE_MESSAGE_TYPES: Record<string, TypedDataField[]> = { SafeMessage: [{ name: "message", type: "bytes" }] };

async function deployArtifact(artifact: Artifact, deployer: Signer): Promise<Contract> {
  const contract: BaseContract = await new ContractFactory(artifact.abi, artifact.bytecode, deployer).deploy();
  await contract.waitForDeployment();
  return new Contract(await contract.getAddress(), artifact.abi, deployer);
}

/** Owners' EIP-712 signatures concatenated in ascending order of owner address, as the Safe requires. */
async function safeSignatures(owners: readonly Signer[], sign: (owner: Signer) => Promise<string>): Promise<Hex> {
  const withAddress = await Promise.all(owners.map(async (o) => ({ address: BigInt(await o.getAddress()), o })));
  withAddress.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  const sigs: string[] = [];
  for (const { o } of withAddress) sigs.push(await sign(o));
  return ethers.concat(sigs) as Hex;
}

async function safeDomain(safe: Contract) {
  const { chainId } = await ethers.provider.getNetwork();
  return { chainId, verifyingContract: await safe.getAddress() };
}

/** The Safe transaction for a call or delegatecall, at the Safe's current nonce, no refund. */
async function safeTx(safe: Contract, to: string, value: bigint, data: string, operation: number) {
  return {
    to,
    value,
    data,
    operation,
    safeTxGas: 0n,
    baseGas: 0n,
    gasPrice: 0n,
    gasToken: ethers.ZeroAddress,
    refundReceiver: ethers.ZeroAddress,
    nonce: (await safe.nonce()) as bigint,
  };
}

/** A Safe transaction's fields in the order execTransaction and getTransactionHash take them (before the signatures or the nonce). */
function safeTxFields(tx: Awaited<ReturnType<typeof safeTx>>) {
  return [tx.to, tx.value, tx.data, tx.operation, tx.safeTxGas, tx.baseGas, tx.gasPrice, tx.gasToken, tx.refundReceiver] as const;
}

/** Executes a transaction from the Safe, signed by `owners`, sent by `executor` (anyone may). */
async function execSafe(
  safe: Contract,
  owners: readonly Signer[],
  executor: Signer,
  to: string,
  value: bigint,
  data: string,
  operation = CALL,
): Promise<ContractTransactionResponse> {
  const tx = await safeTx(safe, to, value, data, operation);
  const domain = await safeDomain(safe);
  const signatures = await safeSignatures(owners, (o) => o.signTypedData(domain, SAFE_TX_TYPES, tx));
  return (await (safe.connect(executor) as Contract).execTransaction(...safeTxFields(tx), signatures)) as ContractTransactionResponse;
}

/** MultiSend's packed encoding of calls: operation, to, value, data length, data. */
function multiSendData(multiSend: Contract, calls: { to: string; value: bigint; data: string }[]): string {
  const packed = ethers.concat(
    calls.map((c) =>
      ethers.solidityPacked(["uint8", "address", "uint256", "uint256", "bytes"], [CALL, c.to, c.value, ethers.dataLength(c.data), c.data]),
    ),
  );
  return multiSend.interface.encodeFunctionData("multiSend", [packed]);
}

const ETH_DEPOSITS: [bigint, bigint] = [3n * ONE_ETH, 2n * ONE_ETH];
const TOKEN_DEPOSITS: [bigint, bigint] = [300_000_000n, 200_000_000n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, adjudicatorAddress, alice, bob, carol, token, tokenAddress } = base;
  const signers = await ethers.getSigners();
  const [ownerA, ownerB, newOwner, executor] = [signers[6], signers[7], signers[8], signers[10]];
  const owners = [ownerA, ownerB];

  const singleton = await deployArtifact(SafeArtifact, carol);
  const factory = await deployArtifact(SafeProxyFactoryArtifact, carol);
  const handler = await deployArtifact(FallbackHandlerArtifact, carol);
  const multiSend = await deployArtifact(MultiSendArtifact, carol);
  const signMessageLib = await deployArtifact(SignMessageLibArtifact, carol);
  const setup = singleton.interface.encodeFunctionData("setup", [
    [ownerA.address, ownerB.address],
    2,
    ethers.ZeroAddress,
    "0x",
    await handler.getAddress(),
    ethers.ZeroAddress,
    0,
    ethers.ZeroAddress,
  ]);
  const singletonAddress = await singleton.getAddress();
  const safeAddress = (await factory.createProxyWithNonce.staticCall(singletonAddress, setup, 1n)) as Address;
  await factory.createProxyWithNonce(singletonAddress, setup, 1n);
  const safe = new Contract(safeAddress, SafeArtifact.abi, carol);
  // The Safe holds the company's money: ETH and the stablecoin.
  await carol.sendTransaction({ to: safeAddress, value: 10n * ONE_ETH });
  await token.mint(safeAddress, 10n ** 12n);

  // Participants are the nodes' hot keys (EOAs); participant 1's payee is the Safe.
  const participants: [Address, Address] = [alice.address as Address, bob.address as Address];
  const payees: [Address, Address] = [alice.address as Address, safeAddress];
  const closeParams = makeParams(participants, ETH, 51n, PERIOD, payees);
  const disputeParams = makeParams(participants, ETH, 52n, PERIOD, payees);
  const tokenParams = makeParams(participants, tokenAddress, 53n, PERIOD, payees);
  // The Safe itself as participant 1: refused as a signer.
  const safeSignerParams = makeParams([alice.address as Address, safeAddress], ETH, 54n, PERIOD, [alice.address as Address, safeAddress]);
  for (const params of [closeParams, disputeParams, safeSignerParams]) {
    await adjudicator.connect(alice).deposit(params, 0, ETH_DEPOSITS[0], { value: ETH_DEPOSITS[0] });
  }
  await adjudicator.connect(alice).deposit(tokenParams, 0, TOKEN_DEPOSITS[0]);

  /** The Safe deposits `amount` ETH for `participant` of `params` through execTransaction. */
  const safeDepositEth = (params: ChannelParams, participant: 0 | 1, amount: bigint, by: Signer[] = owners) =>
    execSafe(
      safe,
      by,
      executor,
      adjudicatorAddress,
      amount,
      adjudicator.interface.encodeFunctionData("deposit", [params, participant, amount]),
    );
  /** The Safe approves and deposits `amount` of the token in one MultiSend (delegatecall) transaction. */
  const safeDepositToken = (params: ChannelParams, amount: bigint) =>
    execSafe(
      safe,
      owners,
      executor,
      multiSend.target as string,
      0n,
      multiSendData(multiSend, [
        { to: tokenAddress, value: 0n, data: token.interface.encodeFunctionData("approve", [adjudicatorAddress, amount]) },
        { to: adjudicatorAddress, value: 0n, data: adjudicator.interface.encodeFunctionData("deposit", [params, 1, amount]) },
      ]),
      DELEGATECALL,
    );
  return {
    ...base,
    alice,
    bob,
    ownerA,
    ownerB,
    newOwner,
    executor,
    owners,
    safe,
    safeAddress,
    handler,
    signMessageLib,
    multiSend,
    closeParams,
    disputeParams,
    tokenParams,
    safeSignerParams,
    safeDepositEth,
    safeDepositToken,
  };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;

/** The Safe's current owners `by` swap `oldOwner` for `newOwner` through execTransaction. */
async function rotateOwner(
  c: Ctx,
  by: readonly HardhatEthersSigner[],
  oldOwner: HardhatEthersSigner,
  newOwner: HardhatEthersSigner,
): Promise<void> {
  const current = (await c.safe.getOwners()) as string[];
  const index = current.indexOf(oldOwner.address);
  const prev = index === 0 ? SENTINEL_OWNERS : current[index - 1];
  const data = c.safe.interface.encodeFunctionData("swapOwner", [prev, oldOwner.address, newOwner.address]);
  await expect(execSafe(c.safe, by, c.executor, c.safeAddress, 0n, data)).to.emit(c.safe, "ExecutionSuccess");
  const owners = (await c.safe.getOwners()) as string[];
  expect(owners).to.include(newOwner.address);
  expect(owners).to.not.include(oldOwner.address);
}

function ethOwners(c: Ctx): string[] {
  return [c.alice.address, c.safeAddress];
}

describe("Adjudicator with a real Safe 1.4.1 as payee", function () {
  it("is a real 2-of-2 Safe: the owners sign its own EIP-712 transaction hash", async function () {
    const c = await loadFixture(fixture);
    expect(await c.safe.VERSION()).to.equal("1.4.1");
    expect(await c.safe.getThreshold()).to.equal(2n);
    expect(await c.safe.getOwners()).to.deep.equal([c.ownerA.address, c.ownerB.address]);
    const tx = await safeTx(c.safe, c.adjudicatorAddress, 1n, "0x", CALL);
    const onChain = (await c.safe.getTransactionHash(...safeTxFields(tx), tx.nonce)) as string;
    expect(onChain).to.equal(ethers.TypedDataEncoder.hash(await safeDomain(c.safe), SAFE_TX_TYPES, tx));
    // One owner's signature is not enough (Safe's GS020: signatures too short for the threshold).
    const data = c.adjudicator.interface.encodeFunctionData("deposit", [c.closeParams, 1, 1n]);
    await expect(execSafe(c.safe, [c.ownerA], c.executor, c.adjudicatorAddress, 1n, data)).to.be.revertedWith("GS020");
  });

  it("the Safe deposits ETH for participant 1 through execTransaction", async function () {
    const c = await loadFixture(fixture);
    const tx = c.safeDepositEth(c.closeParams, 1, ETH_DEPOSITS[1]);
    await expect(tx).to.emit(c.adjudicator, "Deposited").withArgs(idOf(c.closeParams), 1, ETH_DEPOSITS[1], ETH_DEPOSITS[1]);
    await expect(tx).to.emit(c.safe, "ExecutionSuccess");
    await expect(tx).to.changeEtherBalances([c.safeAddress, c.adjudicatorAddress], [-ETH_DEPOSITS[1], ETH_DEPOSITS[1]]);
    const [mode, , , deposits] = await c.adjudicator.channel(idOf(c.closeParams));
    expect(mode).to.equal(BigInt(ChannelMode.Open));
    expect([deposits[0], deposits[1]]).to.deep.equal(ETH_DEPOSITS);
  });

  it("the Safe approves and deposits a token in one MultiSend transaction", async function () {
    const c = await loadFixture(fixture);
    const tx = c.safeDepositToken(c.tokenParams, TOKEN_DEPOSITS[1]);
    await expect(tx).to.emit(c.adjudicator, "Deposited").withArgs(idOf(c.tokenParams), 1, TOKEN_DEPOSITS[1], TOKEN_DEPOSITS[1]);
    await expect(tx).to.changeTokenBalances(c.token, [c.safeAddress, c.adjudicatorAddress], [-TOKEN_DEPOSITS[1], TOKEN_DEPOSITS[1]]);
    expect(await c.token.allowance(c.safeAddress, c.adjudicatorAddress)).to.equal(0n);
  });

  for (const asset of ["ETH", "token"] as const) {
    it(`close pays participant 1's share straight to the Safe (${asset})`, async function () {
      const c = await loadFixture(fixture);
      const params = asset === "ETH" ? c.closeParams : c.tokenParams;
      const deposits = asset === "ETH" ? ETH_DEPOSITS : TOKEN_DEPOSITS;
      if (asset === "ETH") await c.safeDepositEth(params, 1, deposits[1]);
      else await c.safeDepositToken(params, deposits[1]);
      const transferred: [bigint, bigint] = [deposits[0] / 3n, deposits[1] / 10n];
      const final = makeState(params, 12n, transferred, true);
      const payouts = expectedPayouts(deposits, transferred);
      const tx = c.adjudicator.connect(c.executor).close(params, final, await signed(c.adjudicator, c.both, final));
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(params), 12n, payouts);
      await expect(tx).to.not.emit(c.adjudicator, "Credited");
      if (asset === "ETH") {
        await expect(tx).to.emit(c.safe, "SafeReceived").withArgs(c.adjudicatorAddress, payouts[1]);
        await expect(tx).to.changeEtherBalances([c.alice, c.bob, c.safeAddress], [payouts[0], 0n, payouts[1]]);
        await expectConserved(c.adjudicator, ETH, [c.closeParams, c.disputeParams, c.safeSignerParams], ethOwners(c));
      } else {
        await expect(tx).to.changeTokenBalances(c.token, [c.alice, c.bob, c.safeAddress], [payouts[0], 0n, payouts[1]]);
        await expectConserved(c.adjudicator, c.tokenAddress, [c.tokenParams], ethOwners(c));
      }
    });
  }

  it("the Safe disputes through execTransaction; settle pays it by the newest state", async function () {
    const c = await loadFixture(fixture);
    const params = c.disputeParams;
    await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
    const old = makeState(params, 3n, [ONE_ETH, 0n]);
    const newer = makeState(params, 4n, [ONE_ETH, ONE_ETH / 2n]);
    const oldSigs = await signed(c.adjudicator, c.both, old);
    const newerSigs = await signed(c.adjudicator, c.both, newer);
    // Alice registers an old state; the Safe (payee of participant 1) refutes it with the newer one.
    await c.adjudicator.connect(c.alice).challenge(params, old, oldSigs);
    const refute = c.adjudicator.interface.encodeFunctionData("challenge", [params, newer, newerSigs]);
    await expect(execSafe(c.safe, c.owners, c.executor, c.adjudicatorAddress, 0n, refute)).to.emit(c.adjudicator, "Challenged");
    const [, version, deadline] = await c.adjudicator.channel(idOf(params));
    expect(version).to.equal(4n);
    await time.increaseTo(deadline);
    const payouts = expectedPayouts(ETH_DEPOSITS, newer.transferred);
    const tx = c.adjudicator.connect(c.executor).settle(params, newer);
    await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(params), 4n, payouts, [0n, 0n]);
    await expect(tx).to.changeEtherBalances([c.alice, c.safeAddress], payouts);
    await expectConserved(c.adjudicator, ETH, [c.closeParams, c.disputeParams, c.safeSignerParams], ethOwners(c));
  });

  it("the Safe, as payee, may register the opening state without signatures and get its deposit back", async function () {
    const c = await loadFixture(fixture);
    const params = c.disputeParams;
    await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
    const open = opening(params);
    const data = c.adjudicator.interface.encodeFunctionData("challenge", [params, open, UNSIGNED]);
    await expect(execSafe(c.safe, c.owners, c.executor, c.adjudicatorAddress, 0n, data)).to.emit(c.adjudicator, "Challenged");
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(params, open)).to.changeEtherBalances([c.alice, c.safeAddress], ETH_DEPOSITS);
  });

  describe("an owner rotation between signing and closing changes nothing", function () {
    it("the old signed final state still closes and pays the Safe", async function () {
      const c = await loadFixture(fixture);
      const params = c.closeParams;
      await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
      const final = makeState(params, 7n, [ONE_ETH, 0n], true);
      const sigs = await signed(c.adjudicator, c.both, final);
      await rotateOwner(c, c.owners, c.ownerB, c.newOwner);
      const payouts = expectedPayouts(ETH_DEPOSITS, final.transferred);
      const tx = c.adjudicator.close(params, final, sigs);
      await expect(tx).to.emit(c.adjudicator, "Closed").withArgs(idOf(params), 7n, payouts);
      await expect(tx).to.changeEtherBalances([c.alice, c.safeAddress], payouts);
      // The money is the new owners' to move; the rotated-out owner can no longer sign for it.
      await expect(execSafe(c.safe, [c.ownerA, c.newOwner], c.executor, c.carol.address, payouts[1], "0x")).to.changeEtherBalances(
        [c.safeAddress, c.carol],
        [-payouts[1], payouts[1]],
      );
      // Safe's GS026: a signature by someone who is no longer an owner.
      await expect(execSafe(c.safe, [c.ownerA, c.ownerB], c.executor, c.carol.address, 1n, "0x")).to.be.revertedWith("GS026");
    });

    it("old signed states still refute and settle after the rotation, and the Safe is paid", async function () {
      const c = await loadFixture(fixture);
      const params = c.disputeParams;
      await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
      const states: ChannelState[] = [makeState(params, 1n, [ONE_ETH, 0n]), makeState(params, 2n, [2n * ONE_ETH, ONE_ETH / 2n])];
      const sigs: Sigs[] = [];
      for (const s of states) sigs.push(await signed(c.adjudicator, c.both, s));
      await c.adjudicator.connect(c.alice).challenge(params, states[0], sigs[0]);
      await rotateOwner(c, c.owners, c.ownerA, c.newOwner);
      await expect(c.adjudicator.connect(c.bob).challenge(params, states[1], sigs[1])).to.emit(c.adjudicator, "Challenged");
      await rotateOwner(c, [c.newOwner, c.ownerB], c.ownerB, c.ownerA);
      await time.increase(PERIOD);
      const payouts = expectedPayouts(ETH_DEPOSITS, states[1].transferred);
      expect(payouts[1]).to.be.greaterThan(expectedPayouts(ETH_DEPOSITS, states[0].transferred)[1]);
      const tx = c.adjudicator.settle(params, states[1]);
      await expect(tx).to.emit(c.adjudicator, "Settled").withArgs(idOf(params), 2n, payouts, [0n, 0n]);
      await expect(tx).to.changeEtherBalances([c.alice, c.safeAddress], payouts);
      await expectConserved(c.adjudicator, ETH, [c.closeParams, c.disputeParams, c.safeSignerParams], ethOwners(c));
    });
  });
});

describe("security: a Safe as a participant (an ERC-1271 signer) is refused", function () {
  /** The Safe's own ERC-1271 check of `digest` through its fallback handler. */
  async function safeAccepts(c: Ctx, digest: string, signature: string): Promise<string> {
    const asHandler = new Contract(c.safeAddress, FallbackHandlerArtifact.abi, ethers.provider);
    return asHandler.getFunction("isValidSignature(bytes32,bytes)").staticCall(digest, signature) as Promise<string>;
  }

  /** The owners' contract signature of `digest` (EIP-712 SafeMessage over the 32-byte digest). */
  async function contractSignature(c: Ctx, digest: string): Promise<Hex> {
    const domain = await safeDomain(c.safe);
    return safeSignatures(c.owners, (o) => o.signTypedData(domain, SAFE_MESSAGE_TYPES, { message: digest }));
  }

  /** Marks `digest` as signed by the Safe (SignMessageLib through a delegatecall): an empty signature then passes ERC-1271. */
  async function approveMessage(c: Ctx, digest: string): Promise<void> {
    const data = c.signMessageLib.interface.encodeFunctionData("signMessage", [digest]);
    await expect(execSafe(c.safe, c.owners, c.executor, c.signMessageLib.target as string, 0n, data, DELEGATECALL)).to.emit(
      c.safe,
      "SignMsg",
    );
  }

  const signatureKinds: { description: string; sign: (c: Ctx, digest: string) => Promise<Hex> }[] = [
    { description: "a contract signature by both owners", sign: (c, digest) => contractSignature(c, digest) },
    {
      description: "an approved message (empty signature)",
      sign: async (c, digest) => {
        await approveMessage(c, digest);
        return "0x";
      },
    },
  ];

  for (const { description, sign } of signatureKinds) {
    it(`refuses ${description}, which the Safe itself accepts, in close, challenge and partialWithdraw (SignatureInvalid(1))`, async function () {
      const c = await loadFixture(fixture);
      const params = c.safeSignerParams;
      await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
      const final = makeState(params, 5n, [ONE_ETH, 0n], true);
      const digest = await c.adjudicator.hashState(final);
      const safeSig = await sign(c, digest);
      expect(await safeAccepts(c, digest, safeSig)).to.equal(ERC1271_MAGIC);
      const sigs: Sigs = [await signState(c.adjudicator, c.alice, final), safeSig];
      await expect(c.adjudicator.close(params, final, sigs))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureInvalid")
        .withArgs(1);
      await expect(c.adjudicator.challenge(params, final, sigs))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureInvalid")
        .withArgs(1);

      const w = makeWithdrawal(params, 1, ONE_ETH, (await now()) + 3_600n);
      const wDigest = await c.adjudicator.hashWithdrawal(w);
      const wSig = await sign(c, wDigest);
      expect(await safeAccepts(c, wDigest, wSig)).to.equal(ERC1271_MAGIC);
      await expect(c.adjudicator.partialWithdraw(params, w, [await signWithdrawal(c.adjudicator, c.alice, w), wSig]))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureInvalid")
        .withArgs(1);
      const [mode, , , deposits] = await c.adjudicator.channel(idOf(params));
      expect(mode).to.equal(BigInt(ChannelMode.Open));
      expect([deposits[0], deposits[1]]).to.deep.equal(ETH_DEPOSITS);
    });
  }

  it("refuses an owner's own ECDSA signature in the Safe's place", async function () {
    const c = await loadFixture(fixture);
    const params = c.safeSignerParams;
    const final = makeState(params, 5n, [0n, 0n], true);
    for (const owner of c.owners) {
      const sigs: Sigs = [await signState(c.adjudicator, c.alice, final), await signState(c.adjudicator, owner, final)];
      await expect(c.adjudicator.close(params, final, sigs))
        .to.be.revertedWithCustomError(c.adjudicator, "SignatureInvalid")
        .withArgs(1);
    }
  });

  it("a Safe participant can still recover its deposit: the unsigned opening state, then settle", async function () {
    const c = await loadFixture(fixture);
    const params = c.safeSignerParams;
    await c.safeDepositEth(params, 1, ETH_DEPOSITS[1]);
    const open = opening(params);
    const data = c.adjudicator.interface.encodeFunctionData("challenge", [params, open, UNSIGNED]);
    await execSafe(c.safe, c.owners, c.executor, c.adjudicatorAddress, 0n, data);
    await time.increase(PERIOD);
    await expect(c.adjudicator.settle(params, open)).to.changeEtherBalances([c.alice, c.safeAddress], ETH_DEPOSITS);
    await expectConserved(c.adjudicator, ETH, [c.closeParams, c.disputeParams, c.safeSignerParams], ethOwners(c));
  });
});
