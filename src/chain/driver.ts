/**
 * A typed driver over the adjudicator, for any ethers `Signer` or `Provider`: the in-process
 * Hardhat network, a `hardhat node` or anvil on localhost, or any EVM JSON-RPC endpoint.
 * Writes go through a `TxSender` (fees under a cap, replacement of a stuck transaction, nonces
 * kept across restarts), wait for the receipt and return it with the values the contract's events
 * reported; reverts arrive as the typed errors of `./errors`.
 */
import {
  type ContractRunner,
  type ContractTransaction,
  type Provider,
  type Signer,
  type TransactionReceipt,
} from "ethers";
import { Adjudicator__factory, IERC20__factory, type Adjudicator } from "../../typechain-types";
import type {
  LockStruct,
  ParamsStruct,
  PaymentStruct,
  StateStruct,
  WithdrawalStruct,
} from "../../typechain-types/contracts/Adjudicator";
import { channelId, hashlockOf, lockLeafHex } from "../crypto/hash";
import { DOMAIN_NAME, DOMAIN_VERSION, sluiceDomain, stateValue, withdrawalValue, type SluiceDomain } from "../typedData";
import {
  ChannelMode,
  ETH,
  openingState,
  type Address,
  type Hex,
  type Lock,
  type Params,
  type Payment,
  type SignedState,
  type SignedWithdrawal,
  type State,
  type Withdrawal,
} from "../types";
import { ChainResponseError, SignerRequiredError, decodeRevert, decodeRevertData, receiptOf, type ContractRevertError } from "./errors";
import { fetchEvents, parseReceiptEvents, type AdjudicatorEvent, type ChallengedEvent, type EventQuery } from "./events";
import { capOf, DEFAULT_MAX_FEE_GWEI } from "./feeCap";
import { initialFees, type Market } from "./fees";
import { TxSender, type TxPurpose } from "./sender";

/** Status of a channel as `channel(channelId)` reports it. */
export interface ChannelStatus {
  mode: ChannelMode;
  /** Registered version in mode Challenged, else 0 (`Closed`/`Settled` events carry the concluded one). */
  version: bigint;
  /** Challenge deadline (unix seconds) in mode Challenged, else 0. */
  deadline: bigint;
  /** Cumulative deposits while Open or Challenged; zero once concluded. */
  deposits: [bigint, bigint];
  /** Cumulative withdrawals (`partialWithdraw`) while Open or Challenged; zero once concluded. */
  withdrawn: [bigint, bigint];
}

