/**
 * Shared building blocks of the adjudicator tests: a base deployment, params and state builders in
 * the mutable shapes the typechain bindings take, signature tricks for the security tests, revert
 * tables checked against the ABI, and the money-conservation check.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import type { ContractTransactionResponse, Signer, TypedDataDomain } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Adjudicator, MockERC20 } from "../../typechain-types";
import { STATE_TYPES, sluiceDomain, stateValue } from "../../src/typedData";
import { ETH, ZERO_HASH, type Address, type Hex } from "../../src/types";
import { channelIdOf, openingState, signBoth } from "./channel";

/** Params in the mutable shape typechain's `ParamsStruct` takes (also a valid `Params`). */
export interface ChannelParams {
  participants: [Address, Address];
  payees: [Address, Address];
  asset: Address;
  challengePeriod: bigint;
  nonce: bigint;
}

/** State in the mutable shape typechain's `StateStruct` takes (also a valid `State`). */
export interface ChannelState {
  channelId: Hex;
  version: bigint;
  transferred: [bigint, bigint];
  locked: [bigint, bigint];
  locksRoot: Hex;
  paymentsRoot: Hex;
  isFinal: boolean;
}

/** Withdrawal in the mutable shape typechain's `WithdrawalStruct` takes (also a valid `Withdrawal`). */
export interface ChannelWithdrawal {
  channelId: Hex;
  participant: 0 | 1;
  total: bigint;
  expiry: bigint;
}

export type Sigs = [Hex, Hex];

export const PERIOD = 3_600n;
/** The adjudicator's push gas limits (internal constants, no getters: see Adjudicator.sol). */
export const ETH_PUSH_GAS = 30_000n;
export const TOKEN_PUSH_GAS = 80_000n;
export const ONE_ETH = 10n ** 18n;
export const UNSIGNED: Sigs = ["0x", "0x"];
/** Order of the secp256k1 group. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export async function addressOf(x: { getAddress(): Promise<string> }): Promise<Address> {
  return (await x.getAddress()) as Address;
}

export function makeParams(
  participants: readonly [Address, Address],
  asset: Address = ETH,
  nonce = 1n,
  challengePeriod = PERIOD,
  payees: readonly [Address, Address] = participants,
): ChannelParams {
  return { participants: [participants[0], participants[1]], payees: [payees[0], payees[1]], asset, challengePeriod, nonce };
}

export function idOf(params: ChannelParams): Hex {
  return channelIdOf(params);
}

export function opening(params: ChannelParams): ChannelState {
  const s = openingState(channelIdOf(params));
  return { ...s, transferred: [s.transferred[0], s.transferred[1]], locked: [s.locked[0], s.locked[1]] };
}

export function makeState(
  params: ChannelParams,
  version: bigint,
  transferred: readonly [bigint, bigint],
  isFinal = false,
  paymentsRoot: Hex = ZERO_HASH,
  locks: { locked: readonly [bigint, bigint]; locksRoot: Hex } = { locked: [0n, 0n], locksRoot: ZERO_HASH },
): ChannelState {
  return {
    channelId: channelIdOf(params),
    version,
    transferred: [transferred[0], transferred[1]],
    locked: [locks.locked[0], locks.locked[1]],
    locksRoot: locks.locksRoot,
    paymentsRoot,
    isFinal,
  };
}

export function makeWithdrawal(params: ChannelParams, participant: 0 | 1, total: bigint, expiry: bigint): ChannelWithdrawal {
  return { channelId: channelIdOf(params), participant, total, expiry };
}

/** Signs `state` under an arbitrary EIP-712 domain (another chain, contract, name...). */
export async function signWithDomain(signer: Signer, domain: TypedDataDomain, state: ChannelState): Promise<Hex> {
  return (await signer.signTypedData(domain, STATE_TYPES, stateValue(state))) as Hex;
}

