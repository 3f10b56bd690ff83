/** The channels' deposits as the chain holds them: read at the block the watcher covered, taken from its events, read again after a reorg. */
import type { Provider } from "ethers";
import { confirmedTag, type AdjudicatorDriver, type AdjudicatorEvent } from "../chain";
import { ChannelMode, type Hex } from "../types";
import type { ChannelSessions } from "./channelSessions";
import type { ChannelLifecycle } from "./lifecycle";
import type { ChannelStore } from "./store";
import type { ChainWatcher } from "./watcher";

export interface DepositsHost {
  sessions: ChannelSessions;
  store: Pick<ChannelStore, "setDeposits">;
  lifecycle: Pick<ChannelLifecycle, "apply">;
  driver: Pick<AdjudicatorDriver, "channelStatus">;
  provider: Pick<Provider, "getBlockNumber">;
  /** The node's watcher, once started. */
  watcher(): Pick<ChainWatcher, "poll" | "coveredBlock"> | undefined;
  /** Blocks an event needs to count (known once the node started). */
  confirmations(): number;
  log?(line: string): void;
  onError(error: unknown, what: string): void;
}

export class Deposits {
  /** Reorgs seen so far: a deposit read overtaken by one is dropped. */
  private reorgs = 0;

  constructor(private readonly host: DepositsHost) {}

  /**
   * Reads the channel's deposits from the chain into the store and the state machine. Withdrawals
   * are not taken from this read: only the executor's result or the `PartiallyWithdrawn` event
   * marks one executed, with its transaction (until then it counts as spent all the same).
   *
   * The read is made at the block the watcher has covered, never above it: a deposit counted from
   * a block whose hash the watcher doesn't hold could be reorged out unseen and keep counting.
   * `fresh` (a deposit just mined, the peer's word that it deposited) first runs a watcher round,
   * so the read includes the chain's head; it must not be asked from within a round (the round
   * would wait for itself). A read overtaken by a reorg is dropped: the reorg reads again.
   */
  async refresh(channelId: Hex, fresh = false): Promise<void> {
    const session = this.host.sessions.find(channelId);
    const block = await this.block(fresh);
    if (block === undefined) return;
    const reorgs = this.reorgs;
    const status = await this.host.driver.channelStatus(session.id, block);
    if (reorgs !== this.reorgs || status.mode === ChannelMode.Concluded) return;
    session.setDeposits(status.deposits);
    this.host.store.setDeposits(session.id, status.deposits);
    if (status.mode !== ChannelMode.None) this.host.lifecycle.apply(session.id, "funded");
  }

  /** A confirmed `Deposited` event: the participant's deposit is at least the event's. */
  onDeposited(event: Extract<AdjudicatorEvent, { name: "Deposited" }>): void {
    const session = this.host.sessions.find(event.channelId);
    const deposits: [bigint, bigint] = [...session.deposits];
    if (event.deposit > deposits[event.participant]) {
      deposits[event.participant] = event.deposit;
      session.setDeposits(deposits);
      this.host.store.setDeposits(session.id, deposits);
    }
    this.host.lifecycle.apply(session.id, "funded");
  }

  /** A reorg replaced blocks the watcher had read: every live channel's deposits are read again (one may be gone). */
  async onReorg(fork: number, depth: number): Promise<void> {
    this.reorgs += 1;
    this.host.log?.(`chain reorg: ${depth} block(s) above block ${fork} replaced; reading the channels' deposits again`);
    for (const session of this.host.sessions.values()) {
      if (this.host.sessions.isConcluded(session.id)) continue;
      await this.refresh(session.id).catch((error: unknown) => this.host.onError(error, `reading the deposits of ${session.id}`));
    }
  }

  /**
   * The block deposits are read at: the watcher's covered block; undefined while it has read none
   * (no read then: its first round hands over every `Deposited` event). Only `fresh` runs a round,
   * so a read asked from inside one never waits for the next.
   */
  private async block(fresh: boolean): Promise<number | "latest" | undefined> {
    const watcher = this.host.watcher();
    if (!watcher) return confirmedTag(await this.host.provider.getBlockNumber(), this.host.confirmations());
    if (fresh) await watcher.poll();
    return watcher.coveredBlock();
  }
}
