/**
 * An in-memory `NodeApi` for testing the HTTP API and the CLI without a chain: channels and
 * payments in maps, balances enforced, the real error classes thrown, payment proofs from the real
 * Merkle payment log. Its clock (`now`) and block number are the test's to move.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import {
  ChallengePendingError,
  ChannelConcludedError,
  ChannelNotChallengedError,
  DepositOverflowError,
  WithdrawNothingError,
} from "../../src/chain/errors";
import { ChannelFinalizedError, InsufficientFundsError, InvalidAmountError, InvalidArgumentError } from "../../src/errors";
import { PaymentLog } from "../../src/merkle";
import type {
  AssetInfo,
  CashOutView,
  ChannelView,
  EventsQuery,
  EventView,
  NodeApi,
  NodeInfo,
  OpenChannelRequest,
  PaymentRef,
  PaymentsQuery,
  PaymentView,
  ProofView,
  TxView,
} from "../../src/node/api/types";
import type { AddWebhookRequest, WebhookView } from "../../src/node/api/types";
import { UnknownWebhookError } from "../../src/node/webhooks";
import { UnknownChannelError } from "../../src/node/store/errors";
import { WithdrawalExceedsBalanceError } from "../../src/channel";
import { ChannelStatusError } from "../../src/node/node";
import { ChannelFundedError } from "../../src/node/open";
import { resolveRef } from "../../src/node/paymentRef";
import { ETH, type Address, type Hex } from "../../src/types";

export const MAX_UINT256 = (1n << 256n) - 1n;
export const USDC = "0x5fbdb2315678afecb367f032d93f642f64180aa3" as Address;
export const BIG = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512" as Address;
export const ME = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266" as Address;
export const PEER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8" as Address;

export const ASSETS: readonly AssetInfo[] = [
  { asset: ETH, symbol: "ETH", decimals: 18 },
  { asset: USDC, symbol: "USDC", decimals: 6 },
  // A token with 0 decimals and huge amounts, for round-trips near 2^256 - 1.
  { asset: BIG, symbol: "BIG", decimals: 0 },
];

interface FakeChannel {
  view: ChannelView;
  log: PaymentLog;
  payments: PaymentView[];
}

/** A deterministic 32-byte hex from a label. */
export function hash(label: string): Hex {
  return keccak256(toUtf8Bytes(label)) as Hex;
}

export class FakeNode implements NodeApi {
  now = 1_700_000_000n;
  blockNumber = 100n;
  /** The peer's deposit in each channel opened from now on. */
  peerDeposit = 0n;
  readonly credits = new Map<Address, bigint>();
  /** When set, `openChannel` fails with it (a failed stage of the real node's open). */
  openError: Error | undefined;
  /** Every call, for assertions: [method, ...args]. */
  readonly calls: unknown[][] = [];
  /** The memos refs were hashed from, as the node keeps them. */
  private readonly memos = new Map<Hex, string>();
  private readonly channelsById = new Map<Hex, FakeChannel>();
  private nonce = 0n;

  async info(): Promise<NodeInfo> {
    this.calls.push(["info"]);
    return {
      address: ME,
      chainId: 31337n,
      adjudicator: USDC,
      peerUrl: "ws://127.0.0.1:9735",
      blockNumber: this.blockNumber,
      channels: this.channelsById.size,
    };
  }

  async asset(asset: Address): Promise<AssetInfo> {
    this.calls.push(["asset", asset]);
    const info = ASSETS.find((a) => a.asset === asset.toLowerCase());
    if (info === undefined) throw new InvalidArgumentError(`${asset} is not an ERC-20 token`);
    return { ...info };
  }

  async openChannel(request: OpenChannelRequest): Promise<ChannelView> {
    this.calls.push(["openChannel", request]);
    if (this.openError) throw this.openError;
    await this.asset(request.asset);
    if (request.deposit <= 0n || request.deposit > MAX_UINT256) throw new InvalidAmountError(request.deposit);
    const nonce = this.nonce++;
    const channelId = hash(`channel ${nonce}`);
    const view: ChannelView = {
      channelId,
      participants: [ME, request.peer],
      payees: [request.payee ?? ME, request.peer],
      asset: request.asset,
      challengePeriod: request.challengePeriod ?? 86_400n,
      nonce,
      me: 0,
      status: "open",
      deposits: [request.deposit, this.peerDeposit],
      withdrawn: [0n, 0n],
      withdrawals: [],
      version: 0n,
      transferred: [0n, 0n],
      balances: [request.deposit, this.peerDeposit],
      locked: [0n, 0n],
      payments: 0n,
    };
    this.channelsById.set(channelId, { view, log: new PaymentLog(), payments: [] });
    return structuredClone(view);
  }

