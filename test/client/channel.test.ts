import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";
import { EcdsaVerifier, KeySigner, SignatureCheckerVerifier, type StateSigner } from "../../src/crypto";
import {
  Channel,
  decodeMessage,
  encodeMessage,
  payouts,
  type ChannelMessage,
  type FinalProposal,
  type PaymentProposal,
  type SignIntent,
  type StateAck,
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
  StaleVersionError,
  TransferMismatchError,
  UnexpectedAckError,
  WrongChannelError,
  WrongPayerError,
} from "../../src/errors";
import { paramsValue, stateValue } from "../../src/typedData";
import type { Address, Hex, Params } from "../../src/types";
import { ETH, ZERO_HASH } from "../../src/types";
import { bytes32, hexOf } from "./arbitraries";

const CHAIN_ID = 31337n;
const ADJUDICATOR = "0x5FbDB2315678afecb367f032d93F642f64180aa3" as Address;
const KEYS = [new KeySigner(hexOf(Buffer.alloc(32, 0xa1))), new KeySigner(hexOf(Buffer.alloc(32, 0xb2)))] as const;
const PARAMS: Params = { participants: [KEYS[0].address, KEYS[1].address], asset: ETH, challengePeriod: 60n, nonce: 7n };

type Constructor = abstract new (...args: never[]) => SluiceError;

function makePair(deposits: readonly [bigint, bigint] = [1000n, 1000n], kinds: readonly ["native" | "js", "native" | "js"] = ["native", "native"]) {
  return ([0, 1] as const).map(
    (me) =>
      new Channel({
        params: PARAMS,
        me,
        signer: kinds[me] === "native" ? KEYS[me] : new KeySigner(hexOf(Buffer.alloc(32, me === 0 ? 0xa1 : 0xb2)), "js"),
        verifier: new EcdsaVerifier(kinds[me]),
        chainId: CHAIN_ID,
        adjudicator: ADJUDICATOR,
        deposits,
      }),
  ) as [Channel, Channel];
}

/** Sends a message as the node will: JSON text over the wire. */
const wire = <T extends ChannelMessage>(m: T): unknown => JSON.parse(JSON.stringify(encodeMessage(m)));

async function pay(sides: readonly [Channel, Channel], payer: 0 | 1, amount: bigint, ref: Hex = ZERO_HASH) {
  const proposal = await sides[payer].pay(amount, ref);
  const ack = await sides[1 - payer].receivePayment(wire(proposal));
  return sides[payer].receiveAck(wire(ack));
}

async function close(sides: readonly [Channel, Channel], proposer: 0 | 1) {
  const proposal = await sides[proposer].proposeFinal();
  return sides[proposer].receiveAck(await sides[1 - proposer].acceptFinal(wire(proposal)));
}

/** Everything observable about a channel, to show a rejection changed nothing. */
const view = (c: Channel) => ({ snapshot: c.snapshot(), pending: c.pending, root: c.paymentCount && c.proof(0).root });

