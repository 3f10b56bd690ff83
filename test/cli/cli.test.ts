/**
 * The `sluice` command line against an in-memory node served by the real HTTP API: the amount
 * parser and argument checks in-process, every subcommand through `main()` in-process (human and
 * `--json` output, exit codes, hints), and the real binary (`node bin/sluice.js`) as a child
 * process for a round of commands, the progress line and the failure modes.
 */
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { keccak256, toUtf8Bytes } from "ethers";
import { AmountError, formatAmount, parseAmount, parseRef } from "../../src/cli/amount";
import { durationArg } from "../../src/cli/commands";
import { UsageError } from "../../src/cli/errors";
import { main, type CliIo, type NodeStartOptions } from "../../src/cli/main";
import { startLocalApi, type ApiServer } from "../../src/node/api";
import type { AssetInfo } from "../../src/node/api/types";
import { OpenPeerRejectedError, OpenPeerUnreachableError } from "../../src/node/open";
import { ETH, type Hex } from "../../src/types";
import { ASSETS, FakeNode, MAX_UINT256, ME, PEER, USDC } from "./fakeNode";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "bin", "sluice.js");
const usdc = ASSETS.find((a) => a.symbol === "USDC")!;
const eth = ASSETS.find((a) => a.symbol === "ETH")!;
const big = ASSETS.find((a) => a.symbol === "BIG")!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `main()` in this process, with captured output. */
async function run(args: string[], options: { cwd: string; env?: Record<string, string>; io?: Partial<CliIo> }): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stderrIsTTY: false,
    env: options.env ?? {},
    cwd: options.cwd,
    ...options.io,
  });
  return { code, stdout, stderr };
}

/** The real binary as a child process. */
function spawnCli(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, SLUICE_DATADIR: "" }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        reject(new Error(error.message, { cause: error }));
        return;
      }
      resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
    });
  });
}

function json<T = Record<string, unknown>>(r: Run): T {
  return JSON.parse(r.stdout) as T;
}

