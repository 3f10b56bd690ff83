/**
 * The decode of a 128-payment batch proposal (the hot peer message), from its JSON text's parsed
 * form: the zod schema against the hand-tuned decoder channel/messages.ts uses, and the transport's
 * path (the hand-tuned decoder, then the result frozen and marked decoded). Median of repeated
 * runs, µs per message and per payment. LEGACY=<path of a copy of ad49cdb's messages.ts> adds the
 * decoder before the schema module.
 *
 *   npx ts-node --transpile-only scripts/bench/decode.ts
 */
import { performance } from "node:perf_hooks";
import { decodeBatchProposal, decodeMessage, decodeTrustedMessage, malformed } from "../../src/channel/messages";
import { decodeWith } from "../../src/schema/decode";
import { batchProposal } from "../../src/schema/peer";

const PAYMENTS = 128;
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

export function sampleBatch(payments = PAYMENTS): unknown {
  const channelId = hex32(0xc0ffee);
  return {
    kind: "payments",
    payments: Array.from({ length: payments }, (_, i) => ({
      payment: { channelId, seq: String(1000 + i), payer: i % 2, amount: String(1_000_000_000_000n + BigInt(i)), ref: hex32(i) },
      ...(i % 2 === 1 ? { request: String(500 + i) } : {}),
    })),
    state: { channelId, version: "4242", transferred: ["123456789000000", "98765432100000"], locked: ["0", "0"], locksRoot: hex32(0), paymentsRoot: hex32(77), isFinal: false },
    sig: `0x${"ab".repeat(65)}`,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median µs per decode over `runs` runs of `batch` decodes each (fresh JSON per decode, as off the wire). */
function measure(decode: (input: unknown) => unknown, message: unknown = sampleBatch(), runs = 31, batch = 200): number {
  const text = JSON.stringify(message);
  const inputs = Array.from({ length: batch }, () => JSON.parse(text) as unknown);
  for (const input of inputs) decode(input); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const fresh = Array.from({ length: batch }, () => JSON.parse(text) as unknown);
    const start = performance.now();
    for (const input of fresh) decode(input);
    times.push(((performance.now() - start) * 1000) / batch);
  }
  return median(times);
}

const candidates: [string, (input: unknown) => unknown][] = [
  ["zod schema", (input) => decodeWith(batchProposal, input, malformed)],
  ["hand-tuned decoder", decodeBatchProposal],
  ["transport path", decodeTrustedMessage],
];
if (process.env.LEGACY) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const legacy = require(process.env.LEGACY) as { decodeMessage: (input: unknown) => unknown };
  candidates.push(["before (ad49cdb)", legacy.decodeMessage]);
}
const single = sampleBatch(1) as { payments: { payment: unknown }[]; state: unknown; sig: string };
const proposal = { kind: "payment", payment: single.payments[0].payment, state: single.state, sig: single.sig };
console.log(`single-payment proposal (decodeMessage, zod): ${measure(decodeMessage, proposal).toFixed(2)} µs`);
for (const [name, decode] of candidates) {
  const us = measure(decode);
  console.log(`${name.padEnd(20)} ${us.toFixed(1).padStart(7)} µs per ${PAYMENTS}-payment proposal, ${(us / PAYMENTS).toFixed(2)} µs per payment`);
}
