/**
 * Stateful fuzzer of the adjudicator: random actors (EOAs that are participants, EOAs that are
 * not, and a participant contract that refuses ETH and signs as an ERC-1271 wallet) make random
 * calls on a rolling pool of channels in ETH, a plain MockERC20 and a token with a blocklist.
 * An off-chain model predicts every call's outcome (success with its exact events, or the exact
 * custom error and arguments) and every balance, credit and channel record; after every step the
 * chain is read in one call and compared with the model, and the money invariants are asserted on
 * the chain's own figures.
 *
 * Steps: FUZZ_STEPS (default 2,000; `npm run fuzz` runs 100,000). Seed: FUZZ_SEED (default random,
 * printed at the start and in every failure, with the command that replays the run).
 *
 * Determinism: every transaction's block timestamp is set with `evm_setNextBlockTimestamp` from
 * the model's clock (`evm_increaseTime` is relative to the wall clock, so a jump that must land
 * one second before or at a deadline would not replay); time jumps move that clock. Gas price
 * and base fee are zero, so an EOA's ETH balance changes only by the values it sends and
 * receives, and the model tracks it exactly. A call the model expects to revert is still sent as
 * a transaction, so "a reverting call changes nothing" is checked on mined, reverted transactions.
 */
import { expect } from "chai";
import fc from "fast-check";
import hre, { ethers, network } from "hardhat";
import {
  AbiCoder,
  ErrorFragment,
  Interface,
  SigningKey,
  TypedDataEncoder,
  concat,
  hexlify,
  keccak256,
  toBeHex,
  toUtf8Bytes,
  zeroPadValue,
  type Log,
} from "ethers";
import type { Adjudicator, BlocklistERC20, FuzzInspector, MockERC20, RejectingParticipant } from "../../typechain-types";
import { PARAMS_ABI_TYPE, STATE_TYPES, sluiceDomain, stateValue } from "../../src/typedData";
import { ETH, ZERO_HASH, type Address, type Hex, type Params, type State } from "../../src/types";

/** solidity-coverage traces every opcode (about 30x slower a step): fewer default steps there. */
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const STEPS = Number(process.env.FUZZ_STEPS ?? (COVERAGE ? "300" : "2000"));
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;
const PROGRESS_EVERY = 10_000;

const MAX_DEPOSIT = (1n << 120n) - 1n;
const NET_LIMIT = 1n << 128n;
const MAX_U64 = (1n << 64n) - 1n;
const MAX_U256 = (1n << 256n) - 1n;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const MAX_CHALLENGE_PERIOD = 365n * 24n * 3600n;
const PERIODS = [1n, 2n, 10n, 60n, 3600n, 86_400n];
const POOL_SIZE = 8;
const RETIRED_KEPT = 8;
const START_BALANCE = 1n << 200n;
const TX_GAS = "0xf4240"; // 1,000,000: far above what any call needs, so no payout is starved of gas

const coder = AbiCoder.defaultAbiCoder();

// ------------------------------------------------------------------ seeded randomness

/** sfc32 behind fast-check's `Random`, so arbitraries can draw from the same seeded stream. */
class Sfc32 {
  constructor(
    private a: number,
    private b: number,
    private c: number,
    private d: number,
  ) {}
  static of(seed: number): Sfc32 {
    const g = new Sfc32(0x9e3779b9, 0x243f6a88, 0xb7e15162, seed >>> 0);
    for (let i = 0; i < 15; i++) g.unsafeNext();
    return g;
  }
  clone(): Sfc32 {
    return new Sfc32(this.a, this.b, this.c, this.d);
  }
  next(): [number, Sfc32] {
    const g = this.clone();
    return [g.unsafeNext(), g];
  }
  unsafeNext(): number {
    this.a |= 0;
    this.b |= 0;
    this.c |= 0;
    this.d |= 0;
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t | 0;
  }
  getState(): readonly number[] {
    return [this.a, this.b, this.c, this.d];
  }
}

const mrng = new fc.Random(Sfc32.of(SEED));
const int = (min: number, max: number): number => mrng.nextInt(min, max);
const chance = (p: number): boolean => mrng.nextInt(0, 999_999) < p * 1_000_000;
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
const big = (min: bigint, max: bigint): bigint => mrng.nextBigInt(min, max);
const randomBytes = (n: number): Hex => hexlify(Uint8Array.from({ length: n }, () => int(0, 255))) as Hex;
/** fast-check's bigint arbitrary, biased towards its bounds and small values. */
const biasedBig = (min: bigint, max: bigint): bigint => fc.bigInt({ min, max }).generate(mrng, 4).value;

function weighted<T extends string>(table: Record<T, number>): T {
  const entries = Object.entries(table) as [T, number][];
  const total = entries.reduce((s, [, w]) => s + w, 0);
  let r = int(0, total - 1);
  for (const [k, w] of entries) {
    if (r < w) return k;
    r -= w;
  }
  return entries[entries.length - 1][0];
}

// ------------------------------------------------------------------ model

interface Actor {
  name: string;
  address: Address;
  /** The key that signs for this actor: its own, or its owner's for the contract participant. */
  key: SigningKey;
  /** The contract participant sends through its owner's `exec`. */
  isContract: boolean;
}