describe("sluice CLI", function () {
  describe("amounts", function () {
    // text, asset, base units or the error pattern
    const rows: [string, AssetInfo, bigint | RegExp][] = [
      ["100 USDC", usdc, 100_000_000n],
      ["100", usdc, 100_000_000n],
      ["100usdc", usdc, 100_000_000n],
      ["  0.000001 USDC ", usdc, 1n],
      ["1.500000 USDC", usdc, 1_500_000n],
      ["1.0000000 USDC", usdc, 1_000_000n],
      ["0.5 ETH", eth, 500_000_000_000_000_000n],
      ["0.000000000000000001 ETH", eth, 1n],
      ["0.1234567891234567891 ETH", eth, /too many decimals: ETH has 18 decimals/],
      ["0.123456789123456789 ETH", eth, 123_456_789_123_456_789n],
      [MAX_UINT256.toString(), big, MAX_UINT256],
      [`${MAX_UINT256 + 1n} BIG`, big, /more than any balance/],
      ["1.5 BIG", big, /BIG has none/],
      ["1.0000001 USDC", usdc, /too many decimals: USDC has 6 decimals/],
      ["100 ETH", usdc, /amounts here are in USDC/],
      ["100 DAI", eth, /amounts here are in ETH/],
      ["-5 USDC", usdc, /can't be negative/],
      ["-0.1", eth, /can't be negative/],
      ["abc", usdc, /not an amount/],
      ["1,000 USDC", usdc, /not an amount/],
      ["1e6", usdc, /no signs, commas or exponents/],
      ["0x10", usdc, /not an amount/],
      [".5", usdc, /not an amount/],
      ["1.2.3", usdc, /not an amount/],
      ["100 US DC", usdc, /not an amount/],
      ["", usdc, /missing amount/],
      ["0", usdc, /more than zero/],
      ["0.000 USDC", usdc, /more than zero/],
    ];
    for (const [text, asset, expected] of rows) {
      it(`${JSON.stringify(text)} in ${asset.symbol} → ${expected instanceof RegExp ? `error ${expected.source}` : `${expected}n`}`, function () {
        if (expected instanceof RegExp) {
          expect(() => parseAmount(text, asset)).to.throw(AmountError, expected);
        } else {
          expect(parseAmount(text, asset)).to.equal(expected);
        }
      });
    }

    it("prints amounts with their unit, exactly", function () {
      expect(formatAmount(100_000_000n, usdc)).to.equal("100 USDC");
      expect(formatAmount(1_500_000n, usdc)).to.equal("1.5 USDC");
      expect(formatAmount(1n, eth)).to.equal("0.000000000000000001 ETH");
      expect(formatAmount(MAX_UINT256, big)).to.equal(`${MAX_UINT256} BIG`);
      for (const value of [1n, 999_999n, 10n ** 30n + 7n]) expect(parseAmount(formatAmount(value, usdc), usdc)).to.equal(value);
    });

    it("refs: 32-byte hex as is, other text hashed, short hex refused", function () {
      const hex = `0x${"Ab".repeat(32)}`;
      expect(parseRef(hex)).to.equal(hex.toLowerCase());
      expect(parseRef("order-123")).to.equal(keccak256(toUtf8Bytes("order-123")));
      expect(parseRef("заказ 7")).to.equal(keccak256(toUtf8Bytes("заказ 7")));
      expect(() => parseRef("0x1234")).to.throw(UsageError, /not 32 bytes/);
      expect(() => parseRef("")).to.throw(UsageError, /empty/);
    });

    it("challenge periods in seconds or with a unit", function () {
      expect(durationArg("3600")).to.equal(3600n);
      expect(durationArg("30m")).to.equal(1800n);
      expect(durationArg("1d")).to.equal(86_400n);
      expect(() => durationArg("0")).to.throw(UsageError);
      expect(() => durationArg("1 week")).to.throw(UsageError);
    });
  });

  describe("commands (in-process)", function () {
    let dir: string;
    let fake: FakeNode;
    let api: ApiServer;
    let channelId: Hex;

    beforeEach(async function () {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-cli-"));
      fake = new FakeNode();
      fake.peerDeposit = 5_000_000n;
      api = await startLocalApi({ api: fake, datadir: path.join(dir, ".sluice") });
      channelId = (await fake.openChannel({ peer: PEER, peerUrl: "ws://127.0.0.1:9736", asset: USDC, deposit: 100_000_000n })).channelId;
      fake.calls.length = 0;
    });

    afterEach(async function () {
      await api.close();
      await fs.rm(dir, { recursive: true, force: true });
    });

    it("status: human and --json; the default data directory is ./.sluice", async function () {
      const human = await run(["status"], { cwd: dir });
      expect(human.code).to.equal(0);
      expect(human.stdout).to.match(/node\s+0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266/);
      expect(human.stdout).to.match(/chain id\s+31337/);
      const machine = await run(["--json", "status"], { cwd: dir });
      expect(json(machine)).to.deep.include({ chainId: "31337", channels: 1, api: api.url });
    });

    it("--datadir and $SLUICE_DATADIR choose the data directory", async function () {
      const elsewhere = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-cwd-"));
      try {
        expect((await run(["status", "--datadir", path.join(dir, ".sluice")], { cwd: elsewhere })).code).to.equal(0);
        expect((await run(["status"], { cwd: elsewhere, env: { SLUICE_DATADIR: path.join(dir, ".sluice") } })).code).to.equal(0);
        const none = await run(["status"], { cwd: elsewhere });
        expect(none.code).to.equal(1);
        expect(none.stderr).to.equal("sluice: no node is running in ./.sluice: start one with `sluice node start`\n");
        const noneJson = await run(["channels", "--json"], { cwd: elsewhere });
        expect([noneJson.code, json<{ error: { code: string } }>(noneJson).error.code]).to.deep.equal([1, "NODE_NOT_RUNNING"]);
        const unit = await run(["deposit", channelId, "1 ETH", "--datadir", path.join(dir, ".sluice")], { cwd: elsewhere });
        expect([unit.code, unit.stderr]).to.deep.equal([2, `sluice: the unit ETH doesn't match the asset: amounts here are in USDC (${USDC})\n`]);
      } finally {
        await fs.rm(elsewhere, { recursive: true, force: true });
      }
    });

    it("open: parses the amount in the asset's decimals, shows progress, prints the channel", async function () {
      const r = await run(["open", PEER, "ws://10.0.0.2:9735", "250.5", "USDC", "--asset", USDC, "--challenge-period", "1h"], { cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      expect(fake.calls).to.deep.include(["openChannel", { peer: PEER, peerUrl: "ws://10.0.0.2:9735", asset: USDC, deposit: 250_500_000n, challengePeriod: 3600n }]);
      expect(r.stderr).to.match(/waiting for the deposit of 250\.5 USDC to be confirmed…/);
      expect(r.stdout).to.match(/^opened channel 0x[0-9a-f]{64} with 250\.5 USDC/);
      expect(r.stdout).to.match(/deposits\s+you 250\.5 USDC, peer 5 USDC/);
      const eth = await run(["open", PEER, "ws://10.0.0.2:9735", "0.5 ETH", "--json"], { cwd: dir });
      expect(json(eth)).to.deep.include({ asset: ETH, deposits: ["500000000000000000", "5000000"] });
      expect(eth.stderr).to.equal("");
    });

    it("open: the progress names its stages; a failed stage exits 1 with the error naming it", async function () {
      fake.openError = new OpenPeerUnreachableError("ws://10.0.0.9:9", 15_000);
      const r = await run(["open", PEER, "ws://10.0.0.9:9", "1 ETH"], { cwd: dir });
      expect(r.code).to.equal(1);
      const [progress, failure] = r.stderr.trim().split("\n");
      expect(progress).to.equal(
        `opening a channel: reaching the peer at ws://10.0.0.9:9, proving the peer's address (${PEER}), waiting for the deposit of 1 ETH to be confirmed…`,
      );
      expect(failure).to.match(/^sluice: open failed at reaching the peer: no answer from ws:\/\/10\.0\.0\.9:9 within 15 s/);
      fake.openError = undefined;
      expect((await run(["open", PEER, "ws://10.0.0.9:9", "1 ETH", "--reach-timeout", "2m"], { cwd: dir })).code).to.equal(0);
      expect(fake.calls).to.deep.include(["openChannel", { peer: PEER, peerUrl: "ws://10.0.0.9:9", asset: ETH, deposit: 10n ** 18n, reachTimeoutMs: 120_000 }]);
      const tooLong = await run(["open", PEER, "ws://10.0.0.9:9", "1 ETH", "--reach-timeout", "1h"], { cwd: dir });
      expect([tooLong.code, tooLong.stderr]).to.deep.equal([2, "sluice: --reach-timeout 1h: at most 10 minutes\n"]);
      fake.openError = new OpenPeerRejectedError(PEER, "ws://10.0.0.9:9", "the server proved 0x3c44");
      const machine = await run(["open", PEER, "ws://10.0.0.9:9", "1 ETH", "--json"], { cwd: dir });
      expect(json<{ error: { code: string; details: { stage: string } } }>(machine).error).to.deep.include({ code: "OPEN_PEER_REJECTED" });
      expect(json<{ error: { code: string; details: { stage: string } } }>(machine).error.details.stage).to.equal("prove");
    });

    it("abandon: a channel left opening becomes abandoned and is listed so; a funded one exits 1 naming close and challenge", async function () {
      const stuck = fake.addOpening();
      const r = await run(["abandon", stuck], { cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(new RegExp(`^abandoned channel ${stuck}\n`));
      expect(r.stdout).to.match(/status\s+abandoned/);
      const list = await run(["channels"], { cwd: dir });
      const row = list.stdout.split("\n").find((line) => line.startsWith(stuck.slice(0, 10)));
      expect(row?.split(/\s+/)[1]).to.equal("abandoned");
      expect(list.stdout).to.not.match(/opening/);
      const funded = await run(["abandon", channelId], { cwd: dir });
      expect(funded.code).to.equal(1);
      expect(funded.stderr).to.match(/can't be abandoned: it holds deposits on chain; close it \(`sluice close`\) or.*`sluice challenge`/);
      expect(fake.calls.filter((c) => c[0] === "abandonChannel")).to.have.length(2);
    });

    it("open --payee: the node is asked to pay this side's payouts there, and the channel shows both payees", async function () {
      const treasury = "0x00000000000000000000000000000000000c0ffe";
      const r = await run(["open", PEER, "ws://10.0.0.2:9735", "1 ETH", "--payee", treasury.toUpperCase().replace("0X", "0x")], { cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      expect(fake.calls).to.deep.include(["openChannel", { peer: PEER, peerUrl: "ws://10.0.0.2:9735", asset: ETH, deposit: 10n ** 18n, payee: treasury }]);
      expect(r.stdout).to.match(new RegExp(`payees\\s+you ${treasury}, peer ${PEER}`));
    });

    it("deposit and pay: amounts in the channel's asset, --ref hashed or as is", async function () {
      const d = await run(["deposit", channelId, "0.25 USDC"], { cwd: dir });
      expect(d.code, d.stderr).to.equal(0);
      expect(d.stdout).to.match(/^deposited 0\.25 USDC into/);
      expect(d.stderr).to.match(/waiting for the deposit of 0\.25 USDC to be confirmed/);
      const p = await run(["pay", channelId, "10", "--ref", "order-123", "--json"], { cwd: dir });
      expect(json(p)).to.deep.equal({ channelId, seq: "0", payer: 0, amount: "10000000", ref: keccak256(toUtf8Bytes("order-123")), version: "1", committedAt: "1700000000", memo: "order-123" });
      expect(fake.calls).to.deep.include(["pay", channelId, 10_000_000n, { memo: "order-123" }]);
      const ref = `0x${"12".repeat(32)}`;
      const p2 = await run(["pay", channelId, "1.5 USDC", "--ref", ref], { cwd: dir });
      expect(p2.stdout).to.equal(`paid 1.5 USDC in ${channelId}\npayment #1: you paid 1.5 USDC at 2023-11-14T22:13:20Z (ref ${ref}, state version 2)\n`);
      expect(fake.calls).to.deep.include(["pay", channelId, 1_500_000n, ref]);
      const p3 = await run(["pay", channelId, "1", "--ref", "café #9"], { cwd: dir });
      expect(p3.stdout).to.equal(`paid 1 USDC in ${channelId}\npayment #2: you paid 1 USDC at 2023-11-14T22:13:20Z (ref ${keccak256(toUtf8Bytes("café #9"))}, memo "café #9", state version 3)\n`);
      const long = await run(["pay", channelId, "1", "--ref", "x".repeat(257)], { cwd: dir });
      expect([long.code, long.stderr]).to.deep.equal([1, "sluice: the memo is 257 bytes of UTF-8, more than the 256 allowed: shorten it, or give its 32-byte hash as ref (INVALID_MEMO)\n"]);
      expect((await fake.channel(channelId)).payments).to.equal(3n);
    });

    it("payments --ref: the payment a lost reply committed, by its text or its hash; payments --limit says when more exist", async function () {
      for (const order of ["o-1", "o-2", "o-1"]) await fake.pay(channelId, 1_000_000n, { memo: order });
      const byText = await run(["payments", channelId, "--ref", "o-1"], { cwd: dir });
      expect(byText.code, byText.stderr).to.equal(0);
      expect(byText.stdout.split("\n").slice(1, -1).map((line) => line.split(/\s+/)[0])).to.deep.equal(["0", "2"]);
      expect(byText.stdout).to.match(/\n0\s+2023-11-14T22:13:20Z\s+you\s+1 USDC\s+0x[0-9a-f]{64}\s+1\s+"o-1"\n/);
      expect(byText.stdout).not.to.match(/for more/);
      const byHash = json<{ seq: string; memo: string }[]>(await run(["payments", channelId, "--ref", keccak256(toUtf8Bytes("o-2")), "--json"], { cwd: dir }));
      expect(byHash.map((p) => [p.seq, p.memo])).to.deep.equal([["1", "o-2"]]);
      const none = await run(["payments", channelId, "--ref", "o-3"], { cwd: dir });
      expect(none.stdout).to.equal(`no payments in ${channelId} with ref o-3\n`);
      const badHex = await run(["payments", channelId, "--ref", "0x1234"], { cwd: dir });
      expect(badHex.code).to.equal(2);
      expect(badHex.stderr).to.match(/--ref 0x1234 is hex but not 32 bytes/);

      const first = await run(["payments", channelId, "--limit", "2"], { cwd: dir });
      expect(first.stdout).to.match(/\nshowing 2 of 3; --from 2 for more\n$/);
      const middle = await run(["payments", channelId, "--from", "1", "--limit", "1"], { cwd: dir });
      expect(middle.stdout).to.match(/\nshowing #1 to #1 of 3; --from 2 for more\n$/);
      const last = await run(["payments", channelId, "--from", "2", "--limit", "5"], { cwd: dir });
      expect(last.stdout).not.to.match(/for more/);
    });

    it("pay: amount and unit errors exit 2 and say what is expected; insufficient funds exits 1 with a hint", async function () {
      const decimals = await run(["pay", channelId, "1.0000001 USDC", "--ref", "x"], { cwd: dir });
      expect(decimals.code).to.equal(2);
      expect(decimals.stderr).to.match(/USDC has 6 decimals/);
      const unit = await run(["pay", channelId, "1 ETH", "--ref", "x"], { cwd: dir });
      expect(unit.code).to.equal(2);
      expect(unit.stderr).to.match(/amounts here are in USDC/);
      const poor = await run(["pay", channelId, "100.000001", "--ref", "x"], { cwd: dir });
      expect(poor.code).to.equal(1);
      expect(poor.stderr).to.match(/^sluice: can't pay 100\.000001 USDC: you can pay at most 100 USDC in this channel: add funds with `sluice deposit/);
      const poorJson = await run(["pay", channelId, "100.000001", "--ref", "x", "--json"], { cwd: dir });
      expect(json(poorJson)).to.deep.equal({
        error: { code: "INSUFFICIENT_FUNDS", message: poor.stderr.slice("sluice: ".length, -1), details: { payer: 0, amount: "100000001", available: "100000000" } },
      });
      expect(fake.calls.filter((c) => c[0] === "pay")).to.have.length(2);
    });

    it("cash-out: the amount in the channel's asset to the payee, human and --json; above the balance exits 1, 0 exits 2", async function () {
      const r = await run(["cash-out", channelId, "40 USDC"], { cwd: dir });
      expect(r.code, r.stderr).to.equal(0);
      expect(fake.calls).to.deep.include(["cashOut", channelId, 40_000_000n]);
      expect(r.stderr).to.match(/waiting for the peer's signature and the withdrawal of 40 USDC to be confirmed…/);
      expect(r.stdout).to.match(new RegExp(`^cashed out 40 USDC from ${channelId} to your payee ${ME}: transaction 0x[0-9a-f]{64} in block \\d+ \\(gas used 56000\\)\n$`));
      const j = await run(["cash-out", channelId, "10.5", "--json"], { cwd: dir });
      expect(json(j)).to.deep.include({ channelId, participant: 0, payee: ME, amount: "10500000", total: "50500000", status: "executed", paid: "10500000" });
      const shown = await run(["channel", channelId], { cwd: dir });
      expect(shown.stdout).to.match(/cashed out\s+you 50\.5 USDC, peer 0 USDC/).and.match(/balances\s+you 49\.5 USDC, peer 5 USDC/);
      const poor = await run(["cash-out", channelId, "49.500001"], { cwd: dir });
      expect(poor.code).to.equal(1);
      expect(poor.stderr).to.match(/\nsluice: can't cash out 49\.500001 USDC: you can cash out at most 49\.5 USDC in this channel \(your balance less pending payments and earlier cash-outs\): add funds with `sluice deposit <channel> <amount>`, or cash out less\n$/);
      const zero = await run(["cash-out", channelId, "0"], { cwd: dir });
      expect([zero.code, zero.stderr]).to.deep.equal([2, "sluice: the amount must be more than zero USDC\n"]);
      expect(fake.calls.filter((c) => c[0] === "cashOut")).to.have.length(3);
    });

    it("channels, channel, payments: human tables and JSON", async function () {
      await fake.pay(channelId, 1_000_000n, keccak256(toUtf8Bytes("a")) as Hex);
      await fake.pay(channelId, 2_500_000n, keccak256(toUtf8Bytes("b")) as Hex);
      const list = await run(["channels"], { cwd: dir });
      expect(list.stdout.split("\n")[0]).to.match(/^CHANNEL\s+STATUS\s+PEER\s+YOUR BALANCE\s+PEER BALANCE\s+PAYMENTS$/);
      expect(list.stdout).to.include(channelId).and.match(/open\s+0x7099\w+\s+96\.5 USDC\s+8\.5 USDC\s+2/);
      expect(json<unknown[]>(await run(["channels", "--json"], { cwd: dir }))).to.have.length(1);
      const one = await run(["channel", channelId], { cwd: dir });
      expect(one.stdout).to.match(/balances\s+you 96\.5 USDC, peer 8\.5 USDC/);
      const payments = await run(["payments", channelId, "--from", "1", "--limit", "5"], { cwd: dir });
      expect(payments.stdout).to.match(/^SEQ\s+TIME\s+PAYER\s+AMOUNT\s+REF\s+VERSION\s+MEMO\n1\s+2023-11-14T22:13:20Z\s+you\s+2\.5 USDC\s+0x[0-9a-f]{64}\s+2\n$/);
      expect(fake.calls).to.deep.include(["payments", channelId, { fromSeq: 1n, limit: 5 }]);
      const all = json<{ seq: string; amount: string }[]>(await run(["payments", channelId, "--json"], { cwd: dir }));
      expect(all.map((p) => [p.seq, p.amount])).to.deep.equal([["0", "1000000"], ["1", "2500000"]]);
    });

    it("close, challenge, settle, withdraw: progress lines, transactions, errors with hints", async function () {
      const second = (await fake.openChannel({ peer: PEER, peerUrl: "ws://p:1", asset: ETH, deposit: 1n })).channelId;
      const closed = await run(["close", second], { cwd: dir });
      expect(closed.code, closed.stderr).to.equal(0);
      expect(closed.stderr).to.match(/waiting for the peer's signature and the close transaction/);
      expect(closed.stdout).to.match(/^closed 0x[0-9a-f]{64}: transaction 0x[0-9a-f]{64} in block \d+ \(gas used 61000\)\n$/);
      const again = await run(["close", second], { cwd: dir });
      expect([again.code, again.stderr]).to.deep.equal([1, `waiting for the peer's signature and the close transaction to be confirmed…\nsluice: the channel has concluded on chain: nothing more to do there; \`sluice withdraw\` collects credited payouts\n`]);

      const early = await run(["settle", channelId], { cwd: dir });
      expect(early.stderr).to.match(/no dispute is registered/);
      const challenged = await run(["challenge", channelId], { cwd: dir });
      expect(challenged.stdout).to.match(/the challenge period ends at 2023-11-15T22:13:20Z: then run `sluice settle 0x/);
      const pending = await run(["settle", channelId, "--json"], { cwd: dir });
      expect(json(pending)).to.deep.equal({
        error: {
          code: "CHALLENGE_PENDING",
          message: "the challenge period runs until 2023-11-15T22:13:20Z: run `sluice settle` after that",
          details: { deadline: "1700086400" },
        },
      });
      fake.now += 86_400n;
      expect(json(await run(["settle", channelId, "--json"], { cwd: dir }))).to.include({ channelId, gasUsed: "70000" });

      const nothing = await run(["withdraw"], { cwd: dir });
      expect(nothing.code).to.equal(1);
      expect(nothing.stderr).to.equal(`waiting for the withdrawal of ETH to be confirmed…\nsluice: nothing is credited to ${ME} in ETH: payouts are paid out directly, and credited only when that failed\n`);
      fake.credits.set(USDC, 7n);
      const withdrawn = await run(["withdraw", "--asset", USDC], { cwd: dir });
      expect(withdrawn.stderr).to.equal("waiting for the withdrawal of USDC to be confirmed…\n");
      expect(withdrawn.stdout).to.match(/^withdrew your credited USDC: transaction/);
    });

    it("prove: the payment's proof and whether the chain accepts it", async function () {
      for (let i = 0; i < 3; i++) await fake.pay(channelId, 1_000_000n, keccak256(toUtf8Bytes(`o${i}`)) as Hex);
      const human = await run(["prove", channelId, "#2"], { cwd: dir });
      expect(human.stdout).to.match(/^payment\s+#2: you paid 1 USDC/);
      expect(human.stdout).to.match(/on chain\s+not verifiable yet/);
      const proof = json<{ proof: string[]; root: string; verifiedOnChain: boolean }>(await run(["prove", channelId, "1", "--json"], { cwd: dir }));
      expect(proof).to.deep.include({ verifiedOnChain: false, root: (await fake.prove(channelId, 1n)).root });
      expect(proof.proof).to.have.length(2);
      const missing = await run(["prove", channelId, "9"], { cwd: dir });
      expect([missing.code, missing.stderr]).to.deep.equal([1, `sluice: no payment 9 in channel ${channelId}: it has 3 (INVALID_ARGUMENT)\n`]);
    });

    it("unknown channel: NOT_FOUND with a hint", async function () {
      const r = await run(["channel", `0x${"0".repeat(64)}`], { cwd: dir });
      expect([r.code, r.stderr]).to.deep.equal([1, `sluice: unknown channel 0x${"0".repeat(64)}: \`sluice channels\` lists this node's channels\n`]);
    });

    // args, pattern of the message (exit code 2, nothing asked of the node)
    const usage: [string[], RegExp][] = [
      [[], /no command given/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [["node"], /needs a subcommand: `sluice node start`/],
      [["status", "extra"], /unexpected argument "extra"/],
      [["pay", "0x12", "1", "--ref", "x"], /not a channel id/],
      [["pay", `0x${"1".repeat(64)}`, "1"], /pay needs --ref <order>/],
      [["pay", `0x${"1".repeat(64)}`, "-1", "--ref", "x"], /amounts can't be negative: -1/],
      [["open", "0xabc", "ws://x:1", "1"], /not an address for the peer/],
      [["open", PEER, "http://x:1", "1"], /ws:\/\/ or wss:\/\//],
      [["open", PEER, "ws://x:1"], /missing arguments: usage: sluice open/],
      [["open", PEER, "ws://x:1", "1", "--challenge-period", "soon"], /--challenge-period "soon"/],
      [["open", PEER, "ws://x:1", "1", "--payee", "treasury"], /not an address for --payee/],
      [["open", PEER, "ws://x:1", "1", "--payee", `0x${"0".repeat(40)}`], /--payee is the zero address/],
      [["node", "start", "--payee", "0x12"], /not an address for --payee/],
      [["cash-out", `0x${"1".repeat(64)}`], /missing arguments: usage: sluice cash-out <channel> <amount>/],
      [["cash-out", "0x12", "1"], /not a channel id/],
      [["channels", "--verbose"], /Unknown option '--verbose'.*sluice channels --help/],
      [["payments", `0x${"1".repeat(64)}`, "--limit", "0"], /^sluice: --limit must be a whole number from 1 to 10000, not "0"\n$/],
      [["payments", `0x${"1".repeat(64)}`, "--limit", "abc"], /^sluice: --limit must be a whole number from 1 to 10000, not "abc"\n$/],
      [["payments", `0x${"1".repeat(64)}`, "--limit", "-3"], /^sluice: --limit must be a whole number from 1 to 10000, not "-3"\n$/],
      [["payments", `0x${"1".repeat(64)}`, "--from", "-1"], /^sluice: --from must be a whole number from 0 to 18446744073709551615, not "-1"\n$/],
      [["prove", `0x${"1".repeat(64)}`, "-1"], /^sluice: <payment> must be a whole number from 0 to 18446744073709551615, not "-1"\n$/],
      [["open", PEER, "ws://x:1", "1", "--challenge-period", "-1d"], /^sluice: --challenge-period "-1d": /],
      [["cash-out", `0x${"1".repeat(64)}`, "-5", "USDC"], /^sluice: amounts can't be negative: -5\n$/],
      [["open", PEER, "ws://x:1", "-0.5", "ETH"], /^sluice: amounts can't be negative: -0\.5\n$/],
      [["open", PEER, "ws://x:1", "1", "--reach-timeout", "-5"], /^sluice: --reach-timeout "-5": /],
      [["node", "start", "--api-port", "-1"], /^sluice: --api-port "-1": /],
      [["dev", "mint", "-5", "--asset", USDC], /^sluice: amounts can't be negative: -5\n$/],
      [["prove", `0x${"1".repeat(64)}`, "one"], /<payment> must be a whole number/],
      [["withdraw", "--asset", "ETH"], /not an address for --asset/],
      [["node", "start", "--listen", "nowhere"], /--listen "nowhere": give host:port/],
      [["node", "start", "--api-port", "70000"], /--api-port "70000"/],
    ];
    for (const [args, message] of usage) {
      it(`usage error, exit 2: sluice ${args.join(" ")}`, async function () {
        const r = await run(args, { cwd: dir, io: { loadStartNode: () => {
          throw new Error("must not start");
        } } });
        expect(r.code, r.stderr).to.equal(2);
        expect(r.stderr).to.match(message);
        expect(r.stderr.trim().split("\n")).to.have.length(1);
        expect(fake.calls).to.deep.equal([]);
      });
    }

    it("--help for sluice and for every command, exit 0", async function () {
      const top = await run(["--help"], { cwd: dir });
      expect(top.code).to.equal(0);
      for (const name of ["status", "node start", "open", "deposit", "pay", "channels", "payments", "close", "challenge", "settle", "cash-out", "withdraw", "prove"]) {
        expect(top.stdout).to.include(`  ${name} `);
        const r = await run([...name.split(" "), "--help"], { cwd: dir });
        expect(r.code).to.equal(0);
        expect(r.stdout).to.match(new RegExp(`^Usage: sluice ${name}`));
      }
      expect((await run(["pay", "--help"], { cwd: dir })).stdout).to.match(/its keccak256 \(of the UTF-8 bytes\) is the reference/);
      expect((await run(["withdraw", "--help"], { cwd: dir })).stdout).to.match(/only the payee's key can withdraw/);
      expect((await run(["help", "pay"], { cwd: dir })).stdout).to.match(/^Usage: sluice pay/);
    });

    it("node start: passes the flags to startNode and stops it on a signal", async function () {
      const started: NodeStartOptions[] = [];
      let closed = false;
      const r = await run(
        ["node", "start", "--listen", "0.0.0.0:9735", "--api-port", "8080", "--rpc", "http://127.0.0.1:8545", "--adjudicator", USDC.toUpperCase().replace("0X", "0x"), "--keystore", "key.json", "--config", "sluice.json", "--payee", PEER, "--datadir", "data"],
        {
          cwd: dir,
          io: {
            loadStartNode: () => async (options) => {
              started.push(options);
              return {
                close: async () => {
                  closed = true;
                },
              };
            },
            waitForStop: async () => undefined,
          },
        },
      );
      expect(r.code, r.stderr).to.equal(0);
      expect(closed).to.equal(true);
      expect(started).to.have.length(1);
      const { log, ...options } = started[0];
      expect(log).to.be.a("function");
      expect(options).to.deep.equal({
        datadir: path.join(dir, "data"),
        listen: { host: "0.0.0.0", port: 9735 },
        apiPort: 8080,
        rpc: "http://127.0.0.1:8545",
        adjudicator: USDC,
        keystore: path.join(dir, "key.json"),
        config: path.join(dir, "sluice.json"),
        payee: PEER,
      });
      expect(r.stderr).to.match(/node running in data: stop it with Ctrl-C/);
    });

    it("node start on a port another program listens on: ADDRESS_IN_USE naming the address and the flags, exit 1", async function () {
      // The error a real listen gives: a second server on the first one's port.
      const first = net.createServer();
      await new Promise<void>((resolve) => first.listen(0, "127.0.0.1", resolve));
      const { port } = first.address() as net.AddressInfo;
      const taken = await new Promise<Error>((resolve) => {
        const second = net.createServer();
        second.once("error", resolve);
        second.listen(port, "127.0.0.1");
      });
      first.close();
      const r = await run(["node", "start", "--listen", `127.0.0.1:${port}`, "--json"], {
        cwd: dir,
        io: {
          loadStartNode: () => async () => {
            throw taken;
          },
        },
      });
      expect(r.code).to.equal(1);
      const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; details: unknown } };
      expect(error.code).to.equal("ADDRESS_IN_USE");
      expect(error.details).to.deep.equal({ address: `127.0.0.1:${port}` });
      expect(error.message).to.equal(
        `127.0.0.1:${port} is already in use: another program, or another sluice node, listens there; give this node another port (\`--listen host:port\` for peers, \`--api-port\` for the API, \`--tower-listen\` for a tower)`,
      );
    });
  });

  describe("the sluice binary (child processes)", function () {
    let dir: string;
    let fake: FakeNode;
    let api: ApiServer;
    let channelId: Hex;

    before(async function () {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), "sluice-bin-"));
      fake = new FakeNode();
      api = await startLocalApi({ api: fake, datadir: path.join(dir, "node") });
      channelId = (await fake.openChannel({ peer: PEER, peerUrl: "ws://127.0.0.1:9736", asset: USDC, deposit: 100_000_000n })).channelId;
    });

    after(async function () {
      await api.close();
      await fs.rm(dir, { recursive: true, force: true });
    });

    const cli = (...args: string[]) => spawnCli(["--datadir", "node", ...args], dir);

    it("status, --json and human", async function () {
      const [machine, human] = await Promise.all([cli("status", "--json"), cli("status")]);
      expect(machine.code, machine.stderr).to.equal(0);
      expect(json(machine)).to.deep.include({ address: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", chainId: "31337", api: api.url });
      expect(human.stdout).to.match(/^node\s+0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266\n/);
      expect(human.stdout).to.include(`API          ${api.url} (node)`);
    });

    it("open (progress line on stderr) and deposit --json", async function () {
      const opened = await cli("open", PEER, "ws://127.0.0.1:9736", "0.5", "ETH");
      expect(opened.code, opened.stderr).to.equal(0);
      expect(opened.stderr).to.match(/waiting for the deposit of 0\.5 ETH to be confirmed…/);
      expect(opened.stdout).to.match(/deposits\s+you 0\.5 ETH, peer 0 ETH/);
      const deposited = await cli("deposit", channelId, "100 USDC", "--json");
      expect(json(deposited)).to.deep.include({ deposits: ["200000000", "0"] });
    });

    it("pay --json, then channels and prove", async function () {
      const paid = await cli("pay", channelId, "100", "USDC", "--ref", "order-7", "--json");
      expect(json(paid)).to.deep.include({ amount: "100000000", ref: keccak256(toUtf8Bytes("order-7")), seq: "0" });
      await fake.pay(channelId, 1n, keccak256(toUtf8Bytes("order-8")) as Hex);
      const [channels, proof] = await Promise.all([cli("channels"), cli("prove", channelId, "1", "--json")]);
      expect(channels.stdout).to.match(/open\s+0x7099\w+\s+99\.999999 USDC\s+100\.000001 USDC\s+2/);
      expect(json(proof)).to.deep.include({ verifiedOnChain: false, stateVersion: "2" });
    });

    it("close, challenge and settle wait for the chain with a progress line; errors exit 1", async function () {
      const challenged = await cli("challenge", channelId);
      expect(challenged.code, challenged.stderr).to.equal(0);
      expect(challenged.stderr).to.match(/waiting for the challenge transaction to be confirmed…/);
      const pending = await cli("settle", channelId);
      expect(pending.code).to.equal(1);
      expect(pending.stderr).to.match(/^waiting for the settle transaction to be confirmed…\nsluice: .*challenge period runs until/);
      const closed = await cli("close", channelId, "--json");
      expect(json(closed)).to.include({ channelId, gasUsed: "61000" });
    });

    it("withdraw --json: the error as JSON on stdout, exit 1", async function () {
      const r = await cli("withdraw", "--json");
      expect(r.code).to.equal(1);
      expect(json<{ error: { code: string } }>(r).error.code).to.equal("WITHDRAW_NOTHING");
    });

    it("an amount error exits 2 naming the decimals", async function () {
      const decimals = await cli("pay", channelId, "1.0000001 USDC", "--ref", "x");
      expect([decimals.code, decimals.stderr]).to.deep.equal([2, "sluice: 1.0000001 USDC has too many decimals: USDC has 6 decimals\n"]);
    });

    it("no node running (no api.json, or a stale one): a helpful error and exit 1; usage errors exit 2", async function () {
      const empty = path.join(dir, "empty");
      await fs.mkdir(empty);
      // A stale api.json: the node is gone.
      const stale = path.join(dir, "stale");
      await fs.mkdir(stale);
      await fs.copyFile(path.join(dir, "node", "api.token"), path.join(stale, "api.token"));
      await fs.writeFile(path.join(stale, "api.json"), JSON.stringify({ url: "http://127.0.0.1:1", pid: 1 }));
      const [none, gone, bad] = await Promise.all([
        spawnCli(["channels"], empty),
        spawnCli(["--datadir", "stale", "status"], dir),
        spawnCli(["pay"], empty),
      ]);
      expect([none.code, none.stderr]).to.deep.equal([1, "sluice: no node is running in ./.sluice: start one with `sluice node start`\n"]);
      expect(gone.code).to.equal(1);
      expect(gone.stderr).to.equal("sluice: no node is running in stale (nothing answers at http://127.0.0.1:1): start one with `sluice node start --datadir stale`\n");
      expect([bad.code, bad.stderr]).to.deep.equal([2, "sluice: missing arguments: usage: sluice pay <channel> <amount> --ref <order> | pay <sluice1…invoice> [--route 0xH1[,0xH2,0xH3]]\n"]);
    });
  });
});