/** The adjudicator's ERC-5267 `eip712Domain()`, as returned. */
export interface Eip712DomainFields {
  /** Bit map of the fields in use: 0x0f (name, version, chainId, verifyingContract). */
  fields: Hex;
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: Address;
  salt: Hex;
  extensions: bigint[];
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

export interface Credit {
  owner: Address;
  asset: Address;
  amount: bigint;
}

export interface PartialWithdrawResult extends TxResult {
  /**
   * False when the withdrawal's total was not above what the participant had withdrawn (a
   * replay, or one executed before): the contract paid nothing and emitted nothing.
   */
  executed: boolean;
  /** Paid to (or credited to) the participant's payee: total - withdrawn before; 0 when not executed. */
  amount: bigint;
  /** The participant's cumulative withdrawal after the call when executed; the signed total otherwise. */
  total: bigint;
  /** The payment, if the payee could not take it and it was credited for a later `withdraw`. */
  credited: Credit[];
}

export interface ChallengeResult extends TxResult {
  version: bigint;
  deadline: bigint;
  /** The registered state (what `settle` takes back). */
  state: State;
}

/** Result of `close` and `settle`: the channel concluded and paid out. */
export interface ConcludeResult extends TxResult {
  version: bigint;
  payouts: [bigint, bigint];
  /** Held back for participant i's locks (settle); [0, 0] for close. */
  heldBack: [bigint, bigint];
  /** Payouts that could not be pushed and were credited for a later `withdraw`. */
  credited: Credit[];
}

export interface RegisterSecretResult extends TxResult {
  /** sha256(secret). */
  hashlock: Hex;
  secret: Hex;
  /** The block timestamp recorded as the reveal time (what `secretRevealedAt` now returns). */
  revealedAt: bigint;
}

export interface ResolveLockResult extends TxResult {
  leaf: Hex;
  hashlock: Hex;
  /** Whose payee was paid: the receiver (1 - sender) if the secret came in time, else the sender. */
  paidTo: 0 | 1;
  /** Paid: the lock's amount, or less when the sender's held-back amount ran out. */
  amount: bigint;
  credited: Credit[];
}

export interface WithdrawResult extends TxResult {
  amount: bigint;
  to: Address;
}

/** Per-write options. A fixed `gasLimit` skips gas estimation (the revert then happens on chain). */
/** A write whose cost `estimate` tells: the same arguments as the write (close and withdrawals need none: see `estimate`). */
export type EstimatedWrite =
  | { operation: "deposit"; params: Params; participant: 0 | 1; amount: bigint }
  /** `signed` null: the unsigned opening state (`challengeOpening`). */
  | { operation: "challenge"; params: Params; signed: SignedState | null }
  | { operation: "settle"; params: Params; state: State }
  | { operation: "withdraw"; asset: Address }
  | { operation: "close" }
  /** `first`: the channel's first withdrawal (it writes a fresh slot). */
  | { operation: "partialWithdraw"; first: boolean };

/** What a write would cost now. */
export interface GasEstimate {
  gas: bigint;
  /** `simulated`: eth_estimateGas of the very call; `typical`: the measured figure of docs/gas.md (see `estimate`). */
  basis: "simulated" | "typical";
  /** The latest block's base fee and the suggested tip (wei per gas). */
  baseFee: bigint;
  tip: bigint;
  /** What the node's sender would bid at most per gas (twice the base fee plus the tip, under the cap). */
  maxFeePerGas: bigint;
  /** gas × (base fee + tip): what it costs at today's price. */
  fee: bigint;
  /** gas × maxFeePerGas: the most it can cost. */
  maxFee: bigint;
}

/** Measured gas of the writes `estimate` can't simulate beforehand (docs/gas.md, 2026-12-04). */
export const TYPICAL_GAS = { close: 63_605n, firstWithdrawal: 73_303n, withdrawal: 53_276n, tokenDeposit: 85_630n } as const;

export interface WriteOptions {
  gasLimit?: bigint;
}

export interface DepositOptions extends WriteOptions {
  /** ERC-20 approval when the allowance is short: the exact amount (default) or unlimited. */
  approve?: "exact" | "unlimited";
}

/** Params in the typechain struct shape (mutable tuples), for calls through `driver.contract`. */
export function paramsStruct(params: Params): ParamsStruct {
  return {
    participants: [params.participants[0], params.participants[1]],
    payees: [params.payees[0], params.payees[1]],
    asset: params.asset,
    challengePeriod: params.challengePeriod,
    nonce: params.nonce,
  };
}

/** A state in the typechain struct shape. */
export function stateStruct(state: State): StateStruct {
  return stateValue(state) as StateStruct;
}

/** A withdrawal in the typechain struct shape. */
export function withdrawalStruct(w: Withdrawal): WithdrawalStruct {
  return withdrawalValue(w) as WithdrawalStruct;
}

/** A lock in the typechain struct shape. */
export function lockStruct(lock: Lock): LockStruct {
  return { channelId: lock.channelId, sender: lock.sender, amount: lock.amount, hashlock: lock.hashlock, expiry: lock.expiry, ref: lock.ref };
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
  #sender: TxSender | undefined;

  /** `sender` sends the writes (default: one with the default cap and no journal, made on the first write). */
  constructor(address: Address, runner: Signer | Provider, sender?: TxSender) {
    this.address = address;
    this.runner = runner;
    this.contract = Adjudicator__factory.connect(address, runner);
    this.#sender = sender;
  }

  /** The same adjudicator through another signer or provider. */
  connect(runner: Signer | Provider): AdjudicatorDriver {
    return new AdjudicatorDriver(this.address, runner);
  }

  get provider(): Provider {
    const provider = isSigner(this.runner) ? this.runner.provider : (this.runner);
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

  /** The EIP-712 domain read from the contract's `eip712Domain()` (ERC-5267), checked and cached. */
  domain(): Promise<SluiceDomain> {
    this.#domain ??= this.#readDomain().catch((error: unknown) => {
      this.#domain = undefined;
      throw error;
    });
    return this.#domain;
  }