export async function domainOf(adjudicator: Adjudicator): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return sluiceDomain(chainId, await addressOf(adjudicator));
}

export async function signed(adjudicator: Adjudicator, signers: readonly [Signer, Signer], state: ChannelState): Promise<Sigs> {
  return signBoth(adjudicator, signers, state);
}

/**
 * The other valid ECDSA signature of the same digest by the same key: s' = n - s, v flipped.
 * `ecrecover` accepts it; a contract must not (EIP-2).
 */
export function malleate(sig: Hex): Hex {
  const bytes = ethers.getBytes(sig);
  expect(bytes.length).to.equal(65);
  const r = ethers.hexlify(bytes.slice(0, 32));
  const s = BigInt(ethers.hexlify(bytes.slice(32, 64)));
  const v = bytes[64];
  const flipped = v === 27 ? 28 : 27;
  return ethers.concat([r, ethers.toBeHex(SECP256K1_N - s, 32), ethers.toBeHex(flipped, 1)]) as Hex;
}

/** What the ecrecover precompile returns for `digest` and a 65-byte `sig` (no low-s rule). */
export async function ecrecoverPrecompile(digest: Hex, sig: Hex): Promise<Address> {
  const bytes = ethers.getBytes(sig);
  const input = ethers.concat([digest, ethers.toBeHex(bytes[64], 32), bytes.slice(0, 32), bytes.slice(32, 64)]);
  const out = await ethers.provider.call({ to: "0x0000000000000000000000000000000000000001", data: input });
  return ethers.getAddress(ethers.dataSlice(out, 12, 32)) as Address;
}

/** A row of a revert table: a description, how to make the call, and the error the ABI must know. */
export interface RevertRow<C> {
  description: string;
  call: (ctx: C) => Promise<ContractTransactionResponse>;
  error: string;
  args: (ctx: C) => unknown[] | Promise<unknown[]>;
}

/** Fails unless the adjudicator's ABI declares error `name` (so a table can't assert a made-up name). */
export function abiError(adjudicator: Adjudicator, name: string): string {
  const fragment = adjudicator.interface.getError(name);
  expect(fragment, `error ${name} is not in the Adjudicator ABI`).to.not.equal(null);
  return fragment!.name;
}

/**
 * Runs one revert row: asserts the error exists in the ABI, then that the call reverts with
 * exactly that error and those arguments (computed after the call's own setup has run).
 */
export async function expectRevertRow<C>(adjudicator: Adjudicator, row: RevertRow<C>, ctx: C): Promise<void> {
  const name = abiError(adjudicator, row.error);
  const pending = row.call(ctx);
  // Arguments are read once the call (and the setup it runs first) is done, e.g. a deadline.
  await pending.then(
    () => undefined,
    () => undefined,
  );
  const args = await row.args(ctx);
  await expect(pending).to.be.revertedWithCustomError(adjudicator, name).withArgs(...args);
}

/**
 * The StateChannelMismatch rows of a call that takes params and a state of the ETH channel of
 * `c.participants` and `c.payees`: params of another channel (another `nonce`), and params with the
 * same participants but other payees (the participants themselves, nonce 1).
 */
export function otherChannelRows<C extends { participants: readonly [Address, Address]; payees: readonly [Address, Address] }>(
  submit: (c: C, params: ChannelParams) => Promise<ContractTransactionResponse>,
  stateChannelId: (c: C) => Hex,
  nonce: bigint,
): RevertRow<C>[] {
  const other = (c: C) => makeParams(c.participants, ETH, nonce, PERIOD, c.payees);
  const otherPayees = (c: C) => makeParams(c.participants, ETH, 1n);
  return [
    {
      description: "a state that names another channel",
      call: (c) => submit(c, other(c)),
      error: "StateChannelMismatch",
      args: (c) => [idOf(other(c)), stateChannelId(c)],
    },
    {
      description: "a state of the channel with the same participants but other payees",
      call: (c) => submit(c, otherPayees(c)),
      error: "StateChannelMismatch",
      args: (c) => [idOf(otherPayees(c)), stateChannelId(c)],
    },
  ];
}

