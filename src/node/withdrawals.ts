/**
 * This node's withdrawals from open channels: a cash-out signed by both, its execution on chain
 * (retried after a failure until it expires), the expiry of those never executed, and the chain's
 * word that one was executed.
 */
import type { AdjudicatorDriver, PartialWithdrawResult } from "../chain";
import type { WithdrawalRecord } from "../channel";
import { InvalidAmountError } from "../errors";
import { ChannelMode, type Hex } from "../types";
import type { CashOutView } from "./api/types";
import type { ChannelSessions } from "./channelSessions";
import type { ChannelLifecycle } from "./lifecycle";
import type { ChannelSession } from "./session";

/** How long after a failed execution of its withdrawal the node tries again (ms). */
const WITHDRAWAL_RETRY_MS = 10_000;

export interface WithdrawalsHost {
  sessions: ChannelSessions;
  lifecycle: Pick<ChannelLifecycle, "status">;
  driver: AdjudicatorDriver;
  /** The latest block's timestamp (withdrawal expiries are block timestamps). */
  chainTime(): Promise<bigint>;
  /** Blocks an event needs to count (known once the node started). */
  confirmations(): number;
  /** How long a withdrawal this node asks for stays valid (seconds of chain time). */
  window: bigint;
  /** Test hook: runs once a cash-out's withdrawal is signed by both and stored, before it is executed. */
  afterSigned(channelId: Hex): void;
  onError(error: unknown, what: string): void;
}

export class Withdrawals {
  /** This node's withdrawals being executed, and when each was last tried, by `channelId:total`. */
  private readonly executions = new Map<string, { running?: Promise<PartialWithdrawResult>; triedAt: number }>();

  constructor(private readonly host: WithdrawalsHost) {}

  async cashOut(channelId: Hex, amount: bigint): Promise<CashOutView> {
    const session = this.host.sessions.find(channelId);
    this.host.sessions.checkWithdrawable(session.id, "cash out");
    if (typeof amount !== "bigint" || amount <= 0n) throw new InvalidAmountError(amount);
    const signed = await session.cashOut(amount, this.host.window);
    this.host.afterSigned(session.id);
    const { withdrawal } = signed;
    const view: CashOutView = {
      channelId: session.id,
      participant: withdrawal.participant,
      payee: session.params.payees[withdrawal.participant],
      amount,
      total: withdrawal.total,
      expiry: withdrawal.expiry,
      status: "signed",
    };
    try {
      const result = await this.execute(session, { withdrawal, sigs: signed.sigs, status: "signed" });
      return {
        ...view,
        status: "executed",
        paid: result.amount,
        tx: { channelId: session.id, hash: result.hash, blockNumber: BigInt(result.blockNumber), gasUsed: result.gasUsed },
      };
    } catch (error) {
      // Signed by both and stored: it stays counted as spent, and the watcher tries again until it expires.
      this.host.onError(error, `executing the withdrawal of ${withdrawal.total} in ${session.id}`);
      return { ...view, reason: error instanceof Error ? error.message : String(error) };
    }
  }

  /**
   * For every channel with live withdrawals (one failing does not stop the others): reads the
   * chain's time, then its withdrawals (so an execution in time is seen before an expiry is
   * decided); drops the expired ones (their amounts count again), and executes this node's own
   * signed ones not yet executed (again after a failure, every WITHDRAWAL_RETRY_MS).
   */
  async check(): Promise<void> {
    const sessions = [...this.host.sessions.values()].filter((s) => s.withdrawals.length > 0);
    if (sessions.length === 0) return;
    const now = await this.host.chainTime();
    for (const session of sessions) {
      await this.checkOf(session, now).catch((error: unknown) => this.host.onError(error, `checking the withdrawals of ${session.id}`));
    }
  }