interface Channel {
  params: Params;
  id: Hex;
  asset: number; // index into assets
  members: [number, number]; // actor indices of participants 0 and 1
  deposits: [bigint, bigint];
  deposited: bigint; // cumulative, for "no payout exceeds the deposits"
  paidOut: bigint;
  registered: { version: bigint; deadline: bigint; net: bigint } | null;
  concluded: { version: bigint } | null;
  history: State[];
  maxVersion: bigint;
}

interface Ev {
  name: string;
  args: unknown[];
}

type Outcome = { ok: true; events: Ev[]; apply: () => void } | { ok: false; errors: { error: string; args: unknown[] }[] };

type SigVariant = "good" | "wrongKey" | "wrongDomain" | "otherState" | "random65" | "empty" | "compact64" | "highS";

function netOf(t: readonly [bigint, bigint]): bigint {
  const n = t[1] - t[0];
  return n >= NET_LIMIT ? NET_LIMIT : n <= -NET_LIMIT ? -NET_LIMIT : n;
}

function split(d0: bigint, d1: bigint, net: bigint): [bigint, bigint] {
  const total = d0 + d1;
  const a0 = d0 + net;
  const p0 = a0 <= 0n ? 0n : a0 >= total ? total : a0;
  return [p0, total - p0];
}

function isOpening(s: State): boolean {
  return s.version === 0n && s.transferred[0] === 0n && s.transferred[1] === 0n && s.paymentsRoot === ZERO_HASH && !s.isFinal;
}

/** Canonical form for comparing decoded values with the model's. */
function norm(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(norm);
  if (typeof x === "bigint" || typeof x === "number") return BigInt(x).toString();
  if (typeof x === "string") return x.toLowerCase();
  if (x !== null && typeof x === "object" && "toArray" in x) return norm((x as { toArray(): unknown[] }).toArray());
  return x;
}

// ------------------------------------------------------------------ the fuzzer

