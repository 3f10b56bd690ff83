/**
 * The chain driver end to end on three backends: the in-process Hardhat network, a `hardhat node`
 * process and an anvil process (both on free loopback ports, stopped after the suite). Every
 * write of the v2 adjudicator goes through the driver, with its results, views and typed errors.
 */
import { expect } from "chai";
import hre from "hardhat";
import { AbiCoder, TypedDataEncoder, keccak256, sha256, type Filter, type Provider, type Signer } from "ethers";
import {
  BlockingERC20__factory,
  MockERC20__factory,
  RejectingReceiver__factory,
  type BlockingERC20,
  type MockERC20,
} from "../../typechain-types";
import {
  AdjudicatorDriver,
  ChallengeExpiredError,
  ChallengePendingError,
  ChannelChallengedError,
  ChannelConcludedError,
  ChannelNotConcludedError,
  DepositValueMismatchError,
  LockAlreadyResolvedError,
  LockNothingHeldError,
  LockPendingError,
  LockProofInvalidError,
  OpeningChallengeUnauthorizedError,
  SecretAlreadyRevealedError,
  SignatureInvalidError,
  StateStaleError,
  StateUnknownError,
  WithdrawFailedError,
  WithdrawNothingError,
  WithdrawalExceedsHoldingsError,
  WithdrawalExpiredError,
  ContractRevertError,
  decodeRevert,
  deployAdjudicator,
  fetchEvents,
  increaseTime,
  paramsStruct,
  startLocalNode,
  type AdjudicatorEvent,
  type LocalNode,
} from "../../src/chain";
import { hashlockOf, lockLeafHex } from "../../src/crypto";
import { ValueOutOfRangeError } from "../../src/errors";
import { LocksTree } from "../../src/merkle";
import { PAYMENT_ABI_TYPE, STATE_TYPES, WITHDRAWAL_TYPES, stateValue, withdrawalValue, type SluiceDomain } from "../../src/typedData";
import {
  ChannelMode,
  ETH,
  ZERO_HASH,
  openingState,
  type Address,
  type Hex,
  type Lock,
  type Params,
  type Payment,
  type SignedWithdrawal,
  type State,
  type Withdrawal,
} from "../../src/types";

interface Env {
  provider: Provider & { send(method: string, params: unknown[]): Promise<unknown> };
  /** deployer, alice, bob, carol, dave */
  signers: [Signer, Signer, Signer, Signer, Signer];
}

interface Backend {
  name: string;
  start(): Promise<{ env: Env; stop: () => Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "in-process Hardhat network",
    start: async () => {
      const s = await hre.ethers.getSigners();
      return { env: { provider: hre.ethers.provider, signers: [s[0], s[1], s[2], s[3], s[4]] }, stop: async () => {} };
    },
  },
  ...(["hardhat", "anvil"] as const).map(
    (kind): Backend => ({
      name: `${kind} node over JSON-RPC`,
      start: async () => {
        const node: LocalNode = await startLocalNode({ kind });
        const [a, b, c, d, e] = node.wallets(5);
        return { env: { provider: node.provider, signers: [a, b, c, d, e] }, stop: () => node.stop() };
      },
    }),
  ),
];

const coder = AbiCoder.defaultAbiCoder();
const ETHER = 10n ** 18n;
const PERIOD = 600n;

async function addressOf(signer: Signer): Promise<Address> {
  return (await signer.getAddress()) as Address;
}

async function signBoth(domain: SluiceDomain, signers: readonly [Signer, Signer], state: State): Promise<[Hex, Hex]> {
  const sign = (s: Signer) => s.signTypedData(domain, STATE_TYPES, stateValue(state)) as Promise<Hex>;
  return [await sign(signers[0]), await sign(signers[1])];
}

async function signWithdrawal(domain: SluiceDomain, signers: readonly [Signer, Signer], withdrawal: Withdrawal): Promise<SignedWithdrawal> {
  const sign = (s: Signer) => s.signTypedData(domain, WITHDRAWAL_TYPES, withdrawalValue(withdrawal)) as Promise<Hex>;
  return { withdrawal, sigs: [await sign(signers[0]), await sign(signers[1])] };
}

