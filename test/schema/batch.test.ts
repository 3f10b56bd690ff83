/**
 * The batch proposal (up to 128 payments, the hot peer message) is decoded by a hand-tuned decoder
 * (channel/messages.ts) instead of its zod schema (src/schema/peer.ts), which costs about three
 * times as much (scripts/bench/decode.ts). Both must agree on every input: the same value for a
 * valid one, a refusal naming the same field for an invalid one.
 */
import { expect } from "chai";
import fc from "fast-check";
import { decodeBatchProposal, malformed } from "../../src/channel/messages";
import { MalformedMessageError } from "../../src/errors";
import { decodeWith } from "../../src/schema/decode";
import { batchProposal } from "../../src/schema/peer";
import { MAX_UINT256, MAX_UINT64 } from "../../src/schema/primitives";

type Outcome = { ok: true; value: unknown } | { ok: false; path: string };

function outcome(decode: (input: unknown) => unknown, input: unknown): Outcome {
  try {
    return { ok: true, value: decode(input) };
  } catch (error) {
    expect(error).to.be.instanceOf(MalformedMessageError);
    return { ok: false, path: (error as MalformedMessageError).path };
  }
}

const bySchema = (input: unknown) => decodeWith(batchProposal, input, malformed);

const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).chain((b) =>
    fc.constantFrom(`0x${Buffer.from(b).toString("hex")}`, `0x${Buffer.from(b).toString("hex").toUpperCase()}`),
  );
const uint = (max: bigint) => fc.bigInt({ min: 0n, max }).chain((n) => fc.constantFrom<unknown>(n.toString(), n));
const paymentArb = fc.record({ channelId: hex(32), seq: uint(MAX_UINT64), payer: fc.constantFrom(0, 1), amount: uint(MAX_UINT256), ref: hex(32) });
const stateArb = fc.record({
  channelId: hex(32),
  version: uint(MAX_UINT64),
  transferred: fc.tuple(uint(MAX_UINT256), uint(MAX_UINT256)),
  locked: fc.tuple(uint(MAX_UINT256), uint(MAX_UINT256)),
  locksRoot: hex(32),
  paymentsRoot: hex(32),
  isFinal: fc.boolean(),
});
const proposalArb = fc.record({
  kind: fc.constant("payments"),
  payments: fc.array(fc.record({ payment: paymentArb, request: uint(MAX_UINT64) }, { requiredKeys: ["payment"] }), {
    minLength: 1,
    maxLength: 6,
  }),
  state: stateArb,
  sig: fc.integer({ min: 0, max: 70 }).chain(hex),
});

/** Values a field must refuse, or (some of them) accept where the type allows. */
const junk = fc.constantFrom<unknown>(
  undefined, null, 0, 1, 2, -1, 1.5, true, "", "x", "0x", "0x1", "-1", "01", "1e3", " 1", [], ["1"], ["1", "2", "3"], {},
  (1n << 64n).toString(), (1n << 256n).toString(), -1n, 1n << 256n, `0x${"g".repeat(64)}`, `0x${"a".repeat(63)}`, `0x${"a".repeat(8194)}`,
);

/** `value` with the thing at `path` replaced (or deleted, for undefined). */
function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  if (typeof value !== "object" || value === null) return value;
  const copy = (Array.isArray(value) ? [...(value as unknown[])] : { ...(value) }) as Record<string | number, unknown>;
  const next = replaceAt(copy[key], rest, replacement);
  if (next === undefined && !Array.isArray(copy)) delete copy[key];
  else copy[key] = next;
  return copy;
}

/** Every path into a JSON-like value (objects and arrays), the root included. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, Array.isArray(value) ? Number(k) : k]));
  }
  return out;
}

describe("schema: the hand-tuned batch proposal decoder agrees with the schema", function () {
  it("on valid proposals: the same value, addresses and hex lower-cased, amounts as bigint", function () {
    fc.assert(
      fc.property(proposalArb, (input) => {
        const schema = outcome(bySchema, input);
        const hand = outcome(decodeBatchProposal, input);
        expect(schema.ok).to.equal(true);
        expect(hand).to.deep.equal(schema);
        const value = (hand as { value: { state: { channelId: string; version: unknown } } }).value;
        expect(value.state.channelId).to.equal(value.state.channelId.toLowerCase());
        expect(typeof value.state.version).to.equal("bigint");
      }),
      { numRuns: 300 },
    );
  });

  it("on proposals with one field replaced by junk: both accept the same, or both refuse naming the same field", function () {
    fc.assert(
      fc.property(
        proposalArb.chain((p) => fc.tuple(fc.constant(p), fc.constantFrom(...paths(p)), junk)),
        ([input, path, value]) => {
          const bad = replaceAt(input, path, value);
          const schema = outcome(bySchema, bad);
          const hand = outcome(decodeBatchProposal, bad);
          expect(hand, `${path.join(".")} = ${String(value)}`).to.deep.equal(schema);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("on the payments array's bounds: empty and 129 are refused at payments, 128 accepted", function () {
    const one = fc.sample(proposalArb, { numRuns: 1, seed: 7 })[0];
    for (const count of [0, 128, 129]) {
      const input = { ...one, payments: Array.from({ length: count }, () => one.payments[0]) };
      const schema = outcome(bySchema, input);
      expect(outcome(decodeBatchProposal, input)).to.deep.equal(schema);
      expect(schema.ok, String(count)).to.equal(count === 128);
      if (!schema.ok) expect(schema.path).to.equal("payments");
    }
  });
});
