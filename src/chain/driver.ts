/**
 * A typed driver over the adjudicator, for any ethers `Signer` or `Provider`: the in-process
 * Hardhat network, a `hardhat node` or anvil on localhost, or any EVM JSON-RPC endpoint.
 * Writes wait for the receipt and return it with the values the contract's events reported;
 * reverts arrive as the typed errors of `./errors`.
 */
import {
  type ContractRunner,
  type ContractTransactionResponse,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from "ethers";
import { Adjudicator__factory, IERC20__factory, type Adjudicator } from "../../typechain-types";
import type { ParamsStruct, PaymentStruct, StateStruct } from "../../typechain-types/contracts/Adjudicator";
import { channelId } from "../crypto/hash";
import { DOMAIN_NAME, DOMAIN_VERSION, sluiceDomain, stateValue, type SluiceDomain } from "../typedData";
import { ChannelMode, ETH, openingState, type Address, type Hex, type Params, type Payment, type SignedState, type State } from "../types";
import { ChainResponseError, SignerRequiredError, decodeRevert, decodeRevertData, receiptOf, type ContractRevertError } from "./errors";
import { fetchEvents, parseReceiptEvents, type AdjudicatorEvent, type EventQuery } from "./events";

/** Status of a channel as `channel(channelId)` reports it. */
export interface ChannelStatus {
  mode: ChannelMode;
  /** Registered version in mode Challenged, concluded version in mode Concluded, else 0. */
  version: bigint;
  /** Challenge deadline (unix seconds) in mode Challenged, else 0. */
  deadline: bigint;
  /** Deposits while Open or Challenged; zero once paid out. */
  deposits: [bigint, bigint];
}

/** A mined, successful transaction. */
export interface TxResult {
  hash: Hex;
  blockNumber: number;
  gasUsed: bigint;
  receipt: TransactionReceipt;
}

export interface DepositResult extends TxResult {
  /** The ERC-20 approval sent first, or null when the allowance sufficed (or for ETH). */
  approval: TxResult | null;
  /** What the adjudicator received (less than asked for a fee-on-transfer token). */
  received: bigint;
  /** The participant's deposit after this one. */
  deposit: bigint;
}

export interface ChallengeResult extends TxResult {
  version: bigint;
  deadline: bigint;
}

export interface Credit {
  owner: Address;
  asset: Address;
  amount: bigint;
}

/** Result of `close` and `settle`: the channel concluded and paid out. */
export interface ConcludeResult extends TxResult {
  version: bigint;
  payouts: [bigint, bigint];
  /** Payouts that could not be pushed and were credited for a later `withdraw`. */
  credited: Credit[];
}

export interface WithdrawResult extends TxResult {
  amount: bigint;
  to: Address;
}

/** Per-write options. A fixed `gasLimit` skips gas estimation (the revert then happens on chain). */
export interface WriteOptions {
  gasLimit?: bigint;
}

export interface DepositOptions extends WriteOptions {
  /** ERC-20 approval when the allowance is short: the exact amount (default) or unlimited. */
  approve?: "exact" | "unlimited";
}

/** Params in the typechain struct shape (mutable tuple), for calls through `driver.contract`. */
export function paramsStruct(params: Params): ParamsStruct {
  return {
    participants: [params.participants[0], params.participants[1]],
    asset: params.asset,
    challengePeriod: params.challengePeriod,
    nonce: params.nonce,
  };
}

/** A state in the typechain struct shape. */
export function stateStruct(state: State): StateStruct {
  return stateValue(state) as StateStruct;
}

/** A payment in the typechain struct shape. */
export function paymentStruct(payment: Payment): PaymentStruct {
  return { channelId: payment.channelId, seq: payment.seq, payer: payment.payer, amount: payment.amount, ref: payment.ref };
}

function isSigner(runner: ContractRunner): runner is Signer {
  return typeof (runner as Partial<Signer>).getAddress === "function" && typeof (runner as Partial<Signer>).sendTransaction === "function";
}

export class AdjudicatorDriver {
  readonly address: Address;
  readonly contract: Adjudicator;
  readonly runner: Signer | Provider;
  #domain: Promise<SluiceDomain> | undefined;

  constructor(address: Address, runner: Signer | Provider) {
    this.address = address;
    this.runner = runner;
    this.contract = Adjudicator__factory.connect(address, runner);
  }

  /** The same adjudicator through another signer or provider. */
  connect(runner: Signer | Provider): AdjudicatorDriver {
    return new AdjudicatorDriver(this.address, runner);
  }

  get provider(): Provider {
    const provider = isSigner(this.runner) ? this.runner.provider : (this.runner as Provider);
    if (!provider) throw new ChainResponseError("the driver's signer has no provider");
    return provider;
  }

  // ---------------------------------------------------------------- views

  /** The channel id, computed off-chain (no round trip). */
  channelId(params: Params): Hex {
    return channelId(params);
  }

  /** The channel id as the contract computes it. */
  async channelIdOnChain(params: Params): Promise<Hex> {
    return (await this.#read(() => this.contract.channelId(paramsStruct(params)))) as Hex;
  }

  /** The EIP-712 domain read from the contract's `eip712Domain()` (ERC-5267); cached. */
  domain(): Promise<SluiceDomain> {
    this.#domain ??= this.#readDomain().catch((error: unknown) => {
      this.#domain = undefined;
      throw error;
    });
    return this.#domain;
  }

  async #readDomain(): Promise<SluiceDomain> {
    const d = await this.#read(() => this.contract.eip712Domain());
    if (d.name !== DOMAIN_NAME || d.version !== DOMAIN_VERSION) {
      throw new ChainResponseError(`unexpected EIP-712 domain ${d.name} ${d.version} at ${this.address}`);
    }
    return sluiceDomain(d.chainId, d.verifyingContract as Address);
  }

  /** The EIP-712 digest both participants sign, as the contract computes it. */
  async hashState(state: State): Promise<Hex> {
    return (await this.#read(() => this.contract.hashState(stateStruct(state)))) as Hex;
  }

  async channelStatus(channelId: Hex): Promise<ChannelStatus> {
    const [mode, version, deadline, deposits] = await this.#read(() => this.contract.channel(channelId));
    return { mode: Number(mode) as ChannelMode, version, deadline, deposits: [deposits[0], deposits[1]] };
  }

  /** Payouts of `owner` in `asset` waiting for `withdraw`. */
  async credits(owner: Address, asset: Address = ETH): Promise<bigint> {
    return this.#read(() => this.contract.credits(owner, asset));
  }

  /** Whether the chain confirms `payment` as a leaf of the state the channel concluded with. */
  async verifyPayment(channelId: Hex, state: State, payment: Payment, proof: readonly Hex[]): Promise<boolean> {
    return this.#read(() => this.contract.verifyPayment(channelId, stateStruct(state), paymentStruct(payment), [...proof]));
  }

  // ---------------------------------------------------------------- writes

  /**
   * Deposits `amount` for `participant`. ETH is attached as value; for an ERC-20 the allowance is
   * checked first and the adjudicator approved when it falls short.
   */
  async deposit(params: Params, participant: 0 | 1, amount: bigint, options: DepositOptions = {}): Promise<DepositResult> {
    const signer = this.#signer("deposit");
    const isEth = params.asset.toLowerCase() === ETH;
    // Allowance check, approval and deposit as one step: a concurrent deposit in between would
    // overwrite the approval this one relies on.
    const { result, approval } = await this.#exclusive(async () => {
      let approval: TxResult | null = null;
      if (!isEth) {
        const token = IERC20__factory.connect(params.asset, signer);
        const owner = await signer.getAddress();
        const allowance = await this.#read(() => token.allowance(owner, this.address));
        if (allowance < amount) {
          const value = options.approve === "unlimited" ? 2n ** 256n - 1n : amount;
          approval = await this.#sendNow(() => token.approve(this.address, value));
        }
      }
      const result = await this.#sendNow(() =>
        this.contract.connect(signer).deposit(paramsStruct(params), participant, amount, {
          value: isEth ? amount : 0n,
          ...gas(options),
        }),
      );
      return { result, approval };
    });
    const event = parseReceiptEvents(result.receipt, this.address).find((e) => e.name === "Deposited");
    if (!event || event.name !== "Deposited") throw new ChainResponseError(`no Deposited event in ${result.hash}`);
    return { ...result, approval, received: event.amount, deposit: event.deposit };
  }

  /** Concludes the channel at once on a final state signed by both. */
  async close(params: Params, signed: SignedState, options: WriteOptions = {}): Promise<ConcludeResult> {
    const signer = this.#signer("close");
    const result = await this.#send(() =>
      this.contract.connect(signer).close(paramsStruct(params), stateStruct(signed.state), [signed.sigs[0], signed.sigs[1]], gas(options)),
    );
    return this.#concluded(result, "Closed");
  }

  /** Registers a state signed by both (or refutes the registered one with a newer state). */
  async challenge(params: Params, signed: SignedState, options: WriteOptions = {}): Promise<ChallengeResult> {
    const signer = this.#signer("challenge");
    const result = await this.#send(() =>
      this.contract.connect(signer).challenge(paramsStruct(params), stateStruct(signed.state), [signed.sigs[0], signed.sigs[1]], gas(options)),
    );
    return this.#challenged(result);
  }

  /** Starts a dispute from the unsigned opening state; only a participant may. */
  async challengeOpening(params: Params, options: WriteOptions = {}): Promise<ChallengeResult> {
    return this.challenge(params, { state: openingState(channelId(params)), sigs: ["0x", "0x"] }, options);
  }

  /** Concludes a challenged channel after its deadline on the registered state. */
  async settle(params: Params, options: WriteOptions = {}): Promise<ConcludeResult> {
    const signer = this.#signer("settle");
    const result = await this.#send(() => this.contract.connect(signer).settle(paramsStruct(params), gas(options)));
    return this.#concluded(result, "Settled");
  }

  /** Withdraws the signer's credited payouts in `asset` to itself. */
  async withdraw(asset: Address = ETH, options: WriteOptions = {}): Promise<WithdrawResult> {
    const signer = this.#signer("withdraw");
    const result = await this.#send(() => this.contract.connect(signer).withdraw(asset, gas(options)));
    return this.#withdrawn(result);
  }

  /** Withdraws the signer's credited payouts in `asset` to `to`. */
  async withdrawTo(asset: Address, to: Address, options: WriteOptions = {}): Promise<WithdrawResult> {
    const signer = this.#signer("withdrawTo");
    const result = await this.#send(() => this.contract.connect(signer).withdrawTo(asset, to, gas(options)));
    return this.#withdrawn(result);
  }

  // ---------------------------------------------------------------- events

  /**
   * Decoded events from `fromBlock`, fetched in ranges of `blockRange` blocks (halved when the
   * node refuses a range), optionally only those of one channel.
   */
  async events(query: EventQuery = {}): Promise<AdjudicatorEvent[]> {
    return fetchEvents(this.provider, this.address, query);
  }

  // ---------------------------------------------------------------- internals

  #sending: Promise<unknown> = Promise.resolve();

  #signer(operation: string): Signer {
    if (!isSigner(this.runner)) throw new SignerRequiredError(operation);
    return this.runner;
  }

  async #read<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw decodeRevert(error) ?? error;
    }
  }

  /**
   * Sends one transaction at a time per driver: each waits for the previous one's receipt, so
   * concurrent callers (a node opening channels while its watcher refutes) never race for a nonce.
   */
  #send(send: () => Promise<ContractTransactionResponse>): Promise<TxResult> {
    return this.#exclusive(() => this.#sendNow(send));
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#sending.then(operation);
    this.#sending = run.catch(() => undefined);
    return run;
  }

  /** Sends, waits for the receipt, and turns any revert into its typed error. */
  async #sendNow(send: () => Promise<ContractTransactionResponse>): Promise<TxResult> {
    let hash: Hex | undefined;
    try {
      const tx = await send();
      hash = tx.hash as Hex;
      const receipt = await tx.wait();
      if (receipt === null) throw new ChainResponseError(`no receipt for ${tx.hash}`);
      return { hash: receipt.hash as Hex, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt };
    } catch (error) {
      if (error instanceof ChainResponseError) throw error;
      throw await this.#decodeFailure(error, hash);
    }
  }

  /**
   * A revert with data decodes directly. A transaction that was mined and reverted (the node
   * accepted it, e.g. with a fixed gas limit on anvil) carries no data: replay it with eth_call
   * on the block it was mined in to recover the reason.
   */
  async #decodeFailure(error: unknown, hash: Hex | undefined): Promise<unknown> {
    const decoded = decodeRevert(error, hash ? { transactionHash: hash } : {});
    if (decoded === undefined || decoded.data !== undefined) return decoded ?? error;
    const receipt = receiptOf(error) ?? (hash ? await this.provider.getTransactionReceipt(hash).catch(() => null) : null);
    if (!receipt || receipt.status !== 0) return decoded;
    const replayed = await this.#replay(receipt);
    if (replayed === undefined || replayed.data === undefined) return decoded;
    // Rebuild with the original error as the cause and the mined transaction as the context.
    return decodeRevertData(replayed.data, { cause: error, receipt, transactionHash: receipt.hash as Hex }) ?? decoded;
  }

  async #replay(receipt: TransactionReceipt): Promise<ContractRevertError | undefined> {
    const tx = await this.provider.getTransaction(receipt.hash).catch(() => null);
    if (!tx) return undefined;
    try {
      await this.provider.call({
        from: tx.from,
        to: tx.to,
        data: tx.data,
        value: tx.value,
        gasLimit: tx.gasLimit,
        blockTag: receipt.blockNumber,
      });
      return undefined;
    } catch (error) {
      return decodeRevert(error);
    }
  }

  #concluded(result: TxResult, name: "Closed" | "Settled"): ConcludeResult {
    const events = parseReceiptEvents(result.receipt, this.address);
    const event = events.find((e) => e.name === name);
    if (!event || (event.name !== "Closed" && event.name !== "Settled")) {
      throw new ChainResponseError(`no ${name} event in ${result.hash}`);
    }
    const credited = events.flatMap((e) => (e.name === "Credited" ? [{ owner: e.owner, asset: e.asset, amount: e.amount }] : []));
    return { ...result, version: event.version, payouts: event.payouts, credited };
  }

  #challenged(result: TxResult): ChallengeResult {
    const event = parseReceiptEvents(result.receipt, this.address).find((e) => e.name === "Challenged");
    if (!event || event.name !== "Challenged") throw new ChainResponseError(`no Challenged event in ${result.hash}`);
    return { ...result, version: event.state.version, deadline: event.deadline };
  }

  #withdrawn(result: TxResult): WithdrawResult {
    const event = parseReceiptEvents(result.receipt, this.address).find((e) => e.name === "Withdrawn");
    if (!event || event.name !== "Withdrawn") throw new ChainResponseError(`no Withdrawn event in ${result.hash}`);
    return { ...result, amount: event.amount, to: event.to };
  }
}

function gas(options: WriteOptions): { gasLimit?: bigint } {
  return options.gasLimit === undefined ? {} : { gasLimit: options.gasLimit };
}

/** Deploys a new adjudicator with the compiled bytecode and returns a driver for it. */
export async function deployAdjudicator(signer: Signer): Promise<AdjudicatorDriver> {
  try {
    const contract = await new Adjudicator__factory(signer).deploy();
    await contract.waitForDeployment();
    return new AdjudicatorDriver((await contract.getAddress()) as Address, signer);
  } catch (error) {
    throw decodeRevert(error) ?? error;
  }
}

/** A driver for an adjudicator already deployed at `address`. */
export function connectAdjudicator(address: Address, runner: Signer | Provider): AdjudicatorDriver {
  return new AdjudicatorDriver(address, runner);
}