/** Runs `action` and returns what it threw; fails if it did not throw. */
async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  expect.fail("expected the call to throw");
}

/** Runs `action`, expects it to throw an instance of `Class` with exactly `args`, and returns the error. */
async function expectTyped<E extends ContractRevertError>(
  action: () => Promise<unknown>,
  Class: new (...a: never[]) => E,
  args: Record<string, unknown>,
): Promise<E> {
  const error = await thrown(action);
  expect(error, String(error)).to.be.instanceOf(Class);
  expect((error as E).args).to.deep.equal(args);
  expect((error as E).cause).to.not.equal(undefined);
  return error as E;
}

function paymentLeaf(payment: Payment): Hex {
  return keccak256(keccak256(coder.encode([PAYMENT_ABI_TYPE], [payment]))) as Hex;
}

const secretOf = (label: string): Hex => keccak256(Buffer.from(label)) as Hex;

for (const backend of BACKENDS) {
  describe(`chain driver on the ${backend.name}`, function () {
    let stop: (() => Promise<void>) | undefined;
    let env: Env;
    let driver: AdjudicatorDriver;
    let asAlice: AdjudicatorDriver;
    let asBob: AdjudicatorDriver;
    let asCarol: AdjudicatorDriver;
    let domain: SluiceDomain;
    let alice: Signer;
    let bob: Signer;
    let participants: [Address, Address];
    /** carol and dave: payees apart from the signing keys. */
    let payees: [Address, Address];
    let token: MockERC20;
    let nextNonce = 1n;
    let startBlock = 0;

    const params = (asset: Address = ETH, to: [Address, Address] = participants): Params => ({
      participants,
      payees: to,
      asset,
      challengePeriod: PERIOD,
      nonce: nextNonce++,
    });

    async function openEth(p: Params, each = ETHER): Promise<void> {
      await asAlice.deposit(p, 0, each);
      await asBob.deposit(p, 1, each);
    }

    async function latestTimestamp(): Promise<bigint> {
      const block = await env.provider.getBlock("latest");
      return BigInt(block!.timestamp);
    }

    before(async function () {
      this.timeout(120_000);
      const started = await backend.start();
      stop = started.stop;
      env = started.env;
      [, alice, bob] = env.signers;
      startBlock = await env.provider.getBlockNumber();
      driver = await deployAdjudicator(env.signers[0]);
      asAlice = driver.connect(alice);
      asBob = driver.connect(bob);
      asCarol = driver.connect(env.signers[3]);
      domain = await driver.domain();
      participants = [await addressOf(alice), await addressOf(bob)];
      payees = [await addressOf(env.signers[3]), await addressOf(env.signers[4])];
      token = await new MockERC20__factory(env.signers[0]).deploy("Dollar", "USD", 6);
      await token.waitForDeployment();
    });

    after(async function () {
      this.timeout(30_000);
      await stop?.();
    });

    it("reads the domain from eip712Domain() and computes ids and digests like the contract", async function () {
      const { chainId } = await env.provider.getNetwork();
      expect(domain).to.deep.equal({ name: "Sluice", version: "2", chainId, verifyingContract: driver.address });
      expect(await driver.eip712Domain()).to.deep.equal({
        fields: "0x0f",
        name: "Sluice",
        version: "2",
        chainId,
        verifyingContract: driver.address,
        salt: ZERO_HASH,
        extensions: [],
      });
      const p = params(ETH, payees);
      const id = driver.channelId(p);
      expect(id).to.equal(await driver.channelIdOnChain(p));
      expect(driver.channelId({ ...p, nonce: p.nonce + 1n })).to.not.equal(id);
      expect(driver.channelId({ ...p, payees: participants })).to.not.equal(id);
      const state: State = { ...openingState(id), version: 7n, transferred: [1n, 2n], locked: [3n, 4n], locksRoot: keccak256("0x02") as Hex, paymentsRoot: keccak256("0x01") as Hex };
      expect(await driver.hashState(state)).to.equal(TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(state)));
      const w: Withdrawal = { channelId: id, participant: 1, total: 5n, expiry: 99n };
      expect(await driver.hashWithdrawal(w)).to.equal(TypedDataEncoder.hash(domain, WITHDRAWAL_TYPES, withdrawalValue(w)));
      expect(await driver.channel(id)).to.deep.equal({ mode: ChannelMode.None, version: 0n, deadline: 0n, deposits: [0n, 0n], withdrawn: [0n, 0n] });
      expect(await driver.heldBack(id)).to.deep.equal([0n, 0n]);
    });

    it("deposits ETH, reports the status, and decodes DepositValueMismatch", async function () {
      const p = params();
      const id = driver.channelId(p);
      const first = await asAlice.deposit(p, 0, ETHER);
      expect(first.gasUsed > 0n).to.equal(true);
      expect(first.receipt.status).to.equal(1);
      expect([first.approval, first.received, first.deposit]).to.deep.equal([null, ETHER, ETHER]);
      const topUp = await asBob.deposit(p, 0, 2n);
      expect(topUp.deposit).to.equal(ETHER + 2n);
      expect(await driver.channel(id)).to.deep.equal({ mode: ChannelMode.Open, version: 0n, deadline: 0n, deposits: [ETHER + 2n, 0n], withdrawn: [0n, 0n] });
      expect(await driver.channelStatus(id)).to.deep.equal(await driver.channel(id));

      // Wrong msg.value, straight through the typechain contract (estimateGas-time revert).
      const error = await thrown(() => driver.contract.connect(alice).deposit(paramsStruct(p), 1, 5n, { value: 4n }));
      const decoded = decodeRevert(error);
      expect(decoded).to.be.instanceOf(DepositValueMismatchError);
      expect(decoded!.args).to.deep.equal({ value: 4n, expected: 5n });
      expect((decoded as Error).cause).to.equal(error);
    });

    it("deposits an ERC-20, approving the adjudicator first when the allowance is short", async function () {
      const asset = (await token.getAddress()) as Address;
      const p = params(asset);
      await (await token.mint(participants[0], 1_000n)).wait();
      await (await token.mint(participants[1], 1_000n)).wait();

      const first = await asAlice.deposit(p, 0, 300n);
      expect(first.approval).to.not.equal(null);
      expect(first.approval!.gasUsed > 0n).to.equal(true);
      expect(first.deposit).to.equal(300n);
      expect(await token.allowance(participants[0], driver.address)).to.equal(0n);

      const unlimited = await asBob.deposit(p, 1, 100n, { approve: "unlimited" });
      expect(unlimited.approval).to.not.equal(null);
      const second = await asBob.deposit(p, 1, 50n);
      expect(second.approval).to.equal(null);
      expect(second.deposit).to.equal(150n);
      expect((await driver.channel(driver.channelId(p))).deposits).to.deep.equal([300n, 150n]);

      // Attached ETH on a token channel: the contract expects none.
      const error = await thrown(() => driver.contract.connect(alice).deposit(paramsStruct(p), 0, 1n, { value: 1n }));
      const decoded = decodeRevert(error);
      expect(decoded).to.be.instanceOf(DepositValueMismatchError);
      expect(decoded!.args).to.deep.equal({ value: 1n, expected: 0n });
    });

    it("withdraws while open: pays the payee, replays as a no-op, and decodes the withdrawal errors", async function () {
      const p = params(ETH, payees);
      const id = driver.channelId(p);
      await openEth(p);
      const expiry = (await latestTimestamp()) + 3_600n;
      const w1 = await signWithdrawal(domain, [alice, bob], { channelId: id, participant: 1, total: ETHER / 4n, expiry });

      // Anyone may submit it (carol here); the money goes to dave, bob's payee.
      const daveBefore = await env.provider.getBalance(payees[1]);
      const done = await asCarol.partialWithdraw(p, w1);
      expect([done.executed, done.amount, done.total, done.credited]).to.deep.equal([true, ETHER / 4n, ETHER / 4n, []]);
      expect(await env.provider.getBalance(payees[1])).to.equal(daveBefore + ETHER / 4n);
      expect((await driver.channel(id)).withdrawn).to.deep.equal([0n, ETHER / 4n]);

      // The same withdrawal again pays nothing and reverts nothing.
      const replay = await asCarol.partialWithdraw(p, w1);
      expect([replay.executed, replay.amount, replay.total]).to.deep.equal([false, 0n, ETHER / 4n]);
      expect(await env.provider.getBalance(payees[1])).to.equal(daveBefore + ETHER / 4n);

      // A higher total pays the difference.
      const w2 = await signWithdrawal(domain, [alice, bob], { ...w1.withdrawal, total: ETHER / 2n });
      const more = await asAlice.partialWithdraw(p, w2);
      expect([more.amount, more.total]).to.deep.equal([ETHER / 4n, ETHER / 2n]);

      const holdings = 2n * ETHER - ETHER / 2n;
      const tooMuch = await signWithdrawal(domain, [alice, bob], { channelId: id, participant: 0, total: holdings + 1n, expiry });
      await expectTyped(() => asAlice.partialWithdraw(p, tooMuch), WithdrawalExceedsHoldingsError, { amount: holdings + 1n, holdings });

      const forged = { ...w2, sigs: [w2.sigs[0], w2.sigs[0]] as [Hex, Hex] };
      await expectTyped(() => asAlice.partialWithdraw(p, forged), SignatureInvalidError, { participant: 1 });

      const soon = await signWithdrawal(domain, [alice, bob], { channelId: id, participant: 0, total: 1n, expiry: (await latestTimestamp()) + 5n });
      await increaseTime(env.provider, 60);
      await expectTyped(() => asAlice.partialWithdraw(p, soon), WithdrawalExpiredError, { expiry: soon.withdrawal.expiry });

      // During a challenge no withdrawal goes through.
      const challenged = await asAlice.challengeOpening(p);
      const w3 = await signWithdrawal(domain, [alice, bob], { channelId: id, participant: 0, total: 1n, expiry: expiry + 3_600n });
      await expectTyped(() => asAlice.partialWithdraw(p, w3), ChannelChallengedError, { channelId: id, deadline: challenged.deadline });

      const events = await driver.events({ fromBlock: startBlock, channelId: id, names: ["PartiallyWithdrawn"] });
      expect(events.map((e) => e.name === "PartiallyWithdrawn" && [e.participant, e.amount, e.total])).to.deep.equal([
        [1, ETHER / 4n, ETHER / 4n],
        [1, ETHER / 4n, ETHER / 2n],
      ]);
    });

    it("challenges, refutes, rejects stale states, early settles and unknown states, then settles the registered state to the payees", async function () {
      const p = params(ETH, payees);
      const id = driver.channelId(p);
      await openEth(p);
      const v1: State = { ...openingState(id), version: 1n, transferred: [ETHER / 10n, 0n] };
      const v2: State = { ...v1, version: 2n, transferred: [ETHER / 4n, ETHER / 20n] };
      const s1 = { state: v1, sigs: await signBoth(domain, [alice, bob], v1) };
      const s2 = { state: v2, sigs: await signBoth(domain, [alice, bob], v2) };

      const registered = await asBob.challenge(p, s1);
      expect([registered.version, registered.state]).to.deep.equal([1n, v1]);
      const refuted = await asAlice.challenge(p, s2);
      expect(refuted.deadline).to.equal(registered.deadline);
      expect(refuted.state).to.deep.equal(v2);
      expect(await driver.channel(id)).to.deep.equal({
        mode: ChannelMode.Challenged,
        version: 2n,
        deadline: registered.deadline,
        deposits: [ETHER, ETHER],
        withdrawn: [0n, 0n],
      });
      expect(await driver.registeredState(id, { fromBlock: startBlock })).to.deep.equal(v2);

      await expectTyped(() => asBob.challenge(p, s1), StateStaleError, { version: 1n, registeredVersion: 2n });
      await expectTyped(() => asBob.settle(p, v2), ChallengePendingError, { deadline: registered.deadline });

      // With a fixed gas limit there is no estimation: the node mines the reverting transaction
      // (anvil) or rejects it at submission (Hardhat); either way the same typed error.
      const mined = await expectTyped(() => asBob.settle(p, v2, { gasLimit: 500_000n }), ChallengePendingError, { deadline: registered.deadline });
      expect(mined.transactionHash).to.match(/^0x[0-9a-f]{64}$/);
      expect((await env.provider.getTransactionReceipt(mined.transactionHash!))?.status).to.equal(0);

      await increaseTime(env.provider, PERIOD);
      await expectTyped(() => asBob.challenge(p, { state: { ...v2, version: 3n }, sigs: s2.sigs }), ChallengeExpiredError, {
        deadline: registered.deadline,
      });
      // settle takes back exactly the registered state.
      await expectTyped(() => asBob.settle(p, v1), StateUnknownError, { channelId: id });

      const before = [await env.provider.getBalance(payees[0]), await env.provider.getBalance(payees[1])];
      const settled = await asAlice.settle(p, v2);
      expect(settled.version).to.equal(2n);
      expect(settled.payouts).to.deep.equal([ETHER - ETHER / 4n + ETHER / 20n, ETHER + ETHER / 4n - ETHER / 20n]);
      expect([settled.heldBack, settled.credited]).to.deep.equal([[0n, 0n], []]);
      expect([await env.provider.getBalance(payees[0]), await env.provider.getBalance(payees[1])]).to.deep.equal([
        before[0] + settled.payouts[0],
        before[1] + settled.payouts[1],
      ]);
      expect(await driver.channel(id)).to.deep.equal({ mode: ChannelMode.Concluded, version: 0n, deadline: 0n, deposits: [0n, 0n], withdrawn: [0n, 0n] });

      await expectTyped(() => asAlice.deposit(p, 0, 1n), ChannelConcludedError, { channelId: id });
      const mineConcluded = await thrown(() => asAlice.deposit(p, 0, 1n, { gasLimit: 200_000n }));
      expect(mineConcluded).to.be.instanceOf(ChannelConcludedError);

      const events = await driver.events({ fromBlock: 0, channelId: id, blockRange: 3 });
      expect(events.map((e) => e.name)).to.deep.equal(["Deposited", "Deposited", "Challenged", "Challenged", "Settled"]);
      const last = events[3];
      expect(last.name === "Challenged" && last.state).to.deep.equal(v2);
      expect(events[4].transactionHash).to.equal(settled.hash);
      expect(events[4].blockNumber).to.equal(settled.blockNumber);
    });

    it("closes cooperatively, rejects a state not signed by both, and verifies a payment of the final state", async function () {
      const p = params();
      const id = driver.channelId(p);
      await openEth(p);
      const payment: Payment = { channelId: id, seq: 1n, payer: 0, amount: ETHER / 5n, ref: keccak256("0x1234") as Hex };
      const root = paymentLeaf(payment);
      const final: State = { ...openingState(id), version: 1n, transferred: [ETHER / 5n, 0n], paymentsRoot: root, isFinal: true };

      const aliceTwice = await signBoth(domain, [alice, alice], final);
      const forged = await expectTyped(() => asAlice.close(p, { state: final, sigs: aliceTwice }), SignatureInvalidError, { participant: 1 });
      expect(forged.errorName).to.equal("SignatureInvalid");

      expect(await driver.verifyPayment(id, final, payment, [])).to.equal(false);
      const bobBefore = await env.provider.getBalance(participants[1]);
      const closed = await asAlice.close(p, { state: final, sigs: await signBoth(domain, [alice, bob], final) });
      expect(closed.payouts).to.deep.equal([ETHER - ETHER / 5n, ETHER + ETHER / 5n]);
      expect(closed.heldBack).to.deep.equal([0n, 0n]);
      expect(await env.provider.getBalance(participants[1])).to.equal(bobBefore + ETHER + ETHER / 5n);

      expect(await driver.verifyPayment(id, final, payment, [])).to.equal(true);
      expect(await driver.verifyPayment(id, final, { ...payment, amount: 1n }, [])).to.equal(false);
      expect(await driver.verifyPayment(id, { ...final, version: 2n }, payment, [])).to.equal(false);

      const sigs = await signBoth(domain, [alice, bob], final);
      await expectTyped(() => asBob.close(p, { state: final, sigs }), ChannelConcludedError, { channelId: id });
    });

    it("lets a participant or a payee, and no one else, start a dispute from the unsigned opening state", async function () {
      const outsider = driver.connect(env.signers[0]);
      const p = params(ETH, payees);
      await openEth(p, 10n);
      await expectTyped(() => outsider.challengeOpening(p), OpeningChallengeUnauthorizedError, { caller: await addressOf(env.signers[0]) });
      const byPayee = await asCarol.challengeOpening(p);
      expect([byPayee.version, byPayee.state]).to.deep.equal([0n, openingState(driver.channelId(p))]);
      expect((await driver.channel(driver.channelId(p))).mode).to.equal(ChannelMode.Challenged);

      const q = params(ETH, payees);
      await openEth(q, 10n);
      expect((await asBob.challengeOpening(q)).version).to.equal(0n);
    });

    it("holds back locked amounts at settlement and resolves each lock by the secret registry", async function () {
      const p = params(ETH, payees);
      const id = driver.channelId(p);
      await openEth(p);
      const expiry = (await latestTimestamp()) + 3n * PERIOD;
      const secrets = [secretOf(`${backend.name} a`), secretOf(`${backend.name} b`), secretOf(`${backend.name} c`)];
      const lock = (sender: 0 | 1, amount: bigint, secret: Hex): Lock => ({
        channelId: id,
        sender,
        amount,
        hashlock: hashlockOf(secret),
        expiry,
        ref: keccak256(secret) as Hex,
      });
      // a: alice pays bob, secret in time; b: alice's, never revealed; c: bob's, revealed too late.
      const [a, b, c] = [lock(0, 30n, secrets[0]), lock(0, 20n, secrets[1]), lock(1, 10n, secrets[2])];
      const tree = new LocksTree(id, [a, b, c]);
      const state: State = { ...openingState(id), version: 4n, transferred: [100n, 0n], locked: tree.locked, locksRoot: tree.root };
      await asAlice.challenge(p, { state, sigs: await signBoth(domain, [alice, bob], state) });

      await expectTyped(() => asCarol.resolveLock(p, state, a, tree.proof(a).proof), ChannelNotConcludedError, { channelId: id });
      await increaseTime(env.provider, PERIOD);
      const settled = await asCarol.settle(p, state);
      expect(settled.heldBack).to.deep.equal([50n, 10n]);
      expect(settled.payouts).to.deep.equal([ETHER - 100n - 50n, ETHER + 100n - 10n]);
      expect(await driver.heldBack(id)).to.deep.equal([50n, 10n]);

      // A secret is 32 bytes: anything else is refused before a transaction is sent.
      expect(await thrown(() => asCarol.registerSecret("0x1234"))).to.be.instanceOf(ValueOutOfRangeError);
      const revealed = await asCarol.registerSecret(secrets[0]);
      expect([revealed.hashlock, revealed.secret]).to.deep.equal([a.hashlock, secrets[0]]);
      expect(revealed.hashlock).to.equal(sha256(secrets[0]));
      expect(await driver.secretRevealedAt(a.hashlock)).to.equal(revealed.revealedAt);
      expect(await driver.secretRevealedAt(b.hashlock)).to.equal(0n);
      await expectTyped(() => asBob.registerSecret(secrets[0]), SecretAlreadyRevealedError, { hashlock: a.hashlock, revealedAt: revealed.revealedAt });

      // b: unrevealed and not expired yet.
      await expectTyped(() => asCarol.resolveLock(p, state, b, tree.proof(b).proof), LockPendingError, { expiry });
      // A proof for another leaf.
      await expectTyped(() => asCarol.resolveLock(p, state, a, tree.proof(b).proof), LockProofInvalidError, { leaf: lockLeafHex(a) });

      const daveBefore = await env.provider.getBalance(payees[1]);
      const paidA = await asCarol.resolveLock(p, state, a, tree.proof(a).proof);
      expect([paidA.leaf, paidA.hashlock, paidA.paidTo, paidA.amount, paidA.credited]).to.deep.equal([lockLeafHex(a), a.hashlock, 1, 30n, []]);
      expect(await env.provider.getBalance(payees[1])).to.equal(daveBefore + 30n);
      expect(await driver.lockResolved(a)).to.equal(true);
      expect(await driver.lockResolved(lockLeafHex(b))).to.equal(false);
      await expectTyped(() => asCarol.resolveLock(p, state, a, tree.proof(a).proof), LockAlreadyResolvedError, { leaf: lockLeafHex(a) });

      await increaseTime(env.provider, 3n * PERIOD);
      await asCarol.registerSecret(secrets[2]); // after c's expiry: too late
      const paidB = await asCarol.resolveLock(p, state, b, tree.proof(b).proof);
      expect([paidB.paidTo, paidB.amount]).to.deep.equal([0, 20n]);
      const paidC = await asCarol.resolveLock(p, state, c, tree.proof(c).proof);
      expect([paidC.paidTo, paidC.amount]).to.deep.equal([1, 10n]);
      expect(await driver.heldBack(id)).to.deep.equal([0n, 0n]);
      // Nothing held for alice any more: b can't pay twice, and needs no record.
      await expectTyped(() => asCarol.resolveLock(p, state, b, tree.proof(b).proof), LockNothingHeldError, { leaf: lockLeafHex(b) });

      const events = await driver.events({ fromBlock: startBlock, channelId: id, names: ["Settled", "LockResolved"] });
      expect(events.map((e) => (e.name === "LockResolved" ? [e.leaf, e.paidTo, e.amount] : [e.name]))).to.deep.equal([
        ["Settled"],
        [lockLeafHex(a), 1, 30n],
        [lockLeafHex(b), 0, 20n],
        [lockLeafHex(c), 1, 10n],
      ]);
      const reveals = await driver.events({ fromBlock: startBlock, names: ["SecretRevealed"] });
      expect(reveals.filter((e) => e.name === "SecretRevealed" && [a.hashlock, c.hashlock].includes(e.hashlock)).length).to.equal(2);
    });

    it("credits an ETH payout that a payee contract refuses, and the contract withdraws it", async function () {
      const receiver = await new RejectingReceiver__factory(env.signers[0]).deploy();
      await receiver.waitForDeployment();
      const receiverAddress = (await receiver.getAddress()) as Address;
      const p = params(ETH, [participants[0], receiverAddress]);
      const id = driver.channelId(p);
      await asAlice.deposit(p, 0, 3n);
      await asAlice.deposit(p, 1, 4n);
      await asAlice.challengeOpening(p);
      await increaseTime(env.provider, PERIOD);
      const settled = await asAlice.settle(p, openingState(id));
      expect(settled.payouts).to.deep.equal([3n, 4n]);
      expect(settled.credited).to.deep.equal([{ owner: receiverAddress, asset: ETH, amount: 4n }]);
      expect(await driver.credits(receiverAddress, ETH)).to.equal(4n);

      await (await receiver.setAccepting(true)).wait();
      const withdrawData = driver.contract.interface.encodeFunctionData("withdraw", [ETH]);
      await (await receiver.execute(driver.address, withdrawData)).wait();
      expect(await driver.credits(receiverAddress, ETH)).to.equal(0n);
      expect(await env.provider.getBalance(receiverAddress)).to.equal(4n);

      const channelEvents = await driver.events({ fromBlock: startBlock, channelId: id, blockRange: 4 });
      expect(channelEvents.map((e) => e.name)).to.deep.equal(["Deposited", "Deposited", "Challenged", "Settled", "Credited"]);
      const credit = channelEvents[4];
      expect(credit.name === "Credited" && [credit.owner, credit.amount, credit.channelId]).to.deep.equal([receiverAddress, 4n, id]);
      const withdrawn = (await driver.events({ fromBlock: startBlock, names: ["Withdrawn"] })).filter(
        (e) => e.name === "Withdrawn" && e.owner === receiverAddress,
      );
      expect(withdrawn.map((e) => e.name === "Withdrawn" && [e.to, e.amount])).to.deep.equal([[receiverAddress, 4n]]);
    });

    it("credits a token payout to a blocked payee; withdraw fails typed, withdrawTo pays out", async function () {
      const blocking: BlockingERC20 = await new BlockingERC20__factory(env.signers[0]).deploy();
      await blocking.waitForDeployment();
      const asset = (await blocking.getAddress()) as Address;
      const erin = await addressOf(env.signers[0]);
      const p = params(asset, payees);
      const id = driver.channelId(p);
      await (await blocking.mint(participants[0], 100n)).wait();
      await asAlice.deposit(p, 0, 100n);
      await (await blocking.setBlocked(payees[1], true)).wait();
      const final: State = { ...openingState(id), version: 3n, transferred: [40n, 0n], isFinal: true };
      const closed = await asBob.close(p, { state: final, sigs: await signBoth(domain, [alice, bob], final) });
      expect(closed.payouts).to.deep.equal([60n, 40n]);
      expect(closed.credited).to.deep.equal([{ owner: payees[1], asset, amount: 40n }]);
      expect(await blocking.balanceOf(payees[0])).to.equal(60n);
      expect(await driver.credits(payees[1], asset)).to.equal(40n);

      const asDave = driver.connect(env.signers[4]);
      await expectTyped(() => asDave.withdraw(asset), WithdrawFailedError, { owner: payees[1], asset, to: payees[1], amount: 40n });

      const paid = await asDave.withdrawTo(asset, erin);
      expect([paid.amount, paid.to]).to.deep.equal([40n, erin]);
      expect(await blocking.balanceOf(erin)).to.equal(40n);
      expect(await driver.credits(payees[1], asset)).to.equal(0n);

      const nothing = await expectTyped(() => asDave.withdraw(asset), WithdrawNothingError, { owner: payees[1], asset });
      expect(nothing).to.be.instanceOf(ContractRevertError);
    });

    it("reads every event back from block 0 in small ranges, the same as in one range", async function () {
      const small = await driver.events({ fromBlock: 0, blockRange: 2 });
      const whole = await driver.events({ fromBlock: 0, blockRange: 1_000_000 });
      expect(small).to.deep.equal(whole);
      const names = new Set(small.map((e: AdjudicatorEvent) => e.name));
      expect([...names].sort()).to.deep.equal(
        ["Challenged", "Closed", "Credited", "Deposited", "LockResolved", "PartiallyWithdrawn", "SecretRevealed", "Settled", "Withdrawn"].sort(),
      );
      for (let i = 1; i < small.length; i++) {
        const [a, b] = [small[i - 1], small[i]];
        expect(a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.logIndex < b.logIndex)).to.equal(true);
      }
      expect(small.every((e) => /^0x[0-9a-f]{64}$/.test(e.transactionHash))).to.equal(true);
      // A node that refuses eth_getLogs over more than 4 blocks: the fetch halves its range.
      let refused = 0;
      const limited = new Proxy(env.provider, {
        get(target, prop) {
          if (prop === "getLogs") {
            return async (filter: Filter) => {
              if (Number(filter.toBlock) - Number(filter.fromBlock) >= 4) {
                refused++;
                throw new Error("query exceeds max block range 4");
              }
              return target.getLogs(filter);
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      expect(await fetchEvents(limited, driver.address, { fromBlock: 0, blockRange: 1_000 })).to.deep.equal(whole);
      expect(refused).to.be.greaterThan(0);
      const deposits = small.filter((e) => e.name === "Deposited");
      expect(deposits.length).to.be.greaterThan(8);
    });
  });
}
