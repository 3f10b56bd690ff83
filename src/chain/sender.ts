/**
 * Sends the node's transactions, one at a time per key, and sees each one mined:
 * - EIP-1559 fees, never above the cap (`FeeCapExceededError` when the chain asks more);
 * - a transaction not mined within `replaceAfterMs` is replaced with the same nonce and fees
 *   12.5 % higher (fees.ts), up to the cap; a dispute answer with less than a quarter of its
 *   challenge period left bids the cap at once;
 * - every transaction is written to the journal (the node's store) before it is broadcast and
 *   removed once mined, so after a restart `resume` finds it: mined, or still pending or dropped
 *   (then broadcast again, same nonce, same contents). A new transaction takes a nonce only once
 *   the journal is empty: a nonce is never used for other contents and never skipped.
 */
import { makeError, type Provider, type Signer, type TransactionReceipt } from "ethers";
import type { Address, Hex } from "../types";
import { ChainResponseError, NonceTakenError } from "./errors";
import { chainUnreachable, messagesOf } from "./failures";
import { capOf, DEFAULT_MAX_FEE_GWEI } from "./feeCap";
import { bumpedFees, initialFees, type Fees, type Market } from "./fees";

/** The call a transaction makes. */
export interface TxCall {
  to: Address;
  data: Hex;
  value?: bigint;
  /** Fixed gas limit (else estimated: a revert then arrives before anything is sent). */
  gasLimit?: bigint;
}

/** Why a transaction is sent; a dispute answer names its deadline (chain time, unix seconds) and the channel's challenge period. */
export interface TxPurpose {
  what: string;
  deadline?: { at: bigint; period: bigint };
}

/** A transaction sent and not yet seen mined, as the journal keeps it. */
export interface PendingTx extends Fees {
  from: Address;
  nonce: bigint;
  chainId: bigint;
  to: Address;
  data: Hex;
  value: bigint;
  gasLimit: bigint;
  what: string;
  deadline?: { at: bigint; period: bigint };
  /** Hashes of every attempt broadcast, oldest first (one of them is mined). */
  hashes: Hex[];
  /** Unix ms of the latest attempt. */
  sentAt: number;
}

/** Where the sender keeps its pending transactions (the node: its store, src/node/store/transactions.ts). */
export interface TxJournal {
  pending(from: Address): PendingTx[];
  /** Writes `tx` (inserted, or replacing the one of its nonce), durably, before it is broadcast. */
  put(tx: PendingTx): void;
  remove(from: Address, nonce: bigint): void;
}

export interface SenderOptions {
  /** The fee cap in gwei (default DEFAULT_MAX_FEE_GWEI). */
  maxFeeGwei?: number;
  /** A transaction not mined this long is replaced with a higher fee (ms, default 60,000: five blocks). */
  replaceAfterMs?: number;
  /** How often a sent transaction's receipt is looked for (ms, default 250). */
  pollMs?: number;
  /** Where pending transactions are kept across restarts (default: in memory only). */
  journal?: TxJournal;
  /** Told of replacements and of transactions found after a restart. */
  log?: (line: string) => void;
  /** Told of each transaction's life: broadcast (first, or again), replaced, mined, reverted, its nonce taken. A throw is ignored. */
  onTransaction?: (change: TxChange) => void;
  now?: () => number;
}

/** What happened to a transaction of the sender. */
export interface TxChange {
  kind: "sent" | "replaced" | "confirmed" | "failed";
  what: string;
  nonce: bigint;
  hash?: Hex;
  blockNumber?: number;
  reason?: string;
}

const DEFAULT_REPLACE_AFTER_MS = 60_000;
const DEFAULT_POLL_MS = 250;