  /** The contract's ERC-5267 `eip712Domain()` as returned, uncached and unchecked. */
  async eip712Domain(): Promise<Eip712DomainFields> {
    const d = await this.#read(() => this.contract.eip712Domain());
    return {
      fields: d.fields as Hex,
      name: d.name,
      version: d.version,
      chainId: d.chainId,
      verifyingContract: d.verifyingContract as Address,
      salt: d.salt as Hex,
      extensions: [...d.extensions],
    };
  }

  async #readDomain(): Promise<SluiceDomain> {
    const d = await this.eip712Domain();
    if (d.name !== DOMAIN_NAME || d.version !== DOMAIN_VERSION) {
      throw new ChainResponseError(`unexpected EIP-712 domain ${d.name} ${d.version} at ${this.address}`);
    }
    return sluiceDomain(d.chainId, d.verifyingContract);
  }

  /** The EIP-712 digest both participants sign for `state`, as the contract computes it. */
  async hashState(state: State): Promise<Hex> {
    return (await this.#read(() => this.contract.hashState(stateStruct(state)))) as Hex;
  }

  /** The EIP-712 digest both participants sign for a withdrawal, as the contract computes it. */
  async hashWithdrawal(w: Withdrawal): Promise<Hex> {
    return (await this.#read(() => this.contract.hashWithdrawal(withdrawalStruct(w)))) as Hex;
  }

  /**
   * The channel's mode, registered version and deadline, deposits and withdrawals (`channel(id)`),
   * as of `blockTag` (default the latest block; a confirmed block number for what counts).
   */
  async channel(channelId: Hex, blockTag: number | "latest" = "latest"): Promise<ChannelStatus> {
    const read = this.#read(() => this.contract.channel(channelId, { blockTag }));
    const [mode, version, deadline, deposits, withdrawn] = await (blockTag === "latest" ? read : read.catch((error: unknown) => notYetDeployed(error)));
    return {
      mode: channelModeOf(mode, channelId),
      version,
      deadline,
      deposits: [deposits[0], deposits[1]],
      withdrawn: [withdrawn[0], withdrawn[1]],
    };
  }

  /** The same as `channel` (its v1 name). */
  channelStatus(channelId: Hex, blockTag: number | "latest" = "latest"): Promise<ChannelStatus> {
    return this.channel(channelId, blockTag);
  }

  /** What is still held back for each participant's locks after settlement ([0, 0] before). */
  async heldBack(channelId: Hex): Promise<[bigint, bigint]> {
    const held = await this.#read(() => this.contract.heldBack(channelId));
    return [held[0], held[1]];
  }

  /** When the secret of `hashlock` was first registered (block timestamp); 0n: never. */
  async secretRevealedAt(hashlock: Hex): Promise<bigint> {
    return this.#read(() => this.contract.secretRevealedAt(hashlock));
  }

  /**
   * Whether the lock (or the lock with this leaf) was resolved with more still held back for its
   * sender. A lock that used up its sender's held-back amount leaves no record (nothing is left to
   * pay twice): `heldBack` is then 0 for that sender.
   */
  async lockResolved(lock: Lock | Hex): Promise<boolean> {
    const leaf = typeof lock === "string" ? lock : lockLeafHex(lock);
    return this.#read(() => this.contract.lockResolved(leaf));
  }

  /** Payouts of `owner` in `asset` waiting for `withdraw`. */
  async credits(owner: Address, asset: Address = ETH): Promise<bigint> {
    return this.#read(() => this.contract.credits(owner, asset));
  }

  /**
   * Whether the chain confirms `payment` as a leaf of `state`, the state the channel concluded
   * with or the one registered in its running challenge.
   */
  async verifyPayment(channelId: Hex, state: State, payment: Payment, proof: readonly Hex[]): Promise<boolean> {
    return this.#read(() => this.contract.verifyPayment(channelId, stateStruct(state), paymentStruct(payment), [...proof]));
  }

  /**
   * The state registered in the channel's running challenge, from its last `Challenged` event
   * (searched from `fromBlock`), checked against the version `channel()` reports. This is what
   * `settle` takes back. `ChainResponseError` when no challenge runs or no event matches.
   */
  async registeredState(channelId: Hex, query: Pick<EventQuery, "fromBlock" | "blockRange"> = {}): Promise<State> {
    const status = await this.channel(channelId);
    if (status.mode !== ChannelMode.Challenged) throw new ChainResponseError(`channel ${channelId} has no running challenge`);
    const events = await this.events({ ...query, channelId, names: ["Challenged"] });
    const last = events.at(-1) as ChallengedEvent | undefined;
    if (last === undefined || last.state.version !== status.version) {
      throw new ChainResponseError(`no Challenged event of channel ${channelId} at version ${status.version}`);
    }
    return last.state;
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
          approval = await this.#send("approve", () => token.approve.populateTransaction(this.address, value));
        }
      }
      const result = await this.#send("deposit", () => this.#depositCall(params, participant, amount, options));
      return { result, approval };
    });
    const event = this.#find(result, "Deposited");
    return { ...result, approval, received: event.amount, deposit: event.deposit };
  }

  /**
   * Executes a withdrawal signed by both participants: pays `total - withdrawn` to the
   * participant's payee out of the open channel. Anyone may submit it. A total not above what was
   * withdrawn pays nothing and succeeds (`executed: false`).
   */
  async partialWithdraw(params: Params, signed: SignedWithdrawal, options: WriteOptions = {}): Promise<PartialWithdrawResult> {
    const result = await this.#send("partialWithdraw", () =>
      this.contract.partialWithdraw.populateTransaction(paramsStruct(params), withdrawalStruct(signed.withdrawal), [signed.sigs[0], signed.sigs[1]], gas(options)),
    );
    const events = parseReceiptEvents(result.receipt, this.address);
    const event = events.find((e) => e.name === "PartiallyWithdrawn");
    if (!event || event.name !== "PartiallyWithdrawn") {
      return { ...result, executed: false, amount: 0n, total: signed.withdrawal.total, credited: [] };
    }
    return { ...result, executed: true, amount: event.amount, total: event.total, credited: creditsIn(events) };
  }

  /** Concludes the channel at once on a final state signed by both. */
  async close(params: Params, signed: SignedState, options: WriteOptions = {}): Promise<ConcludeResult> {
    const result = await this.#send(
      "close",
      () => this.contract.close.populateTransaction(paramsStruct(params), stateStruct(signed.state), [signed.sigs[0], signed.sigs[1]], gas(options)),
      await this.#disputeDeadline(params),
    );
    return this.#concluded(result, "Closed");
  }

  /** Registers a state signed by both (or refutes the registered one with a newer state). */
  async challenge(params: Params, signed: SignedState, options: WriteOptions = {}): Promise<ChallengeResult> {
    const result = await this.#send("challenge", () => this.#challengeCall(params, signed, options), await this.#disputeDeadline(params));
    const event = this.#find(result, "Challenged");
    return { ...result, version: event.state.version, deadline: event.deadline, state: event.state };
  }

  /** Starts a dispute from the unsigned opening state; only a participant or a payee may. */
  async challengeOpening(params: Params, options: WriteOptions = {}): Promise<ChallengeResult> {
    return this.challenge(params, { state: openingState(channelId(params)), sigs: ["0x", "0x"] }, options);
  }

  /**
   * Concludes a challenged channel from its deadline on, on the registered state handed back as
   * `state` (the `Challenged` event's, or `registeredState`); pays both payees and holds back the
   * locked amounts for `resolveLock`. Anyone may call it.
   */
  async settle(params: Params, state: State, options: WriteOptions = {}): Promise<ConcludeResult> {
    const result = await this.#send("settle", () => this.#settleCall(params, state, options));
    return this.#concluded(result, "Settled");
  }

  /**
   * Registers a 32-byte secret: records that sha256(secret) was revealed now. Once per secret.
   * `deadline`: when it must be mined by (a lock's expiry; chain time) and the window it was sent
   * in: the sender bids harder as it nears.
   */
  async registerSecret(secret: Hex, options: WriteOptions & { deadline?: TxPurpose["deadline"] } = {}): Promise<RegisterSecretResult> {
    // Throws ValueOutOfRangeError for anything but 32 bytes, before a transaction is sent.
    const hashlock = hashlockOf(secret);
    const result = await this.#send("registerSecret", () => this.contract.registerSecret.populateTransaction(secret, gas(options)), options.deadline);
    const event = this.#find(result, "SecretRevealed");
    if (event.hashlock !== hashlock) throw new ChainResponseError(`SecretRevealed reports hashlock ${event.hashlock}, not ${hashlock}`);
    const block = await this.provider.getBlock(result.blockNumber);
    if (block === null) throw new ChainResponseError(`no block ${result.blockNumber}`);
    return { ...result, hashlock: event.hashlock, secret: event.secret, revealedAt: BigInt(block.timestamp) };
  }

  /**
   * Pays out one lock of a concluded channel: `state` is the state it concluded with and `proof`
   * shows `lock` is a leaf of its `locksRoot` (`LocksTree.proof`). Anyone may call it.
   */
  async resolveLock(params: Params, state: State, lock: Lock, proof: readonly Hex[], options: WriteOptions = {}): Promise<ResolveLockResult> {
    const result = await this.#send("resolveLock", () =>
      this.contract.resolveLock.populateTransaction(paramsStruct(params), stateStruct(state), lockStruct(lock), [...proof], gas(options)),
    );
    const events = parseReceiptEvents(result.receipt, this.address);
    const event = this.#find(result, "LockResolved", events);
    return { ...result, leaf: event.leaf, hashlock: event.hashlock, paidTo: event.paidTo, amount: event.amount, credited: creditsIn(events) };
  }

  /** Withdraws the signer's credited payouts in `asset` to itself. */
  async withdraw(asset: Address = ETH, options: WriteOptions = {}): Promise<WithdrawResult> {
    const result = await this.#send("withdraw", () => this.#withdrawCall(asset, options));
    const event = this.#find(result, "Withdrawn");
    return { ...result, amount: event.amount, to: event.to };
  }

  /** Withdraws the signer's credited payouts in `asset` to `to`. */
  async withdrawTo(asset: Address, to: Address, options: WriteOptions = {}): Promise<WithdrawResult> {
    const result = await this.#send("withdrawTo", () => this.contract.withdrawTo.populateTransaction(asset, to, gas(options)));
    const event = this.#find(result, "Withdrawn");
    return { ...result, amount: event.amount, to: event.to };
  }

  // ---------------------------------------------------------------- estimates

  /**
   * What a write would cost now, sending nothing: its gas units and the EIP-1559 price. A call
   * the chain can run as it is (deposit, challenge, settle, withdraw) is simulated from the signer
   * (`eth_estimateGas`; a revert arrives as its typed error, as the write's would). A close or a
   * withdrawal needs the peer's signature first, so it can't be simulated before it is asked: its
   * figure is the measured one of docs/gas.md (`basis: "typical"`). So is an ERC-20 deposit that
   * needs an approval first (the deposit can't run before the approval is mined).
   */
  async estimate(write: EstimatedWrite): Promise<GasEstimate> {
    const [{ gas, basis }, market] = await Promise.all([this.#gasOf(write), this.#market()]);
    const cap = this.#sender?.cap ?? capOf(DEFAULT_MAX_FEE_GWEI);
    const { maxFeePerGas } = initialFees(market, cap, write.operation);
    const price = market.baseFee + market.tip;
    return { gas, basis, baseFee: market.baseFee, tip: market.tip, maxFeePerGas, fee: gas * price, maxFee: gas * maxFeePerGas };
  }

  async #gasOf(write: EstimatedWrite): Promise<{ gas: bigint; basis: GasEstimate["basis"] }> {
    const simulated = async (populate: () => Promise<ContractTransaction>) => ({ gas: await this.#simulate(populate), basis: "simulated" as const });
    switch (write.operation) {
      case "deposit": {
        const { params, participant, amount } = write;
        if (params.asset.toLowerCase() === ETH) return simulated(() => this.#depositCall(params, participant, amount));
        const signer = this.#signer("deposit");
        const token = IERC20__factory.connect(params.asset, signer);
        const allowance = await this.#read(async () => token.allowance(await signer.getAddress(), this.address));
        if (allowance >= amount) return simulated(() => this.#depositCall(params, participant, amount));
        const approve = await this.#simulate(() => token.approve.populateTransaction(this.address, amount));
        return { gas: approve + TYPICAL_GAS.tokenDeposit, basis: "typical" };
      }
      case "challenge":
        return simulated(() => this.#challengeCall(write.params, write.signed ?? { state: openingState(channelId(write.params)), sigs: ["0x", "0x"] }));
      case "settle":
        return simulated(() => this.#settleCall(write.params, write.state));
      case "withdraw":
        return simulated(() => this.#withdrawCall(write.asset));
      case "close":
        return { gas: TYPICAL_GAS.close, basis: "typical" };
      case "partialWithdraw":
        return { gas: write.first ? TYPICAL_GAS.firstWithdrawal : TYPICAL_GAS.withdrawal, basis: "typical" };
    }
  }

  /** eth_estimateGas of the call from the signer; a revert as its typed error. */
  async #simulate(populate: () => Promise<ContractTransaction>): Promise<bigint> {
    const signer = this.#signer("estimate");
    try {
      const tx = await populate();
      return await signer.estimateGas({ to: tx.to, data: tx.data, value: tx.value ?? 0n });
    } catch (error) {
      throw await this.#decodeFailure(error, undefined);
    }
  }

  /** The chain's price now: the latest block's base fee and the tip the endpoint suggests. */
  async #market(): Promise<Market> {
    const [block, feeData] = await Promise.all([this.provider.getBlock("latest"), this.provider.getFeeData()]);
    if (block === null) throw new ChainResponseError("the chain has no latest block");
    return { baseFee: block.baseFeePerGas ?? feeData.gasPrice ?? 0n, tip: feeData.maxPriorityFeePerGas ?? 0n };
  }

  #depositCall(params: Params, participant: 0 | 1, amount: bigint, options: WriteOptions = {}): Promise<ContractTransaction> {
    const value = params.asset.toLowerCase() === ETH ? amount : 0n;
    return this.contract.deposit.populateTransaction(paramsStruct(params), participant, amount, { value, ...gas(options) });
  }

  #challengeCall(params: Params, signed: SignedState, options: WriteOptions = {}): Promise<ContractTransaction> {
    return this.contract.challenge.populateTransaction(paramsStruct(params), stateStruct(signed.state), [signed.sigs[0], signed.sigs[1]], gas(options));
  }

  #settleCall(params: Params, state: State, options: WriteOptions = {}): Promise<ContractTransaction> {
    return this.contract.settle.populateTransaction(paramsStruct(params), stateStruct(state), gas(options));
  }

  #withdrawCall(asset: Address, options: WriteOptions = {}): Promise<ContractTransaction> {
    return this.contract.withdraw.populateTransaction(asset, gas(options));
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
   * The deadline of the channel's running challenge, when a challenge or close answers one: the
   * sender bids harder as it nears.
   */
  async #disputeDeadline(params: Params): Promise<TxPurpose["deadline"]> {
    const status = await this.channel(channelId(params)).catch(() => undefined);
    if (status?.mode !== ChannelMode.Challenged) return undefined;
    return { at: status.deadline, period: params.challengePeriod };
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#sending.then(operation);
    this.#sending = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends the call `populate` builds through the sender (one transaction at a time per key: the
   * node's API and its watcher never race for a nonce), waits for the receipt, and turns any
   * revert into its typed error.
   */
  async #send(operation: string, populate: () => Promise<ContractTransaction>, deadline?: TxPurpose["deadline"]): Promise<TxResult> {
    // Made on the first write when none was given (one per driver, as the signer is).
    const sender = (this.#sender ??= new TxSender(this.#signer(operation)));
    try {
      const tx = await populate();
      const receipt = await sender.send(
        { to: tx.to as Address, data: tx.data as Hex, ...(tx.value === undefined ? {} : { value: tx.value }), ...(tx.gasLimit === undefined ? {} : { gasLimit: tx.gasLimit }) },
        { what: operation, ...(deadline === undefined ? {} : { deadline }) },
      );
      return { hash: receipt.hash as Hex, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt };
    } catch (error) {
      if (error instanceof ChainResponseError) throw error;
      throw await this.#decodeFailure(error, undefined);
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

  /** The first event named `name` of the adjudicator in the receipt; `ChainResponseError` if none. */
  #find<N extends AdjudicatorEvent["name"]>(
    result: TxResult,
    name: N,
    events: AdjudicatorEvent[] = parseReceiptEvents(result.receipt, this.address),
  ): Extract<AdjudicatorEvent, { name: N }> {
    const event = events.find((e): e is Extract<AdjudicatorEvent, { name: N }> => e.name === name);
    if (event === undefined) throw new ChainResponseError(`no ${name} event in ${result.hash}`);
    return event;
  }

  #concluded(result: TxResult, name: "Closed" | "Settled"): ConcludeResult {
    const events = parseReceiptEvents(result.receipt, this.address);
    const event = this.#find(result, name, events);
    const heldBack: [bigint, bigint] = event.name === "Settled" ? event.heldBack : [0n, 0n];
    return { ...result, version: event.version, payouts: event.payouts, heldBack, credited: creditsIn(events) };
  }
}

function creditsIn(events: readonly AdjudicatorEvent[]): Credit[] {
  return events.flatMap((e) => (e.name === "Credited" ? [{ owner: e.owner, asset: e.asset, amount: e.amount }] : []));
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

/** The adjudicator's mode number as a `ChannelMode`; an unknown one is a chain answer this code can't read. */
function channelModeOf(value: bigint | number, channelId: Hex): ChannelMode {
  const mode = Number(value);
  if (!Object.values(ChannelMode).includes(mode)) throw new ChainResponseError(`channel ${channelId} has an unknown mode ${mode}`);
  return mode;
}

/**
 * A read at a past block answered with no data: the adjudicator was not deployed yet there, so no
 * channel existed (a confirmed block below the deployment on a young chain). Other errors pass.
 */
function notYetDeployed(error: unknown): [bigint, bigint, bigint, [bigint, bigint], [bigint, bigint]] {
  const e = error as { code?: unknown; value?: unknown };
  if (e.code === "BAD_DATA" && e.value === "0x") return [0n, 0n, 0n, [0n, 0n], [0n, 0n]];
  throw error;
}
