/**
 * An EIP-712 implementation independent of ethers and of the client's hashers:
 * `@metamask/eth-sig-util` (signTypedData V4, MetaMask's own). Its digests of random states and
 * withdrawals equal the contract's `hashState`/`hashWithdrawal` and the client's `StateHasher`,
 * and the contract accepts its signatures: a challenge and a partialWithdraw signed only by it
 * succeed on the Hardhat network. The other way round, it recovers the client's signatures.
 */
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { SignTypedDataVersion, TypedDataUtils, recoverTypedSignature, signTypedData, type MessageTypes, type TypedMessage } from "@metamask/eth-sig-util";
import { KeySigner, StateHasher, channelId, toHex } from "../../src/crypto";
import { DOMAIN_NAME, DOMAIN_VERSION, STATE_TYPES, WITHDRAWAL_TYPES, paramsValue, stateValue, withdrawalValue } from "../../src/typedData";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type State, type Withdrawal } from "../../src/types";
import { bytes32, privateKeyArb, stateArb, uint, UINT256_MAX, UINT64_MAX, withdrawalArb } from "./arbitraries";

const V4 = SignTypedDataVersion.V4;
const EIP712_DOMAIN = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];
const DEPOSIT = 10n ** 18n;

/** Integers as decimal strings and arrays copied: the JSON shape a wallet receives over RPC. */
function json(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "bigint") out[k] = v.toString();
    else if (Array.isArray(v)) out[k] = (v as unknown[]).map((x) => (typeof x === "bigint" ? x.toString() : x));
    else out[k] = v;
  }
  return out;
}

