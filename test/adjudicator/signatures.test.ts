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
  addressOf,
  deployBase,
  domainOf,
  ecrecoverPrecompile,
  expectConserved,
  expectRevertRow,
  expectedPayouts,
  fund,
  idOf,
  makeParams,
  makeState,
  malleate,
  signWithDomain,
  signed,
  type ChannelParams,
  type ChannelState,
  type RevertRow,
  type Sigs,
} from "../helpers/fixture";

const DEPOSITS: [bigint, bigint] = [1_000n, 1_000n];

async function fixture() {
  const base = await deployBase();
  const { adjudicator, ethParams, both, participants } = base;
  await fund(adjudicator, ethParams, both, DEPOSITS);
  const otherParams = makeParams(participants, ETH, 99n);
  await fund(adjudicator, otherParams, both, DEPOSITS);
  const state = makeState(ethParams, 3n, [100n, 20n], true, ethers.id("root") as Hex);
  const sigs = await signed(adjudicator, both, state);
  const otherState: ChannelState = { ...state, channelId: idOf(otherParams) };
  const otherSigs = await signed(adjudicator, both, otherState);
  const second = await ethers.deployContract("Adjudicator");
  return { ...base, otherParams, state, sigs, otherState, otherSigs, second };
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
          description: "signatures made for another channel's state",
          sigs: (c) => c.otherSigs,
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
          sigs: async (c) => signed(c.adjudicator, c.both, { ...c.state, version: c.state.version + 1n }),
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "signatures for other transfers",
          sigs: async (c) => signed(c.adjudicator, c.both, { ...c.state, transferred: [0n, 20n] }),
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
          description: "a 64-byte EIP-2098 compact signature",
          sigs: (c) => [compact(c.sigs[0]), c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a signature with v = 0/1 instead of 27/28",
          sigs: (c) => {
            const b = ethers.getBytes(c.sigs[1]);
            b[64] -= 27;
            return [c.sigs[0], ethers.hexlify(b) as Hex];
          },
          error: "SignatureInvalid",
          args: () => [1],
        },
        {
          description: "a valid signature with a trailing byte (66 bytes)",
          sigs: (c) => [ethers.concat([c.sigs[0], "0x00"]) as Hex, c.sigs[1]],
          error: "SignatureInvalid",
          args: () => [0],
        },
        {
          description: "a personal_sign (EIP-191) signature of the digest",
          sigs: async (c) => [
            (await c.alice.signMessage(ethers.getBytes(await c.adjudicator.hashState(c.state)))) as Hex,
            c.sigs[1],
          ],
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
        await expect(submit(ctx, ctx.ethParams, ctx.state, ctx.sigs)).to.not.be.reverted;
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

  it("signatures for another channel's state are valid there (so only the channel binding rejects them here)", async function () {
    const { adjudicator, carol, otherParams, otherState, otherSigs } = await loadFixture(fixture);
    await expect(adjudicator.connect(carol).close(otherParams, otherState, otherSigs)).to.emit(adjudicator, "Closed");
  });

  it("signatures for another verifying contract are valid there", async function () {
    const c = await loadFixture(fixture);
    const secondAddress = await addressOf(c.second);
    await c.second.connect(c.alice).deposit(c.ethParams, 0, 10n, { value: 10n });
    const sigs = await signBothWithDomain(c, { verifyingContract: secondAddress }, c.state);
    await expect(c.second.close(c.ethParams, c.state, sigs)).to.emit(c.second, "Closed");
  });
});

