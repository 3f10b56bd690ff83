/**
 * The chain driver end to end on three backends: the in-process Hardhat network, a `hardhat node`
 * process and an anvil process (both on free loopback ports, stopped after the suite).
 */
import { expect } from "chai";
import hre from "hardhat";
import { AbiCoder, TypedDataEncoder, keccak256, type Filter, type Provider, type Signer } from "ethers";
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
  ChannelConcludedError,
  DepositValueMismatchError,
  OpeningChallengeUnauthorizedError,
  SignatureInvalidError,
  StateStaleError,
  WithdrawFailedError,
  WithdrawNothingError,
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
import { PAYMENT_ABI_TYPE, STATE_TYPES, stateValue, type SluiceDomain } from "../../src/typedData";
import { ChannelMode, ETH, ZERO_HASH, type Address, type Hex, type Params, type Payment, type State } from "../../src/types";

interface Env {
  provider: Provider & { send(method: string, params: unknown[]): Promise<unknown> };
  /** deployer, alice, bob, carol */
  signers: [Signer, Signer, Signer, Signer];
}

interface Backend {
  name: string;
  start(): Promise<{ env: Env; stop(): Promise<void> }>;
}

const BACKENDS: Backend[] = [
  {
    name: "in-process Hardhat network",
    start: async () => {
      const s = await hre.ethers.getSigners();
      return { env: { provider: hre.ethers.provider, signers: [s[0], s[1], s[2], s[3]] }, stop: async () => {} };
    },
  },
  ...(["hardhat", "anvil"] as const).map(
    (kind): Backend => ({
      name: `${kind} node over JSON-RPC`,
      start: async () => {
        const node: LocalNode = await startLocalNode({ kind });
        const [a, b, c, d] = node.wallets(4);
        return { env: { provider: node.provider, signers: [a, b, c, d] }, stop: () => node.stop() };
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

/** Runs `action` and returns what it threw; fails if it did not throw. */
async function thrown(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  expect.fail("expected the call to throw");
}

function paymentLeaf(payment: Payment): Hex {
  return keccak256(keccak256(coder.encode([PAYMENT_ABI_TYPE], [payment]))) as Hex;
}

for (const backend of BACKENDS) {
  describe(`chain driver on the ${backend.name}`, function () {
    let stop: (() => Promise<void>) | undefined;
    let env: Env;
    let driver: AdjudicatorDriver;
    let asAlice: AdjudicatorDriver;
    let asBob: AdjudicatorDriver;
    let domain: SluiceDomain;
    let alice: Signer;
    let bob: Signer;
    let participants: [Address, Address];
    let token: MockERC20;
    let nextNonce = 1n;
    let startBlock = 0;

    const params = (asset: Address = ETH, who: [Address, Address] = participants): Params => ({
      participants: who,
      asset,
      challengePeriod: PERIOD,
      nonce: nextNonce++,
    });

    async function openEth(p: Params, each = ETHER): Promise<void> {
      await asAlice.deposit(p, 0, each);
      await asBob.deposit(p, 1, each);
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
      domain = await driver.domain();
      participants = [await addressOf(alice), await addressOf(bob)];
      token = await new MockERC20__factory(env.signers[0]).deploy("Dollar", "USD", 6);
      await token.waitForDeployment();
    });

    after(async function () {
      this.timeout(30_000);
      await stop?.();
    });

    it("reads the domain from eip712Domain() and computes ids and digests like the contract", async function () {
      const { chainId } = await env.provider.getNetwork();
      expect(domain).to.deep.equal({ name: "Sluice", version: "1", chainId, verifyingContract: driver.address });
      const p = params();
      const id = driver.channelId(p);
      expect(id).to.equal(await driver.channelIdOnChain(p));
      expect(driver.channelId({ ...p, nonce: p.nonce + 1n })).to.not.equal(id);
      const state: State = { channelId: id, version: 7n, transferred: [1n, 2n], paymentsRoot: keccak256("0x01") as Hex, isFinal: false };
      expect(await driver.hashState(state)).to.equal(TypedDataEncoder.hash(domain, STATE_TYPES, stateValue(state)));
      expect(await driver.channelStatus(id)).to.deep.equal({ mode: ChannelMode.None, version: 0n, deadline: 0n, deposits: [0n, 0n] });
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
      expect(await driver.channelStatus(id)).to.deep.equal({ mode: ChannelMode.Open, version: 0n, deadline: 0n, deposits: [ETHER + 2n, 0n] });

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
      expect(await token.balanceOf(driver.address)).to.equal(450n);
      expect((await driver.channelStatus(driver.channelId(p))).deposits).to.deep.equal([300n, 150n]);

      // Attached ETH on a token channel: the contract expects none.
      const error = await thrown(() => driver.contract.connect(alice).deposit(paramsStruct(p), 0, 1n, { value: 1n }));
      const decoded = decodeRevert(error);
      expect(decoded).to.be.instanceOf(DepositValueMismatchError);
      expect(decoded!.args).to.deep.equal({ value: 1n, expected: 0n });
    });

    it("challenges, refutes, rejects stale states and early settles, then settles after the deadline", async function () {
      const p = params();
      const id = driver.channelId(p);
      await openEth(p);
      const v1: State = { channelId: id, version: 1n, transferred: [ETHER / 10n, 0n], paymentsRoot: ZERO_HASH, isFinal: false };
      const v2: State = { ...v1, version: 2n, transferred: [ETHER / 4n, ETHER / 20n] };
      const s1 = { state: v1, sigs: await signBoth(domain, [alice, bob], v1) } as const;
      const s2 = { state: v2, sigs: await signBoth(domain, [alice, bob], v2) } as const;

      const registered = await asBob.challenge(p, s1);
      expect(registered.version).to.equal(1n);
      const refuted = await asAlice.challenge(p, s2);
      expect(refuted.deadline).to.equal(registered.deadline);
      expect(await driver.channelStatus(id)).to.deep.equal({
        mode: ChannelMode.Challenged,
        version: 2n,
        deadline: registered.deadline,
        deposits: [ETHER, ETHER],
      });

      const stale = await thrown(() => asBob.challenge(p, s1));
      expect(stale).to.be.instanceOf(StateStaleError);
      expect((stale as StateStaleError).args).to.deep.equal({ version: 1n, registeredVersion: 2n });
      expect((stale as StateStaleError).cause).to.not.equal(undefined);

      const early = await thrown(() => asBob.settle(p));
      expect(early).to.be.instanceOf(ChallengePendingError);
      expect((early as ChallengePendingError).args.deadline).to.equal(registered.deadline);

      // With a fixed gas limit there is no estimation: the node mines the reverting transaction
      // (anvil) or rejects it at submission (Hardhat); either way the same typed error.
      const mined = await thrown(() => asBob.settle(p, { gasLimit: 500_000n }));
      expect(mined).to.be.instanceOf(ChallengePendingError);
      expect((mined as ChallengePendingError).args.deadline).to.equal(registered.deadline);
      const minedHash = (mined as ChallengePendingError).transactionHash;
      expect(minedHash).to.match(/^0x[0-9a-f]{64}$/);
      expect((await env.provider.getTransactionReceipt(minedHash!))?.status).to.equal(0);

      await increaseTime(env.provider, PERIOD);
      const late = await thrown(() => asBob.challenge(p, { state: { ...v2, version: 3n }, sigs: s2.sigs }));
      expect(late).to.be.instanceOf(ChallengeExpiredError);
      expect((late as ChallengeExpiredError).args).to.deep.equal({ deadline: registered.deadline });

      const bobBefore = await env.provider.getBalance(participants[1]);
      const settled = await asAlice.settle(p);
      expect(settled.version).to.equal(2n);
      expect(settled.payouts).to.deep.equal([ETHER - ETHER / 4n + ETHER / 20n, ETHER + ETHER / 4n - ETHER / 20n]);
      expect(settled.credited).to.deep.equal([]);
      expect(await env.provider.getBalance(participants[1])).to.equal(bobBefore + settled.payouts[1]);
      expect(await driver.channelStatus(id)).to.deep.equal({ mode: ChannelMode.Concluded, version: 2n, deadline: 0n, deposits: [0n, 0n] });

      const concluded = await thrown(() => asAlice.deposit(p, 0, 1n));
      expect(concluded).to.be.instanceOf(ChannelConcludedError);
      expect((concluded as ChannelConcludedError).args).to.deep.equal({ channelId: id });
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
      const final: State = { channelId: id, version: 1n, transferred: [ETHER / 5n, 0n], paymentsRoot: root, isFinal: true };

      const aliceTwice = await signBoth(domain, [alice, alice], final);
      const forged = await thrown(() => asAlice.close(p, { state: final, sigs: aliceTwice }));
      expect(forged).to.be.instanceOf(SignatureInvalidError);
      expect((forged as SignatureInvalidError).args).to.deep.equal({ participant: 1 });
      expect((forged as SignatureInvalidError).errorName).to.equal("SignatureInvalid");

      expect(await driver.verifyPayment(id, final, payment, [])).to.equal(false);
      const bobBefore = await env.provider.getBalance(participants[1]);
      const closed = await asAlice.close(p, { state: final, sigs: await signBoth(domain, [alice, bob], final) });
      expect(closed.payouts).to.deep.equal([ETHER - ETHER / 5n, ETHER + ETHER / 5n]);
      expect(await env.provider.getBalance(participants[1])).to.equal(bobBefore + ETHER + ETHER / 5n);

      expect(await driver.verifyPayment(id, final, payment, [])).to.equal(true);
      expect(await driver.verifyPayment(id, final, { ...payment, amount: 1n }, [])).to.equal(false);
      expect(await driver.verifyPayment(id, { ...final, version: 2n }, payment, [])).to.equal(false);

      const sigs = await signBoth(domain, [alice, bob], final);
      const again = await thrown(() => asBob.close(p, { state: final, sigs }));
      expect(again).to.be.instanceOf(ChannelConcludedError);
      expect((again as ChannelConcludedError).args.channelId).to.equal(id);
    });

    it("lets only a participant start a dispute from the unsigned opening state", async function () {
      const p = params();
      await openEth(p, 10n);
      const outsider = driver.connect(env.signers[3]);
      const refused = await thrown(() => outsider.challengeOpening(p));
      expect(refused).to.be.instanceOf(OpeningChallengeUnauthorizedError);
      expect((refused as OpeningChallengeUnauthorizedError).args).to.deep.equal({ caller: await addressOf(env.signers[3]) });
      const opened = await asBob.challengeOpening(p);
      expect(opened.version).to.equal(0n);
      expect((await driver.channelStatus(driver.channelId(p))).mode).to.equal(ChannelMode.Challenged);
    });

    it("credits an ETH payout that a participant contract refuses, and the contract withdraws it", async function () {
      const receiver = await new RejectingReceiver__factory(env.signers[0]).deploy();
      await receiver.waitForDeployment();
      const receiverAddress = (await receiver.getAddress()) as Address;
      const p = params(ETH, [participants[0], receiverAddress]);
      const id = driver.channelId(p);
      await asAlice.deposit(p, 0, 3n);
      await asAlice.deposit(p, 1, 4n);
      await asAlice.challengeOpening(p);
      await increaseTime(env.provider, PERIOD);
      const settled = await asAlice.settle(p);
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

    it("credits a token payout to a blocked participant; withdraw fails typed, withdrawTo pays out", async function () {
      const blocking: BlockingERC20 = await new BlockingERC20__factory(env.signers[0]).deploy();
      await blocking.waitForDeployment();
      const asset = (await blocking.getAddress()) as Address;
      const carol = await addressOf(env.signers[3]);
      const p = params(asset);
      const id = driver.channelId(p);
      await (await blocking.mint(participants[0], 100n)).wait();
      await asAlice.deposit(p, 0, 100n);
      await (await blocking.setBlocked(participants[1], true)).wait();
      const final: State = { channelId: id, version: 3n, transferred: [40n, 0n], paymentsRoot: ZERO_HASH, isFinal: true };
      const closed = await asBob.close(p, { state: final, sigs: await signBoth(domain, [alice, bob], final) });
      expect(closed.payouts).to.deep.equal([60n, 40n]);
      expect(closed.credited).to.deep.equal([{ owner: participants[1], asset, amount: 40n }]);
      expect(await asBob.credits(participants[1], asset)).to.equal(40n);

      const failed = await thrown(() => asBob.withdraw(asset));
      expect(failed).to.be.instanceOf(WithdrawFailedError);
      expect((failed as WithdrawFailedError).args).to.deep.equal({ owner: participants[1], asset, to: participants[1], amount: 40n });

      const paid = await asBob.withdrawTo(asset, carol);
      expect([paid.amount, paid.to]).to.deep.equal([40n, carol]);
      expect(await blocking.balanceOf(carol)).to.equal(40n);
      expect(await driver.credits(participants[1], asset)).to.equal(0n);

      const nothing = await thrown(() => asBob.withdraw(asset));
      expect(nothing).to.be.instanceOf(WithdrawNothingError);
      expect(nothing).to.be.instanceOf(ContractRevertError);
      expect((nothing as WithdrawNothingError).args).to.deep.equal({ owner: participants[1], asset });
    });

    it("reads every event back from block 0 in small ranges, the same as in one range", async function () {
      const small = await driver.events({ fromBlock: 0, blockRange: 2 });
      const whole = await driver.events({ fromBlock: 0, blockRange: 1_000_000 });
      expect(small).to.deep.equal(whole);
      const names = new Set(small.map((e: AdjudicatorEvent) => e.name));
      expect([...names].sort()).to.deep.equal(["Challenged", "Closed", "Credited", "Deposited", "Settled", "Withdrawn"]);
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
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      expect(await fetchEvents(limited, driver.address, { fromBlock: 0, blockRange: 1_000 })).to.deep.equal(whole);
      expect(refused).to.be.greaterThan(0);
      const deposits = small.filter((e) => e.name === "Deposited");
      expect(deposits.length).to.be.greaterThan(8);
    });
  });
}