export class TxSender {
  readonly cap: bigint;
  private readonly replaceAfterMs: number;
  private readonly pollMs: number;
  private readonly journal: TxJournal;
  private readonly log: (line: string) => void;
  private readonly observe: (change: TxChange) => void;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly signer: Signer,
    options: SenderOptions = {},
  ) {
    this.cap = capOf(options.maxFeeGwei ?? DEFAULT_MAX_FEE_GWEI);
    this.replaceAfterMs = options.replaceAfterMs ?? DEFAULT_REPLACE_AFTER_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.journal = options.journal ?? memoryJournal();
    this.log = options.log ?? (() => undefined);
    const observer = options.onTransaction;
    this.observe = (change) => {
      try {
        observer?.(change);
      } catch {
        // An observer's failure is its own: the transaction goes on.
      }
    };
    this.now = options.now ?? Date.now;
  }

  private get provider(): Provider {
    if (!this.signer.provider) throw new ChainResponseError("the sender's signer has no provider");
    return this.signer.provider;
  }

  /** Sends `call` and resolves with its receipt once mined; a mined revert rejects with ethers' CALL_EXCEPTION (receipt attached). */
  send(call: TxCall, purpose: TxPurpose): Promise<TransactionReceipt> {
    return this.exclusive(async () => {
      await this.finishPending();
      const tx = await this.prepare(call, purpose);
      this.journal.put(tx);
      await this.broadcast(tx, true);
      return this.mined(tx);
    });
  }

  /**
   * Takes up the transactions pending from before a restart: resolves once each is mined, or
   * broadcast again; sends after it wait until they are mined.
   */
  resume(): Promise<void> {
    return this.exclusive(() => this.finishPending());
  }

  /**
   * Stops waiting: a transaction still unmined rejects its sender and stays in the journal (the
   * next start checks it); nothing more is sent.
   */
  close(): void {
    this.closed = true;
  }

  /** Runs one operation at a time (several may call: the node's API and its watcher). */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async finishPending(): Promise<void> {
    const from = (await this.signer.getAddress()) as Address;
    for (const tx of this.journal.pending(from)) {
      this.log(`transaction ${tx.what} (nonce ${tx.nonce}) pending from before: checking it`);
      await this.broadcast(tx, false);
      await this.mined(tx).catch((error: unknown) => {
        // Still pending (the chain does not answer, the node stops): nothing new may take a nonce yet.
        if (this.journal.pending(from).some((p) => p.nonce === tx.nonce)) throw error;
        this.log(`${tx.what} (nonce ${tx.nonce}): ${(error as Error).message}`);
      });
    }
  }

  private async prepare(call: TxCall, purpose: TxPurpose): Promise<PendingTx> {
    if (this.closed) throw new ChainResponseError(`${purpose.what} not sent: the node is stopping`);
    const from = (await this.signer.getAddress()) as Address;
    const value = call.value ?? 0n;
    const gasLimit = call.gasLimit ?? (await this.signer.estimateGas({ from, to: call.to, data: call.data, value }));
    const fees = await this.urgentOr(purpose.deadline, (market) => initialFees(market, this.cap, purpose.what));
    const [nonce, { chainId }] = await Promise.all([this.provider.getTransactionCount(from, "pending"), this.provider.getNetwork()]);
    return {
      from, nonce: BigInt(nonce), chainId, to: call.to, data: call.data, value, gasLimit, ...fees, what: purpose.what,
      ...(purpose.deadline === undefined ? {} : { deadline: purpose.deadline }), hashes: [], sentAt: this.now(),
    };
  }

  /** The fees `decide` picks from the market, or the cap on both for a dispute answer near its deadline. */
  private async urgentOr(deadline: TxPurpose["deadline"], decide: (market: Market) => Fees): Promise<Fees> {
    const { market, timestamp } = await this.market();
    if (deadline !== undefined && isUrgent(deadline, timestamp) && market.baseFee <= this.cap) {
      return { maxFeePerGas: this.cap, maxPriorityFeePerGas: this.cap };
    }
    return decide(market);
  }

  private async market(): Promise<{ market: Market; timestamp: bigint }> {
    const [block, fees] = await Promise.all([this.provider.getBlock("latest"), this.provider.getFeeData()]);
    if (block === null) throw new ChainResponseError("the chain has no latest block");
    const baseFee = block.baseFeePerGas ?? fees.gasPrice ?? 0n;
    return { market: { baseFee, tip: fees.maxPriorityFeePerGas ?? 0n }, timestamp: BigInt(block.timestamp) };
  }

  /**
   * Broadcasts the journaled attempt. A first broadcast that fails undoes the journal entry (the
   * error is the caller's: nothing went out), unless the chain did not answer: then it may have
   * gone out, and stays journaled. Again (a restart, a drop): the node may know it already.
   */
  private async broadcast(tx: PendingTx, first: boolean): Promise<void> {
    try {
      const response = await this.signer.sendTransaction({
        type: 2, chainId: tx.chainId, nonce: Number(tx.nonce), to: tx.to, data: tx.data, value: tx.value, gasLimit: tx.gasLimit,
        maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
      });
      const hash = response.hash as Hex;
      const fresh = !tx.hashes.includes(hash);
      if (fresh) tx.hashes.push(hash);
      tx.sentAt = this.now();
      this.journal.put(tx);
      if (fresh) this.observe({ kind: tx.hashes.length === 1 ? "sent" : "replaced", what: tx.what, nonce: tx.nonce, hash });
    } catch (error) {
      if (first && chainUnreachable(error) === undefined) {
        this.journal.remove(tx.from, tx.nonce);
        throw error;
      }
      if (first || !isKnownAlready(error)) this.log(`broadcasting ${tx.what} (nonce ${tx.nonce}): ${messagesOf(error)[0] ?? String(error)}`);
    }
  }

  /** Waits until one attempt of `tx` is mined, replacing it when it takes too long; rides out an endpoint that does not answer. */
  private async mined(tx: PendingTx): Promise<TransactionReceipt> {
    for (;;) {
      try {
        return await this.minedOrNot(tx);
      } catch (error) {
        if (this.closed || chainUnreachable(error) === undefined) throw error;
        await sleep(this.pollMs);
      }
    }
  }

  private async minedOrNot(tx: PendingTx): Promise<TransactionReceipt> {
    for (;;) {
      const receipt = await this.receiptOf(tx);
      if (receipt !== null) {
        this.journal.remove(tx.from, tx.nonce);
        const mined = { what: tx.what, nonce: tx.nonce, hash: receipt.hash as Hex, blockNumber: receipt.blockNumber };
        if (receipt.status === 0) {
          this.observe({ kind: "failed", ...mined, reason: "reverted" });
          throw reverted(tx, receipt);
        }
        this.observe({ kind: "confirmed", ...mined });
        return receipt;
      }
      if (BigInt(await this.provider.getTransactionCount(tx.from, "latest")) > tx.nonce) {
        // Mined between the two reads, or taken by another transaction of this key.
        const late = await this.receiptOf(tx);
        if (late !== null) continue;
        this.journal.remove(tx.from, tx.nonce);
        this.observe({ kind: "failed", what: tx.what, nonce: tx.nonce, reason: "its nonce was used by another transaction of this key" });
        throw new NonceTakenError(tx.what, tx.nonce);
      }
      if (this.closed) throw new ChainResponseError(`${tx.what} (nonce ${tx.nonce}) not mined yet: the node stopped waiting; its next start checks it`);
      await this.replaceIfDue(tx);
      await sleep(this.pollMs);
    }
  }

  private async receiptOf(tx: PendingTx): Promise<TransactionReceipt | null> {
    for (const hash of [...tx.hashes].reverse()) {
      const receipt = await this.provider.getTransactionReceipt(hash);
      if (receipt !== null) return receipt;
    }
    return null;
  }

  /** Replaces `tx` when it waited too long, or at once at the cap when its deadline is near; broadcasts it again if the node dropped it. */
  private async replaceIfDue(tx: PendingTx): Promise<void> {
    const { market, timestamp } = await this.market();
    const urgent = tx.deadline !== undefined && isUrgent(tx.deadline, timestamp) && tx.maxFeePerGas < this.cap;
    if (urgent || this.now() - tx.sentAt >= this.replaceAfterMs) {
      const fees = bumpedFees(tx, market, this.cap, urgent);
      if (fees !== undefined) {
        this.log(`${tx.what} (nonce ${tx.nonce}) not mined: replacing it at ${fees.maxFeePerGas} wei per gas (was ${tx.maxFeePerGas})${urgent ? ", its deadline is near" : ""}`);
        Object.assign(tx, fees);
        this.journal.put(tx);
        await this.broadcast(tx, false);
        return;
      }
    }
    const latest = tx.hashes.at(-1);
    if (latest !== undefined && (await this.provider.getTransaction(latest)) === null) await this.broadcast(tx, false);
  }
}