  /** A channel whose open failed before funding: stored as opening, nothing deposited. */
  addOpening(asset: Address = ETH): Hex {
    const channelId = hash(`channel ${this.nonce}`);
    const view: ChannelView = {
      channelId,
      participants: [ME, PEER],
      payees: [ME, PEER],
      asset,
      challengePeriod: 86_400n,
      nonce: this.nonce++,
      me: 0,
      status: "opening",
      deposits: [0n, 0n],
      withdrawn: [0n, 0n],
      withdrawals: [],
      version: 0n,
      transferred: [0n, 0n],
      balances: [0n, 0n],
      locked: [0n, 0n],
      payments: 0n,
    };
    this.channelsById.set(channelId, { view, log: new PaymentLog(), payments: [] });
    return channelId;
  }

  async abandonChannel(channelId: Hex): Promise<ChannelView> {
    this.calls.push(["abandonChannel", channelId]);
    const c = this.get(channelId);
    if (c.view.status === "closed" || c.view.status === "settled") throw new ChannelStatusError(channelId, c.view.status, "abandon");
    if (c.view.deposits.some((d) => d > 0n)) throw new ChannelFundedError(channelId, c.view.deposits);
    c.view.status = "abandoned";
    return structuredClone(c.view);
  }

  async deposit(channelId: Hex, amount: bigint): Promise<ChannelView> {
    this.calls.push(["deposit", channelId, amount]);
    const c = this.get(channelId);
    if (amount <= 0n) throw new InvalidAmountError(amount);
    this.requireOnChain(c);
    const { me } = c.view;
    if (c.view.deposits[me] + amount > MAX_UINT256) {
      throw new DepositOverflowError("DepositOverflow", { deposit: c.view.deposits[me], amount }, "0x");
    }
    c.view.deposits[me] += amount;
    this.rebalance(c);
    this.blockNumber++;
    return structuredClone(c.view);
  }

  async pay(channelId: Hex, amount: bigint, paymentRef: PaymentRef): Promise<PaymentView> {
    this.calls.push(["pay", channelId, amount, paymentRef]);
    const { ref, memo } = resolveRef(paymentRef);
    const c = this.get(channelId);
    if (c.view.status !== "open") throw new ChannelFinalizedError(channelId);
    if (amount <= 0n || amount > MAX_UINT256) throw new InvalidAmountError(amount);
    const { me } = c.view;
    const available = c.view.balances[me];
    if (amount > available) throw new InsufficientFundsError(me, amount, available);
    const seq = BigInt(c.log.size);
    c.log.append({ channelId, seq, payer: me, amount, ref });
    c.view.transferred[me] += amount;
    c.view.version += 1n;
    c.view.payments += 1n;
    this.rebalance(c);
    if (memo !== undefined) this.memos.set(ref, memo);
    const payment: PaymentView = { channelId, seq, payer: me, amount, ref, version: c.view.version, committedAt: this.now };
    c.payments.push(payment);
    return memo === undefined ? { ...payment } : { ...payment, memo };
  }

  async channels(): Promise<ChannelView[]> {
    this.calls.push(["channels"]);
    return [...this.channelsById.values()].map((c) => structuredClone(c.view));
  }

  async channel(channelId: Hex): Promise<ChannelView> {
    this.calls.push(["channel", channelId]);
    return structuredClone(this.get(channelId).view);
  }

  async payments(channelId: Hex, query: PaymentsQuery): Promise<PaymentView[]> {
    this.calls.push(["payments", channelId, query]);
    const c = this.get(channelId);
    const ref = query.ref === undefined ? undefined : resolveRef(query.ref).ref;
    const from = query.fromSeq ?? 0n;
    return c.payments
      .filter((p) => p.seq >= from && (ref === undefined || p.ref === ref))
      .slice(0, query.limit ?? 1000)
      .map((p) => {
        const memo = this.memos.get(p.ref);
        return memo === undefined ? { ...p } : { ...p, memo };
      });
  }

  /** The events `listEvents` pages (a test pushes them). */
  readonly events: EventView[] = [];

  async listEvents(query: EventsQuery): Promise<EventView[]> {
    this.calls.push(["events", query]);
    const after = query.after ?? 0n;
    return this.events.filter((e) => BigInt(e.id) > after && (query.types === undefined || query.types.includes(e.type))).slice(0, query.limit ?? 1000);
  }

  // Webhooks: the fake keeps none (test/cli/webhook.test.ts runs them on a real node).
  addWebhook(request: AddWebhookRequest): Promise<WebhookView> {
    this.calls.push(["addWebhook", request]);
    return Promise.reject(new InvalidArgumentError("the fake node keeps no webhooks"));
  }

