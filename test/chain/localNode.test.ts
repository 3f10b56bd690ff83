import { expect } from "chai";
import net from "node:net";
import { LocalNodeError, anvilBinary, freePort, startLocalNode, type LocalNode } from "../../src/chain";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("startLocalNode", function () {
  const started: LocalNode[] = [];
  afterEach(async function () {
    await Promise.all(started.splice(0).map((node) => node.stop()));
  });

  it("resolves the anvil binary from the platform package", function () {
    expect(anvilBinary()).to.match(/@foundry-rs[/\\]anvil-[a-z0-9]+-[a-z0-9]+[/\\]bin[/\\]anvil(\.exe)?$/);
  });

  it("starts anvil on a free loopback port with funded dev accounts, and stop() leaves nothing running", async function () {
    const node = await startLocalNode({ kind: "anvil" });
    started.push(node);
    expect(node.url).to.equal(`http://127.0.0.1:${node.port}`);
    expect(node.chainId).to.equal(31337n);
    const [first, second] = node.wallets(2);
    expect(first.address).to.equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect(second.address).to.equal("0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    expect((await node.provider.getBalance(first.address)) > 10n ** 21n).to.equal(true);
    expect(await listening(node.port)).to.equal(true);

    await node.stop();
    expect(alive(node.pid)).to.equal(false);
    expect(await listening(node.port)).to.equal(false);
    await node.stop(); // idempotent
  });

  it("runs two nodes side by side on different ports", async function () {
    const [a, b] = await Promise.all([startLocalNode({ kind: "anvil" }), startLocalNode({ kind: "anvil" })]);
    started.push(a, b);
    expect(a.port).to.not.equal(b.port);
    await a.provider.send("evm_mine", []);
    expect(await a.provider.getBlockNumber()).to.equal(1);
    expect(await b.provider.getBlockNumber()).to.equal(0);
  });

  it("fails with LocalNodeError when the port is taken", async function () {
    const port = await freePort();
    // Something else listens there (and hangs up on anyone who connects).
    const blocker = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      let error: unknown;
      try {
        started.push(await startLocalNode({ kind: "anvil", port, startTimeoutMs: 5_000 }));
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(LocalNodeError);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