describe("Adjudicator (stateful fuzz)", function () {
  let snapshotId: string;

  before(async () => {
    snapshotId = (await network.provider.request({ method: "evm_snapshot", params: [] })) as string;
  });
  after(async () => {
    await network.provider.request({ method: "evm_revert", params: [snapshotId] });
  });

  it(`keeps the model and the money invariants over ${STEPS} random steps`, async function () {
    // The configured 10-minute mocha timeout is too short for `npm run fuzz`: allow 100 ms a step.
    this.timeout(Math.max(600_000, STEPS * (COVERAGE ? 2_000 : 100)));
    const replay = `FUZZ_SEED=${SEED} FUZZ_STEPS=${STEPS} npx hardhat test test/fuzz/Adjudicator.fuzz.ts`;
    console.log(`      fuzz seed ${SEED}, ${STEPS} steps (replay: ${replay})`);
    const rpc = (method: string, params: unknown[] = []): Promise<unknown> => network.provider.request({ method, params });

    // ---------------------------------------------------------------- deployment
    const [deployer] = await ethers.getSigners();
    const adjudicator = (await ethers.deployContract("Adjudicator", deployer)) as unknown as Adjudicator;
    const usd = (await ethers.deployContract("MockERC20", ["Dollar", "USD", 6], deployer)) as unknown as MockERC20;
    const blocky = (await ethers.deployContract("BlocklistERC20", ["Blocky", "BLK", 18], deployer)) as unknown as BlocklistERC20;
    const inspector = (await ethers.deployContract("FuzzInspector", deployer)) as unknown as FuzzInspector;
    const adjAddress = (await adjudicator.getAddress()) as Address;
    const assets: Address[] = [ETH, (await usd.getAddress()) as Address, (await blocky.getAddress()) as Address];
    const assetNames = ["ETH", "USD", "BLK"];

    const keys = Array.from({ length: 6 }, (_, i) => new SigningKey(keccak256(toUtf8Bytes(`sluice-fuzz-actor-${i}`))));
    const eoaAddresses = keys.map((k) => ethers.computeAddress(k) as Address);
    const owner = 4; // A4 owns the contract participant; it is never a participant itself
    const rejecting = (await ethers.deployContract("RejectingParticipant", [eoaAddresses[owner]], deployer)) as unknown as RejectingParticipant;
    const actors: Actor[] = [
      ...keys.map((key, i) => ({ name: `A${i}`, address: eoaAddresses[i], key, isContract: false })),
      { name: "R", address: (await rejecting.getAddress()) as Address, key: keys[owner], isContract: true },
    ];
    const R = actors.length - 1;
    const participantPool = [0, 1, 2, 3, R];
    const eoas = [0, 1, 2, 3, 4, 5];
    const noApproval = 5; // A5 never approves the tokens: its token deposits fail on the allowance

    for (const a of eoaAddresses) {
      await rpc("hardhat_impersonateAccount", [a]);
      await rpc("hardhat_setBalance", [a, toBeHex(START_BALANCE)]);
    }
    for (let i = 0; i < eoaAddresses.length; i++) {
      for (const token of [usd, blocky]) {
        await token.mint(eoaAddresses[i], START_BALANCE);
        if (i !== noApproval) {
          await rpc("eth_sendTransaction", [
            { from: eoaAddresses[i], to: await token.getAddress(), data: token.interface.encodeFunctionData("approve", [adjAddress, ethers.MaxUint256]) },
          ]);
        }
      }
    }
    // Reset the balances the approvals spent gas from, then make gas free from here on.
    for (const a of eoaAddresses) await rpc("hardhat_setBalance", [a, toBeHex(START_BALANCE)]);
    await rpc("hardhat_setNextBlockBaseFeePerGas", ["0x0"]);

    const { chainId } = await ethers.provider.getNetwork();
    const domainSeparator = TypedDataEncoder.hashDomain(sluiceDomain(chainId, adjAddress));
    const foreignDomainSeparator = TypedDataEncoder.hashDomain(sluiceDomain(chainId + 1n, adjAddress));
    const stateEncoder = TypedDataEncoder.from(STATE_TYPES);
    const digestOf = (s: State, sep = domainSeparator): Hex =>
      keccak256(concat(["0x1901", sep, stateEncoder.hash(stateValue(s))])) as Hex;

    const errorFragments = new Map<string, ErrorFragment>();
    for (const iface of [adjudicator.interface, blocky.interface, rejecting.interface] as Interface[]) {
      iface.forEachError((f) => errorFragments.set(f.selector, f));
    }
    const errors = new Interface([...errorFragments.values()]);
    const adjIface = adjudicator.interface as Interface;

    // ---------------------------------------------------------------- model state
    const bal: bigint[][] = actors.map((_, i) => assets.map(() => (i < eoaAddresses.length ? START_BALANCE : 0n)));
    const credit: bigint[][] = actors.map(() => assets.map(() => 0n));
    const held: bigint[] = assets.map(() => 0n);
    let accepting = false;
    const blocked = new Set<number>();
    const initialBlock = (await rpc("eth_getBlockByNumber", ["latest", false])) as { timestamp: string };
    let clock = BigInt(initialBlock.timestamp);
    let nonce = 0n;
    const pool: Channel[] = [];
    const retired: { ch: Channel; frozen: bigint[] }[] = [];
    const stats = new Map<string, number>();
    const count = (k: string) => stats.set(k, (stats.get(k) ?? 0) + 1);
    const trail: string[] = [];

    const newChannel = (): Channel => {
      const p0 = pick(participantPool);
      let p1 = pick(participantPool);
      while (p1 === p0) p1 = pick(participantPool);
      const asset = int(0, assets.length - 1);
      const params: Params = {
        participants: [actors[p0].address, actors[p1].address],
        asset: assets[asset],
        challengePeriod: pick(PERIODS),
        nonce: ++nonce,
      };
      const id = keccak256(coder.encode([PARAMS_ABI_TYPE], [params])) as Hex;
      return { params, id, asset, members: [p0, p1], deposits: [0n, 0n], deposited: 0n, paidOut: 0n, registered: null, concluded: null, history: [], maxVersion: 0n };
    };
    for (let i = 0; i < POOL_SIZE; i++) pool.push(newChannel());

    // The local digest must be the contract's, or every signature below would be meaningless.
    {
      const probe: State = { channelId: pool[0].id, version: 7n, transferred: [1n, 2n], paymentsRoot: randomBytes(32), isFinal: true };
      expect(await adjudicator.hashState(stateValue(probe) as unknown as State & { transferred: [bigint, bigint] })).to.equal(digestOf(probe));
      const p = pool[0].params;
      expect(await adjudicator.channelId({ ...p, participants: [...p.participants] })).to.equal(pool[0].id);
    }

    const modeOf = (ch: Channel): bigint =>
      ch.concluded ? 3n : ch.registered ? 2n : ch.deposits[0] + ch.deposits[1] > 0n ? 1n : 0n;
    const recordOf = (ch: Channel): bigint[] =>
      ch.concluded
        ? [3n, ch.concluded.version, 0n, 0n, 0n]
        : [modeOf(ch), ch.registered?.version ?? 0n, ch.registered?.deadline ?? 0n, ch.deposits[0], ch.deposits[1]];

    // ---------------------------------------------------------------- chain access
    interface Sent {
      ok: boolean;
      logs: Log[];
      revertData: string;
    }
    /** One transaction as `actor` (the contract participant through its owner's `exec`). */
    const send = async (actor: number, to: string, data: string, value = 0n): Promise<Sent> => {
      clock += 1n;
      await rpc("evm_setNextBlockTimestamp", [Number(clock)]);
      const a = actors[actor];
      const tx = a.isContract
        ? { from: actors[owner].address, to: a.address, data: rejecting.interface.encodeFunctionData("exec", [to, data]) }
        : { from: a.address, to, data, value: toBeHex(value) };
      try {
        const hash = (await rpc("eth_sendTransaction", [{ ...tx, gas: TX_GAS, gasPrice: "0x0" }])) as string;
        const receipt = (await rpc("eth_getTransactionReceipt", [hash])) as { status: string; logs: Log[] };
        expect(receipt.status).to.equal("0x1");
        return { ok: true, logs: receipt.logs, revertData: "0x" };
      } catch (e) {
        const revertData = (e as { data?: unknown }).data;
        if (typeof revertData !== "string") throw e;
        return { ok: false, logs: [], revertData };
      }
    };

    const snapshotIds = (): Hex[] => [...pool.map((c) => c.id), ...retired.map((r) => r.ch.id)];
    const readChain = async () => {
      const ids = snapshotIds();
      const [heldOnChain, records, credits, balances] = await inspector.snapshot(
        adjAddress,
        assets,
        ids,
        actors.map((a) => a.address),
      );
      return { ids, held: [...heldOnChain], records: [...records], credits: [...credits], balances: [...balances] };
    };
    type ChainView = Awaited<ReturnType<typeof readChain>>;

    // ---------------------------------------------------------------- model of each call
    const push = (events: Ev[], effects: (() => void)[], assetIdx: number, to: number, amount: bigint) => {
      if (amount === 0n) return;
      const refused = assetIdx === 0 ? actors[to].isContract && !accepting : assetIdx === 2 && blocked.has(to);
      effects.push(() => {
        held[assetIdx] -= amount;
        if (refused) {
          held[assetIdx] += amount; // stays in the adjudicator as a credit
          credit[to][assetIdx] += amount;
          count("credited");
        } else {
          bal[to][assetIdx] += amount;
        }
      });
      if (refused) events.push({ name: "Credited", args: [actors[to].address, assets[assetIdx], amount] });
    };

    const payOut = (ch: Channel, kind: "Closed" | "Settled", version: bigint, net: bigint): Outcome => {
      const [p0, p1] = split(ch.deposits[0], ch.deposits[1], net);
      const events: Ev[] = [{ name: kind, args: [ch.id, version, [p0, p1]] }];
      const effects: (() => void)[] = [];
      push(events, effects, ch.asset, ch.members[0], p0);
      push(events, effects, ch.asset, ch.members[1], p1);
      return {
        ok: true,
        events,
        apply: () => {
          // No channel pays out more than was deposited; the two payouts add up to the deposits.
          expect(p0 + p1).to.equal(ch.deposits[0] + ch.deposits[1]);
          expect(ch.paidOut + p0 + p1).to.equal(ch.deposited);
          ch.paidOut += p0 + p1;
          for (const f of effects) f();
          ch.deposits = [0n, 0n];
          ch.registered = null;
          ch.concluded = { version };
          count(kind);
        },
      };
    };

    // Where a call breaks several rules at once, the order of the contract's checks is its own
    // business (and changes as its gas is tuned): any violated rule is an acceptable revert.
    type Violation = { error: string; args: unknown[] };
    const reject = (v: Violation[]): Outcome | null => (v.length > 0 ? { ok: false, errors: v } : null);

    const openViolations = (ch: Channel): Violation[] => {
      if (ch.concluded) return [{ error: "ChannelConcluded", args: [ch.id] }];
      if (ch.deposits[0] + ch.deposits[1] === 0n) return [{ error: "ChannelNotOpen", args: [ch.id] }];
      return [];
    };

    const sigViolations = (variants: [SigVariant, SigVariant]): Violation[] =>
      ([0, 1] as const).filter((i) => variants[i] !== "good").map((i) => ({ error: "SignatureInvalid", args: [i] }));

    const modelDeposit = (ch: Channel, sender: number, participant: number, amount: bigint, value: bigint, badParams: string | null): Outcome => {
      const v: Violation[] = [];
      if (badParams === "participants") v.push({ error: "ChannelParticipantsInvalid", args: [...ch.params.participants] });
      if (badParams === "period") v.push({ error: "ChannelChallengePeriodInvalid", args: [ch.params.challengePeriod] });
      if (participant > 1) v.push({ error: "ParticipantIndexInvalid", args: [participant] });
      if (amount === 0n) v.push({ error: "DepositZero", args: [] });
      if (ch.concluded) v.push({ error: "ChannelConcluded", args: [ch.id] });
      if (ch.asset === 0) {
        if (value !== amount) v.push({ error: "DepositValueMismatch", args: [value, amount] });
      } else {
        if (value !== 0n) v.push({ error: "DepositValueMismatch", args: [value, 0n] });
        if (sender === noApproval && amount > 0n) v.push({ error: "ERC20InsufficientAllowance", args: [adjAddress, 0n, amount] });
        if (bal[sender][ch.asset] < amount) v.push({ error: "ERC20InsufficientBalance", args: [actors[sender].address, bal[sender][ch.asset], amount] });
      }
      const previous = participant <= 1 ? ch.deposits[participant] : 0n;
      if (amount > MAX_DEPOSIT - previous) v.push({ error: "DepositOverflow", args: [previous, amount] });
      return (
        reject(v) ?? {
          ok: true,
          events: [{ name: "Deposited", args: [ch.id, participant, amount, previous + amount] }],
          apply: () => {
            ch.deposits[participant] = previous + amount;
            ch.deposited += amount;
            bal[sender][ch.asset] -= amount;
            held[ch.asset] += amount;
          },
        }
      );
    };

    const modelChallenge = (ch: Channel, sender: number, s: State, variants: [SigVariant, SigVariant]): Outcome => {
      const v: Violation[] = [];
      if (s.channelId !== ch.id) v.push({ error: "StateChannelMismatch", args: [ch.id, s.channelId] });
      const now = clock + 1n;
      let deadline: bigint;
      if (!ch.registered) {
        v.push(...openViolations(ch));
        deadline = now + ch.params.challengePeriod;
      } else {
        deadline = ch.registered.deadline;
        if (now >= deadline) v.push({ error: "ChallengeExpired", args: [deadline] });
        if (s.version <= ch.registered.version) v.push({ error: "StateStale", args: [s.version, ch.registered.version] });
      }
      if (variants[0] === "empty" && variants[1] === "empty" && isOpening(s)) {
        if (!ch.members.includes(sender)) v.push({ error: "OpeningChallengeUnauthorized", args: [actors[sender].address] });
      } else {
        v.push(...sigViolations(variants));
      }
      const refute = ch.registered !== null;
      return (
        reject(v) ?? {
          ok: true,
          events: [{ name: "Challenged", args: [ch.id, s.version, [...s.transferred], s.paymentsRoot, s.isFinal, deadline] }],
          apply: () => {
            ch.registered = { version: s.version, deadline, net: netOf(s.transferred) };
            count(refute ? "refuted" : isOpening(s) ? "challenged(opening)" : "challenged");
          },
        }
      );
    };

    const modelClose = (ch: Channel, s: State, variants: [SigVariant, SigVariant]): Outcome => {
      const v: Violation[] = [];
      if (s.channelId !== ch.id) v.push({ error: "StateChannelMismatch", args: [ch.id, s.channelId] });
      if (!s.isFinal) v.push({ error: "StateNotFinal", args: [s.version] });
      v.push(...openViolations(ch));
      if (ch.registered && s.version < ch.registered.version) v.push({ error: "StateStale", args: [s.version, ch.registered.version] });
      v.push(...sigViolations(variants));
      return reject(v) ?? payOut(ch, "Closed", s.version, netOf(s.transferred));
    };

    const modelSettle = (ch: Channel): Outcome => {
      if (!ch.registered) return reject([...openViolations(ch), { error: "ChannelNotChallenged", args: [ch.id] }])!;
      const now = clock + 1n;
      if (now < ch.registered.deadline) return reject([{ error: "ChallengePending", args: [ch.registered.deadline] }])!;
      return payOut(ch, "Settled", ch.registered.version, ch.registered.net);
    };

    const modelWithdraw = (sender: number, assetIdx: number, to: number): Outcome => {
      const amount = credit[sender][assetIdx];
      const ownerAddress = actors[sender].address;
      if (amount === 0n) return reject([{ error: "WithdrawNothing", args: [ownerAddress, assets[assetIdx]] }])!;
      const refused = assetIdx === 0 ? actors[to].isContract && !accepting : assetIdx === 2 && blocked.has(to);
      if (refused) return reject([{ error: "WithdrawFailed", args: [ownerAddress, assets[assetIdx], actors[to].address, amount] }])!;
      return {
        ok: true,
        events: [{ name: "Withdrawn", args: [ownerAddress, assets[assetIdx], actors[to].address, amount] }],
        apply: () => {
          credit[sender][assetIdx] = 0n;
          held[assetIdx] -= amount;
          bal[to][assetIdx] += amount;
        },
      };
    };

    // ---------------------------------------------------------------- random inputs
    const channelFor = (prefer?: (c: Channel) => boolean, p = 0.7): Channel => {
      if (retired.length > 0 && chance(0.06)) return pick(retired).ch;
      const preferred = prefer ? pool.filter(prefer) : [];
      return preferred.length > 0 && chance(p) ? pick(preferred) : pick(pool);
    };
    const isOpen = (c: Channel) => !c.concluded && c.deposits[0] + c.deposits[1] > 0n;
    const isRunning = (c: Channel) => c.registered !== null && c.registered.deadline > clock + 1n;

    const randomTransferred = (ch: Channel): [bigint, bigint] => {
      const total = ch.deposits[0] + ch.deposits[1];
      const one = (): bigint => {
        const r = int(0, 99);
        if (r < 55) return big(0n, total + total / 2n + 10n);
        if (r < 75) return biasedBig(0n, 1n << 64n);
        if (r < 85) return biasedBig(NET_LIMIT - 2n, MAX_U256);
        return 0n;
      };
      const last = ch.history[ch.history.length - 1];
      if (last && chance(0.2)) return [last.transferred[0] + big(0n, 5n), last.transferred[1] + big(0n, 5n)];
      return [one(), one()];
    };

    const randomState = (ch: Channel, wantFinal: number): State => {
      const kind = weighted({ fresh: 40, history: 18, sameAsRegistered: 8, opening: 10, foreign: 4, equalMax: 6, nearMaxVersion: 2, zeroVersion: 2 });
      if (kind === "opening") return { channelId: ch.id, version: 0n, transferred: [0n, 0n], paymentsRoot: ZERO_HASH, isFinal: false };
      if (kind === "history" && ch.history.length > 0) return pick(ch.history);
      if (kind === "foreign") {
        const other = pick(pool);
        return { channelId: other.id, version: other.maxVersion + 1n, transferred: randomTransferred(other), paymentsRoot: randomBytes(32), isFinal: chance(wantFinal) };
      }
      let version: bigint;
      if (kind === "sameAsRegistered" && ch.registered) version = ch.registered.version;
      else if (kind === "equalMax") version = ch.maxVersion;
      else if (kind === "nearMaxVersion") version = MAX_U64 - big(0n, 2n);
      else if (kind === "zeroVersion") version = 0n;
      else version = ch.maxVersion + big(1n, 3n);
      if (version > MAX_U64) version = MAX_U64;
      const s: State = {
        channelId: ch.id,
        version,
        transferred: randomTransferred(ch),
        paymentsRoot: chance(0.1) ? ZERO_HASH : randomBytes(32),
        isFinal: chance(wantFinal),
      };
      if (version > ch.maxVersion && version < MAX_U64 - 100n) ch.maxVersion = version;
      ch.history.push(s);
      if (ch.history.length > 24) ch.history.shift();
      return s;
    };

    const signAs = (ch: Channel, index: 0 | 1, s: State, variant: SigVariant): Hex => {
      const key = actors[ch.members[index]].key;
      switch (variant) {
        case "good":
          return key.sign(digestOf(s)).serialized as Hex;
        case "wrongKey": {
          let other = pick(keys);
          while (other === key) other = pick(keys);
          return other.sign(digestOf(s)).serialized as Hex;
        }
        case "wrongDomain":
          return key.sign(digestOf(s, foreignDomainSeparator)).serialized as Hex;
        case "otherState":
          return key.sign(digestOf({ ...s, version: s.version === MAX_U64 ? 0n : s.version + 1n })).serialized as Hex;
        case "random65":
          return randomBytes(65);
        case "empty":
          return "0x";
        case "compact64":
          return key.sign(digestOf(s)).compactSerialized as Hex;
        case "highS": {
          // The same signature with s' = n - s and the other v: ecrecover accepts it, OpenZeppelin must not.
          const sig = key.sign(digestOf(s));
          const highS = SECP256K1_N - BigInt(sig.s);
          return concat([sig.r, zeroPadValue(toBeHex(highS), 32), toBeHex(sig.v === 27 ? 28 : 27)]) as Hex;
        }
      }
    };

    const randomSigs = (ch: Channel, s: State, allowOpening: boolean): { sigs: [Hex, Hex]; variants: [SigVariant, SigVariant] } => {
      if (allowOpening && isOpening(s) && chance(0.7)) return { sigs: ["0x", "0x"], variants: ["empty", "empty"] };
      const one = (): SigVariant =>
        chance(0.9) ? "good" : pick<SigVariant>(["wrongKey", "wrongDomain", "otherState", "random65", "empty", "compact64", "highS"]);
      const variants: [SigVariant, SigVariant] = [one(), one()];
      // A foreign state is signed for its own channel, whose members differ: sign with this one's keys anyway.
      return { sigs: [signAs(ch, 0, s, variants[0]), signAs(ch, 1, s, variants[1])], variants };
    };

    const randomDepositAmount = (ch: Channel, participant: number): bigint => {
      const r = int(0, 99);
      const previous = participant <= 1 ? ch.deposits[participant] : 0n;
      if (r < 4) return 0n;
      if (r < 45) return big(1n, 1000n);
      if (r < 85) return big(1n, 10n ** 18n);
      if (r < 90) return MAX_DEPOSIT - previous; // fills the deposit exactly
      if (r < 95) return MAX_DEPOSIT - previous + big(1n, 3n); // one past the limit
      return biasedBig(1n, 1n << 121n);
    };

    const anySender = (ch: Channel): number => (chance(0.6) ? pick(ch.members) : pick([...eoas, R]));

    // ---------------------------------------------------------------- steps
    const fail = (step: number, what: string, detail: string): never => {
      throw new Error(`fuzz step ${step} (${what}): ${detail}\nseed ${SEED}; replay: ${replay}\nlast steps:\n  ${trail.slice(-15).join("\n  ")}`);
    };

    const expectOutcome = (step: number, what: string, predicted: Outcome, sent: Sent) => {
      if (predicted.ok !== sent.ok) {
        let got = "success";
        if (!sent.ok) {
          try {
            const e = errors.parseError(sent.revertData);
            const args = e ? [...e.args] : [];
            got = `${e?.name}(${JSON.stringify(norm(args))})`;
          } catch {
            got = `revert ${sent.revertData}`;
          }
        }
        fail(step, what, `model expected ${predicted.ok ? "success" : JSON.stringify(norm(predicted.errors.map((e) => [e.error, e.args])))}, chain gave ${got}`);
      }
      if (!predicted.ok) {
        const e = errors.parseError(sent.revertData);
        if (!e) return fail(step, what, `undecodable revert ${sent.revertData}`);
        const got = JSON.stringify(norm([e.name, [...e.args]]));
        const want = predicted.errors.map((x) => JSON.stringify(norm([x.error, x.args])));
        if (!want.includes(got)) fail(step, what, `revert ${got}, model expected one of ${want.join(" | ")}`);
        count(`revert:${e.name}`);
        return;
      }
      const logs = sent.logs.filter((l) => l.address.toLowerCase() === adjAddress.toLowerCase());
      const got = JSON.stringify(norm(logs.map((l) => {
        const parsed = adjIface.parseLog({ topics: [...l.topics], data: l.data });
        return [parsed?.name, [...(parsed?.args ?? [])]];
      })));
      const want = JSON.stringify(norm(predicted.events.map((e) => [e.name, e.args])));
      if (got !== want) fail(step, what, `events ${got}, model expected ${want}`);
      predicted.apply();
    };

    const checkInvariants = (step: number, what: string, view: ChainView, before: ChainView | null, reverted: boolean) => {
      const assetOf = new Map<string, number>();
      for (const c of [...pool, ...retired.map((r) => r.ch)]) assetOf.set(c.id, c.asset);
      // 1. Money held = outstanding deposits + credits, per asset, on the chain's own figures.
      for (let a = 0; a < assets.length; a++) {
        let owed = 0n;
        view.ids.forEach((id, c) => {
          if (assetOf.get(id) === a) owed += view.records[c * 5 + 3] + view.records[c * 5 + 4];
        });
        for (let i = 0; i < actors.length; i++) owed += view.credits[i * assets.length + a];
        if (view.held[a] !== owed) fail(step, what, `${assetNames[a]}: adjudicator holds ${view.held[a]}, deposits + credits are ${owed}`);
      }
      // 2. The model agrees with the chain on everything.
      const modelRecords = [...pool, ...retired.map((r) => r.ch)].flatMap(recordOf);
      const modelCredits = actors.flatMap((_, i) => credit[i]);
      const modelBalances = actors.flatMap((_, i) => bal[i]);
      const eq = (x: bigint[], y: bigint[]) => x.length === y.length && x.every((v, i) => v === y[i]);
      if (!eq(view.held, held)) fail(step, what, `held ${view.held} != model ${held}`);
      if (!eq(view.records, modelRecords)) fail(step, what, `channel records ${view.records} != model ${modelRecords}`);
      if (!eq(view.credits, modelCredits)) fail(step, what, `credits ${view.credits} != model ${modelCredits}`);
      if (!eq(view.balances, modelBalances)) fail(step, what, `balances ${view.balances} != model ${modelBalances}`);
      // 3. A concluded channel never changes again.
      for (const r of retired) {
        const c = view.ids.indexOf(r.ch.id);
        if (!eq(view.records.slice(c * 5, c * 5 + 5), r.frozen)) fail(step, what, `concluded channel ${r.ch.id} changed`);
      }
      // 4. A reverted call changed nothing.
      if (reverted && before) {
        if (!eq(view.held, before.held) || !eq(view.records, before.records) || !eq(view.credits, before.credits) || !eq(view.balances, before.balances)) {
          fail(step, what, "a reverted call changed the chain");
        }
      }
    };

    const retire = () => {
      for (let i = 0; i < pool.length; i++) {
        if (pool[i].concluded) {
          retired.push({ ch: pool[i], frozen: recordOf(pool[i]) });
          if (retired.length > RETIRED_KEPT) retired.shift();
          pool[i] = newChannel();
        }
      }
    };

    let view = await readChain();
    checkInvariants(0, "start", view, null, false);
    const started = Date.now();

    for (let step = 1; step <= STEPS; step++) {
      const op = weighted({
        deposit: 24,
        badParams: 2,
        challenge: 22,
        close: 12,
        settle: 12,
        withdraw: 6,
        withdrawTo: 4,
        timeJump: 10,
        toggleAccepting: 3,
        toggleBlock: 3,
      });
      let what: string = op;
      let predicted: Outcome | null = null;
      let sent: Sent | null = null;

      switch (op) {
        case "deposit":
        case "badParams": {
          let ch = channelFor();
          let badParams: string | null = null;
          if (op === "badParams") {
            badParams = chance(0.5) ? "participants" : "period";
            const params: Params =
              badParams === "participants"
                ? { ...ch.params, participants: chance(0.5) ? [ch.params.participants[0], ch.params.participants[0]] : [ETH, ch.params.participants[1]] }
                : { ...ch.params, challengePeriod: chance(0.5) ? 0n : MAX_CHALLENGE_PERIOD + big(1n, 1000n) };
            ch = { ...ch, params, id: keccak256(coder.encode([PARAMS_ABI_TYPE], [params])) as Hex, deposits: [0n, 0n], registered: null, concluded: null };
          }
          const sender = pick(eoas);
          const participant = chance(0.97) ? int(0, 1) : int(2, 255);
          const amount = randomDepositAmount(ch, participant);
          let value = ch.asset === 0 ? amount : 0n;
          if (chance(0.04)) value = ch.asset === 0 ? amount + big(1n, 100n) : big(1n, 100n);
          if (chance(0.01) && value > 0n) value -= 1n;
          predicted = modelDeposit(ch, sender, participant, amount, value, badParams);
          what = `${op} ${actors[sender].name} -> ch${ch.params.nonce}[${participant}] ${amount} (value ${value})`;
          sent = await send(sender, adjAddress, adjIface.encodeFunctionData("deposit", [ch.params, participant, amount]), value);
          break;
        }
        case "challenge": {
          const ch = chance(0.4) ? channelFor(isRunning, 0.9) : channelFor(isOpen);
          const s = randomState(ch, 0.15);
          const { sigs, variants } = randomSigs(ch, s, true);
          const sender = anySender(ch);
          predicted = modelChallenge(ch, sender, s, variants);
          what = `challenge by ${actors[sender].name} ch${ch.params.nonce} v${s.version} final=${s.isFinal} sigs=${variants}`;
          sent = await send(sender, adjAddress, adjIface.encodeFunctionData("challenge", [ch.params, stateValue(s), sigs]));
          break;
        }
        case "close": {
          const ch = channelFor(isOpen);
          const s = randomState(ch, 0.85);
          const { sigs, variants } = randomSigs(ch, s, false);
          const sender = anySender(ch);
          predicted = modelClose(ch, s, variants);
          what = `close by ${actors[sender].name} ch${ch.params.nonce} v${s.version} final=${s.isFinal} sigs=${variants}`;
          sent = await send(sender, adjAddress, adjIface.encodeFunctionData("close", [ch.params, stateValue(s), sigs]));
          break;
        }
        case "settle": {
          // Prefer channels whose challenge has run out, or it would nearly always be early.
          const ready = pool.filter((c) => c.registered && c.registered.deadline <= clock + 1n);
          const ch = ready.length > 0 && chance(0.6) ? pick(ready) : channelFor();
          const sender = anySender(ch);
          predicted = modelSettle(ch);
          what = `settle by ${actors[sender].name} ch${ch.params.nonce}`;
          sent = await send(sender, adjAddress, adjIface.encodeFunctionData("settle", [ch.params]));
          break;
        }
        case "withdraw":
        case "withdrawTo": {
          const owed: [number, number][] = [];
          actors.forEach((_, i) => assets.forEach((__, a) => credit[i][a] > 0n && owed.push([i, a])));
          const [sender, assetIdx]: [number, number] = owed.length > 0 && chance(0.8) ? pick(owed) : [pick([...eoas, R]), int(0, assets.length - 1)];
          const to = op === "withdraw" ? sender : pick([...eoas, R]);
          predicted = modelWithdraw(sender, assetIdx, to);
          what = `${op} ${actors[sender].name} ${assetNames[assetIdx]} to ${actors[to].name}`;
          const data =
            op === "withdraw"
              ? adjIface.encodeFunctionData("withdraw", [assets[assetIdx]])
              : adjIface.encodeFunctionData("withdrawTo", [assets[assetIdx], actors[to].address]);
          sent = await send(sender, adjAddress, data);
          break;
        }
        case "timeJump": {
          const running = pool.filter((c) => c.registered && c.registered.deadline > clock + 1n);
          let target: bigint;
          if (running.length > 0 && chance(0.7)) {
            // Land the next transaction one second before, exactly at, or just after a deadline.
            const deadline = pick(running).registered!.deadline;
            target = deadline + BigInt(pick([-1, 0, 0, 1, 2]));
          } else {
            target = clock + 1n + BigInt(pick([0, 1, 5, 30, 600, 4000]));
          }
          if (target > clock + 1n) clock = target - 1n; // the next transaction's block is at clock + 1
          what = `time -> ${clock + 1n}`;
          break;
        }
        case "toggleAccepting": {
          const next: boolean = !accepting;
          what = `R accepting=${next}`;
          sent = await send(owner, actors[R].address, rejecting.interface.encodeFunctionData("setAccepting", [next]));
          expect(sent.ok).to.equal(true);
          accepting = next;
          sent = null;
          break;
        }
        case "toggleBlock": {
          const who = pick([...eoas, R]);
          const next: boolean = !blocked.has(who);
          what = `BLK blocked[${actors[who].name}]=${next}`;
          sent = await send(0, assets[2], blocky.interface.encodeFunctionData("setBlocked", [actors[who].address, next]));
          expect(sent.ok).to.equal(true);
          if (next) blocked.add(who);
          else blocked.delete(who);
          sent = null;
          break;
        }
      }

      trail.push(`${step}: ${what}${predicted ? (predicted.ok ? " -> ok" : ` -> ${predicted.errors.map((e) => e.error).join("|")}`) : ""}`);
      if (trail.length > 40) trail.shift();
      if (predicted && sent) {
        expectOutcome(step, what, predicted, sent);
        if (predicted.ok) count(`ok:${op}`);
      }
      retire();
      const before = view;
      view = await readChain();
      checkInvariants(step, what, view, before, predicted !== null && !predicted.ok);
      if (step % PROGRESS_EVERY === 0) {
        const s = (Date.now() - started) / 1000;
        console.log(`      fuzz: ${step} steps in ${s.toFixed(0)} s (${((1000 * s) / step).toFixed(1)} ms/step), ${nonce} channels so far`);
      }
    }

    const seconds = (Date.now() - started) / 1000;
    const summary = [...stats.entries()].sort().map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`      fuzz: ${STEPS} steps in ${seconds.toFixed(1)} s, ${nonce} channels; ${summary}`);
    // The run must have reached the paths it is for, or it proves little.
    if (STEPS >= 2000 && !COVERAGE) {
      for (const k of ["ok:deposit", "ok:withdraw", "ok:withdrawTo", "Closed", "Settled", "refuted", "credited", "challenged(opening)", "revert:SignatureInvalid", "revert:StateStale", "revert:ChallengePending", "revert:ChallengeExpired", "revert:ChannelConcluded"]) {
        expect(stats.get(k) ?? 0, `outcome ${k} never happened`).to.be.greaterThan(0);
      }
    }
  });
});
