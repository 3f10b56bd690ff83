/**
 * A channel pair for the tests of hashlocked updates: a chain clock and a secret registry both
 * sides read (each side may be given its own lock policy), the messages sent as JSON text, and the
 * views that show a refusal changed nothing.
 */
import { expect } from "chai";
import keccak256 from "keccak256";
import { MerkleTree } from "merkletreejs";
import { id as textHash } from "ethers";
import {
  Countersigner,
  Sequencer,
  encodeMessage,
  type ChannelHooks,
  type ChannelMessage,
  type CommittedUpdate,
  type LockPolicy,
  Draft,
  type StateUpdate,
  type UpdateEntry,
  type UpdateRequest,
  type UpdatesProposal,
} from "../../src/channel";
import { LocksTree } from "../../src/merkle/locks";
import { PaymentLog } from "../../src/merkle/paymentLog";
import { hashlockOf } from "../../src/crypto/hash";
import type { StateSigner } from "../../src/crypto/signer";
import { SluiceError } from "../../src/errors";
import { ZERO_HASH, type Address, type Hex, type Lock, type Params, type SignedState, type State } from "../../src/types";
import { ADJUDICATOR, CHAIN_ID, KEYS, keysParams } from "../helpers/offchain";

export type Constructor = abstract new (...args: never[]) => SluiceError;
export type Pair = readonly [Sequencer, Countersigner];

/** Chain time both sides read, moved by the test. */
export class Clock {
  constructor(public now: bigint = 1_800_000_000n) {}
  readonly read = (): bigint => this.now;
}

/** The secret registry as the chain keeps it: when each hashlock's secret was first revealed. */
export class Registry {
  private readonly revealed = new Map<string, bigint>();
  reveal(secret: Hex, at: bigint): void {
    const hashlock = hashlockOf(secret);
    if (!this.revealed.has(hashlock)) this.revealed.set(hashlock, at);
  }
  readonly at = (hashlock: Hex): bigint => this.revealed.get(hashlock.toLowerCase()) ?? 0n;
}

/** Test policy: a 10-minute reveal window, locks of at most a day. */
export const WINDOW = 600n;
export const DURATION = 86_400n;

export interface PairOptions {
  deposits?: readonly [bigint, bigint];
  /** Per side, on top of the shared clock and registry and WINDOW/DURATION. */
  policy?: readonly [Partial<LockPolicy>?, Partial<LockPolicy>?];
  hooks?: readonly [ChannelHooks?, ChannelHooks?];
  params?: Params;
  signers?: readonly [StateSigner, StateSigner];
  adjudicator?: Address;
  chainId?: bigint;
}

/** The configuration of side `me` (without `me`): the shared clock and registry, WINDOW and DURATION, then `options`. */
export function configOf(me: 0 | 1, clock = new Clock(), registry = new Registry(), options: PairOptions = {}) {
  return {
    params: options.params ?? keysParams(15n),
    signer: options.signers?.[me] ?? KEYS[me],
    chainId: options.chainId ?? CHAIN_ID,
    adjudicator: options.adjudicator ?? ADJUDICATOR,
    deposits: options.deposits ?? [1000n, 1000n],
    hooks: options.hooks?.[me],
    lockPolicy: { clock: clock.read, secretRevealedAt: registry.at, minLockWindow: WINDOW, maxLockDuration: DURATION, ...options.policy?.[me] },
  };
}

export function makePair(clock = new Clock(), registry = new Registry(), options: PairOptions = {}): Pair {
  return [new Sequencer(configOf(0, clock, registry, options)), new Countersigner(configOf(1, clock, registry, options))];
}

/** Sends a message as the node will: JSON text over the wire. */
export const wire = <T extends ChannelMessage>(m: T): unknown => JSON.parse(JSON.stringify(encodeMessage(m)));

export const secretOf = (label: string | number): Hex => textHash(`sluice-channel-lock:${label}`) as Hex;
export const refOf = (label: string | number): Hex => textHash(`sluice-channel-ref:${label}`) as Hex;

/** Participant 1 countersigns participant 0's proposal and participant 0 commits the ack: both committed updates. */
export async function deliver(pair: Pair, proposal: ChannelMessage): Promise<[CommittedUpdate, CommittedUpdate]> {
  const { committed, send } = await pair[1].countersign(wire(proposal));
  const mine = await pair[0].receiveAck(wire(send));
  return [mine, committed];
}