  webhooks(): Promise<WebhookView[]> {
    return Promise.resolve([]);
  }

  removeWebhook(id: bigint): Promise<WebhookView> {
    return Promise.reject(new UnknownWebhookError(String(id)));
  }

  async close(channelId: Hex): Promise<TxView> {
    this.calls.push(["close", channelId]);
    const c = this.get(channelId);
    this.requireOnChain(c);
    c.view.status = "closed";
    delete c.view.deadline;
    return this.tx(channelId, 61_000n);
  }

  async challenge(channelId: Hex): Promise<TxView> {
    this.calls.push(["challenge", channelId]);
    const c = this.get(channelId);
    this.requireOnChain(c);
    if (c.view.status !== "disputed") {
      c.view.status = "disputed";
      c.view.deadline = this.now + c.view.challengePeriod;
    }
    return this.tx(channelId, 90_000n);
  }

  async settle(channelId: Hex): Promise<TxView> {
    this.calls.push(["settle", channelId]);
    const c = this.get(channelId);
    this.requireOnChain(c);
    if (c.view.status !== "disputed" || c.view.deadline === undefined) {
      throw new ChannelNotChallengedError("ChannelNotChallenged", { channelId }, "0x");
    }
    if (this.now < c.view.deadline) throw new ChallengePendingError("ChallengePending", { deadline: c.view.deadline }, "0x");
    c.view.status = "settled";
    return this.tx(channelId, 70_000n);
  }

  /** Executes at once; a cash-out above the balance fails as the node's does. */
  async cashOut(channelId: Hex, amount: bigint): Promise<CashOutView> {
    this.calls.push(["cashOut", channelId, amount]);
    const c = this.get(channelId);
    if (c.view.status !== "open") throw new ChannelStatusError(channelId, c.view.status, "cash out");
    if (amount <= 0n || amount > MAX_UINT256) throw new InvalidAmountError(amount);
    const { me } = c.view;
    const available = c.view.balances[me];
    if (amount > available) throw new WithdrawalExceedsBalanceError(me, amount, available);
    c.view.withdrawn[me] += amount;
    this.rebalance(c);
    return {
      channelId,
      participant: me,
      payee: c.view.payees[me],
      amount,
      total: c.view.withdrawn[me],
      expiry: 1_700_003_600n,
      status: "executed",
      paid: amount,
      tx: this.tx(channelId, 56_000n),
    };
  }

  async withdraw(asset: Address): Promise<TxView> {
    this.calls.push(["withdraw", asset]);
    const credit = this.credits.get(asset) ?? 0n;
    if (credit === 0n) throw new WithdrawNothingError("WithdrawNothing", { owner: ME, asset }, "0x");
    this.credits.delete(asset);
    this.blockNumber++;
    return { hash: hash(`withdraw ${this.blockNumber}`), blockNumber: this.blockNumber, gasUsed: 40_000n };
  }

  async prove(channelId: Hex, seq: bigint): Promise<ProofView> {
    this.calls.push(["prove", channelId, seq]);
    const c = this.get(channelId);
    const payment = c.payments[Number(seq)];
    if (payment === undefined || seq >= BigInt(c.log.size)) {
      throw new InvalidArgumentError(`no payment ${seq} in channel ${channelId}: it has ${c.log.size}`);
    }
    const proof = c.log.proof(seq);
    return {
      payment: { ...payment },
      leaf: proof.leaf,
      proof: proof.proof,
      root: proof.root,
      stateVersion: c.view.version,
      verifiedOnChain: c.view.status === "closed" || c.view.status === "settled" || c.view.status === "disputed",
    };
  }

  private get(channelId: Hex): FakeChannel {
    const c = this.channelsById.get(channelId.toLowerCase() as Hex);
    if (c === undefined) throw new UnknownChannelError(channelId);
    return c;
  }

  private requireOnChain(c: FakeChannel): void {
    if (c.view.status === "closed" || c.view.status === "settled") {
      throw new ChannelConcludedError("ChannelConcluded", { channelId: c.view.channelId }, "0x");
    }
  }

  private rebalance(c: FakeChannel): void {
    const { deposits, withdrawn, transferred } = c.view;
    c.view.balances = [
      deposits[0] - withdrawn[0] + transferred[1] - transferred[0],
      deposits[1] - withdrawn[1] + transferred[0] - transferred[1],
    ];
  }

  private tx(channelId: Hex, gasUsed: bigint): TxView {
    this.blockNumber++;
    return { channelId, hash: hash(`tx ${channelId} ${this.blockNumber}`), blockNumber: this.blockNumber, gasUsed };
  }
}
