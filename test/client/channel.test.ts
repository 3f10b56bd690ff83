import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { EcdsaVerifier, KeySigner } from "../../src/crypto";
import {
  ChannelCore,
  Countersigner,
  Sequencer,
  MAX_PAYMENTS_PER_STATE,
  MAX_VERSION_GAP,
  LockedMismatchError,
  LocksRootMismatchError,
  UnknownWithdrawalError,
  WithdrawalExpiryError,
  WithdrawalParticipantError,
  WithdrawalPendingError,
  WithdrawalTotalError,
  decodeMessage,
  encodeMessage,
  payouts,
  type ChannelHooks,
  type ChannelMessage,
  type CommittedUpdate,
  type FinalProposal,
  type BatchProposal,
  type PaymentEntry,
  type PaymentProposal,
  type PendingProposal,
  type SignIntent,
  type StateAck,
  type WithdrawalProposal,
} from "../../src/channel";
import {
  ChannelFinalizedError,
  ConflictingStateError,
  FinalFlagError,
  InsufficientFundsError,
  InvalidAmountError,
  InvalidArgumentError,
  InvalidSignatureError,
  MalformedMessageError,
  ProposalPendingError,
  RootMismatchError,
  SequenceMismatchError,
  SluiceError,
  StaleRequestError,
  StaleVersionError,
  TransferMismatchError,
  UnexpectedAckError,
  UnrequestedPaymentError,
  VersionGapError,
  WrongChannelError,
  WrongPayerError,
} from "../../src/errors";
import { paramsValue, stateValue, withdrawalValue } from "../../src/typedData";
import type { Address, Hex, Params, Payment, SignedState, State, Withdrawal } from "../../src/types";
import { ZERO_HASH } from "../../src/types";
import { hexOf } from "./arbitraries";
import { ADJUDICATOR, CHAIN_ID, KEYS, keysParams } from "../helpers/offchain";
import { PaymentLog } from "../../src/merkle";
import { expectRejected, type Constructor } from "../channel/helpers";

const PARAMS: Params = keysParams(7n);
const NONE: [bigint, bigint] = [0n, 0n];

type Sides = readonly [Sequencer, Countersigner];
type Side = Sequencer | Countersigner;

/** A side of either role, by participant index. */
function makeSide(me: 0 | 1, config: Omit<ConstructorParameters<typeof Sequencer>[0], "me">): Side {
  return me === 0 ? new Sequencer(config) : new Countersigner(config);
}

/** Participant 1 countersigns a proposal: the acknowledgement it sends. */
const ackOf = async (side: Countersigner, proposal: unknown): Promise<StateAck> => (await side.countersign(proposal)).send;

/** Participant 0 commits an acknowledgement: the state both signed. */
const commit = async (side: Sequencer, ack: unknown): Promise<SignedState> => (await side.receiveAck(ack)).signed;

function makePair(
  deposits: readonly [bigint, bigint] = [1000n, 1000n],
  kinds: readonly ["native" | "js", "native" | "js"] = ["native", "native"],
  hooks: readonly [ChannelHooks | undefined, ChannelHooks | undefined] = [undefined, undefined],
) {
  const config = (me: 0 | 1) => ({
    params: PARAMS,
    signer: kinds[me] === "native" ? KEYS[me] : new KeySigner(hexOf(Buffer.alloc(32, me === 0 ? 0xa1 : 0xb2)), "js"),
    verifier: new EcdsaVerifier(kinds[me]),
    chainId: CHAIN_ID,
    adjudicator: ADJUDICATOR,
    deposits,
    hooks: hooks[me],
  });
  return [new Sequencer(config(0)), new Countersigner(config(1))] as [Sequencer, Countersigner];
}

/** Sends a message as the node will: JSON text over the wire. */
const wire = <T extends ChannelMessage>(m: T): unknown => JSON.parse(JSON.stringify(encodeMessage(m)));

/** One payment, one at a time: participant 0 pays directly, participant 1 through a request. */
async function pay(sides: Sides, payer: 0 | 1, amount: bigint, ref: Hex = ZERO_HASH) {
  const proposal = payer === 0 ? await sides[0].pay(amount, ref) : await sides[0].receiveRequest(wire(await sides[1].requestPayment(amount, ref)));
  const ack = await ackOf(sides[1], wire(proposal));
  return commit(sides[0], wire(ack));
}

/** Closes: participant 0 proposes the final state, on its own or at participant 1's request. */
async function close(sides: Sides, asker: 0 | 1) {
  const proposal = asker === 0 ? await sides[0].proposeFinal() : await sides[0].receiveFinalRequest(wire(await sides[1].requestFinal()));
  return commit(sides[0], wire(await ackOf(sides[1], wire(proposal))));
}

/** Everything observable about a channel, to show a rejection changed nothing. */
const view = (c: Side) => ({
  snapshot: c.snapshot(),
  pending: c instanceof Sequencer ? c.pending : [],
  requests: c instanceof Countersigner ? c.requests : [],
  tip: c.tip,
  spendable: [c.spendable(0), c.spendable(1)],
  root: c.paymentCount && c.proof(0).root,
});

const flipNibble = (hex: Hex, at = hex.length - 3): Hex => `${hex.slice(0, at)}${hex[at] === "0" ? "1" : "0"}${hex.slice(at + 1)}` as Hex;
const clone = <T>(m: T): T => decodeMessage(structuredClone(encodeMessage(m as ChannelMessage))) as T;
const refOf = (n: number): Hex => hexOf(Buffer.from(n.toString(16).padStart(64, "0"), "hex"));
const sum = (payments: readonly Payment[], payer: 0 | 1) => payments.filter((p) => p.payer === payer).reduce((a, p) => a + p.amount, 0n);

/** Participant 1's refusal of a proposal, sent back to participant 0 in order with the acks. */
interface Rejection {
  kind: "rejection";
  version: bigint;
  error: unknown;
}

/**
 * Two sides and the two ordered one-way queues between them, driven as a pipelining node would:
 * participant 0 keeps proposing without waiting for acks; a refusal comes back in order with the
 * acks and makes participant 0 abandon the refused proposal and every later one, then serve the
 * abandoned requests again (except the refused one if it was refused as unrequested).
 */
class Link {
  readonly toP1: ChannelMessage[] = [];
  readonly toP0: (ChannelMessage | Rejection)[] = [];
  readonly committed1: CommittedUpdate[] = [];
  readonly paid = new Set<Hex>();
  readonly abandoned = new Set<Hex>();
  readonly issued = new Set<bigint>();
  readonly cancelled = new Set<bigint>();
  rejections = 0;
  /** Most proposals participant 0 had pending at once. */
  depth = 0;
  readonly sides: [Sequencer, Countersigner];

  constructor(deposits: readonly [bigint, bigint], believed0: readonly [bigint, bigint] = deposits) {
    this.sides = makePair(deposits, ["native", "native"]);
    this.sides[0].setDeposits(believed0);
  }

  /** Participant 0 pays; an unaffordable payment is refused at once and changes nothing. */
  async pay(amount: bigint, ref: Hex): Promise<void> {
    const side = this.sides[0];
    if (amount > side.spendable(0)) {
      const before = view(side);
      await expectRejected(side.pay(amount, ref), InsufficientFundsError);
      expect(view(side)).to.deep.equal(before);
      return;
    }
    this.toP1.push(await side.pay(amount, ref));
    this.paid.add(ref);
    this.depth = Math.max(this.depth, side.pending.length);
  }

  /** Participant 1 asks to pay; checked against its latest state less its outstanding requests. */
  async request(amount: bigint, ref: Hex): Promise<void> {
    const side = this.sides[1];
    if (amount > side.spendable(1)) {
      const before = view(side);
      await expectRejected(side.requestPayment(amount, ref), InsufficientFundsError);
      expect(view(side)).to.deep.equal(before);
      return;
    }
    const request = await side.requestPayment(amount, ref);
    this.issued.add(request.id);
    this.toP0.push(request);
  }

  async cancel(pick: number): Promise<void> {
    const requests = this.sides[1].requests;
    if (requests.length === 0) return;
    const id = requests[pick % requests.length].id;
    expect(await this.sides[1].cancelRequest(id)).to.have.property("id", id);
    this.cancelled.add(id);
  }

  /** Delivers the oldest message to participant 1. */
  async toParticipant1(): Promise<void> {
    const message = this.toP1.shift();
    if (!message) return;
    const side = this.sides[1];
    const before = view(side);
    try {
      const { committed, send } = await side.countersign(wire(message));
      this.committed1.push(committed);
      this.toP0.push(send);
    } catch (error) {
      expect(error).to.be.instanceOf(SluiceError);
      expect(view(side)).to.deep.equal(before);
      this.rejections++;
      this.toP0.push({ kind: "rejection", version: (message as PaymentProposal).state.version, error });
    }
  }

  /** Delivers the oldest message to participant 0. */
  async toParticipant0(): Promise<void> {
    const message = this.toP0.shift();
    if (!message) return;
    const side = this.sides[0];
    if (message.kind === "rejection") {
      const dropped = await side.abandonPending(message.version);
      expect(side.tip.version <= side.signedVersion).to.equal(true);
      expect(side.snapshot().payments.length).to.equal(side.paymentCount);
      for (const [i, p] of dropped.entries()) {
        expect(p.state.version > message.version || (i === 0 && p.state.version === message.version)).to.equal(true);
        const { payment, request } = p.payments[0];
        if (request === undefined) {
          this.abandoned.add(payment.ref);
        } else if (!(i === 0 && message.error instanceof UnrequestedPaymentError)) {
          // Serve the dropped request again: it is still outstanding at participant 1.
          await this.serve({ kind: "request", id: request, amount: payment.amount, ref: payment.ref });
        }
      }
      return;
    }
    if (message.kind === "request") {
      await this.serve(message);
      return;
    }
    expect(message.kind).to.equal("ack");
    await commit(side, wire(message));
  }

  private async serve(request: ChannelMessage & { kind: "request" }): Promise<void> {
    const side = this.sides[0];
    const before = view(side);
    try {
      this.toP1.push(await side.receiveRequest(wire(request)));
      this.depth = Math.max(this.depth, side.pending.length);
    } catch (error) {
      // Refused (participant 1 can't afford it on top of the tip): the reply makes participant 1 drop it.
      expect(error).to.be.instanceOf(InsufficientFundsError);
      expect(view(side)).to.deep.equal(before);
      if (await this.sides[1].cancelRequest(request.id)) this.cancelled.add(request.id);
    }
  }