  /**
   * A withdrawal transaction's result (the executor's receipt or the `PartiallyWithdrawn` event):
   * the chain's cumulative withdrawal of `participant` is `total`; the live withdrawals it reaches
   * are stored as executed by `txHash`. The only way a withdrawal becomes executed.
   */
  taken(session: ChannelSession, participant: 0 | 1, total: bigint, txHash: Hex): void {
    if (total <= session.withdrawn[participant]) return;
    const withdrawn: [bigint, bigint] = [...session.withdrawn];
    withdrawn[participant] = total;
    session.setWithdrawn(withdrawn, txHash);
  }

  /** Waits for the executions running (their transactions are out); failures are retried at the next start. */
  async settled(): Promise<void> {
    await Promise.all([...this.executions.values()].flatMap((e) => (e.running ? [e.running.catch(() => undefined)] : [])));
  }

  private async checkOf(session: ChannelSession, now: bigint): Promise<void> {
    if (this.host.sessions.isConcluded(session.id)) {
      session.voidWithdrawals();
      return;
    }
    const status = await this.host.driver.channelStatus(session.id);
    // Concluded on chain: its Closed or Settled event voids them, after any PartiallyWithdrawn before it.
    if (status.mode === ChannelMode.Concluded) return;
    // Executed on chain, not yet reported by the executor or the event (which mark it, with its
    // transaction): neither executed again nor expired.
    const onChain = (r: WithdrawalRecord) => r.withdrawal.total <= status.withdrawn[r.withdrawal.participant];
    session.expireWithdrawals(expiryCutoff(now, session.withdrawals.filter(onChain)));
    if (status.mode !== ChannelMode.Open || this.host.lifecycle.status(session.id) !== "open") return;
    for (const record of session.withdrawals) {
      if (record.status !== "signed" || record.withdrawal.participant !== session.me || onChain(record)) continue;
      const known = this.executions.get(executionKey(session.id, record));
      if (known?.running || (known && Date.now() - known.triedAt < WITHDRAWAL_RETRY_MS)) continue;
      this.execute(session, record).catch((error: unknown) =>
        this.host.onError(error, `executing the withdrawal of ${record.withdrawal.total} in ${session.id}`),
      );
    }
  }

  /**
   * Executes a withdrawal signed by both (`partialWithdraw`), once at a time per withdrawal, and
   * takes the chain's new cumulative withdrawal in: the record is stored as executed, with this
   * transaction. If another transaction executed it before (this one paid nothing), the
   * `PartiallyWithdrawn` event of that one marks it.
   */
  private execute(session: ChannelSession, record: WithdrawalRecord): Promise<PartialWithdrawResult> {
    const key = executionKey(session.id, record);
    const known = this.executions.get(key);
    if (known?.running) return known.running;
    const running = (async () => {
      const result = await this.host.driver.partialWithdraw(session.params, { withdrawal: record.withdrawal, sigs: record.sigs });
      // Deeper confirmations: the confirmed `PartiallyWithdrawn` event marks it (a reorg may take it away before).
      if (result.executed && this.host.confirmations() === 1) this.taken(session, record.withdrawal.participant, result.total, result.hash);
      return result;
    })();
    const entry: { running?: Promise<PartialWithdrawResult>; triedAt: number } = { running, triedAt: Date.now() };
    this.executions.set(key, entry);
    running.then(
      () => this.executions.delete(key),
      () => delete entry.running,
    );
    return running;
  }
}

/**
 * The chain time up to which withdrawals may be expired: `now`, but before the earliest expiry of
 * those executed on chain and not yet marked (`expireWithdrawals` drops those expiring before it).
 */
function expiryCutoff(now: bigint, executedOnChain: readonly WithdrawalRecord[]): bigint {
  return executedOnChain.reduce((cutoff, r) => (r.withdrawal.expiry < cutoff ? r.withdrawal.expiry : cutoff), now);
}

const executionKey = (channelId: Hex, record: WithdrawalRecord) => `${channelId.toLowerCase()}:${record.withdrawal.total}:${record.withdrawal.expiry}`;
