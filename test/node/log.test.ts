/**
 * The node's log (src/node/log.ts): JSON lines at the level asked for and above; a line about a
 * channel carries its id and its peer, one about a peer the peer; and no secret in it, neither a
 * redacted field nor anything a run of two real nodes (payments, an invoice, API tokens) logs,
 * even at trace level.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { createLogger, logEvents, nodeLogHooks, type LogLevel } from "../../src/node/log";
import { SluiceNode } from "../../src/node/node";
import { ETH, type Address, type Hex } from "../../src/types";

const devKey = (index: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;
const CHANNEL: Hex = `0x${"c4".repeat(32)}`;
const PEER: Address = "0x00000000000000000000000000000000000B0B00";

type Line = { level: number; msg: string; channelId?: string; peer?: string; event?: string; [key: string]: unknown };

/** A logger at `level` whose lines land in `lines` (parsed) and `raw` (as written). */
function capture(level: LogLevel) {
  const raw: string[] = [];
  const logger = createLogger(level, (line) => raw.push(line));
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Line) };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("node log", function () {
  it("writes JSON lines at the level asked for and above, nothing below it", function () {
    const { logger, lines } = capture("warn");
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    expect(lines().map((l) => [l.level, l.msg])).to.deep.equal([
      [40, "w"],
      [50, "e"],
    ]);
    const all = capture("trace");
    all.logger.trace("t");
    expect(all.lines().map((l) => l.msg)).to.deep.equal(["t"]);
  });

  it("puts the channel id and its peer on a line naming a channel, the peer on one naming only an address", function () {
    const { logger, lines } = capture("info");
    const hooks = nodeLogHooks(logger, (id) => (id === CHANNEL ? PEER : undefined));
    hooks.onError(new Error("bad signature"), `resyncing ${CHANNEL}`);
    hooks.onError(new Error("refused"), `dialing ${PEER}`);
    hooks.log("chain reorg: 1 block(s) above block 7 replaced");
    expect(lines().map(({ level, msg, channelId, peer }) => ({ level, msg, channelId, peer }))).to.deep.equal([
      { level: 40, msg: `resyncing ${CHANNEL}: bad signature`, channelId: CHANNEL, peer: PEER.toLowerCase() },
      { level: 40, msg: `dialing ${PEER}: refused`, channelId: undefined, peer: PEER.toLowerCase() },
      { level: 30, msg: "chain reorg: 1 block(s) above block 7 replaced", channelId: undefined, peer: undefined },
    ]);
  });

  it("redacts fields that hold secrets, at the top level and one down", function () {
    const { logger, raw } = capture("info");
    const secret = `0x${"5e".repeat(32)}`;
    logger.info({ secret, token: "sluice_ro_abc123", nested: { privateKey: secret, preimage: secret }, ok: 1 }, "careful");
    expect(raw.join("\n")).to.not.include("5e5e5e");
    expect(raw.join("\n")).to.not.include("abc123");
    expect(JSON.parse(raw[0])).to.deep.include({ secret: "[redacted]", token: "[redacted]", nested: { privateKey: "[redacted]", preimage: "[redacted]" }, ok: 1 });
  });

  describe("a run of two real nodes", function () {
    let dir: string;
    let nodes: SluiceNode[] = [];

    beforeEach(function () {
      dir = mkdtempSync(path.join(tmpdir(), "sluice-log-"));
    });

    afterEach(async function () {
      for (const node of nodes) await node.stop().catch(() => undefined);
      nodes = [];
      rmSync(dir, { recursive: true, force: true });
    });

    async function run(level: LogLevel) {
      const [deployer] = await ethers.getSigners();
      const { address: adjudicator } = await deployAdjudicator(deployer);
      const log = capture(level);
      const peers = new Map<string, Address>();
      const peerOf = (id: Hex) => peers.get(id.toLowerCase());
      const hooks = nodeLogHooks(log.logger, peerOf);
      const alice = new SluiceNode({ privateKey: devKey(1), provider: ethers.provider, adjudicator, storePath: path.join(dir, "a", "store.sqlite"), pollMs: 50, ...hooks });
      const bob = new SluiceNode({ privateKey: devKey(2), provider: ethers.provider, adjudicator, storePath: path.join(dir, "b", "store.sqlite"), pollMs: 50 });
      nodes.push(alice, bob);
      const stop = logEvents(alice.store.events, log.logger, peerOf);
      await alice.start();
      await bob.start();
      const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });
      peers.set(channelId.toLowerCase(), bob.address);
      await alice.pay(channelId, 5n, { memo: "one" });
      await alice.pay(channelId, 6n, { memo: "two" });
      const token = (await alice.createToken("read-only", "dash")).token;
      const invoice = await alice.createInvoice({ amount: 9n });
      const secret = alice.store.invoices.secret(invoice.invoice.hashlock)!;
      await nextTurn();
      await nextTurn();
      stop();
      return { ...log, alice, bob, channelId, token, secret };
    }

    it("at debug, logs each payment on the channel's line with its id and peer; no token or lock secret anywhere", async function () {
      const { lines, raw, bob, channelId, token, secret } = await run("trace");
      const payments = lines().filter((l) => l.event === "payment.sent");
      expect(payments.map((l) => [l.amount, l.channelId, l.peer])).to.deep.equal([
        ["5", channelId.toLowerCase(), bob.address.toLowerCase()],
        ["6", channelId.toLowerCase(), bob.address.toLowerCase()],
      ]);
      for (const line of lines().filter((l) => l.event?.startsWith("channel."))) expect(line.channelId, line.msg).to.equal(channelId.toLowerCase());
      expect(lines().some((l) => l.event === "invoice.created"), "the invoice's event is logged").to.equal(true);
      const text = raw.join("\n").toLowerCase();
      expect(text).to.not.include(token.slice(-64));
      expect(text).to.not.include(secret.slice(2).toLowerCase());
    });

    it("at info, logs no event line", async function () {
      const { lines } = await run("info");
      expect(lines().filter((l) => l.level < 30)).to.deep.equal([]);
      expect(lines().filter((l) => l.event !== undefined)).to.deep.equal([]);
    });
  });
});