async function expectRejected(promise: Promise<unknown>, type: Constructor) {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${type.name}`).to.be.instanceOf(type);
  expect(caught).to.be.instanceOf(SluiceError);
}

const flipNibble = (hex: Hex, at = hex.length - 3): Hex => `${hex.slice(0, at)}${hex[at] === "0" ? "1" : "0"}${hex.slice(at + 1)}` as Hex;
const clone = <T>(m: T): T => decodeMessage(structuredClone(encodeMessage(m as ChannelMessage))) as T;

describe("client Channel", function () {
  describe("payments", function () {
    it("a payment is done when both hold the same fully signed state", async function () {
      const sides = makePair();
      const signed = await pay(sides, 0, 30n, hexOf(Buffer.alloc(32, 9)));
      expect(signed.state.version).to.equal(1n);
      expect(signed.state.transferred).to.deep.equal([30n, 0n]);
      expect(sides[1].latest).to.deep.equal(sides[0].latest);
      expect(sides[0].payouts).to.deep.equal([970n, 1030n]);
      expect(sides[0].pending).to.equal(undefined);
      expect(sides[1].payment(0).amount).to.equal(30n);
      for (const i of [0, 1] as const) {
        const sig = signed.sigs[i];
        expect(new EcdsaVerifier().verify(PARAMS.participants[i], sides[0].hasher.digest(signed.state), sig)).to.equal(true);
      }
    });

    it("random payments both ways end with the same state on both sides and payouts = deposits + received - sent", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(fc.bigInt({ min: 0n, max: 500n }), fc.bigInt({ min: 0n, max: 500n })),
          fc.array(fc.record({ payer: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 200n }), ref: bytes32() }), {
            maxLength: 25,
          }),
          fc.constantFrom(0 as const, 1 as const),
          async (deposits, payments, closer) => {
            const sides = makePair(deposits);
            const sent = [0n, 0n];
            for (const { payer, amount, ref } of payments) {
              if (amount > sides[payer].spendable()) {
                const before = [view(sides[0]), view(sides[1])];
                await expectRejected(sides[payer].pay(amount, ref), InsufficientFundsError);
                expect([view(sides[0]), view(sides[1])]).to.deep.equal(before);
                continue;
              }
              await pay(sides, payer, amount, ref);
              sent[payer] += amount;
              expect(sides[1].latest).to.deep.equal(sides[0].latest);
            }
            const final = await close(sides, closer);
            expect(final.state.isFinal).to.equal(true);
            expect(sides[1].latest).to.deep.equal(sides[0].latest);
            expect(sides[0].payouts).to.deep.equal([deposits[0] + sent[1] - sent[0], deposits[1] + sent[0] - sent[1]]);
            expect(payouts(deposits, final.state.transferred)).to.deep.equal(sides[1].payouts);
            await expectRejected(sides[0].pay(1n), ChannelFinalizedError);
            await expectRejected(sides[1].proposeFinal(), ChannelFinalizedError);
          },
        ),
        { numRuns: 40 },
      );
    });

    it("the JS crypto path interoperates with the native one", async function () {
      const sides = makePair([100n, 100n], ["js", "native"]);
      await pay(sides, 0, 5n);
      await pay(sides, 1, 7n);
      await close(sides, 1);
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[0].payouts).to.deep.equal([102n, 98n]);
    });

    it("a payer can't pay beyond its deposit plus what it received", async function () {
      const sides = makePair([10n, 0n]);
      await expectRejected(sides[1].pay(1n), InsufficientFundsError);
      await pay(sides, 0, 10n);
      await expectRejected(sides[0].pay(1n), InsufficientFundsError);
      await pay(sides, 1, 4n);
      await pay(sides, 0, 4n);
      expect(sides[0].spendable()).to.equal(0n);
    });

    it("the payee checks affordability against its own confirmed deposits", async function () {
      const sides = makePair([0n, 0n]);
      sides[0].setDeposits([50n, 0n]); // the payer believes in a deposit the payee has not confirmed
      const proposal = await sides[0].pay(20n);
      const before = view(sides[1]);
      await expectRejected(sides[1].receivePayment(proposal), InsufficientFundsError);
      expect(view(sides[1])).to.deep.equal(before);
      sides[1].setDeposits([50n, 0n]);
      await sides[0].receiveAck(await sides[1].receivePayment(proposal));
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
    });

    it("rejects amounts of zero or beyond uint256, and a second proposal while one is pending", async function () {
      const sides = makePair();
      await expectRejected(sides[0].pay(0n), InvalidAmountError);
      await expectRejected(sides[0].pay(-1n), InvalidAmountError);
      await expectRejected(sides[0].pay(1n << 256n), InvalidAmountError);
      await sides[0].pay(1n);
      await expectRejected(sides[0].pay(1n), ProposalPendingError);
      await expectRejected(sides[0].proposeFinal(), ProposalPendingError);
    });

    it("processes pipelined messages in order", async function () {
      const sides = makePair();
      const p = await sides[0].pay(1n);
      const acks = await Promise.all([sides[1].receivePayment(p), sides[1].receivePayment(p)].map((x) => x.catch((e: unknown) => e)));
      expect(acks[0]).to.have.property("kind", "ack");
      expect(acks[1]).to.be.instanceOf(StaleVersionError);
    });
  });

  describe("tampered messages", function () {
    type Tamper = [string, (p: PaymentProposal) => void, Constructor];
    const proposalTampers: Tamper[] = [
      ["payment.amount + 1", (p) => (p.payment.amount += 1n), TransferMismatchError],
      ["payment.amount = 0", (p) => (p.payment.amount = 0n), InvalidAmountError],
      ["payment.seq + 1", (p) => (p.payment.seq += 1n), SequenceMismatchError],
      ["payment.payer flipped", (p) => (p.payment.payer = p.payment.payer === 0 ? 1 : 0), WrongPayerError],
      ["payment.ref", (p) => (p.payment.ref = flipNibble(p.payment.ref)), RootMismatchError],
      ["payment.channelId", (p) => (p.payment.channelId = flipNibble(p.payment.channelId)), WrongChannelError],
      ["state.channelId", (p) => (p.state.channelId = flipNibble(p.state.channelId)), WrongChannelError],
      ["state.version - 1", (p) => (p.state.version -= 1n), StaleVersionError],
      ["state.version + 1", (p) => (p.state.version += 1n), InvalidSignatureError],
      ["state.transferred[payer] + 1", (p) => (p.state.transferred = bump(p.state.transferred, p.payment.payer)), TransferMismatchError],
      ["state.transferred[payee] + 1", (p) => (p.state.transferred = bump(p.state.transferred, 1 - p.payment.payer)), TransferMismatchError],
      ["state.paymentsRoot", (p) => (p.state.paymentsRoot = flipNibble(p.state.paymentsRoot)), RootMismatchError],
      ["state.isFinal", (p) => (p.state.isFinal = true), FinalFlagError],
      ["sig", (p) => (p.sig = flipNibble(p.sig, 40)), InvalidSignatureError],
      ["sig v", (p) => (p.sig = `${p.sig.slice(0, 130)}${p.sig.endsWith("1b") ? "1c" : "1b"}` as Hex), InvalidSignatureError],
      ["sig by the payee", (p) => (p.sig = "0x" as Hex), InvalidSignatureError],
    ];
    const bump = (t: readonly [bigint, bigint], i: number): [bigint, bigint] => (i === 0 ? [t[0] + 1n, t[1]] : [t[0], t[1] + 1n]);

    it("any single tampered field of a payment proposal is rejected with its error, and changes nothing", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ payer: fc.constantFrom(0 as const, 1 as const), amount: fc.bigInt({ min: 1n, max: 50n }) }), { maxLength: 8 }),
          fc.constantFrom(0 as const, 1 as const),
          fc.bigInt({ min: 1n, max: 50n }),
          fc.constantFrom(...proposalTampers),
          async (history, payer, amount, [, tamper, type]) => {
            const sides = makePair();
            for (const h of history) await pay(sides, h.payer, h.amount);
            const proposal = await sides[payer].pay(amount, hexOf(Buffer.alloc(32, 3)));
            const before = [view(sides[0]), view(sides[1])];
            const bad = clone(proposal);
            tamper(bad);
            await expectRejected(sides[1 - payer].receivePayment(bad), type);
            expect([view(sides[0]), view(sides[1])]).to.deep.equal(before);
            // The untampered proposal still goes through.
            await sides[payer].receiveAck(await sides[1 - payer].receivePayment(proposal));
            expect(sides[0].latest).to.deep.equal(sides[1].latest);
          },
        ),
        { numRuns: 120 },
      );
    });

    it("a tampered acknowledgement is rejected and leaves the payment pending", async function () {
      const tampers: [string, (a: StateAck) => void, Constructor][] = [
        ["version + 1", (a) => (a.version += 1n), UnexpectedAckError],
        ["version - 1", (a) => (a.version -= 1n), UnexpectedAckError],
        ["sig", (a) => (a.sig = flipNibble(a.sig, 50)), InvalidSignatureError],
        ["payer's own sig", (a) => (a.sig = "0x" as Hex), InvalidSignatureError],
      ];
      for (const [name, tamper, type] of tampers) {
        const sides = makePair();
        await pay(sides, 1, 3n);
        const ack = await sides[1].receivePayment(await sides[0].pay(10n));
        const before = [view(sides[0]), view(sides[1])];
        const bad = clone(ack);
        tamper(bad);
        await expectRejected(sides[0].receiveAck(bad), type);
        expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
        await sides[0].receiveAck(ack);
        expect(sides[0].latest).to.deep.equal(sides[1].latest);
      }
    });

    it("a tampered final proposal is rejected and changes nothing", async function () {
      const tampers: [string, (f: FinalProposal) => void, Constructor][] = [
        ["transferred", (f) => (f.state.transferred = bump(f.state.transferred, 0)), TransferMismatchError],
        ["paymentsRoot", (f) => (f.state.paymentsRoot = flipNibble(f.state.paymentsRoot)), RootMismatchError],
        ["isFinal", (f) => (f.state.isFinal = false), FinalFlagError],
        ["channelId", (f) => (f.state.channelId = flipNibble(f.state.channelId)), WrongChannelError],
        ["version", (f) => (f.state.version = 0n), StaleVersionError],
        ["sig", (f) => (f.sig = flipNibble(f.sig, 10)), InvalidSignatureError],
      ];
      for (const [name, tamper, type] of tampers) {
        const sides = makePair();
        await pay(sides, 0, 12n);
        const final = await sides[0].proposeFinal();
        const before = [view(sides[0]), view(sides[1])];
        const bad = clone(final);
        tamper(bad);
        await expectRejected(sides[1].acceptFinal(bad), type);
        expect([view(sides[0]), view(sides[1])], name).to.deep.equal(before);
      }
    });

    it("malformed input is rejected with the offending path", async function () {
      const sides = makePair();
      const good = encodeMessage(await sides[0].pay(5n)) as unknown as Record<string, Record<string, unknown>>;
      const cases: [unknown, string][] = [
        [null, "message"],
        [{ ...good, kind: "pay" }, "kind"],
        [{ ...good, sig: "0x123" }, "sig"],
        [{ ...good, payment: { ...good.payment, amount: "-1" } }, "payment.amount"],
        [{ ...good, payment: { ...good.payment, amount: "1e3" } }, "payment.amount"],
        [{ ...good, payment: { ...good.payment, amount: (1n << 256n).toString() } }, "payment.amount"],
        [{ ...good, payment: { ...good.payment, payer: 2 } }, "payment.payer"],
        [{ ...good, payment: { ...good.payment, ref: "0x00" } }, "payment.ref"],
        [{ ...good, state: { ...good.state, version: 3 } }, "state.version"],
        [{ ...good, state: { ...good.state, transferred: ["1"] } }, "state.transferred"],
        [{ ...good, state: { ...good.state, isFinal: "false" } }, "state.isFinal"],
        [{ ...good, state: undefined }, "state"],
      ];
      for (const [input, path] of cases) {
        let caught: unknown;
        try {
          await sides[1].receivePayment(input);
        } catch (e) {
          caught = e;
        }
        expect(caught, path).to.be.instanceOf(MalformedMessageError);
        expect((caught as MalformedMessageError).path).to.equal(path);
      }
      expect(sides[1].latest.state.version).to.equal(0n);
    });

    it("messages survive JSON encoding unchanged", function () {
      const sides = makePair([1n << 200n, 0n]);
      return sides[0].pay(123456789012345678901234567890n).then((p) => {
        expect(decodeMessage(JSON.parse(JSON.stringify(encodeMessage(p))))).to.deep.equal(p);
        expect(decodeMessage(p)).to.deep.equal(p);
      });
    });
  });

  describe("versions", function () {
    it("never signs a version twice: crossing proposals conflict, are abandoned, and the next skip their version", async function () {
      const sides = makePair();
      const p0 = await sides[0].pay(1n);
      const p1 = await sides[1].pay(2n);
      expect(p0.state.version).to.equal(p1.state.version);
      await expectRejected(sides[0].receivePayment(p1), ConflictingStateError);
      await expectRejected(sides[1].receivePayment(p0), ConflictingStateError);
      expect(sides[0].abandonPending()?.payment).to.deep.equal(p0.payment);
      sides[1].abandonPending();
      const retry = await sides[0].pay(1n);
      expect(retry.state.version).to.equal(2n);
      await sides[0].receiveAck(await sides[1].receivePayment(retry));
      await pay(sides, 1, 2n);
      expect(sides[0].latest).to.deep.equal(sides[1].latest);
      expect(sides[0].latest.state.version).to.equal(3n);
    });

    it("a replayed or different proposal for a signed version is rejected", async function () {
      const sides = makePair();
      const p = await sides[0].pay(1n);
      await sides[0].receiveAck(await sides[1].receivePayment(p));
      await expectRejected(sides[1].receivePayment(p), StaleVersionError);
    });

    it("nothing is signed after a final state, also while the own final proposal is pending", async function () {
      const sides = makePair();
      await pay(sides, 0, 1n);
      const final = await sides[0].proposeFinal();
      const p = await sides[1].pay(1n).catch((e: unknown) => e);
      expect(p).to.have.property("kind", "payment");
      await expectRejected(sides[0].receivePayment(p), ChannelFinalizedError);
      sides[1].abandonPending();
      await expectRejected(sides[1].acceptFinal(final), ConflictingStateError);
    });
  });

  describe("hooks and restore", function () {
    it("beforeSign sees every state before it is signed; a throwing hook signs nothing", async function () {
      const intents: SignIntent[] = [];
      let fail = true;
      const channels = makePair();
      const sides = [
        new Channel({
          params: PARAMS,
          me: 0,
          signer: KEYS[0],
          chainId: CHAIN_ID,
          adjudicator: ADJUDICATOR,
          deposits: [100n, 100n],
          hooks: {
            beforeSign: async (intent) => {
              if (fail) throw new Error("disk full");
              intents.push(intent);
            },
          },
        }),
        channels[1],
      ] as const;
      sides[1].setDeposits([100n, 100n]);
      const before = view(sides[0]);
      let caught: unknown;
      await sides[0].pay(5n).catch((e: unknown) => (caught = e));
      expect((caught as Error).message).to.equal("disk full");
      expect(view(sides[0])).to.deep.equal(before);
      fail = false;
      await pay(sides, 0, 5n);
      await pay(sides, 1, 2n);
      await close(sides, 1);
      expect(intents.map((i) => [i.kind, i.state.version])).to.deep.equal([
        ["propose-payment", 1n],
        ["countersign-payment", 2n],
        ["countersign-final", 3n],
      ]);
      expect(intents[0].digest).to.equal(hexOf(sides[0].hasher.digest(intents[0].state)));
      const countersigned = intents[1];
      expect(new EcdsaVerifier().verify(KEYS[1].address, sides[0].hasher.digest(countersigned.state), countersigned.peerSig!)).to.equal(true);
      expect(countersigned.payment?.payer).to.equal(1);
    });

    it("a channel rebuilt from its snapshot carries on", async function () {
      const sides = makePair();
      for (let i = 1n; i <= 5n; i++) await pay(sides, i % 2n === 0n ? 1 : 0, i);
      const restored = new Channel({ params: PARAMS, me: 1, signer: KEYS[1], chainId: CHAIN_ID, adjudicator: ADJUDICATOR, restore: sides[1].snapshot() });
      const pair = [sides[0], restored] as const;
      await pay(pair, 0, 3n);
      await pay(pair, 1, 4n);
      expect(pair[0].latest).to.deep.equal(pair[1].latest);
      expect(restored.proof(2).root).to.equal(restored.latest.state.paymentsRoot);
    });

    it("refuses a signer that is not the participant", function () {
      expect(() => new Channel({ params: PARAMS, me: 0, signer: KEYS[1], chainId: CHAIN_ID, adjudicator: ADJUDICATOR })).to.throw(InvalidArgumentError);
    });
  });

  describe("ERC-1271 participant", function () {
    async function fixture() {
      const adjudicator = await ethers.deployContract("Adjudicator");
      const owner = new KeySigner(hexOf(Buffer.alloc(32, 0xc3)));
      const wallet = await ethers.deployContract("ERC1271TestWallet", [owner.address]);
      const walletAddress = (await wallet.getAddress()) as Address;
      const { chainId } = await ethers.provider.getNetwork();
      const address = (await adjudicator.getAddress()) as Address;
      const params: Params = { participants: [KEYS[0].address, walletAddress], asset: ETH, challengePeriod: 60n, nonce: 1n };
      await adjudicator.deposit(paramsValue(params) as never, 0, 100n, { value: 100n });
      await adjudicator.deposit(paramsValue(params) as never, 1, 100n, { value: 100n });
      const walletSigner: StateSigner = { address: walletAddress, sign: (digest) => `${owner.sign(digest)}01` as Hex };
      const common = { params, chainId, adjudicator: address, deposits: [100n, 100n] as const };
      const sides = [
        new Channel({ ...common, me: 0, signer: KEYS[0], verifier: new SignatureCheckerVerifier(ethers.provider) }),
        new Channel({ ...common, me: 1, signer: walletSigner }),
      ] as const;
      return { adjudicator, wallet, params, sides, owner };
    }

    it("a wallet's payments are verified through the chain, and the final state closes on chain", async function () {
      const { adjudicator, wallet, params, sides } = await loadFixture(fixture);
      await pay(sides, 1, 40n);
      await pay(sides, 0, 15n);
      // A plain ECDSA signature by the owner is not the wallet's signature.
      const proposal = await sides[1].pay(1n);
      const forged = clone(proposal);
      forged.sig = forged.sig.slice(0, 132) as Hex;
      await expectRejected(sides[0].receivePayment(forged), InvalidSignatureError);
      await sides[1].receiveAck(await sides[0].receivePayment(proposal));
      await close(sides, 0);
      const { state, sigs } = sides[0].latest;
      const before = await ethers.provider.getBalance(await wallet.getAddress());
      await expect(adjudicator.close(paramsValue(params) as never, stateValue(state) as never, [...sigs])).to.emit(adjudicator, "Closed");
      expect((await ethers.provider.getBalance(await wallet.getAddress())) - before).to.equal(100n - 41n + 15n);
    });
  });
});