/** Less than a quarter of the challenge period is left before the deadline. */
function isUrgent(deadline: { at: bigint; period: bigint }, now: bigint): boolean {
  return (deadline.at - now) * 4n < deadline.period;
}

function isKnownAlready(error: unknown): boolean {
  return /already known|already imported|nonce too low|replacement transaction underpriced|known transaction/i.test(messagesOf(error).join("\n"));
}

/** ethers' error for a mined transaction that reverted (what `tx.wait()` throws): the driver replays it for the reason. */
function reverted(tx: PendingTx, receipt: TransactionReceipt): Error {
  return makeError("transaction execution reverted", "CALL_EXCEPTION", {
    action: "sendTransaction", data: null, reason: null, invocation: null, revert: null,
    transaction: { to: tx.to, from: tx.from, data: tx.data }, receipt,
  });
}

function memoryJournal(): TxJournal {
  const txs = new Map<string, PendingTx>();
  const key = (from: Address, nonce: bigint) => `${from.toLowerCase()}:${nonce}`;
  return {
    pending: (from) => [...txs.values()].filter((tx) => tx.from.toLowerCase() === from.toLowerCase()).sort((a, b) => (a.nonce < b.nonce ? -1 : 1)),
    put: (tx) => void txs.set(key(tx.from, tx.nonce), { ...tx, hashes: [...tx.hashes] }),
    remove: (from, nonce) => void txs.delete(key(from, nonce)),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
