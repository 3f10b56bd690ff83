/**
 * Property test of the channel state machine with hashlocked updates: random sequences of
 * payments, locks, unlocks, cancels and expiries by both sides (alone or batched), secrets
 * registered on chain and a chain clock that moves. A model predicts whether each step is allowed;
 * an allowed step must commit on both sides, a refused one must be typed and change neither
 * side. After every step both sides hold the same latest state, its `locksRoot` is merkletreejs's
 * root over the pending leaves, `locked[i]` is the sum of i's pending locks, balances and locked
 * amounts add up to the deposits, and neither side ever signed two states of one version.
 */
import { expect } from "chai";
import fc from "fast-check";
import type { ChannelHooks, SignIntent, UpdateEntry } from "../../src/channel";
import { hashlockOf, lockLeafHex, toHex } from "../../src/crypto/hash";
import { SluiceError } from "../../src/errors";
import type { Hex, Lock } from "../../src/types";
import { Clock, Registry, WINDOW, by0, by1, deliver, expectInStep, makePair, merkletreejsRoot, refOf, secretOf, view, wire, type Pair } from "./helpers";

const DEPOSITS: [bigint, bigint] = [1000n, 600n];
const MAX_LOCKS = 6;

type Op =
  | { t: "pay"; by: 0 | 1; amount: bigint }
  | { t: "lock"; by: 0 | 1; amount: bigint; offset: bigint }
  | { t: "unlock" | "cancel" | "expire"; by: 0 | 1; pick: number }
  | { t: "wrong-secret"; by: 0 | 1; pick: number }
  | { t: "batch"; amounts: bigint[]; pick: number }
  | { t: "tick"; seconds: bigint }
  | { t: "reveal"; pick: number };

const side = fc.constantFrom<0 | 1>(0, 1);
const amount = fc.bigInt(1n, 400n);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant("pay" as const), by: side, amount }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("lock" as const), by: side, amount: fc.bigInt(1n, 700n), offset: fc.bigInt(WINDOW, WINDOW + 1500n) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant("unlock" as const), by: side, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("cancel" as const), by: side, pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("expire" as const), by: side, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("wrong-secret" as const), by: side, pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("batch" as const), amounts: fc.array(amount, { minLength: 1, maxLength: 3 }), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant("tick" as const), seconds: fc.bigInt(0n, 4000n) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("reveal" as const), pick: fc.nat() }) },
);

/** What the test knows: the pending locks (with their secrets) and the transfers, as the rules say they must be. */
class Model {
  readonly locks: { lock: Lock; secret: Hex }[] = [];
  readonly transferred: [bigint, bigint] = [0n, 0n];
  next = 0;

  constructor(
    readonly clock: Clock,
    readonly registry: Registry,
  ) {}

  locked(sender: 0 | 1): bigint {
    return this.locks.filter((l) => l.lock.sender === sender).reduce((s, l) => s + l.lock.amount, 0n);
  }

  balance(who: 0 | 1): bigint {
    return DEPOSITS[who] + this.transferred[1 - who] - this.transferred[who] - this.locked(who);
  }

  revealedInTime(lock: Lock): boolean {
    const at = this.registry.at(lock.hashlock);
    return at !== 0n && at <= lock.expiry;
  }

  pick(index: number): { lock: Lock; secret: Hex } | undefined {
    return this.locks.length === 0 ? undefined : this.locks[index % this.locks.length];
  }

  remove(lock: Lock): void {
    this.locks.splice(
      this.locks.findIndex((l) => l.lock === lock),
      1,
    );
  }
}

/** Records each side's signatures by version: a second, different state at one version fails the test. */
function signingLog(): { hooks: [ChannelHooks, ChannelHooks]; signed: [Map<bigint, Hex>, Map<bigint, Hex>] } {
  const signed: [Map<bigint, Hex>, Map<bigint, Hex>] = [new Map<bigint, Hex>(), new Map<bigint, Hex>()];
  const hook = (me: 0 | 1) => ({
    beforeSign(intent: SignIntent) {
      const earlier = signed[me].get(intent.state.version);
      expect(earlier === undefined || earlier === intent.digest, `participant ${me} signs two states of version ${intent.state.version}`).to.equal(true);
      signed[me].set(intent.state.version, intent.digest);
    },
  });
  return { hooks: [hook(0), hook(1)], signed };
}

/** Which kinds of step passed and which were refused over the whole run (the generator must reach both). */
const outcomes = new Set<string>();