  async drain(): Promise<void> {
    while (this.toP1.length > 0 || this.toP0.length > 0) {
      await this.toParticipant1();
      await this.toParticipant0();
    }
  }

  /** Both sides agree and the money adds up. */
  checkConverged(deposits: readonly [bigint, bigint]): void {
    const [a, b] = this.sides;
    expect(a.pending).to.deep.equal([]);
    expect(b.requests).to.deep.equal([]);
    expect(b.latest).to.deep.equal(a.latest);
    expect(b.snapshot().payments).to.deep.equal(a.snapshot().payments);
    if (a.paymentCount > 0) expect(a.proof(a.paymentCount - 1)).to.deep.equal(b.proof(b.paymentCount - 1));
    const log = a.snapshot().payments;
    const sent = [sum(log, 0), sum(log, 1)];
    expect(a.latest.state.transferred).to.deep.equal(sent);
    expect(payouts({ deposits, withdrawn: NONE }, a.latest.state.transferred)).to.deep.equal([deposits[0] + sent[1] - sent[0], deposits[1] + sent[0] - sent[1]]);
    // Participant 0's payments: each either committed once or abandoned, none lost.
    const refs0 = log.filter((p) => p.payer === 0).map((p) => p.ref);
    expect(new Set(refs0).size).to.equal(refs0.length);
    for (const ref of refs0) expect(this.abandoned.has(ref)).to.equal(false);
    expect(refs0.length + this.abandoned.size).to.equal(this.paid.size);
    // Participant 1's requests: each committed once (matching it) or cancelled, never both.
    const ids = this.committed1.flatMap((u) => u.payments).filter((x) => x.payment.payer === 1).map((x) => x.request!);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ids) expect(this.cancelled.has(id)).to.equal(false);
    expect(ids.length + this.cancelled.size).to.equal(this.issued.size);
  }
}

