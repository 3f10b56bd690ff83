/**
 * Every trust boundary decodes through src/schema: a refusal names the offending field by its
 * path, addresses and hex come out lower-cased, bigints as bigint; the node's settings mean the
 * same in the config file and as flags.
 */
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { durationArg } from "../../src/cli/commands";
import { UsageError } from "../../src/cli/errors";
import { main } from "../../src/cli/main";
import { decodeMessage, decodeTrustedMessage, encodeMessage, type BatchProposal } from "../../src/channel/messages";
import { MalformedMessageError } from "../../src/errors";
import { channelView, proofView, WireFormatError } from "../../src/node/api/wire";
import { decodeOpenReply, decodeSyncReply, peerValidators } from "../../src/node/protocol";
import { lockRulesOf, startNode, NodeConfigError } from "../../src/node/start";
import * as codec from "../../src/node/store/codec";
import { InvalidRecordError } from "../../src/node/store/errors";
import { nodeSettings } from "../../src/schema/config";
import { decodeWith } from "../../src/schema/decode";
import { MAX_UINT64 } from "../../src/schema/primitives";

const A = "0x70997970C51812dc3A010C7d01b50e0D17dc79C8";
const B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const H = `0x${"Ab".repeat(32)}`;

/** The error `call` throws (chai's `throw` can't look into a property path). */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a throw");
}

const state = { channelId: H, version: "3", transferred: ["1", "2"], locked: ["0", "0"], locksRoot: H, paymentsRoot: H, isFinal: false };
const payment = { channelId: H, seq: "1", payer: 0, amount: "5", ref: H };

