/**
 * End to end, issue 14 points 1 and 2 as a new operator ran them: `sluice open` to a URL where
 * nothing answers fails within the stage's time limit instead of hanging; `open` naming the wrong
 * peer address fails fast and the existing channel keeps working both ways; an open whose deposit
 * failed (the wallet had the amount but not the gas) leaves a channel `sluice abandon` gives up.
 */
import { execFile } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { Wallet, formatEther } from "ethers";
import { ETH } from "../../src/types";
import { type Cluster, type ClusterNode, ETHER, openFunded, sleep, withTwoNodes } from "./helpers/cluster";

const CLI = path.resolve(__dirname, "..", "..", "bin", "sluice.js");

/** `sluice <args>` in its own process: exit code, output, and how long it ran (ms). */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 60_000, env: { ...process.env, SLUICE_DATADIR: "" } });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code?: unknown; stdout: string; stderr: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, stdout: failed.stdout, stderr: failed.stderr, ms: Date.now() - started };
  }
}

describe("e2e: sluice open in stages, and abandon", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let alice: ClusterNode;
  let bob: ClusterNode;
  let datadir: string;

  withTwoNodes({}, async (nodes) => {
    ({ cluster, alice, bob } = nodes);
    datadir = alice.process.options.datadir;
  });

  it("an unreachable URL fails at 'reaching the peer' within 15 s, with OPEN_PEER_UNREACHABLE", async function () {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const dead = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    const r = await run("open", bob.address, dead, "1 ETH", "--datadir", datadir);
    expect(r.code).to.equal(1);
    expect(r.ms).to.be.below(25_000);
    expect(r.stderr).to.contain("opening a channel: reaching the peer at " + dead);
    expect(r.stderr).to.contain(`sluice: open failed at reaching the peer: no answer from ${dead} within 15 s`);
    expect(r.stderr).to.contain("(OPEN_PEER_UNREACHABLE)");
    expect(await alice.process.api.channels()).to.deep.equal([]);
  });

  it("a wrong peer address fails fast at 'proving the peer's address'; the existing channel keeps paying both ways", async function () {
    const channel = await openFunded(alice, bob, ETH, [ETHER, ETHER]);
    const stranger = Wallet.createRandom().address.toLowerCase();
    const r = await run("open", stranger, bob.peerUrl, "1 ETH", "--datadir", datadir);
    expect(r.code).to.equal(1);
    expect(r.ms).to.be.below(10_000);
    expect(r.stderr).to.contain("(OPEN_PEER_REJECTED)");
    expect(r.stderr).to.contain(`sluice: open failed at proving the peer's address: the node at ${bob.peerUrl} is not ${stranger}`);
    await sleep(3_000); // the refused redials of before would have run by now
    await bob.process.api.pay(channel.channelId, 5n, `0x${"b".repeat(64)}`);
    await alice.process.api.pay(channel.channelId, 3n, `0x${"a".repeat(64)}`);
    expect((await alice.process.api.channel(channel.channelId)).transferred).to.deep.equal([3n, 5n]);
  });

  it("an open whose deposit failed leaves a channel opening that `sluice abandon` gives up; a funded one is refused", async function () {
    // All of the wallet's ETH passes the balance check before the peer is asked, then leaves nothing for gas.
    const all = await cluster.chain.provider.getBalance(alice.address);
    const failed = await run("open", bob.address, bob.peerUrl, `${formatEther(all)} ETH`, "--datadir", datadir);
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.contain(`sluice: your wallet ${alice.address.toLowerCase()} has too little ETH for this transaction and its gas`);
    expect(failed.stderr).to.contain("and its gas: add ETH to it and try again: the channel stays opening without your deposit: `sluice channels` lists it, `sluice abandon <channel>` gives it up");
    const stuck = (await alice.process.api.channels()).find((c) => c.status === "opening");
    expect(stuck, "a channel left opening").to.not.equal(undefined);
    const abandoned = await run("abandon", stuck!.channelId, "--datadir", datadir);
    expect(abandoned.code, abandoned.stderr).to.equal(0);
    expect(abandoned.stdout).to.contain(`abandoned channel ${stuck!.channelId}`);
    const list = await run("channels", "--json", "--datadir", datadir);
    const statuses = (JSON.parse(list.stdout) as { channelId: string; status: string }[]).map((c) => c.status);
    expect(statuses).to.not.include("opening");
    expect(statuses).to.include("abandoned");
    const open = (await alice.process.api.channels()).find((c) => c.status === "open")!;
    const refused = await run("abandon", open.channelId, "--datadir", datadir);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.contain("close it (`sluice close`)").and.contain("`sluice challenge`");
  });
});
