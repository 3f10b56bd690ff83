/**
 * Payment refs on real nodes (two in one process, embedded chain): the payer's node keeps the memo
 * beside the ref hash, the peer and the payment leaf see only the hash, both keep the commit time,
 * and either node finds a payment by its ref. A ref is the payer's idempotency key in the channel.
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
import { PaymentRefConflictError } from "../../src/node/ownPayments";
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

  /** Alice (participant 0) and Bob, started, with a channel Alice opened and funded with 1 ETH; `deposit` from Bob too. */
  async function pair(bobDeposit = 0n) {
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
    if (bobDeposit > 0n) await bob.deposit(channelId, bobDeposit);
    return { alice, bob, channelId, adjudicator: driver.address };
  }

  it("keeps the memo on the payer's node only, the time on both, the leaf as before; finds payments by ref; refuses a long memo untouched", async function () {
    const { alice, bob, channelId } = await pair(10n ** 18n);

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
    // The peer's payment with the same ref is another payment (a ref is a key of its payer only).
    await bob.pay(channelId, 7n, hash);
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

  it("a ref paid before a restart is found after it, for either payer: the node reads its refs back with its payment log", async function () {
    const { alice, bob, channelId, adjudicator } = await pair(10n ** 18n);
    const refs = [1, 2, 3].map((i) => ethers.id(`restart ${i}`) as Hex);
    const paid = [await alice.pay(channelId, 11n, refs[0]), await bob.pay(channelId, 12n, refs[1]), await alice.pay(channelId, 13n, refs[2])];
    for (const node of [alice, bob]) await node.stop();
    nodes = [];
    const again = (i: number) =>
      new SluiceNode({ privateKey: devKey(i), provider: ethers.provider, adjudicator, storePath: path.join(dir, `node${i}`, "store.sqlite"), pollMs: 50, challengePeriod: 600n });
    const alice2 = again(1);
    const bob2 = again(2);
    nodes.push(alice2, bob2);
    await bob2.start();
    await alice2.start();
    // Each retry finds the stored payment (before any connection is needed), and pays nothing.
    expect(await alice2.pay(channelId, 11n, refs[0])).to.deep.include({ seq: paid[0].seq, replayed: true });
    expect(await bob2.pay(channelId, 12n, refs[1])).to.deep.include({ seq: paid[1].seq, replayed: true });
    expect(await alice2.pay(channelId, 13n, refs[2])).to.deep.include({ seq: paid[2].seq, replayed: true });
    expect(await alice2.pay(channelId, 14n, refs[0]).catch((error: unknown) => error)).to.be.instanceOf(PaymentRefConflictError);
    expect(await bob2.pay(channelId, 15n, refs[1]).catch((error: unknown) => error)).to.be.instanceOf(PaymentRefConflictError);
    expect((await alice2.channel(channelId)).payments).to.equal(3n);
  });

  it("a ref is the payer's idempotency key: concurrent and later duplicates get the first payment and pay nothing; another amount is refused", async function () {
    const { alice, bob, channelId } = await pair(10n ** 18n);
    for (const [payer, name] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      const memo = `order ${name}-1`;
      // Ten calls at once: one payment; every caller gets it.
      const answers = await Promise.all(Array.from({ length: 10 }, () => payer.pay(channelId, 25n, { memo })));
      const seqs = new Set(answers.map((a) => a.seq));
      expect(seqs.size, `${name}: one payment`).to.equal(1);
      expect(answers.filter((a) => a.replayed !== true), `${name}: one original answer`).to.have.length(1);
      for (const a of answers) expect(a).to.deep.include({ amount: 25n, ref: memoHash(memo), memo, version: answers[0].version });
      // Later, by ref or by memo: the same payment again, from the store.
      const later = await payer.pay(channelId, 25n, memoHash(memo));
      expect(later).to.deep.include({ seq: answers[0].seq, version: answers[0].version, committedAt: answers[0].committedAt, replayed: true });
      // Another amount with that ref: refused, nothing paid; in flight too.
      const conflict = await payer.pay(channelId, 26n, { memo }).catch((error: unknown) => error);
      expect(conflict).to.be.instanceOf(PaymentRefConflictError);
      expect((conflict as PaymentRefConflictError).original).to.deep.equal({ amount: 25n, seq: answers[0].seq });
      const [first, second] = await Promise.allSettled([payer.pay(channelId, 30n, { memo: `${memo}b` }), payer.pay(channelId, 31n, { memo: `${memo}b` })]);
      expect(first.status).to.equal("fulfilled");
      expect(second.status === "rejected" && second.reason instanceof PaymentRefConflictError, `${name}: in-flight conflict`).to.equal(true);
    }
    // Both nodes agree: four payments in all (two per payer), each ref once.
    for (const node of [alice, bob]) {
      const all = await node.payments(channelId, {});
      expect(all.map((p) => [p.payer, p.amount])).to.deep.equal([
        [0, 25n],
        [0, 30n],
        [1, 25n],
        [1, 30n],
      ]);
    }
    const view = await alice.channel(channelId);
    expect(view.transferred).to.deep.equal([55n, 55n]);
    // Each node's direction is its own: Alice's sent are Bob's received.
    const amounts = (list: { amount: bigint }[]) => list.map((p) => p.amount);
    expect(amounts(await alice.payments(channelId, { direction: "sent" }))).to.deep.equal([25n, 30n]);
    expect(amounts(await bob.payments(channelId, { direction: "received" }))).to.deep.equal([25n, 30n]);
    expect(amounts(await bob.payments(channelId, { direction: "sent", fromSeq: 3n }))).to.deep.equal([30n]);
    const now = BigInt(Math.floor(Date.now() / 1000));
    expect(await alice.payments(channelId, { since: now + 10n })).to.deep.equal([]);
    expect(await alice.payments(channelId, { until: now + 10n })).to.have.length(4);
    // Without a ref, each payment is a new one.
    await alice.pay(channelId, 1n, `0x${"00".repeat(32)}`);
    await alice.pay(channelId, 1n, `0x${"00".repeat(32)}`);
    expect((await alice.channel(channelId)).payments).to.equal(6n);
  });
});
