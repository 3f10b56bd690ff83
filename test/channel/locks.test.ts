/**
 * Hashlocked updates in the channel state machine, rule by rule (DESIGN.md, "Check before
 * countersigning"): each rule is checked by participant 0 on its own proposals and on participant
 * 1's requests, and by participant 1 on every proposal; each refusal is typed and leaves the side
 * that refused unchanged.
 */
import { expect } from "chai";
import {
  LockActorError,
  LockedMismatchError,
  LockedValueCapError,
  LockExpiredError,
  LockExpiryError,
  LockNotExpiredError,
  LocksPendingError,
  LocksRootMismatchError,
  SecretMismatchError,
  TooManyLocksError,
  Countersigner,
  Sequencer,
  SyncRejectedError,
  decodeMessage,
  encodeMessage,
  type ChannelMessage,
  type LockPolicy,
  type SignIntent,
  type StateUpdate,
  type UpdateEntry,
} from "../../src/channel";
import { hashlockOf, lockLeaf, lockLeafHex } from "../../src/crypto/hash";
import { keccak256Js } from "../../src/crypto/keccak";
import { AbiCoder, keccak256 } from "ethers";
import {
  DuplicateLockError,
  InsufficientFundsError,
  InvalidAmountError,
  RootMismatchError,
  SluiceError,
  TransferMismatchError,
  UnknownLockError,
  UnrequestedPaymentError,
} from "../../src/errors";
import { LocksTree } from "../../src/merkle/locks";
import { ZERO_HASH, type Hex, type Lock } from "../../src/types";
import {
  Clock,
  DURATION,
  Registry,
  WINDOW,
  by0,
  by1,
  configOf,
  deliver,
  expectInStep,
  expectRejected,
  forge,
  lock0,
  lock1,
  makePair,
  merkletreejsRoot,
  refOf,
  secretOf,
  view,
  wire,
  type Constructor,
  type Pair,
} from "./helpers";

const T0 = 1_800_000_000n;
const EXPIRY = T0 + 2n * WINDOW;
const hashOf = (label: string | number): Hex => hashlockOf(secretOf(label));
const lockEntry = (amount: bigint, label: string | number, expiry = EXPIRY): UpdateEntry => ({ kind: "lock", amount, hashlock: hashOf(label), expiry, ref: refOf(label) });

/** Participant 1 refuses `proposal` with `type`; its state is unchanged. */
async function expectCountersignRefused(pair: Pair, proposal: ChannelMessage, type: Constructor): Promise<void> {
  const before = view(pair[1]);
  await expectRejected(pair[1].countersign(wire(proposal)), type);
  expect(view(pair[1])).to.deep.equal(before);
}

/** Participant 0 refuses its own entry with `type`; its state is unchanged. */
async function expectProposeRefused(pair: Pair, entry: UpdateEntry, type: Constructor): Promise<void> {
  const before = view(pair[0]);
  const { proposal, rejected } = await pair[0].proposeUpdates([entry]);
  expect(proposal).to.equal(undefined);
  expect(rejected).to.have.length(1);
  expect(rejected[0].error, String(rejected[0].error)).to.be.instanceOf(type);
  expect(view(pair[0])).to.deep.equal(before);
}

