/**
 * The lock messages at the boundary: `updates` proposals and `update-request`s are decoded by the
 * schema (src/schema/peer.ts), which names the first bad field; a good one comes out typed, with
 * lower-case hex, and goes back to the same JSON.
 */
import { expect } from "chai";
import { MAX_PAYMENTS_PER_STATE, decodeMessage, encodeMessage, type ChannelMessage } from "../../src/channel";
import { MalformedMessageError } from "../../src/errors";

const H = `0x${"Ab".repeat(32)}`;
const state = { channelId: H, version: "3", transferred: ["1", "2"], locked: ["5", "0"], locksRoot: H, paymentsRoot: H, isFinal: false };
const lock = { channelId: H, sender: 0, amount: "5", hashlock: H, expiry: "1800000000", ref: H };
const updates = { kind: "updates", updates: [{ op: "lock", lock }, { op: "unlock", lock, secret: H, request: "4" }], state, sig: "0xab" };
const request = { kind: "update-request", id: "7", update: { op: "lock", amount: "5", hashlock: H, expiry: "1800000000", ref: H } };

function refusal(input: unknown): MalformedMessageError {
  try {
    decodeMessage(input);
  } catch (error) {
    expect(error).to.be.instanceOf(MalformedMessageError);
    return error as MalformedMessageError;
  }
  throw new Error("decoded a malformed message");
}

describe("channel: lock messages at the boundary", function () {
  const rows: [string, unknown, string][] = [
    ["an unknown op", { ...updates, updates: [{ op: "steal", lock }] }, "updates[0].op"],
    ["a lock sender other than 0 or 1", { ...updates, updates: [{ op: "lock", lock: { ...lock, sender: 2 } }] }, "updates[0].lock.sender"],
    ["an unlock without its secret", { ...updates, updates: [{ op: "unlock", lock }] }, "updates[0].secret"],
    ["a negative lock amount", { ...updates, updates: [{ op: "cancel", lock: { ...lock, amount: "-1" } }] }, "updates[0].lock.amount"],
    ["an expiry beyond uint64", { ...updates, updates: [{ op: "expire", lock: { ...lock, expiry: (1n << 64n).toString() } }] }, "updates[0].lock.expiry"],
    ["no updates", { ...updates, updates: [] }, "updates"],
    [`more than ${MAX_PAYMENTS_PER_STATE} updates`, { ...updates, updates: Array.from({ length: MAX_PAYMENTS_PER_STATE + 1 }, () => ({ op: "lock", lock })) }, "updates"],
    ["a request for a lock without its hashlock", { ...request, update: { op: "lock", amount: "5", expiry: "1", ref: H } }, "update.hashlock"],
    ["a request to unlock with a 31-byte secret", { ...request, update: { op: "unlock", leaf: H, secret: `0x${"ab".repeat(31)}` } }, "update.secret"],
    ["a request without an id", { kind: "update-request", update: request.update }, "id"],
  ];
  for (const [what, input, path] of rows) {
    it(`refuses ${what}, naming ${path}`, function () {
      expect(refusal(input).path).to.equal(path);
    });
  }

  it("decodes both messages typed, with lower-case hex, and encodes them back to the same JSON", function () {
    for (const json of [updates, request]) {
      const message: ChannelMessage = decodeMessage(json);
      const lower = JSON.parse(JSON.stringify(json).replaceAll(H, H.toLowerCase())) as unknown;
      expect(encodeMessage(message)).to.deep.equal(lower);
    }
    const typed = decodeMessage(updates);
    expect(typed.kind === "updates" && typed.updates[1]).to.deep.equal({
      op: "unlock",
      lock: { channelId: H.toLowerCase(), sender: 0, amount: 5n, hashlock: H.toLowerCase(), expiry: 1_800_000_000n, ref: H.toLowerCase() },
      secret: H.toLowerCase(),
      request: 4n,
    });
  });
});
