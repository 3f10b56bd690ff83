/**
 * Payment memos and times on real nodes (two in one process, embedded chain): the payer's node keeps
 * the memo beside the ref hash, the peer and the payment leaf see only the hash, both keep the commit
 * time, and either node finds a payment by its ref.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { HDNodeWallet, Mnemonic } from "ethers";
import { ethers } from "hardhat";
import { deployAdjudicator, DEV_MNEMONIC } from "../../src/chain";
import { paymentLeafHex } from "../../src/crypto/hash";
import { SluiceNode } from "../../src/node/node";
import { InvalidMemoError, memoHash } from "../../src/node/paymentRef";
import { ETH, type Hex } from "../../src/types";

const devKey = (index: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).privateKey as Hex;

describe("SluiceNode payments: memo and time beside the ref", function () {
  let dir: string;
  let nodes: SluiceNode[] = [];

  beforeEach(function () {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-memo-"));
  });

  afterEach(async function () {
    for (const node of nodes) await node.stop().catch(() => undefined);
    nodes = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the memo on the payer's node only, the time on both, the leaf as before; finds payments by ref; refuses a long memo untouched", async function () {
    const [deployer] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const make = (i: number) =>
      new SluiceNode({ privateKey: devKey(i), provider: ethers.provider, adjudicator: driver.address, storePath: path.join(dir, `node${i}`, "store.sqlite"), pollMs: 50, challengePeriod: 600n });
    const alice = make(1);
    const bob = make(2);
    nodes.push(alice, bob);
    await alice.start();
    await bob.start();
    const { channelId } = await alice.openChannel({ peer: bob.address, peerUrl: bob.peerUrl, asset: ETH, deposit: 10n ** 18n });

    const before = BigInt(Math.floor(Date.now() / 1000));
    const memo = "order 2026-0042 / Zoë";
    const paid = await alice.pay(channelId, 5n, { memo });
    const after = BigInt(Math.ceil(Date.now() / 1000));
    const hash = memoHash(memo);
    expect(hash).to.equal(ethers.id(memo));
    expect(paid).to.deep.include({ seq: 0n, amount: 5n, ref: hash, memo });
    expect(paid.committedAt! >= before && paid.committedAt! <= after, `${paid.committedAt} in [${before}, ${after}]`).to.equal(true);
    // The leaf (the Merkle log, the chain) holds the hash only, exactly as a hex ref gives it.
    const leaf = paymentLeafHex({ channelId, seq: 0n, payer: 0, amount: 5n, ref: hash });
    expect(alice.store.payment(channelId, 0n)!.leaf).to.equal(leaf);
    expect(bob.store.payment(channelId, 0n)!.leaf).to.equal(leaf);

    await alice.pay(channelId, 6n, ethers.id("other") as Hex);
    await alice.pay(channelId, 7n, hash);
    const found = await alice.payments(channelId, { ref: { memo } });
    expect(found.map((p) => [p.seq, p.amount, p.memo])).to.deep.equal([
      [0n, 5n, memo],
      [2n, 7n, memo],
    ]);
    expect(await alice.payments(channelId, { ref: hash })).to.deep.equal(found);
    const onBob = await bob.payments(channelId, { ref: hash });
    expect(onBob.map((p) => [p.seq, p.ref, p.memo])).to.deep.equal([
      [0n, hash, undefined],
      [2n, hash, undefined],
    ]);
    expect(onBob[0].committedAt).to.be.a("bigint");

    const long = "ü".repeat(129); // 258 bytes
    const refused = await alice.pay(channelId, 1n, { memo: long }).catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(InvalidMemoError);
    expect((await alice.channel(channelId)).payments).to.equal(3n);
    expect(await alice.payments(channelId, { ref: memoHash(long) })).to.deep.equal([]);
    await expect(alice.payments(channelId, { ref: { memo: long } })).to.be.rejectedWith(InvalidMemoError);
  });
});