describe("security: ERC-1271 contract wallets as participants", function () {
  async function walletFixture() {
    const base = await deployBase();
    const { adjudicator, alice, carol } = base;
    const wallet = await ethers.deployContract("ERC1271Wallet", [carol.address]);
    const walletAddress = await addressOf(wallet);
    const params = makeParams([alice.address as Address, walletAddress], ETH, 7n);
    await adjudicator.connect(alice).deposit(params, 0, DEPOSITS[0], { value: DEPOSITS[0] });
    await adjudicator.connect(carol).deposit(params, 1, DEPOSITS[1], { value: DEPOSITS[1] });
    const state = makeState(params, 2n, [300n, 0n], true);
    // The wallet's owner signs the same EIP-712 digest; the wallet vouches for it.
    const sigs: Sigs = [await signState(adjudicator, alice, state), await signState(adjudicator, carol, state)];
    const reversed = makeParams([walletAddress, alice.address as Address], ETH, 8n);
    await adjudicator.connect(alice).deposit(reversed, 1, 10n, { value: 10n });
    return { ...base, wallet, walletAddress, params, state, sigs, reversed };
  }

  it("accepts the wallet's signature in close and pays the wallet", async function () {
    const { adjudicator, alice, wallet, walletAddress, params, reversed, state, sigs } = await loadFixture(walletFixture);
    const payouts = expectedPayouts(DEPOSITS, state.transferred);
    const tx = adjudicator.close(params, state, sigs);
    await expect(tx).to.emit(adjudicator, "Closed").withArgs(idOf(params), 2n, payouts);
    await expect(tx).to.changeEtherBalances([alice, walletAddress], payouts);
    expect(await wallet.owner()).to.not.equal(walletAddress);
    await expectConserved(adjudicator, ETH, [params, reversed], [alice.address, walletAddress]);
  });

  it("accepts the wallet's signature in challenge", async function () {
    const { adjudicator, params, state, sigs } = await loadFixture(walletFixture);
    await expect(adjudicator.challenge(params, state, sigs)).to.emit(adjudicator, "Challenged");
  });

  it("accepts a wallet as participant 0", async function () {
    const { adjudicator, alice, carol, reversed } = await loadFixture(walletFixture);
    const s = makeState(reversed, 1n, [0n, 0n], true);
    await expect(
      adjudicator.close(reversed, s, [await signState(adjudicator, carol, s), await signState(adjudicator, alice, s)]),
    ).to.emit(adjudicator, "Closed");
  });

  const rows: (Omit<RevertRow<Awaited<ReturnType<typeof walletFixture>>>, "call"> & {
    prepare: (c: Awaited<ReturnType<typeof walletFixture>>) => Promise<Sigs>;
  })[] = [
    {
      description: "a wallet that rejects every signature",
      prepare: async (c) => {
        await c.wallet.connect(c.carol).setRejecting(true);
        return c.sigs;
      },
      error: "SignatureInvalid",
      args: () => [1],
    },
    {
      description: "a wallet signature made by a key that is not the wallet's owner",
      prepare: async (c) => [c.sigs[0], await signState(c.adjudicator, c.mallory, c.state)],
      error: "SignatureInvalid",
      args: () => [1],
    },
    {
      description: "no signature for the wallet",
      prepare: async (c) => [c.sigs[0], "0x"],
      error: "SignatureInvalid",
      args: () => [1],
    },
    {
      description: "the wallet's signature in participant 0's place",
      prepare: async (c) => [c.sigs[1], c.sigs[1]],
      error: "SignatureInvalid",
      args: () => [0],
    },
  ];
  for (const row of rows) {
    it(`rejects ${row.description} (${row.error})`, async function () {
      const ctx = await loadFixture(walletFixture);
      const sigs = await row.prepare(ctx);
      await expectRevertRow(ctx.adjudicator, { ...row, call: (c) => c.adjudicator.close(c.params, c.state, sigs) }, ctx);
      await expectRevertRow(ctx.adjudicator, { ...row, call: (c) => c.adjudicator.challenge(c.params, c.state, sigs) }, ctx);
    });
  }

  it("a wallet can revoke a signature it gave: the newer state is then refused (ERC-1271 signatures are revocable)", async function () {
    // Documents a limit of contract-wallet participants: the property "an older state never beats
    // a newer one" assumes signatures stay valid. The wallet registers an old state, then turns
    // rejecting, and the counterparty's newer state, signed by the wallet earlier, no longer counts.
    const { adjudicator, alice, carol, wallet, params } = await loadFixture(walletFixture);
    const old = makeState(params, 1n, [0n, 500n]);
    const newer = makeState(params, 2n, [0n, 0n]);
    const sign = async (s: ChannelState): Promise<Sigs> => [await signState(adjudicator, alice, s), await signState(adjudicator, carol, s)];
    const oldSigs = await sign(old);
    const newerSigs = await sign(newer);
    await adjudicator.connect(carol).challenge(params, old, oldSigs);
    await wallet.connect(carol).setRejecting(true);
    await expect(adjudicator.connect(alice).challenge(params, newer, newerSigs))
      .to.be.revertedWithCustomError(adjudicator, "SignatureInvalid")
      .withArgs(1);
    await time.increase(PERIOD);
    await expect(adjudicator.settle(params)).to.emit(adjudicator, "Settled").withArgs(idOf(params), 1n, expectedPayouts(DEPOSITS, old.transferred));
  });
});