describe("EIP-712 by eth-sig-util against the contract", function () {
  async function fixture() {
    const adjudicator = await ethers.deployContract("Adjudicator");
    const [funder] = await ethers.getSigners();
    const { chainId } = await ethers.provider.getNetwork();
    const verifyingContract = (await adjudicator.getAddress()) as Address;
    const domain = { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: Number(chainId), verifyingContract };
    const stateData = (state: State): TypedMessage<MessageTypes> => ({
      types: { EIP712Domain: EIP712_DOMAIN, State: STATE_TYPES.State },
      primaryType: "State",
      domain,
      message: json(stateValue(state)),
    });
    const withdrawalData = (w: Withdrawal): TypedMessage<MessageTypes> => ({
      types: { EIP712Domain: EIP712_DOMAIN, Withdrawal: WITHDRAWAL_TYPES.Withdrawal },
      primaryType: "Withdrawal",
      domain,
      message: json(withdrawalValue(w)),
    });
    return { adjudicator, funder, hasher: new StateHasher(chainId, verifyingContract), stateData, withdrawalData };
  }

  /** A channel between two random keys, funded by `funder`, paying the keys' own addresses. */
  async function openChannel(f: Awaited<ReturnType<typeof fixture>>, keys: readonly [Hex, Hex], nonce: bigint) {
    const signers = [new KeySigner(keys[0]), new KeySigner(keys[1])] as const;
    const participants: [Address, Address] = [signers[0].address, signers[1].address];
    const params: Params = { participants, payees: participants, asset: ETH, challengePeriod: 3_600n, nonce };
    for (const i of [0, 1] as const) await f.adjudicator.connect(f.funder).deposit(paramsValue(params) as never, i, DEPOSIT, { value: DEPOSIT });
    return { params, id: channelId(params), participants };
  }

  const distinctKeys = () => fc.tuple(privateKeyArb(), privateKeyArb()).filter(([a, b]) => a !== b);

  it("its state digests equal the contract's hashState and StateHasher on 200 random states", async function () {
    const f = await loadFixture(fixture);
    await fc.assert(
      fc.asyncProperty(stateArb(), async (state) => {
        const digest = toHex(TypedDataUtils.eip712Hash(f.stateData(state), V4));
        expect(digest).to.equal(await f.adjudicator.hashState(stateValue(state) as never));
        expect(digest).to.equal(f.hasher.digestHex(state));
      }),
      { numRuns: 200 },
    );
  });

  it("its withdrawal digests equal the contract's hashWithdrawal and StateHasher on 200 random withdrawals", async function () {
    const f = await loadFixture(fixture);
    await fc.assert(
      fc.asyncProperty(withdrawalArb(), async (w) => {
        const digest = toHex(TypedDataUtils.eip712Hash(f.withdrawalData(w), V4));
        expect(digest).to.equal(await f.adjudicator.hashWithdrawal(withdrawalValue(w) as never));
        expect(digest).to.equal(f.hasher.withdrawalDigestHex(w));
      }),
      { numRuns: 200 },
    );
  });

  it("a challenge signed by eth-sig-util is registered, on 25 random states and keys", async function () {
    // Any numbers: challenge checks signatures, not balances. A final state carries no locks.
    const registrable = fc
      .record({
        version: uint(UINT64_MAX),
        transferred: fc.tuple(uint(UINT256_MAX), uint(UINT256_MAX)),
        locked: fc.tuple(uint(UINT256_MAX), uint(UINT256_MAX)),
        locksRoot: bytes32(),
        paymentsRoot: bytes32(),
        isFinal: fc.boolean(),
      })
      .map((s) => (s.isFinal ? { ...s, locked: [0n, 0n] as [bigint, bigint], locksRoot: ZERO_HASH } : s));
    let nonce = 0n;
    await fc.assert(
      fc.asyncProperty(distinctKeys(), registrable, async (keys, fields) => {
        const f = await loadFixture(fixture);
        const { params, id } = await openChannel(f, keys, ++nonce);
        const state: State = { channelId: id, ...fields };
        const data = f.stateData(state);
        const sigs = keys.map((k) => signTypedData({ privateKey: Buffer.from(k.slice(2), "hex"), data, version: V4 })) as [Hex, Hex];
        const tx = f.adjudicator.connect(f.funder).challenge(paramsValue(params) as never, stateValue(state) as never, sigs);
        await expect(tx).to.emit(f.adjudicator, "Challenged");
        const [mode, version] = await f.adjudicator.channel(id);
        expect([mode, version]).to.deep.equal([2n, state.version]);
      }),
      { numRuns: 25 },
    );
  });

  it("a withdrawal signed by eth-sig-util is executed, on 25 random withdrawals and keys", async function () {
    let nonce = 0n;
    await fc.assert(
      fc.asyncProperty(
        distinctKeys(),
        fc.constantFrom(0 as const, 1 as const),
        fc.bigInt({ min: 1n, max: 2n * DEPOSIT }),
        fc.bigInt({ min: 60n, max: 10n ** 9n }),
        async (keys, participant, total, lifetime) => {
          const f = await loadFixture(fixture);
          const { params, id, participants } = await openChannel(f, keys, ++nonce);
          const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
          const w: Withdrawal = { channelId: id, participant, total, expiry: now + lifetime };
          const data = f.withdrawalData(w);
          const sigs = keys.map((k) => signTypedData({ privateKey: Buffer.from(k.slice(2), "hex"), data, version: V4 })) as [Hex, Hex];
          const tx = f.adjudicator.connect(f.funder).partialWithdraw(paramsValue(params) as never, withdrawalValue(w) as never, sigs);
          await expect(tx).to.emit(f.adjudicator, "PartiallyWithdrawn").withArgs(id, participant, total, total);
          await expect(tx).to.changeEtherBalance(participants[participant], total);
          const [, , , , withdrawn] = await f.adjudicator.channel(id);
          expect(withdrawn[participant]).to.equal(total);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("recovers the client's own signatures (KeySigner over StateHasher digests) to the signer", async function () {
    const f = await loadFixture(fixture);
    fc.assert(
      fc.property(privateKeyArb(), stateArb(), withdrawalArb(), (key, state, w) => {
        const signer = new KeySigner(key);
        const stateSig = signer.sign(f.hasher.digest(state));
        const withdrawalSig = signer.sign(f.hasher.withdrawalDigest(w));
        expect(recoverTypedSignature({ data: f.stateData(state), signature: stateSig, version: V4 })).to.equal(signer.address);
        expect(recoverTypedSignature({ data: f.withdrawalData(w), signature: withdrawalSig, version: V4 })).to.equal(signer.address);
        // And both libraries sign identically (RFC 6979 nonces, low s).
        expect(signTypedData({ privateKey: Buffer.from(key.slice(2), "hex"), data: f.stateData(state), version: V4 })).to.equal(stateSig);
      }),
      { numRuns: 50 },
    );
  });
});
