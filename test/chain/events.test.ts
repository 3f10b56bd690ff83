/**
 * Every event of the v2 adjudicator decodes into its typed record from a real transaction on the
 * Hardhat network: one scenario emits them all, and a table gives the record each must decode to.
 */
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import { keccak256, type EventFragment, type Signer } from "ethers";
import { Adjudicator__factory, RejectingReceiver__factory } from "../../typechain-types";
import {
  ADJUDICATOR_EVENT_NAMES,
  CHANNEL_EVENT_NAMES,
  decodeEvent,
  deployAdjudicator,
  increaseTime,
  parseReceiptEvents,
  type AdjudicatorEvent,
  type TxResult,
} from "../../src/chain";
import { hashlockOf, lockLeafHex } from "../../src/crypto";
import { LocksTree } from "../../src/merkle";
import { STATE_TYPES, WITHDRAWAL_TYPES, stateValue, withdrawalValue, type SluiceDomain } from "../../src/typedData";
import { ETH, openingState, type Address, type Hex, type Lock, type Params, type State, type Withdrawal } from "../../src/types";

const IFACE = Adjudicator__factory.createInterface();
const ETHER = 10n ** 18n;
const PERIOD = 600n;

async function signBoth(domain: SluiceDomain, signers: readonly [Signer, Signer], state: State): Promise<[Hex, Hex]> {
  return [
    (await signers[0].signTypedData(domain, STATE_TYPES, stateValue(state))) as Hex,
    (await signers[1].signTypedData(domain, STATE_TYPES, stateValue(state))) as Hex,
  ];
}

/** An event as the table expects it: everything but where it was emitted. */
type Expected = Omit<AdjudicatorEvent, "blockNumber" | "transactionHash" | "logIndex">;