/**
 * The cases of a revert table: one `it` per row, each on a fresh `fixture` and followed by `check`
 * (what a refused call must leave as it was); and with `covers`, one that asserts the rows raise
 * every error the function `covers.fn` can raise.
 */
export function itRejectsRows<C extends { adjudicator: Adjudicator }>(
  fixture: () => Promise<C>,
  rows: readonly RevertRow<C>[],
  o: { covers?: { fn: string; errors: readonly string[] }; check?: (ctx: C) => Promise<void> } = {},
): void {
  for (const row of rows) {
    it(`rejects ${row.description} (${row.error})`, async function () {
      const ctx = await loadFixture(fixture);
      await expectRevertRow(ctx.adjudicator, row, ctx);
      await o.check?.(ctx);
    });
  }
  const covers = o.covers;
  if (covers) {
    it(`the table covers every error ${covers.fn} can raise`, function () {
      const raised = new Set(rows.map((r) => r.error));
      for (const name of covers.errors) expect(raised.has(name), name).to.equal(true);
    });
  }
}

/** Balance of `holder` in `asset` (address(0) for ETH). */
export async function balanceIn(asset: Address, holder: Address): Promise<bigint> {
  if (asset === ETH) return ethers.provider.getBalance(holder);
  const token = await ethers.getContractAt("MockERC20", asset);
  return token.balanceOf(holder);
}

/**
 * Conservation: what the adjudicator holds in `asset` equals, over the given channels, the
 * deposits minus the withdrawals of those still open or challenged and what is held back for the
 * locks of concluded ones, plus the credits of the given owners. Pass every channel and every
 * owner the scenario touched in that asset.
 */
export async function expectConserved(
  adjudicator: Adjudicator,
  asset: Address,
  channels: readonly ChannelParams[],
  owners: readonly string[],
): Promise<void> {
  let owed = 0n;
  for (const params of channels) {
    expect(params.asset, "conservation is checked per asset").to.equal(asset);
    const id = channelIdOf(params);
    const [mode, , , deposits, withdrawn] = await adjudicator.channel(id);
    const held = await adjudicator.heldBack(id);
    if (Number(mode) === 3) {
      expect(deposits[0] + deposits[1] + withdrawn[0] + withdrawn[1]).to.equal(0n);
      owed += held[0] + held[1];
    } else {
      expect(held[0] + held[1]).to.equal(0n);
      owed += deposits[0] + deposits[1] - withdrawn[0] - withdrawn[1];
    }
  }
  for (const owner of new Set(owners)) owed += await adjudicator.credits(owner, asset);
  expect(await balanceIn(asset, await addressOf(adjudicator)), "adjudicator balance vs deposits + credits").to.equal(owed);
}

/**
 * `deployBase` and two channels of alice and bob funded with `deposits` each, ETH (nonce 1) and the
 * token (nonce 2), paying payees apart from the signing keys (signers 5 and 6): every payout must
 * reach the payees, never the participants.
 */
export async function deployFundedChannels(deposits: readonly [bigint, bigint]) {
  const base = await deployBase();
  const signers = await ethers.getSigners();
  const [payee0, payee1] = [signers[5], signers[6]];
  const payees: [Address, Address] = [payee0.address as Address, payee1.address as Address];
  const ethParams = makeParams(base.participants, ETH, 1n, PERIOD, payees);
  const tokenParams = makeParams(base.participants, base.tokenAddress, 2n, PERIOD, payees);
  await fund(base.adjudicator, ethParams, base.both, deposits);
  await fund(base.adjudicator, tokenParams, base.both, deposits);
  return { ...base, payee0, payee1, payees, ethParams, tokenParams };
}

