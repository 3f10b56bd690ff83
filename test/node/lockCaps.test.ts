/**
 * A node's caps on a channel's pending locks (`lockRules`: `--max-pending-locks`,
 * `--max-locked-value`) are the rules it countersigns by: an invoice paid over a direct channel with
 * a lock beyond the payee's cap is refused by the payee, typed, and nothing moves; under the cap it
 * is paid. Two in-process nodes on the test chain.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers } from "hardhat";
import { LockedValueCapError } from "../../src/channel";
import { deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { SluiceError, codeOf } from "../../src/errors";
import { SluiceNode } from "../../src/node/node";
import type { NodeOptions } from "../../src/node/nodeOptions";
import { ETH, type Hex } from "../../src/types";

const devKey = (index: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;

describe("a node's lock caps (lockRules)", function () {
  let dir: string;
  let alice: SluiceNode;
  let bob: SluiceNode;
  let channelId: Hex;
  let adjudicator: Hex;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-lockcaps-"));
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    adjudicator = driver.address;
    const make = (i: number, lockRules?: NodeOptions["lockRules"]) =>
      new SluiceNode({
        privateKey: devKey(i),
        provider: ethers.provider,
        adjudicator,
        storePath: path.join(dir, `node${i}`, "store.sqlite"),
        pollMs: 50,
        challengePeriod: 600n,
        ...(lockRules ? { lockRules } : {}),
      });
    alice = make(3);
    bob = make(4, { maxLockedValue: 1_000n, maxPendingLocks: 5 });
    await alice.start();
    await bob.start();
    ({ channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n }));
  });

  after(async function () {
    await alice?.stop();
    await bob?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the payee refuses a lock above its maxLockedValue (LOCKED_VALUE_CAP) and nothing moves; one within it is paid", async function () {
    const before = await alice.channel(channelId);
    const big = await bob.createInvoice({ amount: 1_001n });
    const refused = await alice.payInvoice(big.encoded).then(
      () => expect.fail("paid above the payee's cap"),
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(SluiceError);
    expect(`${codeOf(refused as SluiceError)}: ${(refused as Error).message}`).to.contain(LockedValueCapError.code);
    const after = await alice.channel(channelId);
    expect([after.transferred, after.locked]).to.deep.equal([before.transferred, [0n, 0n]]);

    const small = await bob.createInvoice({ amount: 1_000n });
    const paid = await alice.payInvoice(small.encoded);
    expect(paid.amount).to.equal(1_000n);
    expect((await alice.channel(channelId)).transferred[0]).to.equal(before.transferred[0] + 1_000n);
  });

  it("refuses caps that are no caps when the node is made", function () {
    for (const lockRules of [{ maxPendingLocks: -1 }, { maxPendingLocks: 1.5 }, { maxLockedValue: -1n }, { maxLockedValue: 1n << 256n }]) {
      expect(
        () => new SluiceNode({ privateKey: devKey(5), provider: ethers.provider, adjudicator, storePath: path.join(dir, "bad", "store.sqlite"), lockRules }),
        JSON.stringify(lockRules, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
      ).to.throw(/maxPendingLocks|maxLockedValue/);
    }
  });
});