describe("schema: every boundary names the offending field", function () {
  describe("peer messages and node protocol bodies", function () {
    const body = (type: keyof typeof peerValidators, value: unknown) => thrown(() => peerValidators[type](value)) as MalformedMessageError;
    const terms = { participants: [A, B], payee: A, asset: B, challengePeriod: "60", nonce: "1" };
    const rows: [keyof typeof peerValidators, unknown, string, RegExp][] = [
      ["open", { params: { ...terms, participants: [A, "0x12"] } }, "body.params.participants[1]", /20-byte address/],
      ["open", { params: { ...terms, challengePeriod: (MAX_UINT64 + 1n).toString() } }, "body.params.challengePeriod", /out of range/],
      ["open", { params: { ...terms, nonce: 1 } }, "body.params.nonce", /JSON number/],
      ["open", { params: terms, extra: 1 }, "body.extra", /unknown field/],
      ["sync", { channelId: H, version: "-1" }, "body.version", /uint64/],
      ["sync", { channelId: H }, "body.version", /missing/],
      ["refresh", { channelId: "0x1234" }, "body.channelId", /32 bytes/],
      ["channel", { channelId: "0x1234", message: {} }, "body.channelId", /32 bytes/],
      ["channel", { channelId: H, message: { kind: "final", state: { ...state, locked: ["0"] }, sig: "0x" } }, "state.locked", /2 items/],
      ["channel", { channelId: H, message: { kind: "payments", payments: [{ payment: { ...payment, payer: 2 } }], state, sig: "0x" } }, "payments[0].payment.payer", /0 or 1/],
      ["withdrawals", null, "body", /expected an object, got null/],
    ];
    for (const [type, value, field, problem] of rows) {
      it(`${type}: ${field}`, function () {
        const error = body(type, value);
        expect(error).to.be.instanceOf(MalformedMessageError);
        expect(error.path).to.equal(field);
        expect(error.message).to.match(problem);
      });
    }

    it("replies: the sync page and the open answer", function () {
      const items = Array.from({ length: 65 }, () => ({ signed: { state, sigs: ["0x", "0x"] }, payments: [] }));
      expect((thrown(() => decodeSyncReply({ items, more: false })) as MalformedMessageError).path).to.equal("reply.items");
      const bad = thrown(() => decodeSyncReply({ items: [{ signed: { state, sigs: ["0x"] }, payments: [payment] }], more: false }));
      expect((bad as MalformedMessageError).path).to.equal("reply.items[0].signed.sigs");
      expect((thrown(() => decodeOpenReply({ payee: A })) as MalformedMessageError).path).to.equal("reply.channelId");
    });

    it("addresses and hex come out lower-cased, numbers as bigint", function () {
      const { params } = peerValidators.open({ params: { participants: [A, B], payee: A, asset: B, challengePeriod: "60", nonce: "1" } });
      expect(params).to.deep.equal({ participants: [A.toLowerCase(), B.toLowerCase()], payee: A.toLowerCase(), asset: B.toLowerCase(), challengePeriod: 60n, nonce: 1n });
      expect(decodeOpenReply({ payee: B, channelId: H })).to.deep.equal({ payee: B.toLowerCase(), channelId: H.toLowerCase() });
    });

    it("a message the transport decoded is frozen and taken as is by the channel; any other is decoded again", function () {
      const json = { kind: "payments", payments: [{ payment }, { payment: { ...payment, seq: "2" }, request: "7" }], state, sig: "0xAB" };
      const { message } = peerValidators.channel({ channelId: H, message: json });
      expect(Object.isFrozen(message) && Object.isFrozen((message as BatchProposal).payments[1].payment)).to.equal(true);
      expect(decodeMessage(message)).to.equal(message);
      expect(decodeTrustedMessage(json)).to.deep.equal(message);
      const typed = decodeMessage(json);
      expect(typed).to.deep.equal(message);
      expect(decodeMessage(typed)).to.not.equal(typed);
      expect(encodeMessage(message)).to.deep.equal({ ...json, sig: "0xab", state: { ...state, channelId: H.toLowerCase(), locksRoot: H.toLowerCase(), paymentsRoot: H.toLowerCase() }, payments: json.payments.map((p) => ({ ...p, payment: { ...p.payment, channelId: H.toLowerCase(), ref: H.toLowerCase() } })) });
    });
  });

  describe("HTTP API views (what the client accepts from a node)", function () {
    const view = {
      channelId: H, participants: [A, B], payees: [A, B], asset: B, challengePeriod: "60", nonce: "1", me: 0, status: "open",
      deposits: ["1", "2"], withdrawn: ["0", "0"], withdrawals: [], version: "3", transferred: ["0", "1"], balances: ["1", "1"], locked: ["0", "0"], payments: "1",
    };
    it("decodes a view with lower-cased addresses and bigints, and encodes it back", function () {
      const decoded = channelView.decode(view, "");
      expect(decoded.participants).to.deep.equal([A.toLowerCase(), B.toLowerCase()]);
      expect(decoded.deposits).to.deep.equal([1n, 2n]);
      const lower = [A.toLowerCase(), B.toLowerCase()];
      expect(channelView.encode(decoded)).to.deep.equal({ ...view, channelId: H.toLowerCase(), participants: lower, payees: lower, asset: B.toLowerCase() });
      expect(channelView.encode(decoded)).to.not.have.property("deadline");
    });
    const rows: [() => unknown, string, RegExp][] = [
      [() => channelView.decode({ ...view, participants: [A, "0x"] }, ""), "participants[1]", /address/],
      [() => channelView.decode({ ...view, status: "gone" }, ""), "status", /one of "opening"/],
      [() => channelView.decode({ ...view, me: 2 }, ""), "me", /0 or 1/],
      [() => channelView.decode({ ...view, deadline: 5 }, ""), "deadline", /decimal string/],
      [() => proofView.decode({ payment: { channelId: H, seq: "x" } }, "reply"), "reply.payment.seq", /uint64/],
    ];
    for (const [call, field, problem] of rows) {
      it(`names ${field}`, function () {
        const error = thrown(call) as WireFormatError;
        expect(error).to.be.instanceOf(WireFormatError);
        expect(error.field).to.equal(field);
        expect(error.message.startsWith(field)).to.equal(true);
        expect(error.message).to.match(problem);
      });
    }
  });

  describe("store records", function () {
    it("the column checks name the field and lower-case hex", function () {
      expect(codec.bytes32(H, "state.channelId")).to.equal(H.toLowerCase());
      expect(codec.address(A, "params.asset")).to.equal(A.toLowerCase());
      const error = thrown(() => codec.signature("0xabc", "sig0", false)) as InvalidRecordError;
      expect([error.constructor, error.field]).to.deep.equal([InvalidRecordError, "sig0"]);
      expect((thrown(() => codec.signature("0x", "sig1", false)) as InvalidRecordError).problem).to.equal("empty signature");
      expect((thrown(() => codec.uint64Key(MAX_UINT64 + 1n, "version")) as InvalidRecordError).field).to.equal("version");
    });
  });

  describe("node settings: the config file and the flags", function () {
    let dir: string;
    before(async function () {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-schema-"));
    });
    after(async function () {
      await fs.rm(dir, { recursive: true, force: true });
    });

    async function startWith(config: unknown): Promise<Error> {
      const file = path.join(dir, "sluice.json");
      await fs.writeFile(file, JSON.stringify(config));
      return startNode({ datadir: path.join(dir, "data"), config: file, log: () => undefined }).then(
        () => {
          throw new Error("the node started");
        },
        (error: unknown) => error as Error,
      );
    }

    const refused: [unknown, RegExp][] = [
      [{ apiPort: "abc" }, /"apiPort": expected a whole number from 0 to 65535, got the string "abc"/],
      [{ apiPort: 70000 }, /"apiPort": expected a whole number from 0 to 65535/],
      [{ pollMs: -5 }, /"pollMs": expected a whole number from 10 to/],
      [{ challengePeriod: "soon" }, /"challengePeriod": expected a positive number of seconds/],
      [{ withdrawalWindow: 0 }, /"withdrawalWindow": expected a positive number of seconds/],
      [{ listen: "nowhere" }, /"listen": give host:port/],
      [{ payee: `0x${"0".repeat(40)}` }, /"payee": the zero address/],
      [{ adjudicator: "0x12" }, /"adjudicator": expected a 20-byte address/],
      [{ rpc: "localhost" }, /"rpc": give the JSON-RPC URL/],
      [{ maxPendingLocks: 0 }, /"maxPendingLocks": expected a whole number from 1 to 100000/],
      [{ maxLockedValue: "-1" }, /"maxLockedValue": /],
      [{ lockWindow: "soon" }, /"lockWindow": expected a positive number of seconds/],
      [{ fee: 1 }, /"fee": unknown field \(known: listen, apiPort/],
      [[1], /expected a JSON object/],
    ];
    for (const [config, message] of refused) {
      it(`refuses ${JSON.stringify(config)} before starting anything`, async function () {
        const error = await startWith(config);
        expect(error).to.be.instanceOf(NodeConfigError);
        expect(error.message).to.match(message);
        expect(error.message).to.contain(path.join(dir, "sluice.json"));
        await fs.access(path.join(dir, "data")).then(
          () => expect.fail("the data directory was created"),
          () => undefined,
        );
      });
    }

    it("a flag is refused as the file's setting is: --api-port abc names the flag", async function () {
      let stderr = "";
      const code = await main(["node", "start", "--api-port", "abc", "--datadir", path.join(dir, "data")], {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        stderrIsTTY: false,
        env: {},
        cwd: dir,
        loadStartNode: () => () => expect.fail("started"),
      });
      expect(code).to.equal(2);
      expect(stderr).to.match(/--api-port "abc": expected a whole number from 0 to 65535/);
    });

    it("the lock caps as flags are checked as in the file: --max-pending-locks abc and --max-locked-value 1.5 are refused, naming each, before anything starts", async function () {
      for (const [flags, message] of [
        [{ maxPendingLocks: "abc" }, /maxPendingLocks "abc": expected a whole number from 1 to 100000/],
        [{ maxLockedValue: "1.5" }, /maxLockedValue "1.5": /],
      ] as const) {
        const error = await startNode({ datadir: path.join(dir, "data"), ...flags, log: () => undefined }).then(
          () => expect.fail("the node started"),
          (e: unknown) => e as Error,
        );
        expect(error).to.be.instanceOf(NodeConfigError);
        expect(error.message).to.match(message);
        await fs.access(path.join(dir, "data")).then(
          () => expect.fail("the data directory was created"),
          () => undefined,
        );
      }
    });

    it("the routing and lock flags reach startNode as given, for its schema to check", async function () {
      let given: Record<string, unknown> | undefined;
      const flags = ["--fee-base", "5", "--fee-ppm", "7", "--lock-window", "2h", "--max-lock-duration", "2d", "--max-pending-locks", "9", "--max-locked-value", "1000"];
      const code = await main(["node", "start", "--hub", ...flags, "--datadir", path.join(dir, "data")], {
        stdout: () => undefined,
        stderr: () => undefined,
        stderrIsTTY: false,
        env: {},
        cwd: dir,
        loadStartNode: () => (options) => {
          given = options as unknown as Record<string, unknown>;
          return Promise.resolve(undefined);
        },
      });
      expect(code).to.equal(0);
      expect(given).to.deep.include({ hub: true, feeBase: "5", feePpm: "7", lockWindow: "2h", maxLockDuration: "2d", maxPendingLocks: "9", maxLockedValue: "1000" });
    });

    it("refuses a longest lock shorter than the reveal window, naming both, before anything starts", async function () {
      const error = await startWith({ adjudicator: `0x${"1".repeat(40)}`, lockWindow: "2h", maxLockDuration: "1h" });
      expect(error).to.be.instanceOf(NodeConfigError);
      expect(error.message).to.match(/maxLockDuration \(3600 s\) is shorter than lockWindow \(7200 s\)/);
      await fs.access(path.join(dir, "data")).then(
        () => expect.fail("the data directory was created"),
        () => undefined,
      );
    });

    it("the lock rules given reach the node's options as seconds, numbers and base units; none given, none set (the defaults hold)", function () {
      const settings = (given: Record<string, unknown>) => decodeWith(nodeSettings, given, (p, problem) => new Error(`${p}: ${problem}`));
      expect(lockRulesOf(settings({ maxPendingLocks: "7", maxLockedValue: "1000" }))).to.deep.equal({ maxPendingLocks: 7, maxLockedValue: 1000n });
      expect(lockRulesOf(settings({ lockWindow: "2h", maxLockDuration: "1d" }))).to.deep.equal({ minLockWindow: 7200n, maxLockDuration: 86400n });
      expect(lockRulesOf(settings({ maxPendingLocks: 12 }))).to.deep.equal({ maxPendingLocks: 12 });
      expect(lockRulesOf(settings({}))).to.deep.equal({});
    });

    it("durations: the same syntax as a flag and in the file", function () {
      const file = (value: unknown) => decodeWith(nodeSettings, { challengePeriod: value }, (p, problem) => new Error(`${p}: ${problem}`)).challengePeriod;
      for (const [text, seconds] of [["3600", 3600n], ["90s", 90n], ["30m", 1800n], ["30min", 1800n], ["24h", 86400n], ["1d", 86400n], [" 2d ", 172800n]] as const) {
        expect(durationArg(text), text).to.equal(seconds);
        expect(file(text), text).to.equal(seconds);
      }
      expect(file(3600)).to.equal(3600n);
      for (const text of ["soon", "0", "-1", "1w", "1.5h", "", `${MAX_UINT64}d`]) {
        expect(() => durationArg(text), text).to.throw(UsageError, /--challenge-period/);
        expect(() => file(text), text).to.throw(/challengePeriod: /);
      }
    });
  });
});
