/** The node's channels by id: the session of each, and the rules an API call or a peer's message finds one by. */
import { SluiceError } from "../errors";
import type { Address, Hex } from "../types";
import { ChannelStatusError, isConcluded, type ChannelLifecycle } from "./lifecycle";
import type { ChannelSession } from "./session";
import type { ChannelRecord } from "./store";
import { UnknownChannelError } from "./store/errors";

/**
 * No channel with that id in this node. A store `UnknownChannelError`, so that the local API
 * answers it as NOT_FOUND (404) like any unknown channel; peers get the code UNKNOWN_CHANNEL_ID.
 */
export class UnknownChannelIdError extends UnknownChannelError {
  static override readonly code: string = "UNKNOWN_CHANNEL_ID";
  override readonly name: string = "UnknownChannelIdError";
  constructor(channelId: string) {
    super(channelId);
    this.message = `no channel ${channelId} in this node`;
  }
}

/** The peer sent a message about a channel it is not a participant of. */
export class NotYourChannelError extends SluiceError {
  static override readonly code: string = "NOT_YOUR_CHANNEL";
  override readonly name: string = "NotYourChannelError";
  constructor(
    readonly channelId: string,
    readonly peer: Address,
  ) {
    super(`channel ${channelId} is not shared with ${peer}`);
  }
}

export class ChannelSessions {
  /** By channel id (lower case). */
  private readonly byId = new Map<string, ChannelSession>();

  /** `create` makes the session of a stored channel (the node's wiring). */
  constructor(
    private readonly lifecycle: ChannelLifecycle,
    private readonly create: (record: ChannelRecord) => ChannelSession,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  values(): IterableIterator<ChannelSession> {
    return this.byId.values();
  }

  get(channelId: string): ChannelSession | undefined {
    return this.byId.get(String(channelId).toLowerCase());
  }

  /** The session of a stored channel, made at its first load. */
  load(record: ChannelRecord): ChannelSession {
    const known = this.get(record.channelId);
    if (known) return known;
    const session = this.create(record);
    this.byId.set(record.channelId.toLowerCase(), session);
    return session;
  }

  find(channelId: Hex): ChannelSession {
    const session = this.get(channelId);
    if (!session) throw new UnknownChannelIdError(channelId);
    return session;
  }

  /** A channel that can still change off chain or take deposits. */
  live(channelId: Hex, what: string): ChannelSession {
    const session = this.find(channelId);
    const status = this.lifecycle.status(session.id);
    if (isConcluded(status)) throw new ChannelStatusError(session.id, status, what);
    return session;
  }

  /** The session of a channel the connected peer shares with this node. */
  sharedWith(channelId: Hex, peer: Address): ChannelSession {
    const session = this.get(channelId);
    if (!session) throw new UnknownChannelIdError(channelId);
    if (session.peerAddress.toLowerCase() !== peer.toLowerCase()) throw new NotYourChannelError(channelId, peer);
    return session;
  }

  /** The channels whose status is `open` (payments and locks go over these). */
  open(): ChannelSession[] {
    return [...this.byId.values()].filter((s) => this.lifecycle.status(s.id) === "open");
  }

  isConcluded(channelId: Hex): boolean {
    return isConcluded(this.lifecycle.status(channelId));
  }

  hasLiveChannelWith(peer: Address): boolean {
    for (const session of this.byId.values()) {
      if (session.peerAddress.toLowerCase() === peer.toLowerCase() && !this.isConcluded(session.id)) return true;
    }
    return false;
  }

  /** A withdrawal can be signed or executed only while the channel is open (not opening, closing, disputed or concluded). */
  checkWithdrawable(channelId: Hex, what: string): void {
    const status = this.lifecycle.status(channelId);
    if (status !== "open") throw new ChannelStatusError(channelId, status, what);
  }
}