/** Deposits for both participants from their own accounts (ETH or an approved token). */
export async function fund(
  adjudicator: Adjudicator,
  params: ChannelParams,
  signers: readonly [Signer, Signer],
  amounts: readonly [bigint, bigint],
): Promise<void> {
  for (const i of [0, 1] as const) {
    if (amounts[i] === 0n) continue;
    const value = params.asset === ETH ? amounts[i] : 0n;
    await adjudicator.connect(signers[i]).deposit(params, i, amounts[i], { value });
  }
}

export interface BaseFixture {
  adjudicator: Adjudicator;
  adjudicatorAddress: Address;
  token: MockERC20;
  tokenAddress: Address;
  alice: HardhatEthersSigner;
  bob: HardhatEthersSigner;
  carol: HardhatEthersSigner;
  mallory: HardhatEthersSigner;
  both: [HardhatEthersSigner, HardhatEthersSigner];
  participants: [Address, Address];
  ethParams: ChannelParams;
  tokenParams: ChannelParams;
}

export const TOKEN_SUPPLY = 10n ** 30n;

/**
 * The adjudicator and a 6-decimal stablecoin; alice, bob, carol and mallory each hold and have
 * approved `TOKEN_SUPPLY` tokens. `ethParams`/`tokenParams` are alice (0) and bob (1)'s channels.
 */
export async function deployBase(): Promise<BaseFixture> {
  const [alice, bob, carol, mallory] = await ethers.getSigners();
  const adjudicator = await ethers.deployContract("Adjudicator");
  const adjudicatorAddress = await addressOf(adjudicator);
  const token = await ethers.deployContract("MockERC20", ["Dollar", "USD", 6]);
  const tokenAddress = await addressOf(token);
  for (const s of [alice, bob, carol, mallory]) {
    await token.mint(s.address, TOKEN_SUPPLY);
    await token.connect(s).approve(adjudicatorAddress, ethers.MaxUint256);
  }
  const participants: [Address, Address] = [alice.address as Address, bob.address as Address];
  return {
    adjudicator,
    adjudicatorAddress,
    token,
    tokenAddress,
    alice,
    bob,
    carol,
    mallory,
    both: [alice, bob],
    participants,
    ethParams: makeParams(participants, ETH, 1n),
    tokenParams: makeParams(participants, tokenAddress, 2n),
  };
}

/** Last block's timestamp. */
export async function now(): Promise<bigint> {
  const block = await ethers.provider.getBlock("latest");
  return BigInt(block!.timestamp);
}

/**
 * The payout rule of DESIGN.md and IAdjudicator, computed independently with unbounded integers:
 * participant 0's balance `deposit0 - withdrawn0 + transferred1 - transferred0 - locked0` clamped to
 * what the channel holds, then each side's locked amount held back from what is left, then the rest
 * to participant 1.
 */
export function expectedSplit(
  deposits: readonly [bigint, bigint],
  transferred: readonly [bigint, bigint],
  withdrawn: readonly [bigint, bigint] = [0n, 0n],
  locked: readonly [bigint, bigint] = [0n, 0n],
): { payouts: [bigint, bigint]; held: [bigint, bigint] } {
  let rest = deposits[0] + deposits[1] - withdrawn[0] - withdrawn[1];
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  let p0 = deposits[0] - withdrawn[0] + transferred[1] - transferred[0] - locked[0];
  p0 = p0 < 0n ? 0n : min(p0, rest);
  rest -= p0;
  const h0 = min(locked[0], rest);
  rest -= h0;
  const h1 = min(locked[1], rest);
  return { payouts: [p0, rest - h1], held: [h0, h1] };
}

/** `expectedSplit`'s payouts for a state without locks or withdrawals. */
export function expectedPayouts(deposits: readonly [bigint, bigint], transferred: readonly [bigint, bigint]): [bigint, bigint] {
  return expectedSplit(deposits, transferred).payouts;
}