/** Runs `step` if `allowed`, else expects a typed refusal that changes neither side. */
async function attempt(pair: Pair, allowed: boolean, step: () => Promise<unknown>, what: string): Promise<boolean> {
  const kind = what.split(" ")[0];
  outcomes.add(`${kind}:${allowed ? "passed" : "refused"}`);
  const before = [view(pair[0]), view(pair[1])];
  let error: unknown;
  try {
    await step();
  } catch (e) {
    error = e;
  }
  if (allowed) {
    expect(error, `${what} should pass`).to.equal(undefined);
    return true;
  }
  expect(error, `${what} should be refused`).to.be.instanceOf(SluiceError);
  // As a node does on a refusal: participant 0 abandons a proposal participant 1 refused, and
  // participant 1 drops a request participant 0 refused. Their burned version and request id aside,
  // neither side changed.
  await pair[0].abandonPending();
  for (const r of pair[1].requests) await pair[1].cancelRequest(r.id);
  for (const r of pair[1].updateRequests) await pair[1].cancelUpdateRequest(r.id);
  const after = [view(pair[0]), view(pair[1])];
  for (const i of [0, 1]) expect(unburned(after[i])).to.deep.equal(unburned(before[i]));
  return false;
}

const unburned = (v: ReturnType<typeof view>) => ({ ...v, signedVersion: 0n, snapshot: { ...v.snapshot, signedVersion: 0n, lastRequestId: 0n } });

async function run(pair: Pair, model: Model, op: Op): Promise<void> {
  const now = model.clock.now;
  switch (op.t) {
    case "tick":
      model.clock.now += op.seconds;
      return;
    case "reveal": {
      const picked = model.pick(op.pick);
      if (picked) model.registry.reveal(picked.secret, now);
      return;
    }
    case "pay": {
      const ok = op.amount <= model.balance(op.by);
      const step = op.by === 0 ? () => by0(pair, { kind: "pay", amount: op.amount, ref: refOf(model.next) }) : () => by1ViaPayment(pair, op.amount, refOf(model.next));
      if (await attempt(pair, ok, step, `pay ${op.amount} by ${op.by}`)) model.transferred[op.by] += op.amount;
      model.next++;
      return;
    }
    case "lock": {
      const label = `lock-${model.next++}`;
      const lock: Lock = { channelId: pair[0].id, sender: op.by, amount: op.amount, hashlock: hashlockOf(secretOf(label)), expiry: now + op.offset, ref: refOf(label) };
      const ok = op.amount <= model.balance(op.by) && model.locks.length < MAX_LOCKS;
      const step = op.by === 0 ? () => by0(pair, { kind: "lock", amount: lock.amount, hashlock: lock.hashlock, expiry: lock.expiry, ref: lock.ref }) : () => by1(pair, pair[1].requestLock(lock.amount, lock.hashlock, lock.expiry, lock.ref));
      if (await attempt(pair, ok, step, `lock ${op.amount} by ${op.by}`)) model.locks.push({ lock, secret: secretOf(label) });
      return;
    }
    case "unlock":
    case "wrong-secret": {
      const picked = model.pick(op.pick);
      if (!picked) return;
      const { lock } = picked;
      const secret = op.t === "unlock" ? picked.secret : secretOf("wrong");
      // A late claim is refused by the lock's sender; a sender may always hand in its own unlock.
      const ok = op.t === "unlock" && (now <= lock.expiry || model.revealedInTime(lock) || op.by === lock.sender);
      const step = op.by === 0 ? () => by0(pair, { kind: "unlock", lock, secret }) : () => by1(pair, pair[1].requestUnlock(lock, secret));
      if (await attempt(pair, ok, step, `unlock by ${op.by}`)) {
        model.remove(lock);
        model.transferred[lock.sender] += lock.amount;
      }
      return;
    }
    case "cancel":
    case "expire": {
      const picked = model.pick(op.pick);
      if (!picked) return;
      const { lock } = picked;
      // The receiver cancels, the sender expires: `by` is who tries.
      const actor = op.t === "cancel" ? 1 - lock.sender : lock.sender;
      const ok = op.by === actor && (op.t === "cancel" || (now > lock.expiry && !model.revealedInTime(lock)));
      const kind = op.t;
      const step =
        op.by === 0
          ? () => by0(pair, { kind, lock })
          : () => by1(pair, op.t === "cancel" ? pair[1].requestCancel(lock) : pair[1].requestExpire(lock));
      if (await attempt(pair, ok, step, `${op.t} by ${op.by}`)) model.remove(lock);
      return;
    }
    case "batch": {
      // Participant 0's payments and, if one is pending, an unlock, in one state; entries that fail are left out.
      const entries: UpdateEntry[] = op.amounts.map((a, i) => ({ kind: "pay", amount: a, ref: refOf(`${model.next}-${i}`) }));
      const picked = model.pick(op.pick);
      if (picked) entries.splice(op.pick % (entries.length + 1), 0, { kind: "unlock", lock: picked.lock, secret: picked.secret });
      model.next++;
      const { proposal, rejected } = await pair[0].proposeUpdates(entries);
      const skipped = new Set(rejected.map((r) => r.index));
      // The model replays the batch in order to predict which entries pass.
      const expected: number[] = [];
      const transferred: [bigint, bigint] = [model.transferred[0], model.transferred[1]];
      let removed: Lock | undefined;
      entries.forEach((entry, i) => {
        if (entry.kind === "pay") {
          const available = DEPOSITS[0] + transferred[1] - transferred[0] - (model.locked(0) - (removed?.sender === 0 ? removed.amount : 0n));
          if (entry.amount <= available) {
            transferred[0] += entry.amount;
            expected.push(i);
          }
        } else if (picked && (now <= picked.lock.expiry || model.revealedInTime(picked.lock) || picked.lock.sender === 0)) {
          transferred[picked.lock.sender] += picked.lock.amount;
          removed = picked.lock;
          expected.push(i);
        }
      });
      expect(entries.map((_, i) => i).filter((i) => !skipped.has(i))).to.deep.equal(expected);
      if (!proposal) return;
      const [, committed] = await deliver(pair, proposal);
      expect(committed.signed.state.transferred).to.deep.equal(transferred);
      model.transferred[0] = transferred[0];
      model.transferred[1] = transferred[1];
      if (removed) model.remove(removed);
      return;
    }
  }
}