/** Participant 0's own updates in one state, delivered; throws the first refusal. */
export async function by0(pair: Pair, ...entries: UpdateEntry[]): Promise<[CommittedUpdate, CommittedUpdate]> {
  const { proposal, rejected } = await pair[0].proposeUpdates(entries);
  if (rejected.length > 0) throw rejected[0].error;
  return deliver(pair, proposal!);
}

/** Participant 1's request, served by participant 0 and delivered. */
export async function by1(pair: Pair, request: Promise<UpdateRequest>): Promise<[CommittedUpdate, CommittedUpdate]> {
  return deliver(pair, await pair[0].receiveUpdateRequest(wire(await request)));
}

/** Participant 0 locks `amount` to 1 (expiring at `expiry`) with the labelled secret: the lock, committed. */
export async function lock0(pair: Pair, amount: bigint, label: string | number, expiry: bigint): Promise<Lock> {
  const [mine] = await by0(pair, { kind: "lock", amount, hashlock: hashlockOf(secretOf(label)), expiry, ref: refOf(label) });
  return mine.locks!.added[0];
}

/** Participant 1 locks `amount` to 0 through its request: the lock, committed. */
export async function lock1(pair: Pair, amount: bigint, label: string | number, expiry: bigint): Promise<Lock> {
  const [mine] = await by1(pair, pair[1].requestLock(amount, hashlockOf(secretOf(label)), expiry, refOf(label)));
  return mine.locks!.added[0];
}

/** Everything observable about a side, to show a refusal changed nothing. */
export function view(side: Sequencer | Countersigner) {
  return {
    snapshot: side.snapshot(),
    pending: side instanceof Sequencer ? side.pending : [],
    requests: side instanceof Countersigner ? [side.requests, side.updateRequests] : [],
    tip: side.tip,
    locks: side.locks,
    spendable: [side.spendable(0), side.spendable(1)],
    signedVersion: side.signedVersion,
  };
}

export async function expectRejected(promise: Promise<unknown>, type: Constructor): Promise<unknown> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${type.name}, got ${String(caught)}`).to.be.instanceOf(type);
  expect(caught).to.be.instanceOf(SluiceError);
  return caught;
}

/** merkletreejs's root (keccak256, sortPairs) over the leaves in ascending order; zero for none. */
export function merkletreejsRoot(leaves: readonly Hex[]): Hex {
  if (leaves.length === 0) return ZERO_HASH;
  const sorted = [...leaves].map((l) => Buffer.from(l.slice(2), "hex")).sort((a, b) => Buffer.compare(a, b));
  return new MerkleTree(sorted, keccak256, { sortPairs: true }).getHexRoot() as Hex;
}

/** Both sides hold the same latest state, signed by both. */
export function expectInStep(pair: Pair): SignedState {
  expect(pair[1].latest).to.deep.equal(pair[0].latest);
  expect(pair[1].locks).to.deep.equal(pair[0].locks);
  return pair[0].latest;
}

/**
 * A proposal participant 0's own checks would never make: `updates` applied by the structural
 * rules only on top of the latest state, the state built from them (then `edit`ed) and signed
 * with participant 0's key. For the countersigner's refusals.
 */
export function forge(pair: Pair, updates: StateUpdate[], edit?: (state: State) => void): UpdatesProposal {
  const [p0, p1] = pair;
  const latest = p0.latest.state;
  const draft = new Draft({ channelId: p0.id }, latest.transferred, new LocksTree(p0.id, p0.locks), BigInt(p0.paymentCount));
  for (const update of updates) draft.apply(update);
  const log = new PaymentLog(p0.snapshot().payments);
  for (const receipt of draft.receipts) log.append(receipt);
  const top = p1.signedVersion > latest.version ? p1.signedVersion : latest.version;
  const state: State = {
    channelId: p0.id,
    version: top + 1n,
    transferred: draft.transferred,
    locked: draft.locks.locked,
    locksRoot: draft.locks.root,
    paymentsRoot: log.root,
    isFinal: false,
  };
  edit?.(state);
  return { kind: "updates", updates, state, sig: KEYS[0].sign(p0.hasher.digest(state)) };
}
