/**
 * The one owner of a channel's status: a table of the moves a status can make, and the only code
 * that writes a status to the store. Every change goes through `ChannelLifecycle.apply`; a move
 * the table does not have is refused with `IllegalTransitionError` and writes nothing.
 */
import { SluiceError } from "../errors";
import type { Hex } from "../types";
import type { ChannelStore } from "./store";
import { UnknownChannelError } from "./store/errors";
import type { ChannelStatus } from "./store/types";

/**
 * What moves a channel's status. Each is a fact of the chain, whoever made it happen:
 * - `funded`: a deposit is on chain (the `Deposited` event, or a chain read, after this node's
 *   own deposit or the peer's `refresh` message, that finds the channel open);
 * - `challenged`: a challenge is registered (the `Challenged` event, or this node's `challenge`
 *   transaction succeeded); a refutation registers another one;
 * - `closed`: concluded by a final state (the `Closed` event, or this node's `close` transaction);
 * - `settled`: concluded after a challenge (the `Settled` event, or this node's `settle` transaction);
 * - `abandoned`: an open that failed before funding is given up (`abandon`, after a chain read
 *   found no deposit). A deposit that lands later (a transaction still in flight) makes it `open`
 *   again: money on chain always leaves a channel that can be closed or challenged.
 * An API call asks the table before acting (`check`) and applies its event once its transaction
 * succeeded: a failed call changes no status.
 */
export type LifecycleEvent = "funded" | "challenged" | "closed" | "settled" | "abandoned";

export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = ["funded", "challenged", "closed", "settled", "abandoned"];

/**
 * From-status × event → to-status; a missing entry is an illegal move. A concluded channel only
 * takes its own conclusion again (this node's transaction, then its event). `closing` is written
 * by earlier versions of the node while their close transaction ran; it moves as `open` does.
 */
export const TRANSITIONS: { readonly [S in ChannelStatus]: { readonly [E in LifecycleEvent]?: ChannelStatus } } = {
  opening: { funded: "open", abandoned: "abandoned" },
  open: { funded: "open", challenged: "disputed", closed: "closed", settled: "settled" },
  closing: { funded: "closing", challenged: "disputed", closed: "closed", settled: "settled" },
  disputed: { funded: "disputed", challenged: "disputed", closed: "closed", settled: "settled" },
  closed: { closed: "closed" },
  settled: { settled: "settled" },
  abandoned: { funded: "open", abandoned: "abandoned" },
};

/** The status a channel is stored with when it is created (by `open`, or the peer's `open` message). */
export const INITIAL_STATUS: ChannelStatus = "opening";

/** The operation does not fit the channel's status (e.g. paying in a closed channel). */
export class ChannelStatusError extends SluiceError {
  static override readonly code: string = "CHANNEL_STATUS";
  override readonly name: string = "ChannelStatusError";
  constructor(
    readonly channelId: string,
    readonly status: string,
    what: string,
  ) {
    super(`cannot ${what}: channel ${channelId} is ${status}`);
  }
}

/** The transition table has no move for `event` from the status `from`; nothing was written. */
export class IllegalTransitionError extends ChannelStatusError {
  static override readonly code: string = "ILLEGAL_TRANSITION";
  override readonly name: string = "IllegalTransitionError";
  constructor(
    channelId: string,
    readonly from: ChannelStatus,
    readonly event: LifecycleEvent,
    what = `take the event ${event}`,
  ) {
    super(channelId, from, what);
  }
}

/** Where `event` takes a channel that is `from`. @throws IllegalTransitionError if the table has no such move. */
export function nextStatus(channelId: Hex, from: ChannelStatus, event: LifecycleEvent, what?: string): ChannelStatus {
  const to = TRANSITIONS[from][event];
  if (to === undefined) throw new IllegalTransitionError(channelId, from, event, what);
  return to;
}

/** Concluded on chain, or abandoned before funding: nothing changes off chain any more. */
export function isConcluded(status: ChannelStatus): boolean {
  return status === "closed" || status === "settled" || status === "abandoned";
}

/**
 * Reads channels' statuses from the store and moves them by the table; the only writer of a
 * status, so it keeps each status it has read or written in memory (the payment path asks for it
 * on every payment) and the store is read once per channel.
 */
export class ChannelLifecycle {
  private readonly known = new Map<Hex, ChannelStatus>();

  constructor(private readonly store: ChannelStore) {}

  /** The channel's status. @throws UnknownChannelError if the store has no such channel. */
  status(channelId: Hex): ChannelStatus {
    const key = channelId.toLowerCase() as Hex;
    const cached = this.known.get(key);
    if (cached !== undefined) return cached;
    const status = this.store.channelStatus(channelId);
    if (status === null) throw new UnknownChannelError(channelId);
    this.known.set(key, status);
    return status;
  }

  /**
   * Refuses now what `apply(channelId, event)` would refuse, before an API call acts (signs,
   * sends a transaction); `what` names the call in the error. Returns the status it would move to.
   */
  check(channelId: Hex, event: LifecycleEvent, what?: string): ChannelStatus {
    return nextStatus(channelId, this.status(channelId), event, what);
  }

  /** Moves the channel by `event` and stores the new status (only if it changed). Returns it. */
  apply(channelId: Hex, event: LifecycleEvent): ChannelStatus {
    const from = this.status(channelId);
    const to = nextStatus(channelId, from, event);
    if (to !== from) {
      this.store.setStatus(channelId, to);
      this.known.set(channelId.toLowerCase() as Hex, to);
    }
    return to;
  }
}