/** Participant 1 pays through a payment request. */
async function by1ViaPayment(pair: Pair, amount: bigint, ref: Hex): Promise<void> {
  await deliver(pair, await pair[0].receiveRequest(wire(await pair[1].requestPayment(amount, ref))));
}

function checkInvariants(pair: Pair, model: Model): void {
  const { state } = expectInStep(pair);
  const leaves = model.locks.map((l) => lockLeafHex(l.lock));
  expect(state.locksRoot).to.equal(merkletreejsRoot(leaves));
  expect(pair[0].locks.map(lockLeafHex).sort()).to.deep.equal([...leaves].sort());
  expect(state.locked).to.deep.equal([model.locked(0), model.locked(1)]);
  expect(state.transferred).to.deep.equal(model.transferred);
  const balances = [0, 1].map((i) => DEPOSITS[i] + state.transferred[1 - i] - state.transferred[i] - state.locked[i]);
  for (const b of balances) expect(b >= 0n, "a balance below zero").to.equal(true);
  expect(balances[0] + balances[1] + state.locked[0] + state.locked[1]).to.equal(DEPOSITS[0] + DEPOSITS[1]);
  expect(pair[0].payouts[0] + pair[0].payouts[1] + state.locked[0] + state.locked[1]).to.equal(DEPOSITS[0] + DEPOSITS[1]);
}

describe("channel: hashlocked updates, property test", function () {
  this.timeout(120_000);

  it("random pays, locks, unlocks, cancels and expiries by both sides with a moving clock keep both sides in step and every sum right", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: "max" }), async (ops) => {
        const clock = new Clock();
        const registry = new Registry();
        const { hooks, signed } = signingLog();
        const pair = makePair(clock, registry, { deposits: DEPOSITS, hooks, policy: [{ maxPendingLocks: MAX_LOCKS }, { maxPendingLocks: MAX_LOCKS }] });
        const model = new Model(clock, registry);
        for (const op of ops) {
          await run(pair, model, op);
          checkInvariants(pair, model);
        }
        // Every pending lock goes back to its sender (its receiver cancels it), then the channel closes.
        for (const { lock } of [...model.locks]) {
          await (lock.sender === 0 ? by1(pair, pair[1].requestCancel(lock)) : by0(pair, { kind: "cancel", lock }));
          model.remove(lock);
          checkInvariants(pair, model);
        }
        const [final] = await deliver(pair, await pair[0].proposeFinal());
        expect(final.signed.state.locked).to.deep.equal([0n, 0n]);
        expect(pair[1].payouts[0] + pair[1].payouts[1]).to.equal(DEPOSITS[0] + DEPOSITS[1]);
        // Each side signed every committed version once, and a different state at none.
        expect(signed[1].get(final.signed.state.version)).to.equal(toHex(pair[1].hasher.digest(final.signed.state)));
      }),
      { numRuns: 100 },
    );
    for (const kind of ["pay", "lock", "unlock", "cancel", "expire"]) {
      expect([...outcomes]).to.include.members([`${kind}:passed`, `${kind}:refused`]);
    }
  });
});