const actionArb = (withConfirm: boolean) =>
  fc.oneof(
    { arbitrary: fc.record({ t: fc.constant("pay" as const), amount: fc.bigInt({ min: 1n, max: 150n }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant("request" as const), amount: fc.bigInt({ min: 1n, max: 150n }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant("to1" as const), n: fc.integer({ min: 1, max: 6 }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant("to0" as const), n: fc.integer({ min: 1, max: 6 }) }), weight: 3 },
    { arbitrary: fc.record({ t: fc.constant("cancel" as const), pick: fc.nat() }), weight: 1 },
    { arbitrary: fc.record({ t: fc.constant(withConfirm ? ("confirm" as const) : ("to1" as const)), n: fc.constant(1) }), weight: 1 },
  );

async function run(link: Link, actions: readonly ({ t: string } & Record<string, unknown>)[], truth: readonly [bigint, bigint]) {
  let ref = 1;
  for (const a of actions) {
    switch (a.t) {
      case "pay":
        await link.pay(a.amount as bigint, refOf(ref++));
        break;
      case "request":
        await link.request(a.amount as bigint, refOf(ref++));
        break;
      case "to1":
        for (let i = 0; i < (a.n as number); i++) await link.toParticipant1();
        break;
      case "to0":
        for (let i = 0; i < (a.n as number); i++) await link.toParticipant0();
        break;
      case "cancel":
        await link.cancel(a.pick as number);
        break;
      case "confirm":
        link.sides[1].setDeposits(truth);
        break;
    }
  }
}

describe("client Channel", function () {
  describe("payments", function () {
    it("a payment is done when both hold the same fully signed state", async function () {
      const sides = makePair();
      const signed = await pay(sides, 0, 30n, hexOf(Buffer.alloc(32, 9)));
      expect(signed.state.version).to.equal(1n);
      expect(signed.state.transferred).to.deep.equal([30n, 0n]);
      expect(sides[1].latest).to.deep.equal(sides[0].latest);
      expect(sides[0].payouts).to.deep.equal([970n, 1030n]);
      expect(sides[0].pending).to.deep.equal([]);
      expect(sides[1].payment(0).amount).to.equal(30n);
      for (const i of [0, 1] as const) {
        const sig = signed.sigs[i];
        expect(new EcdsaVerifier().verify(PARAMS.participants[i], sides[0].hasher.digest(signed.state), sig)).to.equal(true);
      }
    });

    it("participant 1 pays through a request that participant 0 turns into a proposal", async function () {
      const sides = makePair();
      const ref = hexOf(Buffer.alloc(32, 4));
      const request = await sides[1].requestPayment(25n, ref);
      expect(request).to.deep.equal({ kind: "request", id: 1n, amount: 25n, ref });
      expect(sides[1].requests).to.deep.equal([request]);
      expect(sides[1].spendable()).to.equal(975n);
      const proposal = await sides[0].receiveRequest(request);
      expect(proposal.request).to.equal(1n);
      expect(proposal.payment).to.include({ payer: 1, amount: 25n, ref });
      await commit(sides[0], await ackOf(sides[1], proposal));
      expect(sides[1].requests).to.deep.equal([]);
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[0].payouts).to.deep.equal([1025n, 975n]);
      expect((await sides[1].requestPayment(1n)).id).to.equal(2n);
    });

    it("random pipelined payments both ways end with the same state and log on both sides, and payouts = deposits + received - sent", async function () {
      let deepest = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(fc.bigInt({ min: 0n, max: 800n }), fc.bigInt({ min: 0n, max: 800n })),
          fc.array(actionArb(false), { minLength: 10, maxLength: 60 }),
          fc.constantFrom(0 as const, 1 as const),
          async (deposits, actions, closer) => {
            const link = new Link(deposits);
            await run(link, actions, deposits);
            await link.drain();
            deepest = Math.max(deepest, link.depth);
            // With the same deposits on both sides, only a cancelled request is ever refused.
            if (link.cancelled.size === 0) expect(link.rejections).to.equal(0);
            link.checkConverged(deposits);
            const sides = link.sides;
            const final = await close(sides, closer);
            expect(final.state.isFinal).to.equal(true);
            expect(sides[1].latest).to.deep.equal(sides[0].latest);
            expect(payouts({ deposits, withdrawn: NONE }, final.state.transferred)).to.deep.equal(sides[1].payouts);
            await expectRejected(sides[0].pay(1n), ChannelFinalizedError);
            await expectRejected(sides[1].requestPayment(1n), ChannelFinalizedError);
            await expectRejected(sides[0].proposeFinal(), ChannelFinalizedError);
          },
        ),
        { numRuns: 40 },
      );
      expect(deepest, "the runs pipeline").to.be.greaterThan(4);
    });

    it("refusals mid-pipeline (overspends of an unconfirmed deposit, cancelled requests) are abandoned, and the sides still converge", async function () {
      let runs = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: 300n })),
          fc.bigInt({ min: 1n, max: 300n }),
          fc.array(actionArb(true), { minLength: 10, maxLength: 60 }),
          async (deposits, topUp, actions) => {
            runs++;
            // Participant 0 sees its top-up confirmed before participant 1 does.
            const truth = [deposits[0] + topUp, deposits[1]] as const;
            const link = new Link(deposits, truth);
            await run(link, actions, truth);
            link.sides[1].setDeposits(truth);
            await link.drain();
            if (link.rejections > 0) refused++;
            link.checkConverged(truth);
            // The channel carries on: more payments both ways, then the close.
            await link.pay(1n, refOf(9001));
            await link.request(1n, refOf(9002));
            await link.drain();
            link.checkConverged(truth);
            await close(link.sides, 1);
            expect(link.sides[0].latest).to.deep.equal(link.sides[1].latest);
          },
        ),
        { numRuns: 40 },
      );
      expect(refused, `runs with a refusal, of ${runs}`).to.be.greaterThan(runs / 4);
    });

    it("an overspend refused mid-pipeline voids the later proposals; abandonPending rolls back to the committed state", async function () {
      const sides = makePair([100n, 100n]);
      sides[0].setDeposits([150n, 100n]);
      await pay(sides, 0, 10n);
      const committed = view(sides[0]);
      const p1 = await sides[0].pay(20n);
      const p2 = await sides[0].pay(90n); // 120 in all: beyond the 100 participant 1 confirmed
      const p3 = await sides[0].receiveRequest(await sides[1].requestPayment(5n));
      const p4 = await sides[0].pay(1n);
      expect([p1, p2, p3, p4].map((p) => p.state.version)).to.deep.equal([2n, 3n, 4n, 5n]);
      expect(sides[0].tip.transferred).to.deep.equal([121n, 5n]);
      expect(sides[0].paymentCount).to.equal(1);
      const a1 = await ackOf(sides[1], wire(p1));
      await expectRejected(ackOf(sides[1], wire(p2)), InsufficientFundsError);
      await expectRejected(ackOf(sides[1], wire(p3)), SequenceMismatchError);
      await expectRejected(ackOf(sides[1], wire(p4)), SequenceMismatchError);
      await commit(sides[0], wire(a1));
      const dropped = await sides[0].abandonPending(p2.state.version);
      expect(dropped.map((p) => p.state.version)).to.deep.equal([3n, 4n, 5n]);
      expect(dropped[1].payments[0].request).to.equal(1n);
      expect(await sides[0].abandonPending(p3.state.version)).to.deep.equal([]); // the later refusals find nothing
      expect(sides[0].pending).to.deep.equal([]);
      expect(sides[0].tip).to.deep.equal(sides[1].latest.state);
      expect(sides[0].snapshot().payments).to.deep.equal(sides[1].snapshot().payments);
      expect(sides[0].snapshot().signedVersion).to.equal(5n);
      expect(committed.snapshot.signedVersion).to.equal(1n);
      // The next proposal skips the burned versions; the dropped request may be served again.
      const again = await sides[0].receiveRequest(wire({ kind: "request", id: 1n, amount: 5n, ref: ZERO_HASH }));
      expect(again.state.version).to.equal(6n);
      await commit(sides[0], await ackOf(sides[1], again));
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[0].latest.state.transferred).to.deep.equal([30n, 5n]);
    });

    it("abandonPending() without a version drops every pending proposal", async function () {
      const sides = makePair();
      await pay(sides, 1, 3n);
      const before = view(sides[0]);
      await sides[0].pay(1n);
      await sides[0].pay(2n);
      expect((await sides[0].abandonPending()).map((p: PendingProposal) => p.payments[0].payment.amount)).to.deep.equal([1n, 2n]);
      expect({ ...view(sides[0]), snapshot: { ...view(sides[0]).snapshot, signedVersion: 0n } }).to.deep.equal({
        ...before,
        snapshot: { ...before.snapshot, signedVersion: 0n },
      });
      expect(await sides[0].abandonPending()).to.deep.equal([]);
      await pay(sides, 0, 4n);
      expect(sides[0].latest.state.version).to.equal(4n);
    });

    it("the JS crypto path interoperates with the native one", async function () {
      for (const kinds of [
        ["js", "native"],
        ["native", "js"],
      ] as const) {
        const sides = makePair([100n, 100n], kinds);
        await pay(sides, 0, 5n);
        await pay(sides, 1, 7n);
        await close(sides, 1);
        expect(sides[0].latest).to.deep.equal(sides[1].latest);
        expect(sides[0].payouts).to.deep.equal([102n, 98n]);
      }
    });

    it("a payer can't pay beyond its deposit plus what it received, pending proposals counted", async function () {
      const sides = makePair([10n, 0n]);
      await expectRejected(sides[1].requestPayment(1n), InsufficientFundsError);
      await sides[0].pay(6n);
      await expectRejected(sides[0].pay(5n), InsufficientFundsError); // 6 pending + 5 > 10
      // Participant 0 counts its pending payment to participant 1 when serving participant 1's request.
      const served = await sides[0].receiveRequest({ kind: "request", id: 1n, amount: 6n, ref: ZERO_HASH });
      await expectRejected(sides[0].receiveRequest({ kind: "request", id: 2n, amount: 1n, ref: ZERO_HASH }), InsufficientFundsError);
      expect(sides[0].spendable(0)).to.equal(10n);
      expect(sides[0].spendable(1)).to.equal(0n);
      expect(served.state.transferred).to.deep.equal([6n, 6n]);
    });

    it("participant 1 checks affordability against its own confirmed deposits", async function () {
      const sides = makePair([0n, 0n]);
      sides[0].setDeposits([50n, 0n]); // participant 0 believes in a deposit participant 1 has not confirmed
      const proposal = await sides[0].pay(20n);
      const before = view(sides[1]);
      await expectRejected(ackOf(sides[1], proposal), InsufficientFundsError);
      expect(view(sides[1])).to.deep.equal(before);
      sides[1].setDeposits([50n, 0n]);
      await commit(sides[0], await ackOf(sides[1], proposal));
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
    });

    it("rejects amounts of zero or beyond uint256, and a bad ref", async function () {
      const sides = makePair();
      for (const amount of [0n, -1n, 1n << 256n]) {
        await expectRejected(sides[0].pay(amount), InvalidAmountError);
        await expectRejected(sides[1].requestPayment(amount), InvalidAmountError);
      }
      await expectRejected(sides[0].receiveRequest({ kind: "request", id: 1n, amount: 0n, ref: ZERO_HASH }), InvalidAmountError);
      await expectRejected(sides[0].receiveRequest({ kind: "request", id: 1n, amount: 1n << 256n, ref: ZERO_HASH }), MalformedMessageError);
      expect(sides[0].pending).to.deep.equal([]);
      await expectRejected(sides[1].requestPayment(1n, "0x12"), InvalidArgumentError);
      expect(sides[1].requests).to.deep.equal([]);
    });

    it("participant 0 serves request ids in increasing order only, and again after abandoning them", async function () {
      const sides = makePair();
      const r1 = await sides[1].requestPayment(1n);
      const r2 = await sides[1].requestPayment(2n);
      await sides[0].receiveRequest(r2);
      const before = view(sides[0]);
      await expectRejected(sides[0].receiveRequest(r2), StaleRequestError);
      await expectRejected(sides[0].receiveRequest(r1), StaleRequestError);
      expect(view(sides[0])).to.deep.equal(before);
      await sides[0].abandonPending();
      await sides[0].receiveRequest(r1);
      await sides[0].receiveRequest(r2);
      expect(sides[0].pending.map((p) => p.payments[0].request)).to.deep.equal([1n, 2n]);
    });

    it("processes queued messages in call order", async function () {
      const sides = makePair();
      const p = await sides[0].pay(1n);
      const acks = await Promise.all([ackOf(sides[1], p), ackOf(sides[1], p)].map((x) => x.catch((e: unknown) => e)));
      expect(acks[0]).to.have.property("kind", "ack");
      expect(acks[1]).to.be.instanceOf(StaleVersionError);
      // Participant 0 pipelines without awaiting: the proposals still chain in call order.
      const ps = await Promise.all([sides[0].pay(1n), sides[0].pay(2n), sides[0].pay(3n)]);
      expect(ps.map((x) => x.state.version)).to.deep.equal([2n, 3n, 4n]);
      expect(ps.map((x) => x.payment.seq)).to.deep.equal([1n, 2n, 3n]);
    });

    it("each role has only its own operations (the role is the type), and a side is made for its own participant only", async function () {
      const sides = makePair();
      const sequencerOnly = ["pay", "proposePayments", "proposeFinal", "receiveRequest", "receiveFinalRequest", "receiveAck", "abandonPending"];
      const countersignerOnly = ["requestPayment", "requestFinal", "cancelRequest", "countersign"];
      for (const name of sequencerOnly) {
        expect(sides[0], name).to.respondTo(name);
        expect(sides[1], name).not.to.respondTo(name);
      }
      for (const name of countersignerOnly) {
        expect(sides[1], name).to.respondTo(name);
        expect(sides[0], name).not.to.respondTo(name);
      }
      const common = { params: PARAMS, chainId: CHAIN_ID, adjudicator: ADJUDICATOR };
      expect(() => new Sequencer({ ...common, me: 1, signer: KEYS[0] })).to.throw(InvalidArgumentError, /participant index 1/);
      expect(() => new Countersigner({ ...common, signer: KEYS[0] })).to.throw(InvalidArgumentError, /is not participant 1/);
    });
  });

  describe("requests", function () {
    it("participant 1 refuses a payment by itself that it did not request, or requested otherwise, and changes nothing", async function () {
      const sides = makePair();
      const ref = hexOf(Buffer.alloc(32, 5));
      await sides[1].requestPayment(10n, ref);
      const cases: [string, { id: bigint; amount: bigint; ref: Hex }][] = [
        ["unknown id", { id: 7n, amount: 10n, ref }],
        ["other amount", { id: 1n, amount: 11n, ref }],
        ["other ref", { id: 1n, amount: 10n, ref: ZERO_HASH }],
      ];
      for (const [name, forged] of cases) {
        const other = makePair();
        const proposal = await other[0].receiveRequest({ kind: "request", ...forged });
        const before = view(sides[1]);
        await expectRejected(ackOf(sides[1], wire(proposal)), UnrequestedPaymentError);
        expect(view(sides[1]), name).to.deep.equal(before);
      }
      // A payment by participant 1 with no request at all.
      const bare = await sides[0].receiveRequest({ kind: "request", id: 1n, amount: 10n, ref });
      delete bare.request;
      await expectRejected(ackOf(sides[1], wire(bare)), UnrequestedPaymentError);
    });

    it("a cancelled request is refused, and a consumed one can't be paid twice", async function () {
      const sides = makePair();
      const r1 = await sides[1].requestPayment(10n);
      const r2 = await sides[1].requestPayment(20n);
      const p1 = await sides[0].receiveRequest(r1);
      const p2 = await sides[0].receiveRequest(r2);
      expect(await sides[1].cancelRequest(r1.id)).to.deep.equal(r1);
      expect(await sides[1].cancelRequest(r1.id)).to.equal(undefined);
      expect(sides[1].spendable()).to.equal(980n);
      await expectRejected(ackOf(sides[1], p1), UnrequestedPaymentError);
      await sides[0].abandonPending(p1.state.version);
      const again = await sides[0].receiveRequest(r2);
      await commit(sides[0], await ackOf(sides[1], again));
      expect(p2.state.version < again.state.version).to.equal(true);
      // A replay of the same request's payment, built on the new tip, is refused as unrequested.
      const replay = await sides[0].receiveRequest({ ...r2, id: 5n });
      replay.request = r2.id;
      await expectRejected(ackOf(sides[1], replay), UnrequestedPaymentError);
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[1].payouts).to.deep.equal([1020n, 980n]);
    });
  });

  describe("batches: several payments in one state", function () {
    const payEntry = (amount: bigint, ref: Hex = ZERO_HASH): PaymentEntry => ({ kind: "pay", amount, ref });

    /** Participant 0 signs a state adding `payments` on top of its latest, as a dishonest sequencer could. */
    function forgeBatch(side: ChannelCore, payments: Payment[], requests: (bigint | undefined)[] = []): BatchProposal {
      const latest = side.latest.state;
      const transferred: [bigint, bigint] = [latest.transferred[0], latest.transferred[1]];
      const log = new PaymentLog(side.snapshot().payments);
      for (const p of payments) {
        transferred[p.payer] += p.amount;
        log.append(p);
      }
      const state: State = { ...latest, version: side.signedVersion + 1n, transferred, paymentsRoot: log.root, isFinal: false };
      const items = payments.map((payment, i) => (requests[i] === undefined ? { payment } : { payment, request: requests[i] }));
      return { kind: "payments", payments: items, state, sig: KEYS[0].sign(side.hasher.digest(state)) };
    }

    it("one state carries payments both ways, with the same root and transfers as paying them one at a time", async function () {
      const sides = makePair();
      const r1 = await sides[1].requestPayment(7n, refOf(1));
      const r2 = await sides[1].requestPayment(9n, refOf(2));
      const { proposal, rejected } = await sides[0].proposePayments([payEntry(10n, refOf(3)), wire(r1) as PaymentEntry, payEntry(20n, refOf(4)), r2]);
      expect(rejected).to.deep.equal([]);
      expect(proposal!.payments.map((p) => [p.payment.seq, p.payment.payer, p.request])).to.deep.equal([
        [0n, 0, undefined],
        [1n, 1, 1n],
        [2n, 0, undefined],
        [3n, 1, 2n],
      ]);
      expect(proposal!.state.version).to.equal(1n);
      const ack = await ackOf(sides[1], wire(proposal!));
      const signed = await commit(sides[0], wire(ack));
      expect(sides[1].latest).to.deep.equal(signed);
      expect(signed.state.transferred).to.deep.equal([30n, 16n]);
      expect(sides[1].requests).to.deep.equal([]);
      expect(sides[0].paymentCount).to.equal(4);
      expect(sides[1].snapshot().payments).to.deep.equal(sides[0].snapshot().payments);

      const single = makePair();
      await pay(single, 0, 10n, refOf(3));
      await pay(single, 1, 7n, refOf(1));
      await pay(single, 0, 20n, refOf(4));
      await pay(single, 1, 9n, refOf(2));
      expect(single[0].latest.state.paymentsRoot).to.equal(signed.state.paymentsRoot);
      expect(single[0].latest.state.transferred).to.deep.equal(signed.state.transferred);
      for (let seq = 0; seq < 4; seq++) expect(sides[0].proof(seq)).to.deep.equal(single[0].proof(seq));
      // One signature each for the four payments.
      for (const i of [0, 1] as const) {
        expect(new EcdsaVerifier().verify(PARAMS.participants[i], sides[0].hasher.digest(signed.state), signed.sigs[i])).to.equal(true);
      }
    });

    it("entries that fail are left out with their typed error, each checked on top of those before it; the rest go in one state", async function () {
      const sides = makePair([100n, 50n]);
      const r1 = await sides[1].requestPayment(50n, refOf(1));
      const { proposal, rejected } = await sides[0].proposePayments([
        payEntry(60n),
        payEntry(50n), // 40 left
        payEntry(0n),
        r1, // participant 1 pays 50: participant 0 can now pay 90 in all
        { ...r1, id: 1n }, // served above already
        payEntry(90n),
        payEntry(1n, "0x1234"),
        { kind: "refund" } as unknown as PaymentEntry,
      ]);
      expect(rejected.map((r) => [r.index, r.error.constructor])).to.deep.equal([
        [1, InsufficientFundsError],
        [2, InvalidAmountError],
        [4, StaleRequestError],
        [6, InvalidArgumentError],
        [7, InvalidArgumentError],
      ]);
      expect(proposal!.payments.map((p) => p.payment.amount)).to.deep.equal([60n, 50n, 90n]);
      expect(proposal!.payments.map((p) => p.payment.seq)).to.deep.equal([0n, 1n, 2n]);
      await commit(sides[0], await ackOf(sides[1], proposal!));
      expect(sides[0].payouts).to.deep.equal([0n, 150n]);
      // Nothing passes: no proposal, nothing signed, nothing changed.
      const before = view(sides[0]);
      const none = await sides[0].proposePayments([payEntry(1n)]);
      expect(none.proposal).to.equal(undefined);
      expect(none.rejected[0].error).to.be.instanceOf(InsufficientFundsError);
      expect(view(sides[0])).to.deep.equal(before);
    });

    it("refuses an empty or oversized batch, and a proposal of more than MAX_PAYMENTS_PER_STATE payments", async function () {
      const sides = makePair([10_000n, 0n]);
      await expectRejected(sides[0].proposePayments([]), InvalidArgumentError);
      const many = Array.from({ length: MAX_PAYMENTS_PER_STATE + 1 }, () => payEntry(1n));
      await expectRejected(sides[0].proposePayments(many), InvalidArgumentError);
      const { proposal } = await sides[0].proposePayments(many.slice(1));
      expect(proposal!.payments).to.have.length(MAX_PAYMENTS_PER_STATE);
      const json = wire(proposal!) as { payments: unknown[] };
      expect(Buffer.byteLength(JSON.stringify(json))).to.be.below(64 * 1024);
      const tooMany = { ...json, payments: [...json.payments, json.payments[0]] };
      await expectRejected(ackOf(sides[1], tooMany), MalformedMessageError);
      await expectRejected(ackOf(sides[1], { ...json, payments: [] }), MalformedMessageError);
      await commit(sides[0], await ackOf(sides[1], json));
      expect(sides[1].paymentCount).to.equal(MAX_PAYMENTS_PER_STATE);
    });

    it("any tampered payment refuses the whole state with its error and changes nothing; the real proposal then goes through", async function () {
      const sides = makePair();
      const r1 = await sides[1].requestPayment(5n, refOf(1));
      const r2 = await sides[1].requestPayment(6n, refOf(2));
      const { proposal } = await sides[0].proposePayments([payEntry(3n, refOf(3)), r1, payEntry(4n, refOf(4)), r2]);
      const tampers: [string, (p: BatchProposal) => void, Constructor][] = [
        ["amount of a payment by participant 0", (p) => (p.payments[2].payment.amount += 1n), TransferMismatchError],
        ["amount of a requested payment", (p) => (p.payments[1].payment.amount += 1n), UnrequestedPaymentError],
        ["a payment's seq", (p) => (p.payments[2].payment.seq += 1n), SequenceMismatchError],
        ["two payments swapped", (p) => ([p.payments[0], p.payments[2]] = [p.payments[2], p.payments[0]]), SequenceMismatchError],
        ["a payment dropped", (p) => void p.payments.pop(), TransferMismatchError],
        ["a request answered twice", (p) => (p.payments[3].request = 1n), UnrequestedPaymentError],
        ["a request id on a payment by participant 0", (p) => (p.payments[0].request = 2n), WrongPayerError],
        ["a request id dropped", (p) => delete p.payments[3].request, UnrequestedPaymentError],
        ["a ref of a payment by participant 0", (p) => (p.payments[2].payment.ref = flipNibble(p.payments[2].payment.ref)), RootMismatchError],
        ["a payment for another channel", (p) => (p.payments[1].payment.channelId = flipNibble(p.payments[1].payment.channelId)), WrongChannelError],
        ["a zero amount", (p) => (p.payments[0].payment.amount = 0n), InvalidAmountError],
        ["the root", (p) => (p.state.paymentsRoot = flipNibble(p.state.paymentsRoot)), RootMismatchError],
        ["the signature", (p) => (p.sig = flipNibble(p.sig, 40)), InvalidSignatureError],
      ];
      const before = view(sides[1]);
      for (const [what, tamper, error] of tampers) {
        const copy = clone(proposal!);
        tamper(copy);
        const caught = await expectRejected(ackOf(sides[1], wire(copy)), error);
        expect(view(sides[1]), `${what}: ${String(caught)}`).to.deep.equal(before);
      }
      await commit(sides[0], await ackOf(sides[1], wire(proposal!)));
      expect(sides[1].latest).to.deep.equal(sides[0].latest);
      expect(sides[1].payouts).to.deep.equal([1000n - 7n + 11n, 1000n + 7n - 11n]);
    });

    it("participant 1 checks each payment's affordability in order, counting what the earlier ones paid", async function () {
      const sides = makePair([0n, 10n]);
      const r1 = await sides[1].requestPayment(10n, refOf(1));
      const pay10 = (seq: bigint, payer: 0 | 1, ref: Hex): Payment => ({ channelId: sides[0].id, seq, payer, amount: 10n, ref });
      // Participant 0 pays 10 it has only once participant 1's 10 came in first.
      const wrongOrder = forgeBatch(sides[1], [pay10(0n, 0, refOf(9)), pay10(1n, 1, refOf(1))], [undefined, 1n]);
      const before = view(sides[1]);
      await expectRejected(ackOf(sides[1], wire(wrongOrder)), InsufficientFundsError);
      expect(view(sides[1])).to.deep.equal(before);
      const rightOrder = forgeBatch(sides[1], [pay10(0n, 1, refOf(1)), pay10(1n, 0, refOf(9))], [1n, undefined]);
      rightOrder.state.version += 1n; // the refused version stays burned for participant 1
      rightOrder.sig = KEYS[0].sign(sides[1].hasher.digest(rightOrder.state));
      const ack = await ackOf(sides[1], wire(rightOrder));
      expect(ack.version).to.equal(2n);
      expect(sides[1].payouts).to.deep.equal([0n, 10n]);
      expect(r1.id).to.equal(1n);
    });

    it("pipelined batches: a refusal voids its batch and the later ones, the log rolls back and the requests can be served again", async function () {
      const sides = makePair([100n, 100n]);
      const r1 = await sides[1].requestPayment(5n, refOf(1));
      const b1 = (await sides[0].proposePayments([payEntry(1n), payEntry(2n)])).proposal!;
      const b2 = (await sides[0].proposePayments([r1, payEntry(3n)])).proposal!;
      const b3 = (await sides[0].proposePayments([payEntry(4n)])).proposal!;
      expect([b1, b2, b3].map((b) => b.state.version)).to.deep.equal([1n, 2n, 3n]);
      expect(b3.payments[0].payment.seq).to.equal(4n);
      await commit(sides[0], await ackOf(sides[1], b1));
      await sides[1].cancelRequest(r1.id);
      await expectRejected(ackOf(sides[1], b2), UnrequestedPaymentError);
      const dropped = await sides[0].abandonPending(b2.state.version);
      expect(dropped.map((d) => d.payments.map((x) => x.payment.amount))).to.deep.equal([[5n, 3n], [4n]]);
      expect(sides[0].tip).to.deep.equal(sides[0].latest.state);
      expect(sides[0].paymentCount).to.equal(2);
      // The request id is free again for participant 0; the next batch skips the burned versions.
      const again = (await sides[0].proposePayments([{ ...r1 }, payEntry(3n)])).proposal!;
      expect(again.state.version).to.equal(4n);
      expect(again.payments.map((x) => x.payment.seq)).to.deep.equal([2n, 3n]);
    });

    it("malformed batch input is rejected with the offending path", async function () {
      const sides = makePair();
      const { proposal } = await sides[0].proposePayments([payEntry(1n), payEntry(2n)]);
      const json = wire(proposal!) as { payments: { payment: Record<string, unknown>; request?: unknown }[] };
      const cases: [unknown, string][] = [
        [{ ...json, payments: "all" }, "payments"],
        [{ ...json, payments: [json.payments[0], null] }, "payments[1]"],
        [{ ...json, payments: [json.payments[0], { payment: { ...json.payments[1].payment, amount: "-2" } }] }, "payments[1].payment.amount"],
        [{ ...json, payments: [{ ...json.payments[0], request: "x" }] }, "payments[0].request"],
      ];
      for (const [message, path] of cases) {
        const caught = await expectRejected(ackOf(sides[1], message), MalformedMessageError);
        expect((caught as MalformedMessageError).path).to.equal(path);
      }
    });
  });

  describe("tampered messages", function () {
    const bump = (t: readonly [bigint, bigint], i: number): [bigint, bigint] => (i === 0 ? [t[0] + 1n, t[1]] : [t[0], t[1] + 1n]);
    /** Tamper, then the error for a payment by participant 0 and by participant 1 (null: no such tamper). */
    type Tamper = [string, (p: PaymentProposal) => void, Constructor | null, Constructor];
    const proposalTampers: Tamper[] = [
      ["payment.amount + 1", (p) => (p.payment.amount += 1n), TransferMismatchError, UnrequestedPaymentError],
      ["payment.amount = 0", (p) => (p.payment.amount = 0n), InvalidAmountError, InvalidAmountError],
      ["payment.seq + 1", (p) => (p.payment.seq += 1n), SequenceMismatchError, SequenceMismatchError],
      ["payment.seq - 1", (p) => (p.payment.seq = p.payment.seq === 0n ? 1n : p.payment.seq - 1n), SequenceMismatchError, SequenceMismatchError],
      ["payment.payer flipped", (p) => (p.payment.payer = p.payment.payer === 0 ? 1 : 0), UnrequestedPaymentError, WrongPayerError],
      ["payment.ref", (p) => (p.payment.ref = flipNibble(p.payment.ref)), RootMismatchError, UnrequestedPaymentError],
      ["payment.channelId", (p) => (p.payment.channelId = flipNibble(p.payment.channelId)), WrongChannelError, WrongChannelError],
      ["request id", (p) => (p.request = p.request === undefined ? 1n : p.request + 1000n), WrongPayerError, UnrequestedPaymentError],
      ["request id dropped", (p) => delete p.request, null, UnrequestedPaymentError],
      ["state.channelId", (p) => (p.state.channelId = flipNibble(p.state.channelId)), WrongChannelError, WrongChannelError],
      ["state.version - 1", (p) => (p.state.version -= 1n), StaleVersionError, StaleVersionError],
      ["state.version + 1", (p) => (p.state.version += 1n), InvalidSignatureError, InvalidSignatureError],
      ["state.version beyond the gap", (p) => (p.state.version += MAX_VERSION_GAP), VersionGapError, VersionGapError],
      ["state.transferred[payer] + 1", (p) => (p.state.transferred = bump(p.state.transferred, p.payment.payer)), TransferMismatchError, TransferMismatchError],
      ["state.transferred[payee] + 1", (p) => (p.state.transferred = bump(p.state.transferred, 1 - p.payment.payer)), TransferMismatchError, TransferMismatchError],
      ["state.paymentsRoot", (p) => (p.state.paymentsRoot = flipNibble(p.state.paymentsRoot)), RootMismatchError, RootMismatchError],
      ["state.isFinal", (p) => (p.state.isFinal = true), FinalFlagError, FinalFlagError],
      ["sig", (p) => (p.sig = flipNibble(p.sig, 40)), InvalidSignatureError, InvalidSignatureError],
      ["sig v", (p) => (p.sig = `${p.sig.slice(0, 130)}${p.sig.endsWith("1b") ? "1c" : "1b"}` as Hex), InvalidSignatureError, InvalidSignatureError],
      ["sig empty", (p) => (p.sig = "0x" as Hex), InvalidSignatureError, InvalidSignatureError],
    ];
    const ackTampers: [string, (a: StateAck) => void, Constructor][] = [
      ["version + 1", (a) => (a.version += 1n), UnexpectedAckError],
      ["version - 1", (a) => (a.version -= 1n), UnexpectedAckError],
      ["sig", (a) => (a.sig = flipNibble(a.sig, 50)), InvalidSignatureError],
      ["sig empty", (a) => (a.sig = "0x" as Hex), InvalidSignatureError],
    ];

    it("any single tampered field of a pipelined proposal is rejected with its error and changes nothing; the real one then goes through", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ payer: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 40n }) }), { maxLength: 5 }),
          fc.array(fc.record({ payer: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 40n }) }), { minLength: 1, maxLength: 5 }),
          fc.nat(),
          fc.constantFrom(...proposalTampers),
          async (history, inFlight, delivered, [name, tamper, error0, error1]) => {
            const sides = makePair();
            for (const h of history) await pay(sides, h.payer, h.amount);
            const proposals: PaymentProposal[] = [];
            for (const [i, f] of inFlight.entries()) {
              const ref = refOf(100 + i);
              proposals.push(f.payer === 0 ? await sides[0].pay(f.amount, ref) : await sides[0].receiveRequest(await sides[1].requestPayment(f.amount, ref)));
            }
            // Some of the pipeline is countersigned already (acks not yet delivered).
            const k = delivered % proposals.length;
            const acks: StateAck[] = [];
            for (const p of proposals.slice(0, k)) acks.push(await ackOf(sides[1], wire(p)));
            const target = proposals[k];
            const error = target.payment.payer === 0 ? error0 : error1;
            if (error) {
              const before = [view(sides[0]), view(sides[1])];
              const bad = clone(target);
              tamper(bad);
              await expectRejected(ackOf(sides[1], wire(bad)), error);
              expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
            }
            for (const p of proposals.slice(k)) acks.push(await ackOf(sides[1], wire(p)));
            for (const a of acks) await commit(sides[0], wire(a));
            expect(sides[0].latest).to.deep.equal(sides[1].latest);
            expect(sides[1].requests).to.deep.equal([]);
          },
        ),
        { numRuns: 150 },
      );
    });

    it("a tampered or out-of-order acknowledgement is rejected and leaves the pipeline pending", async function () {
      for (const [name, tamper, type] of ackTampers) {
        const sides = makePair();
        await pay(sides, 1, 3n);
        const proposals = [await sides[0].pay(10n), await sides[0].receiveRequest(await sides[1].requestPayment(4n)), await sides[0].pay(1n)];
        const acks: StateAck[] = [];
        for (const p of proposals) acks.push(await ackOf(sides[1], p));
        const before = [view(sides[0]), view(sides[1])];
        const bad = clone(acks[0]);
        tamper(bad);
        await expectRejected(commit(sides[0], bad), type);
        expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
        // Out of order: the second and third acks before the first.
        await expectRejected(commit(sides[0], acks[1]), UnexpectedAckError);
        await expectRejected(commit(sides[0], acks[2]), UnexpectedAckError);
        expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
        for (const a of acks) await commit(sides[0], a);
        await expectRejected(commit(sides[0], acks[2]), UnexpectedAckError);
        expect(sides[0].latest).to.deep.equal(sides[1].latest);
      }
    });

    it("a tampered final proposal is rejected and changes nothing", async function () {
      const tampers: [string, (f: FinalProposal) => void, Constructor][] = [
        ["transferred", (f) => (f.state.transferred = bump(f.state.transferred, 0)), TransferMismatchError],
        ["paymentsRoot", (f) => (f.state.paymentsRoot = flipNibble(f.state.paymentsRoot)), RootMismatchError],
        ["isFinal", (f) => (f.state.isFinal = false), FinalFlagError],
        ["channelId", (f) => (f.state.channelId = flipNibble(f.state.channelId)), WrongChannelError],
        ["version 0", (f) => (f.state.version = 0n), StaleVersionError],
        ["version beyond the gap", (f) => (f.state.version += MAX_VERSION_GAP), VersionGapError],
        ["sig", (f) => (f.sig = flipNibble(f.sig, 10)), InvalidSignatureError],
      ];
      for (const [name, tamper, type] of tampers) {
        const sides = makePair();
        await pay(sides, 0, 12n);
        const final = await sides[0].proposeFinal();
        const before = [view(sides[0]), view(sides[1])];
        const bad = clone(final);
        tamper(bad);
        await expectRejected(ackOf(sides[1], bad), type);
        expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
      }
    });

    it("malformed input is rejected with the offending path", async function () {
      const sides = makePair();
      const good = encodeMessage(await sides[0].receiveRequest(await sides[1].requestPayment(5n))) as unknown as Record<string, Record<string, unknown>>;
      const request = encodeMessage(await sides[1].requestPayment(5n)) as unknown as Record<string, unknown>;
      const cases: [(m: unknown) => Promise<unknown>, unknown, string][] = [
        [(m) => ackOf(sides[1], m), null, "message"],
        [(m) => ackOf(sides[1], m), { ...good, kind: "pay" }, "kind"],
        [(m) => ackOf(sides[1], m), { ...good, sig: "0x123" }, "sig"],
        [(m) => ackOf(sides[1], m), { ...good, request: "-1" }, "request"],
        [(m) => ackOf(sides[1], m), { ...good, request: 1 }, "request"],
        [(m) => ackOf(sides[1], m), { ...good, payment: { ...good.payment, amount: "-1" } }, "payment.amount"],
        [(m) => ackOf(sides[1], m), { ...good, payment: { ...good.payment, amount: "1e3" } }, "payment.amount"],
        [(m) => ackOf(sides[1], m), { ...good, payment: { ...good.payment, amount: (1n << 256n).toString() } }, "payment.amount"],
        [(m) => ackOf(sides[1], m), { ...good, payment: { ...good.payment, payer: 2 } }, "payment.payer"],
        [(m) => ackOf(sides[1], m), { ...good, payment: { ...good.payment, ref: "0x00" } }, "payment.ref"],
        [(m) => ackOf(sides[1], m), { ...good, state: { ...good.state, version: 3 } }, "state.version"],
        [(m) => ackOf(sides[1], m), { ...good, state: { ...good.state, transferred: ["1"] } }, "state.transferred"],
        [(m) => ackOf(sides[1], m), { ...good, state: { ...good.state, isFinal: "false" } }, "state.isFinal"],
        [(m) => ackOf(sides[1], m), { ...good, state: undefined }, "state"],
        [(m) => ackOf(sides[1], m), request, "kind"],
        [(m) => sides[0].receiveRequest(m), { ...request, id: "x" }, "id"],
        [(m) => sides[0].receiveRequest(m), { ...request, id: (1n << 64n).toString() }, "id"],
        [(m) => sides[0].receiveRequest(m), { ...request, amount: undefined }, "amount"],
        [(m) => sides[0].receiveRequest(m), { ...request, ref: "0x" }, "ref"],
        [(m) => sides[0].receiveRequest(m), { kind: "final-request" }, "kind"],
        [(m) => sides[0].receiveFinalRequest(m), request, "kind"],
        [(m) => ackOf(sides[1], m), { kind: "refund" }, "kind"],
      ];
      const before = [view(sides[0]), view(sides[1])];
      for (const [call, input, path] of cases) {
        const caught = await expectRejected(call(input), MalformedMessageError);
        expect((caught as MalformedMessageError).path, JSON.stringify(input)).to.equal(path);
      }
      expect([view(sides[0]), view(sides[1])]).to.deep.equal(before);
    });

    it("every message kind survives JSON encoding unchanged", async function () {
      const sides = makePair([1n << 200n, 1n << 200n]);
      const request = await sides[1].requestPayment(123456789012345678901234567890n, hexOf(Buffer.alloc(32, 0xee)));
      const messages: ChannelMessage[] = [request, await sides[0].receiveRequest(request), await sides[0].pay(7n), await sides[1].requestFinal()];
      messages.push(await ackOf(sides[1], messages[1]));
      messages.push({ kind: "final", state: (messages[2] as PaymentProposal).state, sig: (messages[2] as PaymentProposal).sig });
      for (const m of messages) {
        expect(decodeMessage(JSON.parse(JSON.stringify(encodeMessage(m)))), m.kind).to.deep.equal(m);
        expect(decodeMessage(m)).to.deep.equal(m);
      }
      expect(encodeMessage(messages[2])).to.not.have.property("request");
    });
  });

  describe("versions", function () {
    it("participant 1 accepts a version up to MAX_VERSION_GAP above everything it holds, and no further", async function () {
      expect(MAX_VERSION_GAP).to.equal(1n << 20n);
      const sides = makePair();
      await pay(sides, 0, 1n);
      // Participant 0 burns versions, as abandoned proposals do, by a snapshot with a high signedVersion.
      const jump = (signedVersion: bigint) =>
        new Sequencer({ params: PARAMS, signer: KEYS[0], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: { ...sides[0].snapshot(), signedVersion } });
      const tooFar = await jump(1n + MAX_VERSION_GAP).pay(1n);
      expect(tooFar.state.version).to.equal(2n + MAX_VERSION_GAP);
      const before = view(sides[1]);
      const error = await expectRejected(ackOf(sides[1], tooFar), VersionGapError);
      expect((error as VersionGapError).max).to.equal(1n + MAX_VERSION_GAP);
      expect(view(sides[1])).to.deep.equal(before);
      const farthest = jump(MAX_VERSION_GAP);
      const ok = await farthest.pay(1n);
      await commit(farthest, await ackOf(sides[1], ok));
      expect(sides[1].latest.state.version).to.equal(1n + MAX_VERSION_GAP);
      expect(farthest.latest).to.deep.equal(sides[1].latest);
    });

    it("a replayed proposal is stale; a version participant 1 signed but never committed conflicts", async function () {
      const sides = makePair();
      const p = await sides[0].pay(1n);
      await commit(sides[0], await ackOf(sides[1], p));
      await expectRejected(ackOf(sides[1], p), StaleVersionError);
      // Participant 1 signed version 2 before a crash, and its store kept that.
      const restored = new Countersigner({ params: PARAMS, signer: KEYS[1], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: { ...sides[1].snapshot(), signedVersion: 2n } });
      const p2 = await sides[0].pay(2n);
      await expectRejected(ackOf(restored, p2), ConflictingStateError);
      await sides[0].abandonPending();
      await commit(sides[0], await ackOf(restored, await sides[0].pay(2n)));
      expect(restored.latest.state.version).to.equal(3n);
    });

    it("only participant 0 proposes the final state, with nothing pending; nothing is signed after it", async function () {
      const sides = makePair();
      await pay(sides, 0, 1n);
      const pendingPay = await sides[0].pay(1n);
      const askFinal = await sides[1].requestFinal();
      await expectRejected(sides[0].receiveFinalRequest(askFinal), ProposalPendingError);
      await expectRejected(sides[0].proposeFinal(), ProposalPendingError);
      await commit(sides[0], await ackOf(sides[1], pendingPay));
      const final = await sides[0].receiveFinalRequest(wire(askFinal));
      await expectRejected(sides[0].pay(1n), ChannelFinalizedError);
      await expectRejected(sides[0].receiveRequest(await sides[1].requestPayment(1n)), ChannelFinalizedError);
      await commit(sides[0], await ackOf(sides[1], final));
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[1].isFinal).to.equal(true);
      await expectRejected(sides[1].requestPayment(1n), ChannelFinalizedError);
      await expectRejected(sides[1].requestFinal(), ChannelFinalizedError);
      await expectRejected(ackOf(sides[1], final), ChannelFinalizedError);
    });
  });

  describe("hooks and restore", function () {
    it("beforeSign sees every state before it is signed; a throwing hook signs nothing", async function () {
      const intents: SignIntent[] = [];
      const commits: CommittedUpdate[] = [];
      let fail = true;
      const sides = makePair([100n, 100n], ["native", "native"], [
        {
          beforeSign: async (intent) => {
            if (fail) throw new Error("disk full");
            intents.push(intent);
          },
        },
        { beforeSign: (intent) => void intents.push(intent) },
      ]);
      // What participant 1 committed, as its countersignatures return it.
      const countersign = sides[1].countersign.bind(sides[1]);
      sides[1].countersign = async (message) => {
        const result = await countersign(message);
        commits.push(result.committed);
        return result;
      };
      const before = view(sides[0]);
      let caught: unknown;
      await sides[0].pay(5n).catch((e: unknown) => (caught = e));
      expect((caught as Error).message).to.equal("disk full");
      expect(view(sides[0])).to.deep.equal(before);
      fail = false;
      await pay(sides, 0, 5n);
      await pay(sides, 1, 2n);
      await close(sides, 1);
      expect(intents.map((i) => [i.kind, i.state.version, i.payments[0]?.request])).to.deep.equal([
        ["propose-payment", 1n, undefined],
        ["countersign-payment", 1n, undefined],
        ["propose-payment", 2n, 1n],
        ["countersign-payment", 2n, 1n],
        ["propose-final", 3n, undefined],
        ["countersign-final", 3n, undefined],
      ]);
      expect(intents[0].digest).to.equal(hexOf(sides[0].hasher.digest(intents[0].state)));
      const countersigned = intents[3];
      expect(new EcdsaVerifier().verify(KEYS[0].address, sides[0].hasher.digest(countersigned.state), countersigned.peerSig!)).to.equal(true);
      expect(countersigned.payments[0].payment.payer).to.equal(1);
      expect(commits.map((c) => [c.signed.state.version, c.payments[0]?.request])).to.deep.equal([
        [1n, undefined],
        [2n, 1n],
        [3n, undefined],
      ]);
    });

    it("a channel rebuilt from its snapshot carries on; participant 0's pending proposals are burned, participant 1's requests dropped", async function () {
      const sides = makePair();
      for (let i = 1n; i <= 5n; i++) await pay(sides, i % 2n === 0n ? 1 : 0, i);
      // In flight at the crash: two proposals of participant 0, one request of participant 1.
      await sides[0].pay(3n);
      await sides[0].receiveRequest(await sides[1].requestPayment(1n));
      const lost = await sides[1].requestPayment(2n);
      const snapshots = [sides[0].snapshot(), sides[1].snapshot()] as const;
      expect(snapshots[0].payments).to.have.length(5);
      expect(snapshots[0].signedVersion).to.equal(7n);
      expect(snapshots[0].lastRequestId).to.equal(2n);
      expect(snapshots[1].lastRequestId).to.equal(4n);
      const restored = [
        new Sequencer({ params: PARAMS, signer: KEYS[0], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: snapshots[0] }),
        new Countersigner({ params: PARAMS, signer: KEYS[1], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: snapshots[1] }),
      ] as const;
      expect(restored[0].pending).to.deep.equal([]);
      expect(restored[1].requests).to.deep.equal([]);
      expect(restored[0].latest).to.deep.equal(sides[0].latest);
      // The lost request is refused: participant 1 no longer has it outstanding.
      const stale = await restored[0].receiveRequest(lost);
      expect(stale.state.version).to.equal(8n);
      await expectRejected(ackOf(restored[1], stale), UnrequestedPaymentError);
      await restored[0].abandonPending();
      await pay(restored, 0, 3n);
      await pay(restored, 1, 4n);
      expect(restored[0].latest).to.deep.equal(restored[1].latest);
      expect(restored[0].latest.state.version).to.equal(10n);
      expect(restored[1].proof(2).root).to.equal(restored[1].latest.state.paymentsRoot);
      expect(restored[0].proof(6).root).to.equal(restored[0].latest.state.paymentsRoot);
    });

    it("proofs and views cover the committed payments only, while proposals are pending", async function () {
      const sides = makePair();
      await pay(sides, 0, 1n);
      await pay(sides, 1, 1n);
      await sides[0].pay(2n);
      expect(sides[0].paymentCount).to.equal(2);
      expect(sides[0].proof(1)).to.deep.equal(sides[1].proof(1));
      expect(sides[0].proof(0).root).to.equal(sides[0].latest.state.paymentsRoot);
      expect(() => sides[0].payment(2)).to.throw(InvalidArgumentError);
      expect(() => sides[0].proof(2)).to.throw(InvalidArgumentError);
    });

    it("refuses a signer that is not the participant", function () {
      expect(() => new Sequencer({ params: PARAMS, signer: KEYS[1], chainId: CHAIN_ID, adjudicator: ADJUDICATOR })).to.throw(InvalidArgumentError);
      expect(() => new Countersigner({ params: PARAMS, signer: KEYS[0], chainId: CHAIN_ID, adjudicator: ADJUDICATOR })).to.throw(InvalidArgumentError);
    });
  });

  describe("v2: lock fields recomputed, withdrawals counted", function () {
    /** Participant 0's proposal of one payment of `amount`, re-signed after `edit` changed its state. */
    async function tampered(sides: Sides, edit: (state: State) => void): Promise<PaymentProposal> {
      const proposal = clone(await sides[0].pay(5n));
      edit(proposal.state);
      proposal.sig = KEYS[0].sign(sides[0].hasher.digest(proposal.state));
      return proposal;
    }

    const lockRows: [string, (state: State) => void, Constructor][] = [
      ["locked[0]", (s) => (s.locked = [1n, 0n]), LockedMismatchError],
      ["locked[1]", (s) => (s.locked = [0n, 1n]), LockedMismatchError],
      ["locksRoot", (s) => (s.locksRoot = refOf(1)), LocksRootMismatchError],
    ];
    for (const [what, edit, error] of lockRows) {
      it(`participant 1 refuses a payment state with ${what} set, and nothing changes`, async function () {
        const sides = makePair();
        const before = view(sides[1]);
        await expectRejected(ackOf(sides[1], wire(await tampered(sides, edit))), error);
        expect(view(sides[1])).to.deep.equal(before);
      });

      it(`participant 1 refuses a final state with ${what} set`, async function () {
        const sides = makePair();
        await pay(sides, 0, 5n);
        const final = clone(await sides[0].proposeFinal());
        edit(final.state);
        final.sig = KEYS[0].sign(sides[0].hasher.digest(final.state));
        await expectRejected(ackOf(sides[1], wire(final)), error);
        expect(sides[1].signedFinal).to.equal(false);
      });
    }

    it("every state it makes has no locks: locked [0, 0] and a zero locks root", async function () {
      const sides = makePair();
      await pay(sides, 0, 5n);
      await pay(sides, 1, 3n);
      const final = await close(sides, 0);
      for (const state of [final.state, sides[1].latest.state]) {
        expect(state.locked).to.deep.equal([0n, 0n]);
        expect(state.locksRoot).to.equal(ZERO_HASH);
      }
    });

    it("withdrawals on chain count against both sides' payments, and the payouts are the contract's", async function () {
      const sides = makePair([100n, 100n]);
      // Participant 1 has seen a withdrawal of participant 0 that participant 0 has not: it checks against it.
      sides[0].setWithdrawn([50n, 0n]);
      sides[1].setWithdrawn([60n, 0n]);
      expect(sides[0].spendable(0)).to.equal(50n);
      const before = view(sides[1]);
      await expectRejected(ackOf(sides[1], wire(await sides[0].pay(45n))), InsufficientFundsError);
      expect(view(sides[1])).to.deep.equal(before);
      await sides[0].abandonPending();
      sides[0].setWithdrawn([60n, 10n]);
      sides[1].setWithdrawn([60n, 10n]);
      expect(sides[0].spendable(0)).to.equal(40n);
      expect(sides[1].spendable(1)).to.equal(90n);
      await expectRejected(sides[0].pay(41n), InsufficientFundsError);
      await expectRejected(sides[1].requestPayment(91n), InsufficientFundsError);
      await pay(sides, 0, 40n);
      expect(sides[0].spendable(0)).to.equal(0n);
      expect(sides[1].payouts).to.deep.equal([0n, 130n]);
      expect(payouts({ deposits: [100n, 100n], withdrawn: [60n, 10n] }, [40n, 0n])).to.deep.equal([0n, 130n]);
      expect(sides[1].snapshot().withdrawn).to.deep.equal([60n, 10n]);
    });
  });

  describe("withdrawals while open (cash-out)", function () {
    const NOW = 1_000_000n;
    const WINDOW = 3_600n;

    /** `who` cashes out `amount`: proposes, the other side countersigns, the proposer takes the ack. */
    async function cashOut(sides: Sides, who: 0 | 1, amount: bigint, expiry = NOW + WINDOW) {
      const proposal = await sides[who].proposeWithdrawal(amount, expiry);
      const ack = await sides[1 - who].receiveWithdrawal(wire(proposal), NOW, WINDOW);
      return sides[who].receiveWithdrawalAck(wire(ack));
    }

    /** A withdrawal proposal signed with participant `by`'s key, whatever it says. */
    const forge = (side: ChannelCore, by: 0 | 1, w: Withdrawal): WithdrawalProposal => ({
      kind: "withdrawal",
      withdrawal: w,
      sig: KEYS[by].sign(side.hasher.withdrawalDigest(w)),
    });

    /** What both sides count, to show a refusal changed nothing. */
    const counts = (c: ChannelCore) => ({
      withdrawals: c.withdrawals,
      pending: [c.withdrawnOrPending(0), c.withdrawnOrPending(1)],
      withdrawable: [c.withdrawable(0), c.withdrawable(1)],
      spendable: [c.spendable(0), c.spendable(1)],
      payouts: c.payouts,
    });

    it("both sides count a signed withdrawal as spent in every balance, payments and further withdrawals included", async function () {
      const sides = makePair([100n, 100n]);
      await pay(sides, 0, 30n);
      const signed = await cashOut(sides, 0, 50n);
      expect(signed.withdrawal).to.deep.equal({ channelId: sides[0].id, participant: 0, total: 50n, expiry: NOW + WINDOW });
      for (const side of sides) {
        expect(side.withdrawals).to.deep.equal([{ withdrawal: signed.withdrawal, sigs: signed.sigs, status: "signed" }]);
        expect(side.withdrawnOrPending(0)).to.equal(50n);
        expect(side.withdrawable(0)).to.equal(20n);
        expect(side.spendable(0)).to.equal(20n);
        expect(side.payouts).to.deep.equal([20n, 130n]);
        expect(side.withdrawn).to.deep.equal([0n, 0n]);
      }
      // Participant 0's own check, then participant 1's on a payment participant 0 signed anyway.
      await expectRejected(sides[0].pay(21n), InsufficientFundsError);
      await expectRejected(sides[0].proposeWithdrawal(21n, NOW + WINDOW), InsufficientFundsError);
      const unaware = makePair([100n, 100n])[0];
      await pay([unaware, makePair([100n, 100n])[1]], 0, 30n);
      const before = counts(sides[1]);
      await expectRejected(ackOf(sides[1], wire(await unaware.pay(21n))), InsufficientFundsError);
      expect(counts(sides[1])).to.deep.equal(before);
      await pay(sides, 0, 20n);
      expect(sides[1].withdrawable(0)).to.equal(0n);
    });

    it("a new withdrawal builds on the previous signed total, executed or not; the execution changes no balance", async function () {
      const sides = makePair([100n, 100n]);
      const first = await cashOut(sides, 1, 10n);
      const second = await cashOut(sides, 1, 15n);
      expect([first.withdrawal.total, second.withdrawal.total]).to.deep.equal([10n, 25n]);
      const before = [counts(sides[0]).spendable, counts(sides[1]).spendable];
      for (const side of sides) {
        const executed = side.setWithdrawn([0n, 10n]);
        expect(executed.map((r) => [r.withdrawal.total, r.status])).to.deep.equal([[10n, "executed"]]);
        expect(side.withdrawals.map((r) => r.withdrawal.total)).to.deep.equal([25n]);
        expect(side.withdrawnOrPending(1)).to.equal(25n);
      }
      expect([counts(sides[0]).spendable, counts(sides[1]).spendable]).to.deep.equal(before);
      const third = await cashOut(sides, 1, 5n);
      expect(third.withdrawal.total).to.equal(30n);
      // The chain never goes back: a lower figure is ignored.
      sides[0].setWithdrawn([0n, 0n]);
      expect(sides[0].withdrawn).to.deep.equal([0n, 10n]);
    });

    it("a withdrawal not executed by its expiry is dropped on both sides and its amount counts again", async function () {
      const sides = makePair([100n, 100n]);
      const signed = await cashOut(sides, 0, 60n);
      const expiry = signed.withdrawal.expiry;
      for (const side of sides) {
        // Valid while block.timestamp <= expiry.
        expect(side.expireWithdrawals(expiry)).to.deep.equal([]);
        expect(side.expireWithdrawals(expiry + 1n).map((r) => [r.withdrawal.total, r.status])).to.deep.equal([[60n, "expired"]]);
        expect(side.withdrawals).to.deep.equal([]);
        expect(side.spendable(0)).to.equal(100n);
      }
      // Built on the chain's total again, not on the expired one.
      expect((await cashOut(sides, 0, 70n)).withdrawal.total).to.equal(70n);
      // One executed before its expiry is not dropped: the chain's total is read first.
      for (const side of sides) {
        expect(side.setWithdrawn([70n, 0n]).map((r) => r.status)).to.deep.equal(["executed"]);
        expect(side.expireWithdrawals(NOW + 10n * WINDOW)).to.deep.equal([]);
        expect(side.spendable(0)).to.equal(30n);
      }
    });

    it("the requester counts its own pending payments and requests, and what it proposed until the peer answers", async function () {
      const sides = makePair([100n, 100n]);
      await sides[1].requestPayment(40n);
      await expectRejected(sides[1].proposeWithdrawal(61n, NOW + WINDOW), InsufficientFundsError);
      const proposal = await sides[1].proposeWithdrawal(60n, NOW + WINDOW);
      expect(sides[1].withdrawals.map((r) => r.status)).to.deep.equal(["proposed"]);
      expect(sides[1].withdrawable(1)).to.equal(0n);
      await expectRejected(sides[1].proposeWithdrawal(1n, NOW + WINDOW), WithdrawalPendingError);
      await expectRejected(sides[1].requestPayment(1n), InsufficientFundsError);
      // Refused by the peer: dropped, and the amount counts again.
      expect((await sides[1].abandonWithdrawal(proposal.withdrawal.total))?.status).to.equal("refused");
      expect(sides[1].withdrawable(1)).to.equal(60n);
      // Participant 0 counts its pending proposals: its own payments out, not the payments in.
      await sides[0].pay(30n);
      const served = await sides[0].receiveRequest(wire(await sides[1].requestPayment(20n)));
      expect(served.payment.payer).to.equal(1);
      expect(sides[0].withdrawable(0)).to.equal(70n);
      expect(sides[0].withdrawable(1)).to.equal(80n);
      await expectRejected(sides[0].receiveWithdrawal(wire(forge(sides[0], 1, withdrawalOf(sides[0], 1, 81n))), NOW, WINDOW), InsufficientFundsError);
    });

    const withdrawalOf = (side: ChannelCore, participant: 0 | 1, total: bigint, expiry = NOW + WINDOW): Withdrawal => ({
      channelId: side.id,
      participant,
      total,
      expiry,
    });

    // description, the proposal participant 0 gets (as if from participant 1), the error; the channel after 10 withdrawn by participant 1
    const refusals: [string, (side: Side) => unknown, Constructor][] = [
      ["more than the balance", (c) => forge(c, 1, withdrawalOf(c, 1, 10n + 101n)), InsufficientFundsError],
      ["a total not above the signed one", (c) => forge(c, 1, withdrawalOf(c, 1, 10n)), WithdrawalTotalError],
      ["a total below the signed one", (c) => forge(c, 1, withdrawalOf(c, 1, 5n)), WithdrawalTotalError],
      ["participant 0's withdrawal", (c) => forge(c, 1, withdrawalOf(c, 0, 20n)), WithdrawalParticipantError],
      ["an expiry already passed", (c) => forge(c, 1, withdrawalOf(c, 1, 20n, NOW)), WithdrawalExpiryError],
      ["an expiry too far ahead", (c) => forge(c, 1, withdrawalOf(c, 1, 20n, NOW + WINDOW + 1n)), WithdrawalExpiryError],
      ["another channel", (c) => forge(c, 1, { ...withdrawalOf(c, 1, 20n), channelId: refOf(9) }), WrongChannelError],
      ["participant 0's own signature", (c) => forge(c, 0, withdrawalOf(c, 1, 20n)), InvalidSignatureError],
      ["a signature of another withdrawal", (c) => ({ ...forge(c, 1, withdrawalOf(c, 1, 21n)), withdrawal: withdrawalOf(c, 1, 20n) }), InvalidSignatureError],
      ["a malformed total", (c) => ({ ...(wire(forge(c, 1, withdrawalOf(c, 1, 20n))) as object), withdrawal: { ...withdrawalOf(c, 1, 20n), total: "-1" } }), MalformedMessageError],
    ];
    for (const [description, make, type] of refusals) {
      it(`refuses to countersign ${description} (${type.name}), and changes nothing`, async function () {
        const sides = makePair([100n, 100n]);
        await cashOut(sides, 1, 10n);
        const before = counts(sides[0]);
        await expectRejected(sides[0].receiveWithdrawal(make(sides[0]), NOW, WINDOW), type);
        expect(counts(sides[0])).to.deep.equal(before);
      });
    }

    it("refuses an amount of 0, a final channel, and an acknowledgement it did not ask for", async function () {
      const sides = makePair([100n, 100n]);
      await expectRejected(sides[0].proposeWithdrawal(0n, NOW + WINDOW), InvalidAmountError);
      await expectRejected(sides[0].proposeWithdrawal(-1n, NOW + WINDOW), InvalidAmountError);
      const proposal = await sides[0].proposeWithdrawal(10n, NOW + WINDOW);
      const ack = await sides[1].receiveWithdrawal(wire(proposal), NOW, WINDOW);
      await expectRejected(sides[0].receiveWithdrawalAck({ ...ack, total: 11n }), UnknownWithdrawalError);
      await expectRejected(sides[0].receiveWithdrawalAck({ ...ack, sig: flipNibble(ack.sig, 10) }), InvalidSignatureError);
      expect(sides[0].withdrawals.map((r) => r.status)).to.deep.equal(["proposed"]);
      await sides[0].receiveWithdrawalAck(ack);
      await expectRejected(sides[0].receiveWithdrawalAck(ack), UnknownWithdrawalError);
      await close(sides, 0);
      await expectRejected(sides[0].proposeWithdrawal(1n, NOW + WINDOW), ChannelFinalizedError);
      await expectRejected(sides[1].receiveWithdrawal(wire(forge(sides[1], 0, withdrawalOf(sides[1], 0, 20n))), NOW, WINDOW), ChannelFinalizedError);
    });

    it("the store hook sees every withdrawal before its signature leaves; a failing hook signs nothing and changes nothing", async function () {
      const seen: [0 | 1, string, bigint][] = [];
      const fail = { on: false };
      const hook = (me: 0 | 1): ChannelHooks => ({
        onWithdrawal: (record) => {
          if (fail.on) throw new Error("disk full");
          seen.push([me, record.status, record.withdrawal.total]);
        },
      });
      const sides = makePair([100n, 100n], ["native", "native"], [hook(0), hook(1)]);
      await cashOut(sides, 0, 10n);
      expect(seen).to.deep.equal([
        [0, "proposed", 10n],
        [1, "signed", 10n],
        [0, "signed", 10n],
      ]);
      fail.on = true;
      const before = counts(sides[1]);
      let caught: unknown;
      try {
        await sides[0].proposeWithdrawal(5n, NOW + WINDOW);
      } catch (error) {
        caught = error;
      }
      expect((caught as Error).message).to.equal("disk full");
      expect(sides[0].withdrawals.map((r) => r.withdrawal.total)).to.deep.equal([10n]);
      fail.on = false;
      const proposal = await sides[0].proposeWithdrawal(5n, NOW + WINDOW);
      fail.on = true;
      const refused = await sides[1].receiveWithdrawal(wire(proposal), NOW, WINDOW).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect((refused as Error).message).to.equal("disk full");
      expect(counts(sides[1])).to.deep.equal(before);
    });

    it("after a reconnect: adopts what the peer holds signed, drops own proposals it never signed, refuses forged ones", async function () {
      const sides = makePair([100n, 100n]);
      // Participant 1's answer to this proposal was lost: participant 0 still counts it as proposed.
      const lost = await sides[0].proposeWithdrawal(10n, NOW + WINDOW);
      await sides[1].receiveWithdrawal(wire(lost), NOW, WINDOW);
      const held = await sides[1].signedWithdrawals();
      expect(held.map((w) => w.withdrawal.total)).to.deep.equal([10n]);
      const forged = { ...held[0], withdrawal: { ...held[0].withdrawal, total: 99n } };
      await expectRejected(sides[0].syncWithdrawals([forged]), InvalidSignatureError);
      expect(sides[0].withdrawals.map((r) => r.status)).to.deep.equal(["proposed"]);
      const changed = await sides[0].syncWithdrawals(held);
      expect(changed.map((r) => [r.withdrawal.total, r.status])).to.deep.equal([[10n, "signed"]]);
      expect(sides[0].withdrawals).to.deep.equal(sides[1].withdrawals);
      expect(await sides[0].syncWithdrawals(held)).to.deep.equal([]);
      // A proposal participant 1 never received: dropped, its amount counts again.
      await sides[0].proposeWithdrawal(5n, NOW + WINDOW);
      expect(sides[0].withdrawnOrPending(0)).to.equal(15n);
      const dropped = await sides[0].syncWithdrawals(await sides[1].signedWithdrawals());
      expect(dropped.map((r) => [r.withdrawal.total, r.status])).to.deep.equal([[15n, "refused"]]);
      expect(sides[0].withdrawnOrPending(0)).to.equal(10n);
      // A proposal made after the peer was asked may still be on its way to it: kept.
      const asked = sides[0].withdrawals.filter((r) => r.status === "proposed").map((r) => r.withdrawal.total);
      const later = await sides[0].proposeWithdrawal(7n, NOW + WINDOW);
      expect(await sides[0].syncWithdrawals(await sides[1].signedWithdrawals(), asked)).to.deep.equal([]);
      expect(sides[0].withdrawals.map((r) => [r.withdrawal.total, r.status])).to.deep.equal([
        [10n, "signed"],
        [later.withdrawal.total, "proposed"],
      ]);
    });

    it("a channel rebuilt from its snapshot keeps counting its live withdrawals; a concluded channel voids them", async function () {
      const sides = makePair([100n, 100n]);
      await pay(sides, 0, 5n);
      await cashOut(sides, 0, 10n);
      await sides[1].proposeWithdrawal(20n, NOW + WINDOW);
      const restored = ([0, 1] as const).map(
        (me) => makeSide(me, { params: PARAMS, signer: KEYS[me], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: sides[me].snapshot() }),
      );
      for (const me of [0, 1] as const) expect(counts(restored[me])).to.deep.equal(counts(sides[me]));
      expect(restored[1].withdrawals.map((r) => r.status)).to.deep.equal(["signed", "proposed"]);
      expect(restored[0].voidWithdrawals().map((r) => r.status)).to.deep.equal(["void"]);
      expect(restored[0].spendable(0)).to.equal(95n);
    });
  });

  describe("payees apart from the signing keys", function () {
    async function fixture() {
      const adjudicator = await ethers.deployContract("Adjudicator");
      const [, , payee0, payee1] = await ethers.getSigners();
      const { chainId } = await ethers.provider.getNetwork();
      const address = (await adjudicator.getAddress()) as Address;
      const params: Params = { ...PARAMS, payees: [payee0.address as Address, payee1.address as Address], nonce: 1n };
      await adjudicator.deposit(paramsValue(params) as never, 0, 100n, { value: 100n });
      await adjudicator.deposit(paramsValue(params) as never, 1, 100n, { value: 100n });
      return { adjudicator, params, chainId, address };
    }

    /** The chain's snapshot is shared between tests, the two sides are new for each. */
    async function channelOnChain() {
      const { adjudicator, params, chainId, address } = await loadFixture(fixture);
      const common = { params, chainId, adjudicator: address, deposits: [100n, 100n] as const };
      const sides = [new Sequencer({ ...common, signer: KEYS[0] }), new Countersigner({ ...common, signer: KEYS[1] })] as const;
      return { adjudicator, params, sides };
    }

    it("the keys sign, the final state closes on chain, and the payees are paid", async function () {
      const { adjudicator, params, sides } = await channelOnChain();
      await pay(sides, 1, 40n);
      await pay(sides, 0, 15n);
      await close(sides, 1);
      const { state, sigs } = sides[0].latest;
      const before = await Promise.all(params.payees.map((p) => ethers.provider.getBalance(p)));
      await expect(adjudicator.close(paramsValue(params) as never, stateValue(state) as never, [...sigs])).to.emit(adjudicator, "Closed");
      const after = await Promise.all(params.payees.map((p) => ethers.provider.getBalance(p)));
      expect([after[0] - before[0], after[1] - before[1]]).to.deep.equal(sides[0].payouts);
      expect(sides[0].payouts).to.deep.equal([100n + 40n - 15n, 100n - 40n + 15n]);
    });

    it("a withdrawal both signed pays the payee on chain exactly its amount, and the close pays what the sides counted", async function () {
      const { adjudicator, params, sides } = await channelOnChain();
      await pay(sides, 1, 40n);
      const { timestamp } = (await ethers.provider.getBlock("latest"))!;
      const now = BigInt(timestamp);
      const proposal = await sides[0].proposeWithdrawal(70n, now + 600n);
      const signed = await sides[0].receiveWithdrawalAck(wire(await sides[1].receiveWithdrawal(wire(proposal), now, 3_600n)));
      const before = await ethers.provider.getBalance(params.payees[0]);
      await expect(adjudicator.partialWithdraw(paramsValue(params) as never, withdrawalValue(signed.withdrawal) as never, [...signed.sigs]))
        .to.emit(adjudicator, "PartiallyWithdrawn")
        .withArgs(sides[0].id, 0, 70n, 70n);
      expect((await ethers.provider.getBalance(params.payees[0])) - before).to.equal(70n);
      for (const side of sides) expect(side.setWithdrawn([70n, 0n]).map((r) => r.status)).to.deep.equal(["executed"]);
      await pay(sides, 0, 70n);
      await expectRejected(sides[0].pay(1n), InsufficientFundsError);
      await close(sides, 0);
      const { state, sigs } = sides[0].latest;
      const tx = adjudicator.close(paramsValue(params) as never, stateValue(state) as never, [...sigs]);
      await expect(tx).to.emit(adjudicator, "Closed").withArgs(sides[0].id, state.version, sides[0].payouts);
      expect(sides[0].payouts).to.deep.equal([0n, 100n + 100n - 70n]);
    });
  });
});