describe("channel: hashlocked updates", function () {
  describe("lock leaves (hashed once per lock object)", function () {
    const lock: Lock = { channelId: `0x${"ab".repeat(32)}`, sender: 1, amount: 7n, hashlock: hashOf("leaf"), expiry: EXPIRY, ref: refOf("leaf") };
    const abiLeaf = (l: Lock) =>
      keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "uint8", "uint256", "bytes32", "uint64", "bytes32"], [l.channelId, l.sender, l.amount, l.hashlock, l.expiry, l.ref])));

    it("is keccak256(keccak256(abi.encode(lock))), the same for a copy and with the JS keccak", function () {
      expect(lockLeafHex(lock)).to.equal(abiLeaf(lock));
      expect(lockLeafHex({ ...lock })).to.equal(abiLeaf(lock));
      expect(`0x${lockLeaf(lock, keccak256Js).toString("hex")}`).to.equal(abiLeaf(lock));
    });

    it("hands out a fresh buffer each time: writing into one changes no later leaf", function () {
      const first = lockLeaf(lock);
      first.fill(0);
      expect(`0x${lockLeaf(lock).toString("hex")}`).to.equal(abiLeaf(lock));
      expect(lockLeafHex(lock)).to.equal(abiLeaf(lock));
    });

    it("of another lock is its own, never a remembered one", function () {
      const other = { ...lock, amount: 8n };
      expect(lockLeafHex(lock)).to.not.equal(lockLeafHex(other));
      expect(lockLeafHex(other)).to.equal(abiLeaf(other));
    });
  });

  describe("a lock's life, both ways", function () {
    it("0 locks, 1 unlocks with the secret: the amount moves from locked to transferred and a receipt with the lock's ref joins the log", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 100n, "a", EXPIRY);
      let latest = expectInStep(pair).state;
      expect(latest.locked).to.deep.equal([100n, 0n]);
      expect(latest.locksRoot).to.equal(merkletreejsRoot([lockLeafHex(lock)]));
      expect(pair[0].spendable(0)).to.equal(900n);

      const [mine, theirs] = await by1(pair, pair[1].requestUnlock(lock, secretOf("a")));
      latest = expectInStep(pair).state;
      expect(latest.locked).to.deep.equal([0n, 0n]);
      expect(latest.locksRoot).to.equal(ZERO_HASH);
      expect(latest.transferred).to.deep.equal([100n, 0n]);
      const receipt = { channelId: pair[0].id, seq: 0n, payer: 0, amount: 100n, ref: refOf("a") };
      expect(pair[0].payment(0)).to.deep.equal(receipt);
      expect(pair[1].payment(0)).to.deep.equal(receipt);
      // The committed updates report the removal with the secret; the sender (0) learned it.
      for (const committed of [mine, theirs]) {
        expect(committed.locks!.removed).to.deep.equal([{ lock, reason: "unlock", secret: secretOf("a") }]);
        expect(committed.payments.map((p) => p.payment)).to.deep.equal([receipt]);
      }
      expect(mine.secrets).to.deep.equal([{ hashlock: hashOf("a"), secret: secretOf("a") }]);
      expect(theirs.secrets).to.deep.equal([]);
    });

    it("1 locks through its request, 0 unlocks with the secret and is paid; 1 learns the secret", async function () {
      const pair = makePair();
      const lock = await lock1(pair, 70n, "b", EXPIRY);
      expect(expectInStep(pair).state.locked).to.deep.equal([0n, 70n]);
      expect(pair[1].spendable(1)).to.equal(930n);
      const [, theirs] = await by0(pair, { kind: "unlock", lock: lockLeafHex(lock), secret: secretOf("b") });
      expect(expectInStep(pair).state.transferred).to.deep.equal([0n, 70n]);
      expect(theirs.secrets).to.deep.equal([{ hashlock: hashOf("b"), secret: secretOf("b") }]);
    });

    it("a sender may unlock its own lock (it only pays the receiver)", async function () {
      const pair = makePair();
      const a = await lock0(pair, 10n, "a", EXPIRY);
      const b = await lock1(pair, 20n, "b", EXPIRY);
      await by0(pair, { kind: "unlock", lock: a, secret: secretOf("a") });
      await by1(pair, pair[1].requestUnlock(b, secretOf("b")));
      expect(expectInStep(pair).state.transferred).to.deep.equal([10n, 20n]);
    });

    it("the receiver cancels: 1 gives back 0's lock on request, 0 gives back 1's lock", async function () {
      const pair = makePair();
      const a = await lock0(pair, 10n, "a", EXPIRY);
      const b = await lock1(pair, 20n, "b", EXPIRY);
      const [, theirs] = await by1(pair, pair[1].requestCancel(a));
      expect(theirs.locks!.removed).to.deep.equal([{ lock: a, reason: "cancel" }]);
      await by0(pair, { kind: "cancel", lock: b });
      const latest = expectInStep(pair).state;
      expect(latest.transferred).to.deep.equal([0n, 0n]);
      expect(latest.locked).to.deep.equal([0n, 0n]);
      expect(latest.locksRoot).to.equal(ZERO_HASH);
      expect([pair[0].spendable(0), pair[1].spendable(1)]).to.deep.equal([1000n, 1000n]);
    });

    it("the sender expires its own lock once the chain's time passed the expiry without the secret revealed in time", async function () {
      const clock = new Clock(T0);
      const registry = new Registry();
      const pair = makePair(clock, registry);
      const a = await lock0(pair, 10n, "a", EXPIRY);
      const b = await lock1(pair, 20n, "b", EXPIRY);
      clock.now = EXPIRY + 1n;
      registry.reveal(secretOf("a"), EXPIRY + 1n); // revealed too late: it does not save the lock
      const [mine] = await by0(pair, { kind: "expire", lock: a });
      expect(mine.locks!.removed).to.deep.equal([{ lock: a, reason: "expire" }]);
      await by1(pair, pair[1].requestExpire(b));
      expect(expectInStep(pair).state.locked).to.deep.equal([0n, 0n]);
    });

    it("updates batch with payments in one state, in order; a payment-only batch still travels as `payments`", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 50n, "a", EXPIRY);
      const { proposal } = await pair[0].proposeUpdates([
        { kind: "pay", amount: 5n, ref: refOf("p1") },
        { kind: "unlock", lock, secret: secretOf("a") },
        lockEntry(30n, "c"),
        { kind: "pay", amount: 7n, ref: refOf("p2") },
      ]);
      expect(proposal!.kind).to.equal("updates");
      const [mine, theirs] = await deliver(pair, proposal!);
      expect(mine.payments.map((p) => [p.payment.seq, p.payment.amount])).to.deep.equal([[0n, 5n], [1n, 50n], [2n, 7n]]);
      expect(theirs.leaves).to.have.length(3);
      expect(mine.updates!.map((u) => u.op)).to.deep.equal(["pay", "unlock", "lock", "pay"]);
      expect(expectInStep(pair).state.transferred).to.deep.equal([62n, 0n]);
      const { proposal: plain } = await pair[0].proposeUpdates([{ kind: "pay", amount: 1n, ref: ZERO_HASH }]);
      expect(plain!.kind).to.equal("payments");
    });

    it("the store hook sees a lock state's updates before it is signed; a failing hook signs nothing and changes nothing", async function () {
      const seen: SignIntent[] = [];
      let fail = true;
      const hooks = [undefined, { beforeSign: (intent: SignIntent) => { seen.push(intent); if (fail) throw new SluiceError("disk full"); } }] as const;
      const pair = makePair(new Clock(), new Registry(), { hooks });
      const { proposal } = await pair[0].proposeUpdates([lockEntry(10n, "a"), { kind: "pay", amount: 3n, ref: refOf("p") }]);
      const before = view(pair[1]);
      await expectRejected(pair[1].countersign(wire(proposal!)), SluiceError);
      expect(view(pair[1])).to.deep.equal(before);
      expect(seen[0].kind).to.equal("countersign-payment");
      expect(seen[0].updates!.map((u) => u.op)).to.deep.equal(["lock", "pay"]);
      expect(seen[0].payments.map((p) => p.payment.amount)).to.deep.equal([3n]);
      fail = false;
      await deliver(pair, proposal!);
      expect(expectInStep(pair).state.locked).to.deep.equal([10n, 0n]);
    });

    it("messages survive the JSON form and the schema both ways", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 10n, "a", EXPIRY);
      const request = await pair[1].requestUnlock(lock, secretOf("a"));
      const proposal = await pair[0].receiveUpdateRequest(wire(request));
      for (const message of [request, proposal] as ChannelMessage[]) expect(decodeMessage(wire(message))).to.deep.equal(message);
      expect(encodeMessage(proposal)).to.deep.equal(wire(proposal));
    });
  });

  describe("the lock rules", function () {
    const strict: Partial<LockPolicy> = { maxPendingLocks: 2, maxLockedValue: 100n };
    const lenient: Partial<LockPolicy> = { minLockWindow: 0n, maxLockDuration: 10n ** 9n, maxPendingLocks: 1000, maxLockedValue: 10n ** 30n };
    const rows: { what: string; setup?: (pair: Pair) => Promise<unknown>; lock: () => UpdateEntry; error: Constructor }[] = [
      { what: "an amount of zero", lock: () => lockEntry(0n, "z"), error: InvalidAmountError },
      { what: "an expiry inside the reveal window", lock: () => lockEntry(1n, "w", T0 + WINDOW - 1n), error: LockExpiryError },
      { what: "an expiry beyond the longest duration", lock: () => lockEntry(1n, "d", T0 + DURATION + 1n), error: LockExpiryError },
      { what: "a third pending lock (cap 2)", setup: (p) => Promise.all([lock0(p, 1n, "x", EXPIRY), lock0(p, 1n, "y", EXPIRY)]), lock: () => lockEntry(1n, "n"), error: TooManyLocksError },
      { what: "pending value above the cap (100)", setup: (p) => lock0(p, 60n, "x", EXPIRY), lock: () => lockEntry(41n, "v"), error: LockedValueCapError },
    ];
    for (const row of rows) {
      it(`participant 0 refuses a lock with ${row.what}, its own or participant 1's request`, async function () {
        const pair = makePair(new Clock(T0), new Registry(), { policy: [strict, lenient] });
        await row.setup?.(pair);
        await expectProposeRefused(pair, row.lock(), row.error);
        const entry = row.lock() as Extract<UpdateEntry, { kind: "lock" }>;
        const request = await pair[1].requestLock(entry.amount === 0n ? 1n : entry.amount, entry.hashlock, entry.expiry, entry.ref);
        if (entry.amount === 0n) (request.update as { amount: bigint }).amount = 0n;
        const before = view(pair[0]);
        await expectRejected(pair[0].receiveUpdateRequest(wire(request)), row.error);
        expect(view(pair[0])).to.deep.equal(before);
      });

      it(`participant 1 refuses a proposed lock with ${row.what}`, async function () {
        const pair = makePair(new Clock(T0), new Registry(), { policy: [lenient, strict] });
        await row.setup?.(pair);
        const entry = row.lock() as Extract<UpdateEntry, { kind: "lock" }>;
        const lock: Lock = { channelId: pair[0].id, sender: 0, amount: entry.amount, hashlock: entry.hashlock, expiry: entry.expiry, ref: entry.ref };
        let proposal: ChannelMessage;
        if (entry.amount === 0n) {
          // Participant 0 makes no such lock: the state of a lock of 1, sent with an amount of 0.
          const forged = forge(pair, [{ op: "lock", lock: { ...lock, amount: 1n } }]);
          forged.updates[0] = { op: "lock", lock };
          proposal = forged;
        } else {
          proposal = (await pair[0].proposeUpdates([entry])).proposal!;
        }
        await expectCountersignRefused(pair, proposal, row.error);
      });
    }

    it("participant 1 checks its own lock request as participant 0 will: window and affordability", async function () {
      const pair = makePair(new Clock(T0), new Registry(), { deposits: [100n, 100n] });
      let before = view(pair[1]);
      await expectRejected(pair[1].requestLock(1n, hashOf("a"), T0 + WINDOW - 1n, ZERO_HASH), LockExpiryError);
      await expectRejected(pair[1].requestLock(1n, hashOf("a"), T0 + DURATION + 1n, ZERO_HASH), LockExpiryError);
      await expectRejected(pair[1].requestLock(101n, hashOf("a"), EXPIRY, ZERO_HASH), InsufficientFundsError);
      expect(view(pair[1])).to.deep.equal(before);
      await pair[1].requestLock(60n, hashOf("a"), EXPIRY, ZERO_HASH);
      expect(pair[1].spendable(1)).to.equal(40n);
      before = view(pair[1]);
      await expectRejected(pair[1].requestLock(41n, hashOf("b"), EXPIRY, ZERO_HASH), InsufficientFundsError);
      expect(view(pair[1])).to.deep.equal(before);
    });

    it("a lock must be affordable counting pending locks and live signed withdrawals, on both sides", async function () {
      const pair = makePair(new Clock(T0), new Registry(), { deposits: [100n, 100n] });
      await lock0(pair, 50n, "a", EXPIRY);
      const ack = await pair[1].receiveWithdrawal(wire(await pair[0].proposeWithdrawal(30n, T0 + 100n)), T0, 3600n);
      await pair[0].receiveWithdrawalAck(wire(ack));
      expect(pair[0].spendable(0)).to.equal(20n);
      await expectProposeRefused(pair, lockEntry(21n, "b"), InsufficientFundsError);
      // Participant 0 believing in a larger deposit proposes it; participant 1 refuses.
      pair[0].setDeposits([1000n, 100n]);
      const { proposal } = await pair[0].proposeUpdates([lockEntry(21n, "b")]);
      await expectCountersignRefused(pair, proposal!, InsufficientFundsError);
    });

    it("a duplicate leaf is refused: by participant 0 and by participant 1", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 5n, "a", EXPIRY);
      await expectProposeRefused(pair, lockEntry(5n, "a"), DuplicateLockError);
      const proposal = forge(pair, [{ op: "lock", lock: { ...lock, amount: 6n } }]);
      proposal.updates.push({ op: "lock", lock });
      await expectCountersignRefused(pair, proposal, DuplicateLockError);
    });
  });

  describe("the unlock, cancel and expire rules", function () {
    it("an unlock needs a pending lock and the secret whose sha256 is its hashlock", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 10n, "a", EXPIRY);
      await expectProposeRefused(pair, { kind: "unlock", lock, secret: secretOf("wrong") }, SecretMismatchError);
      await expectProposeRefused(pair, { kind: "unlock", lock: { ...lock, amount: 11n }, secret: secretOf("a") }, UnknownLockError);
      await expectRejected(pair[1].requestUnlock(lock, secretOf("wrong")), SecretMismatchError);
      // The state of the right unlock, sent with another secret, or naming a lock that is not pending.
      const wrongSecret = forge(pair, [{ op: "unlock", lock, secret: secretOf("a") }]);
      wrongSecret.updates[0] = { op: "unlock", lock, secret: secretOf("wrong") };
      await expectCountersignRefused(pair, wrongSecret, SecretMismatchError);
      const unknown = forge(pair, [{ op: "unlock", lock, secret: secretOf("a") }]);
      unknown.updates[0] = { op: "unlock", lock: { ...lock, hashlock: hashOf("b") }, secret: secretOf("b") };
      await expectCountersignRefused(pair, unknown, UnknownLockError);
    });

    for (const revealed of [false, true]) {
      const when = revealed ? "accepts it after the expiry, the secret revealed on chain by then" : "refuses it after the expiry";
      it(`the sender of a lock ${when}`, async function () {
        const clock = new Clock(T0);
        const registry = new Registry();
        const pair = makePair(clock, registry);
        const a = await lock0(pair, 10n, "a", EXPIRY);
        const b = await lock1(pair, 20n, "b", EXPIRY);
        if (revealed) {
          registry.reveal(secretOf("a"), EXPIRY);
          registry.reveal(secretOf("b"), EXPIRY);
        }
        clock.now = EXPIRY + 1n;
        if (revealed) {
          await by1(pair, pair[1].requestUnlock(a, secretOf("a")));
          await by0(pair, { kind: "unlock", lock: b, secret: secretOf("b") });
          expect(expectInStep(pair).state.transferred).to.deep.equal([10n, 20n]);
          return;
        }
        // Participant 0 is a's sender: it serves 1's unlock request only in time (and 1 knows it and asks for none).
        let before = view(pair[1]);
        await expectRejected(pair[1].requestUnlock(a, secretOf("a")), LockExpiredError);
        expect(view(pair[1])).to.deep.equal(before);
        before = view(pair[0]);
        const request = { kind: "update-request", id: 100n, update: { op: "unlock", leaf: lockLeafHex(a), secret: secretOf("a") } } as const;
        await expectRejected(pair[0].receiveUpdateRequest(wire(request)), LockExpiredError);
        expect(view(pair[0])).to.deep.equal(before);
        // Participant 1 is b's sender: it countersigns 0's unlock only in time (and 0 knows it and proposes none).
        await expectProposeRefused(pair, { kind: "unlock", lock: b, secret: secretOf("b") }, LockExpiredError);
        await expectCountersignRefused(pair, forge(pair, [{ op: "unlock", lock: b, secret: secretOf("b") }]), LockExpiredError);
      });
    }

    const notYet: [string, (clock: Clock, registry: Registry) => void][] = [
      ["before its expiry", (clock) => (clock.now = EXPIRY)],
      ["after its expiry, the secret revealed on chain at the expiry", (clock, registry) => { registry.reveal(secretOf("a"), EXPIRY); registry.reveal(secretOf("b"), EXPIRY); clock.now = EXPIRY + 10n; }],
    ];
    for (const [when, set] of notYet) {
      it(`an expire ${when} is refused: by the sender itself and by the receiver`, async function () {
        const clock = new Clock(T0);
        const registry = new Registry();
        const pair = makePair(clock, registry);
        const a = await lock0(pair, 10n, "a", EXPIRY);
        const b = await lock1(pair, 20n, "b", EXPIRY);
        set(clock, registry);
        await expectProposeRefused(pair, { kind: "expire", lock: a }, LockNotExpiredError);
        await expectRejected(pair[1].requestExpire(b), LockNotExpiredError);
        await expectCountersignRefused(pair, forge(pair, [{ op: "expire", lock: a }]), LockNotExpiredError);
        const request = { kind: "update-request", id: 100n, update: { op: "expire", leaf: lockLeafHex(b) } } as const;
        const before = view(pair[0]);
        await expectRejected(pair[0].receiveUpdateRequest(wire(request)), LockNotExpiredError);
        expect(view(pair[0])).to.deep.equal(before);
      });
    }
  });

  describe("who may make which update", function () {
    it("participant 0 may not cancel its own lock nor expire participant 1's; participant 1 may not ask to", async function () {
      const clock = new Clock(T0);
      const pair = makePair(clock);
      const a = await lock0(pair, 10n, "a", EXPIRY);
      const b = await lock1(pair, 20n, "b", EXPIRY);
      clock.now = EXPIRY + 1n;
      await expectProposeRefused(pair, { kind: "cancel", lock: a }, LockActorError);
      await expectProposeRefused(pair, { kind: "expire", lock: b }, LockActorError);
      await expectRejected(pair[1].requestCancel(b), LockActorError);
      await expectRejected(pair[1].requestExpire(a), LockActorError);
      for (const update of [
        { op: "cancel", leaf: lockLeafHex(b) },
        { op: "expire", leaf: lockLeafHex(a) },
      ] as const) {
        const before = view(pair[0]);
        await expectRejected(pair[0].receiveUpdateRequest(wire({ kind: "update-request", id: 9n, update })), LockActorError);
        expect(view(pair[0])).to.deep.equal(before);
      }
    });

    it("participant 1 refuses updates participant 0 may not make, and its own acts that it did not request or that differ from its request", async function () {
      const clock = new Clock(T0);
      const pair = makePair(clock);
      const a = await lock0(pair, 10n, "a", EXPIRY);
      const b = await lock1(pair, 20n, "b", EXPIRY);
      const own: Lock = { channelId: pair[0].id, sender: 1, amount: 5n, hashlock: hashOf("c"), expiry: EXPIRY, ref: refOf("c") };
      const rows: [string, StateUpdate[], Constructor][] = [
        ["0 cancels its own lock", [{ op: "cancel", lock: a }], LockActorError],
        ["a lock by 1 without its request", [{ op: "lock", lock: own }], LockActorError],
        ["a lock by 0 claiming a request", [{ op: "lock", lock: { ...own, sender: 0 }, request: 1n }], LockActorError],
        ["1's lock answering no outstanding request", [{ op: "lock", lock: own, request: 7n }], UnrequestedPaymentError],
        ["1's cancel of 0's lock, not requested", [{ op: "cancel", lock: a, request: 7n }], UnrequestedPaymentError],
      ];
      for (const [what, updates, error] of rows) {
        await expectCountersignRefused(pair, forge(pair, updates), error).catch((e: Error) => {
          throw new Error(`${what}: ${e.message}`);
        });
      }
      clock.now = EXPIRY + 1n;
      await expectCountersignRefused(pair, forge(pair, [{ op: "expire", lock: b }]), LockActorError);
      // A request for 5 answered with a lock of 6.
      const request = await pair[1].requestLock(5n, hashOf("c"), EXPIRY + DURATION / 2n, refOf("c"));
      clock.now = T0;
      const asked = request.update as Extract<typeof request.update, { op: "lock" }>;
      const wrong: Lock = { channelId: pair[0].id, sender: 1, amount: 6n, hashlock: asked.hashlock, expiry: asked.expiry, ref: asked.ref };
      await expectCountersignRefused(pair, forge(pair, [{ op: "lock", lock: wrong, request: request.id }]), UnrequestedPaymentError);
    });
  });

  describe("states: recomputed fields, the final state, restore, proofs, resync", function () {
    it("participant 1 recomputes locked, locksRoot and paymentsRoot of a lock update", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 10n, "a", EXPIRY);
      const other: Lock = { ...lock, hashlock: hashOf("b"), ref: refOf("b") };
      await expectCountersignRefused(pair, forge(pair, [{ op: "lock", lock: other }], (s) => (s.locked = [11n, 0n])), LockedMismatchError);
      await expectCountersignRefused(pair, forge(pair, [{ op: "lock", lock: other }], (s) => (s.locksRoot = lockLeafHex(other))), LocksRootMismatchError);
      const unlock: StateUpdate = { op: "unlock", lock, secret: secretOf("a") };
      await expectCountersignRefused(pair, forge(pair, [unlock], (s) => (s.paymentsRoot = ZERO_HASH)), RootMismatchError);
      await expectCountersignRefused(pair, forge(pair, [unlock], (s) => (s.transferred = [0n, 0n])), TransferMismatchError);
    });

    it("no final state while locks are pending: proposeFinal and the final request are refused (typed), and participant 1 refuses one", async function () {
      const pair = makePair();
      const lock = await lock0(pair, 10n, "a", EXPIRY);
      const before = view(pair[0]);
      await expectRejected(pair[0].proposeFinal(), LocksPendingError);
      await expectRejected(pair[0].receiveFinalRequest(wire(await pair[1].requestFinal())), LocksPendingError);
      expect(view(pair[0])).to.deep.equal(before);
      const final = forge(pair, [], (s) => (s.isFinal = true));
      await expectCountersignRefused(pair, { kind: "final", state: final.state, sig: final.sig }, LocksPendingError);
      await by1(pair, pair[1].requestUnlock(lock, secretOf("a")));
      const committed = await deliver(pair, await pair[0].proposeFinal());
      expect(committed[0].signed.state.isFinal).to.equal(true);
    });

    it("a channel rebuilt from its snapshot keeps its pending locks; a snapshot whose locks don't match its state is refused", async function () {
      const clock = new Clock(T0);
      const pair = makePair(clock);
      const a = await lock0(pair, 10n, "a", EXPIRY);
      await lock1(pair, 20n, "b", EXPIRY);
      const snapshots = [pair[0].snapshot(), pair[1].snapshot()] as const;
      expect(snapshots[0].locks).to.have.length(2);
      const again = [new Sequencer({ ...configOf(0, clock), restore: snapshots[0] }), new Countersigner({ ...configOf(1, clock), restore: snapshots[1] })] as const;
      expect(again[0].locks).to.deep.equal(pair[0].locks);
      expect(again[1].locks).to.deep.equal(pair[1].locks);
      await by1(again, again[1].requestUnlock(a, secretOf("a")));
      expect(expectInStep(again).state.locked).to.deep.equal([0n, 20n]);
      // Fewer locks than the state sums up; the same sums under another root.
      expect(() => new Sequencer({ ...configOf(0, clock), restore: { ...snapshots[0], locks: [a] } })).to.throw(LockedMismatchError);
      const swapped = snapshots[0].locks.map((l) => (l.sender === 0 ? { ...l, ref: refOf("other") } : l));
      expect(() => new Sequencer({ ...configOf(0, clock), restore: { ...snapshots[0], locks: swapped } })).to.throw(LocksRootMismatchError);
    });

    it("the proof of a pending lock leads to the latest locksRoot (as merkletreejs builds it)", async function () {
      const pair = makePair();
      const locks = [await lock0(pair, 1n, 1, EXPIRY), await lock1(pair, 2n, 2, EXPIRY), await lock0(pair, 3n, 3, EXPIRY)];
      const root = expectInStep(pair).state.locksRoot;
      expect(root).to.equal(merkletreejsRoot(locks.map(lockLeafHex)));
      expect([pair[0].lockCount, pair[1].lockCount]).to.deep.equal([3, 3]);
      for (const lock of locks) {
        const proof = pair[1].lockProof(lock);
        expect(proof.root).to.equal(root);
        expect(LocksTree.verify(proof.proof, root, lockLeafHex(lock))).to.equal(true);
      }
      expect(() => pair[0].lockProof(hashOf("none"))).to.throw(UnknownLockError);
    });

    it("a resync adopts states with lock updates, checked by the structural rules", async function () {
      const pair = makePair();
      const behind = makePair();
      const [c1] = await by0(pair, lockEntry(10n, "a"));
      const a = c1.locks!.added[0];
      const [c2] = await by1(pair, pair[1].requestUnlock(a, secretOf("a")));
      const history = await behind[1].verifyHistory([
        { signed: c1.signed, payments: [], updates: c1.updates },
        { signed: c2.signed, payments: [], updates: c2.updates },
      ]);
      // A tampered history is refused: the lock's amount is not what the state signed.
      await expectRejected(behind[1].verifyHistory([{ signed: c1.signed, payments: [], updates: [{ op: "lock", lock: { ...a, amount: 11n } }] }]), SyncRejectedError);
      await behind[1].adopt(history);
      expect(behind[1].latest).to.deep.equal(pair[0].latest);
      expect(behind[1].payment(0)).to.deep.equal(pair[0].payment(0));
      expect(history.updates[1].locks!.removed[0].reason).to.equal("unlock");
    });
  });
});