describe("chain events", function () {
  async function fixture() {
    const [deployer, alice, bob, carol] = await ethers.getSigners();
    const driver = await deployAdjudicator(deployer);
    const domain = await driver.domain();
    const receiver = await new RejectingReceiver__factory(deployer).deploy();
    const rejecting = (await receiver.getAddress()) as Address;
    const participants: [Address, Address] = [(await alice.getAddress()) as Address, (await bob.getAddress()) as Address];
    const carolAddress = (await carol.getAddress()) as Address;
    // Participant 1's payee refuses ETH: each payment to it is credited, after the event that paid it.
    const params: Params = { participants, payees: [carolAddress, rejecting], asset: ETH, challengePeriod: PERIOD, nonce: 1n };
    const id = driver.channelId(params);
    const asAlice = driver.connect(alice);

    const deposited = await asAlice.deposit(params, 1, ETHER);
    await asAlice.deposit(params, 0, ETHER);

    const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const withdrawal: Withdrawal = { channelId: id, participant: 1, total: 7n, expiry: latest + 3_600n };
    const withdrawalSigs: [Hex, Hex] = [
      (await alice.signTypedData(domain, WITHDRAWAL_TYPES, withdrawalValue(withdrawal))) as Hex,
      (await bob.signTypedData(domain, WITHDRAWAL_TYPES, withdrawalValue(withdrawal))) as Hex,
    ];
    const withdrawn = await driver.partialWithdraw(params, { withdrawal, sigs: withdrawalSigs });

    const secret = keccak256(Buffer.from("the secret")) as Hex;
    const lock: Lock = { channelId: id, sender: 0, amount: 40n, hashlock: hashlockOf(secret), expiry: latest + 10_000n, ref: keccak256("0x0a") as Hex };
    const other: Lock = { ...lock, amount: 2n, ref: keccak256("0x0b") as Hex };
    const tree = new LocksTree(id, [lock, other]);
    const state: State = { ...openingState(id), version: 9n, transferred: [300n, 100n], locked: tree.locked, locksRoot: tree.root, paymentsRoot: keccak256("0x01") as Hex };
    const challenged = await driver.challenge(params, { state, sigs: await signBoth(domain, [alice, bob], state) });
    await increaseTime(ethers.provider, PERIOD);
    const settled = await driver.settle(params, state);
    const revealed = await driver.registerSecret(secret);
    const resolved = await driver.resolveLock(params, state, lock, tree.proof(lock).proof);

    await (await receiver.setAccepting(true)).wait();
    const credit = await driver.credits(rejecting, ETH);
    const withdrawTx = await (await receiver.execute(driver.address, driver.contract.interface.encodeFunctionData("withdraw", [ETH]))).wait();

    // A second channel, closed cooperatively.
    const plain: Params = { ...params, payees: participants, nonce: 2n };
    const plainId = driver.channelId(plain);
    await asAlice.deposit(plain, 0, 5n);
    const final: State = { ...openingState(plainId), version: 3n, transferred: [2n, 0n], isFinal: true };
    const closed = await driver.close(plain, { state: final, sigs: await signBoth(domain, [alice, bob], final) });

    return {
      driver,
      id,
      plainId,
      rejecting,
      participants,
      state,
      lock,
      secret,
      credit,
      settled,
      receipts: {
        deposited,
        withdrawn,
        challenged,
        settled,
        revealed,
        resolved,
        closed,
        withdrawTx: { hash: withdrawTx!.hash as Hex, blockNumber: withdrawTx!.blockNumber, gasUsed: withdrawTx!.gasUsed, receipt: withdrawTx! } as TxResult,
      },
    };
  }

  type Fixture = Awaited<ReturnType<typeof fixture>>;

  /** Each event: the transaction that emits it, and the record it must decode to (all but its location). */
  const TABLE: { name: (typeof ADJUDICATOR_EVENT_NAMES)[number]; tx: (f: Fixture) => TxResult; expected: (f: Fixture) => Expected[] }[] = [
    {
      name: "Deposited",
      tx: (f) => f.receipts.deposited,
      expected: (f) => [{ name: "Deposited", channelId: f.id, participant: 1, amount: ETHER, deposit: ETHER }],
    },
    {
      name: "PartiallyWithdrawn",
      tx: (f) => f.receipts.withdrawn,
      expected: (f) => [
        { name: "PartiallyWithdrawn", channelId: f.id, participant: 1, amount: 7n, total: 7n },
        { name: "Credited", owner: f.rejecting, asset: ETH, amount: 7n, channelId: f.id },
      ],
    },
    {
      name: "Challenged",
      tx: (f) => f.receipts.challenged,
      expected: (f) => [{ name: "Challenged", channelId: f.id, state: f.state, deadline: f.receipts.challenged.deadline }],
    },
    {
      name: "Settled",
      tx: (f) => f.receipts.settled,
      expected: (f) => {
        const payouts: [bigint, bigint] = [ETHER - 300n + 100n - 42n, ETHER - 7n + 300n - 100n];
        return [
          { name: "Settled", channelId: f.id, version: 9n, payouts, heldBack: [42n, 0n] },
          { name: "Credited", owner: f.rejecting, asset: ETH, amount: payouts[1], channelId: f.id },
        ];
      },
    },
    {
      name: "SecretRevealed",
      tx: (f) => f.receipts.revealed,
      expected: (f) => [{ name: "SecretRevealed", hashlock: f.lock.hashlock, secret: f.secret }],
    },
    {
      name: "LockResolved",
      tx: (f) => f.receipts.resolved,
      expected: (f) => [
        { name: "LockResolved", channelId: f.id, hashlock: f.lock.hashlock, leaf: lockLeafHex(f.lock), paidTo: 1, amount: 40n },
        { name: "Credited", owner: f.rejecting, asset: ETH, amount: 40n, channelId: f.id },
      ],
    },
    {
      name: "Credited",
      tx: (f) => f.receipts.resolved,
      expected: (f) => [
        { name: "LockResolved", channelId: f.id, hashlock: f.lock.hashlock, leaf: lockLeafHex(f.lock), paidTo: 1, amount: 40n },
        { name: "Credited", owner: f.rejecting, asset: ETH, amount: 40n, channelId: f.id },
      ],
    },
    {
      name: "Withdrawn",
      tx: (f) => f.receipts.withdrawTx,
      expected: (f) => [{ name: "Withdrawn", owner: f.rejecting, asset: ETH, to: f.rejecting, amount: f.credit }],
    },
    {
      name: "Closed",
      tx: (f) => f.receipts.closed,
      expected: (f) => [{ name: "Closed", channelId: f.plainId, version: 3n, payouts: [3n, 2n] }],
    },
  ];

  it("the table covers every event of the adjudicator's ABI but ERC-5267's EIP712DomainChanged, which it never emits", function () {
    const fragments: EventFragment[] = [];
    IFACE.forEachEvent((e) => fragments.push(e));
    const emitted = fragments.filter((e) => e.name !== "EIP712DomainChanged");
    const names = emitted.map((e) => e.name);
    expect(TABLE.map((r) => r.name).sort()).to.deep.equal([...names].sort());
    expect([...ADJUDICATOR_EVENT_NAMES].sort()).to.deep.equal([...names].sort());
    // The channel events are those whose first argument is the indexed channel id.
    const indexedByChannel = emitted.filter((e) => e.inputs[0]?.indexed && e.inputs[0].name === "channelId").map((e) => e.name);
    expect([...CHANNEL_EVENT_NAMES].sort()).to.deep.equal(indexedByChannel.sort());
  });

  for (const row of TABLE) {
    it(`decodes ${row.name} from the transaction that emitted it`, async function () {
      const f = await loadFixture(fixture);
      const tx = row.tx(f);
      const events = parseReceiptEvents(tx.receipt, f.driver.address);
      expect(events.some((e) => e.name === row.name)).to.equal(true);
      const located = events.map((e) => {
        const { blockNumber, transactionHash, logIndex, ...rest } = e;
        // Where: the receipt's own log.
        const log = tx.receipt.logs.find((l) => l.index === logIndex)!;
        expect([blockNumber, transactionHash]).to.deep.equal([log.blockNumber, log.transactionHash]);
        // One log alone decodes the same, but a credit needs the transaction to know its channel.
        expect(decodeEvent(log)).to.deep.equal(e.name === "Credited" ? { ...e, channelId: null } : e);
        return rest;
      });
      expect(located).to.deep.equal(row.expected(f));
    });
  }

  it("fetches a channel's events with the credits of its withdrawals, settlement and locks, and without secrets or credit withdrawals", async function () {
    const f = await loadFixture(fixture);
    const events = await f.driver.events({ channelId: f.id, blockRange: 3 });
    expect(events.map((e) => e.name)).to.deep.equal([
      "Deposited",
      "Deposited",
      "PartiallyWithdrawn",
      "Credited",
      "Challenged",
      "Settled",
      "Credited",
      "LockResolved",
      "Credited",
    ]);
    expect(events.every((e) => e.name !== "Credited" || e.channelId === f.id)).to.equal(true);
    const credits = await f.driver.events({ channelId: f.id, names: ["Credited"] });
    expect(credits.map((e) => e.name === "Credited" && e.amount)).to.deep.equal([7n, f.settled.payouts[1], 40n]);
    expect(await f.driver.events({ channelId: f.plainId })).to.have.length(2);
    const everything = await f.driver.events({});
    expect(everything.filter((e) => e.name === "SecretRevealed" || e.name === "Withdrawn")).to.have.length(2);
  });

  it("registeredState finds the state of the running challenge in its Challenged event", async function () {
    const { driver, participants } = await loadFixture(fixture);
    const [, alice, bob] = await ethers.getSigners();
    const domain = await driver.domain();
    const params: Params = { participants, payees: participants, asset: ETH, challengePeriod: PERIOD, nonce: 3n };
    const id = driver.channelId(params);
    await driver.deposit(params, 0, 10n);
    const registered: State = { ...openingState(id), version: 4n, transferred: [3n, 0n] };
    await driver.connect(alice).challengeOpening(params);
    await driver.challenge(params, { state: registered, sigs: await signBoth(domain, [alice, bob], registered) });
    expect(await driver.registeredState(id)).to.deep.equal(registered);
    await increaseTime(ethers.provider, PERIOD);
    await driver.settle(params, await driver.registeredState(id));
    let error: unknown;
    try {
      await driver.registeredState(id);
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property("name", "ChainResponseError");
  });
});
