/**
 * A node's own payments by ref (OwnPayments) and the filter that spares the store a read for a
 * ref never paid with (RefFilter): no ref that was added is ever missed.
 */
import { expect } from "chai";
import { OwnPayments, PaymentRefConflictError, type DonePayment } from "../../src/node/ownPayments";
import { RefFilter } from "../../src/node/refFilter";
import { ZERO_HASH, type Hex } from "../../src/types";

const CID: Hex = `0x${"c1".repeat(32)}`;
const refOf = (i: number): Hex => `0x${i.toString(16).padStart(64, "0")}`;
/** Refs that look like hashes (every digit used), from a small PRNG. */
function randomRefs(n: number, seed: number): Hex[] {
  let x = seed;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x.toString(16).padStart(8, "0"));
  return Array.from({ length: n }, (): Hex => `0x${Array.from({ length: 8 }, next).join("")}`);
}

describe("RefFilter", function () {
  it("finds every ref added (in either case of its hex digits), past several growths, and says no to almost every other", function () {
    const filter = new RefFilter();
    const added = [...randomRefs(20_000, 1), ...Array.from({ length: 5_000 }, (_, i) => refOf(i + 1))];
    for (const ref of added) filter.add(ref);
    expect(filter.size).to.equal(added.length);
    expect(added.filter((ref) => !filter.mightHave(ref))).to.deep.equal([]);
    expect(added.filter((ref) => !filter.mightHave(`0x${ref.slice(2).toUpperCase()}`))).to.deep.equal([]);
    const others = [...randomRefs(20_000, 2), ...Array.from({ length: 5_000 }, (_, i) => refOf(i + 10_000_000))];
    const falsePositives = others.filter((ref) => filter.mightHave(ref)).length;
    expect(falsePositives / others.length).to.be.below(0.01);
  });

  it("holds nothing when empty", function () {
    const filter = new RefFilter();
    expect(randomRefs(1_000, 3).some((ref) => filter.mightHave(ref))).to.equal(false);
  });
});

describe("OwnPayments", function () {
  const done = (ref: Hex, amount: bigint): DonePayment => ({ payment: { channelId: CID, seq: 4n, payer: 0, amount, ref }, version: 9n, committedAt: 1_000 });

  it("asks the store only for a ref it was told is stored, and replays what the store has", async function () {
    const asked: Hex[] = [];
    const stored = new Map<Hex, DonePayment>();
    const own = new OwnPayments(CID, (ref) => {
      asked.push(ref);
      return stored.get(ref);
    });
    let sent = 0;
    const send = (ref: Hex, amount: bigint) => async () => {
      sent++;
      return done(ref, amount);
    };
    // A new ref: paid, and the store is not read.
    await own.pay(5n, refOf(1), undefined, send(refOf(1), 5n));
    expect(asked).to.deep.equal([]);
    // Stored before this process started (the session adds the refs it reads from the store).
    stored.set(refOf(2), done(refOf(2), 7n));
    own.committedRef(refOf(2));
    expect(await own.pay(7n, refOf(2), undefined, send(refOf(2), 7n))).to.deep.include({ replayed: true, version: 9n });
    expect(asked).to.deep.equal([refOf(2)]);
    const conflict = await own.pay(8n, refOf(2), undefined, send(refOf(2), 8n)).catch((error: unknown) => error);
    expect(conflict).to.be.instanceOf(PaymentRefConflictError);
    expect(sent).to.equal(1);
    // The zero ref names no payment: never looked up, always paid.
    own.committedRef(ZERO_HASH);
    await own.pay(1n, ZERO_HASH, undefined, send(ZERO_HASH, 1n));
    expect(asked).to.deep.equal([refOf(2), refOf(2)]);
    expect(sent).to.equal(2);
  });
});
