import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { ContractTransactionResponse } from "ethers";
import { DOMAIN_NAME, DOMAIN_VERSION } from "../../src/typedData";
import { ETH, ChannelMode, type Address, type Hex } from "../../src/types";
import { signState } from "../helpers/channel";
import {
  PERIOD,
  SECP256K1_N,
  UNSIGNED,
  addressOf,
  deployBase,
  domainOf,
  ecrecoverPrecompile,
  expectConserved,
  expectRevertRow,
  expectedSplit,
  fund,
  idOf,
  makeParams,
  makeState,
  malleate,
  opening,
  signWithDomain,
  signed,
  type ChannelParams,
  type ChannelState,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];
/** ERC-1271 `isValidSignature` magic value. */
const ERC1271_MAGIC = ethers.id("isValidSignature(bytes32,bytes)").slice(0, 10);

async function fixture() {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  const [payee0, payee1] = [signers[5], signers[6]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const { adjudicator, both, participants } = base;
  const ethParams = makeParams(participants, ETH, 1n, PERIOD, payees);
  await fund(adjudicator, ethParams, both, DEPOSITS);
  const otherParams = makeParams(participants, ETH, 99n, PERIOD, payees);
  await fund(adjudicator, otherParams, both, DEPOSITS);
  // The same participants and nonce, other payees: another channel.
  const otherPayeesParams = makeParams(participants, ETH, 1n);
  const state = makeState(ethParams, 3n, [100n, 20n], true, ethers.id("root") as Hex);
  const sigs = await signed(adjudicator, both, state);
  const otherState: ChannelState = { ...state, channelId: idOf(otherParams) };
  const otherSigs = await signed(adjudicator, both, otherState);
  const second = await ethers.deployContract("Adjudicator");
  return { ...base, payee0, payee1, payees, ethParams, otherParams, otherPayeesParams, state, sigs, otherState, otherSigs, second };
}

type Ctx = Awaited<ReturnType<typeof fixture>>;
type Submit = (c: Ctx, params: ChannelParams, state: ChannelState, sigs: Sigs) => Promise<ContractTransactionResponse>;

const SUBMITTERS: { name: string; submit: Submit }[] = [
  { name: "close", submit: (c, p, s, sigs) => c.adjudicator.connect(c.carol).close(p, s, sigs) },
  { name: "challenge", submit: (c, p, s, sigs) => c.adjudicator.connect(c.carol).challenge(p, s, sigs) },
];

/** Signs `state` by both participants under the Sluice domain with one field changed. */
async function signBothWithDomain(c: Ctx, change: Record<string, unknown>, state: ChannelState): Promise<Sigs> {
  const domain = { ...(await domainOf(c.adjudicator)), ...change };
  return [await signWithDomain(c.alice, domain, state), await signWithDomain(c.bob, domain, state)];
}

/** The 64-byte EIP-2098 form (r, yParity|s) of a 65-byte signature. */
function compact(sig: Hex): Hex {
  return ethers.Signature.from(sig).compactSerialized as Hex;
}

/** `sig` with its v byte replaced. */
function withV(sig: Hex, v: number): Hex {
  const b = ethers.getBytes(sig);
  b[64] = v;
  return ethers.hexlify(b) as Hex;
}

/** Both participants' signatures of `c.state` with some fields changed. */
const signedChange = (c: Ctx, change: Partial<ChannelState>): Promise<Sigs> => signed(c.adjudicator, c.both, { ...c.state, ...change });

describe("security: a state not signed by both participants of this channel, chain and contract is rejected", function () {
  for (const { name, submit } of SUBMITTERS) {
    describe(`#${name}`, function () {
      const rows: (Omit<RevertRow<Ctx>, "call"> & { sigs: (c: Ctx) => Promise<Sigs> | Sigs; state?: (c: Ctx) => ChannelState })[] = [
        { description: "unsigned", sigs: () => ["0x", "0x"], error: "SignatureInvalid", args: () => [0] },
        { description: "half-signed (participant 0 only)", sigs: (c) => [c.sigs[0], "0x"], error: "SignatureInvalid", args: () => [1] },
        { description: "half-signed (participant 1 only)", sigs: (c) => ["0x", c.sigs[1]], error: "SignatureInvalid", args: () => [0] },
        { description: "signed twice by participant 0", sigs: (c) => [c.sigs[0], c.sigs[0]], error: "SignatureInvalid", args: () => [1] },
        { description: "signed twice by participant 1", sigs: (c) => [c.sigs[1], c.sigs[1]], error: "SignatureInvalid", args: () => [0] },
        { description: "signatures in swapped order", sigs: (c) => [c.sigs[1], c.sigs[0]], error: "SignatureInvalid", args: () => [0] },
        {
          description: "a non-participant's signature for participant 0",
          sigs: async (c) => [await signState(c.adjudicator, c.mallory, c.state), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a non-participant's signature for participant 1",
          sigs: async (c) => [c.sigs[0], await signState(c.adjudicator, c.mallory, c.state)],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "payee 0's signature for participant 0 (payees receive, only participants sign)",
          sigs: async (c) => [await signState(c.adjudicator, c.payee0, c.state), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "payee 1's signature for participant 1",
          sigs: async (c) => [c.sigs[0], await signState(c.adjudicator, c.payee1, c.state)],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "signatures made for another channel's state",
          sigs: (c) => c.otherSigs,
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures made for the state of the channel with the same participants and other payees",
          sigs: (c) => signedChange(c, { channelId: idOf(c.otherPayeesParams) }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a state (validly signed) that names another channel",
          state: (c) => c.otherState,
          sigs: (c) => c.otherSigs,
          error: "StateChannelMismatch",
          args: (c) => [idOf(c.ethParams), idOf(c.otherParams)],
        },
        {
          description: "signatures for another version of the state",
          sigs: (c) => signedChange(c, { version: c.state.version + 1n }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures for other transfers",
          sigs: (c) => signedChange(c, { transferred: [0n, 20n] }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures for another payments root",
          sigs: (c) => signedChange(c, { paymentsRoot: ethers.id("other root") as Hex }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures for the same state with locks (locked and locksRoot)",
          sigs: (c) => signedChange(c, { locked: [1n, 0n], locksRoot: ethers.id("locks") as Hex }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures for the same state with locked[1] nonzero",
          sigs: (c) => signedChange(c, { locked: [0n, 1n] }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signed for another chain id",
          sigs: (c) => signBothWithDomain(c, { chainId: 1n }, c.state),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "participant 1 signed for another chain id",
          sigs: async (c) => [c.sigs[0], (await signBothWithDomain(c, { chainId: 1n }, c.state))[1]],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "signed for another verifying contract",
          sigs: async (c) => signBothWithDomain(c, { verifyingContract: await addressOf(c.second) }, c.state),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "participant 1 signed for another verifying contract",
          sigs: async (c) => [c.sigs[0], (await signBothWithDomain(c, { verifyingContract: await addressOf(c.second) }, c.state))[1]],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "signed under another domain name",
          sigs: (c) => signBothWithDomain(c, { name: `${DOMAIN_NAME}2` }, c.state),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signed under another domain version",
          sigs: (c) => signBothWithDomain(c, { version: `${DOMAIN_VERSION}1` }, c.state),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: 'signed under the protocol v1 domain (version "1")',
          sigs: (c) => signBothWithDomain(c, { version: "1" }, c.state),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a high-s (malleated) signature of participant 0",
          sigs: (c) => [malleate(c.sigs[0]), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a high-s (malleated) signature of participant 1",
          sigs: (c) => [c.sigs[0], malleate(c.sigs[1])],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "a 64-byte EIP-2098 compact signature of participant 0",
          sigs: (c) => [compact(c.sigs[0]), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a 64-byte EIP-2098 compact signature of participant 1",
          sigs: (c) => [c.sigs[0], compact(c.sigs[1])],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "a signature with v = 0/1 instead of 27/28",
          sigs: (c) => [c.sigs[0], withV(c.sigs[1], ethers.getBytes(c.sigs[1])[64] - 27)],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "a signature with the other v (27 <-> 28)",
          sigs: (c) => [withV(c.sigs[0], ethers.getBytes(c.sigs[0])[64] === 27 ? 28 : 27), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a signature with v = 29",
          sigs: (c) => [withV(c.sigs[0], 29), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a signature with r = 0",
          sigs: (c) => [c.sigs[0], ethers.concat([ethers.ZeroHash, ethers.dataSlice(c.sigs[1], 32)]) as Hex],
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "a signature with s = 0",
          sigs: (c) => [
            ethers.concat([ethers.dataSlice(c.sigs[0], 0, 32), ethers.ZeroHash, ethers.dataSlice(c.sigs[0], 64)]) as Hex,
            c.sigs[1],
          ],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a valid signature with a trailing byte (66 bytes)",
          sigs: (c) => [ethers.concat([c.sigs[0], "0x00"]) as Hex, c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a personal_sign (EIP-191) signature of the digest",
          sigs: async (c) => [(await c.alice.signMessage(ethers.getBytes(await c.adjudicator.hashState(c.state)))) as Hex, c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
      ];

      for (const row of rows) {
        it(`rejects ${row.description} (${row.error})`, async function () {
          const ctx = await loadFixture(fixture);
          const state = row.state ? row.state(ctx) : ctx.state;
          const sigs = await row.sigs(ctx);
          await expectRevertRow(ctx.adjudicator, { ...row, call: (c) => submit(c, c.ethParams, state, sigs) }, ctx);
          const [mode, , , deposits] = await ctx.adjudicator.channel(idOf(ctx.ethParams));
          expect(mode).to.equal(ChannelMode.Open);
          expect(deposits).to.deep.equal(DEPOSITS);
        });
      }

      it("accepts the same state with both proper signatures", async function () {
        const ctx = await loadFixture(fixture);
        await expect(submit(ctx, ctx.ethParams, ctx.state, ctx.sigs)).to.emit(ctx.adjudicator, name === "close" ? "Closed" : "Challenged");
      });
    });
  }

  it("the malleated signature is one ecrecover accepts for the same signer (so only the low-s rule rejects it)", async function () {
    const { adjudicator, alice, bob, state, sigs } = await loadFixture(fixture);
    const digest = (await adjudicator.hashState(state)) as Hex;
    for (const [i, signer] of [alice, bob].entries()) {
      const high = malleate(sigs[i]);
      expect(BigInt(ethers.dataSlice(high, 32, 64))).to.be.greaterThan(SECP256K1_N / 2n);
      expect(await ecrecoverPrecompile(digest, sigs[i])).to.equal(signer.address);
      expect(await ecrecoverPrecompile(digest, high)).to.equal(signer.address);
    }
  });

  it("the compact signature encodes the same (r, s, v) (so only the length rule rejects it)", async function () {
    const { sigs } = await loadFixture(fixture);
    for (const sig of sigs) {
      expect(ethers.getBytes(compact(sig)).length).to.equal(64);
      expect(ethers.Signature.from(compact(sig)).serialized).to.equal(sig);
    }
  });

  it("signatures for another channel's state are valid there (so only the channel binding rejects them here)", async function () {
    const { adjudicator, carol, otherParams, otherState, otherSigs } = await loadFixture(fixture);
    await expect(adjudicator.connect(carol).close(otherParams, otherState, otherSigs)).to.emit(adjudicator, "Closed");
  });

  it("signatures for another verifying contract are valid there", async function () {
    const c = await loadFixture(fixture);
    await c.second.connect(c.alice).deposit(c.ethParams, 0, 10n, { value: 10n });
    const sigs = await signBothWithDomain(c, { verifyingContract: await addressOf(c.second) }, c.state);
    await expect(c.second.close(c.ethParams, c.state, sigs)).to.emit(c.second, "Closed");
  });
});

describe("security: ERC-1271 contract wallets can't be participants (ECDSA keys only)", function () {
  async function walletFixture() {
    const base = await deployBase();
    const { adjudicator, alice, carol } = base;
    // A wallet whose owner key is carol: its isValidSignature accepts what carol signs.
    const wallet = await ethers.deployContract("ERC1271Wallet", [carol.address]);
    const walletAddress = await addressOf(wallet);
    const asParticipant1 = makeParams([alice.address as Address, walletAddress], ETH, 7n);
    const asParticipant0 = makeParams([walletAddress, alice.address as Address], ETH, 8n);
    for (const params of [asParticipant1, asParticipant0]) await fund(adjudicator, params, [alice, alice], DEPOSITS);
    const state1 = makeState(asParticipant1, 2n, [300n, 0n], true);
    const state0 = makeState(asParticipant0, 2n, [300n, 0n], true);
    // The wallet's owner signs the same EIP-712 digest; the wallet vouches for it.
    const sigs1: Sigs = [await signState(adjudicator, alice, state1), await signState(adjudicator, carol, state1)];
    const sigs0: Sigs = [await signState(adjudicator, carol, state0), await signState(adjudicator, alice, state0)];
    return { ...base, wallet, walletAddress, asParticipant1, asParticipant0, state1, state0, sigs1, sigs0 };
  }
  type WCtx = Awaited<ReturnType<typeof walletFixture>>;

  it("the wallet itself accepts its owner's signature of the state digest (isValidSignature returns the magic value)", async function () {
    const { adjudicator, wallet, state1, sigs1, state0, sigs0 } = await loadFixture(walletFixture);
    expect(await wallet.isValidSignature(await adjudicator.hashState(state1), sigs1[1])).to.equal(ERC1271_MAGIC);
    expect(await wallet.isValidSignature(await adjudicator.hashState(state0), sigs0[0])).to.equal(ERC1271_MAGIC);
  });

  const cases: { name: string; call: (c: WCtx, sigs: (c: WCtx) => Sigs) => Promise<ContractTransactionResponse>; index: 0 | 1 }[] = [
    { name: "close, the wallet as participant 1", call: (c, s) => c.adjudicator.close(c.asParticipant1, c.state1, s(c)), index: 1 },
    { name: "challenge, the wallet as participant 1", call: (c, s) => c.adjudicator.challenge(c.asParticipant1, c.state1, s(c)), index: 1 },
    { name: "close, the wallet as participant 0", call: (c, s) => c.adjudicator.close(c.asParticipant0, c.state0, s(c)), index: 0 },
    { name: "challenge, the wallet as participant 0", call: (c, s) => c.adjudicator.challenge(c.asParticipant0, c.state0, s(c)), index: 0 },
  ];
  for (const { name, call, index } of cases) {
    it(`refuses the wallet's signature in ${name} (SignatureInvalid(${index}))`, async function () {
      const ctx = await loadFixture(walletFixture);
      const sigs = (c: WCtx) => (index === 1 ? c.sigs1 : c.sigs0);
      await expectRevertRow(
        ctx.adjudicator,
        { description: name, call: (c) => call(c, sigs), error: "SignatureInvalid", args: () => [index] },
        ctx,
      );
      // Neither an empty "pre-approved" signature nor the owner key's signature counts for the wallet.
      const empty = (c: WCtx): Sigs => (index === 1 ? [c.sigs1[0], "0x"] : ["0x", c.sigs0[1]]);
      await expectRevertRow(
        ctx.adjudicator,
        { description: name, call: (c) => call(c, empty), error: "SignatureInvalid", args: () => [index] },
        ctx,
      );
      for (const params of [ctx.asParticipant1, ctx.asParticipant0]) {
        expect((await ctx.adjudicator.channel(idOf(params))).mode).to.equal(ChannelMode.Open);
      }
    });
  }

  it("so the v1 attack is gone: no signature a wallet gave can be revoked, since no wallet signature ever counts", async function () {
    // v1 accepted ERC-1271 participants: a wallet registered an old state, then rejected every
    // signature, and the newer state it had signed no longer refuted the old one. In v2 the
    // wallet's signature is refused from the start, so no state depends on a revocable one.
    const { adjudicator, alice, carol, wallet, asParticipant1 } = await loadFixture(walletFixture);
    const old = makeState(asParticipant1, 1n, [0n, 500n]);
    const oldSigs: Sigs = [await signState(adjudicator, alice, old), await signState(adjudicator, carol, old)];
    await expect(adjudicator.connect(carol).challenge(asParticipant1, old, oldSigs))
      .to.be.revertedWithCustomError(adjudicator, "SignatureInvalid")
      .withArgs(1);
    await wallet.connect(carol).setRejecting(true);
    await expect(adjudicator.connect(carol).challenge(asParticipant1, old, oldSigs))
      .to.be.revertedWithCustomError(adjudicator, "SignatureInvalid")
      .withArgs(1);
  });

  it("a channel with a wallet as participant can still be wound up: the other participant registers the opening state", async function () {
    const { adjudicator, alice, walletAddress, asParticipant1 } = await loadFixture(walletFixture);
    await adjudicator.connect(alice).challenge(asParticipant1, opening(asParticipant1), UNSIGNED);
    await time.increase(PERIOD);
    const tx = adjudicator.settle(asParticipant1, opening(asParticipant1));
    await expect(tx).to.emit(adjudicator, "Settled").withArgs(idOf(asParticipant1), 0n, DEPOSITS, [0n, 0n]);
    await expect(tx).to.changeEtherBalances([alice, walletAddress], DEPOSITS);
  });

  it("a wallet may be a payee: ECDSA keys sign, the wallet is paid", async function () {
    const { adjudicator, alice, bob, both, participants, walletAddress, asParticipant0, asParticipant1 } = await loadFixture(walletFixture);
    const params = makeParams(participants, ETH, 9n, PERIOD, [alice.address as Address, walletAddress]);
    await fund(adjudicator, params, both, DEPOSITS);
    const s = makeState(params, 1n, [250n, 0n], true);
    const { payouts } = expectedSplit(DEPOSITS, s.transferred);
    const tx = adjudicator.close(params, s, await signed(adjudicator, both, s));
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(params), 1n, payouts);
    await expect(tx).to.changeEtherBalances([alice, walletAddress, bob], [payouts[0], payouts[1], 0n]);
    await expectConserved(adjudicator, ETH, [params, asParticipant0, asParticipant1], [alice.address, walletAddress]);
  });
});
